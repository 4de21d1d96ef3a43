//! Network and log readers for the Vigil scanner.
//!
//! Three kinds of input become [`vigil_artefact::Record`]s:
//! - packet captures, pcap and pcapng ([`pcap_modules`]): DNS queries and
//!   answers, TLS ClientHello server names (over TCP, and in QUIC Initial
//!   packets, decrypted as RFC 9001 allows), HTTP `Host` headers, and the
//!   addresses of each new conversation;
//! - Zeek logs ([`zeek_modules`]): `dns`, `conn`, `ssl`, `http` and `files`,
//!   tab-separated with a `#fields` header or JSON lines;
//! - any other text log ([`log_modules`]): DNS server and proxy logs,
//!   exported timelines — domains, URLs, addresses, hashes and e-mail
//!   addresses are pulled out of each line by a byte scanner
//!   ([`extract_observables`]).
//!
//! A [`Filter`] lets the scanner keep only the records that carry a value it
//! cares about: a multi-gigabyte log then yields a handful of records instead
//! of one per line, and large text logs are read on several threads.
//!
//! **Architecture Invariant:** readers only read. They never write to or
//! rename their input, never touch the network, keep memory bounded whatever
//! the input (lines and packets have size caps, de-duplication tables are
//! capped), and turn corrupt input into a [`vigil_artefact::ModuleError`] or a
//! warning, never a panic.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_artefact::{Module, ObservableKind};

mod extract;
mod flow;
mod pcap;
mod quic;
pub mod synth;
mod text;
mod time;
mod zeek;

pub use extract::{extract_observables, extract_observables_of};
pub use pcap::PcapModule;
pub use quic::{client_initial_keys_v1, InitialKeys};
pub use text::TextLogModule;
pub use zeek::ZeekModule;

/// Keeps a record only when one of its observables passes (`kind`, `value`).
///
/// Any `Fn(ObservableKind, &str) -> bool` is one (it passes every kind); the
/// scanner's own filter also says which kinds can ever pass, so the text
/// reader looks only for those, and checks values in batches.
pub type Filter = Arc<dyn ValueFilter>;

/// A test on observed values, as a [`Filter`] applies it.
pub trait ValueFilter: Send + Sync {
    /// True when the record holding `value` (read as `kind`) is wanted.
    fn passes(&self, kind: ObservableKind, value: &str) -> bool;

    /// The kinds for which [`ValueFilter::passes`] can be true; a reader may
    /// skip looking for any other kind.
    fn kinds(&self) -> Kinds {
        Kinds::ALL
    }

    /// Sets `passed[i]` to whether `values[i]` passes (the slices have the same length).
    ///
    /// One call for many values lets a filter overlap its memory accesses.
    fn passes_each(&self, values: &[(ObservableKind, &str)], passed: &mut [bool]) {
        for ((kind, value), p) in values.iter().zip(passed.iter_mut()) {
            *p = self.passes(*kind, value);
        }
    }
}

impl<F: Fn(ObservableKind, &str) -> bool + Send + Sync> ValueFilter for F {
    fn passes(&self, kind: ObservableKind, value: &str) -> bool {
        self(kind, value)
    }
}

/// A set of [`ObservableKind`]s.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Kinds(u32);

impl Kinds {
    /// Every kind.
    pub const ALL: Kinds = Kinds(u32::MAX);
    /// No kind.
    pub const NONE: Kinds = Kinds(0);

    /// This set and `kind`.
    pub const fn with(self, kind: ObservableKind) -> Kinds {
        Kinds(self.0 | 1 << kind as u32)
    }

    /// This set without `kind`.
    pub const fn without(self, kind: ObservableKind) -> Kinds {
        Kinds(self.0 & !(1 << kind as u32))
    }

    /// True when `kind` is in the set.
    pub const fn contains(self, kind: ObservableKind) -> bool {
        self.0 & 1 << kind as u32 != 0
    }
}

impl FromIterator<ObservableKind> for Kinds {
    fn from_iter<I: IntoIterator<Item = ObservableKind>>(iter: I) -> Kinds {
        iter.into_iter().fold(Kinds::NONE, Kinds::with)
    }
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use ObservableKind as K;
        let all = [
            K::Domain,
            K::Url,
            K::Ipv4,
            K::Ipv6,
            K::Email,
            K::FileHash,
            K::FileName,
            K::FilePath,
            K::ProcessName,
            K::AppId,
            K::AppCertHash,
            K::AndroidProperty,
            K::ConfigurationProfileId,
        ];
        f.debug_set()
            .entries(all.iter().filter(|k| self.contains(**k)))
            .finish()
    }
}

