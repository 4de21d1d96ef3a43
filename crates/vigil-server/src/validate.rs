//! The checks every posted object passes before it is stored: enough of
//! STIX 2.1 to index it correctly (id, type, spec_version, timestamps).
//! A failing object is reported in the status resource; the others of the
//! same request are still stored.

use serde_json::Value;

use crate::timestamp;

/// STIX Cyber-observable types: `created`/`modified` are optional for them.
const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

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

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn valid_type(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !t.starts_with('-')
        && !t.ends_with('-')
        && !t.contains("--")
}

/// Checks one object; the error names the property at fault.
pub fn check(o: &Value) -> Result<Checked, String> {
    let Some(map) = o.as_object() else {
        return Err("not a JSON object".into());
    };
    let t = map
        .get("type")
        .and_then(Value::as_str)
        .ok_or("property \"type\" is missing or not a string")?;
    if !valid_type(t) {
        return Err(format!("type {t:?} is not a valid STIX type name"));
    }
    let id = map
        .get("id")
        .and_then(Value::as_str)
        .ok_or("property \"id\" is missing or not a string")?;
    match id.split_once("--") {
        Some((prefix, uuid)) if prefix == t && is_uuid(uuid) => {}
        _ => return Err(format!("id {id:?} is not \"{t}--\" followed by a UUID")),
    }
    if t == "bundle" {
        return Err("a bundle cannot be stored as an object".into());
    }
    let is_sco = SCO_TYPES.contains(&t);
    let spec_version = match map.get("spec_version") {
        Some(Value::String(s)) if s == "2.1" => s.clone(),
        Some(Value::String(s)) => return Err(format!("spec_version {s:?} is not \"2.1\"")),
        Some(_) => return Err("spec_version is not a string".into()),
        None if is_sco => "2.1".to_string(),
        None => return Err("property \"spec_version\" is missing".into()),
    };
    let stamp = |key: &str| -> Result<Option<(String, i64)>, String> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => timestamp::parse(s)
                .map(|us| Some((s.clone(), us)))
                .ok_or_else(|| format!("{key} {s:?} is not a STIX timestamp")),
            Some(_) => Err(format!("{key} is not a string")),
        }
    };
    let created = stamp("created")?;
    let modified = stamp("modified")?;
    if !is_sco && created.is_none() {
        return Err("property \"created\" is missing".into());
    }
    if let (Some((_, c)), Some((_, m))) = (&created, &modified) {
        if m < c {
            return Err("modified is earlier than created".into());
        }
    }
    Ok(Checked {
        id: id.to_string(),
        stix_type: t.to_string(),
        spec_version,
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
            "created": "2021-07-18T00:00:00.000Z", "modified": "2021-07-19T00:00:00Z", "name": "Pegasus", "is_family": true});
        let c = check(&sdo).unwrap();
        assert_eq!(c.version.unwrap().0, "2021-07-19T00:00:00Z");
        let sco = json!({"type": "domain-name", "id": "domain-name--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7", "value": "x.example"});
        assert_eq!(check(&sco).unwrap().version, None);
    }

    #[test]
    fn names_the_fault() {
        let cases = [
            (json!([]), "not a JSON object"),
            (json!({"id": "x"}), "\"type\""),
            (
                json!({"type": "malware", "id": "indicator--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7"}),
                "is not \"malware--\"",
            ),
            (
                json!({"type": "malware", "id": "malware--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7", "spec_version": "2.1"}),
                "created",
            ),
            (
                json!({"type": "malware", "id": "malware--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7", "spec_version": "2.1", "created": "yesterday"}),
                "STIX timestamp",
            ),
            (
                json!({"type": "malware", "id": "malware--2b0d3bf7-3a1b-4f0e-9d6c-cf9e24b94fb7", "spec_version": "2.0", "created": "2021-07-18T00:00:00Z"}),
                "spec_version",
            ),
        ];
        for (o, needle) in cases {
            let e = check(&o).unwrap_err();
            assert!(e.contains(needle), "{e} lacks {needle}");
        }
    }
}
