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
    version_filters,
    other_filters,
    pagination_visits_every_object_once,
    visibility_rules,
    delete_only_what_is_visible,
    status_resources,
    objects_and_status_commit_together,
    decisions_and_origins,
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
