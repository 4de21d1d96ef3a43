//! One writer per log directory: a second `Log::open` fails at once while
//! the first writer lives, in this process or another; dropping the
//! writer or killing its process releases the directory. Readers never
//! take the lock.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use vigil_tlog::{Log, LogReader, Options, TlogError};

const CHILD_ENV: &str = "VIGIL_TLOG_LOCK_CHILD_DIR";

fn assert_locked(dir: &std::path::Path) {
    match Log::open(dir, Options::default()) {
        Err(e @ TlogError::Locked { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&dir.display().to_string()), "{msg}");
            assert!(msg.contains("held by another process"), "{msg}");
        }
        Err(e) => panic!("expected the directory to be locked, got {e}"),
        Ok(_) => panic!("a second writer opened {}", dir.display()),
    }
}

#[test]
fn a_second_writer_is_refused_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let first = Log::open(dir.path(), Options::default()).unwrap();
    first
        .append_batch(vec![b"one".to_vec(), b"two".to_vec()])
        .unwrap();
    assert_locked(dir.path());
    // The refused open changed nothing: the writer goes on appending.
    assert_eq!(first.append(b"three".to_vec()).unwrap(), 2);
    // Readers do not need the lock.
    assert!(LogReader::open(dir.path()).unwrap().size() <= 3);
    drop(first);
    let mut r = LogReader::open(dir.path()).unwrap();
    assert_eq!(r.size(), 3);
    assert_eq!(r.entry(2).unwrap(), b"three");
    let again = Log::open(dir.path(), Options::default()).unwrap();
    assert_eq!(again.size(), 3);
    assert_eq!(again.append(b"four".to_vec()).unwrap(), 3);
}

/// Holds the writer lock of the directory named in the environment until
/// killed. Run only by `a_killed_writer_releases_the_directory`.
#[test]
#[ignore = "helper process of the lock test"]
fn lock_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let log = Log::open(std::path::Path::new(&dir), Options::default()).unwrap();
    log.append(b"from the child".to_vec()).unwrap();
    println!("holding");
    loop {
        std::thread::park();
    }
}

#[test]
fn a_killed_writer_releases_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lock::lock_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("holding") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child exited early");
    }
    assert_locked(dir.path());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let log = Log::open(dir.path(), Options::default()).unwrap();
    assert_eq!(log.size(), 1);
    assert_eq!(log.reader().entry(0).unwrap(), b"from the child");
}
