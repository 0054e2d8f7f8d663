//! The CSRF `state` that ties a redirect back to the session that started it.

use std::fmt;

use crate::error::{Error, Result};
use base64::Engine as _;
use subtle::ConstantTimeEq;

/// A random OAuth `state` value that ties a redirect back to the session that started it.
///
/// Generate one per sign-in, keep it in the user's session, put it in the authorization
/// URL, and [`verify`](Self::verify) the `state` Strava sends back. `Debug` hides the value.
///
/// ```
/// use stravalib::auth::CsrfState;
/// let state = CsrfState::generate();
/// assert!(state.verify(state.as_str()).is_ok());
/// assert!(state.verify("forged").unwrap_err().is_invalid_input());
/// ```
#[derive(Clone)]
pub struct CsrfState(String);

impl CsrfState {
    /// 256 bits from the operating system's CSPRNG, URL-safe base64 without padding
    /// (43 characters).
    ///
    /// # Panics
    /// If the operating system cannot give random bytes.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("random bytes from the operating system");
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Rebuilds a state kept elsewhere (a session store, a cookie).
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value to put in the authorization URL and the session.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks the `state` received on the redirect, in constant time.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when it differs (or is empty): the redirect did not
    /// come from the sign-in this state belongs to. Neither value is in the message.
    pub fn verify(&self, received: &str) -> Result<()> {
        let same: bool = self.0.as_bytes().ct_eq(received.as_bytes()).into();
        if same && !self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "OAuth state mismatch: the `state` on the redirect is not the one this sign-in \
                 sent (possible cross-site request forgery)",
            )
            .local())
        }
    }
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfState(***)")
    }
}
