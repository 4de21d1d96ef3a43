//! Integration tests of the scanner: planted indicator hits in generated
//! captures and logs are found and described fully, failures stay local to
//! their module, and the output folder holds what a helpline hands over.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_artefact::{
    Module, ModuleError, ModuleSummary, Observable, ObservableKind as K, Provenance, Record,
};
use vigil_iocs::Matcher;
use vigil_netlog::synth;
use vigil_scan::{scan, Input, InputKind, Options, Quiet};

const T0: i64 = 1_626_609_600_000_000; // 2021-07-18T12:00:00Z

fn tmp(name: &str) -> PathBuf {
    let dir = vigil_testkit::workspace_root()
        .join("target/test-tmp/scan")
        .join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pegasus() -> PathBuf {
    vigil_testkit::workspace_root()
        .join("data/indicators/investigations/2021-07-18_nso/pegasus.stix2")
}

fn real_matcher() -> Matcher {
    Matcher::new(vec![vigil_iocs::load_file(&pegasus()).unwrap()])
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A capture with background traffic and two planted Pegasus domains.
fn planted_pcap(dir: &Path) -> (PathBuf, u64) {
    let (c, r) = (ip("192.168.1.20"), ip("192.168.1.1"));
    let mut p = synth::Pcap::new();
    for i in 0..50u16 {
        let name = format!("host{i}.example.org");
        p.packet(
            T0 + i64::from(i),
            &synth::udp(c, r, 30000 + i, 53, &synth::dns_query(i, &name)),
        );
    }
    // weather4free.com is in the Pegasus set; a subdomain must match as its parent.
    let hit = p.packet(
        T0 + 5_000_000,
        &synth::udp(
            c,
            r,
            40000,
            53,
            &synth::dns_query(99, "free.weather4free.com"),
        ),
    );
    p.packet(
        T0 + 6_000_000,
        &synth::tcp(
            c,
            ip("198.51.100.4"),
            40001,
            443,
            &synth::tls_client_hello("smscentro.com"),
        ),
    );
    // A look-alike that must not match.
    p.packet(
        T0 + 7_000_000,
        &synth::udp(
            c,
            r,
            40002,
            53,
            &synth::dns_query(100, "notweather4free.com"),
        ),
    );
    let file = dir.join("phone.pcap");
    std::fs::write(&file, p.into_bytes()).unwrap();
    (file, hit)
}

fn netlog_options(m: &Arc<Matcher>) -> vigil_netlog::Options {
    vigil_netlog::Options {
        filter: Some(vigil_scan::netlog_filter(m.clone())),
        threads: 2,
    }
}

#[test]
fn planted_capture_hits_are_detected_with_everything_a_helpline_needs() {
    let dir = tmp("pcap");
    let (file, hit_offset) = planted_pcap(&dir);
    let input = Input::detect(&file).unwrap();
    assert_eq!(input.kind, InputKind::Pcap);
    let m = Arc::new(real_matcher());
    let modules = input.modules(None, &netlog_options(&m)).unwrap();
    let (report, _) = scan(modules, &m, &Options::default(), &Quiet);
    assert_eq!(report.records_checked, 53, "every packet is checked");
    assert_eq!(report.detections.len(), 2, "{:#?}", report.detections);
    let d = &report.detections[0];
    assert_eq!(d.spyware, ["Pegasus"]);
    assert_eq!(
        d.indicator_id,
        "indicator--05b7c427-1452-437e-a19e-32590edf60c3"
    );
    assert_eq!(d.pattern, "[domain-name:value='weather4free.com']");
    assert_eq!(d.how, "parent domain");
    assert_eq!(d.observed.value, "free.weather4free.com");
    assert_eq!(d.indicator_file, pegasus().display().to_string());
    assert_eq!(d.module, "pcap");
    assert_eq!(d.provenance.file, file.display().to_string());
    assert_eq!(d.provenance.offset, Some(hit_offset));
    assert_eq!(d.timestamp, Some(T0 + 5_000_000));
    assert_eq!(d.time.as_deref(), Some("2021-07-18 12:00:05.000000"));
    assert_eq!(report.detections[1].observed.value, "smscentro.com");
    assert_eq!(report.detections[1].event, "TLS ClientHello");
    assert_eq!(report.verdict(), "2 detections: Pegasus (2)");
}

#[test]
fn clean_input_gives_the_clean_verdict() {
    let dir = tmp("clean");
    let log = dir.join("resolver.log");
    std::fs::write(
        &log,
        "2021-07-18T12:00:00Z query example.org from 10.0.0.1\n",
    )
    .unwrap();
    let m = Arc::new(real_matcher());
    let modules = Input::detect(&log)
        .unwrap()
        .modules(None, &netlog_options(&m))
        .unwrap();
    let (report, _) = scan(modules, &m, &Options::default(), &Quiet);
    assert!(report.detections.is_empty());
    assert_eq!(
        report.verdict(),
        "No known spyware indicators found (1 indicator sets, 1 records checked)"
    );
}

/// A module that fails, one that panics, one that works.
struct Fails;
struct Panics;
struct Works;

impl Module for Fails {
    fn name(&self) -> &'static str {
        "sms"
    }
    fn run(&self, _: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        Err(ModuleError {
            module: "sms".into(),
            file: "Library/SMS/sms.db".into(),
            message: "file is not a database".into(),
        })
    }
}

impl Module for Panics {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        sink(record("broken", "example.org", 1));
        let v: Vec<u8> = Vec::new();
        let _ = v[3];
        unreachable!()
    }
}

