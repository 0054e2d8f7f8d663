//! Handwritten query parameter types that Strava expects comma-joined.
//!
//! progenitor would send a list as `keys=a&keys=b`; Strava wants `keys=a,b`. The OpenAPI
//! document declares these parameters as named string schemas marked
//! `x-stravalib-replace`, and `build.rs` swaps in the types below.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::types::StreamType;

/// Stream types to request, sent as one comma-joined `keys` value.
///
/// ```
/// use stravalib::params::StreamKeys;
/// use stravalib::types::StreamType;
/// let keys = StreamKeys::from([StreamType::Time, StreamType::Latlng]);
/// assert_eq!(keys.to_string(), "time,latlng");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamKeys(Vec<StreamType>);

impl StreamKeys {
    /// Keys from any list of stream types.
    pub fn new(keys: impl IntoIterator<Item = StreamType>) -> Self {
        Self(keys.into_iter().collect())
    }

    /// Every stream type this crate knows.
    pub fn all() -> Self {
        Self::new(
            StreamType::KNOWN_VALUES
                .iter()
                .map(|v| StreamType::from(*v)),
        )
    }

    /// The stream types, in request order.
    pub fn as_slice(&self) -> &[StreamType] {
        &self.0
    }
}

impl<const N: usize> From<[StreamType; N]> for StreamKeys {
    fn from(keys: [StreamType; N]) -> Self {
        Self::new(keys)
    }
}

/// Comma-separated stream types (`"time,latlng"`); unknown names are kept as
/// `StreamType::Unknown`.
impl From<&str> for StreamKeys {
    fn from(list: &str) -> Self {
        Self::new(
            list.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(StreamType::from),
        )
    }
}

impl From<Vec<StreamType>> for StreamKeys {
    fn from(keys: Vec<StreamType>) -> Self {
        Self(keys)
    }
}

impl fmt::Display for StreamKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(key.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for StreamKeys {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for StreamKeys {
    fn schema_name() -> String {
        "StreamKeys".to_owned()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }
}

/// A latitude/longitude rectangle for segment exploration, sent as
/// `sw_lat,sw_lng,ne_lat,ne_lng`.
///
/// ```
/// use stravalib::params::ExploreBounds;
/// let bounds = ExploreBounds::new(37.70, -122.52, 37.82, -122.35).unwrap();
/// assert_eq!(bounds.to_string(), "37.7,-122.52,37.82,-122.35");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExploreBounds {
    south_west: (f64, f64),
    north_east: (f64, f64),
}

/// Why coordinates do not make an [`ExploreBounds`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBounds {
    /// A latitude outside -90..=90 or a longitude outside -180..=180, or not a number.
    #[error("{name} {value} is out of range")]
    OutOfRange {
        /// Which coordinate (`sw_lat`, `sw_lng`, `ne_lat`, `ne_lng`).
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// The south-west latitude is north of the north-east one.
    #[error("south-west latitude {sw_lat} is north of north-east latitude {ne_lat}")]
    Inverted {
        /// South-west latitude.
        sw_lat: f64,
        /// North-east latitude.
        ne_lat: f64,
    },
}

impl ExploreBounds {
    /// Bounds from the south-west and north-east corners, in degrees.
    pub fn new(sw_lat: f64, sw_lng: f64, ne_lat: f64, ne_lng: f64) -> Result<Self, InvalidBounds> {
        for (name, value, limit) in [
            ("sw_lat", sw_lat, 90.0),
            ("sw_lng", sw_lng, 180.0),
            ("ne_lat", ne_lat, 90.0),
            ("ne_lng", ne_lng, 180.0),
        ] {
            if !value.is_finite() || value.abs() > limit {
                return Err(InvalidBounds::OutOfRange { name, value });
            }
        }
        if sw_lat > ne_lat {
            return Err(InvalidBounds::Inverted { sw_lat, ne_lat });
        }
        Ok(Self {
            south_west: (sw_lat, sw_lng),
            north_east: (ne_lat, ne_lng),
        })
    }

    /// South-west corner as `(latitude, longitude)`.
    pub fn south_west(&self) -> (f64, f64) {
        self.south_west
    }

    /// North-east corner as `(latitude, longitude)`.
    pub fn north_east(&self) -> (f64, f64) {
        self.north_east
    }
}

impl fmt::Display for ExploreBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{},{}",
            self.south_west.0, self.south_west.1, self.north_east.0, self.north_east.1
        )
    }
}

impl Serialize for ExploreBounds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for ExploreBounds {
    fn schema_name() -> String {
        "ExploreBounds".to_owned()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }
}
