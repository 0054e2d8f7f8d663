//! The crate's one error type.
//!
//! [`Error`] is opaque, like `reqwest::Error`: ask it what happened with [`Error::kind`] or
//! the `is_*` predicates, and read Strava's own explanation with [`Error::status`],
//! [`Error::message`] and [`Error::errors`]. Its `Display` and `Debug` never contain access
//! or refresh tokens, client secrets or authorization codes: bodies are excerpted only from
//! Strava's answers, and request URLs never carry secrets (tokens travel in headers).

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::generated::types::{Error as ErrorDetail, Fault, FaultErrors};
use crate::rate_limit::RateLimitStatus;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest excerpt of a response body kept in an error, in bytes.
pub const BODY_EXCERPT_LIMIT: usize = 512;

/// What went wrong, broadly. More kinds may be added: match with a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401: the token is missing, invalid, expired, or lacks a scope.
    Unauthorized,
    /// 403: the request is not allowed (see [`Error::is_application_inactive`]).
    Forbidden,
    /// 404: no such resource, or not visible to this athlete.
    NotFound,
    /// 429 from Strava, or a request the rate limiter refused to send.
    RateLimited,
    /// Another 4xx answer.
    ClientFault,
    /// A 5xx answer, including HTML error pages.
    ServerFault,
    /// A 2xx answer whose body does not match the expected type.
    Decode,
    /// The request or the connection timed out.
    Timeout,
    /// The connection failed (DNS, refused, reset, TLS).
    Connect,
    /// The HTTP exchange failed after connecting (a reset, a malformed answer, a body
    /// that could not be read).
    Transport,
    /// The answer was larger than the client's limit
    /// ([`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size)).
    ResponseTooLarge,
    /// The caller passed something unusable (a bad URL, an empty token...).
    InvalidInput,
    /// Refreshing the access token failed; the previous tokens are kept.
    TokenRefresh,
    /// The token store could not load or save tokens.
    TokenStore,
    /// Anything else (an unexpected 1xx/3xx...).
    Other,
}

impl ErrorKind {
    /// A stable lowercase name for the kind (`rate_limited`, `token_refresh`...).
    pub fn as_token(self) -> &'static str {
        match self {
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ClientFault => "client_fault",
            ErrorKind::ServerFault => "server_fault",
            ErrorKind::Decode => "decode",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Transport => "transport",
            ErrorKind::ResponseTooLarge => "response_too_large",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::TokenRefresh => "token_refresh",
            ErrorKind::TokenStore => "token_store",
            ErrorKind::Other => "other",
        }
    }
}

