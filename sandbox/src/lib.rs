//! An embedded, offline Strava for quick starts and tests of apps built on
//! [`stravalib`].
//!
//! [`Sandbox::start`] runs an HTTP server on `127.0.0.1` (a random port) that speaks the
//! Strava API v3 and Strava's OAuth for every operation in stravalib's OpenAPI
//! description, with Strava's semantics: paging, scopes, expiring access tokens and
//! rotating refresh tokens, rate limits with their headers, uploads processed in the
//! background, push subscriptions and webhook events, and Strava's error bodies. Its data
//! (athletes, activities with streams of thousands of points, gear, clubs, segments,
//! routes) is generated deterministically from a seed, lazily, so tens of thousands of
//! activities start as fast as ten. Faults can be injected per route for resilience
//! tests. Like stripe-mock, but in-process.
//!
//! A user's test, in five lines:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use stravalib_sandbox::Sandbox;
//! let sandbox = Sandbox::start().await?;
//! let client = sandbox.client();
//! let athlete = client.get_athlete().await?;
//! assert!(athlete.id.is_some());
//! # Ok(()) }
//! ```
//!
//! # What it serves
//!
//! Under [`api_base`](Sandbox::api_base) (`http://127.0.0.1:PORT/api/v3`), every
//! operation of `openapi/strava.json`:
//!
//! - athletes: `GET /athlete` (detailed with `profile:read_all`, a summary otherwise),
//!   `PUT /athlete` (form `weight`), `/athlete/zones`,
//!   `/athletes/{id}/stats`, `/athlete/activities` (newest first; `before`/`after` epoch
//!   filters; with only `after`, oldest first, as Strava does), `/athlete/clubs`,
//!   `/athletes/{id}/routes`;
//! - activities: `POST /activities` (form body, a manual activity), `GET/PUT
//!   /activities/{id}` (JSON body), `laps`, `zones`, `kudos`, `comments` (cursor paging
//!   with `page_size`/`after_cursor`, or `page`/`per_page`), `photos` (`size`: the edge
//!   length the URLs are keyed by, 100 by default), `streams` (`keys`
//!   comma-separated; `distance` always comes along; `key_by_type=true` for an object keyed
//!   by type, a list otherwise);
//! - clubs: `/clubs/{id}`; the members, admins and activities endpoints Strava retired on
//!   2026-09-01 answer 404 like the live API unless
//!   [`retired_endpoints(false)`](SandboxBuilder::retired_endpoints);
//! - gear, routes (`export_gpx`, `export_tcx` as XML, `streams` keyed by type, a list
//!   with `key_by_type=false`), segments (`starred`, `explore`, `PUT starred` with form `starred`,
//!   `streams`), segment efforts and their streams;
//! - uploads: multipart `POST /uploads` (`file`, `data_type` fit/tcx/gpx and `.gz`,
//!   `name`, `description`, `trainer`, `commute`, `external_id`, as multipart fields or
//!   query parameters), processed "in the
//!   background": `GET /uploads/{id}` says ready after
//!   [`upload_processing`](SandboxBuilder::upload_processing) polls or sandbox-clock time.
//!   GPX, TCX and FIT files are really parsed; a duplicate (same `external_id` or the same
//!   file) or an unreadable file ends in Strava's error;
//! - push subscriptions: `POST/GET /push_subscriptions`, `DELETE
//!   /push_subscriptions/{id}`, with the callback challenge; events are POSTed to the
//!   callback when activities are created, updated (title or type) or deleted
//!   ([`Sandbox::delete_activity`]) and when an athlete revokes access.
//!
//! Pages: `page` from 1, `per_page` 30 by default and at most 200 (larger values are
//! clamped). Unknown ids answer 404 `{"message": "Record Not Found", ...}`.
//!
//! Under [`oauth_base`](Sandbox::oauth_base): `GET /authorize` approves at once and
//! redirects with `code`, `state` and `scope` (the athlete is athlete 0, or the one set
//! with [`Sandbox::authorize_as`]); `POST /token` exchanges codes (once each) and refresh
//! tokens (each refresh issues a new refresh token; the previous one stops working once
//! the new one is used); `POST /revoke` (HTTP Basic client credentials) and
//! `POST /deauthorize` (bearer) end an authorization. The same endpoints answer under
//! `/api/v3/oauth/` too (Strava's description gives that token URL, and clients use it).
//!
//! Like Strava, it takes what clients send: booleans as `true`/`false` in any case or
//! `1`/`0`, form or JSON bodies on writes, parameters in the query string or the body,
//! trailing slashes, tokens in upper-case hex. Streams and detailed activities are derived
//! once and kept (bounded) while the activity's fields stay the same, so repeated reads
//! are cheap in debug builds and edits show at once.
//!
//! Every API answer carries `X-RateLimit-Limit`/`-Usage` and `X-ReadRateLimit-Limit`/
//! `-Usage`. Windows reset on the quarter hour and at midnight UTC of the
//! [sandbox clock](SandboxClock); over a limit, the answer is 429 with Strava's body.
//! Tokens must travel in the `Authorization: Bearer` header: an `access_token` query
//! parameter is refused with 401. A token without the scope an operation needs gets
//! Strava's 401 (`{"resource": "AccessToken", "field": "activity:read_permission",
//! "code": "missing"}`):
//!
//! | scope | needed for |
//! |---|---|
//! | `read` (or `read_all`) | stats, clubs, gear, routes, segments, starred segments, explore |
//! | `activity:read` (or `activity:read_all`) | activities and their laps, zones, comments, kudos, streams; segment efforts |
//! | `activity:read_all` | seeing "Only You" activities (lists skip them, lookups answer 404) |
//! | `activity:write` | creating and updating activities, uploads |
//! | `profile:read_all` | athlete zones, the detailed `GET /athlete` |
//! | `profile:write` | `PUT /athlete` (weight), starring segments |
//! | `read_all` | your own private routes (others' stay hidden) |
//!
//! The server reads time only from its [`SandboxClock`]: advance it to expire tokens,
//! finish uploads or reach the next rate-limit window without waiting. (The sandbox does
//! real network I/O on `127.0.0.1`: don't run it under a paused tokio clock, whose
//! auto-advance fires client timeouts while a request is in flight.)
//!
//! # Standalone
//!
//! `cargo run -p stravalib-sandbox -- --port 8080 --seed 7` (the `strava-sandbox` binary)
//! serves the same API for apps in any language and prints the URLs, the client id and
//! secret and a ready access token.
#![deny(missing_docs)]

