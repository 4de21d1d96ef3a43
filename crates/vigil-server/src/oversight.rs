//! The oversight API (`/oversight/v1/…`): authorisations of government use
//! of surveillance tools, run by [`vigil_oversight::Oversight`] with every
//! step on the hub's transparency log.
//!
//! Oversight roles (`requester`, `approver` — a member of an independent
//! authority —, `operator`, `auditor`) are given to hub users by an admin;
//! a user's organisation is their agency or authority. The workflow
//! enforces separation of duties; the hub's admin role confers no
//! oversight role. Plaintext requests are visible to approvers and
//! auditors, and to requesters and operators of the requesting agency.
//! The transparency report is public: it is computed from the log at the
//! latest signed checkpoint.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vigil_oversight::{
    AccessRequest, Assessment, Authorisation, AuthorisationRequest, HubActionKind, OversightError,
    Person, PersonId, Role,
};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::tlog::TransparencyLog;
use crate::AppState;

/// The oversight role names, as stored.
pub const ROLES: [&str; 4] = ["requester", "approver", "operator", "auditor"];

fn role_of(name: &str) -> Option<Role> {
    match name {
        "requester" => Some(Role::Requester),
        "approver" => Some(Role::Approver),
        "operator" => Some(Role::Operator),
        "auditor" => Some(Role::Auditor),
        _ => None,
    }
}

fn tlog(s: &AppState) -> ApiResult<&Arc<TransparencyLog>> {
    s.transparency
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("this hub runs without a transparency log".into()))
}

/// The directory of people: every hub user holding an oversight role,
/// with their organisation's name.
async fn directory(s: &AppState, t: &TransparencyLog) -> ApiResult<Vec<Person>> {
    let (orgs, users) = crate::rest::orgs_and_users(s).await?;
    let mut people: BTreeMap<i64, Person> = BTreeMap::new();
    for (uid, role) in t.store().oversight_roles().await? {
        let (Some(u), Some(role)) = (users.get(&uid), role_of(&role)) else {
            continue;
        };
        people
            .entry(uid)
            .or_insert_with(|| Person {
                id: PersonId(u.name.clone()),
                organisation: u
                    .org_id
                    .and_then(|o| orgs.get(&o).cloned())
                    .unwrap_or_default(),
                roles: Vec::new(),
            })
            .roles
            .push(role);
    }
    Ok(people.into_values().collect())
}

/// The caller as a person of the directory (401 anonymous, 403 without an
/// oversight role).
fn me<'a>(caller: &Caller, people: &'a [Person]) -> ApiResult<&'a Person> {
    let u = caller.require_user()?;
    people
        .iter()
        .find(|p| p.id.0 == u.name)
        .ok_or_else(|| ApiError::Forbidden("this needs an oversight role".into()))
}

fn may_see(p: &Person, a: &Authorisation) -> bool {
    p.roles
        .iter()
        .any(|r| matches!(r, Role::Approver | Role::Auditor))
        || (p.organisation == a.request.agency
            && p.roles
                .iter()
                .any(|r| matches!(r, Role::Requester | Role::Operator)))
}

fn map_err(e: OversightError) -> ApiError {
    match e {
        OversightError::InvalidRequest(_) | OversightError::ReportMismatch(_) => {
            ApiError::Unprocessable(e.to_string())
        }
        OversightError::UnknownPerson(_)
        | OversightError::MissingRole { .. }
        | OversightError::SeparationOfDuties(_)
        | OversightError::AccessRefused { .. } => ApiError::Forbidden(e.to_string()),
        OversightError::UnknownAuthorisation(_) => ApiError::NotFound(e.to_string()),
        OversightError::InvalidTransition { .. } | OversightError::Backdated { .. } => {
            ApiError::Conflict(e.to_string())
        }
        OversightError::Log(_) => ApiError::Internal(e.to_string()),
    }
}

