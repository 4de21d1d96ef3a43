//! Lowering STIX indicators to deployable entries.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use vigil_pattern::{Compiled, FactOp};

/// What kind of value an [`Entry`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A DNS name.
    Domain,
    /// A URL.
    Url,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An IPv4 or IPv6 network in CIDR notation.
    Cidr,
    /// An e-mail address.
    Email,
    /// An MD5 hash (hex, lower case).
    Md5,
    /// A SHA-1 hash.
    Sha1,
    /// A SHA-256 hash.
    Sha256,
    /// A SHA-512 hash.
    Sha512,
    /// A file name.
    FileName,
    /// A process name.
    ProcessName,
    /// An application id (bundle id or Android package).
    AppId,
}

impl EntryKind {
    /// The kind's name in CSV output.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Domain => "domain",
            EntryKind::Url => "url",
            EntryKind::Ipv4 => "ipv4",
            EntryKind::Ipv6 => "ipv6",
            EntryKind::Cidr => "cidr",
            EntryKind::Email => "email",
            EntryKind::Md5 => "md5",
            EntryKind::Sha1 => "sha1",
            EntryKind::Sha256 => "sha256",
            EntryKind::Sha512 => "sha512",
            EntryKind::FileName => "file-name",
            EntryKind::ProcessName => "process-name",
            EntryKind::AppId => "app-id",
        }
    }
}

/// One deployable value with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Entry {
    /// The kind of value.
    pub kind: EntryKind,
    /// The value, normalised (domains lower case without a trailing dot, hashes lower case).
    pub value: String,
    /// The STIX id of the indicator.
    pub indicator_id: String,
    /// The names of the malware the indicator `indicates`, sorted.
    pub malware: Vec<String>,
}

/// An indicator that could not be lowered to entries, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// The indicator's id (or a JSON pointer when it has none).
    pub id: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Indicators lowered to entries, ready to export.
#[derive(Debug, Clone, Default)]
pub struct IndicatorSet {
    /// Entries sorted by kind then value; one per (kind, value, indicator).
    pub entries: Vec<Entry>,
    /// Indicators that were not exported, with the reason.
    pub skipped: Vec<Skipped>,
    /// Indicator and malware objects kept verbatim, for the STIX/MVT export.
    pub(crate) stix: Vec<Value>,
}

impl IndicatorSet {
    /// Lowers the indicators among `objects` (any STIX 2.1 objects; the
    /// others are used only to resolve `indicates` relationships).
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Value>) -> IndicatorSet {
        let objects: Vec<&Value> = objects.into_iter().collect();
        let mut malware_names: BTreeMap<&str, &str> = BTreeMap::new();
        for o in &objects {
            if str_field(o, "type") == Some("malware") {
                if let (Some(id), Some(name)) = (str_field(o, "id"), str_field(o, "name")) {
                    malware_names.insert(id, name);
                }
            }
        }
        let mut indicates: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut used_malware: BTreeSet<&str> = BTreeSet::new();
        for o in &objects {
            if str_field(o, "type") == Some("relationship")
                && str_field(o, "relationship_type") == Some("indicates")
            {
                if let (Some(src), Some(dst)) =
                    (str_field(o, "source_ref"), str_field(o, "target_ref"))
                {
                    if let Some(name) = malware_names.get(dst) {
                        indicates
                            .entry(src)
                            .or_default()
                            .insert((*name).to_string());
                        used_malware.insert(dst);
                    }
                }
            }
        }
        let mut set = IndicatorSet::default();
        let mut seen = BTreeSet::new();
        for (index, o) in objects.iter().enumerate() {
            if str_field(o, "type") != Some("indicator") {
                continue;
            }
            let id = str_field(o, "id")
                .map(str::to_string)
                .unwrap_or_else(|| format!("/objects/{index}"));
            if o.get("revoked").and_then(Value::as_bool) == Some(true) {
                set.skipped.push(Skipped {
                    id,
                    reason: "revoked".into(),
                });
                continue;
            }
            let pattern_type = str_field(o, "pattern_type").unwrap_or("stix");
            if pattern_type != "stix" {
                set.skipped.push(Skipped {
                    id,
                    reason: format!("pattern_type {pattern_type:?} is not exported"),
                });
                continue;
            }
            let Some(text) = str_field(o, "pattern") else {
                set.skipped.push(Skipped {
                    id,
                    reason: "no pattern".into(),
                });
                continue;
            };
            let pattern = match vigil_pattern::parse(text) {
                Ok(p) => p,
                Err(e) => {
                    set.skipped.push(Skipped {
                        id,
                        reason: format!("pattern: {e}"),
                    });
                    continue;
                }
            };
            let facts = match vigil_pattern::compile(&pattern) {
                Compiled::Facts(f) => f,
                Compiled::General { reason } => {
                    set.skipped.push(Skipped {
                        id,
                        reason: format!("pattern needs the general evaluator: {reason}"),
                    });
                    continue;
                }
            };
            let malware: Vec<String> = indicates
                .get(id.as_str())
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            let mut lowered = 0;
            let mut unsupported = Vec::new();
            for fact in &facts {
                match lower(&fact.object_type, &fact.path, fact.op, &fact.value) {
                    Some((kind, value)) => {
                        if seen.insert((kind, value.clone(), id.clone())) {
                            set.entries.push(Entry {
                                kind,
                                value,
                                indicator_id: id.clone(),
                                malware: malware.clone(),
                            });
                        }
                        lowered += 1;
                    }
                    None => unsupported.push(format!("{}:{}", fact.object_type, fact.path)),
                }
            }
            if lowered == 0 {
                set.skipped.push(Skipped {
                    id,
                    reason: format!("no exportable observable ({})", unsupported.join(", ")),
                });
            } else {
                set.stix.push((*o).clone());
            }
        }
        for o in &objects {
            let t = str_field(o, "type");
            let keep = match t {
                Some("malware") => str_field(o, "id").is_some_and(|id| used_malware.contains(id)),
                Some("relationship") => {
                    str_field(o, "relationship_type") == Some("indicates")
                        && str_field(o, "target_ref").is_some_and(|id| used_malware.contains(id))
                }
                _ => false,
            };
            if keep {
                set.stix.push((*o).clone());
            }
        }
        set.entries.sort();
        set
    }

    /// Entries of one kind, in order.
    pub fn of_kind(&self, kind: EntryKind) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.kind == kind)
    }

    /// The distinct values of the given kinds, sorted.
    pub fn values(&self, kinds: &[EntryKind]) -> BTreeSet<&str> {
        self.entries
            .iter()
            .filter(|e| kinds.contains(&e.kind))
            .map(|e| e.value.as_str())
            .collect()
    }
}

