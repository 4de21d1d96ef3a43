//! The TAXII 2.1 endpoints: discovery, API root, collections, objects,
//! object by id, versions, manifest and status.

use std::fmt::Write as _;
use std::io::Write as _;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use vigil_store::{
    Added, Collection, Cursor, NewObject, ObjectQuery, Page, StatusFn, StatusRecord, VersionMatch,
};

use crate::auth::{access, Access, Caller};
use crate::error::{ApiError, ApiResult};
use crate::media::{check_accept, check_content_type, TAXII_21};
use crate::tlp::Markings;
use crate::{cursor, timestamp, validate, AppState, Hub};

/// Path of the discovery resource.
pub const DISCOVERY: &str = "/taxii2/";
/// Path of the (only) API root.
pub const API_ROOT: &str = "/api/";

/// A JSON response with the TAXII media type.
pub(crate) fn taxii_json(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_21));
    r
}

/// GET /taxii2/
pub async fn discovery(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    check_accept(&headers)?;
    let body = json!({
        "title": s.hub.config.title,
        "description": "Vigil hub: the commercial spyware registry over TAXII 2.1",
        "default": API_ROOT,
        "api_roots": [API_ROOT],
    });
    Ok(taxii_json(StatusCode::OK, body.to_string()))
}

/// GET /api/
pub async fn api_root(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    check_accept(&headers)?;
    let body = json!({
        "title": s.hub.config.title,
        "versions": [TAXII_21],
        "max_content_length": s.hub.config.max_content_length,
    });
    Ok(taxii_json(StatusCode::OK, body.to_string()))
}

fn collection_json(c: &Collection, a: &Access) -> Value {
    let mut v = json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "can_read": a.read,
        "can_write": a.write,
        "media_types": [crate::media::STIX_21],
    });
    if let Some(alias) = &c.alias {
        v["alias"] = json!(alias);
    }
    v
}

/// GET /api/collections/
pub async fn collections(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_accept(&headers)?;
    let mut out = Vec::new();
    for c in s.hub.store.collections().await? {
        let grants = s.hub.store.grants(&c.id).await?;
        let a = access(&caller, &c, &grants);
        if a.read || a.write {
            out.push(collection_json(&c, &a));
        }
    }
    let body = if out.is_empty() {
        json!({})
    } else {
        json!({ "collections": out })
    };
    Ok(taxii_json(StatusCode::OK, body.to_string()))
}

impl Hub {
    /// Finds a collection the caller may use. Unknown and invisible
    /// collections give the same answer: 401 to anonymous callers, 404 to
    /// others, with the same message.
    pub(crate) async fn collection_for(
        &self,
        caller: &Caller,
        id: &str,
    ) -> ApiResult<(Collection, Access)> {
        let hidden = || match caller {
            Caller::Anonymous => ApiError::Unauthorized("authentication required".into()),
            Caller::User { .. } => {
                ApiError::NotFound(format!("no collection {id:?} is available to you"))
            }
        };
        let Some(c) = self.store.collection(id).await? else {
            return Err(hidden());
        };
        let grants = self.store.grants(&c.id).await?;
        let a = access(caller, &c, &grants);
        if !a.read && !a.write {
            return Err(hidden());
        }
        Ok((c, a))
    }
}

/// GET /api/collections/{id}/
pub async fn collection(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_accept(&headers)?;
    let (c, a) = s.hub.collection_for(&caller, &id).await?;
    Ok(taxii_json(
        StatusCode::OK,
        collection_json(&c, &a).to_string(),
    ))
}

/// Which endpoint a query serves (part of the `next` binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Objects,
    Manifest,
    Object,
    Versions,
    Delete,
}

/// The filters of a TAXII request, parsed and checked.
#[derive(Debug)]
struct Filters {
    added_after: Option<i64>,
    limit: Option<usize>,
    next: Option<String>,
    ids: Vec<String>,
    types: Vec<String>,
    versions: Option<VersionMatch>,
    spec_versions: Vec<String>,
    /// The filter parameters in canonical order, for the `next` binding.
    canonical: String,
}

/// Upper bound on the number of values in one `match[...]` list.
const MAX_MATCH_VALUES: usize = 500;

