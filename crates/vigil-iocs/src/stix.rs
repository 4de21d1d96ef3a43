//! STIX 2.1 bundles as MVT's users have them.
//!
//! Indicators name their spyware through `indicates` relationships to a
//! `malware` object, or by being listed in a `report`'s `object_refs`. Other
//! object types are read only for those names. Objects with a problem are
//! reported as diagnostics and skipped; the rest of the bundle loads.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::pattern::{compile_pattern, CompiledPattern};
use crate::{Error, Indicator, IndicatorSet};

#[derive(Deserialize)]
#[serde(untagged)]
enum Document<'a> {
    Bundle {
        #[serde(borrow)]
        objects: Vec<Object<'a>>,
    },
    List(#[serde(borrow)] Vec<Object<'a>>),
}

#[derive(Deserialize)]
struct Object<'a> {
    #[serde(borrow, rename = "type", default)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pattern: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pattern_type: Option<Cow<'a, str>>,
    #[serde(default)]
    revoked: bool,
    #[serde(borrow, default)]
    relationship_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source_ref: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    target_ref: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    object_refs: Vec<Cow<'a, str>>,
}

pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<IndicatorSet, Error> {
    let doc: Document<'_> = serde_json::from_slice(bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: format!("not a STIX 2.1 bundle: {e}"),
    })?;
    let objects = match doc {
        Document::Bundle { objects } => objects,
        Document::List(objects) => objects,
    };

    // Names of the things an indicator can point at.
    let mut names: FxHashMap<&str, Arc<str>> = FxHashMap::default();
    for o in &objects {
        if matches!(
            o.kind.as_ref(),
            "malware" | "tool" | "threat-actor" | "intrusion-set" | "campaign" | "report"
        ) {
            if let Some(n) = &o.name {
                names.insert(o.id.as_ref(), Arc::from(n.as_ref()));
            }
        }
    }
    // indicator id → spyware names, from relationships and report refs.
    let mut links: FxHashMap<&str, Vec<Arc<str>>> = FxHashMap::default();
    for o in &objects {
        match o.kind.as_ref() {
            "relationship" if o.relationship_type.as_deref() == Some("indicates") => {
                if let (Some(src), Some(dst)) = (&o.source_ref, &o.target_ref) {
                    if let Some(n) = names.get(dst.as_ref()) {
                        push_unique(links.entry(src.as_ref()).or_default(), n);
                    }
                }
            }
            "report" => {
                if let Some(n) = names.get(o.id.as_ref()) {
                    for r in &o.object_refs {
                        push_unique(links.entry(r.as_ref()).or_default(), n);
                    }
                }
            }
            _ => {}
        }
    }

    let mut set = IndicatorSet::default();
    for (index, o) in objects.iter().enumerate() {
        if o.kind != "indicator" {
            continue;
        }
        let where_ = || {
            if o.id.is_empty() {
                format!("object {index}")
            } else {
                format!("{} (object {index})", o.id)
            }
        };
        if o.revoked {
            continue;
        }
        if let Some(pt) = &o.pattern_type {
            if pt != "stix" {
                set.diagnostics.push(format!(
                    "{}: pattern_type '{pt}' is not stix; skipped",
                    where_()
                ));
                continue;
            }
        }
        let Some(pattern) = &o.pattern else {
            set.diagnostics
                .push(format!("{}: no pattern; skipped", where_()));
            continue;
        };
        let (terms, general) = match compile_pattern(pattern) {
            Ok(CompiledPattern::Terms(t)) => (t, None),
            Ok(CompiledPattern::General(reason)) => (Vec::new(), Some(reason)),
            Err(e) => {
                set.diagnostics.push(format!("{}: pattern: {e}", where_()));
                continue;
            }
        };
        set.indicators.push(Indicator {
            id: o.id.to_string(),
            pattern: pattern.to_string(),
            spyware: links.get(o.id.as_ref()).cloned().unwrap_or_default(),
            terms,
            general,
        });
    }
    Ok(set)
}

fn push_unique(v: &mut Vec<Arc<str>>, n: &Arc<str>) {
    if !v.iter().any(|x| x == n) {
        v.push(n.clone());
    }
}
