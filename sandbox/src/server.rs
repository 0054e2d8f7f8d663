//! The HTTP side: one handler that applies faults, then routes to OAuth or the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use rand::Rng;
use serde_json::{Value, json};

use super::clock::SandboxClock;
use super::faults::{Faults, Outcome};
use super::render;
use super::state::{Grant, State, UploadState, WebhookEvent};
use super::world::World;
use stravalib::auth::Scope;

/// Largest request body read, in bytes.
pub(crate) const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Rate limits: 15-minute and daily, overall and for reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) short: u32,
    pub(crate) daily: u32,
    pub(crate) read_short: u32,
    pub(crate) read_daily: u32,
}

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) seed: u64,
    pub(crate) limits: Limits,
    pub(crate) token_lifetime: Duration,
    pub(crate) retired_endpoints: bool,
    pub(crate) upload_polls: u32,
    pub(crate) upload_time: Duration,
    pub(crate) callback_domain: String,
    pub(crate) client_id: u64,
    pub(crate) client_secret: String,
}

/// The running sandbox's shared state.
pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) world: World,
    pub(crate) clock: SandboxClock,
    pub(crate) state: Mutex<State>,
    pub(crate) faults: Faults,
    pub(crate) http: reqwest::Client,
    pub(crate) runtime: tokio::runtime::Handle,
}

/// Tokens just issued.
pub(crate) struct Issued {
    pub(crate) access: String,
    pub(crate) refresh: String,
    pub(crate) expires_at: i64,
}

fn random_token() -> String {
    let mut rng = rand::rng();
    (0..20)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sandbox time, epoch seconds.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// A new authorization of the app by `athlete` with its first tokens.
    pub(crate) fn grant(&self, state: &mut State, athlete: usize, scopes: Vec<Scope>) -> Issued {
        let id = state.next_grant;
        state.next_grant += 1;
        let refresh = random_token();
        state.refresh.insert(refresh.clone(), id);
        state.grants.insert(
            id,
            Grant {
                athlete,
                scopes,
                revoked: false,
                refresh: refresh.clone(),
                pending_refresh: None,
                access_tokens: Vec::new(),
            },
        );
        let (access, expires_at) = self.access_token(state, id);
        Issued {
            access,
            refresh,
            expires_at,
        }
    }

    /// A new access token for grant `id`.
    pub(crate) fn access_token(&self, state: &mut State, id: u64) -> (String, i64) {
        let token = random_token();
        let expires_at = self.now() + self.config.token_lifetime.as_secs() as i64;
        state.access.insert(
            token.clone(),
            super::state::AccessToken {
                grant: id,
                expires_at,
            },
        );
        if let Some(g) = state.grants.get_mut(&id) {
            g.access_tokens.push(token.clone());
        }
        (token, expires_at)
    }

    /// Revokes grant `id`: every token of it stops working. Sends the deauthorization
    /// event.
    pub(crate) fn revoke_grant(&self, state: &mut State, id: u64) {
        let Some(g) = state.grants.get_mut(&id) else {
            return;
        };
        if g.revoked {
            return;
        }
        g.revoked = true;
        let athlete = self.world.athletes[g.athlete].id;
        for t in std::mem::take(&mut g.access_tokens) {
            state.access.remove(&t);
        }
        let mut updates = serde_json::Map::new();
        updates.insert("authorized".into(), json!("false"));
        self.emit(state, "athlete", athlete, "update", updates, athlete);
    }

    /// Records a webhook event and delivers it to the subscription, if any.
    pub(crate) fn emit(
        &self,
        state: &mut State,
        object_type: &str,
        object_id: u64,
        aspect_type: &str,
        updates: serde_json::Map<String, Value>,
        owner_id: u64,
    ) {
        let event = WebhookEvent {
            object_type: object_type.to_owned(),
            object_id,
            aspect_type: aspect_type.to_owned(),
            updates,
            owner_id,
            subscription_id: state.subscription.as_ref().map(|s| s.id),
            event_time: self.now(),
        };
        state.events.push(event.clone());
        if let Some(sub) = &state.subscription {
            let url = sub.callback_url.clone();
            let http = self.http.clone();
            self.runtime.spawn(async move {
                // Strava tries up to three times when the callback does not answer 200.
                for attempt in 0..3 {
                    let sent = http
                        .post(&url)
                        .timeout(Duration::from_secs(2))
                        .json(&event)
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().is_success()) {
                        return;
                    }
                    if attempt < 2 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            });
        }
    }

    /// Finishes uploads whose processing time has passed by the sandbox clock.
    pub(crate) fn settle_uploads(&self, state: &mut State) {
        let now = self.now();
        let due: Vec<u64> = state
            .uploads
            .values()
            .filter(|u| {
                matches!(u.state, UploadState::Processing)
                    && (u.polls >= self.config.upload_polls
                        || now >= u.created_at + self.config.upload_time.as_secs() as i64)
            })
            .map(|u| u.id)
            .collect();
        for id in due {
            super::api::finish_upload(self, state, id);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

/// A JSON answer.
pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(bytes))
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

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

fn html_page(status: u16) -> Response {
    let text = reason(status);
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head><title>{status} {text}</title></head>\n<body>\n<center><h1>{status} {text}</h1></center>\n<hr><center>sandbox-proxy</center>\n</body>\n</html>\n"
    );
    bytes_response(status, "text/html; charset=utf-8", body.into_bytes())
}

/// Adds the four rate-limit headers.
pub(crate) fn add_rate_headers(
    headers: &mut HeaderMap,
    limits: Limits,
    usage: (u32, u32, u32, u32),
) {
    let mut put = |name: &'static str, a: u32, b: u32| {
        if let Ok(v) = HeaderValue::from_str(&format!("{a},{b}")) {
            headers.insert(name, v);
        }
    };
    put("x-ratelimit-limit", limits.short, limits.daily);
    put("x-ratelimit-usage", usage.0, usage.1);
    put(
        "x-readratelimit-limit",
        limits.read_short,
        limits.read_daily,
    );
    put("x-readratelimit-usage", usage.2, usage.3);
}

async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let cut = bytes.len() / 2;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..cut)))
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

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
    if content_type.starts_with("application/json") {
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

/// Parses a boolean parameter the way Strava's forms send them.
pub(crate) fn truthy(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// The one handler of every request.
pub(crate) async fn handle(
    axum::extract::State(inner): axum::extract::State<Arc<Inner>>,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let action = inner.faults.take(method.as_str(), &path);
    let mut truncate_body = false;
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
    let response = if let Some(rest) = path.strip_prefix("/oauth/") {
        super::oauth::handle(&inner, &method, rest, req).await
    } else if let Some(rest) = path.strip_prefix("/api/v3") {
        super::api::handle(&inner, rest, req).await
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
    if truncate_body {
        truncate(response).await
    } else {
        response
    }
}

/// Renders a JSON summary of the athlete for token answers.
pub(crate) fn athlete_summary(inner: &Inner, athlete: usize) -> Value {
    render::summary_athlete(&inner.world.athletes[athlete])
}
