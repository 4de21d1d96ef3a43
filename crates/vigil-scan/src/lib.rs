//! The Vigil scanner: runs reader modules, matches what they read against
//! indicator sets, and reports.
//!
//! [`Input::detect`] recognises an acquisition (iOS backup, file-system dump
//! or sysdiagnose, Android bugreport or androidqf folder, capture, Zeek logs,
//! text log) and [`Input::modules`] builds its reader modules. [`scan`] runs
//! them on a pool of threads; every record's observables are looked up in a
//! [`vigil_iocs::Matcher`] (and the general evaluator, for patterns that are
//! not lookups), and each hit becomes a [`Detection`] naming the indicator,
//! the spyware, the indicator file, the module, the record's provenance and
//! its timestamp. The [`ScanReport`] starts with a verdict line and lists what
//! was checked and what could not be; [`output::write`] saves it as
//! per-module JSON, `detections.json`, an MVT-compatible `timeline.csv` and an
//! HTML and a Markdown report.
//!
//! **Architecture Invariant:** the scanner never writes inside its input and
//! never opens a network connection; it writes only to the output folder it
//! is given. A module that fails is reported in its [`ModuleOutcome`] and the
//! other modules still run.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use vigil_artefact::{Module, ModuleError, Needs, Observable, Provenance, Record};
use vigil_iocs::{IndicatorId, Matcher};

mod input;
pub mod output;
mod prefilter;
mod time;

pub use input::{Input, InputKind};
pub use time::format_micros;
pub use vigil_ios::Unlock;

/// Errors of the scanner itself (module failures are [`ModuleOutcome`]s instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be recognised or opened.
    #[error("{0}")]
    Input(String),
    /// The output folder could not be written.
    #[error("{}: {source}", path.display())]
    Output {
        /// The file being written.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// One indicator found in one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// The spyware the indicator is linked to (empty when the set does not say).
    pub spyware: Vec<String>,
    /// The indicator's id (`indicator--…`, or `FILE:LINE` for lists).
    pub indicator_id: String,
    /// The indicator's pattern or list entry.
    pub pattern: String,
    /// The indicator value that matched, normalised.
    pub indicator_value: String,
    /// How it matched (`exact`, `parent domain`, `truncated process name` …).
    pub how: String,
    /// The indicator set's name.
    pub indicator_set: String,
    /// The indicator file.
    pub indicator_file: String,
    /// The module that read the record.
    pub module: String,
    /// Where the record is in the acquisition.
    pub provenance: Provenance,
    /// When it happened, microseconds since the epoch (UTC), if known.
    pub timestamp: Option<i64>,
    /// The same time in ISO 8601.
    pub time: Option<String>,
    /// The record's event ("Safari visit", "DNS query" …).
    pub event: String,
    /// The observed value that matched.
    pub observed: Observable,
}

impl Detection {
    /// The name to show for the spyware: its names, or the indicator set's.
    pub fn spyware_label(&self) -> String {
        if self.spyware.is_empty() {
            format!("indicator set {}", self.indicator_set)
        } else {
            self.spyware.join(", ")
        }
    }
}

/// How one module did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleOutcome {
    /// The module's name.
    pub module: String,
    /// Records (lines, packets, rows) it checked.
    pub records: u64,
    /// Detections among them.
    pub detections: usize,
    /// Non-fatal problems it reported.
    pub warnings: Vec<String>,
    /// Why it failed, if it did.
    pub error: Option<ModuleError>,
}

/// One indicator set's summary for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetSummary {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// Indicators loaded.
    pub indicators: usize,
    /// The spyware it names.
    pub spyware: Vec<String>,
}

/// Everything a scan found and did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    /// The input as given.
    pub input: String,
    /// What it was recognised as.
    pub input_kind: String,
    /// The indicator sets used.
    pub indicator_sets: Vec<SetSummary>,
    /// Indicators over all sets.
    pub indicators: usize,
    /// Records checked over all modules.
    pub records_checked: u64,
    /// Per-module results, in the order the modules were given.
    pub modules: Vec<ModuleOutcome>,
    /// What could not be checked at all (a wrong password, an unreadable folder).
    pub not_checked: Vec<String>,
    /// The detections, ordered by time.
    pub detections: Vec<Detection>,
}

impl ScanReport {
    /// The verdict line a user reads first.
    pub fn verdict(&self) -> String {
        if self.detections.is_empty() {
            let partial =
                if self.modules.iter().any(|m| m.error.is_some()) || !self.not_checked.is_empty() {
                    "; some parts could not be checked, see below"
                } else {
                    ""
                };
            return format!(
                "No known spyware indicators found ({} indicator sets, {} records checked){partial}",
                self.indicator_sets.len(),
                self.records_checked
            );
        }
        let mut by_spyware: BTreeMap<String, usize> = BTreeMap::new();
        for d in &self.detections {
            *by_spyware.entry(d.spyware_label()).or_default() += 1;
        }
        let mut names: Vec<(String, usize)> = by_spyware.into_iter().collect();
        names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let list: Vec<String> = names.iter().map(|(n, c)| format!("{n} ({c})")).collect();
        let n = self.detections.len();
        format!(
            "{n} detection{}: {}",
            if n == 1 { "" } else { "s" },
            list.join(", ")
        )
    }

