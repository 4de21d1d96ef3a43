//! Bugreport (dumpstate) readers: each module streams the dumpstate text and
//! parses its own section.

use vigil_artefact::{
    Emitter, Module, ModuleError, ModuleSummary, Observable, ObservableKind as K, Provenance,
    Record,
};

use crate::source::{for_each_line, Source, MAX_MEMBER};

/// Emits records for one module run.
pub(crate) struct Ctx<'a> {
    /// The file the records come from.
    pub file: String,
    out: Emitter<'a>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        module: &'static str,
        file: String,
        sink: &'a mut dyn FnMut(Record),
    ) -> Ctx<'a> {
        Ctx {
            file,
            out: Emitter::new(module, sink),
        }
    }

    pub(crate) fn record(&self, line: Option<u64>, event: &str) -> Record {
        let provenance = Provenance {
            line,
            ..Provenance::file(self.file.clone())
        };
        self.out.record(provenance, event)
    }

    pub(crate) fn emit(&mut self, r: Record) {
        self.out.emit(r);
    }

    pub(crate) fn warn(&mut self, warning: String) {
        self.out.warn(warning);
    }

    pub(crate) fn summary(self) -> ModuleSummary {
        self.out.summary()
    }
}

/// Adds an observable once.
pub(crate) fn obs(r: &mut Record, kind: K, v: &str) {
    let v = v.trim();
    if !v.is_empty()
        && v.len() < 4096
        && !r.observables.iter().any(|o| o.kind == kind && o.value == v)
    {
        r.observables.push(Observable::new(kind, v));
    }
}

/// Whether `s` is shaped like a Java package name (`com.example.app`).
pub(crate) fn is_package(s: &str) -> bool {
    s.contains('.')
        && s.len() < 256
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

/// Package names of the `pkg/class` component names in a line.
pub(crate) fn components(line: &str) -> Vec<&str> {
    line.split(|c: char| {
        c.is_whitespace() || matches!(c, '{' | '}' | ',' | ':' | '"' | '(' | ')' | '[' | ']' | '=')
    })
    .filter_map(|tok| tok.split_once('/').map(|(p, _)| p))
    .filter(|p| is_package(p))
    .collect()
}

/// Parses `2024-03-01 10:00:00` (device local time, taken as UTC) to Unix microseconds.
pub(crate) fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = (s.get(0..10)?, s.get(11..19).unwrap_or("00:00:00"));
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|x| x.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000)
}

/// The dumpstate text among the members: `main_entry.txt`'s target, a `dumpState_*.log`,
/// a `dumpsys.txt` or a top-level `bugreport-*.txt`.
pub(crate) fn find_dumpstate(names: &[String]) -> Option<String> {
    let base = |n: &str| n.rsplit('/').next().unwrap_or(n).to_string();
    if names.iter().any(|n| n == "main_entry.txt") {
        return Some("main_entry.txt".into());
    }
    names
        .iter()
        .find(|n| base(n).starts_with("dumpState_") && n.ends_with(".log"))
        .or_else(|| names.iter().find(|n| base(n) == "dumpsys.txt"))
        .or_else(|| {
            names
                .iter()
                .find(|n| !n.contains('/') && n.starts_with("bugreport-") && n.ends_with(".txt"))
        })
        .cloned()
}

/// What a dumpsys module parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Packages,
    Receivers,
    Activities,
    Appops,
    Accessibility,
    BatteryDaily,
    BatteryHistory,
    DbInfo,
    GetProp,
    Processes,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::Packages,
        Kind::Receivers,
        Kind::Activities,
        Kind::Appops,
        Kind::Accessibility,
        Kind::BatteryDaily,
        Kind::BatteryHistory,
        Kind::DbInfo,
        Kind::GetProp,
        Kind::Processes,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Packages => "dumpsys_packages",
            Kind::Receivers => "dumpsys_receivers",
            Kind::Activities => "dumpsys_activities",
            Kind::Appops => "dumpsys_appops",
            Kind::Accessibility => "dumpsys_accessibility",
            Kind::BatteryDaily => "dumpsys_battery_daily",
            Kind::BatteryHistory => "dumpsys_battery_history",
            Kind::DbInfo => "dumpsys_dbinfo",
            Kind::GetProp => "getprop",
            Kind::Processes => "processes",
        }
    }

    /// Whether the section named `section` is this module's.
    fn wants(self, section: &str) -> bool {
        match self {
            Kind::Packages | Kind::Receivers | Kind::Activities => section == "package",
            Kind::Appops => section == "appops",
            Kind::Accessibility => section == "accessibility",
            Kind::BatteryDaily | Kind::BatteryHistory => section == "batterystats",
            Kind::DbInfo => section == "dbinfo",
            Kind::GetProp => section.starts_with("SYSTEM PROPERTIES"),
            Kind::Processes => {
                section.starts_with("PROCESSES AND THREADS") || section.starts_with("PROCESSES (")
            }
        }
    }
}