/// An authorisation as JSON, with its log entries (index, event, whether
/// it took effect, and the first checkpoint covering it).
async fn view(t: &TransparencyLog, a: &Authorisation) -> ApiResult<Value> {
    let log: Vec<Value> = t
        .store()
        .log_entries_of(&a.id)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "index": e.index,
                "event": e.kind,
                "applied": e.applied,
                "checkpoint_size": e.checkpoint_size,
            })
        })
        .collect();
    let mut v = serde_json::to_value(a).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("log".into(), Value::Array(log));
    }
    Ok(v)
}

async fn current(t: &TransparencyLog, id: &str) -> ApiResult<Authorisation> {
    t.read(|w| w.get(id).cloned())
        .await
        .ok_or_else(|| ApiError::NotFound(format!("no authorisation {id}")))
}

/// GET /oversight/v1/roles (admin or auditor): who holds which role.
pub async fn list_roles(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let people = directory(&s, t).await?;
    if !caller.is_admin() && !me(&caller, &people)?.roles.contains(&Role::Auditor) {
        return Err(ApiError::Forbidden(
            "listing roles needs the admin or auditor role".into(),
        ));
    }
    Ok(Json(json!({ "people": people })).into_response())
}

/// Body of `PUT /oversight/v1/roles/{user}`.
#[derive(Debug, Deserialize)]
pub struct RolesBody {
    /// Role names (`requester`, `approver`, `operator`, `auditor`).
    pub roles: Vec<String>,
}

/// PUT /oversight/v1/roles/{user} (admin): replaces a user's oversight roles.
pub async fn set_roles(
    State(s): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    Json(b): Json<RolesBody>,
) -> ApiResult<Response> {
    let t = tlog(&s)?;
    caller.require_admin()?;
    if let Some(bad) = b.roles.iter().find(|r| role_of(r).is_none()) {
        return Err(ApiError::Unprocessable(format!(
            "roles: {bad:?} is not one of {}",
            ROLES.join(", ")
        )));
    }
    let u = s
        .hub
        .store
        .user_by_name(&user)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no user {user:?}")))?;
    t.store().set_oversight_roles(u.id, &b.roles).await?;
    Ok(Json(json!({ "user": u.name, "roles": b.roles })).into_response())
}

/// POST /oversight/v1/authorisations (requester): files a request. The
/// body is an authorisation request without `officer` (the caller) and
/// with `agency` defaulting to the caller's organisation.
pub async fn submit(
    State(s): State<AppState>,
    caller: Caller,
    Json(mut body): Json<Value>,
) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let people = directory(&s, t).await?;
    let p = me(&caller, &people)?.clone();
    let o = body
        .as_object_mut()
        .ok_or_else(|| ApiError::Unprocessable("the request must be a JSON object".into()))?;
    o.insert("officer".into(), json!(p.id.0));
    o.entry("agency")
        .or_insert_with(|| json!(p.organisation.clone()));
    let req: AuthorisationRequest = serde_json::from_value(body)
        .map_err(|e| ApiError::Unprocessable(format!("authorisation request: {e}")))?;
    let id = t
        .run(people, move |w, now| w.submit(req, now))
        .await?
        .map_err(map_err)?;
    let a = current(t, &id).await?;
    Ok((StatusCode::CREATED, Json(view(t, &a).await?)).into_response())
}

/// GET /oversight/v1/authorisations: those the caller may see.
pub async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let people = directory(&s, t).await?;
    let p = me(&caller, &people)?.clone();
    let visible: Vec<Value> = t
        .read(|w| {
            w.authorisations()
                .filter(|a| may_see(&p, a))
                .map(|a| {
                    json!({
                        "id": a.id,
                        "agency": a.request.agency,
                        "status": a.status,
                        "target_category": a.request.target_category,
                        "valid_from": a.valid_from,
                        "valid_until": a.valid_until,
                    })
                })
                .collect()
        })
        .await;
    Ok(Json(json!({ "authorisations": visible })).into_response())
}

