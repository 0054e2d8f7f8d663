//! The authorization URL and the redirect callback Strava sends back.

use crate::error::{Error, Result};
use url::Url;

use super::endpoints::{DEFAULT_OAUTH_BASE, endpoint, parse_oauth_base};
use super::scope::bounded;
use super::{ApprovalPrompt, CsrfState, DEFAULT_SCOPES, Scope, Secret};

/// Builds the URL that sends an athlete to Strava's authorization page.
///
/// ```
/// use stravalib::auth::{ApprovalPrompt, AuthorizationRequest, Scope};
///
/// let url = AuthorizationRequest::new(1234, "http://localhost:8080/cb")
///     .scopes([Scope::Read, Scope::ActivityReadAll])
///     .approval_prompt(ApprovalPrompt::Force)
///     .state("xyz")
///     .url()?;
/// assert_eq!(
///     url.as_str(),
///     "https://www.strava.com/oauth/authorize?client_id=1234\
///      &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&response_type=code\
///      &approval_prompt=force&scope=read%2Cactivity%3Aread_all&state=xyz"
/// );
/// # Ok::<(), stravalib::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    client_id: u64,
    redirect_uri: String,
    scopes: Vec<Scope>,
    approval_prompt: ApprovalPrompt,
    state: Option<String>,
    oauth_base: String,
}

impl AuthorizationRequest {
    /// A request with the default scopes ([`DEFAULT_SCOPES`]), `approval_prompt=auto`, no
    /// state, and Strava's OAuth base.
    pub fn new(client_id: u64, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id,
            redirect_uri: redirect_uri.into(),
            scopes: DEFAULT_SCOPES.to_vec(),
            approval_prompt: ApprovalPrompt::Auto,
            state: None,
            oauth_base: DEFAULT_OAUTH_BASE.to_owned(),
        }
    }

    /// The scopes to request, sent comma-joined in this order (duplicates dropped). An
    /// empty list means [`DEFAULT_SCOPES`].
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut list = Vec::new();
        for scope in scopes {
            if !list.contains(&scope) {
                list.push(scope);
            }
        }
        self.scopes = if list.is_empty() {
            DEFAULT_SCOPES.to_vec()
        } else {
            list
        };
        self
    }

    /// Whether to show the authorization page again to an athlete who already approved.
    pub fn approval_prompt(mut self, prompt: ApprovalPrompt) -> Self {
        self.approval_prompt = prompt;
        self
    }

    /// The `state` value returned on the redirect; use [`CsrfState::generate`].
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Overrides the OAuth base URL (default [`DEFAULT_OAUTH_BASE`](crate::auth::DEFAULT_OAUTH_BASE)); the page is
    /// `{base}/authorize`.
    pub fn oauth_base(mut self, base: impl Into<String>) -> Self {
        self.oauth_base = base.into();
        self
    }

    /// The authorization URL.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the redirect URI is not an absolute `http` or
    /// `https` URL (or has a fragment), or the OAuth base is not a usable URL.
    pub fn url(&self) -> Result<Url> {
        validate_redirect_uri(&self.redirect_uri)?;
        let base = parse_oauth_base(&self.oauth_base)?;
        let mut url = endpoint(&base, "authorize")?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.client_id.to_string())
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("approval_prompt", self.approval_prompt.as_str())
                .append_pair("scope", &Scope::join(&self.scopes));
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
        }
        Ok(url)
    }
}

/// The URL of Strava's authorization page (`https://www.strava.com/oauth/authorize`).
///
/// `scopes` empty means [`DEFAULT_SCOPES`] (`read,activity:read`); `state` is added when
/// given. For another OAuth base, use [`AuthorizationRequest::oauth_base`].
///
/// # Errors
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `redirect_uri` is not an absolute `http`/`https` URL.
///
/// ```
/// use stravalib::auth::{authorization_url, ApprovalPrompt, CsrfState, Scope};
///
/// let url = authorization_url(1234, "http://127.0.0.1:5000/authorization",
///     ApprovalPrompt::Auto, &[], None)?;
/// assert_eq!(
///     url.as_str(),
///     "https://www.strava.com/oauth/authorize?client_id=1234\
///      &redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fauthorization\
///      &response_type=code&approval_prompt=auto&scope=read%2Cactivity%3Aread"
/// );
///
/// // With scopes and a CSRF state kept in the session:
/// let state = CsrfState::generate();
/// let url = authorization_url(1234, "https://example.com/cb", ApprovalPrompt::Force,
///     &[Scope::ActivityWrite], Some(state.as_str()))?;
/// assert!(url.query().unwrap().ends_with(&format!("scope=activity%3Awrite&state={}", state.as_str())));
///
/// // Not an absolute http(s) URL:
/// let err = authorization_url(1234, "/cb", ApprovalPrompt::Auto, &[], None).unwrap_err();
/// assert!(err.is_invalid_input());
/// # Ok::<(), stravalib::Error>(())
/// ```
pub fn authorization_url(
    client_id: u64,
    redirect_uri: &str,
    approval_prompt: ApprovalPrompt,
    scopes: &[Scope],
    state: Option<&str>,
) -> Result<Url> {
    authorization_url_for(
        AuthorizationRequest::new(client_id, redirect_uri),
        approval_prompt,
        scopes,
        state,
    )
}

