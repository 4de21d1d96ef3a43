//! Validation throughput on the real indicator sets and a generated 1 GB
//! bundle, against the OASIS `stix2-validator` doing the same work in the
//! same run.
//!
//! Run: `cargo bench -p vigil-validate --bench throughput`. Figures are per
//! core: bytes per CPU-second of the validating thread (ours) or of the
//! Python process, minus its start-up (the reference), so a busy machine
//! does not skew them; wall-clock time is printed beside. Three parts:
//! 1. every file of `data/indicators`, parsed and validated from memory;
//! 2. a sample of the generated bundle (`VIGIL_VALIDATE_BENCH_PY_MB`,
//!    default 4 MB) validated by both, for the ratio on the same bytes;
//! 3. the generated bundle of `VIGIL_VALIDATE_BENCH_GB` (default 1) GB,
//!    streamed from a generator (never held in memory or written to disk) in
//!    a child process, whose peak resident memory (VmHWM) is reported.
//!
//! The generated bundle repeats the corpus objects that validate without
//! any diagnostic, each copy with a fresh id. Without the interop Python
//! (or with `VIGIL_BENCH_NO_REFERENCE=1`) the reference rows are skipped.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil_validate::{Options, Validator};

#[path = "../../vigil-stix/benches/support/mod.rs"]
mod support;
use support::{peak_rss_kib, thread_cpu};

const CHILD_ENV: &str = "VIGIL_VALIDATE_BENCH_CHILD_BYTES";

fn validator() -> Validator {
    Validator::new(Options::with_stix_patterns(false))
}

fn main() {
    let files = corpus_files();
    if let Some(bytes) = std::env::var(CHILD_ENV).ok().and_then(|v| v.parse().ok()) {
        child(&files, bytes);
        return;
    }
    // `cargo test --all-targets` runs this binary without `--bench`: then only
    // check that it works, quickly, without the reference.
    if !std::env::args().any(|a| a == "--bench") {
        let generated = Generated::new(&files, 2_000_000);
        let report = validator()
            .validate_reader(generated)
            .expect("generated in memory");
        assert!(report.objects > 100);
        assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
        println!("throughput bench smoke run: {} objects", report.objects);
        return;
    }
    let python = if std::env::var_os("VIGIL_BENCH_NO_REFERENCE").is_some() {
        None
    } else {
        // The bench never requires Python; report and go on.
        std::env::remove_var("VIGIL_REQUIRE_INTEROP");
        vigil_testkit::python()
    };
    let v = validator();

    println!("vigil-validate throughput: parse + validate, per core (CPU time of the validating thread or process; mean of runs)");
    println!();
    println!(
        "{:<44} {:>10} {:>8} {:>9} {:>12} {:>12} {:>10}",
        "input", "bytes", "objects", "CPU ms", "MB/CPU-s", "objects/s", "wall MB/s"
    );
    let mut total = Measure::default();
    for f in &files {
        let bytes = std::fs::read(f).expect("read corpus file");
        let m = mean_of_runs(|| {
            let report = v.validate_reader(&bytes[..]).expect("reading from memory");
            report.objects
        });
        let m = Measure {
            bytes: bytes.len() as u64,
            ..m
        };
        row(&short_name(f), &m);
        total.add(&m);
    }
    row("ALL REAL SETS", &total);
    if let Some(py) = python.as_deref() {
        if let Some(r) = reference_cpu(py, &files) {
            reference_row(&total, r);
        }
    }
    println!();

    // The same bytes through both, for an exact ratio on generated content.
    let py_mb = env_f64("VIGIL_VALIDATE_BENCH_PY_MB", 4.0);
    let mut sample = Vec::new();
    Generated::new(&files, (py_mb * 1e6) as u64)
        .read_to_end(&mut sample)
        .expect("generate in memory");
    let m = mean_of_runs(|| {
        v.validate_reader(&sample[..])
            .expect("reading from memory")
            .objects
    });
    let m = Measure {
        bytes: sample.len() as u64,
        ..m
    };
    row("generated sample", &m);
    if let Some(py) = python.as_deref() {
        let tmp =
            std::env::temp_dir().join(format!("vigil-validate-bench-{}.json", std::process::id()));
        if std::fs::write(&tmp, &sample).is_ok() {
            if let Some(r) = reference_cpu(py, std::slice::from_ref(&tmp)) {
                reference_row(&m, r);
            }
            let _ = std::fs::remove_file(&tmp);
        }
    }
    println!();

    // The large bundle, in a child process so that its peak memory is its own.
    let gb = env_f64("VIGIL_VALIDATE_BENCH_GB", 1.0);
    let out = Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD_ENV, format!("{}", (gb * 1e9) as u64))
        .output()
        .expect("run the streaming child");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("child prints JSON");
    let m = Measure {
        bytes: report["bytes"].as_u64().unwrap_or(0),
        objects: report["objects"].as_u64().unwrap_or(0) as usize,
        cpu: Duration::from_secs_f64(report["cpu_seconds"].as_f64().unwrap_or(f64::NAN)),
        wall: Duration::from_secs_f64(report["wall_seconds"].as_f64().unwrap_or(f64::NAN)),
    };
    row(&format!("generated bundle, streamed ({gb} GB)"), &m);
    println!(
        "  diagnostics: {}; peak resident memory of the process: {:.1} MB",
        report["diagnostics"],
        report["vmhwm_kb"].as_f64().unwrap_or(f64::NAN) / 1024.0
    );
}

