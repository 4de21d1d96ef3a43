//! Loading and lookup benchmarks for indicator sets.
//!
//! `cargo bench -p vigil-iocs --bench load` generates seeded indicator files
//! under `target/bench-data/` (1,000,000 domains as a text list and as a STIX
//! bundle, 100 and 100,000 as STIX), times loading them and building the
//! matcher — wall time, CPU time of all threads, indicators per second and
//! peak resident memory of each load — and reading the 1,000,000-domain
//! bundle's compiled form (`Matcher::from_compiled`), times lookups against 100 and
//! 1,000,000 indicators (the cost must not grow with the count) — one at a
//! time and in batches of 64 as the log readers hand them over — and, when the
//! interop Python is present, times MVT's loader in the same run on a bundle
//! of `VIGIL_BENCH_MVT_IOCS` indicators (default 20,000: MVT's loader grows
//! quadratically, 100,000 take it minutes) and prints the ratio.
//!
//! Last, it times lookups against sets of 100 to 4,000,000 domains, of two
//! labels and then of two to four (three parent domains looked up per
//! name), to show where the cost per lookup steps up as the tables leave the
//! processor's caches.
//!
//! `VIGIL_BENCH_ONLY=lookup` runs only the compiled form and the lookups, on
//! the matcher built from the 1,000,000-domain text list (a quick run);
//! `VIGIL_BENCH_ONLY=sweep` only the lookups by set size.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use vigil_iocs::{load_file, Matcher, ObservableKind};

/// Xorshift64: seeded names for the generated sets.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn word(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| (b'a' + (self.next_u64() % 26) as u8) as char)
            .collect()
    }
}

fn domain(rng: &mut Rng, i: usize) -> String {
    let tld = ["com", "net", "org", "info", "xyz"][i % 5];
    format!("{}{i}.{tld}", rng.word(8))
}

/// Names of two, three and four labels in turn (registered domains and their subdomains).
fn domain_mixed(rng: &mut Rng, i: usize) -> String {
    let base = domain(rng, i);
    match i % 3 {
        0 => base,
        1 => format!("{}.{base}", rng.word(5)),
        _ => format!("{}.{}.{base}", rng.word(3), rng.word(5)),
    }
}

fn write_text(path: &Path, n: usize) {
    write_text_with(path, n, domain);
}

fn write_text_with(path: &Path, n: usize, name: fn(&mut Rng, usize) -> String) {
    let mut rng = Rng(7);
    let mut s = String::from("# spyware: BenchSpy\n");
    for i in 0..n {
        s.push_str(&name(&mut rng, i));
        s.push('\n');
    }
    std::fs::write(path, s).expect("write bench data");
}

fn write_stix(path: &Path, n: usize) {
    let mut rng = Rng(7);
    let mut s = String::from(
        r#"{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"BenchSpy","is_family":false}"#,
    );
    for i in 0..n {
        let d = domain(&mut rng, i);
        let _ = write!(
            s,
            r#",{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{i:012}","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","indicator_types":["malicious-activity"],"pattern":"[domain-name:value='{d}']","pattern_type":"stix","pattern_version":"2.1","valid_from":"2024-01-01T00:00:00Z"}},{{"type":"relationship","spec_version":"2.1","id":"relationship--00000000-0000-4000-8000-{i:012}","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","relationship_type":"indicates","source_ref":"indicator--00000000-0000-4000-8000-{i:012}","target_ref":"malware--00000000-0000-4000-8000-000000000001"}}"#
        );
    }
    s.push_str("]}");
    std::fs::write(path, s).expect("write bench data");
}

/// Wall time, CPU time (user + system, all threads) and peak resident memory of one run.
struct Cost {
    wall: f64,
    cpu: f64,
    peak_rss_mb: f64,
}

