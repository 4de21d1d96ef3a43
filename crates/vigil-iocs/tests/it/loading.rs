//! Large files are read in blocks and on several threads: what is loaded must
//! not depend on where the blocks and pieces fall. Each test checks the loader
//! against an independent reading of the same bytes (serde_json on the whole
//! bundle; a plain line loop for lists).

use std::fmt::Write as _;
use std::path::Path;

use vigil_iocs::{load_bytes, load_file};

/// A bundle of several MiB whose strings hold braces, brackets, quotes and
/// backslashes, with the malware object last and properties after `objects`.
fn tricky_bundle(n: usize) -> String {
    let mut s = String::from(r#"{"type":"bundle","id":"bundle--1","objects":["#);
    for i in 0..n {
        let d = format!("d{i}.example.org");
        let _ = write!(
            s,
            r#"{{"type":"indicator","id":"indicator--{i}","description":"}}]{{[\"\\ {i}","pattern":"[domain-name:value = '{d}']","pattern_type":"stix","x_nested":{{"a":[{{"b":"}}"}}]}}}},
{{"type":"relationship","id":"relationship--{i}","relationship_type":"indicates","source_ref":"indicator--{i}","target_ref":"malware--1"}},"#
        );
    }
    s.push_str(r#"{"type":"malware","id":"malware--1","name":"Spy \"X\" {1}"}],"spec_version":"2.1","x_after":{"k":"]}"}}"#);
    s
}

#[test]
fn a_bundle_read_in_blocks_loads_what_a_whole_parse_sees() {
    let text = tricky_bundle(20_000);
    assert!(text.len() > 5 << 20, "{} bytes: several blocks", text.len());
    let whole: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.stix2");
    std::fs::write(&path, &text).unwrap();
    let set = load_file(&path).expect("loads");
    assert!(set.diagnostics.is_empty(), "{:?}", &set.diagnostics[..3]);
    let expected: Vec<(&str, &str)> = whole["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "indicator")
        .map(|o| (o["id"].as_str().unwrap(), o["pattern"].as_str().unwrap()))
        .collect();
    let got: Vec<(&str, &str)> = set
        .indicators
        .iter()
        .map(|i| (i.id.as_str(), i.pattern.as_str()))
        .collect();
    assert_eq!(got, expected);
    assert!(set
        .indicators
        .iter()
        .all(|i| i.spyware.len() == 1 && i.spyware[0].as_ref() == r#"Spy "X" {1}"#));
    // The same bytes from memory give the same set.
    let again = load_bytes(&path, text.as_bytes()).unwrap();
    assert_eq!(again.indicators, set.indicators);
}

#[test]
fn a_broken_object_is_reported_by_index_and_the_rest_loads() {
    let mut text = tricky_bundle(5_000);
    // Break object 4000 (an indicator) without breaking the bundle's structure.
    let at = text.find(r#""id":"indicator--2000","#).unwrap();
    text.replace_range(at..at + 5, r#""id" "#);
    text = text.replacen(
        r#"{"type":"relationship","id":"relationship--10","#,
        r#"42,{"type":"relationship","id":"relationship--10","#,
        1,
    );
    let set = load_bytes(Path::new("b.stix2"), text.as_bytes()).unwrap();
    assert_eq!(set.indicators.len(), 4_999);
    assert_eq!(set.diagnostics.len(), 2, "{:?}", set.diagnostics);
    assert!(
        set.diagnostics[0].starts_with("object 21 "),
        "{:?}",
        set.diagnostics
    );
    assert!(
        set.diagnostics[0].contains("not a JSON object"),
        "{:?}",
        set.diagnostics
    );
    assert!(
        set.diagnostics[1].starts_with("object 4001 "),
        "{:?}",
        set.diagnostics
    );
}

#[test]
fn a_broken_bundle_is_an_error_naming_the_file_and_byte() {
    let text = tricky_bundle(3_000);
    for (cut, what) in [
        (text.len() / 2, "ends inside"),
        (text.len() - 1, "ends inside"),
        (40, "ends inside"),
    ] {
        let e = load_bytes(Path::new("cut.stix2"), &text.as_bytes()[..cut]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("cut.stix2: not a STIX 2.1 bundle"), "{msg}");
        assert!(msg.contains(what) && msg.contains("at byte"), "{msg}");
    }
    for (bad, what) in [
        (r#"{"type":"x","objects":[]}"#, "type is not \"bundle\""),
        (r#"{"type":"bundle"}"#, "no `objects`"),
        (r#"{"objects":{}}"#, "not an array"),
        (
            r#"{"objects":[{"type":"indicator"} {"type":"x"}]}"#,
            "expected ',' or ']' after object 0",
        ),
        (r#"{"objects":[]} x"#, "data after the end"),
        ("", "empty"),
        ("   [1,", "ends inside"),
    ] {
        let msg = load_bytes(Path::new("x.json"), bad.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(what), "{bad}: {msg}");
    }
    // A bare array of objects is read too, as before.
    let set = load_bytes(
        Path::new("a.json"),
        br#"[{"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='a.com']"}]"#,
    )
    .unwrap();
    assert_eq!(set.indicators.len(), 1);
}

#[test]
fn a_long_list_read_in_pieces_keeps_line_numbers_and_spyware_headers() {
    // Headers every 7,919 lines fall on both sides of the piece boundaries.
    let mut text = String::new();
    let mut expected = Vec::new();
    let mut spyware = String::new();
    for line in 1..=120_000usize {
        if line % 7_919 == 0 {
            spyware = format!("Spy{line}");
            let _ = writeln!(text, "# spyware: {spyware}");
        } else if line % 101 == 0 {
            text.push_str("\r\n");
        } else {
            let _ = writeln!(text, "host{line}.example.net");
            expected.push((format!("l.txt:{line}"), spyware.clone()));
        }
    }
    assert!(text.len() > 1 << 20);
    let set = load_bytes(Path::new("l.txt"), text.as_bytes()).unwrap();
    assert!(set.diagnostics.is_empty());
    let got: Vec<(String, String)> = set
        .indicators
        .iter()
        .map(|i| {
            let spy = i.spyware.first().map_or(String::new(), |s| s.to_string());
            (i.id.clone(), spy)
        })
        .collect();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
}
