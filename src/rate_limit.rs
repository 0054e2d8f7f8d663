//! Strava's rate limits: header parsing, the latest known usage, and the policies that
//! decide when a request may be sent.
//!
//! # Strava's limits
//!
//! Each Strava *application* — all of its processes, access tokens and athletes together —
//! may by default send 200 requests per 15 minutes and 2,000 per day overall, and of those
//! 100 per 15 minutes and 1,000 per day may be reads. The short windows reset at :00, :15,
//! :30 and :45 past each hour UTC, the daily ones at midnight UTC. Every response says where
//! the application stands:
//!
//! | Header                   | Example    | Meaning                                   |
//! |--------------------------|------------|-------------------------------------------|
//! | `X-RateLimit-Limit`      | `200,2000` | overall limit: 15-minute, daily           |
//! | `X-RateLimit-Usage`      | `31,1050`  | overall requests used in those windows    |
//! | `X-ReadRateLimit-Limit`  | `100,1000` | read limit: 15-minute, daily              |
//! | `X-ReadRateLimit-Usage`  | `12,400`   | reads used in those windows               |
//!
//! [`RateLimitStatus::from_headers`] parses them. A missing or malformed header — anything
//! but two comma-separated unsigned numbers (spaces around them are fine), or a limit of
//! zero — is ignored with a `tracing::debug!` event: it is never an error and never panics.
//!
//! # What counts against which window
//!
//! A `GET` is a read: it counts against the read windows **and** the overall windows. Every
//! other method (`POST`, `PUT`, `DELETE`...) counts against the overall windows only. A
//! request may be sent only when every window it counts against has room left.
//!
//! # Policies
//!
//! The client asks a [`RateLimiter`] before each request. Pick one with [`RateLimitPolicy`]
//! on the client builder, or implement the trait yourself:
//!
//! | Policy                              | Before each request                          | A window is exhausted                          | Strava answers 429                 |
//! |-------------------------------------|----------------------------------------------|------------------------------------------------|------------------------------------|
//! | [`RaiseOnLimit`][RateLimitPolicy::RaiseOnLimit] | sends at once                    | fails fast with [`RateLimited`] (reset time); nothing is sent | returns the rate-limited error |
//! | `Sleep(`[`High`][Priority::High]`)`, the default | sends at once                   | waits until the window resets                  | waits until the reset, retries once |
//! | `Sleep(`[`Medium`][Priority::Medium]`)` | spaces requests by *time left / requests left* in the 15-minute window | waits until the window resets | waits until the reset, retries once |
//! | `Sleep(`[`Low`][Priority::Low]`)`   | spaces requests by the larger of the 15-minute and daily spacings (the tighter window) | waits until the window resets | waits until the reset, retries once |
//! | [`None`][RateLimitPolicy::None]     | sends at once                                | sends anyway                                   | returns the rate-limited error     |
//! | [`Custom`][RateLimitPolicy::Custom] | your [`RateLimiter`] decides                 | your [`RateLimiter`] decides                   | your [`RateLimiter`] decides       |
//!
//! The spacing of `Medium` and `Low` is recomputed before every request from the latest
//! usage, so it tightens as the budget shrinks and relaxes after a reset. For example at
//! 12:14:50 UTC with 190 of 200 overall requests used, `Medium` spaces requests one second
//! apart (10 s left / 10 requests left); at 23:59:30 UTC with 1,990 of 2,000 used today,
//! `Low` spaces them 3 s apart even if the 15-minute window is nearly empty.
//! [`Priority::wait`] computes these numbers. Before the first response nothing is known
//! and every policy sends at once.
//!
//! ```
//! use std::time::Duration;
//! use chrono::{DateTime, Utc};
//! use reqwest::{Method, header::HeaderMap};
//! use stravalib::rate_limit::{Priority, RateLimitStatus};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("x-ratelimit-limit", "200,2000".parse().unwrap());
//! headers.insert("x-ratelimit-usage", "190,500".parse().unwrap());
//! let now: DateTime<Utc> = "2026-03-10T12:14:50Z".parse().unwrap();
//! let status = RateLimitStatus::from_headers_at(&headers, now).unwrap();
//! assert_eq!(status.next_reset(), "2026-03-10T12:15:00Z".parse::<DateTime<Utc>>().unwrap());
//! assert_eq!(Priority::High.wait(&status, &Method::POST, now), Duration::ZERO);
//! assert_eq!(Priority::Medium.wait(&status, &Method::POST, now), Duration::from_secs(1));
//! ```
//!
//! # Concurrency
//!
//! Tasks sharing a client share one limiter. A request that has been allowed but has not
//! been answered yet is *in flight*: it is reserved against the remaining budget of every
//! window it counts against, so 50 tasks racing for the last 10 requests of a window send 10
//! and the other 40 wait (or fail, with [`RaiseOnLimit`]) until the window resets. When the
//! response arrives its headers replace the known usage (Strava's count is authoritative)
//! and the reservation is released; a request that failed without a response releases its
//! reservation when its [`Permit`] is dropped. A response without rate-limit headers counts
//! as one more request locally. The state is kept behind a `std::sync::Mutex` that is never
//! held across an `.await`.
//!
//! # Several processes, one application
//!
//! The limits belong to the application, not to a process, and every response carries the
//! application-wide usage: the count includes what every other process of the same
//! application sent. So processes converge without talking to each other: each one learns
//! the others' consumption from the next response it gets. What a process cannot see is the
//! other processes' requests *in flight*, or what they send between two of its own
//! responses: several processes can together overshoot a window by a few requests, and the
//! overshoot comes back as 429 answers, which the policies above handle.
//!
//! If you run many workers:
//!
//! - share one client (and so one limiter) per process, rather than one client per task;
//! - give each process a share of the budget (for example a [`RateLimitPolicy::Custom`]
//!   limiter wrapping a [`SleepPolicy`] that refuses beyond its share), or use
//!   [`RaiseOnLimit`] and put refused work back on a queue with its
//!   [`retry_at`](RateLimited::retry_at) time;
//! - run background jobs (backfills, bulk exports) with [`Priority::Low`], so they spread over
//!   the day and leave the 15-minute window to interactive work running with
//!   [`Priority::High`].
//!
//! # Clocks
//!
//! Windows reset on the UTC wall clock, so the limiters read "now" from a [`Clock`]
//! ([`SystemClock`] by default) and wait with `tokio::time::sleep`. Keep the host's clock
//! synchronized (NTP): with a clock ahead of Strava's, requests sent "after" a reset reach
//! Strava just before it and come back as 429 answers. Tests use a paused tokio clock with
//! a [`TokioClock`], whose UTC time advances with tokio's clock.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::sync::Notify;

