//! Per-kind lookup tables built once from indicator sets.
//!
//! Every check is a handful of hash lookups whose number depends on the
//! observed value (its labels, its length, the distinct CIDR prefix lengths),
//! never on how many indicators are loaded.

use std::borrow::Cow;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use vigil_artefact::ObservableKind;

use crate::kinds::{normalise_url, parse_cidr, url_host};
use crate::{Indicator, IndicatorSet};

mod compiled;
mod domain;
pub use compiled::{seal_payload, CompiledError, SourceStamp};

/// Names one indicator inside a [`Matcher`]: its set and its position in that set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndicatorId {
    /// Index of the set in [`Matcher::sets`].
    pub set: u32,
    /// Index of the indicator in that set's `indicators`.
    pub index: u32,
}

/// How an observed value matched an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum How {
    /// The normalised values are equal.
    Exact,
    /// The indicator is a parent domain of the observed name (`a.b.evil.com` → `evil.com`).
    ParentDomain,
    /// The observed URL's host is (or is under) the indicated domain or address.
    UrlHost,
    /// The observed address lies in the indicated CIDR range.
    CidrRange,
    /// The observed path starts with the indicated path.
    PathPrefix,
    /// The observed path's last component is the indicated file name.
    FileNameOfPath,
    /// The observed process name has the 16 characters iOS keeps of the indicated name.
    TruncatedProcessName,
}

impl How {
    /// A few words for reports ("parent domain", "CIDR range" …).
    pub fn describe(self) -> &'static str {
        match self {
            How::Exact => "exact",
            How::ParentDomain => "parent domain",
            How::UrlHost => "URL host",
            How::CidrRange => "CIDR range",
            How::PathPrefix => "path prefix",
            How::FileNameOfPath => "file name of path",
            How::TruncatedProcessName => "truncated process name",
        }
    }
}

/// One indicator that an observed value matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit<'a> {
    /// The indicator.
    pub id: IndicatorId,
    /// The indicator's value that matched (normalised).
    pub value: &'a str,
    /// How it matched.
    pub how: How,
}

#[derive(Debug, Clone)]
enum Ids {
    One(IndicatorId),
    Many(Vec<IndicatorId>),
}

impl Ids {
    fn push(&mut self, id: IndicatorId) {
        match self {
            Ids::One(first) if *first == id => {}
            Ids::One(first) => *self = Ids::Many(vec![*first, id]),
            Ids::Many(v) if v.last() == Some(&id) => {}
            Ids::Many(v) => v.push(id),
        }
    }

    fn as_slice(&self) -> &[IndicatorId] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(v) => v,
        }
    }
}

/// Exact-string table: every key in one arena, found through a 64-bit
/// fingerprint in an open-addressing index (linear probing); a lookup hashes
/// the key once, asks a small filter whether the key can be present at all,
/// and only then probes from one slot and compares the bytes of any entry
/// whose fingerprint matches. A million keys cost a few allocations, not a
/// million.
#[derive(Debug, Default)]
struct Table {
    arena: String,
    entries: Vec<Entry>,
    /// 0: empty; else the fingerprint's high 32 bits, then the entry's index + 1.
    slots: Vec<u64>,
    /// A blocked Bloom filter over the slots' tags (three bits of one word per
    /// key, one word per 8 slots, so 16 to 32 bits per key and about one
    /// absent key in 200 passing; one per 16 for sets of over about two million
    /// keys, see [`FILTER_MAX_WORDS`]): a lookup of an absent key reads one word —
    /// two megabytes for a million keys, within the processor's cache —
    /// instead of the slot array, whose misses would cost more than the
    /// larger filter (one word per 16 slots let about 3% through). Always
    /// derived from `slots` (see [`Table::rebuild_filter`]).
    filter: Vec<u64>,
    /// Keys are domain names, hashed from the right as if lower-cased ([`domain::hash_lower`]).
    domain: bool,
}

#[derive(Debug)]
struct Entry {
    start: usize,
    end: usize,
    ids: Ids,
}

