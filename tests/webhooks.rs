//! Webhooks: push subscriptions with the app's credentials (the secret kept out of errors
//! and logs), the subscription challenge, and event parsing.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use httpmock::Method::{DELETE, GET, POST};
use httpmock::MockServer;
use serde_json::json;
use stravalib::auth::ClientCredentials;
use stravalib::webhooks::{
    AspectType, ChallengeResponse, ObjectType, WebhookError, WebhookEvent,
    verify_subscription_challenge,
};
use stravalib::{Client, ErrorKind, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

const CLIENT_ID: u64 = 80_417;
const SECRET: &str = "app-secret-9c2e77f1d0";
const VERIFY: &str = "verify-me-31d4";
const CALLBACK: &str = "https://example.test/strava/webhook";

fn client(server: &MockServer) -> Client {
    support::builder(server)
        .credentials(ClientCredentials::new(CLIENT_ID, SECRET))
        .build()
        .expect("client")
}

fn subscription_json() -> serde_json::Value {
    json!({
        "id": 240_117,
        "resource_state": 2,
        "application_id": CLIENT_ID,
        "callback_url": CALLBACK,
        "created_at": "2026-03-02T10:11:12.123456789Z",
        "updated_at": "2026-03-02T10:11:12Z",
        "some_new_field": {"nested": true}
    })
}

// ---------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_sends_the_form_with_the_credentials() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v3/push_subscriptions")
                .header("content-type", "application/x-www-form-urlencoded")
                .form_urlencoded_tuple("client_id", CLIENT_ID.to_string())
                .form_urlencoded_tuple("client_secret", SECRET)
                .form_urlencoded_tuple("callback_url", CALLBACK)
                .form_urlencoded_tuple("verify_token", VERIFY)
                .query_param_missing("client_secret");
            then.status(201).json_body(subscription_json());
        })
        .await;
    let sub = client(&server)
        .create_subscription(CALLBACK, VERIFY)
        .await
        .expect("created");
    create.assert_calls_async(1).await;
    assert_eq!(sub.id, Id::from(240_117u32));
    assert_eq!(sub.application_id, Some(Id::from(CLIENT_ID)));
    assert_eq!(sub.callback_url.as_deref(), Some(CALLBACK));
    assert_eq!(sub.resource_state, Some(2));
    assert_eq!(
        sub.created_at.map(|t| t.timestamp_nanos_opt()),
        Some(
            Utc.with_ymd_and_hms(2026, 3, 2, 10, 11, 12)
                .unwrap()
                .timestamp_nanos_opt()
                .map(|n| n + 123_456_789)
        )
    );
    assert_eq!(
        sub.updated_at,
        Some(Utc.with_ymd_and_hms(2026, 3, 2, 10, 11, 12).unwrap())
    );
}

#[tokio::test]
async fn list_sends_the_credentials_in_the_query() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v3/push_subscriptions")
                .query_param("client_id", CLIENT_ID.to_string())
                .query_param("client_secret", SECRET)
                .query_param_count("^client_id$", ".*", 1)
                .query_param_count("^client_secret$", ".*", 1)
                .query_param_count(".*", ".*", 2);
            then.status(200).json_body(json!([subscription_json()]));
        })
        .await;
    let subs = client(&server).list_subscriptions().await.expect("listed");
    list.assert_calls_async(1).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].id, Id::from(240_117u32));
}

#[tokio::test]
async fn list_without_subscriptions_is_empty() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/push_subscriptions");
            then.status(200).json_body(json!([]));
        })
        .await;
    assert!(
        client(&server)
            .list_subscriptions()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn delete_sends_the_credentials_in_the_query() {
    let server = MockServer::start_async().await;
    let delete = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path("/api/v3/push_subscriptions/240117")
                .query_param("client_id", CLIENT_ID.to_string())
                .query_param("client_secret", SECRET);
            then.status(204);
        })
        .await;
    client(&server)
        .delete_subscription(240_117u32)
        .await
        .expect("deleted");
    delete.assert_calls_async(1).await;
}

