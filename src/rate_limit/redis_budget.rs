//! One rate-limit budget for every process of an application, kept in Redis.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use super::clock::*;
use super::engine::{DEFAULT_MAX_WAIT, Permit};
use super::limiter::RateLimiter;
use super::priority::*;
use super::status::*;

/// Strava's default limits: overall (15 minutes, day), then reads (15 minutes, day).
const DEFAULT_LIMITS: [u32; 4] = [200, 2000, 100, 1000];

/// Keys live this long past their window's reset (by the budget's clock), then Redis
/// drops them. Lifetimes are relative, so a clock that is not the system's works too.
const KEY_GRACE_MS: i64 = 60_000;

/// Requests granted this close to a quarter hour also count in the next 15-minute window
/// (see [`RedisBudget::with_boundary_margin`]).
pub const DEFAULT_BOUNDARY_MARGIN: Duration = Duration::from_secs(1);

/// How often a failing Redis call is tried before the request is refused.
const REDIS_ATTEMPTS: u32 = 3;

/// Reserves one request atomically: checks every window the request counts against, the
/// spacing of the `Medium` and `Low` priorities, and counts the request in all of them.
///
/// KEYS: overall 15-min, overall day, read 15-min, read day, last overall grant, last read
/// grant, next overall 15-min, next read 15-min. ARGV: read (0/1), now (ms), 15-min reset
/// (ms), daily reset (ms), the four limits, priority (0 high, 1 medium, 2 low), grace (ms),
/// boundary margin (ms).
/// Returns `{code, at, c1, c2, c3, c4}`: code 1 granted (counts after it), 0 exhausted until
/// `at`, 2 spaced until `at`.
const ACQUIRE: &str = r"
local read = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local resets = {tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[3]), tonumber(ARGV[4])}
local limits = {tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])}
local priority = tonumber(ARGV[9])
local grace = tonumber(ARGV[10])
local n = 2
if read == 1 then n = 4 end
local counts = {}
for i = 1, 4 do counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
local exhausted = 0
for i = 1, n do
  if counts[i] >= limits[i] and resets[i] > exhausted then exhausted = resets[i] end
end
-- Close to the quarter hour, the request may reach Strava after the reset: it is also
-- counted in the next 15-minute window.
local straddle = (resets[1] - now) <= tonumber(ARGV[11])
local next_reset = resets[1] + 900000
if straddle then
  if tonumber(redis.call('GET', KEYS[7]) or '0') >= limits[1] then exhausted = next_reset end
  if read == 1 and tonumber(redis.call('GET', KEYS[8]) or '0') >= limits[3] then
    exhausted = next_reset
  end
end
if exhausted > 0 then return {0, exhausted, counts[1], counts[2], counts[3], counts[4]} end
if priority > 0 then
  local wait_until = 0
  for k = 0, n / 2 - 1 do
    local last = tonumber(redis.call('GET', KEYS[5 + k]) or '0')
    if last > 0 then
      local short = (resets[1 + 2 * k] - now) / (limits[1 + 2 * k] - counts[1 + 2 * k])
      local spacing = short
      if priority == 2 then
        local daily = (resets[2 + 2 * k] - now) / (limits[2 + 2 * k] - counts[2 + 2 * k])
        if daily > spacing then spacing = daily end
      end
      local at = math.floor(last + spacing)
      if at > wait_until then wait_until = at end
    end
  end
  if wait_until > now then return {2, wait_until, counts[1], counts[2], counts[3], counts[4]} end
end
for i = 1, n do
  counts[i] = redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], resets[i] - now + grace)
end
for k = 0, n / 2 - 1 do
  redis.call('SET', KEYS[5 + k], now, 'PX', 2 * 86400000)
end
if straddle then
  for k = 0, n / 2 - 1 do
    redis.call('INCR', KEYS[7 + k])
    redis.call('PEXPIRE', KEYS[7 + k], next_reset - now + grace)
  end
end
return {1, 0, counts[1], counts[2], counts[3], counts[4]}
";

