use std::io::Write;

use vigil_artefact::ObservableKind as K;

use crate::{observed, run_all};

const SHUTDOWN: &str = "\
remaining client pid: 1 (/sbin/launchd)
remaining client pid: 4242 (/private/var/db/com.apple.xpc.roleaccountd.staging/bh)
After 3.21s, these clients are still here:
remaining client pid: 4242 (/private/var/db/com.apple.xpc.roleaccountd.staging/bh)
SIGTERM: [1700000000]
";

const IPS: &str = "{\"app_name\":\"msgacntd\",\"timestamp\":\"2023-11-14 22:13:20.00 +0000\",\"bug_type\":\"309\",\"name\":\"msgacntd\"}\n{\"procPath\":\"/private/var/tmp/msgacntd\",\"procName\":\"msgacntd\",\"bundleInfo\":{\"CFBundleIdentifier\":\"com.apple.msgacntd\"}}";

fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // Raw name bytes so that hostile names ("../x") can be written too.
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn sysdiagnose_archive_yields_shutdown_clients_crashes_and_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("sysdiagnose_2023.11.14_22-13-20+0000_iPhone-OS_iPhone_21B101.tar.gz");
    let ps =
        "USER UID PID PPID COMMAND\nroot 0 1 0 /sbin/launchd\nmobile 501 77 1 /usr/libexec/fmfd\n";
    let data = tar_gz(&[
        (
            "sysdiagnose_x/system_logs.logarchive/Extra/shutdown.log",
            SHUTDOWN.as_bytes(),
        ),
        (
            "sysdiagnose_x/crashes_and_spins/msgacntd-2023-11-14-221320.ips",
            IPS.as_bytes(),
        ),
        ("sysdiagnose_x/ps.txt", ps.as_bytes()),
        (
            "../../escape/shutdown.log",
            b"remaining client pid: 9 (/tmp/evil)\n",
        ),
    ]);
    std::fs::write(&path, data).unwrap();
    assert!(vigil_ios::looks_like_sysdiagnose(&path));
    let (records, results) = run_all(&vigil_ios::sysdiagnose_modules(&path).unwrap());
    for (name, r) in &results {
        assert!(r.is_ok(), "{name}: {r:?}");
    }
    // Nothing was extracted next to the archive.
    assert!(!dir.path().parent().unwrap().join("escape").exists());
    let obs = observed(&records);
    assert!(obs.contains(&(
        "shutdown_log".into(),
        K::FilePath,
        "/private/var/db/com.apple.xpc.roleaccountd.staging/bh".into()
    )));
    assert!(obs.contains(&("shutdown_log".into(), K::ProcessName, "bh".into())));
    let bh: Vec<_> = records
        .iter()
        .filter(|r| {
            r.module == "shutdown_log" && r.data["client"].as_str().unwrap().ends_with("/bh")
        })
        .collect();
    assert_eq!(bh.len(), 2);
    assert!(bh
        .iter()
        .all(|r| r.timestamp == Some(1_700_000_000_000_000)));
    assert!(obs.contains(&(
        "crash_logs".into(),
        K::FilePath,
        "/private/var/tmp/msgacntd".into()
    )));
    assert!(obs.contains(&("crash_logs".into(), K::AppId, "com.apple.msgacntd".into())));
    let crash = records.iter().find(|r| r.module == "crash_logs").unwrap();
    assert_eq!(crash.timestamp, Some(1_700_000_000_000_000));
    assert!(obs.contains(&("processes".into(), K::ProcessName, "fmfd".into())));
    let ps = records
        .iter()
        .find(|r| r.module == "processes" && r.data["command"] == "/usr/libexec/fmfd")
        .unwrap();
    assert_eq!(ps.provenance.line, Some(3));
}

#[test]
fn truncated_or_garbage_archive_is_a_module_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sysdiagnose_truncated.tar.gz");
    let data = tar_gz(&[("a/shutdown.log", SHUTDOWN.repeat(2000).as_bytes())]);
    std::fs::write(&path, &data[..data.len() / 2]).unwrap();
    let (_, results) = run_all(&vigil_ios::sysdiagnose_modules(&path).unwrap());
    for (name, r) in &results {
        let e = r.as_ref().unwrap_err();
        assert!(e.file.starts_with("sysdiagnose_truncated"), "{name}: {e}");
    }
    let garbage = dir.path().join("sysdiagnose_garbage.tar.gz");
    let mut f = std::fs::File::create(&garbage).unwrap();
    f.write_all(&[0x1f, 0x8b, 0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    let (_, results) = run_all(&vigil_ios::sysdiagnose_modules(&garbage).unwrap());
    assert!(results.iter().all(|(_, r)| r.is_err()));
}

#[test]
fn extracted_sysdiagnose_folder_is_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sysdiagnose_2023.11.14");
    std::fs::create_dir_all(root.join("system_logs.logarchive/Extra")).unwrap();
    std::fs::write(
        root.join("system_logs.logarchive/Extra/shutdown.log"),
        SHUTDOWN,
    )
    .unwrap();
    assert!(vigil_ios::looks_like_sysdiagnose(&root));
    let (records, _) = run_all(&vigil_ios::sysdiagnose_modules(&root).unwrap());
    assert_eq!(
        records
            .iter()
            .filter(|r| r.module == "shutdown_log")
            .count(),
        3
    );
}