    /// True when any module failed or part of the input could not be checked.
    pub fn incomplete(&self) -> bool {
        !self.not_checked.is_empty() || self.modules.iter().any(|m| m.error.is_some())
    }
}

/// Receives progress while a scan runs (a terminal progress bar, or nothing).
pub trait Progress: Sync {
    /// A module started.
    fn started(&self, _module: &str) {}
    /// A module finished.
    fn finished(&self, _outcome: &ModuleOutcome) {}
    /// Records checked so far, over all modules (called now and then).
    fn records(&self, _total: u64) {}
}

/// Progress that shows nothing.
pub struct Quiet;

impl Progress for Quiet {}

/// How a scan runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Worker threads for modules (0: as many as the machine has).
    pub threads: usize,
    /// Folder for per-module JSON (records are streamed there as they are read)
    /// and for the timeline rows; `None` keeps only detections.
    pub output: Option<std::path::PathBuf>,
}

/// One line of the merged timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    /// Microseconds since the epoch, if the record has a time.
    pub timestamp: Option<i64>,
    /// The module.
    pub module: String,
    /// The event.
    pub event: String,
    /// The observables and where the record is.
    pub description: String,
}

/// What one module produced, for the output writer.
#[derive(Debug, Default)]
pub struct ModuleRecords {
    /// The module's name.
    pub module: String,
    /// The JSON file its records were written to, if any.
    pub json_file: Option<String>,
    /// Its timeline rows as sorted run files ([`output::TimelineSpool`]), when an output folder is set.
    pub timeline_runs: Vec<std::path::PathBuf>,
}

/// The matcher's view of a record: all detections it carries (each indicator once).
pub fn detect(matcher: &Matcher, record: &Record) -> Vec<Detection> {
    let mut seen: Vec<IndicatorId> = Vec::new();
    let mut out = Vec::new();
    for obs in &record.observables {
        matcher.check(obs.kind, &obs.value, &mut |hit| {
            if !seen.contains(&hit.id) {
                seen.push(hit.id);
                out.push(detection(
                    matcher,
                    record,
                    hit.id,
                    hit.value,
                    hit.how.describe(),
                    obs,
                ));
            }
        });
    }
    if !matcher.general().is_empty() {
        matcher.check_general(&record.observables, record.timestamp, &mut |id| {
            if !seen.contains(&id) {
                seen.push(id);
                let obs =
                    record.observables.first().cloned().unwrap_or_else(|| {
                        Observable::new(vigil_artefact::ObservableKind::Domain, "")
                    });
                let pattern = matcher.indicator(id).pattern.clone();
                out.push(detection(matcher, record, id, &pattern, "pattern", &obs));
            }
        });
    }
    out
}

fn detection(
    matcher: &Matcher,
    record: &Record,
    id: IndicatorId,
    value: &str,
    how: &str,
    obs: &Observable,
) -> Detection {
    let ind = matcher.indicator(id);
    // The set's header only: a compiled set keeps its other records encoded.
    let set = matcher.set_header(id.set as usize);
    Detection {
        spyware: ind.spyware.iter().map(|s| s.to_string()).collect(),
        indicator_id: ind.id.clone(),
        pattern: ind.pattern.clone(),
        indicator_value: value.to_string(),
        how: how.to_string(),
        indicator_set: set.name.clone(),
        indicator_file: set.source.display().to_string(),
        module: record.module.clone(),
        provenance: record.provenance.clone(),
        timestamp: record.timestamp,
        time: record.timestamp.map(format_micros),
        event: record.event.clone(),
        observed: obs.clone(),
    }
}

/// A filter for the network and log readers: keep records that can match.
///
/// The readers look only for kinds that can match, and hand their values
/// to the matcher in batches (the `prefilter` module), which checks a batch's names
/// against its filter with their cache misses overlapping.
pub fn netlog_filter(matcher: Arc<Matcher>) -> vigil_netlog::Filter {
    if !matcher.general().is_empty() {
        return Arc::new(|_: vigil_iocs::ObservableKind, _: &str| true);
    }
    Arc::new(prefilter::Prefilter::new(matcher))
}