mod api;
mod cache;
mod clock;
mod error;
mod faults;
mod geo;
mod inner;
mod json;
mod oauth;
mod parse;
mod points;
mod processing;
mod render;
mod request;
mod respond;
mod router;
mod state;
mod stats;
mod streams;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

use stravalib::auth::{AthleteSummary, ClientCredentials, Scope, TokenSet};
use stravalib::rate_limit::RateLimitPolicy;
use stravalib::{Client, ClientBuilder};

pub use self::clock::SandboxClock;
pub use self::error::{Error, Result};
pub use self::faults::{Fault, Faults};
pub use self::state::WebhookEvent;
pub use self::stats::{SandboxStats, WindowCount};

use self::inner::{Config, Inner, Limits};

/// Access tokens live this long by default (as on Strava).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(6 * 3600);

/// An embedded Strava: an HTTP server on `127.0.0.1`, stopped when dropped (or with
/// [`shutdown`](Self::shutdown)). See the [module docs](self).
pub struct Sandbox {
    inner: Arc<Inner>,
    addr: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
    ticker: tokio::task::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("seed", &self.inner.config.seed)
            .field("athletes", &self.inner.world.athletes.len())
            .field("activities_per_athlete", &self.inner.world.per_athlete)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.ticker.abort();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Sandbox {
    /// Starts a sandbox with the default settings on a random port.
    ///
    /// Must be called within a tokio runtime; the server runs on it.
    ///
    /// # Errors
    /// When no port can be bound on `127.0.0.1`.
    pub async fn start() -> Result<Sandbox> {
        Self::builder().start().await
    }

    /// A builder for every setting.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Stops the server and waits until it has stopped.
    pub async fn shutdown(mut self) {
        self.ticker.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The API base URL, `http://127.0.0.1:PORT/api/v3` (give it to
    /// [`ClientBuilder::base_url`]).
    pub fn api_base(&self) -> String {
        format!("{}/api/v3", self.base_url())
    }

    /// The OAuth base URL, `http://127.0.0.1:PORT/oauth` (give it to
    /// [`ClientBuilder::oauth_base`]).
    pub fn oauth_base(&self) -> String {
        format!("{}/oauth", self.base_url())
    }

    /// The sandbox app's client id.
    pub fn client_id(&self) -> u64 {
        self.inner.config.client_id
    }

    /// The sandbox app's client secret.
    pub fn client_secret(&self) -> &str {
        &self.inner.config.client_secret
    }

    /// The app's client id and secret.
    pub fn credentials(&self) -> ClientCredentials {
        ClientCredentials::new(self.client_id(), self.client_secret())
    }

    /// The sandbox's clock (clones share it): advance it to expire tokens, reach the next
    /// rate-limit window, or finish uploads.
    pub fn clock(&self) -> SandboxClock {
        self.inner.clock.clone()
    }

    /// The seed the data was generated from.
    pub fn seed(&self) -> u64 {
        self.inner.config.seed
    }

    /// How many athletes the sandbox has.
    pub fn athlete_count(&self) -> usize {
        self.inner.world.athletes.len()
    }

    /// How many generated activities each athlete has.
    pub fn activities_per_athlete(&self) -> usize {
        self.inner.world.per_athlete
    }

    /// The Strava id of athlete `index` (0-based), if there is one.
    pub fn athlete_id(&self, index: usize) -> Option<u64> {
        self.inner.world.athletes.get(index).map(|a| a.id)
    }

    /// Authorizes the app for athlete `index` with `scopes`, as if the athlete had
    /// approved it, and returns the tokens (with the scopes and athlete summary filled in).
    ///
    /// # Panics
    /// When there is no athlete `index`.
    pub fn issue_tokens(&self, index: usize, scopes: &[Scope]) -> TokenSet {
        let athlete = self
            .inner
            .world
            .athletes
            .get(index)
            .unwrap_or_else(|| panic!("the sandbox has no athlete {index}"));
        let issued = {
            let mut state = self.inner.lock();
            self.inner.grant(&mut state, index, scopes.to_vec())
        };
        let city = athlete.city();
        // `AthleteSummary` is non-exhaustive: filled in field by field.
        let mut summary = AthleteSummary::default();
        summary.id = i64::try_from(athlete.id).ok();
        summary.username = Some(athlete.username.clone());
        summary.firstname = Some(athlete.firstname.to_owned());
        summary.lastname = Some(athlete.lastname.to_owned());
        summary.city = Some(city.name.to_owned());
        summary.state = Some(city.state.to_owned());
        summary.country = Some(city.country.to_owned());
        TokenSet::new(issued.access, issued.refresh, issued.expires_at)
            .with_scopes(scopes.iter().copied())
            .with_athlete(summary)
    }

    /// A client builder aimed at this sandbox, with the app's credentials, fresh tokens
    /// of athlete 0 with every scope, and the sandbox clock (token expiry and the
    /// default rate-limit policy follow its jumps). Change anything before `build()`.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .clock(self.clock())
            .base_url(self.api_base())
            .oauth_base(self.oauth_base())
            .credentials(self.credentials())
            .tokens(self.issue_tokens(0, Scope::ALL))
            .rate_limit(self.rate_limit_policy(RateLimitPolicy::default()))
    }

    /// `policy` with its limiter reading the sandbox clock, so that client and sandbox
    /// agree on rate-limit windows after the clock jumps. Use it when changing the policy
    /// of [`client_builder`](Self::client_builder):
    /// `sandbox.client_builder().rate_limit(sandbox.rate_limit_policy(RateLimitPolicy::RaiseOnLimit))`.
    pub fn rate_limit_policy(&self, policy: RateLimitPolicy) -> RateLimitPolicy {
        RateLimitPolicy::Custom(policy.into_limiter_with_clock(Arc::new(self.clock())))
    }

    /// A client ready to call the sandbox as athlete 0 (every scope). See
    /// [`client_builder`](Self::client_builder) to change its settings.
    pub fn client(&self) -> Client {
        self.client_builder()
            .build()
            .expect("a sandbox client configuration is valid")
    }

    /// The faults injected into this sandbox's answers.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use stravalib_sandbox::{Fault, Sandbox};
    /// let sandbox = Sandbox::start().await?;
    /// sandbox.faults().inject(Fault::status(503).times(2).on("GET", "/athlete"));
    /// // The client retries the two 503s and gets the athlete.
    /// let athlete = sandbox.client().get_athlete().await?;
    /// assert!(athlete.id.is_some());
    /// assert_eq!(sandbox.faults().fired(), 2);
    /// # Ok(()) }
    /// ```
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Makes `/oauth/authorize` sign in athlete `index` from now on (athlete 0 by default).
    ///
    /// # Panics
    /// When there is no athlete `index`.
    pub fn authorize_as(&self, index: usize) {
        assert!(
            index < self.athlete_count(),
            "the sandbox has no athlete {index}"
        );
        self.inner.lock().authorizing_athlete = index;
    }

    /// Every webhook event so far, delivered or not (without a push subscription they
    /// are only recorded).
    pub fn webhook_events(&self) -> Vec<WebhookEvent> {
        self.inner.lock().events.clone()
    }

    /// Deletes an activity (the API has no delete operation; athletes delete on the
    /// website) and sends the `delete` event. `false` when there is no such activity.
    pub fn delete_activity(&self, id: u64) -> bool {
        let mut state = self.inner.lock();
        let Some(view) = state::view(&self.inner.world, &state, id) else {
            return false;
        };
        state.deleted.insert(id);
        let owner = self.inner.world.athletes[view.athlete].id;
        self.inner.emit(
            &mut state,
            "activity",
            id,
            "delete",
            serde_json::Map::new(),
            owner,
        );
        true
    }

    /// What the server saw so far, counted on its side: API requests per 15-minute window,
    /// 429s sent, refreshes per athlete (also served as JSON at `GET /_sandbox/stats`).
    pub fn stats(&self) -> SandboxStats {
        self.inner.stats.snapshot(self.inner.config.limits.short)
    }

    /// Forgets the rate-limit usage of the current windows.
    pub fn reset_rate_limits(&self) {
        self.inner.lock().rate = state::RateCounter::default();
    }
}

/// Settings for a [`Sandbox`]; every one has a default.
#[derive(Clone, Debug)]
#[must_use]
pub struct SandboxBuilder {
    seed: u64,
    athletes: usize,
    activities_per_athlete: usize,
    limits: Limits,
    token_lifetime: Duration,
    retired_endpoints: bool,
    upload_polls: u32,
    upload_time: Duration,
    callback_domain: String,
    client: Option<(u64, String)>,
    port: u16,
    start_time: Option<DateTime<Utc>>,
    frozen: bool,
    clock_speed: u32,
    compression: bool,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            seed: 1,
            athletes: 3,
            activities_per_athlete: 120,
            limits: Limits {
                short: 200,
                daily: 2_000,
                read_short: 100,
                read_daily: 1_000,
            },
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            retired_endpoints: true,
            upload_polls: 2,
            upload_time: Duration::from_secs(8),
            callback_domain: "localhost".to_owned(),
            client: None,
            port: 0,
            start_time: None,
            frozen: false,
            clock_speed: 1,
            compression: false,
        }
    }
}

