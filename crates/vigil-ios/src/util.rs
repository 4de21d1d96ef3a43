//! Small helpers shared by the modules: read-only SQLite, time conversions, URL extraction.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// Seconds between the Unix epoch and the Mac absolute-time epoch (2001-01-01).
const MAC_EPOCH: i64 = 978_307_200;
/// Microseconds between 1601-01-01 (Chrome/WebKit epoch) and the Unix epoch.
const WEBKIT_EPOCH_MICROS: i64 = 11_644_473_600_000_000;

/// Converts Mac absolute time (seconds since 2001, or nanoseconds in newer
/// databases) to microseconds since the Unix epoch; zero means "unset".
pub fn mac_time_to_unix_micros(t: f64) -> Option<i64> {
    if t == 0.0 || !t.is_finite() {
        return None;
    }
    // Nanosecond timestamps are > 1e11 for any date after 2004.
    let secs = if t.abs() > 1e11 { t / 1e9 } else { t };
    let micros = (secs + MAC_EPOCH as f64) * 1e6;
    (micros.abs() < 1e17).then_some(micros as i64)
}

/// Chrome/WebKit time (microseconds since 1601) to Unix microseconds.
pub(crate) fn webkit_to_unix_micros(t: i64) -> Option<i64> {
    (t > 0).then(|| t.saturating_sub(WEBKIT_EPOCH_MICROS))
}

/// Unix seconds (integer or float) to Unix microseconds.
pub(crate) fn unix_secs_to_micros(t: f64) -> Option<i64> {
    (t > 0.0 && t < 1e12).then_some((t * 1e6) as i64)
}

/// Opens an SQLite database without any chance of writing to it.
///
/// A database with a write-ahead log next to it is copied (with the log) to a
/// temporary folder first, so that its latest rows are seen without touching
/// the original; the returned guard keeps that copy alive.
pub(crate) fn open_sqlite_readonly(
    path: &Path,
) -> Result<(Connection, Option<tempfile::TempDir>), String> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if wal.is_file() {
        let dir = tempfile::Builder::new()
            .prefix("vigil-sqlite-")
            .tempdir()
            .map_err(|e| format!("temporary folder: {e}"))?;
        let copy = dir.path().join("db");
        std::fs::copy(path, &copy).map_err(|e| format!("copying: {e}"))?;
        std::fs::copy(&wal, dir.path().join("db-wal")).map_err(|e| format!("copying log: {e}"))?;
        let conn = Connection::open_with_flags(
            &copy,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| e.to_string())?;
        return Ok((conn, Some(dir)));
    }
    let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
    let conn = Connection::open_with_flags(uri, flags).map_err(|e| e.to_string())?;
    Ok((conn, None))
}

fn uri_escape(p: &str) -> String {
    let mut s = String::with_capacity(p.len());
    for c in p.chars() {
        match c {
            '?' | '#' | '%' => s.push_str(&format!("%{:02X}", c as u32)),
            _ => s.push(c),
        }
    }
    s
}

pub use vigil_artefact::extract_urls;
