//! `vigil … | head`: when the reader of standard output goes away, the
//! command ends quietly with the status a SIGPIPE death gives (141), not a
//! panic or an error message.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `vigil ARGS` with its standard output closed before it writes anything.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vigil");
    // The child is still starting up: closing our end now makes its first write fail.
    drop(child.stdout.take());
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut stderr).expect("read stderr");
    }
    let status = child.wait().expect("wait for vigil");
    (status.code(), stderr)
}

#[test]
fn iocs_list_into_a_closed_pipe_exits_quietly() {
    let (code, stderr) = with_closed_stdout(&["iocs", "list"]);
    assert_eq!(code, Some(141), "stderr: {stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
}

#[test]
fn large_output_into_a_closed_pipe_exits_quietly() {
    let bundle = "data/indicators/investigations/2021-07-18_nso/pegasus.stix2";
    for args in [
        ["export", "--format", "rpz", bundle].as_slice(),
        ["stix", "stats", "--json", bundle].as_slice(),
    ] {
        let (code, stderr) = with_closed_stdout(args);
        assert_eq!(code, Some(141), "{args:?}: stderr: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn head_reads_the_first_line_and_the_pipeline_ends_cleanly() {
    let vigil = env!("CARGO_BIN_EXE_vigil");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "\"{vigil}\" export --format domains data/indicators/investigations/2021-07-18_nso/pegasus.stix2 | head -n 1"
        ))
        .current_dir(root())
        .output()
        .expect("run sh");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
}
