//! Segments and segment efforts.

use chrono::{DateTime, Utc};

use super::{ListRequest, wire};
use crate::api_v3::ApiV3;
use crate::error::{Error, Result};
use crate::params::ExploreBounds;
use crate::types::{
    DetailedSegment, DetailedSegmentEffort, ExploreActivityType, ExplorerResponse, SummarySegment,
};
use crate::{Client, Id};

impl Client {
    /// A segment by id.
    pub async fn get_segment(&self, segment_id: impl Into<Id>) -> Result<DetailedSegment> {
        ApiV3::call(
            "getSegmentById",
            self.generated()
                .get_segment_by_id()
                .id(segment_id.into())
                .send(),
        )
        .await
    }

    /// Segments the athlete starred.
    pub fn get_starred_segments(&self) -> ListRequest<SummarySegment> {
        ListRequest::new(self, |client, page, per_page| async move {
            ApiV3::call(
                "getLoggedInAthleteStarredSegments",
                client
                    .generated()
                    .get_logged_in_athlete_starred_segments()
                    .page(wire(page))
                    .per_page(wire(per_page))
                    .send(),
            )
            .await
        })
    }

    /// Stars (`true`) or unstars a segment (scope `profile:write`).
    pub async fn star_segment(
        &self,
        segment_id: impl Into<Id>,
        starred: bool,
    ) -> Result<DetailedSegment> {
        ApiV3::call(
            "starSegment",
            self.generated()
                .star_segment()
                .id(segment_id.into())
                .body_map(|b| b.starred(starred))
                .send(),
        )
        .await
    }

    /// Popular segments inside `bounds`.
    ///
    /// **Extended Access only**: since 2026-09-01 Strava answers this for apps with
    /// Extended Access; others get a 403 or 401.
    pub fn explore_segments(&self, bounds: ExploreBounds) -> ExploreRequest {
        ExploreRequest {
            client: self.clone(),
            bounds,
            activity_type: None,
            min_cat: None,
            max_cat: None,
        }
    }

    /// One segment effort by id.
    pub async fn get_segment_effort(
        &self,
        effort_id: impl Into<Id>,
    ) -> Result<DetailedSegmentEffort> {
        ApiV3::call(
            "getSegmentEffortById",
            self.generated()
                .get_segment_effort_by_id()
                .id(effort_id.into())
                .send(),
        )
        .await
    }

    /// The athlete's efforts on a segment, optionally within a date range.
    pub fn get_segment_efforts(&self, segment_id: impl Into<Id>) -> SegmentEffortsRequest {
        SegmentEffortsRequest {
            client: self.clone(),
            segment_id: segment_id.into(),
            start: None,
            end: None,
            per_page: None,
        }
    }
}

/// [`Client::explore_segments`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct ExploreRequest {
    client: Client,
    bounds: ExploreBounds,
    activity_type: Option<ExploreActivityType>,
    min_cat: Option<u8>,
    max_cat: Option<u8>,
}

impl ExploreRequest {
    /// Running or riding segments.
    pub fn activity_type(mut self, activity_type: ExploreActivityType) -> Self {
        self.activity_type = Some(activity_type);
        self
    }

    /// Lowest climb category (0 to 5).
    pub fn min_cat(mut self, category: u8) -> Self {
        self.min_cat = Some(category);
        self
    }

    /// Highest climb category (0 to 5).
    pub fn max_cat(mut self, category: u8) -> Self {
        self.max_cat = Some(category);
        self
    }

    /// Runs the search.
    pub async fn send(self) -> Result<ExplorerResponse> {
        for (name, value) in [("min_cat", self.min_cat), ("max_cat", self.max_cat)] {
            if value.is_some_and(|v| v > 5) {
                return Err(Error::invalid_input(format!(
                    "{name} must be a climb category from 0 to 5"
                )));
            }
        }
        let mut call = self
            .client
            .generated()
            .explore_segments()
            .bounds(self.bounds);
        if let Some(t) = self.activity_type {
            call = call.activity_type(t);
        }
        if let Some(c) = self.min_cat {
            call = call.min_cat(i64::from(c));
        }
        if let Some(c) = self.max_cat {
            call = call.max_cat(i64::from(c));
        }
        ApiV3::call("exploreSegments", call.send()).await
    }
}

/// [`Client::get_segment_efforts`]. Strava serves one page of up to 200 efforts here (the
/// endpoint takes no page number); narrow the date range to see older ones.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct SegmentEffortsRequest {
    client: Client,
    segment_id: Id,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    per_page: Option<u32>,
}

impl SegmentEffortsRequest {
    /// Only efforts starting at or after this local time.
    pub fn start_date_local(mut self, time: DateTime<Utc>) -> Self {
        self.start = Some(time);
        self
    }

    /// Only efforts starting at or before this local time.
    pub fn end_date_local(mut self, time: DateTime<Utc>) -> Self {
        self.end = Some(time);
        self
    }

    /// How many efforts (at most 200).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// Fetches the efforts.
    pub async fn send(self) -> Result<Vec<DetailedSegmentEffort>> {
        let mut call = self
            .client
            .generated()
            .get_efforts_by_segment_id()
            .segment_id(self.segment_id);
        if let Some(t) = self.start {
            call = call.start_date_local(t);
        }
        if let Some(t) = self.end {
            call = call.end_date_local(t);
        }
        if let Some(n) = self.per_page {
            call = call.per_page(wire(n));
        }
        ApiV3::call("getEffortsBySegmentId", call.send()).await
    }
}
