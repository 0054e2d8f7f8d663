//! What the typed client costs over a bare reqwest + serde client (issue 5, "Performance").
//!
//! Both clients talk, in one run, to the same local server (an axum server on 127.0.0.1,
//! random port, serving precomputed bodies with Strava's headers; see `support/`). Server
//! and client share one current-thread tokio runtime, on the benchmark's thread, so the
//! wall time of an iteration is the CPU time of the whole exchange on one core: building
//! and sending each request, the server answering it, and reading and decoding the answer.
//! Criterion records that thread's CPU time (`support/cpu_time.rs`), which equals the wall
//! time on an idle machine and does not grow when other processes compete for the cores;
//! each group prints the share of its wall time that was CPU time.
//!
//! - `typed`: `stravalib::Client` with default settings (rate limiter and retries on),
//!   decoding into the generated `stravalib::types`.
//! - `baseline`: a `reqwest::Client` and a few `#[derive(Deserialize)]` structs (seven
//!   fields of an activity, dates kept as strings; the 11 typed `data` vectors of streams).
//!
//! Groups: `list_2000_activities` (11 requests: 10 pages of 200 and the empty page that
//! ends the list), `fetch_500_activities` (500 sequential fetches of an ~80 KB activity),
//! `fetch_20_streams` (20 fetches of all 11 streams, 20,000 points each), and
//! `decode/{page,activity,streams}` (`serde_json::from_slice` of each body alone, drop
//! included). With `STRAVALIB_BENCH_ATTRIBUTION=1`, an `attribution` group splits the typed
//! side's cost: its pipeline decoding the baseline's struct, the rate limiter and retries
//! turned off, and the list fetched page by page instead of through the stream.
//!
//! Before the benchmarks, a memory check streams 20,000 activities (100 pages of 200)
//! through `into_stream()` one at a time and prints the growth of the peak resident set.
//!
//! Run with `cargo bench --bench client`.

// `json!` of a whole Strava activity nests deeper than the default limit.
#![recursion_limit = "256"]

mod support {
    pub mod cpu_time;
    pub mod payloads;
    pub mod server;
}

use std::hint::black_box;
use std::pin::pin;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use stravalib::params::StreamKeys;
use stravalib::types::{DetailedActivity, StreamSet, StreamType, SummaryActivity};
use tokio::runtime::Runtime;

use support::cpu_time::ThreadCpu;
use support::payloads::{
    BaseActivity, BaseStreams, FullDetailedActivity, FullStreams, FullSummaryActivity, PER_PAGE,
    Payloads, STREAM_KEYS, STREAM_POINTS,
};
use support::server::{self, Server};

/// Activities listed per iteration of `list_2000_activities`.
const LIST_TOTAL: usize = 2_000;
/// Activity fetches per iteration of `fetch_500_activities`.
const ACTIVITY_FETCHES: u64 = 500;
/// Streams fetches per iteration of `fetch_20_streams`.
const STREAM_FETCHES: u64 = 20;
/// Activities streamed by the memory check.
const MEMORY_TOTAL: usize = 20_000;
const ACCESS_TOKEN: &str = "bench";
const FIRST_ACTIVITY_ID: u64 = 12_345_678_901;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

/// The typed client as users get it: defaults everywhere but the base URL and the token.
fn typed_client(base_url: String) -> stravalib::Client {
    stravalib::Client::builder()
        .base_url(base_url)
        .access_token(ACCESS_TOKEN)
        .build()
        .expect("a valid client")
}

/// The bare client: reqwest and serde, nothing else.
struct Baseline {
    http: reqwest::Client,
    base_url: String,
}

