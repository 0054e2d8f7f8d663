//! `strava login` and `strava logout`.
//!
//! Login is Strava's OAuth code flow with a callback server on 127.0.0.1: the browser
//! (or, with `--no-browser`, whoever opens the printed URL) is sent to Strava's consent
//! page, Strava redirects back to `http://127.0.0.1:PORT/callback` with a code and the
//! CSRF state we sent, the state is checked, the code exchanged, and the tokens saved
//! with the library's file token store (0600), with the scopes the athlete granted.
//!
//! With `--sandbox` the embedded sandbox approves at once; the tool follows its consent
//! redirect itself, so the whole flow runs with nobody at a browser.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use stravalib::auth::{
    ApprovalPrompt, AuthorizationCallback, CsrfState, Scope, TokenStore as _, TokenTypeHint,
};
use tokio::sync::oneshot;

use crate::args::LoginArgs;
use crate::config::{Ctx, SavedApp};
use crate::output::print_line;

/// Scopes asked for when none are given: enough for every command.
const DEFAULT_SCOPES: &[Scope] = &[
    Scope::Read,
    Scope::ProfileReadAll,
    Scope::ActivityReadAll,
    Scope::ActivityWrite,
];

/// The callback's outcome, sent once from the server to the waiting command.
type Outcome = std::result::Result<AuthorizationCallback, String>;

struct Callback {
    state: CsrfState,
    sender: Mutex<Option<oneshot::Sender<Outcome>>>,
}

/// `strava login`.
pub async fn login(ctx: &Ctx, args: LoginArgs) -> Result<()> {
    let credentials = ctx.require_credentials("login")?.clone();
    let scopes = if args.scopes.is_empty() {
        DEFAULT_SCOPES.to_vec()
    } else {
        Scope::parse_list(&args.scopes.join(","))?
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let port = listener.local_addr()?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let state = CsrfState::generate();
    let url = ctx.client.authorization_url(
        credentials.client_id,
        &redirect_uri,
        ApprovalPrompt::Auto,
        &scopes,
        Some(state.as_str()),
    )?;

    let (sender, receiver) = oneshot::channel();
    let callback = Arc::new(Callback {
        state,
        sender: Mutex::new(Some(sender)),
    });
    let router = axum::Router::new()
        .route("/callback", axum::routing::get(handle_callback))
        .with_state(callback);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });

    if ctx.sandbox.is_some() {
        ctx.ui.note(&format!("Authorize at: {url}"));
        ctx.ui
            .note("sandbox: following its consent redirect (it approves at once)");
        follow_consent(url.as_str()).await?;
    } else if args.no_browser {
        eprintln!("Open this URL in a browser to authorize the app:\n\n  {url}\n");
        eprintln!("Waiting for Strava's redirect to {redirect_uri} (Ctrl-C cancels)…");
    } else {
        ctx.ui
            .note("Opening Strava's authorization page in your browser…");
        if webbrowser::open(url.as_str()).is_err() {
            eprintln!("Could not open a browser; open this URL to authorize the app:\n\n  {url}\n");
        }
        ctx.ui.note(&format!(
            "Waiting for Strava's redirect to {redirect_uri} (Ctrl-C cancels)…"
        ));
    }

    let outcome = tokio::select! {
        received = tokio::time::timeout(Duration::from_secs(args.timeout), receiver) => match received {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err("the callback server stopped".to_owned()),
            Err(_) => Err(format!("no authorization within {} s: run `strava login` again", args.timeout)),
        },
        _ = tokio::signal::ctrl_c() => Err("cancelled".to_owned()),
    };
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    let callback = outcome.map_err(|e| anyhow!("login failed: {e}"))?;

    let mut tokens = ctx
        .client
        .oauth()
        .exchange_code_for_token(
            credentials.client_id,
            &credentials.client_secret,
            callback.code.expose(),
        )
        .await?;
    if callback.scopes.is_some() {
        tokens.scopes = callback.scopes.clone();
    }
    ctx.paths.ensure_config_dir()?;
    ctx.paths
        .token_store()
        .save(&tokens)
        .await
        .context("cannot save the tokens")?;
    ctx.paths.save_app(&SavedApp {
        client_id: credentials.client_id,
        client_secret: credentials.client_secret.expose().to_owned(),
        // The sandbox's ports die with this process: nothing to remember.
        api_base: ctx.api_base.clone().filter(|_| ctx.sandbox.is_none()),
        oauth_base: ctx.oauth_base.clone().filter(|_| ctx.sandbox.is_none()),
    })?;

    let who = tokens
        .athlete
        .as_ref()
        .map(|a| {
            let name = [a.firstname.as_deref(), a.lastname.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            match a.id {
                Some(id) => format!("{name} (athlete {id})"),
                None => name,
            }
        })
        .unwrap_or_else(|| "the athlete".to_owned());
    let granted = tokens
        .scopes
        .as_deref()
        .map(Scope::join)
        .unwrap_or_else(|| "unknown".to_owned());
    print_line(&format!("Signed in as {who}; scopes: {granted}"))?;
    ctx.ui.note(&format!(
        "tokens saved to {} (refreshed automatically)",
        ctx.paths.tokens_file().display()
    ));
    if let Some(missing) = DEFAULT_SCOPES
        .iter()
        .find(|s| scopes.contains(s) && tokens.has_scope(**s) == Some(false))
    {
        ctx.ui.warn(&format!(
            "the scope {missing} was not granted: commands that need it will fail"
        ));
    }
    Ok(())
}

