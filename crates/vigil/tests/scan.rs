//! `vigil scan` and `vigil iocs` end to end: exit codes, the verdict line,
//! the output folder, and the local indicator folder.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vigil_netlog::synth;

const T0: i64 = 1_626_609_600_000_000;

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env_remove("VIGIL_IOCS_DIR")
        .env_remove("VIGIL_BACKUP_PASSWORD")
        .output()
        .expect("run vigil")
}

fn tmp(name: &str) -> PathBuf {
    let dir = vigil_testkit::workspace_root()
        .join("target/test-tmp/cli-scan")
        .join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pegasus() -> String {
    vigil_testkit::workspace_root()
        .join("data/indicators/investigations/2021-07-18_nso/pegasus.stix2")
        .display()
        .to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn planted_pcap(dir: &Path) -> PathBuf {
    let ip = |x: &str| x.parse::<IpAddr>().unwrap();
    let mut p = synth::Pcap::new();
    p.packet(
        T0,
        &synth::udp(
            ip("10.0.0.2"),
            ip("10.0.0.1"),
            4000,
            53,
            &synth::dns_query(1, "example.org"),
        ),
    );
    p.packet(
        T0 + 1,
        &synth::udp(
            ip("10.0.0.2"),
            ip("10.0.0.1"),
            4001,
            53,
            &synth::dns_query(2, "a.weather4free.com"),
        ),
    );
    let f = dir.join("capture.pcap");
    std::fs::write(&f, p.into_bytes()).unwrap();
    f
}

#[test]
fn detections_exit_1_with_the_verdict_first() {
    let dir = tmp("detect");
    let pcap = planted_pcap(&dir);
    let out = vigil(&["scan", "pcap", s(&pcap), "--iocs", &pegasus()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.starts_with("1 detection: Pegasus (1)\n"), "{text}");
    assert!(
        text.contains("a.weather4free.com matched weather4free.com (parent domain)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("pcap: {}, offset ", pcap.display())),
        "{text}"
    );
    // Auto-detection gives the same.
    let auto = vigil(&["scan", s(&pcap), "--iocs", &pegasus(), "--quiet"]);
    assert_eq!(auto.status.code(), Some(1));
    assert_eq!(stdout(&auto), "1 detection: Pegasus (1)\n");
}

#[test]
fn clean_input_exits_0_and_errors_exit_2() {
    let dir = tmp("clean");
    let log = dir.join("dns.txt");
    std::fs::write(&log, "query example.org\nquery example.net\n").unwrap();
    let out = vigil(&["scan", s(&log), "--iocs", &pegasus(), "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "No known spyware indicators found (1 indicator sets, 2 records checked)\n"
    );
    let missing = vigil(&["scan", s(&dir.join("nope")), "--iocs", &pegasus()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such file or folder"));
    // Garbage given as a capture: the module fails, nothing was checked.
    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, b"garbage, not a capture").unwrap();
    let out = vigil(&["scan", "pcap", s(&junk), "--iocs", &pegasus()]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.contains("not a pcap or pcapng capture"), "{text}");
    let bad_kind = vigil(&["scan", "floppy", s(&junk)]);
    assert_eq!(bad_kind.status.code(), Some(2));
}

#[test]
fn output_folder_and_json() {
    let dir = tmp("output");
    let pcap = planted_pcap(&dir);
    let results = dir.join("results");
    let out = vigil(&[
        "scan",
        s(&pcap),
        "--iocs",
        &pegasus(),
        "--output",
        s(&results),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["detections"][0]["spyware"][0], "Pegasus");
    assert_eq!(report["input_kind"], "packet capture");
    for f in [
        "pcap.json",
        "detections.json",
        "report.json",
        "timeline.csv",
        "timeline_detected.csv",
        "report.md",
    ] {
        assert!(results.join(f).is_file(), "{f} missing");
    }
    // The output folder may not be inside the input.
    let inside = vigil(&[
        "scan",
        "log",
        s(&dir),
        "--iocs",
        &pegasus(),
        "--output",
        s(&dir.join("o")),
    ]);
    assert_eq!(inside.status.code(), Some(2));
}

#[test]
fn local_sets_import_list_export_and_the_default_set() {
    let dir = tmp("iocs");
    let local = dir.join("local");
    let list = dir.join("mine.txt");
    std::fs::write(&list, "# spyware: TestSpy\nplanted.example\n").unwrap();
    let out = vigil(&["iocs", "import", s(&list), "--iocs-dir", s(&local)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(local.join("mine.txt").is_file());
    let out = vigil(&["iocs", "list", "--iocs-dir", s(&local), "--no-default-iocs"]);
    let text = stdout(&out);
    assert!(text.starts_with("1 indicators in 1 sets"), "{text}");
    assert!(text.contains("TestSpy"), "{text}");

    let log = dir.join("proxy.log");
    std::fs::write(&log, "2021-07-18T12:00:00Z CONNECT cdn.planted.example:443\n2021-07-18T12:00:01Z GET http://weather4free.com/\n").unwrap();
    // Local folder only.
    let out = vigil(&[
        "scan",
        s(&log),
        "--iocs-dir",
        s(&local),
        "--no-default-iocs",
        "-q",
    ]);
    assert_eq!(stdout(&out), "1 detection: TestSpy (1)\n");
    // Local folder plus the default set shipped with Vigil: weather4free.com is
    // in Amnesty's 2021 Pegasus bundle and in the 2018 NSO list (which names no spyware).
    let out = vigil(&["scan", s(&log), "--iocs-dir", s(&local), "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "3 detections: Pegasus (1), TestSpy (1), indicator set 2018-08-01_nso/indicators (1)\n"
    );

    // Export as STIX, and the bundle scans the same.
    let bundle = dir.join("export.stix2");
    let out = vigil(&[
        "iocs",
        "export",
        "--iocs-dir",
        s(&local),
        "--no-default-iocs",
        "-o",
        s(&bundle),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = vigil(&["scan", s(&log), "--iocs", s(&bundle), "-q"]);
    assert_eq!(stdout(&out), "1 detection: TestSpy (1)\n");

    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "not an indicator\n").unwrap();
    let out = vigil(&["iocs", "import", s(&bad), "--iocs-dir", s(&local)]);
    assert_eq!(out.status.code(), Some(2));
}
