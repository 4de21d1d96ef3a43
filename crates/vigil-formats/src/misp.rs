//! Imports from MISP: events (with their attributes and objects) and galaxy
//! clusters, turned into STIX 2.1 objects.
//!
//! Every attribute that has no STIX equivalent, or that is malformed, is
//! reported in [`Import::skipped`] with a JSON pointer; the rest is imported.

use serde_json::{json, Map, Value};

use crate::Error;

/// The outcome of an import.
#[derive(Debug, Clone, Default)]
pub struct Import {
    /// The STIX 2.1 objects made.
    pub objects: Vec<Value>,
    /// What was not imported, by JSON pointer, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// TLP 2.0 marking-definition ids, by MISP `tlp:` tag (TLP 1.0 names map to
/// their TLP 2.0 successors: white → clear).
fn tlp_marking(tag: &str) -> Option<&'static str> {
    Some(match tag.to_ascii_lowercase().as_str() {
        "tlp:clear" | "tlp:white" => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "tlp:green" => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "tlp:amber" => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "tlp:amber+strict" => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "tlp:red" => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        _ => return None,
    })
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Formats Unix seconds as a STIX timestamp with millisecond precision
/// (`None` outside years 0000–9999).
pub(crate) fn stix_time(secs: i64) -> Option<String> {
    vigil_stix::Timestamp::from_unix(secs, 0, 3).map(|t| t.to_string())
}

fn timestamp_of(v: Option<&Value>) -> Option<String> {
    let secs = match v? {
        Value::String(s) => s.parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    // Dates before 1970 are not MISP timestamps; stix_time refuses years past 9999.
    if secs < 0 {
        return None;
    }
    stix_time(secs)
}

fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The STIX pattern for a MISP attribute type and value, if there is one.
fn pattern_for(kind: &str, value: &str) -> Option<String> {
    let v = quote(value.trim());
    let p = match kind {
        "domain" | "hostname" => format!("[domain-name:value = '{v}']"),
        "url" | "link" | "uri" => format!("[url:value = '{v}']"),
        "ip-dst" | "ip-src" => {
            if value.contains(':') {
                format!("[ipv6-addr:value = '{v}']")
            } else {
                format!("[ipv4-addr:value = '{v}']")
            }
        }
        "email" | "email-src" | "email-dst" => format!("[email-addr:value = '{v}']"),
        "md5" => format!("[file:hashes.MD5 = '{v}']"),
        "sha1" => format!("[file:hashes.'SHA-1' = '{v}']"),
        "sha256" => format!("[file:hashes.'SHA-256' = '{v}']"),
        "sha512" => format!("[file:hashes.'SHA-512' = '{v}']"),
        "filename" => format!("[file:name = '{v}']"),
        "mutex" => format!("[mutex:name = '{v}']"),
        _ => {
            // Composite types: `domain|ip`, `filename|sha256` …
            let (k1, k2) = kind.split_once('|')?;
            let (v1, v2) = value.split_once('|')?;
            if k1 == "filename" {
                let h = pattern_for(k2, v2)?;
                let inner = h.trim_start_matches("[file:").trim_end_matches(']');
                return Some(format!("[file:name = '{}' AND file:{inner}]", quote(v1)));
            }
            let a = pattern_for(k1, v1)?;
            let b = pattern_for(k2, v2)?;
            return Some(format!("{a} OR {b}"));
        }
    };
    Some(p)
}

/// Imports one MISP event (the JSON of `/events/view`, with or without the
/// outer `{"Event": …}`) as a STIX report, indicators for its `to_ids`
/// attributes, and the TLP marking of its tags.
pub fn import_event(json: &Value) -> Result<Import, Error> {
    let event = json.get("Event").unwrap_or(json);
    let obj = event.as_object().ok_or_else(|| Error::Input {
        place: "/Event".into(),
        message: "expected a JSON object".into(),
    })?;
    let uuid = obj
        .get("uuid")
        .and_then(Value::as_str)
        .filter(|u| is_uuid(u))
        .ok_or_else(|| Error::Input {
            place: "/Event/uuid".into(),
            message: "missing or not a UUID".into(),
        })?;
    let info = obj
        .get("info")
        .and_then(Value::as_str)
        .unwrap_or("MISP event");
    let created = timestamp_of(obj.get("timestamp"))
        .or_else(|| {
            obj.get("date")
                .and_then(Value::as_str)
                .map(|d| format!("{d}T00:00:00.000Z"))
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_string());
    let markings: Vec<&str> = obj
        .get("Tag")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .filter_map(tlp_marking)
                .collect()
        })
        .unwrap_or_default();

    let mut import = Import::default();
    let mut refs = Vec::new();
    let mut attributes: Vec<(String, &Value)> = Vec::new();
    if let Some(list) = obj.get("Attribute").and_then(Value::as_array) {
        for (i, a) in list.iter().enumerate() {
            attributes.push((format!("/Event/Attribute/{i}"), a));
        }
    }
    if let Some(list) = obj.get("Object").and_then(Value::as_array) {
        for (i, o) in list.iter().enumerate() {
            if let Some(attrs) = o.get("Attribute").and_then(Value::as_array) {
                for (j, a) in attrs.iter().enumerate() {
                    attributes.push((format!("/Event/Object/{i}/Attribute/{j}"), a));
                }
            }
        }
    }
    for (place, a) in attributes {
        let kind = a.get("type").and_then(Value::as_str).unwrap_or("");
        let value = a.get("value").and_then(Value::as_str).unwrap_or("");
        let to_ids = match a.get("to_ids") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        };
        if !to_ids {
            import.skipped.push((place, "to_ids is not set".into()));
            continue;
        }
        if value.trim().is_empty() || value.len() > 8192 {
            import
                .skipped
                .push((place, "empty or oversized value".into()));
            continue;
        }
        let Some(pattern) = pattern_for(kind, value) else {
            import.skipped.push((
                place,
                format!("attribute type {kind:?} has no STIX pattern equivalent"),
            ));
            continue;
        };
        if let Err(e) = vigil_pattern::parse(&pattern) {
            import
                .skipped
                .push((place, format!("value does not form a valid pattern: {e}")));
            continue;
        }
        let id = match a.get("uuid").and_then(Value::as_str).filter(|u| is_uuid(u)) {
            Some(u) => format!("indicator--{}", u.to_ascii_lowercase()),
            None => {
                import.skipped.push((place, "attribute has no UUID".into()));
                continue;
            }
        };
        let ts = timestamp_of(a.get("timestamp")).unwrap_or_else(|| created.clone());
        let mut ind = Map::new();
        ind.insert("type".into(), json!("indicator"));
        ind.insert("spec_version".into(), json!("2.1"));
        ind.insert("id".into(), json!(id));
        ind.insert("created".into(), json!(ts));
        ind.insert("modified".into(), json!(ts));
        ind.insert("valid_from".into(), json!(ts));
        ind.insert("pattern".into(), json!(pattern));
        ind.insert("pattern_type".into(), json!("stix"));
        ind.insert("indicator_types".into(), json!(["malicious-activity"]));
        if let Some(c) = a
            .get("comment")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
        {
            ind.insert("description".into(), json!(c));
        }
        if !markings.is_empty() {
            ind.insert("object_marking_refs".into(), json!(markings));
        }
        refs.push(id);
        import.objects.push(Value::Object(ind));
    }
    let mut report = Map::new();
    report.insert("type".into(), json!("report"));
    report.insert("spec_version".into(), json!("2.1"));
    report.insert(
        "id".into(),
        json!(format!("report--{}", uuid.to_ascii_lowercase())),
    );
    report.insert("created".into(), json!(created));
    report.insert("modified".into(), json!(created));
    report.insert("name".into(), json!(info));
    report.insert("published".into(), json!(created));
    report.insert("report_types".into(), json!(["threat-report"]));
    if refs.is_empty() {
        // A report must reference at least one object: point at itself is not
        // allowed, so an event without indicators yields no report.
        import.skipped.push((
            "/Event".into(),
            "no importable attribute; no report made".into(),
        ));
    } else {
        report.insert("object_refs".into(), json!(refs));
        if !markings.is_empty() {
            report.insert("object_marking_refs".into(), json!(markings));
        }
        import.objects.push(Value::Object(report));
    }
    Ok(import)
}

