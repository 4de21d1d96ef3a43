//! `vigil iocs`.

use crate::Outcome;

/// Arguments of `vigil iocs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (this subcommand is not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `vigil iocs`.
pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    anyhow::bail!("`vigil iocs` is not implemented yet")
}
