//! The read-only C2SP `tlog-tiles` HTTP API.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use vigil_ledger::tiles::TileId;

use crate::store::read_checkpoint;
use crate::{Log, LogReader, TlogError};

/// The read-only log API, to be mounted by a server (for example under
/// `/log`):
///
/// - `GET /checkpoint`: the latest published signed checkpoint;
/// - `GET /tile/<L>/<N>[.p/<W>]`: hash tiles;
/// - `GET /tile/entries/<N>[.p/<W>]`: entry bundles.
///
/// Tiles are immutable and served with a long cache lifetime; the
/// checkpoint is not cached. Errors never reveal file paths.
///
/// This serves from the writer `log` (for the process that appends);
/// [`reader_router`] serves a directory some other process writes.
pub fn router(log: Arc<Log>) -> Router {
    routes(Arc::new(Source::Writer(log)))
}

/// The same read-only API as [`router`], for a log directory that is
/// written by other processes (`vigil log append`, `vigil log checkpoint`
/// or a hub): it never takes the writer lock. Tiles come from a
/// [`LogReader`] that is reopened when a request asks for more than it
/// sees and the directory's `state` or `journal` changed since (or a
/// second has passed), so new batches are served without re-reading the
/// journal on every request.
pub fn reader_router(dir: PathBuf) -> Router {
    routes(Arc::new(Source::Dir {
        dir,
        view: Mutex::new(None),
    }))
}

fn routes(source: Arc<Source>) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*rest}", get(tile))
        .with_state(source)
}

/// Where the served tiles and checkpoint come from.
#[derive(Debug)]
enum Source {
    Writer(Arc<Log>),
    Dir {
        dir: PathBuf,
        view: Mutex<Option<Box<View>>>,
    },
}

/// A reader of a directory and what the directory looked like when it
/// was opened.
#[derive(Debug)]
struct View {
    reader: LogReader,
    stamp: Stamp,
    opened: Instant,
}

/// Length and modification time of `state` and `journal`: changes when a
/// writer acknowledges a batch or syncs its data files.
type Stamp = [Option<(u64, SystemTime)>; 2];

/// How long a view may be reused for requests beyond it although the
/// files look unchanged (modification times can be coarse).
const REFRESH_AFTER: Duration = Duration::from_secs(1);

fn stamp(dir: &std::path::Path) -> Stamp {
    ["state", "journal"].map(|f| {
        std::fs::metadata(dir.join(f))
            .ok()
            .and_then(|m| Some((m.len(), m.modified().ok()?)))
    })
}

impl Source {
    fn checkpoint(&self) -> Result<Option<Vec<u8>>, TlogError> {
        match self {
            Source::Writer(log) => log.checkpoint(),
            Source::Dir { dir, .. } => read_checkpoint(dir),
        }
    }

    fn tile(&self, id: &TileId) -> Result<Vec<u8>, TlogError> {
        let (dir, view) = match self {
            Source::Writer(log) => return log.reader().tile_bytes(id),
            Source::Dir { dir, view } => (dir, view),
        };
        let mut view = view.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = view.as_mut() {
            match v.reader.tile_bytes(id) {
                Err(TlogError::NotFound(_)) => {
                    if v.stamp == stamp(dir) && v.opened.elapsed() < REFRESH_AFTER {
                        return Err(TlogError::NotFound(id.path()));
                    }
                }
                done => return done,
            }
        }
        // Stamp first: a batch landing while the reader opens is then
        // picked up by the next request beyond this view.
        let s = stamp(dir);
        let v = view.insert(Box::new(View {
            reader: LogReader::open(dir)?,
            stamp: s,
            opened: Instant::now(),
        }));
        v.reader.tile_bytes(id)
    }
}

fn error_response(e: &TlogError) -> Response {
    match e {
        TlogError::NotFound(_) | TlogError::Ledger(_) => {
            (StatusCode::NOT_FOUND, "not found\n").into_response()
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}

async fn checkpoint(State(source): State<Arc<Source>>) -> Response {
    let res = tokio::task::spawn_blocking(move || source.checkpoint()).await;
    match res {
        Ok(Ok(Some(bytes))) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Ok(Ok(None)) => (StatusCode::NOT_FOUND, "no checkpoint yet\n").into_response(),
        Ok(Err(e)) => error_response(&e),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}

async fn tile(State(source): State<Arc<Source>>, Path(rest): Path<String>) -> Response {
    let Ok(id) = TileId::parse_path(&format!("tile/{rest}")) else {
        return (StatusCode::NOT_FOUND, "not a tile path\n").into_response();
    };
    let res = tokio::task::spawn_blocking(move || source.tile(&id)).await;
    match res {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => error_response(&e),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}