impl Baseline {
    /// reqwest as a bare client has it: no compression (reqwest's `gzip` and `brotli`
    /// features, on in this workspace through stravalib's defaults, turned off).
    fn new(base_url: String) -> Self {
        Self {
            http: reqwest::Client::builder()
                .no_gzip()
                .no_brotli()
                .build()
                .expect("a reqwest client"),
            base_url,
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> T {
        self.http
            .get(format!("{}{path}", self.base_url))
            .query(query)
            .bearer_auth(ACCESS_TOKEN)
            .send()
            .await
            .expect("sent")
            .error_for_status()
            .expect("a 2xx answer")
            .json()
            .await
            .expect("a JSON answer")
    }
}

fn stream_keys() -> StreamKeys {
    StreamKeys::new(STREAM_KEYS.map(StreamType::from))
}

// ---------------------------------------------------------------------------------------
// The workloads: each returns how many items it saw
// ---------------------------------------------------------------------------------------

/// Every activity of the list, one at a time, through the auto-paging stream.
async fn list_typed(client: &stravalib::Client) -> usize {
    let mut activities = pin!(
        client
            .get_activities()
            .per_page(PER_PAGE as u32)
            .into_stream()
    );
    let mut seen = 0;
    while let Some(activity) = activities.next().await {
        black_box(activity.expect("an activity"));
        seen += 1;
    }
    seen
}

/// Every activity of the list, page by page until a short (here: empty) page, decoded as
/// `T` (the 7-field or the full baseline).
async fn list_baseline<T: DeserializeOwned>(client: &Baseline) -> usize {
    let per_page = PER_PAGE.to_string();
    let mut seen = 0;
    for page in 1.. {
        let page = page.to_string();
        let activities: Vec<T> = client
            .get(
                "/athlete/activities",
                &[("page", &page), ("per_page", &per_page)],
            )
            .await;
        let len = activities.len();
        for activity in activities {
            black_box(activity);
            seen += 1;
        }
        if len < PER_PAGE {
            break;
        }
    }
    seen
}

/// The same list through the typed client's pipeline, decoded as the baseline's struct.
async fn list_typed_as(client: &stravalib::Client) -> usize {
    let mut activities = pin!(
        client
            .get_activities()
            .per_page(PER_PAGE as u32)
            .into_stream_as::<BaseActivity>()
    );
    let mut seen = 0;
    while let Some(activity) = activities.next().await {
        black_box(activity.expect("an activity"));
        seen += 1;
    }
    seen
}

/// The same fetches through the typed client's pipeline, decoded as the baseline's struct.
async fn fetch_activities_typed_as(client: &stravalib::Client) -> usize {
    for id in FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + ACTIVITY_FETCHES {
        let activity: BaseActivity = client
            .get_activity(id)
            .send_as()
            .await
            .expect("an activity");
        black_box(activity);
    }
    ACTIVITY_FETCHES as usize
}

async fn fetch_activities_typed(client: &stravalib::Client) -> usize {
    for id in FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + ACTIVITY_FETCHES {
        black_box(client.get_activity(id).send().await.expect("an activity"));
    }
    ACTIVITY_FETCHES as usize
}

async fn fetch_activities_baseline<T: DeserializeOwned>(client: &Baseline) -> usize {
    for id in FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + ACTIVITY_FETCHES {
        let activity: T = client.get(&format!("/activities/{id}"), &[]).await;
        black_box(activity);
    }
    ACTIVITY_FETCHES as usize
}

async fn fetch_streams_typed(client: &stravalib::Client) -> usize {
    for id in FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + STREAM_FETCHES {
        let streams = client
            .get_activity_streams(id)
            .keys(stream_keys())
            .send()
            .await
            .expect("streams");
        black_box(streams);
    }
    STREAM_FETCHES as usize
}

async fn fetch_streams_baseline<T: DeserializeOwned>(client: &Baseline) -> usize {
    let keys = STREAM_KEYS.join(",");
    for id in FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + STREAM_FETCHES {
        let streams: T = client
            .get(
                &format!("/activities/{id}/streams"),
                &[("keys", &keys), ("key_by_type", "true")],
            )
            .await;
        black_box(streams);
    }
    STREAM_FETCHES as usize
}

/// The same 500 fetches with `in_flight` requests outstanding at a time.
async fn fetch_activities_typed_in_flight(client: &stravalib::Client, in_flight: usize) -> usize {
    futures::stream::iter(FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + ACTIVITY_FETCHES)
        .map(|id| async move { client.get_activity(id).send().await.expect("an activity") })
        .buffer_unordered(in_flight)
        .fold(0, |seen, activity| async move {
            black_box(activity);
            seen + 1
        })
        .await
}

async fn fetch_activities_baseline_in_flight<T: DeserializeOwned>(
    client: &Baseline,
    in_flight: usize,
) -> usize {
    futures::stream::iter(FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + ACTIVITY_FETCHES)
        .map(|id| async move { client.get::<T>(&format!("/activities/{id}"), &[]).await })
        .buffer_unordered(in_flight)
        .fold(0, |seen, activity| async move {
            black_box(activity);
            seen + 1
        })
        .await
}

// ---------------------------------------------------------------------------------------
// Checks before measuring
// ---------------------------------------------------------------------------------------

/// The bodies decode, fully, on both sides: a field the typed models stopped reading would
/// make the typed side look cheaper than it is.
fn check_payloads(payloads: &Payloads) {
    let page: Vec<SummaryActivity> = serde_json::from_slice(&payloads.pages[0]).expect("page");
    assert_eq!(page.len(), PER_PAGE);
    for a in &page {
        assert!(a.name.is_some() && a.start_date.is_some() && a.map.is_some());
        assert!(a.sport_type.as_ref().is_some_and(|s| !s.is_unknown()));
    }
    let base: Vec<BaseActivity> = serde_json::from_slice(&payloads.pages[0]).expect("page");
    assert_eq!(base.len(), PER_PAGE);
    for (a, b) in page.iter().zip(&base) {
        assert_same(a, b);
    }

    let a: DetailedActivity = serde_json::from_slice(&payloads.activity).expect("activity");
    assert_eq!(a.segment_efforts.as_ref().map(Vec::len), Some(29));
    assert_eq!(a.laps.as_ref().map(Vec::len), Some(43));
    assert_eq!(a.best_efforts.as_ref().map(Vec::len), Some(13));
    assert_eq!(a.splits_metric.as_ref().map(Vec::len), Some(43));
    assert_eq!(a.splits_standard.as_ref().map(Vec::len), Some(27));
    let efforts = a.segment_efforts.as_deref().unwrap_or_default();
    assert!(
        efforts
            .iter()
            .all(|e| e.segment.is_some() && e.start_date.is_some())
    );
    assert!(a.map.as_ref().is_some_and(|m| m.polyline.is_some()));
    assert_same(
        &a,
        &serde_json::from_slice(&payloads.activity).expect("activity"),
    );

    check_full(payloads, &page, &a);

    let s: StreamSet = serde_json::from_slice(&payloads.streams).expect("streams");
    let full: FullStreams = serde_json::from_slice(&payloads.streams).expect("streams");
    let full_points = [
        full.time.map(|x| x.data.len()),
        full.distance.map(|x| x.data.len()),
        full.latlng.map(|x| x.data.len()),
        full.altitude.map(|x| x.data.len()),
        full.velocity_smooth.map(|x| x.data.len()),
        full.heartrate.map(|x| x.data.len()),
        full.cadence.map(|x| x.data.len()),
        full.watts.map(|x| x.data.len()),
        full.temp.map(|x| x.data.len()),
        full.moving.map(|x| x.data.len()),
        full.grade_smooth.map(|x| x.data.len()),
    ];
    assert_eq!(full_points, [Some(STREAM_POINTS); 11]);
    let points = [
        s.time.and_then(|x| x.data).map(|d| d.len()),
        s.distance.and_then(|x| x.data).map(|d| d.len()),
        s.latlng.and_then(|x| x.data).map(|d| d.len()),
        s.altitude.and_then(|x| x.data).map(|d| d.len()),
        s.velocity_smooth.and_then(|x| x.data).map(|d| d.len()),
        s.heartrate.and_then(|x| x.data).map(|d| d.len()),
        s.cadence.and_then(|x| x.data).map(|d| d.len()),
        s.watts.and_then(|x| x.data).map(|d| d.len()),
        s.temp.and_then(|x| x.data).map(|d| d.len()),
        s.moving.and_then(|x| x.data).map(|d| d.len()),
        s.grade_smooth.and_then(|x| x.data).map(|d| d.len()),
    ];
    assert!(
        points.iter().all(|n| *n == Some(STREAM_POINTS)),
        "{points:?}"
    );
    let b: BaseStreams = serde_json::from_slice(&payloads.streams).expect("streams");
    let base_points = [
        b.time.data.len(),
        b.distance.data.len(),
        b.latlng.data.len(),
        b.altitude.data.len(),
        b.velocity_smooth.data.len(),
        b.heartrate.data.len(),
        b.cadence.data.len(),
        b.watts.data.len(),
        b.temp.data.len(),
        b.moving.data.len(),
        b.grade_smooth.data.len(),
    ];
    assert_eq!(base_points, [STREAM_POINTS; 11]);

    println!(
        "payloads: page of {PER_PAGE} activities {:.0} KB, detailed activity {:.1} KB, \
         {} streams x {STREAM_POINTS} points {:.2} MB",
        payloads.pages[0].len() as f64 / 1e3,
        payloads.activity.len() as f64 / 1e3,
        STREAM_KEYS.len(),
        payloads.streams.len() as f64 / 1e6,
    );
}

/// The full baseline reads every field the typed models read, with the same values: each
/// value the typed model holds (serialized back to JSON) is in the full baseline too.
fn check_full(payloads: &Payloads, page: &[SummaryActivity], activity: &DetailedActivity) {
    let full: Vec<FullSummaryActivity> = serde_json::from_slice(&payloads.pages[0]).expect("page");
    assert_eq!(full.len(), page.len());
    for (typed, full) in page.iter().zip(&full) {
        assert_eq!(typed.id.and_then(|id| id.as_u64()), Some(full.id));
        assert_eq!(typed.name, full.name);
        assert_eq!(
            typed
                .start_date
                .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            full.start_date
        );
        assert_eq!(
            typed.sport_type.as_ref().map(|s| s.as_str()),
            full.sport_type.as_deref()
        );
        assert_eq!(
            typed
                .map
                .as_ref()
                .and_then(|m| m.summary_polyline.as_deref()),
            full.map
                .as_ref()
                .and_then(|m| m.summary_polyline.as_deref())
        );
    }
    let full: FullDetailedActivity = serde_json::from_slice(&payloads.activity).expect("activity");
    assert_eq!(activity.id.and_then(|id| id.as_u64()), Some(full.id));
    fn count<T>(items: &Option<Vec<T>>) -> Option<usize> {
        items.as_ref().map(Vec::len)
    }
    assert_eq!(
        count(&activity.segment_efforts),
        count(&full.segment_efforts)
    );
    assert_eq!(count(&activity.laps), count(&full.laps));
    assert_eq!(count(&activity.best_efforts), count(&full.best_efforts));
    assert_eq!(
        activity.map.as_ref().and_then(|m| m.polyline.as_deref()),
        full.map.as_ref().and_then(|m| m.polyline.as_deref())
    );
    // Every field the typed model fills is declared by the full baseline.
    let typed = serde_json::to_value(activity).expect("serializable");
    let full_body: serde_json::Value =
        serde_json::from_slice(&payloads.activity).expect("activity");
    for (key, value) in typed.as_object().expect("object") {
        if !value.is_null() {
            assert!(full_body.get(key).is_some(), "{key} is not in the body");
        }
    }
}

/// The baseline reads the same values as the typed models.
fn assert_same(typed: &impl serde::Serialize, base: &BaseActivity) {
    let typed = serde_json::to_value(typed).expect("serializable");
    assert_eq!(typed["id"], base.id);
    assert_eq!(typed["name"], base.name.as_str());
    assert_eq!(typed["distance"], base.distance);
    assert_eq!(typed["moving_time"], base.moving_time);
    assert_eq!(typed["elapsed_time"], base.elapsed_time);
    assert_eq!(typed["sport_type"], base.sport_type.as_str());
    assert_eq!(typed["start_date"], base.start_date.as_str());
}

/// Runs `workload` once and returns (items seen, requests the server answered).
fn run_once(
    rt: &Runtime,
    server: &Server,
    workload: impl Future<Output = usize>,
) -> (usize, usize) {
    let before = server.requests();
    let seen = rt.block_on(workload);
    (seen, server.requests() - before)
}

/// Both sides see the same items with the same number of requests.
fn check_workloads(rt: &Runtime, server: &Server, typed: &stravalib::Client, base: &Baseline) {
    let pairs = [
        (
            "list_2000_activities",
            run_once(rt, server, list_typed(typed)),
            run_once(rt, server, list_baseline::<BaseActivity>(base)),
            (LIST_TOTAL, LIST_TOTAL / PER_PAGE + 1),
        ),
        (
            "fetch_500_activities",
            run_once(rt, server, fetch_activities_typed(typed)),
            run_once(rt, server, fetch_activities_baseline::<BaseActivity>(base)),
            (ACTIVITY_FETCHES as usize, ACTIVITY_FETCHES as usize),
        ),
        (
            "fetch_20_streams",
            run_once(rt, server, fetch_streams_typed(typed)),
            run_once(rt, server, fetch_streams_baseline::<BaseStreams>(base)),
            (STREAM_FETCHES as usize, STREAM_FETCHES as usize),
        ),
    ];
    for (name, typed, baseline, expected) in pairs {
        assert_eq!(typed, expected, "{name}: typed (items, requests)");
        assert_eq!(baseline, expected, "{name}: baseline (items, requests)");
        println!(
            "{name}: {} items in {} requests on each side",
            expected.0, expected.1
        );
    }
}

// ---------------------------------------------------------------------------------------
// Memory: streaming 20,000 activities costs about one page
// ---------------------------------------------------------------------------------------

/// A `VmXXX:` line of /proc/self/status, in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Resets the peak resident set (VmHWM) to the current one (Linux >= 4.0).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

struct Growth {
    rss_before: u64,
    peak: u64,
    rss_after: u64,
    reset: bool,
}

impl std::fmt::Display for Growth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |kib: u64| kib as f64 / 1024.0;
        write!(
            f,
            "peak RSS +{:.1} MiB (RSS {:.1} MiB before, peak {:.1} MiB, {:.1} MiB after{})",
            mib(self.peak.saturating_sub(self.rss_before)),
            mib(self.rss_before),
            mib(self.peak),
            mib(self.rss_after),
            if self.reset {
                ""
            } else {
                "; VmHWM could not be reset: the peak may be an earlier one"
            },
        )
    }
}

