//! What every generated operation's `send()` runs: the request progenitor built, through
//! the pipeline, and the answer decoded into the operation's type (or the caller's own).
//! Kept apart from the generated code so the generated layer stays thin.

use bytes::Bytes;
use futures::Stream;
use serde::de::DeserializeOwned;

use crate::Client;
use crate::error::{Error, Result};
use crate::generated::types::Fault;
use crate::paging::{DEFAULT_PER_PAGE, paged as paged_stream};
use crate::pipeline::Call;

/// The request an operation's builder made, or why it could not make one.
pub(crate) type BuiltRequest =
    std::result::Result<reqwest::Request, progenitor_client::Error<Fault>>;

/// A builder that could not make its request (a missing or unconvertible parameter).
fn build_error(operation: &str, err: progenitor_client::Error<Fault>) -> Error {
    let message = match err {
        progenitor_client::Error::InvalidRequest(message) => message,
        other => other.to_string(),
    };
    Error::invalid_input(message)
        .with_operation(operation.to_owned())
        .local()
}

/// Refuses a request whose path has an empty segment where the template has a
/// parameter (`/gear/{id}` with an empty id would ask for `/gear/`, another resource).
fn check_path(operation: &str, template: &str, request: &reqwest::Request) -> Result<()> {
    let template: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let segments: Vec<&str> = request.url().path().split('/').collect();
    let rendered = &segments[segments.len().saturating_sub(template.len())..];
    for (pattern, value) in template.iter().zip(rendered) {
        if pattern.starts_with('{') && value.is_empty() {
            return Err(
                Error::invalid_input(format!("the path parameter {pattern} is empty"))
                    .with_operation(operation.to_owned())
                    .local(),
            );
        }
    }
    Ok(())
}

/// Sends an operation's request through the client's pipeline.
pub(crate) async fn send(
    client: &Client,
    operation: &'static str,
    path: &'static str,
    request: BuiltRequest,
) -> Result<reqwest::Response> {
    let request = request.map_err(|e| build_error(operation, e))?;
    check_path(operation, path, &request)?;
    client
        .pipeline()
        .execute(request, Call::api(operation))
        .await
}

/// Sends and decodes the JSON answer as `T`.
pub(crate) async fn send_json<T: DeserializeOwned>(
    client: &Client,
    operation: &'static str,
    path: &'static str,
    request: BuiltRequest,
) -> Result<T> {
    let response = send(client, operation, path, request).await?;
    let body = client.pipeline().read_body(operation, response).await?;
    decode(operation, &body)
}

/// Sends and returns the answer's bytes (exports).
pub(crate) async fn send_bytes(
    client: &Client,
    operation: &'static str,
    path: &'static str,
    request: BuiltRequest,
) -> Result<Bytes> {
    let response = send(client, operation, path, request).await?;
    client.pipeline().read_body(operation, response).await
}

/// Decodes `body` as `T`; on failure, a decode error with the serde path.
pub(crate) fn decode<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Result<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    crate::decode_json(body).map_err(|_| decode_error::<T>(operation, body))
}

/// A decode error with the serde path, found by decoding again with path tracking (only
/// on the failure path, so successful calls pay nothing for it).
pub(crate) fn decode_error<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Error {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => Error::decode(operation, ".", "body could not be read", body),
        Err(e) => Error::decode(
            operation,
            &e.path().to_string(),
            &e.inner().to_string(),
            body,
        ),
    }
}

/// Page-numbered paging for a generated list operation: `fetch(page, per_page)` sends
/// one page's request.
pub(crate) fn paged<'a, U, F, Fut>(
    per_page: Option<u32>,
    limit: Option<usize>,
    mut fetch: F,
) -> impl Stream<Item = Result<U>> + Send + 'a
where
    U: Send + 'a,
    F: FnMut(i64, i64) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Vec<U>>> + Send + 'a,
{
    paged_stream(
        per_page.unwrap_or(DEFAULT_PER_PAGE),
        limit,
        move |page, per_page| fetch(i64::from(page), i64::from(per_page)),
    )
}
