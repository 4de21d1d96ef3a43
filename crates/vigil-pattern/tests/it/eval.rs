//! Evaluator semantics, case by case, with expected verdicts worked out by
//! hand from the specification (and the reference matcher where the
//! specification leaves room).

use serde_json::{json, Value};
use vigil_pattern::{matches_stix, parse, EvalError};

fn od(id: &str, first: &str, last: &str, n: u64, refs: &[&str]) -> Value {
    json!({
        "type": "observed-data", "spec_version": "2.1", "id": id,
        "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
        "first_observed": first, "last_observed": last, "number_observed": n,
        "object_refs": refs,
    })
}

/// Two observations five minutes apart, the second seen twice.
fn data() -> Vec<Value> {
    vec![json!({
        "type": "bundle", "id": "bundle--1",
        "objects": [
            od("observed-data--1", "2020-01-01T00:00:00Z", "2020-01-01T00:01:00Z", 1,
               &["file--1", "directory--1", "ipv4-addr--1", "network-traffic--1", "x-test--1"]),
            od("observed-data--2", "2020-01-01T00:05:00Z", "2020-01-01T00:05:00Z", 2,
               &["domain-name--1", "ipv4-addr--2", "ipv6-addr--1", "artifact--1"]),
            {"type": "file", "id": "file--1", "name": "Report.PDF", "size": 4096,
             "hashes": {"SHA-256": "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", "MD5": "cead3f77f6cda6ec00f57d76c9a6879f"},
             "created": "2014-01-13T07:03:17Z", "magic_number_hex": "25504446",
             "parent_directory_ref": "directory--1",
             "extensions": {"windows-pebinary-ext": {"sections": [{"name": ".text", "entropy": 7.5}, {"name": ".data", "entropy": 2.0}]}},
             "x_tags": ["a", "b", "c"], "x_ratio": 1.0, "x_flag": true, "x_none": null},
            {"type": "directory", "id": "directory--1", "path": "C:\\Windows\\System32"},
            {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "203.0.113.33"},
            {"type": "network-traffic", "id": "network-traffic--1", "dst_ref": "ipv4-addr--1", "dst_port": 443, "protocols": ["tcp", "tls"]},
            {"type": "x-test", "id": "x-test--1", "it's": "quoted", "nested": {"a b": {"c": 1}}},
            {"type": "domain-name", "id": "domain-name--1", "value": "www.5z8.info", "resolves_to_refs": ["ipv4-addr--2", "ipv6-addr--1"]},
            {"type": "ipv4-addr", "id": "ipv4-addr--2", "value": "198.51.100.0/24"},
            {"type": "ipv6-addr", "id": "ipv6-addr--1", "value": "2001:db8:dead:beef::1"},
            {"type": "artifact", "id": "artifact--1", "mime_type": "application/vnd.tcpdump.pcap", "payload_bin": "1MOyoQIABAA="}
        ]
    })]
}

fn eval(src: &str) -> Result<bool, EvalError> {
    let p = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    matches_stix(&p, &data())
}

fn yes(src: &str) {
    assert_eq!(eval(src), Ok(true), "{src} should match");
}

fn no(src: &str) {
    assert_eq!(eval(src), Ok(false), "{src} should not match");
}

#[test]
fn equality_ordering_and_not() {
    yes("[file:name = 'Report.PDF']");
    no("[file:name = 'report.pdf']");
    yes("[file:name != 'x']");
    yes("[file:name NOT = 'x']");
    no("[file:name NOT = 'Report.PDF']");
    yes("[file:size > 4000 AND file:size <= 4096 AND file:size >= 4096 AND file:size < 5000]");
    no("[file:size > 4096]");
    yes("[file:size NOT > 4096]");
    yes("[file:size = 4096.0]"); // int and float compare by value
    yes("[file:x_ratio = 1]");
    yes("[file:x_flag = true]");
    no("[file:x_flag = 1]"); // booleans are not numbers for '='
    no("[file:size = '4096']"); // nor are strings
    yes("[file:size != '4096']");
    no("[file:name > 5]"); // no order between string and int...
    no("[file:name NOT > 5]"); // ...and NOT does not make it true
    yes("[file:name > 'Q' AND file:name < 'S']");
}

