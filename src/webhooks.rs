//! Webhooks: push subscriptions, the subscription challenge, and the events Strava posts.
//!
//! Strava's push subscriptions are not part of the OpenAPI description; they are written by
//! hand on the same pipeline as every other call. An app has at most one subscription. It
//! is managed with the app's client id and secret (from [`ClientBuilder::credentials`]),
//! not with an athlete's token:
//!
//! - [`Client::create_subscription`]: while it runs, Strava sends a `GET` to the callback
//!   URL with `hub.mode`, `hub.verify_token` and `hub.challenge`; answer it with
//!   [`verify_subscription_challenge`] (within two seconds, status 200, JSON body).
//! - [`Client::list_subscriptions`], [`Client::delete_subscription`].
//!
//! Afterwards Strava `POST`s a JSON [`WebhookEvent`] to the callback URL for every new,
//! changed or deleted activity and every athlete who revokes access; answer `200` at once
//! and do the work later.
//!
//! ```
//! use stravalib::webhooks::{AspectType, WebhookEvent, verify_subscription_challenge};
//!
//! // GET /webhook?hub.mode=subscribe&hub.verify_token=my-token&hub.challenge=15f7d1a91c1f40f8a748fd134752feb3
//! let query = "hub.mode=subscribe&hub.verify_token=my-token&hub.challenge=15f7d1a91c1f40f8a748fd134752feb3";
//! let answer = verify_subscription_challenge(query, "my-token").expect("Strava's challenge");
//! assert_eq!(answer.to_json(), r#"{"hub.challenge":"15f7d1a91c1f40f8a748fd134752feb3"}"#);
//!
//! // POST /webhook
//! let body = br#"{"aspect_type":"update","event_time":1700000000,"object_id":1234,
//!     "object_type":"activity","owner_id":5678,"subscription_id":42,
//!     "updates":{"title":"Lunch run"}}"#;
//! let event = WebhookEvent::from_json(body).expect("an event");
//! assert_eq!(event.aspect_type, AspectType::Update);
//! assert_eq!(event.title(), Some("Lunch run"));
//! ```
//!
//! ## The client secret
//!
//! Strava wants the client secret in the query string of `GET` and `DELETE`. It never
//! reaches this crate's logs (the request span records the URL path only) or its errors
//! (transport errors drop the URL, and any echo of the secret in Strava's answer is
//! replaced by `[redacted]`). Keep reqwest's own `connection_verbose` tracing off.
//!
//! [`ClientBuilder::credentials`]: crate::ClientBuilder::credentials

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::api_v3::ApiRequest;
use crate::auth::Secret;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::redact::scrub;

/// The path of Strava's push subscription endpoints, under the API base URL.
const PATH: &str = "push_subscriptions";
/// Longest `hub.mode` value kept in a [`WebhookError::WrongMode`].
const MODE_ECHO_LIMIT: usize = 64;

/// A push subscription: where Strava sends the app's webhook events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subscription {
    /// The subscription's id (for [`Client::delete_subscription`]).
    pub id: Id,
    /// The app's client id.
    #[serde(default)]
    pub application_id: Option<Id>,
    /// Where events are posted.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// When the subscription was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When the subscription was last changed.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Strava's level of detail of the object (`2` for subscriptions).
    #[serde(default)]
    pub resource_state: Option<i64>,
}

impl Client {
    /// Subscribes the app to webhook events (`POST /push_subscriptions`), with the
    /// client's [credentials](crate::ClientBuilder::credentials).
    ///
    /// Strava validates `callback_url` before answering, by sending it the subscription
    /// challenge: the callback must already be up and answer with
    /// [`verify_subscription_challenge`] for `verify_token`. An app has at most one
    /// subscription; Strava refuses a second one.
    pub async fn create_subscription(
        &self,
        callback_url: &str,
        verify_token: &str,
    ) -> Result<Subscription> {
        const OPERATION: &str = "createPushSubscription";
        let (client_id, secret) = credentials(self, OPERATION)?;
        let form = [
            ("client_id", client_id.as_str()),
            ("client_secret", secret.expose()),
            ("callback_url", callback_url),
            ("verify_token", verify_token),
        ];
        let request = self.api().request(Method::POST, PATH).form(&form);
        let body = send_scrubbed(request, OPERATION, &[secret.expose(), verify_token]).await?;
        decode(OPERATION, &body)
    }

