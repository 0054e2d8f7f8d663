//! Every command's output in every format, run as the `strava` binary against a sandbox
//! served from this test process: JSON parses, CSV has its header and a row per item,
//! exports read back, errors are one line with a non-zero exit code, no secret or terminal
//! escape is ever printed.

mod common;

use common::{TestSandbox, strava, temp_dir};
use futures::TryStreamExt as _;
use serde_json::Value;
use stravalib::types::SummaryActivity;

/// The athlete's activities, as the library lists them.
fn all_activities(t: &TestSandbox) -> Vec<SummaryActivity> {
    let client = t.sandbox.client();
    t.block_on(client.get_activities().into_stream().try_collect())
        .expect("the sandbox lists activities")
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a CSV row").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines().map(json).collect()
}

#[test]
fn whoami_in_every_format() {
    let t = TestSandbox::start(5);
    let dir = temp_dir();
    let secrets = t.secrets();
    let athlete_id = t.sandbox.athlete_id(0).unwrap().to_string();

    let table = t.strava(dir.path(), &["whoami"]).ok().clean(&secrets);
    assert!(table.stdout.contains(&athlete_id), "{}", table.stdout);
    assert!(table.stdout.contains("Scopes"), "{}", table.stdout);

    let doc = json(
        &t.strava(dir.path(), &["whoami", "--format", "json"])
            .ok()
            .clean(&secrets)
            .stdout,
    );
    assert_eq!(doc["athlete"]["id"].to_string(), athlete_id);
    assert_eq!(doc["login"], "environment");

    let lines = ndjson(
        &t.strava(dir.path(), &["whoami", "--format", "ndjson"])
            .ok()
            .stdout,
    );
    assert_eq!(lines.len(), 1);

    let (header, rows) = csv_rows(
        &t.strava(dir.path(), &["whoami", "--format", "csv"])
            .ok()
            .stdout,
    );
    assert_eq!(header[0], "id");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], athlete_id);
}

#[test]
fn activities_in_every_format() {
    let t = TestSandbox::start(24);
    let dir = temp_dir();
    let secrets = t.secrets();
    let all = all_activities(&t);
    assert!(all.len() >= 10, "the sandbox has activities");
    let ids: Vec<String> = all.iter().map(|a| a.id.unwrap().to_string()).collect();

    // A table for people: a header and a row per activity, newest first.
    let table = t
        .strava(dir.path(), &["activities", "--limit", "5"])
        .ok()
        .clean(&secrets);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{}", table.stdout);
    for header in ["Date", "Sport", "Distance", "Time", "Elevation"] {
        assert!(lines[0].contains(header), "{}", lines[0]);
    }
    assert!(lines[1].ends_with(&ids[0]), "{}", lines[1]);

    // JSON: Strava's summaries; 0 lifts the limit.
    let doc = json(
        &t.strava(
            dir.path(),
            &["activities", "--limit", "0", "--format", "json"],
        )
        .ok()
        .clean(&secrets)
        .stdout,
    );
    let listed: Vec<String> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].to_string())
        .collect();
    assert_eq!(listed, ids);

    let lines = ndjson(
        &t.strava(
            dir.path(),
            &["activities", "--limit", "7", "--format", "ndjson"],
        )
        .ok()
        .stdout,
    );
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[6]["id"].to_string(), ids[6]);

    let (header, rows) = csv_rows(
        &t.strava(
            dir.path(),
            &["activities", "--limit", "9", "--format", "csv"],
        )
        .ok()
        .stdout,
    );
    assert_eq!(&header[..3], ["id", "start_date", "start_date_local"]);
    assert_eq!(rows.len(), 9);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert_eq!(rows[0][0], ids[0]);

    // --type keeps one sport (any case).
    let sport = all[0].sport_type.as_ref().unwrap().to_string();
    let expected = all
        .iter()
        .filter(|a| a.sport_type.as_ref().map(|s| s.to_string()).as_deref() == Some(sport.as_str()))
        .count();
    let (_, rows) = csv_rows(
        &t.strava(
            dir.path(),
            &[
                "activities",
                "--limit",
                "0",
                "--type",
                &sport.to_lowercase(),
                "--format",
                "csv",
            ],
        )
        .ok()
        .stdout,
    );
    assert_eq!(rows.len(), expected);
    assert!(rows.iter().all(|r| r[4] == sport));
    let bad = t
        .strava(dir.path(), &["activities", "--type", "Quidditch"])
        .expect_code(1);
    assert!(bad.stderr.contains("not a Strava sport"), "{}", bad.stderr);

    // --after and --before keep a window (after alone lists oldest first, as Strava does).
    let newest = all[2].start_date.unwrap().timestamp();
    let oldest = all[6].start_date.unwrap().timestamp();
    let window = json(
        &t.strava(
            dir.path(),
            &[
                "activities",
                "--after",
                &oldest.to_string(),
                "--before",
                &newest.to_string(),
                "--format",
                "json",
            ],
        )
        .ok()
        .stdout,
    );
    let inside: Vec<String> = window
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].to_string())
        .collect();
    assert_eq!(inside, ids[3..6]);
    let after = json(
        &t.strava(
            dir.path(),
            &[
                "activities",
                "--after",
                &oldest.to_string(),
                "--limit",
                "2",
                "--format",
                "json",
            ],
        )
        .ok()
        .stdout,
    );
    let ascending: Vec<String> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].to_string())
        .collect();
    assert_eq!(ascending, [ids[5].clone(), ids[4].clone()]);
}

