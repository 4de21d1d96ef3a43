//! The compiled form of a matcher over one indicator set.
//!
//! Loading a million STIX indicators means parsing hundreds of megabytes of
//! JSON, compiling a million patterns and filling the tables; a scan that
//! reads the compiled form instead copies the tables back as they were built
//! (string arena, entries, open-addressing slots) and rebuilds only the
//! indicators' own strings. The caller decides where the bytes live (the CLI
//! keeps them in a hidden file beside the indicator file).
//!
//! Layout, all integers little-endian:
//!
//! ```text
//! magic "VIGILIOC" | version u32 | 0u32 | source stamp (size, modified ns, sample) 3×u64
//! | payload length u64 | payload checksum u64 | payload
//! ```
//!
//! The payload holds the set's diagnostics, the distinct spyware lists, the
//! indicators (id, pattern, spyware list, general reason, terms), then every
//! exact table, the address tables, the path lengths and the domain label
//! range. Nothing read from it is trusted: a wrong magic, version, stamp,
//! length or checksum, and every index or offset out of range, is an error
//! naming what is wrong — never a panic and never a table a lookup could
//! loop in.

use std::sync::{Arc, OnceLock};

use vigil_artefact::ObservableKind;

use super::{fingerprint, AddrHits, Entry, IndicatorId, Matcher, Prefixes, Table, TAG};
use crate::{Indicator, IndicatorSet, Term};

const MAGIC: &[u8; 8] = b"VIGILIOC";
/// Bumped whenever the layout or the meaning of a table changes.
const VERSION: u32 = 3;
/// Indicator records decoded together when one of them is first asked for.
const CHUNK: usize = 256;
const HEADER: usize = 8 + 4 + 4 + 24 + 8 + 8;

/// What identifies the indicator file a compiled form was built from.
///
/// A compiled form is used only when all three agree with the file as it is
/// now; anything else means it is rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceStamp {
    /// The file's length in bytes.
    pub size: u64,
    /// The file's modification time in nanoseconds since the Unix epoch (0 if unknown).
    pub modified_ns: u64,
    /// A fingerprint of the file's first and last 64 KiB.
    pub sample: u64,
}

impl SourceStamp {
    /// The stamp of an indicator file as it is now (reads at most 128 KiB of it).
    pub fn of_file(path: &std::path::Path) -> std::io::Result<SourceStamp> {
        use std::io::{Read, Seek, SeekFrom};
        const PART: u64 = 64 << 10;
        let mut f = std::fs::File::open(path)?;
        let meta = f.metadata()?;
        let size = meta.len();
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        let mut buf = Vec::with_capacity(2 * PART as usize);
        (&mut f).take(PART).read_to_end(&mut buf)?;
        if size > PART {
            f.seek(SeekFrom::Start(size.saturating_sub(PART).max(PART)))?;
            f.take(PART).read_to_end(&mut buf)?;
        }
        Ok(SourceStamp {
            size,
            modified_ns,
            sample: fingerprint(&buf),
        })
    }
}

/// Why a compiled form was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompiledError {
    /// The bytes were written for another version of the indicator file.
    #[error("built from another version of the indicator file")]
    Stale,
    /// The bytes are not a compiled indicator set, or are damaged.
    #[error("damaged compiled indicator set: {0}")]
    Corrupt(String),
    /// Only a matcher over exactly one set has a compiled form.
    #[error("a compiled form holds exactly one indicator set, not {0}")]
    NotOneSet(usize),
}

fn corrupt(what: impl Into<String>) -> CompiledError {
    CompiledError::Corrupt(what.into())
}

/// The kinds a set uses, written once by their names (as in JSON); each term then names one by its index.
fn kinds_of(set: &IndicatorSet) -> Vec<ObservableKind> {
    let mut kinds = Vec::new();
    for t in set.indicators.iter().flat_map(|i| &i.terms) {
        if !kinds.contains(&t.kind) {
            kinds.push(t.kind);
        }
    }
    kinds
}

