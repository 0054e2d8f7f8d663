//! The HTTP side: one handler that applies faults, then dispatches to OAuth, the API or
//! the index.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, header};
use axum::response::Response;
use serde_json::json;

use crate::faults::Outcome;
use crate::inner::Inner;
use crate::request::BODY_LIMIT;
use crate::respond::{
    add_rate_headers, fault, html_page, json_response, reason, resource_not_found,
};
use crate::{api, oauth};

/// The one handler of every request.
pub(crate) async fn handle(
    axum::extract::State(inner): axum::extract::State<Arc<Inner>>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let action = inner.faults.take(method.as_str(), &path);
    let mut truncate_body = false;
    let delay_answer = action.as_ref().and_then(|a| a.delay_answer);
    if let Some(action) = action {
        if let Some(delay) = action.delay {
            tokio::time::sleep(delay).await;
        }
        match action.outcome {
            Outcome::Status(status) => {
                let mut r = fault(status, reason(status), &[]);
                if status == 429 {
                    r = fault(
                        429,
                        "Rate Limit Exceeded",
                        &[("Application", "rate limit", "exceeded")],
                    );
                    let l = inner.config.limits;
                    add_rate_headers(
                        r.headers_mut(),
                        inner.clock.now(),
                        l,
                        (l.short, l.daily, l.read_short, l.read_daily),
                    );
                }
                return r;
            }
            Outcome::Html(status) => return html_page(status),
            Outcome::Truncate => truncate_body = true,
            Outcome::Pass => {}
        }
    }
    let (req, refreshing) = refreshing_athlete(&inner, &method, &path, req).await;
    // OAuth is served under the API base too: Strava's description gives
    // `https://www.strava.com/api/v3/oauth/token` as its token URL, and clients call it.
    let oauth_rest = path
        .strip_prefix("/oauth/")
        .or_else(|| path.strip_prefix("/api/v3/oauth/"));
    let response = if let Some(rest) = oauth_rest {
        oauth::handle(&inner, &method, rest, req).await
    } else if let Some(rest) = path.strip_prefix("/api/v3") {
        // Counted in the window the request arrived in, as the rate limits count it.
        let arrived = inner.clock.now();
        let response = api::handle(&inner, rest, req).await;
        inner.stats.api_answer(response.status().as_u16(), arrived);
        response
    } else if path == crate::stats::STATS_PATH && method == Method::GET {
        let stats = inner.stats.snapshot(inner.config.limits.short);
        json_response(200, &serde_json::to_value(stats).unwrap_or_default())
    } else if path == "/" && method == Method::GET {
        json_response(
            200,
            &json!({
                "name": "stravalib sandbox",
                "api": "/api/v3",
                "oauth": "/oauth",
                "client_id": inner.config.client_id,
            }),
        )
    } else {
        resource_not_found()
    };
    if let Some(athlete_id) = refreshing
        && response.status().is_success()
    {
        inner.stats.refreshed(athlete_id);
    }
    if let Some(late) = delay_answer {
        tokio::time::sleep(late).await;
    }
    if truncate_body {
        truncate(response).await
    } else {
        response
    }
}

/// Cuts the body of `response` in half (a connection dropped mid-answer).
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let cut = bytes.len() / 2;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..cut)))
}

/// For `POST /oauth/token` with a refresh grant: the athlete whose refresh token it is
/// (the body is read here and put back for the OAuth handler).
pub(crate) async fn refreshing_athlete(
    inner: &Inner,
    method: &Method,
    path: &str,
    req: Request,
) -> (Request, Option<u64>) {
    if *method != Method::POST || !matches!(path, "/oauth/token" | "/api/v3/oauth/token") {
        return (req, None);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::request::BODY_LIMIT).await else {
        return (Request::from_parts(parts, Body::empty()), None);
    };
    let mut grant_type = None;
    let mut token = None;
    for (k, v) in url::form_urlencoded::parse(&bytes) {
        match &*k {
            "grant_type" => grant_type = Some(v.into_owned()),
            "refresh_token" => token = Some(v.into_owned()),
            _ => {}
        }
    }
    // A JSON body or query parameters are not looked at: the client sends a form.
    let athlete = match (grant_type.as_deref(), token) {
        (Some("refresh_token"), Some(token)) => {
            let state = inner.lock();
            state
                .refresh
                .get(&token)
                .and_then(|grant| state.grants.get(grant))
                .and_then(|grant| inner.world.athletes.get(grant.athlete))
                .map(|a| a.id)
        }
        _ => None,
    };
    (Request::from_parts(parts, Body::from(bytes)), athlete)
}
