//! The sandbox behaves like Strava: paging, cursor paging, OAuth with redirects, token
//! expiry and refresh rotation, scopes, revocation, rate limits and their windows, upload
//! processing, push subscriptions and webhook events, injected faults, scale, and the
//! standalone binary. Everything goes through stravalib's public API (or plain HTTP) the
//! way a user's tests would; every wait is bounded and time jumps use the sandbox clock.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use stravalib::Client;
use stravalib::RetryPolicy;
use stravalib::auth::{ApprovalPrompt, AuthorizationCallback, CsrfState, Scope};
use stravalib::params::StreamKeys;
use stravalib::rate_limit::RateLimitPolicy;
use stravalib::types::{SportType, StreamType, SummaryActivity};
use stravalib_sandbox::{Fault, Sandbox};

/// Upper bound for anything awaited in these tests.
const WAIT: Duration = Duration::from_secs(20);

async fn bounded<F: std::future::IntoFuture>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(WAIT, f.into_future())
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {WAIT:?}"))
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(2))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn activities(client: &Client, q: &[(&str, i64)]) -> Vec<SummaryActivity> {
    let mut call = client.get_logged_in_athlete_activities();
    for (k, v) in q {
        call = match *k {
            "page" => call.page(*v),
            "per_page" => call.per_page(u32::try_from(*v).unwrap()),
            "before" => call.before(*v),
            "after" => call.after(*v),
            other => panic!("{other}"),
        };
    }
    bounded("a page", call.send()).await.unwrap()
}

fn start(a: &SummaryActivity) -> i64 {
    a.start_date.unwrap().timestamp()
}

fn id(a: &SummaryActivity) -> u64 {
    a.id.unwrap().as_u64().unwrap()
}

#[tokio::test]
async fn a_users_test_in_five_lines() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let client = sandbox.client();
    let athlete = client.get_athlete().await?;
    assert!(athlete.id.is_some());
    assert_eq!(athlete.id.unwrap().as_u64(), sandbox.athlete_id(0));
    Ok(())
}

#[tokio::test]
async fn paging_is_strava_paging() {
    let sandbox = Sandbox::builder()
        .athletes(2)
        .activities_per_athlete(450)
        .start()
        .await
        .unwrap();
    let client = sandbox.client();

    let first = activities(&client, &[]).await;
    assert_eq!(first.len(), 30, "per_page defaults to 30");
    assert!(
        first.windows(2).all(|w| start(&w[0]) > start(&w[1])),
        "newest first"
    );

    let clamped = activities(&client, &[("per_page", 500)]).await;
    assert_eq!(clamped.len(), 200, "per_page is capped at 200");

    // Walk every page: two full pages, a short last page, then an empty page.
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    for page in 1..=10 {
        let items = activities(&client, &[("page", page), ("per_page", 200)]).await;
        sizes.push(items.len());
        if items.is_empty() {
            break;
        }
        all.extend(items);
    }
    assert_eq!(sizes, [200, 200, 50, 0]);
    assert_eq!(all.len(), 450, "the full token sees private activities too");
    assert_eq!(all.iter().map(id).collect::<BTreeSet<_>>().len(), 450);
    assert!(all.windows(2).all(|w| start(&w[0]) > start(&w[1])));
    assert_eq!(
        &all[..30].iter().map(id).collect::<Vec<_>>(),
        &first.iter().map(id).collect::<Vec<_>>()
    );

    // before / after (epoch seconds), exclusive.
    let t = start(&all[100]);
    let before = activities(&client, &[("before", t), ("per_page", 200)]).await;
    assert_eq!(id(&before[0]), id(&all[101]));
    assert!(before.iter().all(|a| start(a) < t));
    let after = activities(&client, &[("after", t), ("per_page", 200)]).await;
    assert_eq!(after.len(), 100);
    assert!(after.iter().all(|a| start(a) > t));
    assert!(
        after.windows(2).all(|w| start(&w[0]) < start(&w[1])),
        "with only `after`, Strava lists oldest first"
    );
    let (lo, hi) = (start(&all[300]), start(&all[200]));
    let between = activities(&client, &[("after", lo), ("before", hi), ("per_page", 200)]).await;
    assert_eq!(
        between.iter().map(id).collect::<Vec<_>>(),
        all[201..300].iter().map(id).collect::<Vec<_>>()
    );

    // Without activity:read_all, "Only You" activities are left out.
    let public = sandbox
        .client_builder()
        .tokens(sandbox.issue_tokens(0, &[Scope::Read, Scope::ActivityRead]))
        .build()
        .unwrap();
    let mut visible = 0;
    for page in 1..=5 {
        let items = activities(&public, &[("page", page), ("per_page", 200)]).await;
        assert!(items.iter().all(|a| a.private == Some(false)));
        visible += items.len();
        if items.is_empty() {
            break;
        }
    }
    let private = all.iter().filter(|a| a.private == Some(true)).count();
    assert!(private > 0, "some generated activities are private");
    assert_eq!(visible, 450 - private);
}

