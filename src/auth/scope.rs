//! Scopes, the approval prompt and token type hints, as Strava spells them on the wire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// Scopes requested when none are given: `read,activity:read`.
pub const DEFAULT_SCOPES: &[Scope] = &[Scope::Read, Scope::ActivityRead];

/// A permission an application asks the athlete for, as Strava spells it on the wire.
///
/// `Display`, `FromStr` and serde all use the wire string (`activity:read_all`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scope {
    /// `read`: public segments, routes, profile data, posts, events, club feeds, leaderboards.
    Read,
    /// `read_all`: private routes, segments and events.
    ReadAll,
    /// `profile:read_all`: all profile information, even if private.
    ProfileReadAll,
    /// `profile:write`: update the athlete's weight and FTP, star or unstar segments.
    ProfileWrite,
    /// `activity:read`: activities visible to everyone or to followers.
    ActivityRead,
    /// `activity:read_all`: like `activity:read`, plus "Only You" activities and privacy zone data.
    ActivityReadAll,
    /// `activity:write`: create manual activities and uploads, edit activities.
    ActivityWrite,
}

impl Scope {
    /// Every scope, in Strava's documentation order.
    pub const ALL: &'static [Scope] = &[
        Scope::Read,
        Scope::ReadAll,
        Scope::ProfileReadAll,
        Scope::ProfileWrite,
        Scope::ActivityRead,
        Scope::ActivityReadAll,
        Scope::ActivityWrite,
    ];

    /// The wire string, e.g. `"activity:read_all"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::ReadAll => "read_all",
            Scope::ProfileReadAll => "profile:read_all",
            Scope::ProfileWrite => "profile:write",
            Scope::ActivityRead => "activity:read",
            Scope::ActivityReadAll => "activity:read_all",
            Scope::ActivityWrite => "activity:write",
        }
    }

    /// Parses a comma-separated list such as Strava's `scope=read,activity:read` callback
    /// parameter. Whitespace around items and empty items are ignored; duplicates are
    /// dropped (first occurrence kept).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the first unknown scope.
    ///
    /// ```
    /// use stravalib::auth::Scope;
    /// let scopes = Scope::parse_list("read, activity:read")?;
    /// assert_eq!(scopes, [Scope::Read, Scope::ActivityRead]);
    /// # Ok::<(), stravalib::Error>(())
    /// ```
    pub fn parse_list(list: &str) -> Result<Vec<Scope>> {
        let mut scopes = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let scope: Scope = item.parse()?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok(scopes)
    }

    /// Joins scopes with commas, the way Strava expects them: `read,activity:read`.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                Error::invalid_input(format!("unknown Strava scope `{}`", bounded(s, 64)))
            })
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether Strava shows the authorization page to an athlete who already authorized the app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ApprovalPrompt {
    /// `auto`: skip the page when the athlete already authorized these scopes (default).
    #[default]
    Auto,
    /// `force`: always show the page.
    Force,
}

impl ApprovalPrompt {
    /// The wire string: `"auto"` or `"force"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApprovalPrompt::Auto => "auto",
            ApprovalPrompt::Force => "force",
        }
    }
}

impl fmt::Display for ApprovalPrompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalPrompt {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(ApprovalPrompt::Auto),
            "force" => Ok(ApprovalPrompt::Force),
            other => Err(Error::invalid_input(format!(
                "unknown approval_prompt `{}` (expected `auto` or `force`)",
                bounded(other, 64)
            ))),
        }
    }
}

impl Serialize for ApprovalPrompt {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApprovalPrompt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Which kind of token is passed to [`OAuth::revoke`](crate::auth::OAuth::revoke) (`token_type_hint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenTypeHint {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
}

impl TokenTypeHint {
    /// The wire string: `"access_token"` or `"refresh_token"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
        }
    }
}

impl fmt::Display for TokenTypeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most `max` characters of `text`, for echoing user input in messages.
pub(super) fn bounded(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}
