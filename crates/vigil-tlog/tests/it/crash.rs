//! Kill -9 in the middle of batches: no acknowledged entry may be lost, and
//! every tree head after recovery must extend every earlier one. The child
//! uses a small journal limit so that kills also land while the data files
//! are being synced and the journal restarts; some runs also drop every
//! data-file write the log had not synced (as a power loss could), so that
//! recovery must come from the journal.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
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
    let log = Arc::new(Log::open(std::path::Path::new(&dir), child_options()).unwrap());
    let run = std::env::var("VIGIL_TLOG_CRASH_RUN").unwrap_or_default();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            let run = run.clone();
            std::thread::spawn(move || {
                for k in 0u64.. {
                    // Thread 0 appends batches of three, the others single
                    // entries.
                    let n = if t == 0 { 3 } else { 1 };
                    let data: Vec<String> =
                        (0..n).map(|j| format!("run{run}-t{t}-{k}-{j}")).collect();
                    let range = log
                        .append_batch(data.iter().map(|d| d.clone().into_bytes()).collect())
                        .unwrap();
                    let mut out = std::io::stdout().lock();
                    for (idx, d) in range.zip(&data) {
                        writeln!(out, "ack {idx} {d}").unwrap();
                    }
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn child_options() -> Options {
    Options {
        journal_limit: 16 * 1024,
        ..Options::default()
    }
}

/// Cuts the data files back to the lengths `state` says are durable: the
/// worst a power loss could do to writes the log had not synced.
fn drop_unsynced_data_writes(dir: &Path) {
    let state = std::fs::read_to_string(dir.join("state")).unwrap_or_else(|_| "0 0".into());
    let v: Vec<u64> = state
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let (size, entries_len) = (v[0], v[1]);
    let mut cut = vec![
        ("entries".to_string(), entries_len),
        ("bundles".to_string(), size.div_ceil(256) * 8),
    ];
    for t in 0..8 {
        cut.push((format!("level-{t}"), (size >> (8 * t)) * 32));
    }
    for (name, len) in cut {
        if let Ok(f) = std::fs::OpenOptions::new().write(true).open(dir.join(name)) {
            if f.metadata().unwrap().len() > len {
                f.set_len(len).unwrap();
            }
        }
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
    for run in 0..8 {
        let kill_after = 20 + xorshift(&mut seed) % 2000;
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
        if run % 2 == 1 {
            drop_unsynced_data_writes(dir.path());
        }

        let log = Log::open(dir.path(), child_options()).unwrap();
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
