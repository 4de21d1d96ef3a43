//! Exports of collections and queries to the formats defenders deploy
//! (`vigil-formats`), and imports of MISP events and galaxies.
//!
//! An export reads exactly what a TAXII read by the same caller would return
//! (the store applies TLP), so an AMBER or RED object never reaches a caller
//! who may not read it, whatever the format.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use vigil_formats::{misp, ExportOptions, Format, IndicatorSet};
use vigil_store::{Collection, ObjectQuery, StoredObject};

use crate::auth::{Access, Caller};
use crate::error::{ApiError, ApiResult};
use crate::rest::{read_json, readable, scan, text_matches, Params};
use crate::taxii::{prepare_as_hub, store_objects, StatusBuilder};
use crate::{timestamp, AppState};

/// Objects read from the store per page while exporting.
const EXPORT_PAGE: usize = 1000;
/// Bytes gathered before a chunk of the body is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting to be sent before the exporter waits for the client.
const CHUNKS_IN_FLIGHT: usize = 4;
/// Most distinct values remembered to drop repeats across pages (8 bytes
/// each); past it a value repeated far apart may appear twice.
const MAX_SEEN: usize = 1 << 20;

/// The export format names: `stix` (a bundle of every selected object) and
/// the indicator formats of `vigil-formats`.
pub fn format_names() -> Vec<&'static str> {
    let mut v = vec!["stix"];
    v.extend(Format::NAMES.iter().copied().filter(|n| *n != "stix"));
    v
}

fn extension(format: Option<Format>) -> &'static str {
    match format {
        None | Some(Format::Mvt) => "stix2",
        Some(Format::Csv) => "csv",
        Some(Format::Rpz) => "rpz",
        Some(Format::Zeek) => "intel",
        Some(Format::SuricataRules) => "rules",
        Some(Format::SuricataDataset) => "lst",
        Some(Format::Hosts) => "hosts",
        Some(Format::Domains) => "txt",
    }
}

/// GET /rest/v1/export?format=F[&collection=C][&type=T][&q=TEXT][&added_after=TS]
///
/// `stix` is a STIX 2.1 bundle of the selected objects (newest versions);
/// `mvt`, `suricata`, `suricata-dataset`, `zeek`, `rpz`, `hosts`, `domains`
/// and `csv` export the selected indicators (malware names resolved through
/// the visible `indicates` relationships). Without `collection`, every
/// collection the caller reads is exported.
///
/// The body is streamed: the store is read page by page (keyset
/// pagination, TLP applied by the store to each object) and each page is
/// written out before the next is read, so memory does not grow with the
/// collection. Entries are sorted within each page; repeated values are
/// dropped across pages (up to [`MAX_SEEN`] distinct values).
pub async fn export(
    State(s): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let p = Params::parse(raw.as_deref())?;
    let name = p.one("format")?.ok_or_else(|| {
        ApiError::BadRequest(format!("format: give one of {}", format_names().join(", ")))
    })?;
    let format = match name {
        "stix" | "bundle" => None,
        other => Some(Format::from_name(other).map_err(|_| {
            ApiError::BadRequest(format!(
                "format: unknown format {other:?} (one of {})",
                format_names().join(", ")
            ))
        })?),
    };
    let selection = Selection {
        types: p.all("type"),
        text: p.one("q")?.map(|t| t.trim().to_lowercase()),
        added_after: p.time("added_after")?,
        cols: readable(&s, &caller, p.one("collection")?).await?,
        caller,
    };
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let mut out = Chunks {
            tx,
            buf: Vec::with_capacity(CHUNK * 2),
        };
        let done = match format {
            None => stix_bundle(&s, &selection, &mut out).await,
            Some(f) => indicators(&s, &selection, f, &mut out).await,
        };
        match done {
            Ok(()) => {
                out.send().await;
            }
            Err(e) => {
                // The status line is gone: end the body with an error so the
                // client sees a broken transfer, not a short file.
                tracing::error!(error = %e, "export failed while streaming");
                let _ = out
                    .tx
                    .send(Err(std::io::Error::other("the export failed")))
                    .await;
            }
        }
    });
    let media = format.map_or("application/stix+json;version=2.1", Format::media_type);
    let mut resp = (
        [(header::CONTENT_TYPE, media)],
        Body::from_stream(ChunkStream(rx)),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"vigil-export.{}\"",
        extension(format)
    )) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// What an export selects.
struct Selection {
    types: Vec<String>,
    text: Option<String>,
    added_after: Option<i64>,
    cols: Vec<(Collection, Access)>,
    /// Who exports (TLP:RED objects read for them are logged).
    caller: Caller,
}

