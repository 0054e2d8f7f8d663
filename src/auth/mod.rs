//! OAuth 2 for Strava: authorization URLs, CSRF `state`, code exchange, token refresh,
//! revocation, and storage of the resulting tokens.
//!
//! The flow, as in Strava's documentation:
//!
//! 1. Send the athlete to an authorization URL ([`authorization_url`] or
//!    [`AuthorizationRequest`]), with a random [`CsrfState`] kept in the user's session.
//! 2. Strava redirects back with `code`, `scope` and `state` ([`AuthorizationCallback`]);
//!    check the state with [`CsrfState::verify`].
//! 3. Exchange the code for a [`TokenSet`] with [`OAuth::exchange_code_for_token`] and keep
//!    it in a [`TokenStore`] ([`FileTokenStore`], [`MemoryTokenStore`], or your own).
//! 4. Access tokens live six hours: [`OAuth::refresh_access_token`] gets a new set (the
//!    refresh token may rotate, so save the new set before using it).
//! 5. [`OAuth::revoke`] ends the authorization.
//!
//! Secrets (tokens, the client secret, authorization codes) are held in [`Secret`], whose
//! `Debug` and `Display` print `Secret(***)`; no error message or `tracing` event of this
//! module contains one.

mod token_store;

pub use token_store::{FileTokenStore, MemoryTokenStore, TokenStore};

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;
use url::Url;

use crate::error::{Error, ErrorKind, Result};

/// Strava's OAuth base URL; endpoints are `{base}/authorize`, `{base}/token`,
/// `{base}/revoke` and `{base}/deauthorize`.
pub const DEFAULT_OAUTH_BASE: &str = "https://www.strava.com/oauth";

/// Scopes requested when none are given: `read,activity:read`.
pub const DEFAULT_SCOPES: &[Scope] = &[Scope::Read, Scope::ActivityRead];

/// Secrets shorter than this are not searched for in Strava's error bodies (a short value
/// would match ordinary words such as `code`); real Strava secrets are 40 characters.
const MIN_SCRUB_LEN: usize = 8;

/// Default whole-request timeout of [`OAuth::new`].
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default connection timeout of [`OAuth::new`].
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// Scopes and approval prompt
// ---------------------------------------------------------------------------------------

/// A permission an application asks the athlete for, as Strava spells it on the wire.
///
/// `Display`, `FromStr` and serde all use the wire string (`activity:read_all`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scope {
    /// `read`: public segments, routes, profile data, posts, events, club feeds, leaderboards.
    Read,
    /// `read_all`: private routes, segments and events.
    ReadAll,
    /// `profile:read_all`: all profile information, even if private.
    ProfileReadAll,
    /// `profile:write`: update the athlete's weight and FTP, star or unstar segments.
    ProfileWrite,
    /// `activity:read`: activities visible to everyone or to followers.
    ActivityRead,
    /// `activity:read_all`: like `activity:read`, plus "Only You" activities and privacy zone data.
    ActivityReadAll,
    /// `activity:write`: create manual activities and uploads, edit activities.
    ActivityWrite,
}

impl Scope {
    /// Every scope, in Strava's documentation order.
    pub const ALL: &'static [Scope] = &[
        Scope::Read,
        Scope::ReadAll,
        Scope::ProfileReadAll,
        Scope::ProfileWrite,
        Scope::ActivityRead,
        Scope::ActivityReadAll,
        Scope::ActivityWrite,
    ];

    /// The wire string, e.g. `"activity:read_all"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::ReadAll => "read_all",
            Scope::ProfileReadAll => "profile:read_all",
            Scope::ProfileWrite => "profile:write",
            Scope::ActivityRead => "activity:read",
            Scope::ActivityReadAll => "activity:read_all",
            Scope::ActivityWrite => "activity:write",
        }
    }

    /// Parses a comma-separated list such as Strava's `scope=read,activity:read` callback
    /// parameter. Whitespace around items and empty items are ignored; duplicates are
    /// dropped (first occurrence kept).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming the first unknown scope.
    ///
    /// ```
    /// use stravalib::auth::Scope;
    /// let scopes = Scope::parse_list("read, activity:read")?;
    /// assert_eq!(scopes, [Scope::Read, Scope::ActivityRead]);
    /// # Ok::<(), stravalib::Error>(())
    /// ```
    pub fn parse_list(list: &str) -> Result<Vec<Scope>> {
        let mut scopes = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let scope: Scope = item.parse()?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok(scopes)
    }

    /// Joins scopes with commas, the way Strava expects them: `read,activity:read`.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                Error::invalid_input(format!("unknown Strava scope `{}`", bounded(s, 64)))
            })
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether Strava shows the authorization page to an athlete who already authorized the app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ApprovalPrompt {
    /// `auto`: skip the page when the athlete already authorized these scopes (default).
    #[default]
    Auto,
    /// `force`: always show the page.
    Force,
}

