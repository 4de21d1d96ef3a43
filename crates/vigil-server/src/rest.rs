//! The REST/JSON API beside TAXII, for what TAXII lacks: text search, the
//! relationship graph around an object, provenance of an object, sightings.
//!
//! Every handler reads through [`readable`] and the store's visibility
//! rules, so what TAXII would not show a caller never appears here either —
//! not as a result, a graph node or edge, a count, or an error message
//! (an object the caller may not see is "not found", like a missing one).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use vigil_store::{Collection, ObjectQuery, SearchQuery, StoredObject, User, VersionMatch};

use crate::auth::{Access, Caller};
use crate::error::{ApiError, ApiResult};
use crate::{timestamp, AppState};

/// Objects read from the store per page while scanning.
const SCAN_PAGE: usize = 1000;
/// Most objects one request scans per collection.
pub(crate) const MAX_SCAN: usize = 1_000_000;
/// Most nodes in a relationship graph answer.
const MAX_GRAPH_NODES: usize = 2000;

/// Query-string parameters, with errors that name the parameter.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> ApiResult<Params> {
        let raw = raw.unwrap_or("");
        if raw.len() > 8192 {
            return Err(ApiError::BadRequest("query string: too long".into()));
        }
        Ok(Params(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
    /// The single value of `name`, if given (an error if given twice).
    pub fn one(&self, name: &str) -> ApiResult<Option<&str>> {
        let mut it = self.0.iter().filter(|(k, _)| k == name);
        let first = it.next().map(|(_, v)| v.as_str());
        if it.next().is_some() {
            return Err(ApiError::BadRequest(format!(
                "{name}: give this parameter once"
            )));
        }
        Ok(first)
    }
    /// Every value of `name`, comma-separated values split.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }
    /// An integer parameter within `min..=max`.
    pub fn int(&self, name: &str, min: u64, max: u64) -> ApiResult<Option<u64>> {
        let Some(v) = self.one(name)? else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::BadRequest(format!(
                "{name}: {v:?} is not an integer from {min} to {max}"
            ))),
        }
    }
    /// A number parameter within `min..=max`.
    pub fn float(&self, name: &str, min: f32, max: f32) -> ApiResult<Option<f32>> {
        let Some(v) = self.one(name)? else {
            return Ok(None);
        };
        match v.parse::<f32>() {
            Ok(n) if n.is_finite() && (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::BadRequest(format!(
                "{name}: {v:?} is not a number from {min} to {max}"
            ))),
        }
    }
    /// A timestamp parameter (RFC 3339), as microseconds.
    pub fn time(&self, name: &str) -> ApiResult<Option<i64>> {
        let Some(v) = self.one(name)? else {
            return Ok(None);
        };
        timestamp::parse(v).map(Some).ok_or_else(|| {
            ApiError::BadRequest(format!("{name}: {v:?} is not an RFC 3339 timestamp"))
        })
    }
}

/// Reads a JSON request body of at most `limit` bytes; errors name the field.
pub async fn read_json<T: DeserializeOwned>(body: Body, limit: usize) -> ApiResult<T> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::TooLarge(format!("the request body is larger than {limit} bytes"))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(format!("body: {e}")))
}

/// The collections the caller may read: `only` (id or alias) when given,
/// else every readable collection.
pub(crate) async fn readable(
    s: &AppState,
    caller: &Caller,
    only: Option<&str>,
) -> ApiResult<Vec<(Collection, Access)>> {
    if let Some(id) = only {
        let (c, a) = s.hub.collection_for(caller, id).await?;
        if !a.read {
            return Err(ApiError::Forbidden(
                "collection: you may not read this collection".into(),
            ));
        }
        return Ok(vec![(c, a)]);
    }
    let mut out = Vec::new();
    for c in s.hub.store.collections().await? {
        let grants = s.hub.store.grants(&c.id).await?;
        let a = crate::auth::access(caller, &c, &grants);
        if a.read {
            out.push((c, a));
        }
    }
    Ok(out)
}

