//! Secrets never reach logs. Alone in its test binary: tracing caches per-callsite
//! interest process-wide, so a thread-local subscriber is only reliable without other
//! tests running beside it.

mod support;

use support::refresh::{
    NEW_REFRESH, NEW_TOKEN, REFRESH, SECRET, TOKEN, expired_tokens, mock_refresh,
};

use std::sync::{Arc, Mutex};

use httpmock::Method::GET;
use httpmock::MockServer;
use serde_json::json;
use stravalib::auth::ClientCredentials;
use tracing_subscriber::fmt::format::FmtSpan;

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