/// CPU nanoseconds the calling thread has used so far (`/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resets the kernel's peak-RSS mark (`VmHWM`) so the next reading covers only what follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Runs `f` `runs` times and keeps the fastest run's cost (the machine is shared).
fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> (Cost, T) {
    let mut best: Option<Cost> = None;
    let mut last = None;
    for _ in 0..runs {
        drop(last.take());
        reset_peak_rss();
        let (t, c) = (Instant::now(), vigil_testkit::own_cpu_secs());
        let v = f();
        let cost = Cost {
            wall: t.elapsed().as_secs_f64(),
            cpu: vigil_testkit::own_cpu_secs() - c,
            peak_rss_mb: peak_rss_mb(),
        };
        if best.as_ref().is_none_or(|b| cost.wall < b.wall) {
            best = Some(cost);
        }
        last = Some(v);
    }
    (
        best.expect("at least one run"),
        last.expect("at least one run"),
    )
}

fn report(what: &str, n: usize, c: &Cost) {
    println!(
        "{what:<44} {:>7.3} s wall {:>7.3} s CPU  {:>11.0} indicators/s  {:>11.0} per CPU-s  peak RSS {:>6.0} MB",
        c.wall,
        c.cpu,
        n as f64 / c.wall,
        n as f64 / c.cpu.max(0.01),
        c.peak_rss_mb
    );
}

fn load_and_build(path: &Path) -> Matcher {
    let set = load_file(path).expect("load");
    Matcher::new(vec![set])
}

fn lookups(m: &Matcher, queries: &[String]) -> usize {
    queries
        .iter()
        .filter(|q| m.is_match(ObservableKind::Domain, q))
        .count()
}

/// The same lookups, handed to the matcher 64 at a time ([`Matcher::is_match_each`], as the log readers do).
fn lookups_batched(m: &Matcher, queries: &[String]) -> usize {
    let mut batch = Vec::with_capacity(64);
    let mut matched = [false; 64];
    let mut hits = 0;
    for chunk in queries.chunks(64) {
        batch.clear();
        batch.extend(chunk.iter().map(|q| (ObservableKind::Domain, q.as_str())));
        m.is_match_each(&batch, &mut matched[..chunk.len()]);
        hits += matched[..chunk.len()].iter().filter(|h| **h).count();
    }
    hits
}

/// Writes the compiled form of `m` (built from `source`) and times reading it back.
fn compiled(m: &Matcher, source: &Path) {
    // The compiled form `vigil scan` keeps beside a large file: written once, read by every later scan.
    let stamp = vigil_iocs::SourceStamp::of_file(source).expect("stamp");
    let (c, bytes) = measure(1, || m.to_compiled(stamp).expect("one set"));
    report("1,000,000 domains, compiled form written", 1_000_000, &c);
    let (c, _) = measure(3, || {
        Matcher::from_compiled(&bytes, stamp, source).expect("reads back")
    });
    report(
        &format!("1,000,000 domains, compiled ({} MB)", bytes.len() >> 20),
        1_000_000,
        &c,
    );
    // What a scan does: read the file, keep its bytes for the records.
    let file = source.with_extension("bench-compiled");
    std::fs::write(&file, &bytes).expect("write compiled form");
    drop(bytes);
    let (c, m) = measure(3, || {
        let b = std::fs::read(&file).expect("read compiled form");
        Matcher::from_compiled_vec(b, stamp, source).expect("reads back")
    });
    report("  the same, read from its file (as a scan)", 1_000_000, &c);
    let (c, _) = measure(1, || m.sets().len());
    report("  then every record decoded (sets())", 1_000_000, &c);
    let _ = std::fs::remove_file(&file);
}

