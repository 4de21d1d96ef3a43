//! The reader modules shared by backups and file-system dumps.
//!
//! Each module is a name, the files it reads (as backup domain + relative
//! path; the file-system location follows from the domain) and a read
//! function. SQL modules stream their query row by row.

use std::borrow::Cow;
use std::sync::Arc;

use plist::Value;
use rusqlite::types::ValueRef;
use vigil_artefact::{
    Emitter, Module, ModuleError, ModuleSummary, Needs, Observable, ObservableKind as K,
    Provenance, Record, Urls,
};

use crate::backup::{parse_file_blob, Backup};
use crate::source::{loc, Found, Layout, Loc};
use crate::util::{
    mac_time_to_unix_micros as mac, open_sqlite_readonly, unix_secs_to_micros,
    webkit_to_unix_micros,
};

/// Largest plist a module reads into memory.
const MAX_PLIST: u64 = 64 << 20;

/// Emits records for one module run and counts them.
pub(crate) struct Ctx<'a>(Emitter<'a>);

impl<'a> Ctx<'a> {
    pub(crate) fn new(module: &'static str, sink: &'a mut dyn FnMut(Record)) -> Ctx<'a> {
        Ctx(Emitter::new(module, sink))
    }

    /// A context lending records to `sink`, which reads what `needs` says.
    pub(crate) fn lending(
        module: &'static str,
        needs: Needs,
        sink: &'a mut dyn FnMut(&Record),
    ) -> Ctx<'a> {
        Ctx(Emitter::lending(module, needs, sink))
    }

    /// A record of this module with provenance `file`/`table`.
    pub(crate) fn record(&self, file: &str, table: Option<&str>, event: &str) -> Record {
        let provenance = Provenance {
            table: table.map(str::to_string),
            ..Provenance::file(file)
        };
        self.0.record(provenance, event)
    }

    pub(crate) fn summary(self) -> ModuleSummary {
        self.0.summary()
    }
}

impl<'a> std::ops::Deref for Ctx<'a> {
    type Target = Emitter<'a>;
    fn deref(&self) -> &Emitter<'a> {
        &self.0
    }
}

impl std::ops::DerefMut for Ctx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

fn err(module: &str, file: &str, message: impl Into<String>) -> ModuleError {
    ModuleError {
        module: module.to_string(),
        file: file.to_string(),
        message: message.into(),
    }
}

type ReadFn = fn(&Found, &mut Ctx<'_>) -> Result<(), String>;

/// A module reading the files at `locs` with `read`.
pub(crate) struct FileReader {
    name: &'static str,
    what: &'static str,
    locs: &'static [Loc],
    read: ReadFn,
    layout: Layout,
}

impl Module for FileReader {
    fn name(&self) -> &'static str {
        self.name
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        self.read_all(Ctx::new(self.name, sink))
    }

    fn run_with(
        &self,
        needs: Needs,
        sink: &mut dyn FnMut(&Record),
    ) -> Result<ModuleSummary, ModuleError> {
        self.read_all(Ctx::lending(self.name, needs, sink))
    }
}

impl FileReader {
    fn read_all(&self, mut ctx: Ctx<'_>) -> Result<ModuleSummary, ModuleError> {
        let (found, warnings) = self.layout.find(self.locs);
        for w in warnings {
            ctx.warn(w);
        }
        if found.is_empty() {
            ctx.warn(format!("no {} in this acquisition", self.what));
            return Ok(ctx.summary());
        }
        let mut errors = Vec::new();
        for f in &found {
            if let Err(e) = (self.read)(f, &mut ctx) {
                errors.push((f.device_path.clone(), e));
            }
        }
        if errors.len() == found.len() {
            let (file, message) = errors.swap_remove(0);
            return Err(err(self.name, &file, message));
        }
        for (file, e) in errors {
            ctx.warn(format!("{file}: {e}"));
        }
        Ok(ctx.summary())
    }
}

/// Reads a value as text whatever its SQLite type.
fn text(row: &rusqlite::Row<'_>, i: usize) -> Option<String> {
    text_ref(row, i).map(Cow::into_owned)
}

/// [`text`], borrowed from the row where the value is text.
fn text_ref<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Option<Cow<'r, str>> {
    match row.get_ref(i).ok()? {
        ValueRef::Text(t) | ValueRef::Blob(t) if t.is_empty() => None,
        // Valid UTF-8 (nearly every value) is checked by the fast validator.
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(match std::str::from_utf8(t) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(t),
        }),
        ValueRef::Integer(n) => Some(Cow::Owned(n.to_string())),
        ValueRef::Real(f) => Some(Cow::Owned(f.to_string())),
        ValueRef::Null => None,
    }
}

/// Sets a record's event, reusing its buffer.
fn set_event(r: &mut Record, event: &str) {
    if r.event != event {
        r.event.clear();
        r.event.push_str(event);
    }
}

