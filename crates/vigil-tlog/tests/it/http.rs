use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use vigil_ledger::witness::Witness;
use vigil_ledger::{verify_checkpoint, Checkpoint};
use vigil_tlog::client::{
    agent, collect_cosignatures, fetch_checkpoint, HttpTileReader, WitnessEndpoint,
};
use vigil_tlog::monitor::{Monitor, Observation};
use vigil_tlog::witness::{witness_router, FileWitnessStore, WitnessService};
use vigil_tlog::{reader_router, router, Log, Options, TlogError};

use crate::{log_key, witness_key};

/// Serves `app` on a loopback port from a background runtime.
fn serve(app: axum::Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>, Option<String>) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let cc = resp
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body, cc)
}

#[tokio::test]
async fn tiles_and_checkpoint_are_served_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::open(dir.path(), Options::default()).unwrap());
    let app = router(log.clone());
    assert_eq!(get(&app, "/checkpoint").await.0, StatusCode::NOT_FOUND);
    let entries: Vec<Vec<u8>> = (0..300).map(|k| format!("e{k}").into_bytes()).collect();
    log.append_batch(entries.clone()).unwrap();
    let key = log_key();
    let note = log.sign_checkpoint(&key).unwrap();
    log.publish_checkpoint(&note).unwrap();

    let (s, body, cc) = get(&app, "/checkpoint").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, note.to_text().into_bytes());
    assert_eq!(cc.as_deref(), Some("no-cache"));
    let (s, body, cc) = get(&app, "/tile/0/000").await;
    assert_eq!((s, body.len()), (StatusCode::OK, 256 * 32));
    assert!(cc.unwrap().contains("immutable"));
    let (s, body, _) = get(&app, "/tile/0/001.p/44").await;
    assert_eq!((s, body.len()), (StatusCode::OK, 44 * 32));
    let (s, body, _) = get(&app, "/tile/entries/001.p/44").await;
    assert_eq!(s, StatusCode::OK);
    let decoded = vigil_ledger::tiles::decode_bundle(&body).unwrap();
    assert_eq!(decoded.len(), 44);
    assert_eq!(decoded[43], entries[299].as_slice());
    for missing in [
        "/tile/0/001.p/45",
        "/tile/0/001",
        "/tile/1/000",
        "/tile/0/1",
        "/tile/../state",
        "/state",
    ] {
        assert_eq!(
            get(&app, missing).await.0,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

/// A directory served without the writer lock, while a writer appends
/// and publishes: each request beyond what was served before sees the new
/// batches and the new checkpoint.
#[tokio::test]
async fn reader_router_follows_another_writer() {
    let dir = tempfile::tempdir().unwrap();
    let app = reader_router(dir.path().to_path_buf());
    assert_eq!(get(&app, "/checkpoint").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/tile/0/000.p/1").await.0, StatusCode::NOT_FOUND);
    let log = Log::open(dir.path(), Options::default()).unwrap();
    let key = log_key();
    let entries: Vec<Vec<u8>> = (0..300).map(|k| format!("e{k}").into_bytes()).collect();
    log.append_batch(entries[..10].to_vec()).unwrap();
    log.publish_checkpoint(&log.sign_checkpoint(&key).unwrap())
        .unwrap();
    let (s, body, _) = get(&app, "/tile/0/000.p/10").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        log.reader()
            .tile_bytes(&vigil_ledger::tiles::TileId::parse_path("tile/0/000.p/10").unwrap())
            .unwrap()
    );
    assert_eq!(get(&app, "/tile/0/000.p/11").await.0, StatusCode::NOT_FOUND);
    // More entries while the writer stays open (journal only), then a new
    // checkpoint.
    log.append_batch(entries[10..].to_vec()).unwrap();
    let note = log.sign_checkpoint(&key).unwrap();
    log.publish_checkpoint(&note).unwrap();
    let (s, body, _) = get(&app, "/checkpoint").await;
    assert_eq!((s, body), (StatusCode::OK, note.to_text().into_bytes()));
    let (s, body, _) = get(&app, "/tile/entries/001.p/44").await;
    assert_eq!(s, StatusCode::OK);
    let decoded = vigil_ledger::tiles::decode_bundle(&body).unwrap();
    assert_eq!(decoded[43], entries[299].as_slice());
    let (s, body, _) = get(&app, "/tile/0/000").await;
    assert_eq!((s, body.len()), (StatusCode::OK, 256 * 32));
    // The reader never took the lock: the writer is the only one.
    assert!(matches!(
        Log::open(dir.path(), Options::default()),
        Err(TlogError::Locked { .. })
    ));
    drop(log);
    assert!(Log::open(dir.path(), Options::default()).is_ok());
}

fn witness_service(
    dir: &std::path::Path,
    name: &str,
    logs: Vec<vigil_ledger::Verifier>,
) -> (Arc<WitnessService>, vigil_ledger::Verifier) {
    let key = witness_key(name);
    let v = key.verifier();
    let svc = WitnessService::new(
        Witness::new(key, logs).unwrap(),
        FileWitnessStore::open(dir).unwrap(),
    );
    (Arc::new(svc), v)
}

/// A log collects cosignatures from a quorum of two witnesses over HTTP,
/// twice (the second time the witnesses answer 409 with their size first),
/// and a restarted witness remembers what it cosigned.
#[test]
fn quorum_of_witnesses_cosigns_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let key = log_key();
    let log = Log::open(&dir.path().join("log"), Options::default()).unwrap();
    let mut endpoints = Vec::new();
    let mut services = Vec::new();
    for name in ["ombudsman.example/w", "partner.example/w"] {
        let (svc, v) = witness_service(
            &dir.path().join(name.replace('/', "_")),
            name,
            vec![key.verifier()],
        );
        endpoints.push(WitnessEndpoint {
            url: serve(witness_router(svc.clone())),
            key: v,
        });
        services.push(svc);
    }
    let agent = agent();
    let witness_keys: Vec<_> = endpoints.iter().map(|e| e.key.clone()).collect();
    let mut proof = |a: u64, b: u64| -> Result<Vec<[u8; 32]>, TlogError> {
        Ok(log.reader().prove_consistency(a, b)?.path)
    };
    for round in 0..2u64 {
        log.append_batch(
            (0..50)
                .map(|k| format!("r{round} {k}").into_bytes())
                .collect(),
        )
        .unwrap();
        let note = log.sign_checkpoint(&key).unwrap();
        let cosigned = collect_cosignatures(&agent, &note, &endpoints, 2, &mut proof).unwrap();
        let ok = verify_checkpoint(
            cosigned.to_text().as_bytes(),
            &key.verifier(),
            &witness_keys,
            2,
        )
        .unwrap();
        assert_eq!(ok.cosigners().len(), 2);
        assert_eq!(ok.checkpoint().size, 50 * (round + 1));
    }
    // A stale checkpoint (size 50, already superseded) gets no cosignature.
    let mut small = vigil_ledger::MemoryTree::new();
    for k in 0..50 {
        small.push(format!("r0 {k}").as_bytes());
    }
    let stale = Checkpoint {
        origin: key.name().into(),
        size: 50,
        root: small.root(),
        extensions: vec![],
    }
    .sign(&key)
    .unwrap();
    let err = collect_cosignatures(&agent, &stale, &endpoints[..1], 1, &mut proof).unwrap_err();
    assert!(
        matches!(
            err,
            TlogError::Quorum {
                have: 0,
                need: 1,
                ..
            }
        ),
        "{err}"
    );
    // A witness restarted from its state directory remembers size 100.
    let wdir = dir.path().join("ombudsman.example_w");
    let (restarted, _) = witness_service(&wdir, "ombudsman.example/w2", vec![key.verifier()]);
    let body = vigil_ledger::witness::AddCheckpoint {
        old_size: 0,
        proof: vec![],
        checkpoint: stale.to_text().into_bytes(),
    }
    .to_body();
    assert_eq!(
        restarted.add_checkpoint(&body),
        Err(vigil_ledger::witness::WitnessRefusal::SizeConflict(100))
    );
    let files: Vec<_> = std::fs::read_dir(&wdir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one state file per log, no temporary left: {files:?}"
    );
    let state = std::fs::read_to_string(wdir.join(&files[0])).unwrap();
    assert!(state.starts_with("test.example/log\n100\n"), "{state}");
    // A quorum larger than the witnesses that answer fails.
    let note = log.sign_checkpoint(&key).unwrap();
    let bogus = WitnessEndpoint {
        url: "http://127.0.0.1:9".into(),
        key: witness_key("gone.example/w").verifier(),
    };
    let err = collect_cosignatures(&agent, &note, &[endpoints[0].clone(), bogus], 2, &mut proof)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TlogError::Quorum {
                have: 1,
                need: 2,
                ..
            }
        ),
        "{err}"
    );
}

