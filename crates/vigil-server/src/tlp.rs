//! Classifies a STIX object into the TLP level the hub enforces.
//!
//! The effective level is the most restrictive TLP marking found in
//! `object_marking_refs` and in every `granular_markings` entry: an object
//! with one TLP:RED granular marking is withheld as a whole from anyone who
//! may not see TLP:RED (the hub never serves a partially redacted object).
//! TLP 1.0 (WHITE/GREEN/AMBER/RED) and TLP 2.0 marking definitions are both
//! recognised by their published ids, and by the `tlp` definition or `TLP:`
//! name of a marking definition posted in the same request. An object with no
//! TLP marking gets the hub's default level. Marking definitions themselves
//! are TLP:CLEAR: they describe markings, not intelligence.

use std::collections::HashMap;

use serde_json::Value;
use vigil_store::Tlp;

/// The published ids of the TLP marking definitions (1.0 in STIX 2.1, and 2.0).
pub const KNOWN: &[(&str, Tlp)] = &[
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Clear,
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        Tlp::Green,
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Amber,
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        Tlp::Red,
    ),
    (
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Clear,
    ),
    (
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Green,
    ),
    (
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::Amber,
    ),
    (
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::AmberStrict,
    ),
    (
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        Tlp::Red,
    ),
];

/// The TLP 2.0 marking-definition id of a level.
pub fn marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => KNOWN[4].0,
        Tlp::Green => KNOWN[5].0,
        Tlp::Amber => KNOWN[6].0,
        Tlp::AmberStrict => KNOWN[7].0,
        Tlp::Red => KNOWN[8].0,
    }
}

/// Marking definitions known while classifying one request.
#[derive(Debug, Default)]
pub struct Markings {
    extra: HashMap<String, Tlp>,
}

impl Markings {
    /// Learns the TLP meaning of the marking definitions among `objects`.
    pub fn learn(&mut self, objects: &[Value]) {
        for o in objects {
            if o.get("type").and_then(Value::as_str) != Some("marking-definition") {
                continue;
            }
            let Some(id) = o.get("id").and_then(Value::as_str) else {
                continue;
            };
            if let Some(level) = definition_level(o) {
                self.extra.insert(id.to_string(), level);
            }
        }
    }

    fn level_of(&self, marking_ref: &str) -> Option<Tlp> {
        KNOWN
            .iter()
            .find(|(id, _)| *id == marking_ref)
            .map(|(_, t)| *t)
            .or_else(|| self.extra.get(marking_ref).copied())
    }

    /// The effective level of `object`, or `default` when it carries no TLP marking.
    pub fn classify(&self, object: &Value, default: Tlp) -> Tlp {
        if object.get("type").and_then(Value::as_str) == Some("marking-definition") {
            return Tlp::Clear;
        }
        let mut found: Option<Tlp> = None;
        let mut see = |r: &str| {
            if let Some(l) = self.level_of(r) {
                found = Some(found.map_or(l, |f| f.max(l)));
            }
        };
        if let Some(refs) = object.get("object_marking_refs").and_then(Value::as_array) {
            refs.iter().filter_map(Value::as_str).for_each(&mut see);
        }
        if let Some(gms) = object.get("granular_markings").and_then(Value::as_array) {
            gms.iter()
                .filter_map(|g| g.get("marking_ref").and_then(Value::as_str))
                .for_each(&mut see);
        }
        found.unwrap_or(default)
    }
}

/// The TLP level a marking-definition object defines, if it is a TLP marking.
fn definition_level(o: &Value) -> Option<Tlp> {
    if o.get("definition_type").and_then(Value::as_str) == Some("tlp") {
        if let Some(t) = o.pointer("/definition/tlp").and_then(Value::as_str) {
            return Tlp::parse(t);
        }
    }
    if let Some(exts) = o.get("extensions").and_then(Value::as_object) {
        for ext in exts.values() {
            if let Some(t) = ext.get("tlp_2_0").and_then(Value::as_str) {
                return Tlp::parse(t);
            }
        }
    }
    o.get("name")
        .and_then(Value::as_str)
        .filter(|n| n.starts_with("TLP:"))
        .and_then(Tlp::parse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn most_restrictive_marking_wins_including_granular() {
        let m = Markings::default();
        let o = json!({"type": "indicator", "object_marking_refs": [marking_id(Tlp::Green)],
            "granular_markings": [{"marking_ref": marking_id(Tlp::Red), "selectors": ["description"]}]});
        assert_eq!(m.classify(&o, Tlp::Amber), Tlp::Red);
        let o = json!({"type": "indicator"});
        assert_eq!(m.classify(&o, Tlp::Amber), Tlp::Amber);
        let o = json!({"type": "indicator", "object_marking_refs": ["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]});
        assert_eq!(m.classify(&o, Tlp::Amber), Tlp::Clear, "TLP 1.0 WHITE");
    }

    #[test]
    fn learns_custom_tlp_definitions() {
        let mut m = Markings::default();
        m.learn(&[json!({"type": "marking-definition", "id": "marking-definition--00000000-0000-4000-8000-000000000001",
            "definition_type": "tlp", "definition": {"tlp": "red"}})]);
        let o = json!({"type": "malware", "object_marking_refs": ["marking-definition--00000000-0000-4000-8000-000000000001"]});
        assert_eq!(m.classify(&o, Tlp::Clear), Tlp::Red);
    }
}
