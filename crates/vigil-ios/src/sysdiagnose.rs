//! Sysdiagnose archives (`sysdiagnose_*.tar.gz` or the extracted folder):
//! shutdown.log process paths, crash reports and the process list.
//!
//! Archives are read as a stream and never extracted to disk, so entry names
//! with `..` or absolute paths and symbolic links cannot reach outside; the
//! decompressed volume and each entry read into memory are capped.

use std::io::Read;
use std::path::{Path, PathBuf};

use vigil_artefact::{Module, ModuleError, ModuleSummary, Observable, ObservableKind as K, Record};

use crate::modules::Ctx;

/// Most bytes of one archive member read into memory.
const MAX_ENTRY: u64 = 64 << 20;
/// Most bytes decompressed from one archive (a compression bomb stops here).
const MAX_TOTAL: u64 = 16 << 30;

pub(crate) fn looks_like(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if path.is_file() {
        return name.starts_with("sysdiagnose")
            && (name.ends_with(".tar.gz") || name.ends_with(".tgz"));
    }
    path.is_dir()
        && (name.starts_with("sysdiagnose")
            || path.join("system_logs.logarchive").exists()
            || path.join("ps.txt").is_file())
        && !crate::looks_like_filesystem(path)
        // androidqf folders have a ps.txt too, next to files no sysdiagnose has.
        && !["getprop.txt", "packages.json"]
            .iter()
            .any(|f| path.join(f).exists())
}

/// Which members a module wants.
#[derive(Clone, Copy)]
enum Kind {
    ShutdownLog,
    CrashLogs,
    Processes,
}

impl Kind {
    fn wants(self, name: &str) -> bool {
        let base = name.rsplit('/').next().unwrap_or(name);
        match self {
            Kind::ShutdownLog => base == "shutdown.log",
            Kind::CrashLogs => base.ends_with(".ips") || base.ends_with(".crash"),
            Kind::Processes => base == "ps.txt" || base == "ps_thread.txt",
        }
    }
}

/// Calls `f(name, bytes)` for every member of a folder or .tar.gz whose name `wants`.
fn for_each_member(
    root: &Path,
    wants: &dyn Fn(&str) -> bool,
    f: &mut dyn FnMut(&str, &[u8]),
    warn: &mut dyn FnMut(String),
) -> Result<(), String> {
    if root.is_dir() {
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(root.join(&rel)) else {
                continue;
            };
            for e in rd.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                let child = rel.join(e.file_name());
                let name = child.to_string_lossy().replace('\\', "/");
                if ft.is_dir() {
                    stack.push(child);
                } else if ft.is_file() && wants(&name) {
                    let mut buf = Vec::new();
                    match std::fs::File::open(e.path())
                        .and_then(|fh| fh.take(MAX_ENTRY).read_to_end(&mut buf))
                    {
                        Ok(_) => f(&name, &buf),
                        Err(err) => warn(format!("{name}: {err}")),
                    }
                }
            }
        }
        return Ok(());
    }
    let file = std::fs::File::open(root).map_err(|e| e.to_string())?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let mut archive = tar::Archive::new(gz.take(MAX_TOTAL));
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar.gz archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("corrupt or truncated archive: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !wants(&name) {
            continue;
        }
        if entry.size() > MAX_ENTRY {
            warn(format!(
                "{name}: {} bytes, larger than the {MAX_ENTRY}-byte limit: skipped",
                entry.size()
            ));
            continue;
        }
        let mut buf = Vec::new();
        match (&mut entry).take(MAX_ENTRY).read_to_end(&mut buf) {
            Ok(_) => f(&name, &buf),
            Err(e) => return Err(format!("{name}: corrupt or truncated archive: {e}")),
        }
    }
    Ok(())
}

struct SysdiagnoseModule {
    root: PathBuf,
    kind: Kind,
}

