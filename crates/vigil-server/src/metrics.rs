//! Prometheus counters and the per-token rate limiter.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

/// Counters exported at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    responses: [AtomicU64; 5],
    objects_added: AtomicU64,
    objects_served: AtomicU64,
}

impl Metrics {
    pub(crate) fn response(&self, status: StatusCode) {
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn objects_added(&self, n: usize) {
        self.objects_added.fetch_add(n as u64, Ordering::Relaxed);
    }
    pub(crate) fn objects_served(&self, n: usize) {
        self.objects_served.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// GET /metrics (Prometheus text exposition format).
pub async fn render(State(s): State<AppState>) -> Response {
    let m = &s.hub.metrics;
    let mut out = String::new();
    out.push_str("# HELP vigil_http_responses_total HTTP responses by status class.\n# TYPE vigil_http_responses_total counter\n");
    for (i, c) in m.responses.iter().enumerate() {
        let _ = writeln!(
            out,
            "vigil_http_responses_total{{class=\"{}xx\"}} {}",
            i + 1,
            c.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP vigil_objects_added_total STIX objects stored.\n# TYPE vigil_objects_added_total counter\nvigil_objects_added_total {}",
        m.objects_added.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP vigil_objects_served_total STIX objects returned by TAXII object requests.\n# TYPE vigil_objects_served_total counter\nvigil_objects_served_total {}",
        m.objects_served.load(Ordering::Relaxed)
    );
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

/// A token-bucket limiter keyed by API token.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: Option<u32>,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

/// Tokens idle this long are forgotten, so the map stays small.
const IDLE_SECS: f64 = 600.0;

impl RateLimiter {
    pub(crate) fn new(per_minute: Option<u32>) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the token's bucket, or fails with 429.
    pub(crate) fn check(&self, token_id: i64) -> Result<(), ApiError> {
        let Some(limit) = self.per_minute else {
            return Ok(());
        };
        let cap = f64::from(limit.max(1));
        let now = Instant::now();
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() > 10_000 {
            map.retain(|_, (_, t)| now.duration_since(*t).as_secs_f64() < IDLE_SECS);
        }
        let (level, last) = map.entry(token_id).or_insert((cap, now));
        *level = (*level + now.duration_since(*last).as_secs_f64() * cap / 60.0).min(cap);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err(ApiError::TooManyRequests(format!(
                "rate limit of {limit} requests per minute exceeded"
            )))
        }
    }
}