fn num(row: &rusqlite::Row<'_>, i: usize) -> Option<f64> {
    match row.get_ref(i).ok()? {
        ValueRef::Integer(n) => Some(n as f64),
        ValueRef::Real(f) => Some(f),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn int(row: &rusqlite::Row<'_>, i: usize) -> Option<i64> {
    num(row, i).map(|f| f as i64)
}

fn put(r: &mut Record, key: &str, v: Option<impl Into<serde_json::Value>>) {
    if let Some(v) = v {
        r.data.insert(key.to_string(), v.into());
    }
}

fn obs(r: &mut Record, kind: K, v: &str) {
    let v = v.trim();
    if !v.is_empty() && !r.observables.iter().any(|o| o.kind == kind && o.value == v) {
        r.observables.push(Observable::new(kind, v));
    }
}

fn urls_in(r: &mut Record, text: &str) {
    for u in Urls::new(text) {
        obs(r, K::Url, u);
    }
}

/// Maps one row into the prepared record; `false` skips the row. The flag
/// says whether the record's fields ([`Record::data`]) are wanted.
type RowFn = fn(&rusqlite::Row<'_>, &mut Record, bool) -> bool;

/// Runs the first of `queries` that the database accepts and emits one record per row.
fn sql(
    f: &Found,
    ctx: &mut Ctx<'_>,
    table: &str,
    event: &str,
    queries: &[&str],
    map: RowFn,
) -> Result<(), String> {
    sql_lean(f, ctx, table, event, &[], queries, map)
}

/// [`sql`], trying the `lean` queries first when the record fields are not
/// wanted. A lean query yields the same rows in the same order as the full
/// ones, and the same leading columns, but not those only fields are made of.
fn sql_lean(
    f: &Found,
    ctx: &mut Ctx<'_>,
    table: &str,
    event: &str,
    lean: &[&str],
    queries: &[&str],
    map: RowFn,
) -> Result<(), String> {
    let fields = ctx.needs().fields;
    let (conn, _guard) = open_sqlite_readonly(&f.local.path)?;
    let mut last_err = String::from("no query");
    let lean = if fields { &[][..] } else { lean };
    // One record is reused for every row: its strings keep their buffers.
    let mut r = ctx.record(&f.device_path, Some(table), event);
    for q in lean.iter().chain(queries) {
        let mut stmt = match conn.prepare(q) {
            Ok(s) => s,
            Err(e) => {
                last_err = e.to_string();
                continue;
            }
        };
        let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
        loop {
            match rows.next() {
                Ok(Some(row)) => {
                    r.timestamp = None;
                    r.observables.clear();
                    r.data.clear();
                    set_event(&mut r, event);
                    r.provenance.row = int(row, 0);
                    if map(row, &mut r, fields) {
                        ctx.emit_ref(&r);
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => return Err(format!("table {table}: {e}")),
            }
        }
    }
    Err(last_err)
}

fn read_plist(f: &Found) -> Result<Value, String> {
    let len = std::fs::metadata(&f.local.path)
        .map_err(|e| e.to_string())?
        .len();
    if len > MAX_PLIST {
        return Err(format!("property list of {len} bytes is too large"));
    }
    Value::from_file(&f.local.path).map_err(|e| format!("property list: {e}"))
}

fn plist_secs(v: &Value) -> Option<f64> {
    match v {
        Value::Date(d) => {
            let st: std::time::SystemTime = (*d).into();
            Some(match st.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => d.as_secs_f64(),
                Err(e) => -e.duration().as_secs_f64(),
            })
        }
        _ => None,
    }
}

/// A plist value as Unix microseconds: dates directly, numbers as Mac absolute time.
fn plist_time(v: &Value) -> Option<i64> {
    if let Some(s) = plist_secs(v) {
        return unix_secs_to_micros(s);
    }
    match v {
        Value::Real(f) => mac(*f),
        Value::Integer(i) => i.as_signed().and_then(|n| mac(n as f64)),
        _ => None,
    }
}

fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>, depth: usize) {
    if depth > 32 || out.len() > 10_000 {
        return;
    }
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out, depth + 1)),
        Value::Dictionary(d) => d.iter().for_each(|(k, x)| {
            out.push(k);
            collect_strings(x, out, depth + 1)
        }),
        _ => {}
    }
}

/// Whether `s` looks like a DNS name (letters, digits, dashes, at least one dot, alphabetic TLD).
pub(crate) fn looks_like_domain(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    s.len() <= 253
        && s.contains('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && s.rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
        && !s.split('.').any(str::is_empty)
}

// ---------------------------------------------------------------- SQL modules

fn read_sms(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql_lean(
        f,
        ctx,
        "message",
        "SMS",
        // The handle join adds fields only (`handle.ROWID` is the row id, so
        // each message is one row either way).
        &["SELECT message.ROWID, message.date, message.text, message.is_from_me FROM message"],
        &["SELECT message.ROWID, message.date, message.text, message.is_from_me, handle.id, message.service, message.guid \
           FROM message LEFT JOIN handle ON handle.ROWID = message.handle_id"],
        |row, r, fields| {
            r.timestamp = num(row, 1).and_then(mac);
            let from_me = int(row, 3) == Some(1);
            set_event(r, if from_me { "SMS sent" } else { "SMS received" });
            if !fields {
                if let Some(body) = text_ref(row, 2) {
                    urls_in(r, &body);
                }
                return true;
            }
            let body = text(row, 2).unwrap_or_default();
            urls_in(r, &body);
            put(r, "text", Some(body));
            put(r, "phone_number", text(row, 4));
            put(r, "service", text(row, 5));
            put(r, "guid", text(row, 6));
            true
        },
    )
}

fn read_sms_attachments(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "attachment",
        "SMS attachment",
        &["SELECT attachment.ROWID, attachment.created_date, attachment.filename, attachment.transfer_name, \
           attachment.mime_type, handle.id FROM attachment \
           LEFT JOIN message_attachment_join ON message_attachment_join.attachment_id = attachment.ROWID \
           LEFT JOIN message ON message.ROWID = message_attachment_join.message_id \
           LEFT JOIN handle ON handle.ROWID = message.handle_id"],
        |row, r, _| {
            r.timestamp = num(row, 1).and_then(mac);
            if let Some(p) = text(row, 2) {
                obs(r, K::FilePath, &p);
                if let Some(name) = p.rsplit('/').next() {
                    obs(r, K::FileName, name);
                }
                put(r, "filename", Some(p));
            }
            if let Some(n) = text(row, 3) {
                obs(r, K::FileName, &n);
                put(r, "transfer_name", Some(n));
            }
            put(r, "mime_type", text(row, 4));
            put(r, "phone_number", text(row, 5));
            true
        },
    )
}

