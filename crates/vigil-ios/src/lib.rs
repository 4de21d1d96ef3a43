//! Readers for iPhone acquisitions: iTunes/Finder backups (plain and
//! encrypted), full file-system dumps and sysdiagnose archives.
//!
//! Each acquisition kind has a `looks_like_*` probe and a `*_modules`
//! constructor returning the reader [`Module`]s that apply to it. A module
//! reads one artefact (the SMS database, Safari history, the data-usage
//! database, a crash log …) row by row and emits [`vigil_artefact::Record`]s
//! with the device path, table and row they came from.
//!
//! ```no_run
//! let modules = vigil_ios::backup_modules(
//!     std::path::Path::new("backup"),
//!     Some(vigil_ios::Unlock::Password("secret".into())),
//! )?;
//! for m in &modules {
//!     let summary = m.run(&mut |record| println!("{}", record.event));
//! }
//! # Ok::<(), vigil_ios::Error>(())
//! ```
//!
//! **Invariant:** the input is never modified: SQLite databases are opened
//! read-only and immutable (or copied first when they carry a write-ahead
//! log), encrypted files are decrypted into a private temporary folder that is
//! removed when the modules are dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use vigil_artefact::Module;

mod backup;
pub mod keybag;
mod modules;
mod source;
mod sysdiagnose;
mod util;

pub use backup::{derive_key, parse_file_blob, Backup, BackupInfo, FileMeta};
pub use util::{extract_urls, mac_time_to_unix_micros};

/// Errors opening an iOS acquisition (module-level problems are [`vigil_artefact::ModuleError`]s).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backup is encrypted and no password or key was given.
    #[error("{0}: the backup is encrypted: give its password or a saved key")]
    PasswordRequired(PathBuf),
    /// The password (or saved key) does not unwrap the backup's keys.
    #[error("wrong backup password or key")]
    WrongPassword,
    /// The keybag in Manifest.plist is malformed.
    #[error("Manifest.plist: BackupKeyBag: {0}")]
    Keybag(String),
    /// A required file is missing.
    #[error("{0}: missing")]
    Missing(PathBuf),
    /// A property list could not be read.
    #[error("{path}: {message}")]
    Plist {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An SQLite database could not be read.
    #[error("{path}: {message}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file could not be read or a temporary file written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The path is not an acquisition of the requested kind.
    #[error("{0}: not a recognised {1}")]
    NotRecognised(PathBuf, &'static str),
}

/// How to unlock an encrypted backup.
#[derive(Clone)]
pub enum Unlock {
    /// The backup password (runs the slow key derivation).
    Password(String),
    /// A saved 32-byte key from [`derive_key`] (or MVT's key file, hex-decoded).
    Key(Vec<u8>),
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed.
        match self {
            Unlock::Password(_) => f.write_str("Unlock::Password(..)"),
            Unlock::Key(_) => f.write_str("Unlock::Key(..)"),
        }
    }
}

/// The folder of the backup itself: `path`, or its only sub-folder holding a backup.
pub fn resolve_backup_dir(path: &Path) -> Option<PathBuf> {
    let is_backup =
        |p: &Path| p.join("Manifest.db").is_file() && p.join("Manifest.plist").is_file();
    if is_backup(path) || (path.join("Manifest.db").is_file() && path.join("Info.plist").is_file())
    {
        return Some(path.to_path_buf());
    }
    let mut found = None;
    for entry in std::fs::read_dir(path).ok()?.flatten().take(10_000) {
        let p = entry.path();
        if p.is_dir() && is_backup(&p) {
            if found.is_some() {
                return None;
            }
            found = Some(p);
        }
    }
    found
}

/// Whether `path` is an iTunes/Finder backup folder (Manifest.db with Manifest.plist or Info.plist).
pub fn looks_like_backup(path: &Path) -> bool {
    path.is_dir() && resolve_backup_dir(path).is_some()
}

/// Whether `path` is an iOS file-system dump (a `private/var` tree at its root).
pub fn looks_like_filesystem(path: &Path) -> bool {
    path.join("private/var/mobile").is_dir() || path.join("private/var/containers").is_dir()
}

/// Whether `path` is a sysdiagnose archive (`sysdiagnose_*.tar.gz`) or its extracted folder.
pub fn looks_like_sysdiagnose(path: &Path) -> bool {
    sysdiagnose::looks_like(path)
}

/// The reader modules for an iTunes/Finder backup.
///
/// An encrypted backup needs `unlock`; without it this returns
/// [`Error::PasswordRequired`], with a wrong one [`Error::WrongPassword`].
pub fn backup_modules(path: &Path, unlock: Option<Unlock>) -> Result<Vec<Box<dyn Module>>, Error> {
    let dir = resolve_backup_dir(path)
        .ok_or_else(|| Error::NotRecognised(path.to_path_buf(), "iOS backup"))?;
    let backup = Arc::new(Backup::open(&dir, unlock)?);
    Ok(modules::for_backup(backup))
}

/// The reader modules for an iOS full file-system dump.
pub fn filesystem_modules(path: &Path) -> Result<Vec<Box<dyn Module>>, Error> {
    if !looks_like_filesystem(path) {
        return Err(Error::NotRecognised(
            path.to_path_buf(),
            "iOS file-system dump",
        ));
    }
    Ok(modules::for_filesystem(path.to_path_buf()))
}

/// The reader modules for a sysdiagnose archive or folder.
pub fn sysdiagnose_modules(path: &Path) -> Result<Vec<Box<dyn Module>>, Error> {
    if !looks_like_sysdiagnose(path) {
        return Err(Error::NotRecognised(
            path.to_path_buf(),
            "sysdiagnose archive",
        ));
    }
    Ok(sysdiagnose::modules(path.to_path_buf()))
}
