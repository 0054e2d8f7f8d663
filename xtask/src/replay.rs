//! Replays recorded Strava traffic through the `Client`, to prove paging (by page and by
//! cursor) and uploads behave as they did against the live API.
//!
//! ```sh
//! cargo xtask replay path/to/recordings
//! ```
//!
//! Recordings are `{"interactions":[{"request":{method,path,query},"response":{status,
//! headers,body}}]}` files. For each scenario below whose file exists, a local server
//! answers the recorded responses in order and checks that every request the client sends
//! is the recorded one (method, path and the paging parameters). A scenario passes when
//! the client consumed exactly the recorded interactions and got the expected result.
//! Prints `N passed, M failed` and exits 1 on any failure.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::Value;
use stravalib::Client;
use stravalib::RetryPolicy;
use stravalib::rate_limit::RateLimitPolicy;

#[derive(Deserialize, Clone)]
struct Recording {
    interactions: Vec<Interaction>,
}

#[derive(Deserialize, Clone)]
struct Interaction {
    request: RecordedRequest,
    response: RecordedResponse,
}

#[derive(Deserialize, Clone)]
struct RecordedRequest {
    method: String,
    path: String,
    #[serde(default)]
    query: HashMap<String, Vec<String>>,
}

#[derive(Deserialize, Clone)]
struct RecordedResponse {
    status: u16,
    #[serde(default)]
    body: Value,
}

#[derive(Default)]
struct Replay {
    queue: VecDeque<Interaction>,
    problems: Vec<String>,
}

type Shared = Arc<Mutex<Replay>>;

/// Parameters the client may send although the recording's client did not, when they
/// carry Strava's default.
const DEFAULTS: &[(&str, &str)] = &[("per_page", "30"), ("page", "1")];

async fn answer(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let mut replay = state.lock().expect("not poisoned");
    let Some(expected) = replay.queue.pop_front() else {
        replay
            .problems
            .push(format!("unexpected extra request {method} {uri}"));
        return StatusCode::IM_A_TEAPOT.into_response();
    };
    let want = &expected.request;
    let mut problems = Vec::new();
    if want.method != method.as_str() || want.path != uri.path() {
        problems.push(format!(
            "expected {} {}, got {method} {}",
            want.method,
            want.path,
            uri.path()
        ));
    }
    for (key, values) in &want.query {
        let sent: Vec<&str> = query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect();
        if sent != values.iter().map(String::as_str).collect::<Vec<_>>() {
            problems.push(format!("{key}: expected {values:?}, got {sent:?}"));
        }
    }
    for (key, value) in &query {
        if !want.query.contains_key(key) && !DEFAULTS.contains(&(key.as_str(), value.as_str())) {
            problems.push(format!("unrecorded parameter {key}={value}"));
        }
    }
    replay.problems.extend(
        problems
            .into_iter()
            .map(|p| format!("{} {}: {p}", want.method, want.path)),
    );
    let status =
        StatusCode::from_u16(expected.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match expected.response.body {
        Value::String(text) => (status, text).into_response(),
        Value::Null => status.into_response(),
        json => (
            status,
            [("content-type", "application/json")],
            json.to_string(),
        )
            .into_response(),
    }
}

struct Server {
    state: Shared,
    base: String,
    task: tokio::task::JoinHandle<()>,
}

async fn serve(recording: &Recording) -> std::io::Result<Server> {
    let state: Shared = Arc::new(Mutex::new(Replay {
        queue: recording.interactions.iter().cloned().collect(),
        problems: Vec::new(),
    }));
    let app = Router::new().fallback(answer).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/api/v3", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Server { state, base, task })
}

fn client(base: &str) -> Client {
    // No timeouts and no idle pool: the upload scenarios run on a paused clock, whose
    // jumps would otherwise fire those timers.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client");
    Client::builder()
        .http_client(http)
        .base_url(base)
        .access_token("replay-token")
        .rate_limit(RateLimitPolicy::None)
        .retry(RetryPolicy::none())
        .build()
        .expect("valid client")
}

/// The first recorded value of `key`, parsed.
fn recorded<T: std::str::FromStr>(recording: &Recording, key: &str) -> Option<T> {
    recording
        .interactions
        .first()?
        .request
        .query
        .get(key)?
        .first()?
        .parse()
        .ok()
}

/// Items in all recorded 2xx list bodies.
fn recorded_items(recording: &Recording) -> usize {
    recording
        .interactions
        .iter()
        .filter_map(|i| i.response.body.as_array())
        .map(Vec::len)
        .sum()
}

fn id_in_path(recording: &Recording, index: usize) -> Option<u64> {
    recording
        .interactions
        .first()?
        .request
        .path
        .split('/')
        .nth(index)?
        .parse()
        .ok()
}

type Outcome = Result<String, String>;

async fn run_scenario(name: &str, recording: &Recording, base: &str) -> Outcome {
    let client = client(base);
    let first = &recording
        .interactions
        .first()
        .ok_or("no interactions")?
        .request;
    // A recording of one request was one page fetched on its own.
    let single = recording.interactions.len() == 1;
    if first.path.ends_with("/athlete/activities") {
        let per_page = recorded(recording, "per_page").unwrap_or(30);
        if single {
            // As the recorded client did: the first page, asked for by number.
            let page = client
                .get_activities()
                .page(recorded::<i64>(recording, "page").unwrap_or(1))
                .per_page(per_page)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            return check_count(page.len(), recording);
        }
        let items: Vec<_> = client
            .get_activities()
            .per_page(per_page)
            .into_stream()
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        check_count(items.len(), recording)
    } else if first.path.contains("/clubs/") && first.path.ends_with("/activities") {
        let id = id_in_path(recording, 4).ok_or("no club id")?;
        #[allow(deprecated)]
        let items: Vec<_> = client
            .get_club_activities(id)
            .per_page(30)
            .into_stream()
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        check_count(items.len(), recording)
    } else if first.path.ends_with("/comments") {
        let id = id_in_path(recording, 4).ok_or("no activity id")?;
        let mut request = client.get_activity_comments(id);
        if let Some(size) = recorded::<u32>(recording, "page_size") {
            request = request.page_size(size);
        }
        if single {
            let page = request.send().await.map_err(|e| e.to_string())?;
            return check_count(page.len(), recording);
        }
        let items: Vec<_> = request
            .into_stream()
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        check_count(items.len(), recording)
    } else if first.path.ends_with("/uploads") && first.method == "POST" {
        replay_upload(&client, recording).await
    } else {
        Err(format!(
            "{name}: no scenario for {} {}",
            first.method, first.path
        ))
    }
}

fn check_count(got: usize, recording: &Recording) -> Outcome {
    let want = recorded_items(recording);
    if got == want {
        Ok(format!(
            "{got} items over {} requests",
            recording.interactions.len()
        ))
    } else {
        Err(format!("{got} items, the recording has {want}"))
    }
}

async fn replay_upload(client: &Client, recording: &Recording) -> Outcome {
    use stravalib::upload::{DataType, UploadFile};
    let last = &recording.interactions.last().ok_or("empty")?.response.body;
    let mut upload = client
        .upload_activity(
            UploadFile::from_bytes("replay.tcx", b"<TrainingCenterDatabase/>".to_vec()),
            DataType::Tcx,
        )
        .send()
        .await
        .map_err(|e| e.to_string())?;
    // Poll as often as the recording did, on a paused clock (no real waiting).
    let polls = recording.interactions.len() - 1;
    let interval = stravalib::upload::MIN_POLL_INTERVAL;
    tokio::time::pause();
    let outcome = upload.wait(interval * polls as u32, interval).await;
    tokio::time::resume();
    let expected_activity = last.get("activity_id").and_then(Value::as_u64);
    let expected_error = last.get("error").and_then(Value::as_str);
    match (outcome, expected_activity, expected_error) {
        (Ok(id), Some(want), _) if id.as_u64() == Some(want) => {
            Ok(format!("ready: activity {want} after {polls} polls"))
        }
        (Err(e), None, Some(_))
            if !e.to_string().is_empty()
                && !matches!(e, stravalib::upload::UploadError::TimedOut { .. }) =>
        {
            Ok(format!("processing error reported: {e}"))
        }
        (Err(stravalib::upload::UploadError::TimedOut { .. }), None, None) => {
            Ok("still processing: timed out as expected".to_owned())
        }
        (other, activity, error) => Err(format!(
            "got {other:?}; recording ends with activity {activity:?}, error {error:?}"
        )),
    }
}

/// Recordings that exercise paging or uploads.
fn scenario_files(dir: &Path) -> Vec<PathBuf> {
    let client = dir.join("strava-ruby-client/client");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&client)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("all_")
                || (name.starts_with("activity_comments_")
                    && name != "activity_comments_per_page_3_by_2.json")
                || name.starts_with("create_upload")
        })
        .collect();
    out.sort();
    out
}

