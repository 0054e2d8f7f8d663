//! What the server saw, counted on its side: API requests per 15-minute window, 429s
//! sent, token refreshes per athlete. Served at `GET /_sandbox/stats` and by
//! [`Sandbox::stats`](crate::Sandbox::stats).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The server-side figures of a sandbox since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SandboxStats {
    /// API requests answered with anything but 429 (what Strava counts against the
    /// limits), in all.
    pub requests: u64,
    /// API requests answered with 429.
    pub rate_limited: u64,
    /// API requests answered with anything but 429, per 15-minute window of the sandbox
    /// clock, oldest first.
    pub windows: Vec<WindowCount>,
    /// The most requests any one 15-minute window served.
    pub max_per_window: u64,
    /// The 15-minute overall limit the sandbox enforces.
    pub short_limit: u32,
    /// Successful `refresh_token` grants, by athlete id.
    pub refreshes: BTreeMap<u64, u64>,
}

/// The requests one 15-minute window served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct WindowCount {
    /// When the window started (sandbox clock).
    pub start: DateTime<Utc>,
    /// API requests it served (not counting 429 answers).
    pub requests: u64,
}

#[derive(Default)]
struct Counters {
    requests: u64,
    rate_limited: u64,
    windows: BTreeMap<DateTime<Utc>, u64>,
    refreshes: BTreeMap<u64, u64>,
}

/// The counters, shared by every request.
#[derive(Default)]
pub(crate) struct Stats {
    counters: Mutex<Counters>,
}

impl Stats {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An API answer with `status` to a request that arrived at `now` (sandbox clock).
    pub(crate) fn api_answer(&self, status: u16, now: DateTime<Utc>) {
        let mut c = self.lock();
        if status == 429 {
            c.rate_limited += 1;
            return;
        }
        c.requests += 1;
        let start = stravalib::rate_limit::short_window_reset(now) - chrono::Duration::minutes(15);
        *c.windows.entry(start).or_default() += 1;
    }

    /// A successful refresh of `athlete_id`'s tokens.
    pub(crate) fn refreshed(&self, athlete_id: u64) {
        *self.lock().refreshes.entry(athlete_id).or_default() += 1;
    }

    pub(crate) fn snapshot(&self, short_limit: u32) -> SandboxStats {
        let c = self.lock();
        SandboxStats {
            requests: c.requests,
            rate_limited: c.rate_limited,
            windows: c
                .windows
                .iter()
                .map(|(start, requests)| WindowCount {
                    start: *start,
                    requests: *requests,
                })
                .collect(),
            max_per_window: c.windows.values().copied().max().unwrap_or(0),
            short_limit,
            refreshes: c.refreshes.clone(),
        }
    }
}

/// Where the server serves its figures.
pub(crate) const STATS_PATH: &str = "/_sandbox/stats";
