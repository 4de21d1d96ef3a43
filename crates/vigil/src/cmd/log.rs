//! `vigil log`: keys, appending, checkpoints, proofs, verification,
//! witnessing, monitoring and transparency reports for the transparency log.
//!
//! Exit codes: 0 when everything verified; 1 when a checkpoint, proof or
//! report does not verify, or a monitor saw a split view; 2 on usage or I/O
//! errors.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use vigil_ledger::note::{ALG_COSIGNATURE_V1, ALG_ED25519};
use vigil_ledger::witness::{AddCheckpoint, Witness};
use vigil_ledger::{leaf_hash, verify_checkpoint, Hash, InclusionProof, Note, Signer, Verifier};
use vigil_tlog::client::{
    agent, collect_cosignatures, fetch_checkpoint, HttpTileReader, WitnessEndpoint,
};
use vigil_tlog::keys::{load_signer_env, load_signer_file, write_signer_file};
use vigil_tlog::monitor::{Monitor, Observation};
use vigil_tlog::witness::{witness_router, FileWitnessStore, WitnessService};
use vigil_tlog::{Log, LogReader, Options};

use crate::Outcome;

/// Arguments of `vigil log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Generate a log signing key or a witness cosigning key.
    Keygen(KeygenArgs),
    /// Append entries to a local log directory (one per file, or one per
    /// stdin line).
    Append(AppendArgs),
    /// Sign the current tree head, collect witness cosignatures, publish.
    Checkpoint(CheckpointArgs),
    /// Verify a checkpoint and its cosignatures, and optionally an entry's
    /// inclusion or consistency with an older checkpoint.
    Verify(VerifyArgs),
    /// Print an inclusion or consistency proof from a local log.
    Prove(ProveArgs),
    /// Run a witness server, or cosign one checkpoint locally.
    Witness(WitnessArgs),
    /// Serve a local log read-only (tlog-tiles) over HTTP.
    Serve(ServeArgs),
    /// Follow a remote log and raise an alarm on a split view.
    Monitor(MonitorArgs),
    /// Compute the oversight transparency report from a log at a checkpoint.
    Report(ReportArgs),
}

#[derive(Debug, clap::Args)]
struct KeyArgs {
    /// Private key file (must be readable by its owner only).
    #[arg(long, conflicts_with = "key_env")]
    key: Option<PathBuf>,
    /// Environment variable holding the private key.
    #[arg(long)]
    key_env: Option<String>,
}

impl KeyArgs {
    fn load(&self) -> anyhow::Result<Signer> {
        match (&self.key, &self.key_env) {
            (Some(p), _) => Ok(load_signer_file(p)?),
            (None, Some(v)) => Ok(load_signer_env(v)?),
            (None, None) => bail!("give --key FILE or --key-env VAR"),
        }
    }
}

