//! Signing keys: loaded from owner-only files or the environment, and never
//! shown in errors or debug output.

use vigil_tlog::keys::{load_signer_env, load_signer_file, write_signer_file};

use crate::log_key;

/// The secret part of a key string (`PRIVATE+KEY+name+id+secret`); the
/// base64 secret may itself hold `+`, so it is everything after the fourth.
fn secret(skey: &str) -> &str {
    skey.splitn(5, '+').nth(4).unwrap()
}

#[cfg(unix)]
#[test]
fn key_files_readable_by_anyone_else_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = log_key();
    let skey = key.to_skey();
    for (mode, ok) in [
        (0o600, true),
        (0o400, true),
        (0o604, false),
        (0o644, false),
        (0o640, false),
        (0o660, false),
        (0o602, false),
    ] {
        let path = dir.path().join(format!("key-{mode:o}"));
        write_signer_file(&path, &key).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        match load_signer_file(&path) {
            Ok(s) => {
                assert!(ok, "mode {mode:o} accepted");
                assert_eq!(s.verifier(), key.verifier());
            }
            Err(e) => {
                assert!(!ok, "mode {mode:o} refused: {e}");
                let msg = e.to_string();
                assert!(msg.contains(&path.display().to_string()), "{msg}");
                assert!(msg.contains("too open"), "{msg}");
                assert!(!msg.contains(secret(&skey)), "key material in {msg}");
            }
        }
    }
}

#[test]
fn keys_load_from_the_environment_and_never_show_in_errors() {
    let key = log_key();
    let skey = key.to_skey();
    let var = "VIGIL_TLOG_TEST_KEY_OK";
    std::env::set_var(var, &skey);
    assert_eq!(load_signer_env(var).unwrap().verifier(), key.verifier());

    // A damaged key: the error names the variable, not its value.
    let var = "VIGIL_TLOG_TEST_KEY_BAD";
    let damaged = format!("{}x", &skey[..skey.len() - 3]);
    std::env::set_var(var, &damaged);
    let msg = load_signer_env(var).unwrap_err().to_string();
    assert!(msg.contains(var), "{msg}");
    assert!(!msg.contains(secret(&damaged)), "key material in {msg}");

    let msg = load_signer_env("VIGIL_TLOG_TEST_KEY_UNSET")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("VIGIL_TLOG_TEST_KEY_UNSET"), "{msg}");

    // Debug output (what a log line would show) has no key material.
    let shown = format!("{key:?}");
    assert!(!shown.contains(secret(&skey)), "{shown}");
}
