//! Synthetic iTunes/Finder backups, plain or encrypted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plist::{Dictionary, Uid, Value};
use rusqlite::{params, Connection};
use sha1::{Digest, Sha1};
use vigil_ios::keybag::{aes_wrap, cbc_encrypt, Keybag};

use crate::{io_err, Error, Planted, Plants, Rng};

/// What backup to write.
#[derive(Debug, Clone)]
pub struct IosBackupSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of SMS/iMessage messages.
    pub sms: usize,
    /// Number of Safari visits.
    pub safari_visits: usize,
    /// Number of WhatsApp address-book contacts (ContactsV2.sqlite; none by
    /// default). With any, the first planted domain is in one contact's
    /// "about" text.
    pub whatsapp_contacts: usize,
    /// Encrypt the backup with this password.
    pub password: Option<String>,
    /// PBKDF2 rounds (SHA-256 round, SHA-1 round) written into the keybag. Real
    /// devices use 10,000,000 and 10,000; tests use small counts so that the
    /// derivation takes milliseconds.
    pub rounds: (u32, u32),
    /// Indicator values to plant.
    pub plants: Plants,
}

impl Default for IosBackupSpec {
    fn default() -> Self {
        IosBackupSpec {
            seed: 1,
            sms: 200,
            safari_visits: 200,
            whatsapp_contacts: 0,
            password: None,
            rounds: (10, 10),
            plants: Plants::default(),
        }
    }
}

/// Mac absolute time of 2024-03-01, around which the synthetic events happen.
const BASE_MAC_TIME: f64 = 730_944_000.0;

const WORDS: &[&str] = &[
    "see",
    "you",
    "tomorrow",
    "at",
    "the",
    "office",
    "meeting",
    "moved",
    "to",
    "noon",
    "thanks",
    "call",
    "me",
    "when",
    "you",
    "land",
    "dinner",
    "tonight",
    "report",
    "draft",
    "ready",
    "source",
    "confirmed",
    "interview",
    "is",
    "on",
    "friday",
    "please",
    "send",
    "photos",
    "ok",
    "great",
    "running",
    "late",
    "train",
    "delayed",
    "story",
    "published",
];
const SITES: &[&str] = &[
    "www.wikipedia.org",
    "news.example.org",
    "www.theguardian.com",
    "maps.apple.com",
    "www.openstreetmap.org",
    "docs.example.com",
    "mail.example.net",
    "www.bbc.co.uk",
    "weather.example.org",
    "www.rfc-editor.org",
];
const PROCESSES: &[(&str, &str)] = &[
    ("mobilesafari", "com.apple.mobilesafari"),
    ("MobileMail", "com.apple.mobilemail"),
    ("itunesstored", "com.apple.itunesstored"),
    ("nsurlsessiond", "com.apple.nsurlsessiond"),
    ("WhatsApp", "net.whatsapp.WhatsApp"),
    ("Signal", "org.whispersystems.signal"),
    ("apsd", "com.apple.apsd"),
    ("mDNSResponder", "com.apple.mDNSResponder"),
];
const APPS: &[&str] = &[
    "net.whatsapp.WhatsApp",
    "org.whispersystems.signal",
    "com.google.chrome.ios",
    "ph.telegra.Telegraph",
    "com.spotify.client",
];

fn sentence(rng: &mut Rng) -> String {
    let n = 3 + rng.below(10) as usize;
    (0..n)
        .map(|_| *rng.pick(WORDS))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A URL on `domain`, or on a subdomain of it every other time.
fn planted_url(rng: &mut Rng, domain: &str, i: usize) -> String {
    let host = if i % 2 == 1 {
        format!("m{}.{domain}", rng.below(90) + 10)
    } else {
        domain.to_string()
    };
    format!("https://{host}/{}", rng.hex(6))
}

fn sqlite_err(path: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: path.to_string(),
        source,
    }
}

/// Builds a database with `build` in a temporary file and returns its bytes.
fn make_db(
    name: &str,
    build: impl FnOnce(&Connection) -> rusqlite::Result<()>,
) -> Result<Vec<u8>, Error> {
    let dir = tempfile::tempdir().map_err(io_err(Path::new(".")))?;
    let path = dir.path().join("db.sqlite");
    {
        let conn = Connection::open(&path).map_err(sqlite_err(name))?;
        conn.execute_batch("PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF;")
            .map_err(sqlite_err(name))?;
        conn.execute_batch("BEGIN").map_err(sqlite_err(name))?;
        build(&conn).map_err(sqlite_err(name))?;
        conn.execute_batch("COMMIT").map_err(sqlite_err(name))?;
    }
    std::fs::read(&path).map_err(io_err(&path))
}

