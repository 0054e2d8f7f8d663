//! Generated models against our own fixtures (`tests/fixtures/`, written by hand with
//! made-up values in the shapes the live Strava API answers with): every fixture
//! deserializes into its type and passes the registry check, specific values survive
//! exactly, values round-trip through serde, open enums keep what they do not know, and
//! the schemars schemas describe the types. No file outside `tests/` is read.

use std::fmt::Debug;

use chrono::{NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use stravalib::Id;
use stravalib::params::{ExploreBounds, InvalidBounds, StreamKeys};
use stravalib::registry::check_json;
use stravalib::types::{
    ActivityStats, ActivityType, ActivityZone, ActivityZoneType, ClimbCategoryDesc, ClubMembership,
    ClubSportType, Comment, DetailedActivity, DetailedAthlete, DetailedClub, DetailedGear,
    DetailedSegment, ExplorerResponse, Fault, FaultErrors, LatLng, MeasurementPreference, Route,
    RouteStreams, SegmentActivityType, SportType, StreamResolution, StreamSeriesType, StreamSet,
    StreamType, SummaryActivity, SummaryPrSegmentEffort, Upload, Zones,
};

const DETAILED_ACTIVITY: &str = include_str!("fixtures/detailed_activity.json");
const DETAILED_ACTIVITY_UNUSUAL: &str = include_str!("fixtures/detailed_activity_unusual.json");
const SUMMARY_ACTIVITIES_PAGE: &str = include_str!("fixtures/summary_activities_page.json");
const ATHLETE: &str = include_str!("fixtures/athlete.json");
const ATHLETE_ZONES: &str = include_str!("fixtures/athlete_zones.json");
const ATHLETE_STATS: &str = include_str!("fixtures/athlete_stats.json");
const ACTIVITY_ZONES: &str = include_str!("fixtures/activity_zones.json");
const STREAMS_KEYED: &str = include_str!("fixtures/streams_keyed.json");
const ROUTE_STREAMS_LIST: &str = include_str!("fixtures/route_streams_list.json");
const FAULT_401: &str = include_str!("fixtures/fault_401.json");
const FAULT_403_INACTIVE: &str = include_str!("fixtures/fault_403_inactive.json");
const FAULT_429_STRING_ERRORS: &str = include_str!("fixtures/fault_429_string_errors.json");
const UPLOAD_PROCESSING: &str = include_str!("fixtures/upload_processing.json");
const UPLOAD_READY: &str = include_str!("fixtures/upload_ready.json");
const UPLOAD_ERROR: &str = include_str!("fixtures/upload_error.json");
const ROUTE: &str = include_str!("fixtures/route.json");
const SEGMENT: &str = include_str!("fixtures/segment.json");
const CLUB: &str = include_str!("fixtures/club.json");
const GEAR: &str = include_str!("fixtures/gear.json");
const COMMENTS_PAGE: &str = include_str!("fixtures/comments_page.json");
const EXPLORER: &str = include_str!("fixtures/explorer.json");

/// Every fixture with the OpenAPI schema it answers with and whether it is a list of it.
const FIXTURES: &[(&str, &str, bool, &str)] = &[
    (
        "detailed_activity.json",
        "DetailedActivity",
        false,
        DETAILED_ACTIVITY,
    ),
    (
        "detailed_activity_unusual.json",
        "DetailedActivity",
        false,
        DETAILED_ACTIVITY_UNUSUAL,
    ),
    (
        "summary_activities_page.json",
        "SummaryActivity",
        true,
        SUMMARY_ACTIVITIES_PAGE,
    ),
    ("athlete.json", "DetailedAthlete", false, ATHLETE),
    ("athlete_zones.json", "Zones", false, ATHLETE_ZONES),
    ("athlete_stats.json", "ActivityStats", false, ATHLETE_STATS),
    ("activity_zones.json", "ActivityZone", true, ACTIVITY_ZONES),
    ("streams_keyed.json", "StreamSet", false, STREAMS_KEYED),
    (
        "route_streams_list.json",
        "RouteStreams",
        false,
        ROUTE_STREAMS_LIST,
    ),
    ("fault_401.json", "Fault", false, FAULT_401),
    (
        "fault_403_inactive.json",
        "Fault",
        false,
        FAULT_403_INACTIVE,
    ),
    (
        "fault_429_string_errors.json",
        "Fault",
        false,
        FAULT_429_STRING_ERRORS,
    ),
    ("upload_processing.json", "Upload", false, UPLOAD_PROCESSING),
    ("upload_ready.json", "Upload", false, UPLOAD_READY),
    ("upload_error.json", "Upload", false, UPLOAD_ERROR),
    ("route.json", "Route", false, ROUTE),
    ("segment.json", "DetailedSegment", false, SEGMENT),
    ("club.json", "DetailedClub", false, CLUB),
    ("gear.json", "DetailedGear", false, GEAR),
    ("comments_page.json", "Comment", true, COMMENTS_PAGE),
    ("explorer.json", "ExplorerResponse", false, EXPLORER),
];

/// Deserializes `json` as `T`, failing with the serde path of the first problem.
fn parse<T: DeserializeOwned>(json: &str) -> T {
    let mut de = serde_json::Deserializer::from_str(json);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => value,
        Err(e) => panic!(
            "not a {}: at `{}`: {}",
            std::any::type_name::<T>(),
            e.path(),
            e.inner()
        ),
    }
}

