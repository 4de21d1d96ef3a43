//! Federation: pulling a collection from another TAXII 2.1 server (another
//! Vigil hub, medallion, OpenCTI, a MISP-fed server) into a local collection.
//!
//! A pull pages through the remote objects with `added_after` set to the
//! last checkpoint, retries failed requests with exponential back-off, and
//! stores each page like a TAXII POST from the hub itself: objects are
//! validated and classified, and those without a TLP marking get the hub's
//! default level (TLP:AMBER unless configured), so a marking is never
//! widened. The checkpoint and the provenance of the run (remote URL, time,
//! counts) are kept in the store's settings under `sync:<remote URL>`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{Connector, HttpResponse};
use crate::taxii::StatusBuilder;
use crate::{timestamp, AppState};

/// A remote collection to pull from or push to.
#[derive(Debug, Clone)]
pub struct Remote {
    /// `host:port` of the TAXII server.
    pub addr: String,
    /// Path of the remote collection, e.g. `/api/collections/<id>/`.
    pub collection_path: String,
    /// The `Authorization` header value, if any.
    pub authorization: Option<String>,
    /// Plain HTTP, or HTTPS with verified certificates.
    pub connector: Connector,
}

impl Remote {
    /// Parses `http://host:port/path/to/collection/` or `https://…`. HTTPS
    /// trusts the Mozilla root certificates; [`Remote::trust_ca_file`]
    /// replaces them with a private CA.
    pub fn parse(url: &str, authorization: Option<String>) -> Result<Remote, FederationError> {
        let (rest, connector, port) = if let Some(rest) = url.strip_prefix("http://") {
            (rest, Connector::plain(), 80)
        } else if let Some(rest) = url.strip_prefix("https://") {
            let connector =
                Connector::tls(None).map_err(|e| FederationError::Url(format!("{url}: {e}")))?;
            (rest, connector, 443)
        } else {
            return Err(FederationError::Url(format!(
                "{url}: only http:// and https:// URLs are supported"
            )));
        };
        let (addr, path) = rest.split_once('/').unwrap_or((rest, ""));
        if addr.is_empty() {
            return Err(FederationError::Url(format!("{url}: no host")));
        }
        let addr = if addr
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            addr.to_string()
        } else {
            format!("{addr}:{port}")
        };
        let mut path = format!("/{path}");
        if !path.ends_with('/') {
            path.push('/');
        }
        Ok(Remote {
            addr,
            collection_path: path,
            authorization,
            connector,
        })
    }

    /// Verifies the remote's certificate against the CA certificates in the
    /// PEM file `ca_file` (for partner hubs with a private CA).
    pub fn trust_ca_file(mut self, ca_file: &std::path::Path) -> Result<Remote, FederationError> {
        if !self.connector.is_tls() {
            return Err(FederationError::Url(format!(
                "{}: a CA file applies to https:// URLs only",
                self.url("")
            )));
        }
        self.connector =
            Connector::tls(Some(ca_file)).map_err(|e| FederationError::Url(e.to_string()))?;
        Ok(self)
    }

    /// The URL of `suffix` under the remote collection.
    pub fn url(&self, suffix: &str) -> String {
        let scheme = if self.connector.is_tls() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}{}{suffix}", self.addr, self.collection_path)
    }

    fn key(&self) -> String {
        format!("sync:{}", self.url(""))
    }

    fn send(&self, method: &str, path: &str, body: Option<&[u8]>) -> std::io::Result<HttpResponse> {
        let mut headers = vec![("Accept", "application/taxii+json;version=2.1")];
        if body.is_some() {
            headers.push(("Content-Type", "application/taxii+json;version=2.1"));
        }
        if let Some(a) = &self.authorization {
            headers.push(("Authorization", a.as_str()));
        }
        self.connector
            .request(&self.addr, method, path, &headers, body)
    }
}

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The remote URL is not usable.
    #[error("remote URL: {0}")]
    Url(String),
    /// The remote server kept failing.
    #[error("remote {url}: {detail}")]
    Remote {
        /// What was requested.
        url: String,
        /// The last failure.
        detail: String,
    },
    /// The local hub failed.
    #[error("local hub: {0}")]
    Local(String),
}

/// What a pull did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullReport {
    /// Pages fetched.
    pub pages: usize,
    /// Objects received.
    pub received: usize,
    /// Objects stored or already present.
    pub stored: usize,
    /// Objects rejected by validation.
    pub rejected: usize,
    /// The new checkpoint (`added_after` of the next pull).
    pub checkpoint: Option<String>,
}