#[test]
fn sets_like_and_matches() {
    yes("[file:size IN (1, 4096, 7)]");
    yes("[file:size IN (4096.0)]");
    no("[file:size IN ()]");
    yes("[file:size NOT IN ('a')]");
    yes("[file:x_flag IN (1)]"); // set membership follows Python: True == 1
    assert!(matches!(
        eval("[file:size IN (1, 'a')]"),
        Err(EvalError::Pattern(_))
    ));
    yes("[file:name LIKE 'Report.%']");
    yes("[file:name LIKE '_eport.PDF']");
    no("[file:name LIKE 'report%']");
    no("[file:name LIKE 'Report']");
    yes("[file:name NOT LIKE 'x%']");
    yes("[file:name MATCHES '^Rep.+\\\\.PDF$']");
    yes("[file:name MATCHES 'port']"); // MATCHES searches, it is not anchored
    no("[file:name MATCHES '^port']");
    assert!(matches!(
        eval("[file:name MATCHES '(']"),
        Err(EvalError::Pattern(_))
    ));
}

#[test]
fn binary_hex_and_timestamps() {
    yes("[file:magic_number_hex = h'25504446']");
    yes("[file:magic_number_hex = '%PDF']"); // bytes against a Latin-1 string
    yes("[file:magic_number_hex = b'JVBERg==']");
    yes("[artifact:payload_bin MATCHES '^\\\\xd4\\\\xc3\\\\xb2\\\\xa1']");
    yes("[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']");
    yes("[file:created = t'2014-01-13T07:03:17Z']");
    yes("[file:created = t'2014-01-13T07:03:17.000Z']");
    yes("[file:created > t'2014-01-01T00:00:00Z']");
    assert!(matches!(
        eval("[file:name = t'2014-01-13T07:03:17Z']"),
        Err(EvalError::Value(_))
    ));
    assert!(matches!(
        eval("[file:created = t'2014-02-30T00:00:00Z']"),
        Err(EvalError::Pattern(_))
    ));
}

#[test]
fn paths_lists_quoted_keys_extensions_and_references() {
    yes("[file:x_tags[*] = 'b']");
    yes("[file:x_tags[0] = 'a']");
    no("[file:x_tags[0] = 'b']");
    yes("[file:x_tags[-1] = 'c']");
    yes("[file:x_tags[-3] = 'a']");
    no("[file:x_tags[-4] = 'a']");
    no("[file:x_tags[3] = 'a']");
    yes("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']");
    yes("[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']");
    yes("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]");
    no("[file:extensions.'windows-pebinary-ext'.sections[1].entropy > 7.0]");
    yes("[x-test:'it\\'s' = 'quoted' AND x-test:nested.'a b'.c = 1]");
    yes("[file:name = 'Report.PDF' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']");
    yes("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33']");
    yes("[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.0/24']");
    no("[domain-name:resolves_to_refs.value = '198.51.100.0/24']"); // a list needs an index step
                                                                    // Comparisons joined by AND must hold for the same object.
    no("[ipv4-addr:value = '203.0.113.33' AND ipv4-addr:value = '198.51.100.0/24']");
    yes("[ipv4-addr:value = '203.0.113.33' OR ipv4-addr:value = 'nope']");
    // Domain objects are never matched.
    no("[observed-data:number_observed = 1]");
}

#[test]
fn exists_is_evaluated_correctly() {
    yes("[EXISTS file:hashes.MD5]");
    no("[EXISTS file:hashes.SHA1]");
    yes("[NOT EXISTS file:hashes.SHA1]");
    no("[NOT EXISTS file:name]");
    yes("[EXISTS file:x_none]"); // present with a null value
    yes("[EXISTS file:name AND file:size = 4096]");
    yes("[NOT EXISTS file:missing OR file:size = 1]");
    yes("[EXISTS network-traffic:dst_ref.value]");
    no("[EXISTS network-traffic:src_ref]");
}

#[test]
fn ipv4_and_ipv6_subnets() {
    yes("[ipv4-addr:value ISSUBSET '203.0.113.0/24']");
    no("[ipv4-addr:value ISSUBSET '203.0.114.0/24'  AND ipv4-addr:value = '203.0.113.33']");
    yes("[ipv4-addr:value ISSUBSET '198.51.0.0/16']"); // a subnet inside a subnet
    yes("[ipv4-addr:value ISSUPERSET '198.51.100.7']");
    yes("[ipv4-addr:value ISSUPERSET '203.0.113.33']"); // an address contains itself
    yes("[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']");
    yes("[network-traffic:dst_ref.value ISSUBSET '0.0.0.0/0']");
    yes("[ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']");
    no("[ipv6-addr:value ISSUBSET '2001:db8:dead:bee0::/64']");
    yes("[domain-name:resolves_to_refs[*].value ISSUBSET '2001:db8::/32']");
    assert!(matches!(
        eval("[ipv4-addr:value ISSUBSET 'not a subnet']"),
        Err(EvalError::Value(_))
    ));
}

