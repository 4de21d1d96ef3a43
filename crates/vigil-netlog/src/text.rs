//! Any text log: DNS server and proxy logs, exported timelines.
//!
//! The file is read in blocks that end at a line break; with a filter set and
//! more than one block, blocks are scanned on several threads and their
//! records emitted in file order. Lines longer than [`MAX_LINE`] are checked
//! in pieces of that size, and the summary says so.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use vigil_artefact::{Module, ModuleError, ModuleSummary, Observable, Provenance, Record};

use crate::extract::extract_observables;
use crate::time::leading_timestamp;
use crate::{display, Filter, Options};

/// Longest line checked as one piece.
pub const MAX_LINE: usize = 1 << 20;
/// Bytes read per block.
const BLOCK: usize = 8 << 20;
/// Characters of a line kept in a record's data.
const KEEP_CHARS: usize = 2000;

/// Reads one text log (plain or gzip-compressed).
pub struct TextLogModule {
    path: PathBuf,
    options: Options,
}

impl TextLogModule {
    /// A reader for the log at `path`.
    pub fn new(path: PathBuf, options: Options) -> Self {
        TextLogModule { path, options }
    }
}

/// Opens a file, decompressing gzip transparently.
pub(crate) fn open(path: &Path, module: &str) -> Result<Box<dyn Read + Send>, ModuleError> {
    let err = |message: String| ModuleError {
        module: module.into(),
        file: display(path),
        message,
    };
    let mut f = std::fs::File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let mut magic = [0u8; 2];
    let n = f
        .read(&mut magic)
        .map_err(|e| err(format!("cannot read: {e}")))?;
    drop(f);
    let f = std::fs::File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::new(f),
        )))
    } else {
        Ok(Box::new(f))
    }
}

/// A block of whole lines with where it starts in the file.
struct Block {
    bytes: Vec<u8>,
    offset: u64,
}

/// Splits a stream into blocks of whole lines (a line longer than [`MAX_LINE`] is cut).
struct Blocks<R> {
    reader: R,
    carry: Vec<u8>,
    offset: u64,
    done: bool,
    long_lines: u64,
}

impl<R: Read> Blocks<R> {
    fn new(reader: R) -> Self {
        Blocks {
            reader,
            carry: Vec::new(),
            offset: 0,
            done: false,
            long_lines: 0,
        }
    }

    fn next_block(&mut self) -> std::io::Result<Option<Block>> {
        if self.done && self.carry.is_empty() {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.carry);
        while !self.done && buf.len() < BLOCK {
            let old = buf.len();
            buf.resize(BLOCK.max(old + 64 * 1024), 0);
            let n = self.reader.read(&mut buf[old..])?;
            buf.truncate(old + n);
            if n == 0 {
                self.done = true;
            }
        }
        if !self.done {
            match buf.iter().rposition(|b| *b == b'\n') {
                Some(nl) => self.carry = buf.split_off(nl + 1),
                None => {
                    // No line break in a whole block: cut one piece off and go on.
                    self.long_lines += 1;
                    self.carry = buf.split_off(MAX_LINE.min(buf.len()));
                }
            }
        }
        let offset = self.offset;
        self.offset += buf.len() as u64;
        Ok(Some(Block { bytes: buf, offset }))
    }
}

/// Records found in one block, with line numbers relative to the block.
struct Scanned {
    lines: u64,
    long_lines: u64,
    records: Vec<Record>,
}

