//! TAXII throughput and latency: Vigil (SQLite, and PostgreSQL from
//! `VIGIL_TEST_POSTGRES_URL` or a throwaway cluster started with
//! `scripts/pg-start` when the server binaries are installed) against OASIS
//! medallion 3.0.0 with its memory backend, on the same objects posted in
//! the same batches, in one run, with the same concurrency. Prints objects/s
//! for ingest (TAXII POST, one client) and paginated GET (one client), the
//! rate of a POST batch and of a GET page at several collection sizes,
//! p50/p99 latency of 200 concurrent clients (bounded load, loopback only)
//! and the ratios to medallion. Each phase stops after a time cap; a server
//! that did not finish is reported with what it did, and ratios against it
//! are marked as lower bounds.
//!
//! Run: `cargo bench -p vigil-server --bench taxii` (env `BENCH_OBJECTS`,
//! default 20000; `BENCH_CAP_SECS`, the cap per phase, default 150;
//! `BENCH_REQUESTS_PER_CLIENT`, default 20; `BENCH_SERVERS`, default
//! `sqlite,postgres,medallion`).

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
/// Concurrent clients of the latency phase.
const CLIENTS: usize = 200;

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

/// Milestones of the collection size at which the rate of the last POST
/// batch and of one GET page are printed.
const MILESTONES: [usize; 6] = [1_000, 2_000, 5_000, 10_000, 20_000, 50_000];

/// How far a phase got: objects (or requests) done, seconds taken, and
/// whether it finished before the time cap.
#[derive(Clone, Copy)]
struct Phase {
    done: usize,
    secs: f64,
    complete: bool,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.done as f64 / self.secs.max(1e-9)
    }
}

/// Objects per second of one POST batch and of one GET page of `PAGE`
/// objects, measured when the collection held `size` objects.
struct Probe {
    size: usize,
    post: f64,
    get: Option<f64>,
}

fn post_batch(t: &Target, chunk: &[Value]) {
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

/// One GET of the first page; objects per second, or None on failure.
fn get_probe(t: &Target) -> Option<f64> {
    let s = Instant::now();
    let r = request(
        &t.addr,
        "GET",
        &format!("{}?limit={PAGE}", t.objects_path),
        &[("Accept", TAXII), ("Authorization", &t.auth)],
        None,
    )
    .ok()?;
    let v: Value = serde_json::from_slice(&r.body).ok()?;
    let n = v["objects"].as_array().map_or(0, Vec::len);
    Some(n as f64 / s.elapsed().as_secs_f64())
}

/// Posts `objs` in batches of `BATCH`, one client, stopping after the
/// batch that crosses `cap`. Probes (not counted in the ingest time) are
/// taken when the collection reaches each milestone.
fn ingest(t: &Target, objs: &[Value], cap: Duration) -> (Phase, Vec<Probe>) {
    let mut busy = Duration::ZERO;
    let mut done = 0;
    let mut probes = Vec::new();
    for chunk in objs.chunks(BATCH) {
        let s = Instant::now();
        post_batch(t, chunk);
        let took = s.elapsed();
        busy += took;
        done += chunk.len();
        if MILESTONES.contains(&done) || done == objs.len() {
            probes.push(Probe {
                size: done,
                post: chunk.len() as f64 / took.as_secs_f64(),
                get: get_probe(t),
            });
        }
        if busy > cap && done < objs.len() {
            break;
        }
    }
    let phase = Phase {
        done,
        secs: busy.as_secs_f64(),
        complete: done == objs.len(),
    };
    (phase, probes)
}

/// Pages through the whole collection with one client, `PAGE` objects per page.
fn get_all(t: &Target, expected: usize, cap: Duration) -> Option<Phase> {
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
        if v["more"] != true || start.elapsed() > cap {
            break;
        }
        next = v["next"].as_str().map(String::from);
    }
    Some(Phase {
        done: n,
        secs: start.elapsed().as_secs_f64(),
        complete: n >= expected,
    })
}

/// Latency of `?limit=10` GETs from `clients` concurrent clients, each
/// sending up to `per_client` requests one after the other and none after `cap`.
struct Latency {
    p50: f64,
    p99: f64,
    phase: Phase,
    failed: usize,
}