fn kind_name(k: ObservableKind) -> String {
    serde_json::to_string(&k).unwrap_or_default()
}

/// A checksum of the payload: four independent lanes of the fingerprint's mix, so it runs at memory speed.
fn checksum(b: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut lanes = [K, K ^ 1, K ^ 2, K ^ 3];
    let mut chunks = b.chunks_exact(32);
    for c in &mut chunks {
        for (lane, w) in lanes.iter_mut().zip(c.chunks_exact(8)) {
            let mut x = [0u8; 8];
            x.copy_from_slice(w);
            *lane = (*lane ^ u64::from_le_bytes(x))
                .wrapping_mul(K)
                .rotate_left(29);
        }
    }
    let mut tail = lanes
        .iter()
        .flat_map(|l| l.to_le_bytes())
        .collect::<Vec<u8>>();
    tail.extend_from_slice(chunks.remainder());
    fingerprint(&tail) ^ b.len() as u64
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: usize) {
        self.0.extend_from_slice(&(v as u32).to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn big_str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CompiledError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| corrupt(format!("truncated in {what}")))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, CompiledError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<usize, CompiledError> {
        let mut x = [0u8; 4];
        x.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(x) as usize)
    }
    fn u64(&mut self, what: &str) -> Result<u64, CompiledError> {
        let mut x = [0u8; 8];
        x.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_le_bytes(x))
    }
    fn usize64(&mut self, what: &str) -> Result<usize, CompiledError> {
        usize::try_from(self.u64(what)?).map_err(|_| corrupt(format!("{what}: too large")))
    }
    /// A count of items each at least `min_bytes` long, checked against what is left.
    fn count(&mut self, min_bytes: usize, what: &str) -> Result<usize, CompiledError> {
        let n = self.u32(what)?;
        if n.saturating_mul(min_bytes.max(1)) > self.b.len() - self.at {
            return Err(corrupt(format!("{what}: count {n} larger than the file")));
        }
        Ok(n)
    }
    fn str(&mut self, what: &str) -> Result<&'a str, CompiledError> {
        let n = self.u32(what)?;
        std::str::from_utf8(self.take(n, what)?).map_err(|_| corrupt(format!("{what}: not UTF-8")))
    }
    fn big_str(&mut self, what: &str) -> Result<&'a str, CompiledError> {
        let n = self.usize64(what)?;
        std::str::from_utf8(self.take(n, what)?).map_err(|_| corrupt(format!("{what}: not UTF-8")))
    }
}

/// The exact tables in the order they are written.
fn tables(m: &Matcher) -> [&Table; 12] {
    [
        &m.domains,
        &m.urls,
        &m.hashes,
        &m.cert_hashes,
        &m.file_names,
        &m.file_paths,
        &m.processes,
        &m.processes_truncated,
        &m.app_ids,
        &m.emails,
        &m.properties,
        &m.profiles,
    ]
}

fn tables_mut(m: &mut Matcher) -> [&mut Table; 12] {
    [
        &mut m.domains,
        &mut m.urls,
        &mut m.hashes,
        &mut m.cert_hashes,
        &mut m.file_names,
        &mut m.file_paths,
        &mut m.processes,
        &mut m.processes_truncated,
        &mut m.app_ids,
        &mut m.emails,
        &mut m.properties,
        &mut m.profiles,
    ]
}

fn write_table(w: &mut Writer, t: &Table) {
    w.big_str(&t.arena);
    w.u64(t.entries.len() as u64);
    for e in &t.entries {
        w.u64(e.start as u64);
        w.u64(e.end as u64);
        let ids = e.ids.as_slice();
        w.u32(ids.len());
        for id in ids {
            w.u32(id.index as usize);
        }
    }
    w.u64(t.slots.len() as u64);
    for s in &t.slots {
        w.u64(*s);
    }
}

