//! Strava's API at the HTTP level, with the surface of stravalib's `protocol.ApiV3`: a
//! server and an API base, [`ApiV3::resolve_url`], and `get`/`post`/`put`/`delete` by
//! URL returning decoded JSON, all through the one [pipeline](crate::pipeline) (token,
//! rate limits, retries, typed errors).
//!
//! The typed operations ([`crate::operations`]) are the way to call what the OpenAPI
//! document describes; this is for anything else. The access token only ever goes to the
//! API and OAuth hosts (and hosts allowed with
//! [`ClientBuilder::allow_host`](crate::ClientBuilder::allow_host)): a URL for any
//! other host is refused before anything is sent.

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result};
use crate::pipeline::{Call, Pipeline};

/// Strava's API base URL today.
pub const BASE_URL: &str = "https://www.strava.com/api/v3";

/// The base URL Strava announced for 2027-01-04 onward (no `/api/v3` prefix). The
/// current one has no announced shutdown date.
pub const UPCOMING_BASE_URL: &str = "https://api-v3.strava.com";

/// Where Strava's OAuth endpoints live (unchanged by the new API base URL).
pub const OAUTH_BASE_URL: &str = "https://www.strava.com/oauth";

/// Strava's API server by default.
pub const DEFAULT_SERVER: &str = "www.strava.com";

/// The API's path on [`DEFAULT_SERVER`].
pub const DEFAULT_API_BASE: &str = "/api/v3";

/// Requests by URL through the pipeline. Cheap to clone; clones share everything. Get one
/// from [`Client::api`](crate::Client::api).
///
/// ```no_run
/// # async fn run(client: stravalib::Client) -> stravalib::Result<()> {
/// let api = client.api();
/// assert_eq!(api.server(), "www.strava.com");
/// assert_eq!(api.api_base(), "/api/v3");
/// let athlete = api.get("/athlete", &()).await?;
/// println!("{}", athlete["firstname"]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ApiV3 {
    pipeline: Pipeline,
    base: Url,
    /// `host:port` the token may go to.
    allowed: Arc<[String]>,
}

impl ApiV3 {
    pub(crate) fn new(pipeline: Pipeline, base: Url, allowed: Vec<String>) -> Self {
        Self {
            pipeline,
            base,
            allowed: allowed.into(),
        }
    }

    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The base URL relative URLs resolve against (`https://www.strava.com/api/v3`).
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The API server (`www.strava.com`, with `:port` when not the scheme's default).
    pub fn server(&self) -> String {
        match self.base.port() {
            Some(port) => format!("{}:{port}", self.base.host_str().unwrap_or_default()),
            None => self.base.host_str().unwrap_or_default().to_owned(),
        }
    }

    /// The API's path on the server (`/api/v3`; empty for [`UPCOMING_BASE_URL`]).
    pub fn api_base(&self) -> &str {
        self.base.path().trim_end_matches('/')
    }

    /// Resolves `url` as stravalib does: a path (`/athlete`, `athlete`) is joined to the
    /// base URL; an absolute `http(s)` URL is kept, if its host may receive the token.
    ///
    /// ```
    /// let api = stravalib::Client::new().api().clone();
    /// assert_eq!(api.resolve_url("/athlete")?.as_str(), "https://www.strava.com/api/v3/athlete");
    /// let elsewhere = api.resolve_url("https://example.com/steal").unwrap_err();
    /// assert!(elsewhere.is_invalid_input());
    /// # Ok::<(), stravalib::Error>(())
    /// ```
    pub fn resolve_url(&self, url: &str) -> Result<Url> {
        if url.starts_with("http://") || url.starts_with("https://") {
            let parsed = Url::parse(url)
                .map_err(|e| Error::invalid_input(format!("invalid URL {url:?}: {e}")))?;
            self.check_host(&parsed)?;
            return Ok(parsed);
        }
        let joined = format!("{}/{}", self.base_url(), url.trim_start_matches('/'));
        Url::parse(&joined).map_err(|e| Error::invalid_input(format!("invalid path {url:?}: {e}")))
    }

    /// Refuses a URL whose host may not receive the access token.
    pub(crate) fn check_host(&self, url: &Url) -> Result<()> {
        let target = host_port(url);
        if self.allowed.iter().any(|h| host_matches(h, &target)) {
            Ok(())
        } else {
            Err(Error::invalid_input(format!(
                "{target} is not a Strava host of this client: the access token is not sent \
                 there (allow it with ClientBuilder::allow_host)"
            ))
            .local())
        }
    }

    /// Starts a request to `url` (see [`resolve_url`](Self::resolve_url)).
    pub fn request(&self, method: Method, url: &str) -> ApiRequest {
        let url = self.resolve_url(url);
        ApiRequest {
            pipeline: self.pipeline.clone(),
            builder: url.map(|u| self.pipeline.http().request(method, u)),
            operation: None,
            check_for_errors: true,
        }
    }

    /// `GET url?params`, decoded as JSON.
    pub async fn get(
        &self,
        url: &str,
        params: &(impl Serialize + ?Sized),
    ) -> Result<serde_json::Value> {
        self.request(Method::GET, url)
            .query(params)
            .send_json()
            .await
    }

    /// `POST url` with a form body, decoded as JSON.
    pub async fn post(
        &self,
        url: &str,
        params: &(impl Serialize + ?Sized),
    ) -> Result<serde_json::Value> {
        self.request(Method::POST, url)
            .form(params)
            .send_json()
            .await
    }

    /// `POST url` with `params` as query parameters and `files` as a multipart body
    /// (stravalib's `post(url, files=...)`), decoded as JSON. A streamed file gets one
    /// attempt.
    pub async fn post_files(
        &self,
        url: &str,
        params: &(impl Serialize + ?Sized),
        files: reqwest::multipart::Form,
    ) -> Result<serde_json::Value> {
        self.request(Method::POST, url)
            .query(params)
            .multipart(files)
            .send_json()
            .await
    }

    /// `PUT url` with a form body, decoded as JSON.
    pub async fn put(
        &self,
        url: &str,
        params: &(impl Serialize + ?Sized),
    ) -> Result<serde_json::Value> {
        self.request(Method::PUT, url)
            .form(params)
            .send_json()
            .await
    }

    /// `DELETE url?params`; an empty answer is `Value::Null`.
    pub async fn delete(
        &self,
        url: &str,
        params: &(impl Serialize + ?Sized),
    ) -> Result<serde_json::Value> {
        self.request(Method::DELETE, url)
            .query(params)
            .send_json()
            .await
    }
}

/// `allowed` is `host` (any port) or `host:port`.
fn host_matches(allowed: &str, target: &str) -> bool {
    if allowed.contains(':') {
        allowed.eq_ignore_ascii_case(target)
    } else {
        target
            .rsplit_once(':')
            .is_some_and(|(host, _)| host.eq_ignore_ascii_case(allowed))
    }
}

/// A request by URL on its way through the pipeline (see [`ApiV3::request`]).
#[must_use = "a request does nothing until sent"]
pub struct ApiRequest {
    pipeline: Pipeline,
    builder: Result<reqwest::RequestBuilder>,
    operation: Option<&'static str>,
    check_for_errors: bool,
}

impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("operation", &self.operation)
            .field("check_for_errors", &self.check_for_errors)
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    fn map(mut self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        self.builder = self.builder.map(f);
        self
    }

