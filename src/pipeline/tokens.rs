//! The access token every request carries, and its refresh.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use std::future::Future;

use crate::auth::{ClientCredentials, Secret, TokenSet, TokenStore};
use crate::error::{Error, ErrorKind};
use crate::rate_limit::Clock;

/// Refresh this long before the access token expires (Strava's tokens live six hours).
pub(crate) const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

#[derive(Clone, Debug)]
enum TokenState {
    /// No token: requests go out without `Authorization`.
    None,
    /// A bare access token: sent as is, never refreshed.
    AccessOnly(Secret),
    /// A full token set: refreshed when it nears expiry, if credentials are known.
    Full(Box<TokenSet>),
}

/// After a failed refresh, new requests get the same error without a new attempt for
/// this long; the wait doubles with each failure in a row, up to [`MAX_REFRESH_BACKOFF`].
const FIRST_REFRESH_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two failed refresh attempts.
const MAX_REFRESH_BACKOFF: Duration = Duration::from_secs(60);

/// What the last refresh attempt ended with, shared by every request that waited on it.
#[derive(Default)]
struct LastAttempt {
    /// Counts attempts; a request that saw another number before waiting was served by
    /// an attempt made while it waited.
    generation: u64,
    /// The failure of the last attempt, when it failed, and until when new requests get
    /// it without a new attempt.
    failure: Option<(Error, tokio::time::Instant)>,
    /// Failures in a row (for the backoff).
    failures: u32,
}

/// Holds the tokens and refreshes them single-flight: however many requests find the
/// token expired at once, one refresh call is made and all use its result, success or
/// failure. After a failure, requests arriving within a short, growing backoff get the
/// same error at once instead of calling the token endpoint again.
pub(crate) struct TokenManager {
    state: RwLock<TokenState>,
    refresh_gate: tokio::sync::Mutex<()>,
    last_attempt: std::sync::Mutex<LastAttempt>,
    store_loaded: AtomicBool,
    credentials: Option<ClientCredentials>,
    store: Option<Arc<dyn TokenStore>>,
    margin: Duration,
    /// What "now" is when deciding whether the token expires soon.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*self.state.read().unwrap_or_else(|e| e.into_inner()) {
            TokenState::None => "none",
            TokenState::AccessOnly(_) => "access token",
            TokenState::Full(_) => "token set",
        };
        f.debug_struct("TokenManager")
            .field("state", &state)
            .field("credentials", &self.credentials)
            .field("store", &self.store)
            .field("refresh_margin", &self.margin)
            .finish()
    }
}

impl TokenManager {
    pub(crate) fn new(
        access_token: Option<Secret>,
        tokens: Option<TokenSet>,
        credentials: Option<ClientCredentials>,
        store: Option<Arc<dyn TokenStore>>,
        margin: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let state = match (tokens, access_token) {
            (Some(set), _) => TokenState::Full(Box::new(set)),
            (None, Some(token)) => TokenState::AccessOnly(token),
            (None, None) => TokenState::None,
        };
        let has_tokens = !matches!(state, TokenState::None);
        Self {
            state: RwLock::new(state),
            refresh_gate: tokio::sync::Mutex::new(()),
            last_attempt: std::sync::Mutex::new(LastAttempt::default()),
            store_loaded: AtomicBool::new(has_tokens || store.is_none()),
            credentials,
            store,
            margin,
            clock,
        }
    }

    /// No tokens, no credentials, no store.
    pub(crate) fn empty() -> Self {
        Self::new(
            None,
            None,
            None,
            None,
            DEFAULT_REFRESH_MARGIN,
            Arc::new(crate::rate_limit::SystemClock),
        )
    }

