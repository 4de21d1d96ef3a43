//! `vigil serve`: the TAXII 2.1 hub, and its administration commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use serde::Deserialize;
use vigil_server::bootstrap::Seed;
use vigil_server::{AppState, HubConfig, TlsFiles};
use vigil_store::{OrgKind, Role, Store, Subject, Tlp};

use crate::Outcome;

/// Arguments of `vigil serve`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = false)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "VIGIL_LISTEN", global = true)]
    listen: Option<SocketAddr>,
    /// Database: `postgres://…` or an SQLite file path (default: DATA_DIR/vigil.db).
    #[arg(long, env = "VIGIL_DATABASE", global = true)]
    database: Option<String>,
    /// Folder for the SQLite database (default: ./vigil-data).
    #[arg(long, env = "VIGIL_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, env = "VIGIL_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "VIGIL_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// TOML configuration file (flags and environment variables override it).
    #[arg(long, env = "VIGIL_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// TLP level of objects posted without a TLP marking (default: AMBER).
    #[arg(long, env = "VIGIL_DEFAULT_TLP")]
    default_tlp: Option<String>,
    /// Requests per minute allowed per token (default: unlimited).
    #[arg(long, env = "VIGIL_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// Log lines as JSON objects.
    #[arg(long, env = "VIGIL_LOG_JSON")]
    log_json: bool,
    /// Do not load the bundled registry on first start.
    #[arg(long)]
    no_registry: bool,
    /// Pull this remote TAXII collection URL periodically (with --sync-into).
    #[arg(long, env = "VIGIL_SYNC_FROM", requires = "sync_into")]
    sync_from: Option<String>,
    /// Local collection (id or alias) receiving --sync-from.
    #[arg(long, env = "VIGIL_SYNC_INTO", requires = "sync_from")]
    sync_into: Option<String>,
    /// Bearer token for --sync-from.
    #[arg(long, env = "VIGIL_SYNC_TOKEN")]
    sync_token: Option<String>,
    /// PEM file of the CA certificates trusted for an https:// --sync-from
    /// (default: the Mozilla root certificates).
    #[arg(long, env = "VIGIL_SYNC_CA_FILE", requires = "sync_from")]
    sync_ca_file: Option<PathBuf>,
    /// Seconds between two pulls of --sync-from.
    #[arg(long, env = "VIGIL_SYNC_INTERVAL", default_value_t = 300)]
    sync_interval: u64,
    #[command(flatten)]
    log: Box<super::serve_log::LogArgs>,
    #[command(subcommand)]
    command: Option<AdminCommand>,
}

/// Administration of the hub's database (run beside or instead of the server).
#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// Create an organisation.
    Org {
        /// Unique name.
        name: String,
        /// government, industry, civil-society or public.
        #[arg(long, default_value = "civil-society")]
        kind: String,
    },
    /// Create a user.
    User {
        /// Unique login name.
        name: String,
        /// Organisation name.
        #[arg(long)]
        org: Option<String>,
        /// reader, contributor or admin.
        #[arg(long, default_value = "reader")]
        role: String,
    },
    /// Create an API token for a user (printed once).
    Token {
        /// User name.
        user: String,
        /// Label.
        #[arg(long, default_value = "")]
        label: String,
        /// Lifetime in days.
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// Revoke an API token by id.
    Revoke {
        /// Token id.
        id: i64,
    },
    /// Grant an organisation or a user read/write on a collection (id or alias).
    Grant {
        /// Collection id or alias.
        collection: String,
        /// Organisation name.
        #[arg(long, conflicts_with = "user")]
        org: Option<String>,
        /// User name.
        #[arg(long)]
        user: Option<String>,
        /// Allow reading.
        #[arg(long)]
        read: bool,
        /// Allow writing.
        #[arg(long)]
        write: bool,
    },
    /// Create a collection.
    Collection {
        /// Title.
        title: String,
        /// Alias.
        #[arg(long)]
        alias: Option<String>,
        /// Readable anonymously (TLP:CLEAR objects only).
        #[arg(long)]
        public: bool,
        /// Owning organisation name (TLP:AMBER+STRICT recipient).
        #[arg(long)]
        owner: Option<String>,
    },
}

/// The TOML configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    database: Option<String>,
    data_dir: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    title: Option<String>,
    default_tlp: Option<String>,
    rate_limit_per_minute: Option<u32>,
    page_size: Option<usize>,
    max_page_size: Option<usize>,
    max_content_length: Option<usize>,
    pending_threshold: Option<usize>,
}