fn read_safari_history(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "history_visits",
        "Safari visit",
        &["SELECT history_visits.id, history_items.url, history_visits.visit_time, \
           history_visits.redirect_source, history_visits.redirect_destination \
           FROM history_items JOIN history_visits ON history_visits.history_item = history_items.id"],
        |row, r, fields| {
            r.timestamp = num(row, 2).and_then(mac);
            if !fields {
                obs(r, K::Url, text_ref(row, 1).as_deref().unwrap_or_default());
                return true;
            }
            let url = text(row, 1).unwrap_or_default();
            obs(r, K::Url, &url);
            put(r, "url", Some(url));
            put(r, "redirect_source", int(row, 3));
            put(r, "redirect_destination", int(row, 4));
            true
        },
    )
}

fn read_safari_browser_state(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "tabs",
        "Safari tab",
        &["SELECT rowid, url, user_visible_url, last_viewed_time, title FROM tabs"],
        |row, r, _| {
            r.timestamp = num(row, 3).and_then(mac);
            for i in [1, 2] {
                if let Some(u) = text(row, i) {
                    obs(r, K::Url, &u);
                }
            }
            put(r, "url", text(row, 1));
            put(r, "title", text(row, 4));
            true
        },
    )
}

fn read_webkit_rls(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "ObservedDomains",
        "WebKit observed domain",
        &["SELECT domainID, registrableDomain, lastSeen, hadUserInteraction FROM ObservedDomains"],
        |row, r, _| {
            r.timestamp = num(row, 2).and_then(unix_secs_to_micros);
            let d = text(row, 1).unwrap_or_default();
            obs(r, K::Domain, &d);
            put(r, "registrable_domain", Some(d));
            put(r, "had_user_interaction", int(row, 3));
            true
        },
    )
}

fn read_chrome_history(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "visits",
        "Chrome visit",
        &["SELECT visits.id, urls.url, visits.visit_time FROM urls JOIN visits ON visits.url = urls.id"],
        |row, r, _| {
            r.timestamp = int(row, 2).and_then(webkit_to_unix_micros);
            let url = text(row, 1).unwrap_or_default();
            obs(r, K::Url, &url);
            put(r, "url", Some(url));
            true
        },
    )
}

fn read_firefox_history(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "visits",
        "Firefox visit",
        &["SELECT visits.id, history.url, visits.date FROM visits, history WHERE visits.siteID = history.id"],
        |row, r, _| {
            r.timestamp = num(row, 2).and_then(|t| unix_secs_to_micros(t / 1e6));
            let url = text(row, 1).unwrap_or_default();
            obs(r, K::Url, &url);
            put(r, "url", Some(url));
            true
        },
    )
}

fn read_calls(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "ZCALLRECORD",
        "Call",
        &["SELECT Z_PK, ZDATE, ZADDRESS, ZDURATION, ZSERVICE_PROVIDER FROM ZCALLRECORD"],
        |row, r, _| {
            r.timestamp = num(row, 1).and_then(mac);
            put(r, "address", text(row, 2));
            put(r, "duration", num(row, 3));
            put(r, "service_provider", text(row, 4));
            true
        },
    )
}

fn read_contacts(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "ABMultiValue",
        "Contact",
        &["SELECT multi.rowid, multi.value, person.first, person.last, person.organization \
           FROM ABPerson person, ABMultiValue multi WHERE person.rowid = multi.record_id AND multi.value NOT NULL"],
        |row, r, _| {
            let v = text(row, 1).unwrap_or_default();
            if v.contains('@') {
                obs(r, K::Email, &v.to_ascii_lowercase());
            }
            put(r, "value", Some(v));
            put(r, "first", text(row, 2));
            put(r, "last", text(row, 3));
            put(r, "organization", text(row, 4));
            true
        },
    )
}

