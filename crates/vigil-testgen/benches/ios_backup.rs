//! iOS backup benchmark: `vigil scan` against `mvt-ios check-backup`, side by side.
//!
//! ```text
//! cargo build --release -p vigil
//! cargo bench -p vigil-testgen --bench ios_backup
//! ```
//!
//! Generates (once, under `target/bench-data/`) a backup with 1,000,000 SMS and
//! 1,000,000 Safari visits with planted Pegasus domains, and STIX files of 100,
//! 100,000 and 1,000,000 domain indicators; runs both tools on each and prints
//! wall time, CPU time (user + system), peak memory (all from `/usr/bin/time
//! -v`), the ratios, and how much Vigil's time grows from the smallest to the
//! largest indicator set. Vigil runs twice per set: the first scan parses the
//! STIX file and leaves its compiled form beside it, the second (the one the
//! ratios use) reads that, as every scan after the first does. MVT runs only up to `VIGIL_BENCH_MVT_MAX_IOCS`
//! indicators (default 100,000: its loader alone takes minutes there) and is
//! stopped after
//! `VIGIL_BENCH_MVT_CAP_SECS` (default 1200); a stopped run is reported with
//! the time, CPU time and peak memory it had used, and the ratios against it
//! as lower bounds (`>=`).
//! Environment: `VIGIL_BENCH_SIZE` (SMS and Safari visits alike, default
//! 1,000,000; `VIGIL_BENCH_SIZE=100000` runs both tools in a few minutes),
//! `VIGIL_BENCH_SMS`, `VIGIL_BENCH_VISITS` (each table on its own),
//! `VIGIL_BENCH_IOCS` (comma-separated indicator
//! counts), `VIGIL_BIN` (the vigil binary; default: `vigil` in the same cargo
//! profile folder as this benchmark), `VIGIL_BENCH_SKIP_MVT=1`. Under `cargo
//! test` it does nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigil_testgen::{write_ios_backup, IosBackupSpec, Plants};

const PLANTED: &[&str] = &[
    "weather4free.com",
    "bestfriendneedshelp.com",
    "storelive.co",
    "urlpush.net",
    "free247downloads.com",
];