fn measure<T>(run: impl FnOnce() -> T) -> Option<(T, Growth)> {
    let reset = reset_peak();
    let rss_before = status_kib("VmRSS:")?;
    let out = run();
    let peak = status_kib("VmHWM:")?;
    let rss_after = status_kib("VmRSS:")?;
    Some((
        out,
        Growth {
            rss_before,
            peak,
            rss_after,
            reset,
        },
    ))
}

/// Streams the list one activity at a time (each dropped before the next), then, for
/// contrast, collects it; prints the growth of the peak resident set for each.
fn memory_check() {
    let rt = runtime();
    let server = rt.block_on(server::start(Payloads::pages_only()));
    let one_page = typed_client(server.base_url(PER_PAGE));
    let all = typed_client(server.base_url(MEMORY_TOTAL));
    report("streaming 200 activities (1 page) one at a time", || {
        rt.block_on(list_typed(&one_page))
    });
    report(
        "streaming 20000 activities (100 pages) one at a time",
        || rt.block_on(list_typed(&all)),
    );
    report(
        "collecting 20000 activities into a Vec (for contrast)",
        || {
            let stream = all.get_activities().per_page(PER_PAGE as u32).into_stream();
            let items: Vec<_> = rt.block_on(stream.collect());
            items.len()
        },
    );
}

