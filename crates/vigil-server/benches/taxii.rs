//! TAXII throughput and latency: Vigil (SQLite, and PostgreSQL from
//! `VIGIL_TEST_POSTGRES_URL` or a throwaway cluster started with
//! `scripts/pg-start` when the server binaries are installed) against OASIS
//! medallion 3.0.0 with its
//! memory backend, on the same objects, in one run. Prints objects/s for
//! ingest (TAXII POST) and paginated GET, the ratios, and p50/p99 latency
//! of 200 concurrent clients (bounded load, loopback only).
//!
//! Run: `cargo bench -p vigil-server --bench taxii` (env `BENCH_OBJECTS`,
//! default 20000; `BENCH_MEDALLION_OBJECTS`, default 2000).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use vigil_server::client::request;
use vigil_server::{bootstrap, AppState, HubConfig};

const TAXII: &str = "application/taxii+json;version=2.1";
const BATCH: usize = 1000;
const PAGE: usize = 1000;

fn objects(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", i / 1_000_000, i),
                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "name": format!("spyware domain {i}"),
                "pattern": format!("[domain-name:value = 'c2-{i}.example.net']"), "pattern_type": "stix",
                "valid_from": "2024-01-01T00:00:00Z",
                "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]})
        })
        .collect()
}

struct Target {
    addr: String,
    auth: String,
    objects_path: String,
}

fn ingest(t: &Target, objs: &[Value]) -> f64 {
    let start = Instant::now();
    for chunk in objs.chunks(BATCH) {
        let body = json!({ "objects": chunk }).to_string();
        let r = request(
            &t.addr,
            "POST",
            &t.objects_path,
            &[
                ("Accept", TAXII),
                ("Content-Type", TAXII),
                ("Authorization", &t.auth),
            ],
            Some(body.as_bytes()),
        )
        .expect("POST");
        assert_eq!(r.status, 202, "{}", r.text());
    }
    objs.len() as f64 / start.elapsed().as_secs_f64()
}

fn get_all(t: &Target, expected: usize, deadline: Duration) -> Option<f64> {
    let start = Instant::now();
    let mut next: Option<String> = None;
    let mut n = 0;
    loop {
        let path = match &next {
            Some(x) => format!("{}?limit={PAGE}&next={x}", t.objects_path),
            None => format!("{}?limit={PAGE}", t.objects_path),
        };
        let r = request(
            &t.addr,
            "GET",
            &path,
            &[("Accept", TAXII), ("Authorization", &t.auth)],
            None,
        )
        .ok()?;
        if r.status != 200 {
            eprintln!("GET {path}: {} {}", r.status, r.text());
            return None;
        }
        let v: Value = serde_json::from_slice(&r.body).ok()?;
        n += v["objects"].as_array().map_or(0, Vec::len);
        if v["more"] != true || start.elapsed() > deadline {
            break;
        }
        next = v["next"].as_str().map(String::from);
    }
    if n < expected {
        eprintln!("paged {n} of {expected} objects before stopping");
        return None;
    }
    Some(n as f64 / start.elapsed().as_secs_f64())
}

fn latency(t: &Target, clients: usize, per_client: usize) -> (f64, f64) {
    let t = Arc::new((
        t.addr.clone(),
        t.auth.clone(),
        format!("{}?limit=10", t.objects_path),
    ));
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || {
                let mut v = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let s = Instant::now();
                    let r = request(
                        &t.0,
                        "GET",
                        &t.2,
                        &[("Accept", TAXII), ("Authorization", &t.1)],
                        None,
                    );
                    if matches!(r, Ok(ref r) if r.status == 200) {
                        v.push(s.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                v
            })
        })
        .collect();
    let mut all: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_default())
        .collect();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    (pct(0.50), pct(0.99))
}

fn vigil_hub(rt: &tokio::runtime::Runtime, database: String) -> Target {
    rt.block_on(async move {
        let store = vigil_store::open(&database).await.expect("open store");
        let state = AppState::new(
            store,
            HubConfig {
                pending_threshold: usize::MAX,
                ..HubConfig::default()
            },
        )
        .await
        .unwrap();
        let first = bootstrap::first_start(&state, Vec::new()).await.unwrap();
        let token = first.admin_token.expect("fresh database");
        let cid = bootstrap::new_collection_id();
        state
            .hub
            .store
            .create_collection(&vigil_store::NewCollection {
                id: cid.clone(),
                alias: None,
                title: "bench".into(),
                description: String::new(),
                public: false,
                owner_org: None,
            })
            .await
            .unwrap();
        // A deep accept queue, as `vigil serve` binds: 200 clients connect at once.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(4096).unwrap().into_std().unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(vigil_server::serve(
            state,
            listener,
            None,
            std::future::pending(),
        ));
        Target {
            addr,
            auth: format!("Bearer {token}"),
            objects_path: format!("/api/collections/{cid}/objects/"),
        }
    })
}