/// A million lookups: subdomains of random names, one in a thousand of a
/// listed one (the first name of every generated set). With `deeper`, each
/// name has one more label: against indicators of two to four labels, it has
/// three parent domains to look up.
fn lookup_queries(deeper: bool) -> Vec<String> {
    let mut rng = Rng(99);
    (0..1_000_000)
        .map(|i| {
            if i % 1000 == 0 {
                format!("cdn.{}", domain(&mut Rng(7), 0))
            } else {
                let extra = if deeper {
                    rng.word(3) + "."
                } else {
                    String::new()
                };
                format!("www.{extra}{}.{}.com", rng.word(6), rng.word(10))
            }
        })
        .collect()
}

/// The best of three passes of `run` over `queries`: wall and CPU
/// nanoseconds (this thread's) per lookup, and the hits.
fn time_lookups(
    m: &Matcher,
    queries: &[String],
    run: fn(&Matcher, &[String]) -> usize,
) -> (f64, f64, usize) {
    let mut best = (f64::MAX, f64::MAX, 0);
    for _ in 0..3 {
        let (t, c) = (Instant::now(), thread_cpu_ns());
        let hits = run(m, queries);
        let cpu = (thread_cpu_ns() - c) as f64 / queries.len() as f64;
        let wall = t.elapsed().as_secs_f64() * 1e9 / queries.len() as f64;
        best = (best.0.min(wall), best.1.min(cpu), hits);
    }
    best
}

/// Lookup cost against sets from 100 to 4,000,000 domains (text lists
/// generated in `dir`): the work per lookup is the same at every size, so
/// what changes is only where in the memory hierarchy the filter and slots
/// sit.
///
/// Then the same with indicators of two to four labels (a third each), so
/// that each lookup checks three parent domains of the observed name.
fn lookup_sweep(dir: &Path) {
    type Name = fn(&mut Rng, usize) -> String;
    for (what, file, name, queries) in [
        (
            "two labels",
            "domains-sweep",
            domain as Name,
            lookup_queries(false),
        ),
        (
            "two to four labels",
            "domains-mixed",
            domain_mixed,
            lookup_queries(true),
        ),
    ] {
        println!("CPU ns per domain lookup by number of indicators of {what} (best of 3; one at a time / in batches of 64):");
        for n in [100, 10_000, 100_000, 1_000_000, 4_000_000] {
            let path = dir.join(format!("{file}-{n}.txt"));
            if !path.exists() {
                write_text_with(&path, n, name);
            }
            let m = load_and_build(&path);
            let (_, one, h1) = time_lookups(&m, &queries, lookups);
            let (_, batched, h2) = time_lookups(&m, &queries, lookups_batched);
            assert_eq!(h1, h2, "batched and single lookups disagree");
            println!("  {n:>9} indicators: {one:>6.1} / {batched:>6.1} ns ({h1} hits)");
        }
    }
}

