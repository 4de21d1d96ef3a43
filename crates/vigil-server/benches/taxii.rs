//! TAXII throughput and latency: Vigil (SQLite, and PostgreSQL from
//! `VIGIL_TEST_POSTGRES_URL` or a throwaway cluster started with
//! `scripts/pg-start` when the server binaries are installed) against OASIS
//! medallion 3.0.0 with its memory backend, on the same objects posted in
//! the same batches (the request bodies are serialised once, before any
//! timing), in one run, with the same concurrency. Prints objects/s for
//! ingest (TAXII POST, one client) and paginated GET (one client), the rate
//! of a POST batch and of a GET page at several collection sizes with the
//! ratio to medallion at each size, p50/p99 latency of 200 concurrent
//! clients (bounded load, loopback only) and the ratios to medallion, and
//! ingest objects per CPU-second of the server's process (user + system
//! time, which load from other processes changes less than wall-clock time;
//! for the in-process hubs it includes the benchmark's client thread).
//!
//! The time cap is hard: every request carries the deadline of its phase
//! (and a GET probe its own, shorter one) and is abandoned when it passes.
//! A server that overran is reported with what it did; its rate is then an
//! upper bound (the unfinished request counted as if it had just ended), so
//! ratios against it are lower bounds (`>=`). Medallion, still busy with an
//! abandoned request, is restarted preloaded with the objects it had stored
//! before the next phase, so no phase runs against leftover work.
//!
//! The ratio to medallion depends on the collection's size: medallion
//! compares every posted object with every stored one, so its rate falls as
//! the collection grows (about 18,000 objects/s into an empty collection,
//! about 200 at 50,000), while the hub's stays level. The default run posts
//! 50,000 objects, a partner hub's collection of modest size (the bundled
//! registry and public indicator sets alone hold over 11,000), and the
//! per-size table shows the ratio from 1,000 objects up.
//!
//! Run: `cargo bench -p vigil-server --bench taxii` (env `BENCH_OBJECTS`,
//! default 50000; `BENCH_BATCH`, objects per POST, default 1000;
//! `BENCH_CAP_SECS`, the cap per phase, default 150; `BENCH_PROBE_SECS`, the
//! cap of one GET probe, default 20; `BENCH_REQUESTS_PER_CLIENT`, default
//! 20; `BENCH_SERVERS`, default `sqlite,postgres,medallion`). The default
//! run takes about nine minutes, most of it medallion ingesting (about two
//! minutes) and then reaching its caps.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use mimalloc::MiMalloc;
use serde_json::{json, Value};
use vigil_server::{bootstrap, AppState, HubConfig};

/// The allocator the `vigil` binary uses, so the in-process hubs allocate
/// as `vigil serve` does.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

const TAXII: &str = "application/taxii+json;version=2.1";
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

#[derive(Clone)]
struct Target {
    addr: String,
    auth: String,
    objects_path: String,
}

/// Why a request gave no response.
#[derive(Debug)]
enum Failure {
    /// The deadline passed first.
    Overran,
    /// Anything else (connection refused, malformed response).
    Io(std::io::Error),
}

/// A response: status and body.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

fn malformed(msg: &str) -> Failure {
    Failure::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, msg))
}

