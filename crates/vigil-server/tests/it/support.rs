//! A hub on a temporary SQLite database, driven in-process with `oneshot`.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;
use vigil_server::{bootstrap, AppState, HubConfig};

pub const TAXII: &str = "application/taxii+json;version=2.1";

static N: AtomicUsize = AtomicUsize::new(0);

pub struct TestHub {
    pub app: Router,
    pub admin: String,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn hub_with(config: HubConfig) -> TestHub {
    let dir = std::env::temp_dir().join(format!(
        "vigil_server_test_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = vigil_store::open(dir.join("hub.db").to_str().unwrap())
        .await
        .unwrap();
    hub_on(store, config).await
}

/// A hub on PostgreSQL in a fresh schema; None when no test database is configured.
pub async fn hub_on_postgres() -> Option<TestHub> {
    let url = vigil_testkit::postgres_url()?;
    let schema = format!(
        "hub_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let store = vigil_store::PgStore::connect(&url, Some(&schema))
        .await
        .unwrap();
    vigil_store::Store::migrate(&store).await.unwrap();
    Some(hub_on(std::sync::Arc::new(store), HubConfig::default()).await)
}

async fn hub_on(store: std::sync::Arc<dyn vigil_store::Store>, config: HubConfig) -> TestHub {
    let state = AppState::new(store, config).await.unwrap();
    let first = bootstrap::first_start(&state, Vec::new()).await.unwrap();
    TestHub {
        app: vigil_server::router(state),
        admin: first
            .admin_token
            .expect("a fresh hub prints an admin token"),
    }
}

pub async fn hub() -> TestHub {
    hub_with(HubConfig::default()).await
}

pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

impl TestHub {
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Resp {
        self.call_with(
            method,
            uri,
            auth,
            body.map(|b| b.to_string()),
            &[("accept", TAXII), ("content-type", TAXII)],
        )
        .await
    }

    pub async fn call_with(
        &self,
        method: Method,
        uri: &str,
        auth: Auth<'_>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b = match auth {
            Auth::None => b,
            Auth::Bearer(t) => b.header("authorization", format!("Bearer {t}")),
            Auth::Basic(u, p) => b.header(
                "authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                ),
            ),
        };
        let req = b
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Resp {
        self.call(
            Method::GET,
            uri,
            token.map_or(Auth::None, Auth::Bearer),
            None,
        )
        .await
    }

    pub async fn post(&self, uri: &str, token: Option<&str>, body: &Value) -> Resp {
        self.call(
            Method::POST,
            uri,
            token.map_or(Auth::None, Auth::Bearer),
            Some(body),
        )
        .await
    }

    /// Creates an organisation through the admin API; returns its id.
    pub async fn org(&self, name: &str) -> i64 {
        let r = self
            .post(
                "/admin/v1/orgs",
                Some(&self.admin),
                &serde_json::json!({"name": name, "kind": "civil-society"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()["id"].as_i64().unwrap()
    }

    /// Creates a user and a token; returns (user id, token).
    pub async fn user(&self, name: &str, org: Option<i64>, role: &str) -> (i64, String) {
        let r = self
            .post(
                "/admin/v1/users",
                Some(&self.admin),
                &serde_json::json!({"name": name, "org_id": org, "role": role}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.json()["id"].as_i64().unwrap();
        let r = self
            .post(
                &format!("/admin/v1/users/{id}/tokens"),
                Some(&self.admin),
                &serde_json::json!({"label": "test"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        (id, r.json()["token"].as_str().unwrap().to_string())
    }

    /// Creates a collection; returns its id.
    pub async fn collection(&self, alias: &str, public: bool, owner: Option<i64>) -> String {
        let r = self
            .post("/admin/v1/collections", Some(&self.admin), &serde_json::json!({"title": alias, "alias": alias, "public": public, "owner_org": owner}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()["id"].as_str().unwrap().to_string()
    }

    pub async fn grant(&self, cid: &str, kind: &str, id: i64, read: bool, write: bool) {
        let r = self
            .call(
                Method::PUT,
                &format!("/admin/v1/collections/{cid}/grants"),
                Auth::Bearer(&self.admin),
                Some(&serde_json::json!({"subject": {"kind": kind, "id": id}, "can_read": read, "can_write": write})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
}

/// A STIX indicator with a fixed id suffix and version.
pub fn indicator(n: u32, modified: &str, markings: &[&str]) -> Value {
    let mut v = serde_json::json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "pattern": "[domain-name:value = 'example.com']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    });
    if !markings.is_empty() {
        v["object_marking_refs"] = serde_json::json!(markings);
    }
    v
}

pub fn envelope(objects: Vec<Value>) -> Value {
    serde_json::json!({ "objects": objects })
}

/// Asserts a response is a TAXII error with this status.
pub fn assert_taxii_error(r: &Resp, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.header("content-type"), Some(TAXII), "error media type");
    let j = r.json();
    assert_eq!(j["http_status"], status.as_u16().to_string(), "{}", r.text);
    assert!(
        j["title"].is_string() && j["description"].is_string(),
        "{}",
        r.text
    );
}
