//! The README's oversight-in-the-hub tour, run as written: the `sh` block
//! of that section runs in a fresh folder (`vigil` is this build, the
//! hub's and the witness's ports are free ones), and what it prints must
//! show the authorisation going from request to approval, a granted and a
//! refused access, the transparency report, and the witness's cosignature
//! verified by `vigil log verify`.

use std::os::unix::process::CommandExt as _;
use std::process::Command;

mod hubproc;

const SECTION: &str = "#### In the hub: the oversight API and the hub's own log";

fn script(readme: &str) -> String {
    let start = readme
        .find(SECTION)
        .unwrap_or_else(|| panic!("README.md has no {SECTION:?} section"));
    let rest = &readme[start..];
    let open = rest.find("```sh\n").expect("the section has an sh block") + 6;
    let len = rest[open..].find("```").expect("the sh block ends");
    rest[open..open + len].to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_readme_oversight_tour_runs_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let (hub, witness) = (free_port(), free_port());
    let body = script(&readme)
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{hub}"))
        .replace("127.0.0.1:8091", &format!("127.0.0.1:{witness}"));
    let dir = hubproc::temp_dir("oversight_tour");
    let full = format!("set -e\nvigil() {{ \"$VIGIL_BIN\" \"$@\"; }}\n{body}");
    // The script's background servers keep running after it ends: it runs
    // in a process group of its own, which is ended afterwards; output
    // goes to files so nothing waits on a pipe they hold.
    let (out_path, err_path) = (dir.join("tour.out"), dir.join("tour.err"));
    let mut child = Command::new("sh")
        .args(["-c", &full])
        .current_dir(&dir)
        .env("VIGIL_BIN", env!("CARGO_BIN_EXE_vigil"))
        .env("VIGIL_LISTEN", format!("127.0.0.1:{hub}"))
        .env("VIGIL_LOG", "warn")
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let _ = Command::new("kill")
        .args(["--", &format!("-{}", child.id())])
        .status();
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    assert!(status.success(), "tour failed:\n{stdout}\n{stderr}");
    for shown in [
        r#""id":"A-000001""#,
        r#""status":"awaiting_approval""#,
        r#""status":"active""#,
        r#"{"granted":true,"log_index":"#,
        r#""reason":"data type messages is outside the authorised scope""#,
        "Requests                                    1",
        "Approvals                                   1",
        "Accesses granted                            1",
        "Accesses refused                            1",
        "OK checkpoint hub.example/log size ",
        "OK cosigned by ombudsman.example at ",
    ] {
        assert!(
            stdout.contains(shown),
            "the tour does not show {shown:?}:\n{stdout}\n{stderr}"
        );
    }
    // No personal data on the log: the entries hold hashes.
    let mut r = vigil_tlog::LogReader::open(&dir.join("vigil-data/log")).unwrap();
    assert!(
        r.size() >= 4,
        "request, approval and two accesses are on the log"
    );
    for i in 0..r.size() {
        let text = String::from_utf8(r.entry(i).unwrap()).unwrap();
        for name in ["olga", "otto", "judge", "imei-1", "case-117"] {
            assert!(!text.contains(name), "{name} is on the log: {text}");
        }
    }
}
