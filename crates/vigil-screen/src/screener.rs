//! The screening engine: a name index for candidate retrieval and a scorer
//! that aligns name parts and weighs dates, countries, identifiers and legal
//! forms, explaining each step.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::entity::{hex, normalise_identifier, Entity, Relation};
use crate::ownership::{OwnershipGraph, OwnershipPath};
use crate::text::{normalise, osa_distance, LegalForm, NameKind, Token};
use crate::variants;

/// The score at or above which a candidate is reported as a match.
pub const DEFAULT_THRESHOLD: f32 = 0.76;
/// How many candidates retrieval hands to the scorer.
pub const CANDIDATES: usize = 50;
/// Most names of one query that are screened.
const MAX_QUERY_NAMES: usize = 16;
/// Most parts of one query name used for retrieval.
const MAX_QUERY_TOKENS: usize = 24;

/// A party to screen: the names and facts an officer knows about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// `Person`, `Company`, `Organization` or `LegalEntity` (unknown).
    #[serde(default = "legal_entity")]
    pub schema: String,
    /// Names to screen (at least one).
    pub names: Vec<String>,
    /// Countries (nationality, jurisdiction, address), ISO alpha-2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// Birth or incorporation dates (`1961`, `1961-05-01`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub birth_dates: Vec<String>,
    /// Registration numbers and other identifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<String>,
}

fn legal_entity() -> String {
    "LegalEntity".into()
}

impl Query {
    /// A query for one name of unknown kind.
    pub fn name(name: &str) -> Query {
        Query {
            schema: legal_entity(),
            names: vec![name.to_string()],
            ..Query::default()
        }
    }

    /// A stable key of the query's facts, used to find earlier decisions.
    pub fn key(&self) -> String {
        let mut names: Vec<String> = self
            .names
            .iter()
            .map(|n| {
                let mut t: Vec<String> = normalise(n, NameKind::Any)
                    .tokens
                    .into_iter()
                    .map(|t| t.text)
                    .collect();
                t.sort();
                t.join(" ")
            })
            .collect();
        names.sort();
        let mut facts = self.countries.clone();
        facts.extend(self.birth_dates.iter().cloned());
        facts.extend(self.identifiers.iter().map(|i| normalise_identifier(i)));
        facts.sort();
        let text = format!("{}|{}|{}", self.schema, names.join(";"), facts.join(";"));
        hex(&Sha256::digest(text.as_bytes())[..12])
    }
}

/// One aligned pair of name parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartMatch {
    /// The query's part (several parts joined when they were split).
    pub query: String,
    /// The listed name's part.
    pub candidate: String,
    /// How they were compared: `exact`, `variant` (equal once spelling
    /// variants are folded), `edit`, `skeleton`, `known_variant` (listed
    /// variants of one name, "Kostas" / "Konstantinos"), `other_gender`
    /// ("Kiselyova" / "Kiselyov") or `patronymic` ("Grigoryeva" /
    /// "Grigoryevna").
    pub method: String,
    /// Edit operations between the folded spellings.
    pub edits: usize,
    /// Length of the longer spelling.
    pub length: usize,
    /// Credit given, 0–1.
    pub similarity: f32,
    /// Distinctiveness of the part in the list, 0–1.
    pub weight: f32,
}

/// A factor applied to the name score, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// `legal_form`, `country`, `birth_date`, `identifier`.
    pub name: String,
    /// Multiplier applied (1.0 = neutral); identifiers may raise the score.
    pub factor: f32,
    /// Human-readable reason ("country GR = GR").
    pub detail: String,
}

/// Why a candidate scored what it scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Explanation {
    /// The query name that aligned best.
    pub query_name: String,
    /// The listed name it aligned with.
    pub candidate_name: String,
    /// Score of the name alignment alone.
    pub name_score: f32,
    /// Aligned parts.
    pub parts: Vec<PartMatch>,
    /// Query parts without a counterpart.
    pub unmatched_query: Vec<String>,
    /// Listed parts without a counterpart.
    pub unmatched_candidate: Vec<String>,
    /// Other features and their effect.
    pub features: Vec<Feature>,
    /// Other list entries raised in the same alert: they score alike on
    /// the name and on every fact the query gives, so nothing in the query
    /// tells them apart (homonyms an officer reviews together).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tied: Vec<Related>,
    /// Entries that reached the threshold but are not raised: a fact of the
    /// query contradicts them while this entry agrees with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<Related>,
}

/// Another list entry named in an alert's explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Related {
    /// The entry's id.
    pub entity_id: String,
    /// Its display name.
    pub caption: String,
    /// Its score against the query.
    pub score: f32,
    /// Why it is named ("birth year 1962 ≠ 1985").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "name {:.2} ('{}' ~ '{}')",
            self.name_score, self.query_name, self.candidate_name
        )?;
        for p in &self.parts {
            match p.method.as_str() {
                "exact" => write!(f, "; '{}' = '{}'", p.query, p.candidate)?,
                "variant" => write!(
                    f,
                    "; '{}' ≈ '{}' spelling variant, edit {} of {}",
                    p.query, p.candidate, p.edits, p.length
                )?,
                "skeleton" => write!(f, "; '{}' ≈ '{}' same consonants", p.query, p.candidate)?,
                "known_variant" => {
                    write!(f, "; '{}' ≈ '{}' known name variant", p.query, p.candidate)?
                }
                "other_gender" => write!(
                    f,
                    "; '{}' ~ '{}' other gender's form of the name",
                    p.query, p.candidate
                )?,
                "patronymic" => write!(
                    f,
                    "; '{}' ~ '{}' patronymic against family name",
                    p.query, p.candidate
                )?,
                _ => write!(
                    f,
                    "; '{}' ≈ '{}' edit {} of {}",
                    p.query, p.candidate, p.edits, p.length
                )?,
            }
        }
        if !self.unmatched_query.is_empty() {
            write!(f, "; extra in query: {}", self.unmatched_query.join(" "))?;
        }
        if !self.unmatched_candidate.is_empty() {
            write!(f, "; not in query: {}", self.unmatched_candidate.join(" "))?;
        }
        for feat in &self.features {
            write!(f, "; {}", feat.detail)?;
        }
        if !self.tied.is_empty() {
            let ids: Vec<String> = self
                .tied
                .iter()
                .map(|r| format!("{} [{}]", r.caption, r.entity_id))
                .collect();
            write!(
                f,
                "; raised together with {} more {} alike on the name and every fact given: {}",
                self.tied.len(),
                if self.tied.len() == 1 {
                    "entry"
                } else {
                    "entries"
                },
                ids.join(", ")
            )?;
        }
        for r in &self.set_aside {
            write!(
                f,
                "; not raised: {} [{}] {:.2}, {}",
                r.caption, r.entity_id, r.score, r.detail
            )?;
        }
        Ok(())
    }
}