/// Name of the header with the overall limits (`15-minute,daily`).
pub const RATE_LIMIT_LIMIT: &str = "x-ratelimit-limit";
/// Name of the header with the overall usage (`15-minute,daily`).
pub const RATE_LIMIT_USAGE: &str = "x-ratelimit-usage";
/// Name of the header with the read limits (`15-minute,daily`).
pub const READ_RATE_LIMIT_LIMIT: &str = "x-readratelimit-limit";
/// Name of the header with the read usage (`15-minute,daily`).
pub const READ_RATE_LIMIT_USAGE: &str = "x-readratelimit-usage";

/// Length of Strava's short window, in seconds.
const SHORT_WINDOW_SECS: i64 = 15 * 60;
/// Length of Strava's daily window, in seconds.
const DAILY_WINDOW_SECS: i64 = 24 * 60 * 60;

// ---------------------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------------------

/// When the 15-minute window containing `t` ends: the next :00, :15, :30 or :45 UTC strictly
/// after `t` (so at exactly 12:15:00 it is 12:30:00).
pub fn short_window_reset(t: DateTime<Utc>) -> DateTime<Utc> {
    next_multiple(t, SHORT_WINDOW_SECS)
}

/// When the daily window containing `t` ends: the next midnight UTC strictly after `t`.
pub fn daily_window_reset(t: DateTime<Utc>) -> DateTime<Utc> {
    next_multiple(t, DAILY_WINDOW_SECS)
}

fn next_multiple(t: DateTime<Utc>, period: i64) -> DateTime<Utc> {
    t.timestamp()
        .div_euclid(period)
        .checked_add(1)
        .and_then(|n| n.checked_mul(period))
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The time from `now` until `then`, zero when `then` is not after `now`.
fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> Duration {
    (then - now).to_std().unwrap_or(Duration::ZERO)
}

/// `t + d`, saturating at the end of time.
fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `true` for the methods Strava counts as reads: `GET`.
pub fn is_read(method: &Method) -> bool {
    *method == Method::GET
}

// ---------------------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------------------

/// The wall clock the limiters read UTC "now" from (window resets are UTC times).
///
/// Waiting itself always goes through `tokio::time::sleep`.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current UTC time.
    fn now(&self) -> DateTime<Utc>;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// The system's UTC clock (`chrono::Utc::now()`); the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A UTC clock driven by tokio's clock: `start + (tokio::time::Instant::now() - created)`.
///
/// With a paused tokio runtime (`#[tokio::test(start_paused = true)]`), advancing tokio's
/// clock — explicitly or by sleeping — advances this clock by the same amount, which makes
/// tests of waits deterministic.
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    base_utc: DateTime<Utc>,
    base_instant: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads the system time now and then follows tokio's clock.
    pub fn new() -> Self {
        Self::starting_at(Utc::now())
    }

    /// A clock that reads `start` now and then follows tokio's clock.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            base_utc: start,
            base_instant: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        add(
            self.base_utc,
            tokio::time::Instant::now().saturating_duration_since(self.base_instant),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------

/// Usage of one rate-limit window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowUsage {
    /// Requests counted in the window so far.
    pub usage: u32,
    /// Requests allowed in the window.
    pub limit: u32,
    /// When the window ends and its count starts again from zero.
    pub resets_at: DateTime<Utc>,
}

impl WindowUsage {
    /// Requests left in the window (zero when over the limit).
    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.usage)
    }

    /// `true` when no request is left in the window.
    pub fn is_exhausted(&self) -> bool {
        self.usage >= self.limit
    }

    /// Time from `now` until the window resets (zero once it has).
    pub fn time_left(&self, now: DateTime<Utc>) -> Duration {
        until(now, self.resets_at)
    }

    /// The spacing that spreads the remaining requests evenly over the time left:
    /// `time_left / remaining`; the whole time left when the window is exhausted.
    pub fn spacing(&self, now: DateTime<Utc>) -> Duration {
        let left = self.time_left(now);
        match self.remaining() {
            0 => left,
            n => left / n,
        }
    }

    /// The window as it stands at `now`, rolled over to a new empty window when it has reset.
    fn rolled(self, now: DateTime<Utc>, reset: fn(DateTime<Utc>) -> DateTime<Utc>) -> Self {
        if now >= self.resets_at {
            Self {
                usage: 0,
                limit: self.limit,
                resets_at: reset(now),
            }
        } else {
            self
        }
    }

    /// Merges a newer observation: a later window replaces, the same window keeps the larger
    /// count (responses can arrive out of order; a window's count never decreases), and an
    /// observation of an earlier window is stale.
    fn merged(self, new: Self) -> Self {
        use std::cmp::Ordering;
        match new.resets_at.cmp(&self.resets_at) {
            Ordering::Greater => new,
            Ordering::Equal => Self {
                usage: self.usage.max(new.usage),
                limit: new.limit,
                resets_at: new.resets_at,
            },
            Ordering::Less => self,
        }
    }

    fn plus(self, n: u32) -> Self {
        Self {
            usage: self.usage.saturating_add(n),
            ..self
        }
    }
}

