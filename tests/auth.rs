//! Tests of `stravalib::auth`: authorization URLs, CSRF state, the OAuth endpoints against
//! an httpmock stand-in for Strava on 127.0.0.1, typed errors, and secret redaction in
//! `Debug`/`Display`/`tracing` output. All values are made up.

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use httpmock::prelude::*;
use serde_json::json;
use stravalib::ErrorKind;
use stravalib::auth::{
    ApprovalPrompt, AthleteSummary, AuthorizationCallback, AuthorizationRequest, ClientCredentials,
    CsrfState, DEFAULT_SCOPES, OAuth, Scope, Secret, TokenSet, TokenTypeHint, authorization_url,
};

const CLIENT_ID: u64 = 51_234;
const CLIENT_SECRET: &str = "cs-7f3a9b1c2d4e5f60718293a4b5c6d7e8f9012345";
const CODE: &str = "code-1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4";
const ACCESS: &str = "at-0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3";
const REFRESH: &str = "rt-9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6";
const NEW_ACCESS: &str = "at-new-5e4d3c2b1a09f8e7d6c5b4a3928170615243";
const NEW_REFRESH: &str = "rt-new-a1b2c3d4e5f6071829304a5b6c7d8e9f0a1b";

/// Every secret value used in these tests.
const SECRETS: [&str; 6] = [
    CLIENT_SECRET,
    CODE,
    ACCESS,
    REFRESH,
    NEW_ACCESS,
    NEW_REFRESH,
];

fn assert_no_secret(text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "secret `{secret}` leaked into: {text}"
        );
    }
}

fn assert_error_has_no_secret(err: &stravalib::Error) {
    assert_no_secret(&format!("{err}"));
    assert_no_secret(&format!("{err:?}"));
    assert_no_secret(&format!("{err:#?}"));
}

async fn server_and_oauth() -> (MockServer, OAuth) {
    init_tracing();
    let server = MockServer::start_async().await;
    let oauth = OAuth::new().oauth_base(server.url("/oauth")).unwrap();
    (server, oauth)
}

fn exchange_response() -> serde_json::Value {
    json!({
        "token_type": "Bearer",
        "expires_at": 1_893_456_000,
        "expires_in": 21600,
        "refresh_token": REFRESH,
        "access_token": ACCESS,
        "athlete": {
            "id": 987_654,
            "username": "test_rider",
            "resource_state": 2,
            "firstname": "Testa",
            "lastname": "Rider",
            "city": "Springfield",
            "state": "XX",
            "country": "",
            "sex": "F",
            "premium": false,
            "summit": true,
            "created_at": "2020-01-02T03:04:05Z",
            "updated_at": "2024-05-06T07:08:09Z",
            "badge_type_id": 0,
            "profile_medium": "https://example.invalid/medium.jpg",
            "profile": "https://example.invalid/large.jpg",
            "friend": null,
            "follower": null
        }
    })
}

fn refresh_response() -> serde_json::Value {
    json!({
        "token_type": "Bearer",
        "access_token": NEW_ACCESS,
        "expires_at": 1_893_470_000,
        "expires_in": 14000,
        "refresh_token": NEW_REFRESH
    })
}

fn fault(resource: &str, field: &str, code: &str) -> serde_json::Value {
    json!({
        "message": "Bad Request",
        "errors": [{"resource": resource, "field": field, "code": code}]
    })
}

fn assert_single_error(err: &stravalib::Error, resource: &str, field: &str, code: &str) {
    assert_eq!(err.errors().len(), 1, "{err:?}");
    let detail = &err.errors()[0];
    assert_eq!(detail.resource.as_deref(), Some(resource));
    assert_eq!(detail.field.as_deref(), Some(field));
    assert_eq!(detail.code.as_deref(), Some(code));
}

// ---------------------------------------------------------------------------------------
// Authorization URL
// ---------------------------------------------------------------------------------------

#[test]
fn authorization_url_defaults() {
    let url = authorization_url(
        CLIENT_ID,
        "http://localhost:8080/cb",
        ApprovalPrompt::Auto,
        &[],
        None,
    )
    .unwrap();
    assert_eq!(
        url.as_str(),
        "https://www.strava.com/oauth/authorize?client_id=51234\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&response_type=code\
         &approval_prompt=auto&scope=read%2Cactivity%3Aread"
    );
    assert_eq!(DEFAULT_SCOPES, [Scope::Read, Scope::ActivityRead]);
}