#[tokio::test]
async fn without_credentials_nothing_is_sent() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.path_includes("push_subscriptions");
            then.status(200).json_body(json!([]));
        })
        .await;
    let client = support::client(&server, "an-athlete-token");
    let errors = [
        client
            .list_subscriptions()
            .await
            .expect_err("no credentials"),
        client
            .create_subscription(CALLBACK, VERIFY)
            .await
            .expect_err("no credentials"),
        client
            .delete_subscription(1u32)
            .await
            .expect_err("no credentials"),
    ];
    for err in errors {
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.is_local());
        assert!(err.to_string().contains("credentials"), "{err}");
    }
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_error_answer_is_typed() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/push_subscriptions");
            then.status(400).json_body(json!({
                "message": "Bad Request",
                "errors": [{
                    "resource": "PushSubscription",
                    "field": "callback url",
                    "code": "GET to callback URL does not return 200"
                }]
            }));
        })
        .await;
    let err = client(&server)
        .create_subscription(CALLBACK, VERIFY)
        .await
        .expect_err("rejected");
    assert_eq!(err.kind(), ErrorKind::ClientFault);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.operation(), Some("createPushSubscription"));
    assert_eq!(err.message(), "Bad Request");
    assert_eq!(
        err.errors()[0].code.as_deref(),
        Some("GET to callback URL does not return 200")
    );
}

#[tokio::test]
async fn the_secret_never_appears_in_errors() {
    let server = MockServer::start_async().await;
    // A 4xx fault whose message and errors echo the secret and the whole request.
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/push_subscriptions");
            then.status(403).json_body(json!({
                "message": format!("client_secret {SECRET} is not valid for this app"),
                "errors": [{
                    "resource": "Application",
                    "field": format!("/push_subscriptions?client_id={CLIENT_ID}&client_secret={SECRET}"),
                    "code": "invalid"
                }]
            }));
        })
        .await;
    // A 5xx HTML page echoing the request URL (form-encoded too).
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/v3/push_subscriptions/7");
            then.status(500)
                .header("content-type", "text/html")
                .body(format!(
                    "<html>Internal error for /api/v3/push_subscriptions/7?client_id={CLIENT_ID}&client_secret={SECRET}</html>"
                ));
        })
        .await;
    // A 4xx with no JSON at all, echoing the form body with the verify token.
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/push_subscriptions");
            then.status(422).body(format!(
                "bad form: client_secret={SECRET}&verify_token={VERIFY}"
            ));
        })
        .await;
    let client = client(&server);
    let errors = [
        client.list_subscriptions().await.expect_err("403"),
        client.delete_subscription(7u32).await.expect_err("500"),
        client
            .create_subscription(CALLBACK, VERIFY)
            .await
            .expect_err("422"),
    ];
    for err in &errors {
        let shown = format!("{err} {err:?} {:?} {:?}", err.errors(), err.body_excerpt());
        assert!(!shown.contains(SECRET), "secret leaked: {shown}");
        assert!(!shown.contains(VERIFY), "verify token leaked: {shown}");
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            let text = format!("{s} {s:?}");
            assert!(!text.contains(SECRET), "secret leaked in a source: {text}");
            source = s.source();
        }
    }
    // What Strava said is kept, with the secret replaced.
    assert_eq!(errors[0].kind(), ErrorKind::Forbidden);
    assert_eq!(
        errors[0].message(),
        "client_secret [redacted] is not valid for this app"
    );
    assert_eq!(errors[1].kind(), ErrorKind::ServerFault);
    assert!(errors[1].body_excerpt().unwrap().contains("[redacted]"));
    assert_eq!(errors[2].status().map(|s| s.as_u16()), Some(422));
    assert!(
        errors[2]
            .body_excerpt()
            .unwrap()
            .contains("verify_token=[redacted]")
    );
}

