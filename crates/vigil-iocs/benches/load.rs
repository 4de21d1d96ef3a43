//! Loading and lookup benchmarks for indicator sets.
//!
//! `cargo bench -p vigil-iocs --bench load` generates seeded indicator files
//! under `target/bench-data/` (1,000,000 domains as a text list and as a STIX
//! bundle, 100 and 100,000 as STIX), times loading them and building the
//! matcher, times lookups against 100 and 1,000,000 indicators (the cost must
//! not grow with the count), and, when the interop Python is present, times
//! MVT's loader on the 100,000-indicator bundle in the same run and prints the
//! ratio.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vigil_iocs::{load_file, Matcher, ObservableKind};
use vigil_netlog::synth::Rng;

fn domain(rng: &mut Rng, i: usize) -> String {
    let tld = ["com", "net", "org", "info", "xyz"][i % 5];
    format!("{}{i}.{tld}", rng.word(8))
}

fn write_text(path: &Path, n: usize) {
    let mut rng = Rng(7);
    let mut s = String::from("# spyware: BenchSpy\n");
    for i in 0..n {
        s.push_str(&domain(&mut rng, i));
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

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("at least one run"))
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

fn main() {
    let dir = vigil_testkit::workspace_root().join("target/bench-data/iocs");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let file = |name: &str| -> PathBuf { dir.join(name) };
    let (t1m_txt, t1m_stix, t100k, t100) = (
        file("domains-1m.txt"),
        file("domains-1m.stix2"),
        file("domains-100k.stix2"),
        file("domains-100.stix2"),
    );
    if !t1m_txt.exists() {
        write_text(&t1m_txt, 1_000_000);
        write_stix(&t1m_stix, 1_000_000);
        write_stix(&t100k, 100_000);
        write_stix(&t100, 100);
    }

    let (d, m1m) = best_of(3, || load_and_build(&t1m_txt));
    println!(
        "load+build 1,000,000 domains (text list):  {:>8.3} s",
        d.as_secs_f64()
    );
    let (d, _) = best_of(3, || load_and_build(&t1m_stix));
    println!(
        "load+build 1,000,000 domains (STIX 2.1):   {:>8.3} s",
        d.as_secs_f64()
    );
    let (ours_100k, _) = best_of(3, || load_and_build(&t100k));
    println!(
        "load+build   100,000 domains (STIX 2.1):   {:>8.3} s",
        ours_100k.as_secs_f64()
    );
    let (_, m100) = best_of(1, || load_and_build(&t100));

    // Lookups: subdomains of random names, a few of them listed.
    let mut rng = Rng(99);
    let queries: Vec<String> = (0..1_000_000)
        .map(|i| {
            if i % 1000 == 0 {
                format!("cdn.{}", domain(&mut Rng(7), 0))
            } else {
                format!("www.{}.{}.com", rng.word(6), rng.word(10))
            }
        })
        .collect();
    let (d100, h100) = best_of(3, || lookups(&m100, &queries));
    let (d1m, h1m) = best_of(3, || lookups(&m1m, &queries));
    println!(
        "1,000,000 domain lookups: {:.1} ns each with 100 indicators ({h100} hits), {:.1} ns with 1,000,000 ({h1m} hits); ratio {:.2}",
        d100.as_nanos() as f64 / 1e6,
        d1m.as_nanos() as f64 / 1e6,
        d1m.as_secs_f64() / d100.as_secs_f64()
    );

    // MVT's loader on the same 100,000-indicator bundle.
    let Some(python) = vigil_testkit::python() else {
        println!("MVT comparison skipped: no interop Python");
        return;
    };
    let script = "import sys,time,logging\nlogging.disable(logging.CRITICAL)\nfrom mvt.common.indicators import Indicators\nt=time.perf_counter()\ni=Indicators()\ni.parse_stix2(sys.argv[1])\nprint(time.perf_counter()-t, i.total_ioc_count)";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&t100k)
        .output()
        .expect("run MVT");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    match (
        parts.next().and_then(|s| s.parse::<f64>().ok()),
        parts.next(),
    ) {
        (Some(mvt), Some(count)) => println!(
            "MVT Indicators.parse_stix2, 100,000 domains: {mvt:.3} s ({count} loaded); vigil is {:.0}x faster",
            mvt / ours_100k.as_secs_f64()
        ),
        _ => println!(
            "MVT comparison failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
