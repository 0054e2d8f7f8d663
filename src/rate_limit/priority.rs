//! Priorities of the sleep policy and the error of a refused request.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;

use super::clock::*;
use super::status::*;

/// How eagerly the [`SleepPolicy`](crate::rate_limit::SleepPolicy) spends the budget (stravalib's priorities).
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
    /// The [`SleepPolicy`](crate::rate_limit::SleepPolicy) spaces consecutive requests by this wait (measured from the
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

    pub(super) fn spacing(self, windows: Windows, now: DateTime<Utc>) -> Duration {
        match self {
            Priority::High => Duration::ZERO,
            Priority::Medium => windows.short.spacing(now),
            Priority::Low => windows.short.spacing(now).max(windows.daily.spacing(now)),
        }
    }
}

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
