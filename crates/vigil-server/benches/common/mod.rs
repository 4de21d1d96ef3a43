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
    vigil_testkit::own_cpu_secs()
}
