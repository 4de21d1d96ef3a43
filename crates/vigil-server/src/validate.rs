//! The checks every posted object passes before it is stored: the STIX 2.1
//! validator (`vigil-validate`, with the pattern grammar), one object at a
//! time. An error rejects the object and is reported in the status resource
//! with the property at fault; warnings do not stop it. The others of the
//! same request are still stored.

use std::sync::OnceLock;

use serde_json::Value;
use vigil_stix::Timestamp;
use vigil_validate::{Options, Severity, Validator};

/// What the hub indexes of a valid object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// STIX id.
    pub id: String,
    /// STIX type.
    pub stix_type: String,
    /// `spec_version` (2.1 when an SCO omits it).
    pub spec_version: String,
    /// The version timestamp (`modified`, else `created`), if any.
    pub version: Option<(String, i64)>,
}

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| Validator::new(Options::with_stix_patterns(false)))
}

/// Checks one object; the error names the property at fault.
pub fn check(o: &Value) -> Result<Checked, String> {
    let Some(map) = o.as_object() else {
        return Err("not a JSON object".into());
    };
    if map.get("type").and_then(Value::as_str) == Some("bundle") {
        return Err("a bundle cannot be stored as an object".into());
    }
    let report = validator().validate_object(o);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let at = if d.pointer.is_empty() {
                "/"
            } else {
                &d.pointer
            };
            format!("{at}: {}", d.message)
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    // The validator has checked these: present where required, well formed.
    let text = |key: &str| map.get(key).and_then(Value::as_str);
    let (Some(id), Some(stix_type)) = (text("id"), text("type")) else {
        return Err("property \"id\" or \"type\" is missing".into());
    };
    let stamp = |key: &str| -> Result<Option<(String, i64)>, String> {
        let Some(s) = text(key) else { return Ok(None) };
        let t = Timestamp::parse(s).map_err(|e| format!("/{key}: {e}"))?;
        Ok(Some((s.to_string(), t.to_unix_micros())))
    };
    let (created, modified) = (stamp("created")?, stamp("modified")?);
    Ok(Checked {
        id: id.to_string(),
        stix_type: stix_type.to_string(),
        spec_version: text("spec_version").unwrap_or("2.1").to_string(),
        version: modified.or(created),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_sdo_and_sco() {
        let sdo = json!({"type": "malware", "id": "malware--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7", "spec_version": "2.1",
            "created": "2021-07-18T00:00:00.000Z", "modified": "2021-07-19T00:00:00.000Z", "name": "Pegasus", "is_family": true});
        let c = check(&sdo).unwrap();
        assert_eq!(c.version.unwrap().0, "2021-07-19T00:00:00.000Z");
        let sco = json!({"type": "domain-name", "id": "domain-name--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7", "value": "x.example"});
        assert_eq!(check(&sco).unwrap().version, None);
    }

    #[test]
    fn names_the_fault() {
        let cases = [
            (json!([]), "not a JSON object"),
            (json!({"id": "x"}), "'type'"),
            (
                json!({"type": "malware", "id": "indicator--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7"}),
                "/id: id 'indicator--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7' must start with the object's type 'malware--'",
            ),
            (
                json!({"type": "malware", "id": "malware--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7", "spec_version": "2.1"}),
                "created",
            ),
            (
                json!({"type": "malware", "id": "malware--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7", "spec_version": "2.1", "created": "yesterday"}),
                "/created",
            ),
        ];
        for (o, needle) in cases {
            let e = check(&o).unwrap_err();
            assert!(e.contains(needle), "{e} lacks {needle}");
        }
    }

    #[test]
    fn warnings_pass_and_pattern_errors_reject() {
        let indicator = |pattern: &str| {
            json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7",
                "created": "2021-07-18T00:00:00.000Z", "modified": "2021-07-18T00:00:00.000Z",
                "pattern": pattern, "pattern_type": "stix", "valid_from": "2021-07-18T00:00:00Z"})
        };
        // No name or description: the validator only warns, so the hub stores it.
        let ok = check(&indicator("[app:id = 'com.example']")).unwrap();
        assert_eq!(ok.stix_type, "indicator");
        assert_eq!(ok.version.unwrap().1, 1_626_566_400_000_000);
        let e = check(&indicator("[domain-name:value = 'x'")).unwrap_err();
        assert!(e.starts_with("/pattern: "), "{e}");
        let bundle =
            json!({"type": "bundle", "id": "bundle--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7"});
        assert!(check(&bundle).unwrap_err().contains("bundle"));
    }
}