/// Validates `bytes` of generated bundle streamed from the generator and prints the figures as JSON.
fn child(files: &[PathBuf], bytes: u64) {
    let generated = Generated::new(files, bytes);
    let v = validator();
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let report = v.validate_reader(generated).expect("generated in memory");
    let cpu = thread_cpu().saturating_sub(cpu);
    let wall = wall.elapsed();
    let vmhwm_kb = peak_rss_kib();
    println!(
        r#"{{"bytes": {}, "objects": {}, "diagnostics": {}, "cpu_seconds": {}, "wall_seconds": {}, "vmhwm_kb": {vmhwm_kb}}}"#,
        report.bytes,
        report.objects,
        report.diagnostics.len(),
        cpu.as_secs_f64(),
        wall.as_secs_f64()
    );
}

#[derive(Debug, Default, Clone, Copy)]
struct Measure {
    bytes: u64,
    objects: usize,
    cpu: Duration,
    wall: Duration,
}

impl Measure {
    fn add(&mut self, m: &Measure) {
        self.bytes += m.bytes;
        self.objects += m.objects;
        self.cpu += m.cpu;
        self.wall += m.wall;
    }
}

/// The mean of repeated runs, repeated until they used at least half a
/// CPU-second: the thread's CPU clock advances in scheduler ticks, too
/// coarsely to time one small file.
fn mean_of_runs(mut f: impl FnMut() -> usize) -> Measure {
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let mut runs = 0u32;
    let mut objects = 0;
    while runs < 3 || thread_cpu().saturating_sub(cpu) < Duration::from_millis(500) {
        objects = std::hint::black_box(f());
        runs += 1;
    }
    Measure {
        bytes: 0,
        objects,
        cpu: thread_cpu().saturating_sub(cpu) / runs,
        wall: wall.elapsed() / runs,
    }
}

fn row(label: &str, m: &Measure) {
    let cpu = m.cpu.as_secs_f64();
    println!(
        "{label:<44} {:>10} {:>8} {:>9.1} {:>12.1} {:>12.0} {:>10.1}",
        m.bytes,
        m.objects,
        cpu * 1e3,
        m.bytes as f64 / 1e6 / cpu,
        m.objects as f64 / cpu,
        m.bytes as f64 / 1e6 / m.wall.as_secs_f64()
    );
}

fn reference_row(ours: &Measure, reference_cpu: Duration) {
    let r = reference_cpu.as_secs_f64();
    println!(
        "{:<44} {:>10} {:>8} {:>9.1} {:>12.3} {:>12.0}",
        "  stix2-validator, same input",
        ours.bytes,
        ours.objects,
        r * 1e3,
        ours.bytes as f64 / 1e6 / r,
        ours.objects as f64 / r
    );
    println!(
        "{:<44} {:>.0}x the reference per CPU-second",
        "  ratio",
        r / ours.cpu.as_secs_f64()
    );
}