/// Tables of sms.db as iOS 16 creates them (the columns readers use, with their real names and types).
const SMS_SCHEMA: &str = "
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT, UNIQUE (id, service));
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT, account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER, is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0, is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0, is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0, has_dd_results INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, cache_roomnames TEXT, message_summary_info BLOB, payload_data BLOB);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0, is_sticker INTEGER DEFAULT 0, sticker_user_info BLOB, attribution_info BLOB, hide_attachment INTEGER DEFAULT 0);
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT);
";

/// Tables of Safari's History.db.
const HISTORY_SCHEMA: &str = "
CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL UNIQUE, domain_expansion TEXT NULL, visit_count INTEGER NOT NULL, daily_visit_counts BLOB NOT NULL, weekly_visit_counts BLOB NULL, autocomplete_triggers BLOB NULL, should_recompute_derived_visit_counts INTEGER NOT NULL, visit_count_score INTEGER NOT NULL, status_code INTEGER NOT NULL DEFAULT 0);
CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT, history_item INTEGER NOT NULL REFERENCES history_items(id) ON DELETE CASCADE, visit_time REAL NOT NULL, title TEXT NULL, load_successful BOOLEAN NOT NULL DEFAULT 1, http_non_get BOOLEAN NOT NULL DEFAULT 0, synthesized BOOLEAN NOT NULL DEFAULT 0, redirect_source INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE, redirect_destination INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE, origin INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0, attributes INTEGER NOT NULL DEFAULT 0, score INTEGER NOT NULL DEFAULT 0);
CREATE INDEX history_visits__last_visit ON history_visits (history_item, visit_time DESC, synthesized ASC);
";

/// Core Data tables of DataUsage.sqlite.
const DATAUSAGE_SCHEMA: &str = "
CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFIRSTTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZBUNDLENAME VARCHAR, ZPROCNAME VARCHAR);
CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZKIND INTEGER, ZMETADATA INTEGER, ZTAG INTEGER, ZHASPROCESS INTEGER, ZBILLCYCLEEND TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZWIFIIN FLOAT, ZWIFIOUT FLOAT, ZWWANIN FLOAT, ZWWANOUT FLOAT);
";

/// Core Data table of WhatsApp's ContactsV2.sqlite (the address-book contacts).
const WHATSAPP_CONTACTS_SCHEMA: &str = "
CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZABOUTTIMESTAMP TIMESTAMP, ZLASTUPDATED TIMESTAMP, ZFULLNAME VARCHAR, ZGIVENNAME VARCHAR, ZBUSINESSNAME VARCHAR, ZABOUTTEXT VARCHAR, ZPHONENUMBER VARCHAR, ZPHONENUMBERLABEL VARCHAR, ZWHATSAPPID VARCHAR, ZIDENTIFIER VARCHAR, ZLID VARCHAR);
";

const ABOUT_TEXTS: &[&str] = &[
    "Hey there! I am using WhatsApp.",
    "Available",
    "At work",
    "Busy",
    "Urgent calls only",
];

