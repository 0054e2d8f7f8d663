//! Strava's rate limits: header parsing, current usage, and limiting policies.
//! (Stub: being written; the names below are the agreed interface.)

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

/// The latest known rate-limit usage, parsed from Strava's headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitStatus {
    /// When the headers were received.
    pub observed_at: DateTime<Utc>,
}

impl RateLimitStatus {
    /// Parses the `X-RateLimit-*` and `X-ReadRateLimit-*` headers; `None` when absent.
    pub fn from_headers(_headers: &HeaderMap) -> Option<Self> {
        None
    }

    /// The next window reset after `observed_at`.
    pub fn next_reset(&self) -> DateTime<Utc> {
        self.observed_at
    }
}

/// Policy that never waits and refuses requests over a known limit.
#[derive(Clone, Debug, Default)]
pub struct RaiseOnLimit;
