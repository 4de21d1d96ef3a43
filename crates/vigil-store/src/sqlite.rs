//! The embedded SQLite backend: one writer connection, a small pool of
//! readers, WAL journal, `synchronous=FULL` so an acknowledged write survives
//! a crash, and a thread that checkpoints the WAL off the writer's path.
//! Blocking calls run on tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, ToSql};

use crate::migrations::{self, Dialect};
use crate::search_text;
use crate::sql::{self, Param, Sql};
use crate::types::*;
use crate::{ObjectBatches, Result, StatusFn, Store, StoreError};

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Int(i) => i.to_sql(),
            Param::Text(s) => s.to_sql(),
        }
    }
}

fn err(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite { context, source }
}

/// The page cache of the writer connection: 64 MiB at most.
const WRITER_CACHE: &str = "PRAGMA cache_size = -65536";

/// WAL pages after which the writer checkpoints by itself: a backstop
/// for when the checkpointing thread cannot keep up (SQLite's default
/// is 1000 pages, checkpointed inside the commit that crossed it).
const WRITER_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 16384";

/// The shortest time between two checkpoints of the checkpointing thread.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// How many idle reader connections are kept.
const READERS: usize = 8;

struct Inner {
    path: PathBuf,
    writer: Mutex<Writer>,
    readers: Mutex<Vec<Connection>>,
    /// Wakes the checkpointing thread after a write; it ends when this
    /// store (and so the sender) is dropped.
    checkpoint: std::sync::mpsc::SyncSender<()>,
}

/// Copies committed WAL pages into the database file on its own
/// connection, off the writer's path: a commit then only appends to the
/// WAL and syncs it (which is what makes it durable), instead of also
/// copying pages and syncing the database file every 1000 pages.
/// `PASSIVE` never waits for the writer or readers; pages still in use
/// are copied at a later wake-up.
fn checkpointer(path: &Path, wake: &std::sync::mpsc::Receiver<()>) {
    let Ok(conn) = open_conn(path) else {
        // The writer's own automatic checkpoint still bounds the WAL.
        return;
    };
    while wake.recv().is_ok() {
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        std::thread::sleep(CHECKPOINT_PAUSE);
    }
}

struct Writer {
    conn: Connection,
    /// The last `date_added` handed out, so values strictly increase.
    last_added: i64,
}

/// The SQLite backend (a single database file plus its WAL).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn open_conn(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(err("open database"))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(err("set busy timeout"))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(err("set pragmas"))?;
    Ok(conn)
}

pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`. Call
    /// [`Store::migrate`] before use.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let conn = open_conn(&path)?;
            // The writer's page cache holds the hot pages of the object
            // indexes and the search index between requests (SQLite's
            // default is 2 MiB), so inserts rarely read pages back.
            conn.execute_batch(WRITER_CACHE)
                .map_err(err("set writer cache size"))?;
            conn.execute_batch(WRITER_AUTOCHECKPOINT)
                .map_err(err("set writer checkpoint threshold"))?;
            let last_added: i64 = conn
                .query_row(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name='objects'",
                    [],
                    |_| Ok(()),
                )
                .optional()
                .map_err(err("inspect schema"))?
                .map(|()| {
                    conn.query_row(
                        "SELECT COALESCE(MAX(date_added), 0) FROM objects",
                        [],
                        |r| r.get(0),
                    )
                })
                .transpose()
                .map_err(err("read last date_added"))?
                .unwrap_or(0);
            let (checkpoint, wake) = std::sync::mpsc::sync_channel(1);
            let at = path.clone();
            std::thread::Builder::new()
                .name("sqlite-checkpoint".into())
                .spawn(move || checkpointer(&at, &wake))
                .map_err(|e| StoreError::Worker(format!("start checkpointing thread: {e}")))?;
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    path,
                    writer: Mutex::new(Writer { conn, last_added }),
                    readers: Mutex::new(Vec::new()),
                    checkpoint,
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = inner
                .writer
                .lock()
                .map_err(|_| StoreError::Worker("writer lock poisoned".into()))?;
            let out = f(&mut w);
            drop(w);
            // Full means a wake-up is already pending.
            let _ = inner.checkpoint.try_send(());
            out
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut v| v.pop());
            let conn = match pooled {
                Some(c) => c,
                None => open_conn(&inner.path)?,
            };
            let out = f(&conn);
            if let Ok(mut v) = inner.readers.lock() {
                if v.len() < READERS {
                    v.push(conn);
                }
            }
            out
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, Option<i64>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_user((id, name, org_id, role): (i64, String, Option<i64>, String)) -> Result<User> {
    let role = Role::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("user {id}: role {role:?}")))?;
    Ok(User {
        id,
        name,
        org_id,
        role,
    })
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenInfo> {
    Ok(TokenInfo {
        id: r.get(0)?,
        user_id: r.get(1)?,
        label: r.get(2)?,
        created: r.get(3)?,
        expires: r.get(4)?,
        revoked: r.get(5)?,
    })
}

type CollectionRow = (String, Option<String>, String, String, i64, Option<i64>);

fn collection_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CollectionRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(crate) fn to_collection(
    (id, alias, title, description, public, owner_org): CollectionRow,
) -> Collection {
    Collection {
        id,
        alias,
        title,
        description,
        public: public != 0,
        owner_org,
    }
}

pub(crate) fn to_grant(
    collection_id: String,
    kind: &str,
    id: i64,
    r: i64,
    w: i64,
) -> Result<Grant> {
    let subject = match kind {
        "org" => Subject::Org(id),
        "user" => Subject::User(id),
        other => return Err(StoreError::Corrupt(format!("grant subject kind {other:?}"))),
    };
    Ok(Grant {
        collection_id,
        subject,
        can_read: r != 0,
        can_write: w != 0,
    })
}

pub(crate) fn subject_parts(s: Subject) -> (&'static str, i64) {
    match s {
        Subject::Org(id) => ("org", id),
        Subject::User(id) => ("user", id),
    }
}

type ObjectRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
);

pub(crate) fn to_object((pk, id, t, sv, v, da, tlp, body): ObjectRow) -> Result<StoredObject> {
    Ok(StoredObject {
        pk,
        tlp: Tlp::from_i64(tlp)
            .ok_or_else(|| StoreError::Corrupt(format!("object {id}: tlp level {tlp}")))?,
        id,
        stix_type: t,
        spec_version: sv,
        version: v,
        date_added: da,
        body,
    })
}

pub(crate) const COLLECTION_COLUMNS: &str = "id, alias, title, description, public, owner_org";

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation
            && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

fn is_fk_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// Object rows written by one `INSERT` statement: a statement's fixed
/// costs (running the program, the `AUTOINCREMENT` counter's update) are
/// paid once per chunk instead of once per object.
const INSERT_CHUNK: usize = 64;

/// Columns of an object row, as `insert_objects` binds them.
const INSERT_COLUMNS: usize = 11;

/// Search-index rows of new objects: `pk` and the three search texts.
type Fresh = Vec<(i64, [String; 3])>;

/// Inserts objects within the caller's transaction; `date_added` values
/// continue after `last`. Returns the outcomes, the last value used and
/// the search-index rows of the inserted objects, which the caller adds
/// with [`index_new`] once all of the transaction's objects are in.
fn insert_objects(
    tx: &rusqlite::Transaction<'_>,
    cid: &str,
    objects: Vec<NewObject>,
    last: i64,
) -> Result<(Vec<Added>, i64, Fresh)> {
    let first = last.max(now_micros() - 1) + 1;
    let insert_failed = |e: rusqlite::Error| {
        if is_fk_violation(&e) {
            StoreError::NotFound {
                what: "collection",
                id: cid.to_string(),
            }
        } else {
            err("insert objects")(e)
        }
    };
    // Row `i` is given `date_added` `first + i`; the rows a conflict
    // skipped leave gaps, so values still increase in input order.
    // RETURNING names the inserted rows by their `date_added`.
    let mut pks: Vec<Option<i64>> = vec![None; objects.len()];
    for (k, chunk) in objects.chunks(INSERT_CHUNK).enumerate() {
        let base = first + (k * INSERT_CHUNK) as i64;
        let sql = format!(
            "INSERT INTO objects (collection_id, id, type, spec_version, version, version_us, \
             date_added, tlp, org_id, user_id, body) VALUES {} \
             ON CONFLICT (collection_id, id, version_us) DO NOTHING RETURNING date_added, pk",
            vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut st = tx.prepare_cached(&sql).map_err(err("prepare insert"))?;
        let row_values: Vec<[i64; 2]> = (base..)
            .zip(chunk)
            .map(|(date_added, o)| [date_added, o.tlp.as_i64()])
            .collect();
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * INSERT_COLUMNS);
        for (o, [date_added, tlp]) in chunk.iter().zip(&row_values) {
            params.extend([
                &cid as &dyn ToSql,
                &o.id,
                &o.stix_type,
                &o.spec_version,
                &o.version,
                &o.version_us,
                date_added,
                tlp,
                &o.org_id,
                &o.user_id,
                &o.body,
            ]);
        }
        let mut rows = st.query(params.as_slice()).map_err(insert_failed)?;
        while let Some(row) = rows.next().map_err(insert_failed)? {
            let date_added: i64 = row.get(0).map_err(err("read inserted row"))?;
            let pk: i64 = row.get(1).map_err(err("read inserted row"))?;
            let slot = usize::try_from(date_added - first)
                .ok()
                .and_then(|i| pks.get_mut(i))
                .ok_or_else(|| StoreError::Corrupt(format!("inserted date_added {date_added}")))?;
            *slot = Some(pk);
        }
    }
    let last = first + objects.len() as i64 - 1;
    let mut out = Vec::with_capacity(objects.len());
    let mut fresh: Fresh = Vec::new();
    for ((o, pk), date_added) in objects.into_iter().zip(pks).zip(first..) {
        match pk {
            Some(pk) => {
                let texts = match o.search {
                    Some(t) => t,
                    None => search_text::fields(&o.body),
                };
                fresh.push((pk, texts));
                out.push(Added::Inserted(date_added));
            }
            None => out.push(Added::Duplicate),
        }
    }
    Ok((out, last, fresh))
}

/// Adds new object rows (`pk`, their three search texts) to the search
/// index, in the caller's transaction, after all of its object rows.
///
/// One row per statement: a single-row `INSERT` needs no statement
/// journal, so SQLite does not open a savepoint on the search table, at
/// which FTS5 would write its pending terms out as a new segment. The terms
/// of the whole transaction then become one segment at commit (or one per
/// megabyte of terms), where multi-row statements, or object inserts
/// between index inserts, made a segment per statement for FTS5 to merge
/// later. Measured on the TAXII benchmark (50 POSTs of 1,000 objects):
/// the writer thread's CPU time about a fifth lower than with 256-row
/// statements after each batch.
fn index_new(tx: &rusqlite::Transaction<'_>, rows: &[(i64, [String; 3])]) -> Result<()> {
    let mut st = tx
        .prepare_cached(
            "INSERT INTO objects_fts (rowid, names, vals, text) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(err("prepare index insert"))?;
    for (pk, [names, vals, text]) in rows {
        st.execute(params![pk, names, vals, text])
            .map_err(err("index new objects"))?;
    }
    Ok(())
}

/// The eight object columns of a result row, as `Sql::select_page` lists them.
fn object_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

/// Runs an object query and reads every row.
fn object_rows(c: &Connection, sql: &Sql) -> Result<Vec<StoredObject>> {
    let mut st = c.prepare(&sql.text).map_err(err("prepare object query"))?;
    let rows = st
        .query_map(rusqlite::params_from_iter(sql.params.iter()), object_row)
        .map_err(err("run object query"))?;
    let mut objects = Vec::new();
    for row in rows {
        objects.push(to_object(row.map_err(err("read object row"))?)?);
    }
    Ok(objects)
}

/// Creates or replaces a status resource on `conn` (a connection or a transaction).
fn write_status(conn: &Connection, s: &StatusRecord) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO statuses (id, collection_id, user_id, request_timestamp, status, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body",
    )
    .and_then(|mut st| {
        st.execute(params![s.id, s.collection_id, s.user_id, s.request_timestamp, s.status, s.body])
    })
    .map_err(err("write status"))?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<i64> {
        self.write(|w| {
            let tx = w.conn.transaction().map_err(err("begin migration"))?;
            tx.execute_batch(migrations::VERSION_TABLE)
                .map_err(err("create schema_migrations"))?;
            let current: i64 = tx
                .query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                    [],
                    |r| r.get(0),
                )
                .map_err(err("read schema version"))?;
            if current > migrations::latest() {
                return Err(StoreError::SchemaTooNew {
                    found: current,
                    supported: migrations::latest(),
                });
            }
            for v in current + 1..=migrations::latest() {
                for stmt in migrations::statements(v, Dialect::Sqlite) {
                    tx.execute_batch(&stmt).map_err(err("apply migration"))?;
                }
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    params![v, now_micros()],
                )
                .map_err(err("record migration"))?;
            }
            tx.commit().map_err(err("commit migration"))?;
            Ok(migrations::latest())
        })
        .await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        self.read(move |c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err("read setting"))
        })
        .await
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |w| {
            w.conn
                .execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, value],
                )
                .map_err(err("write setting"))?;
            Ok(())
        })
        .await
    }

    async fn init_setting(&self, key: &str, value: &str) -> Result<String> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |w| {
            w.conn
                .execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                    params![key, value],
                )
                .map_err(err("write setting"))?;
            w.conn
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
                .map_err(err("read setting"))
        })
        .await
    }

    async fn create_org(&self, name: &str, kind: OrgKind) -> Result<Organisation> {
        let name = name.to_string();
        self.write(move |w| {
            match w.conn.execute(
                "INSERT INTO organisations (name, kind) VALUES (?1, ?2)",
                params![name, kind.as_str()],
            ) {
                Ok(_) => Ok(Organisation {
                    id: w.conn.last_insert_rowid(),
                    name,
                    kind,
                }),
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                    what: "organisation",
                    name,
                }),
                Err(e) => Err(err("create organisation")(e)),
            }
        })
        .await
    }

    async fn orgs(&self) -> Result<Vec<Organisation>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT id, name, kind FROM organisations ORDER BY id")
                .map_err(err("list organisations"))?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(err("list organisations"))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, name, kind) = row.map_err(err("list organisations"))?;
                let kind = OrgKind::parse(&kind).ok_or_else(|| {
                    StoreError::Corrupt(format!("organisation {id}: kind {kind:?}"))
                })?;
                out.push(Organisation { id, name, kind });
            }
            Ok(out)
        })
        .await
    }

    async fn create_user(&self, name: &str, org_id: Option<i64>, role: Role) -> Result<User> {
        let name = name.to_string();
        self.write(move |w| {
            match w.conn.execute(
                "INSERT INTO users (name, org_id, role) VALUES (?1, ?2, ?3)",
                params![name, org_id, role.as_str()],
            ) {
                Ok(_) => Ok(User {
                    id: w.conn.last_insert_rowid(),
                    name,
                    org_id,
                    role,
                }),
                Err(e) if is_unique_violation(&e) => {
                    Err(StoreError::Conflict { what: "user", name })
                }
                Err(e) if is_fk_violation(&e) => Err(StoreError::NotFound {
                    what: "organisation",
                    id: org_id.map(|i| i.to_string()).unwrap_or_default(),
                }),
                Err(e) => Err(err("create user")(e)),
            }
        })
        .await
    }

    async fn users(&self) -> Result<Vec<User>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT id, name, org_id, role FROM users ORDER BY id")
                .map_err(err("list users"))?;
            let rows = st.query_map([], user_row).map_err(err("list users"))?;
            rows.map(|r| r.map_err(err("list users")).and_then(to_user))
                .collect()
        })
        .await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let name = name.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT id, name, org_id, role FROM users WHERE name = ?1",
                [name],
                user_row,
            )
            .optional()
            .map_err(err("find user"))?
            .map(to_user)
            .transpose()
        })
        .await
    }

    async fn create_token(&self, t: NewToken) -> Result<TokenInfo> {
        self.write(move |w| {
            match w.conn.execute(
                "INSERT INTO tokens (user_id, hash, label, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![t.user_id, &t.hash[..], t.label, t.created, t.expires],
            ) {
                Ok(_) => Ok(TokenInfo {
                    id: w.conn.last_insert_rowid(),
                    user_id: t.user_id,
                    label: t.label,
                    created: t.created,
                    expires: t.expires,
                    revoked: None,
                }),
                Err(e) if is_fk_violation(&e) => Err(StoreError::NotFound {
                    what: "user",
                    id: t.user_id.to_string(),
                }),
                Err(e) => Err(err("create token")(e)),
            }
        })
        .await
    }

    async fn tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>> {
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT id, user_id, label, created, expires, revoked FROM tokens WHERE user_id = ?1 ORDER BY id",
                )
                .map_err(err("list tokens"))?;
            let rows = st.query_map([user_id], token_row).map_err(err("list tokens"))?;
            rows.map(|r| r.map_err(err("list tokens"))).collect()
        })
        .await
    }

    async fn revoke_token(&self, token_id: i64, now: i64) -> Result<bool> {
        self.write(move |w| {
            let n = w
                .conn
                .execute(
                    "UPDATE tokens SET revoked = COALESCE(revoked, ?2) WHERE id = ?1",
                    params![token_id, now],
                )
                .map_err(err("revoke token"))?;
            Ok(n > 0)
        })
        .await
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<(TokenInfo, [u8; 32], User)>> {
        let hash = *hash;
        self.read(move |c| {
            let row = c
                .query_row(
                    "SELECT t.id, t.user_id, t.label, t.created, t.expires, t.revoked, t.hash, \
                     u.id, u.name, u.org_id, u.role \
                     FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1",
                    [&hash[..]],
                    |r| {
                        let stored: Vec<u8> = r.get(6)?;
                        Ok((
                            token_row(r)?,
                            stored,
                            (r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?),
                        ))
                    },
                )
                .optional()
                .map_err(err("find token"))?;
            let Some((info, stored, user)) = row else {
                return Ok(None);
            };
            let stored: [u8; 32] = stored
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("token {}: hash length", info.id)))?;
            Ok(Some((info, stored, to_user(user)?)))
        })
        .await
    }

    async fn create_collection(&self, c: &NewCollection) -> Result<Collection> {
        let c = c.clone();
        self.write(move |w| {
            match w.conn.execute(
                "INSERT INTO collections (id, alias, title, description, public, owner_org) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![c.id, c.alias, c.title, c.description, i64::from(c.public), c.owner_org],
            ) {
                Ok(_) => Ok(Collection {
                    id: c.id,
                    alias: c.alias,
                    title: c.title,
                    description: c.description,
                    public: c.public,
                    owner_org: c.owner_org,
                }),
                Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                    what: "collection",
                    name: c.alias.unwrap_or(c.id),
                }),
                Err(e) => Err(err("create collection")(e)),
            }
        })
        .await
    }

    async fn collections(&self) -> Result<Vec<Collection>> {
        self.read(|c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {COLLECTION_COLUMNS} FROM collections ORDER BY title, id"
                ))
                .map_err(err("list collections"))?;
            let rows = st
                .query_map([], collection_row)
                .map_err(err("list collections"))?;
            rows.map(|r| r.map(to_collection).map_err(err("list collections")))
                .collect()
        })
        .await
    }

    async fn collection(&self, id_or_alias: &str) -> Result<Option<Collection>> {
        let key = id_or_alias.to_string();
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {COLLECTION_COLUMNS} FROM collections WHERE id = ?1 OR alias = ?1"
                ),
                [key],
                collection_row,
            )
            .optional()
            .map(|o| o.map(to_collection))
            .map_err(err("find collection"))
        })
        .await
    }

    async fn set_grant(&self, g: &Grant) -> Result<()> {
        let g = g.clone();
        self.write(move |w| {
            let (kind, id) = subject_parts(g.subject);
            match w.conn.execute(
                "INSERT INTO grants (collection_id, subject_kind, subject_id, can_read, can_write) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (collection_id, subject_kind, subject_id) \
                 DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
                params![g.collection_id, kind, id, i64::from(g.can_read), i64::from(g.can_write)],
            ) {
                Ok(_) => Ok(()),
                Err(e) if is_fk_violation(&e) => Err(StoreError::NotFound {
                    what: "collection",
                    id: g.collection_id,
                }),
                Err(e) => Err(err("set grant")(e)),
            }
        })
        .await
    }

    async fn grants(&self, collection_id: &str) -> Result<Vec<Grant>> {
        let cid = collection_id.to_string();
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT collection_id, subject_kind, subject_id, can_read, can_write FROM grants \
                     WHERE collection_id = ?1 ORDER BY subject_kind, subject_id",
                )
                .map_err(err("list grants"))?;
            let rows = st
                .query_map([cid], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })
                .map_err(err("list grants"))?;
            rows.map(|r| {
                let (c, k, i, rd, wr) = r.map_err(err("list grants"))?;
                to_grant(c, &k, i, rd, wr)
            })
            .collect()
        })
        .await
    }

    async fn add_objects(
        &self,
        collection_id: &str,
        objects: Vec<NewObject>,
    ) -> Result<Vec<Added>> {
        let cid = collection_id.to_string();
        self.write(move |w| {
            let tx = w.conn.transaction().map_err(err("begin insert"))?;
            let (out, last, fresh) = insert_objects(&tx, &cid, objects, w.last_added)?;
            index_new(&tx, &fresh)?;
            tx.commit().map_err(err("commit insert"))?;
            w.last_added = last;
            Ok(out)
        })
        .await
    }

    async fn add_object_batches_with_status(
        &self,
        collection_id: &str,
        mut batches: ObjectBatches,
        status: StatusFn,
    ) -> Result<(Vec<Added>, StatusRecord)> {
        let cid = collection_id.to_string();
        self.write(move |w| {
            let tx = w.conn.transaction().map_err(err("begin insert"))?;
            let mut out = Vec::new();
            let mut last = w.last_added;
            let mut fresh = Vec::new();
            while let Some(batch) = batches.blocking_recv() {
                let (added, l, f) = insert_objects(&tx, &cid, batch, last)?;
                out.extend(added);
                fresh.extend(f);
                last = l;
            }
            index_new(&tx, &fresh)?;
            let record = status(&out);
            write_status(&tx, &record)?;
            tx.commit().map_err(err("commit insert"))?;
            w.last_added = last;
            Ok((out, record))
        })
        .await
    }

    async fn query_objects(&self, q: &ObjectQuery) -> Result<Page> {
        let sql = Sql::select_page(q);
        let limit = q.limit;
        self.read(move |c| {
            let mut objects = object_rows(c, &sql)?;
            let more = objects.len() > limit;
            objects.truncate(limit);
            Ok(Page { objects, more })
        })
        .await
    }

    async fn delete_objects(&self, q: &ObjectQuery) -> Result<u64> {
        let sql = Sql::delete(q);
        self.write(move |w| {
            let n = w
                .conn
                .execute(&sql.text, rusqlite::params_from_iter(sql.params.iter()))
                .map_err(err("delete objects"))?;
            Ok(n as u64)
        })
        .await
    }

    async fn count_objects(&self, q: &ObjectQuery) -> Result<u64> {
        let sql = Sql::count(q);
        self.read(move |c| {
            let n: i64 = c
                .query_row(
                    &sql.text,
                    rusqlite::params_from_iter(sql.params.iter()),
                    |r| r.get(0),
                )
                .map_err(err("count objects"))?;
            Ok(n.max(0) as u64)
        })
        .await
    }

    async fn put_status(&self, s: &StatusRecord) -> Result<()> {
        let s = s.clone();
        self.write(move |w| write_status(&w.conn, &s)).await
    }

    async fn status(&self, id: &str) -> Result<Option<StatusRecord>> {
        let id = id.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT id, collection_id, user_id, request_timestamp, status, body FROM statuses WHERE id = ?1",
                [id],
                |r| {
                    Ok(StatusRecord {
                        id: r.get(0)?,
                        collection_id: r.get(1)?,
                        user_id: r.get(2)?,
                        request_timestamp: r.get(3)?,
                        status: r.get(4)?,
                        body: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(err("read status"))
        })
        .await
    }

    async fn integrity_check(&self) -> Result<()> {
        self.read(|c| {
            let res: String = c
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .map_err(err("integrity check"))?;
            if res == "ok" {
                Ok(())
            } else {
                Err(StoreError::Corrupt(format!("integrity_check: {res}")))
            }
        })
        .await
    }

    async fn add_decision(&self, d: &DecisionRecord) -> Result<i64> {
        let d = d.clone();
        self.write(move |w| {
            w.conn
                .execute(
                    "INSERT INTO screening_decisions (query_key, entity_id, user_id, org_id, recorded_at, body) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![d.query_key, d.entity_id, d.user_id, d.org_id, d.recorded_at, d.body],
                )
                .map_err(err("write screening decision"))?;
            Ok(w.conn.last_insert_rowid())
        })
        .await
    }

    async fn decisions(
        &self,
        query_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DecisionRecord>> {
        let key = query_key.map(str::to_string);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT id, query_key, entity_id, user_id, org_id, recorded_at, body FROM screening_decisions \
                     WHERE ?1 IS NULL OR query_key = ?1 ORDER BY id DESC LIMIT ?2",
                )
                .map_err(err("prepare decisions query"))?;
            let rows = st
                .query_map(params![key, limit], |r| {
                    Ok(DecisionRecord {
                        id: r.get(0)?,
                        query_key: r.get(1)?,
                        entity_id: r.get(2)?,
                        user_id: r.get(3)?,
                        org_id: r.get(4)?,
                        recorded_at: r.get(5)?,
                        body: r.get(6)?,
                    })
                })
                .map_err(err("read decisions"))?;
            let mut out = rows
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(err("read decision row"))?;
            out.reverse();
            Ok(out)
        })
        .await
    }

    async fn object_origins(&self, collection_id: &str, id: &str) -> Result<Vec<ObjectOrigin>> {
        let (cid, id) = (collection_id.to_string(), id.to_string());
        self.read(move |c| {
            let mut st = c
                .prepare(sql::ORIGINS)
                .map_err(err("prepare origins query"))?;
            let rows = st
                .query_map(params![cid, id], |r| {
                    Ok(ObjectOrigin {
                        pk: r.get(0)?,
                        version: r.get(1)?,
                        date_added: r.get(2)?,
                        org_id: r.get(3)?,
                        user_id: r.get(4)?,
                    })
                })
                .map_err(err("read origins"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(err("read origin row"))
        })
        .await
    }

    async fn record_sources(
        &self,
        collection_id: &str,
        source: &str,
        recorded_at: i64,
        objects: &[(String, String)],
    ) -> Result<()> {
        let (cid, source, objects) = (
            collection_id.to_string(),
            source.to_string(),
            objects.to_vec(),
        );
        self.write(move |w| {
            let tx = w.conn.transaction().map_err(err("begin sources"))?;
            {
                let mut st = tx
                    .prepare(sql::INSERT_SOURCE)
                    .map_err(err("prepare sources"))?;
                for (id, version) in &objects {
                    st.execute(params![cid, id, version, source, recorded_at])
                        .map_err(err("write source"))?;
                }
            }
            tx.commit().map_err(err("commit sources"))
        })
        .await
    }

    async fn object_sources(&self, collection_id: &str, id: &str) -> Result<Vec<ObjectSource>> {
        let (cid, id) = (collection_id.to_string(), id.to_string());
        self.read(move |c| {
            let mut st = c
                .prepare(sql::SOURCES)
                .map_err(err("prepare sources query"))?;
            let rows = st
                .query_map(params![cid, id], |r| {
                    Ok(ObjectSource {
                        version: r.get(0)?,
                        source: r.get(1)?,
                        recorded_at: r.get(2)?,
                    })
                })
                .map_err(err("read sources"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(err("read source row"))
        })
        .await
    }

    async fn search_objects(&self, q: &SearchQuery) -> Result<SearchPage> {
        if q.finds_nothing() {
            return Ok(SearchPage::default());
        }
        let page = Sql::search(q, Dialect::Sqlite, false);
        let count = Sql::search(q, Dialect::Sqlite, true);
        self.read(move |c| {
            let total: i64 = c
                .query_row(
                    &count.text,
                    rusqlite::params_from_iter(count.params.iter()),
                    |r| r.get(0),
                )
                .map_err(err("count search hits"))?;
            let mut st = c.prepare(&page.text).map_err(err("prepare search"))?;
            let rows = st
                .query_map(rusqlite::params_from_iter(page.params.iter()), |r| {
                    Ok((object_row(r)?, r.get::<_, String>(8)?))
                })
                .map_err(err("run search"))?;
            let mut hits = Vec::new();
            for row in rows {
                let (o, collection_id) = row.map_err(err("read search hit"))?;
                hits.push(SearchHit {
                    collection_id,
                    object: to_object(o)?,
                });
            }
            Ok(SearchPage {
                total: total.max(0) as u64,
                hits,
            })
        })
        .await
    }

    async fn relationships_touching(
        &self,
        q: &ObjectQuery,
        refs: &[String],
    ) -> Result<Vec<StoredObject>> {
        let Some(sql) = Sql::relationships(q, refs, Dialect::Sqlite) else {
            return Ok(Vec::new());
        };
        self.read(move |c| object_rows(c, &sql)).await
    }
}
