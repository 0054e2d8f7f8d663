//! Made-up but realistic Strava answers for the benchmarks, and the hand-written structs
//! of the "bare" baseline client.
//!
//! Everything is generated from a fixed seed, serialized once with `serde_json` and kept as
//! `Bytes`, so the server only hands out reference-counted copies.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

/// Activities in one full page (Strava's maximum `per_page`).
pub const PER_PAGE: usize = 200;
/// Distinct full pages generated; page `n` is served as page `(n - 1) % PAGES`.
pub const PAGES: usize = 10;
/// Points in every stream of the streams answer.
pub const STREAM_POINTS: usize = 20_000;

/// The stream types requested and served, in Strava's order.
pub const STREAM_KEYS: [&str; 11] = [
    "time",
    "distance",
    "latlng",
    "altitude",
    "velocity_smooth",
    "heartrate",
    "cadence",
    "watts",
    "temp",
    "moving",
    "grade_smooth",
];

const ATHLETE_ID: u64 = 134_815;

// ---------------------------------------------------------------------------------------
// The baseline: what a minimal reqwest + serde client declares
// ---------------------------------------------------------------------------------------

/// An activity as a minimal client reads it (list pages and single activities alike).
#[derive(Debug, Deserialize)]
pub struct BaseActivity {
    pub id: u64,
    pub name: String,
    pub distance: f64,
    pub moving_time: u64,
    pub elapsed_time: u64,
    pub sport_type: String,
    pub start_date: String,
}

/// One stream: only its samples.
#[derive(Debug, Deserialize)]
pub struct BaseStream<T> {
    pub data: Vec<T>,
}

/// The 11 streams, keyed by type, each with its typed samples.
#[derive(Debug, Deserialize)]
pub struct BaseStreams {
    pub time: BaseStream<i64>,
    pub distance: BaseStream<f64>,
    pub latlng: BaseStream<[f64; 2]>,
    pub altitude: BaseStream<f64>,
    pub velocity_smooth: BaseStream<f64>,
    pub heartrate: BaseStream<i64>,
    pub cadence: BaseStream<i64>,
    pub watts: BaseStream<i64>,
    pub temp: BaseStream<i64>,
    pub moving: BaseStream<bool>,
    pub grade_smooth: BaseStream<f64>,
}

// ---------------------------------------------------------------------------------------
// The full baseline: a bare client that declares every field the bodies carry
// ---------------------------------------------------------------------------------------
//
// The cheapest fully typed client one could write by hand: every field of the bodies
// declared (mostly `Option`, as Strava leaves most of them out at times), nested objects
// typed, dates and enums kept as `String` (no chrono, no enum matching), ids as `u64`,
// positions as `[f64; 2]`, fields a body does not carry skipped. What the typed models
// read, minus what makes them typed (exact ids, chrono dates, open enums, unit types).

/// `{"id", "resource_state"}`: an athlete or activity reference.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullMeta {
    pub id: u64,
    pub resource_state: Option<i64>,
}

/// An activity's map.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullMap {
    pub id: Option<String>,
    pub polyline: Option<String>,
    pub summary_polyline: Option<String>,
    pub resource_state: Option<i64>,
}

