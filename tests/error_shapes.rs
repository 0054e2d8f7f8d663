//! What the pipeline decides reaches the caller as the typed error it made: statuses only
//! when Strava answered, retryability, Strava's errors, the operation (once), the cause.

mod support;

use std::error::Error as _;

use httpmock::prelude::*;
use serde_json::json;
use stravalib::Client;
use stravalib::auth::ClientCredentials;
use stravalib::rate_limit::RateLimitPolicy;
use support::refresh::{CLIENT_ID, SECRET, TOKEN, expired_tokens};

#[tokio::test]
async fn a_token_endpoint_answering_503_during_an_automatic_refresh_keeps_its_status() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(503).json_body(json!({
                "message": "Service Unavailable",
                "errors": [{"resource": "Token", "field": "refresh", "code": "unavailable"}]
            }));
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
    let err = client.get_athlete().await.expect_err("the refresh failed");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.is_token_refresh());
    assert_eq!(err.message(), "Service Unavailable");
    assert_eq!(err.errors()[0].code.as_deref(), Some("unavailable"));
    assert!(err.is_local(), "the API request itself was not sent");
    assert_eq!(api.calls_async().await, 0);
    assert!(token.calls_async().await >= 1);
    let text = err.to_string();
    assert!(text.starts_with("refresh_access_token: 503 "), "{text}");
    assert_eq!(text.matches("refresh_access_token").count(), 1, "{text}");
    assert!(!text.contains(SECRET) && !text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn a_request_refused_by_the_limiter_has_no_status_and_says_when_to_retry_once() {
    let server = MockServer::start_async().await;
    let athlete = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200)
                .header("X-RateLimit-Limit", "200,2000")
                .header("X-RateLimit-Usage", "200,350")
                .header("X-ReadRateLimit-Limit", "100,1000")
                .header("X-ReadRateLimit-Usage", "100,200")
                .json_body(json!({"id": 1}));
        })
        .await;
    let client = support::builder(&server)
        .access_token(TOKEN)
        .rate_limit(RateLimitPolicy::RaiseOnLimit)
        .build()
        .unwrap();
    client
        .get_athlete()
        .await
        .expect("the first request goes out");
    let err = client.get_athlete().await.expect_err("the window is spent");
    assert_eq!(athlete.calls_async().await, 1, "the second was not sent");
    assert_eq!(err.status(), None, "{err:?}");
    assert!(err.is_rate_limited());
    assert!(err.is_local());
    assert!(!err.is_client_error());
    let retry_at = err.retry_at().expect("when to retry");
    assert!(retry_at > chrono::Utc::now());
    let text = err.to_string();
    assert_eq!(text.matches("retry after").count(), 1, "{text}");
    assert_eq!(text.matches(&retry_at.to_rfc3339()).count(), 1, "{text}");
    assert_eq!(text.matches("getLoggedInAthlete").count(), 1, "{text}");
    assert_eq!(err.operation(), Some("getLoggedInAthlete"));
}

#[tokio::test]
async fn a_refused_connection_names_host_and_port_and_keeps_its_cause() {
    // A port with nothing listening: bind, read the port, close.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api/v3"))
        .access_token(TOKEN)
        .rate_limit(RateLimitPolicy::None)
        .retry(stravalib::RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("nothing listens");
    assert!(err.is_connect(), "{err:?}");
    assert_eq!(err.status(), None);
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.starts_with("getLoggedInAthlete: "), "{text}");
    let source = err.source().expect("the cause is kept");
    let mut chain = vec![source.to_string()];
    let mut next = source.source();
    while let Some(cause) = next {
        chain.push(cause.to_string());
        next = cause.source();
    }
    assert!(
        chain.iter().any(|c| c.to_lowercase().contains("refused")),
        "{chain:?}"
    );
}

#[tokio::test]
async fn an_absolute_url_to_another_host_is_refused_and_nothing_is_sent_there() {
    let strava = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let trap = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({}));
        })
        .await;
    let client = support::client(&strava, TOKEN);
    // httpmock servers share 127.0.0.1 but not the port: host:port decides.
    let url = elsewhere.url("/collect");
    let err = client.api().get(&url, &()).await.expect_err("another host");
    assert!(err.is_invalid_input(), "{err:?}");
    assert!(err.is_local());
    assert!(
        err.to_string().contains(&format!("{}", elsewhere.port())),
        "{err}"
    );
    assert!(!err.to_string().contains(TOKEN));
    assert_eq!(trap.calls_async().await, 0);

    // Allowed explicitly, it goes there with the token.
    let allowed = support::builder(&strava)
        .access_token(TOKEN)
        .allow_host(format!("127.0.0.1:{}", elsewhere.port()))
        .build()
        .unwrap();
    allowed.api().get(&url, &()).await.expect("allowed host");
    assert_eq!(trap.calls_async().await, 1);
}

#[tokio::test]
async fn a_missing_required_parameter_is_a_local_error_naming_the_operation() {
    let server = MockServer::start_async().await;
    let client = support::client(&server, TOKEN);
    // `id` is not a valid Id: the builder cannot make the request.
    let err = client
        .get_activity(-5i64)
        .send()
        .await
        .expect_err("invalid id");
    assert!(err.is_invalid_input(), "{err:?}");
    assert_eq!(err.operation(), Some("getActivityById"));
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn strava_errors_keep_status_errors_and_one_operation_name() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/activities/9");
            then.status(404).json_body(json!({
                "message": "Record Not Found",
                "errors": [{"resource": "Activity", "field": "id", "code": "not found"}]
            }));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let err = client.get_activity(9u64).await.expect_err("404");
    assert!(err.is_not_found());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.errors()[0].resource.as_deref(), Some("Activity"));
    assert_eq!(
        err.to_string().matches("getActivityById").count(),
        1,
        "{err}"
    );
    assert!(!err.is_local());
}

#[test]
fn the_api_is_built_from_a_server_and_an_api_base() {
    let default = Client::new();
    assert_eq!(default.api().server(), "www.strava.com");
    assert_eq!(default.api().api_base(), "/api/v3");
    assert_eq!(default.api().base_url(), stravalib::BASE_URL);
    let other = Client::builder()
        .server("api-v3.strava.com")
        .api_base("")
        .build()
        .unwrap();
    assert_eq!(other.api().base_url(), stravalib::UPCOMING_BASE_URL);
    assert_eq!(
        other.api().resolve_url("/athlete").unwrap().as_str(),
        "https://api-v3.strava.com/athlete"
    );
}