impl ApprovalPrompt {
    /// The wire string: `"auto"` or `"force"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApprovalPrompt::Auto => "auto",
            ApprovalPrompt::Force => "force",
        }
    }
}

impl fmt::Display for ApprovalPrompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalPrompt {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(ApprovalPrompt::Auto),
            "force" => Ok(ApprovalPrompt::Force),
            other => Err(Error::invalid_input(format!(
                "unknown approval_prompt `{}` (expected `auto` or `force`)",
                bounded(other, 64)
            ))),
        }
    }
}

impl Serialize for ApprovalPrompt {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApprovalPrompt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Which kind of token is passed to [`OAuth::revoke`] (`token_type_hint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenTypeHint {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
}

impl TokenTypeHint {
    /// The wire string: `"access_token"` or `"refresh_token"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
        }
    }
}

impl fmt::Display for TokenTypeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------
// Secrets and credentials
// ---------------------------------------------------------------------------------------

/// A secret string (access or refresh token, client secret, authorization code).
///
/// `Debug` and `Display` print `Secret(***)`; read the value with [`Secret::expose`].
/// Equality is constant-time. Serde reads and writes the plain value (token stores need
/// it), so treat serialized output as secret.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `true` when the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<&String> for Secret {
    fn from(value: &String) -> Self {
        Self(value.clone())
    }
}

impl From<&Secret> for Secret {
    fn from(value: &Secret) -> Self {
        value.clone()
    }
}

/// An application's client id and secret (from <https://www.strava.com/settings/api>).
///
/// `Debug` shows the id and `Secret(***)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The application's numeric client id (public: it appears in authorization URLs).
    pub client_id: u64,
    /// The application's client secret.
    pub client_secret: Secret,
}

impl ClientCredentials {
    /// Credentials from an id and a secret.
    pub fn new(client_id: u64, client_secret: impl Into<Secret>) -> Self {
        Self {
            client_id,
            client_secret: client_secret.into(),
        }
    }

    /// Reads `STRAVA_CLIENT_ID` and `STRAVA_CLIENT_SECRET` from the environment.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming the variable that is missing, empty or (for the
    /// id) not a number. Values are never included in the message.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let id = lookup("STRAVA_CLIENT_ID")
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::invalid_input("STRAVA_CLIENT_ID is not set"))?;
        let client_id = id.trim().parse::<u64>().map_err(|_| {
            Error::invalid_input(
                "STRAVA_CLIENT_ID is not a number (expected the numeric client id)",
            )
        })?;
        let secret = lookup("STRAVA_CLIENT_SECRET")
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::invalid_input("STRAVA_CLIENT_SECRET is not set"))?;
        Ok(Self::new(client_id, secret.trim()))
    }
}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

/// The athlete summary Strava returns with a code exchange.
///
/// Known fields are typed; everything else is kept in [`extra`](Self::extra), so a store
/// round trip loses nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AthleteSummary {
    /// The athlete's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The athlete's username, if they chose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// URL of the 124x124 profile picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// URL of the 62x62 profile picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_medium: Option<String>,
    /// Every other field Strava sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The tokens of one authorized athlete.
///
/// `Debug` never shows the tokens (they are [`Secret`]s). Serde writes them in plain text,
/// for [`TokenStore`]s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenSet {
    /// The short-lived (six hours) token sent as `Authorization: Bearer`.
    pub access_token: Secret,
    /// The token that gets a new access token; it may change on every refresh.
    pub refresh_token: Secret,
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: i64,
    /// The token type, `Bearer`.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// The scopes granted, when known (Strava reports them on the redirect, not in the
    /// token response: see [`AuthorizationCallback::scopes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
    /// The athlete, as returned by a code exchange (refreshes do not return it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athlete: Option<AthleteSummary>,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

