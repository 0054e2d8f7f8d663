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
//! on the client builder, or implement the trait yourself. The provided policies keep
//! their counts in a [`Budget`] (in this process by default; see [Budgets](#budgets)):
//!
//! | Policy                              | Before each request                          | A window is exhausted                          | Strava answers 429                 |
//! |-------------------------------------|----------------------------------------------|------------------------------------------------|------------------------------------|
//! | [`RaiseOnLimit`][RateLimitPolicy::RaiseOnLimit] | sends at once                    | fails fast with [`RateLimited`] (reset time); nothing is sent | returns the rate-limited error |
//! | `Sleep(`[`High`][Priority::High]`)`, the default | sends at once                   | waits until the window resets, up to the ceiling\* | waits until the reset (up to the ceiling\*), retries once |
//! | `Sleep(`[`Medium`][Priority::Medium]`)` | spaces requests by *time left / requests left* in the 15-minute window, up to the ceiling\* | waits until the window resets, up to the ceiling\* | waits until the reset (up to the ceiling\*), retries once |
//! | `Sleep(`[`Low`][Priority::Low]`)`   | spaces requests by the larger of the 15-minute and daily spacings (the tighter window), up to the ceiling\* | waits until the window resets, up to the ceiling\* | waits until the reset (up to the ceiling\*), retries once |
//! | [`None`][RateLimitPolicy::None]     | sends at once                                | sends anyway                                   | returns the rate-limited error     |
//! | [`Custom`][RateLimitPolicy::Custom] | your [`RateLimiter`] decides                 | your [`RateLimiter`] decides                   | your [`RateLimiter`] decides       |
//!
//! \* **The ceiling** of the sleep policy is the longest it waits at a time:
//! [`DEFAULT_MAX_WAIT`], 15 minutes, unless set with
//! [`ClientBuilder::max_rate_limit_wait`](crate::ClientBuilder::max_rate_limit_wait) or
//! [`SleepPolicy::with_max_wait`]. Waiting out a 15-minute window always fits under the
//! default; waiting until midnight UTC for a spent daily window (or a `Low` spacing of
//! hours) does not. A request whose wait would be longer fails at once, like with
//! `RaiseOnLimit`: an [`Error`](crate::Error) with `is_rate_limited()`, `is_local()`, no
//! `status()`, and `retry_at()` the time it may be sent (the window's reset); nothing is
//! sent. After a 429 whose reset is further away than the ceiling, the 429 itself is
//! returned at once (its `retry_at()` is the reset) instead of waiting and retrying.
//! `Duration::MAX` lifts the ceiling.
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
//! # Budgets
//!
//! The policies keep their counts in a [`Budget`]: the latest usage Strava reported, the
//! requests granted since, and (for spacing) when the last one was. A budget answers one
//! question atomically — does this request fit, and if so count it
//! ([`Budget::reserve`]) — and learns from Strava's answers ([`Budget::record`]); the
//! policy decides what to do when it does not fit (refuse, or wait up to its ceiling and
//! ask again). So the same policies run on any budget:
//!
//! - [`LocalBudget`], the default: in this process (see below). Each client (or
//!   [`App`](crate::App)) gets a fresh one; share one with
//!   [`ClientBuilder::rate_limit_budget`](crate::ClientBuilder::rate_limit_budget) or the
//!   policies' `with_budget`, for example a `Low` priority backfill and `High` priority
//!   interactive requests drawing on one budget;
//! - `RedisBudget` (the `redis` feature): in Redis, one budget for every process of the
//!   application (see [below](#several-processes-one-application));
//! - your own, implementing [`Budget`].
//!
//! # Concurrency
//!
//! Tasks sharing a client share one limiter and its budget. A request that has been allowed
//! but has not been answered yet is *in flight*: the [`LocalBudget`] reserves it against the
//! remaining budget of every window it counts against, so 50 tasks racing for the last 10
//! requests of a window send 10 and the other 40 wait (or fail, with [`RaiseOnLimit`])
//! until the window resets. When the response arrives its headers replace the known usage
//! (Strava's count is authoritative) and the reservation is released; a request that
//! failed without a response releases its reservation when its [`Permit`] is dropped (and
//! wakes the requests waiting for room). A response without rate-limit headers counts as
//! one more request locally. The state is kept behind a `std::sync::Mutex` that is never
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
//! If you run many workers, the `redis` feature's `RedisBudget` keeps one budget for all of
//! them in Redis: every request is counted against the application's windows before it is
//! sent (atomically, one round trip), so together they never overshoot, and a 429 one of
//! them gets holds back the others too. Give it to the builder with
//! [`ClientBuilder::rate_limit_budget`](crate::ClientBuilder::rate_limit_budget) (or to a
//! policy with `with_budget`): the policies work unchanged on top. Without Redis:
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

mod budget;
mod clock;
mod engine;
mod limiter;
mod policy;
mod priority;
#[cfg(feature = "redis")]
mod redis_budget;
mod status;

pub use budget::{Answer, Budget, BudgetError, LocalBudget, Reservation, Reserved};
pub use clock::{
    Clock, RATE_LIMIT_LIMIT, RATE_LIMIT_USAGE, READ_RATE_LIMIT_LIMIT, READ_RATE_LIMIT_USAGE,
    SystemClock, TokioClock, daily_window_reset, is_read, short_window_reset,
};
pub use engine::{DEFAULT_MAX_WAIT, Permit};
pub use limiter::RateLimiter;
pub use policy::{NoLimit, RaiseOnLimit, RateLimitPolicy, SleepPolicy};
pub use priority::{Priority, RateLimited};
#[cfg(feature = "redis")]
pub use redis_budget::{DEFAULT_BOUNDARY_MARGIN, RedisBudget};
pub use status::{RateLimitStatus, WindowUsage, parse_pair};