/// One HTTP/1.1 request (`Connection: close`) that gives up at `deadline`:
/// every socket wait is bounded by the time left.
fn send(
    t: &Target,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    deadline: Instant,
) -> Result<Reply, Failure> {
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(Failure::Overran)
    };
    let timed_out = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Failure::Overran,
        _ => Failure::Io(e),
    };
    let sa = t
        .addr
        .to_socket_addrs()
        .map_err(Failure::Io)?
        .next()
        .ok_or_else(|| malformed("no address"))?;
    let mut s = TcpStream::connect_timeout(&sa, left()?).map_err(timed_out)?;
    s.set_nodelay(true).map_err(Failure::Io)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: {TAXII}\r\nAuthorization: {}\r\n",
        t.addr, t.auth
    );
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: {TAXII}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    s.set_write_timeout(Some(left()?)).map_err(Failure::Io)?;
    s.write_all(head.as_bytes()).map_err(timed_out)?;
    if let Some(b) = body {
        s.write_all(b).map_err(timed_out)?;
    }
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        s.set_read_timeout(Some(left()?)).map_err(Failure::Io)?;
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(timed_out(e)),
        }
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| malformed("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| malformed("bad status line"))?;
    let rest = &raw[split + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(rest).ok_or_else(|| malformed("bad chunked body"))?
    } else {
        rest.to_vec()
    };
    Ok(Reply { status, body })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let text = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(text.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Milestones of the collection size at which the rate of the last POST
/// batch and of one GET page are printed.
const MILESTONES: [usize; 6] = [1_000, 2_000, 5_000, 10_000, 20_000, 50_000];

/// How far a phase got: objects (or requests) done, seconds taken, and
/// whether a request overran the cap. `unit` is what the unfinished request
/// would have added (a POST batch, a page).
#[derive(Clone, Copy)]
struct Phase {
    done: usize,
    secs: f64,
    overran: bool,
    unit: usize,
}

impl Phase {
    /// The rate; for a phase that overran, an upper bound (the request that
    /// was cut off counted in full).
    fn rate(&self) -> f64 {
        let done = self.done + if self.overran { self.unit } else { 0 };
        done as f64 / self.secs.max(1e-9)
    }
}

/// Objects per second of one POST batch and of one GET page of `PAGE`
/// objects, measured when the collection held `size` objects. A GET that
/// overran its probe cap is an upper bound.
struct Probe {
    size: usize,
    post: f64,
    get: Option<(f64, bool)>,
}

/// A server under test. Medallion keeps what it needs to be restarted with
/// the objects it had stored, after a request it is still busy with was
/// abandoned.
struct Server {
    target: Target,
    medallion: Option<Medallion>,
    /// Whether medallion was restarted (its CPU time then starts again).
    restarted: bool,
}

impl Server {
    /// The process serving: medallion's, or this one for an in-process hub
    /// (whose CPU time then includes the benchmark's client thread).
    fn pid(&self) -> u32 {
        self.medallion
            .as_ref()
            .map_or(std::process::id(), |m| m.0.id())
    }

    /// After an overrun: a fresh medallion preloaded with `stored`; a
    /// Vigil hub is left as it is (it is measured as found).
    fn recover(&mut self, stored: &[Value], dir: &Path) {
        self.restarted = true;
        if let Some(m) = self.medallion.take() {
            drop(m);
            let file = dir.join("medallion-preload.json");
            std::fs::write(&file, serde_json::to_vec(stored).expect("JSON")).expect("preload");
            match start_medallion(Some(&file)) {
                Some((m, t)) => {
                    self.target = t;
                    self.medallion = Some(m);
                }
                None => eprintln!("medallion did not restart"),
            }
            let _ = std::fs::remove_file(&file);
        }
    }
}

/// One GET of the first page within `cap`: objects per second and whether
/// it overran (then the rate is `PAGE / cap`, an upper bound); None on failure.
fn get_probe(t: &Target, cap: Duration) -> Option<(f64, bool)> {
    let s = Instant::now();
    match send(
        t,
        "GET",
        &format!("{}?limit={PAGE}", t.objects_path),
        None,
        s + cap,
    ) {
        Ok(r) => {
            let v: Value = serde_json::from_slice(&r.body).ok()?;
            let n = v["objects"].as_array().map_or(0, Vec::len);
            Some((n as f64 / s.elapsed().as_secs_f64(), false))
        }
        Err(Failure::Overran) => Some((PAGE as f64 / cap.as_secs_f64(), true)),
        Err(Failure::Io(e)) => {
            eprintln!("GET probe: {e}");
            None
        }
    }
}

/// Posts the batches `bodies` (each `batch` objects of `objs`), one client,
/// within `cap` of busy time. Probes (not counted in the ingest time) are
/// taken when the collection reaches each milestone; a probe that overran
/// leaves medallion busy, so it is restarted with what it stored.
fn ingest(
    srv: &mut Server,
    objs: &[Value],
    bodies: &[Vec<u8>],
    batch: usize,
    cap: Duration,
    probe_cap: Duration,
    dir: &Path,
) -> (Phase, Vec<Probe>) {
    let mut busy = Duration::ZERO;
    let mut done = 0;
    let mut overran = false;
    let mut probes = Vec::new();
    for body in bodies {
        let n = batch.min(objs.len() - done);
        let s = Instant::now();
        let deadline = s + cap.saturating_sub(busy);
        let r = send(
            &srv.target,
            "POST",
            &srv.target.objects_path,
            Some(body),
            deadline,
        );
        let took = s.elapsed();
        busy += took;
        match r {
            Ok(r) => assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body)),
            Err(Failure::Overran) => {
                overran = true;
                break;
            }
            Err(Failure::Io(e)) => panic!("POST: {e}"),
        }
        let before = done;
        done += n;
        if MILESTONES.iter().any(|&m| before < m && m <= done) || done == objs.len() {
            let get = get_probe(&srv.target, probe_cap);
            if get.is_some_and(|(_, over)| over) {
                srv.recover(&objs[..done], dir);
            }
            probes.push(Probe {
                size: done,
                post: n as f64 / took.as_secs_f64(),
                get,
            });
        }
    }
    let phase = Phase {
        done,
        secs: busy.as_secs_f64(),
        overran,
        unit: batch,
    };
    (phase, probes)
}

