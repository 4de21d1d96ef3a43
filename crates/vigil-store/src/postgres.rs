//! The PostgreSQL backend, for several hub replicas sharing one database.
//!
//! A fixed set of connections is shared round-robin. Migrations run under an
//! advisory lock so replicas starting together apply them once. Pagination
//! cursors and status resources live in the database, so any replica can
//! serve the next page of a query another replica started.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, GenericClient, NoTls, Row, Statement};

use crate::migrations::{self, Dialect};
use crate::search_text;
use crate::sql::{self, to_pg, Param, Sql};
use crate::sqlite::{
    now_micros, subject_parts, to_collection, to_grant, to_object, COLLECTION_COLUMNS,
};
use crate::types::*;
use crate::{ObjectBatches, Result, StatusFn, Store, StoreError};

/// How many connections each hub process opens.
const CONNECTIONS: usize = 16;

/// Prepared statements kept per connection (query texts vary with the
/// filters of a request; the cache is emptied when full).
const STATEMENT_CACHE: usize = 256;

/// How long a token found by its hash is answered from memory. A token
/// revoked through this process stops working at once; one revoked through
/// another replica within this time.
const TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Tokens kept in memory at most (the cache is emptied when full).
const TOKEN_CACHE: usize = 4096;

/// Rows inserted by this process after which the planner statistics of
/// `objects` are refreshed (at least this many, and at least a fifth of the
/// rows counted at the last refresh).
const ANALYZE_AFTER: u64 = 1000;

/// What [`Store::token_by_hash`] answers.
type TokenRow = (TokenInfo, [u8; 32], User);

/// An arbitrary constant identifying the migration advisory lock.
const MIGRATION_LOCK: i64 = 0x0056_4947_494c;

fn err(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |source| StoreError::Postgres { context, source }
}

fn is_state(e: &tokio_postgres::Error, state: &SqlState) -> bool {
    e.code() == Some(state)
}

fn pg_params(p: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter()
        .map(|p| match p {
            Param::Int(i) => i as &(dyn ToSql + Sync),
            Param::Text(s) => s as &(dyn ToSql + Sync),
        })
        .collect()
}

