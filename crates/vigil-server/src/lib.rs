//! The Vigil hub: a TAXII 2.1 server for the commercial spyware registry.
//!
//! [`router`] builds the whole HTTP API over any [`vigil_store::Store`]:
//! TAXII 2.1 under [`taxii::DISCOVERY`] and [`taxii::API_ROOT`], the admin
//! and REST extras under `/admin/v1/` and `/rest/v1/`, `/healthz`,
//! `/metrics` (Prometheus text) and `/openapi.json`. [`serve`] runs it on a
//! TCP listener, with TLS (rustls) when given a certificate.
//!
//! Every read path applies the TLP rules of [`auth::access`] inside the
//! store query, so filters, pagination tokens, manifests, versions and
//! counts all see the same, already-filtered set of objects.

#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod bootstrap;
pub mod client;
pub mod cursor;
pub mod error;
pub mod export;
pub mod federation;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod oversight;
pub mod rest;
pub mod screening;
pub mod taxii;
pub mod timestamp;
pub mod tlog;
pub mod tlp;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use vigil_store::{Store, Tlp};

use crate::error::ApiError;

/// Settings of a hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Title in discovery and the API root.
    pub title: String,
    /// TLP level of objects posted without a TLP marking.
    pub default_tlp: Tlp,
    /// Page size when a request gives no `limit`.
    pub page_size: usize,
    /// Largest page served, whatever `limit` asks.
    pub max_page_size: usize,
    /// Largest request body accepted, in bytes (TAXII `max_content_length`).
    pub max_content_length: usize,
    /// POSTs with more objects than this are stored in the background and
    /// answered with a `pending` status.
    pub pending_threshold: usize,
    /// Requests per minute allowed per token (`None`: unlimited).
    pub rate_limit_per_minute: Option<u32>,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            title: "Vigil hub".into(),
            default_tlp: Tlp::Amber,
            page_size: 1000,
            max_page_size: 10_000,
            max_content_length: 100 * 1024 * 1024,
            pending_threshold: 5000,
            rate_limit_per_minute: None,
        }
    }
}

/// The running hub: store, settings, the pagination secret and counters.
pub struct Hub {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: HubConfig,
    /// Key of the `next` token MACs, shared by replicas through the store.
    pub(crate) secret: Vec<u8>,
    /// Prometheus counters.
    pub metrics: metrics::Metrics,
    /// Per-token rate limiter.
    pub(crate) limiter: metrics::RateLimiter,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Shared state of the router.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The hub.
    pub hub: Arc<Hub>,
    /// The hub's transparency log and oversight workflow, when enabled.
    pub transparency: Option<Arc<tlog::TransparencyLog>>,
    /// Where hub actions go when another process holds the log.
    pub log_queue: Option<Arc<tlog::LogQueue>>,
}

/// Name of the setting holding the pagination secret.
const SECRET_SETTING: &str = "cursor_secret";

impl AppState {
    /// Prepares a hub over a migrated store (creating its secret on first use).
    pub async fn new(
        store: Arc<dyn Store>,
        config: HubConfig,
    ) -> Result<AppState, vigil_store::StoreError> {
        let fresh = auth::generate_token();
        let secret = store
            .init_setting(SECRET_SETTING, &fresh.token)
            .await?
            .into_bytes();
        let limiter = metrics::RateLimiter::new(config.rate_limit_per_minute);
        Ok(AppState {
            hub: Arc::new(Hub {
                store,
                config,
                secret,
                metrics: metrics::Metrics::default(),
                limiter,
            }),
            transparency: None,
            log_queue: None,
        })
    }

    /// The same state with the transparency log `t` (served under `/log/`).
    pub fn with_transparency(mut self, t: Arc<tlog::TransparencyLog>) -> AppState {
        self.transparency = Some(t);
        self
    }

    /// The same state queuing hub actions for the process that holds the
    /// log (a replica started without it).
    pub fn with_log_queue(mut self, q: Arc<tlog::LogQueue>) -> AppState {
        self.log_queue = Some(q);
        self
    }

