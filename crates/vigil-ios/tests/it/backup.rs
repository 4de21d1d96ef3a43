use std::path::Path;

use vigil_artefact::ObservableKind as K;
use vigil_ios::{backup_modules, Error, Unlock};
use vigil_testgen::{write_ios_backup, IosBackupSpec, Planted, Plants};

use crate::{observed, on_domain, run_all};

fn plants() -> Plants {
    Plants {
        domains: vec!["free247downloads.com".into(), "urlpush.net".into()],
        processes: vec!["bh".into(), "roleaboutd".into()],
        app_ids: vec!["com.example.implant".into()],
        file_paths: vec!["/private/var/mobile/Library/Caches/com.apple.implant/data.bin".into()],
        ..Plants::default()
    }
}

fn generate(dir: &Path, password: Option<&str>) -> Vec<Planted> {
    let spec = IosBackupSpec {
        seed: 7,
        sms: 300,
        safari_visits: 300,
        whatsapp_contacts: 25,
        password: password.map(str::to_string),
        plants: plants(),
        ..IosBackupSpec::default()
    };
    write_ios_backup(dir, &spec).unwrap()
}

/// Every planted value shows up as an observable of the module that should read it.
fn assert_planted_found(records: &[vigil_artefact::Record], planted: &[Planted]) {
    let obs = observed(records);
    for p in planted {
        let hit = obs.iter().any(|(m, kind, v)| {
            m == p.module
                && match kind {
                    K::Url => on_domain(v, &p.value),
                    K::FilePath => v == &p.value || p.value.ends_with(v.as_str()),
                    _ => v == &p.value,
                }
        });
        assert!(hit, "planted {} {:?} not observed", p.module, p.value);
    }
}

#[test]
fn plain_backup_modules_find_every_planted_value() {
    let dir = tempfile::tempdir().unwrap();
    let planted = generate(dir.path(), None);
    assert!(planted.len() >= 8);
    assert!(vigil_ios::looks_like_backup(dir.path()));
    assert!(!vigil_ios::looks_like_filesystem(dir.path()));
    let modules = backup_modules(dir.path(), None).unwrap();
    let (records, results) = run_all(&modules);
    for (name, r) in &results {
        assert!(r.is_ok(), "{name}: {r:?}");
    }
    assert_planted_found(&records, &planted);
    // Every SMS and every visit is a record, with its provenance.
    let sms: Vec<_> = records.iter().filter(|r| r.module == "sms").collect();
    assert_eq!(sms.len(), 300);
    assert!(sms
        .iter()
        .all(|r| r.provenance.file == "HomeDomain/Library/SMS/sms.db"
            && r.provenance.table.as_deref() == Some("message")));
    assert_eq!(
        records
            .iter()
            .filter(|r| r.module == "safari_history")
            .count(),
        300
    );
    // WhatsApp's address book: one record per contact, the link in an "about" text observed.
    let contacts: Vec<_> = records
        .iter()
        .filter(|r| r.module == "whatsapp_contacts")
        .collect();
    assert_eq!(contacts.len(), 25);
    let c = contacts.iter().find(|r| !r.observables.is_empty()).unwrap();
    assert_eq!(
        c.provenance.file,
        "AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ContactsV2.sqlite"
    );
    assert_eq!(c.provenance.table.as_deref(), Some("ZWAADDRESSBOOKCONTACT"));
    assert_eq!(c.event, "WhatsApp contact");
    assert!(c.observables[0]
        .value
        .starts_with("https://free247downloads.com/"));
    assert!(c.data["about"]
        .as_str()
        .unwrap()
        .contains("free247downloads.com"));
    assert!(c.data["whatsapp_id"]
        .as_str()
        .unwrap()
        .ends_with("@s.whatsapp.net"));
    assert!(c.data["phone"].as_str().unwrap().starts_with("+44"));
    // 2024-03-01 minus a day per contact.
    let t = c.timestamp.unwrap();
    assert!(
        (1_706_000_000_000_000..1_709_300_000_000_000).contains(&t),
        "{t}"
    );
    // Modules whose files this backup lacks say so instead of failing.
    let calls = results
        .iter()
        .find(|(n, _)| n == "calls")
        .unwrap()
        .1
        .as_ref()
        .unwrap();
    assert_eq!(calls.records, 0);
    assert!(
        calls.warnings.iter().any(|w| w.contains("CallHistory")),
        "{:?}",
        calls.warnings
    );
}

