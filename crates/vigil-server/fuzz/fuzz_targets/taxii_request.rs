//! Feeds arbitrary TAXII requests through the hub's request checks: the
//! first line is the query string, the second the `Accept` header, the third
//! the `Content-Type` header, the rest the POST body. Nothing may panic, and
//! every refusal must render as a TAXII error response.
#![no_main]

use axum::response::IntoResponse as _;
use libfuzzer_sys::fuzz_target;
use vigil_server::taxii::parse_request;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == b'\n');
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let accept = parts.next().unwrap_or_default();
    let content_type = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    if let Err(e) = parse_request(&query, accept, content_type, body) {
        let response = e.into_response();
        assert!(
            response.status().is_client_error(),
            "{:?}",
            response.status()
        );
    }
});