/// The fixture as untyped JSON (numbers beyond u64 become floats: don't compare ids here).
fn raw(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// A typed value as untyped JSON, through its serialized text.
fn to_raw<T: Serialize>(value: &T) -> Value {
    raw(&serde_json::to_string(value).unwrap())
}

/// Serializes `value`, deserializes the text again and checks that nothing changed: the
/// serialized forms are equal as JSON (maps compared regardless of order, since photo
/// urls are a `HashMap`) and serializing the copy gives back the same text length.
/// Returns the copy for further checks.
fn round_trip<T: Serialize + DeserializeOwned + Debug>(value: &T) -> T {
    let text = serde_json::to_string(value).unwrap();
    let again: T = parse(&text);
    let text_again = serde_json::to_string(&again).unwrap();
    assert_eq!(raw(&text), raw(&text_again), "round trip changed {value:?}");
    assert_eq!(text.len(), text_again.len(), "round trip changed the text");
    again
}

/// A coordinate pair as a slice, for comparisons.
fn coords(latlng: &Option<LatLng>) -> Option<&[f64]> {
    latlng.as_ref().map(|pair| pair.as_slice())
}

fn date_time(text: &str) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------
// Every fixture: typed deserialization and the registry check
// ---------------------------------------------------------------------------------------

#[test]
fn every_fixture_passes_check_json_with_its_schema() {
    for (file, schema, list, body) in FIXTURES {
        match check_json(schema, *list, body.as_bytes()) {
            None => panic!("{file}: no generated type for schema {schema}"),
            Some(Err(e)) => panic!("{file} is not a valid {schema}: {e}"),
            Some(Ok(())) => {}
        }
    }
}

#[test]
fn every_fixture_deserializes_into_its_type_and_round_trips() {
    round_trip(&parse::<DetailedActivity>(DETAILED_ACTIVITY));
    round_trip(&parse::<DetailedActivity>(DETAILED_ACTIVITY_UNUSUAL));
    round_trip(&parse::<Vec<SummaryActivity>>(SUMMARY_ACTIVITIES_PAGE));
    round_trip(&parse::<DetailedAthlete>(ATHLETE));
    round_trip(&parse::<Zones>(ATHLETE_ZONES));
    round_trip(&parse::<ActivityStats>(ATHLETE_STATS));
    round_trip(&parse::<Vec<ActivityZone>>(ACTIVITY_ZONES));
    round_trip(&parse::<StreamSet>(STREAMS_KEYED));
    round_trip(&parse::<RouteStreams>(ROUTE_STREAMS_LIST));
    round_trip(&parse::<Fault>(FAULT_401));
    round_trip(&parse::<Fault>(FAULT_403_INACTIVE));
    round_trip(&parse::<Fault>(FAULT_429_STRING_ERRORS));
    round_trip(&parse::<Upload>(UPLOAD_PROCESSING));
    round_trip(&parse::<Upload>(UPLOAD_READY));
    round_trip(&parse::<Upload>(UPLOAD_ERROR));
    round_trip(&parse::<Route>(ROUTE));
    round_trip(&parse::<DetailedSegment>(SEGMENT));
    round_trip(&parse::<DetailedClub>(CLUB));
    round_trip(&parse::<DetailedGear>(GEAR));
    round_trip(&parse::<Vec<Comment>>(COMMENTS_PAGE));
    round_trip(&parse::<ExplorerResponse>(EXPLORER));
}

#[test]
fn check_json_reports_the_serde_path_of_a_bad_value() {
    let mut body = raw(DETAILED_ACTIVITY);
    body["laps"][1]["lap_index"] = Value::from("second");
    let bytes = serde_json::to_vec(&body).unwrap();
    let err = check_json("DetailedActivity", false, &bytes)
        .expect("DetailedActivity is a schema")
        .expect_err("a string lap index must not pass");
    assert!(err.contains("laps[1].lap_index"), "{err}");

    // A list checked as one object, and an object checked as a list, both fail.
    assert!(matches!(
        check_json("SummaryActivity", false, SUMMARY_ACTIVITIES_PAGE.as_bytes()),
        Some(Err(_))
    ));
    assert!(matches!(
        check_json("DetailedActivity", true, DETAILED_ACTIVITY.as_bytes()),
        Some(Err(_))
    ));
    assert!(check_json("NoSuchSchema", false, b"{}").is_none());
}

#[test]
fn an_id_beyond_128_bits_fails_with_its_path() {
    let body = DETAILED_ACTIVITY_UNUSUAL.replace(
        "\"id\": 9007199254740993",
        "\"id\": 9999999999999999999999999999999999999999",
    );
    assert_ne!(
        body, DETAILED_ACTIVITY_UNUSUAL,
        "fixture changed: fix the test"
    );
    let err = check_json("DetailedActivity", false, body.as_bytes())
        .unwrap()
        .expect_err("a 40-digit id cannot be held exactly");
    assert!(err.contains("athlete.id"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Activities
// ---------------------------------------------------------------------------------------

#[test]
fn detailed_activity_values() {
    let a: DetailedActivity = parse(DETAILED_ACTIVITY);

    let id = a.id.unwrap();
    assert_eq!(id.to_string(), "16204873519");
    assert!(
        id.get() > u128::from(u32::MAX),
        "the id needs more than 32 bits"
    );
    assert_eq!(
        a.athlete.as_ref().unwrap().id,
        Some(Id::from(48_213_967u32))
    );
    assert_eq!(a.upload_id, Some(Id::from(17_302_958_166u64)));
    assert_eq!(a.upload_id_str.as_deref(), Some("17302958166"));

    assert_eq!(a.sport_type, Some(SportType::GravelRide));
    assert!(!a.sport_type.as_ref().unwrap().is_unknown());
    assert_eq!(a.type_, Some(ActivityType::Ride));
    assert_eq!(a.description, None);
    assert_eq!(a.workout_type, None);
    assert_eq!(a.gear_id.as_deref(), Some("b11873402"));

    // Full double precision, not f32.
    assert_eq!(a.distance, Some(12345.678901));
    assert_eq!(a.total_elevation_gain, Some(48.6));
    assert_eq!(a.elev_low, Some(-2.2));
    assert_eq!(a.average_watts, Some(187.4));
    assert_eq!(a.max_watts, Some(612));
    assert_eq!(a.weighted_average_watts, Some(201));
    assert_eq!(a.moving_time, Some(2941));

    assert_eq!(a.start_date, Some(date_time("2025-10-19T07:42:10Z")));
    // Strava writes local time with a `Z`; it is taken at face value.
    assert_eq!(
        a.start_date_local,
        Some(Utc.with_ymd_and_hms(2025, 10, 19, 9, 42, 10).unwrap())
    );
    assert_eq!(a.timezone.as_deref(), Some("(GMT+01:00) Europe/Amsterdam"));
    assert_eq!(coords(&a.start_latlng), Some(&[52.08412, 5.16233][..]));
    assert_eq!(a.end_latlng.as_ref().unwrap().len(), 2);

    let map = a.map.as_ref().unwrap();
    assert_eq!(map.id.as_deref(), Some("a16204873519"));
    // The polyline holds an escaped backslash in the fixture: one `\` after parsing.
    let polyline = map.polyline.as_deref().unwrap();
    assert!(polyline.contains("f\\`F"), "{polyline}");
    assert!(!polyline.contains("\\\\"), "{polyline}");
    assert_eq!(
        map.summary_polyline.as_deref(),
        Some("wt{|Hqgo^q]{o@{^m{@tg@uL|T|xB")
    );

    let laps = a.laps.as_ref().unwrap();
    assert_eq!(laps.len(), 2);
    assert_eq!(laps[0].lap_index, Some(1));
    assert_eq!(laps[1].lap_index, Some(2));
    assert_eq!(laps[1].id, Some(Id::from(56_120_384_472u64)));
    assert_eq!(laps[1].distance, Some(5945.678901));
    assert_eq!(laps[1].activity.as_ref().unwrap().id, a.id);
    assert_eq!(laps[1].pace_zone, Some(3));
    assert_eq!(laps[1].start_date, Some(date_time("2025-10-19T08:10:32Z")));

    let splits = a.splits_metric.as_ref().unwrap();
    assert_eq!(splits.len(), 2);
    assert_eq!(splits[0].split, Some(1));
    assert_eq!(splits[1].elevation_difference, Some(-0.8));
    assert_eq!(a.splits_standard.as_ref().map(Vec::len), None);

    let efforts = a.segment_efforts.as_ref().unwrap();
    assert_eq!(efforts.len(), 1);
    let effort = &efforts[0];
    assert_eq!(effort.id, Some(Id::from(3_419_876_120_554u64)));
    assert_eq!(effort.kom_rank, None);
    assert_eq!(effort.pr_rank, Some(2));
    assert_eq!(effort.hidden, Some(false));
    let segment = effort.segment.as_ref().unwrap();
    assert_eq!(segment.id, Some(Id::from(28_815_730u32)));
    assert_eq!(segment.activity_type, Some(SegmentActivityType::Ride));
    assert_eq!(segment.name.as_deref(), Some("Dijkweg drag"));
    assert_eq!(segment.climb_category, Some(0));

    assert_eq!(a.best_efforts.as_ref().map(Vec::len), Some(0));

    let gear = a.gear.as_ref().unwrap();
    assert_eq!(gear.id.as_deref(), Some("b11873402"));
    assert_eq!(gear.primary, Some(true));
    assert_eq!(gear.distance, Some(4_817_263.0));

    let photos = a.photos.as_ref().unwrap();
    assert_eq!(photos.count, Some(1));
    let primary = photos.primary.as_ref().unwrap();
    assert_eq!(primary.id, None);
    assert_eq!(primary.source, Some(1));
    assert_eq!(primary.urls.len(), 2);
    assert!(primary.urls["600"].ends_with("600x450.jpg"));
}

#[test]
fn detailed_activity_round_trip_keeps_values_and_enum_text() {
    let a: DetailedActivity = parse(DETAILED_ACTIVITY);
    let text = serde_json::to_string(&a).unwrap();
    assert!(text.contains("\"id\":16204873519"), "ids are JSON integers");
    assert!(text.contains("\"distance\":12345.678901"), "{text}");
    assert!(
        !text.contains("similar_activities"),
        "unknown fields are not kept"
    );
    // Described in openapi/ although Strava's description omits it: kept.
    assert_eq!(a.suffer_score, Some(38.0));
    assert!(text.contains("\"suffer_score\":38.0"), "{text}");
    // Absent and null fields are skipped on output.
    assert!(!text.contains("\"description\""), "{text}");
    assert!(!text.contains("null"), "{text}");

    let b = round_trip(&a);
    assert_eq!(b.id, a.id);
    assert_eq!(b.sport_type, Some(SportType::GravelRide));
    assert_eq!(b.distance, Some(12345.678901));
    assert_eq!(b.start_date_local, a.start_date_local);
    assert_eq!(b.laps.as_ref().unwrap().len(), 2);

    let fixture = raw(DETAILED_ACTIVITY);
    let out = raw(&text);
    for key in [
        "sport_type",
        "type",
        "timezone",
        "start_latlng",
        "end_latlng",
    ] {
        assert_eq!(out[key], fixture[key], "{key}");
    }
    for key in ["id", "polyline", "summary_polyline"] {
        assert_eq!(out["map"][key], fixture["map"][key], "map.{key}");
    }
    assert_eq!(
        out["segment_efforts"][0]["segment"]["activity_type"],
        fixture["segment_efforts"][0]["segment"]["activity_type"]
    );
    assert_eq!(
        out["photos"]["primary"]["urls"],
        fixture["photos"]["primary"]["urls"]
    );
}

#[test]
fn unusual_activity_values() {
    let a: DetailedActivity = parse(DETAILED_ACTIVITY_UNUSUAL);

    assert_eq!(a.id.unwrap().to_string(), "123456789012345678901234567890");
    assert_eq!(a.id.unwrap().as_u64(), None);
    // 2^53 + 1: a float would round it to 2^53.
    let athlete_id = a.athlete.as_ref().unwrap().id.unwrap();
    assert_eq!(athlete_id.as_u64(), Some(9_007_199_254_740_993));
    assert_ne!(athlete_id.as_u64(), Some(1u64 << 53));

    assert_eq!(
        a.sport_type,
        Some(SportType::Unknown("Skyrunning".to_owned()))
    );
    let sport = a.sport_type.as_ref().unwrap();
    assert!(sport.is_unknown());
    assert_eq!(sport.as_str(), "Skyrunning");
    assert_eq!(a.type_, Some(ActivityType::Unknown("SkyRun".to_owned())));
    assert!(a.type_.as_ref().unwrap().is_unknown());

    // No GPS: empty coordinate pairs, no polyline.
    assert_eq!(a.start_latlng.as_ref().map(|l| l.to_vec()), Some(vec![]));
    assert!(a.end_latlng.as_ref().unwrap().is_empty());
    let map = a.map.as_ref().unwrap();
    assert_eq!(map.polyline, None);
    assert_eq!(map.summary_polyline.as_deref(), Some(""));

    // Lists Strava sends as null.
    assert!(a.segment_efforts.is_none());
    assert!(a.laps.is_none());
    assert!(a.splits_metric.is_none());
    assert!(a.best_efforts.is_none());
    assert!(a.gear.is_none());
    assert!(a.gear_id.is_none());
    assert!(a.upload_id.is_none());
    assert!(a.photos.as_ref().unwrap().primary.is_none());

    assert_eq!(a.trainer, Some(true));
    assert_eq!(a.private, Some(true));
    assert_eq!(
        a.description.as_deref(),
        Some("Incline 12%, no outdoor track.")
    );
}

#[test]
fn unusual_activity_round_trip_keeps_unknown_values_and_huge_ids() {
    let a: DetailedActivity = parse(DETAILED_ACTIVITY_UNUSUAL);
    let text = serde_json::to_string(&a).unwrap();
    assert!(
        text.contains("\"id\":123456789012345678901234567890"),
        "the id is written back as an exact JSON integer: {text}"
    );
    assert!(text.contains("\"id\":9007199254740993"), "{text}");
    for unknown_key in ["effort_rating", "ai_summary", "mood_emoji", "equipment_ids"] {
        assert!(!text.contains(unknown_key), "{unknown_key} kept in {text}");
    }

    let fixture = raw(DETAILED_ACTIVITY_UNUSUAL);
    let out = raw(&text);
    assert_eq!(out["sport_type"], Value::from("Skyrunning"));
    assert_eq!(out["sport_type"], fixture["sport_type"]);
    assert_eq!(out["type"], fixture["type"]);
    assert_eq!(out["start_latlng"], Value::Array(vec![]));
    assert_eq!(out["end_latlng"], fixture["end_latlng"]);
    assert!(out.get("segment_efforts").is_none());

    let b = round_trip(&a);
    assert_eq!(b.id, a.id);
    assert_eq!(b.athlete.unwrap().id, a.athlete.unwrap().id);
    assert_eq!(b.sport_type, a.sport_type);
    assert_eq!(b.type_, a.type_);
    assert_eq!(b.start_latlng.map(|l| l.to_vec()), Some(vec![]));
}

#[test]
fn summary_activities_page_values() {
    let page: Vec<SummaryActivity> = parse(SUMMARY_ACTIVITIES_PAGE);
    assert_eq!(page.len(), 3);

    let run = &page[0];
    assert_eq!(run.sport_type, Some(SportType::Run));
    assert_eq!(run.type_, Some(ActivityType::Run));
    assert_eq!(run.workout_type, Some(3));
    assert_eq!(run.id.unwrap().to_string(), "16193310842");
    assert_eq!(coords(&run.start_latlng), Some(&[51.9224, 4.4731][..]));
    assert_eq!(run.has_kudoed, Some(true));

    let swim = &page[1];
    assert_eq!(swim.sport_type, Some(SportType::Swim));
    assert!(swim.start_latlng.as_ref().unwrap().is_empty());
    assert!(swim.end_latlng.as_ref().unwrap().is_empty());
    assert_eq!(
        swim.map.as_ref().unwrap().summary_polyline.as_deref(),
        Some("")
    );
    // An integer in the JSON is still a double.
    assert_eq!(swim.total_elevation_gain, Some(0.0));
    assert_eq!(swim.gear_id, None);

    let other = &page[2];
    assert_eq!(
        other.sport_type,
        Some(SportType::Unknown("Wingfoil".to_owned()))
    );
    assert_eq!(other.type_, Some(ActivityType::Workout));
    assert_eq!(other.elev_high, Some(429.8));

    let out = raw(&serde_json::to_string(&page).unwrap());
    let fixture = raw(SUMMARY_ACTIVITIES_PAGE);
    for i in 0..3 {
        assert_eq!(out[i]["sport_type"], fixture[i]["sport_type"], "item {i}");
        assert_eq!(out[i]["type"], fixture[i]["type"], "item {i}");
        assert_eq!(
            out[i]["start_latlng"], fixture[i]["start_latlng"],
            "item {i}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Athlete, zones, stats
// ---------------------------------------------------------------------------------------

#[test]
fn athlete_values() {
    let athlete: DetailedAthlete = parse(ATHLETE);
    assert_eq!(athlete.id, Some(Id::from(48_213_967u32)));
    assert_eq!(athlete.firstname.as_deref(), Some("Tess"));
    assert!(athlete.clubs.is_none(), "\"clubs\": null");
    assert_eq!(athlete.bikes.as_ref().map(Vec::len), Some(0));
    let shoes = athlete.shoes.as_ref().unwrap();
    assert_eq!(shoes.len(), 1);
    assert_eq!(shoes[0].id.as_deref(), Some("g20774519"));
    assert_eq!(shoes[0].distance, Some(812_409.0));
    assert_eq!(athlete.sex, None);
    assert_eq!(
        athlete.measurement_preference,
        Some(MeasurementPreference::Meters)
    );
    assert_eq!(athlete.weight, Some(68.35));
    assert_eq!(athlete.ftp, Some(248));
    assert_eq!(athlete.country.as_deref(), Some(""));
    assert_eq!(athlete.created_at, Some(date_time("2019-03-02T08:15:44Z")));

    let out = to_raw(&athlete);
    assert_eq!(out["measurement_preference"], Value::from("meters"));
    assert_eq!(out["bikes"], Value::Array(vec![]));
    assert!(out.get("clubs").is_none());
    assert!(out.get("sex").is_none());
}

#[test]
fn athlete_zones_values() {
    let zones: Zones = parse(ATHLETE_ZONES);
    let heart_rate = zones.heart_rate.as_ref().unwrap();
    assert_eq!(heart_rate.custom_zones, Some(true));
    let hr = heart_rate.zones.as_ref().unwrap();
    assert_eq!(hr.len(), 5);
    assert_eq!(hr[0].min, Some(0.0));
    assert_eq!(hr[1].max, Some(146.0));
    assert_eq!(hr[4].max, Some(-1.0), "open-ended top zone");
    let power = zones.power.as_ref().unwrap().zones.as_ref().unwrap();
    assert_eq!(power.len(), 7);
    assert_eq!(power[6].min, Some(373.0));
}

#[test]
fn athlete_stats_values() {
    let stats: ActivityStats = parse(ATHLETE_STATS);
    assert_eq!(stats.biggest_ride_distance, Some(163_208.4));
    assert_eq!(stats.biggest_climb_elevation_gain, Some(1112.7));
    let all_ride = stats.all_ride_totals.as_ref().unwrap();
    assert_eq!(all_ride.count, Some(812));
    assert_eq!(all_ride.moving_time, Some(3600.0));
    assert_eq!(all_ride.elapsed_time, Some(3600.0));
    assert_eq!(all_ride.achievement_count, None);
    let recent_ride = stats.recent_ride_totals.as_ref().unwrap();
    assert_eq!(recent_ride.distance, Some(287_400.199_999_999_95));
    assert_eq!(recent_ride.achievement_count, Some(11));
    let all_run = stats.all_run_totals.as_ref().unwrap();
    assert_eq!(all_run.distance, Some(4_310_028.699_999_997));
    assert_eq!(all_run.elevation_gain, Some(20_377.000_000_000_04));
    let ytd_swim = stats.ytd_swim_totals.as_ref().unwrap();
    assert_eq!(ytd_swim.moving_time, Some(27_100.0));
    assert_eq!(ytd_swim.elevation_gain, Some(0.0));
}

#[test]
fn activity_zones_values() {
    let zones: Vec<ActivityZone> = parse(ACTIVITY_ZONES);
    assert_eq!(zones.len(), 3);

    let hr = &zones[0];
    assert_eq!(hr.type_, Some(ActivityZoneType::Heartrate));
    assert_eq!(hr.score, Some(92.0));
    assert_eq!(hr.points, Some(38));
    assert_eq!(hr.max, Some(176));
    let buckets = hr.distribution_buckets.as_ref().unwrap();
    assert_eq!(buckets.len(), 5);
    assert_eq!(buckets[0].min, Some(0.0));
    assert_eq!(buckets[0].max, Some(118.0));
    assert_eq!(buckets[0].time, Some(402.0));
    assert_eq!(buckets[4].max, Some(-1.0));

    let power = &zones[1];
    assert_eq!(power.type_, Some(ActivityZoneType::Power));
    assert_eq!(power.score, Some(148.0));
    let buckets = power.distribution_buckets.as_ref().unwrap();
    assert_eq!(buckets.len(), 6);
    assert_eq!(buckets[0].max, Some(2.5));
    assert_eq!(buckets[1].min, Some(2.5));
    assert_eq!(buckets[2].max, Some(186.25));
    assert_eq!(buckets[1].time, Some(488.0));

    let pace = &zones[2];
    assert_eq!(pace.type_, Some(ActivityZoneType::Pace));
    assert!(!pace.type_.as_ref().unwrap().is_unknown());
    assert_eq!(
        pace.distribution_buckets.as_ref().unwrap()[1].max,
        Some(3.612)
    );

    let out = raw(&serde_json::to_string(&zones).unwrap());
    assert_eq!(out[2]["type"], Value::from("pace"));
    assert_eq!(out[1]["distribution_buckets"][0]["max"], Value::from(2.5));
}

// ---------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------

#[test]
fn keyed_streams_are_typed() {
    let set: StreamSet = parse(STREAMS_KEYED);

    let time = set.time.as_ref().unwrap();
    assert_eq!(time.data.as_deref(), Some(&[0i64, 1, 2, 4, 5][..]));
    assert_eq!(time.original_size, Some(5));
    assert_eq!(time.series_type, Some(StreamSeriesType::Distance));
    assert_eq!(time.resolution, Some(StreamResolution::High));

    let latlng = set.latlng.as_ref().unwrap().data.as_ref().unwrap();
    assert_eq!(latlng.len(), 5);
    assert!(latlng.iter().all(|pair| pair.len() == 2));
    assert_eq!(latlng[1].as_slice(), &[52.084157, 5.162381]);

    let moving = set.moving.as_ref().unwrap().data.as_ref().unwrap();
    assert_eq!(moving.as_slice(), &[false, true, true, true, true]);

    assert_eq!(
        set.distance.as_ref().unwrap().data.as_deref(),
        Some(&[0.0, 4.1, 8.3, 16.9, 21.2][..])
    );
    assert_eq!(
        set.altitude.as_ref().unwrap().data.as_ref().unwrap()[3],
        2.1
    );
    assert_eq!(
        set.velocity_smooth.as_ref().unwrap().data.as_ref().unwrap()[4],
        4.24
    );
    assert_eq!(
        set.heartrate.as_ref().unwrap().data.as_ref().unwrap()[4],
        104
    );
    assert_eq!(set.cadence.as_ref().unwrap().data.as_ref().unwrap()[1], 62);
    assert_eq!(set.watts.as_ref().unwrap().data.as_ref().unwrap()[4], 201);
    assert_eq!(set.temp.as_ref().unwrap().data.as_ref().unwrap()[3], 14);
    assert_eq!(
        set.grade_smooth.as_ref().unwrap().data.as_ref().unwrap()[4],
        -0.6
    );

    // Every stream of the fixture is present and read.
    let fixture = raw(STREAMS_KEYED);
    let out = to_raw(&set);
    assert_eq!(out, fixture);
}

#[test]
fn route_streams_list_is_the_array_variant() {
    let streams: RouteStreams = parse(ROUTE_STREAMS_LIST);
    let RouteStreams::Array(list) = &streams else {
        panic!("a list of typed streams parsed as {streams:?}");
    };
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].type_, Some(StreamType::Latlng));
    assert_eq!(list[1].type_, Some(StreamType::Distance));
    assert_eq!(list[2].type_, Some(StreamType::Altitude));
    assert_eq!(list[0].original_size, Some(4));
    assert_eq!(list[0].series_type, Some(StreamSeriesType::Distance));

    let first_pair = list[0].data[0].as_array().unwrap();
    assert_eq!(first_pair.len(), 2);
    assert_eq!(first_pair[0].as_f64(), Some(52.37021));
    assert_eq!(first_pair[1].as_f64(), Some(4.89517));
    assert_eq!(list[1].data[3].as_f64(), Some(1611.25));

    assert_eq!(to_raw(&streams), raw(ROUTE_STREAMS_LIST));

    // A keyed answer is the other variant.
    let keyed: RouteStreams = parse(STREAMS_KEYED);
    assert!(matches!(keyed, RouteStreams::StreamSet(_)), "{keyed:?}");
    assert_eq!(
        check_json("RouteStreams", false, STREAMS_KEYED.as_bytes()),
        Some(Ok(()))
    );
}

// ---------------------------------------------------------------------------------------
// Faults and uploads
// ---------------------------------------------------------------------------------------

#[test]
fn fault_errors_array_and_string() {
    let unauthorized: Fault = parse(FAULT_401);
    assert_eq!(unauthorized.message.as_deref(), Some("Authorization Error"));
    let Some(FaultErrors::Array(errors)) = &unauthorized.errors else {
        panic!("401 errors should be a list: {unauthorized:?}");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].resource.as_deref(), Some("Athlete"));
    assert_eq!(errors[0].field.as_deref(), Some("access_token"));
    assert_eq!(errors[0].code.as_deref(), Some("invalid"));

    let inactive: Fault = parse(FAULT_403_INACTIVE);
    let Some(FaultErrors::Array(errors)) = &inactive.errors else {
        panic!("403 errors should be a list: {inactive:?}");
    };
    assert_eq!(errors[0].resource.as_deref(), Some("Application"));
    assert_eq!(errors[0].field.as_deref(), Some("Status"));
    assert_eq!(errors[0].code.as_deref(), Some("Inactive"));

    let limited: Fault = parse(FAULT_429_STRING_ERRORS);
    assert_eq!(limited.message.as_deref(), Some("Too Many Requests"));
    match &limited.errors {
        Some(FaultErrors::String(text)) => assert_eq!(text, "Rate Limit Exceeded"),
        other => panic!("429 errors should be a string: {other:?}"),
    }

    // Each shape is written back as it came.
    assert_eq!(
        to_raw(&limited)["errors"],
        Value::from("Rate Limit Exceeded")
    );
    assert_eq!(to_raw(&unauthorized)["errors"], raw(FAULT_401)["errors"]);
    assert_eq!(to_raw(&inactive), raw(FAULT_403_INACTIVE));
}

#[test]
fn upload_states() {
    let processing: Upload = parse(UPLOAD_PROCESSING);
    assert_eq!(processing.id, Some(Id::from(17_302_958_166u64)));
    assert_eq!(processing.id_str.as_deref(), Some("17302958166"));
    assert_eq!(processing.activity_id, None);
    assert_eq!(processing.error, None);
    assert_eq!(processing.external_id, None);
    assert_eq!(
        processing.status.as_deref(),
        Some("Your activity is still being processed.")
    );

    let ready: Upload = parse(UPLOAD_READY);
    assert_eq!(ready.activity_id, Some(Id::from(16_204_873_519u64)));
    assert_eq!(ready.error, None);
    assert_eq!(ready.status.as_deref(), Some("Your activity is ready."));

    let failed: Upload = parse(UPLOAD_ERROR);
    assert_eq!(failed.activity_id, None);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .contains("duplicate of activity")
    );
    assert_eq!(
        failed.status.as_deref(),
        Some("There was an error processing your activity.")
    );
}

// ---------------------------------------------------------------------------------------
// Routes, segments, clubs, gear, comments, explorer
// ---------------------------------------------------------------------------------------

#[test]
fn route_values() {
    let route: Route = parse(ROUTE);
    // Beyond 2^53: a float would lose the last digits.
    assert_eq!(route.id.unwrap().to_string(), "3401129876543210987");
    assert_eq!(route.id.unwrap().as_i64(), Some(3_401_129_876_543_210_987));
    assert_eq!(route.id_str.as_deref(), Some("3401129876543210987"));
    assert_eq!(route.type_, Some(1));
    assert_eq!(route.sub_type, Some(2));
    assert_eq!(route.timestamp, Some(1_749_666_002));
    assert_eq!(route.starred, Some(true));
    assert_eq!(route.distance, Some(7412.339287714321));
    assert_eq!(route.description.as_deref(), Some(""));

    let athlete = route.athlete.as_ref().unwrap();
    assert_eq!(athlete.id, Some(Id::from(48_213_967u32)));
    assert_eq!(athlete.sex, Some(stravalib::types::AthleteSex::Female));

    let map = route.map.as_ref().unwrap();
    assert_eq!(
        map.summary_polyline.as_deref(),
        Some("yps~Hya{\\ubAecBvbA~bB")
    );

    let waypoints = route.waypoints.as_ref().unwrap();
    assert_eq!(waypoints.len(), 1);
    assert_eq!(coords(&waypoints[0].latlng), Some(&[52.38104, 4.9112][..]));
    assert_eq!(
        waypoints[0].categories.as_deref(),
        Some(&["coffee".to_owned()][..])
    );
    assert_eq!(waypoints[0].distance_into_route, Some(3188.4));

    let segments = route.segments.as_ref().unwrap();
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0].activity_type, Some(SegmentActivityType::Ride));
    assert_eq!(segments[0].id, Some(Id::from(31_877_120u32)));

    let out = to_raw(&route);
    assert_eq!(out["id_str"], Value::from("3401129876543210987"));
    assert!(
        serde_json::to_string(&route)
            .unwrap()
            .contains("\"id\":3401129876543210987")
    );
}

#[test]
fn segment_values() {
    let segment: DetailedSegment = parse(SEGMENT);
    assert_eq!(segment.id, Some(Id::from(28_815_730u32)));
    assert_eq!(segment.activity_type, Some(SegmentActivityType::Ride));
    assert_eq!(segment.distance, Some(1031.9));
    assert_eq!(segment.effort_count, Some(5231));
    assert_eq!(segment.star_count, Some(14));
    assert_eq!(segment.hazardous, Some(false));
    assert_eq!(segment.total_elevation_gain, Some(4.3));
    assert_eq!(segment.created_at, Some(date_time("2021-08-30T16:41:12Z")));
    assert_eq!(segment.map.as_ref().unwrap().summary_polyline, None);
    assert_eq!(coords(&segment.end_latlng), Some(&[52.09411, 5.17982][..]));
    assert!(segment.athlete_segment_stats.is_some());
}

#[test]
fn segment_stats_carry_a_plain_pr_date() {
    // Strava sends the athlete's PR summary under `athlete_segment_stats`, in the shape of
    // SummaryPRSegmentEffort, with `pr_date` a plain date.
    let stats = raw(SEGMENT)["athlete_segment_stats"].to_string();
    assert_eq!(
        check_json("SummaryPRSegmentEffort", false, stats.as_bytes()),
        Some(Ok(()))
    );
    let pr: SummaryPrSegmentEffort = parse(&stats);
    let date: NaiveDate = pr.pr_date.unwrap();
    assert_eq!(date, NaiveDate::from_ymd_opt(2024, 5, 17).unwrap());
    assert_eq!(pr.pr_elapsed_time, Some(198));
    assert_eq!(pr.pr_activity_id, Some(Id::from(11_431_907_245u64)));
    assert_eq!(pr.effort_count, Some(23));
    assert_eq!(to_raw(&pr)["pr_date"], Value::from("2024-05-17"));

    // A date-time is not a date.
    let with_time = stats.replace("2024-05-17", "2024-05-17T08:00:00Z");
    assert!(matches!(
        check_json("SummaryPRSegmentEffort", false, with_time.as_bytes()),
        Some(Err(_))
    ));
}

/// The live API sends the PR summary (`pr_date`, `pr_elapsed_time`, ...) under
/// `athlete_segment_stats`; Strava's description had the two fields' types swapped, which
/// silently dropped the summary (corrected in openapi/).
#[test]
fn detailed_segment_keeps_the_pr_summary() {
    let segment: DetailedSegment = parse(SEGMENT);
    let stats = to_raw(&segment.athlete_segment_stats);
    assert_eq!(stats["pr_date"], Value::from("2024-05-17"), "{stats}");
    assert_eq!(stats["pr_elapsed_time"], Value::from(198), "{stats}");
}

#[test]
fn club_values() {
    let club: DetailedClub = parse(CLUB);
    assert_eq!(club.id, Some(Id::from(1_290_554u32)));
    assert_eq!(club.sport_type, Some(ClubSportType::Cycling));
    assert_eq!(club.membership, Some(ClubMembership::Member));
    assert_eq!(club.admin, Some(true));
    assert_eq!(club.owner, Some(false));
    assert_eq!(club.member_count, Some(2318));
    assert_eq!(club.following_count, Some(12));
    assert_eq!(club.url.as_deref(), Some("polderdam-gravel"));
    let types = club.activity_types.as_ref().unwrap();
    assert_eq!(types.len(), 4);
    assert_eq!(types[0], ActivityType::Ride);
    assert_eq!(types[1], ActivityType::EBikeRide);
    // GravelRide is a sport type, not a legacy activity type: kept as text.
    assert_eq!(types[3], ActivityType::Unknown("GravelRide".to_owned()));
    assert_eq!(to_raw(&club)["activity_types"], raw(CLUB)["activity_types"]);
}

#[test]
fn gear_values() {
    let gear: DetailedGear = parse(GEAR);
    assert_eq!(gear.id.as_deref(), Some("b11873402"));
    assert_eq!(gear.distance, Some(4_817_263.0));
    assert_eq!(gear.frame_type, Some(3));
    assert_eq!(gear.brand_name.as_deref(), Some("Hollandia Works"));
    assert_eq!(gear.model_name.as_deref(), Some("Dijkrover GR2"));
    assert_eq!(gear.primary, Some(true));
    assert_eq!(gear.resource_state, Some(3));
}

#[test]
fn comments_page_values() {
    let comments: Vec<Comment> = parse(COMMENTS_PAGE);
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0].id, Some(Id::from(2_301_874_456u64)));
    assert_eq!(comments[0].activity_id, Some(Id::from(16_204_873_519u64)));
    let athlete = comments[0].athlete.as_ref().unwrap();
    assert_eq!(athlete.id, None, "comment authors come without an id");
    assert_eq!(athlete.lastname.as_deref(), Some("Z."));
    assert_eq!(
        comments[1].text.as_deref(),
        Some("Next Sunday again? \u{2615}")
    );
    assert_eq!(
        comments[1].created_at,
        Some(date_time("2025-10-19T13:40:51Z"))
    );
}

