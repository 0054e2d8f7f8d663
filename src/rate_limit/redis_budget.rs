//! One rate-limit budget for every process of an application, kept in Redis.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::budget::*;
use super::clock::*;
use super::engine::Permit;
use super::priority::*;
use super::status::*;

/// Strava's default limits: overall (15 minutes, day), then reads (15 minutes, day).
const DEFAULT_LIMITS: [u32; 4] = [200, 2000, 100, 1000];

/// Keys live this long past their window's reset, then Redis drops them. Lifetimes are
/// relative to the policy's clock, so a clock that is not the system's works too.
const KEY_GRACE_MS: i64 = 60_000;

/// Requests granted this close to a quarter hour also count in the next 15-minute window
/// (and at midnight UTC in the next day: see [`RedisBudget::with_boundary_margin`]).
pub const DEFAULT_BOUNDARY_MARGIN: Duration = Duration::from_secs(1);

/// How often a failing Redis call is tried before the request is refused.
const REDIS_ATTEMPTS: u32 = 3;

/// Reserves one request atomically: checks every window the request counts against, the
/// spacing of the `Medium` and `Low` priorities, and counts the request in all of them.
///
/// KEYS: overall 15-min, overall day, read 15-min, read day (1-4), last overall grant,
/// last read grant (5-6), then the window after each of the first four (7-10). ARGV: read
/// (0/1), now (ms), 15-min reset (ms), daily reset (ms), the four limits, priority (0
/// high, 1 medium, 2 low), grace (ms), boundary margin (ms), enforce (0: count only).
/// Returns `{code, at, c1, c2, c3, c4}`: code 1 granted (counts after it), 0 exhausted until
/// `at`, 2 spaced until `at`.
const ACQUIRE: &str = r"
local read = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local resets = {tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[3]), tonumber(ARGV[4])}
local limits = {tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])}
local priority = tonumber(ARGV[9])
local grace = tonumber(ARGV[10])
local enforce = tonumber(ARGV[12])
local n = 2
if read == 1 then n = 4 end
local function next_reset(i)
  if i % 2 == 1 then return resets[i] + 900000 end
  return resets[i] + 86400000
end
local counts = {}
for i = 1, 4 do counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
-- Close to the quarter hour, the request may reach Strava after the reset: it is also
-- counted in the next 15-minute windows, and at midnight in the next days too.
local nexts = {}
if (resets[1] - now) <= tonumber(ARGV[11]) then
  for i = 1, n do
    if i % 2 == 1 or resets[i] == resets[1] then nexts[#nexts + 1] = i end
  end
end
if enforce == 1 then
  local exhausted = 0
  for i = 1, n do
    if counts[i] >= limits[i] and resets[i] > exhausted then exhausted = resets[i] end
  end
  for _, i in ipairs(nexts) do
    local r = next_reset(i)
    if tonumber(redis.call('GET', KEYS[6 + i]) or '0') >= limits[i] and r > exhausted then
      exhausted = r
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
    if wait_until > now then
      return {2, wait_until, counts[1], counts[2], counts[3], counts[4]}
    end
  end
end
for i = 1, n do
  counts[i] = redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], resets[i] - now + grace)
end
for k = 0, n / 2 - 1 do
  redis.call('SET', KEYS[5 + k], now, 'PX', 2 * 86400000)
end
for _, i in ipairs(nexts) do
  redis.call('INCR', KEYS[6 + i])
  redis.call('PEXPIRE', KEYS[6 + i], next_reset(i) - now + grace)
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

