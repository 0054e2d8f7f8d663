//! The one request pipeline every Strava call goes through, generated or handwritten.
//!
//! A request's way: a fresh access token (refreshed once, single-flight, when it is about
//! to expire), the `Authorization: Bearer` header, a slot from the rate limiter, the send,
//! the `X-RateLimit-*` headers recorded, bounded retries of transient failures, one
//! refresh-and-retry after a 401 for an invalid or expired token, and finally every non-2xx
//! answer turned into a typed [`crate::Error`].
//!
//! The generated client ([`crate::generated::Client`]) reaches this pipeline through
//! progenitor's `ClientHooks`; handwritten calls (uploads, webhooks, anything the OpenAPI
//! document lacks) use [`ApiV3::request`]. Both share one [`Pipeline`], so a clone of a
//! client shares its tokens, rate limiter and connection pool.

mod oauth;
mod retry;
mod tokens;

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

pub use self::retry::RetryPolicy;
pub(crate) use self::tokens::{DEFAULT_REFRESH_MARGIN, TokenManager};
use crate::error::{Error, ErrorKind};
use crate::generated::Client as GeneratedClient;
use crate::rate_limit::{RateLimitStatus, RateLimiter};
use crate::types::Fault;

/// Strava's API base URL today.
pub const BASE_URL: &str = "https://www.strava.com/api/v3";

/// The base URL Strava announced for 2027-01-04 onward (no `/api/v3` prefix). The
/// current one has no announced shutdown date.
pub const UPCOMING_BASE_URL: &str = "https://api-v3.strava.com";

/// Where Strava's OAuth endpoints live (unchanged by the new API base URL).
pub const OAUTH_BASE_URL: &str = "https://www.strava.com/oauth";

// Headers this pipeline adds to the answers it rewrites, read back by `Error`'s
// conversion from the generated client's error. Never sent over the network.
pub(crate) const LOCAL_ERROR_HEADER: &str = "x-stravalib-local-error";
pub(crate) const MESSAGE_HEADER: &str = "x-stravalib-message";
pub(crate) const EXCERPT_HEADER: &str = "x-stravalib-body-excerpt";
pub(crate) const RETRY_AT_HEADER: &str = "x-stravalib-retry-at";
pub(crate) const FAULT_HEADER: &str = "x-stravalib-fault";
/// Largest fault body carried in [`FAULT_HEADER`]; Strava's are a few hundred bytes.
const FAULT_HEADER_LIMIT: usize = 4096;

/// Shared state of the pipeline. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Pipeline(Arc<Shared>);

pub(crate) struct Shared {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) tokens: TokenManager,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) retry: RetryPolicy,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No tokens here: the token manager's Debug redacts them.
        f.debug_struct("Pipeline")
            .field("base_url", &self.0.base_url)
            .field("tokens", &self.0.tokens)
            .field("limiter", &self.0.limiter)
            .field("retry", &self.0.retry)
            .finish()
    }
}

