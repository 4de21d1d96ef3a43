//! Synthetic Android acquisitions: androidqf folders and bugreport zips.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::{io_err, Error, Planted, Plants, Rng};

/// What Android acquisition to write.
#[derive(Debug, Clone, Default)]
pub struct AndroidSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of benign installed packages (besides the planted ones).
    pub packages: usize,
    /// Indicator values to plant.
    pub plants: Plants,
}

const VENDORS: &[&str] = &[
    "com.android",
    "com.google.android",
    "org.mozilla",
    "com.whatsapp",
    "org.thoughtcrime",
    "com.example",
    "net.osmand",
];
const APPS: &[&str] = &[
    "browser", "gm", "calendar", "contacts", "dialer", "camera", "maps", "music", "notes",
    "weather", "keyboard", "files",
];
const SYSTEM_PROCS: &[&str] = &[
    "/system/bin/init",
    "/system/bin/surfaceflinger",
    "/system/bin/netd",
    "/system/bin/vold",
    "zygote64",
    "system_server",
    "com.android.phone",
    "com.google.android.gms.persistent",
];

fn benign_packages(rng: &mut Rng, n: usize) -> Vec<String> {
    let mut out: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "{}.{}{}",
                rng.pick(VENDORS),
                rng.pick(APPS),
                if i >= APPS.len() {
                    i.to_string()
                } else {
                    String::new()
                }
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn getprop_text(plants: &Plants) -> String {
    let mut s = String::new();
    for (k, v) in [
        ("ro.build.version.release", "14"),
        ("ro.build.version.sdk", "34"),
        ("ro.build.version.security_patch", "2024-02-05"),
        ("ro.product.model", "Pixel 7"),
        ("ro.product.manufacturer", "Google"),
        ("persist.sys.timezone", "UTC"),
        ("ro.boot.verifiedbootstate", "green"),
    ] {
        let _ = writeln!(s, "[{k}]: [{v}]");
    }
    for p in &plants.properties {
        let _ = writeln!(s, "[{p}]: [1]");
    }
    s
}

fn ps_text(plants: &Plants, packages: &[String]) -> String {
    let mut s =
        String::from("USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME\n");
    let mut pid = 1;
    let procs = SYSTEM_PROCS
        .iter()
        .map(|p| p.to_string())
        .chain(packages.iter().take(10).cloned())
        .chain(plants.processes.iter().cloned());
    for p in procs {
        let _ = writeln!(
            s,
            "root          {pid:>4}     1 10846040  12345 do_epoll_wait       0 S {p}"
        );
        pid += 37;
    }
    s
}

/// A dumpstate-style dumpsys text with the package, appops, batterystats and dbinfo services.
fn dumpsys_text(rng: &mut Rng, plants: &Plants, packages: &[String]) -> String {
    let all: Vec<&String> = packages.iter().chain(plants.app_ids.iter()).collect();
    let sep = "-".repeat(79);
    let mut s = String::new();
    let _ = writeln!(s, "{sep}\nDUMP OF SERVICE package:");
    s.push_str("Receiver Resolver Table:\n  Non-Data Actions:\n      android.provider.Telephony.SMS_RECEIVED:\n");
    for p in &all {
        let _ = writeln!(s, "        {} {p}/.SmsReceiver", rng.hex(4));
    }
    s.push_str(
        "\nActivity Resolver Table:\n  Non-Data Actions:\n      android.intent.action.MAIN:\n",
    );
    for p in &all {
        let _ = writeln!(s, "        {} {p}/.MainActivity", rng.hex(4));
    }
    s.push_str("\nPackages:\n");
    for (i, p) in all.iter().enumerate() {
        let _ = writeln!(
            s,
            "  Package [{p}] ({}):\n    userId={}\n    pkg=Package{{{} {p}}}\n    codePath=/data/app/~~{}==/{p}-{}==\n    versionCode={} minSdk=26 targetSdk=34\n    versionName=1.{i}\n    timeStamp=2024-02-0{} 10:00:00\n    firstInstallTime=2024-02-0{} 10:00:00\n    lastUpdateTime=2024-02-0{} 10:00:00\n    installerPackageName=com.android.vending",
            rng.hex(4), 10_000 + i, rng.hex(4), rng.hex(8), rng.hex(8), 100 + i, 1 + i % 9, 1 + i % 9, 1 + i % 9
        );
    }
    let _ = writeln!(s, "--------- 0.210s was the duration of dumpsys package, ending at: 2024-03-01 00:00:01\n{sep}\nDUMP OF SERVICE appops:\nCurrent AppOps Service state:");
    for (i, p) in all.iter().enumerate() {
        let _ = writeln!(s, "  Uid u0a{}:\n    state=cch\n    Package {p}:\n      READ_SMS (allow):\n        null=[Access: 2024-02-29 10:00:00.000 (-1d0h0m0s0ms)]", 100 + i);
    }
    let _ = writeln!(s, "--------- 0.050s was the duration of dumpsys appops, ending at: 2024-03-01 00:00:02\n{sep}\nDUMP OF SERVICE batterystats:\nBattery History (1% used, 4096 used of 4096KB, 3 strings using 200):");
    // Planted packages first, so that they are in the history however many benign ones there are.
    let history = plants.app_ids.iter().chain(packages.iter().take(20));
    for (i, p) in history.enumerate() {
        let _ = writeln!(
            s,
            "           +{i}m00s000ms (2) 100 c0900020 +job=u0a{}:\"{p}/.SyncJob\"",
            100 + i
        );
    }
    s.push_str("\nDaily stats:\n  Current start time: 2024-03-01-00-00-00\n  Daily from 2024-02-29-00-00-00 to 2024-03-01-00-00-00:\n");
    for p in plants.app_ids.iter() {
        let _ = writeln!(s, "    Update {p} vers=42");
    }
    let _ = writeln!(s, "--------- 0.020s was the duration of dumpsys batterystats, ending at: 2024-03-01 00:00:03\n{sep}\nDUMP OF SERVICE dbinfo:\nApplications Database Info:\n");
    for p in all.iter().take(10) {
        let _ = writeln!(s, "** Database info for pid 1234 [{p}] **\n\nConnection pool for /data/user/0/{p}/databases/main.db:\n  Open: true\n");
    }
    let _ = writeln!(s, "--------- 0.010s was the duration of dumpsys dbinfo, ending at: 2024-03-01 00:00:04\n{sep}");
    s
}

fn write(path: &Path, data: impl AsRef<[u8]>) -> Result<(), Error> {
    std::fs::write(path, data).map_err(io_err(path))
}

fn json(path: &Path, v: &serde_json::Value) -> Result<(), Error> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::Format {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    write(path, s)
}

/// Writes an androidqf acquisition folder into `dir` and returns the planted hits.
pub fn write_androidqf(dir: &Path, spec: &AndroidSpec) -> Result<Vec<Planted>, Error> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut rng = Rng::new(spec.seed);
    let plants = &spec.plants;
    let benign = benign_packages(&mut rng, spec.packages);
    let mut planted = Vec::new();
    let mut pkgs = Vec::new();
    for (i, name) in benign
        .iter()
        .map(|p| (p, false))
        .chain(plants.app_ids.iter().map(|p| (p, true)))
        .enumerate()
    {
        let (name, is_plant) = name;
        let sha256 = if is_plant {
            plants.sha256.get(i % plants.sha256.len().max(1)).cloned()
        } else {
            None
        }
        .unwrap_or_else(|| rng.hex(32));
        let planted_cert = if is_plant {
            plants.cert_hashes.first().cloned()
        } else {
            None
        };
        let mut cert_hash = |len: usize| match &planted_cert {
            Some(c) if c.len() == len * 2 => c.clone(),
            _ => rng.hex(len),
        };
        let (cert_md5, cert_sha1, cert_sha256) = (cert_hash(16), cert_hash(20), cert_hash(32));
        pkgs.push(serde_json::json!({
            "name": name,
            "files": [{
                "path": format!("/data/app/~~{}==/{name}-{}==/base.apk", rng.hex(8), rng.hex(8)),
                "local_name": "",
                "md5": rng.hex(16),
                "sha1": rng.hex(20),
                "sha256": sha256,
                "sha512": rng.hex(64),
                "error": "",
                "verified_certificate": true,
                "certificate": {
                    "Md5": cert_md5,
                    "Sha1": cert_sha1,
                    "Sha256": cert_sha256,
                    "ValidFrom": "2020-01-01T00:00:00Z",
                    "ValidTo": "2050-01-01T00:00:00Z",
                    "Issuer": "CN=Developer",
                    "Subject": "CN=Developer",
                    "SignatureAlgorithm": "SHA256-RSA",
                    "SerialNumber": 1
                },
                "certificate_error": "",
                "trusted_certificate": false
            }],
            "installer": "com.android.vending",
            "uid": 10_000 + i,
            "disabled": false,
            "system": false,
            "third_party": true
        }));
    }
    for a in &plants.app_ids {
        planted.push(Planted {
            module: "aqf_packages",
            value: a.clone(),
        });
    }
    for h in plants
        .sha256
        .iter()
        .take(plants.app_ids.len().max(1))
        .filter(|_| !plants.app_ids.is_empty())
    {
        planted.push(Planted {
            module: "aqf_packages",
            value: h.clone(),
        });
    }
    if !plants.app_ids.is_empty() {
        for c in plants.cert_hashes.iter().take(1) {
            planted.push(Planted {
                module: "aqf_packages",
                value: c.clone(),
            });
        }
    }
    json(&dir.join("packages.json"), &serde_json::Value::Array(pkgs))?;
    write(&dir.join("getprop.txt"), getprop_text(plants))?;
    for p in &plants.properties {
        planted.push(Planted {
            module: "aqf_getprop",
            value: p.clone(),
        });
    }
    write(&dir.join("ps.txt"), ps_text(plants, &benign))?;
    for p in &plants.processes {
        planted.push(Planted {
            module: "aqf_processes",
            value: p.clone(),
        });
    }
    write(
        &dir.join("settings_secure.txt"),
        "install_non_market_apps=0\nadb_enabled=0\npackage_verifier_enable=1\n",
    )?;
    write(
        &dir.join("settings_global.txt"),
        "adb_enabled=0\nverifier_verify_adb_installs=1\n",
    )?;
    let mut files = Vec::new();
    for (i, p) in [
        "/sdcard/DCIM/Camera/IMG_0001.jpg",
        "/sdcard/Download/report.pdf",
        "/data/local/tmp/.keep",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(plants.file_paths.iter().cloned())
    .enumerate()
    {
        files.push(serde_json::json!({
            "path": p, "size": 1024 + i, "mode": "-rw-r--r--", "user_id": 1000, "user_name": "system",
            "group_id": 1000, "group_name": "system", "changed_time": 1_709_251_200 + i as i64,
            "modified_time": 1_709_251_200 + i as i64, "access_time": 1_709_251_200 + i as i64, "error": "",
            "context": "u:object_r:media_rw_data_file:s0", "sha1": rng.hex(20), "sha256": rng.hex(32), "md5": rng.hex(16)
        }));
    }
    for p in &plants.file_paths {
        planted.push(Planted {
            module: "aqf_files",
            value: p.clone(),
        });
    }
    json(&dir.join("files.json"), &serde_json::Value::Array(files))?;
    let mut logcat = String::from("--------- beginning of main\n");
    for i in 0..50 {
        let _ = writeln!(
            logcat,
            "03-01 00:00:{:02}.000  1000  1234  1234 I ActivityManager: Start proc {} for service",
            i % 60,
            benign
                .get(i % benign.len().max(1))
                .map_or("x", String::as_str)
        );
    }
    for d in &plants.domains {
        let _ = writeln!(
            logcat,
            "03-01 00:01:00.000 10123  4321  4321 D WebView: loading https://{d}/{}",
            rng.hex(6)
        );
        planted.push(Planted {
            module: "aqf_logcat",
            value: d.clone(),
        });
    }
    write(&dir.join("logcat.txt"), logcat)?;
    let dumpsys = dumpsys_text(&mut rng, plants, &benign);
    write(&dir.join("dumpsys.txt"), dumpsys)?;
    json(
        &dir.join("acquisition.json"),
        &serde_json::json!({"uuid": format!("{}-{}", rng.hex(4), rng.hex(6)), "androidqf_version": "1.7.0", "storage_time": "2024-03-01T00:00:00Z", "started": "2024-03-01T00:00:00Z", "completed": "2024-03-01T00:05:00Z", "collector": null, "cpu": "arm64-v8a"}),
    )?;
    planted.sort();
    Ok(planted)
}

/// Writes a bugreport zip at `path` and returns the planted hits.
pub fn write_bugreport(path: &Path, spec: &AndroidSpec) -> Result<Vec<Planted>, Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let mut rng = Rng::new(spec.seed);
    let plants = &spec.plants;
    let benign = benign_packages(&mut rng, spec.packages);
    let name = "bugreport-panther-UQ1A.240205.004-2024-03-01-00-00-00.txt";
    let mut text = String::from("========================================================\n== dumpstate: 2024-03-01 00:00:00\n========================================================\n\n");
    let _ = write!(text, "------ SYSTEM PROPERTIES (getprop) ------\n{}------ 0.013s was the duration of 'SYSTEM PROPERTIES' ------\n", getprop_text(plants));
    let _ = write!(text, "------ PROCESSES AND THREADS (ps -A -T -Z -O pri,nice,rtprio,sched,pcy,time) ------\n{}------ 0.100s was the duration of 'PROCESSES AND THREADS' ------\n", ps_text(plants, &benign));
    text.push_str(&dumpsys_text(&mut rng, plants, &benign));
    let mut planted = Vec::new();
    for a in &plants.app_ids {
        for m in [
            "dumpsys_battery_history",
            "dumpsys_packages",
            "dumpsys_receivers",
            "dumpsys_activities",
            "dumpsys_appops",
            "dumpsys_battery_daily",
        ] {
            planted.push(Planted {
                module: m,
                value: a.clone(),
            });
        }
    }
    for p in &plants.properties {
        planted.push(Planted {
            module: "getprop",
            value: p.clone(),
        });
    }
    for p in &plants.processes {
        planted.push(Planted {
            module: "processes",
            value: p.clone(),
        });
    }
    let fmt_err = |e: zip::result::ZipError| Error::Format {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let file = std::fs::File::create(path).map_err(io_err(path))?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("main_entry.txt", opts).map_err(fmt_err)?;
    zip.write_all(name.as_bytes()).map_err(io_err(path))?;
    zip.start_file(name, opts).map_err(fmt_err)?;
    zip.write_all(text.as_bytes()).map_err(io_err(path))?;
    zip.start_file("version.txt", opts).map_err(fmt_err)?;
    zip.write_all(b"2.0").map_err(io_err(path))?;
    for (i, p) in plants.processes.iter().enumerate() {
        zip.start_file(format!("FS/data/tombstones/tombstone_{i:02}"), opts)
            .map_err(fmt_err)?;
        let t = format!(
            "*** *** *** *** *** *** *** *** *** *** *** *** *** *** *** ***\nBuild fingerprint: 'google/panther/panther:14/UQ1A.240205.004/11269751:user/release-keys'\nRevision: 'MP1.0'\nABI: 'arm64'\nTimestamp: 2024-03-01 00:00:0{i}.000000000+0000\nProcess uptime: 5s\nCmdline: /data/local/tmp/{p}\npid: {}, tid: {}, name: {p}  >>> /data/local/tmp/{p} <<<\nuid: 2000\nsignal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x0\n",
            4000 + i,
            4000 + i
        );
        zip.write_all(t.as_bytes()).map_err(io_err(path))?;
        planted.push(Planted {
            module: "tombstones",
            value: p.clone(),
        });
    }
    zip.finish().map_err(fmt_err)?;
    planted.sort();
    Ok(planted)
}

/// What Android backup (`adb backup` / androidqf's `backup.ab`) to write.
#[derive(Debug, Clone, Default)]
pub struct AndroidBackupSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of benign SMS (the planted ones come on top).
    pub sms: usize,
    /// Compress the tar stream (the header's compression flag), as `adb backup` does by default.
    pub compressed: bool,
    /// Encrypt the backup (AES-256, as `adb backup` does when given a password) with this password.
    pub password: Option<String>,
    /// PBKDF2 rounds of an encrypted backup (Android uses 10,000).
    pub rounds: u32,
    /// Indicator values to plant: `domains` become links in received SMS.
    pub plants: Plants,
}

