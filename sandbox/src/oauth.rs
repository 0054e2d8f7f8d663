//! `/oauth/authorize`, `/oauth/token`, `/oauth/revoke`, `/oauth/deauthorize`.
// Handlers return `Result<_, Response>`: the error is the HTTP answer to send, and it is
// not worth boxing on this path.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, header};
use axum::response::Response;
use base64::Engine;
use serde_json::json;

use stravalib::auth::Scope;

use crate::inner::Inner;
use crate::render;
use crate::request::{hex_key, params, query_map};
use crate::respond::{bad_request, json_response, resource_not_found, unauthorized};
use crate::state::Code;

/// How long an authorization code can be exchanged, in seconds.
const CODE_LIFETIME: i64 = 600;

pub(crate) async fn handle(
    inner: &Arc<Inner>,
    method: &Method,
    rest: &str,
    req: Request,
) -> Response {
    match (method.as_str(), rest.trim_end_matches('/')) {
        ("GET", "authorize") => authorize(inner, &req),
        ("POST", "token") => match params(req).await {
            Ok(p) => token(inner, &p),
            Err(r) => r,
        },
        ("POST", "revoke") => {
            let basic = basic_credentials(&req);
            match params(req).await {
                Ok(p) => revoke(inner, basic, &p),
                Err(r) => r,
            }
        }
        ("POST", "deauthorize") => {
            let query = query_map(req.uri().query());
            let bearer = bearer(&req);
            deauthorize(inner, bearer, query.contains_key("access_token"))
        }
        _ => resource_not_found(),
    }
}

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn check_client(inner: &Inner, id: Option<&str>, secret: Option<&str>) -> Result<(), Response> {
    let id_ok = id.and_then(|i| i.trim().parse::<u64>().ok()) == Some(inner.config.client_id);
    if !id_ok {
        return Err(bad_request("Application", "client_id", "invalid"));
    }
    let expected = inner.config.client_secret.as_bytes();
    let given = secret.unwrap_or("").as_bytes();
    let secret_ok =
        expected.len() == given.len() && bool::from(subtle::ConstantTimeEq::ct_eq(expected, given));
    if secret_ok {
        Ok(())
    } else {
        Err(bad_request("Application", "client_secret", "invalid"))
    }
}

/// Is `redirect_uri` on the app's callback domain (or localhost)?
fn redirect_allowed(inner: &Inner, redirect_uri: &str) -> Option<url::Url> {
    let url = url::Url::parse(redirect_uri).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let domain = inner.config.callback_domain.to_ascii_lowercase();
    let ok = host == "localhost"
        || host == "127.0.0.1"
        || host == "[::1]"
        || host == domain
        || host.ends_with(&format!(".{domain}"));
    ok.then_some(url)
}

fn authorize(inner: &Inner, req: &Request) -> Response {
    let q = query_map(req.uri().query());
    let client_ok = q
        .get("client_id")
        .and_then(|i| i.trim().parse::<u64>().ok())
        == Some(inner.config.client_id);
    if !client_ok {
        return bad_request("Application", "client_id", "invalid");
    }
    let Some(mut redirect) = q
        .get("redirect_uri")
        .and_then(|r| redirect_allowed(inner, r))
    else {
        return bad_request("Application", "redirect_uri", "invalid");
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return bad_request("Application", "response_type", "invalid");
    }
    if let Some(prompt) = q.get("approval_prompt")
        && !matches!(prompt.as_str(), "auto" | "force")
    {
        return bad_request("Application", "approval_prompt", "invalid");
    }
    let scopes = match q.get("scope").filter(|s| !s.trim().is_empty()) {
        None => vec![Scope::Read],
        Some(list) => match Scope::parse_list(list) {
            Ok(s) if !s.is_empty() => s,
            _ => return bad_request("Application", "scope", "invalid"),
        },
    };
    let code: String = {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..20)
            .map(|_| format!("{:02x}", rng.random::<u8>()))
            .collect()
    };
    {
        let mut state = inner.lock();
        let athlete = state.authorizing_athlete;
        state.codes.insert(
            code.clone(),
            Code {
                athlete,
                scopes: scopes.clone(),
                expires_at: inner.now() + CODE_LIFETIME,
            },
        );
    }
    redirect
        .query_pairs_mut()
        .append_pair("state", q.get("state").map_or("", String::as_str))
        .append_pair("code", &code)
        .append_pair("scope", &Scope::join(&scopes));
    Response::builder()
        .status(302)
        .header(header::LOCATION, redirect.as_str())
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(axum::body::Body::from(format!(
            "<html><body>You are being <a href=\"{redirect}\">redirected</a>.</body></html>"
        )))
        .unwrap_or_default()
}

