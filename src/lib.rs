//! # stravalib
//!
//! A typed, async client for the [Strava API v3](https://developers.strava.com/docs/reference/).
//!
//! Every endpoint and model is generated at build time from the crate's own OpenAPI
//! description (`openapi/strava.json`, corrected where the live API differs from the
//! published one). A handwritten layer adds what a real app needs: OAuth, automatic and
//! single-flight token refresh, Strava's rate limits, bounded retries, and one typed
//! [`Error`].
//!
//! ## Authorize an athlete
//!
//! Send the athlete to the authorization URL, then exchange the `code` Strava redirects
//! back with for tokens:
//!
//! ```no_run
//! use stravalib::auth::{ApprovalPrompt, CsrfState, Scope};
//! use stravalib::Client;
//!
//! # async fn run() -> stravalib::Result<()> {
//! let client = Client::new();
//! let state = CsrfState::generate();
//! let url = client.authorization_url(
//!     1234,
//!     "http://127.0.0.1:8000/authorization",
//!     ApprovalPrompt::Auto,
//!     &[Scope::Read, Scope::ActivityReadAll],
//!     Some(state.as_str()),
//! )?;
//! println!("open {url}");
//! // ... the athlete approves; your redirect handler receives `code` and `state` ...
//! # let (code, returned_state) = ("code", "state");
//! state.verify(returned_state)?;
//! let tokens = client.exchange_code_for_token(1234, "client-secret", code).await?;
//! println!("token expires at {}", tokens.expires_at_time());
//! # Ok(()) }
//! ```
//!
//! ## Call the API
//!
//! ```no_run
//! use stravalib::Client;
//!
//! # async fn run() -> stravalib::Result<()> {
//! let client = Client::with_access_token("an-access-token");
//! let athlete = client.get_athlete().await?;
//! println!("hello {}", athlete.firstname.unwrap_or_default());
//!
//! // Every operation of the API is a builder ending in `send()` (awaiting it sends too):
//! let activities = client.get_activities().per_page(10).send().await?;
//! for activity in activities {
//!     println!("{:?} {:?}", activity.sport_type, activity.name);
//! }
//!
//! // Lists page themselves as a stream:
//! use futures::TryStreamExt;
//! let all: Vec<_> = client.get_activities().after(1_700_000_000).into_stream().try_collect().await?;
//! # Ok(()) }
//! ```
//!
//! A long-running app gives the client its credentials and a token store, so the access
//! token is refreshed before it expires (once, however many tasks share the client) and
//! the rotated refresh token is saved before it is used:
//!
//! ```no_run
//! use stravalib::auth::{ClientCredentials, FileTokenStore};
//! use stravalib::rate_limit::{Priority, RateLimitPolicy};
//!
//! # fn run() -> stravalib::Result<()> {
//! let client = stravalib::Client::builder()
//!     .credentials(ClientCredentials::new(1234, "client-secret"))
//!     .token_store(FileTokenStore::new("strava-tokens.json"))
//!     .rate_limit(RateLimitPolicy::Sleep(Priority::Medium))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! ## Errors
//!
//! [`Error`] says what happened ([`Error::kind`], `is_*` predicates) and carries Strava's
//! own explanation ([`Error::status`], [`Error::message`], [`Error::errors`]). It never
//! contains tokens, secrets or authorization codes.
//!
//! ## Modules
//! - [`operations`]: one builder per operation, generated from `openapi/strava.json`;
//!   [`Client`] has a method for each (and stravalib's name where it differs).
//! - [`endpoints`]: what generation cannot say, written by hand on the same builders
//!   (cursor-paged comments, route streams keyed by type, the athlete's weight).
//! - [`upload`] and [`webhooks`]: uploads that wait for Strava, push subscriptions and
//!   events.
//! - [`types`]: every Strava model, generated; enums are open (`Unknown(String)`).
//! - [`pipeline`]: the one way every request goes (token, limits, retries, typed errors).
//! - [`api_v3`]: requests by URL (stravalib's `ApiV3`), through the same pipeline.
//! - [`auth`]: OAuth, tokens, token stores.
//! - [`app`]: many athletes: a client per athlete sharing one budget, connection pool and
//!   keyed token store (with the `redis` feature, shared by many processes too).
//! - [`paging`]: lists as streams.
//! - [`rate_limit`]: Strava's limits and the policies that respect them.
//! - [`units`], [`polyline`], [`time`]: distances, speeds and paces; encoded maps; local
//!   start times.
//! - [`params`], [`id`]: comma-joined query parameters; exact ids.
//!
//! An offline Strava for tests and demos is the companion crate `stravalib-sandbox`.
#![deny(missing_docs)]

pub mod api_v3;
pub mod app;
pub mod auth;
mod call;
pub mod client;
mod decode;
pub mod endpoints;
pub mod error;
pub(crate) mod generated;
pub mod id;
#[doc(hidden)]
pub mod latlng;
pub mod operations;
pub mod paging;
pub mod params;
pub mod pipeline;
pub mod polyline;
pub mod rate_limit;
mod redact;
pub mod time;
pub mod units;
pub mod upload;
pub mod webhooks;

pub use api_v3::{ApiV3, BASE_URL, OAUTH_BASE_URL, UPCOMING_BASE_URL};
pub use app::App;
pub use client::{Client, ClientBuilder};
pub use error::{Error, ErrorKind, Result};
pub use generated::types;
pub use pipeline::RetryPolicy;

/// Lookup from OpenAPI schema name to generated type, for tools that check JSON bodies
/// against "the type named X": [`registry::check_json`] deserializes a body as the type
/// generated for a component schema and reports the serde path of the first failure
/// (used by `cargo xtask conformance` and the sandbox's tests).
pub mod registry {
    pub use crate::generated::registry::{SCHEMA_NAMES, check_json};
}
pub use id::Id;

/// Decodes a JSON body the way the client decodes Strava's answers: what
/// `serde_json::from_slice` gives, faster for the generated [`types`] (ids read as 64-bit
/// numbers first, and a body with a longer id read again with exact 128-bit ids).
///
/// ```
/// let id: stravalib::Id = stravalib::decode_json(b"123456789012345678901234567890").unwrap();
/// assert_eq!(id.get(), 123_456_789_012_345_678_901_234_567_890);
/// ```
pub fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match decode::fast_ids(|| serde_json::from_slice(body)) {
        Some(decoded) => decoded,
        None => decode::exact_ids(|| serde_json::from_slice(body)),
    }
}

/// The README's code, compiled and run as doc tests so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
