//! What people see: the athlete's units, paces and speeds, sports by name.

use anyhow::{Result, bail};
use stravalib::types::{DetailedAthlete, SportType};
use stravalib::units::Measurement;

use crate::args::Units;
use crate::config::Ctx;
use crate::wait::{OnLimit, with_limits};

/// The signed-in athlete (waiting out the rate limit).
pub async fn athlete(ctx: &Ctx) -> Result<DetailedAthlete> {
    ctx.require_login()?;
    with_limits(ctx, OnLimit::Wait, || ctx.client.get_athlete().send()).await
}

/// The units to show: `--units`, else the athlete's preference (fetched), else metric.
pub async fn units(ctx: &Ctx) -> Result<Measurement> {
    Ok(match ctx.units {
        Some(Units::Metric) => Measurement::Metric,
        Some(Units::Imperial) => Measurement::Imperial,
        None => Measurement::from_preference(athlete(ctx).await?.measurement_preference.as_ref()),
    })
}

/// An activity's sport as shown: its sport type, else its older activity type, else empty.
pub fn sport_label(
    sport_type: Option<&impl std::fmt::Display>,
    activity_type: Option<&impl std::fmt::Display>,
) -> String {
    sport_type
        .map(ToString::to_string)
        .or_else(|| activity_type.map(ToString::to_string))
        .unwrap_or_default()
}

/// The sport Strava calls `name` (any case), or an error listing close matches.
pub fn sport(name: &str) -> Result<SportType> {
    let wanted = name.trim();
    if let Some(known) = SportType::KNOWN_VALUES
        .iter()
        .find(|k| k.eq_ignore_ascii_case(wanted))
    {
        return Ok(SportType::from(*known));
    }
    let lower = wanted.to_ascii_lowercase();
    let close: Vec<&str> = SportType::KNOWN_VALUES
        .iter()
        .copied()
        .filter(|k| {
            let k = k.to_ascii_lowercase();
            !lower.is_empty() && (k.contains(&lower) || lower.contains(&k))
        })
        .take(6)
        .collect();
    if close.is_empty() {
        bail!(
            "`{wanted}` is not a Strava sport; known sports: {}",
            SportType::KNOWN_VALUES.join(", ")
        )
    }
    bail!(
        "`{wanted}` is not a Strava sport; did you mean {}?",
        close.join(", ")
    )
}

/// Whether a sport is shown with a pace (runs, walks, hikes, swims) rather than a speed.
pub fn shows_pace(sport: &str) -> bool {
    let s = sport.to_ascii_lowercase();
    s.contains("run") || s.contains("walk") || s.contains("hike") || s.contains("swim")
}

/// A speed for people: a pace for foot sports (per 100 m or 100 yd for swims), a speed
/// otherwise.
pub fn speed_text(sport: &str, mps: Option<f64>, units: Measurement) -> String {
    use stravalib::units::Speed;
    let Some(mps) = mps.filter(|v| v.is_finite() && *v > 0.0) else {
        return String::new();
    };
    let speed = Speed::from_meters_per_second(mps);
    if sport.to_ascii_lowercase().contains("swim") {
        let (meters, unit) = match units {
            Measurement::Metric => (100.0, "/100m"),
            Measurement::Imperial => (91.44, "/100yd"),
        };
        let seconds = (meters / mps).round() as i64;
        return format!("{}:{:02} {unit}", seconds / 60, seconds % 60);
    }
    if shows_pace(sport)
        && let Some(pace) = speed.pace(units)
    {
        return pace.to_string();
    }
    speed.display_in(units).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sports() {
        assert_eq!(sport("trailrun").unwrap(), SportType::TrailRun);
        assert_eq!(sport("Ride").unwrap(), SportType::Ride);
        let err = sport("Rid").unwrap_err().to_string();
        assert!(
            err.contains("did you mean") && err.contains("Ride"),
            "{err}"
        );
        assert!(sport("Quidditch").is_err());
    }

    #[test]
    fn speeds() {
        assert_eq!(
            speed_text("Run", Some(3.551), Measurement::Metric),
            "4:42 /km"
        );
        assert_eq!(
            speed_text("Ride", Some(8.0), Measurement::Metric),
            "28.8 km/h"
        );
        assert_eq!(
            speed_text("Ride", Some(8.0), Measurement::Imperial),
            "17.9 mph"
        );
        assert_eq!(
            speed_text("Swim", Some(1.0), Measurement::Metric),
            "1:40 /100m"
        );
        assert_eq!(speed_text("Run", None, Measurement::Metric), "");
    }
}
