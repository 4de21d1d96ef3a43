//! `vigil screen`: screen a party (or a batch of parties) against
//! restricted-party lists, record officers' decisions on hits, and record
//! item classifications for licence applications.
//!
//! Exit codes: 0 no hit (or all hits cleared), 1 hits to review, 2 error.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context};
use vigil_oversight::HubActionKind;
use vigil_screen::api::EntityExample;
use vigil_screen::{
    import, seed, Classification, ControlEntry, Decision, DecisionBook, Determination, Disposition,
    EntryDetermination, Match, Query, Screener, DEFAULT_THRESHOLD,
};

use crate::Outcome;

/// Arguments of `vigil screen`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    // Boxed: screening takes many flags, and `Command` in main.rs holds
    // every subcommand's arguments inline.
    #[command(flatten)]
    screen: Box<ScreenArgs>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Record an officer's decision on a hit (true match, false positive, escalate).
    Decide(Box<DecideArgs>),
    /// Record the control-list classification of an item in a licence application.
    Classify(Box<ClassifyArgs>),
}

/// Which lists to load.
#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Lists to screen against: FollowTheMoney JSON lines, US Consolidated
    /// Screening List (CSV or JSON), or a simple CSV with a `name` column.
    #[arg(long = "list", value_name = "FILE")]
    lists: Vec<PathBuf>,
    /// Do not include the curated seed list of spyware vendors and people.
    #[arg(long)]
    no_seed: bool,
}

/// The facts of one party.
#[derive(Debug, clap::Args)]
struct PartyArgs {
    /// Name of the party to screen.
    name: Option<String>,
    /// Other names of the party.
    #[arg(long = "alias", value_name = "NAME")]
    aliases: Vec<String>,
    /// `person`, `company` or `any`.
    #[arg(long, default_value = "any")]
    schema: String,
    /// Country (ISO 3166 alpha-2) of nationality, incorporation or address.
    #[arg(long = "country", value_name = "CC")]
    countries: Vec<String>,
    /// Birth or incorporation date (YYYY, YYYY-MM or YYYY-MM-DD).
    #[arg(long = "birth-date", value_name = "DATE")]
    birth_dates: Vec<String>,
    /// Registration number, tax code or other identifier.
    #[arg(long = "id", value_name = "VALUE")]
    identifiers: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct ScreenArgs {
    #[command(flatten)]
    party: PartyArgs,
    #[command(flatten)]
    lists: ListArgs,
    /// Score at or above which a candidate is a hit.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f32,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Screen every party of a CSV (`name`, `schema`, `country`,
    /// `birth_date`, `id` columns) or JSON-lines file (FollowTheMoney-style
    /// `{"schema", "properties"}` objects).
    #[arg(long, value_name = "FILE", conflicts_with = "name")]
    batch: Option<PathBuf>,
    /// Where batch results go (JSON lines); standard output by default.
    #[arg(long, value_name = "FILE", requires = "batch")]
    output: Option<PathBuf>,
    /// Decisions file (JSON lines): hits cleared as false positives for the
    /// same list version and unchanged entry are not raised again.
    #[arg(long, value_name = "FILE")]
    decisions: Option<PathBuf>,
    /// Hide the progress bar in batch mode.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct DecideArgs {
    #[command(flatten)]
    party: PartyArgs,
    #[command(flatten)]
    lists: ListArgs,
    /// Decisions file to append to (JSON lines).
    #[arg(long, value_name = "FILE")]
    decisions: PathBuf,
    /// Id of the listed entity the hit is on.
    #[arg(long)]
    entity: String,
    /// `true-match`, `false-positive` or `escalate`.
    #[arg(long)]
    disposition: Disposition,
    /// Why (required; kept in the audit trail).
    #[arg(long)]
    reason: String,
    /// Who decides.
    #[arg(long, env = "VIGIL_OFFICER")]
    officer: String,
    #[command(flatten)]
    hub: super::serve_log::HubDatabaseArgs,
}

#[derive(Debug, clap::Args)]
struct ClassifyArgs {
    /// Licence application reference.
    #[arg(long)]
    application: String,
    /// The item as named in the application.
    #[arg(long)]
    item: String,
    /// A control entry and the determination, e.g. `4A005=applies`,
    /// `5A001j=does-not-apply`, `ART5=undetermined`. Entries: 4A005, 4D004,
    /// 4E001c, 5A001j, ART5. Repeat for each entry considered.
    #[arg(long = "entry", value_name = "ENTRY=DETERMINATION", required = true)]
    entries: Vec<String>,
    /// Destination country (ISO alpha-2).
    #[arg(long)]
    destination: String,
    /// Human-rights risk notes on the destination and end-user.
    #[arg(long, default_value = "")]
    risk_notes: String,
    /// Who classifies.
    #[arg(long, env = "VIGIL_OFFICER")]
    officer: String,
    /// Classifications file to append to (JSON lines).
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    hub: super::serve_log::HubDatabaseArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `vigil screen`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Some(Sub::Decide(a)) => decide(*a),
        Some(Sub::Classify(a)) => classify(*a),
        None => screen(*args.screen),
    }
}

