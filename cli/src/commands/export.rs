//! `strava export ID` (an activity's track from its streams) and `strava route export ID`
//! (Strava's own GPX or TCX of a route).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use stravalib::types::{DetailedActivity, StreamSet};

use crate::args::{ExportArgs, RouteFormat, TrackFormat};
use crate::commands::activity::{fetch, not_found};
use crate::config::Ctx;
use crate::output::stdout_bytes;
use crate::track::{self, CSV_HEADER, Meta};
use crate::wait::{OnLimit, with_limits};

/// `strava export ID`.
pub async fn activity(ctx: &Ctx, args: ExportArgs) -> Result<()> {
    let raw = fetch(ctx, args.id).await?;
    let activity: DetailedActivity =
        serde_json::from_value(raw).map_err(|e| anyhow!("Strava's activity is unreadable: {e}"))?;
    // Every stream type (the library's default).
    let streams: StreamSet = with_limits(ctx, OnLimit::Wait, || {
        ctx.client.get_activity_streams(args.id).send()
    })
    .await
    .map_err(|e| not_found(e, "activity", args.id))?;
    let meta = Meta::of(&activity);
    let samples = track::samples(&streams, meta.start);
    if samples.is_empty() {
        anyhow::bail!(
            "activity {} has no streams (a manual activity?): there is no track to export",
            args.id
        );
    }
    let bytes = match args.format {
        TrackFormat::Gpx => track::gpx(&meta, &samples)?,
        TrackFormat::Tcx => track::tcx(&meta, &samples)?,
        TrackFormat::Json => {
            let mut text = serde_json::to_string_pretty(&samples)?;
            text.push('\n');
            text.into_bytes()
        }
        TrackFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(CSV_HEADER)?;
            for sample in &samples {
                writer.write_record(track::csv_row(sample))?;
            }
            writer
                .into_inner()
                .map_err(|e| anyhow!("cannot write the CSV: {}", e.error()))?
        }
    };
    write_out(
        ctx,
        args.output.as_deref(),
        &bytes,
        &format!("{} samples", samples.len()),
    )
}

/// `strava route export ID`.
pub async fn route(ctx: &Ctx, id: u64, format: RouteFormat, output: Option<PathBuf>) -> Result<()> {
    ctx.require_login()?;
    let bytes = match format {
        RouteFormat::Gpx => {
            with_limits(ctx, OnLimit::Wait, || {
                ctx.client.export_route_gpx(id).send()
            })
            .await
        }
        RouteFormat::Tcx => {
            with_limits(ctx, OnLimit::Wait, || {
                ctx.client.export_route_tcx(id).send()
            })
            .await
        }
    }
    .map_err(|e| not_found(e, "route", id))?;
    write_out(ctx, output.as_deref(), &bytes, "route")
}

/// Writes to `path` (atomically: a temporary file renamed over it) or to stdout.
fn write_out(ctx: &Ctx, path: Option<&Path>, bytes: &[u8], what: &str) -> Result<()> {
    let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
        return stdout_bytes(bytes);
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = || format!("cannot write {}", path.display());
    // An export is an ordinary file: the mode a new file gets (0666 less the umask), not
    // a temporary file's 0600.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".strava-export");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(dir).with_context(fail)?;
    temp.write_all(bytes).with_context(fail)?;
    temp.as_file().sync_all().with_context(fail)?;
    temp.persist(path).map_err(|e| e.error).with_context(fail)?;
    ctx.ui.note(&format!(
        "wrote {} ({what}, {} bytes)",
        path.display(),
        bytes.len()
    ));
    Ok(())
}
