//! [`LatLng`]: a position as Strava sends it, `[latitude, longitude]` or `[]`.
//!
//! The OpenAPI document declares `LatLng` as an array of numbers; `build.rs` swaps in
//! this type (`x-stravalib-replace`), which holds the pair inline: no allocation per point,
//! which matters for `latlng` streams of tens of thousands of points.

use std::fmt;
use std::ops::Deref;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A position in degrees: `[latitude, longitude]`, or empty when there is none (indoor
/// activities, privacy zones), exactly as Strava sends it. Derefs to a slice of 0 or 2
/// numbers.
///
/// ```
/// use stravalib::types::LatLng;
/// let start: LatLng = serde_json::from_str("[52.37, 4.89]").unwrap();
/// assert_eq!(start.pair(), Some((52.37, 4.89)));
/// let indoor: LatLng = serde_json::from_str("[]").unwrap();
/// assert!(indoor.is_empty());
/// assert_eq!(serde_json::to_string(&indoor).unwrap(), "[]");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatLng {
    pair: Option<[f64; 2]>,
}

impl LatLng {
    /// No position (`[]`).
    pub const EMPTY: LatLng = LatLng { pair: None };

    /// A position from latitude and longitude in degrees.
    pub const fn new(lat: f64, lng: f64) -> Self {
        LatLng {
            pair: Some([lat, lng]),
        }
    }

    /// `(latitude, longitude)`, or `None` for an empty position.
    pub fn pair(&self) -> Option<(f64, f64)> {
        self.pair.map(|[lat, lng]| (lat, lng))
    }

    /// The latitude in degrees.
    pub fn lat(&self) -> Option<f64> {
        self.pair.map(|p| p[0])
    }

    /// The longitude in degrees.
    pub fn lng(&self) -> Option<f64> {
        self.pair.map(|p| p[1])
    }

    /// The numbers as sent: none or `[latitude, longitude]`.
    pub fn as_slice(&self) -> &[f64] {
        match &self.pair {
            Some(pair) => pair,
            None => &[],
        }
    }
}

impl Deref for LatLng {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        self.as_slice()
    }
}

impl From<(f64, f64)> for LatLng {
    fn from((lat, lng): (f64, f64)) -> Self {
        LatLng::new(lat, lng)
    }
}

impl Serialize for LatLng {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let values = self.as_slice();
        let mut seq = serializer.serialize_seq(Some(values.len()))?;
        for v in values {
            seq.serialize_element(v)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for LatLng {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairVisitor;
        impl<'de> Visitor<'de> for PairVisitor {
            type Value = LatLng;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[] or [latitude, longitude]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LatLng, A::Error> {
                let Some(lat) = seq.next_element::<f64>()? else {
                    return Ok(LatLng::EMPTY);
                };
                let lng = seq
                    .next_element::<f64>()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(LatLng::new(lat, lng))
            }
        }
        deserializer.deserialize_seq(PairVisitor)
    }
}

impl schemars::JsonSchema for LatLng {
    fn schema_name() -> String {
        "LatLng".to_owned()
    }
    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        // An array of doubles, with no length bounds: `[]` is valid.
        let mut schema = <Vec<f64>>::json_schema(generator).into_object();
        if let Some(items) = schema.array.as_mut()
            && let Some(schemars::schema::SingleOrVec::Single(item)) = items.items.as_mut()
            && let schemars::schema::Schema::Object(object) = item.as_mut()
        {
            object.format = Some("double".to_owned());
        }
        schema.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_empty_round_trip() {
        let p: LatLng = serde_json::from_str("[52.084157, 5.162381]").unwrap();
        assert_eq!(p.lat(), Some(52.084157));
        assert_eq!(&*p, &[52.084157, 5.162381]);
        assert_eq!(serde_json::to_string(&p).unwrap(), "[52.084157,5.162381]");
        let e: LatLng = serde_json::from_str("[]").unwrap();
        assert_eq!(e, LatLng::EMPTY);
        assert_eq!(serde_json::to_string(&e).unwrap(), "[]");
    }

    #[test]
    fn other_lengths_are_errors_not_truncations() {
        assert!(serde_json::from_str::<LatLng>("[1.0]").is_err());
        assert!(serde_json::from_str::<LatLng>("[1.0, 2.0, 3.0]").is_err());
        assert!(serde_json::from_str::<LatLng>("\"52,4\"").is_err());
    }
}
