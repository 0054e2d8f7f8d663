//! Fast paths for decoding answers into the generated models, with the same results as the
//! general ones.
//!
//! - **Ids** ([`crate::Id`]) are read with a 64-bit hint while the crate decodes an answer
//!   ([`fast_ids`]): serde_json then converts the digits in place instead of collecting them
//!   into a heap string for a 128-bit parse. An id beyond 64 bits makes that attempt fail and
//!   records it; the caller decodes the body again with exact 128-bit ids ([`exact_ids`]),
//!   so such ids stay exact and only those (rare) bodies are read twice. Outside
//!   [`fast_ids`] (users calling serde themselves) ids are always read exactly.
//! - **Dates** (`DateTime<Utc>` fields of the models, which `build.rs` points here) take a
//!   fast path for Strava's own form, `YYYY-MM-DDTHH:MM:SSZ`; anything else goes through
//!   chrono's parser, exactly as chrono's own `Deserialize` does.

use std::cell::Cell;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Deserializer;
use serde::de::{self, Visitor};

thread_local! {
    /// `true` while the crate decodes an answer with 64-bit ids first.
    static FAST_IDS: Cell<bool> = const { Cell::new(false) };
    /// Set when an id did not fit in 64 bits during a fast attempt.
    static ID_OVERFLOW: Cell<bool> = const { Cell::new(false) };
}

/// How [`crate::Id`] asks the deserializer for its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdHint {
    /// `deserialize_u64`: in-place conversion; an id beyond 64 bits fails the attempt.
    U64,
    /// `deserialize_u128`: exact for any id.
    U128,
}

/// The hint for the id being read now.
pub(crate) fn id_hint() -> IdHint {
    if FAST_IDS.with(Cell::get) {
        IdHint::U64
    } else {
        IdHint::U128
    }
}

/// Records that an id did not fit the 64-bit attempt (the body is then decoded again).
pub(crate) fn id_overflowed() {
    ID_OVERFLOW.with(|o| o.set(true));
}

/// Runs `decode` with 64-bit ids first. Returns `None` when an id did not fit (whatever
/// `decode` returned, since that attempt may have failed on it): decode again with
/// [`exact_ids`].
pub(crate) fn fast_ids<T>(decode: impl FnOnce() -> T) -> Option<T> {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            FAST_IDS.with(|f| f.set(self.0));
        }
    }
    let _restore = Restore(FAST_IDS.with(|f| f.replace(true)));
    ID_OVERFLOW.with(|o| o.set(false));
    let out = decode();
    (!ID_OVERFLOW.with(|o| o.replace(false))).then_some(out)
}

/// Runs `decode` with exact 128-bit ids (the default outside [`fast_ids`]).
pub(crate) fn exact_ids<T>(decode: impl FnOnce() -> T) -> T {
    let previous = FAST_IDS.with(|f| f.replace(false));
    let out = decode();
    FAST_IDS.with(|f| f.set(previous));
    out
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

/// Two ASCII digits as a number.
fn two(b: &[u8]) -> Option<u32> {
    let (h, l) = (b[0].wrapping_sub(b'0'), b[1].wrapping_sub(b'0'));
    (h < 10 && l < 10).then(|| u32::from(h) * 10 + u32::from(l))
}

/// `YYYY-MM-DDTHH:MM:SSZ` exactly (Strava's form), or `None` for anything else,
/// including leap seconds and invalid dates, which chrono's parser then decides on.
fn strava_utc(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let year = two(&b[0..2])? * 100 + two(&b[2..4])?;
    let date = NaiveDate::from_ymd_opt(year as i32, two(&b[5..7])?, two(&b[8..10])?)?;
    let (hour, minute, second) = (two(&b[11..13])?, two(&b[14..16])?, two(&b[17..19])?);
    if second > 59 {
        return None;
    }
    Some(date.and_hms_opt(hour, minute, second)?.and_utc())
}

/// Parses as chrono's `Deserialize` for `DateTime<Utc>` does (relaxed RFC 3339), with a
/// fast path for Strava's form.
fn parse_utc(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match strava_utc(s) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

struct UtcVisitor;

impl Visitor<'_> for UtcVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // chrono's wording, so errors read as before.
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        parse_utc(value).map_err(E::custom)
    }
}