/// Imports a MISP galaxy cluster file (such as `surveillance-vendor.json`):
/// each value becomes a STIX identity (an organisation) with its synonyms,
/// description and references.
pub fn import_galaxy(json: &Value, created: &str) -> Result<Import, Error> {
    let values = json
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Input {
            place: "/values".into(),
            message: "a galaxy cluster file has a `values` array".into(),
        })?;
    let galaxy = json
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("misp-galaxy");
    let mut import = Import::default();
    for (i, v) in values.iter().enumerate() {
        let place = format!("/values/{i}");
        let (Some(name), Some(uuid)) = (
            v.get("value")
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty()),
            v.get("uuid").and_then(Value::as_str).filter(|u| is_uuid(u)),
        ) else {
            import
                .skipped
                .push((place, "cluster value without a name or UUID".into()));
            continue;
        };
        let meta = v.get("meta");
        let mut refs = Vec::new();
        for key in ["refs", "official-refs"] {
            if let Some(list) = meta.and_then(|m| m.get(key)).and_then(Value::as_array) {
                let source = if key == "refs" {
                    "reference"
                } else {
                    "official"
                };
                // Real galaxies carry references with stray spaces around the
                // address; one with spaces inside is kept as text, not a URL.
                for url in list.iter().filter_map(Value::as_str).map(str::trim) {
                    if url.is_empty() {
                        continue;
                    }
                    if url.contains(char::is_whitespace) || !url.contains(':') {
                        refs.push(json!({"source_name": source, "description": url}));
                    } else {
                        refs.push(json!({"source_name": source, "url": url}));
                    }
                }
            }
        }
        refs.insert(
            0,
            json!({"source_name": format!("misp-galaxy:{galaxy}"), "external_id": uuid}),
        );
        let mut o = Map::new();
        o.insert("type".into(), json!("identity"));
        o.insert("spec_version".into(), json!("2.1"));
        o.insert(
            "id".into(),
            json!(format!("identity--{}", uuid.to_ascii_lowercase())),
        );
        o.insert("created".into(), json!(created));
        o.insert("modified".into(), json!(created));
        o.insert("name".into(), json!(name));
        o.insert("identity_class".into(), json!("organization"));
        if let Some(d) = v
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
        {
            o.insert("description".into(), json!(d));
        }
        o.insert("external_references".into(), Value::Array(refs));
        if let Some(syn) = meta
            .and_then(|m| m.get("synonyms"))
            .and_then(Value::as_array)
        {
            o.insert("x_misp_synonyms".into(), Value::Array(syn.clone()));
        }
        import.objects.push(Value::Object(o));
    }
    Ok(import)
}

#[cfg(test)]
mod tests {
    use super::stix_time;

    #[test]
    fn unix_seconds_become_stix_timestamps() {
        assert_eq!(stix_time(0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(stix_time(951_782_400).unwrap(), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            stix_time(1_700_000_000).unwrap(),
            "2023-11-14T22:13:20.000Z"
        );
        assert_eq!(stix_time(253_402_300_800), None);
    }
}