fn parse_filters(raw: Option<&str>, endpoint: Endpoint) -> ApiResult<Filters> {
    let mut f = Filters {
        added_after: None,
        limit: None,
        next: None,
        ids: Vec::new(),
        types: Vec::new(),
        versions: None,
        spec_versions: Vec::new(),
        canonical: String::new(),
    };
    let mut canonical: Vec<(String, String)> = Vec::new();
    let allowed: &[&str] = match endpoint {
        Endpoint::Objects | Endpoint::Manifest => &[
            "added_after",
            "limit",
            "next",
            "match[id]",
            "match[type]",
            "match[version]",
            "match[spec_version]",
        ],
        Endpoint::Object => &[
            "added_after",
            "limit",
            "next",
            "match[version]",
            "match[spec_version]",
        ],
        Endpoint::Versions => &["added_after", "limit", "next", "match[spec_version]"],
        Endpoint::Delete => &["match[version]", "match[spec_version]"],
    };
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let (k, v) = (k.into_owned(), v.into_owned());
        if !allowed.contains(&k.as_str()) {
            if k.starts_with("match[") {
                return Err(ApiError::BadRequest(format!(
                    "filter {k} is not supported on this endpoint"
                )));
            }
            continue; // Unknown parameters are ignored, as TAXII allows.
        }
        let list = |v: &str| -> ApiResult<Vec<String>> {
            let items: Vec<String> = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            if items.len() > MAX_MATCH_VALUES {
                return Err(ApiError::BadRequest(format!(
                    "{k} lists more than {MAX_MATCH_VALUES} values"
                )));
            }
            Ok(items)
        };
        match k.as_str() {
            "added_after" => {
                f.added_after = Some(timestamp::parse(&v).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "added_after {v:?} is not a timestamp like 2024-01-31T12:00:00.000Z"
                    ))
                })?);
            }
            "limit" => {
                let n: usize = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ApiError::BadRequest(format!("limit {v:?} is not a positive integer"))
                })?;
                f.limit = Some(n);
            }
            "next" => f.next = Some(v.clone()),
            "match[id]" => f.ids.extend(list(&v)?),
            "match[type]" => f.types.extend(list(&v)?),
            "match[spec_version]" => f.spec_versions.extend(list(&v)?),
            "match[version]" => {
                let vm = f.versions.get_or_insert_with(VersionMatch::default);
                for item in list(&v)? {
                    match item.as_str() {
                        "all" => vm.all = true,
                        "first" => vm.first = true,
                        "last" => vm.last = true,
                        ts => vm.exact.push(timestamp::parse(ts).ok_or_else(|| {
                            ApiError::BadRequest(format!(
                                "match[version] value {ts:?} is not first, last, all or a timestamp"
                            ))
                        })?),
                    }
                }
            }
            _ => {}
        }
        if k != "next" && k != "limit" {
            canonical.push((k, v));
        }
    }
    canonical.sort();
    f.canonical = canonical
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    Ok(f)
}

/// Builds the store query for a request and decodes its `next` token.
fn build_query(
    hub: &Hub,
    caller: &Caller,
    c: &Collection,
    a: &Access,
    f: &Filters,
    endpoint: Endpoint,
    object_id: Option<&str>,
) -> ApiResult<(ObjectQuery, String)> {
    let binding = format!(
        "{}|{:?}|{}|{}|{}",
        c.id,
        endpoint,
        object_id.unwrap_or(""),
        caller.key(),
        f.canonical
    );
    let mut q = ObjectQuery::new(&c.id, a.visibility);
    q.added_after = f.added_after;
    q.ids = match object_id {
        Some(id) => vec![id.to_string()],
        None => f.ids.clone(),
    };
    q.types = f.types.clone();
    q.spec_versions = f.spec_versions.clone();
    q.versions = match (endpoint, &f.versions) {
        (Endpoint::Versions, _) => VersionMatch::all(),
        (Endpoint::Delete, None) => VersionMatch::all(),
        (_, Some(v)) => v.clone(),
        (_, None) => VersionMatch::last(),
    };
    q.limit = f
        .limit
        .unwrap_or(hub.config.page_size)
        .min(hub.config.max_page_size);
    q.after = match &f.next {
        Some(t) => Some(cursor::decode(&hub.secret, &binding, t)?),
        None => None,
    };
    Ok((q, binding))
}

/// Adds `more`, `next` and the date-added headers of a page.
fn page_envelope(
    hub: &Hub,
    binding: &str,
    page: &Page,
    added_after: Option<i64>,
    out: &mut String,
) -> HeaderMap {
    let _ = write!(out, "\"more\":{}", page.more);
    if page.more {
        if let Some(last) = page.objects.last() {
            let token = cursor::encode(
                &hub.secret,
                binding,
                Cursor {
                    date_added: last.date_added,
                    pk: last.pk,
                },
            );
            let _ = write!(out, ",\"next\":\"{token}\"");
        }
    }
    let mut h = HeaderMap::new();
    // With no object, both headers repeat the lower bound of the query, so a
    // client can always use X-TAXII-Date-Added-Last as its next added_after.
    let floor = added_after.unwrap_or(0);
    let first = page.objects.first().map_or(floor, |o| o.date_added);
    let last = page.objects.last().map_or(floor, |o| o.date_added);
    for (name, v) in [
        ("x-taxii-date-added-first", first),
        ("x-taxii-date-added-last", last),
    ] {
        if let Ok(hv) = HeaderValue::from_str(&timestamp::format(v)) {
            h.insert(name, hv);
        }
    }
    h
}

fn with_headers(mut r: Response, h: HeaderMap) -> Response {
    r.headers_mut().extend(h);
    r
}

fn require_read(a: &Access) -> ApiResult<()> {
    if a.read {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "you may not read this collection".into(),
        ))
    }
}

fn version_string(o: &vigil_store::StoredObject) -> String {
    if o.version.is_empty() {
        timestamp::format(o.date_added)
    } else {
        o.version.clone()
    }
}

/// One page of a read endpoint, with what its envelope needs.
struct PageRead {
    page: Page,
    /// Envelope start (`{"more":…,"next":…`) and the date-added headers.
    out: String,
    headers: HeaderMap,
}