impl SandboxBuilder {
    /// The seed all data derives from (default 1): the same seed, start day and sizes give
    /// the same athletes, activities, streams, ids and app credentials.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many athletes (default 3, at least 1).
    pub fn athletes(mut self, n: usize) -> Self {
        self.athletes = n;
        self
    }

    /// How many generated activities each athlete has (default 120). Activities are
    /// derived on demand, so a large number costs nothing at start.
    pub fn activities_per_athlete(mut self, n: usize) -> Self {
        self.activities_per_athlete = n;
        self
    }

    /// Rate limits: overall per 15 minutes and per day, reads per 15 minutes and per day
    /// (default 200, 2000, 100, 1000, Strava's defaults).
    pub fn rate_limits(mut self, short: u32, daily: u32, read_short: u32, read_daily: u32) -> Self {
        self.limits = Limits {
            short,
            daily,
            read_short,
            read_daily,
        };
        self
    }

    /// How long access tokens live, by the sandbox clock (default 6 hours).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// `true` (the default) answers the club members, admins and activities endpoints with
    /// 404 like the live API since 2026-09-01; `false` serves them.
    pub fn retired_endpoints(mut self, retired: bool) -> Self {
        self.retired_endpoints = retired;
        self
    }

    /// An upload is processed once it has been polled `polls` times or `time` has passed
    /// on the sandbox clock, whichever comes first (default 2 polls, 8 seconds; `0` and
    /// zero make uploads ready at once).
    pub fn upload_processing(mut self, polls: u32, time: Duration) -> Self {
        self.upload_polls = polls;
        self.upload_time = time;
        self
    }

