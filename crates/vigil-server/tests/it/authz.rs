//! The authorisation matrix: every role × marking × read endpoint, on a
//! private and on a public collection. The expected visibility is written
//! out by hand from the TLP 2.0 rules of the hub, and every response body is
//! searched for the ids of objects the caller must not see, so nothing leaks
//! through lists, pages, `next` tokens, manifests, versions, counts or errors.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const WHITE_V1: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const RED_V1: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

/// The marked objects: (name, object).
fn objects() -> Vec<(&'static str, Value)> {
    let mut granular = indicator(8, "2024-01-01T00:00:00.000Z", &[GREEN]);
    granular["granular_markings"] = json!([{ "marking_ref": RED, "selectors": ["pattern"] }]);
    vec![
        ("clear", indicator(1, "2024-01-01T00:00:00.000Z", &[CLEAR])),
        ("green", indicator(2, "2024-01-01T00:00:00.000Z", &[GREEN])),
        ("amber", indicator(3, "2024-01-01T00:00:00.000Z", &[AMBER])),
        (
            "strict",
            indicator(4, "2024-01-01T00:00:00.000Z", &[STRICT]),
        ),
        ("red", indicator(5, "2024-01-01T00:00:00.000Z", &[RED])),
        ("unmarked", indicator(6, "2024-01-01T00:00:00.000Z", &[])),
        (
            "white_v1",
            indicator(7, "2024-01-01T00:00:00.000Z", &[WHITE_V1]),
        ),
        ("granular_red", granular),
        (
            "red_v1",
            indicator(9, "2024-01-01T00:00:00.000Z", &[RED_V1]),
        ),
    ]
}

/// Who sees what, by hand from the rules (the submitter is `a_contrib` of
/// organisation A; A owns the private collection and has read+write on it;
/// B has a read grant; `b_named` has a user grant; C has nothing).
fn expected(who: &str, public: bool) -> BTreeSet<&'static str> {
    let clear = ["clear", "white_v1"];
    let green = ["green"];
    let amber = ["amber", "unmarked"];
    let strict = ["strict"];
    let red = ["red", "red_v1", "granular_red"];
    let mut s = BTreeSet::new();
    let mut add = |xs: &[&'static str]| s.extend(xs.iter().copied());
    match (who, public) {
        ("anonymous", false) | ("c_reader", false) => {}
        ("anonymous", true) => add(&clear),
        ("c_reader", true) | ("admin", _) => {
            add(&clear);
            add(&green);
        }
        ("a_contrib", _) => {
            add(&clear);
            add(&green);
            add(&amber);
            add(&strict);
            add(&red);
        }
        ("a_reader", _) => {
            add(&clear);
            add(&green);
            add(&amber);
            add(&strict);
        }
        ("b_reader", _) => {
            add(&clear);
            add(&green);
            add(&amber);
        }
        ("b_named", _) => {
            add(&clear);
            add(&green);
            add(&amber);
            add(&red);
        }
        other => panic!("no expectation for {other:?}"),
    }
    s
}

