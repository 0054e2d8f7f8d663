//! Secrets never reach logs. Alone in its test binary: tracing caches per-callsite
//! interest process-wide, so a thread-local subscriber is only reliable without other
//! tests running beside it.

mod support;

use std::sync::{Arc, Mutex};

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use serde_json::json;
use stravalib::auth::{ClientCredentials, TokenSet};
use tracing_subscriber::fmt::format::FmtSpan;

const TOKEN: &str = "live-access-token-7f3a";
const NEW_TOKEN: &str = "fresh-access-token-91bc";
const REFRESH: &str = "refresh-token-55de";
const NEW_REFRESH: &str = "rotated-refresh-token-0a1b";
const SECRET: &str = "client-secret-c0ffee";

fn expired_tokens() -> TokenSet {
    TokenSet::new(TOKEN, REFRESH, chrono::Utc::now().timestamp() - 60)
}

async fn mock_refresh(server: &MockServer) -> httpmock::Mock<'_> {
    let expires = chrono::Utc::now().timestamp() + 6 * 3600;
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", REFRESH)
                .form_urlencoded_tuple("client_id", "4242")
                .form_urlencoded_tuple("client_secret", SECRET);
            then.status(200).json_body(json!({
                "token_type": "Bearer", "access_token": NEW_TOKEN, "expires_at": expires,
                "expires_in": 21600, "refresh_token": NEW_REFRESH
            }));
        })
        .await
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_in_logs_debug_or_errors() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    mock_refresh(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/athlete");
            then.status(403)
                .json_body(json!({"message": "Forbidden", "errors": []}));
        })
        .await;
    let client = support::builder(&server)
        .tokens(expired_tokens())
        .credentials(ClientCredentials::new(4242, SECRET))
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("403");
    let mut shown = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        shown.contains("strava.request"),
        "the request span was logged: {shown}"
    );
    shown.push_str(&format!("{err} {err:?} {client:?} {:?}", client.tokens()));
    for secret in [TOKEN, NEW_TOKEN, REFRESH, NEW_REFRESH, SECRET] {
        assert!(
            !shown.contains(secret),
            "secret {secret} leaked in: {shown}"
        );
    }
}