/// A listed party the query matched (or nearly matched).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The listed entity's id.
    pub entity_id: String,
    /// Its display name.
    pub caption: String,
    /// Its schema.
    pub schema: String,
    /// Overall score, 0–1.
    pub score: f32,
    /// True when `score` reached the threshold asked for.
    pub matched: bool,
    /// Why.
    pub explanation: Explanation,
    /// When the matched party is not listed itself but owned or controlled
    /// by a listed one: the chains of ownership leading to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ownership: Vec<OwnershipPath>,
    /// Listed-name part ranges of the explanation's parts, to show their
    /// spelling once the match is reported.
    #[serde(skip)]
    spans: Vec<(usize, usize)>,
    /// `score` raised by corroborating facts (same birth date, country,
    /// identifier); orders candidates and decides which are near the best.
    #[serde(skip)]
    rank: f32,
    /// How the query's facts stand against the entry's.
    #[serde(skip)]
    evidence: Evidence,
}

/// How one fact of the query stands against a listed entry's: ordered
/// from contradiction to agreement, with absence (on either side) between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Fact {
    Conflict,
    #[default]
    Absent,
    Agree,
}

/// The query's birth date, country and identifier against an entry's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Evidence {
    facts: [Fact; 3],
}

impl Evidence {
    /// Whether `other` explains the query's facts strictly better than
    /// `self`: it agrees with at least one fact, is contradicted nowhere
    /// `self` is not, and is not contradicted where `self` is. Absence is
    /// not contradiction: an entry without a birth date is not outweighed
    /// by one whose birth date agrees.
    fn outweighed_by(&self, other: &Evidence) -> bool {
        let (a, b) = (&self.facts, &other.facts);
        b.contains(&Fact::Agree)
            && a.iter().zip(b).all(|(x, y)| y >= x)
            && a.iter()
                .zip(b)
                .any(|(x, y)| *x == Fact::Conflict && *y > Fact::Conflict)
    }
}

/// One alert of a query: the entry raised (an index into the candidates
/// handed to [`Screener::alerts`]), the entries raised with it because
/// nothing in the query tells them apart, and the entries set aside
/// because a fact of the query contradicts them and not this one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alert {
    /// Index of the entry shown first.
    pub index: usize,
    /// Indices of entries alike on the name and every fact given.
    pub tied: Vec<usize>,
    /// Indices of entries at or above the threshold outweighed by this one.
    pub set_aside: Vec<usize>,
}

impl Alert {
    /// Indices of every entry raised by this alert.
    pub fn entries(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.index).chain(self.tied.iter().copied())
    }
}

impl Match {
    /// The score raised by corroborating facts, used to order candidates:
    /// of two equally named entries, the one whose birth date agrees with
    /// the query's ranks first.
    pub fn rank(&self) -> f32 {
        self.rank
    }
}

/// Tunable weights of the scorer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Penalty weight for listed name parts missing from the query.
    pub missing_candidate_part: f32,
    /// Penalty weight for query name parts missing from the listed name.
    pub extra_query_part: f32,
    /// Factor when both sides give birth years more than one year apart.
    pub birth_year_mismatch: f32,
    /// Factor when countries are given on both sides and none is shared,
    /// and no birth date or identifier corroborates the match.
    pub country_mismatch: f32,
    /// Factor for a person's country mismatch when the query gives no
    /// birth date to check instead.
    pub country_mismatch_person: f32,
    /// Factor for a country mismatch when the birth year agrees.
    pub country_mismatch_same_year: f32,
    /// Factor for a country mismatch when the full birth date or an
    /// identifier agrees.
    pub country_mismatch_corroborated: f32,
    /// Share of the missing name credit restored when the full birth date
    /// agrees (a typo in a name with the right birth date).
    pub birth_date_credit: f32,
    /// Penalty weight for unmatched parts when both sides have some.
    pub conflict_part: f32,
    /// Credit lost per edit, relative to the part's length.
    pub edit_cost: f32,
    /// Candidates more than this below the best candidate do not alert.
    pub margin: f32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            missing_candidate_part: 0.3,
            extra_query_part: 0.45,
            birth_year_mismatch: 0.55,
            country_mismatch: 0.75,
            country_mismatch_person: 0.88,
            country_mismatch_same_year: 0.9,
            country_mismatch_corroborated: 0.97,
            birth_date_credit: 0.4,
            conflict_part: 0.9,
            edit_cost: 1.5,
            margin: 0.05,
        }
    }
}

struct VocabToken {
    token: Token,
    df: u32,
}

struct IndexedName {
    tokens: Box<[u32]>,
    forms: Vec<LegalForm>,
    /// Index into the entity's `all_names()`.
    source: u16,
}

struct Indexed {
    entity: Entity,
    names: Vec<IndexedName>,
    ids: Vec<String>,
    alive: bool,
}

#[derive(Default)]
struct Scratch {
    score: Vec<f32>,
    stamp: Vec<u32>,
    touched: Vec<u32>,
    generation: u32,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A compiled screening list: the entities, a name index and the ownership
/// graph. Build it once, query it from many threads.
pub struct Screener {
    entries: Vec<Indexed>,
    by_id: HashMap<String, u32>,
    vocab: Vec<VocabToken>,
    /// Vocabulary ids by `vocab_key`.
    vocab_ids: HashMap<String, u32>,
    keys: HashMap<u64, Vec<u32>, BuildHasherDefault<KeyHasher>>,
    postings: Vec<Vec<u32>>,
    graph: OwnershipGraph,
    config: Config,
    alive: usize,
}

/// The index keys are already hashes: use them as they are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The vocabulary key of a part: its folded spelling, marked when it came
/// from an abjad (the same letters mean less there).
fn vocab_key(t: &Token) -> std::borrow::Cow<'_, str> {
    if t.abjad {
        std::borrow::Cow::Owned(format!("\u{1}{}", t.text))
    } else {
        std::borrow::Cow::Borrowed(&t.text)
    }
}

fn key_hash(kind: u8, s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    kind.hash(&mut h);
    s.hash(&mut h);
    h.finish()
}

fn deletions(s: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let n = chars.len();
    (0..if n >= 3 { n } else { 0 }).map(move |i| {
        let (start, c) = chars[i];
        let mut out = String::with_capacity(s.len());
        out.push_str(&s[..start]);
        out.push_str(&s[start + c.len_utf8()..]);
        out
    })
}

/// Keys under which a token is found: its spelling, its one-letter
/// deletions (so one edit on either side still meets) and its skeleton.
fn token_keys(t: &Token, out: &mut Vec<u64>) {
    if !t.abjad {
        out.push(key_hash(b'e', &t.text));
        for d in deletions(&t.text) {
            out.push(key_hash(b'e', &d));
        }
    }
    if t.skeleton.chars().count() >= 2 {
        out.push(key_hash(b's', &t.skeleton));
    }
    if !t.abjad {
        for g in variants::groups(&t.text) {
            out.push(key_hash(b'g', &g.to_string()));
        }
    }
}

fn name_kind(schema: &str) -> NameKind {
    match schema {
        "Person" => NameKind::Person,
        "Company" | "Organization" | "PublicBody" => NameKind::Organisation,
        _ => NameKind::Any,
    }
}

