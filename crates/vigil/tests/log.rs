//! `vigil log` end to end: keys, appends, checkpoints, proofs, witness
//! cosigning and verification, with the exit codes auditors script against.

use std::path::Path;
use std::process::{Command, Output};

mod hubproc;

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .expect("run vigil")
}

fn ok(args: &[&str]) -> String {
    let out = vigil(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn code(args: &[&str]) -> i32 {
    vigil(args).status.code().unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn audit_round_trip_with_a_witness() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (log_dir, wstate) = (d.join("log"), d.join("witness-state"));
    let (log_key_file, wkey_file) = (d.join("log.key"), d.join("witness.key"));
    let log_vkey = ok(&[
        "log",
        "keygen",
        "--name",
        "oversight.example/log",
        "--out",
        p(&log_key_file),
    ])
    .trim()
    .to_string();
    let w_vkey = ok(&[
        "log",
        "keygen",
        "--name",
        "ombudsman.example/witness",
        "--witness",
        "--out",
        p(&wkey_file),
    ])
    .trim()
    .to_string();
    assert!(log_vkey.starts_with("oversight.example/log+"));

    let entries: Vec<_> = (0..5)
        .map(|i| {
            let f = d.join(format!("e{i}.json"));
            std::fs::write(&f, format!("{{\"entry\":{i}}}")).unwrap();
            f
        })
        .collect();
    let out = ok(&[
        "log",
        "append",
        "--dir",
        p(&log_dir),
        p(&entries[0]),
        p(&entries[1]),
        p(&entries[2]),
    ]);
    assert!(out.contains("appended entries 0..3"), "{out}");
    let cp1 = ok(&[
        "log",
        "checkpoint",
        "--dir",
        p(&log_dir),
        "--key",
        p(&log_key_file),
    ]);
    assert!(cp1.starts_with("oversight.example/log\n3\n"), "{cp1}");
    let cp1_file = d.join("cp1");
    std::fs::write(&cp1_file, &cp1).unwrap();

    // Verify the checkpoint; a tampered one fails with exit 1.
    let out = ok(&["log", "verify", p(&cp1_file), "--log-key", &log_vkey]);
    assert!(
        out.contains("OK checkpoint oversight.example/log size 3"),
        "{out}"
    );
    let bad = d.join("bad");
    std::fs::write(&bad, cp1.replacen("\n3\n", "\n4\n", 1)).unwrap();
    assert_eq!(code(&["log", "verify", p(&bad), "--log-key", &log_vkey]), 1);

    // Inclusion of entry 1; the wrong entry fails.
    let proof = ok(&["log", "prove", "--dir", p(&log_dir), "--index", "1"]);
    let proof_file = d.join("inc.proof");
    std::fs::write(&proof_file, proof).unwrap();
    let out = ok(&[
        "log",
        "verify",
        p(&cp1_file),
        "--log-key",
        &log_vkey,
        "--entry",
        p(&entries[1]),
        "--proof",
        p(&proof_file),
    ]);
    assert!(out.contains("included at index 1"), "{out}");
    assert_eq!(
        code(&[
            "log",
            "verify",
            p(&cp1_file),
            "--log-key",
            &log_vkey,
            "--entry",
            p(&entries[2]),
            "--proof",
            p(&proof_file)
        ]),
        1
    );

    // The witness cosigns the first checkpoint.
    let w = [
        "--key",
        p(&wkey_file),
        "--state",
        p(&wstate),
        "--log-key",
        log_vkey.as_str(),
    ];
    let mut args = vec!["log", "witness", "cosign"];
    args.extend(w);
    args.push(p(&cp1_file));
    let cosigned1 = ok(&args);
    assert!(
        cosigned1.contains("\u{2014} ombudsman.example/witness "),
        "{cosigned1}"
    );
    let cosigned1_file = d.join("cp1.cosigned");
    std::fs::write(&cosigned1_file, &cosigned1).unwrap();

    // The log grows; the witness cosigns the next checkpoint given a
    // consistency proof, and refuses it without one (it is at size 3).
    ok(&[
        "log",
        "append",
        "--dir",
        p(&log_dir),
        p(&entries[3]),
        p(&entries[4]),
    ]);
    let cp2 = ok(&[
        "log",
        "checkpoint",
        "--dir",
        p(&log_dir),
        "--key",
        p(&log_key_file),
    ]);
    let cp2_file = d.join("cp2");
    std::fs::write(&cp2_file, &cp2).unwrap();
    let cons = ok(&["log", "prove", "--dir", p(&log_dir), "--consistency", "3"]);
    let cons_file = d.join("cons.proof");
    std::fs::write(&cons_file, cons).unwrap();
    let mut args = vec!["log", "witness", "cosign"];
    args.extend(w);
    args.push(p(&cp2_file));
    assert_eq!(code(&args), 1, "cosigned without a consistency proof");
    args.extend(["--proof", p(&cons_file)]);
    let cosigned2 = ok(&args);
    let cosigned2_file = d.join("cp2.cosigned");
    std::fs::write(&cosigned2_file, &cosigned2).unwrap();

    // Auditor: checkpoint with a quorum of one witness, and consistency
    // with the first checkpoint.
    let out = ok(&[
        "log",
        "verify",
        p(&cosigned2_file),
        "--log-key",
        &log_vkey,
        "--witness-key",
        &w_vkey,
        "--quorum",
        "1",
        "--old",
        p(&cosigned1_file),
        "--proof",
        p(&cons_file),
    ]);
    assert!(
        out.contains("OK cosigned by ombudsman.example/witness"),
        "{out}"
    );
    assert!(out.contains("size 5 is consistent with size 3"), "{out}");
    assert_eq!(
        code(&[
            "log",
            "verify",
            p(&cp2_file),
            "--log-key",
            &log_vkey,
            "--witness-key",
            &w_vkey,
            "--quorum",
            "1"
        ]),
        1
    );
    // A consistency proof for other sizes is rejected.
    assert_eq!(
        code(&[
            "log",
            "verify",
            p(&cosigned2_file),
            "--log-key",
            &log_vkey,
            "--old",
            p(&cp2_file),
            "--proof",
            p(&cons_file)
        ]),
        1
    );
}

#[cfg(unix)]
#[test]
fn readable_key_files_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("k");
    ok(&["log", "keygen", "--name", "x.example/log", "--out", p(&key)]);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = vigil(&[
        "log",
        "checkpoint",
        "--dir",
        p(&tmp.path().join("log")),
        "--key",
        p(&key),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("too open"), "{err}");
    assert!(!err.contains("PRIVATE+KEY"), "{err}");
}

/// A `vigil serve` process listening on a free port; killed when dropped.
struct Served {
    child: std::process::Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Served {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-registry"])
        .args(args)
        .env("VIGIL_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut served = Served {
        child,
        addr: String::new(),
    };
    for line in lines {
        let line = line.unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            served.addr = rest.trim_end_matches("/taxii2/").to_string();
            return served;
        }
    }
    panic!("vigil serve {args:?} exited before listening");
}

/// The database for a test of several processes: a schema of its own
/// (named after `test`) in the test PostgreSQL when there is one, else an
/// SQLite file in `dir`.
fn shared_database(dir: &Path, test: &str) -> String {
    let Some(url) = vigil_testkit::postgres_url() else {
        return p(&dir.join("hub.db")).to_string();
    };
    hubproc::pg_schema_url(&url, &format!("log_{test}_{}", std::process::id()))
}

/// Admin changes made from the command line and sensitive actions on a
/// replica started with `--no-log` reach the one log that another replica
/// on the same database holds: each is included under the checkpoint that
/// replica publishes, holds only salted hashes, and its queue row names its
/// log index.
#[test]
fn replicas_and_admin_commands_reach_the_one_log() {
    use vigil_server::client::Connector;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let db = shared_database(d, "replicas");
    let holder_dir = d.join("holder");
    let cli = |args: &[&str]| {
        let mut all = vec!["serve", "--database", &db, "--data-dir", p(&holder_dir)];
        all.extend_from_slice(args);
        ok(&all)
    };
    cli(&["org", "Ombudsman", "--kind", "government"]);
    cli(&["user", "root", "--role", "admin"]);
    let token = cli(&["token", "root"])
        .rsplit(": ")
        .next()
        .unwrap()
        .trim()
        .to_string();

    let holder = serve(&[
        "--database",
        &db,
        "--data-dir",
        p(&holder_dir),
        "--log-interval",
        "1",
    ]);
    let replica = serve(&[
        "--database",
        &db,
        "--data-dir",
        p(&d.join("replica")),
        "--no-log",
    ]);
    let http = Connector::plain();
    let auth = format!("Bearer {token}");
    let r = http
        .request(
            &replica.addr,
            "POST",
            "/admin/v1/orgs",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            Some(br#"{"name":"Court","kind":"government"}"#),
        )
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());

    // Three command-line changes and the replica's one, once each.
    let (cp, _) = published(&http, &holder.addr, &holder_dir, 4);
    drop(holder);
    drop(replica);

    let (rt, pseud) = hub_pseudonymiser(&db);
    let user = std::env::var("USER").unwrap_or_else(|_| "command line".into());
    let cli_actor = pseud.hash("person", &format!("cli:{user}"));
    let mut reader = vigil_tlog::LogReader::open(&holder_dir.join("log")).unwrap();
    let mut actors = Vec::new();
    for i in 0..4 {
        let entry = reader.entry(i).unwrap();
        reader
            .prove_inclusion(i, 4)
            .unwrap()
            .verify(&vigil_ledger::leaf_hash(&entry), &cp.checkpoint().root)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&entry).unwrap();
        assert_eq!(v["event"], "hub_action", "{v}");
        assert_eq!(v["action"], "admin_change", "{v}");
        let text = String::from_utf8_lossy(&entry);
        assert!(
            !text.contains("Ombudsman") && !text.contains("root"),
            "{text}"
        );
        actors.push(v["actor"].as_str().unwrap().to_string());
    }
    assert_eq!(
        actors[..3],
        [cli_actor.clone(), cli_actor.clone(), cli_actor]
    );
    assert_eq!(actors[3], pseud.hash("person", "root"));
    let ostore = rt.block_on(vigil_store::open_oversight(&db)).unwrap();
    assert!(rt.block_on(ostore.queued(10)).unwrap().is_empty());
    assert_eq!(rt.block_on(ostore.claimed(0, 4)).unwrap().len(), 4);
}

/// Waits (up to a minute) until the hub at `addr` publishes a checkpoint of
/// `size` entries; returns it verified with the key in `data_dir/log.pub`,
/// and its bytes.
fn published(
    http: &vigil_server::client::Connector,
    addr: &str,
    data_dir: &Path,
    size: u64,
) -> (vigil_ledger::VerifiedCheckpoint, Vec<u8>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let checkpoint = loop {
        let r = http
            .request(addr, "GET", "/log/checkpoint", &[], None)
            .unwrap();
        if r.status == 200 && r.text().lines().nth(1) == Some(size.to_string().as_str()) {
            break r.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not on the log: {}",
            r.text()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let vkey = std::fs::read_to_string(data_dir.join("log.pub")).unwrap();
    let key = vigil_ledger::Verifier::parse(vkey.trim()).unwrap();
    let cp = vigil_ledger::verify_checkpoint(&checkpoint, &key, &[], 0).unwrap();
    (cp, checkpoint)
}

/// The hub's pseudonymiser, from the salt in the database `db`, and the
/// runtime that read it.
fn hub_pseudonymiser(db: &str) -> (tokio::runtime::Runtime, vigil_oversight::Pseudonymiser) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt.block_on(vigil_store::open(db)).unwrap();
    let salt = rt
        .block_on(store.setting("oversight_salt"))
        .unwrap()
        .unwrap();
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&salt[2 * i..2 * i + 2], 16).unwrap();
    }
    (rt, vigil_oversight::Pseudonymiser::new(bytes))
}

