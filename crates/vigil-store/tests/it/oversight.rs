//! The oversight tables on both backends: roles, authorisation rows written
//! with their log entries in one transaction, checkpoints marking coverage.

use std::sync::Arc;

use vigil_store::oversight::{
    AuthorisationRow, CheckpointRow, LogEntryRow, OversightStore, PgOversight, SqliteOversight,
};
use vigil_store::*;

use super::unique;

async fn sqlite() -> (Arc<dyn Store>, Arc<dyn OversightStore>) {
    let dir = std::env::temp_dir().join(unique("vigil_oversight_test"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hub.db");
    let s = SqliteStore::open(&path).await.unwrap();
    s.migrate().await.unwrap();
    (Arc::new(s), Arc::new(SqliteOversight::open(&path).unwrap()))
}

async fn postgres() -> Option<(Arc<dyn Store>, Arc<dyn OversightStore>)> {
    let url = vigil_testkit::postgres_url()?;
    let schema = unique("o");
    let s = PgStore::connect(&url, Some(&schema)).await.unwrap();
    s.migrate().await.unwrap();
    let o = PgOversight::connect(&url, Some(&schema)).await.unwrap();
    Some((Arc::new(s), Arc::new(o)))
}

fn entry(index: i64, kind: &str, auth: Option<&str>) -> LogEntryRow {
    LogEntryRow {
        index,
        kind: kind.into(),
        auth_id: auth.map(str::to_string),
        at: 1_700_000_000 + index,
        body: format!("{{\"i\":{index}}}").into_bytes(),
        applied: true,
        checkpoint_size: None,
    }
}

async fn roles_rows_entries_and_checkpoints(s: Arc<dyn Store>, o: Arc<dyn OversightStore>) {
    let u = s.create_user("judge", None, Role::Reader).await.unwrap();
    o.set_oversight_roles(u.id, &["approver".into(), "auditor".into()])
        .await
        .unwrap();
    o.set_oversight_roles(u.id, &["approver".into()])
        .await
        .unwrap();
    assert_eq!(
        o.oversight_roles().await.unwrap(),
        vec![(u.id, "approver".to_string())]
    );
    assert!(matches!(
        o.set_oversight_roles(9999, &["approver".into()]).await,
        Err(StoreError::NotFound { what: "user", .. })
    ));

    assert_eq!(o.last_log_index().await.unwrap(), None);
    let row = AuthorisationRow {
        id: "A-000001".into(),
        status: "awaiting_approval".into(),
        body: "{}".into(),
        updated: 1,
    };
    o.record(
        &[entry(0, "requested", Some("A-000001"))],
        std::slice::from_ref(&row),
    )
    .await
    .unwrap();
    let row2 = AuthorisationRow {
        status: "active".into(),
        updated: 2,
        ..row.clone()
    };
    o.record(
        &[
            entry(1, "approved", Some("A-000001")),
            entry(2, "hub_action", None),
        ],
        std::slice::from_ref(&row2),
    )
    .await
    .unwrap();
    assert_eq!(o.authorisations().await.unwrap(), vec![row2]);
    assert_eq!(o.last_log_index().await.unwrap(), Some(2));
    // An index recorded twice is refused and the whole record is undone.
    let row3 = AuthorisationRow {
        status: "revoked".into(),
        ..row.clone()
    };
    assert!(o
        .record(
            &[entry(3, "revoked", Some("A-000001")), entry(2, "x", None)],
            &[row3]
        )
        .await
        .is_err());
    assert_eq!(o.last_log_index().await.unwrap(), Some(2));
    assert_eq!(o.authorisations().await.unwrap()[0].status, "active");

    o.record_checkpoint(&CheckpointRow {
        size: 2,
        note: "cp2".into(),
        published: 5,
    })
    .await
    .unwrap();
    let all = o.log_entries(0, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.checkpoint_size).collect::<Vec<_>>(),
        vec![Some(2), Some(2), None]
    );
    assert_eq!(all[2].body, b"{\"i\":2}");
    o.record_checkpoint(&CheckpointRow {
        size: 3,
        note: "cp3".into(),
        published: 6,
    })
    .await
    .unwrap();
    let of = o.log_entries_of("A-000001").await.unwrap();
    assert_eq!(
        of.iter()
            .map(|e| (e.index, e.checkpoint_size))
            .collect::<Vec<_>>(),
        vec![(0, Some(2)), (1, Some(2))]
    );
    assert_eq!(
        o.log_entries(2, 3).await.unwrap()[0].checkpoint_size,
        Some(3)
    );
    assert_eq!(o.latest_checkpoint().await.unwrap().unwrap().note, "cp3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_oversight_tables() {
    let (s, o) = sqlite().await;
    roles_rows_entries_and_checkpoints(s, o).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_oversight_tables() {
    if let Some((s, o)) = postgres().await {
        roles_rows_entries_and_checkpoints(s, o).await;
    }
}

/// Two processes' view of the queue: entries queued by one are claimed in
/// queue order by the other, a claim is taken once, and claims beyond what
/// reached the log are released for the next attempt.
async fn queue_is_claimed_once_in_order(
    o: Arc<dyn OversightStore>,
    other: Arc<dyn OversightStore>,
) {
    let ids = other
        .enqueue(&[b"a".to_vec(), b"b".to_vec()], 10)
        .await
        .unwrap();
    let more = other.enqueue(&[b"c".to_vec()], 11).await.unwrap();
    assert!(ids[0] < ids[1] && ids[1] < more[0]);
    let q = o.queued(2).await.unwrap();
    assert_eq!(q, vec![(ids[0], b"a".to_vec()), (ids[1], b"b".to_vec())]);
    o.claim(&[(ids[0], 7), (ids[1], 8)]).await.unwrap();
    assert_eq!(other.queue_index(ids[1]).await.unwrap(), Some(8));
    assert_eq!(other.queue_index(more[0]).await.unwrap(), None);
    // Claimed entries are no longer offered; a second claim is refused and
    // takes nothing.
    assert_eq!(o.queued(10).await.unwrap(), vec![(more[0], b"c".to_vec())]);
    assert!(o.claim(&[(more[0], 9), (ids[0], 10)]).await.is_err());
    assert_eq!(o.queue_index(more[0]).await.unwrap(), None);
    o.claim(&[(more[0], 9)]).await.unwrap();
    assert_eq!(
        o.claimed(8, 100).await.unwrap(),
        vec![(8, b"b".to_vec()), (9, b"c".to_vec())]
    );
    // Only index 7 reached the log: 8 and 9 go back to the queue, in order.
    assert_eq!(o.release_claims(8).await.unwrap(), 2);
    assert_eq!(
        o.queued(10).await.unwrap(),
        vec![(ids[1], b"b".to_vec()), (more[0], b"c".to_vec())]
    );
    assert_eq!(o.queue_index(ids[0]).await.unwrap(), Some(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_transparency_queue() {
    let dir = std::env::temp_dir().join(unique("vigil_queue_test"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hub.db");
    SqliteStore::open(&path)
        .await
        .unwrap()
        .migrate()
        .await
        .unwrap();
    let a = Arc::new(SqliteOversight::open(&path).unwrap());
    let b = Arc::new(SqliteOversight::open(&path).unwrap());
    queue_is_claimed_once_in_order(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_transparency_queue() {
    let Some(url) = vigil_testkit::postgres_url() else {
        return;
    };
    let schema = unique("q");
    let s = PgStore::connect(&url, Some(&schema)).await.unwrap();
    s.migrate().await.unwrap();
    let a = Arc::new(PgOversight::connect(&url, Some(&schema)).await.unwrap());
    let b = Arc::new(PgOversight::connect(&url, Some(&schema)).await.unwrap());
    queue_is_claimed_once_in_order(a, b).await;
}
