//! Typed quantities for Strava's numbers: distances, elevations, speeds and durations.
//!
//! Strava sends every quantity as a bare number in SI units: distances and elevations
//! in meters, speeds in meters per second, times in whole seconds. This module wraps
//! them in small `Copy` types that convert to whatever unit you display, like Python
//! stravalib's unit helper, with no units crate:
//!
//! - [`Distance`] (meters, kilometers, miles, feet, yards),
//! - [`Elevation`] (meters, feet; a height or a climb),
//! - [`Speed`] (m/s, km/h, mph, and pace per kilometer or mile as a [`Duration`]),
//! - [`duration`] helpers turning Strava's seconds into [`std::time::Duration`] and
//!   formatting it as `h:mm:ss` ([`Hms`]).
//!
//! Every type implements `Display` with a sensible unit (`"10.55 km"`, `"48 m"`,
//! `"10.8 km/h"`); [`Distance::display_in`] and friends display in the athlete's
//! [`Measurement`] system, which comes from the generated
//! [`MeasurementPreference`].
//!
//! # Activities, laps and splits
//!
//! The generated models keep Strava's raw fields (`activity.distance: Option<f64>`). To
//! avoid confusion with those fields, the typed view lives behind one method,
//! [`Quantities::quantities`], returning an [`ActivityQuantities`] whose fields carry
//! the same names but typed values:
//!
//! ```
//! use stravalib::types::SummaryActivity;
//! use stravalib::units::{Measurement, Quantities};
//!
//! let activity: SummaryActivity = serde_json::from_value(serde_json::json!({
//!     "distance": 10550.0,
//!     "moving_time": 2971,
//!     "average_speed": 3.551,
//!     "total_elevation_gain": 48.6
//! }))
//! .unwrap();
//! let q = activity.quantities();
//! let distance = q.distance.unwrap();
//! assert_eq!(distance.to_string(), "10.55 km");
//! assert_eq!(distance.display_in(Measurement::Imperial).to_string(), "6.56 mi");
//! assert_eq!(q.average_speed.unwrap().pace(Measurement::Metric).unwrap().to_string(), "4:42 /km");
//! assert_eq!(stravalib::units::Hms(q.moving_time.unwrap()).to_string(), "0:49:31");
//! ```

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};
use std::time::Duration;

use crate::types::{
    DetailedActivity, DetailedSegmentEffort, Lap, MeasurementPreference, Split, SummaryActivity,
};

/// Meters in a kilometer.
pub const METERS_PER_KILOMETER: f64 = 1000.0;
/// Meters in an international mile (exact).
pub const METERS_PER_MILE: f64 = 1609.344;
/// Meters in an international foot (exact).
pub const METERS_PER_FOOT: f64 = 0.3048;
/// Meters in an international yard (exact).
pub const METERS_PER_YARD: f64 = 0.9144;
/// Seconds in an hour.
const SECONDS_PER_HOUR: f64 = 3600.0;

/// The system of units to display quantities in.
///
/// Built from the athlete's preference with `From<&MeasurementPreference>`: `meters`
/// is [`Metric`](Measurement::Metric), `feet` is [`Imperial`](Measurement::Imperial),
/// and a value this crate does not know falls back to metric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measurement {
    /// Kilometers, meters, km/h, pace per kilometer.
    #[default]
    Metric,
    /// Miles, feet, mph, pace per mile.
    Imperial,
}

impl Measurement {
    /// The system for an athlete's preference, metric when it is absent or unknown.
    ///
    /// `athlete.measurement_preference.as_ref()` goes straight in.
    pub fn from_preference(preference: Option<&MeasurementPreference>) -> Self {
        preference.map(Self::from).unwrap_or_default()
    }
}

impl From<&MeasurementPreference> for Measurement {
    fn from(preference: &MeasurementPreference) -> Self {
        match preference {
            MeasurementPreference::Feet => Measurement::Imperial,
            _ => Measurement::Metric,
        }
    }
}

impl From<MeasurementPreference> for Measurement {
    fn from(preference: MeasurementPreference) -> Self {
        Self::from(&preference)
    }
}

