#![no_main]
use libfuzzer_sys::fuzz_target;
use vigil_ledger::tiles::{decode_bundle, decode_hash_tile, TileId, TileNodes, TileReader};
use vigil_ledger::{prove_consistency, prove_inclusion, tree_root, Hash, LedgerError};

/// Serves tiles cut from the fuzz input, as an untrusted mirror would.
struct Mirror<'a>(&'a [u8]);

impl TileReader for Mirror<'_> {
    fn read_tile(&mut self, id: &TileId) -> Result<Vec<Hash>, LedgerError> {
        let want = usize::from(id.width) * 32;
        let start = (id.index as usize).wrapping_mul(97) % self.0.len().max(1);
        let mut bytes: Vec<u8> = self
            .0
            .iter()
            .cycle()
            .skip(start)
            .take(want)
            .copied()
            .collect();
        if self.0.first().is_some_and(|b| b & 1 == 1) {
            bytes.truncate(want / 2); // a mirror that sends short tiles
        }
        decode_hash_tile(&bytes, id)
    }
}

// Layout: size u64 | index u64 | old size u64 | rest: tile path text, tile
// and bundle bytes.
fuzz_target!(|data: &[u8]| {
    let _ = decode_bundle(data);
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(id) = TileId::parse_path(s) {
            assert_eq!(TileId::parse_path(&id.path()), Ok(id));
        }
    }
    if data.len() < 24 {
        return;
    }
    let n = |i: usize| u64::from_be_bytes(data[i..i + 8].try_into().unwrap());
    let (size, index, old) = (n(0), n(8), n(16));
    let rest = &data[24..];
    if let Ok(s) = std::str::from_utf8(rest) {
        if let Ok(id) = TileId::parse_path(s) {
            let _ = decode_hash_tile(rest, &id);
        }
    }
    let mut nodes = TileNodes::new(Mirror(rest), size);
    let _ = tree_root(&mut nodes, size);
    let _ = prove_inclusion(&mut nodes, index, size);
    let _ = prove_consistency(&mut nodes, old, size);
});
