//! The REST extras and exports: every role × TLP level, with the expected
//! visibility written out by hand. Response bodies are searched for the
//! values of objects the caller must not see, in every export format.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::support::*;

const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

const MALWARE: &str = "malware--0c7b5b88-8ff7-4a4d-aa9c-feb398cd0061";
const VENDOR: &str = "identity--3a2b2c5e-1d36-4d6b-9a57-4f3e0c1b2a10";

fn level_marking(level: &str) -> &'static str {
    match level {
        "clear" => CLEAR,
        "green" => GREEN,
        "amber" => AMBER,
        _ => RED,
    }
}

fn ind_id(level: &str) -> String {
    let n = ["clear", "green", "amber", "red"]
        .iter()
        .position(|l| *l == level)
        .unwrap();
    format!("indicator--5e0a6e0c-0000-4000-8000-00000000000{n}")
}

fn domain(level: &str) -> String {
    format!("{level}-host.spytest.example")
}

/// A vendor (GREEN) authoring a malware (CLEAR), four indicators of it at
/// CLEAR, GREEN, AMBER and RED (each with its `indicates` relationship at
/// the same level) and a sighting of the AMBER indicator (AMBER).
fn bundle() -> Vec<Value> {
    let t = "2025-01-01T00:00:00.000Z";
    let mut objs = vec![
        json!({"type": "identity", "spec_version": "2.1", "id": VENDOR, "created": t, "modified": t,
               "name": "Spytest Vendor SA", "identity_class": "organization", "object_marking_refs": [GREEN]}),
        json!({"type": "malware", "spec_version": "2.1", "id": MALWARE, "created": t, "modified": t,
               "name": "Spytestware", "is_family": true, "object_marking_refs": [CLEAR]}),
        json!({"type": "relationship", "spec_version": "2.1",
               "id": "relationship--7f000000-0000-4000-8000-000000000100", "created": t, "modified": t,
               "relationship_type": "authored-by", "source_ref": MALWARE, "target_ref": VENDOR,
               "object_marking_refs": [GREEN]}),
        json!({"type": "sighting", "spec_version": "2.1",
               "id": "sighting--7f000000-0000-4000-8000-000000000200", "created": t, "modified": t,
               "sighting_of_ref": ind_id("amber"), "count": 3, "object_marking_refs": [AMBER]}),
    ];
    for (n, level) in ["clear", "green", "amber", "red"].iter().enumerate() {
        objs.push(json!({"type": "indicator", "spec_version": "2.1", "id": ind_id(level),
            "created": t, "modified": t, "name": format!("{level} spytest domain"),
            "pattern": format!("[domain-name:value = '{}']", domain(level)),
            "pattern_type": "stix", "valid_from": t, "object_marking_refs": [level_marking(level)]}));
        objs.push(json!({"type": "relationship", "spec_version": "2.1",
            "id": format!("relationship--7f000000-0000-4000-8000-00000000000{n}"), "created": t, "modified": t,
            "relationship_type": "indicates", "source_ref": ind_id(level), "target_ref": MALWARE,
            "object_marking_refs": [level_marking(level)]}));
    }
    objs
}

