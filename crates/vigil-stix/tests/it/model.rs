use serde_json::{json, Value};
use vigil_stix::bundle::BundleReader;
use vigil_stix::{
    category_of, Bundle, Category, CustomKind, File, Indicator, StixObject, PREDEFINED_TYPES,
};

/// Golden round trip: every object of every corpus types and serialises back to the same JSON.
#[test]
fn every_indicator_corpus_round_trips_through_the_typed_model() {
    let mut typed = 0;
    for path in super::indicator_files() {
        let reader = BundleReader::new(std::fs::File::open(&path).unwrap());
        for raw in reader {
            let raw = raw.unwrap();
            let object = StixObject::from_value(raw.value.clone())
                .unwrap_or_else(|e| panic!("{} object {}: {e}", path.display(), raw.index));
            assert_ne!(object.category(), Category::Custom, "{}", path.display());
            assert_eq!(
                object.to_value(),
                raw.value,
                "{} object {}",
                path.display(),
                raw.index
            );
            typed += 1;
        }
    }
    assert!(typed > 11_000, "only {typed} objects");
}

#[test]
fn whole_bundle_types_and_round_trips() {
    let path = vigil_testkit::workspace_root()
        .join("data/indicators/mvt-indicators/2023-04-11_quadream/kingspawn.stix2");
    let bytes = std::fs::read(path).unwrap();
    let bundle = Bundle::from_slice(&bytes).unwrap();
    let original: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(serde_json::to_value(&bundle).unwrap(), original);
    let objects = bundle.objects.as_ref().unwrap();
    let indicators = objects
        .iter()
        .filter(|o| matches!(o, StixObject::Indicator(_)))
        .count();
    assert_eq!(
        indicators,
        original["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["type"] == "indicator")
            .count()
    );
}

fn sdo(object_type: &str, extra: Value) -> Value {
    let mut v = json!({
        "type": object_type,
        "spec_version": "2.1",
        "id": format!("{object_type}--6b4d8a5e-3c1e-4d2a-9f0b-8e3c2a1d4f5e"),
        "created": "2024-01-02T03:04:05.678Z",
        "modified": "2024-01-02T03:04:05.678Z",
    });
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    v
}

const REF: &str = "indicator--0d6a2c4e-8f1b-4c3d-a5e7-9b2f4d6c8a1e";

/// One valid example per predefined type, with a custom property each.
pub(crate) fn examples() -> Vec<Value> {
    let sco = |t: &str, extra: Value| {
        let mut v = json!({"type": t, "spec_version": "2.1", "id": format!("{t}--1b2c3d4e-5f60-5718-9a0b-c1d2e3f4a5b6"), "x_seen_by": "vigil"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let mut out = vec![
        sdo(
            "attack-pattern",
            json!({"name": "Spearphishing", "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}]}),
        ),
        sdo(
            "campaign",
            json!({"name": "C", "first_seen": "2020-01-01T00:00:00Z", "objective": "spy"}),
        ),
        sdo("course-of-action", json!({"name": "Patch"})),
        sdo(
            "grouping",
            json!({"context": "suspicious-activity", "object_refs": [REF]}),
        ),
        sdo(
            "identity",
            json!({"name": "Amnesty Tech", "identity_class": "organization", "sectors": ["non-profit"]}),
        ),
        sdo("incident", json!({"name": "I"})),
        sdo(
            "indicator",
            json!({"pattern": "[domain-name:value = 'x.com']", "pattern_type": "stix", "valid_from": "2021-07-18T00:00:00.000000Z", "indicator_types": ["malicious-activity"]}),
        ),
        sdo(
            "infrastructure",
            json!({"name": "C2", "infrastructure_types": ["command-and-control"]}),
        ),
        sdo(
            "intrusion-set",
            json!({"name": "IS", "goals": ["g"], "resource_level": "government"}),
        ),
        sdo(
            "location",
            json!({"latitude": 48, "longitude": 2.3522, "precision": 1000.0, "country": "FR"}),
        ),
        sdo(
            "malware",
            json!({"name": "Pegasus", "is_family": true, "malware_types": ["spyware"], "capabilities": ["captures-camera"]}),
        ),
        sdo(
            "malware-analysis",
            json!({"product": "mvt", "result": "malicious", "sample_ref": "file--1b2c3d4e-5f60-5718-9a0b-c1d2e3f4a5b6"}),
        ),
        sdo(
            "note",
            json!({"content": "n", "abstract": "a", "object_refs": [REF]}),
        ),
        sdo(
            "observed-data",
            json!({"first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z", "number_observed": 1, "object_refs": ["ipv4-addr--1b2c3d4e-5f60-5718-9a0b-c1d2e3f4a5b6"]}),
        ),
        sdo("opinion", json!({"opinion": "agree", "object_refs": [REF]})),
        sdo(
            "report",
            json!({"name": "R", "published": "2021-07-18T00:00:00Z", "object_refs": [REF], "report_types": ["threat-report"]}),
        ),
        sdo(
            "threat-actor",
            json!({"name": "TA", "threat_actor_types": ["nation-state"]}),
        ),
        sdo("tool", json!({"name": "T", "tool_version": "1.0"})),
        sdo(
            "vulnerability",
            json!({"name": "CVE-2021-30860", "external_references": [{"source_name": "cve", "external_id": "CVE-2021-30860", "x_note": 1}]}),
        ),
        sdo(
            "relationship",
            json!({"relationship_type": "indicates", "source_ref": REF, "target_ref": "malware--6b4d8a5e-3c1e-4d2a-9f0b-8e3c2a1d4f5e"}),
        ),
        sdo(
            "sighting",
            json!({"sighting_of_ref": REF, "count": 3, "summary": false}),
        ),
        sdo(
            "language-content",
            json!({"object_ref": REF, "object_modified": "2024-01-02T03:04:05.678Z", "contents": {"de": {"name": "Indikator"}}}),
        ),
        sdo(
            "extension-definition",
            json!({"created_by_ref": "identity--6b4d8a5e-3c1e-4d2a-9f0b-8e3c2a1d4f5e", "name": "e", "schema": "https://example.org/s.json", "version": "1.0", "extension_types": ["property-extension"]}),
        ),
        json!({"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--6b4d8a5e-3c1e-4d2a-9f0b-8e3c2a1d4f5e", "created": "2024-01-02T03:04:05.678Z", "definition_type": "statement", "definition": {"statement": "Copyright Vigil"}}),
        sco(
            "artifact",
            json!({"mime_type": "text/plain", "payload_bin": "aGk=", "hashes": {"SHA-256": "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"}}),
        ),
        sco(
            "autonomous-system",
            json!({"number": 15169, "name": "Google"}),
        ),
        sco("directory", json!({"path": "/private/var/db"})),
        sco(
            "domain-name",
            json!({"value": "example.com", "resolves_to_refs": ["ipv4-addr--1b2c3d4e-5f60-5718-9a0b-c1d2e3f4a5b6"]}),
        ),
        sco(
            "email-addr",
            json!({"value": "a@example.com", "display_name": "A"}),
        ),
        sco(
            "email-message",
            json!({"is_multipart": true, "subject": "s", "body_multipart": [{"content_type": "text/plain", "body": "hi"}], "additional_header_fields": {"X-Mailer": "m"}}),
        ),
        sco(
            "file",
            json!({"name": "a.pdf", "size": 10, "hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"},
            "extensions": {"pdf-ext": {"version": "1.7", "is_optimized": false}, "x-acme-ext": {"extension_type": "property-extension", "score": 0.5}}}),
        ),
        sco("ipv4-addr", json!({"value": "198.51.100.3"})),
        sco("ipv6-addr", json!({"value": "2001:db8::1"})),
        sco("mac-addr", json!({"value": "d2:fb:49:24:37:18"})),
        sco("mutex", json!({"name": "__CLEANSWEEP__"})),
        sco(
            "network-traffic",
            json!({"protocols": ["ipv4", "tcp"], "dst_port": 443, "extensions": {"tcp-ext": {"src_flags_hex": "00000002"}}}),
        ),
        sco(
            "process",
            json!({"pid": 1221, "command_line": "./bh", "environment_variables": {"PATH": "/usr/bin"}}),
        ),
        sco(
            "software",
            json!({"name": "WhatsApp", "vendor": "Meta", "version": "2.21"}),
        ),
        sco("url", json!({"value": "https://example.com/x"})),
        sco(
            "user-account",
            json!({"user_id": "1001", "account_login": "jdoe", "is_privileged": false}),
        ),
        sco(
            "windows-registry-key",
            json!({"key": "HKEY_LOCAL_MACHINE\\System\\Foo", "values": [{"name": "Foo", "data": "qwerty", "data_type": "REG_SZ"}]}),
        ),
        sco(
            "x509-certificate",
            json!({"serial_number": "36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49", "subject_public_key_exponent": 65537, "x509_v3_extensions": {"basic_constraints": "critical,CA:TRUE"}}),
        ),
    ];
    for v in &mut out {
        v.as_object_mut().unwrap().insert(
            "x_vigil_note".into(),
            json!({"nested": [1, 2.5, null, "s"]}),
        );
    }
    out
}

#[test]
fn every_predefined_type_is_typed_and_round_trips_with_custom_properties() {
    let examples = examples();
    let mut seen: Vec<&str> = Vec::new();
    for v in &examples {
        let object =
            StixObject::from_value(v.clone()).unwrap_or_else(|e| panic!("{}: {e}", v["type"]));
        assert_ne!(
            object.category(),
            Category::Custom,
            "{} fell back to custom",
            v["type"]
        );
        assert_eq!(object.to_value(), *v, "{}", v["type"]);
        assert_eq!(
            object.custom_properties().unwrap()["x_vigil_note"],
            json!({"nested": [1, 2.5, null, "s"]})
        );
        assert!(object.warning().is_none());
        seen.push(v["type"].as_str().unwrap());
    }
    // The examples cover every type the model defines.
    for (t, cat) in PREDEFINED_TYPES {
        assert!(seen.contains(t), "no example for {t}");
        assert_eq!(category_of(t), Some(*cat));
    }
    assert_eq!(PREDEFINED_TYPES.len(), 19 + 2 + 18 + 3);
}

#[test]
fn typed_access_reads_properties() {
    let all = examples();
    let indicator = StixObject::from_value(all[6].clone()).unwrap();
    let StixObject::Indicator(Indicator {
        pattern,
        valid_from,
        ..
    }) = &indicator
    else {
        panic!("not an indicator")
    };
    assert_eq!(pattern, "[domain-name:value = 'x.com']");
    assert_eq!(valid_from.fraction_digits(), 6);

    let file = all.iter().find(|v| v["type"] == "file").unwrap();
    let StixObject::File(file) = StixObject::from_value(file.clone()).unwrap() else {
        panic!("not a file")
    };
    let pdf = file.extension::<vigil_stix::PdfExt>().unwrap().unwrap();
    assert_eq!(pdf.version.as_deref(), Some("1.7"));
    assert!(file.extension::<vigil_stix::ArchiveExt>().is_none());
    let _: &File = &file;
}

#[test]
fn custom_and_non_standard_types_are_kept_with_warnings() {
    let cases = [
        (
            json!({"type": "x-acme-widget", "id": "x-acme-widget--6b4d8a5e-3c1e-4d2a-9f0b-8e3c2a1d4f5e", "color": "red"}),
            CustomKind::Prefixed,
            false,
        ),
        (
            json!({"type": "app:id", "id": "app:id--6b4d8a5e-3c1e-4d2a-9f0b-8e3c2a1d4f5e", "value": "com.apple.Pegasus"}),
            CustomKind::NonStandard,
            true,
        ),
        (
            json!({"type": "configuration-profile:id", "value": "6B1B4D41-8FB0-4F2D-9AE1-2E0AE1F1A5E3"}),
            CustomKind::NonStandard,
            true,
        ),
        (
            json!({"type": "android-property:name", "value": "persist.sys.x"}),
            CustomKind::NonStandard,
            true,
        ),
        (
            json!({"type": "acme-widget", "id": "acme-widget--6b4d8a5e-3c1e-4d2a-9f0b-8e3c2a1d4f5e"}),
            CustomKind::Unknown,
            true,
        ),
        (
            json!({"id": "thing--6b4d8a5e-3c1e-4d2a-9f0b-8e3c2a1d4f5e"}),
            CustomKind::Untyped,
            true,
        ),
    ];
    for (v, kind, warns) in cases {
        let object = StixObject::from_value(v.clone()).unwrap();
        let StixObject::Custom(custom) = &object else {
            panic!("{v} was typed")
        };
        assert_eq!(custom.kind(), kind, "{v}");
        assert_eq!(object.category(), Category::Custom);
        assert_eq!(object.warning().is_some(), warns, "{v}");
        assert_eq!(object.to_value(), v);
        assert_eq!(serde_json::to_value(&object).unwrap(), v);
    }
}

#[test]
fn missing_and_wrong_properties_are_named_by_pointer() {
    let mut v = examples()[6].clone();
    v.as_object_mut().unwrap().remove("pattern");
    let err = StixObject::from_value(v).unwrap_err();
    assert!(err.to_string().contains("missing field `pattern`"), "{err}");

    let mut v = examples()[6].clone();
    v["created"] = json!("2024-01-02 03:04:05Z");
    let err = StixObject::from_value(v).unwrap_err();
    assert_eq!(err.pointer(), Some("/created"), "{err}");
    assert!(err.to_string().contains("expected 'T'"), "{err}");

    let mut v = examples()[3].clone();
    v["object_refs"] = json!([REF, "indicator--nope"]);
    let err = StixObject::from_value(v).unwrap_err();
    assert_eq!(err.pointer(), Some("/object_refs/1"), "{err}");

    let mut v = examples()[0].clone();
    v["kill_chain_phases"][0]["phase_name"] = json!(7);
    let err = StixObject::from_value(v).unwrap_err();
    assert_eq!(
        err.pointer(),
        Some("/kill_chain_phases/0/phase_name"),
        "{err}"
    );

    let err = StixObject::from_value(json!([1])).unwrap_err();
    assert!(err.to_string().contains("expected a JSON object"), "{err}");
}

#[test]
fn null_properties_are_refused_so_round_trips_stay_exact() {
    let mut v = examples()[6].clone();
    v["description"] = Value::Null;
    let err = StixObject::from_value(v).unwrap_err();
    assert_eq!(err.pointer(), Some("/description"), "{err}");
    let mut v = examples()[6].clone();
    v["object_marking_refs"] = Value::Null;
    assert!(StixObject::from_value(v).is_err());
    // Null inside a custom property is the producer's business and is kept.
    let mut v = examples()[6].clone();
    v["x_maybe"] = Value::Null;
    assert_eq!(StixObject::from_value(v.clone()).unwrap().to_value(), v);
}
