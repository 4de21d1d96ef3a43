//! Opening an iTunes/Finder backup: Manifest.plist, the keybag, Manifest.db
//! and the `xx/<fileID>` file store.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use plist::Value;

use crate::keybag::{unpadded_len, CbcDecryptor, ClassKeys, Keybag};
use crate::{Error, Unlock};

/// Largest Manifest.db `file` blob we parse (real ones are a few kilobytes).
const MAX_FILE_BLOB: usize = 1 << 20;

/// An opened backup; encrypted ones are unlocked and their Manifest.db decrypted.
pub struct Backup {
    root: PathBuf,
    manifest_db: PathBuf,
    keys: Option<ClassKeys>,
    temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Backup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backup")
            .field("root", &self.root)
            .field("encrypted", &self.keys.is_some())
            .finish()
    }
}

/// One row of Manifest.db's `Files` table.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub file_id: String,
    pub domain: String,
    pub relative_path: String,
    pub flags: i64,
    pub blob: Option<Vec<u8>>,
}

impl Entry {
    /// The path as shown to users: `Domain/relative/path`.
    pub fn device_path(&self) -> String {
        format!("{}/{}", self.domain, self.relative_path)
    }
}

/// File metadata from a Manifest.db `file` blob (an NSKeyedArchiver `MBFile` plist).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FileMeta {
    /// Creation time, Unix seconds.
    pub birth: Option<i64>,
    /// Last modification time, Unix seconds.
    pub modified: Option<i64>,
    /// Last status change time, Unix seconds.
    pub status_changed: Option<i64>,
    /// Size of the plain file in bytes.
    pub size: Option<u64>,
    /// Data-protection class of the file key.
    pub protection_class: Option<u32>,
    /// The wrapped per-file key (without its 4-byte class prefix), in encrypted backups.
    pub encryption_key: Option<Vec<u8>>,
}

impl std::fmt::Debug for FileMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The wrapped key is not printed.
        f.debug_struct("FileMeta")
            .field("birth", &self.birth)
            .field("modified", &self.modified)
            .field("status_changed", &self.status_changed)
            .field("size", &self.size)
            .field("protection_class", &self.protection_class)
            .field("encrypted", &self.encryption_key.is_some())
            .finish()
    }
}

/// A local readable copy of a backed-up file (decrypted into a temporary file when needed).
pub(crate) struct Local {
    pub path: PathBuf,
    _temp: Option<tempfile::TempPath>,
}

/// Summary fields of a backup's Info.plist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupInfo {
    /// Device name.
    pub device_name: Option<String>,
    /// Product type (`iPhone14,2`).
    pub product_type: Option<String>,
    /// iOS version.
    pub product_version: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Whether Manifest.plist says the backup is encrypted.
    pub encrypted: bool,
}