#[tokio::test]
async fn comments_page_with_opaque_cursors() {
    let sandbox = Sandbox::builder()
        .activities_per_athlete(400)
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    let list = activities(&client, &[("per_page", 200)]).await;
    let busy = list
        .iter()
        .find(|a| a.comment_count.unwrap_or(0) >= 5)
        .expect("an activity with five comments or more");
    let activity = id(busy);
    let n = busy.comment_count.unwrap() as usize;
    let http = reqwest::Client::new();
    let token = client.tokens().unwrap().access_token;
    let get = |query: String| {
        let url = format!(
            "{}/activities/{activity}/comments?{query}",
            sandbox.api_base()
        );
        let request = http.get(url).bearer_auth(token.expose());
        async move {
            let r = bounded("comments", request.send()).await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (_, everything) = get("page_size=200".into()).await;
    let everything = everything.as_array().unwrap().clone();
    assert_eq!(everything.len(), n);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..=n {
        let query = match &cursor {
            None => "page_size=2".to_owned(),
            Some(c) => format!("page_size=2&after_cursor={c}"),
        };
        let (status, page) = get(query).await;
        assert_eq!(status, 200);
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        cursor = Some(page.last().unwrap()["cursor"].as_str().unwrap().to_owned());
        seen.extend(page);
    }
    assert_eq!(
        seen, everything,
        "the cursor pages cover every comment once, in order"
    );

    // The same through the generated client.
    let typed = bounded(
        "comments",
        client
            .get_comments_by_activity_id(activity)
            .page_size(3)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(typed.len(), 3);

    // Legacy page/per_page paging still works; a forged cursor is refused.
    let (_, second) = get("page=2&per_page=2".into()).await;
    assert_eq!(second.as_array().unwrap()[..], everything[2..4.min(n)]);
    let (status, body) = get("after_cursor=bm90LWEtY3Vyc29y".into()).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn oauth_code_flow_follows_the_redirect() {
    let sandbox = Sandbox::builder().athletes(3).start().await.unwrap();
    let client = Client::builder()
        .base_url(sandbox.api_base())
        .oauth_base(sandbox.oauth_base())
        .build()
        .unwrap();
    let state = CsrfState::generate();
    let url = client
        .authorization_url(
            sandbox.client_id(),
            "http://localhost:8123/authorized",
            ApprovalPrompt::Force,
            &[Scope::Read, Scope::ActivityReadAll, Scope::ProfileReadAll],
            Some(state.as_str()),
        )
        .unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    sandbox.authorize_as(2);
    let answer = bounded("authorize", browser.get(url.clone()).send())
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("http://localhost:8123/authorized?"),
        "{location}"
    );
    let callback = AuthorizationCallback::from_url(&location.parse().unwrap()).unwrap();
    callback.verify_state(&state).unwrap();
    assert_eq!(
        callback.scopes,
        Some(vec![
            Scope::Read,
            Scope::ActivityReadAll,
            Scope::ProfileReadAll
        ])
    );

    let tokens = bounded(
        "exchange",
        client.exchange_code_for_token(
            sandbox.client_id(),
            sandbox.client_secret(),
            callback.code.clone(),
        ),
    )
    .await
    .unwrap();
    let athlete_id = sandbox.athlete_id(2).unwrap();
    assert_eq!(
        tokens.athlete.as_ref().and_then(|a| a.id),
        Some(athlete_id as i64)
    );
    assert!(tokens.expires_at > sandbox.clock().now().timestamp() + 6 * 3600 - 60);
    let me = bounded("athlete", client.get_athlete()).await.unwrap();
    assert_eq!(me.id.unwrap().as_u64(), Some(athlete_id));

    // A code works once.
    let again = bounded(
        "exchange again",
        client.exchange_code_for_token(
            sandbox.client_id(),
            sandbox.client_secret(),
            callback.code.clone(),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(again.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(again.errors()[0].field.as_deref(), Some("code"));

    // Strava-shaped 400s for a foreign redirect or an unknown app.
    let bad = url.as_str().replace("localhost%3A8123", "evil.example");
    let r = bounded("bad redirect", browser.get(bad).send())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "Bad Request", "errors": [{"resource": "Application", "field": "redirect_uri", "code": "invalid"}]})
    );
    let bad = url
        .as_str()
        .replace(&format!("client_id={}", sandbox.client_id()), "client_id=1");
    let r = bounded("bad client", browser.get(bad).send())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let wrong_secret = bounded(
        "wrong secret",
        client.exchange_code_for_token(sandbox.client_id(), "not-the-secret", "whatever-code"),
    )
    .await
    .unwrap_err();
    assert_eq!(wrong_secret.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn tokens_expire_and_refresh_tokens_rotate() {
    // The sandbox clock starts at the present (and stands still): the client's own idea of
    // expiry (system time) agrees with the server's until the clock is advanced.
    let sandbox = Sandbox::builder().frozen_clock(true).start().await.unwrap();
    let t0 = sandbox.issue_tokens(0, Scope::ALL);
    let api = Client::builder()
        .base_url(sandbox.api_base())
        .oauth_base(sandbox.oauth_base())
        .build()
        .unwrap();
    let (id, secret) = (sandbox.client_id(), sandbox.client_secret().to_owned());

    let t1 = bounded(
        "refresh",
        api.refresh_access_token(id, &secret, &t0.refresh_token),
    )
    .await
    .unwrap();
    assert_ne!(t1.refresh_token, t0.refresh_token, "a new refresh token");
    assert_ne!(t1.access_token, t0.access_token);
    let now = sandbox.clock().now().timestamp();
    assert_eq!(
        t1.expires_at,
        now + 6 * 3600,
        "six hours by the sandbox clock"
    );
    // Until the new one is used, the old refresh token still works...
    let t1b = bounded(
        "refresh with the old",
        api.refresh_access_token(id, &secret, &t0.refresh_token),
    )
    .await
    .unwrap();
    // ...and using the newest one retires it.
    let t2 = bounded(
        "refresh with the new",
        api.refresh_access_token(id, &secret, &t1b.refresh_token),
    )
    .await
    .unwrap();
    let old = bounded(
        "old refresh",
        api.refresh_access_token(id, &secret, &t0.refresh_token),
    )
    .await
    .unwrap_err();
    assert!(old.is_token_refresh());
    assert_eq!(old.status().map(|s| s.as_u16()), Some(400));
    let replaced = bounded(
        "replaced refresh",
        api.refresh_access_token(id, &secret, &t1.refresh_token),
    )
    .await
    .unwrap_err();
    assert!(
        replaced.is_token_refresh(),
        "a refresh token replaced before use is void"
    );

    // Access tokens expire by the sandbox clock.
    let http = reqwest::Client::new();
    let status = |token: String| {
        let r = http
            .get(format!("{}/athlete", sandbox.api_base()))
            .bearer_auth(token)
            .send();
        async move { bounded("athlete", r).await.unwrap().status().as_u16() }
    };
    assert_eq!(status(t2.access_token.expose().to_owned()).await, 200);
    sandbox.clock().advance(Duration::from_secs(6 * 3600));
    assert_eq!(status(t2.access_token.expose().to_owned()).await, 401);

    // A client with credentials refreshes after the 401 and carries on.
    let client = sandbox.client_builder().tokens(t2.clone()).build().unwrap();
    let me = bounded("athlete after expiry", client.get_athlete())
        .await
        .unwrap();
    assert!(me.id.is_some());
    let current = client.tokens().unwrap();
    assert_ne!(current.access_token, t2.access_token);
    assert_eq!(status(current.access_token.expose().to_owned()).await, 200);
}

#[tokio::test]
async fn concurrent_calls_after_expiry_keep_a_working_refresh_token() {
    let sandbox = Sandbox::builder().frozen_clock(true).start().await.unwrap();
    let client = sandbox
        .client_builder()
        .retry(fast_retries())
        .build()
        .unwrap();
    let before = client.tokens().unwrap();
    sandbox.clock().advance(Duration::from_secs(7 * 3600));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.get_athlete().await })
        })
        .collect();
    for call in calls {
        bounded("concurrent call", call).await.unwrap().unwrap();
    }
    let after = client.tokens().unwrap();
    assert_ne!(after.refresh_token, before.refresh_token);
    // Whatever happened concurrently, the client holds a refresh token that works.
    let api = Client::builder()
        .oauth_base(sandbox.oauth_base())
        .build()
        .unwrap();
    bounded(
        "refresh with the kept token",
        api.refresh_access_token(
            sandbox.client_id(),
            sandbox.client_secret(),
            &after.refresh_token,
        ),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn scopes_are_enforced_with_stravas_401() {
    let sandbox = Sandbox::start().await.unwrap();
    let limited = sandbox
        .client_builder()
        .tokens(sandbox.issue_tokens(0, &[Scope::Read]))
        .build()
        .unwrap();
    // Without profile:read_all, the athlete comes as a summary.
    let summary = bounded("athlete", limited.get_athlete()).await.unwrap();
    assert!(summary.id.is_some() && summary.firstname.is_some());
    assert_eq!(summary.resource_state, Some(2));
    assert!(summary.bikes.is_none() && summary.weight.is_none());
    let err = bounded(
        "activities",
        limited.get_logged_in_athlete_activities().send(),
    )
    .await
    .unwrap_err();
    assert!(err.is_unauthorized() && err.is_missing_scope(), "{err}");
    assert_eq!(err.missing_scope(), Some("activity:read"));
    assert!(!err.is_token_invalid());
    let err = bounded(
        "weight",
        limited
            .update_logged_in_athlete()
            .body_map(|b| b.weight(60.0))
            .send(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.missing_scope(), Some("profile:write"));
    let err = bounded("zones", limited.get_logged_in_athlete_zones().send())
        .await
        .unwrap_err();
    assert_eq!(err.missing_scope(), Some("profile:read_all"));

    // The token in the query string is refused, even a valid one.
    let token = sandbox.issue_tokens(0, Scope::ALL).access_token;
    let r = bounded(
        "query token",
        reqwest::get(format!(
            "{}/athlete?access_token={}",
            sandbox.api_base(),
            token.expose()
        )),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["field"],
        "access_token"
    );
}

#[tokio::test]
async fn revoking_either_token_ends_the_authorization() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox.client();
    let tokens = client.tokens().unwrap();
    bounded("athlete", client.get_athlete()).await.unwrap();
    bounded("revoke", client.revoke(&tokens.refresh_token, None))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let r = bounded(
        "after revoke",
        http.get(format!("{}/athlete", sandbox.api_base()))
            .bearer_auth(tokens.access_token.expose())
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        401,
        "the access token died with the refresh token"
    );
    let err = bounded(
        "refresh after revoke",
        client.refresh_access_token(
            sandbox.client_id(),
            sandbox.client_secret(),
            &tokens.refresh_token,
        ),
    )
    .await
    .unwrap_err();
    assert!(err.is_token_refresh());
    let athlete = sandbox.athlete_id(0).unwrap();
    assert!(
        sandbox
            .webhook_events()
            .iter()
            .any(|e| e.object_type == "athlete"
                && e.object_id == athlete
                && e.updates.get("authorized") == Some(&json!("false")))
    );

    // Revoke needs the app's HTTP Basic credentials.
    let r = bounded(
        "revoke without credentials",
        http.post(format!("{}/revoke", sandbox.oauth_base()))
            .form(&[("token", "x")])
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);

    // The legacy deauthorize (bearer) does the same and echoes the token.
    let other = sandbox.issue_tokens(1, Scope::ALL);
    let r = bounded(
        "deauthorize",
        http.post(format!("{}/deauthorize", sandbox.oauth_base()))
            .bearer_auth(other.access_token.expose())
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["access_token"],
        other.access_token.expose()
    );
    let r = bounded(
        "after deauthorize",
        http.get(format!("{}/athlete", sandbox.api_base()))
            .bearer_auth(other.access_token.expose())
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn rate_limits_count_reset_and_answer_429() {
    let sandbox = Sandbox::builder()
        .rate_limits(5, 8, 3, 6)
        .token_lifetime(Duration::from_secs(48 * 3600))
        .start_time(at("2031-05-04T12:03:00Z"))
        .frozen_clock(true)
        .start()
        .await
        .unwrap();
    let token = sandbox.issue_tokens(0, Scope::ALL).access_token;
    let http = reqwest::Client::new();
    let send = |method: Method, path: &str| {
        let mut r = http
            .request(method.clone(), format!("{}{path}", sandbox.api_base()))
            .bearer_auth(token.expose());
        if method == Method::PUT {
            r = r.form(&[("weight", "61.5")]);
        }
        async move {
            let r = bounded("request", r.send()).await.unwrap();
            let h = |n: &str| r.headers()[n].to_str().unwrap().to_owned();
            let headers = [
                h("x-ratelimit-limit"),
                h("x-ratelimit-usage"),
                h("x-readratelimit-limit"),
                h("x-readratelimit-usage"),
            ];
            (
                r.status().as_u16(),
                headers,
                r.json::<Value>().await.unwrap(),
            )
        }
    };
    for n in 1..=3 {
        let (status, headers, _) = send(Method::GET, "/athlete").await;
        assert_eq!(status, 200);
        assert_eq!(
            headers,
            [
                "5,8".into(),
                format!("{n},{n}"),
                "3,6".into(),
                format!("{n},{n}")
            ]
        );
    }
    let (status, headers, body) = send(Method::GET, "/athlete").await;
    assert_eq!(status, 429);
    assert_eq!(headers[3], "3,3");
    assert_eq!(
        body,
        json!({"message": "Rate Limit Exceeded", "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}]})
    );
    // Writes only count against the overall limit, which has room.
    let (status, headers, _) = send(Method::PUT, "/athlete").await;
    assert_eq!(status, 200);
    assert_eq!(headers[1], "4,4");

    // The client sees Strava's 429 as a rate-limited error with the usage. (Its limiter
    // reads the sandbox clock, like the server.)
    let client = sandbox
        .client_builder()
        .rate_limit(sandbox.rate_limit_policy(RateLimitPolicy::None))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = bounded("limited", client.get_athlete()).await.unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    assert_eq!(err.rate_limit().unwrap().read_short().unwrap().usage, 3);
    // A client that respects the limits refuses locally until the window resets.
    let careful = sandbox
        .client_builder()
        .rate_limit(sandbox.rate_limit_policy(RateLimitPolicy::RaiseOnLimit))
        .build()
        .unwrap();
    let _ = bounded("learn the usage", careful.get_athlete()).await;
    let refused = bounded("refused", careful.get_athlete()).await.unwrap_err();
    assert!(refused.is_rate_limited() && refused.is_local(), "{refused}");
    assert_eq!(refused.retry_at(), Some(at("2031-05-04T12:15:00Z")));

    // The next quarter hour opens a new 15-minute window; the daily count carries on.
    let next = sandbox.clock().advance_to_next_rate_limit_window();
    assert_eq!(next, at("2031-05-04T12:15:00Z"));
    let (status, headers, _) = send(Method::GET, "/athlete").await;
    assert_eq!(status, 200);
    assert_eq!(headers[1], "1,5");
    let me = bounded("after reset", client.get_athlete()).await.unwrap();
    assert!(me.id.is_some());
    assert_eq!(
        client.rate_limit().unwrap().overall_short().unwrap().usage,
        2
    );
    // The daily limit (8) then stops everything until midnight UTC.
    for _ in 0..2 {
        sandbox.clock().advance_to_next_rate_limit_window();
        assert_eq!(send(Method::PUT, "/athlete").await.0, 200);
    }
    assert_eq!(send(Method::PUT, "/athlete").await.0, 429);
    sandbox.clock().set(at("2031-05-05T00:00:00Z"));
    let (status, headers, _) = send(Method::GET, "/athlete").await;
    assert_eq!(status, 200);
    assert_eq!(headers[1], "1,1");
}

fn gpx(name: &str, start_minute: u32, points: usize) -> String {
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"sandbox-test\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n <trk><name>{name}</name><type>cycling</type><trkseg>\n"
    );
    for i in 0..points {
        let secs = i * 5;
        body.push_str(&format!(
            "  <trkpt lat=\"{:.6}\" lon=\"{:.6}\"><ele>{:.1}</ele><time>2026-03-07T07:{:02}:{:02}Z</time></trkpt>\n",
            52.0 + i as f64 * 0.0003,
            4.3 + i as f64 * 0.0002,
            3.0 + (i as f64 / 3.0).sin() * 4.0,
            start_minute + (secs / 60) as u32,
            secs % 60
        ));
    }
    body.push_str(" </trkseg></trk>\n</gpx>\n");
    body
}

/// A gzip member holding `data` in one stored (uncompressed) DEFLATE block.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let len = data.len() as u16;
    out.push(1);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&[0; 8]);
    out
}

async fn upload(
    client: &Client,
    file_name: &str,
    data_type: &str,
    bytes: Vec<u8>,
    external_id: Option<&str>,
) -> Value {
    let mut form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        )
        .text("data_type", data_type.to_owned());
    if let Some(e) = external_id {
        form = form.text("external_id", e.to_owned());
    }
    bounded(
        "upload",
        client
            .api()
            .request(Method::POST, "/uploads")
            .multipart(form)
            .operation("createUpload")
            .send_json::<Value>(),
    )
    .await
    .unwrap()
}

async fn poll(client: &Client, id: u64) -> Value {
    bounded("poll", client.api().get(&format!("/uploads/{id}"), &()))
        .await
        .unwrap()
}

#[tokio::test]
async fn uploads_process_in_the_background() {
    let sandbox = Sandbox::builder()
        .upload_processing(2, Duration::from_secs(60))
        .frozen_clock(true)
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    let file = gpx("Dune loop", 0, 40);

    let created = upload(&client, "dunes.gpx", "gpx", file.clone().into_bytes(), None).await;
    assert_eq!(created["status"], "Your activity is still being processed.");
    assert!(
        created["error"].is_null()
            && created["activity_id"].is_null()
            && created["external_id"].is_null()
    );
    let id = created["id"].as_u64().unwrap();
    assert_eq!(created["id_str"], id.to_string());
    let first = poll(&client, id).await;
    assert_eq!(first["status"], "Your activity is still being processed.");
    let ready = poll(&client, id).await;
    assert_eq!(ready["status"], "Your activity is ready.");
    assert_eq!(ready["external_id"], "dunes.gpx");
    let activity_id = ready["activity_id"].as_u64().unwrap();

    // The activity is built from the file.
    let activity = bounded("activity", client.get_activity_by_id(activity_id).send())
        .await
        .unwrap();
    assert_eq!(activity.name.as_deref(), Some("Dune loop"));
    assert_eq!(activity.sport_type, Some(SportType::Ride));
    assert_eq!(activity.start_date.unwrap(), at("2026-03-07T07:00:00Z"));
    assert_eq!(activity.elapsed_time, Some(39 * 5));
    assert!(activity.distance.unwrap() > 1_000.0);
    assert_eq!(activity.start_latlng.unwrap().to_vec(), vec![52.0, 4.3]);
    let streams = bounded(
        "streams",
        client
            .get_activity_streams(activity_id)
            .keys(StreamKeys::from([
                StreamType::Latlng,
                StreamType::Altitude,
                StreamType::Time,
            ]))
            .key_by_type(true)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(streams.latlng.unwrap().data.unwrap().len(), 40);
    assert_eq!(streams.time.unwrap().data.unwrap()[39], 195);
    let newest = activities(
        &client,
        &[
            ("per_page", 1),
            ("after", at("2026-03-07T06:59:00Z").timestamp()),
        ],
    )
    .await;
    assert_eq!(id_of(&newest[0]), activity_id);
    assert!(
        sandbox
            .webhook_events()
            .iter()
            .any(|e| e.object_id == activity_id && e.aspect_type == "create")
    );

    // The same file again is a duplicate, reported when processing ends.
    let again = upload(&client, "dunes-copy.gpx", "gpx", file.into_bytes(), None).await;
    let again_id = again["id"].as_u64().unwrap();
    poll(&client, again_id).await;
    let dup = poll(&client, again_id).await;
    assert_eq!(
        dup["status"],
        "There was an error processing your activity."
    );
    assert_eq!(
        dup["error"],
        format!("dunes-copy.gpx duplicate of activity {activity_id}")
    );
    assert!(dup["activity_id"].is_null());

    // So is another file with an external_id already used.
    let a = upload(
        &client,
        "a.gpx",
        "gpx",
        gpx("A", 20, 10).into_bytes(),
        Some("watch-0001"),
    )
    .await;
    poll(&client, a["id"].as_u64().unwrap()).await;
    assert_eq!(
        poll(&client, a["id"].as_u64().unwrap()).await["status"],
        "Your activity is ready."
    );
    let b = upload(
        &client,
        "b.gpx",
        "gpx",
        gpx("B", 40, 10).into_bytes(),
        Some("watch-0001"),
    )
    .await;
    poll(&client, b["id"].as_u64().unwrap()).await;
    let dup = poll(&client, b["id"].as_u64().unwrap()).await;
    assert!(
        dup["error"]
            .as_str()
            .unwrap()
            .contains("duplicate of activity")
    );

    // An unreadable file.
    let bad = upload(&client, "broken.gpx", "gpx", b"<gpx><trk>".to_vec(), None).await;
    poll(&client, bad["id"].as_u64().unwrap()).await;
    let bad = poll(&client, bad["id"].as_u64().unwrap()).await;
    assert_eq!(bad["error"], "Improperly formatted data");
    assert_eq!(
        bad["status"],
        "There was an error processing your activity."
    );

    // Processing also ends by sandbox time, without polling; gzipped files work.
    let gz = upload(
        &client,
        "hills.gpx.gz",
        "gpx.gz",
        gzip_stored(gpx("Hills", 50, 12).as_bytes()),
        None,
    )
    .await;
    sandbox.clock().advance(Duration::from_secs(61));
    let done = poll(&client, gz["id"].as_u64().unwrap()).await;
    assert_eq!(done["status"], "Your activity is ready.", "{done}");

    // A missing or unknown data_type is a 400.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.doc"),
        )
        .text("data_type", "doc");
    let err = bounded(
        "bad data type",
        client
            .api()
            .request(Method::POST, "/uploads")
            .multipart(form)
            .send(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.errors()[0].field.as_deref(), Some("data_type"));
}

fn id_of(a: &SummaryActivity) -> u64 {
    id(a)
}

/// A tiny webhook receiver: answers the challenge and forwards events.
async fn callback_server(
    verify_token: &'static str,
) -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<Value>,
    tokio::task::JoinHandle<()>,
) {
    use axum::extract::Query;
    use axum::http::StatusCode;
    use axum::routing::get;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/webhook",
        get(move |Query(q): Query<HashMap<String, String>>| async move {
            if q.get("hub.mode").map(String::as_str) != Some("subscribe")
                || q.get("hub.verify_token").map(String::as_str) != Some(verify_token)
            {
                return (StatusCode::FORBIDDEN, String::new());
            }
            let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
            (
                StatusCode::OK,
                json!({"hub.challenge": challenge}).to_string(),
            )
        })
        .post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/webhook"), rx, task)
}

#[tokio::test]
async fn push_subscriptions_and_webhook_events() {
    let sandbox = Sandbox::start().await.unwrap();
    let (callback, mut events, server) = callback_server("s3cret-verify").await;
    let http = reqwest::Client::new();
    let subscriptions = format!("{}/push_subscriptions", sandbox.api_base());
    let id = sandbox.client_id().to_string();
    let create = |callback: String, verify: &'static str| {
        http.post(&subscriptions)
            .form(&[
                ("client_id", id.clone()),
                ("client_secret", sandbox.client_secret().to_owned()),
                ("callback_url", callback),
                ("verify_token", verify.to_owned()),
            ])
            .send()
    };

    // A callback that does not echo the challenge is refused.
    let r = bounded("bad callback", create(callback.clone(), "wrong-token"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["field"],
        "callback url"
    );

    let r = bounded("subscribe", create(callback.clone(), "s3cret-verify"))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let subscription: Value = r.json().await.unwrap();
    let sub_id = subscription["id"].as_u64().unwrap();
    assert_eq!(subscription["callback_url"], callback);
    assert_eq!(subscription["application_id"], sandbox.client_id());
    // One subscription per app.
    let r = bounded("second", create(callback.clone(), "s3cret-verify"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["code"],
        "already exists"
    );
    let listed: Value = bounded(
        "list",
        http.get(&subscriptions)
            .query(&[
                ("client_id", id.as_str()),
                ("client_secret", sandbox.client_secret()),
            ])
            .send(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Creating, renaming and deleting an activity POST events to the callback.
    let client = sandbox.client();
    let athlete = sandbox.athlete_id(0).unwrap();
    let created = bounded(
        "create",
        client
            .create_activity()
            .body_map(|b| {
                b.name("Harbour swim")
                    .sport_type(SportType::Swim)
                    .start_date_local("2026-06-01T07:00:00Z".parse::<DateTime<Utc>>().unwrap())
                    .elapsed_time(2400)
                    .distance(Some(1900.0))
            })
            .send(),
    )
    .await
    .unwrap();
    let activity = created.id.unwrap().as_u64().unwrap();
    let event = bounded("create event", events.recv()).await.unwrap();
    assert_eq!(event["object_type"], "activity");
    assert_eq!(event["object_id"], activity);
    assert_eq!(event["aspect_type"], "create");
    assert_eq!(event["owner_id"], athlete);
    assert_eq!(event["subscription_id"], sub_id);
    assert_eq!(event["updates"], json!({}));
    assert!(event["event_time"].as_i64().unwrap() > 1_700_000_000);

    bounded(
        "rename",
        client
            .update_activity_by_id(activity)
            .body_map(|b| b.name(Some("Cold harbour swim".to_owned())))
            .send(),
    )
    .await
    .unwrap();
    let event = bounded("update event", events.recv()).await.unwrap();
    assert_eq!(event["aspect_type"], "update");
    assert_eq!(event["updates"], json!({"title": "Cold harbour swim"}));

    assert!(sandbox.delete_activity(activity));
    let event = bounded("delete event", events.recv()).await.unwrap();
    assert_eq!(event["aspect_type"], "delete");
    let gone = bounded("deleted", client.get_activity_by_id(activity).send())
        .await
        .unwrap_err();
    assert!(gone.is_not_found());

    // An upload that finishes processing "in the background" (by the sandbox clock, with
    // nobody polling) sends its create event too.
    let up = upload(
        &client,
        "ride.gpx",
        "gpx",
        gpx("Polder ride", 10, 30).into_bytes(),
        None,
    )
    .await;
    sandbox.clock().advance(Duration::from_secs(60));
    let event = bounded("upload event", events.recv()).await.unwrap();
    assert_eq!(event["aspect_type"], "create");
    let ready = poll(&client, up["id"].as_u64().unwrap()).await;
    assert_eq!(event["object_id"], ready["activity_id"]);

    // Unsubscribe.
    let r = bounded(
        "delete subscription",
        http.delete(format!("{subscriptions}/{sub_id}"))
            .query(&[
                ("client_id", id.as_str()),
                ("client_secret", sandbox.client_secret()),
            ])
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let listed: Value = bounded(
        "list",
        http.get(&subscriptions)
            .query(&[
                ("client_id", id.as_str()),
                ("client_secret", sandbox.client_secret()),
            ])
            .send(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(listed, json!([]));
    server.abort();
}

#[tokio::test]
async fn faults_on_demand() {
    let sandbox = Sandbox::start().await.unwrap();
    let strict = sandbox
        .client_builder()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    // 503 twice, then the route works again.
    sandbox
        .faults()
        .inject(Fault::status(503).times(2).on("GET", "/athlete"));
    for _ in 0..2 {
        let err = bounded("503", strict.get_athlete()).await.unwrap_err();
        assert!(err.is_server_error() && err.is_retryable(), "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    }
    bounded("recovered", strict.get_athlete()).await.unwrap();
    // A client with retries rides over them.
    sandbox
        .faults()
        .inject(Fault::status(503).times(2).on("GET", "/athlete"));
    let patient = sandbox
        .client_builder()
        .retry(fast_retries())
        .build()
        .unwrap();
    bounded("retried", patient.get_athlete()).await.unwrap();
    assert_eq!(sandbox.faults().fired(), 4);

    // An HTML error page from "the proxy".
    sandbox.faults().inject(Fault::html(502).times(1));
    let r = bounded(
        "html",
        reqwest::get(format!("{}/athlete", sandbox.api_base())),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 502);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("<html>"));
    sandbox
        .faults()
        .inject(Fault::html(502).times(1).on("*", "/athlete"));
    let err = bounded("html through the client", strict.get_athlete())
        .await
        .unwrap_err();
    assert!(err.is_server_error());
    assert!(err.body_excerpt().unwrap_or("").contains("502"), "{err:?}");

    // A truncated body: the real answer cut in half.
    sandbox
        .faults()
        .inject(Fault::truncated().times(1).on("GET", "/athlete"));
    let err = bounded("truncated", strict.get_athlete())
        .await
        .unwrap_err();
    assert!(err.is_decode(), "{err}");

    // Latency against a client timeout.
    sandbox.faults().inject(
        Fault::delay(Duration::from_millis(800))
            .times(1)
            .on("GET", "/athlete/zones"),
    );
    let impatient = sandbox
        .client_builder()
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = bounded("slow", impatient.get_logged_in_athlete_zones().send())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(sandbox.faults().active(), 0);
    sandbox.faults().clear();
    bounded("normal again", strict.get_athlete()).await.unwrap();
}

#[tokio::test]
async fn streams_follow_stravas_rules() {
    let sandbox = Sandbox::builder().seed(5).start().await.unwrap();
    let client = sandbox.client();
    let list = activities(&client, &[("per_page", 50)]).await;
    let outdoor = list
        .iter()
        .find(|a| {
            a.start_latlng.as_ref().is_some_and(|l| !l.is_empty()) && a.has_heartrate == Some(true)
        })
        .expect("an outdoor activity with heart rate");
    let id = id(outdoor);
    let token = client.tokens().unwrap().access_token;
    let get = |query: &str| {
        let url = format!("{}/activities/{id}/streams?{query}", sandbox.api_base());
        let r = reqwest::Client::new()
            .get(url)
            .bearer_auth(token.expose())
            .send();
        async move {
            bounded("streams", r)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    // Without keys: the distance stream only; with keys: those plus distance.
    let only = get("key_by_type=true").await;
    assert_eq!(
        only.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["distance"]
    );
    let some = get("keys=heartrate,latlng&key_by_type=true").await;
    let mut keys: Vec<_> = some.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["distance", "heartrate", "latlng"]);
    let n = some["latlng"]["data"].as_array().unwrap().len();
    assert!(n >= 900, "thousands of points for an hour, {n} here");
    assert_eq!(some["heartrate"]["original_size"], n);
    assert_eq!(some["heartrate"]["series_type"], "distance");
    // Not keyed: a list of typed streams.
    let listed = get("keys=time,altitude").await;
    let types: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["time", "distance", "altitude"]);
    // The summary polyline decodes near the stream's start.
    let first = &some["latlng"]["data"][0];
    let start = outdoor.start_latlng.as_ref().unwrap();
    assert!((first[0].as_f64().unwrap() - start[0]).abs() < 1e-4);
    assert!(
        !outdoor
            .map
            .as_ref()
            .unwrap()
            .summary_polyline
            .as_deref()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn create_and_update_activities() {
    let sandbox = Sandbox::builder()
        .start_time(at("2026-07-10T09:00:00Z"))
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    let http = reqwest::Client::new();
    let token = client.tokens().unwrap().access_token;
    // Missing fields are Strava-shaped 400s.
    let r = bounded(
        "incomplete",
        http.post(format!("{}/activities", sandbox.api_base()))
            .bearer_auth(token.expose())
            .form(&[("name", "No type")])
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "Bad Request", "errors": [{"resource": "Activity", "field": "sport_type", "code": "missing"}]})
    );
    // A manual activity today is the newest, with its local time as given.
    let created: Value = bounded(
        "create",
        http.post(format!("{}/activities", sandbox.api_base()))
            .bearer_auth(token.expose())
            .form(&[
                ("name", "Track session"),
                ("type", "Run"),
                ("start_date_local", "2031-07-10T08:00:00Z"),
                ("elapsed_time", "3000"),
                ("distance", "10000"),
                ("trainer", "1"),
            ])
            .send(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(created["start_date_local"], "2031-07-10T08:00:00Z");
    assert_eq!(created["manual"], true);
    assert_eq!(created["trainer"], true);
    assert_eq!(created["distance"], 10000.0);
    let newest = activities(&client, &[("per_page", 1)]).await;
    assert_eq!(id(&newest[0]), created["id"].as_u64().unwrap());
    // Updates take a JSON body.
    let updated: Value = bounded(
        "update",
        http.put(format!(
            "{}/activities/{}",
            sandbox.api_base(),
            created["id"]
        ))
        .bearer_auth(token.expose())
        .json(&json!({"sport_type": "TrailRun", "description": "On the dirt track"}))
        .send(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(updated["sport_type"], "TrailRun");
    assert_eq!(updated["type"], "Run");
    assert_eq!(updated["description"], "On the dirt track");
    // Someone else's activity cannot be edited.
    let other = sandbox.issue_tokens(1, Scope::ALL);
    let r = bounded(
        "foreign update",
        http.put(format!(
            "{}/activities/{}",
            sandbox.api_base(),
            created["id"]
        ))
        .bearer_auth(other.access_token.expose())
        .json(&json!({"name": "mine now"}))
        .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
}

async fn first_page(s: &Sandbox) -> String {
    let token = s.issue_tokens(0, Scope::ALL).access_token;
    bounded(
        "page",
        reqwest::Client::new()
            .get(format!("{}/athlete/activities?per_page=50", s.api_base()))
            .bearer_auth(token.expose())
            .send(),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap()
}

#[tokio::test]
async fn the_same_seed_gives_the_same_world() {
    let build = || {
        Sandbox::builder()
            .seed(99)
            .start_time(at("2026-02-01T12:00:00Z"))
            .frozen_clock(true)
            .start()
    };
    let (a, b) = (build().await.unwrap(), build().await.unwrap());
    assert_eq!(
        (a.client_id(), a.client_secret()),
        (b.client_id(), b.client_secret())
    );
    assert_eq!(first_page(&a).await, first_page(&b).await);
    let other = Sandbox::builder()
        .seed(100)
        .start_time(at("2026-02-01T12:00:00Z"))
        .start()
        .await
        .unwrap();
    assert_ne!(first_page(&a).await, first_page(&other).await);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn tens_of_thousands_of_activities_start_fast() {
    let started = Instant::now();
    let sandbox = Sandbox::builder()
        .athletes(2)
        .activities_per_athlete(50_000)
        .start()
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "start took {:?}",
        started.elapsed()
    );
    let client = sandbox.client();
    let started = Instant::now();
    let deep = activities(&client, &[("page", 240), ("per_page", 200)]).await;
    assert_eq!(deep.len(), 200);
    let last = activities(&client, &[("page", 251), ("per_page", 200)]).await;
    assert!(last.is_empty());
    let mid = start(&deep[0]);
    let around = activities(&client, &[("before", mid), ("per_page", 5)]).await;
    assert_eq!(id(&around[0]), id(&deep[1]));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "paging took {:?}",
        started.elapsed()
    );
    let stats = bounded(
        "stats",
        client.get_stats(sandbox.athlete_id(0).unwrap()).send(),
    )
    .await
    .unwrap();
    let all = |t: Option<stravalib::types::ActivityTotal>| t.and_then(|t| t.count).unwrap_or(0);
    assert!(
        all(stats.all_run_totals) + all(stats.all_ride_totals) + all(stats.all_swim_totals)
            > 30_000
    );
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sandbox = Sandbox::start().await.unwrap();
    let url = format!("{}/athlete", sandbox.api_base());
    assert_eq!(
        bounded("up", reqwest::get(&url)).await.unwrap().status(),
        401
    );
    sandbox.shutdown().await;
    assert!(bounded("down", reqwest::get(&url)).await.is_err());
}

// ---------------------------------------------------------------------------------------
// The standalone binary
// ---------------------------------------------------------------------------------------

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_answers_curl_with_strava_json() {
    use std::io::BufRead;
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_strava-sandbox"))
            .args(["--seed", "5", "--athletes", "2", "--activities", "40"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    // Read the banner on a thread, bounded by a timeout.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut vars = HashMap::new();
        for line in std::io::BufReader::new(stdout).lines().take(20) {
            let Ok(line) = line else { break };
            if let Some((k, v)) = line.split_once('=')
                && k.starts_with("STRAVA_")
            {
                vars.insert(k.to_owned(), v.to_owned());
            }
            if line.starts_with("STRAVA_REFRESH_TOKEN=") {
                break;
            }
        }
        let _ = tx.send(vars);
    });
    let vars = rx
        .recv_timeout(WAIT)
        .expect("the binary prints its URLs and token");
    let api = &vars["STRAVA_API_BASE"];
    let token = &vars["STRAVA_ACCESS_TOKEN"];
    assert!(api.starts_with("http://127.0.0.1:") && api.ends_with("/api/v3"));
    assert!(vars["STRAVA_CLIENT_ID"].parse::<u64>().is_ok());

    let http = reqwest::Client::new();
    let r = bounded(
        "athlete",
        http.get(format!("{api}/athlete")).bearer_auth(token).send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ratelimit-limit"], "200,2000");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let athlete: Value = r.json().await.unwrap();
    assert!(athlete["id"].as_u64().is_some());
    assert!(athlete["firstname"].as_str().is_some());
    assert_eq!(athlete["resource_state"], 3);
    let activities: Value = bounded(
        "activities",
        http.get(format!("{api}/athlete/activities?per_page=200"))
            .bearer_auth(token)
            .send(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(activities.as_array().unwrap().len(), 40);
    let r = bounded("no token", http.get(format!("{api}/athlete")).send())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "Authorization Error"
    );
    drop(child);
}

#[test]
fn the_binary_rejects_bad_arguments() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strava-sandbox"))
        .args(["--port", "eighty"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--port") && stderr.contains("usage"),
        "{stderr}"
    );
}
