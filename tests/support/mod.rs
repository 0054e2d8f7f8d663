//! Shared helpers for integration tests: clients pointed at a local httpmock server.
#![allow(dead_code)]

pub mod refresh;

use std::time::Duration;

use httpmock::MockServer;
use stravalib::RetryPolicy;
use stravalib::rate_limit::RateLimitPolicy;
use stravalib::{Client, ClientBuilder};

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