fn read_table(
    r: &mut Reader<'_>,
    indicators: usize,
    name: &str,
    domain: bool,
) -> Result<Table, CompiledError> {
    let arena = r.big_str(name)?.to_string();
    let n = r.usize64(name)?;
    if n.saturating_mul(20) > r.b.len() - r.at {
        return Err(corrupt(format!("{name}: {n} entries larger than the file")));
    }
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let start = r.usize64(name)?;
        let end = r.usize64(name)?;
        if start > end
            || end > arena.len()
            || !arena.is_char_boundary(start)
            || !arena.is_char_boundary(end)
        {
            return Err(corrupt(format!("{name}: key outside the string arena")));
        }
        let k = r.u32(name)?;
        if k == 0 || k.saturating_mul(4) > r.b.len() - r.at {
            return Err(corrupt(format!("{name}: bad indicator list")));
        }
        let id = |r: &mut Reader<'_>| -> Result<IndicatorId, CompiledError> {
            let index = r.u32(name)?;
            if index >= indicators {
                return Err(corrupt(format!("{name}: indicator {index} out of range")));
            }
            Ok(IndicatorId {
                set: 0,
                index: index as u32,
            })
        };
        let ids = if k == 1 {
            super::Ids::One(id(r)?)
        } else {
            super::Ids::Many((0..k).map(|_| id(r)).collect::<Result<_, _>>()?)
        };
        entries.push(Entry { start, end, ids });
    }
    let slots_len = r.usize64(name)?;
    let raw = r.take(slots_len.saturating_mul(8), name)?;
    if slots_len != 0 && (!slots_len.is_power_of_two() || slots_len <= n) {
        return Err(corrupt(format!(
            "{name}: index of {slots_len} slots for {n} keys"
        )));
    }
    if slots_len == 0 && n != 0 {
        return Err(corrupt(format!("{name}: keys without an index")));
    }
    let mut slots = Vec::with_capacity(slots_len);
    let mut used = 0usize;
    for c in raw.chunks_exact(8) {
        let mut x = [0u8; 8];
        x.copy_from_slice(c);
        let s = u64::from_le_bytes(x);
        if s != 0 {
            let i = (s & !TAG) as usize;
            if i == 0 || i > n {
                return Err(corrupt(format!("{name}: slot names entry {i} of {n}")));
            }
            used += 1;
        }
        slots.push(s);
    }
    // Every entry has one slot and at least one slot is empty, so a probe ends.
    if used != n {
        return Err(corrupt(format!("{name}: {used} slots used for {n} keys")));
    }
    let mut t = Table {
        arena,
        entries,
        slots,
        filter: Vec::new(),
        domain,
    };
    t.rebuild_filter();
    Ok(t)
}

fn write_prefixes<T: Copy>(w: &mut Writer, p: &Prefixes<T>, key: impl Fn(&mut Writer, T)) {
    w.u32(p.by_len.len());
    for (prefix, map) in &p.by_len {
        w.u8(*prefix);
        w.u32(map.len());
        for (k, list) in map {
            key(w, *k);
            w.u32(list.len());
            for (id, v) in list {
                w.u32(id.index as usize);
                w.str(v);
            }
        }
    }
}

