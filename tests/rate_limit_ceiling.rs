//! The sleep policy's ceiling (issue "Hardening", item 8): a wait longer than the maximum
//! (15 minutes by default) fails at once with the typed rate-limit error instead of
//! blocking the call, before sending and after a 429. Waits within the ceiling still
//! happen. Every test runs on a paused tokio clock, with limiters reading a `TokioClock`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use httpmock::Method::GET;
use httpmock::MockServer;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::json;
use stravalib::rate_limit::{
    Clock, DEFAULT_MAX_WAIT, Priority, RateLimitPolicy, RateLimited, RateLimiter, SleepPolicy,
    TokioClock,
};
use stravalib::{Client, RetryPolicy};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamp")
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn clock_at(now: &str) -> TokioClock {
    TokioClock::starting_at(utc(now))
}

/// Default limits with the given overall usage (15-minute, daily).
fn usage_headers(overall: (u32, u32)) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-ratelimit-limit", "200,2000".to_owned()),
        ("x-ratelimit-usage", format!("{},{}", overall.0, overall.1)),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    headers
}

/// As if a previous request got an answer with `headers`.
async fn seed(limiter: &dyn RateLimiter, headers: &HeaderMap) {
    let permit = limiter.acquire(&Method::POST).await.expect("seed allowed");
    limiter.record(permit, StatusCode::OK, headers);
}

/// `actual` is `expected`, give or take tokio's 1 ms timer granularity.
#[track_caller]
fn assert_about(actual: Duration, expected: Duration) {
    assert!(
        actual >= expected && actual <= expected + Duration::from_millis(2),
        "expected about {expected:?}, got {actual:?}"
    );
}

/// A client on a paused clock: no timeouts and no idle pool (their timers would fire
/// while a request is in flight once the clock auto-advances), no retries.
fn builder(server: &MockServer, clock: TokioClock) -> stravalib::ClientBuilder {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    Client::builder()
        .base_url(server.url("/api/v3"))
        .http_client(http)
        .access_token("ceiling-token")
        .retry(RetryPolicy::none())
        .clock(clock)
}

// ---------------------------------------------------------------------------------------
// The limiter
// ---------------------------------------------------------------------------------------

#[test]
fn the_default_ceiling_is_fifteen_minutes() {
    assert_eq!(DEFAULT_MAX_WAIT, secs(15 * 60));
    assert_eq!(SleepPolicy::default().max_wait(), DEFAULT_MAX_WAIT);
    assert_eq!(
        SleepPolicy::new(Priority::Low)
            .with_max_wait(secs(60))
            .max_wait(),
        secs(60)
    );
}