/// The 15-minute and daily windows of one kind of limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Windows {
    short: WindowUsage,
    daily: WindowUsage,
}

impl Windows {
    fn at(limit: (u32, u32), usage: (u32, u32), observed_at: DateTime<Utc>) -> Self {
        Self {
            short: WindowUsage {
                usage: usage.0,
                limit: limit.0,
                resets_at: short_window_reset(observed_at),
            },
            daily: WindowUsage {
                usage: usage.1,
                limit: limit.1,
                resets_at: daily_window_reset(observed_at),
            },
        }
    }

    fn as_of(self, now: DateTime<Utc>) -> Self {
        Self {
            short: self.short.rolled(now, short_window_reset),
            daily: self.daily.rolled(now, daily_window_reset),
        }
    }

    fn merged(self, new: Self) -> Self {
        Self {
            short: self.short.merged(new.short),
            daily: self.daily.merged(new.daily),
        }
    }

    fn plus(self, n: u32) -> Self {
        Self {
            short: self.short.plus(n),
            daily: self.daily.plus(n),
        }
    }

    fn to_array(self) -> [WindowUsage; 2] {
        [self.short, self.daily]
    }
}

/// The two kinds of limit: overall (every request) and read (`GET`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Overall = 0,
    Read = 1,
}

impl Kind {
    /// The kinds a request counts against.
    fn for_request(read: bool) -> &'static [Kind] {
        if read {
            &[Kind::Overall, Kind::Read]
        } else {
            &[Kind::Overall]
        }
    }
}

/// The latest known rate-limit usage, parsed from Strava's headers.
///
/// Either kind of limit (overall, read) may be unknown when its headers were missing or
/// malformed; at least one is known. Each window says when it resets, computed from
/// [`observed_at`](Self::observed_at): the next quarter hour UTC for the 15-minute windows,
/// the next midnight UTC for the daily ones. Use [`as_of`](Self::as_of) to see the windows
/// as they stand later (windows that have reset since are empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitStatus {
    observed_at: DateTime<Utc>,
    overall: Option<Windows>,
    read: Option<Windows>,
}