fn now() -> String {
    vigil_stix::Timestamp::now().to_string()
}

fn load(lists: &ListArgs) -> anyhow::Result<Screener> {
    let mut all = if lists.no_seed {
        import::Import::default()
    } else {
        seed::seed()
    };
    for path in &lists.lists {
        let file = File::open(path).with_context(|| format!("opening list {}", path.display()))?;
        let mut reader = BufReader::new(file);
        let head = reader
            .fill_buf()
            .with_context(|| format!("reading list {}", path.display()))?
            .to_vec();
        let name = path.display().to_string();
        let format = import::Format::detect(&name, &head);
        all.extend(import::read(format, reader, &name));
    }
    for d in all.diagnostics.iter().take(50) {
        eprintln!("vigil: {d}");
    }
    if all.diagnostics.len() > 50 {
        eprintln!(
            "vigil: … and {} more list problems",
            all.diagnostics.len() - 50
        );
    }
    if all.entities.is_empty() {
        bail!("no entities loaded from the lists given");
    }
    Ok(Screener::build(all.entities, all.relations))
}

fn schema_of(s: &str) -> anyhow::Result<String> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "person" | "individual" => "Person",
        "company" | "organisation" | "organization" | "entity" => "Company",
        "any" | "" | "legalentity" => "LegalEntity",
        other => bail!("unknown --schema {other:?} (person, company, any)"),
    }
    .to_string())
}

fn party_query(p: &PartyArgs) -> anyhow::Result<Query> {
    let Some(name) = p.name.as_deref().filter(|n| !n.trim().is_empty()) else {
        bail!("give a NAME to screen, or --batch FILE");
    };
    let mut names = vec![name.to_string()];
    names.extend(p.aliases.iter().cloned());
    for d in &p.birth_dates {
        if !import::valid_date(d) {
            bail!("--birth-date {d:?}: expected YYYY, YYYY-MM or YYYY-MM-DD");
        }
    }
    Ok(Query {
        schema: schema_of(&p.schema)?,
        names,
        countries: p.countries.iter().map(|c| c.to_ascii_lowercase()).collect(),
        birth_dates: p.birth_dates.clone(),
        identifiers: p.identifiers.clone(),
    })
}

fn read_book(path: &Option<PathBuf>) -> anyhow::Result<DecisionBook> {
    match path {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading decisions {}", p.display()))?;
            Ok(DecisionBook::from_json_lines(
                &text,
                &p.display().to_string(),
            )?)
        }
        _ => Ok(DecisionBook::new()),
    }
}

/// A hit with what the decisions book says about it.
#[derive(serde::Serialize)]
struct Hit<'a> {
    #[serde(flatten)]
    m: &'a Match,
    listings: &'a [vigil_screen::Listing],
    /// The decision clearing the hit, when it and every entry raised with
    /// it (`explanation.tied`) are cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    cleared: Option<&'a Decision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_decision: Option<&'a Decision>,
    /// Ids of the entries raised with the hit that are cleared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tied_cleared: Vec<&'a str>,
}