const TAG: u64 = 0xffff_ffff_0000_0000;
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// The splitmix64 finaliser.
fn finalise(mut h: u64) -> u64 {
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A 64-bit fingerprint of a key (the splitmix64 finaliser over 8-byte words).
pub(crate) fn fingerprint(b: &[u8]) -> u64 {
    let mut h = K ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    let mut t = [0u8; 8];
    t[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(t)).wrapping_mul(K);
    finalise(h)
}

/// Words of a filter at most, when one word per 16 slots is fewer: 4 MB.
/// Beyond that the filter's pages outgrow the processor's translation
/// cache, and a single lookup pays a page walk on top of its cache miss
/// (measured: 120 ns instead of 60 against 4,000,000 names).
const FILTER_MAX_WORDS: usize = 1 << 19;

/// The filter word and the three bits a tag sets in it.
#[inline]
fn filter_bits(tag: u64, words: usize) -> (usize, u64) {
    let g = (tag >> 32).wrapping_mul(K);
    let word = (g >> 40) as usize & (words - 1);
    let bits = 1u64 << (g & 63) | 1u64 << ((g >> 6) & 63) | 1u64 << ((g >> 12) & 63);
    (word, bits)
}

/// Starts fetching the filter word of a fingerprint into the cache, so
/// that a batch's filter reads find their words there (once a set's filter
/// outgrows the core's own cache, this is what keeps the cost of a lookup
/// from growing with the number of indicators).
#[inline(always)]
fn prefetch_filter_word(filter: &[u64], tag: u64) {
    #[cfg(target_arch = "x86_64")]
    if !filter.is_empty() {
        let (w, _) = filter_bits(tag, filter.len());
        safe_arch::prefetch_t0(&filter[w]);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (filter, tag);
}

/// A key's fingerprint in a table of domain names or of other keys.
fn hash_key(domain: bool, key: &[u8]) -> u64 {
    if domain {
        domain::hash_lower(key)
    } else {
        fingerprint(key)
    }
}

impl Table {
    /// An empty table of domain names.
    fn domains() -> Table {
        Table {
            domain: true,
            ..Table::default()
        }
    }

    fn hash(&self, key: &[u8]) -> u64 {
        hash_key(self.domain, key)
    }

    /// Room for `keys` more keys of `bytes` bytes in all, without growing.
    fn reserve(&mut self, keys: usize, bytes: usize) {
        self.arena.reserve(bytes);
        self.entries.reserve(keys);
        let want = ((self.entries.len() + keys) * 2)
            .next_power_of_two()
            .max(16);
        if want > self.slots.len() {
            self.rehash(want);
        }
    }

    fn rehash(&mut self, size: usize) {
        self.slots = vec![0; size];
        let mask = size - 1;
        for (i, e) in self.entries.iter().enumerate() {
            let fp = hash_key(self.domain, &self.arena.as_bytes()[e.start..e.end]);
            let mut at = fp as usize & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = (fp & TAG) | (i as u64 + 1);
        }
        self.rebuild_filter();
    }

    /// Sets the filter from the slots: one word per 8 slots (at least one),
    /// but no more than [`FILTER_MAX_WORDS`] unless that is under one word per 16 slots.
    fn rebuild_filter(&mut self) {
        let words = (self.slots.len() / 8)
            .min(FILTER_MAX_WORDS.max(self.slots.len() / 16))
            .max(1);
        let mut filter = vec![0u64; words];
        for s in &self.slots {
            if *s != 0 {
                let (w, bits) = filter_bits(*s, words);
                filter[w] |= bits;
            }
        }
        self.filter = filter;
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// False when no key with this fingerprint is in the table.
    #[inline]
    fn may_contain(&self, fp: u64) -> bool {
        if self.filter.is_empty() {
            return false;
        }
        let (w, bits) = filter_bits(fp, self.filter.len());
        self.filter[w] & bits == bits
    }

    /// The entry whose key `same` accepts, or the empty slot where it would go.
    #[inline]
    fn probe_by(&self, fp: u64, same: impl Fn(&[u8]) -> bool) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut at = fp as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return Err(at);
            }
            if slot & TAG == fp & TAG {
                let i = (slot as u32 - 1) as usize;
                let e = &self.entries[i];
                if same(&self.arena.as_bytes()[e.start..e.end]) {
                    return Ok(i);
                }
            }
            at = (at + 1) & mask;
        }
    }

    fn insert(&mut self, key: &str, id: IndicatorId) {
        self.insert_hashed(key, self.hash(key.as_bytes()), id);
    }

    fn insert_hashed(&mut self, key: &str, fp: u64, id: IndicatorId) {
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            self.rehash((self.slots.len() * 2).max(16));
        }
        match self.probe_by(fp, |k| k == key.as_bytes()) {
            Ok(i) => self.entries[i].ids.push(id),
            Err(at) => {
                let start = self.arena.len();
                self.arena.push_str(key);
                let slot = (fp & TAG) | (self.entries.len() as u64 + 1);
                self.slots[at] = slot;
                let (w, bits) = filter_bits(slot, self.filter.len());
                self.filter[w] |= bits;
                self.entries.push(Entry {
                    start,
                    end: self.arena.len(),
                    ids: Ids::One(id),
                });
            }
        }
    }

    /// Inserts many keys in the order of their home slots, so the index is
    /// written front to back instead of at a random place per key (the order
    /// of one key's indicators is kept). Each item carries its key's
    /// fingerprint as [`Table::hash`] gives it.
    fn insert_many(&mut self, mut items: Vec<(u64, IndicatorId, &str)>) {
        let bytes = items.iter().map(|i| i.2.len()).sum();
        self.reserve(items.len(), bytes);
        let mask = self.slots.len() as u64 - 1;
        items.sort_by_key(|i| i.0 & mask);
        for (fp, id, key) in items {
            self.insert_hashed(key, fp, id);
        }
    }

    /// The entry at `i`: its key and indicators.
    #[inline]
    fn entry(&self, i: usize) -> (&str, &[IndicatorId]) {
        let e = &self.entries[i];
        (&self.arena[e.start..e.end], e.ids.as_slice())
    }

    fn get(&self, key: &str) -> Option<(&str, &[IndicatorId])> {
        let fp = self.hash(key.as_bytes());
        if !self.may_contain(fp) {
            return None;
        }
        let i = self.probe_by(fp, |k| k == key.as_bytes()).ok()?;
        Some(self.entry(i))
    }

    /// The entry whose key equals `name` lower-cased (ASCII), given the
    /// name's fingerprint that already passed [`Table::may_contain`].
    #[inline]
    fn get_lowered(&self, name: &[u8], fp: u64) -> Option<(&str, &[IndicatorId])> {
        let same = |k: &[u8]| {
            k.len() == name.len()
                && k.iter()
                    .zip(name)
                    .all(|(k, n)| *k == n.to_ascii_lowercase())
        };
        let i = self.probe_by(fp, same).ok()?;
        Some(self.entry(i))
    }
}

