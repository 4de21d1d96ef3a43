//! The storage conformance suite: every test runs against SQLite and, when a
//! test database is available, PostgreSQL (each run in a fresh schema).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use vigil_store::*;

mod oversight;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn sqlite() -> Arc<dyn Store> {
    let dir = std::env::temp_dir().join(unique("vigil_store_test"));
    std::fs::create_dir_all(&dir).unwrap();
    let s = SqliteStore::open(&dir.join("hub.db")).await.unwrap();
    s.migrate().await.unwrap();
    Arc::new(s)
}

async fn postgres() -> Option<Arc<dyn Store>> {
    let url = vigil_testkit::postgres_url()?;
    let s = PgStore::connect(&url, Some(&unique("t"))).await.unwrap();
    s.migrate().await.unwrap();
    Some(Arc::new(s))
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(s) = super::postgres().await { super::$name(s).await }
            })*
        }
    };
}

conformance!(
    migrations_are_idempotent,
    names_are_unique_and_references_checked,
    tokens_are_found_by_hash_and_revocable,
    collections_and_grants,
    duplicates_are_reported_not_stored_twice,
    large_batches_report_each_object_in_order,
    version_filters,
    other_filters,
    pagination_visits_every_object_once,
    visibility_rules,
    delete_only_what_is_visible,
    status_resources,
    objects_and_status_commit_together,
    decisions_and_origins,
    search_finds_words_prefixes_phrases_and_values,
    search_sees_exactly_what_queries_see,
    search_index_follows_new_versions_and_deletes,
    search_indexes_every_object_of_a_many_batch_request,
    relationships_are_found_by_either_end,
);

const C: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

async fn collection(s: &dyn Store, id: &str, owner: Option<i64>) {
    s.create_collection(&NewCollection {
        id: id.into(),
        alias: Some(format!("alias-{id}")),
        title: "Test".into(),
        description: String::new(),
        public: false,
        owner_org: owner,
    })
    .await
    .unwrap();
}

fn obj(
    id: &str,
    t: &str,
    version_us: i64,
    tlp: Tlp,
    org: Option<i64>,
    user: Option<i64>,
) -> NewObject {
    NewObject {
        id: id.into(),
        stix_type: t.into(),
        spec_version: "2.1".into(),
        version: format!("v{version_us}"),
        version_us,
        tlp,
        org_id: org,
        user_id: user,
        body: format!("{{\"id\":\"{id}\",\"v\":{version_us}}}"),
        search: None,
    }
}

fn everything() -> ObjectQuery {
    ObjectQuery::new(C, Visibility::everything())
}

async fn ids(s: &dyn Store, q: &ObjectQuery) -> Vec<(String, String)> {
    s.query_objects(q)
        .await
        .unwrap()
        .objects
        .into_iter()
        .map(|o| (o.id, o.version))
        .collect()
}

async fn migrations_are_idempotent(s: Arc<dyn Store>) {
    let version = s.migrate().await.unwrap();
    assert!(version >= 2, "schema version {version}");
    assert_eq!(s.migrate().await.unwrap(), version);
    assert_eq!(s.init_setting("k", "first").await.unwrap(), "first");
    assert_eq!(s.init_setting("k", "second").await.unwrap(), "first");
    assert_eq!(s.setting("k").await.unwrap().as_deref(), Some("first"));
    assert_eq!(s.setting("missing").await.unwrap(), None);
    s.integrity_check().await.unwrap();
}

