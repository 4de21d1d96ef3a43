//! A `vigil serve` process on a free loopback port, for end-to-end tests
//! (shared by the test binaries that drive the hub from outside).

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running hub; killed and reaped when dropped.
pub struct Hub {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http`, or `https` when the hub terminates TLS.
    pub scheme: String,
    /// The admin token printed on first start (none when the database was
    /// already initialised).
    pub token: Option<String>,
}

impl Hub {
    /// Kills the hub with SIGKILL (no chance to flush or clean up) and reaps it.
    pub fn sigkill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.sigkill();
    }
}

/// Starts `vigil serve` with its data in `dir`.
pub fn start(dir: &Path) -> Hub {
    launch(dir, &[])
}

/// Starts `vigil serve` in `dir` with extra arguments (`--database`,
/// `--tls-cert` …) and waits until it listens.
pub fn launch(dir: &Path, args: &[&str]) -> Hub {
    let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir)
        .env("VIGIL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // The guard owns the child from here on, so a failed start is reaped.
    let mut hub = Hub {
        child,
        addr: String::new(),
        scheme: String::new(),
        token: None,
    };
    let mut lines = BufReader::new(hub.child.stdout.take().unwrap()).lines();
    loop {
        let line = lines
            .next()
            .expect("the hub exited before listening")
            .unwrap();
        if let Some(t) = line.strip_prefix("admin token (shown once, keep it safe): ") {
            hub.token = Some(t.trim().to_string());
        }
        if let Some(url) = line.strip_prefix("vigil hub listening on ") {
            let (scheme, rest) = url.split_once("://").expect("a URL");
            hub.scheme = scheme.to_string();
            hub.addr = rest.trim_end_matches("/taxii2/").to_string();
            return hub;
        }
    }
}

/// An oversight authorisation request (Pegasus, a suspect, location data
/// in XX, 30 days) as the oversight API takes it.
pub const AUTHORISATION_REQUEST: &str = r#"{"tool": {"registry_id": "malware--0a5b5a3c-7a43-4bd1-9f1f-4d4c7e7f2f1e",
 "vendor_id": "identity--6b2c8a1e-1d2f-4a5b-9c3d-7e8f9a0b1c2d", "product": "Pegasus", "export_licence": "IL-1"},
 "legal_basis": {"jurisdiction": "XX", "instrument": "CCP", "provision": "100b"},
 "purpose": "p", "offence_category": "kidnapping", "target_category": "suspect", "target_ref": "t",
 "scope": {"max_devices": 100, "data_types": ["location"], "geography": ["XX"]},
 "assessment": {"necessity": "n", "proportionality": "p", "alternatives": [{"means": "m", "why_rejected": "w"}],
   "collateral_intrusion": "c"}, "duration_days": 30}"#;

/// Runs `vigil ARGS` in `dir` (hub logs at warn) and returns its standard
/// output; fails the test unless it exits 0.
pub fn vigil_ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(dir)
        .env("VIGIL_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One JSON request to the hub at `addr`, with a bearer token if given:
/// the status and the body as JSON (`Null` if it is not JSON); status 0
/// when the hub cannot be reached.
pub fn json_call(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    match vigil_server::client::request(addr, method, path, &headers, body.map(str::as_bytes)) {
        Ok(r) => (
            r.status,
            serde_json::from_str(&r.text()).unwrap_or(serde_json::Value::Null),
        ),
        Err(_) => (0, serde_json::Value::Null),
    }
}

/// A fresh temporary folder named after the test (a new one on every call),
/// removed with everything in it when dropped.
pub fn temp_dir(name: &str) -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "vigil_{name}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

/// A folder that is deleted when dropped (declare it before the hub that
/// uses it, so the hub stops first).
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database URL for a test of several processes on the test PostgreSQL
/// `url`: a schema of its own (created here) named `schema`, so the test
/// does not see other runs' tables.
pub fn pg_schema_url(url: &str, schema: &str) -> String {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(vigil_store::PgStore::connect(url, Some(schema)))
        .expect("creating the test schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}
