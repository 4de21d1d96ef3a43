//! `vigil scan PATH` without a kind: every acquisition Vigil reads is
//! recognised from its content, through the binary, and its readers run.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vigil_netlog::synth;
use vigil_testgen::{AndroidBackupSpec, AndroidSpec, IosBackupSpec, Plants};

fn vigil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .env_remove("VIGIL_IOCS_DIR")
        .env_remove("VIGIL_BACKUP_PASSWORD")
        .args(args)
        .output()
        .expect("run vigil")
}

fn tmp(name: &str) -> PathBuf {
    let dir = vigil_testkit::workspace_root()
        .join("target/test-tmp/cli-scan-detect")
        .join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small STIX bundle: one spyware, a domain and a process-name indicator.
fn iocs(dir: &Path) -> String {
    let f = dir.join("testspy.stix2");
    let mut objects = vec![
        serde_json::json!({"type": "malware", "spec_version": "2.1", "id": "malware--6a6b6c6d-0000-4000-8000-000000000001", "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": "TestSpy", "is_family": false}),
    ];
    for (i, pattern) in [
        "[domain-name:value='weather4free.com']",
        "[process:name='sysupd']",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("indicator--6a6b6c6d-0000-4000-8000-00000000010{i}");
        objects.push(serde_json::json!({"type": "indicator", "spec_version": "2.1", "id": id, "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}));
        objects.push(serde_json::json!({"type": "relationship", "spec_version": "2.1", "id": format!("relationship--6a6b6c6d-0000-4000-8000-00000000020{i}"), "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "relationship_type": "indicates", "source_ref": id, "target_ref": "malware--6a6b6c6d-0000-4000-8000-000000000001"}));
    }
    let bundle = serde_json::json!({"type": "bundle", "id": "bundle--6a6b6c6d-0000-4000-8000-000000000000", "objects": objects});
    std::fs::write(&f, bundle.to_string()).unwrap();
    f.display().to_string()
}

fn plants() -> Plants {
    Plants {
        domains: vec!["weather4free.com".into()],
        processes: vec!["sysupd".into()],
        ..Plants::default()
    }
}

/// Scans `path` with no kind given; returns the report's input kind, the
/// detected (module, value) pairs and the modules that failed.
fn scan(path: &Path, iocs: &str, extra: &[&str]) -> (String, Vec<(String, String)>, Vec<String>) {
    let mut args = vec!["scan", path.to_str().unwrap(), "--iocs", iocs, "--json"];
    args.extend_from_slice(extra);
    let out = vigil(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}: {}\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let detections = report["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["module"].as_str().unwrap().to_string(),
                d["indicator_value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let failed = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["error"].is_null())
        .map(|m| m["error"].to_string())
        .collect();
    (
        report["input_kind"].as_str().unwrap().to_string(),
        detections,
        failed,
    )
}

fn has(detections: &[(String, String)], module: &str, value: &str) -> bool {
    detections.iter().any(|(m, v)| m == module && v == value)
}

#[test]
fn ios_backups_plain_and_encrypted() {
    let dir = tmp("ios");
    let iocs = iocs(&dir);
    let spec = IosBackupSpec {
        sms: 20,
        safari_visits: 20,
        plants: plants(),
        ..IosBackupSpec::default()
    };
    let plain = dir.join("00008030-001A");
    vigil_testgen::write_ios_backup(&plain, &spec).unwrap();
    let (kind, found, failed) = scan(&plain, &iocs, &[]);
    assert_eq!(kind, "iOS backup");
    assert!(failed.is_empty(), "{failed:?}");
    assert!(has(&found, "sms", "weather4free.com"), "{found:?}");
    assert!(has(&found, "datausage", "sysupd"), "{found:?}");
    // The folder holding one backup (as Finder's Backup folder does) is recognised too.
    assert_eq!(scan(&dir, &iocs, &[]).0, "iOS backup");

    let enc = dir.join("encrypted");
    let spec = IosBackupSpec {
        password: Some("correct horse".into()),
        ..spec
    };
    vigil_testgen::write_ios_backup(&enc, &spec).unwrap();
    let (kind, found, _) = scan(&enc, &iocs, &["--password", "correct horse"]);
    assert_eq!(kind, "iOS backup");
    assert!(has(&found, "sms", "weather4free.com"), "{found:?}");
    // Without the password: recognised, and the error says what is needed.
    let out = vigil(&["scan", enc.to_str().unwrap(), "--iocs", &iocs]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("as iOS backup") && err.contains("encrypted"),
        "{err}"
    );
}

#[test]
fn ios_file_system_dump_and_sysdiagnose() {
    let dir = tmp("iosfs");
    let iocs = iocs(&dir);
    let fs = dir.join("fs");
    std::fs::create_dir_all(fs.join("private/var/mobile/Library/SMS")).unwrap();
    std::fs::create_dir_all(fs.join("private/var/containers/Bundle/Application")).unwrap();
    let (kind, _, failed) = scan(&fs, &iocs, &[]);
    assert_eq!(kind, "iOS file-system dump");
    assert!(failed.is_empty(), "{failed:?}");

    let sd = dir.join("sysdiagnose_2024.03.01_00-00-00+0000_iPhone-OS_iPhone_21D61.tar.gz");
    vigil_testgen::write_sysdiagnose(&sd, &plants()).unwrap();
    let (kind, found, failed) = scan(&sd, &iocs, &[]);
    assert_eq!(kind, "iOS sysdiagnose");
    assert!(failed.is_empty(), "{failed:?}");
    assert!(has(&found, "processes", "sysupd"), "{found:?}");
}

#[test]
fn android_androidqf_folder_and_zip_bugreport_and_backup() {
    let dir = tmp("android");
    let iocs = iocs(&dir);
    let spec = AndroidSpec {
        seed: 9,
        packages: 10,
        plants: plants(),
    };
    // The androidqf folder (it has a ps.txt, like a sysdiagnose) and its zip.
    let aqf = dir.join("androidqf");
    vigil_testgen::write_androidqf(&aqf, &spec).unwrap();
    vigil_testgen::write_android_backup(
        &aqf.join("backup.ab"),
        &AndroidBackupSpec {
            seed: 1,
            sms: 10,
            compressed: true,
            password: None,
            rounds: 0,
            plants: plants(),
        },
    )
    .unwrap();
    let (kind, found, failed) = scan(&aqf, &iocs, &[]);
    assert_eq!(kind, "androidqf acquisition");
    assert!(failed.is_empty(), "{failed:?}");
    assert!(has(&found, "aqf_processes", "sysupd"), "{found:?}");
    assert!(has(&found, "backup_sms", "weather4free.com"), "{found:?}");
    let zip = dir.join("androidqf.zip");
    vigil_testgen::zip_folder(&aqf, &zip).unwrap();
    let (kind, zip_found, _) = scan(&zip, &iocs, &[]);
    assert_eq!(kind, "androidqf acquisition");
    assert_eq!(zip_found.len(), found.len(), "{zip_found:?} {found:?}");

    let br = dir.join("bugreport-panther-2024-03-01.zip");
    vigil_testgen::write_bugreport(&br, &spec).unwrap();
    let (kind, found, _) = scan(&br, &iocs, &[]);
    assert_eq!(kind, "Android bugreport");
    assert!(has(&found, "processes", "sysupd"), "{found:?}");

    // A backup file alone, under any name.
    let ab = dir.join("phone-2024.ab");
    vigil_testgen::write_android_backup(
        &ab,
        &AndroidBackupSpec {
            seed: 2,
            sms: 30,
            compressed: false,
            password: None,
            rounds: 0,
            plants: plants(),
        },
    )
    .unwrap();
    let (kind, found, failed) = scan(&ab, &iocs, &[]);
    assert_eq!(kind, "Android backup");
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(
        found,
        [("backup_sms".to_string(), "weather4free.com".to_string())]
    );
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn captures_zeek_and_text_logs() {
    let dir = tmp("net");
    let iocs = iocs(&dir);
    const T0: i64 = 1_709_251_200_000_000;
    // A QUIC connection whose ClientHello names a planted domain, in two Initial packets.
    let mut packets = Vec::new();
    for (i, d) in synth::quic_client_initials(
        b"\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11",
        "cdn.weather4free.com",
        2,
    )
    .iter()
    .enumerate()
    {
        packets.push((
            T0 + i as i64,
            synth::udp(ip("10.0.0.2"), ip("203.0.113.9"), 50000, 443, d),
        ));
    }
    let mut pcap = synth::Pcap::new();
    for (t, p) in &packets {
        pcap.packet(*t, p);
    }
    let f = dir.join("capture.bin");
    std::fs::write(&f, pcap.into_bytes()).unwrap();
    let (kind, found, _) = scan(&f, &iocs, &[]);
    assert_eq!(kind, "packet capture");
    assert_eq!(
        found,
        [("pcap".to_string(), "weather4free.com".to_string())]
    );
    let ng = dir.join("capture.pcapng");
    std::fs::write(&ng, synth::pcapng(&packets)).unwrap();
    let (kind, found, _) = scan(&ng, &iocs, &[]);
    assert_eq!(kind, "packet capture");
    assert_eq!(found.len(), 1);

    let zeek = dir.join("dns.log");
    std::fs::write(
        &zeek,
        "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tstring\n1709251200.000000\tC1\t10.0.0.2\t5353\t10.0.0.1\t53\tudp\t1\tx.weather4free.com\n",
    )
    .unwrap();
    let (kind, found, _) = scan(&zeek, &iocs, &[]);
    assert_eq!(kind, "Zeek logs");
    assert_eq!(found.len(), 1, "{found:?}");

    let log = dir.join("proxy.log");
    std::fs::write(
        &log,
        "2024-03-01T00:00:00Z GET https://weather4free.com/a 200\n2024-03-01T00:00:01Z GET https://example.org/ 200\n",
    )
    .unwrap();
    let (kind, found, _) = scan(&log, &iocs, &[]);
    assert_eq!(kind, "text log");
    assert_eq!(found.len(), 1, "{found:?}");
}