/// The decision clearing entry `id` for the query `key`, if one applies to
/// the loaded list version and the entry as it is now.
fn cleared_by<'b>(
    screener: &Screener,
    book: &'b DecisionBook,
    key: &str,
    version: &str,
    id: &str,
) -> Option<&'b Decision> {
    let fp = screener
        .entity(id)
        .map(|e| e.fingerprint())
        .unwrap_or_default();
    book.suppressing(key, id, &fp, version)
}

fn screen(a: ScreenArgs) -> anyhow::Result<Outcome> {
    let screener = load(&a.lists)?;
    let book = read_book(&a.decisions)?;
    if let Some(batch) = &a.batch {
        return run_batch(
            &screener,
            &book,
            batch,
            a.output.as_deref(),
            a.threshold,
            a.quiet,
        );
    }
    let query = party_query(&a.party)?;
    let version = screener.list_version();
    let key = query.key();
    let matches = screener.match_query(&query, a.threshold);
    let hits: Vec<Hit<'_>> = matches
        .iter()
        .map(|m| {
            let entity = screener.entity(&m.entity_id);
            let cleared = |id: &str| cleared_by(&screener, &book, &key, &version, id);
            let tied_cleared: Vec<&str> = m
                .explanation
                .tied
                .iter()
                .map(|r| r.entity_id.as_str())
                .filter(|id| cleared(id).is_some())
                .collect();
            Hit {
                m,
                listings: entity.map(|e| e.listings.as_slice()).unwrap_or(&[]),
                cleared: cleared(&m.entity_id)
                    .filter(|_| tied_cleared.len() == m.explanation.tied.len()),
                last_decision: book.latest(&key, &m.entity_id),
                tied_cleared,
            }
        })
        .collect();
    let open = hits.iter().filter(|h| h.cleared.is_none()).count();
    if a.json {
        let out = serde_json::json!({
            "query": query,
            "query_key": key,
            "list_version": version,
            "entities": screener.len(),
            "threshold": a.threshold,
            "hits": hits,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let mut facts = Vec::new();
        if !query.countries.is_empty() {
            facts.push(format!(
                "country {}",
                query.countries.join(",").to_uppercase()
            ));
        }
        if !query.birth_dates.is_empty() {
            facts.push(format!("born {}", query.birth_dates.join(",")));
        }
        if !query.identifiers.is_empty() {
            facts.push(format!("id {}", query.identifiers.join(",")));
        }
        println!(
            "screened {:?}{} against {} entities (list version {version}, threshold {:.2})",
            query.names[0],
            if facts.is_empty() {
                String::new()
            } else {
                format!(" ({})", facts.join("; "))
            },
            screener.len(),
            a.threshold
        );
        if hits.is_empty() {
            println!("no hit");
        }
        for h in &hits {
            let status = if h.cleared.is_some() {
                "CLEARED"
            } else {
                "HIT"
            };
            println!(
                "{status} {:.2}  {} [{}] {}",
                h.m.score, h.m.caption, h.m.entity_id, h.m.schema
            );
            for l in h.listings {
                let mut line = format!("      {}", l.list);
                if !l.programme.is_empty() {
                    line.push_str(&format!(" — {}", l.programme));
                }
                if !l.listed_on.is_empty() {
                    line.push_str(&format!(", listed {}", l.listed_on));
                }
                if l.is_removed() {
                    line.push_str(&format!(", REMOVED {}", l.removed_on));
                }
                if !l.reference.is_empty() {
                    line.push_str(&format!(" ({})", l.reference));
                }
                println!("{line}");
                if !l.source_url.is_empty() {
                    println!("      {}", l.source_url);
                }
            }
            // Entries raised with the hit, and those set aside, each on a
            // line of their own.
            let mut why = h.m.explanation.clone();
            let tied = std::mem::take(&mut why.tied);
            let aside = std::mem::take(&mut why.set_aside);
            println!("      why: {why}");
            if !tied.is_empty() {
                println!(
                    "      raised with it ({} more {} alike on the name and every fact given; add a birth date, country or identifier to tell them apart):",
                    tied.len(),
                    if tied.len() == 1 { "entry" } else { "entries" }
                );
            }
            for r in &tied {
                let done = if h.tied_cleared.contains(&r.entity_id.as_str()) {
                    " (cleared)"
                } else {
                    ""
                };
                // Each entry's own listing: homonyms may sit on different lists.
                let listed = screener
                    .entity(&r.entity_id)
                    .and_then(|e| e.listings.first())
                    .map(|l| match l.listed_on.as_str() {
                        "" => format!(" — {}", l.list),
                        on => format!(" — {}, listed {on}", l.list),
                    })
                    .unwrap_or_default();
                println!("        {} [{}]{listed}{done}", r.caption, r.entity_id);
            }
            for r in &aside {
                println!(
                    "      not raised: {} [{}] {:.2}: {} (another entry agrees)",
                    r.caption, r.entity_id, r.score, r.detail
                );
            }
            for p in &h.m.ownership {
                let chain: Vec<String> = p
                    .steps
                    .iter()
                    .map(|s| match s.percentage {
                        Some(pct) => format!("{} owns {pct}% of {}", s.from, s.to),
                        None => format!("{} controls {}", s.from, s.to),
                    })
                    .collect();
                println!(
                    "      restricted through {}: {}",
                    p.listed,
                    chain.join(" → ")
                );
            }
            if let Some(d) = h.cleared {
                println!(
                    "      cleared as false positive by {} on {}: {}",
                    d.officer, d.decided_at, d.reason
                );
            } else if let Some(d) = h.last_decision {
                println!(
                    "      earlier decision ({:?}) by {} on {} no longer applies: the list or entry changed",
                    d.disposition, d.officer, d.decided_at
                );
            }
        }
        if open > 0 {
            println!("query key {key}: record a decision with `vigil screen decide`");
        }
    }
    Ok(if open > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// One party read from a batch file, or the problem with its record.
type BatchRecord = (usize, Result<Query, String>);

fn batch_records(path: &Path) -> anyhow::Result<Box<dyn Iterator<Item = BatchRecord>>> {
    let file = File::open(path).with_context(|| format!("opening batch {}", path.display()))?;
    let lower = path.display().to_string().to_ascii_lowercase();
    if lower.ends_with(".csv") {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let headers: HashMap<String, usize> = rdr
            .headers()
            .with_context(|| format!("reading CSV header of {}", path.display()))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_ascii_lowercase(), i))
            .collect();
        let Some(&name_col) = headers.get("name") else {
            bail!("{}: CSV has no `name` column", path.display());
        };
        let col = move |names: &[&str]| names.iter().find_map(|n| headers.get(*n).copied());
        let (schema_col, country_col, dob_col, id_col) = (
            col(&["schema", "type"]),
            col(&["country", "countries", "nationality"]),
            col(&["birth_date", "birthdate", "dob"]),
            col(&["id_number", "identifier", "registration_number"]),
        );
        let iter = rdr.into_records().map(move |r| match r {
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                (line, Err(format!("malformed CSV record: {e}")))
            }
            Ok(rec) => {
                let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
                let get = |c: Option<usize>| -> Vec<String> {
                    c.and_then(|c| rec.get(c))
                        .map(|v| {
                            v.split(';')
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let names = get(Some(name_col));
                let q = to_query(
                    names,
                    get(schema_col).first().map(String::as_str).unwrap_or(""),
                    get(country_col),
                    get(dob_col),
                    get(id_col),
                );
                (line, q)
            }
        });
        Ok(Box::new(iter))
    } else {
        let reader = BufReader::new(file);
        let iter = reader.lines().enumerate().filter_map(|(i, l)| {
            let line = i + 1;
            let text = match l {
                Ok(t) => t,
                Err(e) => return Some((line, Err(format!("unreadable line: {e}")))),
            };
            if text.trim().is_empty() {
                return None;
            }
            let ex: EntityExample = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return Some((line, Err(format!("malformed JSON: {e}")))),
            };
            let q = ex.to_query();
            let schema = q.schema.clone();
            Some((
                line,
                to_query(q.names, &schema, q.countries, q.birth_dates, q.identifiers),
            ))
        });
        Ok(Box::new(iter))
    }
}

fn to_query(
    names: Vec<String>,
    schema: &str,
    countries: Vec<String>,
    birth_dates: Vec<String>,
    identifiers: Vec<String>,
) -> Result<Query, String> {
    let names: Vec<String> = names.into_iter().filter(|n| !n.trim().is_empty()).collect();
    if names.is_empty() {
        return Err("no name".into());
    }
    let (dates, bad): (Vec<String>, Vec<String>) =
        birth_dates.into_iter().partition(|d| import::valid_date(d));
    if let Some(b) = bad.first() {
        let shown: String = b.chars().take(40).collect();
        return Err(format!("invalid birth date {shown:?}"));
    }
    Ok(Query {
        schema: schema_of(schema).map_err(|e| e.to_string())?,
        names,
        countries: countries
            .into_iter()
            .map(|c| c.to_ascii_lowercase())
            .collect(),
        birth_dates: dates,
        identifiers,
    })
}

fn run_batch(
    screener: &Screener,
    book: &DecisionBook,
    path: &Path,
    output: Option<&Path>,
    threshold: f32,
    quiet: bool,
) -> anyhow::Result<Outcome> {
    let total_hint = if quiet {
        0
    } else {
        // A line count for the progress bar; cheap next to screening.
        BufReader::new(File::open(path)?).lines().count()
    };
    let records = batch_records(path)?;
    let mut out: Box<dyn Write> = match output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(total_hint as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} parties {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let version = screener.list_version();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16);
    let (mut screened, mut with_hits, mut errors) = (0usize, 0usize, 0usize);
    let mut records = records.peekable();
    const CHUNK: usize = 4096;
    while records.peek().is_some() {
        let chunk: Vec<BatchRecord> = records.by_ref().take(CHUNK).collect();
        let results: Vec<std::sync::Mutex<Option<serde_json::Value>>> = (0..chunk.len())
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((line, rec)) = chunk.get(i) else {
                        break;
                    };
                    let v = match rec {
                        Err(e) => serde_json::json!({"line": line, "error": e}),
                        Ok(q) => {
                            let key = q.key();
                            let hits: Vec<serde_json::Value> = screener
                                .match_query(q, threshold)
                                .into_iter()
                                .map(|m| {
                                    let cleared = std::iter::once(&m.entity_id)
                                        .chain(m.explanation.tied.iter().map(|r| &r.entity_id))
                                        .all(|id| {
                                            cleared_by(screener, book, &key, &version, id)
                                                .is_some()
                                        });
                                    let mut v = serde_json::to_value(&m).unwrap_or_default();
                                    if let Some(o) = v.as_object_mut() {
                                        o.insert("cleared".into(), cleared.into());
                                    }
                                    v
                                })
                                .collect();
                            serde_json::json!({"line": line, "query": q, "query_key": key, "hits": hits})
                        }
                    };
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(v);
                    }
                    bar.inc(1);
                });
            }
        });
        for r in results {
            let Some(v) = r.into_inner().ok().flatten() else {
                continue;
            };
            if let Some(e) = v.get("error") {
                errors += 1;
                let msg = e.as_str().unwrap_or_default();
                bar.suspend(|| {
                    eprintln!("vigil: {}:{}: skipped: {msg}", path.display(), v["line"])
                });
            } else {
                screened += 1;
                let open = v["hits"]
                    .as_array()
                    .is_some_and(|h| h.iter().any(|x| x["cleared"] != true));
                with_hits += usize::from(open);
            }
            serde_json::to_writer(&mut out, &v)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    bar.finish_and_clear();
    eprintln!(
        "screened {screened} parties against {} entities: {with_hits} with hits to review, {errors} records skipped",
        screener.len()
    );
    Ok(if with_hits > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn decide(a: DecideArgs) -> anyhow::Result<Outcome> {
    let screener = load(&a.lists)?;
    let query = party_query(&a.party)?;
    let Some(entity) = screener.entity(&a.entity) else {
        bail!("entity {:?} is not in the loaded lists", a.entity);
    };
    let mut book = read_book(&Some(a.decisions.clone()))?;
    let decision = Decision {
        query_key: query.key(),
        query_name: query.names[0].clone(),
        entity_id: entity.id.clone(),
        entity_fingerprint: entity.fingerprint(),
        list_version: screener.list_version(),
        disposition: a.disposition,
        reason: a.reason,
        officer: a.officer,
        decided_at: now(),
    };
    let recorded = book.record(decision)?.clone();
    // On the hub's transparency log (queued, salted hashes only) before it
    // is kept, under the subject the hub's screening page uses.
    let subject = format!("screening:{}:{}", recorded.query_key, recorded.entity_id);
    let queued = log_record(
        &a.hub,
        HubActionKind::ExportScreening,
        &recorded.officer,
        &[subject],
    )?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.decisions)
        .with_context(|| format!("opening {}", a.decisions.display()))?;
    writeln!(f, "{}", serde_json::to_string(&recorded)?)
        .with_context(|| format!("writing {}", a.decisions.display()))?;
    println!(
        "recorded {:?} on {} [{}] for {:?} (list version {}), by {}",
        recorded.disposition,
        entity.caption(),
        entity.id,
        recorded.query_name,
        recorded.list_version,
        recorded.officer
    );
    if let Some(id) = queued.first() {
        println!("queued for the hub's transparency log (queue id {id})");
    }
    Ok(Outcome::Ok)
}

/// Queues a record's entries for the hub's transparency log when the hub's
/// database is named (returning their queue ids), or says on standard
/// error that the record stays off the log.
fn log_record(
    hub: &super::serve_log::HubDatabaseArgs,
    kind: HubActionKind,
    officer: &str,
    subjects: &[String],
) -> anyhow::Result<Vec<i64>> {
    match hub.database()? {
        Some(db) => super::serve_log::queue_records(&db, kind, officer, subjects),
        None => {
            eprintln!(
                "vigil: not on the transparency log: give the hub's --database or --data-dir to record it there"
            );
            Ok(Vec::new())
        }
    }
}

fn classify(a: ClassifyArgs) -> anyhow::Result<Outcome> {
    let mut entries = Vec::new();
    for e in &a.entries {
        let (entry, det) = e
            .split_once('=')
            .with_context(|| format!("--entry {e:?}: expected ENTRY=DETERMINATION"))?;
        entries.push(EntryDetermination {
            entry: entry.parse::<ControlEntry>()?,
            determination: det.parse::<Determination>()?,
        });
    }
    if a.officer.trim().is_empty() {
        bail!("--officer must not be empty");
    }
    let mut c = Classification {
        application: a.application,
        item: a.item,
        entries,
        destination: a.destination.to_ascii_lowercase(),
        risk_notes: a.risk_notes,
        officer: a.officer,
        decided_at: now(),
        log_queue_ids: Vec::new(),
    };
    // Each determination is on the hub's transparency log (queued, salted
    // hashes only) before the record is kept.
    c.log_queue_ids = log_record(
        &a.hub,
        HubActionKind::LicenceDetermination,
        &c.officer,
        &c.log_subjects(),
    )?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.output)
        .with_context(|| format!("opening {}", a.output.display()))?;
    writeln!(f, "{}", serde_json::to_string(&c)?)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        println!(
            "{} / {:?} to {}: {}",
            c.application,
            c.item,
            c.destination.to_uppercase(),
            if c.licence_required() {
                "LICENCE REQUIRED"
            } else {
                "no entry determined to apply"
            }
        );
        for e in &c.entries {
            println!(
                "  {:<7} {:<15} {}",
                e.entry.code(),
                format!("{:?}", e.determination),
                e.entry.summary()
            );
        }
        let open: Vec<&str> = c.open_entries().map(ControlEntry::code).collect();
        if !open.is_empty() {
            println!("  still to determine: {}", open.join(", "));
        }
        if !c.risk_notes.is_empty() {
            println!("  destination risk notes: {}", c.risk_notes);
        }
        if !c.log_queue_ids.is_empty() {
            println!(
                "  queued for the hub's transparency log (queue ids {})",
                c.log_queue_ids
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(Outcome::Ok)
}
