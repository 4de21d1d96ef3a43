use serde_json::Value;
use vigil_stix::{MarkingDefinition, StixObject, Tlp, TLP_2_EXTENSION_ID};

#[test]
fn tlp_1_objects_match_python_stix2() {
    let Some(reference) = super::interop::run_script("tlp.py", &Value::Null) else {
        return;
    };
    let ours: Vec<Value> = [Tlp::White, Tlp::Green, Tlp::Amber, Tlp::Red]
        .into_iter()
        .map(|t| serde_json::to_value(t.marking_definition()).unwrap())
        .collect();
    assert_eq!(Value::Array(ours), reference);
}

#[test]
fn tlp_2_objects_have_the_published_ids_and_extension() {
    // Ids as published by OASIS in the TLP 2.0 extension-definition examples.
    let published = [
        (
            Tlp::V2Clear,
            "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            "TLP:CLEAR",
        ),
        (
            Tlp::V2Green,
            "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            "TLP:GREEN",
        ),
        (
            Tlp::V2Amber,
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            "TLP:AMBER",
        ),
        (
            Tlp::V2AmberStrict,
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            "TLP:AMBER+STRICT",
        ),
        (
            Tlp::V2Red,
            "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
            "TLP:RED",
        ),
    ];
    assert_eq!(
        TLP_2_EXTENSION_ID,
        "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
    );
    for (tlp, id, name) in published {
        let m = tlp.marking_definition();
        assert_eq!(m.common.id.as_str(), id);
        assert_eq!(m.name.as_deref(), Some(name));
        assert_eq!(m.common.created.to_string(), "2022-10-01T00:00:00.000Z");
        let ext = &m.common.extensions.as_ref().unwrap()[TLP_2_EXTENSION_ID];
        assert_eq!(ext["extension_type"], "property-extension");
        assert_eq!(m.tlp(), Some(tlp));
        assert_eq!(Tlp::from_id(id), Some(tlp));
    }
}

#[test]
fn tlp_is_recognised_by_content_and_statements_are_read() {
    for tlp in Tlp::ALL {
        let v = serde_json::to_value(tlp.marking_definition()).unwrap();
        let StixObject::MarkingDefinition(m) = StixObject::from_value(v.clone()).unwrap() else {
            panic!("not a marking definition")
        };
        assert_eq!(m.tlp(), Some(tlp));
        assert_eq!(StixObject::MarkingDefinition(m).to_value(), v);
    }
    let s = MarkingDefinition::new_statement("Copyright 2026, Vigil");
    assert_eq!(s.statement(), Some("Copyright 2026, Vigil"));
    assert_eq!(s.tlp(), None);
    assert!(s.common.created.has_millisecond_precision());
    assert_eq!(
        Tlp::from_id("marking-definition--00000000-0000-4000-8000-000000000000"),
        None
    );
}
