#![no_main]
use libfuzzer_sys::fuzz_target;
use vigil_ledger::{
    leaf_hash, prove_consistency, prove_inclusion, ConsistencyProof, InclusionProof, MemoryTree,
};

// Layout: index u64 | size u64 | leaf/old root 32 | root 32 | path hashes.
//
// Besides never panicking on any input, the verifiers must be sound: the
// first bytes of the leaf field also pick a real tree (n leaves, leaf j,
// old size m), and a claimed proof for that tree's sizes that verifies
// against its roots must be exactly the proof the tree gives. (A root does
// not bind the size: a path also verifies for other sizes whose tree has
// the same shape along it, so callers take the size from the signed
// checkpoint, as `vigil log verify` does.)
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
    let inclusion = InclusionProof {
        leaf_index: a,
        tree_size: b,
        path: path.clone(),
    };
    let _ = inclusion.verify(&x, &y);
    let consistency = ConsistencyProof {
        old_size: a,
        new_size: b,
        path,
    };
    let _ = consistency.verify(&x, &y);

    let n = u64::from(x[0] % 64) + 1;
    let j = u64::from(x[1]) % n;
    let m = u64::from(x[2]) % n + 1;
    let mut tree = MemoryTree::new();
    for k in 0..n {
        tree.push(&k.to_be_bytes());
    }
    let root = tree.root();
    if inclusion.tree_size == n
        && inclusion
            .verify(&leaf_hash(&j.to_be_bytes()), &root)
            .is_ok()
    {
        assert_eq!(inclusion, prove_inclusion(&mut tree, j, n).unwrap());
    }
    if m < n && (consistency.old_size, consistency.new_size) == (m, n) {
        let mut old = MemoryTree::new();
        for k in 0..m {
            old.push(&k.to_be_bytes());
        }
        if consistency.verify(&old.root(), &root).is_ok() {
            assert_eq!(consistency, prove_consistency(&mut tree, m, n).unwrap());
        }
    }
});
