//! `vigil stix validate`: check STIX 2.1 files against the specification.
//!
//! Exit 0 when every file is valid (warnings allowed unless `--strict`),
//! 1 when any is invalid, 2 when a file cannot be read.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use vigil_validate::{Diagnostic, Options, Report, Validator};

use crate::Outcome;

/// Arguments of `vigil stix validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files to validate (`-` for standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print a machine-readable JSON report instead of text.
    #[arg(long)]
    json: bool,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
}

/// Runs `vigil stix validate`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let validator = Validator::new(Options::with_stix_patterns(args.strict));
    let mut all_valid = true;
    let mut json_files = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.files {
        let name = path.display().to_string();
        let report = if name == "-" {
            validator
                .validate_reader(std::io::stdin().lock())
                .context("reading standard input")?
        } else {
            let file = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
            validator
                .validate_reader(file)
                .with_context(|| format!("reading {name}"))?
        };
        all_valid &= report.is_valid();
        if args.json {
            json_files.push(serde_json::json!({
                "file": name,
                "valid": report.is_valid(),
                "objects": report.objects,
                "errors": report.errors(),
                "warnings": report.warnings(),
                "diagnostics": report.diagnostics,
            }));
        } else {
            print_human(&mut out, &name, &report)?;
        }
    }
    if args.json {
        let doc =
            serde_json::json!({ "strict": args.strict, "valid": all_valid, "files": json_files });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    }
    Ok(if all_valid {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// Text output: one block per file, diagnostics grouped per object.
fn print_human(out: &mut impl Write, name: &str, report: &Report) -> anyhow::Result<()> {
    let verdict = if report.is_valid() {
        "valid"
    } else {
        "INVALID"
    };
    writeln!(
        out,
        "{name}: {verdict} ({} objects, {} errors, {} warnings)",
        report.objects,
        report.errors(),
        report.warnings()
    )?;
    let mut groups: BTreeMap<(Option<usize>, Option<&str>), Vec<&Diagnostic>> = BTreeMap::new();
    for d in &report.diagnostics {
        groups
            .entry((d.index, d.object_id.as_deref()))
            .or_default()
            .push(d);
    }
    for ((index, id), diags) in groups {
        let head = match (index, id) {
            (Some(i), Some(id)) => format!("object {i} ({id})"),
            (Some(i), None) => format!("object {i}"),
            (None, Some(id)) => id.to_string(),
            (None, None) => "document".to_string(),
        };
        writeln!(out, "  {head}")?;
        for d in diags {
            writeln!(out, "    {d}")?;
        }
    }
    Ok(())
}
