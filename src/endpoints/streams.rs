//! Streams: the time series of activities, segment efforts, segments and routes, typed
//! per stream (time, distance, latlng, altitude, velocity, heart rate, cadence, watts,
//! temperature, moving, grade).

use crate::api_v3::ApiV3;
use crate::error::{Error, Result};
use crate::params::StreamKeys;
use crate::types::{RouteStreams, StreamResolution, StreamSeriesType, StreamSet, StreamType};
use crate::{Client, Id};

/// Whose streams a [`StreamsRequest`] fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Activity,
    Effort,
    Segment,
}

impl Owner {
    /// What to ask for when the caller names no keys: everything the owner can have.
    fn default_keys(self) -> StreamKeys {
        match self {
            Owner::Activity | Owner::Effort => StreamKeys::all(),
            Owner::Segment => StreamKeys::new([
                StreamType::Distance,
                StreamType::Latlng,
                StreamType::Altitude,
            ]),
        }
    }
}

impl Client {
    /// An activity's streams: every type unless [`StreamsRequest::keys`] narrows them
    /// (Strava itself answers with `distance` only when no keys are sent).
    pub fn get_activity_streams(&self, activity_id: impl Into<Id>) -> StreamsRequest {
        StreamsRequest::new(self, Owner::Activity, activity_id.into())
    }

    /// A segment effort's streams (every type unless narrowed with `keys`).
    pub fn get_effort_streams(&self, effort_id: impl Into<Id>) -> StreamsRequest {
        StreamsRequest::new(self, Owner::Effort, effort_id.into())
    }

    /// A segment's streams (Strava serves `distance`, `latlng` and `altitude`).
    pub fn get_segment_streams(&self, segment_id: impl Into<Id>) -> StreamsRequest {
        StreamsRequest::new(self, Owner::Segment, segment_id.into())
    }

    /// A route's streams, keyed by type like the others (Strava answers this one with a
    /// list of typed streams; it is converted).
    pub async fn get_route_streams(&self, route_id: impl Into<Id>) -> Result<StreamSet> {
        let streams = ApiV3::call(
            "getRouteStreams",
            self.generated()
                .get_route_streams()
                .id(route_id.into())
                .send(),
        )
        .await?;
        route_streams_to_set(streams)
    }
}

/// Converts either shape of a route's streams into a [`StreamSet`].
pub fn route_streams_to_set(streams: RouteStreams) -> Result<StreamSet> {
    match streams {
        RouteStreams::StreamSet(set) => Ok(set),
        RouteStreams::Array(list) => {
            // Re-key the list by type and read it as a keyed set: one typed decode.
            let mut keyed = serde_json::Map::new();
            for stream in list {
                let Some(kind) = stream.type_.as_ref().map(StreamType::to_string) else {
                    continue;
                };
                let value = serde_json::to_value(&stream)
                    .map_err(|e| Error::decode("getRouteStreams", &kind, &e.to_string(), b""))?;
                keyed.insert(kind, value);
            }
            let body = serde_json::Value::Object(keyed);
            serde_json::from_value(body.clone()).map_err(|e| {
                let text = body.to_string();
                Error::decode("getRouteStreams", ".", &e.to_string(), text.as_bytes())
            })
        }
    }
}

/// [`Client::get_activity_streams`] and friends.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct StreamsRequest {
    client: Client,
    owner: Owner,
    id: Id,
    keys: Option<StreamKeys>,
    resolution: Option<StreamResolution>,
    series_type: Option<StreamSeriesType>,
}

impl StreamsRequest {
    fn new(client: &Client, owner: Owner, id: Id) -> Self {
        Self {
            client: client.clone(),
            owner,
            id,
            keys: None,
            resolution: None,
            series_type: None,
        }
    }

    /// Only these stream types.
    pub fn keys(mut self, keys: impl Into<StreamKeys>) -> Self {
        self.keys = Some(keys.into());
        self
    }

    /// Downsample to `low`, `medium` or `high` resolution.
    pub fn resolution(mut self, resolution: StreamResolution) -> Self {
        self.resolution = Some(resolution);
        self
    }

    /// What to downsample along (`distance` or `time`).
    pub fn series_type(mut self, series_type: StreamSeriesType) -> Self {
        self.series_type = Some(series_type);
        self
    }

    /// Fetches the streams and decodes them as your own type `T` (keyed by stream type,
    /// like [`StreamSet`]): the same request through the same pipeline.
    pub async fn send_as<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let (path, operation) = match self.owner {
            Owner::Activity => (
                format!("activities/{}/streams", self.id),
                "getActivityStreams",
            ),
            Owner::Effort => (
                format!("segment_efforts/{}/streams", self.id),
                "getSegmentEffortStreams",
            ),
            Owner::Segment => (format!("segments/{}/streams", self.id), "getSegmentStreams"),
        };
        let keys = self.keys.unwrap_or_else(|| self.owner.default_keys());
        let mut query = vec![
            ("keys", keys.to_string()),
            ("key_by_type", "true".to_owned()),
        ];
        query.extend(self.resolution.map(|r| ("resolution", r.to_string())));
        query.extend(self.series_type.map(|s| ("series_type", s.to_string())));
        self.client
            .api()
            .request(reqwest::Method::GET, &path)
            .query(&query)
            .operation(operation)
            .send_json()
            .await
    }

    /// Fetches the streams, keyed by type.
    pub async fn send(self) -> Result<StreamSet> {
        let generated = self.client.generated();
        // The three operations take the same parameters; one macro keeps them in step.
        macro_rules! call {
            ($builder:expr, $op:literal) => {{
                let keys = self.keys.unwrap_or_else(|| self.owner.default_keys());
                let mut call = $builder.id(self.id).key_by_type(true).keys(keys);
                if let Some(r) = self.resolution {
                    call = call.resolution(r);
                }
                if let Some(s) = self.series_type {
                    call = call.series_type(s);
                }
                ApiV3::call($op, call.send()).await
            }};
        }
        match self.owner {
            Owner::Activity => call!(generated.get_activity_streams(), "getActivityStreams"),
            Owner::Effort => call!(
                generated.get_segment_effort_streams(),
                "getSegmentEffortStreams"
            ),
            Owner::Segment => call!(generated.get_segment_streams(), "getSegmentStreams"),
        }
    }
}