/// Pages through the whole collection with one client, `PAGE` objects per page.
fn get_all(t: &Target, cap: Duration) -> Option<Phase> {
    let start = Instant::now();
    let deadline = start + cap;
    let mut next: Option<String> = None;
    let mut n = 0;
    let mut overran = false;
    loop {
        let path = match &next {
            Some(x) => format!("{}?limit={PAGE}&next={x}", t.objects_path),
            None => format!("{}?limit={PAGE}", t.objects_path),
        };
        let r = match send(t, "GET", &path, None, deadline) {
            Ok(r) => r,
            Err(Failure::Overran) => {
                overran = true;
                break;
            }
            Err(Failure::Io(e)) => {
                eprintln!("GET {path}: {e}");
                return None;
            }
        };
        if r.status != 200 {
            eprintln!(
                "GET {path}: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            return None;
        }
        let v: Value = serde_json::from_slice(&r.body).ok()?;
        n += v["objects"].as_array().map_or(0, Vec::len);
        if v["more"] != true {
            break;
        }
        next = v["next"].as_str().map(String::from);
    }
    Some(Phase {
        done: n,
        secs: start.elapsed().as_secs_f64(),
        overran,
        unit: PAGE,
    })
}

/// Latency of `?limit=10` GETs from `clients` concurrent clients, each
/// sending up to `per_client` requests one after the other until `cap`.
/// A request cut off by the cap counts with the time it had waited, as a
/// lower bound of its latency (a percentile that falls on one is `>`).
struct Latency {
    p50: (f64, bool),
    p99: (f64, bool),
    phase: Phase,
    failed: usize,
}

fn latency(t: &Target, clients: usize, per_client: usize, cap: Duration) -> Latency {
    let t = Arc::new(t.clone());
    let path = Arc::new(format!("{}?limit=10", t.objects_path));
    let start = Instant::now();
    let deadline = start + cap;
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (t, path) = (t.clone(), path.clone());
            std::thread::spawn(move || {
                let mut v = Vec::with_capacity(per_client);
                let mut failed = 0;
                for _ in 0..per_client {
                    let s = Instant::now();
                    match send(&t, "GET", &path, None, deadline) {
                        Ok(r) if r.status == 200 => {
                            v.push((s.elapsed().as_secs_f64() * 1000.0, false))
                        }
                        Err(Failure::Overran) => {
                            v.push((s.elapsed().as_secs_f64() * 1000.0, true));
                            break;
                        }
                        _ => failed += 1,
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
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or((f64::NAN, false))
    };
    let answered = all.iter().filter(|(_, cut)| !cut).count();
    Latency {
        p50: pct(0.50),
        p99: pct(0.99),
        phase: Phase {
            done: answered,
            secs,
            overran: answered + failed < clients * per_client,
            unit: 0,
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

/// Starts medallion on a free port, optionally preloaded with the objects
/// of a JSON file, and waits until it accepts connections.
fn start_medallion(preload: Option<&Path>) -> Option<(Medallion, Target)> {
    let python = vigil_testkit::python()?;
    let script = vigil_testkit::workspace_root().join("interop/taxii/medallion_server.py");
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(port.to_string());
    if let Some(p) = preload {
        cmd.arg(p);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let m = Medallion(child);
    let addr = format!("127.0.0.1:{port}");
    let cid = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
    for _ in 0..600 {
        if TcpStream::connect(&addr).is_ok() {
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
    /// CPU seconds the server's process used during the ingest phase (GET
    /// probes included); None when medallion had to be restarted.
    ingest_cpu: Option<f64>,
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

/// What every server is given: the objects, their POST bodies, the caps.
struct Plan {
    objs: Vec<Value>,
    bodies: Vec<Vec<u8>>,
    batch: usize,
    cap: Duration,
    probe_cap: Duration,
    per_client: usize,
    dir: PathBuf,
}

/// Runs the three phases against one server, each bounded by the cap; a
/// server that overran one is recovered before the next.
fn measure(name: &str, srv: &mut Server, p: &Plan) -> Row {
    let cpu_before = vigil_testkit::cpu_secs(srv.pid());
    let (ingest, probes) = ingest(srv, &p.objs, &p.bodies, p.batch, p.cap, p.probe_cap, &p.dir);
    let ingest_cpu = match (cpu_before, vigil_testkit::cpu_secs(srv.pid())) {
        (Some(a), Some(b)) if !srv.restarted => Some(b - a),
        _ => None,
    };
    if ingest.overran {
        srv.recover(&p.objs[..ingest.done], &p.dir);
    }
    let get = get_all(&srv.target, p.cap);
    if get.is_some_and(|g| g.overran) {
        srv.recover(&p.objs[..ingest.done], &p.dir);
    }
    let lat = latency(&srv.target, CLIENTS, p.per_client, p.cap);
    eprintln!("{name}: done");
    Row {
        name: name.into(),
        ingest,
        ingest_cpu,
        get,
        lat,
        probes,
    }
}

fn count(p: &Phase) -> String {
    if p.overran {
        format!("{}*", p.done)
    } else {
        p.done.to_string()
    }
}

/// `a / b`, marked ">=" when the peer `b` overran its cap (its rate is then
/// an upper bound); "n/a" when both did.
fn ratio(a: &Phase, b: &Phase) -> String {
    match (a.overran, b.overran) {
        (true, true) => "n/a".into(),
        (_, true) => format!(">={}", times(a.rate() / b.rate())),
        _ => times(a.rate() / b.rate()),
    }
}

/// A ratio, with one decimal below 10.
fn times(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.1}x")
    } else {
        format!("{x:.0}x")
    }
}

fn millis((ms, cut): (f64, bool)) -> String {
    if cut {
        format!(">{ms:.0}")
    } else {
        format!("{ms:.2}")
    }
}

fn main() {
    let n = env_usize("BENCH_OBJECTS", 50_000);
    let batch = env_usize("BENCH_BATCH", 1000).max(1);
    let cap = Duration::from_secs(env_usize("BENCH_CAP_SECS", 150) as u64);
    let probe_cap = Duration::from_secs(env_usize("BENCH_PROBE_SECS", 20) as u64);
    let per_client = env_usize("BENCH_REQUESTS_PER_CLIENT", 20);
    let dir: PathBuf = std::env::temp_dir().join(format!("vigil_bench_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let objs = objects(n);
    let bodies = objs
        .chunks(batch)
        .map(|c| json!({ "objects": c }).to_string().into_bytes())
        .collect();
    let plan = Plan {
        objs,
        bodies,
        batch,
        cap,
        probe_cap,
        per_client,
        dir: dir.clone(),
    };
    let run_start = Instant::now();
    println!(
        "TAXII 2.1 benchmark: the same {n} objects for every server, POST batches of {batch} \
         and GET pages of {PAGE} from one client, then {CLIENTS} concurrent clients x \
         {per_client} GETs of 10 objects; each phase capped at {}s, a GET probe at {}s",
        cap.as_secs(),
        probe_cap.as_secs()
    );

    let servers =
        std::env::var("BENCH_SERVERS").unwrap_or_else(|_| "sqlite,postgres,medallion".into());
    let run = |name: &str| servers.split(',').any(|s| s.trim() == name);
    let mut rows: Vec<Row> = Vec::new();
    if run("sqlite") {
        let target = vigil_hub(&rt, dir.join("bench.db").to_string_lossy().into_owned());
        let mut srv = Server {
            target,
            medallion: None,
            restarted: false,
        };
        rows.push(measure("vigil/sqlite", &mut srv, &plan));
    }
    let cluster = if run("postgres") { postgres() } else { None };
    if let Some(url) = cluster.as_ref().map(|c| c.url.clone()) {
        let target = vigil_hub(&rt, url);
        let mut srv = Server {
            target,
            medallion: None,
            restarted: false,
        };
        rows.push(measure("vigil/postgres", &mut srv, &plan));
    }
    let mut medallion_row = None;
    if run("medallion") {
        if let Some((m, target)) = start_medallion(None) {
            let mut srv = Server {
                target,
                medallion: Some(m),
                restarted: false,
            };
            medallion_row = Some(measure("medallion/memory", &mut srv, &plan));
        }
    }
    print_results(&rows, medallion_row.as_ref(), &plan, n);
    if medallion_row.is_none() && run("medallion") {
        println!("medallion not available: no ratio (run scripts/interop-setup)");
    }
    println!("whole run: {:.0}s", run_start.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
}

fn print_results(rows: &[Row], medallion: Option<&Row>, p: &Plan, n: usize) {
    let all: Vec<&Row> = rows.iter().chain(medallion).collect();
    let sizes: Vec<usize> = MILESTONES
        .iter()
        .copied()
        .filter(|&m| m <= n)
        .chain((!MILESTONES.contains(&n)).then_some(n))
        .collect();
    println!();
    println!(
        "By collection size: objects/s of the latest POST batch / of one GET page of {PAGE} \
         (<: the probe overran its cap, an upper bound), and for Vigil the ratio to medallion \
         at that size (POST x / GET x):"
    );
    let mut head = format!("{:<18}", "server");
    for m in &sizes {
        head.push_str(&format!(" {:>20}", m));
    }
    println!("{head}");
    let probe = |r: &Row, m: usize| {
        r.probes
            .iter()
            .find(|pr| pr.size == m)
            .map(|pr| (pr.post, pr.get))
    };
    for r in &all {
        let mut line = format!("{:<18}", r.name);
        let mut ratios = format!("{:<18}", "  x medallion");
        for &m in &sizes {
            let cell = match probe(r, m) {
                Some((post, get)) => format!(
                    "{post:.0}/{}",
                    get.map_or("n/a".into(), |(g, over)| format!(
                        "{}{g:.0}",
                        if over { "<" } else { "" }
                    ))
                ),
                None => "not reached".into(),
            };
            line.push_str(&format!(" {cell:>20}"));
            let x = match (probe(r, m), medallion.and_then(|md| probe(md, m))) {
                (Some((a, ga)), Some((b, gb))) => format!(
                    "{}/{}",
                    times(a / b),
                    match (ga, gb) {
                        (Some((ga, false)), Some((gb, over))) =>
                            format!("{}{}", if over { ">=" } else { "" }, times(ga / gb)),
                        _ => "n/a".into(),
                    }
                ),
                _ => "-".into(),
            };
            ratios.push_str(&format!(" {x:>20}"));
        }
        println!("{line}");
        if medallion.is_some_and(|md| md.name != r.name) {
            println!("{ratios}");
        }
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
    for r in &all {
        let (ri, rg) = match medallion {
            Some(m) if m.name != r.name => (
                ratio(&r.ingest, &m.ingest),
                match (&r.get, &m.get) {
                    (Some(a), Some(b)) => ratio(a, b),
                    _ => "n/a".into(),
                },
            ),
            _ => ("-".into(), "-".into()),
        };
        let upper = |ph: &Phase| if ph.overran { "<" } else { "" };
        println!(
            "{:<18} {:>8} {:>12} {:>8} {:>12} {:>9} {:>9} {:>9.0} {:>10} {:>10}",
            r.name,
            count(&r.ingest),
            format!("{}{:.0}", upper(&r.ingest), r.ingest.rate()),
            r.get.as_ref().map_or("n/a".into(), count),
            r.get
                .as_ref()
                .map_or("n/a".into(), |g| format!("{}{:.0}", upper(g), g.rate())),
            millis(r.lat.p50),
            millis(r.lat.p99),
            r.lat.phase.done as f64 / r.lat.phase.secs.max(1e-9),
            ri,
            rg
        );
    }
    for r in &all {
        if r.ingest.overran || r.get.as_ref().is_some_and(|g| g.overran) || r.lat.phase.overran {
            println!(
                "{}: reached the {}s cap (* = objects done, < = upper bound counting the cut-off \
                 request in full): ingested {} of {n}, paged {}, answered {} of {} latency \
                 requests ({} failed); ratios against it are lower bounds (>=)",
                r.name,
                p.cap.as_secs(),
                r.ingest.done,
                r.get.as_ref().map_or(0, |g| g.done),
                r.lat.phase.done,
                CLIENTS * p.per_client,
                r.lat.failed
            );
        }
    }
    println!();
    println!(
        "Ingest per CPU-second (the server process's user+system time over the ingest \
         phase, GET probes included; less sensitive to other load than wall-clock time):"
    );
    for r in &all {
        match r.ingest_cpu {
            Some(cpu) => println!(
                "{:<18} {:>8.2} CPU-s {:>12.0} objects/CPU-s",
                r.name,
                cpu,
                r.ingest.done as f64 / cpu.max(1e-9)
            ),
            None => println!("{:<18} n/a (restarted during the phase)", r.name),
        }
    }
    println!(
        "x ingest / x GET: rate of the server divided by medallion's on the same objects; \
         req/s: latency requests answered per second"
    );
}
