//! List importers: FollowTheMoney JSON lines (the OpenSanctions bulk
//! format), the US Consolidated Screening List (CSV and JSON) and a simple
//! CSV. Every importer keeps going after a bad record and reports it with
//! its line number.

use std::collections::HashMap;
use std::io::BufRead;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entity::{Entity, Identifier, Listing, Relation, RelationKind};

/// Longest name accepted, in bytes; longer names are cut with a warning.
pub const MAX_NAME_BYTES: usize = 1024;
/// Longest line read, in bytes; longer lines are skipped with an error.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// Most values kept per property of one record.
pub const MAX_VALUES: usize = 256;

/// A problem with one record of a list file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The file or source name.
    pub source: String,
    /// 1-based line (JSON lines, CSV record line) or 0 when unknown.
    pub line: usize,
    /// The record's id when it could be read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub record: String,
    /// True when the record was skipped; false for a warning.
    pub skipped: bool,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.source, self.line)?;
        if !self.record.is_empty() {
            write!(f, " ({})", self.record)?;
        }
        let what = if self.skipped { "skipped" } else { "warning" };
        write!(f, ": {what}: {}", self.message)
    }
}

/// What an importer read: entities, relations and per-record diagnostics.
#[derive(Debug, Clone, Default)]
pub struct Import {
    /// Parties read.
    pub entities: Vec<Entity>,
    /// Ownership and control edges read.
    pub relations: Vec<Relation>,
    /// Problems found, one per bad record or field.
    pub diagnostics: Vec<Diagnostic>,
}

impl Import {
    /// Appends another import.
    pub fn extend(&mut self, other: Import) {
        self.entities.extend(other.entities);
        self.relations.extend(other.relations);
        self.diagnostics.extend(other.diagnostics);
    }
}

/// The formats the importers understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// FollowTheMoney entities, one JSON object per line.
    FtmJsonLines,
    /// US Consolidated Screening List, CSV download.
    CslCsv,
    /// US Consolidated Screening List, JSON download (`{"results": [...]}`).
    CslJson,
    /// A simple CSV with a `name` column and optional others.
    SimpleCsv,
    /// A STIX 2.1 bundle of the hub's spyware registry: `identity` objects
    /// of vendors and listed persons.
    StixRegistry,
}

impl Format {
    /// Guesses the format from a file name and the first bytes.
    pub fn detect(path: &str, head: &[u8]) -> Format {
        let lower = path.to_ascii_lowercase();
        let head = String::from_utf8_lossy(&head[..head.len().min(4096)]);
        let first_line = head.lines().next().unwrap_or("").to_ascii_lowercase();
        if lower.ends_with(".csv") {
            if first_line.contains("source") && first_line.contains("alt_names") {
                Format::CslCsv
            } else {
                Format::SimpleCsv
            }
        } else if head.trim_start().starts_with('{')
            && head.contains("\"bundle\"")
            && head.contains("\"objects\"")
        {
            Format::StixRegistry
        } else if head.trim_start().starts_with('[')
            || (head.trim_start().starts_with('{') && head.contains("\"results\""))
        {
            Format::CslJson
        } else {
            Format::FtmJsonLines
        }
    }
}

/// Reads a list in the given format.
pub fn read(format: Format, reader: impl BufRead, source: &str) -> Import {
    match format {
        Format::FtmJsonLines => read_ftm(reader, source),
        Format::CslCsv => read_csl_csv(reader, source),
        Format::CslJson => read_csl_json(reader, source),
        Format::SimpleCsv => read_simple_csv(reader, source),
        Format::StixRegistry => read_stix_registry(reader, source),
    }
}

/// Reads lines with a length cap; an over-long line is reported as `Err`.
fn capped_lines(mut reader: impl BufRead) -> impl Iterator<Item = Result<String, String>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut buf = Vec::new();
        let mut too_long = false;
        loop {
            let chunk = match reader.fill_buf() {
                Ok(c) => c,
                Err(e) => {
                    done = true;
                    return Some(Err(format!("read error: {e}")));
                }
            };
            if chunk.is_empty() {
                done = true;
                if buf.is_empty() && !too_long {
                    return None;
                }
                break;
            }
            let (take, found) = match chunk.iter().position(|&b| b == b'\n') {
                Some(p) => (p + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if buf.len() + take > MAX_LINE_BYTES {
                    too_long = true;
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(&chunk[..take]);
                }
            }
            reader.consume(take);
            if found {
                break;
            }
        }
        if too_long {
            return Some(Err(format!("line longer than {MAX_LINE_BYTES} bytes")));
        }
        Some(Ok(String::from_utf8_lossy(&buf).trim_end().to_string()))
    })
}

