//! The README's "Exports, search and screening over HTTP" tour, run as
//! written: every `$ curl …` line of that section is run by `sh` against a
//! fresh `vigil serve` (its address in place of 127.0.0.1:8080, `$TOKEN`
//! the admin token), must succeed, and must print what the README shows
//! (`…` stands for omitted text). The RPZ file it writes is checked by
//! BIND's `named-checkzone` when installed.

use std::path::Path;
use std::process::Command;

mod hubproc;

const SECTION: &str = "#### Exports, search and screening over HTTP";

/// A command of the tour and the output lines the README shows for it.
#[derive(Debug)]
struct Step {
    command: String,
    expected: Vec<String>,
}

/// The `$ ` commands (with `\` continuations) of the section's console blocks.
fn steps(readme: &str) -> Vec<Step> {
    let start = readme
        .find(SECTION)
        .unwrap_or_else(|| panic!("README.md has no {SECTION:?} section"));
    let mut out: Vec<Step> = Vec::new();
    let mut in_block = false;
    let mut continuing = false;
    for line in readme[start + SECTION.len()..].lines() {
        if !in_block && line.starts_with('#') {
            break;
        }
        if line.starts_with("```") {
            in_block = !in_block && line.trim() == "```console";
            continuing = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if continuing {
            let step = out.last_mut().unwrap();
            step.command.push('\n');
            step.command.push_str(line);
            continuing = line.ends_with('\\');
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            out.push(Step {
                command: cmd.to_string(),
                expected: Vec::new(),
            });
            continuing = line.ends_with('\\');
        } else if let Some(step) = out.last_mut() {
            step.expected.push(line.to_string());
        }
    }
    out
}

/// Whether `actual` shows `expected`, where `…` stands for any text.
fn shows(actual: &str, expected: &str) -> bool {
    let mut rest = actual;
    for (i, piece) in expected.split('…').enumerate() {
        match rest.find(piece) {
            Some(at) if i > 0 || at == 0 => rest = &rest[at + piece.len()..],
            _ => return false,
        }
    }
    expected.ends_with('…') || rest.is_empty()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_readme_http_tour_runs_as_written() {
    if !have("curl") {
        assert!(
            std::env::var("VIGIL_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "VIGIL_REQUIRE_INTEROP=1 but curl is not installed"
        );
        eprintln!("skipped: curl is not installed");
        return;
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let steps = steps(&readme);
    assert!(steps.len() >= 6, "{steps:?}");
    let dir = hubproc::temp_dir("readme_hub_tour");
    let hub = hubproc::start(&dir);
    for step in &steps {
        let command = step
            .command
            .replace("http://127.0.0.1:8080", &format!("http://{}", hub.addr));
        let out = Command::new("sh")
            .args(["-c", &command])
            .current_dir(&dir)
            .env(
                "TOKEN",
                hub.token
                    .as_deref()
                    .expect("a fresh hub prints its admin token"),
            )
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command}\n{stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), step.expected.len(), "{command}\n{stdout}");
        for (actual, expected) in lines.iter().zip(&step.expected) {
            assert!(
                shows(actual, expected),
                "{command}\nexpected: {expected}\nactual:   {actual}"
            );
        }
    }
    let zone = std::fs::read_to_string(dir.join("spyware.rpz")).unwrap();
    assert!(zone.contains("$ORIGIN rpz.vigil."), "{zone:.300}");
    if have("named-checkzone") {
        let out = Command::new("named-checkzone")
            .args(["rpz.vigil.", "spyware.rpz"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "named-checkzone: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn ellipses_stand_for_any_text() {
    assert!(shows("{\"a\":1,\"b\":2}", "{\"a\":1,…}"));
    assert!(shows("abc", "abc"));
    assert!(!shows("abcd", "abc"));
    assert!(!shows("xabc", "abc"));
    assert!(!shows("{\"a\":2}", "{\"a\":1…"));
}
