//! Test support shared by Vigil's crates. Used only as a dev-dependency.
//!
//! The differential and interop tests run the field's reference tools
//! (OASIS `stix2-validator`, `stix2-patterns`, `stix2-matcher`, `taxii2-client`,
//! medallion, MVT) from a pinned virtual environment that `scripts/test` builds.
//! When that script runs the tests it sets `VIGIL_REQUIRE_INTEROP=1`, and a
//! missing tool is then a failure, never a silent skip.

use std::path::{Path, PathBuf};

/// The workspace root (the folder holding the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// The Python interpreter of the interop virtual environment, if there is one.
///
/// Looks at `VIGIL_PYTHON`, then `target/interop-venv/bin/python`. Returns
/// `None` (the caller prints a skip notice) unless `VIGIL_REQUIRE_INTEROP` is
/// set, in which case a missing interpreter panics so that CI cannot pass
/// without running the differential tests.
pub fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("VIGIL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/interop-venv/bin/python"));
    if candidate.exists() {
        return Some(candidate);
    }
    if required("VIGIL_REQUIRE_INTEROP") {
        panic!(
            "VIGIL_REQUIRE_INTEROP is set but no interop Python at {}; run scripts/interop-setup",
            candidate.display()
        );
    }
    eprintln!("skipped: no interop Python (run scripts/interop-setup, or scripts/test)");
    None
}

/// The URL of a throwaway PostgreSQL database for the storage suite, if any.
///
/// `scripts/test` starts one and sets `VIGIL_TEST_POSTGRES_URL` and
/// `VIGIL_REQUIRE_POSTGRES=1`; with the latter set a missing URL panics.
pub fn postgres_url() -> Option<String> {
    match std::env::var("VIGIL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required("VIGIL_REQUIRE_POSTGRES") => {
            panic!("VIGIL_REQUIRE_POSTGRES is set but VIGIL_TEST_POSTGRES_URL is not")
        }
        _ => {
            eprintln!("skipped: no PostgreSQL (set VIGIL_TEST_POSTGRES_URL or run scripts/test)");
            None
        }
    }
}

/// Folder of the shared development data sets, when present (benchmarks only).
pub fn shared_data() -> Option<PathBuf> {
    let p = std::env::var_os("VIGIL_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/data"));
    p.is_dir().then_some(p)
}

fn required(var: &str) -> bool {
    std::env::var(var)
        .map(|v| !v.is_empty() && v != "0")
        .unwrap_or(false)
}

/// CPU seconds (user + system) process `pid` has used so far, from
/// `/proc/PID/stat` (Linux; clock ticks of 1/100 s, the kernel's USER_HZ),
/// or `None` when that cannot be read. For benchmarks' CPU-time figures.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold
    // spaces: utime and stime, fields 14 and 15 of the line, are 11 and 12 there.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// [`cpu_secs`] of the calling process (0 when it cannot be read).
pub fn own_cpu_secs() -> f64 {
    cpu_secs(std::process::id()).unwrap_or(0.0)
}

/// Peak resident memory (`VmHWM`) of process `pid` in KiB, from `/proc/PID/status`.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