fn read_whatsapp(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "ZWAMESSAGE",
        "WhatsApp message",
        &[
            "SELECT ZWAMESSAGE.Z_PK, ZWAMESSAGE.ZMESSAGEDATE, ZWAMESSAGE.ZTEXT, ZWAMESSAGE.ZFROMJID, \
             ZWAMEDIAITEM.ZMEDIAURL, ZWAMESSAGEDATAITEM.ZCONTENT1, ZWAMESSAGEDATAITEM.ZCONTENT2, \
             ZWAMESSAGEDATAITEM.ZMATCHEDTEXT FROM ZWAMESSAGE \
             LEFT JOIN ZWAMEDIAITEM ON ZWAMEDIAITEM.ZMESSAGE = ZWAMESSAGE.Z_PK \
             LEFT JOIN ZWAMESSAGEDATAITEM ON ZWAMESSAGEDATAITEM.ZMESSAGE = ZWAMESSAGE.Z_PK",
            "SELECT Z_PK, ZMESSAGEDATE, ZTEXT, ZFROMJID, NULL, NULL, NULL, NULL FROM ZWAMESSAGE",
        ],
        |row, r, _| {
            r.timestamp = num(row, 1).and_then(mac);
            for i in 2..=7 {
                if let Some(t) = text(row, i) {
                    urls_in(r, &t);
                }
            }
            put(r, "text", text(row, 2));
            put(r, "from_jid", text(row, 3));
            put(r, "media_url", text(row, 4));
            true
        },
    )
}

fn read_whatsapp_contacts(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "ZWAADDRESSBOOKCONTACT",
        "WhatsApp contact",
        &[
            "SELECT Z_PK, ZABOUTTIMESTAMP, ZFULLNAME, ZABOUTTEXT, ZPHONENUMBER, ZWHATSAPPID, \
             ZBUSINESSNAME FROM ZWAADDRESSBOOKCONTACT",
            "SELECT Z_PK, ZABOUTTIMESTAMP, ZFULLNAME, ZABOUTTEXT, ZPHONENUMBER, ZWHATSAPPID, \
             NULL FROM ZWAADDRESSBOOKCONTACT",
            "SELECT Z_PK, NULL, ZFULLNAME, NULL, ZPHONENUMBER, ZWHATSAPPID, NULL \
             FROM ZWAADDRESSBOOKCONTACT",
        ],
        |row, r, _| {
            r.timestamp = num(row, 1).and_then(mac);
            // The "about" text (and a business name) is free text a contact
            // writes, and may carry a link.
            for i in [3, 6] {
                if let Some(t) = text(row, i) {
                    urls_in(r, &t);
                }
            }
            put(r, "name", text(row, 2));
            put(r, "about", text(row, 3));
            put(r, "phone", text(row, 4));
            put(r, "whatsapp_id", text(row, 5));
            put(r, "business_name", text(row, 6));
            true
        },
    )
}

fn read_datausage(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "ZPROCESS",
        "Process with network activity",
        &["SELECT Z_PK, ZPROCNAME, ZBUNDLENAME, ZTIMESTAMP, ZFIRSTTIMESTAMP FROM ZPROCESS"],
        |row, r, _| {
            r.timestamp = num(row, 3).and_then(mac);
            if let Some(p) = text(row, 1) {
                obs(r, K::ProcessName, &p);
                // Newer iOS records "process/bundle"; each part is a name.
                if p.contains('/') {
                    for part in p.split('/') {
                        obs(r, K::ProcessName, part);
                    }
                }
                put(r, "proc_name", Some(p));
            }
            if let Some(b) = text(row, 2) {
                obs(r, K::AppId, &b);
                put(r, "bundle_id", Some(b));
            }
            put(r, "first_timestamp", num(row, 4).and_then(mac));
            true
        },
    )
}

fn read_tcc(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "access",
        "TCC permission",
        &[
            "SELECT rowid, service, client, client_type, auth_value, last_modified FROM access",
            "SELECT rowid, service, client, client_type, allowed, last_modified FROM access",
            "SELECT rowid, service, client, client_type, allowed, NULL FROM access",
        ],
        |row, r, _| {
            r.timestamp = num(row, 5).and_then(unix_secs_to_micros);
            let client = text(row, 2).unwrap_or_default();
            let kind = if int(row, 3) == Some(1) || client.starts_with('/') {
                K::FilePath
            } else {
                K::AppId
            };
            obs(r, kind, &client);
            if kind == K::FilePath {
                if let Some(name) = client.rsplit('/').next() {
                    obs(r, K::ProcessName, name);
                }
            }
            put(r, "service", text(row, 1));
            put(r, "client", Some(client));
            put(r, "auth_value", int(row, 4));
            true
        },
    )
}

fn read_interactionc(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "ZINTERACTIONS",
        "Interaction",
        &[
            "SELECT Z_PK, ZSTARTDATE, ZBUNDLEID, ZTARGETBUNDLEID, ZDOMAINIDENTIFIER, ZACCOUNT FROM ZINTERACTIONS",
            "SELECT Z_PK, ZSTARTDATE, ZBUNDLEID, NULL, ZDOMAINIDENTIFIER, NULL FROM ZINTERACTIONS",
        ],
        |row, r, _| {
            r.timestamp = num(row, 1).and_then(mac);
            for i in [2, 3] {
                if let Some(b) = text(row, i) {
                    obs(r, K::AppId, &b);
                }
            }
            put(r, "bundle_id", text(row, 2));
            put(r, "target_bundle_id", text(row, 3));
            put(r, "domain_identifier", text(row, 4));
            true
        },
    )
}

