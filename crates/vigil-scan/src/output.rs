//! The output folder: per-module JSON, `detections.json`, `timeline.csv`
//! (MVT's columns: `UTC Timestamp`, `Plugin`, `Event`, `Description`),
//! `timeline_detected.csv`, `report.json`, and the report a helpline can hand
//! over, as `report.html` and `report.md`.
//!
//! The timeline is never held whole in memory: each module's rows are sorted
//! in runs of at most [`SPOOL_BYTES`] and spilled to temporary files
//! ([`TimelineSpool`]), which [`write()`] merges into `timeline.csv`.

use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write as _;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

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

fn csv_row(r: &TimelineRow) -> String {
    let ts = r.timestamp.map(format_micros).unwrap_or_default();
    format!(
        "{},{},{},{}\n",
        csv_field(&ts),
        csv_field(&r.module),
        csv_field(&r.event),
        csv_field(&r.description)
    )
}

const TIMELINE_HEADER: &str = "\"UTC Timestamp\",\"Plugin\",\"Event\",\"Description\"\n";

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
    out.write_all(TIMELINE_HEADER.as_bytes()).map_err(err)?;
    for r in rows.iter() {
        out.write_all(csv_row(r).as_bytes()).map_err(err)?;
    }
    out.flush().map_err(err)
}

/// Bytes of timeline rows one module keeps in memory before it spills a sorted run.
pub const SPOOL_BYTES: usize = 8 << 20;

/// The temporary folder for timeline runs inside an output folder.
fn spool_dir(dir: &Path) -> PathBuf {
    dir.join(".timeline-runs")
}

/// One module's timeline rows: kept in memory up to [`SPOOL_BYTES`], then
/// written as sorted runs to temporary files that [`write()`] merges.
#[derive(Debug)]
pub struct TimelineSpool {
    dir: PathBuf,
    name: String,
    rows: Vec<TimelineRow>,
    bytes: usize,
    runs: Vec<PathBuf>,
}

impl TimelineSpool {
    /// A spool for the module whose JSON file is `json_name`, spilling into `out_dir`'s temporary folder.
    pub fn new(out_dir: &Path, json_name: &str) -> Self {
        TimelineSpool {
            dir: spool_dir(out_dir),
            name: json_name.trim_end_matches(".json").to_string(),
            rows: Vec::new(),
            bytes: 0,
            runs: Vec::new(),
        }
    }

