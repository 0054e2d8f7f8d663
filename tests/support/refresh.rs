//! A token set that needs refreshing and the token endpoint that refreshes it, shared by
//! the tests of automatic refresh.

use httpmock::Method::POST;
use httpmock::MockServer;
use serde_json::json;
use stravalib::auth::TokenSet;

pub const TOKEN: &str = "live-access-token-7f3a";
pub const NEW_TOKEN: &str = "fresh-access-token-91bc";
pub const REFRESH: &str = "refresh-token-55de";
pub const NEW_REFRESH: &str = "rotated-refresh-token-0a1b";
pub const SECRET: &str = "client-secret-c0ffee";
/// The client id the refresh mock expects with [`SECRET`].
pub const CLIENT_ID: u64 = 4242;

/// [`TOKEN`] and [`REFRESH`], expired a minute ago.
pub fn expired_tokens() -> TokenSet {
    TokenSet::new(TOKEN, REFRESH, chrono::Utc::now().timestamp() - 60)
}

/// [`TOKEN`] and [`REFRESH`], valid for six hours.
pub fn fresh_tokens() -> TokenSet {
    TokenSet::new(TOKEN, REFRESH, chrono::Utc::now().timestamp() + 6 * 3600)
}

/// `POST /oauth/token` trading [`REFRESH`] for [`NEW_TOKEN`] and [`NEW_REFRESH`].
pub async fn mock_refresh(server: &MockServer) -> httpmock::Mock<'_> {
    let expires = chrono::Utc::now().timestamp() + 6 * 3600;
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", REFRESH)
                .form_urlencoded_tuple("client_id", CLIENT_ID.to_string())
                .form_urlencoded_tuple("client_secret", SECRET);
            then.status(200).json_body(json!({
                "token_type": "Bearer", "access_token": NEW_TOKEN, "expires_at": expires,
                "expires_in": 21600, "refresh_token": NEW_REFRESH
            }));
        })
        .await
}