/// Implements arithmetic, `Sum` and `Neg` for an `f64` newtype quantity.
macro_rules! quantity_ops {
    ($ty:ident) => {
        impl Add for $ty {
            type Output = $ty;
            fn add(self, rhs: $ty) -> $ty {
                $ty(self.0 + rhs.0)
            }
        }
        impl Sub for $ty {
            type Output = $ty;
            fn sub(self, rhs: $ty) -> $ty {
                $ty(self.0 - rhs.0)
            }
        }
        impl AddAssign for $ty {
            fn add_assign(&mut self, rhs: $ty) {
                self.0 += rhs.0;
            }
        }
        impl SubAssign for $ty {
            fn sub_assign(&mut self, rhs: $ty) {
                self.0 -= rhs.0;
            }
        }
        impl Mul<f64> for $ty {
            type Output = $ty;
            fn mul(self, rhs: f64) -> $ty {
                $ty(self.0 * rhs)
            }
        }
        impl Mul<$ty> for f64 {
            type Output = $ty;
            fn mul(self, rhs: $ty) -> $ty {
                $ty(self * rhs.0)
            }
        }
        impl Div<f64> for $ty {
            type Output = $ty;
            fn div(self, rhs: f64) -> $ty {
                $ty(self.0 / rhs)
            }
        }
        /// The ratio of two quantities of the same kind.
        impl Div for $ty {
            type Output = f64;
            fn div(self, rhs: $ty) -> f64 {
                self.0 / rhs.0
            }
        }
        impl Neg for $ty {
            type Output = $ty;
            fn neg(self) -> $ty {
                $ty(-self.0)
            }
        }
        impl Sum for $ty {
            fn sum<I: Iterator<Item = $ty>>(iter: I) -> $ty {
                $ty(iter.map(|q| q.0).sum())
            }
        }
        impl<'a> Sum<&'a $ty> for $ty {
            fn sum<I: Iterator<Item = &'a $ty>>(iter: I) -> $ty {
                $ty(iter.map(|q| q.0).sum())
            }
        }
    };
}

/// Writes `value` with the formatter's precision (or `default_precision`) and a unit.
fn write_quantity(
    f: &mut fmt::Formatter<'_>,
    value: f64,
    default_precision: usize,
    unit: &str,
) -> fmt::Result {
    let precision = f.precision().unwrap_or(default_precision);
    write!(f, "{value:.precision$} {unit}")
}

// ---------------------------------------------------------------------------------------
// Distance

/// A distance, stored in meters (Strava's unit).
///
/// `Display` shows kilometers with two decimals (`"10.55 km"`); a precision in the format
/// string overrides the decimals (`format!("{:.1}", d)` is `"10.6 km"`). For miles, use
/// [`display_in`](Distance::display_in).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Distance(f64);

quantity_ops!(Distance);

impl Distance {
    /// No distance.
    pub const ZERO: Distance = Distance(0.0);

    /// A distance of `meters` meters.
    pub const fn from_meters(meters: f64) -> Self {
        Distance(meters)
    }
    /// A distance of `kilometers` kilometers.
    pub fn from_kilometers(kilometers: f64) -> Self {
        Distance(kilometers * METERS_PER_KILOMETER)
    }
    /// A distance of `miles` international miles.
    pub fn from_miles(miles: f64) -> Self {
        Distance(miles * METERS_PER_MILE)
    }
    /// A distance of `feet` international feet.
    pub fn from_feet(feet: f64) -> Self {
        Distance(feet * METERS_PER_FOOT)
    }
    /// A distance of `yards` international yards.
    pub fn from_yards(yards: f64) -> Self {
        Distance(yards * METERS_PER_YARD)
    }

    /// In meters.
    pub const fn meters(self) -> f64 {
        self.0
    }
    /// In kilometers.
    pub fn kilometers(self) -> f64 {
        self.0 / METERS_PER_KILOMETER
    }
    /// In international miles.
    pub fn miles(self) -> f64 {
        self.0 / METERS_PER_MILE
    }
    /// In international feet.
    pub fn feet(self) -> f64 {
        self.0 / METERS_PER_FOOT
    }
    /// In international yards.
    pub fn yards(self) -> f64 {
        self.0 / METERS_PER_YARD
    }