/// The hub's organisations (id → name) and users (id → user), to name who
/// did what.
pub(crate) async fn orgs_and_users(
    s: &AppState,
) -> ApiResult<(BTreeMap<i64, String>, BTreeMap<i64, User>)> {
    let orgs = s.hub.store.orgs().await?;
    let users = s.hub.store.users().await?;
    Ok((
        orgs.into_iter().map(|o| (o.id, o.name)).collect(),
        users.into_iter().map(|u| (u.id, u)).collect(),
    ))
}

/// Calls `f` on every object `q` selects (page by page, bodies parsed when
/// asked for), at most [`MAX_SCAN`]; stops early when `f` returns false.
pub(crate) async fn scan(
    s: &AppState,
    mut q: ObjectQuery,
    mut f: impl FnMut(&StoredObject, Option<Value>) -> bool,
) -> ApiResult<()> {
    q.limit = SCAN_PAGE;
    let mut seen = 0usize;
    loop {
        let page = s.hub.store.query_objects(&q).await?;
        for o in &page.objects {
            let v = o.body.as_deref().and_then(|b| serde_json::from_str(b).ok());
            if !f(o, v) {
                return Ok(());
            }
        }
        seen += page.objects.len();
        let Some(last) = page.objects.last() else {
            return Ok(());
        };
        if !page.more || seen >= MAX_SCAN {
            return Ok(());
        }
        q.after = Some(vigil_store::Cursor {
            date_added: last.date_added,
            pk: last.pk,
        });
    }
}

/// Whether a STIX object's name, aliases, description, pattern or value
/// contains `needle` (lower case).
pub(crate) fn text_matches(o: &Value, needle: &str) -> bool {
    let has = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.to_lowercase().contains(needle))
    };
    ["name", "description", "pattern", "value", "x_vigil_value"]
        .iter()
        .any(|k| has(&o[*k]))
        || ["aliases", "x_mitre_aliases", "labels"]
            .iter()
            .any(|k| o[*k].as_array().is_some_and(|a| a.iter().any(has)))
}

fn collection_ref(c: &Collection) -> Value {
    json!({ "id": c.id, "alias": c.alias, "title": c.title })
}

/// GET /rest/v1/search?q=TEXT[&type=T][&collection=C][&limit=N][&offset=M]
/// — objects whose name, aliases, values (pattern, value, URL, hashes) or
/// other text (description, labels, types, external reference ids) hold
/// every word of the text (a word also as the start of a longer one; a
/// `"quoted phrase"` or a value such as a domain as written), newest
/// version the caller may see, in the collections the caller reads, best
/// match first. The store's text index answers, with the TLP predicate of
/// each collection in its query: hits and `total` count only what the
/// caller may read.
pub async fn search(
    State(s): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let p = Params::parse(raw.as_deref())?;
    let text = p.one("q")?.unwrap_or("").trim().to_lowercase();
    if text.chars().count() < 2 || text.len() > 200 {
        return Err(ApiError::BadRequest(
            "q: give 2 to 200 characters to search for".into(),
        ));
    }
    let terms =
        vigil_store::parse_search(&text).map_err(|e| ApiError::BadRequest(format!("q: {e}")))?;
    let types = p.all("type");
    let limit = p.int("limit", 1, 500)?.unwrap_or(50) as usize;
    let offset = p.int("offset", 0, 100_000)?.unwrap_or(0) as usize;
    let cols = readable(&s, &caller, p.one("collection")?).await?;
    let query = SearchQuery {
        terms,
        scopes: cols
            .iter()
            .map(|(c, a)| (c.id.clone(), a.visibility))
            .collect(),
        types,
        limit,
        offset,
    };
    let page = s.hub.store.search_objects(&query).await?;
    let by_id: HashMap<&str, &Collection> = cols.iter().map(|(c, _)| (c.id.as_str(), c)).collect();
    let results: Vec<Value> = page
        .hits
        .iter()
        .filter_map(|h| {
            let c = by_id.get(h.collection_id.as_str())?;
            let v: Value = serde_json::from_str(h.object.body.as_deref()?).ok()?;
            Some(json!({
                "collection": collection_ref(c),
                "id": h.object.id,
                "type": h.object.stix_type,
                "name": v["name"],
                "tlp": h.object.tlp.label(),
                "object": v,
            }))
        })
        .collect();
    Ok(Json(json!({
        "q": text,
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "more": page.total > (offset + page.hits.len()) as u64,
        "results": results,
    })))
}

