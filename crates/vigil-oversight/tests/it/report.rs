use vigil_ledger::note::{ALG_COSIGNATURE_V1, ALG_ED25519};
use vigil_ledger::{verify_checkpoint, Checkpoint, Signer};
use vigil_oversight::*;

use crate::{access, pid, request, workflow, T0};

/// A scenario with known outcomes: three requests (one sensitive), two
/// approvals, one refusal, one revocation, accesses granted and refused,
/// plus a hub action and a foreign entry.
fn scenario() -> Oversight<crate::TestLog> {
    let mut o = workflow();
    let a = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    o.approve(&a, &pid("judge-carla"), 20, T0 + 10).unwrap();
    o.access(&a, &access("operator-eli", "phone-1", "location"), T0 + 20)
        .unwrap();
    let _ = o.access(&a, &access("operator-eli", "phone-1", "contacts"), T0 + 30);
    let b = o
        .submit(request(TargetCategory::Journalist), T0 + 40)
        .unwrap();
    o.approve(&b, &pid("judge-carla"), 10, T0 + 50).unwrap();
    o.approve(&b, &pid("judge-dev"), 10, T0 + 60).unwrap();
    o.revoke(&b, &pid("auditor-gus"), T0 + 70).unwrap();
    let mut c = request(TargetCategory::Contact);
    c.offence_category = "terrorism".into();
    let c = o.submit(c, T0 + 80).unwrap();
    o.refuse(&c, &pid("judge-dev"), T0 + 90).unwrap();
    let hub = hub_action_entry(
        &Pseudonymiser::new([42; 32]),
        HubActionKind::TlpRedRelease,
        "analyst-1",
        "report--123",
        T0 + 95,
    );
    o.log_mut().append(hub).unwrap();
    o.log_mut()
        .append(b"not an oversight entry".to_vec())
        .unwrap();
    o
}

fn signed(o: &mut Oversight<crate::TestLog>) -> (String, Signer, Signer) {
    let log_key = Signer::generate("oversight.example/log", ALG_ED25519).unwrap();
    let witness = Signer::generate("ombudsman.example/witness", ALG_COSIGNATURE_V1).unwrap();
    let tree = &mut o.log_mut().tree;
    let cp = Checkpoint {
        origin: log_key.name().into(),
        size: tree.size(),
        root: tree.root(),
        extensions: vec![],
    };
    let mut note = cp.sign(&log_key).unwrap();
    note.add_signature(witness.cosign(note.text(), T0 + 100).unwrap());
    (note.to_text(), log_key, witness)
}

#[test]
fn report_counts_what_happened() {
    let mut o = scenario();
    let (note, log_key, witness) = signed(&mut o);
    let cp = verify_checkpoint(
        note.as_bytes(),
        &log_key.verifier(),
        &[witness.verifier()],
        1,
    )
    .unwrap();
    let r = transparency_report(&o.log().entries, &cp, (T0, T0 + 1000)).unwrap();
    assert_eq!((r.requests, r.renewals, r.double_lock_requests), (3, 0, 1));
    assert_eq!((r.approvals, r.refusals, r.revocations), (2, 1, 1));
    assert_eq!((r.accesses_granted, r.accesses_refused), (1, 1));
    assert_eq!(r.durations.count, 2);
    assert_eq!(r.durations.max_days, 20);
    assert!((r.durations.mean_days - 15.0).abs() < 1e-9);
    assert_eq!(r.by_target_category["journalist"].approved, 1);
    assert_eq!(r.by_target_category["contact"].refused, 1);
    assert_eq!(r.by_offence_category["terrorism"].requested, 1);
    assert_eq!(r.by_offence_category["kidnapping"].approved, 2);
    assert_eq!(r.by_agency["National Police"].requested, 3);
    assert_eq!(r.hub_actions["tlp_red_release"], 1);
    assert_eq!(r.other_entries, 1);
    assert_eq!(r.cosigned_by, vec!["ombudsman.example/witness".to_string()]);
    assert_eq!(r.checkpoint_size, o.log().entries.len() as u64);
    // Period filtering: only the first request falls before T0 + 35.
    let early = transparency_report(&o.log().entries, &cp, (T0, T0 + 35)).unwrap();
    assert_eq!((early.requests, early.approvals, early.refusals), (1, 1, 0));
    // JSON round-trips; the text names the checkpoint.
    let back: TransparencyReport = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(back, r);
    let text = r.to_text();
    assert!(text.contains(&r.checkpoint_root), "{text}");
    assert!(text.contains("Approvals") && text.contains("journalist"));
}

#[test]
fn report_refuses_entries_that_do_not_match_the_checkpoint() {
    let mut o = scenario();
    let (note, log_key, _) = signed(&mut o);
    let cp = verify_checkpoint(note.as_bytes(), &log_key.verifier(), &[], 0).unwrap();
    let mut entries = o.log().entries.clone();
    // Dropping an inconvenient refusal changes the count...
    let refused = entries
        .iter()
        .position(|e| String::from_utf8_lossy(e).contains("\"refused\""))
        .unwrap();
    entries.remove(refused);
    assert!(matches!(
        transparency_report(&entries, &cp, (0, u64::MAX)),
        Err(OversightError::ReportMismatch(_))
    ));
    // ...and editing one changes the root.
    let mut entries = o.log().entries.clone();
    entries[refused] = String::from_utf8(entries[refused].clone())
        .unwrap()
        .replace("refused", "approved")
        .into_bytes();
    assert!(matches!(
        transparency_report(&entries, &cp, (0, u64::MAX)),
        Err(OversightError::ReportMismatch(_))
    ));
}
