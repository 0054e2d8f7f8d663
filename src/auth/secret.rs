//! Secrets (tokens, client secret, codes) that never print, and client credentials.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use subtle::ConstantTimeEq;

/// A secret string (access or refresh token, client secret, authorization code).
///
/// `Debug` and `Display` print `Secret(***)`; read the value with [`Secret::expose`].
/// Equality is constant-time. Serde reads and writes the plain value (token stores need
/// it), so treat serialized output as secret.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `true` when the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<&String> for Secret {
    fn from(value: &String) -> Self {
        Self(value.clone())
    }
}

impl From<&Secret> for Secret {
    fn from(value: &Secret) -> Self {
        value.clone()
    }
}

/// An application's client id and secret (from <https://www.strava.com/settings/api>).
///
/// `Debug` shows the id and `Secret(***)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The application's numeric client id (public: it appears in authorization URLs).
    pub client_id: u64,
    /// The application's client secret.
    pub client_secret: Secret,
}

impl ClientCredentials {
    /// Credentials from an id and a secret.
    pub fn new(client_id: u64, client_secret: impl Into<Secret>) -> Self {
        Self {
            client_id,
            client_secret: client_secret.into(),
        }
    }

    /// Reads `STRAVA_CLIENT_ID` and `STRAVA_CLIENT_SECRET` from the environment.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the variable that is missing, empty or (for the
    /// id) not a number. Values are never included in the message.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let id = lookup("STRAVA_CLIENT_ID")
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::invalid_input("STRAVA_CLIENT_ID is not set"))?;
        let client_id = id.trim().parse::<u64>().map_err(|_| {
            Error::invalid_input(
                "STRAVA_CLIENT_ID is not a number (expected the numeric client id)",
            )
        })?;
        let secret = lookup("STRAVA_CLIENT_SECRET")
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::invalid_input("STRAVA_CLIENT_SECRET is not set"))?;
        Ok(Self::new(client_id, secret.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_lookup() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let creds = ClientCredentials::from_lookup(env(&[
            ("STRAVA_CLIENT_ID", "1234"),
            ("STRAVA_CLIENT_SECRET", "s3cr3t-value-xyz"),
        ]))
        .unwrap();
        assert_eq!(creds.client_id, 1234);
        assert_eq!(creds.client_secret.expose(), "s3cr3t-value-xyz");

        let err = ClientCredentials::from_lookup(env(&[("STRAVA_CLIENT_ID", "1234")])).unwrap_err();
        assert!(err.is_invalid_input());
        assert!(err.message().contains("STRAVA_CLIENT_SECRET"));

        let err = ClientCredentials::from_lookup(env(&[
            ("STRAVA_CLIENT_ID", "abc-secretish"),
            ("STRAVA_CLIENT_SECRET", "s3cr3t-value-xyz"),
        ]))
        .unwrap_err();
        assert!(err.message().contains("STRAVA_CLIENT_ID"));
        assert!(!format!("{err:?}").contains("abc-secretish"));
        assert!(!format!("{err:?}").contains("s3cr3t-value-xyz"));
    }
}