fn scan_block(block: &Block, file: &str, filter: &Option<Filter>) -> Scanned {
    let mut records = Vec::new();
    let mut lines = 0u64;
    let mut long_lines = 0u64;
    let mut pos = 0usize;
    let bytes = &block.bytes;
    while pos < bytes.len() {
        let end = memchr_nl(&bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        lines += 1;
        if end - pos > MAX_LINE {
            long_lines += 1;
        }
        let mut piece_start = pos;
        // Overlong lines (only possible in the last block) are checked in pieces.
        while piece_start < end {
            let piece_end = (piece_start + MAX_LINE).min(end);
            let line = &bytes[piece_start..piece_end];
            if let Some(r) = scan_line(line, file, lines, block.offset + piece_start as u64, filter)
            {
                records.push(r);
            }
            piece_start = piece_end;
        }
        pos = end + 1;
    }
    Scanned {
        lines,
        long_lines,
        records,
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|c| *c == b'\n')
}

/// One record for a line that carries observables (and passes the filter).
pub(crate) fn scan_line(
    line: &[u8],
    file: &str,
    line_no: u64,
    offset: u64,
    filter: &Option<Filter>,
) -> Option<Record> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text: Cow<'_, str> = match std::str::from_utf8(line) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(line),
    };
    let mut wanted = false;
    extract_observables(&text, &mut |k, v| {
        wanted |= match filter {
            None => true,
            Some(f) => f(k, v),
        }
    });
    if !wanted {
        return None;
    }
    let mut observables: Vec<Observable> = Vec::new();
    extract_observables(&text, &mut |k, v| {
        if !observables.iter().any(|o| o.kind == k && o.value == v) {
            observables.push(Observable::new(k, v));
        }
    });
    let mut data = serde_json::Map::new();
    let kept: String = text.chars().take(KEEP_CHARS).collect();
    data.insert("line".into(), kept.into());
    Some(Record {
        module: "log".into(),
        provenance: Provenance {
            file: file.to_string(),
            line: Some(line_no),
            offset: Some(offset),
            ..Provenance::default()
        },
        timestamp: leading_timestamp(line),
        event: "log line".into(),
        observables,
        data,
    })
}

impl Module for TextLogModule {
    fn name(&self) -> &'static str {
        "log"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let file = display(&self.path);
        let reader = open(&self.path, "log")?;
        let mut blocks = Blocks::new(reader);
        let threads = match (self.options.threads, &self.options.filter) {
            // Without a filter every line is a record: keep memory to one block.
            (_, None) => 1,
            (0, _) => std::thread::available_parallelism().map_or(1, |n| n.get()),
            (n, _) => n,
        };
        let mut summary = ModuleSummary {
            module: "log".into(),
            ..ModuleSummary::default()
        };
        let mut line_base = 0u64;
        let mut binary = false;
        let mut long_lines = 0u64;
        loop {
            let mut batch = Vec::with_capacity(threads);
            for _ in 0..threads {
                match blocks.next_block() {
                    Ok(Some(b)) => batch.push(b),
                    Ok(None) => break,
                    Err(e) => {
                        return Err(ModuleError {
                            module: "log".into(),
                            file,
                            message: format!("read failed after {} bytes: {e}", blocks.offset),
                        })
                    }
                }
            }
            if batch.is_empty() {
                break;
            }
            if line_base == 0 {
                binary = batch[0]
                    .bytes
                    .iter()
                    .take(4096)
                    .filter(|b| **b == 0)
                    .count()
                    > 16;
            }
            let results: Vec<Scanned> = if batch.len() == 1 {
                vec![scan_block(&batch[0], &file, &self.options.filter)]
            } else {
                std::thread::scope(|s| {
                    let handles: Vec<_> = batch
                        .iter()
                        .map(|b| {
                            let file = &file;
                            let filter = &self.options.filter;
                            s.spawn(move || scan_block(b, file, filter))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or(Scanned {
                                lines: 0,
                                long_lines: 0,
                                records: Vec::new(),
                            })
                        })
                        .collect()
                })
            };
            for r in results {
                for mut rec in r.records {
                    if let Some(l) = rec.provenance.line.as_mut() {
                        *l += line_base;
                    }
                    sink(rec);
                }
                line_base += r.lines;
                long_lines += r.long_lines;
            }
        }
        summary.records = line_base;
        long_lines += blocks.long_lines;
        if long_lines > 0 {
            summary.warnings.push(format!(
                "{file}: {long_lines} line(s) longer than {MAX_LINE} bytes were checked in pieces"
            ));
        }
        if binary {
            summary.warnings.push(format!(
                "{file}: looks like binary data, not a text log; checked as text"
            ));
        }
        Ok(summary)
    }
}