/// Times a million domain lookups against 100 and against `m1m`'s indicators.
fn lookup_ratio(m1m: &Matcher, t100: &Path) {
    let (_, m100) = measure(1, || load_and_build(t100));
    let queries = lookup_queries(false);
    // Best of three passes each, alternating, CPU time of this thread in nanoseconds.
    for (what, run) in [
        (
            "one at a time (is_match)",
            lookups as fn(&Matcher, &[String]) -> usize,
        ),
        ("in batches of 64 (is_match_each)", lookups_batched),
    ] {
        let mut best = [(f64::MAX, f64::MAX, 0); 2];
        for _ in 0..3 {
            for (b, m) in best.iter_mut().zip([&m100, m1m]) {
                let (t, c) = (Instant::now(), thread_cpu_ns());
                let hits = run(m, &queries);
                let cpu = (thread_cpu_ns() - c) as f64 / queries.len() as f64;
                let wall = t.elapsed().as_secs_f64() * 1e9 / queries.len() as f64;
                *b = (b.0.min(wall), b.1.min(cpu), hits);
            }
        }
        let [(w100, c100, h100), (w1m, c1m, h1m)] = best;
        println!(
            "1,000,000 domain lookups {what}: {w100:.1} ns each with 100 indicators ({h100} hits), {w1m:.1} ns with 1,000,000 ({h1m} hits); ratio {:.2}; CPU {c100:.1} / {c1m:.1} ns, ratio {:.2}",
            w1m / w100,
            c1m / c100,
        );
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("load bench: skipped (run with cargo bench)");
        return;
    }
    let mvt_n: usize = std::env::var("VIGIL_BENCH_MVT_IOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = vigil_testkit::workspace_root().join("target/bench-data/iocs");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let file = |name: &str| -> PathBuf { dir.join(name) };
    let (t1m_txt, t1m_stix, t100k, t100, tmvt) = (
        file("domains-1m.txt"),
        file("domains-1m.stix2"),
        file("domains-100k.stix2"),
        file("domains-100.stix2"),
        file(&format!("domains-{mvt_n}.stix2")),
    );
    if !t1m_txt.exists() {
        write_text(&t1m_txt, 1_000_000);
        write_stix(&t1m_stix, 1_000_000);
        write_stix(&t100k, 100_000);
        write_stix(&t100, 100);
    }
    if !tmvt.exists() {
        write_stix(&tmvt, mvt_n);
    }
    if std::env::var("VIGIL_BENCH_ONLY").as_deref() == Ok("sweep") {
        lookup_sweep(&dir);
        return;
    }
    if std::env::var("VIGIL_BENCH_ONLY").as_deref() == Ok("lookup") {
        if !t1m_txt.exists() || !t100.exists() {
            write_text(&t1m_txt, 1_000_000);
            write_stix(&t100, 100);
        }
        let (c, m1m) = measure(1, || load_and_build(&t1m_txt));
        report("1,000,000 domains, text list", 1_000_000, &c);
        compiled(&m1m, &t1m_txt);
        lookup_ratio(&m1m, &t100);
        drop(m1m);
        lookup_sweep(&dir);
        return;
    }
    println!(
        "load + build the matcher, best of 3 ({} cores):",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let (c, m1m) = measure(3, || load_and_build(&t1m_txt));
    report("1,000,000 domains, text list", 1_000_000, &c);
    drop(m1m);
    let (c, m1m) = measure(3, || load_and_build(&t1m_stix));
    report("1,000,000 domains, STIX 2.1 bundle (666 MB)", 1_000_000, &c);
    compiled(&m1m, &t1m_stix);
    let (c, _) = measure(3, || load_and_build(&t100k));
    report("100,000 domains, STIX 2.1 bundle", 100_000, &c);
    let (ours_mvt, _) = measure(3, || load_and_build(&tmvt));
    report(
        &format!("{mvt_n} domains, STIX 2.1 bundle"),
        mvt_n,
        &ours_mvt,
    );
    lookup_ratio(&m1m, &t100);
    drop(m1m);
    lookup_sweep(&dir);

    // MVT's loader on a bundle of the same shape; it grows quadratically with
    // the number of indicators (every indicator scans the relationships), so
    // the size is capped (VIGIL_BENCH_MVT_IOCS, default 20,000).
    let Some(python) = vigil_testkit::python() else {
        println!("MVT comparison skipped: no interop Python");
        return;
    };
    let script = "import sys,time,logging\nlogging.disable(logging.CRITICAL)\nfrom mvt.common.indicators import Indicators\nt=time.perf_counter()\ni=Indicators()\ni.parse_stix2(sys.argv[1])\nprint(time.perf_counter()-t, i.total_ioc_count)";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&tmvt)
        .output()
        .expect("run MVT");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    match (
        parts.next().and_then(|s| s.parse::<f64>().ok()),
        parts.next(),
    ) {
        (Some(mvt), Some(count)) => println!(
            "MVT Indicators.parse_stix2, {mvt_n} domains: {mvt:.3} s ({count} loaded); vigil {:.3} s, {:.0}x faster",
            ours_mvt.wall,
            mvt / ours_mvt.wall
        ),
        _ => println!(
            "MVT comparison failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
