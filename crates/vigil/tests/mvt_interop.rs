//! Interop with Amnesty Tech's Mobile Verification Toolkit (MVT).
//!
//! Generated acquisitions with planted indicator hits are checked by MVT
//! (`mvt-ios check-backup`, `mvt-android check-androidqf`/`check-bugreport`,
//! from the pinned interop environment) and by Vigil's readers, with the same
//! public STIX indicator files. Every MVT detection must also be a Vigil
//! detection; every extra Vigil detection must be listed in [`EXPLAINED`]
//! with the reason.
//!
//! Vigil's side is the real `vigil scan` binary on the same input and the same
//! indicator files; its `detections.json` is compared with MVT's `alerts.json`
//! as (module, indicator value) pairs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigil_testgen::{AndroidSpec, IosBackupSpec, Plants};

/// Extra Vigil detections in any acquisition, by Vigil module, and why MVT does not report them.
const EXPLAINED: &[(&str, &str)] = &[(
    "aqf_logcat",
    "MVT has no logcat module for androidqf; Vigil extracts the URLs in logcat and checks their hosts",
)];

/// MVT module names that Vigil names differently.
const MVT_TO_VIGIL: &[(&str, &str)] = &[
    ("aqf_get_prop", "aqf_getprop"),
    ("dumpsys_get_prop", "getprop"),
];

fn stix_dir() -> PathBuf {
    vigil_testkit::workspace_root().join("data/indicators")
}

/// (module, indicator value) of every MVT alert that matched an indicator.
fn run_mvt(
    tool: &str,
    sub: &[&str],
    iocs: &[PathBuf],
    input: &Path,
    out: &Path,
) -> BTreeSet<(String, String)> {
    let python = vigil_testkit::python().expect("checked by the caller");
    let mut cmd = Command::new(python.with_file_name(tool));
    cmd.args(sub);
    for f in iocs {
        cmd.arg("--iocs").arg(f);
    }
    let res = cmd.arg("--output").arg(out).arg(input).output().unwrap();
    assert!(
        res.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    let alerts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("alerts.json")).unwrap()).unwrap();
    alerts
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| {
            let value = a["matched_indicator"]["value"].as_str()?;
            let module = a["module"].as_str()?;
            let module = MVT_TO_VIGIL
                .iter()
                .find(|(m, _)| *m == module)
                .map_or(module, |(_, v)| *v);
            Some((module.to_string(), value.to_ascii_lowercase()))
        })
        .collect()
}

