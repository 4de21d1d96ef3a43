//! STIX 2.1 bundles as MVT's users have them, read as a stream.
//!
//! Indicators name their spyware through `indicates` relationships to a
//! `malware` object, or by being listed in a `report`'s `object_refs`. Other
//! object types are read only for those names. Objects with a problem are
//! reported as diagnostics naming their index and byte offset, and skipped;
//! the rest of the bundle loads.
//!
//! The bundle is never held whole: [`Splitter`] reads it in blocks, finds
//! where each element of `objects` starts and ends (a structural scan over
//! braces and strings, nothing is built), and hands blocks of whole objects
//! to worker threads. Each worker deserialises the few properties this crate
//! needs into borrowed fields and compiles the patterns; the names are joined
//! to the indicators once every block is back, in file order. Memory holds
//! the blocks in flight plus the indicators themselves.
//!
//! `vigil_stix::bundle::BundleReader` is the general streaming reader of the
//! project, but it builds a full `serde_json::Value` per object (with
//! duplicate-key checks), which for a million indicators and their million
//! relationships costs several seconds more than this loader's whole budget;
//! this reader parses only the properties it uses.

use std::borrow::Cow;
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::pattern::{compile_pattern, CompiledPattern};

mod plain;
use crate::{Error, Indicator, IndicatorSet};

/// Bytes read from the input at a time; also the size of a block of objects given to a worker.
const BLOCK: usize = 1 << 20;
/// Largest accepted serialised size of one element of `objects` (as `vigil-stix` allows).
const MAX_OBJECT_BYTES: usize = 32 << 20;
/// Blocks waiting for a worker: bounds the memory in flight.
const QUEUE: usize = 4;

#[derive(Deserialize, Debug, Default, PartialEq)]
struct Object<'a> {
    #[serde(borrow, rename = "type", default)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pattern: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pattern_type: Option<Cow<'a, str>>,
    #[serde(default)]
    revoked: bool,
    #[serde(borrow, default)]
    relationship_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    source_ref: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    target_ref: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    object_refs: Vec<Cow<'a, str>>,
}

/// Where one element of `objects` lies in its block.
#[derive(Debug, Clone, Copy)]
struct Element {
    /// Position in `objects`.
    index: usize,
    /// Byte offset in the file.
    offset: u64,
    start: usize,
    end: usize,
}

/// Whole elements of `objects` and the bytes holding them.
struct Block {
    seq: usize,
    bytes: Vec<u8>,
    elements: Vec<Element>,
}

/// What one block contributes to the set.
#[derive(Default)]
struct Parsed {
    seq: usize,
    /// Indicators in file order, their spyware not yet filled in.
    indicators: Vec<Indicator>,
    /// Object id → name, for the types an indicator can point at.
    names: Vec<(Box<str>, Arc<str>)>,
    /// `indicates` relationships: (source, target) as ranges of `ref_text`.
    indicates: Vec<(Range<usize>, Range<usize>)>,
    /// The ids `indicates` points into, one after another (one allocation per block).
    ref_text: String,
    /// Reports: (report id, referenced ids).
    reports: Vec<(Box<str>, Vec<Box<str>>)>,
    diagnostics: Vec<String>,
    /// For each of `indicates`: the indicator of this block it starts from,
    /// when exactly one indicator of the block has that id.
    local: Vec<Option<u32>>,
    /// A fingerprint of each indicator's id, to find ids that occur in several blocks.
    id_prints: Vec<u64>,
}

fn parse_block(block: &Block) -> Parsed {
    let mut out = Parsed {
        seq: block.seq,
        ..Parsed::default()
    };
    for e in &block.elements {
        let bytes = &block.bytes[e.start..e.end];
        // Plain objects are read straight from their bytes; serde reads the rest and words any problem.
        let read = match plain::object(bytes) {
            Some(o) => Ok(o),
            None => serde_json::from_slice::<Object<'_>>(bytes),
        };
        match read {
            Ok(o) => take_object(e, o, &mut out),
            Err(err) => out.diagnostics.push(format!(
                "object {} (byte {}): {}",
                e.index,
                e.offset,
                json_problem(bytes, &err)
            )),
        }
    }
    resolve_in_block(&mut out);
    out
}