impl RateLimitStatus {
    /// Parses the `X-RateLimit-*` and `X-ReadRateLimit-*` headers, observed now.
    ///
    /// `None` when neither pair is present and well formed; a malformed header is ignored
    /// (with a `tracing::debug!` event), never an error.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        Self::from_headers_at(headers, Utc::now())
    }

    /// Like [`from_headers`](Self::from_headers), for headers observed at `observed_at`
    /// (which decides the windows the counts belong to).
    pub fn from_headers_at(headers: &HeaderMap, observed_at: DateTime<Utc>) -> Option<Self> {
        let overall =
            windows_from_headers(headers, RATE_LIMIT_LIMIT, RATE_LIMIT_USAGE, observed_at);
        let read = windows_from_headers(
            headers,
            READ_RATE_LIMIT_LIMIT,
            READ_RATE_LIMIT_USAGE,
            observed_at,
        );
        if overall.is_none() && read.is_none() {
            return None;
        }
        Some(Self {
            observed_at,
            overall,
            read,
        })
    }

    /// A status with both kinds known, as a server answering like Strava reports it (the
    /// sandbox does, through [`write_headers`](Self::write_headers)): each argument after
    /// `observed_at` is a `(15-minute, daily)` pair, the value of one of the four headers.
    ///
    /// ```
    /// use stravalib::rate_limit::RateLimitStatus;
    ///
    /// let now = chrono::Utc::now();
    /// let status = RateLimitStatus::new(now, (200, 2000), (31, 1050), (100, 1000), (12, 400));
    /// let mut headers = reqwest::header::HeaderMap::new();
    /// status.write_headers(&mut headers);
    /// assert_eq!(headers["x-ratelimit-usage"], "31,1050");
    /// assert_eq!(RateLimitStatus::from_headers_at(&headers, now), Some(status));
    /// ```
    pub fn new(
        observed_at: DateTime<Utc>,
        overall_limit: (u32, u32),
        overall_usage: (u32, u32),
        read_limit: (u32, u32),
        read_usage: (u32, u32),
    ) -> Self {
        Self {
            observed_at,
            overall: Some(Windows::at(overall_limit, overall_usage, observed_at)),
            read: Some(Windows::at(read_limit, read_usage, observed_at)),
        }
    }

    /// When the usage was observed. For statuses kept by the limiters of this module, the
    /// time the request whose response carried it was sent (Strava counts a request when
    /// it arrives, so that is the window its count belongs to).
    pub fn observed_at(&self) -> DateTime<Utc> {
        self.observed_at
    }

    /// The overall 15-minute window, when known.
    pub fn overall_short(&self) -> Option<WindowUsage> {
        self.overall.map(|w| w.short)
    }

    /// The overall daily window, when known.
    pub fn overall_daily(&self) -> Option<WindowUsage> {
        self.overall.map(|w| w.daily)
    }

    /// The read 15-minute window, when known.
    pub fn read_short(&self) -> Option<WindowUsage> {
        self.read.map(|w| w.short)
    }

    /// The read daily window, when known.
    pub fn read_daily(&self) -> Option<WindowUsage> {
        self.read.map(|w| w.daily)
    }

    /// The known windows a request with `method` counts against: overall short and daily,
    /// plus read short and daily for a `GET`.
    pub fn windows_for(&self, method: &Method) -> Vec<WindowUsage> {
        self.windows_of(is_read(method)).collect()
    }

    /// The status as it stands at `now`: windows that have reset since are empty and end at
    /// their next reset. `observed_at` is unchanged.
    pub fn as_of(&self, now: DateTime<Utc>) -> Self {
        Self {
            observed_at: self.observed_at,
            overall: self.overall.map(|w| w.as_of(now)),
            read: self.read.map(|w| w.as_of(now)),
        }
    }

    /// When a request with `method` may be sent, if not at `now`: the latest reset among
    /// the exhausted windows it counts against. `None` when it may be sent now.
    pub fn retry_at(&self, method: &Method, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.as_of(now).exhausted_until(is_read(method))
    }

    /// The next window reset that frees a request: the latest reset among the exhausted
    /// windows (so an exhausted daily window gives the next midnight UTC), or, when none is
    /// exhausted, the end of the 15-minute window containing `observed_at`.
    pub fn next_reset(&self) -> DateTime<Utc> {
        self.all_windows()
            .filter(WindowUsage::is_exhausted)
            .map(|w| w.resets_at)
            .max()
            .unwrap_or_else(|| short_window_reset(self.observed_at))
    }

    /// A one-line summary for logs: `overall 31/200 15min, 1050/2000 day; read 12/100
    /// 15min, 400/1000 day` (unknown kinds left out).
    pub fn usage_summary(&self) -> String {
        let kinds = [("overall", self.overall), ("read", self.read)];
        let parts: Vec<String> = kinds
            .iter()
            .filter_map(|(name, w)| {
                let w = (*w)?;
                Some(format!(
                    "{name} {}/{} 15min, {}/{} day",
                    w.short.usage, w.short.limit, w.daily.usage, w.daily.limit
                ))
            })
            .collect();
        parts.join("; ")
    }

    /// Writes the status back as Strava's four headers (`X-RateLimit-Limit: 200,2000`...),
    /// replacing any already in `headers`; kinds that are unknown are removed.
    /// [`from_headers_at`](Self::from_headers_at) with the same `observed_at` reads them back.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let kinds = [
            (self.overall, RATE_LIMIT_LIMIT, RATE_LIMIT_USAGE),
            (self.read, READ_RATE_LIMIT_LIMIT, READ_RATE_LIMIT_USAGE),
        ];
        for (windows, limit_name, usage_name) in kinds {
            match windows {
                Some(w) => {
                    let limit = format!("{},{}", w.short.limit, w.daily.limit);
                    let usage = format!("{},{}", w.short.usage, w.daily.usage);
                    // Digits and a comma: always a valid header value.
                    if let (Ok(limit), Ok(usage)) =
                        (HeaderValue::from_str(&limit), HeaderValue::from_str(&usage))
                    {
                        headers.insert(limit_name, limit);
                        headers.insert(usage_name, usage);
                    }
                }
                None => {
                    headers.remove(limit_name);
                    headers.remove(usage_name);
                }
            }
        }
    }

    fn kind(&self, kind: Kind) -> Option<Windows> {
        match kind {
            Kind::Overall => self.overall,
            Kind::Read => self.read,
        }
    }

    fn kind_mut(&mut self, kind: Kind) -> &mut Option<Windows> {
        match kind {
            Kind::Overall => &mut self.overall,
            Kind::Read => &mut self.read,
        }
    }

    fn all_windows(&self) -> impl Iterator<Item = WindowUsage> + '_ {
        self.windows_of(true)
    }

    fn windows_of(&self, read: bool) -> impl Iterator<Item = WindowUsage> + '_ {
        Kind::for_request(read)
            .iter()
            .filter_map(|k| self.kind(*k))
            .flat_map(Windows::to_array)
    }

    /// The latest reset among the exhausted windows a request counts against (no rollover).
    fn exhausted_until(&self, read: bool) -> Option<DateTime<Utc>> {
        self.windows_of(read)
            .filter(WindowUsage::is_exhausted)
            .map(|w| w.resets_at)
            .max()
    }

    /// The status with `in_flight[kind]` more requests counted in each window of `kind`.
    fn plus_in_flight(mut self, in_flight: [u32; 2]) -> Self {
        self.overall = self
            .overall
            .map(|w| w.plus(in_flight[Kind::Overall as usize]));
        self.read = self.read.map(|w| w.plus(in_flight[Kind::Read as usize]));
        self
    }
}