fn record(module: &str, domain: &str, row: i64) -> Record {
    Record {
        module: module.into(),
        provenance: Provenance {
            file: "Library/Safari/History.db".into(),
            table: Some("history_visits".into()),
            row: Some(row),
            ..Provenance::default()
        },
        timestamp: Some(T0 + row),
        event: "Safari visit".into(),
        observables: vec![Observable::new(K::Url, format!("https://{domain}/x"))],
        data: serde_json::Map::new(),
    }
}

impl Module for Works {
    fn name(&self) -> &'static str {
        "safari_history"
    }
    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        for i in 0..1000 {
            let d = if i == 500 {
                "tookcheckout.com"
            } else {
                "example.org"
            };
            sink(record("safari_history", d, i));
        }
        Ok(ModuleSummary {
            module: "safari_history".into(),
            records: 1000,
            warnings: vec!["3 rows with no URL skipped".into()],
        })
    }
}

#[test]
fn failing_modules_are_reported_and_the_others_still_run() {
    let m = real_matcher();
    let modules: Vec<Box<dyn Module>> = vec![Box::new(Fails), Box::new(Panics), Box::new(Works)];
    let (report, _) = scan(
        modules,
        &m,
        &Options {
            threads: 2,
            output: None,
        },
        &Quiet,
    );
    assert_eq!(report.modules.len(), 3);
    assert_eq!(
        report.modules[0].error.as_ref().unwrap().to_string(),
        "sms: Library/SMS/sms.db: file is not a database"
    );
    assert!(report.modules[1]
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("internal error"));
    assert!(report.modules[2].error.is_none());
    assert_eq!(report.detections.len(), 1);
    let d = &report.detections[0];
    assert_eq!(d.provenance.table.as_deref(), Some("history_visits"));
    assert_eq!(d.provenance.row, Some(500));
    assert_eq!(d.how, "URL host");
    assert!(report.incomplete());
    assert_eq!(report.verdict(), "1 detection: Pegasus (1)");
}

