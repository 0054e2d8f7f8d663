//! The user-facing API on [`Client`]: one method per Strava operation, with stravalib's
//! names, typed arguments and results. Methods with options return a builder ending in
//! `send()`; lists also have `into_stream()`, which pages automatically (see
//! [`crate::paging`]).
//!
//! Each area has its module: [`athlete`], [`activities`], [`clubs`], [`gear`], [`routes`],
//! [`segments`], [`streams`]. All calls go through the generated client and so through the
//! one pipeline (tokens, rate limits, retries, errors).

pub mod activities;
pub mod athlete;
pub mod clubs;
pub mod gear;
pub mod routes;
pub mod segments;
pub mod streams;

use std::sync::Arc;

use futures::Stream;
use futures::future::BoxFuture;

use crate::Client;
use crate::error::Result;
use crate::paging::{DEFAULT_PER_PAGE, paged};

type FetchPage<T> =
    Arc<dyn Fn(Client, u32, u32) -> BoxFuture<'static, Result<Vec<T>>> + Send + Sync>;

/// A page-numbered list: one page with [`send`](ListRequest::send), or every item with
/// [`into_stream`](ListRequest::into_stream).
#[must_use = "a request does nothing until sent"]
pub struct ListRequest<T> {
    client: Client,
    fetch: FetchPage<T>,
    page: Option<u32>,
    per_page: Option<u32>,
    limit: Option<usize>,
}

impl<T> std::fmt::Debug for ListRequest<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListRequest")
            .field("page", &self.page)
            .field("per_page", &self.per_page)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> ListRequest<T> {
    pub(crate) fn new<F, Fut>(client: &Client, fetch: F) -> Self
    where
        F: Fn(Client, u32, u32) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Vec<T>>> + Send + 'static,
    {
        Self {
            client: client.clone(),
            fetch: Arc::new(move |c, page, per_page| Box::pin(fetch(c, page, per_page))),
            page: None,
            per_page: None,
            limit: None,
        }
    }

    /// The page [`send`](Self::send) fetches (from 1; default 1).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page.max(1));
        self
    }

    /// Items per page: Strava's default (30) for `send`, 200 (the maximum) for
    /// `into_stream`.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// The most items [`into_stream`](Self::into_stream) yields.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Vec<T>> {
        (self.fetch)(
            self.client,
            self.page.unwrap_or(1),
            self.per_page.unwrap_or(30),
        )
        .await
    }

    /// Every item, fetched page by page as the stream is polled.
    pub fn into_stream(self) -> impl Stream<Item = Result<T>> + Send + 'static {
        let fetch = self.fetch;
        let client = self.client;
        paged(
            self.per_page.unwrap_or(DEFAULT_PER_PAGE),
            self.limit,
            move |page, per_page| fetch(client.clone(), page, per_page),
        )
    }
}

/// A [`ListRequest`] over a generated operation that takes an `id`, `page` and
/// `per_page`: `paged_by_id!(self, id, "operationId", generated_builder_method)`.
macro_rules! paged_by_id {
    ($client:expr, $id:expr, $operation:literal, $builder:ident) => {{
        let id: crate::Id = $id;
        $crate::endpoints::ListRequest::new($client, move |client, page, per_page| async move {
            $crate::api_v3::ApiV3::call(
                $operation,
                client
                    .generated()
                    .$builder()
                    .id(id)
                    .page($crate::endpoints::wire(page))
                    .per_page($crate::endpoints::wire(per_page))
                    .send(),
            )
            .await
        })
    }};
}
pub(crate) use paged_by_id;

/// Converts a Strava page number or size for the generated builders.
pub(crate) fn wire(n: u32) -> i64 {
    i64::from(n)
}