/// Parses one `X-*RateLimit-*` value: two comma-separated unsigned 32-bit numbers, each
/// optionally surrounded by spaces or tabs (`"200,2000"`, `" 31 , 1050 "`).
///
/// `None` for anything else: one number, three numbers, signs, non-digits, numbers that do
/// not fit in a `u32`, empty parts.
pub fn parse_pair(value: &str) -> Option<(u32, u32)> {
    let mut parts = value.split(',');
    let short = parse_count(parts.next()?)?;
    let daily = parse_count(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Some((short, daily))
}

fn parse_count(part: &str) -> Option<u32> {
    let part = part.trim_matches([' ', '\t']);
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn header_pair(headers: &HeaderMap, name: &'static str) -> Option<(u32, u32)> {
    let Some(value) = headers.get(name) else {
        tracing::debug!(header = name, "rate-limit header missing");
        return None;
    };
    let parsed = value.to_str().ok().and_then(parse_pair);
    if parsed.is_none() {
        tracing::debug!(header = name, value = ?value, "ignoring malformed rate-limit header");
    }
    parsed
}

fn windows_from_headers(
    headers: &HeaderMap,
    limit_name: &'static str,
    usage_name: &'static str,
    observed_at: DateTime<Utc>,
) -> Option<Windows> {
    let limit = header_pair(headers, limit_name);
    let usage = header_pair(headers, usage_name);
    let (limit, usage) = (limit?, usage?);
    if limit.0 == 0 || limit.1 == 0 {
        tracing::debug!(
            header = limit_name,
            ?limit,
            "ignoring rate-limit header with a zero limit"
        );
        return None;
    }
    Some(Windows::at(limit, usage, observed_at))
}

// ---------------------------------------------------------------------------------------
// Priorities
// ---------------------------------------------------------------------------------------

/// How eagerly the [`SleepPolicy`] spends the budget (stravalib's priorities).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Priority {
    /// Sends at once; waits only when a window is exhausted, until it resets. The default.
    #[default]
    High,
    /// Spreads the rest of the 15-minute budget evenly over the time left in the window:
    /// requests are spaced `time_left / remaining` apart.
    Medium,
    /// Spreads over whichever of the 15-minute and daily windows is tighter: requests are
    /// spaced by the larger of the two `time_left / remaining` spacings.
    Low,
}

impl Priority {
    /// The wait this priority asks for before one request with `method`, given `status` at
    /// `now` (windows that have reset by `now` count as empty):
    ///
    /// - when a window the request counts against is exhausted: until it resets (the latest
    ///   such reset), whatever the priority;
    /// - otherwise `High`: zero; `Medium`: the largest `time_left / remaining` of the
    ///   15-minute windows the request counts against; `Low`: the largest of the 15-minute
    ///   and daily windows.
    ///
    /// The [`SleepPolicy`] spaces consecutive requests by this wait (measured from the
    /// previous request), counting requests in flight as used.
    pub fn wait(self, status: &RateLimitStatus, method: &Method, now: DateTime<Utc>) -> Duration {
        let status = status.as_of(now);
        let read = is_read(method);
        if let Some(at) = status.exhausted_until(read) {
            return until(now, at);
        }
        Kind::for_request(read)
            .iter()
            .filter_map(|k| status.kind(*k))
            .map(|w| self.spacing(w, now))
            .max()
            .unwrap_or(Duration::ZERO)
    }

    fn spacing(self, windows: Windows, now: DateTime<Utc>) -> Duration {
        match self {
            Priority::High => Duration::ZERO,
            Priority::Medium => windows.short.spacing(now),
            Priority::Low => windows.short.spacing(now).max(windows.daily.spacing(now)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Trait, permits, errors
// ---------------------------------------------------------------------------------------

/// A request the rate limiter refused to send (or a 429 from Strava).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimited {
    /// When the request may be tried again: the reset of the exhausted window.
    pub retry_at: DateTime<Utc>,
    /// The latest usage Strava reported (requests in flight not included), when known.
    pub status: Option<RateLimitStatus>,
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Strava rate limit reached; retry after {}",
            self.retry_at.to_rfc3339()
        )
    }
}

impl std::error::Error for RateLimited {}

/// Decides when requests may be sent, and learns from Strava's answers.
///
/// The request pipeline calls, for every request:
///
/// 1. [`acquire`](Self::acquire) before sending; it may wait, and returns a [`Permit`] (or
///    refuses with [`RateLimited`]);
/// 2. [`record`](Self::record) with the permit once a response (of any status) arrives; if
///    sending fails without a response, the permit is simply dropped;
/// 3. after a 429, and after `record`, [`on_rate_limited`](Self::on_rate_limited): `Some(wait)`
///    to sleep that long and retry once (going through `acquire` again), `None` to return the
///    rate-limited error.
///
/// Implementations are shared by every task of a client (`Arc<dyn RateLimiter>`): use
/// interior mutability, and never hold a lock across an `.await`.
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Before sending: waits as the policy requires, then reserves a slot.
    /// `Err(RateLimited { retry_at, status })` when the policy refuses to send.
    fn acquire<'a>(&'a self, method: &'a Method) -> BoxFuture<'a, Result<Permit, RateLimited>>;

    /// After a response: records Strava's headers and releases the permit.
    fn record(&self, permit: Permit, status: StatusCode, headers: &HeaderMap);

    /// After a 429 (and [`record`](Self::record)): how long to wait before one retry, or
    /// `None` to give up and return the error.
    fn on_rate_limited(&self, headers: &HeaderMap) -> Option<Duration>;

    /// The latest known state: the usage Strava last reported, plus responses that came
    /// without headers. Windows may have reset since: see [`RateLimitStatus::as_of`].
    fn status(&self) -> Option<RateLimitStatus>;
}

/// A slot reserved by [`RateLimiter::acquire`] for one request.
///
/// Give it back with [`RateLimiter::record`] once the response arrives. Dropping it
/// instead (the request failed without a response, or the task was cancelled) releases the
/// reservation.
pub struct Permit {
    read: bool,
    granted_at: DateTime<Utc>,
    release: Release,
}

enum Release {
    /// Nothing to release.
    Nothing,
    /// A reservation in one of this module's limiters.
    Reserved(Arc<Shared>),
    /// A custom limiter's release function.
    Custom(Box<dyn FnOnce() + Send + Sync>),
}

impl Permit {
    /// A permit that reserves nothing (for limiters that keep no reservations).
    pub fn unreserved(method: &Method, granted_at: DateTime<Utc>) -> Self {
        Self {
            read: is_read(method),
            granted_at,
            release: Release::Nothing,
        }
    }

    /// A permit that calls `release` exactly once, when it is dropped or
    /// [`released`](Self::release) (for custom limiters that keep reservations).
    pub fn with_release(
        method: &Method,
        granted_at: DateTime<Utc>,
        release: impl FnOnce() + Send + Sync + 'static,
    ) -> Self {
        Self {
            read: is_read(method),
            granted_at,
            release: Release::Custom(Box::new(release)),
        }
    }

    /// `true` when the request is a read (`GET`).
    pub fn is_read(&self) -> bool {
        self.read
    }

    /// When the slot was granted (about when the request was sent).
    pub fn granted_at(&self) -> DateTime<Utc> {
        self.granted_at
    }

    /// Releases the reservation now (same as dropping the permit).
    pub fn release(self) {
        drop(self);
    }

    fn is_reserved_on(&self, shared: &Arc<Shared>) -> bool {
        matches!(&self.release, Release::Reserved(s) if Arc::ptr_eq(s, shared))
    }

    /// Forgets the reservation without releasing it (the caller released it).
    fn disarm(&mut self) {
        self.release = Release::Nothing;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.release, Release::Nothing) {
            Release::Nothing => {}
            Release::Reserved(shared) => {
                lock(&shared.state).release(self.read);
                // A slot came back without a request being counted: let waiters look again.
                shared.notify.notify_waiters();
            }
            Release::Custom(release) => release(),
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let release = match self.release {
            Release::Nothing => "nothing",
            Release::Reserved(_) => "reserved",
            Release::Custom(_) => "custom",
        };
        f.debug_struct("Permit")
            .field("read", &self.read)
            .field("granted_at", &self.granted_at)
            .field("release", &release)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// The shared engine behind the provided policies
// ---------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    notify: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// What Strava last reported, plus headerless responses counted locally.
    known: Option<RateLimitStatus>,
    /// Requests granted and not yet answered, by [`Kind`].
    in_flight: [u32; 2],
    /// When the last request counting against each [`Kind`] was granted (for spacing).
    last_grant: [Option<DateTime<Utc>>; 2],
    /// Set by a 429 the headers did not explain: nothing is sent before this time.
    blocked_until: Option<DateTime<Utc>>,
}

impl State {
    fn release(&mut self, read: bool) {
        for kind in Kind::for_request(read) {
            let n = &mut self.in_flight[*kind as usize];
            *n = n.saturating_sub(1);
        }
    }

    /// Merges a response's parsed headers; `sent` is `Some(read)` when the response is to a
    /// request this limiter granted (then missing headers count it locally).
    fn merge(&mut self, parsed: Option<RateLimitStatus>, sent: Option<bool>, at: DateTime<Utc>) {
        let Some(known) = &mut self.known else {
            self.known = parsed;
            return;
        };
        known.observed_at = known.observed_at.max(at);
        for kind in [Kind::Overall, Kind::Read] {
            let new = parsed.as_ref().and_then(|p| p.kind(kind));
            let counts = sent.is_some_and(|read| Kind::for_request(read).contains(&kind));
            let slot = known.kind_mut(kind);
            match (slot.as_mut(), new) {
                (Some(old), Some(new)) => *old = old.merged(new),
                (None, Some(new)) => *slot = Some(new),
                (Some(old), None) if counts => *old = old.as_of(at).plus(1),
                _ => {}
            }
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state stays consistent between statements, so a poisoned lock is still usable.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Raise,
    Sleep(Priority),
    Unlimited,
}

enum Decision {
    Grant,
    Wait(Duration),
    Refuse(RateLimited),
}

#[derive(Debug)]
struct Engine {
    mode: Mode,
    shared: Arc<Shared>,
    clock: Arc<dyn Clock>,
}

impl Engine {
    fn new(mode: Mode) -> Self {
        Self {
            mode,
            shared: Arc::default(),
            clock: Arc::new(SystemClock),
        }
    }

    fn decide(&self, st: &State, now: DateTime<Utc>, read: bool) -> Decision {
        if self.mode == Mode::Unlimited {
            return Decision::Grant;
        }
        let effective = st
            .known
            .as_ref()
            .map(|k| k.as_of(now).plus_in_flight(st.in_flight));
        let exhausted = effective.as_ref().and_then(|e| e.exhausted_until(read));
        let blocked = st.blocked_until.filter(|t| *t > now);
        if let Some(retry_at) = exhausted.max(blocked) {
            return match self.mode {
                Mode::Raise => Decision::Refuse(RateLimited {
                    retry_at,
                    status: st.known.clone(),
                }),
                _ => Decision::Wait(until(now, retry_at)),
            };
        }
        if let (Mode::Sleep(priority), Some(effective)) = (self.mode, &effective) {
            let wait = Kind::for_request(read)
                .iter()
                .filter_map(|k| {
                    let last = st.last_grant[*k as usize]?;
                    let spacing = priority.spacing(effective.kind(*k)?, now);
                    Some(until(now, add(last, spacing)))
                })
                .max()
                .unwrap_or(Duration::ZERO);
            if !wait.is_zero() {
                return Decision::Wait(wait);
            }
        }
        Decision::Grant
    }

    fn grant(&self, st: &mut State, now: DateTime<Utc>, read: bool) -> Permit {
        for kind in Kind::for_request(read) {
            let n = &mut st.in_flight[*kind as usize];
            *n = n.saturating_add(1);
            st.last_grant[*kind as usize] = Some(now);
        }
        Permit {
            read,
            granted_at: now,
            release: Release::Reserved(self.shared.clone()),
        }
    }

    fn acquire<'a>(&'a self, method: &'a Method) -> BoxFuture<'a, Result<Permit, RateLimited>> {
        let read = is_read(method);
        Box::pin(async move {
            loop {
                // Registered before deciding, so a release in between is not missed.
                let released = self.shared.notify.notified();
                let wait = {
                    let mut st = lock(&self.shared.state);
                    let now = self.clock.now();
                    match self.decide(&st, now, read) {
                        Decision::Grant => return Ok(self.grant(&mut st, now, read)),
                        Decision::Refuse(refused) => {
                            tracing::debug!(retry_at = %refused.retry_at, "rate limiter refused a request");
                            return Err(refused);
                        }
                        Decision::Wait(wait) => wait,
                    }
                };
                tracing::debug!(?wait, read, "rate limiter waiting before a request");
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = released => {}
                }
            }
        })
    }

    fn record(&self, mut permit: Permit, status: StatusCode, headers: &HeaderMap) {
        let now = self.clock.now();
        let ours = permit.is_reserved_on(&self.shared);
        // Strava counted the request when it arrived: its count belongs to the window the
        // request was sent in, even when the answer comes after that window reset.
        let at = if ours { permit.granted_at } else { now };
        let parsed = RateLimitStatus::from_headers_at(headers, at);
        let explained = parsed
            .as_ref()
            .is_some_and(|p| p.exhausted_until(permit.read).is_some());
        {
            let mut st = lock(&self.shared.state);
            if ours {
                st.release(permit.read);
                permit.disarm();
            }
            st.merge(parsed, ours.then_some(permit.read), at);
            if status == StatusCode::TOO_MANY_REQUESTS && !explained {
                // A limit the headers do not show: hold everything until the next reset.
                let until = short_window_reset(now);
                tracing::debug!(%until, "429 without an exhausted window in its headers");
                st.blocked_until = st.blocked_until.max(Some(until));
            }
        }
        drop(permit);
    }

    fn on_rate_limited(&self, headers: &HeaderMap) -> Option<Duration> {
        let Mode::Sleep(_) = self.mode else {
            return None;
        };
        let now = self.clock.now();
        let st = lock(&self.shared.state);
        let blocked = st.blocked_until.filter(|t| *t > now);
        let retry_at = match &st.known {
            // `record` has seen the answer: the windows still exhausted now (none when the
            // window the 429 counted in has reset since: retry at once).
            Some(known) => known.as_of(now).exhausted_until(true).max(blocked),
            None => blocked.or_else(|| {
                // `record` was not called: judge from the headers alone.
                let status = RateLimitStatus::from_headers_at(headers, now);
                Some(status.map_or_else(|| short_window_reset(now), |s| s.next_reset()))
            }),
        };
        Some(retry_at.map_or(Duration::ZERO, |at| until(now, at)))
    }

    fn status(&self) -> Option<RateLimitStatus> {
        lock(&self.shared.state).known.clone()
    }
}

macro_rules! delegate_to_engine {
    ($ty:ty) => {
        impl RateLimiter for $ty {
            fn acquire<'a>(
                &'a self,
                method: &'a Method,
            ) -> BoxFuture<'a, Result<Permit, RateLimited>> {
                self.engine.acquire(method)
            }

            fn record(&self, permit: Permit, status: StatusCode, headers: &HeaderMap) {
                self.engine.record(permit, status, headers)
            }

            fn on_rate_limited(&self, headers: &HeaderMap) -> Option<Duration> {
                self.engine.on_rate_limited(headers)
            }

            fn status(&self) -> Option<RateLimitStatus> {
                self.engine.status()
            }
        }
    };
}

// ---------------------------------------------------------------------------------------
// The policies
// ---------------------------------------------------------------------------------------

/// Never waits: a request that would exceed a known limit (counting requests in flight)
/// fails fast with [`RateLimited`], carrying the reset time, without being sent. A 429 is
/// returned as the rate-limited error too, and until the reset the limiter refuses requests
/// that count against the exhausted window.
#[derive(Debug)]
pub struct RaiseOnLimit {
    engine: Engine,
}

impl RaiseOnLimit {
    /// A limiter reading UTC time from the [`SystemClock`].
    pub fn new() -> Self {
        Self {
            engine: Engine::new(Mode::Raise),
        }
    }

    /// The same limiter reading UTC time from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.engine.clock = Arc::new(clock);
        self
    }
}