/// Section header: `DUMP OF SERVICE name:` or `------ TITLE (command) ------`.
fn section_header(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("DUMP OF SERVICE ") {
        return Some(rest.trim_end_matches(':').trim().to_string());
    }
    let t = line.trim();
    if t.starts_with("------ ") && t.ends_with(" ------") && !t.contains("was the duration of") {
        return Some(t.trim_matches('-').trim().to_string());
    }
    None
}

fn is_separator(line: &str) -> bool {
    line.len() >= 60 && line.bytes().all(|b| b == b'-')
}

/// Per-module parsing state, fed one line of its section at a time.
#[derive(Default)]
pub(crate) struct State {
    sub: Option<String>,
    current: Option<Record>,
    ps_command_col: Option<usize>,
}

fn flush(state: &mut State, ctx: &mut Ctx<'_>) {
    if let Some(r) = state.current.take() {
        ctx.emit(r);
    }
}

fn parse_line(kind: Kind, st: &mut State, n: u64, line: &str, ctx: &mut Ctx<'_>) {
    let indent = line.len() - line.trim_start().len();
    let t = line.trim();
    match kind {
        Kind::Packages => {
            if indent == 0 && !t.is_empty() {
                flush(st, ctx);
                st.sub = Some(t.to_string());
                return;
            }
            let in_pkgs = matches!(
                st.sub.as_deref(),
                Some("Packages:") | Some("Hidden system packages:")
            );
            if !in_pkgs {
                return;
            }
            if indent == 2 {
                if let Some(rest) = t.strip_prefix("Package [") {
                    flush(st, ctx);
                    let name = rest.split(']').next().unwrap_or("");
                    let mut r = ctx.record(Some(n), "Package installed");
                    obs(&mut r, K::AppId, name);
                    r.data.insert("package_name".into(), name.into());
                    st.current = Some(r);
                }
                return;
            }
            if let (Some(r), Some((k, v))) = (st.current.as_mut(), t.split_once('=')) {
                match k {
                    "firstInstallTime" => {
                        r.timestamp = parse_datetime(v);
                        r.data.insert(k.into(), v.into());
                    }
                    "lastUpdateTime" | "installerPackageName" | "versionName" | "timeStamp" => {
                        r.data.insert(k.into(), v.into());
                    }
                    "codePath" => {
                        obs(r, K::FilePath, v);
                        r.data.insert(k.into(), v.into());
                    }
                    _ => {}
                }
            }
        }
        Kind::Receivers | Kind::Activities => {
            let table = if kind == Kind::Receivers {
                "Receiver Resolver Table:"
            } else {
                "Activity Resolver Table:"
            };
            if indent == 0 && !t.is_empty() {
                st.sub = Some(t.to_string());
                return;
            }
            if st.sub.as_deref() != Some(table) {
                return;
            }
            for p in components(t) {
                let mut r = ctx.record(
                    Some(n),
                    if kind == Kind::Receivers {
                        "Broadcast receiver"
                    } else {
                        "Activity"
                    },
                );
                obs(&mut r, K::AppId, p);
                r.data.insert(
                    "component".into(),
                    t.split_whitespace().nth(1).unwrap_or(t).into(),
                );
                ctx.emit(r);
            }
        }
        Kind::Appops => {
            if let Some(rest) = t.strip_prefix("Package ") {
                flush(st, ctx);
                let name = rest.trim_end_matches(':');
                let mut r = ctx.record(Some(n), "App operations");
                obs(&mut r, K::AppId, name);
                r.data.insert("package_name".into(), name.into());
                st.current = Some(r);
            } else if let Some(r) = st.current.as_mut() {
                if indent >= 4 && t.ends_with("):") && t.contains(" (") {
                    let op = t.split(" (").next().unwrap_or(t);
                    let ops = r
                        .data
                        .entry("ops")
                        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                    if let Some(a) = ops.as_array_mut() {
                        if a.len() < 200 {
                            a.push(op.into());
                        }
                    }
                }
            }
        }
        Kind::Accessibility => {
            for p in components(t) {
                let mut r = ctx.record(Some(n), "Accessibility service");
                obs(&mut r, K::AppId, p);
                r.data.insert(
                    "line".into(),
                    t.chars().take(300).collect::<String>().into(),
                );
                ctx.emit(r);
            }
        }
        Kind::BatteryDaily => {
            if let Some(rest) = t.strip_prefix("Update ") {
                let mut parts = rest.split_whitespace();
                let name = parts.next().unwrap_or("");
                if is_package(name) {
                    let mut r = ctx.record(Some(n), "Package updated (battery daily stats)");
                    obs(&mut r, K::AppId, name);
                    r.data.insert("package_name".into(), name.into());
                    r.data.insert(
                        "vers".into(),
                        parts
                            .next()
                            .unwrap_or("")
                            .trim_start_matches("vers=")
                            .into(),
                    );
                    ctx.emit(r);
                }
            }
        }
        Kind::BatteryHistory => {
            for marker in [
                "pkginst=",
                "pkgunin=",
                "job=",
                "top=",
                "pkgactive=",
                "pkginactive=",
            ] {
                let Some(at) = t.find(marker) else { continue };
                let rest = &t[at + marker.len()..];
                let Some(q) = rest.find(":\"") else { continue };
                let quoted = rest[q + 2..].split('"').next().unwrap_or("");
                let pkg = quoted.split('/').next().unwrap_or("");
                if is_package(pkg) {
                    let mut r = ctx.record(Some(n), "Battery history event");
                    obs(&mut r, K::AppId, pkg);
                    r.data
                        .insert("event".into(), marker.trim_end_matches('=').into());
                    r.data.insert("package_name".into(), pkg.into());
                    ctx.emit(r);
                }
            }
        }
        Kind::DbInfo => {
            for tok in t.split(|c: char| c.is_whitespace() || c == ':' || c == '"' || c == '\'') {
                if !tok.starts_with("/data/") {
                    continue;
                }
                let mut r = ctx.record(Some(n), "Database opened");
                obs(&mut r, K::FilePath, tok);
                let parts: Vec<&str> = tok.split('/').collect();
                // /data/user/0/<pkg>/… or /data/data/<pkg>/…
                let pkg = match parts.get(2) {
                    Some(&"user") | Some(&"user_de") => parts.get(4),
                    Some(&"data") => parts.get(3),
                    _ => None,
                };
                if let Some(p) = pkg.filter(|p| is_package(p)) {
                    obs(&mut r, K::AppId, p);
                }
                r.data.insert("path".into(), tok.into());
                ctx.emit(r);
                break;
            }
        }
        Kind::GetProp => {
            if let Some((name, value)) = parse_getprop(t) {
                let mut r = ctx.record(Some(n), "System property");
                obs(&mut r, K::AndroidProperty, name);
                r.data.insert("name".into(), name.into());
                r.data.insert("value".into(), value.into());
                ctx.emit(r);
            }
        }
        Kind::Processes => parse_ps_line(st, n, t, ctx),
    }
}

