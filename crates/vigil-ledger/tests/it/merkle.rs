use vigil_ledger::{
    empty_root, leaf_hash, prove_consistency, prove_inclusion, ConsistencyProof, InclusionProof,
    MemoryTree,
};

use crate::{h, hs, vectors};

fn kat_tree() -> MemoryTree {
    let v = vectors();
    let mut t = MemoryTree::new();
    for d in v["leaf_inputs_hex"].as_array().unwrap() {
        t.push(&hex::decode(d.as_str().unwrap()).unwrap());
    }
    t
}

fn kat_prefix(n: u64) -> MemoryTree {
    let full = kat_tree();
    let mut t = MemoryTree::new();
    for l in &full.leaf_hashes()[..n as usize] {
        t.push_hash(*l);
    }
    t
}

#[test]
fn leaf_hashes_match_vectors() {
    let v = vectors();
    let t = kat_tree();
    assert_eq!(t.leaf_hashes(), hs(&v["leaf_hashes"]).as_slice());
}

#[test]
fn roots_for_sizes_0_to_8() {
    let v = vectors();
    let roots = v["roots_by_size"].as_object().unwrap();
    assert_eq!(roots.len(), 9);
    assert_eq!(h(&roots["0"]), empty_root());
    for n in 1..=8u64 {
        let mut t = kat_prefix(n);
        assert_eq!(t.root(), h(&roots[&n.to_string()]), "root of size {n}");
    }
}

#[test]
fn all_36_inclusion_proofs_generate_and_verify() {
    let v = vectors();
    let cases = v["all_inclusion_proofs_sizes_1_to_8"].as_array().unwrap();
    assert_eq!(cases.len(), 36);
    let leaves = hs(&v["leaf_hashes"]);
    for c in cases {
        let (i, n) = (
            c["leaf_index"].as_u64().unwrap(),
            c["tree_size"].as_u64().unwrap(),
        );
        let mut t = kat_prefix(n);
        let root = t.root();
        let proof = prove_inclusion(&mut t, i, n).unwrap();
        assert_eq!(proof.path, hs(&c["path"]), "PATH({i}, D[{n}])");
        let ok = proof.verify(&leaves[i as usize], &root).unwrap();
        assert_eq!((ok.leaf_index(), ok.tree_size(), *ok.root()), (i, n, root));
    }
}

#[test]
fn all_28_consistency_proofs_generate_and_verify() {
    let v = vectors();
    let cases = v["all_consistency_proofs_sizes_1_to_8"].as_array().unwrap();
    assert_eq!(cases.len(), 28);
    let roots = v["roots_by_size"].as_object().unwrap();
    for c in cases {
        let (m, n) = (c["size1"].as_u64().unwrap(), c["size2"].as_u64().unwrap());
        let mut t = kat_prefix(n);
        let proof = prove_consistency(&mut t, m, n).unwrap();
        assert_eq!(proof.path, hs(&c["proof"]), "PROOF({m}, D[{n}])");
        let (r1, r2) = (h(&roots[&m.to_string()]), h(&roots[&n.to_string()]));
        let ok = proof.verify(&r1, &r2).unwrap();
        assert_eq!((ok.old_size(), ok.new_size()), (m, n));
    }
}

#[test]
fn transparency_dev_selected_proofs_verify() {
    let v = vectors();
    for c in v["selected_inclusion_proofs_matching_transparency_dev"]
        .as_array()
        .unwrap()
    {
        let p = InclusionProof {
            leaf_index: c["leaf_index"].as_u64().unwrap(),
            tree_size: c["tree_size"].as_u64().unwrap(),
            path: hs(&c["path"]),
        };
        p.verify(&h(&c["leaf_hash"]), &h(&c["root"])).unwrap();
    }
    for c in v["selected_consistency_proofs_matching_transparency_dev"]
        .as_array()
        .unwrap()
    {
        let p = ConsistencyProof {
            old_size: c["size1"].as_u64().unwrap(),
            new_size: c["size2"].as_u64().unwrap(),
            path: hs(&c["proof"]),
        };
        p.verify(&h(&c["root1"]), &h(&c["root2"])).unwrap();
    }
}