/// Runs `replay` with its arguments (after the subcommand's name).
pub(crate) fn main(args: &[OsString]) -> ExitCode {
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: cargo xtask replay RECORDINGS_DIR");
        return ExitCode::from(2);
    };
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(replay(&dir)),
        Err(e) => {
            eprintln!("replay: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn replay(dir: &Path) -> ExitCode {
    let files = scenario_files(dir);
    if files.is_empty() {
        eprintln!(
            "replay: no paging or upload recordings under {}",
            dir.display()
        );
        return ExitCode::from(2);
    }
    let (mut passed, mut failed) = (0, 0);
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_owned();
        let recording: Recording = match std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(r) => r,
            Err(e) => {
                println!("FAIL {name}: cannot read: {e}");
                failed += 1;
                continue;
            }
        };
        let server = match serve(&recording).await {
            Ok(s) => s,
            Err(e) => {
                println!("FAIL {name}: cannot start the replay server: {e}");
                failed += 1;
                continue;
            }
        };
        let outcome = run_scenario(&name, &recording, &server.base).await;
        let (left, trailing_empty, problems) = {
            let replay = server.state.lock().expect("not poisoned");
            // The recording's client may have asked for one more page after a short one,
            // and got an empty list; ours stops on the short page. That is not a failure.
            let empty = replay
                .queue
                .iter()
                .all(|i| i.response.body.as_array().is_some_and(Vec::is_empty));
            (replay.queue.len(), empty, replay.problems.clone())
        };
        server.task.abort();
        match outcome {
            Ok(summary) if problems.is_empty() && (left == 0 || trailing_empty) => {
                let note = if left > 0 {
                    format!(
                        " (stopped on the short page; the recorded client fetched {left} more, empty)"
                    )
                } else {
                    String::new()
                };
                println!("ok   {name}: {summary}{note}");
                passed += 1;
            }
            Ok(summary) => {
                println!(
                    "FAIL {name}: {summary}; {left} recorded interactions unused; {problems:?}"
                );
                failed += 1;
            }
            Err(e) => {
                println!("FAIL {name}: {e}; {problems:?}");
                failed += 1;
            }
        }
    }
    println!("replay: {passed} passed, {failed} failed");
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
