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

use vigil_artefact::ObservableKind;

use crate::extract::{extract_observables, extract_observables_of};
use crate::time::leading_timestamp;
use crate::{display, Filter, Options};

/// Longest line checked as one piece.
pub const MAX_LINE: usize = 1 << 20;
/// Bytes read per block.
const BLOCK: usize = 8 << 20;
/// Blocks read at once (one per thread): memory stays under this many blocks whatever the core count.
const MAX_BLOCKS_IN_FLIGHT: usize = 8;
/// Values handed to the filter at once.
const BATCH: usize = 64;
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
    /// The block starts inside a line the previous block began (a line longer than a block).
    starts_mid_line: bool,
    /// The block ends inside a line the next block goes on with.
    ends_mid_line: bool,
}

/// Splits a stream into blocks of whole lines (a line longer than [`MAX_LINE`] is cut).
struct Blocks<R> {
    reader: R,
    carry: Vec<u8>,
    offset: u64,
    done: bool,
    long_lines: u64,
    /// The last block ended inside a line.
    mid_line: bool,
    /// Buffers of blocks already scanned, to read the next blocks into (no fresh pages to fault in).
    spare: Vec<Vec<u8>>,
}

impl<R: Read> Blocks<R> {
    fn new(reader: R) -> Self {
        Blocks {
            reader,
            carry: Vec::new(),
            offset: 0,
            done: false,
            long_lines: 0,
            mid_line: false,
            spare: Vec::new(),
        }
    }

    fn next_block(&mut self) -> std::io::Result<Option<Block>> {
        if self.done && self.carry.is_empty() {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.carry);
        if !self.done && buf.len() < BLOCK {
            // `read_to_end` fills the spare capacity without zeroing it first.
            buf.reserve_exact(BLOCK - buf.len());
            let want = (BLOCK - buf.len()) as u64;
            let n = (&mut self.reader).take(want).read_to_end(&mut buf)?;
            if (n as u64) < want {
                self.done = true;
            }
        }
        let starts_mid_line = self.mid_line;
        self.mid_line = false;
        if !self.done {
            match memchr::memrchr(b'\n', &buf) {
                Some(nl) => {
                    let mut carry = self.spare.pop().unwrap_or_default();
                    carry.clear();
                    carry.extend_from_slice(&buf[nl + 1..]);
                    buf.truncate(nl + 1);
                    self.carry = carry;
                }
                None => {
                    // No line break in a whole block: the line goes on in the next one.
                    if !starts_mid_line {
                        self.long_lines += 1;
                    }
                    self.mid_line = true;
                }
            }
        }
        let offset = self.offset;
        self.offset += buf.len() as u64;
        Ok(Some(Block {
            bytes: buf,
            offset,
            starts_mid_line,
            ends_mid_line: self.mid_line,
        }))
    }
}

/// Records found in one block, with line numbers relative to the block.
struct Scanned {
    lines: u64,
    long_lines: u64,
    records: Vec<Record>,
}

fn scan_block(block: &Block, file: &str, filter: &Option<Filter>) -> Scanned {
    let bytes = &block.bytes;
    // Without a long line, the line breaks are counted segment by segment
    // below, while each segment is in the core's cache.
    let no_long_line = filter.is_some() && no_long_line(bytes);
    let (mut lines, long_lines) = if no_long_line {
        (0, 0)
    } else {
        count_lines(bytes, block.starts_mid_line, block.ends_mid_line)
    };
    let mut scan = BlockScan {
        bytes,
        offset: block.offset,
        file,
        filter,
        counted_to: 0,
        line_no: 1,
        records: Vec::new(),
    };
    match filter {
        Some(f) => {
            // Valid UTF-8 stretches are scanned as one text, token by token, and
            // only lines holding a wanted value become records; a line that is
            // not UTF-8 is read on its own (lossily). The block is taken in
            // segments of whole lines small enough to stay in the core's cache
            // between the UTF-8 check and the scan.
            let mut seg = 0;
            let mut breaks = 0u64;
            while seg < bytes.len() {
                let seg_end = segment_end(bytes, seg);
                scan_segment(&mut scan, seg, seg_end, f);
                if no_long_line {
                    breaks += memchr::memchr_iter(b'\n', &bytes[seg..seg_end]).count() as u64;
                }
                seg = seg_end;
            }
            if no_long_line {
                lines = lines_of(bytes, breaks, block.ends_mid_line);
            }
        }
        None => {
            let mut pos = 0;
            while pos < bytes.len() {
                let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
                scan.line(pos, end);
                pos = end + 1;
            }
        }
    }
    Scanned {
        lines,
        long_lines,
        records: scan.records,
    }
}