fn token(inner: &Inner, p: &std::collections::HashMap<String, String>) -> Response {
    if let Err(r) = check_client(
        inner,
        p.get("client_id").map(String::as_str),
        p.get("client_secret").map(String::as_str),
    ) {
        return r;
    }
    let now = inner.now();
    let lifetime = inner.config.token_lifetime.as_secs() as i64;
    match p.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let mut state = inner.lock();
            let code = p
                .get("code")
                .and_then(|c| state.codes.remove(hex_key(c).as_ref()))
                .filter(|c| c.expires_at > now);
            let Some(code) = code else {
                return bad_request("RequestToken", "code", "invalid");
            };
            let issued = inner.grant(&mut state, code.athlete, code.scopes);
            drop(state);
            json_response(
                200,
                &json!({
                    "token_type": "Bearer",
                    "expires_at": issued.expires_at,
                    "expires_in": lifetime,
                    "refresh_token": issued.refresh,
                    "access_token": issued.access,
                    "athlete": athlete_summary(inner, code.athlete),
                }),
            )
        }
        Some("refresh_token") => {
            let Some(given) = p.get("refresh_token") else {
                return bad_request("RefreshToken", "refresh_token", "missing");
            };
            let given = &hex_key(given).into_owned();
            let mut state = inner.lock();
            let Some(&grant_id) = state.refresh.get(given) else {
                return bad_request("RefreshToken", "refresh_token", "invalid");
            };
            let Some(grant) = state.grants.get(&grant_id).cloned() else {
                return bad_request("RefreshToken", "refresh_token", "invalid");
            };
            let is_current = grant.refresh == *given;
            let is_pending = grant.pending_refresh.as_deref() == Some(given.as_str());
            if grant.revoked || !(is_current || is_pending) {
                return bad_request("RefreshToken", "refresh_token", "invalid");
            }
            // Using the newer token retires the older one; either way a fresh one is
            // issued, and the token just used stays valid until that one is used.
            let new_refresh = {
                use rand::Rng;
                let mut rng = rand::rng();
                (0..20)
                    .map(|_| format!("{:02x}", rng.random::<u8>()))
                    .collect::<String>()
            };
            if is_pending {
                state.refresh.remove(&grant.refresh);
            } else if let Some(old_pending) = &grant.pending_refresh {
                state.refresh.remove(old_pending);
            }
            state.refresh.insert(new_refresh.clone(), grant_id);
            if let Some(g) = state.grants.get_mut(&grant_id) {
                g.refresh = given.clone();
                g.pending_refresh = Some(new_refresh.clone());
            }
            let (access, expires_at) = inner.access_token(&mut state, grant_id);
            json_response(
                200,
                &json!({
                    "token_type": "Bearer",
                    "access_token": access,
                    "expires_at": expires_at,
                    "expires_in": (expires_at - now).max(0),
                    "refresh_token": new_refresh,
                }),
            )
        }
        _ => bad_request("Application", "grant_type", "invalid"),
    }
}

fn revoke(
    inner: &Inner,
    basic: Option<(String, String)>,
    p: &std::collections::HashMap<String, String>,
) -> Response {
    let Some((id, secret)) = basic else {
        return unauthorized("Application", "client_id", "invalid");
    };
    if check_client(inner, Some(&id), Some(&secret)).is_err() {
        return unauthorized("Application", "client_id", "invalid");
    }
    let Some(token) = p.get("token").filter(|t| !t.is_empty()) else {
        return bad_request("Application", "token", "missing");
    };
    let token = hex_key(token);
    let token = token.as_ref();
    if let Some(hint) = p.get("token_type_hint")
        && !matches!(hint.as_str(), "access_token" | "refresh_token")
    {
        return bad_request("Application", "token_type_hint", "invalid");
    }
    let mut state = inner.lock();
    let grant = state
        .access
        .get(token)
        .map(|t| t.grant)
        .or_else(|| state.refresh.get(token).copied());
    if let Some(grant) = grant {
        inner.revoke_grant(&mut state, grant);
    }
    // RFC 7009: an unknown token is not an error.
    json_response(200, &json!({}))
}

fn deauthorize(inner: &Inner, bearer: Option<String>, token_in_query: bool) -> Response {
    if token_in_query {
        return unauthorized("Athlete", "access_token", "invalid");
    }
    let Some(token) = bearer else {
        return unauthorized("Application", "", "invalid");
    };
    let now = inner.now();
    let mut state = inner.lock();
    let Some(grant) = state
        .access
        .get(hex_key(&token).as_ref())
        .filter(|t| t.expires_at > now)
        .map(|t| t.grant)
    else {
        return unauthorized("Athlete", "access_token", "invalid");
    };
    inner.revoke_grant(&mut state, grant);
    drop(state);
    json_response(200, &json!({"access_token": token}))
}

/// Renders a JSON summary of the athlete for token answers.
fn athlete_summary(inner: &Inner, athlete: usize) -> serde_json::Value {
    render::summary_athlete(&inner.world.athletes[athlete])
}
