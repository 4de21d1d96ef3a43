//! Readers for Android acquisitions: bugreport zips (or their extracted
//! folders) and androidqf acquisition folders (or their zips).
//!
//! ```no_run
//! let path = std::path::Path::new("bugreport-2024-03-01.zip");
//! if vigil_android::looks_like_bugreport(path) {
//!     for m in vigil_android::bugreport_modules(path)? {
//!         m.run(&mut |record| println!("{} {:?}", record.event, record.observables))?;
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Bugreport modules stream the dumpstate text once each, line by line, and
//! parse only their own section (`DUMP OF SERVICE package:`, `SYSTEM
//! PROPERTIES` …); androidqf modules read the JSON and text files androidqf
//! writes (`packages.json`, `getprop.txt`, `ps.txt`, `files.json`,
//! `settings_*.txt`, `dumpsys.txt`, logcat, and the SMS in `backup.ab`).
//! Android backup files (`adb backup`) are read for their SMS and MMS.
//!
//! **Invariant:** archives are read in place, never extracted: member names
//! with `..`, absolute paths or symbolic links cannot reach outside, and every
//! member read is capped, so a compression bomb costs time, never unbounded
//! memory or disk.

use std::path::Path;

pub use vigil_artefact::Module;

mod androidqf;
mod backup;
mod backup_crypto;
mod dumpsys;
mod source;

use source::Source;

pub use backup::{read_header, BackupHeader};
#[doc(hidden)]
pub use backup_crypto::{cbc_encrypt, encryption_header};

/// Errors opening an Android acquisition (module-level problems are [`vigil_artefact::ModuleError`]s).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path is not an acquisition of the requested kind.
    #[error("{0}: not a recognised {1}")]
    NotRecognised(std::path::PathBuf, &'static str),
    /// The archive or folder could not be listed.
    #[error("{path}: {message}")]
    Unreadable {
        /// The acquisition.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// A folder, or a file named `*.zip`.
fn is_dir_or_zip(path: &Path) -> bool {
    path.is_dir()
        || (path.is_file()
            && path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip")))
}

fn member_names(path: &Path) -> Option<Vec<String>> {
    Source::open(path).names().ok()
}

/// Whether `path` is a bugreport: a zip or folder with `main_entry.txt`, a `dumpstate` log or `bugreport-*.txt`.
pub fn looks_like_bugreport(path: &Path) -> bool {
    if !is_dir_or_zip(path) {
        return false;
    }
    member_names(path).is_some_and(|names| {
        dumpsys::find_dumpstate(&names).is_some()
            && !names.iter().any(|n| n.ends_with("packages.json"))
    })
}

/// Whether `path` is an androidqf acquisition (folder or zip with `packages.json`/`getprop.txt` and friends).
pub fn looks_like_androidqf(path: &Path) -> bool {
    if !is_dir_or_zip(path) {
        return false;
    }
    member_names(path).is_some_and(|names| {
        let has = |f: &str| {
            names
                .iter()
                .any(|n| n == f || n.ends_with(&format!("/{f}")))
        };
        has("packages.json") || (has("getprop.txt") && (has("ps.txt") || has("acquisition.json")))
    })
}

/// The reader modules for a bugreport zip or its extracted folder.
pub fn bugreport_modules(path: &Path) -> Result<Vec<Box<dyn Module>>, Error> {
    let source = Source::open(path);
    let names = source.names().map_err(|message| Error::Unreadable {
        path: path.to_path_buf(),
        message,
    })?;
    if dumpsys::find_dumpstate(&names).is_none() {
        return Err(Error::NotRecognised(
            path.to_path_buf(),
            "Android bugreport",
        ));
    }
    Ok(dumpsys::bugreport_modules(source))
}

/// The reader modules for an androidqf acquisition folder or zip.
pub fn androidqf_modules(path: &Path) -> Result<Vec<Box<dyn Module>>, Error> {
    if !looks_like_androidqf(path) {
        return Err(Error::NotRecognised(
            path.to_path_buf(),
            "androidqf acquisition",
        ));
    }
    Ok(androidqf::modules(Source::open(path)))
}

/// Whether `path` is an Android backup file (`adb backup`, `backup.ab`): it starts with `ANDROID BACKUP`.
pub fn looks_like_android_backup(path: &Path) -> bool {
    let mut head = [0u8; 15];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok()
        && head[..] == backup::MAGIC[..]
}

/// The reader modules for an Android backup file: its SMS and MMS (`password` opens an encrypted one).
pub fn android_backup_modules(
    path: &Path,
    password: Option<&str>,
) -> Result<Vec<Box<dyn Module>>, Error> {
    if !looks_like_android_backup(path) {
        return Err(Error::NotRecognised(path.to_path_buf(), "Android backup"));
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Error::NotRecognised(path.to_path_buf(), "Android backup"));
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    Ok(vec![Box::new(backup::SmsModule {
        source: Source::Dir(dir.to_path_buf()),
        member: name.to_string_lossy().into_owned(),
        password: password.map(str::to_string),
    })])
}

/// Byte-slice entry points for the fuzz targets: the same parsing the modules do, without files.
#[doc(hidden)]
pub mod fuzzing {
    /// Reads bytes as an Android backup file; returns the number of messages read.
    pub fn android_backup(bytes: &[u8]) -> u64 {
        let mut sink = |_: vigil_artefact::Record| {};
        let mut em = vigil_artefact::Emitter::new("backup_sms", &mut sink);
        let _ = crate::backup::read_backup(
            &mut std::io::Cursor::new(bytes),
            "fuzz",
            Some("fuzz"),
            &mut em,
        );
        em.records()
    }
}