impl Default for RaiseOnLimit {
    fn default() -> Self {
        Self::new()
    }
}

delegate_to_engine!(RaiseOnLimit);

/// Waits as its [`Priority`] requires (see the [module docs](self)); after a 429 it waits
/// until the reset and lets the pipeline retry once.
#[derive(Debug)]
pub struct SleepPolicy {
    priority: Priority,
    engine: Engine,
}

impl SleepPolicy {
    /// A limiter with `priority`, reading UTC time from the [`SystemClock`].
    pub fn new(priority: Priority) -> Self {
        Self {
            priority,
            engine: Engine::new(Mode::Sleep(priority)),
        }
    }

    /// The same limiter reading UTC time from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.engine.clock = Arc::new(clock);
        self
    }

    /// The priority it waits by.
    pub fn priority(&self) -> Priority {
        self.priority
    }
}

impl Default for SleepPolicy {
    /// `SleepPolicy::new(Priority::High)`.
    fn default() -> Self {
        Self::new(Priority::High)
    }
}

delegate_to_engine!(SleepPolicy);

/// No limiting at all: never waits, never refuses, never retries a 429. It still records
/// Strava's headers, so [`RateLimiter::status`] reports the usage.
#[derive(Debug)]
pub struct NoLimit {
    engine: Engine,
}