#[test]
fn authorization_url_force_scopes_and_state() {
    let url = authorization_url(
        CLIENT_ID,
        "https://app.example.com/strava/callback?src=web",
        ApprovalPrompt::Force,
        &[
            Scope::ReadAll,
            Scope::ProfileReadAll,
            Scope::ActivityReadAll,
            Scope::ActivityWrite,
        ],
        Some("st4te-Value_1"),
    )
    .unwrap();
    assert_eq!(
        url.as_str(),
        "https://www.strava.com/oauth/authorize?client_id=51234\
         &redirect_uri=https%3A%2F%2Fapp.example.com%2Fstrava%2Fcallback%3Fsrc%3Dweb\
         &response_type=code&approval_prompt=force\
         &scope=read_all%2Cprofile%3Aread_all%2Cactivity%3Aread_all%2Cactivity%3Awrite\
         &state=st4te-Value_1"
    );
}

#[test]
fn authorization_url_loopback_ip_redirect() {
    let url = authorization_url(
        7,
        "http://127.0.0.1/cb",
        ApprovalPrompt::Auto,
        &[Scope::Read],
        None,
    )
    .unwrap();
    assert_eq!(
        url.as_str(),
        "https://www.strava.com/oauth/authorize?client_id=7\
         &redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&response_type=code\
         &approval_prompt=auto&scope=read"
    );
}

#[test]
fn authorization_request_builder_matches_free_function_and_overrides_base() {
    let state = CsrfState::generate();
    let built = AuthorizationRequest::new(CLIENT_ID, "http://localhost:8080/cb")
        .scopes([Scope::Read, Scope::ProfileWrite, Scope::Read])
        .approval_prompt(ApprovalPrompt::Force)
        .state(state.as_str())
        .url()
        .unwrap();
    let free = authorization_url(
        CLIENT_ID,
        "http://localhost:8080/cb",
        ApprovalPrompt::Force,
        &[Scope::Read, Scope::ProfileWrite],
        Some(state.as_str()),
    )
    .unwrap();
    assert_eq!(built, free);
    assert!(built.as_str().ends_with(&format!(
        "scope=read%2Cprofile%3Awrite&state={}",
        state.as_str()
    )));

    let sandbox = AuthorizationRequest::new(CLIENT_ID, "http://localhost:8080/cb")
        .oauth_base("http://127.0.0.1:9/sandbox/oauth/")
        .url()
        .unwrap();
    assert_eq!(
        sandbox.as_str(),
        "http://127.0.0.1:9/sandbox/oauth/authorize?client_id=51234\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&response_type=code\
         &approval_prompt=auto&scope=read%2Cactivity%3Aread"
    );

    let oauth = OAuth::new()
        .oauth_base("http://127.0.0.1:9/sandbox/oauth")
        .unwrap();
    assert_eq!(
        oauth
            .authorization_request(CLIENT_ID, "http://localhost:8080/cb")
            .url()
            .unwrap(),
        sandbox
    );
}

#[test]
fn bad_redirect_uris_are_invalid_input() {
    for (bad, mentions) in [
        ("/cb", "absolute"),
        ("", "absolute"),
        ("localhost:8080/cb", "http or https"),
        ("ftp://example.com/cb", "http or https"),
        ("mailto:someone@example.com", "http or https"),
        ("http://", "absolute"),
        ("http://example.com/cb#frag", "fragment"),
    ] {
        let err =
            authorization_url(CLIENT_ID, bad, ApprovalPrompt::Auto, &[], None).expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        assert!(err.is_invalid_input());
        assert!(err.is_local());
        assert!(err.message().contains("redirect_uri"), "{err}");
        assert!(err.message().contains(mentions), "{bad}: {err}");
    }
    let err = AuthorizationRequest::new(CLIENT_ID, "http://localhost/cb")
        .oauth_base("not a url")
        .url()
        .unwrap_err();
    assert!(err.is_invalid_input());
    assert!(OAuth::new().oauth_base("ftp://example.com").is_err());
}