    /// The same length as an [`Elevation`].
    pub const fn as_elevation(self) -> Elevation {
        Elevation(self.0)
    }

    /// The average speed covering this distance in `time`; `None` when `time` is zero.
    pub fn per(self, time: Duration) -> Option<Speed> {
        Speed::from_distance_and_time(self, time)
    }

    /// Displays in kilometers (metric) or miles (imperial): `"10.55 km"`, `"6.56 mi"`.
    pub fn display_in(self, system: Measurement) -> InUnits<Distance> {
        InUnits {
            value: self,
            system,
        }
    }
}

impl fmt::Display for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_quantity(f, self.kilometers(), 2, "km")
    }
}

// ---------------------------------------------------------------------------------------
// Elevation

/// A height or a vertical distance (elevation gain), stored in meters.
///
/// A separate type from [`Distance`] because it is displayed differently: in whole
/// meters or feet (`"48 m"`, `"159 ft"`) rather than kilometers or miles. A precision in
/// the format string adds decimals (`format!("{:.1}", e)` is `"48.6 m"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Elevation(f64);

quantity_ops!(Elevation);

impl Elevation {
    /// No elevation.
    pub const ZERO: Elevation = Elevation(0.0);

    /// An elevation of `meters` meters.
    pub const fn from_meters(meters: f64) -> Self {
        Elevation(meters)
    }
    /// An elevation of `feet` international feet.
    pub fn from_feet(feet: f64) -> Self {
        Elevation(feet * METERS_PER_FOOT)
    }

    /// In meters.
    pub const fn meters(self) -> f64 {
        self.0
    }
    /// In international feet.
    pub fn feet(self) -> f64 {
        self.0 / METERS_PER_FOOT
    }

    /// The same length as a [`Distance`].
    pub const fn as_distance(self) -> Distance {
        Distance(self.0)
    }

    /// Displays in meters (metric) or feet (imperial): `"48 m"`, `"159 ft"`.
    pub fn display_in(self, system: Measurement) -> InUnits<Elevation> {
        InUnits {
            value: self,
            system,
        }
    }
}

impl fmt::Display for Elevation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_quantity(f, self.0, 0, "m")
    }
}

// ---------------------------------------------------------------------------------------
// Speed

/// A speed, stored in meters per second (Strava's unit).
///
/// `Display` shows km/h with one decimal (`"10.8 km/h"`); a precision in the format string
/// overrides the decimals. For mph use [`display_in`](Speed::display_in); for a runner's
/// pace use [`pace`](Speed::pace), [`pace_per_km`](Speed::pace_per_km) or
/// [`pace_per_mile`](Speed::pace_per_mile).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Speed(f64);

quantity_ops!(Speed);

impl Speed {
    /// Standing still.
    pub const ZERO: Speed = Speed(0.0);

    /// A speed of `mps` meters per second.
    pub const fn from_meters_per_second(mps: f64) -> Self {
        Speed(mps)
    }
    /// A speed of `kmh` kilometers per hour.
    pub fn from_kilometers_per_hour(kmh: f64) -> Self {
        Speed(kmh * METERS_PER_KILOMETER / SECONDS_PER_HOUR)
    }
    /// A speed of `mph` miles per hour.
    pub fn from_miles_per_hour(mph: f64) -> Self {
        Speed(mph * METERS_PER_MILE / SECONDS_PER_HOUR)
    }
    /// The average speed covering `distance` in `time`; `None` when `time` is zero.
    pub fn from_distance_and_time(distance: Distance, time: Duration) -> Option<Self> {
        let seconds = time.as_secs_f64();
        (seconds > 0.0).then(|| Speed(distance.0 / seconds))
    }
    /// The speed of running a kilometer in `pace`; `None` when `pace` is zero.
    pub fn from_pace_per_km(pace: Duration) -> Option<Self> {
        Self::from_distance_and_time(Distance(METERS_PER_KILOMETER), pace)
    }
    /// The speed of running a mile in `pace`; `None` when `pace` is zero.
    pub fn from_pace_per_mile(pace: Duration) -> Option<Self> {
        Self::from_distance_and_time(Distance(METERS_PER_MILE), pace)
    }

