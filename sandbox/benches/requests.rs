//! Requests per second per operation, for the sandbox as users' test suites run it.
//!
//! ```text
//! cargo bench -p stravalib-sandbox --bench requests                 # release (bench profile)
//! cargo bench -p stravalib-sandbox --bench requests --profile dev   # debug, as tests run it
//! ```
//!
//! One current-thread tokio runtime runs the sandbox and a plain reqwest client, so the
//! wall time of a request is the CPU time of the whole exchange on one core (client,
//! loopback TCP, sandbox). Each operation is called until `SANDBOX_BENCH_REQUESTS`
//! requests (default 300) or `SANDBOX_BENCH_SECONDS` seconds (default 3) have passed,
//! whichever comes first, after two warm-up calls; the table gives requests per second and
//! milliseconds per request. `getActivityById (distinct)` fetches a different activity
//! every time (each is rendered for the first time), `getActivityById (same)` the same one
//! again and again. `SANDBOX_BENCH_ONLY=text` runs only the operations whose label
//! contains `text`.

use std::time::{Duration, Instant};

use serde_json::Value;
use stravalib::auth::Scope;
use stravalib_sandbox::Sandbox;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Bench {
    http: reqwest::Client,
    api: String,
    token: String,
    max_requests: usize,
    max_time: Duration,
    /// `SANDBOX_BENCH_ONLY`: only the operations whose label contains it.
    only: Option<String>,
}

impl Bench {
    async fn get(&self, path: &str) -> Vec<u8> {
        let response = self
            .http
            .get(format!("{}{path}", self.api))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the sandbox answers");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.bytes().await.expect("a body").to_vec()
    }

    /// Calls `paths` in turn (cycling) and prints one table row.
    async fn run(&self, label: &str, paths: &[String]) {
        if self
            .only
            .as_ref()
            .is_some_and(|only| !label.contains(only.as_str()))
        {
            return;
        }
        assert!(!paths.is_empty(), "{label}: nothing to request");
        for path in paths.iter().cycle().take(2) {
            self.get(path).await;
        }
        let started = Instant::now();
        let mut done = 0usize;
        let mut bytes = 0usize;
        // Distinct paths start after the warm-up ones, so none is served twice.
        for path in paths.iter().cycle().skip(2) {
            if done >= self.max_requests || started.elapsed() >= self.max_time {
                break;
            }
            bytes += self.get(path).await.len();
            done += 1;
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "| {label} | {done} | {:.1} | {:.2} | {} |",
            done as f64 / elapsed,
            elapsed * 1000.0 / done.max(1) as f64,
            bytes / done.max(1)
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

async fn run() {
    let sandbox = Sandbox::builder()
        .seed(7)
        .athletes(3)
        .activities_per_athlete(3_000)
        .rate_limits(u32::MAX, u32::MAX, u32::MAX, u32::MAX)
        .start()
        .await
        .expect("the sandbox starts");
    let tokens = sandbox.issue_tokens(0, Scope::ALL);
    let bench = Bench {
        http: reqwest::Client::new(),
        api: sandbox.api_base(),
        token: tokens.access_token.expose().to_owned(),
        max_requests: env_number("SANDBOX_BENCH_REQUESTS", 300) as usize,
        max_time: Duration::from_secs(env_number("SANDBOX_BENCH_SECONDS", 3)),
        only: std::env::var("SANDBOX_BENCH_ONLY").ok(),
    };
    let me = sandbox.athlete_id(0).expect("athlete 0");

    // Outdoor activities (with a track) of athlete 0, newest first.
    let mut ids = Vec::new();
    for page in 1..=15 {
        let body = bench
            .get(&format!("/athlete/activities?per_page=200&page={page}"))
            .await;
        let list: Vec<Value> = serde_json::from_slice(&body).expect("a list");
        if list.is_empty() {
            break;
        }
        ids.extend(
            list.iter()
                .filter(|a| a["start_latlng"].as_array().is_some_and(|l| !l.is_empty()))
                .filter_map(|a| a["id"].as_u64()),
        );
    }
    assert!(
        ids.len() > 1_000,
        "too few outdoor activities: {}",
        ids.len()
    );
    let one = |path: &str| vec![path.to_owned()];
    // Each "distinct" operation gets its own activities, none seen before.
    let per_operation = ids.len() / 4;
    let each = |group: usize, suffix: &str| -> Vec<String> {
        ids[group * per_operation..(group + 1) * per_operation]
            .iter()
            .map(|id| format!("/activities/{id}{suffix}"))
            .collect()
    };
    let first = ids[ids.len() - 1];
    let segment = {
        let body = bench.get("/segments/starred").await;
        let list: Vec<Value> = serde_json::from_slice(&body).expect("a list");
        list[0]["id"].as_u64().expect("a starred segment")
    };

    println!(
        "sandbox: {} profile, up to {} requests or {} s per operation",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        bench.max_requests,
        bench.max_time.as_secs()
    );
    println!("| operation | requests | requests/s | ms/request | bytes/response |");
    println!("|---|---:|---:|---:|---:|");
    bench.run("getLoggedInAthlete", &one("/athlete")).await;
    bench
        .run("getLoggedInAthleteZones", &one("/athlete/zones"))
        .await;
    bench
        .run(
            "getLoggedInAthleteActivities (30)",
            &one("/athlete/activities"),
        )
        .await;
    bench
        .run("getStats", &one(&format!("/athletes/{me}/stats")))
        .await;
    bench
        .run(
            "getActivityById (same)",
            &one(&format!("/activities/{first}")),
        )
        .await;
    bench.run("getActivityById (distinct)", &each(0, "")).await;
    bench
        .run("getLapsByActivityId (distinct)", &each(1, "/laps"))
        .await;
    bench
        .run("getZonesByActivityId (distinct)", &each(2, "/zones"))
        .await;
    bench
        .run(
            "getActivityStreams (distinct, all keys)",
            &each(3, "/streams?keys=time,distance,latlng,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving,grade_smooth&key_by_type=true"),
        )
        .await;
    bench
        .run("getSegmentById", &one(&format!("/segments/{segment}")))
        .await;
    sandbox.shutdown().await;
}
