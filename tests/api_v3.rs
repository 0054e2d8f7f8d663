//! The request pipeline: errors by status, retries, token refresh (single-flight), the
//! token store, and secrets kept out of every output.

mod support;

use support::refresh::{
    NEW_REFRESH, NEW_TOKEN, REFRESH, SECRET, TOKEN, expired_tokens, fresh_tokens, mock_refresh,
};

use std::sync::Arc;
use std::time::Duration;

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use serde_json::json;
use stravalib::RetryPolicy;
use stravalib::auth::{ClientCredentials, MemoryTokenStore, TokenStore};
use stravalib::{Client, ErrorKind};

async fn athlete_error(
    server: &MockServer,
    status: u16,
    body: &str,
    content_type: &str,
) -> stravalib::Error {
    let body = body.to_owned();
    let ct = content_type.to_owned();
    server
        .mock_async(move |when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(status).header("content-type", ct).body(body);
        })
        .await;
    support::client(server, TOKEN)
        .get_athlete()
        .await
        .expect_err("an error answer")
}

#[tokio::test]
async fn unauthorized_carries_stravas_errors() {
    let server = MockServer::start_async().await;
    let err = athlete_error(
        &server,
        401,
        r#"{"message":"Authorization Error","errors":[{"resource":"AccessToken","field":"activity:read_permission","code":"missing"}]}"#,
        "application/json",
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.message(), "Authorization Error");
    assert_eq!(err.errors()[0].code.as_deref(), Some("missing"));
    assert_eq!(err.missing_scope(), Some("activity:read"));
    assert_eq!(err.operation(), Some("getLoggedInAthlete"));
}

#[tokio::test]
async fn inactive_application_is_recognised() {
    let server = MockServer::start_async().await;
    let err = athlete_error(
        &server,
        403,
        r#"{"message":"Forbidden","errors":[{"resource":"Application","field":"Status","code":"Inactive"}]}"#,
        "application/json",
    )
    .await;
    assert!(err.is_forbidden());
    assert!(err.is_application_inactive());
    assert!(err.to_string().contains("inactive"), "{err}");
}

#[tokio::test]
async fn not_found_with_an_empty_body_keeps_its_status() {
    let server = MockServer::start_async().await;
    let err = athlete_error(&server, 404, "", "text/plain").await;
    assert!(err.is_not_found());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn rate_limited_answer_has_usage_and_reset() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(429)
                .header("content-type", "application/json")
                .header("x-ratelimit-limit", "200,2000")
                .header("x-ratelimit-usage", "201,900")
                .body(r#"{"message":"Too Many Requests","errors":"Rate Limit Exceeded"}"#);
        })
        .await;
    // RaiseOnLimit: a 429 is returned at once as the rate-limited error.
    let client = support::builder(&server)
        .access_token(TOKEN)
        .rate_limit(stravalib::rate_limit::RateLimitPolicy::RaiseOnLimit)
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("429");
    assert!(err.is_rate_limited());
    assert!(!err.is_local());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    let usage = err.rate_limit().expect("usage from the headers");
    assert_eq!(usage.overall_short().unwrap().usage, 201);
    let retry_at = err.retry_at().expect("reset time");
    assert!(retry_at > chrono::Utc::now());
    assert!(retry_at <= chrono::Utc::now() + chrono::Duration::minutes(15));
}

#[tokio::test]
async fn html_server_error_is_retried_then_reported_with_an_excerpt() {
    let server = MockServer::start_async().await;
    let page = "<html><head><title>502 Bad Gateway</title></head><body>upstream</body></html>";
    let mock = server
        .mock_async(move |when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(502)
                .header("content-type", "text/html")
                .body(page);
        })
        .await;
    let err = support::client(&server, TOKEN)
        .get_athlete()
        .await
        .expect_err("502");
    assert_eq!(mock.calls_async().await, 3, "default policy: 3 attempts");
    assert!(err.is_server_error());
    assert!(err.is_retryable());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(err.body_excerpt().unwrap().contains("502 Bad Gateway"));
}

