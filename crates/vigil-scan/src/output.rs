//! The output folder: per-module JSON, `detections.json`, `timeline.csv`
//! (MVT's columns: `UTC Timestamp`, `Plugin`, `Event`, `Description`),
//! `timeline_detected.csv`, `report.json` and a Markdown `report.md` a
//! helpline can hand over.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

use vigil_artefact::Record;

use crate::{format_micros, Error, ModuleRecords, ScanReport, TimelineRow};

/// A file name per module (`sms.json`; `log.json`, `log-2.json` … when a name repeats).
pub fn json_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let names: Vec<&str> = names.collect();
    let mut total: HashMap<&str, usize> = HashMap::new();
    for n in &names {
        *total.entry(n).or_default() += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    names
        .iter()
        .map(|n| {
            let k = seen.entry(n).or_default();
            *k += 1;
            let safe: String = n
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if total[n] > 1 && *k > 1 {
                format!("{safe}-{k}.json")
            } else {
                format!("{safe}.json")
            }
        })
        .collect()
}

/// Streams records to a JSON array file.
pub struct RecordWriter {
    out: BufWriter<std::fs::File>,
    first: bool,
}

impl RecordWriter {
    /// Creates (or replaces) the file.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let mut out = BufWriter::new(std::fs::File::create(path)?);
        out.write_all(b"[")?;
        Ok(RecordWriter { out, first: true })
    }

    /// Appends one record.
    pub fn write(&mut self, record: &Record) -> std::io::Result<()> {
        self.out
            .write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        serde_json::to_writer(&mut self.out, record).map_err(std::io::Error::other)
    }

    /// Closes the array and flushes.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.write_all(b"\n]\n")?;
        self.out.flush()
    }
}

/// The timeline row of a record.
pub fn timeline_row(record: &Record) -> TimelineRow {
    let mut description = String::new();
    for (i, o) in record.observables.iter().enumerate().take(8) {
        if i > 0 {
            description.push_str("; ");
        }
        let _ = write!(description, "{}={}", kind_name(o.kind), o.value);
    }
    if !description.is_empty() {
        description.push_str(" | ");
    }
    description.push_str(&provenance_text(&record.provenance));
    TimelineRow {
        timestamp: record.timestamp,
        module: record.module.clone(),
        event: record.event.clone(),
        description,
    }
}

