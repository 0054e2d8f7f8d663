//! `strava activities`: the athlete's activities as a table, JSON, NDJSON or CSV.

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use serde_json::Value;
use stravalib::time::ActivityTimes as _;
use stravalib::types::SummaryActivity;
use stravalib::units::{Hms, Measurement, Quantities as _};

use crate::args::{ActivitiesArgs, Format};
use crate::config::Ctx;
use crate::dates::parse_date;
use crate::output::{align_right, cell, print_csv, print_json, print_ndjson, print_table};
use crate::people::{speed_text, sport, sport_label, units};
use crate::wait::{OnLimit, with_limits};

/// Strava's largest page.
pub const MAX_PER_PAGE: u32 = 200;
/// Pages read at most by one listing (200 × 10,000 activities).
const MAX_PAGES: u32 = 10_000;

/// The CSV columns: (header, field of Strava's summary).
const CSV_COLUMNS: [(&str, &str); 25] = [
    ("id", "id"),
    ("start_date", "start_date"),
    ("start_date_local", "start_date_local"),
    ("timezone", "timezone"),
    ("sport_type", "sport_type"),
    ("type", "type"),
    ("name", "name"),
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
    ("kilojoules", "kilojoules"),
    ("kudos_count", "kudos_count"),
    ("achievement_count", "achievement_count"),
    ("commute", "commute"),
    ("trainer", "trainer"),
    ("manual", "manual"),
    ("private", "private"),
    ("gear_id", "gear_id"),
];

/// One page of the athlete's activities as Strava's JSON (waiting out the rate limit, or
/// stopping with `on_limit`).
pub async fn page(
    ctx: &Ctx,
    on_limit: OnLimit,
    after: Option<i64>,
    before: Option<i64>,
    page: u32,
    per_page: u32,
) -> Result<Vec<Value>> {
    with_limits(ctx, on_limit, || {
        let mut request = ctx.client.get_activities().page(page).per_page(per_page);
        if let Some(after) = after {
            request = request.after(after);
        }
        if let Some(before) = before {
            request = request.before(before);
        }
        request.send_as::<Vec<Value>>()
    })
    .await
}

/// `strava activities`.
pub async fn run(ctx: &Ctx, args: ActivitiesArgs) -> Result<()> {
    ctx.require_login()?;
    let now = ctx.clock.now();
    let when = |d: &Option<String>| -> Result<Option<DateTime<Utc>>> {
        d.as_deref().map(|d| parse_date(d, now)).transpose()
    };
    let (after, before) = (when(&args.after)?, when(&args.before)?);
    if let (Some(a), Some(b)) = (after, before)
        && a >= b
    {
        bail!("--after must be earlier than --before");
    }
    let wanted = args.sport.as_deref().map(sport).transpose()?;
    let units = match args.format {
        Format::Table => Some(units(ctx).await?),
        _ => None,
    };
    let per_page = match (args.limit, &wanted) {
        (n, None) if n > 0 => u32::try_from(n).unwrap_or(MAX_PER_PAGE).min(MAX_PER_PAGE),
        _ => MAX_PER_PAGE,
    };
    let spinner = ctx.ui.spinner("{spinner} {msg}");
    spinner.set_message("fetching activities…");
    let mut found: Vec<Value> = Vec::new();
    'pages: for number in 1..=MAX_PAGES {
        let items = page(
            ctx,
            OnLimit::Wait,
            after.map(|t| t.timestamp()),
            before.map(|t| t.timestamp()),
            number,
            per_page,
        )
        .await?;
        if items.is_empty() {
            break;
        }
        for item in items {
            // The sport, or the legacy type when Strava sent no sport.
            let matches = wanted.as_ref().is_none_or(|sport| {
                item.get("sport_type")
                    .or_else(|| item.get("type"))
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case(sport.as_str()))
            });
            if matches {
                found.push(item);
                if args.limit > 0 && found.len() >= args.limit {
                    break 'pages;
                }
            }
        }
        spinner.set_message(format!("fetching activities… {} so far", found.len()));
    }
    spinner.finish_and_clear();

    match args.format {
        Format::Json => print_json(&Value::Array(found)),
        Format::Ndjson => print_ndjson(&found),
        Format::Csv => {
            let header: Vec<&str> = CSV_COLUMNS.iter().map(|c| c.0).collect();
            print_csv(
                &header,
                found.iter().map(|a| {
                    CSV_COLUMNS
                        .iter()
                        .map(|(_, key)| cell(a.get(*key)))
                        .collect()
                }),
            )
        }
        Format::Table => {
            if found.is_empty() {
                ctx.ui.note("No activities match.");
                return Ok(());
            }
            print_activity_table(ctx, &found, units.unwrap_or_default())
        }
    }
}

fn print_activity_table(ctx: &Ctx, found: &[Value], units: Measurement) -> Result<()> {
    let pace_header = if found.iter().any(|a| {
        a.get("sport_type")
            .and_then(Value::as_str)
            .is_some_and(crate::people::shows_pace)
    }) {
        "Pace/Speed"
    } else {
        "Speed"
    };
    let mut table = ctx.ui.table(&[
        "Date",
        "Sport",
        "Name",
        "Distance",
        "Time",
        pace_header,
        "Elevation",
        "ID",
    ]);
    for raw in found {
        let activity: SummaryActivity = serde_json::from_value(raw.clone()).unwrap_or_default();
        let q = activity.quantities();
        let sport = sport_label(activity.sport_type.as_ref(), activity.type_.as_ref());
        let when = activity
            .start_local()
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        table.add_row(vec![
            when,
            sport.clone(),
            activity.name.clone().unwrap_or_default(),
            q.distance
                .filter(|d| d.meters() > 0.0)
                .map(|d| d.display_in(units).to_string())
                .unwrap_or_default(),
            q.moving_time
                .map(|t| Hms(t).to_string())
                .unwrap_or_default(),
            speed_text(&sport, activity.average_speed, units),
            q.total_elevation_gain
                .map(|e| e.display_in(units).to_string())
                .unwrap_or_default(),
            activity.id.map(|i| i.to_string()).unwrap_or_default(),
        ]);
    }
    align_right(&mut table, &[3, 4, 5, 6, 7]);
    print_table(&table)
}
