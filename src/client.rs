//! [`Client`], the entry point, and its [`ClientBuilder`].
//!
//! A `Client` is cheap to clone and safe to share across tasks: clones share the
//! connection pool, the tokens (and their single-flight refresh), and the rate limiter.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::api_v3::{ApiV3, BASE_URL, OAUTH_BASE_URL, Pipeline, RetryPolicy, Shared, TokenManager};
use crate::auth::{
    ApprovalPrompt, ClientCredentials, OAuth, Scope, Secret, TokenSet, TokenStore, TokenTypeHint,
};
use crate::error::{Error, Result};
use crate::generated::Client as GeneratedClient;
use crate::rate_limit::{Clock, RateLimitPolicy, RateLimitStatus, SystemClock};
use crate::types::DetailedAthlete;

/// Default time allowed for a whole request (connect, send, receive).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time allowed to connect.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("stravalib-rs/", env!("CARGO_PKG_VERSION"));

/// A Strava API client. See the [crate docs](crate) for a tour.
///
/// ```
/// let client = stravalib::Client::with_access_token("an-access-token");
/// assert_eq!(client.api().base_url(), stravalib::BASE_URL);
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    api: ApiV3,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client without tokens, for the OAuth flow (authorization URL, code exchange).
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// A client that sends `access_token` with every request (never refreshed).
    pub fn with_access_token(access_token: impl Into<Secret>) -> Self {
        Self::builder()
            .access_token(access_token)
            .build()
            .expect("the default configuration is valid")
    }

    /// A builder for every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: `STRAVA_ACCESS_TOKEN`,
    /// `STRAVA_REFRESH_TOKEN`, `STRAVA_CLIENT_ID`, `STRAVA_CLIENT_SECRET` (all optional;
    /// with a refresh token and client credentials, the access token is refreshed as
    /// needed).
    pub fn from_env() -> Result<Self> {
        Self::builder().from_env()?.build()
    }

    /// The HTTP-level API: the generated client and generic requests.
    pub fn api(&self) -> &ApiV3 {
        &self.api
    }

    /// The generated client, one builder method per operation.
    pub fn generated(&self) -> &GeneratedClient {
        self.api.generated()
    }

    /// The latest rate-limit usage Strava reported.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.api.rate_limit()
    }

    /// The current token set, when the client holds one (refreshes rotate it: persist it
    /// with a [`crate::auth::TokenStore`]).
    pub fn tokens(&self) -> Option<TokenSet> {
        self.api.tokens()
    }

    /// Replaces the client's tokens (all clones see the change).
    pub fn set_tokens(&self, tokens: TokenSet) {
        self.api.set_tokens(tokens);
    }

    /// The URL to send the athlete to for authorization (see [`crate::auth`]).
    ///
    /// ```
    /// use stravalib::auth::{ApprovalPrompt, Scope};
    /// let url = stravalib::Client::new()
    ///     .authorization_url(
    ///         1234,
    ///         "http://127.0.0.1:8000/authorization",
    ///         ApprovalPrompt::Auto,
    ///         &[Scope::Read, Scope::ActivityRead],
    ///         Some("xyz"),
    ///     )
    ///     .unwrap();
    /// assert!(url.as_str().starts_with("https://www.strava.com/oauth/authorize?client_id=1234"));
    /// ```
    pub fn authorization_url(
        &self,
        client_id: u64,
        redirect_uri: &str,
        approval_prompt: ApprovalPrompt,
        scopes: &[Scope],
        state: Option<&str>,
    ) -> Result<Url> {
        self.api
            .authorization_url(client_id, redirect_uri, approval_prompt, scopes, state)
    }

    /// Exchanges the code from the redirect for tokens, keeps them in this client (and
    /// its token store) and returns them. See [`ApiV3::exchange_code_for_token`].
    pub async fn exchange_code_for_token(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        code: impl Into<Secret>,
    ) -> Result<TokenSet> {
        self.api
            .exchange_code_for_token(client_id, client_secret, code)
            .await
    }

    /// Gets a new token set with a refresh token, keeps it in this client (and its token
    /// store) and returns it.
    pub async fn refresh_access_token(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
    ) -> Result<TokenSet> {
        self.api
            .refresh_access_token(client_id, client_secret, refresh_token)
            .await
    }

    /// Revokes `token` (access or refresh; revoking either revokes both) with the
    /// client's credentials.
    pub async fn revoke(
        &self,
        token: impl Into<Secret>,
        hint: Option<TokenTypeHint>,
    ) -> Result<()> {
        self.api.revoke(token, hint).await
    }

    /// Deauthorizes the app for the athlete of the current access token.
    #[deprecated(note = "Strava retires /oauth/deauthorize on 2027-06-01; use `revoke`")]
    pub async fn deauthorize(&self) -> Result<()> {
        #[allow(deprecated)]
        self.api.deauthorize().await
    }

    /// The authenticated athlete.
    pub async fn get_athlete(&self) -> Result<DetailedAthlete> {
        ApiV3::call(
            "getLoggedInAthlete",
            self.generated().get_logged_in_athlete().send(),
        )
        .await
    }
}