fn report(what: &str, run: impl FnOnce() -> usize) {
    match measure(run) {
        Some((seen, growth)) => println!("memory: {what}: {seen} activities, {growth}"),
        None => println!("memory: /proc/self/status is not readable here; skipped"),
    }
}

// ---------------------------------------------------------------------------------------
// The benchmarks
// ---------------------------------------------------------------------------------------

type Bench = Criterion<ThreadCpu>;

fn group<'a>(c: &'a mut Bench, name: &str) -> BenchmarkGroup<'a, ThreadCpu> {
    ThreadCpu::reset_totals();
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group
}

/// Ends a group, saying how much of its wall time was CPU time of the benchmark thread.
fn finish(group: BenchmarkGroup<'_, ThreadCpu>) {
    group.finish();
    if let Some(share) = ThreadCpu::utilisation() {
        println!(
            "(CPU time of the benchmark thread was {:.0}% of the wall time in this group)",
            share * 100.0
        );
    }
}

/// Decodes as the typed client does (`stravalib::decode_json`, what `send()` runs).
fn decode_typed<T: DeserializeOwned>(body: &[u8]) -> T {
    stravalib::decode_json(body).expect("decodes")
}

/// Decodes as the bare client does (`serde_json::from_slice`, what reqwest's `json()` runs).
fn decode<T: DeserializeOwned>(body: &[u8]) -> T {
    serde_json::from_slice(body).expect("decodes")
}

