//! SQL shared by both backends: the object-query builder.
//!
//! Queries are written once with numbered `?N` placeholders; the PostgreSQL
//! backend rewrites them to `$N`. Every value a caller supplies is a bound
//! parameter: nothing from a request is ever spliced into SQL text.

use crate::migrations::Dialect;
use crate::types::{ObjectQuery, SearchQuery, SearchTerm, Tlp, Visibility};

/// Who submitted each stored version of one object: `?1` collection, `?2` id.
pub(crate) const ORIGINS: &str = "SELECT pk, version, date_added, org_id, user_id FROM objects \
     WHERE collection_id = ?1 AND id = ?2 ORDER BY version_us";
/// Records that a version was pulled from a source: collection, id,
/// version, source, time; a pair already recorded for that source stays.
pub(crate) const INSERT_SOURCE: &str =
    "INSERT INTO object_sources (collection_id, id, version, source, recorded_at) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
/// The sources recorded for one object: `?1` collection, `?2` id.
pub(crate) const SOURCES: &str = "SELECT version, source, recorded_at FROM object_sources \
     WHERE collection_id = ?1 AND id = ?2 ORDER BY recorded_at, source";

/// A bound parameter.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// SQL text plus its parameters, built together so the numbering agrees.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

impl Sql {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }
    fn bind(&mut self, p: Param) {
        self.params.push(p);
        self.text.push('?');
        self.text.push_str(&self.params.len().to_string());
    }
    fn bind_list(&mut self, items: impl IntoIterator<Item = Param>) {
        self.push("(");
        for (i, p) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(p);
        }
        self.push(")");
    }

    /// The visibility predicate for rows of alias `a`.
    fn visibility(&mut self, a: &str, q: &ObjectQuery) {
        self.visible(a, &q.visibility);
    }

    /// The predicate "visible under `v`" for rows of alias `a`.
    fn visible(&mut self, a: &str, v: &Visibility) {
        self.push(&format!("({a}.tlp <= "));
        self.bind(Param::Int(v.level.as_i64()));
        if let Some(org) = v.org_id {
            self.push(&format!(
                " OR ({a}.tlp IN ({}, {}) AND {a}.org_id = ",
                Tlp::Amber.as_i64(),
                Tlp::AmberStrict.as_i64()
            ));
            self.bind(Param::Int(org));
            self.push(")");
        }
        if v.strict {
            self.push(&format!(" OR {a}.tlp = {}", Tlp::AmberStrict.as_i64()));
        }
        if v.red {
            self.push(&format!(" OR {a}.tlp = {}", Tlp::Red.as_i64()));
        }
        if let Some(user) = v.user_id {
            self.push(&format!(
                " OR ({a}.tlp = {} AND {a}.user_id = ",
                Tlp::Red.as_i64()
            ));
            self.bind(Param::Int(user));
            self.push(")");
        }
        self.push(")");
    }

    fn spec_versions(&mut self, a: &str, q: &ObjectQuery) {
        if !q.spec_versions.is_empty() {
            self.push(&format!(" AND {a}.spec_version IN "));
            self.bind_list(q.spec_versions.iter().cloned().map(Param::Text));
        }
    }

    /// The `WHERE` clause of an object query over alias `o` (without cursor or limit).
    pub fn where_clause(&mut self, q: &ObjectQuery) {
        self.push(" WHERE o.collection_id = ");
        self.bind(Param::Text(q.collection_id.clone()));
        self.push(" AND ");
        self.visibility("o", q);
        if let Some(after) = q.added_after {
            self.push(" AND o.date_added > ");
            self.bind(Param::Int(after));
        }
        if !q.ids.is_empty() {
            self.push(" AND o.id IN ");
            self.bind_list(q.ids.iter().cloned().map(Param::Text));
        }
        if !q.types.is_empty() {
            self.push(" AND o.type IN ");
            self.bind_list(q.types.iter().cloned().map(Param::Text));
        }
        self.spec_versions("o", q);
        let vm = &q.versions;
        if !vm.all {
            // `>=` MAX and `<=` MIN rather than `=`: the same rows (the row
            // itself is among those the aggregate reads), but PostgreSQL
            // guesses that an inequality keeps a third of the rows where it
            // guesses 0.5% for an equality. With 0.5% it expects a page to
            // need the whole collection, sorts all of it and runs the
            // subquery for every row (480 ms for a page of 1,000 of 20,000
            // objects) instead of walking the date_added index (12 ms).
            let mut alternatives = Vec::new();
            if vm.last {
                alternatives.push((">=", "MAX"));
            }
            if vm.first {
                alternatives.push(("<=", "MIN"));
            }
            self.push(" AND (");
            let mut first = true;
            for (op, agg) in alternatives {
                if !first {
                    self.push(" OR ");
                }
                first = false;
                self.push(&format!(
                    "o.version_us {op} (SELECT {agg}(o2.version_us) FROM objects o2 \
                     WHERE o2.collection_id = o.collection_id AND o2.id = o.id AND "
                ));
                self.visibility("o2", q);
                self.spec_versions("o2", q);
                self.push(")");
            }
            if !vm.exact.is_empty() {
                if !first {
                    self.push(" OR ");
                }
                first = false;
                self.push("o.version_us IN ");
                self.bind_list(vm.exact.iter().copied().map(Param::Int));
            }
            if first {
                // No alternative at all selects nothing.
                self.push("1 = 0");
            }
            self.push(")");
        }
    }

    /// A page query: `SELECT … WHERE … ORDER BY date_added, pk LIMIT limit+1`.
    pub fn select_page(q: &ObjectQuery) -> Sql {
        let mut s = Sql::default();
        let body = if q.bodies { "o.body" } else { "NULL" };
        s.push(&format!(
            "SELECT o.pk, o.id, o.type, o.spec_version, o.version, o.date_added, o.tlp, {body} \
             FROM objects o"
        ));
        s.where_clause(q);
        if let Some(c) = q.after {
            // A row comparison, which both databases answer with a range
            // scan of the (collection_id, date_added, pk) index: each page
            // starts where the last one ended instead of re-reading it.
            s.push(" AND (o.date_added, o.pk) > (");
            s.bind(Param::Int(c.date_added));
            s.push(", ");
            s.bind(Param::Int(c.pk));
            s.push(")");
        }
        s.push(" ORDER BY o.date_added, o.pk LIMIT ");
        s.bind(Param::Int(
            q.limit.saturating_add(1).min(i64::MAX as usize) as i64
        ));
        s
    }

    /// `SELECT COUNT(*)` of the rows a query matches.
    pub fn count(q: &ObjectQuery) -> Sql {
        let mut s = Sql::default();
        s.push("SELECT COUNT(*) FROM objects o");
        s.where_clause(q);
        s
    }

    /// `DELETE` of the rows a query matches.
    pub fn delete(q: &ObjectQuery) -> Sql {
        let mut s = Sql::default();
        s.push("DELETE FROM objects WHERE pk IN (SELECT o.pk FROM objects o");
        s.where_clause(q);
        s.push(")");
        s
    }
}