    /// The app's push subscriptions (`GET /push_subscriptions`; none or one).
    pub async fn list_subscriptions(&self) -> Result<Vec<Subscription>> {
        const OPERATION: &str = "listPushSubscriptions";
        let (client_id, secret) = credentials(self, OPERATION)?;
        let query = [
            ("client_id", client_id.as_str()),
            ("client_secret", secret.expose()),
        ];
        let request = self.api().request(Method::GET, PATH).query(&query);
        let body = send_scrubbed(request, OPERATION, &[secret.expose()]).await?;
        decode(OPERATION, &body)
    }

    /// Deletes the push subscription `id` (`DELETE /push_subscriptions/{id}`); Strava
    /// stops sending events at once.
    pub async fn delete_subscription(&self, id: impl Into<Id>) -> Result<()> {
        const OPERATION: &str = "deletePushSubscription";
        let (client_id, secret) = credentials(self, OPERATION)?;
        let query = [
            ("client_id", client_id.as_str()),
            ("client_secret", secret.expose()),
        ];
        let path = format!("{PATH}/{}", id.into());
        let request = self.api().request(Method::DELETE, &path).query(&query);
        send_scrubbed(request, OPERATION, &[secret.expose()]).await?;
        Ok(())
    }
}

/// The client id (as text) and secret configured on `client`, or an invalid-input error.
fn credentials(client: &Client, operation: &'static str) -> Result<(String, Secret)> {
    let shared = client.pipeline().shared();
    match shared.tokens.credentials() {
        Some(c) if !c.client_secret.is_empty() => {
            Ok((c.client_id.to_string(), c.client_secret.clone()))
        }
        _ => Err(Error::invalid_input(
            "push subscriptions need the app's client id and secret: \
             set them with ClientBuilder::credentials",
        )
        .local()
        .with_operation(operation)),
    }
}

/// Sends `request` and returns the body of a 2xx answer; any other answer becomes an
/// [`Error`] built from a body with every echo of `secrets` replaced.
async fn send_scrubbed(
    request: ApiRequest,
    operation: &'static str,
    secrets: &[&str],
) -> Result<Bytes> {
    let (status, headers, body) = request
        .operation(operation)
        .check_for_errors(false)
        .send_read()
        .await?;
    let body = scrub(body, secrets);
    if !status.is_success() {
        return Err(Error::from_response(status, &headers, &body).with_operation(operation));
    }
    Ok(body)
}

fn decode<T: DeserializeOwned>(operation: &'static str, body: &[u8]) -> Result<T> {
    crate::call::decode(operation, body)
}

// ---------------------------------------------------------------------------------------
// The subscription challenge
// ---------------------------------------------------------------------------------------

/// Query parameters of the challenge request: a raw query string (`str`, `String`, with
/// or without a leading `?`), a map, or a list of pairs. The first value of a repeated
/// name counts.
pub trait QueryParams {
    /// The (decoded) value of the parameter `name`, if present.
    fn param(&self, name: &str) -> Option<Cow<'_, str>>;
}

impl QueryParams for str {
    fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        let query = self.strip_prefix('?').unwrap_or(self);
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}

impl QueryParams for String {
    fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.as_str().param(name)
    }
}

impl<K, V, S> QueryParams for HashMap<K, V, S>
where
    K: Borrow<str> + Eq + Hash,
    V: AsRef<str>,
    S: BuildHasher,
{
    fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).map(|v| Cow::Borrowed(v.as_ref()))
    }
}

impl<K, V> QueryParams for BTreeMap<K, V>
where
    K: Borrow<str> + Ord,
    V: AsRef<str>,
{
    fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).map(|v| Cow::Borrowed(v.as_ref()))
    }
}