/// ContactsV2.sqlite with `n` contacts; the first planted domain (if any) in one contact's about text.
fn whatsapp_contacts_db(
    spec: &IosBackupSpec,
    planted: &mut Vec<Planted>,
) -> Result<Vec<u8>, Error> {
    // A generator of its own, so the other databases stay byte-identical.
    let mut rng = Rng::new(spec.seed ^ 0x5741_4354);
    let plant = spec.plants.domains.first();
    let db = make_db("ContactsV2.sqlite", |c| {
        c.execute_batch(WHATSAPP_CONTACTS_SCHEMA)?;
        for i in 0..spec.whatsapp_contacts {
            let phone = format!("+4479{:08}", rng.below(100_000_000));
            let jid = format!("{}@s.whatsapp.net", phone.trim_start_matches('+'));
            let about = match plant {
                Some(d) if i == spec.whatsapp_contacts / 2 => {
                    format!("New number, details at https://{d}/{}", rng.hex(3))
                }
                _ => rng.pick(ABOUT_TEXTS).to_string(),
            };
            let name = format!("{} {}", rng.pick(WORDS), rng.pick(WORDS));
            c.execute(
                "INSERT INTO ZWAADDRESSBOOKCONTACT (Z_PK, Z_ENT, Z_OPT, ZABOUTTIMESTAMP, ZLASTUPDATED, ZFULLNAME, ZGIVENNAME, ZABOUTTEXT, ZPHONENUMBER, ZPHONENUMBERLABEL, ZWHATSAPPID, ZIDENTIFIER) VALUES (?1, 3, 1, ?2, ?2, ?3, ?4, ?5, ?6, 'mobile', ?7, ?8)",
                params![i as i64 + 1, BASE_MAC_TIME - 86_400.0 * i as f64, name, name.split(' ').next(), about, phone, jid, format!("{}:ABPerson", i + 1)],
            )?;
        }
        Ok(())
    })?;
    if let Some(d) = plant.filter(|_| spec.whatsapp_contacts > 0) {
        planted.push(Planted {
            module: "whatsapp_contacts",
            value: d.clone(),
        });
    }
    Ok(db)
}

struct Built {
    sms: Vec<u8>,
    history: Vec<u8>,
    datausage: Vec<u8>,
    planted: Vec<Planted>,
}