/// Suffixes whose filter words [`Matcher::is_match_each`] reads together.
const PROBES: usize = 128;

/// Where `part`, a part of `whole`, starts in it, when it ends within
/// `u32::MAX` bytes (None otherwise).
fn offset_in(whole: &str, part: &[u8]) -> Option<usize> {
    let at = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = at.checked_add(part.len())?;
    (end <= whole.len() && u32::try_from(end).is_ok()).then_some(at)
}

/// A suffix of a value's name for a batched lookup.
#[derive(Clone, Copy, Default)]
struct Probe {
    /// The value's index.
    value: u32,
    /// Where the suffix starts and ends in the value.
    start: u32,
    end: u32,
    fp: u64,
}

/// How a batched lookup reads one value.
enum BatchName<'v> {
    /// No indicator can match it.
    No,
    /// Looked up on its own with [`Matcher::is_match`].
    One,
    /// A name (trimmed) whose suffixes are looked up in the domain table.
    Suffixes(&'v [u8]),
}

/// Indicators under one masked address, with their values as written.
type AddrHits = Vec<(IndicatorId, Box<str>)>;

/// Address tables, one per prefix length present, longest prefix first.
#[derive(Debug, Default)]
struct Prefixes<T> {
    by_len: Vec<(u8, FxHashMap<T, AddrHits>)>,
}

impl<T: Copy + Eq + std::hash::Hash> Prefixes<T> {
    fn insert(&mut self, prefix: u8, key: T, id: IndicatorId, value: &str) {
        let pos = match self.by_len.iter().position(|(p, _)| *p == prefix) {
            Some(p) => p,
            None => {
                self.by_len.push((prefix, FxHashMap::default()));
                self.by_len.sort_by_key(|b| std::cmp::Reverse(b.0));
                self.by_len
                    .iter()
                    .position(|(p, _)| *p == prefix)
                    .unwrap_or_default()
            }
        };
        let list = self.by_len[pos].1.entry(key).or_default();
        if !list.iter().any(|(i, _)| *i == id) {
            list.push((id, value.into()));
        }
    }
}

fn mask4(a: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        a & (u32::MAX << (32 - prefix as u32))
    }
}

fn mask6(a: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        a & (u128::MAX << (128 - prefix as u32))
    }
}

/// Per-kind matchers over a list of indicator sets, built once.
pub struct Matcher {
    /// The sets; one read from its compiled form has its indicators in `compiled` instead.
    sets: Vec<IndicatorSet>,
    /// Per set (or empty when none is): the records of a set read from its compiled form.
    compiled: Vec<Option<Box<compiled::Records>>>,
    /// The sets with every compiled set's records decoded, made when first asked for.
    decoded: std::sync::OnceLock<Vec<IndicatorSet>>,
    domains: Table,
    /// Fewest and most labels of any domain indicator: suffixes outside are not looked up.
    domain_labels: (usize, usize),
    urls: Table,
    v4: Prefixes<u32>,
    v6: Prefixes<u128>,
    hashes: Table,
    cert_hashes: Table,
    file_names: Table,
    file_paths: Table,
    /// Distinct lengths of path indicators, for prefix checks.
    path_lens: Vec<usize>,
    processes: Table,
    /// The first 16 characters of process indicators longer than that.
    processes_truncated: Table,
    app_ids: Table,
    emails: Table,
    properties: Table,
    profiles: Table,
    general: Vec<IndicatorId>,
    /// The general indicators' patterns, prepared for evaluation once.
    general_patterns: Vec<(IndicatorId, vigil_pattern::Evaluator)>,
    terms: usize,
}

