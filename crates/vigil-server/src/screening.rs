//! Screening in the hub: a yente-compatible `POST /match/{dataset}`, a
//! screening page for officers, and decisions kept in the hub database.
//!
//! The list screened is the curated seed list shipped with Vigil plus the
//! spyware vendors and listed people of the bundled registry, compiled once
//! when the router is built ([`screener`]).
//!
//! Who may do what: any authenticated user (reader, contributor, admin, of
//! any organisation) may screen; contributors and admins record decisions;
//! a decision is seen by the members of the officer's organisation (the
//! officer alone when without one) and by admins. Anonymous callers get
//! 401 everywhere except the page itself, which holds no data.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vigil_screen::api::{self, MatchRequest};
use vigil_screen::{
    import, seed, Decision, DecisionBook, Disposition, Entity, Match, Query, Relation, Screener,
};
use vigil_store::{DecisionRecord, Role, User};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::rest::{read_json, Params};
use crate::{timestamp, AppState};

/// The only dataset served: the seed list and the registry.
pub const DATASET: &str = "default";
/// Most queries in one `POST /match` body.
const MAX_QUERIES: usize = 100;
/// Largest screening request body.
const MAX_BODY: usize = 1024 * 1024;
/// Most decisions returned by one listing.
const MAX_DECISIONS: usize = 1000;

/// The screening list, built on first use from the seed list and the
/// registry's vendors and listed people.
pub fn screener() -> &'static Screener {
    static SCREENER: OnceLock<Screener> = OnceLock::new();
    SCREENER.get_or_init(|| {
        let mut all = seed::seed();
        for b in vigil_registry::bundles() {
            if b.source == vigil_registry::Source::Registry {
                all.extend(import::read_stix_registry(
                    Cursor::new(b.text.as_bytes()),
                    b.path,
                ));
            }
        }
        for d in all.diagnostics.iter().take(20) {
            tracing::warn!(problem = %d, "screening list");
        }
        let (entities, relations) = merge_same_parties(all.entities, all.relations);
        Screener::build(entities, relations)
    })
}

/// A name reduced to lower-case letters and digits, for comparing entries.
fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two list entries denote the same party: the same id (a registry
/// STIX id read twice), a shared identifier, or a shared listing (by its
/// published address or reference) together with a shared name. A listing
/// alone is not enough: one designation names many parties.
fn same_party(a: &Entity, b: &Entity) -> bool {
    if a.id == b.id {
        return true;
    }
    if a.is_person() != b.is_person() {
        return false;
    }
    let ids = |e: &Entity| -> Vec<String> {
        e.identifiers
            .iter()
            .map(|i| i.normalised())
            .filter(|i| !i.is_empty())
            .collect()
    };
    let b_ids = ids(b);
    if ids(a).iter().any(|i| b_ids.contains(i)) {
        return true;
    }
    let listing_keys = |e: &Entity| -> Vec<String> {
        e.listings
            .iter()
            .flat_map(|l| [l.source_url.trim(), l.reference.trim()])
            .filter(|k| !k.is_empty())
            .map(|k| k.trim_end_matches('/').to_ascii_lowercase())
            .collect()
    };
    let b_listings = listing_keys(b);
    let shared_listing = listing_keys(a).iter().any(|k| b_listings.contains(k));
    let b_names: Vec<String> = b.all_names().map(|n| name_key(n)).collect();
    shared_listing && a.all_names().any(|n| b_names.contains(&name_key(n)))
}

fn push_new<T: PartialEq>(into: &mut Vec<T>, items: Vec<T>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// Merges the entries that denote the same party (see [`same_party`]) into
/// the first of them, which keeps its id and gains the others' names,
/// countries, dates, identifiers, listings (one per published address),
/// notes and data sets; relations follow the merged entries. Without this a
/// party on the seed list and in the registry would be two hits.
fn merge_same_parties(
    entities: Vec<Entity>,
    mut relations: Vec<Relation>,
) -> (Vec<Entity>, Vec<Relation>) {
    let mut merged: Vec<Entity> = Vec::with_capacity(entities.len());
    let mut renamed: HashMap<String, String> = HashMap::new();
    for e in entities {
        let Some(keep) = merged.iter_mut().find(|m| same_party(m, &e)) else {
            merged.push(e);
            continue;
        };
        if keep.id != e.id {
            renamed.insert(e.id.clone(), keep.id.clone());
        }
        let known: Vec<String> = keep.all_names().map(|n| name_key(n)).collect();
        for n in e.names.into_iter().chain(e.aliases) {
            if !known.contains(&name_key(&n)) && !keep.aliases.contains(&n) {
                keep.aliases.push(n);
            }
        }
        push_new(&mut keep.birth_dates, e.birth_dates);
        push_new(&mut keep.countries, e.countries);
        push_new(&mut keep.identifiers, e.identifiers);
        push_new(&mut keep.addresses, e.addresses);
        for l in e.listings {
            let url = l.source_url.trim_end_matches('/').to_ascii_lowercase();
            let listed = keep.listings.iter().any(|k| {
                k == &l
                    || (!url.is_empty()
                        && k.source_url.trim_end_matches('/').to_ascii_lowercase() == url)
            });
            if !listed {
                keep.listings.push(l);
            }
        }
        push_new(&mut keep.notes, e.notes);
        push_new(&mut keep.datasets, e.datasets);
        keep.target |= e.target;
    }
    for r in &mut relations {
        for end in [&mut r.from, &mut r.to] {
            if let Some(to) = renamed.get(end.as_str()) {
                *end = to.clone();
            }
        }
    }
    (merged, relations)
}

fn check_dataset(dataset: &str) -> ApiResult<()> {
    if dataset == DATASET {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "dataset {dataset:?}: no such dataset (this hub serves {DATASET:?})"
        )))
    }
}

