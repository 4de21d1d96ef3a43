//! The OpenAPI 3.1 document of every route the hub serves (`/openapi.json`).
//!
//! A test walks [`crate::routes`] — the table [`crate::router`] is built
//! from — and checks that each method and path is described here, so the
//! document cannot fall behind the router.

use axum::Json;
use serde_json::{json, Value};

/// An operation that needs a bearer token or HTTP Basic, with the usual answers.
fn op(summary: &str) -> Value {
    json!({ "summary": summary, "security": [{ "bearer": [] }, { "basic": [] }], "responses": {
        "200": { "description": "OK" },
        "400": { "description": "A bad parameter or body; the error's description names it" },
        "401": { "description": "Authentication required" },
        "403": { "description": "Not allowed for this role" } } })
}

/// An operation anyone may call (no authentication).
fn public(summary: &str) -> Value {
    json!({ "summary": summary, "responses": { "200": { "description": "OK" } } })
}

/// `op` with parameters: `(name, required, description)`; a description
/// ending in `(path)` makes a path parameter.
fn with_params(mut op: Value, params: &[(&str, bool, &str)]) -> Value {
    op["parameters"] = params
        .iter()
        .map(|(name, required, description)| {
            let place = if description.ends_with("(path)") {
                "path"
            } else {
                "query"
            };
            json!({ "name": name, "in": place, "required": *required || place == "path",
                    "description": description, "schema": { "type": "string" } })
        })
        .collect();
    op
}

const CID: (&str, bool, &str) = ("cid", true, "collection id or alias (path)");
const OID: (&str, bool, &str) = ("oid", true, "STIX object id (path)");
const TAXII_FILTERS: [(&str, bool, &str); 7] = [
    ("added_after", false, "RFC 3339 timestamp"),
    ("limit", false, "page size"),
    ("next", false, "the next token of the previous page"),
    ("match[id]", false, "STIX ids, comma-separated"),
    ("match[type]", false, "STIX types, comma-separated"),
    (
        "match[version]",
        false,
        "last (default), first, all or timestamps",
    ),
    ("match[spec_version]", false, "spec versions"),
];

fn taxii_paths() -> Value {
    let filtered = |summary: &str, extra: &[(&str, bool, &str)]| {
        let mut params = vec![CID];
        params.extend_from_slice(extra);
        params.extend_from_slice(&TAXII_FILTERS);
        with_params(op(summary), &params)
    };
    json!({
        "/taxii2/": { "get": op("TAXII 2.1 discovery (application/taxii+json;version=2.1)") },
        "/api/": { "get": op("TAXII 2.1 API root") },
        "/api/status/{id}/": { "get": with_params(op("TAXII status resource of a POST (its requester and admins)"), &[("id", true, "status id (path)")]) },
        "/api/collections/": { "get": op("TAXII collections the caller may read or write") },
        "/api/collections/{cid}/": { "get": with_params(op("One TAXII collection"), &[CID]) },
        "/api/collections/{cid}/manifest/": { "get": filtered("Manifest of the visible objects", &[]) },
        "/api/collections/{cid}/objects/": {
            "get": filtered("Visible objects, paginated (TLP applied)", &[]),
            "post": with_params(op("Add a STIX 2.1 envelope; answers a status resource (pending for large posts)"), &[CID]) },
        "/api/collections/{cid}/objects/{oid}/": {
            "get": filtered("Visible versions of one object", &[OID]),
            "delete": filtered("Delete versions of one object (see the permission table)", &[OID]) },
        "/api/collections/{cid}/objects/{oid}/versions/": { "get": filtered("Version timestamps of one object", &[OID]) },
    })
}

