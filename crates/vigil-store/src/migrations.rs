//! Versioned schema migrations, one entry per version, for both dialects.
//!
//! A migration is never edited once released: a change is a new entry.

/// The SQL dialect a migration is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// Migration 1: the initial schema. `{PK}` and `{BLOB}` differ by dialect.
const V1: &str = "
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE organisations (
    id {PK},
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL
);
CREATE TABLE users (
    id {PK},
    name TEXT NOT NULL UNIQUE,
    org_id BIGINT REFERENCES organisations(id),
    role TEXT NOT NULL
);
CREATE TABLE tokens (
    id {PK},
    user_id BIGINT NOT NULL REFERENCES users(id),
    hash {BLOB} NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT,
    revoked BIGINT
);
CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    alias TEXT UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    public BIGINT NOT NULL,
    owner_org BIGINT REFERENCES organisations(id)
);
CREATE TABLE grants (
    collection_id TEXT NOT NULL REFERENCES collections(id),
    subject_kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    can_read BIGINT NOT NULL,
    can_write BIGINT NOT NULL,
    PRIMARY KEY (collection_id, subject_kind, subject_id)
);
CREATE TABLE objects (
    pk {PK},
    collection_id TEXT NOT NULL REFERENCES collections(id),
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    version TEXT NOT NULL,
    version_us BIGINT NOT NULL,
    date_added BIGINT NOT NULL,
    tlp BIGINT NOT NULL,
    org_id BIGINT,
    user_id BIGINT,
    body TEXT NOT NULL,
    UNIQUE (collection_id, id, version_us)
);
CREATE INDEX objects_by_added ON objects (collection_id, date_added, pk);
CREATE INDEX objects_by_type ON objects (collection_id, type, date_added);
CREATE TABLE statuses (
    id TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL,
    user_id BIGINT,
    request_timestamp BIGINT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL
);
";

/// Migration 2: screening decisions recorded through the hub, kept as an
/// append-only audit trail (the decision itself is JSON in `body`).
const V2: &str = "
CREATE TABLE screening_decisions (
    id {PK},
    query_key TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    user_id BIGINT,
    org_id BIGINT,
    recorded_at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX screening_decisions_by_query ON screening_decisions (query_key, entity_id, id);
";

/// Migration 3: oversight roles and authorisations, and the bookkeeping of
/// the hub's transparency log (see `oversight.rs`).
const V3: &str = "
CREATE TABLE oversight_roles (
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE TABLE oversight_authorisations (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE TABLE transparency_entries (
    log_index BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    auth_id TEXT,
    at BIGINT NOT NULL,
    body {BLOB} NOT NULL,
    applied BIGINT NOT NULL,
    checkpoint_size BIGINT
);
CREATE INDEX transparency_entries_by_auth ON transparency_entries (auth_id, log_index);
CREATE TABLE transparency_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL,
    published BIGINT NOT NULL
);
";

/// Migration 4: where objects pulled from partner hubs came from (the
/// remote collection's URL and when), per stored version.
const V4: &str = "
CREATE TABLE object_sources (
    collection_id TEXT NOT NULL,
    id TEXT NOT NULL,
    version TEXT NOT NULL,
    source TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (collection_id, id, version, source)
);
";

/// Migration 5: hub actions waiting for the transparency log. Any process
/// on the database (a replica without the log, a command-line admin
/// change) queues an entry here; the replica holding the log appends queued
/// entries in `id` order and sets `log_index` (see `oversight.rs`).
const V5: &str = "
CREATE TABLE transparency_queue (
    id {PK},
    body {BLOB} NOT NULL,
    queued_at BIGINT NOT NULL,
    log_index BIGINT UNIQUE
);
CREATE INDEX transparency_queue_pending ON transparency_queue (id) WHERE log_index IS NULL;
";

/// All migrations in order; the index plus one is the version.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// The highest schema version this program knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// The statements of migration `version` (1-based) in `dialect`.
pub(crate) fn statements(version: i64, dialect: Dialect) -> Vec<String> {
    let Some(text) = usize::try_from(version - 1)
        .ok()
        .and_then(|i| MIGRATIONS.get(i))
    else {
        return Vec::new();
    };
    let (pk, blob) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BYTEA"),
    };
    text.replace("{PK}", pk)
        .replace("{BLOB}", blob)
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The table recording applied versions.
pub(crate) const VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