    /// Adds a row; may spill a sorted run to disk.
    pub fn push(&mut self, row: TimelineRow) -> std::io::Result<()> {
        self.bytes += row.module.len() + row.event.len() + row.description.len() + 64;
        self.rows.push(row);
        if self.bytes >= SPOOL_BYTES {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        self.rows.sort_by_key(|r| r.timestamp);
        std::fs::create_dir_all(&self.dir)?;
        let path = self
            .dir
            .join(format!("{}-{}.run", self.name, self.runs.len()));
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        for r in self.rows.drain(..) {
            // Run entry: has-time flag, time, module, CSV row (lengths first).
            out.write_all(&[u8::from(r.timestamp.is_some())])?;
            out.write_all(&r.timestamp.unwrap_or(0).to_le_bytes())?;
            let row = csv_row(&r);
            for part in [r.module.as_bytes(), row.as_bytes()] {
                out.write_all(&(part.len() as u32).to_le_bytes())?;
                out.write_all(part)?;
            }
        }
        out.flush()?;
        self.bytes = 0;
        self.runs.push(path);
        Ok(())
    }

    /// Spills what is left; returns the sorted run files.
    pub fn finish(mut self) -> std::io::Result<Vec<PathBuf>> {
        self.spill()?;
        Ok(self.runs)
    }
}

/// One entry read back from a run: (time, module, CSV row).
type RunEntry = (Option<i64>, String, Vec<u8>);

fn read_entry(r: &mut impl Read) -> std::io::Result<Option<RunEntry>> {
    let mut head = [0u8; 9];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let ts = (head[0] == 1).then(|| i64::from_le_bytes(head[1..9].try_into().unwrap_or([0; 8])));
    let mut parts = [Vec::new(), Vec::new()];
    for p in parts.iter_mut() {
        let mut len = [0u8; 4];
        r.read_exact(&mut len)?;
        p.resize(u32::from_le_bytes(len) as usize, 0);
        r.read_exact(p)?;
    }
    let [module, row] = parts;
    Ok(Some((
        ts,
        String::from_utf8_lossy(&module).into_owned(),
        row,
    )))
}

/// Merges sorted runs into `timeline.csv` (ties: by module, then by run order), then deletes them.
fn merge_timeline(path: &Path, runs: &[PathBuf]) -> Result<(), Error> {
    use std::cmp::Reverse;
    let err = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::new(std::fs::File::create(path).map_err(err)?);
    out.write_all(TIMELINE_HEADER.as_bytes()).map_err(err)?;
    let mut readers = Vec::new();
    for run in runs {
        readers.push(BufReader::with_capacity(
            64 * 1024,
            std::fs::File::open(run).map_err(err)?,
        ));
    }
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some((ts, module, row)) = read_entry(r).map_err(err)? {
            heap.push(Reverse((ts, module, i, row)));
        }
    }
    while let Some(Reverse((_, _, i, row))) = heap.pop() {
        out.write_all(&row).map_err(err)?;
        if let Some((ts, module, row)) = read_entry(&mut readers[i]).map_err(err)? {
            heap.push(Reverse((ts, module, i, row)));
        }
    }
    out.flush().map_err(err)?;
    drop(readers);
    for run in runs {
        let _ = std::fs::remove_file(run);
    }
    Ok(())
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
    let runs: Vec<PathBuf> = modules.into_iter().flat_map(|m| m.timeline_runs).collect();
    merge_timeline(&dir.join("timeline.csv"), &runs)?;
    let _ = std::fs::remove_dir(spool_dir(dir));
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
    for (name, text) in [
        ("report.md", markdown(report)),
        ("report.html", html(report)),
    ] {
        std::fs::write(dir.join(name), text).map_err(|source| Error::Output {
            path: dir.join(name),
            source,
        })?;
    }
    Ok(())
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

/// Escapes text for HTML element content and quoted attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const HTML_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;width:100%;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.9em}\
th{background:#f2f2f2}.verdict{font-size:1.4em;padding:.6em 1em;border-radius:.3em}.found{background:#fde2e1;border:2px solid #c0392b}\
.clean{background:#e3f4e1;border:2px solid #2e7d32}.partial{background:#fff4d6;border:2px solid #b7791f}code{word-break:break-all}";

/// The HTML report: a standalone page, verdict first, every value escaped.
pub fn html(report: &ScanReport) -> String {
    let e = html_escape;
    let mut s = String::new();
    let class = if !report.detections.is_empty() {
        "found"
    } else if report.incomplete() {
        "partial"
    } else {
        "clean"
    };
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>Vigil scan report</title>\n<style>{HTML_STYLE}</style>\n</head>\n<body>\n\
         <h1>Vigil scan report</h1>\n<p class=\"verdict {class}\"><strong>{}</strong></p>\n",
        e(&report.verdict())
    );
    let _ = write!(
        s,
        "<ul>\n<li>Input: <code>{}</code> ({})</li>\n<li>Indicators: {} in {} sets; records checked: {}</li>\n</ul>\n",
        e(&report.input),
        e(&report.input_kind),
        report.indicators,
        report.indicator_sets.len(),
        report.records_checked
    );
    if !report.detections.is_empty() {
        s.push_str(
            "<h2>Detections</h2>\n<table>\n<tr><th>Time (UTC)</th><th>Spyware</th><th>Observed value</th>\
             <th>Indicator</th><th>Where (module and artefact)</th><th>Indicator file</th></tr>\n",
        );
        for d in &report.detections {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code><br>{} ({})</td>\
                 <td>{}: <code>{}</code><br>{}</td><td><code>{}</code><br>set {}</td></tr>",
                e(d.time.as_deref().unwrap_or("unknown")),
                e(&d.spyware_label()),
                e(&d.observed.value),
                e(&d.indicator_value),
                e(&d.indicator_id),
                e(&d.how),
                e(&d.module),
                e(&provenance_text(&d.provenance)),
                e(&d.event),
                e(&d.indicator_file),
                e(&d.indicator_set)
            );
        }
        s.push_str("</table>\n");
    }
    if report.incomplete() {
        s.push_str("<h2>Could not be checked</h2>\n<ul>\n");
        for n in &report.not_checked {
            let _ = writeln!(s, "<li>{}</li>", e(n));
        }
        for m in &report.modules {
            if let Some(err) = &m.error {
                let _ = writeln!(s, "<li>{}</li>", e(&err.to_string()));
            }
        }
        s.push_str("</ul>\n");
    }
    s.push_str(
        "<h2>What was checked</h2>\n<table>\n<tr><th>Module</th><th>Records</th><th>Detections</th><th>Notes</th></tr>\n",
    );
    for m in &report.modules {
        let note = match &m.error {
            Some(err) => format!("failed: {}", err.message),
            None => m.warnings.join("; "),
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&m.module),
            m.records,
            m.detections,
            e(&note)
        );
    }
    s.push_str("</table>\n<h2>Indicator sets</h2>\n<ul>\n");
    for set in &report.indicator_sets {
        let spyware = if set.spyware.is_empty() {
            "no spyware named".to_string()
        } else {
            set.spyware.join(", ")
        };
        let _ = writeln!(
            s,
            "<li>{} — {} indicators ({}) — <code>{}</code></li>",
            e(&set.name),
            set.indicators,
            e(&spyware),
            e(&set.file)
        );
    }
    s.push_str(
        "</ul>\n<p>A detection means a value on the device matched a published indicator. It is strong \
         evidence that needs an expert&#39;s confirmation; no detection does not prove the device is clean.</p>\n\
         </body>\n</html>\n",
    );
    s
}