#[test]
fn one_activity_in_every_format() {
    let t = TestSandbox::start(6);
    let dir = temp_dir();
    let secrets = t.secrets();
    let all = all_activities(&t);
    let with_distance = all
        .iter()
        .find(|a| a.distance.unwrap_or(0.0) > 1000.0)
        .expect("an activity that moved");
    let id = with_distance.id.unwrap().to_string();

    let table = t
        .strava(dir.path(), &["activity", &id])
        .ok()
        .clean(&secrets);
    assert!(
        table
            .stdout
            .contains(with_distance.name.as_deref().unwrap())
    );
    assert!(table.stdout.contains("Moving time"), "{}", table.stdout);
    assert!(table.stdout.contains("Splits"), "{}", table.stdout);
    assert!(table.stdout.contains("Profile (over"), "{}", table.stdout);
    let sparkline = table
        .stdout
        .lines()
        .find(|l| l.starts_with("Elevation") && l.contains('▁'))
        .unwrap_or_else(|| panic!("an elevation sparkline:\n{}", table.stdout));
    assert!(
        sparkline
            .chars()
            .filter(|c| ('▁'..='█').contains(c))
            .count()
            >= 40
    );
    // --units overrides the athlete's preference.
    let metric = t
        .strava(dir.path(), &["--units", "metric", "activity", &id])
        .ok();
    assert!(metric.stdout.contains(" km"), "{}", metric.stdout);

    let doc = json(
        &t.strava(dir.path(), &["activity", &id, "--format", "json"])
            .ok()
            .stdout,
    );
    assert_eq!(doc["id"].to_string(), id);
    assert!(doc["splits_metric"].is_array());
    assert_eq!(
        ndjson(
            &t.strava(dir.path(), &["activity", &id, "--format", "ndjson"])
                .ok()
                .stdout
        )
        .len(),
        1
    );
    let (header, rows) = csv_rows(
        &t.strava(dir.path(), &["activity", &id, "--format", "csv"])
            .ok()
            .stdout,
    );
    assert_eq!(header[0], "id");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], id);
}