/// The server, both clients and the bodies, shared by every group.
struct Setup {
    rt: Runtime,
    server: Server,
    typed: stravalib::Client,
    baseline: Baseline,
    page: bytes::Bytes,
    activity: bytes::Bytes,
    streams: bytes::Bytes,
}

impl Setup {
    fn new() -> Self {
        let rt = runtime();
        let payloads = Payloads::all();
        check_payloads(&payloads);
        let (page, activity, streams) = (
            payloads.pages[0].clone(),
            payloads.activity.clone(),
            payloads.streams.clone(),
        );
        let server = rt.block_on(server::start(payloads));
        let typed = typed_client(server.base_url(LIST_TOTAL));
        let baseline = Baseline::new(server.base_url(LIST_TOTAL));
        check_workloads(&rt, &server, &typed, &baseline);
        Self {
            rt,
            server,
            typed,
            baseline,
            page,
            activity,
            streams,
        }
    }
}

fn benches(c: &mut Bench, s: &Setup) {
    let (rt, typed, baseline) = (&s.rt, &s.typed, &s.baseline);

    let mut g = group(c, "list_2000_activities");
    g.throughput(Throughput::Elements(LIST_TOTAL as u64));
    g.bench_function("typed", |b| b.to_async(rt).iter(|| list_typed(typed)));
    g.bench_function("typed_as", |b| b.to_async(rt).iter(|| list_typed_as(typed)));
    g.bench_function("baseline", |b| {
        b.to_async(rt)
            .iter(|| list_baseline::<BaseActivity>(baseline))
    });
    g.bench_function("baseline_full", |b| {
        b.to_async(rt)
            .iter(|| list_baseline::<FullSummaryActivity>(baseline))
    });
    finish(g);

    let mut g = group(c, "fetch_500_activities");
    g.throughput(Throughput::Elements(ACTIVITY_FETCHES));
    g.bench_function("typed", |b| {
        b.to_async(rt).iter(|| fetch_activities_typed(typed))
    });
    g.bench_function("typed_as", |b| {
        b.to_async(rt).iter(|| fetch_activities_typed_as(typed))
    });
    g.bench_function("baseline", |b| {
        b.to_async(rt)
            .iter(|| fetch_activities_baseline::<BaseActivity>(baseline))
    });
    g.bench_function("baseline_full", |b| {
        b.to_async(rt)
            .iter(|| fetch_activities_baseline::<FullDetailedActivity>(baseline))
    });
    finish(g);

    let mut g = group(c, "fetch_500_activities_in_flight");
    g.throughput(Throughput::Elements(ACTIVITY_FETCHES));
    for in_flight in [8, 64] {
        g.bench_function(format!("typed/{in_flight}"), |b| {
            b.to_async(rt)
                .iter(|| fetch_activities_typed_in_flight(typed, in_flight))
        });
        g.bench_function(format!("baseline_full/{in_flight}"), |b| {
            b.to_async(rt).iter(|| {
                fetch_activities_baseline_in_flight::<FullDetailedActivity>(baseline, in_flight)
            })
        });
    }
    finish(g);

    let mut g = group(c, "fetch_20_streams");
    g.throughput(Throughput::Elements(STREAM_FETCHES));
    g.bench_function("typed", |b| {
        b.to_async(rt).iter(|| fetch_streams_typed(typed))
    });
    g.bench_function("baseline", |b| {
        b.to_async(rt)
            .iter(|| fetch_streams_baseline::<BaseStreams>(baseline))
    });
    g.bench_function("baseline_full", |b| {
        b.to_async(rt)
            .iter(|| fetch_streams_baseline::<FullStreams>(baseline))
    });
    finish(g);

    let mut g = group(c, "decode");
    g.measurement_time(Duration::from_secs(2));
    let (page, activity, streams) = (&s.page, &s.activity, &s.streams);
    g.bench_function("page/typed", |b| {
        b.iter(|| decode_typed::<Vec<SummaryActivity>>(page))
    });
    g.bench_function("page/baseline", |b| {
        b.iter(|| decode::<Vec<BaseActivity>>(page))
    });
    g.bench_function("page/baseline_full", |b| {
        b.iter(|| decode::<Vec<FullSummaryActivity>>(page))
    });
    g.bench_function("activity/typed", |b| {
        b.iter(|| decode_typed::<DetailedActivity>(activity))
    });
    g.bench_function("activity/baseline", |b| {
        b.iter(|| decode::<BaseActivity>(activity))
    });
    g.bench_function("activity/baseline_full", |b| {
        b.iter(|| decode::<FullDetailedActivity>(activity))
    });
    g.bench_function("streams/typed", |b| {
        b.iter(|| decode_typed::<StreamSet>(streams))
    });
    g.bench_function("streams/baseline", |b| {
        b.iter(|| decode::<BaseStreams>(streams))
    });
    g.bench_function("streams/baseline_full", |b| {
        b.iter(|| decode::<FullStreams>(streams))
    });
    finish(g);
}