    /// Whether hub actions are recorded (on this replica's log or queued
    /// for the replica holding it).
    pub fn records_actions(&self) -> bool {
        self.transparency.is_some() || self.log_queue.is_some()
    }

    /// Appends one of the hub's sensitive actions to the transparency log:
    /// `actor` (user name) and `subject` (document id, party, licence,
    /// setting) are plain identifiers; only their salted hashes reach the
    /// log. Returns the entry's log index, or `None` when the hub runs
    /// without a log or the entry was queued for the replica holding it
    /// (durably: it gets its index when that replica appends it). Call it
    /// *before* the action takes effect, and do not carry the action out if
    /// it fails.
    pub async fn log_action(
        &self,
        kind: vigil_oversight::HubActionKind,
        actor: &str,
        subject: &str,
    ) -> Result<Option<u64>, ApiError> {
        let one = [subject.to_string()];
        Ok(self.log_actions(kind, actor, &one).await?.map(|r| r.start))
    }

    /// [`AppState::log_action`] for several subjects at once (one batch on
    /// the log, or one transaction in the queue).
    pub async fn log_actions(
        &self,
        kind: vigil_oversight::HubActionKind,
        actor: &str,
        subjects: &[String],
    ) -> Result<Option<std::ops::Range<u64>>, ApiError> {
        if subjects.is_empty() {
            return Ok(None);
        }
        match (&self.transparency, &self.log_queue) {
            (Some(t), _) => t.log_actions(kind, actor, subjects).await.map(Some),
            (None, Some(q)) => {
                q.queue_actions(kind, actor, subjects).await?;
                Ok(None)
            }
            (None, None) => Ok(None),
        }
    }
}

/// Turns every error response without a JSON body (unknown route, wrong
/// method, extractor rejections) into a TAXII error message, and counts
/// responses for `/metrics`.
async fn taxii_errors(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    s.hub.metrics.response(status);
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if status.as_u16() >= 400 && !is_json {
        let msg = match status {
            StatusCode::NOT_FOUND => "no such resource",
            StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed on this resource",
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
            _ => "the request could not be processed",
        };
        return error::taxii_error(status, msg);
    }
    resp
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.hub.store.setting(SECRET_SETTING).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource".into())
}

/// A router that records the method and path of every route it is given,
/// so that [`routes`] lists exactly what [`router`] serves.
struct Routes {
    router: Router<AppState>,
    table: Vec<(Method, String)>,
}

macro_rules! route_method {
    ($name:ident, $method:ident, $make:path) => {
        fn $name<H, T>(mut self, path: &str, handler: H) -> Routes
        where
            H: axum::handler::Handler<T, AppState>,
            T: 'static,
        {
            self.router = self.router.route(path, $make(handler));
            self.table.push((Method::$method, path.to_string()));
            self
        }
    };
}

impl Routes {
    route_method!(get, GET, axum::routing::get);
    route_method!(post, POST, axum::routing::post);
    route_method!(put, PUT, axum::routing::put);
    route_method!(delete, DELETE, axum::routing::delete);
}