#[test]
fn explorer_values() {
    let explorer: ExplorerResponse = parse(EXPLORER);
    let segments = explorer.segments.as_ref().unwrap();
    assert_eq!(segments.len(), 2);
    assert_eq!(segments[0].climb_category, Some(1));
    assert_eq!(
        segments[0].climb_category_desc,
        Some(ClimbCategoryDesc::Cat4)
    );
    assert_eq!(
        segments[1].climb_category_desc,
        Some(ClimbCategoryDesc::NotCategorized)
    );
    assert_eq!(segments[0].avg_grade, Some(6.2));
    assert_eq!(segments[0].elev_difference, Some(41.8));
    assert_eq!(segments[0].points.as_deref(), Some("_zs|Gimsj@eNiTqOqJ"));
    assert_eq!(
        coords(&segments[1].start_latlng),
        Some(&[46.7954, 7.16011][..])
    );

    let out = to_raw(&explorer);
    assert_eq!(out["segments"][0]["climb_category_desc"], Value::from("4"));
    assert_eq!(out["segments"][1]["climb_category_desc"], Value::from("NC"));
}

// ---------------------------------------------------------------------------------------
// Open enums
// ---------------------------------------------------------------------------------------

#[test]
fn open_enum_api() {
    assert_eq!(SportType::from("Run"), SportType::Run);
    assert_eq!("Padel".parse::<SportType>(), Ok(SportType::Padel));
    assert_eq!(
        "Skyrunning".parse::<SportType>(),
        Ok(SportType::Unknown("Skyrunning".to_owned()))
    );
    // Matching is exact: another spelling is not the known value.
    assert!(SportType::from("run").is_unknown());
    assert_eq!(
        SportType::from(String::from("GravelRide")),
        SportType::GravelRide
    );

    assert_eq!(SportType::GravelRide.to_string(), "GravelRide");
    assert_eq!(
        SportType::Unknown("Skyrunning".into()).to_string(),
        "Skyrunning"
    );
    assert_eq!(SportType::EMountainBikeRide.as_str(), "EMountainBikeRide");

    assert!(SportType::KNOWN_VALUES.contains(&"Run"));
    assert!(SportType::KNOWN_VALUES.contains(&"GravelRide"));
    assert!(!SportType::KNOWN_VALUES.contains(&"Skyrunning"));
    for value in SportType::KNOWN_VALUES {
        let sport = SportType::from(*value);
        assert!(!sport.is_unknown(), "{value}");
        assert_eq!(sport.as_str(), *value);
        assert_eq!(
            serde_json::to_string(&sport).unwrap(),
            format!("\"{value}\"")
        );
    }
    for value in ActivityType::KNOWN_VALUES {
        assert!(!ActivityType::from(*value).is_unknown(), "{value}");
    }

    let unknown = SportType::Unknown("Skyrunning".to_owned());
    let text = serde_json::to_string(&unknown).unwrap();
    assert_eq!(text, "\"Skyrunning\"");
    assert_eq!(serde_json::from_str::<SportType>(&text).unwrap(), unknown);
    assert_eq!(
        serde_json::from_str::<SportType>("\"Run\"").unwrap(),
        SportType::Run
    );
    assert!(serde_json::from_str::<SportType>("3").is_err());
    assert!(serde_json::from_str::<SportType>("null").is_err());

    assert_eq!(
        ClimbCategoryDesc::from("HC"),
        ClimbCategoryDesc::HorsCategorie
    );
    assert_eq!(ClimbCategoryDesc::Cat4.as_str(), "4");
    assert_eq!(StreamType::VelocitySmooth.to_string(), "velocity_smooth");
    assert_eq!(
        StreamType::from("power_balance"),
        StreamType::Unknown("power_balance".to_owned())
    );
}

