//! Oversight records and the hub's transparency-log bookkeeping.
//!
//! Kept apart from [`crate::Store`]: oversight rows are written by one
//! component (the hub's transparency log), always together with the log
//! entries that record them, in one transaction. Each backend opens its own
//! connection to the same database (`migration 2` creates the tables).
//!
//! Tables: `oversight_roles` (which hub users hold which oversight role),
//! `oversight_authorisations` (one row per authorisation, its full state as
//! JSON), `transparency_entries` (every entry the hub appended to its log:
//! index, kind, authorisation, time, bytes, whether the change it records
//! took effect, and the size of the first published checkpoint covering
//! it), `transparency_checkpoints` (every published checkpoint) and
//! `transparency_queue` (migration 5: entries queued by any process on the
//! database for the replica holding the log, which claims them with their
//! future log index, appends them and records them).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tokio_postgres::{Client, NoTls};

use crate::{Result, StoreError};

/// One entry the hub appended to its transparency log, as the database keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryRow {
    /// Index in the log.
    pub index: i64,
    /// Event name (`requested`, `approved`, `access`, `hub_action`, …).
    pub kind: String,
    /// The authorisation the entry is about, if any.
    pub auth_id: Option<String>,
    /// Time of the event, Unix seconds.
    pub at: i64,
    /// The bytes on the log.
    pub body: Vec<u8>,
    /// False for an entry found on the log at start-up whose database
    /// change was never committed (a crash between the two): the attempt is
    /// on the log, the change did not take effect.
    pub applied: bool,
    /// Size of the first published checkpoint covering the entry.
    pub checkpoint_size: Option<i64>,
}

/// An authorisation's row: its state as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorisationRow {
    /// Identifier (`A-000001`).
    pub id: String,
    /// Status name.
    pub status: String,
    /// The whole authorisation as JSON (with plaintext: access-controlled).
    pub body: String,
    /// Last change, Unix seconds.
    pub updated: i64,
}

/// A published checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRow {
    /// Tree size.
    pub size: i64,
    /// The signed note, with cosignatures.
    pub note: String,
    /// When it was published, Unix seconds.
    pub published: i64,
}

/// Storage of oversight rows and transparency-log bookkeeping.
///
/// Every method is one transaction.
#[async_trait]
pub trait OversightStore: Send + Sync + 'static {
    /// The oversight roles of every user: `(user_id, role)`.
    async fn oversight_roles(&self) -> Result<Vec<(i64, String)>>;
    /// Replaces the oversight roles of one user.
    async fn set_oversight_roles(&self, user_id: i64, roles: &[String]) -> Result<()>;
    /// Every authorisation row, by id.
    async fn authorisations(&self) -> Result<Vec<AuthorisationRow>>;
    /// Records log entries and the authorisation rows they changed.
    async fn record(&self, entries: &[LogEntryRow], rows: &[AuthorisationRow]) -> Result<()>;
    /// Highest recorded log index, if any.
    async fn last_log_index(&self) -> Result<Option<i64>>;
    /// Recorded entries with `from <= index < to`, by index.
    async fn log_entries(&self, from: i64, to: i64) -> Result<Vec<LogEntryRow>>;
    /// Entries about one authorisation, by index.
    async fn log_entries_of(&self, auth_id: &str) -> Result<Vec<LogEntryRow>>;
    /// Records a published checkpoint and marks the entries it newly covers.
    async fn record_checkpoint(&self, cp: &CheckpointRow) -> Result<()>;
    /// The latest published checkpoint.
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>>;
    /// Queues log entries for the process holding the log; returns their
    /// queue ids, in order.
    async fn enqueue(&self, bodies: &[Vec<u8>], queued_at: i64) -> Result<Vec<i64>>;
    /// Up to `limit` queued entries not yet claimed: `(id, body)` by id.
    async fn queued(&self, limit: i64) -> Result<Vec<(i64, Vec<u8>)>>;
    /// Claims queued entries for the log indices they are about to get:
    /// `(id, log index)` pairs; fails (claiming nothing) if any is claimed
    /// already.
    async fn claim(&self, claims: &[(i64, i64)]) -> Result<()>;
    /// Releases the claims of log index `from` and beyond (entries claimed
    /// but never appended); returns how many.
    async fn release_claims(&self, from: i64) -> Result<u64>;
    /// Claimed queue entries with `from <= log index < to`: `(log index,
    /// body)` by index.
    async fn claimed(&self, from: i64, to: i64) -> Result<Vec<(i64, Vec<u8>)>>;
    /// The log index a queued entry was given, once it has one.
    async fn queue_index(&self, id: i64) -> Result<Option<i64>>;
}