/// The common part of every paginated read: negotiation, access, filters,
/// the store query, and 404 for an object that is missing or invisible.
#[allow(clippy::too_many_arguments)]
async fn read_page(
    s: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    cid: &str,
    raw: Option<&str>,
    endpoint: Endpoint,
    object_id: Option<&str>,
    bodies: bool,
) -> ApiResult<PageRead> {
    check_accept(headers)?;
    let hub = &s.hub;
    let (c, a) = hub.collection_for(caller, cid).await?;
    require_read(&a)?;
    let f = parse_filters(raw, endpoint)?;
    let (mut q, binding) = build_query(hub, caller, &c, &a, &f, endpoint, object_id)?;
    q.bodies = bodies;
    let page = hub.store.query_objects(&q).await?;
    if let Some(id) = object_id {
        if page.objects.is_empty()
            && q.after.is_none()
            && !hub.object_visible(&c.id, id, &a).await?
        {
            return Err(ApiError::NotFound(
                "no such object in this collection is available to you".into(),
            ));
        }
    }
    let mut out = String::with_capacity(
        64 + page
            .objects
            .iter()
            .map(|o| o.body.as_ref().map_or(0, String::len) + 1)
            .sum::<usize>(),
    );
    out.push('{');
    let headers = page_envelope(hub, &binding, &page, f.added_after, &mut out);
    Ok(PageRead { page, out, headers })
}

/// Serves an objects envelope (`/objects/` and `/objects/{id}/`).
async fn objects_page(
    s: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    cid: &str,
    raw: Option<&str>,
    object_id: Option<&str>,
) -> ApiResult<Response> {
    let endpoint = if object_id.is_some() {
        Endpoint::Object
    } else {
        Endpoint::Objects
    };
    let PageRead {
        page,
        mut out,
        headers: h,
    } = read_page(s, caller, headers, cid, raw, endpoint, object_id, true).await?;
    crate::tlog::log_red_reads(s, caller, cid, &page.objects).await?;
    if !page.objects.is_empty() {
        out.push_str(",\"objects\":[");
        for (i, o) in page.objects.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(o.body.as_deref().unwrap_or("null"));
        }
        out.push(']');
    }
    out.push('}');
    s.hub.metrics.objects_served(page.objects.len());
    Ok(with_headers(taxii_json(StatusCode::OK, out), h))
}

impl Hub {
    /// Whether any version of `id` is visible to the caller.
    async fn object_visible(&self, cid: &str, id: &str, a: &Access) -> ApiResult<bool> {
        let mut q = ObjectQuery::new(cid, a.visibility);
        q.ids = vec![id.to_string()];
        q.versions = VersionMatch::all();
        Ok(self.store.count_objects(&q).await? > 0)
    }
}

/// GET /api/collections/{id}/objects/
pub async fn get_objects(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(cid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    objects_page(&s, &caller, &headers, &cid, raw.as_deref(), None).await
}

/// GET /api/collections/{id}/objects/{object_id}/
pub async fn get_object(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    objects_page(&s, &caller, &headers, &cid, raw.as_deref(), Some(&oid)).await
}

/// GET /api/collections/{id}/manifest/
pub async fn manifest(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(cid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let PageRead {
        page,
        mut out,
        headers: h,
    } = read_page(
        &s,
        &caller,
        &headers,
        &cid,
        raw.as_deref(),
        Endpoint::Manifest,
        None,
        false,
    )
    .await?;
    if !page.objects.is_empty() {
        let records: Vec<Value> = page
            .objects
            .iter()
            .map(|o| {
                json!({
                    "id": o.id,
                    "date_added": timestamp::format(o.date_added),
                    "version": version_string(o),
                    "media_type": crate::media::STIX_21,
                })
            })
            .collect();
        let _ = write!(out, ",\"objects\":{}", Value::Array(records));
    }
    out.push('}');
    Ok(with_headers(taxii_json(StatusCode::OK, out), h))
}

/// GET /api/collections/{id}/objects/{object_id}/versions/
pub async fn versions(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let PageRead {
        page,
        mut out,
        headers: h,
    } = read_page(
        &s,
        &caller,
        &headers,
        &cid,
        raw.as_deref(),
        Endpoint::Versions,
        Some(&oid),
        false,
    )
    .await?;
    if !page.objects.is_empty() {
        let v: Vec<String> = page.objects.iter().map(version_string).collect();
        let _ = write!(out, ",\"versions\":{}", json!(v));
    }
    out.push('}');
    Ok(with_headers(taxii_json(StatusCode::OK, out), h))
}

/// DELETE /api/collections/{id}/objects/{object_id}/
///
/// Deleting needs both read and write permission: write only or read only
/// is 403, neither is 404 (as for an unknown collection).
pub async fn delete_object(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    check_accept(&headers)?;
    let hub = &s.hub;
    let (c, a) = hub.collection_for(&caller, &cid).await?;
    if !(a.read && a.write) {
        return Err(ApiError::Forbidden(
            "deleting needs read and write permission on this collection".into(),
        ));
    }
    let f = parse_filters(raw.as_deref(), Endpoint::Delete)?;
    let (q, _) = build_query(hub, &caller, &c, &a, &f, Endpoint::Delete, Some(&oid))?;
    let n = hub.store.delete_objects(&q).await?;
    if n == 0 {
        return Err(ApiError::NotFound(
            "no such object in this collection is available to you".into(),
        ));
    }
    tracing::info!(collection = %c.id, object = %oid, versions = n, user = %caller.key(), "deleted");
    Ok(taxii_json(StatusCode::OK, String::new()))
}

/// One entry of a status resource's successes, failures or pendings.
fn status_entry(id: &str, version: Option<&str>, message: Option<&str>) -> Value {
    let mut v = json!({ "id": id });
    if let Some(ver) = version {
        v["version"] = json!(ver);
    }
    if let Some(m) = message {
        v["message"] = json!(m);
    }
    v
}

/// The TAXII status resource of a POST, built as objects are processed.
#[derive(Debug, Default)]
pub(crate) struct StatusBuilder {
    pub successes: Vec<Value>,
    pub failures: Vec<Value>,
    pub pendings: Vec<Value>,
}

impl StatusBuilder {
    /// The status (`complete` or `pending`) and the JSON text of the
    /// status resource `id`.
    pub(crate) fn json(&self, id: &str, request_timestamp: i64) -> (String, String) {
        self.json_with(id, request_timestamp, &[], &[])
    }

    /// As [`json`](Self::json), with the store's `outcomes` of the objects
    /// `keys` (id, version) added to the successes: a request's entries are
    /// written straight into the text, not built as JSON values first.
    fn json_with(
        &self,
        id: &str,
        request_timestamp: i64,
        keys: &[(String, String)],
        outcomes: &[Added],
    ) -> (String, String) {
        let status = if self.pendings.is_empty() {
            "complete"
        } else {
            "pending"
        };
        let added = keys.len().min(outcomes.len());
        let successes = self.successes.len() + added;
        let total = successes + self.failures.len() + self.pendings.len();
        // Members in the order serde_json's maps write them (sorted), so
        // the text is the same whichever way an entry was recorded.
        let mut out = Vec::with_capacity(256 + 100 * total);
        let list = |out: &mut Vec<u8>, entries: &[Value]| {
            out.push(b'[');
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, e);
            }
            out.push(b']');
        };
        let text = |out: &mut Vec<u8>, s: &str| {
            let _ = serde_json::to_writer(&mut *out, s);
        };
        let _ = write!(
            out,
            "{{\"failure_count\":{},\"failures\":",
            self.failures.len()
        );
        list(&mut out, &self.failures);
        out.extend_from_slice(b",\"id\":");
        text(&mut out, id);
        let _ = write!(
            out,
            ",\"pending_count\":{},\"pendings\":",
            self.pendings.len()
        );
        list(&mut out, &self.pendings);
        let _ = write!(
            out,
            ",\"request_timestamp\":\"{}\",\"status\":\"{status}\",\"success_count\":{successes},\"successes\":",
            timestamp::format(request_timestamp)
        );
        list(&mut out, &self.successes);
        out.pop();
        for (k, ((oid, version), outcome)) in keys.iter().zip(outcomes).enumerate() {
            if k > 0 || !self.successes.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"id\":");
            text(&mut out, oid);
            if matches!(outcome, Added::Duplicate) {
                out.extend_from_slice(b",\"message\":\"already in the collection\"");
            }
            if !version.is_empty() {
                out.extend_from_slice(b",\"version\":");
                text(&mut out, version);
            }
            out.push(b'}');
        }
        let _ = write!(out, "],\"total_count\":{total}}}");
        // Only JSON text and UTF-8 strings were written.
        let body = String::from_utf8(out).unwrap_or_default();
        (status.to_string(), body)
    }
}