/// Everything resolved from flags, environment, file and defaults.
struct Settings {
    listen: SocketAddr,
    data_dir: PathBuf,
    database: String,
    tls: Option<TlsFiles>,
    hub: HubConfig,
}

fn resolve(args: &Args) -> anyhow::Result<Settings> {
    let file: FileConfig = match &args.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("{}: invalid configuration", p.display()))?
        }
        None => FileConfig::default(),
    };
    let data_dir = args
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("vigil-data"));
    let database = match args.database.clone().or(file.database) {
        Some(d) => d,
        None => {
            std::fs::create_dir_all(&data_dir)
                .with_context(|| format!("creating data folder {}", data_dir.display()))?;
            data_dir.join("vigil.db").to_string_lossy().into_owned()
        }
    };
    let tls = match (
        args.tls_cert.clone().or(file.tls_cert),
        args.tls_key.clone().or(file.tls_key),
    ) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => bail!("TLS needs both a certificate and a key"),
    };
    let mut hub = HubConfig::default();
    if let Some(t) = file.title {
        hub.title = t;
    }
    if let Some(level) = args.default_tlp.clone().or(file.default_tlp) {
        hub.default_tlp = Tlp::parse(&level)
            .with_context(|| format!("default TLP {level:?} is not a TLP level"))?;
    }
    hub.rate_limit_per_minute = args.rate_limit.or(file.rate_limit_per_minute);
    if let Some(n) = file.page_size {
        hub.page_size = n.max(1);
    }
    if let Some(n) = file.max_page_size {
        hub.max_page_size = n.max(1);
    }
    if let Some(n) = file.max_content_length {
        hub.max_content_length = n;
    }
    if let Some(n) = file.pending_threshold {
        hub.pending_threshold = n;
    }
    Ok(Settings {
        listen: args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
        data_dir,
        database,
        tls,
        hub,
    })
}

/// The bundled registry as seed collections.
fn seeds() -> Vec<Seed> {
    let mut registry = Vec::new();
    let mut indicators = Vec::new();
    for b in vigil_registry::bundles() {
        match b.objects() {
            Ok(objs) => match b.source {
                vigil_registry::Source::Registry => registry.extend(objs),
                vigil_registry::Source::Indicators => indicators.extend(objs),
            },
            Err(e) => tracing::warn!(error = %e, "bundled file skipped"),
        }
    }
    let mut out = vec![Seed {
        alias: "indicators".into(),
        title: "Public spyware indicators".into(),
        description: "Indicators of compromise published by investigations of commercial spyware (TLP:CLEAR).".into(),
        public: true,
        default_tlp: Tlp::Clear,
        objects: indicators,
    }];
    if !registry.is_empty() {
        out.push(Seed {
            alias: "registry".into(),
            title: "Commercial spyware registry".into(),
            description: "Vendors, products, listings and documented abuse cases, from public reports (TLP:CLEAR).".into(),
            public: true,
            default_tlp: Tlp::Clear,
            objects: registry,
        });
    }
    out
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Runs `vigil serve`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    init_logs(args.log_json);
    let settings = resolve(&args)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let store = vigil_store::open(&settings.database)
            .await
            .with_context(|| format!("opening database {}", redact(&settings.database)))?;
        let state = AppState::new(store.clone(), settings.hub.clone())
            .await
            .context("preparing the hub")?;
        if let Some(cmd) = args.command {
            let what = format!("vigil serve {cmd:?}");
            super::serve_log::queue_admin_change(&settings.database, store.as_ref(), &what).await?;
            return admin(store.as_ref(), cmd).await;
        }
        let state = super::serve_log::attach(
            state,
            &args.log,
            &settings.data_dir,
            &settings.database,
            store.as_ref(),
        )
        .await?;
        let first = vigil_server::bootstrap::first_start(
            &state,
            if args.no_registry {
                Vec::new()
            } else {
                seeds()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("first start: {e}"))?;
        for (alias, n, rejected) in &first.loaded {
            tracing::info!(collection = %alias, objects = n, rejected, "bundled collection loaded");
        }
        if let (Some(from), Some(into)) = (args.sync_from.clone(), args.sync_into.clone()) {
            let mut remote = vigil_server::federation::Remote::parse(&from, args.sync_token.clone().map(|t| format!("Bearer {t}")))?;
            if let Some(ca) = &args.sync_ca_file {
                remote = remote.trust_ca_file(ca)?;
            }
            let st = state.clone();
            let every = std::time::Duration::from_secs(args.sync_interval.max(1));
            tokio::spawn(async move {
                loop {
                    match vigil_server::federation::pull(&st, &remote, &into, 1000).await {
                        Ok(r) => tracing::info!(remote = %from, received = r.received, rejected = r.rejected, "scheduled pull done"),
                        Err(e) => tracing::warn!(remote = %from, error = %e, "scheduled pull failed"),
                    }
                    tokio::time::sleep(every).await;
                }
            });
        }
        let listener = listen(settings.listen)
            .with_context(|| format!("listening on {}", settings.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let scheme = if settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        super::serve_log::advertise(&state, &args.log, scheme, addr).await?;
        if let Some(token) = &first.admin_token {
            println!("admin token (shown once, keep it safe): {token}");
        }
        println!("vigil hub listening on {scheme}://{addr}/taxii2/");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        tracing::info!(%addr, database = %redact(&settings.database), "hub started");
        vigil_server::serve(state, listener, settings.tls, shutdown_signal())
            .await
            .context("serving")?;
        Ok(Outcome::Ok)
    })
}

/// Binds `addr` with a deep accept queue: the default of 128 pending
/// connections drops SYNs under a burst of clients, each costing a one-second
/// retransmission.
fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)?.into_std()
}