impl Default for Matcher {
    fn default() -> Matcher {
        Matcher {
            sets: Vec::new(),
            compiled: Vec::new(),
            decoded: std::sync::OnceLock::new(),
            domains: Table::domains(),
            domain_labels: (usize::MAX, 0),
            urls: Table::default(),
            v4: Prefixes::default(),
            v6: Prefixes::default(),
            hashes: Table::default(),
            cert_hashes: Table::default(),
            file_names: Table::default(),
            file_paths: Table::default(),
            path_lens: Vec::new(),
            processes: Table::default(),
            processes_truncated: Table::default(),
            app_ids: Table::default(),
            emails: Table::default(),
            properties: Table::default(),
            profiles: Table::default(),
            general: Vec::new(),
            general_patterns: Vec::new(),
            terms: 0,
        }
    }
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("sets", &self.sets.len())
            .field("terms", &self.terms)
            .field("general", &self.general.len())
            .finish_non_exhaustive()
    }
}

/// The number of characters iOS keeps of a process name.
const IOS_PROCESS_NAME_CHARS: usize = 16;

impl Matcher {
    /// Builds the tables from these sets (the matcher keeps them, for reporting).
    pub fn new(sets: Vec<IndicatorSet>) -> Matcher {
        let mut m = Matcher::default();
        // Plain domains are gathered and inserted in one go (see `Table::insert_many`).
        let mut domains: Vec<(u64, IndicatorId, &str)> = Vec::new();
        for (s, set) in sets.iter().enumerate() {
            m.add_set(s as u32, set, Some(&mut domains));
        }
        m.domains.insert_many(domains);
        m.path_lens.sort_unstable();
        m.path_lens.dedup();
        m.sets = sets;
        m
    }

    /// Adds every indicator of `set` (number `s`); plain domains go to `batch` when given.
    fn add_set<'s>(
        &mut self,
        s: u32,
        set: &'s IndicatorSet,
        mut batch: Option<&mut Vec<(u64, IndicatorId, &'s str)>>,
    ) {
        for (i, ind) in set.indicators.iter().enumerate() {
            let id = IndicatorId {
                set: s,
                index: i as u32,
            };
            if ind.general.is_some() {
                self.add_general(id, &ind.pattern);
            }
            for t in &ind.terms {
                match batch.as_deref_mut() {
                    Some(b)
                        if t.kind == ObservableKind::Domain && parse_cidr(&t.value).is_none() =>
                    {
                        self.terms += 1;
                        self.saw_domain(&t.value);
                        b.push((domain::hash_lower(t.value.as_bytes()), id, &t.value));
                    }
                    _ => self.add(t.kind, &t.value, id),
                }
            }
        }
    }

    /// Lists an indicator for the general evaluator and prepares its pattern.
    fn add_general(&mut self, id: IndicatorId, pattern: &str) {
        self.general.push(id);
        // A pattern the evaluator cannot prepare (an impossible
        // literal) can never match; it stays listed in `general`.
        let prepared = vigil_pattern::parse(pattern)
            .ok()
            .and_then(|p| vigil_pattern::Evaluator::new(&p).ok());
        if let Some(e) = prepared {
            self.general_patterns.push((id, e));
        }
    }

    fn add(&mut self, kind: ObservableKind, value: &str, id: IndicatorId) {
        use ObservableKind as K;
        self.terms += 1;
        match kind {
            K::Domain => {
                if let Some((addr, prefix)) = parse_cidr(value) {
                    // Feeds put addresses in domain fields; match them as addresses.
                    self.add_ip(addr, prefix, value, id);
                    return;
                }
                self.saw_domain(value);
                self.domains.insert(value, id);
            }
            K::Url => self.urls.insert(value, id),
            K::Ipv4 | K::Ipv6 => {
                if let Some((addr, prefix)) = parse_cidr(value) {
                    self.add_ip(addr, prefix, value, id);
                }
            }
            K::FileHash => self.hashes.insert(value, id),
            K::AppCertHash => self.cert_hashes.insert(value, id),
            K::FileName => self.file_names.insert(value, id),
            K::FilePath => {
                // A trailing slash names a directory: everything under it matches.
                let p = value.trim_end_matches('/');
                let p = if p.is_empty() { value } else { p };
                self.path_lens.push(p.len());
                self.file_paths.insert(p, id);
            }
            K::ProcessName => {
                self.processes.insert(value, id);
                if value.chars().count() > IOS_PROCESS_NAME_CHARS {
                    let cut: String = value.chars().take(IOS_PROCESS_NAME_CHARS).collect();
                    self.processes_truncated.insert(&cut, id);
                }
            }
            K::AppId => self.app_ids.insert(value, id),
            K::Email => self.emails.insert(value, id),
            K::AndroidProperty => self.properties.insert(value, id),
            K::ConfigurationProfileId => self.profiles.insert(value, id),
        }
    }

    /// Widens the range of label counts domain lookups walk.
    fn saw_domain(&mut self, value: &str) {
        let labels = value.split('.').count();
        self.domain_labels.0 = self.domain_labels.0.min(labels);
        self.domain_labels.1 = self.domain_labels.1.max(labels);
    }

    fn add_ip(&mut self, addr: IpAddr, prefix: u8, value: &str, id: IndicatorId) {
        match addr {
            IpAddr::V4(a) => self.v4.insert(prefix, mask4(a.into(), prefix), id, value),
            IpAddr::V6(a) => self.v6.insert(prefix, mask6(a.into(), prefix), id, value),
        }
    }