/// An error from a Strava call. See the [module docs](self).
///
/// Cloning is cheap (the cause is shared): one failed token refresh is handed to every
/// request that waited on it.
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    status: Option<StatusCode>,
    operation: Option<Cow<'static, str>>,
    errors: Vec<ErrorDetail>,
    body_excerpt: Option<String>,
    rate_limit: Option<RateLimitStatus>,
    retry_at: Option<DateTime<Utc>>,
    local: bool,
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                status: None,
                operation: None,
                errors: Vec::new(),
                body_excerpt: None,
                rate_limit: None,
                retry_at: None,
                local: false,
                source: None,
            }),
        }
    }

    /// An error for bad input, naming what was wrong.
    pub(crate) fn invalid_input(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Names the operation the error happened in, unless an inner one already did (a
    /// failed refresh inside an API call stays `refresh_access_token`).
    pub(crate) fn with_operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        if self.inner.operation.is_none() {
            self.inner.operation = Some(operation.into());
        }
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.inner.source = Some(std::sync::Arc::from(source.into()));
        self
    }

    pub(crate) fn with_rate_limit(
        mut self,
        status: Option<RateLimitStatus>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Self {
        self.inner.rate_limit = status;
        self.inner.retry_at = retry_at;
        self
    }

    /// Sets the HTTP status the error is about.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.inner.status = Some(status);
        self
    }

    /// Marks an error raised by this crate before anything was sent.
    pub(crate) fn local(mut self) -> Self {
        self.inner.local = true;
        self
    }

    /// Maps a transport error from reqwest, naming the host and port it tried and
    /// keeping reqwest's error (without its URL) as the source.
    pub(crate) fn transport(err: reqwest::Error, target: Option<&url::Url>) -> Self {
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else if err.is_connect() {
            ErrorKind::Connect
        } else {
            ErrorKind::Transport
        };
        let url = target.or(err.url());
        let host = url.map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or("?"),
                u.port_or_known_default().unwrap_or(0)
            )
        });
        let cause = root_cause(&err);
        let what = match kind {
            ErrorKind::Timeout => "timed out",
            ErrorKind::Connect => "could not connect",
            _ => "the HTTP exchange failed",
        };
        let message = match host {
            Some(host) => format!("{host}: {what}: {cause}"),
            None => format!("{what}: {cause}"),
        };
        Self::new(kind, message).with_source(err.without_url())
    }

    /// Builds the error for a non-2xx answer from its status, headers and body.
    ///
    /// Strava's JSON fault body (`message` and `errors`) is parsed when present; anything
    /// else (an HTML page, a truncated body) is kept as a bounded excerpt.
    pub fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let fault: Option<Fault> = serde_json::from_slice(body).ok();
        let (message, errors) = match fault {
            Some(f) => {
                let errors = match f.errors {
                    Some(FaultErrors::Array(list)) => list,
                    Some(FaultErrors::String(text)) => vec![ErrorDetail {
                        code: Some(text),
                        field: None,
                        resource: None,
                    }],
                    None => Vec::new(),
                };
                (f.message, errors)
            }
            None => (None, Vec::new()),
        };
        let kind = match status.as_u16() {
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            400..=499 => ErrorKind::ClientFault,
            500..=599 => ErrorKind::ServerFault,
            _ => ErrorKind::Other,
        };
        let message = message.unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("unexpected status")
                .to_owned()
        });
        let mut err = Self::new(kind, message);
        err.inner.status = Some(status);
        err.inner.errors = errors;
        if err.inner.errors.is_empty() && !body.is_empty() {
            err.inner.body_excerpt = Some(excerpt(body));
        }
        if kind == ErrorKind::RateLimited {
            let status = RateLimitStatus::from_headers(headers);
            let retry_at = status.as_ref().map(|s| s.next_reset());
            err = err.with_rate_limit(status, retry_at);
        }
        err
    }

    /// A 2xx body that does not deserialize: names the operation and the serde path.
    pub(crate) fn decode(operation: &str, path: &str, cause: &str, body: &[u8]) -> Self {
        let mut err = Self::new(
            ErrorKind::Decode,
            format!("unexpected response body for {operation} at `{path}`: {cause}"),
        )
        .with_operation(operation.to_owned());
        err.inner.body_excerpt = Some(excerpt(body));
        err
    }

    /// What went wrong, broadly.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status Strava answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// A short human-readable explanation (Strava's `message` when it sent one).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Strava's list of errors (`resource`, `field`, `code`), empty when none was sent.
    pub fn errors(&self) -> &[ErrorDetail] {
        &self.inner.errors
    }

    /// The operation (`getActivityById`...) the error happened in, when known.
    pub fn operation(&self) -> Option<&str> {
        self.inner.operation.as_deref()
    }

    /// The start of the response body, when it was not a Strava fault (HTML pages,
    /// truncated or unexpected JSON). At most [`BODY_EXCERPT_LIMIT`] bytes.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.inner.body_excerpt.as_deref()
    }

    /// The rate-limit usage known when the error happened (rate-limited errors).
    pub fn rate_limit(&self) -> Option<&RateLimitStatus> {
        self.inner.rate_limit.as_ref()
    }

    /// When a rate-limited request may be tried again (the next window reset).
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        self.inner.retry_at
    }

    /// `true` when the request was not sent: refused by the
    /// [`RaiseOnLimit`](crate::rate_limit::RaiseOnLimit) policy, stopped by a failed token
    /// refresh (whose status, if the token endpoint answered, is kept), or unusable input.
    pub fn is_local(&self) -> bool {
        self.inner.local
    }

    /// 401: token missing, invalid, expired, or lacking a scope.
    pub fn is_unauthorized(&self) -> bool {
        self.inner.kind == ErrorKind::Unauthorized
    }

    /// 403 of any cause.
    pub fn is_forbidden(&self) -> bool {
        self.inner.kind == ErrorKind::Forbidden
    }

    /// 403 because the Strava application is `Inactive` (since 2026-06-30, a Standard
    /// tier app whose owner has no subscription). No call will work until it is active.
    pub fn is_application_inactive(&self) -> bool {
        self.is_forbidden()
            && self.inner.errors.iter().any(|e| {
                e.resource.as_deref() == Some("Application")
                    && e.code.as_deref() == Some("Inactive")
            })
    }

    /// 401 because the access token is invalid or expired (a refresh may help).
    pub fn is_token_invalid(&self) -> bool {
        self.is_unauthorized()
            && self.inner.errors.iter().any(|e| {
                e.field.as_deref() == Some("access_token")
                    && matches!(e.code.as_deref(), Some("invalid") | Some("expired"))
            })
    }

    /// 401 because the token lacks a scope; [`Error::missing_scope`] says which.
    pub fn is_missing_scope(&self) -> bool {
        self.missing_scope().is_some()
    }

    /// The scope Strava says is missing (from an `activity:read_permission` style error).
    pub fn missing_scope(&self) -> Option<&str> {
        if !self.is_unauthorized() {
            return None;
        }
        self.inner.errors.iter().find_map(|e| {
            let field = e.field.as_deref()?;
            field
                .strip_suffix("_permission")
                .filter(|_| e.code.as_deref() == Some("missing"))
        })
    }

    /// 404.
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == ErrorKind::NotFound
    }

    /// 429 from Strava, or refused locally by the rate limiter.
    pub fn is_rate_limited(&self) -> bool {
        self.inner.kind == ErrorKind::RateLimited
    }

    /// Any 4xx answer.
    pub fn is_client_error(&self) -> bool {
        self.inner.status.is_some_and(|s| s.is_client_error())
    }

    /// Any 5xx answer.
    pub fn is_server_error(&self) -> bool {
        self.inner.kind == ErrorKind::ServerFault
    }

    /// A body that did not match the expected type.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }

    /// The request or connection timed out.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// The connection failed.
    pub fn is_connect(&self) -> bool {
        self.inner.kind == ErrorKind::Connect
    }

    /// The caller's input was unusable.
    pub fn is_invalid_input(&self) -> bool {
        self.inner.kind == ErrorKind::InvalidInput
    }

    /// Refreshing the access token failed.
    pub fn is_token_refresh(&self) -> bool {
        self.inner.kind == ErrorKind::TokenRefresh
    }

    /// `true` when sending the same request again may succeed: timeouts, connection and
    /// transport failures, 500 (Strava's are usually transient) and 502/503/504. The
    /// pipeline retries exactly these, for idempotent requests, within its
    /// [`RetryPolicy`](crate::RetryPolicy).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::Transport
        ) || self
            .inner
            .status
            .is_some_and(|s| matches!(s.as_u16(), 500 | 502..=504))
    }

    /// The answer was larger than the client's limit.
    pub fn is_response_too_large(&self) -> bool {
        self.inner.kind == ErrorKind::ResponseTooLarge
    }

    /// The same error, counted as another kind (a failed token call becomes
    /// [`ErrorKind::TokenRefresh`] while keeping its status and Strava's errors).
    pub(crate) fn set_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }
}