impl<K: AsRef<str>, V: AsRef<str>> QueryParams for [(K, V)] {
    fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.iter()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| Cow::Borrowed(v.as_ref()))
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> QueryParams for [(K, V); N] {
    fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.as_slice().param(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> QueryParams for Vec<(K, V)> {
    fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.as_slice().param(name)
    }
}

/// The answer to Strava's subscription challenge: serializes to exactly
/// `{"hub.challenge":"..."}`. Send it with status 200 and `Content-Type:
/// application/json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeResponse {
    #[serde(rename = "hub.challenge")]
    challenge: String,
}

impl ChallengeResponse {
    /// An answer echoing `challenge`.
    pub fn new(challenge: impl Into<String>) -> Self {
        Self {
            challenge: challenge.into(),
        }
    }

    /// The challenge echoed.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// The JSON body: `{"hub.challenge":"..."}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a struct of one string serializes")
    }
}

/// Checks Strava's subscription challenge (`GET callback?hub.mode=subscribe&
/// hub.verify_token=...&hub.challenge=...`) and returns the answer to send back.
///
/// `hub.mode` must be `subscribe` and `hub.verify_token` must equal
/// `expected_verify_token` (compared in constant time; an empty expected token never
/// matches). Anything else is a [`WebhookError`]: answer it with a 4xx.
pub fn verify_subscription_challenge<Q: QueryParams + ?Sized>(
    query: &Q,
    expected_verify_token: &str,
) -> Result<ChallengeResponse, WebhookError> {
    let required = |name: &'static str| {
        query
            .param(name)
            .filter(|v| !v.is_empty())
            .ok_or(WebhookError::MissingParameter { name })
    };
    let mode = required("hub.mode")?;
    if mode != "subscribe" {
        return Err(WebhookError::WrongMode {
            mode: mode.chars().take(MODE_ECHO_LIMIT).collect(),
        });
    }
    let token = query
        .param("hub.verify_token")
        .ok_or(WebhookError::MissingParameter {
            name: "hub.verify_token",
        })?;
    let same: bool = token
        .as_bytes()
        .ct_eq(expected_verify_token.as_bytes())
        .into();
    if !same || expected_verify_token.is_empty() {
        return Err(WebhookError::VerifyTokenMismatch);
    }
    let challenge = required("hub.challenge")?;
    Ok(ChallengeResponse::new(challenge.into_owned()))
}

/// Why a webhook request was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A parameter of the challenge is missing or empty.
    #[error("the subscription challenge has no `{name}`")]
    MissingParameter {
        /// The parameter (`hub.mode`, `hub.verify_token` or `hub.challenge`).
        name: &'static str,
    },
    /// `hub.mode` is not `subscribe`.
    #[error("the subscription challenge has hub.mode {mode:?}, not \"subscribe\"")]
    WrongMode {
        /// The mode received (at most 64 characters of it).
        mode: String,
    },
    /// `hub.verify_token` is not the expected one. Neither token is shown.
    #[error("the subscription challenge has the wrong hub.verify_token")]
    VerifyTokenMismatch,
    /// An event body that is not a webhook event.
    #[error("invalid webhook event: {0}")]
    InvalidEvent(#[source] serde_json::Error),
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

/// What an event is about. Open: a type Strava adds later is kept as
/// [`Unknown`](ObjectType::Unknown).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectType {
    /// `activity`
    Activity,
    /// `athlete`
    Athlete,
    /// Any other value, as Strava sent it.
    Unknown(String),
}

/// What happened to the object. Open: a type Strava adds later is kept as
/// [`Unknown`](AspectType::Unknown).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AspectType {
    /// `create`
    Create,
    /// `update` (including an athlete's deauthorization)
    Update,
    /// `delete`
    Delete,
    /// Any other value, as Strava sent it.
    Unknown(String),
}

