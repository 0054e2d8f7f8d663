//! Strava's OAuth token endpoints (code exchange, refresh, revoke, deauthorize), called
//! through the same pipeline as every other request, with secrets scrubbed from errors.

use serde::Deserialize;

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use url::Url;

use super::authorize::AuthorizationRequest;
use super::endpoints::{Endpoints, parse_oauth_base};
use super::token::bearer;
use super::{AthleteSummary, Scope};
use super::{ClientCredentials, Secret, TokenSet, TokenTypeHint};
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::{Call, Pipeline};
use chrono::Utc;

/// Secrets shorter than this are not searched for in Strava's error bodies (a short value
/// would match ordinary words such as `code`); real Strava secrets are 40 characters.
const MIN_SCRUB_LEN: usize = 8;

/// Calls Strava's OAuth endpoints. Cheap to clone (the HTTP client and URLs are shared).
///
/// ```
/// use stravalib::auth::OAuth;
/// let oauth = OAuth::new();
/// assert_eq!(oauth.base_url().as_str(), "https://www.strava.com/oauth");
/// let sandbox = OAuth::new().oauth_base("http://127.0.0.1:9999/oauth")?;
/// assert_eq!(sandbox.base_url().as_str(), "http://127.0.0.1:9999/oauth");
/// # Ok::<(), stravalib::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OAuth {
    pipeline: Pipeline,
    endpoints: Arc<Endpoints>,
}

impl Default for OAuth {
    fn default() -> Self {
        Self::new()
    }
}

impl OAuth {
    /// A client for [`DEFAULT_OAUTH_BASE`](crate::auth::DEFAULT_OAUTH_BASE) with its own HTTP client (the library's user
    /// agent, 30 s request and 10 s connect timeouts).
    pub fn new() -> Self {
        let http = crate::pipeline::default_http_client();
        let oauth_http = crate::pipeline::oauth_http_client(None, None, None).unwrap_or_default();
        Self {
            pipeline: Pipeline::standalone(http, oauth_http),
            endpoints: Endpoints::default_strava(),
        }
    }

    /// A client for [`DEFAULT_OAUTH_BASE`](crate::auth::DEFAULT_OAUTH_BASE) that sends through `http` (share one
    /// `reqwest::Client` with the rest of the application). Build it with
    /// `.redirect(reqwest::redirect::Policy::none())`: a token endpoint that redirects
    /// would receive the secrets again at the new address. A redirected answer is refused
    /// either way (its tokens are not accepted).
    pub fn with_client(http: reqwest::Client) -> Self {
        Self {
            pipeline: Pipeline::standalone(http.clone(), http),
            endpoints: Endpoints::default_strava(),
        }
    }

    /// The OAuth calls of a client: its pipeline (HTTP client, span, retries of
    /// connection failures) and its OAuth endpoints.
    pub(crate) fn with_pipeline(pipeline: Pipeline, endpoints: Arc<Endpoints>) -> Self {
        Self {
            pipeline,
            endpoints,
        }
    }

    /// Uses another OAuth base (a sandbox, a test server); endpoints become
    /// `{base}/token`, `{base}/revoke`, `{base}/deauthorize` and `{base}/authorize`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `base` is not an absolute http(s) URL without
    /// query or fragment.
    pub fn oauth_base(mut self, base: impl AsRef<str>) -> Result<Self> {
        let base = parse_oauth_base(base.as_ref())?;
        self.endpoints = Arc::new(Endpoints::new(base)?);
        Ok(self)
    }

    /// The OAuth base URL in use.
    pub fn base_url(&self) -> &Url {
        &self.endpoints.base
    }

    /// The HTTP client in use.
    pub fn http_client(&self) -> &reqwest::Client {
        self.pipeline.http()
    }

    /// An [`AuthorizationRequest`] against this client's OAuth base.
    pub fn authorization_request(
        &self,
        client_id: u64,
        redirect_uri: impl Into<String>,
    ) -> AuthorizationRequest {
        AuthorizationRequest::new(client_id, redirect_uri)
            .oauth_base(self.endpoints.base.as_str().to_owned())
    }

