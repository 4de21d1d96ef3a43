//! `vigil serve`'s transparency log: its flags, the signing key (generated
//! on first start, owner-only), the witnesses asked to cosign, an optional
//! witness the hub runs itself, and the publishing schedule.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use vigil_ledger::note::ALG_ED25519;
use vigil_ledger::{Signer, Verifier};
use vigil_oversight::HubActionKind;
use vigil_oversight::Policy;
use vigil_server::tlog::{system_clock, LogConfig, LogQueue, TransparencyLog};
use vigil_server::AppState;
use vigil_store::Store;
use vigil_tlog::client::WitnessEndpoint;
use vigil_tlog::keys::{load_signer_env, load_signer_file, write_signer_file};
use vigil_tlog::witness::{FileWitnessStore, WitnessService};

/// Environment variable that may hold the log's private key.
const KEY_ENV: &str = "VIGIL_LOG_SIGNING_KEY";

/// Flags of the hub's transparency log.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Run without holding the transparency log (and without the oversight
    /// API): this replica's logged actions are queued in the database for
    /// the replica that holds the log.
    #[arg(long, env = "VIGIL_NO_LOG")]
    no_log: bool,
    /// Private key file of the log (owner-only; default DATA_DIR/log.key,
    /// generated on first start). The key may instead be given in
    /// $VIGIL_LOG_SIGNING_KEY.
    #[arg(long, env = "VIGIL_LOG_SIGNING_KEY_FILE")]
    log_signing_key: Option<PathBuf>,
    /// Origin (key name) of a key generated on first start.
    #[arg(long, env = "VIGIL_LOG_ORIGIN", default_value = "vigil-hub/log")]
    log_origin: String,
    /// A witness asked to cosign each checkpoint, as `URL=VERIFIER_KEY`
    /// (repeatable).
    #[arg(long = "log-witness")]
    log_witnesses: Vec<String>,
    /// Witness cosignatures required before a checkpoint is published.
    #[arg(long, default_value_t = 0)]
    log_quorum: usize,
    /// Seconds between two checkpoints (and expiry checks).
    #[arg(long, env = "VIGIL_LOG_INTERVAL", default_value_t = 60)]
    log_interval: u64,
    /// Act as a witness for other logs at `/log/witness/add-checkpoint`,
    /// with this cosigning key file (with --witness-for).
    #[arg(long, requires = "witness_for")]
    witness_key: Option<PathBuf>,
    /// Verifier key of a log this hub witnesses (repeatable).
    #[arg(long = "witness-for", requires = "witness_key")]
    witness_for: Vec<String>,
    /// URL at which the other replicas reach this one when it holds the
    /// log: they pass oversight API requests to it (default: the address
    /// it listens on, with 127.0.0.1 for an unspecified address).
    #[arg(long, env = "VIGIL_LOG_ADVERTISE", conflicts_with = "no_log")]
    log_advertise: Option<String>,
    /// With --no-log: PEM file of the CA certificates trusted for an
    /// https:// log holder (default: the Mozilla root certificates).
    #[arg(long, env = "VIGIL_LOG_HOLDER_CA_FILE", requires = "no_log")]
    log_holder_ca_file: Option<PathBuf>,
}

fn signer(args: &LogArgs, data_dir: &Path) -> anyhow::Result<Signer> {
    if std::env::var_os(KEY_ENV).is_some() {
        return Ok(load_signer_env(KEY_ENV)?);
    }
    let path = match &args.log_signing_key {
        Some(p) => p.clone(),
        None => {
            let p = data_dir.join("log.key");
            if !p.exists() {
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating {}", data_dir.display()))?;
                let key = Signer::generate(&args.log_origin, ALG_ED25519)
                    .context("generating the log key")?;
                write_signer_file(&p, &key)?;
                tracing::info!(path = %p.display(), "log signing key generated");
            }
            p
        }
    };
    Ok(load_signer_file(&path)?)
}

/// Seconds between two looks at the queue of entries from other processes.
const QUEUE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The queue of log entries in the database at `database`.
async fn queue(database: &str, store: &dyn Store) -> anyhow::Result<LogQueue> {
    let ostore = vigil_store::open_oversight(database)
        .await
        .context("opening the oversight tables")?;
    LogQueue::open(store, ostore, system_clock())
        .await
        .context("opening the transparency queue")
}

/// Queues an administrative change made from the command line for the
/// transparency log, before it is carried out: salted hashes of the
/// operating-system user and of the command (`what`) only. The replica
/// holding the log appends it when it next looks at the queue.
pub async fn queue_admin_change(
    database: &str,
    store: &dyn Store,
    what: &str,
) -> anyhow::Result<()> {
    let actor = std::env::var("USER").unwrap_or_else(|_| "command line".into());
    queue(database, store)
        .await?
        .queue_actions(
            HubActionKind::AdminChange,
            &format!("cli:{actor}"),
            &[what.to_string()],
        )
        .await
        .context("queuing the change for the transparency log")?;
    Ok(())
}

/// Where a command outside the server finds the hub's database, to queue
/// its records for the hub's transparency log (`vigil screen decide` and
/// `vigil screen classify`): the same `--database` / `--data-dir` as
/// `vigil serve`.
#[derive(Debug, clap::Args)]
pub struct HubDatabaseArgs {
    /// The hub's database (`postgres://…` or an SQLite file): the record is
    /// queued for the hub's transparency log before it is written.
    #[arg(long, env = "VIGIL_DATABASE")]
    database: Option<String>,
    /// The hub's data folder (its database is DATA_DIR/vigil.db), instead
    /// of --database.
    #[arg(long, env = "VIGIL_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

impl HubDatabaseArgs {
    /// The database named, if any; an SQLite file must exist already (a
    /// record queued into a new, empty database would reach no log).
    pub fn database(&self) -> anyhow::Result<Option<String>> {
        let url = match (&self.database, &self.data_dir) {
            (Some(d), _) => d.clone(),
            (None, Some(dir)) => dir.join("vigil.db").to_string_lossy().into_owned(),
            (None, None) => return Ok(None),
        };
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            let path = url.strip_prefix("sqlite://").unwrap_or(&url);
            if !Path::new(path).is_file() {
                anyhow::bail!("no hub database at {path}");
            }
        }
        Ok(Some(url))
    }
}

