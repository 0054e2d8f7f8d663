//! Strava's windows in time (quarter hours and UTC days) and the clocks that read it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;

/// Name of the header with the overall limits (`15-minute,daily`).
pub const RATE_LIMIT_LIMIT: &str = "x-ratelimit-limit";
/// Name of the header with the overall usage (`15-minute,daily`).
pub const RATE_LIMIT_USAGE: &str = "x-ratelimit-usage";
/// Name of the header with the read limits (`15-minute,daily`).
pub const READ_RATE_LIMIT_LIMIT: &str = "x-readratelimit-limit";
/// Name of the header with the read usage (`15-minute,daily`).
pub const READ_RATE_LIMIT_USAGE: &str = "x-readratelimit-usage";

/// Length of Strava's short window, in seconds.
pub(super) const SHORT_WINDOW_SECS: i64 = 15 * 60;
/// Length of Strava's daily window, in seconds.
pub(super) const DAILY_WINDOW_SECS: i64 = 24 * 60 * 60;

// Time helpers

/// When the 15-minute window containing `t` ends: the next :00, :15, :30 or :45 UTC strictly
/// after `t` (so at exactly 12:15:00 it is 12:30:00).
pub fn short_window_reset(t: DateTime<Utc>) -> DateTime<Utc> {
    next_multiple(t, SHORT_WINDOW_SECS)
}

/// When the daily window containing `t` ends: the next midnight UTC strictly after `t`.
pub fn daily_window_reset(t: DateTime<Utc>) -> DateTime<Utc> {
    next_multiple(t, DAILY_WINDOW_SECS)
}

pub(super) fn next_multiple(t: DateTime<Utc>, period: i64) -> DateTime<Utc> {
    t.timestamp()
        .div_euclid(period)
        .checked_add(1)
        .and_then(|n| n.checked_mul(period))
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The time from `now` until `then`, zero when `then` is not after `now`.
pub(super) fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> Duration {
    (then - now).to_std().unwrap_or(Duration::ZERO)
}

/// `t + d`, saturating at the end of time.
pub(super) fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `true` for the methods Strava counts as reads: `GET`.
pub fn is_read(method: &Method) -> bool {
    *method == Method::GET
}

// Clocks

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
