//! The public indicator sets shipped in `data/indicators`, loaded by us and by
//! MVT's own loader: both must see the same indicators under the same spyware.

use std::collections::BTreeSet;
use std::process::Command;

use vigil_iocs::{load_path, ObservableKind as K};

fn data() -> std::path::PathBuf {
    vigil_testkit::workspace_root().join("data/indicators")
}

#[test]
fn every_public_set_loads_without_diagnostics() {
    let (sets, errors) = load_path(&data());
    assert!(errors.is_empty(), "{errors:?}");
    let stix: Vec<_> = sets
        .iter()
        .filter(|s| s.source.extension().is_some_and(|e| e == "stix2"))
        .collect();
    assert_eq!(
        stix.len(),
        16,
        "{:?}",
        sets.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    for s in &stix {
        assert!(s.diagnostics.is_empty(), "{}: {:?}", s.name, s.diagnostics);
        assert!(!s.indicators.is_empty(), "{}", s.name);
        assert_eq!(s.general_count(), 0, "{}", s.name);
        assert!(
            s.indicators.iter().all(|i| !i.spyware.is_empty()),
            "{}: every indicator is linked to its spyware",
            s.name
        );
    }
    let pegasus = sets.iter().find(|s| s.name == "pegasus").unwrap();
    assert_eq!(pegasus.spyware(), ["Pegasus"]);
    assert_eq!(pegasus.indicators.len(), 1549);
    // The 2018 NSO CSV has a domain and an address column.
    let nso = sets
        .iter()
        .find(|s| s.name == "2018-08-01_nso/indicators")
        .unwrap();
    let counts = nso.counts();
    assert!(counts[&K::Domain] > 500, "{counts:?}");
    assert!(counts[&K::Ipv4] > 100, "{counts:?}");
    // FinFisher hashes load; the TLV table beside them (no indicator column) is skipped.
    assert!(sets.iter().any(|s| s.name == "2020-09-25_finfisher/sha256"));
}

/// Our kind for MVT's list name; MVT keeps addresses with the domains.
fn mvt_list(kind: K, value: &str) -> Option<&'static str> {
    Some(match kind {
        K::Domain | K::Ipv4 => "domains",
        K::ProcessName => "processes",
        K::Email => "emails",
        K::FileName => "file_names",
        K::FilePath => "file_paths",
        K::FileHash => match value.len() {
            32 => "files_md5",
            40 => "files_sha1",
            64 => "files_sha256",
            _ => return None,
        },
        K::AppCertHash => "app_cert_hashes",
        K::AppId => "app_ids",
        K::ConfigurationProfileId => "ios_profile_ids",
        K::AndroidProperty => "android_property_names",
        K::Url => "urls",
        K::Ipv6 => return None,
    })
}

#[test]
fn same_indicators_and_spyware_as_mvt() {
    let Some(python) = vigil_testkit::python() else {
        return;
    };
    let (sets, errors) = load_path(&data());
    assert!(errors.is_empty(), "{errors:?}");
    let files: Vec<String> = sets
        .iter()
        .filter(|s| s.source.extension().is_some_and(|e| e == "stix2"))
        .map(|s| s.source.display().to_string())
        .collect();
    // One Python process for all files: MVT's loader, flattened to lines
    // "file\tcollection\tlist\tvalue".
    let script = r#"
import sys, logging
logging.disable(logging.CRITICAL)
from mvt.common.indicators import Indicators
lists = ["domains","processes","emails","file_names","file_paths","files_md5","files_sha1",
         "files_sha256","app_cert_hashes","app_ids","ios_profile_ids","android_property_names","urls"]
for f in sys.argv[1:]:
    ind = Indicators()
    ind.parse_stix2(f)
    for c in ind.ioc_collections:
        for l in lists:
            for v in c[l]:
                print(f"{f}\t{c['name']}\t{l}\t{v}")
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let case_sensitive = ["processes", "file_names", "file_paths"];
    let theirs: BTreeSet<(String, String, String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut p = l.splitn(4, '\t');
            let (f, c, list, v) = (p.next()?, p.next()?, p.next()?, p.next()?);
            let v = if case_sensitive.contains(&list) {
                v.to_string()
            } else {
                v.to_lowercase()
            };
            Some((f.into(), c.into(), list.into(), v))
        })
        .collect();
    let mut ours = BTreeSet::new();
    for s in &sets {
        let f = s.source.display().to_string();
        if !files.contains(&f) {
            continue;
        }
        for ind in &s.indicators {
            for t in &ind.terms {
                let Some(mut list) = mvt_list(t.kind, &t.value) else {
                    continue;
                };
                let mut value = t.value.clone();
                // A URL written in a domain field: MVT files it with the domains, as written.
                if t.kind == K::Url && ind.pattern.starts_with("[domain-name:") {
                    list = "domains";
                    value = ind
                        .pattern
                        .split('\'')
                        .nth(1)
                        .unwrap_or_default()
                        .to_lowercase();
                }
                for spy in &ind.spyware {
                    ours.insert((f.clone(), spy.to_string(), list.to_string(), value.clone()));
                }
            }
        }
    }
    assert!(
        theirs.len() > 5000,
        "MVT loaded {} indicators",
        theirs.len()
    );
    let only_mvt: Vec<_> = theirs.difference(&ours).take(10).collect();
    let only_ours: Vec<_> = ours.difference(&theirs).take(10).collect();
    assert!(only_mvt.is_empty(), "MVT has, we lack: {only_mvt:?}");
    assert!(only_ours.is_empty(), "we have, MVT lacks: {only_ours:?}");
}

/// The fast path for single comparisons agrees with the pattern crate's
/// parser and compile step on every pattern of the public sets.
#[test]
fn fast_path_agrees_with_the_pattern_compiler() {
    let (sets, _) = load_path(&data());
    let mut checked = 0;
    for s in &sets {
        for ind in &s.indicators {
            if !ind.pattern.starts_with('[') {
                continue;
            }
            let full = vigil_iocs::compile_full(&ind.pattern).expect("compiles");
            assert_eq!(
                full,
                vigil_iocs::CompiledPattern::Terms(ind.terms.clone()),
                "{}",
                ind.pattern
            );
            checked += 1;
        }
    }
    assert!(checked > 5000, "{checked}");
}