/// `[name]: [value]` of getprop output.
pub(crate) fn parse_getprop(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('[')?;
    let (name, rest) = rest.split_once("]: [")?;
    Some((name, rest.strip_suffix(']').unwrap_or(rest)))
}

/// One line of `ps` output; the header line says which column is the command.
pub(crate) fn parse_ps_line(st: &mut State, n: u64, t: &str, ctx: &mut Ctx<'_>) {
    let cols: Vec<&str> = t.split_whitespace().collect();
    if cols.is_empty() {
        return;
    }
    if cols.contains(&"PID") {
        st.ps_command_col = cols
            .iter()
            .position(|c| *c == "NAME" || *c == "CMD" || *c == "COMMAND" || *c == "ARGS");
        return;
    }
    let Some(col) = st.ps_command_col else { return };
    let Some(cmd) = cols.get(col).or(cols.last()) else {
        return;
    };
    let cmd = cmd.trim_matches(|c| c == '[' || c == ']');
    let mut r = ctx.record(Some(n), "Running process");
    obs(
        &mut r,
        K::ProcessName,
        cmd.rsplit('/').next().unwrap_or(cmd),
    );
    if cmd.starts_with('/') {
        obs(&mut r, K::FilePath, cmd);
    }
    if is_package(cmd.split(':').next().unwrap_or("")) {
        obs(&mut r, K::AppId, cmd.split(':').next().unwrap_or(""));
    }
    r.data.insert("command".into(), cmd.into());
    ctx.emit(r);
}

/// A module parsing one kind of dumpsys section of a dumpstate text.
pub(crate) struct DumpsysModule {
    pub source: Source,
    pub kind: Kind,
    /// The member to read; `None` finds the dumpstate.
    pub member: Option<String>,
}

impl DumpsysModule {
    fn locate(&self) -> Result<String, String> {
        if let Some(m) = &self.member {
            return Ok(m.clone());
        }
        let names = self.source.names()?;
        let found = find_dumpstate(&names).ok_or("no dumpstate text in this bugreport")?;
        if found == "main_entry.txt" {
            let target = self.source.read("main_entry.txt", 4096)?;
            let target = String::from_utf8_lossy(&target).trim().to_string();
            if !names.contains(&target) {
                return Err(format!(
                    "main_entry.txt names {target:?}, which is not in the archive"
                ));
            }
            return Ok(target);
        }
        Ok(found)
    }
}

