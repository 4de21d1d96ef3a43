//! Golden diagnostics for the crafted corpus: each `corpus/NAME.json` has a
//! `corpus/NAME.expected` with our verdict and every diagnostic. Run with
//! `UPDATE_GOLDEN=1` to rewrite them after an intended change, then review
//! the diff.

use std::fmt::Write;

use crate::{corpus_files, validator};

fn render(report: &vigil_validate::Report) -> String {
    let mut s = String::new();
    let verdict = if report.is_valid() {
        "valid"
    } else {
        "invalid"
    };
    let _ = writeln!(s, "{verdict}");
    for d in &report.diagnostics {
        let _ = writeln!(s, "{d}");
    }
    s
}

#[test]
fn corpus_diagnostics_match_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let v = validator(false);
    let mut mismatches = Vec::new();
    let files = corpus_files();
    assert!(files.len() >= 150);
    for file in files {
        let bytes = std::fs::read(&file).expect("read case");
        let got = render(&v.validate_bytes(&bytes));
        let expected_path = file.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &got).expect("write golden file");
            continue;
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if want != got {
            mismatches.push(format!(
                "{}:\n--- expected\n{want}--- got\n{got}",
                file.display()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} golden mismatches (UPDATE_GOLDEN=1 to accept):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Every case whose name starts with `ok-` is a valid, warning-free object:
/// the base objects the mutations start from must be clean, or a mutation
/// case would not test what its name says.
#[test]
fn base_objects_are_clean() {
    let v = validator(true);
    for file in corpus_files() {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !name.starts_with("ok-") {
            continue;
        }
        let report = v.validate_bytes(&std::fs::read(&file).expect("read case"));
        assert!(
            report.diagnostics.is_empty(),
            "{name}: {:?}",
            report.diagnostics
        );
    }
}
