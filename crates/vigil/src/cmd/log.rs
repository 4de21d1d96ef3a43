//! `vigil log`.

use crate::Outcome;

/// Arguments of `vigil log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (this subcommand is not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `vigil log`.
pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    anyhow::bail!("`vigil log` is not implemented yet")
}