fn kind_name(k: vigil_artefact::ObservableKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `file, table T, row R, line L, offset O` — whichever are known.
pub fn provenance_text(p: &vigil_artefact::Provenance) -> String {
    let mut s = p.file.clone();
    if let Some(t) = &p.table {
        let _ = write!(s, ", table {t}");
    }
    if let Some(r) = p.row {
        let _ = write!(s, ", row {r}");
    }
    if let Some(l) = p.line {
        let _ = write!(s, ", line {l}");
    }
    if let Some(o) = p.offset {
        let _ = write!(s, ", offset {o}");
    }
    s
}

fn csv_field(s: &str) -> String {
    // MVT writes every field quoted; quotes inside are doubled.
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn write_timeline(path: &Path, rows: &mut [TimelineRow]) -> Result<(), Error> {
    rows.sort_by(|a, b| {
        a.timestamp
            .cmp(&b.timestamp)
            .then_with(|| a.module.cmp(&b.module))
    });
    let err = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::new(std::fs::File::create(path).map_err(err)?);
    let mut body = String::from("\"UTC Timestamp\",\"Plugin\",\"Event\",\"Description\"\n");
    for r in rows.iter() {
        let ts = r.timestamp.map(format_micros).unwrap_or_default();
        let _ = writeln!(
            body,
            "{},{},{},{}",
            csv_field(&ts),
            csv_field(&r.module),
            csv_field(&r.event),
            csv_field(&r.description)
        );
        if body.len() > 1 << 20 {
            out.write_all(body.as_bytes()).map_err(err)?;
            body.clear();
        }
    }
    out.write_all(body.as_bytes()).map_err(err)?;
    out.flush().map_err(err)
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let err = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::new(std::fs::File::create(path).map_err(err)?);
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| err(std::io::Error::other(e)))?;
    out.write_all(b"\n").map_err(err)?;
    out.flush().map_err(err)
}

/// Writes the report files into `dir` (which the scan already filled with per-module JSON).
pub fn write(dir: &Path, report: &ScanReport, modules: Vec<ModuleRecords>) -> Result<(), Error> {
    write_json(&dir.join("detections.json"), &report.detections)?;
    write_json(&dir.join("report.json"), report)?;
    let mut rows: Vec<TimelineRow> = modules.into_iter().flat_map(|m| m.timeline).collect();
    write_timeline(&dir.join("timeline.csv"), &mut rows)?;
    let mut detected: Vec<TimelineRow> = report
        .detections
        .iter()
        .map(|d| TimelineRow {
            timestamp: d.timestamp,
            module: d.module.clone(),
            event: d.event.clone(),
            description: format!(
                "{}: {} matched {} ({}) | {}",
                d.spyware_label(),
                d.observed.value,
                d.indicator_value,
                d.how,
                provenance_text(&d.provenance)
            ),
        })
        .collect();
    write_timeline(&dir.join("timeline_detected.csv"), &mut detected)?;
    let md = markdown(report);
    std::fs::write(dir.join("report.md"), md).map_err(|source| Error::Output {
        path: dir.join("report.md"),
        source,
    })
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report: verdict, detections, what was checked, what was not.
pub fn markdown(report: &ScanReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Vigil scan report\n");
    let _ = writeln!(s, "**{}**\n", report.verdict());
    let _ = writeln!(s, "- Input: `{}` ({})", report.input, report.input_kind);
    let _ = writeln!(
        s,
        "- Indicators: {} in {} sets; records checked: {}\n",
        report.indicators,
        report.indicator_sets.len(),
        report.records_checked
    );
    if !report.detections.is_empty() {
        let _ = writeln!(s, "## Detections\n");
        let _ = writeln!(
            s,
            "| Time (UTC) | Spyware | Observed | Indicator | Where | Indicator file |\n|---|---|---|---|---|---|"
        );
        for d in &report.detections {
            let _ = writeln!(
                s,
                "| {} | {} | {} | `{}` ({}) | {}: {} | {} |",
                d.time.as_deref().unwrap_or("unknown"),
                md_cell(&d.spyware_label()),
                md_cell(&d.observed.value),
                md_cell(&d.indicator_id),
                md_cell(&d.how),
                md_cell(&d.module),
                md_cell(&provenance_text(&d.provenance)),
                md_cell(&d.indicator_file)
            );
        }
        let _ = writeln!(s);
    }
    if report.incomplete() {
        let _ = writeln!(s, "## Could not be checked\n");
        for n in &report.not_checked {
            let _ = writeln!(s, "- {}", md_cell(n));
        }
        for m in &report.modules {
            if let Some(e) = &m.error {
                let _ = writeln!(s, "- {}", md_cell(&e.to_string()));
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## What was checked\n");
    let _ = writeln!(
        s,
        "| Module | Records | Detections | Notes |\n|---|---|---|---|"
    );
    for m in &report.modules {
        let note = match &m.error {
            Some(e) => format!("failed: {}", e.message),
            None => m.warnings.join("; "),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            md_cell(&m.module),
            m.records,
            m.detections,
            md_cell(&note)
        );
    }
    let _ = writeln!(s, "\n## Indicator sets\n");
    for set in &report.indicator_sets {
        let _ = writeln!(
            s,
            "- {} — {} indicators ({}) — `{}`",
            set.name,
            set.indicators,
            if set.spyware.is_empty() {
                "no spyware named".to_string()
            } else {
                set.spyware.join(", ")
            },
            set.file
        );
    }
    let _ = writeln!(
        s,
        "\nA detection means a value on the device matched a published indicator. It is strong evidence that needs an expert's confirmation; no detection does not prove the device is clean."
    );
    s
}
