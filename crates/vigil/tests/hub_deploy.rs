//! Deployment tests of `vigil serve`: HTTPS termination with a certificate
//! from a private CA (checked by verifying clients, ours and Python's), hub
//! to hub federation over HTTPS, and two replicas sharing one PostgreSQL
//! database (skipped without `VIGIL_TEST_POSTGRES_URL`, unless
//! `VIGIL_REQUIRE_POSTGRES=1`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vigil_server::client::{Connector, HttpResponse};

mod hubproc;
use hubproc::{launch, temp_dir as scratch};

const TAXII: &str = "application/taxii+json;version=2.1";

fn get(c: &Connector, addr: &str, path: &str, token: Option<&str>) -> HttpResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Accept", TAXII)];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    c.request(addr, "GET", path, &headers, None)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn post(c: &Connector, addr: &str, path: &str, token: &str, body: &Value) -> HttpResponse {
    let auth = format!("Bearer {token}");
    c.request(
        addr,
        "POST",
        path,
        &[
            ("Accept", TAXII),
            ("Content-Type", TAXII),
            ("Authorization", &auth),
        ],
        Some(body.to_string().as_bytes()),
    )
    .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

fn json_of(r: &HttpResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.text()))
}

fn indicator(n: usize) -> Value {
    json!({"type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--5e1f0000-0000-4000-8000-{n:012}"),
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": format!("[domain-name:value = 'c2-{n}.example']"), "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]})
}

/// A private CA and a certificate it signed for `localhost` and 127.0.0.1,
/// written as `ca.pem`, `hub.pem` and `hub.key` in `dir`.
fn private_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Vigil test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("hub.pem"), dir.join("hub.key"));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    (paths.0, paths.1, paths.2)
}

