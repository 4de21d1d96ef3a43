//! Zeek logs: `dns`, `conn`, `ssl`, `http`, `files` (and any other, read as
//! text), tab-separated with `#separator`/`#fields` headers or JSON lines.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;
use vigil_artefact::{
    Module, ModuleError, ModuleSummary, Observable, ObservableKind as K, Provenance, Record,
};

use crate::extract::extract_observables;
use crate::text::{open, MAX_LINE};
use crate::time::{parse_epoch, parse_iso};
use crate::{display, keep, Options};

/// Which Zeek log a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dns,
    Conn,
    Ssl,
    Http,
    Files,
    Other,
}

impl Kind {
    fn from_name(name: &str) -> Kind {
        match name {
            "dns" => Kind::Dns,
            "conn" => Kind::Conn,
            "ssl" => Kind::Ssl,
            "http" => Kind::Http,
            "files" => Kind::Files,
            _ => Kind::Other,
        }
    }

    fn module(self) -> &'static str {
        match self {
            Kind::Dns => "zeek_dns",
            Kind::Conn => "zeek_conn",
            Kind::Ssl => "zeek_ssl",
            Kind::Http => "zeek_http",
            Kind::Files => "zeek_files",
            Kind::Other => "zeek",
        }
    }

    fn event(self) -> &'static str {
        match self {
            Kind::Dns => "DNS query",
            Kind::Conn => "connection",
            Kind::Ssl => "TLS session",
            Kind::Http => "HTTP request",
            Kind::Files => "file transfer",
            Kind::Other => "Zeek log entry",
        }
    }
}

fn stem_kind(path: &Path) -> Kind {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    Kind::from_name(name.split('.').next().unwrap_or(""))
}

/// True for a Zeek log: a `#separator` header, or a known log name holding JSON lines.
pub(crate) fn is_zeek_file(path: &Path, head: &[u8]) -> bool {
    if head.starts_with(b"#separator") {
        return true;
    }
    let named = stem_kind(path) != Kind::Other
        && path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(".log"));
    named && head.first() == Some(&b'{')
}

/// Reads one Zeek log.
pub struct ZeekModule {
    path: PathBuf,
    kind: Kind,
    options: Options,
}

impl ZeekModule {
    /// A reader for the Zeek log at `path`; the log type comes from its `#path` header or name.
    pub fn new(path: PathBuf, options: Options) -> Self {
        let kind = stem_kind(&path);
        ZeekModule {
            path,
            kind,
            options,
        }
    }
}

/// The TSV header state.
struct Header {
    separator: Vec<u8>,
    set_separator: u8,
    fields: Vec<String>,
    unset: Vec<u8>,
    empty: Vec<u8>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            separator: b"\t".to_vec(),
            set_separator: b',',
            fields: Vec::new(),
            unset: b"-".to_vec(),
            empty: b"(empty)".to_vec(),
        }
    }
}

/// `\x09` escapes in header values.
fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && v.get(i + 1) == Some(&b'x') {
            if let Some(b) = v
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

fn split<'a>(line: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    if sep.len() == 1 {
        return line.split(|b| *b == sep[0]).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while !sep.is_empty() && i + sep.len() <= line.len() {
        if &line[i..i + sep.len()] == sep {
            out.push(&line[start..i]);
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&line[start..]);
    out
}

fn address(v: &str, out: &mut Vec<Observable>) {
    match v.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => out.push(Observable::new(K::Ipv4, v)),
        Ok(std::net::IpAddr::V6(_)) => out.push(Observable::new(K::Ipv6, v)),
        Err(_) => {}
    }
}

/// Observables of one entry, given a field accessor returning the field's values.
fn observables(kind: Kind, get: &dyn Fn(&str) -> Vec<String>) -> Vec<Observable> {
    let mut out = Vec::new();
    let one = |name: &str| get(name).into_iter().next();
    match kind {
        Kind::Dns => {
            for q in get("query") {
                out.push(Observable::new(K::Domain, q));
            }
            for a in get("answers") {
                if a.parse::<std::net::IpAddr>().is_ok() {
                    address(&a, &mut out);
                } else if a.contains('.') {
                    out.push(Observable::new(K::Domain, a));
                }
            }
        }
        Kind::Conn => {
            for f in ["id.orig_h", "id.resp_h"] {
                if let Some(v) = one(f) {
                    address(&v, &mut out);
                }
            }
        }
        Kind::Ssl => {
            if let Some(v) = one("server_name") {
                out.push(Observable::new(K::Domain, v));
            }
            if let Some(v) = one("id.resp_h") {
                address(&v, &mut out);
            }
        }
        Kind::Http => {
            let host = one("host");
            if let Some(h) = &host {
                out.push(Observable::new(K::Domain, h.split(':').next().unwrap_or(h)));
                let uri = one("uri").unwrap_or_else(|| "/".into());
                out.push(Observable::new(K::Url, format!("http://{h}{uri}")));
            }
            if let Some(r) = one("referrer") {
                if r.contains("://") {
                    out.push(Observable::new(K::Url, r));
                }
            }
            if let Some(v) = one("id.resp_h") {
                address(&v, &mut out);
            }
        }
        Kind::Files => {
            for f in ["md5", "sha1", "sha256"] {
                if let Some(v) = one(f) {
                    out.push(Observable::new(K::FileHash, v));
                }
            }
            if let Some(v) = one("filename") {
                out.push(Observable::new(K::FileName, v));
            }
            for v in get("tx_hosts").into_iter().chain(get("rx_hosts")) {
                address(&v, &mut out);
            }
        }
        Kind::Other => {}
    }
    out
}