/// `deserialize_with` for a `DateTime<Utc>` field: chrono's rules, Strava's form first.
pub(crate) fn utc<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(UtcVisitor)
}

/// `deserialize_with` for an `Option<DateTime<Utc>>` field (`null` is `None`).
pub(crate) fn utc_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    struct OptionVisitor;
    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 formatted date and time string or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            utc(d).map(Some)
        }
    }
    deserializer.deserialize_option(OptionVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path and chrono agree wherever the fast path answers, and it declines
    /// whatever it does not read itself.
    #[test]
    fn dates_match_chrono() {
        let chrono_utc = |s: &str| s.parse::<DateTime<Utc>>().ok();
        for s in [
            "2024-05-02T06:12:33Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
        ] {
            assert_eq!(strava_utc(s), chrono_utc(s), "{s}");
            assert!(strava_utc(s).is_some(), "{s}");
        }
        for s in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-05-02T24:00:00Z",
            "2024-05-02T06:60:00Z",
            "2024-06-30T23:59:60Z",
            "2024-05-02t06:12:33z",
            "2024-05-02 06:12:33Z",
            "2024-05-02T06:12:33+00:00",
            "2024-05-02T06:12:33.5Z",
            "2024-05-02T06:12:3xZ",
            "+2024-05-02T06:12:3Z",
            "",
        ] {
            assert_eq!(strava_utc(s), None, "{s}");
            // The full parser still decides, as chrono's `Deserialize` would.
            assert_eq!(parse_utc(s).ok(), chrono_utc(s), "{s}");
        }
    }

    /// Through the client's decoder, ids beyond 64 bits stay exact (the body is read
    /// again), and what serde_json refuses is still refused.
    #[test]
    fn long_ids_read_again_exactly() {
        use crate::types::{MetaAthlete, SummaryActivity};
        let big = "123456789012345678901234567890";
        let a: MetaAthlete = crate::decode_json(format!(r#"{{"id": {big}}}"#).as_bytes()).unwrap();
        assert_eq!(a.id.map(|id| id.get().to_string()).as_deref(), Some(big));
        let list: Vec<SummaryActivity> = crate::decode_json(
            format!(r#"[{{"id": 7, "start_date": "2024-05-02T06:12:33Z"}}, {{"id": 8, "athlete": {{"id": {big}}}}}]"#)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(list[0].id.and_then(|id| id.as_u64()), Some(7));
        assert_eq!(
            list[1]
                .athlete
                .as_ref()
                .and_then(|a| a.id)
                .map(|id| id.get().to_string())
                .as_deref(),
            Some(big)
        );
        for refused in [
            r#"{"id": 42.0}"#,
            r#"{"id": -1}"#,
            r#"{"id": "42"}"#,
            r#"{"id": 1e3}"#,
        ] {
            let fast = crate::decode_json::<MetaAthlete>(refused.as_bytes());
            let plain = serde_json::from_slice::<MetaAthlete>(refused.as_bytes());
            assert!(fast.is_err() && plain.is_err(), "{refused}");
        }
        // The client's decode error comes from the exact reading, as before.
        let err = crate::call::decode::<MetaAthlete>("getAthlete", br#"{"id": 42.5}"#).unwrap_err();
        assert!(err.is_decode(), "{err}");
    }

    #[test]
    fn id_modes_restore() {
        assert_eq!(id_hint(), IdHint::U128);
        let inner = fast_ids(|| {
            assert_eq!(id_hint(), IdHint::U64);
            exact_ids(id_hint)
        });
        assert_eq!(inner, Some(IdHint::U128));
        assert_eq!(id_hint(), IdHint::U128);
        assert_eq!(fast_ids(id_overflowed), None);
        assert_eq!(fast_ids(|| 1), Some(1));
    }
}