/// A monitor following a log over HTTP accepts growth and raises a split
/// view when a mirror serves a different history signed by the same key.
#[test]
fn monitor_detects_split_view() {
    let dir = tempfile::tempdir().unwrap();
    let key = log_key();
    let honest = Arc::new(Log::open(&dir.path().join("honest"), Options::default()).unwrap());
    let forked = Arc::new(Log::open(&dir.path().join("forked"), Options::default()).unwrap());
    let common: Vec<Vec<u8>> = (0..40).map(|k| format!("c{k}").into_bytes()).collect();
    honest.append_batch(common.clone()).unwrap();
    forked.append_batch(common).unwrap();
    let honest_url = serve(router(honest.clone()));
    let forked_url = serve(router(forked.clone()));
    let agent = agent();
    let mut monitor = Monitor::new(key.verifier(), vec![], 0);
    let mut tiles = HttpTileReader::new(agent.clone(), &honest_url);

    let publish = |log: &Log| {
        let n = log.sign_checkpoint(&key).unwrap();
        log.publish_checkpoint(&n).unwrap();
    };
    publish(&honest);
    let cp = fetch_checkpoint(&agent, &honest_url).unwrap();
    assert_eq!(
        monitor.observe(&cp, &honest_url, &mut tiles).unwrap(),
        Observation::First { size: 40 }
    );
    honest
        .append_batch((0..25).map(|k| format!("h{k}").into_bytes()).collect())
        .unwrap();
    publish(&honest);
    let cp = fetch_checkpoint(&agent, &honest_url).unwrap();
    assert_eq!(
        monitor.observe(&cp, &honest_url, &mut tiles).unwrap(),
        Observation::Grew { from: 40, to: 65 }
    );
    assert_eq!(
        monitor.observe(&cp, &honest_url, &mut tiles).unwrap(),
        Observation::Unchanged { size: 65 }
    );

    // The fork: same key, same first 40 entries, different continuation.
    forked
        .append_batch((0..25).map(|k| format!("X{k}").into_bytes()).collect())
        .unwrap();
    publish(&forked);
    let cp = fetch_checkpoint(&agent, &forked_url).unwrap();
    assert!(matches!(
        monitor.observe(&cp, &forked_url, &mut tiles).unwrap(),
        Observation::SplitView { seen_size: 65, .. }
    ));
    forked
        .append_batch((0..5).map(|k| format!("Y{k}").into_bytes()).collect())
        .unwrap();
    publish(&forked);
    let cp = fetch_checkpoint(&agent, &forked_url).unwrap();
    let mut forked_tiles = HttpTileReader::new(agent.clone(), &forked_url);
    assert!(matches!(
        monitor
            .observe(&cp, &forked_url, &mut forked_tiles)
            .unwrap(),
        Observation::SplitView { seen_size: 70, .. }
    ));
    // The monitor still trusts the honest head.
    assert_eq!(monitor.latest().unwrap().size, 65);
    // A checkpoint not signed by the log key is an error, not an observation.
    let stranger = log_key();
    let n = Checkpoint {
        origin: key.name().into(),
        size: 1,
        root: [0; 32],
        extensions: vec![],
    }
    .sign(&stranger)
    .unwrap();
    assert!(monitor
        .observe(n.to_text().as_bytes(), "x", &mut tiles)
        .is_err());
}

