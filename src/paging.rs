//! Long lists as async streams.
//!
//! Strava pages lists two ways: by page number (`page`, `per_page`, at most 200 items a
//! page) and, for comments, by cursor (`page_size`, `after_cursor` = the last item's
//! `cursor`). The streams here fetch one page at a time as the consumer pulls, so memory
//! stays bounded however long the list (an athlete with 20,000 activities costs one page of
//! memory). A list ends on a short or empty page, or when `limit` items have been yielded. An error is yielded as an item and
//! ends the stream; nothing is swallowed.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! # async fn run(client: stravalib::Client) -> stravalib::Result<()> {
//! let mut activities = std::pin::pin!(client.get_activities().limit(500).into_stream());
//! while let Some(activity) = activities.try_next().await? {
//!     println!("{:?}", activity.name);
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::future::Future;

use futures::Stream;
use futures::stream;

use crate::error::Result;

/// The page size the auto-paging streams ask for by default: Strava's maximum.
pub const DEFAULT_PER_PAGE: u32 = 200;

/// The largest page Strava serves.
pub const MAX_PER_PAGE: u32 = 200;

/// Page-numbered paging: `fetch(page, per_page)` returns one page. Pages start at 1.
pub(crate) fn paged<T, F, Fut>(
    per_page: u32,
    limit: Option<usize>,
    mut fetch: F,
) -> impl Stream<Item = Result<T>> + Send
where
    T: Send,
    F: FnMut(u32, u32) -> Fut + Send,
    Fut: Future<Output = Result<Vec<T>>> + Send,
{
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    pages(
        1u32,
        limit,
        move |page| fetch(page, per_page),
        move |page, items: &[T]| {
            // A short page is the last one.
            (items.len() >= per_page as usize).then(|| page.saturating_add(1))
        },
    )
}

/// Cursor paging: `fetch(after_cursor, page_size)` returns one page, and `cursor_of` reads
/// the cursor of an item (the last item's cursor fetches the next page).
pub(crate) fn cursor_paged<T, F, Fut, C>(
    page_size: u32,
    limit: Option<usize>,
    mut fetch: F,
    cursor_of: C,
) -> impl Stream<Item = Result<T>> + Send
where
    T: Send,
    F: FnMut(Option<String>, u32) -> Fut + Send,
    Fut: Future<Output = Result<Vec<T>>> + Send,
    C: Fn(&T) -> Option<String> + Send,
{
    let page_size = page_size.clamp(1, MAX_PER_PAGE);
    pages(
        None,
        limit,
        move |cursor| fetch(cursor, page_size),
        move |_, items: &[T]| {
            // A short page, or no cursor to continue from: this was the last page.
            if items.len() < page_size as usize {
                return None;
            }
            items.last().and_then(&cursor_of).map(Some)
        },
    )
}

/// The one paging loop: fetch the page at `key`, yield its items one by one, and ask
/// `next` for the following key (`None` ends the list). Only one page is held at a time.
fn pages<T, K, F, Fut, N>(
    first: K,
    limit: Option<usize>,
    fetch: F,
    next: N,
) -> impl Stream<Item = Result<T>> + Send
where
    T: Send,
    K: Clone + Send,
    F: FnMut(K) -> Fut + Send,
    Fut: Future<Output = Result<Vec<T>>> + Send,
    N: FnMut(&K, &[T]) -> Option<K> + Send,
{
    let state = Pager {
        fetch,
        next,
        key: (limit != Some(0)).then_some(first),
        remaining: limit,
        buffer: VecDeque::new(),
    };
    stream::unfold(state, |mut state| async move {
        loop {
            if state.remaining == Some(0) {
                return None;
            }
            if let Some(item) = state.buffer.pop_front() {
                if let Some(left) = state.remaining.as_mut() {
                    *left -= 1;
                }
                return Some((Ok(item), state));
            }
            let key = state.key.take()?;
            match (state.fetch)(key.clone()).await {
                Ok(items) => {
                    state.key = (state.next)(&key, &items);
                    // The buffer is empty here: take the page's allocation as is.
                    state.buffer = VecDeque::from(items);
                }
                Err(e) => {
                    // The error ends the list: `key` stays taken, so nothing follows.
                    return Some((Err(e), state));
                }
            }
        }
    })
}

