//! Log benchmarks: durable appends per second with group commit, and proof
//! latency from tiles at 1,000,000 real entries and at 1,000,000,000
//! entries on a synthetic sparse tile store.
//!
//! `cargo bench -p vigil-tlog` runs the full benchmark; under `cargo test`
//! (no `--bench` argument) it runs a small smoke version.
//!
//! The directory must be on a real disk for fsync to mean anything; it is
//! created under the cargo target directory (not /tmp, often a tmpfs).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

fn appends(threads: usize, secs: f64) -> (f64, u64) {
    let dir = bench_dir(&format!("append-{threads}"));
    let log = Arc::new(Log::open(&dir, Options::default()).expect("open"));
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let (log, stop, count) = (log.clone(), stop.clone(), count.clone());
            std::thread::spawn(move || {
                let mut k = 0;
                while !stop.load(Ordering::Relaxed) {
                    log.append(entry(t, k)).expect("append");
                    k += 1;
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in hs {
        let _ = h.join();
    }
    let n = count.load(Ordering::Relaxed);
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    (rate, n)
}

fn proof_latency(r: &mut LogReader, size: u64, samples: u64) -> (Duration, Duration) {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let t = Instant::now();
    for _ in 0..samples {
        let i = next() % size;
        r.prove_inclusion(i, size).expect("inclusion");
    }
    let inc = t.elapsed() / samples as u32;
    let t = Instant::now();
    for _ in 0..samples {
        let m = 1 + next() % (size - 1);
        r.prove_consistency(m, size).expect("consistency");
    }
    (inc, t.elapsed() / samples as u32)
}

/// A log directory claiming `size` entries whose tile files are sparse
/// (all-zero hashes): the proof code path and I/O are the real ones, the
/// hashes are not a real tree, so these proofs do not verify.
fn sparse_store(size: u64) -> PathBuf {
    let dir = bench_dir("sparse");
    for t in 0..8u32 {
        let n = if 8 * t >= 64 { 0 } else { size >> (8 * t) };
        if n == 0 {
            break;
        }
        let f = std::fs::File::create(dir.join(format!("level-{t}"))).expect("create");
        f.set_len(n * 32).expect("sparse set_len");
    }
    std::fs::write(dir.join("state"), format!("{size} 0\n")).expect("state");
    dir
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (secs, big, samples) = if full {
        (5.0, 1_000_000u64, 2000)
    } else {
        (0.3, 5_000, 20)
    };

    println!("== durable appends (fsync per batch, acknowledged only after fsync)");
    let (single, _) = appends(1, secs);
    println!("1 writer thread (one fsync batch per append): {single:>10.0} appends/s");
    for threads in [16usize, 64, 256] {
        let (rate, n) = appends(threads, secs);
        println!(
            "{threads:>3} writer threads, group commit: {rate:>10.0} appends/s ({n} entries), {:.1}x single-writer, {:.2}x Tessera POSIX published 10,000/s",
            rate / single,
            rate / TESSERA_POSIX_PUBLISHED
        );
    }

    let dir = bench_dir("batch");
    let log = Log::open(&dir, Options::default()).expect("open");
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed().as_secs_f64() < secs {
        log.append_batch((0..1024).map(|k| entry(0, n + k)).collect())
            .expect("append");
        n += 1024;
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    println!(
        "1 writer, append_batch of 1024:  {rate:>10.0} appends/s, {:.2}x Tessera POSIX published 10,000/s",
        rate / TESSERA_POSIX_PUBLISHED
    );
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);

    println!("== proofs from tiles on disk, {big} real entries");
    let dir = bench_dir("proofs");
    let log = Log::open(&dir, Options::default()).expect("open");
    let t = Instant::now();
    let mut k = 0u64;
    while k < big {
        let n = (big - k).min(8192);
        log.append_batch((k..k + n).map(|i| i.to_be_bytes().to_vec()).collect())
            .expect("append");
        k += n;
    }
    println!("built in {:.2?}", t.elapsed());
    let mut r = log.reader();
    let (inc, cons) = proof_latency(&mut r, big, samples);
    println!("inclusion proof: {inc:.2?} per proof; consistency proof: {cons:.2?} per proof");
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);

    let huge = 1_000_000_000u64;
    println!("== proofs at {huge} entries, synthetic sparse tile store (same read path)");
    let dir = sparse_store(huge);
    let mut r = LogReader::open(&dir).expect("open sparse");
    let (inc, cons) = proof_latency(&mut r, huge, samples);
    println!(
        "inclusion proof: {inc:.2?} per proof; consistency proof: {cons:.2?} per proof ({:.2}x the 1 ms budget)",
        inc.max(cons).as_secs_f64() / 1e-3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