fn rest_paths() -> Value {
    json!({
        "/admin/v1/orgs": { "get": op("List organisations"), "post": op("Create an organisation {name, kind}") },
        "/admin/v1/users": { "get": op("List users"), "post": op("Create a user {name, org_id, role}") },
        "/admin/v1/users/{id}/tokens": { "get": with_params(op("List a user's tokens"), &[("id", true, "user id (path)")]),
            "post": with_params(op("Create a token {label, expires_in_days}; the secret is shown once"), &[("id", true, "user id (path)")]) },
        "/admin/v1/tokens/{id}": { "delete": with_params(op("Revoke a token"), &[("id", true, "token id (path)")]) },
        "/admin/v1/collections": { "post": op("Create a collection {title, alias, description, public, owner_org}") },
        "/admin/v1/collections/{cid}/grants": { "get": with_params(op("List grants"), &[CID]),
            "put": with_params(op("Set a grant {subject:{kind,id}, can_read, can_write}"), &[CID]) },
        "/rest/v1/whoami": { "get": op("The authenticated user") },
        "/rest/v1/stats": { "get": op("Visible object counts per readable collection: objects, versions, and objects by STIX type") },
        "/rest/v1/search": { "get": with_params(op("Search the newest visible version of the objects of the readable collections, best match first (names and aliases weigh most, then values, then other text). Answers {q, total, offset, limit, more, results: [{collection, id, type, name, tlp, object}]}; total counts every visible hit"),
            &[("q", true, "text, 2 to 200 characters, at most 16 terms, all of which must match: a word also matches the start of a longer word (pega finds Pegasus); a \"quoted phrase\" matches its words in order, whole; a word with punctuation (a domain, URL, e-mail address or dotted address) matches its parts in order, whole; letters and digits only count, case ignored (accents too on SQLite). Searched: name, aliases, x_mitre_aliases; pattern, value, x_vigil_value, url, hashes; description, labels, relationship_type, identity_class, country, the *_types lists, roles, sectors, external_references source_name and external_id"),
              ("type", false, "STIX types, comma-separated or repeated"), ("collection", false, "collection id or alias"), ("limit", false, "1-500, default 50"), ("offset", false, "0-100000")]) },
        "/rest/v1/graph/{id}": { "get": with_params(op("Nodes and edges within N relationship hops of an object (a vendor, a product), through visible objects only"),
            &[("id", true, "STIX id (path)"), ("hops", false, "1-4, default 2"), ("collection", false, "collection id or alias")]) },
        "/rest/v1/objects/{id}/provenance": { "get": with_params(op("Where each visible version of an object came from: collection, date added, submitting organisation (and user, for its members and admins) or the hub itself, created_by_ref, external references"),
            &[("id", true, "STIX id (path)")]) },
        "/rest/v1/sightings": { "get": with_params(op("Visible sightings, of one object when `of` is given"),
            &[("of", false, "STIX id of the sighted object"), ("collection", false, "collection id or alias"), ("limit", false, "1-1000, default 100")]) },
        "/rest/v1/export": { "get": with_params(op("Export a collection or query, streamed: stix (bundle), mvt, suricata, suricata-dataset, zeek, rpz, hosts, domains or csv; only what the caller may read"),
            &[("format", true, "export format"), ("collection", false, "collection id or alias (default: every readable collection)"), ("type", false, "STIX types (stix format)"), ("q", false, "text the exported objects (indicators) contain"), ("added_after", false, "RFC 3339 timestamp")]) },
        "/rest/v1/collections/{cid}/import/{kind}": { "post": with_params(op("Import a MISP event (kind misp-event) or galaxy (misp-galaxy) JSON body into a collection you may write; each object and each skipped MISP part is reported"),
            &[CID, ("kind", true, "misp-event or misp-galaxy (path)")]) },
        "/match/{dataset}": { "post": with_params(op("yente-compatible matching: {queries: {key: {schema, properties: {name: [...], country, birthDate, ...}}}} -> {responses: {key: {results: [...]}}}; any authenticated user"),
            &[("dataset", true, "default (the seed list and the registry) (path)"), ("threshold", false, "0-1"), ("limit", false, "1-100, default 5")]) },
        "/rest/v1/screening/screen": { "post": op("Screen one party {name, schema, country, birth_date, id}: hits with listings, explanation and the decisions your organisation took; any authenticated user") },
        "/rest/v1/screening/decisions": { "get": with_params(op("Screening decisions your organisation recorded (admins: all)"), &[("query_key", false, "the screened party's key")]),
            "post": op("Record a decision {party, entity_id, disposition: true-match|false-positive|escalate, reason}; contributors and admins") },
        "/screening": { "get": public("The screening page (HTML)") },
        "/openapi.json": { "get": public("This document") },
        "/healthz": { "get": public("Liveness and database check") },
        "/metrics": { "get": public("Prometheus metrics") },
    })
}

fn oversight_paths() -> Value {
    let auth_id = ("id", true, "authorisation id (path)");
    json!({
        "/oversight/v1/log": { "get": public("The transparency log's origin, verifier key and size") },
        "/oversight/v1/report": { "get": public("The transparency report computed from the log") },
        "/oversight/v1/roles": { "get": op("Who holds which oversight role (admin or auditor)") },
        "/oversight/v1/roles/{user}": { "put": with_params(op("Replace a user's oversight roles {roles} (admin)"), &[("user", true, "user name (path)")]) },
        "/oversight/v1/authorisations": { "get": op("The authorisations the caller may see"),
            "post": op("File an authorisation request (requester)") },
        "/oversight/v1/authorisations/{id}": { "get": with_params(op("One authorisation with its history"), &[auth_id]) },
        "/oversight/v1/authorisations/{id}/{step}": { "post": with_params(op("A workflow step: approve, refuse, revoke, renew, access, review, destroy, notify, defer-notification, complaint or remedy; on the log before it answers"),
            &[auth_id, ("step", true, "the step (path)")]) },
        "/oversight/v1/expire": { "post": op("Record the hard expiry of lapsed authorisations (approver or auditor)") },
        "/oversight/v1/due": { "get": op("Reviews, destructions and notifications due (approver or auditor)") },
        "/log/checkpoint": { "get": public("The log's signed checkpoint (C2SP tlog-tiles; when the log is enabled)") },
        "/log/tile/{rest}": { "get": with_params(public("A tile of the log (C2SP tlog-tiles)"), &[("rest", true, "tile path (path)")]) },
        "/log/witness/add-checkpoint": { "post": public("Cosign a checkpoint (C2SP tlog-witness; when the hub runs a witness)") },
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for part in [taxii_paths(), rest_paths(), oversight_paths()] {
        if let Value::Object(m) = part {
            paths.extend(m);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Vigil hub", "version": env!("CARGO_PKG_VERSION"),
                  "description": "TAXII 2.1 (discovery at /taxii2/), administration, REST extras, screening and oversight." },
        "components": { "securitySchemes": {
            "bearer": { "type": "http", "scheme": "bearer" },
            "basic": { "type": "http", "scheme": "basic", "description": "user name and API token as password" } } },
        "paths": paths,
    })
}

/// GET /openapi.json — the OpenAPI 3.1 description of every route.
pub async fn openapi() -> Json<Value> {
    Json(document())
}
