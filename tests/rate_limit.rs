//! Rate limiting driven by Strava's headers (issue #4).
//!
//! Every test that involves time runs on a paused tokio clock, and the limiters read UTC
//! "now" from a `TokioClock`, so waits are exact and nothing really sleeps. Every loop is
//! bounded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use httpmock::MockServer;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use stravalib::rate_limit::{
    Clock, NoLimit, Permit, Priority, RaiseOnLimit, RateLimitPolicy, RateLimitStatus, RateLimited,
    RateLimiter, SleepPolicy, TokioClock, WindowUsage, daily_window_reset, parse_pair,
    short_window_reset,
};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamp")
}

/// Strava's four headers; `None` leaves a pair out.
fn strava_headers(
    overall: Option<((u32, u32), (u32, u32))>,
    read: Option<((u32, u32), (u32, u32))>,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut put = |name: &str, (a, b): (u32, u32)| {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(&format!("{a},{b}")).unwrap(),
        );
    };
    if let Some((limit, usage)) = overall {
        put("X-RateLimit-Limit", limit);
        put("X-RateLimit-Usage", usage);
    }
    if let Some((limit, usage)) = read {
        put("X-ReadRateLimit-Limit", limit);
        put("X-ReadRateLimit-Usage", usage);
    }
    headers
}

/// Default limits with the given overall and read usage.
fn usage_headers(overall: (u32, u32), read: (u32, u32)) -> HeaderMap {
    strava_headers(Some(((200, 2000), overall)), Some(((100, 1000), read)))
}

fn raw_headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        );
    }
    headers
}

fn status_at(now: &str, headers: &HeaderMap) -> RateLimitStatus {
    RateLimitStatus::from_headers_at(headers, utc(now)).expect("well-formed headers")
}

/// As if a previous request with `method` got an answer with `headers`.
async fn seed(limiter: &dyn RateLimiter, method: Method, headers: &HeaderMap) {
    let permit = limiter
        .acquire(&method)
        .await
        .expect("seed request allowed");
    limiter.record(permit, StatusCode::OK, headers);
}

