//! `vigil export`: STIX indicators to the formats defenders deploy.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use vigil_formats::{export, ExportOptions, Format, IndicatorSet};

use crate::Outcome;

/// Arguments of `vigil export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: mvt, suricata, suricata-dataset, zeek, rpz, hosts, domains, csv.
    #[arg(long, short)]
    format: String,
    /// Write here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// RPZ zone origin.
    #[arg(long, default_value = "rpz.vigil.")]
    rpz_origin: String,
    /// First Suricata signature id.
    #[arg(long, default_value_t = 9_700_000)]
    first_sid: u64,
    /// Print the indicators that could not be exported, with the reason.
    #[arg(long)]
    verbose: bool,
    /// STIX 2.1 bundles to read.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Runs `vigil export`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let format = Format::from_name(&args.format)?;
    let mut objects = Vec::new();
    for file in &args.files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", file.display()))?;
        match value.get("objects").and_then(|o| o.as_array()) {
            Some(list) => objects.extend(list.iter().cloned()),
            None => anyhow::bail!("{}: not a STIX bundle (no `objects` array)", file.display()),
        }
    }
    let set = IndicatorSet::from_objects(&objects);
    let options = ExportOptions {
        rpz_origin: args.rpz_origin,
        suricata_first_sid: args.first_sid,
        ..ExportOptions::default()
    };
    let mut buf = Vec::new();
    export(&set, format, &options, &mut buf)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &buf).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout()
            .lock()
            .write_all(&buf)
            .context("writing standard output")?,
    }
    eprintln!(
        "exported {} entries from {} files; {} indicators not exportable",
        set.entries.len(),
        args.files.len(),
        set.skipped.len()
    );
    if args.verbose {
        for s in &set.skipped {
            eprintln!("  {}: {}", s.id, s.reason);
        }
    }
    Ok(Outcome::Ok)
}