#[tokio::test(start_paused = true)]
async fn a_spent_day_fails_at_once_instead_of_waiting_until_midnight() {
    let clock = clock_at("2026-03-10T12:00:00Z");
    let limiter = SleepPolicy::new(Priority::High).with_clock(clock);
    seed(&limiter, &usage_headers((20, 2000))).await;

    let start = tokio::time::Instant::now();
    let refused: RateLimited = limiter
        .acquire(&Method::POST)
        .await
        .expect_err("past the ceiling");
    assert_eq!(start.elapsed(), Duration::ZERO, "failed at once");
    assert_eq!(refused.retry_at, utc("2026-03-11T00:00:00Z"));
    assert_eq!(refused.status.unwrap().overall_daily().unwrap().usage, 2000);

    // As the crate's error: rate limited, local, no status, the reset as `retry_at`.
    let err = stravalib::Error::from(limiter.acquire(&Method::GET).await.expect_err("reads too"));
    assert!(err.is_rate_limited(), "{err:?}");
    assert!(err.is_local());
    assert_eq!(err.status(), None);
    assert_eq!(err.retry_at(), Some(utc("2026-03-11T00:00:00Z")));
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_wait_within_the_ceiling_still_sleeps() {
    // 10 s before the quarter hour.
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = SleepPolicy::new(Priority::High).with_clock(clock);
    seed(&limiter, &usage_headers((200, 500))).await;
    let start = tokio::time::Instant::now();
    let permit = limiter.acquire(&Method::POST).await.expect("waited");
    assert_about(start.elapsed(), secs(10));
    drop(permit);

    // A whole 15-minute window (the longest a short window can make anyone wait) is
    // exactly the default ceiling: still waited out.
    let clock = clock_at("2026-03-10T12:15:00Z");
    let limiter = SleepPolicy::new(Priority::High).with_clock(clock);
    seed(&limiter, &usage_headers((200, 500))).await;
    let start = tokio::time::Instant::now();
    let permit = limiter.acquire(&Method::POST).await.expect("waited");
    assert_about(start.elapsed(), DEFAULT_MAX_WAIT);
    assert_eq!(permit.granted_at(), utc("2026-03-10T12:30:00Z"));
}

#[tokio::test(start_paused = true)]
async fn the_ceiling_is_configurable() {
    // Below the 10 s wait: refused at once, with the quarter hour as the retry time.
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_max_wait(secs(5));
    seed(&limiter, &usage_headers((200, 500))).await;
    let start = tokio::time::Instant::now();
    let refused = limiter.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(refused.retry_at, utc("2026-03-10T12:15:00Z"));
    // Once the window has reset, it sends again.
    tokio::time::advance(secs(10)).await;
    assert!(limiter.acquire(&Method::POST).await.is_ok());

    // No ceiling (`Duration::MAX`): waits until midnight, as before.
    let clock = clock_at("2026-03-10T23:00:00Z");
    let limiter = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_max_wait(Duration::MAX);
    seed(&limiter, &usage_headers((20, 2000))).await;
    let start = tokio::time::Instant::now();
    let permit = limiter.acquire(&Method::POST).await.expect("waited");
    assert_about(start.elapsed(), secs(3600));
    assert_eq!(permit.granted_at(), utc("2026-03-11T00:00:00Z"));
    assert_eq!(clock.now(), utc("2026-03-11T00:00:00Z"));

    // Through the policy type, as a client builds it.
    let limiter = RateLimitPolicy::Sleep(Priority::High)
        .into_limiter_with(Arc::new(clock_at("2026-03-10T12:14:50Z")), secs(5));
    seed(&*limiter, &usage_headers((200, 500))).await;
    assert!(limiter.acquire(&Method::POST).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_spacing_past_the_ceiling_fails_at_once_too() {
    // Low spreads the day's last request over the rest of the day (about 24 h).
    let clock = clock_at("2026-03-10T00:00:30Z");
    let limiter = SleepPolicy::new(Priority::Low).with_clock(clock);
    seed(&limiter, &usage_headers((10, 1999))).await;
    let start = tokio::time::Instant::now();
    let refused = limiter.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    // The seed was granted at 00:00:30 with one request left in 23 h 59 min 30 s.
    assert_eq!(refused.retry_at, utc("2026-03-11T00:00:00Z"));
}

#[tokio::test(start_paused = true)]
async fn after_a_429_the_limiter_waits_only_within_the_ceiling() {
    // The daily window is spent at noon: waiting until midnight is past the ceiling.
    let clock = clock_at("2026-03-10T12:00:00Z");
    let limiter = SleepPolicy::new(Priority::High).with_clock(clock);
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    let spent = usage_headers((150, 2000));
    limiter.record(permit, StatusCode::TOO_MANY_REQUESTS, &spent);
    assert_eq!(limiter.on_rate_limited(&spent), None, "no retry");
    // Judged from the headers alone, the same.
    let fresh = SleepPolicy::new(Priority::High).with_clock(clock);
    assert_eq!(fresh.on_rate_limited(&spent), None);

    // The 15-minute window spent 10 s before the quarter hour: waited out.
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = SleepPolicy::new(Priority::High).with_clock(clock);
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    let short = usage_headers((200, 700));
    limiter.record(permit, StatusCode::TOO_MANY_REQUESTS, &short);
    assert_eq!(limiter.on_rate_limited(&short), Some(secs(10)));
    // ...unless the ceiling is lower.
    let limiter = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_max_wait(secs(9));
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    limiter.record(permit, StatusCode::TOO_MANY_REQUESTS, &short);
    assert_eq!(limiter.on_rate_limited(&short), None);
}

// ---------------------------------------------------------------------------------------
// Through the client
// ---------------------------------------------------------------------------------------

async fn mock_athlete<'a>(server: &'a MockServer, status: u16, usage: &str) -> httpmock::Mock<'a> {
    let usage = usage.to_owned();
    server
        .mock_async(move |when, then| {
            when.method(GET).path("/api/v3/athlete");
            let then = then
                .status(status)
                .header("x-ratelimit-limit", "200,2000")
                .header("x-ratelimit-usage", usage);
            if status == 429 {
                then.json_body(json!({"message": "Rate Limit Exceeded", "errors": []}));
            } else {
                then.json_body(json!({"id": 1}));
            }
        })
        .await
}

#[tokio::test(start_paused = true)]
async fn the_client_fails_at_once_when_the_day_is_spent() {
    let server = MockServer::start_async().await;
    let mock = mock_athlete(&server, 200, "20,2000").await;
    // The default policy (sleep, high priority) with the default ceiling.
    let client = builder(&server, clock_at("2026-11-22T12:00:00Z"))
        .build()
        .unwrap();
    client.get_athlete().await.expect("the day's last request");

    let start = tokio::time::Instant::now();
    let err = client.get_athlete().await.expect_err("past the ceiling");
    assert_eq!(start.elapsed(), Duration::ZERO, "failed at once");
    assert!(err.is_rate_limited(), "{err:?}");
    assert!(err.is_local(), "not sent");
    assert_eq!(err.status(), None);
    assert_eq!(err.retry_at(), Some(utc("2026-11-23T00:00:00Z")));
    assert_eq!(mock.calls_async().await, 1, "the refused call was not sent");
}

#[tokio::test(start_paused = true)]
async fn the_builder_sets_the_ceiling() {
    // A day's wait allowed: the call waits until midnight, then is sent.
    let server = MockServer::start_async().await;
    let mock = mock_athlete(&server, 200, "20,2000").await;
    let client = builder(&server, clock_at("2026-11-22T23:00:00Z"))
        .rate_limit(RateLimitPolicy::Sleep(Priority::High))
        .max_rate_limit_wait(secs(24 * 3600))
        .build()
        .unwrap();
    client.get_athlete().await.unwrap();
    let start = tokio::time::Instant::now();
    client.get_athlete().await.expect("sent after midnight");
    assert_about(start.elapsed(), secs(3600));
    assert_eq!(mock.calls_async().await, 2);

    // A one-second ceiling: even a 10 s wait for the quarter hour is refused.
    let server = MockServer::start_async().await;
    let mock = mock_athlete(&server, 200, "200,500").await;
    let client = builder(&server, clock_at("2026-11-22T12:14:50Z"))
        .max_rate_limit_wait(secs(1))
        .build()
        .unwrap();
    client.get_athlete().await.unwrap();
    let start = tokio::time::Instant::now();
    let err = client.get_athlete().await.expect_err("refused");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(err.is_rate_limited() && err.is_local(), "{err:?}");
    assert_eq!(err.retry_at(), Some(utc("2026-11-22T12:15:00Z")));
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_429_past_the_ceiling_is_returned_at_once() {
    let server = MockServer::start_async().await;
    let mock = mock_athlete(&server, 429, "150,2001").await;
    let client = builder(&server, clock_at("2026-11-22T12:00:00Z"))
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let err = client.get_athlete().await.expect_err("429");
    assert_eq!(start.elapsed(), Duration::ZERO, "no sleep until midnight");
    assert!(err.is_rate_limited(), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert!(!err.is_local(), "Strava's answer");
    // The reset of the spent window (a midnight UTC). The pipeline dates the 429's
    // headers by the system clock, not the client's, so only its shape is checked here.
    let retry_at = err.retry_at().expect("the reset");
    assert_eq!(retry_at.time(), chrono::NaiveTime::MIN, "{retry_at}");
    assert_eq!(mock.calls_async().await, 1, "not retried");

    // The next call is refused locally, with midnight as the retry time.
    let err = client.get_athlete().await.expect_err("refused");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(err.is_rate_limited() && err.is_local(), "{err:?}");
    assert_eq!(err.status(), None);
    assert_eq!(err.retry_at(), Some(utc("2026-11-23T00:00:00Z")));
    assert_eq!(mock.calls_async().await, 1);
}
