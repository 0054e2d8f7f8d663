//! The limiter trait, its permits, priorities and the refusal error.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use super::engine::Permit;
use super::priority::*;
use super::status::*;

// Priorities

// Trait, permits, errors

/// Decides when requests may be sent, and learns from Strava's answers.
///
/// The request pipeline calls, for every request:
///
/// 1. [`acquire`](Self::acquire) before sending; it may wait, and returns a [`Permit`] (or
///    refuses with [`RateLimited`]);
/// 2. [`record`](Self::record) with the permit once a response (of any status) arrives; if
///    sending fails without a response, the permit is simply dropped;
/// 3. after a 429, and after `record`, [`on_rate_limited`](Self::on_rate_limited): `Some(wait)`
///    to sleep that long and retry once (going through `acquire` again), `None` to return the
///    rate-limited error.
///
/// Implementations are shared by every task of a client (`Arc<dyn RateLimiter>`): use
/// interior mutability, and never hold a lock across an `.await`.
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Before sending: waits as the policy requires, then reserves a slot.
    /// `Err(RateLimited { retry_at, status })` when the policy refuses to send.
    fn acquire<'a>(&'a self, method: &'a Method) -> BoxFuture<'a, Result<Permit, RateLimited>>;

    /// After a response: records Strava's headers and releases the permit.
    fn record(&self, permit: Permit, status: StatusCode, headers: &HeaderMap);

    /// After a 429 (and [`record`](Self::record)): how long to wait before one retry, or
    /// `None` to give up and return the error.
    fn on_rate_limited(&self, headers: &HeaderMap) -> Option<Duration>;

    /// The latest known state: the usage Strava last reported, plus responses that came
    /// without headers. Windows may have reset since: see [`RateLimitStatus::as_of`].
    fn status(&self) -> Option<RateLimitStatus>;
}
