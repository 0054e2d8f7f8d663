//! Google encoded polylines: decode an activity's, route's or segment's map into
//! coordinates, and encode coordinates back.
//!
//! Strava sends a route as a [Google encoded polyline] in
//! [`PolylineMap`]: `summary_polyline` (simplified, on lists
//! and summaries) and `polyline` (full resolution, on detailed objects), at precision 5
//! (coordinates rounded to 1e-5 degrees, about a meter).
//!
//! ```
//! use stravalib::polyline::{self, LatLng};
//!
//! let points = polyline::decode("_p~iF~ps|U_ulLnnqC_mqNvxq`@").unwrap();
//! assert_eq!(points[0], LatLng { lat: 38.5, lng: -120.2 });
//! assert_eq!(points.len(), 3);
//! assert_eq!(polyline::encode(&points, 5).unwrap(), "_p~iF~ps|U_ulLnnqC_mqNvxq`@");
//! ```
//!
//! From a model, [`MapExt::decode_polyline`] prefers the full `polyline` and falls back to
//! `summary_polyline`; it works on a [`PolylineMap`] and on
//! the `Option<PolylineMap>` a model's `map` field holds:
//!
//! ```
//! use stravalib::polyline::MapExt;
//! use stravalib::types::SummaryActivity;
//!
//! let activity: SummaryActivity = serde_json::from_str(
//!     r#"{"map": {"id": "a1", "summary_polyline": "_p~iF~ps|U_ulLnnqC_mqNvxq`@"}}"#,
//! )
//! .unwrap();
//! let points = activity.map.decode_polyline().expect("has a map").expect("valid");
//! assert_eq!(points.len(), 3);
//! ```
//!
//! Decoding never panics, whatever the input: a character outside the alphabet, input
//! that stops in the middle of a value, a value too long to be a coordinate, or a point
//! outside the globe is a typed [`PolylineError`] with the byte offset where it happened.
//!
//! A backslash (`\`) is an ordinary polyline character. Strava's JSON escapes it as
//! `\\`, and serde unescapes it, so strings out of the generated models decode as they
//! are; a string copied out of raw JSON text must be JSON-unescaped first.
//!
//! [Google encoded polyline]: https://developers.google.com/maps/documentation/utilities/polylinealgorithm

use std::fmt;

use crate::types::PolylineMap;

/// The precision Strava (and Google) encode polylines at: 5 decimal digits.
pub const STRAVA_PRECISION: u32 = 5;

/// The largest precision accepted (10 decimal digits, far finer than GPS).
pub const MAX_PRECISION: u32 = 10;

/// The smallest character of the encoding alphabet (`?`, 63); each character carries
/// `byte - 63`.
const ALPHABET_START: u8 = 63;
/// The largest character of the encoding alphabet (`~`, 126).
const ALPHABET_END: u8 = ALPHABET_START + 63;
/// Set in a chunk when more chunks of the same value follow.
const CONTINUATION: u64 = 0x20;
/// The 5 data bits of a chunk.
const CHUNK_MASK: u64 = 0x1f;
/// Chunks in the longest value accepted: 13 chunks of 5 bits hold any `u64`.
const MAX_CHUNKS: u32 = 13;

/// A point on the globe, in degrees.
///
/// Not the generated [`types::LatLng`](crate::types::LatLng) (Strava's two-element JSON
/// array); convert between them with `From`/`TryFrom`.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct LatLng {
    /// Latitude, -90 to 90.
    pub lat: f64,
    /// Longitude, -180 to 180.
    pub lng: f64,
}

impl LatLng {
    /// A point at `lat`, `lng` degrees.
    pub const fn new(lat: f64, lng: f64) -> Self {
        LatLng { lat, lng }
    }

    /// Whether both coordinates are finite and on the globe (|lat| <= 90, |lng| <= 180).
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lng.is_finite()
            && self.lat.abs() <= 90.0
            && self.lng.abs() <= 180.0
    }
}

impl From<(f64, f64)> for LatLng {
    /// `(lat, lng)`.
    fn from((lat, lng): (f64, f64)) -> Self {
        LatLng { lat, lng }
    }
}

impl From<LatLng> for (f64, f64) {
    /// `(lat, lng)`.
    fn from(point: LatLng) -> Self {
        (point.lat, point.lng)
    }
}

impl From<LatLng> for crate::types::LatLng {
    fn from(point: LatLng) -> Self {
        crate::types::LatLng::new(point.lat, point.lng)
    }
}

impl TryFrom<&crate::types::LatLng> for LatLng {
    type Error = PolylineError;

    /// A two-element `[lat, lng]`; anything else (Strava sends `[]` without GPS) is
    /// [`PolylineError::NotAPoint`].
    fn try_from(value: &crate::types::LatLng) -> Result<Self, Self::Error> {
        match value.as_slice() {
            &[lat, lng] => Ok(LatLng { lat, lng }),
            other => Err(PolylineError::NotAPoint { len: other.len() }),
        }
    }
}

