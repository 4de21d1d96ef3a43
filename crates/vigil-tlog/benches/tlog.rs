//! Log benchmarks: durable appends per second with group commit, and proof
//! latency from tiles at 1,000,000 real entries and at 1,000,000,000
//! entries.
//!
//! `cargo bench -p vigil-tlog` runs the full benchmark (`-- appends`: the
//! append figures only); under `cargo test` (no `--bench` argument) it runs
//! a small smoke version.
//!
//! The directories must be on a real disk for fsync to mean anything; they
//! are created under the cargo target directory (not /tmp, often a tmpfs).
//!
//! The machine may be shared, so besides wall-clock rates the append
//! figures are also given per CPU-second used by this process (user + system
//! time from /proc/self/stat).
//!
//! The 10⁹-entry tree cannot be built leaf by leaf here (10⁹ hashes and
//! 32 GB of level-0 tile), so it is a real Merkle tree whose entries repeat
//! with a period of 2¹⁶ (entry `i` is `synthetic entry {i mod 65536}`): every
//! node is the hash of its children, and nodes of equal subtrees are
//! computed once. Only the tiles the measured proofs need are written, at
//! their offsets in sparse level files of full length; the timed proofs then
//! run through the real `LogReader` (file reads, tile cache, proof code),
//! and every proof is verified against the tree's root.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_ledger::tiles::{hashes_at_tile_level, TileId, TileKind, TileNodes, TileReader};
use vigil_ledger::{
    leaf_hash, node_hash, prove_consistency, prove_inclusion, tree_root, ConsistencyProof, Hash,
    InclusionProof, LedgerError, NodeSource,
};
use vigil_tlog::{Log, LogReader, Options};

/// Tessera's POSIX backend's published figure, for the ratio only (not
/// measured here).
const TESSERA_POSIX_PUBLISHED: f64 = 10_000.0;

fn bench_dir(name: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| vigil_testkit::workspace_root().join("target"));
    let d = base.join("bench-tlog").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create bench dir");
    d
}

fn entry(t: usize, k: u64) -> Vec<u8> {
    // About the size of an oversight entry.
    format!("{{\"v\":1,\"at\":1780000000,\"event\":\"access\",\"auth\":\"A-{k:06}\",\"operator\":\"{t:032x}\",\"device\":\"{k:032x}\",\"data_type\":\"location\",\"granted\":true}}").into_bytes()
}

/// CPU time the calling thread has used so far (scheduler clock, ns; up to
/// one scheduler tick stale, so only used over many operations).
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        s.split_whitespace()
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0),
    )
}

/// CPU time (user + system) this process has used so far. Linux reports it
/// in clock ticks of 1/100 s.
fn cpu_time() -> Duration {
    Duration::from_secs_f64(vigil_testkit::own_cpu_secs())
}

struct AppendRun {
    wall: f64,
    cpu: f64,
    entries: u64,
    batches: u64,
    fsyncs: u64,
}

impl AppendRun {
    fn rate(&self) -> f64 {
        self.entries as f64 / self.wall
    }

    /// All rounds of one configuration taken together.
    fn pooled(runs: &[AppendRun]) -> AppendRun {
        AppendRun {
            wall: runs.iter().map(|r| r.wall).sum(),
            cpu: runs.iter().map(|r| r.cpu).sum(),
            entries: runs.iter().map(|r| r.entries).sum(),
            batches: runs.iter().map(|r| r.batches).sum(),
            fsyncs: runs.iter().map(|r| r.fsyncs).sum(),
        }
    }

    /// Prints the median round's rate (with the slowest and fastest
    /// rounds) and the pooled figures per CPU-second, per batch and against
    /// the published anchor.
    fn print(&self, label: &str, rounds: &[AppendRun]) {
        let rate = median_rate(rounds);
        let lo = rounds.iter().map(AppendRun::rate).fold(f64::MAX, f64::min);
        let hi = rounds.iter().map(AppendRun::rate).fold(0.0, f64::max);
        println!(
            "{label:<34} {rate:>7.0} appends/s wall, median of {} (rounds {lo:.0}..{hi:.0}), {:>7.0} per CPU-second, {:>6.1} entries/batch, {:.3} fsyncs/batch, {:.2}x Tessera POSIX published",
            rounds.len(),
            self.entries as f64 / self.cpu.max(1e-3),
            self.entries as f64 / self.batches.max(1) as f64,
            self.fsyncs as f64 / self.batches.max(1) as f64,
            rate / TESSERA_POSIX_PUBLISHED
        );
    }
}

