//! The hub's screening page in a real browser: `vigil serve` is started,
//! Chromium (driven by playwright-core from `ui-tests/`) screens
//! "Intellexa", sees the hit with its explanation, records a decision,
//! reloads the page and sees the decision kept; the decision is then read
//! back from the hub's API.
//!
//! Needs `node`, Chromium (`VIGIL_CHROMIUM`, default `/usr/bin/chromium`)
//! and `npm ci` of `ui-tests/` in `VIGIL_UI_TESTS_DIR` (default
//! `target/ui-tests`), all set up by `scripts/test`. Without them the test
//! reports itself skipped, unless `VIGIL_REQUIRE_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

mod hubproc;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What the browser test needs, or why it cannot run.
fn browser_setup() -> Result<(PathBuf, PathBuf), String> {
    let chromium = std::env::var_os("VIGIL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return Err(format!("no Chromium at {}", chromium.display()));
    }
    let modules = std::env::var_os("VIGIL_UI_TESTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/ui-tests"));
    if !modules.join("node_modules/playwright-core").exists() {
        return Err(format!(
            "playwright-core is not installed in {} (run `npm ci` there)",
            modules.display()
        ));
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok((chromium, modules)),
        _ => Err("no node on PATH".into()),
    }
}

fn call(addr: &str, method: &str, path: &str, token: &str, body: Option<&Value>) -> Value {
    let auth = format!("Bearer {token}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    ];
    let text = body.map(Value::to_string);
    let r = vigil_server::client::request(
        addr,
        method,
        path,
        &headers,
        text.as_deref().map(str::as_bytes),
    )
    .unwrap();
    assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.text());
    serde_json::from_str(&r.text()).unwrap()
}

/// Whether the listing lines the officer saw name the US Entity List.
fn on_entity_list(listings: &Value) -> bool {
    listings.as_array().is_some_and(|ls| {
        ls.iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("Entity List")))
    })
}

#[test]
fn officer_screens_decides_and_finds_the_decision_kept_in_a_real_browser() {
    let (chromium, modules) = match browser_setup() {
        Ok(s) => s,
        Err(why) if std::env::var("VIGIL_REQUIRE_BROWSER").as_deref() != Ok("1") => {
            eprintln!("skipped: {why}");
            return;
        }
        Err(why) => panic!("VIGIL_REQUIRE_BROWSER=1 but {why}"),
    };
    let dir = hubproc::temp_dir("screening_page");
    let hub = hubproc::start(&dir);
    let token = hub
        .token
        .clone()
        .expect("a fresh hub prints its admin token");

    // An export-control officer: a contributor of a government organisation.
    let org = call(
        &hub.addr,
        "POST",
        "/admin/v1/orgs",
        &token,
        Some(&json!({"name": "Export Control Office", "kind": "government"})),
    );
    let user = call(
        &hub.addr,
        "POST",
        "/admin/v1/users",
        &token,
        Some(&json!({"name": "officer.lee", "org_id": org["id"], "role": "contributor"})),
    );
    let token = call(
        &hub.addr,
        "POST",
        &format!("/admin/v1/users/{}/tokens", user["id"]),
        &token,
        Some(&json!({"label": "browser"})),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();

    let log_size = |hub: &hubproc::Hub| {
        let r = vigil_server::client::request(&hub.addr, "GET", "/oversight/v1/log", &[], None)
            .unwrap();
        serde_json::from_str::<Value>(&r.text()).unwrap()["size"]
            .as_u64()
            .unwrap()
    };
    let before = log_size(&hub);
    let out = Command::new("node")
        .arg(workspace().join("ui-tests/screening.mjs"))
        .arg(format!("http://{}", hub.addr))
        .arg(&token)
        .env("VIGIL_UI_TESTS_DIR", &modules)
        .env("VIGIL_CHROMIUM", &chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser run failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).unwrap();
    eprintln!("the officer saw: {seen}");
    assert!(
        seen["caption"].as_str().unwrap().starts_with("Intellexa"),
        "{seen}"
    );
    let why = seen["explanation"].as_str().unwrap();
    assert!(
        why.starts_with("why: name") && why.contains("intellexa"),
        "{seen}"
    );
    assert!(on_entity_list(&seen["listings"]), "{seen}");
    assert!(
        seen["decision"]
            .as_str()
            .unwrap()
            .contains("escalate by officer.lee"),
        "{seen}"
    );
    assert_eq!(seen["decision"], seen["after_reload"], "{seen}");
    assert_eq!(seen["page_errors"], json!([]));

    // "Intellexa" alone fits Intellexa S.A. and Intellexa Limited alike:
    // one hit, the other entry shown inside it with its own listings and
    // its own decision, kept across the reload. The hit stays open: its
    // first entry was escalated, not cleared.
    let tied = &seen["tied"][0];
    assert!(
        tied["head"].as_str().unwrap().contains("Intellexa"),
        "{seen}"
    );
    assert_ne!(tied["entity"], seen["entity"], "{seen}");
    assert!(on_entity_list(&tied["listings"]), "{seen}");
    assert!(
        seen["tied_decision"]
            .as_str()
            .unwrap()
            .contains("CLEARED \u{2014} false positive by officer.lee"),
        "{seen}"
    );
    assert_eq!(seen["tied_decision"], seen["tied_after_reload"], "{seen}");
    assert!(
        !seen["hit_class"].as_str().unwrap().contains("cleared"),
        "{seen}"
    );

    // Both decisions went onto the hub's transparency log (one entry each)
    // and into its database, attributed to the officer.
    assert_eq!(log_size(&hub), before + 2);
    let d = call(
        &hub.addr,
        "GET",
        "/rest/v1/screening/decisions",
        &token,
        None,
    );
    let d = d["decisions"].as_array().unwrap();
    let on = |entity: &Value| {
        d.iter()
            .find(|x| &x["entity_id"] == entity)
            .unwrap_or_else(|| panic!("no decision on {entity}: {d:?}"))
    };
    let first = on(&seen["entity"]);
    assert_eq!(first["officer"], "officer.lee");
    assert_eq!(first["disposition"], "escalate");
    assert_eq!(first["query_name"], "Intellexa");
    let other = on(&tied["entity"]);
    assert_eq!(other["officer"], "officer.lee");
    assert_eq!(other["disposition"], "false_positive");
    assert_eq!(other["query_name"], "Intellexa");
}
