//! The oversight API over the hub's transparency log: the workflow from
//! request to transparency report, the database rows pointing at their log
//! entries and checkpoints, restart, and the authorisation matrix of every
//! endpoint and role — on SQLite and PostgreSQL.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;
use vigil_ledger::note::ALG_ED25519;
use vigil_ledger::{Checkpoint, Note, Signer};
use vigil_oversight::Policy;
use vigil_server::tlog::{LogConfig, TransparencyLog};
use vigil_server::{AppState, HubConfig};
use vigil_store::oversight::{OversightStore, PgOversight, SqliteOversight};
use vigil_store::{OrgKind, Role, Store};

const DAY: u64 = 86_400;
const T0: u64 = 1_800_000_000;

struct Hub {
    app: Router,
    log: Arc<TransparencyLog>,
    ostore: Arc<dyn OversightStore>,
    clock: Arc<AtomicU64>,
    tokens: std::collections::BTreeMap<&'static str, String>,
    dir: std::path::PathBuf,
    store: Arc<dyn Store>,
    signer: Signer,
}

fn unique(p: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{p}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Stores for one test: SQLite in a temporary folder, or PostgreSQL in a
/// fresh schema (None when no test database is configured).
async fn stores(pg: bool) -> Option<(Arc<dyn Store>, Arc<dyn OversightStore>, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(unique("vigil_oversight_hub"));
    std::fs::create_dir_all(&dir).unwrap();
    if pg {
        let url = vigil_testkit::postgres_url()?;
        let schema = unique("ov");
        let s = vigil_store::PgStore::connect(&url, Some(&schema))
            .await
            .unwrap();
        s.migrate().await.unwrap();
        let o = PgOversight::connect(&url, Some(&schema)).await.unwrap();
        Some((Arc::new(s), Arc::new(o), dir))
    } else {
        let path = dir.join("hub.db");
        let s = vigil_store::SqliteStore::open(&path).await.unwrap();
        s.migrate().await.unwrap();
        Some((
            Arc::new(s),
            Arc::new(SqliteOversight::open(&path).unwrap()),
            dir,
        ))
    }
}

async fn open_log(
    store: &Arc<dyn Store>,
    ostore: &Arc<dyn OversightStore>,
    dir: &std::path::Path,
    signer: &Signer,
    clock: &Arc<AtomicU64>,
) -> (Router, Arc<TransparencyLog>) {
    let c = clock.clone();
    let log = TransparencyLog::open(
        store.as_ref(),
        ostore.clone(),
        LogConfig {
            dir: dir.join("log"),
            signer: signer.clone(),
            witnesses: Vec::new(),
            quorum: 0,
            policy: Policy::default(),
            witness: None,
            clock: Arc::new(move || c.load(Ordering::SeqCst)),
        },
    )
    .await
    .unwrap();
    let state = AppState::new(store.clone(), HubConfig::default())
        .await
        .unwrap()
        .with_transparency(log.clone());
    (vigil_server::router(state), log)
}

/// A hub with organisations Police (agency), Court (authority), Audit, and
/// one user per role: olga requester, jan and kim approvers, otto operator,
/// ada auditor; rita a plain reader, root the admin.
async fn hub(pg: bool) -> Option<Hub> {
    let (store, ostore, dir) = stores(pg).await?;
    let police = store
        .create_org("Police", OrgKind::Government)
        .await
        .unwrap();
    let court = store
        .create_org("Court", OrgKind::Government)
        .await
        .unwrap();
    let audit = store
        .create_org("Audit", OrgKind::Government)
        .await
        .unwrap();
    let mut tokens = std::collections::BTreeMap::new();
    for (name, org, role, oversight) in [
        ("olga", Some(police.id), Role::Reader, Some("requester")),
        ("otto", Some(police.id), Role::Reader, Some("operator")),
        ("jan", Some(court.id), Role::Reader, Some("approver")),
        ("kim", Some(court.id), Role::Reader, Some("approver")),
        ("ada", Some(audit.id), Role::Reader, Some("auditor")),
        ("rita", Some(police.id), Role::Reader, None),
        ("root", None, Role::Admin, None),
    ] {
        let u = store.create_user(name, org, role).await.unwrap();
        if let Some(r) = oversight {
            ostore.set_oversight_roles(u.id, &[r.into()]).await.unwrap();
        }
        let (_, tok) = vigil_server::admin::issue_token(store.as_ref(), u.id, "t", None)
            .await
            .unwrap();
        tokens.insert(name, tok);
    }
    let signer = Signer::generate("test.example/log", ALG_ED25519).unwrap();
    let clock = Arc::new(AtomicU64::new(T0));
    let (app, log) = open_log(&store, &ostore, &dir, &signer, &clock).await;
    Some(Hub {
        app,
        log,
        ostore,
        clock,
        tokens,
        dir,
        store,
        signer,
    })
}

impl Hub {
    async fn call(
        &self,
        who: &str,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = self.tokens.get(who) {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let req = b
            .body(
                body.map(|v| Body::from(v.to_string()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, v)
    }

    async fn submit(&self, category: &str) -> String {
        let (st, v) = self
            .call(
                "olga",
                Method::POST,
                "/oversight/v1/authorisations",
                Some(request(category)),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn step(&self, who: &str, id: &str, step: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            who,
            Method::POST,
            &format!("/oversight/v1/authorisations/{id}/{step}"),
            Some(body),
        )
        .await
    }

    fn advance(&self, secs: u64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }
}

fn request(category: &str) -> Value {
    json!({
        "tool": {"registry_id": "malware--0a5b5a3c-7a43-4bd1-9f1f-4d4c7e7f2f1e",
                 "vendor_id": "identity--6b2c8a1e-1d2f-4a5b-9c3d-7e8f9a0b1c2d",
                 "product": "Pegasus", "export_licence": "IL-2025-0042"},
        "legal_basis": {"jurisdiction": "XX", "instrument": "Code of Criminal Procedure", "provision": "Art. 100b"},
        "purpose": "Locate kidnapping suspects", "offence_category": "kidnapping",
        "target_category": category, "target_ref": "case-117/person-3",
        "scope": {"max_devices": 1, "data_types": ["location"], "geography": ["XX"]},
        "assessment": {"necessity": "Ransom calls only", "proportionality": "Life at risk",
                       "alternatives": [{"means": "Cell-site data", "why_rejected": "Too coarse"}],
                       "collateral_intrusion": "Household members"},
        "duration_days": 30
    })
}

fn access(data_type: &str) -> Value {
    json!({"device_ref": "imei-356938035643809", "data_type": data_type, "geography": "XX"})
}

async fn workflow(h: Hub) {
    // Request, approval, a granted and a refused access.
    let id = h.submit("suspect").await;
    h.advance(60);
    let (st, v) = h
        .step("olga", &id, "approve", json!({"duration_days": 20}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "requester cannot approve: {v}");
    let (st, v) = h
        .step("jan", &id, "approve", json!({"duration_days": 20}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "active");
    assert_eq!(v["valid_until"], json!(T0 + 60 + 20 * DAY));
    let (st, v) = h.step("otto", &id, "access", access("location")).await;
    assert_eq!(
        (st, v["granted"].clone()),
        (StatusCode::OK, json!(true)),
        "{v}"
    );
    let (st, v) = h.step("otto", &id, "access", access("messages")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v["granted"], json!(false));
    assert!(v["reason"].as_str().unwrap().contains("messages"), "{v}");
    let refused_at = v["log_index"].as_u64().unwrap();
    // Access citing an authorisation that does not exist: refused, logged.
    let (st, v) = h
        .step("otto", "A-999999", "access", access("location"))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v["log_index"], json!(refused_at + 1));

    // Double lock for a journalist: two different approvers.
    let sens = h.submit("journalist").await;
    let (_, v) = h
        .step("jan", &sens, "approve", json!({"duration_days": 10}))
        .await;
    assert_eq!(v["status"], "awaiting_second_approval");
    let (st, _) = h
        .step("jan", &sens, "approve", json!({"duration_days": 10}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, v) = h
        .step("kim", &sens, "approve", json!({"duration_days": 10}))
        .await;
    assert_eq!(v["status"], "active");

    // Publish: every row's entries now point at the covering checkpoint,
    // and the log entries are the database's, byte for byte.
    let size = h.log.publish().await.unwrap().unwrap();
    let (_, a) = h
        .call(
            "ada",
            Method::GET,
            &format!("/oversight/v1/authorisations/{id}"),
            None,
        )
        .await;
    let log = a["log"].as_array().unwrap();
    assert_eq!(log.len(), 4, "{a}");
    assert!(log
        .iter()
        .all(|e| e["checkpoint_size"] == json!(size) && e["applied"] == json!(true)));
    let mut r = h.log.log().reader();
    for e in h.ostore.log_entries(0, size as i64).await.unwrap() {
        assert_eq!(r.entry(e.index as u64).unwrap(), e.body);
    }
    // No personal data on the log.
    for i in 0..size {
        let text = String::from_utf8(r.entry(i).unwrap()).unwrap();
        for secret in ["olga", "otto", "jan", "imei-356938035643809", "case-117"] {
            assert!(!text.contains(secret), "entry {i} leaks {secret}: {text}");
        }
    }

    // The public report, from the signed checkpoint.
    let (st, rep) = h.call("", Method::GET, "/oversight/v1/report", None).await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    assert_eq!(rep["checkpoint_size"], json!(size));
    assert_eq!(rep["requests"], json!(2));
    assert_eq!(rep["double_lock_requests"], json!(1));

    // Expiry: hard, then retention and notification.
    h.advance(21 * DAY);
    let (st, v) = h.step("otto", &id, "access", access("location")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = h
        .call("ada", Method::POST, "/oversight/v1/expire", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["expired"], json!([id.clone(), sens.clone()]));
    let (st, v) = h.step("ada", &id, "destroy", json!({})).await;
    assert_eq!(
        (st, v["status"].clone()),
        (StatusCode::OK, json!("expired"))
    );
    let (st, _) = h.step("jan", &id, "notify", json!({})).await;
    assert_eq!(st, StatusCode::OK);

    // Restart: the same rows, the same log, numbering goes on, and the
    // next checkpoint extends the earlier one.
    let old_cp = h.log.log().checkpoint().unwrap().unwrap();
    drop(h.app);
    drop(h.log);
    let (app, log) = open_log(&h.store, &h.ostore, &h.dir, &h.signer, &h.clock).await;
    let h = Hub { app, log, ..h };
    let (_, a) = h
        .call(
            "ada",
            Method::GET,
            &format!("/oversight/v1/authorisations/{id}"),
            None,
        )
        .await;
    assert_eq!(a["status"], "expired");
    assert!(a["destroyed_at"].is_number() && a["notified_at"].is_number());
    let third = h.submit("suspect").await;
    assert_eq!(third, "A-000003");
    let new_size = h.log.publish().await.unwrap().unwrap();
    let old = Checkpoint::parse(Note::parse(&old_cp).unwrap().text()).unwrap();
    let new_note = h.log.log().checkpoint().unwrap().unwrap();
    let new = Checkpoint::parse(Note::parse(&new_note).unwrap().text()).unwrap();
    assert_eq!(new.size, new_size);
    h.log
        .log()
        .reader()
        .prove_consistency(old.size, new.size)
        .unwrap()
        .verify(&old.root, &new.root)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_sqlite() {
    workflow(hub(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_postgres() {
    if let Some(h) = hub(true).await {
        workflow(h).await;
    }
}

const EVERYONE: [&str; 7] = ["", "rita", "root", "olga", "jan", "otto", "ada"];

/// Checks that everyone but `allowed` is refused (401 anonymous, 403
/// otherwise), then that `allowed` get `ok`: all of them for a read, the
/// first for a change (after it, the others may meet a changed state).
async fn only(
    h: &Hub,
    allowed: &[&str],
    ok: StatusCode,
    method: Method,
    uri: &str,
    body: Option<Value>,
) {
    for who in EVERYONE.iter().filter(|w| !allowed.contains(w)) {
        let (st, v) = h.call(who, method.clone(), uri, body.clone()).await;
        let want = if who.is_empty() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(st, want, "{method} {uri} as {who:?}: {v}");
    }
    let n = if method == Method::GET {
        allowed.len()
    } else {
        1
    };
    for who in &allowed[..n] {
        let (st, v) = h.call(who, method.clone(), uri, body.clone()).await;
        assert_eq!(st, ok, "{method} {uri} as {who:?}: {v}");
    }
}

async fn matrix(h: Hub) {
    use Method as M;
    let ok = StatusCode::OK;
    let base = "/oversight/v1/authorisations";
    only(
        &h,
        &["root", "ada"],
        ok,
        M::GET,
        "/oversight/v1/roles",
        None,
    )
    .await;
    only(
        &h,
        &["root"],
        ok,
        M::PUT,
        "/oversight/v1/roles/kim",
        Some(json!({"roles": ["approver"]})),
    )
    .await;
    only(
        &h,
        &["olga"],
        StatusCode::CREATED,
        M::POST,
        base,
        Some(request("suspect")),
    )
    .await;
    let id = "A-000001";
    only(&h, &["olga", "jan", "otto", "ada"], ok, M::GET, base, None).await;
    only(
        &h,
        &["olga", "jan", "otto", "ada"],
        ok,
        M::GET,
        &format!("{base}/{id}"),
        None,
    )
    .await;
    only(
        &h,
        &["jan"],
        ok,
        M::POST,
        &format!("{base}/{id}/approve"),
        Some(json!({"duration_days": 5})),
    )
    .await;
    // Access: only an operator is granted; every other caller with a role
    // is refused *and logged*.
    only(
        &h,
        &["otto"],
        ok,
        M::POST,
        &format!("{base}/{id}/access"),
        Some(access("location")),
    )
    .await;
    only(&h, &["olga"], StatusCode::CREATED, M::POST, &format!("{base}/{id}/renew"),
        Some(json!({"duration_days": 5, "assessment": {"necessity": "Still needed", "proportionality": "Yes",
            "alternatives": [{"means": "Informants", "why_rejected": "None available"}], "collateral_intrusion": "Low"}}))).await;
    only(
        &h,
        &["ada"],
        ok,
        M::POST,
        &format!("{base}/{id}/review"),
        Some(json!({"compliant": true})),
    )
    .await;
    only(&h, &["jan", "ada"], ok, M::GET, "/oversight/v1/due", None).await;
    only(
        &h,
        &["jan", "ada"],
        ok,
        M::POST,
        "/oversight/v1/expire",
        None,
    )
    .await;
    only(
        &h,
        &["ada", "jan"],
        ok,
        M::POST,
        &format!("{base}/{id}/revoke"),
        None,
    )
    .await;
    only(
        &h,
        &["otto", "ada"],
        ok,
        M::POST,
        &format!("{base}/{id}/destroy"),
        None,
    )
    .await;
    only(&h, &["jan"], ok, M::POST, &format!("{base}/{id}/defer-notification"),
        Some(json!({"justification": "Ongoing investigation of accomplices", "until": T0 + 30 * DAY}))).await;
    only(
        &h,
        &["ada", "jan"],
        ok,
        M::POST,
        &format!("{base}/{id}/notify"),
        None,
    )
    .await;
    only(
        &h,
        &["jan", "ada"],
        ok,
        M::POST,
        &format!("{base}/{id}/complaint"),
        Some(json!({"reference": "C-1"})),
    )
    .await;
    only(
        &h,
        &["ada", "jan"],
        ok,
        M::POST,
        &format!("{base}/{id}/remedy"),
        Some(json!({"reference": "C-1", "upheld": false})),
    )
    .await;
    let second = h.submit("suspect").await;
    only(
        &h,
        &["jan"],
        ok,
        M::POST,
        &format!("{base}/{second}/refuse"),
        None,
    )
    .await;
    // Public: log information and, once published, the report.
    h.log.publish().await.unwrap();
    only(&h, &EVERYONE, ok, M::GET, "/oversight/v1/log", None).await;
    only(
        &h,
        &EVERYONE,
        ok,
        M::GET,
        "/oversight/v1/report?format=text",
        None,
    )
    .await;
    // Every refused access attempt is on the log.
    let (_, rep) = h.call("", M::GET, "/oversight/v1/report", None).await;
    assert_eq!(rep["accesses_granted"], json!(1), "{rep}");
    assert_eq!(rep["accesses_refused"], json!(3), "{rep}");
    // The admin's role change is on the log as an admin action.
    assert!(rep.to_string().contains("admin_change"), "{rep}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_and_role_sqlite() {
    matrix(hub(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_and_role_postgres() {
    if let Some(h) = hub(true).await {
        matrix(h).await;
    }
}

/// An entry on the log whose database write never happened (a crash
/// between the two) is recorded as not applied on the next start, and its
/// authorisation number is not reused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_without_their_row_are_reconciled() {
    let h = hub(false).await.unwrap();
    let id = h.submit("suspect").await;
    assert_eq!(id, "A-000001");
    let orphan = br#"{"v":1,"at":1800000100,"event":"requested","auth":"A-000002","agency":"Police","requester":"00","tool":"t","offence_category":"x","target_category":"suspect","sensitive":false,"duration_days":1,"max_devices":1,"renewal_of":null}"#;
    let idx = h.log.log().append(orphan.to_vec()).unwrap();
    drop(h.app);
    drop(h.log);
    let (app, log) = open_log(&h.store, &h.ostore, &h.dir, &h.signer, &h.clock).await;
    let h = Hub { app, log, ..h };
    // The orphan's time counts: nothing may be dated before it.
    h.advance(200);
    let rows = h
        .ostore
        .log_entries(idx as i64, idx as i64 + 1)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].applied);
    assert_eq!(rows[0].body, orphan.to_vec());
    assert_eq!(h.submit("suspect").await, "A-000003");
    // Database and log hold the same entries.
    let size = h.log.log().size();
    assert_eq!(
        h.ostore.log_entries(0, size as i64).await.unwrap().len() as u64,
        size
    );
}

/// Objects stored as TLP:RED are on the log as TLP:RED releases, before
/// they are stored; other objects are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_releases_are_logged() {
    let h = hub(false).await.unwrap();
    let c = h
        .store
        .create_collection(&vigil_store::NewCollection {
            id: vigil_server::bootstrap::new_collection_id(),
            alias: Some("cases".into()),
            title: "Cases".into(),
            description: String::new(),
            public: false,
            owner_org: None,
        })
        .await
        .unwrap();
    let before = h.log.log().size();
    let obj = |n: u32, marking: &str| {
        json!({"type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--00000000-0000-4000-8000-00000000000{n}"),
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "pattern": "[domain-name:value = 'c2.example']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00.000Z", "object_marking_refs": [marking]})
    };
    let envelope = json!({"objects": [
        obj(1, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
        obj(2, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
    ]});
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/collections/{}/objects/", c.id))
        .header("authorization", format!("Bearer {}", h.tokens["root"]))
        .header("content-type", "application/taxii+json;version=2.1")
        .header("accept", "application/taxii+json;version=2.1")
        .body(Body::from(envelope.to_string()))
        .unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let rows = h.ostore.log_entries(before as i64, i64::MAX).await.unwrap();
    let red: Vec<_> = rows
        .iter()
        .filter(|e| String::from_utf8_lossy(&e.body).contains("tlp_red_release"))
        .collect();
    assert_eq!(red.len(), 1, "one RED object, one release entry");
    let expected = h.log.pseudonym(
        "subject",
        &format!("{}/indicator--00000000-0000-4000-8000-000000000001", c.id),
    );
    assert!(String::from_utf8_lossy(&red[0].body).contains(&expected));
}

/// Creates a private collection `cases` and stores one TLP:RED and one
/// TLP:GREEN indicator in it through `app` as root; returns the collection
/// id and the RED object's id.
async fn red_and_green(h: &Hub, app: &Router) -> (String, String) {
    let c = h
        .store
        .create_collection(&vigil_store::NewCollection {
            id: vigil_server::bootstrap::new_collection_id(),
            alias: None,
            title: "Cases".into(),
            description: String::new(),
            public: false,
            owner_org: None,
        })
        .await
        .unwrap();
    let obj = |n: u32, marking: &str| {
        json!({"type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--00000000-0000-4000-8000-00000000000{n}"),
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "pattern": "[domain-name:value = 'c2.example']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00.000Z", "object_marking_refs": [marking]})
    };
    let envelope = json!({"objects": [
        obj(1, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
        obj(2, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
    ]});
    let (status, _) = taxii(
        h,
        app,
        Method::POST,
        &format!("/api/collections/{}/objects/", c.id),
        Some(envelope),
    )
    .await;
    assert!(status.is_success(), "{status}");
    (
        c.id,
        "indicator--00000000-0000-4000-8000-000000000001".to_string(),
    )
}

/// A TAXII or REST call as root through `app`; returns status and body text.
async fn taxii(
    h: &Hub,
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", h.tokens["root"]))
        .header("accept", "application/taxii+json;version=2.1");
    if body.is_some() {
        b = b.header("content-type", "application/taxii+json;version=2.1");
    }
    let req = b
        .body(
            body.map(|v| Body::from(v.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The TLP:RED release entries recorded from log index `from` on.
async fn red_entries(h: &Hub, from: u64) -> Vec<vigil_store::oversight::LogEntryRow> {
    h.ostore
        .log_entries(from as i64, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| String::from_utf8_lossy(&e.body).contains("tlp_red_release"))
        .collect()
}

/// Reading TLP:RED objects over TAXII (a page, one object) and exporting
/// them puts a TLP:RED release on the log for the reader, with salted
/// hashes of the user and the object only; reads of other objects do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_reads_and_exports_are_logged() {
    let h = hub(false).await.unwrap();
    let (cid, red) = red_and_green(&h, &h.app).await;
    let subject = h.log.pseudonym("subject", &format!("{cid}/{red}"));
    let actor = h.log.pseudonym("person", "root");
    let check = |rows: &[vigil_store::oversight::LogEntryRow], what: &str| {
        assert_eq!(rows.len(), 1, "{what}: one RED object, one entry");
        let body = String::from_utf8_lossy(&rows[0].body).into_owned();
        assert!(
            body.contains(&subject) && body.contains(&actor),
            "{what}: {body}"
        );
        assert!(
            !body.contains("root") && !body.contains(&red),
            "{what}: plaintext in {body}"
        );
    };
    for (what, uri) in [
        ("page", format!("/api/collections/{cid}/objects/")),
        ("object", format!("/api/collections/{cid}/objects/{red}/")),
        (
            "export",
            format!("/rest/v1/export?format=stix&collection={cid}"),
        ),
        (
            "indicator export",
            format!("/rest/v1/export?format=csv&collection={cid}"),
        ),
    ] {
        let before = h.log.log().size();
        let (status, body) = taxii(&h, &h.app, Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        assert!(body.contains("c2.example"), "{what}: {body}");
        check(&red_entries(&h, before).await, what);
    }
    // Only the GREEN object: nothing logged.
    let before = h.log.log().size();
    let green = "indicator--00000000-0000-4000-8000-000000000002";
    let (status, _) = taxii(
        &h,
        &h.app,
        Method::GET,
        &format!("/api/collections/{cid}/objects/{green}/"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(red_entries(&h, before).await.is_empty());
}

/// A replica without the log (same database) queues its logged actions;
/// the replica holding the log appends them in order, exactly once, and
/// each queue row gets its log index. Claims that never reached the log
/// are released on restart, claims that did are recorded as applied.
async fn replica_queues_for_the_holder(h: Hub) {
    let q = vigil_server::tlog::LogQueue::open(h.store.as_ref(), h.ostore.clone(), Arc::new(|| T0))
        .await
        .unwrap();
    let replica = vigil_server::router(
        AppState::new(h.store.clone(), HubConfig::default())
            .await
            .unwrap()
            .with_log_queue(Arc::new(q)),
    );
    let before = h.log.log().size();
    let (cid, red) = red_and_green(&h, &replica).await;
    let (status, _) = taxii(
        &h,
        &replica,
        Method::GET,
        &format!("/api/collections/{cid}/objects/{red}/"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = taxii(
        &h,
        &replica,
        Method::POST,
        "/admin/v1/orgs",
        Some(json!({"name": "Ombudsman", "kind": "government"})),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    // Nothing on the log yet: three entries wait in the queue.
    assert_eq!(h.log.log().size(), before);
    let queued = h.ostore.queued(100).await.unwrap();
    assert_eq!(queued.len(), 3);
    assert_eq!(h.log.drain_queue().await.unwrap(), 3);
    assert_eq!(h.log.drain_queue().await.unwrap(), 0, "each entry once");
    let size = h.log.log().size();
    assert_eq!(size, before + 3);
    let mut reader = h.log.log().reader();
    let rows = h
        .ostore
        .log_entries(before as i64, size as i64)
        .await
        .unwrap();
    for (k, (id, body)) in queued.iter().enumerate() {
        let index = before + k as u64;
        assert_eq!(&reader.entry(index).unwrap(), body, "queue order");
        assert_eq!(h.ostore.queue_index(*id).await.unwrap(), Some(index as i64));
        assert!(rows[k].applied && rows[k].index == index as i64);
    }
    let subject = h.log.pseudonym("subject", &format!("{cid}/{red}"));
    let bodies: Vec<String> = queued
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        bodies[0].contains("tlp_red_release") && bodies[0].contains(&subject),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[1].contains("tlp_red_release") && bodies[1].contains(&subject),
        "{}",
        bodies[1]
    );
    assert!(bodies[2].contains("admin_change"), "{}", bodies[2]);

    // A crash after claiming: one claim reached the log, one did not.
    let ids = h
        .ostore
        .enqueue(
            &[
                b"{\"v\":1,\"at\":1,\"event\":\"x1\"}".to_vec(),
                b"{\"v\":1,\"at\":1,\"event\":\"x2\"}".to_vec(),
            ],
            1,
        )
        .await
        .unwrap();
    h.ostore
        .claim(&[(ids[0], size as i64), (ids[1], size as i64 + 1)])
        .await
        .unwrap();
    h.log
        .log()
        .append(b"{\"v\":1,\"at\":1,\"event\":\"x1\"}".to_vec())
        .unwrap();
    drop(h.app);
    drop(h.log);
    drop(reader);
    let (app, log) = open_log(&h.store, &h.ostore, &h.dir, &h.signer, &h.clock).await;
    let h = Hub { app, log, ..h };
    let row = &h
        .ostore
        .log_entries(size as i64, size as i64 + 1)
        .await
        .unwrap()[0];
    assert!(
        row.applied,
        "a queued entry that reached the log took effect"
    );
    assert_eq!(
        h.ostore.queue_index(ids[1]).await.unwrap(),
        None,
        "released"
    );
    assert_eq!(h.log.drain_queue().await.unwrap(), 1);
    assert_eq!(
        h.ostore.queue_index(ids[1]).await.unwrap(),
        Some(size as i64 + 1)
    );
    let end = h.log.log().size();
    assert_eq!(end, size + 2);
    assert_eq!(
        h.ostore.log_entries(0, end as i64).await.unwrap().len() as u64,
        end,
        "database and log hold the same entries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_queues_for_the_holder_sqlite() {
    replica_queues_for_the_holder(hub(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_queues_for_the_holder_postgres() {
    if let Some(h) = hub(true).await {
        replica_queues_for_the_holder(h).await;
    }
}
