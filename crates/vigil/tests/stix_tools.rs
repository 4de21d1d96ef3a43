//! End-to-end tests of the `vigil stix` model tools: output and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn vigil(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vigil");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn corpus(rel: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join("data/indicators").join(rel)
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("vigil-stix-tools-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn stats_counts_types_of_a_real_bundle() {
    let path = corpus("investigations/2021-07-18_nso/pegasus.stix2");
    let bundle: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let count = |t: &str| objects.iter().filter(|o| o["type"] == t).count();

    let out = vigil(&["stix", "stats", "--json", path.to_str().unwrap()], b"");
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["objects"], objects.len());
    assert_eq!(doc["types"]["indicator"], count("indicator"));
    assert_eq!(doc["types"]["relationship"], count("relationship"));
    assert_eq!(doc["bundle_id"], bundle["id"]);
    assert_eq!(doc["problems"], 0);

    let out = vigil(&["stix", "stats", path.to_str().unwrap()], b"");
    assert_eq!(code(&out), 0);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("{} objects", objects.len())),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("indicator")),
        "{text}"
    );
}

#[test]
fn stats_reports_bad_objects_with_exit_1_and_keeps_going() {
    let bundle = br#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
        {"type":"malware","spec_version":"2.1","id":"malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111","created":"2021-07-18T00:00:00.000Z","modified":"2021-07-18T00:00:00.000Z","is_family":true,"name":"Pegasus"},
        {"type":"indicator", "broken": },
        {"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2021-07-18T00:00:00.000Z","modified":"2021-07-18T00:00:00.000Z"},
        {"type":"app:id","id":"app:id--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","value":"com.x"}
    ]}"#;
    let out = vigil(&["stix", "stats", "--json", "-"], bundle);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["objects"], 4);
    assert_eq!(doc["problems"], 2);
    let problems = doc["first_problems"].to_string();
    assert!(problems.contains("object 1"), "{problems}");
    assert!(
        problems.contains("object 2") && problems.contains("pattern"),
        "{problems}"
    );
    assert_eq!(doc["warnings"][0]["type"], "app:id");
    assert_eq!(doc["types"]["app:id"], 1);

    let out = vigil(&["stix", "stats", "-"], bundle);
    assert_eq!(code(&out), 1);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("warning: 1 object(s) of type \"app:id\""),
        "{err}"
    );
}

#[test]
fn stats_on_a_truncated_or_missing_file_is_an_error() {
    let out = vigil(
        &["stix", "stats", "-"],
        br#"{"type":"bundle","objects":[{"type":"x-a""#,
    );
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("input ends inside"));
    let out = vigil(&["stix", "stats", "/nonexistent/bundle.json"], b"");
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/bundle.json"));
}

#[test]
fn id_prints_the_deterministic_id() {
    // Id computed by the OASIS stix2 library for this object.
    let out = vigil(
        &["stix", "id"],
        br#"{"type":"ipv4-addr","spec_version":"2.1","value":"198.51.100.3"}"#,
    );
    assert_eq!(code(&out), 0);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"
    );

    let good = br#"{"type":"ipv4-addr","value":"198.51.100.3","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}"#;
    assert_eq!(code(&vigil(&["stix", "id", "--check"], good)), 0);
    let bad = br#"{"type":"ipv4-addr","value":"198.51.100.4","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}"#;
    let out = vigil(&["stix", "id", "--check"], bad);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("differs"));

    let out = vigil(&["stix", "id"], br#"{"type":"file","size":10}"#);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("UUIDv4"));
    assert_eq!(code(&vigil(&["stix", "id"], br#"{"type":"indicator"}"#)), 2);
    assert_eq!(code(&vigil(&["stix", "id"], b"[1,2]")), 2);
    assert_eq!(
        code(&vigil(
            &["stix", "id"],
            br#"{"type":"url","value":"a","value":"b"}"#
        )),
        2
    );
}

#[test]
fn new_version_and_revoke() {
    let object = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2021-07-18T00:00:00.000Z", "modified": "2021-07-18T00:00:00.000Z",
        "pattern": "[domain-name:value = 'x.com']", "pattern_type": "stix",
        "valid_from": "2021-07-18T00:00:00Z", "x_source": "amnesty"
    });
    let path = temp_file("indicator.json", object.to_string().as_bytes());
    let out = vigil(
        &[
            "stix",
            "new-version",
            path.to_str().unwrap(),
            "--set",
            "name=Pegasus domain",
            "--set",
            "confidence=90",
        ],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let new: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(new["id"], object["id"]);
    assert_eq!(new["created"], object["created"]);
    assert_eq!(new["name"], "Pegasus domain");
    assert_eq!(new["confidence"], 90);
    assert_eq!(new["x_source"], "amnesty");
    assert!(new["modified"].as_str().unwrap() > "2021-07-18T00:00:00.000Z");

    let out = vigil(
        &[
            "stix",
            "new-version",
            "--modified",
            "2020-01-01T00:00:00.000Z",
        ],
        object.to_string().as_bytes(),
    );
    assert_eq!(code(&out), 2, "an earlier modified is refused");
    let out = vigil(
        &[
            "stix",
            "new-version",
            "--set",
            "created=2022-01-01T00:00:00.000Z",
        ],
        object.to_string().as_bytes(),
    );
    assert_eq!(code(&out), 2, "created cannot change");

    let out = vigil(&["stix", "revoke"], new.to_string().as_bytes());
    assert_eq!(code(&out), 0);
    let revoked: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(revoked["revoked"], true);
    let out = vigil(&["stix", "revoke"], revoked.to_string().as_bytes());
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("revoked"));
    std::fs::remove_file(path).ok();
}