const SMS_TEXTS: &[&str] = &[
    "See you at 6",
    "Your parcel is on its way: https://track.example.org/p/",
    "Call me when you can",
    "Meeting moved to Thursday",
    "Photos from the weekend https://photos.example.net/s/",
    "OK",
];

/// Writes an unencrypted Android backup at `path` whose telephony provider
/// entry holds SMS (a zlib-deflated JSON array, as Android's telephony backup
/// agent writes it) with the planted domains as links; returns the planted hits
/// (module `backup_sms`).
pub fn write_android_backup(path: &Path, spec: &AndroidBackupSpec) -> Result<Vec<Planted>, Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let mut rng = Rng::new(spec.seed);
    let base_ms: i64 = 1_709_251_200_000;
    let mut messages = Vec::new();
    let mut planted = Vec::new();
    let plants = &spec.plants.domains;
    let total = spec.sms + plants.len();
    for i in 0..total {
        // Planted messages are spread evenly among the benign ones.
        let step = (total / plants.len().max(1)).max(1);
        let plant = if i % step == 0 {
            plants.get(i / step)
        } else {
            None
        };
        let sent = plant.is_none() && rng.below(3) == 0;
        let body = match plant {
            Some(d) => {
                planted.push(Planted {
                    module: "backup_sms",
                    value: d.clone(),
                });
                format!("Your account needs attention: https://{d}/{}", rng.hex(4))
            }
            None => {
                let t = rng.pick(SMS_TEXTS);
                if t.ends_with('/') {
                    format!("{t}{}", rng.hex(4))
                } else {
                    t.to_string()
                }
            }
        };
        let date = base_ms + i as i64 * 61_000;
        messages.push(serde_json::json!({
            "self_phone": "+15550000000",
            "address": format!("+1555{:07}", rng.below(10_000_000)),
            "body": body,
            "date": date.to_string(),
            "date_sent": if sent { date.to_string() } else { "0".to_string() },
            "status": "-1",
            "type": if sent { "2" } else { "1" },
            "recipients": ["+15550000000"],
            "read": "1",
        }));
    }
    let fmt_err = |message: String| Error::Format {
        path: path.display().to_string(),
        message,
    };
    let json = serde_json::to_vec(&serde_json::Value::Array(messages))
        .map_err(|e| fmt_err(e.to_string()))?;
    let mut deflated = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    deflated
        .write_all(&json)
        .map_err(|e| fmt_err(e.to_string()))?;
    let sms_file = deflated.finish().map_err(|e| fmt_err(e.to_string()))?;

    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in [
        (
            "apps/com.android.providers.telephony/_manifest",
            b"1\ncom.android.providers.telephony\n34\n14\n\n0\n".to_vec(),
        ),
        (
            "apps/com.android.providers.telephony/d_f/000000_sms_backup",
            sms_file,
        ),
    ] {
        crate::tar_file(&mut tar, name, &data).map_err(|e| fmt_err(e.to_string()))?;
    }
    let body = tar.into_inner().map_err(|e| fmt_err(e.to_string()))?;
    let body = if spec.compressed {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&body).map_err(|e| fmt_err(e.to_string()))?;
        z.finish().map_err(|e| fmt_err(e.to_string()))?
    } else {
        body
    };
    let mut out = format!("ANDROID BACKUP\n5\n{}\n", u8::from(spec.compressed));
    let body = match &spec.password {
        None => {
            out.push_str("none\n");
            body
        }
        Some(pw) => {
            let (salt, ck_salt) = (rng.bytes(64), rng.bytes(64));
            let mut keys = [0u8; 64];
            keys.copy_from_slice(&rng.bytes(64));
            let (user_iv, rest) = keys.split_at(16);
            let (master_iv, master_key) = rest.split_at(16);
            let arr16 = |b: &[u8]| <[u8; 16]>::try_from(b).unwrap_or_default();
            let master_key = <[u8; 32]>::try_from(master_key).unwrap_or_default();
            out.push_str("AES-256\n");
            out.push_str(&vigil_android::encryption_header(
                pw,
                spec.rounds.max(1),
                (&salt, &ck_salt),
                &arr16(user_iv),
                &master_key,
                &arr16(master_iv),
            ));
            vigil_android::cbc_encrypt(&master_key, &arr16(master_iv), &body)
        }
    };
    let mut out = out.into_bytes();
    out.extend_from_slice(&body);
    write(path, out)?;
    planted.sort();
    Ok(planted)
}
