#![no_main]
// Any text: parsing never panics; a parsed pattern prints to text that parses
// back to the same tree; validating, compiling and evaluating never panic.
use std::sync::OnceLock;

fn observed() -> &'static [vigil_pattern::ObservedData] {
    static DATA: OnceLock<Vec<vigil_pattern::ObservedData>> = OnceLock::new();
    DATA.get_or_init(|| {
        let bundle = serde_json::json!({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "observed-data", "id": "observed-data--1", "first_observed": "2020-01-01T00:00:00Z",
             "last_observed": "2020-01-01T00:01:00Z", "number_observed": 2, "object_refs": ["file--1", "ipv4-addr--1"]},
            {"type": "file", "id": "file--1", "name": "a.exe", "size": 10, "hashes": {"MD5": "cead3f77f6cda6ec00f57d76c9a6879f"},
             "magic_number_hex": "4d5a", "x_list": [1, "a", null], "parent_directory_ref": "ipv4-addr--1"},
            {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "10.0.0.1"}
        ]});
        vigil_pattern::ObservedData::from_stix(&[bundle]).unwrap_or_default()
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(pattern) = vigil_pattern::parse(text) else { return };
    let printed = pattern.to_string();
    let again = vigil_pattern::parse(&printed).expect("printed pattern parses");
    assert_eq!(pattern, again, "round trip of {printed}");
    let _ = vigil_pattern::validate(&pattern);
    let _ = vigil_pattern::compile(&pattern);
    let _ = vigil_pattern::matches(&pattern, observed());
});
