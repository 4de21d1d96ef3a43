//! `vigil sync`: pull a collection from another TAXII 2.1 server into the
//! local hub's database, from the last checkpoint on.

use std::path::PathBuf;

use anyhow::Context as _;
use base64::Engine as _;
use vigil_server::federation::{pull, push, Remote};
use vigil_server::{AppState, HubConfig};

use crate::Outcome;

/// Arguments of `vigil sync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SyncCommand,
}

/// Where the remote is and how to authenticate.
#[derive(Debug, clap::Args)]
struct RemoteArgs {
    /// Bearer token for the remote server.
    #[arg(long, env = "VIGIL_SYNC_TOKEN", conflicts_with = "user")]
    token: Option<String>,
    /// HTTP Basic user for the remote server.
    #[arg(long, requires = "password")]
    user: Option<String>,
    /// HTTP Basic password for the remote server.
    #[arg(long, env = "VIGIL_SYNC_PASSWORD")]
    password: Option<String>,
    /// PEM file of the CA certificates trusted for an https:// remote
    /// (default: the Mozilla root certificates).
    #[arg(long, env = "VIGIL_SYNC_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// Local database: `postgres://…` or an SQLite path (default: DATA_DIR/vigil.db).
    #[arg(long, env = "VIGIL_DATABASE")]
    database: Option<String>,
    /// Folder of the local SQLite database.
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "vigil-data")]
    data_dir: PathBuf,
    /// Objects per page or batch.
    #[arg(long, default_value_t = 1000)]
    page_size: usize,
}

impl RemoteArgs {
    fn authorization(&self) -> Option<String> {
        match (&self.token, &self.user, &self.password) {
            (Some(t), _, _) => Some(format!("Bearer {t}")),
            (None, Some(u), Some(p)) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )),
            _ => None,
        }
    }
    fn remote(&self, url: &str) -> anyhow::Result<Remote> {
        let remote = Remote::parse(url, self.authorization())?;
        Ok(match &self.ca_file {
            Some(ca) => remote.trust_ca_file(ca)?,
            None => remote,
        })
    }
    fn database(&self) -> String {
        self.database.clone().unwrap_or_else(|| {
            self.data_dir
                .join("vigil.db")
                .to_string_lossy()
                .into_owned()
        })
    }
}

#[derive(Debug, clap::Subcommand)]
enum SyncCommand {
    /// Pull new objects of a remote collection into a local one.
    Pull {
        /// Remote collection URL, e.g. http://hub.example:8080/api/collections/<id>/
        #[arg(long)]
        from: String,
        /// Local collection id or alias.
        #[arg(long)]
        into: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Push objects of a local collection added since the last push to a remote one.
    Push {
        /// Local collection id or alias.
        #[arg(long)]
        from: String,
        /// Remote collection URL.
        #[arg(long)]
        to: String,
        /// Most restrictive TLP level sent (CLEAR or GREEN; default GREEN).
        #[arg(long, default_value = "GREEN")]
        max_tlp: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

async fn open_hub(database: &str) -> anyhow::Result<AppState> {
    let store = vigil_store::open(database)
        .await
        .with_context(|| format!("opening database {database}"))?;
    AppState::new(store, HubConfig::default())
        .await
        .context("preparing the hub")
}

/// Runs `vigil sync`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match args.command {
        SyncCommand::Pull { from, into, remote } => rt.block_on(async move {
            let target = remote.remote(&from)?;
            let state = open_hub(&remote.database()).await?;
            let report = pull(&state, &target, &into, remote.page_size.max(1)).await?;
            println!(
                "pulled {} objects in {} pages from {from}: {} stored or already present, {} rejected; checkpoint {}",
                report.received,
                report.pages,
                report.stored,
                report.rejected,
                report.checkpoint.as_deref().unwrap_or("none")
            );
            Ok(if report.rejected > 0 { Outcome::Findings } else { Outcome::Ok })
        }),
        SyncCommand::Push { from, to, max_tlp, remote } => rt.block_on(async move {
            let level = vigil_store::Tlp::parse(&max_tlp)
                .filter(|l| *l <= vigil_store::Tlp::Green)
                .with_context(|| format!("--max-tlp {max_tlp:?}: only CLEAR or GREEN may leave the hub"))?;
            let target = remote.remote(&to)?;
            let state = open_hub(&remote.database()).await?;
            let report = push(&state, &target, &from, level, remote.page_size.max(1)).await?;
            println!(
                "pushed {} objects to {to}: {} accepted, {} refused",
                report.sent, report.accepted, report.refused
            );
            Ok(if report.refused > 0 { Outcome::Findings } else { Outcome::Ok })
        }),
    }
}
