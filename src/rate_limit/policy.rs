//! The policies: raise on limit, sleep by priority, none, or your own limiter.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use super::budget::*;
use super::clock::*;
use super::engine::*;
use super::limiter::*;
use super::priority::*;
use super::status::*;

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

// The policies

/// Never waits: a request that would exceed a known limit (counting requests in flight)
/// fails fast with [`RateLimited`], carrying the reset time, without being sent. A 429 is
/// returned as the rate-limited error too, and until the reset the limiter refuses requests
/// that count against the exhausted window.
///
/// The counts are kept in a fresh [`LocalBudget`] unless given another [`Budget`] with
/// [`with_budget`](Self::with_budget) (a `RedisBudget` to share them between processes).
#[derive(Debug)]
pub struct RaiseOnLimit {
    engine: Engine,
}

impl RaiseOnLimit {
    /// A limiter reading UTC time from the [`SystemClock`], on a fresh [`LocalBudget`].
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

    /// The same limiter keeping its counts in `budget` (shared with whoever else holds it).
    #[must_use]
    pub fn with_budget(mut self, budget: Arc<dyn Budget>) -> Self {
        self.engine.budget = budget;
        self
    }

    /// The budget it keeps its counts in.
    pub fn budget(&self) -> &Arc<dyn Budget> {
        &self.engine.budget
    }
}

impl Default for RaiseOnLimit {
    fn default() -> Self {
        Self::new()
    }
}

delegate_to_engine!(RaiseOnLimit);

/// Waits as its [`Priority`] requires (see the [module docs](crate::rate_limit)); after a 429 it waits
/// until the reset and lets the pipeline retry once.
///
/// No wait is longer than its ceiling, [`max_wait`](Self::max_wait)
/// ([`DEFAULT_MAX_WAIT`], 15 minutes, unless set with [`with_max_wait`](Self::with_max_wait)):
/// a request that would wait longer (a spent daily window, a spacing of hours) fails at once
/// with [`RateLimited`] and the time it may be sent; after a 429 whose reset is further
/// away, the pipeline returns the rate-limited error instead of waiting. The ceiling bounds
/// each wait the policy decides on: a request woken early (another request's reservation
/// released) decides again from the time it wakes.
///
/// The counts are kept in a fresh [`LocalBudget`] unless given another [`Budget`] with
/// [`with_budget`](Self::with_budget) (a `RedisBudget` to share them between processes;
/// the spacing of `Medium` and `Low` then counts from the last grant of any of them).
#[derive(Debug)]
pub struct SleepPolicy {
    priority: Priority,
    engine: Engine,
}

impl SleepPolicy {
    /// A limiter with `priority`, reading UTC time from the [`SystemClock`], on a fresh
    /// [`LocalBudget`].
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

    /// The same limiter with `max_wait` as its ceiling: a wait longer than this fails at
    /// once instead (see the [type docs](Self)). `Duration::MAX` lifts the ceiling (a spent
    /// daily window then blocks until midnight UTC); `Duration::ZERO` refuses every wait.
    #[must_use]
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.engine.max_wait = max_wait;
        self
    }

    /// The same limiter keeping its counts in `budget` (shared with whoever else holds it).
    #[must_use]
    pub fn with_budget(mut self, budget: Arc<dyn Budget>) -> Self {
        self.engine.budget = budget;
        self
    }

    /// For a clock that runs `factor` times faster than real time (a sped-up sandbox
    /// clock in tests and demos): waits are computed on the clock, then slept `factor`
    /// times shorter. The ceiling stays in clock time. Default 1; `0` is taken as 1.
    #[must_use]
    pub fn with_clock_speed(mut self, factor: u32) -> Self {
        self.engine.speed = factor.max(1);
        self
    }

    /// The budget it keeps its counts in.
    pub fn budget(&self) -> &Arc<dyn Budget> {
        &self.engine.budget
    }

    /// The priority it waits by.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// The longest it waits before one request ([`DEFAULT_MAX_WAIT`] unless set with
    /// [`with_max_wait`](Self::with_max_wait)).
    pub fn max_wait(&self) -> Duration {
        self.engine.max_wait
    }
}

impl Default for SleepPolicy {
    /// `SleepPolicy::new(Priority::High)`.
    fn default() -> Self {
        Self::new(Priority::High)
    }
}

delegate_to_engine!(SleepPolicy);

/// No limiting at all: never waits, never refuses, never retries a 429. It still counts
/// its requests in its budget and records Strava's headers, so [`RateLimiter::status`]
/// reports the usage (and policies sharing the budget see its requests).
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

    /// The same limiter counting its requests in `budget`.
    #[must_use]
    pub fn with_budget(mut self, budget: Arc<dyn Budget>) -> Self {
        self.engine.budget = budget;
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
    /// Wait as the priority requires, at most [`DEFAULT_MAX_WAIT`] at a time (see
    /// [`ClientBuilder::max_rate_limit_wait`](crate::ClientBuilder::max_rate_limit_wait)):
    /// [`SleepPolicy`].
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
        self.into_limiter_with(clock, DEFAULT_MAX_WAIT)
    }

    /// A fresh limiter for this policy, reading UTC time from `clock`; a `Sleep` limiter
    /// waits at most `max_wait` at a time (see [`SleepPolicy::with_max_wait`]; the other
    /// policies never wait, and a `Custom` limiter is returned as is).
    pub fn into_limiter_with(
        self,
        clock: Arc<dyn Clock>,
        max_wait: Duration,
    ) -> Arc<dyn RateLimiter> {
        self.into_limiter_on(Arc::new(LocalBudget::new()), clock, max_wait)
    }

    /// Like [`into_limiter_with`](Self::into_limiter_with), keeping the counts in `budget`
    /// (a `Custom` limiter is returned as is and keeps its own).
    pub fn into_limiter_on(
        self,
        budget: Arc<dyn Budget>,
        clock: Arc<dyn Clock>,
        max_wait: Duration,
    ) -> Arc<dyn RateLimiter> {
        match self {
            RateLimitPolicy::RaiseOnLimit => {
                Arc::new(RaiseOnLimit::new().with_clock(clock).with_budget(budget))
            }
            RateLimitPolicy::Sleep(priority) => Arc::new(
                SleepPolicy::new(priority)
                    .with_clock(clock)
                    .with_max_wait(max_wait)
                    .with_budget(budget),
            ),
            RateLimitPolicy::None => Arc::new(NoLimit::new().with_clock(clock).with_budget(budget)),
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