#[tokio::test]
async fn the_secret_never_appears_in_transport_errors() {
    // Nothing listens on this port: the connection fails, with the URL in reqwest's error.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api/v3"))
        .credentials(ClientCredentials::new(CLIENT_ID, SECRET))
        .rate_limit(stravalib::rate_limit::RateLimitPolicy::None)
        .retry(stravalib::RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.list_subscriptions().await.expect_err("refused");
    assert!(err.is_connect(), "{err:?}");
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        shown.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!shown.contains(SECRET), "secret leaked: {shown}");
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

/// The only test of this binary that installs a subscriber (a global one: tracing caches
/// per-callsite interest, so a thread-local one is unreliable beside other tests).
#[tokio::test]
async fn the_secret_never_appears_in_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Everything at every level, except the mock server's own logs of what it received.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            !meta.target().starts_with("httpmock")
        }));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v3/push_subscriptions");
            then.status(200).json_body(json!([subscription_json()]));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/api/v3/push_subscriptions/9");
            then.status(404)
                .json_body(json!({"message": format!("no subscription for {SECRET}")}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v3/push_subscriptions");
            then.status(201).json_body(subscription_json());
        })
        .await;
    let client = client(&server);
    client.list_subscriptions().await.unwrap();
    client.create_subscription(CALLBACK, VERIFY).await.unwrap();
    let err = client.delete_subscription(9u32).await.unwrap_err();
    tracing::info!(error = %err, debug = ?err, "logged by the app");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("listPushSubscriptions") && logs.contains("/api/v3/push_subscriptions"),
        "the request spans were captured: {logs}"
    );
    assert!(!logs.contains(SECRET), "secret leaked into logs: {logs}");
    assert!(
        !logs.contains(VERIFY),
        "verify token leaked into logs: {logs}"
    );
}

// ---------------------------------------------------------------------------------------
// The challenge
// ---------------------------------------------------------------------------------------

fn challenge_query(mode: &str, token: &str, challenge: &str) -> String {
    format!("hub.mode={mode}&hub.verify_token={token}&hub.challenge={challenge}")
}

