//! Many workers, many athletes, one application: worker processes sharing a rate-limit
//! budget and the athletes' tokens in Redis, against a sandbox with a tight app limit and
//! a fast clock.
//!
//! ```text
//! cargo run --release --features redis --example fleet -- --workers 8 --athletes 50 --requests 2000
//! cargo run --release --features redis --example fleet -- --kill-mid-refresh
//! ```
//!
//! The example starts a `redis-server` from PATH (or uses `--redis URL`) and a sandbox,
//! stores every athlete's tokens in Redis already expired, and re-executes itself with
//! `--worker` as many times as asked. Each worker fetches athletes' activities (one page,
//! round-robin over the athletes) through an [`App`] sharing a [`RedisBudget`] and a
//! [`RedisTokenStore`]. At the end it prints the server's own figures:
//!
//! ```text
//! fleet: N requests, R rate-limited (429), max M per window (limit L), F refreshes for A athletes, T tokens lost
//! ```
//!
//! R and T must be 0, M at most L, and F equal to A (each token expires once during the
//! run). `--kill-mid-refresh` first kills two workers mid-refresh: one takes the first
//! athlete's refresh lock and dies holding it; the other is killed (SIGKILL) while its
//! token request for the second athlete is at the server, which has already rotated the
//! refresh token and holds its answer back. The fleet then waits for the locks to expire
//! and refreshes with the stored tokens (the refresh token the dead worker used stays
//! valid until its successor is used, as on Strava); F is then A + 1, the killed refresh
//! counted.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use stravalib::auth::{ClientCredentials, KeyedTokenStore, RedisTokenStore, Scope};
use stravalib::rate_limit::{Clock, Priority, RateLimitPolicy, RedisBudget, SleepPolicy};
use stravalib::{App, Client};
use stravalib_sandbox::{Fault, Sandbox};

/// Sandbox seconds per real second: a 15-minute window passes in half a second.
const SPEED: u32 = 1800;
/// The app's limits: overall and read, 15 minutes and day (the workers only read: 40
/// requests per window bind both).
const LIMITS: [u32; 4] = [40, 100_000, 40, 100_000];
/// How long a refresh lock lives (real time) when its holder dies.
const LOCK_TTL: Duration = Duration::from_secs(2);

/// The sandbox clock, as a worker process sees it: `t0` at real time `r0`, running
/// `SPEED` times faster.
#[derive(Debug, Clone, Copy)]
struct FleetClock {
    t0_ms: i64,
    r0_ms: i64,
}