/// The text-search query language of each backend, written from parsed
/// terms: only letters and digits reach it, each word quoted.
pub(crate) fn match_expression(terms: &[SearchTerm], dialect: Dialect) -> String {
    let parts: Vec<String> = terms
        .iter()
        .map(|t| match (t, dialect) {
            (SearchTerm::Prefix(w), Dialect::Sqlite) => format!("\"{w}\"*"),
            (SearchTerm::Phrase(ws), Dialect::Sqlite) => format!("\"{}\"", ws.join(" ")),
            (SearchTerm::Prefix(w), Dialect::Postgres) => format!("'{w}':*"),
            (SearchTerm::Phrase(ws), Dialect::Postgres) => {
                let quoted: Vec<String> = ws.iter().map(|w| format!("'{w}'")).collect();
                format!("({})", quoted.join(" <-> "))
            }
        })
        .collect();
    match dialect {
        Dialect::Sqlite => parts.join(" AND "),
        Dialect::Postgres => parts.join(" & "),
    }
}

impl Sql {
    /// A text search (`count`: the number of hits instead of a page).
    /// `?1` is the backend's match expression; each scope contributes its
    /// collection and its own visibility predicate, applied to the hit and
    /// to the choice of the newest version, so a hidden newer version
    /// neither shows nor hides anything.
    pub fn search(q: &SearchQuery, dialect: Dialect, count: bool) -> Sql {
        let mut s = Sql::default();
        let matched = match_expression(&q.terms, dialect);
        let (from, matches, rank) = match dialect {
            Dialect::Sqlite => (
                "objects_fts JOIN objects o ON o.pk = objects_fts.rowid",
                "objects_fts MATCH ?1",
                // Names weigh most, then values, then other text.
                "bm25(objects_fts, 10.0, 5.0, 1.0)",
            ),
            Dialect::Postgres => (
                "object_search s JOIN objects o ON o.pk = s.pk",
                "s.doc @@ to_tsquery('simple', ?1)",
                "ts_rank(s.doc, to_tsquery('simple', ?1)) DESC",
            ),
        };
        if count {
            s.push(&format!("SELECT COUNT(*) FROM {from} WHERE {matches}"));
        } else {
            s.push(&format!(
                "SELECT o.pk, o.id, o.type, o.spec_version, o.version, o.date_added, o.tlp, \
                 o.body, o.collection_id FROM {from} WHERE {matches}"
            ));
        }
        s.params.push(Param::Text(matched));
        s.push(" AND (");
        for (i, (cid, v)) in q.scopes.iter().enumerate() {
            if i > 0 {
                s.push(" OR ");
            }
            s.push("(o.collection_id = ");
            s.bind(Param::Text(cid.clone()));
            s.push(" AND ");
            s.visible("o", v);
            s.push(
                " AND o.version_us = (SELECT MAX(o2.version_us) FROM objects o2 \
                 WHERE o2.collection_id = o.collection_id AND o2.id = o.id AND ",
            );
            s.visible("o2", v);
            s.push("))");
        }
        if q.scopes.is_empty() {
            s.push("1 = 0");
        }
        s.push(")");
        if !q.types.is_empty() {
            s.push(" AND o.type IN ");
            s.bind_list(q.types.iter().cloned().map(Param::Text));
        }
        if !count {
            s.push(&format!(" ORDER BY {rank}, o.pk LIMIT "));
            s.bind(Param::Int(q.limit.min(i64::MAX as usize) as i64));
            s.push(" OFFSET ");
            s.bind(Param::Int(q.offset.min(i64::MAX as usize) as i64));
        }
        s
    }