/// Links `indicates` relationships to the indicators of the same block (in
/// real sets each relationship follows its indicator), so the join does not
/// look a million ids up in one large table.
fn resolve_in_block(out: &mut Parsed) {
    const TWICE: u32 = u32::MAX;
    let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
    ids.reserve(out.indicators.len());
    for (j, ind) in out.indicators.iter().enumerate() {
        ids.entry(ind.id.as_str())
            .and_modify(|v| *v = TWICE)
            .or_insert(j as u32);
    }
    out.local = out
        .indicates
        .iter()
        .map(|(src, _)| {
            ids.get(&out.ref_text[src.clone()])
                .copied()
                .filter(|j| *j != TWICE)
        })
        .collect();
    out.id_prints = out
        .indicators
        .iter()
        .map(|i| crate::matcher::fingerprint(i.id.as_bytes()))
        .collect();
}

fn json_problem(bytes: &[u8], err: &serde_json::Error) -> String {
    if bytes.first() != Some(&b'{') {
        return "not a JSON object; skipped".into();
    }
    let msg = err.to_string();
    let msg = msg
        .rsplit_once(" at line ")
        .map_or(msg.as_str(), |(m, _)| m);
    format!("{msg}; skipped")
}

fn take_object(e: &Element, o: Object<'_>, out: &mut Parsed) {
    match o.kind.as_ref() {
        "indicator" => {}
        "relationship" => {
            if o.relationship_type.as_deref() == Some("indicates") {
                if let (Some(src), Some(dst)) = (o.source_ref, o.target_ref) {
                    let t = &mut out.ref_text;
                    let a = t.len();
                    t.push_str(&src);
                    let b = t.len();
                    t.push_str(&dst);
                    out.indicates.push((a..b, b..t.len()));
                }
            }
            return;
        }
        "malware" | "tool" | "threat-actor" | "intrusion-set" | "campaign" | "report" => {
            if let Some(n) = &o.name {
                out.names
                    .push((o.id.as_ref().into(), Arc::from(n.as_ref())));
            }
            if o.kind == "report" && !o.object_refs.is_empty() {
                let refs = o.object_refs.iter().map(|r| r.as_ref().into()).collect();
                out.reports.push((o.id.as_ref().into(), refs));
            }
            return;
        }
        _ => return,
    }
    let where_ = || {
        if o.id.is_empty() {
            format!("object {}", e.index)
        } else {
            format!("{} (object {})", o.id, e.index)
        }
    };
    if o.revoked {
        return;
    }
    if let Some(pt) = &o.pattern_type {
        if pt != "stix" {
            out.diagnostics.push(format!(
                "{}: pattern_type '{pt}' is not stix; skipped",
                where_()
            ));
            return;
        }
    }
    let Some(pattern) = &o.pattern else {
        out.diagnostics
            .push(format!("{}: no pattern; skipped", where_()));
        return;
    };
    let (terms, general) = match compile_pattern(pattern) {
        Ok(CompiledPattern::Terms(t)) => (t, None),
        Ok(CompiledPattern::General(reason)) => (Vec::new(), Some(reason)),
        Err(err) => {
            out.diagnostics
                .push(format!("{}: pattern: {err}", where_()));
            return;
        }
    };
    out.indicators.push(Indicator {
        id: o.id.into_owned(),
        pattern: pattern.to_string(),
        spyware: Vec::new(),
        terms,
        general,
    });
}

