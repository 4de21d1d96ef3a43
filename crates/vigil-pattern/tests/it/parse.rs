//! Parser and pretty-printer: spec examples, every construct, error positions.

use vigil_pattern::{parse, Literal, ObservationExpr, Operator, PathStep, Qualifier, Seconds};

fn roundtrip(src: &str) -> String {
    let p = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let printed = p.to_string();
    let again = parse(&printed).unwrap_or_else(|e| panic!("reprint of {src} = {printed}: {e}"));
    assert_eq!(p, again, "{src} printed as {printed}");
    assert_eq!(
        again.to_string(),
        printed,
        "printing is not stable for {src}"
    );
    printed
}

#[test]
fn every_spec_example_parses_and_round_trips() {
    let examples = crate::spec_examples();
    assert!(examples.len() >= 20, "spec examples missing");
    for ex in &examples {
        roundtrip(ex);
    }
}

#[test]
fn canonical_printing_normalises_spelling_only() {
    assert_eq!(
        roundtrip("[file:name=='a'AND file:size<>5]"),
        "[file:name = 'a' AND file:size != 5]"
    );
    assert_eq!(
        roundtrip("[file:'name' = 'x' AND file:hashes.'SHA-256' = 'y']"),
        "[file:name = 'x' AND file:hashes.'SHA-256' = 'y']"
    );
    assert_eq!(
        roundtrip("( [a:b = 1] OR [a:c = 2] ) WITHIN 5 SECONDS"),
        "([a:b = 1] OR [a:c = 2]) WITHIN 5 SECONDS"
    );
    assert_eq!(roundtrip("[x:'AND' = 1]"), "[x:'AND' = 1]");
    assert_eq!(
        roundtrip("[x:a = 'it\\'s \\\\ here']"),
        "[x:a = 'it\\'s \\\\ here']"
    );
}

#[test]
fn all_literal_kinds() {
    let p = parse(
        "[x:a IN (1, -2, +3, 1.5, -.5, 'ab', true, false, h'00ff', b'AQID', t'2014-01-13T07:03:17.25Z')]",
    )
    .unwrap();
    let ObservationExpr::Observation(vigil_pattern::ComparisonExpr::Comparison(c)) = &p.root else {
        panic!("{p:?}")
    };
    let Operator::In(set) = &c.op else { panic!() };
    assert_eq!(set[0], Literal::Int(1));
    assert_eq!(set[1], Literal::Int(-2));
    assert_eq!(set[2], Literal::Int(3));
    assert_eq!(set[3], Literal::Float(1.5));
    assert_eq!(set[4], Literal::Float(-0.5));
    assert_eq!(set[5], Literal::Str("ab".into()));
    assert_eq!(set[6], Literal::Bool(true));
    assert_eq!(set[7], Literal::Bool(false));
    assert_eq!(set[8], Literal::Hex(vec![0, 255]));
    assert_eq!(set[9], Literal::Binary(vec![1, 2, 3]));
    match &set[10] {
        Literal::Timestamp(t) => assert_eq!(t.as_str(), "2014-01-13T07:03:17.25Z"),
        other => panic!("{other:?}"),
    }
    roundtrip(&p.to_string());
}

#[test]
fn paths_with_indexes_quoted_keys_extensions_and_refs() {
    let p = parse("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0 AND x:l[-1] = 1 AND x:l[2] = 1 AND email-message:from_ref.value = 'a']").unwrap();
    let cmps = p.comparisons();
    assert_eq!(
        cmps[0].path.steps,
        vec![
            PathStep::Key("extensions".into()),
            PathStep::Key("windows-pebinary-ext".into()),
            PathStep::Key("sections".into()),
            PathStep::AnyIndex,
            PathStep::Key("entropy".into()),
        ]
    );
    assert_eq!(cmps[1].path.steps[1], PathStep::Index(-1));
    assert_eq!(cmps[2].path.steps[1], PathStep::Index(2));
    assert_eq!(cmps[3].path.to_string(), "email-message:from_ref.value");
}

#[test]
fn every_operator_with_not() {
    for op in ["=", "!=", ">", "<", ">=", "<="] {
        roundtrip(&format!("[x:a NOT {op} 5]"));
    }
    for op in ["LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"] {
        roundtrip(&format!("[x:a NOT {op} 'v']"));
    }
    roundtrip("[x:a NOT IN ('a', 'b')]");
    roundtrip("[x:a IN ()]");
    let p = parse("[NOT EXISTS x:a AND EXISTS x:b]").unwrap();
    let c = p.comparisons();
    assert!(c[0].negated && matches!(c[0].op, Operator::Exists));
    assert!(!c[1].negated && matches!(c[1].op, Operator::Exists));
}

