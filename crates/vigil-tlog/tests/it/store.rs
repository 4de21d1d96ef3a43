use std::io::Write;
use std::sync::Arc;

use vigil_ledger::tiles::{TileId, TileKind};
use vigil_ledger::{prove_consistency, prove_inclusion, Checkpoint, MemoryTree};
use vigil_tlog::keys::{load_signer_file, write_signer_file};
use vigil_tlog::{Log, LogReader, Options};

use crate::log_key;

fn entry(k: u64) -> Vec<u8> {
    format!("entry number {k}").into_bytes()
}

#[test]
fn appends_match_memory_tree_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut mem = MemoryTree::new();
    {
        let log = Log::open(dir.path(), Options::default()).unwrap();
        for chunk in 0..70 {
            let batch: Vec<Vec<u8>> = (chunk * 1000..(chunk + 1) * 1000).map(entry).collect();
            for e in &batch {
                mem.push(e);
            }
            let r = log.append_batch(batch).unwrap();
            assert_eq!(r, chunk * 1000..(chunk + 1) * 1000);
        }
        assert_eq!(log.size(), 70_000);
    }
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let mut r = log.reader();
    assert_eq!(r.size(), 70_000);
    assert_eq!(r.root().unwrap(), mem.root());
    for (i, n) in [
        (0u64, 70_000u64),
        (65_535, 70_000),
        (69_999, 70_000),
        (12, 300),
    ] {
        assert_eq!(
            r.prove_inclusion(i, n).unwrap(),
            prove_inclusion(&mut mem, i, n).unwrap()
        );
    }
    for (m, n) in [(1u64, 70_000u64), (256, 65_537), (69_999, 70_000)] {
        assert_eq!(
            r.prove_consistency(m, n).unwrap(),
            prove_consistency(&mut mem, m, n).unwrap()
        );
    }
    assert_eq!(r.entry(0).unwrap(), entry(0));
    assert_eq!(r.entry(69_999).unwrap(), entry(69_999));
    assert!(r.entry(70_000).is_err());
    // Tiles as the C2SP example for size 70000 names them.
    for p in [
        "tile/0/272",
        "tile/0/273.p/112",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
        "tile/entries/273.p/112",
    ] {
        assert!(r.tile_bytes(&TileId::parse_path(p).unwrap()).is_ok(), "{p}");
    }
    for p in [
        "tile/0/273.p/113",
        "tile/0/274",
        "tile/1/001",
        "tile/2/000.p/2",
        "tile/entries/273",
    ] {
        assert!(
            r.tile_bytes(&TileId::parse_path(p).unwrap()).is_err(),
            "{p}"
        );
    }
    let t = r
        .tile_bytes(&TileId {
            kind: TileKind::Hash(0),
            index: 0,
            width: 3,
        })
        .unwrap();
    assert_eq!(t, mem.leaf_hashes()[..3].concat());
    // Appending continues after reopen, across the partial tile.
    log.append(entry(70_000)).unwrap();
    mem.push(&entry(70_000));
    assert_eq!(log.reader().root().unwrap(), mem.root());
}

#[test]
fn concurrent_appends_get_unique_indices() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::open(dir.path(), Options::default()).unwrap());
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                (0..200)
                    .map(|k| {
                        let data = format!("thread {t} item {k}").into_bytes();
                        (log.append(data.clone()).unwrap(), data)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<(u64, Vec<u8>)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    assert_eq!(all.len(), 1600);
    let mut r = log.reader();
    for (i, (idx, data)) in all.iter().enumerate() {
        assert_eq!(*idx, i as u64);
        assert_eq!(&r.entry(*idx).unwrap(), data);
    }
}

#[test]
fn uncommitted_tail_is_discarded_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    log.append_batch((0..300).map(entry).collect()).unwrap();
    let root = log.reader().root().unwrap();
    drop(log);
    // A batch written but not committed: bytes past the committed lengths.
    for f in ["entries", "bundles", "level-0", "level-1"] {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(dir.path().join(f))
            .unwrap();
        file.write_all(&[0xAB; 4096]).unwrap();
    }
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert_eq!(log.size(), 300);
    assert_eq!(log.reader().root().unwrap(), root);
    log.append(entry(300)).unwrap();
    assert_eq!(log.reader().entry(300).unwrap(), entry(300));
    // A state file claiming more than the data files hold is an error.
    drop(log);
    std::fs::write(dir.path().join("state"), "9999 9999\n").unwrap();
    let err = Log::open(dir.path(), Options::default()).unwrap_err();
    assert!(err.to_string().contains("committed state needs"), "{err}");
}

