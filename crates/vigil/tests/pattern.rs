//! End-to-end tests of `vigil pattern`: exit codes and what a user reads.

use std::path::PathBuf;
use std::process::{Command, Output};

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .expect("running vigil")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn observed() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-pattern/test_data/observed.json")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn check_valid_exits_0_and_prints_canonical_form() {
    let o = vigil(&["pattern", "check", "[file:name=='a'AND file:size<>5]"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "valid: [file:name = 'a' AND file:size != 5]\n");
}

#[test]
fn check_invalid_exits_1_with_position_and_caret() {
    let o = vigil(&[
        "pattern",
        "check",
        "[file:name = 'foo.dll' AND file:size = 5",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let expected = format!(
        "invalid: expected one of AND, OR, ']' at 1:41 (found end of input)\n  {}\n  {}^\n",
        "[file:name = 'foo.dll' AND file:size = 5",
        " ".repeat(40)
    );
    assert_eq!(stdout(&o), expected);
    let o = vigil(&["pattern", "check", "--json", "[file:name = ]"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["column"], 14);
    assert_eq!(v["error"]["expected"][0], "a literal");
}

#[test]
fn check_reports_bad_hash_values() {
    let o = vigil(&["pattern", "check", "[file:hashes.MD5 = 'abc']"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("'abc' is not a valid MD5 hash"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn compile_shows_facts_or_why_not() {
    let o = vigil(&[
        "pattern",
        "compile",
        "--json",
        "[url:value IN ('http://a/', 'http://b/')]",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["facts"][1]["value"], "http://b/");
    let o = vigil(&["pattern", "compile", "[a:b = 'x'] FOLLOWEDBY [a:c = 'y']"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("FOLLOWEDBY"));
}

#[test]
fn match_exit_codes() {
    let file = observed();
    let hit = "[domain-name:resolves_to_refs[*].value ISSUBSET '198.51.100.0/24'] FOLLOWEDBY [file:name = 'payload.apk'] WITHIN 600 SECONDS";
    let o = vigil(&["pattern", "match", "--observed", &file, hit]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "match\n"));
    let miss = "[file:name = 'payload.apk'] FOLLOWEDBY [domain-name:value = 'updates.example.net']";
    let o = vigil(&["pattern", "match", "--observed", &file, "--json", miss]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["matched"], false);
    let o = vigil(&[
        "pattern",
        "match",
        "--observed",
        &file,
        "[file:name MATCHES '(']",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = vigil(&[
        "pattern",
        "match",
        "--observed",
        "/nonexistent.json",
        "[file:name = 'x']",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
