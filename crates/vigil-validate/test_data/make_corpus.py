#!/usr/bin/env python3
"""Writes the crafted validator corpus (test_data/corpus/*.json).

Each case is a small bundle built from a valid base object and one mutation,
named after what it exercises. Run from this folder; the golden
expectations are then regenerated with UPDATE_GOLDEN=1 cargo test.
"""
import copy
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
T = "2024-01-02T03:04:05.000Z"
IDENT = "identity--0b3a1c5e-7a4b-4c3d-9e2f-1a2b3c4d5e6f"
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"

BASE = {
    "indicator": {
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": T, "modified": T, "name": "C2 domain", "description": "Pegasus C2",
        "indicator_types": ["malicious-activity"],
        "pattern": "[domain-name:value = 'example.com']", "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    },
    "malware": {
        "type": "malware", "spec_version": "2.1",
        "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
        "created": T, "modified": T, "name": "Pegasus", "is_family": True,
        "malware_types": ["spyware"],
    },
    "identity": {
        "type": "identity", "spec_version": "2.1", "id": IDENT,
        "created": T, "modified": T, "name": "Vendor", "identity_class": "organization",
    },
    "relationship": {
        "type": "relationship", "spec_version": "2.1",
        "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
        "created": T, "modified": T, "relationship_type": "indicates",
        "source_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "target_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
    },
    "sighting": {
        "type": "sighting", "spec_version": "2.1",
        "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
        "created": T, "modified": T,
        "sighting_of_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    },
    "report": {
        "type": "report", "spec_version": "2.1",
        "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
        "created": T, "modified": T, "name": "Report", "published": T,
        "object_refs": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
    },
    "location": {
        "type": "location", "spec_version": "2.1",
        "id": "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
        "created": T, "modified": T, "country": "RS",
    },
    "campaign": {
        "type": "campaign", "spec_version": "2.1",
        "id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": T, "modified": T, "name": "Campaign",
    },
    "threat-actor": {
        "type": "threat-actor", "spec_version": "2.1",
        "id": "threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": T, "modified": T, "name": "Actor",
    },
    "tool": {
        "type": "tool", "spec_version": "2.1",
        "id": "tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": T, "modified": T, "name": "Tool",
    },
    "observed-data": {
        "type": "observed-data", "spec_version": "2.1",
        "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
        "created": T, "modified": T,
        "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z",
        "number_observed": 1,
        "object_refs": ["domain-name--dc63603e-e634-5357-b239-d4b562bc5445"],
    },
    "note": {
        "type": "note", "spec_version": "2.1",
        "id": "note--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        "created": T, "modified": T, "content": "text",
        "object_refs": ["malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"],
    },
    "opinion": {
        "type": "opinion", "spec_version": "2.1",
        "id": "opinion--b01efc25-77b4-4003-b18b-f6e24b5cd9f7",
        "created": T, "modified": T, "opinion": "agree",
        "object_refs": ["malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"],
    },
    "grouping": {
        "type": "grouping", "spec_version": "2.1",
        "id": "grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
        "created": T, "modified": T, "context": "suspicious-activity",
        "object_refs": ["malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"],
    },
    "vulnerability": {
        "type": "vulnerability", "spec_version": "2.1",
        "id": "vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        "created": T, "modified": T, "name": "CVE-2021-30860",
    },
    "infrastructure": {
        "type": "infrastructure", "spec_version": "2.1",
        "id": "infrastructure--38c47d93-d984-4fd9-b87b-d69d0841628d",
        "created": T, "modified": T, "name": "C2 servers",
    },
    "malware-analysis": {
        "type": "malware-analysis", "spec_version": "2.1",
        "id": "malware-analysis--d25167b7-fed0-4068-9ccd-a73dd2c5b07c",
        "created": T, "modified": T, "product": "sandbox", "result": "malicious",
    },
    "domain-name": {
        "type": "domain-name", "spec_version": "2.1",
        "id": "domain-name--dc63603e-e634-5357-b239-d4b562bc5445", "value": "example.com",
    },
    "ipv4-addr": {
        "type": "ipv4-addr", "spec_version": "2.1",
        "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3",
    },
    "file": {
        "type": "file", "spec_version": "2.1",
        "id": "file--5a27d487-c542-5f97-a131-a8866b477b46",
        "hashes": {"SHA-256": "a" * 64}, "name": "payload.bin",
    },
    "url": {
        "type": "url", "spec_version": "2.1",
        "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "https://example.com/x",
    },
    "email-addr": {
        "type": "email-addr", "spec_version": "2.1",
        "id": "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3", "value": "a@example.com",
    },
    "process": {
        "type": "process", "spec_version": "2.1",
        "id": "process--f52a906a-0dfc-40bd-92f1-e7778ead38a9", "pid": 1221,
    },
    "artifact": {
        "type": "artifact", "spec_version": "2.1",
        "id": "artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641",
        "mime_type": "application/zip", "payload_bin": "ZX7HIBWPuT4=",
    },
    "marking-definition": {
        "type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
        "created": T, "definition_type": "statement",
        "definition": {"statement": "Copyright 2024"},
    },
    "extension-definition": {
        "type": "extension-definition", "spec_version": "2.1",
        "id": "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e",
        "created": T, "modified": T, "created_by_ref": IDENT, "name": "ext",
        "schema": "https://example.com/schema.json", "version": "1.0",
        "extension_types": ["property-extension"],
    },
    "language-content": {
        "type": "language-content", "spec_version": "2.1",
        "id": "language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d",
        "created": T, "modified": T,
        "object_ref": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "object_modified": T, "contents": {"de": {"name": "Kampagne"}},
    },
}

cases = {}


def bundle(*objects):
    return {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
            "objects": list(objects)}


def case(name, doc):
    assert name not in cases, name
    cases[name] = doc


def mutate(kind, name, fn):
    obj = copy.deepcopy(BASE[kind])
    r = fn(obj)
    case(name, bundle(r if r is not None else obj))


def drop(k):
    return lambda o: o.pop(k) and None


def put(k, v):
    return lambda o: o.__setitem__(k, v)


# Every base object is valid on its own.
for kind in BASE:
    case("ok-" + kind, bundle(copy.deepcopy(BASE[kind])))

# Missing required properties.
REQUIRED = {
    "indicator": ["pattern", "pattern_type", "valid_from", "created", "modified", "spec_version", "id"],
    "malware": ["is_family", "created"], "identity": ["name"],
    "relationship": ["relationship_type", "source_ref", "target_ref"],
    "sighting": ["sighting_of_ref"], "report": ["published", "object_refs", "name"],
    "campaign": ["name"], "threat-actor": ["name"], "tool": ["name"],
    "observed-data": ["first_observed", "last_observed", "number_observed", "object_refs"],
    "note": ["content", "object_refs"], "opinion": ["opinion", "object_refs"],
    "grouping": ["context", "object_refs"], "vulnerability": ["name"],
    "infrastructure": ["name"], "malware-analysis": ["product", "result"],
    "domain-name": ["value"], "ipv4-addr": ["value"], "url": ["value"],
    "email-addr": ["value"], "marking-definition": ["created", "definition"],
    "extension-definition": ["schema", "version", "extension_types"],
    "language-content": ["object_ref", "contents"],
}
for kind, props in REQUIRED.items():
    for p in props:
        mutate(kind, f"missing-{kind}-{p}", drop(p))

# Timestamps.
mutate("indicator", "ts-created-no-millis", put("created", "2024-01-02T03:04:05Z"))
mutate("indicator", "ts-modified-centis", put("modified", "2024-01-02T03:04:05.12Z"))
mutate("indicator", "ts-micro-ok", lambda o: o.update(created="2024-01-02T03:04:05.000001Z", modified="2024-01-02T03:04:05.000001Z"))
mutate("indicator", "ts-feb-30", put("valid_from", "2024-02-30T00:00:00Z"))
mutate("indicator", "ts-feb-29-leap", put("valid_from", "2024-02-29T00:00:00Z"))
mutate("indicator", "ts-feb-29-nonleap", put("valid_from", "2023-02-29T00:00:00Z"))
mutate("indicator", "ts-offset", put("valid_from", "2024-01-01T00:00:00+00:00"))
mutate("indicator", "ts-no-z", put("valid_from", "2024-01-01T00:00:00"))
mutate("indicator", "ts-space", put("valid_from", "2024-01-01 00:00:00Z"))
mutate("indicator", "ts-hour-24", put("valid_from", "2024-01-01T24:00:00Z"))
mutate("indicator", "ts-month-13", put("valid_from", "2024-13-01T00:00:00Z"))
mutate("indicator", "ts-leap-second", put("valid_from", "2016-12-31T23:59:60Z"))
mutate("indicator", "ts-number", put("valid_from", 1700000000))
mutate("indicator", "ts-modified-before-created", put("modified", "2023-01-02T03:04:05.000Z"))
mutate("indicator", "ts-valid-until-equal", put("valid_until", "2024-01-01T00:00:00Z"))
mutate("indicator", "ts-valid-until-before", put("valid_until", "2023-01-01T00:00:00Z"))
mutate("indicator", "ts-valid-until-after", put("valid_until", "2025-01-01T00:00:00Z"))
mutate("campaign", "ts-last-seen-before-first", lambda o: o.update(first_seen="2024-01-02T00:00:00Z", last_seen="2024-01-01T00:00:00Z"))
mutate("observed-data", "ts-last-observed-before-first", put("last_observed", "2023-01-01T00:00:00Z"))
mutate("relationship", "ts-stop-equals-start", lambda o: o.update(start_time="2024-01-01T00:00:00Z", stop_time="2024-01-01T00:00:00Z"))

# Identifiers.
mutate("indicator", "id-wrong-type", put("id", "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mutate("indicator", "id-uuid-version-6", put("id", "indicator--8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f"))
mutate("indicator", "id-uuid-variant", put("id", "indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f"))
mutate("indicator", "id-uppercase-uuid-ok", put("id", "indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F"))
mutate("indicator", "id-not-uuid", put("id", "indicator--1234"))
mutate("indicator", "id-single-dash", put("id", "indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mutate("indicator", "id-number", put("id", 5))
mutate("indicator", "created-by-ref-bad", put("created_by_ref", "identity--xyz"))
mutate("indicator", "created-by-ref-ok", put("created_by_ref", IDENT))

# Common property types.
mutate("indicator", "spec-version-20", put("spec_version", "2.0"))
mutate("indicator", "spec-version-22", put("spec_version", "2.2"))
mutate("indicator", "revoked-string", put("revoked", "true"))
mutate("indicator", "confidence-101", put("confidence", 101))
mutate("indicator", "confidence-neg", put("confidence", -1))
mutate("indicator", "confidence-float", put("confidence", 50.5))
mutate("indicator", "confidence-ok", put("confidence", 100))
mutate("indicator", "labels-empty", put("labels", []))
mutate("indicator", "labels-not-list", put("labels", "spyware"))
mutate("indicator", "labels-ok", put("labels", ["spyware"]))
mutate("indicator", "lang-ok", put("lang", "en"))
mutate("indicator", "null-property", put("description", None))
mutate("indicator", "empty-list-property", put("indicator_types", []))
mutate("indicator", "reserved-severity", put("severity", "high"))
mutate("indicator", "name-number", put("name", 5))

# Custom properties and names.
mutate("indicator", "custom-prop-x-ok", put("x_vigil_source", "feed"))
mutate("indicator", "custom-prop-no-prefix", put("source_feed", "feed"))
mutate("indicator", "custom-prop-uppercase", put("X_Vigil", "feed"))
mutate("indicator", "custom-prop-two-chars", put("xy", "feed"))
mutate("indicator", "custom-prop-hyphen", put("x-vigil", "feed"))
mutate("indicator", "custom-prop-long", put("x_" + "a" * 260, "feed"))

# Open vocabularies and enums.
mutate("indicator", "ov-indicator-type-unknown", put("indicator_types", ["spyware-c2"]))
mutate("malware", "ov-malware-type-unknown", put("malware_types", ["stalkerware"]))
mutate("identity", "ov-identity-class-unknown", put("identity_class", "vendor"))
mutate("identity", "ov-sectors-ok", put("sectors", ["government", "technology"]))
mutate("tool", "ov-tool-type-unknown", put("tool_types", ["exploit-chain"]))
mutate("opinion", "enum-opinion-bad", put("opinion", "maybe"))
mutate("indicator", "pattern-type-unknown-ov", lambda o: o.update(pattern_type="kql", pattern="DeviceEvents"))
mutate("indicator", "pattern-type-yara", lambda o: o.update(pattern_type="yara", pattern="rule x { condition: true }"))
mutate("grouping", "ov-grouping-context-unknown", put("context", "campaign-analysis"))

# Kill chain phases.
mutate("indicator", "kcp-ok", put("kill_chain_phases", [{"kill_chain_name": "mitre-attack", "phase_name": "exfiltration"}]))
mutate("indicator", "kcp-missing-phase", put("kill_chain_phases", [{"kill_chain_name": "mitre-attack"}]))
mutate("indicator", "kcp-not-object", put("kill_chain_phases", ["exfiltration"]))
mutate("indicator", "kcp-uppercase", put("kill_chain_phases", [{"kill_chain_name": "Lockheed Martin", "phase_name": "Delivery"}]))

# External references.
ER = "external_references"
mutate("malware", "extref-ok", put(ER, [{"source_name": "amnesty", "url": "https://www.amnesty.org/"}]))
mutate("malware", "extref-only-source", put(ER, [{"source_name": "amnesty"}]))
mutate("malware", "extref-no-source", put(ER, [{"url": "https://www.amnesty.org/"}]))
mutate("malware", "extref-cve-ok", put(ER, [{"source_name": "cve", "external_id": "CVE-2021-30860"}]))
mutate("malware", "extref-cve-bad", put(ER, [{"source_name": "cve", "external_id": "2021-30860"}]))
mutate("malware", "extref-cve-missing-id", put(ER, [{"source_name": "cve", "url": "https://cve.org/"}]))
mutate("malware", "extref-capec-ok", put(ER, [{"source_name": "capec", "external_id": "CAPEC-163"}]))
mutate("malware", "extref-capec-bad", put(ER, [{"source_name": "capec", "external_id": "163"}]))
mutate("malware", "extref-cve-id-other-source", put(ER, [{"source_name": "nvd", "external_id": "CVE-2021-30860"}]))
mutate("malware", "extref-bad-url", put(ER, [{"source_name": "x", "url": "not a url"}]))
mutate("malware", "extref-hashes-ok", put(ER, [{"source_name": "x", "url": "https://e.com/r.pdf", "hashes": {"SHA-256": "b" * 64}}]))
mutate("malware", "extref-hashes-bad", put(ER, [{"source_name": "x", "url": "https://e.com/r.pdf", "hashes": {"SHA-256": "xyz"}}]))
mutate("malware", "extref-empty", put(ER, []))

# Markings.
mutate("indicator", "omr-tlp-ok", put("object_marking_refs", [TLP_GREEN]))
mutate("indicator", "omr-bad-id", put("object_marking_refs", ["tlp-green"]))
mutate("indicator", "gm-ok", put("granular_markings", [{"marking_ref": TLP_GREEN, "selectors": ["name", "description"]}]))
mutate("indicator", "gm-selector-missing-prop", put("granular_markings", [{"marking_ref": TLP_GREEN, "selectors": ["labels"]}]))
mutate("indicator", "gm-selector-index-ok", lambda o: o.update(labels=["a", "b"], granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["labels.[1]"]}]))
mutate("indicator", "gm-selector-index-out", lambda o: o.update(labels=["a"], granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["labels.[3]"]}]))
mutate("indicator", "gm-no-selectors", put("granular_markings", [{"marking_ref": TLP_GREEN}]))
mutate("indicator", "gm-no-marking-ref", put("granular_markings", [{"selectors": ["name"]}]))
mutate("marking-definition", "md-circular", lambda o: o.update(object_marking_refs=[o["id"]]))
mutate("marking-definition", "md-statement-missing", put("definition", {"text": "x"}))
mutate("marking-definition", "md-no-spec-version", drop("spec_version"))
case("md-tlp-green-ok", bundle({
    "type": "marking-definition", "spec_version": "2.1", "id": TLP_GREEN,
    "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
    "definition": {"tlp": "green"}}))
case("md-tlp-green-wrong-colour", bundle({
    "type": "marking-definition", "spec_version": "2.1", "id": TLP_GREEN,
    "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
    "definition": {"tlp": "red"}}))
case("md-tlp-made-up-id", bundle({
    "type": "marking-definition", "spec_version": "2.1",
    "id": "marking-definition--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
    "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
    "definition": {"tlp": "green"}}))
case("md-tlp2-extension-ok", bundle({
    "type": "marking-definition", "spec_version": "2.1",
    "id": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "created": "2022-10-01T00:00:00.000Z", "name": "TLP:GREEN",
    "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
        "extension_type": "property-extension", "tlp_2_0": "green"}}}))