/// POST /match/{dataset} — yente's matching API: `{"queries": {key: {schema,
/// properties}}}` → `{"responses": {key: {results: […]}}}`. Query
/// parameters `threshold` (0–1) and `limit` (1–100) as in yente.
pub async fn match_dataset(
    caller: Caller,
    Path(dataset): Path<String>,
    RawQuery(raw): RawQuery,
    body: Body,
) -> ApiResult<Response> {
    caller.require_user()?;
    check_dataset(&dataset)?;
    let p = Params::parse(raw.as_deref())?;
    let threshold = p
        .float("threshold", 0.0, 1.0)?
        .unwrap_or(vigil_screen::DEFAULT_THRESHOLD);
    let limit = p.int("limit", 1, 100)?.unwrap_or(5);
    let req: MatchRequest = read_json(body, MAX_BODY).await?;
    if req.queries.is_empty() {
        return Err(ApiError::BadRequest(
            "queries: at least one query is needed".into(),
        ));
    }
    if req.queries.len() > MAX_QUERIES {
        return Err(ApiError::BadRequest(format!(
            "queries: at most {MAX_QUERIES} queries per request"
        )));
    }
    for (key, q) in &req.queries {
        let names = q.to_query().names;
        if names.is_empty() {
            return Err(ApiError::BadRequest(format!(
                "queries.{key}.properties.name: a name is needed"
            )));
        }
        if names.iter().any(|n| n.len() > 1024) {
            return Err(ApiError::BadRequest(format!(
                "queries.{key}.properties.name: names are limited to 1024 bytes"
            )));
        }
    }
    let resp = api::answer(screener(), &req, threshold, limit as usize);
    Ok(Json(resp).into_response())
}

/// GET /screening — the officers' screening page (HTML and script, no data).
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
            ),
        ],
        include_str!("ui/screening.html"),
    )
        .into_response()
}

/// A party as the page and the decision endpoint describe it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// The name to screen.
    pub name: String,
    /// `Person`, `Company` or `LegalEntity` (default).
    #[serde(default)]
    pub schema: Option<String>,
    /// ISO alpha-2 country.
    #[serde(default)]
    pub country: Option<String>,
    /// Birth or incorporation date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`).
    #[serde(default)]
    pub birth_date: Option<String>,
    /// A registration number or other identifier.
    #[serde(default)]
    pub id: Option<String>,
}