#[test]
fn scopes_use_wire_strings() {
    let wire = [
        "read",
        "read_all",
        "profile:read_all",
        "profile:write",
        "activity:read",
        "activity:read_all",
        "activity:write",
    ];
    assert_eq!(Scope::ALL.len(), wire.len());
    for (scope, text) in Scope::ALL.iter().copied().zip(wire) {
        assert_eq!(scope.to_string(), text);
        assert_eq!(text.parse::<Scope>().unwrap(), scope);
        assert_eq!(
            serde_json::to_string(&scope).unwrap(),
            format!("\"{text}\"")
        );
        assert_eq!(
            serde_json::from_str::<Scope>(&format!("\"{text}\"")).unwrap(),
            scope
        );
    }
    assert_eq!(
        Scope::parse_list("read,activity:read").unwrap(),
        [Scope::Read, Scope::ActivityRead]
    );
    assert_eq!(
        Scope::parse_list(" read_all , ,activity:write,read_all").unwrap(),
        [Scope::ReadAll, Scope::ActivityWrite]
    );
    assert_eq!(
        Scope::join(&[Scope::Read, Scope::ActivityReadAll]),
        "read,activity:read_all"
    );
    let err = Scope::parse_list("read,activity:delete").unwrap_err();
    assert!(err.is_invalid_input());
    assert!(err.message().contains("activity:delete"));
    assert!(serde_json::from_str::<Scope>("\"write\"").is_err());

    assert_eq!(ApprovalPrompt::default(), ApprovalPrompt::Auto);
    assert_eq!(ApprovalPrompt::Force.to_string(), "force");
    assert_eq!(
        "auto".parse::<ApprovalPrompt>().unwrap(),
        ApprovalPrompt::Auto
    );
    assert!(
        "always"
            .parse::<ApprovalPrompt>()
            .unwrap_err()
            .is_invalid_input()
    );
    assert_eq!(TokenTypeHint::AccessToken.as_str(), "access_token");
    assert_eq!(TokenTypeHint::RefreshToken.to_string(), "refresh_token");
}

// ---------------------------------------------------------------------------------------
// CSRF state and the redirect callback
// ---------------------------------------------------------------------------------------

#[test]
fn csrf_state_is_random_url_safe_and_verified() {
    let a = CsrfState::generate();
    let b = CsrfState::generate();
    assert_ne!(a.as_str(), b.as_str());
    // 256 bits in unpadded URL-safe base64.
    assert_eq!(a.as_str().len(), 43);
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(a.as_str())
        .unwrap();
    assert!(decoded.len() * 8 >= 128);
    assert!(
        a.as_str()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );

    assert!(a.verify(a.as_str()).is_ok());
    assert!(
        CsrfState::from_stored(a.as_str())
            .verify(a.as_str())
            .is_ok()
    );
    for wrong in [
        b.as_str(),
        "",
        &a.as_str()[..42],
        &format!("{}x", a.as_str()),
    ] {
        let err = a.verify(wrong).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("state"));
        assert!(!format!("{err:?}").contains(a.as_str()));
    }
    assert!(!format!("{a:?}").contains(a.as_str()));
}

#[test]
fn authorization_callback_parses_and_checks_state() {
    let state = CsrfState::generate();
    let query = format!(
        "state={}&code={CODE}&scope=read,activity:read_all",
        state.as_str()
    );
    let callback = AuthorizationCallback::from_query(&query).unwrap();
    assert_eq!(callback.code.expose(), CODE);
    assert_eq!(
        callback.scopes,
        Some(vec![Scope::Read, Scope::ActivityReadAll])
    );
    callback.verify_state(&state).unwrap();
    assert!(
        callback
            .verify_state(&CsrfState::generate())
            .unwrap_err()
            .is_invalid_input()
    );
    assert_no_secret(&format!("{callback:?}"));

    let url = url::Url::parse(&format!("http://127.0.0.1:5000/authorization?{query}")).unwrap();
    assert_eq!(
        AuthorizationCallback::from_url(&url)
            .unwrap()
            .state
            .as_deref(),
        Some(state.as_str())
    );

    // No state at all fails verification.
    let unstated = AuthorizationCallback::from_query(&format!("code={CODE}")).unwrap();
    assert!(unstated.verify_state(&state).is_err());
    assert_eq!(unstated.scopes, None);

    let denied = AuthorizationCallback::from_query("state=x&error=access_denied").unwrap_err();
    assert!(denied.is_invalid_input());
    assert!(denied.message().contains("access_denied"));
    assert!(
        AuthorizationCallback::from_query("state=x")
            .unwrap_err()
            .is_invalid_input()
    );
}