fn compatible(query_schema: &str, entity_schema: &str) -> bool {
    let person = |s: &str| s == "Person";
    let thing = |s: &str| s == "Vessel" || s == "Airplane";
    match (query_schema, entity_schema) {
        ("LegalEntity" | "Thing" | "", _) => !thing(entity_schema) || query_schema == "Thing",
        (q, e) if person(q) => person(e) || e == "LegalEntity",
        (q, e) if thing(q) => thing(e),
        (_, e) => !person(e) && !thing(e),
    }
}

impl Screener {
    /// Builds a screener from entities and their ownership relations.
    pub fn build(entities: Vec<Entity>, relations: Vec<Relation>) -> Screener {
        Screener::with_config(entities, relations, Config::default())
    }

    /// Builds a screener with non-default scoring weights.
    pub fn with_config(
        entities: Vec<Entity>,
        relations: Vec<Relation>,
        config: Config,
    ) -> Screener {
        let mut s = Screener {
            entries: Vec::with_capacity(entities.len()),
            by_id: HashMap::with_capacity(entities.len()),
            vocab: Vec::new(),
            vocab_ids: HashMap::new(),
            keys: HashMap::default(),
            postings: Vec::new(),
            graph: OwnershipGraph::default(),
            config,
            alive: 0,
        };
        for e in entities {
            s.insert(e);
        }
        s.set_relations(relations);
        s
    }

    /// Replaces the ownership and control relations.
    pub fn set_relations(&mut self, relations: Vec<Relation>) {
        let targets = self
            .entries
            .iter()
            .filter(|e| e.alive && e.entity.target)
            .map(|e| e.entity.id.clone())
            .collect();
        self.graph = OwnershipGraph::build(relations, targets);
    }

    /// Number of live entities.
    pub fn len(&self) -> usize {
        self.alive
    }

    /// True when no entity is loaded.
    pub fn is_empty(&self) -> bool {
        self.alive == 0
    }

