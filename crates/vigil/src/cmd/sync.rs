//! `vigil sync`.

use crate::Outcome;

/// Arguments of `vigil sync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (this subcommand is not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `vigil sync`.
pub fn run(_args: Args) -> anyhow::Result<Outcome> {
    anyhow::bail!("`vigil sync` is not implemented yet")
}
