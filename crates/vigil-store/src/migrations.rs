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

/// Migration 6 on SQLite: the text search index. `objects_fts` is a
/// contentless FTS5 table keyed by `objects.pk` with three columns — names
/// (name, aliases), values (pattern, value, URL, hashes) and other text
/// (description, labels, types, roles, sectors, external reference ids) —
/// filled from the rows already stored. New rows are indexed by the insert
/// itself, with texts worked out in Rust (`search_text`), a chunk of rows
/// per statement (FTS5 writes a segment at every statement's end, so a
/// per-row trigger would cost a segment per object); a trigger drops the
/// entry of a deleted row. Every version is
/// indexed; a search keeps the newest version each caller may see.
const V6_SQLITE: &[&str] = &[
    "CREATE VIRTUAL TABLE objects_fts USING fts5(names, vals, text, content='', \
     contentless_delete=1, tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER objects_fts_delete AFTER DELETE ON objects BEGIN \
     DELETE FROM objects_fts WHERE rowid = old.pk; END",
    "INSERT INTO objects_fts (rowid, names, vals, text) SELECT pk, {SQLITE_FIELDS_BODY} FROM objects",
    // The relationship graph walks from an object to the relationships
    // naming it, by source and by target.
    "CREATE INDEX objects_by_source_ref ON objects (collection_id, json_extract(body, '$.source_ref')) \
     WHERE type = 'relationship'",
    "CREATE INDEX objects_by_target_ref ON objects (collection_id, json_extract(body, '$.target_ref')) \
     WHERE type = 'relationship'",
];

/// The three indexed fields of an SQLite object row, read from its JSON
/// body `{B}` (part of migration 6: never edit).
const SQLITE_FIELDS: &str = "\
concat_ws(' ', json_extract({B}, '$.name'), json_extract({B}, '$.aliases'), \
  json_extract({B}, '$.x_mitre_aliases')), \
concat_ws(' ', json_extract({B}, '$.pattern'), json_extract({B}, '$.value'), \
  json_extract({B}, '$.x_vigil_value'), json_extract({B}, '$.url'), json_extract({B}, '$.hashes')), \
concat_ws(' ', json_extract({B}, '$.description'), json_extract({B}, '$.relationship_type'), \
  json_extract({B}, '$.identity_class'), json_extract({B}, '$.country'), \
  json_extract({B}, '$.labels'), json_extract({B}, '$.indicator_types'), \
  json_extract({B}, '$.malware_types'), json_extract({B}, '$.tool_types'), \
  json_extract({B}, '$.infrastructure_types'), json_extract({B}, '$.roles'), \
  json_extract({B}, '$.sectors'), \
  CASE WHEN json_type({B}, '$.external_references') = 'array' THEN \
  (SELECT group_concat(concat_ws(' ', json_extract(value, '$.source_name'), \
     json_extract(value, '$.external_id')), ' ') FROM json_each({B}, '$.external_references')) END)";

