use vigil_ledger::tiles::{
    decode_bundle, encode_bundle, encode_index, tiles_at_level, TileCache, TileId, TileKind,
    TileNodes, TileReader,
};
use vigil_ledger::{prove_consistency, prove_inclusion, Hash, LedgerError, MemoryTree, NodeSource};

use crate::vectors;

#[test]
fn index_encoding_matches_spec() {
    let v = vectors();
    let t = &v["c2sp_tlog_tiles_paths"];
    assert_eq!(
        encode_index(1_234_067),
        t["index_1234067"].as_str().unwrap()
    );
    assert_eq!(encode_index(0), "000");
    assert_eq!(encode_index(1000), "x001/000");
}

#[test]
fn tile_paths_for_sizes_70000_and_1000000() {
    let v = vectors();
    for (key, size) in [("size_70000", 70_000u64), ("size_1000000", 1_000_000)] {
        let c = &v["c2sp_tlog_tiles_paths"][key];
        for level in 0..3u8 {
            let lc = &c[format!("level{level}")];
            let (full, partial) = tiles_at_level(size, level);
            assert_eq!(
                full,
                lc["full_tiles"].as_u64().unwrap(),
                "{key} level {level}"
            );
            let last_full = (full > 0).then(|| {
                TileId {
                    kind: TileKind::Hash(level),
                    index: full - 1,
                    width: 256,
                }
                .path()
            });
            assert_eq!(
                last_full.as_deref(),
                lc["last_full"].as_str(),
                "{key} level {level}"
            );
            let p = TileId {
                kind: TileKind::Hash(level),
                index: full,
                width: partial.unwrap(),
            };
            assert_eq!(p.path(), lc["partial"].as_str().unwrap());
            assert_eq!(TileId::parse_path(&p.path()).unwrap(), p);
        }
        let (full, partial) = tiles_at_level(size, 0);
        let e = TileId {
            kind: TileKind::Entries,
            index: full,
            width: partial.unwrap(),
        };
        assert_eq!(e.path(), c["entries_partial"].as_str().unwrap());
        assert_eq!(TileId::parse_path(&e.path()).unwrap(), e);
    }
}

#[test]
fn non_canonical_tile_paths_are_rejected() {
    for bad in [
        "tile/0/1",
        "tile/0/x001",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/012",
        "tile/00/001",
        "tile/8/001",
        "tile/0/x000/001",
        "tile/0/001/",
        "tile/entries/01",
        "tiles/0/001",
        "tile/0/0001",
        "tile/0/x1/001",
        "tile/0/../001",
    ] {
        assert!(TileId::parse_path(bad).is_err(), "accepted {bad}");
    }
    assert!(TileId::parse_path("/tile/3/x001/x234/067.p/8").is_ok());
}

#[test]
fn bundles_round_trip_and_reject_truncation() {
    let entries: Vec<&[u8]> = vec![b"", b"a", &[0u8; 300]];
    let b = encode_bundle(entries.iter().copied()).unwrap();
    assert_eq!(decode_bundle(&b).unwrap(), entries);
    assert!(decode_bundle(&b[..b.len() - 1]).is_err());
    assert!(decode_bundle(&[0]).is_err());
    assert!(matches!(
        encode_bundle([vec![0u8; 70_000].as_slice()]),
        Err(LedgerError::EntryTooLarge(70_000))
    ));
}

/// Serves tiles cut from a memory tree, counting reads.
struct Cut<'a> {
    tree: &'a mut MemoryTree,
    reads: usize,
}

impl TileReader for Cut<'_> {
    fn read_tile(&mut self, id: &TileId) -> Result<Vec<Hash>, LedgerError> {
        self.reads += 1;
        let TileKind::Hash(l) = id.kind else {
            unreachable!()
        };
        (0..u64::from(id.width))
            .map(|k| self.tree.node(l * 8, id.index * 256 + k))
            .collect()
    }
}

/// Proofs from tiles equal proofs from the full tree, for sizes straddling
/// tile and tile-level boundaries, and touch few tiles.
#[test]
fn proofs_from_tiles_equal_proofs_from_memory() {
    let mut t = MemoryTree::new();
    for k in 0..70_000u64 {
        t.push(&k.to_be_bytes());
    }
    for size in [1u64, 255, 256, 257, 65_535, 65_536, 65_537, 70_000] {
        let mut mem = t.clone();
        let mut nodes = TileNodes::new(
            Cut {
                tree: &mut t,
                reads: 0,
            },
            size,
        );
        assert_eq!(
            vigil_ledger::tree_root(&mut nodes, size).unwrap(),
            vigil_ledger::tree_root(&mut mem, size).unwrap()
        );
        for i in [0, size / 3, size - 1] {
            let a = prove_inclusion(&mut nodes, i, size).unwrap();
            let b = prove_inclusion(&mut mem, i, size).unwrap();
            assert_eq!(a, b, "inclusion {i} in {size}");
        }
        for m in [1, size / 2, size - 1] {
            let a = prove_consistency(&mut nodes, m, size).unwrap();
            let b = prove_consistency(&mut mem, m, size).unwrap();
            assert_eq!(a, b, "consistency {m} to {size}");
        }
        let reads = nodes.into_inner().reads;
        assert!(reads <= 40, "{reads} tile reads for size {size}");
    }
}

/// A cache shared by proofs at growing sizes: every tile (level, index,
/// width) is read once, and the proofs still equal those of the full tree.
#[test]
fn shared_tile_cache_reads_each_tile_once_across_sizes() {
    let mut t = MemoryTree::new();
    for k in 0..70_000u64 {
        t.push(&k.to_be_bytes());
    }
    let mut mem = t.clone();
    let mut cut = Cut {
        tree: &mut t,
        reads: 0,
    };
    let mut cache = TileCache::new(1024);
    let sizes = [300u64, 301, 40_000, 65_536, 70_000];
    for round in 0..2 {
        let before = cut.reads;
        for size in sizes {
            let mut nodes = TileNodes::with_cache(&mut cut, size, &mut cache);
            for i in [0, 255, 256, size / 2, size - 1] {
                let a = prove_inclusion(&mut nodes, i, size).unwrap();
                assert_eq!(a, prove_inclusion(&mut mem, i, size).unwrap());
            }
            for m in [1, 300, size - 1] {
                let a = prove_consistency(&mut nodes, m, size).unwrap();
                assert_eq!(a, prove_consistency(&mut mem, m, size).unwrap());
            }
        }
        if round == 1 {
            assert_eq!(cut.reads, before, "tiles read again from a warm cache");
        }
    }
    assert!(!cache.is_empty());
    assert!(
        cache.len() == cut.reads,
        "{} cached, {} read",
        cache.len(),
        cut.reads
    );
}
