//! Integration tests of the Android readers on generated acquisitions.

mod backup;

use std::io::Write;
use std::path::Path;

use vigil_artefact::{ObservableKind as K, Record};
use vigil_testgen::check::{observed, run_all};
use vigil_testgen::{write_androidqf, write_bugreport, AndroidSpec, Planted, Plants};

fn spec() -> AndroidSpec {
    AndroidSpec {
        seed: 3,
        packages: 40,
        plants: Plants {
            domains: vec!["c2.example-spy.net".into()],
            processes: vec!["sysupd".into()],
            app_ids: vec!["com.gu.activity".into()],
            properties: vec!["sys.brand.note".into()],
            sha256: vec!["d55e492d5fce87898e065572a5553d1ac1389cd12bf3d28cabc1218cb29780af".into()],
            cert_hashes: vec![
                "3ac97735164824657b683e805133b1274b2dedabf9fdd6aa9aca31089d501e64".into(),
            ],
            file_paths: vec!["/data/local/tmp/sysupd".into()],
        },
    }
}

fn assert_found(records: &[Record], planted: &[Planted]) {
    let obs = observed(records);
    for p in planted {
        let hit = obs.iter().any(|(m, k, v)| {
            m == p.module
                && (v == &p.value
                    || (*k == K::Url && v.contains(&format!("//{}/", p.value)))
                    || (*k == K::FilePath && v.ends_with(&format!("/{}", p.value))))
        });
        assert!(hit, "planted {p:?} not observed");
    }
}

#[test]
fn bugreport_modules_find_every_planted_value() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("bugreport.zip");
    let planted = write_bugreport(&zip, &spec()).unwrap();
    assert!(planted.len() >= 7);
    assert!(vigil_android::looks_like_bugreport(&zip));
    assert!(!vigil_android::looks_like_androidqf(&zip));
    let (records, results) = run_all(&vigil_android::bugreport_modules(&zip).unwrap());
    for (name, r) in &results {
        assert!(r.is_ok(), "{name}: {r:?}");
    }
    assert_found(&records, &planted);
    let pkg = records
        .iter()
        .find(|r| r.module == "dumpsys_packages" && r.data["package_name"] == "com.gu.activity")
        .unwrap();
    assert!(pkg.provenance.file.starts_with("bugreport-") && pkg.provenance.line.is_some());
    assert!(pkg.timestamp.is_some());
    // 40 benign packages (some names repeat) plus the planted one, each a record.
    let n = records
        .iter()
        .filter(|r| r.module == "dumpsys_packages")
        .count();
    assert!(n > 20 && n <= 41, "{n}");
    let tomb = records.iter().find(|r| r.module == "tombstones").unwrap();
    assert!(tomb
        .observables
        .iter()
        .any(|o| o.kind == K::FilePath && o.value == "/data/local/tmp/sysupd"));
    // 2024-03-01 00:00:00 UTC
    assert_eq!(tomb.timestamp, Some(1_709_251_200_000_000));
}

#[test]
fn androidqf_modules_find_every_planted_value() {
    let dir = tempfile::tempdir().unwrap();
    let acq = dir.path().join("acq");
    let planted = write_androidqf(&acq, &spec()).unwrap();
    assert!(vigil_android::looks_like_androidqf(&acq));
    assert!(!vigil_android::looks_like_bugreport(&acq));
    let (records, results) = run_all(&vigil_android::androidqf_modules(&acq).unwrap());
    for (name, r) in &results {
        assert!(r.is_ok(), "{name}: {r:?}");
    }
    assert_found(&records, &planted);
    let obs = observed(&records);
    assert!(obs.contains(&(
        "aqf_packages".into(),
        K::AppCertHash,
        spec().plants.cert_hashes[0].clone()
    )));
    assert!(obs.contains(&(
        "aqf_packages".into(),
        K::FileHash,
        spec().plants.sha256[0].clone()
    )));
    assert!(obs.contains(&("aqf_processes".into(), K::ProcessName, "sysupd".into())));
    // dumpsys.txt inside the acquisition is read by the dumpsys modules.
    assert!(obs.contains(&(
        "dumpsys_packages".into(),
        K::AppId,
        "com.gu.activity".into()
    )));
}