impl Party {
    fn query(&self) -> ApiResult<Query> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(ApiError::BadRequest("name: a name is needed".into()));
        }
        if name.len() > 1024 {
            return Err(ApiError::BadRequest(
                "name: names are limited to 1024 bytes".into(),
            ));
        }
        let schema = match self
            .schema
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "any" | "legalentity" => "LegalEntity",
            "person" => "Person",
            "company" | "organization" | "organisation" => "Company",
            other => {
                return Err(ApiError::BadRequest(format!(
                    "schema: unknown schema {other:?} (Person, Company, LegalEntity)"
                )))
            }
        };
        let mut countries = Vec::new();
        if let Some(c) = self
            .country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                return Err(ApiError::BadRequest(format!(
                    "country: {c:?} is not a two-letter ISO 3166 code"
                )));
            }
            countries.push(c.to_ascii_lowercase());
        }
        let mut birth_dates = Vec::new();
        if let Some(d) = self
            .birth_date
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            if !import::valid_date(d) {
                return Err(ApiError::BadRequest(format!(
                    "birth_date: {d:?} is not YYYY, YYYY-MM or YYYY-MM-DD"
                )));
            }
            birth_dates.push(d.to_string());
        }
        let identifiers = self
            .id
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(|i| vec![i.to_string()])
            .unwrap_or_default();
        Ok(Query {
            schema: schema.into(),
            names: vec![name.to_string()],
            countries,
            birth_dates,
            identifiers,
        })
    }
}

/// Whether `caller` may see a decision recorded by `user_id` of `org_id`.
fn may_see(user: &User, d: &DecisionRecord) -> bool {
    user.role == Role::Admin
        || match user.org_id {
            Some(o) => d.org_id == Some(o),
            None => d.user_id == Some(user.id),
        }
}

/// The caller's visible decisions on one query, as a book.
async fn book_for(s: &AppState, user: &User, key: &str) -> ApiResult<DecisionBook> {
    let rows = s.hub.store.decisions(Some(key), MAX_DECISIONS).await?;
    let mut book = DecisionBook::new();
    for r in rows.iter().filter(|r| may_see(user, r)) {
        match serde_json::from_str::<Decision>(&r.body) {
            Ok(d) => {
                // Reason and officer were checked when recorded.
                let _ = book.record(d);
            }
            Err(e) => tracing::error!(decision = r.id, error = %e, "unreadable stored decision"),
        }
    }
    Ok(book)
}

fn decision_json(r: &DecisionRecord, d: &Decision) -> Value {
    json!({
        "id": r.id,
        "query_key": d.query_key,
        "query_name": d.query_name,
        "entity_id": d.entity_id,
        "list_version": d.list_version,
        "entity_fingerprint": d.entity_fingerprint,
        "disposition": d.disposition,
        "reason": d.reason,
        "officer": d.officer,
        "decided_at": d.decided_at,
    })
}

/// POST /rest/v1/screening/screen — screens one party for the page: hits
/// with their listings and explanations, and the decisions already taken.
pub async fn screen(State(s): State<AppState>, caller: Caller, body: Body) -> ApiResult<Response> {
    let user = caller.require_user()?.clone();
    let party: Party = read_json(body, MAX_BODY).await?;
    let query = party.query()?;
    let sc = screener();
    let key = query.key();
    let version = sc.list_version();
    let book = book_for(&s, &user, &key).await?;
    let hits: Vec<Value> = sc
        .match_query(&query, vigil_screen::DEFAULT_THRESHOLD)
        .iter()
        .map(|m| hit_json(sc, &book, &key, &version, m))
        .collect();
    Ok(Json(json!({
        "query": query,
        "query_key": key,
        "list_version": version,
        "entities": sc.len(),
        "threshold": vigil_screen::DEFAULT_THRESHOLD,
        "hits": hits,
    }))
    .into_response())
}