/// Reads a bundle (or a bare JSON array of objects) from `input`.
pub(crate) fn load(path: &Path, input: impl Read) -> Result<IndicatorSet, Error> {
    let mut splitter = Splitter::new(path, input);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut parsed = Vec::new();
    splitter.start()?;
    let first = splitter.next_block()?;
    match first {
        // Small bundles: one block, no threads.
        Some(block) if splitter.ended => parsed.push(parse_block(&block)),
        None => {}
        Some(block) => {
            let (to_workers, from_main) = mpsc::sync_channel::<Block>(QUEUE);
            let (to_main, results) = mpsc::channel::<Parsed>();
            let (give_back, returned) = mpsc::channel::<Vec<u8>>();
            let from_main = Mutex::new(from_main);
            std::thread::scope(|scope| -> Result<(), Error> {
                for _ in 0..workers {
                    let to_main = to_main.clone();
                    let give_back = give_back.clone();
                    let from_main = &from_main;
                    scope.spawn(move || loop {
                        let next = from_main.lock().map(|rx| rx.recv());
                        let Ok(Ok(block)) = next else { break };
                        let parsed = parse_block(&block);
                        let _ = give_back.send(block.bytes);
                        if to_main.send(parsed).is_err() {
                            break;
                        }
                    });
                }
                drop((to_main, give_back));
                let mut next = Some(block);
                let outcome = loop {
                    let Some(block) = next.take() else {
                        break Ok(());
                    };
                    if to_workers.send(block).is_err() {
                        break Ok(());
                    }
                    splitter.pool.extend(returned.try_iter());
                    splitter.pool.truncate(QUEUE + workers);
                    match splitter.next_block() {
                        Ok(b) => next = b,
                        Err(e) => break Err(e),
                    }
                };
                drop(to_workers);
                parsed.extend(results.iter());
                outcome
            })?;
        }
    }
    parsed.sort_unstable_by_key(|p| p.seq);
    Ok(join(parsed))
}

/// Fills in every indicator's spyware from the names, relationships and reports of all blocks.
///
/// Distinct lists of names are interned: a million indicators of one
/// spyware share one list while joining, and each gets its copy at the end.
fn join(parsed: Vec<Parsed>) -> IndicatorSet {
    match join_in_blocks(parsed) {
        Ok(set) => set,
        Err(parsed) => join_by_id(parsed),
    }
}

/// The join when every indicator's names come either from relationships in
/// its own block or from elsewhere, not both, and no id is used twice (the
/// usual case); otherwise the blocks are given back for [`join_by_id`].
fn join_in_blocks(parsed: Vec<Parsed>) -> Result<IndicatorSet, Vec<Parsed>> {
    if !ids_unique(&parsed) {
        return Err(parsed);
    }
    let names = names_of(&parsed);
    // Relationships from an indicator of another block, and reports, by id.
    let mut lists = Lists::default();
    let links = links_by_id(&parsed, &names, &mut lists, false);
    // An indicator named both ways: only the join by id keeps the file order of its names.
    let mixed = !links.is_empty()
        && parsed.iter().any(|p| {
            p.indicates
                .iter()
                .zip(&p.local)
                .any(|((src, _), l)| l.is_some() && links.contains_key(&p.ref_text[src.clone()]))
        });
    if mixed {
        drop((names, links, lists));
        return Err(parsed);
    }
    let mut per_block = Vec::with_capacity(parsed.len());
    for p in &parsed {
        let mut own = vec![0u32; p.indicators.len()];
        for ((_, dst), local) in p.indicates.iter().zip(&p.local) {
            if let (Some(j), Some(n)) = (local, names.get(&p.ref_text[dst.clone()])) {
                own[*j as usize] = lists.with(own[*j as usize], n);
            }
        }
        per_block.push(own);
    }
    let found: Vec<(usize, usize, u32)> = if links.is_empty() {
        Vec::new()
    } else {
        let mut v = Vec::new();
        for (b, p) in parsed.iter().enumerate() {
            for (j, ind) in p.indicators.iter().enumerate() {
                if let Some(&l) = links.get(ind.id.as_str()) {
                    v.push((b, j, l));
                }
            }
        }
        v
    };
    for (b, j, l) in found {
        per_block[b][j] = l;
    }
    drop((names, links));
    let mut set = IndicatorSet::default();
    set.indicators
        .reserve_exact(parsed.iter().map(|p| p.indicators.len()).sum());
    for (p, own) in parsed.into_iter().zip(per_block) {
        set.diagnostics.extend(p.diagnostics);
        for (mut ind, l) in p.indicators.into_iter().zip(own) {
            if l != 0 {
                ind.spyware = lists.lists[l as usize].clone();
            }
            set.indicators.push(ind);
        }
    }
    Ok(set)
}

