//! The common currency of Vigil's artefact readers.
//!
//! Every reader (iOS backup modules, Android bugreport and androidqf modules,
//! pcap, Zeek and text logs) turns its input into a stream of [`Record`]s: one
//! timestamped observation with its [`Provenance`] (which file, table, row,
//! line or byte offset it came from) and the [`Observable`]s it carries
//! (domains, URLs, addresses, hashes, process names, app ids …). The scanner
//! checks observables against indicator sets and reports detections that name
//! the record's provenance and timestamp.
//!
//! **Invariant:** readers never modify their input and never touch the network.
//! A reader that fails on one file reports a [`ModuleError`] for that module and
//! the scan goes on with the others.

use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch, UTC.
pub type UnixMicros = i64;

/// What kind of value an [`Observable`] is; the scanner keeps one matcher per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObservableKind {
    /// A DNS name (`a.b.example.com`); parent domains are matched too.
    Domain,
    /// A URL; its host is also checked as a domain.
    Url,
    /// An IPv4 address in dotted-quad form.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An e-mail address.
    Email,
    /// A file hash: MD5, SHA-1, SHA-256 or SHA-512 in hex (the length tells which).
    FileHash,
    /// A file name without directories.
    FileName,
    /// A full file path.
    FilePath,
    /// A process name as the OS recorded it (iOS truncates to 16 characters).
    ProcessName,
    /// An application identifier: iOS bundle id or Android package name.
    AppId,
    /// A hash of an app signing certificate.
    AppCertHash,
    /// An Android system property name (`getprop`).
    AndroidProperty,
    /// A configuration profile identifier (iOS).
    ConfigurationProfileId,
}

/// One observable value found in a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Observable {
    /// What the value is.
    pub kind: ObservableKind,
    /// The value as found (readers may normalise case where the kind is case-insensitive).
    pub value: String,
}

impl Observable {
    /// Makes an observable.
    pub fn new(kind: ObservableKind, value: impl Into<String>) -> Self {
        Observable {
            kind,
            value: value.into(),
        }
    }
}

/// Where a record came from, precisely enough for a helpline to find it again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Path of the file inside the acquisition (relative, as the device named it where known).
    pub file: String,
    /// Database table, for records read from SQLite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Row id in that table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<i64>,
    /// Line number (1-based) in a text file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset in a binary file (for example a packet in a capture).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// One timestamped observation produced by a reader module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The module that produced it (`sms`, `safari_history`, `dumpsys_packages`, `pcap` …).
    pub module: String,
    /// Where it came from.
    pub provenance: Provenance,
    /// When it happened, if the artefact says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<UnixMicros>,
    /// A one-line description for the timeline ("SMS received", "Safari visit").
    pub event: String,
    /// The observables to check against indicators.
    pub observables: Vec<Observable>,
    /// The record's own fields, for the per-module JSON output.
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl Provenance {
    /// Provenance naming only a file.
    pub fn file(file: impl Into<String>) -> Provenance {
        Provenance {
            file: file.into(),
            ..Provenance::default()
        }
    }
}

impl Record {
    /// A record of `module` at `provenance` describing `event`, with no
    /// timestamp, observables or fields yet (the reader adds them).
    pub fn new(module: &str, provenance: Provenance, event: &str) -> Record {
        Record {
            module: module.to_string(),
            provenance,
            timestamp: None,
            event: event.to_string(),
            observables: Vec::new(),
            data: serde_json::Map::new(),
        }
    }
}

/// Most warnings one module keeps; later ones are counted in the records, not stored.
pub const MAX_WARNINGS: usize = 100;

/// What the scanner reads of each record a module emits.
///
/// Matching needs only a record's observables, timestamp, event and
/// provenance; its own fields ([`Record::data`]) are read only for the
/// per-module JSON output. A reader may leave them out when they are not
/// needed, and must produce the same records otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Whether [`Record::data`] is read.
    pub fields: bool,
}

impl Needs {
    /// Everything, fields included (what [`Module::run`] produces).
    pub const ALL: Needs = Needs { fields: true };
    /// Observables, timestamp, event and provenance only.
    pub const MATCHING: Needs = Needs { fields: false };
}

enum Sink<'a> {
    Owned(&'a mut dyn FnMut(Record)),
    Borrowed(&'a mut dyn FnMut(&Record)),
}

/// What a running module holds: where its records go, how many it emitted, its warnings.
///
/// Reader modules make one per run, build records with [`Emitter::record`],
/// pass them to [`Emitter::emit`] and finish with [`Emitter::summary`].
pub struct Emitter<'a> {
    module: &'static str,
    sink: Sink<'a>,
    needs: Needs,
    records: u64,
    warnings: Vec<String>,
}