impl From<crate::rate_limit::RateLimited> for Error {
    fn from(limited: crate::rate_limit::RateLimited) -> Self {
        Self::new(
            ErrorKind::RateLimited,
            "rate limit reached: the request was not sent",
        )
        .with_rate_limit(limited.status.clone(), Some(limited.retry_at))
        .local()
    }
}

/// The innermost cause's text (hyper's "connection reset", "invalid status line"...).
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A bounded, lossless-where-possible excerpt of a body, cut on a character boundary.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT_LIMIT)]);
    let mut out = text.trim_end_matches('\u{FFFD}').to_string();
    if body.len() > BODY_EXCERPT_LIMIT {
        out.push('…');
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(op) = &self.inner.operation {
            write!(f, "{op}: ")?;
        }
        if let Some(status) = self.inner.status {
            write!(f, "{} ", status.as_u16())?;
        }
        f.write_str(&self.inner.message)?;
        for (i, e) in self.inner.errors.iter().enumerate() {
            f.write_str(if i == 0 { " (" } else { ", " })?;
            write!(
                f,
                "{}.{}: {}",
                e.resource.as_deref().unwrap_or("?"),
                e.field.as_deref().unwrap_or("?"),
                e.code.as_deref().unwrap_or("?")
            )?;
            if i + 1 == self.inner.errors.len() {
                f.write_str(")")?;
            }
        }
        if let Some(at) = self.inner.retry_at {
            write!(f, "; retry after {}", at.to_rfc3339())?;
        }
        if self.is_application_inactive() {
            f.write_str(
                "; the Strava application is inactive: its owner needs a Strava subscription",
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("stravalib::Error");
        d.field("kind", &self.inner.kind);
        if let Some(status) = self.inner.status {
            d.field("status", &status.as_u16());
        }
        d.field("message", &self.inner.message);
        if let Some(op) = &self.inner.operation {
            d.field("operation", op);
        }
        if !self.inner.errors.is_empty() {
            d.field("errors", &self.inner.errors);
        }
        if let Some(body) = &self.inner.body_excerpt {
            d.field("body_excerpt", body);
        }
        if let Some(at) = &self.inner.retry_at {
            d.field("retry_at", at);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}