#[test]
fn sms_timestamps_are_converted_from_mac_nanoseconds() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), None);
    let modules = backup_modules(dir.path(), None).unwrap();
    let (records, _) = run_all(&modules);
    let first = records
        .iter()
        .find(|r| r.module == "sms" && r.provenance.row == Some(1))
        .unwrap();
    // The generator starts messages at 2024-03-01T00:00:00Z = 1709251200 Unix seconds.
    assert_eq!(first.timestamp, Some(1_709_251_200_000_000));
    let visit = records
        .iter()
        .find(|r| r.module == "safari_history" && r.provenance.row == Some(2))
        .unwrap();
    assert_eq!(visit.timestamp, Some(1_709_251_237_500_000));
}

#[test]
fn encrypted_backup_gives_the_same_records_as_plain() {
    let plain = tempfile::tempdir().unwrap();
    let enc = tempfile::tempdir().unwrap();
    generate(plain.path(), None);
    let planted = generate(enc.path(), Some("correct horse"));
    let (plain_records, _) = run_all(&backup_modules(plain.path(), None).unwrap());
    let modules =
        backup_modules(enc.path(), Some(Unlock::Password("correct horse".into()))).unwrap();
    let (enc_records, results) = run_all(&modules);
    for (name, r) in &results {
        assert!(r.is_ok(), "{name}: {r:?}");
    }
    assert_planted_found(&enc_records, &planted);
    let strip = |rs: &[vigil_artefact::Record]| -> Vec<_> {
        rs.iter()
            .filter(|r| r.module != "manifest" && r.module != "backup_info")
            .map(|r| (r.module.clone(), r.timestamp, r.observables.clone()))
            .collect()
    };
    assert_eq!(strip(&plain_records), strip(&enc_records));
}

#[test]
fn wrong_or_missing_password_is_a_clear_error_and_a_saved_key_works() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), Some("s3cret"));
    match backup_modules(dir.path(), None) {
        Err(Error::PasswordRequired(_)) => {}
        other => panic!(
            "expected PasswordRequired, got {:?}",
            other.map(|m| m.len())
        ),
    }
    match backup_modules(dir.path(), Some(Unlock::Password("wrong".into()))) {
        Err(e @ Error::WrongPassword) => assert!(e.to_string().contains("wrong backup password")),
        other => panic!("expected WrongPassword, got {:?}", other.map(|m| m.len())),
    }
    assert!(matches!(
        vigil_ios::derive_key("nope", dir.path()),
        Err(Error::WrongPassword)
    ));
    let key = vigil_ios::derive_key("s3cret", dir.path()).unwrap();
    let modules = backup_modules(dir.path(), Some(Unlock::Key(key.to_vec()))).unwrap();
    let (records, _) = run_all(&modules);
    assert_eq!(records.iter().filter(|r| r.module == "sms").count(), 300);
    assert!(matches!(
        backup_modules(dir.path(), Some(Unlock::Key(vec![0; 32]))),
        Err(Error::WrongPassword)
    ));
}

#[test]
fn corrupt_database_fails_only_its_own_modules() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), None);
    let sms = vigil_testgen::stored_path(dir.path(), "HomeDomain", "Library/SMS/sms.db");
    let bytes = std::fs::read(&sms).unwrap();
    std::fs::write(&sms, &bytes[..bytes.len() / 3]).unwrap();
    // And a missing file: listed in the manifest, absent from the folder.
    std::fs::remove_file(vigil_testgen::stored_path(
        dir.path(),
        "WirelessDomain",
        "Library/Databases/DataUsage.sqlite",
    ))
    .unwrap();
    let (records, results) = run_all(&backup_modules(dir.path(), None).unwrap());
    let get = |n: &str| &results.iter().find(|(m, _)| m == n).unwrap().1;
    let e = get("sms").as_ref().unwrap_err();
    assert_eq!(e.file, "HomeDomain/Library/SMS/sms.db");
    assert!(!e.message.is_empty());
    let du = get("datausage").as_ref().unwrap();
    assert!(
        du.warnings.iter().any(|w| w.contains("missing")),
        "{:?}",
        du.warnings
    );
    assert!(get("safari_history").is_ok());
    assert_eq!(
        records
            .iter()
            .filter(|r| r.module == "safari_history")
            .count(),
        300
    );
}

