//! [`Client`], the entry point, and its [`ClientBuilder`].
//!
//! A `Client` is cheap to clone and safe to share across tasks: clones share the
//! connection pool, the tokens (and their single-flight refresh), and the rate limiter.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::api_v3::{ApiV3, BASE_URL, DEFAULT_API_BASE, DEFAULT_SERVER, OAUTH_BASE_URL, host_port};
use crate::auth::{
    ApprovalPrompt, ClientCredentials, Endpoints, OAuth, Scope, Secret, TokenSet, TokenStore,
    TokenTypeHint,
};
use crate::error::{Error, Result};
use crate::generated::Client as GeneratedClient;
use crate::pipeline::{
    DEFAULT_REFRESH_MARGIN, Pipeline, Refresher, RetryPolicy, Shared, TokenManager, http_client,
    oauth_http_client,
};
use crate::rate_limit::{
    Budget, Clock, DEFAULT_MAX_WAIT, LocalBudget, RateLimitPolicy, RateLimitStatus, RateLimiter,
    SystemClock,
};

pub use crate::pipeline::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
};

/// A Strava API client. See the [crate docs](crate) for a tour.
///
/// Every operation of the API is a method returning its builder (see
/// [`operations`](crate::operations)), ending in `send()`:
///
/// ```no_run
/// # async fn run() -> stravalib::Result<()> {
/// let client = stravalib::Client::with_access_token("an-access-token");
/// let activity = client.get_activity(1234u64).include_all_efforts(true).send().await?;
/// # Ok(()) }
/// ```
///
/// A `Client` is cheap to clone and safe to share across tasks: clones share the
/// connection pool, the tokens (and their single-flight refresh), and the rate limiter.
#[derive(Clone, Debug)]
pub struct Client {
    generated: GeneratedClient,
    api: ApiV3,
    oauth: Arc<Endpoints>,
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
    /// `STRAVA_REFRESH_TOKEN`, `STRAVA_CLIENT_ID`, `STRAVA_CLIENT_SECRET`,
    /// `STRAVA_API_BASE`, `STRAVA_OAUTH_BASE` (all optional; with a refresh token and
    /// client credentials, the access token is refreshed as needed).
    pub fn from_env() -> Result<Self> {
        Self::builder().from_env()?.build()
    }

    /// Strava's API at the HTTP level: requests by URL through the same pipeline.
    pub fn api(&self) -> &ApiV3 {
        &self.api
    }

    /// The generated client that builds each operation's request.
    pub(crate) fn generated(&self) -> &GeneratedClient {
        &self.generated
    }

    pub(crate) fn pipeline(&self) -> &Pipeline {
        self.api.pipeline()
    }

    /// The latest rate-limit usage Strava reported.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.pipeline().shared().limiter.status()
    }

    /// The current token set, when the client holds one (refreshes rotate it: persist it
    /// with a [`crate::auth::TokenStore`]).
    pub fn tokens(&self) -> Option<TokenSet> {
        self.pipeline().shared().tokens.tokens()
    }

    /// Replaces the client's tokens (all clones see the change).
    pub fn set_tokens(&self, tokens: TokenSet) {
        self.pipeline().shared().tokens.set_tokens(tokens);
    }

    /// Strava's OAuth endpoints through this client's pipeline (its HTTP client, user
    /// agent and request span). Unlike the methods below, the tokens it returns are not
    /// kept in this client.
    pub fn oauth(&self) -> OAuth {
        OAuth::with_pipeline(self.pipeline().clone(), self.oauth.clone())
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
        crate::auth::authorization_url_for(
            self.oauth().authorization_request(client_id, redirect_uri),
            approval_prompt,
            scopes,
            state,
        )
    }

    /// Exchanges the code from the redirect for tokens, keeps them in this client (and
    /// its token store) and returns them.
    pub async fn exchange_code_for_token(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        code: impl Into<Secret>,
    ) -> Result<TokenSet> {
        let tokens = self
            .oauth()
            .exchange_code_for_token(client_id, client_secret, code)
            .await?;
        self.adopt(&tokens).await?;
        Ok(tokens)
    }

    /// Gets a new token set with a refresh token, keeps it in this client (and its token
    /// store) and returns it.
    pub async fn refresh_access_token(
        &self,
        client_id: u64,
        client_secret: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
    ) -> Result<TokenSet> {
        let tokens = self
            .oauth()
            .refresh_access_token(client_id, client_secret, refresh_token)
            .await?;
        self.adopt(&tokens).await?;
        Ok(tokens)
    }

    async fn adopt(&self, tokens: &TokenSet) -> Result<()> {
        if let Some(store) = self.pipeline().shared().tokens.store() {
            store.save(tokens).await?;
        }
        self.set_tokens(tokens.clone());
        Ok(())
    }

    /// Revokes `token` (access or refresh; revoking either revokes both) with the
    /// client's credentials.
    pub async fn revoke(
        &self,
        token: impl Into<Secret>,
        hint: Option<TokenTypeHint>,
    ) -> Result<()> {
        let credentials = self
            .pipeline()
            .shared()
            .tokens
            .credentials()
            .ok_or_else(|| {
                Error::invalid_input("revoke needs client credentials: set them on the builder")
            })?;
        self.oauth()
            .revoke(
                credentials.client_id,
                &credentials.client_secret,
                token,
                hint,
            )
            .await
    }

    /// Deauthorizes the app for the athlete of the current access token.
    #[deprecated(note = "Strava retires /oauth/deauthorize on 2027-06-01; use `revoke`")]
    pub async fn deauthorize(&self) -> Result<()> {
        let token = self
            .pipeline()
            .bearer()
            .await?
            .ok_or_else(|| Error::invalid_input("deauthorize needs an access token"))?;
        #[allow(deprecated)]
        self.oauth().deauthorize(token).await
    }
}