impl TokenSet {
    /// A `Bearer` token set with no scopes or athlete known.
    pub fn new(
        access_token: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
        expires_at: i64,
    ) -> Self {
        Self {
            access_token: access_token.into(),
            refresh_token: refresh_token.into(),
            expires_at,
            token_type: bearer(),
            scopes: None,
            athlete: None,
        }
    }

    /// Sets the granted scopes.
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.scopes = Some(scopes.into_iter().collect());
        self
    }

    /// Sets the athlete summary.
    pub fn with_athlete(mut self, athlete: AthleteSummary) -> Self {
        self.athlete = Some(athlete);
        self
    }

    /// [`expires_at`](Self::expires_at) as a time. An out-of-range value reads as the
    /// earliest representable time (that is, expired).
    pub fn expires_at_time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.expires_at, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// `true` when the access token expires within `margin` of `now` (or already has).
    ///
    /// ```
    /// use std::time::Duration;
    /// use chrono::{TimeZone, Utc};
    /// use stravalib::auth::TokenSet;
    ///
    /// let tokens = TokenSet::new("a", "r", 1_700_003_600);
    /// let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    /// assert!(!tokens.is_expired_within(Duration::from_secs(60), now));
    /// assert!(tokens.is_expired_within(Duration::from_secs(3600), now));
    /// ```
    pub fn is_expired_within(&self, margin: Duration, now: DateTime<Utc>) -> bool {
        let margin = i64::try_from(margin.as_secs()).unwrap_or(i64::MAX);
        now.timestamp().saturating_add(margin) >= self.expires_at
    }

    /// `true` when the access token has expired (no margin, current time).
    pub fn is_expired(&self) -> bool {
        self.is_expired_within(Duration::ZERO, Utc::now())
    }

    /// `Some(true)` when `scope` is known to be granted, `Some(false)` when known not to
    /// be, `None` when the granted scopes are unknown.
    pub fn has_scope(&self, scope: Scope) -> Option<bool> {
        self.scopes.as_ref().map(|s| s.contains(&scope))
    }
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

// ---------------------------------------------------------------------------------------
// CSRF state
// ---------------------------------------------------------------------------------------

/// A random OAuth `state` value that ties a redirect back to the session that started it.
///
/// Generate one per sign-in, keep it in the user's session, put it in the authorization
/// URL, and [`verify`](Self::verify) the `state` Strava sends back. `Debug` hides the value.
///
/// ```
/// use stravalib::auth::CsrfState;
/// let state = CsrfState::generate();
/// assert!(state.verify(state.as_str()).is_ok());
/// assert!(state.verify("forged").unwrap_err().is_invalid_input());
/// ```
#[derive(Clone)]
pub struct CsrfState(String);

impl CsrfState {
    /// 256 bits from the operating system's CSPRNG-seeded thread generator, URL-safe
    /// base64 without padding (43 characters).
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Rebuilds a state kept elsewhere (a session store, a cookie).
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value to put in the authorization URL and the session.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks the `state` received on the redirect, in constant time.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when it differs (or is empty): the redirect did not
    /// come from the sign-in this state belongs to. Neither value is in the message.
    pub fn verify(&self, received: &str) -> Result<()> {
        let same: bool = self.0.as_bytes().ct_eq(received.as_bytes()).into();
        if same && !self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "OAuth state mismatch: the `state` on the redirect is not the one this sign-in \
                 sent (possible cross-site request forgery)",
            )
            .local())
        }
    }
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfState(***)")
    }
}

// ---------------------------------------------------------------------------------------
// Authorization URL
// ---------------------------------------------------------------------------------------

/// Builds the URL that sends an athlete to Strava's authorization page.
///
/// ```
/// use stravalib::auth::{ApprovalPrompt, AuthorizationRequest, Scope};
///
/// let url = AuthorizationRequest::new(1234, "http://localhost:8080/cb")
///     .scopes([Scope::Read, Scope::ActivityReadAll])
///     .approval_prompt(ApprovalPrompt::Force)
///     .state("xyz")
///     .url()?;
/// assert_eq!(
///     url.as_str(),
///     "https://www.strava.com/oauth/authorize?client_id=1234\
///      &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&response_type=code\
///      &approval_prompt=force&scope=read%2Cactivity%3Aread_all&state=xyz"
/// );
/// # Ok::<(), stravalib::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    client_id: u64,
    redirect_uri: String,
    scopes: Vec<Scope>,
    approval_prompt: ApprovalPrompt,
    state: Option<String>,
    oauth_base: String,
}