/// (module, indicator value) of every detection of the `vigil scan` binary, from its `detections.json`.
fn run_vigil(
    kind: &str,
    input: &Path,
    iocs: &[PathBuf],
    extra: &[&str],
    out: &Path,
) -> BTreeSet<(String, String)> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.arg("scan").arg(kind).arg(input).args(extra);
    for f in iocs {
        cmd.arg("--iocs").arg(f);
    }
    let res = cmd
        .arg("--output")
        .arg(out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(
        res.status.code(),
        Some(1),
        "vigil scan should exit 1 (detections): {}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    let detections: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("detections.json")).unwrap()).unwrap();
    detections
        .as_array()
        .expect("detections.json is an array")
        .iter()
        .map(|d| {
            let module = d["module"].as_str().expect("module");
            let value = d["indicator_value"].as_str().expect("indicator_value");
            (module.to_string(), value.to_ascii_lowercase())
        })
        .collect()
}

/// In androidqf only: MVT's `check-androidqf` reads dumpsys output only from a nested
/// bugreport.zip, while Vigil also parses androidqf's own `dumpsys.txt`.
const EXPLAINED_ANDROIDQF: &[(&str, &str)] = &[
    (
        "dumpsys_packages",
        "read from androidqf's dumpsys.txt, which MVT's check-androidqf does not parse",
    ),
    (
        "dumpsys_receivers",
        "read from androidqf's dumpsys.txt, which MVT's check-androidqf does not parse",
    ),
    (
        "dumpsys_activities",
        "read from androidqf's dumpsys.txt, which MVT's check-androidqf does not parse",
    ),
    (
        "dumpsys_appops",
        "read from androidqf's dumpsys.txt, which MVT's check-androidqf does not parse",
    ),
    (
        "dumpsys_battery_daily",
        "read from androidqf's dumpsys.txt, which MVT's check-androidqf does not parse",
    ),
    (
        "dumpsys_battery_history",
        "read from androidqf's dumpsys.txt, which MVT's check-androidqf does not parse",
    ),
];

/// Every MVT detection must be a Vigil detection; every extra Vigil one must be explained.
fn compare(
    what: &str,
    mvt: &BTreeSet<(String, String)>,
    vigil: &BTreeSet<(String, String)>,
    explained: &[(&str, &str)],
) {
    assert!(
        !mvt.is_empty(),
        "MVT found nothing: the planted hits did not work"
    );
    let missing: Vec<_> = mvt.difference(vigil).collect();
    assert!(
        missing.is_empty(),
        "{what}: MVT detections Vigil lacks: {missing:?}\nVigil: {vigil:?}"
    );
    eprintln!(
        "{what}: MVT {} detections, Vigil {} ({} more)",
        mvt.len(),
        vigil.len(),
        vigil.len() - mvt.len()
    );
    for extra in vigil.difference(mvt) {
        let why = EXPLAINED
            .iter()
            .chain(explained)
            .find(|(m, _)| *m == extra.0);
        let Some((_, why)) = why else {
            panic!("{what}: unexplained extra Vigil detection {extra:?}")
        };
        eprintln!("  extra {extra:?}: {why}");
    }
}

fn ios_spec(password: Option<&str>) -> IosBackupSpec {
    IosBackupSpec {
        seed: 2021,
        sms: 120,
        safari_visits: 120,
        whatsapp_contacts: 0,
        password: password.map(str::to_string),
        rounds: (50, 50),
        plants: Plants {
            // Pegasus (Amnesty, 2021): domains, process names, a file name.
            domains: vec![
                "weather4free.com".into(),
                "bestfriendneedshelp.com".into(),
                "storelive.co".into(),
            ],
            processes: vec![
                "fservernetd".into(),
                "ReminderIntentsUIExtension".into(),
                "accountpfd".into(),
            ],
            file_paths: vec!["/private/var/mobile/Library/Preferences/roleaccountd.plist".into()],
            ..Plants::default()
        },
    }
}

#[test]
fn ios_backup_every_mvt_detection_is_a_vigil_detection() {
    if vigil_testkit::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    vigil_testgen::write_ios_backup(&backup, &ios_spec(None)).unwrap();
    let files = vec![stix_dir().join("investigations/2021-07-18_nso/pegasus.stix2")];
    let mvt = run_mvt(
        "mvt-ios",
        &["check-backup"],
        &files,
        &backup,
        &dir.path().join("mvt"),
    );
    let vigil = run_vigil(
        "ios-backup",
        &backup,
        &files,
        &[],
        &dir.path().join("vigil"),
    );
    compare("iOS backup", &mvt, &vigil, &[]);
    // The planted hits are all there (MVT reports each of them too).
    for m in ["sms", "safari_history", "datausage", "sms_attachments"] {
        assert!(
            mvt.iter().any(|(x, _)| x == m),
            "no MVT detection in {m}: {mvt:?}"
        );
    }
}

/// MVT needs the backup decrypted first (`decrypt-backup`); Vigil reads it encrypted.
#[test]
fn encrypted_ios_backup_vigil_reads_directly_what_mvt_finds_after_decrypting() {
    if vigil_testkit::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("enc");
    vigil_testgen::write_ios_backup(&backup, &ios_spec(Some("journalist-2024"))).unwrap();
    let python = vigil_testkit::python().unwrap();
    let decrypted = dir.path().join("dec");
    let res = Command::new(python.with_file_name("mvt-ios"))
        .args(["decrypt-backup", "-p", "journalist-2024", "-d"])
        .arg(&decrypted)
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let files = vec![stix_dir().join("investigations/2021-07-18_nso/pegasus.stix2")];
    let mvt = run_mvt(
        "mvt-ios",
        &["check-backup"],
        &files,
        &decrypted,
        &dir.path().join("mvt"),
    );
    let vigil = run_vigil(
        "ios-backup",
        &backup,
        &files,
        &["--password", "journalist-2024"],
        &dir.path().join("vigil"),
    );
    compare("encrypted iOS backup", &mvt, &vigil, &[]);
}

fn android_spec() -> AndroidSpec {
    AndroidSpec {
        seed: 2024,
        packages: 30,
        plants: Plants {
            // NoviSpy (Amnesty, 2024) and the 2023 Android campaign set.
            app_ids: vec!["com.gu.activity".into()],
            cert_hashes: vec![
                "3ac97735164824657b683e805133b1274b2dedabf9fdd6aa9aca31089d501e64".into(),
            ],
            sha256: vec!["d55e492d5fce87898e065572a5553d1ac1389cd12bf3d28cabc1218cb29780af".into()],
            properties: vec!["sys.brand.note".into()],
            processes: vec!["sysupd".into()],
            domains: vec!["automatedrelax.org".into()],
            ..Plants::default()
        },
    }
}

fn android_iocs() -> Vec<PathBuf> {
    vec![
        stix_dir().join("investigations/2024-12-16_serbia_novispy/novispy.stix2"),
        stix_dir().join("investigations/2023-03-29_android_campaign/malware.stix2"),
    ]
}

#[test]
fn androidqf_every_mvt_detection_is_a_vigil_detection() {
    if vigil_testkit::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let acq = dir.path().join("androidqf");
    vigil_testgen::write_androidqf(&acq, &android_spec()).unwrap();
    let files = android_iocs();
    let mvt = run_mvt(
        "mvt-android",
        &["check-androidqf"],
        &files,
        &acq,
        &dir.path().join("mvt"),
    );
    let vigil = run_vigil("androidqf", &acq, &files, &[], &dir.path().join("vigil"));
    compare("androidqf", &mvt, &vigil, EXPLAINED_ANDROIDQF);
    for v in ["com.gu.activity", "sys.brand.note"] {
        assert!(
            mvt.iter().any(|(_, x)| x == v),
            "{v} not detected by MVT: {mvt:?}"
        );
    }
}

#[test]
fn bugreport_every_mvt_detection_is_a_vigil_detection() {
    if vigil_testkit::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("bugreport.zip");
    vigil_testgen::write_bugreport(&zip, &android_spec()).unwrap();
    let files = android_iocs();
    let mvt = run_mvt(
        "mvt-android",
        &["check-bugreport"],
        &files,
        &zip,
        &dir.path().join("mvt"),
    );
    let vigil = run_vigil(
        "android-bugreport",
        &zip,
        &files,
        &[],
        &dir.path().join("vigil"),
    );
    compare("bugreport", &mvt, &vigil, &[]);
    assert!(mvt.len() >= 6, "{mvt:?}");
}

#[test]
fn android_backup_every_mvt_detection_is_a_vigil_detection() {
    if vigil_testkit::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = android_iocs();
    // Compressed, plain, and encrypted (MVT's own decryption is the oracle for
    // the key derivation, including Android's widening of the master key's bytes).
    for (n, (compressed, password)) in [(true, None), (false, None), (true, Some("pässwörd 1"))]
        .into_iter()
        .enumerate()
    {
        let ab = dir.path().join(format!("backup-{n}.ab"));
        vigil_testgen::write_android_backup(
            &ab,
            &vigil_testgen::AndroidBackupSpec {
                seed: 2024 + n as u64,
                sms: 200,
                compressed,
                password: password.map(str::to_string),
                rounds: 10_000,
                plants: android_spec().plants,
            },
        )
        .unwrap();
        let out = dir.path().join(format!("mvt-{n}"));
        let mut sub = vec!["check-backup"];
        let mut extra = vec![];
        if let Some(pw) = password {
            sub.extend(["--backup-password", pw]);
            extra.extend(["--password", pw]);
        }
        // MVT's backup SMS module is `sms`; Vigil names it `backup_sms` (the iOS one is `sms`).
        let mvt: BTreeSet<(String, String)> = run_mvt("mvt-android", &sub, &files, &ab, &out)
            .into_iter()
            .map(|(m, v)| (if m == "sms" { "backup_sms".into() } else { m }, v))
            .collect();
        let vigil = run_vigil(
            "android-backup",
            &ab,
            &files,
            &extra,
            &dir.path().join(format!("vigil-{n}")),
        );
        compare("Android backup", &mvt, &vigil, &[]);
        assert_eq!(
            mvt,
            BTreeSet::from([("backup_sms".to_string(), "automatedrelax.org".to_string())])
        );
    }
}
