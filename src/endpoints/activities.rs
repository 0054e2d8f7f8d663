//! Activities: one, a list, create and update, laps, zones, comments and kudoers.

use chrono::{DateTime, Utc};
use futures::Stream;
use reqwest::Method;
use serde::de::DeserializeOwned;

use super::{ListRequest, paged_by_id, wire};
use crate::api_v3::ApiV3;
use crate::error::{Error, Result};
use crate::paging::{DEFAULT_PER_PAGE, cursor_paged, paged};
use crate::types::{
    ActivityZone, Comment, DetailedActivity, Lap, SportType, SummaryActivity, SummaryAthlete,
    UpdatableActivity,
};
use crate::{Client, Id};

impl Client {
    /// One activity with its full detail.
    pub fn get_activity(&self, activity_id: impl Into<Id>) -> ActivityRequest {
        ActivityRequest {
            client: self.clone(),
            id: activity_id.into(),
            include_all_efforts: None,
        }
    }

    /// The athlete's activities, newest first.
    ///
    /// ```no_run
    /// # async fn run(client: stravalib::Client) -> stravalib::Result<()> {
    /// use futures::TryStreamExt;
    /// let since = chrono::Utc::now() - chrono::Duration::days(30);
    /// let recent: Vec<_> = client.get_activities().after(since).into_stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn get_activities(&self) -> ActivitiesRequest {
        ActivitiesRequest {
            client: self.clone(),
            before: None,
            after: None,
            page: None,
            per_page: None,
            limit: None,
        }
    }

    /// Creates a manual activity (scope `activity:write`); options on the builder.
    pub fn create_activity(
        &self,
        name: impl Into<String>,
        sport_type: SportType,
        start_date_local: DateTime<Utc>,
        elapsed_seconds: i64,
    ) -> CreateActivityRequest {
        CreateActivityRequest {
            client: self.clone(),
            name: name.into(),
            sport_type,
            start_date_local,
            elapsed_seconds,
            description: None,
            distance: None,
            trainer: None,
            commute: None,
        }
    }

    /// Changes an activity (scope `activity:write`): only the fields set in `changes` are
    /// sent, as JSON.
    ///
    /// ```no_run
    /// # async fn run(client: stravalib::Client) -> stravalib::Result<()> {
    /// use stravalib::types::{SportType, UpdatableActivity};
    /// let changes = UpdatableActivity::builder()
    ///     .name(Some("Morning gravel".to_owned()))
    ///     .sport_type(Some(SportType::GravelRide));
    /// client.update_activity(123u64, changes.try_into().unwrap()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_activity(
        &self,
        activity_id: impl Into<Id>,
        changes: UpdatableActivity,
    ) -> Result<DetailedActivity> {
        ApiV3::call(
            "updateActivityById",
            self.generated()
                .update_activity_by_id()
                .id(activity_id.into())
                .body(changes)
                .send(),
        )
        .await
    }

    /// The laps of an activity.
    pub async fn get_activity_laps(&self, activity_id: impl Into<Id>) -> Result<Vec<Lap>> {
        ApiV3::call(
            "getLapsByActivityId",
            self.generated()
                .get_laps_by_activity_id()
                .id(activity_id.into())
                .send(),
        )
        .await
    }

    /// Time in each heart-rate and power zone of an activity.
    pub async fn get_activity_zones(
        &self,
        activity_id: impl Into<Id>,
    ) -> Result<Vec<ActivityZone>> {
        ApiV3::call(
            "getZonesByActivityId",
            self.generated()
                .get_zones_by_activity_id()
                .id(activity_id.into())
                .send(),
        )
        .await
    }

    /// The comments on an activity, paged by cursor.
    pub fn get_activity_comments(&self, activity_id: impl Into<Id>) -> CommentsRequest {
        CommentsRequest {
            client: self.clone(),
            id: activity_id.into(),
            page_size: None,
            after_cursor: None,
            limit: None,
        }
    }

    /// The athletes who gave kudos to an activity.
    pub fn get_activity_kudoers(&self, activity_id: impl Into<Id>) -> ListRequest<SummaryAthlete> {
        paged_by_id!(
            self,
            activity_id.into(),
            "getKudoersByActivityId",
            get_kudoers_by_activity_id
        )
    }
}