fn real_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Clock for FleetClock {
    fn now(&self) -> DateTime<Utc> {
        let ms = self.t0_ms + (real_ms() - self.r0_ms) * i64::from(SPEED);
        DateTime::from_timestamp_millis(ms).unwrap_or_default()
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    flag(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = if args.iter().any(|a| a == "--worker") {
        worker(&args).await
    } else {
        coordinator(&args).await
    };
    if let Err(message) = outcome {
        eprintln!("fleet: {message}");
        std::process::exit(1);
    }
}

/// A `redis-server` on a free port, killed on drop.
struct OwnRedis(std::process::Child);

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_redis() -> Result<(OwnRedis, String), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let child = std::process::Command::new("redis-server")
        .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start redis-server (is it on PATH?): {e}"))?;
    let redis = OwnRedis(child);
    let url = format!("redis://127.0.0.1:{port}/");
    for _ in 0..100 {
        if let Ok(client) = redis::Client::open(url.as_str())
            && client.get_multiplexed_async_connection().await.is_ok()
        {
            return Ok((redis, url));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("redis-server did not answer within 5 s".into())
}

async fn connect(url: &str) -> Result<redis::aio::ConnectionManager, String> {
    redis::Client::open(url)
        .map_err(|e| e.to_string())?
        .get_connection_manager()
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))
}

async fn coordinator(args: &[String]) -> Result<(), String> {
    let workers: usize = number(args, "--workers", 8);
    let athletes: usize = number(args, "--athletes", 50);
    let requests: usize = number(args, "--requests", 2000);
    let kill = args.iter().any(|a| a == "--kill-mid-refresh");
    let (_own, url) = match flag(args, "--redis") {
        Some(url) => (None, url),
        None => {
            let (own, url) = start_redis().await?;
            (Some(own), url)
        }
    };
    let sandbox = Sandbox::builder()
        .seed(42)
        .athletes(athletes)
        .activities_per_athlete(5)
        .rate_limits(LIMITS[0], LIMITS[1], LIMITS[2], LIMITS[3])
        // Longer than the run: each athlete's token expires once, before the first request.
        .token_lifetime(Duration::from_secs(48 * 3600))
        .clock_speed(SPEED)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    // A fresh budget and store for this run (a given --redis may hold older runs' keys).
    let app_key = format!("fleet-{}", real_ms());
    let store = RedisTokenStore::new(connect(&url).await?, &app_key);
    let mut ids = Vec::with_capacity(athletes);
    for i in 0..athletes {
        let id = sandbox.athlete_id(i).ok_or("no such athlete")?;
        let mut tokens = sandbox.issue_tokens(i, Scope::ALL);
        // Expired by the clients' clocks: the first request of each athlete refreshes.
        tokens.expires_at = sandbox.clock().now().timestamp() - 60;
        store.save(id, &tokens).await.map_err(|e| e.to_string())?;
        ids.push(id);
    }
    // Read the sandbox time first, then the real time: the workers' clocks are never
    // ahead of the sandbox's, so none of them sends "after" a reset the server hasn't seen.
    let t0_ms = sandbox.clock().now().timestamp_millis();
    let r0_ms = real_ms();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let common = |index: usize, share: usize| {
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.arg("--worker")
            .args(["--index", &index.to_string()])
            .args(["--requests", &share.to_string()])
            .args(["--redis", &url])
            .args(["--app", &app_key])
            .args(["--api", &sandbox.api_base()])
            .args(["--oauth", &sandbox.oauth_base()])
            .args(["--client-id", &sandbox.client_id().to_string()])
            .args(["--secret", sandbox.client_secret()])
            .args(["--t0", &t0_ms.to_string()])
            .args(["--r0", &r0_ms.to_string()])
            .args(["--workers", &workers.to_string()])
            .args([
                "--athletes",
                &ids.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
            ])
            .kill_on_drop(true);
        cmd
    };
    if kill {
        let status = common(0, 0)
            .arg("--die-holding-lock")
            .status()
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "fleet: a worker died holding athlete {}'s refresh lock ({status})",
            ids[0]
        );
        // The second athlete's token request reaches the server, which rotates the token
        // and holds the answer back; the worker is killed before the answer arrives.
        let victim = *ids.get(1).ok_or("--kill-mid-refresh needs two athletes")?;
        sandbox.faults().inject(
            Fault::answer_late(Duration::from_secs(60))
                .times(1)
                .on("POST", "/oauth/token"),
        );
        let mut child = common(1, 1).spawn().map_err(|e| e.to_string())?;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !sandbox.stats().refreshes.contains_key(&victim) {
            if std::time::Instant::now() > deadline {
                return Err("the killed worker's token request never reached the server".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().await.map_err(|e| e.to_string())?;
        eprintln!(
            "fleet: a worker was killed (SIGKILL) during athlete {victim}'s token request, after the server rotated the token"
        );
    }
    let started = std::time::Instant::now();
    let mut children = Vec::with_capacity(workers);
    for index in 0..workers {
        let share = requests / workers + usize::from(index < requests % workers);
        children.push(common(index, share).spawn().map_err(|e| e.to_string())?);
    }
    let mut failed = 0;
    for mut child in children {
        let status = tokio::time::timeout(Duration::from_secs(300), child.wait())
            .await
            .map_err(|_| "a worker ran for more than 5 minutes")?
            .map_err(|e| e.to_string())?;
        if !status.success() {
            failed += 1;
        }
    }
    let stats = sandbox.stats();
    // Lost: an athlete whose stored refresh token no longer works.
    let mut lost = 0;
    let oauth = Client::builder()
        .oauth_base(sandbox.oauth_base())
        .build()
        .map_err(|e| e.to_string())?
        .oauth();
    for id in &ids {
        let ok = match store.load(*id).await.map_err(|e| e.to_string())? {
            Some(tokens) => oauth
                .refresh_token_set(&sandbox.credentials(), &tokens)
                .await
                .is_ok(),
            None => false,
        };
        lost += usize::from(!ok);
    }
    eprintln!(
        "fleet: {workers} workers in {:.1} s, {failed} failed",
        started.elapsed().as_secs_f64()
    );
    println!(
        "fleet: {} requests, {} rate-limited (429), max {} per window (limit {}), {} refreshes for {} athletes, {} tokens lost",
        stats.requests,
        stats.rate_limited,
        stats.max_per_window,
        stats.short_limit,
        stats.refreshes.values().sum::<u64>(),
        stats.refreshes.len(),
        lost
    );
    if failed > 0 || lost > 0 || stats.rate_limited > 0 {
        return Err("the fleet lost tokens, got 429s or had failing workers".into());
    }
    Ok(())
}

async fn worker(args: &[String]) -> Result<(), String> {
    let index: usize = number(args, "--index", 0);
    let workers: usize = number(args, "--workers", 1);
    let requests: usize = number(args, "--requests", 0);
    let url = flag(args, "--redis").ok_or("--redis")?;
    let app_key = flag(args, "--app").ok_or("--app")?;
    let ids: Vec<u64> = flag(args, "--athletes")
        .ok_or("--athletes")?
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let clock = FleetClock {
        t0_ms: number(args, "--t0", 0),
        r0_ms: number(args, "--r0", 0),
    };
    let store = RedisTokenStore::new(connect(&url).await?, &app_key)
        .with_lock_times(LOCK_TTL, Duration::from_secs(30));
    if args.iter().any(|a| a == "--die-holding-lock") {
        let lease = store
            .lock_refresh(ids[0])
            .await
            .map_err(|e| e.to_string())?;
        // Dies mid-refresh: the lock is never released.
        if let Some(lease) = lease {
            lease.abandon();
        }
        std::process::exit(3);
    }
    let budget = RedisBudget::new(connect(&url).await?, &app_key)
        // A request on its way across a quarter hour counts in both windows: 100 ms of
        // real latency are three minutes of sandbox time.
        .with_boundary_margin(Duration::from_secs(180))
        .with_limits((LIMITS[0], LIMITS[1]), (LIMITS[2], LIMITS[3]));
    // The usual sleep policy on the shared budget; waits are slept SPEED times shorter.
    let limiter = SleepPolicy::new(Priority::High)
        .with_clock(clock)
        .with_clock_speed(SPEED)
        .with_budget(std::sync::Arc::new(budget));
    let builder = Client::builder()
        .base_url(flag(args, "--api").ok_or("--api")?)
        .oauth_base(flag(args, "--oauth").ok_or("--oauth")?)
        .clock(clock)
        .rate_limit(RateLimitPolicy::Custom(std::sync::Arc::new(limiter)));
    let credentials = ClientCredentials::new(
        number(args, "--client-id", 0),
        flag(args, "--secret").ok_or("--secret")?,
    );
    let app = App::new(credentials, store, builder).map_err(|e| e.to_string())?;
    let clients: Vec<Client> = ids
        .iter()
        .map(|id| app.client_for(*id))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    // A few requests in flight at once per worker, round-robin over the athletes.
    let mut errors = 0;
    let mut sent = 0;
    while sent < requests {
        let batch: Vec<_> = (sent..requests.min(sent + 4))
            .map(|j| {
                let client = &clients[(index + j * workers) % clients.len()];
                client.get_activities().per_page(5).send()
            })
            .collect();
        sent += batch.len();
        for result in futures::future::join_all(batch).await {
            if let Err(err) = result {
                eprintln!("fleet worker {index}: {err}");
                errors += 1;
            }
        }
    }
    if errors > 0 {
        return Err(format!(
            "worker {index}: {errors} of {requests} requests failed"
        ));
    }
    Ok(())
}