// ---------------------------------------------------------------------------------------
// Attribution (only with STRAVALIB_BENCH_ATTRIBUTION=1): where the typed side's time goes
// ---------------------------------------------------------------------------------------

/// The activity fetches through the typed client's pipeline (token, rate limiter, retries,
/// error mapping), decoded into the baseline's struct: the pipeline's cost alone.
async fn fetch_activities_pipeline_bare(client: &stravalib::Client) -> usize {
    for id in FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + ACTIVITY_FETCHES {
        let activity: BaseActivity = client
            .api()
            .request(reqwest::Method::GET, &format!("/activities/{id}"))
            .operation("getActivityById")
            .send_json()
            .await
            .expect("an activity");
        black_box(activity);
    }
    ACTIVITY_FETCHES as usize
}

/// The list through the single-page form (`send`), without the auto-paging stream.
async fn list_typed_pages(client: &stravalib::Client) -> usize {
    let mut seen = 0;
    for page in 1.. {
        let activities = client
            .get_activities()
            .page(page)
            .per_page(PER_PAGE as u32)
            .send()
            .await
            .expect("a page");
        let len = activities.len();
        for activity in activities {
            black_box(activity);
            seen += 1;
        }
        if len < PER_PAGE {
            break;
        }
    }
    seen
}

fn attribution(c: &mut Bench, s: &Setup) {
    use stravalib::RetryPolicy;
    use stravalib::rate_limit::RateLimitPolicy;

    let (rt, typed) = (&s.rt, &s.typed);
    let unguarded = stravalib::Client::builder()
        .base_url(s.server.base_url(LIST_TOTAL))
        .access_token(ACCESS_TOKEN)
        .rate_limit(RateLimitPolicy::None)
        .retry(RetryPolicy::none())
        .build()
        .expect("a valid client");
    println!(
        "sizes: SummaryActivity {} bytes, DetailedActivity {} bytes, StreamSet {} bytes",
        size_of::<SummaryActivity>(),
        size_of::<DetailedActivity>(),
        size_of::<StreamSet>(),
    );
    let mut g = group(c, "attribution");
    g.bench_function("fetch_500_activities/typed_pipeline_baseline_struct", |b| {
        b.to_async(rt)
            .iter(|| fetch_activities_pipeline_bare(typed))
    });
    g.bench_function("fetch_500_activities/typed_no_limiter_no_retry", |b| {
        b.to_async(rt).iter(|| fetch_activities_typed(&unguarded))
    });
    g.bench_function("list_2000_activities/typed_single_pages", |b| {
        b.to_async(rt).iter(|| list_typed_pages(typed))
    });
    finish(g);
}

// ---------------------------------------------------------------------------------------
// Paired runs (only with STRAVALIB_BENCH_PAIRED=<repetitions>): interleaved, for ratios
// ---------------------------------------------------------------------------------------

/// One measured variant of a paired workload.
type Variant<'a> = (&'static str, Box<dyn Fn() + 'a>);