impl AuthorizationRequest {
    /// A request with the default scopes ([`DEFAULT_SCOPES`]), `approval_prompt=auto`, no
    /// state, and Strava's OAuth base.
    pub fn new(client_id: u64, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id,
            redirect_uri: redirect_uri.into(),
            scopes: DEFAULT_SCOPES.to_vec(),
            approval_prompt: ApprovalPrompt::Auto,
            state: None,
            oauth_base: DEFAULT_OAUTH_BASE.to_owned(),
        }
    }

    /// The scopes to request, sent comma-joined in this order (duplicates dropped). An
    /// empty list means [`DEFAULT_SCOPES`].
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut list = Vec::new();
        for scope in scopes {
            if !list.contains(&scope) {
                list.push(scope);
            }
        }
        self.scopes = if list.is_empty() {
            DEFAULT_SCOPES.to_vec()
        } else {
            list
        };
        self
    }

    /// Whether to show the authorization page again to an athlete who already approved.
    pub fn approval_prompt(mut self, prompt: ApprovalPrompt) -> Self {
        self.approval_prompt = prompt;
        self
    }

    /// The `state` value returned on the redirect; use [`CsrfState::generate`].
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Overrides the OAuth base URL (default [`DEFAULT_OAUTH_BASE`]); the page is
    /// `{base}/authorize`.
    pub fn oauth_base(mut self, base: impl Into<String>) -> Self {
        self.oauth_base = base.into();
        self
    }

    /// The authorization URL.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the redirect URI is not an absolute `http` or
    /// `https` URL (or has a fragment), or the OAuth base is not a usable URL.
    pub fn url(&self) -> Result<Url> {
        validate_redirect_uri(&self.redirect_uri)?;
        let base = parse_oauth_base(&self.oauth_base)?;
        let mut url = endpoint(&base, "authorize")?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.client_id.to_string())
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("approval_prompt", self.approval_prompt.as_str())
                .append_pair("scope", &Scope::join(&self.scopes));
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
        }
        Ok(url)
    }
}

/// The URL of Strava's authorization page (`https://www.strava.com/oauth/authorize`).
///
/// `scopes` empty means [`DEFAULT_SCOPES`] (`read,activity:read`); `state` is added when
/// given. For another OAuth base, use [`AuthorizationRequest::oauth_base`].
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when `redirect_uri` is not an absolute `http`/`https` URL.
///
/// ```
/// use stravalib::auth::{authorization_url, ApprovalPrompt, CsrfState, Scope};
///
/// let url = authorization_url(1234, "http://127.0.0.1:5000/authorization",
///     ApprovalPrompt::Auto, &[], None)?;
/// assert_eq!(
///     url.as_str(),
///     "https://www.strava.com/oauth/authorize?client_id=1234\
///      &redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fauthorization\
///      &response_type=code&approval_prompt=auto&scope=read%2Cactivity%3Aread"
/// );
///
/// // With scopes and a CSRF state kept in the session:
/// let state = CsrfState::generate();
/// let url = authorization_url(1234, "https://example.com/cb", ApprovalPrompt::Force,
///     &[Scope::ActivityWrite], Some(state.as_str()))?;
/// assert!(url.query().unwrap().ends_with(&format!("scope=activity%3Awrite&state={}", state.as_str())));
///
/// // Not an absolute http(s) URL:
/// let err = authorization_url(1234, "/cb", ApprovalPrompt::Auto, &[], None).unwrap_err();
/// assert!(err.is_invalid_input());
/// # Ok::<(), stravalib::Error>(())
/// ```
pub fn authorization_url(
    client_id: u64,
    redirect_uri: &str,
    approval_prompt: ApprovalPrompt,
    scopes: &[Scope],
    state: Option<&str>,
) -> Result<Url> {
    authorization_url_for(
        AuthorizationRequest::new(client_id, redirect_uri),
        approval_prompt,
        scopes,
        state,
    )
}

/// [`authorization_url`] for a request already aimed at an OAuth base.
pub(crate) fn authorization_url_for(
    request: AuthorizationRequest,
    approval_prompt: ApprovalPrompt,
    scopes: &[Scope],
    state: Option<&str>,
) -> Result<Url> {
    let mut request = request
        .approval_prompt(approval_prompt)
        .scopes(scopes.iter().copied());
    if let Some(state) = state {
        request = request.state(state);
    }
    request.url()
}