pub struct World {
    pub hub: TestHub,
    pub cid: String,
    /// (role name, token) — `None` for anonymous.
    pub callers: Vec<(&'static str, Option<String>)>,
}

/// Organisation A owns the public collection `shared` and may read and
/// write it; `a_contrib` posted everything; `a_reader` reads through A's
/// grant; `b_contrib` of organisation B has no grant; `admin` is the hub's
/// administrator (reads every collection, without grants: up to GREEN).
pub async fn world() -> World {
    let hub = hub().await;
    let a = hub.org("Org A").await;
    let b = hub.org("Org B").await;
    let cid = hub.collection("shared", true, Some(a)).await;
    hub.grant(&cid, "org", a, true, true).await;
    let (_, a_contrib) = hub.user("a_contrib", Some(a), "contributor").await;
    let (_, a_reader) = hub.user("a_reader", Some(a), "reader").await;
    let (_, b_contrib) = hub.user("b_contrib", Some(b), "contributor").await;
    let r = hub
        .post(
            &format!("/api/collections/{cid}/objects/"),
            Some(&a_contrib),
            &json!({ "objects": bundle() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json()["success_count"], 12, "{}", r.text);
    let admin = hub.admin.clone();
    World {
        hub,
        cid,
        callers: vec![
            ("anonymous", None),
            ("a_reader", Some(a_reader)),
            ("a_contrib", Some(a_contrib)),
            ("admin", Some(admin)),
            ("b_contrib", Some(b_contrib)),
        ],
    }
}

/// The TLP levels each caller may see in `shared`, by hand from the rules.
fn visible(who: &str) -> &'static [&'static str] {
    match who {
        "anonymous" => &["clear"],
        "admin" | "b_contrib" => &["clear", "green"],
        "a_reader" => &["clear", "green", "amber"],
        "a_contrib" => &["clear", "green", "amber", "red"],
        _ => unreachable!(),
    }
}

/// How a domain appears in each export format.
fn rendered(format: &str, domain: &str) -> String {
    if format == "suricata-dataset" {
        base64::engine::general_purpose::STANDARD.encode(domain)
    } else {
        domain.to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_hold_exactly_what_the_caller_may_read_in_every_format() {
    let w = world().await;
    // Every format the hub offers.
    let formats = vigil_server::export::format_names();
    assert_eq!(formats.len(), 9, "{formats:?}");
    for (who, token) in &w.callers {
        for &format in &formats {
            for scope in [String::new(), format!("&collection={}", w.cid)] {
                let uri = format!("/rest/v1/export?format={format}{scope}");
                let r = w.hub.get(&uri, token.as_deref()).await;
                assert_eq!(r.status, StatusCode::OK, "{who} {uri}: {}", r.text);
                for level in ["clear", "green", "amber", "red"] {
                    let shown = r.text.contains(&rendered(format, &domain(level)));
                    let expected = visible(who).contains(&level);
                    assert_eq!(shown, expected, "{who} {uri}: {level} domain\n{}", r.text);
                    if format == "stix" || format == "mvt" {
                        assert_eq!(
                            r.text.contains(&ind_id(level)),
                            expected,
                            "{who} {uri} {level}"
                        );
                    }
                }
                if format == "stix" {
                    let b = r.json();
                    assert_eq!(b["type"], "bundle");
                    // The AMBER sighting and the GREEN vendor follow the same rules.
                    let has = |id: &str| {
                        b["objects"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|o| o["id"] == id)
                    };
                    assert_eq!(has(VENDOR), visible(who).contains(&"green"), "{who}");
                    assert_eq!(
                        has("sighting--7f000000-0000-4000-8000-000000000200"),
                        visible(who).contains(&"amber"),
                        "{who}"
                    );
                }
                if format == "suricata" && !visible(who).is_empty() {
                    assert!(
                        r.text.contains("Spytestware"),
                        "{who}: malware name in rules"
                    );
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_formats_are_what_the_tools_read() {
    let w = world().await;
    let (_, token) = &w.callers[2];
    let token = token.as_deref();
    let uri = |f: &str| format!("/rest/v1/export?format={f}&collection=shared");
    let rpz = w.hub.get(&uri("rpz"), token).await;
    assert!(rpz
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(rpz.text.contains("$ORIGIN"), "{}", rpz.text);
    for level in ["clear", "red"] {
        assert!(
            rpz.text.contains(&format!("{} CNAME .", domain(level))),
            "{}",
            rpz.text
        );
        assert!(
            rpz.text.contains(&format!("*.{} CNAME .", domain(level))),
            "{}",
            rpz.text
        );
    }
    let hosts = w.hub.get(&uri("hosts"), token).await;
    assert!(
        hosts.text.contains(&format!("0.0.0.0 {}", domain("amber"))),
        "{}",
        hosts.text
    );
    let domains = w.hub.get(&uri("domains"), token).await;
    let lines: Vec<&str> = domains
        .text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert_eq!(lines.len(), 4, "{}", domains.text);
    let csv = w.hub.get(&uri("csv"), token).await;
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        csv.text
            .contains(&format!("domain,{},{}", domain("green"), ind_id("green"))),
        "{}",
        csv.text
    );
    let zeek = w.hub.get(&uri("zeek"), token).await;
    assert!(
        zeek.text.starts_with("#fields\tindicator\tindicator_type"),
        "{}",
        zeek.text
    );
    assert!(
        zeek.text
            .contains(&format!("{}\tIntel::DOMAIN", domain("clear"))),
        "{}",
        zeek.text
    );
    let mvt = w.hub.get(&uri("mvt"), token).await;
    assert_eq!(
        mvt.header("content-type"),
        Some("application/stix+json;version=2.1")
    );
    let b = mvt.json();
    assert!(b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == MALWARE));
    // A query: only the indicators whose text matches.
    let q = w
        .hub
        .get(&format!("{}&q=amber", uri("domains")), token)
        .await;
    assert_eq!(q.text.trim(), domain("amber"), "{}", q.text);
    let t = w
        .hub
        .get(&format!("{}&type=malware", uri("stix")), token)
        .await;
    assert_eq!(
        t.json()["objects"].as_array().unwrap().len(),
        1,
        "{}",
        t.text
    );
    assert!(t
        .header("content-disposition")
        .unwrap()
        .contains("vigil-export.stix2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_name_the_parameter() {
    let w = world().await;
    let token = w.callers[2].1.as_deref();
    for (uri, field) in [
        ("/rest/v1/export", "format"),
        ("/rest/v1/export?format=pdf", "format"),
        (
            "/rest/v1/export?format=rpz&added_after=yesterday",
            "added_after",
        ),
        ("/rest/v1/export?format=rpz&format=csv", "format"),
        ("/rest/v1/search?q=a", "q"),
        ("/rest/v1/search?q=spy&limit=0", "limit"),
        ("/rest/v1/search?q=spy&offset=-1", "offset"),
        ("/rest/v1/graph/x?hops=9", "hops"),
        ("/rest/v1/sightings?limit=abc", "limit"),
    ] {
        let r = w.hub.get(uri, token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        let d = r.json()["description"].as_str().unwrap().to_string();
        assert!(d.starts_with(field), "{uri}: {d}");
        assert_eq!(r.json()["http_status"], "400");
    }
    // An unknown collection is not found for users and needs credentials
    // for anonymous callers — the same answers as TAXII.
    let r = w
        .hub
        .get("/rest/v1/export?format=rpz&collection=nope", token)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = w
        .hub
        .get("/rest/v1/export?format=rpz&collection=nope", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_graph_provenance_and_sightings_respect_tlp_for_every_role() {
    let w = world().await;
    for (who, token) in &w.callers {
        let token = token.as_deref();
        let vis = visible(who);
        // Search: text over names, patterns and values, with a type filter and paging.
        let r = w
            .hub
            .get("/rest/v1/search?q=SPYTEST&type=indicator", token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
        let j = r.json();
        let mut ids: Vec<String> = j["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        let mut want: Vec<String> = vis.iter().map(|l| ind_id(l)).collect();
        want.sort();
        assert_eq!(ids, want, "{who}");
        assert_eq!(j["total"], vis.len(), "{who}");
        let page = w
            .hub
            .get(
                "/rest/v1/search?q=spytest&type=indicator&limit=1&offset=1",
                token,
            )
            .await
            .json();
        assert_eq!(
            page["results"].as_array().unwrap().len(),
            usize::from(vis.len() > 1),
            "{who}"
        );
        assert_eq!(page["more"], vis.len() > 2, "{who}");
        let vendor = w
            .hub
            .get("/rest/v1/search?q=spytest%20vendor", token)
            .await
            .json();
        assert_eq!(
            vendor["total"],
            usize::from(vis.contains(&"green")),
            "{who}"
        );

        // Graph around the malware: indicators through `indicates`, the
        // vendor through `authored-by`, only what the caller may see.
        let r = w
            .hub
            .get(&format!("/rest/v1/graph/{MALWARE}?hops=1"), token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
        let g = r.json();
        let nodes: Vec<&str> = g["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap())
            .collect();
        for level in ["clear", "green", "amber", "red"] {
            assert_eq!(
                nodes.contains(&ind_id(level).as_str()),
                vis.contains(&level),
                "{who} {level}"
            );
        }
        assert_eq!(nodes.contains(&VENDOR), vis.contains(&"green"), "{who}");
        let edges = g["edges"].as_array().unwrap();
        assert_eq!(edges.len(), nodes.len() - 1, "{who}: {g}");
        for e in edges {
            assert!(
                nodes.contains(&e["source"].as_str().unwrap())
                    && nodes.contains(&e["target"].as_str().unwrap())
            );
        }
        // From the vendor, two hops reach the indicators.
        let r = w
            .hub
            .get(&format!("/rest/v1/graph/{VENDOR}?hops=2"), token)
            .await;
        if vis.contains(&"green") {
            let n = r.json()["nodes"].as_array().unwrap().len();
            assert_eq!(n, 2 + vis.len(), "{who}: {}", r.text);
        } else {
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.text);
            assert!(!r.text.contains("Spytest Vendor"));
        }

        // Provenance: who submitted, when; hidden objects are "not found".
        for level in ["clear", "green", "amber", "red"] {
            let r = w
                .hub
                .get(
                    &format!("/rest/v1/objects/{}/provenance", ind_id(level)),
                    token,
                )
                .await;
            if vis.contains(&level) {
                assert_eq!(r.status, StatusCode::OK, "{who} {level}: {}", r.text);
                let v = &r.json()["versions"][0];
                assert_eq!(v["collection"]["alias"], "shared");
                assert_eq!(v["submitted"]["organisation"], "Org A", "{who}");
                let user_shown = matches!(*who, "a_reader" | "a_contrib" | "admin");
                assert_eq!(
                    v["submitted"]["user"] == "a_contrib",
                    user_shown,
                    "{who}: {v}"
                );
                assert_eq!(v["tlp"], format!("TLP:{}", level.to_uppercase()));
            } else {
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {level}: {}", r.text);
                assert!(!r.text.contains(&domain(level)));
            }
        }

        // Sightings of the AMBER indicator.
        let r = w
            .hub
            .get(&format!("/rest/v1/sightings?of={}", ind_id("amber")), token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
        let amber = vis.contains(&"amber");
        assert_eq!(r.json()["total"], usize::from(amber), "{who}");
        assert_eq!(
            r.json()["sighting_count"],
            if amber { 3 } else { 0 },
            "{who}"
        );

        // Statistics count only what the caller sees.
        let r = w.hub.get("/rest/v1/stats", token).await;
        if token.is_some() {
            let c = r.json()["collections"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["alias"] == "shared")
                .cloned()
                .unwrap();
            assert_eq!(c["types"]["indicator"], vis.len(), "{who}: {c}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provenance_of_hub_loaded_objects_says_so() {
    let t = "2025-01-01T00:00:00.000Z";
    let seed = vigil_server::bootstrap::Seed {
        alias: "registry".into(),
        title: "Registry".into(),
        description: String::new(),
        public: true,
        default_tlp: vigil_store::Tlp::Clear,
        objects: vec![
            json!({"type": "malware", "spec_version": "2.1", "id": MALWARE, "created": t,
            "modified": t, "name": "Spytestware", "is_family": true,
            "external_references": [{"source_name": "report", "url": "https://example.org/report"}]}),
        ],
    };
    let app = seeded_hub("prov", vec![seed]).await;
    let req = axum::http::Request::builder()
        .uri(format!("/rest/v1/objects/{MALWARE}/provenance"))
        .body(axum::body::Body::empty())
        .unwrap();
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let j: Value = serde_json::from_slice(&body).unwrap();
    let v = &j["versions"][0];
    assert_eq!(v["submitted"]["by"], "hub", "{j}");
    assert!(v["submitted"]["how"]
        .as_str()
        .unwrap()
        .contains("bundled registry"));
    assert_eq!(v["collection"]["alias"], "registry");
    assert_eq!(
        v["external_references"][0]["url"],
        "https://example.org/report"
    );
    assert!(v["date_added"].as_str().unwrap().ends_with('Z'));
}

fn misp_event() -> Value {
    json!({"Event": {
        "uuid": "5f0a1c2e-1111-4222-8333-444455556666",
        "info": "Spytest campaign",
        "date": "2025-02-01",
        "timestamp": "1738368000",
        "Tag": [{"name": "tlp:green"}],
        "Attribute": [
            {"uuid": "5f0a1c2e-aaaa-4222-8333-444455556661", "type": "domain", "category": "Network activity",
             "value": "misp-import.spytest.example", "to_ids": true, "timestamp": "1738368000"},
            {"uuid": "5f0a1c2e-aaaa-4222-8333-444455556662", "type": "mutex", "category": "Artifacts dropped",
             "value": "Global\\spytest", "to_ids": false, "timestamp": "1738368000"}
        ]
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misp_import_reports_each_object_and_needs_write_access() {
    let w = world().await;
    let uri = "/rest/v1/collections/shared/import/misp-event";
    for (who, token) in &w.callers {
        let r = w.hub.post(uri, token.as_deref(), &misp_event()).await;
        let want = match *who {
            "anonymous" => StatusCode::UNAUTHORIZED,
            "a_reader" | "b_contrib" => StatusCode::FORBIDDEN,
            _ => StatusCode::OK,
        };
        assert_eq!(r.status, want, "{who}: {}", r.text);
        if want == StatusCode::OK {
            let j = r.json();
            assert!(j["success_count"].as_u64().unwrap() >= 2, "{who}: {j}");
            assert_eq!(j["failure_count"], 0, "{j}");
            for s in j["successes"].as_array().unwrap() {
                assert!(s["id"].as_str().unwrap().contains("--"), "{s}");
            }
        }
    }
    // The imported domain is exported to the GREEN community, not to anonymous callers.
    let b = w
        .hub
        .get("/rest/v1/export?format=domains", w.callers[4].1.as_deref())
        .await;
    assert!(b.text.contains("misp-import.spytest.example"), "{}", b.text);
    let anon = w.hub.get("/rest/v1/export?format=domains", None).await;
    assert!(
        !anon.text.contains("misp-import.spytest.example"),
        "{}",
        anon.text
    );
    // Bad input names the problem.
    let token = w.callers[2].1.as_deref();
    let r = w.hub.post(uri, token, &json!({"NotAnEvent": {}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = w
        .hub
        .call_with(
            axum::http::Method::POST,
            uri,
            Auth::Bearer(token.unwrap()),
            Some("{oops".into()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.json()["description"]
        .as_str()
        .unwrap()
        .starts_with("body:"));
    let r = w
        .hub
        .post(
            "/rest/v1/collections/shared/import/stix-zip",
            token,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

/// Every method and path of the router's table is in `/openapi.json`, and
/// the document describes no route the hub does not serve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_every_route_of_the_router() {
    let w = world().await;
    let doc = w.hub.get("/openapi.json", None).await.json();
    let paths = doc["paths"].as_object().unwrap();
    let routes = vigil_server::routes();
    assert!(routes.len() > 40, "{routes:?}");
    for (method, path) in &routes {
        let m = method.as_str().to_ascii_lowercase();
        assert!(
            paths.get(path).is_some_and(|p| p[&m].is_object()),
            "{method} {path} missing from the OpenAPI document"
        );
        // Path parameters are declared.
        for param in path.split('/').filter_map(|s| s.strip_prefix('{')) {
            let name = param.trim_end_matches('}');
            assert!(
                paths[path][&m]["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path")),
                "{method} {path}: path parameter {name} undeclared"
            );
        }
    }
    for (path, ops) in paths {
        for m in ops.as_object().unwrap().keys() {
            assert!(
                routes
                    .iter()
                    .any(|(rm, rp)| rp == path && rm.as_str().eq_ignore_ascii_case(m)),
                "the document describes {m} {path}, which the router does not serve"
            );
        }
    }
    for must in [
        "/oversight/v1/authorisations/{id}/{step}",
        "/rest/v1/export",
    ] {
        assert!(routes.iter().any(|(_, p)| p == must), "{must}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misp_galaxy_of_surveillance_vendors_imports_and_is_searchable() {
    let w = world().await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/misp-galaxy/clusters/surveillance-vendor.json"
    );
    let galaxy: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let clusters = galaxy["values"].as_array().unwrap().len();
    let token = w.callers[2].1.as_deref();
    let r = w
        .hub
        .post(
            "/rest/v1/collections/shared/import/misp-galaxy",
            token,
            &galaxy,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let j = r.json();
    assert_eq!(j["failure_count"], 0, "{}", j["failures"]);
    let stored = j["success_count"].as_u64().unwrap() as usize;
    let skipped = j["skipped_count"].as_u64().unwrap() as usize;
    assert!(
        stored + skipped >= clusters,
        "{stored} stored, {skipped} skipped of {clusters}"
    );
    assert!(stored >= clusters * 9 / 10, "{stored} of {clusters}");
    let s = w
        .hub
        .get("/rest/v1/search?q=nso%20group&collection=shared", token)
        .await
        .json();
    assert!(s["total"].as_u64().unwrap() >= 1, "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provenance_names_the_partner_hub_an_object_was_pulled_from() {
    // Hub A, served over TCP, holds the bundle in its public `shared` collection.
    let dir = std::env::temp_dir().join(format!("vigil_rest_fed_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let open = |name: &str| {
        let path = dir.join(name);
        async move {
            let store = vigil_store::open(path.to_str().unwrap()).await.unwrap();
            vigil_server::AppState::new(store, vigil_server::HubConfig::default())
                .await
                .unwrap()
        }
    };
    let a = open("a.db").await;
    let first = vigil_server::bootstrap::first_start(&a, Vec::new())
        .await
        .unwrap();
    let a_token = first.admin_token.unwrap();
    let cid = vigil_server::bootstrap::new_collection_id();
    a.hub
        .store
        .create_collection(&vigil_store::NewCollection {
            id: cid.clone(),
            alias: Some("shared".into()),
            title: "shared".into(),
            description: String::new(),
            public: true,
            owner_org: None,
        })
        .await
        .unwrap();
    let app = vigil_server::router(a.clone());
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(format!("/api/collections/{cid}/objects/"))
        .header("authorization", format!("Bearer {a_token}"))
        .header("content-type", TAXII)
        .header("accept", TAXII)
        .body(axum::body::Body::from(
            json!({ "objects": bundle() }).to_string(),
        ))
        .unwrap();
    use tower::ServiceExt as _;
    assert_eq!(
        app.oneshot(req).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(vigil_server::serve(a, listener, None, async {
        let _ = stopped.await;
    }));

    // Hub B pulls it into `partners`.
    let b = open("b.db").await;
    let b_first = vigil_server::bootstrap::first_start(&b, Vec::new())
        .await
        .unwrap();
    let b_token = b_first.admin_token.unwrap();
    b.hub
        .store
        .create_collection(&vigil_store::NewCollection {
            id: vigil_server::bootstrap::new_collection_id(),
            alias: Some("partners".into()),
            title: "partners".into(),
            description: String::new(),
            public: false,
            owner_org: None,
        })
        .await
        .unwrap();
    let url = format!("http://{addr}/api/collections/{cid}/");
    let remote =
        vigil_server::federation::Remote::parse(&url, Some(format!("Bearer {a_token}"))).unwrap();
    let report = vigil_server::federation::pull(&b, &remote, "partners", 100)
        .await
        .unwrap();
    assert!(report.stored >= 2, "{report:?}");
    let _ = stop.send(());

    let app_b = vigil_server::router(b);
    let req = axum::http::Request::builder()
        .uri(format!("/rest/v1/objects/{MALWARE}/provenance"))
        .header("authorization", format!("Bearer {b_token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app_b.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    use http_body_util::BodyExt as _;
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let j: Value = serde_json::from_slice(&body).unwrap();
    let v = &j["versions"][0];
    assert_eq!(v["collection"]["alias"], "partners", "{j}");
    assert_eq!(v["submitted"]["by"], "federation", "{j}");
    assert_eq!(v["submitted"]["pulled"][0]["from"], url, "{j}");
    assert!(v["submitted"]["pulled"][0]["at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
}

/// An export of a 50,000-indicator collection (one in ten AMBER) is
/// streamed over many store pages and still holds every indicator the
/// caller may read, exactly once, with each format's header and footer, and
/// none of the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_collection_exports_completely_in_every_format() {
    const N: usize = 50_000;
    let hub = hub().await;
    let a = hub.org("Org A").await;
    let b = hub.org("Org B").await;
    // Public: organisation B, without a grant, reads it up to GREEN.
    let cid = hub.collection("big", true, Some(a)).await;
    hub.grant(&cid, "org", a, true, true).await;
    let (_, writer) = hub.user("writer", Some(a), "contributor").await;
    let (_, b_reader) = hub.user("b_reader", Some(b), "reader").await;
    let t = "2025-01-01T00:00:00.000Z";
    let amber = |i: usize| i % 10 == 3;
    let host = |i: usize| format!("h{i}.big-export.example");
    let malware = "malware--0c7b5b88-8ff7-4a4d-aa9c-feb398cd0099";
    let mut objects = vec![
        json!({"type": "malware", "spec_version": "2.1", "id": malware,
        "created": t, "modified": t, "name": "Bigware", "is_family": true,
        "object_marking_refs": [GREEN]}),
    ];
    for i in 0..N {
        let id = format!("indicator--5e0a6e0c-0000-4000-8000-{i:012}");
        objects.push(json!({"type": "indicator", "spec_version": "2.1", "id": id,
            "created": t, "modified": t, "pattern": format!("[domain-name:value = '{}']", host(i)),
            "pattern_type": "stix", "valid_from": t,
            "object_marking_refs": [if amber(i) { AMBER } else { GREEN }]}));
        if i % 1000 == 0 {
            objects.push(json!({"type": "relationship", "spec_version": "2.1",
                "id": format!("relationship--7f000000-0000-4000-8000-{i:012}"), "created": t,
                "modified": t, "relationship_type": "indicates", "source_ref": id,
                "target_ref": malware, "object_marking_refs": [GREEN]}));
        }
    }
    for chunk in objects.chunks(5000) {
        let r = hub
            .post(
                &format!("/api/collections/{cid}/objects/"),
                Some(&writer),
                &json!({ "objects": chunk }),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        assert_eq!(r.json()["failure_count"], 0, "{}", r.text);
    }
    // Organisation B reads GREEN only; A also its own AMBER.
    for (who, token, sees_amber) in [("b_reader", &b_reader, false), ("writer", &writer, true)] {
        let expected: Vec<usize> = (0..N).filter(|i| sees_amber || !amber(*i)).collect();
        let hub = &hub;
        let get = |f: &str| {
            let uri = format!("/rest/v1/export?format={f}&collection=big");
            async move { hub.get(&uri, Some(token)).await }
        };
        let r = get("domains").await;
        assert_eq!(r.status, StatusCode::OK, "{who}");
        let mut lines: Vec<&str> = r.text.lines().collect();
        lines.sort_unstable();
        let mut want: Vec<String> = expected.iter().map(|i| host(*i)).collect();
        want.sort_unstable();
        let missing: Vec<&String> = want
            .iter()
            .filter(|d| lines.binary_search(&d.as_str()).is_err())
            .take(5)
            .collect();
        assert!(
            lines.len() == want.len() && missing.is_empty(),
            "{who}: domains: {} lines for {} readable indicators; missing e.g. {missing:?}",
            lines.len(),
            want.len()
        );

        if !sees_amber {
            // The other formats filter the same pages; read them once.
            continue;
        }
        let r = get("rpz").await;
        assert!(r.text.starts_with("; Vigil"), "{who}: rpz header");
        assert_eq!(r.text.matches(" IN SOA ").count(), 1, "{who}: one SOA");
        assert_eq!(
            r.text.matches("CNAME .").count(),
            2 * expected.len(),
            "{who}"
        );

        let r = get("csv").await;
        let rows: Vec<&str> = r.text.lines().collect();
        assert_eq!(rows[0], "kind,value,indicator_id,malware", "{who}");
        assert_eq!(rows.len(), expected.len() + 1, "{who}: csv rows");
        assert_eq!(
            rows.iter().filter(|r| r.ends_with(",Bigware")).count(),
            expected.iter().filter(|i| *i % 1000 == 0).count(),
            "{who}: malware names"
        );

        let r = get("suricata").await;
        let sids: BTreeSet<&str> = r
            .text
            .lines()
            .filter(|l| l.starts_with("alert "))
            .filter_map(|l| l.split("sid:").nth(1)?.split(';').next())
            .collect();
        assert_eq!(sids.len(), 3 * expected.len(), "{who}: distinct rule ids");

        let r = get("stix").await;
        let bundle = r.json();
        let ids: BTreeSet<&str> = bundle["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["type"] == "indicator")
            .filter_map(|o| o["id"].as_str())
            .collect();
        assert_eq!(ids.len(), expected.len(), "{who}: bundle");
        assert_eq!(bundle["type"], "bundle");
        let r = get("mvt").await;
        let mvt = r.json();
        let count = |t: &str| {
            mvt["objects"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|o| o["type"] == t)
                .count()
        };
        assert_eq!(count("indicator"), expected.len(), "{who}: mvt");
        assert_eq!(count("malware"), 1, "{who}: mvt");
        assert_eq!(count("relationship"), N / 1000, "{who}: mvt");
    }
}

/// A hub on a fresh SQLite database, first started with these seeds.
async fn seeded_hub(name: &str, seeds: Vec<vigil_server::bootstrap::Seed>) -> axum::Router {
    let dir = std::env::temp_dir().join(format!("vigil_rest_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = vigil_store::open(dir.join("hub.db").to_str().unwrap())
        .await
        .unwrap();
    let state = vigil_server::AppState::new(store, vigil_server::HubConfig::default())
        .await
        .unwrap();
    vigil_server::bootstrap::first_start(&state, seeds)
        .await
        .unwrap();
    vigil_server::router(state)
}

/// A hub holding the bundled registry and indicator sets, as `vigil serve`
/// loads them on first start.
async fn bundled_hub() -> axum::Router {
    let (mut registry, mut indicators) = (Vec::new(), Vec::new());
    for b in vigil_registry::bundles() {
        match b.source {
            vigil_registry::Source::Registry => registry.extend(b.objects().unwrap()),
            vigil_registry::Source::Indicators => indicators.extend(b.objects().unwrap()),
        }
    }
    let seed = |alias: &str, objects| vigil_server::bootstrap::Seed {
        alias: alias.into(),
        title: alias.into(),
        description: String::new(),
        public: true,
        default_tlp: vigil_store::Tlp::Clear,
        objects,
    };
    seeded_hub(
        "bundled",
        vec![seed("registry", registry), seed("indicators", indicators)],
    )
    .await
}

async fn anonymous_get(app: &axum::Router, uri: &str) -> Value {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let req = axum::http::Request::builder()
        .uri(uri)
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{uri}");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_over_the_bundled_registry_finds_names_prefixes_domains_and_hashes() {
    let app = bundled_hub().await;
    let patterns = |j: &Value| -> Vec<String> {
        j["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["object"]["pattern"].as_str().unwrap_or("").to_string())
            .collect()
    };
    // A prefix finds the product, named so, first.
    let j = anonymous_get(&app, "/rest/v1/search?q=pega&type=malware").await;
    assert_eq!(j["results"][0]["name"], "Pegasus", "{j}");
    // The vendor by a phrase of its name.
    let j = anonymous_get(&app, "/rest/v1/search?q=%22nso%20group%22&type=identity").await;
    assert!(j["total"].as_u64().unwrap() >= 1, "{j}");
    assert!(j["results"][0]["name"]
        .as_str()
        .unwrap()
        .contains("NSO Group"));
    // A domain of the Pegasus indicator set, in the indicators collection.
    let j = anonymous_get(
        &app,
        "/rest/v1/search?q=smscentro.com&collection=indicators&type=indicator",
    )
    .await;
    assert!(j["total"].as_u64().unwrap() >= 1, "{j}");
    assert!(
        patterns(&j).iter().all(|p| p.contains("smscentro.com")),
        "{j}"
    );
    // A SHA-256 of the ResidentBat set: exactly one indicator.
    let sha = "d12616542268d32329f1c4357b5d5a57e954e13d2338d27bb8439794291b8c6d";
    let j = anonymous_get(&app, &format!("/rest/v1/search?q={sha}")).await;
    assert_eq!(j["total"], 1, "{j}");
    assert!(patterns(&j)[0].contains(sha));
    // Nothing for a word that is nowhere.
    let j = anonymous_get(&app, "/rest/v1/search?q=zzyzxqwv").await;
    assert_eq!(
        (j["total"].clone(), j["more"].clone()),
        (json!(0), json!(false))
    );
}
