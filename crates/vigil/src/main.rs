//! `vigil`: the one binary. It parses the command line, calls into the domain
//! crates and maps outcomes to exit codes. It holds no domain logic.
//!
//! Exit codes (documented in README.md):
//! - 0: success — valid, no findings, no match is *not* this (see per-command docs);
//! - 1: findings — invalid input, detections, screening hits, pattern did not match;
//! - 2: usage error or I/O error (clap uses 2 for usage errors too);
//! - 141: standard output was closed early (`vigil … | head`): quiet exit.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// mimalloc instead of the system allocator: the hub's TAXII ingest makes
/// and drops many small strings and JSON nodes per object on several
/// threads (`cargo bench -p vigil-server --bench taxii` runs with it too).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Vigil — open infrastructure against the misuse of commercial spyware.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read, validate and transform STIX 2.1 content.
    Stix(cmd::stix::Args),
    /// Check, pretty-print, compile and evaluate STIX patterns.
    Pattern(cmd::pattern::Args),
    /// Scan a phone acquisition, capture or log for known spyware indicators.
    Scan(cmd::scan::Args),
    /// Manage local indicator sets used by `vigil scan`.
    Iocs(cmd::iocs::Args),
    /// Run the hub: registry, TAXII 2.1 server, screening and oversight.
    Serve(cmd::serve::Args),
    /// Pull and push collections between TAXII 2.1 hubs.
    Sync(cmd::sync::Args),
    /// Screen parties against restricted-party lists and the spyware registry.
    Screen(cmd::screen::Args),
    /// Verify, prove, checkpoint and witness the transparency log.
    Log(cmd::log::Args),
    /// Export STIX indicators as MVT, Suricata, Zeek, RPZ, hosts, domain or CSV files.
    Export(cmd::export::Args),
    /// Import MISP events and galaxies as a STIX 2.1 bundle.
    Import(cmd::import::Args),
}

/// What a command reports back to `main` when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0: all good (valid, clean, matched as asked).
    Ok,
    /// Exit 1: the command worked and found something the user must look at.
    Findings,
}

/// Exit status of a process killed by SIGPIPE, as a shell reports it (128 + 13).
const BROKEN_PIPE_EXIT: i32 = 141;

/// Whether an error means the reader of our output went away (`vigil … | head`).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// Makes `vigil … | head` end quietly: Rust ignores SIGPIPE, so a write to a
/// closed pipe fails, and `println!` panics on that failure. Such a panic
/// (on any thread) exits at once with the status a SIGPIPE death would give.
fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stix(a) => cmd::stix::run(a),
        Command::Pattern(a) => cmd::pattern::run(a),
        Command::Scan(a) => cmd::scan::run(a),
        Command::Iocs(a) => cmd::iocs::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Sync(a) => cmd::sync::run(a),
        Command::Screen(a) => cmd::screen::run(a),
        Command::Log(a) => cmd::log::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Import(a) => cmd::import::run(a),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::from(0),
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(BROKEN_PIPE_EXIT as u8),
        Err(err) => {
            eprintln!("vigil: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
