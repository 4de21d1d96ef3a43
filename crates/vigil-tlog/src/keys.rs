//! Loading signing keys from files or environment variables.
//!
//! A key file must not be readable by group or others (like `ssh` does for
//! private keys). Key material never appears in errors or logs.

use std::path::Path;

use vigil_ledger::Signer;

use crate::TlogError;

/// Loads a private key (`PRIVATE+KEY+...`) from `path`, refusing files that
/// group or others may read.
pub fn load_signer_file(path: &Path) -> Result<Signer, TlogError> {
    let name = path.display().to_string();
    let key_err = |why: String| TlogError::Key {
        source_name: name.clone(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| key_err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(key_err(format!(
                "permissions {:o} are too open; the key must be readable by its owner only (chmod 600)",
                mode & 0o777
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(|e| key_err(e.to_string()))?;
    Signer::parse(&text).map_err(|e| key_err(e.to_string()))
}

/// Loads a private key from environment variable `var`.
pub fn load_signer_env(var: &str) -> Result<Signer, TlogError> {
    let key_err = |why: String| TlogError::Key {
        source_name: format!("environment variable {var}"),
        why,
    };
    let text = std::env::var(var).map_err(|e| key_err(e.to_string()))?;
    Signer::parse(&text).map_err(|e| key_err(e.to_string()))
}

/// Writes a new private key file readable by its owner only; refuses to
/// overwrite an existing file.
pub fn write_signer_file(path: &Path, signer: &Signer) -> Result<(), TlogError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| TlogError::io(path, e))?;
    f.write_all(format!("{}\n", signer.to_skey()).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| TlogError::io(path, e))
}
