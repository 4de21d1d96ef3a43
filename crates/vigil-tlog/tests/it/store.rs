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
    std::fs::write(dir.path().join("state"), "9999 9999\n").unwrap();
    drop(log);
    let err = Log::open(dir.path(), Options::default()).unwrap_err();
    assert!(err.to_string().contains("committed state needs"), "{err}");
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
