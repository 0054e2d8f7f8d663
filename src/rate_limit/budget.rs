//! Where the budget is kept: the [`Budget`] trait, and the in-process [`LocalBudget`].

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::sync::Notify;

use super::clock::*;
use super::priority::*;
use super::status::*;

/// The state of a rate-limit budget: the counts of Strava's windows, kept in this process
/// ([`LocalBudget`], the default) or shared by many (`RedisBudget`, the `redis` feature).
///
/// The policies ([`RaiseOnLimit`](super::RaiseOnLimit), [`SleepPolicy`](super::SleepPolicy),
/// [`NoLimit`](super::NoLimit)) decide what to do with its answers — refuse, wait up to
/// their ceiling and ask again, or send — and run unchanged on any budget (see their
/// `with_budget`). A budget decides only whether a request fits, atomically with counting
/// it: however many tasks or processes ask at once, no more requests are granted than the
/// windows hold.
///
/// Calls carry the policy's "now"; a budget needs no clock of its own. Implementations are
/// shared (`Arc<dyn Budget>`): use interior mutability, and never hold a lock across an
/// `.await`.
pub trait Budget: Send + Sync + fmt::Debug {
    /// Checks whether the request fits and, if it does, counts it in every window it counts
    /// against, in one atomic step: [`Reserved::Granted`], or why not and until when.
    /// `Err` when the budget cannot be consulted (the policies then refuse the request:
    /// fail closed).
    fn reserve(&self, request: Reservation) -> BoxFuture<'_, Result<Reserved, BudgetError>>;

    /// After an answer (of any status) to a request: merges Strava's counts (for each
    /// window, the larger of the budget's count and the reported one wins), and after a
    /// 429 its headers do not explain (no window shown exhausted) marks the windows spent
    /// until the next quarter hour. For a request this budget granted
    /// ([`Answer::granted_at`] is `Some`) it also ends the reservation, as
    /// [`release`](Self::release) would. Must not block: a remote budget spawns its
    /// writes.
    fn record(&self, answer: Answer<'_>);

    /// A granted request ended without an answer (it failed, or its task was cancelled).
    /// A budget that counts requests in flight frees the slot; one that keeps every granted
    /// request counted (Strava may have counted it) does nothing.
    fn release(&self, read: bool);

    /// The latest counts known to this process (Strava's report or the budget's own).
    /// Windows may have reset since: see [`RateLimitStatus::as_of`].
    fn status(&self) -> Option<RateLimitStatus>;

    /// Set by [`record`](Self::record) after a 429 its headers did not explain: nothing is
    /// sent before this time. `None` by default.
    fn blocked_until(&self) -> Option<DateTime<Utc>> {
        None
    }

    /// Resolves when room may have come back early (a reservation was released), so a
    /// waiting request looks again before its wait is over. It must be registered when
    /// called, before the future is first polled (like `tokio::sync::Notify::notified`):
    /// the policies call it just before [`reserve`](Self::reserve). The default never
    /// resolves.
    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::pending())
    }
}

/// One request asking a [`Budget`] for room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reservation {
    /// `true` for a read (`GET`): it counts against the read windows too.
    pub read: bool,
    /// The policy's UTC "now": which windows the request falls in.
    pub now: DateTime<Utc>,
    /// The spacing to respect since the last grant: `High` none, `Medium` and `Low` as
    /// [`Priority::wait`] computes it. The raise policy asks with `High`.
    pub priority: Priority,
    /// `false` to count the request without checking anything ([`NoLimit`](super::NoLimit)).
    pub enforce: bool,
}

impl Reservation {
    /// A request checked against the limits and spaced by `priority`.
    pub fn new(read: bool, now: DateTime<Utc>, priority: Priority) -> Self {
        Self {
            read,
            now,
            priority,
            enforce: true,
        }
    }

    /// The same request, counted but never refused.
    #[must_use]
    pub fn unchecked(mut self) -> Self {
        self.enforce = false;
        self
    }
}

/// A [`Budget`]'s answer to a [`Reservation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserved {
    /// The request fits and is counted: send it.
    Granted,
    /// A window the request counts against is spent (or a 429 blocked it) until `until`.
    Exhausted {
        /// When the window resets.
        until: DateTime<Utc>,
    },
    /// The request fits, but its priority's spacing asks it to wait until `until`.
    Spaced {
        /// When the spacing since the last grant is over.
        until: DateTime<Utc>,
    },
}

/// An answer to a request, as recorded in a [`Budget`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Answer<'a> {
    /// `true` for a read (`GET`).
    pub read: bool,
    /// When this budget granted the request; `None` when it did not (a permit of another
    /// limiter): the counts are then dated `now`, and a missing header counts nothing.
    pub granted_at: Option<DateTime<Utc>>,
    /// The policy's UTC "now", when the answer arrived.
    pub now: DateTime<Utc>,
    /// The answer's status.
    pub status: StatusCode,
    /// The answer's headers (Strava's `X-RateLimit-*` among them).
    pub headers: &'a HeaderMap,
}

