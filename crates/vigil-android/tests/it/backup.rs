//! Android backups (`backup.ab`): header, compressed and plain bodies, the
//! telephony provider's SMS, and hostile or broken files.

use std::io::Write;

use vigil_artefact::ObservableKind as K;
use vigil_testgen::check::run_all;
use vigil_testgen::{write_android_backup, AndroidBackupSpec, Plants};

const SMS_MEMBER: &str = "apps/com.android.providers.telephony/d_f/000000_sms_backup";

fn backup_spec(compressed: bool) -> AndroidBackupSpec {
    AndroidBackupSpec {
        seed: 5,
        sms: 40,
        compressed,
        password: None,
        rounds: 0,
        plants: Plants {
            domains: vec!["automatedrelax.org".into(), "c2.example-spy.net".into()],
            ..Plants::default()
        },
    }
}

/// Builds a backup file by hand: header lines, then a tar of `(name, bytes)` members.
fn backup_bytes(header: &str, members: &[(&str, &[u8])], compressed: bool) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, *data).unwrap();
    }
    let body = tar.into_inner().unwrap();
    let mut out = header.as_bytes().to_vec();
    if compressed {
        let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::fast());
        z.write_all(&body).unwrap();
        out = z.finish().unwrap();
    } else {
        out.extend_from_slice(&body);
    }
    out
}

fn scan(path: &std::path::Path) -> (Vec<vigil_artefact::Record>, Result<(), String>) {
    let modules = vigil_android::android_backup_modules(path, None).unwrap();
    assert_eq!(modules.len(), 1);
    let (records, results) = run_all(&modules);
    let r = results[0].1.clone().map(|_| ()).map_err(|e| e.to_string());
    (records, r)
}

#[test]
fn sms_links_of_compressed_and_plain_backups_are_read() {
    for compressed in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let ab = dir.path().join("backup.ab");
        let planted = write_android_backup(&ab, &backup_spec(compressed)).unwrap();
        assert_eq!(planted.len(), 2);
        assert!(vigil_android::looks_like_android_backup(&ab));
        assert!(!vigil_android::looks_like_androidqf(&ab));
        let header = vigil_android::read_header(&mut std::io::BufReader::new(
            std::fs::File::open(&ab).unwrap(),
        ))
        .unwrap();
        assert_eq!(header.version, 5);
        assert_eq!(header.compressed, compressed);
        assert_eq!(header.encryption, "none");

        let (records, result) = scan(&ab);
        result.unwrap();
        assert_eq!(records.len(), 42, "every SMS is a record");
        for p in &planted {
            let r = records
                .iter()
                .find(|r| {
                    r.observables.iter().any(|o| {
                        o.kind == K::Url && o.value.starts_with(&format!("https://{}/", p.value))
                    })
                })
                .unwrap_or_else(|| panic!("{} not observed", p.value));
            assert_eq!(r.module, "backup_sms");
            assert_eq!(r.event, "SMS received");
            assert_eq!(r.provenance.file, format!("backup.ab/{SMS_MEMBER}"));
            assert!(r.provenance.row.is_some());
            // 2024-03-01 or a little later (one message a minute).
            let t = r.timestamp.unwrap();
            assert!((1_709_251_200_000_000..1_709_251_200_000_000 + 86_400_000_000).contains(&t));
            assert!(r.data["body"].as_str().unwrap().contains(&p.value));
        }
        assert!(records.iter().any(|r| r.event == "SMS sent"));
    }
}

#[test]
fn json_lines_mms_and_other_apps_members() {
    let dir = tempfile::tempdir().unwrap();
    let ab = dir.path().join("phone.ab");
    let lines = b"{\"address\":\"+1555\",\"body\":\"go to http://evil.example.com/x now\",\"date\":\"1709251200000\",\"date_sent\":\"0\"}\n\n{\"address\":\"+1556\",\"body\":\"hi\",\"date\":\"1709251260000\",\"date_sent\":\"1709251260000\"}\n";
    let mms =
        br#"[{"mms_body":"see https://mms.example.net/a","date":"1709251300000","date_sent":"0"}]"#;
    let data = backup_bytes(
        "ANDROID BACKUP\n1\n0\nnone\n",
        &[
            ("apps/com.example.app/f/000000_sms_backup", b"[]"),
            (SMS_MEMBER, lines),
            (
                "apps/com.android.providers.telephony/d_f/000000_mms_backup",
                mms,
            ),
        ],
        false,
    );
    std::fs::write(&ab, data).unwrap();
    let (records, result) = scan(&ab);
    result.unwrap();
    let events: Vec<&str> = records.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(events, ["SMS received", "SMS sent", "MMS received"]);
    assert_eq!(records[0].observables[0].value, "http://evil.example.com/x");
    assert_eq!(records[2].observables[0].value, "https://mms.example.net/a");
}