#[derive(Debug, clap::Args)]
struct KeygenArgs {
    /// Key name: the log origin (e.g. `oversight.example.org/log`) or the
    /// witness name.
    #[arg(long)]
    name: String,
    /// Make a witness cosignature key (type 0x04) instead of a log key.
    #[arg(long)]
    witness: bool,
    /// Where to write the private key (created with mode 600).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct AppendArgs {
    /// Log directory.
    #[arg(long)]
    dir: PathBuf,
    /// Files to append, one entry each; none means one entry per stdin line.
    files: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CheckpointArgs {
    /// Log directory.
    #[arg(long)]
    dir: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    /// A witness as `URL=VERIFIER_KEY` (repeatable).
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// Cosignatures required before publishing.
    #[arg(long, default_value_t = 0)]
    quorum: usize,
}

#[derive(Debug, clap::Args)]
struct TrustArgs {
    /// The log's verifier key.
    #[arg(long)]
    log_key: String,
    /// A trusted witness verifier key (repeatable).
    #[arg(long = "witness-key")]
    witness_keys: Vec<String>,
    /// Distinct witness cosignatures required.
    #[arg(long, default_value_t = 0)]
    quorum: usize,
}

impl TrustArgs {
    fn parse(&self) -> anyhow::Result<(Verifier, Vec<Verifier>)> {
        let log = Verifier::parse(&self.log_key).context("--log-key")?;
        let w = self
            .witness_keys
            .iter()
            .map(|k| Verifier::parse(k).context("--witness-key"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok((log, w))
    }
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The signed checkpoint file.
    checkpoint: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    /// An entry file whose inclusion to check (with --proof).
    #[arg(long, requires = "proof")]
    entry: Option<PathBuf>,
    /// An older checkpoint to check consistency with (with --proof).
    #[arg(long, requires = "proof", conflicts_with = "entry")]
    old: Option<PathBuf>,
    /// Proof file from `vigil log prove`.
    #[arg(long)]
    proof: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ProveArgs {
    /// Log directory.
    #[arg(long)]
    dir: PathBuf,
    /// Tree size to prove against (default: the latest published checkpoint's).
    #[arg(long)]
    size: Option<u64>,
    /// Prove inclusion of the entry at this index.
    #[arg(long, conflicts_with = "consistency")]
    index: Option<u64>,
    /// Prove consistency from this older size.
    #[arg(long)]
    consistency: Option<u64>,
}

#[derive(Debug, clap::Args)]
struct WitnessArgs {
    #[command(subcommand)]
    command: WitnessSub,
}

#[derive(Debug, clap::Subcommand)]
enum WitnessSub {
    /// Serve `POST /add-checkpoint` (C2SP tlog-witness).
    Serve {
        #[command(flatten)]
        common: WitnessCommon,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8091")]
        listen: String,
    },
    /// Check one checkpoint (with an optional consistency proof from the
    /// witness's last size) and print it with the witness's cosignature.
    Cosign {
        #[command(flatten)]
        common: WitnessCommon,
        /// The signed checkpoint file.
        checkpoint: PathBuf,
        /// Consistency proof file from `vigil log prove --consistency`.
        #[arg(long)]
        proof: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct WitnessCommon {
    #[command(flatten)]
    key: KeyArgs,
    /// Directory of the witness's durable state.
    #[arg(long)]
    state: PathBuf,
    /// Verifier key of a log this witness follows (repeatable).
    #[arg(long = "log-key", required = true)]
    log_keys: Vec<String>,
}

impl WitnessCommon {
    fn service(&self) -> anyhow::Result<WitnessService> {
        let key = self.key.load()?;
        let logs = self
            .log_keys
            .iter()
            .map(|k| Verifier::parse(k).context("--log-key"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let witness = Witness::new(key, logs)?;
        Ok(WitnessService::new(
            witness,
            FileWitnessStore::open(&self.state)?,
        ))
    }
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Log directory.
    #[arg(long)]
    dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: String,
}

#[derive(Debug, clap::Args)]
struct MonitorArgs {
    /// Base URL of the log (before `/checkpoint` and `/tile`).
    #[arg(long)]
    url: String,
    /// Other places serving the same log's checkpoint (mirrors), compared
    /// against the log's view (repeatable).
    #[arg(long = "mirror")]
    mirrors: Vec<String>,
    #[command(flatten)]
    trust: TrustArgs,
    /// File keeping the last trusted checkpoint between runs.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Seconds between polls.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Stop after this many polls (default: run until interrupted).
    #[arg(long)]
    count: Option<u64>,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// Log directory holding the entries.
    #[arg(long)]
    dir: PathBuf,
    /// The signed checkpoint the report is computed at.
    #[arg(long)]
    checkpoint: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    /// Period start, Unix seconds.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Period end (exclusive), Unix seconds.
    #[arg(long, default_value_t = u64::MAX)]
    to: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `vigil log`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Sub::Keygen(a) => keygen(a),
        Sub::Append(a) => append(a),
        Sub::Checkpoint(a) => checkpoint(a),
        Sub::Verify(a) => verify(a),
        Sub::Prove(a) => prove(a),
        Sub::Witness(a) => witness(a),
        Sub::Serve(a) => serve(a),
        Sub::Monitor(a) => monitor(a),
        Sub::Report(a) => report(a),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn keygen(a: KeygenArgs) -> anyhow::Result<Outcome> {
    let alg = if a.witness {
        ALG_COSIGNATURE_V1
    } else {
        ALG_ED25519
    };
    let key = Signer::generate(&a.name, alg)?;
    write_signer_file(&a.out, &key)?;
    println!("{}", key.verifier().to_vkey());
    Ok(Outcome::Ok)
}

fn append(a: AppendArgs) -> anyhow::Result<Outcome> {
    let log = Log::open(&a.dir, Options::default())?;
    let mut entries = Vec::new();
    if a.files.is_empty() {
        for line in std::io::stdin().lock().lines() {
            entries.push(line.context("reading stdin")?.into_bytes());
        }
    } else {
        for f in &a.files {
            entries.push(read(f)?);
        }
    }
    let range = log.append_batch(entries)?;
    println!(
        "appended entries {}..{} (log size {})",
        range.start,
        range.end,
        log.size()
    );
    Ok(Outcome::Ok)
}

fn witness_endpoint(spec: &str) -> anyhow::Result<WitnessEndpoint> {
    let (url, key) = spec
        .rsplit_once('=')
        .with_context(|| format!("--witness {spec:?}: expected URL=VERIFIER_KEY"))?;
    Ok(WitnessEndpoint {
        url: url.to_string(),
        key: Verifier::parse(key).with_context(|| format!("--witness {url}"))?,
    })
}

fn checkpoint(a: CheckpointArgs) -> anyhow::Result<Outcome> {
    let key = a.key.load()?;
    let log = Log::open(&a.dir, Options::default())?;
    let mut note = log.sign_checkpoint(&key)?;
    if !a.witnesses.is_empty() {
        let endpoints = a
            .witnesses
            .iter()
            .map(|w| witness_endpoint(w))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut proof = |old: u64, new: u64| -> Result<Vec<Hash>, vigil_tlog::TlogError> {
            Ok(log.reader().prove_consistency(old, new)?.path)
        };
        note = collect_cosignatures(&agent(), &note, &endpoints, a.quorum, &mut proof)?;
    } else if a.quorum > 0 {
        bail!("--quorum {} needs --witness URL=KEY", a.quorum);
    }
    log.publish_checkpoint(&note)?;
    print!("{}", note.to_text());
    Ok(Outcome::Ok)
}

/// Proof file: a line `inclusion <index> <size>` or `consistency <old>
/// <new>`, then one base64 hash per line.
fn format_proof(kind: &str, a: u64, b: u64, path: &[Hash]) -> String {
    let mut s = format!("vigil-proof/v1\n{kind} {a} {b}\n");
    for h in path {
        s.push_str(&B64.encode(h));
        s.push('\n');
    }
    s
}

fn parse_proof(path: &Path) -> anyhow::Result<(String, u64, u64, Vec<Hash>)> {
    let text =
        String::from_utf8(read(path)?).with_context(|| format!("{}: not UTF-8", path.display()))?;
    let mut lines = text.lines();
    if lines.next() != Some("vigil-proof/v1") {
        bail!("{}: line 1: expected vigil-proof/v1", path.display());
    }
    let head: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let [kind, a, b] = head.as_slice() else {
        bail!("{}: line 2: expected `<kind> <n> <m>`", path.display());
    };
    let a: u64 = a
        .parse()
        .with_context(|| format!("{}: line 2", path.display()))?;
    let b: u64 = b
        .parse()
        .with_context(|| format!("{}: line 2", path.display()))?;
    let mut hashes = Vec::new();
    for (i, l) in lines.enumerate() {
        if hashes.len() == vigil_ledger::merkle::MAX_PROOF_LEN {
            bail!("{}: too many proof lines", path.display());
        }
        let h: Hash = B64
            .decode(l)
            .ok()
            .and_then(|v| v.try_into().ok())
            .with_context(|| format!("{}: line {}: not a base64 hash", path.display(), i + 3))?;
        hashes.push(h);
    }
    Ok((kind.to_string(), a, b, hashes))
}

fn verify(a: VerifyArgs) -> anyhow::Result<Outcome> {
    let (log_key, witnesses) = a.trust.parse()?;
    let bytes = read(&a.checkpoint)?;
    let cp = match verify_checkpoint(&bytes, &log_key, &witnesses, a.trust.quorum) {
        Ok(cp) => cp,
        Err(e) => {
            println!("FAIL {}: {e}", a.checkpoint.display());
            return Ok(Outcome::Findings);
        }
    };
    let c = cp.checkpoint();
    println!(
        "OK checkpoint {} size {} root {} signed by {}",
        c.origin,
        c.size,
        B64.encode(c.root),
        log_key.name()
    );
    for w in cp.cosigners() {
        println!("OK cosigned by {} at {}", w.name, w.timestamp.unwrap_or(0));
    }
    let Some(proof_path) = &a.proof else {
        return Ok(Outcome::Ok);
    };
    let (kind, x, y, path) = parse_proof(proof_path)?;
    if let Some(entry) = &a.entry {
        if kind != "inclusion" {
            bail!("{}: not an inclusion proof", proof_path.display());
        }
        let proof = InclusionProof {
            leaf_index: x,
            tree_size: y,
            path: path.clone(),
        };
        if proof.tree_size != c.size {
            println!(
                "FAIL proof is for tree size {}, checkpoint has {}",
                proof.tree_size, c.size
            );
            return Ok(Outcome::Findings);
        }
        match proof.verify(&leaf_hash(&read(entry)?), &c.root) {
            Ok(v) => println!(
                "OK entry {} is included at index {}",
                entry.display(),
                v.leaf_index()
            ),
            Err(e) => {
                println!("FAIL {}: {e}", entry.display());
                return Ok(Outcome::Findings);
            }
        }
    }
    if let Some(old) = &a.old {
        if kind != "consistency" {
            bail!("{}: not a consistency proof", proof_path.display());
        }
        let old_cp = match verify_checkpoint(&read(old)?, &log_key, &witnesses, a.trust.quorum) {
            Ok(cp) => cp,
            Err(e) => {
                println!("FAIL {}: {e}", old.display());
                return Ok(Outcome::Findings);
            }
        };
        if (x, y) != (old_cp.checkpoint().size, c.size) {
            println!(
                "FAIL proof is for sizes {x}..{y}, checkpoints are {}..{}",
                old_cp.checkpoint().size,
                c.size
            );
            return Ok(Outcome::Findings);
        }
        match old_cp.verify_consistent(&cp, &path) {
            Ok(v) => println!(
                "OK size {} is consistent with size {}",
                v.new_size(),
                v.old_size()
            ),
            Err(e) => {
                println!("FAIL {}: {e}", old.display());
                return Ok(Outcome::Findings);
            }
        }
    }
    Ok(Outcome::Ok)
}

fn published_size(dir: &Path) -> anyhow::Result<Option<u64>> {
    let p = dir.join("checkpoint");
    if !p.exists() {
        return Ok(None);
    }
    let note = Note::parse(&read(&p)?)?;
    Ok(Some(vigil_ledger::Checkpoint::parse(note.text())?.size))
}

fn prove(a: ProveArgs) -> anyhow::Result<Outcome> {
    let mut r = LogReader::open(&a.dir)?;
    let size = match a.size {
        Some(s) => s,
        None => published_size(&a.dir)?.unwrap_or(r.size()),
    };
    if let Some(i) = a.index {
        let p = r.prove_inclusion(i, size)?;
        print!("{}", format_proof("inclusion", i, size, &p.path));
    } else if let Some(old) = a.consistency {
        let p = r.prove_consistency(old, size)?;
        print!("{}", format_proof("consistency", old, size, &p.path));
    } else {
        bail!("give --index N or --consistency OLD_SIZE");
    }
    Ok(Outcome::Ok)
}

fn witness(a: WitnessArgs) -> anyhow::Result<Outcome> {
    match a.command {
        WitnessSub::Serve { common, listen } => {
            let svc = Arc::new(common.service()?);
            eprintln!("witness listening on http://{listen}/add-checkpoint");
            vigil_tlog::run_server(&listen, witness_router(svc))?;
            Ok(Outcome::Ok)
        }
        WitnessSub::Cosign {
            common,
            checkpoint,
            proof,
        } => {
            let svc = common.service()?;
            let note = read(&checkpoint)?;
            let (old_size, path) = match &proof {
                Some(p) => {
                    let (kind, old, _, path) = parse_proof(p)?;
                    if kind != "consistency" {
                        bail!("{}: not a consistency proof", p.display());
                    }
                    (old, path)
                }
                None => (0, Vec::new()),
            };
            let body = AddCheckpoint {
                old_size,
                proof: path,
                checkpoint: note.clone(),
            }
            .to_body();
            match svc.add_checkpoint(&body) {
                Ok(lines) => {
                    print!("{}{lines}", String::from_utf8_lossy(&note));
                    Ok(Outcome::Ok)
                }
                Err(refusal) => {
                    println!("REFUSED ({}): {refusal}", refusal.status());
                    Ok(Outcome::Findings)
                }
            }
        }
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<Outcome> {
    // Read-only: `vigil log append` and `vigil log checkpoint` (or a hub)
    // may write the folder while it is served.
    if !a.dir.is_dir() {
        bail!("{}: no such log directory", a.dir.display());
    }
    LogReader::open(&a.dir)?;
    eprintln!(
        "serving {} at http://{}/checkpoint",
        a.dir.display(),
        a.listen
    );
    vigil_tlog::run_server(&a.listen, vigil_tlog::reader_router(a.dir.clone()))?;
    Ok(Outcome::Ok)
}

fn monitor(a: MonitorArgs) -> anyhow::Result<Outcome> {
    let (log_key, witnesses) = a.trust.parse()?;
    let mut m = Monitor::new(log_key, witnesses, a.trust.quorum);
    if let Some(s) = &a.state {
        if s.exists() {
            m.resume(&read(s)?)
                .with_context(|| format!("{}: saved checkpoint", s.display()))?;
        }
    }
    let http = agent();
    let mut tiles = HttpTileReader::new(http.clone(), &a.url);
    let mut polls = 0u64;
    loop {
        let mut sources = vec![a.url.clone()];
        sources.extend(a.mirrors.iter().cloned());
        for src in &sources {
            let note = match fetch_checkpoint(&http, src) {
                Ok(n) => n,
                Err(e) => {
                    eprintln!("warning: {e}");
                    continue;
                }
            };
            match m.observe(&note, src, &mut tiles) {
                Ok(Observation::SplitView {
                    known_size,
                    known_root,
                    seen_size,
                    seen_root,
                    source,
                }) => {
                    println!(
                        "ALARM split view: {source} serves size {seen_size} root {}, inconsistent with trusted size {known_size} root {}",
                        B64.encode(seen_root),
                        B64.encode(known_root)
                    );
                    return Ok(Outcome::Findings);
                }
                Ok(Observation::Grew { from, to }) => {
                    println!("OK {src}: grew {from} -> {to}, consistent");
                    if let Some(s) = &a.state {
                        std::fs::write(s, &note)
                            .with_context(|| format!("writing {}", s.display()))?;
                    }
                }
                Ok(Observation::First { size }) => {
                    println!("OK {src}: size {size}");
                    if let Some(s) = &a.state {
                        std::fs::write(s, &note)
                            .with_context(|| format!("writing {}", s.display()))?;
                    }
                }
                Ok(Observation::Unchanged { size }) => println!("OK {src}: unchanged at {size}"),
                Ok(Observation::Stale { size }) => {
                    println!("OK {src}: stale at {size}, consistent")
                }
                Err(e) => eprintln!("warning: {src}: {e}"),
            }
        }
        polls += 1;
        if a.count.is_some_and(|c| polls >= c) {
            return Ok(Outcome::Ok);
        }
        std::thread::sleep(Duration::from_secs(a.interval));
    }
}

fn report(a: ReportArgs) -> anyhow::Result<Outcome> {
    let (log_key, witnesses) = a.trust.parse()?;
    let cp = match verify_checkpoint(&read(&a.checkpoint)?, &log_key, &witnesses, a.trust.quorum) {
        Ok(cp) => cp,
        Err(e) => {
            println!("FAIL {}: {e}", a.checkpoint.display());
            return Ok(Outcome::Findings);
        }
    };
    let mut r = LogReader::open(&a.dir)?;
    let size = cp.checkpoint().size;
    if size > r.size() {
        bail!(
            "{}: log has {} entries, checkpoint covers {size}",
            a.dir.display(),
            r.size()
        );
    }
    let entries = (0..size)
        .map(|i| r.entry(i))
        .collect::<Result<Vec<_>, _>>()?;
    let report = match vigil_oversight::transparency_report(&entries, &cp, (a.from, a.to)) {
        Ok(r) => r,
        Err(e) => {
            println!("FAIL {e}");
            return Ok(Outcome::Findings);
        }
    };
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    Ok(Outcome::Ok)
}