fn read_shortcuts(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "ZSHORTCUT",
        "Shortcut",
        &[
            "SELECT ZSHORTCUT.Z_PK, ZSHORTCUT.ZCREATIONDATE, ZSHORTCUT.ZNAME, ZSHORTCUT.ZACTIONSDESCRIPTION, \
             ZSHORTCUTACTIONS.ZDATA FROM ZSHORTCUT LEFT JOIN ZSHORTCUTACTIONS ON ZSHORTCUTACTIONS.ZSHORTCUT = ZSHORTCUT.Z_PK",
            "SELECT Z_PK, ZCREATIONDATE, ZNAME, ZACTIONSDESCRIPTION, NULL FROM ZSHORTCUT",
        ],
        |row, r, _| {
            r.timestamp = num(row, 1).and_then(mac);
            if let Ok(ValueRef::Blob(b)) = row.get_ref(4) {
                match Value::from_reader(std::io::Cursor::new(b)) {
                    Ok(v) => {
                        let mut s = Vec::new();
                        collect_strings(&v, &mut s, 0);
                        for t in s {
                            urls_in(r, t);
                        }
                    }
                    Err(_) => urls_in(r, &String::from_utf8_lossy(b)),
                }
            }
            if let Some(d) = text(row, 3) {
                urls_in(r, &d);
            }
            put(r, "name", text(row, 2));
            put(r, "description", text(row, 3));
            true
        },
    )
}

fn read_calendar(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    sql(
        f,
        ctx,
        "CalendarItem",
        "Calendar event",
        &[
            "SELECT CalendarItem.ROWID, CalendarItem.start_date, CalendarItem.summary, CalendarItem.description, \
             CalendarItem.url, Participant.email FROM CalendarItem \
             LEFT JOIN Participant ON Participant.ROWID = CalendarItem.organizer_id",
            "SELECT ROWID, start_date, summary, description, url, NULL FROM CalendarItem",
        ],
        |row, r, _| {
            r.timestamp = num(row, 1).and_then(mac);
            for i in [2, 3, 4] {
                if let Some(t) = text(row, i) {
                    urls_in(r, &t);
                }
            }
            if let Some(e) = text(row, 5) {
                obs(r, K::Email, &e.trim_start_matches("mailto:").to_ascii_lowercase());
            }
            put(r, "summary", text(row, 2));
            put(r, "url", text(row, 4));
            put(r, "organizer_email", text(row, 5));
            true
        },
    )
}

// -------------------------------------------------------------- plist modules

fn read_osanalytics_addaily(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_plist(f)?;
    let base = v
        .as_dictionary()
        .and_then(|d| d.get("netUsageBaseline"))
        .and_then(Value::as_dictionary);
    for (proc_name, values) in base.into_iter().flatten() {
        let mut r = ctx.record(&f.device_path, None, "OS analytics network usage");
        r.timestamp = values
            .as_array()
            .and_then(|a| a.first())
            .and_then(plist_time);
        obs(&mut r, K::ProcessName, proc_name);
        if proc_name.contains('.') {
            obs(&mut r, K::AppId, proc_name);
        }
        put(&mut r, "package", Some(proc_name.clone()));
        ctx.emit(r);
    }
    Ok(())
}

fn read_idstatuscache(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_plist(f)?;
    let Some(services) = v.as_dictionary() else {
        return Err("not a dictionary".into());
    };
    for (service, ids) in services {
        for (id, entry) in ids.as_dictionary().into_iter().flatten() {
            let mut r = ctx.record(&f.device_path, None, "Identity status lookup");
            r.timestamp = entry
                .as_dictionary()
                .and_then(|d| d.get("LookupDate"))
                .and_then(plist_time);
            if let Some(email) = id.strip_prefix("mailto:") {
                obs(&mut r, K::Email, &email.to_ascii_lowercase());
            }
            put(&mut r, "service", Some(service.clone()));
            put(&mut r, "user", Some(id.clone()));
            ctx.emit(r);
        }
    }
    Ok(())
}

fn read_locationd(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_plist(f)?;
    let Some(clients) = v.as_dictionary() else {
        return Err("not a dictionary".into());
    };
    for (client, entry) in clients {
        let mut r = ctx.record(&f.device_path, None, "Location services client");
        // Keys are bundle ids or executable paths, sometimes prefixed by a type letter and a colon.
        let key = client.split_once(':').map_or(client.as_str(), |(_, k)| k);
        if key.starts_with('/') {
            obs(&mut r, K::FilePath, key);
            if let Some(name) = key.rsplit('/').next() {
                obs(&mut r, K::ProcessName, name);
            }
        } else {
            obs(&mut r, K::AppId, key.trim_start_matches('i'));
            obs(&mut r, K::AppId, key);
        }
        if let Some(d) = entry.as_dictionary() {
            for (k, val) in d {
                match k.as_str() {
                    "BundleId" => val
                        .as_string()
                        .into_iter()
                        .for_each(|s| obs(&mut r, K::AppId, s)),
                    "BundlePath" | "Executable" | "Registered" => val
                        .as_string()
                        .filter(|s| s.starts_with('/'))
                        .into_iter()
                        .for_each(|s| obs(&mut r, K::FilePath, s)),
                    _ if k.ends_with("Time") => {
                        let t = plist_time(val);
                        if t > r.timestamp {
                            r.timestamp = t;
                        }
                    }
                    _ => {}
                }
            }
        }
        put(&mut r, "client", Some(client.clone()));
        ctx.emit(r);
    }
    Ok(())
}

fn read_global_preferences(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_plist(f)?;
    let mut r = ctx.record(&f.device_path, None, "Global preferences");
    let lockdown = v
        .as_dictionary()
        .and_then(|d| d.get("LDMGlobalEnabled"))
        .and_then(Value::as_boolean);
    put(&mut r, "lockdown_mode", Some(lockdown.unwrap_or(false)));
    ctx.emit(r);
    Ok(())
}