#[test]
fn exports_read_back() {
    let t = TestSandbox::start(6);
    let dir = temp_dir();
    let secrets = t.secrets();
    let client = t.sandbox.client();
    let all = all_activities(&t);
    let activity = all
        .iter()
        .find(|a| {
            a.distance.unwrap_or(0.0) > 1000.0
                && a.start_latlng.as_ref().is_some_and(|l| l.pair().is_some())
        })
        .expect("an outdoor activity");
    let id = activity.id.unwrap();
    let streams = t
        .block_on(client.get_activity_streams(id).send())
        .expect("streams");
    let latlng = streams
        .latlng
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .map_or(0, Vec::len);
    let samples = streams
        .time
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .map_or(0, Vec::len);
    assert!(latlng > 100, "a track to export");
    let id = id.to_string();

    // GPX 1.1, written to a file, read back with the gpx crate.
    let file = dir.path().join("out.gpx");
    let run = t
        .strava(dir.path(), &["export", &id, "-o", file.to_str().unwrap()])
        .ok()
        .clean(&secrets);
    assert!(run.stdout.is_empty());
    let parsed =
        gpx::read(std::io::BufReader::new(std::fs::File::open(&file).unwrap())).expect("valid GPX");
    #[cfg(unix)]
    {
        // An ordinary file, as any other program would write it (not 0600).
        use std::os::unix::fs::PermissionsExt as _;
        let reference = dir.path().join("reference");
        std::fs::write(&reference, b"x").unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), mode(&reference));
    }
    assert_eq!(parsed.version, gpx::GpxVersion::Gpx11);
    assert_eq!(parsed.tracks.len(), 1);
    let points: Vec<&gpx::Waypoint> = parsed.tracks[0]
        .segments
        .iter()
        .flat_map(|s| &s.points)
        .collect();
    assert_eq!(points.len(), latlng);
    assert!(
        points
            .iter()
            .all(|p| p.time.is_some() && p.elevation.is_some())
    );
    let text = std::fs::read_to_string(&file).unwrap();
    if streams.heartrate.is_some() {
        assert_eq!(text.matches("<gpxtpx:hr>").count(), latlng);
    }

    // TCX to stdout: one Trackpoint per sample, in laps.
    let tcx = t
        .strava(dir.path(), &["export", &id, "--format", "tcx"])
        .ok()
        .clean(&secrets);
    let (trackpoints, laps, root) = tcx_counts(&tcx.stdout);
    assert_eq!(root, "TrainingCenterDatabase");
    assert_eq!(trackpoints, samples);
    assert!(laps >= 1);

    let (header, rows) = csv_rows(
        &t.strava(dir.path(), &["export", &id, "--format", "csv"])
            .ok()
            .stdout,
    );
    assert_eq!(header[..4], ["time", "elapsed_s", "lat", "lng"]);
    assert_eq!(rows.len(), samples);

    let doc = json(
        &t.strava(dir.path(), &["export", &id, "--format", "json"])
            .ok()
            .stdout,
    );
    assert_eq!(doc.as_array().unwrap().len(), samples);
    assert!(doc[0]["lat"].is_number() && doc[0]["time"].is_string());
}

