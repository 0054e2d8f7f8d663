//! A minimal web app that connects an athlete's Strava account, the Rust counterpart of
//! stravalib's example web app.
//!
//! ```sh
//! STRAVA_CLIENT_ID=1234 STRAVA_CLIENT_SECRET=... cargo run --example oauth_web
//! ```
//!
//! Then open <http://127.0.0.1:8000/>, follow "Connect with Strava", approve, and the app
//! shows your profile. Tokens are saved to `strava-tokens.json` (mode 0600) with the
//! crate's file token store. Set the app's "Authorization Callback Domain" to
//! `127.0.0.1` in Strava's API settings. `STRAVA_OAUTH_BASE` and `STRAVA_API_BASE`
//! point the example at another server (a local sandbox, for instance);
//! `OAUTH_WEB_ADDR` changes the address it listens on (`127.0.0.1:0` picks a free port).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use stravalib::Client;
use stravalib::auth::{ApprovalPrompt, ClientCredentials, CsrfState, FileTokenStore, Scope};

const DEFAULT_ADDRESS: &str = "127.0.0.1:8000";
const TOKEN_FILE: &str = "strava-tokens.json";

struct App {
    /// Where this app is reachable, e.g. `127.0.0.1:8000`.
    address: String,
    client: Client,
    credentials: ClientCredentials,
    /// States handed out and not yet used (a real app keeps them in the session).
    pending: Mutex<Vec<CsrfState>>,
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
    let mut builder = Client::builder()
        .credentials(credentials.clone())
        .token_store(FileTokenStore::new(TOKEN_FILE));
    if let Ok(base) = std::env::var("STRAVA_OAUTH_BASE") {
        builder = builder.oauth_base(base);
    }
    if let Ok(base) = std::env::var("STRAVA_API_BASE") {
        builder = builder.base_url(base);
    }
    let client = match builder.build() {
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
    let app = Arc::new(App {
        address,
        client,
        credentials,
        pending: Mutex::new(Vec::new()),
    });
    println!("open http://{}/", app.address);
    let router = Router::new()
        .route("/", get(index))
        .route("/authorization", get(authorization))
        .with_state(app);
    if let Err(e) = axum::serve(listener, router).await {
        eprintln!("server error: {e}");
    }
}

async fn index(State(app): State<Arc<App>>) -> impl IntoResponse {
    let state = CsrfState::generate();
    let url = app.client.authorization_url(
        app.credentials.client_id,
        &format!("http://{}/authorization", app.address),
        ApprovalPrompt::Auto,
        &[Scope::Read, Scope::ActivityRead],
        Some(state.as_str()),
    );
    match url {
        Ok(url) => {
            app.pending.lock().expect("not poisoned").push(state);
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
    State(app): State<Arc<App>>,
    Query(params): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    if let Some(error) = params.get("error") {
        return Html(format!("<p>Strava said: {}</p>", escape(error)));
    }
    let (Some(code), Some(returned)) = (params.get("code"), params.get("state")) else {
        return Html("<p>missing code or state</p>".to_owned());
    };
    // The state must be one we handed out (CSRF protection); each is used once.
    let known = {
        let mut pending = app.pending.lock().expect("not poisoned");
        let position = pending.iter().position(|s| s.verify(returned).is_ok());
        position.map(|i| pending.swap_remove(i))
    };
    if known.is_none() {
        return Html("<p>unknown state: start again from the home page</p>".to_owned());
    }
    let tokens = match app
        .client
        .exchange_code_for_token(
            app.credentials.client_id,
            &app.credentials.client_secret,
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
    match app.client.get_athlete().await {
        Ok(athlete) => Html(format!(
            "<h1>Connected</h1><p>{} {} ({}), tokens saved to {TOKEN_FILE}, access token valid until {}</p>",
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