fn read_session_resource_log(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_plist(f)?;
    let stats = v
        .as_dictionary()
        .and_then(|d| d.get("browsingStatistics"))
        .and_then(Value::as_array);
    for entry in stats.into_iter().flatten() {
        let mut r = ctx.record(&f.device_path, None, "WebKit session resource");
        let mut strings = Vec::new();
        collect_strings(entry, &mut strings, 0);
        for s in strings {
            if looks_like_domain(s) {
                obs(&mut r, K::Domain, &s.to_ascii_lowercase());
            }
        }
        r.timestamp = entry
            .as_dictionary()
            .and_then(|d| {
                d.get("mostRecentUserInteraction")
                    .or_else(|| d.get("lastSeen"))
            })
            .and_then(|t| plist_time(t).or_else(|| t.as_real().and_then(unix_secs_to_micros)));
        put(
            &mut r,
            "origin",
            entry
                .as_dictionary()
                .and_then(|d| d.get("PrevalentResourceOrigin"))
                .and_then(Value::as_string)
                .map(str::to_string),
        );
        ctx.emit(r);
    }
    Ok(())
}

fn read_configuration_profile(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_plist(f)?;
    let d = v.as_dictionary();
    let s = |k: &str| {
        d.and_then(|d| d.get(k))
            .and_then(Value::as_string)
            .map(str::to_string)
    };
    let mut r = ctx.record(&f.device_path, None, "Configuration profile installed");
    r.timestamp = d.and_then(|d| d.get("InstallDate")).and_then(plist_time);
    for id in [s("PayloadUUID"), s("PayloadIdentifier")]
        .into_iter()
        .flatten()
    {
        obs(&mut r, K::ConfigurationProfileId, &id);
    }
    put(&mut r, "display_name", s("PayloadDisplayName"));
    put(&mut r, "identifier", s("PayloadIdentifier"));
    put(&mut r, "uuid", s("PayloadUUID"));
    ctx.emit(r);
    Ok(())
}

fn read_profile_events(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_plist(f)?;
    let events = v
        .as_dictionary()
        .and_then(|d| d.get("ProfileEvents"))
        .and_then(Value::as_array);
    for ev in events.into_iter().flatten() {
        for (profile, detail) in ev.as_dictionary().into_iter().flatten() {
            let mut r = ctx.record(&f.device_path, None, "Configuration profile event");
            obs(&mut r, K::ConfigurationProfileId, profile);
            if let Some(d) = detail.as_dictionary() {
                r.timestamp = d.get("timestamp").and_then(plist_time);
                if let Some(p) = d.get("process").and_then(Value::as_string) {
                    obs(&mut r, K::ProcessName, p);
                    put(&mut r, "process", Some(p.to_string()));
                }
                put(
                    &mut r,
                    "operation",
                    d.get("operation")
                        .and_then(Value::as_string)
                        .map(str::to_string),
                );
            }
            put(&mut r, "profile_id", Some(profile.clone()));
            ctx.emit(r);
        }
    }
    Ok(())
}

fn read_itunes_metadata(f: &Found, ctx: &mut Ctx<'_>) -> Result<(), String> {
    let v = read_plist(f)?;
    let d = v.as_dictionary();
    let s = |k: &str| {
        d.and_then(|d| d.get(k))
            .and_then(Value::as_string)
            .map(str::to_string)
    };
    let mut r = ctx.record(&f.device_path, None, "Installed application");
    if let Some(id) = s("softwareVersionBundleId") {
        obs(&mut r, K::AppId, &id);
        put(&mut r, "bundle_id", Some(id));
    }
    put(&mut r, "name", s("itemName"));
    put(&mut r, "source_app", s("sourceApp"));
    ctx.emit(r);
    Ok(())
}

// ------------------------------------------------------------- the catalogue

/// Installed app bundles (file-system dumps only).
const APP_BUNDLES: &[Loc] = &[loc("ContainersBundle", "%/iTunesMetadata.plist")];
const HOME: &str = "HomeDomain";
const WHATSAPP: &str = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared";
const PROFILES: &str = "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles";

struct Spec {
    name: &'static str,
    what: &'static str,
    locs: &'static [Loc],
    read: ReadFn,
}

