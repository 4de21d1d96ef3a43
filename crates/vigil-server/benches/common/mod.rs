//! Generated objects and process measurements shared by the benchmarks.

use serde_json::Value;
use vigil_store::{NewObject, Tlp};

/// A public (TLP:CLEAR) STIX 2.1 indicator number `i`, created at the
/// start of 2024, with `fields` (name, pattern, description …) added.
pub fn indicator(i: usize, fields: Value) -> NewObject {
    const T: &str = "2024-01-01T00:00:00.000Z";
    let id = format!("indicator--00000000-0000-4000-8000-{i:012x}");
    let mut body = serde_json::json!({"type": "indicator", "spec_version": "2.1", "id": id,
        "created": T, "modified": T, "pattern_type": "stix", "valid_from": T});
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), fields) {
        b.extend(extra);
    }
    NewObject {
        body: body.to_string(),
        search: None,
        id,
        stix_type: "indicator".into(),
        spec_version: "2.1".into(),
        version: T.into(),
        version_us: 1_704_067_200_000_000,
        tlp: Tlp::Clear,
        org_id: None,
        user_id: None,
    }
}

/// CPU seconds (user + system) of the process so far.
pub fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // Fields 14 and 15 of stat (utime, stime), counted after the command.
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) as f64 / 100.0
}
