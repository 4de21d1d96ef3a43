//! Seeded generator of realistic synthetic phone acquisitions with planted indicator hits.
//!
//! It writes iTunes/Finder backups (plain or encrypted, with the table
//! schemas of the real iOS databases that readers and MVT rely on), androidqf
//! acquisition folders, Android bugreport zips and Android backups
//! (`backup.ab`), and sysdiagnose archives. The same seed always gives
//! the same bytes; sizes are parameters (a backup with a million SMS and a
//! million Safari visits is a benchmark input). [`Plants`] lists the indicator
//! values to hide among the benign data, and every generator returns the
//! [`Planted`] hits so that tests can check a scanner found each of them.
//!
//! **Invariant:** the generator only writes below the folder or file it is
//! given, and never reads the network.

mod android;
pub mod check;
mod ios;
mod rng;
mod sysdiagnose;

pub use android::{
    write_android_backup, write_androidqf, write_bugreport, AndroidBackupSpec, AndroidSpec,
};
pub use ios::{file_id, stored_path, write_ios_backup, IosBackupSpec};
pub use rng::Rng;
pub use sysdiagnose::{write_sysdiagnose, zip_folder};

/// Errors while writing synthetic data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file being written.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Building an SQLite database failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The database being built.
        path: String,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// Serialising a property list or archive failed.
    #[error("{path}: {message}")]
    Format {
        /// The file being written.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Indicator values to plant among the benign data.
#[derive(Debug, Clone, Default)]
pub struct Plants {
    /// Domains: planted as URLs in messages and browser history (some on a subdomain).
    pub domains: Vec<String>,
    /// Process names: planted in data-usage records (iOS) and process lists (Android).
    pub processes: Vec<String>,
    /// App ids / package names: planted as installed applications.
    pub app_ids: Vec<String>,
    /// File paths: planted as backup/dump file paths and SMS attachment paths.
    pub file_paths: Vec<String>,
    /// Android system property names: planted in getprop output.
    pub properties: Vec<String>,
    /// File hashes (SHA-256): planted as APK hashes (androidqf).
    pub sha256: Vec<String>,
    /// App signing certificate hashes (MD5, SHA-1 or SHA-256 by length): planted as package certificates.
    pub cert_hashes: Vec<String>,
}

/// One planted hit: which value, in which module's artefact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Planted {
    /// The reader module expected to see it (`sms`, `safari_history`, `datausage` …).
    pub module: &'static str,
    /// The indicator value as planted (for a subdomain plant: the indicator's domain).
    pub value: String,
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Appends a regular file of 2024-03-01 to a tar stream (ustar header, as
/// Android's backup and Apple's sysdiagnose archives have).
pub(crate) fn tar_file<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    data: &[u8],
) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_709_251_200);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)
}
