//! Screening in the hub: the yente-compatible `POST /match/{dataset}`, the
//! page's screen endpoint and decisions kept in the hub database, for every
//! role (anonymous, reader, contributor, admin, another organisation).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

struct World {
    hub: TestHub,
    a_reader: String,
    a_contrib: String,
    a_contrib2: String,
    b_contrib: String,
}

async fn world() -> World {
    let hub = hub().await;
    let a = hub.org("Export Control A").await;
    let b = hub.org("Exporter B").await;
    let (_, a_reader) = hub.user("a_reader", Some(a), "reader").await;
    let (_, a_contrib) = hub.user("a_officer", Some(a), "contributor").await;
    let (_, a_contrib2) = hub.user("a_officer2", Some(a), "contributor").await;
    let (_, b_contrib) = hub.user("b_officer", Some(b), "contributor").await;
    World {
        hub,
        a_reader,
        a_contrib,
        a_contrib2,
        b_contrib,
    }
}

fn yente_request() -> Value {
    json!({"queries": {
        "q1": {"schema": "Company", "properties": {"name": ["Intelexa SA"], "country": ["gr"]}},
        "q2": {"schema": "Person", "properties": {"name": ["Tal Dillian"]}},
        "q3": {"schema": "Person", "properties": {"name": ["Jane Unlisted Nobody"]}}
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_endpoint_answers_like_yente_for_every_signed_in_role() {
    let w = world().await;
    let admin = w.hub.admin.clone();
    let callers: [(&str, Option<&str>); 5] = [
        ("anonymous", None),
        ("reader", Some(&w.a_reader)),
        ("contributor", Some(&w.a_contrib)),
        ("admin", Some(&admin)),
        ("other organisation", Some(&w.b_contrib)),
    ];
    for (who, token) in callers {
        let r = w.hub.post("/match/default", token, &yente_request()).await;
        if token.is_none() {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{who}: {}", r.text);
            assert!(r.header("www-authenticate").is_some());
            continue;
        }
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
        let j = r.json();
        let q1 = &j["responses"]["q1"];
        assert_eq!(q1["status"], 200);
        let top = &q1["results"][0];
        assert_eq!(top["caption"], "Intellexa S.A.", "{q1}");
        assert_eq!(top["match"], true);
        assert!(top["score"].as_f64().unwrap() > 0.9);
        assert!(top["features"]["name"].as_f64().unwrap() > 0.9);
        assert!(!top["datasets"].as_array().unwrap().is_empty());
        let q2 = &j["responses"]["q2"]["results"][0];
        assert_eq!(q2["schema"], "Person");
        assert!(q2["caption"].as_str().unwrap().contains("Dilian"), "{q2}");
        let q3 = &j["responses"]["q3"]["results"];
        assert!(
            q3.as_array().unwrap().iter().all(|r| r["match"] == false),
            "{q3}"
        );
        assert_eq!(j["limit"], 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_errors_name_the_field() {
    let w = world().await;
    let t = w.a_reader.as_str();
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "/match/sanctions",
            yente_request().to_string(),
            StatusCode::NOT_FOUND,
            "dataset",
        ),
        (
            "/match/default",
            "{not json".into(),
            StatusCode::BAD_REQUEST,
            "body:",
        ),
        (
            "/match/default",
            json!({"queries": {}}).to_string(),
            StatusCode::BAD_REQUEST,
            "queries",
        ),
        (
            "/match/default",
            json!({"q": 1}).to_string(),
            StatusCode::BAD_REQUEST,
            "body:",
        ),
        (
            "/match/default",
            json!({"queries": {"x": {"schema": "Person", "properties": {"birthDate": ["1970"]}}}})
                .to_string(),
            StatusCode::BAD_REQUEST,
            "queries.x.properties.name",
        ),
        (
            "/match/default",
            json!({"queries": {"x": {"properties": {"name": ["a".repeat(5000)]}}}}).to_string(),
            StatusCode::BAD_REQUEST,
            "queries.x.properties.name",
        ),
        (
            "/match/default?threshold=2",
            yente_request().to_string(),
            StatusCode::BAD_REQUEST,
            "threshold",
        ),
        (
            "/match/default?limit=0",
            yente_request().to_string(),
            StatusCode::BAD_REQUEST,
            "limit",
        ),
    ];
    for (uri, body, status, field) in cases {
        let r = w
            .hub
            .call_with(
                Method::POST,
                uri,
                Auth::Bearer(t),
                Some(body),
                &[("content-type", "application/json")],
            )
            .await;
        assert_eq!(r.status, status, "{uri}: {}", r.text);
        let d = r.json()["description"].as_str().unwrap().to_string();
        assert!(d.starts_with(field), "{uri}: {d}");
    }
    let big = format!(
        "{{\"queries\": {{\"x\": {{\"properties\": {{\"name\": [\"{}\"]}}}}}}}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let r = w
        .hub
        .call_with(
            Method::POST,
            "/match/default",
            Auth::Bearer(t),
            Some(big),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

fn party() -> Value {
    json!({"name": "Intellexa", "schema": "Company", "country": "gr"})
}

fn decision(disposition: &str, reason: &str) -> Value {
    json!({"party": party(), "entity_id": "seed-intellexa-sa", "disposition": disposition, "reason": reason})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_recorded_by_officers_and_seen_by_their_organisation() {
    let w = world().await;
    let admin = w.hub.admin.clone();
    // Screening: any signed-in role; hits carry the explanation and listings.
    for token in [
        Some(w.a_reader.as_str()),
        Some(&w.a_contrib),
        Some(&admin),
        Some(&w.b_contrib),
    ] {
        let r = w
            .hub
            .post("/rest/v1/screening/screen", token, &party())
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let hit = r.json()["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["entity_id"] == "seed-intellexa-sa")
            .cloned()
            .expect("Intellexa S.A. is a hit");
        assert!(
            hit["explanation"].as_str().unwrap().contains("intellexa"),
            "{hit}"
        );
        assert!(
            hit["explanation"]
                .as_str()
                .unwrap()
                .contains("country GR = GR"),
            "{hit}"
        );
        assert!(
            hit["listings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["reference"].as_str().unwrap_or("").contains("2023-15343")),
            "{hit}"
        );
        assert_eq!(hit["decision"], Value::Null);
    }
    let r = w
        .hub
        .post("/rest/v1/screening/screen", None, &party())
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Recording: contributors and admins; readers may not; anonymous must sign in.
    let uri = "/rest/v1/screening/decisions";
    let r = w
        .hub
        .post(uri, None, &decision("true-match", "listed entity"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = w
        .hub
        .post(
            uri,
            Some(&w.a_reader),
            &decision("true-match", "listed entity"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = w
        .hub
        .post(
            uri,
            Some(&w.a_contrib),
            &decision("escalate", "same name, check the owner"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let d = r.json();
    assert_eq!(d["officer"], "a_officer");
    assert_eq!(d["disposition"], "escalate");
    let key = d["query_key"].as_str().unwrap().to_string();
    let r = w
        .hub
        .post(
            uri,
            Some(&w.b_contrib),
            &decision("false-positive", "our customer is another firm"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = w
        .hub
        .post(
            uri,
            Some(&admin),
            &decision("true-match", "confirmed by the registry"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Seeing: the officer's organisation (any role in it), admins all, others not.
    let list = |token: &str| {
        let hub = &w.hub;
        let key = key.clone();
        let token = token.to_string();
        async move {
            let r = hub
                .get(&format!("{uri}?query_key={key}"), Some(&token))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.json()["decisions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["officer"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(&w.a_reader).await, ["a_officer"]);
    assert_eq!(list(&w.a_contrib2).await, ["a_officer"]);
    assert_eq!(list(&w.b_contrib).await, ["b_officer"]);
    assert_eq!(list(&admin).await, ["a_officer", "b_officer", "admin"]);
    let r = w.hub.get(uri, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The page's screen shows each organisation its own latest decision;
    // B's false positive clears the hit for B only.
    let hit = |token: &str| {
        let hub = &w.hub;
        let token = token.to_string();
        async move {
            hub.post("/rest/v1/screening/screen", Some(&token), &party())
                .await
                .json()["hits"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["entity_id"] == "seed-intellexa-sa")
                .cloned()
                .unwrap()
        }
    };
    let a = hit(&w.a_contrib2).await;
    assert_eq!(a["decision"]["disposition"], "escalate");
    assert_eq!(a["cleared"], false);
    let b = hit(&w.b_contrib).await;
    assert_eq!(b["decision"]["disposition"], "false_positive");
    assert_eq!(b["cleared"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_decisions_name_the_field() {
    let w = world().await;
    let t = Some(w.a_contrib.as_str());
    let uri = "/rest/v1/screening/decisions";
    for (body, field) in [
        (decision("maybe", "x"), "disposition"),
        (decision("true-match", "  "), "reason"),
        (
            json!({"party": party(), "entity_id": "seed-nobody", "disposition": "escalate", "reason": "r"}),
            "entity_id",
        ),
        (
            json!({"party": {"name": ""}, "entity_id": "seed-intellexa-sa", "disposition": "escalate", "reason": "r"}),
            "party.name",
        ),
        (
            json!({"party": {"name": "X", "country": "Greece"}, "entity_id": "seed-intellexa-sa", "disposition": "escalate", "reason": "r"}),
            "party.country",
        ),
        (
            json!({"party": {"name": "X", "birth_date": "1980-02-31"}, "entity_id": "seed-intellexa-sa", "disposition": "escalate", "reason": "r"}),
            "party.birth_date",
        ),
        (
            json!({"party": {"name": "X", "schema": "Vessel"}, "entity_id": "seed-intellexa-sa", "disposition": "escalate", "reason": "r"}),
            "party.schema",
        ),
        (
            json!({"party": party(), "disposition": "escalate", "reason": "r"}),
            "body:",
        ),
        (
            json!({"party": party(), "entity_id": "seed-intellexa-sa", "disposition": "escalate", "reason": "r", "officer": "someone else"}),
            "body:",
        ),
    ] {
        let r = w.hub.post(uri, t, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        let d = r.json()["description"].as_str().unwrap().to_string();
        assert!(d.starts_with(field), "{body}: {d}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screening_page_is_served_to_anyone_and_holds_no_data() {
    let w = world().await;
    let r = w
        .hub
        .call_with(Method::GET, "/screening", Auth::None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.header("content-security-policy").is_some());
    assert!(r.text.contains("/rest/v1/screening/screen"));
    assert!(!r.text.contains("Intellexa"));
}

/// Intellexa S.A. is on the seed list and in the bundled registry: one
/// party, so one hit carrying both sources' data sets and listings, through
/// `/match/default` and the screening page's endpoint alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_on_the_seed_list_and_in_the_registry_is_one_hit() {
    let w = world().await;
    let is_intellexa_sa = |caption: &Value| {
        caption
            .as_str()
            .is_some_and(|c| c.to_lowercase().replace(['.', ' '], "") == "intellexasa")
    };
    let both_sources = |datasets: &Value| {
        let d: Vec<&str> = datasets
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        d.contains(&"vigil_spyware_seed") && d.iter().any(|s| s.starts_with("registry/"))
    };
    let body = json!({"queries": {"q": {"schema": "Company",
        "properties": {"name": ["Intellexa S.A."], "country": ["gr"]}}}});
    let r = w
        .hub
        .post("/match/default?limit=10", Some(&w.a_reader), &body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let results = r.json()["responses"]["q"]["results"].clone();
    let hits: Vec<&Value> = results
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| is_intellexa_sa(&h["caption"]))
        .collect();
    assert_eq!(hits.len(), 1, "{results:#}");
    assert!(both_sources(&hits[0]["datasets"]), "{:#}", hits[0]);
    let urls = hits[0]["properties"]["sourceUrl"].as_array().unwrap();
    for url in [
        "https://www.federalregister.gov/d/2023-15343",
        "https://home.treasury.gov/news/press-releases/jy2155",
    ] {
        assert_eq!(
            urls.iter().filter(|u| u.as_str() == Some(url)).count(),
            1,
            "{url} once in {urls:?}"
        );
    }

    let r = w
        .hub
        .post(
            "/rest/v1/screening/screen",
            Some(&w.a_contrib),
            &json!({"name": "Intellexa S.A.", "schema": "Company", "country": "gr"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let j = r.json();
    let hits: Vec<&Value> = j["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| is_intellexa_sa(&h["caption"]))
        .collect();
    assert_eq!(hits.len(), 1, "{:#}", j["hits"]);
    assert_eq!(hits[0]["entity_id"], "seed-intellexa-sa");
    assert!(both_sources(&hits[0]["datasets"]), "{:#}", hits[0]);
    // The seed's listing (with programme and date) is kept, the registry's
    // copy of the same designation is not added again.
    let listings = hits[0]["listings"].as_array().unwrap();
    assert_eq!(listings.len(), 2, "{listings:#?}");
    assert!(listings.iter().all(|l| l["listed_on"].is_string()));
}