fn env_usize(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

/// A STIX 2.1 bundle shaped like Amnesty's: one malware, `n` domain indicators, `indicates` relationships.
fn write_stix(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let malware = "malware--8f2e6b1c-3d4a-4b5c-9e7f-0a1b2c3d4e5f";
    write!(f, "{{\"type\":\"bundle\",\"id\":\"bundle--0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d\",\"objects\":[").unwrap();
    write!(f, "{{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"{malware}\",\"created\":\"2021-07-18T00:00:00.000Z\",\"modified\":\"2021-07-18T00:00:00.000Z\",\"name\":\"Pegasus\",\"is_family\":false}}").unwrap();
    for i in 0..n {
        let domain = PLANTED.get(i).map_or_else(
            || format!("bench{i}.ioc-{}.example.com", i % 997),
            |d| d.to_string(),
        );
        let ind = format!("indicator--{:08x}-0000-4000-8000-{:012x}", i, i);
        write!(f, ",{{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"{ind}\",\"created\":\"2021-07-18T00:00:00.000Z\",\"modified\":\"2021-07-18T00:00:00.000Z\",\"pattern\":\"[domain-name:value='{domain}']\",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\",\"valid_from\":\"2021-07-18T00:00:00Z\",\"indicator_types\":[\"malicious-activity\"]}}").unwrap();
        write!(f, ",{{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--{:08x}-0000-4000-8000-{:012x}\",\"created\":\"2021-07-18T00:00:00.000Z\",\"modified\":\"2021-07-18T00:00:00.000Z\",\"relationship_type\":\"indicates\",\"source_ref\":\"{ind}\",\"target_ref\":\"{malware}\"}}", i, i).unwrap();
    }
    write!(f, "]}}").unwrap();
}

struct Measure {
    secs: f64,
    cpu_secs: f64,
    max_rss_kb: u64,
    ok: bool,
    /// Stopped at the cap: the figures are what it had used by then (lower bounds).
    overran: bool,
}

/// Runs a command under `/usr/bin/time -v` and reads its wall time and peak
/// memory; a command still running after `cap` is killed (with its process
/// group) and reported with the time, CPU time and peak memory it had used.
fn measure(mut cmd: Vec<String>, cap: Option<std::time::Duration>) -> Measure {
    use std::os::unix::process::CommandExt;
    let mut full = vec!["-v".to_string()];
    full.append(&mut cmd);
    let start = std::time::Instant::now();
    let mut child = Command::new("/usr/bin/time")
        .args(&full)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("/usr/bin/time");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut s);
        s
    });
    let mut overran = None;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if let Some(cap) = cap.filter(|c| start.elapsed() >= *c) {
            // The measured program is the child of `time`.
            let pid = child.id();
            let inner = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .ok()
                .and_then(|c| c.split_whitespace().next()?.parse::<u32>().ok());
            let usage = inner
                .and_then(|p| Some((vigil_testkit::cpu_secs(p)?, vigil_testkit::peak_rss_kib(p)?)));
            overran = Some((cap.as_secs_f64(), usage));
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{pid}")])
                .status();
            break child.wait().expect("wait");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let stderr = reader.join().unwrap_or_default();
    if let Some((secs, usage)) = overran {
        let (cpu_secs, max_rss_kb) = usage.unwrap_or((f64::NAN, 0));
        return Measure {
            secs,
            cpu_secs,
            max_rss_kb,
            ok: true,
            overran: true,
        };
    }
    let err = String::from_utf8_lossy(&stderr);
    let field = |name: &str| {
        err.lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let secs = field("Elapsed (wall clock) time (h:mm:ss or m:ss):")
        .map(|t| {
            t.split(':')
                .fold(0.0, |acc, p| acc * 60.0 + p.parse::<f64>().unwrap_or(0.0))
        })
        .unwrap_or(f64::NAN);
    let cpu_secs = ["User time (seconds):", "System time (seconds):"]
        .iter()
        .map(|f| {
            field(f)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        })
        .sum();
    let max_rss_kb = field("Maximum resident set size (kbytes):")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // vigil scan exits 1 when it finds something; MVT exits 0.
    let ok = matches!(status.code(), Some(0) | Some(1));
    if !ok {
        eprintln!(
            "command failed: {full:?}\n{}",
            err.lines().rev().take(15).collect::<Vec<_>>().join("\n")
        );
    }
    Measure {
        secs,
        cpu_secs,
        max_rss_kb,
        ok,
        overran: false,
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("ios_backup bench: skipped (run with cargo bench)");
        return;
    }
    let root = vigil_testkit::workspace_root();
    // One knob for both tables; the two specific ones override it.
    let size = env_usize("VIGIL_BENCH_SIZE", 1_000_000);
    let sms = env_usize("VIGIL_BENCH_SMS", size);
    let visits = env_usize("VIGIL_BENCH_VISITS", size);
    let counts: Vec<usize> = std::env::var("VIGIL_BENCH_IOCS")
        .unwrap_or_else(|_| "100,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dir = root.join("target/bench-data/ios-backup");
    let backup = dir.join(format!("backup-{sms}-{visits}"));
    if !backup.join("Status.plist").exists() {
        let t = std::time::Instant::now();
        let spec = IosBackupSpec {
            seed: 42,
            sms,
            safari_visits: visits,
            plants: Plants {
                domains: PLANTED.iter().map(|d| d.to_string()).collect(),
                ..Plants::default()
            },
            ..IosBackupSpec::default()
        };
        write_ios_backup(&backup, &spec).expect("generate backup");
        println!(
            "generated {} ({sms} SMS, {visits} visits) in {:.1} s",
            backup.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let vigil = std::env::var_os("VIGIL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(default_vigil_bin);
    let mvt = vigil_testkit::python()
        .and_then(|p| p.parent().map(|bin| bin.join("mvt-ios")))
        .unwrap_or_else(|| root.join("target/interop-venv/bin/mvt-ios"));
    let run_mvt = mvt.exists() && std::env::var("VIGIL_BENCH_SKIP_MVT").map_or(true, |v| v != "1");
    let mvt_max = env_usize("VIGIL_BENCH_MVT_MAX_IOCS", 100_000);
    let mvt_cap =
        std::time::Duration::from_secs(env_usize("VIGIL_BENCH_MVT_CAP_SECS", 1200) as u64);
    let mut vigil_secs: Vec<(usize, f64)> = Vec::new();
    if !vigil.exists() {
        println!(
            "no vigil binary at {} (cargo build --release -p vigil, or set VIGIL_BIN)",
            vigil.display()
        );
    }
    println!(
        "backup: {sms} SMS, {visits} Safari visits; wall and CPU (user+sys) seconds, peak RSS in MB"
    );
    println!(
        "{:>10}  {:>8} {:>8}  {:>8} {:>8} {:>8}  {:>8} {:>8} {:>8}  {:>7} {:>7} {:>7}",
        "indicators",
        "1st s",
        "cpu s",
        "vigil s",
        "cpu s",
        "MB",
        "mvt s",
        "cpu s",
        "MB",
        "wall",
        "cpu",
        "memory"
    );
    println!("(1st: vigil's first scan of the set, which also writes its compiled form; vigil: a later scan; ratios use the later scan)");
    for n in counts {
        let iocs = dir.join(format!("domains-{n}.stix2"));
        if !iocs.exists() {
            write_stix(&iocs, n);
        }
        let scan = || {
            measure(
                vec![
                    vigil.display().to_string(),
                    "scan".into(),
                    "--iocs".into(),
                    iocs.display().to_string(),
                    "--quiet".into(),
                    backup.display().to_string(),
                ],
                None,
            )
        };
        // The first scan of a set parses it and leaves its compiled form beside
        // it (for files of 4 MiB or more); every later scan reads that.
        let compiled = dir.join(format!(".domains-{n}.stix2.vigil-compiled"));
        let _ = std::fs::remove_file(&compiled);
        let first = vigil.exists().then(scan);
        let v = vigil.exists().then(scan);
        if let Some(v) = v.as_ref().filter(|v| v.ok) {
            vigil_secs.push((n, v.secs));
        }
        let m = (run_mvt && n <= mvt_max).then(|| {
            let out = dir.join(format!("mvt-out-{n}"));
            let _ = std::fs::remove_dir_all(&out);
            measure(
                vec![
                    mvt.display().to_string(),
                    // No network: the update checks would only wait for a timeout.
                    "--disable-update-check".into(),
                    "--disable-indicator-update-check".into(),
                    "check-backup".into(),
                    "--iocs".into(),
                    iocs.display().to_string(),
                    "--output".into(),
                    out.display().to_string(),
                    backup.display().to_string(),
                ],
                Some(mvt_cap),
            )
        });
        let fmt = |x: &Option<Measure>| match x {
            Some(m) if m.ok => {
                let more = if m.overran { ">" } else { "" };
                (
                    format!("{more}{:.2}", m.secs),
                    format!("{more}{:.2}", m.cpu_secs),
                    format!("{more}{:.0}", m.max_rss_kb as f64 / 1024.0),
                )
            }
            Some(_) => ("failed".into(), "-".into(), "-".into()),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let ((vs, vc, vm), (ms, mc, mm)) = (fmt(&v), fmt(&m));
        let (fs, fc, _) = fmt(&first);
        let (speed, cpu, mem) = match (&v, &m) {
            (Some(v), Some(m)) if v.ok && m.ok => {
                let at_least = if m.overran { ">=" } else { "" };
                (
                    format!("{at_least}{:.0}x", m.secs / v.secs),
                    format!("{at_least}{:.0}x", m.cpu_secs / v.cpu_secs),
                    format!(
                        "{at_least}{:.1}x",
                        m.max_rss_kb as f64 / v.max_rss_kb.max(1) as f64
                    ),
                )
            }
            _ => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{n:>10}  {fs:>8} {fc:>8}  {vs:>8} {vc:>8} {vm:>8}  {ms:>8} {mc:>8} {mm:>8}  {speed:>7} {cpu:>7} {mem:>7}"
        );
    }
    println!(
        "(>: MVT was stopped at the cap of {} s, VIGIL_BENCH_MVT_CAP_SECS; its figures are what it had used by then, so the ratios are lower bounds)",
        mvt_cap.as_secs()
    );
    if let (Some(first), Some(last)) = (vigil_secs.first(), vigil_secs.last()) {
        if last.0 > first.0 {
            println!(
                "vigil time with {} indicators / with {}: {:.2}",
                last.0,
                first.0,
                last.1 / first.1
            );
        }
    }
}

/// The `vigil` binary of the cargo profile this benchmark was built in
/// (`<target>/release/deps/ios_backup-…` → `<target>/release/vigil`).
fn default_vigil_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("vigil")))
        .unwrap_or_else(|| vigil_testkit::workspace_root().join("target/release/vigil"))
}
