//! Android backups (`adb backup`, and the `backup.ab` androidqf saves): the
//! SMS and MMS the telephony provider puts in them.
//!
//! The format: a text header of four lines (`ANDROID BACKUP`, the format
//! version, `1` when the body is zlib-compressed, the encryption — `none`
//! here), then a tar stream. The telephony provider's entries
//! `apps/com.android.providers.telephony/d_f/NNN_sms_backup` (and
//! `_mms_backup`) hold a JSON array (or JSON lines) of messages, usually
//! zlib-compressed again. Encrypted backups (`AES-256`) are opened with the
//! user's password (`backup_crypto`).
//!
//! The archive is streamed: nothing is extracted, each message file is read
//! up to [`MAX_MESSAGES_FILE`] bytes (and inflated up to the same), so a
//! compression bomb costs time, never unbounded memory.

use std::io::{BufRead, Read};

use serde_json::Value;
use vigil_artefact::{
    extract_urls, Emitter, Module, ModuleError, ModuleSummary, Observable, ObservableKind as K,
    Provenance, Record,
};

use crate::source::Source;

/// The first line of every Android backup.
pub(crate) const MAGIC: &[u8] = b"ANDROID BACKUP\n";
/// Most bytes of one message file, compressed or inflated.
const MAX_MESSAGES_FILE: u64 = 256 << 20;
/// Longest header line kept (the encrypted variant has a hex-encoded key blob).
const MAX_HEADER_LINE: u64 = 4096;
/// Where the telephony provider's backup files live in the tar stream.
const TELEPHONY_DIR: &str = "apps/com.android.providers.telephony/d_f/";

/// The header of an Android backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupHeader {
    /// Format version (1 to 5 are known).
    pub version: u32,
    /// Whether the tar stream is zlib-compressed.
    pub compressed: bool,
    /// `none`, or the cipher of an encrypted backup (`AES-256`).
    pub encryption: String,
}

fn header_line(r: &mut dyn BufRead, what: &str) -> Result<String, String> {
    let mut buf = Vec::new();
    r.take(MAX_HEADER_LINE)
        .read_until(b'\n', &mut buf)
        .map_err(|e| format!("header: {e}"))?;
    if buf.last() != Some(&b'\n') {
        return Err(format!("header: the {what} line is missing or too long"));
    }
    buf.pop();
    String::from_utf8(buf).map_err(|_| format!("header: the {what} line is not text"))
}

/// Reads the header of an Android backup, leaving `r` at the start of the body.
pub fn read_header(r: &mut dyn BufRead) -> Result<BackupHeader, String> {
    let magic = header_line(r, "first")?;
    if magic.as_bytes() != &MAGIC[..MAGIC.len() - 1] {
        return Err("not an Android backup (no ANDROID BACKUP header)".into());
    }
    let v = header_line(r, "version")?;
    let version: u32 = v
        .trim()
        .parse()
        .ok()
        .filter(|v| (1..=5).contains(v))
        .ok_or_else(|| format!("header: unknown format version {v:?}"))?;
    let compressed = match header_line(r, "compression")?.trim() {
        "0" => false,
        "1" => true,
        other => {
            return Err(format!(
                "header: compression flag {other:?} is neither 0 nor 1"
            ))
        }
    };
    let encryption = header_line(r, "encryption")?.trim().to_string();
    Ok(BackupHeader {
        version,
        compressed,
        encryption,
    })
}

/// The SMS/MMS reader of one backup file (standalone, or a member of an androidqf acquisition).
pub(crate) struct SmsModule {
    pub(crate) source: Source,
    /// The backup's member name in `source`.
    pub(crate) member: String,
    /// The password of an encrypted backup.
    pub(crate) password: Option<String>,
}

impl Module for SmsModule {
    fn name(&self) -> &'static str {
        "backup_sms"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let mut em = Emitter::new(self.name(), sink);
        let err = |message: String| ModuleError {
            module: "backup_sms".into(),
            file: self.member.clone(),
            message,
        };
        self.source
            .with_member(&self.member, |r| {
                read_backup(r, &self.member, self.password.as_deref(), &mut em)
            })
            .map_err(&err)?
            .map_err(&err)?;
        Ok(em.summary())
    }
}

