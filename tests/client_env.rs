//! `Client::from_env`. Alone in its binary: it changes the process environment.

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use serde_json::json;
use stravalib::Client;
use stravalib::rate_limit::RateLimitPolicy;

fn set(name: &str, value: Option<&str>) {
    // SAFETY: this binary has a single test, so no other thread reads the environment.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[tokio::test]
async fn environment_configures_tokens_credentials_and_refresh() {
    // A malformed client id is a clear error.
    set("STRAVA_CLIENT_ID", Some("not-a-number"));
    set("STRAVA_CLIENT_SECRET", Some("env-secret-123"));
    let err = Client::from_env().unwrap_err();
    assert!(err.is_invalid_input());
    assert!(err.to_string().contains("STRAVA_CLIENT_ID"), "{err}");
    assert!(!format!("{err:?}").contains("env-secret-123"));

    // An access token alone is used as is.
    set("STRAVA_API_BASE", None);
    set("STRAVA_OAUTH_BASE", None);
    set("STRAVA_CLIENT_ID", None);
    set("STRAVA_CLIENT_SECRET", None);
    set("STRAVA_REFRESH_TOKEN", None);
    set("STRAVA_ACCESS_TOKEN", Some("env-access-token"));
    let server = MockServer::start_async().await;
    let plain = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete")
                .header("authorization", "Bearer env-access-token");
            then.status(200).json_body(json!({"id": 1}));
        })
        .await;
    let client = Client::builder()
        .base_url(server.url("/api/v3"))
        .rate_limit(RateLimitPolicy::None)
        .from_env()
        .unwrap()
        .build()
        .unwrap();
    client.get_athlete().await.unwrap();
    plain.assert_async().await;

    // With a refresh token and credentials, the first request refreshes.
    set("STRAVA_CLIENT_ID", Some("4242"));
    set("STRAVA_CLIENT_SECRET", Some("env-secret-123"));
    set("STRAVA_REFRESH_TOKEN", Some("env-refresh-token"));
    let expires = chrono::Utc::now().timestamp() + 3600;
    let refresh = server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("refresh_token", "env-refresh-token")
                .form_urlencoded_tuple("client_id", "4242");
            then.status(200).json_body(json!({"token_type": "Bearer",
                "access_token": "refreshed-token", "refresh_token": "next-refresh",
                "expires_at": expires}));
        })
        .await;
    let refreshed = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/athlete")
                .header("authorization", "Bearer refreshed-token");
            then.status(200).json_body(json!({"id": 2}));
        })
        .await;
    // The API and OAuth bases come from the environment too.
    set("STRAVA_API_BASE", Some(&server.url("/api/v3")));
    set("STRAVA_OAUTH_BASE", Some(&server.url("/oauth")));
    let client = Client::builder()
        .rate_limit(RateLimitPolicy::None)
        .from_env()
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.api().base_url(), server.url("/api/v3"));
    let athlete = client.get_athlete().await.unwrap();
    assert_eq!(athlete.id.unwrap().to_string(), "2");
    refresh.assert_async().await;
    refreshed.assert_async().await;
}
