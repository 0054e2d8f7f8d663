//! Reading requests: query parameters, bodies (form, JSON, multipart), and the values
//! Strava's forms send.
// Readers return `Result<_, Response>`: the error is the HTTP answer to send, and it is
// not worth boxing on this path.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::Response;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;

use crate::respond::bad_request;

/// Largest request body read, in bytes.
pub(crate) const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Query parameters (the last value of a repeated name wins).
pub(crate) fn query_map(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Every parameter of a request: query, then the body (form, JSON object or multipart
/// text fields), later ones winning.
pub(crate) async fn params(req: Request) -> Result<HashMap<String, String>, Response> {
    let mut map = query_map(req.uri().query());
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, &())
            .await
            .map_err(|_| bad_request("Application", "body", "invalid"))?;
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            if let Ok(text) = field.text().await {
                map.insert(name, text);
            }
        }
        return Ok(map);
    }
    let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| bad_request("Application", "body", "invalid"))?;
    if bytes.is_empty() {
        return Ok(map);
    }
    // JSON when it says so, or when an undeclared body is a JSON object (some clients
    // send JSON without a content type); a form otherwise.
    let json = content_type.starts_with("application/json")
        || content_type.ends_with("+json")
        || (!content_type.starts_with("application/x-www-form-urlencoded")
            && bytes.trim_ascii_start().starts_with(b"{"));
    if json {
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| bad_request("Application", "body", "invalid"))?;
        let Value::Object(object) = value else {
            return Err(bad_request("Application", "body", "invalid"));
        };
        for (k, v) in object {
            match v {
                Value::Null => {}
                Value::String(s) => {
                    map.insert(k, s);
                }
                other => {
                    map.insert(k, other.to_string());
                }
            }
        }
    } else {
        for (k, v) in url::form_urlencoded::parse(&bytes) {
            map.insert(k.into_owned(), v.into_owned());
        }
    }
    Ok(map)
}

/// A token, code or other hex id as the sandbox stores it: Strava's are lower-case hex
/// and it accepts them in upper case too, so hex is compared without case.
pub(crate) fn hex_key(value: &str) -> std::borrow::Cow<'_, str> {
    let value = value.trim();
    if value.bytes().any(|b| b.is_ascii_uppercase()) && value.bytes().all(|b| b.is_ascii_hexdigit())
    {
        std::borrow::Cow::Owned(value.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// Parses a boolean parameter the way Strava's forms send them: `true`/`false` in any
/// case (`True`, as Python's `str(True)` writes it), `1`/`0`, `yes`/`no`, `on`/`off`.
pub(crate) fn truthy(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// A local date-time as Strava accepts it (`2026-03-01T09:30:00Z`, with an offset, with
/// a space before the offset, or without a zone): the wall-clock part.
pub(crate) fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.naive_local());
    }
    // Ruby's `Time#to_s` (`2025-10-18 19:04:26 -0400`) and other offsets after a space.
    for f in [
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = chrono::DateTime::parse_from_str(t, f) {
            return Some(dt.naive_local());
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Some(dt);
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}
