//! Storage for the Vigil hub.
//!
//! One trait, [`Store`], describes everything the hub keeps: organisations,
//! users, API tokens (hashed), collections and their grants, STIX objects
//! with their TLP level, and TAXII status resources. Two backends implement
//! it: [`SqliteStore`] (embedded, the zero-configuration default) and
//! [`PgStore`] (PostgreSQL, for several hub replicas sharing one database).
//! Both run the same versioned migrations on start and pass the same
//! conformance suite (`tests/it`).
//!
//! The store does not interpret STIX: callers give it the id, type, version
//! and TLP level of each object and the JSON text to keep. It enforces the
//! visibility rules in SQL ([`Visibility`]), so that no query can return an
//! object the caller may not see, whatever filter or cursor it uses.

#![forbid(unsafe_code)]

mod migrations;
pub mod oversight;
mod postgres;
mod search_text;
mod sql;
mod sqlite;
mod types;

pub use oversight::{open_oversight, OversightStore};
pub use postgres::PgStore;
pub use search_text::search_texts;
pub use sqlite::SqliteStore;
pub use types::*;

use async_trait::async_trait;

/// Everything that can go wrong in a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite database failed (the message names the operation).
    #[error("sqlite: {context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// The driver's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The PostgreSQL database failed (the message names the operation).
    #[error("postgres: {context}: {source}")]
    Postgres {
        /// What the store was doing.
        context: &'static str,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A name that must be unique is already taken.
    #[error("{what} {name:?} already exists")]
    Conflict {
        /// The kind of thing (organisation, user, collection).
        what: &'static str,
        /// The name that clashed.
        name: String,
    },
    /// A referenced row does not exist.
    #[error("{what} {id} does not exist")]
    NotFound {
        /// The kind of thing.
        what: &'static str,
        /// Its identifier.
        id: String,
    },
    /// The database holds data this version does not understand.
    #[error("database content: {0}")]
    Corrupt(String),
    /// The database schema is newer than this program.
    #[error("database schema version {found} is newer than this program's {supported}")]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Highest version this program knows.
        supported: i64,
    },
    /// A background task running a blocking database call failed.
    #[error("storage worker failed: {0}")]
    Worker(String),
}

