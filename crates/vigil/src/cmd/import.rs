//! `vigil import`: MISP events and galaxies to a STIX 2.1 bundle.

use std::path::PathBuf;

use anyhow::Context;
use vigil_formats::misp;

use crate::Outcome;

/// Arguments of `vigil import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What the file is.
    #[arg(value_enum)]
    kind: Kind,
    /// The MISP JSON file.
    file: PathBuf,
    /// `created`/`modified` of objects made from a galaxy (galaxies carry no timestamps).
    #[arg(long, default_value = "2026-01-01T00:00:00.000Z")]
    created: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Kind {
    /// A MISP event (`/events/view` JSON).
    MispEvent,
    /// A MISP galaxy cluster file.
    MispGalaxy,
}

/// Runs `vigil import`; exit 1 when something was skipped.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", args.file.display()))?;
    let import = match args.kind {
        Kind::MispEvent => misp::import_event(&json),
        Kind::MispGalaxy => misp::import_galaxy(&json, &args.created),
    }
    .with_context(|| args.file.display().to_string())?;
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": format!("bundle--{}", pseudo_uuid(&text)),
        "objects": import.objects,
    });
    println!("{}", serde_json::to_string_pretty(&bundle)?);
    for (place, why) in &import.skipped {
        eprintln!("{}: {place}: skipped: {why}", args.file.display());
    }
    Ok(if import.skipped.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// A UUIDv4-shaped id derived from the input, so that importing the same
/// file twice gives the same bundle id.
fn pseudo_uuid(text: &str) -> String {
    // FNV-1a, twice with different offsets: enough to name a bundle.
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for byte in text.bytes() {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
