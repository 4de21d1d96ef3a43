//! End-to-end tests of the `vigil` binary: exit codes and output a user sees.

mod broken_pipe;

use std::process::Command;

fn vigil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
}

#[test]
fn usage_error_exits_2() {
    let out = vigil().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-command"), "stderr: {err}");
}

#[test]
fn help_lists_subcommands() {
    let out = vigil().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["stix", "pattern", "scan", "serve", "screen", "log"] {
        assert!(text.contains(sub), "help lacks {sub}: {text}");
    }
}