/// Parses and checks objects the hub was handed as JSON values; returns
/// the storable ones (each body the value written out) and records failures.
fn prepare(
    hub: &Hub,
    caller: &Caller,
    objects: &[Value],
    st: &mut StatusBuilder,
) -> Vec<NewObject> {
    let mut markings = Markings::default();
    markings.learn(objects);
    let checker = Checker::new(hub, caller, markings);
    let mut out = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        out.extend(checker.checked(i, o, || o.to_string(), &mut st.failures));
    }
    out
}

/// Checks posted objects and makes the storable ones, with the marking
/// definitions of the whole request known.
struct Checker {
    markings: Markings,
    default_tlp: vigil_store::Tlp,
    org_id: Option<i64>,
    user_id: Option<i64>,
}

impl Checker {
    /// A checker for one request that knows the marking definitions `markings`.
    fn new(hub: &Hub, caller: &Caller, markings: Markings) -> Checker {
        let user = caller.user();
        Checker {
            markings,
            default_tlp: hub.config.default_tlp,
            org_id: user.and_then(|u| u.org_id),
            user_id: user.map(|u| u.id),
        }
    }

    /// A checker for a posted envelope: the marking definitions it carries
    /// are learnt first.
    fn for_envelope(hub: &Hub, caller: &Caller, envelope: &Envelope) -> Checker {
        Checker::new(hub, caller, envelope.markings())
    }

    /// Checks the envelope's objects `range`; returns the storable ones,
    /// each with the text the client sent (white space outside strings
    /// dropped) as its body, and adds a status entry per refused one.
    fn check_posted(
        &self,
        envelope: &Envelope,
        range: Range<usize>,
        failures: &mut Vec<Value>,
    ) -> Vec<NewObject> {
        let mut out = Vec::with_capacity(range.len());
        for i in range {
            let text = envelope.object(i);
            match vigil_stix::from_slice_strict(text.as_bytes()) {
                Ok(o) => out.extend(self.checked(i, &o, || minified(text), failures)),
                Err(e) => {
                    let msg = match e {
                        vigil_stix::Error::DuplicateKey { key, pointer, .. } => {
                            let at = if pointer.is_empty() { "/" } else { &pointer };
                            format!("{at}: duplicate key {key:?} (an object's keys must be unique)")
                        }
                        other => format!("not valid JSON: {other}"),
                    };
                    // The id and version as a lenient parser reads them, to
                    // name the object in the status resource.
                    let lenient = serde_json::from_str::<Value>(text).ok();
                    failures.push(refused(i, lenient.as_ref(), &msg));
                }
            }
        }
        out
    }

