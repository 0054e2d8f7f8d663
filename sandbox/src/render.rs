//! Strava-shaped JSON (and GPX/TCX) for everything the sandbox serves.

use chrono::DateTime;
use rand::Rng;
use serde_json::{Map, Value, json};

use std::sync::Arc;

use super::cache::Detailed;
use super::geo::{self, Track};
use super::json;
use super::state::{ActivityFields, Source, State, Upload, UploadState, View};
use super::streams::{self, Streams};
use super::world::{
    self, ACTIVITY_BASE, Athlete, BEST_EFFORT_BASE, CLUB_BASE, COMMENT_BASE, Club, Core,
    EFFORT_BASE, Family, Gear, LAP_BASE, ROUTE_BASE, SEGMENTS_PER_CITY, Segment, World,
};

/// `2026-03-10T12:00:00Z`.
///
/// The civil date by Howard Hinnant's `civil_from_days`, written with the standard
/// library's formatting: chrono's formatter parses its pattern every time, unoptimized in
/// the debug builds users' test suites run in. Years outside 1-9999 go through chrono.
pub(crate) fn iso(ts: i64) -> String {
    let (days, secs) = (ts.div_euclid(86_400), ts.rem_euclid(86_400));
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if (1..=9999).contains(&year) {
        return format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3_600,
            secs % 3_600 / 60,
            secs % 60
        );
    }
    DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Local wall-clock time with a `Z`, as Strava writes `start_date_local`.
pub(crate) fn local_iso(ts: i64, utc_offset: i32) -> String {
    iso(ts + i64::from(utc_offset))
}

