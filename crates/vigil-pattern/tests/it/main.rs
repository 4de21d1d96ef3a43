//! Integration tests of the pattern crate: one binary, one module per area.

mod compile;
mod differential;
mod eval;
mod gen;
mod indicators;
mod parse;

/// Reads a file of `test_data/`.
pub fn test_data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The pattern examples of the STIX 2.1 specification, one per line.
pub fn spec_examples() -> Vec<String> {
    test_data("spec_examples_v21.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}
