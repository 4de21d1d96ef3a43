//! End-to-end tests of `vigil serve`: zero-configuration start, the admin
//! commands, interoperability with the OASIS taxii2-client, and durability of
//! acknowledged writes across SIGKILL.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

mod hubproc;
use hubproc::{launch as start, temp_dir};

/// One request to the hub; returns the status and body text.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Accept", "application/taxii+json;version=2.1")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    if body.is_some() {
        headers.push(("Content-Type", "application/taxii+json;version=2.1"));
    }
    match vigil_server::client::request(addr, method, path, &headers, body.map(str::as_bytes)) {
        Ok(r) => (r.status, r.text()),
        Err(e) => (0, e.to_string()),
    }
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Every object id of a collection, following `next`.
fn all_ids(addr: &str, token: Option<&str>, cid: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(n) => format!("/api/collections/{cid}/objects/?limit=5000&next={n}"),
            None => format!("/api/collections/{cid}/objects/?limit=5000"),
        };
        let (status, body) = http(addr, "GET", &path, token, None);
        assert_eq!(status, 200, "{body}");
        let j = json_of(&body);
        if let Some(objs) = j["objects"].as_array() {
            ids.extend(
                objs.iter()
                    .filter_map(|o| o["id"].as_str().map(String::from)),
            );
        }
        if j["more"] != true {
            return ids;
        }
        next = j["next"].as_str().map(String::from);
    }
}

#[test]
fn zero_config_start_loads_the_registry_once() {
    let dir = temp_dir("zero");
    let hub = start(&dir, &[]);
    assert!(
        dir.join("vigil-data/vigil.db").exists(),
        "default data folder"
    );
    let token = hub
        .token
        .clone()
        .expect("first start prints an admin token");
    assert!(token.starts_with("vgl_"));
    let (status, body) = http(&hub.addr, "GET", "/api/collections/indicators/", None, None);
    assert_eq!(
        status, 200,
        "the public indicators collection is readable anonymously: {body}"
    );
    let cid = json_of(&body)["id"].as_str().unwrap().to_string();
    let ids = all_ids(&hub.addr, None, &cid);
    assert!(ids.len() > 100, "{} objects", ids.len());
    let pegasus = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/indicators/investigations/2021-07-18_nso/pegasus.stix2"),
    )
    .unwrap();
    let first_id = json_of(&pegasus)["objects"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ids.contains(&first_id), "Pegasus indicators are served");
    let (status, _) = http(&hub.addr, "GET", "/rest/v1/whoami", Some(&token), None);
    assert_eq!(status, 200);
    drop(hub);
    let again = start(&dir, &[]);
    assert_eq!(again.token, None, "the admin token is shown only once");
    assert_eq!(
        all_ids(&again.addr, None, &cid).len(),
        ids.len(),
        "not loaded twice"
    );
    let (status, _) = http(&again.addr, "GET", "/rest/v1/whoami", Some(&token), None);
    assert_eq!(status, 200, "the admin token survives a restart");
}

#[test]
fn admin_commands_create_users_tokens_and_grants() {
    let dir = temp_dir("admin");
    let data = dir.join("d");
    let data = data.to_str().unwrap();
    let run = |args: &[&str]| {
        let serve: &[&str] = &["serve", "--data-dir", data, "--no-registry"];
        hubproc::vigil_ok(&dir, &[serve, args].concat())
    };
    run(&["org", "Amnesty Tech", "--kind", "civil-society"]);
    run(&[
        "user",
        "ana",
        "--org",
        "Amnesty Tech",
        "--role",
        "contributor",
    ]);
    run(&["collection", "Cases", "--alias", "cases"]);
    run(&[
        "grant",
        "cases",
        "--org",
        "Amnesty Tech",
        "--read",
        "--write",
    ]);
    let out = run(&["token", "ana", "--label", "laptop"]);
    let token = out.rsplit(": ").next().unwrap().trim().to_string();
    let hub = start(&dir, &["--data-dir", data, "--no-registry"]);
    let (status, body) = http(
        &hub.addr,
        "GET",
        "/api/collections/cases/",
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body)["can_write"], true);
    let tid: String = out.split_whitespace().nth(1).unwrap().to_string();
    run(&["revoke", &tid]);
    let (status, _) = http(
        &hub.addr,
        "GET",
        "/api/collections/cases/",
        Some(&token),
        None,
    );
    assert_eq!(
        status, 401,
        "revoked in the database, refused by the running hub"
    );
}

