//! The shared rate-limit budget on a real `redis-server` (the `redis` feature): several
//! "processes" (independent connection managers) drawing on one application's budget.
#![cfg(feature = "redis")]

mod support;

mod redis_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use stravalib::rate_limit::{
    Budget, Clock, Priority, RaiseOnLimit, RateLimiter, RedisBudget, SleepPolicy,
};
use support::bounded;

use redis_support::RedisServer;

/// A clock stopped at one instant, so no window resets during a test.
#[derive(Debug, Clone, Copy)]
struct Stopped(DateTime<Utc>);

impl Clock for Stopped {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, v.parse().unwrap());
    }
    h
}

/// The raise policy on `budget`, reading `clock`.
fn raise(budget: RedisBudget, clock: impl Clock + 'static) -> RaiseOnLimit {
    RaiseOnLimit::new()
        .with_clock(clock)
        .with_budget(Arc::new(budget))
}

/// The sleep policy with `priority` on `budget`, reading `clock`.
fn sleep(budget: RedisBudget, clock: impl Clock + 'static, priority: Priority) -> SleepPolicy {
    SleepPolicy::new(priority)
        .with_clock(clock)
        .with_budget(Arc::new(budget))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_never_exceed_the_shared_budget() {
    let redis = RedisServer::start().await;
    let clock = Stopped(at("2026-03-10T12:05:00Z"));
    let a = Arc::new(raise(
        RedisBudget::new(redis.connect().await, "app-1").with_limits((30, 1000), (20, 500)),
        clock,
    ));
    let b = Arc::new(raise(
        RedisBudget::new(redis.connect().await, "app-1").with_limits((30, 1000), (20, 500)),
        clock,
    ));
    // 60 reads and 60 writes racing from both processes: at most 20 reads fit the read
    // window, and the overall one takes 30 requests in all.
    let tasks = (0..120).map(|i| {
        let limiter = if i % 2 == 0 { a.clone() } else { b.clone() };
        let method = if i % 4 < 2 { Method::GET } else { Method::POST };
        tokio::spawn(async move { limiter.acquire(&method).await.map(|p| p.is_read()) })
    });
    let results: Vec<_> = bounded("racing", join_all(tasks))
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let reads = results.iter().filter(|r| matches!(r, Ok(true))).count();
    let writes = results.iter().filter(|r| matches!(r, Ok(false))).count();
    assert!(reads <= 20, "the read window holds 20: {reads}");
    assert_eq!(reads + writes, 30, "the overall window holds 30");
    let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(refused.retry_at, at("2026-03-10T12:15:00Z"));
    // Both processes see the spent budget.
    for limiter in [&a, &b] {
        let status = limiter.status().unwrap();
        assert_eq!(status.overall_short().unwrap().usage, 30);
    }
}

#[tokio::test]
async fn other_applications_and_windows_are_counted_apart() {
    let redis = RedisServer::start().await;
    let one = raise(
        RedisBudget::new(redis.connect().await, "app-1").with_limits((1, 1000), (1, 1000)),
        Stopped(at("2026-03-10T12:14:00Z")),
    );
    let other = raise(
        RedisBudget::new(redis.connect().await, "app-2").with_limits((1, 1000), (1, 1000)),
        Stopped(at("2026-03-10T12:14:00Z")),
    );
    let next_window = raise(
        RedisBudget::new(redis.connect().await, "app-1").with_limits((1, 1000), (1, 1000)),
        Stopped(at("2026-03-10T12:15:00Z")),
    );
    one.acquire(&Method::GET).await.unwrap();
    assert!(one.acquire(&Method::GET).await.is_err());
    other.acquire(&Method::GET).await.unwrap();
    let permit = next_window.acquire(&Method::GET).await.unwrap();
    assert_eq!(permit.granted_at(), at("2026-03-10T12:15:00Z"));
    let status = next_window.status().unwrap();
    assert_eq!(status.overall_short().unwrap().usage, 1);
    assert_eq!(
        status.overall_daily().unwrap().usage,
        2,
        "same day as app-1's first"
    );
}

#[tokio::test]
async fn strava_headers_reconcile_the_counts_the_larger_wins() {
    let redis = RedisServer::start().await;
    let clock = Stopped(at("2026-03-10T12:05:00Z"));
    let a_budget = Arc::new(RedisBudget::new(redis.connect().await, "app"));
    let a = SleepPolicy::default()
        .with_clock(clock)
        .with_budget(a_budget.clone());
    let b = sleep(
        RedisBudget::new(redis.connect().await, "app"),
        clock,
        Priority::High,
    );

    let permit = a.acquire(&Method::GET).await.unwrap();
    // Strava saw other traffic of the application: 57 this quarter hour, 300 today.
    let answer = headers(&[
        ("x-ratelimit-limit", "200,2000"),
        ("x-ratelimit-usage", "57,300"),
        ("x-readratelimit-limit", "100,1000"),
        ("x-readratelimit-usage", "40,250"),
    ]);
    a_budget
        .reconcile(&permit, StatusCode::OK, &answer)
        .await
        .unwrap();
    b.acquire(&Method::GET).await.unwrap();
    let status = b.status().unwrap();
    assert_eq!(status.overall_short().unwrap().usage, 58);
    assert_eq!(status.overall_daily().unwrap().usage, 301);
    assert_eq!(status.read_short().unwrap().usage, 41);
    assert_eq!(status.read_daily().unwrap().usage, 251);

    // A smaller (older) report never lowers the count.
    let stale = headers(&[
        ("x-ratelimit-limit", "200,2000"),
        ("x-ratelimit-usage", "3,3"),
    ]);
    a_budget
        .reconcile(&permit, StatusCode::OK, &stale)
        .await
        .unwrap();
    b.acquire(&Method::POST).await.unwrap();
    assert_eq!(b.status().unwrap().overall_short().unwrap().usage, 59);

    // New limits from the headers become the ones checked against.
    let tighter = headers(&[
        ("x-ratelimit-limit", "59,2000"),
        ("x-ratelimit-usage", "59,302"),
    ]);
    let b_budget = Arc::new(RedisBudget::new(redis.connect().await, "app"));
    let b_raise = RaiseOnLimit::new()
        .with_clock(clock)
        .with_budget(b_budget.clone());
    let p = b_raise.acquire(&Method::POST).await.unwrap();
    b_budget
        .reconcile(&p, StatusCode::OK, &tighter)
        .await
        .unwrap();
    assert_eq!(b_budget.limits()[0], 59);
    let refused = b_raise.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-10T12:15:00Z"));
}

#[tokio::test]
async fn a_429_marks_the_window_spent_for_every_process() {
    let redis = RedisServer::start().await;
    let clock = Stopped(at("2026-03-10T12:05:00Z"));
    let a = raise(RedisBudget::new(redis.connect().await, "app"), clock);
    let b = raise(RedisBudget::new(redis.connect().await, "app"), clock);
    b.acquire(&Method::POST).await.unwrap();
    let permit = a.acquire(&Method::GET).await.unwrap();
    // A 429 whose headers show nothing spent (another application sharing the key, an
    // undocumented limit): through the trait, as the pipeline calls it.
    a.record(permit, StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new());
    let refused = bounded("the other process sees the 429", async {
        loop {
            match b.acquire(&Method::GET).await {
                Err(refused) => return refused,
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await;
    assert_eq!(refused.retry_at, at("2026-03-10T12:15:00Z"));
    assert!(b.acquire(&Method::POST).await.is_err(), "overall spent too");
    // The sleep policy says how long to wait: until the quarter hour.
    let sleeper = sleep(
        RedisBudget::new(redis.connect().await, "app"),
        clock,
        Priority::High,
    );
    assert_eq!(
        sleeper.on_rate_limited(&HeaderMap::new()),
        Some(Duration::from_secs(10 * 60))
    );
    assert_eq!(
        a.on_rate_limited(&HeaderMap::new()),
        None,
        "raise: no retry"
    );
}

#[tokio::test]
async fn the_sleep_policy_waits_for_the_reset_and_refuses_past_its_ceiling() {
    let redis = RedisServer::start().await;
    // 150 ms before the quarter hour, running in real time.
    let start = at("2026-03-10T12:14:59.850Z");
    let clock = stravalib::rate_limit::TokioClock::starting_at(start);
    let budget = sleep(
        RedisBudget::new(redis.connect().await, "app")
            .with_boundary_margin(Duration::ZERO)
            .with_limits((1, 100), (1, 100)),
        clock,
        Priority::High,
    );
    budget.acquire(&Method::GET).await.unwrap();
    let permit = bounded("waiting out the window", budget.acquire(&Method::GET))
        .await
        .unwrap();
    assert!(permit.granted_at() >= at("2026-03-10T12:15:00Z"));

    // Spent for the day: a wait until midnight is past the 15-minute ceiling.
    let daily = sleep(
        RedisBudget::new(redis.connect().await, "daily").with_limits((10, 1), (10, 1)),
        Stopped(start),
        Priority::High,
    );
    daily.acquire(&Method::GET).await.unwrap();
    let refused = daily.acquire(&Method::GET).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-11T00:00:00Z"));
}

#[tokio::test]
async fn a_request_close_to_the_quarter_hour_counts_in_the_next_window_too() {
    let redis = RedisServer::start().await;
    let budget = |app: &'static str, at: &str, margin: Duration| {
        let clock = Stopped(self::at(at));
        let conn = redis.connect();
        async move {
            raise(
                RedisBudget::new(conn.await, app)
                    .with_boundary_margin(margin)
                    .with_limits((1, 100), (1, 100)),
                clock,
            )
        }
    };
    let margin = stravalib::rate_limit::DEFAULT_BOUNDARY_MARGIN;
    // Half a second before the reset: it may reach Strava after it.
    let before = budget("app", "2026-03-10T12:14:59.500Z", margin).await;
    before.acquire(&Method::GET).await.unwrap();
    let after = budget("app", "2026-03-10T12:15:00.100Z", margin).await;
    let refused = after.acquire(&Method::GET).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-10T12:30:00Z"));
    // Further from the reset, or without a margin, it counts in its own window only.
    let early = budget("other", "2026-03-10T12:14:58Z", margin).await;
    early.acquire(&Method::GET).await.unwrap();
    let no_margin = budget("third", "2026-03-10T12:14:59.500Z", Duration::ZERO).await;
    no_margin.acquire(&Method::GET).await.unwrap();
    for app in ["other", "third"] {
        let next = budget(app, "2026-03-10T12:15:00.100Z", margin).await;
        next.acquire(&Method::GET).await.unwrap();
    }
}

#[tokio::test]
async fn a_request_close_to_midnight_counts_in_the_next_day_too() {
    let redis = RedisServer::start().await;
    let budget = |app: &'static str, at: &str| {
        let clock = Stopped(self::at(at));
        let conn = redis.connect();
        // Daily limits of one: the day decides.
        async move {
            raise(
                RedisBudget::new(conn.await, app).with_limits((10, 1), (10, 1)),
                clock,
            )
        }
    };
    // Half a second before midnight UTC: it may reach Strava the next day.
    budget("app", "2026-03-10T23:59:59.500Z")
        .await
        .acquire(&Method::GET)
        .await
        .unwrap();
    let refused = budget("app", "2026-03-11T00:00:00.100Z")
        .await
        .acquire(&Method::GET)
        .await
        .unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-12T00:00:00Z"));
    // A write counts in the next overall day only: the read day stays free.
    let writes = |at: &str| {
        let clock = Stopped(self::at(at));
        let conn = redis.connect();
        async move {
            raise(
                RedisBudget::new(conn.await, "writes").with_limits((10, 10), (10, 1)),
                clock,
            )
        }
    };
    writes("2026-03-10T23:59:59.500Z")
        .await
        .acquire(&Method::POST)
        .await
        .unwrap();
    let next_day = writes("2026-03-11T00:00:00.100Z").await;
    next_day.acquire(&Method::GET).await.unwrap();
    assert_eq!(next_day.status().unwrap().overall_daily().unwrap().usage, 2);
    assert_eq!(next_day.status().unwrap().read_daily().unwrap().usage, 1);
    // Any other quarter hour leaves the day alone.
    budget("noon", "2026-03-10T11:59:59.500Z")
        .await
        .acquire(&Method::GET)
        .await
        .unwrap();
    let refused = budget("noon", "2026-03-10T12:00:00.100Z")
        .await
        .acquire(&Method::GET)
        .await
        .unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-11T00:00:00Z"), "same day");
}

#[tokio::test]
async fn medium_priority_spaces_requests_across_processes() {
    let redis = RedisServer::start().await;
    // 10 s before the reset with 9 of 10 requests left: about a second apart.
    let clock = Stopped(at("2026-03-10T12:14:50Z"));
    let medium = |conn| {
        sleep(
            RedisBudget::new(conn, "app").with_limits((10, 100), (10, 100)),
            clock,
            Priority::Medium,
        )
        .with_max_wait(Duration::from_millis(500))
    };
    let a = medium(redis.connect().await);
    let b = medium(redis.connect().await);
    a.acquire(&Method::GET).await.unwrap();
    // The other process's grant spaces this one: its wait (about 1.1 s) is past the
    // ceiling, so it is refused with the time it may go.
    let refused = b.acquire(&Method::GET).await.unwrap_err();
    let spacing = refused.retry_at - at("2026-03-10T12:14:50Z");
    assert!(
        (1000..=1200).contains(&spacing.num_milliseconds()),
        "spaced by {spacing}"
    );
}

#[tokio::test]
async fn a_client_on_the_sandbox_reconciles_through_the_pipeline() {
    let redis = RedisServer::start().await;
    let sandbox = stravalib_sandbox::Sandbox::builder()
        .seed(3)
        .athletes(1)
        .activities_per_athlete(3)
        .start()
        .await
        .unwrap();
    // Another process of the application, not on the shared budget, spends five requests.
    let outsider = sandbox.client();
    for _ in 0..5 {
        bounded("a request", outsider.get_logged_in_athlete().send())
            .await
            .unwrap();
    }
    let budget = Arc::new(RedisBudget::new(redis.connect().await, "sandbox-app"));
    // The builder's policy (sleep, high priority) and clock (the sandbox's) on the budget.
    let client = sandbox
        .client_builder()
        .rate_limit(stravalib::rate_limit::RateLimitPolicy::default())
        .rate_limit_budget(budget.clone())
        .build()
        .unwrap();
    bounded("a request", client.get_logged_in_athlete().send())
        .await
        .unwrap();
    // Redis counted one request; the answer said six: the spawned reconciliation makes it
    // six for every process.
    let mut conn = redis.connect().await;
    let seen = bounded("the counts reach Redis", async {
        loop {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg("stravalib:budget:sandbox-app:read:15m:*")
                .query_async(&mut conn)
                .await
                .unwrap();
            let mut count = 0;
            for key in &keys {
                let n: u32 = redis::cmd("GET")
                    .arg(key)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                count = count.max(n);
            }
            if count >= 6 {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(seen, 6);
    assert_eq!(budget.status().unwrap().read_short().unwrap().usage, 6);
}