#[test]
fn valid_challenge_echoes_it_as_json() {
    let query = challenge_query("subscribe", VERIFY, "15f7d1a91c1f40f8a748fd134752feb3");
    let answer = verify_subscription_challenge(query.as_str(), VERIFY).expect("valid");
    assert_eq!(answer.challenge(), "15f7d1a91c1f40f8a748fd134752feb3");
    assert_eq!(
        answer.to_json(),
        r#"{"hub.challenge":"15f7d1a91c1f40f8a748fd134752feb3"}"#
    );
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({"hub.challenge": "15f7d1a91c1f40f8a748fd134752feb3"})
    );
    assert_eq!(
        serde_json::from_str::<ChallengeResponse>(&answer.to_json()).unwrap(),
        answer
    );

    // A leading `?`, percent-encoding, a `String`, maps and pairs all work.
    let encoded = "?hub.verify_token=a%20b%26c&hub.challenge=x%22y&hub.mode=subscribe";
    let answer = verify_subscription_challenge(encoded, "a b&c").expect("valid");
    assert_eq!(answer.to_json(), r#"{"hub.challenge":"x\"y"}"#);
    assert!(verify_subscription_challenge(&query, VERIFY).is_ok());
    let map: HashMap<String, String> = [
        ("hub.mode", "subscribe"),
        ("hub.verify_token", VERIFY),
        ("hub.challenge", "abc"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(
        verify_subscription_challenge(&map, VERIFY)
            .unwrap()
            .challenge(),
        "abc"
    );
    let tree: BTreeMap<&str, &str> = [
        ("hub.mode", "subscribe"),
        ("hub.verify_token", VERIFY),
        ("hub.challenge", "def"),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        verify_subscription_challenge(&tree, VERIFY)
            .unwrap()
            .challenge(),
        "def"
    );
    let pairs = vec![
        ("hub.mode", "subscribe"),
        ("hub.verify_token", VERIFY),
        ("hub.challenge", "ghi"),
    ];
    assert_eq!(
        verify_subscription_challenge(&pairs, VERIFY)
            .unwrap()
            .challenge(),
        "ghi"
    );
}

#[test]
fn wrong_verify_token_is_rejected() {
    for token in ["verify-me-31d5", "verify-me-31d", "", "VERIFY-ME-31D4"] {
        let query = challenge_query("subscribe", token, "abc");
        let err = verify_subscription_challenge(query.as_str(), VERIFY).expect_err(token);
        assert!(matches!(err, WebhookError::VerifyTokenMismatch), "{err:?}");
        assert!(!err.to_string().contains(VERIFY));
    }
    // An empty expected token never matches, not even an empty one.
    let query = challenge_query("subscribe", "", "abc");
    assert!(matches!(
        verify_subscription_challenge(query.as_str(), ""),
        Err(WebhookError::VerifyTokenMismatch)
    ));
}

#[test]
fn wrong_mode_is_rejected() {
    let query = challenge_query("unsubscribe", VERIFY, "abc");
    let err = verify_subscription_challenge(query.as_str(), VERIFY).expect_err("wrong mode");
    assert!(
        matches!(&err, WebhookError::WrongMode { mode } if mode == "unsubscribe"),
        "{err:?}"
    );
    let long = challenge_query(&"x".repeat(500), VERIFY, "abc");
    match verify_subscription_challenge(long.as_str(), VERIFY) {
        Err(WebhookError::WrongMode { mode }) => assert_eq!(mode.len(), 64),
        other => panic!("expected a wrong mode, got {other:?}"),
    }
}

#[test]
fn missing_parameters_are_named() {
    let cases = [
        (
            format!("hub.mode=subscribe&hub.verify_token={VERIFY}"),
            "hub.challenge",
        ),
        (
            format!("hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge="),
            "hub.challenge",
        ),
        (
            "hub.mode=subscribe&hub.challenge=abc".to_owned(),
            "hub.verify_token",
        ),
        (
            format!("hub.verify_token={VERIFY}&hub.challenge=abc"),
            "hub.mode",
        ),
        (String::new(), "hub.mode"),
    ];
    for (query, missing) in cases {
        let err = verify_subscription_challenge(query.as_str(), VERIFY).expect_err(&query);
        assert!(
            matches!(&err, WebhookError::MissingParameter { name } if *name == missing),
            "{query}: {err:?}"
        );
        assert!(err.to_string().contains(missing));
    }
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

#[test]
fn activity_create_event() {
    let event = WebhookEvent::from_json(
        br#"{"aspect_type":"create","event_time":1767225600,"object_id":16204873519,
            "object_type":"activity","owner_id":134815,"subscription_id":240117,"updates":{}}"#,
    )
    .expect("an event");
    assert_eq!(event.object_type, ObjectType::Activity);
    assert_eq!(event.aspect_type, AspectType::Create);
    assert_eq!(event.object_id, Id::from(16_204_873_519u64));
    assert_eq!(event.owner_id, Id::from(134_815u32));
    assert_eq!(event.subscription_id, Id::from(240_117u32));
    assert_eq!(
        event.event_time,
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    );
    assert!(event.updates.is_empty());
    assert_eq!(event.title(), None);
    assert_eq!(event.is_private(), None);
    assert!(!event.is_deauthorization());
}

#[test]
fn activity_update_event_with_title_type_and_privacy() {
    let event = WebhookEvent::from_json(
        r#"{"aspect_type":"update","event_time":1767225601,"object_id":42,
            "object_type":"activity","owner_id":7,"subscription_id":9,
            "updates":{"title":"Messy","type":"Run","private":"true"}}"#,
    )
    .unwrap();
    assert_eq!(event.aspect_type, AspectType::Update);
    assert_eq!(event.title(), Some("Messy"));
    assert_eq!(event.activity_type(), Some("Run"));
    assert_eq!(event.is_private(), Some(true));
    assert!(!event.is_deauthorization());

    let public = WebhookEvent::from_json(
        r#"{"aspect_type":"update","event_time":1767225601,"object_id":42,
            "object_type":"activity","owner_id":7,"subscription_id":9,
            "updates":{"private":"false"}}"#,
    )
    .unwrap();
    assert_eq!(public.is_private(), Some(false));
}