/// GET /oversight/v1/authorisations/{id}
pub async fn get_one(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let people = directory(&s, t).await?;
    let p = me(&caller, &people)?.clone();
    let a = current(t, &id).await?;
    if !may_see(&p, &a) {
        return Err(ApiError::Forbidden(
            "this authorisation belongs to another agency".into(),
        ));
    }
    Ok(Json(view(t, &a).await?).into_response())
}

/// Body of the step endpoints; each step reads the fields it needs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// Approved duration in days (`approve`; renewal duration for `renew`).
    pub duration_days: Option<u32>,
    /// Fresh assessment (`renew`).
    pub assessment: Option<Assessment>,
    /// Device reference (`access`).
    pub device_ref: Option<String>,
    /// Data type (`access`).
    pub data_type: Option<String>,
    /// Where the device is, ISO 3166 (`access`).
    pub geography: Option<String>,
    /// Whether the use was compliant (`review`).
    pub compliant: Option<bool>,
    /// Justification (`defer-notification`).
    pub justification: Option<String>,
    /// New deadline, Unix seconds (`defer-notification`).
    pub until: Option<u64>,
    /// Complaint reference (`complaint`, `remedy`).
    pub reference: Option<String>,
    /// Whether the complaint was upheld (`remedy`).
    pub upheld: Option<bool>,
}

fn need<T>(v: Option<T>, field: &str, step: &str) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::Unprocessable(format!("{step}: field {field} is required")))
}

/// POST /oversight/v1/authorisations/{id}/{step}: `approve`, `refuse`,
/// `revoke`, `renew`, `access`, `review`, `destroy`, `notify`,
/// `defer-notification`, `complaint` or `remedy`. The workflow checks the
/// caller's role and independence; every accepted step, and every access
/// attempt, is on the log before this answers.
pub async fn step(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, step)): Path<(String, String)>,
    body: Option<Json<StepBody>>,
) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let people = directory(&s, t).await?;
    let p = me(&caller, &people)?.clone();
    let who = p.id.clone();
    let b = body.map(|Json(b)| b).unwrap_or_default();
    let id2 = id.clone();
    let result: Result<Option<String>, OversightError> = match step.as_str() {
        "approve" => {
            let d = need(b.duration_days, "duration_days", "approve")?;
            t.run(people, move |w, now| {
                w.approve(&id2, &who, d, now).map(|_| None)
            })
            .await?
        }
        "refuse" => {
            t.run(people, move |w, now| {
                w.refuse(&id2, &who, now).map(|_| None)
            })
            .await?
        }
        "revoke" => {
            t.run(people, move |w, now| {
                w.revoke(&id2, &who, now).map(|_| None)
            })
            .await?
        }
        "renew" => {
            let a = need(b.assessment, "assessment", "renew")?;
            let d = need(b.duration_days, "duration_days", "renew")?;
            // Only a requester of the agency may ask for a renewal.
            let auth = current(t, &id).await?;
            if !p.roles.contains(&Role::Requester) || p.organisation != auth.request.agency {
                return Err(ApiError::Forbidden(
                    "a renewal is requested by a requester of the agency".into(),
                ));
            }
            t.run(people, move |w, now| w.renew(&id2, a, d, now).map(Some))
                .await?
        }
        "access" => {
            let access = AccessRequest {
                operator: who,
                device_ref: need(b.device_ref, "device_ref", "access")?,
                data_type: need(b.data_type, "data_type", "access")?,
                geography: need(b.geography, "geography", "access")?,
            };
            let r = t
                .run(people, move |w, now| w.access(&id2, &access, now))
                .await?;
            return Ok(match r {
                Ok(idx) => Json(json!({ "granted": true, "log_index": idx })).into_response(),
                Err(OversightError::AccessRefused { reason, log_index }) => (
                    StatusCode::FORBIDDEN,
                    [(header::CONTENT_TYPE, "application/json")],
                    json!({ "granted": false, "reason": reason, "log_index": log_index })
                        .to_string(),
                )
                    .into_response(),
                Err(e) => return Err(map_err(e)),
            });
        }
        "review" => {
            let c = need(b.compliant, "compliant", "review")?;
            t.run(people, move |w, now| {
                w.review(&id2, &who, c, now).map(|_| None)
            })
            .await?
        }
        "destroy" => {
            t.run(people, move |w, now| {
                w.destroy(&id2, &who, now).map(|_| None)
            })
            .await?
        }
        "notify" => {
            if !p
                .roles
                .iter()
                .any(|r| matches!(r, Role::Approver | Role::Auditor))
            {
                return Err(ApiError::Forbidden(
                    "notification is recorded by the independent authority".into(),
                ));
            }
            t.run(people, move |w, now| w.notify(&id2, now).map(|_| None))
                .await?
        }
        "defer-notification" => {
            let j = need(b.justification, "justification", "defer-notification")?;
            let until = need(b.until, "until", "defer-notification")?;
            t.run(people, move |w, now| {
                w.defer_notification(&id2, &who, &j, until, now)
                    .map(|_| None)
            })
            .await?
        }
        "complaint" | "remedy" => {
            if !p
                .roles
                .iter()
                .any(|r| matches!(r, Role::Approver | Role::Auditor))
            {
                return Err(ApiError::Forbidden(
                    "complaints are recorded by the independent authority".into(),
                ));
            }
            let r = need(b.reference, "reference", &step)?;
            if step == "complaint" {
                t.run(people, move |w, now| {
                    w.complaint(&id2, &r, now).map(|_| None)
                })
                .await?
            } else {
                let up = need(b.upheld, "upheld", "remedy")?;
                t.run(people, move |w, now| {
                    w.remedy(&id2, &r, up, now).map(|_| None)
                })
                .await?
            }
        }
        other => return Err(ApiError::NotFound(format!("no step {other:?}"))),
    };
    let new_id = result.map_err(map_err)?;
    let a = current(t, new_id.as_deref().unwrap_or(&id)).await?;
    let status = if new_id.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(t, &a).await?)).into_response())
}

