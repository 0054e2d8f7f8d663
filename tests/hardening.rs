//! Hardening: a failing token endpoint, redirects, echoed secrets, empty uploads,
//! unbounded bodies, vague transport errors. Each test reproduces a defect against a
//! local server.

mod support;

use std::time::Duration;

use httpmock::prelude::*;
use serde_json::json;
use stravalib::auth::ClientCredentials;
use support::refresh::{CLIENT_ID, SECRET, expired_tokens};

/// An expired token and a token endpoint that fails (after `delay`): one refresh attempt
/// serves every waiting call, success or failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_token_endpoint_is_called_once_for_a_hundred_waiting_calls() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(500)
                .delay(Duration::from_millis(200))
                .json_body(json!({"message": "Internal Server Error", "errors": []}));
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200).json_body(json!({"id": 1}));
        })
        .await;
    let client = support::builder(&server)
        .tokens(expired_tokens())
        .credentials(ClientCredentials::new(CLIENT_ID, SECRET))
        .build()
        .unwrap();
    let calls = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.get_athlete().send().await })
    });
    let outcomes = futures::future::join_all(calls).await;
    for outcome in outcomes {
        let err = outcome.unwrap().expect_err("the refresh failed");
        assert!(err.is_token_refresh(), "{err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    }
    assert_eq!(token.calls_async().await, 1, "one attempt for all waiting calls");
    assert_eq!(api.calls_async().await, 0);

    // A call right after the failure gets it again without a new attempt (backoff).
    let again = client.get_athlete().send().await.expect_err("backing off");
    assert!(again.is_token_refresh());
    assert_eq!(token.calls_async().await, 1);
}

#[tokio::test]
async fn after_the_backoff_the_next_call_tries_again_and_succeeds() {
    let server = MockServer::start_async().await;
    let mut failing = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503).json_body(json!({"message": "Service Unavailable"}));
        })
        .await;
    let client = support::builder(&server)
        .tokens(expired_tokens())
        .credentials(ClientCredentials::new(CLIENT_ID, SECRET))
        .build()
        .unwrap();
    client.get_athlete().send().await.expect_err("503");
    assert_eq!(failing.calls_async().await, 1);
    failing.delete_async().await;
    let refresh = support::refresh::mock_refresh(&server).await;
    let athlete = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete")
                .header("authorization", format!("Bearer {}", support::refresh::NEW_TOKEN));
            then.status(200).json_body(json!({"id": 7}));
        })
        .await;
    // Still backing off: no new attempt.
    client.get_athlete().send().await.expect_err("backing off");
    assert_eq!(refresh.calls_async().await, 0);
    // The backoff passes (on tokio's clock), then the next call refreshes.
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(2)).await;
    tokio::time::resume();
    let found = client.get_athlete().send().await.expect("refreshed");
    assert_eq!(found.id.unwrap().to_string(), "7");
    assert_eq!(refresh.calls_async().await, 1);
    athlete.assert_async().await;
}
