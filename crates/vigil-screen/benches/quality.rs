//! Quality and speed of screening, printed beside the peer's figures.
//!
//! Run: `cargo bench -p vigil-screen --bench quality`
//!
//! - the shipped 10k labelled list (always);
//! - the 100k list from the shared data folder, when present;
//! - a generated 1,000,000-entity list (seeded) for speed, build time and
//!   memory; skip it with `VIGIL_BENCH_SKIP_1M=1`.

use std::path::Path;
use std::time::Instant;

use serde_json::Value;
use vigil_screen::eval::{self, Scored};
use vigil_screen::{import, Config, Entity, Query, Screener, DEFAULT_THRESHOLD};

fn read_list(path: &Path) -> Vec<Entity> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let imp = import::read_ftm(std::io::BufReader::new(f), &path.display().to_string());
    for d in imp.diagnostics.iter().take(5) {
        eprintln!("{d}");
    }
    imp.entities
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU time of the calling thread in milliseconds (Linux; NaN elsewhere),
/// so that figures stay meaningful on a busy machine.
fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit(')').next()?.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after ")".
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks * 10.0)
        })
        .unwrap_or(f64::NAN)
}

fn peer(dir: &Path, n: &str) -> Option<Value> {
    let p = dir.join(format!("peer-nomenklatura/bench_list_N{n}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

fn evaluate(label: &str, list: &Path, eval_dir: &Path, peer_name: &str) {
    println!("\n== {label}: {} ==", list.display());
    let entities = read_list(list);
    let n = entities.len();
    let queries = read_list(&eval_dir.join("queries.ftm.jsonl"));
    let labels = std::fs::read_to_string(eval_dir.join("labels.jsonl")).expect("labels");
    let set = eval::load(&queries, &labels);
    let ceiling = eval::per_entry_ceiling(&entities, &set);
    let t = Instant::now();
    let screener = Screener::build(entities, Vec::new());
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let cpu = thread_cpu_ms();
    let scored: Vec<Scored> = eval::score_all(&screener, &set);
    let per_query_ms = t.elapsed().as_secs_f64() * 1000.0 / set.len() as f64;
    let per_query_cpu = (thread_cpu_ms() - cpu) / set.len() as f64;
    let at = eval::metrics(&screener, &scored, DEFAULT_THRESHOLD);
    let each = eval::metrics_per_entry(&screener, &scored, DEFAULT_THRESHOLD);
    let best = eval::best_f1(&screener, &scored);
    let peer_alerts = peer_grouped(eval_dir, peer_name, &scored, 0.70);
    let recall_k = eval::retrieval_recall(&scored);
    let peer = peer(eval_dir, peer_name);
    let pv = |path: &[&str]| -> String {
        let mut v = peer.as_ref();
        for p in path {
            v = v.and_then(|x| x.get(*p));
        }
        v.map(|x| match x {
            Value::Number(n) if n.is_u64() => n.to_string(),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() >= 1.0 => format!("{f:.0}"),
                Some(f) => format!("{f:.3}"),
                None => "-".into(),
            },
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "-".into())
    };
    let peer_at = ["algorithms", "logic-v2", "at_threshold"];
    let peer_best = peer
        .as_ref()
        .and_then(|p| p.pointer("/algorithms/logic-v2/sweep"))
        .and_then(Value::as_array)
        .and_then(|s| {
            s.iter()
                .filter_map(|x| Some((x.get("f1")?.as_f64()?, x.get("threshold")?.as_f64()?)))
                .max_by(|a, b| a.0.total_cmp(&b.0))
        });
    println!("{n} entities, {} labelled queries", set.len());
    println!("{:<36}{:>16}{:>24}", "", "vigil", "nomenklatura logic-v2");
    let row = |name: &str, ours: String, theirs: String| {
        println!("{name:<36}{ours:>16}{theirs:>24}");
    };
    row(
        "threshold",
        format!("{DEFAULT_THRESHOLD:.2}"),
        pv(&[peer_at[0], peer_at[1], peer_at[2], "threshold"]),
    );
    println!("per alert, as `vigil screen` and the hub report them (entries nothing in the query");
    println!(
        "tells apart are one alert; the peer's figure groups its equal scores in its top-10 file):"
    );
    for (name, ours, theirs) in [
        ("precision", at.precision, peer_alerts.map(|m| m.precision)),
        ("recall", at.recall, peer_alerts.map(|m| m.recall)),
        ("F1", at.f1, peer_alerts.map(|m| m.f1)),
    ] {
        row(
            name,
            format!("{ours:.3}"),
            theirs.map_or_else(|| "-".into(), |v| format!("{v:.3}")),
        );
    }
    row(
        "tp / fp / fn",
        format!("{}/{}/{}", at.tp, at.fp, at.fn_),
        peer_alerts.map_or_else(|| "-".into(), |m| format!("{}/{}/{}", m.tp, m.fp, m.fn_)),
    );
    row(
        "false alerts on an identical name",
        format!("{}", at.fp_same_name),
        "-".into(),
    );
    println!("per list entry (every entry raised counted; the peer's published figures):");
    for (name, ours, key) in [
        ("precision", each.precision, "precision"),
        ("recall", each.recall, "recall"),
        ("F1", each.f1, "f1"),
    ] {
        row(
            name,
            format!("{ours:.3}"),
            pv(&[peer_at[0], peer_at[1], peer_at[2], key]),
        );
    }
    row(
        "tp / fp / fn",
        format!("{}/{}/{}", each.tp, each.fp, each.fn_),
        format!(
            "{}/{}/{}",
            pv(&[peer_at[0], peer_at[1], peer_at[2], "tp"]),
            pv(&[peer_at[0], peer_at[1], peer_at[2], "fp"]),
            pv(&[peer_at[0], peer_at[1], peer_at[2], "fn"])
        ),
    );
    row(
        "false positives with identical name",
        format!("{}", each.fp_same_name),
        pv(&[peer_at[0], peer_at[1], peer_at[2], "fp_same_name"]),
    );
    println!(
        "  ceiling for any engine that raises alike what the query cannot tell apart:\n  \
         the {} listed parties share their name and their standing on every fact the queries give\n  \
         with {} other entries, so per-entry precision is at most {:.3} even at recall 1",
        ceiling.positives, ceiling.forced_fp, ceiling.precision
    );
    row(
        "best F1 (at threshold)",
        format!("{:.3} ({:.2})", best.f1, best.threshold),
        peer_best
            .map(|(f, t)| format!("{f:.3} ({t:.2})"))
            .unwrap_or_else(|| "-".into()),
    );
    row(
        "retrieval recall@50",
        format!("{recall_k:.4}"),
        pv(&["blocking", "recall_at_k"]),
    );
    row(
        "CPU ms per query (retrieval+scoring)",
        format!("{per_query_cpu:.3}"),
        format!(
            "{} + {}",
            pv(&["algorithms", "logic-v2", "timing", "cpu_ms_per_query_mean"]),
            pv(&["blocking", "cpu_ms_mean"])
        ),
    );
    row(
        "wall ms per query (retrieval+scoring)",
        format!("{per_query_ms:.3}"),
        format!(
            "{} + {}",
            pv(&["algorithms", "logic-v2", "timing", "ms_per_query_mean"]),
            pv(&["blocking", "ms_mean"])
        ),
    );
    row(
        "index build s",
        format!("{build:.2}"),
        pv(&["index_build_s"]),
    );
    let ours = eval::per_category(&screener, &scored, DEFAULT_THRESHOLD);
    println!("\nper category (correct/total at each engine's default threshold):");
    println!("{:<34}{:>14}{:>22}", "category", "vigil", "nomenklatura");
    for (cat, (ok, total)) in &ours {
        let theirs = pv(&["algorithms", "logic-v2", "per_category", cat]);
        println!("{cat:<34}{:>14}{theirs:>22}", format!("{ok}/{total}"));
    }
    if std::env::var_os("VIGIL_BENCH_MISSES").is_some() {
        print_misses(&screener, &scored);
    }
}

/// Prints every missed listed party and every false alert with its
/// explanation (set `VIGIL_BENCH_MISSES=1`).
fn print_misses(screener: &Screener, scored: &[Scored]) {
    for s in scored {
        let truth = s.labelled.truth.as_deref();
        let alerts = s.alerts(screener, DEFAULT_THRESHOLD);
        let is_truth = |i: usize| Some(s.candidates[i].entity_id.as_str()) == truth;
        let found = alerts.iter().any(|a| a.entries().any(is_truth));
        let missed = truth.is_some() && !found;
        let false_alerts: Vec<&vigil_screen::Alert> = alerts
            .iter()
            .filter(|a| !a.entries().any(is_truth))
            .collect();
        if !missed && false_alerts.is_empty() {
            continue;
        }
        let tscore = s
            .candidates
            .iter()
            .find(|m| Some(m.entity_id.as_str()) == truth);
        eprintln!(
            "{} {} {:?} truth={:?} {:?}",
            s.labelled.id,
            s.labelled.category,
            s.labelled.query.names,
            truth,
            tscore.map(|m| m.score),
        );
        for a in false_alerts {
            let m = &s.candidates[a.index];
            eprintln!(
                "    FALSE {} {:.2} (+{} tied) {}",
                m.entity_id,
                m.score,
                a.tied.len(),
                m.explanation
            );
        }
        if let Some(m) = tscore.filter(|_| missed) {
            eprintln!("    TRUTH {} {:.2} {}", m.entity_id, m.score, m.explanation);
        }
    }
}

/// The peer's precision, recall and F1 at `threshold` with its alerts of
/// equal score counted once, from its per-query top-10 scores file (a
/// lower bound on its false alerts: only ten candidates are kept).
fn peer_grouped(dir: &Path, n: &str, scored: &[Scored], threshold: f64) -> Option<eval::Metrics> {
    let file = format!("peer-nomenklatura/scores_list_N{n}_logic-v2.jsonl");
    let text = std::fs::read_to_string(dir.join(&file)).ok().or_else(|| {
        let shared = vigil_testkit::shared_data()?.join("screening");
        std::fs::read_to_string(shared.join(&file)).ok()
    })?;
    let truth: std::collections::HashMap<&str, Option<&str>> = scored
        .iter()
        .map(|s| (s.labelled.id.as_str(), s.labelled.truth.as_deref()))
        .collect();
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).ok()?;
        let id = v.get("query_id")?.as_str()?;
        let Some(t) = truth.get(id) else { continue };
        let mut groups: Vec<(f64, bool)> = Vec::new();
        for c in v.get("candidates")?.as_array()? {
            let cid = c.get(0)?.as_str()?;
            let score = c.get(1)?.as_f64()?;
            if score < threshold {
                continue;
            }
            let hit = Some(cid) == *t;
            match groups.iter_mut().find(|g| (g.0 - score).abs() < 1e-9) {
                Some(g) => g.1 |= hit,
                None => groups.push((score, hit)),
            }
        }
        fp += groups.iter().filter(|g| !g.1).count();
        if t.is_some() {
            if groups.iter().any(|g| g.1) {
                tp += 1;
            } else {
                fn_ += 1;
            }
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Some(eval::Metrics {
        threshold: threshold as f32,
        tp,
        fp,
        fp_same_name: 0,
        fn_,
        precision,
        recall,
        f1,
    })
}

/// A small seeded generator (xorshift64*), so the 1M list is the same on
/// every run without pulling in a random-number crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "te", "nor", "vel", "sa", "dri", "ton", "bel", "cor", "an", "is", "un",
    "ve", "zo", "par", "quin", "mar", "el", "os", "tri", "gal", "fen", "ri", "do", "lex", "hu",
    "ya",
];
const GIVEN: &[&str] = &[
    "Anna", "Omar", "Igor", "Maria", "Chen", "Ahmed", "Sofia", "Ivan", "Elena", "David", "Yusuf",
    "Olga", "Pierre", "Lucia", "Tomas", "Fatima", "Kenji", "Noor", "Pavel", "Ines",
];
const WORDS: &[&str] = &[
    "Technologies",
    "Systems",
    "Security",
    "Networks",
    "Holdings",
    "Digital",
    "Solutions",
    "Research",
    "Defence",
    "Telecom",
    "Data",
    "Labs",
];
const FORMS: &[&str] = &[
    "Ltd", "S.A.", "GmbH", "LLC", "AG", "OOO", "Kft.", "S.r.l.", "Inc.",
];

fn invented(rng: &mut Rng) -> String {
    let n = 2 + rng.next() % 2;
    let mut s: String = (0..n).map(|_| rng.pick(SYLLABLES)).collect();
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

fn generate(n: usize, seed: u64) -> Vec<Entity> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            if rng.next() % 2 == 0 {
                let name = format!(
                    "{} {} {}",
                    rng.pick(GIVEN),
                    invented(&mut rng),
                    invented(&mut rng)
                );
                Entity {
                    id: format!("G{i:07}"),
                    schema: "Person".into(),
                    names: vec![name],
                    birth_dates: vec![format!("{}", 1940 + rng.next() % 65)],
                    ..Entity::default()
                }
            } else {
                let name = format!(
                    "{} {} {}",
                    invented(&mut rng),
                    rng.pick(WORDS),
                    rng.pick(FORMS)
                );
                Entity {
                    id: format!("G{i:07}"),
                    schema: "Company".into(),
                    names: vec![name],
                    ..Entity::default()
                }
            }
        })
        .collect()
}