fn picture(id: u64, size: &str) -> String {
    format!("https://sandbox.invalid/pictures/athletes/{id}/{size}.jpg")
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

// ---------------------------------------------------------------------------------------
// Athletes
// ---------------------------------------------------------------------------------------

/// `{"id": .., "resource_state": 1}`.
pub(crate) fn meta_athlete(id: u64) -> Value {
    json!({"id": id, "resource_state": 1})
}

/// How other athletes appear in kudos, comments and club lists.
pub(crate) fn public_athlete(a: &Athlete) -> Value {
    json!({"resource_state": 2, "firstname": a.firstname, "lastname": a.initial()})
}

/// The athlete summary of a token exchange.
pub(crate) fn summary_athlete(a: &Athlete) -> Value {
    let city = a.city();
    json!({
        "id": a.id,
        "username": a.username,
        "resource_state": 2,
        "firstname": a.firstname,
        "lastname": a.lastname,
        "bio": a.bio,
        "city": city.name,
        "state": city.state,
        "country": city.country,
        "sex": a.sex,
        "premium": a.premium,
        "summit": a.premium,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
        "badge_type_id": if a.premium { 1 } else { 0 },
        "profile_medium": picture(a.id, "medium"),
        "profile": picture(a.id, "large"),
        "friend": null,
        "follower": null
    })
}

/// `GET /athlete`.
pub(crate) fn detailed_athlete(world: &World, state: &State, a: &Athlete) -> Value {
    let mut v = summary_athlete(a);
    let o = v.as_object_mut().expect("an object");
    o.insert("resource_state".into(), json!(3));
    let weight = state.weights.get(&a.index).copied().unwrap_or(a.weight);
    o.insert("weight".into(), json!(weight));
    o.insert("blocked".into(), json!(false));
    o.insert("can_follow".into(), json!(true));
    o.insert("follower_count".into(), json!(a.follower_count));
    o.insert("friend_count".into(), json!(a.friend_count));
    o.insert("mutual_friend_count".into(), json!(0));
    o.insert(
        "athlete_type".into(),
        json!(if a.sports[2] > a.sports[0] { 0 } else { 1 }),
    );
    o.insert("date_preference".into(), json!("%m/%d/%Y"));
    o.insert(
        "measurement_preference".into(),
        json!(if a.imperial { "feet" } else { "meters" }),
    );
    o.insert(
        "clubs".into(),
        Value::Array(
            a.clubs
                .iter()
                .map(|&c| summary_club(&world.clubs[c], Some(a.index)))
                .collect(),
        ),
    );
    o.insert("postable_clubs_count".into(), json!(a.clubs.len()));
    o.insert("ftp".into(), opt(a.ftp));
    o.insert(
        "bikes".into(),
        Value::Array(a.bikes.iter().map(summary_gear).collect()),
    );
    o.insert(
        "shoes".into(),
        Value::Array(a.shoes.iter().map(summary_gear).collect()),
    );
    v
}

/// `GET /athlete/zones`.
pub(crate) fn athlete_zones(a: &Athlete) -> Value {
    let mut zones = json!({
        "heart_rate": {"custom_zones": false, "zones": hr_zones(a)},
    });
    if let Some(ftp) = a.ftp {
        zones["power"] = json!({"zones": power_zones(ftp)});
    }
    zones
}

fn hr_bounds(a: &Athlete) -> Vec<(i64, i64)> {
    let m = a.max_hr;
    let cut = |f: f64| (m * f).round() as i64;
    vec![
        (0, cut(0.6)),
        (cut(0.6), cut(0.7)),
        (cut(0.7), cut(0.8)),
        (cut(0.8), cut(0.9)),
        (cut(0.9), -1),
    ]
}

fn hr_zones(a: &Athlete) -> Value {
    Value::Array(
        hr_bounds(a)
            .into_iter()
            .map(|(min, max)| json!({"min": min, "max": max}))
            .collect(),
    )
}

fn power_bounds(ftp: i64) -> Vec<(i64, i64)> {
    let f = ftp as f64;
    let cut = |x: f64| (f * x).round() as i64;
    vec![
        (0, cut(0.55)),
        (cut(0.55), cut(0.75)),
        (cut(0.75), cut(0.9)),
        (cut(0.9), cut(1.05)),
        (cut(1.05), cut(1.2)),
        (cut(1.2), cut(1.5)),
        (cut(1.5), -1),
    ]
}

fn power_zones(ftp: i64) -> Value {
    Value::Array(
        power_bounds(ftp)
            .into_iter()
            .map(|(min, max)| json!({"min": min, "max": max}))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// Gear and clubs
// ---------------------------------------------------------------------------------------

pub(crate) fn summary_gear(g: &Gear) -> Value {
    json!({
        "id": g.id,
        "primary": g.primary,
        "name": g.name(),
        "nickname": if g.nickname.is_empty() { Value::Null } else { json!(g.nickname) },
        "resource_state": 2,
        "retired": g.retired,
        "distance": g.distance,
        "converted_distance": geo::round(g.distance / 1000.0, 1),
    })
}

pub(crate) fn detailed_gear(g: &Gear) -> Value {
    let mut v = summary_gear(g);
    let o = v.as_object_mut().expect("an object");
    o.insert("resource_state".into(), json!(3));
    o.insert("brand_name".into(), json!(g.brand));
    o.insert("model_name".into(), json!(g.model));
    if let Some(frame) = g.frame_type {
        o.insert("frame_type".into(), json!(frame));
    }
    o.insert(
        "description".into(),
        json!(if g.is_bike {
            "Serviced every spring."
        } else {
            ""
        }),
    );
    if let Some(w) = g.weight {
        o.insert("weight".into(), json!(w));
    }
    o.insert(
        "notification_distance".into(),
        json!(if g.is_bike { 0 } else { 800 }),
    );
    v
}

pub(crate) fn summary_club(c: &Club, viewer: Option<usize>) -> Value {
    let city = &world::CITIES[c.city];
    let member = viewer.is_some_and(|a| c.members.contains(&a));
    json!({
        "id": c.id,
        "resource_state": 2,
        "name": c.name,
        "profile_medium": format!("https://sandbox.invalid/pictures/clubs/{}/medium.jpg", c.id),
        "profile": format!("https://sandbox.invalid/pictures/clubs/{}/large.jpg", c.id),
        "cover_photo": format!("https://sandbox.invalid/pictures/clubs/{}/cover.jpg", c.id),
        "cover_photo_small": format!("https://sandbox.invalid/pictures/clubs/{}/cover_small.jpg", c.id),
        "activity_types": c.activity_types,
        "sport_type": c.sport_type,
        "localized_sport_type": match c.sport_type {
            "cycling" => "Cycling",
            "running" => "Running",
            "triathlon" => "Triathlon",
            _ => "Other",
        },
        "city": city.name,
        "state": city.state,
        "country": city.country,
        "private": c.private,
        "member_count": c.members.len(),
        "featured": c.featured,
        "verified": c.verified,
        "url": c.vanity,
        "membership": if member { json!("member") } else { Value::Null },
    })
}

pub(crate) fn detailed_club(c: &Club, viewer: usize) -> Value {
    let mut v = summary_club(c, Some(viewer));
    let o = v.as_object_mut().expect("an object");
    o.insert("resource_state".into(), json!(3));
    let member = c.members.contains(&viewer);
    o.insert("admin".into(), json!(c.owner == Some(viewer)));
    o.insert("owner".into(), json!(c.owner == Some(viewer)));
    o.insert("description".into(), json!(c.description));
    o.insert("club_type".into(), json!("casual_club"));
    o.insert(
        "following_count".into(),
        json!(if member { c.members.len() - 1 } else { 0 }),
    );
    o.insert("website".into(), json!(""));
    v
}

/// `ClubAthlete` for the (retired) members list.
pub(crate) fn club_athlete(world: &World, c: &Club, a: usize) -> Value {
    let athlete = &world.athletes[a];
    json!({
        "resource_state": 2,
        "firstname": athlete.firstname,
        "lastname": athlete.initial(),
        "membership": "member",
        "admin": c.owner == Some(a),
        "owner": c.owner == Some(a),
    })
}

/// `ClubActivity` for the (retired) club activities list.
pub(crate) fn club_activity(world: &World, v: &View) -> Value {
    json!({
        "resource_state": 2,
        "athlete": public_athlete(&world.athletes[v.athlete]),
        "name": v.name,
        "distance": v.distance,
        "moving_time": v.moving_time,
        "elapsed_time": v.elapsed_time,
        "total_elevation_gain": v.elevation_gain,
        "type": v.activity_type(),
        "sport_type": v.sport_type,
        "workout_type": opt(v.core().and_then(|c| c.workout_type)),
    })
}

pub(crate) fn club_id_ok(id: u64) -> bool {
    id >= CLUB_BASE
}

// ---------------------------------------------------------------------------------------
// Activities
// ---------------------------------------------------------------------------------------

/// Start and end of an activity's track, and its summary polyline.
struct Shape {
    start: Option<(f64, f64)>,
    end: Option<(f64, f64)>,
    summary: String,
    elev: Option<(f64, f64)>,
}

fn shape(v: &View) -> Shape {
    match &v.source {
        Source::Generated(core) => match &core.track {
            Some(track) => {
                let n = ((v.distance / 250.0) as usize).clamp(20, 160);
                Shape {
                    start: Some(track.point(0.0)),
                    end: Some(track.point(1.0)),
                    summary: geo::encode_polyline(&track.sample(n)),
                    elev: Some(track.altitude_range(200)),
                }
            }
            None => Shape {
                start: None,
                end: None,
                summary: String::new(),
                elev: None,
            },
        },
        Source::Created { points: recorded } => {
            let points: Vec<(f64, f64)> = recorded
                .as_ref()
                .map(|p| p.iter().filter_map(|x| x.latlng).collect())
                .unwrap_or_default();
            let alts: Vec<f64> = recorded
                .as_ref()
                .map(|p| p.iter().filter_map(|x| x.altitude).collect())
                .unwrap_or_default();
            let step = (points.len() / 150).max(1);
            let mut sampled: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
            if let (Some(last), Some(s)) = (points.last(), sampled.last())
                && last != s
            {
                sampled.push(*last);
            }
            Shape {
                start: points.first().copied(),
                end: points.last().copied(),
                summary: geo::encode_polyline(&sampled),
                elev: (!alts.is_empty()).then(|| {
                    alts.iter()
                        .fold((f64::MIN, f64::MAX), |(h, l), a| (h.max(*a), l.min(*a)))
                }),
            }
        }
    }
}

fn latlng(p: Option<(f64, f64)>) -> Value {
    match p {
        Some((a, b)) => json!([geo::round(a, 6), geo::round(b, 6)]),
        None => json!([]),
    }
}

/// `SummaryActivity` (resource_state 2).
pub(crate) fn summary_activity(world: &World, v: &View) -> Value {
    let athlete = &world.athletes[v.athlete];
    let city = athlete.city();
    let s = shape(v);
    let core = v.core();
    let average_speed = if v.moving_time > 0 {
        geo::round(v.distance / v.moving_time as f64, 3)
    } else {
        0.0
    };
    let max_speed = geo::round(average_speed * core.map_or(1.4, |c| c.max_speed_factor), 3);
    let mut o = Map::new();
    let mut put = |k: &str, val: Value| {
        o.insert(k.to_owned(), val);
    };
    put("resource_state", json!(2));
    put("athlete", meta_athlete(athlete.id));
    put("name", json!(v.name));
    put("distance", json!(geo::round(v.distance, 1)));
    put("moving_time", json!(v.moving_time));
    put("elapsed_time", json!(v.elapsed_time));
    put(
        "total_elevation_gain",
        json!(geo::round(v.elevation_gain, 1)),
    );
    put("type", json!(v.activity_type()));
    put("sport_type", json!(v.sport_type));
    put("workout_type", opt(core.and_then(|c| c.workout_type)));
    put("id", json!(v.id));
    put("start_date", json!(iso(v.start)));
    put("start_date_local", json!(local_iso(v.start, v.utc_offset)));
    put("timezone", json!(city.tz_label));
    put("utc_offset", json!(f64::from(v.utc_offset)));
    put("location_city", Value::Null);
    put("location_state", Value::Null);
    put("location_country", json!(city.country));
    put(
        "achievement_count",
        json!(core.map_or(0, |c| c.achievements)),
    );
    put("kudos_count", json!(core.map_or(0, |c| c.kudos)));
    put("comment_count", json!(core.map_or(0, |c| c.comments)));
    put("athlete_count", json!(core.map_or(1, |c| c.athlete_count)));
    put("photo_count", json!(0));
    put(
        "map",
        json!({"id": format!("a{}", v.id), "summary_polyline": s.summary, "resource_state": 2}),
    );
    put("trainer", json!(v.trainer));
    put("commute", json!(v.commute));
    put("manual", json!(v.manual));
    put("private", json!(v.private));
    put(
        "visibility",
        json!(if v.private { "only_me" } else { "everyone" }),
    );
    put("flagged", json!(false));
    put("gear_id", opt(v.gear_id.clone()));
    put("start_latlng", latlng(s.start));
    put("end_latlng", latlng(s.end));
    put("average_speed", json!(average_speed));
    put("max_speed", json!(max_speed));
    if let Some(c) = core {
        if let Some(cad) = c.average_cadence {
            put("average_cadence", json!(cad));
        }
        if let Some(w) = c.average_watts {
            put("average_watts", json!(w));
            put(
                "kilojoules",
                json!(geo::round(w * v.moving_time as f64 / 1000.0, 1)),
            );
            put("device_watts", json!(c.device_watts));
            if c.device_watts {
                put("max_watts", json!((w * 2.6).round() as i64));
                put("weighted_average_watts", json!((w * 1.07).round() as i64));
            }
        }
        put("has_heartrate", json!(c.average_heartrate.is_some()));
        if let (Some(avg), Some(max)) = (c.average_heartrate, c.max_heartrate) {
            put("average_heartrate", json!(avg));
            put("max_heartrate", json!(max));
        }
    } else {
        put("has_heartrate", json!(false));
    }
    put("heartrate_opt_out", json!(false));
    put("display_hide_heartrate_option", json!(core.is_some()));
    if let Some((high, low)) = s.elev {
        put("elev_high", json!(geo::round(high, 1)));
        put("elev_low", json!(geo::round(low, 1)));
    }
    put("upload_id", opt(v.upload_id));
    // Strava omits `upload_id_str` (and `device_name`) of activities without an upload.
    if let Some(u) = v.upload_id {
        put("upload_id_str", json!(u.to_string()));
    }
    put("external_id", opt(v.external_id.clone()));
    put("from_accepted_tag", json!(false));
    put("pr_count", json!(core.map_or(0, |c| c.pr_count)));
    put("total_photo_count", json!(photo_count(world, v)));
    put("has_kudoed", json!(false));
    put("hide_from_home", json!(v.hide_from_home));
    Value::Object(o)
}

/// `DetailedActivity` and its laps, serialized: rendered once per activity and kept
/// while its fields stay the same (see [`crate::cache`]). The rendering depends on the
/// world and the activity's fields only (segments appear without the viewer's stars and
/// PRs), which is what makes the kept bytes the answer.
pub(crate) fn detailed(world: &World, state: &State, v: &View) -> Arc<(ActivityFields, Detailed)> {
    world.cache.detailed(v.fields.id, &v.fields, || {
        let value = detailed_activity(world, state, v);
        Detailed {
            activity: json::to_vec(&value).into(),
            laps: json::to_vec(&value["laps"]).into(),
        }
    })
}

/// `DetailedActivity` (resource_state 3).
fn detailed_activity(world: &World, state: &State, v: &View) -> Value {
    let mut value = summary_activity(world, v);
    let athlete = &world.athletes[v.athlete];
    let streams = activity_streams(world, v);
    let totals = streams.as_deref().map(Totals::new);
    let o = value.as_object_mut().expect("an object");
    o.insert("resource_state".into(), json!(3));
    let detail_rng = |salt: u64| world::rng(&[v.core().map_or(v.id, |c| c.detail_seed), salt]);
    let description = v.description.clone().or_else(|| {
        let mut r = detail_rng(0xDE5);
        r.random_bool(0.5).then(|| {
            world::pick(
                &mut r,
                &[
                    "Easy spin with friends.",
                    "Felt strong today.",
                    "Intervals: 5x4min at threshold.",
                    "Windy along the coast.",
                    "Testing new shoes.",
                    "Recovery day, nothing more.",
                    "Rain most of the way.",
                ],
            )
            .to_string()
        })
    });
    o.insert("description".into(), opt(description));
    o.insert("photos".into(), photos_summary(world, v));
    // Strava omits `gear` of an activity without gear (`gear_id` is null).
    if let Some(gear) = v
        .gear_id
        .as_deref()
        .and_then(|g| world.gear_by_id(g))
        .map(summary_gear)
    {
        o.insert("gear".into(), gear);
    }
    let calories = match world::family_of(&v.sport_type) {
        Family::Ride => v
            .core()
            .and_then(|c| c.average_watts)
            .map_or(v.moving_time as f64 * 0.15, |w| {
                w * v.moving_time as f64 / 1000.0 * 1.05
            }),
        _ => athlete.weight * v.distance / 1000.0 + v.moving_time as f64 * 0.02,
    };
    o.insert("calories".into(), json!(geo::round(calories, 1)));
    if let Some(device) = &v.device_name {
        o.insert("device_name".into(), json!(device));
    }
    let mut r = detail_rng(0xE3B);
    let token: String = (0..20)
        .map(|_| format!("{:02x}", r.random::<u8>()))
        .collect();
    o.insert("embed_token".into(), json!(token));
    o.insert("perceived_exertion".into(), Value::Null);
    o.insert("prefer_perceived_exertion".into(), json!(false));
    o.insert("highlighted_kudosers".into(), json!([]));

    let mut polyline = String::new();
    if let Some(s) = &streams
        && s.has_latlng()
    {
        // Every `step`-th position and the last (without deriving the others).
        // A `while` loop: no iterator calls per point in a debug build.
        let n = s.len();
        let step = (n / 1_500).max(1);
        let mut pts = Vec::with_capacity(n / step + 2);
        let mut i = 0;
        while i < n {
            pts.extend(s.latlng_at(i));
            i += step;
        }
        if (n - 1) % step != 0 {
            pts.extend(s.latlng_at(n - 1));
        }
        polyline = geo::encode_polyline(&pts);
    }
    if let Some(map) = o.get_mut("map").and_then(Value::as_object_mut) {
        map.insert("polyline".into(), json!(polyline));
        map.insert("resource_state".into(), json!(3));
    }
    let efforts = match v.core() {
        Some(core) => (0..core.efforts.len())
            .map(|j| segment_effort(world, state, core, j, v))
            .collect(),
        None => Vec::new(),
    };
    o.insert("segment_efforts".into(), Value::Array(efforts));
    match (&streams, &totals) {
        (Some(s), Some(totals)) if s.distance.is_some() && s.has_latlng() => {
            o.insert("splits_metric".into(), splits(s, totals, 1000.0, v));
            o.insert("splits_standard".into(), splits(s, totals, 1609.344, v));
        }
        _ => {}
    }
    o.insert(
        "laps".into(),
        Value::Array(laps(world, v, streams.as_deref(), totals.as_ref())),
    );
    if world::family_of(&v.sport_type) == Family::Run
        && let Some(s) = &streams
    {
        o.insert("best_efforts".into(), best_efforts(world, v, s));
    }
    value
}

/// The streams of any activity, when it has samples (derived once, see
/// [`crate::cache`]).
pub(crate) fn activity_streams(world: &World, v: &View) -> Option<Arc<Streams>> {
    match &v.source {
        Source::Generated(core) => Some(generated_streams(world, core)),
        Source::Created { points } => points
            .as_ref()
            .filter(|p| p.len() >= 2)
            .map(|p| world.cache.streams(v.id, || streams::recorded(p))),
    }
}

/// The streams of a generated activity (derived once).
pub(crate) fn generated_streams(world: &World, core: &Core) -> Arc<Streams> {
    world
        .cache
        .streams(core.id, || streams::generate(world, core))
}

/// Running totals of an activity's samples, so a split or a lap sums its range in one
/// step: moving seconds up to each sample, and heart beats before each sample.
struct Totals {
    /// `moving[j]`: seconds spent moving from sample 0 to sample `j`.
    moving: Vec<i64>,
    /// `heartrate[j]`: the sum of the heart rate samples before sample `j` (n + 1 sums).
    heartrate: Option<Vec<i64>>,
}

impl Totals {
    fn new(s: &Streams) -> Self {
        let (time, moving) = (&s.time[..], &s.moving[..]);
        let n = time.len();
        let mut sums = vec![0i64; n];
        let out = &mut sums[..];
        // `while` loops: no iterator calls per sample in a debug build.
        let mut i = 1;
        while i < n {
            out[i] = out[i - 1] + if moving[i] { time[i] - time[i - 1] } else { 0 };
            i += 1;
        }
        let heartrate = s.heartrate.as_deref().map(|hr| {
            let mut sums = vec![0i64; hr.len() + 1];
            let out = &mut sums[..];
            let mut i = 0;
            while i < hr.len() {
                out[i + 1] = out[i] + hr[i];
                i += 1;
            }
            sums
        });
        Self {
            moving: sums,
            heartrate,
        }
    }

    /// Seconds moving from sample `from` to sample `to`.
    fn moving(&self, from: usize, to: usize) -> i64 {
        self.moving[to] - self.moving[from]
    }

    /// The average heart rate of samples `from..=to`.
    fn heartrate(&self, from: usize, to: usize) -> Option<f64> {
        self.heartrate
            .as_ref()
            .map(|h| (h[to + 1] - h[from]) as f64 / (to + 1 - from) as f64)
    }
}

fn splits(s: &Streams, totals: &Totals, unit: f64, v: &View) -> Value {
    let Some(distance) = &s.distance else {
        return json!([]);
    };
    let total = distance.last().copied().unwrap_or(0.0);
    let pace_zone = if world::family_of(&v.sport_type) == Family::Run {
        2
    } else {
        0
    };
    let mut out = Vec::new();
    let mut from = 0usize;
    let mut k = 1;
    while from + 1 < s.len() && out.len() < 400 {
        let target = unit * k as f64;
        let to = if target >= total {
            s.len() - 1
        } else {
            s.index_at_distance(target)
        };
        let d = distance[to] - distance[from];
        if d < 1.0 {
            break;
        }
        let elapsed = s.time[to] - s.time[from];
        let moving = totals.moving(from, to).min(elapsed);
        let elev = s.altitude.as_ref().map_or(0.0, |a| a[to] - a[from]);
        let mut split = json!({
            "distance": geo::round(d, 1),
            "elapsed_time": elapsed,
            "elevation_difference": geo::round(elev, 1),
            "moving_time": moving,
            "split": k,
            "average_speed": geo::round(d / moving.max(1) as f64, 2),
            "average_grade_adjusted_speed": Value::Null,
            "pace_zone": pace_zone,
        });
        if let Some(hr) = totals.heartrate(from, to) {
            split["average_heartrate"] = json!(geo::round(hr, 1));
        }
        out.push(split);
        from = to;
        k += 1;
        if to == s.len() - 1 {
            break;
        }
    }
    Value::Array(out)
}

fn laps(world: &World, v: &View, s: Option<&Streams>, totals: Option<&Totals>) -> Vec<Value> {
    let athlete_id = world.athletes[v.athlete].id;
    let (Some(s), Some(totals)) = (s, totals) else {
        // One lap covering the whole (manual) activity.
        return vec![lap_json(
            v,
            athlete_id,
            0,
            (0, 0),
            v.elapsed_time,
            v.moving_time,
            v.distance,
            v.elevation_gain,
            None,
            0,
        )];
    };
    let run = world::family_of(&v.sport_type) == Family::Run;
    let total = s
        .distance
        .as_ref()
        .and_then(|d| d.last().copied())
        .unwrap_or(0.0);
    let mut bounds = vec![0usize];
    if run && total > 1_000.0 {
        let mut k = 1.0;
        while k * 1000.0 < total && bounds.len() < 100 {
            bounds.push(s.index_at_distance(k * 1000.0));
            k += 1.0;
        }
    }
    bounds.push(s.len() - 1);
    bounds.dedup();
    bounds
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (from, to) = (w[0], w[1]);
            let d = s.distance.as_ref().map_or(0.0, |d| d[to] - d[from]);
            let elapsed = s.time[to] - s.time[from];
            let moving = totals.moving(from, to);
            let gain = s
                .altitude
                .as_ref()
                .map_or(0.0, |a| streams::climbing(&a[from..=to], 1.0));
            let hr = s
                .heartrate
                .as_deref()
                .zip(totals.heartrate(from, to))
                .map(|(h, avg)| {
                    let slice = &h[from..=to];
                    // A `while` loop: no iterator calls per sample in a debug build.
                    let (mut max, mut j) = (0, 0);
                    while j < slice.len() {
                        max = max.max(slice[j]);
                        j += 1;
                    }
                    (avg, max as f64)
                });
            lap_json(
                v,
                athlete_id,
                i,
                (from, to),
                elapsed,
                moving.min(elapsed),
                d,
                gain,
                hr,
                s.time[from],
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn lap_json(
    v: &View,
    athlete_id: u64,
    i: usize,
    (from, to): (usize, usize),
    elapsed: i64,
    moving: i64,
    distance: f64,
    gain: f64,
    hr: Option<(f64, f64)>,
    offset: i64,
) -> Value {
    let core = v.core();
    let mut lap = json!({
        "id": LAP_BASE + (v.id - ACTIVITY_BASE) * 128 + i as u64,
        "resource_state": 2,
        "name": format!("Lap {}", i + 1),
        "activity": {"id": v.id, "resource_state": 1},
        "athlete": meta_athlete(athlete_id),
        "elapsed_time": elapsed,
        "moving_time": moving,
        "start_date": iso(v.start + offset),
        "start_date_local": local_iso(v.start + offset, v.utc_offset),
        "distance": geo::round(distance, 1),
        "start_index": from,
        "end_index": to,
        "total_elevation_gain": geo::round(gain, 1),
        "average_speed": geo::round(distance / moving.max(1) as f64, 3),
        "max_speed": geo::round(distance / moving.max(1) as f64 * core.map_or(1.3, |c| c.max_speed_factor), 3),
        "lap_index": i + 1,
        "split": i + 1,
        "device_watts": core.is_some_and(|c| c.device_watts),
    });
    if let Some(c) = core {
        if let Some(cad) = c.average_cadence {
            lap["average_cadence"] = json!(cad);
        }
        if let Some(w) = c.average_watts {
            lap["average_watts"] = json!(w);
        }
        if world::family_of(&v.sport_type) == Family::Run {
            lap["pace_zone"] = json!(2);
        }
    }
    if let Some((avg, max)) = hr {
        lap["average_heartrate"] = json!(geo::round(avg, 1));
        lap["max_heartrate"] = json!(max);
    }
    lap
}

const BEST_EFFORTS: &[(&str, f64)] = &[
    ("400m", 400.0),
    ("1/2 mile", 804.672),
    ("1K", 1000.0),
    ("1 mile", 1609.344),
    ("2 mile", 3218.688),
    ("5K", 5000.0),
    ("10K", 10000.0),
    ("15K", 15000.0),
    ("10 mile", 16093.44),
    ("20K", 20000.0),
    ("Half-Marathon", 21097.5),
    ("30K", 30000.0),
    ("Marathon", 42195.0),
];

fn best_efforts(world: &World, v: &View, s: &Streams) -> Value {
    let Some(distance) = &s.distance else {
        return json!([]);
    };
    let total = distance.last().copied().unwrap_or(0.0);
    let athlete_id = world.athletes[v.athlete].id;
    // The distances the activity covers (ascending).
    let wanted = BEST_EFFORTS
        .iter()
        .take_while(|(_, meters)| *meters <= total)
        .count();
    // The fastest window of each length, with one two-pointer sweep for all lengths:
    // `from[j]` is the latest start at least `meters[j]` before the current end.
    // Slices and `while` loops: no calls per sample in a debug build.
    let (d, time) = (&distance[..], &s.time[..]);
    let mut meters = [0.0f64; BEST_EFFORTS.len()];
    for (m, (_, x)) in meters.iter_mut().zip(BEST_EFFORTS) {
        *m = *x;
    }
    let mut from = [0usize; BEST_EFFORTS.len()];
    let mut best = [(i64::MAX, 0usize, 0usize); BEST_EFFORTS.len()];
    let mut to = 0;
    while to < d.len() {
        let (end, at) = (d[to], time[to]);
        let mut j = 0;
        // Longer windows than the distance so far cannot fit yet.
        while j < wanted && end - d[0] >= meters[j] {
            let m = meters[j];
            let mut f = from[j];
            while f < to && end - d[f + 1] >= m {
                f += 1;
            }
            from[j] = f;
            let t = at - time[f];
            if t < best[j].0 {
                best[j] = (t, f, to);
            }
            j += 1;
        }
        to += 1;
    }
    let mut out = Vec::new();
    for (j, (name, meters)) in BEST_EFFORTS.iter().enumerate().take(wanted) {
        let (elapsed, start, end) = best[j];
        if elapsed == i64::MAX {
            continue;
        }
        let offset = s.time[start] - s.time[0];
        out.push(json!({
            "id": BEST_EFFORT_BASE + (v.id - ACTIVITY_BASE) * 16 + j as u64,
            "resource_state": 2,
            "name": name,
            "activity": {"id": v.id, "resource_state": 1},
            "athlete": meta_athlete(athlete_id),
            "elapsed_time": elapsed,
            "moving_time": elapsed,
            "start_date": iso(v.start + offset),
            "start_date_local": local_iso(v.start + offset, v.utc_offset),
            "distance": meters,
            "start_index": start,
            "end_index": end,
            "pr_rank": Value::Null,
            "achievements": [],
        }));
    }
    Value::Array(out)
}

/// `ActivityZone`s of an activity.
pub(crate) fn activity_zones(world: &World, v: &View) -> Value {
    let athlete = &world.athletes[v.athlete];
    let Some(s) = activity_streams(world, v) else {
        return json!([]);
    };
    let mut out = Vec::new();
    let mut bucket = |bounds: Vec<(i64, i64)>, values: &[i64], kind: &str, sensor: bool| {
        // Whole seconds per zone and a whole score, as Strava sends them.
        let mut times = vec![0i64; bounds.len()];
        for (i, &x) in values.iter().enumerate().skip(1) {
            let dt = (s.time[i] - s.time[i - 1]).min(30);
            let z = bounds
                .iter()
                .position(|(lo, hi)| x >= *lo && (*hi < 0 || x < *hi))
                .unwrap_or(bounds.len() - 1);
            times[z] += dt;
        }
        let score: f64 = times
            .iter()
            .enumerate()
            .map(|(z, t)| *t as f64 / 60.0 * (z as f64 + 1.0) * 0.3)
            .sum();
        out.push(json!({
            "score": score.round() as i64,
            "distribution_buckets": bounds.iter().zip(&times).map(|((lo, hi), t)| {
                json!({"min": lo, "max": hi, "time": t})
            }).collect::<Vec<_>>(),
            "type": kind,
            "resource_state": 3,
            "sensor_based": sensor,
            "points": score.round() as i64,
            "custom_zones": false,
            "max": values.iter().max().copied().unwrap_or(0),
        }));
    };
    if let Some(hr) = &s.heartrate {
        bucket(hr_bounds(athlete), hr, "heartrate", true);
    }
    if let (Some(w), Some(ftp)) = (s.watts(), athlete.ftp) {
        bucket(power_bounds(ftp), w, "power", true);
    }
    Value::Array(out)
}

// ---------------------------------------------------------------------------------------
// Photos
// ---------------------------------------------------------------------------------------

/// How many photos an activity has: about one generated activity in five has 1 to 4.
pub(crate) fn photo_count(world: &World, v: &View) -> usize {
    if v.core().is_none() {
        return 0;
    }
    let h = world::mix(&[world.seed, 0xF07, v.id]);
    if h.is_multiple_of(5) {
        1 + ((h >> 8) % 4) as usize
    } else {
        0
    }
}

/// Photo `j`'s id: a UUID in upper case, as phones upload them.
fn photo_uuid(world: &World, v: &View, j: usize) -> String {
    let a = world::mix(&[world.seed, 0xF08, v.id, j as u64]);
    let b = world::mix(&[world.seed, 0xF09, v.id, j as u64]);
    format!(
        "{:08X}-{:04X}-4{:03X}-{:04X}-{:012X}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0x0FFF,
        0x8000 | (b >> 48) & 0x3FFF,
        b & 0xFFFF_FFFF_FFFF
    )
}

fn photo_url(unique_id: &str, size: u32) -> String {
    format!(
        "https://sandbox.invalid/photos/{}-{}x{size}.jpg",
        unique_id.to_ascii_lowercase(),
        size * 3 / 4
    )
}

/// `PhotosSummary` of `DetailedActivity.photos`.
fn photos_summary(world: &World, v: &View) -> Value {
    let count = photo_count(world, v);
    if count == 0 {
        return json!({"primary": null, "count": 0});
    }
    let unique_id = photo_uuid(world, v, 0);
    json!({
        "primary": {
            "unique_id": unique_id,
            "urls": {"600": photo_url(&unique_id, 600), "100": photo_url(&unique_id, 100)},
            "source": 1,
            "media_type": 1,
        },
        "use_primary_photo": true,
        "count": count,
    })
}

/// `GET /activities/{id}/photos`: URLs of edge length `size` pixels.
pub(crate) fn activity_photos(world: &World, v: &View, size: u32) -> Vec<Value> {
    let athlete_id = world.athletes[v.athlete].id;
    let count = photo_count(world, v);
    (0..count)
        .map(|j| {
            let unique_id = photo_uuid(world, v, j);
            let at = (j as f64 + 1.0) / (count as f64 + 1.0);
            let taken = v.start + (v.elapsed_time as f64 * at) as i64;
            let location = v.core().and_then(|c| c.track.as_ref()).map(|t| t.point(at));
            let key = size.to_string();
            let mut photo = json!({
                "unique_id": unique_id,
                "athlete_id": athlete_id,
                "activity_id": v.id,
                "activity_name": v.name,
                "post_id": null,
                "resource_state": 2,
                "caption": "",
                "type": 1,
                "source": 1,
                "status": 3,
                "uploaded_at": iso(v.start + v.elapsed_time + 1_800),
                "created_at": iso(taken),
                "created_at_local": local_iso(taken, v.utc_offset),
                "urls": {key.clone(): photo_url(&unique_id, size)},
                "placeholder_image": null,
                "sizes": {key: [size * 3 / 4, size]},
                "default_photo": j == 0,
                "cursor": null,
            });
            // Photos taken on the way know where.
            if let Some(at) = location {
                photo["location"] = latlng(Some(at));
            }
            photo
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Comments and kudos
// ---------------------------------------------------------------------------------------

const COMMENTS: &[&str] = &[
    "Nice one!",
    "Strong pace 💪",
    "Those hills though",
    "Great weather for it",
    "See you Saturday?",
    "Legs must be toast",
    "Huge effort!",
    "Chapeau",
    "Was that the new route?",
    "Recovery matters too 😉",
    "Coffee after next time?",
    "Flying!",
];

const OTHER_PEOPLE: &[(&str, &str)] = &[
    ("Basil", "K."),
    ("Carmen", "T."),
    ("Dario", "F."),
    ("Esme", "W."),
    ("Felix", "O."),
    ("Gwen", "R."),
    ("Henrik", "S."),
    ("Isla", "M."),
];

fn other_person(world: &World, salt: u64) -> Value {
    let n = world.athletes.len() as u64 + OTHER_PEOPLE.len() as u64;
    let i = world::splitmix(salt) % n;
    if (i as usize) < world.athletes.len() {
        public_athlete(&world.athletes[i as usize])
    } else {
        let (f, l) = OTHER_PEOPLE[i as usize - world.athletes.len()];
        json!({"resource_state": 2, "firstname": f, "lastname": l})
    }
}

/// A comment's opaque paging cursor.
pub(crate) fn comment_cursor(activity: u64, index: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sbx:{activity}:{index}"))
}

/// The comment index a cursor points at, when it is one of this activity's.
pub(crate) fn parse_cursor(activity: u64, cursor: &str) -> Option<usize> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('='))
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split(':');
    if parts.next()? != "sbx" || parts.next()?.parse::<u64>().ok()? != activity {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Every comment of an activity, oldest first.
pub(crate) fn comments(world: &World, v: &View) -> Vec<Value> {
    let n = v.core().map_or(0, |c| c.comments) as usize;
    let end = v.start + v.elapsed_time;
    let seed = v.core().map_or(v.id, |c| c.detail_seed);
    let mut rng = world::rng(&[seed, 0xC0]);
    let mut t = end + rng.random_range(300..7_200);
    (0..n)
        .map(|j| {
            t += rng.random_range(60..20_000);
            json!({
                "id": COMMENT_BASE + (v.id - ACTIVITY_BASE) * 64 + j as u64,
                "activity_id": v.id,
                "post_id": null,
                "resource_state": 2,
                "text": world::pick(&mut rng, COMMENTS),
                "mentions_metadata": null,
                "created_at": iso(t),
                "cursor": comment_cursor(v.id, j),
                "athlete": other_person(world, seed ^ (j as u64 + 1)),
                "reaction_count": 0,
                "has_reacted": false,
            })
        })
        .collect()
}

/// Everyone who gave kudos.
pub(crate) fn kudoers(world: &World, v: &View) -> Vec<Value> {
    let n = v.core().map_or(0, |c| c.kudos) as usize;
    let seed = v.core().map_or(v.id, |c| c.detail_seed);
    (0..n)
        .map(|j| other_person(world, seed.wrapping_mul(31) ^ (j as u64 + 7)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Segments and efforts
// ---------------------------------------------------------------------------------------

/// `SummarySegment`; with the viewer's PR and stats when `viewer` is given.
pub(crate) fn summary_segment(
    world: &World,
    state: &State,
    seg: &Segment,
    viewer: Option<usize>,
) -> Value {
    let city = &world::CITIES[seg.city];
    let mut v = json!({
        "id": seg.id,
        "resource_state": 2,
        "name": seg.name,
        "activity_type": seg.activity_type(),
        "distance": seg.distance,
        "average_grade": seg.average_grade,
        "maximum_grade": seg.maximum_grade,
        "elevation_high": seg.elevation_high,
        "elevation_low": seg.elevation_low,
        "start_latlng": latlng(Some(seg.start())),
        "end_latlng": latlng(Some(seg.end())),
        "climb_category": seg.climb_category,
        "city": city.name,
        "state": city.state,
        "country": city.country,
        "private": false,
        "hazardous": seg.hazardous,
    });
    if let Some(a) = viewer {
        let starred = state.starred[a].iter().find(|(s, _)| *s == seg.index);
        v["starred"] = json!(starred.is_some());
        if let Some((_, at)) = starred {
            v["starred_date"] = json!(iso(*at));
        }
        if let Some(pr) = personal_record(world, state, a, seg.index) {
            v["pr_time"] = json!(pr.elapsed_time);
            v["athlete_pr_effort"] = json!({
                "id": pr.id,
                "activity_id": pr.activity_id,
                "elapsed_time": pr.elapsed_time,
                "start_date": iso(pr.start),
                "start_date_local": local_iso(pr.start, pr.utc_offset),
                "distance": seg.distance,
                "is_kom": false,
            });
            v["athlete_segment_stats"] = json!({
                "pr_elapsed_time": pr.elapsed_time,
                "pr_date": &iso(pr.start + i64::from(pr.utc_offset))[..10],
                "effort_count": pr.count,
                "pr_activity_id": pr.activity_id,
            });
        }
    }
    v
}

/// `DetailedSegment`.
pub(crate) fn detailed_segment(
    world: &World,
    state: &State,
    seg: &Segment,
    viewer: usize,
) -> Value {
    let mut v = summary_segment(world, state, seg, Some(viewer));
    let o = v.as_object_mut().expect("an object");
    o.insert("resource_state".into(), json!(3));
    o.insert("created_at".into(), json!(iso(seg.created_at)));
    o.insert(
        "updated_at".into(),
        json!(iso(seg.created_at + 86_400 * 30)),
    );
    o.insert(
        "total_elevation_gain".into(),
        json!(geo::round(
            (seg.elevation_high - seg.elevation_low).max(0.0),
            1
        )),
    );
    let pts = seg
        .track
        .sample(((seg.distance / 15.0) as usize).clamp(10, 400));
    o.insert(
        "map".into(),
        json!({"id": format!("s{}", seg.id), "polyline": geo::encode_polyline(&pts), "resource_state": 3}),
    );
    o.insert("effort_count".into(), json!(seg.effort_count));
    o.insert("athlete_count".into(), json!(seg.athlete_count));
    o.insert("star_count".into(), json!(seg.star_count));
    v
}

/// `ExplorerSegment`.
pub(crate) fn explorer_segment(seg: &Segment, starred: bool) -> Value {
    let pts = seg
        .track
        .sample(((seg.distance / 30.0) as usize).clamp(5, 120));
    let desc = ["NC", "4", "3", "2", "1", "HC"][seg.climb_category.clamp(0, 5) as usize];
    json!({
        "id": seg.id,
        "resource_state": 2,
        "name": seg.name,
        "climb_category": seg.climb_category,
        "climb_category_desc": desc,
        "avg_grade": seg.average_grade,
        "start_latlng": latlng(Some(seg.start())),
        "end_latlng": latlng(Some(seg.end())),
        "elev_difference": geo::round((seg.elevation_high - seg.elevation_low).max(0.0), 1),
        "distance": seg.distance,
        "points": geo::encode_polyline(&pts),
        "starred": starred,
    })
}

/// A found effort of an athlete on a segment.
pub(crate) struct EffortRef {
    pub(crate) id: u64,
    pub(crate) activity_id: u64,
    pub(crate) elapsed_time: i64,
    pub(crate) start: i64,
    pub(crate) utc_offset: i32,
    pub(crate) count: usize,
}

/// Timing of effort `j` of a generated activity: (start index, end index, elapsed).
pub(crate) fn effort_timing(world: &World, core: &Core, j: usize) -> (usize, usize, i64) {
    let seg = &world.segments[core.efforts[j]];
    let (step, n) = streams::sampling(core);
    let speed = if core.moving_time > 0 {
        core.distance / core.moving_time as f64
    } else {
        1.0
    };
    let mut rng = world::rng(&[core.detail_seed, 0xEF, j as u64]);
    let factor: f64 = rng.random_range(0.85..1.2);
    let samples =
        ((seg.distance / (speed * factor) / step as f64).round() as usize).clamp(1, n - 1);
    let start = rng.random_range(0..(n - samples).max(1));
    let end = (start + samples).min(n - 1);
    let elapsed = streams::time_at(core, end) - streams::time_at(core, start);
    (start, end, elapsed)
}

fn personal_record(
    world: &World,
    state: &State,
    athlete: usize,
    segment: usize,
) -> Option<EffortRef> {
    let mut best: Option<EffortRef> = None;
    let mut count = 0;
    for (k, brief) in world.briefs(athlete).iter().enumerate() {
        let Some(j) = brief.efforts.iter().position(|&s| s == segment as u32) else {
            continue;
        };
        let id = world.activity_id(athlete, k);
        if state.deleted.contains(&id) {
            continue;
        }
        count += 1;
        let core = world.core(athlete, k);
        let (_, _, elapsed) = effort_timing(world, &core, j);
        if best.as_ref().is_none_or(|b| elapsed < b.elapsed_time) {
            let (start_index, _, _) = effort_timing(world, &core, j);
            let start = core.start + streams::time_at(&core, start_index);
            best = Some(EffortRef {
                id: EFFORT_BASE + (id - ACTIVITY_BASE) * 4 + j as u64,
                activity_id: id,
                elapsed_time: elapsed,
                start,
                utc_offset: world.athletes[athlete].city().utc_offset(start),
                count: 0,
            });
        }
    }
    best.map(|mut b| {
        b.count = count;
        b
    })
}

/// `DetailedSegmentEffort` for effort `j` of a generated activity.
pub(crate) fn segment_effort(
    world: &World,
    state: &State,
    core: &Core,
    j: usize,
    v: &View,
) -> Value {
    let seg = &world.segments[core.efforts[j]];
    let (start_index, end_index, elapsed) = effort_timing(world, core, j);
    let offset = streams::time_at(core, start_index);
    let mut rng = world::rng(&[core.detail_seed, 0xEF, j as u64, 1]);
    let athlete_id = world.athletes[core.athlete].id;
    let mut effort = json!({
        "id": EFFORT_BASE + (core.id - ACTIVITY_BASE) * 4 + j as u64,
        "resource_state": 2,
        "name": seg.name,
        "activity": {"id": core.id, "visibility": if v.private { "only_me" } else { "everyone" }, "resource_state": 1},
        "athlete": meta_athlete(athlete_id),
        "elapsed_time": elapsed,
        "moving_time": elapsed,
        "start_date": iso(core.start + offset),
        "start_date_local": local_iso(core.start + offset, v.utc_offset),
        "distance": seg.distance,
        "start_index": start_index,
        "end_index": end_index,
        "device_watts": core.device_watts,
        "segment": summary_segment(world, state, seg, None),
        "pr_rank": if rng.random_bool(0.15) { json!(rng.random_range(1..4)) } else { Value::Null },
        "kom_rank": if rng.random_bool(0.02) { json!(rng.random_range(1..11)) } else { Value::Null },
        "achievements": [],
        "visibility": if v.private { "only_me" } else { "everyone" },
        "hidden": false,
    });
    if let Some(cad) = core.average_cadence {
        effort["average_cadence"] = json!(cad);
    }
    if let Some(w) = core.average_watts {
        effort["average_watts"] = json!(geo::round(w * rng.random_range(1.0..1.25), 1));
    }
    if let (Some(avg), Some(max)) = (core.average_heartrate, core.max_heartrate) {
        effort["average_heartrate"] =
            json!(geo::round((avg * rng.random_range(1.0..1.06)).min(max), 1));
        effort["max_heartrate"] = json!(max);
    }
    effort
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

/// A generated route.
pub(crate) struct RouteSpec {
    pub(crate) id: u64,
    pub(crate) athlete: usize,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) ride: bool,
    pub(crate) sub_type: i64,
    pub(crate) distance: f64,
    pub(crate) elevation_gain: f64,
    pub(crate) track: Track,
    pub(crate) private: bool,
    pub(crate) starred: bool,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) segments: Vec<usize>,
    pub(crate) waypoints: usize,
}

/// Route `j` of `athlete`.
pub(crate) fn route(world: &World, athlete: usize, j: usize) -> RouteSpec {
    let a = &world.athletes[athlete];
    let city = a.city();
    let mut rng = world::rng(&[world.seed, 0x40E, athlete as u64, j as u64]);
    let ride = !a.bikes.is_empty() && rng.random_bool(0.6);
    let distance = geo::round(
        if ride {
            rng.random_range(25_000.0..120_000.0)
        } else {
            rng.random_range(5_000.0..30_000.0)
        },
        1,
    );
    let gain = geo::round(distance * city.hilliness * rng.random_range(0.6..1.6), 1);
    let track = Track::generate(&mut rng, a.home, distance, gain, city.altitude);
    let adjective = world::pick(
        &mut rng,
        &["Scenic", "Hilly", "Flat", "Sunday", "Lakeside", "Quiet"],
    );
    let kind = if ride { "Loop" } else { "Run" };
    let segments = (0..rng.random_range(0..3))
        .map(|_| city_segment(&mut rng, a.city, ride))
        .collect();
    let created_at = world.data_end - rng.random_range(10..900) * 86_400;
    RouteSpec {
        id: ROUTE_BASE + athlete as u64 * 64 + j as u64,
        athlete,
        name: format!("{} {adjective} {kind}", city.name),
        description: if rng.random_bool(0.5) {
            "Mostly quiet roads, one cafe stop.".to_owned()
        } else {
            String::new()
        },
        ride,
        sub_type: if ride {
            *world::pick(&mut rng, &[1, 1, 1, 2, 3, 5])
        } else {
            *world::pick(&mut rng, &[1, 4, 5])
        },
        distance,
        elevation_gain: gain,
        track,
        private: rng.random_bool(0.15),
        starred: rng.random_bool(0.3),
        created_at,
        updated_at: created_at + rng.random_range(0..60) * 86_400,
        segments,
        waypoints: rng.random_range(0..3),
    }
}

fn city_segment(rng: &mut impl Rng, city: usize, ride: bool) -> usize {
    loop {
        let s = city * SEGMENTS_PER_CITY + rng.random_range(0..SEGMENTS_PER_CITY);
        if (s % 3 != 2) == ride {
            return s;
        }
    }
}

/// The route with this id.
pub(crate) fn route_by_id(world: &World, id: u64) -> Option<RouteSpec> {
    let offset = id.checked_sub(ROUTE_BASE)?;
    let (athlete, j) = ((offset / 64) as usize, (offset % 64) as usize);
    let a = world.athletes.get(athlete)?;
    (j < a.routes).then(|| route(world, athlete, j))
}

/// `Route`.
pub(crate) fn route_json(world: &World, state: &State, r: &RouteSpec, viewer: usize) -> Value {
    let a = &world.athletes[r.athlete];
    let n = ((r.distance / 40.0) as usize).clamp(50, 1_500);
    let speed = if r.ride { 7.2 } else { 2.9 };
    let waypoints: Vec<Value> = (0..r.waypoints)
        .map(|i| {
            let t = (i as f64 + 1.0) / (r.waypoints as f64 + 1.0);
            let p = r.track.point(t);
            json!({
                "latlng": [geo::round(p.0, 6), geo::round(p.1, 6)],
                "target_latlng": [geo::round(p.0, 6), geo::round(p.1, 6)],
                "categories": [if i == 0 { "coffee" } else { "viewpoint" }],
                "title": if i == 0 { "Cafe stop" } else { "Viewpoint" },
                "description": "",
                "distance_into_route": geo::round(r.distance * t, 1),
            })
        })
        .collect();
    json!({
        "athlete": summary_athlete(a),
        "description": r.description,
        "distance": r.distance,
        "elevation_gain": r.elevation_gain,
        "id": r.id,
        "id_str": r.id.to_string(),
        "map": {
            "id": format!("r{}", r.id),
            "summary_polyline": geo::encode_polyline(&r.track.sample(n / 10 + 2)),
            "polyline": geo::encode_polyline(&r.track.sample(n)),
            "resource_state": 3,
        },
        "map_urls": {"url": format!("https://sandbox.invalid/maps/routes/{}.png", r.id)},
        "name": r.name,
        "private": r.private,
        "resource_state": 3,
        "starred": r.starred,
        "sub_type": r.sub_type,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
        "timestamp": r.created_at,
        "type": if r.ride { 1 } else { 2 },
        "estimated_moving_time": (r.distance / speed).round() as i64,
        "segments": r.segments.iter().map(|&s| summary_segment(world, state, &world.segments[s], Some(viewer))).collect::<Vec<_>>(),
        "waypoints": waypoints,
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The route as GPX 1.1.
pub(crate) fn route_gpx(r: &RouteSpec) -> String {
    let n = ((r.distance / 25.0) as usize).clamp(50, 3_000);
    let mut out = String::with_capacity(n * 70 + 600);
    let name = xml_escape(&r.name);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<gpx creator=\"stravalib-sandbox\" version=\"1.1\" xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd\">\n");
    out.push_str(&format!(
        " <metadata>\n  <name>{name}</name>\n  <link href=\"https://www.strava.com/routes/{}\"/>\n </metadata>\n",
        r.id
    ));
    out.push_str(&format!(
        " <trk>\n  <name>{name}</name>\n  <type>{}</type>\n  <trkseg>\n",
        if r.ride { "cycling" } else { "running" }
    ));
    for i in 0..n {
        let t = i as f64 / (n - 1) as f64;
        let (lat, lng) = r.track.point(t);
        out.push_str(&format!(
            "   <trkpt lat=\"{:.7}\" lon=\"{:.7}\">\n    <ele>{:.1}</ele>\n   </trkpt>\n",
            lat,
            lng,
            r.track.altitude(t)
        ));
    }
    out.push_str("  </trkseg>\n </trk>\n</gpx>\n");
    out
}

/// The route as a TCX course.
pub(crate) fn route_tcx(r: &RouteSpec) -> String {
    let n = ((r.distance / 25.0) as usize).clamp(50, 3_000);
    let speed = if r.ride { 7.2 } else { 2.9 };
    let total_time = (r.distance / speed).round();
    let name = xml_escape(&r.name);
    let (start, end) = (r.track.point(0.0), r.track.point(1.0));
    let mut out = String::with_capacity(n * 220 + 1_000);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<TrainingCenterDatabase xmlns=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2 http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd\">\n");
    out.push_str(&format!(
        " <Courses>\n  <Course>\n   <Name>{name}</Name>\n   <Lap>\n    <TotalTimeSeconds>{total_time:.1}</TotalTimeSeconds>\n    <DistanceMeters>{:.1}</DistanceMeters>\n    <BeginPosition>\n     <LatitudeDegrees>{:.7}</LatitudeDegrees>\n     <LongitudeDegrees>{:.7}</LongitudeDegrees>\n    </BeginPosition>\n    <EndPosition>\n     <LatitudeDegrees>{:.7}</LatitudeDegrees>\n     <LongitudeDegrees>{:.7}</LongitudeDegrees>\n    </EndPosition>\n    <Intensity>Active</Intensity>\n   </Lap>\n   <Track>\n",
        r.distance, start.0, start.1, end.0, end.1
    ));
    let points = r.track.sample(n);
    let dist = streams::cumulative(&points);
    let scale = r.distance / dist.last().copied().unwrap_or(1.0).max(1.0);
    for (i, (lat, lng)) in points.iter().enumerate() {
        let t = i as f64 / (n - 1) as f64;
        let d = dist[i] * scale;
        out.push_str(&format!(
            "    <Trackpoint>\n     <Time>{}</Time>\n     <Position>\n      <LatitudeDegrees>{lat:.7}</LatitudeDegrees>\n      <LongitudeDegrees>{lng:.7}</LongitudeDegrees>\n     </Position>\n     <AltitudeMeters>{:.1}</AltitudeMeters>\n     <DistanceMeters>{d:.1}</DistanceMeters>\n    </Trackpoint>\n",
            iso(r.created_at + (d / speed) as i64),
            r.track.altitude(t)
        ));
    }
    out.push_str("   </Track>\n  </Course>\n </Courses>\n</TrainingCenterDatabase>\n");
    out
}

// ---------------------------------------------------------------------------------------
// Streams, stats, uploads
// ---------------------------------------------------------------------------------------

/// Streams as Strava answers them: keyed by type (`StreamSet`) or a list of typed streams.
pub(crate) fn streams_json(
    s: &Streams,
    range: std::ops::Range<usize>,
    keys: &[&str],
    key_by_type: bool,
) -> Value {
    let size = range.len();
    let mut keyed = Map::new();
    let mut list = Vec::new();
    for kind in streams::STREAM_TYPES {
        if !keys.contains(&kind) {
            continue;
        }
        let Some(data) = s.data(kind, range.clone()) else {
            continue;
        };
        let mut stream = json!({
            "data": data,
            "series_type": "distance",
            "original_size": size,
            "resolution": "high",
        });
        if key_by_type {
            keyed.insert(kind.to_owned(), stream);
        } else {
            stream["type"] = json!(kind);
            list.push(stream);
        }
    }
    if key_by_type {
        Value::Object(keyed)
    } else {
        Value::Array(list)
    }
}

/// `ActivityStats` of an athlete at `now`.
pub(crate) fn stats(world: &World, state: &State, athlete: usize, now: i64) -> Value {
    #[derive(Default, Clone, Copy)]
    struct Total {
        count: u64,
        distance: f64,
        moving: i64,
        elapsed: i64,
        gain: f64,
        achievements: u64,
    }
    let recent_from = now - 28 * 86_400;
    let year_from = {
        use chrono::Datelike;
        let year = DateTime::from_timestamp(now, 0).unwrap_or_default().year();
        chrono::NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |d| d.and_utc().timestamp())
    };
    let mut totals = [[Total::default(); 3]; 3];
    let (mut biggest_ride, mut biggest_climb) = (0f64, 0f64);
    let mut add = |family: Family,
                   start: i64,
                   distance: f64,
                   moving: i64,
                   elapsed: i64,
                   gain: f64,
                   ach: u64| {
        if start > now {
            return;
        }
        let f = match family {
            Family::Ride => 0,
            Family::Run => 1,
            Family::Swim => 2,
            Family::Other => return,
        };
        if f == 0 {
            biggest_ride = biggest_ride.max(distance);
        }
        biggest_climb = biggest_climb.max(gain);
        for (w, from) in [recent_from, year_from, i64::MIN].into_iter().enumerate() {
            if start >= from {
                let t = &mut totals[w][f];
                t.count += 1;
                t.distance += distance;
                t.moving += moving;
                t.elapsed += elapsed;
                t.gain += gain;
                t.achievements += ach;
            }
        }
    };
    for (k, b) in world.briefs(athlete).iter().enumerate() {
        let id = world.activity_id(athlete, k);
        if b.private || state.deleted.contains(&id) {
            continue;
        }
        let family = state
            .patches
            .get(&id)
            .and_then(|p| p.sport_type.as_deref())
            .map_or(b.sport.family(), world::family_of);
        add(
            family,
            b.start,
            f64::from(b.distance),
            i64::from(b.moving_time),
            i64::from(b.elapsed_time),
            f64::from(b.elevation_gain),
            u64::from(b.achievements),
        );
    }
    for id in &state.created_by_athlete[athlete] {
        let c = &state.created[id];
        if c.private || state.deleted.contains(id) {
            continue;
        }
        add(
            world::family_of(&c.sport_type),
            c.start,
            c.distance,
            c.moving_time,
            c.elapsed_time,
            c.elevation_gain,
            0,
        );
    }
    let total = |t: Total, with_achievements: bool| {
        let mut v = json!({
            "count": t.count,
            "distance": geo::round(t.distance, 1),
            // Whole seconds, as in recorded stats.
            "moving_time": t.moving,
            "elapsed_time": t.elapsed,
            "elevation_gain": geo::round(t.gain, 1),
        });
        if with_achievements {
            v["achievement_count"] = json!(t.achievements);
        }
        v
    };
    json!({
        "biggest_ride_distance": geo::round(biggest_ride, 1),
        "biggest_climb_elevation_gain": geo::round(biggest_climb, 1),
        "recent_ride_totals": total(totals[0][0], true),
        "recent_run_totals": total(totals[0][1], true),
        "recent_swim_totals": total(totals[0][2], true),
        "ytd_ride_totals": total(totals[1][0], false),
        "ytd_run_totals": total(totals[1][1], false),
        "ytd_swim_totals": total(totals[1][2], false),
        "all_ride_totals": total(totals[2][0], false),
        "all_run_totals": total(totals[2][1], false),
        "all_swim_totals": total(totals[2][2], false),
    })
}

/// Strava's upload status texts.
pub(crate) const UPLOAD_PROCESSING: &str = "Your activity is still being processed.";
pub(crate) const UPLOAD_READY: &str = "Your activity is ready.";
pub(crate) const UPLOAD_ERROR: &str = "There was an error processing your activity.";

/// `Upload`.
pub(crate) fn upload_json(u: &Upload) -> Value {
    let (external_id, error, status, activity_id) = match &u.state {
        UploadState::Processing => (Value::Null, Value::Null, UPLOAD_PROCESSING, Value::Null),
        UploadState::Ready(id) => (
            json!(u.external_id.clone().unwrap_or_else(|| u.file_name.clone())),
            Value::Null,
            UPLOAD_READY,
            json!(id),
        ),
        UploadState::Failed(e) => (Value::Null, json!(e), UPLOAD_ERROR, Value::Null),
    };
    json!({
        "id": u.id,
        "id_str": u.id.to_string(),
        "external_id": external_id,
        "error": error,
        "status": status,
        "activity_id": activity_id,
    })
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    #[test]
    fn iso_dates_agree_with_chrono() {
        let chrono_iso = |ts: i64| {
            DateTime::from_timestamp(ts, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        let mut ts = -62_135_596_800 - 86_400 * 3; // a few days before 0001-01-01
        while ts < 253_402_300_800 + 86_400 * 3 {
            assert_eq!(super::iso(ts), chrono_iso(ts), "{ts}");
            assert_eq!(super::iso(ts + 86_399), chrono_iso(ts + 86_399), "{ts}");
            ts += 86_400 * 13 + 3_671;
        }
        for ts in [
            0,
            -1,
            951_782_400,
            1_709_164_800,
            4_107_542_400,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(super::iso(ts), chrono_iso(ts), "{ts}");
        }
    }
}