const ATTEMPTS: u32 = 4;

async fn get_with_retries(remote: &Remote, path: String) -> Result<HttpResponse, FederationError> {
    let mut delay = Duration::from_millis(250);
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let r = remote.clone();
        let p = path.clone();
        let result = tokio::task::spawn_blocking(move || r.send("GET", &p, None))
            .await
            .map_err(|e| FederationError::Local(e.to_string()))?;
        match result {
            Ok(resp) if resp.status == 200 => return Ok(resp),
            // Client errors will not get better by retrying.
            Ok(resp) if (400..500).contains(&resp.status) && resp.status != 429 => {
                return Err(FederationError::Remote {
                    url: remote.url(&path),
                    detail: format!(
                        "HTTP {}: {}",
                        resp.status,
                        resp.text().chars().take(300).collect::<String>()
                    ),
                })
            }
            Ok(resp) => last = format!("HTTP {}", resp.status),
            Err(e) => last = e.to_string(),
        }
        if attempt < ATTEMPTS {
            tracing::warn!(attempt, error = %last, "remote request failed; retrying");
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Err(FederationError::Remote {
        url: remote.url(&path),
        detail: last,
    })
}

/// Finds the local end of a federation run.
async fn local_collection(
    state: &AppState,
    local: &str,
) -> Result<vigil_store::Collection, FederationError> {
    state
        .hub
        .store
        .collection(local)
        .await
        .map_err(|e| FederationError::Local(e.to_string()))?
        .ok_or_else(|| FederationError::Local(format!("no local collection {local:?}")))
}

/// Pulls everything added to `remote` since the last checkpoint into the
/// local collection `local` (id or alias).
pub async fn pull(
    state: &AppState,
    remote: &Remote,
    local: &str,
    page_size: usize,
) -> Result<PullReport, FederationError> {
    let hub = &state.hub;
    let local_err = |e: &dyn std::fmt::Display| FederationError::Local(e.to_string());
    let collection = local_collection(state, local).await?;
    let source = format!("http://{}{}", remote.addr, remote.collection_path);
    let key = remote.key();
    let previous: Option<Value> = hub
        .store
        .setting(&key)
        .await
        .map_err(|e| local_err(&e))?
        .and_then(|s| serde_json::from_str(&s).ok());
    let mut checkpoint = previous
        .as_ref()
        .and_then(|p| p["checkpoint"].as_str())
        .map(String::from);
    let mut report = PullReport::default();
    let mut next: Option<String> = None;
    loop {
        let mut q = vec![format!("limit={page_size}")];
        if let Some(c) = &checkpoint {
            q.push(format!("added_after={c}"));
        }
        if let Some(n) = &next {
            q.push(format!(
                "next={}",
                form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()
            ));
        }
        let path = format!("{}objects/?{}", remote.collection_path, q.join("&"));
        let resp = get_with_retries(remote, path).await?;
        report.pages += 1;
        let env: Value =
            serde_json::from_slice(&resp.body).map_err(|e| FederationError::Remote {
                url: remote.collection_path.clone(),
                detail: format!("response is not JSON: {e}"),
            })?;
        let objects = env["objects"].as_array().cloned().unwrap_or_default();
        report.received += objects.len();
        let mut st = StatusBuilder::default();
        let prepared = crate::taxii::prepare_as_hub(hub, &objects, &mut st);
        report.rejected += st.failures.len();
        let pulled: Vec<(String, String)> = prepared
            .iter()
            .map(|o| (o.id.clone(), o.version.clone()))
            .collect();
        crate::taxii::store_objects(hub, &collection.id, prepared, &mut st)
            .await
            .map_err(|e| local_err(&e))?;
        // Provenance per object: which partner collection it came from.
        hub.store
            .record_sources(&collection.id, &source, timestamp::now(), &pulled)
            .await
            .map_err(|e| local_err(&e))?;
        report.stored += st.successes.len();
        let more = env["more"] == true;
        next = env["next"].as_str().map(String::from);
        if !more || next.is_none() {
            // Only a complete run moves the checkpoint.
            if let Some(last) = resp.header("x-taxii-date-added-last") {
                if !objects.is_empty() {
                    checkpoint = Some(last.to_string());
                }
            }
            break;
        }
        if report.pages > 1_000_000 {
            break;
        }
    }
    report.checkpoint = checkpoint.clone();
    let provenance = json!({
        "checkpoint": checkpoint,
        "remote": remote.url(""),
        "local_collection": collection.id,
        "last_run": timestamp::format(timestamp::now()),
        "received": report.received,
        "stored": report.stored,
        "rejected": report.rejected,
    });
    hub.store
        .put_setting(&key, &provenance.to_string())
        .await
        .map_err(|e| local_err(&e))?;
    Ok(report)
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Objects sent.
    pub sent: usize,
    /// Objects the remote reported as stored.
    pub accepted: usize,
    /// Objects the remote refused.
    pub refused: usize,
}

/// Pushes the objects of local collection `local` added since the last push
/// to `remote`, in batches. Only objects at or below `max_tlp` are sent (a
/// push never shares more widely than the marking allows; TLP:GREEN is the
/// widest level that may leave the hub's community).
pub async fn push(
    state: &AppState,
    remote: &Remote,
    local: &str,
    max_tlp: vigil_store::Tlp,
    batch: usize,
) -> Result<PushReport, FederationError> {
    let hub = &state.hub;
    let local_err = |e: &dyn std::fmt::Display| FederationError::Local(e.to_string());
    let collection = local_collection(state, local).await?;
    let key = format!("push:{}", remote.url(""));
    let since: Option<i64> = hub
        .store
        .setting(&key)
        .await
        .map_err(|e| local_err(&e))?
        .and_then(|s| s.parse().ok());
    let visibility = vigil_store::Visibility {
        level: max_tlp,
        org_id: None,
        user_id: None,
        strict: false,
        red: false,
    };
    let mut q = vigil_store::ObjectQuery::new(&collection.id, visibility);
    q.versions = vigil_store::VersionMatch::all();
    q.added_after = since;
    q.limit = batch.max(1);
    let mut report = PushReport::default();
    loop {
        let page = hub
            .store
            .query_objects(&q)
            .await
            .map_err(|e| local_err(&e))?;
        let Some(last) = page.objects.last() else {
            break;
        };
        let cursor = vigil_store::Cursor {
            date_added: last.date_added,
            pk: last.pk,
        };
        let bodies: Vec<&str> = page
            .objects
            .iter()
            .filter_map(|o| o.body.as_deref())
            .collect();
        let body = format!("{{\"objects\":[{}]}}", bodies.join(","));
        report.sent += bodies.len();
        let r = remote.clone();
        let resp = tokio::task::spawn_blocking(move || {
            r.send(
                "POST",
                &format!("{}objects/", r.collection_path),
                Some(body.as_bytes()),
            )
        })
        .await
        .map_err(|e| local_err(&e))?
        .map_err(|e| FederationError::Remote {
            url: remote.collection_path.clone(),
            detail: e.to_string(),
        })?;
        if resp.status != 202 && resp.status != 200 {
            return Err(FederationError::Remote {
                url: remote.url("objects/"),
                detail: format!(
                    "HTTP {}: {}",
                    resp.status,
                    resp.text().chars().take(300).collect::<String>()
                ),
            });
        }
        let status: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        report.accepted += status["success_count"].as_u64().unwrap_or(0) as usize;
        report.refused += status["failure_count"].as_u64().unwrap_or(0) as usize;
        hub.store
            .put_setting(&key, &cursor.date_added.to_string())
            .await
            .map_err(|e| local_err(&e))?;
        if !page.more {
            break;
        }
        q.after = Some(cursor);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_remote_urls() {
        let r = Remote::parse("http://hub.example:8080/api/collections/abc", None).unwrap();
        assert_eq!(r.addr, "hub.example:8080");
        assert_eq!(r.collection_path, "/api/collections/abc/");
        assert_eq!(Remote::parse("http://h/x/", None).unwrap().addr, "h:80");
        let tls = Remote::parse("https://h/x/", None).unwrap();
        assert_eq!(tls.addr, "h:443");
        assert!(tls.connector.is_tls());
        assert_eq!(tls.url("objects/"), "https://h:443/x/objects/");
        assert!(Remote::parse("ftp://h/x/", None).is_err());
        assert!(Remote::parse("http://h/x/", None)
            .unwrap()
            .trust_ca_file(std::path::Path::new("ca.pem"))
            .is_err());
        assert!(Remote::parse("http:///x", None).is_err());
    }
}
