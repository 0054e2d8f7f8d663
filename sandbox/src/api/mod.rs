//! `/api/v3/...`: authentication, rate limits, and dispatch to the handlers of each area
//! of the API.
// Handlers return `Result<_, Response>`: the error is the HTTP answer to send, and it is
// not worth boxing on this path.
#![allow(clippy::result_large_err)]

mod activities;
mod athletes;
mod clubs;
mod ctx;
mod routes;
mod segments;
mod uploads;
mod webhooks;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use stravalib::auth::Scope;

use self::ctx::{Ctx, Reply};
use crate::inner::Inner;
use crate::processing;
use crate::request::{hex_key, query_map};
use crate::respond::{add_rate_headers, fault, resource_not_found, unauthorized};

fn usage(inner: &Inner, now: DateTime<Utc>) -> (u32, u32, u32, u32) {
    let mut state = inner.lock();
    state.rate.roll(now);
    let r = &state.rate;
    (r.short, r.daily, r.read_short, r.read_daily)
}

fn with_usage(inner: &Inner, mut r: Response) -> Response {
    let now = inner.clock.now();
    add_rate_headers(r.headers_mut(), now, inner.config.limits, usage(inner, now));
    r
}

/// Counts the request, or answers 429 when a window it counts against is used up.
fn rate_limit(inner: &Inner, method: &Method) -> Result<(), Response> {
    let now = inner.clock.now();
    let l = inner.config.limits;
    let read = method == Method::GET;
    let mut state = inner.lock();
    let r = &mut state.rate;
    r.roll(now);
    let exceeded = r.short >= l.short
        || r.daily >= l.daily
        || (read && (r.read_short >= l.read_short || r.read_daily >= l.read_daily));
    if exceeded {
        let mut resp = fault(
            429,
            "Rate Limit Exceeded",
            &[("Application", "rate limit", "exceeded")],
        );
        add_rate_headers(
            resp.headers_mut(),
            now,
            l,
            (r.short, r.daily, r.read_short, r.read_daily),
        );
        return Err(resp);
    }
    r.short += 1;
    r.daily += 1;
    if read {
        r.read_short += 1;
        r.read_daily += 1;
    }
    Ok(())
}

/// The athlete and scopes of the bearer token.
fn authenticate(
    inner: &Inner,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<(usize, Vec<Scope>), Response> {
    // Tokens travel in the Authorization header only.
    if query.contains_key("access_token") {
        return Err(unauthorized("Athlete", "access_token", "invalid"));
    }
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized("Application", "", "invalid"));
    };
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(unauthorized("Athlete", "access_token", "invalid")),
    };
    let now = inner.now();
    let state = inner.lock();
    let grant = state
        .access
        .get(hex_key(token).as_ref())
        .filter(|t| t.expires_at > now)
        .and_then(|t| state.grants.get(&t.grant))
        .filter(|g| !g.revoked)
        .ok_or_else(|| unauthorized("Athlete", "access_token", "invalid"))?;
    Ok((grant.athlete, grant.scopes.clone()))
}

/// Answers every request under `/api/v3` (`rest` is the path after it).
pub(crate) async fn handle(inner: &Arc<Inner>, rest: &str, req: Request) -> Response {
    let method = req.method().clone();
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    {
        let mut state = inner.lock();
        processing::settle(inner, &mut state);
    }
    if segs.first().map(String::as_str) == Some("push_subscriptions") {
        let r = webhooks::dispatch(inner, &method, &segs, req)
            .await
            .unwrap_or_else(|e| e);
        return with_usage(inner, r);
    }
    let query = query_map(req.uri().query());
    let (athlete, scopes) = match authenticate(inner, req.headers(), &query) {
        Ok(a) => a,
        Err(r) => return with_usage(inner, r),
    };
    if let Err(r) = rate_limit(inner, &method) {
        return r;
    }
    let ctx = Ctx {
        inner,
        athlete,
        scopes,
        query,
    };
    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();
    let r = dispatch(&ctx, &method, &seg, req)
        .await
        .unwrap_or_else(|e| e);
    with_usage(inner, r)
}

/// Routes an authenticated, counted request to the handlers of its area.
async fn dispatch(ctx: &Ctx<'_>, method: &Method, seg: &[&str], req: Request) -> Reply {
    match seg.first().copied() {
        Some("athlete" | "athletes" | "gear") => athletes::dispatch(ctx, method, seg, req).await,
        Some("activities") => activities::dispatch(ctx, method, seg, req).await,
        Some("clubs") => clubs::dispatch(ctx, method, seg),
        Some("routes") => routes::dispatch(ctx, method, seg),
        Some("segments" | "segment_efforts") => segments::dispatch(ctx, method, seg, req).await,
        Some("uploads") => uploads::dispatch(ctx, method, seg, req).await,
        _ => Err(resource_not_found()),
    }
}
