use vigil_ledger::note::{ALG_COSIGNATURE_V1, ALG_ED25519};
use vigil_ledger::witness::{AddCheckpoint, MemoryWitnessStore, Witness, WitnessRefusal};
use vigil_ledger::{prove_consistency, verify_checkpoint, Checkpoint, MemoryTree, Note, Signer};

struct Setup {
    log: Signer,
    witness: Witness,
    tree: MemoryTree,
}

fn setup() -> Setup {
    let log = Signer::generate("log.example/oversight", ALG_ED25519).unwrap();
    let wkey = Signer::generate("witness.example/ombudsman", ALG_COSIGNATURE_V1).unwrap();
    let witness = Witness::new(wkey, vec![log.verifier()]).unwrap();
    Setup {
        log,
        witness,
        tree: MemoryTree::new(),
    }
}

fn grow_and_sign(s: &mut Setup, n: u64) -> Note {
    for k in 0..n {
        s.tree.push(format!("entry {k}").as_bytes());
    }
    let cp = Checkpoint {
        origin: "log.example/oversight".into(),
        size: s.tree.size(),
        root: s.tree.root(),
        extensions: vec![],
    };
    cp.sign(&s.log).unwrap()
}

fn request(s: &mut Setup, old: u64, note: &Note) -> Vec<u8> {
    let size = s.tree.size();
    let proof = prove_consistency(&mut s.tree, old, size).unwrap().path;
    AddCheckpoint {
        old_size: old,
        proof,
        checkpoint: note.to_text().into_bytes(),
    }
    .to_body()
}

#[test]
fn witness_cosigns_consistent_growth_and_persists_first() {
    let mut s = setup();
    let mut store = MemoryWitnessStore::default();
    let n1 = grow_and_sign(&mut s, 5);
    let body = request(&mut s, 0, &n1);
    let line = s
        .witness
        .add_checkpoint(&mut store, &body, 1_800_000_000)
        .unwrap();
    assert_eq!(store.0["log.example/oversight"].size, 5);
    let mut with = n1.to_text();
    with.push_str(&line);
    let ok = verify_checkpoint(
        with.as_bytes(),
        &s.log.verifier(),
        &[s.witness.verifier()],
        1,
    )
    .unwrap();
    assert_eq!(ok.cosigners()[0].timestamp, Some(1_800_000_000));

    let n2 = grow_and_sign(&mut s, 17);
    let body = request(&mut s, 5, &n2);
    s.witness
        .add_checkpoint(&mut store, &body, 1_800_000_100)
        .unwrap();
    assert_eq!(store.0["log.example/oversight"].size, 22);
    // Parsing the body we produce gives back the same request.
    let parsed = AddCheckpoint::parse(&body).unwrap();
    assert_eq!(parsed.old_size, 5);
    assert_eq!(parsed.to_body(), body);
}

#[test]
fn witness_refusals_have_protocol_status_codes() {
    let mut s = setup();
    let mut store = MemoryWitnessStore::default();
    let n1 = grow_and_sign(&mut s, 8);
    let ok = request(&mut s, 0, &n1);
    s.witness.add_checkpoint(&mut store, &ok, 1).unwrap();

    // Stale old size: 409 with the recorded size.
    let n2 = grow_and_sign(&mut s, 4);
    let stale = request(&mut s, 3, &n2);
    assert_eq!(
        s.witness.add_checkpoint(&mut store, &stale, 2),
        Err(WitnessRefusal::SizeConflict(8))
    );

    // Bad proof: 422, and nothing recorded.
    let mut req = AddCheckpoint::parse(&request(&mut s, 8, &n2)).unwrap();
    req.proof[0][0] ^= 1;
    let err = s
        .witness
        .add_checkpoint(&mut store, &req.to_body(), 3)
        .unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(store.0["log.example/oversight"].size, 8);

    // Split view: same size, different root, signed by the log: 409.
    let mut fork = MemoryTree::new();
    for k in 0..8 {
        fork.push(format!("forged {k}").as_bytes());
    }
    let forked = Checkpoint {
        origin: "log.example/oversight".into(),
        size: 8,
        root: fork.root(),
        extensions: vec![],
    }
    .sign(&s.log)
    .unwrap();
    let body = AddCheckpoint {
        old_size: 8,
        proof: vec![],
        checkpoint: forked.to_text().into_bytes(),
    }
    .to_body();
    assert_eq!(
        s.witness.add_checkpoint(&mut store, &body, 4),
        Err(WitnessRefusal::RootConflict(8))
    );

    // Old size above checkpoint size: 400.
    let body = AddCheckpoint {
        old_size: 99,
        proof: vec![],
        checkpoint: n2.to_text().into_bytes(),
    }
    .to_body();
    assert_eq!(
        s.witness
            .add_checkpoint(&mut store, &body, 5)
            .unwrap_err()
            .status(),
        400
    );

    // Unknown origin: 404; signed by someone else: 403.
    let other = Signer::generate("other.example/log", ALG_ED25519).unwrap();
    let foreign = Checkpoint {
        origin: "other.example/log".into(),
        size: 1,
        root: [0; 32],
        extensions: vec![],
    }
    .sign(&other)
    .unwrap();
    let body = AddCheckpoint {
        old_size: 0,
        proof: vec![],
        checkpoint: foreign.to_text().into_bytes(),
    }
    .to_body();
    assert_eq!(
        s.witness
            .add_checkpoint(&mut store, &body, 6)
            .unwrap_err()
            .status(),
        404
    );
    let imposter = Signer::generate("log.example/oversight", ALG_ED25519).unwrap();
    let fake = Checkpoint {
        origin: "log.example/oversight".into(),
        size: 12,
        root: s.tree.root(),
        extensions: vec![],
    }
    .sign(&imposter)
    .unwrap();
    let body = request(&mut s, 8, &fake);
    assert_eq!(
        s.witness
            .add_checkpoint(&mut store, &body, 7)
            .unwrap_err()
            .status(),
        403
    );

    // Garbage: 400.
    assert_eq!(
        s.witness
            .add_checkpoint(&mut store, b"old x\n\n", 8)
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(
        s.witness
            .add_checkpoint(&mut store, b"", 8)
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(store.0["log.example/oversight"].size, 8);
}
