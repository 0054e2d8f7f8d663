//! Token sets of many athletes in Redis, shared by every process of an application.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;

use super::TokenSet;
use super::keyed_store::{
    DEFAULT_REFRESH_LOCK_TTL, DEFAULT_REFRESH_LOCK_WAIT, KeyedTokenStore, lock_timeout,
};
use super::refresh_lease::RefreshLease;
use crate::error::{Error, ErrorKind, Result};

/// Deletes the lock only if it is still the holder's (it may have expired and been taken).
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// How often a waiting refresh looks at the lock again.
const LOCK_POLL: Duration = Duration::from_millis(25);

/// A [`KeyedTokenStore`] in Redis (the `redis` feature): each athlete's token set is a
/// JSON string at `stravalib:tokens:{app}:{athlete id}`, and the athlete's refresh lock is
/// `stravalib:tokens:{app}:{athlete id}:refresh`.
///
/// The lock is taken with `SET key holder NX PX ttl` and released with a
/// compare-and-delete script: one process at a time refreshes an athlete, the others wait
/// (polling every 25 ms, at most [`DEFAULT_REFRESH_LOCK_WAIT`]) and then read the rotated
/// set. A process that dies while holding the lock frees it when it expires
/// ([`DEFAULT_REFRESH_LOCK_TTL`]); keep the lifetime longer than a refresh takes (the
/// token call's timeout).
///
/// Tokens are state that cannot be rebuilt: unlike the rate-limit budget, this store needs
/// a Redis that persists (AOF or RDB snapshots) and is backed up. Anyone who can read the
/// keys can act as your athletes: protect the Redis (network, `requirepass`/ACLs, TLS).
#[derive(Clone)]
pub struct RedisTokenStore {
    conn: ConnectionManager,
    prefix: String,
    ttl: Duration,
    wait: Duration,
    unlock: Script,
}

impl std::fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("prefix", &self.prefix)
            .field("lock_ttl", &self.ttl)
            .field("lock_wait", &self.wait)
            .finish_non_exhaustive()
    }
}

fn redis_error(what: &str, err: redis::RedisError) -> Error {
    Error::new(
        ErrorKind::TokenStore,
        format!("Redis token store: {what}: {err}"),
    )
    .with_source(err)
}

/// A value no other holder has: process id, time and a counter.
fn holder_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        // 0 without random bits from the OS: the other parts still tell holders apart.
        getrandom::u64().unwrap_or(0)
    )
}

impl RedisTokenStore {
    /// A store for the application `app` (use the client id) on `conn`.
    pub fn new(conn: ConnectionManager, app: impl std::fmt::Display) -> Self {
        Self {
            conn,
            prefix: format!("stravalib:tokens:{app}"),
            ttl: DEFAULT_REFRESH_LOCK_TTL,
            wait: DEFAULT_REFRESH_LOCK_WAIT,
            unlock: Script::new(UNLOCK),
        }
    }

    /// How long a refresh lock lives unless released, and how long a refresh waits for
    /// another process's lock before failing.
    #[must_use]
    pub fn with_lock_times(mut self, ttl: Duration, wait: Duration) -> Self {
        self.ttl = ttl;
        self.wait = wait;
        self
    }

    fn key(&self, athlete_id: u64) -> String {
        format!("{}:{athlete_id}", self.prefix)
    }

    async fn load_tokens(&self, athlete_id: u64) -> Result<Option<TokenSet>> {
        let mut conn = self.conn.clone();
        let json: Option<String> = redis::cmd("GET")
            .arg(self.key(athlete_id))
            .query_async(&mut conn)
            .await
            .map_err(|e| redis_error("loading tokens", e))?;
        json.map(|json| {
            serde_json::from_str(&json).map_err(|_| {
                Error::new(
                    ErrorKind::TokenStore,
                    format!(
                        "Redis token store: the tokens of athlete {athlete_id} are not a token set"
                    ),
                )
            })
        })
        .transpose()
    }

    async fn save_tokens(&self, athlete_id: u64, tokens: &TokenSet) -> Result<()> {
        let json = serde_json::to_string(tokens)
            .map_err(|_| Error::new(ErrorKind::TokenStore, "could not serialize the token set"))?;
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.key(athlete_id))
            .arg(json)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| redis_error("saving tokens", e))
    }

    async fn lock(&self, athlete_id: u64) -> Result<Option<RefreshLease>> {
        let key = format!("{}:refresh", self.key(athlete_id));
        let holder = holder_id();
        let ttl_ms = u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let deadline = tokio::time::Instant::now() + self.wait;
        let mut conn = self.conn.clone();
        loop {
            let taken: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&holder)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut conn)
                .await
                .map_err(|e| redis_error("taking the refresh lock", e))?;
            if taken.is_some() {
                let unlock = self.unlock.clone();
                let mut conn = self.conn.clone();
                return Ok(Some(RefreshLease::new(move || {
                    Box::pin(async move {
                        let released: redis::RedisResult<i64> =
                            unlock.key(&key).arg(&holder).invoke_async(&mut conn).await;
                        if let Err(err) = released {
                            tracing::warn!(error = %err, "could not release a refresh lock; it will expire");
                        }
                    })
                })));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(lock_timeout(athlete_id, self.wait));
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }
}

impl KeyedTokenStore for RedisTokenStore {
    fn load(&self, athlete_id: u64) -> BoxFuture<'_, Result<Option<TokenSet>>> {
        Box::pin(self.load_tokens(athlete_id))
    }

    fn save<'a>(&'a self, athlete_id: u64, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.save_tokens(athlete_id, tokens))
    }

    fn lock_refresh(&self, athlete_id: u64) -> BoxFuture<'_, Result<Option<RefreshLease>>> {
        Box::pin(self.lock(athlete_id))
    }
}