/// The witness answers only after its new state is on disk: when the state
/// cannot be written, it refuses instead of cosigning, and remembers
/// nothing.
#[test]
fn witness_that_cannot_persist_does_not_cosign() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let key = log_key();
    let log = Log::open(&dir.path().join("log"), Options::default()).unwrap();
    log.append_batch(vec![b"one".to_vec(), b"two".to_vec()])
        .unwrap();
    let note = log.sign_checkpoint(&key).unwrap();
    let body = vigil_ledger::witness::AddCheckpoint {
        old_size: 0,
        proof: vec![],
        checkpoint: note.to_text().into_bytes(),
    }
    .to_body();
    let wdir = dir.path().join("witness");
    let (svc, _) = witness_service(&wdir, "ombudsman.example/w", vec![key.verifier()]);
    // Block the temporary file the state is written through (a directory
    // in its place fails even for root).
    let hash: String = Sha256::digest(key.name().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let blocker = wdir.join(format!(".{hash}.head.tmp"));
    std::fs::create_dir(&blocker).unwrap();
    let refused = svc.add_checkpoint(&body).unwrap_err();
    assert!(
        matches!(refused, vigil_ledger::witness::WitnessRefusal::Storage(_)),
        "{refused:?}"
    );
    assert!(refused.status() >= 500, "{}", refused.status());
    assert!(!wdir.join(format!("{hash}.head")).exists());
    // Once the state can be written, the same request is cosigned and the
    // state file names the size.
    std::fs::remove_dir(&blocker).unwrap();
    let line = svc.add_checkpoint(&body).unwrap();
    assert!(line.starts_with("— ombudsman.example/w "), "{line}");
    let state = std::fs::read_to_string(wdir.join(format!("{hash}.head"))).unwrap();
    assert!(state.starts_with("test.example/log\n2\n"), "{state}");
}