/// A summary activity with every field a list page carries.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullSummaryActivity {
    pub id: u64,
    pub resource_state: Option<i64>,
    pub athlete: Option<FullMeta>,
    pub name: Option<String>,
    pub distance: Option<f64>,
    pub moving_time: Option<i64>,
    pub elapsed_time: Option<i64>,
    pub total_elevation_gain: Option<f64>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub sport_type: Option<String>,
    pub workout_type: Option<i64>,
    pub start_date: Option<String>,
    pub start_date_local: Option<String>,
    pub timezone: Option<String>,
    pub utc_offset: Option<f64>,
    pub location_city: Option<String>,
    pub location_state: Option<String>,
    pub location_country: Option<String>,
    pub achievement_count: Option<i64>,
    pub kudos_count: Option<i64>,
    pub comment_count: Option<i64>,
    pub athlete_count: Option<i64>,
    pub photo_count: Option<i64>,
    pub map: Option<FullMap>,
    pub trainer: Option<bool>,
    pub commute: Option<bool>,
    pub manual: Option<bool>,
    pub private: Option<bool>,
    pub visibility: Option<String>,
    pub flagged: Option<bool>,
    pub gear_id: Option<String>,
    pub start_latlng: Option<[f64; 2]>,
    pub end_latlng: Option<[f64; 2]>,
    pub average_speed: Option<f64>,
    pub max_speed: Option<f64>,
    pub average_cadence: Option<f64>,
    pub average_watts: Option<f64>,
    pub max_watts: Option<i64>,
    pub weighted_average_watts: Option<i64>,
    pub kilojoules: Option<f64>,
    pub device_watts: Option<bool>,
    pub has_heartrate: Option<bool>,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub heartrate_opt_out: Option<bool>,
    pub display_hide_heartrate_option: Option<bool>,
    pub elev_high: Option<f64>,
    pub elev_low: Option<f64>,
    pub upload_id: Option<u64>,
    pub upload_id_str: Option<String>,
    pub external_id: Option<String>,
    pub from_accepted_tag: Option<bool>,
    pub pr_count: Option<i64>,
    pub total_photo_count: Option<i64>,
    pub has_kudoed: Option<bool>,
    pub suffer_score: Option<f64>,
    pub device_name: Option<String>,
}

/// A segment as an effort carries it.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullSegment {
    pub id: u64,
    pub resource_state: Option<i64>,
    pub name: Option<String>,
    pub activity_type: Option<String>,
    pub distance: Option<f64>,
    pub average_grade: Option<f64>,
    pub maximum_grade: Option<f64>,
    pub elevation_high: Option<f64>,
    pub elevation_low: Option<f64>,
    pub start_latlng: Option<[f64; 2]>,
    pub end_latlng: Option<[f64; 2]>,
    pub elevation_profile: Option<String>,
    pub elevation_profiles: Option<String>,
    pub climb_category: Option<i64>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub private: Option<bool>,
    pub hazardous: Option<bool>,
    pub starred: Option<bool>,
}

/// A segment effort or a best effort.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullEffort {
    pub id: u64,
    pub resource_state: Option<i64>,
    pub name: Option<String>,
    pub activity: Option<FullMeta>,
    pub athlete: Option<FullMeta>,
    pub elapsed_time: Option<i64>,
    pub moving_time: Option<i64>,
    pub start_date: Option<String>,
    pub start_date_local: Option<String>,
    pub distance: Option<f64>,
    pub start_index: Option<i64>,
    pub end_index: Option<i64>,
    pub average_cadence: Option<f64>,
    pub device_watts: Option<bool>,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub pr_rank: Option<i64>,
    pub kom_rank: Option<i64>,
    pub achievements: Option<Vec<serde::de::IgnoredAny>>,
    pub visibility: Option<String>,
    pub hidden: Option<bool>,
    pub segment: Option<FullSegment>,
}

/// A lap.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullLap {
    pub id: u64,
    pub resource_state: Option<i64>,
    pub name: Option<String>,
    pub activity: Option<FullMeta>,
    pub athlete: Option<FullMeta>,
    pub elapsed_time: Option<i64>,
    pub moving_time: Option<i64>,
    pub start_date: Option<String>,
    pub start_date_local: Option<String>,
    pub distance: Option<f64>,
    pub start_index: Option<i64>,
    pub end_index: Option<i64>,
    pub total_elevation_gain: Option<f64>,
    pub average_speed: Option<f64>,
    pub max_speed: Option<f64>,
    pub average_cadence: Option<f64>,
    pub device_watts: Option<bool>,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub lap_index: Option<i64>,
    pub split: Option<i64>,
    pub pace_zone: Option<i64>,
}