struct Medallion(Child);
impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn medallion() -> Option<(Medallion, Target)> {
    let python = vigil_testkit::python()?;
    let script = vigil_testkit::workspace_root().join("interop/taxii/medallion_server.py");
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let m = Medallion(child);
    let addr = format!("127.0.0.1:{port}");
    let cid = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
    for _ in 0..300 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            let auth = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("bench:bench")
            );
            return Some((
                m,
                Target {
                    addr,
                    auth,
                    objects_path: format!("/api1/collections/{cid}/objects/"),
                },
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// A PostgreSQL database: `VIGIL_TEST_POSTGRES_URL`, or a throwaway
/// cluster from `scripts/pg-start`, stopped when dropped.
struct Postgres {
    url: String,
    dir: Option<String>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = Command::new(vigil_testkit::workspace_root().join("scripts/pg-stop"))
                .arg(dir)
                .status();
        }
    }
}

fn postgres() -> Option<Postgres> {
    if let Ok(url) = std::env::var("VIGIL_TEST_POSTGRES_URL") {
        return Some(Postgres { url, dir: None });
    }
    let dir_file = std::env::temp_dir().join(format!("vigil_bench_pg_{}", std::process::id()));
    let out = Command::new(vigil_testkit::workspace_root().join("scripts/pg-start"))
        .env("VIGIL_PG_DIR_FILE", &dir_file)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let dir = std::fs::read_to_string(&dir_file)
        .ok()
        .map(|d| d.trim().to_string());
    let _ = std::fs::remove_file(&dir_file);
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || url.is_empty() {
        println!("PostgreSQL not available (no server binaries): SQLite figures only");
        return None;
    }
    Some(Postgres { url, dir })
}

/// One line of the results table: server, ingest/s, GET/s, (p50, p99) ms.
type Row = (String, f64, Option<f64>, (f64, f64));

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n = env_usize("BENCH_OBJECTS", 20_000);
    let nm = env_usize("BENCH_MEDALLION_OBJECTS", 2_000);
    let dir: PathBuf = std::env::temp_dir().join(format!("vigil_bench_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let objs = objects(n);
    println!("TAXII 2.1 benchmark: {n} objects for Vigil, {nm} for medallion, POST batches of {BATCH}, GET pages of {PAGE}");

    let mut rows: Vec<Row> = Vec::new();
    let sqlite = vigil_hub(&rt, dir.join("bench.db").to_string_lossy().into_owned());
    let ing = ingest(&sqlite, &objs);
    let get = get_all(&sqlite, n, Duration::from_secs(600));
    let lat = latency(&sqlite, 200, 20);
    rows.push(("vigil/sqlite".into(), ing, get, lat));
    let cluster = postgres();
    if let Some(url) = cluster.as_ref().map(|c| c.url.clone()) {
        let pg = vigil_hub(&rt, url);
        let ing = ingest(&pg, &objs);
        let get = get_all(&pg, n, Duration::from_secs(600));
        let lat = latency(&pg, 200, 20);
        rows.push(("vigil/postgres".into(), ing, get, lat));
    }
    let mut med: Option<(f64, Option<f64>)> = None;
    if let Some((_guard, m)) = medallion() {
        let ing = ingest(&m, &objs[..nm.min(n)]);
        let get = get_all(&m, nm.min(n), Duration::from_secs(120));
        let lat = latency(&m, 200, 2);
        rows.push(("medallion/memory".into(), ing, get, lat));
        med = Some((ing, get));
    }
    println!(
        "{:<18} {:>14} {:>14} {:>10} {:>10}",
        "server", "ingest obj/s", "GET obj/s", "p50 ms", "p99 ms"
    );
    for (name, ing, get, (p50, p99)) in &rows {
        let g = get.map_or("n/a".to_string(), |g| format!("{g:.0}"));
        println!("{name:<18} {ing:>14.0} {g:>14} {p50:>10.2} {p99:>10.2}");
    }
    if let Some((m_ing, m_get)) = med {
        let (_, v_ing, v_get, _) = &rows[0];
        println!(
            "ratio vigil/sqlite : medallion  ingest {:.0}x",
            v_ing / m_ing
        );
        match (v_get, m_get) {
            (Some(v), Some(m)) => println!("ratio vigil/sqlite : medallion  GET    {:.0}x", v / m),
            _ => println!("ratio GET: medallion did not finish paging"),
        }
    } else {
        println!("medallion not available: no ratio (run scripts/interop-setup)");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