fn typo(s: &str, rng: &mut Rng) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() > 3 {
        let i = 1 + (rng.next() as usize % (c.len() - 2));
        c.swap(i, i - 1);
    }
    c.into_iter().collect()
}

fn million() {
    let n: usize = std::env::var("VIGIL_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!("\n== generated list: {n} entities (seeded) ==");
    let before = rss_mb();
    let entities = generate(n, 0x5eed);
    let queries: Vec<Query> = {
        let mut rng = Rng(7);
        (0..2000)
            .map(|_| {
                let e = &entities[(rng.next() % n as u64) as usize];
                let mut q = Query::name(&typo(&e.names[0], &mut rng));
                q.schema = e.schema.clone();
                q
            })
            .collect()
    };
    let t = Instant::now();
    let screener = Screener::build(entities, Vec::new());
    let build = t.elapsed().as_secs_f64();
    let after = rss_mb();
    println!("index build: {build:.1} s (budget 60 s); resident memory {after:.0} MB (list + index; {:.0} MB before build; budget 2048 MB)", before);
    let t = Instant::now();
    let cpu = thread_cpu_ms();
    let mut hits = 0;
    for q in &queries {
        hits += usize::from(!screener.match_query(q, DEFAULT_THRESHOLD).is_empty());
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0 / queries.len() as f64;
    let cpu_ms = (thread_cpu_ms() - cpu) / queries.len() as f64;
    println!(
        "single core: {cpu_ms:.3} CPU ms ({ms:.3} wall ms) per query end to end (budget 1 ms); {hits}/{} typo queries alerted",
        queries.len()
    );
    let batch = 20_000usize;
    let t = Instant::now();
    let cpu = process_cpu_s();
    let chunk: Vec<Query> = (0..batch)
        .map(|i| queries[i % queries.len()].clone())
        .collect();
    std::thread::scope(|s| {
        for part in chunk.chunks(batch / 2) {
            let screener = &screener;
            s.spawn(move || {
                for q in part {
                    std::hint::black_box(screener.match_query(q, DEFAULT_THRESHOLD));
                }
            });
        }
    });
    let secs = t.elapsed().as_secs_f64();
    let cpu = process_cpu_s() - cpu;
    // On a shared machine wall time depends on the other load; the CPU
    // time the two threads consumed, divided by two, is what two free
    // cores would take.
    println!(
        "batch of {batch} on 2 threads: {cpu:.1} CPU s ({secs:.1} s wall) → 1,000,000 parties ≈ {:.1} min on two cores ({:.1} min wall here)",
        cpu * 1_000_000.0 / batch as f64 / 2.0 / 60.0,
        secs * 1_000_000.0 / batch as f64 / 60.0
    );
}

/// CPU time (user + system) of the whole process in seconds (Linux).
fn process_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit(')').next()?.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// Calibration of the scorer's global weights on the shipped list (run
/// with `VIGIL_BENCH_TUNE=1`): prints the best F1 per setting.
fn tune(shipped: &Path) {
    let list = std::env::var_os("VIGIL_BENCH_TUNE_LIST")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| shipped.join("list_N10000.ftm.jsonl"));
    let entities = read_list(&list);
    let queries = read_list(&shipped.join("queries.ftm.jsonl"));
    let labels = std::fs::read_to_string(shipped.join("labels.jsonl")).expect("labels");
    let set = eval::load(&queries, &labels);
    for country in [0.85f32, 0.75] {
        for margin in [0.05f32, 0.1, 0.2, 1.0] {
            for conflict in [0.9f32, 1.3] {
                let cfg = Config {
                    country_mismatch: country,
                    margin,
                    conflict_part: conflict,
                    ..Config::default()
                };
                let s = Screener::with_config(entities.clone(), Vec::new(), cfg);
                let scored = eval::score_all(&s, &set);
                let b = eval::best_f1(&s, &scored);
                let at = eval::metrics(&s, &scored, DEFAULT_THRESHOLD);
                println!(
                    "country {country} margin {margin} conflict {conflict}: best F1 {:.3} at {:.2} (P {:.3} R {:.3}); at default {:.3}",
                    b.f1, b.threshold, b.precision, b.recall, at.f1
                );
            }
        }
    }
}

fn main() {
    let root = vigil_testkit::workspace_root();
    let shipped = root.join("data/screening/eval");
    if std::env::var_os("VIGIL_BENCH_TUNE").is_some() {
        tune(&shipped);
        return;
    }
    evaluate(
        "10k list (shipped; the scorer's weights were calibrated on it)",
        &shipped.join("list_N10000.ftm.jsonl"),
        &shipped,
        "10000",
    );
    if std::env::var_os("VIGIL_BENCH_SKIP_100K").is_some() {
        println!("\n100k list: skipped (VIGIL_BENCH_SKIP_100K)");
    } else if let Some(shared) = vigil_testkit::shared_data() {
        let big = shared.join("screening/list_N100000.ftm.jsonl");
        if big.exists() {
            evaluate(
                "100k list (shared data; held out: no weight was set on it)",
                &big,
                &shipped,
                "100000",
            );
        }
    } else {
        println!("\n100k list: skipped (no shared data folder)");
    }
    if std::env::var_os("VIGIL_BENCH_SKIP_1M").is_none() {
        million();
    }
}
