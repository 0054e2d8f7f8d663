//! The sandbox as a test bed for many workers: server-side figures and a fast clock.

use std::time::Duration;

use stravalib::rate_limit::RateLimitPolicy;
use stravalib_sandbox::{Sandbox, SandboxClock};

#[tokio::test]
async fn stats_count_requests_per_window_429s_and_refreshes() {
    let sandbox = Sandbox::builder()
        .seed(2)
        .athletes(2)
        .activities_per_athlete(5)
        .rate_limits(3, 100, 3, 100)
        .start_time("2026-03-10T12:01:00Z".parse().unwrap())
        .frozen_clock(true)
        .start()
        .await
        .unwrap();
    let client = sandbox
        .client_builder()
        .rate_limit(RateLimitPolicy::None)
        .build()
        .unwrap();
    let mut refused = 0;
    for _ in 0..5 {
        if let Err(err) = client.get_logged_in_athlete().send().await {
            assert!(err.is_rate_limited(), "{err}");
            refused += 1;
        }
    }
    assert_eq!(refused, 2);
    // The next window; the token expired meanwhile: one refresh, then the request.
    sandbox.clock().advance(Duration::from_secs(7 * 3600));
    client.get_logged_in_athlete().send().await.unwrap();

    let stats = sandbox.stats();
    assert_eq!(stats.requests, 4);
    assert_eq!(stats.rate_limited, 2);
    assert_eq!(stats.max_per_window, 3);
    assert_eq!(stats.short_limit, 3);
    let per_window: Vec<u64> = stats.windows.iter().map(|w| w.requests).collect();
    assert_eq!(per_window, [3, 1]);
    assert_eq!(
        stats.windows[0].start,
        "2026-03-10T12:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    let athlete = sandbox.athlete_id(0).unwrap();
    assert_eq!(
        stats.refreshes.into_iter().collect::<Vec<_>>(),
        [(athlete, 1)]
    );

    // The same figures over HTTP, for workers in other processes.
    let json: serde_json::Value = reqwest::get(format!("{}/_sandbox/stats", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["requests"], 4);
    assert_eq!(json["rate_limited"], 2);
    assert_eq!(json["max_per_window"], 3);
    assert_eq!(json["refreshes"][athlete.to_string()], 1);
}

#[tokio::test]
async fn a_sped_up_clock_passes_a_window_in_a_second() {
    let start: chrono::DateTime<chrono::Utc> = "2026-03-10T12:00:00Z".parse().unwrap();
    let clock = SandboxClock::starting_at(start);
    clock.set_speed(900);
    assert_eq!(clock.speed(), 900);
    // Real time (the clock reads std's Instant): 50 ms are 45 sandbox seconds or more.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let elapsed = clock.now() - start;
    assert!(elapsed >= chrono::Duration::seconds(45), "{elapsed}");
    assert!(elapsed < chrono::Duration::hours(1), "{elapsed}");
    // Jumps still work at speed, and freezing stops it.
    clock.freeze();
    let frozen = clock.now();
    clock.advance(Duration::from_secs(60));
    assert_eq!(clock.now() - frozen, chrono::Duration::seconds(60));

    let sandbox = Sandbox::builder().clock_speed(900).start().await.unwrap();
    assert_eq!(sandbox.clock().speed(), 900);
}