/// True when no two indicators of the set have the same id (fingerprints
/// sorted; an equal pair, even a mere collision, answers false).
fn ids_unique(parsed: &[Parsed]) -> bool {
    let mut prints: Vec<u64> = Vec::with_capacity(parsed.iter().map(|p| p.id_prints.len()).sum());
    for p in parsed {
        prints.extend_from_slice(&p.id_prints);
    }
    prints.sort_unstable();
    prints.windows(2).all(|w| w[0] != w[1])
}

/// The join by id over the whole set: every relationship and report looked
/// up by its source's id (indicators sharing an id all get its names).
fn join_by_id(mut parsed: Vec<Parsed>) -> IndicatorSet {
    let mut set = IndicatorSet::default();
    let total: usize = parsed.iter().map(|p| p.indicators.len()).sum();
    set.indicators.reserve_exact(total);
    let mut bodies = Vec::with_capacity(parsed.len());
    for p in &mut parsed {
        set.diagnostics.append(&mut p.diagnostics);
        bodies.push(std::mem::take(&mut p.indicators));
    }
    let names = names_of(&parsed);
    let mut lists = Lists::default();
    let links = links_by_id(&parsed, &names, &mut lists, true);
    for body in bodies {
        for mut ind in body {
            if let Some(&l) = links.get(ind.id.as_str()) {
                ind.spyware = lists.lists[l as usize].clone();
            }
            set.indicators.push(ind);
        }
    }
    set
}

/// Object id → name, for the objects an indicator can point at.
fn names_of(parsed: &[Parsed]) -> FxHashMap<&str, &Arc<str>> {
    let mut names = FxHashMap::default();
    for p in parsed {
        for (id, name) in &p.names {
            names.insert(id.as_ref(), name);
        }
    }
    names
}

/// Object id → index in `lists` (list 0 is the empty one), from the
/// `indicates` relationships (all, or only those not linked in their block)
/// and the reports, in file order.
fn links_by_id<'a>(
    parsed: &'a [Parsed],
    names: &FxHashMap<&str, &Arc<str>>,
    lists: &mut Lists,
    all: bool,
) -> FxHashMap<&'a str, u32> {
    let mut links: FxHashMap<&str, u32> = FxHashMap::default();
    if all {
        links.reserve(parsed.iter().map(|p| p.indicates.len()).sum());
    }
    for p in parsed {
        for ((src, dst), local) in p.indicates.iter().zip(&p.local) {
            if all || local.is_none() {
                if let Some(n) = names.get(&p.ref_text[dst.clone()]) {
                    let l = links.entry(&p.ref_text[src.clone()]).or_insert(0);
                    *l = lists.with(*l, n);
                }
            }
        }
        for (report, refs) in &p.reports {
            if let Some(n) = names.get(report.as_ref()) {
                for r in refs {
                    let l = links.entry(r).or_insert(0);
                    *l = lists.with(*l, n);
                }
            }
        }
    }
    links
}

/// Distinct lists of spyware names, and which list adding a name to a list gives.
struct Lists {
    lists: Vec<Vec<Arc<str>>>,
    /// (list, name's address) → the grown list; the names outlive the join.
    grown: FxHashMap<(u32, usize), u32>,
}

impl Default for Lists {
    fn default() -> Self {
        Lists {
            lists: vec![Vec::new()],
            grown: FxHashMap::default(),
        }
    }
}