/// Opens the oversight tables of the database a URL names (as
/// [`crate::open`] does; run [`crate::Store::migrate`] first).
pub async fn open_oversight(url: &str) -> Result<Arc<dyn OversightStore>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgOversight::connect(url, None).await?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(SqliteOversight::open(Path::new(path))?))
    }
}

fn lite(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite { context, source }
}

fn pg(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |source| StoreError::Postgres { context, source }
}

/// The oversight tables in an SQLite database file (its own connection).
pub struct SqliteOversight {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteOversight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteOversight")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteOversight {
    /// Opens the database file at `path` (already migrated).
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(lite("open database"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(lite("set busy timeout"))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(lite("set pragmas"))?;
        Ok(Self {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn
                .lock()
                .map_err(|_| StoreError::Worker("oversight connection lock poisoned".into()))?;
            f(&mut c)
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }
}

const ENTRY_COLUMNS: &str = "log_index, kind, auth_id, at, body, applied, checkpoint_size";

fn lite_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<LogEntryRow> {
    Ok(LogEntryRow {
        index: r.get(0)?,
        kind: r.get(1)?,
        auth_id: r.get(2)?,
        at: r.get(3)?,
        body: r.get(4)?,
        applied: r.get::<_, i64>(5)? != 0,
        checkpoint_size: r.get(6)?,
    })
}

#[async_trait]
impl OversightStore for SqliteOversight {
    async fn oversight_roles(&self) -> Result<Vec<(i64, String)>> {
        self.run(|c| {
            let mut st = c
                .prepare("SELECT user_id, role FROM oversight_roles ORDER BY user_id, role")
                .map_err(lite("list oversight roles"))?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(lite("list oversight roles"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(lite("list oversight roles"))
        })
        .await
    }

    async fn set_oversight_roles(&self, user_id: i64, roles: &[String]) -> Result<()> {
        let roles = roles.to_vec();
        self.run(move |c| {
            let tx = c.transaction().map_err(lite("begin"))?;
            let known: Option<i64> = tx
                .query_row("SELECT id FROM users WHERE id = ?1", [user_id], |r| r.get(0))
                .optional()
                .map_err(lite("find user"))?;
            if known.is_none() {
                return Err(StoreError::NotFound {
                    what: "user",
                    id: user_id.to_string(),
                });
            }
            tx.execute("DELETE FROM oversight_roles WHERE user_id = ?1", [user_id])
                .map_err(lite("clear oversight roles"))?;
            for r in &roles {
                tx.execute(
                    "INSERT INTO oversight_roles (user_id, role) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![user_id, r],
                )
                .map_err(lite("set oversight role"))?;
            }
            tx.commit().map_err(lite("commit oversight roles"))
        })
        .await
    }

    async fn authorisations(&self) -> Result<Vec<AuthorisationRow>> {
        self.run(|c| {
            let mut st = c
                .prepare(
                    "SELECT id, status, body, updated FROM oversight_authorisations ORDER BY id",
                )
                .map_err(lite("list authorisations"))?;
            let rows = st
                .query_map([], |r| {
                    Ok(AuthorisationRow {
                        id: r.get(0)?,
                        status: r.get(1)?,
                        body: r.get(2)?,
                        updated: r.get(3)?,
                    })
                })
                .map_err(lite("list authorisations"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(lite("list authorisations"))
        })
        .await
    }

    async fn record(&self, entries: &[LogEntryRow], rows: &[AuthorisationRow]) -> Result<()> {
        let (entries, rows) = (entries.to_vec(), rows.to_vec());
        self.run(move |c| {
            let tx = c.transaction().map_err(lite("begin"))?;
            for e in &entries {
                tx.execute(
                    "INSERT INTO transparency_entries (log_index, kind, auth_id, at, body, applied, checkpoint_size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![e.index, e.kind, e.auth_id, e.at, e.body, i64::from(e.applied), e.checkpoint_size],
                )
                .map_err(lite("record log entry"))?;
            }
            for r in &rows {
                tx.execute(
                    "INSERT INTO oversight_authorisations (id, status, body, updated) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body, updated = excluded.updated",
                    params![r.id, r.status, r.body, r.updated],
                )
                .map_err(lite("record authorisation"))?;
            }
            tx.commit().map_err(lite("commit oversight record"))
        })
        .await
    }

    async fn last_log_index(&self) -> Result<Option<i64>> {
        self.run(|c| {
            c.query_row("SELECT MAX(log_index) FROM transparency_entries", [], |r| {
                r.get(0)
            })
            .map_err(lite("read last log index"))
        })
        .await
    }

    async fn log_entries(&self, from: i64, to: i64) -> Result<Vec<LogEntryRow>> {
        self.run(move |c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM transparency_entries WHERE log_index >= ?1 AND log_index < ?2 ORDER BY log_index"
                ))
                .map_err(lite("read log entries"))?;
            let rows = st
                .query_map([from, to], lite_entry)
                .map_err(lite("read log entries"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(lite("read log entries"))
        })
        .await
    }

    async fn log_entries_of(&self, auth_id: &str) -> Result<Vec<LogEntryRow>> {
        let auth_id = auth_id.to_string();
        self.run(move |c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM transparency_entries WHERE auth_id = ?1 ORDER BY log_index"
                ))
                .map_err(lite("read log entries"))?;
            let rows = st
                .query_map([auth_id], lite_entry)
                .map_err(lite("read log entries"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(lite("read log entries"))
        })
        .await
    }

    async fn record_checkpoint(&self, cp: &CheckpointRow) -> Result<()> {
        let cp = cp.clone();
        self.run(move |c| {
            let tx = c.transaction().map_err(lite("begin"))?;
            tx.execute(
                "INSERT INTO transparency_checkpoints (size, note, published) VALUES (?1, ?2, ?3) ON CONFLICT (size) DO UPDATE SET note = excluded.note, published = excluded.published",
                params![cp.size, cp.note, cp.published],
            )
            .map_err(lite("record checkpoint"))?;
            tx.execute(
                "UPDATE transparency_entries SET checkpoint_size = ?1 WHERE checkpoint_size IS NULL AND log_index < ?1",
                [cp.size],
            )
            .map_err(lite("mark covered entries"))?;
            tx.commit().map_err(lite("commit checkpoint"))
        })
        .await
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>> {
        self.run(|c| {
            c.query_row(
                "SELECT size, note, published FROM transparency_checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| {
                    Ok(CheckpointRow {
                        size: r.get(0)?,
                        note: r.get(1)?,
                        published: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(lite("read latest checkpoint"))
        })
        .await
    }

    async fn enqueue(&self, bodies: &[Vec<u8>], queued_at: i64) -> Result<Vec<i64>> {
        let bodies = bodies.to_vec();
        self.run(move |c| {
            let tx = c.transaction().map_err(lite("begin"))?;
            let mut ids = Vec::with_capacity(bodies.len());
            for b in &bodies {
                tx.execute(
                    "INSERT INTO transparency_queue (body, queued_at) VALUES (?1, ?2)",
                    params![b, queued_at],
                )
                .map_err(lite("queue log entry"))?;
                ids.push(tx.last_insert_rowid());
            }
            tx.commit().map_err(lite("commit queued log entries"))?;
            Ok(ids)
        })
        .await
    }

    async fn queued(&self, limit: i64) -> Result<Vec<(i64, Vec<u8>)>> {
        self.run(move |c| {
            let mut st = c
                .prepare("SELECT id, body FROM transparency_queue WHERE log_index IS NULL ORDER BY id LIMIT ?1")
                .map_err(lite("read queued log entries"))?;
            let rows = st
                .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(lite("read queued log entries"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(lite("read queued log entries"))
        })
        .await
    }

    async fn claim(&self, claims: &[(i64, i64)]) -> Result<()> {
        let claims = claims.to_vec();
        self.run(move |c| {
            let tx = c.transaction().map_err(lite("begin"))?;
            for (id, index) in &claims {
                let n = tx
                    .execute(
                        "UPDATE transparency_queue SET log_index = ?2 WHERE id = ?1 AND log_index IS NULL",
                        [id, index],
                    )
                    .map_err(lite("claim queued log entry"))?;
                if n != 1 {
                    return Err(already_claimed(*id));
                }
            }
            tx.commit().map_err(lite("commit claims"))
        })
        .await
    }

    async fn release_claims(&self, from: i64) -> Result<u64> {
        self.run(move |c| {
            c.execute(
                "UPDATE transparency_queue SET log_index = NULL WHERE log_index >= ?1",
                [from],
            )
            .map(|n| n as u64)
            .map_err(lite("release claims"))
        })
        .await
    }

    async fn claimed(&self, from: i64, to: i64) -> Result<Vec<(i64, Vec<u8>)>> {
        self.run(move |c| {
            let mut st = c
                .prepare("SELECT log_index, body FROM transparency_queue WHERE log_index >= ?1 AND log_index < ?2 ORDER BY log_index")
                .map_err(lite("read claimed log entries"))?;
            let rows = st
                .query_map([from, to], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(lite("read claimed log entries"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(lite("read claimed log entries"))
        })
        .await
    }

    async fn queue_index(&self, id: i64) -> Result<Option<i64>> {
        self.run(move |c| {
            c.query_row(
                "SELECT log_index FROM transparency_queue WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(lite("read queued log entry"))
        })
        .await
    }
}

/// The oversight tables in PostgreSQL (its own connection).
pub struct PgOversight {
    client: tokio::sync::Mutex<Client>,
}

impl std::fmt::Debug for PgOversight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOversight").finish_non_exhaustive()
    }
}

impl PgOversight {
    /// Connects to `url`; with `schema`, works in that (plain identifier) schema.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(pg("connect"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        if let Some(s) = schema {
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::Corrupt(format!(
                    "schema name {s:?} is not a plain identifier"
                )));
            }
            client
                .batch_execute(&format!("SET search_path TO {s}"))
                .await
                .map_err(pg("select schema"))?;
        }
        Ok(Self {
            client: tokio::sync::Mutex::new(client),
        })
    }
}

fn pg_entry(r: &tokio_postgres::Row) -> LogEntryRow {
    LogEntryRow {
        index: r.get(0),
        kind: r.get(1),
        auth_id: r.get(2),
        at: r.get(3),
        body: r.get(4),
        applied: r.get::<_, i64>(5) != 0,
        checkpoint_size: r.get(6),
    }
}

#[async_trait]
impl OversightStore for PgOversight {
    async fn oversight_roles(&self) -> Result<Vec<(i64, String)>> {
        let c = self.client.lock().await;
        let rows = c
            .query(
                "SELECT user_id, role FROM oversight_roles ORDER BY user_id, role",
                &[],
            )
            .await
            .map_err(pg("list oversight roles"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn set_oversight_roles(&self, user_id: i64, roles: &[String]) -> Result<()> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await.map_err(pg("begin"))?;
        if tx
            .query_opt("SELECT id FROM users WHERE id = $1", &[&user_id])
            .await
            .map_err(pg("find user"))?
            .is_none()
        {
            return Err(StoreError::NotFound {
                what: "user",
                id: user_id.to_string(),
            });
        }
        tx.execute(
            "DELETE FROM oversight_roles WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .map_err(pg("clear oversight roles"))?;
        for r in roles {
            tx.execute(
                "INSERT INTO oversight_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&user_id, r],
            )
            .await
            .map_err(pg("set oversight role"))?;
        }
        tx.commit().await.map_err(pg("commit oversight roles"))
    }

    async fn authorisations(&self) -> Result<Vec<AuthorisationRow>> {
        let c = self.client.lock().await;
        let rows = c
            .query(
                "SELECT id, status, body, updated FROM oversight_authorisations ORDER BY id",
                &[],
            )
            .await
            .map_err(pg("list authorisations"))?;
        Ok(rows
            .iter()
            .map(|r| AuthorisationRow {
                id: r.get(0),
                status: r.get(1),
                body: r.get(2),
                updated: r.get(3),
            })
            .collect())
    }

    async fn record(&self, entries: &[LogEntryRow], rows: &[AuthorisationRow]) -> Result<()> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await.map_err(pg("begin"))?;
        for e in entries {
            tx.execute(
                "INSERT INTO transparency_entries (log_index, kind, auth_id, at, body, applied, checkpoint_size) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&e.index, &e.kind, &e.auth_id, &e.at, &e.body, &i64::from(e.applied), &e.checkpoint_size],
            )
            .await
            .map_err(pg("record log entry"))?;
        }
        for r in rows {
            tx.execute(
                "INSERT INTO oversight_authorisations (id, status, body, updated) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body, updated = excluded.updated",
                &[&r.id, &r.status, &r.body, &r.updated],
            )
            .await
            .map_err(pg("record authorisation"))?;
        }
        tx.commit().await.map_err(pg("commit oversight record"))
    }

    async fn last_log_index(&self) -> Result<Option<i64>> {
        let c = self.client.lock().await;
        let r = c
            .query_one("SELECT MAX(log_index) FROM transparency_entries", &[])
            .await
            .map_err(pg("read last log index"))?;
        Ok(r.get(0))
    }

    async fn log_entries(&self, from: i64, to: i64) -> Result<Vec<LogEntryRow>> {
        let c = self.client.lock().await;
        let rows = c
            .query(
                &format!("SELECT {ENTRY_COLUMNS} FROM transparency_entries WHERE log_index >= $1 AND log_index < $2 ORDER BY log_index"),
                &[&from, &to],
            )
            .await
            .map_err(pg("read log entries"))?;
        Ok(rows.iter().map(pg_entry).collect())
    }

    async fn log_entries_of(&self, auth_id: &str) -> Result<Vec<LogEntryRow>> {
        let c = self.client.lock().await;
        let rows = c
            .query(
                &format!("SELECT {ENTRY_COLUMNS} FROM transparency_entries WHERE auth_id = $1 ORDER BY log_index"),
                &[&auth_id],
            )
            .await
            .map_err(pg("read log entries"))?;
        Ok(rows.iter().map(pg_entry).collect())
    }

    async fn record_checkpoint(&self, cp: &CheckpointRow) -> Result<()> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await.map_err(pg("begin"))?;
        tx.execute(
            "INSERT INTO transparency_checkpoints (size, note, published) VALUES ($1, $2, $3) ON CONFLICT (size) DO UPDATE SET note = excluded.note, published = excluded.published",
            &[&cp.size, &cp.note, &cp.published],
        )
        .await
        .map_err(pg("record checkpoint"))?;
        tx.execute(
            "UPDATE transparency_entries SET checkpoint_size = $1 WHERE checkpoint_size IS NULL AND log_index < $1",
            &[&cp.size],
        )
        .await
        .map_err(pg("mark covered entries"))?;
        tx.commit().await.map_err(pg("commit checkpoint"))
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>> {
        let c = self.client.lock().await;
        let r = c
            .query_opt(
                "SELECT size, note, published FROM transparency_checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )
            .await
            .map_err(pg("read latest checkpoint"))?;
        Ok(r.map(|r| CheckpointRow {
            size: r.get(0),
            note: r.get(1),
            published: r.get(2),
        }))
    }

    async fn enqueue(&self, bodies: &[Vec<u8>], queued_at: i64) -> Result<Vec<i64>> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await.map_err(pg("begin"))?;
        let mut ids = Vec::with_capacity(bodies.len());
        for b in bodies {
            let r = tx
                .query_one(
                    "INSERT INTO transparency_queue (body, queued_at) VALUES ($1, $2) RETURNING id",
                    &[b, &queued_at],
                )
                .await
                .map_err(pg("queue log entry"))?;
            ids.push(r.get(0));
        }
        tx.commit().await.map_err(pg("commit queued log entries"))?;
        Ok(ids)
    }

    async fn queued(&self, limit: i64) -> Result<Vec<(i64, Vec<u8>)>> {
        let c = self.client.lock().await;
        let rows = c
            .query(
                "SELECT id, body FROM transparency_queue WHERE log_index IS NULL ORDER BY id LIMIT $1",
                &[&limit],
            )
            .await
            .map_err(pg("read queued log entries"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn claim(&self, claims: &[(i64, i64)]) -> Result<()> {
        let mut c = self.client.lock().await;
        let tx = c.transaction().await.map_err(pg("begin"))?;
        for (id, index) in claims {
            let n = tx
                .execute(
                    "UPDATE transparency_queue SET log_index = $2 WHERE id = $1 AND log_index IS NULL",
                    &[id, index],
                )
                .await
                .map_err(pg("claim queued log entry"))?;
            if n != 1 {
                return Err(already_claimed(*id));
            }
        }
        tx.commit().await.map_err(pg("commit claims"))
    }

    async fn release_claims(&self, from: i64) -> Result<u64> {
        let c = self.client.lock().await;
        c.execute(
            "UPDATE transparency_queue SET log_index = NULL WHERE log_index >= $1",
            &[&from],
        )
        .await
        .map_err(pg("release claims"))
    }

    async fn claimed(&self, from: i64, to: i64) -> Result<Vec<(i64, Vec<u8>)>> {
        let c = self.client.lock().await;
        let rows = c
            .query(
                "SELECT log_index, body FROM transparency_queue WHERE log_index >= $1 AND log_index < $2 ORDER BY log_index",
                &[&from, &to],
            )
            .await
            .map_err(pg("read claimed log entries"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn queue_index(&self, id: i64) -> Result<Option<i64>> {
        let c = self.client.lock().await;
        let r = c
            .query_opt(
                "SELECT log_index FROM transparency_queue WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(pg("read queued log entry"))?;
        Ok(r.and_then(|r| r.get(0)))
    }
}

fn already_claimed(id: i64) -> StoreError {
    StoreError::Conflict {
        what: "claim of queued log entry",
        name: id.to_string(),
    }
}
