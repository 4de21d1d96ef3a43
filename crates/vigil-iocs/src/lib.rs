//! Indicator sets for the Vigil scanner.
//!
//! An [`IndicatorSet`] is what one file holds: a STIX 2.1 bundle as MVT's users
//! have them (indicators linked by `indicates` relationships to a `malware`
//! object that names the spyware, or listed in a `report`), a plain text list
//! (one domain, URL, address, hash or e-mail address per line) or a CSV set
//! (columns named `domain`, `ip_address`, `sha256` …). Every [`Indicator`]
//! remembers its id, its pattern, the spyware it indicates and its set, so a
//! detection can name all of them.
//!
//! A [`Matcher`] is built once from the sets. It keeps one table per
//! [`ObservableKind`] (domains with every parent domain, normalised URLs,
//! addresses and CIDR ranges, hashes, file names and paths, process names with
//! the 16-character truncation iOS applies, app ids, certificate hashes,
//! e-mail addresses, Android properties, configuration profiles), so the cost
//! of checking one observed value does not grow with the number of indicators.
//!
//! **Architecture Invariant:** this crate does no I/O beyond reading the
//! indicator files it is asked to load, and depends on no async runtime, CLI
//! or database crate.

#![forbid(unsafe_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use vigil_artefact::ObservableKind;

mod kinds;
mod matcher;
mod pattern;
mod stix;
mod text;

pub use kinds::{kind_for_path, normalise_domain, normalise_url, url_host};
#[doc(hidden)]
pub use matcher::seal_payload;
pub use matcher::{CompiledError, Hit, How, IndicatorId, Matcher, SourceStamp};
pub use pattern::{compile_fast, compile_full, compile_pattern, CompiledPattern};

/// Largest indicator file this crate reads (bigger files are refused, not truncated).
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// Everything that can stop an indicator file from loading.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file or folder could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not in a format this crate reads.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line or object where known.
        message: String,
    },
    /// A table without any column naming an indicator kind (a walk over a folder skips it).
    #[error("{}: no indicator column in the header ({header}); expected domain, ip_address, url, sha256, md5, email …", path.display())]
    NoIndicatorColumn {
        /// The file.
        path: PathBuf,
        /// The header row as found.
        header: String,
    },
}

/// One value an indicator matches: an observable kind and its normalised value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    /// What kind of observable the value is compared with.
    pub kind: ObservableKind,
    /// The value, normalised for its kind (lower-case domains and hashes, CIDR kept as `a.b.c.d/n`).
    pub value: String,
}

/// One indicator of compromise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The STIX id (`indicator--…`), or `FILE:LINE` for text and CSV lists.
    pub id: String,
    /// The STIX pattern, or the list entry as written.
    pub pattern: String,
    /// The spyware (malware, report) names the indicator is linked to; may be empty.
    pub spyware: Vec<Arc<str>>,
    /// The values it matches; the indicator matches when any of them does.
    pub terms: Vec<Term>,
    /// Why the pattern did not reduce to terms, when it needs the general evaluator.
    pub general: Option<String>,
}

/// The indicators loaded from one file.
#[derive(Debug, Clone, Default)]
pub struct IndicatorSet {
    /// A short display name (file stem, or folder name for generic file names).
    pub name: String,
    /// The file it came from.
    pub source: PathBuf,
    /// The indicators, in file order.
    pub indicators: Vec<Indicator>,
    /// Entries that were skipped, each naming its object or line.
    pub diagnostics: Vec<String>,
}

impl IndicatorSet {
    /// Number of indicators of each kind (an indicator with several terms counts once per kind).
    pub fn counts(&self) -> std::collections::BTreeMap<ObservableKind, usize> {
        let mut out = std::collections::BTreeMap::new();
        for ind in &self.indicators {
            let mut kinds: Vec<ObservableKind> = ind.terms.iter().map(|t| t.kind).collect();
            kinds.sort();
            kinds.dedup();
            for k in kinds {
                *out.entry(k).or_insert(0) += 1;
            }
        }
        out
    }

    /// Indicators whose pattern needs the general evaluator.
    pub fn general_count(&self) -> usize {
        self.indicators
            .iter()
            .filter(|i| i.general.is_some())
            .count()
    }