/// [`authorization_url`] for a request already aimed at an OAuth base.
pub(crate) fn authorization_url_for(
    request: AuthorizationRequest,
    approval_prompt: ApprovalPrompt,
    scopes: &[Scope],
    state: Option<&str>,
) -> Result<Url> {
    let mut request = request
        .approval_prompt(approval_prompt)
        .scopes(scopes.iter().copied());
    if let Some(state) = state {
        request = request.state(state);
    }
    request.url()
}

fn validate_redirect_uri(redirect_uri: &str) -> Result<()> {
    let shown = bounded(redirect_uri, 200);
    let url = Url::parse(redirect_uri).map_err(|e| {
        Error::invalid_input(format!(
            "redirect_uri `{shown}` is not an absolute http(s) URL ({e})"
        ))
        .local()
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid_input(format!(
            "redirect_uri `{shown}` must use http or https, not `{}`",
            url.scheme()
        ))
        .local());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(format!("redirect_uri `{shown}` has no host")).local());
    }
    if url.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "redirect_uri `{shown}` must not contain a fragment (`#...`)"
        ))
        .local());
    }
    Ok(())
}

/// What Strava sends back to the redirect URI: `code`, `scope` and `state`.
///
/// ```
/// use stravalib::auth::{AuthorizationCallback, CsrfState, Scope};
///
/// let state = CsrfState::from_stored("s3");
/// let callback = AuthorizationCallback::from_query("state=s3&code=c0de&scope=read,activity:read")?;
/// callback.verify_state(&state)?;
/// assert_eq!(callback.code.expose(), "c0de");
/// assert_eq!(callback.scopes, Some(vec![Scope::Read, Scope::ActivityRead]));
/// # Ok::<(), stravalib::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthorizationCallback {
    /// The authorization code to pass to [`OAuth::exchange_code_for_token`](crate::auth::OAuth::exchange_code_for_token).
    pub code: Secret,
    /// The `state` value, if any.
    pub state: Option<String>,
    /// The scopes the athlete granted (they may uncheck some), when Strava sent them.
    /// Scopes this crate does not know are skipped.
    pub scopes: Option<Vec<Scope>>,
}

impl AuthorizationCallback {
    /// Parses the redirect's query string (without the leading `?`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when Strava sent `error` (e.g. `access_denied`: the
    /// athlete declined) or no `code`.
    pub fn from_query(query: &str) -> Result<Self> {
        let mut code = None;
        let mut state = None;
        let mut scope = None;
        let mut error = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "code" => code = Some(Secret::new(value.into_owned())),
                "state" => state = Some(value.into_owned()),
                "scope" => scope = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                _ => {}
            }
        }
        if let Some(error) = error {
            return Err(Error::invalid_input(format!(
                "Strava did not authorize the application: error `{}`{}",
                bounded(&error, 64),
                if error == "access_denied" {
                    " (the athlete declined)"
                } else {
                    ""
                }
            ))
            .local());
        }
        let code = code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::invalid_input("the redirect carries no `code`").local())?;
        let scopes = scope.map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .filter_map(|s| match s.parse::<Scope>() {
                    Ok(scope) => Some(scope),
                    Err(_) => {
                        tracing::debug!(scope = %bounded(s, 64), "ignoring unknown scope on redirect");
                        None
                    }
                })
                .fold(Vec::new(), |mut acc, s| {
                    if !acc.contains(&s) {
                        acc.push(s);
                    }
                    acc
                })
        });
        Ok(Self {
            code,
            state,
            scopes,
        })
    }

    /// Parses the query of the full redirect URL.
    ///
    /// # Errors
    /// As [`from_query`](Self::from_query).
    pub fn from_url(url: &Url) -> Result<Self> {
        Self::from_query(url.query().unwrap_or(""))
    }

    /// Checks the returned `state` against the one kept in the session.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when it is missing or differs.
    pub fn verify_state(&self, expected: &CsrfState) -> Result<()> {
        expected.verify(self.state.as_deref().unwrap_or(""))
    }
}
