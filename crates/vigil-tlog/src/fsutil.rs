//! Small durable-file helpers.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::TlogError;

/// Writes `bytes` to `path` atomically and durably: a temporary file in the
/// same directory is written and fsynced, renamed over `path`, and the
/// directory is fsynced so the rename survives a crash.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), TlogError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp"));
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| TlogError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| TlogError::io(&tmp, e))?;
        f.sync_all().map_err(|e| TlogError::io(&tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| TlogError::io(path, e))?;
    sync_dir(dir)
}

/// Fsyncs a directory so that entries created or renamed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), TlogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| TlogError::io(dir, e))
}