impl Pipeline {
    pub(crate) fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.0
    }

    /// Sends `request` through the whole pipeline. `normalize` turns every non-2xx answer
    /// into one the generated code maps to a typed error with its status; without it the
    /// answer is returned as Strava sent it.
    pub(crate) async fn execute(
        &self,
        mut request: reqwest::Request,
        operation: &str,
        normalize: bool,
    ) -> reqwest::Result<reqwest::Response> {
        let shared = &*self.0;
        let method = request.method().clone();
        let span = tracing::debug_span!(
            "strava.request",
            operation,
            method = %method,
            path = request.url().path(),
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            attempts = tracing::field::Empty,
            rate_limit_usage = tracing::field::Empty,
        );
        async move {
            let started = tokio::time::Instant::now();
            // Remove what progenitor adds that Strava has no use for.
            request.headers_mut().remove("api-version");

            let mut used_token = match shared.tokens.bearer().await {
                Ok(token) => token,
                Err(e) => return Ok(local_error_response(&e)),
            };
            if let Some(token) = &used_token
                && let Err(e) = set_bearer(&mut request, token.expose())
            {
                return Ok(local_error_response(&e));
            }

            let mut attempt = 0u32;
            // A streaming body (multipart uploads) cannot be sent twice: such a request
            // gets one attempt, and its answer is returned whatever it is.
            let mut replayable = true;
            let mut waited_for_429 = false;
            let mut refreshed_after_401 = false;
            loop {
                attempt += 1;
                let to_send = match request.try_clone() {
                    Some(copy) => copy,
                    None => {
                        replayable = false;
                        let placeholder =
                            reqwest::Request::new(method.clone(), request.url().clone());
                        std::mem::replace(&mut request, placeholder)
                    }
                };
                let permit = match shared.limiter.acquire(&method).await {
                    Ok(permit) => permit,
                    Err(limited) => {
                        let err = Error::from(limited);
                        return Ok(local_error_response(&err));
                    }
                };
                let result = shared.http.execute(to_send).await;
                let elapsed = started.elapsed();
                let response = match result {
                    Ok(response) => response,
                    Err(e) => {
                        drop(permit);
                        // Unsent (connect) failures are safe to retry for any method.
                        let retryable = e.is_connect()
                            || (e.is_timeout() && shared.retry.is_idempotent(&method));
                        let wait = shared.retry.backoff(attempt);
                        if replayable && retryable && shared.retry.may_retry(attempt, elapsed, wait)
                        {
                            tracing::debug!(
                                attempt,
                                wait_ms = wait.as_millis() as u64,
                                "transport error, retrying"
                            );
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        record_span(started, attempt, None, None);
                        return Err(e);
                    }
                };
                let status = response.status();
                shared.limiter.record(permit, status, response.headers());

                if status == StatusCode::TOO_MANY_REQUESTS
                    && replayable
                    && !waited_for_429
                    && let Some(wait) = shared.limiter.on_rate_limited(response.headers())
                {
                    waited_for_429 = true;
                    tracing::debug!(
                        wait_s = wait.as_secs(),
                        "429: waiting for the window to reset"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                if replayable
                    && matches!(status.as_u16(), 502..=504)
                    && shared.retry.is_idempotent(&method)
                {
                    let wait = shared.retry.backoff(attempt);
                    if shared.retry.may_retry(attempt, elapsed, wait) {
                        tracing::debug!(
                            attempt,
                            status = status.as_u16(),
                            "server error, retrying"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                if status.is_success() || status.is_redirection() || status.is_informational() {
                    record_span(started, attempt, Some(status), Some(&*shared.limiter));
                    return Ok(response);
                }

                // An error answer: read it (they are small) to decide and to describe it.
                let headers = response.headers().clone();
                let version = response.version();
                let body = response.bytes().await?;
                if status == StatusCode::UNAUTHORIZED
                    && replayable
                    && !refreshed_after_401
                    && shared.tokens.can_refresh()
                    && Error::from_response(status, &headers, &body).is_token_invalid()
                {
                    refreshed_after_401 = true;
                    match shared
                        .tokens
                        .refresh_after_rejection(used_token.as_ref())
                        .await
                    {
                        Ok(token) => {
                            if let Err(e) = set_bearer(&mut request, token.expose()) {
                                return Ok(local_error_response(&e));
                            }
                            used_token = Some(token);
                            attempt = attempt.saturating_sub(1);
                            continue;
                        }
                        Err(e) => return Ok(local_error_response(&e)),
                    }
                }
                record_span(started, attempt, Some(status), Some(&*shared.limiter));
                return Ok(if normalize {
                    normalized_error_response(status, version, headers, body)
                } else {
                    rebuilt_response(status, version, headers, body)
                });
            }
        }
        .instrument(span)
        .await
    }
}

fn record_span(
    started: tokio::time::Instant,
    attempts: u32,
    status: Option<StatusCode>,
    limiter: Option<&dyn RateLimiter>,
) {
    let span = tracing::Span::current();
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    span.record("attempts", attempts);
    if let Some(status) = status {
        span.record("status", status.as_u16());
    }
    if let Some(limiter) = limiter {
        span.record(
            "rate_limit_usage",
            tracing::field::display(UsageField(limiter)),
        );
    }
}

/// The limiter's usage, formatted only if a subscriber records it.
struct UsageField<'a>(&'a dyn RateLimiter);

impl std::fmt::Display for UsageField<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.status() {
            Some(status) => f.write_str(&status.usage_summary()),
            None => f.write_str("unknown"),
        }
    }
}

/// Sets `Authorization: Bearer <token>`, marked sensitive. A token that cannot be a header
/// value is an invalid-input error (which does not show the token).
fn set_bearer(request: &mut reqwest::Request, token: &str) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        Error::invalid_input("the access token contains characters that cannot be sent in a header")
            .local()
    })?;
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

fn encode_header(text: &str) -> HeaderValue {
    let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) fn decode_header(headers: &HeaderMap, name: &str) -> Option<String> {
    let raw = headers.get(name)?.to_str().ok()?;
    let decoded: String = url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some(decoded)
}

fn rebuilt_response(
    status: StatusCode,
    version: reqwest::Version,
    headers: HeaderMap,
    body: Bytes,
) -> reqwest::Response {
    let mut builder = http::Response::builder().status(status).version(version);
    if let Some(h) = builder.headers_mut() {
        *h = headers;
    }
    let response = builder
        .body(body)
        .unwrap_or_else(|_| http::Response::new(Bytes::new()));
    reqwest::Response::from(response)
}