    /// The sets this matcher was built from.
    ///
    /// A set read from its compiled form keeps its indicators encoded until
    /// they are needed; the first call decodes them all (for a million
    /// indicators, a few tenths of a second). [`Matcher::set_header`],
    /// [`Matcher::set_len`], [`Matcher::set_spyware`] and
    /// [`Matcher::indicator`] answer without that.
    pub fn sets(&self) -> &[IndicatorSet] {
        if self.compiled.iter().all(Option::is_none) {
            return &self.sets;
        }
        self.decoded.get_or_init(|| {
            self.sets
                .iter()
                .enumerate()
                .map(|(s, set)| match self.records(s) {
                    Some(r) => IndicatorSet {
                        indicators: r.all(),
                        ..set.clone()
                    },
                    None => set.clone(),
                })
                .collect()
        })
    }

    /// The compiled records of set `s`, if it was read from its compiled form.
    fn records(&self, s: usize) -> Option<&compiled::Records> {
        self.compiled.get(s).and_then(|r| r.as_deref())
    }

    /// Number of sets.
    pub fn set_count(&self) -> usize {
        self.sets.len()
    }

    /// Set `s`'s name, source and diagnostics, without decoding its indicators.
    ///
    /// For a set read from its compiled form, `indicators` is empty here: use
    /// [`Matcher::set_len`] and [`Matcher::indicator`], or [`Matcher::sets`].
    pub fn set_header(&self, s: usize) -> &IndicatorSet {
        &self.sets[s]
    }

    /// Number of indicators in set `s`.
    pub fn set_len(&self, s: usize) -> usize {
        match self.records(s) {
            Some(r) => r.len(),
            None => self.sets[s].indicators.len(),
        }
    }

    /// The distinct spyware names of set `s`, sorted (as [`IndicatorSet::spyware`]).
    pub fn set_spyware(&self, s: usize) -> Vec<String> {
        match self.records(s) {
            Some(r) => r.spyware(),
            None => self.sets[s].spyware(),
        }
    }

    /// The indicator with this id (a compiled set decodes only the few records around it).
    pub fn indicator(&self, id: IndicatorId) -> &Indicator {
        match self.records(id.set as usize) {
            Some(r) => r.get(id.index as usize),
            None => &self.sets[id.set as usize].indicators[id.index as usize],
        }
    }

    /// The set holding this indicator (see [`Matcher::sets`]; [`Matcher::set_header`] is cheaper).
    pub fn set(&self, id: IndicatorId) -> &IndicatorSet {
        &self.sets()[id.set as usize]
    }

    /// Number of indicators over all sets.
    pub fn len(&self) -> usize {
        (0..self.sets.len()).map(|s| self.set_len(s)).sum()
    }

    /// True when no indicator is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Indicators whose patterns need the general evaluator (not looked up by kind).
    pub fn general(&self) -> &[IndicatorId] {
        &self.general
    }

    /// Evaluates the general indicators against one record's observables.
    ///
    /// The record becomes one observed-data object (first and last observed at
    /// its timestamp) holding one SCO per observable, and every pattern that
    /// did not reduce to lookups is evaluated on it; `on_hit` gets each match.
    /// The cost grows with the number of general indicators (real feeds have
    /// none), which is why the lookups above exist.
    pub fn check_general(
        &self,
        observables: &[vigil_artefact::Observable],
        timestamp: Option<i64>,
        on_hit: &mut dyn FnMut(IndicatorId),
    ) {
        if self.general_patterns.is_empty() || observables.is_empty() {
            return;
        }
        let ts = timestamp.unwrap_or(0);
        let observed = [vigil_pattern::ObservedData {
            first_observed: ts,
            last_observed: ts,
            number_observed: 1,
            objects: crate::kinds::scos(observables),
        }];
        for (id, e) in &self.general_patterns {
            if e.matches(&observed).unwrap_or(false) {
                on_hit(*id);
            }
        }
    }

    /// True when `value`, read as `kind`, matches at least one indicator.
    pub fn is_match(&self, kind: ObservableKind, value: &str) -> bool {
        let mut hit = false;
        self.check_with(kind, value, &mut |_| hit = true);
        hit
    }

    /// Calls `on_hit` for every indicator that `value`, read as `kind`, matches.
    ///
    /// The same indicator may be reported more than once when it matches in
    /// several ways (a URL equal to a URL indicator whose host is also listed).
    pub fn check<'a>(&'a self, kind: ObservableKind, value: &str, on_hit: &mut dyn FnMut(Hit<'a>)) {
        self.check_with(kind, value, on_hit);
    }

