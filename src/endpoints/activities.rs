//! Activities: comments, paged by cursor.

use futures::Stream;

use crate::error::Result;
use crate::operations::GetCommentsByActivityId;
use crate::paging::{DEFAULT_PER_PAGE, cursor_paged};
use crate::types::Comment;

impl<'a> GetCommentsByActivityId<'a> {
    /// Every comment, page by page as the stream is polled: `page_size` comments a page
    /// (200 by default), each page after the last comment's `cursor`, at most `limit`. Strava pages this
    /// list by cursor; `page`/`per_page` are its deprecated alternative.
    ///
    /// ```no_run
    /// # async fn run(client: stravalib::Client) -> stravalib::Result<()> {
    /// use futures::TryStreamExt;
    /// let comments: Vec<_> = client.get_activity_comments(1234u64).into_stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> impl Stream<Item = Result<Comment>> + Send + 'a {
        let (client, inner) = (self.client, self.inner);
        cursor_paged(
            self.page_size.unwrap_or(DEFAULT_PER_PAGE),
            self.limit,
            move |cursor, size| {
                let mut page = inner.clone().page_size(i64::from(size));
                if let Some(cursor) = cursor {
                    page = page.after_cursor(cursor);
                }
                crate::call::send_json::<Vec<Comment>>(
                    client,
                    Self::OPERATION_ID,
                    Self::PATH,
                    page.into_request(),
                )
            },
            |comment: &Comment| comment.cursor.clone(),
        )
    }
}
