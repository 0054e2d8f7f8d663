//! One policy layer over any budget: the same `RaiseOnLimit` and `SleepPolicy` code, run
//! on the in-process `LocalBudget` and (with the `redis` feature) on a `RedisBudget`,
//! refuses, waits and reports exactly the same.

mod support;

#[cfg(feature = "redis")]
mod redis_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use stravalib::rate_limit::{
    Budget, Clock, LocalBudget, Priority, RaiseOnLimit, RateLimitPolicy, RateLimited, RateLimiter,
    SleepPolicy, TokioClock,
};
use support::bounded;

/// A clock stopped at one instant, so no window resets during a check.
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

/// Strava's answer: overall and read usage, `(15-minute, daily)`, default limits.
fn answer(overall: &str, read: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-ratelimit-limit", "200,2000".parse().unwrap());
    h.insert("x-ratelimit-usage", overall.parse().unwrap());
    h.insert("x-readratelimit-limit", "100,1000".parse().unwrap());
    h.insert("x-readratelimit-usage", read.parse().unwrap());
    h
}

/// Sends one request through `limiter`, answered with `headers`, then waits until the
/// budget has taken the answer in (a remote budget records off the request's path): until
/// `limiter` refuses a `POST`. Returns the refusal.
async fn spend(limiter: &RaiseOnLimit, headers: &HeaderMap) -> RateLimited {
    let permit = limiter.acquire(&Method::GET).await.unwrap();
    limiter.record(permit, StatusCode::OK, headers);
    bounded("the budget takes the answer in", async {
        loop {
            match limiter.acquire(&Method::POST).await {
                Err(refused) => return refused,
                Ok(permit) => {
                    drop(permit);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
    .await
}

/// The scenario, on three fresh budgets of one kind (`name` for the messages).
async fn same_policies(name: &str, budgets: [Arc<dyn Budget>; 3]) {
    let [spent, waiting, daily] = budgets;

    // 12:05 UTC, the 15-minute window spent: raise refuses with the reset.
    let clock = Stopped(at("2026-03-10T12:05:00Z"));
    let raise = RaiseOnLimit::new()
        .with_clock(clock)
        .with_budget(spent.clone());
    let refused = spend(&raise, &answer("200,300", "40,250")).await;
    assert_eq!(refused.retry_at, at("2026-03-10T12:15:00Z"), "{name}");
    let status = refused.status.expect(name);
    assert_eq!(status.overall_short().unwrap().usage, 200, "{name}");
    assert_eq!(status.overall_short().unwrap().limit, 200, "{name}");
    let refused = raise.acquire(&Method::GET).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-10T12:15:00Z"), "{name}");

    // The sleep policy on the same budget: ten minutes is past a one-minute ceiling...
    let short_ceiling = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_max_wait(Duration::from_secs(60))
        .with_budget(spent.clone());
    let refused = short_ceiling.acquire(&Method::GET).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-10T12:15:00Z"), "{name}");
    // ...and after a 429 the default ceiling waits until the reset; raise never retries.
    let sleep = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_budget(spent.clone());
    let headers = answer("200,300", "40,250");
    assert_eq!(
        sleep.on_rate_limited(&headers),
        Some(Duration::from_secs(600)),
        "{name}"
    );
    assert_eq!(short_ceiling.on_rate_limited(&headers), None, "{name}");
    assert_eq!(raise.on_rate_limited(&headers), None, "{name}");

    // Five seconds before a quarter hour, in real time (room for a loaded machine to
    // spend the window first): the sleep policy waits for the reset and sends.
    let clock = TokioClock::starting_at(at("2026-03-10T12:29:55Z"));
    let raise = RaiseOnLimit::new()
        .with_clock(clock)
        .with_budget(waiting.clone());
    let refused = spend(&raise, &answer("200,300", "40,250")).await;
    assert_eq!(refused.retry_at, at("2026-03-10T12:30:00Z"), "{name}");
    let sleep = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_budget(waiting.clone());
    let permit = bounded("waiting for the reset", sleep.acquire(&Method::GET))
        .await
        .unwrap();
    let granted = permit.granted_at();
    assert!(
        granted >= at("2026-03-10T12:30:00Z") && granted < at("2026-03-10T12:30:03Z"),
        "{name}: granted at {granted}"
    );

    // The day spent: a wait until midnight is past the default ceiling, refused at once.
    let clock = Stopped(at("2026-03-10T12:05:00Z"));
    let raise = RaiseOnLimit::new()
        .with_clock(clock)
        .with_budget(daily.clone());
    let refused = spend(&raise, &answer("20,2000", "10,400")).await;
    assert_eq!(refused.retry_at, at("2026-03-11T00:00:00Z"), "{name}");
    let sleep = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_budget(daily.clone());
    let refused = sleep.acquire(&Method::GET).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-11T00:00:00Z"), "{name}");
    assert_eq!(sleep.on_rate_limited(&HeaderMap::new()), None, "{name}");
}

#[tokio::test]
async fn the_policies_on_the_local_budget() {
    let local = || -> Arc<dyn Budget> { Arc::new(LocalBudget::new()) };
    same_policies("local", [local(), local(), local()]).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn the_same_policies_on_the_redis_budget() {
    use stravalib::rate_limit::RedisBudget;
    let redis = redis_support::RedisServer::start().await;
    let mut budgets = Vec::new();
    for app in ["spent", "waiting", "daily"] {
        let budget: Arc<dyn Budget> = Arc::new(RedisBudget::new(redis.connect().await, app));
        budgets.push(budget);
    }
    same_policies("redis", budgets.try_into().unwrap()).await;
}

#[tokio::test]
async fn policies_sharing_a_local_budget_see_each_others_requests() {
    let budget: Arc<dyn Budget> = Arc::new(LocalBudget::new());
    let clock = Stopped(at("2026-03-10T12:05:00Z"));
    let raise = RaiseOnLimit::new()
        .with_clock(clock)
        .with_budget(budget.clone());
    // 198 of 200 used: two requests left, one taken by each policy.
    let permit = raise.acquire(&Method::GET).await.unwrap();
    raise.record(permit, StatusCode::OK, &answer("198,300", "40,250"));
    // A background job spaces its requests from the last grant of either policy: 10
    // minutes left for 2 requests, 5 minutes apart.
    let background = SleepPolicy::new(Priority::Low)
        .with_clock(clock)
        .with_max_wait(Duration::ZERO)
        .with_budget(budget.clone());
    let refused = background.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-10T12:10:00Z"));
    let interactive = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_max_wait(Duration::ZERO)
        .with_budget(budget.clone());
    let held = interactive.acquire(&Method::POST).await.unwrap();
    let other = raise.acquire(&Method::POST).await.unwrap();
    // Both in flight: the window is full for either.
    let refused = raise.acquire(&Method::POST).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-10T12:15:00Z"));
    // A request that ends without an answer gives its slot back to both.
    drop(held);
    let again = raise.acquire(&Method::POST).await.unwrap();
    drop((other, again));
    assert_eq!(
        interactive.status(),
        raise.status(),
        "one budget, one status"
    );
}

#[tokio::test(start_paused = true)]
async fn a_builder_budget_is_shared_by_its_clients() {
    // Two clients built with one budget: a policy each, the counts in common.
    let budget: Arc<dyn Budget> = Arc::new(LocalBudget::new());
    let clock = TokioClock::starting_at(at("2026-03-10T12:05:00Z"));
    let limiters: Vec<Arc<dyn RateLimiter>> = (0..2)
        .map(|_| {
            RateLimitPolicy::RaiseOnLimit.into_limiter_on(
                budget.clone(),
                Arc::new(clock),
                Duration::ZERO,
            )
        })
        .collect();
    let permit = limiters[0].acquire(&Method::GET).await.unwrap();
    limiters[0].record(permit, StatusCode::OK, &answer("200,300", "40,250"));
    let refused = limiters[1].acquire(&Method::GET).await.unwrap_err();
    assert_eq!(refused.retry_at, at("2026-03-10T12:15:00Z"));
    assert!(
        stravalib::Client::builder()
            .rate_limit_budget(budget)
            .build()
            .is_ok()
    );
}