/// Runs the modules on a pool of threads and matches every record.
///
/// Returns the report (without `input`, `input_kind` and `not_checked`,
/// which the caller knows) and, when [`Options::output`] is set, each
/// module's JSON file and timeline rows for [`output::write`].
pub fn scan(
    modules: Vec<Box<dyn Module>>,
    matcher: &Matcher,
    options: &Options,
    progress: &dyn Progress,
) -> (ScanReport, Vec<ModuleRecords>) {
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(modules.len().max(1));
    let next = AtomicUsize::new(0);
    let total = AtomicU64::new(0);
    let slots: Vec<Mutex<Option<Ran>>> = modules.iter().map(|_| Mutex::new(None)).collect();
    let files = output::json_names(modules.iter().map(|m| m.name()));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(module) = modules.get(i) else { break };
                let result = run_one(
                    module.as_ref(),
                    &files[i],
                    matcher,
                    options,
                    progress,
                    &total,
                );
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(result);
                }
            });
        }
    });
    let mut report = ScanReport {
        input: String::new(),
        input_kind: String::new(),
        indicator_sets: (0..matcher.set_count())
            .map(|i| {
                let s = matcher.set_header(i);
                SetSummary {
                    name: s.name.clone(),
                    file: s.source.display().to_string(),
                    indicators: matcher.set_len(i),
                    spyware: matcher.set_spyware(i),
                }
            })
            .collect(),
        indicators: matcher.len(),
        records_checked: 0,
        modules: Vec::new(),
        not_checked: Vec::new(),
        detections: Vec::new(),
    };
    let mut kept = Vec::new();
    for (slot, module) in slots.into_iter().zip(&modules) {
        let result = slot.into_inner().ok().flatten();
        let (outcome, detections, records) = result.unwrap_or_else(|| {
            (
                ModuleOutcome {
                    module: module.name().to_string(),
                    records: 0,
                    detections: 0,
                    warnings: Vec::new(),
                    error: Some(ModuleError {
                        module: module.name().to_string(),
                        file: String::new(),
                        message: "the module stopped unexpectedly".into(),
                    }),
                },
                Vec::new(),
                ModuleRecords::default(),
            )
        });
        report.records_checked += outcome.records;
        report.modules.push(outcome);
        report.detections.extend(detections);
        kept.push(records);
    }
    report.detections.sort_by(|a, b| {
        a.timestamp
            .cmp(&b.timestamp)
            .then_with(|| a.module.cmp(&b.module))
    });
    (report, kept)
}

type Ran = (ModuleOutcome, Vec<Detection>, ModuleRecords);

fn run_one(
    module: &dyn Module,
    json_name: &str,
    matcher: &Matcher,
    options: &Options,
    progress: &dyn Progress,
    total: &AtomicU64,
) -> Ran {
    let name = module.name().to_string();
    progress.started(&name);
    let mut detections = Vec::new();
    let mut records = ModuleRecords {
        module: name.clone(),
        ..ModuleRecords::default()
    };
    let mut writer = match &options.output {
        Some(dir) => match output::RecordWriter::create(&dir.join(json_name)) {
            Ok(w) => {
                records.json_file = Some(json_name.to_string());
                Some((w, output::TimelineSpool::new(dir, json_name)))
            }
            Err(e) => {
                let outcome = ModuleOutcome {
                    module: name.clone(),
                    records: 0,
                    detections: 0,
                    warnings: Vec::new(),
                    error: Some(ModuleError {
                        module: name.clone(),
                        file: json_name.to_string(),
                        message: format!("cannot write the output file: {e}"),
                    }),
                };
                progress.finished(&outcome);
                return (outcome, detections, records);
            }
        },
        None => None,
    };
    let mut write_error = None;
    let mut emitted = 0u64;
    // A panicking reader must not take the scan down: it becomes this module's error.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // A record's own fields are read only for the per-module JSON.
        let needs = Needs {
            fields: writer.is_some(),
        };
        module.run_with(needs, &mut |record| {
            emitted += 1;
            if emitted % 4096 == 0 {
                progress.records(total.fetch_add(4096, Ordering::Relaxed) + 4096);
            }
            detections.extend(detect(matcher, record));
            if let Some((w, timeline)) = writer.as_mut() {
                if let Err(e) = w
                    .write(record)
                    .and_then(|()| timeline.push(output::timeline_row(record)))
                {
                    write_error.get_or_insert(e);
                }
            }
        })
    }));
    if let Some((w, timeline)) = writer {
        match w.finish().and_then(|()| timeline.finish()) {
            Ok(runs) => records.timeline_runs = runs,
            Err(e) => {
                write_error.get_or_insert(e);
            }
        }
    }
    total.fetch_add(emitted % 4096, Ordering::Relaxed);
    let outcome = match run {
        Ok(Ok(mut summary)) => {
            if let Some(e) = write_error {
                summary
                    .warnings
                    .push(format!("{json_name}: writing the output failed: {e}"));
            }
            ModuleOutcome {
                module: name.clone(),
                // Readers with a filter count what they checked, not what they emitted.
                records: summary.records.max(emitted),
                detections: detections.len(),
                warnings: summary.warnings,
                error: None,
            }
        }
        Ok(Err(e)) => ModuleOutcome {
            module: name.clone(),
            records: emitted,
            detections: detections.len(),
            warnings: Vec::new(),
            error: Some(e),
        },
        Err(_) => ModuleOutcome {
            module: name.clone(),
            records: emitted,
            detections: detections.len(),
            warnings: Vec::new(),
            error: Some(ModuleError {
                module: name.clone(),
                file: String::new(),
                message: "the reader failed on unexpected input (internal error); other modules were not affected".into(),
            }),
        },
    };
    progress.finished(&outcome);
    (outcome, detections, records)
}