fn read_prefixes<T: Copy + Eq + std::hash::Hash>(
    r: &mut Reader<'_>,
    indicators: usize,
    max_prefix: u8,
    key: impl Fn(&mut Reader<'_>) -> Result<T, CompiledError>,
) -> Result<Prefixes<T>, CompiledError> {
    let what = "address table";
    let mut p = Prefixes { by_len: Vec::new() };
    let lens = r.count(5, what)?;
    for _ in 0..lens {
        let prefix = r.u8(what)?;
        if prefix > max_prefix || p.by_len.iter().any(|(x, _)| *x == prefix) {
            return Err(corrupt(format!("{what}: prefix length {prefix}")));
        }
        let n = r.count(8, what)?;
        let mut map: rustc_hash::FxHashMap<T, AddrHits> = Default::default();
        map.reserve(n);
        for _ in 0..n {
            let k = key(r)?;
            let m = r.count(8, what)?;
            let mut list = Vec::with_capacity(m);
            for _ in 0..m {
                let index = r.u32(what)?;
                if index >= indicators {
                    return Err(corrupt(format!("{what}: indicator {index} out of range")));
                }
                let id = IndicatorId {
                    set: 0,
                    index: index as u32,
                };
                list.push((id, r.str(what)?.into()));
            }
            map.insert(k, list);
        }
        p.by_len.push((prefix, map));
    }
    p.by_len.sort_by_key(|b| std::cmp::Reverse(b.0));
    Ok(p)
}

/// Checks the structure of indicator record `i` and steps over it; true when
/// it names a general pattern.
fn skip_record(
    r: &mut Reader<'_>,
    i: usize,
    lists: usize,
    kinds: usize,
) -> Result<bool, CompiledError> {
    let what = "indicator";
    let skip_str = |r: &mut Reader<'_>| -> Result<(), CompiledError> {
        let n = r.u32(what)?;
        r.take(n, what).map(|_| ())
    };
    skip_str(r)?;
    skip_str(r)?;
    if r.u32(what)? >= lists {
        return Err(corrupt(format!("indicator {i}: spyware list out of range")));
    }
    let general = match r.u8(what)? {
        0 => false,
        1 => {
            skip_str(r)?;
            true
        }
        b => return Err(corrupt(format!("indicator {i}: flag {b}"))),
    };
    let k = r.count(5, what)?;
    for _ in 0..k {
        if r.u8(what)? as usize >= kinds {
            return Err(corrupt(format!("indicator {i}: unknown kind")));
        }
        skip_str(r)?;
    }
    Ok(general)
}

/// The indicator records of a set read from its compiled form, decoded
/// [`CHUNK`] at a time when first asked for.
///
/// Their structure was checked when the form was read ([`skip_record`]), and
/// the form's checksum covers their bytes, so decoding does not fail on
/// anything but a crafted file whose strings are not UTF-8; such a record
/// is named as damaged instead of decoded, never a panic.
pub(crate) struct Records {
    /// The records, back to back, from `base` on.
    region: Vec<u8>,
    base: usize,
    /// Where each chunk's first record starts, then the region's length.
    starts: Vec<usize>,
    lists: Vec<Vec<Arc<str>>>,
    kinds: Vec<ObservableKind>,
    count: usize,
    chunks: Vec<OnceLock<Vec<Indicator>>>,
}

impl Records {
    /// Number of indicators.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Indicator `i` (decoding its chunk on first use).
    pub(crate) fn get(&self, i: usize) -> &Indicator {
        let c = i / CHUNK;
        &self.chunks[c].get_or_init(|| self.decode(c))[i % CHUNK]
    }

    /// Every indicator, decoded afresh.
    pub(crate) fn all(&self) -> Vec<Indicator> {
        let mut out = Vec::with_capacity(self.count);
        for c in 0..self.chunks.len() {
            match self.chunks[c].get() {
                Some(v) => out.extend_from_slice(v),
                None => out.extend(self.decode(c)),
            }
        }
        out
    }

    /// The distinct spyware names of the records, sorted (without decoding them).
    pub(crate) fn spyware(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lists.iter().flatten().map(|n| n.to_string()).collect();
        names.sort();
        names.dedup();
        names
    }

    fn decode(&self, c: usize) -> Vec<Indicator> {
        let mut r = Reader {
            b: &self.region[self.base.min(self.region.len())..],
            at: self.starts[c],
        };
        (c * CHUNK..((c + 1) * CHUNK).min(self.count))
            .map(|i| {
                self.record(&mut r, i).unwrap_or_else(|e| Indicator {
                    id: format!("damaged record {i}: {e}"),
                    pattern: String::new(),
                    spyware: Vec::new(),
                    terms: Vec::new(),
                    general: None,
                })
            })
            .collect()
    }

