//! The oversight API on every replica: two `vigil serve` processes on one
//! database, one holding the transparency log and one started with
//! `--no-log`. Every step taken through either replica is checked against
//! the same workflow, is on the one log under a published checkpoint, and
//! reads back the same from both; callers are authenticated and authorised
//! the same way on both; without the holder the replica changes nothing.

use serde_json::Value;
use std::path::Path;

mod hubproc;
use hubproc::json_call as http;

/// The database: a schema of its own in the test PostgreSQL when there is
/// one (as replicas are deployed), else an SQLite file in `dir`.
fn shared_database(dir: &Path) -> String {
    let Some(url) = vigil_testkit::postgres_url() else {
        return dir.join("hub.db").to_str().unwrap().to_string();
    };
    hubproc::pg_schema_url(&url, &format!("oversight_replicas_{}", std::process::id()))
}

use hubproc::AUTHORISATION_REQUEST as REQUEST;

#[test]
fn oversight_api_answers_on_every_replica() {
    let dir = hubproc::temp_dir("oversight_replicas");
    let db = shared_database(&dir);
    let holder_dir = dir.join("holder");
    let holder_data = holder_dir.to_str().unwrap();
    let admin = |args: &[&str]| {
        let mut all = vec!["serve", "--database", &db, "--data-dir", holder_data];
        all.extend_from_slice(args);
        hubproc::vigil_ok(&dir, &all)
    };
    admin(&["org", "Police", "--kind", "government"]);
    admin(&["org", "Court", "--kind", "government"]);
    for (u, org) in [("olga", "Police"), ("otto", "Police"), ("judge", "Court")] {
        admin(&["user", u, "--org", org]);
    }
    admin(&["user", "root", "--role", "admin"]);
    let token = |u: &str| {
        admin(&["token", u])
            .trim()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let (olga, otto, judge, root) = (token("olga"), token("otto"), token("judge"), token("root"));
    let holder = hubproc::launch(
        &dir,
        &[
            "--database",
            &db,
            "--data-dir",
            holder_data,
            "--no-registry",
            "--log-interval",
            "1",
        ],
    );
    let replica_data = dir.join("replica");
    let mut replica = hubproc::launch(
        &dir,
        &[
            "--database",
            &db,
            "--data-dir",
            replica_data.to_str().unwrap(),
            "--no-registry",
            "--no-log",
        ],
    );
    let (h, r) = (holder.addr.as_str(), replica.addr.as_str());

    // Roles are given through the replica, by an admin only.
    for (u, role) in [
        ("olga", "requester"),
        ("otto", "operator"),
        ("judge", "approver"),
    ] {
        let body = format!(r#"{{"roles":["{role}"]}}"#);
        let path = format!("/oversight/v1/roles/{u}");
        assert_eq!(http(r, "PUT", &path, Some(&olga), Some(&body)).0, 403);
        let (st, v) = http(r, "PUT", &path, Some(&root), Some(&body));
        assert_eq!(st, 200, "{v}");
    }
    // The same authorisation answers on both replicas.
    for addr in [h, r] {
        assert_eq!(
            http(addr, "GET", "/oversight/v1/authorisations", None, None).0,
            401
        );
        assert_eq!(
            http(addr, "GET", "/oversight/v1/roles", Some(&otto), None).0,
            403
        );
        let (st, v) = http(addr, "GET", "/oversight/v1/roles", Some(&root), None);
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["people"].as_array().unwrap().len(), 3, "{v}");
    }

    // Request, approval and access, each through the replica.
    let (st, v) = http(
        r,
        "POST",
        "/oversight/v1/authorisations",
        Some(&olga),
        Some(REQUEST),
    );
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["status"], "awaiting_approval", "{v}");
    // Separation of duties is the workflow's, wherever the call arrives.
    let approve = format!("/oversight/v1/authorisations/{id}/approve");
    let (st, v) = http(
        r,
        "POST",
        &approve,
        Some(&olga),
        Some(r#"{"duration_days":30}"#),
    );
    assert_eq!(st, 403, "{v}");
    let (st, v) = http(
        r,
        "POST",
        &approve,
        Some(&judge),
        Some(r#"{"duration_days":30}"#),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "active", "{v}");
    let access = format!("/oversight/v1/authorisations/{id}/access");
    let (st, granted) = http(
        r,
        "POST",
        &access,
        Some(&otto),
        Some(r#"{"device_ref":"dev-1","data_type":"location","geography":"XX"}"#),
    );
    assert_eq!(st, 200, "{granted}");
    assert_eq!(granted["granted"], true);
    // An access outside the scope, on the holder, is refused and logged
    // after the replica's, in the same sequence.
    let (st, refused) = http(
        h,
        "POST",
        &access,
        Some(&otto),
        Some(r#"{"device_ref":"dev-2","data_type":"location","geography":"YY"}"#),
    );
    assert_eq!(st, 403, "{refused}");
    let (gi, ri) = (
        granted["log_index"].as_u64().unwrap(),
        refused["log_index"].as_u64().unwrap(),
    );
    assert!(ri > gi, "{granted} {refused}");
    let one = format!("/oversight/v1/authorisations/{id}");
    let (st, on_holder) = http(h, "GET", &one, Some(&judge), None);
    assert_eq!(st, 200, "{on_holder}");
    let (st, on_replica) = http(r, "GET", &one, Some(&judge), None);
    assert_eq!(st, 200, "{on_replica}");
    assert_eq!(on_holder["log"], on_replica["log"]);
    assert_eq!(on_holder["status"], on_replica["status"]);
    let events: Vec<&str> = on_holder["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["requested", "approved", "access", "access"],
        "{on_holder}"
    );

    // Every step is on the one log, under a checkpoint the replica serves.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let info = loop {
        let (st, info) = http(r, "GET", "/oversight/v1/log", None, None);
        assert_eq!(st, 200, "{info}");
        let covered = info["checkpoint"]
            .as_str()
            .and_then(|c| c.lines().nth(1)?.parse::<u64>().ok())
            .is_some_and(|n| n > ri);
        if covered {
            break info;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not published: {info}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let key = vigil_ledger::Verifier::parse(info["verifier_key"].as_str().unwrap()).unwrap();
    let cp = vigil_ledger::verify_checkpoint(
        info["checkpoint"].as_str().unwrap().as_bytes(),
        &key,
        &[],
        0,
    )
    .unwrap();
    let size = cp.checkpoint().size;
    let mut reader = vigil_tlog::LogReader::open(&holder_dir.join("log")).unwrap();
    for (index, granted) in [(gi, true), (ri, false)] {
        let entry = reader.entry(index).unwrap();
        reader
            .prove_inclusion(index, size)
            .unwrap()
            .verify(&vigil_ledger::leaf_hash(&entry), &cp.checkpoint().root)
            .unwrap();
        let v: Value = serde_json::from_slice(&entry).unwrap();
        assert_eq!(v["event"], "access", "{v}");
        assert_eq!(v["auth"], id.as_str(), "{v}");
        assert_eq!(v["granted"], granted, "{v}");
        let text = String::from_utf8_lossy(&entry);
        assert!(!text.contains("otto") && !text.contains("dev-"), "{text}");
    }

    // Without the holder, the replica refuses oversight steps and records
    // nothing; the rest of the hub still answers.
    drop(holder);
    let (st, v) = http(
        r,
        "POST",
        "/oversight/v1/authorisations",
        Some(&olga),
        Some(REQUEST),
    );
    assert_eq!(st, 503, "{v}");
    let (st, _) = http(r, "GET", "/rest/v1/whoami", Some(&olga), None);
    assert_eq!(st, 200);
    replica.sigkill();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ostore = rt.block_on(vigil_store::open_oversight(&db)).unwrap();
    let rows = rt.block_on(ostore.authorisations()).unwrap();
    assert_eq!(rows.len(), 1, "only the one authorisation");
}