/// A [`Budget`] kept in Redis, so that every process of an application (every worker using
/// the same client id) draws on one budget, as Strava counts it.
///
/// Needs the `redis` cargo feature. It only keeps the counts: run it under a policy, like
/// the in-process budget, with the same semantics (see the [module docs](super)):
///
/// ```no_run
/// # async fn run(conn: redis::aio::ConnectionManager) {
/// use std::sync::Arc;
/// use stravalib::Client;
/// use stravalib::rate_limit::{Priority, RateLimitPolicy, RedisBudget, SleepPolicy};
///
/// let budget = Arc::new(RedisBudget::new(conn, 1234)); // keyed by the client id
/// // The builder's policy (sleep, high priority, by default), clock and ceiling:
/// let client = Client::builder().rate_limit_budget(budget.clone()).build();
/// // Or a limiter of your own, here a background job spacing its requests:
/// let backfill = SleepPolicy::new(Priority::Low).with_budget(budget);
/// let client = Client::builder()
///     .rate_limit(RateLimitPolicy::Custom(Arc::new(backfill)))
///     .build();
/// # }
/// ```
///
/// Give each process one `RedisBudget` built on a [`ConnectionManager`] to the same Redis
/// and with the same `app` key, and share it (in an `Arc`) between its clients.
///
/// # What it does
///
/// - **Windows** as Strava counts them: 15 minutes aligned to the quarter hour and the day
///   to midnight UTC, overall and read (a `GET` counts against both, other methods against
///   overall only). Each window is a Redis key named after its start, expiring a minute
///   after it resets.
/// - **[`reserve`](Budget::reserve)**: one Lua script (one round trip) checks every window
///   the request counts against and the spacing of its priority (from the last grant of
///   *any* process), and counts the request in all of them, atomically: however many
///   processes race for the last requests of a window, no more than the limit are granted.
///   A granted request stays counted even if it fails without an answer (Strava may have
///   counted it): [`release`](Budget::release) does nothing. A request granted within
///   [the boundary margin](Self::with_boundary_margin) of a quarter hour counts in the next
///   15-minute windows too, and at midnight UTC in the next day's windows too.
/// - **[`record`](Budget::record)** (one more round trip, spawned, off the request's path):
///   the counts of the windows the request was sent in become the larger of Redis's count
///   and Strava's `X-RateLimit-Usage` / `X-ReadRateLimit-Usage`; `X-RateLimit-Limit` and
///   `X-ReadRateLimit-Limit` become the limits this process checks against. A 429 its
///   headers do not explain marks the 15-minute windows the request counted against as
///   spent, for every process, until they reset.
///
/// # Redis failures
///
/// If Redis cannot be reached, [`reserve`](Budget::reserve) fails after three attempts
/// (100 ms apart) with a [`BudgetError`] whose `retry_at` is one second away, and the
/// policies refuse the request with [`RateLimited`] (fail closed, so that workers never
/// overspend together). The budget needs no persistence: losing it forgets at most one
/// day's counts, which Strava's headers restore with the next answers.
///
/// # Clocks
///
/// "Now" comes from the policy's [`Clock`] (the system clock by default), not from Redis:
/// keep every host's clock synchronized.
pub struct RedisBudget {
    conn: ConnectionManager,
    prefix: String,
    /// Requests granted this close to a quarter hour count in the next window too.
    margin: Duration,
    /// Overall 15-minute, overall daily, read 15-minute, read daily.
    limits: Arc<Mutex<[u32; 4]>>,
    /// The latest counts this process saw (for [`Budget::status`]).
    known: Arc<Mutex<Option<RateLimitStatus>>>,
    /// Set by a 429 the headers did not explain (this process's view; Redis has the
    /// windows marked spent).
    blocked: Mutex<Option<DateTime<Utc>>>,
    acquire: Script,
    reconcile: Script,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("prefix", &self.prefix)
            .field("margin", &self.margin)
            .field("limits", &self.limits())
            .finish_non_exhaustive()
    }
}

/// The Redis keys of the windows that contain one instant.
struct WindowKeys {
    keys: [String; 4],
    /// The window after each of `keys`.
    next: [String; 4],
    resets: [DateTime<Utc>; 2],
}

