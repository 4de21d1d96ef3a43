//! The one error type of the server: every failure becomes a TAXII error
//! message (`application/taxii+json;version=2.1`), never HTML, never a
//! stack trace, never a database message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::media::TAXII_21;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (the message says which parameter).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials where they are required.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource, or not visible to the caller.
    #[error("{0}")]
    NotFound(String),
    /// 406: no acceptable media type.
    #[error("{0}")]
    NotAcceptable(String),
    /// 409: the resource already exists.
    #[error("{0}")]
    Conflict(String),
    /// 413: the request body is larger than the API root allows.
    #[error("{0}")]
    TooLarge(String),
    /// 415: the request body's media type is not supported.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but semantically wrong (e.g. unknown organisation).
    #[error("{0}")]
    Unprocessable(String),
    /// 429: too many requests for this token.
    #[error("{0}")]
    TooManyRequests(String),
    /// 500: the hub failed; the details go to the log, not to the client.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The `WWW-Authenticate` challenge sent with every 401.
pub const CHALLENGE: &str = "Bearer realm=\"vigil\", Basic realm=\"vigil\"";

/// Builds a TAXII error response.
pub fn taxii_error(status: StatusCode, description: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = json!({
        "title": title,
        "description": description,
        "http_status": status.as_u16().to_string(),
    });
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_21));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        );
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed");
        }
        taxii_error(self.status(), &self.to_string())
    }
}

impl From<vigil_store::StoreError> for ApiError {
    fn from(e: vigil_store::StoreError) -> Self {
        match e {
            vigil_store::StoreError::Conflict { .. } => ApiError::Conflict(e.to_string()),
            vigil_store::StoreError::NotFound { .. } => ApiError::Unprocessable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
