//! Validation throughput on the real indicator sets and a generated bundle,
//! against the OASIS `stix2-validator` on the same inputs.
//!
//! Run: `cargo bench -p vigil-validate --bench throughput`. Prints MB/s and
//! objects/s for us, the reference's wall time (its interpreter start-up
//! measured separately and subtracted) and the ratio. The reference is slow,
//! so its generated bundle is smaller than ours; the sizes are printed.
//! Set `VIGIL_BENCH_NO_REFERENCE=1` to time only ours.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vigil_validate::Validator;

fn indicator(i: usize) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{i:08x}-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"c2 {i}","description":"generated","indicator_types":["malicious-activity"],"pattern":"[domain-name:value = 'host{i}.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","kill_chain_phases":[{{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}}],"external_references":[{{"source_name":"vigil","url":"https://example.com/{i}"}}]}}"#
    )
}

fn generated_bundle(n: usize) -> Vec<u8> {
    let objects: Vec<String> = (0..n).map(indicator).collect();
    format!(
        r#"{{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{}]}}"#,
        objects.join(",")
    )
    .into_bytes()
}

/// Median wall time of validating `bytes` a few times.
fn ours(v: &Validator, bytes: &[u8]) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut objects = 0;
    let runs = if bytes.len() > 4 << 20 { 3 } else { 7 };
    for _ in 0..runs {
        let t = Instant::now();
        let report = v
            .validate_reader(bytes)
            .expect("reading from memory cannot fail");
        times.push(t.elapsed());
        objects = report.objects;
    }
    times.sort();
    (times[times.len() / 2], objects)
}

/// Wall time of the reference validating `files` in one process, minus its start-up.
fn reference(python: &Path, files: &[PathBuf]) -> Option<Duration> {
    let script = vigil_testkit::workspace_root().join("interop/validate/reference_verdicts.py");
    let run = |files: &[PathBuf]| -> Option<Duration> {
        let t = Instant::now();
        let mut child = Command::new(python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        {
            let mut stdin = child.stdin.take()?;
            for f in files {
                writeln!(stdin, "{}", f.display()).ok()?;
            }
        }
        child.wait().ok()?.success().then(|| t.elapsed())
    };
    let startup = run(&[])?;
    Some(run(files)?.saturating_sub(startup))
}

fn mb_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn main() {
    let v = Validator::default();
    // `cargo test --all-targets` runs this binary without `--bench`: then only
    // check that it works, quickly, without the reference.
    if !std::env::args().any(|a| a == "--bench") {
        let (_, n) = ours(&v, &generated_bundle(100));
        assert_eq!(n, 100);
        return;
    }
    let python = if std::env::var_os("VIGIL_BENCH_NO_REFERENCE").is_some() {
        None
    } else {
        vigil_testkit::python()
    };
    let data = vigil_testkit::shared_data()
        .map(|d| d.join("indicators"))
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| vigil_testkit::workspace_root().join("data/indicators"));

    let mut files = Vec::new();
    let mut stack = vec![data.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "stix2") {
                files.push(p);
            }
        }
    }
    files.sort();

    println!("vigil-validate throughput (median of several runs; reference start-up subtracted)");
    println!(
        "{:<34} {:>9} {:>8} {:>10} {:>12} {:>12} {:>8}",
        "input", "bytes", "objects", "ours ms", "ours MB/s", "ours obj/s", "ref x"
    );
    let mut total = (0usize, 0usize, Duration::ZERO);
    for f in &files {
        let bytes = std::fs::read(f).expect("read corpus file");
        let (d, n) = ours(&v, &bytes);
        total.0 += bytes.len();
        total.1 += n;
        total.2 += d;
        println!(
            "{:<34} {:>9} {:>8} {:>10.2} {:>12.1} {:>12.0}",
            f.file_name().unwrap_or_default().to_string_lossy(),
            bytes.len(),
            n,
            d.as_secs_f64() * 1e3,
            mb_s(bytes.len(), d),
            n as f64 / d.as_secs_f64()
        );
    }
    let ref_real = python.as_deref().and_then(|py| reference(py, &files));
    println!(
        "{:<34} {:>9} {:>8} {:>10.2} {:>12.1} {:>12.0} {:>8}",
        "ALL REAL SETS",
        total.0,
        total.1,
        total.2.as_secs_f64() * 1e3,
        mb_s(total.0, total.2),
        total.1 as f64 / total.2.as_secs_f64(),
        ref_real
            .map(|r| format!("{:.0}", r.as_secs_f64() / total.2.as_secs_f64()))
            .unwrap_or_else(|| "-".into())
    );
    if let Some(r) = ref_real {
        println!(
            "  reference on all real sets: {:.1} s ({:.3} MB/s)",
            r.as_secs_f64(),
            mb_s(total.0, r)
        );
    }

    let big = generated_bundle(50_000);
    let (d, n) = ours(&v, &big);
    println!(
        "{:<34} {:>9} {:>8} {:>10.2} {:>12.1} {:>12.0}",
        "generated bundle",
        big.len(),
        n,
        d.as_secs_f64() * 1e3,
        mb_s(big.len(), d),
        n as f64 / d.as_secs_f64()
    );
    if let Some(py) = python.as_deref() {
        let small = generated_bundle(2_000);
        let tmp =
            std::env::temp_dir().join(format!("vigil-validate-bench-{}.json", std::process::id()));
        if std::fs::write(&tmp, &small).is_ok() {
            let (ds, ns) = ours(&v, &small);
            if let Some(r) = reference(py, std::slice::from_ref(&tmp)) {
                println!(
                    "generated bundle, {} objects ({} bytes): ours {:.2} ms, reference {:.2} s, ratio {:.0}x",
                    ns,
                    small.len(),
                    ds.as_secs_f64() * 1e3,
                    r.as_secs_f64(),
                    r.as_secs_f64() / ds.as_secs_f64()
                );
            }
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