#[test]
fn interop_with_taxii2_client_and_stix2() {
    let Some(python) = vigil_testkit::python() else {
        return;
    };
    let dir = temp_dir("interop");
    let hub = start(&dir, &["--no-registry"]);
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/taxii/taxii2_client_check.py");
    let out = Command::new(python)
        .arg(script)
        .arg(format!("http://{}", hub.addr))
        .arg(hub.token.as_ref().unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = json_of(stdout.lines().last().unwrap());
    assert!(summary["checks"].as_u64().unwrap() >= 20, "{stdout}");
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = temp_dir("kill");
    let hub = start(&dir, &["--no-registry"]);
    let token = hub.token.clone().unwrap();
    let (status, body) = http(
        &hub.addr,
        "POST",
        "/admin/v1/collections",
        Some(&token),
        Some(r#"{"title":"ingest","alias":"ingest"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let cid = json_of(&body)["id"].as_str().unwrap().to_string();
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (addr, token, cid, acked, stop) = (
            hub.addr.clone(),
            token.clone(),
            cid.clone(),
            acked.clone(),
            stop.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let mut batch_no = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let objects: Vec<Value> = (0..200)
                    .map(|i| {
                        json!({"type": "indicator", "spec_version": "2.1",
                            "id": format!("indicator--{w:08x}-0000-4000-8000-{:012x}", batch_no * 1000 + i),
                            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                            "pattern": "[domain-name:value = 'x.example']", "pattern_type": "stix",
                            "valid_from": "2024-01-01T00:00:00.000Z",
                            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]})
                    })
                    .collect();
                batch_no += 1;
                let body = json!({ "objects": objects }).to_string();
                let (202, resp) = http(&addr, "POST", &format!("/api/collections/{cid}/objects/"), Some(&token), Some(&body)) else { break };
                let Ok(st) = serde_json::from_str::<Value>(&resp) else { break };
                let mut a = acked.lock().unwrap();
                for s in st["successes"].as_array().into_iter().flatten() {
                    a.insert(s["id"].as_str().unwrap().to_string());
                }
            }
        }));
    }
    // Let ingest run, then kill the server mid-write.
    while acked.lock().unwrap().len() < 3000 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut hub = hub;
    hub.sigkill();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let acked = acked.lock().unwrap().clone();
    let again = start(&dir, &["--no-registry"]);
    let present: BTreeSet<String> = all_ids(&again.addr, Some(&token), &cid)
        .into_iter()
        .collect();
    let lost: Vec<&String> = acked.difference(&present).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged objects lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    assert!(acked.len() >= 3000);
    drop(again);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use vigil_store::Store as _;
        let s = vigil_store::SqliteStore::open(&dir.join("vigil-data/vigil.db"))
            .await
            .unwrap();
        s.integrity_check()
            .await
            .expect("database intact after SIGKILL");
    });
}

