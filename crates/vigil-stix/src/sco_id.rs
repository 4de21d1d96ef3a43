//! Deterministic identifiers of cyber-observables (STIX 2.1 §2.9).
//!
//! An SCO's id is `type--UUIDv5(namespace, JCS(contributing properties))`,
//! where the namespace is [`crate::STIX_NAMESPACE`], JCS is the RFC 8785
//! canonical JSON of an object holding only the type's ID contributing
//! properties that are present, and of `hashes` only one hash is used,
//! chosen as MD5, else SHA-1, else SHA-256, else SHA-512, else the first
//! (in key order).

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::json::canonical_json;
use crate::{Error, Identifier, STIX_NAMESPACE};

/// The ID contributing properties of each SCO type, as listed in STIX 2.1 §6.
///
/// `process` is listed with none: its ids are always random (UUIDv4).
pub const ID_CONTRIBUTING_PROPERTIES: &[(&str, &[&str])] = &[
    ("artifact", &["hashes", "payload_bin"]),
    ("autonomous-system", &["number"]),
    ("directory", &["path"]),
    ("domain-name", &["value"]),
    ("email-addr", &["value"]),
    ("email-message", &["from_ref", "subject", "body"]),
    (
        "file",
        &["hashes", "name", "extensions", "parent_directory_ref"],
    ),
    ("ipv4-addr", &["value"]),
    ("ipv6-addr", &["value"]),
    ("mac-addr", &["value"]),
    ("mutex", &["name"]),
    (
        "network-traffic",
        &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
    ),
    ("process", &[]),
    ("software", &["name", "cpe", "swid", "vendor", "version"]),
    ("url", &["value"]),
    (
        "user-account",
        &["account_type", "user_id", "account_login"],
    ),
    ("windows-registry-key", &["key", "values"]),
    ("x509-certificate", &["hashes", "serial_number"]),
];

/// The ID contributing properties of an SCO type (`None` if the type is not an SCO).
pub fn id_contributing_properties(object_type: &str) -> Option<&'static [&'static str]> {
    ID_CONTRIBUTING_PROPERTIES
        .iter()
        .find(|(t, _)| *t == object_type)
        .map(|(_, props)| *props)
}

/// The deterministic id of an SCO given as a JSON object (its own `id`, if any, is ignored).
///
/// Returns `Ok(None)` when the type has no contributing properties or none
/// of them is present, in which case STIX says to use a random UUIDv4.
/// Fails if the object has no SCO `type`, or `hashes` is present but empty
/// or not an object.
pub fn deterministic_id(object: &Map<String, Value>) -> Result<Option<Identifier>, Error> {
    let object_type =
        object
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Property {
                index: None,
                pointer: "/type".into(),
                message: "missing or not a string".into(),
            })?;
    let props = id_contributing_properties(object_type).ok_or_else(|| Error::Property {
        index: None,
        pointer: "/type".into(),
        message: format!("{object_type:?} is not a cyber-observable type with deterministic ids"),
    })?;
    let mut contributing = Map::new();
    for &prop in props {
        let Some(value) = object.get(prop) else {
            continue;
        };
        let value = if prop == "hashes" {
            choose_one_hash(value)?
        } else {
            value.clone()
        };
        contributing.insert(prop.to_owned(), value);
    }
    if contributing.is_empty() {
        return Ok(None);
    }
    let canonical = canonical_json(&Value::Object(contributing));
    let uuid = Uuid::new_v5(&STIX_NAMESPACE, canonical.as_bytes());
    Identifier::new(object_type, uuid).map(Some)
}

fn choose_one_hash(hashes: &Value) -> Result<Value, Error> {
    let Value::Object(map) = hashes else {
        return Err(Error::Property {
            index: None,
            pointer: "/hashes".into(),
            message: "expected an object of algorithm to hash".into(),
        });
    };
    let key = ["MD5", "SHA-1", "SHA-256", "SHA-512"]
        .into_iter()
        .find(|k| map.contains_key(*k))
        .or_else(|| map.keys().next().map(String::as_str))
        .ok_or_else(|| Error::Property {
            index: None,
            pointer: "/hashes".into(),
            message: "no hashes given".into(),
        })?;
    let mut one = Map::new();
    one.insert(key.to_owned(), map[key].clone());
    Ok(Value::Object(one))
}
