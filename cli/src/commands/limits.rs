//! `strava limits`: the app's rate-limit usage, from the headers of one cheap request.

use anyhow::{Result, bail};
use serde_json::{Value, json};
use stravalib::rate_limit::WindowUsage;

use crate::args::Format;
use crate::config::Ctx;
use crate::output::{align_right, csv_row, print_csv, print_json, print_ndjson, print_table};
use crate::track::iso;
use crate::wait::human;

const CSV_HEADER: [&str; 6] = ["kind", "window", "usage", "limit", "remaining", "resets_at"];

/// `strava limits`.
pub async fn run(ctx: &Ctx, format: Format) -> Result<()> {
    ctx.require_login()?;
    // Any answer carries the app's usage, a 429 too (this request counts as one read).
    let status = match ctx.client.get_athlete().send_as::<Value>().await {
        Ok(_) => ctx.client.rate_limit(),
        Err(e) if e.is_rate_limited() => {
            e.rate_limit().cloned().or_else(|| ctx.client.rate_limit())
        }
        Err(e) => return Err(e.into()),
    };
    let Some(status) = status else {
        bail!("Strava's answer carried no rate-limit headers");
    };
    let now = ctx.clock.now();
    let status = status.as_of(now);
    let windows: [(&str, &str, Option<WindowUsage>); 4] = [
        ("overall", "15min", status.overall_short()),
        ("overall", "day", status.overall_daily()),
        ("read", "15min", status.read_short()),
        ("read", "day", status.read_daily()),
    ];
    let records: Vec<Value> = windows
        .iter()
        .filter_map(|(kind, window, usage)| {
            let w = (*usage)?;
            Some(json!({
                "kind": kind,
                "window": window,
                "usage": w.usage,
                "limit": w.limit,
                "remaining": w.remaining(),
                "resets_at": iso(w.resets_at),
            }))
        })
        .collect();
    match format {
        Format::Json => print_json(&Value::Array(records)),
        Format::Ndjson => print_ndjson(&records),
        Format::Csv => print_csv(&CSV_HEADER, records.iter().map(|r| csv_row(r, &CSV_HEADER))),
        Format::Table => {
            let mut table = ctx
                .ui
                .table(&["Limit", "Window", "Used", "Of", "Left", "Resets"]);
            for (kind, window, usage) in windows {
                let Some(w) = usage else { continue };
                let left = (w.resets_at - now).num_seconds();
                table.add_row(vec![
                    kind.to_owned(),
                    if window == "day" { "day" } else { "15 minutes" }.to_owned(),
                    w.usage.to_string(),
                    w.limit.to_string(),
                    w.remaining().to_string(),
                    format!("{} (in {})", w.resets_at.format("%H:%M UTC"), human(left)),
                ]);
            }
            align_right(&mut table, &[2, 3, 4]);
            print_table(&table)
        }
    }
}
