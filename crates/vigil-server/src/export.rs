//! Exports of collections and queries to the formats defenders deploy
//! (`vigil-formats`), and imports of MISP events and galaxies.
//!
//! An export reads exactly what a TAXII read by the same caller would return
//! (the store applies TLP), so an AMBER or RED object never reaches a caller
//! who may not read it, whatever the format.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use vigil_formats::{misp, ExportOptions, Format, IndicatorSet};
use vigil_store::ObjectQuery;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::rest::{read_json, readable, scan, text_matches, Params};
use crate::taxii::{prepare_as_hub, store_objects, StatusBuilder};
use crate::{timestamp, AppState};

/// Most objects one export may hold.
const MAX_EXPORT: usize = 500_000;

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
    let types = p.all("type");
    let text = p.one("q")?.map(|t| t.trim().to_lowercase());
    let added_after = p.time("added_after")?;
    let cols = readable(&s, &caller, p.one("collection")?).await?;
    let mut objects: Vec<Value> = Vec::new();
    let mut too_many = false;
    for (c, a) in &cols {
        let mut q = ObjectQuery::new(&c.id, a.visibility);
        q.added_after = added_after;
        // Indicator formats also need the malware and relationships that
        // name what each indicator detects, so `type` and `q` select among
        // the indicators only.
        if format.is_none() {
            q.types = types.clone();
        }
        scan(&s, q, |_, v| {
            let Some(v) = v else { return true };
            let is_indicator = v["type"] == "indicator";
            let selected = match &text {
                Some(t) if format.is_none() || is_indicator => text_matches(&v, t),
                _ => true,
            };
            if selected {
                if objects.len() >= MAX_EXPORT {
                    too_many = true;
                    return false;
                }
                objects.push(v);
            }
            true
        })
        .await?;
    }
    if too_many {
        return Err(ApiError::Unprocessable(format!(
            "the export would hold more than {MAX_EXPORT} objects; narrow it with collection, type, q or added_after"
        )));
    }
    let mut out = Vec::new();
    let mut skipped = 0usize;
    let bundle_id = format!("bundle--{}", uuid::Uuid::new_v4());
    match format {
        None => {
            let bundle = json!({ "type": "bundle", "id": bundle_id, "objects": objects });
            serde_json::to_writer(&mut out, &bundle)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            out.push(b'\n');
        }
        Some(f) => {
            let set = IndicatorSet::from_objects(&objects);
            skipped = set.skipped.len();
            let stamp = timestamp::format(timestamp::now());
            let day: String = stamp.chars().filter(char::is_ascii_digit).take(8).collect();
            let options = ExportOptions {
                rpz_serial: format!("{day}01").parse().unwrap_or(1),
                bundle_id,
                zeek_source: "vigil hub".into(),
                ..ExportOptions::default()
            };
            vigil_formats::export(&set, f, &options, &mut out)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        }
    }
    let media = format.map_or("application/stix+json;version=2.1", Format::media_type);
    let mut resp = ([(header::CONTENT_TYPE, media)], out).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"vigil-export.{}\"",
        extension(format)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-vigil-skipped-indicators", HeaderValue::from(skipped));
    Ok(resp)
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