/// A metric or imperial split.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullSplit {
    pub distance: Option<f64>,
    pub elapsed_time: Option<i64>,
    pub elevation_difference: Option<f64>,
    pub moving_time: Option<i64>,
    pub split: Option<i64>,
    pub average_speed: Option<f64>,
    pub average_grade_adjusted_speed: Option<f64>,
    pub average_heartrate: Option<f64>,
    pub pace_zone: Option<i64>,
}

/// The activity's photos summary.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullPhotos {
    pub primary: Option<serde::de::IgnoredAny>,
    pub count: Option<i64>,
}

/// The activity's gear.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullGear {
    pub id: Option<String>,
    pub primary: Option<bool>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub resource_state: Option<i64>,
    pub retired: Option<bool>,
    pub distance: Option<f64>,
    pub converted_distance: Option<f64>,
}

/// A detailed activity with every field the body carries (the summary's and the
/// detail's own; `similar_activities`, which no model declares, is skipped).
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullDetailedActivity {
    pub id: u64,
    pub resource_state: Option<i64>,
    pub athlete: Option<FullMeta>,
    pub name: Option<String>,
    pub distance: Option<f64>,
    pub moving_time: Option<i64>,
    pub elapsed_time: Option<i64>,
    pub total_elevation_gain: Option<f64>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub sport_type: Option<String>,
    pub workout_type: Option<i64>,
    pub start_date: Option<String>,
    pub start_date_local: Option<String>,
    pub timezone: Option<String>,
    pub utc_offset: Option<f64>,
    pub location_city: Option<String>,
    pub location_state: Option<String>,
    pub location_country: Option<String>,
    pub achievement_count: Option<i64>,
    pub kudos_count: Option<i64>,
    pub comment_count: Option<i64>,
    pub athlete_count: Option<i64>,
    pub photo_count: Option<i64>,
    pub map: Option<FullMap>,
    pub trainer: Option<bool>,
    pub commute: Option<bool>,
    pub manual: Option<bool>,
    pub private: Option<bool>,
    pub visibility: Option<String>,
    pub flagged: Option<bool>,
    pub gear_id: Option<String>,
    pub start_latlng: Option<[f64; 2]>,
    pub end_latlng: Option<[f64; 2]>,
    pub average_speed: Option<f64>,
    pub max_speed: Option<f64>,
    pub average_cadence: Option<f64>,
    pub average_watts: Option<f64>,
    pub max_watts: Option<i64>,
    pub weighted_average_watts: Option<i64>,
    pub kilojoules: Option<f64>,
    pub device_watts: Option<bool>,
    pub has_heartrate: Option<bool>,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub heartrate_opt_out: Option<bool>,
    pub display_hide_heartrate_option: Option<bool>,
    pub elev_high: Option<f64>,
    pub elev_low: Option<f64>,
    pub upload_id: Option<u64>,
    pub upload_id_str: Option<String>,
    pub external_id: Option<String>,
    pub from_accepted_tag: Option<bool>,
    pub pr_count: Option<i64>,
    pub total_photo_count: Option<i64>,
    pub has_kudoed: Option<bool>,
    pub suffer_score: Option<f64>,
    pub device_name: Option<String>,
    pub description: Option<String>,
    pub calories: Option<f64>,
    pub perceived_exertion: Option<f64>,
    pub prefer_perceived_exertion: Option<bool>,
    pub hide_from_home: Option<bool>,
    pub embed_token: Option<String>,
    pub available_zones: Option<Vec<String>>,
    pub photos: Option<FullPhotos>,
    pub gear: Option<FullGear>,
    pub segment_efforts: Option<Vec<FullEffort>>,
    pub laps: Option<Vec<FullLap>>,
    pub splits_metric: Option<Vec<FullSplit>>,
    pub splits_standard: Option<Vec<FullSplit>>,
    pub best_efforts: Option<Vec<FullEffort>>,
}

/// One stream with everything it carries.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullStream<T> {
    pub data: Vec<T>,
    pub series_type: Option<String>,
    pub original_size: Option<i64>,
    pub resolution: Option<String>,
}

