//! Answers every handler shares: JSON, Strava's fault bodies, other content types, HTML
//! error pages, rate-limit headers.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use stravalib::rate_limit::RateLimitStatus;

use crate::inner::Limits;

/// A JSON answer.
pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    let bytes = crate::json::to_vec(body);
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(bytes))
        .unwrap_or_default()
}

/// A JSON answer serialized before (a cached rendering).
pub(crate) fn json_bytes(status: u16, body: axum::body::Bytes) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// Strava's fault body: `{"message": .., "errors": [{"resource", "field", "code"}]}`.
pub(crate) fn fault(status: u16, message: &str, errors: &[(&str, &str, &str)]) -> Response {
    let errors: Vec<Value> = errors
        .iter()
        .map(|(resource, field, code)| json!({"resource": resource, "field": field, "code": code}))
        .collect();
    json_response(status, &json!({"message": message, "errors": errors}))
}

/// 404 for an unknown id of `resource`.
pub(crate) fn record_not_found(resource: &str) -> Response {
    fault(404, "Record Not Found", &[(resource, "id", "not found")])
}

/// 404 for a path the API does not have (or no longer has).
pub(crate) fn resource_not_found() -> Response {
    fault(
        404,
        "Resource Not Found",
        &[("resource", "path", "invalid")],
    )
}

/// 400 naming the bad field.
pub(crate) fn bad_request(resource: &str, field: &str, code: &str) -> Response {
    fault(400, "Bad Request", &[(resource, field, code)])
}

/// 401 naming what is wrong.
pub(crate) fn unauthorized(resource: &str, field: &str, code: &str) -> Response {
    fault(401, "Authorization Error", &[(resource, field, code)])
}

/// A body in another content type.
pub(crate) fn bytes_response(status: u16, content_type: &str, body: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap_or_default()
}

/// The reason phrase of `status` ("Service Unavailable"), `Error` when it has none.
pub(crate) fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The HTML error page a load balancer answers with.
pub(crate) fn html_page(status: u16) -> Response {
    let text = reason(status);
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head><title>{status} {text}</title></head>\n<body>\n<center><h1>{status} {text}</h1></center>\n<hr><center>sandbox-proxy</center>\n</body>\n</html>\n"
    );
    bytes_response(status, "text/html; charset=utf-8", body.into_bytes())
}

/// Adds the four rate-limit headers, written by stravalib: `usage` counts the overall
/// 15-minute and daily windows, then the read ones, as observed at `observed_at`.
pub(crate) fn add_rate_headers(
    headers: &mut HeaderMap,
    observed_at: DateTime<Utc>,
    limits: Limits,
    usage: (u32, u32, u32, u32),
) {
    RateLimitStatus::new(
        observed_at,
        (limits.short, limits.daily),
        (usage.0, usage.1),
        (limits.read_short, limits.read_daily),
        (usage.2, usage.3),
    )
    .write_headers(headers);
}
