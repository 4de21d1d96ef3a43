//! One module per subcommand. Each defines `Args` (clap) and
//! `run(Args) -> anyhow::Result<Outcome>`; errors become exit code 2.

pub mod export;
pub mod import;
pub mod iocs;
pub mod log;
pub mod pattern;
pub mod scan;
pub mod screen;
pub mod serve;
pub mod serve_log;
pub mod stix;
pub mod stix_tools;
pub mod stix_validate;
pub mod sync;