    /// Adds query parameters.
    pub fn query(self, query: &(impl Serialize + ?Sized)) -> Self {
        self.map(|b| b.query(query))
    }

    /// Sets a form (`application/x-www-form-urlencoded`) body.
    pub fn form(self, form: &(impl Serialize + ?Sized)) -> Self {
        self.map(|b| b.form(form))
    }

    /// Sets a JSON body.
    pub fn json(self, body: &(impl Serialize + ?Sized)) -> Self {
        self.map(|b| b.json(body))
    }

    /// Sets a multipart body (uploads). A streaming part makes the request non-retryable.
    pub fn multipart(self, form: reqwest::multipart::Form) -> Self {
        self.map(|b| b.multipart(form))
    }

    /// Adds a header.
    pub fn header(self, name: HeaderName, value: HeaderValue) -> Self {
        self.map(|b| b.header(name, value))
    }

    /// Names the operation in logs and errors.
    pub fn operation(mut self, name: &'static str) -> Self {
        self.operation = Some(name);
        self
    }

    /// With `false`, an error status is returned as Strava's raw answer instead of an
    /// [`Error`] (transport failures and local refusals are still errors).
    pub fn check_for_errors(mut self, check: bool) -> Self {
        self.check_for_errors = check;
        self
    }

    /// Sends the request and returns the answer.
    pub async fn send(self) -> Result<reqwest::Response> {
        let operation = self.operation.unwrap_or("request");
        let request = self
            .builder
            .map_err(|e| e.with_operation(operation))?
            .build()
            .map_err(|e| {
                Error::invalid_input(format!("cannot build the request: {e}"))
                    .with_operation(operation)
            })?;
        let call = Call::api(operation).check_for_errors(self.check_for_errors);
        self.pipeline.execute(request, call).await
    }

    /// Sends the request and reads the answer (with error checking off, any answer),
    /// its body bounded by the client's response-size limit.
    pub(crate) async fn send_read(
        self,
    ) -> Result<(
        reqwest::StatusCode,
        reqwest::header::HeaderMap,
        bytes::Bytes,
    )> {
        let operation = self.operation.unwrap_or("request");
        let pipeline = self.pipeline.clone();
        let response = self.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = pipeline.read_body(operation, response).await?;
        Ok((status, headers, body))
    }

    /// Sends the request and decodes a JSON answer (an empty body decodes as JSON
    /// `null`, for `T`s that accept it).
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        let operation = self.operation.unwrap_or("request");
        let pipeline = self.pipeline.clone();
        let response = self.send().await?;
        let body = pipeline.read_body(operation, response).await?;
        crate::call::decode(operation, &body)
    }
}

/// `host:port` of a URL (the port its scheme implies when none is written).
pub(crate) fn host_port(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}