async fn names_are_unique_and_references_checked(s: Arc<dyn Store>) {
    let org = s
        .create_org("Citizen Lab", OrgKind::CivilSociety)
        .await
        .unwrap();
    assert!(matches!(
        s.create_org("Citizen Lab", OrgKind::Industry).await,
        Err(StoreError::Conflict { .. })
    ));
    let u = s
        .create_user("ana", Some(org.id), Role::Contributor)
        .await
        .unwrap();
    assert_eq!(s.user_by_name("ana").await.unwrap(), Some(u.clone()));
    assert!(matches!(
        s.create_user("ana", None, Role::Reader).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        s.create_user("bob", Some(9999), Role::Reader).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.orgs().await.unwrap(), vec![org]);
    assert_eq!(s.users().await.unwrap(), vec![u]);
}

async fn tokens_are_found_by_hash_and_revocable(s: Arc<dyn Store>) {
    let u = s.create_user("ana", None, Role::Reader).await.unwrap();
    let t = s
        .create_token(NewToken {
            user_id: u.id,
            hash: [7; 32],
            label: "ci".into(),
            created: 1,
            expires: Some(99),
        })
        .await
        .unwrap();
    let (info, hash, user) = s.token_by_hash(&[7; 32]).await.unwrap().unwrap();
    assert_eq!((info.clone(), hash, user), (t.clone(), [7; 32], u.clone()));
    assert!(s.token_by_hash(&[8; 32]).await.unwrap().is_none());
    assert!(s.revoke_token(t.id, 50).await.unwrap());
    assert!(s.revoke_token(t.id, 60).await.unwrap());
    assert_eq!(
        s.token_by_hash(&[7; 32]).await.unwrap().unwrap().0.revoked,
        Some(50)
    );
    assert!(!s.revoke_token(12345, 1).await.unwrap());
    assert_eq!(s.tokens(u.id).await.unwrap().len(), 1);
    assert!(matches!(
        s.create_token(NewToken {
            user_id: 999,
            hash: [9; 32],
            label: String::new(),
            created: 1,
            expires: None
        })
        .await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn collections_and_grants(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    assert_eq!(s.collection(C).await.unwrap().unwrap().id, C);
    assert_eq!(
        s.collection(&format!("alias-{C}"))
            .await
            .unwrap()
            .unwrap()
            .id,
        C
    );
    assert!(s.collection("nope").await.unwrap().is_none());
    let g = Grant {
        collection_id: C.into(),
        subject: Subject::Org(1),
        can_read: true,
        can_write: false,
    };
    s.set_grant(&g).await.unwrap();
    let g2 = Grant {
        can_write: true,
        ..g.clone()
    };
    s.set_grant(&g2).await.unwrap();
    assert_eq!(s.grants(C).await.unwrap(), vec![g2]);
    let bad = Grant {
        collection_id: "missing".into(),
        ..g
    };
    assert!(matches!(
        s.set_grant(&bad).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.collections().await.unwrap().len(), 1);
}

async fn duplicates_are_reported_not_stored_twice(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    let out = s
        .add_objects(
            C,
            vec![
                obj("a--1", "a", 10, Tlp::Clear, None, None),
                obj("a--1", "a", 10, Tlp::Clear, None, None),
                obj("a--1", "a", 20, Tlp::Clear, None, None),
            ],
        )
        .await
        .unwrap();
    let Added::Inserted(d1) = out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(out[1], Added::Duplicate);
    let Added::Inserted(d2) = out[2] else {
        panic!("{out:?}")
    };
    assert!(d2 > d1, "date_added increases");
    let again = s
        .add_objects(C, vec![obj("a--1", "a", 20, Tlp::Clear, None, None)])
        .await
        .unwrap();
    assert_eq!(again, vec![Added::Duplicate]);
    let mut q = everything();
    q.versions = VersionMatch::all();
    assert_eq!(s.count_objects(&q).await.unwrap(), 2);
    assert!(matches!(
        s.add_objects("missing", vec![obj("a--2", "a", 1, Tlp::Clear, None, None)])
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A request of several hundred objects (the store writes them a chunk of
/// rows per statement) with duplicates inside the request, across chunks,
/// and of objects stored before: one outcome per object, in order, and
/// `date_added` increasing over the new ones.
async fn large_batches_report_each_object_in_order(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    let before = s
        .add_objects(C, vec![obj("b--5", "b", 1, Tlp::Clear, None, None)])
        .await
        .unwrap();
    assert!(matches!(before[0], Added::Inserted(_)));
    // Object i is "b--(i mod 250)": objects 250..300 repeat 0..50, and
    // b--5 was stored before.
    let batch: Vec<NewObject> = (0..300)
        .map(|i| obj(&format!("b--{}", i % 250), "b", 1, Tlp::Clear, None, None))
        .collect();
    let out = s.add_objects(C, batch).await.unwrap();
    assert_eq!(out.len(), 300);
    let mut last = 0;
    for (i, o) in out.iter().enumerate() {
        let duplicate = i == 5 || i >= 250;
        match o {
            Added::Duplicate => assert!(duplicate, "object {i} reported a duplicate"),
            Added::Inserted(d) => {
                assert!(!duplicate, "object {i} reported new");
                assert!(*d > last, "object {i}: date_added {d} after {last}");
                last = *d;
            }
        }
    }
    assert_eq!(s.count_objects(&everything()).await.unwrap(), 250);
    let mut q = everything();
    q.ids = vec!["b--249".into()];
    assert_eq!(
        ids(s.as_ref(), &q).await,
        vec![("b--249".into(), "v1".into())]
    );
}

async fn version_filters(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    s.add_objects(
        C,
        vec![
            obj("a--1", "a", 10, Tlp::Clear, None, None),
            obj("a--1", "a", 30, Tlp::Clear, None, None),
            obj("a--1", "a", 20, Tlp::Clear, None, None),
            obj("b--1", "b", 5, Tlp::Clear, None, None),
        ],
    )
    .await
    .unwrap();
    let mut q = everything();
    let v = |x: &str, n: i64| (x.to_string(), format!("v{n}"));
    assert_eq!(ids(s.as_ref(), &q).await, vec![v("a--1", 30), v("b--1", 5)]);
    q.versions = VersionMatch {
        first: true,
        ..Default::default()
    };
    assert_eq!(ids(s.as_ref(), &q).await, vec![v("a--1", 10), v("b--1", 5)]);
    q.versions = VersionMatch {
        first: true,
        last: true,
        ..Default::default()
    };
    assert_eq!(
        ids(s.as_ref(), &q).await,
        vec![v("a--1", 10), v("a--1", 30), v("b--1", 5)]
    );
    q.versions = VersionMatch {
        exact: vec![20],
        ..Default::default()
    };
    assert_eq!(ids(s.as_ref(), &q).await, vec![v("a--1", 20)]);
    q.versions = VersionMatch::all();
    assert_eq!(ids(s.as_ref(), &q).await.len(), 4);
    q.versions = VersionMatch::default();
    assert!(ids(s.as_ref(), &q).await.is_empty());
}

async fn other_filters(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    let mut spec20 = obj("c--1", "c", 1, Tlp::Clear, None, None);
    spec20.spec_version = "2.0".into();
    let added = s
        .add_objects(
            C,
            vec![
                obj("a--1", "a", 1, Tlp::Clear, None, None),
                obj("b--1", "b", 1, Tlp::Clear, None, None),
                spec20,
            ],
        )
        .await
        .unwrap();
    let Added::Inserted(first) = added[0] else {
        panic!()
    };
    let mut q = everything();
    q.types = vec!["b".into(), "c".into()];
    assert_eq!(ids(s.as_ref(), &q).await.len(), 2);
    q.spec_versions = vec!["2.1".into()];
    assert_eq!(
        ids(s.as_ref(), &q).await,
        vec![("b--1".to_string(), "v1".to_string())]
    );
    let mut q = everything();
    q.ids = vec!["a--1".into(), "zz--1".into()];
    assert_eq!(ids(s.as_ref(), &q).await.len(), 1);
    let mut q = everything();
    q.added_after = Some(first);
    assert_eq!(
        ids(s.as_ref(), &q).await.len(),
        2,
        "added_after is exclusive"
    );
    let mut q = everything();
    q.bodies = false;
    assert!(s
        .query_objects(&q)
        .await
        .unwrap()
        .objects
        .iter()
        .all(|o| o.body.is_none()));
    q.bodies = true;
    let page = s.query_objects(&q).await.unwrap();
    assert_eq!(
        page.objects[0].body.as_deref(),
        Some("{\"id\":\"a--1\",\"v\":1}")
    );
}

async fn pagination_visits_every_object_once(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    let objects: Vec<NewObject> = (0..95)
        .map(|i| obj(&format!("a--{i}"), "a", 1, Tlp::Clear, None, None))
        .collect();
    s.add_objects(C, objects).await.unwrap();
    let mut q = everything();
    q.limit = 10;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = s.query_objects(&q).await.unwrap();
        pages += 1;
        let last = page.objects.last().map(|o| Cursor {
            date_added: o.date_added,
            pk: o.pk,
        });
        seen.extend(page.objects.into_iter().map(|o| o.id));
        if !page.more {
            break;
        }
        q.after = last;
    }
    assert_eq!(pages, 10);
    let expected: Vec<String> = (0..95).map(|i| format!("a--{i}")).collect();
    assert_eq!(seen, expected);
}

async fn visibility_rules(s: Arc<dyn Store>) {
    let owner = s.create_org("Owner", OrgKind::Government).await.unwrap();
    collection(s.as_ref(), C, Some(owner.id)).await;
    // Submitted by org 1 / user 11.
    s.add_objects(
        C,
        vec![
            obj("clear--1", "x", 1, Tlp::Clear, Some(1), Some(11)),
            obj("green--1", "x", 1, Tlp::Green, Some(1), Some(11)),
            obj("amber--1", "x", 1, Tlp::Amber, Some(1), Some(11)),
            obj("strict--1", "x", 1, Tlp::AmberStrict, Some(1), Some(11)),
            obj("red--1", "x", 1, Tlp::Red, Some(1), Some(11)),
        ],
    )
    .await
    .unwrap();
    let see = |v: Visibility| {
        let s = s.clone();
        async move {
            let q = ObjectQuery::new(C, v);
            let n = s.count_objects(&q).await.unwrap() as usize;
            let got: Vec<String> = s
                .query_objects(&q)
                .await
                .unwrap()
                .objects
                .into_iter()
                .map(|o| o.id)
                .collect();
            assert_eq!(n, got.len(), "count agrees with the query");
            got
        }
    };
    let base = Visibility {
        level: Tlp::Green,
        org_id: Some(2),
        user_id: Some(22),
        strict: false,
        red: false,
    };
    assert_eq!(see(Visibility::anonymous()).await, ["clear--1"]);
    assert_eq!(see(base).await, ["clear--1", "green--1"]);
    assert_eq!(
        see(Visibility {
            level: Tlp::Amber,
            ..base
        })
        .await,
        ["clear--1", "green--1", "amber--1"]
    );
    assert_eq!(
        see(Visibility {
            strict: true,
            ..base
        })
        .await,
        ["clear--1", "green--1", "strict--1"]
    );
    assert_eq!(
        see(Visibility { red: true, ..base }).await,
        ["clear--1", "green--1", "red--1"]
    );
    // The submitter's organisation sees its AMBER and AMBER+STRICT; only the submitter its RED.
    assert_eq!(
        see(Visibility {
            org_id: Some(1),
            ..base
        })
        .await,
        ["clear--1", "green--1", "amber--1", "strict--1"]
    );
    assert_eq!(
        see(Visibility {
            user_id: Some(11),
            ..base
        })
        .await,
        ["clear--1", "green--1", "red--1"]
    );
    // A newer RED version does not hide the older visible one from "last", nor show through.
    s.add_objects(
        C,
        vec![obj("green--1", "x", 2, Tlp::Red, Some(1), Some(11))],
    )
    .await
    .unwrap();
    let q = ObjectQuery::new(C, base);
    let page = s.query_objects(&q).await.unwrap();
    let g: Vec<_> = page
        .objects
        .iter()
        .filter(|o| o.id == "green--1")
        .map(|o| o.version.clone())
        .collect();
    assert_eq!(g, ["v1"]);
}

async fn delete_only_what_is_visible(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    s.add_objects(
        C,
        vec![
            obj("a--1", "a", 1, Tlp::Clear, None, None),
            obj("a--1", "a", 2, Tlp::Red, None, Some(5)),
            obj("a--1", "a", 3, Tlp::Green, None, None),
        ],
    )
    .await
    .unwrap();
    let mut q = ObjectQuery::new(
        C,
        Visibility {
            level: Tlp::Green,
            org_id: None,
            user_id: Some(9),
            strict: false,
            red: false,
        },
    );
    q.ids = vec!["a--1".into()];
    q.versions = VersionMatch {
        exact: vec![3],
        ..Default::default()
    };
    assert_eq!(s.delete_objects(&q).await.unwrap(), 1);
    q.versions = VersionMatch::all();
    assert_eq!(
        s.delete_objects(&q).await.unwrap(),
        1,
        "the RED version is not this caller's to delete"
    );
    let mut all = everything();
    all.versions = VersionMatch::all();
    assert_eq!(
        ids(s.as_ref(), &all).await,
        vec![("a--1".to_string(), "v2".to_string())]
    );
}

async fn status_resources(s: Arc<dyn Store>) {
    let mut st = StatusRecord {
        id: "2d086da7-4bdc-4f91-900e-d77486753710".into(),
        collection_id: C.into(),
        user_id: Some(3),
        request_timestamp: 42,
        status: "pending".into(),
        body: "{}".into(),
    };
    s.put_status(&st).await.unwrap();
    assert_eq!(s.status(&st.id).await.unwrap(), Some(st.clone()));
    st.status = "complete".into();
    st.body = "{\"status\":\"complete\"}".into();
    s.put_status(&st).await.unwrap();
    assert_eq!(s.status(&st.id).await.unwrap(), Some(st));
    assert_eq!(s.status("other").await.unwrap(), None);
}

/// A status built from the outcomes: how many objects were new.
fn counting_status(id: &str, collection: &str) -> StatusFn {
    let (id, collection) = (id.to_string(), collection.to_string());
    Box::new(move |outcomes: &[Added]| {
        let new = outcomes
            .iter()
            .filter(|o| matches!(o, Added::Inserted(_)))
            .count();
        StatusRecord {
            id,
            collection_id: collection,
            user_id: Some(3),
            request_timestamp: 42,
            status: "complete".into(),
            body: format!("{{\"new\":{new},\"total\":{}}}", outcomes.len()),
        }
    })
}

async fn objects_and_status_commit_together(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    s.add_objects(C, vec![obj("a--1", "a", 10, Tlp::Clear, None, None)])
        .await
        .unwrap();
    let id = "0b6c52ad-5d0c-4f4e-9d2b-1f1c3f0d9a11";
    let (out, record) = s
        .add_objects_with_status(
            C,
            vec![
                obj("a--1", "a", 10, Tlp::Clear, None, None),
                obj("a--2", "a", 10, Tlp::Clear, None, None),
            ],
            counting_status(id, C),
        )
        .await
        .unwrap();
    assert_eq!(out[0], Added::Duplicate);
    assert!(matches!(out[1], Added::Inserted(_)), "{out:?}");
    assert_eq!(record.body, "{\"new\":1,\"total\":2}");
    assert_eq!(s.status(id).await.unwrap(), Some(record));
    assert_eq!(s.count_objects(&everything()).await.unwrap(), 2);

    // A failed insert leaves no status behind.
    let lost = "5f0b8a8e-3c61-4a43-8d0e-6a3c1e2b7c44";
    let e = s
        .add_objects_with_status(
            "missing",
            vec![obj("a--3", "a", 10, Tlp::Clear, None, None)],
            counting_status(lost, "missing"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    assert_eq!(s.status(lost).await.unwrap(), None);
}

async fn decisions_and_origins(s: Arc<dyn Store>) {
    let rec = |key: &str, entity: &str, body: &str| DecisionRecord {
        id: 0,
        query_key: key.into(),
        entity_id: entity.into(),
        user_id: Some(7),
        org_id: None,
        recorded_at: 1_000,
        body: body.into(),
    };
    let a = s.add_decision(&rec("k1", "e1", "{\"n\":1}")).await.unwrap();
    let b = s.add_decision(&rec("k2", "e1", "{\"n\":2}")).await.unwrap();
    let c = s.add_decision(&rec("k1", "e2", "{\"n\":3}")).await.unwrap();
    assert!(a < b && b < c);
    let k1: Vec<String> = s
        .decisions(Some("k1"), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.body)
        .collect();
    assert_eq!(k1, ["{\"n\":1}", "{\"n\":3}"]);
    let last_two: Vec<i64> = s
        .decisions(None, 2)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(last_two, [b, c]);
    assert_eq!(
        s.decisions(Some("k1"), 100).await.unwrap()[0].user_id,
        Some(7)
    );

    collection(s.as_ref(), C, None).await;
    let o = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    s.add_objects(
        C,
        vec![obj(o, "indicator", 2, Tlp::Green, Some(3), Some(4))],
    )
    .await
    .unwrap();
    s.add_objects(C, vec![obj(o, "indicator", 1, Tlp::Red, None, None)])
        .await
        .unwrap();
    let origins = s.object_origins(C, o).await.unwrap();
    assert_eq!(origins.len(), 2);
    assert_eq!(origins[0].version, "v1");
    assert_eq!((origins[0].org_id, origins[0].user_id), (None, None));
    assert_eq!((origins[1].org_id, origins[1].user_id), (Some(3), Some(4)));
    assert!(s
        .object_origins(C, "indicator--missing")
        .await
        .unwrap()
        .is_empty());

    let remote = "http://partner:8080/api/collections/x/";
    let pairs = vec![(o.to_string(), "v2".to_string())];
    s.record_sources(C, remote, 5, &pairs).await.unwrap();
    s.record_sources(C, remote, 9, &pairs).await.unwrap();
    let sources = s.object_sources(C, o).await.unwrap();
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert_eq!(
        (
            sources[0].version.as_str(),
            sources[0].source.as_str(),
            sources[0].recorded_at
        ),
        ("v2", remote, 5)
    );
    assert!(s
        .object_sources(C, "indicator--missing")
        .await
        .unwrap()
        .is_empty());
}

/// An object whose JSON body carries searchable properties.
fn stix(
    id: &str,
    version_us: i64,
    tlp: Tlp,
    org: Option<i64>,
    user: Option<i64>,
    props: &str,
) -> NewObject {
    let t = id.split("--").next().unwrap_or("x");
    NewObject {
        body: format!("{{\"type\":\"{t}\",\"id\":\"{id}\",{props}}}"),
        search: None,
        ..obj(id, t, version_us, tlp, org, user)
    }
}

async fn find(s: &dyn Store, text: &str, scopes: Vec<(String, Visibility)>) -> (u64, Vec<String>) {
    let q = SearchQuery {
        terms: parse_search(text).unwrap(),
        scopes,
        types: Vec::new(),
        limit: 100,
        offset: 0,
    };
    let page = s.search_objects(&q).await.unwrap();
    (
        page.total,
        page.hits.into_iter().map(|h| h.object.id).collect(),
    )
}

fn all_of(c: &str) -> Vec<(String, Visibility)> {
    vec![(c.to_string(), Visibility::everything())]
}

async fn search_finds_words_prefixes_phrases_and_values(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    let sha = "4b8d6fbbd8cd4b3a7d7e53bc5b2f0e3c8f3b8f0f6b0e0c2f5a1d8e4c3b2a1f09";
    s.add_objects(
        C,
        vec![
            stix("malware--1", 1, Tlp::Clear, None, None,
                r#""name":"Pegasus","aliases":["Chrysaor"],"description":"Mobile spyware sold by NSO Group.""#),
            stix("identity--1", 1, Tlp::Clear, None, None,
                r#""name":"NSO Group Technologies","description":"Israeli vendor of Pegasus.""#),
            stix("indicator--1", 1, Tlp::Clear, None, None,
                r#""name":"Pegasus domain","pattern":"[domain-name:value = 'free.smscentro.com']""#),
            stix("indicator--2", 1, Tlp::Clear, None, None,
                &format!(r#""pattern":"[file:hashes.'SHA-256' = '{sha}']""#)),
            stix("domain-name--1", 1, Tlp::Clear, None, None, r#""value":"smscentro.com.evil.example""#),
            stix("identity--2", 1, Tlp::Clear, None, None,
                r#""name":"Unrelated","external_references":[{"source_name":"cve","external_id":"CVE-2021-30860"}]"#),
        ],
    )
    .await
    .unwrap();
    let f = |text: &'static str| {
        let s = s.clone();
        async move { find(s.as_ref(), text, all_of(C)).await }
    };
    // A prefix finds the word; the object named so ranks before those that only mention it.
    let (n, ids) = f("pega").await;
    assert_eq!(n, 3);
    assert_eq!(ids[0], "malware--1", "{ids:?}");
    assert!(ids.contains(&"identity--1".to_string()) && ids.contains(&"indicator--1".to_string()));
    // Aliases, case-insensitive.
    assert_eq!(f("CHRYSAOR").await.1, ["malware--1"]);
    // Every word must match.
    assert_eq!(f("nso israeli").await.1, ["identity--1"]);
    // A quoted phrase: words in order, whole.
    assert_eq!(f("\"nso group\"").await.0, 2);
    assert_eq!(f("\"group nso\"").await.0, 0);
    assert_eq!(
        f("\"pega\"").await.0,
        0,
        "a quoted word is whole, not a prefix"
    );
    // A domain is found in the indicator's pattern and in the observable's value, as written.
    let (_, ids) = f("smscentro.com").await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(
        ids.contains(&"indicator--1".to_string()) && ids.contains(&"domain-name--1".to_string())
    );
    assert_eq!(f("free.smscentro.com").await.1, ["indicator--1"]);
    assert_eq!(
        f("smscentro.co").await.0,
        0,
        "a domain is matched whole, not as a prefix"
    );
    // A SHA-256 is one token.
    assert_eq!(find(s.as_ref(), sha, all_of(C)).await.1, ["indicator--2"]);
    assert_eq!(
        find(s.as_ref(), &sha.to_uppercase(), all_of(C)).await.1,
        ["indicator--2"]
    );
    // External reference ids.
    assert_eq!(f("cve-2021-30860").await.1, ["identity--2"]);
    // Type filter and paging: total counts every hit, pages do not overlap.
    let mut q = SearchQuery {
        terms: parse_search("pegasus").unwrap(),
        scopes: all_of(C),
        types: vec!["indicator".into(), "identity".into()],
        limit: 1,
        offset: 0,
    };
    let first = s.search_objects(&q).await.unwrap();
    q.offset = 1;
    let second = s.search_objects(&q).await.unwrap();
    q.offset = 2;
    let third = s.search_objects(&q).await.unwrap();
    assert_eq!((first.total, second.total, third.total), (2, 2, 2));
    assert_eq!(
        (first.hits.len(), second.hits.len(), third.hits.len()),
        (1, 1, 0)
    );
    assert_ne!(first.hits[0].object.id, second.hits[0].object.id);
    assert!(first.hits[0].object.body.is_some());
    assert_eq!(first.hits[0].collection_id, C);
    // Query syntax of either database is not interpreted.
    for odd in [
        "a' OR 1=1 --",
        "x:* | y",
        "\"unbalanced",
        "NEAR(a b)",
        "* ^ -",
    ] {
        if let Ok(terms) = parse_search(odd) {
            let q = SearchQuery {
                terms,
                scopes: all_of(C),
                types: Vec::new(),
                limit: 10,
                offset: 0,
            };
            s.search_objects(&q).await.unwrap();
        }
    }
    assert!(parse_search("-- .. !!").is_err());
}

async fn search_sees_exactly_what_queries_see(s: Arc<dyn Store>) {
    let owner = s.create_org("Owner", OrgKind::Government).await.unwrap();
    collection(s.as_ref(), C, Some(owner.id)).await;
    let other = "2f0e6d1c-2c07-4b8a-9e7e-3c1d5b7b9a10";
    collection(s.as_ref(), other, None).await;
    let levels = [
        ("clear", Tlp::Clear),
        ("green", Tlp::Green),
        ("amber", Tlp::Amber),
        ("strict", Tlp::AmberStrict),
        ("red", Tlp::Red),
    ];
    for (name, tlp) in levels {
        s.add_objects(
            C,
            vec![stix(
                &format!("malware--{name}"),
                1,
                tlp,
                Some(1),
                Some(11),
                r#""name":"Spytool sample""#,
            )],
        )
        .await
        .unwrap();
    }
    // A newer RED version of the GREEN object: those who may not see RED
    // still find the GREEN version (by its own words only), the rest the newest.
    s.add_objects(
        C,
        vec![stix(
            "malware--green",
            2,
            Tlp::Red,
            Some(1),
            Some(11),
            r#""name":"Spytool renamed hidden""#,
        )],
    )
    .await
    .unwrap();
    // The other collection holds one CLEAR match, searched with its own visibility.
    s.add_objects(
        other,
        vec![stix(
            "malware--elsewhere",
            1,
            Tlp::Clear,
            None,
            None,
            r#""name":"Spytool""#,
        )],
    )
    .await
    .unwrap();
    let base = Visibility {
        level: Tlp::Green,
        org_id: Some(2),
        user_id: Some(22),
        strict: false,
        red: false,
    };
    let cases = [
        Visibility::anonymous(),
        base,
        Visibility {
            level: Tlp::Amber,
            ..base
        },
        Visibility {
            strict: true,
            ..base
        },
        Visibility { red: true, ..base },
        Visibility {
            org_id: Some(1),
            ..base
        },
        Visibility {
            user_id: Some(11),
            ..base
        },
        Visibility::everything(),
    ];
    for v in cases {
        let mut expected: Vec<String> = s
            .query_objects(&ObjectQuery::new(C, v))
            .await
            .unwrap()
            .objects
            .into_iter()
            .map(|o| o.id)
            .collect();
        expected.sort();
        let (n, mut got) = find(s.as_ref(), "spytool", vec![(C.to_string(), v)]).await;
        got.sort();
        assert_eq!(got, expected, "{v:?}");
        assert_eq!(n as usize, expected.len(), "{v:?}");
        // The hidden newer version's words find nothing for those who may not see it.
        let sees_red_green = s
            .query_objects(&ObjectQuery::new(C, v))
            .await
            .unwrap()
            .objects
            .iter()
            .any(|o| o.id == "malware--green" && o.version == "v2");
        let (n, _) = find(s.as_ref(), "hidden", vec![(C.to_string(), v)]).await;
        assert_eq!(n, u64::from(sees_red_green), "{v:?}");
        let (n, _) = find(s.as_ref(), "\"spytool sample\"", vec![(C.to_string(), v)]).await;
        assert_eq!(
            n as usize,
            expected.len() - usize::from(sees_red_green),
            "{v:?}"
        );
        // Two scopes: each with its own visibility.
        let (n, got) = find(
            s.as_ref(),
            "spytool",
            vec![
                (C.to_string(), v),
                (other.to_string(), Visibility::anonymous()),
            ],
        )
        .await;
        assert_eq!(n as usize, expected.len() + 1);
        assert!(got.contains(&"malware--elsewhere".to_string()));
    }
    // No scope, nothing.
    assert_eq!(
        find(s.as_ref(), "spytool", Vec::new()).await,
        (0, Vec::new())
    );
}

/// Stores version `v` of `malware--1` under a name.
async fn named(s: &dyn Store, v: i64, name: &str) {
    let props = format!("\"name\":\"{name}\"");
    s.add_objects(
        C,
        vec![stix("malware--1", v, Tlp::Clear, None, None, &props)],
    )
    .await
    .unwrap();
}

async fn search_index_follows_new_versions_and_deletes(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    named(s.as_ref(), 1, "Oldname").await;
    assert_eq!(find(s.as_ref(), "oldname", all_of(C)).await.0, 1);
    named(s.as_ref(), 2, "Newname").await;
    assert_eq!(
        find(s.as_ref(), "oldname", all_of(C)).await.0,
        0,
        "only the newest version counts"
    );
    assert_eq!(
        find(s.as_ref(), "newname", all_of(C)).await.1,
        ["malware--1"]
    );
    // Deleting the newest version brings the older one back; deleting all removes it.
    let mut q = everything();
    q.ids = vec!["malware--1".into()];
    q.versions = VersionMatch {
        exact: vec![2],
        ..VersionMatch::default()
    };
    assert_eq!(s.delete_objects(&q).await.unwrap(), 1);
    assert_eq!(find(s.as_ref(), "newname", all_of(C)).await.0, 0);
    assert_eq!(find(s.as_ref(), "oldname", all_of(C)).await.0, 1);
    q.versions = VersionMatch::all();
    s.delete_objects(&q).await.unwrap();
    assert_eq!(find(s.as_ref(), "oldname", all_of(C)).await.0, 0);
    // A transaction that fails leaves no index entry behind.
    let bad = s
        .add_objects(
            "no-such-collection",
            vec![stix(
                "malware--2",
                1,
                Tlp::Clear,
                None,
                None,
                r#""name":"Ghost""#,
            )],
        )
        .await;
    assert!(bad.is_err());
    assert_eq!(
        find(s.as_ref(), "ghost", all_of("no-such-collection"))
            .await
            .0,
        0
    );
    s.integrity_check().await.unwrap();
}

/// A request handed over in several batches, one of them repeating an
/// object of an earlier batch: search finds each new object once, whichever
/// batch brought it, and the repeat adds nothing.
async fn search_indexes_every_object_of_a_many_batch_request(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    let one = |i: usize| {
        stix(
            &format!("malware--{i}"),
            1,
            Tlp::Clear,
            None,
            None,
            &format!(r#""name":"Kind{i}","description":"batchword""#),
        )
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let sender = tokio::spawn(async move {
        for b in 0..3 {
            let mut batch: Vec<NewObject> = (b * 300..(b + 1) * 300).map(one).collect();
            if b == 2 {
                batch.push(one(5));
            }
            tx.send(batch).await.unwrap();
        }
    });
    let (out, _) = s
        .add_object_batches_with_status(C, rx, counting_status("5c3a", C))
        .await
        .unwrap();
    sender.await.unwrap();
    assert_eq!(out.len(), 901);
    assert_eq!(out[900], Added::Duplicate);
    assert_eq!(find(s.as_ref(), "batchword", all_of(C)).await.0, 900);
    for i in [0, 299, 300, 599, 600, 899] {
        assert_eq!(
            find(s.as_ref(), &format!("kind{i}"), all_of(C)).await.1,
            [format!("malware--{i}")],
            "object {i}"
        );
    }
    s.integrity_check().await.unwrap();
}

async fn relationships_are_found_by_either_end(s: Arc<dyn Store>) {
    collection(s.as_ref(), C, None).await;
    let rel = |id: &str, src: &str, dst: &str, tlp: Tlp| {
        stix(
            id,
            1,
            tlp,
            None,
            None,
            &format!(r#""relationship_type":"uses","source_ref":"{src}","target_ref":"{dst}""#),
        )
    };
    s.add_objects(
        C,
        vec![
            rel("relationship--1", "identity--a", "malware--b", Tlp::Clear),
            rel("relationship--2", "malware--b", "indicator--c", Tlp::Clear),
            rel("relationship--3", "identity--a", "malware--d", Tlp::Red),
            stix("malware--b", 1, Tlp::Clear, None, None, r#""name":"B""#),
        ],
    )
    .await
    .unwrap();
    let touching = |v: Visibility, refs: &[&str]| {
        let s = s.clone();
        let refs: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
        async move {
            let mut ids: Vec<String> = s
                .relationships_touching(&ObjectQuery::new(C, v), &refs)
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        touching(Visibility::everything(), &["identity--a"]).await,
        ["relationship--1", "relationship--3"]
    );
    assert_eq!(
        touching(Visibility::anonymous(), &["identity--a"]).await,
        ["relationship--1"]
    );
    assert_eq!(
        touching(Visibility::anonymous(), &["malware--b"]).await,
        ["relationship--1", "relationship--2"]
    );
    assert_eq!(
        touching(Visibility::anonymous(), &["indicator--c", "nothing"]).await,
        ["relationship--2"]
    );
    assert!(touching(Visibility::everything(), &[]).await.is_empty());
}

/// SQLite: committed pages reach the database file without the writer's
/// own checkpoint (which waits for 16,384 WAL pages): the checkpointing
/// thread copies them within its pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_is_checkpointed_in_the_background() {
    let dir = std::env::temp_dir().join(unique("vigil_store_checkpoint"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("hub.db");
    let s = SqliteStore::open(&db).await.unwrap();
    s.migrate().await.unwrap();
    collection(&s, C, None).await;
    let size = || std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    // The schema's pages are checkpointed after the writes above.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let empty = size();
    let batch: Vec<NewObject> = (0..2000)
        .map(|i| obj(&format!("c--{i}"), "c", 1, Tlp::Clear, None, None))
        .collect();
    s.add_objects(C, batch).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // 2,000 rows and their index entries take well over 100 KB.
    let grown = || size() >= empty + 100_000;
    while !grown() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        grown(),
        "database file {} bytes, {empty} before the insert: not checkpointed",
        size()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