/// Hides the password of a database URL in messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn org_id(store: &dyn Store, name: &str) -> anyhow::Result<i64> {
    store
        .orgs()
        .await?
        .into_iter()
        .find(|o| o.name == name)
        .map(|o| o.id)
        .with_context(|| format!("no organisation named {name:?}"))
}

async fn admin(store: &dyn Store, cmd: AdminCommand) -> anyhow::Result<Outcome> {
    match cmd {
        AdminCommand::Org { name, kind } => {
            let kind = OrgKind::parse(&kind).with_context(|| {
                format!("kind {kind:?}: use government, industry, civil-society or public")
            })?;
            let o = store.create_org(&name, kind).await?;
            println!("organisation {} created (id {})", o.name, o.id);
        }
        AdminCommand::User { name, org, role } => {
            let role = Role::parse(&role)
                .with_context(|| format!("role {role:?}: use reader, contributor or admin"))?;
            let org = match org {
                Some(o) => Some(org_id(store, &o).await?),
                None => None,
            };
            let u = store.create_user(&name, org, role).await?;
            println!("user {} created (id {})", u.name, u.id);
        }
        AdminCommand::Token {
            user,
            label,
            expires_days,
        } => {
            let u = store
                .user_by_name(&user)
                .await?
                .with_context(|| format!("no user named {user:?}"))?;
            let (info, token) =
                vigil_server::admin::issue_token(store, u.id, &label, expires_days).await?;
            println!("token {} for {} (shown once): {token}", info.id, u.name);
        }
        AdminCommand::Revoke { id } => {
            if !store
                .revoke_token(id, vigil_server::timestamp::now())
                .await?
            {
                bail!("no token {id}");
            }
            println!("token {id} revoked");
        }
        AdminCommand::Grant {
            collection,
            org,
            user,
            read,
            write,
        } => {
            let c = store
                .collection(&collection)
                .await?
                .with_context(|| format!("no collection {collection:?}"))?;
            let subject = match (org, user) {
                (Some(o), _) => Subject::Org(org_id(store, &o).await?),
                (None, Some(u)) => Subject::User(
                    store
                        .user_by_name(&u)
                        .await?
                        .with_context(|| format!("no user named {u:?}"))?
                        .id,
                ),
                (None, None) => bail!("name an --org or a --user"),
            };
            store
                .set_grant(&vigil_store::Grant {
                    collection_id: c.id.clone(),
                    subject,
                    can_read: read,
                    can_write: write,
                })
                .await?;
            println!("grant on {} set: read={read} write={write}", c.id);
        }
        AdminCommand::Collection {
            title,
            alias,
            public,
            owner,
        } => {
            let owner_org = match owner {
                Some(o) => Some(org_id(store, &o).await?),
                None => None,
            };
            let c = store
                .create_collection(&vigil_store::NewCollection {
                    id: vigil_server::bootstrap::new_collection_id(),
                    alias,
                    title,
                    description: String::new(),
                    public,
                    owner_org,
                })
                .await?;
            println!("collection {} created", c.id);
        }
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("vigil-data/vigil.db"), "vigil-data/vigil.db");
    }
}