#[test]
fn output_folder_has_module_json_detections_mvt_timeline_and_report() {
    let dir = tmp("out");
    let out = dir.join("results");
    std::fs::create_dir_all(&out).unwrap();
    let m = real_matcher();
    let modules: Vec<Box<dyn Module>> = vec![Box::new(Works), Box::new(Fails)];
    let (mut report, recs) = scan(
        modules,
        &m,
        &Options {
            threads: 1,
            output: Some(out.clone()),
        },
        &Quiet,
    );
    report.input = "backup".into();
    report.input_kind = "iOS backup".into();
    vigil_scan::output::write(&out, &report, recs).unwrap();

    let module_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("safari_history.json")).unwrap()).unwrap();
    assert_eq!(module_json.as_array().unwrap().len(), 1000);
    assert_eq!(module_json[500]["provenance"]["row"], 500);
    let sms_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sms.json")).unwrap()).unwrap();
    assert_eq!(sms_json, serde_json::json!([]));

    let det: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("detections.json")).unwrap()).unwrap();
    assert_eq!(det[0]["spyware"][0], "Pegasus");
    assert_eq!(det[0]["observed"]["value"], "https://tookcheckout.com/x");

    let timeline = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    let mut lines = timeline.lines();
    assert_eq!(
        lines.next(),
        Some("\"UTC Timestamp\",\"Plugin\",\"Event\",\"Description\"")
    );
    assert_eq!(timeline.lines().count(), 1001);
    let first = lines.next().unwrap();
    assert!(first.starts_with("\"2021-07-18 12:00:00.000000\",\"safari_history\",\"Safari visit\",\"url=https://example.org/x"), "{first}");
    let detected = std::fs::read_to_string(out.join("timeline_detected.csv")).unwrap();
    assert_eq!(detected.lines().count(), 2);
    assert!(
        detected.contains("Pegasus: https://tookcheckout.com/x matched tookcheckout.com"),
        "{detected}"
    );

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let verdict = html
        .find("1 detection: Pegasus (1)")
        .expect("verdict in the HTML report");
    assert!(
        verdict < html.find("<h2>Detections</h2>").unwrap(),
        "verdict first"
    );
    for part in [
        "https://tookcheckout.com/x",
        "Library/Safari/History.db, table history_visits, row 500",
        "2021-07-18 12:00:00.000500",
        "pegasus.stix2",
        "<h2>Could not be checked</h2>",
        "sms: Library/SMS/sms.db: file is not a database",
    ] {
        assert!(html.contains(part), "{part} missing from {html}");
    }
    assert!(
        !out.join(".timeline-runs").exists(),
        "temporary runs removed"
    );

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("**1 detection: Pegasus (1)**"), "{md}");
    assert!(md.contains("## Could not be checked"));
    assert!(md.contains("sms: Library/SMS/sms.db: file is not a database"));
    assert!(md.contains("Library/Safari/History.db, table history_visits, row 500"));
}

#[test]
fn inputs_are_recognised_by_content() {
    let dir = tmp("detect");
    let (pcap, _) = planted_pcap(&dir);
    assert_eq!(Input::detect(&pcap).unwrap().kind, InputKind::Pcap);
    let ng = dir.join("renamed.log");
    std::fs::write(
        &ng,
        synth::pcapng(&[(
            T0,
            synth::udp(
                ip("10.0.0.1"),
                ip("10.0.0.2"),
                1,
                53,
                &synth::dns_query(1, "a.example"),
            ),
        )]),
    )
    .unwrap();
    assert_eq!(Input::detect(&ng).unwrap().kind, InputKind::Pcap);
    let zeek = dir.join("zeek");
    std::fs::create_dir_all(&zeek).unwrap();
    std::fs::write(
        zeek.join("conn.log"),
        "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n1626609600.0\t10.0.0.1\t10.0.0.2\n",
    )
    .unwrap();
    assert_eq!(Input::detect(&zeek).unwrap().kind, InputKind::Zeek);
    let text = dir.join("proxy.txt");
    std::fs::write(&text, "GET http://a.example/\n").unwrap();
    assert_eq!(Input::detect(&text).unwrap().kind, InputKind::Log);
    let err = Input::detect(&dir.join("missing")).unwrap_err();
    assert!(err.to_string().contains("no such file or folder"), "{err}");
    // A mixed folder is read file by file with the right reader.
    let m = Arc::new(real_matcher());
    let mixed = Input {
        path: dir.clone(),
        kind: InputKind::Log,
    };
    let names: Vec<&str> = mixed
        .modules(None, &netlog_options(&m))
        .unwrap()
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .leak()
        .to_vec();
    assert!(
        names.contains(&"pcap") && names.contains(&"zeek_conn") && names.contains(&"log"),
        "{names:?}"
    );
}