fn require_authority(p: &Person) -> ApiResult<()> {
    if p.roles
        .iter()
        .any(|r| matches!(r, Role::Approver | Role::Auditor))
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "this needs the approver or auditor role".into(),
        ))
    }
}

/// POST /oversight/v1/expire (approver or auditor): records the hard
/// expiry of every authorisation past its end (the hub also does this on
/// its schedule).
pub async fn expire(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let people = directory(&s, t).await?;
    require_authority(me(&caller, &people)?)?;
    let ids = t
        .run(people, |w, now| w.expire_due(now))
        .await?
        .map_err(map_err)?;
    Ok(Json(json!({ "expired": ids })).into_response())
}

/// GET /oversight/v1/due (approver or auditor): reviews, destructions and
/// notifications that are due.
pub async fn due(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let people = directory(&s, t).await?;
    require_authority(me(&caller, &people)?)?;
    let now = t.now();
    let v = t
        .read(|w| {
            json!({
                "reviews_due": w.reviews_due(now),
                "destructions_overdue": w.destructions_overdue(now),
                "notifications_overdue": w.notifications_overdue(now),
            })
        })
        .await;
    Ok(Json(v).into_response())
}

/// Query of the transparency report.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    /// Period start, Unix seconds.
    pub from: Option<u64>,
    /// Period end (exclusive), Unix seconds.
    pub to: Option<u64>,
    /// `json` (default) or `text`.
    pub format: Option<String>,
}