/// Bytes scanned at once within a block (well under a core's own cache).
const SEGMENT: usize = 256 << 10;

/// Where the segment starting at `start` ends: after the last line break
/// within [`SEGMENT`] bytes, else after the next one, else at the block's end.
fn segment_end(bytes: &[u8], start: usize) -> usize {
    if bytes.len() - start <= SEGMENT {
        return bytes.len();
    }
    let window = &bytes[start..start + SEGMENT];
    match memchr::memrchr(b'\n', window) {
        Some(i) => start + i + 1,
        None => memchr::memchr(b'\n', &bytes[start + SEGMENT..])
            .map_or(bytes.len(), |i| start + SEGMENT + i + 1),
    }
}

/// Scans the whole lines `from..to` of a block for wanted values.
fn scan_segment(scan: &mut BlockScan<'_>, from: usize, to: usize, f: &Filter) {
    let bytes = scan.bytes;
    let mut pos = from;
    while pos < to {
        // The SIMD check reads a mostly-ASCII log many times faster than the
        // standard library's, and gives the same answer (tested below).
        match simdutf8::compat::from_utf8(&bytes[pos..to]) {
            Ok(text) => {
                scan.wanted_lines(pos, text, f);
                break;
            }
            Err(e) => {
                let bad = pos + e.valid_up_to();
                let line_start = bytes[pos..bad]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(pos, |i| pos + i + 1);
                let text = std::str::from_utf8(&bytes[pos..line_start]).unwrap_or("");
                scan.wanted_lines(pos, text, f);
                let line_end = memchr::memchr(b'\n', &bytes[bad..to]).map_or(to, |i| bad + i);
                scan.line(line_start, line_end);
                pos = line_end + 1;
            }
        }
    }
}

/// Lines that end in a block and how many are longer than [`MAX_LINE`].
///
/// A line that runs over several blocks is counted by the block it ends in,
/// and as a long line by [`Blocks`] when it is first cut.
fn count_lines(bytes: &[u8], starts_mid_line: bool, ends_mid_line: bool) -> (u64, u64) {
    if no_long_line(bytes) {
        let breaks = memchr::memchr_iter(b'\n', bytes).count() as u64;
        return (lines_of(bytes, breaks, ends_mid_line), 0);
    }
    count_lines_one_by_one(bytes, starts_mid_line, ends_mid_line)
}

/// True when every stretch of half a long line holds a line break: then no
/// line is long, and the line breaks need only be counted, not visited one by one.
fn no_long_line(bytes: &[u8]) -> bool {
    bytes
        .chunks(MAX_LINE / 2)
        .all(|w| memchr::memchr(b'\n', w).is_some())
}

/// Lines that end in a block holding `breaks` line breaks and no long line.
fn lines_of(bytes: &[u8], breaks: u64, ends_mid_line: bool) -> u64 {
    let unended = !bytes.ends_with(b"\n") && !bytes.is_empty() && !ends_mid_line;
    breaks + u64::from(unended)
}

/// [`count_lines`], visiting every line.
fn count_lines_one_by_one(bytes: &[u8], starts_mid_line: bool, ends_mid_line: bool) -> (u64, u64) {
    let mut lines = 0u64;
    let mut long = 0u64;
    let mut start = 0usize;
    let mut continued = starts_mid_line;
    for nl in memchr::memchr_iter(b'\n', bytes) {
        lines += 1;
        if nl - start > MAX_LINE && !continued {
            long += 1;
        }
        continued = false;
        start = nl + 1;
    }
    if start < bytes.len() && !ends_mid_line {
        lines += 1;
        if bytes.len() - start > MAX_LINE && !continued {
            long += 1;
        }
    }
    (lines, long)
}

/// The state of scanning one block: where line numbers have been counted to.
struct BlockScan<'a> {
    bytes: &'a [u8],
    offset: u64,
    file: &'a str,
    filter: &'a Option<Filter>,
    counted_to: usize,
    line_no: u64,
    records: Vec<Record>,
}