impl Selection {
    /// A query of one readable collection for the given types.
    fn query(&self, c: &Collection, a: &Access, types: Vec<String>) -> ObjectQuery {
        let mut q = ObjectQuery::new(&c.id, a.visibility);
        q.added_after = self.added_after;
        q.types = types;
        q.limit = EXPORT_PAGE;
        q
    }
}

/// The body being written: bytes gathered into chunks, sent to the client
/// through a bounded channel (so a slow client slows the export down rather
/// than letting it fill memory).
struct Chunks {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Chunks {
    /// Sends what has been gathered; false when the client went away.
    async fn send(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK * 2),
        ));
        self.tx.send(Ok(chunk)).await.is_ok()
    }

    /// Adds one element to the JSON array being written.
    fn element(&mut self, first: &mut bool, json: &[u8]) {
        if !*first {
            self.buf.push(b',');
        }
        *first = false;
        self.buf.extend_from_slice(json);
    }

    /// Sends a chunk when enough is gathered; an error when the client went away.
    async fn flush(&mut self) -> ApiResult<()> {
        if self.buf.len() >= CHUNK && !self.send().await {
            return Err(ApiError::Internal(
                "the client closed the connection".into(),
            ));
        }
        Ok(())
    }
}

/// The receiving end of [`Chunks`] as a body stream.
struct ChunkStream(mpsc::Receiver<std::io::Result<Bytes>>);

impl futures_core::Stream for ChunkStream {
    type Item = std::io::Result<Bytes>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Reads every page of `q`, calling `each` on the objects of a page; stops
/// after the last page.
async fn pages(
    s: &AppState,
    sel: &Selection,
    mut q: ObjectQuery,
    mut each: impl AsyncPage,
) -> ApiResult<()> {
    loop {
        let page = s.hub.store.query_objects(&q).await?;
        crate::tlog::log_red_reads(s, &sel.caller, &q.collection_id, &page.objects).await?;
        let last = page.objects.last().map(|o| vigil_store::Cursor {
            date_added: o.date_added,
            pk: o.pk,
        });
        let more = page.more;
        each.page(page.objects).await?;
        match last {
            Some(cursor) if more => q.after = Some(cursor),
            _ => return Ok(()),
        }
    }
}

/// Something done with each page of an export scan.
trait AsyncPage {
    /// Handles one page of objects.
    fn page(
        &mut self,
        objects: Vec<StoredObject>,
    ) -> impl std::future::Future<Output = ApiResult<()>> + Send;
}

/// The start of a STIX bundle up to its first object:
/// `{"id":…,"type":"bundle","objects":[`.
fn bundle_head(id: &str) -> Vec<u8> {
    let head = json!({ "type": "bundle", "id": id }).to_string();
    let mut out = head.into_bytes();
    out.pop();
    out.extend_from_slice(b",\"objects\":[");
    out
}

/// The selected objects as one STIX 2.1 bundle, written object by object.
async fn stix_bundle(s: &AppState, sel: &Selection, out: &mut Chunks) -> ApiResult<()> {
    out.buf
        .extend_from_slice(&bundle_head(&format!("bundle--{}", uuid::Uuid::new_v4())));
    struct Writer<'a> {
        out: &'a mut Chunks,
        text: Option<&'a str>,
        first: bool,
    }
    impl AsyncPage for Writer<'_> {
        async fn page(&mut self, objects: Vec<StoredObject>) -> ApiResult<()> {
            for o in objects {
                let Some(body) = o.body else { continue };
                if let Some(t) = self.text {
                    let v: Value = match serde_json::from_str(&body) {
                        Ok(v) => v,
                        Err(_) => continue,
                    };
                    if !text_matches(&v, t) {
                        continue;
                    }
                }
                self.out.element(&mut self.first, body.trim().as_bytes());
            }
            self.out.flush().await
        }
    }
    let mut w = Writer {
        out,
        text: sel.text.as_deref(),
        first: true,
    };
    for (c, a) in &sel.cols {
        pages(s, sel, sel.query(c, a, sel.types.clone()), &mut w).await?;
    }
    out.buf.extend_from_slice(b"]}\n");
    Ok(())
}

impl<T: AsyncPage + Send> AsyncPage for &mut T {
    async fn page(&mut self, objects: Vec<StoredObject>) -> ApiResult<()> {
        (**self).page(objects).await
    }
}