pub(crate) fn modules(root: PathBuf) -> Vec<Box<dyn Module>> {
    [Kind::ShutdownLog, Kind::CrashLogs, Kind::Processes]
        .into_iter()
        .map(|kind| {
            Box::new(SysdiagnoseModule {
                root: root.clone(),
                kind,
            }) as Box<dyn Module>
        })
        .collect()
}

impl Module for SysdiagnoseModule {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::ShutdownLog => "shutdown_log",
            Kind::CrashLogs => "crash_logs",
            Kind::Processes => "processes",
        }
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let mut ctx = Ctx::new(self.name(), sink);
        let kind = self.kind;
        let mut warnings = Vec::new();
        let mut seen = 0usize;
        let res = for_each_member(
            &self.root,
            &|n| kind.wants(n),
            &mut |name, bytes| {
                seen += 1;
                let text = String::from_utf8_lossy(bytes);
                match kind {
                    Kind::ShutdownLog => parse_shutdown_log(name, &text, &mut ctx),
                    Kind::CrashLogs => parse_crash_log(name, &text, &mut ctx),
                    Kind::Processes => parse_ps(name, &text, &mut ctx),
                }
            },
            &mut |w| warnings.push(w),
        );
        for w in warnings {
            ctx.warn(w);
        }
        let file = self
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        res.map_err(|message| ModuleError {
            module: self.name().to_string(),
            file,
            message,
        })?;
        if seen == 0 {
            ctx.warn(format!("no {} in this archive", self.name()));
        }
        Ok(ctx.summary())
    }
}

fn push(r: &mut Record, kind: K, v: &str) {
    let v = v.trim();
    if !v.is_empty() && !r.observables.iter().any(|o| o.kind == kind && o.value == v) {
        r.observables.push(Observable::new(kind, v));
    }
}

fn path_observables(r: &mut Record, path: &str) {
    if path.starts_with('/') {
        push(r, K::FilePath, path);
    }
    if let Some(base) = path.rsplit('/').next() {
        push(r, K::ProcessName, base);
    }
}

/// Parses shutdown.log: `remaining client pid: N (/path)` lines, stamped by the next `SIGTERM: [unix time]`.
pub(crate) fn parse_shutdown_log(name: &str, text: &str, ctx: &mut Ctx<'_>) {
    let mut pending: Vec<Record> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("remaining client pid:") {
            let client = rest
                .find('(')
                .and_then(|a| rest.rfind(')').filter(|b| *b > a).map(|b| &rest[a + 1..b]))
                .unwrap_or("");
            let pid = rest.split('(').next().unwrap_or("").trim();
            let mut r = ctx.record(name, None, "Process still running at shutdown");
            r.provenance.line = Some(i as u64 + 1);
            path_observables(&mut r, client);
            r.data.insert("client".into(), client.into());
            r.data.insert("pid".into(), pid.into());
            if pending.len() < 100_000 {
                pending.push(r);
            }
        } else if line.starts_with("SIGTERM:") {
            let ts = line
                .find('[')
                .and_then(|a| line[a + 1..].find(']').map(|b| &line[a + 1..a + 1 + b]))
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|t| *t > 0 && *t < 1 << 40)
                .map(|t| t * 1_000_000);
            for mut r in pending.drain(..) {
                r.timestamp = ts;
                ctx.emit(r);
            }
        }
    }
    for r in pending {
        ctx.emit(r);
    }
}