/// The 11 streams, keyed by type, each with everything it carries.
#[allow(dead_code)] // declared to be read, as a bare client would; not all are looked at
#[derive(Debug, Deserialize)]
pub struct FullStreams {
    pub time: Option<FullStream<i64>>,
    pub distance: Option<FullStream<f64>>,
    pub latlng: Option<FullStream<[f64; 2]>>,
    pub altitude: Option<FullStream<f64>>,
    pub velocity_smooth: Option<FullStream<f64>>,
    pub heartrate: Option<FullStream<i64>>,
    pub cadence: Option<FullStream<i64>>,
    pub watts: Option<FullStream<i64>>,
    pub temp: Option<FullStream<i64>>,
    pub moving: Option<FullStream<bool>>,
    pub grade_smooth: Option<FullStream<f64>>,
}

// ---------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------

/// The precomputed answers.
pub struct Payloads {
    /// `PAGES` full pages of `PER_PAGE` summary activities.
    pub pages: Vec<Bytes>,
    /// `[]`, the page that ends a list.
    pub empty_page: Bytes,
    /// One detailed activity (~80 KB).
    pub activity: Bytes,
    /// All 11 streams of `STREAM_POINTS` points, keyed by type.
    pub streams: Bytes,
}

impl Payloads {
    /// Only the list pages (what the memory check needs).
    pub fn pages_only() -> Self {
        let mut rng = Rng(0x5eed_2024_0001);
        Self {
            pages: pages(&mut rng),
            empty_page: Bytes::from_static(b"[]"),
            activity: Bytes::new(),
            streams: Bytes::new(),
        }
    }

    /// Every answer.
    pub fn all() -> Self {
        let mut payloads = Self::pages_only();
        let mut rng = Rng(0x5eed_2024_0002);
        payloads.activity = to_bytes(&detailed_activity(&mut rng, 12_345_678_901));
        payloads.streams = to_bytes(&streams(&mut rng, STREAM_POINTS));
        payloads
    }
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("serializable"))
}

fn pages(rng: &mut Rng) -> Vec<Bytes> {
    (0..PAGES)
        .map(|p| {
            let page: Vec<Value> = (0..PER_PAGE)
                .map(|i| {
                    let id = 11_000_000_000 + (p * PER_PAGE + i) as u64 * 7;
                    summary_activity(rng, id)
                })
                .collect();
            to_bytes(&Value::Array(page))
        })
        .collect()
}