/// Simulates a crash: the log is never dropped, so the data files are not
/// synced and `state` is not brought up to date.
fn crash(log: Log) {
    log.abandon();
}

fn file_len(dir: &std::path::Path, name: &str) -> u64 {
    std::fs::metadata(dir.join(name)).map_or(0, |m| m.len())
}

#[test]
fn acknowledged_batches_are_replayed_from_the_journal_when_data_files_are_lost() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    log.append_batch((0..100).map(entry).collect()).unwrap();
    log.sync().unwrap();
    let state = std::fs::read_to_string(dir.path().join("state")).unwrap();
    assert_eq!(state.split_whitespace().next(), Some("100"));
    let mut mem = MemoryTree::new();
    for k in 0..700 {
        mem.push(&entry(k));
    }
    for k in (100..700).step_by(50) {
        log.append_batch((k..k + 50).map(entry).collect()).unwrap();
    }
    // A batch's data-file bytes wait in memory (the journal has them) until
    // a megabyte gathers or the writer's own reader needs them; a reader
    // opened from the directory alone sees the batches the data files hold.
    assert!((100..=700).contains(&LogReader::open(dir.path()).unwrap().size()));
    let _ = log.reader();
    assert_eq!(LogReader::open(dir.path()).unwrap().size(), 700);
    crash(log);
    // Power loss: none of the unsynced data-file writes reached the disk.
    let entries_len: u64 = (0..100).map(|k| 2 + entry(k).len() as u64).sum();
    for (name, len) in [
        ("entries", entries_len),
        ("bundles", 8),
        ("level-0", 100 * 32),
        ("level-1", 0),
    ] {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join(name))
            .unwrap();
        f.set_len(len).unwrap();
    }
    // Before recovery, a reader only trusts what the data files hold.
    assert_eq!(LogReader::open(dir.path()).unwrap().size(), 100);
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert_eq!(log.size(), 700);
    let mut r = log.reader();
    assert_eq!(r.root().unwrap(), mem.root());
    for k in [0, 99, 100, 255, 256, 699] {
        assert_eq!(r.entry(k).unwrap(), entry(k));
    }
    assert_eq!(file_len(dir.path(), "level-1"), 2 * 32);
    // Recovery synced the data files and recorded that in `state`.
    let state = std::fs::read_to_string(dir.path().join("state")).unwrap();
    assert_eq!(state.split_whitespace().next(), Some("700"));
}

#[test]
fn empty_batches_do_not_break_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert_eq!(log.append_batch(vec![]).unwrap(), 0..0);
    log.append(entry(0)).unwrap();
    assert_eq!(log.append_batch(vec![]).unwrap(), 1..1);
    assert_eq!(log.append_batch(vec![entry(1), entry(2)]).unwrap(), 1..3);
    crash(log);
    // Recovery from the journal alone.
    std::fs::remove_file(dir.path().join("state")).ok();
    for f in ["entries", "bundles", "level-0"] {
        std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join(f))
            .unwrap()
            .set_len(0)
            .unwrap();
    }
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert_eq!(log.size(), 3);
    assert_eq!(log.reader().entry(2).unwrap(), entry(2));
}

