//! The client's own behaviours against the embedded sandbox (besides the httpmock tests):
//! paging, refresh under concurrency, rate limits, upload polling and webhooks, all
//! through the public API as an app uses it.

use std::time::Duration;

use axum::extract::RawQuery;
use axum::http::StatusCode;
use futures::TryStreamExt;
use stravalib::Client;
use stravalib::rate_limit::RateLimitPolicy;
use stravalib::types::SportType;
use stravalib::upload::{DataType, UploadFile};
use stravalib::webhooks::{AspectType, WebhookEvent, verify_subscription_challenge};
use stravalib_sandbox::Sandbox;

/// Every wait in these tests is bounded.
async fn bounded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what} took more than 60 s"))
}

#[tokio::test]
async fn streams_page_through_every_activity_newest_first() {
    let sandbox = Sandbox::builder()
        .seed(7)
        .athletes(1)
        .activities_per_athlete(450)
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    let all: Vec<_> = bounded(
        "paging",
        client.get_activities().into_stream().try_collect(),
    )
    .await
    .unwrap();
    assert_eq!(all.len(), 450, "three pages of 200: 200 + 200 + 50");
    let starts: Vec<_> = all.iter().map(|a| a.start_date.unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let some: Vec<_> = client
        .get_activities()
        .per_page(50)
        .limit(120)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(some.len(), 120);
    assert_eq!(
        some.iter().map(|a| a.id).collect::<Vec<_>>(),
        all[..120].iter().map(|a| a.id).collect::<Vec<_>>()
    );

    let before = all[100].start_date.unwrap();
    let older: Vec<_> = client
        .get_activities()
        .before(before.timestamp())
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        older.len(),
        all.iter()
            .filter(|a| a.start_date.unwrap() < before)
            .count()
    );

    // Cursor paging of comments gives what one big page gives.
    let with_comments = all
        .iter()
        .find(|a| a.comment_count.unwrap_or(0) >= 3)
        .expect("an activity with comments");
    let id = with_comments.id.unwrap();
    let paged: Vec<_> = client
        .get_activity_comments(id)
        .page_size(1)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let single = client
        .get_activity_comments(id)
        .page_size(200)
        .send()
        .await
        .unwrap();
    assert_eq!(
        paged.iter().map(|c| c.id).collect::<Vec<_>>(),
        single.iter().map(|c| c.id).collect::<Vec<_>>()
    );
    assert!(paged.len() >= 3);
}

#[tokio::test]
async fn fifty_concurrent_requests_after_expiry_share_one_refresh() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox.client();
    let first = client.tokens().unwrap();
    // Seven hours later every access token has expired on the sandbox's clock.
    sandbox.clock().advance(Duration::from_secs(7 * 3600));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_athlete().await })
        })
        .collect();
    for task in tasks {
        bounded("a request", task)
            .await
            .unwrap()
            .expect("every request succeeds");
    }
    let now = client.tokens().unwrap();
    assert_ne!(now.refresh_token, first.refresh_token, "rotated once");
    // The client holds a working refresh token; once it is used, the old one is dead.
    client
        .refresh_access_token(
            sandbox.client_id(),
            sandbox.client_secret(),
            now.refresh_token.expose(),
        )
        .await
        .expect("the rotated refresh token works");
    let stale = client
        .refresh_access_token(
            sandbox.client_id(),
            sandbox.client_secret(),
            first.refresh_token.expose(),
        )
        .await
        .expect_err("old refresh token");
    assert!(stale.is_token_refresh(), "{stale:?}");
}

#[tokio::test]
async fn raise_on_limit_refuses_locally_until_the_window_resets() {
    let sandbox = Sandbox::builder()
        .rate_limits(5, 1000, 5, 1000)
        .start()
        .await
        .unwrap();
    let client = sandbox
        .client_builder()
        .rate_limit(sandbox.rate_limit_policy(RateLimitPolicy::RaiseOnLimit))
        .build()
        .unwrap();
    for _ in 0..5 {
        client.get_athlete().await.unwrap();
    }
    let err = client
        .get_athlete()
        .await
        .expect_err("the window is used up");
    assert!(err.is_rate_limited() && err.is_local(), "{err:?}");
    let reset = err.retry_at().unwrap();
    assert!(reset > sandbox.clock().now());
    assert_eq!(reset.timestamp() % 900, 0, "a quarter-hour boundary");
    // Next window: usage starts again.
    sandbox.clock().advance_to_next_rate_limit_window();
    client.get_athlete().await.expect("a new window");
    assert!(client.rate_limit().unwrap().overall_short().unwrap().usage <= 2);
}

