//! `strava activity ID`: one activity's summary, splits and sparklines (JSON, NDJSON or
//! CSV for scripts).

use anyhow::{Result, anyhow};
use serde_json::Value;
use stravalib::time::ActivityTimes as _;
use stravalib::types::{DetailedActivity, Split, StreamSet, StreamType};
use stravalib::units::{Distance, Hms, Measurement, Quantities as _, Speed};

use crate::args::{ActivityArgs, Format};
use crate::config::Ctx;
use crate::output::{
    align_right, cell, print_csv, print_json, print_line, print_ndjson, print_table,
};
use crate::people::{speed_text, sport_label, units};
use crate::sparkline;
use crate::wait::{OnLimit, with_limits};

/// The sparklines' width in characters.
const SPARK_WIDTH: usize = 60;

/// The CSV columns of one activity: (header, field of Strava's activity).
const CSV_COLUMNS: [(&str, &str); 20] = [
    ("id", "id"),
    ("start_date", "start_date"),
    ("start_date_local", "start_date_local"),
    ("timezone", "timezone"),
    ("sport_type", "sport_type"),
    ("name", "name"),
    ("description", "description"),
    ("distance_m", "distance"),
    ("moving_time_s", "moving_time"),
    ("elapsed_time_s", "elapsed_time"),
    ("total_elevation_gain_m", "total_elevation_gain"),
    ("average_speed_mps", "average_speed"),
    ("max_speed_mps", "max_speed"),
    ("average_heartrate", "average_heartrate"),
    ("max_heartrate", "max_heartrate"),
    ("average_cadence", "average_cadence"),
    ("average_watts", "average_watts"),
    ("calories", "calories"),
    ("device_name", "device_name"),
    ("gear_id", "gear_id"),
];

/// The activity as Strava's JSON, with a clear error for an unknown id.
pub async fn fetch(ctx: &Ctx, id: u64) -> Result<Value> {
    ctx.require_login()?;
    with_limits(ctx, OnLimit::Wait, || {
        ctx.client.get_activity(id).send_as::<Value>()
    })
    .await
    .map_err(|e| not_found(e, "activity", id))
}

/// Turns a 404 into "no activity ID" (keeping the cause).
pub fn not_found(e: anyhow::Error, what: &str, id: u64) -> anyhow::Error {
    match e.downcast_ref::<stravalib::Error>() {
        Some(api) if api.is_not_found() => e.context(format!(
            "no {what} {id} (or it is not visible to this login)"
        )),
        _ => e,
    }
}

/// `strava activity ID`.
pub async fn run(ctx: &Ctx, args: ActivityArgs) -> Result<()> {
    let raw = fetch(ctx, args.id).await?;
    match args.format {
        Format::Json => return print_json(&raw),
        Format::Ndjson => return print_ndjson([&raw]),
        Format::Csv => {
            let header: Vec<&str> = CSV_COLUMNS.iter().map(|c| c.0).collect();
            let row: Vec<String> = CSV_COLUMNS.iter().map(|(_, k)| cell(raw.get(*k))).collect();
            return print_csv(&header, [row]);
        }
        Format::Table => {}
    }
    let activity: DetailedActivity =
        serde_json::from_value(raw).map_err(|e| anyhow!("Strava's activity is unreadable: {e}"))?;
    let units = units(ctx).await?;
    let streams = with_limits(ctx, OnLimit::Wait, || {
        ctx.client
            .get_activity_streams(args.id)
            .keys([
                StreamType::Distance,
                StreamType::Time,
                StreamType::Altitude,
                StreamType::Heartrate,
                StreamType::VelocitySmooth,
            ])
            .send()
    })
    .await?;
    print_summary(ctx, &activity, units)?;
    print_splits(ctx, &activity, units)?;
    print_sparklines(&streams, units)
}

