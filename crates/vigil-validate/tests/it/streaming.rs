//! Behaviour a user relies on with big or broken input: bundles streamed,
//! one bad object reported while the rest are checked, pointers and ids on
//! every diagnostic, `--strict` semantics.

use vigil_validate::Severity;

use crate::validator;

fn indicator(i: usize, pattern: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{:08x}-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"n","description":"d","pattern":"{pattern}","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}}"#,
        i
    )
}

fn bundle(objects: &[String]) -> String {
    format!(
        r#"{{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{}]}}"#,
        objects.join(",")
    )
}

#[test]
fn one_bad_object_is_reported_and_the_rest_still_checked() {
    let mut objects: Vec<String> = (0..50)
        .map(|i| indicator(i, "[domain-name:value = 'a.example']"))
        .collect();
    objects[12] = objects[12].replace(
        r#""valid_from":"2024-01-01T00:00:00Z""#,
        r#""valid_from":"yesterday""#,
    );
    objects[40] = objects[40].replace(r#""pattern_type":"stix","#, "");
    let report = validator(false).validate_bytes(bundle(&objects).as_bytes());
    assert_eq!(report.objects, 50);
    assert!(!report.is_valid());
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].index, Some(12));
    assert_eq!(errors[0].pointer, "/objects/12/valid_from");
    assert_eq!(
        errors[0].object_id.as_deref(),
        Some("indicator--0000000c-0000-4000-8000-000000000000")
    );
    assert_eq!(errors[1].index, Some(40));
    assert_eq!(errors[1].pointer, "/objects/40");
    assert!(errors[1].message.contains("pattern_type"));
}

#[test]
fn kill_chain_pointer_goes_down_to_the_field() {
    let mut objects: Vec<String> = (0..13)
        .map(|i| indicator(i, "[domain-name:value = 'a.example']"))
        .collect();
    objects[12] = objects[12].replace(
        r#""name":"n""#,
        r#""name":"n","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":7}]"#,
    );
    let report = validator(false).validate_bytes(bundle(&objects).as_bytes());
    let d = &report.diagnostics[0];
    assert_eq!(d.pointer, "/objects/12/kill_chain_phases/0/phase_name");
    assert_eq!(d.severity, Severity::Error);
}

#[test]
fn a_large_bundle_streams_and_counts_every_object() {
    // 20,000 objects (about 7 MB) read through a plain reader.
    let objects: Vec<String> = (0..20_000)
        .map(|i| indicator(i, "[ipv4-addr:value = '198.51.100.1']"))
        .collect();
    let text = bundle(&objects);
    let report = validator(false)
        .validate_reader(std::io::Cursor::new(text.as_bytes()))
        .expect("in-memory read");
    assert_eq!(report.objects, 20_000);
    assert_eq!(report.bytes, text.len() as u64);
    assert!(report.is_valid(), "{:?}", report.diagnostics.first());
}

#[test]
fn objects_before_a_json_syntax_error_are_still_reported() {
    let objects = [
        indicator(0, "[domain-name:value = 'a.example']")
            .replace("\"stix\"", "\"stix\",\"confidence\":500"),
        indicator(1, "[domain-name:value = 'a.example']"),
    ];
    let mut text = bundle(&objects);
    text.truncate(text.len() - 3);
    let report = validator(false).validate_bytes(text.as_bytes());
    let codes: Vec<_> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        ["property-range", "json"],
        "{:?}",
        report.diagnostics
    );
    assert!(report.diagnostics[1].message.contains("line 1"));
}

