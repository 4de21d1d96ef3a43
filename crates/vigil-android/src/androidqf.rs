//! androidqf acquisition readers.

use serde_json::Value;
use vigil_artefact::{Module, ModuleError, ModuleSummary, ObservableKind as K, Record};

use crate::dumpsys::{self, obs, parse_getprop, parse_ps_line, Ctx, State};
use crate::source::{for_each_line, Source};

/// Largest JSON file parsed into memory (packages.json is a few megabytes).
const MAX_JSON: u64 = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Packages,
    GetProp,
    Processes,
    Settings,
    Files,
    Logcat,
}

struct AqfModule {
    source: Source,
    kind: Kind,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Packages => "aqf_packages",
            Kind::GetProp => "aqf_getprop",
            Kind::Processes => "aqf_processes",
            Kind::Settings => "aqf_settings",
            Kind::Files => "aqf_files",
            Kind::Logcat => "aqf_logcat",
        }
    }

    fn wants(self, name: &str) -> bool {
        let base = name.rsplit('/').next().unwrap_or(name);
        match self {
            Kind::Packages => base == "packages.json",
            Kind::GetProp => base == "getprop.txt",
            Kind::Processes => base == "ps.txt",
            Kind::Settings => base.starts_with("settings_") && base.ends_with(".txt"),
            Kind::Files => base == "files.json",
            Kind::Logcat => base.starts_with("logcat") && base.ends_with(".txt"),
        }
    }
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| match x {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn read_json(source: &Source, name: &str) -> Result<Value, String> {
    let bytes = source.read(name, MAX_JSON)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => Ok(v),
        // androidqf has written files.json as JSON lines too.
        Err(e) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Result<Vec<Value>, _> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect();
            lines
                .map(Value::Array)
                .map_err(|_| format!("{name}: invalid JSON: {e}"))
        }
    }
}

fn packages(source: &Source, name: &str, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_json(source, name)?;
    let list = v
        .as_array()
        .ok_or_else(|| format!("{name}: expected a JSON array of packages"))?;
    for (i, p) in list.iter().enumerate() {
        let mut r = ctx.record(None, "Installed package");
        r.provenance.row = Some(i as i64);
        if let Some(n) = s(p, "name") {
            obs(&mut r, K::AppId, &n);
            r.data.insert("name".into(), n.into());
        }
        for k in ["installer", "uid"] {
            if let Some(x) = s(p, k) {
                r.data.insert(k.into(), x.into());
            }
        }
        for k in ["system", "disabled", "third_party"] {
            if let Some(b) = p.get(k).and_then(Value::as_bool) {
                r.data.insert(k.into(), b.into());
            }
        }
        for f in p
            .get("files")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(path) = s(f, "path") {
                obs(&mut r, K::FilePath, &path);
            }
            for h in ["md5", "sha1", "sha256", "sha512"] {
                if let Some(x) = s(f, h) {
                    obs(&mut r, K::FileHash, &x.to_ascii_lowercase());
                }
            }
            if let Some(cert) = f.get("certificate") {
                for h in ["Md5", "Sha1", "Sha256"] {
                    if let Some(x) = s(cert, h) {
                        obs(
                            &mut r,
                            K::AppCertHash,
                            &x.to_ascii_lowercase().replace(':', ""),
                        );
                    }
                }
            }
        }
        ctx.emit(r);
    }
    Ok(())
}

fn files(source: &Source, name: &str, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_json(source, name)?;
    let list = v
        .as_array()
        .ok_or_else(|| format!("{name}: expected a JSON array of files"))?;
    for (i, f) in list.iter().enumerate() {
        let mut r = ctx.record(None, "File on device");
        r.provenance.row = Some(i as i64);
        if let Some(p) = s(f, "path") {
            obs(&mut r, K::FilePath, &p);
            if let Some(base) = p.rsplit('/').next() {
                obs(&mut r, K::FileName, base);
            }
            r.data.insert("path".into(), p.into());
        }
        for h in ["md5", "sha1", "sha256", "sha512"] {
            if let Some(x) = s(f, h) {
                obs(&mut r, K::FileHash, &x.to_ascii_lowercase());
            }
        }
        r.timestamp = f
            .get("modified_time")
            .and_then(Value::as_f64)
            .filter(|t| *t > 0.0 && *t < 1e11)
            .map(|t| (t * 1e6) as i64);
        for k in ["size", "mode", "owner"] {
            if let Some(x) = f.get(k) {
                r.data.insert(k.into(), x.clone());
            }
        }
        ctx.emit(r);
    }
    Ok(())
}

