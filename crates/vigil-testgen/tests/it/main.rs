//! Tests of the generator: determinism, real schemas, and that MVT's own
//! decryption accepts the encrypted backups it writes.

use std::path::Path;

use vigil_testgen::{
    write_androidqf, write_bugreport, write_ios_backup, AndroidSpec, IosBackupSpec, Plants,
};

fn tree_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn spec(seed: u64, password: Option<&str>) -> IosBackupSpec {
    IosBackupSpec {
        seed,
        sms: 50,
        safari_visits: 50,
        password: password.map(str::to_string),
        plants: Plants {
            domains: vec!["evil.example".into()],
            processes: vec!["bh".into()],
            ..Plants::default()
        },
        ..IosBackupSpec::default()
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    write_ios_backup(a.path(), &spec(5, Some("pw"))).unwrap();
    write_ios_backup(b.path(), &spec(5, Some("pw"))).unwrap();
    write_ios_backup(c.path(), &spec(6, Some("pw"))).unwrap();
    assert_eq!(tree_bytes(a.path()), tree_bytes(b.path()));
    assert_ne!(tree_bytes(a.path()), tree_bytes(c.path()));
    let (x, y) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let s = AndroidSpec {
        seed: 9,
        packages: 10,
        plants: Plants::default(),
    };
    write_androidqf(x.path(), &s).unwrap();
    write_androidqf(y.path(), &s).unwrap();
    assert_eq!(tree_bytes(x.path()), tree_bytes(y.path()));
}

#[test]
fn plain_backup_has_the_real_tables_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let planted = write_ios_backup(dir.path(), &spec(1, None)).unwrap();
    assert!(planted
        .iter()
        .any(|p| p.module == "sms" && p.value == "evil.example"));
    let sms = rusqlite::Connection::open(vigil_testgen::stored_path(
        dir.path(),
        "HomeDomain",
        "Library/SMS/sms.db",
    ))
    .unwrap();
    let n: i64 = sms
        .query_row(
            "SELECT count(*) FROM message JOIN handle ON handle.ROWID = message.handle_id",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 50);
    let hits: i64 = sms
        .query_row(
            "SELECT count(*) FROM message WHERE text LIKE '%evil.example/%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hits, 1);
    let manifest = rusqlite::Connection::open(dir.path().join("Manifest.db")).unwrap();
    let id: String = manifest
        .query_row("SELECT fileID FROM Files WHERE domain = 'HomeDomain' AND relativePath = 'Library/SMS/sms.db'", [], |r| r.get(0))
        .unwrap();
    // The well-known file id of sms.db in every iOS backup.
    assert_eq!(id, "3d0d7e5fb2ce288813306e4d4636395e047a3d28");
}

/// MVT (through iphone_backup_decrypt) decrypts the generated encrypted backup to exactly the plain one.
#[test]
fn mvt_decrypts_generated_encrypted_backups() {
    let Some(python) = vigil_testkit::python() else {
        return;
    };
    let mvt = python.with_file_name("mvt-ios");
    let (plain, enc, out) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    write_ios_backup(plain.path(), &spec(4, None)).unwrap();
    write_ios_backup(enc.path(), &spec(4, Some("hunter2"))).unwrap();
    let status = std::process::Command::new(&mvt)
        .args(["decrypt-backup", "-p", "hunter2", "-d"])
        .arg(out.path().join("dec"))
        .arg(enc.path())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for (domain, rel) in [
        ("HomeDomain", "Library/SMS/sms.db"),
        ("HomeDomain", "Library/Safari/History.db"),
        ("WirelessDomain", "Library/Databases/DataUsage.sqlite"),
    ] {
        let a = std::fs::read(vigil_testgen::stored_path(plain.path(), domain, rel)).unwrap();
        let b = std::fs::read(vigil_testgen::stored_path(
            &out.path().join("dec"),
            domain,
            rel,
        ))
        .unwrap();
        assert!(a == b, "{rel} differs after MVT decryption");
    }
    // And a wrong password is refused by MVT too.
    let bad = std::process::Command::new(&mvt)
        .args(["decrypt-backup", "-p", "nope", "-d"])
        .arg(out.path().join("bad"))
        .arg(enc.path())
        .output()
        .unwrap();
    assert!(!bad.status.success(), "MVT accepted a wrong password");
    assert!(!out
        .path()
        .join("bad/3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28")
        .exists());
}

#[test]
fn bugreport_is_a_zip_with_a_main_entry() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("br.zip");
    let planted = write_bugreport(
        &p,
        &AndroidSpec {
            seed: 1,
            packages: 5,
            plants: Plants {
                app_ids: vec!["com.x.y".into()],
                ..Plants::default()
            },
        },
    )
    .unwrap();
    assert_eq!(planted.iter().filter(|p| p.value == "com.x.y").count(), 6);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&p).unwrap()).unwrap();
    let mut entry = String::new();
    std::io::Read::read_to_string(&mut z.by_name("main_entry.txt").unwrap(), &mut entry).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut z.by_name(&entry).unwrap(), &mut text).unwrap();
    assert!(text.contains("DUMP OF SERVICE package:") && text.contains("  Package [com.x.y]"));
}