/// `vigil screen classify` and `vigil screen decide` given the hub's
/// database queue every licence determination and the screening decision
/// for the hub's log before writing their records: each entry is included
/// under the checkpoint the hub publishes, names the officer and the
/// recomputable subject of its record by salted hash only, and no name of
/// the party, item, application or officer is anywhere on the log.
#[test]
fn licence_determinations_and_screening_decisions_reach_the_log() {
    use vigil_server::client::Connector;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let db = shared_database(d, "screening");
    let holder_dir = d.join("holder");
    let holder = serve(&[
        "--database",
        &db,
        "--data-dir",
        p(&holder_dir),
        "--log-interval",
        "1",
    ]);
    let officer = "Jane Export-Officer";
    let classifications = d.join("classifications.jsonl");
    let out = ok(&[
        "screen",
        "classify",
        "--application",
        "LIC-2026-0042",
        "--item",
        "Helios Interceptor 3",
        "--entry",
        "4A005=applies",
        "--entry",
        "5A001j=does-not-apply",
        "--destination",
        "XX",
        "--officer",
        officer,
        "--output",
        p(&classifications),
        "--database",
        &db,
    ]);
    assert!(out.contains("LICENCE REQUIRED"), "{out}");
    let decisions = d.join("decisions.jsonl");
    let decided = ok(&[
        "screen",
        "decide",
        "--decisions",
        p(&decisions),
        "--entity",
        "seed-merom-harpaz",
        "--disposition",
        "false-positive",
        "--reason",
        "different person, born 1990",
        "--officer",
        officer,
        "--schema",
        "person",
        "Merom Harpaz",
        "--database",
        &db,
    ]);
    let record: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&classifications).unwrap().trim()).unwrap();
    let ids: Vec<i64> = record["log_queue_ids"]
        .as_array()
        .expect("the record names its queue ids")
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "one entry per determination: {record}");
    let classification: vigil_screen::Classification = serde_json::from_value(record).unwrap();
    let decision: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&decisions).unwrap().trim()).unwrap();

    let http = Connector::plain();
    let (cp, _) = published(&http, &holder.addr, &holder_dir, 3);
    drop(holder);
    let (rt, pseud) = hub_pseudonymiser(&db);
    let ostore = rt.block_on(vigil_store::open_oversight(&db)).unwrap();
    let mut expected: Vec<(u64, &str, String)> = Vec::new();
    for (id, subject) in ids.iter().zip(classification.log_subjects()) {
        let index = rt.block_on(ostore.queue_index(*id)).unwrap().unwrap();
        expected.push((index as u64, "licence_determination", subject));
    }
    let decision_id: i64 = decided
        .split("(queue id ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no queue id in {decided:?}"));
    let index = rt
        .block_on(ostore.queue_index(decision_id))
        .unwrap()
        .unwrap();
    expected.push((
        index as u64,
        "export_screening",
        format!(
            "screening:{}:{}",
            decision["query_key"].as_str().unwrap(),
            decision["entity_id"].as_str().unwrap()
        ),
    ));
    let mut reader = vigil_tlog::LogReader::open(&holder_dir.join("log")).unwrap();
    assert_eq!(reader.size(), 3);
    for (index, action, subject) in &expected {
        let entry = reader.entry(*index).unwrap();
        reader
            .prove_inclusion(*index, 3)
            .unwrap()
            .verify(&vigil_ledger::leaf_hash(&entry), &cp.checkpoint().root)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&entry).unwrap();
        assert_eq!(v["event"], "hub_action", "{v}");
        assert_eq!(v["action"], *action, "{v}");
        assert_eq!(v["actor"], pseud.hash("person", officer), "{v}");
        assert_eq!(v["subject"], pseud.hash("subject", subject), "{v}");
        let text = String::from_utf8_lossy(&entry).to_lowercase();
        for plain in [
            "merom", "harpaz", "helios", "lic-2026", "jane", "officer", "4a005",
        ] {
            assert!(!text.contains(plain), "{plain:?} on the log: {text}");
        }
    }
}