fn validate_redirect_uri(redirect_uri: &str) -> Result<()> {
    let shown = bounded(redirect_uri, 200);
    let url = Url::parse(redirect_uri).map_err(|e| {
        Error::invalid_input(format!(
            "redirect_uri `{shown}` is not an absolute http(s) URL ({e})"
        ))
        .local()
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid_input(format!(
            "redirect_uri `{shown}` must use http or https, not `{}`",
            url.scheme()
        ))
        .local());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(format!("redirect_uri `{shown}` has no host")).local());
    }
    if url.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "redirect_uri `{shown}` must not contain a fragment (`#...`)"
        ))
        .local());
    }
    Ok(())
}

fn parse_oauth_base(base: &str) -> Result<Url> {
    let shown = bounded(base, 200);
    let url = Url::parse(base).map_err(|e| {
        Error::invalid_input(format!("OAuth base `{shown}` is not an absolute URL ({e})")).local()
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(format!(
            "OAuth base `{shown}` must be an http(s) URL with a host"
        ))
        .local());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "OAuth base `{shown}` must not have a query or fragment"
        ))
        .local());
    }
    Ok(url)
}

/// `{base}/{name}`, keeping every segment of the base.
fn endpoint(base: &Url, name: &str) -> Result<Url> {
    let text = format!("{}/{name}", base.as_str().trim_end_matches('/'));
    Url::parse(&text)
        .map_err(|e| Error::invalid_input(format!("bad OAuth endpoint `{text}`: {e}")).local())
}

// ---------------------------------------------------------------------------------------
// Redirect callback
// ---------------------------------------------------------------------------------------

/// What Strava sends back to the redirect URI: `code`, `scope` and `state`.
///
/// ```
/// use stravalib::auth::{AuthorizationCallback, CsrfState, Scope};
///
/// let state = CsrfState::from_stored("s3");
/// let callback = AuthorizationCallback::from_query("state=s3&code=c0de&scope=read,activity:read")?;
/// callback.verify_state(&state)?;
/// assert_eq!(callback.code.expose(), "c0de");
/// assert_eq!(callback.scopes, Some(vec![Scope::Read, Scope::ActivityRead]));
/// # Ok::<(), stravalib::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthorizationCallback {
    /// The authorization code to pass to [`OAuth::exchange_code_for_token`].
    pub code: Secret,
    /// The `state` value, if any.
    pub state: Option<String>,
    /// The scopes the athlete granted (they may uncheck some), when Strava sent them.
    /// Scopes this crate does not know are skipped.
    pub scopes: Option<Vec<Scope>>,
}

impl AuthorizationCallback {
    /// Parses the redirect's query string (without the leading `?`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when Strava sent `error` (e.g. `access_denied`: the
    /// athlete declined) or no `code`.
    pub fn from_query(query: &str) -> Result<Self> {
        let mut code = None;
        let mut state = None;
        let mut scope = None;
        let mut error = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "code" => code = Some(Secret::new(value.into_owned())),
                "state" => state = Some(value.into_owned()),
                "scope" => scope = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                _ => {}
            }
        }
        if let Some(error) = error {
            return Err(Error::invalid_input(format!(
                "Strava did not authorize the application: error `{}`{}",
                bounded(&error, 64),
                if error == "access_denied" {
                    " (the athlete declined)"
                } else {
                    ""
                }
            ))
            .local());
        }
        let code = code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::invalid_input("the redirect carries no `code`").local())?;
        let scopes = scope.map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .filter_map(|s| match s.parse::<Scope>() {
                    Ok(scope) => Some(scope),
                    Err(_) => {
                        tracing::debug!(scope = %bounded(s, 64), "ignoring unknown scope on redirect");
                        None
                    }
                })
                .fold(Vec::new(), |mut acc, s| {
                    if !acc.contains(&s) {
                        acc.push(s);
                    }
                    acc
                })
        });
        Ok(Self {
            code,
            state,
            scopes,
        })
    }

    /// Parses the query of the full redirect URL.
    ///
    /// # Errors
    /// As [`from_query`](Self::from_query).
    pub fn from_url(url: &Url) -> Result<Self> {
        Self::from_query(url.query().unwrap_or(""))
    }

    /// Checks the returned `state` against the one kept in the session.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when it is missing or differs.
    pub fn verify_state(&self, expected: &CsrfState) -> Result<()> {
        expected.verify(self.state.as_deref().unwrap_or(""))
    }
}

