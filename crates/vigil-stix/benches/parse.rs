//! Parse throughput of vigil-stix against the OASIS Python `stix2` library.
//!
//! Run with `cargo bench -p vigil-stix --bench parse`. It measures, on one
//! thread:
//! 1. the indicator corpora in `data/indicators` (streamed and typed, and
//!    streamed only), and `stix2.parse` on the same files;
//! 2. a generated bundle small enough for Python (`VIGIL_STIX_BENCH_PY_MB`,
//!    default 8 MB), both tools;
//! 3. a generated bundle of `VIGIL_STIX_BENCH_GB` (default 1) GB, streamed and
//!    typed in a child process whose peak resident memory (VmHWM) is reported.
//!
//! Times are CPU time of the measuring thread (per core, not wall clock),
//! for Rust and Python alike. Generated bundles are seeded and written under `target/vigil-stix-bench/`.
//! Without the interop Python the Python rows are skipped.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil_stix::bundle::BundleReader;
use vigil_stix::StixObject;

#[path = "support/mod.rs"]
mod support;
use support::{peak_rss_kib, thread_cpu};

const CHILD_ENV: &str = "VIGIL_STIX_BENCH_CHILD";

fn main() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&path));
        return;
    }
    let root = vigil_testkit::workspace_root();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
    // binary without it, and then a quick smoke run is enough.
    if !std::env::args().any(|a| a == "--bench") {
        let files = corpus_files(&root.join("data/indicators"));
        let small =
            std::env::temp_dir().join(format!("vigil-stix-smoke-{}.json", std::process::id()));
        generate(&small, 200_000);
        let objects = pass(&files, true) + pass(std::slice::from_ref(&small), true);
        std::fs::remove_file(&small).ok();
        println!("parse bench smoke run: {objects} objects typed (run `cargo bench` for figures)");
        return;
    }
    let out_dir = root.join("target/vigil-stix-bench");
    std::fs::create_dir_all(&out_dir).expect("create target/vigil-stix-bench");
    let python = python_available();

    println!("vigil-stix parse benchmark (one thread; figures are best of several runs)");
    println!();

    // 1. Real corpora.
    let files = corpus_files(&root.join("data/indicators"));
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let (typed, objects) = best_of(5, || pass(&files, true));
    let (raw, _) = best_of(5, || pass(&files, false));
    let (whole, _) = best_of(5, || {
        for f in &files {
            let bytes = std::fs::read(f).expect("read corpus file");
            std::hint::black_box(serde_json::from_slice::<Value>(&bytes).expect("corpus is JSON"));
        }
        objects
    });
    println!(
        "corpus data/indicators: {} files, {:.2} MB, {} objects",
        files.len(),
        mb(bytes),
        objects
    );
    row("vigil-stix stream + type", bytes, objects, typed);
    row("vigil-stix stream only", bytes, objects, raw);
    row("serde_json whole-file Value", bytes, objects, whole);
    if python {
        if let Some((py_secs, py_objects)) = python_parse(&root, &files) {
            row("python stix2.parse", bytes, py_objects, py_secs);
            ratio(typed, py_secs);
        }
    }
    println!();
    if std::env::var_os("VIGIL_STIX_BENCH_CORPUS_ONLY").is_some() {
        return;
    }

    // 2. A generated bundle Python can parse in reasonable time.
    let py_mb: f64 = env_f64("VIGIL_STIX_BENCH_PY_MB", 8.0);
    let small = out_dir.join(format!("bundle-{py_mb}mb.json"));
    generate(&small, (py_mb * 1e6) as u64);
    let small_bytes = std::fs::metadata(&small).map(|m| m.len()).unwrap_or(0);
    let (typed, objects) = best_of(3, || pass(std::slice::from_ref(&small), true));
    println!("generated bundle: {:.2} MB, {} objects (seeded mix of indicators, relationships, SCOs, malware, identities, reports)", mb(small_bytes), objects);
    row("vigil-stix stream + type", small_bytes, objects, typed);
    if python {
        if let Some((py_secs, py_objects)) = python_parse(&root, std::slice::from_ref(&small)) {
            row("python stix2.parse", small_bytes, py_objects, py_secs);
            ratio(typed, py_secs);
        }
    }
    println!();

    // 3. The large bundle, in a child process so its peak memory is its own.
    let gb = env_f64("VIGIL_STIX_BENCH_GB", 1.0);
    let large = out_dir.join(format!("bundle-{gb}gb.json"));
    let t = Instant::now();
    generate(&large, (gb * 1e9) as u64);
    let large_bytes = std::fs::metadata(&large).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated bundle: {:.3} GB at {} (ready in {:.1} s)",
        large_bytes as f64 / 1e9,
        relative(&root, &large),
        t.elapsed().as_secs_f64()
    );
    let out = Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD_ENV, &large)
        .output()
        .expect("run the streaming child");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("child prints JSON");
    let secs = report["seconds"].as_f64().unwrap_or(f64::NAN);
    let objects = report["objects"].as_u64().unwrap_or(0) as usize;
    row("vigil-stix stream + type", large_bytes, objects, secs);
    let peak_mb = report["vmhwm_kb"].as_f64().unwrap_or(f64::NAN) / 1024.0;
    println!(
        "  {:<28} {peak_mb:.1} MB (budget 200 MB)",
        "peak resident memory"
    );
}