/// Runs every variant of a workload once per repetition, in turn (so that a change in the
/// machine's load hits all of them alike), and prints per variant the median CPU time and,
/// against the last variant, the median and range of the per-repetition ratios.
fn paired(name: &str, repetitions: usize, variants: &[Variant<'_>]) {
    let cpu = || support::cpu_time::thread_cpu().expect("thread CPU time");
    for (_, run) in variants {
        run(); // warm-up: connections, allocator, caches
    }
    let mut times = vec![Vec::with_capacity(repetitions); variants.len()];
    for _ in 0..repetitions {
        for (i, (_, run)) in variants.iter().enumerate() {
            let start = cpu();
            run();
            times[i].push((cpu() - start).as_secs_f64());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let reference = times.len() - 1;
    println!("paired/{name} ({repetitions} repetitions, CPU time per iteration)");
    for (i, (label, _)) in variants.iter().enumerate() {
        let mut ratios: Vec<f64> = times[i]
            .iter()
            .zip(&times[reference])
            .map(|(a, b)| a / b)
            .collect();
        let mut own = times[i].clone();
        let (lo, hi) = (
            own.iter().copied().fold(f64::INFINITY, f64::min),
            own.iter().copied().fold(0.0, f64::max),
        );
        let m = median(&mut own);
        let r = median(&mut ratios);
        let (rlo, rhi) = (ratios[0], ratios[ratios.len() - 1]);
        println!(
            "  {label:<28} median {:>9.3} ms (min {:.3}, max {:.3})  / {}: {r:.3}x ({rlo:.3}-{rhi:.3})",
            m * 1e3,
            lo * 1e3,
            hi * 1e3,
            variants[reference].0,
        );
    }
}

/// Compressed transfers: the same workloads from a server that sends precompressed
/// answers to requests that accept them; bytes on the wire per body, and the CPU time of
/// the typed client asking for brotli (its default), gzip only, or nothing, against the
/// bare client (which asks for nothing).
fn paired_compression(s: &Setup, repetitions: usize) {
    for (name, body) in [
        ("page of 200", &s.page),
        ("detailed activity", &s.activity),
        ("11 streams", &s.streams),
    ] {
        let (identity, gzip, brotli) = server::wire_sizes(body);
        println!(
            "wire: {name}: identity {identity} B, gzip {gzip} B ({:.1}%), brotli {brotli} B ({:.1}%)",
            gzip as f64 * 100.0 / identity as f64,
            brotli as f64 * 100.0 / identity as f64,
        );
    }
    let rt = &s.rt;
    let server = rt.block_on(server::start_compressed(Payloads::all()));
    let url = server.base_url(LIST_TOTAL);
    let with_http = |http: reqwest::Client| {
        stravalib::Client::builder()
            .base_url(url.clone())
            .access_token(ACCESS_TOKEN)
            .http_client(http)
            .build()
            .expect("a valid client")
    };
    let brotli = typed_client(url.clone());
    let gzip = with_http(
        reqwest::Client::builder()
            .no_brotli()
            .build()
            .expect("http"),
    );
    let identity = with_http(
        reqwest::Client::builder()
            .no_brotli()
            .no_gzip()
            .build()
            .expect("http"),
    );
    let baseline = Baseline::new(url.clone());
    let block = |f: &dyn Fn() -> usize| {
        black_box(f());
    };
    let (b, g, i) = (&brotli, &gzip, &identity);
    paired(
        "compressed/fetch_500_activities",
        repetitions,
        &[
            (
                "typed/br",
                Box::new(|| block(&|| rt.block_on(fetch_activities_typed(b)))),
            ),
            (
                "typed/gzip",
                Box::new(|| block(&|| rt.block_on(fetch_activities_typed(g)))),
            ),
            (
                "typed/identity",
                Box::new(|| block(&|| rt.block_on(fetch_activities_typed(i)))),
            ),
            (
                "baseline_full/identity",
                Box::new(|| {
                    block(&|| {
                        rt.block_on(fetch_activities_baseline::<FullDetailedActivity>(&baseline))
                    })
                }),
            ),
        ],
    );
    paired(
        "compressed/list_2000_activities",
        repetitions,
        &[
            (
                "typed/br",
                Box::new(|| block(&|| rt.block_on(list_typed(b)))),
            ),
            (
                "typed/gzip",
                Box::new(|| block(&|| rt.block_on(list_typed(g)))),
            ),
            (
                "typed/identity",
                Box::new(|| block(&|| rt.block_on(list_typed(i)))),
            ),
            (
                "baseline_full/identity",
                Box::new(|| {
                    block(&|| rt.block_on(list_baseline::<FullSummaryActivity>(&baseline)))
                }),
            ),
        ],
    );
    paired(
        "compressed/fetch_20_streams",
        repetitions,
        &[
            (
                "typed/br",
                Box::new(|| block(&|| rt.block_on(fetch_streams_typed(b)))),
            ),
            (
                "typed/gzip",
                Box::new(|| block(&|| rt.block_on(fetch_streams_typed(g)))),
            ),
            (
                "typed/identity",
                Box::new(|| block(&|| rt.block_on(fetch_streams_typed(i)))),
            ),
            (
                "baseline_full/identity",
                Box::new(|| {
                    block(&|| rt.block_on(fetch_streams_baseline::<FullStreams>(&baseline)))
                }),
            ),
        ],
    );
}

fn paired_runs(s: &Setup, repetitions: usize) {
    let (rt, typed, baseline) = (&s.rt, &s.typed, &s.baseline);
    let (page, activity, streams) = (&s.page, &s.activity, &s.streams);
    let block = |f: &dyn Fn() -> usize| {
        black_box(f());
    };
    paired(
        "list_2000_activities",
        repetitions,
        &[
            (
                "typed",
                Box::new(|| block(&|| rt.block_on(list_typed(typed)))),
            ),
            (
                "baseline",
                Box::new(|| block(&|| rt.block_on(list_baseline::<BaseActivity>(baseline)))),
            ),
            (
                "baseline_full",
                Box::new(|| block(&|| rt.block_on(list_baseline::<FullSummaryActivity>(baseline)))),
            ),
        ],
    );
    paired(
        "fetch_500_activities",
        repetitions,
        &[
            (
                "typed",
                Box::new(|| block(&|| rt.block_on(fetch_activities_typed(typed)))),
            ),
            (
                "typed_as(baseline_full)",
                Box::new(|| {
                    block(&|| {
                        rt.block_on(async {
                            for id in FIRST_ACTIVITY_ID..FIRST_ACTIVITY_ID + ACTIVITY_FETCHES {
                                let a: FullDetailedActivity =
                                    typed.get_activity(id).send_as().await.expect("activity");
                                black_box(a);
                            }
                            ACTIVITY_FETCHES as usize
                        })
                    })
                }),
            ),
            (
                "baseline",
                Box::new(|| {
                    block(&|| rt.block_on(fetch_activities_baseline::<BaseActivity>(baseline)))
                }),
            ),
            (
                "baseline_full",
                Box::new(|| {
                    block(&|| {
                        rt.block_on(fetch_activities_baseline::<FullDetailedActivity>(baseline))
                    })
                }),
            ),
        ],
    );
    for in_flight in [8, 64] {
        paired(
            &format!("fetch_500_activities_in_flight/{in_flight}"),
            repetitions,
            &[
                (
                    "typed",
                    Box::new(move || {
                        block(&|| rt.block_on(fetch_activities_typed_in_flight(typed, in_flight)))
                    }),
                ),
                (
                    "baseline_full",
                    Box::new(move || {
                        block(&|| {
                            rt.block_on(
                                fetch_activities_baseline_in_flight::<FullDetailedActivity>(
                                    baseline, in_flight,
                                ),
                            )
                        })
                    }),
                ),
            ],
        );
    }
    paired(
        "fetch_20_streams",
        repetitions,
        &[
            (
                "typed",
                Box::new(|| block(&|| rt.block_on(fetch_streams_typed(typed)))),
            ),
            (
                "baseline",
                Box::new(|| {
                    block(&|| rt.block_on(fetch_streams_baseline::<BaseStreams>(baseline)))
                }),
            ),
            (
                "baseline_full",
                Box::new(|| {
                    block(&|| rt.block_on(fetch_streams_baseline::<FullStreams>(baseline)))
                }),
            ),
        ],
    );
    // Decoding alone, repeated within an iteration so each one is long enough to time.
    let times = |n: usize, f: &dyn Fn()| {
        for _ in 0..n {
            f();
        }
    };
    paired(
        "decode/page_x20",
        repetitions,
        &[
            (
                "typed",
                Box::new(|| {
                    times(20, &|| {
                        drop(black_box(decode_typed::<Vec<SummaryActivity>>(page)))
                    })
                }),
            ),
            (
                "baseline_full",
                Box::new(|| {
                    times(20, &|| {
                        drop(black_box(decode::<Vec<FullSummaryActivity>>(page)))
                    })
                }),
            ),
        ],
    );
    paired(
        "decode/activity_x100",
        repetitions,
        &[
            (
                "typed",
                Box::new(|| {
                    times(100, &|| {
                        drop(black_box(decode_typed::<DetailedActivity>(activity)))
                    })
                }),
            ),
            (
                "baseline_full",
                Box::new(|| {
                    times(100, &|| {
                        drop(black_box(decode::<FullDetailedActivity>(activity)))
                    })
                }),
            ),
        ],
    );
    paired(
        "decode/streams_x5",
        repetitions,
        &[
            (
                "typed",
                Box::new(|| times(5, &|| drop(black_box(decode_typed::<StreamSet>(streams))))),
            ),
            (
                "baseline_full",
                Box::new(|| times(5, &|| drop(black_box(decode::<FullStreams>(streams))))),
            ),
        ],
    );
}

fn main() {
    if let Some(repetitions) = std::env::var("STRAVALIB_BENCH_PAIRED")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        let setup = Setup::new();
        if std::env::var_os("STRAVALIB_BENCH_COMPRESSION").is_some() {
            paired_compression(&setup, repetitions.max(1));
        } else {
            paired_runs(&setup, repetitions.max(1));
        }
        return;
    }
    let listing = std::env::args().any(|a| a == "--list");
    if !listing {
        memory_check();
    }
    let mut c = Criterion::default()
        .with_measurement(ThreadCpu)
        .configure_from_args();
    let setup = Setup::new();
    benches(&mut c, &setup);
    if std::env::var_os("STRAVALIB_BENCH_ATTRIBUTION").is_some() {
        attribution(&mut c, &setup);
    }
    c.final_summary();
}
