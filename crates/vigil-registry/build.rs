//! Embeds every STIX bundle of `data/registry` (`*.json`, `*.stix2`) and
//! `data/indicators` (`*.stix2`) into the crate, sorted by path so builds are
//! reproducible.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, exts, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.contains(&e))
        {
            out.push(path);
        }
    }
}

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let data = manifest.join("../../data");
    let mut code = String::from("/// Every embedded bundle: (kind, path under data/, JSON text).\npub(crate) static EMBEDDED: &[(Source, &str, &str)] = &[\n");
    for (kind, sub, exts) in [
        ("Source::Registry", "registry", &["json", "stix2"][..]),
        ("Source::Indicators", "indicators", &["stix2"][..]),
    ] {
        let dir = data.join(sub);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        collect(&dir, exts, &mut files);
        files.sort();
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            let rel = f
                .strip_prefix(&data)
                .unwrap_or(&f)
                .to_string_lossy()
                .replace('\\', "/");
            let abs = f.canonicalize().unwrap_or(f.clone());
            writeln!(
                code,
                "    ({kind}, {rel:?}, include_str!({:?})),",
                abs.display().to_string()
            )
            .expect("writing to a String cannot fail");
        }
    }
    code.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    std::fs::write(out, code).expect("write embedded.rs");
}
