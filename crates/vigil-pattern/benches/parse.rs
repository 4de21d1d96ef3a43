//! Parse and compile throughput on the project's real indicator patterns
//! (every `pattern` of `data/indicators/**/*.stix2`), and the same patterns
//! through `stix2-patterns` in the same run when the interop Python is
//! present. Prints patterns per second and the ratio; asserts nothing.
//!
//! Run: `cargo bench -p vigil-pattern --bench parse`

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "stix2") {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            for o in v["objects"].as_array().into_iter().flatten() {
                if let Some(s) = o["pattern"].as_str() {
                    out.push(s.to_string());
                }
            }
        }
    }
}

fn main() {
    let root = vigil_testkit::workspace_root();
    let mut patterns = Vec::new();
    collect(&root.join("data/indicators"), &mut patterns);
    if patterns.is_empty() {
        eprintln!("no indicator patterns found under data/indicators");
        return;
    }
    let rounds = 20;
    let start = Instant::now();
    let mut facts = 0usize;
    for _ in 0..rounds {
        for p in &patterns {
            if let Ok(parsed) = vigil_pattern::parse(black_box(p)) {
                if let vigil_pattern::Compiled::Facts(f) = vigil_pattern::compile(&parsed) {
                    facts += f.len();
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let ours = (patterns.len() * rounds) as f64 / secs;
    println!(
        "vigil-pattern parse+compile: {} patterns x {rounds} in {secs:.3} s = {ours:.0} patterns/s ({} facts per round)",
        patterns.len(),
        facts / rounds
    );

    let Some(python) = vigil_testkit::python() else {
        return;
    };
    let script = "import sys, json, time\n\
from stix2patterns.validator import run_validator\n\
ps = [json.loads(l) for l in sys.stdin]\n\
t = time.perf_counter()\n\
for p in ps: run_validator(p, '2.1')\n\
print(len(ps) / (time.perf_counter() - t))\n";
    let input: String = patterns
        .iter()
        .map(|p| format!("{}\n", serde_json::Value::from(p.as_str())))
        .collect();
    let mut child = match std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stix2-patterns baseline skipped: {e}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(input.as_bytes());
    }
    let Ok(out) = child.wait_with_output() else {
        return;
    };
    let theirs: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0);
    if theirs > 0.0 {
        println!("stix2-patterns 2.1.2 validate: {theirs:.0} patterns/s");
        println!(
            "ratio: vigil-pattern is {:.1}x stix2-patterns",
            ours / theirs
        );
    }
}