/// Emits many records, newest first, each with a long description.
struct Many(i64);

impl Module for Many {
    fn name(&self) -> &'static str {
        "many"
    }
    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        for i in (0..self.0).rev() {
            let mut r = record(
                "many",
                &format!("host-{i:07}.{}.example.org", "x".repeat(60)),
                i,
            );
            r.module = "many".into();
            sink(r);
        }
        Ok(ModuleSummary {
            module: "many".into(),
            records: self.0 as u64,
            warnings: Vec::new(),
        })
    }
}

#[test]
fn timeline_is_spilled_in_sorted_runs_and_merged_in_time_order() {
    let dir = tmp("spool");
    let out = dir.join("results");
    std::fs::create_dir_all(&out).unwrap();
    let n = 120_000;
    let (report, recs) = scan(
        vec![Box::new(Many(n)), Box::new(Works)],
        &real_matcher(),
        &Options {
            threads: 2,
            output: Some(out.clone()),
        },
        &Quiet,
    );
    // More rows than one module may keep in memory: they went to disk in runs.
    assert!(
        recs[0].timeline_runs.len() >= 2,
        "{:?}",
        recs[0].timeline_runs
    );
    vigil_scan::output::write(&out, &report, recs).unwrap();
    let timeline = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    let rows: Vec<&str> = timeline.lines().skip(1).collect();
    assert_eq!(rows.len(), n as usize + 1000);
    let times: Vec<&str> = rows.iter().map(|r| &r[1..27]).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "sorted by time");
    assert!(
        rows[0].starts_with("\"2021-07-18 12:00:00.000000\",\"many\""),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("\"2021-07-18 12:00:00.000000\",\"safari_history\""),
        "{}",
        rows[1]
    );
    assert!(!out.join(".timeline-runs").exists());
}

#[test]
fn html_report_escapes_hostile_values() {
    let dir = tmp("hostile");
    let list = dir.join("hostile.txt");
    std::fs::write(
        &list,
        "# spyware: <script>alert('spy')</script>\nevil-\"quote\".example.com\ntookcheckout.com\n",
    )
    .unwrap();
    let m = Matcher::new(vec![vigil_iocs::load_file(&list).unwrap()]);
    let (mut report, _) = scan(
        vec![Box::new(Works)],
        &m,
        &Options {
            threads: 1,
            output: None,
        },
        &Quiet,
    );
    report.input = "<img src=x onerror=alert(1)>.log".into();
    report.input_kind = "text log".into();
    report
        .not_checked
        .push("</li><script>steal()</script>".into());
    assert_eq!(report.detections.len(), 1);
    let html = vigil_scan::output::html(&report);
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;spy&#39;)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;.log"),
        "{html}"
    );
    assert!(
        html.contains("&lt;/li&gt;&lt;script&gt;steal()&lt;/script&gt;"),
        "{html}"
    );
    // Only the page's own markup remains: every tag is one the report writes.
    let tags: std::collections::BTreeSet<&str> = html
        .split('<')
        .skip(1)
        .map(|t| t.split([' ', '>']).next().unwrap_or(""))
        .collect();
    for t in &tags {
        assert!(
            [
                "!DOCTYPE", "html", "/html", "head", "/head", "meta", "title", "/title", "style",
                "/style", "body", "/body", "h1", "/h1", "h2", "/h2", "p", "/p", "strong",
                "/strong", "ul", "/ul", "li", "/li", "table", "/table", "tr", "/tr", "th", "/th",
                "td", "/td", "code", "/code", "br"
            ]
            .contains(t),
            "unexpected tag <{t}"
        );
    }
}
