//! A tour of the library's main job, end to end.
//!
//! ```sh
//! cargo run --example tour
//! ```
//!
//! With no Strava credentials in the environment it starts the embedded sandbox (an
//! offline Strava on 127.0.0.1) and walks through what an app does: authorize (following
//! the redirect), exchange the code, show the athlete, list the 10 latest activities,
//! summarize one activity's streams, upload a GPX file and wait for it, show rate-limit
//! usage, refresh the token. With `STRAVA_ACCESS_TOKEN` (or `STRAVA_CLIENT_ID`,
//! `STRAVA_CLIENT_SECRET` and `STRAVA_REFRESH_TOKEN`) set, the same tour runs read-only
//! against the real Strava.

use std::time::Duration;

use futures::TryStreamExt;
use stravalib::Client;
use stravalib::auth::{ApprovalPrompt, AuthorizationCallback, CsrfState, Scope};
use stravalib::polyline::MapExt;
use stravalib::time::ActivityTimes;
use stravalib::types::{StreamType, SummaryActivity};
use stravalib::units::{Measurement, Quantities};
use stravalib::upload::{DataType, UploadFile};
use stravalib_sandbox::Sandbox;

type TourResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() {
    let outcome = if has_credentials() {
        println!("Credentials found in the environment: a read-only tour of the real Strava.\n");
        live_tour().await
    } else {
        sandbox_tour().await
    };
    if let Err(e) = outcome {
        eprintln!("\nThe tour stopped: {e}");
        std::process::exit(1);
    }
}

fn has_credentials() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    set("STRAVA_ACCESS_TOKEN")
        || (set("STRAVA_CLIENT_ID") && set("STRAVA_CLIENT_SECRET") && set("STRAVA_REFRESH_TOKEN"))
}

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

async fn sandbox_tour() -> TourResult {
    let sandbox = Sandbox::start().await?;
    println!("No Strava credentials in the environment: using the embedded sandbox.");
    println!("   API   {}", sandbox.api_base());
    println!("   OAuth {}", sandbox.oauth_base());

    step(1, "Authorize: send the athlete to Strava's consent page");
    let client = Client::builder()
        .base_url(sandbox.api_base())
        .oauth_base(sandbox.oauth_base())
        .credentials(stravalib::auth::ClientCredentials::new(
            sandbox.client_id(),
            sandbox.client_secret(),
        ))
        .build()?;
    let state = CsrfState::generate();
    let redirect_uri = "http://127.0.0.1:8000/authorization";
    let url = client.authorization_url(
        sandbox.client_id(),
        redirect_uri,
        ApprovalPrompt::Auto,
        &[
            Scope::Read,
            Scope::ProfileReadAll,
            Scope::ActivityReadAll,
            Scope::ActivityWrite,
        ],
        Some(state.as_str()),
    )?;
    println!("   {url}");
    // The sandbox approves at once and redirects back with a code, like Strava does
    // after the athlete clicks "Authorize".
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let answer = no_redirects.get(url.as_str()).send().await?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("the authorization answer has no redirect")?;
    let callback = AuthorizationCallback::from_url(&url::Url::parse(location)?)?;
    callback.verify_state(&state)?;
    println!(
        "   redirected to {redirect_uri} with a code and the state we sent (scopes {})",
        callback
            .scopes
            .as_deref()
            .map(Scope::join)
            .unwrap_or_default()
    );

    step(2, "Exchange the code for tokens");
    let tokens = client
        .exchange_code_for_token(
            sandbox.client_id(),
            sandbox.client_secret(),
            callback.code.expose(),
        )
        .await?;
    println!(
        "   access token valid until {} (tokens print as {:?})",
        tokens.expires_at_time(),
        tokens.access_token
    );

    read_tour(&client, 3).await?;

    step(6, "Upload a GPX file and wait for Strava to process it");
    let gpx = sample_gpx();
    let mut upload = client
        .upload_activity(UploadFile::from_bytes("tour.gpx", gpx), DataType::Gpx)
        .name("Tour upload")
        .send()
        .await?;
    println!("   upload {} accepted: {:?}", upload.id(), upload.status());
    let activity = upload
        .wait_for_activity(Duration::from_secs(30), Duration::from_secs(1))
        .await?;
    println!(
        "   ready: activity {} \"{}\", {}",
        activity.id.map(|i| i.to_string()).unwrap_or_default(),
        activity.name.as_deref().unwrap_or(""),
        activity
            .quantities()
            .distance
            .map(|d| d.to_string())
            .unwrap_or_default()
    );

    step(7, "Rate-limit usage, from Strava's headers");
    print_rate_limit(&client);

    step(8, "Refresh the token (refresh tokens rotate)");
    let before = client.tokens().ok_or("no tokens")?;
    let after = client
        .refresh_access_token(
            sandbox.client_id(),
            sandbox.client_secret(),
            before.refresh_token.expose(),
        )
        .await?;
    println!(
        "   new access token until {}; refresh token rotated: {}",
        after.expires_at_time(),
        after.refresh_token != before.refresh_token
    );
    let athlete = client.get_athlete().await?;
    println!(
        "   the client uses it: still {}",
        athlete.firstname.unwrap_or_default()
    );

    println!("\nDone. The same code runs against Strava with real credentials.");
    Ok(())
}