/// The median of the rounds' wall-clock rates.
fn median_rate(rounds: &[AppendRun]) -> f64 {
    let mut r: Vec<f64> = rounds.iter().map(AppendRun::rate).collect();
    r.sort_by(f64::total_cmp);
    match r.len() {
        0 => 0.0,
        n if n % 2 == 1 => r[n / 2],
        n => (r[n / 2 - 1] + r[n / 2]) / 2.0,
    }
}

/// `threads` writers each appending batches of `batch` entries for `secs`.
fn appends(threads: usize, batch: u64, secs: f64, options: Options) -> AppendRun {
    let dir = bench_dir(&format!("append-{threads}-{batch}"));
    let log = Arc::new(Log::open(&dir, options).expect("open"));
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let before = log.append_stats();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let (log, stop, count) = (log.clone(), stop.clone(), count.clone());
            std::thread::spawn(move || {
                let mut k = 0;
                while !stop.load(Ordering::Relaxed) {
                    if batch == 1 {
                        log.append(entry(t, k)).expect("append");
                    } else {
                        log.append_batch((k..k + batch).map(|i| entry(t, i)).collect())
                            .expect("append");
                    }
                    k += batch;
                    count.fetch_add(batch, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in hs {
        let _ = h.join();
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    let after = log.append_stats();
    assert_eq!(
        after.entries - before.entries,
        count.load(Ordering::Relaxed)
    );
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
    AppendRun {
        wall,
        cpu,
        entries: after.entries - before.entries,
        batches: after.batches - before.batches,
        fsyncs: after.fsyncs - before.fsyncs,
    }
}

/// The disk's own pace: one thread writing 200 bytes in place and calling
/// fdatasync, for `secs`; returns syncs per second. A lone writer that
/// waits for a sync covering its entry cannot append faster than this
/// (concurrent syncs may each take less time than a lone one: the ratio
/// printed for N writers shows how far the pipeline gets beyond N lone
/// writers).
fn raw_fdatasync(secs: f64) -> f64 {
    let dir = bench_dir("raw-sync");
    let f = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join("file"))
        .expect("create");
    f.write_all_at(&vec![0u8; 1 << 20], 0).expect("preallocate");
    f.sync_all().expect("sync");
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        f.write_all_at(&[b'x'; 200], (n % 4096) * 256)
            .expect("write");
        f.sync_data().expect("fdatasync");
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99))
}

/// Proof requests: `(index, old size)` pairs for a tree of `size`.
fn requests(size: u64, samples: usize) -> Vec<(u64, u64)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..samples)
        .map(|_| (rng.next() % size, 1 + rng.next() % (size - 1)))
        .collect()
}

