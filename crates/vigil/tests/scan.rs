//! `vigil scan` and `vigil iocs` end to end: exit codes, the verdict line,
//! the output folder, and the local indicator folder; and as a user meets it
//! on big or hostile input: a progress bar on a terminal and nothing of it
//! for scripts, gigantic logs and binary garbage read in bounded memory, the
//! HTML report next to the Markdown one.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use vigil_netlog::synth;

const T0: i64 = 1_626_609_600_000_000;

fn cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_IOCS_DIR")
        .env_remove("VIGIL_BACKUP_PASSWORD");
    c
}

fn vigil(args: &[&str]) -> Output {
    cli().args(args).output().expect("run vigil")
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

/// Imports a one-line TestSpy list into `dir/local` and returns that folder.
fn import_test_spy(dir: &Path) -> PathBuf {
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
    local
}

#[test]
fn local_sets_import_list_export_and_the_default_set() {
    let dir = tmp("iocs");
    let local = import_test_spy(&dir);
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

/// Runs vigil, sampling its peak resident memory (VmHWM) until it exits.
fn run_measured(args: &[&str]) -> (Output, u64) {
    let mut child = cli()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The pipes are drained on other threads so the child never blocks on them.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).map(|_| v)
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).map(|_| v)
    });
    let mut peak_kib = 0u64;
    loop {
        if let Some(v) = vigil_testkit::peak_rss_kib(child.id()) {
            peak_kib = peak_kib.max(v);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().unwrap();
    let output = Output {
        status,
        stdout: t_out.join().unwrap().unwrap(),
        stderr: t_err.join().unwrap().unwrap(),
    };
    (output, peak_kib * 1024)
}

#[test]
fn gigantic_log_is_read_in_bounded_memory_and_the_hit_at_its_end_found() {
    let dir = tmp("gigantic");
    let log = dir.join("huge.log");
    // 768 MiB of NUL bytes without a line break (a sparse file), then real lines.
    let f = std::fs::File::create(&log).unwrap();
    f.set_len(768 << 20).unwrap();
    drop(f);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"\n2021-07-18T12:00:03Z query[A] free.smscentro.com from 10.0.0.5\n")
        .unwrap();
    drop(f);
    let (out, peak) = run_measured(&["scan", "log", s(&log), "--iocs", &pegasus(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &report["detections"][0];
    assert_eq!(d["observed"]["value"], "free.smscentro.com");
    assert_eq!(d["provenance"]["line"], 2);
    assert_eq!(d["provenance"]["offset"], (768u64 << 20) + 1);
    let warnings = report["modules"][0]["warnings"].to_string();
    assert!(warnings.contains("longer than"), "{warnings}");
    assert!(
        peak < 300 << 20,
        "peak resident memory {} MiB for a 768 MiB log",
        peak >> 20
    );
}

#[test]
fn binary_garbage_is_reported_not_fatal_and_memory_stays_bounded() {
    let dir = tmp("garbage");
    let bin = dir.join("garbage.bin");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut junk = Vec::with_capacity(64 << 20);
    while junk.len() < 64 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        junk.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&bin, &junk).unwrap();
    drop(junk);
    let (out, peak) = run_measured(&["scan", "log", s(&bin), "--iocs", &pegasus(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["detections"].as_array().unwrap().len(), 0);
    let warnings = report["modules"][0]["warnings"].to_string();
    assert!(warnings.contains("binary"), "{warnings}");
    assert!(peak < 300 << 20, "peak resident memory {} MiB", peak >> 20);

    // The same garbage named as a capture is an error of that module, exit 2.
    let out = cli()
        .args(["scan", "pcap", s(&bin), "--iocs", &pegasus()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not a pcap or pcapng capture"), "{text}");
}

fn planted_log(dir: &Path) -> PathBuf {
    let log = dir.join("dnsmasq.log");
    std::fs::write(
        &log,
        "2021-07-18T12:00:00Z query[A] example.org from 10.0.0.5\n\
         2021-07-18T12:00:03Z query[A] free.smscentro.com from 10.0.0.5\n",
    )
    .unwrap();
    log
}

/// Runs vigil on a pseudo-terminal (`script`), returning everything it drew.
fn on_terminal(args: &[&str]) -> Option<(i32, String)> {
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_vigil"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env_remove("VIGIL_IOCS_DIR")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn progress_bar_on_a_terminal_only() {
    let dir = tmp("progress");
    let log = planted_log(&dir);
    let iocs = pegasus();
    let Some((code, drawn)) = on_terminal(&["scan", s(&log), "--iocs", &iocs]) else {
        panic!("`script` (util-linux) is needed to give vigil a terminal");
    };
    assert_eq!(code, 1, "{drawn}");
    assert!(
        drawn.contains("modules]"),
        "no progress bar drawn: {drawn:?}"
    );
    assert!(drawn.contains("1 detection: Pegasus (1)"), "{drawn}");
    // Quiet and JSON modes draw no bar, even on a terminal.
    for flag in ["-q", "--json"] {
        let (code, drawn) = on_terminal(&["scan", s(&log), "--iocs", &iocs, flag]).unwrap();
        assert_eq!(code, 1);
        assert!(!drawn.contains("modules]"), "{flag}: {drawn:?}");
    }
    let (_, drawn) = on_terminal(&["scan", s(&log), "--iocs", &iocs, "-q"]).unwrap();
    assert_eq!(drawn.trim(), "1 detection: Pegasus (1)");
    // Without a terminal (a pipe), nothing but the report.
    let out = cli()
        .args(["scan", s(&log), "--iocs", &iocs])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("1 detection: Pegasus (1)\n"), "{stdout}");
}

#[test]
fn output_folder_has_the_html_report() {
    let dir = tmp("html");
    let log = planted_log(&dir);
    let out_dir = dir.join("results");
    let out = cli()
        .args([
            "scan",
            s(&log),
            "--iocs",
            &pegasus(),
            "-o",
            s(&out_dir),
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    let verdict = html.find("1 detection: Pegasus (1)").unwrap();
    let row = html.find("free.smscentro.com").unwrap();
    assert!(verdict < row);
    assert!(html.contains("dnsmasq.log, line 2, offset 56"), "{html}");
    assert!(html.contains("pegasus.stix2"));
    assert!(html.contains("2021-07-18 12:00:03"));
}

#[test]
fn an_imported_set_is_scanned_from_its_compiled_form_which_is_never_trusted_blindly() {
    let dir = tmp("compiled");
    let local = import_test_spy(&dir);
    let compiled = local.join(".mine.txt.vigil-compiled");
    let built = std::fs::read(&compiled).expect("import leaves the compiled form");
    let log = dir.join("proxy.log");
    std::fs::write(
        &log,
        "2021-07-18T12:00:00Z CONNECT cdn.planted.example:443\n2021-07-18T12:00:01Z GET http://later.example/\n",
    )
    .unwrap();
    let scan = || {
        vigil(&[
            "scan",
            s(&log),
            "--iocs-dir",
            s(&local),
            "--no-default-iocs",
            "-q",
        ])
    };
    let out = scan();
    assert_eq!(stdout(&out), "1 detection: TestSpy (1)\n");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Damaged: reported, the file is read instead, and the form is written again.
    std::fs::write(&compiled, &built[..built.len() / 2]).unwrap();
    let out = scan();
    assert_eq!(stdout(&out), "1 detection: TestSpy (1)\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".mine.txt.vigil-compiled: damaged compiled indicator set")
            && err.contains("rebuilding it from"),
        "{err}"
    );
    assert_eq!(std::fs::read(&compiled).unwrap(), built);

    // The set changed after the form was built: the new indicator is seen.
    std::fs::write(
        local.join("mine.txt"),
        "# spyware: TestSpy\nplanted.example\nlater.example\n",
    )
    .unwrap();
    let out = scan();
    assert_eq!(stdout(&out), "2 detections: TestSpy (2)\n");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(std::fs::read(&compiled).unwrap(), built);
}
