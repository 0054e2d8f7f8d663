//! Streams: the time series of activities, segment efforts, segments and routes, typed
//! per stream. The generated builders ask for every stream type by default (Strava
//! alone sends `distance` only); routes' streams arrive as a list and convert to the
//! keyed [`StreamSet`].

use crate::error::{Error, Result};
use crate::types::{RouteStreams, StreamSet, StreamType};

impl RouteStreams {
    /// The streams keyed by type, like an activity's (Strava answers a route's streams
    /// with a list of typed streams; it is converted).
    ///
    /// ```no_run
    /// # async fn run(client: stravalib::Client) -> stravalib::Result<()> {
    /// let streams = client.get_route_streams(1234u64).send().await?.into_stream_set()?;
    /// # Ok(()) }
    /// ```
    pub fn into_stream_set(self) -> Result<StreamSet> {
        route_streams_to_set(self)
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
                let value = serde_json::to_value(&stream).map_err(|e| {
                    Error::decode(
                        crate::operations::GetRouteStreams::OPERATION_ID,
                        &kind,
                        &e.to_string(),
                        b"",
                    )
                })?;
                keyed.insert(kind, value);
            }
            let body = serde_json::Value::Object(keyed);
            serde_json::from_value(body.clone()).map_err(|e| {
                let text = body.to_string();
                Error::decode(
                    crate::operations::GetRouteStreams::OPERATION_ID,
                    ".",
                    &e.to_string(),
                    text.as_bytes(),
                )
            })
        }
    }
}