struct Pager<T, K, F, N> {
    fetch: F,
    next: N,
    /// The page to fetch when the buffer runs dry; `None` once the list has ended.
    key: Option<K>,
    remaining: Option<usize>,
    buffer: VecDeque<T>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use futures::{StreamExt, TryStreamExt};

    use super::*;
    use crate::error::{Error, ErrorKind};

    fn pages_of(total: u32) -> impl FnMut(u32, u32) -> futures::future::Ready<Result<Vec<u32>>> {
        move |page, per_page| {
            let start = (page - 1) * per_page;
            let end = (start + per_page).min(total);
            futures::future::ready(Ok((start..end.max(start)).collect()))
        }
    }

    #[tokio::test]
    async fn pages_until_a_short_page() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let mut fetch = pages_of(450);
        let items: Vec<u32> = paged(200, None, move |p, n| {
            counter.fetch_add(1, Ordering::SeqCst);
            fetch(p, n)
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, (0..450).collect::<Vec<_>>());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "200 + 200 + 50, no extra call"
        );
    }

    #[tokio::test]
    async fn an_exact_multiple_needs_one_empty_page() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let mut fetch = pages_of(400);
        let items: Vec<u32> = paged(200, None, move |p, n| {
            counter.fetch_add(1, Ordering::SeqCst);
            fetch(p, n)
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items.len(), 400);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn limit_stops_early_without_fetching_more() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let mut fetch = pages_of(10_000);
        let items: Vec<u32> = paged(30, Some(45), move |p, n| {
            counter.fetch_add(1, Ordering::SeqCst);
            fetch(p, n)
        })
        .try_collect()
        .await
        .unwrap();
        assert_eq!(items, (0..45).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let none: Vec<u32> = paged(30, Some(0), pages_of(10))
            .try_collect()
            .await
            .unwrap();
        assert!(none.is_empty());
    }

    #[tokio::test]
    async fn an_error_is_yielded_and_ends_the_stream() {
        let mut inner = pages_of(10_000);
        let stream = paged(10, None, move |page, n| {
            let result = if page == 3 {
                Err(Error::new(ErrorKind::ServerFault, "boom"))
            } else {
                inner(page, n).into_inner()
            };
            futures::future::ready(result)
        });
        let all: Vec<Result<u32>> = stream.collect().await;
        assert_eq!(all.len(), 21, "two pages, then the error");
        assert!(all[..20].iter().all(|r| r.is_ok()));
        assert!(all[20].as_ref().unwrap_err().is_server_error());
    }

    #[tokio::test]
    async fn cursor_paging_follows_the_last_cursor() {
        let data: Vec<(u32, String)> = (0..5).map(|i| (i, format!("c{i}"))).collect();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let items: Vec<(u32, String)> = cursor_paged(
            2,
            None,
            move |cursor: Option<String>, size| {
                log.lock().unwrap().push(cursor.clone());
                let start = match cursor {
                    None => 0,
                    Some(c) => c[1..].parse::<usize>().unwrap() + 1,
                };
                let page: Vec<_> = data
                    .iter()
                    .skip(start)
                    .take(size as usize)
                    .cloned()
                    .collect();
                futures::future::ready(Ok(page))
            },
            |item: &(u32, String)| Some(item.1.clone()),
        )
        .try_collect()
        .await
        .unwrap();
        assert_eq!(
            items.iter().map(|i| i.0).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        // Pages [0, 1], [2, 3], [4]: the short third page is the last.
        assert_eq!(
            *seen.lock().unwrap(),
            [None, Some("c1".to_owned()), Some("c3".to_owned())]
        );
    }
}
