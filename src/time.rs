//! Activity start times: UTC, the local wall clock, and the activity's time zone resolved.
//!
//! Strava describes when an activity started three ways:
//!
//! - `start_date`: the instant, in UTC (`"2025-10-19T07:42:10Z"`);
//! - `start_date_local`: the wall-clock time where the activity happened, *written as if
//!   it were UTC* (`"2025-10-19T09:42:10Z"` for 09:42 in Amsterdam) — the `Z` is a lie;
//! - `timezone`: a label with the zone's standard offset and its IANA name
//!   (`"(GMT+01:00) Europe/Amsterdam"`); the offset in the label ignores daylight saving
//!   time, so it is only a fallback.
//!
//! [`parse_strava_timezone`] turns the label into an [`ActivityTimeZone`], which
//! implements chrono's [`TimeZone`], and the [`ActivityTimes`] extension trait gives every
//! model with a start time the times users want, like Python stravalib:
//!
//! ```
//! use chrono::{Offset, Timelike};
//! use stravalib::time::ActivityTimes;
//! use stravalib::types::SummaryActivity;
//!
//! let activity: SummaryActivity = serde_json::from_value(serde_json::json!({
//!     "start_date": "2025-10-19T07:42:10Z",
//!     "start_date_local": "2025-10-19T09:42:10Z",
//!     "timezone": "(GMT+01:00) Europe/Amsterdam"
//! }))
//! .unwrap();
//! let start = activity.start_local().unwrap();
//! assert_eq!(start.hour(), 9); // summer time: +02:00, whatever the label says
//! assert_eq!(start.offset().fix().local_minus_utc(), 2 * 3600);
//! assert_eq!(start.to_rfc3339(), "2025-10-19T09:42:10+02:00");
//! assert_eq!(start.to_string(), "2025-10-19 09:42:10 CEST");
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc,
};
use chrono_tz::{OffsetName, Tz, TzOffset};

use crate::types::{DetailedActivity, DetailedSegmentEffort, Lap, SummaryActivity};

/// Why a time zone or a start time could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The time zone label has neither a known zone name nor a readable offset.
    #[error("unrecognized time zone {input:?}")]
    InvalidTimeZone {
        /// The label as given.
        input: String,
    },
    /// The label's parenthesised offset is malformed or out of range (±23:59).
    #[error("invalid UTC offset {input:?} in time zone label")]
    InvalidOffset {
        /// The offset part of the label.
        input: String,
    },
    /// The model has no `timezone`.
    #[error("no time zone")]
    MissingTimeZone,
    /// The model has neither `start_date` nor `start_date_local`.
    #[error("no start date")]
    MissingStartDate,
    /// `start_date_local` is a wall-clock time that does not exist in the zone (it falls
    /// in the gap when clocks go forward), and there is no `start_date` to say which
    /// instant was meant.
    #[error("local time {local} does not exist in {zone} (daylight saving gap)")]
    NonexistentLocalTime {
        /// The wall-clock time.
        local: NaiveDateTime,
        /// The zone.
        zone: String,
    },
    /// `start_date` in the zone does not show the wall clock of `start_date_local`: the
    /// zone label is wrong for this activity, or the zone is only a fixed offset that
    /// ignores daylight saving time.
    #[error("start_date {utc} is {in_zone} in {zone}, but start_date_local says {local}")]
    Inconsistent {
        /// `start_date`.
        utc: DateTime<Utc>,
        /// `start_date` in the zone.
        in_zone: NaiveDateTime,
        /// `start_date_local`'s wall clock.
        local: NaiveDateTime,
        /// The zone.
        zone: String,
    },
}