/// A 4xx/5xx answer the generated code maps to `ErrorResponse(Fault)` (4xx) or
/// `UnexpectedResponse` (5xx) without losing its status: a body that is not Strava's fault
/// JSON (an HTML page, a truncated body, nothing) is replaced by `{}` and kept as an
/// excerpt header.
fn normalized_error_response(
    status: StatusCode,
    version: reqwest::Version,
    mut headers: HeaderMap,
    body: Bytes,
) -> reqwest::Response {
    let is_fault = serde_json::from_slice::<Fault>(&body).is_ok();
    let body = if is_fault {
        // The generated code hands a 5xx back unread (`UnexpectedResponse`): carry the
        // fault in a header so the conversion to `Error` needs no async body read.
        if !status.is_client_error() && body.len() <= FAULT_HEADER_LIMIT {
            headers.insert(
                HeaderName::from_static(FAULT_HEADER),
                encode_header(&String::from_utf8_lossy(&body)),
            );
        }
        body
    } else {
        if !body.is_empty() {
            headers.insert(
                HeaderName::from_static(EXCERPT_HEADER),
                encode_header(&crate::error::excerpt(&body)),
            );
        }
        Bytes::from_static(b"{}")
    };
    headers.remove(reqwest::header::CONTENT_LENGTH);
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    rebuilt_response(status, version, headers, body)
}

/// The answer for an error raised here before (or instead of) sending: its status is the
/// one Strava would have used, and the headers carry the details for the conversion.
fn local_error_response(err: &Error) -> reqwest::Response {
    let status = match err.kind() {
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::TokenRefresh | ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static(LOCAL_ERROR_HEADER),
        HeaderValue::from_static(err.kind().as_token()),
    );
    headers.insert(
        HeaderName::from_static(MESSAGE_HEADER),
        encode_header(&err.to_string()),
    );
    if let Some(at) = err.retry_at() {
        headers.insert(
            HeaderName::from_static(RETRY_AT_HEADER),
            encode_header(&at.to_rfc3339()),
        );
    }
    if let Some(status) = err.rate_limit() {
        status.write_headers(&mut headers);
    }
    let body = serde_json::to_vec(&Fault {
        errors: None,
        message: Some(err.message().to_owned()),
    })
    .unwrap_or_default();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    rebuilt_response(
        status,
        reqwest::Version::HTTP_11,
        headers,
        Bytes::from(body),
    )
}

impl ClientHooks<Pipeline> for GeneratedClient {
    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner().execute(request, info.operation_id, true).await
    }
}

/// The Strava API v3 at the HTTP level: the generated typed client plus generic requests,
/// all through one [`Pipeline`]. Cheap to clone; clones share everything.
#[derive(Clone, Debug)]
pub struct ApiV3 {
    generated: GeneratedClient,
}

impl ApiV3 {
    pub(crate) fn new(generated: GeneratedClient) -> Self {
        Self { generated }
    }

    /// The generated client: a builder method per operation of `openapi/strava.json`, each
    /// ending in `.send()`. Convert its errors with `?` into [`crate::Error`].
    pub fn generated(&self) -> &GeneratedClient {
        &self.generated
    }

    pub(crate) fn pipeline(&self) -> &Pipeline {
        self.generated.inner()
    }

    /// The base URL requests are sent to.
    pub fn base_url(&self) -> &str {
        self.generated.baseurl()
    }

