//! `vigil iocs`: manage the local indicator sets `vigil scan` uses.
//!
//! Sets come from `--iocs FILE_OR_DIR` when given; otherwise from the local
//! folder (`--iocs-dir`, `$VIGIL_IOCS_DIR`, or `$XDG_DATA_HOME/vigil/iocs`,
//! `~/.local/share/vigil/iocs`) plus the default set shipped with Vigil (the
//! public Amnesty Tech and MVT indicator sets in `data/indicators`, found via
//! `$VIGIL_DEFAULT_IOCS`, next to the binary in `../share/vigil/indicators`,
//! or in the source tree it was built from; failing those, the STIX bundles
//! of `data/indicators` built into the binary by `vigil-registry`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use vigil_iocs::{IndicatorSet, Matcher, ObservableKind};

use crate::Outcome;

/// Where indicator sets come from (shared by `vigil scan` and `vigil iocs`).
#[derive(Debug, Clone, clap::Args)]
pub struct IocsSource {
    /// Indicator file or folder (STIX 2.1, .txt list, .csv); repeatable. Replaces the local and default sets.
    #[arg(long = "iocs", value_name = "FILE_OR_DIR")]
    pub iocs: Vec<PathBuf>,
    /// The local folder of imported sets.
    #[arg(long, value_name = "DIR", env = "VIGIL_IOCS_DIR")]
    pub iocs_dir: Option<PathBuf>,
    /// Do not use the default set shipped with Vigil.
    #[arg(long)]
    pub no_default_iocs: bool,
}

/// The local folder of imported sets.
pub fn local_dir(src: &IocsSource) -> Option<PathBuf> {
    if let Some(d) = &src.iocs_dir {
        return Some(d.clone());
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("vigil/iocs"))
}