/// One connection and its prepared statements. Its `query`, `query_one`,
/// `query_opt` and `execute` prepare each SQL text once per connection, so a
/// request costs one round trip per statement instead of two.
struct Conn {
    client: Client,
    statements: std::sync::Mutex<HashMap<String, Statement>>,
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Conn {
    async fn statement(&self, sql: &str) -> std::result::Result<Statement, tokio_postgres::Error> {
        let cached = self
            .statements
            .lock()
            .ok()
            .and_then(|m| m.get(sql).cloned());
        if let Some(st) = cached {
            return Ok(st);
        }
        let st = self.client.prepare(sql).await?;
        if let Ok(mut m) = self.statements.lock() {
            if m.len() >= STATEMENT_CACHE {
                m.clear();
            }
            m.insert(sql.to_string(), st.clone());
        }
        Ok(st)
    }

    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, tokio_postgres::Error> {
        let st = self.statement(sql).await?;
        self.client.query(&st, params).await
    }

    async fn query_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Row, tokio_postgres::Error> {
        let st = self.statement(sql).await?;
        self.client.query_one(&st, params).await
    }

    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Option<Row>, tokio_postgres::Error> {
        let st = self.statement(sql).await?;
        self.client.query_opt(&st, params).await
    }

    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, tokio_postgres::Error> {
        let st = self.statement(sql).await?;
        self.client.execute(&st, params).await
    }
}

/// The PostgreSQL backend.
pub struct PgStore {
    clients: Arc<Vec<Mutex<Conn>>>,
    next: AtomicUsize,
    last_added: AtomicI64,
    /// Recent token lookups by hash, with the time they were read.
    tokens: std::sync::Mutex<HashMap<[u8; 32], (std::time::Instant, TokenRow)>>,
    stats: Arc<Stats>,
}

/// How many outcomes are new rows.
fn inserted_count(out: &[Added]) -> usize {
    out.iter()
        .filter(|o| matches!(o, Added::Inserted(_)))
        .count()
}

/// When the planner statistics of `objects` were last refreshed.
///
/// A bulk load leaves PostgreSQL's statistics describing a nearly empty
/// table until autovacuum's next round (a minute later by default); the
/// planner then scans the whole collection for every page, once per object
/// for the latest-version filter. Refreshing them after large inserts keeps
/// the page query an index range scan.
#[derive(Default)]
struct Stats {
    /// Rows inserted since the last refresh.
    pending: AtomicU64,
    /// Rows counted at the last refresh.
    counted: AtomicU64,
    /// Whether a refresh is running.
    running: AtomicBool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("connections", &self.clients.len())
            .finish()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`).
    ///
    /// With `schema`, every connection works in that schema, creating it if
    /// needed (used by tests to isolate runs); it must be a plain identifier.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<PgStore> {
        if let Some(s) = schema {
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::Corrupt(format!(
                    "schema name {s:?} is not a plain identifier"
                )));
            }
        }
        let mut clients = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let (client, conn) = tokio_postgres::connect(url, NoTls)
                .await
                .map_err(err("connect"))?;
            tokio::spawn(async move {
                // The connection ends when the client is dropped or the
                // server goes away; requests then fail with their own error.
                let _ = conn.await;
            });
            // Every query here is a short index walk; JIT compilation,
            // which PostgreSQL starts from a cost estimate, added 47 ms to
            // a 12 ms page and never pays off.
            client
                .batch_execute("SET jit = off")
                .await
                .map_err(err("turn off JIT"))?;
            if let Some(s) = schema {
                client
                    .batch_execute(&format!(
                        "CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}"
                    ))
                    .await
                    .map_err(err("select schema"))?;
            }
            clients.push(Mutex::new(Conn {
                client,
                statements: std::sync::Mutex::new(HashMap::new()),
            }));
        }
        Ok(PgStore {
            clients: Arc::new(clients),
            next: AtomicUsize::new(0),
            last_added: AtomicI64::new(0),
            tokens: std::sync::Mutex::new(HashMap::new()),
            stats: Arc::default(),
        })
    }

    async fn client(&self) -> tokio::sync::MutexGuard<'_, Conn> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.clients.len();
        for i in 0..n {
            if let Ok(g) = self.clients[(start + i) % n].try_lock() {
                return g;
            }
        }
        self.clients[start % n].lock().await
    }

    /// Reads the token with this hash and its user from the database.
    async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>> {
        let c = self.client().await;
        let Some(r) = c
            .query_opt(
                "SELECT t.id, t.user_id, t.label, t.created, t.expires, t.revoked, t.hash, \
                 u.id, u.name, u.org_id, u.role \
                 FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1",
                &[&&hash[..]],
            )
            .await
            .map_err(err("find token"))?
        else {
            return Ok(None);
        };
        let info = token_from(&r);
        let stored: Vec<u8> = r.get(6);
        let stored: [u8; 32] = stored
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("token {}: hash length", info.id)))?;
        let id: i64 = r.get(7);
        let role: String = r.get(10);
        let user = User {
            id,
            name: r.get(8),
            org_id: r.get(9),
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("user {id}: role {role:?}")))?,
        };
        Ok(Some((info, stored, user)))
    }

    /// Notes `n` committed inserts; refreshes the statistics of `objects`
    /// when enough rows have arrived since the last time, before the
    /// request that crossed the threshold answers (so reads that follow it
    /// are planned on the new statistics). Failures are left for a later
    /// insert to retry.
    async fn inserted(&self, n: usize) {
        let stats = &self.stats;
        let pending = stats.pending.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if pending < ANALYZE_AFTER.max(stats.counted.load(Ordering::Relaxed) / 5)
            || stats.running.swap(true, Ordering::AcqRel)
        {
            return;
        }
        /// Clears `running` however the refresh ends (even if the request
        /// is dropped while waiting).
        struct Running<'a>(&'a AtomicBool);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _running = Running(&stats.running);
        let taken = stats.pending.swap(0, Ordering::Relaxed);
        let c = self.client().await;
        let counted = match c.batch_execute("ANALYZE objects").await {
            Ok(()) => c
                .query_one(
                    "SELECT GREATEST(reltuples, 0)::BIGINT FROM pg_class WHERE oid = 'objects'::regclass",
                    &[],
                )
                .await
                .map(|r| r.get::<_, i64>(0).max(0) as u64)
                .ok(),
            Err(_) => None,
        };
        match counted {
            Some(n) => stats.counted.store(n, Ordering::Relaxed),
            None => {
                stats.pending.fetch_add(taken, Ordering::Relaxed);
            }
        }
    }

    fn next_date_added(&self, count: usize) -> i64 {
        // Strictly increasing within this process; ties between replicas are
        // ordered by row id.
        let now = now_micros();
        let mut prev = self.last_added.load(Ordering::Relaxed);
        loop {
            let start = prev.max(now - 1) + 1;
            let end = start + count as i64;
            match self
                .last_added
                .compare_exchange(prev, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return start,
                Err(p) => prev = p,
            }
        }
    }
}

fn user_from(r: &Row) -> Result<User> {
    let role: String = r.get(3);
    let id: i64 = r.get(0);
    Ok(User {
        id,
        name: r.get(1),
        org_id: r.get(2),
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("user {id}: role {role:?}")))?,
    })
}

fn token_from(r: &Row) -> TokenInfo {
    TokenInfo {
        id: r.get(0),
        user_id: r.get(1),
        label: r.get(2),
        created: r.get(3),
        expires: r.get(4),
        revoked: r.get(5),
    }
}

fn collection_from(r: &Row) -> Collection {
    to_collection((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
}

/// The eight object columns of a result row, as `Sql::select_page` lists them.
fn object_from(r: &Row) -> Result<StoredObject> {
    to_object((
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
    ))
}

/// Inserts a batch of objects in one statement (`$1` the collection, then
/// one array per column).
const INSERT_OBJECTS: &str = "INSERT INTO objects (collection_id, id, type, spec_version, version, version_us, date_added, tlp, org_id, user_id, body) \
     SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[]) \
     ON CONFLICT (collection_id, id, version_us) DO NOTHING RETURNING id, version_us, date_added, pk";

/// Adds new object rows to the search index (`$1` their pks, then their
/// names, values and other text; see `search_text`).
const INDEX_OBJECTS: &str = "INSERT INTO object_search (pk, doc) \
     SELECT pk, setweight(vigil_search_words(n), 'A') || setweight(vigil_search_words(v), 'B') \
       || setweight(vigil_search_words(t), 'C') \
     FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(pk, n, v, t)";

/// Creates or replaces a status resource.
const WRITE_STATUS: &str = "INSERT INTO statuses (id, collection_id, user_id, request_timestamp, status, body) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET status = excluded.status, body = excluded.body";

async fn write_status(c: &impl GenericClient, st: &Statement, s: &StatusRecord) -> Result<()> {
    c.execute(
        st,
        &[
            &s.id,
            &s.collection_id,
            &s.user_id,
            &s.request_timestamp,
            &s.status,
            &s.body,
        ],
    )
    .await
    .map_err(err("write status"))?;
    Ok(())
}

impl PgStore {
    /// Runs [`INSERT_OBJECTS`] (prepared as `insert`) on `c`, a connection
    /// or a transaction; one outcome per object, in order.
    async fn insert_objects(
        &self,
        c: &impl GenericClient,
        insert: &Statement,
        collection_id: &str,
        objects: &[NewObject],
    ) -> Result<Vec<Added>> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let start = self.next_date_added(objects.len());
        let n = objects.len();
        let mut ids = Vec::with_capacity(n);
        let mut types = Vec::with_capacity(n);
        let mut svs = Vec::with_capacity(n);
        let mut versions = Vec::with_capacity(n);
        let mut vus = Vec::with_capacity(n);
        let mut added = Vec::with_capacity(n);
        let mut tlps = Vec::with_capacity(n);
        let mut orgs = Vec::with_capacity(n);
        let mut users = Vec::with_capacity(n);
        let mut bodies = Vec::with_capacity(n);
        for (i, o) in objects.iter().enumerate() {
            ids.push(o.id.as_str());
            types.push(o.stix_type.as_str());
            svs.push(o.spec_version.as_str());
            versions.push(o.version.as_str());
            vus.push(o.version_us);
            added.push(start + i as i64);
            tlps.push(o.tlp.as_i64());
            orgs.push(o.org_id);
            users.push(o.user_id);
            bodies.push(o.body.as_str());
        }
        let rows = c
            .query(
                insert,
                &[
                    &collection_id,
                    &ids,
                    &types,
                    &svs,
                    &versions,
                    &vus,
                    &added,
                    &tlps,
                    &orgs,
                    &users,
                    &bodies,
                ],
            )
            .await
            .map_err(|e| {
                if is_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) {
                    StoreError::NotFound {
                        what: "collection",
                        id: collection_id.to_string(),
                    }
                } else {
                    err("insert objects")(e)
                }
            })?;
        let mut inserted: HashMap<(String, i64), (i64, i64)> = rows
            .iter()
            .map(|r| {
                (
                    (r.get::<_, String>(0), r.get::<_, i64>(1)),
                    (r.get::<_, i64>(2), r.get::<_, i64>(3)),
                )
            })
            .collect();
        let mut pks = Vec::with_capacity(inserted.len());
        let mut texts: [Vec<String>; 3] = Default::default();
        let out = objects
            .iter()
            .map(|o| match inserted.remove(&(o.id.clone(), o.version_us)) {
                Some((d, pk)) => {
                    pks.push(pk);
                    let fields = match &o.search {
                        Some(t) => t.clone(),
                        None => search_text::fields(&o.body),
                    };
                    for (col, t) in texts.iter_mut().zip(fields) {
                        col.push(t);
                    }
                    Added::Inserted(d)
                }
                None => Added::Duplicate,
            })
            .collect();
        if !pks.is_empty() {
            let [names, vals, text] = &texts;
            c.execute(INDEX_OBJECTS, &[&pks, names, vals, text])
                .await
                .map_err(err("index new objects"))?;
        }
        Ok(out)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> Result<i64> {
        let mut c = self.client().await;
        let tx = c.transaction().await.map_err(err("begin migration"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(err("take migration lock"))?;
        tx.batch_execute(migrations::VERSION_TABLE)
            .await
            .map_err(err("create schema_migrations"))?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .await
            .map_err(err("read schema version"))?
            .get(0);
        if current > migrations::latest() {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported: migrations::latest(),
            });
        }
        for v in current + 1..=migrations::latest() {
            for stmt in migrations::statements(v, Dialect::Postgres) {
                tx.batch_execute(&stmt)
                    .await
                    .map_err(err("apply migration"))?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[&v, &now_micros()],
            )
            .await
            .map_err(err("record migration"))?;
        }
        tx.commit().await.map_err(err("commit migration"))?;
        drop(c);
        let c = self.client().await;
        let last: i64 = c
            .query_one(
                "SELECT COALESCE(MAX(date_added), 0)::BIGINT FROM objects",
                &[],
            )
            .await
            .map_err(err("read last date_added"))?
            .get(0);
        self.last_added.fetch_max(last, Ordering::Relaxed);
        Ok(migrations::latest())
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let c = self.client().await;
        let row = c
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
            .await
            .map_err(err("read setting"))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        let c = self.client().await;
        c.execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )
        .await
        .map_err(err("write setting"))?;
        Ok(())
    }

    async fn init_setting(&self, key: &str, value: &str) -> Result<String> {
        let c = self.client().await;
        c.execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &value],
        )
        .await
        .map_err(err("write setting"))?;
        Ok(
            c.query_one("SELECT value FROM settings WHERE key = $1", &[&key])
                .await
                .map_err(err("read setting"))?
                .get(0),
        )
    }

    async fn create_org(&self, name: &str, kind: OrgKind) -> Result<Organisation> {
        let c = self.client().await;
        match c
            .query_one(
                "INSERT INTO organisations (name, kind) VALUES ($1, $2) RETURNING id",
                &[&name, &kind.as_str()],
            )
            .await
        {
            Ok(r) => Ok(Organisation {
                id: r.get(0),
                name: name.to_string(),
                kind,
            }),
            Err(e) if is_state(&e, &SqlState::UNIQUE_VIOLATION) => Err(StoreError::Conflict {
                what: "organisation",
                name: name.to_string(),
            }),
            Err(e) => Err(err("create organisation")(e)),
        }
    }

    async fn orgs(&self) -> Result<Vec<Organisation>> {
        let c = self.client().await;
        let rows = c
            .query("SELECT id, name, kind FROM organisations ORDER BY id", &[])
            .await
            .map_err(err("list organisations"))?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let kind: String = r.get(2);
                Ok(Organisation {
                    id,
                    name: r.get(1),
                    kind: OrgKind::parse(&kind).ok_or_else(|| {
                        StoreError::Corrupt(format!("organisation {id}: kind {kind:?}"))
                    })?,
                })
            })
            .collect()
    }

    async fn create_user(&self, name: &str, org_id: Option<i64>, role: Role) -> Result<User> {
        let c = self.client().await;
        match c
            .query_one(
                "INSERT INTO users (name, org_id, role) VALUES ($1, $2, $3) RETURNING id",
                &[&name, &org_id, &role.as_str()],
            )
            .await
        {
            Ok(r) => Ok(User {
                id: r.get(0),
                name: name.to_string(),
                org_id,
                role,
            }),
            Err(e) if is_state(&e, &SqlState::UNIQUE_VIOLATION) => Err(StoreError::Conflict {
                what: "user",
                name: name.to_string(),
            }),
            Err(e) if is_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) => Err(StoreError::NotFound {
                what: "organisation",
                id: org_id.map(|i| i.to_string()).unwrap_or_default(),
            }),
            Err(e) => Err(err("create user")(e)),
        }
    }

    async fn users(&self) -> Result<Vec<User>> {
        let c = self.client().await;
        let rows = c
            .query("SELECT id, name, org_id, role FROM users ORDER BY id", &[])
            .await
            .map_err(err("list users"))?;
        rows.iter().map(user_from).collect()
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let c = self.client().await;
        c.query_opt(
            "SELECT id, name, org_id, role FROM users WHERE name = $1",
            &[&name],
        )
        .await
        .map_err(err("find user"))?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    async fn create_token(&self, t: NewToken) -> Result<TokenInfo> {
        let c = self.client().await;
        match c
            .query_one(
                "INSERT INTO tokens (user_id, hash, label, created, expires) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&t.user_id, &&t.hash[..], &t.label, &t.created, &t.expires],
            )
            .await
        {
            Ok(r) => Ok(TokenInfo {
                id: r.get(0),
                user_id: t.user_id,
                label: t.label,
                created: t.created,
                expires: t.expires,
                revoked: None,
            }),
            Err(e) if is_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) => Err(StoreError::NotFound {
                what: "user",
                id: t.user_id.to_string(),
            }),
            Err(e) => Err(err("create token")(e)),
        }
    }

    async fn tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>> {
        let c = self.client().await;
        let rows = c
            .query(
                "SELECT id, user_id, label, created, expires, revoked FROM tokens WHERE user_id = $1 ORDER BY id",
                &[&user_id],
            )
            .await
            .map_err(err("list tokens"))?;
        Ok(rows.iter().map(token_from).collect())
    }

    async fn revoke_token(&self, token_id: i64, now: i64) -> Result<bool> {
        let c = self.client().await;
        let n = c
            .execute(
                "UPDATE tokens SET revoked = COALESCE(revoked, $2) WHERE id = $1",
                &[&token_id, &now],
            )
            .await
            .map_err(err("revoke token"))?;
        if let Ok(mut m) = self.tokens.lock() {
            m.retain(|_, (_, (info, _, _))| info.id != token_id);
        }
        Ok(n > 0)
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>> {
        let cached = self.tokens.lock().ok().and_then(|m| {
            m.get(hash)
                .filter(|(at, _)| at.elapsed() < TOKEN_TTL)
                .map(|(_, row)| row.clone())
        });
        if cached.is_some() {
            return Ok(cached);
        }
        let found = self.find_token(hash).await?;
        if let (Some(row), Ok(mut m)) = (&found, self.tokens.lock()) {
            if m.len() >= TOKEN_CACHE {
                m.clear();
            }
            m.insert(*hash, (std::time::Instant::now(), row.clone()));
        }
        Ok(found)
    }

    async fn create_collection(&self, n: &NewCollection) -> Result<Collection> {
        let c = self.client().await;
        match c
            .execute(
                "INSERT INTO collections (id, alias, title, description, public, owner_org) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&n.id, &n.alias, &n.title, &n.description, &i64::from(n.public), &n.owner_org],
            )
            .await
        {
            Ok(_) => Ok(Collection {
                id: n.id.clone(),
                alias: n.alias.clone(),
                title: n.title.clone(),
                description: n.description.clone(),
                public: n.public,
                owner_org: n.owner_org,
            }),
            Err(e) if is_state(&e, &SqlState::UNIQUE_VIOLATION) => Err(StoreError::Conflict {
                what: "collection",
                name: n.alias.clone().unwrap_or_else(|| n.id.clone()),
            }),
            Err(e) => Err(err("create collection")(e)),
        }
    }

    async fn collections(&self) -> Result<Vec<Collection>> {
        let c = self.client().await;
        let rows = c
            .query(
                &format!("SELECT {COLLECTION_COLUMNS} FROM collections ORDER BY title, id"),
                &[],
            )
            .await
            .map_err(err("list collections"))?;
        Ok(rows.iter().map(collection_from).collect())
    }

    async fn collection(&self, id_or_alias: &str) -> Result<Option<Collection>> {
        let c = self.client().await;
        Ok(c.query_opt(
            &format!("SELECT {COLLECTION_COLUMNS} FROM collections WHERE id = $1 OR alias = $1"),
            &[&id_or_alias],
        )
        .await
        .map_err(err("find collection"))?
        .as_ref()
        .map(collection_from))
    }

    async fn set_grant(&self, g: &Grant) -> Result<()> {
        let c = self.client().await;
        let (kind, id) = subject_parts(g.subject);
        match c
            .execute(
                "INSERT INTO grants (collection_id, subject_kind, subject_id, can_read, can_write) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (collection_id, subject_kind, subject_id) \
                 DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
                &[&g.collection_id, &kind, &id, &i64::from(g.can_read), &i64::from(g.can_write)],
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_state(&e, &SqlState::FOREIGN_KEY_VIOLATION) => Err(StoreError::NotFound {
                what: "collection",
                id: g.collection_id.clone(),
            }),
            Err(e) => Err(err("set grant")(e)),
        }
    }

    async fn grants(&self, collection_id: &str) -> Result<Vec<Grant>> {
        let c = self.client().await;
        let rows = c
            .query(
                "SELECT collection_id, subject_kind, subject_id, can_read, can_write FROM grants \
                 WHERE collection_id = $1 ORDER BY subject_kind, subject_id",
                &[&collection_id],
            )
            .await
            .map_err(err("list grants"))?;
        rows.iter()
            .map(|r| {
                let kind: String = r.get(1);
                to_grant(r.get(0), &kind, r.get(2), r.get(3), r.get(4))
            })
            .collect()
    }

    async fn add_objects(
        &self,
        collection_id: &str,
        objects: Vec<NewObject>,
    ) -> Result<Vec<Added>> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let c = self.client().await;
        let insert = c
            .statement(INSERT_OBJECTS)
            .await
            .map_err(err("prepare insert"))?;
        // One statement inserts the whole batch; it is atomic on its own.
        let out = self
            .insert_objects(&c.client, &insert, collection_id, &objects)
            .await?;
        drop(c);
        self.inserted(inserted_count(&out)).await;
        Ok(out)
    }

    async fn add_object_batches_with_status(
        &self,
        collection_id: &str,
        mut batches: ObjectBatches,
        status: StatusFn,
    ) -> Result<(Vec<Added>, StatusRecord)> {
        let mut c = self.client().await;
        let insert = c
            .statement(INSERT_OBJECTS)
            .await
            .map_err(err("prepare insert"))?;
        let write = c
            .statement(WRITE_STATUS)
            .await
            .map_err(err("prepare status"))?;
        // Dropped before commit (the request went away), the transaction
        // rolls back.
        let tx = c.client.transaction().await.map_err(err("begin insert"))?;
        let mut out = Vec::new();
        while let Some(batch) = batches.recv().await {
            out.extend(
                self.insert_objects(&tx, &insert, collection_id, &batch)
                    .await?,
            );
        }
        let record = status(&out);
        write_status(&tx, &write, &record).await?;
        tx.commit().await.map_err(err("commit insert"))?;
        drop(c);
        self.inserted(inserted_count(&out)).await;
        Ok((out, record))
    }

    async fn query_objects(&self, q: &ObjectQuery) -> Result<Page> {
        let sql = Sql::select_page(q);
        let c = self.client().await;
        let rows = c
            .query(&to_pg(&sql.text), &pg_params(&sql.params))
            .await
            .map_err(err("run object query"))?;
        let mut objects = rows.iter().map(object_from).collect::<Result<Vec<_>>>()?;
        let more = objects.len() > q.limit;
        objects.truncate(q.limit);
        Ok(Page { objects, more })
    }

    async fn delete_objects(&self, q: &ObjectQuery) -> Result<u64> {
        let sql = Sql::delete(q);
        let c = self.client().await;
        c.execute(&to_pg(&sql.text), &pg_params(&sql.params))
            .await
            .map_err(err("delete objects"))
    }

    async fn count_objects(&self, q: &ObjectQuery) -> Result<u64> {
        let sql = Sql::count(q);
        let c = self.client().await;
        let n: i64 = c
            .query_one(&to_pg(&sql.text), &pg_params(&sql.params))
            .await
            .map_err(err("count objects"))?
            .get(0);
        Ok(n.max(0) as u64)
    }

    async fn put_status(&self, s: &StatusRecord) -> Result<()> {
        let c = self.client().await;
        let write = c
            .statement(WRITE_STATUS)
            .await
            .map_err(err("prepare status"))?;
        write_status(&c.client, &write, s).await
    }

    async fn status(&self, id: &str) -> Result<Option<StatusRecord>> {
        let c = self.client().await;
        Ok(c.query_opt(
            "SELECT id, collection_id, user_id, request_timestamp, status, body FROM statuses WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(err("read status"))?
        .map(|r| StatusRecord {
            id: r.get(0),
            collection_id: r.get(1),
            user_id: r.get(2),
            request_timestamp: r.get(3),
            status: r.get(4),
            body: r.get(5),
        }))
    }

    async fn integrity_check(&self) -> Result<()> {
        let c = self.client().await;
        c.query_one("SELECT COUNT(*) FROM objects", &[])
            .await
            .map_err(err("integrity check"))?;
        Ok(())
    }

    async fn add_decision(&self, d: &DecisionRecord) -> Result<i64> {
        let c = self.client().await;
        let row = c
            .query_one(
                "INSERT INTO screening_decisions (query_key, entity_id, user_id, org_id, recorded_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[&d.query_key, &d.entity_id, &d.user_id, &d.org_id, &d.recorded_at, &d.body],
            )
            .await
            .map_err(err("write screening decision"))?;
        Ok(row.get(0))
    }

    async fn decisions(
        &self,
        query_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DecisionRecord>> {
        let c = self.client().await;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(
                "SELECT id, query_key, entity_id, user_id, org_id, recorded_at, body FROM screening_decisions \
                 WHERE $1::TEXT IS NULL OR query_key = $1 ORDER BY id DESC LIMIT $2",
                &[&query_key, &limit],
            )
            .await
            .map_err(err("read decisions"))?;
        let mut out: Vec<DecisionRecord> = rows
            .iter()
            .map(|r| DecisionRecord {
                id: r.get(0),
                query_key: r.get(1),
                entity_id: r.get(2),
                user_id: r.get(3),
                org_id: r.get(4),
                recorded_at: r.get(5),
                body: r.get(6),
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    async fn object_origins(&self, collection_id: &str, id: &str) -> Result<Vec<ObjectOrigin>> {
        let c = self.client().await;
        let rows = c
            .query(&to_pg(sql::ORIGINS), &[&collection_id, &id])
            .await
            .map_err(err("read origins"))?;
        Ok(rows
            .iter()
            .map(|r| ObjectOrigin {
                pk: r.get(0),
                version: r.get(1),
                date_added: r.get(2),
                org_id: r.get(3),
                user_id: r.get(4),
            })
            .collect())
    }

    async fn record_sources(
        &self,
        collection_id: &str,
        source: &str,
        recorded_at: i64,
        objects: &[(String, String)],
    ) -> Result<()> {
        let mut c = self.client().await;
        let tx = c.transaction().await.map_err(err("begin sources"))?;
        let st = tx
            .prepare(&to_pg(sql::INSERT_SOURCE))
            .await
            .map_err(err("prepare sources"))?;
        for (id, version) in objects {
            tx.execute(&st, &[&collection_id, id, version, &source, &recorded_at])
                .await
                .map_err(err("write source"))?;
        }
        tx.commit().await.map_err(err("commit sources"))
    }

    async fn object_sources(&self, collection_id: &str, id: &str) -> Result<Vec<ObjectSource>> {
        let c = self.client().await;
        let rows = c
            .query(&to_pg(sql::SOURCES), &[&collection_id, &id])
            .await
            .map_err(err("read sources"))?;
        Ok(rows
            .iter()
            .map(|r| ObjectSource {
                version: r.get(0),
                source: r.get(1),
                recorded_at: r.get(2),
            })
            .collect())
    }

    async fn search_objects(&self, q: &SearchQuery) -> Result<SearchPage> {
        if q.finds_nothing() {
            return Ok(SearchPage::default());
        }
        let page = Sql::search(q, Dialect::Postgres, false);
        let count = Sql::search(q, Dialect::Postgres, true);
        let c = self.client().await;
        let total: i64 = c
            .query_one(&to_pg(&count.text), &pg_params(&count.params))
            .await
            .map_err(err("count search hits"))?
            .get(0);
        let rows = c
            .query(&to_pg(&page.text), &pg_params(&page.params))
            .await
            .map_err(err("run search"))?;
        let mut hits = Vec::with_capacity(rows.len());
        for r in &rows {
            hits.push(SearchHit {
                collection_id: r.get(8),
                object: object_from(r)?,
            });
        }
        Ok(SearchPage {
            total: total.max(0) as u64,
            hits,
        })
    }

    async fn relationships_touching(
        &self,
        q: &ObjectQuery,
        refs: &[String],
    ) -> Result<Vec<StoredObject>> {
        let Some(sql) = Sql::relationships(q, refs, Dialect::Postgres) else {
            return Ok(Vec::new());
        };
        let c = self.client().await;
        let rows = c
            .query(&to_pg(&sql.text), &pg_params(&sql.params))
            .await
            .map_err(err("run relationship query"))?;
        rows.iter().map(object_from).collect()
    }
}