/// Times every proof through `reader` (one long-lived reader, as a server
/// keeps), then verifies each against `root` with `leaf` and `old_root`.
fn measure_proofs(
    label: &str,
    r: &mut LogReader,
    size: u64,
    reqs: &[(u64, u64)],
    root: &Hash,
    mut leaf: impl FnMut(u64) -> Hash,
    mut old_root: impl FnMut(u64) -> Hash,
) {
    // Wall time per proof, and the thread's mean CPU time per proof (which
    // a loaded machine does not inflate by preempting the thread).
    let mut inc: Vec<(InclusionProof, Duration)> = Vec::new();
    let c = thread_cpu();
    for &(i, _) in reqs {
        let t = Instant::now();
        let p = r.prove_inclusion(i, size).expect("inclusion");
        inc.push((p, t.elapsed()));
    }
    let inc_cpu = thread_cpu().saturating_sub(c) / reqs.len() as u32;
    let mut cons: Vec<(ConsistencyProof, Duration)> = Vec::new();
    let c = thread_cpu();
    for &(_, m) in reqs {
        let t = Instant::now();
        let p = r.prove_consistency(m, size).expect("consistency");
        cons.push((p, t.elapsed()));
    }
    let cons_cpu = thread_cpu().saturating_sub(c) / reqs.len() as u32;
    let leaves: Vec<Hash> = reqs.iter().map(|&(i, _)| leaf(i)).collect();
    let olds: Vec<Hash> = reqs.iter().map(|&(_, m)| old_root(m)).collect();
    let mut vinc = Vec::new();
    for ((p, _), l) in inc.iter().zip(&leaves) {
        let t = Instant::now();
        p.verify(l, root).expect("inclusion proof verifies");
        vinc.push(t.elapsed());
    }
    let mut vcons = Vec::new();
    for ((p, _), o) in cons.iter().zip(&olds) {
        let t = Instant::now();
        p.verify(o, root).expect("consistency proof verifies");
        vcons.push(t.elapsed());
    }
    let (i50, i99) = percentiles(inc.iter().map(|x| x.1).collect());
    let (c50, c99) = percentiles(cons.iter().map(|x| x.1).collect());
    let (vi50, vi99) = percentiles(vinc);
    let (vc50, vc99) = percentiles(vcons);
    println!(
        "{label}: {} proofs each, all verified\n  inclusion:   wall p50 {i50:>9.2?} p99 {i99:>9.2?}; thread CPU mean {inc_cpu:>9.2?}; verify p50 {vi50:>8.2?} p99 {vi99:>8.2?}\n  consistency: wall p50 {c50:>9.2?} p99 {c99:>9.2?}; thread CPU mean {cons_cpu:>9.2?}; verify p50 {vc50:>8.2?} p99 {vc99:>8.2?}\n  against the 1 ms budget: wall p50 {:.3}x, wall p99 {:.3}x, mean thread CPU {:.3}x",
        reqs.len(),
        i50.max(c50).as_secs_f64() / 1e-3,
        i99.max(c99).as_secs_f64() / 1e-3,
        inc_cpu.max(cons_cpu).as_secs_f64() / 1e-3
    );
}

/// Times proofs with a new reader each time (files opened, cache empty):
/// the cost of a one-off request.
fn measure_cold(dir: &Path, size: u64, reqs: &[(u64, u64)]) {
    let mut inc = Vec::new();
    let mut cons = Vec::new();
    for &(i, m) in reqs {
        let t = Instant::now();
        LogReader::open(dir)
            .expect("open")
            .prove_inclusion(i, size)
            .expect("inclusion");
        inc.push(t.elapsed());
        let t = Instant::now();
        LogReader::open(dir)
            .expect("open")
            .prove_consistency(m, size)
            .expect("consistency");
        cons.push(t.elapsed());
    }
    let (i50, i99) = percentiles(inc);
    let (c50, c99) = percentiles(cons);
    println!(
        "  cold (new reader per proof): inclusion p50 {i50:.2?} p99 {i99:.2?}; consistency p50 {c50:.2?} p99 {c99:.2?}"
    );
}

/// Leaves repeat every 2^PERIOD_BITS entries.
const PERIOD_BITS: u8 = 16;

fn synthetic_entry(i: u64) -> Vec<u8> {
    format!("synthetic entry {}", i % (1 << PERIOD_BITS)).into_bytes()
}

/// The periodic tree, node by node, each distinct node hashed once.
#[derive(Default)]
struct Periodic {
    memo: HashMap<(u8, u64), Hash>,
}

impl NodeSource for Periodic {
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, LedgerError> {
        // Node (level, index) covers leaves index·2^level ..; its leaves'
        // data depend only on index mod 2^(PERIOD_BITS - level).
        let key = if level >= PERIOD_BITS {
            0
        } else {
            index % (1 << (PERIOD_BITS - level))
        };
        if level == 0 {
            return Ok(leaf_hash(&synthetic_entry(key)));
        }
        if let Some(h) = self.memo.get(&(level, key)) {
            return Ok(*h);
        }
        let l = self.node(level - 1, 2 * key)?;
        let r = self.node(level - 1, 2 * key + 1)?;
        let h = node_hash(&l, &r);
        self.memo.insert((level, key), h);
        Ok(h)
    }
}

