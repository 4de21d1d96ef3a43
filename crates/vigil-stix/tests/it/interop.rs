//! Helpers to run the reference Python tools once per test, in a batch.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs `interop/stix/<script>` with `input` as JSON on stdin and parses its JSON output.
///
/// Returns `None` (test skipped) when no interop Python is installed.
pub fn run_script(script: &str, input: &Value) -> Option<Value> {
    let python = vigil_testkit::python()?;
    let path = vigil_testkit::workspace_root()
        .join("interop/stix")
        .join(script);
    let mut child = Command::new(python)
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the interop Python");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(&serde_json::to_vec(input).unwrap())
        .expect("write to the interop script");
    drop(stdin);
    let out = child.wait_with_output().expect("run the interop script");
    assert!(out.status.success(), "{} failed", path.display());
    Some(serde_json::from_slice(&out.stdout).expect("the interop script prints JSON"))
}