/// Relationships read per collection and hop.
const MAX_GRAPH_EDGES: usize = 20_000;

/// Adds to `visible` those of `ids` the caller may see in `cols` (the
/// newest visible version's body and TLP label).
async fn look_up(
    s: &AppState,
    cols: &[(Collection, Access)],
    ids: &[String],
    visible: &mut HashMap<String, (Value, &'static str)>,
) -> ApiResult<()> {
    for (c, a) in cols {
        for chunk in ids.chunks(200) {
            let mut q = ObjectQuery::new(&c.id, a.visibility);
            q.ids = chunk.to_vec();
            scan(s, q, |o, v| {
                if let Some(v) = v {
                    visible.entry(o.id.clone()).or_insert((v, o.tlp.label()));
                }
                true
            })
            .await?;
        }
    }
    Ok(())
}

/// GET /rest/v1/graph/{id}?hops=N[&collection=C] — the objects within N
/// relationship hops (1–4, default 2) of an object (a vendor's products,
/// their indicators, listings and cases), as nodes and edges. Only objects
/// and relationships the caller may see are used, and the walk never
/// passes through an object the caller may not see. Each hop asks the
/// store for the relationships naming the objects reached so far (an index
/// on `source_ref` and `target_ref`), so the cost follows the size of the
/// answer, not of the collection.
pub async fn graph(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let p = Params::parse(raw.as_deref())?;
    let hops = p.int("hops", 1, 4)?.unwrap_or(2) as usize;
    let cols = readable(&s, &caller, p.one("collection")?).await?;
    let mut visible: HashMap<String, (Value, &'static str)> = HashMap::new();
    look_up(&s, &cols, std::slice::from_ref(&id), &mut visible).await?;
    if !visible.contains_key(&id) {
        return Err(ApiError::NotFound(format!(
            "no object {id} is available to you"
        )));
    }
    let mut nodes: BTreeMap<String, usize> = BTreeMap::from([(id.clone(), 0)]);
    // Visible relationships naming a node of an earlier hop, once each.
    let mut edges: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut frontier = vec![id.clone()];
    for h in 0..hops {
        let mut candidates: BTreeSet<String> = BTreeSet::new();
        for (c, a) in &cols {
            for chunk in frontier.chunks(500) {
                let mut q = ObjectQuery::new(&c.id, a.visibility);
                q.limit = MAX_GRAPH_EDGES;
                for o in s.hub.store.relationships_touching(&q, chunk).await? {
                    let Some(v) = o
                        .body
                        .as_deref()
                        .and_then(|b| serde_json::from_str::<Value>(b).ok())
                    else {
                        continue;
                    };
                    let (Some(src), Some(dst)) =
                        (v["source_ref"].as_str(), v["target_ref"].as_str())
                    else {
                        continue;
                    };
                    for end in [src, dst] {
                        if !nodes.contains_key(end) {
                            candidates.insert(end.to_string());
                        }
                    }
                    edges.entry(o.id.clone()).or_insert((
                        src.to_string(),
                        dst.to_string(),
                        v["relationship_type"].as_str().unwrap_or("").to_string(),
                    ));
                }
            }
        }
        let candidates: Vec<String> = candidates.into_iter().collect();
        look_up(&s, &cols, &candidates, &mut visible).await?;
        frontier = Vec::new();
        for n in candidates {
            if visible.contains_key(&n) && nodes.len() < MAX_GRAPH_NODES {
                nodes.insert(n.clone(), h + 1);
                frontier.push(n);
            }
        }
        if frontier.is_empty() {
            break;
        }
    }
    let node_list: Vec<Value> = nodes
        .iter()
        .filter_map(|(n, h)| {
            let (v, tlp) = visible.get(n)?;
            Some(json!({ "id": n, "type": v["type"], "name": v["name"], "tlp": tlp, "hop": h }))
        })
        .collect();
    let edge_list: Vec<Value> = edges
        .iter()
        .filter(|(_, (src, dst, _))| nodes.contains_key(src) && nodes.contains_key(dst))
        .map(|(rid, (src, dst, rt))| {
            json!({ "id": rid, "source": src, "target": dst, "relationship_type": rt })
        })
        .collect();
    Ok(Json(
        json!({ "root": id, "hops": hops, "nodes": node_list, "edges": edge_list }),
    ))
}

/// GET /rest/v1/objects/{id}/provenance — where each version of an object
/// the caller may see came from: collection, when the hub stored it, the
/// submitting organisation (the user too, for members of that organisation
/// and admins), the partner hub's collection it was pulled from and when,
/// or the hub itself (bundled registry), plus
/// the object's own `created_by_ref` and external references.
pub async fn provenance(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let cols = readable(&s, &caller, None).await?;
    let (orgs, users) = orgs_and_users(&s).await?;
    let me = caller.user();
    let mut versions = Vec::new();
    for (c, a) in &cols {
        let mut q = ObjectQuery::new(&c.id, a.visibility);
        q.ids = vec![id.clone()];
        q.versions = VersionMatch::all();
        let mut seen: Vec<(i64, Value, &'static str)> = Vec::new();
        scan(&s, q, |o, v| {
            seen.push((o.pk, v.unwrap_or(Value::Null), o.tlp.label()));
            true
        })
        .await?;
        if seen.is_empty() {
            continue;
        }
        let origins = s.hub.store.object_origins(&c.id, &id).await?;
        let sources = s.hub.store.object_sources(&c.id, &id).await?;
        for (pk, v, tlp) in seen {
            let Some(origin) = origins.iter().find(|o| o.pk == pk) else {
                continue;
            };
            let same_org = me.is_some_and(|u| u.org_id.is_some() && u.org_id == origin.org_id);
            let show_user = caller.is_admin() || same_org;
            let pulled: Vec<Value> = sources
                .iter()
                .filter(|x| x.version == origin.version)
                .map(|x| json!({ "from": x.source, "at": timestamp::format(x.recorded_at) }))
                .collect();
            let submitted = if !pulled.is_empty() {
                json!({ "by": "federation", "how": "pulled from a partner hub", "pulled": pulled })
            } else if origin.user_id.is_none() && origin.org_id.is_none() {
                json!({ "by": "hub", "how": "loaded by the hub itself (bundled registry)" })
            } else {
                json!({
                    "by": "user",
                    "how": "submitted through the hub's API",
                    "organisation": origin.org_id.and_then(|o| orgs.get(&o)),
                    "user": if show_user { origin.user_id.and_then(|u| users.get(&u)).map(|u| &u.name) } else { None },
                })
            };
            versions.push(json!({
                "collection": collection_ref(c),
                "version": origin.version,
                "date_added": timestamp::format(origin.date_added),
                "tlp": tlp,
                "submitted": submitted,
                "created_by_ref": v["created_by_ref"],
                "external_references": v["external_references"],
            }));
        }
    }
    if versions.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no object {id} is available to you"
        )));
    }
    Ok(Json(json!({ "id": id, "versions": versions })))
}

/// GET /rest/v1/sightings[?of=ID][&collection=C][&limit=N] — the sightings
/// the caller may see, of one object when `of` is given.
pub async fn sightings(
    State(s): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let p = Params::parse(raw.as_deref())?;
    let of = p.one("of")?.map(str::to_string);
    let limit = p.int("limit", 1, 1000)?.unwrap_or(100) as usize;
    let mut total = 0usize;
    let mut out = Vec::new();
    let mut count: u64 = 0;
    for (c, a) in readable(&s, &caller, p.one("collection")?).await? {
        let mut q = ObjectQuery::new(&c.id, a.visibility);
        q.types = vec!["sighting".into()];
        scan(&s, q, |_, v| {
            let Some(v) = v else { return true };
            if of
                .as_deref()
                .is_none_or(|of| v["sighting_of_ref"].as_str() == Some(of))
            {
                total += 1;
                count += v["count"].as_u64().unwrap_or(1);
                if out.len() < limit {
                    out.push(json!({ "collection": collection_ref(&c), "object": v }));
                }
            }
            true
        })
        .await?;
    }
    Ok(Json(json!({
        "of": of,
        "total": total,
        "sighting_count": count,
        "sightings": out,
    })))
}