/// The callback: checks the state, answers the browser, hands the result over once.
async fn handle_callback(
    State(callback): State<Arc<Callback>>,
    RawQuery(query): RawQuery,
) -> impl IntoResponse {
    let outcome = AuthorizationCallback::from_query(query.as_deref().unwrap_or(""))
        .map_err(|e| e.message().to_owned())
        .and_then(|received| {
            received
                .verify_state(&callback.state)
                .map(|()| received)
                .map_err(|e| e.message().to_owned())
        });
    let page = match &outcome {
        Ok(_) => (
            StatusCode::OK,
            Html(
                "<h1>Signed in</h1><p>You can close this tab and go back to the terminal.</p>"
                    .to_owned(),
            ),
        ),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Html(format!("<h1>Sign-in failed</h1><p>{}</p>", escape(e))),
        ),
    };
    let sender = callback.sender.lock().ok().and_then(|mut s| s.take());
    if let Some(sender) = sender {
        let _ = sender.send(outcome);
    }
    page
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Sandbox: asks for the consent page without following redirects, then delivers its
/// redirect to our callback.
async fn follow_consent(url: &str) -> Result<()> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    let answer = http
        .get(url)
        .send()
        .await
        .context("the sandbox's consent page")?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            anyhow!(
                "the sandbox's consent page did not redirect ({})",
                answer.status()
            )
        })?
        .to_owned();
    let target = url::Url::parse(&location)?;
    if target.host_str() != Some("127.0.0.1") {
        bail!("the consent page redirected elsewhere than the callback");
    }
    http.get(target)
        .send()
        .await
        .context("delivering the redirect")?;
    Ok(())
}

/// `strava logout`: revokes the saved login and deletes its tokens (the app's client id
/// and secret stay in app.json for the next login).
pub async fn logout(ctx: &Ctx) -> Result<()> {
    let store = ctx.paths.token_store();
    let Some(tokens) = store.load().await.context("cannot read the saved login")? else {
        print_line("Not signed in: nothing to do.")?;
        return Ok(());
    };
    let revoked = match &ctx.credentials {
        Some(_) => ctx
            .client
            .revoke(
                tokens.refresh_token.expose(),
                Some(TokenTypeHint::RefreshToken),
            )
            .await
            .map_err(Some),
        None => Err(None),
    };
    let path = ctx.paths.tokens_file();
    std::fs::remove_file(&path).with_context(|| format!("cannot delete {}", path.display()))?;
    match revoked {
        Ok(()) => print_line("Signed out: the tokens are revoked and deleted."),
        // Strava no longer knows the token: it is as good as revoked.
        Err(Some(e)) if e.is_unauthorized() || e.status().is_some_and(|s| s.as_u16() == 400) => {
            print_line("Signed out: the tokens were no longer valid; deleted.")
        }
        Err(Some(e)) => Err(anyhow::Error::new(e)
            .context("the saved tokens are deleted, but revoking them on Strava failed")),
        Err(None) => Err(anyhow!(
            "the saved tokens are deleted, but without the app's client id and secret they \
             could not be revoked on Strava: revoke the app at https://www.strava.com/settings/apps"
        )),
    }
}