// ---------------------------------------------------------------------------------------
// OAuth client
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Endpoints {
    base: Url,
    token: Url,
    revoke: Url,
    deauthorize: Url,
}

impl Endpoints {
    fn new(base: Url) -> Result<Self> {
        Ok(Self {
            token: endpoint(&base, "token")?,
            revoke: endpoint(&base, "revoke")?,
            deauthorize: endpoint(&base, "deauthorize")?,
            base,
        })
    }
}

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
    http: reqwest::Client,
    endpoints: Arc<Endpoints>,
}

impl Default for OAuth {
    fn default() -> Self {
        Self::new()
    }
}

impl OAuth {
    /// A client for [`DEFAULT_OAUTH_BASE`] with its own HTTP client (30 s request and
    /// 10 s connect timeouts).
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(DEFAULT_TIMEOUT)
            .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
            .user_agent(concat!("stravalib/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self::with_client(http)
    }

    /// A client for [`DEFAULT_OAUTH_BASE`] that sends through `http` (share one
    /// `reqwest::Client` with the rest of the application).
    pub fn with_client(http: reqwest::Client) -> Self {
        let base = Url::parse(DEFAULT_OAUTH_BASE).expect("the default OAuth base is a valid URL");
        let endpoints = Endpoints::new(base).expect("the default OAuth endpoints are valid URLs");
        Self {
            http,
            endpoints: Arc::new(endpoints),
        }
    }

    /// Uses another OAuth base (a sandbox, a test server); endpoints become
    /// `{base}/token`, `{base}/revoke`, `{base}/deauthorize` and `{base}/authorize`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `base` is not an absolute http(s) URL without
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
        &self.http
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
        let request = self.http.post(self.endpoints.token.clone()).form(&form);
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
    /// set (see [`TokenStore`]) before using it. The set has no scopes or athlete; see
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
        let request = self.http.post(self.endpoints.token.clone()).form(&form);
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
            .http
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
    /// [`ErrorKind::InvalidInput`] for a token that cannot go in a header.
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
            .http
            .post(self.endpoints.deauthorize.clone())
            .bearer_auth(access_token.expose());
        // The answer echoes the token: it is read and dropped, never logged.
        self.send(OP, request, &[access_token.expose()]).await?;
        tracing::debug!(operation = OP, "application deauthorized");
        Ok(())
    }

    /// Sends `request`, returning the body of a 2xx answer and Strava's error otherwise.
    async fn send(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        secrets: &[&str],
    ) -> Result<Vec<u8>> {
        let started = Instant::now();
        let transport = |e: reqwest::Error| Error::from_reqwest(e).with_operation(operation);
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let err = transport(e);
                tracing::debug!(operation, error = %err, "Strava OAuth request failed to send");
                return Err(err);
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if !status.is_success() {
            let err = response_error(status, &headers, &body, secrets).with_operation(operation);
            tracing::debug!(
                operation,
                status = status.as_u16(),
                elapsed_ms,
                error = %err,
                "Strava OAuth request failed"
            );
            return Err(err);
        }
        tracing::debug!(
            operation,
            status = status.as_u16(),
            elapsed_ms,
            "Strava OAuth request succeeded"
        );
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

/// At most `max` characters of `text`, for echoing user input in messages.
fn bounded(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_lookup() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let creds = ClientCredentials::from_lookup(env(&[
            ("STRAVA_CLIENT_ID", "1234"),
            ("STRAVA_CLIENT_SECRET", "s3cr3t-value-xyz"),
        ]))
        .unwrap();
        assert_eq!(creds.client_id, 1234);
        assert_eq!(creds.client_secret.expose(), "s3cr3t-value-xyz");

        let err = ClientCredentials::from_lookup(env(&[("STRAVA_CLIENT_ID", "1234")])).unwrap_err();
        assert!(err.is_invalid_input());
        assert!(err.message().contains("STRAVA_CLIENT_SECRET"));

        let err = ClientCredentials::from_lookup(env(&[
            ("STRAVA_CLIENT_ID", "abc-secretish"),
            ("STRAVA_CLIENT_SECRET", "s3cr3t-value-xyz"),
        ]))
        .unwrap_err();
        assert!(err.message().contains("STRAVA_CLIENT_ID"));
        assert!(!format!("{err:?}").contains("abc-secretish"));
        assert!(!format!("{err:?}").contains("s3cr3t-value-xyz"));
    }

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