/// Settings for a [`Client`]. Every setting has a sensible default.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    server: Option<String>,
    api_base: Option<String>,
    oauth_base: Option<String>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    rate_limit: Option<RateLimitPolicy>,
    rate_limit_budget: Option<Arc<dyn Budget>>,
    max_rate_limit_wait: Option<Duration>,
    retry: Option<RetryPolicy>,
    token_store: Option<Arc<dyn TokenStore>>,
    credentials: Option<ClientCredentials>,
    access_token: Option<Secret>,
    tokens: Option<TokenSet>,
    refresh_margin: Option<Duration>,
    clock: Option<Arc<dyn Clock>>,
    allowed_hosts: Vec<String>,
    max_response_size: Option<usize>,
}

impl ClientBuilder {
    /// The API base URL ([`BASE_URL`] by default; see also
    /// [`UPCOMING_BASE_URL`](crate::UPCOMING_BASE_URL)).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API server, as stravalib's `ApiV3(server=...)` (default
    /// [`DEFAULT_SERVER`]); with
    /// [`api_base`](Self::api_base) it makes the base URL `https://{server}{api_base}`.
    /// [`base_url`](Self::base_url) overrides both.
    pub fn server(mut self, server: impl Into<String>) -> Self {
        self.server = Some(server.into());
        self
    }

