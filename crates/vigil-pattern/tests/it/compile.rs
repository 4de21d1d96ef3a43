//! The compile step: which patterns lower to facts, and to which.

use vigil_pattern::{compile, parse, Compiled, Fact, FactOp};

fn facts(src: &str) -> Vec<(String, String, FactOp, String)> {
    match compile(&parse(src).unwrap()) {
        Compiled::Facts(f) => f
            .into_iter()
            .map(
                |Fact {
                     object_type,
                     path,
                     op,
                     value,
                 }| (object_type, path, op, value),
            )
            .collect(),
        Compiled::General { reason } => panic!("{src} did not lower: {reason}"),
    }
}

fn general(src: &str) -> String {
    match compile(&parse(src).unwrap()) {
        Compiled::Facts(f) => panic!("{src} lowered to {f:?}"),
        Compiled::General { reason } => reason,
    }
}

fn f(t: &str, p: &str, op: FactOp, v: &str) -> (String, String, FactOp, String) {
    (t.into(), p.into(), op, v.into())
}

#[test]
fn common_indicator_forms_lower_to_facts() {
    use FactOp::*;
    assert_eq!(
        facts("[domain-name:value = 'evil.example']"),
        vec![f("domain-name", "value", Equals, "evil.example")]
    );
    assert_eq!(
        facts("[file:hashes.'SHA-256' = 'aa' OR file:hashes.MD5 = 'bb']"),
        vec![
            f("file", "hashes.SHA-256", Equals, "aa"),
            f("file", "hashes.MD5", Equals, "bb")
        ]
    );
    assert_eq!(
        facts("[url:value IN ('http://a/', 'http://b/')]"),
        vec![
            f("url", "value", Equals, "http://a/"),
            f("url", "value", Equals, "http://b/")
        ]
    );
    assert_eq!(
        facts("[ipv4-addr:value ISSUBSET '10.0.0.0/8']"),
        vec![f("ipv4-addr", "value", IsSubset, "10.0.0.0/8")]
    );
    assert_eq!(
        facts("[ipv4-addr:value = '198.51.100.0/24']"),
        vec![f("ipv4-addr", "value", IsSubset, "198.51.100.0/24")]
    );
    assert_eq!(
        facts("[ipv6-addr:value = '2001:db8::1']"),
        vec![f("ipv6-addr", "value", Equals, "2001:db8::1")]
    );
    assert_eq!(
        facts("[domain-name:value = 'a.example'] OR ([app:id = 'com.spy'] OR [android-property:name = 'x'])"),
        vec![
            f("domain-name", "value", Equals, "a.example"),
            f("app", "id", Equals, "com.spy"),
            f("android-property", "name", Equals, "x"),
        ]
    );
    assert_eq!(
        facts("[file:parent_directory_ref.path = 'C:\\\\Windows']"),
        vec![f(
            "file",
            "parent_directory_ref.path",
            Equals,
            "C:\\Windows"
        )]
    );
    assert_eq!(
        facts("[configuration-profile:id = 'p']"),
        vec![f("configuration-profile", "id", Equals, "p")]
    );
    assert!(facts("[x:y IN ()]").is_empty());
}

#[test]
fn duplicate_facts_are_merged() {
    assert_eq!(facts("[url:value = 'a'] OR [url:value = 'a']").len(), 1);
}

#[test]
fn everything_else_needs_the_evaluator_with_a_reason() {
    assert!(general("[file:name = 'a' AND file:size = 5]").contains("AND"));
    assert!(general("[a:b = 'x'] AND [a:c = 'y']").contains("AND"));
    assert!(general("[a:b = 'x'] FOLLOWEDBY [a:c = 'y']").contains("FOLLOWEDBY"));
    assert!(general("[a:b = 'x'] WITHIN 5 SECONDS").contains("WITHIN"));
    assert!(general("[a:b = 'x'] REPEATS 2 TIMES").contains("REPEATS"));
    assert!(general("[a:b NOT = 'x']").contains("NOT"));
    assert!(general("[a:b != 'x']").contains("!="));
    assert!(general("[a:b LIKE 'x%']").contains("LIKE"));
    assert!(general("[a:b MATCHES 'x']").contains("MATCHES"));
    assert!(general("[a:b[*] = 'x']").contains("index"));
    assert!(general("[a:b = 5]").contains("non-string"));
    assert!(general("[EXISTS a:b]").contains("EXISTS"));
    assert!(general("[domain-name:value ISSUBSET '10.0.0.0/8']").contains("ISSUBSET"));
}
