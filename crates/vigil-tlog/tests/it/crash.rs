//! Kill -9 in the middle of batches: no acknowledged entry may be lost, and
//! every tree head after recovery must extend every earlier one.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use vigil_ledger::Hash;
use vigil_tlog::{Log, Options};

const CHILD_ENV: &str = "VIGIL_TLOG_CRASH_CHILD_DIR";

/// The process that gets killed: appends from four threads forever and
/// prints `ack <index> <data>` after each append returns (is durable).
/// Run only by `sigkill_at_random_points_loses_no_acknowledged_entry`.
#[test]
#[ignore = "helper process of the crash test"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let log = Arc::new(Log::open(std::path::Path::new(&dir), Options::default()).unwrap());
    let run = std::env::var("VIGIL_TLOG_CRASH_RUN").unwrap_or_default();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            let run = run.clone();
            std::thread::spawn(move || {
                for k in 0u64.. {
                    let data = format!("run{run}-t{t}-{k}");
                    let idx = log.append(data.clone().into_bytes()).unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {idx} {data}").unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let mut heads: Vec<(u64, Hash)> = Vec::new();
    let exe = std::env::current_exe().unwrap();
    for run in 0..5 {
        let kill_after = 20 + xorshift(&mut seed) % 600;
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .env("VIGIL_TLOG_CRASH_RUN", run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let mut parts = line.splitn(3, ' ');
            if parts.next() != Some("ack") {
                continue;
            }
            let idx: u64 = parts.next().unwrap().parse().unwrap();
            acked.insert(idx, parts.next().unwrap().to_string());
            seen += 1;
            if seen >= kill_after {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        assert!(seen > 0, "child made no progress in run {run}");

        let log = Log::open(dir.path(), Options::default()).unwrap();
        let mut r = log.reader();
        let size = r.size();
        let max = *acked.keys().last().unwrap();
        assert!(
            size > max,
            "run {run}: size {size} but entry {max} was acknowledged"
        );
        for (idx, data) in &acked {
            assert_eq!(
                r.entry(*idx).unwrap(),
                data.as_bytes(),
                "run {run}: entry {idx}"
            );
        }
        let root = r.root().unwrap();
        for (old_size, old_root) in &heads {
            let p = r.prove_consistency(*old_size, size).unwrap();
            p.verify(old_root, &root).unwrap_or_else(|e| {
                panic!("run {run}: head {size} does not extend {old_size}: {e}")
            });
        }
        heads.push((size, root));
    }
}