macro_rules! open_enum {
    ($ty:ident, $($variant:ident => $text:literal),+) => {
        impl $ty {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($ty::$variant => $text,)+
                    $ty::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $ty {
            fn from(text: &str) -> Self {
                match text {
                    $($text => $ty::$variant,)+
                    other => $ty::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = Cow::<'de, str>::deserialize(deserializer)?;
                Ok($ty::from(text.as_ref()))
            }
        }
    };
}

open_enum!(ObjectType, Activity => "activity", Athlete => "athlete");
open_enum!(AspectType, Create => "create", Update => "update", Delete => "delete");

/// An event Strava posts to the subscription's callback URL.
///
/// Unknown fields are ignored and unknown object or aspect types kept as `Unknown`, so a
/// change on Strava's side does not make events unreadable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// What the event is about.
    pub object_type: ObjectType,
    /// The activity's or the athlete's id.
    pub object_id: Id,
    /// What happened.
    pub aspect_type: AspectType,
    /// For updates, what changed: for activities `title`, `type` and `private`
    /// (`"true"`/`"false"`); for a deauthorization `authorized: "false"`. Empty otherwise.
    #[serde(default, deserialize_with = "map_or_null")]
    pub updates: Map<String, Value>,
    /// The athlete who owns the object.
    pub owner_id: Id,
    /// The push subscription the event was sent for.
    pub subscription_id: Id,
    /// When the event happened (Strava sends epoch seconds).
    #[serde(with = "epoch_seconds")]
    pub event_time: DateTime<Utc>,
}

impl WebhookEvent {
    /// Parses an event body.
    pub fn from_json(body: impl AsRef<[u8]>) -> Result<Self, WebhookError> {
        serde_json::from_slice(body.as_ref()).map_err(WebhookError::InvalidEvent)
    }

    fn update_str(&self, key: &str) -> Option<&str> {
        self.updates.get(key).and_then(Value::as_str)
    }

    fn update_bool(&self, key: &str) -> Option<bool> {
        match self.updates.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// The activity's new title, when the update changed it.
    pub fn title(&self) -> Option<&str> {
        self.update_str("title")
    }

    /// The activity's new type (`Run`, `Ride`...), when the update changed it.
    pub fn activity_type(&self) -> Option<&str> {
        self.update_str("type")
    }

    /// The activity's new visibility, when the update changed it: `true` for "Only You".
    pub fn is_private(&self) -> Option<bool> {
        self.update_bool("private")
    }

    /// `true` when an athlete revoked the app's access (`object_type: athlete` with
    /// `updates.authorized == "false"`): delete their data.
    pub fn is_deauthorization(&self) -> bool {
        self.object_type == ObjectType::Athlete && self.update_bool("authorized") == Some(false)
    }
}

fn map_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Map<String, Value>, D::Error> {
    Ok(Option::<Map<String, Value>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Epoch seconds <-> `DateTime<Utc>` (integers, or floats with a fraction).
mod epoch_seconds {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(time.timestamp())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        struct Seconds;
        impl Visitor<'_> for Seconds {
            type Value = DateTime<Utc>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a time in seconds since the epoch")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                DateTime::from_timestamp(v, 0)
                    .ok_or_else(|| E::custom(format!("{v} is out of range")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                let v = i64::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))?;
                self.visit_i64(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if !v.is_finite() {
                    return Err(E::custom("not a finite time"));
                }
                let millis = (v * 1000.0).round();
                if !(i64::MIN as f64..i64::MAX as f64).contains(&millis) {
                    return Err(E::custom(format!("{v} is out of range")));
                }
                DateTime::from_timestamp_millis(millis as i64)
                    .ok_or_else(|| E::custom(format!("{v} is out of range")))
            }
        }
        deserializer.deserialize_any(Seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_plain_and_encoded_secrets() {
        let body = Bytes::from_static(b"{\"message\":\"bad s3cr+t and s3cr%2Bt\"}");
        let out = scrub(body, &["s3cr+t", ""]);
        assert_eq!(
            &out[..],
            b"{\"message\":\"bad [redacted] and [redacted]\"}".as_slice()
        );
        let untouched = Bytes::from_static(b"{}");
        assert_eq!(scrub(untouched.clone(), &["x1"]), untouched);
    }
}
