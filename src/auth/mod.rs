//! OAuth 2 for Strava: authorization URLs, CSRF `state`, code exchange, token refresh,
//! revocation, and storage of the resulting tokens.
//!
//! The flow, as in Strava's documentation:
//!
//! 1. Send the athlete to an authorization URL ([`authorization_url`] or
//!    [`AuthorizationRequest`]), with a random [`CsrfState`] kept in the user's session.
//! 2. Strava redirects back with `code`, `scope` and `state` ([`AuthorizationCallback`]);
//!    check the state with [`CsrfState::verify`].
//! 3. Exchange the code for a [`TokenSet`] with [`OAuth::exchange_code_for_token`] and keep
//!    it in a [`TokenStore`] ([`FileTokenStore`], [`MemoryTokenStore`], or your own).
//! 4. Access tokens live six hours: [`OAuth::refresh_access_token`] gets a new set (the
//!    refresh token may rotate, so save the new set before using it).
//! 5. [`OAuth::revoke`] ends the authorization.
//!
//! Secrets (tokens, the client secret, authorization codes) are held in [`Secret`], whose
//! `Debug` and `Display` print `Secret(***)`; no error message or `tracing` event of this
//! module contains one.

mod authorize;
mod endpoints;
mod keyed_store;
mod oauth;
#[cfg(feature = "redis")]
mod redis_store;
mod refresh_lease;
mod scope;
mod secret;
mod state;
mod token;
mod token_store;

pub(crate) use authorize::authorization_url_for;
pub use authorize::{AuthorizationCallback, AuthorizationRequest, authorization_url};
pub use endpoints::DEFAULT_OAUTH_BASE;
pub(crate) use endpoints::{Endpoints, parse_oauth_base};
pub use keyed_store::{
    AthleteTokens, DEFAULT_REFRESH_LOCK_TTL, DEFAULT_REFRESH_LOCK_WAIT, DirTokenStore,
    KeyedTokenStore,
};
pub use oauth::OAuth;
#[cfg(feature = "redis")]
pub use redis_store::RedisTokenStore;
pub use refresh_lease::RefreshLease;
pub use scope::{ApprovalPrompt, DEFAULT_SCOPES, Scope, TokenTypeHint};
pub use secret::{ClientCredentials, Secret};
pub use state::CsrfState;
pub use token::{AthleteSummary, TokenSet};
pub use token_store::{FileTokenStore, MemoryTokenStore, TokenStore};