    /// In meters per second.
    pub const fn meters_per_second(self) -> f64 {
        self.0
    }
    /// In kilometers per hour.
    pub fn kilometers_per_hour(self) -> f64 {
        self.0 * SECONDS_PER_HOUR / METERS_PER_KILOMETER
    }
    /// In miles per hour.
    pub fn miles_per_hour(self) -> f64 {
        self.0 * SECONDS_PER_HOUR / METERS_PER_MILE
    }

    /// The time to cover one kilometer at this speed.
    ///
    /// `None` when the speed is zero, negative or not a number (no finite pace), or so
    /// small that the pace does not fit a [`Duration`].
    pub fn pace_per_km(self) -> Option<Duration> {
        self.time_for(Distance(METERS_PER_KILOMETER))
    }
    /// The time to cover one mile at this speed; `None` as for
    /// [`pace_per_km`](Speed::pace_per_km).
    pub fn pace_per_mile(self) -> Option<Duration> {
        self.time_for(Distance(METERS_PER_MILE))
    }
    /// The pace in the unit of `system` (per kilometer or per mile), ready to display
    /// (`"4:42 /km"`); `None` as for [`pace_per_km`](Speed::pace_per_km).
    pub fn pace(self, system: Measurement) -> Option<Pace> {
        let per = match system {
            Measurement::Metric => self.pace_per_km(),
            Measurement::Imperial => self.pace_per_mile(),
        }?;
        Some(Pace { per, system })
    }

    /// The time to cover `distance` at this speed; `None` when the speed is not positive
    /// or the result is negative, not a number, or too long for a [`Duration`].
    pub fn time_for(self, distance: Distance) -> Option<Duration> {
        if self.0.is_nan() || self.0 <= 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(distance.0 / self.0).ok()
    }

    /// Displays in km/h (metric) or mph (imperial): `"10.8 km/h"`, `"6.7 mph"`.
    pub fn display_in(self, system: Measurement) -> InUnits<Speed> {
        InUnits {
            value: self,
            system,
        }
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_quantity(f, self.kilometers_per_hour(), 1, "km/h")
    }
}

/// A pace: the time to cover one kilometer or one mile, from [`Speed::pace`].
///
/// Displays as `m:ss /km` or `m:ss /mi` (`h:mm:ss` past an hour), rounded to the
/// nearest second: `"4:42 /km"`, `"8:56 /mi"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pace {
    per: Duration,
    system: Measurement,
}

impl Pace {
    /// The time per kilometer or mile.
    pub const fn duration(self) -> Duration {
        self.per
    }
    /// Whether this is per kilometer ([`Metric`](Measurement::Metric)) or per mile.
    pub const fn system(self) -> Measurement {
        self.system
    }
}

impl fmt::Display for Pace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.system {
            Measurement::Metric => "km",
            Measurement::Imperial => "mi",
        };
        write!(f, "{} /{unit}", Clock(self.per))
    }
}

// ---------------------------------------------------------------------------------------
// Display in a chosen system

/// A quantity displayed in a chosen [`Measurement`] system, from `display_in`.
///
/// | quantity     | metric      | imperial  |
/// |--------------|-------------|-----------|
/// | [`Distance`] | `10.55 km`  | `6.56 mi` |
/// | [`Elevation`]| `48 m`      | `159 ft`  |
/// | [`Speed`]    | `10.8 km/h` | `6.7 mph` |
///
/// A precision in the format string overrides the default decimals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InUnits<T> {
    value: T,
    system: Measurement,
}

impl<T: Copy> InUnits<T> {
    /// The quantity being displayed.
    pub fn value(&self) -> T {
        self.value
    }
    /// The system it is displayed in.
    pub fn system(&self) -> Measurement {
        self.system
    }
}

impl fmt::Display for InUnits<Distance> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.system {
            Measurement::Metric => write_quantity(f, self.value.kilometers(), 2, "km"),
            Measurement::Imperial => write_quantity(f, self.value.miles(), 2, "mi"),
        }
    }
}