/// GET /oversight/v1/report (public): the transparency report computed
/// from the log's entries at the latest published checkpoint.
pub async fn report(
    State(s): State<AppState>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let Some((cp, entries)) = t.published_entries().await? else {
        return Err(ApiError::NotFound("no checkpoint published yet".into()));
    };
    let r = vigil_oversight::transparency_report(
        &entries,
        &cp,
        (q.from.unwrap_or(0), q.to.unwrap_or(u64::MAX)),
    )
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(match q.format.as_deref() {
        None | Some("json") => {
            ([(header::CONTENT_TYPE, "application/json")], r.to_json()).into_response()
        }
        Some("text") => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            r.to_text(),
        )
            .into_response(),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?}: use json or text"
            )))
        }
    })
}

/// GET /oversight/v1/log (public): the log's origin, verifier key and
/// latest published checkpoint, so anyone can check it.
pub async fn log_info(State(s): State<AppState>) -> ApiResult<Response> {
    let t = tlog(&s)?;
    let cp = t.store().latest_checkpoint().await?;
    Ok(Json(json!({
        "origin": t.origin(),
        "verifier_key": t.verifier().to_vkey(),
        "size": t.log().size(),
        "checkpoint": cp.map(|c| c.note),
    }))
    .into_response())
}

/// Middleware: appends every administrative change made through the API
/// (`/admin/v1/…` and oversight role changes; organisations, users,
/// tokens, collections, grants) by an authenticated admin to the log
/// before it is carried out. Only salted hashes of the admin's name and
/// of the method and path reach the log; if the append fails, the change
/// is refused.
///
/// On a replica that does not hold the log (`--no-log`), requests to the
/// oversight API are first passed to the replica that does (see
/// [`forward_to_holder`]); they are logged there.
pub async fn log_admin_changes(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !s.records_actions() {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    if let (None, Some(q)) = (&s.transparency, &s.log_queue) {
        if path.starts_with("/oversight/v1/") {
            return forward_to_holder(&s, q, req).await;
        }
    }
    let admin_path = path.starts_with("/admin/v1/") || path.starts_with("/oversight/v1/roles/");
    if !admin_path || matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let caller = match <Caller as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &s,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Some(u) = caller.user().filter(|_| caller.is_admin()) {
        let subject = format!("{} {path}", parts.method);
        if let Err(e) = s
            .log_action(HubActionKind::AdminChange, &u.name, &subject)
            .await
        {
            return e.into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Middleware: before objects are added to a collection, every object that
/// the hub would store as TLP:RED is appended to the log as a TLP:RED
/// release (salted hashes of the submitter and of `collection/object id`),
/// for callers allowed to write there. If an append fails, nothing is
/// stored.
pub async fn log_red_releases(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !s.records_actions() {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let cid = path
        .strip_prefix("/api/collections/")
        .and_then(|r| r.strip_suffix("/objects/"))
        .filter(|c| !c.contains('/'))
        .map(str::to_string);
    let Some(cid) = cid.filter(|_| req.method() == Method::POST) else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, s.hub.config.max_content_length).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::TooLarge("the request body is too large".into()).into_response()
        }
    };
    let forward =
        |parts, bytes| next.run(Request::from_parts(parts, axum::body::Body::from(bytes)));
    let maybe_red = s.hub.config.default_tlp == vigil_store::Tlp::Red
        || bytes.windows(20).any(|w| w == b"marking-definition--");
    let caller =
        <Caller as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &s)
            .await;
    let (Ok(caller), true) = (caller, maybe_red) else {
        return forward(parts, bytes).await;
    };
    let Some(user) = caller.user().cloned() else {
        return forward(parts, bytes).await;
    };
    let may_write = match s.hub.store.collection(&cid).await {
        Ok(Some(c)) => match s.hub.store.grants(&c.id).await {
            Ok(g) => crate::auth::access(&caller, &c, &g).write,
            Err(_) => false,
        },
        _ => false,
    };
    let objects = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("objects")?.as_array().cloned())
        .unwrap_or_default();
    if may_write {
        let mut markings = crate::tlp::Markings::default();
        markings.learn(&objects);
        let red: Vec<String> = objects
            .iter()
            .filter(|o| markings.classify(o, s.hub.config.default_tlp) == vigil_store::Tlp::Red)
            .map(|o| {
                format!(
                    "{cid}/{}",
                    o.get("id").and_then(Value::as_str).unwrap_or("")
                )
            })
            .collect();
        if let Err(e) = s
            .log_actions(HubActionKind::TlpRedRelease, &user.name, &red)
            .await
        {
            return e.into_response();
        }
    }
    forward(parts, bytes).await
}