    /// Exchanges the `code` from the redirect for tokens (`POST {base}/token` with
    /// `grant_type=authorization_code`). The set includes the athlete summary.
    ///
    /// # Errors
    /// Strava's answer to a bad code or client (typically 400 with
    /// `RequestToken.code: invalid` or `Application.client_id: invalid`) as an error with
    /// its status and [`errors`](Error::errors); transport errors; a body that is not a
    /// token response ([`ErrorKind::Decode`]). No secret is in any message.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use httpmock::prelude::*;
    /// use stravalib::auth::OAuth;
    ///
    /// // A stand-in for Strava (use `OAuth::new()` for the real one).
    /// let server = MockServer::start_async().await;
    /// server.mock(|when, then| {
    ///     when.method(POST).path("/oauth/token")
    ///         .form_urlencoded_tuple("grant_type", "authorization_code")
    ///         .form_urlencoded_tuple("code", "example-code");
    ///     then.status(200).json_body(serde_json::json!({
    ///         "token_type": "Bearer", "expires_at": 1900000000, "expires_in": 21600,
    ///         "access_token": "example-access", "refresh_token": "example-refresh",
    ///         "athlete": {"id": 42, "firstname": "Ada"}
    ///     }));
    /// });
    /// let oauth = OAuth::new().oauth_base(server.url("/oauth"))?;
    ///
    /// let tokens = oauth.exchange_code_for_token(1234, "client-secret", "example-code").await?;
    /// assert_eq!(tokens.access_token.expose(), "example-access");
    /// assert_eq!(tokens.expires_at, 1_900_000_000);
    /// assert_eq!(tokens.athlete.and_then(|a| a.id), Some(42));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn exchange_code_for_token(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        code: impl Into<Secret>,
    ) -> Result<TokenSet> {
        const OP: &str = "exchange_code_for_token";
        let client_secret = client_secret.into();
        let code = code.into();
        require(OP, &client_secret, "client secret")?;
        require(OP, &code, "authorization code")?;
        let id = client_id.to_string();
        let form = [
            ("client_id", id.as_str()),
            ("client_secret", client_secret.expose()),
            ("code", code.expose()),
            ("grant_type", "authorization_code"),
        ];
        tracing::debug!(
            operation = OP,
            client_id,
            endpoint = %self.endpoints.token,
            "exchanging an authorization code for tokens"
        );
        let secrets = [client_secret.expose(), code.expose()];
        let request = self
            .http_client()
            .post(self.endpoints.token.clone())
            .form(&form);
        let body = self.send(OP, request, &secrets).await?;
        let tokens = decode_token_response(OP, &body, &secrets, None)?;
        tracing::debug!(
            operation = OP,
            client_id,
            expires_at = tokens.expires_at,
            athlete_id = tokens.athlete.as_ref().and_then(|a| a.id),
            "authorization code exchanged"
        );
        Ok(tokens)
    }

    /// Gets a new token set from a refresh token (`POST {base}/token` with
    /// `grant_type=refresh_token`). Strava may rotate the refresh token: save the returned
    /// set (see [`TokenStore`](crate::auth::TokenStore)) before using it. The set has no scopes or athlete; see
    /// [`refresh_token_set`](Self::refresh_token_set) to carry them over.
    ///
    /// # Errors
    /// Every failure (a revoked or unknown refresh token, a bad client, transport, decode)
    /// has kind [`ErrorKind::TokenRefresh`], with Strava's status and
    /// [`errors`](Error::errors) when it answered.
    pub async fn refresh_access_token(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
    ) -> Result<TokenSet> {
        const OP: &str = "refresh_access_token";
        let client_secret = client_secret.into();
        let refresh_token = refresh_token.into();
        require(OP, &client_secret, "client secret")?;
        require(OP, &refresh_token, "refresh token")?;
        let id = client_id.to_string();
        let form = [
            ("client_id", id.as_str()),
            ("client_secret", client_secret.expose()),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        tracing::debug!(
            operation = OP,
            client_id,
            endpoint = %self.endpoints.token,
            "refreshing the access token"
        );
        let secrets = [client_secret.expose(), refresh_token.expose()];
        let request = self
            .http_client()
            .post(self.endpoints.token.clone())
            .form(&form);
        let result = match self.send(OP, request, &secrets).await {
            Ok(body) => decode_token_response(OP, &body, &secrets, Some(&refresh_token)),
            Err(err) => Err(err),
        };
        match result {
            Ok(tokens) => {
                tracing::debug!(
                    operation = OP,
                    client_id,
                    expires_at = tokens.expires_at,
                    refresh_token_rotated = tokens.refresh_token != refresh_token,
                    "access token refreshed"
                );
                Ok(tokens)
            }
            Err(err) => Err(err.set_kind(ErrorKind::TokenRefresh)),
        }
    }

    /// Refreshes `current` with `credentials`, keeping its scopes and athlete summary
    /// (a refresh answer carries neither).
    ///
    /// # Errors
    /// As [`refresh_access_token`](Self::refresh_access_token).
    pub async fn refresh_token_set(
        &self,
        credentials: &ClientCredentials,
        current: &TokenSet,
    ) -> Result<TokenSet> {
        let mut tokens = self
            .refresh_access_token(
                credentials.client_id,
                &credentials.client_secret,
                &current.refresh_token,
            )
            .await?;
        if tokens.scopes.is_none() {
            tokens.scopes = current.scopes.clone();
        }
        if tokens.athlete.is_none() {
            tokens.athlete = current.athlete.clone();
        }
        Ok(tokens)
    }

    /// Revokes an access or refresh token (`POST {base}/revoke`, HTTP Basic
    /// `client_id:client_secret`, form `token` and optional `token_type_hint`). Revoking
    /// either token revokes both: the athlete must authorize the app again.
    ///
    /// # Errors
    /// Strava's error answer with status and errors; transport errors.
    pub async fn revoke(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        token: impl Into<Secret>,
        hint: Option<TokenTypeHint>,
    ) -> Result<()> {
        const OP: &str = "revoke";
        let client_secret = client_secret.into();
        let token = token.into();
        require(OP, &client_secret, "client secret")?;
        require(OP, &token, "token")?;
        let mut form = vec![("token", token.expose())];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint.as_str()));
        }
        tracing::debug!(
            operation = OP,
            client_id,
            endpoint = %self.endpoints.revoke,
            token_type_hint = hint.map(TokenTypeHint::as_str),
            "revoking a token"
        );
        let request = self
            .http_client()
            .post(self.endpoints.revoke.clone())
            .basic_auth(client_id, Some(client_secret.expose()))
            .form(&form);
        self.send(OP, request, &[client_secret.expose(), token.expose()])
            .await?;
        tracing::debug!(operation = OP, client_id, "token revoked");
        Ok(())
    }

    /// Deauthorizes the application for the athlete owning `access_token`
    /// (`POST {base}/deauthorize`, token in `Authorization: Bearer`).
    ///
    /// # Errors
    /// Strava's error answer with status and errors; transport errors;
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a token that cannot go in a header.
    #[deprecated(note = "Strava retires /oauth/deauthorize on 2027-06-01; use revoke")]
    pub async fn deauthorize(&self, access_token: impl Into<Secret>) -> Result<()> {
        const OP: &str = "deauthorize";
        let access_token = access_token.into();
        require(OP, &access_token, "access token")?;
        if reqwest::header::HeaderValue::from_str(access_token.expose()).is_err() {
            return Err(Error::invalid_input(
                "the access token contains characters not allowed in an HTTP header",
            )
            .with_operation(OP)
            .local());
        }
        tracing::debug!(
            operation = OP,
            endpoint = %self.endpoints.deauthorize,
            "deauthorizing the application"
        );
        let request = self
            .http_client()
            .post(self.endpoints.deauthorize.clone())
            .bearer_auth(access_token.expose());
        // The answer echoes the token: it is read and dropped, never logged.
        self.send(OP, request, &[access_token.expose()]).await?;
        tracing::debug!(operation = OP, "application deauthorized");
        Ok(())
    }

    /// Sends `request` through the pipeline (its span, user agent and retries of
    /// connection failures), returning the body of a 2xx answer and Strava's error,
    /// scrubbed of `secrets`, otherwise.
    async fn send(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        secrets: &[&str],
    ) -> Result<Vec<u8>> {
        let request = request.build().map_err(|e| {
            Error::invalid_input(format!("cannot build the request: {e}")).with_operation(operation)
        })?;
        let response = self
            .pipeline
            .execute(request, Call::oauth(operation))
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.pipeline.read_body(operation, response).await?;
        if !status.is_success() {
            let err = response_error(status, &headers, &body, secrets).with_operation(operation);
            tracing::debug!(operation, status = status.as_u16(), error = %err, "Strava OAuth request failed");
            return Err(err);
        }
        Ok(body.to_vec())
    }
}