/// Streams one backup and emits a record per message.
pub(crate) fn read_backup(
    r: &mut dyn BufRead,
    label: &str,
    password: Option<&str>,
    em: &mut Emitter<'_>,
) -> Result<(), String> {
    let header = read_header(r)?;
    let body: Box<dyn Read + '_> = if header.encryption.eq_ignore_ascii_case("none") {
        Box::new(r)
    } else if header.encryption == "AES-256" {
        let Some(password) = password else {
            return Err("the backup is encrypted (AES-256): give its password (--password)".into());
        };
        let mut lines = Vec::with_capacity(5);
        for what in [
            "user password salt",
            "checksum salt",
            "round count",
            "user key IV",
            "master key blob",
        ] {
            lines.push(header_line(r, what)?);
        }
        let lines: [String; 5] = lines
            .try_into()
            .map_err(|_| "header: encryption lines".to_string())?;
        match crate::backup_crypto::open(header.version, lines, password) {
            Ok(key) => Box::new(crate::backup_crypto::CbcReader::new(r, &key)),
            Err(crate::backup_crypto::OpenError::WrongPassword) => {
                return Err("wrong backup password".into())
            }
            Err(crate::backup_crypto::OpenError::Header(e)) => return Err(e),
        }
    } else {
        return Err(format!(
            "the backup is encrypted with {:?}, which is not known",
            header.encryption
        ));
    };
    let body: Box<dyn Read + '_> = if header.compressed {
        Box::new(flate2::read::ZlibDecoder::new(body))
    } else {
        body
    };
    let mut archive = tar::Archive::new(body);
    let entries = archive.entries().map_err(|e| format!("archive: {e}"))?;
    let (mut found, mut seen) = (0, 0);
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) if seen == 0 => return Err(format!("archive: {e}")),
            Err(e) => {
                // A truncated backup still gives the messages before the cut.
                em.warn(format!("{label}: archive ends early: {e}"));
                break;
            }
        };
        seen += 1;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(kind) = message_file_kind(&name) else {
            continue;
        };
        found += 1;
        let mut raw = Vec::new();
        if let Err(e) = (&mut entry).take(MAX_MESSAGES_FILE).read_to_end(&mut raw) {
            em.warn(format!("{label}: {name}: {e}"));
            continue;
        }
        let file = format!("{label}/{name}");
        match decode_messages(&raw) {
            Ok(messages) => {
                for (i, m) in messages.iter().enumerate() {
                    if let Some(rec) = message_record(em, &file, i, kind, m) {
                        em.emit(rec);
                    }
                }
            }
            Err(e) => em.warn(format!("{file}: {e}")),
        }
    }
    if found == 0 {
        em.warn(format!(
            "{label}: no SMS or MMS backup of the telephony provider in this backup"
        ));
    }
    Ok(())
}

fn message_file_kind(name: &str) -> Option<&'static str> {
    let rest = name.strip_prefix(TELEPHONY_DIR)?;
    if rest.ends_with("_sms_backup") {
        Some("SMS")
    } else if rest.ends_with("_mms_backup") {
        Some("MMS")
    } else {
        None
    }
}

/// Inflates a message file when it is zlib-compressed and parses its JSON array or lines.
fn decode_messages(raw: &[u8]) -> Result<Vec<Value>, String> {
    let inflated;
    let text: &[u8] = if raw.first() == Some(&0x78) {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(raw)
            .take(MAX_MESSAGES_FILE)
            .read_to_end(&mut out)
            .map_err(|e| format!("not valid zlib data: {e}"))?;
        inflated = out;
        &inflated
    } else {
        raw
    };
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Array(a)) => Ok(a),
        Ok(v @ Value::Object(_)) => Ok(vec![v]),
        Ok(_) => Err("expected a JSON array of messages".into()),
        Err(e) => text
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(serde_json::from_slice::<Value>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("invalid JSON: {e}")),
    }
}

fn field(m: &Value, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn message_record(
    em: &Emitter<'_>,
    file: &str,
    index: usize,
    kind: &str,
    m: &Value,
) -> Option<Record> {
    if !m.is_object() {
        return None;
    }
    // MMS backups keep the text under `mms_body`; SMS under `body`.
    let body = field(m, "body")
        .or_else(|| field(m, "mms_body"))
        .unwrap_or_default();
    let sent = field(m, "date_sent")
        .and_then(|d| d.parse::<i64>().ok())
        .is_some_and(|d| d != 0);
    let direction = if sent { "sent" } else { "received" };
    let mut rec = em.record(
        Provenance {
            file: file.to_string(),
            row: Some(index as i64),
            ..Provenance::default()
        },
        &format!("{kind} {direction}"),
    );
    rec.timestamp = field(m, "date")
        .and_then(|d| d.parse::<i64>().ok())
        .and_then(|ms| ms.checked_mul(1000));
    for u in extract_urls(&body) {
        if !rec.observables.iter().any(|o| o.value == u) {
            rec.observables.push(Observable::new(K::Url, u));
        }
    }
    if let Some(a) = field(m, "address").filter(|a| a.contains('@')) {
        rec.observables.push(Observable::new(K::Email, a));
    }
    rec.data.insert("direction".into(), direction.into());
    for k in ["address", "date", "date_sent", "type", "read", "status"] {
        if let Some(v) = m.get(k).filter(|v| !v.is_null()) {
            rec.data.insert(k.into(), v.clone());
        }
    }
    rec.data.insert("body".into(), body.into());
    Some(rec)
}