#[test]
fn garbage_plists_and_manifest_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), Some("pw"));
    std::fs::write(
        dir.path().join("Manifest.plist"),
        b"bplist00\xff\xff garbage",
    )
    .unwrap();
    assert!(matches!(
        backup_modules(dir.path(), Some(Unlock::Password("pw".into()))),
        Err(Error::Plist { .. })
    ));
    let dir2 = tempfile::tempdir().unwrap();
    generate(dir2.path(), None);
    std::fs::write(dir2.path().join("Manifest.db"), b"not a database at all").unwrap();
    let (_, results) = run_all(&backup_modules(dir2.path(), None).unwrap());
    let manifest = &results.iter().find(|(m, _)| m == "manifest").unwrap().1;
    assert!(manifest.as_ref().unwrap_err().file == "Manifest.db");
}

#[test]
fn filesystem_dump_is_read_with_the_same_modules() {
    let backup = tempfile::tempdir().unwrap();
    let planted = generate(backup.path(), None);
    let fs = tempfile::tempdir().unwrap();
    let place = |domain: &str, rel: &str, dest: &str| {
        let to = fs.path().join(dest);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(vigil_testgen::stored_path(backup.path(), domain, rel), to).unwrap();
    };
    place(
        "HomeDomain",
        "Library/SMS/sms.db",
        "private/var/mobile/Library/SMS/sms.db",
    );
    place(
        "HomeDomain",
        "Library/Safari/History.db",
        "private/var/mobile/Library/Safari/History.db",
    );
    place(
        "WirelessDomain",
        "Library/Databases/DataUsage.sqlite",
        "private/var/wireless/Library/Databases/DataUsage.sqlite",
    );
    let shutdown = fs.path().join("private/var/db/diagnostics/shutdown.log");
    std::fs::create_dir_all(shutdown.parent().unwrap()).unwrap();
    std::fs::write(&shutdown, "remaining client pid: 117 (/private/var/db/com.apple.xpc.roleaccountd.staging/rolexd)\nSIGTERM: [1709251200]\n").unwrap();
    assert!(vigil_ios::looks_like_filesystem(fs.path()));
    let (records, results) = run_all(&vigil_ios::filesystem_modules(fs.path()).unwrap());
    for (name, r) in &results {
        assert!(r.is_ok(), "{name}: {r:?}");
    }
    let obs = observed(&records);
    for p in planted
        .iter()
        .filter(|p| ["sms", "safari_history", "datausage"].contains(&p.module))
    {
        assert!(
            obs.iter().any(|(m, k, v)| m == p.module
                && (v == &p.value || (*k == K::Url && on_domain(v, &p.value)))),
            "{p:?}"
        );
    }
    let sms = records.iter().find(|r| r.module == "sms").unwrap();
    assert_eq!(sms.provenance.file, "private/var/mobile/Library/SMS/sms.db");
    let sd = records.iter().find(|r| r.module == "shutdown_log").unwrap();
    assert_eq!(sd.timestamp, Some(1_709_251_200_000_000));
    assert!(sd
        .observables
        .iter()
        .any(|o| o.kind == K::ProcessName && o.value == "rolexd"));
    assert!(obs.contains(&(
        "filesystem".into(),
        K::FilePath,
        "/private/var/mobile/Library/SMS/sms.db".into()
    )));
}

#[test]
fn backup_inside_a_parent_folder_is_found() {
    let parent = tempfile::tempdir().unwrap();
    let inner = parent.path().join("00008120-000A1B2C3D4E5F60");
    generate(&inner, None);
    assert!(vigil_ios::looks_like_backup(parent.path()));
    assert!(backup_modules(parent.path(), None).is_ok());
}