/// Rejects an empty secret before anything is sent.
fn require(operation: &'static str, secret: &Secret, what: &str) -> Result<()> {
    if secret.expose().trim().is_empty() {
        Err(Error::invalid_input(format!("the {what} is empty"))
            .with_operation(operation)
            .local())
    } else {
        Ok(())
    }
}

/// Strava's error for a non-2xx answer, with no secret in its message or excerpt.
fn response_error(status: StatusCode, headers: &HeaderMap, body: &[u8], secrets: &[&str]) -> Error {
    let body = redact_token_fields(body);
    let err = Error::from_response(status, headers, &body);
    if error_mentions(&err, secrets) {
        Error::from_response(status, headers, &scrub(&body, secrets))
    } else {
        err
    }
}

fn error_mentions(err: &Error, secrets: &[&str]) -> bool {
    let mut texts: Vec<&str> = vec![err.message()];
    texts.extend(err.body_excerpt());
    for detail in err.errors() {
        texts.extend(detail.resource.as_deref());
        texts.extend(detail.field.as_deref());
        texts.extend(detail.code.as_deref());
    }
    secrets
        .iter()
        .filter(|s| s.len() >= MIN_SCRUB_LEN)
        .any(|s| texts.iter().any(|t| t.contains(*s)))
}

/// Parses a token response. `previous_refresh` is kept when a refresh answer has no
/// `refresh_token` (Strava always sends one today).
fn decode_token_response(
    operation: &'static str,
    body: &[u8],
    secrets: &[&str],
    previous_refresh: Option<&Secret>,
) -> Result<TokenSet> {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            // Syntax errors name a position, never a value.
            return Err(decode_error(operation, ".", &e.to_string(), body, secrets));
        }
    };
    let mut known: Vec<&str> = secrets.to_vec();
    for key in ["access_token", "refresh_token"] {
        if let Some(token) = value.get(key).and_then(|v| v.as_str()) {
            known.push(token);
        }
    }
    let wire: WireTokenResponse = match serde_path_to_error::deserialize(&value) {
        Ok(wire) => wire,
        Err(e) => {
            let path = e.path().to_string();
            let cause = e.into_inner().to_string();
            return Err(decode_error(operation, &path, &cause, body, &known));
        }
    };
    let expires_at = match (wire.expires_at, wire.expires_in) {
        (Some(at), _) => at,
        (None, Some(seconds)) => Utc::now().timestamp().saturating_add(seconds),
        (None, None) => {
            return Err(decode_error(
                operation,
                "expires_at",
                "missing field `expires_at` (and no `expires_in`)",
                body,
                &known,
            ));
        }
    };
    let refresh_token = match (wire.refresh_token, previous_refresh) {
        (Some(token), _) => Secret::new(token),
        (None, Some(previous)) => previous.clone(),
        (None, None) => {
            return Err(decode_error(
                operation,
                "refresh_token",
                "missing field `refresh_token`",
                body,
                &known,
            ));
        }
    };
    let athlete = wire.athlete.filter(|v| !v.is_null()).map(|raw| {
        serde_json::from_value::<AthleteSummary>(raw.clone()).unwrap_or_else(|_| {
            tracing::debug!(
                operation,
                "athlete summary has unexpected types; kept as raw fields"
            );
            AthleteSummary {
                extra: match raw {
                    serde_json::Value::Object(map) => map,
                    other => {
                        let mut map = serde_json::Map::new();
                        map.insert("athlete".to_owned(), other);
                        map
                    }
                },
                ..AthleteSummary::default()
            }
        })
    });
    let scopes = wire.scope.as_deref().map(|list| {
        list.split([',', ' '])
            .filter_map(|s| s.trim().parse::<Scope>().ok())
            .collect::<Vec<_>>()
    });
    Ok(TokenSet {
        access_token: Secret::new(wire.access_token),
        refresh_token,
        expires_at,
        token_type: wire.token_type.unwrap_or_else(bearer),
        scopes,
        athlete,
    })
}

