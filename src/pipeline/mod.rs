//! The one request pipeline every Strava call goes through: generated operations,
//! handwritten requests ([`crate::ApiV3`], uploads, webhooks) and the OAuth endpoints.
//!
//! A request's way: a fresh access token (refreshed once, single-flight, when it is about
//! to expire), the `Authorization: Bearer` header, a slot from the rate limiter, the send,
//! the `X-RateLimit-*` headers recorded, bounded retries of transient failures, one
//! refresh-and-retry after a 401 for an invalid or expired token. What it decides reaches
//! the caller as a typed value: the answer, or the [`Error`] it made (with Strava's status
//! only when Strava answered).

mod retry;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use tracing::Instrument;

pub use self::retry::RetryPolicy;
pub(crate) use self::tokens::{DEFAULT_REFRESH_MARGIN, TokenManager};
use crate::auth::{ClientCredentials, Secret, TokenSet};

/// Gets a new token set for `current` through the pipeline it is given (the OAuth token
/// call, written in [`crate::auth`] and handed in by the client, so that the pipeline does
/// not depend on it).
pub(crate) type Refresher = Arc<
    dyn Fn(Pipeline, ClientCredentials, TokenSet) -> BoxFuture<'static, Result<TokenSet>>
        + Send
        + Sync,
>;
use crate::error::{Error, Result};
use crate::rate_limit::RateLimiter;

/// Default time allowed for a whole request (connect, send, receive).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time allowed to connect.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default largest answer body read, in bytes (Strava's largest real answers, stream sets
/// of long activities, are a few MB).
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 64 * 1024 * 1024;
/// How much of an error answer is read (for its message and excerpt); the rest is dropped.
pub(crate) const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Default `User-Agent`, for API and OAuth calls alike.
pub const DEFAULT_USER_AGENT: &str = concat!("stravalib-rs/", env!("CARGO_PKG_VERSION"));

/// The HTTP client used when none is given: [`DEFAULT_USER_AGENT`], [`DEFAULT_TIMEOUT`],
/// [`DEFAULT_CONNECT_TIMEOUT`].
pub(crate) fn default_http_client() -> reqwest::Client {
    http_client(None, None, None).unwrap_or_default()
}

/// The HTTP client for OAuth calls: as [`http_client`], but it never follows a redirect
/// (a redirect would carry the client secret and tokens to wherever it points).
pub(crate) fn oauth_http_client(
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
) -> Result<reqwest::Client> {
    client_builder(timeout, connect_timeout, user_agent)?
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            Error::invalid_input(format!("cannot build the HTTP client: {e}")).with_source(e)
        })
}

/// An HTTP client with the given settings (defaults where `None`).
pub(crate) fn http_client(
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
) -> Result<reqwest::Client> {
    client_builder(timeout, connect_timeout, user_agent)?
        .build()
        .map_err(|e| {
            Error::invalid_input(format!("cannot build the HTTP client: {e}")).with_source(e)
        })
}

fn client_builder(
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
) -> Result<reqwest::ClientBuilder> {
    let builder = reqwest::Client::builder()
        .timeout(timeout.unwrap_or(DEFAULT_TIMEOUT))
        .connect_timeout(connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
        .user_agent(user_agent.unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned()));
    with_tls(builder)
}

/// With the `rustls-ring` feature (the default): rustls with the process's default crypto
/// provider if one is installed, `ring` otherwise, and the platform's certificate
/// verifier, handed to reqwest ready-made (no process-wide state is changed).
#[cfg(feature = "rustls-ring")]
fn with_tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let tls_error =
        |e: rustls::Error| Error::invalid_input(format!("cannot set up TLS: {e}")).with_source(e);
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_platform_verifier()
        .map_err(tls_error)?
        .with_no_client_auth();
    // What reqwest offers with its own rustls setup (HTTP/2 first).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(builder.tls_backend_preconfigured(config))
}

