//! SIGKILL during oversight writes: `vigil serve` is killed while
//! requests, approvals and accesses are in flight. After each restart every
//! acknowledged step is still there, the log and the database hold the
//! same entries, and each new checkpoint extends every earlier one.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use vigil_ledger::{Checkpoint, Note};

mod hubproc;
use hubproc::start;

fn vigil(dir: &Path, args: &[&str]) -> String {
    hubproc::vigil_ok(dir, args)
}

fn http(addr: &str, method: &str, path: &str, token: &str, body: Option<&str>) -> (u16, Value) {
    hubproc::json_call(addr, method, path, Some(token), body)
}

use hubproc::AUTHORISATION_REQUEST as REQUEST;

/// What the clients saw acknowledged.
#[derive(Default)]
struct Acked {
    /// Authorisation id and the statuses acknowledged for it.
    auths: Vec<(String, String)>,
    /// Log indices of acknowledged accesses, with their authorisation.
    accesses: Vec<(String, u64)>,
}

/// The entries the database records (`transparency_entries`).
fn load(dir: &Path) -> Vec<(i64, Vec<u8>)> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = dir.join("vigil-data/vigil.db");
        let o = vigil_store::oversight::SqliteOversight::open(&url).unwrap();
        use vigil_store::OversightStore as _;
        o.log_entries(0, i64::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.index, e.body))
            .collect()
    })
}

#[test]
fn sigkill_during_oversight_writes_keeps_log_and_database_in_step() {
    let dir = hubproc::temp_dir("oversight_crash");
    // The hubs started below publish a checkpoint every second.
    std::env::set_var("VIGIL_LOG_INTERVAL", "1");
    vigil(&dir, &["serve", "org", "Police", "--kind", "government"]);
    vigil(&dir, &["serve", "org", "Court", "--kind", "government"]);
    for (u, org) in [("olga", "Police"), ("otto", "Police"), ("judge", "Court")] {
        vigil(&dir, &["serve", "user", u, "--org", org]);
    }
    vigil(&dir, &["serve", "user", "root", "--role", "admin"]);
    let token = |u: &str| {
        vigil(&dir, &["serve", "token", u])
            .trim()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let (olga, otto, judge, root) = (token("olga"), token("otto"), token("judge"), token("root"));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut checkpoints: Vec<Vec<u8>> = Vec::new();
    for round in 0..4u64 {
        let hub = start(&dir);
        if round == 0 {
            for (u, r) in [
                ("olga", "requester"),
                ("otto", "operator"),
                ("judge", "approver"),
            ] {
                let body = format!(r#"{{"roles":["{r}"]}}"#);
                let (st, v) = http(
                    &hub.addr,
                    "PUT",
                    &format!("/oversight/v1/roles/{u}"),
                    &root,
                    Some(&body),
                );
                assert_eq!(st, 200, "{v}");
            }
        }
        // Everything acknowledged before this start is still there.
        {
            let a = acked.lock().unwrap();
            for (id, status) in &a.auths {
                let (st, v) = http(
                    &hub.addr,
                    "GET",
                    &format!("/oversight/v1/authorisations/{id}"),
                    &judge,
                    None,
                );
                assert_eq!(st, 200, "round {round}: acknowledged {id} lost: {v}");
                if status == "active" {
                    assert_eq!(v["status"], "active", "round {round}: {id}");
                }
                let logged: Vec<u64> = v["log"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["index"].as_u64().unwrap())
                    .collect();
                for (aid, idx) in &a.accesses {
                    if aid == id {
                        assert!(
                            logged.contains(idx),
                            "round {round}: access at {idx} of {id} lost"
                        );
                    }
                }
            }
        }
        // Writers: request, approve, access, as fast as they can.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut workers = Vec::new();
        for w in 0..2 {
            let (addr, olga, otto, judge) =
                (hub.addr.clone(), olga.clone(), otto.clone(), judge.clone());
            let (acked, stop) = (acked.clone(), stop.clone());
            workers.push(std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let (st, v) = http(
                        &addr,
                        "POST",
                        "/oversight/v1/authorisations",
                        &olga,
                        Some(REQUEST),
                    );
                    if st != 201 {
                        break;
                    }
                    let id = v["id"].as_str().unwrap().to_string();
                    acked
                        .lock()
                        .unwrap()
                        .auths
                        .push((id.clone(), "awaiting_approval".into()));
                    let (st, _) = http(
                        &addr,
                        "POST",
                        &format!("/oversight/v1/authorisations/{id}/approve"),
                        &judge,
                        Some(r#"{"duration_days": 10}"#),
                    );
                    if st != 200 {
                        break;
                    }
                    acked
                        .lock()
                        .unwrap()
                        .auths
                        .push((id.clone(), "active".into()));
                    let body = format!(
                        r#"{{"device_ref": "d{w}", "data_type": "location", "geography": "XX"}}"#
                    );
                    let (st, v) = http(
                        &addr,
                        "POST",
                        &format!("/oversight/v1/authorisations/{id}/access"),
                        &otto,
                        Some(&body),
                    );
                    if st != 200 {
                        break;
                    }
                    acked
                        .lock()
                        .unwrap()
                        .accesses
                        .push((id, v["log_index"].as_u64().unwrap()));
                }
            }));
        }
        // Let a checkpoint or two be published, then kill mid-write.
        std::thread::sleep(std::time::Duration::from_millis(1200 + 300 * round));
        if let Ok(r) = vigil_server::client::request(&hub.addr, "GET", "/log/checkpoint", &[], None)
        {
            if r.status == 200 {
                checkpoints.push(r.text().into_bytes());
            }
        }
        drop(hub); // SIGKILL
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
    }
    // A last start reconciles; then the log and the database agree entry
    // for entry, and the latest checkpoint extends every earlier one.
    let hub = start(&dir);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let r = vigil_server::client::request(&hub.addr, "GET", "/log/checkpoint", &[], None).unwrap();
    let latest = r.text().into_bytes();
    drop(hub);
    let rows = load(&dir);
    let mut reader = vigil_tlog::LogReader::open(&dir.join("vigil-data/log")).unwrap();
    assert_eq!(
        rows.len() as u64,
        reader.size(),
        "every log entry has its database row"
    );
    for (i, (idx, body)) in rows.iter().enumerate() {
        assert_eq!(*idx, i as i64);
        assert_eq!(&reader.entry(i as u64).unwrap(), body, "entry {i}");
    }
    let a = acked.lock().unwrap();
    assert!(
        a.accesses.len() >= 4,
        "the writers got some work acknowledged"
    );
    let new = Checkpoint::parse(Note::parse(&latest).unwrap().text()).unwrap();
    assert!(checkpoints.len() >= 2);
    for old in &checkpoints {
        let old = Checkpoint::parse(Note::parse(old).unwrap().text()).unwrap();
        reader
            .prove_consistency(old.size, new.size)
            .unwrap()
            .verify(&old.root, &new.root)
            .unwrap_or_else(|e| panic!("checkpoint {} -> {}: {e}", old.size, new.size));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