// ---------------------------------------------------------------------------------------
// Secrets, credentials and token sets
// ---------------------------------------------------------------------------------------

#[test]
fn secrets_never_print() {
    let secret = Secret::new(CLIENT_SECRET);
    assert_eq!(format!("{secret:?}"), "Secret(***)");
    assert_eq!(format!("{secret}"), "Secret(***)");
    assert_eq!(secret.expose(), CLIENT_SECRET);
    assert_eq!(secret, Secret::from(CLIENT_SECRET));
    assert_ne!(secret, Secret::from(CODE));

    let creds = ClientCredentials::new(CLIENT_ID, CLIENT_SECRET);
    let debug = format!("{creds:?}");
    assert!(debug.contains("51234"));
    assert!(debug.contains("Secret(***)"));
    assert_no_secret(&debug);
    assert_no_secret(&format!("{creds:#?}"));

    let tokens = TokenSet::new(ACCESS, REFRESH, 1_893_456_000)
        .with_scopes([Scope::Read])
        .with_athlete(AthleteSummary::default());
    assert_no_secret(&format!("{tokens:?}"));
    assert_no_secret(&format!("{tokens:#?}"));
    // Serialization is for stores and does carry the values.
    let json = serde_json::to_string(&tokens).unwrap();
    assert!(json.contains(ACCESS) && json.contains(REFRESH));
    let back: TokenSet = serde_json::from_str(&json).unwrap();
    assert_eq!(back, tokens);
}

#[test]
fn token_expiry() {
    let tokens = TokenSet::new(ACCESS, REFRESH, 1_700_000_600);
    assert_eq!(
        tokens.expires_at_time(),
        Utc.with_ymd_and_hms(2023, 11, 14, 22, 23, 20).unwrap()
    );
    let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    assert!(!tokens.is_expired_within(Duration::ZERO, now));
    assert!(!tokens.is_expired_within(Duration::from_secs(599), now));
    assert!(tokens.is_expired_within(Duration::from_secs(600), now));
    assert!(tokens.is_expired_within(Duration::MAX, now));
    let later = Utc.timestamp_opt(1_700_000_601, 0).unwrap();
    assert!(tokens.is_expired_within(Duration::ZERO, later));
    assert!(TokenSet::new(ACCESS, REFRESH, 0).is_expired());
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.has_scope(Scope::Read), None);
    let scoped = tokens.with_scopes([Scope::Read]);
    assert_eq!(scoped.has_scope(Scope::Read), Some(true));
    assert_eq!(scoped.has_scope(Scope::ActivityWrite), Some(false));
}

// ---------------------------------------------------------------------------------------
// Code exchange
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn exchange_sends_the_exact_form_and_parses_tokens() {
    let (server, oauth) = server_and_oauth().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header_missing("authorization")
                .is_true(|req| req.query_params().is_empty())
                .form_urlencoded_tuple("client_id", "51234")
                .form_urlencoded_tuple("client_secret", CLIENT_SECRET)
                .form_urlencoded_tuple("code", CODE)
                .form_urlencoded_tuple("grant_type", "authorization_code")
                .body(format!(
                    "client_id=51234&client_secret={CLIENT_SECRET}&code={CODE}\
                     &grant_type=authorization_code"
                ));
            then.status(200)
                .header("content-type", "application/json; charset=UTF-8")
                .json_body(exchange_response());
        })
        .await;

    let tokens = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(tokens.access_token.expose(), ACCESS);
    assert_eq!(tokens.refresh_token.expose(), REFRESH);
    assert_eq!(tokens.expires_at, 1_893_456_000);
    assert_eq!(
        tokens.expires_at_time(),
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
    );
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.scopes, None);
    let athlete = tokens.athlete.as_ref().unwrap();
    assert_eq!(athlete.id, Some(987_654));
    assert_eq!(athlete.username.as_deref(), Some("test_rider"));
    assert_eq!(athlete.firstname.as_deref(), Some("Testa"));
    assert_eq!(athlete.lastname.as_deref(), Some("Rider"));
    assert_eq!(
        athlete.profile.as_deref(),
        Some("https://example.invalid/large.jpg")
    );
    assert_eq!(athlete.extra.get("summit"), Some(&json!(true)));
    assert_eq!(athlete.extra.get("friend"), Some(&json!(null)));
    assert_no_secret(&format!("{tokens:?}"));

    // Secret-typed arguments work too.
    let creds = ClientCredentials::new(CLIENT_ID, CLIENT_SECRET);
    let again = oauth
        .exchange_code_for_token(creds.client_id, &creds.client_secret, Secret::new(CODE))
        .await
        .unwrap();
    assert_eq!(again, tokens);
}