/// Parses a crash report: `.ips` (a JSON header line then a JSON body) or the older text `.crash`.
fn parse_crash_log(name: &str, text: &str, ctx: &mut Ctx<'_>) {
    let mut r = ctx.record(name, None, "Crash report");
    let (head, body) = text.split_once('\n').unwrap_or((text, ""));
    let mut fields: Vec<(String, String)> = Vec::new();
    for part in [head, body] {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(part) {
            for k in [
                "procPath",
                "procName",
                "name",
                "app_name",
                "bundleID",
                "parentProc",
                "timestamp",
                "bug_type",
                "captureTime",
            ] {
                if let Some(v) = m.get(k).and_then(|v| v.as_str()) {
                    fields.push((k.to_string(), v.to_string()));
                }
            }
            if let Some(v) = m
                .get("bundleInfo")
                .and_then(|b| b.get("CFBundleIdentifier"))
                .and_then(|v| v.as_str())
            {
                fields.push(("bundleID".into(), v.to_string()));
            }
        }
    }
    for line in text.lines().take(200) {
        for (prefix, key) in [
            ("Process:", "procName"),
            ("Path:", "procPath"),
            ("Identifier:", "bundleID"),
            ("Date/Time:", "timestamp"),
        ] {
            if let Some(v) = line.strip_prefix(prefix) {
                let v = v.trim();
                // "Process: name [pid]"
                let v = if key == "procName" {
                    v.split(" [").next().unwrap_or(v)
                } else {
                    v
                };
                fields.push((key.to_string(), v.to_string()));
            }
        }
    }
    for (k, v) in &fields {
        match k.as_str() {
            "procPath" => path_observables(&mut r, v),
            "procName" | "name" | "app_name" | "parentProc" => push(&mut r, K::ProcessName, v),
            "bundleID" => push(&mut r, K::AppId, v),
            "timestamp" | "captureTime" if r.timestamp.is_none() => {
                r.timestamp = parse_crash_time(v)
            }
            _ => {}
        }
        r.data.entry(k.clone()).or_insert_with(|| v.clone().into());
    }
    ctx.emit(r);
}

/// Parses `2023-05-01 10:11:12.00 +0200` style times.
fn parse_crash_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = s.get(0..10)?;
    let time = s.get(11..19)?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':').map(|x| x.parse::<i64>());
    let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let offset = s
        .rsplit(' ')
        .next()
        .filter(|o| o.len() == 5 && (o.starts_with('+') || o.starts_with('-')))
        .and_then(|o| {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let h: i64 = o.get(1..3)?.parse().ok()?;
            let mi: i64 = o.get(3..5)?.parse().ok()?;
            Some(sign * (h * 3600 + mi * 60))
        })
        .unwrap_or(0);
    Some((days_from_civil(y, m, day) * 86400 + hh * 3600 + mm * 60 + ss - offset) * 1_000_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `ps` output: the command (its first absolute path) of every process.
fn parse_ps(name: &str, text: &str, ctx: &mut Ctx<'_>) {
    for (i, line) in text.lines().enumerate().skip(1) {
        let Some(cmd) = line.split_whitespace().find(|t| t.starts_with('/')) else {
            continue;
        };
        let mut r = ctx.record(name, None, "Running process");
        r.provenance.line = Some(i as u64 + 1);
        path_observables(&mut r, cmd);
        r.data.insert("command".into(), cmd.into());
        ctx.emit(r);
    }
}

/// shutdown.log read from a file-system dump.
pub(crate) struct ShutdownLogModule {
    root: PathBuf,
}

impl ShutdownLogModule {
    pub(crate) fn in_filesystem(root: PathBuf) -> Self {
        ShutdownLogModule { root }
    }
}

impl Module for ShutdownLogModule {
    fn name(&self) -> &'static str {
        "shutdown_log"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let mut ctx = Ctx::new(self.name(), sink);
        let rel = "private/var/db/diagnostics/shutdown.log";
        let path = self.root.join(rel);
        if !path.is_file() {
            ctx.warn("no shutdown.log in this acquisition".into());
            return Ok(ctx.summary());
        }
        let mut buf = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_ENTRY).read_to_end(&mut buf))
            .map_err(|e| ModuleError {
                module: self.name().into(),
                file: rel.into(),
                message: e.to_string(),
            })?;
        parse_shutdown_log(rel, &String::from_utf8_lossy(&buf), &mut ctx);
        Ok(ctx.summary())
    }
}