    /// The app's authorization callback domain (default `localhost`); `localhost` and
    /// `127.0.0.1` are always allowed.
    pub fn callback_domain(mut self, domain: impl Into<String>) -> Self {
        self.callback_domain = domain.into();
        self
    }

    /// Uses this client id and secret instead of ones derived from the seed.
    pub fn client_credentials(mut self, client_id: u64, client_secret: impl Into<String>) -> Self {
        self.client = Some((client_id, client_secret.into()));
        self
    }

    /// Runs the sandbox clock `factor` times faster than real time (default 1): with 900,
    /// a 15-minute rate-limit window passes in a second and a six-hour token expires in
    /// 24 seconds. See [`SandboxClock::set_speed`].
    pub fn clock_speed(mut self, factor: u32) -> Self {
        self.clock_speed = factor.max(1);
        self
    }

    /// Listens on this port (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The sandbox clock starts at `start` instead of the system time. Generated
    /// activities end at midnight UTC of that day.
    ///
    /// Clients from [`Sandbox::client`] and [`Sandbox::client_builder`] read the sandbox
    /// clock; other clients decide when to refresh by the system clock (pass
    /// `ClientBuilder::clock(sandbox.clock())`), or tokens issued in the past look expired
    /// to them.
    pub fn start_time(mut self, start: DateTime<Utc>) -> Self {
        self.start_time = Some(start);
        self
    }