struct Ctx<'a> {
    source: &'a str,
    line: usize,
    record: String,
    diagnostics: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn warn(&mut self, message: String) {
        self.push(false, message);
    }
    fn skip(&mut self, message: String) {
        self.push(true, message);
    }
    fn push(&mut self, skipped: bool, message: String) {
        self.diagnostics.push(Diagnostic {
            source: self.source.to_string(),
            line: self.line,
            record: self.record.clone(),
            skipped,
            message,
        });
    }

    /// Cleans one name: trims, cuts over-long names, drops empty ones.
    fn name(&mut self, field: &str, raw: &str) -> Option<String> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        if t.len() > MAX_NAME_BYTES {
            let mut cut = MAX_NAME_BYTES;
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            self.warn(format!(
                "{field}: name of {} bytes cut to {MAX_NAME_BYTES}",
                t.len()
            ));
            return Some(t[..cut].to_string());
        }
        Some(t.to_string())
    }

    /// Validates a date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`); invalid ones are dropped.
    fn date(&mut self, field: &str, raw: &str) -> Option<String> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        if valid_date(t) {
            Some(t.to_string())
        } else {
            let shown: String = t.chars().take(40).collect();
            self.warn(format!("{field}: invalid date {shown:?} ignored"));
            None
        }
    }

    fn country(&mut self, field: &str, raw: &str) -> Option<String> {
        let t = raw.trim().to_ascii_lowercase();
        if t.is_empty() {
            return None;
        }
        if t.len() >= 2 && t.len() <= 10 && t.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
            Some(t)
        } else {
            let shown: String = t.chars().take(40).collect();
            self.warn(format!("{field}: invalid country code {shown:?} ignored"));
            None
        }
    }
}

/// True for `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with a real month and day.
pub fn valid_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize| -> Option<u32> {
        if p.len() == len && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    };
    match parts.as_slice() {
        [y] => num(y, 4).is_some(),
        [y, m] => num(y, 4).is_some() && num(m, 2).is_some_and(|m| (1..=12).contains(&m)),
        [y, m, d] => {
            let (Some(y), Some(m), Some(d)) = (num(y, 4), num(m, 2), num(d, 2)) else {
                return false;
            };
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let days = match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 if leap => 29,
                2 => 28,
                _ => return false,
            };
            (1..=days).contains(&d)
        }
        _ => false,
    }
}

const ENTITY_SCHEMAS: &[&str] = &[
    "Person",
    "Company",
    "Organization",
    "LegalEntity",
    "PublicBody",
    "Vessel",
    "Airplane",
];
const IGNORED_SCHEMAS: &[&str] = &[
    "Address",
    "Identification",
    "Passport",
    "Family",
    "Associate",
    "Membership",
    "Employment",
    "Occupancy",
    "Position",
    "UnknownLink",
    "Note",
];
const ID_PROPS: &[&str] = &[
    "registrationNumber",
    "innCode",
    "ogrnCode",
    "taxNumber",
    "idNumber",
    "passportNumber",
    "imoNumber",
    "mmsi",
    "leiCode",
    "swiftBic",
    "vatCode",
    "okpoCode",
    "dunsCode",
];
const COUNTRY_PROPS: &[&str] = &[
    "country",
    "nationality",
    "citizenship",
    "jurisdiction",
    "mainCountry",
];

