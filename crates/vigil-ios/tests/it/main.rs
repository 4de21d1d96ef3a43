//! Integration tests of the iOS readers on generated acquisitions.

mod backup;
mod keybag;
mod sysdiagnose;

pub use vigil_testgen::check::{observed, run_all};

/// Whether `host` is `domain` or one of its subdomains.
pub fn on_domain(url: &str, domain: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':', '?'])
        .next()
        .unwrap_or("");
    host == domain || host.ends_with(&format!(".{domain}"))
}