/// The saved key is MVT's: `mvt-ios extract-key` writes the same 32 bytes, and its key file unlocks the backup.
#[test]
fn derived_key_matches_mvt_extract_key() {
    let Some(python) = vigil_testkit::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("b");
    generate(&backup, Some("Journalist#2024"));
    let key_file = dir.path().join("key.txt");
    let out = std::process::Command::new(python.with_file_name("mvt-ios"))
        .args(["extract-key", "-p", "Journalist#2024", "-k"])
        .arg(&key_file)
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mvt_hex = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_string();
    let ours: String = vigil_ios::derive_key("Journalist#2024", &backup)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(ours, mvt_hex);
    let key: Vec<u8> = (0..mvt_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&mvt_hex[i..i + 2], 16).unwrap())
        .collect();
    let (records, _) = run_all(&backup_modules(&backup, Some(Unlock::Key(key))).unwrap());
    assert_eq!(records.iter().filter(|r| r.module == "sms").count(), 300);
}

fn tree(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let modified = std::fs::metadata(&p).unwrap().modified().unwrap();
                out.push((p.clone(), std::fs::read(&p).unwrap(), modified));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn scanning_never_modifies_the_input() {
    for password in [None, Some("pw")] {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), password);
        let before = tree(dir.path());
        let unlock = password.map(|p| Unlock::Password(p.into()));
        let (records, _) = run_all(&backup_modules(dir.path(), unlock).unwrap());
        assert!(records.len() > 600);
        assert_eq!(
            before,
            tree(dir.path()),
            "input changed (password: {password:?})"
        );
    }
}

/// Rows still in a write-ahead log are read, from a copy: the dump's files stay as they were.
#[test]
fn database_with_write_ahead_log_is_read_from_a_copy() {
    let fs = tempfile::tempdir().unwrap();
    let db = fs.path().join("private/var/mobile/Library/SMS/sms.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    conn.execute_batch(
        "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);
         CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER, service TEXT, date INTEGER, is_from_me INTEGER);
         INSERT INTO handle VALUES (1, '+15550001');
         INSERT INTO message VALUES (1, 'g1', 'see https://weather4free.com/x', 1, 'SMS', 700000000000000000, 0);",
    )
    .unwrap();
    // The connection stays open, so the rows are only in sms.db-wal.
    let wal = fs.path().join("private/var/mobile/Library/SMS/sms.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    let before = tree(fs.path());
    let (records, _) = run_all(&vigil_ios::filesystem_modules(fs.path()).unwrap());
    let sms: Vec<_> = records.iter().filter(|r| r.module == "sms").collect();
    assert_eq!(sms.len(), 1);
    assert!(sms[0]
        .observables
        .iter()
        .any(|o| o.kind == K::Url && o.value == "https://weather4free.com/x"));
    assert_eq!(before, tree(fs.path()), "the dump changed");
    drop(conn);
}

#[test]
fn records_lent_to_the_scanner_are_the_records_run_emits() {
    use vigil_artefact::{Needs, Record};
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), None);
    let modules = backup_modules(dir.path(), None).unwrap();
    let mut checked = 0;
    for m in &modules {
        let mut owned = Vec::new();
        let summary = m.run(&mut |r| owned.push(r)).unwrap();
        let mut all: Vec<Record> = Vec::new();
        let lent = m
            .run_with(Needs::ALL, &mut |r| all.push(r.clone()))
            .unwrap();
        // With every field asked for, the very same records in the same order.
        assert_eq!(all, owned, "{}", m.name());
        assert_eq!(lent, summary, "{}", m.name());
        // Without fields: the same records but for their fields, which may be left out.
        let mut lean: Vec<Record> = Vec::new();
        let lent = m
            .run_with(Needs::MATCHING, &mut |r| lean.push(r.clone()))
            .unwrap();
        assert_eq!(lent, summary, "{}", m.name());
        for r in lean.iter_mut().chain(owned.iter_mut()) {
            r.data.clear();
        }
        assert_eq!(lean, owned, "{}", m.name());
        checked += owned.len();
    }
    // The generated SMS and Safari visits are among them.
    assert!(checked >= 600, "{checked}");
}
