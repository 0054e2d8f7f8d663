//! A minimal web app that connects athletes' Strava accounts, the Rust counterpart of
//! stravalib's example web app, serving many athletes at once as a real app does.
//!
//! ```sh
//! STRAVA_CLIENT_ID=1234 STRAVA_CLIENT_SECRET=... cargo run --example oauth_web
//! ```
//!
//! Then open <http://127.0.0.1:8000/>, follow "Connect with Strava", approve, and the app
//! shows your profile. Every visitor gets a state of their own (kept at most ten minutes,
//! and at most 10,000 waiting at once: the oldest go first), and every athlete's tokens
//! go to a keyed token store, one `0600` file per athlete in `strava-tokens/`
//! ([`DirTokenStore`]; a fleet of servers would use `RedisTokenStore`), from which
//! [`App::client_for`] serves that athlete. Set the app's "Authorization Callback Domain"
//! to `127.0.0.1` in Strava's API settings. `STRAVA_OAUTH_BASE` and `STRAVA_API_BASE`
//! point the example at another server (a local sandbox, for instance);
//! `OAUTH_WEB_ADDR` changes the address it listens on (`127.0.0.1:0` picks a free port).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use stravalib::auth::{ApprovalPrompt, ClientCredentials, CsrfState, DirTokenStore, Scope};
use stravalib::{App, Client};

const DEFAULT_ADDRESS: &str = "127.0.0.1:8000";
const TOKEN_DIR: &str = "strava-tokens";
/// How long a visitor may take between the home page and Strava's redirect.
const STATE_TTL: Duration = Duration::from_secs(10 * 60);
/// States waiting at most at once (older ones are dropped first).
const MAX_PENDING: usize = 10_000;

struct Web {
    /// Where this app is reachable, e.g. `127.0.0.1:8000`.
    address: String,
    /// Hands out a client per athlete, sharing one connection pool and rate limiter.
    app: App,
    /// For the authorization URL and the code exchange (no athlete's tokens).
    oauth: Client,
    /// States handed out to visitors and not used yet, oldest first.
    pending: Mutex<Pending>,
}

/// Per-visitor states: bounded, expiring, each used once.
#[derive(Default)]
struct Pending {
    states: VecDeque<(CsrfState, Instant)>,
}

impl Pending {
    fn forget_expired(&mut self, now: Instant) {
        while self
            .states
            .front()
            .is_some_and(|(_, issued)| now.duration_since(*issued) > STATE_TTL)
        {
            self.states.pop_front();
        }
    }

    fn add(&mut self, state: CsrfState) {
        self.add_at(state, Instant::now());
    }

    /// Hands out `state` at `now`; at most `MAX_PENDING` are kept (the oldest go first).
    fn add_at(&mut self, state: CsrfState, now: Instant) {
        self.forget_expired(now);
        if self.states.len() >= MAX_PENDING {
            self.states.pop_front();
        }
        self.states.push_back((state, now));
    }

    /// Takes the state `returned`, if it was handed out and has not expired.
    fn take(&mut self, returned: &str) -> Option<CsrfState> {
        self.take_at(returned, Instant::now())
    }