// ---------------------------------------------------------------------------------------
// schemars
// ---------------------------------------------------------------------------------------

#[test]
fn detailed_activity_json_schema() {
    let schema = schemars::schema_for!(DetailedActivity);
    let json = serde_json::to_value(&schema).unwrap();
    assert!(serde_json::to_string_pretty(&schema).unwrap().len() > 1000);

    let properties = json["properties"].as_object().expect("properties");
    assert!(properties.contains_key("sport_type"));
    assert!(properties.contains_key("type"), "type_ is renamed to type");
    assert!(!properties.contains_key("type_"));

    let definitions = json["definitions"].as_object().expect("definitions");
    let sport = &definitions["SportType"];
    assert_eq!(sport["type"], Value::from("string"));
    // Open: the schema does not restrict the values to the known ones.
    assert!(sport.get("enum").is_none(), "{sport}");
    // Coordinates: any length (Strava sends `[]` without GPS), doubles, nullable.
    assert!(
        properties["start_latlng"]
            .to_string()
            .contains("#/definitions/LatLng")
    );
    let latlng = &definitions["LatLng"];
    assert_eq!(latlng["items"]["format"], Value::from("double"), "{latlng}");
    assert!(latlng.get("minItems").is_none(), "{latlng}");
    assert!(latlng.get("maxItems").is_none(), "{latlng}");
    assert!(definitions.contains_key("Lap"));
    assert_eq!(definitions["Id"]["type"], Value::from("integer"));

    // Every top-level key of the fixture that the type knows is described.
    let activity: DetailedActivity = parse(DETAILED_ACTIVITY);
    let known = to_raw(&activity);
    let known = known.as_object().unwrap();
    assert!(known.len() > 40, "{}", known.len());
    for key in known.keys() {
        assert!(properties.contains_key(key), "schema lacks {key}");
    }
    for key in [
        "id",
        "name",
        "distance",
        "sport_type",
        "type",
        "start_date_local",
        "start_latlng",
        "laps",
        "splits_metric",
        "segment_efforts",
        "best_efforts",
        "gear",
        "photos",
        "map",
        "workout_type",
        "description",
    ] {
        assert!(
            raw(DETAILED_ACTIVITY).get(key).is_some(),
            "fixture lacks {key}"
        );
        assert!(properties.contains_key(key), "schema lacks {key}");
    }
    // Keys the type does not know are not in the schema either.
    assert!(properties.contains_key("suffer_score"));
    assert!(!properties.contains_key("similar_activities"));
}

