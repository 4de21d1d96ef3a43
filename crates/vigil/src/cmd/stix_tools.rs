//! `vigil stix` model tools (everything but `validate`): `stats`, `id`,
//! `new-version` and `revoke`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::{json, Map, Value};
use vigil_stix::bundle::BundleReader;
use vigil_stix::{deterministic_id, versioning, Category, StixObject, Timestamp};

use crate::Outcome;

/// The model tools.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Count the objects of a bundle per type; report unreadable objects and non-standard types.
    ///
    /// Streams the bundle, so files of any size work in bounded memory.
    /// Exit 1 if some objects could not be read or typed.
    Stats {
        /// The bundle (`-` for standard input).
        file: PathBuf,
        /// Print one JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Compute the deterministic id of a cyber-observable (UUIDv5 over its ID contributing properties).
    ///
    /// Exit 1 if the object has none of its type's contributing properties
    /// (STIX then wants a random UUIDv4), or with --check if its `id` differs.
    Id {
        /// File holding one JSON object (default: standard input).
        file: Option<PathBuf>,
        /// Compare with the object's own `id` instead of only printing.
        #[arg(long)]
        check: bool,
    },
    /// Print a new version of an object: same id and created, later modified.
    NewVersion {
        /// File holding one JSON object (default: standard input).
        file: Option<PathBuf>,
        /// Change a property: NAME=VALUE, VALUE read as JSON when it parses, else as a string;
        /// `NAME=null` removes the property. Repeatable.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// The new `modified` (default: now, and always later than the current one).
        #[arg(long)]
        modified: Option<String>,
    },
    /// Print a revoked version of an object.
    Revoke {
        /// File holding one JSON object (default: standard input).
        file: Option<PathBuf>,
    },
}

/// Runs a model tool.
pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    match cmd {
        Command::Stats { file, json } => stats(&file, json),
        Command::Id { file, check } => id(file.as_deref(), check),
        Command::NewVersion {
            file,
            set,
            modified,
        } => {
            let object = read_object(file.as_deref())?;
            let mut changes = Map::new();
            for item in &set {
                let (name, value) = item
                    .split_once('=')
                    .with_context(|| format!("--set {item:?}: expected NAME=VALUE"))?;
                let value =
                    serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
                changes.insert(name.to_owned(), value);
            }
            if let Some(m) = modified {
                Timestamp::parse(&m).context("--modified")?;
                changes.insert("modified".into(), Value::String(m));
            }
            let new = versioning::new_version(&object, &changes, Timestamp::now())
                .context("cannot make a new version")?;
            print_object(new)
        }
        Command::Revoke { file } => {
            let object = read_object(file.as_deref())?;
            let new = versioning::revoke(&object, Timestamp::now()).context("cannot revoke")?;
            print_object(new)
        }
    }
}

fn source_name(file: Option<&Path>) -> String {
    match file {
        Some(p) if p != Path::new("-") => p.display().to_string(),
        _ => "<stdin>".into(),
    }
}

fn open(file: Option<&Path>) -> anyhow::Result<Box<dyn Read>> {
    Ok(match file {
        Some(p) if p != Path::new("-") => Box::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        ),
        _ => Box::new(std::io::stdin().lock()),
    })
}

/// Largest single object the object tools read whole.
const MAX_OBJECT_BYTES: u64 = 64 << 20;

