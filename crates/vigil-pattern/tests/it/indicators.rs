//! The real indicator sets shipped in `data/indicators`: every pattern
//! parses, prints back to itself, and lowers to facts for the scanner.

use vigil_pattern::{compile, parse, Compiled};

/// Every `pattern` of the project's STIX indicator bundles.
pub fn real_patterns() -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "stix2") {
                let text = std::fs::read_to_string(&p).unwrap();
                let v: serde_json::Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                for o in v["objects"].as_array().into_iter().flatten() {
                    if let Some(s) = o["pattern"].as_str() {
                        out.push(s.to_string());
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &vigil_testkit::workspace_root().join("data/indicators"),
        &mut out,
    );
    out
}

#[test]
fn every_real_indicator_parses_round_trips_and_lowers_to_facts() {
    let patterns = real_patterns();
    assert!(
        patterns.len() > 5000,
        "indicator sets missing: {}",
        patterns.len()
    );
    let mut facts = 0;
    for src in &patterns {
        let p = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(parse(&p.to_string()).as_ref(), Ok(&p), "{src}");
        match compile(&p) {
            Compiled::Facts(f) => facts += f.len(),
            Compiled::General { reason } => panic!("{src} needs the evaluator: {reason}"),
        }
    }
    eprintln!("{} indicator patterns, {facts} facts", patterns.len());
}