fn latency(t: &Target, clients: usize, per_client: usize, cap: Duration) -> Latency {
    let t = Arc::new((
        t.addr.clone(),
        t.auth.clone(),
        format!("{}?limit=10", t.objects_path),
    ));
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || {
                let mut v = Vec::with_capacity(per_client);
                let mut failed = 0;
                for _ in 0..per_client {
                    if start.elapsed() > cap {
                        break;
                    }
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
                    } else {
                        failed += 1;
                    }
                }
                (v, failed)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut failed = 0;
    for h in handles {
        let (v, f) = h.join().unwrap_or_default();
        all.extend(v);
        failed += f;
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    Latency {
        p50: pct(0.50),
        p99: pct(0.99),
        phase: Phase {
            done: all.len(),
            secs,
            complete: all.len() + failed == clients * per_client,
        },
        failed,
    }
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

/// Everything measured on one server.
struct Row {
    name: String,
    ingest: Phase,
    get: Option<Phase>,
    lat: Latency,
    probes: Vec<Probe>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the three phases against one server, each bounded by `cap`.
fn measure(name: &str, t: &Target, objs: &[Value], cap: Duration, per_client: usize) -> Row {
    let (ingest, probes) = ingest(t, objs, cap);
    let get = get_all(t, ingest.done, cap);
    let lat = latency(t, CLIENTS, per_client, cap);
    let row = Row {
        name: name.into(),
        ingest,
        get,
        lat,
        probes,
    };
    eprintln!("{name}: done");
    row
}

fn count(p: &Phase) -> String {
    if p.complete {
        p.done.to_string()
    } else {
        format!("{}*", p.done)
    }
}

/// `a / b`, marked "≥" when the peer `b` stopped at its time cap (it only
/// slows down as its collection grows, so its full-run rate would be lower).
fn ratio(a: &Phase, b: &Phase) -> String {
    let mark = if b.complete { "" } else { ">=" };
    format!("{mark}{:.0}x", a.rate() / b.rate())
}

fn main() {
    let n = env_usize("BENCH_OBJECTS", 20_000);
    let cap = Duration::from_secs(env_usize("BENCH_CAP_SECS", 150) as u64);
    let per_client = env_usize("BENCH_REQUESTS_PER_CLIENT", 20);
    let dir: PathBuf = std::env::temp_dir().join(format!("vigil_bench_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let objs = objects(n);
    println!(
        "TAXII 2.1 benchmark: the same {n} objects for every server, POST batches of {BATCH} \
         and GET pages of {PAGE} from one client, then {CLIENTS} concurrent clients x \
         {per_client} GETs of 10 objects; each phase capped at {}s",
        cap.as_secs()
    );

    let servers =
        std::env::var("BENCH_SERVERS").unwrap_or_else(|_| "sqlite,postgres,medallion".into());
    let run = |name: &str| servers.split(',').any(|s| s.trim() == name);
    let mut rows: Vec<Row> = Vec::new();
    if run("sqlite") {
        let sqlite = vigil_hub(&rt, dir.join("bench.db").to_string_lossy().into_owned());
        rows.push(measure("vigil/sqlite", &sqlite, &objs, cap, per_client));
    }
    let cluster = if run("postgres") { postgres() } else { None };
    if let Some(url) = cluster.as_ref().map(|c| c.url.clone()) {
        let pg = vigil_hub(&rt, url);
        rows.push(measure("vigil/postgres", &pg, &objs, cap, per_client));
    }
    let mut medallion_row = None;
    if run("medallion") {
        if let Some((_guard, m)) = medallion() {
            medallion_row = Some(measure("medallion/memory", &m, &objs, cap, per_client));
        }
    }

    println!();
    println!(
        "Rate of the latest POST batch / of one GET page of {PAGE}, by collection size (obj/s):"
    );
    let mut head = format!("{:<18}", "server");
    for m in MILESTONES.iter().filter(|&&m| m <= n) {
        head.push_str(&format!(" {:>17}", format!("{m}")));
    }
    println!("{head}");
    for r in rows.iter().chain(medallion_row.iter()) {
        let mut line = format!("{:<18}", r.name);
        for m in MILESTONES.iter().filter(|&&m| m <= n) {
            let cell = match r.probes.iter().find(|p| p.size == *m) {
                Some(p) => format!(
                    "{:.0}/{}",
                    p.post,
                    p.get.map_or("n/a".into(), |g| format!("{g:.0}"))
                ),
                None => "not reached".into(),
            };
            line.push_str(&format!(" {cell:>17}"));
        }
        println!("{line}");
    }

    println!();
    println!(
        "{:<18} {:>8} {:>12} {:>8} {:>12} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "server",
        "objects",
        "ingest/s",
        "paged",
        "GET obj/s",
        "p50 ms",
        "p99 ms",
        "req/s",
        "x ingest",
        "x GET"
    );
    for r in rows.iter().chain(medallion_row.iter()) {
        let (ri, rg) = match &medallion_row {
            Some(m) if m.name != r.name => (
                ratio(&r.ingest, &m.ingest),
                match (&r.get, &m.get) {
                    (Some(a), Some(b)) => ratio(a, b),
                    _ => "n/a".into(),
                },
            ),
            _ => ("-".into(), "-".into()),
        };
        println!(
            "{:<18} {:>8} {:>12.0} {:>8} {:>12} {:>9.2} {:>9.2} {:>9.0} {:>10} {:>10}",
            r.name,
            count(&r.ingest),
            r.ingest.rate(),
            r.get.as_ref().map_or("n/a".into(), count),
            r.get
                .as_ref()
                .map_or("n/a".into(), |g| format!("{:.0}", g.rate())),
            r.lat.p50,
            r.lat.p99,
            r.lat.phase.rate(),
            ri,
            rg
        );
    }
    for r in rows.iter().chain(medallion_row.iter()) {
        if !r.ingest.complete
            || r.get.as_ref().is_some_and(|g| !g.complete)
            || !r.lat.phase.complete
        {
            println!(
                "{}: stopped at the {}s cap (* = objects done): ingested {} of {n} at {:.0}/s, \
                 paged {}, answered {} of {} latency requests ({} failed); ratios against it are lower bounds (>=)",
                r.name,
                cap.as_secs(),
                r.ingest.done,
                r.ingest.rate(),
                r.get.as_ref().map_or(0, |g| g.done),
                r.lat.phase.done,
                CLIENTS * per_client,
                r.lat.failed
            );
        }
    }
    println!(
        "x ingest / x GET: rate of the server divided by medallion's on the same objects; \
         req/s: latency requests answered per second"
    );
    if medallion_row.is_none() && run("medallion") {
        println!("medallion not available: no ratio (run scripts/interop-setup)");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