impl Lists {
    /// The list `l` with `name` added (unchanged when it already holds that name).
    fn with(&mut self, l: u32, name: &Arc<str>) -> u32 {
        if self.lists[l as usize].iter().any(|x| x == name) {
            return l;
        }
        let key = (l, name.as_ptr() as usize);
        if let Some(&g) = self.grown.get(&key) {
            return g;
        }
        let mut v = self.lists[l as usize].clone();
        v.push(name.clone());
        self.lists.push(v);
        let g = (self.lists.len() - 1) as u32;
        self.grown.insert(key, g);
        g
    }
}

/// Cuts a bundle into blocks of whole objects while reading it.
struct Splitter<'p, R> {
    input: R,
    path: &'p Path,
    /// Unconsumed input starts at `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// Number of the next block.
    seq: usize,
    /// Index of the next element of `objects`.
    index: usize,
    /// A ',' must come before the next element.
    need_comma: bool,
    /// The top level is a bundle object (not a bare array).
    bundle: bool,
    /// The end of `objects` has been read.
    ended: bool,
    /// Buffers of parsed blocks, to read into again.
    pool: Vec<Vec<u8>>,
}

/// What a structural scan found.
enum Scan {
    /// The value ends at this position (exclusive).
    End(usize),
    /// More input is needed.
    More,
    /// Not valid here.
    Bad(&'static str),
}

impl<'p, R: Read> Splitter<'p, R> {
    fn new(path: &'p Path, input: R) -> Self {
        Splitter {
            input,
            path,
            buf: Vec::with_capacity(2 * BLOCK),
            pos: 0,
            base: 0,
            eof: false,
            seq: 0,
            index: 0,
            need_comma: false,
            bundle: false,
            ended: false,
            pool: Vec::new(),
        }
    }

    fn err(&self, at: usize, message: impl std::fmt::Display) -> Error {
        Error::Format {
            path: self.path.to_path_buf(),
            message: format!(
                "not a STIX 2.1 bundle: {message} at byte {}",
                self.base + at as u64
            ),
        }
    }

    /// Reads up to one more block; false at the end of the input.
    fn fill(&mut self) -> Result<bool, Error> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let old = self.buf.len();
        // `read_to_end` fills the spare capacity without zeroing it first.
        match (&mut self.input)
            .take(BLOCK as u64)
            .read_to_end(&mut self.buf)
        {
            Ok(got) => {
                if got < BLOCK {
                    self.eof = true;
                }
                Ok(got > 0)
            }
            Err(source) => {
                self.buf.truncate(old);
                Err(Error::Io {
                    path: self.path.to_path_buf(),
                    source,
                })
            }
        }
    }