    /// The newest visible versions of the relationships of a collection
    /// whose `source_ref` or `target_ref` is one of `refs`, through the
    /// expression indexes of migration 6.
    /// At most 1,000 refs are used and `q.limit` rows read; `None` when
    /// there is no ref.
    pub fn relationships(q: &ObjectQuery, refs: &[String], dialect: Dialect) -> Option<Sql> {
        if refs.is_empty() {
            return None;
        }
        let refs = &refs[..refs.len().min(1000)];
        let mut q = q.clone();
        q.types = vec!["relationship".into()];
        let mut s = Sql::default();
        let body = if q.bodies { "o.body" } else { "NULL" };
        s.push(&format!(
            "SELECT o.pk, o.id, o.type, o.spec_version, o.version, o.date_added, o.tlp, {body} \
             FROM objects o"
        ));
        s.where_clause(&q);
        let (source, target) = match dialect {
            Dialect::Sqlite => (
                "json_extract(o.body, '$.source_ref')",
                "json_extract(o.body, '$.target_ref')",
            ),
            Dialect::Postgres => (
                "((o.body::jsonb) ->> 'source_ref')",
                "((o.body::jsonb) ->> 'target_ref')",
            ),
        };
        s.push(&format!(" AND ({source} IN "));
        s.bind_list(refs.iter().cloned().map(Param::Text));
        s.push(&format!(" OR {target} IN "));
        s.bind_list(refs.iter().cloned().map(Param::Text));
        s.push(") ORDER BY o.date_added, o.pk LIMIT ");
        s.bind(Param::Int(q.limit.min(i64::MAX as usize) as i64));
        Some(s)
    }
}

/// Rewrites `?N` placeholders to PostgreSQL's `$N`.
pub(crate) fn to_pg(sql: &str) -> String {
    sql.replace('?', "$")
}