/// Trackpoints, laps and the root element of a TCX document (which must be well formed).
fn tcx_counts(text: &str) -> (usize, usize, String) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let (mut trackpoints, mut laps, mut root, mut depth) = (0, 0, String::new(), 0usize);
    loop {
        match reader.read_event().expect("well-formed TCX") {
            Event::Start(e) => {
                let name = e.name().into_inner().to_owned();
                if depth == 0 {
                    root = name.clone();
                }
                depth += 1;
                match name.as_str() {
                    "Trackpoint" => trackpoints += 1,
                    "Lap" => laps += 1,
                    _ => {}
                }
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element closed");
    (trackpoints, laps, root)
}

#[test]
fn routes_export_as_gpx_and_tcx() {
    let t = TestSandbox::start(3);
    let dir = temp_dir();
    let client = t.sandbox.client();
    let athlete = t.sandbox.athlete_id(0).unwrap();
    let routes = t
        .block_on(client.get_routes(athlete).send())
        .expect("the athlete's routes");
    let route = routes
        .first()
        .and_then(|r| r.id)
        .expect("a route")
        .to_string();
    let gpx_text = t
        .strava(dir.path(), &["route", "export", &route])
        .ok()
        .stdout;
    let parsed = gpx::read(gpx_text.as_bytes()).expect("valid GPX");
    assert!(!parsed.tracks.is_empty() || !parsed.routes.is_empty());
    let tcx = t
        .strava(dir.path(), &["route", "export", &route, "--format", "tcx"])
        .ok()
        .stdout;
    assert!(tcx.contains("TrainingCenterDatabase"));
    let missing = t
        .strava(dir.path(), &["route", "export", "1"])
        .expect_code(1);
    assert!(
        missing.stderr.starts_with("error: no route 1"),
        "{}",
        missing.stderr
    );
}

#[test]
fn limits_in_every_format() {
    let t = TestSandbox::start(3);
    let dir = temp_dir();
    let table = t.strava(dir.path(), &["limits"]).ok().clean(&t.secrets());
    assert!(
        table.stdout.contains("overall") && table.stdout.contains("read"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("15 minutes") && table.stdout.contains("day"));
    let doc = json(
        &t.strava(dir.path(), &["limits", "--format", "json"])
            .ok()
            .stdout,
    );
    let windows = doc.as_array().unwrap();
    assert_eq!(windows.len(), 4);
    assert_eq!(windows[0]["limit"], 100_000);
    assert!(windows[0]["usage"].as_u64().unwrap() >= 1);
    assert_eq!(
        ndjson(
            &t.strava(dir.path(), &["limits", "--format", "ndjson"])
                .ok()
                .stdout
        )
        .len(),
        4
    );
    let (header, rows) = csv_rows(
        &t.strava(dir.path(), &["limits", "--format", "csv"])
            .ok()
            .stdout,
    );
    assert_eq!(
        header,
        ["kind", "window", "usage", "limit", "remaining", "resets_at"]
    );
    assert_eq!(rows.len(), 4);
}

#[test]
fn webhooks_list_create_delete() {
    let t = TestSandbox::start(2);
    let dir = temp_dir();
    let secrets = t.secrets();
    // The callback Strava checks while the subscription is created.
    let callback = t.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::get(
                |axum::extract::RawQuery(q): axum::extract::RawQuery| async move {
                    match stravalib::webhooks::verify_subscription_challenge(
                        q.as_deref().unwrap_or(""),
                        "tok3n",
                    ) {
                        Ok(answer) => (axum::http::StatusCode::OK, answer.to_json()),
                        Err(_) => (axum::http::StatusCode::FORBIDDEN, String::new()),
                    }
                },
            ),
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}/hook")
    });

    let empty = t
        .strava(dir.path(), &["webhooks", "list", "--format", "json"])
        .ok();
    assert_eq!(json(&empty.stdout), Value::Array(Vec::new()));
    let created = json(
        &t.strava(
            dir.path(),
            &["webhooks", "create", &callback, "tok3n", "--format", "json"],
        )
        .ok()
        .clean(&secrets)
        .stdout,
    );
    let id = created[0]["id"].to_string();
    assert_eq!(created[0]["callback_url"], callback.as_str());
    let table = t
        .strava(dir.path(), &["webhooks", "list"])
        .ok()
        .clean(&secrets);
    assert!(table.stdout.contains(&id) && table.stdout.contains(&callback));
    let (_, rows) = csv_rows(
        &t.strava(dir.path(), &["webhooks", "list", "--format", "csv"])
            .ok()
            .stdout,
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        ndjson(
            &t.strava(dir.path(), &["webhooks", "list", "--format", "ndjson"])
                .ok()
                .stdout
        )
        .len(),
        1
    );
    // A wrong verify token: Strava's check fails, one line, non-zero.
    let refused = t
        .strava(dir.path(), &["webhooks", "create", &callback, "wrong"])
        .expect_code(1)
        .clean(&secrets);
    assert_eq!(
        refused
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1
    );
    t.strava(dir.path(), &["webhooks", "delete", &id])
        .ok()
        .clean(&secrets);
    assert_eq!(
        json(
            &t.strava(dir.path(), &["webhooks", "list", "--format", "json"])
                .ok()
                .stdout
        ),
        Value::Array(Vec::new())
    );
}