/// A decode error whose cause and excerpt have every known secret and token removed.
fn decode_error(
    operation: &'static str,
    path: &str,
    cause: &str,
    body: &[u8],
    secrets: &[&str],
) -> Error {
    let body = scrub(&redact_token_fields(body), secrets);
    let mut cause = cause.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        cause = cause.replace(*secret, "***");
    }
    Error::decode(operation, path, &cause, &body)
}

/// Replaces every occurrence of the secrets (at least [`MIN_SCRUB_LEN`] long) with `***`.
fn scrub(body: &[u8], secrets: &[&str]) -> Vec<u8> {
    let mut out = body.to_vec();
    for secret in secrets.iter().filter(|s| s.len() >= MIN_SCRUB_LEN) {
        out = replace_all(&out, secret.as_bytes(), b"***");
    }
    out
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Masks the string values of `"access_token"` and `"refresh_token"` keys, even in a
/// truncated body where the value has no closing quote.
fn redact_token_fields(body: &[u8]) -> Vec<u8> {
    const KEYS: [&[u8]; 2] = [b"\"access_token\"", b"\"refresh_token\""];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    'outer: while i < body.len() {
        for key in KEYS {
            if !body[i..].starts_with(key) {
                continue;
            }
            let mut j = i + key.len();
            while j < body.len() && body[j].is_ascii_whitespace() {
                j += 1;
            }
            if j >= body.len() || body[j] != b':' {
                continue;
            }
            j += 1;
            while j < body.len() && body[j].is_ascii_whitespace() {
                j += 1;
            }
            if j >= body.len() || body[j] != b'"' {
                continue;
            }
            // Copy up to and including the opening quote, mask the value.
            out.extend_from_slice(&body[i..=j]);
            out.extend_from_slice(b"***");
            let mut k = j + 1;
            while k < body.len() && body[k] != b'"' {
                k += if body[k] == b'\\' { 2 } else { 1 };
            }
            i = k.min(body.len());
            continue 'outer;
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// The token endpoint's answer, as Strava sends it.
#[derive(Deserialize)]
struct WireTokenResponse {
    #[serde(default)]
    token_type: Option<String>,
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    athlete: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_token_values_even_when_truncated() {
        let body = br#"{"token_type":"Bearer","access_token" : "abc\"def","refresh_token":"ghi"#;
        let out = String::from_utf8(redact_token_fields(body)).unwrap();
        assert_eq!(
            out,
            r#"{"token_type":"Bearer","access_token" : "***","refresh_token":"***"#
        );
        // A key used as a value (Strava's errors list) is left alone.
        let body = br#"{"errors":[{"field":"access_token","code":"invalid"}]}"#;
        assert_eq!(redact_token_fields(body), body.to_vec());
    }

    #[test]
    fn scrub_replaces_long_secrets_only() {
        let out = scrub(b"code=abcdefgh1234&x=code", &["abcdefgh1234", "code"]);
        assert_eq!(out, b"code=***&x=code".to_vec());
    }
}