impl fmt::Display for LatLng {
    /// `lat,lng`, with the formatter's precision when given (`{:.5}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match f.precision() {
            Some(p) => write!(f, "{:.p$},{:.p$}", self.lat, self.lng),
            None => write!(f, "{},{}", self.lat, self.lng),
        }
    }
}

/// Why a polyline could not be decoded or coordinates could not be encoded.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolylineError {
    /// A character outside the polyline alphabet (`?` to `~`).
    #[error("invalid polyline character {character:?} at byte {offset}")]
    InvalidCharacter {
        /// The character found.
        character: char,
        /// Its byte offset in the input.
        offset: usize,
    },
    /// The input ends in the middle of a value, or with a latitude and no longitude.
    #[error("polyline truncated: input ends at byte {offset}, before the end of a {missing}")]
    Truncated {
        /// The input's length in bytes.
        offset: usize,
        /// What was being read: `"latitude"` or `"longitude"`.
        missing: &'static str,
    },
    /// A value longer than any coordinate, or an accumulated coordinate that overflows.
    #[error("polyline value at byte {offset} is too large to be a coordinate")]
    ValueOverflow {
        /// Byte offset where the value (or, for an overflowing sum, the point) starts.
        offset: usize,
    },
    /// A decoded point, or a point given to encode, is not on the globe (or not finite).
    #[error("coordinate {index} ({lat}, {lng}) is out of range")]
    CoordinateOutOfRange {
        /// The point's index.
        index: usize,
        /// Its latitude.
        lat: f64,
        /// Its longitude.
        lng: f64,
    },
    /// A precision above [`MAX_PRECISION`].
    #[error("polyline precision {0} is not supported (0 to {MAX_PRECISION})", MAX_PRECISION = MAX_PRECISION)]
    InvalidPrecision(u32),
    /// A generated `LatLng` that is not a `[lat, lng]` pair.
    #[error("expected a [lat, lng] pair, found {len} numbers")]
    NotAPoint {
        /// How many numbers it had.
        len: usize,
    },
}

impl PolylineError {
    /// The byte offset in the input where decoding failed, when the error has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            PolylineError::InvalidCharacter { offset, .. }
            | PolylineError::Truncated { offset, .. }
            | PolylineError::ValueOverflow { offset } => Some(*offset),
            _ => None,
        }
    }
}

/// `10^precision`, checking the precision.
fn factor(precision: u32) -> Result<f64, PolylineError> {
    if precision > MAX_PRECISION {
        return Err(PolylineError::InvalidPrecision(precision));
    }
    Ok(10f64.powi(precision as i32))
}

/// Decodes a polyline at Strava's precision (5).
pub fn decode(encoded: &str) -> Result<Vec<LatLng>, PolylineError> {
    decode_with_precision(encoded, STRAVA_PRECISION)
}

/// Decodes a polyline encoded at `precision` decimal digits (5 for Strava and Google, 6
/// for some other services).
///
/// Allocates only the returned `Vec`, reserved up front from the input's length.
pub fn decode_with_precision(encoded: &str, precision: u32) -> Result<Vec<LatLng>, PolylineError> {
    let factor = factor(precision)?;
    let bytes = encoded.as_bytes();
    // A point takes at least 2 bytes; Strava's average about 6-8.
    let mut points = Vec::with_capacity(bytes.len() / 6 + 1);
    let mut pos = 0;
    let (mut lat, mut lng) = (0i64, 0i64);
    while pos < bytes.len() {
        let start = pos;
        let d_lat = read_value(encoded, &mut pos, "latitude")?;
        let d_lng = read_value(encoded, &mut pos, "longitude")?;
        lat = lat
            .checked_add(d_lat)
            .ok_or(PolylineError::ValueOverflow { offset: start })?;
        lng = lng
            .checked_add(d_lng)
            .ok_or(PolylineError::ValueOverflow { offset: start })?;
        let point = LatLng {
            lat: lat as f64 / factor,
            lng: lng as f64 / factor,
        };
        if !point.is_valid() {
            return Err(PolylineError::CoordinateOutOfRange {
                index: points.len(),
                lat: point.lat,
                lng: point.lng,
            });
        }
        points.push(point);
    }
    Ok(points)
}