/// Extracts `http(s)://` URLs from a log line.
fn urls(line: &str) -> impl Iterator<Item = &str> {
    line.match_indices("http").filter_map(move |(i, _)| {
        let rest = &line[i..];
        (rest.starts_with("http://") || rest.starts_with("https://")).then(|| {
            let end = rest
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | ',')
                })
                .unwrap_or(rest.len());
            &rest[..end]
        })
    })
}

fn text_lines(kind: Kind, source: &Source, name: &str, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let mut st = State::default();
    source
        .with_member(name, |r| {
            for_each_line(r, |n, line| {
                let t = line.trim();
                match kind {
                    Kind::GetProp => {
                        if let Some((pn, pv)) = parse_getprop(t) {
                            let mut rec = ctx.record(Some(n), "System property");
                            obs(&mut rec, K::AndroidProperty, pn);
                            rec.data.insert("name".into(), pn.into());
                            rec.data.insert("value".into(), pv.into());
                            ctx.emit(rec);
                        }
                    }
                    Kind::Processes => parse_ps_line(&mut st, n, t, ctx),
                    Kind::Settings => {
                        if let Some((k, v)) = t.split_once('=') {
                            let mut rec = ctx.record(Some(n), "Setting");
                            rec.data.insert("key".into(), k.into());
                            rec.data.insert("value".into(), v.into());
                            ctx.emit(rec);
                        }
                    }
                    Kind::Logcat => {
                        let mut rec = ctx.record(Some(n), "Log line with a URL");
                        for u in urls(t) {
                            obs(&mut rec, K::Url, u);
                        }
                        if !rec.observables.is_empty() {
                            rec.data.insert(
                                "line".into(),
                                t.chars().take(500).collect::<String>().into(),
                            );
                            ctx.emit(rec);
                        }
                    }
                    Kind::Packages | Kind::Files => {}
                }
                true
            })
        })?
        .map_err(|e| format!("{name}: {e}"))
}

impl Module for AqfModule {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let fail = |file: String, message: String| ModuleError {
            module: self.name().into(),
            file,
            message,
        };
        let names = self
            .source
            .names()
            .map_err(|m| fail(self.source.label(), m))?;
        let wanted: Vec<&String> = names.iter().filter(|n| self.kind.wants(n)).collect();
        let mut ctx = Ctx::new(self.name(), String::new(), sink);
        if wanted.is_empty() {
            ctx.warn(format!(
                "no {} file in this acquisition",
                self.name().trim_start_matches("aqf_")
            ));
            return Ok(ctx.summary());
        }
        let mut errors = Vec::new();
        for name in &wanted {
            ctx.file = (*name).clone();
            let res = match self.kind {
                Kind::Packages => packages(&self.source, name, &mut ctx),
                Kind::Files => files(&self.source, name, &mut ctx),
                k => text_lines(k, &self.source, name, &mut ctx),
            };
            if let Err(e) = res {
                errors.push(((*name).clone(), e));
            }
        }
        if errors.len() == wanted.len() {
            let (file, m) = errors.swap_remove(0);
            return Err(fail(file, m));
        }
        for (f, e) in errors {
            ctx.warn(format!("{f}: {e}"));
        }
        Ok(ctx.summary())
    }
}

pub(crate) fn modules(source: Source) -> Vec<Box<dyn Module>> {
    let mut v: Vec<Box<dyn Module>> = [
        Kind::Packages,
        Kind::GetProp,
        Kind::Processes,
        Kind::Settings,
        Kind::Files,
        Kind::Logcat,
    ]
    .into_iter()
    .map(|kind| {
        Box::new(AqfModule {
            source: source.clone(),
            kind,
        }) as Box<dyn Module>
    })
    .collect();
    if let Ok(names) = source.names() {
        if let Some(d) = names
            .iter()
            .find(|n| n.rsplit('/').next() == Some("dumpsys.txt"))
        {
            v.extend(dumpsys::dumpsys_modules_for(&source, d));
        }
        if let Some(b) = names
            .iter()
            .find(|n| n.rsplit('/').next() == Some("backup.ab"))
        {
            v.push(Box::new(crate::backup::SmsModule {
                source: source.clone(),
                member: b.clone(),
                password: None,
            }));
        }
    }
    v
}
