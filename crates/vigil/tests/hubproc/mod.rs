//! A `vigil serve` process on a free loopback port, for end-to-end tests
//! (shared by the test binaries that drive the hub from outside).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running hub; killed and reaped when dropped.
pub struct Hub {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The admin token printed on first start.
    pub token: String,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `vigil serve` with its data in `dir`.
pub fn start(dir: &Path) -> Hub {
    let child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env("VIGIL_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // The guard owns the child from here on, so a failed start is reaped.
    let mut hub = Hub {
        child,
        addr: String::new(),
        token: String::new(),
    };
    let mut lines = BufReader::new(hub.child.stdout.take().unwrap()).lines();
    loop {
        let line = lines
            .next()
            .expect("the hub exited before listening")
            .unwrap();
        if let Some(t) = line.strip_prefix("admin token (shown once, keep it safe): ") {
            hub.token = t.trim().to_string();
        }
        if let Some(rest) = line.strip_prefix("vigil hub listening on http://") {
            hub.addr = rest.trim_end_matches("/taxii2/").to_string();
            return hub;
        }
    }
}

/// A fresh temporary folder named after the test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("vigil_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