/// Every route of the hub, without middleware; `/log/…` is mounted by
/// [`router`] when the transparency log is on.
fn api_routes() -> Routes {
    let c = "/api/collections/{cid}";
    Routes {
        router: Router::new(),
        table: Vec::new(),
    }
    .get(taxii::DISCOVERY, taxii::discovery)
    .get(taxii::API_ROOT, taxii::api_root)
    .get("/api/status/{id}/", taxii::status)
    .get("/api/collections/", taxii::collections)
    .get(&format!("{c}/"), taxii::collection)
    .get(&format!("{c}/manifest/"), taxii::manifest)
    .get(&format!("{c}/objects/"), taxii::get_objects)
    .post(&format!("{c}/objects/"), taxii::post_objects)
    .get(&format!("{c}/objects/{{oid}}/"), taxii::get_object)
    .delete(&format!("{c}/objects/{{oid}}/"), taxii::delete_object)
    .get(&format!("{c}/objects/{{oid}}/versions/"), taxii::versions)
    .get("/admin/v1/orgs", admin::list_orgs)
    .post("/admin/v1/orgs", admin::create_org)
    .get("/admin/v1/users", admin::list_users)
    .post("/admin/v1/users", admin::create_user)
    .get("/admin/v1/users/{id}/tokens", admin::list_tokens)
    .post("/admin/v1/users/{id}/tokens", admin::create_token)
    .delete("/admin/v1/tokens/{id}", admin::revoke_token)
    .post("/admin/v1/collections", admin::create_collection)
    .get("/admin/v1/collections/{cid}/grants", admin::list_grants)
    .put("/admin/v1/collections/{cid}/grants", admin::set_grant)
    .get("/rest/v1/whoami", admin::whoami)
    .get("/rest/v1/stats", admin::stats)
    .get("/rest/v1/search", rest::search)
    .get("/rest/v1/graph/{id}", rest::graph)
    .get("/rest/v1/objects/{id}/provenance", rest::provenance)
    .get("/rest/v1/sightings", rest::sightings)
    .get("/rest/v1/export", export::export)
    .post("/rest/v1/collections/{cid}/import/{kind}", export::import)
    .post("/match/{dataset}", screening::match_dataset)
    .get("/screening", screening::page)
    .post("/rest/v1/screening/screen", screening::screen)
    .get("/rest/v1/screening/decisions", screening::list_decisions)
    .post("/rest/v1/screening/decisions", screening::decide)
    .get("/openapi.json", openapi::openapi)
    .get("/healthz", healthz)
    .get("/metrics", metrics::render)
    .get("/oversight/v1/log", oversight::log_info)
    .get("/oversight/v1/report", oversight::report)
    .get("/oversight/v1/roles", oversight::list_roles)
    .put("/oversight/v1/roles/{user}", oversight::set_roles)
    .get("/oversight/v1/authorisations", oversight::list)
    .post("/oversight/v1/authorisations", oversight::submit)
    .get("/oversight/v1/authorisations/{id}", oversight::get_one)
    .post("/oversight/v1/authorisations/{id}/{step}", oversight::step)
    .post("/oversight/v1/expire", oversight::expire)
    .get("/oversight/v1/due", oversight::due)
}

/// The method and path of every route [`router`] serves (paths in
/// `{param}` form, as in the OpenAPI document), the transparency log's
/// routes under `/log` included.
pub fn routes() -> Vec<(Method, String)> {
    let mut table = api_routes().table;
    for (method, path) in [
        (Method::GET, "/log/checkpoint"),
        (Method::GET, "/log/tile/{rest}"),
        (Method::POST, "/log/witness/add-checkpoint"),
    ] {
        table.push((method, path.to_string()));
    }
    table
}

/// Builds the hub's HTTP API.
pub fn router(state: AppState) -> Router {
    // Compile the screening list now rather than on the first request.
    screening::screener();
    let app = api_routes()
        .router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            oversight::log_admin_changes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            oversight::log_red_releases,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), taxii_errors))
        // Bodies are read with an explicit limit by the handlers, which
        // answer 413 as a TAXII error.
        .layer(DefaultBodyLimit::disable());
    // The log's C2SP endpoints keep their own plain-text replies (a
    // witness's 409 carries its size as `text/x.tlog.size`).
    let app = match &state.transparency {
        Some(t) => app.nest_service("/log", t.router()),
        None => app,
    };
    app.with_state(state)
}

/// TLS material for [`serve`].
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// Errors of [`serve`].
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listener could not be bound or failed.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The certificate or key could not be loaded.
    #[error("TLS: {0}")]
    Tls(String),
}

/// Serves the router on `listener` until `shutdown` completes.
pub async fn serve(
    state: AppState,
    listener: std::net::TcpListener,
    tls: Option<TlsFiles>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServeError::Listen { addr, source })?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let h2 = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h2.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let result = match tls {
        None => {
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(app)
                .await
        }
        Some(files) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                    .await
                    .map_err(|e| {
                        ServeError::Tls(format!(
                            "{} / {}: {e}",
                            files.cert.display(),
                            files.key.display()
                        ))
                    })?;
            axum_server::from_tcp_rustls(listener, config)
                .handle(handle)
                .serve(app)
                .await
        }
    };
    result.map_err(|source| ServeError::Listen { addr, source })
}