/// [`Client::get_activity`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct ActivityRequest {
    client: Client,
    id: Id,
    include_all_efforts: Option<bool>,
}

impl ActivityRequest {
    /// Include every segment effort, not only the notable ones.
    pub fn include_all_efforts(mut self, include: bool) -> Self {
        self.include_all_efforts = Some(include);
        self
    }

    /// Fetches the activity.
    pub async fn send(self) -> Result<DetailedActivity> {
        let mut call = self.client.generated().get_activity_by_id().id(self.id);
        if let Some(include) = self.include_all_efforts {
            call = call.include_all_efforts(include);
        }
        ApiV3::call("getActivityById", call.send()).await
    }

    /// Fetches the activity and decodes it as your own type `T`: the same request
    /// through the same pipeline, but only the fields `T` names are read. For hot paths
    /// that need a few fields of many activities (see the README's performance notes).
    ///
    /// ```no_run
    /// # async fn run(client: stravalib::Client) -> stravalib::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Brief { id: u64, name: String, distance: f64 }
    /// let brief: Brief = client.get_activity(123u64).send_as().await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_as<T: DeserializeOwned>(self) -> Result<T> {
        let mut request = self
            .client
            .api()
            .request(Method::GET, &format!("activities/{}", self.id))
            .operation("getActivityById");
        if let Some(include) = self.include_all_efforts {
            request = request.query(&[("include_all_efforts", include)]);
        }
        request.send_json().await
    }
}

/// [`Client::get_activities`]: filters by start time; one page or all of them.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct ActivitiesRequest {
    client: Client,
    before: Option<i64>,
    after: Option<i64>,
    page: Option<u32>,
    per_page: Option<u32>,
    limit: Option<usize>,
}

impl ActivitiesRequest {
    /// Only activities that started before `time`.
    pub fn before(mut self, time: DateTime<Utc>) -> Self {
        self.before = Some(time.timestamp());
        self
    }

    /// Only activities that started after `time`.
    pub fn after(mut self, time: DateTime<Utc>) -> Self {
        self.after = Some(time.timestamp());
        self
    }

    /// The page [`send`](Self::send) fetches (from 1).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page.max(1));
        self
    }

    /// Items per page (30 by default for `send`, 200 for `into_stream`).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// The most activities [`into_stream`](Self::into_stream) yields.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    fn list(self) -> ListRequest<SummaryActivity> {
        let (before, after) = (self.before, self.after);
        let mut list = ListRequest::new(&self.client, move |client, page, per_page| async move {
            let mut call = client
                .generated()
                .get_logged_in_athlete_activities()
                .page(wire(page))
                .per_page(wire(per_page));
            if let Some(t) = before {
                call = call.before(t);
            }
            if let Some(t) = after {
                call = call.after(t);
            }
            ApiV3::call("getLoggedInAthleteActivities", call.send()).await
        });
        list.page = self.page;
        list.per_page = self.per_page;
        list.limit = self.limit;
        list
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Vec<SummaryActivity>> {
        self.list().send().await
    }

    /// Every matching activity, page by page as the stream is polled.
    pub fn into_stream(self) -> impl Stream<Item = Result<SummaryActivity>> + Send + 'static {
        self.list().into_stream()
    }

    /// One page, decoded as your own type `T` (only the fields `T` names are read).
    pub async fn send_as<T: DeserializeOwned>(self) -> Result<Vec<T>> {
        let (page, per_page) = (self.page.unwrap_or(1), self.per_page.unwrap_or(30));
        fetch_page_as(self.client, self.before, self.after, page, per_page).await
    }

    /// Every matching activity decoded as your own type `T`, page by page: the same
    /// requests as [`into_stream`](Self::into_stream), for hot paths that need a few
    /// fields of many activities.
    pub fn into_stream_as<T>(self) -> impl Stream<Item = Result<T>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
    {
        let (client, before, after) = (self.client, self.before, self.after);
        paged(
            self.per_page.unwrap_or(DEFAULT_PER_PAGE),
            self.limit,
            move |page, per_page| fetch_page_as(client.clone(), before, after, page, per_page),
        )
    }
}