    /// Decodes record `i`.
    fn record(&self, r: &mut Reader<'_>, i: usize) -> Result<Indicator, CompiledError> {
        let what = "indicator";
        let id = r.str(what)?.to_string();
        let pattern = r.str(what)?.to_string();
        let spyware = self
            .lists
            .get(r.u32(what)?)
            .ok_or_else(|| corrupt(format!("indicator {i}: spyware list out of range")))?
            .clone();
        let general = match r.u8(what)? {
            0 => None,
            1 => Some(r.str(what)?.to_string()),
            b => return Err(corrupt(format!("indicator {i}: flag {b}"))),
        };
        let k = r.count(5, what)?;
        let mut terms = Vec::with_capacity(k);
        for _ in 0..k {
            let kind = *self
                .kinds
                .get(r.u8(what)? as usize)
                .ok_or_else(|| corrupt(format!("indicator {i}: unknown kind")))?;
            terms.push(Term {
                kind,
                value: r.str(what)?.to_string(),
            });
        }
        Ok(Indicator {
            id,
            pattern,
            spyware,
            terms,
            general,
        })
    }
}

/// Reads every table after the indicator records into `m`.
fn read_tables(r: &mut Reader<'_>, count: usize, m: &mut Matcher) -> Result<(), CompiledError> {
    let names = [
        "domain table",
        "URL table",
        "hash table",
        "certificate table",
        "file name table",
        "path table",
        "process table",
        "truncated process table",
        "app id table",
        "e-mail table",
        "property table",
        "profile table",
    ];
    for (t, name) in tables_mut(m).into_iter().zip(names) {
        let domain = t.domain;
        *t = read_table(r, count, name, domain)?;
    }
    m.v4 = read_prefixes(r, count, 32, |r| Ok(r.u32("IPv4 key")? as u32))?;
    m.v6 = read_prefixes(r, count, 128, |r| {
        let lo = r.u64("IPv6 key")? as u128;
        Ok(lo | (r.u64("IPv6 key")? as u128) << 64)
    })?;
    let n = r.count(8, "path lengths")?;
    for _ in 0..n {
        m.path_lens.push(r.usize64("path lengths")?);
    }
    m.domain_labels = (r.usize64("labels")?, r.usize64("labels")?);
    m.terms = r.usize64("terms")?;
    Ok(())
}