impl<'a> Emitter<'a> {
    /// An emitter for `module` sending records to `sink`.
    pub fn new(module: &'static str, sink: &'a mut dyn FnMut(Record)) -> Emitter<'a> {
        Emitter {
            module,
            sink: Sink::Owned(sink),
            needs: Needs::ALL,
            records: 0,
            warnings: Vec::new(),
        }
    }

    /// An emitter for `module` lending records to `sink`, which reads what `needs` says
    /// (see [`Module::run_with`]).
    pub fn lending(
        module: &'static str,
        needs: Needs,
        sink: &'a mut dyn FnMut(&Record),
    ) -> Emitter<'a> {
        Emitter {
            module,
            sink: Sink::Borrowed(sink),
            needs,
            records: 0,
            warnings: Vec::new(),
        }
    }

    /// The module's name.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// What the receiver reads of each record.
    pub fn needs(&self) -> Needs {
        self.needs
    }

    /// A new record of this module (see [`Record::new`]).
    pub fn record(&self, provenance: Provenance, event: &str) -> Record {
        Record::new(self.module, provenance, event)
    }

    /// Sends one record on and counts it.
    pub fn emit(&mut self, record: Record) {
        self.records += 1;
        match &mut self.sink {
            Sink::Owned(sink) => sink(record),
            Sink::Borrowed(sink) => sink(&record),
        }
    }

    /// Sends one record on without giving it up (the caller may reuse it), and counts it.
    pub fn emit_ref(&mut self, record: &Record) {
        self.records += 1;
        match &mut self.sink {
            Sink::Owned(sink) => sink(record.clone()),
            Sink::Borrowed(sink) => sink(record),
        }
    }

    /// Records a non-fatal problem (the first [`MAX_WARNINGS`] are kept).
    pub fn warn(&mut self, warning: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(warning);
        }
    }

    /// Records emitted so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The module's summary: its name, record count and warnings.
    pub fn summary(self) -> ModuleSummary {
        ModuleSummary {
            module: self.module.to_string(),
            records: self.records,
            warnings: self.warnings,
        }
    }
}

/// A module-level failure: reported, and the scan goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{module}: {file}: {message}")]
pub struct ModuleError {
    /// The module that failed.
    pub module: String,
    /// The file it was reading (relative to the acquisition), or empty.
    pub file: String,
    /// What went wrong, in words a user can act on.
    pub message: String,
}

/// What a module reports when it finishes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleSummary {
    /// The module.
    pub module: String,
    /// Records produced.
    pub records: u64,
    /// Non-fatal problems (a corrupt row skipped, an unknown format variant).
    pub warnings: Vec<String>,
}

/// A reader module: reads one kind of artefact and emits records to a sink.
///
/// Implementations live in the reader crates (`vigil-ios`, `vigil-android`,
/// `vigil-netlog`); the scanner runs them and matches what they emit.
pub trait Module: Send + Sync {
    /// Short stable name, used in output file names (`sms`, `dumpsys_packages`).
    fn name(&self) -> &'static str;
    /// Reads the artefact and calls `sink` once per record.
    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError>;

    /// Reads the artefact and lends `sink` each record, of which it reads what
    /// `needs` says; records are otherwise those [`Module::run`] emits, in the same order.
    ///
    /// The scanner calls this. Readers of large tables override it to reuse
    /// one record and leave out fields nobody reads; the default calls `run`.
    fn run_with(
        &self,
        needs: Needs,
        sink: &mut dyn FnMut(&Record),
    ) -> Result<ModuleSummary, ModuleError> {
        let _ = needs;
        self.run(&mut |record| sink(&record))
    }
}

/// Most URLs [`extract_urls`] and [`Urls`] take from one text.
pub const MAX_URLS_PER_TEXT: usize = 1000;

/// Finds the URLs in free text (`http://`, `https://` and `www.` links), as message readers need.
///
/// The same links as [`Urls`], copied.
pub fn extract_urls(text: &str) -> Vec<String> {
    Urls::new(text).map(str::to_string).collect()
}

/// The URLs in free text, borrowed from it: `http://`, `https://` and `www.`
/// links (ASCII case-insensitive) that start a word, up to the first
/// whitespace or quote, without trailing punctuation, longer than 8 bytes;
/// at most [`MAX_URLS_PER_TEXT`].
///
/// The scan looks only at the `:` and `.` every link has near its start,
/// without decoding characters or copying the text.
#[derive(Debug, Clone)]
pub struct Urls<'a> {
    text: &'a str,
    pos: usize,
    anchor: usize,
    found: usize,
}