impl fmt::Display for InUnits<Elevation> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.system {
            Measurement::Metric => write_quantity(f, self.value.meters(), 0, "m"),
            Measurement::Imperial => write_quantity(f, self.value.feet(), 0, "ft"),
        }
    }
}

impl fmt::Display for InUnits<Speed> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.system {
            Measurement::Metric => write_quantity(f, self.value.kilometers_per_hour(), 1, "km/h"),
            Measurement::Imperial => write_quantity(f, self.value.miles_per_hour(), 1, "mph"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Durations

/// Strava's times (`moving_time`, `elapsed_time`, ...) are whole seconds; these turn them
/// into [`std::time::Duration`] without panicking on odd values.
pub mod duration {
    use std::time::Duration;

    /// `seconds` as a duration; a negative count (never sent by Strava) is zero.
    pub fn from_seconds(seconds: i64) -> Duration {
        checked_from_seconds(seconds).unwrap_or(Duration::ZERO)
    }

    /// `seconds` as a duration, or `None` when negative.
    pub fn checked_from_seconds(seconds: i64) -> Option<Duration> {
        u64::try_from(seconds).ok().map(Duration::from_secs)
    }

    /// Fractional `seconds` as a duration: negative or NaN is zero, and a count too large
    /// for a [`Duration`] (including infinity) is [`Duration::MAX`].
    pub fn from_seconds_f64(seconds: f64) -> Duration {
        if seconds.is_nan() || seconds <= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
        }
    }

    /// Formats as `h:mm:ss` (hours unbounded, rounded to the nearest second), e.g.
    /// `"1:02:03"`; the same as `Hms(duration).to_string()`.
    pub fn format_hms(duration: Duration) -> String {
        super::Hms(duration).to_string()
    }
}

/// Rounds a duration to whole seconds, halves up, saturating at `u64::MAX`.
fn round_seconds(duration: Duration) -> u64 {
    let secs = duration.as_secs();
    if duration.subsec_nanos() >= 500_000_000 {
        secs.saturating_add(1)
    } else {
        secs
    }
}

/// Displays a [`Duration`] as `h:mm:ss`, rounded to the nearest second: `"0:49:31"`,
/// `"27:03:04"` (hours are not wrapped into days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hms(pub Duration);

impl fmt::Display for Hms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = round_seconds(self.0);
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
        write!(f, "{h}:{m:02}:{s:02}")
    }
}

/// Like a stopwatch: `m:ss` under an hour, `h:mm:ss` from an hour on (for paces).
struct Clock(Duration);

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = round_seconds(self.0);
        if total >= 3600 {
            Hms(Duration::from_secs(total)).fmt(f)
        } else {
            write!(f, "{}:{:02}", total / 60, total % 60)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Typed views of the generated models

/// The quantities of an activity, lap, split or segment effort, typed.
///
/// Each field is `None` when Strava did not send the raw field (or, for times, sent a
/// negative count). Fields a model does not have are always `None` (a split has no
/// `max_speed`; only a split has `elevation_difference`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ActivityQuantities {
    /// `distance`.
    pub distance: Option<Distance>,
    /// `moving_time`.
    pub moving_time: Option<Duration>,
    /// `elapsed_time`.
    pub elapsed_time: Option<Duration>,
    /// `average_speed`.
    pub average_speed: Option<Speed>,
    /// `max_speed`.
    pub max_speed: Option<Speed>,
    /// `total_elevation_gain`.
    pub total_elevation_gain: Option<Elevation>,
    /// `elev_high`: the highest point.
    pub elev_high: Option<Elevation>,
    /// `elev_low`: the lowest point.
    pub elev_low: Option<Elevation>,
    /// `elevation_difference` (splits): the climb from the split's start to its end,
    /// negative downhill.
    pub elevation_difference: Option<Elevation>,
}