    /// The entity with this id, if loaded.
    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.by_id
            .get(id)
            .map(|&i| &self.entries[i as usize])
            .filter(|e| e.alive)
            .map(|e| &e.entity)
    }

    /// Iterates over the live entities.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.entries.iter().filter(|e| e.alive).map(|e| &e.entity)
    }

    /// A version string of the loaded list: changes when any entry changes.
    pub fn list_version(&self) -> String {
        let mut fps: Vec<String> = self
            .entities()
            .map(|e| format!("{}:{}", e.id, e.fingerprint()))
            .collect();
        fps.sort();
        let mut h = Sha256::new();
        for f in fps {
            h.update(f.as_bytes());
            h.update(b"\n");
        }
        hex(&h.finalize()[..12])
    }

    /// Adds or replaces one entity (a delta update; no rebuild).
    pub fn upsert(&mut self, entity: Entity) {
        self.remove(&entity.id.clone());
        self.insert(entity);
    }

    /// Removes an entity by id; returns whether it was present.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(&i) = self.by_id.get(id) else {
            return false;
        };
        let entry = &mut self.entries[i as usize];
        if !entry.alive {
            return false;
        }
        entry.alive = false;
        self.alive -= 1;
        self.by_id.remove(id);
        true
    }

    fn vocab_id(&mut self, t: &Token) -> u32 {
        if let Some(&id) = self.vocab_ids.get(vocab_key(t).as_ref()) {
            return id;
        }
        let id = self.vocab.len() as u32;
        let mut keys = Vec::new();
        token_keys(t, &mut keys);
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            self.keys.entry(k).or_default().push(id);
        }
        self.vocab.push(VocabToken {
            token: t.clone(),
            df: 0,
        });
        self.postings.push(Vec::new());
        self.vocab_ids.insert(vocab_key(t).into_owned(), id);
        id
    }

    fn insert(&mut self, entity: Entity) {
        let idx = self.entries.len() as u32;
        let kind = name_kind(&entity.schema);
        let mut names = Vec::new();
        let mut seen: Vec<u32> = Vec::new();
        for (n, name) in entity.all_names().enumerate().take(u16::MAX as usize) {
            let norm = normalise(name, kind);
            if norm.tokens.is_empty() {
                continue;
            }
            let mut ids = Vec::with_capacity(norm.tokens.len());
            for t in &norm.tokens {
                ids.push(self.vocab_id(t));
            }
            // Adjacent short parts also index joined ("jin hai" → "jinhai"),
            // and so does a particle with the part it belongs to ("al
            // khatib" → "alkhatib", "van dijk" → "vandijk").
            for w in norm.tokens.windows(2) {
                let short = w[0].text.len() <= 5 && w[1].text.len() <= 5;
                let particle = w[0].text.len() <= 3;
                if (short || particle) && !w[0].abjad && !w[1].abjad {
                    let joined = Token::new(format!("{}{}", w[0].text, w[1].text), false);
                    seen.push(self.vocab_id(&joined));
                }
            }
            seen.extend(&ids);
            if names
                .iter()
                .any(|x: &IndexedName| *x.tokens == *ids && x.forms == norm.legal_forms)
            {
                continue;
            }
            names.push(IndexedName {
                tokens: ids.into_boxed_slice(),
                forms: norm.legal_forms,
                source: n as u16,
            });
        }
        seen.sort_unstable();
        seen.dedup();
        for v in seen {
            self.vocab[v as usize].df += 1;
            self.postings[v as usize].push(idx);
        }
        let ids = entity
            .identifiers
            .iter()
            .map(|i| i.normalised())
            .filter(|i| i.len() >= 4)
            .collect();
        self.by_id.insert(entity.id.clone(), idx);
        self.entries.push(Indexed {
            entity,
            names,
            ids,
            alive: true,
        });
        self.alive += 1;
    }

    fn weight(&self, df: u32) -> f32 {
        // Distinctiveness: parts on at most 0.1% of entries weigh 1; a part
        // on every entry weighs the floor.
        let n = (self.entries.len().max(1000)) as f32;
        let idf = (n / (df.max(1) as f32)).ln() / 1000f32.ln();
        idf.clamp(0.12, 1.0)
    }

    /// Whether a spelling is a name part of some listed entry: then a
    /// near miss is more likely another real name than a typo.
    fn is_known(&self, t: &Token) -> bool {
        self.vocab_ids.contains_key(vocab_key(t).as_ref())
    }

    fn query_weight(&self, t: &Token) -> f32 {
        match self.vocab_ids.get(vocab_key(t).as_ref()) {
            Some(&id) => self.weight(self.vocab[id as usize].df),
            None => 1.0,
        }
    }

    /// Retrieves up to `k` candidate entries for the query's names.
    fn candidates(
        &self,
        names: &[&[Token]],
        facts: &Facts<'_>,
        person: bool,
        k: usize,
    ) -> Vec<(u32, f32)> {
        SCRATCH.with(|cell| {
            let mut sc = cell.borrow_mut();
            let n = self.entries.len();
            if sc.score.len() < n {
                sc.score.resize(n, 0.0);
                sc.stamp.resize(n, 0);
            }
            sc.touched.clear();
            // Parts on more than 2% of entries (given names, "al",
            // "technologies") add little: when the query has a rarer part,
            // their long posting lists are not walked.
            let common = (n / 50).max(500) as u32;
            let mut keys = Vec::new();
            let mut probe_matches: Vec<Vec<(u32, f32)>> = Vec::new();
            for tokens in names {
                let tokens: &[Token] = tokens;
                let mut probes: Vec<Token> =
                    tokens.iter().take(MAX_QUERY_TOKENS).cloned().collect();
                for w in tokens.windows(2).take(MAX_QUERY_TOKENS) {
                    probes.push(Token::new(
                        format!("{}{}", w[0].text, w[1].text),
                        w[0].abjad,
                    ));
                }
                for (pi, t) in probes.iter().enumerate() {
                    keys.clear();
                    token_keys(t, &mut keys);
                    // A variant is evidence for the query's part, worth what
                    // that part is worth: a rarer spelling of "hussein" is no
                    // stronger a match than "hussein" itself. A joined pair
                    // stands in for two parts already probed.
                    let known = self
                        .vocab_ids
                        .get(vocab_key(t).as_ref())
                        .map(|&id| self.weight(self.vocab[id as usize].df));
                    let scale = if pi < tokens.len() { 1.0 } else { 0.5 };
                    let mut matched: Vec<(u32, f32)> = Vec::new();
                    for key in &keys {
                        if let Some(vs) = self.keys.get(key) {
                            for &v in vs {
                                let vt = &self.vocab[v as usize];
                                let (sim, _, _) = token_sim(
                                    t,
                                    &vt.token,
                                    known.is_some(),
                                    person,
                                    self.config.edit_cost,
                                );
                                if sim >= 0.5 {
                                    let w = known.unwrap_or_else(|| self.weight(vt.df));
                                    matched.push((v, scale * sim * w));
                                }
                            }
                        }
                    }
                    matched.sort_by(|a, b| b.1.total_cmp(&a.1));
                    matched.dedup_by_key(|m| m.0);
                    probe_matches.push(matched);
                }
            }
            let rare_exists = probe_matches
                .iter()
                .flatten()
                .any(|&(v, _)| self.vocab[v as usize].df <= common);
            // Parts too common to walk are looked up in the names of the
            // entries the rarer parts found instead, so that "Hussein" still
            // tells the al-Khatib named Hussein from the other al-Khatibs.
            let mut deferred: Vec<Vec<(u32, f32)>> = Vec::new();
            for matched in &probe_matches {
                sc.generation = sc.generation.wrapping_add(1);
                let gen = sc.generation;
                let mut skipped: Vec<(u32, f32)> = Vec::new();
                for &(v, credit) in matched {
                    let postings = &self.postings[v as usize];
                    if rare_exists && postings.len() > common as usize {
                        skipped.push((v, credit));
                        continue;
                    }
                    for &e in postings {
                        let e = e as usize;
                        if sc.stamp[e] == gen {
                            continue;
                        }
                        if sc.score[e] == 0.0 {
                            sc.touched.push(e as u32);
                        }
                        sc.stamp[e] = gen;
                        sc.score[e] += credit;
                    }
                }
                if !skipped.is_empty() {
                    skipped.sort_unstable_by_key(|m| m.0);
                    deferred.push(skipped);
                }
            }
            let mut touched = std::mem::take(&mut sc.touched);
            let mut out: Vec<(u32, f32)> = touched
                .iter()
                .filter(|&&e| self.entries[e as usize].alive)
                .map(|&e| (e, sc.score[e as usize]))
                .collect();
            // Second stage on the best first-stage entries: common parts,
            // then agreeing birth years and countries as tie-breakers
            // between equally named entries.
            let pool = (k * 20).max(1000);
            if out.len() > pool {
                out.select_nth_unstable_by(pool, |a, b| b.1.total_cmp(&a.1));
                out.truncate(pool);
            }
            for (e, score) in &mut out {
                let entry = &self.entries[*e as usize];
                for probe in &deferred {
                    let mut best = 0f32;
                    for name in &entry.names {
                        for v in name.tokens.iter() {
                            if let Ok(i) = probe.binary_search_by_key(v, |m| m.0) {
                                best = best.max(probe[i].1);
                            }
                        }
                    }
                    *score += best;
                }
                *score += facts.support(&entry.entity);
            }
            for &e in &touched {
                sc.score[e as usize] = 0.0;
            }
            touched.clear();
            sc.touched = touched;
            if out.len() > k {
                out.select_nth_unstable_by(k, |a, b| b.1.total_cmp(&a.1));
                out.truncate(k);
            }
            out.sort_by(|a, b| b.1.total_cmp(&a.1));
            out
        })
    }

    /// Screens one query: retrieves candidates, scores and explains them,
    /// and returns those scoring at least `threshold`, best first.
    ///
    /// A candidate scoring clearly below the best one (by more than
    /// `Config::margin`) is not reported: when the query has an exact
    /// match, weaker look-alikes are noise.
    ///
    /// Entries that nothing in the query tells apart (the same name, the
    /// same agreement with every fact given) make one alert: the first is
    /// returned, the others are listed in its `explanation.tied`. Entries a
    /// fact of the query contradicts while another entry agrees with it
    /// are not raised; they are listed in that entry's
    /// `explanation.set_aside`. [`Screener::alerts`] makes this decision.
    pub fn match_query(&self, query: &Query, threshold: f32) -> Vec<Match> {
        let all = self.score_raw(query, CANDIDATES);
        let alerts = self.alerts(&all, threshold);
        let related = |i: usize, detail: String| Related {
            entity_id: all[i].entity_id.clone(),
            caption: all[i].caption.clone(),
            score: all[i].score,
            detail,
        };
        let named: Vec<(usize, Vec<Related>, Vec<Related>)> = alerts
            .iter()
            .map(|a| {
                let tied = a.tied.iter().map(|&i| related(i, String::new())).collect();
                let aside = a
                    .set_aside
                    .iter()
                    .map(|&i| related(i, contradictions(&all[i])))
                    .collect();
                (a.index, tied, aside)
            })
            .collect();
        let mut all: Vec<Option<Match>> = all.into_iter().map(Some).collect();
        named
            .into_iter()
            .filter_map(|(i, tied, set_aside)| {
                let mut m = all.get_mut(i)?.take()?;
                m.matched = true;
                finish(&mut m);
                m.explanation.tied = tied;
                m.explanation.set_aside = set_aside;
                Some(m)
            })
            .collect()
    }

    /// Decides which of a query's scored candidates (as returned by
    /// [`Screener::score_query`], best first) it raises at `threshold`: the
    /// one decision behind [`Screener::match_query`], the command line, the
    /// hub and the evaluation.
    ///
    /// 1. Of the candidates whose score reaches the threshold, one is set
    ///    aside when another explains the query's facts strictly better
    ///    (agrees with a fact, is contradicted nowhere this one is not, and
    ///    not where this one is): of two same-name entries, the one born in
    ///    another year than the query says does not alert beside the one
    ///    born that year. Absence is not contradiction: an entry without a
    ///    birth date is not set aside.
    /// 2. The others alert when their rank is within `Config::margin` of
    ///    the best rank among them.
    /// 3. Candidates alike on the name score, the score, the rank and the
    ///    standing of every fact form one alert.
    pub fn alerts(&self, candidates: &[Match], threshold: f32) -> Vec<Alert> {
        let reaching: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].score >= threshold)
            .collect();
        let (aside, kept): (Vec<usize>, Vec<usize>) = reaching.iter().partition(|&&i| {
            let e = &candidates[i].evidence;
            reaching
                .iter()
                .any(|&j| e.outweighed_by(&candidates[j].evidence))
        });
        let best = best_rank(
            kept.iter()
                .map(|&i| (candidates[i].score, candidates[i].rank)),
            threshold,
        );
        let mut out: Vec<Alert> = Vec::new();
        for &i in &kept {
            let m = &candidates[i];
            if !alert(m.score, m.rank, best, threshold, self.config.margin) {
                continue;
            }
            let alike = |a: &Alert| {
                let r = &candidates[a.index];
                (r.score - m.score).abs() < 1e-4
                    && (r.rank - m.rank).abs() < 1e-4
                    && (r.explanation.name_score - m.explanation.name_score).abs() < 1e-4
                    && r.evidence == m.evidence
            };
            match out.iter_mut().find(|a| alike(a)) {
                Some(a) => a.tied.push(i),
                None => out.push(Alert {
                    index: i,
                    ..Alert::default()
                }),
            }
        }
        for i in aside {
            let e = &candidates[i].evidence;
            if let Some(a) = out
                .iter_mut()
                .find(|a| e.outweighed_by(&candidates[a.index].evidence))
            {
                a.set_aside.push(i);
            }
        }
        out
    }

    /// The scorer's weights.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Scores the top `k` retrieved candidates of a query, best first,
    /// without applying a threshold (`matched` is set against the default).
    pub fn score_query(&self, query: &Query, k: usize) -> Vec<Match> {
        let mut all = self.score_raw(query, k);
        all.iter_mut().for_each(finish);
        all
    }

    fn score_raw(&self, query: &Query, k: usize) -> Vec<Match> {
        let kind = name_kind(&query.schema);
        let normed: Vec<(Vec<Token>, Vec<LegalForm>, &str)> = query
            .names
            .iter()
            .take(MAX_QUERY_NAMES)
            .map(|n| {
                let norm = normalise(n, kind);
                (norm.tokens, norm.legal_forms, n.as_str())
            })
            .filter(|(t, _, _)| !t.is_empty())
            .collect();
        if normed.is_empty() {
            return Vec::new();
        }
        let probe: Vec<&[Token]> = normed.iter().map(|(t, _, _)| t.as_slice()).collect();
        let facts = Facts::of(query);
        let person = query.schema == "Person";
        let cands = self.candidates(&probe, &facts, person, k);
        let qnames: Vec<(QName, Vec<LegalForm>, &str)> = normed
            .into_iter()
            .map(|(t, f, raw)| (self.prepare(t, person), f, raw))
            .collect();
        let qids: Vec<String> = query
            .identifiers
            .iter()
            .map(|i| normalise_identifier(i))
            .filter(|i| i.len() >= 4)
            .collect();
        let qcountries: Vec<String> = query
            .countries
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let mut out: Vec<Match> = cands
            .into_iter()
            .filter_map(|(e, _)| {
                let entry = &self.entries[e as usize];
                if !compatible(&query.schema, &entry.entity.schema) {
                    return None;
                }
                let m = self.score_entry(entry, &qnames, query, &qids, &qcountries);
                Some(m)
            })
            .collect();
        out.sort_by(|a, b| {
            b.rank
                .total_cmp(&a.rank)
                .then_with(|| b.score.total_cmp(&a.score))
                .then_with(|| a.entity_id.cmp(&b.entity_id))
        });
        out
    }

    fn score_entry(
        &self,
        entry: &Indexed,
        qnames: &[(QName, Vec<LegalForm>, &str)],
        query: &Query,
        qids: &[String],
        qcountries: &[String],
    ) -> Match {
        let parts = |name: &IndexedName| -> Vec<(&Token, f32)> {
            name.tokens
                .iter()
                .map(|&v| {
                    let vt = &self.vocab[v as usize];
                    (&vt.token, self.weight(vt.df))
                })
                .collect()
        };
        // First find the best pair of names cheaply, then explain only it.
        let mut best: Option<(f32, usize, usize)> = None;
        for (qi, (qt, _, _)) in qnames.iter().enumerate() {
            for (ni, name) in entry.names.iter().enumerate() {
                let (score, _, _) = self.align(qt, &parts(name), false);
                if best.is_none_or(|b| score > b.0) {
                    best = Some((score, qi, ni));
                }
            }
        }
        let no_forms: &[LegalForm] = &[];
        let (name_score, mut expl, qf, cf, spans) = match best {
            Some((_, qi, ni)) => {
                let (qt, qf, qraw) = &qnames[qi];
                let name = &entry.names[ni];
                let (score, mut expl, spans) = self.align(qt, &parts(name), true);
                expl.query_name = qraw.to_string();
                expl.candidate_name = entry
                    .entity
                    .all_names()
                    .nth(name.source as usize)
                    .cloned()
                    .unwrap_or_default();
                (score, expl, qf.as_slice(), name.forms.as_slice(), spans)
            }
            None => (0.0, Explanation::default(), no_forms, no_forms, Vec::new()),
        };
        expl.name_score = name_score;
        let mut score = name_score;
        let mut feature = |name: &str, factor: f32, detail: String, score: &mut f32| {
            *score *= factor;
            expl.features.push(Feature {
                name: name.into(),
                factor,
                detail,
            });
        };
        // Legal forms.
        if !qf.is_empty() && !cf.is_empty() {
            let same = qf.iter().find(|a| cf.iter().any(|b| b.code == a.code));
            let family = qf.iter().find(|a| cf.iter().any(|b| b.family == a.family));
            if let Some(f) = same {
                feature(
                    "legal_form",
                    1.0,
                    format!("legal form {} = {}", f.code, f.label),
                    &mut score,
                );
            } else if let Some(f) = family {
                feature(
                    "legal_form",
                    0.97,
                    format!("legal form {} ~ {} (both {})", f.code, cf[0].code, f.family),
                    &mut score,
                );
            } else {
                feature(
                    "legal_form",
                    0.9,
                    format!("legal form {} ≠ {}", qf[0].label, cf[0].label),
                    &mut score,
                );
            }
        }
        // Birth dates first: whether they agree decides how much a
        // country mismatch weighs.
        let cdates = &entry.entity.birth_dates;
        let mut dates = DateEvidence::Absent;
        if !query.birth_dates.is_empty() && !cdates.is_empty() {
            let (factor, detail, evidence) =
                compare_dates(&query.birth_dates, cdates, &self.config);
            dates = evidence;
            let factor = if evidence == DateEvidence::Day && name_score >= 0.5 && score > 0.0 {
                // The same day of birth is strong evidence: it restores
                // part of the credit a misspelt or shortened name lost.
                (score + (1.0 - score) * self.config.birth_date_credit) / score
            } else {
                factor
            };
            feature("birth_date", factor, detail, &mut score);
        }
        let shared_id = qids.iter().find(|q| entry.ids.contains(q));
        // Countries.
        let ccountries = &entry.entity.countries;
        let mut same_country = false;
        if !qcountries.is_empty() && !ccountries.is_empty() {
            if let Some(c) = qcountries.iter().find(|c| ccountries.contains(c)) {
                same_country = true;
                let cc = c.to_ascii_uppercase();
                feature("country", 1.0, format!("country {cc} = {cc}"), &mut score);
            } else {
                let (factor, why) = if dates == DateEvidence::Day || shared_id.is_some() {
                    (
                        self.config.country_mismatch_corroborated,
                        " (other facts agree)",
                    )
                } else if dates == DateEvidence::Year {
                    (
                        self.config.country_mismatch_same_year,
                        " (birth year agrees)",
                    )
                } else if query.birth_dates.is_empty() && entry.entity.schema == "Person" {
                    // A person's nationality is weak evidence (dual
                    // nationals, residents abroad) when it is the only
                    // fact the query gives.
                    (self.config.country_mismatch_person, "")
                } else {
                    (self.config.country_mismatch, "")
                };
                feature(
                    "country",
                    factor,
                    format!(
                        "country {} ≠ {}{why}",
                        qcountries.join(",").to_ascii_uppercase(),
                        ccountries.join(",").to_ascii_uppercase()
                    ),
                    &mut score,
                );
            }
        }
        // Identifiers: a shared registration number is strong evidence.
        if let Some(id) = shared_id {
            let raised =
                score
                    .max(0.5 + 0.5 * score)
                    .max(if name_score > 0.3 { 0.95 } else { 0.0 });
            let factor = if score > 0.0 { raised / score } else { 1.0 };
            feature(
                "identifier",
                factor,
                format!("identifier {id} = {id}"),
                &mut score,
            );
        }
        // Corroboration orders equally named candidates: the entry whose
        // birth date, identifier or country agrees ranks above its
        // homonyms, which then fall outside the alert margin.
        let mut support = match dates {
            DateEvidence::Day => 0.15,
            DateEvidence::Year => 0.08,
            _ => 0.0,
        };
        if shared_id.is_some() {
            support += 0.15;
        }
        if same_country {
            support += 0.04;
        }
        let score = score.clamp(0.0, 1.0);
        let rank = score * (1.0 + support);
        let birth = match dates {
            DateEvidence::Day | DateEvidence::Year => Fact::Agree,
            DateEvidence::Other => Fact::Conflict,
            DateEvidence::Absent => Fact::Absent,
        };
        let country = if same_country {
            Fact::Agree
        } else if !qcountries.is_empty() && !ccountries.is_empty() {
            Fact::Conflict
        } else {
            Fact::Absent
        };
        let identifier = if shared_id.is_some() {
            Fact::Agree
        } else {
            Fact::Absent
        };
        let evidence = Evidence {
            facts: [birth, country, identifier],
        };
        let ownership = if entry.entity.target {
            Vec::new()
        } else {
            self.graph.paths_to(&entry.entity.id)
        };
        Match {
            entity_id: entry.entity.id.clone(),
            caption: entry.entity.caption().to_string(),
            schema: entry.entity.schema.clone(),
            score,
            matched: score >= DEFAULT_THRESHOLD,
            explanation: expl,
            ownership,
            spans,
            rank,
            evidence,
        }
    }

    fn prepare(&self, mut tokens: Vec<Token>, person: bool) -> QName {
        tokens.truncate(MAX_QUERY_TOKENS);
        let weights = tokens.iter().map(|t| self.query_weight(t)).collect();
        let mut spans = Vec::new();
        for a in 0..tokens.len() {
            for b in a + 1..=(a + MAX_SPAN).min(tokens.len()) {
                let t = join(&tokens[a..b]);
                let known = self.is_known(&t);
                spans.push((a, b, t, known));
            }
        }
        QName {
            person,
            tokens,
            weights,
            spans,
        }
    }

    /// Aligns query parts with listed parts (one-to-one, allowing two or
    /// three adjacent parts on one side to meet one part on the other) and
    /// returns the weighted share of matched distinctiveness.
    fn align(
        &self,
        q: &QName,
        c: &[(&Token, f32)],
        explain: bool,
    ) -> (f32, Explanation, Vec<(usize, usize)>) {
        struct Item {
            qa: usize,
            qb: usize,
            ca: usize,
            cb: usize,
            sim: f32,
            edits: usize,
            method: &'static str,
        }
        let cfg = &self.config;
        let mut items: Vec<Item> = Vec::new();
        let mut cspans: Vec<(usize, usize, std::borrow::Cow<'_, Token>)> = Vec::new();
        // Joined listed parts can only meet a single query part of about
        // the same length; build them only then.
        let qlens: Vec<usize> = q
            .spans
            .iter()
            .filter(|(a, b, _, _)| b - a == 1)
            .map(|(_, _, t, _)| t.text.len())
            .collect();
        for ca in 0..c.len() {
            cspans.push((ca, ca + 1, std::borrow::Cow::Borrowed(c[ca].0)));
            let mut len = c[ca].0.text.len();
            for cb in ca + 2..=(ca + MAX_SPAN).min(c.len()) {
                len += c[cb - 1].0.text.len();
                if !qlens.iter().any(|&l| l.abs_diff(len) <= 2) {
                    continue;
                }
                let refs: Vec<Token> = c[ca..cb].iter().map(|(t, _)| (*t).clone()).collect();
                cspans.push((ca, cb, std::borrow::Cow::Owned(join(&refs))));
            }
        }
        for (qa, qb, qt, known) in &q.spans {
            for (ca, cb, ct) in &cspans {
                if qb - qa > 1 && cb - ca > 1 {
                    continue;
                }
                let (sim, edits, method) = token_sim(qt, ct, *known, q.person, cfg.edit_cost);
                if sim >= 0.5 {
                    items.push(Item {
                        qa: *qa,
                        qb: *qb,
                        ca: *ca,
                        cb: *cb,
                        sim,
                        edits,
                        method,
                    });
                }
            }
        }
        items.sort_by(|a, b| {
            b.sim
                .total_cmp(&a.sim)
                .then((a.qb - a.qa + a.cb - a.ca).cmp(&(b.qb - b.qa + b.cb - b.ca)))
        });
        let mut qused = vec![false; q.tokens.len()];
        let mut cused = vec![false; c.len()];
        let mut expl = Explanation::default();
        let mut spans = Vec::new();
        let (mut num, mut den) = (0f32, 0f32);
        for it in &items {
            if qused[it.qa..it.qb].iter().any(|&u| u) || cused[it.ca..it.cb].iter().any(|&u| u) {
                continue;
            }
            qused[it.qa..it.qb].iter_mut().for_each(|u| *u = true);
            cused[it.ca..it.cb].iter_mut().for_each(|u| *u = true);
            let cw: f32 =
                c[it.ca..it.cb].iter().map(|(_, w)| *w).sum::<f32>() / (it.cb - it.ca) as f32;
            // Matched parts weigh what the listed part weighs: its
            // distinctiveness is known, the query's may be a typo.
            num += it.sim * cw;
            den += cw;
            if !explain {
                continue;
            }
            let qtext: String = q.tokens[it.qa..it.qb]
                .iter()
                .map(|t| t.shown.as_str())
                .collect();
            let ctext: String = c[it.ca..it.cb]
                .iter()
                .map(|(t, _)| t.shown.as_str())
                .collect();
            spans.push((it.ca, it.cb));
            expl.parts.push(PartMatch {
                length: qtext.len().max(ctext.len()),
                query: qtext,
                candidate: ctext,
                method: it.method.into(),
                edits: it.edits,
                similarity: it.sim,
                weight: cw,
            });
        }
        if num == 0.0 {
            return (0.0, expl, spans);
        }
        let q_left = qused.iter().any(|u| !u);
        let c_left = cused.iter().any(|u| !u);
        // A part on each side without a counterpart is a conflict (a
        // different given name, a different brand), weighed more than a
        // part that is merely absent on one side.
        let (extra, missing) = if q_left && c_left {
            (cfg.conflict_part, cfg.conflict_part)
        } else {
            (cfg.extra_query_part, cfg.missing_candidate_part)
        };
        for (i, t) in q.tokens.iter().enumerate() {
            if !qused[i] {
                den += extra * q.weights[i];
                if explain {
                    expl.unmatched_query.push(t.shown.clone());
                }
            }
        }
        for (i, (t, w)) in c.iter().enumerate() {
            if !cused[i] {
                den += missing * w;
                if explain {
                    expl.unmatched_candidate.push(t.shown.clone());
                }
            }
        }
        (num / den, expl, spans)
    }

    /// The ownership graph of the loaded relations.
    pub fn ownership(&self) -> &OwnershipGraph {
        &self.graph
    }
}