/// Header marking a request a replica passed on to the log holder, so that
/// a holder address pointing at a replica cannot make requests go round.
const FORWARDED: &str = "x-vigil-forwarded";

/// Request headers passed on to the log holder: the caller's own
/// credentials (the holder authenticates and authorises the caller exactly
/// as it does its own callers, against the same database) and the content
/// description.
const PASSED_ON: [&str; 3] = ["authorization", "content-type", "accept"];

/// Response headers passed back to the caller.
const PASSED_BACK: [&str; 2] = ["content-type", "www-authenticate"];

/// Answers an oversight request on a replica that does not hold the log by
/// passing it to the replica that does, at the URL it recorded in the
/// hub's settings ([`crate::tlog::HOLDER_SETTING`]) when it started, and
/// returning its answer unchanged. The workflow is one state machine whose
/// steps are decided and logged in order by one process, so a step taken
/// through any replica is checked against the same state, appended to the
/// same log before it takes effect, and answered with its log index.
/// Without a reachable holder the answer is 503 and nothing changes.
pub async fn forward_to_holder(s: &AppState, q: &crate::tlog::LogQueue, req: Request) -> Response {
    let unavailable = |why: &str| {
        crate::error::taxii_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the oversight API is answered by the replica holding the transparency log: {why}"
            ),
        )
    };
    if req.headers().contains_key(FORWARDED) {
        return unavailable("this replica does not hold it either");
    }
    let url = match s.hub.store.setting(crate::tlog::HOLDER_SETTING).await {
        Ok(Some(u)) => u,
        Ok(None) => return unavailable("no replica holding it has started"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        tracing::error!(setting = crate::tlog::HOLDER_SETTING, "not a URL");
        return unavailable("its address is not a URL");
    };
    let addr = rest.trim_end_matches('/').to_string();
    let connector = q.holder_connector(&url);
    let method = req.method().as_str().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = PASSED_ON
        .iter()
        .filter_map(|h| {
            let v = req.headers().get(*h)?.to_str().ok()?;
            Some((h.to_string(), v.to_string()))
        })
        .collect();
    let body = match axum::body::to_bytes(req.into_body(), s.hub.config.max_content_length).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::TooLarge("the request body is too large".into()).into_response()
        }
    };
    let has_body = !body.is_empty() || method == "POST" || method == "PUT";
    let sent = tokio::task::spawn_blocking(move || {
        let mut hs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        hs.push((FORWARDED, "1"));
        connector.request(&addr, &method, &target, &hs, has_body.then_some(&body[..]))
    })
    .await;
    let r = match sent {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::warn!(holder = %url, scheme, error = %e, "log holder not reachable");
            return unavailable("it is not reachable");
        }
        Err(e) => return ApiError::Internal(e.to_string()).into_response(),
    };
    let back: Vec<(&str, axum::http::HeaderValue)> = PASSED_BACK
        .iter()
        .filter_map(|h| {
            let v = axum::http::HeaderValue::from_str(r.header(h)?).ok()?;
            Some((*h, v))
        })
        .collect();
    let mut resp = Response::new(axum::body::Body::from(r.body));
    *resp.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (h, v) in back {
        resp.headers_mut().insert(h, v);
    }
    resp
}
