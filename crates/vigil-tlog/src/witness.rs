//! A C2SP `tlog-witness` service: durable per-log state and the HTTP
//! `add-checkpoint` endpoint.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use vigil_ledger::witness::{Witness, WitnessRefusal, WitnessStore, WitnessedHead};

use crate::fsutil::atomic_write;
use crate::TlogError;

/// Witness state on disk: one small file per log origin, replaced
/// atomically (temporary file, fsync, rename, directory fsync) before the
/// witness answers.
#[derive(Debug)]
pub struct FileWitnessStore {
    dir: PathBuf,
}

impl FileWitnessStore {
    /// Uses (creating if needed) `dir` for witness state.
    pub fn open(dir: &Path) -> Result<Self, TlogError> {
        std::fs::create_dir_all(dir).map_err(|e| TlogError::io(dir, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, origin: &str) -> PathBuf {
        // Origins contain slashes; name the file by the origin's hash.
        self.dir.join(format!(
            "{}.head",
            hex_lower(&Sha256::digest(origin.as_bytes()))
        ))
    }
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl WitnessStore for FileWitnessStore {
    fn load(&mut self, origin: &str) -> Result<Option<WitnessedHead>, String> {
        let p = self.path(origin);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", p.display())),
        };
        let mut lines = text.lines();
        let bad = || format!("{}: unreadable witness state", p.display());
        if lines.next() != Some(origin) {
            return Err(bad());
        }
        let size = lines.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let root = lines
            .next()
            .and_then(|s| B64.decode(s).ok())
            .and_then(|v| v.try_into().ok())
            .ok_or_else(bad)?;
        Ok(Some(WitnessedHead { size, root }))
    }

    fn store(&mut self, origin: &str, head: WitnessedHead) -> Result<(), String> {
        let body = format!("{origin}\n{}\n{}\n", head.size, B64.encode(head.root));
        atomic_write(&self.path(origin), body.as_bytes()).map_err(|e| e.to_string())
    }
}

/// A witness with its durable state, shared by HTTP handlers.
#[derive(Debug)]
pub struct WitnessService {
    witness: Witness,
    store: Mutex<FileWitnessStore>,
}

impl WitnessService {
    /// A service for `witness` keeping state in `store`.
    pub fn new(witness: Witness, store: FileWitnessStore) -> Self {
        Self {
            witness,
            store: Mutex::new(store),
        }
    }

    /// Handles one `add-checkpoint` body; the store stays locked from the
    /// size check to the persisted update, as the protocol requires.
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<String, WitnessRefusal> {
        let mut store = self
            .store
            .lock()
            .map_err(|_| WitnessRefusal::Storage("witness state lock poisoned".into()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.witness.add_checkpoint(&mut *store, body, now)
    }
}

/// The witness HTTP API: `POST /add-checkpoint` (C2SP `tlog-witness`).
pub fn witness_router(service: Arc<WitnessService>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(service)
}

async fn add_checkpoint(State(svc): State<Arc<WitnessService>>, body: Bytes) -> Response {
    let res = tokio::task::spawn_blocking(move || svc.add_checkpoint(&body)).await;
    match res {
        Ok(Ok(lines)) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], lines).into_response()
        }
        Ok(Err(refusal)) => {
            let status =
                StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            match refusal {
                WitnessRefusal::SizeConflict(size) => (
                    status,
                    [(header::CONTENT_TYPE, "text/x.tlog.size")],
                    format!("{size}\n"),
                )
                    .into_response(),
                // Storage errors may name files: keep them out of the reply.
                WitnessRefusal::Storage(_) => (status, "internal error\n").into_response(),
                other => (status, format!("{other}\n")).into_response(),
            }
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}