#[test]
fn strict_turns_warnings_into_invalid() {
    // An indicator without a description: a best-practice warning.
    let text =
        bundle(&[indicator(0, "[app:id = 'com.example']").replace(r#""description":"d","#, "")]);
    let lax = validator(false).validate_bytes(text.as_bytes());
    assert!(lax.is_valid());
    assert_eq!(lax.errors(), 0);
    assert_eq!(lax.warnings(), 2, "{:?}", lax.diagnostics);
    let strict = validator(true).validate_bytes(text.as_bytes());
    assert!(!strict.is_valid());
}

#[test]
fn non_standard_observable_types_in_patterns_are_warned_not_dropped() {
    for (ty, prop) in [
        ("app", "id"),
        ("configuration-profile", "id"),
        ("android-property", "name"),
    ] {
        let pattern = format!("[{ty}:{prop} = 'x']");
        let report = validator(false).validate_bytes(bundle(&[indicator(0, &pattern)]).as_bytes());
        assert!(report.is_valid(), "{ty}: {:?}", report.diagnostics);
        assert_eq!(report.objects, 1);
        assert!(
            report
                .diagnostics
                .iter()
                .any(|d| d.code == "custom-observable" && d.message.contains(ty)),
            "{ty}: {:?}",
            report.diagnostics
        );
    }
}

#[test]
fn pattern_checker_is_pluggable() {
    struct RejectAll;
    impl vigil_validate::PatternCheck for RejectAll {
        fn check(&self, _: &str) -> Result<(), Vec<String>> {
            Err(vec!["expected ']' at column 3".into()])
        }
    }
    let v = vigil_validate::Validator::new(vigil_validate::Options {
        strict: false,
        patterns: Some(std::sync::Arc::new(RejectAll)),
    });
    let report = v.validate_bytes(bundle(&[indicator(0, "[x")]).as_bytes());
    assert!(!report.is_valid());
    let d = &report.diagnostics[0];
    assert_eq!(
        (d.code, d.pointer.as_str()),
        ("pattern", "/objects/0/pattern")
    );
    assert!(d.message.contains("column 3"));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let v = validator(false);
    let seeds: [&[u8]; 8] = [
        b"",
        b"null",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        b"{\"type\":\"bundle\",\"objects\":{}}",
        b"{\"type\":\"bundle\",\"objects\":[1,\"a\",null,{}]}",
        b"{\"type\":\"indicator\",\"granular_markings\":[{\"selectors\":[\"a.[99999999999999999999]\"]}]}",
        b"\xff\xfe\x00",
        b"{\"objects\":[{\"type\":\"observed-data\",\"objects\":{\"0\":{\"type\":\"file\",\"parent_directory_ref\":\"0\"}}}]}",
    ];
    for s in seeds {
        let _ = v.validate_bytes(s);
    }
}

#[test]
fn a_malformed_member_is_reported_and_later_members_still_checked() {
    let objects = [
        indicator(0, "[domain-name:value = 'a.example']"),
        indicator(1, "[domain-name:value = 'a.example']").replace("\"name\":\"n\"", "\"name\":n"),
        indicator(2, "[domain-name:value = 'a.example']")
            .replace("\"stix\"", "\"stix\",\"confidence\":500"),
    ];
    let text = bundle(&objects).replace("},{", "},\n{");
    let report = validator(false).validate_bytes(text.as_bytes());
    assert_eq!(report.objects, 3);
    let found: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| (d.code, d.index, d.pointer.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("json", Some(1), "/objects/1"),
            ("property-range", Some(2), "/objects/2/confidence"),
        ],
        "{:?}",
        report.diagnostics
    );
    // The position is in the document, not in the object, and the one a
    // JSON parser of the whole document gives.
    let whole = serde_json::from_str::<serde_json::Value>(&text).unwrap_err();
    assert_eq!(whole.line(), 2);
    assert!(
        report.diagnostics[0].message.contains(&format!(
            "{} at line 2 column {}",
            whole.to_string().split(" at line").next().unwrap(),
            whole.column()
        )),
        "{}",
        report.diagnostics[0].message
    );
}

#[test]
fn lists_single_objects_and_scalars() {
    let one = indicator(0, "[domain-name:value = 'a.example']");
    let list = format!("[{one}, 5]");
    let report = validator(false).validate_bytes(list.as_bytes());
    assert_eq!(report.objects, 2);
    assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
    assert_eq!(
        (
            report.diagnostics[0].code,
            report.diagnostics[0].pointer.as_str()
        ),
        ("not-an-object", "/1")
    );
    let single = one.replace("\"stix\"", "\"stix\",\"confidence\":500");
    let report = validator(false).validate_bytes(single.as_bytes());
    assert_eq!(report.objects, 1);
    assert_eq!(report.diagnostics[0].pointer, "/confidence");
    for scalar in ["42", "\"text\"", "null"] {
        let report = validator(false).validate_bytes(scalar.as_bytes());
        assert_eq!(report.diagnostics[0].code, "not-an-object", "{scalar}");
    }
    let empty = validator(false).validate_bytes(b"");
    assert_eq!(empty.diagnostics[0].code, "json");
}