async fn fetch_page_as<T: DeserializeOwned>(
    client: Client,
    before: Option<i64>,
    after: Option<i64>,
    page: u32,
    per_page: u32,
) -> Result<Vec<T>> {
    let mut query: Vec<(&str, i64)> = vec![("page", wire(page)), ("per_page", wire(per_page))];
    query.extend(before.map(|t| ("before", t)));
    query.extend(after.map(|t| ("after", t)));
    client
        .api()
        .request(Method::GET, "athlete/activities")
        .query(&query)
        .operation("getLoggedInAthleteActivities")
        .send_json()
        .await
}

/// [`Client::create_activity`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct CreateActivityRequest {
    client: Client,
    name: String,
    sport_type: SportType,
    start_date_local: DateTime<Utc>,
    elapsed_seconds: i64,
    description: Option<String>,
    distance: Option<f64>,
    trainer: Option<bool>,
    commute: Option<bool>,
}

impl CreateActivityRequest {
    /// A description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// The distance in meters.
    pub fn distance(mut self, meters: f64) -> Self {
        self.distance = Some(meters);
        self
    }

    /// Done on an indoor trainer.
    pub fn trainer(mut self, trainer: bool) -> Self {
        self.trainer = Some(trainer);
        self
    }

    /// A commute.
    pub fn commute(mut self, commute: bool) -> Self {
        self.commute = Some(commute);
        self
    }

    /// Creates the activity.
    pub async fn send(self) -> Result<DetailedActivity> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid_input("an activity needs a name"));
        }
        if self.elapsed_seconds <= 0 {
            return Err(Error::invalid_input(format!(
                "elapsed time must be positive, not {} s",
                self.elapsed_seconds
            )));
        }
        let flag = |b: Option<bool>| b.map(i64::from);
        let call = self.client.generated().create_activity().body_map(|b| {
            b.name(self.name)
                .sport_type(self.sport_type)
                .start_date_local(self.start_date_local)
                .elapsed_time(self.elapsed_seconds)
                .description(self.description)
                .distance(self.distance)
                .trainer(flag(self.trainer))
                .commute(flag(self.commute))
        });
        ApiV3::call("createActivity", call.send()).await
    }
}

/// [`Client::get_activity_comments`]: cursor-paged.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct CommentsRequest {
    client: Client,
    id: Id,
    page_size: Option<u32>,
    after_cursor: Option<String>,
    limit: Option<usize>,
}

impl CommentsRequest {
    /// Comments per page (30 by default for `send`, 200 for `into_stream`).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Start after the comment with this cursor ([`Comment::cursor`]).
    pub fn after_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.after_cursor = Some(cursor.into());
        self
    }

    /// The most comments [`into_stream`](Self::into_stream) yields.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    async fn fetch(
        client: Client,
        id: Id,
        cursor: Option<String>,
        size: u32,
    ) -> Result<Vec<Comment>> {
        let mut call = client
            .generated()
            .get_comments_by_activity_id()
            .id(id)
            .page_size(wire(size));
        if let Some(cursor) = cursor {
            call = call.after_cursor(cursor);
        }
        ApiV3::call("getCommentsByActivityId", call.send()).await
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Vec<Comment>> {
        Self::fetch(
            self.client,
            self.id,
            self.after_cursor,
            self.page_size.unwrap_or(30),
        )
        .await
    }

    /// Every comment, page by page as the stream is polled.
    pub fn into_stream(self) -> impl Stream<Item = Result<Comment>> + Send + 'static {
        let (client, id) = (self.client, self.id);
        let first = self.after_cursor;
        let mut first = Some(first);
        cursor_paged(
            self.page_size.unwrap_or(DEFAULT_PER_PAGE),
            self.limit,
            move |cursor, size| {
                // The first page starts after the cursor the caller gave, if any.
                let cursor = first.take().flatten().or(cursor);
                Self::fetch(client.clone(), id, cursor, size)
            },
            |comment: &Comment| comment.cursor.clone(),
        )
    }
}