#[tokio::test]
async fn oauth_base_with_trailing_slash_keeps_its_path() {
    let server = MockServer::start_async().await;
    let oauth = OAuth::new()
        .oauth_base(server.url("/sandbox/oauth/"))
        .unwrap();
    assert_eq!(oauth.base_url().path(), "/sandbox/oauth/");
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/sandbox/oauth/token");
            then.status(200).json_body(exchange_response());
        })
        .await;
    oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn exchange_with_an_invalid_code_is_a_typed_error() {
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400)
                .header("content-type", "application/json; charset=UTF-8")
                .json_body(fault("RequestToken", "code", "invalid"));
        })
        .await;
    let err = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientFault);
    assert_eq!(err.status(), Some(reqwest::StatusCode::BAD_REQUEST));
    assert_eq!(err.message(), "Bad Request");
    assert_eq!(err.operation(), Some("exchange_code_for_token"));
    assert_single_error(&err, "RequestToken", "code", "invalid");
    assert!(
        err.to_string().contains("RequestToken.code: invalid"),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn exchange_with_an_invalid_client_is_a_typed_error() {
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400)
                .json_body(fault("Application", "client_id", "invalid"));
        })
        .await;
    let err = oauth
        .exchange_code_for_token(1, CLIENT_SECRET, CODE)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_single_error(&err, "Application", "client_id", "invalid");
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn html_502_page_keeps_status_and_excerpt() {
    let (server, oauth) = server_and_oauth().await;
    let page = "<html><head><title>502 Bad Gateway</title></head>\
                <body><h1>Bad Gateway</h1></body></html>";
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(502)
                .header("content-type", "text/html")
                .body(page);
        })
        .await;
    let err = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerFault);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(err.body_excerpt(), Some(page));
    assert!(err.errors().is_empty());
    assert!(err.is_retryable());
    assert_error_has_no_secret(&err);

    // The same page on a refresh is a TokenRefresh error that keeps status and excerpt.
    let err = oauth
        .refresh_access_token(CLIENT_ID, CLIENT_SECRET, REFRESH)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenRefresh);
    assert!(err.is_token_refresh());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(err.body_excerpt(), Some(page));
}

#[tokio::test]
async fn truncated_json_error_keeps_status_and_excerpt() {
    let (server, oauth) = server_and_oauth().await;
    let body = r#"{"message":"Bad Request","errors":[{"resource":"Requ"#;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    let err = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClientFault);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.body_excerpt(), Some(body));
}