fn read_object(file: Option<&Path>) -> anyhow::Result<Map<String, Value>> {
    let name = source_name(file);
    let mut bytes = Vec::new();
    open(file)?
        .take(MAX_OBJECT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    if bytes.len() as u64 > MAX_OBJECT_BYTES {
        bail!("{name}: larger than {MAX_OBJECT_BYTES} bytes");
    }
    match vigil_stix::from_slice_strict(&bytes)
        .with_context(|| format!("{name}: not valid JSON"))?
    {
        Value::Object(map) => Ok(map),
        _ => bail!("{name}: expected one JSON object"),
    }
}

fn print_object(object: Map<String, Value>) -> anyhow::Result<Outcome> {
    println!("{}", serde_json::to_string_pretty(&Value::Object(object))?);
    Ok(Outcome::Ok)
}

fn id(file: Option<&Path>, check: bool) -> anyhow::Result<Outcome> {
    let name = source_name(file);
    let object = read_object(file)?;
    let Some(computed) = deterministic_id(&object).with_context(|| name.clone())? else {
        eprintln!(
            "{name}: none of the ID contributing properties is present; STIX uses a random UUIDv4 id for this object"
        );
        return Ok(Outcome::Findings);
    };
    println!("{computed}");
    if check {
        let own = object.get("id").and_then(Value::as_str).unwrap_or("");
        if own != computed.as_str() {
            eprintln!("{name}: id {own:?} differs from the deterministic id {computed}");
            return Ok(Outcome::Findings);
        }
    }
    Ok(Outcome::Ok)
}

#[derive(Default)]
struct Stats {
    objects: usize,
    bytes: u64,
    types: BTreeMap<String, usize>,
    categories: BTreeMap<&'static str, usize>,
    warnings: BTreeMap<String, (String, usize)>,
    problems: Vec<String>,
    problem_count: usize,
}

const MAX_LISTED_PROBLEMS: usize = 50;

/// Distinct type names counted one by one; beyond this, hostile input could grow memory.
const MAX_DISTINCT_TYPES: usize = 10_000;

/// The row that counts the objects of types beyond [`MAX_DISTINCT_TYPES`].
const OTHER_TYPES: &str = "(other types)";

fn category_name(c: Category) -> &'static str {
    match c {
        Category::Sdo => "sdo",
        Category::Sro => "sro",
        Category::Sco => "sco",
        Category::Meta => "meta",
        Category::Custom => "custom",
    }
}

impl Stats {
    fn problem(&mut self, message: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(message);
        }
    }
}

fn stats(file: &Path, as_json: bool) -> anyhow::Result<Outcome> {
    let name = source_name(Some(file));
    let mut reader = BundleReader::new(std::io::BufReader::new(open(Some(file))?));
    let mut s = Stats::default();
    for item in reader.by_ref() {
        let raw = match item {
            Ok(raw) => raw,
            Err(e) if e.is_fatal() => {
                return Err(e).with_context(|| format!("{name}: cannot read the bundle"))
            }
            Err(e) => {
                s.objects += 1;
                s.problem(e.to_string());
                continue;
            }
        };
        s.objects += 1;
        s.bytes += raw.len as u64;
        let mut object_type = raw.object_type().unwrap_or("").to_owned();
        if s.types.len() >= MAX_DISTINCT_TYPES && !s.types.contains_key(&object_type) {
            object_type = OTHER_TYPES.to_owned();
        }
        *s.types.entry(object_type).or_default() += 1;
        match StixObject::from_value(raw.value) {
            Ok(object) => {
                *s.categories
                    .entry(category_name(object.category()))
                    .or_default() += 1;
                if let Some(w) = object.warning() {
                    let key = if s.warnings.len() >= MAX_DISTINCT_TYPES
                        && !s.warnings.contains_key(&w.object_type)
                    {
                        OTHER_TYPES.to_owned()
                    } else {
                        w.object_type
                    };
                    s.warnings.entry(key).or_insert((w.message, 0)).1 += 1;
                }
            }
            Err(e) => s.problem(e.with_index(raw.index).to_string()),
        }
    }
    let header = reader.header();
    if as_json {
        let warnings: Vec<Value> = s
            .warnings
            .iter()
            .map(|(t, (m, n))| json!({"type": t, "count": n, "message": m}))
            .collect();
        let doc = json!({
            "file": name,
            "bundle_id": header.id,
            "objects": s.objects,
            "object_bytes": s.bytes,
            "types": s.types,
            "categories": s.categories,
            "warnings": warnings,
            "problems": s.problem_count,
            "first_problems": s.problems,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "{name}: {} {} objects",
            header.id.as_deref().unwrap_or("(bundle without id)"),
            s.objects
        );
        let width = s.types.keys().map(String::len).max().unwrap_or(0);
        for (t, n) in &s.types {
            let shown = if t.is_empty() { "(no type)" } else { t };
            println!("  {shown:<width$}  {n:>8}");
        }
        for (t, (m, n)) in &s.warnings {
            eprintln!("warning: {n} object(s) of type {t:?}: {m}");
        }
        for p in &s.problems {
            eprintln!("{name}: {p}");
        }
        if s.problem_count > s.problems.len() {
            eprintln!(
                "{name}: … and {} more problems",
                s.problem_count - s.problems.len()
            );
        }
    }
    Ok(if s.problem_count > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}