/// The streaming pass over one file, run in a fresh process.
fn child(path: &Path) {
    let t = thread_cpu();
    let file = std::fs::File::open(path).expect("open the generated bundle");
    let mut objects = 0u64;
    for raw in BundleReader::new(file) {
        let raw = raw.expect("generated objects are well-formed");
        StixObject::from_value(raw.value).expect("generated objects type");
        objects += 1;
    }
    let seconds = thread_cpu().saturating_sub(t).as_secs_f64();
    let vmhwm_kb = peak_rss_kib();
    println!(r#"{{"objects": {objects}, "seconds": {seconds}, "vmhwm_kb": {vmhwm_kb}}}"#);
}

fn pass(files: &[PathBuf], typed: bool) -> usize {
    let mut objects = 0;
    for f in files {
        let file = std::fs::File::open(f).expect("open corpus file");
        for raw in BundleReader::new(file) {
            let raw = raw.expect("corpus objects are well-formed");
            if typed {
                std::hint::black_box(
                    StixObject::from_value(raw.value).expect("corpus objects type"),
                );
            } else {
                std::hint::black_box(raw);
            }
            objects += 1;
        }
    }
    objects
}

fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = thread_cpu();
        n = f();
        best = best.min(thread_cpu().saturating_sub(t));
    }
    (best.as_secs_f64(), n)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn row(label: &str, bytes: u64, objects: usize, secs: f64) {
    println!(
        "  {label:<28} {:>9.1} MB/s {:>12.0} objects/s   ({secs:.3} s)",
        mb(bytes) / secs,
        objects as f64 / secs
    );
}

fn ratio(ours: f64, python: f64) {
    println!(
        "  {:<28} {:>9.0}x faster than python stix2",
        "ratio",
        python / ours
    );
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "stix2") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn python_available() -> bool {
    // The bench never requires Python; report and go on.
    std::env::remove_var("VIGIL_REQUIRE_INTEROP");
    vigil_testkit::python().is_some()
}

/// Runs `stix2.parse` on each file in one Python process; returns (seconds, objects).
fn python_parse(root: &Path, files: &[PathBuf]) -> Option<(f64, usize)> {
    let python = vigil_testkit::python()?;
    let out = Command::new(python)
        .arg(root.join("interop/stix/bench_parse.py"))
        .args(files)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "python stix2.parse failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let (mut secs, mut objects) = (0.0, 0);
    for line in out.stdout.lines() {
        let v: Value = serde_json::from_str(&line.ok()?).ok()?;
        secs += v["seconds"].as_f64()?;
        objects += v["objects"].as_u64()? as usize;
    }
    Some((secs, objects))
}