impl<'a> Urls<'a> {
    /// The links in `text`.
    pub fn new(text: &'a str) -> Urls<'a> {
        Urls {
            text,
            pos: 0,
            anchor: 0,
            found: 0,
        }
    }
}

impl<'a> Iterator for Urls<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        while self.found < MAX_URLS_PER_TEXT {
            // Every link has a ':' 4 or 5 bytes after its start (`http://`,
            // `https://`) or a '.' 3 bytes after it (`www.`); these bytes are
            // rare in messages, so only their places are looked at. Starts
            // found this way come in text order.
            let from = self.anchor.max(self.pos + 3);
            let q = from
                + bytes
                    .get(from..)?
                    .iter()
                    .position(|&b| b == b':' || b == b'.')?;
            self.anchor = q + 1;
            let start = if bytes[q] == b'.' {
                Some(q - 3).filter(|&i| bytes[i..q].eq_ignore_ascii_case(b"www"))
            } else if bytes.get(q + 1..q + 3) == Some(b"//") {
                [4, 5].into_iter().find_map(|n| {
                    let i = q.checked_sub(n)?;
                    let scheme: &[u8] = if n == 4 { b"http" } else { b"https" };
                    bytes[i..q].eq_ignore_ascii_case(scheme).then_some(i)
                })
            } else {
                None
            };
            // The link must start a word and not lie inside the previous one.
            let Some(i) = start
                .filter(|&i| i >= self.pos && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()))
            else {
                continue;
            };
            // `h` and `w` are ASCII, so `i` is a character boundary.
            let rest = &self.text[i..];
            let end = rest
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\u{0}')
                })
                .unwrap_or(rest.len());
            self.pos = i + end.max(1);
            let url = rest[..end].trim_end_matches(['.', ',', ')', ']', ';', ':', '!', '?']);
            if url.len() > 8 {
                self.found += 1;
                return Some(url);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition: lower-case the text, try every character.
    fn reference(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let lower = text.to_ascii_lowercase();
        let bytes = lower.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let rest = &lower[i..];
            let starts = rest.starts_with("http://")
                || rest.starts_with("https://")
                || rest.starts_with("www.");
            let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            if starts && boundary {
                let end = rest
                    .find(|c: char| {
                        c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\u{0}')
                    })
                    .unwrap_or(rest.len());
                let url =
                    text[i..i + end].trim_end_matches(['.', ',', ')', ']', ';', ':', '!', '?']);
                if url.len() > 8 && out.len() < MAX_URLS_PER_TEXT {
                    out.push(url.to_string());
                }
                i += end.max(1);
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        out
    }

    #[test]
    fn links_in_messages() {
        let text = "See HTTPS://Evil.example.com/x?a=1, then www.two.org. \
                    Not xhttp://no.example nor http://a (too short); \
                    \"http://quoted.example.net/p\" <https://angle.example/q>";
        assert_eq!(
            extract_urls(text),
            [
                "HTTPS://Evil.example.com/x?a=1",
                "www.two.org",
                "http://quoted.example.net/p",
                "https://angle.example/q",
            ]
        );
        assert!(extract_urls("hello world, what is new? wHat").is_empty());
        assert!(extract_urls("").is_empty());
    }

    #[test]
    fn links_end_at_unicode_whitespace() {
        assert_eq!(
            extract_urls("é http://a.example.org/ü\u{a0}next\u{3000}www.b.example"),
            ["http://a.example.org/ü", "www.b.example"]
        );
    }

    #[test]
    fn at_most_a_thousand_links_per_text() {
        let text = "http://x.example.com/ ".repeat(1500);
        assert_eq!(extract_urls(&text).len(), MAX_URLS_PER_TEXT);
    }

    #[test]
    fn same_links_as_the_plain_definition() {
        // Texts built from pieces that exercise case, word starts, quotes,
        // punctuation and multi-byte characters, from a fixed-seed generator.
        const PIECES: &[&str] = &[
            "http://",
            "HTTPS://",
            "hTtP://",
            "www.",
            "WWW.",
            "ww",
            "h",
            "W",
            "x",
            "9",
            "evil.example.com",
            "/path?q=1",
            ".",
            ",",
            ")",
            "!",
            " ",
            "\t",
            "\n",
            "\"",
            "'",
            "<",
            ">",
            "`",
            "\u{0}",
            "é",
            "ü",
            "\u{a0}",
            "\u{2028}",
            "\u{3000}",
            "日本",
            "https://a.b/",
            "http://",
            "www.x.org",
            ":",
            "//",
            "http:",
            "https:/",
            "ww.",
            "WwW",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            assert_eq!(extract_urls(&text), reference(&text), "{text:?}");
        }
    }
}