/// Typed quantities for the generated models that carry distances, speeds and times:
/// [`SummaryActivity`], [`DetailedActivity`], [`Lap`], [`Split`] and
/// [`DetailedSegmentEffort`].
///
/// Bring the trait into scope and call `quantities()`:
///
/// ```
/// use stravalib::units::Quantities;
/// # let lap: stravalib::types::Lap = serde_json::from_value(serde_json::json!({"distance": 1000.0, "moving_time": 282})).unwrap();
/// let q = lap.quantities();
/// assert_eq!(q.distance.unwrap().kilometers(), 1.0);
/// assert_eq!(q.distance.unwrap().per(q.moving_time.unwrap()).unwrap().pace_per_km().unwrap().as_secs(), 282);
/// ```
pub trait Quantities {
    /// The typed quantities.
    fn quantities(&self) -> ActivityQuantities;
}

fn secs(seconds: Option<i64>) -> Option<Duration> {
    seconds.and_then(duration::checked_from_seconds)
}

impl Quantities for SummaryActivity {
    fn quantities(&self) -> ActivityQuantities {
        ActivityQuantities {
            distance: self.distance.map(Distance),
            moving_time: secs(self.moving_time),
            elapsed_time: secs(self.elapsed_time),
            average_speed: self.average_speed.map(Speed),
            max_speed: self.max_speed.map(Speed),
            total_elevation_gain: self.total_elevation_gain.map(Elevation),
            elev_high: self.elev_high.map(Elevation),
            elev_low: self.elev_low.map(Elevation),
            elevation_difference: None,
        }
    }
}

impl Quantities for DetailedActivity {
    fn quantities(&self) -> ActivityQuantities {
        ActivityQuantities {
            distance: self.distance.map(Distance),
            moving_time: secs(self.moving_time),
            elapsed_time: secs(self.elapsed_time),
            average_speed: self.average_speed.map(Speed),
            max_speed: self.max_speed.map(Speed),
            total_elevation_gain: self.total_elevation_gain.map(Elevation),
            elev_high: self.elev_high.map(Elevation),
            elev_low: self.elev_low.map(Elevation),
            elevation_difference: None,
        }
    }
}

impl Quantities for Lap {
    fn quantities(&self) -> ActivityQuantities {
        ActivityQuantities {
            distance: self.distance.map(Distance),
            moving_time: secs(self.moving_time),
            elapsed_time: secs(self.elapsed_time),
            average_speed: self.average_speed.map(Speed),
            max_speed: self.max_speed.map(Speed),
            total_elevation_gain: self.total_elevation_gain.map(Elevation),
            ..ActivityQuantities::default()
        }
    }
}

impl Quantities for Split {
    fn quantities(&self) -> ActivityQuantities {
        ActivityQuantities {
            distance: self.distance.map(Distance),
            moving_time: secs(self.moving_time),
            elapsed_time: secs(self.elapsed_time),
            average_speed: self.average_speed.map(Speed),
            elevation_difference: self.elevation_difference.map(Elevation),
            ..ActivityQuantities::default()
        }
    }
}

impl Quantities for DetailedSegmentEffort {
    fn quantities(&self) -> ActivityQuantities {
        ActivityQuantities {
            distance: self.distance.map(Distance),
            moving_time: secs(self.moving_time),
            elapsed_time: secs(self.elapsed_time),
            ..ActivityQuantities::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_rounds_and_carries() {
        // 359.6 s rounds up to 6:00, not 5:60.
        let pace = Pace {
            per: Duration::from_millis(359_600),
            system: Measurement::Metric,
        };
        assert_eq!(pace.to_string(), "6:00 /km");
        let slow = Pace {
            per: Duration::from_secs(3725),
            system: Measurement::Imperial,
        };
        assert_eq!(slow.to_string(), "1:02:05 /mi");
    }

    #[test]
    fn hms_saturates() {
        assert_eq!(Hms(Duration::MAX).to_string(), "5124095576030431:00:15");
    }

    #[test]
    fn odd_speeds_have_no_pace() {
        for mps in [0.0, -0.0, -3.0, f64::NAN, 1e-300, f64::NEG_INFINITY] {
            assert_eq!(Speed(mps).pace_per_km(), None, "{mps}");
        }
        assert_eq!(Speed(f64::INFINITY).pace_per_km(), Some(Duration::ZERO));
    }
}