#[test]
fn negative_vectors_are_rejected() {
    let v = vectors();
    let cases = v["negative_vectors"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        assert_eq!(c["expect"], "reject");
        let res = if c["kind"] == "inclusion" {
            InclusionProof {
                leaf_index: c["leaf_index"].as_u64().unwrap(),
                tree_size: c["tree_size"].as_u64().unwrap(),
                path: hs(&c["path"]),
            }
            .verify(&h(&c["leaf_hash"]), &h(&c["root"]))
            .map(|_| ())
        } else {
            ConsistencyProof {
                old_size: c["size1"].as_u64().unwrap(),
                new_size: c["size2"].as_u64().unwrap(),
                path: hs(&c["proof"]),
            }
            .verify(&h(&c["root1"]), &h(&c["root2"]))
            .map(|_| ())
        };
        assert!(res.is_err(), "accepted: {}", c["why"]);
    }
}

/// Every proof of the 8-leaf KAT tree, corrupted in each way a broken or
/// lying server could: wrong index, wrong size, truncated, extended,
/// swapped, flipped bit, wrong root.
#[test]
fn corrupted_proofs_all_fail() {
    let v = vectors();
    let roots = v["roots_by_size"].as_object().unwrap();
    let leaves = hs(&v["leaf_hashes"]);
    let mut rejected = 0;
    for c in v["all_inclusion_proofs_sizes_1_to_8"].as_array().unwrap() {
        let good = InclusionProof {
            leaf_index: c["leaf_index"].as_u64().unwrap(),
            tree_size: c["tree_size"].as_u64().unwrap(),
            path: hs(&c["path"]),
        };
        let root = h(&roots[&good.tree_size.to_string()]);
        let leaf = leaves[good.leaf_index as usize];
        let mut bad = Vec::new();
        for d in [1u64, 2, 3] {
            let mut p = good.clone();
            p.leaf_index ^= d;
            if p.leaf_index < p.tree_size {
                bad.push((p, leaf, root));
            }
        }
        // The proof presented against a checkpoint of another size (the
        // size and root come together from a signed checkpoint).
        if good.tree_size < 8 {
            let mut p = good.clone();
            p.tree_size += 1;
            bad.push((p, leaf, h(&roots[&(good.tree_size + 1).to_string()])));
        }
        if good.tree_size > 1 && good.leaf_index < good.tree_size - 1 {
            let mut p = good.clone();
            p.tree_size -= 1;
            bad.push((p, leaf, h(&roots[&(good.tree_size - 1).to_string()])));
        }
        if !good.path.is_empty() {
            let mut p = good.clone();
            p.path.pop();
            bad.push((p, leaf, root));
            let mut p = good.clone();
            p.path[0][0] ^= 1;
            bad.push((p, leaf, root));
        }
        if good.path.len() >= 2 {
            let mut p = good.clone();
            p.path.swap(0, 1);
            bad.push((p, leaf, root));
        }
        let mut p = good.clone();
        p.path.push(leaf);
        bad.push((p, leaf, root));
        let mut wrong_leaf = leaf;
        wrong_leaf[31] ^= 0x80;
        bad.push((good.clone(), wrong_leaf, root));
        let mut wrong_root = root;
        wrong_root[0] ^= 1;
        bad.push((good.clone(), leaf, wrong_root));
        for (p, l, r) in bad {
            assert!(p.verify(&l, &r).is_err(), "accepted corrupted {p:?}");
            rejected += 1;
        }
    }
    for c in v["all_consistency_proofs_sizes_1_to_8"].as_array().unwrap() {
        let good = ConsistencyProof {
            old_size: c["size1"].as_u64().unwrap(),
            new_size: c["size2"].as_u64().unwrap(),
            path: hs(&c["proof"]),
        };
        let r1 = h(&roots[&good.old_size.to_string()]);
        let r2 = h(&roots[&good.new_size.to_string()]);
        let root_of = |n: u64| h(&roots[&n.to_string()]);
        let mut bad = Vec::new();
        // Presented against checkpoints of other sizes (size and root move
        // together, as they come from one signed checkpoint).
        if good.old_size + 1 < good.new_size {
            let mut p = good.clone();
            p.old_size += 1;
            bad.push((p, root_of(good.old_size + 1), r2));
        }
        if good.new_size < 8 {
            let mut p = good.clone();
            p.new_size += 1;
            bad.push((p, r1, root_of(good.new_size + 1)));
        }
        if !good.path.is_empty() {
            let mut p = good.clone();
            p.path.pop();
            bad.push((p, r1, r2));
            let mut p = good.clone();
            p.path.remove(0);
            bad.push((p, r1, r2));
            let mut p = good.clone();
            let last = p.path.len() - 1;
            p.path[last][5] ^= 4;
            bad.push((p, r1, r2));
        }
        if good.path.len() >= 2 {
            let mut p = good.clone();
            p.path.swap(0, 1);
            bad.push((p, r1, r2));
        }
        let mut p = good.clone();
        p.path.push(r1);
        bad.push((p, r1, r2));
        for (p, a, b) in bad {
            assert!(p.verify(&a, &b).is_err(), "accepted corrupted {p:?}");
            rejected += 1;
        }
        // Swapped roots and wrong roots.
        assert!(good.verify(&r2, &r1).is_err());
        let mut x = r1;
        x[9] ^= 1;
        assert!(good.verify(&x, &r2).is_err());
        rejected += 2;
    }
    assert!(rejected > 300, "only {rejected} corruptions tried");
}