# Relationships and sightings.
mutate("relationship", "rel-type-uppercase", put("relationship_type", "Indicates"))
mutate("relationship", "rel-type-underscore", put("relationship_type", "related_to"))
mutate("relationship", "rel-unknown-type-ok", put("relationship_type", "sold-by"))
mutate("relationship", "rel-source-relationship", put("source_ref", "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"))
mutate("relationship", "rel-target-marking", put("target_ref", TLP_GREEN))
mutate("relationship", "rel-target-bad-id", put("target_ref", "malware-31b940d4"))
mutate("relationship", "rel-related-to-ok", put("relationship_type", "related-to"))
mutate("sighting", "sighting-of-relationship", put("sighting_of_ref", "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"))
mutate("sighting", "sighting-count-neg", put("count", -1))
mutate("sighting", "sighting-where-bad-type", put("where_sighted_refs", ["malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"]))
mutate("sighting", "sighting-where-ok", put("where_sighted_refs", [IDENT]))
mutate("sighting", "sighting-observed-bad-type", put("observed_data_refs", [IDENT]))

# Type-specific rules.
mutate("malware", "malware-family-no-name", drop("name"))
mutate("malware", "malware-instance-no-name-ok", lambda o: o.update(is_family=False) or o.pop("name") and None)
mutate("malware", "malware-is-family-string", put("is_family", "yes"))
mutate("malware", "malware-os-refs-bad-type", put("operating_system_refs", [IDENT]))
mutate("location", "location-lat-only", lambda o: o.update(latitude=44.8))
mutate("location", "location-lat-out-of-range", lambda o: o.update(latitude=95.0, longitude=20.4))
mutate("location", "location-latlon-ok", lambda o: o.pop("country") and o.update(latitude=44.8, longitude=20.4))
mutate("location", "location-nothing", drop("country"))
mutate("location", "location-precision-alone", put("precision", 10.0))
mutate("observed-data", "od-number-zero", put("number_observed", 0))
mutate("observed-data", "od-refs-sdo", put("object_refs", [IDENT]))
mutate("observed-data", "od-both-objects-and-refs", put("objects", {"0": {"type": "domain-name", "value": "example.com"}}))
mutate("observed-data", "od-objects-ok", lambda o: o.pop("object_refs") and o.update(objects={"0": {"type": "domain-name", "value": "example.com"}}))
mutate("observed-data", "od-objects-bad-ref", lambda o: o.pop("object_refs") and o.update(objects={"0": {"type": "domain-name", "value": "example.com", "resolves_to_refs": ["7"]}}))
mutate("observed-data", "od-objects-ref-wrong-type", lambda o: o.pop("object_refs") and o.update(objects={
    "0": {"type": "domain-name", "value": "example.com", "resolves_to_refs": ["1"]},
    "1": {"type": "url", "value": "https://example.com/"}}))