#[test]
fn athlete_deauthorization_event() {
    let event = WebhookEvent::from_json(
        r#"{"aspect_type":"update","event_time":1767225602,"object_id":134815,
            "object_type":"athlete","owner_id":134815,"subscription_id":240117,
            "updates":{"authorized":"false"}}"#,
    )
    .unwrap();
    assert_eq!(event.object_type, ObjectType::Athlete);
    assert!(event.is_deauthorization());

    // An activity update with `authorized` is not a deauthorization.
    let activity = WebhookEvent::from_json(
        r#"{"aspect_type":"update","event_time":1,"object_id":1,"object_type":"activity",
            "owner_id":1,"subscription_id":1,"updates":{"authorized":"false"}}"#,
    )
    .unwrap();
    assert!(!activity.is_deauthorization());
}

#[test]
fn activity_delete_event() {
    let event = WebhookEvent::from_json(
        r#"{"aspect_type":"delete","event_time":1767225603,"object_id":5,
            "object_type":"activity","owner_id":6,"subscription_id":7,"updates":{}}"#,
    )
    .unwrap();
    assert_eq!(event.aspect_type, AspectType::Delete);
    assert_eq!(event.aspect_type.as_str(), "delete");
}

#[test]
fn unknown_types_and_fields_are_tolerated() {
    let event = WebhookEvent::from_json(
        r#"{"aspect_type":"merge","event_time":1767225604.5,"object_id":340282366920938463463374607431768211455,
            "object_type":"club","owner_id":1,"subscription_id":2,"updates":null,
            "brand_new_field":{"a":[1,2,3]},"another":"x"}"#,
    )
    .expect("tolerant");
    assert_eq!(event.object_type, ObjectType::Unknown("club".to_owned()));
    assert_eq!(event.aspect_type, AspectType::Unknown("merge".to_owned()));
    assert_eq!(event.object_type.to_string(), "club");
    assert_eq!(event.object_id, Id::from(u128::MAX));
    assert!(event.updates.is_empty());
    assert_eq!(event.event_time.timestamp_millis(), 1_767_225_604_500);

    // Updates of unexpected shapes are kept as they came; the helpers just find nothing.
    let odd = WebhookEvent::from_json(
        r#"{"aspect_type":"update","event_time":1,"object_id":1,"object_type":"activity",
            "owner_id":1,"subscription_id":1,
            "updates":{"title":12,"private":true,"sport_type":"TrailRun"}}"#,
    )
    .unwrap();
    assert_eq!(odd.title(), None);
    assert_eq!(odd.is_private(), Some(true));
    assert_eq!(odd.updates["sport_type"], "TrailRun");
}

#[test]
fn events_serialize_back_as_strava_sends_them() {
    let text = r#"{"object_type":"activity","object_id":42,"aspect_type":"update","updates":{"title":"Messy"},"owner_id":7,"subscription_id":9,"event_time":1767225601}"#;
    let event = WebhookEvent::from_json(text).unwrap();
    assert_eq!(serde_json::to_string(&event).unwrap(), text);
}

#[test]
fn not_an_event_is_a_typed_error() {
    for body in [
        &b"not json"[..],
        br#"{"aspect_type":"create","object_id":1}"#,
        br#"{"aspect_type":"create","event_time":1,"object_id":-1,"object_type":"activity","owner_id":1,"subscription_id":1}"#,
    ] {
        let err = WebhookEvent::from_json(body).expect_err("invalid");
        assert!(matches!(err, WebhookError::InvalidEvent(_)), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