fn build_databases(spec: &IosBackupSpec, rng: &mut Rng) -> Result<Built, Error> {
    let mut planted = Vec::new();
    let domains = &spec.plants.domains;
    // Planted messages sit at evenly spread, seed-dependent positions.
    let plant_at = |n: usize, k: usize, i: usize| -> usize {
        if n == 0 {
            0
        } else {
            (i * n / k.max(1) + 7) % n
        }
    };

    let mut sms_plants: BTreeMap<usize, String> = BTreeMap::new();
    for (i, d) in domains.iter().enumerate() {
        if spec.sms > 0 {
            sms_plants.insert(plant_at(spec.sms, domains.len(), i), planted_url(rng, d, i));
            planted.push(Planted {
                module: "sms",
                value: d.clone(),
            });
        }
    }
    let attachment_paths = &spec.plants.file_paths;
    let sms = make_db("sms.db", |c| {
        c.execute_batch(SMS_SCHEMA)?;
        let handles = 20.min(spec.sms.max(1));
        for h in 0..handles {
            c.execute(
                "INSERT INTO handle (id, country, service) VALUES (?1, 'us', ?2)",
                params![
                    format!("+1555{:07}", 1_000_000 + h * 7919),
                    if h % 3 == 0 { "SMS" } else { "iMessage" }
                ],
            )?;
        }
        let mut ins = c.prepare(
            "INSERT INTO message (guid, text, handle_id, service, account, date, date_read, date_delivered, is_delivered, is_finished, is_from_me, is_read, is_sent) \
             VALUES (?1, ?2, ?3, ?4, 'e:', ?5, ?6, ?5, 1, 1, ?7, 1, ?7)",
        )?;
        let mut r2 = rng.clone();
        for i in 0..spec.sms {
            let mut text = sentence(&mut r2);
            if let Some(url) = sms_plants.get(&i) {
                text = format!("{text} {url}");
            } else if r2.below(20) == 0 {
                text = format!("{text} https://{}/{}", r2.pick(SITES), r2.hex(4));
            }
            let date = ((BASE_MAC_TIME + i as f64 * 60.0) * 1e9) as i64;
            let from_me = (r2.below(2)) as i64;
            ins.execute(params![
                format!("{:08X}-0000-4000-8000-{:012X}", i, r2.below(1 << 40)),
                text,
                1 + r2.below(handles as u64) as i64,
                if from_me == 1 { "iMessage" } else { "SMS" },
                date,
                date + 30_000_000_000,
                from_me,
            ])?;
        }
        for (i, p) in attachment_paths.iter().enumerate() {
            let msg = 1 + (i % spec.sms.max(1)) as i64;
            c.execute(
                "INSERT INTO attachment (guid, created_date, start_date, filename, uti, mime_type, transfer_state, is_outgoing, transfer_name, total_bytes) \
                 VALUES (?1, ?2, 0, ?3, 'public.data', 'application/octet-stream', 5, 0, ?4, 1024)",
                params![format!("at_{i}"), (BASE_MAC_TIME as i64) + i as i64, p, p.rsplit('/').next().unwrap_or(p)],
            )?;
            c.execute(
                "INSERT INTO message_attachment_join (message_id, attachment_id) VALUES (?1, ?2)",
                params![msg, i as i64 + 1],
            )?;
        }
        *rng = r2;
        Ok(())
    })?;
    for p in attachment_paths {
        planted.push(Planted {
            module: "sms_attachments",
            value: p.clone(),
        });
    }

    let mut visit_plants: BTreeMap<usize, String> = BTreeMap::new();
    for (i, d) in domains.iter().enumerate() {
        if spec.safari_visits > 0 {
            visit_plants.insert(
                plant_at(spec.safari_visits, domains.len(), i + 3),
                planted_url(rng, d, i + 1),
            );
            planted.push(Planted {
                module: "safari_history",
                value: d.clone(),
            });
        }
    }
    let history = make_db("History.db", |c| {
        c.execute_batch(HISTORY_SCHEMA)?;
        let mut item = c.prepare(
            "INSERT INTO history_items (url, domain_expansion, visit_count, daily_visit_counts, should_recompute_derived_visit_counts, visit_count_score) \
             VALUES (?1, ?2, 1, x'00', 0, 100)",
        )?;
        let mut visit = c.prepare(
            "INSERT INTO history_visits (history_item, visit_time, title) VALUES (?1, ?2, ?3)",
        )?;
        let mut r2 = rng.clone();
        for i in 0..spec.safari_visits {
            let url = match visit_plants.get(&i) {
                Some(u) => u.clone(),
                None => format!("https://{}/{}/{}", r2.pick(SITES), r2.pick(WORDS), i),
            };
            item.execute(params![url, url.split('/').nth(2).unwrap_or("")])?;
            let id = c.last_insert_rowid();
            visit.execute(params![
                id,
                BASE_MAC_TIME + i as f64 * 37.5,
                sentence(&mut r2)
            ])?;
        }
        *rng = r2;
        Ok(())
    })?;

    let procs = &spec.plants.processes;
    let datausage = make_db("DataUsage.sqlite", |c| {
        c.execute_batch(DATAUSAGE_SCHEMA)?;
        let mut n = 0i64;
        let all = PROCESSES
            .iter()
            .map(|(p, b)| (p.to_string(), b.to_string()))
            .chain(procs.iter().map(|p| (p.clone(), String::new())));
        for (p, b) in all {
            n += 1;
            c.execute(
                "INSERT INTO ZPROCESS (Z_PK, Z_ENT, Z_OPT, ZFIRSTTIMESTAMP, ZTIMESTAMP, ZBUNDLENAME, ZPROCNAME) VALUES (?1, 8, 1, ?2, ?3, ?4, ?5)",
                params![n, BASE_MAC_TIME + n as f64, BASE_MAC_TIME + 3600.0 + n as f64, if b.is_empty() { None } else { Some(b) }, p],
            )?;
            c.execute(
                "INSERT INTO ZLIVEUSAGE (Z_PK, Z_ENT, Z_OPT, ZKIND, ZHASPROCESS, ZTIMESTAMP, ZWIFIIN, ZWIFIOUT, ZWWANIN, ZWWANOUT) VALUES (?1, 7, 1, 0, ?1, ?2, 1024.0, 512.0, 0.0, 0.0)",
                params![n, BASE_MAC_TIME + 3600.0 + n as f64],
            )?;
        }
        Ok(())
    })?;
    for p in procs {
        planted.push(Planted {
            module: "datausage",
            value: p.clone(),
        });
    }
    Ok(Built {
        sms,
        history,
        datausage,
        planted,
    })
}

/// A file to store in the backup.
struct BackupFile {
    domain: &'static str,
    relative_path: String,
    data: Vec<u8>,
}

/// Keys of an encrypted backup being written.
struct Crypt {
    class_keys: Vec<(u32, Vec<u8>)>,
}

impl Crypt {
    fn wrap_for(&self, class: u32, key: &[u8]) -> Vec<u8> {
        let ck = self
            .class_keys
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, k)| k.as_slice())
            .unwrap_or(&[0u8; 32]);
        aes_wrap(ck, key).unwrap_or_default()
    }
}