/// Options shared by the readers of this crate.
#[derive(Clone, Default)]
pub struct Options {
    /// Emit only records with at least one observable that passes; `None` emits all.
    pub filter: Option<Filter>,
    /// Threads a large text log may be read on (0: as many as the machine has).
    pub threads: usize,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("filter", &self.filter.is_some())
            .field("threads", &self.threads)
            .finish()
    }
}

/// Why a reader could not start on its input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The input is not of the kind asked for.
    #[error("{}: {message}", path.display())]
    NotRecognised {
        /// The file or folder.
        path: PathBuf,
        /// What was expected.
        message: String,
    },
}

fn first_bytes(path: &Path, n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut buf = vec![0; n];
    let Ok(f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut got = 0;
    let mut f = f.take(n as u64);
    while let Ok(k) = f.read(&mut buf[got..]) {
        if k == 0 {
            break;
        }
        got += k;
    }
    buf.truncate(got);
    buf
}

/// The first bytes of a file's content, decompressed when it is gzip.
fn content_head(path: &Path, n: usize) -> Vec<u8> {
    use std::io::Read;
    let head = first_bytes(path, n);
    if !head.starts_with(&[0x1f, 0x8b]) {
        return head;
    }
    let Ok(f) = std::fs::File::open(path) else {
        return head;
    };
    let mut out = Vec::new();
    let _ = flate2::read::MultiGzDecoder::new(f)
        .take(n as u64)
        .read_to_end(&mut out);
    out
}

/// True when `path` is a file starting with a pcap or pcapng magic number (gzip-compressed or not).
pub fn looks_like_pcap(path: &Path) -> bool {
    path.is_file() && pcap::is_capture_magic(&content_head(path, 4))
}

/// True when `path` is a Zeek log file, or a folder holding Zeek logs.
pub fn looks_like_zeek(path: &Path) -> bool {
    if path.is_dir() {
        return zeek_files(path).next().is_some();
    }
    zeek::is_zeek_file(path, &first_bytes(path, 512))
}

fn zeek_files(dir: &Path) -> impl Iterator<Item = PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && zeek::is_zeek_file(p, &first_bytes(p, 512)))
        .collect();
    files.sort();
    files.into_iter()
}

