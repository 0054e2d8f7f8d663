//! The running sandbox's shared state, and what changes it outside any one request:
//! grants and their tokens, webhook events.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng;
use serde_json::{Value, json};
use stravalib::auth::Scope;

use crate::clock::SandboxClock;
use crate::faults::Faults;
use crate::state::{AccessToken, Grant, State, WebhookEvent};
use crate::world::World;

/// Rate limits: 15-minute and daily, overall and for reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) short: u32,
    pub(crate) daily: u32,
    pub(crate) read_short: u32,
    pub(crate) read_daily: u32,
}

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) seed: u64,
    pub(crate) limits: Limits,
    pub(crate) token_lifetime: Duration,
    pub(crate) retired_endpoints: bool,
    pub(crate) upload_polls: u32,
    pub(crate) upload_time: Duration,
    pub(crate) callback_domain: String,
    pub(crate) client_id: u64,
    pub(crate) client_secret: String,
}

/// The running sandbox's shared state.
pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) world: World,
    pub(crate) clock: SandboxClock,
    pub(crate) state: Mutex<State>,
    pub(crate) faults: Faults,
    pub(crate) http: reqwest::Client,
    pub(crate) runtime: tokio::runtime::Handle,
    /// Server-side figures (`GET /_sandbox/stats`).
    pub(crate) stats: crate::stats::Stats,
}

/// Tokens just issued.
pub(crate) struct Issued {
    pub(crate) access: String,
    pub(crate) refresh: String,
    pub(crate) expires_at: i64,
}

fn random_token() -> String {
    let mut rng = rand::rng();
    (0..20)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sandbox time, epoch seconds.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// A new authorization of the app by `athlete` with its first tokens.
    pub(crate) fn grant(&self, state: &mut State, athlete: usize, scopes: Vec<Scope>) -> Issued {
        let id = state.next_grant;
        state.next_grant += 1;
        let refresh = random_token();
        state.refresh.insert(refresh.clone(), id);
        state.grants.insert(
            id,
            Grant {
                athlete,
                scopes,
                revoked: false,
                refresh: refresh.clone(),
                pending_refresh: None,
                access_tokens: Vec::new(),
            },
        );
        let (access, expires_at) = self.access_token(state, id);
        Issued {
            access,
            refresh,
            expires_at,
        }
    }

    /// A new access token for grant `id`.
    pub(crate) fn access_token(&self, state: &mut State, id: u64) -> (String, i64) {
        let token = random_token();
        let expires_at = self.now() + self.config.token_lifetime.as_secs() as i64;
        state.access.insert(
            token.clone(),
            AccessToken {
                grant: id,
                expires_at,
            },
        );
        if let Some(g) = state.grants.get_mut(&id) {
            g.access_tokens.push(token.clone());
        }
        (token, expires_at)
    }

    /// Revokes grant `id`: every token of it stops working. Sends the deauthorization
    /// event.
    pub(crate) fn revoke_grant(&self, state: &mut State, id: u64) {
        let Some(g) = state.grants.get_mut(&id) else {
            return;
        };
        if g.revoked {
            return;
        }
        g.revoked = true;
        let athlete = self.world.athletes[g.athlete].id;
        for t in std::mem::take(&mut g.access_tokens) {
            state.access.remove(&t);
        }
        let mut updates = serde_json::Map::new();
        updates.insert("authorized".into(), json!("false"));
        self.emit(state, "athlete", athlete, "update", updates, athlete);
    }

    /// Records a webhook event and delivers it to the subscription, if any.
    pub(crate) fn emit(
        &self,
        state: &mut State,
        object_type: &str,
        object_id: u64,
        aspect_type: &str,
        updates: serde_json::Map<String, Value>,
        owner_id: u64,
    ) {
        let event = WebhookEvent {
            object_type: object_type.to_owned(),
            object_id,
            aspect_type: aspect_type.to_owned(),
            updates,
            owner_id,
            subscription_id: state.subscription.as_ref().map(|s| s.id),
            event_time: self.now(),
        };
        state.events.push(event.clone());
        if let Some(sub) = &state.subscription {
            let url = sub.callback_url.clone();
            let http = self.http.clone();
            self.runtime.spawn(async move {
                // Strava tries up to three times when the callback does not answer 200.
                for attempt in 0..3 {
                    let sent = http
                        .post(&url)
                        .timeout(Duration::from_secs(2))
                        .json(&event)
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().is_success()) {
                        return;
                    }
                    if attempt < 2 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            });
        }
    }
}