#[test]
fn errors_are_one_line_with_causes_on_demand() {
    let t = TestSandbox::start(2);
    let dir = temp_dir();
    let secrets = t.secrets();
    let missing = t
        .strava(dir.path(), &["activity", "1"])
        .expect_code(1)
        .clean(&secrets);
    assert!(missing.stdout.is_empty());
    assert_eq!(missing.stderr.lines().count(), 1, "{}", missing.stderr);
    assert!(
        missing.stderr.starts_with("error: no activity 1"),
        "{}",
        missing.stderr
    );
    let verbose = t
        .strava(dir.path(), &["-v", "activity", "1"])
        .expect_code(1)
        .clean(&secrets);
    assert!(
        verbose.stderr.contains("caused by: getActivityById: 404"),
        "{}",
        verbose.stderr
    );

    // Nothing configured: a hint, not a stack trace.
    let bare = common::run(strava(dir.path(), &["whoami"])).expect_code(1);
    assert!(
        bare.stderr.starts_with("error: not signed in"),
        "{}",
        bare.stderr
    );
    // A bad date is the user's error; bad usage is clap's (exit 2).
    let date = t
        .strava(dir.path(), &["activities", "--after", "soon"])
        .expect_code(1);
    assert!(date.stderr.contains("is not a date"), "{}", date.stderr);
    t.strava(dir.path(), &["activities", "--format", "yaml"])
        .expect_code(2);
    // A revoked token: Strava's 401, one line.
    let mut bad_token = strava(dir.path(), &["whoami"]);
    bad_token
        .env("STRAVA_API_BASE", t.sandbox.api_base())
        .env("STRAVA_ACCESS_TOKEN", "not-a-token");
    let denied = common::run(bad_token).expect_code(1);
    assert!(denied.stderr.contains("401"), "{}", denied.stderr);
    assert!(!denied.stderr.contains("not-a-token"));
}

#[test]
fn help_shows_examples_and_completions_generate() {
    let dir = temp_dir();
    for command in [
        vec!["--help"],
        vec!["login", "--help"],
        vec!["logout", "--help"],
        vec!["whoami", "--help"],
        vec!["activities", "--help"],
        vec!["activity", "--help"],
        vec!["export", "--help"],
        vec!["route", "export", "--help"],
        vec!["upload", "--help"],
        vec!["sync", "--help"],
        vec!["limits", "--help"],
        vec!["webhooks", "list", "--help"],
        vec!["webhooks", "create", "--help"],
        vec!["webhooks", "delete", "--help"],
        vec!["completions", "--help"],
    ] {
        let help = common::run(strava(dir.path(), &command)).ok();
        assert!(
            help.stdout.contains("Example"),
            "{command:?}:\n{}",
            help.stdout
        );
    }
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = common::run(strava(dir.path(), &["completions", shell])).ok();
        assert!(
            script.stdout.contains("strava") && script.stdout.contains("activities"),
            "{shell}"
        );
    }
}

#[test]
fn the_sandbox_flag_needs_no_account() {
    let dir = temp_dir();
    let whoami = common::run(strava(
        dir.path(),
        &["--sandbox", "whoami", "--format", "json"],
    ))
    .ok();
    let doc = json(&whoami.stdout);
    assert_eq!(doc["login"], "sandbox");
    assert!(doc["athlete"]["id"].is_number());
    assert!(whoami.stderr.contains("sandbox: an offline Strava"));
    let quiet = common::run(strava(
        dir.path(),
        &[
            "--sandbox",
            "-q",
            "activities",
            "--limit",
            "3",
            "--format",
            "csv",
        ],
    ))
    .ok();
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    assert_eq!(csv_rows(&quiet.stdout).1.len(), 3);
}

#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    use std::io::BufRead as _;
    let t = TestSandbox::start(4);
    let dir = temp_dir();
    let all = all_activities(&t);
    let id = all
        .iter()
        .find(|a| a.distance.unwrap_or(0.0) > 1000.0)
        .and_then(|a| a.id)
        .unwrap()
        .to_string();
    // `strava export ID --format csv | head -1`: far more than a pipe holds.
    let mut command = strava(dir.path(), &["export", &id, "--format", "csv"]);
    command
        .envs(t.env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("time,"));
    // The reader is gone (dropped with its BufReader).
    let mut stderr = child.stderr.take().unwrap();
    let code = common::wait_bounded(&mut child, std::time::Duration::from_secs(60));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("error"), "{text}");
}
