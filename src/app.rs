//! An application serving many athletes: one budget, one connection pool, one token store.
//!
//! Strava's limits belong to the application (its client id), and each athlete who
//! authorized it has a token set of their own. An [`App`] holds what the athletes share
//! (credentials, the rate limiter, the HTTP connection pool, a [`KeyedTokenStore`]) and
//! hands out a [`Client`] per athlete with [`App::client_for`]. With a store that several
//! processes share (such as `RedisTokenStore`, the `redis` feature) and a shared budget
//! (`RedisBudget`), any number of workers can serve the same athletes: refreshes are
//! single-flight across processes and the budget is spent once.
//!
//! ```no_run
//! use stravalib::auth::{ClientCredentials, DirTokenStore};
//! use stravalib::{App, Client};
//!
//! # async fn run() -> stravalib::Result<()> {
//! let app = App::new(
//!     ClientCredentials::new(1234, "client-secret"),
//!     DirTokenStore::new("/var/lib/my-app/tokens"),
//!     Client::builder(),
//! )?;
//! let athlete = app.client_for(134815)?;
//! let me = athlete.get_logged_in_athlete().send().await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use crate::auth::{AthleteTokens, ClientCredentials, KeyedTokenStore, TokenSet};
use crate::client::{Client, ClientBuilder};
use crate::error::Result;

/// Credentials, budget, connection pool and token store shared by the clients of many
/// athletes. See the [module docs](self).
#[derive(Clone)]
pub struct App {
    credentials: ClientCredentials,
    store: Arc<dyn KeyedTokenStore>,
    template: ClientBuilder,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("credentials", &self.credentials)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl App {
    /// An app with `credentials`, keeping tokens in `store`, whose clients are built from
    /// `builder` (base URL, timeouts, rate-limit policy...). The builder's HTTP client and
    /// rate limiter are made once here, so every client of the app shares them: give it a
    /// `RedisBudget` (the `redis` feature) with
    /// [`ClientBuilder::rate_limit_budget`] to share the budget with other processes too.
    /// Its credentials and token store are replaced by the app's.
    pub fn new(
        credentials: ClientCredentials,
        store: impl KeyedTokenStore + 'static,
        builder: ClientBuilder,
    ) -> Result<Self> {
        Ok(Self {
            credentials,
            store: Arc::new(store),
            template: builder.shared()?,
        })
    }

    /// A client acting for `athlete_id`, with the tokens the store holds for that athlete
    /// (read on its first request, refreshed and saved back as they expire). Cheap: the
    /// connection pool and the rate limiter are the app's.
    pub fn client_for(&self, athlete_id: u64) -> Result<Client> {
        self.template
            .clone()
            .credentials(self.credentials.clone())
            .token_store(AthleteTokens::new(self.store.clone(), athlete_id))
            .build()
    }

    /// Stores an athlete's token set (after the OAuth code exchange).
    pub async fn save_tokens(&self, athlete_id: u64, tokens: &TokenSet) -> Result<()> {
        self.store.save(athlete_id, tokens).await
    }

    /// The athlete's stored token set, if any.
    pub async fn tokens(&self, athlete_id: u64) -> Result<Option<TokenSet>> {
        self.store.load(athlete_id).await
    }

    /// The app's credentials.
    pub fn credentials(&self) -> &ClientCredentials {
        &self.credentials
    }

    /// The app's token store.
    pub fn token_store(&self) -> &Arc<dyn KeyedTokenStore> {
        &self.store
    }
}