/// One entry raised by a hit as the page shows it: its listings and the
/// decisions taken on it for this query.
fn entry_json(
    sc: &Screener,
    book: &DecisionBook,
    key: &str,
    version: &str,
    id: &str,
    caption: &str,
) -> Value {
    let entity = sc.entity(id);
    let fp = entity.map(|e| e.fingerprint()).unwrap_or_default();
    json!({
        "entity_id": id,
        "caption": caption,
        "listings": entity.map(|e| e.listings.clone()).unwrap_or_default(),
        "datasets": entity.map(|e| e.datasets.clone()).unwrap_or_default(),
        "cleared": book.suppressing(key, id, &fp, version).is_some(),
        "decision": book.latest(key, id),
    })
}

/// A hit for the page: the entry raised first, with the entries raised
/// with it because nothing in the query tells them apart (`tied`, each
/// with its own decision) and those a fact of the query set aside. The hit
/// is `cleared` only when every entry it raises is cleared, as on the
/// command line.
fn hit_json(sc: &Screener, book: &DecisionBook, key: &str, version: &str, m: &Match) -> Value {
    let mut hit = entry_json(sc, book, key, version, &m.entity_id, &m.caption);
    let tied: Vec<Value> = m
        .explanation
        .tied
        .iter()
        .map(|r| entry_json(sc, book, key, version, &r.entity_id, &r.caption))
        .collect();
    let all_cleared =
        hit["cleared"] == json!(true) && tied.iter().all(|t| t["cleared"] == json!(true));
    hit["cleared"] = json!(all_cleared);
    hit["schema"] = json!(m.schema);
    hit["score"] = json!(m.score);
    hit["explanation"] = json!(m.explanation.to_string());
    hit["ownership"] = json!(m.ownership);
    hit["tied"] = json!(tied);
    hit["set_aside"] = json!(m
        .explanation
        .set_aside
        .iter()
        .map(|r| json!({"entity_id": r.entity_id, "caption": r.caption, "why": r.detail}))
        .collect::<Vec<_>>());
    hit
}

/// Body of `POST /rest/v1/screening/decisions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The party screened (as screened: the decision attaches to its facts).
    pub party: Party,
    /// The listed entity of the hit.
    pub entity_id: String,
    /// `true-match`, `false-positive` or `escalate`.
    pub disposition: String,
    /// Why.
    pub reason: String,
}