fn hash_of(v: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// What the indicator formats need to name the malware each indicator
/// detects: the visible malware and `indicates` relationships, read before
/// the indicators. Indicator ids are kept as 64-bit hashes.
#[derive(Default)]
struct Names {
    /// Malware id → (name, object JSON).
    malware: HashMap<String, (String, String)>,
    /// Hash of an indicator id → indices into `names`.
    indicates: HashMap<u64, Vec<u32>>,
    /// Distinct malware names.
    names: Vec<String>,
}

impl Names {
    async fn read(s: &AppState, sel: &Selection) -> ApiResult<Names> {
        let mut n = Names::default();
        for (c, a) in &sel.cols {
            scan(s, sel.query(c, a, vec!["malware".into()]), |o, v| {
                if let (Some(v), Some(body)) = (v, &o.body) {
                    if let Some(name) = v["name"].as_str() {
                        n.malware
                            .entry(o.id.clone())
                            .or_insert_with(|| (name.to_string(), body.clone()));
                    }
                }
                true
            })
            .await?;
        }
        for (c, a) in &sel.cols {
            scan(s, sel.query(c, a, vec!["relationship".into()]), |_, v| {
                let Some(v) = v else { return true };
                if v["relationship_type"] != "indicates" {
                    return true;
                }
                let (Some(src), Some(dst)) = (v["source_ref"].as_str(), v["target_ref"].as_str())
                else {
                    return true;
                };
                if let Some((name, _)) = n.malware.get(dst) {
                    let i = match n.names.iter().position(|x| x == name) {
                        Some(i) => i,
                        None => {
                            n.names.push(name.clone());
                            n.names.len() - 1
                        }
                    } as u32;
                    let list = n.indicates.entry(hash_of(&src)).or_default();
                    if !list.contains(&i) {
                        list.push(i);
                    }
                }
                true
            })
            .await?;
        }
        Ok(n)
    }

    /// The sorted malware names an indicator indicates.
    fn of(&self, indicator_id: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .indicates
            .get(&hash_of(&indicator_id))
            .into_iter()
            .flatten()
            .filter_map(|i| self.names.get(*i as usize).cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The selected indicators in an indicator format, page by page: each page
/// is lowered to entries and written with the format's writer, its header
/// (the writer's output for no entries) written once at the start.
async fn indicators(s: &AppState, sel: &Selection, f: Format, out: &mut Chunks) -> ApiResult<()> {
    let names = Names::read(s, sel).await?;
    let stamp = timestamp::format(timestamp::now());
    let day: String = stamp.chars().filter(char::is_ascii_digit).take(8).collect();
    let options = ExportOptions {
        rpz_serial: format!("{day}01").parse().unwrap_or(1),
        bundle_id: format!("bundle--{}", uuid::Uuid::new_v4()),
        zeek_source: "vigil hub".into(),
        ..ExportOptions::default()
    };
    let mut header = Vec::new();
    if f == Format::Mvt {
        header = bundle_head(&options.bundle_id);
    } else {
        vigil_formats::export(&IndicatorSet::default(), f, &options, &mut header)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    out.buf.extend_from_slice(&header);
    let mut w = IndicatorWriter {
        out,
        names: &names,
        text: sel.text.as_deref(),
        format: f,
        options,
        header,
        seen: HashSet::new(),
        used_malware: BTreeSet::new(),
        first: true,
        skipped: 0,
    };
    for (c, a) in &sel.cols {
        pages(s, sel, sel.query(c, a, vec!["indicator".into()]), &mut w).await?;
    }
    let (skipped, used_malware, mut first) = (w.skipped, w.used_malware, w.first);
    if f == Format::Mvt {
        // The malware the exported indicators name, and the relationships
        // that say so.
        for id in &used_malware {
            if let Some((_, body)) = names.malware.get(id) {
                out.element(&mut first, body.trim().as_bytes());
            }
        }
        struct Rels<'a> {
            out: &'a mut Chunks,
            used: &'a BTreeSet<String>,
            first: bool,
        }
        impl AsyncPage for Rels<'_> {
            async fn page(&mut self, objects: Vec<StoredObject>) -> ApiResult<()> {
                for o in objects {
                    let Some(body) = o.body else { continue };
                    let Ok(v) = serde_json::from_str::<Value>(&body) else {
                        continue;
                    };
                    let target = v["target_ref"].as_str().unwrap_or("");
                    if v["relationship_type"] == "indicates" && self.used.contains(target) {
                        self.out.element(&mut self.first, body.trim().as_bytes());
                    }
                }
                self.out.flush().await
            }
        }
        let mut r = Rels {
            out,
            used: &used_malware,
            first,
        };
        for (c, a) in &sel.cols {
            pages(s, sel, sel.query(c, a, vec!["relationship".into()]), &mut r).await?;
        }
        out.buf.extend_from_slice(b"]}\n");
    }
    tracing::info!(format = f.name(), skipped, "export streamed");
    Ok(())
}

/// Lowers and writes one page of indicators at a time.
struct IndicatorWriter<'a> {
    out: &'a mut Chunks,
    names: &'a Names,
    text: Option<&'a str>,
    format: Format,
    options: ExportOptions,
    /// The format's header, written once; each page's output starts with it.
    header: Vec<u8>,
    /// Hashes of the (kind, value) pairs written, to drop repeats.
    seen: HashSet<u64>,
    /// Malware named by an exported indicator (MVT).
    used_malware: BTreeSet<String>,
    /// No object written yet (MVT).
    first: bool,
    /// Indicators that could not be exported.
    skipped: usize,
}

impl AsyncPage for IndicatorWriter<'_> {
    async fn page(&mut self, objects: Vec<StoredObject>) -> ApiResult<()> {
        let values: Vec<Value> = objects
            .iter()
            .filter_map(|o| o.body.as_deref())
            .filter_map(|b| serde_json::from_str::<Value>(b).ok())
            .filter(|v| self.text.is_none_or(|t| text_matches(v, t)))
            .collect();
        let mut set = IndicatorSet::from_objects(&values);
        self.skipped += set.skipped.len();
        for e in &mut set.entries {
            e.malware = self.names.of(&e.indicator_id);
        }
        if self.format == Format::Mvt {
            let exported: HashSet<&str> = set
                .entries
                .iter()
                .map(|e| e.indicator_id.as_str())
                .collect();
            for v in &values {
                let Some(id) = v["id"].as_str() else { continue };
                if !exported.contains(id) {
                    continue;
                }
                let json = serde_json::to_vec(v).map_err(|e| ApiError::Internal(e.to_string()))?;
                self.out.element(&mut self.first, &json);
                let named = self.names.of(id);
                for (mid, (name, _)) in &self.names.malware {
                    if named.contains(name) {
                        self.used_malware.insert(mid.clone());
                    }
                }
            }
            return self.out.flush().await;
        }
        // CSV has one row per indicator and value; the other formats one
        // line (or rule) per value.
        if self.format != Format::Csv {
            let seen = &mut self.seen;
            set.entries.retain(|e| {
                let h = hash_of(&(e.kind.as_str(), &e.value));
                if seen.contains(&h) {
                    return false;
                }
                if seen.len() < MAX_SEEN {
                    seen.insert(h);
                }
                true
            });
        }
        if set.entries.is_empty() {
            return Ok(());
        }
        let mut text = Vec::new();
        vigil_formats::export(&set, self.format, &self.options, &mut text)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let body = text.strip_prefix(self.header.as_slice()).unwrap_or(&text);
        if self.format == Format::SuricataRules {
            // Signature ids go on from where this page's rules stopped.
            let rules = body
                .split(|b| *b == b'\n')
                .filter(|l| l.starts_with(b"alert "))
                .count();
            self.options.suricata_first_sid += rules as u64;
        }
        self.out.buf.extend_from_slice(body);
        self.out.flush().await
    }
}

/// POST /rest/v1/collections/{cid}/import/{kind} — imports a MISP event
/// (`misp-event`) or galaxy (`misp-galaxy`) JSON document into a collection
/// the caller may write to. Every STIX object made is validated and stored
/// like a TAXII POST; the answer reports each object, and each MISP part
/// that was not imported with its JSON pointer and reason.
pub async fn import(
    State(s): State<AppState>,
    caller: Caller,
    Path((cid, kind)): Path<(String, String)>,
    body: Body,
) -> ApiResult<Response> {
    let user = caller.require_user()?.clone();
    let (c, a) = s.hub.collection_for(&caller, &cid).await?;
    if !a.write {
        return Err(ApiError::Forbidden(
            "you may not write to this collection".into(),
        ));
    }
    let doc: Value = read_json(body, s.hub.config.max_content_length).await?;
    let imported = match kind.as_str() {
        "misp-event" => misp::import_event(&doc),
        "misp-galaxy" => misp::import_galaxy(&doc, &timestamp::format(timestamp::now())),
        other => {
            return Err(ApiError::NotFound(format!(
                "import kind {other:?}: use misp-event or misp-galaxy"
            )))
        }
    }
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut st = StatusBuilder::default();
    let mut prepared = prepare_as_hub(&s.hub, &imported.objects, &mut st);
    for o in &mut prepared {
        o.org_id = user.org_id;
        o.user_id = Some(user.id);
    }
    store_objects(&s.hub, &c.id, prepared, &mut st).await?;
    let skipped: Vec<Value> = imported
        .skipped
        .iter()
        .map(|(place, reason)| json!({ "place": place, "reason": reason }))
        .collect();
    tracing::info!(collection = %c.id, user = user.id, stored = st.successes.len(), "MISP import");
    Ok(Json(json!({
        "collection": c.id,
        "total_count": st.successes.len() + st.failures.len(),
        "success_count": st.successes.len(),
        "successes": st.successes,
        "failure_count": st.failures.len(),
        "failures": st.failures,
        "skipped_count": skipped.len(),
        "skipped": skipped,
    }))
    .into_response())
}