    /// Checks object `i` of a request; the storable object with the body
    /// `body` makes, or None after adding a status entry for the refusal.
    fn checked(
        &self,
        i: usize,
        o: &Value,
        body: impl FnOnce() -> String,
        failures: &mut Vec<Value>,
    ) -> Option<NewObject> {
        match validate::check(o) {
            Ok(c) => {
                let (version, version_us) = c.version.unwrap_or_default();
                Some(NewObject {
                    id: c.id,
                    stix_type: c.stix_type,
                    spec_version: c.spec_version,
                    version,
                    version_us,
                    tlp: self.markings.classify(o, self.default_tlp),
                    org_id: self.org_id,
                    user_id: self.user_id,
                    body: body(),
                    search: Some(vigil_store::search_texts(o)),
                })
            }
            Err(msg) => {
                failures.push(refused(i, Some(o), &msg));
                None
            }
        }
    }
}

/// The status entry of refused object `i` (`o` if it could be read): its
/// id and version when it has them, and why.
fn refused(i: usize, o: Option<&Value>, msg: &str) -> Value {
    let id = o
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("objects[{i}]"));
    let version = o
        .and_then(|o| o.get("modified").or_else(|| o.get("created")))
        .and_then(Value::as_str);
    status_entry(&id, version, Some(&format!("objects[{i}]: {msg}")))
}

/// `text`, a JSON value, without the white space outside its strings.
fn minified(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped, mut start) = (false, false, 0);
    for (i, &c) in text.as_bytes().iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            // An ASCII byte: `i` and `i + 1` are character boundaries.
            out.push_str(&text[start..i]);
            start = i + 1;
        }
    }
    out.push_str(&text[start..]);
    out
}

/// Prepares objects that the hub itself ingests (bootstrap, federation):
/// no submitting organisation or user.
pub(crate) fn prepare_as_hub(
    hub: &Hub,
    objects: &[Value],
    st: &mut StatusBuilder,
) -> Vec<NewObject> {
    prepare(hub, &Caller::Anonymous, objects, st)
}

/// Stores prepared objects and records each outcome.
pub(crate) async fn store_objects(
    hub: &Hub,
    cid: &str,
    objects: Vec<NewObject>,
    st: &mut StatusBuilder,
) -> ApiResult<()> {
    let keys = object_keys(&objects);
    let outcomes = hub.store.add_objects(cid, objects).await?;
    let inserted = record_outcomes(&keys, &outcomes, st);
    hub.metrics.objects_added(inserted);
    Ok(())
}

/// The (id, version) of each prepared object, in order.
fn object_keys(objects: &[NewObject]) -> Vec<(String, String)> {
    objects
        .iter()
        .map(|o| (o.id.clone(), o.version.clone()))
        .collect()
}

/// Records the store's outcome of each object; returns how many were new.
fn record_outcomes(keys: &[(String, String)], outcomes: &[Added], st: &mut StatusBuilder) -> usize {
    let mut inserted = 0;
    for ((id, version), outcome) in keys.iter().zip(outcomes) {
        let v = (!version.is_empty()).then_some(version.as_str());
        match outcome {
            Added::Inserted(_) => {
                inserted += 1;
                st.successes.push(status_entry(id, v, None));
            }
            Added::Duplicate => {
                st.successes
                    .push(status_entry(id, v, Some("already in the collection")))
            }
        }
    }
    inserted
}

/// A posted TAXII envelope (`{"objects": [...]}`): the request body and
/// where the JSON text of each object lies in it. Objects are parsed one by
/// one when they are checked, so the text the hub stores is the text the
/// client sent.
pub struct Envelope {
    text: String,
    spans: Vec<Range<usize>>,
}