    /// [`Matcher::check`] for any callback, so [`Matcher::is_match`] calls its own directly.
    fn check_with<'a, F>(&'a self, kind: ObservableKind, value: &str, on_hit: &mut F)
    where
        F: FnMut(Hit<'a>) + ?Sized,
    {
        use ObservableKind as K;
        if value.is_empty() || self.terms == 0 {
            return;
        }
        match kind {
            K::Domain => self.check_domain(value, How::Exact, on_hit),
            K::Url => self.check_url(value, on_hit),
            K::Ipv4 | K::Ipv6 => self.check_ip(value, How::Exact, on_hit),
            K::FileHash => exact(&self.hashes, &lower(value.trim()), on_hit),
            K::AppCertHash => {
                let v = lower(value.trim());
                let v = if v.contains(':') {
                    Cow::Owned(v.replace(':', ""))
                } else {
                    v
                };
                exact(&self.cert_hashes, &v, on_hit)
            }
            K::FileName => exact(&self.file_names, value, on_hit),
            K::FilePath => self.check_path(value, on_hit),
            K::ProcessName => self.check_process(value, on_hit),
            K::AppId => exact(&self.app_ids, &lower(value.trim()), on_hit),
            K::Email => exact(&self.emails, &lower(value.trim()), on_hit),
            K::AndroidProperty => exact(&self.properties, &lower(value.trim()), on_hit),
            K::ConfigurationProfileId => exact(&self.profiles, &lower(value.trim()), on_hit),
        }
    }

    /// Looks up the observed name and each of its parent domains whose
    /// number of labels some indicator has, longest first.
    ///
    /// The suffixes are hashed in one pass from the right (ASCII capitals as
    /// lower case, so nothing is copied, see [`domain::suffixes`]), and each
    /// is first checked against the table's filter; only those that pass are
    /// probed.
    fn check_domain<'a, F>(&'a self, raw: &str, exact_how: How, on_hit: &mut F)
    where
        F: FnMut(Hit<'a>) + ?Sized,
    {
        let trimmed = domain::trim_name(raw);
        let name = trimmed.as_bytes();
        let Some(last) = name.last() else {
            return;
        };
        if last.is_ascii_digit() || domain::has_colon(name) {
            if let Ok(addr) = trimmed.parse::<IpAddr>() {
                self.check_addr(addr, exact_how, on_hit);
                return;
            }
        }
        if self.domains.is_empty() {
            return;
        }
        // Suffixes that passed the filter, shortest first: (start, fingerprint).
        let mut found = [(0usize, 0u64); 8];
        let mut n = 0;
        let mut more: Vec<(usize, u64)> = Vec::new();
        domain::suffixes(name, self.domain_labels, &mut |start, fp| {
            if self.domains.may_contain(fp) {
                if n < found.len() {
                    found[n] = (start, fp);
                    n += 1;
                } else {
                    more.push((start, fp));
                }
            }
        });
        for &(start, fp) in more.iter().rev().chain(found[..n].iter().rev()) {
            if let Some((key, ids)) = self.domains.get_lowered(&name[start..], fp) {
                let how = if start == 0 {
                    exact_how
                } else {
                    How::ParentDomain
                };
                emit(key, ids, how, on_hit);
            }
        }
    }

    /// How [`Matcher::is_match_each`] reads a value.
    fn batch_name<'v>(&self, kind: ObservableKind, value: &'v str) -> BatchName<'v> {
        use ObservableKind as K;
        let name = match kind {
            K::Domain => value,
            // Without URL indicators only the host can match.
            K::Url if self.urls.is_empty() => match url_host(value) {
                Some(host) => host,
                None => return BatchName::No,
            },
            _ => return BatchName::One,
        };
        if value.is_empty() || self.terms == 0 {
            return BatchName::No;
        }
        let trimmed = domain::trim_name(name).as_bytes();
        match trimmed.last() {
            None => BatchName::No,
            // Maybe an address: looked up on its own.
            Some(c) if c.is_ascii_digit() || domain::has_colon(trimmed) => BatchName::One,
            _ if self.domains.is_empty() => BatchName::No,
            _ => BatchName::Suffixes(trimmed),
        }
    }

    /// Sets `matched[i]` to [`Matcher::is_match`] of `values[i]` (the slices
    /// have the same length), checking many values at once.
    ///
    /// Domain names (and URL hosts, when no URL is listed) are hashed first,
    /// all their suffixes at once; then the filter words of all those
    /// suffixes are read in one loop of independent loads, so that their
    /// cache misses overlap instead of following one another; only the few
    /// suffixes that pass the filter are probed. Other values are looked up
    /// one by one.
    pub fn is_match_each(&self, values: &[(ObservableKind, &str)], matched: &mut [bool]) {
        let mut probes = [Probe::default(); PROBES];
        let mut n = 0;
        for i in 0..values.len().min(matched.len()) {
            let (kind, value) = values[i];
            matched[i] = false;
            match self.batch_name(kind, value) {
                BatchName::No => {}
                BatchName::One => matched[i] = self.is_match(kind, value),
                BatchName::Suffixes(name) => {
                    // The name is part of the value (trimmed, or a URL's host): where it is in it.
                    let Some(at) = offset_in(value, name) else {
                        matched[i] = self.is_match(kind, value);
                        continue;
                    };
                    let end = at + name.len();
                    domain::suffixes(name, self.domain_labels, &mut |start, fp| {
                        if n == PROBES {
                            self.probe_suffixes(&probes, values, matched);
                            n = 0;
                        }
                        // The filter word is fetched while the next names are hashed.
                        prefetch_filter_word(&self.domains.filter, fp);
                        probes[n] = Probe {
                            value: i as u32,
                            start: (at + start) as u32,
                            end: end as u32,
                            fp,
                        };
                        n += 1;
                    });
                }
            }
        }
        self.probe_suffixes(&probes[..n], values, matched);
    }

    /// Sets `matched` for the values whose suffixes in `probes` are listed
    /// domains: the filter words of all the suffixes first, then the slots
    /// of the few that pass.
    fn probe_suffixes(
        &self,
        probes: &[Probe],
        values: &[(ObservableKind, &str)],
        matched: &mut [bool],
    ) {
        let filter = &self.domains.filter;
        if probes.is_empty() || filter.is_empty() {
            return;
        }
        // Each load's address depends only on its fingerprint, never on an
        // earlier load, so the processor has many of them in flight at once.
        let mut passed = [false; PROBES];
        for (p, pass) in probes.iter().zip(passed.iter_mut()) {
            let (w, bits) = filter_bits(p.fp, filter.len());
            *pass = filter[w] & bits == bits;
        }
        for (p, _) in probes.iter().zip(passed).filter(|(_, p)| *p) {
            let i = p.value as usize;
            if matched[i] {
                continue;
            }
            // The suffix as placed in its value, not found again by re-reading the value.
            let suffix = &values[i].1.as_bytes()[p.start as usize..p.end as usize];
            matched[i] = self.domains.get_lowered(suffix, p.fp).is_some();
        }
    }

    /// False when no indicator can match a value of `kind`, so a reader
    /// need not look for such values at all.
    ///
    /// A URL can match by itself or by its host (a name or an address), a
    /// name also as an address written as a name; with patterns for the
    /// general evaluator every kind can.
    pub fn can_match(&self, kind: ObservableKind) -> bool {
        use ObservableKind as K;
        if !self.general.is_empty() {
            return true;
        }
        let addresses = !self.v4.by_len.is_empty() || !self.v6.by_len.is_empty();
        let names = !self.domains.is_empty() || addresses;
        match kind {
            K::Domain => names,
            K::Url => names || !self.urls.is_empty(),
            K::Ipv4 | K::Ipv6 => addresses,
            K::FileHash => !self.hashes.is_empty(),
            K::AppCertHash => !self.cert_hashes.is_empty(),
            K::FileName => !self.file_names.is_empty(),
            K::FilePath => !self.file_names.is_empty() || !self.file_paths.is_empty(),
            K::ProcessName => !self.processes.is_empty() || !self.processes_truncated.is_empty(),
            K::AppId => !self.app_ids.is_empty(),
            K::Email => !self.emails.is_empty(),
            K::AndroidProperty => !self.properties.is_empty(),
            K::ConfigurationProfileId => !self.profiles.is_empty(),
        }
    }

    fn check_url<'a, F>(&'a self, raw: &str, on_hit: &mut F)
    where
        F: FnMut(Hit<'a>) + ?Sized,
    {
        if !self.urls.is_empty() {
            if let Some(n) = normalise_url(raw) {
                exact(&self.urls, &n, on_hit);
            }
        }
        if let Some(host) = url_host(raw) {
            self.check_domain(host, How::UrlHost, on_hit);
        }
    }

    fn check_ip<'a, F>(&'a self, raw: &str, how: How, on_hit: &mut F)
    where
        F: FnMut(Hit<'a>) + ?Sized,
    {
        let raw = raw.trim().trim_start_matches('[').trim_end_matches(']');
        if let Ok(addr) = raw.parse::<IpAddr>() {
            self.check_addr(addr, how, on_hit);
        }
    }

    fn check_addr<'a, F>(&'a self, addr: IpAddr, exact_how: How, on_hit: &mut F)
    where
        F: FnMut(Hit<'a>) + ?Sized,
    {
        let mut emit = |prefix: u8, max: u8, list: &'a [(IndicatorId, Box<str>)]| {
            let how = if prefix == max || exact_how == How::UrlHost {
                exact_how
            } else {
                How::CidrRange
            };
            for (id, v) in list {
                on_hit(Hit {
                    id: *id,
                    value: v,
                    how,
                });
            }
        };
        match addr {
            IpAddr::V4(a) => {
                let a: u32 = a.into();
                for (prefix, map) in &self.v4.by_len {
                    if let Some(list) = map.get(&mask4(a, *prefix)) {
                        emit(*prefix, 32, list);
                    }
                }
            }
            IpAddr::V6(a) => {
                // IPv4-mapped addresses (::ffff:a.b.c.d) are checked as IPv4.
                if let Some(v4) = a.to_ipv4_mapped() {
                    return self.check_addr(IpAddr::V4(v4), exact_how, on_hit);
                }
                let a: u128 = a.into();
                for (prefix, map) in &self.v6.by_len {
                    if let Some(list) = map.get(&mask6(a, *prefix)) {
                        emit(*prefix, 128, list);
                    }
                }
            }
        }
    }

    fn check_path<'a, F>(&'a self, path: &str, on_hit: &mut F)
    where
        F: FnMut(Hit<'a>) + ?Sized,
    {
        let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if !base.is_empty() {
            if let Some((key, ids)) = self.file_names.get(base) {
                emit(key, ids, How::FileNameOfPath, on_hit);
            }
        }
        for &len in &self.path_lens {
            if len > path.len() {
                break;
            }
            if !path.is_char_boundary(len) {
                continue;
            }
            if let Some((key, ids)) = self.file_paths.get(&path[..len]) {
                let how = if len == path.trim_end_matches('/').len() {
                    How::Exact
                } else {
                    How::PathPrefix
                };
                emit(key, ids, how, on_hit);
            }
        }
    }

    fn check_process<'a, F>(&'a self, raw: &str, on_hit: &mut F)
    where
        F: FnMut(Hit<'a>) + ?Sized,
    {
        let name = raw.rsplit('/').next().unwrap_or(raw);
        exact(&self.processes, name, on_hit);
        if name.chars().count() == IOS_PROCESS_NAME_CHARS {
            if let Some((key, ids)) = self.processes_truncated.get(name) {
                emit(key, ids, How::TruncatedProcessName, on_hit);
            }
        }
    }
}

