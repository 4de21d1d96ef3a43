//! `vigil serve`.

use crate::Outcome;

/// Arguments of `vigil serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (this subcommand is not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `vigil serve`.
pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    anyhow::bail!("`vigil serve` is not implemented yet")
}