/// Settings for a [`Client`]. Every setting has a sensible default.
#[derive(Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    oauth_base: Option<String>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    rate_limit: Option<RateLimitPolicy>,
    retry: Option<RetryPolicy>,
    token_store: Option<Arc<dyn TokenStore>>,
    credentials: Option<ClientCredentials>,
    access_token: Option<Secret>,
    tokens: Option<TokenSet>,
    refresh_margin: Option<Duration>,
    clock: Option<Arc<dyn Clock>>,
}

impl ClientBuilder {
    /// The API base URL ([`BASE_URL`] by default; see also
    /// [`UPCOMING_BASE_URL`](crate::UPCOMING_BASE_URL)).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The OAuth base URL ([`OAUTH_BASE_URL`] by default).
    pub fn oauth_base(mut self, url: impl Into<String>) -> Self {
        self.oauth_base = Some(url.into());
        self
    }

    /// Uses your own `reqwest::Client` (its timeouts and user agent then apply).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Time allowed for a whole request ([`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time allowed to connect ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header ([`DEFAULT_USER_AGENT`]).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// How to respect Strava's rate limits (default: sleep at high priority).
    pub fn rate_limit(mut self, policy: impl Into<RateLimitPolicy>) -> Self {
        self.rate_limit = Some(policy.into());
        self
    }

    /// Retries of transient failures ([`RetryPolicy::default`]; [`RetryPolicy::none`]
    /// turns them off).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Where tokens are loaded from (when none are given) and saved to after a refresh.
    pub fn token_store(mut self, store: impl TokenStore + 'static) -> Self {
        self.token_store = Some(Arc::new(store));
        self
    }

    /// The app's client id and secret, needed to refresh and revoke tokens.
    pub fn credentials(mut self, credentials: ClientCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// A bare access token (never refreshed).
    pub fn access_token(mut self, token: impl Into<Secret>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// A full token set, refreshed automatically when credentials are set.
    pub fn tokens(mut self, tokens: TokenSet) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Refresh this long before the access token expires (default 5 minutes).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// The clock the client reads to decide when tokens expire and rate-limit windows
    /// reset (the system clock by default; the sandbox passes its own, so jumps in its
    /// time reach the client too). A [`RateLimitPolicy::Custom`] limiter keeps its own.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Reads `STRAVA_ACCESS_TOKEN`, `STRAVA_REFRESH_TOKEN`, `STRAVA_CLIENT_ID` and
    /// `STRAVA_CLIENT_SECRET`; settings already made are kept. A malformed client id is
    /// an invalid-input error.
    pub fn from_env(mut self) -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let access = var("STRAVA_ACCESS_TOKEN");
        let refresh = var("STRAVA_REFRESH_TOKEN");
        if let (Some(id), Some(secret)) = (var("STRAVA_CLIENT_ID"), var("STRAVA_CLIENT_SECRET")) {
            let client_id = id.trim().parse::<u64>().map_err(|_| {
                Error::invalid_input("STRAVA_CLIENT_ID must be a number (the app's client id)")
            })?;
            self.credentials
                .get_or_insert_with(|| ClientCredentials::new(client_id, secret));
        }
        match (access, refresh) {
            (access, Some(refresh)) if self.tokens.is_none() => {
                // Expiry unknown: 0 makes the first request refresh when credentials allow.
                let expires_at = if access.is_some() && self.credentials.is_none() {
                    i64::MAX
                } else {
                    0
                };
                self.tokens = Some(TokenSet::new(
                    access.unwrap_or_default(),
                    refresh,
                    expires_at,
                ));
            }
            (Some(access), _) if self.access_token.is_none() => {
                self.access_token = Some(Secret::new(access));
            }
            _ => {}
        }
        Ok(self)
    }

    /// Builds the client. Fails on an unusable base URL or HTTP client setting.
    pub fn build(self) -> Result<Client> {
        let base_url = self.base_url.unwrap_or_else(|| BASE_URL.to_owned());
        let parsed = Url::parse(&base_url)
            .map_err(|e| Error::invalid_input(format!("invalid base URL {base_url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::invalid_input(format!(
                "the base URL must be http(s), not {base_url:?}"
            )));
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
                .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
                .user_agent(
                    self.user_agent
                        .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned()),
                )
                .build()
                .map_err(|e| {
                    Error::invalid_input(format!("cannot build the HTTP client: {e}"))
                        .with_source(e)
                })?,
        };
        let oauth = OAuth::with_client(http.clone())
            .oauth_base(self.oauth_base.as_deref().unwrap_or(OAUTH_BASE_URL))?;
        let tokens = TokenManager::new(
            self.access_token,
            self.tokens,
            self.credentials,
            oauth,
            self.token_store,
            self.refresh_margin
                .unwrap_or(crate::api_v3::DEFAULT_REFRESH_MARGIN),
            self.clock.clone().unwrap_or_else(|| Arc::new(SystemClock)),
        );
        let policy = self.rate_limit.unwrap_or_default();
        let limiter = match (self.clock, policy) {
            (_, RateLimitPolicy::Custom(limiter)) => limiter,
            (Some(clock), policy) => policy.into_limiter_with_clock(clock),
            (None, policy) => policy.into_limiter(),
        };
        let pipeline = Pipeline::new(Shared {
            http: http.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            tokens,
            limiter,
            retry: self.retry.unwrap_or_default(),
        });
        let generated =
            GeneratedClient::new_with_client(base_url.trim_end_matches('/'), http, pipeline);
        Ok(Client {
            api: ApiV3::new(generated),
        })
    }
}