impl RedisBudget {
    /// A budget for the application `app` (its keys start with `stravalib:budget:{app}`;
    /// use the client id) on `conn`, with Strava's default limits.
    pub fn new(conn: ConnectionManager, app: impl fmt::Display) -> Self {
        Self {
            conn,
            prefix: format!("stravalib:budget:{app}"),
            margin: DEFAULT_BOUNDARY_MARGIN,
            limits: Arc::new(Mutex::new(DEFAULT_LIMITS)),
            known: Arc::new(Mutex::new(None)),
            blocked: Mutex::new(None),
            acquire: Script::new(ACQUIRE),
            reconcile: Script::new(RECONCILE),
        }
    }

    /// A request granted less than `margin` before a quarter hour may reach Strava after
    /// the reset, where it counts in the next window: it is counted in both (default
    /// [`DEFAULT_BOUNDARY_MARGIN`], one second). Midnight UTC is a quarter hour too: such
    /// a request then also counts in the next day's windows. Raise it for slow networks or
    /// clocks that drift; a sped-up clock needs it in clock time (latency times the speed).
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
        let names = |s: i64, d: i64| {
            [
                format!("{p}:overall:15m:{s}"),
                format!("{p}:overall:day:{d}"),
                format!("{p}:read:15m:{s}"),
                format!("{p}:read:day:{d}"),
            ]
        };
        WindowKeys {
            keys: names(s, d),
            next: names(s + SHORT_WINDOW_SECS, d + DAILY_WINDOW_SECS),
            resets: [short, daily],
        }
    }

    /// Keeps `status` as this process's view unless a newer one is known.
    fn remember(&self, status: RateLimitStatus) {
        let mut known = lock(&self.known);
        if known
            .as_ref()
            .is_none_or(|k| k.observed_at <= status.observed_at)
        {
            *known = Some(status);
        }
    }

    /// One run of the reservation script.
    async fn try_reserve(&self, r: &Reservation) -> redis::RedisResult<Vec<i64>> {
        let w = self.keys(r.now);
        let limits = self.limits();
        let priority = match r.priority {
            Priority::High => 0,
            Priority::Medium => 1,
            Priority::Low => 2,
        };
        let mut inv = self.acquire.prepare_invoke();
        for k in &w.keys {
            inv.key(k);
        }
        inv.key(format!("{}:last:overall", self.prefix))
            .key(format!("{}:last:read", self.prefix));
        for k in &w.next {
            inv.key(k);
        }
        inv.arg(i64::from(r.read))
            .arg(r.now.timestamp_millis())
            .arg(w.resets[0].timestamp_millis())
            .arg(w.resets[1].timestamp_millis())
            .arg(limits[0])
            .arg(limits[1])
            .arg(limits[2])
            .arg(limits[3])
            .arg(priority)
            .arg(KEY_GRACE_MS)
            .arg(u64::try_from(self.margin.as_millis()).unwrap_or(u64::MAX))
            .arg(i64::from(r.enforce));
        let mut conn = self.conn.clone();
        inv.invoke_async(&mut conn).await
    }

    /// [`Budget::reserve`]: the script, tried up to three times.
    async fn reserve_in_redis(&self, r: Reservation) -> Result<Reserved, BudgetError> {
        let unavailable = |reason: String| BudgetError {
            retry_at: add(r.now, Duration::from_secs(1)),
            reason,
        };
        let mut failures = 0;
        let reply = loop {
            match self.try_reserve(&r).await {
                Ok(reply) if reply.len() == 6 => break reply,
                Ok(reply) => {
                    tracing::warn!(?reply, "unexpected reply from the rate-limit script");
                    return Err(unavailable(format!("unexpected script reply {reply:?}")));
                }
                Err(err) => {
                    failures += 1;
                    tracing::warn!(error = %err, failures, "rate-limit budget: Redis failed");
                    if failures >= REDIS_ATTEMPTS {
                        return Err(unavailable(err.to_string()));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let counts = [reply[2], reply[3], reply[4], reply[5]].map(|c| c.max(0) as u32);
        let l = self.limits();
        self.remember(RateLimitStatus::new(
            r.now,
            (l[0], l[1]),
            (counts[0], counts[1]),
            (l[2], l[3]),
            (counts[2], counts[3]),
        ));
        let at = DateTime::from_timestamp_millis(reply[1]).unwrap_or(r.now);
        Ok(match reply[0] {
            1 => Reserved::Granted,
            0 => Reserved::Exhausted { until: at },
            _ => Reserved::Spaced { until: at },
        })
    }

    /// What [`record`](Budget::record) writes to Redis, awaited: the counts of the windows
    /// the request was granted in become the larger of Redis's and Strava's; after a 429
    /// its headers do not explain, the 15-minute windows the request counted against are
    /// marked spent. `record` runs this on a spawned task; call it directly to know when it
    /// is done.
    pub async fn reconcile(
        &self,
        permit: &Permit,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> redis::RedisResult<()> {
        let at = permit.granted_at();
        let answer = Answer::new(permit.is_read(), Some(at), at, status, headers);
        self.learn_limits(&answer);
        self.write(&answer).await?;
        if let Some(p) = answer.parsed() {
            self.remember(p);
        }
        Ok(())
    }

    /// `X-RateLimit-Limit` and `X-ReadRateLimit-Limit` become the limits checked against.
    fn learn_limits(&self, answer: &Answer<'_>) {
        let Some(p) = answer.parsed() else {
            return;
        };
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

    /// The Redis half of [`reconcile`](Self::reconcile) (limits already learnt).
    async fn write(&self, answer: &Answer<'_>) -> redis::RedisResult<()> {
        let at = answer.counted_at();
        let parsed = answer.parsed();
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
        if answer.unexplained_429(parsed.as_ref()) {
            // A limit the headers do not show: the 15-minute windows are spent.
            let n = if answer.read { 2 } else { 1 };
            for k in 0..n {
                values[2 * k] = values[2 * k].max(i64::from(limits[2 * k]));
            }
        }
        if values.iter().all(|v| *v < 0) {
            return Ok(());
        }
        let w = self.keys(at);
        let now = answer.now.timestamp_millis();
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
        Ok(())
    }

    /// A handle on the same budget for a spawned task (same connection, prefix, limits,
    /// status).
    fn handle(&self) -> Self {
        Self {
            conn: self.conn.clone(),
            prefix: self.prefix.clone(),
            margin: self.margin,
            limits: self.limits.clone(),
            known: self.known.clone(),
            blocked: Mutex::new(None),
            acquire: self.acquire.clone(),
            reconcile: self.reconcile.clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Budget for RedisBudget {
    fn reserve(&self, request: Reservation) -> BoxFuture<'_, Result<Reserved, BudgetError>> {
        Box::pin(self.reserve_in_redis(request))
    }

    fn record(&self, answer: Answer<'_>) {
        self.learn_limits(&answer);
        let parsed = answer.parsed();
        if answer.unexplained_429(parsed.as_ref()) {
            let until = short_window_reset(answer.now);
            tracing::debug!(%until, "429 without an exhausted window in its headers");
            let mut blocked = lock(&self.blocked);
            *blocked = (*blocked).max(Some(until));
        }
        // The headers update this process's view at once.
        if let Some(p) = parsed {
            self.remember(p);
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!("no tokio runtime: the shared budget is not reconciled");
            return;
        };
        let this = self.handle();
        let (read, granted_at, now, status) =
            (answer.read, answer.granted_at, answer.now, answer.status);
        let headers = answer.headers.clone();
        runtime.spawn(async move {
            let answer = Answer::new(read, granted_at, now, status, &headers);
            if let Err(err) = this.write(&answer).await {
                tracing::warn!(error = %err, "rate-limit budget: reconciling failed");
            }
        });
    }

    fn release(&self, _read: bool) {
        // A granted request stays counted: Strava may have counted it.
    }

    fn status(&self) -> Option<RateLimitStatus> {
        lock(&self.known).clone()
    }

    fn blocked_until(&self) -> Option<DateTime<Utc>> {
        *lock(&self.blocked)
    }
}