/// Whether the caller may open the collection at all.
fn can_open(who: &str, public: bool) -> bool {
    public || !matches!(who, "anonymous" | "c_reader")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_leaks_across_roles_markings_and_endpoints() {
    matrix(hub().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_leaks_across_roles_markings_and_endpoints_postgres() {
    if let Some(h) = hub_on_postgres().await {
        matrix(h).await;
    }
}

async fn matrix(h: TestHub) {
    let a = h.org("A").await;
    let b = h.org("B").await;
    let c = h.org("C").await;
    let (_, a_contrib) = h.user("a_contrib", Some(a), "contributor").await;
    let (_, a_reader) = h.user("a_reader", Some(a), "reader").await;
    let (_, b_reader) = h.user("b_reader", Some(b), "reader").await;
    let (b_named_id, b_named) = h.user("b_named", Some(b), "reader").await;
    let (_, c_reader) = h.user("c_reader", Some(c), "reader").await;
    let private = h.collection("private", false, Some(a)).await;
    let public = h.collection("public", true, Some(a)).await;
    for cid in [&private, &public] {
        h.grant(cid, "org", a, true, true).await;
        h.grant(cid, "org", b, true, false).await;
        h.grant(cid, "user", b_named_id, true, false).await;
        let objs: Vec<Value> = objects().into_iter().map(|(_, o)| o).collect();
        let r = h
            .post(
                &format!("/api/collections/{cid}/objects/"),
                Some(&a_contrib),
                &envelope(objs),
            )
            .await;
        assert_eq!(r.json()["success_count"], 9, "{}", r.text);
    }
    let names: Vec<(&str, String)> = objects()
        .into_iter()
        .map(|(n, o)| (n, o["id"].as_str().unwrap().to_string()))
        .collect();
    let admin = h.admin.clone();
    let callers: Vec<(&str, Option<&str>)> = vec![
        ("anonymous", None),
        ("admin", Some(&admin)),
        ("a_contrib", Some(&a_contrib)),
        ("a_reader", Some(&a_reader)),
        ("b_reader", Some(&b_reader)),
        ("b_named", Some(&b_named)),
        ("c_reader", Some(&c_reader)),
    ];
    let mut checks = 0usize;
    for (cid, is_public) in [(&private, false), (&public, true)] {
        for (who, tok) in &callers {
            let want = expected(who, is_public);
            let hidden: Vec<&String> = names
                .iter()
                .filter(|(n, _)| !want.contains(n))
                .map(|(_, id)| id)
                .collect();
            let visible: BTreeSet<String> = names
                .iter()
                .filter(|(n, _)| want.contains(n))
                .map(|(_, id)| id.clone())
                .collect();
            let no_leak = |r: &Resp, what: &str| {
                for id in &hidden {
                    assert!(
                        !r.text.contains(id.as_str()),
                        "{who} on {cid} ({what}) sees hidden {id}: {}",
                        r.text
                    );
                }
            };
            let base = format!("/api/collections/{cid}");
            let denied = |r: &Resp| {
                let code = if *who == "anonymous" {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_taxii_error(r, code);
            };
            // The collection list and the collection itself.
            let r = h.get("/api/collections/", *tok).await;
            assert_eq!(
                r.text.contains(cid.as_str()),
                can_open(who, is_public),
                "{who} lists {cid}: {}",
                r.text
            );
            let endpoints = [
                format!("{base}/"),
                format!("{base}/objects/"),
                format!("{base}/manifest/"),
                format!("{base}/objects/?match[version]=all"),
                format!(
                    "{base}/objects/?match[id]={}",
                    names
                        .iter()
                        .map(|(_, i)| i.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            ];
            if !can_open(who, is_public) {
                for e in &endpoints {
                    let r = h.get(e, *tok).await;
                    denied(&r);
                    no_leak(&r, e);
                    checks += 1;
                }
                // Same answer as for a collection that does not exist.
                let ghost = h
                    .get(
                        "/api/collections/00000000-0000-4000-8000-00000000dead/objects/",
                        *tok,
                    )
                    .await;
                let real = h.get(&format!("{base}/objects/"), *tok).await;
                assert_eq!(
                    (ghost.status, ghost.json()["title"].clone()),
                    (real.status, real.json()["title"].clone())
                );
                // Search in that collection: the same refusal, nothing counted.
                let r = h
                    .get(
                        &format!("/rest/v1/search?q=example.com&collection={cid}"),
                        *tok,
                    )
                    .await;
                denied(&r);
                no_leak(&r, "search");
                assert!(!r.text.contains("total"), "{who} search: {}", r.text);
                checks += 1;
                continue;
            }
            // Objects, manifest and filters list exactly the visible set.
            for e in &endpoints[1..] {
                let r = h.get(e, *tok).await;
                assert_eq!(r.status, StatusCode::OK, "{who} {e}: {}", r.text);
                let got: BTreeSet<String> = r.json()["objects"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o["id"].as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(got, visible, "{who} on {e}");
                no_leak(&r, e);
                checks += 1;
            }
            // Paging one object at a time visits the same set, and the number
            // of pages gives nothing more away.
            let mut paged = BTreeSet::new();
            let mut next: Option<String> = None;
            let mut pages = 0;
            loop {
                let q = match &next {
                    Some(t) => format!("{base}/objects/?limit=1&next={t}"),
                    None => format!("{base}/objects/?limit=1"),
                };
                let r = h.get(&q, *tok).await;
                no_leak(&r, "page");
                let j = r.json();
                pages += 1;
                if let Some(o) = j["objects"].as_array() {
                    paged.extend(o.iter().map(|o| o["id"].as_str().unwrap().to_string()));
                }
                if j["more"] != true {
                    break;
                }
                next = j["next"].as_str().map(String::from);
                assert!(pages <= 20);
            }
            assert_eq!(paged, visible, "{who} paging");
            assert_eq!(pages, visible.len().max(1), "{who} page count");
            checks += 1;
            // Object by id and versions: 200 for visible, the same 404 as a
            // missing object for hidden ones.
            let missing = "indicator--00000000-0000-4000-8000-0000000000ff";
            let missing_msg = |r: &Resp| {
                r.json()["description"]
                    .as_str()
                    .unwrap()
                    .replace(missing, "ID")
            };
            let m_obj = h.get(&format!("{base}/objects/{missing}/"), *tok).await;
            let m_ver = h
                .get(&format!("{base}/objects/{missing}/versions/"), *tok)
                .await;
            for (name, id) in &names {
                for (suffix, reference) in [("", &m_obj), ("versions/", &m_ver)] {
                    let r = h.get(&format!("{base}/objects/{id}/{suffix}"), *tok).await;
                    if want.contains(name) {
                        assert_eq!(
                            r.status,
                            StatusCode::OK,
                            "{who} {name} {suffix}: {}",
                            r.text
                        );
                    } else {
                        assert_taxii_error(&r, StatusCode::NOT_FOUND);
                        assert_eq!(
                            r.json()["description"]
                                .as_str()
                                .unwrap()
                                .replace(id.as_str(), "ID"),
                            missing_msg(reference)
                        );
                        no_leak(&r, "object by id");
                    }
                    checks += 1;
                }
            }
            // Search (the text index): exactly the visible set and its
            // count, for a domain, a prefix and a phrase, and page by page.
            for q in [
                "example.com",
                "exam",
                "%22domain%20name%20value%20example%22",
            ] {
                let e = format!("/rest/v1/search?q={q}&collection={cid}&limit=100");
                let r = h.get(&e, *tok).await;
                assert_eq!(r.status, StatusCode::OK, "{who} {e}: {}", r.text);
                let j = r.json();
                let got: BTreeSet<String> = j["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].as_str().unwrap().to_string())
                    .collect();
                assert_eq!(got, visible, "{who} on {e}");
                assert_eq!(j["total"], visible.len(), "{who} on {e}");
                no_leak(&r, &e);
                checks += 1;
            }
            let mut paged = BTreeSet::new();
            for offset in 0..=visible.len() {
                let e = format!(
                    "/rest/v1/search?q=example.com&collection={cid}&limit=1&offset={offset}"
                );
                let r = h.get(&e, *tok).await;
                no_leak(&r, &e);
                let j = r.json();
                assert_eq!(j["total"], visible.len(), "{who} on {e}");
                assert_eq!(j["more"], offset + 1 < visible.len(), "{who} on {e}");
                paged.extend(
                    j["results"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|o| o["id"].as_str().unwrap().to_string()),
                );
                checks += 1;
            }
            assert_eq!(paged, visible, "{who} search paging");
            // Counts in the REST statistics.
            let r = h.get("/rest/v1/stats", *tok).await;
            let count = r.json()["collections"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == cid.as_str())
                .map(|c| c["objects"].as_u64().unwrap());
            assert_eq!(count, Some(visible.len() as u64), "{who} stats");
            checks += 1;
            // Nobody can delete what they cannot see; readers cannot delete at all.
            for (name, id) in &names {
                if want.contains(name) {
                    continue;
                }
                let r = h
                    .call(
                        Method::DELETE,
                        &format!("{base}/objects/{id}/"),
                        tok.map_or(Auth::None, Auth::Bearer),
                        None,
                    )
                    .await;
                assert!(r.status.is_client_error(), "{who} deleted hidden {name}");
                no_leak(&r, "delete");
                checks += 1;
            }
        }
    }
    // Still all there after the delete attempts.
    let r = h
        .get(
            &format!("/api/collections/{private}/objects/"),
            Some(&a_contrib),
        )
        .await;
    assert_eq!(r.json()["objects"].as_array().unwrap().len(), 9);
    assert!(checks > 300, "{checks} checks");
    eprintln!("authorisation matrix: {checks} checks");
}