#[test]
fn observation_operators_and_qualifiers() {
    let a = "[file:name = 'Report.PDF']"; // first observation, 00:00–00:01
    let b = "[domain-name:value = 'www.5z8.info']"; // second, 00:05, twice
    yes(&format!("{a} AND {b}"));
    yes(&format!("{a} FOLLOWEDBY {b}"));
    no(&format!("{b} FOLLOWEDBY {a}"));
    yes(&format!("{a} OR [x:y = 1]"));
    no(&format!("{a} AND [x:y = 1]"));
    // AND needs two different observations.
    no(&format!("{a} AND [file:size = 4096]"));
    // number_observed = 2 lets one observed-data satisfy two operands.
    yes(&format!("{b} AND [ipv4-addr:value = '198.51.100.0/24']"));
    yes(&format!("{b} REPEATS 2 TIMES"));
    no(&format!("{b} REPEATS 3 TIMES"));
    no(&format!("{a} REPEATS 2 TIMES"));
    yes(&format!("({a} AND {b}) WITHIN 300 SECONDS")); // 00:01 to 00:05 is 240 s
    no(&format!("({a} AND {b}) WITHIN 200 SECONDS"));
    yes(&format!(
        "{a} START t'2020-01-01T00:00:30Z' STOP t'2020-01-01T00:00:31Z'"
    ));
    no(&format!(
        "{b} START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:05:00Z'"
    )); // STOP is exclusive
    yes(&format!(
        "{b} START t'2020-01-01T00:05:00Z' STOP t'2020-01-01T00:05:01Z'"
    ));
    no(&format!(
        "{a} START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'"
    ));
    assert!(matches!(
        eval(&format!("{a} REPEATS 0 TIMES")),
        Err(EvalError::Pattern(_))
    ));
    assert!(matches!(
        eval(&format!("{a} WITHIN 0 SECONDS")),
        Err(EvalError::Pattern(_))
    ));
}

#[test]
fn observed_data_errors_name_the_object() {
    let p = parse("[file:name = 'x']").unwrap();
    let bad = vec![json!({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "observed-data", "id": "observed-data--1", "first_observed": "2020-01-01T00:00:00Z",
         "last_observed": "2020-01-01T00:00:00Z", "object_refs": []}
    ]})];
    let e = matches_stix(&p, &bad).unwrap_err();
    assert_eq!(e.to_string(), "observed-data 0: missing number_observed");
    let bad_time = vec![json!({"type": "bundle", "id": "bundle--1", "objects": [
        od("observed-data--1", "2020-01-01", "2020-01-01T00:00:00Z", 1, &[])
    ]})];
    let e = matches_stix(&p, &bad_time).unwrap_err();
    assert!(e.to_string().contains("first_observed"), "{e}");
}

#[test]
fn deprecated_embedded_objects_are_read() {
    let d = vec![json!({
        "type": "observed-data", "id": "observed-data--1",
        "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1,
        "objects": {
            "0": {"type": "file", "name": "a.exe", "parent_directory_ref": "1"},
            "1": {"type": "directory", "path": "/tmp"}
        }
    })];
    let p = parse("[file:parent_directory_ref.path = '/tmp']").unwrap();
    assert_eq!(matches_stix(&p, &d), Ok(true));
}

#[test]
fn large_counts_do_not_blow_up() {
    // number_observed in the millions: bindings are multisets, not instances.
    let d = vec![json!({"type": "bundle", "id": "bundle--1", "objects": [
        od("observed-data--1", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", 5_000_000, &["file--1"]),
        {"type": "file", "id": "file--1", "name": "a"}
    ]})];
    let p = parse(
        "[file:name = 'a'] REPEATS 5 TIMES AND [file:name = 'a'] FOLLOWEDBY [file:name = 'a']",
    )
    .unwrap();
    assert_eq!(matches_stix(&p, &d), Ok(true));
}

#[test]
fn an_evaluator_is_built_once_and_reused() {
    use vigil_pattern::{Evaluator, ObservedData};
    let ev = Evaluator::new(&parse("[file:name MATCHES '^Rep']").unwrap()).unwrap();
    let obs = ObservedData::from_stix(&data()).unwrap();
    assert_eq!(ev.matches(&obs), Ok(true));
    assert_eq!(ev.matches(&obs[1..]), Ok(false)); // the file is in the first observation only
    assert!(Evaluator::new(&parse("[a:b MATCHES '(']").unwrap()).is_err());
}