fn print_summary(ctx: &Ctx, a: &DetailedActivity, units: Measurement) -> Result<()> {
    let q = a.quantities();
    let sport = sport_label(a.sport_type.as_ref(), a.type_.as_ref());
    let when = a
        .start_local()
        .map(|t| t.format("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_default();
    print_line(a.name.as_deref().unwrap_or("(no name)"))?;
    let id = a.id.map(|i| format!("activity {i}")).unwrap_or_default();
    print_line(&[sport.as_str(), when.as_str(), id.as_str()].join(" · "))?;
    if let Some(description) = a.description.as_deref().filter(|d| !d.trim().is_empty()) {
        print_line(description.trim())?;
    }
    print_line("")?;
    let num = |v: Option<f64>, unit: &str| v.map(|v| format!("{v:.0} {unit}"));
    let rows: Vec<(&str, Option<String>)> = vec![
        (
            "Distance",
            q.distance
                .filter(|d| d.meters() > 0.0)
                .map(|d| d.display_in(units).to_string()),
        ),
        ("Moving time", q.moving_time.map(|t| Hms(t).to_string())),
        ("Elapsed time", q.elapsed_time.map(|t| Hms(t).to_string())),
        (
            if crate::people::shows_pace(&sport) {
                "Pace"
            } else {
                "Speed"
            },
            Some(speed_text(&sport, a.average_speed, units)).filter(|s| !s.is_empty()),
        ),
        (
            "Max speed",
            q.max_speed
                .filter(|s| s.meters_per_second() > 0.0)
                .map(|s| s.display_in(units).to_string()),
        ),
        (
            "Elevation gain",
            q.total_elevation_gain.map(|e| {
                let range = match (q.elev_low, q.elev_high) {
                    (Some(lo), Some(hi)) => {
                        format!(" ({} to {})", lo.display_in(units), hi.display_in(units))
                    }
                    _ => String::new(),
                };
                format!("{}{range}", e.display_in(units))
            }),
        ),
        (
            "Heart rate",
            a.average_heartrate.map(|avg| match a.max_heartrate {
                Some(max) => format!("{avg:.0} bpm average, {max:.0} max"),
                None => format!("{avg:.0} bpm average"),
            }),
        ),
        ("Cadence", num(a.average_cadence, "rpm")),
        (
            "Power",
            a.average_watts.map(|w| match a.weighted_average_watts {
                Some(np) => format!("{w:.0} W average, {np} W weighted"),
                None => format!("{w:.0} W average"),
            }),
        ),
        ("Calories", num(a.calories.filter(|c| *c > 0.0), "kcal")),
        ("Device", a.device_name.clone()),
        ("Gear", a.gear.as_ref().and_then(|g| g.name.clone())),
        (
            "Kudos",
            a.kudos_count.filter(|k| *k > 0).map(|k| k.to_string()),
        ),
    ];
    let mut table = ctx.ui.table(&[]);
    for (key, value) in rows {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            table.add_row(vec![key.to_owned(), value]);
        }
    }
    print_table(&table)
}

fn print_splits(ctx: &Ctx, a: &DetailedActivity, units: Measurement) -> Result<()> {
    let (splits, label) = match units {
        Measurement::Metric => (a.splits_metric.as_deref(), "km"),
        Measurement::Imperial => (a.splits_standard.as_deref(), "mi"),
    };
    let Some(splits) = splits.filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let sport = a
        .sport_type
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_default();
    print_line("")?;
    print_line(&format!("Splits ({label})"))?;
    let has_hr = splits.iter().any(|s| s.average_heartrate.is_some());
    let mut header = vec![
        "#",
        "Distance",
        "Time",
        if crate::people::shows_pace(&sport) {
            "Pace"
        } else {
            "Speed"
        },
        "Elevation",
    ];
    if has_hr {
        header.push("Heart rate");
    }
    let mut table = ctx.ui.table(&header);
    for (i, split) in splits.iter().enumerate() {
        table.add_row(split_row(i, split, &sport, units, has_hr));
    }
    align_right(&mut table, &[0, 1, 2, 3, 4, 5]);
    print_table(&table)
}

fn split_row(
    i: usize,
    split: &Split,
    sport: &str,
    units: Measurement,
    has_hr: bool,
) -> Vec<String> {
    let q = split.quantities();
    let mut row = vec![
        split
            .split
            .map_or_else(|| (i + 1).to_string(), |n| n.to_string()),
        q.distance
            .map(|d| d.display_in(units).to_string())
            .unwrap_or_default(),
        q.moving_time
            .map(|t| Hms(t).to_string())
            .unwrap_or_default(),
        speed_text(sport, split.average_speed, units),
        q.elevation_difference
            .map(|e| {
                let sign = if e.meters() > 0.0 { "+" } else { "" };
                format!("{sign}{}", e.display_in(units))
            })
            .unwrap_or_default(),
    ];
    if has_hr {
        row.push(
            split
                .average_heartrate
                .map(|h| format!("{h:.0} bpm"))
                .unwrap_or_default(),
        );
    }
    row
}

fn print_sparklines(streams: &StreamSet, units: Measurement) -> Result<()> {
    let distance: Vec<f64> = streams
        .distance
        .as_ref()
        .and_then(|s| s.data.clone())
        .unwrap_or_default();
    let time: Vec<f64> = streams
        .time
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .map(|t| t.iter().map(|v| *v as f64).collect())
        .unwrap_or_default();
    // Over distance; over time for activities that did not move (trainer sessions).
    let (positions, over) = if distance.last().is_some_and(|d| *d > 0.0) {
        let total = Distance::from_meters(*distance.last().unwrap_or(&0.0));
        (distance, format!("over {}", total.display_in(units)))
    } else if time.len() > 1 {
        let total = Hms(std::time::Duration::from_secs_f64(
            time.last().copied().unwrap_or(0.0).max(0.0),
        ));
        (time, format!("over {total}"))
    } else {
        return Ok(());
    };
    let altitude: Vec<Option<f64>> = streams
        .altitude
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .map(|v| v.iter().map(|a| Some(*a)).collect())
        .unwrap_or_default();
    let heartrate: Vec<Option<f64>> = streams
        .heartrate
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .map(|v| {
            v.iter()
                .map(|h| Some(*h as f64).filter(|h| *h > 0.0))
                .collect()
        })
        .unwrap_or_default();
    let speed: Vec<Option<f64>> = streams
        .velocity_smooth
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .map(|v| {
            v.iter()
                .map(|mps| {
                    let s = Speed::from_meters_per_second(*mps);
                    Some(match units {
                        Measurement::Metric => s.kilometers_per_hour(),
                        Measurement::Imperial => s.miles_per_hour(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let (elevation_unit, elevation_scale) = match units {
        Measurement::Metric => ("m", 1.0),
        Measurement::Imperial => ("ft", 1.0 / 0.3048),
    };
    let speed_unit = match units {
        Measurement::Metric => "km/h",
        Measurement::Imperial => "mph",
    };
    let lines = [
        ("Elevation", altitude, elevation_unit, elevation_scale),
        ("Heart rate", heartrate, "bpm", 1.0),
        ("Speed", speed, speed_unit, 1.0),
    ];
    let mut printed_header = false;
    for (label, values, unit, scale) in lines {
        let scaled: Vec<Option<f64>> = values.iter().map(|v| v.map(|v| v * scale)).collect();
        let Some(line) = sparkline::resample(&positions, &scaled, SPARK_WIDTH) else {
            continue;
        };
        if !printed_header {
            print_line("")?;
            print_line(&format!("Profile ({over})"))?;
            printed_header = true;
        }
        let (lo, hi) = sparkline::range(&line);
        let decimals = if unit == "km/h" || unit == "mph" {
            1
        } else {
            0
        };
        print_line(&format!(
            "{label:<11}{}  {lo:.decimals$}–{hi:.decimals$} {unit}",
            sparkline::draw(&line)
        ))?;
    }
    Ok(())
}