#[tokio::test]
async fn truncated_token_response_is_a_decode_error_without_the_tokens() {
    let (server, oauth) = server_and_oauth().await;
    let body = format!(
        r#"{{"token_type":"Bearer","expires_at":1893456000,"refresh_token":"{REFRESH}","access_token":"{}"#,
        &ACCESS[..20]
    );
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    let err = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.operation(), Some("exchange_code_for_token"));
    let excerpt = err.body_excerpt().unwrap();
    assert!(
        excerpt
            .starts_with(r#"{"token_type":"Bearer","expires_at":1893456000,"refresh_token":"***""#),
        "{excerpt}"
    );
    assert!(excerpt.contains(r#""access_token":"***"#), "{excerpt}");
    assert!(!excerpt.contains(&ACCESS[..20]));
    assert_error_has_no_secret(&err);
    assert!(!format!("{err:?}").contains(&ACCESS[..20]));
}

#[tokio::test]
async fn token_response_with_wrong_shape_names_the_field() {
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).json_body(json!({
                "token_type": "Bearer",
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "expires_at": "tomorrow"
            }));
        })
        .await;
    let err = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.message().contains("expires_at"), "{err}");
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn echoed_secrets_in_an_error_page_are_scrubbed() {
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400)
                .header("content-type", "text/html")
                .body(format!(
                    "<html><body>bad request: client_secret={CLIENT_SECRET}&code={CODE}\
                 &grant_type=authorization_code</body></html>"
                ));
        })
        .await;
    let err = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert!(
        err.body_excerpt()
            .unwrap()
            .contains("client_secret=***&code=***")
    );
    assert_error_has_no_secret(&err);

    // The same for a JSON message that quotes a token.
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/revoke");
            then.status(400).json_body(json!({
                "message": format!("token {ACCESS} is unknown"),
                "errors": [{"resource": "Token", "field": "token", "code": "invalid"}]
            }));
        })
        .await;
    let err = oauth
        .revoke(CLIENT_ID, CLIENT_SECRET, ACCESS, None)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn empty_secrets_are_rejected_before_sending() {
    let (server, oauth) = server_and_oauth().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(exchange_response());
        })
        .await;
    let err = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, "")
        .await
        .unwrap_err();
    assert!(err.is_invalid_input() && err.is_local());
    assert!(err.message().contains("authorization code"));
    let err = oauth
        .refresh_access_token(CLIENT_ID, "", REFRESH)
        .await
        .unwrap_err();
    assert!(err.is_invalid_input());
    assert!(err.message().contains("client secret"));
    let err = oauth
        .revoke(CLIENT_ID, CLIENT_SECRET, " ", None)
        .await
        .unwrap_err();
    assert!(err.is_invalid_input());
    assert_eq!(mock.calls_async().await, 0);
}

#[tokio::test]
async fn connection_failures_are_typed() {
    init_tracing();
    // A port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let oauth = OAuth::new()
        .oauth_base(format!("http://127.0.0.1:{port}/oauth"))
        .unwrap();
    let err = oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert!(err.status().is_none());
    assert_error_has_no_secret(&err);
    let err = oauth
        .refresh_access_token(CLIENT_ID, CLIENT_SECRET, REFRESH)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenRefresh);
    assert_error_has_no_secret(&err);
}

// ---------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_sends_the_exact_form_and_returns_rotated_tokens() {
    let (server, oauth) = server_and_oauth().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header_missing("authorization")
                .is_true(|req| req.query_params().is_empty())
                .form_urlencoded_tuple("client_id", "51234")
                .form_urlencoded_tuple("client_secret", CLIENT_SECRET)
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", REFRESH)
                .body(format!(
                    "client_id=51234&client_secret={CLIENT_SECRET}\
                     &grant_type=refresh_token&refresh_token={REFRESH}"
                ));
            then.status(200).json_body(refresh_response());
        })
        .await;
    let tokens = oauth
        .refresh_access_token(CLIENT_ID, CLIENT_SECRET, REFRESH)
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(tokens.access_token.expose(), NEW_ACCESS);
    assert_eq!(tokens.refresh_token.expose(), NEW_REFRESH);
    assert_eq!(tokens.expires_at, 1_893_470_000);
    assert_eq!(tokens.athlete, None);

    // refresh_token_set keeps what the refresh answer lacks.
    let current = TokenSet::new(ACCESS, REFRESH, 1)
        .with_scopes([Scope::Read, Scope::ActivityWrite])
        .with_athlete(AthleteSummary::default());
    let creds = ClientCredentials::new(CLIENT_ID, CLIENT_SECRET);
    let next = oauth.refresh_token_set(&creds, &current).await.unwrap();
    assert_eq!(next.access_token.expose(), NEW_ACCESS);
    assert_eq!(next.refresh_token.expose(), NEW_REFRESH);
    assert_eq!(next.scopes, current.scopes);
    assert_eq!(next.athlete, current.athlete);
    assert_eq!(mock.calls_async().await, 2);
}

#[tokio::test]
async fn refresh_without_a_new_refresh_token_keeps_the_old_one() {
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).json_body(json!({
                "token_type": "Bearer",
                "access_token": NEW_ACCESS,
                "expires_in": 21600
            }));
        })
        .await;
    let before = Utc::now().timestamp();
    let tokens = oauth
        .refresh_access_token(CLIENT_ID, CLIENT_SECRET, REFRESH)
        .await
        .unwrap();
    assert_eq!(tokens.refresh_token.expose(), REFRESH);
    assert!(tokens.expires_at >= before + 21600 && tokens.expires_at <= before + 21610);
}

