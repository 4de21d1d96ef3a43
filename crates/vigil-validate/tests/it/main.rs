//! Integration tests of vigil-validate: golden diagnostics for the crafted
//! corpus, verdicts against the OASIS reference validator, streaming
//! behaviour on large and broken bundles.

mod differential;
mod golden;
mod streaming;

use std::path::{Path, PathBuf};

/// The crafted corpus: one JSON document per case.
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("test_data/corpus exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// The real indicator sets copied into the project (data/indicators).
pub fn indicator_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = vigil_testkit::workspace_root().join("data/indicators");
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "stix2" || x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The validator as the CLI configures it: with the STIX pattern grammar.
pub fn validator(strict: bool) -> vigil_validate::Validator {
    vigil_validate::Validator::new(vigil_validate::Options::with_stix_patterns(strict))
}