fn str_values(props: &serde_json::Map<String, Value>, key: &str) -> Vec<String> {
    match props.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .take(MAX_VALUES)
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Reads FollowTheMoney entities, one JSON object per line.
///
/// `Sanction` entities become listings of the entity they name;
/// `Ownership` and `Directorship` become relations. Entities without any
/// `Sanction` record get a listing per data set they come from.
pub fn read_ftm(reader: impl BufRead, source: &str) -> Import {
    let mut ctx = Ctx {
        source,
        line: 0,
        record: String::new(),
        diagnostics: Vec::new(),
    };
    let mut entities: Vec<Entity> = Vec::new();
    let mut relations = Vec::new();
    let mut sanctions: Vec<(String, Listing, usize)> = Vec::new();
    for (n, line) in capped_lines(reader).enumerate() {
        ctx.line = n + 1;
        ctx.record.clear();
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                ctx.skip(e);
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                ctx.skip(format!("malformed JSON: {e}"));
                continue;
            }
        };
        let Some(obj) = value.as_object() else {
            ctx.skip("not a JSON object".into());
            continue;
        };
        let id = obj.get("id").and_then(Value::as_str).unwrap_or("").trim();
        if id.is_empty() {
            ctx.skip("missing \"id\"".into());
            continue;
        }
        ctx.record = id.chars().take(200).collect();
        let schema = obj.get("schema").and_then(Value::as_str).unwrap_or("");
        let empty = serde_json::Map::new();
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let first = |k: &str| str_values(props, k).into_iter().next().unwrap_or_default();
        match schema {
            "Sanction" => {
                let entity = first("entity");
                if entity.is_empty() {
                    ctx.skip("Sanction without \"entity\"".into());
                    continue;
                }
                let listing = Listing {
                    list: [first("authority"), first("sourceList")]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" — "),
                    programme: first("program"),
                    listed_on: ctx
                        .date("startDate", &first("startDate"))
                        .unwrap_or_default(),
                    removed_on: ctx.date("endDate", &first("endDate")).unwrap_or_default(),
                    reference: [first("summary"), first("unscId")]
                        .into_iter()
                        .find(|s| !s.is_empty())
                        .unwrap_or_default(),
                    source_url: first("sourceUrl"),
                };
                sanctions.push((entity, listing, ctx.line));
            }
            "Ownership" | "Directorship" => {
                let (from_key, to_key, kind) = if schema == "Ownership" {
                    ("owner", "asset", RelationKind::Ownership)
                } else {
                    ("director", "organization", RelationKind::Control)
                };
                let (from, to) = (first(from_key), first(to_key));
                if from.is_empty() || to.is_empty() {
                    ctx.skip(format!("{schema} without \"{from_key}\" or \"{to_key}\""));
                    continue;
                }
                let pct_raw = first("percentage");
                let percentage = if pct_raw.is_empty() {
                    None
                } else {
                    match pct_raw.trim().trim_end_matches('%').parse::<f64>() {
                        Ok(p) if (0.0..=100.0).contains(&p) => Some(p),
                        _ => {
                            ctx.warn(format!("percentage: invalid value {pct_raw:?} ignored"));
                            None
                        }
                    }
                };
                relations.push(Relation {
                    kind,
                    from,
                    to,
                    percentage,
                });
            }
            s if ENTITY_SCHEMAS.contains(&s) => {
                let mut e = Entity {
                    id: id.to_string(),
                    schema: s.to_string(),
                    target: obj.get("target").and_then(Value::as_bool).unwrap_or(true),
                    ..Entity::default()
                };
                for n in str_values(props, "name") {
                    if let Some(n) = ctx.name("name", &n) {
                        e.names.push(n);
                    }
                }
                for key in ["alias", "weakAlias", "previousName", "abbreviation"] {
                    for n in str_values(props, key) {
                        if let Some(n) = ctx.name(key, &n) {
                            e.aliases.push(n);
                        }
                    }
                }
                if e.names.is_empty() && s == "Person" {
                    let parts: Vec<String> = ["firstName", "middleName", "lastName"]
                        .iter()
                        .map(|k| first(k))
                        .filter(|p| !p.is_empty())
                        .collect();
                    if let Some(n) = ctx.name("firstName/lastName", &parts.join(" ")) {
                        e.names.push(n);
                    }
                }
                if e.names.is_empty() {
                    if e.aliases.is_empty() {
                        ctx.skip("no name".into());
                        continue;
                    }
                    e.names.push(e.aliases.remove(0));
                }
                for key in ["birthDate", "incorporationDate"] {
                    for d in str_values(props, key) {
                        if let Some(d) = ctx.date(key, &d) {
                            e.birth_dates.push(d);
                        }
                    }
                }
                for key in COUNTRY_PROPS {
                    for c in str_values(props, key) {
                        if let Some(c) = ctx.country(key, &c) {
                            if !e.countries.contains(&c) {
                                e.countries.push(c);
                            }
                        }
                    }
                }
                for key in ID_PROPS {
                    for v in str_values(props, key) {
                        if !v.trim().is_empty() {
                            e.identifiers.push(Identifier {
                                kind: key.to_string(),
                                value: v.trim().chars().take(200).collect(),
                            });
                        }
                    }
                }
                e.addresses = str_values(props, "address");
                e.notes = str_values(props, "notes");
                e.datasets = match obj.get("datasets") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .take(MAX_VALUES)
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                entities.push(e);
            }
            "" => ctx.skip("missing \"schema\"".into()),
            s if IGNORED_SCHEMAS.contains(&s) => {}
            s => {
                let shown: String = s.chars().take(60).collect();
                ctx.skip(format!("unknown schema {shown:?}"));
            }
        }
    }
    let index: HashMap<String, usize> = entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.clone(), i))
        .collect();
    for (entity, listing, line) in sanctions {
        match index.get(&entity) {
            Some(&i) => entities[i].listings.push(listing),
            None => ctx.diagnostics.push(Diagnostic {
                source: source.to_string(),
                line,
                record: entity,
                skipped: true,
                message: "Sanction names an entity not in this file".into(),
            }),
        }
    }
    for e in &mut entities {
        if e.listings.is_empty() {
            e.listings = e
                .datasets
                .iter()
                .map(|d| Listing {
                    list: d.clone(),
                    ..Listing::default()
                })
                .collect();
        }
    }
    Import {
        entities,
        relations,
        diagnostics: ctx.diagnostics,
    }
}