impl BlockScan<'_> {
    /// The line number (in the block, from 1) of the line starting at `pos`.
    fn line_no(&mut self, pos: usize) -> u64 {
        if pos > self.counted_to {
            self.line_no +=
                memchr::memchr_iter(b'\n', &self.bytes[self.counted_to..pos]).count() as u64;
            self.counted_to = pos;
        }
        self.line_no
    }

    /// Records for the line `start..end`, in pieces of at most [`MAX_LINE`] bytes.
    fn line(&mut self, start: usize, end: usize) {
        let line_no = self.line_no(start);
        let mut piece = start;
        while piece < end {
            let piece_end = (piece + MAX_LINE).min(end);
            self.piece(piece, piece_end, line_no);
            piece = piece_end;
        }
    }

    /// A record for the bytes `start..end` of line `line_no`, if they hold a wanted value.
    fn piece(&mut self, start: usize, end: usize, line_no: u64) {
        let offset = self.offset + start as u64;
        let bytes = &self.bytes[start..end];
        if let Some(r) = scan_line(bytes, self.file, line_no, offset, self.filter) {
            self.records.push(r);
        }
    }

    /// Scans `text` (the block's bytes from `base`) and reads every line holding a wanted value.
    ///
    /// Values are handed to the filter in batches of [`BATCH`], so that a
    /// filter that looks values up in memory can have many lookups in flight.
    fn wanted_lines(&mut self, base: usize, text: &str, filter: &Filter) {
        let origin = text.as_ptr() as usize;
        let mut done_to = 0usize;
        let mut hits = Vec::new();
        let mut batch: Vec<(ObservableKind, &str)> = Vec::with_capacity(BATCH);
        let mut passed = [false; BATCH];
        let mut check = |batch: &mut Vec<(ObservableKind, &str)>, hits: &mut Vec<usize>| {
            let passed = &mut passed[..batch.len()];
            filter.passes_each(batch, passed);
            for ((_, value), ok) in batch.iter().zip(passed.iter()) {
                let at = value.as_ptr() as usize - origin;
                if *ok && at >= done_to {
                    hits.push(base + at);
                    done_to = memchr::memchr(b'\n', &text.as_bytes()[at..])
                        .map_or(text.len(), |i| at + i);
                }
            }
            batch.clear();
        };
        extract_observables_of(text, filter.kinds(), &mut |kind, value| {
            // The value lies in `text`; borrow it from there, for as long as the batch lives.
            let at = value.as_ptr() as usize - origin;
            batch.push((kind, &text[at..at + value.len()]));
            if batch.len() == BATCH {
                check(&mut batch, &mut hits);
            }
        });
        check(&mut batch, &mut hits);
        for at in hits {
            let start = memchr::memrchr(b'\n', &self.bytes[..at]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &self.bytes[at..]).map_or(self.bytes.len(), |i| at + i);
            if end - start <= MAX_LINE {
                self.line(start, end);
            } else {
                // Only the piece of an overlong line around the value.
                let line_no = self.line_no(start);
                let piece = at.saturating_sub(MAX_LINE / 2).max(start);
                self.piece(piece, (piece + MAX_LINE).min(end), line_no);
            }
        }
    }
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
            Some(f) => f.passes(k, v),
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

