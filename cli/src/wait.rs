//! Waiting out Strava's rate limits with a countdown, or stopping cleanly.
//!
//! The client's policy is to fail fast (`RaiseOnLimit`): a request that would exceed a
//! window, or a 429 from Strava, comes back at once as a rate-limited error with the time
//! it may be retried. [`with_limits`] turns that into a countdown on stderr and a retry, or,
//! with `--no-wait`, into [`RateLimitStop`].

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use stravalib::rate_limit::RateLimitStatus;

use crate::config::Ctx;

/// How many times in a row one call may be refused before giving up (a window that never
/// seems to reset means the clocks disagree).
const MAX_WAITS: usize = 5;
/// Waits past the reset, for the difference between our clock and Strava's.
const MARGIN: Duration = Duration::from_secs(1);

/// The rate limit is spent and `--no-wait` was given (exit code 75).
#[derive(Debug)]
pub struct RateLimitStop {
    /// When requests may be sent again.
    pub retry_at: DateTime<Utc>,
    /// What was spent, when known.
    pub usage: Option<String>,
}

impl std::fmt::Display for RateLimitStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Strava's rate limit is spent{}: stopped; requests are allowed again at {}",
            self.usage
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default(),
            self.retry_at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }
}

impl std::error::Error for RateLimitStop {}

/// Whether to wait when the budget is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnLimit {
    /// Count down to the reset, then retry.
    Wait,
    /// Stop with [`RateLimitStop`].
    Stop,
}

/// Runs `call`, waiting out the rate limit (or stopping) when it is refused for it.
pub async fn with_limits<T, F, Fut>(ctx: &Ctx, on_limit: OnLimit, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = stravalib::Result<T>>,
{
    let mut waits = 0;
    loop {
        match call().await {
            Err(e) if e.is_rate_limited() && waits < MAX_WAITS => {
                waits += 1;
                let now = ctx.clock.now();
                let status = e.rate_limit().cloned().or_else(|| ctx.client.rate_limit());
                let retry_at = e
                    .retry_at()
                    .or_else(|| status.as_ref().map(RateLimitStatus::next_reset))
                    .unwrap_or(now + chrono::Duration::minutes(15));
                let usage = status.as_ref().map(spent);
                if on_limit == OnLimit::Stop {
                    return Err(RateLimitStop { retry_at, usage }.into());
                }
                countdown(ctx, retry_at, usage.as_deref()).await;
            }
            other => return Ok(other?),
        }
    }
}

/// The exhausted windows, e.g. `read 100/100 per 15 minutes`, or the whole usage.
pub fn spent(status: &RateLimitStatus) -> String {
    let windows = [
        ("overall", "15 minutes", status.overall_short()),
        ("overall", "day", status.overall_daily()),
        ("read", "15 minutes", status.read_short()),
        ("read", "day", status.read_daily()),
    ];
    let spent: Vec<String> = windows
        .iter()
        .filter_map(|(kind, per, w)| {
            let w = (*w)?;
            w.is_exhausted()
                .then(|| format!("{kind} {}/{} per {per}", w.usage, w.limit))
        })
        .collect();
    if spent.is_empty() {
        status.usage_summary()
    } else {
        spent.join(", ")
    }
}

/// Counts down to `until` (by the client's clock) on stderr: a bar on a terminal, one
/// line otherwise. Returns once the clock has passed it.
async fn countdown(ctx: &Ctx, until: DateTime<Utc>, usage: Option<&str>) {
    let until = until + chrono::Duration::from_std(MARGIN).unwrap_or_default();
    let total = (until - ctx.clock.now()).num_seconds().max(0);
    let what = usage.map(|u| format!(" ({u})")).unwrap_or_default();
    let at = until.format("%H:%M:%S UTC");
    if !ctx.ui.bars() {
        ctx.ui.note(&format!(
            "rate limit reached{what}: waiting {} until {at} (Ctrl-C stops; progress is kept)",
            human(total)
        ));
    }
    let bar = ctx.ui.bar(
        u64::try_from(total).unwrap_or(0),
        "{msg} [{bar:30}] {prefix}",
    );
    bar.set_message(format!("rate limit reached{what}: waiting until {at}"));
    // One tick a second; the clock decides when it is over (bounded: the wait is known).
    let max_ticks = total + 5;
    for _ in 0..=max_ticks {
        let left = (until - ctx.clock.now()).num_milliseconds();
        if left <= 0 {
            break;
        }
        let left_secs = (left + 999) / 1000;
        bar.set_position(u64::try_from(total - left_secs).unwrap_or(0));
        bar.set_prefix(format!("{} left", human(left_secs)));
        let step = u64::try_from(left.min(1000)).unwrap_or(1000);
        tokio::time::sleep(Duration::from_millis(step)).await;
    }
    bar.finish_and_clear();
}

/// `1:02:03` or `4:05` for seconds.
pub fn human(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human(5), "0:05");
        assert_eq!(human(605), "10:05");
        assert_eq!(human(3725), "1:02:05");
        assert_eq!(human(-3), "0:00");
    }

    #[test]
    fn spent_windows() {
        let now: DateTime<Utc> = "2026-03-10T12:14:50Z".parse().unwrap();
        let status = RateLimitStatus::new(now, (200, 2000), (31, 500), (100, 1000), (100, 400));
        assert_eq!(spent(&status), "read 100/100 per 15 minutes");
        let fine = RateLimitStatus::new(now, (200, 2000), (31, 500), (100, 1000), (12, 400));
        assert!(spent(&fine).starts_with("overall 31/200"));
    }
}