mutate("malware-analysis", "ma-no-result-or-refs", drop("result"))
mutate("report", "report-refs-bad", put("object_refs", ["not-an-id"]))
mutate("language-content", "lc-bad-language-key", put("contents", {"german!": {"name": "x"}}))
mutate("language-content", "lc-bad-inner-key", put("contents", {"de": {"Name": "x"}}))
mutate("extension-definition", "ed-bad-type", put("extension_types", ["new-thing"]))
mutate("extension-definition", "ed-ext-props-without-toplevel", put("extension_properties", ["x_a"]))
mutate("extension-definition", "ed-toplevel-ok", lambda o: o.update(extension_types=["toplevel-property-extension"], extension_properties=["x_vigil_a"]))

# Extensions on objects.
EXT = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
mutate("indicator", "ext-ok", put("extensions", {EXT: {"extension_type": "property-extension", "rank": 5}}))
mutate("indicator", "ext-missing-extension-type", put("extensions", {EXT: {"rank": 5}}))
mutate("indicator", "ext-bad-extension-type", put("extensions", {EXT: {"extension_type": "plugin", "rank": 5}}))
mutate("indicator", "ext-bad-key", put("extensions", {"vigil": {"rank": 5}}))
mutate("indicator", "ext-empty", put("extensions", {}))
mutate("file", "ext-ntfs-ok", put("extensions", {"ntfs-ext": {"sid": "S-1-5-18"}}))

