//! Administration and REST extras beside TAXII: organisations, users,
//! tokens, collections and grants (admin role), who-am-I and statistics.
//!
//! To add a REST endpoint: write an `async fn` taking `State<AppState>`,
//! a [`Caller`] and what it needs, compute access with
//! [`crate::auth::access`] for every collection it reads (TLP is then
//! applied by the store), return `ApiResult<Json<…>>`, add a `.route` in
//! [`crate::router`] and a path in [`crate::openapi`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vigil_store::{
    Grant, NewCollection, NewToken, ObjectQuery, OrgKind, Role, Subject, VersionMatch,
};

use crate::auth::{access, generate_token, Caller};
use crate::error::{ApiError, ApiResult};
use crate::{timestamp, AppState};

/// Body of `POST /admin/v1/orgs`.
#[derive(Debug, Deserialize)]
pub struct NewOrg {
    /// Unique name.
    pub name: String,
    /// `government`, `industry`, `civil-society` or `public`.
    pub kind: OrgKind,
}

/// POST /admin/v1/orgs
pub async fn create_org(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<NewOrg>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let org = s.hub.store.create_org(&b.name, b.kind).await?;
    Ok((StatusCode::CREATED, Json(org)).into_response())
}

/// GET /admin/v1/orgs
pub async fn list_orgs(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require_admin()?;
    Ok(Json(json!({ "organisations": s.hub.store.orgs().await? })).into_response())
}

/// Body of `POST /admin/v1/users`.
#[derive(Debug, Deserialize)]
pub struct NewUser {
    /// Unique login name.
    pub name: String,
    /// Organisation id.
    pub org_id: Option<i64>,
    /// `reader`, `contributor` or `admin`.
    pub role: Role,
}

/// POST /admin/v1/users
pub async fn create_user(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<NewUser>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let user = s.hub.store.create_user(&b.name, b.org_id, b.role).await?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// GET /admin/v1/users
pub async fn list_users(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require_admin()?;
    Ok(Json(json!({ "users": s.hub.store.users().await? })).into_response())
}

/// Body of `POST /admin/v1/users/{id}/tokens`.
#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    /// A label to recognise the token by.
    #[serde(default)]
    pub label: String,
    /// Lifetime in days (no expiry when absent).
    pub expires_in_days: Option<u32>,
}

/// Creates a token for a user and returns its secret (shown once).
pub async fn issue_token(
    store: &dyn vigil_store::Store,
    user_id: i64,
    label: &str,
    expires_in_days: Option<u32>,
) -> Result<(vigil_store::TokenInfo, String), vigil_store::StoreError> {
    let secret = generate_token();
    let now = timestamp::now();
    let info = store
        .create_token(NewToken {
            user_id,
            hash: secret.hash,
            label: label.to_string(),
            created: now,
            expires: expires_in_days.map(|d| now + i64::from(d) * 86_400 * 1_000_000),
        })
        .await?;
    Ok((info, secret.token))
}

/// POST /admin/v1/users/{id}/tokens — the response is the only time the secret is shown.
pub async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
    Json(b): Json<TokenRequest>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let (info, token) =
        issue_token(s.hub.store.as_ref(), user_id, &b.label, b.expires_in_days).await?;
    tracing::info!(token_id = info.id, user_id, "token created");
    let body = json!({
        "id": info.id,
        "user_id": info.user_id,
        "label": info.label,
        "expires": info.expires.map(timestamp::format),
        "token": token,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// GET /admin/v1/users/{id}/tokens (never the secrets)
pub async fn list_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    Ok(Json(json!({ "tokens": s.hub.store.tokens(user_id).await? })).into_response())
}

/// DELETE /admin/v1/tokens/{id}
pub async fn revoke_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    if s.hub.store.revoke_token(id, timestamp::now()).await? {
        tracing::info!(token_id = id, "token revoked");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!("no token {id}")))
    }
}

/// Body of `POST /admin/v1/collections`.
#[derive(Debug, Deserialize)]
pub struct CollectionRequest {
    /// Title.
    pub title: String,
    /// Unique alias.
    pub alias: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Readable without authentication (TLP:CLEAR objects only).
    #[serde(default)]
    pub public: bool,
    /// Owning organisation (recipient of TLP:AMBER+STRICT).
    pub owner_org: Option<i64>,
}

/// POST /admin/v1/collections
pub async fn create_collection(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<CollectionRequest>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let c = s
        .hub
        .store
        .create_collection(&NewCollection {
            id: uuid::Uuid::new_v4().to_string(),
            alias: b.alias,
            title: b.title,
            description: b.description,
            public: b.public,
            owner_org: b.owner_org,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

/// Body of `PUT /admin/v1/collections/{cid}/grants`.
#[derive(Debug, Deserialize)]
pub struct GrantRequest {
    /// `{"kind": "org", "id": 3}` or `{"kind": "user", "id": 7}`.
    pub subject: Subject,
    /// May read.
    pub can_read: bool,
    /// May write.
    pub can_write: bool,
}

/// PUT /admin/v1/collections/{cid}/grants
pub async fn set_grant(
    State(s): State<AppState>,
    caller: Caller,
    Path(cid): Path<String>,
    Json(b): Json<GrantRequest>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let c = s
        .hub
        .store
        .collection(&cid)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no collection {cid:?}")))?;
    s.hub
        .store
        .set_grant(&Grant {
            collection_id: c.id,
            subject: b.subject,
            can_read: b.can_read,
            can_write: b.can_write,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET /admin/v1/collections/{cid}/grants
pub async fn list_grants(
    State(s): State<AppState>,
    caller: Caller,
    Path(cid): Path<String>,
) -> ApiResult<Response> {
    caller.require_admin()?;
    let c = s
        .hub
        .store
        .collection(&cid)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no collection {cid:?}")))?;
    Ok(Json(json!({ "grants": s.hub.store.grants(&c.id).await? })).into_response())
}

/// GET /rest/v1/whoami
pub async fn whoami(caller: Caller) -> Json<Value> {
    Json(match caller.user() {
        None => json!({ "anonymous": true }),
        Some(u) => json!({ "anonymous": false, "user": u }),
    })
}

/// GET /rest/v1/stats — object counts of the collections the caller reads
/// (newest versions, all versions, and newest versions by STIX type),
/// counting only the objects the caller may see.
pub async fn stats(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let mut out = Vec::new();
    for c in s.hub.store.collections().await? {
        let grants = s.hub.store.grants(&c.id).await?;
        let a = access(&caller, &c, &grants);
        if !a.read {
            continue;
        }
        let mut q = ObjectQuery::new(&c.id, a.visibility);
        q.bodies = false;
        let mut types: std::collections::BTreeMap<String, u64> = Default::default();
        let mut latest = 0u64;
        crate::rest::scan(&s, q.clone(), |o, _| {
            latest += 1;
            *types.entry(o.stix_type.clone()).or_default() += 1;
            true
        })
        .await?;
        q.versions = VersionMatch::all();
        let versions = s.hub.store.count_objects(&q).await?;
        out.push(json!({ "id": c.id, "alias": c.alias, "title": c.title, "objects": latest, "versions": versions, "types": types }));
    }
    Ok(Json(json!({ "collections": out })))
}