fn read_plist(path: &Path) -> Result<Value, Error> {
    if !path.is_file() {
        return Err(Error::Missing(path.to_path_buf()));
    }
    Value::from_file(path).map_err(|e| Error::Plist {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn manifest_keybag(manifest: &Value, path: &Path) -> Result<Keybag, Error> {
    let blob = manifest
        .as_dictionary()
        .and_then(|d| d.get("BackupKeyBag"))
        .and_then(Value::as_data)
        .ok_or_else(|| Error::Keybag(format!("{}: no BackupKeyBag", path.display())))?;
    Keybag::parse(blob)
}

/// Derives the 32-byte key of an encrypted backup from its password (slow: run once and save it).
pub fn derive_key(password: &str, backup_dir: &Path) -> Result<[u8; 32], Error> {
    let path = backup_dir.join("Manifest.plist");
    let manifest = read_plist(&path)?;
    let bag = manifest_keybag(&manifest, &path)?;
    let key = bag.derive_key(password);
    bag.unlock(&key)?;
    Ok(key)
}

fn sqlite_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Sqlite {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl Backup {
    /// Opens the backup at `root`, unlocking it when encrypted.
    pub fn open(root: &Path, unlock: Option<Unlock>) -> Result<Backup, Error> {
        let manifest_db = root.join("Manifest.db");
        if !manifest_db.is_file() {
            return Err(Error::Missing(manifest_db));
        }
        let manifest_path = root.join("Manifest.plist");
        let manifest = if manifest_path.is_file() {
            Some(read_plist(&manifest_path)?)
        } else {
            None
        };
        let encrypted = manifest
            .as_ref()
            .and_then(Value::as_dictionary)
            .and_then(|d| d.get("IsEncrypted"))
            .and_then(Value::as_boolean)
            .unwrap_or(false);
        if !encrypted {
            return Ok(Backup {
                root: root.to_path_buf(),
                manifest_db,
                keys: None,
                temp: None,
            });
        }
        let manifest = manifest.unwrap_or(Value::Boolean(false));
        let bag = manifest_keybag(&manifest, &manifest_path)?;
        let key = match unlock {
            None => return Err(Error::PasswordRequired(root.to_path_buf())),
            Some(Unlock::Password(p)) => bag.derive_key(&p).to_vec(),
            Some(Unlock::Key(k)) => k,
        };
        let keys = bag.unlock(&key)?;
        let mkey = manifest
            .as_dictionary()
            .and_then(|d| d.get("ManifestKey"))
            .and_then(Value::as_data)
            .filter(|k| k.len() > 4)
            .ok_or_else(|| Error::Keybag("Manifest.plist: no ManifestKey".into()))?;
        let class = u32::from_le_bytes([mkey[0], mkey[1], mkey[2], mkey[3]]);
        let db_key = keys
            .unwrap_file_key(class, &mkey[4..])
            .ok_or(Error::WrongPassword)?;
        let temp = tempfile::Builder::new()
            .prefix("vigil-backup-")
            .tempdir()
            .map_err(|e| Error::Io {
                path: std::env::temp_dir(),
                source: e,
            })?;
        let plain_db = temp.path().join("Manifest.db");
        decrypt_file(&manifest_db, &plain_db, &db_key, None).map_err(|source| Error::Io {
            path: manifest_db.clone(),
            source,
        })?;
        let mut head = [0u8; 16];
        let ok = File::open(&plain_db)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
            && &head == b"SQLite format 3\0";
        if !ok {
            return Err(sqlite_err(
                &manifest_db,
                "does not decrypt to an SQLite database (corrupt backup?)",
            ));
        }
        Ok(Backup {
            root: root.to_path_buf(),
            manifest_db: plain_db,
            keys: Some(keys),
            temp: Some(temp),
        })
    }

    /// The backup folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the backup is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.keys.is_some()
    }

    /// Reads Info.plist.
    pub fn info(&self) -> Result<BackupInfo, Error> {
        let v = read_plist(&self.root.join("Info.plist"))?;
        let d = v.as_dictionary();
        let s = |k: &str| {
            d.and_then(|d| d.get(k))
                .and_then(Value::as_string)
                .map(str::to_string)
        };
        Ok(BackupInfo {
            device_name: s("Device Name"),
            product_type: s("Product Type"),
            product_version: s("Product Version"),
            serial_number: s("Serial Number"),
            encrypted: self.is_encrypted(),
        })
    }

    pub(crate) fn manifest_conn(&self) -> Result<rusqlite::Connection, String> {
        crate::util::open_sqlite_readonly(&self.manifest_db).map(|(c, _)| c)
    }

    /// Files (not folders) whose domain and relative path match the SQL LIKE patterns.
    pub(crate) fn find(&self, domain_like: &str, rel_like: &str) -> Result<Vec<Entry>, String> {
        let conn = self.manifest_conn()?;
        let mut stmt = conn
            .prepare(
                "SELECT fileID, domain, relativePath, flags, file FROM Files \
                 WHERE flags = 1 AND domain LIKE ?1 AND relativePath LIKE ?2 LIMIT 10000",
            )
            .map_err(|e| format!("Manifest.db: {e}"))?;
        let rows = stmt
            .query_map([domain_like, rel_like], entry_from_row)
            .map_err(|e| format!("Manifest.db: {e}"))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(|e| format!("Manifest.db: {e}"))?);
        }
        Ok(out)
    }

    /// Calls `f` for every row of Manifest.db, streaming.
    pub(crate) fn for_each_entry(&self, f: &mut dyn FnMut(Entry)) -> Result<(), String> {
        let conn = self.manifest_conn()?;
        let mut stmt = conn
            .prepare("SELECT fileID, domain, relativePath, flags, file FROM Files")
            .map_err(|e| format!("Manifest.db: {e}"))?;
        let mut rows = stmt.query([]).map_err(|e| format!("Manifest.db: {e}"))?;
        while let Some(row) = rows.next().map_err(|e| format!("Manifest.db: {e}"))? {
            f(entry_from_row(row).map_err(|e| format!("Manifest.db: {e}"))?);
        }
        Ok(())
    }

    /// A readable local path for a backed-up file, decrypting it when the backup is encrypted.
    pub(crate) fn materialise(&self, entry: &Entry) -> Result<Local, String> {
        let id = &entry.file_id;
        if id.len() != 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("Manifest.db: invalid fileID {id:?}"));
        }
        let stored = self.root.join(&id[..2]).join(id);
        if !stored.is_file() {
            return Err(format!(
                "{id}: listed in Manifest.db but missing from the backup"
            ));
        }
        let (Some(keys), Some(temp)) = (&self.keys, &self.temp) else {
            return Ok(Local {
                path: stored,
                _temp: None,
            });
        };
        let meta = entry
            .blob
            .as_deref()
            .map(parse_file_blob)
            .transpose()?
            .unwrap_or_default();
        let (Some(class), Some(wrapped)) = (meta.protection_class, meta.encryption_key.as_deref())
        else {
            return Err(format!(
                "{}: no EncryptionKey in Manifest.db",
                entry.device_path()
            ));
        };
        let key = keys
            .unwrap_file_key(class, wrapped)
            .ok_or_else(|| format!("{}: file key does not unwrap", entry.device_path()))?;
        let out = tempfile::Builder::new()
            .prefix("file-")
            .tempfile_in(temp.path())
            .map_err(|e| format!("temporary file: {e}"))?
            .into_temp_path();
        decrypt_file(&stored, &out, &key, meta.size)
            .map_err(|e| format!("{}: decrypting: {e}", entry.device_path()))?;
        Ok(Local {
            path: out.to_path_buf(),
            _temp: Some(out),
        })
    }
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        file_id: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
        domain: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
        relative_path: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
        flags: row.get::<_, Option<i64>>(3)?.unwrap_or_default(),
        blob: row
            .get::<_, Option<Vec<u8>>>(4)
            .ok()
            .flatten()
            .filter(|b| b.len() <= MAX_FILE_BLOB),
    })
}

