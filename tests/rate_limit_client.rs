//! Rate limiting through the whole client pipeline, on a paused clock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use httpmock::Method::GET;
use httpmock::MockServer;
use serde_json::json;
use stravalib::Client;
use stravalib::RetryPolicy;
use stravalib::rate_limit::{
    Priority, RaiseOnLimit, RateLimitPolicy, RateLimiter, SleepPolicy, TokioClock,
};

fn client(server: &MockServer, limiter: Arc<dyn RateLimiter>) -> Client {
    // No timeouts and no idle pool: a paused clock would otherwise fire their timers
    // while a request is in flight.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    Client::builder()
        .base_url(server.url("/api/v3"))
        .http_client(http)
        .access_token("token")
        .retry(RetryPolicy::none())
        .rate_limit(RateLimitPolicy::Custom(limiter))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn raise_on_limit_refuses_without_sending_once_the_window_is_used_up() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200)
                .header("x-ratelimit-limit", "200,2000")
                .header("x-ratelimit-usage", "200,640")
                .json_body(json!({"id": 1}));
        })
        .await;
    let start = Utc.with_ymd_and_hms(2026, 11, 22, 12, 14, 50).unwrap();
    let limiter = Arc::new(RaiseOnLimit::new().with_clock(TokioClock::starting_at(start)));
    let client = client(&server, limiter);

    client
        .get_athlete()
        .await
        .expect("the last request of the window");
    let usage = client.rate_limit().expect("usage known after an answer");
    assert_eq!(usage.overall_short().unwrap().usage, 200);

    let err = client.get_athlete().await.expect_err("refused");
    assert!(err.is_rate_limited());
    assert!(err.is_local(), "refused before sending");
    assert_eq!(
        err.retry_at(),
        Some(Utc.with_ymd_and_hms(2026, 11, 22, 12, 15, 0).unwrap())
    );
    assert_eq!(
        mock.calls_async().await,
        1,
        "the refused request was not sent"
    );
}

#[tokio::test(start_paused = true)]
async fn sleep_policy_waits_out_a_429_and_then_succeeds() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(429)
                .header("x-ratelimit-limit", "200,2000")
                .header("x-ratelimit-usage", "201,640")
                .json_body(json!({"message": "Rate Limit Exceeded", "errors": []}))
                .up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(200)
                .header("x-ratelimit-limit", "200,2000")
                .header("x-ratelimit-usage", "1,641")
                .json_body(json!({"id": 1}));
        })
        .await;
    let start = Utc.with_ymd_and_hms(2026, 11, 22, 23, 59, 30).unwrap();
    let limiter =
        Arc::new(SleepPolicy::new(Priority::High).with_clock(TokioClock::starting_at(start)));
    let client = client(&server, limiter);

    let before = tokio::time::Instant::now();
    client
        .get_athlete()
        .await
        .expect("succeeds after the reset");
    let waited = before.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "waited {waited:?} for the midnight reset"
    );
    assert_eq!(limited.calls_async().await, 1);
    assert_eq!(ok.calls_async().await, 1);
    assert_eq!(
        client.rate_limit().unwrap().overall_short().unwrap().usage,
        1
    );
}
