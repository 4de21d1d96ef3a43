//! Streamed exports: peak memory and throughput of `GET /rest/v1/export`
//! on a collection of `BENCH_OBJECTS` indicators (default 200,000, SQLite),
//! beside the same export built in memory the way the hub did before it
//! streamed (every object read into a list, then lowered and written), in
//! the same run. Memory is the growth of the process's peak resident set
//! (`VmHWM`, reset before each phase); rates are objects per CPU-second of
//! the process (user + system), wall-clock shown too.
//!
//! Run: `cargo bench -p vigil-server --bench export`.

mod common;

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;
use vigil_formats::{ExportOptions, Format, IndicatorSet};
use vigil_server::{AppState, HubConfig};
use vigil_store::{NewCollection, NewObject, ObjectQuery, Visibility};

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak resident set so that `VmHWM` measures the next phase.
fn reset_peak() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_kib("VmRSS:")
}

struct Phase {
    bytes: usize,
    cpu: f64,
    wall: f64,
    peak_growth_kib: u64,
    peak_kib: u64,
}

async fn measure<F: std::future::Future<Output = usize>>(f: F) -> Phase {
    let base = reset_peak();
    let (c0, w0) = (common::cpu_seconds(), Instant::now());
    let bytes = f.await;
    Phase {
        bytes,
        cpu: common::cpu_seconds() - c0,
        wall: w0.elapsed().as_secs_f64(),
        peak_growth_kib: status_kib("VmHWM:").saturating_sub(base),
        peak_kib: status_kib("VmHWM:"),
    }
}

fn main() {
    let n: usize = std::env::var("BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(n));
}

async fn run(n: usize) {
    let dir = std::env::temp_dir().join(format!("vigil_export_bench_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let store = vigil_store::open(dir.join("hub.db").to_str().expect("path"))
        .await
        .expect("store");
    let cid = "5e0a6e0c-0000-4000-8000-00000000be7c";
    store
        .create_collection(&NewCollection {
            id: cid.into(),
            alias: Some("bench".into()),
            title: "bench".into(),
            description: String::new(),
            public: true,
            owner_org: None,
        })
        .await
        .expect("collection");
    for start in (0..n).step_by(10_000) {
        let batch: Vec<NewObject> = (start..n.min(start + 10_000))
            .map(|i| {
                common::indicator(
                    i,
                    serde_json::json!({"name": format!("spyware domain {i}"),
                        "pattern": format!("[domain-name:value = 'c2-{i}.example.net']")}),
                )
            })
            .collect();
        store.add_objects(cid, batch).await.expect("load");
    }
    let state = AppState::new(store.clone(), HubConfig::default())
        .await
        .expect("hub");
    let app = vigil_server::router(state);
    println!("export of {n} indicators (SQLite), anonymous reader of a public collection");
    println!(
        "{:<8} {:>10} {:>8} {:>10} {:>14} {:>14} {:>14}",
        "format", "way", "MB out", "objects/s", "objects/CPU-s", "peak RSS +MiB", "peak RSS MiB"
    );
    println!("(the allocator keeps memory freed by earlier phases, so after the first format the growth of a phase understates what it used)");
    for format in ["domains", "csv", "rpz", "stix"] {
        let app = app.clone();
        let streamed = measure(async move {
            let req = Request::get(format!("/rest/v1/export?format={format}&collection=bench"))
                .body(Body::empty())
                .expect("request");
            let resp = app.oneshot(req).await.expect("response");
            assert!(resp.status().is_success(), "{}", resp.status());
            let mut body = resp.into_body();
            let mut bytes = 0;
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.expect("body").into_data() {
                    bytes += data.len();
                }
            }
            bytes
        })
        .await;
        let store = store.clone();
        let buffered = measure(async move {
            // The former way: the whole selection in memory, then written.
            let mut q = ObjectQuery::new(cid, Visibility::anonymous());
            q.limit = 1000;
            let mut objects = Vec::new();
            loop {
                let page = store.query_objects(&q).await.expect("query");
                for o in &page.objects {
                    if let Some(b) = &o.body {
                        objects.push(serde_json::from_str::<serde_json::Value>(b).expect("json"));
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
            let mut out = Vec::new();
            if format == "stix" {
                let b =
                    serde_json::json!({"type": "bundle", "id": "bundle--x", "objects": objects});
                serde_json::to_writer(&mut out, &b).expect("write");
            } else {
                let f = Format::from_name(format).expect("format");
                let set = IndicatorSet::from_objects(&objects);
                vigil_formats::export(&set, f, &ExportOptions::default(), &mut out)
                    .expect("export");
            }
            out.len()
        })
        .await;
        for (way, p) in [("streamed", &streamed), ("buffered", &buffered)] {
            println!(
                "{:<8} {:>10} {:>8.1} {:>10.0} {:>14.0} {:>14.1} {:>14.1}",
                format,
                way,
                p.bytes as f64 / 1e6,
                n as f64 / p.wall,
                n as f64 / p.cpu.max(0.01),
                p.peak_growth_kib as f64 / 1024.0,
                p.peak_kib as f64 / 1024.0
            );
        }
        println!(
            "{:<8} streamed/buffered: peak memory growth {:.3}x, objects per CPU-second {:.2}x",
            format,
            streamed.peak_growth_kib as f64 / buffered.peak_growth_kib.max(1) as f64,
            buffered.cpu / streamed.cpu.max(0.01)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