#[tokio::test]
async fn posts_are_not_retried_once_sent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/activities");
            then.status(503).body("busy");
        })
        .await;
    let client = support::client(&server, TOKEN);
    let err = client
        .create_activity()
        .body_map(|b| {
            b.name("x")
                .sport_type(stravalib::types::SportType::Run)
                .start_date_local(chrono::Utc::now())
                .elapsed_time(1)
        })
        .send()
        .await
        .expect_err("503");
    assert_eq!(mock.calls_async().await, 1);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn retries_can_be_turned_off_and_bounded() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(504);
        })
        .await;
    let none = support::builder(&server)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    none.get_athlete().await.expect_err("504");
    assert_eq!(mock.calls_async().await, 1);
    let five = support::builder(&server)
        .retry(
            RetryPolicy::default()
                .max_attempts(5)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    five.get_athlete().await.expect_err("504");
    assert_eq!(mock.calls_async().await, 6);
}

#[tokio::test]
async fn retry_succeeds_after_transient_failures() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(503).up_to_n_times(2);
        })
        .await;
    let healthy = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200).json_body(json!({"id": 1}));
        })
        .await;
    let athlete = support::client(&server, TOKEN)
        .get_athlete()
        .await
        .expect("third attempt");
    assert_eq!(athlete.id.unwrap().to_string(), "1");
    assert_eq!(failing.calls_async().await, 2);
    assert_eq!(healthy.calls_async().await, 1);
}

#[tokio::test]
async fn connection_failures_are_typed() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api/v3"))
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
        .access_token(TOKEN)
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("refused");
    assert!(err.is_connect(), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn truncated_json_is_a_decode_error_with_path_and_excerpt() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"id": 5, "firstname": "Ada", "clubs": [{"id": 1, "na"#);
        })
        .await;
    let err = support::client(&server, TOKEN)
        .get_athlete()
        .await
        .expect_err("truncated");
    assert!(err.is_decode());
    assert_eq!(err.operation(), Some("getLoggedInAthlete"));
    assert!(err.to_string().contains("clubs"), "{err}");
    assert!(err.body_excerpt().unwrap().starts_with(r#"{"id": 5"#));
}

#[tokio::test]
async fn a_wrongly_typed_field_names_its_serde_path() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200)
                .json_body(json!({"id": 5, "bikes": [{"id": "b1", "distance": "far"}]}));
        })
        .await;
    let err = support::client(&server, TOKEN)
        .get_athlete()
        .await
        .expect_err("bad type");
    assert!(err.is_decode());
    assert!(err.to_string().contains("bikes[0].distance"), "{err}");
}

async fn mock_athlete_for<'a>(server: &'a MockServer, token: &'static str) -> httpmock::Mock<'a> {
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path("/api/v3/athlete")
                .header("authorization", format!("Bearer {token}"));
            then.status(200).json_body(json!({"id": 1}));
        })
        .await
}

#[tokio::test]
async fn expired_token_is_refreshed_before_the_request_and_stored() {
    let server = MockServer::start_async().await;
    let refresh = mock_refresh(&server).await;
    let athlete = mock_athlete_for(&server, NEW_TOKEN).await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = support::builder(&server)
        .tokens(expired_tokens())
        .credentials(ClientCredentials::new(4242, SECRET))
        .token_store(store.clone())
        .build()
        .unwrap();
    client.get_athlete().await.expect("refreshed call");
    assert_eq!(refresh.calls_async().await, 1);
    assert_eq!(athlete.calls_async().await, 1);
    let saved = store.load().await.unwrap().expect("saved tokens");
    assert_eq!(
        saved.refresh_token.expose(),
        NEW_REFRESH,
        "rotated refresh token persisted"
    );
    assert_eq!(client.tokens().unwrap().access_token.expose(), NEW_TOKEN);
}

#[tokio::test]
async fn fifty_concurrent_requests_make_one_refresh() {
    let server = MockServer::start_async().await;
    let refresh = mock_refresh(&server).await;
    let athlete = mock_athlete_for(&server, NEW_TOKEN).await;
    let client = support::builder(&server)
        .tokens(expired_tokens())
        .credentials(ClientCredentials::new(4242, SECRET))
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_athlete().await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every request succeeds");
    }
    assert_eq!(refresh.calls_async().await, 1, "single-flight refresh");
    assert_eq!(athlete.calls_async().await, 50);
}