impl Module for DumpsysModule {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let fail = |file: &str, message: String| ModuleError {
            module: self.name().into(),
            file: file.into(),
            message,
        };
        let member = self.locate().map_err(|m| fail(&self.source.label(), m))?;
        let mut ctx = Ctx::new(self.name(), member.clone(), sink);
        let kind = self.kind;
        let mut section: Option<String> = None;
        let mut state = State::default();
        let mut seen_section = false;
        let res = self.source.with_member(&member, |r| {
            for_each_line(r, |n, line| {
                if let Some(s) = section_header(line) {
                    flush(&mut state, &mut ctx);
                    state = State::default();
                    seen_section |= kind.wants(&s);
                    section = Some(s);
                    return true;
                }
                if is_separator(line) {
                    flush(&mut state, &mut ctx);
                    section = None;
                    return true;
                }
                if section.as_deref().is_some_and(|s| kind.wants(s)) {
                    parse_line(kind, &mut state, n, line, &mut ctx);
                }
                true
            })
        });
        flush(&mut state, &mut ctx);
        match res {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(fail(&member, format!("corrupt or truncated: {e}"))),
            Err(m) => return Err(fail(&member, m)),
        }
        if !seen_section {
            ctx.warn(format!("no {} section in {member}", self.name()));
        }
        Ok(ctx.summary())
    }
}

/// Tombstones: native crash reports under `FS/data/tombstones/`.
pub(crate) struct TombstonesModule {
    pub source: Source,
}

impl Module for TombstonesModule {
    fn name(&self) -> &'static str {
        "tombstones"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let names = self.source.names().map_err(|message| ModuleError {
            module: self.name().into(),
            file: self.source.label(),
            message,
        })?;
        let mut ctx = Ctx::new(self.name(), String::new(), sink);
        for name in names
            .iter()
            .filter(|n| n.contains("tombstones/tombstone_") && !n.ends_with(".pb"))
        {
            let bytes = match self.source.read(name, MAX_MEMBER.min(16 << 20)) {
                Ok(b) => b,
                Err(e) => {
                    ctx.warn(e);
                    continue;
                }
            };
            ctx.file = name.clone();
            let mut r = ctx.record(None, "Native crash (tombstone)");
            for line in String::from_utf8_lossy(&bytes).lines().take(400) {
                let t = line.trim();
                if let Some(v) = t.strip_prefix("Cmdline:") {
                    let cmd = v.split_whitespace().next().unwrap_or("");
                    obs(
                        &mut r,
                        K::ProcessName,
                        cmd.rsplit('/').next().unwrap_or(cmd),
                    );
                    if cmd.starts_with('/') {
                        obs(&mut r, K::FilePath, cmd);
                    }
                    r.data.insert("command_line".into(), v.trim().into());
                } else if t.starts_with("pid:") {
                    if let Some(name) = t
                        .split("name: ")
                        .nth(1)
                        .map(|s| s.split("  >>>").next().unwrap_or(s).trim())
                    {
                        obs(&mut r, K::ProcessName, name);
                    }
                    if let Some(p) = t
                        .split(">>> ")
                        .nth(1)
                        .map(|s| s.trim_end_matches(" <<<").trim())
                    {
                        let p = p.split(':').next().unwrap_or(p);
                        if p.starts_with('/') {
                            obs(&mut r, K::FilePath, p);
                        } else if is_package(p) {
                            obs(&mut r, K::AppId, p);
                        }
                        obs(&mut r, K::ProcessName, p.rsplit('/').next().unwrap_or(p));
                        r.data.insert("process".into(), p.into());
                    }
                } else if let Some(v) = t.strip_prefix("Timestamp:") {
                    r.timestamp = parse_datetime(v);
                    r.data.insert("timestamp".into(), v.trim().into());
                }
            }
            ctx.emit(r);
        }
        Ok(ctx.summary())
    }
}

pub(crate) fn bugreport_modules(source: Source) -> Vec<Box<dyn Module>> {
    let mut v: Vec<Box<dyn Module>> = Kind::ALL
        .into_iter()
        .map(|kind| {
            Box::new(DumpsysModule {
                source: source.clone(),
                kind,
                member: None,
            }) as Box<dyn Module>
        })
        .collect();
    v.push(Box::new(TombstonesModule { source }));
    v
}

/// Dumpsys modules over an explicit member (androidqf's `dumpsys.txt`).
pub(crate) fn dumpsys_modules_for(source: &Source, member: &str) -> Vec<Box<dyn Module>> {
    // getprop and ps have their own files in androidqf.
    Kind::ALL
        .into_iter()
        .filter(|k| !matches!(k, Kind::GetProp | Kind::Processes))
        .map(|kind| {
            Box::new(DumpsysModule {
                source: source.clone(),
                kind,
                member: Some(member.to_string()),
            }) as Box<dyn Module>
        })
        .collect()
}
