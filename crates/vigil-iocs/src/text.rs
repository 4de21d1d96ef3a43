//! Plain text lists and CSV sets.
//!
//! A text list holds one indicator per line: a domain, URL, IP address or
//! CIDR range, hash or e-mail address (the kind is read from the value), or a
//! STIX pattern in brackets. `#` starts a comment; a `# spyware: NAME` comment
//! names the spyware of the lines after it. A CSV set has a header row whose
//! column names say the kind (`domain_name`, `ip_address`, `sha256` …);
//! unknown columns (descriptions) are ignored.

use std::path::Path;
use std::sync::Arc;

use vigil_artefact::ObservableKind;

use crate::kinds::{guess_kind, normalise_term};
use crate::pattern::{compile_pattern, CompiledPattern};
use crate::{Error, Indicator, IndicatorSet, Term};

fn file_label(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("list")
        .to_string()
}

fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, Error> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: format!("not UTF-8 text (byte {})", e.valid_up_to()),
    })
}

/// Lists larger than this are read on several threads.
const PARALLEL_BYTES: usize = 256 << 10;

pub(crate) fn load_text(path: &Path, bytes: &[u8]) -> Result<IndicatorSet, Error> {
    let text = utf8(path, bytes)?;
    let label = file_label(path);
    let parts = if text.len() < PARALLEL_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let chunks = line_chunks(text, parts);
    let outs: Vec<Chunk> = if chunks.len() == 1 {
        chunks
            .iter()
            .map(|&(c, first)| read_lines(&label, c, first))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|&(c, first)| {
                    let label = &label;
                    scope.spawn(move || read_lines(label, c, first))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    // A `# spyware:` comment names the lines after it, across chunk boundaries.
    let mut set = IndicatorSet::default();
    set.indicators
        .reserve_exact(outs.iter().map(|c| c.indicators.len()).sum());
    let mut current: Vec<Arc<str>> = Vec::new();
    for mut c in outs {
        if !current.is_empty() {
            for ind in &mut c.indicators[..c.before_comment] {
                ind.spyware = current.clone();
            }
        }
        if let Some(last) = c.last_comment {
            current = last;
        }
        set.indicators.append(&mut c.indicators);
        set.diagnostics.append(&mut c.diagnostics);
    }
    Ok(set)
}

/// Splits `text` into about `parts` pieces at line ends, each with the number of its first line.
fn line_chunks(text: &str, parts: usize) -> Vec<(&str, usize)> {
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    let mut line = 1;
    let step = text.len().div_ceil(parts.max(1)).max(1);
    while start < text.len() {
        let mut end = (start + step).min(text.len());
        if end < text.len() {
            end =
                memchr::memchr(b'\n', &text.as_bytes()[end..]).map_or(text.len(), |i| end + i + 1);
        }
        let chunk = &text[start..end];
        out.push((chunk, line));
        line += memchr::memchr_iter(b'\n', chunk.as_bytes()).count();
        start = end;
    }
    if out.is_empty() {
        out.push(("", 1));
    }
    out
}

/// The indicators of one piece of a list.
struct Chunk {
    indicators: Vec<Indicator>,
    diagnostics: Vec<String>,
    /// How many indicators come before the piece's first `# spyware:` comment.
    before_comment: usize,
    /// The spyware named by the piece's last `# spyware:` comment, if it has one.
    last_comment: Option<Vec<Arc<str>>>,
}

fn read_lines(label: &str, text: &str, first_line: usize) -> Chunk {
    let mut out = Chunk {
        indicators: Vec::new(),
        diagnostics: Vec::new(),
        before_comment: 0,
        last_comment: None,
    };
    let mut spyware: Vec<Arc<str>> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = first_line + n;
        let entry = line.trim();
        if let Some(comment) = entry.strip_prefix('#') {
            if let Some(name) = comment.trim().strip_prefix("spyware:") {
                let name = name.trim();
                spyware = if name.is_empty() {
                    Vec::new()
                } else {
                    vec![Arc::from(name)]
                };
                if out.last_comment.is_none() {
                    out.before_comment = out.indicators.len();
                }
                out.last_comment = Some(spyware.clone());
            }
            continue;
        }
        if entry.is_empty() {
            continue;
        }
        let (terms, general) = if entry.starts_with('[') {
            match compile_pattern(entry) {
                Ok(CompiledPattern::Terms(t)) => (t, None),
                Ok(CompiledPattern::General(r)) => (Vec::new(), Some(r)),
                Err(e) => {
                    out.diagnostics
                        .push(format!("{label}:{line_no}: pattern: {e}"));
                    continue;
                }
            }
        } else {
            let Some(kind) = guess_kind(entry) else {
                out.diagnostics.push(format!(
                    "{label}:{line_no}: cannot tell what kind of indicator '{}' is",
                    truncate(entry)
                ));
                continue;
            };
            match normalise_term(kind, entry) {
                Ok(value) => (vec![Term { kind, value }], None),
                Err(e) => {
                    out.diagnostics.push(format!("{label}:{line_no}: {e}"));
                    continue;
                }
            }
        };
        let mut id = String::with_capacity(label.len() + 8);
        id.push_str(label);
        id.push(':');
        id.push_str(itoa(line_no, &mut [0; 20]));
        out.indicators.push(Indicator {
            id,
            pattern: entry.to_string(),
            spyware: spyware.clone(),
            terms,
            general,
        });
    }
    if out.last_comment.is_none() {
        out.before_comment = out.indicators.len();
    }
    out
}

/// `n` in decimal, written into `buf` (the indicator ids of a million-line list are built without the formatter).
fn itoa(mut n: usize, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// What a CSV column holds, from its header.
fn column_kind(header: &str) -> Option<Option<ObservableKind>> {
    use ObservableKind as K;
    let h: String = header
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    // `None` inside: an address column whose family is read from each value.
    Some(match h.as_str() {
        "domain" | "domainname" | "domains" | "hostname" | "host" | "fqdn" => Some(K::Domain),
        "ip" | "ipaddress" | "ipaddr" | "ipv4" | "ipv6" | "address" => None,
        "md5" | "sha1" | "sha256" | "sha512" | "hash" | "filehash" => Some(K::FileHash),
        "url" | "urls" => Some(K::Url),
        "email" | "emailaddress" => Some(K::Email),
        "process" | "processname" => Some(K::ProcessName),
        "appid" | "package" | "packagename" | "bundleid" => Some(K::AppId),
        "filename" => Some(K::FileName),
        "filepath" | "path" => Some(K::FilePath),
        "certificate" | "certhash" | "certificatehash" => Some(K::AppCertHash),
        _ => return None,
    })
}

pub(crate) fn load_csv(path: &Path, bytes: &[u8]) -> Result<IndicatorSet, Error> {
    let text = utf8(path, bytes)?;
    let label = file_label(path);
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.by_ref().find(|(_, l)| !l.trim().is_empty()) else {
        return Ok(IndicatorSet::default());
    };
    let headers = split_csv(header);
    let columns: Vec<(usize, String, Option<ObservableKind>)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| column_kind(h).map(|k| (i, h.trim().to_string(), k)))
        .collect();
    if columns.is_empty() {
        return Err(Error::NoIndicatorColumn {
            path: path.to_path_buf(),
            header: headers.join(","),
        });
    }
    let mut set = IndicatorSet::default();
    for (n, line) in lines {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cells = split_csv(line);
        for (i, name, kind) in &columns {
            let Some(cell) = cells.get(*i).map(|c| c.trim()) else {
                continue;
            };
            if cell.is_empty() {
                continue;
            }
            let kind = match kind {
                Some(k) => *k,
                None => match guess_kind(cell) {
                    Some(k @ (ObservableKind::Ipv4 | ObservableKind::Ipv6)) => k,
                    _ => {
                        set.diagnostics.push(format!(
                            "{label}:{line_no}: column {name}: '{}' is not an IP address",
                            truncate(cell)
                        ));
                        continue;
                    }
                },
            };
            match normalise_term(kind, cell) {
                Ok(value) => set.indicators.push(Indicator {
                    id: format!("{label}:{line_no}:{name}"),
                    pattern: cell.to_string(),
                    spyware: Vec::new(),
                    terms: vec![Term { kind, value }],
                    general: None,
                }),
                Err(e) => set
                    .diagnostics
                    .push(format!("{label}:{line_no}: column {name}: {e}")),
            }
        }
    }
    Ok(set)
}

/// Splits one CSV line, honouring double quotes (`""` inside quotes is a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 80 {
        let mut t: String = s.chars().take(80).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}