/// POST /rest/v1/screening/decisions — records an officer's decision on a
/// hit (contributors and admins). The officer is the caller. When the hub
/// keeps a transparency log, the decision is appended to it first and the
/// answer gives its `log_index`.
pub async fn decide(State(s): State<AppState>, caller: Caller, body: Body) -> ApiResult<Response> {
    let user = caller.require_user()?.clone();
    if user.role < Role::Contributor {
        return Err(ApiError::Forbidden(
            "recording screening decisions needs the contributor or admin role".into(),
        ));
    }
    let req: DecisionRequest = read_json(body, MAX_BODY).await?;
    let query = req.party.query().map_err(|e| match e {
        ApiError::BadRequest(m) => ApiError::BadRequest(format!("party.{m}")),
        other => other,
    })?;
    let disposition: Disposition = req
        .disposition
        .parse()
        .map_err(|e: String| ApiError::BadRequest(format!("disposition: {e}")))?;
    let sc = screener();
    let Some(entity) = sc.entity(&req.entity_id) else {
        return Err(ApiError::BadRequest(format!(
            "entity_id: no listed entity {:?}",
            req.entity_id
        )));
    };
    if req.reason.trim().is_empty() {
        return Err(ApiError::BadRequest("reason: a reason is needed".into()));
    }
    if req.reason.len() > 4096 {
        return Err(ApiError::BadRequest("reason: at most 4096 bytes".into()));
    }
    let now = timestamp::now();
    let decision = Decision {
        query_key: query.key(),
        query_name: query.names[0].clone(),
        entity_id: entity.id.clone(),
        entity_fingerprint: entity.fingerprint(),
        list_version: sc.list_version(),
        disposition,
        reason: req.reason.trim().to_string(),
        officer: user.name.clone(),
        decided_at: timestamp::format(now),
    };
    // The book checks that the decision is complete.
    let mut book = DecisionBook::new();
    book.record(decision.clone())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    // The decision is on the transparency log (salted hashes of the officer
    // and of the party and entry) before it is kept; no log, no decision.
    let subject = format!("screening:{}:{}", decision.query_key, decision.entity_id);
    let log_index = s
        .log_action(
            vigil_oversight::HubActionKind::ExportScreening,
            &user.name,
            &subject,
        )
        .await?;
    let mut rec = DecisionRecord {
        id: 0,
        query_key: decision.query_key.clone(),
        entity_id: decision.entity_id.clone(),
        user_id: Some(user.id),
        org_id: user.org_id,
        recorded_at: now,
        body: serde_json::to_string(&decision).map_err(|e| ApiError::Internal(e.to_string()))?,
    };
    rec.id = s.hub.store.add_decision(&rec).await?;
    tracing::info!(
        decision = rec.id,
        user = user.id,
        "screening decision recorded"
    );
    let mut body = decision_json(&rec, &decision);
    body["log_index"] = json!(log_index);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// GET /rest/v1/screening/decisions?query_key=K — the decisions the caller
/// may see, oldest first (all recent ones without `query_key`).
pub async fn list_decisions(
    State(s): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let user = caller.require_user()?.clone();
    let p = Params::parse(raw.as_deref())?;
    let key = p.one("query_key")?;
    let rows = s.hub.store.decisions(key, MAX_DECISIONS).await?;
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| may_see(&user, r)) {
        if let Ok(d) = serde_json::from_str::<Decision>(&r.body) {
            out.push(decision_json(r, &d));
        }
    }
    Ok(Json(json!({ "decisions": out })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homonym(id: &str, born: &str) -> Entity {
        Entity {
            id: id.into(),
            schema: "Person".into(),
            names: vec!["Ivan Petrov".into()],
            birth_dates: vec![born.into()],
            datasets: vec![format!("list-{id}")],
            ..Entity::default()
        }
    }

    fn clear(sc: &Screener, key: &str, id: &str) -> Decision {
        Decision {
            query_key: key.into(),
            query_name: "Ivan Petrov".into(),
            entity_id: id.into(),
            entity_fingerprint: sc.entity(id).unwrap().fingerprint(),
            list_version: sc.list_version(),
            disposition: Disposition::FalsePositive,
            reason: "another man: different employer and address".into(),
            officer: "officer.lee".into(),
            decided_at: "2026-11-29T08:00:00Z".into(),
        }
    }

    #[test]
    fn a_hit_on_homonyms_lists_each_with_its_decision_and_clears_only_when_all_are() {
        let sc = Screener::build(vec![homonym("a", "1961"), homonym("b", "1975")], Vec::new());
        let query = Query {
            schema: "Person".into(),
            names: vec!["Ivan Petrov".into()],
            ..Query::default()
        };
        let (key, version) = (query.key(), sc.list_version());
        let hits = sc.match_query(&query, vigil_screen::DEFAULT_THRESHOLD);
        assert_eq!(
            hits.len(),
            1,
            "two entries nothing tells apart make one hit"
        );
        let first = hits[0].entity_id.clone();
        let other = if first == "a" { "b" } else { "a" };

        let mut book = DecisionBook::new();
        let hit = hit_json(&sc, &book, &key, &version, &hits[0]);
        assert_eq!(hit["entity_id"], json!(first));
        assert_eq!(hit["tied"][0]["entity_id"], json!(other));
        assert_eq!(hit["tied"][0]["datasets"], json!([format!("list-{other}")]));
        assert_eq!(hit["cleared"], json!(false));

        // Clearing the entry shown first leaves the hit open: the other
        // entry has not been looked at.
        book.record(clear(&sc, &key, &first)).unwrap();
        let hit = hit_json(&sc, &book, &key, &version, &hits[0]);
        assert_eq!(hit["cleared"], json!(false));
        assert_eq!(hit["decision"]["entity_id"], json!(first));
        assert_eq!(hit["tied"][0]["cleared"], json!(false));

        book.record(clear(&sc, &key, other)).unwrap();
        let hit = hit_json(&sc, &book, &key, &version, &hits[0]);
        assert_eq!(hit["tied"][0]["cleared"], json!(true));
        assert_eq!(hit["tied"][0]["decision"]["entity_id"], json!(other));
        assert_eq!(hit["cleared"], json!(true));
    }
}
