//! Shared helpers for integration tests: clients pointed at a local httpmock server.
#![allow(dead_code)]

pub mod refresh;

use std::time::Duration;

use httpmock::MockServer;
use stravalib::auth::KeyedTokenStore;
use stravalib::rate_limit::RateLimitPolicy;
use stravalib::{App, Client, ClientBuilder, RetryPolicy};
use stravalib_sandbox::Sandbox;

/// `f`, or a panic naming `what` after 30 s: no test waits forever.
pub async fn bounded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .unwrap_or_else(|_| panic!("{what} took more than 30 s"))
}

/// An app on `sandbox` (its clock, bases, default policy) keeping tokens in `store`:
/// its clients have no tokens of their own but the store's.
pub fn app_on(sandbox: &Sandbox, store: impl KeyedTokenStore + 'static) -> App {
    let builder = Client::builder()
        .clock(sandbox.clock())
        .base_url(sandbox.api_base())
        .oauth_base(sandbox.oauth_base())
        .rate_limit(sandbox.rate_limit_policy(RateLimitPolicy::default()));
    App::new(sandbox.credentials(), store, builder).unwrap()
}

/// A builder aimed at `server` for both the API and OAuth, with fast retries and no
/// rate limiting (tests of those set their own).
pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .base_url(server.url("/api/v3"))
        .oauth_base(server.url("/oauth"))
        .rate_limit(RateLimitPolicy::None)
        .retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        )
}

/// A client with a bare access token.
pub fn client(server: &MockServer, token: &str) -> Client {
    builder(server)
        .access_token(token)
        .build()
        .expect("valid test client")
}
