//! `vigil stix`: `validate` (in `stix_validate.rs`) and the model tools (in `stix_tools.rs`).

use crate::Outcome;

/// Arguments of `vigil stix`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Validate STIX 2.1 files against the specification.
    Validate(super::stix_validate::Args),
    #[command(flatten)]
    Tools(super::stix_tools::Command),
}

/// Runs `vigil stix`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Validate(a) => super::stix_validate::run(a),
        Command::Tools(c) => super::stix_tools::run(c),
    }
}