/// A small xorshift generator: the bundles are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn uuid4(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(len);
        s
    }
    fn word(&mut self) -> String {
        const SYL: [&str; 16] = [
            "ka", "lo", "mi", "ne", "ro", "su", "ta", "vi", "za", "pe", "do", "gu", "ha", "ji",
            "bo", "ce",
        ];
        (0..2 + self.below(4))
            .map(|_| SYL[self.below(16) as usize])
            .collect()
    }
    fn timestamp(&mut self) -> String {
        let day = 1 + self.below(28);
        let month = 1 + self.below(12);
        let (h, m, s, ms) = (
            self.below(24),
            self.below(60),
            self.below(60),
            self.below(1000),
        );
        format!("2023-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }
}

/// Writes a seeded bundle of at least `target` bytes, unless one of that size exists.
fn generate(path: &Path, target: u64) {
    if std::fs::metadata(path).is_ok_and(|m| m.len() >= target) {
        return;
    }
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let file = std::fs::File::create(path).expect("create the generated bundle");
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut written: u64 = 0;
    let mut put = |w: &mut BufWriter<std::fs::File>, s: &str| {
        w.write_all(s.as_bytes())
            .expect("write the generated bundle");
        written += s.len() as u64;
        written
    };
    let identity = format!("identity--{}", rng.uuid4());
    let malware: Vec<String> = (0..64)
        .map(|_| format!("malware--{}", rng.uuid4()))
        .collect();
    put(
        &mut w,
        &format!(
            "{{\"type\": \"bundle\", \"id\": \"bundle--{}\", \"objects\": [\n",
            rng.uuid4()
        ),
    );
    // Common properties; `id` is given so that relationships can point at known objects.
    let common = |rng: &mut Rng, t: &str, id: &str| {
        let ts = rng.timestamp();
        format!("\"type\": \"{t}\", \"spec_version\": \"2.1\", \"id\": \"{id}\", \"created\": \"{ts}\", \"modified\": \"{ts}\", \"created_by_ref\": \"{identity}\"")
    };
    let fresh = |rng: &mut Rng, t: &str| format!("{t}--{}", rng.uuid4());
    let c = common(&mut rng, "identity", &identity);
    put(
        &mut w,
        &format!("{{{c}, \"name\": \"Vigil research\", \"identity_class\": \"organization\"}}"),
    );
    for (i, m) in malware.iter().enumerate() {
        let c = common(&mut rng, "malware", m);
        put(&mut w, &format!(",\n{{{c}, \"name\": \"Family {i} {}\", \"is_family\": true, \"malware_types\": [\"spyware\"], \"aliases\": [\"{}\"]}}", rng.word(), rng.word()));
    }
    let mut last_indicator = format!("indicator--{}", rng.uuid4());
    let mut total = 0;
    while total < target {
        let pick = rng.below(100);
        let obj = match pick {
            0..=34 => {
                last_indicator = fresh(&mut rng, "indicator");
                let c = common(&mut rng, "indicator", &last_indicator);
                let domain = format!("{}.{}.net", rng.word(), rng.word());
                let pattern = match rng.below(4) {
                    0 => format!("[domain-name:value = '{domain}']"),
                    1 => format!("[file:hashes.'SHA-256' = '{}']", rng.hex(64)),
                    2 => format!("[url:value = 'https://{domain}/{}']", rng.word()),
                    _ => format!("[process:name = '{}']", rng.word()),
                };
                let custom = if rng.below(5) == 0 { format!(", \"x_vigil_confidence_note\": \"{}\", \"x_vigil_rank\": {}", rng.word(), rng.below(100)) } else { String::new() };
                format!("{{{c}, \"name\": \"{domain}\", \"description\": \"Infrastructure seen in {} campaign, reported by {}.\", \"indicator_types\": [\"malicious-activity\"], \"pattern\": \"{pattern}\", \"pattern_type\": \"stix\", \"pattern_version\": \"2.1\", \"valid_from\": \"{}\", \"labels\": [\"{}\"]{custom}}}", rng.word(), rng.word(), rng.timestamp(), rng.word())
            }
            35..=69 => {
                let id = fresh(&mut rng, "relationship");
                let c = common(&mut rng, "relationship", &id);
                let target = &malware[rng.below(malware.len() as u64) as usize];
                format!("{{{c}, \"relationship_type\": \"indicates\", \"source_ref\": \"{last_indicator}\", \"target_ref\": \"{target}\"}}")
            }
            70..=79 => format!("{{\"type\": \"domain-name\", \"spec_version\": \"2.1\", \"id\": \"domain-name--{}\", \"value\": \"{}.{}.com\"}}", rng.uuid4(), rng.word(), rng.word()),
            80..=84 => format!("{{\"type\": \"ipv4-addr\", \"spec_version\": \"2.1\", \"id\": \"ipv4-addr--{}\", \"value\": \"{}.{}.{}.{}\"}}", rng.uuid4(), rng.below(224), rng.below(256), rng.below(256), rng.below(256)),
            85..=88 => format!("{{\"type\": \"url\", \"spec_version\": \"2.1\", \"id\": \"url--{}\", \"value\": \"https://{}.org/{}/{}\"}}", rng.uuid4(), rng.word(), rng.word(), rng.word()),
            89..=95 => format!("{{\"type\": \"file\", \"spec_version\": \"2.1\", \"id\": \"file--{}\", \"name\": \"{}.apk\", \"size\": {}, \"hashes\": {{\"SHA-256\": \"{}\", \"MD5\": \"{}\"}}}}", rng.uuid4(), rng.word(), rng.below(50_000_000), rng.hex(64), rng.hex(32)),
            _ => {
                let id = fresh(&mut rng, "report");
                let c = common(&mut rng, "report", &id);
                let refs: Vec<String> = (0..5 + rng.below(20)).map(|_| format!("\"{}\"", malware[rng.below(malware.len() as u64) as usize])).collect();
                format!("{{{c}, \"name\": \"Report on {}\", \"published\": \"{}\", \"report_types\": [\"threat-report\"], \"object_refs\": [{}]}}", rng.word(), rng.timestamp(), refs.join(", "))
            }
        };
        put(&mut w, ",\n");
        total = put(&mut w, &obj);
    }
    put(&mut w, "\n]}\n");
    w.flush().expect("flush the generated bundle");
}