/// Reconciles the counts with what Strava reported: each key becomes the larger of its
/// value and the reported one. KEYS: the four window keys. ARGV: four values (-1: unknown),
/// then the four lifetimes (ms).
const RECONCILE: &str = r"
for i = 1, 4 do
  local v = tonumber(ARGV[i])
  if v >= 0 then
    local cur = tonumber(redis.call('GET', KEYS[i]) or '0')
    if v > cur then
      redis.call('SET', KEYS[i], v)
      redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[4 + i]))
    end
  end
end
return 1
";

/// What the budget does when a window is exhausted (see the [module docs](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Raise,
    Sleep(Priority),
}

/// A [`RateLimiter`] whose counts live in Redis, so that every process of an application
/// (every worker using the same client id) draws on one budget, as Strava counts it.
///
/// Needs the `redis` cargo feature. Give each process one `RedisBudget` (it is cheap to
/// share: wrap it in an `Arc` and hand it to every client with
/// [`RateLimitPolicy::Custom`](super::RateLimitPolicy::Custom)), built on a
/// [`ConnectionManager`] to the same Redis and with the same `app` key.
///
/// # What it does
///
/// - **Windows** as Strava counts them: 15 minutes aligned to the quarter hour and the day
///   to midnight UTC, overall and read (a `GET` counts against both, other methods against
///   overall only). Each window is a Redis key named after its start, expiring a minute
///   after it resets.
/// - **Before a request**, one Lua script (one round trip) checks every window the request
///   counts against and counts the request in all of them, atomically: however many
///   processes race for the last requests of a window, no more than the limit are granted.
///   A granted request stays counted even if it fails without an answer (Strava may have
///   counted it).
/// - **After an answer** (one more round trip, spawned, off the request's path), the
///   counts of the window the request was sent in become the larger of Redis's count and
///   Strava's `X-RateLimit-Usage` / `X-ReadRateLimit-Usage`; `X-RateLimit-Limit` and
///   `X-ReadRateLimit-Limit` become the limits this process checks against.
/// - **A 429** marks the windows the request counted against as spent, for every process,
///   until they reset.
///
/// # Policies
///
/// The same semantics as the in-process policies, applied to the shared counts (this type
/// implements them itself rather than through the in-process engine): the default
/// [`Priority::High`] sleep waits until an exhausted window resets, up to the ceiling
/// ([`DEFAULT_MAX_WAIT`], see [`with_max_wait`](Self::with_max_wait)), and refuses a
/// longer wait at once; [`Priority::Medium`] and [`Priority::Low`] space requests by *time
/// left / requests left* (Low: the tighter of the 15-minute and daily windows) from the
/// last grant of *any* process; [`raise_on_limit`](Self::raise_on_limit) refuses at once.
///
/// # Redis failures
///
/// If Redis cannot be reached, a request is refused (fail closed, so that workers never
/// overspend together): [`acquire`](RateLimiter::acquire) returns [`RateLimited`] with a
/// `retry_at` one second away, after three attempts. The budget needs no persistence:
/// losing it forgets at most one day's counts, which Strava's headers restore with the
/// next answers.
///
/// # Clocks
///
/// "Now" comes from the budget's [`Clock`] (the system clock by default), not from
/// Redis: keep every host's clock synchronized.
pub struct RedisBudget {
    conn: ConnectionManager,
    prefix: String,
    mode: Mode,
    max_wait: Duration,
    clock: Arc<dyn Clock>,
    /// How many clock seconds pass per real second (waits are divided by it).
    speed: u32,
    /// Requests granted this close to a quarter hour count in the next window too.
    margin: Duration,
    /// Overall 15-minute, overall daily, read 15-minute, read daily.
    limits: Arc<Mutex<[u32; 4]>>,
    /// The latest counts this process saw (for [`RateLimiter::status`]).
    known: Arc<Mutex<Option<RateLimitStatus>>>,
    acquire: Script,
    reconcile: Script,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("prefix", &self.prefix)
            .field("mode", &self.mode)
            .field("max_wait", &self.max_wait)
            .field("limits", &self.limits())
            .finish_non_exhaustive()
    }
}

