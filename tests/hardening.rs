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
    assert_eq!(
        token.calls_async().await,
        1,
        "one attempt for all waiting calls"
    );
    assert_eq!(api.calls_async().await, 0);

    // A call right after the failure gets it again without a new attempt (backoff).
    let again = client.get_athlete().send().await.expect_err("backing off");
    assert!(again.is_token_refresh());
    assert_eq!(token.calls_async().await, 1);
}

#[tokio::test]
async fn after_the_backoff_the_next_call_tries_again_and_succeeds() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503)
                .json_body(json!({"message": "Service Unavailable"}));
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
            when.method(GET).path("/api/v3/athlete").header(
                "authorization",
                format!("Bearer {}", support::refresh::NEW_TOKEN),
            );
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

// ---------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_token_endpoint_redirecting_elsewhere_is_an_error_and_no_secret_follows() {
    let strava = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let trap = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({
                "token_type": "Bearer", "access_token": "stolen-access-token",
                "refresh_token": "stolen-refresh-token", "expires_at": 1_900_000_000
            }));
        })
        .await;
    for status in [307, 308, 302] {
        let location = elsewhere.url("/oauth/token");
        let redirect = strava
            .mock_async(move |when, then| {
                when.method(POST).path("/oauth/token");
                then.status(status).header("location", &location);
            })
            .await;
        let client = support::builder(&strava)
            .credentials(ClientCredentials::new(CLIENT_ID, SECRET))
            .build()
            .unwrap();
        let err = client
            .exchange_code_for_token(CLIENT_ID, SECRET, "authorization-code-123")
            .await
            .expect_err("redirected");
        let text = err.to_string();
        assert!(text.contains(&status.to_string()), "{text}");
        assert!(text.contains("127.0.0.1"), "names the target host: {text}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(!text.contains(SECRET) && !format!("{err:?}").contains(SECRET));
        assert!(client.tokens().is_none(), "no tokens accepted");
        redirect.delete_async().await;
    }
    assert_eq!(
        trap.calls_async().await,
        0,
        "nothing reached the other origin"
    );
}

#[tokio::test]
async fn api_redirects_to_another_host_drop_the_token() {
    let strava = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let without_token = elsewhere
        .mock_async(|when, then| {
            when.method(GET)
                .path("/athlete")
                .header_missing("authorization");
            then.status(200).json_body(json!({"id": 3}));
        })
        .await;
    let location = elsewhere.url("/athlete");
    strava
        .mock_async(move |when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(302).header("location", &location);
        })
        .await;
    let client = support::client(&strava, "an-access-token-123456");
    let athlete = client
        .get_athlete()
        .await
        .expect("followed without the token");
    assert_eq!(athlete.id.unwrap().to_string(), "3");
    without_token.assert_async().await;
}

// ---------------------------------------------------------------------------------------
// Echoed secrets
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_echoed_in_error_bodies_are_removed_from_errors() {
    const ACCESS: &str = "at-5f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(401).json_body(json!({
                "message": format!("Authorization Error: Bearer {ACCESS} is invalid"),
                "errors": [{"resource": "Athlete", "field": ACCESS, "code": "invalid"}]
            }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete/zones");
            then.status(500)
                .header("content-type", "text/html")
                .body(format!(
                    "<html><body>Error for token {ACCESS} (client {SECRET})</body></html>"
                ));
        })
        .await;
    let client = support::builder(&server)
        .access_token(ACCESS)
        .credentials(ClientCredentials::new(CLIENT_ID, SECRET))
        .retry(stravalib::RetryPolicy::none())
        .build()
        .unwrap();
    for err in [
        client.get_athlete().await.expect_err("401"),
        client.get_athlete_zones().await.expect_err("500"),
    ] {
        let shown = format!("{err} {err:?} {:?}", err.body_excerpt());
        assert!(!shown.contains(ACCESS), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}

// ---------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_answer_larger_than_the_limit_is_a_typed_error() {
    let big = "x".repeat(2 * 1024 * 1024);
    let server = MockServer::start_async().await;
    server
        .mock_async(move |when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200)
                .body(format!("{{\"firstname\":\"{big}\"}}"));
        })
        .await;
    let client = support::builder(&server)
        .access_token("an-access-token")
        .max_response_size(1024 * 1024)
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("too large");
    assert!(err.is_response_too_large(), "{err:?}");
    assert!(err.to_string().contains("1048576"), "{err}");
    assert_eq!(err.operation(), Some("getLoggedInAthlete"));

    // Within the limit, the same answer decodes.
    let roomy = support::builder(&server)
        .access_token("an-access-token")
        .max_response_size(4 * 1024 * 1024)
        .build()
        .unwrap();
    let athlete = roomy.get_athlete().await.expect("within the limit");
    assert_eq!(athlete.firstname.map(|n| n.len()), Some(2 * 1024 * 1024));
}

// ---------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_get_answered_500_is_retried_and_a_post_is_not() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(500)
                .json_body(json!({"message": "Internal Server Error"}));
        })
        .await;
    let post = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/activities");
            then.status(500)
                .json_body(json!({"message": "Internal Server Error"}));
        })
        .await;
    let client = support::client(&server, "an-access-token");
    let err = client.get_athlete().await.expect_err("500");
    assert!(err.is_retryable());
    assert_eq!(
        get.calls_async().await,
        3,
        "the default policy's 3 attempts"
    );
    let err = client
        .create_activity()
        .body_map(|b| {
            b.name("x")
                .sport_type(stravalib::types::SportType::Run)
                .start_date_local(chrono::Utc::now())
                .elapsed_time(1)
        })
        .await
        .expect_err("500");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(post.calls_async().await, 1, "a sent POST is never retried");
}