fn sync(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("sync")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn stix_indicator(n: usize, marking: Option<&str>) -> Value {
    let mut v = json!({"type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": format!("[domain-name:value = 'c2-{n}.example']"), "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00.000Z"});
    if let Some(m) = marking {
        v["object_marking_refs"] = json!([m]);
    }
    v
}

#[test]
fn federation_pulls_from_a_vigil_hub_and_medallion() {
    const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    let dir_a = temp_dir("fed_a");
    let dir_b = temp_dir("fed_b");
    let a = start(&dir_a, &["--no-registry"]);
    let b = start(&dir_b, &["--no-registry"]);
    let (ta, tb) = (a.token.clone().unwrap(), b.token.clone().unwrap());
    let (_, body) = http(
        &a.addr,
        "POST",
        "/admin/v1/collections",
        Some(&ta),
        Some(r#"{"title":"outbox","alias":"outbox"}"#),
    );
    let cid_a = json_of(&body)["id"].as_str().unwrap().to_string();
    let (s, _) = http(
        &b.addr,
        "POST",
        "/admin/v1/collections",
        Some(&tb),
        Some(r#"{"title":"partners","alias":"partners"}"#),
    );
    assert_eq!(s, 201);
    // 20 TLP:GREEN objects and 10 without marking (TLP:AMBER by default).
    let objs: Vec<Value> = (0..30)
        .map(|i| stix_indicator(i, (i < 20).then_some(GREEN)))
        .collect();
    let (s, body) = http(
        &a.addr,
        "POST",
        &format!("/api/collections/{cid_a}/objects/"),
        Some(&ta),
        Some(&json!({"objects": objs}).to_string()),
    );
    assert_eq!(s, 202, "{body}");
    let db_b = dir_b.join("vigil-data/vigil.db");
    let db_b = db_b.to_str().unwrap();
    let from = format!("http://{}/api/collections/{cid_a}/", a.addr);
    // A's admin has no grant on "outbox": hub A withholds the TLP:AMBER
    // objects from the federation pull as from any other read.
    let out = sync(&[
        "pull",
        "--from",
        &from,
        "--into",
        "partners",
        "--token",
        &ta,
        "--database",
        db_b,
        "--page-size",
        "7",
    ]);
    assert!(out.contains("pulled 20 objects in 3 pages"), "{out}");
    let seen = all_ids(&b.addr, Some(&tb), "partners");
    assert_eq!(seen.len(), 20, "{seen:?}");
    let again = sync(&[
        "pull",
        "--from",
        &from,
        "--into",
        "partners",
        "--token",
        &ta,
        "--database",
        db_b,
    ]);
    assert!(
        again.contains("pulled 0 objects"),
        "checkpoint honoured: {again}"
    );
    // Push back to A: only what may leave (TLP:GREEN and below).
    let (_, body) = http(
        &a.addr,
        "POST",
        "/admin/v1/collections",
        Some(&ta),
        Some(r#"{"title":"inbox","alias":"inbox"}"#),
    );
    let inbox = json_of(&body)["id"].as_str().unwrap().to_string();
    let to = format!("http://{}/api/collections/{inbox}/", a.addr);
    let out = sync(&[
        "push",
        "--from",
        "partners",
        "--to",
        &to,
        "--token",
        &ta,
        "--database",
        db_b,
    ]);
    assert!(
        out.contains("pushed 20 objects") && out.contains("20 accepted"),
        "{out}"
    );
    assert_eq!(all_ids(&a.addr, Some(&ta), &inbox).len(), 20);
    let out = sync(&[
        "push",
        "--from",
        "partners",
        "--to",
        &to,
        "--token",
        &ta,
        "--database",
        db_b,
    ]);
    assert!(out.contains("pushed 0 objects"), "{out}");
    // medallion as the remote.
    let Some(python) = vigil_testkit::python() else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let objects_file = dir_b.join("medallion-objects.json");
    let med_objs: Vec<Value> = (100..105).map(|i| stix_indicator(i, Some(GREEN))).collect();
    std::fs::write(&objects_file, serde_json::to_string(&med_objs).unwrap()).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/taxii/medallion_server.py");
    let mut medallion = Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .arg(&objects_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let maddr = format!("127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..300 {
        if std::net::TcpStream::connect(&maddr).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(up, "medallion did not start");
    let from_m = format!("http://{maddr}/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/");
    let out = sync(&[
        "pull",
        "--from",
        &from_m,
        "--into",
        "partners",
        "--user",
        "bench",
        "--password",
        "bench",
        "--database",
        db_b,
    ]);
    let _ = medallion.kill();
    let _ = medallion.wait();
    assert!(out.contains("pulled 5 objects"), "{out}");
    assert_eq!(all_ids(&b.addr, Some(&tb), "partners").len(), 25);
}