    fn snapshot(&self) -> TokenState {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace(&self, state: TokenState) {
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = state;
    }

    /// The current token set, if a full one is known.
    pub(crate) fn tokens(&self) -> Option<TokenSet> {
        match self.snapshot() {
            TokenState::Full(set) => Some(*set),
            _ => None,
        }
    }

    /// Replaces the tokens (does not save them to the store).
    pub(crate) fn set_tokens(&self, tokens: TokenSet) {
        self.store_loaded.store(true, Ordering::Release);
        self.replace(TokenState::Full(Box::new(tokens)));
    }

    /// Every secret this manager knows (access and refresh token, client secret), to
    /// scrub from error bodies that echo them.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        let mut out = Vec::with_capacity(3);
        match &*self.state.read().unwrap_or_else(|e| e.into_inner()) {
            TokenState::None => {}
            TokenState::AccessOnly(token) => out.push(token.clone()),
            TokenState::Full(set) => {
                out.push(set.access_token.clone());
                out.push(set.refresh_token.clone());
            }
        }
        if let Some(credentials) = &self.credentials {
            out.push(credentials.client_secret.clone());
        }
        out
    }

    pub(crate) fn credentials(&self) -> Option<&ClientCredentials> {
        self.credentials.as_ref()
    }

    pub(crate) fn store(&self) -> Option<&Arc<dyn TokenStore>> {
        self.store.as_ref()
    }

    /// Whether a refresh is possible at all: credentials and a refresh token are known.
    pub(crate) fn can_refresh(&self) -> bool {
        self.credentials.is_some()
            && matches!(
                *self.state.read().unwrap_or_else(|e| e.into_inner()),
                TokenState::Full(_)
            )
    }

