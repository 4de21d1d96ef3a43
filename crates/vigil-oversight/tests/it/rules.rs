use vigil_oversight::*;

use crate::{access, pid, request, workflow, T0};

const H: u64 = 3600;

#[test]
fn full_lifecycle_is_logged_without_personal_data() {
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    assert_eq!(
        o.approve(&id, &pid("judge-carla"), 20, T0 + H).unwrap(),
        Status::Active
    );
    let a = o.get(&id).unwrap();
    assert_eq!(
        a.valid_from,
        Some(T0 + H),
        "validity starts at approval, not before"
    );
    assert_eq!(a.valid_until, Some(T0 + H + 20 * DAY));
    o.access(
        &id,
        &access("operator-eli", "phone-1", "location"),
        T0 + 2 * H,
    )
    .unwrap();
    o.review(&id, &pid("auditor-gus"), true, T0 + 10 * DAY)
        .unwrap();
    assert_eq!(o.expire_due(T0 + 21 * DAY).unwrap(), vec![id.clone()]);
    assert_eq!(o.get(&id).unwrap().status, Status::Expired);
    o.destroy(&id, &pid("operator-eli"), T0 + 22 * DAY).unwrap();
    o.notify(&id, T0 + 23 * DAY).unwrap();
    o.complaint(&id, "complaint-2026-17", T0 + 30 * DAY)
        .unwrap();
    o.remedy(&id, "complaint-2026-17", false, T0 + 60 * DAY)
        .unwrap();

    let a = o.get(&id).unwrap();
    assert_eq!(
        a.log_indices,
        (0..9).collect::<Vec<u64>>(),
        "every step points to its log entry"
    );
    let log = &o.log().entries;
    assert_eq!(log.len(), 9);
    let events: Vec<String> = log
        .iter()
        .map(|e| {
            serde_json::from_slice::<serde_json::Value>(e).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        events,
        [
            "requested",
            "approved",
            "access",
            "reviewed",
            "expired",
            "destroyed",
            "notified",
            "complaint",
            "remedy"
        ]
    );
    let all = String::from_utf8(log.concat()).unwrap();
    for secret in [
        "officer-ana",
        "judge-carla",
        "operator-eli",
        "auditor-gus",
        "Jane Roe",
        "suspect-record",
        "phone-1",
        "complaint-2026-17",
        "kidnapping gang",
    ] {
        assert!(!all.contains(secret), "log entry reveals {secret:?}");
    }
    // Same person, same hash: entries can be linked without being read.
    let p = Pseudonymiser::new([42; 32]);
    assert!(all.contains(&p.hash("person", "judge-carla")));
}

#[test]
fn separation_of_duties_is_enforced() {
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    // The requester cannot approve; an approver of the requesting agency is
    // not independent; an operator has no approval role.
    for who in ["officer-ana", "police-chief", "operator-eli"] {
        let err = o.approve(&id, &pid(who), 10, T0 + 1).unwrap_err();
        assert!(
            matches!(
                err,
                OversightError::SeparationOfDuties(_) | OversightError::MissingRole { .. }
            ),
            "{who}: {err}"
        );
    }
    o.approve(&id, &pid("judge-carla"), 10, T0 + 2).unwrap();
    // The approver cannot operate; operator-fay may operate (not involved).
    let err = o
        .access(&id, &access("judge-carla", "phone-1", "location"), T0 + 3)
        .unwrap_err();
    assert!(matches!(err, OversightError::AccessRefused { .. }));
    o.access(&id, &access("operator-fay", "phone-1", "location"), T0 + 4)
        .unwrap();
    // An operator on the case cannot review it, nor can the approver.
    let mut o2 = workflow();
    let id2 = o2.submit(request(TargetCategory::Suspect), T0).unwrap();
    o2.approve(&id2, &pid("judge-carla"), 10, T0 + 1).unwrap();
    assert!(o2.review(&id2, &pid("judge-carla"), true, T0 + 2).is_err());
    assert!(o2.review(&id2, &pid("operator-eli"), true, T0 + 2).is_err());
    // The requester of another agency's request is not a requester here.
    let mut req = request(TargetCategory::Suspect);
    req.officer = pid("judge-dev");
    assert!(o2.submit(req, T0 + 3).is_err());
}

#[test]
fn sensitive_categories_need_two_different_approvers() {
    for cat in [
        TargetCategory::Journalist,
        TargetCategory::Lawyer,
        TargetCategory::Legislator,
        TargetCategory::HumanRightsDefender,
    ] {
        let mut o = workflow();
        let id = o.submit(request(cat), T0).unwrap();
        assert_eq!(
            o.approve(&id, &pid("judge-carla"), 10, T0 + 1).unwrap(),
            Status::AwaitingSecondApproval
        );
        // Not live after one lock.
        let err = o
            .access(&id, &access("operator-eli", "p", "location"), T0 + 2)
            .unwrap_err();
        assert!(
            matches!(err, OversightError::AccessRefused { .. }),
            "{cat:?}"
        );
        // The same judge cannot turn the second key.
        assert!(matches!(
            o.approve(&id, &pid("judge-carla"), 10, T0 + 3),
            Err(OversightError::SeparationOfDuties(_))
        ));
        assert_eq!(
            o.approve(&id, &pid("judge-dev"), 10, T0 + 4).unwrap(),
            Status::Active
        );
        assert_eq!(o.get(&id).unwrap().valid_from, Some(T0 + 4));
        o.access(&id, &access("operator-eli", "p", "location"), T0 + 5)
            .unwrap();
    }
    // A suspect needs one lock only.
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    assert_eq!(
        o.approve(&id, &pid("judge-carla"), 10, T0 + 1).unwrap(),
        Status::Active
    );
}

#[test]
fn expiry_is_hard_and_backdating_is_refused() {
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    o.approve(&id, &pid("judge-carla"), 5, T0 + 10).unwrap();
    let end = T0 + 10 + 5 * DAY;
    o.access(&id, &access("operator-eli", "p", "location"), end - 1)
        .unwrap();
    // At the expiry instant, even before any expiry sweep: refused.
    let err = o
        .access(&id, &access("operator-eli", "p", "location"), end)
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    // Time never runs backwards.
    let err = o
        .access(&id, &access("operator-eli", "p", "location"), end - 100)
        .unwrap_err();
    assert!(matches!(err, OversightError::Backdated { .. }), "{err}");
    assert!(matches!(
        o.submit(request(TargetCategory::Suspect), T0),
        Err(OversightError::Backdated { .. })
    ));
    // Approving longer than requested or beyond policy is refused.
    let id2 = o.submit(request(TargetCategory::Suspect), end + 1).unwrap();
    assert!(o.approve(&id2, &pid("judge-carla"), 31, end + 2).is_err());
    let mut long = request(TargetCategory::Suspect);
    long.duration_days = 91;
    assert!(matches!(
        o.submit(long, end + 3),
        Err(OversightError::InvalidRequest(_))
    ));
}

#[test]
fn renewal_needs_a_fresh_assessment_and_a_new_approval() {
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    o.approve(&id, &pid("judge-carla"), 30, T0 + 1).unwrap();
    let same = request(TargetCategory::Suspect).assessment;
    assert!(matches!(
        o.renew(&id, same.clone(), 30, T0 + 20 * DAY),
        Err(OversightError::InvalidRequest(_))
    ));
    let mut fresh = same;
    fresh.necessity = "Gang located two more victims; messages show a planned handover".into();
    let r = o.renew(&id, fresh, 30, T0 + 20 * DAY).unwrap();
    assert_eq!(o.get(&r).unwrap().status, Status::AwaitingApproval);
    assert_eq!(o.get(&r).unwrap().renewal_of.as_deref(), Some(id.as_str()));
    assert!(o
        .access(
            &r,
            &access("operator-eli", "p", "location"),
            T0 + 20 * DAY + 1
        )
        .is_err());
    // An expired authorisation cannot be renewed.
    o.expire_due(T0 + 31 * DAY).unwrap();
    let mut fresh2 = request(TargetCategory::Suspect).assessment;
    fresh2.necessity = "again".into();
    assert!(o.renew(&id, fresh2, 10, T0 + 32 * DAY).is_err());
}

#[test]
fn revocation_takes_effect_immediately() {
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    o.approve(&id, &pid("judge-carla"), 30, T0 + 1).unwrap();
    o.access(&id, &access("operator-eli", "p", "messages"), T0 + 2)
        .unwrap();
    // The requesting agency cannot revoke its own warrant's oversight away.
    assert!(o.revoke(&id, &pid("police-chief"), T0 + 3).is_err());
    o.revoke(&id, &pid("auditor-gus"), T0 + 3).unwrap();
    let err = o
        .access(&id, &access("operator-eli", "p", "messages"), T0 + 3)
        .unwrap_err();
    assert!(err.to_string().contains("Revoked"), "{err}");
    assert_eq!(o.get(&id).unwrap().ended_at, Some(T0 + 3));
}

#[test]
fn accesses_outside_scope_are_refused_and_logged() {
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    o.approve(&id, &pid("judge-carla"), 30, T0 + 1).unwrap();
    o.access(&id, &access("operator-eli", "phone-1", "location"), T0 + 2)
        .unwrap();
    o.access(&id, &access("operator-eli", "phone-2", "messages"), T0 + 3)
        .unwrap();
    let mut abroad = access("operator-eli", "phone-1", "location");
    abroad.geography = "YY".into();
    let cases = [
        (access("operator-eli", "phone-3", "location"), "devices"),
        (access("operator-eli", "phone-1", "contacts"), "data type"),
        (abroad, "geography"),
        (access("nobody", "phone-1", "location"), "unknown person"),
    ];
    for (a, why) in cases {
        let before = o.log().entries.len() as u64;
        match o.access(&id, &a, T0 + 4) {
            Err(OversightError::AccessRefused { reason, log_index }) => {
                assert!(reason.contains(why), "{reason} vs {why}");
                assert_eq!(log_index, before);
                let e: serde_json::Value =
                    serde_json::from_slice(&o.log().entries[log_index as usize]).unwrap();
                assert_eq!(e["granted"], false);
            }
            other => panic!("{why}: {other:?}"),
        }
    }
    // Citing an authorisation that does not exist: refused, logged, and
    // the citation is not written in clear.
    let err = o
        .access(
            "A-999999",
            &access("operator-eli", "phone-1", "location"),
            T0 + 5,
        )
        .unwrap_err();
    let OversightError::AccessRefused { log_index, .. } = err else {
        panic!("{err}")
    };
    let e = String::from_utf8(o.log().entries[log_index as usize].clone()).unwrap();
    assert!(e.contains("unknown:") && !e.contains("A-999999"), "{e}");
    assert_eq!(o.get(&id).unwrap().devices.len(), 2);
}

#[test]
fn deadlines_for_reviews_retention_and_notification() {
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    o.approve(&id, &pid("judge-carla"), 30, T0).unwrap();
    assert!(o.reviews_due(T0 + 29 * DAY).is_empty());
    assert_eq!(o.reviews_due(T0 + 30 * DAY), vec![id.clone()]);
    o.review(&id, &pid("auditor-gus"), false, T0 + 30 * DAY)
        .unwrap();
    o.expire_due(T0 + 31 * DAY).unwrap();
    let ended = T0 + 30 * DAY;
    assert!(o.destructions_overdue(ended + 179 * DAY).is_empty());
    assert_eq!(o.destructions_overdue(ended + 180 * DAY), vec![id.clone()]);
    assert_eq!(o.notifications_overdue(ended + 90 * DAY), vec![id.clone()]);
    // A deferral needs an independent approver, a justification, and is
    // time-limited.
    assert!(o
        .defer_notification(
            &id,
            &pid("police-chief"),
            "ongoing",
            ended + 100 * DAY,
            ended + DAY
        )
        .is_err());
    assert!(o
        .defer_notification(&id, &pid("judge-dev"), " ", ended + 100 * DAY, ended + DAY)
        .is_err());
    assert!(o
        .defer_notification(
            &id,
            &pid("judge-dev"),
            "ongoing",
            ended + 182 * DAY,
            ended + DAY
        )
        .is_err());
    o.defer_notification(
        &id,
        &pid("judge-dev"),
        "co-suspects still at large",
        ended + 150 * DAY,
        ended + DAY,
    )
    .unwrap();
    assert!(o.notifications_overdue(ended + 149 * DAY).is_empty());
    assert_eq!(o.notifications_overdue(ended + 150 * DAY), vec![id.clone()]);
    o.notify(&id, ended + 150 * DAY).unwrap();
    assert!(o.notifications_overdue(ended + 400 * DAY).is_empty());
    assert!(o.notify(&id, ended + 151 * DAY).is_err(), "notified twice");
    o.destroy(&id, &pid("auditor-gus"), ended + 151 * DAY)
        .unwrap();
    assert!(o.destructions_overdue(ended + 400 * DAY).is_empty());
}

#[test]
fn nothing_changes_when_the_log_fails() {
    let mut o = workflow();
    let id = o.submit(request(TargetCategory::Suspect), T0).unwrap();
    o.log_mut().fail = true;
    assert!(matches!(
        o.approve(&id, &pid("judge-carla"), 10, T0 + 1),
        Err(OversightError::Log(_))
    ));
    let a = o.get(&id).unwrap();
    assert_eq!(
        (a.status, a.approvals.len(), a.log_indices.len()),
        (Status::AwaitingApproval, 0, 1)
    );
    o.log_mut().fail = false;
    assert_eq!(
        o.approve(&id, &pid("judge-carla"), 10, T0 + 2).unwrap(),
        Status::Active
    );
}

#[test]
fn incomplete_requests_are_refused() {
    let mut o = workflow();
    let mut r = request(TargetCategory::Suspect);
    r.assessment.alternatives.clear();
    assert!(
        matches!(o.submit(r, T0), Err(OversightError::InvalidRequest(m)) if m.contains("alternatives"))
    );
    let mut r = request(TargetCategory::Suspect);
    r.tool.export_licence = " ".into();
    assert!(
        matches!(o.submit(r, T0), Err(OversightError::InvalidRequest(m)) if m.contains("export_licence"))
    );
    let mut r = request(TargetCategory::Suspect);
    r.scope.geography.clear();
    assert!(o.submit(r, T0).is_err());
    assert!(o.log().entries.is_empty());
}
