//! Token sets of many athletes: the [`KeyedTokenStore`] trait, the per-athlete
//! [`TokenStore`] view a client uses, refresh locks, and a directory store.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use super::refresh_lease::RefreshLease;
use super::token_store::FileTokenStore;
use super::{TokenSet, TokenStore};
use crate::error::{Error, ErrorKind, Result};

/// How long a refresh lock is held at most, unless released: a process that dies
/// mid-refresh blocks the athlete's refreshes this long.
pub const DEFAULT_REFRESH_LOCK_TTL: Duration = Duration::from_secs(30);

/// How long a refresh waits for another process's refresh lock before giving up.
pub const DEFAULT_REFRESH_LOCK_WAIT: Duration = Duration::from_secs(35);

/// How often a waiting refresh looks at the lock again.
const LOCK_POLL: Duration = Duration::from_millis(25);

/// Keeps the token sets of many athletes, by athlete id, for an app serving them all.
///
/// A [`Client`](crate::Client) sees one athlete's slot through [`AthleteTokens`]; an
/// [`App`](crate::App) hands out such clients. Implementations that several processes
/// share also provide [`lock_refresh`](Self::lock_refresh), so that one process at a time
/// refreshes an athlete's tokens and the others then read the rotated set instead of
/// refreshing with a refresh token that is no longer valid.
pub trait KeyedTokenStore: Send + Sync + fmt::Debug {
    /// The athlete's token set; `Ok(None)` when none is stored.
    fn load(&self, athlete_id: u64) -> BoxFuture<'_, Result<Option<TokenSet>>>;

    /// Stores the athlete's token set, replacing what was there.
    fn save<'a>(&'a self, athlete_id: u64, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>>;

    /// Takes the athlete's refresh lock, waiting (bounded) while another holder has it;
    /// `Ok(None)` when the store has no locks (one process only). The default has none.
    fn lock_refresh(&self, athlete_id: u64) -> BoxFuture<'_, Result<Option<RefreshLease>>> {
        let _ = athlete_id;
        Box::pin(async { Ok(None) })
    }
}

impl<T: KeyedTokenStore + ?Sized> KeyedTokenStore for Arc<T> {
    fn load(&self, athlete_id: u64) -> BoxFuture<'_, Result<Option<TokenSet>>> {
        (**self).load(athlete_id)
    }

    fn save<'a>(&'a self, athlete_id: u64, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>> {
        (**self).save(athlete_id, tokens)
    }

    fn lock_refresh(&self, athlete_id: u64) -> BoxFuture<'_, Result<Option<RefreshLease>>> {
        (**self).lock_refresh(athlete_id)
    }
}

/// One athlete's slot of a [`KeyedTokenStore`], as the [`TokenStore`] of a client.
#[derive(Clone, Debug)]
pub struct AthleteTokens {
    store: Arc<dyn KeyedTokenStore>,
    athlete_id: u64,
}

impl AthleteTokens {
    /// The slot of `athlete_id` in `store`.
    pub fn new(store: Arc<dyn KeyedTokenStore>, athlete_id: u64) -> Self {
        Self { store, athlete_id }
    }

    /// The athlete whose tokens these are.
    pub fn athlete_id(&self) -> u64 {
        self.athlete_id
    }
}

impl TokenStore for AthleteTokens {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>>> {
        self.store.load(self.athlete_id)
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>> {
        self.store.save(self.athlete_id, tokens)
    }

    fn lock_refresh(&self) -> BoxFuture<'_, Result<Option<RefreshLease>>> {
        self.store.lock_refresh(self.athlete_id)
    }
}

/// A directory of token files, one per athlete (`{athlete id}.json`, written like
/// [`FileTokenStore`]: atomically, `0600`), for apps running on one machine.
///
/// Refresh locks are lock files (`{athlete id}.lock`, created exclusively): processes on
/// the same machine (sharing the directory) refresh an athlete one at a time. A lock file
/// older than the lock's lifetime ([`DEFAULT_REFRESH_LOCK_TTL`]) is taken over, so a
/// process that died mid-refresh blocks the athlete only that long. The directory must
/// exist.
#[derive(Clone, Debug)]
pub struct DirTokenStore {
    dir: PathBuf,
    ttl: Duration,
    wait: Duration,
}

impl DirTokenStore {
    /// A store in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            ttl: DEFAULT_REFRESH_LOCK_TTL,
            wait: DEFAULT_REFRESH_LOCK_WAIT,
        }
    }

    /// How long a lock lives unless released, and how long a refresh waits for one.
    #[must_use]
    pub fn with_lock_times(mut self, ttl: Duration, wait: Duration) -> Self {
        self.ttl = ttl;
        self.wait = wait;
        self
    }

    fn file(&self, athlete_id: u64) -> FileTokenStore {
        FileTokenStore::new(self.dir.join(format!("{athlete_id}.json")))
    }

    async fn lock(&self, athlete_id: u64) -> Result<Option<RefreshLease>> {
        let path = self.dir.join(format!("{athlete_id}.lock"));
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => {
                    let path = path.clone();
                    return Ok(Some(RefreshLease::new(move || {
                        Box::pin(async move {
                            let _ = tokio::fs::remove_file(&path).await;
                        })
                    })));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_some_and(|age| age > self.ttl) {
                        tracing::debug!(athlete_id, "refresh lock expired: taking it over");
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                }
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::TokenStore,
                        format!("could not create the lock file {}: {e}", path.display()),
                    )
                    .with_source(e));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(lock_timeout(athlete_id, self.wait));
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }
}

pub(super) fn lock_timeout(athlete_id: u64, wait: Duration) -> Error {
    Error::new(
        ErrorKind::TokenRefresh,
        format!(
            "another process held the refresh lock of athlete {athlete_id} for more than {wait:?}"
        ),
    )
}

impl KeyedTokenStore for DirTokenStore {
    fn load(&self, athlete_id: u64) -> BoxFuture<'_, Result<Option<TokenSet>>> {
        let file = self.file(athlete_id);
        Box::pin(async move { file.load().await })
    }

    fn save<'a>(&'a self, athlete_id: u64, tokens: &'a TokenSet) -> BoxFuture<'a, Result<()>> {
        let file = self.file(athlete_id);
        Box::pin(async move { file.save(tokens).await })
    }

    fn lock_refresh(&self, athlete_id: u64) -> BoxFuture<'_, Result<Option<RefreshLease>>> {
        Box::pin(self.lock(athlete_id))
    }
}
