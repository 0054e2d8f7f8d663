//! The shared engine behind the provided policies: what to do with a budget's answers
//! (send, wait, refuse), and the permits of granted requests.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use super::budget::*;
use super::clock::*;
use super::priority::*;
use super::status::*;

// The shared engine behind the provided policies

/// The longest the [`SleepPolicy`](super::SleepPolicy) waits before one request (or before
/// retrying after a 429) unless told otherwise: 15 minutes.
///
/// Waiting out a 15-minute window is fine (it never takes longer than this); waiting
/// until midnight UTC for a spent daily window is not: such a request fails at once with
/// [`RateLimited`], carrying the reset time. Change it with
/// [`SleepPolicy::with_max_wait`](super::SleepPolicy::with_max_wait) or
/// [`ClientBuilder::max_rate_limit_wait`](crate::ClientBuilder::max_rate_limit_wait).
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Raise,
    Sleep(Priority),
    Unlimited,
}

/// The policies' shared code: what to do with a [`Budget`]'s answers.
#[derive(Debug)]
pub(super) struct Engine {
    pub(super) mode: Mode,
    pub(super) budget: Arc<dyn Budget>,
    pub(super) clock: Arc<dyn Clock>,
    /// The longest single wait of the sleep mode; a longer one is refused instead.
    pub(super) max_wait: Duration,
    /// How many clock seconds pass per real second (waits are slept this many times
    /// shorter).
    pub(super) speed: u32,
}

impl Engine {
    pub(super) fn new(mode: Mode) -> Self {
        Self {
            mode,
            budget: Arc::new(LocalBudget::new()),
            clock: Arc::new(SystemClock),
            max_wait: DEFAULT_MAX_WAIT,
            speed: 1,
        }
    }

    fn refuse(&self, retry_at: DateTime<Utc>) -> RateLimited {
        tracing::debug!(%retry_at, "rate limiter refused a request");
        RateLimited {
            retry_at,
            status: self.budget.status(),
        }
    }

    /// The wait until `retry_at`, or the refusal when the policy does not wait that long.
    fn wait_or_refuse(
        &self,
        now: DateTime<Utc>,
        retry_at: DateTime<Utc>,
    ) -> Result<Duration, RateLimited> {
        let wait = until(now, retry_at);
        if wait > self.max_wait {
            tracing::debug!(
                ?wait,
                max_wait = ?self.max_wait,
                %retry_at,
                "rate limiter wait is longer than its ceiling: refusing"
            );
            return Err(self.refuse(retry_at));
        }
        Ok(wait)
    }

    pub(super) fn acquire<'a>(
        &'a self,
        method: &'a Method,
    ) -> BoxFuture<'a, Result<Permit, RateLimited>> {
        let read = is_read(method);
        let (priority, enforce) = match self.mode {
            Mode::Raise => (Priority::High, true),
            Mode::Sleep(priority) => (priority, true),
            Mode::Unlimited => (Priority::High, false),
        };
        Box::pin(async move {
            loop {
                // Registered before asking, so a release in between is not missed.
                let changed = self.budget.changed();
                let now = self.clock.now();
                let mut request = Reservation::new(read, now, priority);
                if !enforce {
                    request = request.unchecked();
                }
                let retry_at = match self.budget.reserve(request).await {
                    Ok(Reserved::Granted) => {
                        return Ok(Permit {
                            read,
                            granted_at: now,
                            release: Release::Budget(self.budget.clone()),
                        });
                    }
                    Err(err) => {
                        // Fail closed: without the budget, nothing is sent.
                        tracing::warn!(error = %err, "rate-limit budget unavailable: refusing");
                        return Err(self.refuse(err.retry_at));
                    }
                    Ok(Reserved::Exhausted { until }) | Ok(Reserved::Spaced { until }) => until,
                };
                let wait = match self.mode {
                    Mode::Sleep(_) => self.wait_or_refuse(now, retry_at)?,
                    _ => return Err(self.refuse(retry_at)),
                };
                tracing::debug!(?wait, read, "rate limiter waiting before a request");
                // Never a busy loop: at least a millisecond between two looks.
                let sleep = (wait / self.speed).max(Duration::from_millis(1));
                tokio::select! {
                    () = tokio::time::sleep(sleep) => {}
                    () = changed => {}
                }
            }
        })
    }

    pub(super) fn record(&self, mut permit: Permit, status: StatusCode, headers: &HeaderMap) {
        let now = self.clock.now();
        let ours = permit.is_reserved_on(&self.budget);
        let granted_at = ours.then_some(permit.granted_at);
        self.budget
            .record(Answer::new(permit.read, granted_at, now, status, headers));
        if ours {
            // `record` ended the reservation.
            permit.disarm();
        }
        drop(permit);
    }

    pub(super) fn on_rate_limited(&self, headers: &HeaderMap) -> Option<Duration> {
        let Mode::Sleep(_) = self.mode else {
            return None;
        };
        let now = self.clock.now();
        let blocked = self.budget.blocked_until().filter(|t| *t > now);
        let retry_at = match self.budget.status() {
            // `record` has seen the answer: the windows still exhausted now (none when the
            // window the 429 counted in has reset since: retry at once).
            Some(known) => known.as_of(now).exhausted_until(true).max(blocked),
            None => blocked.or_else(|| {
                // `record` was not called: judge from the headers alone.
                let status = RateLimitStatus::from_headers_at(headers, now);
                Some(status.map_or_else(|| short_window_reset(now), |s| s.next_reset()))
            }),
        };
        let wait = retry_at.map_or(Duration::ZERO, |at| until(now, at));
        if wait > self.max_wait {
            // Past the ceiling: the pipeline returns the 429 (its `retry_at` is the reset).
            tracing::debug!(
                ?wait,
                max_wait = ?self.max_wait,
                "429: the reset is past the ceiling, not waiting"
            );
            return None;
        }
        Some(wait / self.speed)
    }

    pub(super) fn status(&self) -> Option<RateLimitStatus> {
        self.budget.status()
    }
}

/// A slot reserved by [`RateLimiter::acquire`](crate::rate_limit::RateLimiter::acquire) for one request.
///
/// Give it back with [`RateLimiter::record`](crate::rate_limit::RateLimiter::record) once the response arrives. Dropping it
/// instead (the request failed without a response, or the task was cancelled) releases the
/// reservation.
pub struct Permit {
    read: bool,
    granted_at: DateTime<Utc>,
    release: Release,
}

pub(super) enum Release {
    /// Nothing to release.
    Nothing,
    /// A reservation in a [`Budget`].
    Budget(Arc<dyn Budget>),
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

    fn is_reserved_on(&self, budget: &Arc<dyn Budget>) -> bool {
        matches!(&self.release, Release::Budget(b) if Arc::ptr_eq(b, budget))
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
            Release::Budget(budget) => budget.release(self.read),
            Release::Custom(release) => release(),
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let release = match self.release {
            Release::Nothing => "nothing",
            Release::Budget(_) => "reserved",
            Release::Custom(_) => "custom",
        };
        f.debug_struct("Permit")
            .field("read", &self.read)
            .field("granted_at", &self.granted_at)
            .field("release", &release)
            .finish()
    }
}