impl NoLimit {
    /// A limiter that lets everything through.
    pub fn new() -> Self {
        Self {
            engine: Engine::new(Mode::Unlimited),
        }
    }

    /// The same limiter reading UTC time from `clock` (only used to date observations).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.engine.clock = Arc::new(clock);
        self
    }
}

impl Default for NoLimit {
    fn default() -> Self {
        Self::new()
    }
}

delegate_to_engine!(NoLimit);

/// The rate-limit policy a client uses, chosen on the client builder.
///
/// The default is `Sleep(Priority::High)`.
#[derive(Clone, Debug)]
pub enum RateLimitPolicy {
    /// Fail fast instead of exceeding a known limit: [`RaiseOnLimit`].
    RaiseOnLimit,
    /// Wait as the priority requires: [`SleepPolicy`].
    Sleep(Priority),
    /// No limiting at all: [`NoLimit`].
    None,
    /// Your own limiter (shared as is: clients built with the same `Arc` share its budget).
    Custom(Arc<dyn RateLimiter>),
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        RateLimitPolicy::Sleep(Priority::High)
    }
}

impl RateLimitPolicy {
    /// A fresh limiter for this policy, reading UTC time from the [`SystemClock`].
    pub fn into_limiter(self) -> Arc<dyn RateLimiter> {
        self.into_limiter_with_clock(Arc::new(SystemClock))
    }

    /// A fresh limiter for this policy, reading UTC time from `clock` (a `Custom` limiter
    /// is returned as is).
    pub fn into_limiter_with_clock(self, clock: Arc<dyn Clock>) -> Arc<dyn RateLimiter> {
        match self {
            RateLimitPolicy::RaiseOnLimit => Arc::new(RaiseOnLimit::new().with_clock(clock)),
            RateLimitPolicy::Sleep(priority) => {
                Arc::new(SleepPolicy::new(priority).with_clock(clock))
            }
            RateLimitPolicy::None => Arc::new(NoLimit::new().with_clock(clock)),
            RateLimitPolicy::Custom(limiter) => limiter,
        }
    }
}

impl From<Priority> for RateLimitPolicy {
    fn from(priority: Priority) -> Self {
        RateLimitPolicy::Sleep(priority)
    }
}

impl From<Arc<dyn RateLimiter>> for RateLimitPolicy {
    fn from(limiter: Arc<dyn RateLimiter>) -> Self {
        RateLimitPolicy::Custom(limiter)
    }
}