#[test]
fn qualifiers_and_observation_operators() {
    let p = parse("[a:b = 1] REPEATS 2 TIMES WITHIN 1.5 SECONDS START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z' FOLLOWEDBY [a:c = 2] AND [a:d = 3] OR [a:e = 4]").unwrap();
    // FOLLOWEDBY binds loosest, then OR, then AND.
    let ObservationExpr::FollowedBy(v) = &p.root else {
        panic!("{p:?}")
    };
    assert_eq!(v.len(), 2);
    let ObservationExpr::Qualified { qualifiers, .. } = &v[0] else {
        panic!()
    };
    assert_eq!(qualifiers[0], Qualifier::Repeats(2));
    assert_eq!(qualifiers[1], Qualifier::Within(Seconds::Float(1.5)));
    assert!(matches!(qualifiers[2], Qualifier::StartStop { .. }));
    let ObservationExpr::Or(or) = &v[1] else {
        panic!()
    };
    assert!(matches!(or[0], ObservationExpr::And(_)));
    roundtrip(&p.to_string());
}

#[test]
fn comments_and_unicode_whitespace_are_skipped() {
    let p = parse("[x:a = 1] /* block */ AND\u{00a0}[x:b = 2] // line\n").unwrap();
    assert_eq!(p.to_string(), "[x:a = 1] AND [x:b = 2]");
}

#[test]
fn non_standard_types_parse() {
    for src in [
        "[app:id = 'com.example.spy']",
        "[configuration-profile:id = 'x']",
        "[android-property:name = 'ro.debuggable']",
    ] {
        roundtrip(src);
    }
}

fn err(src: &str) -> String {
    match parse(src) {
        Ok(p) => panic!("{src} parsed as {p}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_position_and_expectation() {
    assert_eq!(
        err("[file:name = 'foo.dll' AND file:size = 5"),
        "expected one of AND, OR, ']' at 1:41 (found end of input)"
    );
    let e = parse("[file:name = 'foo.dll' AND file:size = 5").unwrap_err();
    assert_eq!((e.line, e.column, e.offset), (1, 41, 40));
    assert_eq!(e.expected, vec!["AND", "OR", "']'"]);

    assert_eq!(
        err("[file:name = ]"),
        "expected a literal at 1:14 (found ']')"
    );
    assert_eq!(
        err("[file name = 'x']"),
        "expected ':' at 1:7 (found 'name')"
    );
    assert!(err("file:name = 'x'").starts_with("expected one of '[', '(' at 1:1"));
    // Position on a later line, counted in characters.
    let e = parse("[x:a = 'é'\n  AND x:b = ]").unwrap_err();
    assert_eq!((e.line, e.column), (2, 13));
    assert_eq!(
        e.caret("[x:a = 'é'\n  AND x:b = ]"),
        "  AND x:b = ]\n            ^"
    );
}

#[test]
fn lexical_errors_say_why() {
    assert!(
        err("[x:a = 'a\\n']").contains("invalid escape"),
        "{}",
        err("[x:a = 'a\\n']")
    );
    assert!(err("[x:a = h'abc']").contains("pairs of hex digits"));
    assert!(err("[x:a = b'']").contains("base64"));
    assert!(err("[x:a = t'2020-13-01T00:00:00Z']").contains("timestamp"));
    assert!(err("[x:a = 'open").contains("unterminated"));
}

#[test]
fn grammar_corner_cases() {
    // Rejected by the grammar.
    for bad in [
        "",
        "[]",
        "[x:a = 1",
        "[x:a-b = 1]",  // property names cannot hold '-'
        "[x:a = 007]",  // no leading zeros
        "[x:a > true]", // booleans are not orderable
        "[x:a = 1] WITHIN -5 SECONDS",
        "[x:a = 1] REPEATS 1.5 TIMES",
        "[x:a = 1] START '2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'",
        "[x:a LIKE 5]",
        "[x:a IN ('a',)]",
        "[x:a = 1] and [x:b = 2]",
        "[IN:a = 1]",
        "[x:a.5 = 1]",
        "[x:a = 1] /* unterminated",
        "[x:a = 99999999999999999999]",
        "[x:a = t'2020-01-01T00:00:00z']",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
    // Accepted by the grammar.
    for good in [
        "[x:a = 0123.5]",
        "[x:a = -0]",
        "[x-:a = 1]",
        "[_x:_a = 1]",
        "[x:a = 1] WITHIN 0 SECONDS",
        "[x:a = 1] WITHIN +.5 SECONDS",
        "[x:a = t'2020-02-31T23:59:60.123456789Z']",
        "((([x:a = 1])))",
        "[((x:a = 1))]",
        "[x:a[+1] = 1]",
    ] {
        roundtrip(good);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}[x:a = 1]{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = parse(&deep).unwrap_err();
    assert!(e.to_string().contains("nested deeper"), "{e}");
    // Long flat chains are fine.
    let chain = vec!["[x:a = 1]"; 20_000].join(" AND ");
    let p = parse(&chain).unwrap();
    assert_eq!(p.to_string(), chain);
}