    /// The API's path on the server (default
    /// [`DEFAULT_API_BASE`], `/api/v3`).
    pub fn api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = Some(api_base.into());
        self
    }

    /// The OAuth base URL ([`OAUTH_BASE_URL`] by default).
    pub fn oauth_base(mut self, url: impl Into<String>) -> Self {
        self.oauth_base = Some(url.into());
        self
    }

    /// Lets requests by absolute URL (see [`ApiV3`]) carry the access token to `host`
    /// (`host` or `host:port`) as well. By default only the API and OAuth hosts get it;
    /// a URL for any other host is refused before anything is sent.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.push(host.into());
        self
    }

    /// The largest answer body read, in bytes ([`DEFAULT_MAX_RESPONSE_SIZE`], 64 MiB);
    /// a larger answer is an error ([`Error::is_response_too_large`]) and is not read
    /// further. Error answers are read up to 64 KiB, for their message.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = Some(bytes);
        self
    }

    /// Uses your own `reqwest::Client` for API calls (its timeouts and user agent then
    /// apply). OAuth calls keep a client of their own that never follows redirects.
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

    /// Where the rate-limit policy keeps its counts (default: a fresh in-process
    /// [`LocalBudget`] per client, or per [`App`](crate::App)). Give clients one budget to
    /// share it: a `RedisBudget` (the `redis` feature) shares it with other processes too.
    /// The policy, clock and ceiling stay the builder's; a
    /// [`Custom`](RateLimitPolicy::Custom) limiter keeps its own.
    pub fn rate_limit_budget(mut self, budget: Arc<dyn Budget>) -> Self {
        self.rate_limit_budget = Some(budget);
        self
    }

    /// The longest the [`Sleep`](RateLimitPolicy::Sleep) policy waits at a time
    /// ([`DEFAULT_MAX_WAIT`], 15 minutes). A request that would wait longer (until
    /// midnight UTC for a spent daily window) fails at once with a rate-limited, local
    /// error whose `retry_at()` is the reset; so does a 429 whose reset is further away,
    /// instead of being waited out. `Duration::MAX` lifts the ceiling. Other policies never
    /// wait; a [`Custom`](RateLimitPolicy::Custom) limiter keeps its own setting (see
    /// [`SleepPolicy::with_max_wait`](crate::rate_limit::SleepPolicy::with_max_wait)).
    pub fn max_rate_limit_wait(mut self, max_wait: Duration) -> Self {
        self.max_rate_limit_wait = Some(max_wait);
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

    /// Reads `STRAVA_ACCESS_TOKEN`, `STRAVA_REFRESH_TOKEN`, `STRAVA_CLIENT_ID`,
    /// `STRAVA_CLIENT_SECRET`, `STRAVA_API_BASE` and `STRAVA_OAUTH_BASE`; settings
    /// already made are kept. A malformed client id is an invalid-input error.
    pub fn from_env(mut self) -> Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if self.base_url.is_none() {
            self.base_url = var("STRAVA_API_BASE");
        }
        if self.oauth_base.is_none() {
            self.oauth_base = var("STRAVA_OAUTH_BASE");
        }
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

    /// Resolves the HTTP client and the rate limiter once, so that every client built from
    /// clones of this builder shares one connection pool and one limiter (for
    /// [`App`](crate::App)).
    pub(crate) fn shared(mut self) -> Result<Self> {
        if self.http.is_none() {
            self.http = Some(http_client(
                self.timeout,
                self.connect_timeout,
                self.user_agent.clone(),
            )?);
        }
        let limiter = self.limiter();
        self.rate_limit = Some(RateLimitPolicy::Custom(limiter));
        Ok(self)
    }

    /// The rate limiter of the builder's policy, on its budget, clock and ceiling.
    fn limiter(&self) -> Arc<dyn RateLimiter> {
        self.rate_limit.clone().unwrap_or_default().into_limiter_on(
            self.rate_limit_budget
                .clone()
                .unwrap_or_else(|| Arc::new(LocalBudget::new())),
            self.clock.clone().unwrap_or_else(|| Arc::new(SystemClock)),
            self.max_rate_limit_wait.unwrap_or(DEFAULT_MAX_WAIT),
        )
    }

    /// Builds the client. Fails on an unusable base URL or HTTP client setting.
    pub fn build(self) -> Result<Client> {
        let limiter = self.limiter();
        let base_url = match (self.base_url, self.server, self.api_base) {
            (Some(url), _, _) => url,
            (None, None, None) => BASE_URL.to_owned(),
            (None, server, api_base) => format!(
                "https://{}/{}",
                server.as_deref().unwrap_or(DEFAULT_SERVER),
                api_base
                    .as_deref()
                    .unwrap_or(DEFAULT_API_BASE)
                    .trim_start_matches('/')
            ),
        };
        let parsed = Url::parse(&base_url)
            .map_err(|e| Error::invalid_input(format!("invalid base URL {base_url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::invalid_input(format!(
                "the base URL must be http(s), not {base_url:?}"
            )));
        }
        let http = match self.http {
            Some(http) => http,
            None => http_client(self.timeout, self.connect_timeout, self.user_agent.clone())?,
        };
        // OAuth calls carry secrets in their bodies: their client never follows redirects.
        let oauth_http = oauth_http_client(self.timeout, self.connect_timeout, self.user_agent)?;
        let oauth_base =
            crate::auth::parse_oauth_base(self.oauth_base.as_deref().unwrap_or(OAUTH_BASE_URL))?;
        let oauth = Arc::new(Endpoints::new(oauth_base.clone())?);
        let refresh_endpoints = oauth.clone();
        let refresher: Refresher = Arc::new(move |pipeline, credentials, current| {
            let oauth = OAuth::with_pipeline(pipeline, refresh_endpoints.clone());
            Box::pin(async move { oauth.refresh_token_set(&credentials, &current).await })
        });
        let tokens = TokenManager::new(
            self.access_token,
            self.tokens,
            self.credentials,
            self.token_store,
            self.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN),
            self.clock.clone().unwrap_or_else(|| Arc::new(SystemClock)),
        );
        let mut allowed = vec![host_port(&parsed), host_port(&oauth_base)];
        allowed.extend(self.allowed_hosts);
        let pipeline = Pipeline::new(Shared {
            http: http.clone(),
            oauth_http,
            max_response_size: self.max_response_size.unwrap_or(DEFAULT_MAX_RESPONSE_SIZE),
            tokens,
            limiter,
            retry: self.retry.unwrap_or_default(),
            refresh: Some(refresher),
        });
        let base = base_url.trim_end_matches('/');
        let generated = GeneratedClient::new_with_client(base, http);
        let api = ApiV3::new(pipeline, parsed, allowed);
        Ok(Client {
            generated,
            api,
            oauth,
        })
    }
}