const SPECS: &[Spec] = &[
    Spec { name: "configuration_profiles", what: "configuration profile", locs: &[loc(PROFILES, "Library/ConfigurationProfiles/profile-%")], read: read_configuration_profile },
    Spec { name: "profile_events", what: "MCProfileEvents.plist", locs: &[loc(PROFILES, "Library/ConfigurationProfiles/MCProfileEvents.plist")], read: read_profile_events },
    Spec { name: "sms", what: "sms.db", locs: &[loc(HOME, "Library/SMS/sms.db")], read: read_sms },
    Spec { name: "sms_attachments", what: "sms.db", locs: &[loc(HOME, "Library/SMS/sms.db")], read: read_sms_attachments },
    Spec {
        name: "safari_history",
        what: "Safari History.db",
        locs: &[loc(HOME, "Library/Safari/History.db"), loc(HOME, "Library/Safari/Profiles/%/History.db"), loc("AppDomain-%", "Library/Safari/History.db")],
        read: read_safari_history,
    },
    Spec {
        name: "safari_browser_state",
        what: "Safari BrowserState.db",
        locs: &[loc(HOME, "Library/Safari/BrowserState.db"), loc(HOME, "Library/Safari/Profiles/%/BrowserState.db"), loc("AppDomain-%", "Library/Safari/BrowserState.db")],
        read: read_safari_browser_state,
    },
    Spec {
        name: "webkit_resource_load_statistics",
        what: "WebKit observations.db",
        locs: &[loc(HOME, "Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db"), loc("AppDomain-%", "Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db")],
        read: read_webkit_rls,
    },
    Spec {
        name: "webkit_session_resource_log",
        what: "WebKit session resource log",
        locs: &[
            loc(HOME, "Library/WebKit/WebsiteData/ResourceLoadStatistics/full_browsing_session_resourceLog.plist"),
            loc("AppDomain-%", "Library/WebKit/WebsiteData/ResourceLoadStatistics/full_browsing_session_resourceLog.plist"),
        ],
        read: read_session_resource_log,
    },
    Spec { name: "chrome_history", what: "Chrome History", locs: &[loc("AppDomain-com.google.chrome.ios", "Library/Application Support/Google/Chrome/Default/History")], read: read_chrome_history },
    Spec { name: "firefox_history", what: "Firefox browser.db", locs: &[loc("AppDomain-org.mozilla.ios.Firefox", "Library/Application Support/Firefox/browser.db"), loc("AppDomain-org.mozilla.ios.Firefox", "profile.profile/browser.db")], read: read_firefox_history },
    Spec { name: "calls", what: "CallHistory.storedata", locs: &[loc(HOME, "Library/CallHistoryDB/CallHistory.storedata")], read: read_calls },
    Spec { name: "contacts", what: "AddressBook.sqlitedb", locs: &[loc(HOME, "Library/AddressBook/AddressBook.sqlitedb")], read: read_contacts },
    Spec { name: "whatsapp", what: "WhatsApp ChatStorage.sqlite", locs: &[loc(WHATSAPP, "ChatStorage.sqlite")], read: read_whatsapp },
    Spec { name: "whatsapp_contacts", what: "WhatsApp ContactsV2.sqlite", locs: &[loc(WHATSAPP, "ContactsV2.sqlite")], read: read_whatsapp_contacts },
    Spec { name: "datausage", what: "DataUsage.sqlite", locs: &[loc("WirelessDomain", "Library/Databases/DataUsage.sqlite")], read: read_datausage },
    Spec { name: "osanalytics_addaily", what: "com.apple.osanalytics.addaily.plist", locs: &[loc(HOME, "Library/Preferences/com.apple.osanalytics.addaily.plist")], read: read_osanalytics_addaily },
    Spec { name: "tcc", what: "TCC.db", locs: &[loc(HOME, "Library/TCC/TCC.db")], read: read_tcc },
    Spec {
        name: "idstatuscache",
        what: "idstatuscache.plist",
        locs: &[loc(HOME, "Library/Preferences/com.apple.identityservices.idstatuscache.plist"), loc(HOME, "Library/IdentityServices/idstatuscache.plist")],
        read: read_idstatuscache,
    },
    Spec {
        name: "locationd_clients",
        what: "locationd clients.plist",
        locs: &[loc(HOME, "Library/Caches/locationd/clients.plist"), loc("RootDomain", "Library/Caches/locationd/clients.plist")],
        read: read_locationd,
    },
    Spec { name: "interactionc", what: "interactionC.db", locs: &[loc(HOME, "Library/CoreDuet/People/interactionC.db")], read: read_interactionc },
    Spec { name: "shortcuts", what: "Shortcuts.sqlite", locs: &[loc(HOME, "Library/Shortcuts/Shortcuts.sqlite")], read: read_shortcuts },
    Spec { name: "calendar", what: "Calendar.sqlitedb", locs: &[loc(HOME, "Library/Calendar/Calendar.sqlitedb")], read: read_calendar },
    Spec { name: "global_preferences", what: ".GlobalPreferences.plist", locs: &[loc(HOME, "Library/Preferences/.GlobalPreferences.plist")], read: read_global_preferences },
];

fn shared(layout: &Layout) -> Vec<Box<dyn Module>> {
    SPECS
        .iter()
        .map(|s| {
            Box::new(FileReader {
                name: s.name,
                what: s.what,
                locs: s.locs,
                read: s.read,
                layout: layout.clone(),
            }) as Box<dyn Module>
        })
        .collect()
}

/// Modules for an opened backup.
pub(crate) fn for_backup(backup: Arc<Backup>) -> Vec<Box<dyn Module>> {
    let mut v: Vec<Box<dyn Module>> = vec![
        Box::new(BackupInfoModule {
            backup: backup.clone(),
        }),
        Box::new(ManifestModule {
            backup: backup.clone(),
        }),
        Box::new(ApplicationsModule {
            backup: backup.clone(),
        }),
    ];
    v.extend(shared(&Layout::Backup(backup)));
    v
}

/// Modules for a file-system dump.
pub(crate) fn for_filesystem(root: std::path::PathBuf) -> Vec<Box<dyn Module>> {
    let layout = Layout::FileSystem(root.clone());
    let mut v = shared(&layout);
    v.push(Box::new(FileReader {
        name: "applications",
        what: "iTunesMetadata.plist",
        locs: APP_BUNDLES,
        read: read_itunes_metadata,
        layout,
    }));
    v.push(Box::new(
        crate::sysdiagnose::ShutdownLogModule::in_filesystem(root.clone()),
    ));
    v.push(Box::new(FilesystemModule { root }));
    v
}

