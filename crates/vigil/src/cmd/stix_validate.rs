//! `vigil stix validate`.

use crate::Outcome;

/// Arguments of `vigil stix validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files to validate (`-` for standard input).
    files: Vec<std::path::PathBuf>,
}

/// Runs `vigil stix validate`.
pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    anyhow::bail!("`vigil stix validate` is not implemented yet")
}