    /// The distinct spyware names in this set, sorted.
    pub fn spyware(&self) -> Vec<String> {
        // Names are shared between indicators: skip a list equal to the one before
        // (one pointer comparison per name), so a million indicators cost no copies.
        let mut names: Vec<String> = Vec::new();
        let mut last: &[Arc<str>] = &[];
        for ind in &self.indicators {
            let l = ind.spyware.as_slice();
            let same = l.len() == last.len() && l.iter().zip(last).all(|(a, b)| Arc::ptr_eq(a, b));
            if !same {
                names.extend(l.iter().map(|s| s.to_string()));
                last = l;
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// Which reader a file is given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A STIX 2.1 bundle (`.stix2`, `.json`).
    Stix,
    /// A CSV set with a header row (`.csv`).
    Csv,
    /// A plain list, one indicator per line (`.txt`, anything else).
    Text,
}

impl Format {
    /// Picks the format from the file name, then from the first non-blank byte.
    pub fn detect(path: &Path, bytes: &[u8]) -> Format {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "stix2" | "stix" | "json" => Format::Stix,
            "csv" => Format::Csv,
            _ if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => Format::Stix,
            _ => Format::Text,
        }
    }
}

/// Loads one indicator file, picking its format from its name and content.
pub fn load_file(path: &Path) -> Result<IndicatorSet, Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::Format {
            path: path.to_path_buf(),
            message: format!(
                "file is {} bytes, more than the {} this reader accepts",
                meta.len(),
                MAX_FILE_BYTES
            ),
        });
    }
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    // Enough of the start to tell a bundle from a list.
    let mut head = Vec::with_capacity(4096);
    (&mut file).take(4096).read_to_end(&mut head).map_err(io)?;
    let mut set = match Format::detect(path, &head) {
        // Bundles are read as a stream, never held whole.
        Format::Stix => stix::load(path, head.as_slice().chain(file))?,
        format => {
            let mut bytes = head;
            file.read_to_end(&mut bytes).map_err(io)?;
            load_list(path, format, &bytes)?
        }
    };
    set.name = set_name(path);
    set.source = path.to_path_buf();
    Ok(set)
}

fn load_list(path: &Path, format: Format, bytes: &[u8]) -> Result<IndicatorSet, Error> {
    match format {
        Format::Stix => stix::load(path, bytes),
        Format::Csv => text::load_csv(path, bytes),
        Format::Text => text::load_text(path, bytes),
    }
}

/// Loads indicators from bytes already in memory; `path` names them in messages.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<IndicatorSet, Error> {
    let mut set = load_list(path, Format::detect(path, bytes), bytes)?;
    set.name = set_name(path);
    set.source = path.to_path_buf();
    Ok(set)
}

/// True for file names this crate loads when it walks a folder.
pub fn is_indicator_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("stix2" | "stix" | "json" | "csv" | "txt")
    )
}

/// Loads a file, or every indicator file under a folder (sorted by path).
///
/// Files that fail to load are returned as errors next to the sets that did,
/// so one bad file does not hide the others. In a folder, CSV tables without
/// an indicator column are skipped.
pub fn load_path(path: &Path) -> (Vec<IndicatorSet>, Vec<Error>) {
    load_path_with(path, load_file)
}

/// [`load_path`] with another reader of one file (for example one that
/// reads a compiled form): a file is read with `load`; a folder's
/// [`indicator_files`] are, skipping tables that hold no indicator column.
pub fn load_path_with<T>(
    path: &Path,
    mut load: impl FnMut(&Path) -> Result<T, Error>,
) -> (Vec<T>, Vec<Error>) {
    if !path.is_dir() {
        return match load(path) {
            Ok(set) => (vec![set], Vec::new()),
            Err(e) => (Vec::new(), vec![e]),
        };
    }
    let (files, mut errors) = indicator_files(path);
    let mut sets = Vec::new();
    for f in files {
        match load(&f) {
            Ok(set) => sets.push(set),
            // Folders of published sets also hold tables that are not indicators.
            Err(Error::NoIndicatorColumn { .. }) => {}
            Err(e) => errors.push(e),
        }
    }
    (sets, errors)
}

/// The indicator files [`load_path`] reads under a folder, sorted by path,
/// and the folders that could not be read (hidden files and folders are skipped).
pub fn indicator_files(dir: &Path) -> (Vec<PathBuf>, Vec<Error>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    walk(dir, &mut files, &mut errors, 0);
    files.sort();
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<Error>, depth: usize) {
    // Indicator folders are shallow; the limit stops symlink loops.
    if depth > 8 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) => {
            errors.push(Error::Io {
                path: dir.to_path_buf(),
                source,
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            walk(&p, files, errors, depth + 1);
        } else if is_indicator_file(&p) {
            files.push(p);
        }
    }
}

/// A display name for a set: the file stem, prefixed by the folder for generic names.
pub(crate) fn set_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("indicators")
        .to_string();
    let generic = matches!(
        stem.to_ascii_lowercase().as_str(),
        "indicators" | "iocs" | "malware" | "sha256" | "domains" | "ips" | "list"
    );
    match path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str())
    {
        Some(dir) if generic => format!("{dir}/{stem}"),
        _ => stem,
    }
}
