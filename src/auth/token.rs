//! The token set Strava returns, with its expiry, scopes and athlete summary.

use serde::{Deserialize, Serialize};

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Scope, Secret};

/// The athlete summary Strava returns with a code exchange.
///
/// Known fields are typed; everything else is kept in [`extra`](Self::extra), so a store
/// round trip loses nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AthleteSummary {
    /// The athlete's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The athlete's username, if they chose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// URL of the 124x124 profile picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// URL of the 62x62 profile picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_medium: Option<String>,
    /// Every other field Strava sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The tokens of one authorized athlete.
///
/// `Debug` never shows the tokens (they are [`Secret`]s). Serde writes them in plain text,
/// for [`TokenStore`](crate::auth::TokenStore)s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenSet {
    /// The short-lived (six hours) token sent as `Authorization: Bearer`.
    pub access_token: Secret,
    /// The token that gets a new access token; it may change on every refresh.
    pub refresh_token: Secret,
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: i64,
    /// The token type, `Bearer`.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// The scopes granted, when known (Strava reports them on the redirect, not in the
    /// token response: see [`AuthorizationCallback::scopes`](crate::auth::AuthorizationCallback::scopes)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
    /// The athlete, as returned by a code exchange (refreshes do not return it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athlete: Option<AthleteSummary>,
}

pub(super) fn bearer() -> String {
    "Bearer".to_owned()
}

impl TokenSet {
    /// A `Bearer` token set with no scopes or athlete known.
    pub fn new(
        access_token: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
        expires_at: i64,
    ) -> Self {
        Self {
            access_token: access_token.into(),
            refresh_token: refresh_token.into(),
            expires_at,
            token_type: bearer(),
            scopes: None,
            athlete: None,
        }
    }

    /// Sets the granted scopes.
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.scopes = Some(scopes.into_iter().collect());
        self
    }

    /// Sets the athlete summary.
    pub fn with_athlete(mut self, athlete: AthleteSummary) -> Self {
        self.athlete = Some(athlete);
        self
    }

    /// [`expires_at`](Self::expires_at) as a time. An out-of-range value reads as the
    /// earliest representable time (that is, expired).
    pub fn expires_at_time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.expires_at, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// `true` when the access token expires within `margin` of `now` (or already has).
    ///
    /// ```
    /// use std::time::Duration;
    /// use chrono::{TimeZone, Utc};
    /// use stravalib::auth::TokenSet;
    ///
    /// let tokens = TokenSet::new("a", "r", 1_700_003_600);
    /// let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    /// assert!(!tokens.is_expired_within(Duration::from_secs(60), now));
    /// assert!(tokens.is_expired_within(Duration::from_secs(3600), now));
    /// ```
    pub fn is_expired_within(&self, margin: Duration, now: DateTime<Utc>) -> bool {
        let margin = i64::try_from(margin.as_secs()).unwrap_or(i64::MAX);
        now.timestamp().saturating_add(margin) >= self.expires_at
    }

    /// `true` when the access token has expired (no margin, current time).
    pub fn is_expired(&self) -> bool {
        self.is_expired_within(Duration::ZERO, Utc::now())
    }

    /// `Some(true)` when `scope` is known to be granted, `Some(false)` when known not to
    /// be, `None` when the granted scopes are unknown.
    pub fn has_scope(&self, scope: Scope) -> Option<bool> {
        self.scopes.as_ref().map(|s| s.contains(&scope))
    }
}