fn tlv(out: &mut Vec<u8>, tag: &[u8; 4], value: &[u8]) {
    out.extend_from_slice(tag);
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

/// Builds a backup keybag for `password` and returns it with the unwrapped class keys.
fn make_keybag(rng: &mut Rng, password: &str, (dpic, iter): (u32, u32)) -> (Vec<u8>, Crypt) {
    let mut blob = Vec::new();
    let salt = rng.bytes(20);
    let dpsl = rng.bytes(20);
    tlv(&mut blob, b"VERS", &4u32.to_be_bytes());
    tlv(&mut blob, b"TYPE", &1u32.to_be_bytes());
    tlv(&mut blob, b"UUID", &rng.bytes(16));
    tlv(&mut blob, b"HMCK", &rng.bytes(40));
    tlv(&mut blob, b"WRAP", &0u32.to_be_bytes());
    tlv(&mut blob, b"SALT", &salt);
    tlv(&mut blob, b"ITER", &iter.to_be_bytes());
    tlv(&mut blob, b"DPWT", &1u32.to_be_bytes());
    tlv(&mut blob, b"DPIC", &dpic.to_be_bytes());
    tlv(&mut blob, b"DPSL", &dpsl);
    let bag = Keybag {
        kind: 1,
        salt,
        iter,
        dpsl,
        dpic,
        class_keys: Vec::new(),
    };
    let pkey = bag.derive_key(password);
    let mut class_keys = Vec::new();
    for class in 1..=11u32 {
        let key = rng.bytes(32);
        tlv(&mut blob, b"UUID", &rng.bytes(16));
        tlv(&mut blob, b"CLAS", &class.to_be_bytes());
        tlv(&mut blob, b"WRAP", &2u32.to_be_bytes());
        tlv(&mut blob, b"KTYP", &0u32.to_be_bytes());
        tlv(
            &mut blob,
            b"WPKY",
            &aes_wrap(&pkey, &key).unwrap_or_default(),
        );
        class_keys.push((class, key));
    }
    (blob, Crypt { class_keys })
}

/// The NSKeyedArchiver `MBFile` blob stored in Manifest.db's `file` column.
fn file_blob(
    relative_path: &str,
    size: u64,
    mtime: i64,
    encryption_key: Option<Vec<u8>>,
    class: u32,
) -> Result<Vec<u8>, Error> {
    let mut file = Dictionary::new();
    file.insert(
        "$class".into(),
        Value::Uid(Uid::new(if encryption_key.is_some() { 5 } else { 3 })),
    );
    file.insert("Birth".into(), Value::Integer((mtime - 86_400).into()));
    file.insert("LastModified".into(), Value::Integer(mtime.into()));
    file.insert("LastStatusChange".into(), Value::Integer(mtime.into()));
    file.insert("Size".into(), Value::Integer(size.into()));
    file.insert(
        "ProtectionClass".into(),
        Value::Integer(u64::from(class).into()),
    );
    file.insert("Mode".into(), Value::Integer(33188u64.into()));
    file.insert("Flags".into(), Value::Integer(0u64.into()));
    file.insert("UserID".into(), Value::Integer(501u64.into()));
    file.insert("GroupID".into(), Value::Integer(501u64.into()));
    file.insert("InodeNumber".into(), Value::Integer(1000u64.into()));
    file.insert("RelativePath".into(), Value::Uid(Uid::new(2)));
    let mut objects = vec![
        Value::String("$null".into()),
        Value::Dictionary(file),
        Value::String(relative_path.into()),
    ];
    let class_obj = |name: &str, parents: &[&str]| {
        let mut d = Dictionary::new();
        d.insert("$classname".into(), Value::String(name.into()));
        d.insert(
            "$classes".into(),
            Value::Array(parents.iter().map(|p| Value::String((*p).into())).collect()),
        );
        Value::Dictionary(d)
    };
    if let Some(key) = encryption_key {
        if let Some(Value::Dictionary(f)) = objects.get_mut(1) {
            f.insert("EncryptionKey".into(), Value::Uid(Uid::new(3)));
        }
        let mut data = Dictionary::new();
        data.insert("NS.data".into(), Value::Data(key));
        data.insert("$class".into(), Value::Uid(Uid::new(4)));
        objects.push(Value::Dictionary(data));
        objects.push(class_obj(
            "NSMutableData",
            &["NSMutableData", "NSData", "NSObject"],
        ));
    }
    objects.push(class_obj("MBFile", &["MBFile", "NSObject"]));
    let mut top = Dictionary::new();
    top.insert("root".into(), Value::Uid(Uid::new(1)));
    let mut archive = Dictionary::new();
    archive.insert("$version".into(), Value::Integer(100_000u64.into()));
    archive.insert("$archiver".into(), Value::String("NSKeyedArchiver".into()));
    archive.insert("$top".into(), Value::Dictionary(top));
    archive.insert("$objects".into(), Value::Array(objects));
    let mut out = Vec::new();
    Value::Dictionary(archive)
        .to_writer_binary(&mut out)
        .map_err(|e| Error::Format {
            path: relative_path.into(),
            message: e.to_string(),
        })?;
    Ok(out)
}

fn write_plist(path: &Path, v: &Value) -> Result<(), Error> {
    v.to_file_xml(path).map_err(|e| Error::Format {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// File id of a backed-up file: SHA-1 of `domain-relativePath`.
pub fn file_id(domain: &str, relative_path: &str) -> String {
    let mut h = Sha1::new();
    h.update(format!("{domain}-{relative_path}").as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a synthetic backup into `dir` (created if needed) and returns the planted hits.
pub fn write_ios_backup(dir: &Path, spec: &IosBackupSpec) -> Result<Vec<Planted>, Error> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut rng = Rng::new(spec.seed);
    let built = build_databases(spec, &mut rng)?;
    let mut planted = built.planted;
    let mut files = vec![
        BackupFile {
            domain: "HomeDomain",
            relative_path: "Library/SMS/sms.db".into(),
            data: built.sms,
        },
        BackupFile {
            domain: "HomeDomain",
            relative_path: "Library/Safari/History.db".into(),
            data: built.history,
        },
        BackupFile {
            domain: "WirelessDomain",
            relative_path: "Library/Databases/DataUsage.sqlite".into(),
            data: built.datausage,
        },
        BackupFile {
            domain: "HomeDomain",
            relative_path: "Library/Preferences/com.apple.Preferences.plist".into(),
            data:
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict/></plist>"
                    .to_vec(),
        },
    ];
    if spec.whatsapp_contacts > 0 {
        files.push(BackupFile {
            domain: "AppDomainGroup-group.net.whatsapp.WhatsApp.shared",
            relative_path: "ContactsV2.sqlite".into(),
            data: whatsapp_contacts_db(spec, &mut planted)?,
        });
    }
    for p in &spec.plants.file_paths {
        // Path indicators name device paths; a backup stores them relative to their domain.
        let rel = p
            .trim_start_matches('/')
            .trim_start_matches("private/var/mobile/")
            .to_string();
        if !rel.is_empty() {
            files.push(BackupFile {
                domain: "HomeDomain",
                relative_path: rel,
                data: rng.bytes(64),
            });
            planted.push(Planted {
                module: "manifest",
                value: p.clone(),
            });
        }
    }
    let (crypt, keybag) = match &spec.password {
        Some(pw) => {
            let (blob, c) = make_keybag(&mut rng, pw, spec.rounds);
            (Some(c), Some(blob))
        }
        None => (None, None),
    };
    let mut rows = Vec::new();
    let mtime = (BASE_MAC_TIME as i64) + 978_307_200;
    for f in &files {
        let id = file_id(f.domain, &f.relative_path);
        let sub = dir.join(&id[..2]);
        std::fs::create_dir_all(&sub).map_err(io_err(&sub))?;
        let (stored, key, class) = match &crypt {
            Some(c) => {
                let class = 3u32;
                let fkey = rng.bytes(32);
                let mut wrapped = class.to_le_bytes().to_vec();
                wrapped.extend(c.wrap_for(class, &fkey));
                (
                    cbc_encrypt(&fkey, &f.data).unwrap_or_default(),
                    Some(wrapped),
                    class,
                )
            }
            None => (f.data.clone(), None, 3),
        };
        let path = sub.join(&id);
        std::fs::write(&path, &stored).map_err(io_err(&path))?;
        rows.push((
            id,
            f.domain,
            f.relative_path.clone(),
            1i64,
            file_blob(&f.relative_path, f.data.len() as u64, mtime, key, class)?,
        ));
    }
    // Folder entries, as real manifests have them.
    for (domain, rel) in [
        ("HomeDomain", "Library"),
        ("HomeDomain", "Library/SMS"),
        ("HomeDomain", "Library/Safari"),
        ("WirelessDomain", "Library/Databases"),
    ] {
        rows.push((
            file_id(domain, rel),
            domain,
            rel.to_string(),
            2,
            file_blob(rel, 0, mtime, None, 0)?,
        ));
    }
    let manifest = make_db("Manifest.db", |c| {
        c.execute_batch(
            "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
             CREATE INDEX FilesDomainIdx ON Files(domain);
             CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
             CREATE INDEX FilesFlagsIdx ON Files(flags);
             CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);",
        )?;
        for (id, domain, rel, flags, blob) in &rows {
            c.execute(
                "INSERT INTO Files VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, domain, rel, flags, blob],
            )?;
        }
        Ok(())
    })?;
    let mut manifest_plist = Dictionary::new();
    manifest_plist.insert("Version".into(), Value::String("10.0".into()));
    manifest_plist.insert("SystemDomainsVersion".into(), Value::String("24.0".into()));
    manifest_plist.insert("WasPasscodeSet".into(), Value::Boolean(true));
    manifest_plist.insert("IsEncrypted".into(), Value::Boolean(crypt.is_some()));
    let mut lockdown = Dictionary::new();
    lockdown.insert("ProductVersion".into(), Value::String("17.4.1".into()));
    lockdown.insert("ProductType".into(), Value::String("iPhone15,2".into()));
    lockdown.insert("BuildVersion".into(), Value::String("21E236".into()));
    lockdown.insert("DeviceName".into(), Value::String("Test iPhone".into()));
    manifest_plist.insert("Lockdown".into(), Value::Dictionary(lockdown));
    let manifest_bytes = match (&crypt, keybag) {
        (Some(c), Some(blob)) => {
            let mkey = rng.bytes(32);
            let mut wrapped = 4u32.to_le_bytes().to_vec();
            wrapped.extend(c.wrap_for(4, &mkey));
            manifest_plist.insert("BackupKeyBag".into(), Value::Data(blob));
            manifest_plist.insert("ManifestKey".into(), Value::Data(wrapped));
            cbc_encrypt(&mkey, &manifest).unwrap_or_default()
        }
        _ => manifest,
    };
    let mpath = dir.join("Manifest.db");
    std::fs::write(&mpath, manifest_bytes).map_err(io_err(&mpath))?;
    write_plist(
        &dir.join("Manifest.plist"),
        &Value::Dictionary(manifest_plist),
    )?;

    let mut info = Dictionary::new();
    for (k, v) in [
        ("Build Version", "21E236"),
        ("Device Name", "Test iPhone"),
        ("Display Name", "Test iPhone"),
        ("GUID", "5D3C4B2A19F8E7D6C5B4A3928170F6E5"),
        ("Product Name", "iPhone 14 Pro"),
        ("Product Type", "iPhone15,2"),
        ("Product Version", "17.4.1"),
        ("Serial Number", "F00DF00DF00D"),
        ("Target Identifier", "00008120-000A1B2C3D4E5F60"),
        ("Target Type", "Device"),
        ("Unique Identifier", "00008120-000A1B2C3D4E5F60"),
        ("iTunes Version", "12.13.1.3"),
    ] {
        info.insert(k.into(), Value::String(v.into()));
    }
    let apps: Vec<Value> = APPS
        .iter()
        .map(|a| a.to_string())
        .chain(spec.plants.app_ids.iter().cloned())
        .map(Value::String)
        .collect();
    info.insert("Installed Applications".into(), Value::Array(apps));
    for a in &spec.plants.app_ids {
        planted.push(Planted {
            module: "applications",
            value: a.clone(),
        });
    }
    write_plist(&dir.join("Info.plist"), &Value::Dictionary(info))?;
    let mut status = Dictionary::new();
    status.insert("IsFullBackup".into(), Value::Boolean(false));
    status.insert("Version".into(), Value::String("3.3".into()));
    status.insert("BackupState".into(), Value::String("new".into()));
    status.insert("SnapshotState".into(), Value::String("finished".into()));
    write_plist(&dir.join("Status.plist"), &Value::Dictionary(status))?;
    planted.sort();
    Ok(planted)
}

/// Where a generated backup's planted file would be read from (exposed for tests).
pub fn stored_path(dir: &Path, domain: &str, relative_path: &str) -> PathBuf {
    let id = file_id(domain, relative_path);
    dir.join(&id[..2]).join(id)
}
