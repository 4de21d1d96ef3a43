#![no_main]
use libfuzzer_sys::fuzz_target;
use vigil_ledger::{ConsistencyProof, InclusionProof};

// Layout: index u64 | size u64 | leaf/old root 32 | root 32 | path hashes.
fuzz_target!(|data: &[u8]| {
    if data.len() < 80 {
        return;
    }
    let a = u64::from_be_bytes(data[0..8].try_into().unwrap());
    let b = u64::from_be_bytes(data[8..16].try_into().unwrap());
    let x: [u8; 32] = data[16..48].try_into().unwrap();
    let y: [u8; 32] = data[48..80].try_into().unwrap();
    let path: Vec<[u8; 32]> = data[80..]
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap())
        .collect();
    let _ = InclusionProof {
        leaf_index: a,
        tree_size: b,
        path: path.clone(),
    }
    .verify(&x, &y);
    let _ = ConsistencyProof {
        old_size: a,
        new_size: b,
        path,
    }
    .verify(&x, &y);
});