#[tokio::test]
async fn refresh_with_a_bad_refresh_token_is_a_token_refresh_error() {
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400)
                .json_body(fault("RefreshToken", "refresh_token", "invalid"));
        })
        .await;
    let err = oauth
        .refresh_access_token(CLIENT_ID, CLIENT_SECRET, REFRESH)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenRefresh);
    assert!(err.is_token_refresh());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.operation(), Some("refresh_access_token"));
    assert_single_error(&err, "RefreshToken", "refresh_token", "invalid");
    assert_error_has_no_secret(&err);

    // A bad client on refresh: 401 with Strava's error list, still TokenRefresh.
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(401).json_body(json!({
                "message": "Authorization Error",
                "errors": [{"resource": "Application", "field": "client_secret", "code": "invalid"}]
            }));
        })
        .await;
    let err = oauth
        .refresh_access_token(CLIENT_ID, CLIENT_SECRET, REFRESH)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenRefresh);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.message(), "Authorization Error");
    assert_single_error(&err, "Application", "client_secret", "invalid");
    assert_error_has_no_secret(&err);
}

// ---------------------------------------------------------------------------------------
// Revoke and deauthorize
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn revoke_uses_basic_auth_and_the_exact_form() {
    let (server, oauth) = server_and_oauth().await;
    // base64("51234:cs-7f3a9b1c2d4e5f60718293a4b5c6d7e8f9012345")
    let basic = "Basic NTEyMzQ6Y3MtN2YzYTliMWMyZDRlNWY2MDcxODI5M2E0YjVjNmQ3ZThmOTAxMjM0NQ==";
    assert_eq!(
        basic,
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        )
    );
    let with_hint = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/revoke")
                .header("authorization", basic)
                .header("content-type", "application/x-www-form-urlencoded")
                .is_true(|req| req.query_params().is_empty())
                .form_urlencoded_tuple("token", REFRESH)
                .form_urlencoded_tuple("token_type_hint", "refresh_token")
                .body(format!("token={REFRESH}&token_type_hint=refresh_token"));
            then.status(200);
        })
        .await;
    oauth
        .revoke(
            CLIENT_ID,
            CLIENT_SECRET,
            REFRESH,
            Some(TokenTypeHint::RefreshToken),
        )
        .await
        .unwrap();
    with_hint.assert_async().await;

    let without_hint = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/revoke")
                .header("authorization", basic)
                .form_urlencoded_tuple_missing("token_type_hint")
                .form_urlencoded_tuple_missing("client_secret")
                .body(format!("token={ACCESS}"));
            then.status(200).body("");
        })
        .await;
    oauth
        .revoke(CLIENT_ID, CLIENT_SECRET, ACCESS, None)
        .await
        .unwrap();
    without_hint.assert_async().await;

    let access_hint = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/revoke")
                .header("authorization", basic)
                .body(format!("token={ACCESS}&token_type_hint=access_token"));
            then.status(200);
        })
        .await;
    oauth
        .revoke(
            CLIENT_ID,
            CLIENT_SECRET,
            ACCESS,
            Some(TokenTypeHint::AccessToken),
        )
        .await
        .unwrap();
    access_hint.assert_async().await;
}

#[tokio::test]
async fn revoke_with_a_bad_client_is_a_typed_error() {
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/revoke");
            then.status(401).json_body(json!({
                "message": "Authorization Error",
                "errors": [{"resource": "Application", "field": "client_id", "code": "invalid"}]
            }));
        })
        .await;
    let err = oauth
        .revoke(CLIENT_ID, CLIENT_SECRET, ACCESS, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.operation(), Some("revoke"));
    assert_single_error(&err, "Application", "client_id", "invalid");
    assert_error_has_no_secret(&err);
}

#[tokio::test]
#[allow(deprecated)]
async fn deauthorize_sends_the_token_only_as_bearer() {
    let (server, oauth) = server_and_oauth().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/deauthorize")
                .header("authorization", format!("Bearer {ACCESS}"))
                .is_true(|req| req.query_params().is_empty())
                .is_true(|req| req.body_ref().is_empty());
            // Strava echoes the token; it must not surface anywhere.
            then.status(200)
                .header("content-type", "application/json; charset=utf-8")
                .json_body(json!({"access_token": ACCESS}));
        })
        .await;
    oauth.deauthorize(ACCESS).await.unwrap();
    mock.assert_async().await;

    let err = oauth.deauthorize("bad\ntoken").await.unwrap_err();
    assert!(err.is_invalid_input());
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
#[allow(deprecated)]
async fn deauthorize_with_a_revoked_token_is_unauthorized() {
    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/deauthorize");
            then.status(401).json_body(json!({
                "message": "Authorization Error",
                "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]
            }));
        })
        .await;
    let err = oauth.deauthorize(ACCESS).await.unwrap_err();
    assert!(err.is_unauthorized());
    assert!(err.is_token_invalid());
    assert_eq!(err.operation(), Some("deauthorize"));
    assert_error_has_no_secret(&err);
}

