//! The embedded registry holds what is in `data/` and every bundle parses.

use std::path::Path;

use vigil_registry::{bundles, Source};

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

fn stix_files(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            stix_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "stix2") {
            out.push(
                p.strip_prefix(data_dir())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

#[test]
fn every_indicator_bundle_on_disk_is_embedded() {
    let mut on_disk = Vec::new();
    stix_files(&data_dir().join("indicators"), &mut on_disk);
    on_disk.sort();
    let embedded: Vec<String> = bundles()
        .filter(|b| b.source == Source::Indicators)
        .map(|b| b.path.to_string())
        .collect();
    assert!(!on_disk.is_empty());
    assert_eq!(embedded, on_disk);
}

#[test]
fn every_embedded_bundle_parses_and_objects_have_ids() {
    for b in bundles() {
        let objects = b.objects().unwrap_or_else(|e| panic!("{e}"));
        assert!(!objects.is_empty(), "{} has no objects", b.path);
        for o in &objects {
            let id = o.get("id").and_then(|v| v.as_str()).unwrap_or("");
            assert!(
                id.contains("--"),
                "{}: object without a STIX id: {o}",
                b.path
            );
        }
    }
}

#[test]
fn embedded_text_is_the_file_content() {
    let b = bundles().next().expect("at least one bundle");
    let on_disk = std::fs::read_to_string(data_dir().join(b.path)).unwrap();
    assert_eq!(b.text, on_disk);
}
