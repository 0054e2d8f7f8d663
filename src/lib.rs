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
//! // Every operation of the API, as a builder ending in `send()`:
//! let activities = stravalib::ApiV3::call(
//!     "getLoggedInAthleteActivities",
//!     client.generated().get_logged_in_athlete_activities().per_page(10).send(),
//! )
//! .await?;
//! for activity in activities {
//!     println!("{:?} {:?}", activity.sport_type, activity.name);
//! }
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
//! - [`endpoints`]: the methods on [`Client`], one module per API area; lists page
//!   lazily through [`paging`].
//! - [`upload`] and [`webhooks`]: uploads that wait for Strava, push subscriptions and
//!   events.
//! - [`types`]: every Strava model, generated; enums are open (`Unknown(String)`).
//! - [`generated`]: the generated client (one builder per operation).
//! - [`api_v3`]: the request pipeline and generic requests for anything else.
//! - [`auth`]: OAuth, tokens, token stores.
//! - [`rate_limit`]: Strava's limits and the policies that respect them.
//! - [`units`], [`polyline`], [`time`]: distances, speeds and paces; encoded maps; local
//!   start times.
//! - [`params`], [`id`]: comma-joined query parameters; exact ids.
//!
//! An offline Strava for tests and demos is the companion crate `stravalib-sandbox`.
#![deny(missing_docs)]

pub mod api_v3;
pub mod auth;
pub mod client;
pub mod endpoints;
pub mod error;
pub mod generated;
pub mod id;
#[doc(hidden)]
pub mod latlng;
pub mod paging;
pub mod params;
pub mod polyline;
pub mod rate_limit;
pub mod time;
pub mod units;
pub mod upload;
pub mod webhooks;

pub use api_v3::{ApiV3, BASE_URL, OAUTH_BASE_URL, UPCOMING_BASE_URL};
pub use client::{Client, ClientBuilder};
pub use endpoints::ListRequest;
pub use error::{Error, ErrorKind, Result};
pub use generated::types;
pub use id::Id;

/// The README's code, compiled and run as doc tests so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