/// The time zone an activity happened in.
///
/// Usually a named IANA zone, which knows about daylight saving time; a fixed offset
/// when Strava's label names a zone this crate's time zone database does not know (the
/// label's offset, which is the zone's standard time), or when the zone is inferred from
/// the difference between `start_date_local` and `start_date`.
///
/// It is a chrono [`TimeZone`], so `utc.with_timezone(&zone)` and
/// `zone.from_local_datetime(&naive)` work, giving a `DateTime<ActivityTimeZone>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActivityTimeZone {
    /// A zone from the IANA time zone database.
    Named(Tz),
    /// A fixed offset from UTC.
    Fixed(FixedOffset),
}

impl ActivityTimeZone {
    /// The IANA name (`"Europe/Amsterdam"`), or `None` for a fixed offset.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            ActivityTimeZone::Named(tz) => Some(tz.name()),
            ActivityTimeZone::Fixed(_) => None,
        }
    }

    /// The offset from UTC in effect at the instant `utc` (daylight saving included).
    pub fn offset_at(&self, utc: DateTime<Utc>) -> FixedOffset {
        self.offset_from_utc_datetime(&utc.naive_utc()).fix()
    }
}

impl fmt::Display for ActivityTimeZone {
    /// The IANA name, or the offset as `+01:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActivityTimeZone::Named(tz) => f.write_str(tz.name()),
            ActivityTimeZone::Fixed(offset) => fmt::Display::fmt(offset, f),
        }
    }
}

impl FromStr for ActivityTimeZone {
    type Err = TimeError;

    /// The same as [`parse_strava_timezone`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_strava_timezone(s)
    }
}

impl From<Tz> for ActivityTimeZone {
    fn from(tz: Tz) -> Self {
        ActivityTimeZone::Named(tz)
    }
}

impl From<FixedOffset> for ActivityTimeZone {
    fn from(offset: FixedOffset) -> Self {
        ActivityTimeZone::Fixed(offset)
    }
}

/// The offset of an [`ActivityTimeZone`] at some instant (chrono's `TimeZone::Offset`).
///
/// `Display` shows a named zone's abbreviation (`CEST`, `PDT`) and a fixed offset as
/// `+01:00`; [`Offset::fix`] gives the offset from UTC either way.
#[derive(Clone, Copy, Debug)]
pub enum ActivityOffset {
    /// The offset of a named zone, with its abbreviation.
    Named(TzOffset),
    /// A fixed offset.
    Fixed(FixedOffset),
}

impl ActivityOffset {
    /// The zone's abbreviation at this instant (`"CEST"`), when it has one.
    pub fn abbreviation(&self) -> Option<&str> {
        match self {
            ActivityOffset::Named(offset) => offset.abbreviation(),
            ActivityOffset::Fixed(_) => None,
        }
    }
}

impl PartialEq for ActivityOffset {
    /// Equal when they come from the same zone and are the same offset from UTC.
    fn eq(&self, other: &Self) -> bool {
        ActivityTimeZone::from_offset(self) == ActivityTimeZone::from_offset(other)
            && self.fix() == other.fix()
    }
}

impl Offset for ActivityOffset {
    fn fix(&self) -> FixedOffset {
        match self {
            ActivityOffset::Named(offset) => offset.fix(),
            ActivityOffset::Fixed(offset) => *offset,
        }
    }
}

impl fmt::Display for ActivityOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActivityOffset::Named(offset) => fmt::Display::fmt(offset, f),
            ActivityOffset::Fixed(offset) => fmt::Display::fmt(offset, f),
        }
    }
}

impl TimeZone for ActivityTimeZone {
    type Offset = ActivityOffset;