/// The Redis keys of the windows that contain one instant.
struct WindowKeys {
    keys: [String; 4],
    /// The next 15-minute windows, overall and read.
    next: [String; 2],
    resets: [DateTime<Utc>; 2],
}

impl RedisBudget {
    /// A budget for the application `app` (its keys start with `stravalib:budget:{app}`;
    /// use the client id) on `conn`, with Strava's default limits and the default policy
    /// (sleep, [`Priority::High`], [`DEFAULT_MAX_WAIT`]).
    pub fn new(conn: ConnectionManager, app: impl fmt::Display) -> Self {
        Self {
            conn,
            prefix: format!("stravalib:budget:{app}"),
            mode: Mode::Sleep(Priority::High),
            max_wait: DEFAULT_MAX_WAIT,
            clock: Arc::new(SystemClock),
            speed: 1,
            margin: DEFAULT_BOUNDARY_MARGIN,
            limits: Arc::new(Mutex::new(DEFAULT_LIMITS)),
            known: Arc::new(Mutex::new(None)),
            acquire: Script::new(ACQUIRE),
            reconcile: Script::new(RECONCILE),
        }
    }

    /// Sleeps with `priority` when the budget requires it (the default is
    /// [`Priority::High`]).
    #[must_use]
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.mode = Mode::Sleep(priority);
        self
    }

    /// Refuses at once with [`RateLimited`] when a window is exhausted, like
    /// [`RaiseOnLimit`](super::RaiseOnLimit).
    #[must_use]
    pub fn raise_on_limit(mut self) -> Self {
        self.mode = Mode::Raise;
        self
    }

    /// The longest single wait of the sleep policy; a longer one is refused instead.
    #[must_use]
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Reads "now" from `clock` (for tests; the default is the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// For a clock that runs `factor` times faster than real time (a sped-up sandbox
    /// clock in tests and demos): waits are computed on the clock, then slept `factor`
    /// times shorter. The ceiling stays in clock time. Default 1; `0` is taken as 1.
    #[must_use]
    pub fn with_clock_speed(mut self, factor: u32) -> Self {
        self.speed = factor.max(1);
        self
    }

    /// A request granted less than `margin` before a quarter hour may reach Strava after
    /// the reset, where it counts in the next window: it is counted in both (default
    /// [`DEFAULT_BOUNDARY_MARGIN`], one second). Raise it for slow networks or clocks
    /// that drift; a sped-up clock needs it in clock time (latency times the speed).
    #[must_use]
    pub fn with_boundary_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The limits to check against until Strava's headers say otherwise: overall
    /// (15-minute, daily) and read (15-minute, daily). Defaults: `(200, 2000)`, `(100, 1000)`.
    #[must_use]
    pub fn with_limits(self, overall: (u32, u32), read: (u32, u32)) -> Self {
        *lock(&self.limits) = [overall.0, overall.1, read.0, read.1];
        self
    }

    /// The limits checked against: overall 15-minute, overall daily, read 15-minute, read
    /// daily.
    pub fn limits(&self) -> [u32; 4] {
        *lock(&self.limits)
    }

    fn keys(&self, at: DateTime<Utc>) -> WindowKeys {
        let short = short_window_reset(at);
        let daily = daily_window_reset(at);
        let s = short.timestamp() - SHORT_WINDOW_SECS;
        let d = daily.timestamp() - DAILY_WINDOW_SECS;
        let p = &self.prefix;
        WindowKeys {
            keys: [
                format!("{p}:overall:15m:{s}"),
                format!("{p}:overall:day:{d}"),
                format!("{p}:read:15m:{s}"),
                format!("{p}:read:day:{d}"),
            ],
            next: [
                format!("{p}:overall:15m:{}", s + SHORT_WINDOW_SECS),
                format!("{p}:read:15m:{}", s + SHORT_WINDOW_SECS),
            ],
            resets: [short, daily],
        }
    }

    fn remember(&self, at: DateTime<Utc>, counts: [u32; 4]) {
        let l = self.limits();
        let status = RateLimitStatus::new(
            at,
            (l[0], l[1]),
            (counts[0], counts[1]),
            (l[2], l[3]),
            (counts[2], counts[3]),
        );
        let mut known = lock(&self.known);
        if known.as_ref().is_none_or(|k| k.observed_at <= at) {
            *known = Some(status);
        }
    }

    /// One run of the reservation script.
    async fn try_reserve(&self, read: bool, now: DateTime<Utc>) -> redis::RedisResult<Vec<i64>> {
        let w = self.keys(now);
        let limits = self.limits();
        let priority = match self.mode {
            Mode::Sleep(Priority::Medium) => 1,
            Mode::Sleep(Priority::Low) => 2,
            _ => 0,
        };
        let mut inv = self.acquire.prepare_invoke();
        for k in &w.keys {
            inv.key(k);
        }
        inv.key(format!("{}:last:overall", self.prefix))
            .key(format!("{}:last:read", self.prefix))
            .key(&w.next[0])
            .key(&w.next[1])
            .arg(i64::from(read))
            .arg(now.timestamp_millis())
            .arg(w.resets[0].timestamp_millis())
            .arg(w.resets[1].timestamp_millis())
            .arg(limits[0])
            .arg(limits[1])
            .arg(limits[2])
            .arg(limits[3])
            .arg(priority)
            .arg(KEY_GRACE_MS)
            .arg(u64::try_from(self.margin.as_millis()).unwrap_or(u64::MAX));
        let mut conn = self.conn.clone();
        inv.invoke_async(&mut conn).await
    }

    /// Reserves a slot for a request with `method`, as [`RateLimiter::acquire`] does.
    async fn reserve(&self, method: &Method) -> Result<Permit, RateLimited> {
        let read = is_read(method);
        let mut failures = 0;
        loop {
            let now = self.clock.now();
            let reply = match self.try_reserve(read, now).await {
                Ok(reply) if reply.len() == 6 => reply,
                Ok(reply) => {
                    tracing::warn!(?reply, "unexpected reply from the rate-limit script");
                    return Err(self.unavailable(now));
                }
                Err(err) => {
                    failures += 1;
                    tracing::warn!(error = %err, failures, "rate-limit budget: Redis failed");
                    if failures >= REDIS_ATTEMPTS {
                        return Err(self.unavailable(now));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let counts = [reply[2], reply[3], reply[4], reply[5]].map(|c| c.max(0) as u32);
            self.remember(now, counts);
            let at = DateTime::from_timestamp_millis(reply[1]).unwrap_or(now);
            match reply[0] {
                1 => return Ok(Permit::unreserved(method, now)),
                0 if self.mode == Mode::Raise => {
                    tracing::debug!(retry_at = %at, "shared budget exhausted: refusing");
                    return Err(RateLimited {
                        retry_at: at,
                        status: self.status(),
                    });
                }
                _ => {
                    let wait = until(now, at);
                    if wait > self.max_wait {
                        tracing::debug!(?wait, retry_at = %at, "wait past the ceiling: refusing");
                        return Err(RateLimited {
                            retry_at: at,
                            status: self.status(),
                        });
                    }
                    tracing::debug!(?wait, read, "shared budget: waiting before a request");
                    // Never a busy loop: at least a millisecond between two looks.
                    tokio::time::sleep((wait / self.speed).max(Duration::from_millis(1))).await;
                }
            }
        }
    }

    fn unavailable(&self, now: DateTime<Utc>) -> RateLimited {
        RateLimited {
            retry_at: add(now, Duration::from_secs(1)),
            status: self.status(),
        }
    }

    /// What [`record`](RateLimiter::record) writes to Redis, awaited: the counts of the
    /// windows the request was granted in become the larger of Redis's and Strava's; after
    /// a 429, the windows the request counted against are marked spent. `record` runs this
    /// on a spawned task; call it directly to know when it is done.
    pub async fn reconcile(
        &self,
        permit: &Permit,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> redis::RedisResult<()> {
        let at = permit.granted_at();
        let parsed = RateLimitStatus::from_headers_at(headers, at);
        if let Some(p) = &parsed {
            let mut limits = lock(&self.limits);
            if let Some(o) = p.overall {
                limits[0] = o.short.limit;
                limits[1] = o.daily.limit;
            }
            if let Some(r) = p.read {
                limits[2] = r.short.limit;
                limits[3] = r.daily.limit;
            }
        }
        let limits = self.limits();
        let mut values = [-1i64; 4];
        if let Some(p) = &parsed {
            for (i, w) in [p.overall, p.read].iter().enumerate() {
                if let Some(w) = w {
                    values[2 * i] = i64::from(w.short.usage);
                    values[2 * i + 1] = i64::from(w.daily.usage);
                }
            }
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let explained = parsed
                .as_ref()
                .is_some_and(|p| p.exhausted_until(permit.is_read()).is_some());
            if !explained {
                // A limit the headers do not show: the 15-minute windows are spent.
                let n = if permit.is_read() { 2 } else { 1 };
                for k in 0..n {
                    values[2 * k] = values[2 * k].max(i64::from(limits[2 * k]));
                }
            }
        }
        if values.iter().all(|v| *v < 0) {
            return Ok(());
        }
        let w = self.keys(at);
        let now = self.clock.now().timestamp_millis();
        let expiry = [w.resets[0], w.resets[1], w.resets[0], w.resets[1]]
            .map(|t| (t.timestamp_millis() - now).max(0) + KEY_GRACE_MS);
        let mut inv = self.reconcile.prepare_invoke();
        for k in &w.keys {
            inv.key(k);
        }
        for v in values {
            inv.arg(v);
        }
        for e in expiry {
            inv.arg(e);
        }
        let mut conn = self.conn.clone();
        let _: i64 = inv.invoke_async(&mut conn).await?;
        if let Some(p) = parsed {
            let mut known = lock(&self.known);
            if known.as_ref().is_none_or(|k| k.observed_at <= at) {
                *known = Some(p);
            }
        }
        Ok(())
    }

    /// A handle to the same budget (same connection, prefix, policy, limits, status).
    fn handle(&self) -> Self {
        Self {
            conn: self.conn.clone(),
            prefix: self.prefix.clone(),
            mode: self.mode,
            max_wait: self.max_wait,
            clock: self.clock.clone(),
            speed: self.speed,
            margin: self.margin,
            limits: self.limits.clone(),
            known: self.known.clone(),
            acquire: self.acquire.clone(),
            reconcile: self.reconcile.clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RateLimiter for RedisBudget {
    fn acquire<'a>(&'a self, method: &'a Method) -> BoxFuture<'a, Result<Permit, RateLimited>> {
        Box::pin(self.reserve(method))
    }

    fn record(&self, permit: Permit, status: StatusCode, headers: &HeaderMap) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!("no tokio runtime: the shared budget is not reconciled");
            return;
        };
        let this = self.handle();
        let owned = headers.clone();
        runtime.spawn(async move {
            if let Err(err) = this.reconcile(&permit, status, &owned).await {
                tracing::warn!(error = %err, "rate-limit budget: reconciling failed");
            }
        });
        // The headers also update this process's view at once.
        if let Some(p) = RateLimitStatus::from_headers_at(headers, self.clock.now()) {
            *lock(&self.known) = Some(p);
        }
    }

    fn on_rate_limited(&self, headers: &HeaderMap) -> Option<Duration> {
        let Mode::Sleep(_) = self.mode else {
            return None;
        };
        let now = self.clock.now();
        let retry_at = RateLimitStatus::from_headers_at(headers, now)
            .and_then(|s| s.exhausted_until(true))
            .unwrap_or_else(|| short_window_reset(now));
        let wait = until(now, retry_at);
        (wait <= self.max_wait).then_some(wait / self.speed)
    }

    fn status(&self) -> Option<RateLimitStatus> {
        lock(&self.known).clone()
    }
}