#[test]
fn broken_and_encrypted_backups_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, Vec<u8>, &str)] = &[
        (
            "encrypted.ab",
            b"ANDROID BACKUP\n5\n1\nAES-256\n00ff\n".to_vec(),
            "the backup is encrypted (AES-256): give its password",
        ),
        (
            "version.ab",
            b"ANDROID BACKUP\n99\n1\nnone\n".to_vec(),
            "unknown format version \"99\"",
        ),
        (
            "flag.ab",
            b"ANDROID BACKUP\n5\nyes\nnone\n".to_vec(),
            "compression flag \"yes\"",
        ),
        (
            "short.ab",
            b"ANDROID BACKUP\n5\n".to_vec(),
            "the compression line is missing",
        ),
        (
            "garbage.ab",
            b"ANDROID BACKUP\n5\n1\nnone\nthis is not zlib at all".to_vec(),
            "archive",
        ),
    ];
    for (name, bytes, expected) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let (records, result) = scan(&p);
        assert!(records.is_empty());
        let err = result.err().unwrap_or_default();
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}: {err}"
        );
    }
    // Not a backup at all.
    let p = dir.path().join("notes.txt");
    std::fs::write(&p, "ANDROID BACKUP is what adb writes").unwrap();
    assert!(!vigil_android::looks_like_android_backup(&p));
    assert!(vigil_android::android_backup_modules(&p, None).is_err());
}

#[test]
fn truncated_backup_keeps_what_was_read_and_a_broken_message_file_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ab");
    write_android_backup(&good, &backup_spec(false)).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    // Cut inside the tar's end-of-archive padding, after the SMS member.
    let cut = dir.path().join("cut.ab");
    std::fs::write(&cut, &bytes[..bytes.len() - 700]).unwrap();
    let (records, result) = scan(&cut);
    result.unwrap();
    assert_eq!(records.len(), 42);

    let bad = dir.path().join("bad.ab");
    std::fs::write(
        &bad,
        backup_bytes(
            "ANDROID BACKUP\n5\n1\nnone\n",
            &[(SMS_MEMBER, b"\x78\x9c not really zlib")],
            true,
        ),
    )
    .unwrap();
    let modules = vigil_android::android_backup_modules(&bad, None).unwrap();
    let summary = modules[0].run(&mut |_| {}).unwrap();
    assert_eq!(summary.records, 0);
    assert!(
        summary.warnings[0].contains(SMS_MEMBER) && summary.warnings[0].contains("zlib"),
        "{:?}",
        summary.warnings
    );
}

#[test]
fn androidqf_folder_with_a_backup_reads_its_sms() {
    let dir = tempfile::tempdir().unwrap();
    let acq = dir.path().join("acq");
    vigil_testgen::write_androidqf(&acq, &crate::spec()).unwrap();
    write_android_backup(&acq.join("backup.ab"), &backup_spec(true)).unwrap();
    let modules = vigil_android::androidqf_modules(&acq).unwrap();
    assert!(modules.iter().any(|m| m.name() == "backup_sms"));
    let (records, results) = run_all(&modules);
    for (name, r) in &results {
        assert!(r.is_ok(), "{name}: {r:?}");
    }
    assert!(records.iter().any(|r| r.module == "backup_sms"
        && r.observables
            .iter()
            .any(|o| o.value.starts_with("https://automatedrelax.org/"))));
}

#[test]
fn fuzz_entry_point_reads_a_whole_backup_and_survives_every_cut() {
    let dir = tempfile::tempdir().unwrap();
    let ab = dir.path().join("backup.ab");
    write_android_backup(&ab, &backup_spec(true)).unwrap();
    let bytes = std::fs::read(&ab).unwrap();
    assert_eq!(vigil_android::fuzzing::android_backup(&bytes), 42);
    for cut in (0..bytes.len()).step_by(7) {
        assert!(vigil_android::fuzzing::android_backup(&bytes[..cut]) <= 42);
    }
}

#[test]
fn encrypted_backup_opens_with_its_password_only() {
    let dir = tempfile::tempdir().unwrap();
    for compressed in [true, false] {
        let ab = dir.path().join(format!("enc-{compressed}.ab"));
        let spec = AndroidBackupSpec {
            password: Some("pässwörd 1".into()),
            rounds: 100,
            ..backup_spec(compressed)
        };
        let planted = write_android_backup(&ab, &spec).unwrap();
        let head = std::fs::read(&ab).unwrap();
        assert!(head.starts_with(b"ANDROID BACKUP\n5\n"));
        assert!(String::from_utf8_lossy(&head[..40]).contains("\nAES-256\n"));
        let run = |pw: Option<&str>| {
            let modules = vigil_android::android_backup_modules(&ab, pw).unwrap();
            let (records, results) = run_all(&modules);
            (records, results[0].1.clone().map_err(|e| e.to_string()))
        };
        let (records, result) = run(Some("pässwörd 1"));
        result.unwrap();
        assert_eq!(records.len(), 42);
        for p in &planted {
            assert!(records.iter().any(|r| r
                .observables
                .iter()
                .any(|o| o.value.starts_with(&format!("https://{}/", p.value)))));
        }
        let (records, result) = run(Some("password 1"));
        assert!(records.is_empty());
        assert!(result.unwrap_err().contains("wrong backup password"));
        let (_, result) = run(None);
        assert!(result.unwrap_err().contains("give its password"));
        // A cut anywhere in the encrypted body keeps what came before it, never panics.
        for cut in [head.len() - 5, head.len() - 16, head.len() / 2, 700] {
            let p = dir.path().join("cut.ab");
            std::fs::write(&p, &head[..cut]).unwrap();
            let modules = vigil_android::android_backup_modules(&p, Some("pässwörd 1")).unwrap();
            let (records, _) = run_all(&modules);
            assert!(records.len() <= 42);
        }
    }
}
