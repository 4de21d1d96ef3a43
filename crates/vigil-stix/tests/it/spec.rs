//! The property tables (`vigil_stix::spec`) agree with the typed model: a
//! property the tables define is read into a typed field, any other one is
//! kept as custom.

use std::collections::BTreeSet;

use serde_json::Value;
use vigil_stix::spec::{type_props, Prop, MARKING_COMMON, SCO_COMMON, SDO_COMMON};
use vigil_stix::vocab::RELATIONSHIPS;
use vigil_stix::{category_of, Category, StixObject, PREDEFINED_TYPES};

/// Every property the tables define for `ty`.
fn table(ty: &str) -> Vec<&'static Prop> {
    let common = match category_of(ty) {
        Some(Category::Sco) => SCO_COMMON,
        Some(Category::Meta) if ty == "marking-definition" => MARKING_COMMON,
        _ => SDO_COMMON,
    };
    common.iter().chain(type_props(ty).unwrap_or(&[])).collect()
}

#[test]
fn every_type_has_a_table_without_repeats() {
    for (ty, _) in PREDEFINED_TYPES {
        assert!(
            *ty == "marking-definition" || type_props(ty).is_some(),
            "no property table for {ty}"
        );
        let props = table(ty);
        let names: BTreeSet<_> = props.iter().map(|p| p.name).collect();
        assert_eq!(names.len(), props.len(), "a property listed twice for {ty}");
    }
    for ty in ["bundle", "x-custom", "app:id", ""] {
        assert_eq!(category_of(ty), None, "{ty}");
        assert!(type_props(ty).is_none(), "{ty}");
    }
}

#[test]
fn relationship_table_is_sorted_by_source() {
    // The validator finds a source's rows by binary search.
    assert!(RELATIONSHIPS.windows(2).all(|w| w[0].0 <= w[1].0));
}

/// Checks one object: typed properties are the table's, custom ones are
/// not. Returns the number of properties compared.
fn agrees(v: &Value, disagreements: &mut BTreeSet<String>) -> usize {
    let Some(ty) = v["type"].as_str() else {
        return 0;
    };
    if category_of(ty).is_none() {
        return 0;
    }
    let Ok(object) = StixObject::from_value(v.clone()) else {
        return 0;
    };
    let custom = object.custom_properties().cloned().unwrap_or_default();
    let props = table(ty);
    let mut compared = 0;
    for key in v.as_object().into_iter().flat_map(|o| o.keys()) {
        compared += 1;
        let in_table = props.iter().any(|p| p.name == key);
        let typed = !custom.contains_key(key);
        if in_table != typed {
            disagreements.insert(format!(
                "{ty}.{key}: {} by the tables, {} by the model",
                if in_table { "defined" } else { "not defined" },
                if typed { "typed" } else { "custom" }
            ));
        }
    }
    compared
}

#[test]
fn tables_and_typed_model_agree() {
    let mut disagreements = BTreeSet::new();
    let mut checked = 0;
    for v in crate::model::examples() {
        checked += agrees(&v, &mut disagreements);
    }
    for path in crate::indicator_files() {
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for v in doc["objects"].as_array().into_iter().flatten() {
            checked += agrees(v, &mut disagreements);
        }
    }
    assert!(checked > 100_000, "{checked} properties compared");
    assert!(
        disagreements.is_empty(),
        "{}",
        disagreements.into_iter().collect::<Vec<_>>().join("\n")
    );
}