/// Result type of the storage layer.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The storage interface of the hub; implemented by every backend.
///
/// Every method is a single transaction: it either happens entirely or not
/// at all, and when it returns `Ok` the change is durable.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies pending migrations and returns the schema version now in force.
    async fn migrate(&self) -> Result<i64>;

    /// Returns the value of a hub setting.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` under `key`, replacing any previous value.
    async fn put_setting(&self, key: &str, value: &str) -> Result<()>;
    /// Stores `value` under `key` unless a value is already there; returns the value in force.
    async fn init_setting(&self, key: &str, value: &str) -> Result<String>;

    /// Creates an organisation; its name must be unique.
    async fn create_org(&self, name: &str, kind: OrgKind) -> Result<Organisation>;
    /// Lists organisations by id.
    async fn orgs(&self) -> Result<Vec<Organisation>>;
    /// Creates a user; its name must be unique.
    async fn create_user(&self, name: &str, org_id: Option<i64>, role: Role) -> Result<User>;
    /// Lists users by id.
    async fn users(&self) -> Result<Vec<User>>;
    /// Finds a user by name.
    async fn user_by_name(&self, name: &str) -> Result<Option<User>>;
    /// Records a new API token for a user; only its hash is kept.
    async fn create_token(&self, token: NewToken) -> Result<TokenInfo>;
    /// Lists a user's tokens (never their secrets).
    async fn tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>>;
    /// Revokes a token; returns false if there was no such token.
    async fn revoke_token(&self, token_id: i64, now: i64) -> Result<bool>;
    /// Finds the token with this hash and its user, whether valid or not.
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<(TokenInfo, [u8; 32], User)>>;

    /// Creates a collection.
    async fn create_collection(&self, c: &NewCollection) -> Result<Collection>;
    /// Lists all collections (callers filter by permission).
    async fn collections(&self) -> Result<Vec<Collection>>;
    /// Finds a collection by id or alias.
    async fn collection(&self, id_or_alias: &str) -> Result<Option<Collection>>;
    /// Sets (replaces) the grant of one subject on one collection.
    async fn set_grant(&self, grant: &Grant) -> Result<()>;
    /// Lists the grants of a collection.
    async fn grants(&self, collection_id: &str) -> Result<Vec<Grant>>;

    /// Adds objects to a collection in one transaction.
    ///
    /// Returns one outcome per input, in order. An object whose
    /// (id, version) is already in the collection is a [`Added::Duplicate`],
    /// not an error. `date_added` values are assigned by the store and
    /// increase in input order.
    async fn add_objects(&self, collection_id: &str, objects: Vec<NewObject>)
        -> Result<Vec<Added>>;
    /// Adds objects like [`Store::add_objects`] and writes the status
    /// resource that `status` builds from their outcomes, in the same
    /// transaction: one commit (one fsync) per request, and never objects
    /// without their status or a status without its objects. Returns the
    /// outcomes and the status written.
    async fn add_objects_with_status(
        &self,
        collection_id: &str,
        objects: Vec<NewObject>,
        status: StatusFn,
    ) -> Result<(Vec<Added>, StatusRecord)> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        // The receiver is alive and the channel empty: this cannot fail.
        let _ = tx.try_send(objects);
        drop(tx);
        self.add_object_batches_with_status(collection_id, rx, status)
            .await
    }
    /// Adds objects like [`Store::add_objects_with_status`], taking them a
    /// batch at a time from `batches` as the caller prepares them, so the
    /// caller's work on the next batch runs while the store writes this
    /// one. Everything received until the sender is dropped is committed
    /// in one transaction with the status `status` builds from the
    /// outcomes (one per object received, in order).
    async fn add_object_batches_with_status(
        &self,
        collection_id: &str,
        batches: ObjectBatches,
        status: StatusFn,
    ) -> Result<(Vec<Added>, StatusRecord)>;
    /// Runs a filtered, paginated query of the objects visible under `q.visibility`.
    async fn query_objects(&self, q: &ObjectQuery) -> Result<Page>;
    /// Deletes the visible versions of one object selected by the query's
    /// version and spec_version filters; returns how many were removed.
    async fn delete_objects(&self, q: &ObjectQuery) -> Result<u64>;
    /// Counts the objects of a collection visible under `q` (all versions).
    async fn count_objects(&self, q: &ObjectQuery) -> Result<u64>;

    /// Creates or replaces a status resource.
    async fn put_status(&self, status: &StatusRecord) -> Result<()>;
    /// Reads a status resource.
    async fn status(&self, id: &str) -> Result<Option<StatusRecord>>;

    /// Checks the database's internal consistency (used after a crash).
    async fn integrity_check(&self) -> Result<()>;

    /// Appends a screening decision to the audit trail; returns its row id.
    async fn add_decision(&self, d: &DecisionRecord) -> Result<i64>;
    /// Screening decisions, oldest first: those on `query_key` when given,
    /// else the latest `limit` of all.
    async fn decisions(&self, query_key: Option<&str>, limit: usize)
        -> Result<Vec<DecisionRecord>>;
    /// Who submitted each stored version of object `id` in a collection, and
    /// when (callers filter by what the reader may see, by `pk`).
    async fn object_origins(&self, collection_id: &str, id: &str) -> Result<Vec<ObjectOrigin>>;
    /// Records that these (id, version) pairs of a collection were pulled
    /// from `source` (a remote collection URL); pairs already recorded for
    /// that source are left as they are.
    async fn record_sources(
        &self,
        collection_id: &str,
        source: &str,
        recorded_at: i64,
        objects: &[(String, String)],
    ) -> Result<()>;
    /// The remote sources recorded for object `id` of a collection.
    async fn object_sources(&self, collection_id: &str, id: &str) -> Result<Vec<ObjectSource>>;

    /// Searches the text index (names and aliases, values, other text) of
    /// the newest version of each object every scope's visibility lets the
    /// caller see; hits are ranked best first, `total` counts them all.
    async fn search_objects(&self, q: &SearchQuery) -> Result<SearchPage>;
    /// The newest visible versions of the relationships of `q`'s collection
    /// whose `source_ref` or `target_ref` is one of `refs` (at most 1,000),
    /// through an index rather than a scan.
    async fn relationships_touching(
        &self,
        q: &ObjectQuery,
        refs: &[String],
    ) -> Result<Vec<StoredObject>>;
}

/// Builds the status resource of a request from the outcomes of its objects
/// (see [`Store::add_objects_with_status`]).
pub type StatusFn = Box<dyn FnOnce(&[Added]) -> StatusRecord + Send>;

/// Objects handed to [`Store::add_object_batches_with_status`] a batch at a
/// time; the sender's drop ends the request.
pub type ObjectBatches = tokio::sync::mpsc::Receiver<Vec<NewObject>>;

/// Opens the backend a database URL names: `postgres://…` or
/// `postgresql://…` selects PostgreSQL, `sqlite://PATH` or any other string is
/// an SQLite file path. Migrations are applied before returning.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    let store: std::sync::Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            std::sync::Arc::new(PgStore::connect(url, None).await?)
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            std::sync::Arc::new(SqliteStore::open(std::path::Path::new(path)).await?)
        };
    store.migrate().await?;
    Ok(store)
}