fn clock_at(now: &str) -> TokioClock {
    TokioClock::starting_at(utc(now))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// `actual` is `expected`, give or take tokio's 1 ms timer granularity.
#[track_caller]
fn assert_about(actual: Duration, expected: Duration) {
    assert!(
        actual >= expected && actual <= expected + millis(2),
        "expected about {expected:?}, got {actual:?}"
    );
}

/// `actual` is `expected`, give or take tokio's 1 ms timer granularity.
#[track_caller]
fn assert_about_utc(actual: DateTime<Utc>, expected: DateTime<Utc>) {
    let diff = actual - expected;
    assert!(
        diff >= chrono::TimeDelta::zero() && diff <= chrono::TimeDelta::milliseconds(2),
        "expected about {expected}, got {actual}"
    );
}

fn http_client() -> reqwest::Client {
    // No idle pool: its timer would let the paused clock jump while a request is in flight.
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// Header parsing
// ---------------------------------------------------------------------------------------

#[test]
fn parse_pair_accepts_two_numbers() {
    assert_eq!(parse_pair("200,2000"), Some((200, 2000)));
    assert_eq!(parse_pair("31,1050"), Some((31, 1050)));
    assert_eq!(parse_pair(" 31 , 1050 "), Some((31, 1050)));
    assert_eq!(parse_pair("\t31,\t1050"), Some((31, 1050)));
    assert_eq!(parse_pair("0,0"), Some((0, 0)));
    assert_eq!(parse_pair("007,1"), Some((7, 1)));
    assert_eq!(parse_pair("4294967295,1"), Some((u32::MAX, 1)));
}

#[test]
fn parse_pair_rejects_garbage() {
    for bad in [
        "",
        "200",
        ",",
        "1,",
        ",1",
        "a,b",
        "-1,5",
        "+1,5",
        "1,2,3",
        "1,,2",
        "1.5,2",
        "0x10,2",
        "1 2,3",
        "4294967296,1",
        "1,99999999999999999999999999999999",
        "\u{661},2", // an Arabic-Indic digit
        "\u{a0}1,2", // a non-breaking space
        "1,2\r\n",
    ] {
        assert_eq!(parse_pair(bad), None, "{bad:?}");
    }
}

#[test]
fn status_from_the_four_headers() {
    let headers = strava_headers(
        Some(((200, 2000), (31, 1050))),
        Some(((100, 1000), (12, 400))),
    );
    let status = status_at("2026-03-10T12:14:50Z", &headers);
    assert_eq!(status.observed_at(), utc("2026-03-10T12:14:50Z"));
    let short = utc("2026-03-10T12:15:00Z");
    let midnight = utc("2026-03-11T00:00:00Z");
    assert_eq!(
        status.overall_short(),
        Some(WindowUsage {
            usage: 31,
            limit: 200,
            resets_at: short
        })
    );
    assert_eq!(
        status.overall_daily(),
        Some(WindowUsage {
            usage: 1050,
            limit: 2000,
            resets_at: midnight
        })
    );
    assert_eq!(
        status.read_short(),
        Some(WindowUsage {
            usage: 12,
            limit: 100,
            resets_at: short
        })
    );
    assert_eq!(
        status.read_daily(),
        Some(WindowUsage {
            usage: 400,
            limit: 1000,
            resets_at: midnight
        })
    );
    assert_eq!(status.overall_short().unwrap().remaining(), 169);
    assert!(!status.overall_short().unwrap().is_exhausted());
    // A GET counts against all four windows, a POST against the overall two.
    assert_eq!(status.windows_for(&Method::GET).len(), 4);
    assert_eq!(
        status.windows_for(&Method::POST),
        vec![
            status.overall_short().unwrap(),
            status.overall_daily().unwrap()
        ]
    );
    assert_eq!(
        status.usage_summary(),
        "overall 31/200 15min, 1050/2000 day; read 12/100 15min, 400/1000 day"
    );
}

#[test]
fn header_names_are_case_insensitive_and_whitespace_is_accepted() {
    let headers = raw_headers(&[
        ("x-ratelimit-limit", b"200,2000"),
        ("X-RATELIMIT-USAGE", b" 31 , 1050 "),
    ]);
    let status = status_at("2026-03-10T08:00:00Z", &headers);
    assert_eq!(status.overall_short().unwrap().usage, 31);
    assert_eq!(status.overall_daily().unwrap().usage, 1050);
    assert_eq!(status.read_short(), None);
}

#[test]
fn malformed_or_missing_headers_are_ignored() {
    let now = utc("2026-03-10T12:00:00Z");
    // Nothing at all.
    assert_eq!(
        RateLimitStatus::from_headers_at(&HeaderMap::new(), now),
        None
    );
    assert_eq!(RateLimitStatus::from_headers(&HeaderMap::new()), None);
    // Each malformed value spoils its own pair only.
    for bad in [
        &b"200"[..],
        b"a,b",
        b"-1,5",
        b"1,2,3",
        b"99999999999999999999,1",
        b"",
        b"\xff,1",
    ] {
        let headers = raw_headers(&[
            ("x-ratelimit-limit", b"200,2000"),
            ("x-ratelimit-usage", bad),
            ("x-readratelimit-limit", b"100,1000"),
            ("x-readratelimit-usage", b"12,400"),
        ]);
        let status = RateLimitStatus::from_headers_at(&headers, now).expect("read pair is fine");
        assert_eq!(status.overall_short(), None, "{bad:?}");
        assert_eq!(status.read_short().unwrap().usage, 12, "{bad:?}");

        let only_bad = raw_headers(&[
            ("x-ratelimit-limit", b"200,2000"),
            ("x-ratelimit-usage", bad),
        ]);
        assert_eq!(
            RateLimitStatus::from_headers_at(&only_bad, now),
            None,
            "{bad:?}"
        );
    }
    // A limit without its usage, and a zero limit (it would block forever).
    let half = raw_headers(&[("x-ratelimit-limit", b"200,2000")]);
    assert_eq!(RateLimitStatus::from_headers_at(&half, now), None);
    let zero = raw_headers(&[
        ("x-ratelimit-limit", b"0,2000"),
        ("x-ratelimit-usage", b"0,0"),
    ]);
    assert_eq!(RateLimitStatus::from_headers_at(&zero, now), None);
}

#[test]
fn usage_over_the_limit_is_exhausted() {
    let headers = strava_headers(Some(((200, 2000), (215, 900))), None);
    let status = status_at("2026-03-10T12:05:00Z", &headers);
    let short = status.overall_short().unwrap();
    assert!(short.is_exhausted());
    assert_eq!(short.remaining(), 0);
}

#[test]
fn write_headers_round_trips() {
    let headers = usage_headers((31, 1050), (12, 400));
    let status = status_at("2026-03-10T12:14:50Z", &headers);
    let mut written = HeaderMap::new();
    written.insert("x-readratelimit-usage", HeaderValue::from_static("stale"));
    status.write_headers(&mut written);
    assert_eq!(written, headers);
    assert_eq!(
        RateLimitStatus::from_headers_at(&written, status.observed_at()),
        Some(status)
    );
}

#[test]
fn stravalib_error_carries_the_reset_of_a_429() {
    let headers = usage_headers((200, 900), (80, 400));
    let before = Utc::now();
    let err = stravalib::Error::from_response(StatusCode::TOO_MANY_REQUESTS, &headers, b"");
    assert!(err.is_rate_limited());
    let status = err.rate_limit().expect("headers parsed");
    assert_eq!(status.overall_short().unwrap().usage, 200);
    let retry_at = err.retry_at().expect("retry time");
    assert!(retry_at > before && retry_at <= short_window_reset(Utc::now()));
}

// ---------------------------------------------------------------------------------------
// Window arithmetic
// ---------------------------------------------------------------------------------------

#[test]
fn windows_reset_on_quarter_hours_and_midnight_utc() {
    let cases = [
        ("2026-03-10T12:14:50Z", "2026-03-10T12:15:00Z"),
        ("2026-03-10T12:14:59.999Z", "2026-03-10T12:15:00Z"),
        ("2026-03-10T12:15:00Z", "2026-03-10T12:30:00Z"),
        ("2026-03-10T12:00:00.001Z", "2026-03-10T12:15:00Z"),
        ("2026-03-10T12:59:59Z", "2026-03-10T13:00:00Z"),
        ("2026-03-10T23:59:30Z", "2026-03-11T00:00:00Z"),
        ("2026-12-31T23:50:00Z", "2027-01-01T00:00:00Z"),
    ];
    for (now, reset) in cases {
        assert_eq!(short_window_reset(utc(now)), utc(reset), "{now}");
    }
    assert_eq!(
        daily_window_reset(utc("2026-03-10T23:59:30Z")),
        utc("2026-03-11T00:00:00Z")
    );
    assert_eq!(
        daily_window_reset(utc("2026-03-10T00:00:00Z")),
        utc("2026-03-11T00:00:00Z")
    );
    assert_eq!(
        daily_window_reset(utc("2026-02-28T12:14:50Z")),
        utc("2026-03-01T00:00:00Z")
    );
    // Far ends of time do not panic.
    let _ = short_window_reset(DateTime::<Utc>::MAX_UTC);
    let _ = daily_window_reset(DateTime::<Utc>::MIN_UTC);
}

#[test]
fn next_reset_is_the_reset_of_the_exhausted_window() {
    let now = "2026-03-10T12:14:50Z";
    // Nothing exhausted: the end of the 15-minute window.
    let status = status_at(now, &usage_headers((31, 1050), (12, 400)));
    assert_eq!(status.next_reset(), utc("2026-03-10T12:15:00Z"));
    // The 15-minute window exhausted.
    let status = status_at(now, &usage_headers((200, 1050), (12, 400)));
    assert_eq!(status.next_reset(), utc("2026-03-10T12:15:00Z"));
    // The daily window exhausted: midnight, even though it is 12:14:50.
    let status = status_at(now, &usage_headers((31, 2000), (12, 400)));
    assert_eq!(status.next_reset(), utc("2026-03-11T00:00:00Z"));
    // The read daily window exhausted.
    let status = status_at(now, &usage_headers((31, 1050), (12, 1000)));
    assert_eq!(status.next_reset(), utc("2026-03-11T00:00:00Z"));
    // retry_at says which requests are affected.
    assert_eq!(status.retry_at(&Method::POST, utc(now)), None);
    assert_eq!(
        status.retry_at(&Method::GET, utc(now)),
        Some(utc("2026-03-11T00:00:00Z"))
    );
}

#[test]
fn as_of_rolls_windows_that_have_reset() {
    let status = status_at(
        "2026-03-10T23:59:30Z",
        &usage_headers((200, 2000), (50, 999)),
    );
    let later = status.as_of(utc("2026-03-11T00:00:05Z"));
    assert_eq!(later.observed_at(), status.observed_at());
    assert_eq!(
        later.overall_short(),
        Some(WindowUsage {
            usage: 0,
            limit: 200,
            resets_at: utc("2026-03-11T00:15:00Z")
        })
    );
    assert_eq!(
        later.overall_daily(),
        Some(WindowUsage {
            usage: 0,
            limit: 2000,
            resets_at: utc("2026-03-12T00:00:00Z")
        })
    );
    // Before the reset nothing changes.
    assert_eq!(status.as_of(utc("2026-03-10T23:59:59Z")), status);
    // Only the short window has reset at 12:15.
    let status = status_at(
        "2026-03-10T12:14:50Z",
        &usage_headers((200, 1500), (50, 999)),
    );
    let later = status.as_of(utc("2026-03-10T12:15:00Z"));
    assert_eq!(later.overall_short().unwrap().usage, 0);
    assert_eq!(later.overall_daily().unwrap().usage, 1500);
}

// ---------------------------------------------------------------------------------------
// Each priority's waits
// ---------------------------------------------------------------------------------------

#[test]
fn waits_just_before_a_quarter_hour() {
    let now = utc("2026-03-10T12:14:50Z");
    // 10 s left in the 15-minute window; 10 overall requests left, 60 reads left;
    // 11 h 45 min 10 s (42,310 s) left in the day, 1,500 requests left.
    let status = status_at(
        "2026-03-10T12:14:50Z",
        &usage_headers((190, 500), (40, 400)),
    );
    for method in [Method::GET, Method::POST] {
        assert_eq!(Priority::High.wait(&status, &method, now), Duration::ZERO);
        // Medium: 10 s / 10 requests (the read window allows 10 s / 60).
        assert_eq!(Priority::Medium.wait(&status, &method, now), secs(1));
    }
    // Low: the daily window is tighter: 42,310 s / 1,500 overall requests left today...
    assert_eq!(
        Priority::Low.wait(&status, &Method::POST, now),
        Duration::from_nanos(42_310_000_000_000 / 1500)
    );
    // ...and for a read, the read daily window is tighter still: 42,310 s / 600 reads.
    assert_eq!(
        Priority::Low.wait(&status, &Method::GET, now),
        Duration::from_nanos(42_310_000_000_000 / 600)
    );

    // The read window is the tight one: 10 s / 5 reads left.
    let status = status_at(
        "2026-03-10T12:14:50Z",
        &usage_headers((100, 500), (95, 400)),
    );
    assert_eq!(Priority::Medium.wait(&status, &Method::GET, now), secs(2));
    assert_eq!(
        Priority::Medium.wait(&status, &Method::POST, now),
        millis(100)
    );
}

#[test]
fn waits_when_a_window_is_exhausted_are_until_its_reset() {
    let now = utc("2026-03-10T12:14:50Z");
    let overall_full = status_at(
        "2026-03-10T12:14:50Z",
        &usage_headers((200, 500), (40, 400)),
    );
    let read_full = status_at(
        "2026-03-10T12:14:50Z",
        &usage_headers((150, 500), (100, 400)),
    );
    let daily_full = status_at(
        "2026-03-10T12:14:50Z",
        &usage_headers((150, 2000), (40, 400)),
    );
    for priority in [Priority::High, Priority::Medium, Priority::Low] {
        for method in [Method::GET, Method::POST] {
            assert_eq!(priority.wait(&overall_full, &method, now), secs(10));
            // Until midnight: 11 h 45 min 10 s.
            assert_eq!(priority.wait(&daily_full, &method, now), secs(42_310));
        }
        assert_eq!(priority.wait(&read_full, &Method::GET, now), secs(10));
    }
    // A full read window does not hold writes back.
    assert_eq!(
        Priority::High.wait(&read_full, &Method::POST, now),
        Duration::ZERO
    );
    // 10 s / 50 requests left.
    assert_eq!(
        Priority::Medium.wait(&read_full, &Method::POST, now),
        millis(200)
    );
}

#[test]
fn waits_just_before_midnight() {
    let now = utc("2026-03-10T23:59:30Z");
    // 30 s left in both windows: 100 left in the 15-minute window, 10 left today.
    let status = status_at(
        "2026-03-10T23:59:30Z",
        &usage_headers((100, 1990), (10, 100)),
    );
    assert_eq!(
        Priority::High.wait(&status, &Method::POST, now),
        Duration::ZERO
    );
    assert_eq!(
        Priority::Medium.wait(&status, &Method::POST, now),
        millis(300)
    );
    assert_eq!(Priority::Low.wait(&status, &Method::POST, now), secs(3));
    // Daily window exhausted: until midnight, whatever the priority.
    let status = status_at(
        "2026-03-10T23:59:30Z",
        &usage_headers((100, 2000), (10, 100)),
    );
    for priority in [Priority::High, Priority::Medium, Priority::Low] {
        assert_eq!(priority.wait(&status, &Method::GET, now), secs(30));
    }
    // After midnight both windows are fresh: Low spreads 2,000 over the day, Medium 200
    // over 15 minutes.
    let after = utc("2026-03-11T00:00:00Z");
    assert_eq!(
        Priority::High.wait(&status, &Method::POST, after),
        Duration::ZERO
    );
    assert_eq!(
        Priority::Medium.wait(&status, &Method::POST, after),
        millis(4500)
    );
    assert_eq!(
        Priority::Low.wait(&status, &Method::POST, after),
        millis(43_200)
    );
}

#[test]
fn waits_from_a_stale_status_use_the_current_window() {
    // Exhausted at 12:10, but it is 12:15:30 now: a fresh window with 870 s left.
    let status = status_at(
        "2026-03-10T12:10:00Z",
        &usage_headers((200, 500), (40, 400)),
    );
    let now = utc("2026-03-10T12:15:30Z");
    assert_eq!(
        Priority::High.wait(&status, &Method::POST, now),
        Duration::ZERO
    );
    assert_eq!(
        Priority::Medium.wait(&status, &Method::POST, now),
        millis(4350)
    );
}

#[tokio::test(start_paused = true)]
async fn high_waits_only_for_an_exhausted_window() {
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = SleepPolicy::new(Priority::High).with_clock(clock);
    // Nothing known yet: sent at once.
    let start = tokio::time::Instant::now();
    seed(
        &limiter,
        Method::POST,
        &usage_headers((199, 500), (40, 400)),
    )
    .await;
    let permit = limiter.acquire(&Method::POST).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    limiter.record(
        permit,
        StatusCode::OK,
        &usage_headers((200, 501), (40, 400)),
    );
    // Exhausted: waits until 12:15:00.
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    assert_about(start.elapsed(), secs(10));
    assert_about_utc(permit.granted_at(), utc("2026-03-10T12:15:00Z"));
    assert_about_utc(clock.now(), utc("2026-03-10T12:15:00Z"));
}

#[tokio::test(start_paused = true)]
async fn high_waits_until_midnight_when_the_day_is_used_up() {
    let clock = clock_at("2026-03-10T23:59:30Z");
    let limiter = SleepPolicy::default().with_clock(clock);
    assert_eq!(limiter.priority(), Priority::High);
    seed(
        &limiter,
        Method::GET,
        &usage_headers((120, 2000), (60, 900)),
    )
    .await;
    let start = tokio::time::Instant::now();
    let permit = limiter.acquire(&Method::POST).await.unwrap();
    assert_about(start.elapsed(), secs(30));
    assert_about_utc(permit.granted_at(), utc("2026-03-11T00:00:00Z"));
}

#[tokio::test(start_paused = true)]
async fn medium_spaces_requests_over_the_short_window() {
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = SleepPolicy::new(Priority::Medium).with_clock(clock);
    seed(
        &limiter,
        Method::POST,
        &usage_headers((190, 500), (40, 400)),
    )
    .await;
    // 10 s left, 10 requests left: one per second, counting the ones in flight.
    let mut permits = Vec::new();
    for i in 1..=5u64 {
        let permit = limiter.acquire(&Method::POST).await.unwrap();
        assert_about_utc(
            permit.granted_at(),
            utc("2026-03-10T12:14:50Z") + chrono::TimeDelta::seconds(i as i64),
        );
        permits.push(permit);
    }
}

#[tokio::test(start_paused = true)]
async fn low_spaces_requests_over_the_tighter_daily_window() {
    let clock = clock_at("2026-03-10T23:59:30Z");
    let limiter = SleepPolicy::new(Priority::Low).with_clock(clock);
    seed(
        &limiter,
        Method::POST,
        &usage_headers((100, 1990), (10, 100)),
    )
    .await;
    // 30 s and 10 requests left today: 3 s apart (the short window would allow 0.3 s).
    let first = limiter.acquire(&Method::POST).await.unwrap();
    assert_about_utc(first.granted_at(), utc("2026-03-10T23:59:33Z"));
    // Strava's answer says 1,991: 27 s and 9 left, still 3 s.
    limiter.record(
        first,
        StatusCode::CREATED,
        &usage_headers((101, 1991), (10, 100)),
    );
    let second = limiter.acquire(&Method::POST).await.unwrap();
    assert_about_utc(second.granted_at(), utc("2026-03-10T23:59:36Z"));
}

// ---------------------------------------------------------------------------------------
// RaiseOnLimit
// ---------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn raise_on_limit_fails_fast_with_the_reset_time() {
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = RaiseOnLimit::new().with_clock(clock);
    // Nothing known: allowed.
    let start = tokio::time::Instant::now();
    seed(&limiter, Method::GET, &usage_headers((200, 700), (80, 400))).await;
    let RateLimited { retry_at, status } = limiter.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO, "no waiting");
    assert_eq!(retry_at, utc("2026-03-10T12:15:00Z"));
    assert_eq!(status.unwrap().overall_short().unwrap().usage, 200);
    let err = limiter.acquire(&Method::GET).await.unwrap_err();
    assert!(err.to_string().contains("2026-03-10T12:15:00"), "{err}");
    // After the reset it sends again.
    tokio::time::advance(secs(10)).await;
    assert!(limiter.acquire(&Method::POST).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn raise_on_limit_reports_midnight_for_the_daily_window() {
    for now in ["2026-03-10T23:59:30Z", "2026-03-10T12:14:50Z"] {
        let limiter = RaiseOnLimit::new().with_clock(clock_at(now));
        seed(&limiter, Method::GET, &usage_headers((20, 2000), (10, 500))).await;
        let refused = limiter.acquire(&Method::POST).await.unwrap_err();
        assert_eq!(refused.retry_at, utc("2026-03-11T00:00:00Z"), "{now}");
    }
}

#[tokio::test(start_paused = true)]
async fn reads_count_against_the_read_and_overall_windows_writes_against_overall() {
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = RaiseOnLimit::new().with_clock(clock);
    // The read window is full, the overall one is not.
    seed(
        &limiter,
        Method::GET,
        &usage_headers((120, 700), (100, 400)),
    )
    .await;
    let refused = limiter.acquire(&Method::GET).await.unwrap_err();
    assert_eq!(refused.retry_at, utc("2026-03-10T12:15:00Z"));
    let write = limiter
        .acquire(&Method::POST)
        .await
        .expect("writes still go");
    limiter.record(
        write,
        StatusCode::CREATED,
        &usage_headers((121, 701), (100, 400)),
    );

    // 2 overall requests left: a read in flight takes one of them.
    let limiter = RaiseOnLimit::new().with_clock(clock);
    seed(&limiter, Method::GET, &usage_headers((198, 700), (50, 400))).await;
    let read = limiter.acquire(&Method::GET).await.unwrap();
    let write = limiter.acquire(&Method::PUT).await.unwrap();
    assert!(limiter.acquire(&Method::DELETE).await.is_err());
    assert!(limiter.acquire(&Method::GET).await.is_err());
    drop((read, write));
}

#[tokio::test(start_paused = true)]
async fn permits_are_reserved_until_recorded_or_dropped() {
    let clock = clock_at("2026-03-10T12:10:00Z");
    let limiter = RaiseOnLimit::new().with_clock(clock);
    seed(
        &limiter,
        Method::POST,
        &usage_headers((195, 700), (10, 400)),
    )
    .await;
    let mut permits = Vec::new();
    for _ in 0..5 {
        permits.push(limiter.acquire(&Method::POST).await.unwrap());
    }
    assert!(
        limiter.acquire(&Method::POST).await.is_err(),
        "5 in flight use the rest"
    );
    // A request that failed without a response gives its slot back.
    drop(permits.pop());
    let again = limiter.acquire(&Method::POST).await.unwrap();
    // Strava has counted two of ours so far: 197 + 4 other in flight = 201 > 200.
    limiter.record(again, StatusCode::OK, &usage_headers((197, 702), (10, 400)));
    assert!(limiter.acquire(&Method::POST).await.is_err());
    assert_eq!(
        limiter.status().unwrap().overall_short().unwrap().usage,
        197
    );
    // Strava has counted them all: 200, none in flight.
    for permit in permits {
        limiter.record(
            permit,
            StatusCode::OK,
            &usage_headers((200, 705), (10, 400)),
        );
    }
    let refused = limiter.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(refused.retry_at, utc("2026-03-10T12:15:00Z"));
}

#[tokio::test(start_paused = true)]
async fn responses_without_headers_count_locally() {
    let clock = clock_at("2026-03-10T12:10:00Z");
    let limiter = RaiseOnLimit::new().with_clock(clock);
    seed(&limiter, Method::GET, &usage_headers((150, 700), (97, 400))).await;
    for _ in 0..3 {
        let permit = limiter.acquire(&Method::GET).await.unwrap();
        limiter.record(permit, StatusCode::BAD_GATEWAY, &HeaderMap::new());
    }
    let status = limiter.status().unwrap();
    assert_eq!(status.read_short().unwrap().usage, 100);
    assert_eq!(status.overall_short().unwrap().usage, 153);
    assert_eq!(status.overall_daily().unwrap().usage, 703);
    assert!(limiter.acquire(&Method::GET).await.is_err());
    assert!(limiter.acquire(&Method::POST).await.is_ok());
}

// ---------------------------------------------------------------------------------------
// What the headers teach the limiter
// ---------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn strava_counts_replace_the_known_usage() {
    let clock = clock_at("2026-03-10T12:14:00Z");
    let limiter = NoLimit::new().with_clock(clock);
    assert_eq!(limiter.status(), None);
    seed(&limiter, Method::GET, &usage_headers((40, 700), (10, 400))).await;
    // Another process spent 100 requests meanwhile: Strava's count wins.
    seed(&limiter, Method::GET, &usage_headers((141, 801), (11, 401))).await;
    assert_eq!(
        limiter.status().unwrap().overall_short().unwrap().usage,
        141
    );
    // Answers arriving out of order: a window's count never goes down.
    let a = limiter.acquire(&Method::GET).await.unwrap();
    let b = limiter.acquire(&Method::GET).await.unwrap();
    limiter.record(b, StatusCode::OK, &usage_headers((143, 803), (13, 403)));
    limiter.record(a, StatusCode::OK, &usage_headers((142, 802), (12, 402)));
    let status = limiter.status().unwrap();
    assert_eq!(status.overall_short().unwrap().usage, 143);
    assert_eq!(status.read_daily().unwrap().usage, 403);
    // In the next window the new count replaces the old one.
    tokio::time::advance(secs(120)).await;
    seed(&limiter, Method::GET, &usage_headers((3, 806), (1, 404))).await;
    let status = limiter.status().unwrap();
    assert_eq!(
        status.overall_short(),
        Some(WindowUsage {
            usage: 3,
            limit: 200,
            resets_at: utc("2026-03-10T12:30:00Z")
        })
    );
    assert_eq!(status.observed_at(), utc("2026-03-10T12:16:00Z"));
}

#[tokio::test(start_paused = true)]
async fn an_answer_arriving_after_the_reset_counts_in_the_window_it_was_sent_in() {
    let clock = clock_at("2026-03-10T12:14:59.900Z");
    let limiter = RaiseOnLimit::new().with_clock(clock);
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    tokio::time::advance(millis(300)).await;
    // Sent at 12:14:59.9 and answered at 12:15:00.2 with the old window's count.
    limiter.record(
        permit,
        StatusCode::OK,
        &usage_headers((200, 900), (100, 400)),
    );
    let status = limiter.status().unwrap();
    assert_eq!(
        status.overall_short().unwrap().resets_at,
        utc("2026-03-10T12:15:00Z")
    );
    // The new window is not blocked until 12:30.
    assert!(limiter.acquire(&Method::GET).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn no_limit_never_waits_but_still_reports_usage() {
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = NoLimit::new().with_clock(clock);
    seed(
        &limiter,
        Method::GET,
        &usage_headers((200, 2000), (100, 1000)),
    )
    .await;
    let start = tokio::time::Instant::now();
    for _ in 0..20 {
        let permit = limiter.acquire(&Method::GET).await.expect("never refused");
        limiter.record(
            permit,
            StatusCode::TOO_MANY_REQUESTS,
            &usage_headers((200, 2000), (100, 1000)),
        );
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(
        limiter.on_rate_limited(&usage_headers((200, 2000), (100, 1000))),
        None
    );
    assert!(
        limiter
            .status()
            .unwrap()
            .overall_short()
            .unwrap()
            .is_exhausted()
    );
}

// ---------------------------------------------------------------------------------------
// 429
// ---------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_429_with_the_sleep_policy_waits_for_the_reset_and_retries_once() {
    let server = MockServer::start_async().await;
    let too_many = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::GET).path("/api/v3/athlete");
            then.status(429)
                .header("X-RateLimit-Limit", "200,2000")
                .header("X-RateLimit-Usage", "200,700")
                .header("X-ReadRateLimit-Limit", "100,1000")
                .header("X-ReadRateLimit-Usage", "90,400")
                .body(r#"{"message":"Rate Limit Exceeded","errors":[]}"#);
        })
        .await;
    let url = server.url("/api/v3/athlete");
    let http = http_client();
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter: Arc<dyn RateLimiter> =
        RateLimitPolicy::Sleep(Priority::High).into_limiter_with_clock(Arc::new(clock));

    // What the request pipeline does: acquire, send, record, and after a 429 wait as told
    // and retry once.
    let mut ok_mock = None;
    let mut sent_at = Vec::new();
    let mut retried = false;
    let response = loop {
        let permit = limiter.acquire(&Method::GET).await.unwrap();
        sent_at.push(permit.granted_at());
        let response = http.get(&url).send().await.unwrap();
        let status = response.status();
        limiter.record(permit, status, response.headers());
        if status == StatusCode::TOO_MANY_REQUESTS && !retried {
            retried = true;
            let wait = limiter
                .on_rate_limited(response.headers())
                .expect("sleep retries");
            assert_eq!(
                wait,
                (utc("2026-03-10T12:15:00Z") - clock.now())
                    .to_std()
                    .unwrap()
            );
            assert!(wait > Duration::ZERO && wait <= secs(10));
            assert_eq!(
                limiter.status().unwrap().overall_short().unwrap().usage,
                200
            );
            // The window resets; Strava answers again.
            assert_eq!(too_many.calls_async().await, 1);
            too_many.delete_async().await;
            ok_mock = Some(
                server
                    .mock_async(|when, then| {
                        when.method(httpmock::Method::GET).path("/api/v3/athlete");
                        then.status(200)
                            .header("X-RateLimit-Limit", "200,2000")
                            .header("X-RateLimit-Usage", "1,701")
                            .header("X-ReadRateLimit-Limit", "100,1000")
                            .header("X-ReadRateLimit-Usage", "1,401")
                            .body(r#"{"id":1}"#);
                    })
                    .await,
            );
            tokio::time::sleep(wait).await;
            continue;
        }
        break response;
    };
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(ok_mock.unwrap().calls_async().await, 1);
    assert_eq!(sent_at.len(), 2);
    assert!(sent_at[0] < utc("2026-03-10T12:15:00Z"));
    assert_about_utc(sent_at[1], utc("2026-03-10T12:15:00Z"));
    let status = limiter.status().unwrap();
    assert_eq!(
        status.overall_short(),
        Some(WindowUsage {
            usage: 1,
            limit: 200,
            resets_at: utc("2026-03-10T12:30:00Z")
        })
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_is_the_rate_limited_error_with_raise_on_limit() {
    let clock = clock_at("2026-03-10T23:59:30Z");
    let limiter = RaiseOnLimit::new().with_clock(clock);
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    let headers = usage_headers((150, 2000), (90, 950));
    limiter.record(permit, StatusCode::TOO_MANY_REQUESTS, &headers);
    assert_eq!(limiter.on_rate_limited(&headers), None, "no retry");
    let refused = limiter.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(refused.retry_at, utc("2026-03-11T00:00:00Z"));
}

#[tokio::test(start_paused = true)]
async fn a_429_without_headers_holds_everything_until_the_next_quarter_hour() {
    let clock = clock_at("2026-03-10T12:14:50Z");
    let raise = RaiseOnLimit::new().with_clock(clock);
    let sleep = SleepPolicy::new(Priority::High).with_clock(clock);
    for limiter in [&raise as &dyn RateLimiter, &sleep] {
        seed(limiter, Method::GET, &usage_headers((20, 700), (10, 400))).await;
        let permit = limiter.acquire(&Method::GET).await.unwrap();
        limiter.record(permit, StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new());
    }
    assert_eq!(sleep.on_rate_limited(&HeaderMap::new()), Some(secs(10)));
    let refused = raise.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(refused.retry_at, utc("2026-03-10T12:15:00Z"));
    let start = tokio::time::Instant::now();
    let permit = sleep.acquire(&Method::POST).await.unwrap();
    assert_about(start.elapsed(), secs(10));
    drop(permit);
    assert!(raise.acquire(&Method::POST).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_429_answered_after_the_reset_retries_at_once() {
    let clock = clock_at("2026-03-10T12:14:59.500Z");
    let limiter = SleepPolicy::new(Priority::High).with_clock(clock);
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    tokio::time::advance(secs(1)).await;
    let headers = usage_headers((200, 700), (90, 400));
    limiter.record(permit, StatusCode::TOO_MANY_REQUESTS, &headers);
    assert_eq!(limiter.on_rate_limited(&headers), Some(Duration::ZERO));
    // Without `record` first, the headers alone decide.
    let fresh = SleepPolicy::new(Priority::High).with_clock(clock_at("2026-03-10T12:14:50Z"));
    assert_eq!(fresh.on_rate_limited(&headers), Some(secs(10)));
    assert_eq!(fresh.on_rate_limited(&HeaderMap::new()), Some(secs(10)));
}

// ---------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------

/// 50 tasks race for the last 10 reads of the window; each marks its request with whether
/// the limiter let it go before the 12:15:00 reset, and the server counts both kinds.
async fn fifty_tasks(limiter: Arc<dyn RateLimiter>, clock: TokioClock) -> (usize, usize, usize) {
    let server = MockServer::start_async().await;
    let seed_mock = server
        .mock_async(|when, then| {
            when.path("/seed");
            then.status(200)
                .header("X-RateLimit-Limit", "200,2000")
                .header("X-RateLimit-Usage", "50,500")
                .header("X-ReadRateLimit-Limit", "100,1000")
                .header("X-ReadRateLimit-Usage", "90,400");
        })
        .await;
    // No rate-limit headers here: the limiter must count the answers itself.
    let before = server
        .mock_async(|when, then| {
            when.path("/data").header("x-phase", "before-reset");
            then.status(200).body("{}");
        })
        .await;
    let after = server
        .mock_async(|when, then| {
            when.path("/data").header("x-phase", "after-reset");
            then.status(200).body("{}");
        })
        .await;
    let http = http_client();

    // Strava says: 90 of 100 reads used in this window, so 10 left.
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    let response = http.get(server.url("/seed")).send().await.unwrap();
    limiter.record(permit, response.status(), response.headers());
    assert_eq!(seed_mock.calls_async().await, 1);
    assert!(clock.now() < utc("2026-03-10T12:15:00Z"));

    let refused = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let limiter = limiter.clone();
        let http = http.clone();
        let url = server.url("/data");
        let refused = refused.clone();
        tasks.push(tokio::spawn(async move {
            let permit = match limiter.acquire(&Method::GET).await {
                Ok(permit) => permit,
                Err(limited) => {
                    assert_eq!(limited.retry_at, utc("2026-03-10T12:15:00Z"));
                    refused.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            };
            let phase = if permit.granted_at() < utc("2026-03-10T12:15:00Z") {
                "before-reset"
            } else {
                "after-reset"
            };
            let response = http.get(url).header("x-phase", phase).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            limiter.record(permit, response.status(), response.headers());
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    (
        before.calls_async().await,
        after.calls_async().await,
        refused.load(Ordering::SeqCst),
    )
}

#[tokio::test(start_paused = true)]
async fn fifty_tasks_with_ten_requests_left_send_ten_then_wait_for_the_reset() {
    let clock = clock_at("2026-03-10T12:14:00Z");
    let limiter = Arc::new(SleepPolicy::new(Priority::High).with_clock(clock));
    let (before, after, refused) = fifty_tasks(limiter.clone(), clock).await;
    assert_eq!(before, 10, "exactly 10 requests before the window resets");
    assert_eq!(after, 40, "the rest after the reset");
    assert_eq!(refused, 0);
    assert!(clock.now() >= utc("2026-03-10T12:15:00Z"));
}

#[tokio::test(start_paused = true)]
async fn fifty_tasks_with_ten_requests_left_and_raise_on_limit() {
    let clock = clock_at("2026-03-10T12:14:00Z");
    let limiter = Arc::new(RaiseOnLimit::new().with_clock(clock));
    let (before, after, refused) = fifty_tasks(limiter.clone(), clock).await;
    assert_eq!(before, 10);
    assert_eq!(after, 0);
    assert_eq!(refused, 40);
    // All 10 answers came without headers: counted locally, the window is full.
    assert_eq!(limiter.status().unwrap().read_short().unwrap().usage, 100);
}

#[tokio::test(start_paused = true)]
async fn a_released_reservation_wakes_a_waiting_task() {
    let clock = clock_at("2026-03-10T12:14:50Z");
    let limiter = Arc::new(SleepPolicy::new(Priority::High).with_clock(clock));
    seed(
        &*limiter,
        Method::POST,
        &usage_headers((199, 700), (10, 400)),
    )
    .await;
    let last = limiter.acquire(&Method::POST).await.unwrap();
    let waiter = tokio::spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire(&Method::POST).await.unwrap().granted_at() }
    });
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert!(
        !waiter.is_finished(),
        "the window is full while a request is in flight"
    );
    // The request in flight failed without an answer: its slot is free again, at once.
    drop(last);
    assert_eq!(waiter.await.unwrap(), utc("2026-03-10T12:14:50Z"));
}

// ---------------------------------------------------------------------------------------
// Policies and custom limiters
// ---------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn policies_build_their_limiters() {
    assert!(matches!(
        RateLimitPolicy::default(),
        RateLimitPolicy::Sleep(Priority::High)
    ));
    assert_eq!(Priority::default(), Priority::High);
    let clock: Arc<dyn Clock> = Arc::new(clock_at("2026-03-10T12:14:50Z"));
    let full = usage_headers((200, 700), (90, 400));
    let cases = [
        (RateLimitPolicy::RaiseOnLimit, "RaiseOnLimit"),
        (RateLimitPolicy::Sleep(Priority::Low), "SleepPolicy"),
        (Priority::Medium.into(), "SleepPolicy"),
        (RateLimitPolicy::None, "NoLimit"),
    ];
    for (policy, name) in cases {
        let limiter = policy.into_limiter_with_clock(clock.clone());
        assert!(format!("{limiter:?}").starts_with(name), "{limiter:?}");
        seed(&*limiter, Method::GET, &full).await;
    }
    let raise = RateLimitPolicy::RaiseOnLimit.into_limiter_with_clock(clock.clone());
    seed(&*raise, Method::GET, &full).await;
    assert!(raise.acquire(&Method::GET).await.is_err());
    let none = RateLimitPolicy::None.into_limiter();
    seed(&*none, Method::GET, &full).await;
    assert!(none.acquire(&Method::GET).await.is_ok());

    let custom: Arc<dyn RateLimiter> = Arc::new(NoLimit::new());
    let built = RateLimitPolicy::from(custom.clone()).into_limiter();
    assert!(Arc::ptr_eq(&built, &custom));
}

/// A user's limiter: a fixed budget of requests in flight.
#[derive(Debug)]
struct InFlightCap {
    free: Arc<AtomicUsize>,
}

impl RateLimiter for InFlightCap {
    fn acquire<'a>(&'a self, method: &'a Method) -> BoxFuture<'a, Result<Permit, RateLimited>> {
        Box::pin(async move {
            let taken = self
                .free
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if taken.is_err() {
                return Err(RateLimited {
                    retry_at: Utc::now(),
                    status: None,
                });
            }
            let free = self.free.clone();
            Ok(Permit::with_release(method, Utc::now(), move || {
                free.fetch_add(1, Ordering::SeqCst);
            }))
        })
    }

    fn record(&self, permit: Permit, _status: StatusCode, _headers: &HeaderMap) {
        permit.release();
    }

    fn on_rate_limited(&self, _headers: &HeaderMap) -> Option<Duration> {
        None
    }

    fn status(&self) -> Option<RateLimitStatus> {
        None
    }
}

#[tokio::test]
async fn users_can_implement_the_trait() {
    let free = Arc::new(AtomicUsize::new(2));
    let limiter: Arc<dyn RateLimiter> = Arc::new(InFlightCap { free: free.clone() });
    let policy = RateLimitPolicy::Custom(limiter.clone());
    let limiter = policy.into_limiter();
    let a = limiter.acquire(&Method::GET).await.unwrap();
    assert!(a.is_read());
    let b = limiter.acquire(&Method::POST).await.unwrap();
    assert!(!b.is_read());
    assert!(limiter.acquire(&Method::GET).await.is_err());
    limiter.record(a, StatusCode::OK, &HeaderMap::new());
    assert_eq!(free.load(Ordering::SeqCst), 1);
    drop(b);
    assert_eq!(free.load(Ordering::SeqCst), 2);
    // A permit from one limiter given to another is released by its own.
    let foreign = limiter.acquire(&Method::GET).await.unwrap();
    let ours = NoLimit::new();
    ours.record(foreign, StatusCode::OK, &usage_headers((1, 1), (1, 1)));
    assert_eq!(free.load(Ordering::SeqCst), 2);
    assert!(ours.status().is_some());
    let unreserved = Permit::unreserved(&Method::GET, Utc::now());
    assert!(format!("{unreserved:?}").contains("nothing"));
}

#[test]
fn rate_limited_is_an_error() {
    let err = RateLimited {
        retry_at: utc("2026-03-10T12:15:00Z"),
        status: None,
    };
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err.clone());
    assert!(boxed.to_string().contains("2026-03-10T12:15:00+00:00"));
}
