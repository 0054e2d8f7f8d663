//! [`Id`]: the type of every Strava object id.
//!
//! Strava declares ids as 64-bit integers. They are never negative, and recorded traffic
//! shows ids far beyond 64 bits (test fixtures with 30-digit ids), so `Id` holds up to 128
//! bits exactly instead of losing digits to a float. Every `integer/int64` of the OpenAPI
//! document is an id and is generated as `Id` (see `build.rs`).
//!
//! From JSON text an id must be an integer literal, as Strava sends them: serde_json reads
//! it digit by digit, so `42.0` or `"42"` is an error rather than a guess. From other
//! sources (a `serde_json::Value`, other formats) exact integral floats and digit strings
//! are accepted too. `serde_json::to_value` cannot hold an id beyond `u64` (serde_json's
//! `Value` has no 128-bit integers); `to_string` and `to_vec` write it exactly.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Strava object id (athlete, activity, segment, club, upload...).
///
/// ```
/// use stravalib::Id;
/// let id = Id::from(16_181_809_559u64);
/// assert_eq!(id.to_string(), "16181809559");
/// assert_eq!(id.as_u64(), Some(16_181_809_559));
/// assert_eq!("42".parse::<Id>().unwrap(), Id::from(42u32));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(u128);

/// Why a value is not an [`Id`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a Strava id: {0}")]
pub struct InvalidId(String);

impl Id {
    /// The id as a number.
    pub const fn get(self) -> u128 {
        self.0
    }

    /// The id as `u64`, which every real Strava id fits in.
    pub fn as_u64(self) -> Option<u64> {
        u64::try_from(self.0).ok()
    }

    /// The id as `i64`, as Strava's description types it.
    pub fn as_i64(self) -> Option<i64> {
        i64::try_from(self.0).ok()
    }
}

macro_rules! from_unsigned {
    ($($t:ty),*) => {$(
        impl From<$t> for Id {
            fn from(v: $t) -> Self {
                Id(v.into())
            }
        }
    )*};
}
from_unsigned!(u8, u16, u32, u64, u128);

macro_rules! try_from_signed {
    ($($t:ty),*) => {$(
        impl TryFrom<$t> for Id {
            type Error = InvalidId;
            fn try_from(v: $t) -> Result<Self, InvalidId> {
                u128::try_from(v)
                    .map(Id)
                    .map_err(|_| InvalidId(format!("{v} is negative")))
            }
        }
    )*};
}
try_from_signed!(i8, i16, i32, i64, i128);

impl From<Id> for u128 {
    fn from(id: Id) -> u128 {
        id.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Id {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        let digits = s.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidId(format!("{s:?} is not a non-negative integer")));
        }
        digits
            .parse::<u128>()
            .map(Id)
            .map_err(|_| InvalidId(format!("{s:?} has more than 38 digits")))
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Plain numbers where they fit, so other tools read them as Strava sends them.
        match u64::try_from(self.0) {
            Ok(small) => serializer.serialize_u64(small),
            Err(_) => serializer.serialize_u128(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer id")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.into()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Id::try_from(v).map_err(E::custom)
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Id, E> {
                Id::try_from(v).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                if crate::decode::id_hint() == crate::decode::IdHint::U64 {
                    // The 64-bit attempt of the crate's own decoding: serde_json hands
                    // an integer beyond 64 bits over as a (rounded) float. Fail this
                    // attempt; the body is decoded again with exact ids.
                    crate::decode::id_overflowed();
                    return Err(E::custom("id beyond 64 bits: read again exactly"));
                }
                // Only exact, integral floats (`42.0`); anything else would lose digits.
                if v.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&v) {
                    Ok(Id(v as u128))
                } else {
                    Err(E::custom(format!("{v} is not an exact integer id")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                v.parse().map_err(E::custom)
            }
        }
        match crate::decode::id_hint() {
            // While the crate decodes an answer: serde_json converts a 64-bit number in
            // place; a longer id fails the attempt (above) and the answer is read again.
            crate::decode::IdHint::U64 => deserializer.deserialize_u64(IdVisitor),
            // serde_json reads a u128 hint digit by digit, so long ids stay exact.
            crate::decode::IdHint::U128 => deserializer.deserialize_u128(IdVisitor),
        }
    }
}

impl schemars::JsonSchema for Id {
    fn schema_name() -> String {
        "Id".to_owned()
    }
    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::Integer.into()),
            number: Some(Box::new(schemars::schema::NumberValidation {
                minimum: Some(0.0),
                ..Default::default()
            })),
            ..Default::default()
        }
        .into()
    }
}