#[test]
fn edge_cases_equal_sizes_and_size_zero() {
    let mut t = kat_tree();
    let root = t.root();
    let p = prove_consistency(&mut t, 8, 8).unwrap();
    assert!(p.path.is_empty());
    p.verify(&root, &root).unwrap();
    let mut other = root;
    other[0] ^= 1;
    assert!(p.verify(&root, &other).is_err());
    let p0 = prove_consistency(&mut t, 0, 8).unwrap();
    p0.verify(&empty_root(), &root).unwrap();
    assert!(p0.verify(&root, &root).is_err());
    assert!(prove_consistency(&mut t, 9, 8).is_err());
    assert!(prove_inclusion(&mut t, 8, 8).is_err());
}

/// The 1,000,000-leaf anchor: root, old root, and both proofs, generated by
/// our tree and checked by our verifier, against the published values.
#[test]
fn million_leaf_anchor() {
    let v = vectors();
    let a = &v["million_leaf_anchor"];
    let n = a["tree_size"].as_u64().unwrap();
    let m = a["old_size"].as_u64().unwrap();
    let i = a["leaf_index"].as_u64().unwrap();
    let mut t = MemoryTree::new();
    let mut old_root = None;
    for k in 0..n {
        if k == m {
            old_root = Some(t.root());
        }
        t.push(&k.to_be_bytes());
    }
    assert_eq!(old_root.unwrap(), h(&a["old_root"]));
    assert_eq!(t.root(), h(&a["root"]));
    assert_eq!(
        leaf_hash(&hex::decode(a["leaf_data_hex"].as_str().unwrap()).unwrap()),
        h(&a["leaf_hash"])
    );
    let inc = prove_inclusion(&mut t, i, n).unwrap();
    assert_eq!(inc.path, hs(&a["inclusion_path"]));
    inc.verify(&h(&a["leaf_hash"]), &h(&a["root"])).unwrap();
    let cons = prove_consistency(&mut t, m, n).unwrap();
    assert_eq!(cons.path, hs(&a["consistency_path"]));
    cons.verify(&h(&a["old_root"]), &h(&a["root"])).unwrap();
    // And one wrong old size must fail with the same path.
    let mut wrong = cons.clone();
    wrong.old_size += 1;
    assert!(wrong.verify(&h(&a["old_root"]), &h(&a["root"])).is_err());
}

/// Every inclusion and consistency proof of trees up to 40 leaves verifies,
/// and generation agrees with the root recomputed from scratch.
#[test]
fn exhaustive_small_trees_round_trip() {
    let mut t = MemoryTree::new();
    let mut roots = vec![t.root()];
    for k in 0..40u64 {
        t.push(&k.to_le_bytes());
        roots.push(t.root());
    }
    let leaves = t.leaf_hashes().to_vec();
    for n in 1..=40u64 {
        for i in 0..n {
            let p = prove_inclusion(&mut t, i, n).unwrap();
            p.verify(&leaves[i as usize], &roots[n as usize]).unwrap();
        }
        for m in 0..=n {
            let p = prove_consistency(&mut t, m, n).unwrap();
            p.verify(&roots[m as usize], &roots[n as usize]).unwrap();
        }
    }
}
