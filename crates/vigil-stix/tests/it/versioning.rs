use serde_json::{json, Map, Value};
use vigil_stix::versioning::{new_version, revoke};
use vigil_stix::Timestamp;

fn indicator() -> Map<String, Value> {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
        "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.3']", "pattern_type": "stix",
        "valid_from": "2016-01-01T00:00:00Z", "x_acme_score": 7
    })
    .as_object()
    .unwrap()
    .clone()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

#[test]
fn new_version_moves_modified_and_keeps_identity() {
    let old = indicator();
    let mut changes = Map::new();
    changes.insert("name".into(), json!("renamed"));
    let new = new_version(&old, &changes, ts("2024-05-06T07:08:09.123Z")).unwrap();
    assert_eq!(new["id"], old["id"]);
    assert_eq!(new["created"], old["created"]);
    assert_eq!(new["modified"], "2024-05-06T07:08:09.123Z");
    assert_eq!(new["name"], "renamed");
    assert_eq!(new["x_acme_score"], 7);
}

#[test]
fn modified_is_strictly_later_even_with_a_slow_clock() {
    let old = indicator();
    // "now" before the current modified: the next millisecond is used instead.
    let new = new_version(&old, &Map::new(), ts("2000-01-01T00:00:00.000Z")).unwrap();
    assert_eq!(new["modified"], "2016-04-06T20:03:48.001Z");
    // Microsecond precision is kept.
    let mut fine = indicator();
    fine.insert("modified".into(), json!("2016-04-06T20:03:48.123456Z"));
    let new = new_version(&fine, &Map::new(), ts("2000-01-01T00:00:00.000Z")).unwrap();
    assert_eq!(new["modified"], "2016-04-06T20:03:48.123457Z");
}

#[test]
fn unmodifiable_properties_and_earlier_modified_are_refused() {
    let old = indicator();
    for (key, value) in [
        (
            "id",
            json!("indicator--00000000-0000-4000-8000-000000000000"),
        ),
        ("created", json!("2017-01-01T00:00:00.000Z")),
        (
            "created_by_ref",
            json!("identity--00000000-0000-4000-8000-000000000000"),
        ),
        ("type", json!("malware")),
        ("modified", json!("2016-04-06T20:03:48.000Z")),
    ] {
        let mut changes = Map::new();
        changes.insert(key.into(), value);
        let err = new_version(&old, &changes, Timestamp::now()).unwrap_err();
        assert_eq!(err.pointer(), Some(format!("/{key}").as_str()), "{err}");
    }
    let no_modified = json!({"type": "ipv4-addr", "value": "1.2.3.4"});
    assert!(new_version(
        no_modified.as_object().unwrap(),
        &Map::new(),
        Timestamp::now()
    )
    .is_err());
}

#[test]
fn revoked_objects_cannot_be_versioned_and_python_stix2_agrees() {
    let old = indicator();
    let v2 = new_version(&old, &Map::new(), Timestamp::now()).unwrap();
    let revoked = revoke(&v2, Timestamp::now()).unwrap();
    assert_eq!(revoked["revoked"], true);
    let err = revoke(&revoked, Timestamp::now()).unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
    let pairs = json!([[old, v2], [v2, revoked]]);
    if let Some(verdicts) = super::interop::run_script("versions.py", &pairs) {
        assert_eq!(verdicts, json!(["ok", "ok"]));
    }
}

#[test]
fn typed_objects_version_and_keep_created_before_modified() {
    use vigil_stix::StixObject;
    let object = StixObject::from_value(Value::Object(indicator())).unwrap();
    let common = object.common().unwrap();
    assert!(common.modified_not_before_created());
    let v2 = object.new_version(&Map::new(), Timestamp::now()).unwrap();
    assert!(v2.modified() > object.modified());
    assert_eq!(v2.created(), object.created());
    assert_eq!(v2.id(), object.id());
    let revoked = v2.revoke(Timestamp::now()).unwrap();
    assert_eq!(revoked.common().unwrap().revoked, Some(true));
    assert!(revoked.new_version(&Map::new(), Timestamp::now()).is_err());

    let mut backwards = indicator();
    backwards.insert("modified".into(), json!("2015-01-01T00:00:00.000Z"));
    let object = StixObject::from_value(Value::Object(backwards)).unwrap();
    assert!(!object.common().unwrap().modified_not_before_created());
}