    /// The next non-blank byte (not consumed), reading more as needed; `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, Error> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                if !b.is_ascii_whitespace() {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn expect_peek(&mut self, what: &str) -> Result<u8, Error> {
        match self.peek()? {
            Some(b) => Ok(b),
            None => Err(self.err(self.buf.len(), format!("the input ends inside {what}"))),
        }
    }

    /// Scans one JSON value at `pos`, reading more as needed; returns its end.
    fn value_end(&mut self) -> Result<usize, Error> {
        loop {
            let limit = MAX_OBJECT_BYTES.min(self.buf.len() - self.pos);
            match scan_value(&self.buf[self.pos..self.pos + limit]) {
                Scan::End(n) => return Ok(self.pos + n),
                Scan::Bad(why) => return Err(self.err(self.pos, why)),
                Scan::More if limit == MAX_OBJECT_BYTES => {
                    return Err(self.err(
                        self.pos,
                        format!(
                            "object {} is larger than {MAX_OBJECT_BYTES} bytes",
                            self.index
                        ),
                    ))
                }
                Scan::More => {
                    if !self.fill()? {
                        return Err(self.err(self.buf.len(), "the input ends inside a value"));
                    }
                }
            }
        }
    }

    /// Reads up to the first element of `objects` (or of a bare array).
    fn start(&mut self) -> Result<(), Error> {
        match self.peek()? {
            Some(b'[') => {
                self.pos += 1;
                Ok(())
            }
            Some(b'{') => {
                self.pos += 1;
                self.bundle = true;
                if self.members(true)? {
                    Ok(())
                } else {
                    Err(self.err(self.pos, "no `objects` array"))
                }
            }
            Some(_) => Err(self.err(self.pos, "the top level is not a JSON object")),
            None => Err(self.err(0, "the input is empty")),
        }
    }

    /// Reads bundle properties up to `objects` (true) or the closing brace (false).
    fn members(&mut self, mut first: bool) -> Result<bool, Error> {
        loop {
            let mut b = self.expect_peek("the bundle")?;
            if b == b'}' {
                self.pos += 1;
                return Ok(false);
            }
            if !first {
                if b != b',' {
                    return Err(self.err(self.pos, "expected ',' or '}' between bundle properties"));
                }
                self.pos += 1;
                b = self.expect_peek("the bundle")?;
            }
            first = false;
            if b != b'"' {
                return Err(self.err(self.pos, "expected a property name"));
            }
            let end = self.value_end()?;
            let key: String = serde_json::from_slice(&self.buf[self.pos..end])
                .map_err(|e| self.err(self.pos, format!("bad property name: {e}")))?;
            self.pos = end;
            if self.expect_peek("the bundle")? != b':' {
                return Err(self.err(self.pos, format!("expected ':' after \"{key}\"")));
            }
            self.pos += 1;
            let b = self.expect_peek("the bundle")?;
            if key == "objects" {
                if self.ended {
                    return Err(self.err(self.pos, "a second `objects` array"));
                }
                if b != b'[' {
                    return Err(self.err(self.pos, "`objects` is not an array"));
                }
                self.pos += 1;
                return Ok(true);
            }
            let end = self.value_end()?;
            if key == "type" && &self.buf[self.pos..end] != b"\"bundle\"" {
                return Err(self.err(self.pos, "the top-level type is not \"bundle\""));
            }
            self.pos = end;
        }
    }

    /// Reads what follows `objects`: more bundle properties, then the end of the input.
    fn finish(&mut self) -> Result<(), Error> {
        self.ended = true;
        if self.bundle {
            self.members(false)?;
        }
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.err(self.pos, "data after the end of the bundle")),
        }
    }

    /// Skips blanks inside the buffer only; false when the buffer ran out.
    fn skip_blank_buffered(&mut self) -> bool {
        match self.buf[self.pos..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
        {
            Some(i) => {
                self.pos += i;
                true
            }
            None => {
                self.pos = self.buf.len();
                false
            }
        }
    }

    /// Cuts the next block: every whole element in the next stretch of input; `None` after the last.
    fn next_block(&mut self) -> Result<Option<Block>, Error> {
        if self.ended {
            return Ok(None);
        }
        if self.buf.len() - self.pos < BLOCK {
            self.fill()?;
        }
        let mut elements = Vec::new();
        loop {
            if !self.skip_blank_buffered() {
                if !elements.is_empty() {
                    break;
                }
                self.expect_peek("`objects`")?;
            }
            let b = self.buf[self.pos];
            if b == b']' && (self.need_comma || self.index == 0) {
                self.pos += 1;
                self.finish()?;
                break;
            }
            if self.need_comma {
                if b != b',' {
                    return Err(self.err(
                        self.pos,
                        format!("expected ',' or ']' after object {}", self.index - 1),
                    ));
                }
                self.pos += 1;
                self.need_comma = false;
                continue;
            }
            let limit = MAX_OBJECT_BYTES.min(self.buf.len() - self.pos);
            let end = match scan_value(&self.buf[self.pos..self.pos + limit]) {
                Scan::End(n) => self.pos + n,
                Scan::Bad(why) => return Err(self.err(self.pos, why)),
                // The rest of this element goes to the next block.
                Scan::More if !elements.is_empty() => break,
                Scan::More => self.value_end()?,
            };
            elements.push(Element {
                index: self.index,
                offset: self.base + self.pos as u64,
                start: self.pos,
                end,
            });
            self.index += 1;
            self.pos = end;
            self.need_comma = true;
        }
        if elements.is_empty() {
            return Ok(None);
        }
        // Hand over the bytes up to `pos`; the rest starts the next block, in
        // the buffer of a block already parsed when one is back.
        let mut next = self
            .pool
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(2 * BLOCK));
        next.clear();
        next.extend_from_slice(&self.buf[self.pos..]);
        let mut bytes = std::mem::replace(&mut self.buf, next);
        bytes.truncate(self.pos);
        self.base += self.pos as u64;
        self.pos = 0;
        self.seq += 1;
        Ok(Some(Block {
            seq: self.seq,
            bytes,
            elements,
        }))
    }
}