const MAX_SPAN: usize = 3;

/// Whether a candidate with `score` alerts, given the best score of the
/// same query: at or above the threshold and within `margin` of the best.
pub fn is_alert(score: f32, best: f32, threshold: f32, margin: f32) -> bool {
    alert(score, score, best, threshold, margin)
}

/// Whether a candidate alerts: its `score` reaches the threshold and its
/// `rank` (see [`Match::rank`]) is within `margin` of `best`, the highest
/// rank among the query's candidates that reach the threshold.
pub fn alert(score: f32, rank: f32, best: f32, threshold: f32, margin: f32) -> bool {
    score >= threshold && rank >= best - margin
}

/// The highest rank among (score, rank) pairs whose score reaches the
/// threshold (0 when none does).
pub fn best_rank(candidates: impl Iterator<Item = (f32, f32)>, threshold: f32) -> f32 {
    candidates
        .filter(|(s, _)| *s >= threshold)
        .map(|(_, r)| r)
        .fold(0.0, f32::max)
}

/// The facts of the query a candidate contradicts, as its explanation
/// words them ("birth year 1962 ≠ 1985").
fn contradictions(m: &Match) -> String {
    m.explanation
        .features
        .iter()
        .filter(|f| (f.name == "birth_date" || f.name == "country") && f.factor < 1.0)
        .map(|f| f.detail.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replaces the listed parts in an explanation by their spelling in the
/// listed name itself (the index keeps only one spelling per folded part),
/// and counts the edits between the spellings a user sees.
fn finish(m: &mut Match) {
    let spans = std::mem::take(&mut m.spans);
    show_candidate_spelling(&mut m.explanation, &spans, name_kind(&m.schema));
}

fn show_candidate_spelling(expl: &mut Explanation, spans: &[(usize, usize)], kind: NameKind) {
    let tokens = normalise(&expl.candidate_name, kind).tokens;
    for (part, &(a, b)) in expl.parts.iter_mut().zip(spans) {
        if let Some(ts) = tokens.get(a..b) {
            part.candidate = ts.iter().map(|t| t.shown.as_str()).collect();
        }
        if part.query != part.candidate && part.method == "exact" {
            part.method = "variant".into();
            part.edits = osa_distance(&part.query, &part.candidate, 9);
        }
        part.length = part.query.len().max(part.candidate.len());
    }
}

/// The facts of a query used to order retrieved candidates.
struct Facts<'a> {
    years: Vec<&'a str>,
    countries: Vec<String>,
}

impl<'a> Facts<'a> {
    fn of(q: &'a Query) -> Facts<'a> {
        Facts {
            years: q.birth_dates.iter().filter_map(|d| d.get(..4)).collect(),
            countries: q.countries.iter().map(|c| c.to_ascii_lowercase()).collect(),
        }
    }

    /// A retrieval bonus for an entry whose birth year or country agrees
    /// with the query's (less than a distinctive name part is worth).
    fn support(&self, e: &Entity) -> f32 {
        let mut s = 0.0;
        if !self.years.is_empty()
            && e.birth_dates
                .iter()
                .any(|d| d.get(..4).is_some_and(|y| self.years.contains(&y)))
        {
            s += 0.15;
        }
        if !self.countries.is_empty() && e.countries.iter().any(|c| self.countries.contains(c)) {
            s += 0.05;
        }
        s
    }
}

/// A query name prepared once for scoring against many candidates.
struct QName {
    /// Whether the query names a person.
    person: bool,
    tokens: Vec<Token>,
    weights: Vec<f32>,
    /// Runs of one to `MAX_SPAN` parts, joined, and whether the joined
    /// spelling is itself a name part on the list.
    spans: Vec<(usize, usize, Token, bool)>,
}

fn join(tokens: &[Token]) -> Token {
    if tokens.len() == 1 {
        return tokens[0].clone();
    }
    let text: String = tokens.iter().map(|t| t.text.as_str()).collect();
    Token::new(text, tokens.iter().all(|t| t.abjad))
}

/// Similarity of two name parts: (credit 0–1, edit count, method).
///
/// Each edit costs `edit_cost / length`, so one typo in a short name still
/// earns partial credit while a different short name does not. `person`
/// says the query names a person. `a` is the
/// query's part; `a_known` says whether its spelling is itself a name part
/// on the list, which makes a near miss another real name ("Smit" beside
/// "Smith") rather than a typo.
fn token_sim(
    a: &Token,
    b: &Token,
    a_known: bool,
    person: bool,
    edit_cost: f32,
) -> (f32, usize, &'static str) {
    if a.abjad || b.abjad {
        if a.skeleton.is_empty() || b.skeleton.is_empty() {
            return (0.0, 0, "skeleton");
        }
        if a.skeleton == b.skeleton {
            return (0.92, 0, "skeleton");
        }
        let l = a.skeleton.len().max(b.skeleton.len());
        if l >= 4 && osa_distance(&a.skeleton, &b.skeleton, 1) == 1 {
            return (0.6, 1, "skeleton");
        }
        return (0.0, 0, "skeleton");
    }
    if a.text == b.text {
        return (1.0, 0, "exact");
    }
    let la = a.text.len();
    let lb = b.text.len();
    let l = la.max(lb);
    // The budget grows with the length: two edits from eight letters on,
    // and from five in a person's name, whose parts come from a stock of
    // names in which two slips still point at one (a coined brand two
    // letters away is another brand).
    let cap = if l >= 8 || (person && l >= 5) { 2 } else { 1 };
    let skel_ok = a.skeleton.len() >= 4 && a.skeleton == b.skeleton;
    if la.abs_diff(lb) > cap && a.shown.len().abs_diff(b.shown.len()) > cap && !skel_ok {
        if variants::related(&a.text, &b.text) {
            return (KNOWN_VARIANT, 0, "known_variant");
        }
        return (0.0, la.abs_diff(lb), "edit");
    }
    let digits = |t: &Token| t.text.bytes().any(|b| b.is_ascii_digit());
    if digits(a) || digits(b) {
        return (0.0, 0, "exact");
    }
    if let Some(form) = other_form(&a.text, &b.text) {
        // "Kiselyova" is not a typo of "Kiselyov": the same family, but
        // the other gender's form, or a patronymic for a family name.
        return (0.5, 1, form);
    }
    // Folding collapses doubled letters; where that hides a plain typo
    // ("iis" / "inis"), the unfolded spellings are closer.
    let d = osa_distance(&a.text, &b.text, cap).min(osa_distance(&a.shown, &b.shown, cap));
    let mut sim = 0.0;
    if d <= cap && l >= 3 {
        sim = (1.0 - edit_cost * d as f32 / l as f32).max(0.0);
        // Two slips in a name of five to seven letters keep some credit
        // when it still starts right ("Rebet" / "Robert"), none otherwise
        // ("Alina" / "Polina").
        if d == 2 && l < 8 {
            sim = if a.text.as_bytes()[0] == b.text.as_bytes()[0] {
                sim.max(0.5)
            } else {
                0.0
            };
        }
    }
    if variants::related(&a.text, &b.text) && sim < KNOWN_VARIANT {
        return (KNOWN_VARIANT, d, "known_variant");
    }
    // Same consonants in the same order, vowels differing: a spelling
    // variant of a person's name ("mohammed" / "muhammad"); in a coined
    // brand other vowels make another brand ("Nogaks" / "Nigoks").
    if person && sim < 0.75 && skel_ok && a.text.as_bytes()[0] == b.text.as_bytes()[0] {
        return (0.75, d, "skeleton");
    }
    // A query spelling that is itself a listed name part, with other
    // consonants than the listed part, names someone else: one letter off
    // it keeps a little credit, two letters off none ("Susan" / "Sean").
    if a_known && d >= 2 {
        sim = 0.0;
    } else if a_known && loose_skeleton(&a.skeleton) != loose_skeleton(&b.skeleton) {
        sim = sim.min(KNOWN_OTHER);
    }
    (sim, d, "edit")
}

/// Credit for two spellings listed as variants of one name.
const KNOWN_VARIANT: f32 = 0.9;
/// Most credit for a near miss whose query spelling is another known name.
const KNOWN_OTHER: f32 = 0.5;

/// A skeleton in which spellings of one sound meet (c and k).
fn loose_skeleton(s: &str) -> String {
    s.replace('c', "k")
}

/// Slavic family-name endings by gender (masculine, feminine).
const GENDER_ENDINGS: &[(&str, &str)] = &[
    ("ov", "ova"),
    ("ev", "eva"),
    ("in", "ina"),
    ("yn", "yna"),
    ("sky", "skaya"),
    ("ski", "ska"),
];
/// Patronymic endings (East Slavic).
const PATRONYMIC_ENDINGS: &[&str] = &["ovich", "evich", "ovna", "evna", "ichna", "yich"];

/// Whether `a` and `b` are two forms of one family name that name
/// different people: the masculine and feminine form, or a patronymic
/// and a family name. Returns how they differ.
fn other_form(a: &str, b: &str) -> Option<&'static str> {
    for (m, f) in GENDER_ENDINGS {
        let stem = |x: &'static str, y: &'static str| {
            a.strip_suffix(x)
                .zip(b.strip_suffix(y))
                .is_some_and(|(p, q)| p == q && p.len() >= 3)
        };
        if stem(m, f) || stem(f, m) {
            return Some("other_gender");
        }
    }
    let patronymic = |x: &str| PATRONYMIC_ENDINGS.iter().any(|e| x.ends_with(e));
    if patronymic(a) != patronymic(b) && osa_distance(a, b, 2) <= 2 {
        return Some("patronymic");
    }
    None
}

fn year(d: &str) -> Option<i32> {
    d.get(..4).and_then(|y| y.parse().ok())
}

/// What the birth dates of a query and a candidate say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateEvidence {
    /// Not given on both sides, or not comparable.
    Absent,
    /// The same full date.
    Day,
    /// The same year (one side gives only the year).
    Year,
    /// Close or conflicting.
    Other,
}

