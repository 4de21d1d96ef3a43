//! The commit journal: one checksummed record per append batch, the only
//! file fsynced on the append path.
//!
//! Record layout (integers big-endian):
//! `magic "VLJ1" | first index u64 | count u32 | payload length u32 |
//! SHA-256 of everything before it and the payload | payload`, where the
//! payload is the batch's entries in entry-bundle encoding.
//!
//! The file is overwritten in place from offset 0 each time the data files
//! are synced (so its blocks are already allocated and an fdatasync writes
//! only data), and grown with zeros in steps. Stale records of earlier
//! rounds stay behind the write position; a reader tells them apart because
//! valid records form one chain of consecutive indices starting at or below
//! the committed size, and anything that breaks the chain (zeros, a torn
//! record, a stale one) ends it.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::TlogError;

const MAGIC: [u8; 4] = *b"VLJ1";
/// Bytes before the payload.
pub(crate) const HEADER_LEN: usize = 4 + 8 + 4 + 4 + 32;
/// The journal file grows by at least this much at a time.
const GROW: u64 = 1 << 20;

fn checksum(first: u64, count: u32, payload: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(first.to_be_bytes());
    h.update(count.to_be_bytes());
    h.update((payload.len() as u32).to_be_bytes());
    h.update(payload);
    h.finalize().into()
}

/// Appends the record of a batch of `count` entries starting at `first`,
/// whose bundle encoding is `payload`, to `out`.
pub(crate) fn encode(first: u64, count: u32, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&first.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&checksum(first, count, payload));
    out.extend_from_slice(payload);
}

/// One valid record found by [`scan`].
#[derive(Debug)]
pub(crate) struct Record {
    /// Index of the first entry.
    pub first: u64,
    /// The entries, as `(offset, length)` in `payload`.
    pub entries: Vec<(usize, usize)>,
    /// Entry-bundle encoding of the entries.
    pub payload: Vec<u8>,
}

impl Record {
    /// Index after the last entry.
    pub fn end(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    /// Entry `i` of the record.
    pub fn entry(&self, i: usize) -> &[u8] {
        let (off, len) = self.entries[i];
        &self.payload[off..off + len]
    }
}

fn parse_record(buf: &[u8]) -> Option<(Record, usize)> {
    let head = buf.get(..HEADER_LEN)?;
    if head[..4] != MAGIC {
        return None;
    }
    let first = u64::from_be_bytes(head[4..12].try_into().ok()?);
    let count = u32::from_be_bytes(head[12..16].try_into().ok()?);
    let len = u32::from_be_bytes(head[16..20].try_into().ok()?) as usize;
    let payload = buf.get(HEADER_LEN..HEADER_LEN.checked_add(len)?)?;
    if head[20..52] != checksum(first, count, payload) {
        return None;
    }
    let mut entries = Vec::with_capacity(count as usize);
    let mut off = 0usize;
    while off < payload.len() {
        let l = usize::from(u16::from_be_bytes([
            *payload.get(off)?,
            *payload.get(off + 1)?,
        ]));
        if off + 2 + l > payload.len() {
            return None;
        }
        entries.push((off + 2, l));
        off += 2 + l;
    }
    if entries.len() != count as usize || count == 0 {
        return None;
    }
    first.checked_add(u64::from(count))?;
    Some((
        Record {
            first,
            entries,
            payload: payload.to_vec(),
        },
        HEADER_LEN + len,
    ))
}

/// Reads the journal at `path` and returns the chain of valid records that
/// reaches past `committed` entries (records wholly below it are skipped),
/// in order. A missing journal is an empty one. Reads record by record, so
/// only the live part of the file is read.
pub(crate) fn scan(path: &Path, committed: u64) -> Result<Vec<Record>, TlogError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TlogError::io(path, e)),
    };
    let io = |e| TlogError::io(path, e);
    let file_len = file.metadata().map_err(io)?.len();
    let mut out = Vec::new();
    let mut off = 0u64;
    let mut expect: Option<u64> = None;
    let mut buf = Vec::new();
    loop {
        if off + HEADER_LEN as u64 > file_len {
            break;
        }
        buf.resize(HEADER_LEN, 0);
        file.read_exact_at(&mut buf, off).map_err(io)?;
        let len = u64::from(u32::from_be_bytes([buf[16], buf[17], buf[18], buf[19]]));
        if buf[..4] != MAGIC || off + HEADER_LEN as u64 + len > file_len {
            break;
        }
        buf.resize(HEADER_LEN + len as usize, 0);
        file.read_exact_at(&mut buf[HEADER_LEN..], off + HEADER_LEN as u64)
            .map_err(io)?;
        let Some((rec, used)) = parse_record(&buf) else {
            break;
        };
        match expect {
            Some(e) if rec.first != e => break,
            None if rec.first > committed => break,
            _ => {}
        }
        expect = Some(rec.end());
        off += used as u64;
        if rec.end() > committed {
            out.push(rec);
        }
    }
    Ok(out)
}

/// The journal file open for writing.
#[derive(Debug)]
pub(crate) struct Journal {
    file: Arc<File>,
    path: PathBuf,
    /// Where the next record goes.
    pos: u64,
    /// Bytes in the file (all allocated: written with zeros or records).
    len: u64,
}

impl Journal {
    /// Opens (creating if needed) the journal; writing starts at offset 0.
    pub fn open(path: &Path) -> Result<Self, TlogError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| TlogError::io(path, e))?;
        let len = file.metadata().map_err(|e| TlogError::io(path, e))?.len();
        Ok(Self {
            file: Arc::new(file),
            path: path.to_path_buf(),
            pos: 0,
            len,
        })
    }

    /// Bytes written since the last [`Journal::restart`].
    pub fn written(&self) -> u64 {
        self.pos
    }

    /// Writes one encoded record, not yet durable: the caller then syncs
    /// the file returned by [`Journal::file`]. Any fdatasync of the journal
    /// that starts after this returns also makes this record durable.
    pub fn write(&mut self, record: &[u8]) -> Result<(), TlogError> {
        let io = |e| TlogError::io(&self.path, e);
        let end = self.pos + record.len() as u64;
        if end > self.len {
            // Allocate ahead with real zeros so that later commits rewrite
            // allocated blocks and their fdatasync has no metadata to write.
            let new_len = end.max(self.len + GROW);
            let zeros = vec![0u8; (new_len - self.len) as usize];
            self.file.write_all_at(&zeros, self.len).map_err(io)?;
            self.len = new_len;
        }
        self.file.write_all_at(record, self.pos).map_err(io)?;
        self.pos = end;
        Ok(())
    }

    /// The journal file, for syncing without holding the writer.
    pub fn file(&self) -> (Arc<File>, &Path) {
        (self.file.clone(), &self.path)
    }

    /// Starts overwriting from the beginning; call only once every record
    /// written so far is covered by the durable `state` file.
    pub fn restart(&mut self) {
        // Spoil the first record so that readers need not walk the stale
        // chain; not synced, as nothing depends on it.
        if self.pos > 0 {
            let _ = self.file.write_all_at(&[0; 4], 0);
        }
        self.pos = 0;
    }
}