/// Without `rustls-ring`: reqwest's own TLS setup (`rustls-aws-lc`), if any.
#[cfg(not(feature = "rustls-ring"))]
fn with_tls(builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
    Ok(builder)
}

/// How the pipeline treats one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'a> {
    /// Named in the request span and in errors (`getActivityById`, `refresh_access_token`).
    pub operation: &'a str,
    /// Sends the client's access token (API calls); not for the OAuth endpoints.
    pub bearer: bool,
    /// Takes a slot from the rate limiter and records Strava's usage headers.
    pub rate_limited: bool,
    /// A non-2xx answer becomes an [`Error`]; with `false` it is returned as Strava sent it.
    pub check_for_errors: bool,
}

impl<'a> Call<'a> {
    /// An API call: bearer token, rate limits, errors checked.
    pub(crate) fn api(operation: &'a str) -> Self {
        Self {
            operation,
            bearer: true,
            rate_limited: true,
            check_for_errors: true,
        }
    }

    /// A call to Strava's OAuth endpoints: no bearer token (the caller authenticates in
    /// the body or with Basic), no rate-limit headers, answer returned as is.
    pub(crate) fn oauth(operation: &'a str) -> Self {
        Self {
            operation,
            bearer: false,
            rate_limited: false,
            check_for_errors: false,
        }
    }

    /// The same call with error checking on or off.
    pub(crate) fn check_for_errors(mut self, check: bool) -> Self {
        self.check_for_errors = check;
        self
    }
}

/// Shared state of the pipeline. Cheap to clone (one `Arc`); clones share the connection
/// pool, tokens and rate limiter.
#[derive(Clone)]
pub(crate) struct Pipeline(Arc<Shared>);

