//! Where Strava's OAuth endpoints are: the base URL and the paths under it.

use std::sync::Arc;

use url::Url;

use super::scope::bounded;
use crate::error::{Error, Result};

/// Strava's OAuth base URL; endpoints are `{base}/authorize`, `{base}/token`,
/// `{base}/revoke` and `{base}/deauthorize`.
pub const DEFAULT_OAUTH_BASE: &str = "https://www.strava.com/oauth";

/// The OAuth endpoints under one base.
#[derive(Debug)]
pub(crate) struct Endpoints {
    pub(super) base: Url,
    pub(super) token: Url,
    pub(super) revoke: Url,
    pub(super) deauthorize: Url,
}

impl Endpoints {
    /// Strava's own OAuth endpoints.
    pub(crate) fn default_strava() -> Arc<Self> {
        let base = Url::parse(DEFAULT_OAUTH_BASE).expect("the default OAuth base is a valid URL");
        Arc::new(Self::new(base).expect("the default OAuth endpoints are valid URLs"))
    }

    pub(crate) fn new(base: Url) -> Result<Self> {
        Ok(Self {
            token: endpoint(&base, "token")?,
            revoke: endpoint(&base, "revoke")?,
            deauthorize: endpoint(&base, "deauthorize")?,
            base,
        })
    }
}

pub(crate) fn parse_oauth_base(base: &str) -> Result<Url> {
    let shown = bounded(base, 200);
    let url = Url::parse(base).map_err(|e| {
        Error::invalid_input(format!("OAuth base `{shown}` is not an absolute URL ({e})")).local()
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(format!(
            "OAuth base `{shown}` must be an http(s) URL with a host"
        ))
        .local());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "OAuth base `{shown}` must not have a query or fragment"
        ))
        .local());
    }
    Ok(url)
}

/// `{base}/{name}`, keeping every segment of the base.
pub(super) fn endpoint(base: &Url, name: &str) -> Result<Url> {
    let text = format!("{}/{name}", base.as_str().trim_end_matches('/'));
    Url::parse(&text)
        .map_err(|e| Error::invalid_input(format!("bad OAuth endpoint `{text}`: {e}")).local())
}