async fn live_tour() -> TourResult {
    let client = Client::from_env()?;
    read_tour(&client, 1).await?;
    step(4, "Rate-limit usage, from Strava's headers");
    print_rate_limit(&client);
    Ok(())
}

/// The read-only part, shared by both tours.
async fn read_tour(client: &Client, first_step: u32) -> TourResult {
    step(first_step, "The athlete");
    let athlete = client.get_athlete().await?;
    let units = Measurement::from_preference(athlete.measurement_preference.as_ref());
    println!(
        "   {} {} from {}, {} bikes, {} pairs of shoes",
        athlete.firstname.as_deref().unwrap_or(""),
        athlete.lastname.as_deref().unwrap_or(""),
        athlete.city.as_deref().unwrap_or("somewhere"),
        athlete.bikes.as_ref().map_or(0, Vec::len),
        athlete.shoes.as_ref().map_or(0, Vec::len),
    );

    step(first_step + 1, "The 10 latest activities");
    let latest: Vec<SummaryActivity> = client
        .get_activities()
        .per_page(10)
        .limit(10)
        .into_stream()
        .try_collect()
        .await?;
    for activity in &latest {
        let q = activity.quantities();
        let when = activity
            .start_local()
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        println!(
            "   {when}  {:<14} {:>10} {:>9}  {}",
            activity
                .sport_type
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            q.distance
                .map(|d| d.display_in(units).to_string())
                .unwrap_or_default(),
            q.moving_time
                .map(stravalib::units::duration::format_hms)
                .unwrap_or_default(),
            activity.name.as_deref().unwrap_or(""),
        );
    }

    step(first_step + 2, "One activity's streams, summarized");
    let has_track =
        |a: &&SummaryActivity| matches!(a.map.decode_polyline(), Some(Ok(t)) if !t.is_empty());
    let Some(activity) = latest.iter().find(has_track) else {
        println!("   (no activity with a map)");
        return Ok(());
    };
    let id = activity.id.ok_or("activity without id")?;
    let streams = client
        .get_activity_streams(id)
        .keys([
            StreamType::Time,
            StreamType::Distance,
            StreamType::Altitude,
            StreamType::Heartrate,
            StreamType::Watts,
            StreamType::Latlng,
        ])
        .send()
        .await?;
    let points = streams
        .time
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .map_or(0, Vec::len);
    println!(
        "   {points} samples of \"{}\"",
        activity.name.as_deref().unwrap_or("")
    );
    if let Some(hr) = streams.heartrate.as_ref().and_then(|s| s.data.as_ref())
        && let Some(max) = hr.iter().max()
    {
        let avg = hr.iter().sum::<i64>() as f64 / hr.len() as f64;
        println!("   heart rate: average {avg:.0} bpm, max {max} bpm");
    }
    if let Some(alt) = streams.altitude.as_ref().and_then(|s| s.data.as_ref()) {
        let climb: f64 = alt.windows(2).map(|w| (w[1] - w[0]).max(0.0)).sum();
        println!("   climbing: {climb:.0} m");
    }
    if let Some(watts) = streams.watts.as_ref().and_then(|s| s.data.as_ref())
        && !watts.is_empty()
    {
        let avg = watts.iter().map(|w| *w as f64).sum::<f64>() / watts.len() as f64;
        println!("   power: average {avg:.0} W");
    }
    if let Some(Ok(track)) = activity.map.decode_polyline() {
        println!("   map: {} points in the summary polyline", track.len());
    }
    Ok(())
}

fn print_rate_limit(client: &Client) {
    match client.rate_limit() {
        Some(status) => println!("   {}", status.usage_summary()),
        None => println!("   (no rate-limit headers seen)"),
    }
}

/// A small GPX track: a loop of a few hundred meters, one point every 5 s.
fn sample_gpx() -> Vec<u8> {
    let start = chrono::Utc::now() - chrono::Duration::hours(2);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"stravalib tour\">\n<trk><name>Tour upload</name><trkseg>\n",
    );
    for i in 0..120 {
        let angle = f64::from(i) / 120.0 * std::f64::consts::TAU;
        let (lat, lon) = (52.37 + 0.004 * angle.sin(), 4.89 + 0.006 * angle.cos());
        let time = start + chrono::Duration::seconds(i64::from(i) * 5);
        out.push_str(&format!(
            "<trkpt lat=\"{lat:.6}\" lon=\"{lon:.6}\"><ele>{:.1}</ele><time>{}</time></trkpt>\n",
            2.0 + angle.sin(),
            time.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    out.push_str("</trkseg></trk>\n</gpx>\n");
    out.into_bytes()
}
