use vigil_ledger::note::{ALG_COSIGNATURE_V1, ALG_ED25519};
use vigil_ledger::{verify_checkpoint, Checkpoint, LedgerError, Note, Signer, Verifier};

use crate::vectors;

fn example() -> serde_json::Value {
    vectors()["signed_checkpoint_example_TEST_KEYS_ONLY"].clone()
}

fn s(v: &serde_json::Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn c2sp_spec_example_note_verifies() {
    let v = vectors();
    let kat = &v["c2sp_signed_note_spec_kat"];
    let verifier = Verifier::parse(s(&kat["vkey"])).unwrap();
    let note = Note::parse(s(&kat["note"]).as_bytes()).unwrap();
    let ok = note.verify(&[verifier]).unwrap();
    assert_eq!(ok.text(), "This is an example message.\n");
    assert_eq!(ok.signers()[0].name, "example.com/foo");
    // Round trip is byte-exact.
    assert_eq!(note.to_text(), s(&kat["note"]));
}

#[test]
fn test_keys_reproduce_vector_verifier_keys() {
    let e = example();
    let log = Signer::from_seed("example.org/oversight-log-test", ALG_ED25519, [1; 32]).unwrap();
    let wit = Signer::from_seed("example.org/witness-test", ALG_COSIGNATURE_V1, [2; 32]).unwrap();
    assert_eq!(log.verifier().to_vkey(), s(&e["log_vkey"]));
    assert_eq!(wit.verifier().to_vkey(), s(&e["witness_vkey_type_0x04"]));
    // Keys whose base64 contains '+' parse (many do).
    for _ in 0..64 {
        let k = Signer::generate("n.example/k", ALG_ED25519).unwrap();
        assert_eq!(
            Signer::parse(&k.to_skey()).unwrap().verifier(),
            k.verifier()
        );
        assert_eq!(
            Verifier::parse(&k.verifier().to_vkey()).unwrap(),
            k.verifier()
        );
    }
    // Private key strings round-trip and never show up in Debug.
    let again = Signer::parse(&log.to_skey()).unwrap();
    assert_eq!(again.verifier(), log.verifier());
    assert!(!format!("{log:?}").contains(&log.to_skey()[30..]));
}

#[test]
fn signing_reproduces_the_vector_checkpoint() {
    let e = example();
    let log = Signer::from_seed("example.org/oversight-log-test", ALG_ED25519, [1; 32]).unwrap();
    let signed = s(&e["checkpoint_with_log_sig"]);
    let note = Note::parse(signed.as_bytes()).unwrap();
    let cp = Checkpoint::parse(note.text()).unwrap();
    assert_eq!(cp.size, 1_000_000);
    assert_eq!(
        hex::encode(cp.root),
        vectors()["million_leaf_anchor"]["root"].as_str().unwrap()
    );
    // Ed25519 is deterministic: our signature is the vector's, byte for byte.
    assert_eq!(cp.sign(&log).unwrap().to_text(), signed);
}

#[test]
fn cosignature_vector_verifies_and_is_reproduced() {
    let e = example();
    let log_v = Verifier::parse(s(&e["log_vkey"])).unwrap();
    let wit_v = Verifier::parse(s(&e["witness_vkey_type_0x04"])).unwrap();
    let text = s(&e["checkpoint_with_cosig"]);
    let ok = verify_checkpoint(text.as_bytes(), &log_v, std::slice::from_ref(&wit_v), 1).unwrap();
    assert_eq!(ok.cosigners().len(), 1);
    assert_eq!(ok.cosigners()[0].timestamp, Some(1_700_000_000));
    assert_eq!(ok.checkpoint().origin, "example.org/oversight-log-test");

    let wit = Signer::from_seed("example.org/witness-test", ALG_COSIGNATURE_V1, [2; 32]).unwrap();
    let note = Note::parse(text.as_bytes()).unwrap();
    let line = wit.cosign(note.text(), 1_700_000_000).unwrap().to_line();
    assert!(text.ends_with(&line), "our cosignature line {line:?}");
    assert_eq!(
        vigil_ledger::note::cosignature_message(note.text(), 1_700_000_000),
        s(&e["cosignature_signed_message"])
    );
}

#[test]
fn quorum_and_tampering_are_enforced() {
    let e = example();
    let log_v = Verifier::parse(s(&e["log_vkey"])).unwrap();
    let wit_v = Verifier::parse(s(&e["witness_vkey_type_0x04"])).unwrap();
    let text = s(&e["checkpoint_with_cosig"]);
    // Two witnesses required, one present.
    let other = Signer::generate("example.org/other-witness", ALG_COSIGNATURE_V1).unwrap();
    let err = verify_checkpoint(
        text.as_bytes(),
        &log_v,
        &[wit_v.clone(), other.verifier()],
        2,
    )
    .unwrap_err();
    assert_eq!(err, LedgerError::Quorum { have: 1, need: 2 });
    // A changed size breaks the log signature.
    let tampered = text.replacen("1000000", "1000001", 1);
    assert!(verify_checkpoint(tampered.as_bytes(), &log_v, &[], 0).is_err());
    // A wrong log key: no known signature.
    let stranger = Signer::generate("example.org/oversight-log-test", ALG_ED25519).unwrap();
    assert!(verify_checkpoint(text.as_bytes(), &stranger.verifier(), &[], 0).is_err());
    // A cosignature with a flipped timestamp fails.
    let note = Note::parse(text.as_bytes()).unwrap();
    let mut sigs = note.signatures().to_vec();
    sigs[1].sig[7] ^= 1;
    let mut forged = Note::new(note.text()).unwrap();
    for s in sigs {
        forged.add_signature(s);
    }
    assert!(matches!(
        verify_checkpoint(forged.to_text().as_bytes(), &log_v, &[wit_v], 1),
        Err(LedgerError::BadSignature { .. })
    ));
}

#[test]
fn cosign_keys_and_note_keys_are_not_interchangeable() {
    let log = Signer::generate("log.example", ALG_ED25519).unwrap();
    let wit = Signer::generate("wit.example", ALG_COSIGNATURE_V1).unwrap();
    let cp = Checkpoint {
        origin: "log.example".into(),
        size: 3,
        root: [7; 32],
        extensions: vec![],
    };
    assert!(cp.sign(&wit).is_err());
    assert!(log.cosign(&cp.to_text(), 1).is_err());
}

#[test]
fn malformed_notes_and_checkpoints_are_rejected_with_a_line() {
    for bad in [
        "no signatures\n",
        "text\n\n",
        "text\n\n\u{2014} name\n",
        "text\n\n- name AAAA\n",
        "text\n\n\u{2014} na+me AAAAAAAA\n",
        "text\n\n\u{2014} name !!!!\n",
        "text\n\n\u{2014} name AAAAAAAA",
        "te\u{7}xt\n\n\u{2014} name AAAAAAAA\n",
    ] {
        assert!(Note::parse(bad.as_bytes()).is_err(), "accepted {bad:?}");
    }
    assert!(Note::parse(b"\xff\n\n").is_err());
    for bad in [
        "origin\n",
        "\n1\nAAAA\n",
        "o\n01\njtCAXbobBqxhoKL9djArvf9pr3MF/o3Rbh3QXOPqMpU=\n",
        "o\n-1\njtCAXbobBqxhoKL9djArvf9pr3MF/o3Rbh3QXOPqMpU=\n",
        "o\n18446744073709551616\njtCAXbobBqxhoKL9djArvf9pr3MF/o3Rbh3QXOPqMpU=\n",
        "o\n1\nAAAA\n",
        "o\n1\njtCAXbobBqxhoKL9djArvf9pr3MF/o3Rbh3QXOPqMpU=\n\n",
        "o\n1\njtCAXbobBqxhoKL9djArvf9pr3MF/o3Rbh3QXOPqMpU=",
    ] {
        assert!(Checkpoint::parse(bad).is_err(), "accepted {bad:?}");
    }
    let err = Checkpoint::parse("o\nx\nAAAA\n").unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    let ok =
        Checkpoint::parse("o\n0\njtCAXbobBqxhoKL9djArvf9pr3MF/o3Rbh3QXOPqMpU=\next one\n").unwrap();
    assert_eq!(ok.extensions, vec!["ext one".to_string()]);
}

#[test]
fn verifier_key_strings_are_checked() {
    let e = example();
    let good = s(&e["log_vkey"]);
    assert!(Verifier::parse(good).is_ok());
    for bad in [
        good.replacen("55874a63", "55874a64", 1),
        good.replacen("55874a63", "55874a6", 1),
        format!("{good}+extra"),
        format!("{good}AAAA"),
        good.replacen("AYqI", "AoqI", 1),
        "name+00000000".to_string(),
    ] {
        assert!(Verifier::parse(&bad).is_err(), "accepted {bad}");
    }
}