/// A small deterministic generator (xorshift64*): no dependency, same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[lo, hi)`.
    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }

    /// Uniform in `[lo, hi]`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.float(0.0, 1.0) < p
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// Strava's date format: `2024-05-02T06:12:33Z`.
fn date(seconds_since_2020: i64) -> String {
    let t =
        chrono::DateTime::from_timestamp(1_577_836_800 + seconds_since_2020, 0).expect("in range");
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A wandering path around Boulder, CO: `n` points about `step` meters apart.
fn path(rng: &mut Rng, n: usize, step: f64) -> Vec<[f64; 2]> {
    let (mut lat, mut lng) = (
        40.0150 + rng.float(-0.05, 0.05),
        -105.2705 + rng.float(-0.05, 0.05),
    );
    let mut heading = rng.float(0.0, std::f64::consts::TAU);
    (0..n)
        .map(|_| {
            heading += rng.float(-0.35, 0.35);
            lat += heading.cos() * step / 111_320.0;
            lng += heading.sin() * step / 85_390.0;
            [round(lat, 6), round(lng, 6)]
        })
        .collect()
}

/// Google's encoded polyline (precision 5), as in `map.polyline`.
fn polyline(points: &[[f64; 2]]) -> String {
    fn push(out: &mut String, value: i64) {
        let mut v = if value < 0 { !(value << 1) } else { value << 1 } as u64;
        while v >= 0x20 {
            out.push(char::from(((0x20 | (v & 0x1f)) + 63) as u8));
            v >>= 5;
        }
        out.push(char::from((v + 63) as u8));
    }
    let mut out = String::new();
    let (mut plat, mut plng) = (0i64, 0i64);
    for [lat, lng] in points {
        let (ilat, ilng) = ((lat * 1e5).round() as i64, (lng * 1e5).round() as i64);
        push(&mut out, ilat - plat);
        push(&mut out, ilng - plng);
        (plat, plng) = (ilat, ilng);
    }
    out
}

const NAMES: &[&str] = &[
    "Morning Run",
    "Lunch Ride",
    "Evening Run",
    "Recovery jog along the creek",
    "Tempo Tuesday 🔥",
    "Long run with the crew",
    "Gravel loop via Lefthand Canyon",
    "Afternoon Walk",
    "Flagstaff hill repeats",
    "Easy spin",
];
const SPORTS: &[&str] = &[
    "Run",
    "Ride",
    "TrailRun",
    "Walk",
    "GravelRide",
    "Run",
    "Ride",
];
const DEVICES: &[&str] = &[
    "Garmin Forerunner 965",
    "Garmin Edge 840",
    "COROS PACE 3",
    "Apple Watch Ultra",
    "Wahoo ELEMNT BOLT",
];

/// The legacy `type` for a `sport_type`.
fn legacy_type(sport: &str) -> &str {
    match sport {
        "TrailRun" => "Run",
        "GravelRide" => "Ride",
        other => other,
    }
}

/// A `SummaryActivity` as `GET /athlete/activities` lists it.
fn summary_activity(rng: &mut Rng, id: u64) -> Value {
    let sport = rng.pick(SPORTS);
    let ride = sport.contains("Ride");
    let moving = rng.int(900, 14_000);
    let speed = if ride {
        rng.float(5.5, 9.5)
    } else {
        rng.float(1.3, 4.2)
    };
    let distance = round(moving as f64 * speed, 1);
    let start = rng.int(0, 150_000_000);
    let route = path(rng, 120, distance / 120.0);
    let mut a = json!({
        "resource_state": 2,
        "athlete": {"id": ATHLETE_ID, "resource_state": 1},
        "name": rng.pick(NAMES),
        "distance": distance,
        "moving_time": moving,
        "elapsed_time": moving + rng.int(0, 900),
        "total_elevation_gain": round(rng.float(0.0, 1400.0), 1),
        "type": legacy_type(sport),
        "sport_type": sport,
        "workout_type": if ride { Value::Null } else { json!(rng.int(0, 3)) },
        "id": id,
        "start_date": date(start),
        "start_date_local": date(start - 6 * 3600),
        "timezone": "(GMT-07:00) America/Denver",
        "utc_offset": -21600.0,
        "location_city": Value::Null,
        "location_state": Value::Null,
        "location_country": "United States",
        "achievement_count": rng.int(0, 12),
        "kudos_count": rng.int(0, 40),
        "comment_count": rng.int(0, 5),
        "athlete_count": rng.int(1, 6),
        "photo_count": 0,
        "map": {
            "id": format!("a{id}"),
            "summary_polyline": polyline(&route),
            "resource_state": 2,
        },
        "trainer": false,
        "commute": rng.chance(0.1),
        "manual": false,
        "private": false,
        "visibility": "everyone",
        "flagged": false,
        "gear_id": if ride { "b12659861" } else { "g10043849" },
        "start_latlng": route[0],
        "end_latlng": route[route.len() - 1],
        "average_speed": round(speed, 3),
        "max_speed": round(speed * rng.float(1.3, 2.2), 1),
        "average_cadence": round(rng.float(75.0, 92.0), 1),
        "has_heartrate": true,
        "average_heartrate": round(rng.float(120.0, 165.0), 1),
        "max_heartrate": rng.int(160, 195) as f64,
        "heartrate_opt_out": false,
        "display_hide_heartrate_option": true,
        "elev_high": round(rng.float(1600.0, 2400.0), 1),
        "elev_low": round(rng.float(1550.0, 1650.0), 1),
        "upload_id": id + 1_100_000_000,
        "upload_id_str": (id + 1_100_000_000).to_string(),
        "external_id": format!("garmin_ping_{}", id * 3),
        "from_accepted_tag": false,
        "pr_count": rng.int(0, 4),
        "total_photo_count": rng.int(0, 3),
        "has_kudoed": false,
        "suffer_score": rng.int(5, 250) as f64,
        "device_name": rng.pick(DEVICES),
    });
    if ride {
        let watts = round(rng.float(140.0, 260.0), 1);
        let obj = a.as_object_mut().expect("object");
        obj.insert("average_watts".into(), json!(watts));
        obj.insert("max_watts".into(), json!(rng.int(600, 1100)));
        obj.insert("weighted_average_watts".into(), json!(watts as i64 + 12));
        obj.insert(
            "kilojoules".into(),
            json!(round(watts * moving as f64 / 1000.0, 1)),
        );
        obj.insert("device_watts".into(), json!(true));
    }
    a
}

fn meta(id: u64) -> Value {
    json!({"id": id, "resource_state": 1})
}

/// A segment effort (or, without `segment`, a best effort) within an activity.
fn effort(rng: &mut Rng, activity_id: u64, name: &str, segment: Option<Value>, at: i64) -> Value {
    let elapsed = rng.int(60, 1800);
    let start_index = rng.int(0, 15_000);
    let mut e = json!({
        "id": 3_200_000_000_000_000_000u64 + rng.int(0, 1 << 40) as u64,
        "resource_state": 2,
        "name": name,
        "activity": meta(activity_id),
        "athlete": meta(ATHLETE_ID),
        "elapsed_time": elapsed,
        "moving_time": elapsed - rng.int(0, 20).min(elapsed - 1),
        "start_date": date(at),
        "start_date_local": date(at - 6 * 3600),
        "distance": round(rng.float(400.0, 8000.0), 1),
        "start_index": start_index,
        "end_index": start_index + elapsed,
        "average_cadence": round(rng.float(80.0, 92.0), 1),
        "device_watts": false,
        "average_heartrate": round(rng.float(130.0, 175.0), 1),
        "max_heartrate": rng.int(150, 195) as f64,
        "pr_rank": if rng.chance(0.2) { json!(rng.int(1, 3)) } else { Value::Null },
        "achievements": [],
        "visibility": "everyone",
        "hidden": false,
    });
    if let Some(segment) = segment {
        let obj = e.as_object_mut().expect("object");
        obj.insert("segment".into(), segment);
        obj.insert("kom_rank".into(), Value::Null);
    }
    e
}

const SEGMENTS: &[&str] = &[
    "Boulder Creek Path - Eben G. Fine to 28th",
    "Flagstaff Road climb",
    "NCAR Mesa Trail sprint",
    "Wonderland Lake loop",
    "Skunk Canyon descent",
    "Chautauqua to Royal Arch",
    "Foothills Parkway bridge",
    "Marshall Mesa switchbacks",
];

fn summary_segment(rng: &mut Rng) -> Value {
    let route = path(rng, 2, 900.0);
    let low = round(rng.float(1600.0, 1900.0), 1);
    json!({
        "id": rng.int(600_000, 39_000_000),
        "resource_state": 2,
        "name": rng.pick(SEGMENTS),
        "activity_type": "Run",
        "distance": round(rng.float(400.0, 8000.0), 1),
        "average_grade": round(rng.float(-4.0, 9.0), 1),
        "maximum_grade": round(rng.float(5.0, 25.0), 1),
        "elevation_high": round(low + rng.float(5.0, 300.0), 1),
        "elevation_low": low,
        "start_latlng": route[0],
        "end_latlng": route[1],
        "elevation_profile": Value::Null,
        "elevation_profiles": Value::Null,
        "climb_category": rng.int(0, 3),
        "city": "Boulder",
        "state": "CO",
        "country": "United States",
        "private": false,
        "hazardous": false,
        "starred": rng.chance(0.1),
    })
}

fn split(rng: &mut Rng, n: i64, distance: f64) -> Value {
    let elapsed = rng.int(280, 330) as f64 * distance / 1000.0;
    json!({
        "distance": round(distance + rng.float(-2.0, 2.0), 1),
        "elapsed_time": elapsed as i64,
        "elevation_difference": round(rng.float(-12.0, 12.0), 1),
        "moving_time": elapsed as i64 - rng.int(0, 4),
        "split": n,
        "average_speed": round(distance / elapsed, 2),
        "average_grade_adjusted_speed": round(distance / elapsed * rng.float(0.97, 1.04), 2),
        "average_heartrate": round(rng.float(135.0, 170.0), 1),
        "pace_zone": rng.int(1, 4),
    })
}

/// A `DetailedActivity` as `GET /activities/{id}` returns it: a 42 km run with its
/// segment efforts, laps, splits, best efforts and the full polyline (~80 KB of JSON).
fn detailed_activity(rng: &mut Rng, id: u64) -> Value {
    let mut a = summary_activity(rng, id);
    let start = rng.int(0, 150_000_000);
    let route = path(rng, 2_600, 16.0);
    let obj = a.as_object_mut().expect("object");
    for (key, value) in [
        ("resource_state", json!(3)),
        (
            "name",
            json!("Marathon long run: Boulder Creek, Mesa Trail and back"),
        ),
        ("type", json!("Run")),
        ("sport_type", json!("Run")),
        ("distance", json!(42_310.4)),
        ("moving_time", json!(12_873)),
        ("elapsed_time", json!(13_410)),
        ("start_date", json!(date(start))),
        ("start_date_local", json!(date(start - 6 * 3600))),
        ("start_latlng", json!(route[0])),
        ("end_latlng", json!(route[route.len() - 1])),
        (
            "description",
            json!(
                "Easy first half, then marathon pace from the reservoir. Legs felt great; windy on the way back. Fueled every 40 min."
            ),
        ),
        ("calories", json!(2_874.0)),
        ("perceived_exertion", json!(7.0)),
        ("prefer_perceived_exertion", json!(false)),
        ("hide_from_home", json!(false)),
        ("device_name", json!("Garmin Forerunner 965")),
        (
            "embed_token",
            json!("d5f0a1b2c3e4f56789abcdef0123456789abcdef"),
        ),
        ("available_zones", json!(["heartrate", "pace"])),
        ("photos", json!({"primary": null, "count": 0})),
        (
            "gear",
            json!({"id": "g10043849", "primary": true, "name": "Saucony Endorphin Speed 4",
                   "nickname": "Speedy", "resource_state": 2, "retired": false,
                   "distance": 412_392.0, "converted_distance": 412.4}),
        ),
        (
            "map",
            json!({"id": format!("a{id}"), "polyline": polyline(&route),
                   "summary_polyline": polyline(&route.iter().step_by(20).copied().collect::<Vec<_>>()),
                   "resource_state": 3}),
        ),
    ] {
        obj.insert(key.into(), value);
    }
    let segment_efforts: Vec<Value> = (0..29)
        .map(|i| {
            let segment = summary_segment(rng);
            let name = segment["name"].as_str().unwrap_or_default().to_owned();
            effort(rng, id, &name, Some(segment), start + i * 500)
        })
        .collect();
    let laps: Vec<Value> = (1..=43)
        .map(|n| {
            let elapsed = rng.int(285, 330);
            json!({
                "id": 45_000_000_000u64 + n as u64,
                "resource_state": 2,
                "name": format!("Lap {n}"),
                "activity": meta(id),
                "athlete": meta(ATHLETE_ID),
                "elapsed_time": elapsed,
                "moving_time": elapsed - rng.int(0, 5),
                "start_date": date(start + n * 300),
                "start_date_local": date(start + n * 300 - 6 * 3600),
                "distance": if n == 43 { 310.4 } else { 1000.0 },
                "start_index": n * 300,
                "end_index": n * 300 + elapsed,
                "total_elevation_gain": round(rng.float(0.0, 25.0), 1),
                "average_speed": round(1000.0 / elapsed as f64, 2),
                "max_speed": round(rng.float(3.5, 4.8), 1),
                "average_cadence": round(rng.float(84.0, 90.0), 1),
                "device_watts": false,
                "average_heartrate": round(rng.float(135.0, 170.0), 1),
                "max_heartrate": rng.int(150, 185) as f64,
                "lap_index": n,
                "split": n,
                "pace_zone": rng.int(1, 4),
            })
        })
        .collect();
    let splits_metric: Vec<Value> = (1..=43)
        .map(|n| split(rng, n, if n == 43 { 310.4 } else { 1000.0 }))
        .collect();
    let splits_standard: Vec<Value> = (1..=27)
        .map(|n| split(rng, n, if n == 27 { 470.1 } else { 1609.3 }))
        .collect();
    let best_efforts: Vec<Value> = [
        "400m",
        "1/2 mile",
        "1K",
        "1 mile",
        "2 mile",
        "5K",
        "10K",
        "15K",
        "10 mile",
        "20K",
        "Half-Marathon",
        "30K",
        "Marathon",
    ]
    .iter()
    .enumerate()
    .map(|(i, name)| effort(rng, id, name, None, start + i as i64 * 60))
    .collect();
    for (key, list) in [
        ("segment_efforts", segment_efforts),
        ("laps", laps),
        ("splits_metric", splits_metric),
        ("splits_standard", splits_standard),
        ("best_efforts", best_efforts),
    ] {
        obj.insert(key.into(), Value::Array(list));
    }
    obj.insert("similar_activities".into(), json!({"effort_count": 12, "average_speed": 3.21, "min_average_speed": 2.9, "mid_average_speed": 3.2, "max_average_speed": 3.4, "pr_rank": null, "frequency_milestone": null, "trend": {"speeds": [3.1, 3.2, 3.25], "current_activity_index": 2, "min_speed": 2.9, "mid_speed": 3.2, "max_speed": 3.4, "direction": 1}, "resource_state": 2}));
    a
}

/// `GET /activities/{id}/streams?keys=...&key_by_type=true`: all 11 streams, `n` points.
fn streams(rng: &mut Rng, n: usize) -> Value {
    let route = path(rng, n, 3.2);
    let mut time = Vec::with_capacity(n);
    let mut distance = Vec::with_capacity(n);
    let mut altitude = Vec::with_capacity(n);
    let mut velocity = Vec::with_capacity(n);
    let mut heartrate = Vec::with_capacity(n);
    let mut cadence = Vec::with_capacity(n);
    let mut watts = Vec::with_capacity(n);
    let mut temp = Vec::with_capacity(n);
    let mut moving = Vec::with_capacity(n);
    let mut grade = Vec::with_capacity(n);
    let (mut t, mut d, mut alt, mut hr) = (0i64, 0.0f64, 1_650.0f64, 120i64);
    for _ in 0..n {
        let v = rng.float(2.4, 4.1);
        let g = rng.float(-6.0, 6.0);
        t += 1;
        d += v;
        alt += v * g / 100.0;
        hr = (hr + rng.int(-2, 2)).clamp(95, 190);
        time.push(t);
        distance.push(round(d, 1));
        altitude.push(round(alt, 1));
        velocity.push(round(v, 3));
        heartrate.push(hr);
        cadence.push(rng.int(82, 92));
        watts.push(rng.int(180, 320));
        temp.push(rng.int(14, 22));
        moving.push(!rng.chance(0.01));
        grade.push(round(g, 1));
    }
    let stream = |data: Value| json!({"data": data, "series_type": "distance", "original_size": n, "resolution": "high"});
    json!({
        "time": stream(json!(time)),
        "distance": stream(json!(distance)),
        "latlng": stream(json!(route)),
        "altitude": stream(json!(altitude)),
        "velocity_smooth": stream(json!(velocity)),
        "heartrate": stream(json!(heartrate)),
        "cadence": stream(json!(cadence)),
        "watts": stream(json!(watts)),
        "temp": stream(json!(temp)),
        "moving": stream(json!(moving)),
        "grade_smooth": stream(json!(grade)),
    })
}