/// Scans one JSON value at the start of `s` (after any blanks are skipped by the caller).
///
/// Only structure is checked: brackets balance and strings end. Whether the
/// value is valid JSON is serde's job when the element is parsed.
fn scan_value(s: &[u8]) -> Scan {
    let Some(&first) = s.first() else {
        return Scan::More;
    };
    match first {
        b'{' | b'[' => {}
        b'"' => {
            return match string_end(s, 1) {
                Some(n) => Scan::End(n),
                None => Scan::More,
            }
        }
        b']' | b'}' | b',' | b':' => return Scan::Bad("expected a value"),
        _ => {
            // A number, true, false or null: up to the next delimiter.
            return match s
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace())
            {
                Some(n) => Scan::End(n),
                None => Scan::More,
            };
        }
    }
    let close = if first == b'{' { b'}' } else { b']' };
    scan_container(s, first, close)
}

/// Scans an object (or array) by counting its own kind of bracket.
///
/// In valid JSON the other kind nests properly inside, so only one kind
/// needs counting; strings are skipped whole, whatever they hold. Bytes are
/// tested eight at a time: objects hold many short strings, and one
/// vectorised search per string costs more than it saves.
fn scan_container(s: &[u8], open: u8, close: u8) -> Scan {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = find3(s, i, b'"', open, close) {
        match s[off] {
            b'"' => match string_end(s, off + 1) {
                Some(n) => {
                    i = n;
                    continue;
                }
                None => return Scan::More,
            },
            b if b == open => depth += 1,
            _ => {
                if depth == 0 {
                    return Scan::Bad("unbalanced brackets");
                }
                depth -= 1;
                if depth == 0 {
                    return Scan::End(off + 1);
                }
            }
        }
        i = off + 1;
    }
    Scan::More
}