#[test]
fn androidqf_zip_is_read_like_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let acq = dir.path().join("acq");
    write_androidqf(&acq, &spec()).unwrap();
    let zip_path = dir.path().join("acq.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for e in std::fs::read_dir(&acq).unwrap() {
        let e = e.unwrap();
        z.start_file(
            format!("acq/{}", e.file_name().to_string_lossy()),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        z.write_all(&std::fs::read(e.path()).unwrap()).unwrap();
    }
    z.finish().unwrap();
    let (a, _) = run_all(&vigil_android::androidqf_modules(&acq).unwrap());
    let (b, _) = run_all(&vigil_android::androidqf_modules(&zip_path).unwrap());
    assert_eq!(observed(&a), observed(&b));
}

fn zip_with(path: &Path, entries: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn hostile_archives_are_reported_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    // Path traversal in member names and a main_entry.txt pointing outside.
    let evil = dir.path().join("evil.zip");
    zip_with(
        &evil,
        &[
            ("main_entry.txt", b"../../etc/passwd"),
            ("../../x/bugreport-a.txt", b"DUMP OF SERVICE package:\n"),
        ],
    );
    let (_, results) = run_all(&vigil_android::bugreport_modules(&evil).unwrap());
    let (_, r) = &results[0];
    assert!(r
        .as_ref()
        .unwrap_err()
        .message
        .contains("not in the archive"));
    assert!(!dir.path().join("x").exists() && !dir.path().parent().unwrap().join("x").exists());

    // A compression bomb: 16 MiB of zeros without a newline; lines are capped, memory stays small.
    let bomb = dir.path().join("bomb.zip");
    let zeros = vec![0u8; 16 << 20];
    zip_with(
        &bomb,
        &[
            ("main_entry.txt", b"bugreport-b.txt"),
            ("bugreport-b.txt", &zeros),
        ],
    );
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let (records, results) = run_all(&vigil_android::bugreport_modules(&bomb).unwrap());
    assert!(records.is_empty());
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");

    // A truncated archive is not recognised, with a clear error.
    let br = dir.path().join("br.zip");
    write_bugreport(&br, &spec()).unwrap();
    let bytes = std::fs::read(&br).unwrap();
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(!vigil_android::looks_like_bugreport(&cut));
    let e = vigil_android::bugreport_modules(&cut).err().unwrap();
    assert!(e.to_string().contains("cut.zip"), "{e}");

    // Binary garbage.
    let junk = dir.path().join("junk.zip");
    std::fs::write(
        &junk,
        (0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(vigil_android::bugreport_modules(&junk).is_err());
    assert!(vigil_android::androidqf_modules(&junk).is_err());
}

#[test]
fn corrupt_member_fails_only_its_module() {
    let dir = tempfile::tempdir().unwrap();
    let acq = dir.path().join("acq");
    write_androidqf(&acq, &spec()).unwrap();
    std::fs::write(
        acq.join("packages.json"),
        b"[{\"name\": \"com.a\", \"files\": [",
    )
    .unwrap();
    let (records, results) = run_all(&vigil_android::androidqf_modules(&acq).unwrap());
    let pk = results
        .iter()
        .find(|(n, _)| n == "aqf_packages")
        .unwrap()
        .1
        .as_ref()
        .unwrap_err();
    assert_eq!(pk.file, "packages.json");
    assert!(pk.message.contains("invalid JSON"), "{}", pk.message);
    assert!(records.iter().any(|r| r.module == "aqf_getprop"));
    #[cfg(unix)]
    {
        // A symbolic link inside the acquisition is never followed.
        std::fs::remove_file(acq.join("getprop.txt")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", acq.join("getprop.txt")).unwrap();
        let (records, _) = run_all(&vigil_android::androidqf_modules(&acq).unwrap());
        assert!(!records.iter().any(|r| r.module == "aqf_getprop"));
    }
}
