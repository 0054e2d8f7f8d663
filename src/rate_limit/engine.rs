//! The shared engine behind the provided policies: reservations, waits, refusals.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use tokio::sync::Notify;

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

#[derive(Debug, Default)]
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) notify: Notify,
}

#[derive(Debug, Default)]
pub(super) struct State {
    /// What Strava last reported, plus headerless responses counted locally.
    pub(super) known: Option<RateLimitStatus>,
    /// Requests granted and not yet answered, by [`Kind`].
    pub(super) in_flight: [u32; 2],
    /// When the last request counting against each [`Kind`] was granted (for spacing).
    pub(super) last_grant: [Option<DateTime<Utc>>; 2],
    /// Set by a 429 the headers did not explain: nothing is sent before this time.
    pub(super) blocked_until: Option<DateTime<Utc>>,
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

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state stays consistent between statements, so a poisoned lock is still usable.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Raise,
    Sleep(Priority),
    Unlimited,
}

pub(super) enum Decision {
    Grant,
    Wait(Duration),
    Refuse(RateLimited),
}

#[derive(Debug)]
pub(super) struct Engine {
    pub(super) mode: Mode,
    pub(super) shared: Arc<Shared>,
    pub(super) clock: Arc<dyn Clock>,
    /// The longest single wait of the sleep mode; a longer one is refused instead.
    pub(super) max_wait: Duration,
}

impl Engine {
    pub(super) fn new(mode: Mode) -> Self {
        Self {
            mode,
            shared: Arc::default(),
            clock: Arc::new(SystemClock),
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    /// Waiting until `retry_at`, or refusing at once when that is longer than the ceiling.
    fn wait_or_refuse(&self, st: &State, now: DateTime<Utc>, retry_at: DateTime<Utc>) -> Decision {
        let wait = until(now, retry_at);
        if wait > self.max_wait {
            tracing::debug!(
                ?wait,
                max_wait = ?self.max_wait,
                %retry_at,
                "rate limiter wait is longer than its ceiling: refusing"
            );
            return Decision::Refuse(RateLimited {
                retry_at,
                status: st.known.clone(),
            });
        }
        Decision::Wait(wait)
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
                _ => self.wait_or_refuse(st, now, retry_at),
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
                return self.wait_or_refuse(st, now, add(now, wait));
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

    pub(super) fn acquire<'a>(
        &'a self,
        method: &'a Method,
    ) -> BoxFuture<'a, Result<Permit, RateLimited>> {
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

    pub(super) fn record(&self, mut permit: Permit, status: StatusCode, headers: &HeaderMap) {
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

    pub(super) fn on_rate_limited(&self, headers: &HeaderMap) -> Option<Duration> {
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
        Some(wait)
    }

    pub(super) fn status(&self) -> Option<RateLimitStatus> {
        lock(&self.shared.state).known.clone()
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
