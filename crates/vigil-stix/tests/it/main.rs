//! Integration tests of the STIX model: one binary, one module per area.

mod identifier;
mod interop;
mod markings;
mod model;
mod reader;
mod sco_id;
mod spec;
mod timestamp;
mod versioning;

use std::path::PathBuf;

/// Every STIX bundle under `data/indicators`, sorted.
pub fn indicator_files() -> Vec<PathBuf> {
    let root = vigil_testkit::workspace_root().join("data/indicators");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("data/indicators is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "stix2") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(
        out.len() >= 15,
        "expected the indicator corpora, found {}",
        out.len()
    );
    out
}