/// `vigil log serve` holds no writer lock: while it runs, `vigil log
/// append` and `vigil log checkpoint` write the same folder in other
/// processes, and the server then answers with the new checkpoint and the
/// new tiles. A second writer on the folder is still refused.
#[test]
fn log_serve_follows_appends_and_checkpoints_from_other_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (log_dir, key) = (d.join("log"), d.join("log.key"));
    ok(&["log", "keygen", "--name", "o.example/log", "--out", p(&key)]);
    let entry = |i: usize| {
        let f = d.join(format!("e{i}"));
        std::fs::write(&f, format!("entry {i}")).unwrap();
        f
    };
    let files: Vec<_> = (0..300).map(entry).collect();
    let names: Vec<&str> = files.iter().map(|f| p(f)).collect();
    let mut args = vec!["log", "append", "--dir", p(&log_dir)];
    args.extend(&names[..3]);
    ok(&args);
    let cp1 = ok(&["log", "checkpoint", "--dir", p(&log_dir), "--key", p(&key)]);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["log", "serve", "--dir", p(&log_dir), "--listen", &addr])
        .spawn()
        .unwrap();
    let _served = Served {
        child,
        addr: addr.clone(),
    };
    let get = |path: &str| vigil_server::client::request(&addr, "GET", path, &[], None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let first = loop {
        match get("/checkpoint") {
            Ok(r) => break r,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(e) => panic!("vigil log serve never answered: {e}"),
        }
    };
    assert_eq!((first.status, first.text()), (200, cp1.clone()));
    assert_eq!(get("/tile/0/000.p/3").unwrap().status, 200);
    assert_eq!(get("/tile/0/000.p/4").unwrap().status, 404);

    // Writers in other processes while the server runs.
    let mut args = vec!["log", "append", "--dir", p(&log_dir)];
    args.extend(&names[3..]);
    let out = ok(&args);
    assert!(out.contains("appended entries 3..300"), "{out}");
    let cp2 = ok(&["log", "checkpoint", "--dir", p(&log_dir), "--key", p(&key)]);
    assert!(cp2.starts_with("o.example/log\n300\n"), "{cp2}");

    let r = get("/checkpoint").unwrap();
    assert_eq!((r.status, r.text()), (200, cp2));
    // The leaf hashes of the new entries, in a full tile and a partial one.
    let leaves = |range: std::ops::Range<usize>| -> Vec<u8> {
        range
            .flat_map(|i| vigil_ledger::leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    };
    let r = get("/tile/0/000").unwrap();
    assert_eq!((r.status, r.body), (200, leaves(0..256)));
    let r = get("/tile/0/001.p/44").unwrap();
    assert_eq!((r.status, r.body), (200, leaves(256..300)));
    let r = get("/tile/entries/001.p/44").unwrap();
    assert_eq!(r.status, 200);
    let bundle = vigil_ledger::tiles::decode_bundle(&r.body).unwrap();
    assert_eq!(bundle.len(), 44);
    assert_eq!(bundle[43], b"entry 299");
    assert_eq!(get("/tile/0/001.p/45").unwrap().status, 404);
    // The server did not take the folder: only one writer at a time, and
    // it is not the server (this append succeeded above); a writer held
    // open elsewhere still shuts out `vigil log append`.
    let holder = vigil_tlog::Log::open(&log_dir, vigil_tlog::Options::default()).unwrap();
    let out = vigil(&["log", "append", "--dir", p(&log_dir), names[0]]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("held by another process"), "{err}");
    drop(holder);
}
