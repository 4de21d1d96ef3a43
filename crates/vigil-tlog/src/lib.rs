//! Storage and serving for Vigil's transparency log.
//!
//! - [`Log`]: a log directory with durable, group-committed appends (an
//!   append returns only after its batch is fsynced), tiles, entry bundles
//!   and proofs answered from O(log n) tile reads.
//! - [`router`]: the read-only C2SP `tlog-tiles` HTTP API (`/checkpoint`,
//!   `/tile/...`) as an axum router any server can mount, from the writer
//!   or ([`reader_router`]) from a directory another process writes.
//! - [`witness`]: a C2SP `tlog-witness` endpoint whose state is persisted
//!   atomically before it answers.
//! - [`client`]: HTTP tile reader, cosignature collection from a quorum of
//!   witnesses, and checkpoint fetching.
//! - [`monitor`]: follows a remote log and reports rollbacks and split views.
//! - [`keys`]: loading signing keys from files or the environment.

pub mod client;
mod fsutil;
mod journal;
pub mod keys;
pub mod monitor;
mod serve;
mod store;
pub mod witness;

pub use serve::{reader_router, router};
pub use store::{AppendStats, Log, LogReader, Options};

/// Everything that can go wrong in log storage and serving.
#[derive(Debug, thiserror::Error)]
pub enum TlogError {
    /// An I/O error on a file of the log directory.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The log directory's files disagree with each other.
    #[error("log directory {dir}: {why}")]
    Corrupt {
        /// The directory.
        dir: String,
        /// What is inconsistent.
        why: String,
    },
    /// An error of the ledger core (proofs, notes, tiles).
    #[error(transparent)]
    Ledger(#[from] vigil_ledger::LedgerError),
    /// Another writer (usually another process) has the log directory open.
    #[error("log directory {dir} is held by another process (only one writer may open a log directory at a time)")]
    Locked {
        /// The directory.
        dir: String,
    },
    /// An earlier write failed; the log must be reopened.
    #[error("log is unusable after a failed write: {0}")]
    Poisoned(String),
    /// A request for something the log does not have.
    #[error("not found: {0}")]
    NotFound(String),
    /// A key file that is unsafe or unreadable.
    #[error("key {source_name}: {why}")]
    Key {
        /// Where the key came from (a path or an environment variable).
        source_name: String,
        /// What is wrong.
        why: String,
    },
    /// An HTTP request to a remote log or witness failed.
    #[error("{url}: {why}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// Too few witnesses cosigned.
    #[error("{have} witness cosignature(s), {need} required: {failures}")]
    Quorum {
        /// Cosignatures obtained.
        have: usize,
        /// Quorum.
        need: usize,
        /// Why the others failed.
        failures: String,
    },
}

impl TlogError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Serves `app` on `listen` (e.g. `127.0.0.1:8080`) until the process is
/// interrupted, on a runtime of its own; for command-line tools that do not
/// otherwise use async code.
pub fn run_server(listen: &str, app: axum::Router) -> Result<(), TlogError> {
    let io = |e: std::io::Error| TlogError::Io {
        path: listen.to_string(),
        source: e,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io)?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(io)?;
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(io)
    })
}