#[test]
fn torn_or_stale_journal_records_are_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        journal_limit: 4096,
        ..Options::default()
    };
    let log = Log::open(dir.path(), options.clone()).unwrap();
    let mut mem = MemoryTree::new();
    // Enough batches to wrap the journal several times, so stale records
    // of earlier rounds lie behind the write position.
    for k in 0..400 {
        log.append(entry(k)).unwrap();
        mem.push(&entry(k));
    }
    log.append_batch((400..403).map(entry).collect()).unwrap();
    crash(log);
    // Tear the last record: flip a byte of its payload.
    let journal = std::fs::read(dir.path().join("journal")).unwrap();
    let last = entry(402);
    let at = journal
        .windows(last.len())
        .position(|w| w == last.as_slice())
        .unwrap();
    let mut torn = journal.clone();
    torn[at] ^= 0x55;
    std::fs::write(dir.path().join("journal"), &torn).unwrap();
    let log = Log::open(dir.path(), options).unwrap();
    // The whole torn batch is gone (it is one record), nothing before it.
    assert_eq!(log.size(), 400);
    assert_eq!(log.reader().root().unwrap(), mem.root());
    assert_eq!(log.append(entry(400)).unwrap(), 400);
    assert_eq!(log.reader().entry(400).unwrap(), entry(400));
}

#[test]
fn proofs_from_a_reused_reader_match_fresh_ones() {
    // The reader's tile cache must never mix tiles of different widths.
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let mut mem = MemoryTree::new();
    let mut r = log.reader();
    for round in 0..6u64 {
        let n = 37 + round * 191;
        let start = mem.size();
        log.append_batch((start..start + n).map(entry).collect())
            .unwrap();
        for k in start..start + n {
            mem.push(&entry(k));
        }
        let size = mem.size();
        // A long-lived reader at the latest size, proving at every older size.
        let mut latest = log.reader();
        for old in [1, start.max(1), size / 2 + 1, size] {
            assert_eq!(
                latest.prove_consistency(old, size).unwrap(),
                prove_consistency(&mut mem, old, size).unwrap()
            );
            for i in [0, old - 1, old / 2] {
                assert_eq!(
                    latest.prove_inclusion(i, old).unwrap(),
                    prove_inclusion(&mut mem, i, old).unwrap()
                );
                if old <= r.size() {
                    assert_eq!(
                        r.prove_inclusion(i, old).unwrap(),
                        prove_inclusion(&mut mem, i, old).unwrap()
                    );
                }
            }
        }
        r = latest;
    }
}

#[test]
fn published_checkpoints_never_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = log_key();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    log.append_batch((0..10).map(entry).collect()).unwrap();
    let old = log.sign_checkpoint(&key).unwrap();
    log.append_batch((10..20).map(entry).collect()).unwrap();
    let new = log.sign_checkpoint(&key).unwrap();
    log.publish_checkpoint(&new).unwrap();
    assert!(
        log.publish_checkpoint(&old).is_err(),
        "rolled back to size 10"
    );
    let foreign = Checkpoint {
        origin: key.name().into(),
        size: 20,
        root: [9; 32],
        extensions: vec![],
    }
    .sign(&key)
    .unwrap();
    assert!(log.publish_checkpoint(&foreign).is_err());
    assert_eq!(
        log.checkpoint().unwrap().unwrap(),
        new.to_text().into_bytes()
    );
    // A reader opened from the directory alone sees the same tree.
    let mut r = LogReader::open(dir.path()).unwrap();
    assert_eq!(r.size(), 20);
    assert_eq!(
        Checkpoint::parse(new.text()).unwrap().root,
        r.root().unwrap()
    );
}

#[test]
fn entries_over_the_bundle_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert!(log.append(vec![0; 65_536]).is_err());
    assert_eq!(log.append(vec![0; 65_535]).unwrap(), 0);
}

#[cfg(unix)]
#[test]
fn key_files_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.key");
    let key = log_key();
    write_signer_file(&path, &key).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(load_signer_file(&path).unwrap().verifier(), key.verifier());
    assert!(write_signer_file(&path, &key).is_err(), "overwrote a key");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = load_signer_file(&path).unwrap_err().to_string();
    assert!(err.contains("too open"), "{err}");
    assert!(!err.contains(&key.to_skey()[20..]), "key material in error");
}