#[tokio::test]
async fn a_429_from_the_sandbox_is_a_typed_error_with_the_reset() {
    let sandbox = Sandbox::builder()
        .rate_limits(3, 1000, 3, 1000)
        .start()
        .await
        .unwrap();
    let client = sandbox
        .client_builder()
        .rate_limit(RateLimitPolicy::None)
        .build()
        .unwrap();
    for _ in 0..3 {
        client.get_athlete().await.unwrap();
    }
    let err = client.get_athlete().await.expect_err("429");
    assert!(err.is_rate_limited() && !err.is_local(), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert!(err.rate_limit().is_some());
}

/// Polling sleeps on a paused clock: no real waiting. (No HTTP timeouts or idle pool, whose
/// timers a paused clock would fire early.)
#[tokio::test(start_paused = true)]
async fn an_uploaded_gpx_is_polled_until_its_activity_exists() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let client = sandbox.client_builder().http_client(http).build().unwrap();
    let mut gpx = String::from("<?xml version=\"1.0\"?><gpx version=\"1.1\"><trk><trkseg>");
    for i in 0..60 {
        gpx.push_str(&format!(
            "<trkpt lat=\"{:.5}\" lon=\"4.90000\"><ele>3</ele><time>2026-11-20T08:{:02}:{:02}Z</time></trkpt>",
            52.3 + f64::from(i) * 0.0005,
            i / 6,
            (i % 6) * 10
        ));
    }
    gpx.push_str("</trkseg></trk></gpx>");
    let mut upload = client
        .upload_activity(
            UploadFile::from_bytes("walk.gpx", gpx.clone().into_bytes()),
            DataType::Gpx,
        )
        .name("Canal walk")
        .external_id("walk-1")
        .send()
        .await
        .unwrap();
    assert!(!upload.status().is_finished());
    let activity = bounded(
        "upload processing",
        upload.wait_for_activity(Duration::from_secs(30), Duration::from_secs(1)),
    )
    .await
    .expect("processed");
    assert_eq!(activity.name.as_deref(), Some("Canal walk"));
    assert!(
        activity.distance.unwrap() > 1000.0,
        "about 3.3 km of points"
    );

    // The same file again is Strava's duplicate error, naming the first activity.
    let mut again = client
        .upload_activity(
            UploadFile::from_bytes("walk-again.gpx", gpx.into_bytes()),
            DataType::Gpx,
        )
        .external_id("walk-1")
        .send()
        .await
        .unwrap();
    let err = bounded(
        "duplicate",
        again.wait(Duration::from_secs(30), Duration::from_secs(1)),
    )
    .await
    .expect_err("duplicate");
    assert_eq!(err.existing_activity_id(), activity.id, "{err}");
}

#[tokio::test]
async fn webhook_subscription_and_events_through_the_client() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox.client();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/strava",
        axum::routing::get(|RawQuery(query): RawQuery| async move {
            match verify_subscription_challenge(query.unwrap_or_default().as_str(), "verify-me") {
                Ok(answer) => (StatusCode::OK, answer.to_json()),
                Err(_) => (StatusCode::FORBIDDEN, String::new()),
            }
        })
        .post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(WebhookEvent::from_json(&body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!("http://{}/strava", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let subscription = client
        .create_subscription(&callback, "verify-me")
        .await
        .unwrap();
    assert_eq!(
        client.list_subscriptions().await.unwrap()[0].id,
        subscription.id
    );
    let wrong = client.create_subscription(&callback, "wrong-token").await;
    assert!(
        wrong.is_err(),
        "one subscription per app, and the challenge must match"
    );

    let created = client
        .create_activity()
        .body_map(|b| {
            b.name("Lunch run".to_owned())
                .sport_type(SportType::Run)
                .start_date_local(chrono::Utc::now())
                .elapsed_time(1800)
        })
        .send()
        .await
        .unwrap();
    let event = bounded("the create event", rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.aspect_type, AspectType::Create);
    assert_eq!(Some(event.object_id), created.id);

    client.delete_subscription(subscription.id).await.unwrap();
    assert!(client.list_subscriptions().await.unwrap().is_empty());
    server.abort();
}

/// The client needs nothing but the sandbox's URLs: the five lines from the docs.
#[tokio::test]
async fn a_plain_client_builder_works_against_the_sandbox() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = Client::builder()
        .base_url(sandbox.api_base())
        .access_token(
            sandbox
                .issue_tokens(0, stravalib::auth::Scope::ALL)
                .access_token,
        )
        .build()
        .unwrap();
    let athlete = client.get_athlete().await.unwrap();
    assert_eq!(athlete.id.and_then(|i| i.as_u64()), sandbox.athlete_id(0));
}

/// With the sandbox clock, the client refreshes before a request once the clock passes
/// the token's expiry, instead of waiting for a 401.
#[tokio::test]
async fn the_client_follows_the_sandbox_clock_for_token_expiry() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox.client();
    let before = client.tokens().unwrap();
    client.get_athlete().await.unwrap();
    assert_eq!(
        client.tokens().unwrap().access_token,
        before.access_token,
        "still fresh"
    );
    sandbox.clock().advance(Duration::from_secs(6 * 3600 - 60));
    client.get_athlete().await.unwrap();
    let after = client.tokens().unwrap();
    assert_ne!(
        after.access_token, before.access_token,
        "refreshed within the margin"
    );
    assert!(after.expires_at_time() > sandbox.clock().now());
}