// ---------------------------------------------------------------------------------------
// Handwritten parameter types
// ---------------------------------------------------------------------------------------

#[test]
fn stream_keys_are_comma_joined() {
    let keys = StreamKeys::from([StreamType::Time, StreamType::Latlng]);
    assert_eq!(keys.to_string(), "time,latlng");
    assert_eq!(serde_json::to_string(&keys).unwrap(), "\"time,latlng\"");
    assert_eq!(StreamKeys::new([StreamType::Moving]).to_string(), "moving");
    assert_eq!(StreamKeys::default().to_string(), "");
    let all = StreamKeys::all();
    assert_eq!(all.as_slice().len(), StreamType::KNOWN_VALUES.len());
    assert!(all.to_string().starts_with("time,distance,latlng"));
    assert_eq!(
        StreamKeys::from(vec![StreamType::Unknown("power_balance".into())]).to_string(),
        "power_balance"
    );
}

#[test]
fn explore_bounds_validate_and_format() {
    let bounds = ExploreBounds::new(46.79, 7.14, 46.81, 7.17).unwrap();
    assert_eq!(bounds.to_string(), "46.79,7.14,46.81,7.17");
    assert_eq!(bounds.south_west(), (46.79, 7.14));
    assert_eq!(bounds.north_east(), (46.81, 7.17));
    assert_eq!(
        ExploreBounds::new(-33.9, -70.7, -33.4, -70.5)
            .unwrap()
            .to_string(),
        "-33.9,-70.7,-33.4,-70.5"
    );

    assert!(matches!(
        ExploreBounds::new(91.0, 7.14, 46.81, 7.17),
        Err(InvalidBounds::OutOfRange { name: "sw_lat", .. })
    ));
    assert!(matches!(
        ExploreBounds::new(46.79, 7.14, 46.81, 180.5),
        Err(InvalidBounds::OutOfRange { name: "ne_lng", .. })
    ));
    assert!(matches!(
        ExploreBounds::new(f64::NAN, 7.14, 46.81, 7.17),
        Err(InvalidBounds::OutOfRange { .. })
    ));
    assert!(matches!(
        ExploreBounds::new(46.81, 7.14, 46.79, 7.17),
        Err(InvalidBounds::Inverted { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Id
// ---------------------------------------------------------------------------------------

#[test]
fn id_parsing() {
    for bad in ["-1", "abc", "", " ", "1.5", "+7", "12a"] {
        assert!(bad.parse::<Id>().is_err(), "{bad:?} accepted");
    }
    let max = "9".repeat(38);
    assert_eq!(max.parse::<Id>().unwrap().to_string(), max);
    assert!("9".repeat(40).parse::<Id>().is_err());
    assert_eq!(
        "123456789012345678901234567890"
            .parse::<Id>()
            .unwrap()
            .get(),
        123_456_789_012_345_678_901_234_567_890u128
    );

    assert!(Id::try_from(-1i64).is_err());
    assert_eq!(Id::try_from(42i64).unwrap(), Id::from(42u8));
    assert_eq!(Id::try_from(i64::MAX).unwrap().as_i64(), Some(i64::MAX));
}

#[test]
fn id_serde() {
    assert!(serde_json::from_str::<Id>("1.5").is_err());
    assert!(serde_json::from_str::<Id>("-3").is_err());
    assert_eq!(serde_json::from_str::<Id>("42").unwrap(), Id::from(42u8));
    // Through a `serde_json::Value`, an integral float is accepted and a fraction is not.
    assert_eq!(
        serde_json::from_value::<Id>(serde_json::json!(42.0)).unwrap(),
        Id::from(42u8)
    );
    assert!(serde_json::from_value::<Id>(serde_json::json!(1.5)).is_err());

    let huge: Id = serde_json::from_str("123456789012345678901234567890").unwrap();
    assert_eq!(huge.to_string(), "123456789012345678901234567890");
    assert_eq!(
        serde_json::to_string(&huge).unwrap(),
        "123456789012345678901234567890"
    );
    let small = Id::from(16_204_873_519u64);
    assert_eq!(serde_json::to_string(&small).unwrap(), "16204873519");
    assert_eq!(
        serde_json::to_value(small).unwrap(),
        Value::from(16_204_873_519u64)
    );
}

/// From JSON text an id must be an integer literal, as Strava sends ids: serde_json reads
/// a `u128` digit by digit (that keeps 30-digit ids exact), so `42.0` is a clear error,
/// never a wrong id. From a `serde_json::Value`, an exact integral float is accepted.
#[test]
fn id_from_float_text_is_an_error_not_a_wrong_id() {
    let err = serde_json::from_str::<Id>("42.0").unwrap_err();
    assert!(err.to_string().contains("trailing characters"), "{err}");
    assert!(serde_json::from_str::<stravalib::types::MetaAthlete>(r#"{"id": 42.0}"#).is_err());
    assert_eq!(
        serde_json::from_value::<Id>(serde_json::json!(42.0)).unwrap(),
        Id::from(42u8)
    );
}
