//! End-to-end tests of `vigil stix validate`: exit codes and what a user reads.

use std::io::Write;
use std::process::{Command, Stdio};

fn vigil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
}

fn corpus(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-validate/test_data/corpus")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn valid_file_exits_0_and_says_valid() {
    let out = vigil()
        .args(["stix", "validate", &corpus("ok-indicator.json")])
        .output()
        .expect("run vigil");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ok-indicator.json: valid (1 objects, 0 errors, 0 warnings)"),
        "{text}"
    );
}

#[test]
fn invalid_file_exits_1_and_names_object_and_pointer() {
    let out = vigil()
        .args([
            "stix",
            "validate",
            &corpus("bundle-one-bad-among-good.json"),
        ])
        .output()
        .expect("run vigil");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("INVALID (4 objects, 1 errors"), "{text}");
    assert!(
        text.contains("object 2 (tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f)"),
        "{text}"
    );
    assert!(text.contains("/objects/2/name"), "{text}");
}

#[test]
fn warnings_pass_unless_strict() {
    let file = corpus("pattern-app-id.json");
    let lax = vigil()
        .args(["stix", "validate", &file])
        .output()
        .expect("run vigil");
    assert_eq!(lax.status.code(), Some(0));
    let strict = vigil()
        .args(["stix", "validate", "--strict", &file])
        .output()
        .expect("run vigil");
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn json_report_is_machine_readable() {
    let out = vigil()
        .args([
            "stix",
            "validate",
            "--json",
            &corpus("ts-feb-30.json"),
            &corpus("ok-malware.json"),
        ])
        .output()
        .expect("run vigil");
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(doc["valid"], false);
    let files = doc["files"].as_array().expect("files");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["valid"], false);
    assert_eq!(files[1]["valid"], true);
    let d = &files[0]["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "timestamp");
    assert_eq!(d["pointer"], "/objects/0/valid_from");
    assert_eq!(
        d["object_id"],
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    );
    assert_eq!(d["index"], 0);
}

#[test]
fn stdin_is_read_with_dash() {
    let mut child = vigil()
        .args(["stix", "validate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run vigil");
    let body = std::fs::read(corpus("ok-malware.json")).expect("read case");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&body)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("-: valid"));
}

#[test]
fn missing_file_exits_2() {
    let out = vigil()
        .args(["stix", "validate", "/nonexistent/bundle.json"])
        .output()
        .expect("run vigil");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/bundle.json"));
}
