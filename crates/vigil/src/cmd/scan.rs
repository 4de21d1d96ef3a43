//! `vigil scan`: check a phone acquisition, capture or log for known spyware indicators.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use vigil_scan::{Input, InputKind, ModuleOutcome, Progress, ScanReport};

use crate::cmd::iocs::{load_indicators, IocsSource};
use crate::Outcome;

/// Arguments of `vigil scan`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
KIND is one of ios-backup, ios-fs, sysdiagnose, android-bugreport, androidqf, android-backup, pcap, \
zeek, log; \
without it the input is recognised from its content.

Exit codes: 0 no detections, 1 detections, 2 error (nothing could be checked).")]
pub struct Args {
    /// `[KIND] PATH`: what to scan, optionally preceded by its kind.
    #[arg(value_name = "[KIND] PATH", num_args = 1..=2, required = true)]
    input: Vec<String>,
    #[command(flatten)]
    iocs: IocsSource,
    /// Write per-module JSON, detections.json, timeline.csv, report.html and report.md here.
    #[arg(long, short = 'o', value_name = "DIR")]
    output: Option<PathBuf>,
    /// Password of an encrypted iOS or Android backup.
    #[arg(long, env = "VIGIL_BACKUP_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// File holding a saved backup key (hex, as MVT saves it) instead of the password.
    #[arg(long, value_name = "FILE", conflicts_with = "password")]
    key_file: Option<PathBuf>,
    /// Print the full report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Print only the verdict line.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

struct Bar(Option<indicatif::ProgressBar>);

impl Progress for Bar {
    fn started(&self, module: &str) {
        if let Some(b) = &self.0 {
            b.set_message(module.to_string());
        }
    }
    fn records(&self, total: u64) {
        if let Some(b) = &self.0 {
            b.set_message(format!("{total} records read"));
        }
    }
    fn finished(&self, outcome: &ModuleOutcome) {
        if let Some(b) = &self.0 {
            b.inc(1);
            if let Some(e) = &outcome.error {
                b.println(format!(
                    "  could not check {}: {}",
                    outcome.module, e.message
                ));
            }
        }
    }
}

fn read_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let hex = text.trim();
    if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{}: expected the key in hex", path.display());
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).context("hex"))
        .collect()
}

/// Runs `vigil scan`.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (kind, path) = match args.input.as_slice() {
        [path] => (None, PathBuf::from(path)),
        [kind, path] => {
            let k = InputKind::from_word(kind).with_context(|| {
                format!("unknown input kind '{kind}' (ios-backup, ios-fs, sysdiagnose, android-bugreport, androidqf, android-backup, pcap, zeek, log)")
            })?;
            (Some(k), PathBuf::from(path))
        }
        _ => bail!("give the path to scan"),
    };
    let input = match kind {
        Some(kind) => {
            if !path.exists() {
                bail!("{}: no such file or folder", path.display());
            }
            Input { path, kind }
        }
        None => Input::detect(&path)?,
    };

    let (matcher, load_errors) = load_indicators(&args.iocs)?;
    let matcher = Arc::new(matcher);
    let unlock = match (&args.password, &args.key_file) {
        (Some(p), _) => Some(vigil_scan::Unlock::Password(p.clone())),
        (None, Some(f)) => Some(vigil_scan::Unlock::Key(read_key(f)?)),
        _ => None,
    };
    // Only the capture and log readers use the filter; building it walks every indicator.
    let reads_netlog = matches!(
        input.kind,
        InputKind::Pcap | InputKind::Zeek | InputKind::Log
    );
    let netlog = vigil_netlog::Options {
        filter: reads_netlog.then(|| vigil_scan::netlog_filter(matcher.clone())),
        threads: args.threads,
    };
    let modules = input.modules(unlock, &netlog).with_context(|| {
        format!(
            "cannot read {} as {}",
            input.path.display(),
            input.kind.describe()
        )
    })?;
    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        if dir.canonicalize().ok() == input.path.canonicalize().ok()
            || dir
                .canonicalize()
                .ok()
                .zip(input.path.canonicalize().ok())
                .is_some_and(|(d, i)| d.starts_with(&i) && i.is_dir())
        {
            bail!("the output folder must not be inside the input (inputs are never modified)");
        }
    }

    let bar = if !args.quiet && !args.json && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(modules.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len} modules] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b.tick();
        Some(b)
    } else {
        None
    };
    let progress = Bar(bar);
    let options = vigil_scan::Options {
        threads: args.threads,
        output: args.output.clone(),
    };
    let (mut report, records) = vigil_scan::scan(modules, &matcher, &options, &progress);
    if let Some(b) = &progress.0 {
        b.finish_and_clear();
    }
    report.input = input.path.display().to_string();
    report.input_kind = input.kind.describe().to_string();
    report.not_checked.extend(load_errors);
    if let Some(dir) = &args.output {
        vigil_scan::output::write(dir, &report, records)?;
    }

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if args.quiet {
        println!("{}", report.verdict());
    } else {
        print_report(&report, args.output.as_deref());
    }
    // The process ends next: freeing a million indicators one by one would only cost time.
    std::mem::forget(matcher);
    let all_failed = !report.modules.is_empty() && report.modules.iter().all(|m| m.error.is_some());
    if !report.detections.is_empty() {
        Ok(Outcome::Findings)
    } else if all_failed {
        bail!("nothing could be checked: every module failed")
    } else {
        Ok(Outcome::Ok)
    }
}

fn print_report(r: &ScanReport, output: Option<&Path>) {
    println!("{}", r.verdict());
    println!();
    println!(
        "Checked {} ({}) against {} indicators in {} sets: {} modules, {} records.",
        r.input,
        r.input_kind,
        r.indicators,
        r.indicator_sets.len(),
        r.modules.len(),
        r.records_checked
    );
    if !r.detections.is_empty() {
        println!("\nDetections:");
        for d in &r.detections {
            println!(
                "  {}  {}  {} matched {} ({})\n      {}: {}\n      indicator {} in {}",
                d.time.as_deref().unwrap_or("(no time)"),
                d.spyware_label(),
                d.observed.value,
                d.indicator_value,
                d.how,
                d.module,
                vigil_scan::output::provenance_text(&d.provenance),
                d.indicator_id,
                d.indicator_file
            );
        }
    }
    let failed: Vec<_> = r.modules.iter().filter_map(|m| m.error.as_ref()).collect();
    if !failed.is_empty() || !r.not_checked.is_empty() {
        println!("\nCould not be checked:");
        for n in &r.not_checked {
            println!("  - {n}");
        }
        for e in failed {
            println!("  - {e}");
        }
    }
    let warnings: usize = r.modules.iter().map(|m| m.warnings.len()).sum();
    if warnings > 0 {
        println!("\nWarnings:");
        for w in r.modules.iter().flat_map(|m| m.warnings.iter()).take(20) {
            println!("  - {w}");
        }
        if warnings > 20 {
            println!("  ({} more in report.json)", warnings - 20);
        }
    }
    if let Some(dir) = output {
        println!("\nResults written to {}", dir.display());
    }
}
