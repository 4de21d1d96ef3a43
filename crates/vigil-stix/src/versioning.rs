//! Object versioning (STIX 2.1 §3.6): new versions and revocation.
//!
//! A new version keeps `id`, `type`, `created` and `created_by_ref`, and has a
//! `modified` strictly later than the previous one. A revoked object cannot
//! be versioned further. These helpers work on JSON objects so that custom
//! objects and unknown properties are versioned without loss.

use serde_json::{Map, Value};

use crate::{Error, Timestamp};

/// Properties a new version must not change.
pub const UNMODIFIABLE_PROPERTIES: &[&str] = &["id", "type", "created", "created_by_ref"];

fn timestamp(object: &Map<String, Value>, key: &str) -> Result<Timestamp, Error> {
    let text = object.get(key).and_then(Value::as_str).ok_or_else(|| Error::Property {
        index: None,
        pointer: format!("/{key}"),
        message: "missing or not a string; only objects with `created` and `modified` can be versioned".into(),
    })?;
    Timestamp::parse(text).map_err(|e| Error::Property {
        index: None,
        pointer: format!("/{key}"),
        message: e.to_string(),
    })
}

/// Makes a new version of `object` with `changes` applied.
///
/// `modified` is taken from `changes` if given (it must be later than the
/// current one), else it is the later of `now` and the smallest tick after
/// the current `modified`, written with at least millisecond precision. A
/// change to `null` removes the property.
pub fn new_version(
    object: &Map<String, Value>,
    changes: &Map<String, Value>,
    now: Timestamp,
) -> Result<Map<String, Value>, Error> {
    if object.get("revoked") == Some(&Value::Bool(true)) {
        return Err(Error::Property {
            index: None,
            pointer: "/revoked".into(),
            message: "cannot create a new version of a revoked object".into(),
        });
    }
    // `created` must be present and valid, though only `modified` moves.
    timestamp(object, "created")?;
    let old = timestamp(object, "modified")?;
    for key in UNMODIFIABLE_PROPERTIES {
        if let Some(v) = changes.get(*key) {
            if object.get(*key) != Some(v) {
                return Err(Error::Property {
                    index: None,
                    pointer: format!("/{key}"),
                    message: "cannot be changed in a new version".into(),
                });
            }
        }
    }
    let modified = match changes.get("modified") {
        Some(v) => {
            let text = v.as_str().unwrap_or_default();
            let ts = Timestamp::parse(text).map_err(|e| Error::Property {
                index: None,
                pointer: "/modified".into(),
                message: e.to_string(),
            })?;
            if ts <= old {
                return Err(Error::Property {
                    index: None,
                    pointer: "/modified".into(),
                    message: format!("{ts} is not later than the current modified {old}"),
                });
            }
            ts
        }
        None => {
            let digits = old.fraction_digits().max(3);
            let now = now.with_fraction_digits(digits).unwrap_or(now);
            let tick = old
                .with_fraction_digits(digits)
                .and_then(Timestamp::next_tick)
                .ok_or_else(|| Error::Property {
                    index: None,
                    pointer: "/modified".into(),
                    message: "no later timestamp can be written".into(),
                })?;
            now.max(tick)
        }
    };
    let mut out = object.clone();
    for (k, v) in changes {
        if v.is_null() {
            out.remove(k);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert("modified".into(), Value::String(modified.to_string()));
    Ok(out)
}

/// Revokes `object`: a new version with `revoked: true`.
pub fn revoke(object: &Map<String, Value>, now: Timestamp) -> Result<Map<String, Value>, Error> {
    let mut changes = Map::new();
    changes.insert("revoked".into(), Value::Bool(true));
    new_version(object, &changes, now)
}