impl Envelope {
    /// Reads the envelope posted as `bytes`; an error says what is wrong
    /// with it as a whole (not JSON, not an object, no `objects` array).
    pub fn parse(bytes: Vec<u8>) -> ApiResult<Envelope> {
        let not_json = |e: &dyn std::fmt::Display| {
            ApiError::BadRequest(format!("the request body is not JSON: {e}"))
        };
        let text = String::from_utf8(bytes).map_err(|e| not_json(&e))?;
        let members: std::collections::HashMap<String, &serde_json::value::RawValue> =
            serde_json::from_str(&text).map_err(|e| match e.classify() {
                serde_json::error::Category::Data => ApiError::BadRequest(
                    "the request body is not a TAXII envelope (a JSON object)".into(),
                ),
                _ => not_json(&e),
            })?;
        let Some(objects) = members.get("objects") else {
            return Err(ApiError::BadRequest(
                "the envelope has no \"objects\" array".into(),
            ));
        };
        let objects: Vec<&serde_json::value::RawValue> = serde_json::from_str(objects.get())
            .map_err(|_| ApiError::BadRequest("\"objects\" is not an array".into()))?;
        // Each raw value borrows from `text`: its address less the text's is
        // its offset.
        let base = text.as_ptr() as usize;
        let spans = objects
            .iter()
            .map(|o| {
                let start = (o.get().as_ptr() as usize).checked_sub(base)?;
                let span = start..start.checked_add(o.get().len())?;
                (span.end <= text.len()).then_some(span)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::BadRequest("the objects could not be located".into()))?;
        drop(members);
        Ok(Envelope { text, spans })
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the envelope has no object.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The JSON text of object `i` as posted.
    fn object(&self, i: usize) -> &str {
        self.spans
            .get(i)
            .and_then(|r| self.text.get(r.clone()))
            .unwrap_or("null")
    }

    /// The TLP meaning of the marking definitions among the objects. Only
    /// objects whose text could name the type are parsed here: those with
    /// the string `"marking-definition"` itself (a reference to one,
    /// `"marking-definition--…"`, is not it), or with an escape.
    fn markings(&self) -> Markings {
        let mut markings = Markings::default();
        for i in 0..self.len() {
            let text = self.object(i);
            if text.contains("\"marking-definition\"") || text.contains('\\') {
                if let Ok(o) = vigil_stix::from_slice_strict(text.as_bytes()) {
                    markings.learn(std::slice::from_ref(&o));
                }
            }
        }
        markings
    }
}

/// What [`parse_request`] made of a request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedRequest {
    /// Endpoints whose filters accepted the query (of objects, manifest,
    /// object, versions, delete).
    pub filters_accepted: usize,
    /// Objects of the envelope that passed validation.
    pub valid_objects: usize,
    /// Objects of the envelope that were refused.
    pub invalid_objects: usize,
}

/// Runs every check the TAXII endpoints apply to a request before touching
/// the store — the query filters as each endpoint parses them, `Accept` and
/// `Content-Type` negotiation, the envelope, and each object's validation
/// and TLP classification — and the `next` token check. The first error is
/// the one the endpoint would answer with. Used by the fuzz target.
pub fn parse_request(
    query: &str,
    accept: &[u8],
    content_type: &[u8],
    body: &[u8],
) -> ApiResult<ParsedRequest> {
    let mut out = ParsedRequest::default();
    for endpoint in [
        Endpoint::Objects,
        Endpoint::Manifest,
        Endpoint::Object,
        Endpoint::Versions,
        Endpoint::Delete,
    ] {
        if let Ok(f) = parse_filters(Some(query), endpoint) {
            out.filters_accepted += 1;
            if let Some(token) = &f.next {
                // A forged or foreign token is refused, never trusted.
                let _ = cursor::decode(b"fuzz secret", &f.canonical, token);
            }
        }
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(accept) {
        headers.insert(header::ACCEPT, v);
    }
    if let Ok(v) = HeaderValue::from_bytes(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    check_accept(&headers)?;
    check_content_type(&headers)?;
    let envelope = Envelope::parse(body.to_vec())?;
    let checker = Checker {
        markings: envelope.markings(),
        default_tlp: vigil_store::Tlp::Amber,
        org_id: None,
        user_id: None,
    };
    let mut failures = Vec::new();
    let valid = checker.check_posted(&envelope, 0..envelope.len(), &mut failures);
    out.valid_objects = valid.len();
    out.invalid_objects = failures.len();
    Ok(out)
}

/// POST /api/collections/{id}/objects/
pub async fn post_objects(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(cid): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    check_accept(&headers)?;
    let hub = s.hub.clone();
    let (c, a) = hub.collection_for(&caller, &cid).await?;
    if !a.write {
        return Err(ApiError::Forbidden(
            "you may not write to this collection".into(),
        ));
    }
    check_content_type(&headers)?;
    let limit = hub.config.max_content_length;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::TooLarge(format!(
            "the request body exceeds max_content_length ({limit} bytes)"
        ))
    })?;
    let envelope = Envelope::parse(Vec::from(bytes))?;
    let request_timestamp = timestamp::now();
    let status_id = uuid::Uuid::new_v4().to_string();
    let user_id = caller.user().map(|u| u.id);
    let status = Pending {
        status_id,
        collection_id: c.id.clone(),
        user_id,
        request_timestamp,
    };
    if envelope.len() <= hub.config.pending_threshold {
        // Few enough to answer at once: checked on worker threads a chunk
        // at a time while the store writes the chunks before.
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let sent = Arc::new(Mutex::new(Sent::default()));
        let checking = sent.clone();
        let mut checker = Checker::new(&hub, &caller, Markings::default());
        tokio::task::spawn_blocking(move || {
            checker.markings = envelope.markings();
            check_in_order(&checker, &envelope, &tx, &checking);
        });
        return commit_with_status(&hub, &c.id, rx, sent, status).await;
    }
    let mut st = StatusBuilder::default();
    let checker = Checker::for_envelope(&hub, &caller, &envelope);
    let prepared = checker.check_posted(&envelope, 0..envelope.len(), &mut st.failures);
    let status_id = status.status_id.clone();
    if prepared.len() > hub.config.pending_threshold {
        // Large requests are acknowledged at once and stored in the
        // background; the status resource reports progress.
        st.pendings = prepared
            .iter()
            .map(|o| {
                status_entry(
                    &o.id,
                    (!o.version.is_empty()).then_some(o.version.as_str()),
                    None,
                )
            })
            .collect();
        let (status, body) = st.json(&status_id, request_timestamp);
        let record = StatusRecord {
            id: status_id.clone(),
            collection_id: c.id.clone(),
            user_id,
            request_timestamp,
            status,
            body: body.clone(),
        };
        hub.store.put_status(&record).await?;
        let bg = hub.clone();
        tokio::spawn(async move {
            let mut prepared = prepared;
            let chunk = bg.config.pending_threshold.max(1);
            while !prepared.is_empty() {
                let rest = prepared.split_off(prepared.len().min(chunk));
                let batch = std::mem::replace(&mut prepared, rest);
                let n = batch.len();
                let ids: Vec<(String, String)> = batch
                    .iter()
                    .map(|o| (o.id.clone(), o.version.clone()))
                    .collect();
                if let Err(e) = store_objects(&bg, &record.collection_id, batch, &mut st).await {
                    tracing::error!(status = %record.id, error = %e, "background insert failed");
                    for (id, v) in ids {
                        st.failures.push(status_entry(
                            &id,
                            (!v.is_empty()).then_some(v.as_str()),
                            Some("storage failed"),
                        ));
                    }
                }
                st.pendings.drain(..n.min(st.pendings.len()));
                let (status, body) = st.json(&record.id, record.request_timestamp);
                let update = StatusRecord {
                    status,
                    body,
                    ..record.clone()
                };
                if let Err(e) = bg.store.put_status(&update).await {
                    tracing::error!(status = %record.id, error = %e, "status update failed");
                }
            }
        });
        return Ok(taxii_json(StatusCode::ACCEPTED, body));
    }
    let sent = Sent {
        keys: object_keys(&prepared),
        failures: st.failures,
        checked: envelope.len(),
        done: true,
    };
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    // The receiver is alive and the channel empty: this cannot fail.
    let _ = tx.try_send(prepared);
    drop(tx);
    commit_with_status(&hub, &c.id, rx, Arc::new(Mutex::new(sent)), status).await
}

/// Objects checked per batch handed to the store: the checks of the next
/// batches run while the store writes this one.
const CHECK_CHUNK: usize = 128;

/// Checks the envelope's objects a chunk at a time, the even chunks on this
/// thread and the odd ones on a helper thread, and hands the storable ones
/// to the store through `tx` in the envelope's order, recording in `sent`
/// what was handed over. Stops early when the store stops taking batches.
fn check_in_order(
    checker: &Checker,
    envelope: &Envelope,
    tx: &tokio::sync::mpsc::Sender<Vec<NewObject>>,
    sent: &Mutex<Sent>,
) {
    let n = envelope.len();
    let chunks: Vec<Range<usize>> = (0..n)
        .step_by(CHECK_CHUNK)
        .map(|s| s..(s + CHECK_CHUNK).min(n))
        .collect();
    std::thread::scope(|scope| {
        let (helper_tx, helper_rx) = std::sync::mpsc::sync_channel(1);
        if chunks.len() > 1 {
            let odd: Vec<Range<usize>> = chunks.iter().skip(1).step_by(2).cloned().collect();
            scope.spawn(move || {
                for r in odd {
                    let mut failures = Vec::new();
                    let batch = checker.check_posted(envelope, r, &mut failures);
                    if helper_tx.send((batch, failures)).is_err() {
                        return;
                    }
                }
            });
        }
        for (k, r) in chunks.iter().enumerate() {
            let (batch, mut failures) = if k % 2 == 0 {
                let mut failures = Vec::new();
                (
                    checker.check_posted(envelope, r.clone(), &mut failures),
                    failures,
                )
            } else {
                match helper_rx.recv() {
                    Ok(checked) => checked,
                    Err(_) => return,
                }
            };
            {
                let mut s = lock(sent);
                s.keys.extend(object_keys(&batch));
                s.failures.append(&mut failures);
                s.checked = r.end;
            }
            if tx.blocking_send(batch).is_err() {
                return;
            }
        }
        lock(sent).done = true;
    });
}

/// What the checking side of a POST has handed to the store so far.
#[derive(Debug, Default)]
struct Sent {
    /// (id, version) of every object sent to the store, in order.
    keys: Vec<(String, String)>,
    /// Status entries of the refused objects.
    failures: Vec<Value>,
    /// Objects of the envelope checked.
    checked: usize,
    /// Whether every object was checked.
    done: bool,
}

fn lock(sent: &Mutex<Sent>) -> std::sync::MutexGuard<'_, Sent> {
    sent.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The status resource a POST writes, before its entries are known.
struct Pending {
    status_id: String,
    collection_id: String,
    user_id: Option<i64>,
    request_timestamp: i64,
}

/// Stores the batches of `rx` and their status resource in one commit (one
/// fsync per request) and answers with the status.
async fn commit_with_status(
    hub: &Hub,
    cid: &str,
    rx: vigil_store::ObjectBatches,
    sent: Arc<Mutex<Sent>>,
    p: Pending,
) -> ApiResult<Response> {
    // Runs after the last batch is received, so after the checking side
    // has recorded everything it sent.
    let make_status: StatusFn = Box::new(move |outcomes: &[Added]| {
        let mut s = lock(&sent);
        let mut st = StatusBuilder {
            failures: std::mem::take(&mut s.failures),
            ..StatusBuilder::default()
        };
        if !s.done {
            // The checking thread stopped early (a bug): say so rather than
            // report a shorter request.
            st.failures.push(status_entry(
                &format!("objects[{}]", s.checked),
                None,
                Some("not checked (internal error): this object and the ones after it were not stored"),
            ));
        }
        let (status, body) = st.json_with(&p.status_id, p.request_timestamp, &s.keys, outcomes);
        StatusRecord {
            id: p.status_id,
            collection_id: p.collection_id,
            user_id: p.user_id,
            request_timestamp: p.request_timestamp,
            status,
            body,
        }
    });
    let (outcomes, record) = hub
        .store
        .add_object_batches_with_status(cid, rx, make_status)
        .await?;
    hub.metrics.objects_added(
        outcomes
            .iter()
            .filter(|o| matches!(o, Added::Inserted(_)))
            .count(),
    );
    Ok(taxii_json(StatusCode::ACCEPTED, record.body))
}

/// GET /api/status/{id}/ — only the requester and administrators see a status.
pub async fn status(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_accept(&headers)?;
    let user = caller.require_user()?;
    let not_found = || ApiError::NotFound(format!("no status {id:?} is available to you"));
    let Some(rec) = s.hub.store.status(&id).await? else {
        return Err(not_found());
    };
    if rec.user_id != Some(user.id) && !caller.is_admin() {
        return Err(not_found());
    }
    Ok(taxii_json(StatusCode::OK, rec.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[u8] = TAXII_21.as_bytes();

    /// The status text written entry by entry is the one serde_json writes
    /// for the same resource built as a JSON value.
    #[test]
    fn status_text_is_the_json_of_the_resource() {
        let st = StatusBuilder {
            successes: vec![status_entry("indicator--1", Some("v1"), None)],
            failures: vec![status_entry(
                "objects[3]",
                None,
                Some("objects[3]: \"bad\" \u{e9}"),
            )],
            pendings: vec![],
        };
        let keys = vec![
            (
                "indicator--2".to_string(),
                "2024-01-01T00:00:00.000Z".to_string(),
            ),
            ("domain-name--3".to_string(), String::new()),
        ];
        let outcomes = [Added::Inserted(7), Added::Duplicate];
        let (status, text) = st.json_with("s-1", 1_700_000_000_000_000, &keys, &outcomes);
        assert_eq!(status, "complete");
        let expected = json!({
            "id": "s-1",
            "status": "complete",
            "request_timestamp": timestamp::format(1_700_000_000_000_000),
            "total_count": 4,
            "success_count": 3,
            "successes": [
                status_entry("indicator--1", Some("v1"), None),
                status_entry("indicator--2", Some("2024-01-01T00:00:00.000Z"), None),
                status_entry("domain-name--3", None, Some("already in the collection")),
            ],
            "failure_count": 1,
            "failures": st.failures,
            "pending_count": 0,
            "pendings": [],
        });
        assert_eq!(text, expected.to_string());
        let pending = StatusBuilder {
            pendings: vec![status_entry("indicator--4", None, None)],
            ..StatusBuilder::default()
        };
        let (status, text) = pending.json("s-2", 0);
        assert_eq!(status, "pending");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["pending_count"],
            1
        );
    }

    #[test]
    fn envelope_learns_the_marking_definitions_it_carries() {
        use vigil_store::Tlp;
        let def = |id: &str, ty: &str| {
            format!(
                r#"{{"type" : "{ty}", "id": "marking-definition--{id}", "definition_type": "tlp", "definition": {{"tlp": "red"}}}}"#
            )
        };
        let a = "00000000-0000-4000-8000-00000000000a";
        let b = "00000000-0000-4000-8000-00000000000b";
        // One written plainly (with spaces), one with its type escaped; an
        // object referring to each.
        let body = format!(
            r#"{{"objects":[{},{},{{"type":"malware","object_marking_refs":["marking-definition--{a}"]}},{{"type":"malware","object_marking_refs":["marking-definition--{b}"]}}]}}"#,
            def(a, "marking-definition"),
            def(b, r"marking\u002ddefinition"),
        );
        let envelope = Envelope::parse(body.into_bytes()).unwrap();
        let markings = envelope.markings();
        for id in [a, b] {
            let o = json!({"type": "malware", "object_marking_refs": [format!("marking-definition--{id}")]});
            assert_eq!(markings.classify(&o, Tlp::Clear), Tlp::Red, "{id}");
        }
        // A reference alone defines nothing.
        let refs_only = Envelope::parse(
            format!(r#"{{"objects":[{{"type":"malware","object_marking_refs":["marking-definition--{a}"]}}]}}"#)
                .into_bytes(),
        )
        .unwrap();
        let o =
            json!({"type": "malware", "object_marking_refs": [format!("marking-definition--{a}")]});
        assert_eq!(refs_only.markings().classify(&o, Tlp::Clear), Tlp::Clear);
    }

    #[test]
    fn minified_drops_white_space_outside_strings_only() {
        assert_eq!(
            minified("{ \"a b\" :\n[1 , \"x\\\" \\\\\" ,\t{}]\r}"),
            "{\"a b\":[1,\"x\\\" \\\\\",{}]}"
        );
        assert_eq!(minified("\"caf\u{e9} \""), "\"caf\u{e9} \"");
    }

    #[test]
    fn request_checks_refuse_what_the_endpoints_refuse() {
        let ok = br#"{"objects":[]}"#;
        // match[type] is a filter of the objects and manifest endpoints only.
        let r = parse_request("match[type]=indicator&limit=5", T, T, ok).unwrap();
        assert_eq!(r.filters_accepted, 2);
        assert_eq!(
            parse_request("limit=0", T, T, ok).unwrap().filters_accepted,
            1
        );
        assert!(matches!(
            parse_request("", b"text/html", T, ok),
            Err(ApiError::NotAcceptable(_))
        ));
        assert!(matches!(
            parse_request("", T, b"", ok),
            Err(ApiError::UnsupportedMediaType(_))
        ));
        for bad in [&b"[]"[..], b"{\"objects\":{}}", b"{", b"{}"] {
            assert!(matches!(
                parse_request("", T, T, bad),
                Err(ApiError::BadRequest(_))
            ));
        }
        let r = parse_request("", T, T, br#"{"objects":[{"type":"indicator"},7]}"#).unwrap();
        assert_eq!((r.valid_objects, r.invalid_objects), (0, 2));
        // Nesting far deeper than the parser's limit is one refused object.
        let deep = format!(
            r#"{{"objects":[{}{}]}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let r = parse_request("", T, T, deep.as_bytes()).unwrap();
        assert_eq!((r.valid_objects, r.invalid_objects), (0, 1));
    }
}