/// Writes each tile it is asked for into the sparse level files.
struct Materialise<'a> {
    tree: &'a mut Periodic,
    dir: &'a Path,
    written: u64,
}

impl TileReader for Materialise<'_> {
    fn read_tile(&mut self, id: &TileId) -> Result<Vec<Hash>, LedgerError> {
        let TileKind::Hash(t) = id.kind else {
            return Err(LedgerError::Storage("no entry bundles here".into()));
        };
        let first = id.index * 256;
        let hashes: Vec<Hash> = (first..first + u64::from(id.width))
            .map(|i| self.tree.node(8 * t, i))
            .collect::<Result<_, _>>()?;
        let f = File::options()
            .write(true)
            .open(self.dir.join(format!("level-{t}")))
            .map_err(|e| LedgerError::Storage(e.to_string()))?;
        f.write_all_at(&hashes.concat(), first * 32)
            .map_err(|e| LedgerError::Storage(e.to_string()))?;
        self.written += 1;
        Ok(hashes)
    }
}

fn huge_proofs(size: u64, samples: usize) {
    let dir = bench_dir("huge");
    let t0 = Instant::now();
    for t in 0..8u8 {
        let n = hashes_at_tile_level(size, t);
        if n == 0 {
            break;
        }
        let f = File::create(dir.join(format!("level-{t}"))).expect("create");
        f.set_len(n * 32).expect("sparse set_len");
    }
    File::create(dir.join("bundles"))
        .and_then(|f| f.set_len(size.div_ceil(256) * 8))
        .expect("bundles");
    File::create(dir.join("entries")).expect("entries");
    std::fs::write(dir.join("state"), format!("{size} 0\n")).expect("state");

    let mut tree = Periodic::default();
    let root = tree_root(&mut tree, size).expect("root");
    let reqs = requests(size, samples);
    // Materialise exactly the tiles these proofs (and the root) read.
    let mut m = Materialise {
        tree: &mut tree,
        dir: &dir,
        written: 0,
    };
    let mut nodes = TileNodes::new(&mut m, size);
    assert_eq!(tree_root(&mut nodes, size).expect("root"), root);
    for &(i, old) in &reqs {
        prove_inclusion(&mut nodes, i, size).expect("inclusion");
        prove_consistency(&mut nodes, old, size).expect("consistency");
    }
    drop(nodes);
    println!(
        "== proofs at {size} entries: {} tile writes of a periodic tree into sparse level files in {:.2?}",
        m.written,
        t0.elapsed()
    );
    let mut r = LogReader::open(&dir).expect("open");
    assert_eq!(r.size(), size);
    assert_eq!(r.root().expect("root from tiles"), root);
    let mut r = LogReader::open(&dir).expect("open");
    measure_proofs(
        "one reader, tile cache warming up over the run",
        &mut r,
        size,
        &reqs,
        &root,
        |i| leaf_hash(&synthetic_entry(i)),
        |m| tree_root(&mut tree, m).expect("old root"),
    );
    measure_cold(&dir, size, &reqs[..reqs.len().min(500)]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fixed CPU task of about a proof's work (512 node hashes), timed like
/// the proofs: its p99 shows how much a loaded machine stretches the tail
/// by preempting the thread, independently of the log's code.
fn noise_reference(samples: usize) {
    let mut times = Vec::with_capacity(samples);
    let mut h = [7u8; 32];
    for _ in 0..samples {
        let t = Instant::now();
        for _ in 0..512 {
            h = node_hash(&h, &h);
        }
        times.push(t.elapsed());
    }
    let (p50, p99) = percentiles(times);
    println!(
        "== reference task on this machine now, 512 SHA-256 node hashes: wall p50 {p50:.2?} p99 {p99:.2?} ({:02x})",
        h[0]
    );
}

fn real_proofs(size: u64, samples: usize) {
    let dir = bench_dir("proofs");
    let log = Log::open(&dir, Options::default()).expect("open");
    let t = Instant::now();
    let mut k = 0u64;
    let mut mem = vigil_ledger::MemoryTree::new();
    while k < size {
        let n = (size - k).min(8192);
        let batch: Vec<Vec<u8>> = (k..k + n).map(|i| i.to_be_bytes().to_vec()).collect();
        for e in &batch {
            mem.push(e);
        }
        log.append_batch(batch).expect("append");
        k += n;
    }
    println!(
        "== proofs from tiles on disk, {size} real entries (log built in {:.2?})",
        t.elapsed()
    );
    let root = mem.root();
    let reqs = requests(size, samples);
    let mut r = log.reader();
    assert_eq!(r.root().expect("root"), root);
    measure_proofs(
        "one reader",
        &mut r,
        size,
        &reqs,
        &root,
        |i| leaf_hash(&i.to_be_bytes()),
        |m| tree_root(&mut mem, m).expect("old root"),
    );
    drop(log);
    measure_cold(&dir, size, &reqs[..reqs.len().min(500)]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (rounds, secs, big, huge, samples) = if full {
        (5, 2.0, 1_000_000u64, 1_000_000_000u64, 2000)
    } else {
        (1, 0.3, 5_000, 100_000_000, 50)
    };

    println!(
        "== durable appends (acknowledged only after an fdatasync of the journal covering the batch), {rounds} interleaved rounds of {secs} s per configuration"
    );
    let one_sync = Options {
        max_in_flight: 1,
        ..Options::default()
    };
    let delay = Options {
        commit_delay: Duration::from_millis(2),
        ..Options::default()
    };
    let mut configs: Vec<(String, usize, u64, Options)> = Vec::new();
    for threads in [1usize, 8, 64, 256] {
        configs.push((
            format!("{threads:>3} writer thread(s), 1 entry/call:"),
            threads,
            1,
            Options::default(),
        ));
    }
    let four = Options {
        max_in_flight: 4,
        ..Options::default()
    };
    for threads in [8usize, 64] {
        configs.push((
            format!("{threads:>3} writers, 4 syncs in flight:"),
            threads,
            1,
            four.clone(),
        ));
        configs.push((
            format!("{threads:>3} writers, one sync at a time:"),
            threads,
            1,
            one_sync.clone(),
        ));
        configs.push((
            format!("{threads:>3} writers, 2 ms commit delay:"),
            threads,
            1,
            delay.clone(),
        ));
    }
    for batch in [16u64, 256, 4096] {
        configs.push((
            format!("  1 writer, append_batch of {batch}:"),
            1,
            batch,
            Options::default(),
        ));
    }
    // The disk and CPU are shared with other work, so configurations are
    // interleaved round by round rather than run back to back.
    let mut runs: Vec<Vec<AppendRun>> = configs.iter().map(|_| Vec::new()).collect();
    let mut raw = Vec::new();
    for _ in 0..rounds {
        raw.push(raw_fdatasync(secs / 2.0));
        for (c, (_, threads, batch, options)) in configs.iter().enumerate() {
            runs[c].push(appends(*threads, *batch, secs, options.clone()));
        }
    }
    let raw = raw.iter().sum::<f64>() / raw.len() as f64;
    println!(
        "raw pwrite + fdatasync by one thread on this disk now: {raw:.0}/s ({:.0} µs each), the pace of one writer that waits for its own sync",
        1e6 / raw
    );
    for ((label, threads, batch, _), rs) in configs.iter().zip(&runs) {
        let pooled = AppendRun::pooled(rs);
        pooled.print(label, rs);
        if *batch == 1 {
            println!(
                "{:<34} {:.2}x the pace of {threads} lone writers",
                "",
                median_rate(rs) / (*threads as f64 * raw)
            );
        }
    }

    noise_reference(samples);
    // `cargo bench -p vigil-tlog --bench tlog -- appends` stops here.
    if std::env::args().any(|a| a == "appends") {
        return;
    }
    real_proofs(big, samples);
    huge_proofs(huge, samples);
    noise_reference(samples);
}