/// CPU seconds the reference validator spends on `files` in one process, minus its start-up.
fn reference_cpu(python: &Path, files: &[PathBuf]) -> Option<Duration> {
    let script = vigil_testkit::workspace_root().join("interop/validate/reference_verdicts.py");
    // Run the script as the main module, then report the process's CPU time.
    let wrapper = "import resource, runpy, sys\n\
        script = sys.argv[1]\n\
        sys.argv = [script]\n\
        runpy.run_path(script, run_name='__main__')\n\
        r = resource.getrusage(resource.RUSAGE_SELF)\n\
        sys.stderr.write('cpu %.6f\\n' % (r.ru_utime + r.ru_stime))\n";
    let run = |files: &[PathBuf]| -> Option<f64> {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(wrapper)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        {
            let mut stdin = child.stdin.take()?;
            for f in files {
                writeln!(stdin, "{}", f.display()).ok()?;
            }
        }
        let out = child.wait_with_output().ok()?;
        if !out.status.success() {
            eprintln!(
                "reference validator failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .find_map(|l| l.strip_prefix("cpu "))
            .and_then(|v| v.trim().parse().ok())
    };
    let startup = run(&[])?;
    let total = run(files)?;
    Some(Duration::from_secs_f64((total - startup).max(0.0)))
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn short_name(p: &Path) -> String {
    let parent = p
        .parent()
        .and_then(Path::file_name)
        .unwrap_or_default()
        .to_string_lossy();
    let name = p.file_name().unwrap_or_default().to_string_lossy();
    format!("{parent}/{name}")
}

fn corpus_files() -> Vec<PathBuf> {
    let data = vigil_testkit::workspace_root().join("data/indicators");
    let mut files = Vec::new();
    let mut stack = vec![data];
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
    files
}

/// A bundle of at least `target` bytes made of copies of the corpus objects
/// that validate cleanly, produced as it is read.
struct Generated {
    /// Compact JSON of each template and the byte range of the 8 hex digits
    /// of its id that each copy replaces with its own number.
    templates: Vec<(String, usize)>,
    target: u64,
    produced: u64,
    next: u64,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Generated {
    fn new(files: &[PathBuf], target: u64) -> Self {
        let v = validator();
        let mut templates = Vec::new();
        for f in files {
            let doc: Value = serde_json::from_slice(&std::fs::read(f).expect("read corpus file"))
                .expect("corpus file is JSON");
            for o in doc["objects"].as_array().into_iter().flatten() {
                let Some(id) = o["id"].as_str() else { continue };
                let text = o.to_string();
                let Some(at) = text.find(&format!("\"id\":\"{id}\"")) else {
                    continue;
                };
                let hex = at + "\"id\":\"".len() + id.find("--").unwrap_or(0) + 2;
                let mut copy = text.clone();
                copy.replace_range(hex..hex + 8, "fedcba98");
                if v.validate_bytes(copy.as_bytes()).diagnostics.is_empty() {
                    templates.push((text, hex));
                }
            }
        }
        assert!(!templates.is_empty(), "no clean corpus object to copy");
        let head =
            br#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":["#;
        Generated {
            templates,
            target,
            produced: head.len() as u64,
            next: 0,
            buf: head.to_vec(),
            pos: 0,
            done: false,
        }
    }

    fn refill(&mut self) {
        self.buf.clear();
        self.pos = 0;
        if self.done {
            return;
        }
        if self.produced >= self.target {
            self.buf.extend_from_slice(b"]}");
            self.done = true;
            return;
        }
        while self.buf.len() < 64 << 10 && self.produced + (self.buf.len() as u64) < self.target {
            let (text, hex) = &self.templates[(self.next % self.templates.len() as u64) as usize];
            if self.next > 0 {
                self.buf.push(b',');
            }
            self.buf.extend_from_slice(&text.as_bytes()[..*hex]);
            self.buf
                .extend_from_slice(format!("{:08x}", self.next as u32).as_bytes());
            self.buf.extend_from_slice(&text.as_bytes()[hex + 8..]);
            self.next += 1;
        }
        self.produced += self.buf.len() as u64;
    }
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            self.refill();
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