/// Wraps `payload` in a header that passes every check for `stamp`.
///
/// For fuzzing the payload reader, which a checksum would otherwise shield.
#[doc(hidden)]
pub fn seal_payload(payload: &[u8], stamp: SourceStamp) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for v in [stamp.size, stamp.modified_ns, stamp.sample] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&checksum(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

impl Matcher {
    /// The compiled form of this matcher, stamped with its indicator file's [`SourceStamp`].
    ///
    /// Only a matcher over exactly one set has one; [`Matcher::combine`]
    /// joins the matchers read back from several.
    pub fn to_compiled(&self, stamp: SourceStamp) -> Result<Vec<u8>, CompiledError> {
        let [set] = self.sets() else {
            return Err(CompiledError::NotOneSet(self.sets.len()));
        };
        let mut w = Writer(Vec::with_capacity(
            set.indicators.len() * 160 + tables(self).iter().map(|t| t.arena.len()).sum::<usize>(),
        ));
        w.u32(set.diagnostics.len());
        for d in &set.diagnostics {
            w.str(d);
        }
        // Distinct spyware lists, by the address of their first name (lists are interned when loaded).
        let mut lists: Vec<&[Arc<str>]> = Vec::new();
        let mut index: rustc_hash::FxHashMap<&[Arc<str>], usize> = Default::default();
        let mut list_of = Vec::with_capacity(set.indicators.len());
        let mut last: Option<(&[Arc<str>], usize)> = None;
        for ind in &set.indicators {
            let l = ind.spyware.as_slice();
            let i = match last {
                // Neighbours mostly share one interned list: compare pointers first.
                Some((p, i)) if std::ptr::eq(p, l) || p == l => i,
                _ => *index.entry(l).or_insert_with(|| {
                    lists.push(l);
                    lists.len() - 1
                }),
            };
            last = Some((l, i));
            list_of.push(i);
        }
        w.u32(lists.len());
        for l in &lists {
            w.u32(l.len());
            for n in l.iter() {
                w.str(n);
            }
        }
        let kinds = kinds_of(set);
        w.u32(kinds.len());
        for k in &kinds {
            w.str(&kind_name(*k));
        }
        w.u32(set.indicators.len());
        for (ind, l) in set.indicators.iter().zip(list_of) {
            w.str(&ind.id);
            w.str(&ind.pattern);
            w.u32(l);
            match &ind.general {
                Some(g) => {
                    w.u8(1);
                    w.str(g);
                }
                None => w.u8(0),
            }
            w.u32(ind.terms.len());
            for t in &ind.terms {
                w.u8(kinds.iter().position(|k| *k == t.kind).unwrap_or_default() as u8);
                w.str(&t.value);
            }
        }
        for t in tables(self) {
            write_table(&mut w, t);
        }
        write_prefixes(&mut w, &self.v4, |w, k| w.u32(k as usize));
        write_prefixes(&mut w, &self.v6, |w, k: u128| {
            w.u64(k as u64);
            w.u64((k >> 64) as u64);
        });
        w.u32(self.path_lens.len());
        for l in &self.path_lens {
            w.u64(*l as u64);
        }
        w.u64(self.domain_labels.0 as u64);
        w.u64(self.domain_labels.1 as u64);
        w.u64(self.terms as u64);
        Ok(seal_payload(&w.0, stamp))
    }

    /// Reads a matcher back from [`Matcher::to_compiled`]'s bytes.
    ///
    /// `stamp` is the indicator file as it is now: a form built from another
    /// version is [`CompiledError::Stale`]; damaged bytes are
    /// [`CompiledError::Corrupt`]. The set is named after `source`, the
    /// indicator file, as [`crate::load_file`] names it.
    pub fn from_compiled(
        bytes: &[u8],
        stamp: SourceStamp,
        source: &std::path::Path,
    ) -> Result<Matcher, CompiledError> {
        let (mut m, region) = Matcher::read_compiled(bytes, stamp, source)?;
        if let Some(Some(r)) = m.compiled.first_mut() {
            r.region = bytes[region].to_vec();
        }
        Ok(m)
    }

    /// [`Matcher::from_compiled`] keeping `bytes` for the indicator records
    /// instead of copying them (the tables after them are given back to the
    /// allocator).
    pub fn from_compiled_vec(
        mut bytes: Vec<u8>,
        stamp: SourceStamp,
        source: &std::path::Path,
    ) -> Result<Matcher, CompiledError> {
        let (mut m, region) = Matcher::read_compiled(&bytes, stamp, source)?;
        if let Some(Some(r)) = m.compiled.first_mut() {
            bytes.truncate(region.end);
            bytes.shrink_to_fit();
            r.region = bytes;
            r.base = region.start;
        }
        Ok(m)
    }

    /// Reads a compiled form, leaving the records' bytes (the range returned) to the caller.
    fn read_compiled(
        bytes: &[u8],
        stamp: SourceStamp,
        source: &std::path::Path,
    ) -> Result<(Matcher, std::ops::Range<usize>), CompiledError> {
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err(corrupt("not a compiled indicator set"));
        }
        let mut h = Reader { b: bytes, at: 8 };
        let version = h.u32("header")?;
        if version != VERSION as usize {
            return Err(CompiledError::Stale);
        }
        if h.u32("header")? != 0 {
            return Err(corrupt("unknown flags in the header"));
        }
        let found = SourceStamp {
            size: h.u64("header")?,
            modified_ns: h.u64("header")?,
            sample: h.u64("header")?,
        };
        if found != stamp {
            return Err(CompiledError::Stale);
        }
        let len = h.usize64("header")?;
        let sum = h.u64("header")?;
        let payload = &bytes[HEADER..];
        if payload.len() != len {
            return Err(corrupt(format!(
                "payload of {} bytes, header says {len}",
                payload.len()
            )));
        }
        if checksum(payload) != sum {
            return Err(corrupt("checksum mismatch"));
        }
        let mut r = Reader { b: payload, at: 0 };
        let mut set = IndicatorSet {
            name: crate::set_name(source),
            source: source.to_path_buf(),
            ..IndicatorSet::default()
        };
        let n = r.count(4, "diagnostics")?;
        for _ in 0..n {
            set.diagnostics.push(r.str("diagnostics")?.to_string());
        }
        let n = r.count(4, "spyware lists")?;
        let mut names: rustc_hash::FxHashMap<&str, Arc<str>> = Default::default();
        let mut lists: Vec<Vec<Arc<str>>> = Vec::with_capacity(n);
        for _ in 0..n {
            let k = r.count(4, "spyware lists")?;
            let mut l = Vec::with_capacity(k);
            for _ in 0..k {
                let s = r.str("spyware name")?;
                // One Arc per distinct name, as the loaders share them.
                l.push(names.entry(s).or_insert_with(|| Arc::from(s)).clone());
            }
            lists.push(l);
        }
        let n = r.count(4, "kinds")?;
        let mut kinds = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.str("kinds")?;
            let k: ObservableKind =
                serde_json::from_str(name).map_err(|_| corrupt(format!("unknown kind {name}")))?;
            kinds.push(k);
        }
        let count = r.count(14, "indicators")?;
        let lists_n = lists.len();
        let mut records = Records {
            region: Vec::new(),
            base: 0,
            starts: Vec::with_capacity(count.div_ceil(CHUNK) + 1),
            lists,
            kinds,
            count,
            chunks: Vec::new(),
        };
        // Every record's structure is checked now, without decoding it
        // (lengths, spyware list, kind and flag of each); its strings are
        // decoded when it is first asked for.
        let mut m = Matcher::default();
        let region_start = r.at;
        for i in 0..count {
            if i % CHUNK == 0 {
                records.starts.push(r.at - region_start);
            }
            let at = r.at;
            if skip_record(&mut r, i, lists_n, records.kinds.len())? {
                // General patterns are prepared now: the evaluator needs them at every check.
                let ind = records.record(&mut Reader { b: r.b, at }, i)?;
                m.add_general(
                    IndicatorId {
                        set: 0,
                        index: i as u32,
                    },
                    &ind.pattern,
                );
            }
        }
        let region = HEADER + region_start..HEADER + r.at;
        records.starts.push(r.at - region_start);
        records.chunks = (0..count.div_ceil(CHUNK))
            .map(|_| OnceLock::new())
            .collect();
        read_tables(&mut r, count, &mut m)?;
        if r.at != payload.len() {
            return Err(corrupt("bytes after the last table"));
        }
        m.sets = vec![set];
        m.compiled = vec![Some(Box::new(records))];
        Ok((m, region))
    }

    /// Joins matchers, each over its own sets, into one over all their sets in order.
    ///
    /// The largest matcher's tables are kept as they are (only the set
    /// numbers of its ids change); the others' indicators are added to them,
    /// so joining a compiled million-indicator set with a few small ones
    /// costs what the small ones cost. Matches what [`Matcher::new`] over
    /// all the sets gives.
    pub fn combine(mut parts: Vec<Matcher>) -> Matcher {
        if parts.len() <= 1 {
            return parts.pop().unwrap_or_default();
        }
        // Where each part's sets start in the joined list.
        let mut first = Vec::with_capacity(parts.len());
        let big = (0..parts.len())
            .max_by_key(|i| parts[*i].terms)
            .unwrap_or_default();
        let mut sets = Vec::new();
        // The largest part's compiled sets stay encoded; the others' indicators are added below.
        let mut records = Vec::new();
        for (i, p) in parts.iter_mut().enumerate() {
            first.push(sets.len() as u32);
            let mut compiled = std::mem::take(&mut p.compiled);
            compiled.resize_with(p.sets.len(), || None);
            if i != big {
                for (set, r) in p.sets.iter_mut().zip(&mut compiled) {
                    if let Some(r) = r.take() {
                        set.indicators = r.all();
                    }
                }
            }
            sets.append(&mut p.sets);
            records.append(&mut compiled);
        }
        let mut m = parts.swap_remove(big);
        m.relabel(first[big]);
        let big_sets = first[big]..first.get(big + 1).copied().unwrap_or(sets.len() as u32);
        for (s, set) in sets.iter().enumerate() {
            if !big_sets.contains(&(s as u32)) {
                m.add_set(s as u32, set, None);
            }
        }
        m.general.sort_unstable();
        m.general_patterns.sort_by_key(|(id, _)| *id);
        for t in tables_mut(&mut m) {
            for e in &mut t.entries {
                if let super::Ids::Many(v) = &mut e.ids {
                    v.sort_unstable();
                    v.dedup();
                }
            }
        }
        for (_, map) in m.v4.by_len.iter_mut() {
            map.values_mut().for_each(|l| l.sort_by_key(|x| x.0));
        }
        for (_, map) in m.v6.by_len.iter_mut() {
            map.values_mut().for_each(|l| l.sort_by_key(|x| x.0));
        }
        m.path_lens.sort_unstable();
        m.path_lens.dedup();
        m.sets = sets;
        m.compiled = records;
        m.decoded = OnceLock::new();
        m
    }

    /// Moves every id of this matcher to set `set + its own set number`.
    fn relabel(&mut self, set: u32) {
        if set == 0 {
            return;
        }
        let shift = |id: &mut IndicatorId| id.set += set;
        for t in tables_mut(self) {
            for e in &mut t.entries {
                match &mut e.ids {
                    super::Ids::One(id) => shift(id),
                    super::Ids::Many(v) => v.iter_mut().for_each(shift),
                }
            }
        }
        for (_, map) in self.v4.by_len.iter_mut() {
            map.values_mut()
                .for_each(|l| l.iter_mut().for_each(|(id, _)| shift(id)));
        }
        for (_, map) in self.v6.by_len.iter_mut() {
            map.values_mut()
                .for_each(|l| l.iter_mut().for_each(|(id, _)| shift(id)));
        }
        self.general.iter_mut().for_each(shift);
        self.general_patterns
            .iter_mut()
            .for_each(|(id, _)| shift(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Damage behind a valid checksum (as a crafted file would have): the
    /// structural checks alone keep the reader from panicking, and a table
    /// that is accepted still answers every lookup (no probe loops forever).
    #[test]
    fn damage_behind_a_valid_checksum_is_caught_by_the_structure_checks() {
        let text = "# spyware: Pegasus\nevil.com\nsub.bad.org\n10.0.0.0/8\n2001:db8::/32\n\
                    https://x.example/p\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n/private/var/x/\nx@evil.com\n";
        let set = crate::load_bytes(std::path::Path::new("t.txt"), text.as_bytes()).unwrap();
        let stamp = SourceStamp::default();
        let bytes = Matcher::new(vec![set]).to_compiled(stamp).unwrap();
        let src = std::path::Path::new("t.txt");
        let mut accepted = 0;
        for i in HEADER..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut payload = bytes[HEADER..].to_vec();
                payload[i - HEADER] ^= flip;
                let b = seal_payload(&payload, stamp);
                if let Ok(m) = Matcher::from_compiled(&b, stamp, src) {
                    accepted += 1;
                    for (k, v) in [
                        (ObservableKind::Domain, "a.evil.com"),
                        (ObservableKind::Url, "https://x.example/p"),
                        (ObservableKind::Ipv4, "10.1.2.3"),
                        (ObservableKind::Ipv6, "2001:db8::5"),
                        (ObservableKind::FilePath, "/private/var/x/y"),
                        (ObservableKind::Email, "x@evil.com"),
                    ] {
                        m.check(k, v, &mut |h| {
                            let _ = m.indicator(h.id);
                        });
                    }
                }
            }
        }
        // Flips inside strings (a letter of a name) are valid files; most others are not.
        assert!(accepted < (bytes.len() - HEADER) * 3 / 2, "{accepted}");
        let mut b = bytes.clone();
        b[HEADER - 8] ^= 1;
        assert_eq!(
            Matcher::from_compiled(&b, stamp, src).err(),
            Some(CompiledError::Corrupt("checksum mismatch".into()))
        );
    }
}