/// Decrypts `src` (AES-256-CBC, zero IV) into `dst` in 1 MiB chunks, dropping the padding
/// and truncating to `size` when known.
fn decrypt_file(src: &Path, dst: &Path, key: &[u8], size: Option<u64>) -> std::io::Result<()> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut input = File::open(src)?;
    let total = input.metadata()?.len();
    let mut out = std::io::BufWriter::new(File::create(dst)?);
    let mut dec = CbcDecryptor::new(key).ok_or_else(|| bad("file key is not 32 bytes"))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    let mut last: Vec<u8> = Vec::new();
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            let n = input.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        let whole = filled - filled % 16;
        dec.decrypt(&mut buf[..whole]);
        done += filled as u64;
        if done >= total {
            // Keep the final block back to strip the padding.
            let keep = whole.min(16);
            out.write_all(&buf[..whole - keep])?;
            last = buf[whole - keep..whole].to_vec();
            break;
        }
        out.write_all(&buf[..whole])?;
    }
    let tail = unpadded_len(&last).map_or(&last[..], |n| &last[..n]);
    out.write_all(tail)?;
    out.flush()?;
    drop(out);
    if let Some(size) = size {
        let f = std::fs::OpenOptions::new().write(true).open(dst)?;
        if f.metadata()?.len() > size {
            f.set_len(size)?;
        }
    }
    Ok(())
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => i.as_signed().or_else(|| i.as_unsigned().map(|u| u as i64)),
        Value::Real(r) => Some(*r as i64),
        Value::Date(d) => {
            let st: std::time::SystemTime = (*d).into();
            st.duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs() as i64)
        }
        _ => None,
    }
}

/// Parses a Manifest.db `file` blob (NSKeyedArchiver `MBFile`); malformed blobs are errors, never panics.
pub fn parse_file_blob(blob: &[u8]) -> Result<FileMeta, String> {
    let v = Value::from_reader(std::io::Cursor::new(blob))
        .map_err(|e| format!("Manifest.db file blob: {e}"))?;
    let objects = v
        .as_dictionary()
        .and_then(|d| d.get("$objects"))
        .and_then(Value::as_array)
        .ok_or("Manifest.db file blob: no $objects")?;
    let root_idx = v
        .as_dictionary()
        .and_then(|d| d.get("$top"))
        .and_then(Value::as_dictionary)
        .and_then(|t| t.get("root"))
        .and_then(|r| match r {
            Value::Uid(u) => Some(u.get() as usize),
            _ => None,
        })
        .unwrap_or(1);
    let file = objects
        .get(root_idx)
        .and_then(Value::as_dictionary)
        .ok_or("Manifest.db file blob: no root object")?;
    let int = |k: &str| file.get(k).and_then(as_int);
    let encryption_key = match file.get("EncryptionKey") {
        Some(Value::Uid(u)) => objects
            .get(u.get() as usize)
            .and_then(Value::as_dictionary)
            .and_then(|d| d.get("NS.data"))
            .and_then(Value::as_data)
            .filter(|d| d.len() > 4)
            .map(|d| d[4..].to_vec()),
        _ => None,
    };
    Ok(FileMeta {
        birth: int("Birth"),
        modified: int("LastModified"),
        status_changed: int("LastStatusChange"),
        size: int("Size").and_then(|s| u64::try_from(s).ok()),
        protection_class: int("ProtectionClass").and_then(|c| u32::try_from(c).ok()),
        encryption_key,
    })
}

impl Local {
    /// A file readable where it is.
    pub(crate) fn plain(path: PathBuf) -> Local {
        Local { path, _temp: None }
    }
}