    /// The token for the next request, refreshed first when it expires within the margin.
    pub(crate) async fn bearer<F, Fut>(&self, refresh: F) -> Result<Option<Secret>, Error>
    where
        F: FnOnce(ClientCredentials, TokenSet) -> Fut,
        Fut: Future<Output = Result<TokenSet, Error>>,
    {
        if !self.store_loaded.load(Ordering::Acquire) {
            self.load_from_store().await?;
        }
        // Only the access token is copied on this per-request path, not the whole set;
        // the read guard is gone before any await.
        let (token, expiring) = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            match &*state {
                TokenState::None => return Ok(None),
                TokenState::AccessOnly(token) => return Ok(Some(token.clone())),
                TokenState::Full(set) => (
                    set.access_token.clone(),
                    self.credentials.is_some()
                        && set.is_expired_within(self.margin, self.clock.now()),
                ),
            }
        };
        if expiring {
            self.refresh(refresh, Some(&token)).await.map(Some)
        } else {
            Ok(Some(token))
        }
    }

    async fn load_from_store(&self) -> Result<(), Error> {
        let _gate = self.refresh_gate.lock().await;
        if self.store_loaded.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(store) = &self.store
            && let Some(tokens) = store.load().await?
        {
            self.replace(TokenState::Full(Box::new(tokens)));
        }
        self.store_loaded.store(true, Ordering::Release);
        Ok(())
    }

    /// After Strava rejected `used` (401 invalid/expired token): refresh, unless another
    /// request already did.
    pub(crate) async fn refresh_after_rejection<F, Fut>(
        &self,
        refresh: F,
        used: Option<&Secret>,
    ) -> Result<Secret, Error>
    where
        F: FnOnce(ClientCredentials, TokenSet) -> Fut,
        Fut: Future<Output = Result<TokenSet, Error>>,
    {
        self.refresh(refresh, used).await
    }

    fn last_attempt(&self) -> std::sync::MutexGuard<'_, LastAttempt> {
        self.last_attempt.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refreshes the token set whose access token is `stale`. Single-flight: callers wait
    /// on one gate; those served by an attempt made while they waited take its outcome
    /// (the new token, or the same error) instead of trying again, and those arriving
    /// within the backoff after a failure get that failure at once. The new set is saved
    /// to the store before it is used; on any failure the old tokens stay in place.
    pub(crate) async fn refresh<F, Fut>(
        &self,
        refresh: F,
        stale: Option<&Secret>,
    ) -> Result<Secret, Error>
    where
        F: FnOnce(ClientCredentials, TokenSet) -> Fut,
        Fut: Future<Output = Result<TokenSet, Error>>,
    {
        let seen = {
            let last = self.last_attempt();
            if let Some((err, until)) = &last.failure
                && tokio::time::Instant::now() < *until
            {
                return Err(err.clone());
            }
            last.generation
        };
        let _gate = self.refresh_gate.lock().await;
        {
            let last = self.last_attempt();
            if last.generation != seen {
                // An attempt ran while this request waited: its outcome is this one's.
                if let Some((err, _)) = &last.failure {
                    return Err(err.clone());
                }
                if let TokenState::Full(current) = self.snapshot() {
                    return Ok(current.access_token);
                }
            }
        }
        let TokenState::Full(current) = self.snapshot() else {
            return Err(Error::new(
                ErrorKind::TokenRefresh,
                "no refresh token is known, so the access token cannot be refreshed",
            ));
        };
        if stale.is_some_and(|s| *s != current.access_token)
            && !current.is_expired_within(self.margin, self.clock.now())
        {
            return Ok(current.access_token);
        }
        let Some(credentials) = &self.credentials else {
            return Err(Error::new(
                ErrorKind::TokenRefresh,
                "client id and secret are needed to refresh the access token",
            ));
        };
        let outcome = self.attempt_locked(refresh, credentials, *current).await;
        let mut last = self.last_attempt();
        last.generation += 1;
        match &outcome {
            Ok(_) => {
                last.failure = None;
                last.failures = 0;
            }
            Err(err) => {
                last.failures = last.failures.saturating_add(1);
                let backoff = FIRST_REFRESH_BACKOFF
                    .saturating_mul(1 << (last.failures - 1).min(6))
                    .min(MAX_REFRESH_BACKOFF);
                last.failure = Some((err.clone(), tokio::time::Instant::now() + backoff));
                tracing::debug!(
                    backoff_ms = backoff.as_millis() as u64,
                    error = %err,
                    "token refresh failed"
                );
            }
        }
        outcome
    }

    /// A refresh attempt under the store's refresh lock, when the store has one (other
    /// processes share it): the set another process saved meanwhile is used as it is
    /// while still fresh, or refreshed in place of this process's (older) one.
    async fn attempt_locked<F, Fut>(
        &self,
        refresh: F,
        credentials: &ClientCredentials,
        mut current: TokenSet,
    ) -> Result<Secret, Error>
    where
        F: FnOnce(ClientCredentials, TokenSet) -> Fut,
        Fut: Future<Output = Result<TokenSet, Error>>,
    {
        let Some(store) = &self.store else {
            return self.attempt(refresh, credentials, &current).await;
        };
        let Some(lease) = store.lock_refresh().await.map_err(Error::local)? else {
            return self.attempt(refresh, credentials, &current).await;
        };
        let outcome = async {
            if let Some(stored) = store.load().await.map_err(Error::local)?
                && (stored.access_token != current.access_token
                    || stored.refresh_token != current.refresh_token)
            {
                if !stored.is_expired_within(self.margin, self.clock.now()) {
                    let token = stored.access_token.clone();
                    self.replace(TokenState::Full(Box::new(stored)));
                    tracing::debug!("another process refreshed the access token: using its");
                    return Ok(token);
                }
                current = stored;
            }
            self.attempt(refresh, credentials, &current).await
        }
        .await;
        lease.release().await;
        outcome
    }

    /// One refresh attempt: the token call, then the store, then the new token in use.
    async fn attempt<F, Fut>(
        &self,
        refresh: F,
        credentials: &ClientCredentials,
        current: &TokenSet,
    ) -> Result<Secret, Error>
    where
        F: FnOnce(ClientCredentials, TokenSet) -> Fut,
        Fut: Future<Output = Result<TokenSet, Error>>,
    {
        // The token call goes through the same pipeline (without a bearer token, so it
        // never comes back here). Whatever the token endpoint answered, the caller's
        // request was not sent.
        let fresh = refresh(credentials.clone(), current.clone())
            .await
            .map_err(Error::local)?;
        if let Some(store) = &self.store {
            store.save(&fresh).await.map_err(Error::local)?;
        }
        let token = fresh.access_token.clone();
        self.replace(TokenState::Full(Box::new(fresh)));
        tracing::debug!("access token refreshed");
        Ok(token)
    }
}