/// Migration 6 on PostgreSQL: the text search index. `object_search` holds
/// a `tsvector` per object row (weight A names and aliases, B values —
/// pattern, value, URL, hashes —, C other text), under a GIN index, filled
/// from the rows already stored; the insert adds new rows' entries in its
/// transaction from texts worked out in Rust (`search_text`), and a
/// statement trigger drops a deleted row's entry. ASCII punctuation
/// is turned into spaces before parsing, so that a domain, a URL or an
/// e-mail address is split into words as SQLite's tokenizer splits it and
/// both backends answer a query alike. Every version is indexed; a search
/// keeps the newest version each caller may see.
const V6_POSTGRES: &[&str] = &[
    "CREATE TABLE object_search (pk BIGINT PRIMARY KEY, doc TSVECTOR NOT NULL)",
    "CREATE INDEX object_search_doc ON object_search USING GIN (doc)",
    "CREATE FUNCTION vigil_search_words(t TEXT) RETURNS TSVECTOR LANGUAGE sql IMMUTABLE AS $$ \
     SELECT to_tsvector('simple', translate(t, E'!\"#$%&\\'()*+,-./:;<=>?@[\\\\]^_`{|}~\\n\\r\\t', \
       repeat(' ', 35))) $$",
    "CREATE FUNCTION vigil_search_document(body TEXT) RETURNS TSVECTOR \
     LANGUAGE sql IMMUTABLE AS $$ \
     SELECT setweight(vigil_search_words(concat_ws(' ', j ->> 'name', \
         (j -> 'aliases')::text, (j -> 'x_mitre_aliases')::text)), 'A') \
       || setweight(vigil_search_words(concat_ws(' ', j ->> 'pattern', j ->> 'value', \
         j ->> 'x_vigil_value', j ->> 'url', (j -> 'hashes')::text)), 'B') \
       || setweight(vigil_search_words(concat_ws(' ', j ->> 'description', \
         j ->> 'relationship_type', j ->> 'identity_class', j ->> 'country', \
         (j -> 'labels')::text, (j -> 'indicator_types')::text, (j -> 'malware_types')::text, \
         (j -> 'tool_types')::text, (j -> 'infrastructure_types')::text, (j -> 'roles')::text, \
         (j -> 'sectors')::text, \
         jsonb_path_query_array(j, 'lax $.external_references[*].source_name')::text, \
         jsonb_path_query_array(j, 'lax $.external_references[*].external_id')::text)), 'C') \
     FROM (SELECT body::jsonb AS j) AS b $$",
    "CREATE FUNCTION object_search_delete() RETURNS TRIGGER LANGUAGE plpgsql AS $$ BEGIN \
     DELETE FROM object_search WHERE pk IN (SELECT pk FROM old_objects); \
     RETURN NULL; END $$",
    "CREATE TRIGGER objects_search_delete AFTER DELETE ON objects \
     REFERENCING OLD TABLE AS old_objects FOR EACH STATEMENT EXECUTE FUNCTION object_search_delete()",
    "INSERT INTO object_search (pk, doc) SELECT pk, vigil_search_document(body) FROM objects",
    // The relationship graph walks from an object to the relationships
    // naming it, by source and by target.
    "CREATE INDEX objects_by_source_ref ON objects (collection_id, ((body::jsonb) ->> 'source_ref')) \
     WHERE type = 'relationship'",
    "CREATE INDEX objects_by_target_ref ON objects (collection_id, ((body::jsonb) ->> 'target_ref')) \
     WHERE type = 'relationship'",
];

/// One migration: the same text for both dialects (statements separated by
/// `;`), or a list of statements per dialect.
enum Migration {
    Shared(&'static str),
    PerDialect {
        sqlite: &'static [&'static str],
        postgres: &'static [&'static str],
    },
}

/// All migrations in order; the index plus one is the version.
const MIGRATIONS: &[Migration] = &[
    Migration::Shared(V1),
    Migration::Shared(V2),
    Migration::Shared(V3),
    Migration::Shared(V4),
    Migration::Shared(V5),
    Migration::PerDialect {
        sqlite: V6_SQLITE,
        postgres: V6_POSTGRES,
    },
];

/// The highest schema version this program knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// The statements of migration `version` (1-based) in `dialect`.
pub(crate) fn statements(version: i64, dialect: Dialect) -> Vec<String> {
    let Some(migration) = usize::try_from(version - 1)
        .ok()
        .and_then(|i| MIGRATIONS.get(i))
    else {
        return Vec::new();
    };
    let text = match (migration, dialect) {
        (Migration::Shared(text), _) => text,
        (Migration::PerDialect { sqlite, .. }, Dialect::Sqlite) => {
            let fields = |body: &str| SQLITE_FIELDS.replace("{B}", body);
            return sqlite
                .iter()
                .map(|s| s.replace("{SQLITE_FIELDS_BODY}", &fields("body")))
                .collect();
        }
        (Migration::PerDialect { postgres, .. }, Dialect::Postgres) => {
            return postgres.iter().map(|s| s.to_string()).collect();
        }
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