fn str_field<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

/// Maps a compiled fact to an entry, normalising the value; `None` when the
/// observable has no place in the export formats.
fn lower(object_type: &str, path: &str, op: FactOp, value: &str) -> Option<(EntryKind, String)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let kind = match (object_type, path) {
        ("domain-name", "value") => EntryKind::Domain,
        ("url", "value") => EntryKind::Url,
        ("ipv4-addr", "value") | ("ipv6-addr", "value") => {
            let is_v6 = object_type == "ipv6-addr";
            return match (op, value.split_once('/')) {
                (_, Some((_, bits))) => {
                    let full = if is_v6 { "128" } else { "32" };
                    if bits == full {
                        let addr = value.split('/').next().unwrap_or(value);
                        Some((
                            if is_v6 {
                                EntryKind::Ipv6
                            } else {
                                EntryKind::Ipv4
                            },
                            addr.to_ascii_lowercase(),
                        ))
                    } else {
                        Some((EntryKind::Cidr, value.to_ascii_lowercase()))
                    }
                }
                (_, None) => Some((
                    if is_v6 {
                        EntryKind::Ipv6
                    } else {
                        EntryKind::Ipv4
                    },
                    value.to_ascii_lowercase(),
                )),
            };
        }
        ("email-addr", "value") => EntryKind::Email,
        ("file", "name") => EntryKind::FileName,
        ("process", "name") => EntryKind::ProcessName,
        ("app", "id") => EntryKind::AppId,
        ("file", p) | ("artifact", p) if p.starts_with("hashes.") => {
            let algo: String = p["hashes.".len()..]
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_uppercase();
            let hex_ok = value.chars().all(|c| c.is_ascii_hexdigit());
            let kind = match (algo.as_str(), value.len()) {
                ("MD5", 32) => EntryKind::Md5,
                ("SHA1", 40) => EntryKind::Sha1,
                ("SHA256", 64) => EntryKind::Sha256,
                ("SHA512", 128) => EntryKind::Sha512,
                _ => return None,
            };
            if !hex_ok {
                return None;
            }
            return Some((kind, value.to_ascii_lowercase()));
        }
        _ => return None,
    };
    if op != FactOp::Equals {
        return None;
    }
    let value = match kind {
        EntryKind::Domain => value.trim_end_matches('.').to_ascii_lowercase(),
        EntryKind::Email => value.to_ascii_lowercase(),
        _ => value.to_string(),
    };
    Some((kind, value))
}