    fn take_at(&mut self, returned: &str, now: Instant) -> Option<CsrfState> {
        self.forget_expired(now);
        let position = self
            .states
            .iter()
            .position(|(s, _)| s.verify(returned).is_ok())?;
        self.states.remove(position).map(|(s, _)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: usize) -> CsrfState {
        CsrfState::from_stored(format!("state-{n:05}"))
    }

    #[test]
    fn a_state_is_taken_once() {
        let mut pending = Pending::default();
        let now = Instant::now();
        pending.add_at(state(1), now);
        assert!(
            pending.take_at("state-00002", now).is_none(),
            "never handed out"
        );
        assert!(pending.take_at("state-00001", now).is_some());
        assert!(pending.take_at("state-00001", now).is_none(), "used once");
    }

    #[test]
    fn states_expire_after_their_ttl() {
        let mut pending = Pending::default();
        let t0 = Instant::now();
        pending.add_at(state(1), t0);
        pending.add_at(state(2), t0 + STATE_TTL / 2);
        pending.add_at(state(3), t0 + STATE_TTL / 2);
        assert!(
            pending.take_at("state-00001", t0 + STATE_TTL).is_some(),
            "at the TTL"
        );
        let later = t0 + STATE_TTL / 2 + STATE_TTL;
        assert!(
            pending.take_at("state-00002", later).is_some(),
            "just in time"
        );
        let expired = later + Duration::from_millis(1);
        assert!(pending.take_at("state-00003", expired).is_none(), "expired");
        assert!(pending.states.is_empty(), "forgotten");
    }

    #[test]
    fn at_most_max_pending_states_are_kept_the_oldest_go_first() {
        let mut pending = Pending::default();
        let now = Instant::now();
        for n in 0..MAX_PENDING + 2 {
            pending.add_at(state(n), now);
        }
        assert_eq!(pending.states.len(), MAX_PENDING);
        assert!(pending.take_at(state(0).as_str(), now).is_none(), "dropped");
        assert!(pending.take_at(state(1).as_str(), now).is_none(), "dropped");
        assert!(pending.take_at(state(2).as_str(), now).is_some());
        assert!(
            pending
                .take_at(state(MAX_PENDING + 1).as_str(), now)
                .is_some()
        );
    }
}

#[tokio::main]
async fn main() {
    let credentials = match ClientCredentials::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "This example needs your Strava app's credentials: set STRAVA_CLIENT_ID and \
                 STRAVA_CLIENT_SECRET (from https://www.strava.com/settings/api).\n({e})"
            );
            std::process::exit(2);
        }
    };
    let mut builder = Client::builder();
    if let Ok(base) = std::env::var("STRAVA_OAUTH_BASE") {
        builder = builder.oauth_base(base);
    }
    if let Ok(base) = std::env::var("STRAVA_API_BASE") {
        builder = builder.base_url(base);
    }
    if let Err(e) = std::fs::create_dir_all(TOKEN_DIR) {
        eprintln!("cannot create {TOKEN_DIR}/: {e}");
        std::process::exit(1);
    }
    let configured = builder.clone().build().and_then(|oauth| {
        App::new(credentials, DirTokenStore::new(TOKEN_DIR), builder).map(|app| (oauth, app))
    });
    let (oauth, app) = match configured {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot configure the client: {e}");
            std::process::exit(2);
        }
    };
    let wanted = std::env::var("OAUTH_WEB_ADDR").unwrap_or_else(|_| DEFAULT_ADDRESS.to_owned());
    let listener = match tokio::net::TcpListener::bind(&wanted).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {wanted}: {e}");
            std::process::exit(1);
        }
    };
    let address = match listener.local_addr() {
        Ok(a) => a.to_string(),
        Err(e) => {
            eprintln!("cannot read the listening address: {e}");
            std::process::exit(1);
        }
    };
    let web = Arc::new(Web {
        address,
        app,
        oauth,
        pending: Mutex::new(Pending::default()),
    });
    println!("open http://{}/", web.address);
    let router = Router::new()
        .route("/", get(index))
        .route("/authorization", get(authorization))
        .with_state(web);
    if let Err(e) = axum::serve(listener, router).await {
        eprintln!("server error: {e}");
    }
}

async fn index(State(web): State<Arc<Web>>) -> impl IntoResponse {
    let state = CsrfState::generate();
    let url = web.oauth.authorization_url(
        web.app.credentials().client_id,
        &format!("http://{}/authorization", web.address),
        ApprovalPrompt::Auto,
        &[Scope::Read, Scope::ActivityRead],
        Some(state.as_str()),
    );
    match url {
        Ok(url) => {
            web.pending.lock().expect("not poisoned").add(state);
            Html(format!(
                "<h1>stravalib example</h1><p><a href=\"{url}\">Connect with Strava</a></p>"
            ))
        }
        Err(e) => Html(format!(
            "<p>cannot build the authorization URL: {}</p>",
            escape(&e.to_string())
        )),
    }
}

async fn authorization(
    State(web): State<Arc<Web>>,
    Query(params): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    if let Some(error) = params.get("error") {
        return Html(format!("<p>Strava said: {}</p>", escape(error)));
    }
    let (Some(code), Some(returned)) = (params.get("code"), params.get("state")) else {
        return Html("<p>missing code or state</p>".to_owned());
    };
    // The state must be one we handed out (CSRF protection); each is used once.
    let known = web.pending.lock().expect("not poisoned").take(returned);
    if known.is_none() {
        return Html(
            "<p>unknown state (or expired): start again from the home page</p>".to_owned(),
        );
    }
    let credentials = web.app.credentials();
    let tokens = match web
        .oauth
        .oauth()
        .exchange_code_for_token(
            credentials.client_id,
            credentials.client_secret.clone(),
            code.as_str(),
        )
        .await
    {
        Ok(t) => t,
        Err(e) => {
            return Html(format!(
                "<p>code exchange failed: {}</p>",
                escape(&e.to_string())
            ));
        }
    };
    let Some(athlete_id) = tokens
        .athlete
        .as_ref()
        .and_then(|a| a.id)
        .and_then(|id| u64::try_from(id).ok())
    else {
        return Html("<p>Strava did not say which athlete approved</p>".to_owned());
    };
    if let Err(e) = web.app.save_tokens(athlete_id, &tokens).await {
        return Html(format!(
            "<p>could not save the tokens: {}</p>",
            escape(&e.to_string())
        ));
    }
    // From now on, any request for this athlete goes through their own client.
    let client = match web.app.client_for(athlete_id) {
        Ok(c) => c,
        Err(e) => return Html(format!("<p>{}</p>", escape(&e.to_string()))),
    };
    match client.get_athlete().await {
        Ok(athlete) => Html(format!(
            "<h1>Connected</h1><p>{} {} ({}), tokens saved to {TOKEN_DIR}/{athlete_id}.json, access token valid until {}</p>",
            escape(athlete.firstname.as_deref().unwrap_or("")),
            escape(athlete.lastname.as_deref().unwrap_or("")),
            athlete.id.map(|i| i.to_string()).unwrap_or_default(),
            tokens.expires_at_time(),
        )),
        Err(e) => Html(format!(
            "<p>could not read the athlete: {}</p>",
            escape(&e.to_string())
        )),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