# SCOs.
mutate("file", "file-bad-md5", put("hashes", {"MD5": "1234"}))
mutate("file", "file-bad-sha1", put("hashes", {"SHA-1": "g" * 40}))
mutate("file", "file-custom-hash-warn", put("hashes", {"SHA256": "a" * 64}))
mutate("file", "file-hash-short-name", put("hashes", {"X": "abc"}))
mutate("file", "file-empty-hashes", put("hashes", {}))
mutate("file", "file-no-name-no-hashes", lambda o: o.pop("hashes") and o.pop("name") and None)
mutate("file", "file-size-negative", put("size", -1))
mutate("file", "file-magic-not-hex", put("magic_number_hex", "zz"))
mutate("file", "file-name-enc-bad", put("name_enc", "utf 8"))
mutate("file", "file-created-prop", put("created", T))
mutate("domain-name", "dn-value-number", put("value", 5))
mutate("domain-name", "dn-resolves-to-ok", put("resolves_to_refs", ["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]))
mutate("domain-name", "dn-resolves-to-bad-id", put("resolves_to_refs", ["1.2.3.4"]))
mutate("email-addr", "email-bad", put("value", "not-an-email"))
mutate("url", "url-bad", put("value", "example dot com"))
mutate("process", "process-uuid-v5", put("id", "process--f52a906a-0dfc-50bd-92f1-e7778ead38a9"))
mutate("artifact", "artifact-url-no-hashes", lambda o: o.pop("payload_bin") and o.update(url="https://e.com/a.zip"))
mutate("artifact", "artifact-both", put("url", "https://e.com/a.zip"))
mutate("artifact", "artifact-bad-base64", put("payload_bin", "not base64!"))
mutate("artifact", "artifact-key-no-algo", put("decryption_key", "secret"))
mutate("artifact", "artifact-bad-mime", put("mime_type", "zip"))
mutate("ipv4-addr", "sco-defanged-string", put("defanged", "yes"))
mutate("ipv4-addr", "sco-spec-version-bad", put("spec_version", "3.0"))
mutate("ipv4-addr", "sco-custom-prop-warn", put("asn_name", "x"))
case("sco-user-account-empty", bundle({"type": "user-account", "spec_version": "2.1",
                                       "id": "user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c"}))
case("sco-user-account-random-uuid-ok", bundle({"type": "user-account", "spec_version": "2.1",
                                                "id": "user-account--0d5b424b-93b8-4cd8-ac36-306e1789d63c", "display_name": "x"}))
case("sco-user-account-v5-no-contrib", bundle({"type": "user-account", "spec_version": "2.1",
                                               "id": "user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c", "display_name": "x"}))
case("sco-email-message-multipart-body", bundle({"type": "email-message", "spec_version": "2.1",
                                                 "id": "email-message--0c57a381-2a17-5e61-8754-5ef96efb286c",
                                                 "is_multipart": True, "body": "x", "subject": "hi"}))
case("sco-email-message-ok", bundle({"type": "email-message", "spec_version": "2.1",
                                     "id": "email-message--0c57a381-2a17-5e61-8754-5ef96efb286c",
                                     "is_multipart": False, "body": "x", "subject": "hi"}))
case("sco-registry-abbrev", bundle({"type": "windows-registry-key", "spec_version": "2.1",
                                    "id": "windows-registry-key--2ba37ae7-2745-5082-9dfd-9486dad41016",
                                    "key": "HKLM\\Software\\x"}))
case("sco-software-ok", bundle({"type": "software", "spec_version": "2.1",
                                "id": "software--a1827f6d-ca53-5605-9e93-4316cd22a00a", "name": "iOS",
                                "cpe": "cpe:2.3:o:apple:iphone_os:14.6:*:*:*:*:*:*:*", "languages": ["en"]}))
case("sco-software-bad-cpe", bundle({"type": "software", "spec_version": "2.1",
                                     "id": "software--a1827f6d-ca53-5605-9e93-4316cd22a00a", "name": "iOS",
                                     "cpe": "apple iphone"}))
case("sco-network-traffic-port-range", bundle({"type": "network-traffic", "spec_version": "2.1",
                                               "id": "network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d",
                                               "protocols": ["tcp"], "dst_port": 70000}))
case("sco-network-traffic-no-protocols", bundle({"type": "network-traffic", "spec_version": "2.1",
                                                 "id": "network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d",
                                                 "dst_port": 443}))

# Custom objects.
case("custom-sdo-x-ok", bundle({"type": "x-vigil-vendor", "spec_version": "2.1",
                                "id": "x-vigil-vendor--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                                "created": T, "modified": T, "name": "Vendor"}))
case("custom-sdo-no-prefix", bundle({"type": "vendor", "spec_version": "2.1",
                                     "id": "vendor--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                                     "created": T, "modified": T, "name": "Vendor"}))
case("custom-sco-app-id", bundle({"type": "app", "spec_version": "2.1",
                                  "id": "app--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", "x_bundle": "com.example"}))
case("custom-sdo-no-millis", bundle({"type": "x-vigil-vendor", "spec_version": "2.1",
                                     "id": "x-vigil-vendor--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                                     "created": "2024-01-01T00:00:00Z", "modified": T}))
case("custom-type-uppercase", bundle({"type": "X-Vendor", "spec_version": "2.1",
                                      "id": "X-Vendor--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                                      "created": T, "modified": T}))
case("custom-type-two-chars", bundle({"type": "xv", "spec_version": "2.1",
                                      "id": "xv--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                                      "created": T, "modified": T}))

# Indicator patterns (names only; syntax is the pattern checker's job).
mutate("indicator", "pattern-app-id", put("pattern", "[app:id = 'com.example.spy']"))
mutate("indicator", "pattern-android-property", put("pattern", "[android-property:name = 'ro.spy']"))
mutate("indicator", "pattern-configuration-profile", put("pattern", "[configuration-profile:id = 'abc']"))
mutate("indicator", "pattern-x-type-ok", put("pattern", "[x-vigil-app:bundle_id = 'com.example.spy']"))
mutate("indicator", "pattern-file-hash-ok", put("pattern", "[file:hashes.'SHA-256' = '" + "a" * 64 + "']"))
mutate("indicator", "pattern-not-string", put("pattern", 5))
mutate("indicator", "pattern-syntax-missing-bracket", put("pattern", "[domain-name:value = 'example.com'"))
mutate("indicator", "pattern-syntax-bad-operator", put("pattern", "[domain-name:value === 'example.com']"))
mutate("indicator", "pattern-syntax-unquoted", put("pattern", "[domain-name:value = example.com]"))
mutate("indicator", "pattern-hash-wrong-length", put("pattern", "[file:hashes.MD5 = 'abcd']"))
mutate("indicator", "pattern-two-within", put("pattern", "[domain-name:value = 'a.example'] WITHIN 5 SECONDS WITHIN 6 SECONDS"))
mutate("indicator", "pattern-followedby-ok", put("pattern", "[domain-name:value = 'a.example'] FOLLOWEDBY [url:value = 'https://a.example/x'] WITHIN 60 SECONDS"))
mutate("indicator", "pattern-empty", put("pattern", ""))
mutate("indicator", "pattern-version-20-ok", put("pattern_version", "2.0"))

# Bundles.
case("bundle-empty-objects", bundle())
case("bundle-no-objects-ok", {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"})
case("bundle-bad-id", {"type": "bundle", "id": "bundle--nope", "objects": [copy.deepcopy(BASE["identity"])]})
case("bundle-missing-id", {"type": "bundle", "objects": [copy.deepcopy(BASE["identity"])]})
case("bundle-object-without-type", bundle({"id": IDENT, "name": "x"}))
case("bundle-one-bad-among-good", bundle(copy.deepcopy(BASE["identity"]), copy.deepcopy(BASE["malware"]),
                                         dict(copy.deepcopy(BASE["tool"]), name=None), copy.deepcopy(BASE["indicator"])))
case("bundle-duplicate-ids-warn", bundle(copy.deepcopy(BASE["identity"]), copy.deepcopy(BASE["identity"])))
case("single-object-ok", copy.deepcopy(BASE["malware"]))
case("single-object-bad", dict(copy.deepcopy(BASE["malware"]), is_family=1))
case("bundle-spec-version-21", dict(bundle(copy.deepcopy(BASE["identity"])), spec_version="2.1"))
case("not-json-object", ["just", "strings"])

# Documents that are not well-formed JSON: written as raw text.
RAW = {
    "truncated-json": '{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [{"type": "identity",\n',
    "trailing-garbage": json.dumps(bundle(copy.deepcopy(BASE["identity"]))) + " }\n",
}

os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):
    if old.endswith(".json") or old.endswith(".expected"):
        os.remove(os.path.join(OUT, old))
for name, doc in cases.items():
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
for name, text in RAW.items():
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        f.write(text)
print(len(cases) + len(RAW), "cases")