/// Reads one zigzag-encoded value starting at `*pos`, advancing `*pos` past it.
fn read_value(encoded: &str, pos: &mut usize, what: &'static str) -> Result<i64, PolylineError> {
    let bytes = encoded.as_bytes();
    let start = *pos;
    let mut result: u64 = 0;
    let mut chunks = 0u32;
    loop {
        let Some(&byte) = bytes.get(*pos) else {
            return Err(PolylineError::Truncated {
                offset: bytes.len(),
                missing: what,
            });
        };
        if !(ALPHABET_START..=ALPHABET_END).contains(&byte) {
            // Every byte before this one was ASCII, so `*pos` is a char boundary.
            let character = encoded[*pos..].chars().next().unwrap_or('\u{FFFD}');
            return Err(PolylineError::InvalidCharacter {
                character,
                offset: *pos,
            });
        }
        if chunks == MAX_CHUNKS {
            return Err(PolylineError::ValueOverflow { offset: start });
        }
        let chunk = u64::from(byte - ALPHABET_START);
        result |= (chunk & CHUNK_MASK) << (5 * chunks);
        chunks += 1;
        *pos += 1;
        if chunk & CONTINUATION == 0 {
            break;
        }
    }
    // Zigzag: the low bit is the sign.
    let magnitude = (result >> 1) as i64;
    Ok(if result & 1 == 1 {
        !magnitude
    } else {
        magnitude
    })
}

/// Encodes points at `precision` decimal digits (use [`STRAVA_PRECISION`] for Strava).
///
/// Each coordinate is rounded to the nearest `10^-precision`, so decoding gives back every
/// point within half of that. A point that is not finite or not on the globe is
/// [`PolylineError::CoordinateOutOfRange`].
pub fn encode<I>(points: I, precision: u32) -> Result<String, PolylineError>
where
    I: IntoIterator,
    I::Item: std::borrow::Borrow<LatLng>,
{
    use std::borrow::Borrow;

    let factor = factor(precision)?;
    let points = points.into_iter();
    // Bytes, not chars: every byte written is ASCII (`?`..=`~`).
    let mut out = Vec::with_capacity(points.size_hint().0 * 8);
    let (mut prev_lat, mut prev_lng) = (0i64, 0i64);
    for (index, point) in points.enumerate() {
        let point = *point.borrow();
        if !point.is_valid() {
            return Err(PolylineError::CoordinateOutOfRange {
                index,
                lat: point.lat,
                lng: point.lng,
            });
        }
        // |value| <= 180 * 10^10, well within i64.
        let lat = (point.lat * factor).round() as i64;
        let lng = (point.lng * factor).round() as i64;
        write_value(&mut out, lat - prev_lat);
        write_value(&mut out, lng - prev_lng);
        (prev_lat, prev_lng) = (lat, lng);
    }
    Ok(String::from_utf8(out).expect("polyline bytes are ASCII"))
}

/// Appends one value, zigzag-encoded in 5-bit chunks.
fn write_value(out: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= CONTINUATION {
        out.push(((CONTINUATION | (v & CHUNK_MASK)) as u8) + ALPHABET_START);
        v >>= 5;
    }
    out.push(v as u8 + ALPHABET_START);
}

/// Decoding the polylines of a [`PolylineMap`], or of a model's `Option<PolylineMap>`.
pub trait MapExt {
    /// The best polyline available: `polyline` (full resolution) when present and not
    /// empty, else `summary_polyline` (which may be empty: an activity without GPS).
    /// `None` when neither is present.
    fn best_polyline(&self) -> Option<&str>;

    /// Decodes [`best_polyline`](MapExt::best_polyline): `None` when there is no
    /// polyline, `Some(Ok(vec![]))` for an empty one.
    fn decode_polyline(&self) -> Option<Result<Vec<LatLng>, PolylineError>> {
        self.best_polyline().map(decode)
    }

    /// Decodes `summary_polyline` only.
    fn decode_summary_polyline(&self) -> Option<Result<Vec<LatLng>, PolylineError>>;
}

impl MapExt for PolylineMap {
    fn best_polyline(&self) -> Option<&str> {
        match (self.polyline.as_deref(), self.summary_polyline.as_deref()) {
            (Some(full), _) if !full.is_empty() => Some(full),
            (_, Some(summary)) => Some(summary),
            (full, None) => full,
        }
    }

    fn decode_summary_polyline(&self) -> Option<Result<Vec<LatLng>, PolylineError>> {
        self.summary_polyline.as_deref().map(decode)
    }
}

impl MapExt for Option<PolylineMap> {
    fn best_polyline(&self) -> Option<&str> {
        self.as_ref()?.best_polyline()
    }

    fn decode_summary_polyline(&self) -> Option<Result<Vec<LatLng>, PolylineError>> {
        self.as_ref()?.decode_summary_polyline()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_value_is_rejected_not_shifted_out() {
        // 13 continuation chunks then a terminator: 14 chunks.
        let s = "~".repeat(13) + "?";
        assert_eq!(decode(&s), Err(PolylineError::ValueOverflow { offset: 0 }));
    }

    #[test]
    fn extreme_values_encode() {
        let points = [LatLng::new(-90.0, -180.0), LatLng::new(90.0, 180.0)];
        for precision in 0..=MAX_PRECISION {
            let s = encode(points, precision).unwrap();
            let back = decode_with_precision(&s, precision).unwrap();
            assert_eq!(back, points, "precision {precision}");
        }
    }
}