/// The default indicator set shipped with Vigil, if it can be found.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VIGIL_DEFAULT_IOCS") {
        return Some(PathBuf::from(p));
    }
    let mut candidates = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(exe_dir.join("../share/vigil/indicators"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/indicators"));
    candidates.into_iter().find(|p| p.is_dir())
}

/// Where one group of sets comes from.
enum Origin {
    /// A file or folder.
    Path(PathBuf),
    /// The indicator bundles built into the binary.
    BuiltIn,
}

/// The sources in use: `--iocs`, or the local folder and the default set.
fn sources(src: &IocsSource) -> Vec<Origin> {
    if !src.iocs.is_empty() {
        return src.iocs.iter().cloned().map(Origin::Path).collect();
    }
    let mut out = Vec::new();
    if let Some(d) = local_dir(src).filter(|d| d.is_dir()) {
        out.push(Origin::Path(d));
    }
    if !src.no_default_iocs {
        out.push(default_dir().map_or(Origin::BuiltIn, Origin::Path));
    }
    out
}

/// The public indicator bundles built into the binary, named by their path in the source tree.
fn built_in_sets() -> (Vec<IndicatorSet>, Vec<String>) {
    let mut sets = Vec::new();
    let mut errors = Vec::new();
    for b in vigil_registry::bundles().filter(|b| b.source == vigil_registry::Source::Indicators) {
        let path = Path::new("data").join(b.path);
        match vigil_iocs::load_bytes(&path, b.text.as_bytes()) {
            Ok(set) => sets.push(set),
            Err(e) => errors.push(format!("indicators: {e}")),
        }
    }
    (sets, errors)
}

/// Reads every source in use, the built-in bundles with `built_in` and each
/// file or folder with `from_path`; what fails is returned as messages.
fn gather<T>(
    src: &IocsSource,
    built_in: impl Fn() -> (Vec<T>, Vec<String>),
    from_path: impl Fn(&Path) -> (Vec<T>, Vec<vigil_iocs::Error>),
) -> anyhow::Result<(Vec<T>, Vec<String>)> {
    let origins = sources(src);
    if origins.is_empty() {
        bail!(
            "no indicator sets: give --iocs FILE_OR_DIR, or import sets with `vigil iocs import`"
        );
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for origin in origins {
        let (s, e) = match origin {
            Origin::BuiltIn => built_in(),
            Origin::Path(p) => {
                if !p.exists() {
                    bail!("{}: no such indicator file or folder", p.display());
                }
                let (s, e) = from_path(&p);
                (
                    s,
                    e.into_iter().map(|e| format!("indicators: {e}")).collect(),
                )
            }
        };
        out.extend(s);
        errors.extend(e);
    }
    Ok((out, errors))
}

/// The first problem, for the message when nothing could be loaded.
fn no_indicators(errors: &[String]) -> anyhow::Error {
    let why = errors.first().cloned().unwrap_or_default();
    anyhow::anyhow!("no indicators could be loaded {why}")
}

/// Loads the sets in use; files that fail are returned as messages, the rest load.
pub fn load_sets(src: &IocsSource) -> anyhow::Result<(Vec<IndicatorSet>, Vec<String>)> {
    let (sets, errors) = gather(src, built_in_sets, vigil_iocs::load_path)?;
    if sets.iter().all(|s| s.indicators.is_empty()) {
        return Err(no_indicators(&errors));
    }
    Ok((sets, errors))
}

/// Loads the sets in use and builds the matcher, from each file's compiled form where it is current.
///
/// A scan of a file of at least [`COMPILE_MIN_BYTES`] leaves its compiled
/// form beside it (when the folder is writable), so the next scan reads the
/// built tables instead of parsing and compiling the file again.
pub fn load_indicators(src: &IocsSource) -> anyhow::Result<(Matcher, Vec<String>)> {
    let (parts, errors) = gather(
        src,
        || {
            let (sets, errors) = built_in_sets();
            (vec![Matcher::new(sets)], errors)
        },
        |p| vigil_iocs::load_path_with(p, |f| load_compiled(f, COMPILE_MIN_BYTES)),
    )?;
    let matcher = Matcher::combine(parts);
    if matcher.is_empty() {
        return Err(no_indicators(&errors));
    }
    Ok((matcher, errors))
}

/// Indicator files at least this large get a compiled form when scanned
/// (smaller ones load in a few milliseconds anyway, and the shipped sets'
/// folders stay untouched).
pub const COMPILE_MIN_BYTES: u64 = 4 << 20;

/// Where the compiled form of an indicator file is kept: a hidden file beside it.
pub fn compiled_path(file: &Path) -> Option<PathBuf> {
    let name = file.file_name()?.to_str()?;
    Some(file.with_file_name(format!(".{name}.vigil-compiled")))
}

/// The matcher over one indicator file, read from its compiled form when that
/// is current; otherwise built from the file, and its compiled form written
/// when the file has at least `min_bytes` bytes or one was there already.
///
/// A compiled form built from another version of the file is rebuilt
/// silently; a damaged one is reported on stderr and rebuilt. Failing to
/// write one (a read-only folder) only costs the next scan the full load.
pub fn load_compiled(file: &Path, min_bytes: u64) -> Result<Matcher, vigil_iocs::Error> {
    let stamp = vigil_iocs::SourceStamp::of_file(file).map_err(|source| vigil_iocs::Error::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let cache = compiled_path(file);
    let existed = cache.as_deref().is_some_and(Path::is_file);
    if let Some(c) = cache.as_deref().filter(|_| existed) {
        let read = std::fs::read(c)
            .map_err(|e| vigil_iocs::CompiledError::Corrupt(e.to_string()))
            .and_then(|bytes| Matcher::from_compiled_vec(bytes, stamp, file));
        match read {
            Ok(m) => return Ok(m),
            Err(vigil_iocs::CompiledError::Stale) => {}
            Err(e) => eprintln!(
                "vigil: {}: {e}; rebuilding it from {}",
                c.display(),
                file.display()
            ),
        }
    }
    let set = vigil_iocs::load_file(file)?;
    let m = Matcher::new(vec![set]);
    // One that was there (stale or damaged) is replaced whatever the file's size.
    if stamp.size >= min_bytes || existed {
        if let (Some(c), Ok(bytes)) = (cache, m.to_compiled(stamp)) {
            write_atomically(&c, &bytes);
        }
    }
    Ok(m)
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    if std::fs::write(&tmp, bytes).is_err() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Arguments of `vigil iocs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List the indicator sets `vigil scan` would use, with counts per kind.
    List {
        #[command(flatten)]
        src: IocsSource,
    },
    /// Check indicator files and copy them into the local folder.
    Import {
        /// STIX 2.1 bundles, .txt lists or .csv sets.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        src: IocsSource,
    },
    /// Write the indicators in use as one STIX 2.1 bundle or a text list.
    Export {
        /// `stix` (a bundle with malware objects and `indicates` relationships) or `text`.
        #[arg(long, default_value = "stix", value_parser = ["stix", "text"])]
        format: String,
        /// Output file (default: stdout).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        #[command(flatten)]
        src: IocsSource,
    },
}

/// Runs `vigil iocs`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::List { src } => list(&src),
        Command::Import { files, src } => import(&files, &src),
        Command::Export {
            format,
            output,
            src,
        } => export(&format, output.as_deref(), &src),
    }
}

fn kind_word(k: ObservableKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn list(src: &IocsSource) -> anyhow::Result<Outcome> {
    let (sets, errors) = load_sets(src)?;
    let total: usize = sets.iter().map(|s| s.indicators.len()).sum();
    println!("{total} indicators in {} sets", sets.len());
    for s in &sets {
        let counts: Vec<String> = s
            .counts()
            .into_iter()
            .map(|(k, n)| format!("{n} {}", kind_word(k)))
            .collect();
        let spyware = s.spyware();
        println!(
            "  {:<40} {:>6}  {:<28} {}",
            s.name,
            s.indicators.len(),
            if spyware.is_empty() {
                "-".to_string()
            } else {
                spyware.join(", ")
            },
            s.source.display()
        );
        println!("  {:<40}         {}", "", counts.join(", "));
        if s.general_count() > 0 {
            println!(
                "  {:<40}         {} for the general evaluator",
                "",
                s.general_count()
            );
        }
        for d in s.diagnostics.iter().take(5) {
            println!("  {:<40}         skipped: {d}", "");
        }
    }
    for e in &errors {
        eprintln!("vigil: {e}");
    }
    Ok(Outcome::Ok)
}

fn import(files: &[PathBuf], src: &IocsSource) -> anyhow::Result<Outcome> {
    let dir = local_dir(src).context("no local folder: give --iocs-dir or set HOME")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
    for f in files {
        let set = vigil_iocs::load_file(f)?;
        if set.indicators.is_empty() {
            bail!("{}: no indicators in this file; not imported", f.display());
        }
        let name = f.file_name().context("file name")?;
        let dest = dir.join(name);
        std::fs::copy(f, &dest).with_context(|| format!("copy to {}", dest.display()))?;
        // The compiled form beside the copy: scans read it instead of the file.
        load_compiled(&dest, 0)?;
        println!(
            "imported {} ({} indicators{}) to {}",
            f.display(),
            set.indicators.len(),
            if set.diagnostics.is_empty() {
                String::new()
            } else {
                format!(", {} entries skipped", set.diagnostics.len())
            },
            dest.display()
        );
    }
    Ok(Outcome::Ok)
}

/// A deterministic UUID-shaped id from text (FNV-1a, two lanes), for exported objects.
fn stable_uuid(text: &str) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for byte in text.bytes() {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3 ^ 0x2_0000);
    }
    let v = (u128::from(a) << 64) | u128::from(b);
    // Version 8 (custom), RFC 4122 variant.
    let v = (v & !(0xf << 76)) | (0x8 << 76);
    let v = (v & !(0x3 << 62)) | (0x2 << 62);
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn stix_path(kind: ObservableKind) -> &'static str {
    use ObservableKind as K;
    match kind {
        K::Domain => "domain-name:value",
        K::Url => "url:value",
        K::Ipv4 => "ipv4-addr:value",
        K::Ipv6 => "ipv6-addr:value",
        K::Email => "email-addr:value",
        K::FileHash => "file:hashes",
        K::FileName => "file:name",
        K::FilePath => "file:path",
        K::ProcessName => "process:name",
        K::AppId => "app:id",
        K::AppCertHash => "app:cert.sha256",
        K::AndroidProperty => "android-property:name",
        K::ConfigurationProfileId => "configuration-profile:id",
    }
}

fn pattern_for(ind: &vigil_iocs::Indicator) -> String {
    if ind.pattern.starts_with('[') {
        return ind.pattern.clone();
    }
    let parts: Vec<String> = ind
        .terms
        .iter()
        .map(|t| {
            let v = t.value.replace('\\', "\\\\").replace('\'', "\\'");
            let path = match (t.kind, t.value.len()) {
                (ObservableKind::FileHash, 32) => "file:hashes.MD5".to_string(),
                (ObservableKind::FileHash, 40) => "file:hashes.'SHA-1'".to_string(),
                (ObservableKind::FileHash, 128) => "file:hashes.'SHA-512'".to_string(),
                (ObservableKind::FileHash, _) => "file:hashes.'SHA-256'".to_string(),
                (k, _) => stix_path(k).to_string(),
            };
            format!("{path} = '{v}'")
        })
        .collect();
    format!("[{}]", parts.join(" OR "))
}

fn export(format: &str, output: Option<&Path>, src: &IocsSource) -> anyhow::Result<Outcome> {
    let (sets, errors) = load_sets(src)?;
    for e in &errors {
        eprintln!("vigil: {e}");
    }
    let text = if format == "text" {
        let mut s = String::new();
        let mut current: Option<String> = None;
        for set in &sets {
            for ind in &set.indicators {
                let spy = ind
                    .spyware
                    .first()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                if current.as_deref() != Some(spy.as_str()) {
                    let _ = writeln!(s, "# spyware: {spy}");
                    current = Some(spy);
                }
                if ind.general.is_some() {
                    let _ = writeln!(s, "{}", ind.pattern);
                }
                for t in &ind.terms {
                    let _ = writeln!(s, "{}", t.value);
                }
            }
        }
        s
    } else {
        let created = "2024-01-01T00:00:00.000Z";
        let mut objects = Vec::new();
        let mut malware_ids: std::collections::BTreeMap<String, String> = Default::default();
        for set in &sets {
            for ind in &set.indicators {
                for spy in &ind.spyware {
                    malware_ids.entry(spy.to_string()).or_insert_with(|| {
                        format!("malware--{}", stable_uuid(&format!("malware:{spy}")))
                    });
                }
            }
        }
        for (name, id) in &malware_ids {
            objects.push(
                serde_json::json!({"type": "malware", "spec_version": "2.1", "id": id,
                "created": created, "modified": created, "name": name, "is_family": false}),
            );
        }
        for set in &sets {
            for ind in &set.indicators {
                let pattern = pattern_for(ind);
                let id = if ind.id.starts_with("indicator--") {
                    ind.id.clone()
                } else {
                    format!("indicator--{}", stable_uuid(&pattern))
                };
                objects.push(serde_json::json!({"type": "indicator", "spec_version": "2.1", "id": id,
                    "created": created, "modified": created, "indicator_types": ["malicious-activity"],
                    "pattern": pattern, "pattern_type": "stix", "pattern_version": "2.1", "valid_from": created}));
                for spy in &ind.spyware {
                    let target = &malware_ids[spy.as_ref()];
                    objects.push(
                        serde_json::json!({"type": "relationship", "spec_version": "2.1",
                        "id": format!("relationship--{}", stable_uuid(&format!("{id}>{target}"))),
                        "created": created, "modified": created, "relationship_type": "indicates",
                        "source_ref": id, "target_ref": target}),
                    );
                }
            }
        }
        let bundle = serde_json::json!({"type": "bundle",
            "id": format!("bundle--{}", stable_uuid(&format!("{}", objects.len()))), "objects": objects});
        serde_json::to_string(&bundle)? + "\n"
    };
    match output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("{}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(Outcome::Ok)
}
