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
