//! The read-only C2SP `tlog-tiles` HTTP API.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use vigil_ledger::tiles::TileId;

use crate::{Log, TlogError};

/// The read-only log API, to be mounted by a server (for example under
/// `/log`):
///
/// - `GET /checkpoint`: the latest published signed checkpoint;
/// - `GET /tile/<L>/<N>[.p/<W>]`: hash tiles;
/// - `GET /tile/entries/<N>[.p/<W>]`: entry bundles.
///
/// Tiles are immutable and served with a long cache lifetime; the
/// checkpoint is not cached. Errors never reveal file paths.
pub fn router(log: Arc<Log>) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*rest}", get(tile))
        .with_state(log)
}

fn error_response(e: &TlogError) -> Response {
    match e {
        TlogError::NotFound(_) | TlogError::Ledger(_) => {
            (StatusCode::NOT_FOUND, "not found\n").into_response()
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}

async fn checkpoint(State(log): State<Arc<Log>>) -> Response {
    let res = tokio::task::spawn_blocking(move || log.checkpoint()).await;
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

async fn tile(State(log): State<Arc<Log>>, Path(rest): Path<String>) -> Response {
    let Ok(id) = TileId::parse_path(&format!("tile/{rest}")) else {
        return (StatusCode::NOT_FOUND, "not a tile path\n").into_response();
    };
    let res = tokio::task::spawn_blocking(move || log.reader().tile_bytes(&id)).await;
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