    /// The latest rate-limit usage Strava reported, if any request has been answered.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.pipeline().shared().limiter.status()
    }

    /// Resolves `path` against the base URL; an absolute `http(s)` URL is kept as is.
    pub fn resolve(&self, path: &str) -> Result<url::Url, Error> {
        if path.starts_with("http://") || path.starts_with("https://") {
            return url::Url::parse(path)
                .map_err(|e| Error::invalid_input(format!("invalid URL {path:?}: {e}")));
        }
        let base = self.base_url().trim_end_matches('/');
        let joined = format!("{base}/{}", path.trim_start_matches('/'));
        url::Url::parse(&joined)
            .map_err(|e| Error::invalid_input(format!("invalid path {path:?}: {e}")))
    }

    /// Starts a request for anything the OpenAPI document lacks. It goes through the
    /// same pipeline as generated calls (token, rate limits, retries, errors).
    pub fn request(&self, method: Method, path: &str) -> ApiRequest {
        let url = self.resolve(path);
        ApiRequest {
            api: self.clone(),
            builder: url.map(|u| self.pipeline().shared().http.request(method, u)),
            operation: None,
            check_for_errors: true,
        }
    }

    /// `GET path?query`, decoded as JSON.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &(impl Serialize + ?Sized),
    ) -> Result<T, Error> {
        self.request(Method::GET, path)
            .query(query)
            .send_json()
            .await
    }

    /// `POST path` with a form body, decoded as JSON.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &(impl Serialize + ?Sized),
    ) -> Result<T, Error> {
        self.request(Method::POST, path)
            .form(form)
            .send_json()
            .await
    }

    /// `PUT path` with a form body, decoded as JSON.
    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &(impl Serialize + ?Sized),
    ) -> Result<T, Error> {
        self.request(Method::PUT, path).form(form).send_json().await
    }

    /// `DELETE path?query`; the answer's body is ignored.
    pub async fn delete(&self, path: &str, query: &(impl Serialize + ?Sized)) -> Result<(), Error> {
        self.request(Method::DELETE, path)
            .query(query)
            .send()
            .await
            .map(drop)
    }

    /// Runs a generated call and maps its result: the value, or a typed [`Error`] naming
    /// the operation (with the serde path of a body that does not match).
    pub async fn call<T: DeserializeOwned>(
        operation: &'static str,
        call: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<Fault>>>,
    ) -> Result<T, Error> {
        match call.await {
            Ok(value) => Ok(value.into_inner()),
            Err(progenitor_client::Error::InvalidResponsePayload(body, _)) => {
                Err(decode_error::<T>(operation, &body))
            }
            Err(e) => Err(Error::from(e).with_operation(operation)),
        }
    }
}

/// A decode error with the serde path, found by decoding again with path tracking (only
/// on the failure path, so successful calls pay nothing for it).
pub(crate) fn decode_error<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Error {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => Error::decode(operation, ".", "body could not be read", body),
        Err(e) => Error::decode(
            operation,
            &e.path().to_string(),
            &e.inner().to_string(),
            body,
        ),
    }
}

/// A handwritten request on its way through the pipeline (see [`ApiV3::request`]).
#[must_use = "a request does nothing until sent"]
pub struct ApiRequest {
    api: ApiV3,
    builder: Result<reqwest::RequestBuilder, Error>,
    operation: Option<&'static str>,
    check_for_errors: bool,
}

impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("operation", &self.operation)
            .field("check_for_errors", &self.check_for_errors)
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    fn map(mut self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        self.builder = self.builder.map(f);
        self
    }

    /// Adds query parameters.
    pub fn query(self, query: &(impl Serialize + ?Sized)) -> Self {
        self.map(|b| b.query(query))
    }

    /// Sets a form (`application/x-www-form-urlencoded`) body.
    pub fn form(self, form: &(impl Serialize + ?Sized)) -> Self {
        self.map(|b| b.form(form))
    }

    /// Sets a JSON body.
    pub fn json(self, body: &(impl Serialize + ?Sized)) -> Self {
        self.map(|b| b.json(body))
    }

    /// Sets a multipart body (uploads). A streaming part makes the request non-retryable.
    pub fn multipart(self, form: reqwest::multipart::Form) -> Self {
        self.map(|b| b.multipart(form))
    }

    /// Adds a header.
    pub fn header(self, name: HeaderName, value: HeaderValue) -> Self {
        self.map(|b| b.header(name, value))
    }

    /// Names the operation in logs and errors.
    pub fn operation(mut self, name: &'static str) -> Self {
        self.operation = Some(name);
        self
    }

    /// With `false`, an error status is returned as the raw response instead of an
    /// [`Error`] (transport failures are still errors).
    pub fn check_for_errors(mut self, check: bool) -> Self {
        self.check_for_errors = check;
        self
    }

    /// Sends the request and returns the response.
    pub async fn send(self) -> Result<reqwest::Response, Error> {
        let operation = self.operation.unwrap_or("request");
        let request = self
            .builder?
            .build()
            .map_err(|e| Error::invalid_input(format!("cannot build the request: {e}")))?;
        let pipeline = self.api.pipeline().clone();
        let response = pipeline
            .execute(request, operation, false)
            .await
            .map_err(|e| Error::from_reqwest(e).with_operation(operation))?;
        let status = response.status();
        if !self.check_for_errors || status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        if headers.contains_key(LOCAL_ERROR_HEADER) {
            return Err(Error::from_local_response(status, &headers).with_operation(operation));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(e).with_operation(operation))?;
        Err(Error::from_response(status, &headers, &body).with_operation(operation))
    }

    /// Sends the request and decodes a JSON answer.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let operation = self.operation.unwrap_or("request");
        let response = self.check_for_errors(true).send().await?;
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(e).with_operation(operation))?;
        serde_json::from_slice(&body).map_err(|_| decode_error::<T>(operation, &body))
    }
}
