//! Exports of the real public indicator sets, checked with the tools that
//! consume them: MVT loads the STIX export, `named-checkzone` loads the RPZ
//! zone; and MISP imports of the real surveillance-vendor galaxy.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use vigil_formats::{export, misp, EntryKind, ExportOptions, Format, IndicatorSet};

fn data(rel: &str) -> PathBuf {
    vigil_testkit::workspace_root().join("data").join(rel)
}

fn objects(rel: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(data(rel)).unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    bundle["objects"].as_array().unwrap().clone()
}

fn render(set: &IndicatorSet, format: Format) -> String {
    let mut out = Vec::new();
    export(set, format, &ExportOptions::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The domains of `[domain-name:value = '…']` patterns, found by plain text
/// search in the file rather than by the pattern compiler under test.
fn domains_by_text_search(objects: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for o in objects {
        if let Some(p) = o.get("pattern").and_then(Value::as_str) {
            let mut rest = p;
            while let Some(i) = rest.find("domain-name:value") {
                rest = rest[i + "domain-name:value".len()..].trim_start();
                let Some(after_eq) = rest.strip_prefix('=') else {
                    continue;
                };
                let Some(quoted) = after_eq.trim_start().strip_prefix('\'') else {
                    continue;
                };
                if let Some(end) = quoted.find('\'') {
                    out.insert(quoted[..end].to_ascii_lowercase());
                    rest = &quoted[end..];
                }
            }
        }
    }
    out
}

#[test]
fn pegasus_domains_are_all_exported_with_their_spyware() {
    let objs = objects("indicators/investigations/2021-07-18_nso/pegasus.stix2");
    let set = IndicatorSet::from_objects(&objs);
    let expected = domains_by_text_search(&objs);
    assert!(
        expected.len() > 1000,
        "the Pegasus set has over a thousand domains"
    );
    let exported: BTreeSet<String> = render(&set, Format::Domains)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(exported, expected);
    for e in set.of_kind(EntryKind::Domain) {
        assert_eq!(e.malware, vec!["Pegasus".to_string()], "{}", e.value);
    }
    let hosts = render(&set, Format::Hosts);
    assert!(hosts.lines().filter(|l| l.starts_with("0.0.0.0 ")).count() == expected.len());
}

#[test]
fn csv_has_a_header_and_one_row_per_entry() {
    let objs = objects("indicators/investigations/2021-12-16_cytrox/cytrox.stix2");
    let set = IndicatorSet::from_objects(&objs);
    let csv = render(&set, Format::Csv);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("kind,value,indicator_id,malware"));
    assert_eq!(lines.count(), set.entries.len());
    assert!(csv.contains(",Predator"));
}

#[test]
fn zeek_intel_rows_have_five_tab_separated_fields() {
    let objs = objects("indicators/mvt-indicators/intellexa_predator/predator.stix2");
    let set = IndicatorSet::from_objects(&objs);
    let zeek = render(&set, Format::Zeek);
    let mut lines = zeek.lines();
    assert_eq!(
        lines.next(),
        Some("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url")
    );
    let mut types = BTreeSet::new();
    for l in lines {
        let fields: Vec<&str> = l.split('\t').collect();
        assert_eq!(fields.len(), 5, "{l}");
        assert!(fields[1].starts_with("Intel::"), "{l}");
        types.insert(fields[1].to_string());
    }
    assert!(types.contains("Intel::DOMAIN"));
}

#[test]
fn suricata_rules_cover_subdomains_and_have_unique_sids() {
    let objs = objects("indicators/mvt-indicators/2023-04-11_quadream/kingspawn.stix2");
    let set = IndicatorSet::from_objects(&objs);
    let rules = render(&set, Format::SuricataRules);
    let mut sids = BTreeSet::new();
    for r in rules.lines().filter(|l| l.starts_with("alert ")) {
        let sid = r
            .split("sid:")
            .nth(1)
            .and_then(|s| s.split(';').next())
            .unwrap();
        assert!(sids.insert(sid.to_string()), "duplicate sid {sid}");
        assert!(r.ends_with("rev:1;)"), "{r}");
    }
    let domain = set.of_kind(EntryKind::Domain).next().unwrap().value.clone();
    assert!(rules.contains(&format!(
        "dns.query; dotprefix; content:\".{domain}\"; nocase; endswith;"
    )));
    let dataset = render(&set, Format::SuricataDataset);
    assert_eq!(
        dataset.lines().count(),
        set.values(&[EntryKind::Domain]).len()
    );
}

#[test]
fn rpz_zone_loads_in_named_checkzone() {
    let objs = objects("indicators/investigations/2021-07-18_nso/pegasus.stix2");
    let set = IndicatorSet::from_objects(&objs);
    let zone = render(&set, Format::Rpz);
    let checker = PathBuf::from("/usr/bin/named-checkzone");
    if !checker.exists() {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_INTEROP").is_none(),
            "named-checkzone (bind9-utils) is required by scripts/test"
        );
        eprintln!("skipped: named-checkzone not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("vigil-rpz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rpz.zone");
    std::fs::write(&file, &zone).unwrap();
    let out = Command::new(checker)
        .arg("rpz.vigil")
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "named-checkzone rejected the zone: {text}"
    );
    assert!(text.contains("OK"), "{text}");
    // Two records per domain: the apex and the wildcard.
    let records = zone.lines().filter(|l| l.ends_with(" CNAME .")).count();
    assert_eq!(records, 2 * set.values(&[EntryKind::Domain]).len());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn mvt_loads_the_stix_export_and_finds_the_same_domains() {
    let Some(python) = vigil_testkit::python() else {
        return;
    };
    let objs = objects("indicators/mvt-indicators/2023-04-11_quadream/kingspawn.stix2");
    let set = IndicatorSet::from_objects(&objs);
    let dir = std::env::temp_dir().join(format!("vigil-mvt-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("export.stix2");
    std::fs::write(&file, render(&set, Format::Mvt)).unwrap();
    let script = r#"
import json, logging, sys
from mvt.common.indicators import Indicators
ind = Indicators(log=logging.getLogger("x"))
ind.load_indicators_files([sys.argv[1]], load_default=False)
domains = set()
for coll in ind.ioc_collections:
    for d in coll.get("domains", []):
        domains.add(d.lower())
    names = coll.get("name")
print(json.dumps({"domains": sorted(domains), "count": ind.total_ioc_count}))
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mvt_domains: BTreeSet<String> = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    let ours: BTreeSet<String> = set
        .values(&[EntryKind::Domain])
        .into_iter()
        .map(str::to_string)
        .collect();
    assert!(!ours.is_empty());
    assert_eq!(mvt_domains, ours);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_surveillance_vendor_galaxy_imports_as_identities() {
    let text =
        std::fs::read_to_string(data("misp-galaxy/clusters/surveillance-vendor.json")).unwrap();
    let galaxy: Value = serde_json::from_str(&text).unwrap();
    let total = galaxy["values"].as_array().unwrap().len();
    let import = misp::import_galaxy(&galaxy, "2026-11-28T00:00:00.000Z").unwrap();
    assert_eq!(import.objects.len() + import.skipped.len(), total);
    assert!(import.objects.len() > 600);
    let nso = import
        .objects
        .iter()
        .find(|o| o["name"].as_str().is_some_and(|n| n.starts_with("NSO")))
        .expect("NSO Group is in the galaxy");
    assert_eq!(nso["identity_class"], "organization");
    assert!(nso["id"].as_str().unwrap().starts_with("identity--"));
}

#[test]
fn a_misp_event_imports_indicators_and_reports_what_it_skips() {
    let event = serde_json::json!({"Event": {
        "uuid": "5c1f4a4e-0f3c-4a8e-9a0e-1b2c3d4e5f60",
        "info": "Spyware infrastructure",
        "timestamp": "1700000000",
        "Tag": [{"name": "tlp:amber"}],
        "Attribute": [
            {"type": "domain", "value": "evil.example", "to_ids": true, "uuid": "6d2f4a4e-0f3c-4a8e-9a0e-1b2c3d4e5f61"},
            {"type": "sha256", "value": "a".repeat(64), "to_ids": "1", "uuid": "7e3f4a4e-0f3c-4a8e-9a0e-1b2c3d4e5f62"},
            {"type": "text", "value": "just a note", "to_ids": false, "uuid": "8f4f4a4e-0f3c-4a8e-9a0e-1b2c3d4e5f63"},
            {"type": "btc", "value": "1abc", "to_ids": true, "uuid": "9a5f4a4e-0f3c-4a8e-9a0e-1b2c3d4e5f64"}
        ]
    }});
    let import = misp::import_event(&event).unwrap();
    let indicators: Vec<&Value> = import
        .objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .collect();
    assert_eq!(indicators.len(), 2);
    assert_eq!(
        indicators[0]["pattern"],
        "[domain-name:value = 'evil.example']"
    );
    assert_eq!(
        indicators[0]["object_marking_refs"][0],
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    );
    let report = import
        .objects
        .iter()
        .find(|o| o["type"] == "report")
        .unwrap();
    assert_eq!(report["object_refs"].as_array().unwrap().len(), 2);
    let skipped: Vec<&str> = import.skipped.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(skipped, vec!["/Event/Attribute/2", "/Event/Attribute/3"]);
    // The imported indicators round-trip through our own export.
    let set = IndicatorSet::from_objects(&import.objects);
    assert_eq!(set.entries.len(), 2);
}

#[test]
fn bad_event_input_names_the_field() {
    let err = misp::import_event(&serde_json::json!({"Event": {"info": "x"}})).unwrap_err();
    assert!(err.to_string().contains("/Event/uuid"), "{err}");
    let err = misp::import_galaxy(
        &serde_json::json!({"name": "x"}),
        "2026-01-01T00:00:00.000Z",
    )
    .unwrap_err();
    assert!(err.to_string().contains("/values"), "{err}");
}