// ---------------------------------------------------------------------------------------
// Tracing
// ---------------------------------------------------------------------------------------

thread_local! {
    /// The buffer receiving this thread's events while a capture is active.
    static CAPTURE: RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { RefCell::new(None) };
}

/// Writes an event to the emitting thread's capture buffer, if any.
struct ThreadWriter;

impl io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(target) = capture.borrow().as_ref() {
                target.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs, once per test binary, a global TRACE subscriber writing to [`ThreadWriter`].
///
/// A global subscriber (rather than `set_default` in one test) keeps `tracing`'s callsite
/// cache from marking an event "never enabled" when another test thread reaches it first.
/// Every test that sends requests calls this (through [`server_and_oauth`]).
fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| ThreadWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
}

/// Captures the events emitted on this thread until dropped.
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn start() -> Self {
        init_tracing();
        let buffer = Arc::new(Mutex::new(Vec::new()));
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(Arc::clone(&buffer)));
        Capture(buffer)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURE.with(|capture| *capture.borrow_mut() = None);
    }
}

#[tokio::test]
#[allow(deprecated)]
async fn tracing_events_carry_no_secrets() {
    // The test runtime is single-threaded: every event of this test is on this thread.
    let captured = Capture::start();

    let (server, oauth) = server_and_oauth().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "authorization_code");
            then.status(200).json_body(exchange_response());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("refresh_token", REFRESH);
            then.status(200).json_body(refresh_response());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("refresh_token", NEW_REFRESH);
            then.status(400)
                .json_body(fault("RefreshToken", "refresh_token", "invalid"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/revoke");
            then.status(200);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/deauthorize");
            then.status(200).json_body(json!({"access_token": ACCESS}));
        })
        .await;

    oauth
        .exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE)
        .await
        .unwrap();
    oauth
        .refresh_access_token(CLIENT_ID, CLIENT_SECRET, REFRESH)
        .await
        .unwrap();
    oauth
        .refresh_access_token(CLIENT_ID, CLIENT_SECRET, NEW_REFRESH)
        .await
        .unwrap_err();
    oauth
        .revoke(
            CLIENT_ID,
            CLIENT_SECRET,
            NEW_ACCESS,
            Some(TokenTypeHint::AccessToken),
        )
        .await
        .unwrap();
    oauth.deauthorize(ACCESS).await.unwrap();
    let _ = AuthorizationCallback::from_query(&format!("code={CODE}&scope=read,future:scope"));

    let logs = captured.text();
    for expected in [
        "exchange_code_for_token",
        "refresh_access_token",
        "revoke",
        "deauthorize",
        "client_id=51234",
        "status=200",
        "status=400",
        "RefreshToken.refresh_token: invalid",
        "refresh_token_rotated=true",
        "athlete_id=987654",
    ] {
        assert!(
            logs.contains(expected),
            "missing `{expected}` in logs:\n{logs}"
        );
    }
    assert_no_secret(&logs);
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: T) {}
    let oauth = OAuth::new();
    assert_send(oauth.exchange_code_for_token(CLIENT_ID, CLIENT_SECRET, CODE));
    assert_send(oauth.refresh_access_token(CLIENT_ID, CLIENT_SECRET, REFRESH));
    assert_send(oauth.revoke(CLIENT_ID, CLIENT_SECRET, ACCESS, None));
    let creds = ClientCredentials::new(CLIENT_ID, CLIENT_SECRET);
    let tokens = TokenSet::new(ACCESS, REFRESH, 0);
    assert_send(oauth.refresh_token_set(&creds, &tokens));
    fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>() {}
    assert_clone_send_sync::<OAuth>();
    assert_clone_send_sync::<TokenSet>();
}