impl<'a> Answer<'a> {
    /// An answer with `status` and `headers` arriving at `now`, to a request this budget
    /// granted at `granted_at` (`None`: one it did not grant).
    pub fn new(
        read: bool,
        granted_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        status: StatusCode,
        headers: &'a HeaderMap,
    ) -> Self {
        Self {
            read,
            granted_at,
            now,
            status,
            headers,
        }
    }

    /// Strava's counts belong to the window the request was sent in, even when the answer
    /// comes after that window reset: the time the headers are dated.
    pub fn counted_at(&self) -> DateTime<Utc> {
        self.granted_at.unwrap_or(self.now)
    }

    /// The headers parsed, dated [`counted_at`](Self::counted_at).
    pub fn parsed(&self) -> Option<RateLimitStatus> {
        RateLimitStatus::from_headers_at(self.headers, self.counted_at())
    }

    /// `true` for a 429 whose headers show no window the request counts against as spent
    /// (an undocumented limit, another application on the same key...).
    pub fn unexplained_429(&self, parsed: Option<&RateLimitStatus>) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS
            && parsed.is_none_or(|p| p.exhausted_until(self.read).is_none())
    }
}

/// A [`Budget`] that could not be consulted (Redis unreachable...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetError {
    /// When to try again.
    pub retry_at: DateTime<Utc>,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate-limit budget unavailable: {}", self.reason)
    }
}

impl std::error::Error for BudgetError {}

/// The in-process budget, the default: the counts Strava last reported, plus requests in
/// flight, kept behind a `std::sync::Mutex` that is never held across an `.await`.
///
/// Every policy gets a fresh one unless given another with `with_budget`: share one (in an
/// `Arc`) between policies to have, say, a `Low` priority backfill and `High` priority
/// interactive requests draw on one budget, each spaced by its own priority.
#[derive(Debug, Default)]
pub struct LocalBudget {
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
    /// request this budget granted (then missing headers count it locally).
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

    fn decide(&self, r: &Reservation) -> Reserved {
        let now = r.now;
        let effective = self
            .known
            .as_ref()
            .map(|k| k.as_of(now).plus_in_flight(self.in_flight));
        let exhausted = effective.as_ref().and_then(|e| e.exhausted_until(r.read));
        let blocked = self.blocked_until.filter(|t| *t > now);
        if let Some(until) = exhausted.max(blocked) {
            return Reserved::Exhausted { until };
        }
        if let Some(effective) = &effective {
            let wait = Kind::for_request(r.read)
                .iter()
                .filter_map(|k| {
                    let last = self.last_grant[*k as usize]?;
                    let spacing = r.priority.spacing(effective.kind(*k)?, now);
                    Some(until(now, add(last, spacing)))
                })
                .max()
                .unwrap_or_default();
            if !wait.is_zero() {
                return Reserved::Spaced {
                    until: add(now, wait),
                };
            }
        }
        Reserved::Granted
    }

    fn grant(&mut self, read: bool, now: DateTime<Utc>) {
        for kind in Kind::for_request(read) {
            let n = &mut self.in_flight[*kind as usize];
            *n = n.saturating_add(1);
            self.last_grant[*kind as usize] = Some(now);
        }
    }
}

impl LocalBudget {
    /// An empty budget: nothing is known until the first answer.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Budget for LocalBudget {
    fn reserve(&self, request: Reservation) -> BoxFuture<'_, Result<Reserved, BudgetError>> {
        let reserved = {
            let mut st = self.lock();
            let reserved = if request.enforce {
                st.decide(&request)
            } else {
                Reserved::Granted
            };
            if reserved == Reserved::Granted {
                st.grant(request.read, request.now);
            }
            reserved
        };
        Box::pin(std::future::ready(Ok(reserved)))
    }

    fn record(&self, answer: Answer<'_>) {
        let parsed = answer.parsed();
        let unexplained = answer.unexplained_429(parsed.as_ref());
        let mut st = self.lock();
        if answer.granted_at.is_some() {
            st.release(answer.read);
        }
        let sent = answer.granted_at.map(|_| answer.read);
        st.merge(parsed, sent, answer.counted_at());
        if unexplained {
            // A limit the headers do not show: hold everything until the next reset.
            let until = short_window_reset(answer.now);
            tracing::debug!(%until, "429 without an exhausted window in its headers");
            st.blocked_until = st.blocked_until.max(Some(until));
        }
    }

    fn release(&self, read: bool) {
        self.lock().release(read);
        // A slot came back without a request being counted: let waiters look again.
        self.notify.notify_waiters();
    }

    fn status(&self) -> Option<RateLimitStatus> {
        self.lock().known.clone()
    }

    fn blocked_until(&self) -> Option<DateTime<Utc>> {
        self.lock().blocked_until
    }

    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.notify.notified())
    }
}