#[tokio::test]
async fn a_401_for_an_invalid_token_refreshes_once_and_retries() {
    let server = MockServer::start_async().await;
    let refresh = mock_refresh(&server).await;
    let rejected = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(401)
                .json_body(json!({"message": "Authorization Error",
                "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]}));
        })
        .await;
    let accepted = mock_athlete_for(&server, NEW_TOKEN).await;
    let client = support::builder(&server)
        .tokens(fresh_tokens())
        .credentials(ClientCredentials::new(4242, SECRET))
        .build()
        .unwrap();
    client
        .get_athlete()
        .await
        .expect("retried with the new token");
    assert_eq!(rejected.calls_async().await, 1);
    assert_eq!(refresh.calls_async().await, 1);
    assert_eq!(accepted.calls_async().await, 1);
}

#[tokio::test]
async fn a_failed_refresh_is_typed_and_keeps_the_old_tokens() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400).json_body(json!({"message": "Bad Request",
                "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}]}));
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
        .credentials(ClientCredentials::new(4242, SECRET))
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("refresh failed");
    assert!(err.is_token_refresh(), "{err:?}");
    assert!(err.is_local());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.errors()[0].code.as_deref(), Some("invalid"));
    assert_eq!(
        api.calls_async().await,
        0,
        "nothing sent with a stale token"
    );
    let kept = client.tokens().unwrap();
    assert_eq!(kept.refresh_token.expose(), REFRESH);
    assert_eq!(kept.access_token.expose(), TOKEN);
    let shown = format!("{err} {err:?}");
    for secret in [TOKEN, REFRESH, SECRET] {
        assert!(!shown.contains(secret), "secret in error output: {shown}");
    }
}

#[tokio::test]
async fn tokens_only_travel_in_the_authorization_header() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete")
                .query_param_missing("access_token")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(json!({"id": 1}));
        })
        .await;
    support::client(&server, TOKEN).get_athlete().await.unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn generic_requests_resolve_paths_and_can_return_raw_responses() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/activities/7/photos")
                .query_param("size", "600")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(404)
                .json_body(json!({"message": "Record Not Found", "errors": []}));
        })
        .await;
    let client = support::client(&server, TOKEN);
    let err = client
        .api()
        .get("activities/7/photos", &[("size", "600")])
        .await
        .expect_err("404");
    assert!(err.is_not_found());
    assert_eq!(err.message(), "Record Not Found");
    let raw = client
        .api()
        .request(
            reqwest::Method::GET,
            &server.url("/api/v3/activities/7/photos"),
        )
        .query(&[("size", "600")])
        .check_for_errors(false)
        .send()
        .await
        .expect("raw response");
    assert_eq!(raw.status().as_u16(), 404);
    assert_eq!(mock.calls_async().await, 2);
}

#[tokio::test]
async fn each_status_maps_to_its_kind() {
    let cases = [
        (400, ErrorKind::ClientFault),
        (401, ErrorKind::Unauthorized),
        (403, ErrorKind::Forbidden),
        (404, ErrorKind::NotFound),
        (409, ErrorKind::ClientFault),
        (422, ErrorKind::ClientFault),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::ServerFault),
        (503, ErrorKind::ServerFault),
    ];
    for (status, kind) in cases {
        let server = MockServer::start_async().await;
        server
            .mock_async(move |when, then| {
                when.method(GET).path("/api/v3/athlete");
                then.status(status)
                    .json_body(json!({"message": format!("status {status}"),
                    "errors": [{"resource": "Athlete", "field": "id", "code": "invalid"}]}));
            })
            .await;
        let client = support::builder(&server)
            .access_token(TOKEN)
            .retry(RetryPolicy::none())
            .rate_limit(stravalib::rate_limit::RateLimitPolicy::RaiseOnLimit)
            .build()
            .unwrap();
        let err = client.get_athlete().await.expect_err("error status");
        assert_eq!(err.kind(), kind, "status {status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.message(), format!("status {status}"));
        assert_eq!(err.errors().len(), 1);
        assert_eq!(err.is_client_error(), status < 500);
    }
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200)
                .delay(Duration::from_millis(500))
                .json_body(json!({"id": 1}));
        })
        .await;
    let client = support::builder(&server)
        .access_token(TOKEN)
        .timeout(Duration::from_millis(50))
        .retry(
            RetryPolicy::default()
                .max_attempts(2)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("timeout");
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(
        mock.calls_async().await,
        2,
        "an idempotent GET is retried after a timeout"
    );
}

