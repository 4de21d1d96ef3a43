//! The three texts the search index holds for an object, worked out from
//! its JSON body in Rust at insert time (one parse per object, instead of
//! the database reading the body once per field): names (name, aliases),
//! values (pattern, value, URL, hashes) and other text (description, types,
//! roles, sectors, external reference sources and ids). Migration 6 fills
//! the index from rows stored before it by reading the same fields in SQL;
//! both give the index the same words (arrays and objects are JSON text,
//! whose punctuation the tokenizers drop).

use serde_json::{Map, Value};

/// Names, values and other text of an object body; three empty strings
/// when the body is not a JSON object.
pub(crate) fn fields(body: &str) -> [String; 3] {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => search_texts(&v),
        Err(_) => Default::default(),
    }
}

/// The three texts the search index holds for an object — names (name,
/// aliases), values (pattern, value, URL, hashes) and other text — from the
/// object already parsed; three empty strings when it is not a JSON object.
/// A caller that has parsed the object hands these in
/// [`NewObject::search`](crate::NewObject::search), so the insert does not
/// parse the body again.
pub fn search_texts(object: &Value) -> [String; 3] {
    let Value::Object(o) = object else {
        return Default::default();
    };
    let mut names = String::new();
    for k in ["name", "aliases", "x_mitre_aliases"] {
        push(&mut names, o.get(k));
    }
    let mut vals = String::new();
    for k in ["pattern", "value", "x_vigil_value", "url", "hashes"] {
        push(&mut vals, o.get(k));
    }
    let mut text = String::new();
    for k in [
        "description",
        "relationship_type",
        "identity_class",
        "country",
        "labels",
        "indicator_types",
        "malware_types",
        "tool_types",
        "infrastructure_types",
        "roles",
        "sectors",
    ] {
        push(&mut text, o.get(k));
    }
    references(&mut text, o);
    [names, vals, text]
}

/// Appends a field's text (a string as it is, anything else as JSON text,
/// whose punctuation the tokenizers drop), space-separated; null and
/// absent fields add nothing.
fn push(out: &mut String, v: Option<&Value>) {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return;
    };
    if !out.is_empty() {
        out.push(' ');
    }
    match v {
        Value::String(s) => out.push_str(s),
        other => out.push_str(&other.to_string()),
    }
}

/// The source names and external ids of `external_references`.
fn references(out: &mut String, o: &Map<String, Value>) {
    let Some(Value::Array(refs)) = o.get("external_references") else {
        return;
    };
    for r in refs {
        push(out, r.get("source_name"));
        push(out, r.get("external_id"));
    }
}

#[cfg(test)]
mod tests {
    use super::fields;

    #[test]
    fn each_field_lands_in_its_column_and_absent_ones_add_nothing() {
        let [names, vals, text] = fields(
            r#"{"type":"malware","name":"Pegasus","aliases":["Chrysaor"],
               "hashes":{"SHA-256":"ab12"},"description":null,"malware_types":["spyware"],
               "external_references":[{"source_name":"amnesty","external_id":"A-1"},{"url":"u"}]}"#,
        );
        assert_eq!(names, r#"Pegasus ["Chrysaor"]"#);
        assert_eq!(vals, r#"{"SHA-256":"ab12"}"#);
        assert_eq!(text, r#"["spyware"] amnesty A-1"#);
    }

    #[test]
    fn a_body_that_is_not_an_object_gives_empty_texts() {
        assert_eq!(fields("[1]"), [String::new(), String::new(), String::new()]);
        assert_eq!(
            fields("not json"),
            [String::new(), String::new(), String::new()]
        );
    }
}