/// Files under `path` (itself if a file), sorted, at most `limit`, skipping hidden ones.
fn files_of(path: &Path, limit: usize) -> Result<Vec<PathBuf>, Error> {
    if !path.is_dir() {
        std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![(path.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        for e in entries.flatten() {
            let p = e.path();
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            // Symlinks are not followed: a capture folder should not lead elsewhere.
            let Ok(ft) = e.file_type() else { continue };
            if hidden || ft.is_symlink() {
                continue;
            }
            if ft.is_dir() && depth < 4 {
                stack.push((p, depth + 1));
            } else if ft.is_file() && out.len() < limit {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Most files one folder may contribute (a guard against scanning a whole disk by mistake).
pub const MAX_FILES: usize = 10_000;

/// Boxes one module per file, or says that nothing of the kind is at `path`.
fn one_per_file(
    path: &Path,
    files: Vec<PathBuf>,
    nothing: &str,
    make: impl Fn(PathBuf) -> Box<dyn Module>,
) -> Result<Vec<Box<dyn Module>>, Error> {
    if files.is_empty() {
        return Err(Error::NotRecognised {
            path: path.to_path_buf(),
            message: nothing.into(),
        });
    }
    Ok(files.into_iter().map(make).collect())
}

/// One module per capture file at `path` (a file, or a folder of captures).
pub fn pcap_modules(path: &Path, options: &Options) -> Result<Vec<Box<dyn Module>>, Error> {
    let files: Vec<PathBuf> = files_of(path, MAX_FILES)?
        .into_iter()
        .filter(|p| !path.is_dir() || looks_like_pcap(p))
        .collect();
    one_per_file(path, files, "no pcap or pcapng capture here", |f| {
        Box::new(PcapModule::new(f, options.clone()))
    })
}

/// One module per Zeek log at `path` (a log file, or a folder of them).
pub fn zeek_modules(path: &Path, options: &Options) -> Result<Vec<Box<dyn Module>>, Error> {
    let files: Vec<PathBuf> = if path.is_dir() {
        zeek_files(path).collect()
    } else {
        files_of(path, 1)?
    };
    one_per_file(
        path,
        files,
        "no Zeek log here (dns.log, conn.log, ssl.log, http.log, files.log)",
        |f| Box::new(ZeekModule::new(f, options.clone())),
    )
}

/// One module per text log at `path` (a file, `.gz` included, or every file in a folder).
pub fn log_modules(path: &Path, options: &Options) -> Result<Vec<Box<dyn Module>>, Error> {
    one_per_file(path, files_of(path, MAX_FILES)?, "no files here", |f| {
        Box::new(TextLogModule::new(f, options.clone()))
    })
}

/// Modules for a file or folder of mixed captures, Zeek logs and text logs,
/// each file read by the reader its content calls for.
pub fn auto_modules(path: &Path, options: &Options) -> Result<Vec<Box<dyn Module>>, Error> {
    one_per_file(path, files_of(path, MAX_FILES)?, "no files here", |f| {
        let head = first_bytes(&f, 512);
        if pcap::is_capture_magic(&content_head(&f, 4)) {
            Box::new(PcapModule::new(f, options.clone()))
        } else if zeek::is_zeek_file(&f, &head) {
            Box::new(ZeekModule::new(f, options.clone()))
        } else {
            Box::new(TextLogModule::new(f, options.clone()))
        }
    })
}

/// The display form of a path inside an acquisition: the path as given.
pub(crate) fn display(path: &Path) -> String {
    path.display().to_string()
}

/// True when the filter (if any) passes one of the observables.
pub(crate) fn keep(filter: &Option<Filter>, obs: &[vigil_artefact::Observable]) -> bool {
    match filter {
        None => !obs.is_empty(),
        Some(f) => obs.iter().any(|o| f.passes(o.kind, &o.value)),
    }
}

/// Byte-slice entry points for the fuzz targets: the same parsing the modules do, without files.
#[doc(hidden)]
pub mod fuzzing {
    /// Reads a capture from bytes: every packet decoded, TCP streams reassembled.
    pub fn capture(bytes: &[u8]) -> usize {
        let mut n = 0;
        let reader: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(bytes.to_vec()));
        crate::pcap::run_sequential(reader, "fuzz", &None, &mut |r| n += r.observables.len());
        n
    }

    /// Feeds bytes as the two directions of a TCP connection, cut into segments
    /// whose sizes and order come from the input itself.
    pub fn tcp_stream(bytes: &[u8]) -> usize {
        crate::flow::fuzz_streams(bytes)
    }

    /// Reads bytes as a Zeek log (TSV with headers, or JSON lines).
    pub fn zeek_log(bytes: &[u8]) -> usize {
        crate::zeek::read_bytes(bytes)
    }

    /// Reads bytes as UDP payloads that may hold QUIC Initial packets, or
    /// (first byte's high bit set) as the plaintext frames of Initial packets;
    /// the first byte's other bits say how the rest is cut into packets.
    pub fn quic_datagrams(bytes: &[u8]) -> usize {
        let mut q = crate::quic::QuicHellos::default();
        let Some((&cut, rest)) = bytes.split_first() else {
            return 0;
        };
        let size = usize::from(cut & 0x7f).max(1) * 16;
        if cut & 0x80 != 0 {
            // Plaintext frames of one connection's Initial packets, past the encryption.
            return rest
                .chunks(size)
                .map(|d| q.plaintext_frames(b"fuzz", d).len())
                .sum();
        }
        rest.chunks(size).map(|d| q.datagram(d).len()).sum()
    }

    /// Scans bytes as one log line, and holds the search for some kinds
    /// (names and URLs, as for a list of domains) to the full scan's answer.
    pub fn log_line(bytes: &[u8]) -> usize {
        use crate::{Kinds, ObservableKind as K};
        let text = String::from_utf8_lossy(bytes);
        let kinds = Kinds::NONE.with(K::Domain).with(K::Url);
        let mut all = Vec::new();
        crate::extract_observables(&text, &mut |k, v| {
            if kinds.contains(k) {
                all.push((k, v.to_string()))
            }
        });
        let mut some = Vec::new();
        crate::extract_observables_of(&text, kinds, &mut |k, v| some.push((k, v.to_string())));
        assert_eq!(
            all, some,
            "the search for names and URLs differs from the full scan"
        );
        crate::text::scan_line(bytes, "fuzz", 1, 0, &None).map_or(0, |r| r.observables.len())
    }
}