pub(crate) struct Shared {
    pub(crate) http: reqwest::Client,
    /// For the OAuth endpoints: never follows redirects.
    pub(crate) oauth_http: reqwest::Client,
    /// Largest answer body read, in bytes.
    pub(crate) max_response_size: usize,
    pub(crate) tokens: TokenManager,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) retry: RetryPolicy,
    /// How tokens are refreshed (`None`: they are not).
    pub(crate) refresh: Option<Refresher>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No tokens here: the token manager's Debug redacts them.
        f.debug_struct("Pipeline")
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

    /// A pipeline without tokens or rate limiting, for the OAuth endpoints on their own.
    pub(crate) fn standalone(http: reqwest::Client, oauth_http: reqwest::Client) -> Self {
        Self::new(Shared {
            http,
            oauth_http,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            tokens: TokenManager::empty(),
            limiter: crate::rate_limit::RateLimitPolicy::None.into_limiter(),
            retry: RetryPolicy::default(),
            refresh: None,
        })
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.0
    }

    /// The access token for the next request, refreshed first when it is about to expire.
    pub(crate) async fn bearer(&self) -> Result<Option<Secret>> {
        self.0.tokens.bearer(self.refresher()).await
    }

    /// Refreshes through this pipeline with the client's refresher.
    fn refresher(
        &self,
    ) -> impl FnOnce(ClientCredentials, TokenSet) -> BoxFuture<'static, Result<TokenSet>> + '_ {
        move |credentials, current| match &self.0.refresh {
            Some(refresh) => refresh(self.clone(), credentials, current),
            None => Box::pin(async {
                Err(Error::new(
                    crate::error::ErrorKind::TokenRefresh,
                    "this client cannot refresh tokens",
                ))
            }),
        }
    }

    /// `body` with every secret the client knows (and the token just used) replaced.
    fn scrub(&self, body: bytes::Bytes, used: Option<&Secret>) -> bytes::Bytes {
        let known = self.0.tokens.secrets();
        let mut secrets: Vec<&str> = known
            .iter()
            .map(Secret::expose)
            .filter(|s| s.len() >= 8)
            .collect();
        secrets.extend(used.map(Secret::expose).filter(|s| s.len() >= 8));
        crate::redact::scrub(body, &secrets)
    }

    /// Reads a whole answer body, refusing one larger than the client's limit (checked
    /// against `Content-Length` first, then while reading).
    pub(crate) async fn read_body(
        &self,
        operation: &str,
        mut response: reqwest::Response,
    ) -> Result<bytes::Bytes> {
        let limit = self.0.max_response_size;
        let url = response.url().clone();
        let too_large = |size: String| {
            Error::new(
                crate::error::ErrorKind::ResponseTooLarge,
                format!("the answer is larger than the limit of {limit} bytes ({size})"),
            )
            .with_operation(operation.to_owned())
        };
        if let Some(length) = response.content_length()
            && length > limit as u64
        {
            return Err(too_large(format!("Content-Length {length}")));
        }
        let mut out = bytes::BytesMut::with_capacity(
            response.content_length().map_or(8 * 1024, |l| l as usize),
        );
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if out.len() + chunk.len() > limit {
                        return Err(too_large("while reading".to_owned()));
                    }
                    if out.is_empty() && out.capacity() < chunk.len() {
                        // One chunk is often the whole body: keep it without a copy.
                        if response.content_length() == Some(chunk.len() as u64) {
                            return Ok(chunk);
                        }
                    }
                    out.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(out.freeze()),
                Err(e) => {
                    return Err(
                        Error::transport(e, Some(&url)).with_operation(operation.to_owned())
                    );
                }
            }
        }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    /// Sends `request` through the whole pipeline.
    ///
    /// `Ok` holds a 2xx answer (or, with `check_for_errors` off, any answer) with its body
    /// unread; `Err` holds the typed outcome: Strava's error answer, a request refused
    /// before sending, a failed refresh, or a transport failure naming `host:port`.
    pub(crate) async fn execute(
        &self,
        mut request: reqwest::Request,
        call: Call<'_>,
    ) -> Result<reqwest::Response> {
        let shared = &*self.0;
        let method = request.method().clone();
        let span = tracing::debug_span!(
            "strava.request",
            operation = call.operation,
            method = %method,
            path = request.url().path(),
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            attempts = tracing::field::Empty,
            rate_limit_usage = tracing::field::Empty,
        );
        let op = call.operation.to_owned();
        async move {
            let started = tokio::time::Instant::now();
            // progenitor adds this; Strava has no use for it.
            request.headers_mut().remove("api-version");
            let target = request.url().clone();

            let mut used_token = None;
            if call.bearer {
                used_token = self.bearer().await?;
                if let Some(token) = &used_token {
                    set_bearer(&mut request, token.expose())?;
                }
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
                let permit = if call.rate_limited {
                    Some(shared.limiter.acquire(&method).await.map_err(Error::from)?)
                } else {
                    None
                };
                let http = if call.bearer {
                    &shared.http
                } else {
                    &shared.oauth_http
                };
                let result = http.execute(to_send).await;
                let response = match result {
                    Ok(response) => response,
                    Err(e) => {
                        drop(permit);
                        let err = Error::transport(e, Some(&target));
                        // A connection that failed sent nothing: safe for any method.
                        let retryable = err.is_connect()
                            || (err.is_retryable() && shared.retry.is_idempotent(&method));
                        let wait = shared.retry.backoff(attempt);
                        if replayable
                            && retryable
                            && shared.retry.may_retry(attempt, started.elapsed(), wait)
                        {
                            tracing::debug!(
                                attempt,
                                wait_ms = wait.as_millis() as u64,
                                error = %err,
                                "transport error, retrying"
                            );
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        record_span(started, attempt, None, None);
                        return Err(err);
                    }
                };
                let status = response.status();
                if let Some(permit) = permit {
                    shared.limiter.record(permit, status, response.headers());
                }
                let limiter = call.rate_limited.then_some(&*shared.limiter);

                if status == StatusCode::TOO_MANY_REQUESTS
                    && call.rate_limited
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
                if !call.bearer && (status.is_redirection() || response.url() != &target) {
                    // An OAuth call is never redirected: its form carries secrets.
                    record_span(started, attempt, Some(status), limiter);
                    return Err(redirect_error(status, &response));
                }
                if replayable
                    && matches!(status.as_u16(), 500 | 502..=504)
                    && shared.retry.is_idempotent(&method)
                {
                    let wait = shared.retry.backoff(attempt);
                    if shared.retry.may_retry(attempt, started.elapsed(), wait) {
                        tracing::debug!(
                            attempt,
                            status = status.as_u16(),
                            "server error, retrying"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                let may_refresh = status == StatusCode::UNAUTHORIZED
                    && call.bearer
                    && replayable
                    && !refreshed_after_401
                    && shared.tokens.can_refresh();
                if status.is_success() || (!call.check_for_errors && !may_refresh) {
                    record_span(started, attempt, Some(status), limiter);
                    return Ok(response);
                }

                // An error answer: read its start (once) to decide and to describe it,
                // with every secret it echoes removed.
                let headers = response.headers().clone();
                let version = response.version();
                let body = read_capped(response, ERROR_BODY_LIMIT, &target).await?;
                let body = self.scrub(body, used_token.as_ref());
                let err = Error::from_response(status, &headers, &body);
                if may_refresh && err.is_token_invalid() {
                    refreshed_after_401 = true;
                    let token = shared
                        .tokens
                        .refresh_after_rejection(self.refresher(), used_token.as_ref())
                        .await?;
                    set_bearer(&mut request, token.expose())?;
                    used_token = Some(token);
                    attempt = attempt.saturating_sub(1);
                    continue;
                }
                record_span(started, attempt, Some(status), limiter);
                if !call.check_for_errors {
                    return Ok(rebuilt_response(status, version, headers, body));
                }
                return Err(err);
            }
        }
        .instrument(span)
        .await
        .map_err(|e: Error| e.with_operation(op))
    }
}

/// The error for a redirected OAuth call, naming the status and where it pointed.
fn redirect_error(status: StatusCode, response: &reqwest::Response) -> Error {
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url::Url::parse(l).ok())
        .or_else(|| Some(response.url().clone()))
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "an unknown host".to_owned());
    Error::new(
        crate::error::ErrorKind::Other,
        format!(
            "the OAuth endpoint answered {} redirecting to {target}: not followed (it would \
             carry the client secret and tokens)",
            status.as_u16()
        ),
    )
    .with_status(status)
}

/// Reads at most `limit` bytes of a body; the rest is dropped with the connection.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    target: &url::Url,
) -> Result<bytes::Bytes> {
    let mut out = bytes::BytesMut::new();
    while out.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - out.len();
                out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => break,
            Err(e) => return Err(Error::transport(e, Some(target))),
        }
    }
    Ok(out.freeze())
}

/// The answer Strava sent, rebuilt after its body was read (to decide on a refresh).
fn rebuilt_response(
    status: StatusCode,
    version: reqwest::Version,
    headers: reqwest::header::HeaderMap,
    body: bytes::Bytes,
) -> reqwest::Response {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    reqwest::Response::from(response)
}

fn record_span(
    started: tokio::time::Instant,
    attempts: u32,
    status: Option<StatusCode>,
    limiter: Option<&dyn RateLimiter>,
) {
    let span = tracing::Span::current();
    let duration_ms = started.elapsed().as_millis() as u64;
    span.record("duration_ms", duration_ms);
    span.record("attempts", attempts);
    if let Some(status) = status {
        span.record("status", status.as_u16());
        tracing::debug!(status = status.as_u16(), attempts, duration_ms, "answered");
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
fn set_bearer(request: &mut reqwest::Request, token: &str) -> Result<()> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        Error::invalid_input("the access token contains characters that cannot be sent in a header")
            .local()
    })?;
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}