    fn from_offset(offset: &ActivityOffset) -> Self {
        match offset {
            ActivityOffset::Named(offset) => ActivityTimeZone::Named(Tz::from_offset(offset)),
            ActivityOffset::Fixed(offset) => ActivityTimeZone::Fixed(*offset),
        }
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<ActivityOffset> {
        match self {
            ActivityTimeZone::Named(tz) => {
                tz.offset_from_local_date(local).map(ActivityOffset::Named)
            }
            ActivityTimeZone::Fixed(offset) => offset
                .offset_from_local_date(local)
                .map(ActivityOffset::Fixed),
        }
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<ActivityOffset> {
        match self {
            ActivityTimeZone::Named(tz) => tz
                .offset_from_local_datetime(local)
                .map(ActivityOffset::Named),
            ActivityTimeZone::Fixed(offset) => offset
                .offset_from_local_datetime(local)
                .map(ActivityOffset::Fixed),
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ActivityOffset {
        match self {
            ActivityTimeZone::Named(tz) => ActivityOffset::Named(tz.offset_from_utc_date(utc)),
            ActivityTimeZone::Fixed(offset) => ActivityOffset::Fixed(*offset),
        }
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ActivityOffset {
        match self {
            ActivityTimeZone::Named(tz) => ActivityOffset::Named(tz.offset_from_utc_datetime(utc)),
            ActivityTimeZone::Fixed(offset) => ActivityOffset::Fixed(*offset),
        }
    }
}

/// Parses Strava's `timezone` label.
///
/// Accepts `"(GMT+01:00) Europe/Amsterdam"` (the usual form; `UTC` is accepted for
/// `GMT`, and `±HH`, `±HHMM` or `±H:MM` for the offset), a bare IANA name
/// (`"Europe/Amsterdam"`), or a bare offset (`"(GMT-03:00)"`, `"GMT+05:30"`).
///
/// - A name the time zone database knows (matched exactly, then ignoring ASCII case)
///   gives [`ActivityTimeZone::Named`]; the label's offset is ignored, as it is the
///   zone's standard offset whatever the date.
/// - An unknown name after a valid offset gives [`ActivityTimeZone::Fixed`] with that
///   offset (it ignores daylight saving time).
/// - Anything else is a [`TimeError`]: a malformed or out-of-range offset is
///   [`InvalidOffset`](TimeError::InvalidOffset), the rest
///   [`InvalidTimeZone`](TimeError::InvalidTimeZone).
///
/// ```
/// use stravalib::time::{parse_strava_timezone, ActivityTimeZone};
///
/// let zone = parse_strava_timezone("(GMT-08:00) America/Los_Angeles").unwrap();
/// assert_eq!(zone, ActivityTimeZone::Named(chrono_tz::America::Los_Angeles));
/// assert!(parse_strava_timezone("not a zone").is_err());
/// ```
pub fn parse_strava_timezone(label: &str) -> Result<ActivityTimeZone, TimeError> {
    let invalid = || TimeError::InvalidTimeZone {
        input: label.to_owned(),
    };
    let trimmed = label.trim();
    let (offset, name) = match trimmed.strip_prefix('(') {
        Some(rest) => {
            let close = rest.find(')').ok_or_else(invalid)?;
            let offset =
                parse_gmt_offset(&rest[..close]).ok_or_else(|| TimeError::InvalidOffset {
                    input: rest[..close].to_owned(),
                })?;
            (Some(offset), rest[close + 1..].trim())
        }
        None => (None, trimmed),
    };
    if let Some(tz) = lookup_zone(name) {
        return Ok(ActivityTimeZone::Named(tz));
    }
    if let Some(offset) = offset {
        return Ok(ActivityTimeZone::Fixed(offset));
    }
    // A bare offset without parentheses: "GMT+05:30", "+05:30".
    parse_gmt_offset(name)
        .map(ActivityTimeZone::Fixed)
        .ok_or_else(invalid)
}

/// A zone of the database by name: exactly, then ignoring ASCII case.
fn lookup_zone(name: &str) -> Option<Tz> {
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
    })
}

/// `GMT+01:00`, `UTC-0800`, `GMT+5`, `GMT`, `+05:30`: an offset within ±23:59.
fn parse_gmt_offset(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    let rest = ["GMT", "UTC"]
        .iter()
        .find_map(|prefix| {
            text.get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .map(|_| &text[prefix.len()..])
        })
        .unwrap_or(text)
        .trim_start();
    if rest.is_empty() {
        // "GMT" alone; but an empty label is no offset at all.
        return (!text.is_empty())
            .then(|| FixedOffset::east_opt(0))
            .flatten();
    }
    let (sign, digits) = if let Some(d) = rest.strip_prefix('+') {
        (1, d)
    } else if let Some(d) = rest
        .strip_prefix('-')
        .or_else(|| rest.strip_prefix('\u{2212}'))
    {
        (-1, d)
    } else {
        return None;
    };
    if !digits.is_ascii() {
        return None;
    }
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() > 2 => digits.split_at(digits.len() - 2),
        None => (digits, "00"),
    };
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || minutes.len() != 2 || !all_digits(minutes) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

mod sealed {
    use chrono::{DateTime, Utc};

    /// The raw fields behind [`super::ActivityTimes`]; not implementable outside the crate.
    pub trait Sealed {
        fn raw_start_date(&self) -> Option<DateTime<Utc>>;
        fn raw_start_date_local(&self) -> Option<DateTime<Utc>>;
        fn raw_timezone(&self) -> Option<&str>;
    }
}

/// Start times of the generated models: [`SummaryActivity`], [`DetailedActivity`], and,
/// without a `timezone` of their own, [`Lap`] and [`DetailedSegmentEffort`].
///
/// | method | gives |
/// |---|---|
/// | [`start_utc`](ActivityTimes::start_utc) | `start_date`, a UTC instant |
/// | [`local_naive`](ActivityTimes::local_naive) | `start_date_local`'s wall clock, without the bogus `Z` |
/// | [`time_zone`](ActivityTimes::time_zone) | `timezone`, parsed |
/// | [`utc_offset`](ActivityTimes::utc_offset) | the offset Strava applied: `start_date_local - start_date` |
/// | [`start_local`](ActivityTimes::start_local) | the start in its zone, best effort |
/// | [`try_start_local`](ActivityTimes::try_start_local) | the same, strictly, with a typed error |
///
/// Nothing here panics, whatever the fields hold.
pub trait ActivityTimes: sealed::Sealed {
    /// `start_date`: when the activity started, in UTC.
    fn start_utc(&self) -> Option<DateTime<Utc>> {
        self.raw_start_date()
    }

    /// `start_date_local` as the wall-clock time it really is (Strava marks it UTC).
    fn local_naive(&self) -> Option<NaiveDateTime> {
        self.raw_start_date_local().map(|local| local.naive_utc())
    }

    /// `timezone` parsed with [`parse_strava_timezone`]; `None` when there is none.
    fn time_zone(&self) -> Option<Result<ActivityTimeZone, TimeError>> {
        self.raw_timezone().map(parse_strava_timezone)
    }

    /// The offset from UTC Strava used for `start_date_local`: the difference between
    /// the two start dates, when both are present and it is a valid offset (±24 h).
    fn utc_offset(&self) -> Option<FixedOffset> {
        let utc = self.raw_start_date()?;
        let local = self.local_naive()?;
        let seconds = (local - utc.naive_utc()).num_seconds();
        FixedOffset::east_opt(i32::try_from(seconds).ok()?)
    }

    /// The start in the activity's zone, strictly.
    ///
    /// Needs a `timezone` that parses. With `start_date`, that instant in the zone, which
    /// must show `start_date_local`'s wall clock when it is present (else
    /// [`TimeError::Inconsistent`]). Without `start_date`, `start_date_local` placed in
    /// the zone: the earlier instant when the wall clock happens twice (clocks going
    /// back), [`TimeError::NonexistentLocalTime`] when it never happens (clocks going
    /// forward).
    fn try_start_local(&self) -> Result<DateTime<ActivityTimeZone>, TimeError> {
        let zone = self.time_zone().ok_or(TimeError::MissingTimeZone)??;
        let local = self.local_naive();
        match (self.raw_start_date(), local) {
            (Some(utc), local) => {
                let zoned = utc.with_timezone(&zone);
                match local {
                    Some(local) if local != zoned.naive_local() => Err(TimeError::Inconsistent {
                        utc,
                        in_zone: zoned.naive_local(),
                        local,
                        zone: zone.to_string(),
                    }),
                    _ => Ok(zoned),
                }
            }
            (None, Some(local)) => zone.from_local_datetime(&local).earliest().ok_or_else(|| {
                TimeError::NonexistentLocalTime {
                    local,
                    zone: zone.to_string(),
                }
            }),
            (None, None) => Err(TimeError::MissingStartDate),
        }
    }

    /// The start in the activity's zone, as well as the fields allow.
    ///
    /// - With a `timezone` that parses and `start_date`: that instant in the zone — unless
    ///   it does not show `start_date_local`'s wall clock, in which case the zone is
    ///   wrong for this activity and the instant gets the offset Strava used
    ///   ([`utc_offset`](ActivityTimes::utc_offset)) instead, so the wall clock matches
    ///   what Strava shows.
    /// - With a zone and only `start_date_local`: as [`try_start_local`](ActivityTimes::try_start_local).
    /// - Without a usable zone (laps and efforts have none): `start_date` with the offset
    ///   Strava used.
    /// - `None` when there is no start date, or only one of them and no zone, or the wall
    ///   clock does not exist in the zone.
    fn start_local(&self) -> Option<DateTime<ActivityTimeZone>> {
        let zone = self.time_zone().and_then(Result::ok);
        let utc = self.raw_start_date();
        let local = self.local_naive();
        let with_strava_offset = |utc: DateTime<Utc>| {
            self.utc_offset()
                .map(|offset| utc.with_timezone(&ActivityTimeZone::Fixed(offset)))
        };
        match (zone, utc, local) {
            (Some(zone), Some(utc), local) => {
                let zoned = utc.with_timezone(&zone);
                match local {
                    Some(local) if local != zoned.naive_local() => {
                        with_strava_offset(utc).or(Some(zoned))
                    }
                    _ => Some(zoned),
                }
            }
            (Some(zone), None, Some(local)) => zone.from_local_datetime(&local).earliest(),
            (None, Some(utc), Some(_)) => with_strava_offset(utc),
            _ => None,
        }
    }
}

macro_rules! activity_times {
    ($ty:ty, $timezone:expr) => {
        impl sealed::Sealed for $ty {
            fn raw_start_date(&self) -> Option<DateTime<Utc>> {
                self.start_date
            }
            fn raw_start_date_local(&self) -> Option<DateTime<Utc>> {
                self.start_date_local
            }
            fn raw_timezone(&self) -> Option<&str> {
                let timezone: fn(&$ty) -> Option<&str> = $timezone;
                timezone(self)
            }
        }
        impl ActivityTimes for $ty {}
    };
}

activity_times!(SummaryActivity, |a| a.timezone.as_deref());
activity_times!(DetailedActivity, |a| a.timezone.as_deref());
activity_times!(Lap, |_| None);
activity_times!(DetailedSegmentEffort, |_| None);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let east = |s| FixedOffset::east_opt(s).unwrap();
        assert_eq!(parse_gmt_offset("GMT+01:00"), Some(east(3600)));
        assert_eq!(parse_gmt_offset("utc-0800"), Some(east(-8 * 3600)));
        assert_eq!(parse_gmt_offset("GMT+5"), Some(east(5 * 3600)));
        assert_eq!(parse_gmt_offset("GMT+5:45"), Some(east(5 * 3600 + 45 * 60)));
        assert_eq!(parse_gmt_offset("GMT"), Some(east(0)));
        assert_eq!(parse_gmt_offset("+14:00"), Some(east(14 * 3600)));
        for bad in [
            "",
            "GMT+24:00",
            "GMT+01:60",
            "GMT+1:2",
            "GMT+123:00",
            "GMT 01:00",
            "GMT+",
            "GMT+01:00x",
            "GMT+é",
            "x",
            "+-1",
        ] {
            assert_eq!(parse_gmt_offset(bad), None, "{bad:?}");
        }
    }
}
