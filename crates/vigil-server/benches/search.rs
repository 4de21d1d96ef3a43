//! Search latency: `GET /rest/v1/search` answered by the store's text index
//! (migration 6), beside the scan the hub ran before it (every visible
//! object of every readable collection read page by page, parsed, and its
//! name, aliases, description, pattern and value matched as a lower-case
//! substring), on the bundled registry and indicator sets plus
//! `BENCH_OBJECTS` generated indicators (default 100,000), in one run.
//! SQLite always; PostgreSQL too when `VIGIL_TEST_POSTGRES_URL` is set.
//! Latency is the median wall-clock time of a request; CPU is the
//! process's user + system time per request (so other load on the machine
//! does not count).
//!
//! Run: `cargo bench -p vigil-server --bench search`.

mod common;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;
use vigil_server::bootstrap::Seed;
use vigil_server::{AppState, HubConfig};
use vigil_store::{NewObject, ObjectQuery, Store, Tlp, Visibility};

fn seeds() -> Vec<Seed> {
    let (mut registry, mut indicators) = (Vec::new(), Vec::new());
    for b in vigil_registry::bundles() {
        let objs = b.objects().expect("bundled file");
        match b.source {
            vigil_registry::Source::Registry => registry.extend(objs),
            vigil_registry::Source::Indicators => indicators.extend(objs),
        }
    }
    let seed = |alias: &str, objects| Seed {
        alias: alias.into(),
        title: alias.into(),
        description: String::new(),
        public: true,
        default_tlp: Tlp::Clear,
        objects,
    };
    vec![seed("registry", registry), seed("indicators", indicators)]
}

/// Loads the bundled data and `n` generated indicators; returns the
/// generated objects' load rate (objects per second, wall-clock).
async fn load(state: &AppState, store: &Arc<dyn Store>, n: usize) -> f64 {
    vigil_server::bootstrap::first_start(state, seeds())
        .await
        .expect("bundled data");
    let cid = store
        .collection("indicators")
        .await
        .expect("collections")
        .expect("indicators collection")
        .id;
    let start = Instant::now();
    for first in (0..n).step_by(5_000) {
        let batch: Vec<NewObject> = (first..n.min(first + 5_000))
            .map(|i| {
                common::indicator(
                    i,
                    serde_json::json!({"name": format!("Bench indicator {i}"),
                        "description": "Generated for the search benchmark.",
                        "pattern": format!("[domain-name:value = 'h{i}.bench{}.example.org']", i % 997)}),
                )
            })
            .collect();
        store.add_objects(&cid, batch).await.expect("load");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The former search: every object of every collection the caller reads,
/// page by page, parsed and matched as a substring. Returns the total.
async fn scan(store: &Arc<dyn Store>, text: &str, types: &[&str]) -> u64 {
    let needle = text.to_lowercase();
    let has = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.to_lowercase().contains(&needle))
    };
    let mut total = 0u64;
    let mut results = Vec::new();
    for c in store.collections().await.expect("collections") {
        if !c.public {
            continue;
        }
        let mut q = ObjectQuery::new(&c.id, Visibility::anonymous());
        q.types = types.iter().map(|t| t.to_string()).collect();
        loop {
            let page = store.query_objects(&q).await.expect("page");
            for o in &page.objects {
                let Some(v) = o
                    .body
                    .as_deref()
                    .and_then(|b| serde_json::from_str::<Value>(b).ok())
                else {
                    continue;
                };
                let hit = ["name", "description", "pattern", "value", "x_vigil_value"]
                    .iter()
                    .any(|k| has(&v[*k]))
                    || ["aliases", "x_mitre_aliases", "labels"]
                        .iter()
                        .any(|k| v[*k].as_array().is_some_and(|a| a.iter().any(has)));
                if hit {
                    if results.len() < 50 {
                        results.push(v);
                    }
                    total += 1;
                }
            }
            match page.objects.last() {
                Some(l) if page.more => {
                    q.after = Some(vigil_store::Cursor {
                        date_added: l.date_added,
                        pk: l.pk,
                    })
                }
                _ => break,
            }
        }
    }
    total
}

async fn indexed(app: &axum::Router, text: &str, types: &[&str]) -> u64 {
    let mut uri = format!(
        "/rest/v1/search?q={}",
        form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
    );
    for t in types {
        uri.push_str(&format!("&type={t}"));
    }
    let req = Request::get(uri).body(Body::empty()).expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    assert!(resp.status().is_success(), "{}", resp.status());
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let j: Value = serde_json::from_slice(&body).expect("json");
    j["total"].as_u64().expect("total")
}

/// Runs `f` `reps` times; returns (median wall ms, CPU ms per run, result).
async fn time<F, Fut>(reps: usize, mut f: F) -> (f64, f64, u64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let mut walls = Vec::with_capacity(reps);
    let mut out = 0;
    let c0 = common::cpu_seconds();
    for _ in 0..reps {
        let w = Instant::now();
        out = f().await;
        walls.push(w.elapsed().as_secs_f64() * 1e3);
    }
    let cpu = (common::cpu_seconds() - c0) * 1e3 / reps as f64;
    walls.sort_by(f64::total_cmp);
    (walls[walls.len() / 2], cpu, out)
}

const QUERIES: &[(&str, &str, &[&str])] = &[
    ("word", "pegasus", &[]),
    ("prefix", "pega", &[]),
    ("vendor", "nso group", &["identity"]),
    ("domain", "smscentro.com", &[]),
    (
        "sha-256",
        "d12616542268d32329f1c4357b5d5a57e954e13d2338d27bb8439794291b8c6d",
        &[],
    ),
    ("100k hits", "bench", &["indicator"]),
];

async fn run(backend: &str, store: Arc<dyn Store>, n: usize) {
    let state = AppState::new(store.clone(), HubConfig::default())
        .await
        .expect("hub");
    let rate = load(&state, &store, n).await;
    let app = vigil_server::router(state);
    println!(
        "\n{backend}: bundled registry and indicator sets + {n} generated indicators \
         (loaded at {rate:.0} objects/s with the index kept in the same transactions); \
         anonymous caller, public collections"
    );
    println!(
        "{:<10} {:>9} {:>9} {:>12} {:>12} {:>12} {:>12} {:>9}",
        "query",
        "hits idx",
        "hits scan",
        "idx p50 ms",
        "idx CPU ms",
        "scan p50 ms",
        "scan CPU ms",
        "speed-up"
    );
    for (label, text, types) in QUERIES {
        indexed(&app, text, types).await;
        let (iw, ic, ih) = time(20, || indexed(&app, text, types)).await;
        let (sw, sc, sh) = time(2, || scan(&store, text, types)).await;
        println!(
            "{:<10} {:>9} {:>9} {:>12.2} {:>12.2} {:>12.1} {:>12.1} {:>8.0}x",
            label,
            ih,
            sh,
            iw,
            ic,
            sw,
            sc,
            sw / iw.max(1e-3)
        );
    }
}

fn main() {
    let n: usize = std::env::var("BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("vigil_search_bench_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let store = vigil_store::open(dir.join("hub.db").to_str().expect("path"))
            .await
            .expect("store");
        run("SQLite", store, n).await;
        let _ = std::fs::remove_dir_all(&dir);
        if let Ok(url) = std::env::var("VIGIL_TEST_POSTGRES_URL") {
            let schema = format!("search_bench_{}", std::process::id());
            let pg = vigil_store::PgStore::connect(&url, Some(&schema))
                .await
                .expect("postgres");
            pg.migrate().await.expect("migrate");
            run("PostgreSQL", Arc::new(pg), n).await;
        }
    });
}