    /// With `true`, the sandbox clock stands still until advanced (default: it runs).
    pub fn frozen_clock(mut self, frozen: bool) -> Self {
        self.frozen = frozen;
        self
    }

    /// Compresses answers with gzip or brotli when the request asks for it
    /// (`Accept-Encoding`), as Strava does (default `false`: answers as they are).
    pub fn compression(mut self, compression: bool) -> Self {
        self.compression = compression;
        self
    }

    /// Builds the data and starts serving on `127.0.0.1`.
    ///
    /// # Errors
    /// An invalid setting (no athletes, more than 10⁹ activities, a zero rate limit), or
    /// when the port cannot be bound.
    pub async fn start(self) -> Result<Sandbox> {
        let invalid = |m: &'static str| Err(Error::InvalidSetting(m));
        if self.athletes == 0 {
            return invalid("at least one athlete is needed");
        }
        if self
            .athletes
            .checked_mul(self.activities_per_athlete)
            .is_none_or(|n| n > 1_000_000_000)
        {
            return invalid("at most 10^9 activities in all");
        }
        let l = self.limits;
        if l.short == 0 || l.daily == 0 || l.read_short == 0 || l.read_daily == 0 {
            return invalid("rate limits must be positive");
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(|source| Error::Listen {
                port: self.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(Error::LocalAddr)?;
        let start = self.start_time.unwrap_or_else(Utc::now);
        let clock = if self.frozen {
            SandboxClock::frozen_at(start)
        } else {
            SandboxClock::starting_at(start)
        };
        clock.set_speed(self.clock_speed);
        let (client_id, client_secret) = self.client.unwrap_or_else(|| {
            let mut rng = world::rng(&[self.seed, 0xC11E]);
            let id = rng.random_range(10_000..99_999);
            let secret: String = (0..20)
                .map(|_| format!("{:02x}", rng.random::<u8>()))
                .collect();
            (id, secret)
        });
        let world = world::World::new(self.seed, self.athletes, self.activities_per_athlete, start);
        let state = state::State::new(&world);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .user_agent("stravalib-sandbox")
            .build()
            .map_err(Error::Http)?;
        let inner = Arc::new(Inner {
            config: Config {
                seed: self.seed,
                limits: self.limits,
                token_lifetime: self.token_lifetime,
                retired_endpoints: self.retired_endpoints,
                upload_polls: self.upload_polls,
                upload_time: self.upload_time,
                callback_domain: self.callback_domain,
                client_id,
                client_secret,
            },
            world,
            clock,
            state: Mutex::new(state),
            faults: Faults::default(),
            http,
            runtime: tokio::runtime::Handle::current(),
            stats: Default::default(),
        });
        let mut router = axum::Router::new()
            .fallback(router::handle)
            // Uploads of long activities are several MB: axum's 2 MB default is too small.
            .layer(axum::extract::DefaultBodyLimit::max(request::BODY_LIMIT))
            .with_state(inner.clone());
        if self.compression {
            router = router.layer(tower_http::compression::CompressionLayer::new());
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        // Uploads finish "in the background": by the sandbox clock even when nobody polls
        // (so their webhook events are sent).
        let weak = Arc::downgrade(&inner);
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(200));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let mut state = inner.lock();
                processing::settle(&inner, &mut state);
            }
        });
        Ok(Sandbox {
            inner,
            addr,
            task: Some(task),
            ticker,
            stop: Some(stop),
        })
    }
}