/// Reads up to `n` blocks.
fn read_batch<R: Read>(blocks: &mut Blocks<R>, n: usize) -> std::io::Result<Vec<Block>> {
    let mut batch = Vec::with_capacity(n);
    for _ in 0..n {
        match blocks.next_block()? {
            Some(b) => batch.push(b),
            None => break,
        }
    }
    Ok(batch)
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
        }
        .min(MAX_BLOCKS_IN_FLIGHT);
        let mut summary = ModuleSummary {
            module: "log".into(),
            ..ModuleSummary::default()
        };
        let mut line_base = 0u64;
        let mut binary = false;
        let mut long_lines = 0u64;
        // While a batch is scanned this thread reads the next one, when the
        // blocks in flight (both batches) stay within the bound.
        let ahead = threads > 1 && 2 * threads <= MAX_BLOCKS_IN_FLIGHT;
        let mut next = read_batch(&mut blocks, threads);
        loop {
            let batch = match next {
                Ok(b) => b,
                Err(e) => {
                    return Err(ModuleError {
                        module: "log".into(),
                        file,
                        message: format!("read failed after {} bytes: {e}", blocks.offset),
                    })
                }
            };
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
            let results: Vec<Scanned>;
            if batch.len() == 1 && !ahead {
                results = vec![scan_block(&batch[0], &file, &self.options.filter)];
                next = read_batch(&mut blocks, threads);
            } else {
                (results, next) = std::thread::scope(|s| {
                    let handles: Vec<_> = batch
                        .iter()
                        .map(|b| {
                            let file = &file;
                            let filter = &self.options.filter;
                            s.spawn(move || scan_block(b, file, filter))
                        })
                        .collect();
                    let next = if ahead {
                        read_batch(&mut blocks, threads)
                    } else {
                        Ok(Vec::new())
                    };
                    let results = handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or(Scanned {
                                lines: 0,
                                long_lines: 0,
                                records: Vec::new(),
                            })
                        })
                        .collect();
                    (results, next)
                });
                if !ahead {
                    next = read_batch(&mut blocks, threads);
                }
            }
            // The scanned blocks' buffers take the next blocks.
            blocks.spare.extend(batch.into_iter().map(|b| b.bytes));
            blocks.spare.truncate(MAX_BLOCKS_IN_FLIGHT + 1);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_counted_segment_by_segment_equal_those_counted_whole() {
        let filter: Option<Filter> = Some(std::sync::Arc::new(|_: ObservableKind, _: &str| false));
        let many = "q.example.com from 10.0.0.1\n".repeat(30_000);
        let texts: [&[u8]; 7] = [
            b"",
            b"\n",
            b"a.example.com",
            b"a.example.com\n\xff\xfe not UTF-8 b.example.org\nlast",
            b"x\r\ny.example.net\r\n",
            many.as_bytes(),
            &[b'z'; MAX_LINE + 5],
        ];
        for t in texts {
            for ends_mid_line in [false, true] {
                let block = Block {
                    bytes: t.to_vec(),
                    offset: 0,
                    starts_mid_line: false,
                    ends_mid_line,
                };
                assert_eq!(
                    scan_block(&block, "f", &filter).lines,
                    count_lines(t, false, ends_mid_line).0,
                    "{} bytes, {ends_mid_line}",
                    t.len()
                );
            }
        }
    }

    #[test]
    fn utf8_check_stops_where_the_standard_one_does() {
        let mut x = 0x2f6b_1a3c_9d4e_5f70u64;
        for len in 0..600usize {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Mostly ASCII, with multi-byte characters and stray bytes now and then.
                    match x % 40 {
                        0 => 0xc3,
                        1 => 0xa9,
                        2 => 0xe2,
                        3 => 0xff,
                        _ => b'a' + (x >> 8) as u8 % 26,
                    }
                })
                .collect();
            let ours = simdutf8::compat::from_utf8(&bytes).map_err(|e| e.valid_up_to());
            let std = std::str::from_utf8(&bytes).map_err(|e| e.valid_up_to());
            assert_eq!(ours, std, "{bytes:?}");
        }
    }

    #[test]
    fn lines_not_utf8_in_a_block_keep_the_hits_and_their_line_numbers() {
        let filter: Option<Filter> = Some(std::sync::Arc::new(|k: ObservableKind, v: &str| {
            k == ObservableKind::Domain && v.ends_with("evil.com")
        }));
        let mut text = Vec::new();
        let mut want = Vec::new();
        for n in 1..=3000u64 {
            match n % 7 {
                0 => text.extend_from_slice(format!("q{n}.evil.com from 10.0.0.1\n").as_bytes()),
                3 => text.extend_from_slice(b"caf\xe9 \xff bad.evil.com\n"),
                5 => text.extend_from_slice("café ok.example.org\n".as_bytes()),
                _ => text.extend_from_slice(format!("h{n}.example.net\n").as_bytes()),
            }
            if n % 7 == 0 || n % 7 == 3 {
                want.push(n);
            }
        }
        let block = Block {
            bytes: text,
            offset: 0,
            starts_mid_line: false,
            ends_mid_line: false,
        };
        let got = scan_block(&block, "f", &filter);
        assert_eq!(got.lines, 3000);
        let lines: Vec<u64> = got
            .records
            .iter()
            .map(|r| r.provenance.line.unwrap())
            .collect();
        assert_eq!(lines, want);
    }

    #[test]
    fn counting_lines_fast_equals_visiting_each() {
        let long = "x".repeat(MAX_LINE + 10);
        let half = "y".repeat(MAX_LINE / 2 + 3);
        let texts = [
            String::new(),
            "\n".into(),
            "a".into(),
            "a\nb".into(),
            "a\nb\n".into(),
            format!("a\n{long}\nb\n"),
            long.clone(),
            format!("{half}\n{half}\n{half}"),
            format!("{half}{half}\nend"),
            "line\n".repeat(300_000),
        ];
        for t in &texts {
            for (starts, ends) in [(false, false), (true, false), (false, true), (true, true)] {
                assert_eq!(
                    count_lines(t.as_bytes(), starts, ends),
                    count_lines_one_by_one(t.as_bytes(), starts, ends),
                    "{} bytes, {starts} {ends}",
                    t.len()
                );
            }
        }
    }
}
