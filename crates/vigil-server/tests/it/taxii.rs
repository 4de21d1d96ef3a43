//! Every TAXII 2.1 endpoint, filter, header and error, as a client sees them.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use vigil_server::HubConfig;

use crate::support::*;

const TLP_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";

/// A hub with one contributor-writable collection; returns (hub, cid, token).
async fn setup() -> (TestHub, String, String) {
    let h = hub().await;
    let org = h.org("Lab").await;
    let (_, tok) = h.user("ana", Some(org), "contributor").await;
    let cid = h.collection("intel", false, Some(org)).await;
    h.grant(&cid, "org", org, true, true).await;
    (h, cid, tok)
}

/// A status resource's total, success and failure counts.
fn counts(st: &Value) -> (u64, u64, u64) {
    let n = |k: &str| st[k].as_u64().unwrap_or(u64::MAX);
    (n("total_count"), n("success_count"), n("failure_count"))
}

fn ids(v: &Value) -> Vec<String> {
    v["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn discovery_and_api_root() {
    let h = hub().await;
    let r = h.get("/taxii2/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some(TAXII));
    let j = r.json();
    assert_eq!(j["default"], "/api/");
    assert_eq!(j["api_roots"], json!(["/api/"]));
    let r = h.get("/api/", None).await;
    let j = r.json();
    assert_eq!(j["versions"], json!([TAXII]));
    assert!(j["max_content_length"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn media_type_negotiation() {
    let h = hub().await;
    for accept in [
        "application/taxii+json",
        "application/taxii+json;version=2.1",
        "*/*",
        "application/json",
        "text/html, application/*;q=0.5",
    ] {
        let r = h
            .call_with(
                Method::GET,
                "/taxii2/",
                Auth::None,
                None,
                &[("accept", accept)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "Accept: {accept}");
    }
    let r = h
        .call_with(Method::GET, "/taxii2/", Auth::None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "no Accept header");
    for accept in [
        "text/html",
        "application/taxii+json;version=2.0",
        "application/xml",
    ] {
        let r = h
            .call_with(
                Method::GET,
                "/taxii2/",
                Auth::None,
                None,
                &[("accept", accept)],
            )
            .await;
        assert_taxii_error(&r, StatusCode::NOT_ACCEPTABLE);
    }
}

#[tokio::test]
async fn errors_are_taxii_json_with_challenge_on_401() {
    let (h, cid, tok) = setup().await;
    let r = h
        .get(&format!("/api/collections/{cid}/objects/"), None)
        .await;
    assert_taxii_error(&r, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").unwrap().contains("Bearer"));
    let r = h
        .get(
            &format!("/api/collections/{cid}/objects/"),
            Some("vgl_not-a-token"),
        )
        .await;
    assert_taxii_error(&r, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").is_some());
    let r = h.get("/no/such/path", None).await;
    assert_taxii_error(&r, StatusCode::NOT_FOUND);
    let r = h.call(Method::PATCH, "/taxii2/", Auth::None, None).await;
    assert_taxii_error(&r, StatusCode::METHOD_NOT_ALLOWED);
    let base = format!("/api/collections/{cid}/objects/");
    for q in [
        "added_after=yesterday",
        "added_after=2024-13-01T00:00:00Z",
        "limit=0",
        "limit=-3",
        "limit=x",
        "next=%%%",
        "match[version]=newest",
    ] {
        let r = h.get(&format!("{base}?{q}"), Some(&tok)).await;
        assert_taxii_error(&r, StatusCode::BAD_REQUEST);
        assert!(
            !r.text.contains("sqlite") && !r.text.contains("SELECT"),
            "{}",
            r.text
        );
    }
    let r = h
        .call_with(
            Method::POST,
            &base,
            Auth::Bearer(&tok),
            Some("{not json".into()),
            &[("content-type", TAXII)],
        )
        .await;
    assert_taxii_error(&r, StatusCode::BAD_REQUEST);
    let r = h
        .call_with(
            Method::POST,
            &base,
            Auth::Bearer(&tok),
            Some("{}".into()),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_taxii_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = h
        .call_with(
            Method::POST,
            &base,
            Auth::Bearer(&tok),
            Some("{\"objects\": 3}".into()),
            &[("content-type", TAXII)],
        )
        .await;
    assert_taxii_error(&r, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn basic_auth_with_token_as_password() {
    let (h, cid, tok) = setup().await;
    let uri = format!("/api/collections/{cid}/");
    let r = h
        .call(Method::GET, &uri, Auth::Basic("ana", &tok), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["can_write"], true);
    let r = h
        .call(Method::GET, &uri, Auth::Basic("someone-else", &tok), None)
        .await;
    assert_taxii_error(&r, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn post_reports_every_object_and_duplicates_succeed() {
    let (h, cid, tok) = setup().await;
    let uri = format!("/api/collections/{cid}/objects/");
    let good = indicator(1, "2024-01-01T00:00:00.000Z", &[]);
    let bad = json!({"type": "indicator", "id": "indicator--nope", "spec_version": "2.1"});
    let r = h
        .post(&uri, Some(&tok), &envelope(vec![good.clone(), bad]))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.header("content-type"), Some(TAXII));
    let st = r.json();
    assert_eq!(st["status"], "complete");
    assert_eq!(counts(&st), (2, 1, 1));
    assert_eq!(st["failures"][0]["id"], "indicator--nope");
    assert!(st["failures"][0]["message"]
        .as_str()
        .unwrap()
        .contains("objects[1]"));
    // The same object again is a success, not a failure.
    let r = h.post(&uri, Some(&tok), &envelope(vec![good])).await;
    let st2 = r.json();
    assert_eq!(
        (st2["success_count"].as_u64(), st2["failure_count"].as_u64()),
        (Some(1), Some(0))
    );
    // The status resource is kept and readable by its requester only.
    let r = h
        .get(
            &format!("/api/status/{}/", st["id"].as_str().unwrap()),
            Some(&tok),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), st);
    let (_, other) = h.user("bob", None, "reader").await;
    let r = h
        .get(
            &format!("/api/status/{}/", st["id"].as_str().unwrap()),
            Some(&other),
        )
        .await;
    assert_taxii_error(&r, StatusCode::NOT_FOUND);
    let r = h
        .get(&format!("/api/collections/{cid}/objects/"), Some(&tok))
        .await;
    assert_eq!(
        ids(&r.json()),
        vec!["indicator--00000000-0000-4000-8000-000000000001"]
    );
}

/// A request larger than one checking batch (objects are checked a batch at
/// a time while the store writes the batch before): every object is
/// reported once, failures by their index in the envelope, a repeat within
/// the request is "already in the collection", and the collection keeps the
/// posted order.
#[tokio::test]
async fn a_post_of_many_batches_reports_each_object_in_order() {
    let (h, cid, tok) = setup().await;
    let uri = format!("/api/collections/{cid}/objects/");
    let bad = [3usize, 300, 699];
    let mut objects: Vec<Value> = (0..700u32)
        .map(|i| {
            if bad.contains(&(i as usize)) {
                json!({"type": "indicator", "id": format!("indicator--bad-{i}"), "spec_version": "2.1"})
            } else {
                indicator(1000 + i, "2024-01-01T00:00:00.000Z", &[])
            }
        })
        .collect();
    // Object 520 repeats object 10, two checking batches later.
    let repeat = 520;
    objects[repeat] = objects[10].clone();
    let r = h.post(&uri, Some(&tok), &envelope(objects.clone())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let st = r.json();
    assert_eq!(st["status"], "complete");
    assert_eq!(counts(&st), (700, 697, 3));
    let failures: Vec<String> = st["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    for (f, i) in failures.iter().zip(bad) {
        assert!(f.starts_with(&format!("objects[{i}]: ")), "{f}");
    }
    let successes = st["successes"].as_array().unwrap();
    let new: Vec<&Value> = successes
        .iter()
        .filter(|s| s.get("message").is_none())
        .collect();
    let again: Vec<&Value> = successes
        .iter()
        .filter(|s| s.get("message").is_some())
        .collect();
    assert_eq!((new.len(), again.len()), (696, 1));
    assert_eq!(again[0]["id"], objects[10]["id"]);
    assert_eq!(again[0]["message"], "already in the collection");
    // Every success names the object and its version, in the posted order.
    let expected_successes: Vec<Value> = (0..700usize)
        .filter(|i| !bad.contains(i))
        .map(|i| {
            let mut e = json!({"id": objects[i]["id"], "version": objects[i]["modified"]});
            if i == repeat {
                e["message"] = json!("already in the collection");
            }
            e
        })
        .collect();
    assert_eq!(successes, &expected_successes);
    let stored = ids(&h.get(&format!("{uri}?limit=1000"), Some(&tok)).await.json());
    let expected: Vec<String> = (0..700usize)
        .filter(|i| !bad.contains(i) && *i != repeat)
        .map(|i| objects[i]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, expected);
    // An object of the third batch is stored as it was posted.
    let r = h
        .get(
            &format!("{uri}{}/", objects[600]["id"].as_str().unwrap()),
            Some(&tok),
        )
        .await;
    assert_eq!(r.json()["objects"][0], objects[600], "{}", r.text);
}

/// Posts `body` (JSON text as it is) to `uri` with `token`.
async fn post_text(h: &TestHub, uri: &str, token: &str, body: &str) -> Resp {
    h.call_with(
        Method::POST,
        uri,
        Auth::Bearer(token),
        Some(body.to_string()),
        &[("accept", TAXII), ("content-type", TAXII)],
    )
    .await
}

/// The hub stores and serves the text a client posted — its key order,
/// number forms and escapes — with only the white space between tokens
/// dropped; a re-serialising parser would sort the keys, write `1.5` and
/// turn the escape into the character.
#[tokio::test]
async fn posted_objects_are_served_as_posted() {
    let (h, cid, tok) = setup().await;
    let uri = format!("/api/collections/{cid}/objects/");
    let compact = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000a1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"caf\u00e9 \"c2\"","x_score":1.50,"pattern":"[domain-name:value = 'a b.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}"#;
    let pretty = "{\n  \"type\" : \"indicator\",\t\"id\": \"indicator--00000000-0000-4000-8000-0000000000a2\",\r\n  \"spec_version\": \"2.1\", \"created\": \"2024-01-01T00:00:00.000Z\",\n  \"modified\": \"2024-01-01T00:00:00.000Z\", \"labels\": [ \"a  b\" , \"c\\td\" ],\n  \"pattern\": \"[domain-name:value = 'x.example']\", \"pattern_type\": \"stix\", \"valid_from\": \"2024-01-01T00:00:00Z\"\n}";
    let body = format!("{{ \"objects\" : [ {compact} ,\n{pretty} ] }}");
    let r = post_text(&h, &uri, &tok, &body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(counts(&r.json()), (2, 2, 0), "{}", r.text);
    let r = h.get(&uri, Some(&tok)).await;
    assert_eq!(r.status, StatusCode::OK);
    let pretty_minified = r#"{"type":"indicator","id":"indicator--00000000-0000-4000-8000-0000000000a2","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","labels":["a  b","c\td"],"pattern":"[domain-name:value = 'x.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}"#;
    assert!(
        r.text
            .contains(&format!(r#""objects":[{compact},{pretty_minified}]"#)),
        "{}",
        r.text
    );
    let one = h
        .get(
            &format!("{uri}indicator--00000000-0000-4000-8000-0000000000a1/"),
            Some(&tok),
        )
        .await;
    assert!(one.text.contains(compact), "{}", one.text);
}

/// An object with the same key twice is refused (STIX content is I-JSON):
/// its status entry names it, the key and where the key is, and the other
/// objects of the request are stored.
#[tokio::test]
async fn duplicate_keys_are_refused_by_name() {
    let (h, cid, tok) = setup().await;
    let uri = format!("/api/collections/{cid}/objects/");
    let good = indicator(7, "2024-01-01T00:00:00.000Z", &[]).to_string();
    let top = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000b1","created":"2024-01-01T00:00:00.000Z","modified":"2024-02-01T00:00:00.000Z","name":"first","name":"second","pattern":"[domain-name:value = 'x.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}"#;
    let nested = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-0000000000b2","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","external_references":[{"source_name":"a","url":"https://a.example","url":"https://b.example"}],"pattern":"[domain-name:value = 'x.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}"#;
    let body = format!(r#"{{"objects":[{top},{good},{nested}]}}"#);
    let r = post_text(&h, &uri, &tok, &body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let st = r.json();
    assert_eq!(counts(&st), (3, 1, 2), "{}", r.text);
    assert_eq!(
        st["failures"][0],
        json!({"id": "indicator--00000000-0000-4000-8000-0000000000b1",
            "version": "2024-02-01T00:00:00.000Z",
            "message": "objects[0]: /: duplicate key \"name\" (an object's keys must be unique)"})
    );
    assert_eq!(
        st["failures"][1]["message"],
        "objects[2]: /external_references/0: duplicate key \"url\" (an object's keys must be unique)"
    );
    assert_eq!(
        ids(&h.get(&uri, Some(&tok)).await.json()),
        vec!["indicator--00000000-0000-4000-8000-000000000007"]
    );
}

#[tokio::test]
async fn large_posts_are_pending_then_complete() {
    let h = hub_with(HubConfig {
        pending_threshold: 10,
        ..HubConfig::default()
    })
    .await;
    let org = h.org("Lab").await;
    let (_, tok) = h.user("ana", Some(org), "contributor").await;
    let cid = h.collection("intel", false, None).await;
    h.grant(&cid, "org", org, true, true).await;
    let objects: Vec<Value> = (0..35)
        .map(|i| indicator(i, "2024-01-01T00:00:00.000Z", &[]))
        .collect();
    let r = h
        .post(
            &format!("/api/collections/{cid}/objects/"),
            Some(&tok),
            &envelope(objects),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let st = r.json();
    assert_eq!(st["status"], "pending");
    assert_eq!(st["pending_count"], 35);
    let sid = st["id"].as_str().unwrap().to_string();
    let mut done = Value::Null;
    for _ in 0..200 {
        let s = h
            .get(&format!("/api/status/{sid}/"), Some(&tok))
            .await
            .json();
        if s["status"] == "complete" {
            done = s;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(done["success_count"], 35, "{done}");
    assert_eq!(done["pending_count"], 0);
}

#[tokio::test]
async fn filters_and_date_added_headers() {
    let (h, cid, tok) = setup().await;
    let uri = format!("/api/collections/{cid}/objects/");
    let malware = json!({"type": "malware", "spec_version": "2.1", "id": "malware--00000000-0000-4000-8000-000000000009",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": "Pegasus", "is_family": true});
    h.post(
        &uri,
        Some(&tok),
        &envelope(vec![indicator(1, "2024-01-01T00:00:00.000Z", &[]), malware]),
    )
    .await;
    let r = h
        .get(&format!("{uri}?match[type]=malware"), Some(&tok))
        .await;
    assert_eq!(
        ids(&r.json()),
        vec!["malware--00000000-0000-4000-8000-000000000009"]
    );
    let r = h.get(&format!("{uri}?match[id]=indicator--00000000-0000-4000-8000-000000000001,malware--00000000-0000-4000-8000-000000000009"), Some(&tok)).await;
    assert_eq!(ids(&r.json()).len(), 2);
    let r = h
        .get(&format!("{uri}?match[spec_version]=2.0"), Some(&tok))
        .await;
    assert!(ids(&r.json()).is_empty());
    let first = h.get(&uri, Some(&tok)).await;
    let f = first
        .header("x-taxii-date-added-first")
        .unwrap()
        .to_string();
    let l = first.header("x-taxii-date-added-last").unwrap().to_string();
    assert!(f < l, "{f} < {l}");
    let r = h.get(&format!("{uri}?added_after={f}"), Some(&tok)).await;
    assert_eq!(
        ids(&r.json()),
        vec!["malware--00000000-0000-4000-8000-000000000009"]
    );
    // Empty results still carry both headers.
    let r = h.get(&format!("{uri}?added_after={l}"), Some(&tok)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(ids(&r.json()).is_empty());
    assert_eq!(r.json()["more"], false);
    assert_eq!(r.header("x-taxii-date-added-first"), Some(l.as_str()));
    assert_eq!(r.header("x-taxii-date-added-last"), Some(l.as_str()));
}

#[tokio::test]
async fn pagination_with_and_without_limit() {
    let h = hub_with(HubConfig {
        page_size: 4,
        ..HubConfig::default()
    })
    .await;
    let org = h.org("Lab").await;
    let (_, tok) = h.user("ana", Some(org), "contributor").await;
    let (_, other) = h.user("bob", Some(org), "reader").await;
    let cid = h.collection("intel", false, None).await;
    h.grant(&cid, "org", org, true, true).await;
    let uri = format!("/api/collections/{cid}/objects/");
    let objects: Vec<Value> = (0..10)
        .map(|i| indicator(i, "2024-01-01T00:00:00.000Z", &[]))
        .collect();
    h.post(&uri, Some(&tok), &envelope(objects)).await;
    for (query, pages) in [("limit=3", 4), ("", 3)] {
        let mut seen = Vec::new();
        let mut next: Option<String> = None;
        let mut n = 0;
        loop {
            let mut q = query.to_string();
            if let Some(t) = &next {
                q = if q.is_empty() {
                    format!("next={t}")
                } else {
                    format!("{q}&next={t}")
                };
            }
            let r = h.get(&format!("{uri}?{q}"), Some(&tok)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let j = r.json();
            n += 1;
            seen.extend(ids(&j));
            if j["more"] != true {
                assert!(j.get("next").is_none());
                break;
            }
            next = Some(j["next"].as_str().unwrap().to_string());
            // A token works only for the caller and the filters it was issued for.
            let r = h
                .get(
                    &format!("{uri}?next={}", next.as_ref().unwrap()),
                    Some(&other),
                )
                .await;
            assert_taxii_error(&r, StatusCode::BAD_REQUEST);
            let r = h
                .get(
                    &format!("{uri}?match[type]=malware&next={}", next.as_ref().unwrap()),
                    Some(&tok),
                )
                .await;
            assert_taxii_error(&r, StatusCode::BAD_REQUEST);
        }
        assert_eq!(n, pages, "pages for {query:?}");
        let expected: Vec<String> = (0..10)
            .map(|i| format!("indicator--00000000-0000-4000-8000-{i:012}"))
            .collect();
        assert_eq!(seen, expected);
    }
}

#[tokio::test]
async fn versions_object_by_id_and_manifest() {
    let (h, cid, tok) = setup().await;
    let uri = format!("/api/collections/{cid}/objects/");
    let v = [
        "2024-01-01T00:00:00.000Z",
        "2024-02-01T00:00:00.000Z",
        "2024-03-01T00:00:00.000Z",
    ];
    h.post(
        &uri,
        Some(&tok),
        &envelope(v.iter().map(|m| indicator(1, m, &[])).collect()),
    )
    .await;
    let id = "indicator--00000000-0000-4000-8000-000000000001";
    let r = h.get(&format!("{uri}{id}/versions/"), Some(&tok)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["versions"], json!(v));
    assert!(r.header("x-taxii-date-added-first").is_some());
    let modified = |r: &Resp| -> Vec<String> {
        r.json()["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["modified"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        modified(&h.get(&format!("{uri}{id}/"), Some(&tok)).await),
        [v[2]]
    );
    assert_eq!(
        modified(
            &h.get(&format!("{uri}{id}/?match[version]=first"), Some(&tok))
                .await
        ),
        [v[0]]
    );
    assert_eq!(
        modified(
            &h.get(&format!("{uri}{id}/?match[version]=all"), Some(&tok))
                .await
        ),
        v
    );
    assert_eq!(
        modified(
            &h.get(&format!("{uri}{id}/?match[version]={}", v[1]), Some(&tok))
                .await
        ),
        [v[1]]
    );
    assert_eq!(
        modified(
            &h.get(&format!("{uri}?match[version]=first,last"), Some(&tok))
                .await
        ),
        [v[0], v[2]]
    );
    let m = h
        .get(
            &format!("/api/collections/{cid}/manifest/?match[version]=all"),
            Some(&tok),
        )
        .await;
    assert_eq!(m.status, StatusCode::OK);
    let recs = m.json()["objects"].as_array().unwrap().clone();
    assert_eq!(recs.len(), 3);
    for (rec, ver) in recs.iter().zip(v) {
        assert_eq!(rec["id"], id);
        assert_eq!(rec["version"], ver);
        assert_eq!(rec["media_type"], "application/stix+json;version=2.1");
        assert!(rec["date_added"].as_str().unwrap().ends_with('Z'));
    }
    let r = h
        .get(
            &format!("{uri}indicator--00000000-0000-4000-8000-000000000077/"),
            Some(&tok),
        )
        .await;
    assert_taxii_error(&r, StatusCode::NOT_FOUND);
    let r = h
        .get(
            &format!("{uri}indicator--00000000-0000-4000-8000-000000000077/versions/"),
            Some(&tok),
        )
        .await;
    assert_taxii_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_follows_the_permission_table() {
    let (h, cid, tok) = setup().await;
    let uri = format!("/api/collections/{cid}/objects/");
    let v = ["2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"];
    h.post(
        &uri,
        Some(&tok),
        &envelope(v.iter().map(|m| indicator(1, m, &[])).collect()),
    )
    .await;
    let id = "indicator--00000000-0000-4000-8000-000000000001";
    // read only → 403; write only → 403; neither → 404.
    let ro = h.org("ReadOnly").await;
    let (_, ro_tok) = h.user("ro", Some(ro), "contributor").await;
    h.grant(&cid, "org", ro, true, false).await;
    let wo = h.org("WriteOnly").await;
    let (_, wo_tok) = h.user("wo", Some(wo), "contributor").await;
    h.grant(&cid, "org", wo, false, true).await;
    let (_, none_tok) = h.user("none", None, "contributor").await;
    let del = |t: String, q: &'static str| {
        let h = &h;
        let u = format!("{uri}{id}/{q}");
        async move { h.call(Method::DELETE, &u, Auth::Bearer(&t), None).await }
    };
    assert_taxii_error(&del(ro_tok, "").await, StatusCode::FORBIDDEN);
    assert_taxii_error(&del(wo_tok, "").await, StatusCode::FORBIDDEN);
    assert_taxii_error(&del(none_tok, "").await, StatusCode::NOT_FOUND);
    let r = del(tok.clone(), "?match[version]=2024-01-01T00:00:00.000Z").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = h.get(&format!("{uri}{id}/versions/"), Some(&tok)).await;
    assert_eq!(r.json()["versions"], json!([v[1]]));
    assert_eq!(del(tok.clone(), "").await.status, StatusCode::OK);
    assert_taxii_error(&del(tok.clone(), "").await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn request_size_limit_is_a_taxii_413() {
    let h = hub_with(HubConfig {
        max_content_length: 200,
        ..HubConfig::default()
    })
    .await;
    let cid = h.collection("intel", false, None).await;
    let big = envelope(
        (0..5)
            .map(|i| indicator(i, "2024-01-01T00:00:00.000Z", &[]))
            .collect(),
    );
    let r = h
        .post(
            &format!("/api/collections/{cid}/objects/"),
            Some(&h.admin.clone()),
            &big,
        )
        .await;
    assert_taxii_error(&r, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn tokens_revoked_or_expired_are_refused() {
    let h = hub().await;
    let (uid, tok) = h.user("ana", None, "reader").await;
    assert_eq!(
        h.get("/rest/v1/whoami", Some(&tok)).await.json()["user"]["name"],
        "ana"
    );
    let tokens = h
        .get(&format!("/admin/v1/users/{uid}/tokens"), Some(&h.admin))
        .await;
    assert!(
        !tokens.text.contains(&tok),
        "token secrets are never listed"
    );
    let tid = tokens.json()["tokens"][0]["id"].as_i64().unwrap();
    let r = h
        .call(
            Method::DELETE,
            &format!("/admin/v1/tokens/{tid}"),
            Auth::Bearer(&h.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_taxii_error(
        &h.get("/rest/v1/whoami", Some(&tok)).await,
        StatusCode::UNAUTHORIZED,
    );
    let r = h
        .post(
            &format!("/admin/v1/users/{uid}/tokens"),
            Some(&h.admin),
            &json!({"label": "short", "expires_in_days": 0}),
        )
        .await;
    let expired = r.json()["token"].as_str().unwrap().to_string();
    assert_taxii_error(
        &h.get("/rest/v1/whoami", Some(&expired)).await,
        StatusCode::UNAUTHORIZED,
    );
    // Non-admins cannot administer.
    let (_, reader) = h.user("bob", None, "reader").await;
    assert_taxii_error(
        &h.get("/admin/v1/users", Some(&reader)).await,
        StatusCode::FORBIDDEN,
    );
    assert_taxii_error(
        &h.get("/admin/v1/users", None).await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn rate_limit_per_token() {
    let h = hub_with(HubConfig {
        rate_limit_per_minute: Some(3),
        ..HubConfig::default()
    })
    .await;
    let (_, tok) = h.user("ana", None, "reader").await;
    for _ in 0..3 {
        assert_eq!(
            h.get("/rest/v1/whoami", Some(&tok)).await.status,
            StatusCode::OK
        );
    }
    assert_taxii_error(
        &h.get("/rest/v1/whoami", Some(&tok)).await,
        StatusCode::TOO_MANY_REQUESTS,
    );
}

#[tokio::test]
async fn health_metrics_openapi() {
    let (h, cid, tok) = setup().await;
    h.post(
        &format!("/api/collections/{cid}/objects/"),
        Some(&tok),
        &envelope(vec![indicator(1, "2024-01-01T00:00:00.000Z", &[TLP_GREEN])]),
    )
    .await;
    assert_eq!(h.get("/healthz", None).await.status, StatusCode::OK);
    let m = h.get("/metrics", None).await;
    assert!(m.text.contains("vigil_objects_added_total 1"), "{}", m.text);
    assert!(m.text.contains("vigil_http_responses_total{class=\"2xx\"}"));
    let o = h.get("/openapi.json", None).await.json();
    assert_eq!(o["openapi"], "3.1.0");
    assert!(o["paths"]["/rest/v1/stats"].is_object());
}