// ------------------------------------------------------ backup-only modules

struct BackupInfoModule {
    backup: Arc<Backup>,
}

impl Module for BackupInfoModule {
    fn name(&self) -> &'static str {
        "backup_info"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let mut ctx = Ctx::new(self.name(), sink);
        let info = self
            .backup
            .info()
            .map_err(|e| err(self.name(), "Info.plist", e.to_string()))?;
        let mut r = ctx.record("Info.plist", None, "Backup information");
        put(&mut r, "device_name", info.device_name);
        put(&mut r, "product_type", info.product_type);
        put(&mut r, "product_version", info.product_version);
        put(&mut r, "serial_number", info.serial_number);
        put(&mut r, "encrypted", Some(info.encrypted));
        ctx.emit(r);
        Ok(ctx.summary())
    }
}

struct ApplicationsModule {
    backup: Arc<Backup>,
}

impl Module for ApplicationsModule {
    fn name(&self) -> &'static str {
        "applications"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let mut ctx = Ctx::new(self.name(), sink);
        let path = self.backup.root().join("Info.plist");
        let v =
            Value::from_file(&path).map_err(|e| err(self.name(), "Info.plist", e.to_string()))?;
        let d = v.as_dictionary();
        let mut ids: Vec<String> = Vec::new();
        if let Some(a) = d
            .and_then(|d| d.get("Installed Applications"))
            .and_then(Value::as_array)
        {
            ids.extend(a.iter().filter_map(Value::as_string).map(str::to_string));
        }
        if let Some(apps) = d
            .and_then(|d| d.get("Applications"))
            .and_then(Value::as_dictionary)
        {
            ids.extend(apps.keys().cloned());
        }
        ids.sort();
        ids.dedup();
        for id in ids {
            let mut r = ctx.record("Info.plist", None, "Installed application");
            obs(&mut r, K::AppId, &id);
            put(&mut r, "bundle_id", Some(id));
            ctx.emit(r);
        }
        Ok(ctx.summary())
    }
}

struct ManifestModule {
    backup: Arc<Backup>,
}

impl Module for ManifestModule {
    fn name(&self) -> &'static str {
        "manifest"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let mut ctx = Ctx::new(self.name(), sink);
        let mut bad_blobs = 0u64;
        let mut row = 0i64;
        self.backup
            .for_each_entry(&mut |e| {
                row += 1;
                let mut r = ctx.record("Manifest.db", Some("Files"), "Backup file");
                r.provenance.row = Some(row);
                if !e.relative_path.is_empty() {
                    obs(&mut r, K::FilePath, &format!("/{}", e.relative_path));
                    if let Some(name) = e.relative_path.rsplit('/').next() {
                        obs(&mut r, K::FileName, name);
                    }
                    // WebKit and app caches name folders after sites (`https_evil.com_0`).
                    for part in e.relative_path.to_ascii_lowercase().split(['_', '/']) {
                        if looks_like_domain(part) && part.len() > 4 {
                            obs(&mut r, K::Domain, part);
                        }
                    }
                }
                if let Some(blob) = e.blob.as_deref() {
                    match parse_file_blob(blob) {
                        Ok(m) => {
                            r.timestamp = m.modified.and_then(|t| unix_secs_to_micros(t as f64));
                            put(&mut r, "created", m.birth);
                            put(&mut r, "status_changed", m.status_changed);
                            put(&mut r, "size", m.size);
                        }
                        Err(_) => bad_blobs += 1,
                    }
                }
                put(&mut r, "file_id", Some(e.file_id));
                put(&mut r, "domain", Some(e.domain));
                put(&mut r, "relative_path", Some(e.relative_path));
                put(&mut r, "flags", Some(e.flags));
                ctx.emit(r);
            })
            .map_err(|m| err("manifest", "Manifest.db", m))?;
        if bad_blobs > 0 {
            ctx.warn(format!("{bad_blobs} file metadata blobs could not be read"));
        }
        Ok(ctx.summary())
    }
}

/// Lists the whole dump: file paths (checked against path indicators) with their modification times.
struct FilesystemModule {
    root: std::path::PathBuf,
}

impl Module for FilesystemModule {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    fn run(&self, sink: &mut dyn FnMut(Record)) -> Result<ModuleSummary, ModuleError> {
        let mut ctx = Ctx::new(self.name(), sink);
        let mut stack = vec![std::path::PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(self.root.join(&rel)) else {
                ctx.warn(format!("{}: cannot list", rel.display()));
                continue;
            };
            for entry in rd.flatten() {
                let child = rel.join(entry.file_name());
                let Ok(meta) = entry.metadata() else { continue };
                // Symbolic links are listed, never followed.
                if meta.is_dir() && !entry.file_type().map(|t| t.is_symlink()).unwrap_or(true) {
                    stack.push(child.clone());
                }
                let path = format!("/{}", child.to_string_lossy());
                let mut r = ctx.record(&path, None, if meta.is_dir() { "Folder" } else { "File" });
                r.timestamp = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_micros() as i64);
                obs(&mut r, K::FilePath, &path);
                if let Some(name) = child.file_name() {
                    obs(&mut r, K::FileName, &name.to_string_lossy());
                }
                ctx.emit(r);
            }
        }
        Ok(ctx.summary())
    }
}