fn exact<'a, F: FnMut(Hit<'a>) + ?Sized>(table: &'a Table, key: &str, on_hit: &mut F) {
    if let Some((k, ids)) = table.get(key) {
        emit(k, ids, How::Exact, on_hit);
    }
}

fn emit<'a, F: FnMut(Hit<'a>) + ?Sized>(
    value: &'a str,
    ids: &[IndicatorId],
    how: How,
    on_hit: &mut F,
) {
    for id in ids {
        on_hit(Hit {
            id: *id,
            value,
            how,
        });
    }
}

/// Lower-cases ASCII, borrowing when there is nothing to change.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_listed_twice_keeps_both_indicators_once_each() {
        let id = |index| IndicatorId { set: 0, index };
        let mut t = Table::default();
        t.reserve(3, 32);
        t.insert("evil.com", id(0));
        t.insert("other.org", id(1));
        t.insert("evil.com", id(2));
        t.insert("evil.com", id(2));
        assert_eq!(t.get("evil.com"), Some(("evil.com", &[id(0), id(2)][..])));
        assert_eq!(t.get("other.org"), Some(("other.org", &[id(1)][..])));
        assert_eq!(t.get("evil.co"), None);
        assert_eq!(t.entries.len(), 2);
        // Grown from empty one key at a time, and filled in bulk: the same answers.
        let mut grown = Table::default();
        let keys: Vec<String> = (0..5000).map(|i| format!("h{i}.example")).collect();
        let mut bulk = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            grown.insert(k, id(i as u32));
            bulk.push((fingerprint(k.as_bytes()), id(i as u32), k.as_str()));
        }
        bulk.push((fingerprint(b"h7.example"), id(9999), "h7.example"));
        let mut many = Table::default();
        many.insert_many(bulk);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(grown.get(k), Some((k.as_str(), &[id(i as u32)][..])));
            let want: &[IndicatorId] = if i == 7 {
                &[id(7), id(9999)]
            } else {
                &[id(i as u32)]
            };
            assert_eq!(many.get(k), Some((k.as_str(), want)));
        }
        assert_eq!(many.get("h5000.example"), None);
        assert_eq!(Table::default().get("x"), None);
    }

    #[test]
    fn the_filter_never_hides_a_key_and_what_it_lets_through_is_compared_exactly() {
        let id = |index| IndicatorId { set: 0, index };
        let mut t = Table::domains();
        let keys: Vec<String> = (0..20_000).map(|i| format!("n{i}.example")).collect();
        t.insert_many(
            keys.iter()
                .enumerate()
                .map(|(i, k)| (domain::hash_lower(k.as_bytes()), id(i as u32), k.as_str()))
                .collect(),
        );
        for (i, k) in keys.iter().enumerate() {
            let fp = domain::hash_lower(k.as_bytes());
            assert!(t.may_contain(fp), "{k}");
            let upper = k.to_ascii_uppercase();
            assert_eq!(
                t.get_lowered(upper.as_bytes(), fp),
                Some((k.as_str(), &[id(i as u32)][..]))
            );
        }
        // Absent names: the filter lets a few through, the probe rejects them all.
        let mut passed = 0;
        for i in 0..100_000 {
            let k = format!("m{i}.example");
            let fp = domain::hash_lower(k.as_bytes());
            if t.may_contain(fp) {
                passed += 1;
                assert_eq!(t.get_lowered(k.as_bytes(), fp), None);
            }
        }
        assert!(
            passed < 10_000,
            "{passed} of 100000 absent names passed the filter"
        );
        // The filter is a function of the slots: rebuilt, it is the same.
        let before = t.filter.clone();
        t.rebuild_filter();
        assert_eq!(t.filter, before);
    }
}
