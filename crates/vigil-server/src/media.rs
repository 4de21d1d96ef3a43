//! Media types and content negotiation.

use axum::http::{header, HeaderMap};

use crate::error::ApiError;

/// The TAXII 2.1 media type.
pub const TAXII_21: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type.
pub const STIX_21: &str = "application/stix+json;version=2.1";

/// One parsed media range of an `Accept` or `Content-Type` header.
#[derive(Debug, PartialEq)]
struct Range {
    kind: String,
    version: Option<String>,
    q_zero: bool,
}

fn parse_range(s: &str) -> Range {
    let mut parts = s.split(';');
    let kind = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let mut version = None;
    let mut q_zero = false;
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"'));
        if k == "version" {
            version = Some(v.to_string());
        } else if k == "q" {
            q_zero = v.parse::<f32>().map(|q| q <= 0.0).unwrap_or(false);
        }
    }
    Range {
        kind,
        version,
        q_zero,
    }
}

fn taxii_compatible(r: &Range) -> bool {
    let type_ok = matches!(
        r.kind.as_str(),
        "application/taxii+json"
            | "application/stix+json"
            | "application/json"
            | "application/*"
            | "*/*"
    );
    let version_ok = match &r.version {
        None => true,
        Some(v) => v == "2.1",
    };
    type_ok && version_ok && !r.q_zero
}

/// Checks that the client accepts a TAXII 2.1 response. A missing header,
/// an unversioned `application/taxii+json`, `application/json` and wildcards
/// are all accepted; only a list with nothing compatible is refused (406).
pub fn check_accept(headers: &HeaderMap) -> Result<(), ApiError> {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    let ranges: Vec<Range> = values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|s| !s.trim().is_empty())
        .map(parse_range)
        .collect();
    if ranges.is_empty() || ranges.iter().any(taxii_compatible) {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable(format!(
            "the Accept header allows none of the media types this endpoint serves ({TAXII_21})"
        )))
    }
}

/// Checks the `Content-Type` of a TAXII POST body (TAXII 2.1 envelope).
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(ApiError::UnsupportedMediaType(format!(
            "a Content-Type header is required: {TAXII_21}"
        )));
    };
    let r = parse_range(ct);
    let ok = matches!(
        r.kind.as_str(),
        "application/taxii+json" | "application/stix+json" | "application/json"
    ) && r.version.as_deref().is_none_or(|v| v == "2.1");
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {ct:?} is not supported; send {TAXII_21}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> Result<(), ApiError> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        check_accept(&h)
    }

    #[test]
    fn negotiation() {
        assert!(accept("application/taxii+json;version=2.1").is_ok());
        assert!(accept("application/taxii+json").is_ok());
        assert!(accept("application/taxii+json; version=\"2.1\"").is_ok());
        assert!(accept("text/html, */*;q=0.8").is_ok());
        assert!(accept("application/json").is_ok());
        assert!(accept("text/html").is_err());
        assert!(accept("application/taxii+json;version=2.0").is_err());
        assert!(accept("application/taxii+json;q=0").is_err());
        assert!(check_accept(&HeaderMap::new()).is_ok());
    }
}
