//! `vigil stix` model tools (everything but `validate`).

use crate::Outcome;

/// The model tools.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print statistics about a bundle (object counts per type).
    Stats {
        /// The bundle.
        file: std::path::PathBuf,
    },
}

/// Runs a model tool.
pub fn run(_cmd: Command) -> anyhow::Result<Outcome> {
    anyhow::bail!("not implemented yet")
}