#[tokio::test]
async fn exchanged_tokens_are_used_by_later_requests() {
    let server = MockServer::start_async().await;
    let expires = chrono::Utc::now().timestamp() + 6 * 3600;
    let exchange = server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "authorization_code")
                .form_urlencoded_tuple("code", "one-time-code-123")
                .form_urlencoded_tuple("client_id", "4242")
                .form_urlencoded_tuple("client_secret", SECRET);
            then.status(200).json_body(json!({
                "token_type": "Bearer", "access_token": NEW_TOKEN, "refresh_token": NEW_REFRESH,
                "expires_at": expires, "expires_in": 21600,
                "athlete": {"id": 77, "firstname": "Ada"}
            }));
        })
        .await;
    let athlete = mock_athlete_for(&server, NEW_TOKEN).await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = support::builder(&server)
        .token_store(store.clone())
        .build()
        .unwrap();
    let tokens = client
        .exchange_code_for_token(4242, SECRET, "one-time-code-123")
        .await
        .expect("tokens");
    assert_eq!(tokens.athlete.as_ref().and_then(|a| a.id), Some(77));
    assert_eq!(tokens.expires_at, expires);
    client.get_athlete().await.expect("uses the new token");
    exchange.assert_async().await;
    athlete.assert_async().await;
    assert_eq!(
        store.load().await.unwrap().unwrap().access_token.expose(),
        NEW_TOKEN
    );
}

#[tokio::test]
async fn client_and_free_function_build_the_same_authorization_url() {
    use stravalib::auth::{ApprovalPrompt, Scope};
    let client = Client::new();
    let args = (1234, "http://localhost:8080/cb", ApprovalPrompt::Force);
    let from_client = client
        .authorization_url(
            args.0,
            args.1,
            args.2,
            &[Scope::ActivityReadAll],
            Some("s1"),
        )
        .unwrap();
    let from_api = stravalib::auth::authorization_url(
        args.0,
        args.1,
        args.2,
        &[Scope::ActivityReadAll],
        Some("s1"),
    )
    .unwrap();
    assert_eq!(from_client, from_api);
    assert_eq!(
        from_client.as_str(),
        "https://www.strava.com/oauth/authorize?client_id=1234&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&response_type=code&approval_prompt=force&scope=activity%3Aread_all&state=s1"
    );
    let bad = client.authorization_url(1, "ftp://example.org/cb", ApprovalPrompt::Auto, &[], None);
    assert!(bad.unwrap_err().is_invalid_input());
}

#[tokio::test]
async fn builder_rejects_a_bad_base_url() {
    let err = Client::builder().base_url("not a url").build().unwrap_err();
    assert!(err.is_invalid_input());
    assert!(err.to_string().contains("not a url"), "{err}");
    let err = Client::builder()
        .base_url("ftp://example.org")
        .build()
        .unwrap_err();
    assert!(err.is_invalid_input());
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_invalid_input_not_a_silent_anonymous_call() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200).json_body(json!({"id": 1}));
        })
        .await;
    let client = support::client(&server, "broken\ntoken-4711");
    let err = client.get_athlete().await.expect_err("invalid token");
    assert!(err.is_invalid_input(), "{err:?}");
    assert!(err.is_local());
    assert!(!format!("{err} {err:?}").contains("token-4711"));
    assert_eq!(mock.calls_async().await, 0, "nothing sent");
}