fn compare_dates(q: &[String], c: &[String], cfg: &Config) -> (f32, String, DateEvidence) {
    for a in q {
        for b in c {
            if a == b && a.len() == 10 {
                return (1.0, format!("birth date {a} = {b}"), DateEvidence::Day);
            }
        }
    }
    let mut best: Option<(i32, &String, &String)> = None;
    for a in q {
        for b in c {
            if let (Some(ya), Some(yb)) = (year(a), year(b)) {
                let gap = (ya - yb).abs();
                if best.is_none_or(|x| gap < x.0) {
                    best = Some((gap, a, b));
                }
            }
        }
    }
    match best {
        None => (
            1.0,
            "birth dates not comparable".into(),
            DateEvidence::Absent,
        ),
        Some((0, a, b)) => {
            if a.len() == 10 && b.len() == 10 {
                (
                    0.85,
                    format!("birth date {a} ≠ {b} (same year)"),
                    DateEvidence::Other,
                )
            } else {
                (
                    1.0,
                    format!("birth year {} = {}", &a[..4], &b[..4]),
                    DateEvidence::Year,
                )
            }
        }
        Some((1, a, b)) => (
            (cfg.birth_year_mismatch + 1.0) / 2.0,
            format!("birth year {} ≈ {} (one year apart)", &a[..4], &b[..4]),
            DateEvidence::Other,
        ),
        Some((_, a, b)) => (
            cfg.birth_year_mismatch,
            format!("birth year {} ≠ {}", &a[..4], &b[..4]),
            DateEvidence::Other,
        ),
    }
}