/// Field accessor for CSV records by lower-cased header name.
struct Row<'a> {
    headers: &'a HashMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    fn get(&self, names: &[&str]) -> String {
        names
            .iter()
            .filter_map(|n| self.headers.get(*n))
            .filter_map(|&i| self.record.get(i))
            .find(|v| !v.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    }
    fn list(&self, names: &[&str]) -> Vec<String> {
        split_multi(&self.get(names))
    }
}

fn split_multi(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .take(MAX_VALUES)
        .map(str::to_string)
        .collect()
}

fn csv_records(
    reader: impl BufRead,
    source: &str,
    mut each: impl FnMut(&mut Ctx<'_>, &Row<'_>),
) -> Vec<Diagnostic> {
    let mut ctx = Ctx {
        source,
        line: 1,
        record: String::new(),
        diagnostics: Vec::new(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(LimitedReader {
            inner: reader,
            left: 4 * MAX_LINE_BYTES as u64 * 64,
        });
    let headers: HashMap<String, usize> = match rdr.headers() {
        Ok(h) => h
            .iter()
            .enumerate()
            .map(|(i, h)| {
                (
                    h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase(),
                    i,
                )
            })
            .collect(),
        Err(e) => {
            ctx.skip(format!("unreadable CSV header: {e}"));
            return ctx.diagnostics;
        }
    };
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                ctx.line = record.position().map(|p| p.line() as usize).unwrap_or(0);
                ctx.record.clear();
                if record.as_slice().len() > MAX_LINE_BYTES {
                    ctx.skip(format!("record longer than {MAX_LINE_BYTES} bytes"));
                    continue;
                }
                each(
                    &mut ctx,
                    &Row {
                        headers: &headers,
                        record: &record,
                    },
                );
            }
            Err(e) => {
                ctx.line = e.position().map(|p| p.line() as usize).unwrap_or(ctx.line);
                ctx.skip(format!("malformed CSV record: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    ctx.diagnostics
}

/// Caps the bytes read from an input, so a runaway file cannot exhaust memory.
struct LimitedReader<R> {
    inner: R,
    left: u64,
}

impl<R: std::io::Read> std::io::Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(self.left as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn csl_schema(kind: &str) -> &'static str {
    match kind.to_ascii_lowercase().as_str() {
        "individual" => "Person",
        "vessel" => "Vessel",
        "aircraft" => "Airplane",
        "entity" => "LegalEntity",
        _ => "LegalEntity",
    }
}

/// Turns CSL fields into an entity; shared by the CSV and JSON readers.
struct CslFields {
    id: String,
    source: String,
    kind: String,
    name: String,
    alt_names: Vec<String>,
    programs: Vec<String>,
    addresses: Vec<String>,
    countries: Vec<String>,
    dates: Vec<String>,
    ids: Vec<Identifier>,
    fr_notice: String,
    start: String,
    end: String,
    url: String,
    remarks: String,
}

fn csl_entity(ctx: &mut Ctx<'_>, f: CslFields) -> Option<Entity> {
    ctx.record = f.id.chars().take(200).collect();
    let Some(name) = ctx.name("name", &f.name) else {
        ctx.skip("no name".into());
        return None;
    };
    let mut e = Entity {
        id: f.id,
        schema: csl_schema(&f.kind).to_string(),
        names: vec![name],
        target: true,
        ..Entity::default()
    };
    for a in &f.alt_names {
        if let Some(a) = ctx.name("alt_names", a) {
            e.aliases.push(a);
        }
    }
    for d in &f.dates {
        // CSL writes dates of birth in several styles; keep the ISO ones.
        if let Some(d) = ctx.date("dates_of_birth", d) {
            e.birth_dates.push(d);
        }
    }
    for c in &f.countries {
        if let Some(c) = ctx.country("country", c) {
            if !e.countries.contains(&c) {
                e.countries.push(c);
            }
        }
    }
    e.addresses = f.addresses;
    e.identifiers = f.ids;
    if !f.remarks.is_empty() {
        e.notes.push(f.remarks);
    }
    e.datasets.push(f.source.clone());
    e.listings.push(Listing {
        list: f.source,
        programme: f.programs.join("; "),
        listed_on: ctx.date("start_date", &f.start).unwrap_or_default(),
        removed_on: ctx.date("end_date", &f.end).unwrap_or_default(),
        reference: f.fr_notice,
        source_url: f.url,
    });
    Some(e)
}

/// Reads the US Consolidated Screening List CSV download.
pub fn read_csl_csv(reader: impl BufRead, source: &str) -> Import {
    let mut entities = Vec::new();
    let diagnostics = csv_records(reader, source, |ctx, row| {
        let id = row.get(&["_id", "id", "entity_number"]);
        let id = if id.is_empty() {
            format!("{source}:{}", ctx.line)
        } else {
            id
        };
        let mut countries = row.list(&["nationalities"]);
        countries.extend(row.list(&["citizenships"]));
        let fields = CslFields {
            id,
            source: row.get(&["source"]),
            kind: row.get(&["type"]),
            name: row.get(&["name"]),
            alt_names: row.list(&["alt_names"]),
            programs: row.list(&["programs"]),
            addresses: row.list(&["addresses"]),
            countries,
            dates: row.list(&["dates_of_birth"]),
            ids: row
                .list(&["ids"])
                .into_iter()
                .map(|v| {
                    let (kind, value) = v.split_once(',').unwrap_or(("id", &v));
                    Identifier {
                        kind: kind.trim().to_string(),
                        value: value.trim().to_string(),
                    }
                })
                .collect(),
            fr_notice: row.get(&["federal_register_notice"]),
            start: row.get(&["start_date"]),
            end: row.get(&["end_date"]),
            url: row.get(&["source_list_url", "source_information_url"]),
            remarks: row.get(&["remarks"]),
        };
        if let Some(e) = csl_entity(ctx, fields) {
            entities.push(e);
        }
    });
    Import {
        entities,
        relations: Vec::new(),
        diagnostics,
    }
}

/// Reads one JSON document (at most 2 GiB); a failure is reported in `ctx`.
fn read_json_document(reader: &mut impl BufRead, ctx: &mut Ctx<'_>) -> Option<Value> {
    let mut text = String::new();
    let mut limited = LimitedReader {
        inner: reader,
        left: 1 << 31,
    };
    if let Err(e) = std::io::Read::read_to_string(&mut limited, &mut text) {
        ctx.skip(format!("unreadable: {e}"));
        return None;
    }
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            ctx.line = e.line();
            ctx.skip(format!("malformed JSON: {e}"));
            None
        }
    }
}

/// Reads the US Consolidated Screening List JSON download.
pub fn read_csl_json(mut reader: impl BufRead, source: &str) -> Import {
    let mut ctx = Ctx {
        source,
        line: 0,
        record: String::new(),
        diagnostics: Vec::new(),
    };
    let Some(value) = read_json_document(&mut reader, &mut ctx) else {
        return Import {
            diagnostics: ctx.diagnostics,
            ..Import::default()
        };
    };
    let results = match &value {
        Value::Array(a) => a.as_slice(),
        Value::Object(o) => match o.get("results") {
            Some(Value::Array(a)) => a.as_slice(),
            _ => &[],
        },
        _ => &[],
    };
    let mut entities = Vec::new();
    for (i, r) in results.iter().enumerate() {
        // JSON has no record lines; report the 1-based result number.
        ctx.line = i + 1;
        ctx.record.clear();
        let Some(o) = r.as_object() else {
            ctx.skip("result is not an object".into());
            continue;
        };
        let s = |k: &str| match o.get(k) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let list = |k: &str| -> Vec<String> {
            match o.get(k) {
                Some(Value::Array(a)) => a
                    .iter()
                    .take(MAX_VALUES)
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.trim().to_string()),
                        Value::Object(m) => Some(
                            m.values()
                                .filter_map(Value::as_str)
                                .filter(|s| !s.is_empty())
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                        _ => None,
                    })
                    .filter(|s| !s.is_empty())
                    .collect(),
                Some(Value::String(s)) => split_multi(s),
                _ => Vec::new(),
            }
        };
        let ids = match o.get("ids") {
            Some(Value::Array(a)) => a
                .iter()
                .take(MAX_VALUES)
                .filter_map(Value::as_object)
                .map(|m| Identifier {
                    kind: m
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("id")
                        .to_string(),
                    value: m
                        .get("number")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                })
                .filter(|i| !i.value.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        let mut countries = list("nationalities");
        countries.extend(list("citizenships"));
        let id = s("id");
        let id = if id.is_empty() {
            s("entity_number")
        } else {
            id
        };
        let id = if id.is_empty() {
            format!("{source}:{}", i + 1)
        } else {
            id
        };
        let fields = CslFields {
            id,
            source: s("source"),
            kind: s("type"),
            name: s("name"),
            alt_names: list("alt_names"),
            programs: list("programs"),
            addresses: list("addresses"),
            countries,
            dates: list("dates_of_birth"),
            ids,
            fr_notice: s("federal_register_notice"),
            start: s("start_date"),
            end: s("end_date"),
            url: {
                let u = s("source_list_url");
                if u.is_empty() {
                    s("source_information_url")
                } else {
                    u
                }
            },
            remarks: s("remarks"),
        };
        if let Some(e) = csl_entity(&mut ctx, fields) {
            entities.push(e);
        }
    }
    Import {
        entities,
        relations: Vec::new(),
        diagnostics: ctx.diagnostics,
    }
}

/// Reads a simple CSV: a `name` column (required) and optionally `id`,
/// `schema`, `aliases`, `country`, `birth_date`, `identifier`, `address`,
/// `list`, `programme`, `listed_on`, `source_url`. Multiple values in one
/// cell are separated by `;`.
pub fn read_simple_csv(reader: impl BufRead, source: &str) -> Import {
    let mut entities = Vec::new();
    let diagnostics = csv_records(reader, source, |ctx, row| {
        let id = row.get(&["id"]);
        let id = if id.is_empty() {
            format!("{source}:{}", ctx.line)
        } else {
            id
        };
        ctx.record = id.chars().take(200).collect();
        let Some(name) = ctx.name("name", &row.get(&["name"])) else {
            ctx.skip("no name".into());
            return;
        };
        let schema = match row.get(&["schema", "type"]).to_ascii_lowercase().as_str() {
            "person" | "individual" => "Person",
            "company" => "Company",
            "organization" | "organisation" => "Organization",
            _ => "LegalEntity",
        };
        let mut e = Entity {
            id,
            schema: schema.to_string(),
            names: vec![name],
            target: true,
            ..Entity::default()
        };
        for a in row.list(&["aliases", "alias"]) {
            if let Some(a) = ctx.name("aliases", &a) {
                e.aliases.push(a);
            }
        }
        for c in row.list(&["country", "countries", "nationality"]) {
            if let Some(c) = ctx.country("country", &c) {
                e.countries.push(c);
            }
        }
        for d in row.list(&["birth_date", "dob", "birthdate"]) {
            if let Some(d) = ctx.date("birth_date", &d) {
                e.birth_dates.push(d);
            }
        }
        e.identifiers = row
            .list(&["identifier", "registration_number", "id_number"])
            .into_iter()
            .map(|value| Identifier {
                kind: "identifier".into(),
                value,
            })
            .collect();
        e.addresses = row.list(&["address"]);
        let list = row.get(&["list"]);
        if !list.is_empty() {
            e.listings.push(Listing {
                list,
                programme: row.get(&["programme", "program"]),
                listed_on: ctx
                    .date("listed_on", &row.get(&["listed_on", "start_date"]))
                    .unwrap_or_default(),
                source_url: row.get(&["source_url"]),
                ..Listing::default()
            });
        }
        entities.push(e);
    });
    Import {
        entities,
        relations: Vec::new(),
        diagnostics,
    }
}

/// Reads the hub's spyware registry (a STIX 2.1 bundle): every `identity`
/// with a registry role (`spyware-vendor`, `listed-person`) becomes an
/// entity; its aliases and country come from the registry's property
/// extension, its listings from external references to the Federal
/// Register or the US Treasury.
pub fn read_stix_registry(mut reader: impl BufRead, source: &str) -> Import {
    let mut ctx = Ctx {
        source,
        line: 0,
        record: String::new(),
        diagnostics: Vec::new(),
    };
    let Some(value) = read_json_document(&mut reader, &mut ctx) else {
        return Import {
            diagnostics: ctx.diagnostics,
            ..Import::default()
        };
    };
    let objects = value
        .get("objects")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut entities = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        ctx.line = i + 1;
        ctx.record = o
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        if o.get("type").and_then(Value::as_str) != Some("identity") {
            continue;
        }
        let ext = o
            .get("extensions")
            .and_then(Value::as_object)
            .and_then(|m| m.values().find(|e| e.get("role").is_some()));
        let Some(ext) = ext else {
            continue;
        };
        let Some(name) = o
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| ctx.name("name", n))
        else {
            ctx.skip("identity without a name".into());
            continue;
        };
        let person = o.get("identity_class").and_then(Value::as_str) == Some("individual")
            || ext.get("role").and_then(Value::as_str) == Some("listed-person");
        let mut e = Entity {
            id: ctx.record.clone(),
            schema: if person { "Person" } else { "Company" }.into(),
            names: vec![name],
            target: true,
            datasets: vec![source.to_string()],
            ..Entity::default()
        };
        for a in ext
            .get("aliases")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .take(MAX_VALUES)
            .filter_map(Value::as_str)
        {
            if let Some(a) = ctx.name("aliases", a) {
                e.aliases.push(a);
            }
        }
        if let Some(c) = ext.get("country").and_then(Value::as_str) {
            if let Some(c) = ctx.country("country", c) {
                e.countries.push(c);
            }
        }
        if let Some(d) = o.get("description").and_then(Value::as_str) {
            e.notes.push(d.to_string());
        }
        for r in o
            .get("external_references")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .take(MAX_VALUES)
        {
            let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let src = field("source_name");
            let official = ["Federal Register", "Treasury", "OFAC", "Official Journal"]
                .iter()
                .any(|k| src.contains(k));
            if official {
                e.listings.push(Listing {
                    list: src,
                    reference: field("description"),
                    source_url: field("url"),
                    ..Listing::default()
                });
            }
        }
        entities.push(e);
    }
    Import {
        entities,
        relations: Vec::new(),
        diagnostics: ctx.diagnostics,
    }
}