/// The position just after the closing quote of a string whose body starts at `i`.
fn string_end(s: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let off = find3(s, i, b'"', b'\\', b'"')?;
        if s[off] == b'"' {
            return Some(off + 1);
        }
        // An escape: skip the escaped byte (a quote or backslash included).
        i = off + 2;
        if i > s.len() {
            return None;
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` equal to `b` (exact for the lowest such byte).
fn bytes_equal(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * b as u64);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The first position at or after `i` holding `a`, `b` or `c`.
fn find3(s: &[u8], mut i: usize, a: u8, b: u8, c: u8) -> Option<usize> {
    while i + 8 <= s.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        let w = u64::from_le_bytes(w);
        let m = bytes_equal(w, a) | bytes_equal(w, b) | bytes_equal(w, c);
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s.get(i..)?
        .iter()
        .position(|x| *x == a || *x == b || *x == c)
        .map(|p| i + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_search_finds_what_a_byte_search_finds() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut s = Vec::new();
        for _ in 0..4000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly plain bytes, some of the searched ones, some high bytes.
            s.push(match x % 16 {
                0 => b'"',
                1 => b'{',
                2 => b'}',
                3 => 0x80 | (x >> 8) as u8,
                4 => b'"' ^ 0x80,
                _ => b'a' + (x >> 16) as u8 % 26,
            });
        }
        for i in 0..s.len() + 2 {
            let want = s
                .get(i..)
                .and_then(|r| r.iter().position(|c| matches!(c, b'"' | b'{' | b'}')))
                .map(|p| i + p);
            assert_eq!(find3(&s, i, b'"', b'{', b'}'), want, "{i}");
        }
    }

    /// Every block of a bundle, parsed on this thread.
    fn blocks_of(bundle: &[u8]) -> Vec<Parsed> {
        let mut splitter = Splitter::new(Path::new("t.json"), bundle);
        splitter.start().unwrap();
        let mut out = Vec::new();
        while let Some(b) = splitter.next_block().unwrap() {
            out.push(parse_block(&b));
        }
        out
    }

    #[test]
    fn joining_in_blocks_names_what_the_join_by_id_names() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let pad = "p".repeat(600);
        let n = 3000u64;
        // Round 0: relationships follow their indicators; 1: every tenth
        // indicator named only from far away; 2: some relationships moved
        // before their indicators; 3: a report too; 4: ids used twice.
        for round in 0..5 {
            let rel = |src: u64, m: u64| {
                format!(
                    r#"{{"type":"relationship","relationship_type":"indicates","source_ref":"indicator--{src}","target_ref":"malware--{m}"}}"#
                )
            };
            let mut objects = Vec::new();
            for m in 0..3 {
                objects.push(format!(
                    r#"{{"type":"malware","id":"malware--{m}","name":"Spy{m}"}}"#
                ));
            }
            for i in 0..n {
                let id = if round == 4 && i % 700 == 0 { 1 } else { i };
                objects.push(format!(
                    r#"{{"type":"indicator","id":"indicator--{id}","pattern":"[domain-name:value = 'd{i}.com']","pattern_type":"stix","description":"{pad}"}}"#
                ));
                if round == 1 && i % 10 == 3 {
                    continue;
                }
                for _ in 0..(1 + rnd(2) * rnd(2)) {
                    let r = rel(id, rnd(3));
                    if round == 2 && rnd(4) == 0 {
                        let at = objects.len() - rnd(objects.len() as u64 - 3) as usize;
                        objects.insert(at, r);
                    } else {
                        objects.push(r);
                    }
                }
            }
            if round == 1 {
                for i in (3..n).step_by(10) {
                    objects.push(rel(i, rnd(3)));
                    objects.push(rel(i, rnd(3)));
                }
            }
            if round == 3 {
                objects.push(
                    r#"{"type":"report","id":"report--1","name":"Rep","object_refs":["indicator--5","indicator--2999"]}"#
                        .into(),
                );
            }
            let bundle = format!(r#"{{"type":"bundle","objects":[{}]}}"#, objects.join(","));
            let nb = blocks_of(bundle.as_bytes()).len();
            assert!(nb >= 2, "several blocks: {nb}");
            let by_id = join_by_id(blocks_of(bundle.as_bytes()));
            let fast = match join_in_blocks(blocks_of(bundle.as_bytes())) {
                Ok(set) => {
                    assert!(round <= 1, "round {round} needs the join by id");
                    set
                }
                Err(_) => {
                    assert!(round >= 2, "round {round} can be joined in blocks");
                    join(blocks_of(bundle.as_bytes()))
                }
            };
            assert_eq!(fast.indicators, by_id.indicators, "round {round}");
            assert_eq!(fast.diagnostics, by_id.diagnostics);
            assert!(by_id.indicators.iter().any(|i| i.spyware.len() > 1));
            assert!(by_id.indicators.iter().all(|i| !i.spyware.is_empty()));
        }
    }

    #[test]
    fn containers_end_after_their_own_closing_bracket() {
        let obj = br#"{"a":"x}\"{","b":{"c":[1,{"d":"]"}]}} , {"next":1}"#;
        match scan_value(obj) {
            Scan::End(n) => assert_eq!(&obj[..n], &br#"{"a":"x}\"{","b":{"c":[1,{"d":"]"}]}}"#[..]),
            _ => panic!("no end found"),
        }
        assert!(matches!(scan_value(br#"{"a":"unterminated}"#), Scan::More));
        assert!(matches!(scan_value(br#"{"a":"x\"#), Scan::More));
    }
}