/// Queues records of a command run outside the server for the hub's
/// transparency log (one entry per subject, in one transaction; salted
/// hashes of `actor` and of each subject only) and returns their queue
/// ids. Blocks until they are durable in the database.
pub fn queue_records(
    database: &str,
    kind: HubActionKind,
    actor: &str,
    subjects: &[String],
) -> anyhow::Result<Vec<i64>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let store = vigil_store::open(database)
            .await
            .context("opening the hub's database")?;
        queue(database, store.as_ref())
            .await?
            .queue_actions(kind, actor, subjects)
            .await
            .context("queuing the record for the transparency log")
    })
}

/// Records, when this replica holds the log, the URL at which the other
/// replicas reach it (`--log-advertise`, or `scheme://addr` of the bound
/// address): replicas started with `--no-log` pass oversight API requests
/// there.
pub async fn advertise(
    state: &AppState,
    args: &LogArgs,
    scheme: &str,
    addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    if state.transparency.is_none() {
        return Ok(());
    }
    let url = match &args.log_advertise {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let mut a = addr;
            if a.ip().is_unspecified() {
                a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("{scheme}://{a}")
        }
    };
    state
        .hub
        .store
        .put_setting(vigil_server::tlog::HOLDER_SETTING, &url)
        .await
        .context("recording this replica as the log holder")?;
    Ok(())
}

/// Opens the hub's log in `DATA_DIR/log` and attaches it to `state`; starts
/// publishing checkpoints every `--log-interval` seconds (recording due
/// expiries first) and appending what other processes queued every
/// second. With `--no-log`, attaches the queue instead.
pub async fn attach(
    state: AppState,
    args: &LogArgs,
    data_dir: &Path,
    database: &str,
    store: &dyn Store,
) -> anyhow::Result<AppState> {
    if args.no_log {
        let mut q = queue(database, store).await?;
        if let Some(ca) = &args.log_holder_ca_file {
            let c = vigil_server::client::Connector::tls(Some(ca))
                .with_context(|| format!("--log-holder-ca-file {}", ca.display()))?;
            q = q.with_holder_connector(c);
        }
        return Ok(state.with_log_queue(Arc::new(q)));
    }
    let signer = signer(args, data_dir)?;
    let witnesses = args
        .log_witnesses
        .iter()
        .map(|spec| {
            let (url, key) = spec
                .split_once('=')
                .with_context(|| format!("--log-witness {spec:?}: expected URL=VERIFIER_KEY"))?;
            Ok(WitnessEndpoint {
                url: url.to_string(),
                key: Verifier::parse(key).with_context(|| format!("--log-witness {url}"))?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.log_quorum > witnesses.len() {
        anyhow::bail!(
            "--log-quorum {} needs as many --log-witness URL=KEY",
            args.log_quorum
        );
    }
    let witness = match &args.witness_key {
        None => None,
        Some(p) => {
            let key = load_signer_file(p)?;
            let logs = args
                .witness_for
                .iter()
                .map(|k| Verifier::parse(k).context("--witness-for"))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let w = vigil_ledger::witness::Witness::new(key, logs)?;
            Some(Arc::new(WitnessService::new(
                w,
                FileWitnessStore::open(&data_dir.join("witness"))?,
            )))
        }
    };
    let ostore = vigil_store::open_oversight(database)
        .await
        .context("opening the oversight tables")?;
    let log = TransparencyLog::open(
        store,
        ostore,
        LogConfig {
            dir: data_dir.join("log"),
            signer,
            witnesses,
            quorum: args.log_quorum,
            policy: Policy::default(),
            witness,
            clock: system_clock(),
        },
    )
    .await
    .context("opening the transparency log")?;
    let vkey = log.verifier().to_vkey();
    let pubfile = data_dir.join("log.pub");
    std::fs::write(&pubfile, format!("{vkey}\n"))
        .with_context(|| format!("writing {}", pubfile.display()))?;
    println!("transparency log {} (verifier key {vkey})", log.origin());
    log.drain_queue()
        .await
        .map_err(|e| anyhow::anyhow!("appending queued entries: {e}"))?;
    let l = log.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(QUEUE_INTERVAL).await;
            match l.drain_queue().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(entries = n, "queued entries appended"),
                Err(e) => tracing::warn!(error = %e, "appending queued entries failed"),
            }
        }
    });
    let every = std::time::Duration::from_secs(args.log_interval.max(1));
    let l = log.clone();
    tokio::spawn(async move {
        loop {
            match l.run(Vec::new(), |w, now| w.expire_due(now)).await {
                Ok(Ok(ids)) if !ids.is_empty() => {
                    tracing::info!(count = ids.len(), "authorisations expired")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "recording expiries failed"),
                Err(e) => tracing::warn!(error = %e, "recording expiries failed"),
                _ => {}
            }
            match l.publish().await {
                Ok(Some(size)) => tracing::info!(size, "checkpoint published"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "checkpoint not published"),
            }
            tokio::time::sleep(every).await;
        }
    });
    Ok(state.with_transparency(log))
}