fn vigil(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env("VIGIL_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn tls_termination_and_federation_over_https() {
    let dir = scratch("tls");
    let (ca, cert, key) = private_ca(&dir);
    let (ca_s, cert_s, key_s) = (
        ca.to_str().unwrap(),
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
    );
    // Hub A: TLS from flags, with the bundled registry.
    let dir_a = dir.join("a");
    std::fs::create_dir_all(&dir_a).unwrap();
    let a = launch(&dir_a, &["--tls-cert", cert_s, "--tls-key", key_s]);
    assert_eq!(a.scheme, "https");
    let verified = Connector::tls(Some(&ca)).unwrap();
    let r = get(&verified, &a.addr, "/taxii2/", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json_of(&r)["api_roots"][0], "/api/");
    let r = get(&verified, &a.addr, "/api/collections/indicators/", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let indicators = json_of(&r)["id"].as_str().unwrap().to_string();

    // Certificates are verified: Mozilla roots do not know our CA, and a
    // name the certificate does not carry is refused.
    let err = Connector::tls(None)
        .unwrap()
        .request(&a.addr, "GET", "/taxii2/", &[], None)
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("unknown"),
        "untrusted issuer: {err}"
    );
    let port = a.addr.rsplit_once(':').unwrap().1;
    // Plain HTTP on the TLS port gets no TAXII answer.
    assert!(
        vigil_server::client::request(&a.addr, "GET", "/taxii2/", &[], None)
            .map_or(true, |r| r.status != 200)
    );

    // An independent client: Python's ssl module, verifying against the CA;
    // it also refuses the certificate for a name it does not carry.
    let python = std::env::var("VIGIL_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import ssl,sys,urllib.request,json,socket\n\
        ctx=ssl.create_default_context(cafile=sys.argv[1])\n\
        req=urllib.request.Request(sys.argv[2],headers={'Accept':'application/taxii+json;version=2.1'})\n\
        r=urllib.request.urlopen(req,context=ctx)\n\
        print(r.status, r.headers['Content-Type'], json.load(r)['title'])\n\
        hub=('127.0.0.1',int(sys.argv[3]))\n\
        print(ctx.wrap_socket(socket.create_connection(hub),server_hostname='localhost').version())\n\
        try:\n ctx.wrap_socket(socket.create_connection(hub),server_hostname='other.example')\n\
        except ssl.SSLCertVerificationError as e:\n print('refused:',e.verify_message)";
    let out = Command::new(&python)
        .args(["-c", script, ca_s])
        .arg(format!("https://localhost:{port}/api/"))
        .arg(port)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("200 application/taxii+json;version=2.1 Vigil hub\nTLSv1."),
        "{stdout}"
    );
    assert!(stdout.contains("refused: Hostname mismatch"), "{stdout}");

    // Hub B: TLS from its configuration file, pulling A's public indicators
    // on a schedule over HTTPS, trusting the private CA. They carry no TLP
    // marking, so B files them under its default level, CLEAR here.
    let dir_b = dir.join("b");
    std::fs::create_dir_all(&dir_b).unwrap();
    let data_b = dir_b.join("vigil-data");
    let data_b_s = data_b.to_str().unwrap();
    let out = vigil(&[
        "serve",
        "--data-dir",
        data_b_s,
        "--no-registry",
        "collection",
        "Partners",
        "--alias",
        "partners",
    ]);
    assert!(out.status.success(), "{out:?}");
    let config = dir_b.join("hub.toml");
    std::fs::write(
        &config,
        format!("tls_cert = {cert_s:?}\ntls_key = {key_s:?}\ndefault_tlp = \"CLEAR\"\n"),
    )
    .unwrap();
    let from = format!("https://localhost:{port}/api/collections/{indicators}/");
    let b = launch(
        &dir_b,
        &[
            "--config",
            config.to_str().unwrap(),
            "--no-registry",
            "--sync-from",
            &from,
            "--sync-into",
            "partners",
            "--sync-ca-file",
            ca_s,
            "--sync-interval",
            "1",
        ],
    );
    assert_eq!(b.scheme, "https");
    let tb = b.token.clone().unwrap();
    let expected = count(&verified, &a.addr, None, &indicators);
    assert!(expected > 100, "{expected} public indicators on A");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = count(&verified, &b.addr, Some(&tb), "partners");
        if n == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "scheduled pull over HTTPS: {n} of {expected} objects on B"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // `vigil sync pull` over HTTPS: refused without the CA, done with it.
    let dir_c = dir.join("c");
    let data_c = dir_c.join("vigil-data");
    let data_c_s = data_c.to_str().unwrap();
    let out = vigil(&[
        "serve",
        "--data-dir",
        data_c_s,
        "--no-registry",
        "collection",
        "Mirror",
        "--alias",
        "mirror",
    ]);
    assert!(out.status.success(), "{out:?}");
    let pull = |ca: Option<&str>| {
        let mut args = vec![
            "sync",
            "pull",
            "--from",
            &from,
            "--into",
            "mirror",
            "--data-dir",
            data_c_s,
        ];
        if let Some(ca) = ca {
            args.extend(["--ca-file", ca]);
        }
        vigil(&args)
    };
    let refused = pull(None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .to_lowercase()
            .contains("certificate"),
        "{refused:?}"
    );
    let done = pull(Some(ca_s));
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(done.status.success(), "{done:?}");
    assert!(
        stdout.starts_with(&format!("pulled {expected} objects")),
        "{stdout}"
    );
    drop((a, b));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Objects of a collection, counted by paging through it.
fn count(c: &Connector, addr: &str, token: Option<&str>, cid: &str) -> usize {
    page_ids(&[(c, addr)], token, cid, 5000).len()
}

/// Every object id of a collection, following `next` and sending each page
/// request to the next of `hubs` in turn.
fn page_ids(
    hubs: &[(&Connector, &str)],
    token: Option<&str>,
    cid: &str,
    limit: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    for turn in 0.. {
        let (c, addr) = hubs[turn % hubs.len()];
        let path = match &next {
            Some(n) => format!("/api/collections/{cid}/objects/?limit={limit}&next={n}"),
            None => format!("/api/collections/{cid}/objects/?limit={limit}"),
        };
        let r = get(c, addr, &path, token);
        assert_eq!(r.status, 200, "{addr}{path}: {}", r.text());
        let j = json_of(&r);
        ids.extend(
            j["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["id"].as_str().map(String::from)),
        );
        if j["more"] != true {
            break;
        }
        next = Some(j["next"].as_str().expect("next with more").to_string());
    }
    ids
}

fn postgres_url() -> Option<String> {
    match std::env::var("VIGIL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("VIGIL_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "VIGIL_REQUIRE_POSTGRES=1 but VIGIL_TEST_POSTGRES_URL is not set"
            );
            eprintln!("skipped: VIGIL_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

#[test]
fn two_replicas_share_one_postgresql_database() {
    let Some(url) = postgres_url() else {
        return;
    };
    let database = hubproc::pg_schema_url(&url, &format!("replicas_{}", std::process::id()));
    let dir = scratch("replicas");
    let one = launch(&dir, &["--database", &database, "--no-registry"]);
    // One transparency log per folder: a second replica in the same folder
    // that also tries to hold the log is refused and told what to do.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--database", &database, "--no-registry"])
        .current_dir(&dir)
        .env("VIGIL_LOG", "warn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains("held by another process") && err.contains("--no-log"),
        "{err}"
    );
    let two = launch(
        &dir,
        &["--database", &database, "--no-registry", "--no-log"],
    );
    let token = one
        .token
        .clone()
        .expect("first replica initialises the database");
    assert_eq!(two.token, None, "the second replica finds it initialised");
    let plain = Connector::plain();
    let r = plain
        .request(
            &one.addr,
            "POST",
            "/admin/v1/collections",
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", TAXII),
            ],
            Some(br#"{"title":"cases","alias":"cases"}"#),
        )
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    // Post on replica one, read the status resource from replica two.
    let objects: Vec<Value> = (0..25).map(indicator).collect();
    let r = post(
        &plain,
        &one.addr,
        "/api/collections/cases/objects/",
        &token,
        &json!({ "objects": objects }),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let status = json_of(&r);
    assert_eq!(status["success_count"], 25, "{status}");
    let sid = status["id"].as_str().unwrap();
    let r = get(
        &plain,
        &two.addr,
        &format!("/api/status/{sid}/"),
        Some(&token),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        json_of(&r),
        status,
        "the same status resource on both replicas"
    );
    // Page through the collection, alternating replicas with `next` tokens.
    let hubs = [(&plain, one.addr.as_str()), (&plain, two.addr.as_str())];
    let ids = page_ids(&hubs, Some(&token), "cases", 4);
    let mut expected: Vec<String> = objects
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, expected, "7 pages, in order, each object once");
    // And the other way round, starting on replica two.
    let hubs = [(&plain, two.addr.as_str()), (&plain, one.addr.as_str())];
    let mut again = page_ids(&hubs, Some(&token), "cases", 3);
    again.sort();
    expected.sort();
    assert_eq!(again, expected);
    // A forged `next` token is refused.
    let r = get(
        &plain,
        &two.addr,
        "/api/collections/cases/objects/?limit=4&next=AAAAAAAAAAAAAAAAAAAAAAAA",
        Some(&token),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    drop((one, two));
    let _ = std::fs::remove_dir_all(&dir);
}