fn timestamp(v: &str) -> Option<i64> {
    parse_epoch(v.as_bytes()).or_else(|| parse_iso(v.as_bytes()))
}

impl Module for ZeekModule {
    fn name(&self) -> &'static str {
        self.kind.module()
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let module = self.kind.module();
        let reader = BufReader::new(open(&self.path, module)?);
        read_log(
            reader,
            self.kind,
            &display(&self.path),
            &self.options.filter,
            sink,
        )
    }
}

/// Reads a Zeek log from bytes (the fuzz target's entry point); returns the observables found.
pub(crate) fn read_bytes(bytes: &[u8]) -> usize {
    let mut n = 0;
    let _ = read_log(bytes, Kind::Dns, "fuzz", &None, &mut |r| {
        n += r.observables.len()
    });
    n
}

/// Reads one Zeek log; `kind` is what its name says until a `#path` header says otherwise.
fn read_log<R: BufRead>(
    mut reader: R,
    kind: Kind,
    file: &str,
    filter: &Option<crate::Filter>,
    sink: &mut dyn FnMut(Record),
) -> Result<ModuleSummary, ModuleError> {
    let module = kind.module();
    let file = file.to_string();
    let mut summary = ModuleSummary {
        module: module.into(),
        ..ModuleSummary::default()
    };
    let mut header = Header::default();
    let mut kind = kind;
    let mut line = Vec::new();
    let mut line_no = 0u64;
    let mut offset = 0u64;
    let mut bad = 0u64;
    loop {
        line.clear();
        let n = Read::by_ref(&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .map_err(|e| ModuleError {
                module: module.into(),
                file: file.clone(),
                message: format!("read failed at line {}: {e}", line_no + 1),
            })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let this_offset = offset;
        offset += n as u64;
        if line.last() != Some(&b'\n') && n == MAX_LINE {
            // Skip the rest of an overlong line.
            let mut rest = Vec::new();
            let _ = reader.read_until(b'\n', &mut rest);
            offset += rest.len() as u64;
            summary.warnings.push(format!(
                "{file}:{line_no}: line longer than {MAX_LINE} bytes skipped"
            ));
            continue;
        }
        let l = line.strip_suffix(b"\n").unwrap_or(&line);
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.is_empty() {
            continue;
        }
        if l[0] == b'#' {
            let (key, value) = match l.iter().position(|b| *b == b' ' || *b == b'\t') {
                Some(i) => (&l[1..i], &l[i + 1..]),
                None => (&l[1..], &b""[..]),
            };
            match key {
                b"separator" => header.separator = unescape(value),
                b"set_separator" => {
                    header.set_separator = *unescape(value).first().unwrap_or(&b',')
                }
                b"unset_field" => header.unset = value.to_vec(),
                b"empty_field" => header.empty = value.to_vec(),
                b"path" => {
                    let k = Kind::from_name(&String::from_utf8_lossy(value));
                    if k != Kind::Other {
                        kind = k;
                    }
                }
                b"fields" => {
                    header.fields = split(value, &header.separator)
                        .into_iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect()
                }
                _ => {}
            }
            continue;
        }
        summary.records += 1;
        let mut data = serde_json::Map::new();
        let (obs, ts) = if l[0] == b'{' {
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(l) else {
                bad += 1;
                continue;
            };
            let get = |name: &str| -> Vec<String> {
                match map.get(name) {
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    Some(Value::Number(n)) => vec![n.to_string()],
                    _ => Vec::new(),
                }
            };
            let ts = get("ts").first().and_then(|t| timestamp(t));
            data = map.clone();
            (observables(kind, &get), ts)
        } else {
            if header.fields.is_empty() {
                bad += 1;
                continue;
            }
            let cells = split(l, &header.separator);
            let get = |name: &str| -> Vec<String> {
                let Some(i) = header.fields.iter().position(|f| f == name) else {
                    return Vec::new();
                };
                match cells.get(i) {
                    Some(c) if *c != header.unset.as_slice() && *c != header.empty.as_slice() => c
                        .split(|b| *b == header.set_separator)
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .collect(),
                    _ => Vec::new(),
                }
            };
            for (i, f) in header.fields.iter().enumerate() {
                if let Some(c) = cells.get(i) {
                    data.insert(f.clone(), String::from_utf8_lossy(c).into_owned().into());
                }
            }
            let ts = get("ts").first().and_then(|t| timestamp(t));
            (observables(kind, &get), ts)
        };
        let obs = if kind == Kind::Other {
            let text = String::from_utf8_lossy(l);
            let mut v: Vec<Observable> = Vec::new();
            extract_observables(&text, &mut |k, s| v.push(Observable::new(k, s)));
            v
        } else {
            obs
        };
        if !keep(filter, &obs) {
            continue;
        }
        sink(Record {
            module: module.into(),
            provenance: Provenance {
                file: file.clone(),
                line: Some(line_no),
                offset: Some(this_offset),
                ..Provenance::default()
            },
            timestamp: ts,
            event: kind.event().into(),
            observables: obs,
            data,
        });
    }
    if bad > 0 {
        summary.warnings.push(format!(
            "{file}: {bad} line(s) were neither Zeek TSV with a #fields header nor JSON objects"
        ));
    }
    Ok(summary)
}
