//! The helpers users ask for (issue 5): typed units, polyline decoding and activity
//! times, on hand-built values and on models deserialized from JSON (our own fixtures in
//! `tests/fixtures/` and inline `serde_json::json!` values).

use std::time::Duration;

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::America::Los_Angeles;
use proptest::prelude::*;
use serde_json::json;

use stravalib::polyline::{self, LatLng, MapExt, PolylineError};
use stravalib::time::{ActivityTimeZone, ActivityTimes, TimeError, parse_strava_timezone};
use stravalib::types::{
    DetailedActivity, Lap, MeasurementPreference, PolylineMap, SummaryActivity,
};
use stravalib::units::{
    ActivityQuantities, Distance, Elevation, Hms, Measurement, Quantities, Speed, duration,
};

const DETAILED_ACTIVITY: &str = include_str!("fixtures/detailed_activity.json");
const SUMMARY_ACTIVITIES_PAGE: &str = include_str!("fixtures/summary_activities_page.json");

fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance} of {expected}"
    );
}

fn summary(value: serde_json::Value) -> SummaryActivity {
    serde_json::from_value(value).expect("a SummaryActivity")
}

fn detailed_fixture() -> DetailedActivity {
    serde_json::from_str(DETAILED_ACTIVITY).expect("the fixture is a DetailedActivity")
}

fn east(seconds: i32) -> FixedOffset {
    FixedOffset::east_opt(seconds).unwrap()
}

fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_opt(h, mi, s)
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// Units

#[test]
fn distance_conversions() {
    let ten_k = Distance::from_kilometers(10.0);
    assert_eq!(ten_k.meters(), 10_000.0);
    assert_eq!(ten_k.kilometers(), 10.0);
    assert_close(ten_k.miles(), 6.2137, 5e-5);
    assert_close(ten_k.feet(), 32_808.399, 1e-3);
    assert_close(ten_k.yards(), 10_936.133, 1e-3);

    assert_close(Distance::from_miles(1.0).meters(), 1609.344, 1e-9);
    assert_close(Distance::from_feet(1.0).meters(), 0.3048, 1e-12);
    assert_close(Distance::from_yards(1.0).meters(), 0.9144, 1e-12);
    assert_close(Distance::from_miles(26.2188).kilometers(), 42.195, 1e-3);
    assert_eq!(Distance::from_meters(5.0).meters(), 5.0);
}

#[test]
fn speed_conversions_and_paces() {
    let speed = Speed::from_meters_per_second(3.0);
    assert_close(speed.kilometers_per_hour(), 10.8, 1e-12);
    assert_close(speed.miles_per_hour(), 6.7108, 1e-4);

    // 1000 m / 3 m/s = 333.33 s; 1609.344 m / 3 m/s = 536.45 s.
    let per_km = speed.pace_per_km().unwrap();
    let per_mile = speed.pace_per_mile().unwrap();
    assert_eq!(per_km.as_secs(), 333);
    assert_eq!(per_mile.as_secs(), 536);
    assert_eq!(
        speed.pace(Measurement::Metric).unwrap().to_string(),
        "5:33 /km"
    );
    assert_eq!(
        speed.pace(Measurement::Imperial).unwrap().to_string(),
        "8:56 /mi"
    );
    assert_eq!(
        speed.pace(Measurement::Imperial).unwrap().duration(),
        per_mile
    );

    assert_close(
        Speed::from_kilometers_per_hour(10.8).meters_per_second(),
        3.0,
        1e-12,
    );
    assert_close(
        Speed::from_miles_per_hour(60.0).meters_per_second(),
        26.8224,
        1e-9,
    );
    let from_pace = Speed::from_pace_per_km(Duration::from_secs(282)).unwrap();
    assert_close(from_pace.meters_per_second(), 1000.0 / 282.0, 1e-12);
    assert_eq!(
        from_pace.pace(Measurement::Metric).unwrap().to_string(),
        "4:42 /km"
    );
    let mile = Speed::from_pace_per_mile(Duration::from_secs(480)).unwrap();
    assert_eq!(mile.pace_per_mile().unwrap().as_secs_f64().round(), 480.0);

    let speed = Distance::from_kilometers(10.0)
        .per(Duration::from_secs(2500))
        .unwrap();
    assert_close(speed.meters_per_second(), 4.0, 1e-12);
    let half_marathon = speed.time_for(Distance::from_kilometers(21.0975)).unwrap();
    assert_close(half_marathon.as_secs_f64(), 5274.375, 1e-6);
    assert_eq!(Hms(half_marathon).to_string(), "1:27:54");
}

#[test]
fn zero_and_odd_speeds_have_no_pace() {
    assert_eq!(Speed::ZERO.pace_per_km(), None);
    assert_eq!(Speed::ZERO.pace_per_mile(), None);
    assert_eq!(Speed::ZERO.pace(Measurement::Metric), None);
    assert_eq!(Speed::from_meters_per_second(-1.0).pace_per_km(), None);
    assert_eq!(
        Speed::from_meters_per_second(f64::NAN).pace_per_mile(),
        None
    );
    assert_eq!(Speed::from_meters_per_second(1e-300).pace_per_km(), None);
    assert_eq!(Speed::from_pace_per_km(Duration::ZERO), None);
    assert_eq!(Distance::from_meters(100.0).per(Duration::ZERO), None);
    assert_eq!(Speed::ZERO.to_string(), "0.0 km/h");
}

#[test]
fn display_formats() {
    let d = Distance::from_meters(10_550.0);
    assert_eq!(d.to_string(), "10.55 km");
    assert_eq!(format!("{d:.1}"), "10.6 km");
    assert_eq!(d.display_in(Measurement::Metric).to_string(), "10.55 km");
    assert_eq!(d.display_in(Measurement::Imperial).to_string(), "6.56 mi");
    assert_eq!(
        format!("{:.3}", d.display_in(Measurement::Imperial)),
        "6.555 mi"
    );

    let climb = Elevation::from_meters(48.6);
    assert_eq!(climb.to_string(), "49 m");
    assert_eq!(format!("{climb:.1}"), "48.6 m");
    assert_eq!(
        climb.display_in(Measurement::Imperial).to_string(),
        "159 ft"
    );
    assert_close(climb.feet(), 159.4488, 1e-4);
    assert_close(Elevation::from_feet(1000.0).meters(), 304.8, 1e-9);

    let speed = Speed::from_meters_per_second(3.0);
    assert_eq!(speed.to_string(), "10.8 km/h");
    assert_eq!(
        speed.display_in(Measurement::Imperial).to_string(),
        "6.7 mph"
    );
    assert_eq!(
        format!("{:.2}", speed.display_in(Measurement::Imperial)),
        "6.71 mph"
    );

    assert_eq!(Hms(Duration::from_secs(3723)).to_string(), "1:02:03");
    assert_eq!(Hms(Duration::from_secs(59)).to_string(), "0:00:59");
    assert_eq!(Hms(Duration::from_millis(59_500)).to_string(), "0:01:00");
    assert_eq!(
        Hms(Duration::from_secs(27 * 3600 + 184)).to_string(),
        "27:03:04"
    );
    assert_eq!(duration::format_hms(Duration::ZERO), "0:00:00");

    // A pace slower than an hour per unit shows hours.
    let crawl = Speed::from_pace_per_km(Duration::from_secs(3725)).unwrap();
    assert_eq!(
        crawl.pace(Measurement::Metric).unwrap().to_string(),
        "1:02:05 /km"
    );
}

#[test]
fn seconds_to_durations() {
    assert_eq!(duration::from_seconds(2941), Duration::from_secs(2941));
    assert_eq!(duration::from_seconds(-5), Duration::ZERO);
    assert_eq!(duration::checked_from_seconds(-5), None);
    assert_eq!(
        duration::checked_from_seconds(7),
        Some(Duration::from_secs(7))
    );
    assert_eq!(duration::from_seconds_f64(1.5), Duration::from_millis(1500));
    assert_eq!(duration::from_seconds_f64(-1.5), Duration::ZERO);
    assert_eq!(duration::from_seconds_f64(f64::NAN), Duration::ZERO);
    assert_eq!(duration::from_seconds_f64(f64::INFINITY), Duration::MAX);
    assert_eq!(duration::from_seconds_f64(1e300), Duration::MAX);
}

#[test]
fn arithmetic_and_ordering() {
    let a = Distance::from_meters(400.0);
    let b = Distance::from_meters(600.0);
    assert_eq!(a + b, Distance::from_kilometers(1.0));
    assert_eq!(b - a, Distance::from_meters(200.0));
    assert_eq!(a * 2.5, Distance::from_meters(1000.0));
    assert_eq!(2.5 * a, Distance::from_meters(1000.0));
    assert_eq!(b / 2.0, Distance::from_meters(300.0));
    assert_eq!(b / a, 1.5);
    assert_eq!(-a, Distance::from_meters(-400.0));
    assert!(a < b);
    assert!(Speed::from_kilometers_per_hour(20.0) > Speed::from_meters_per_second(5.0));
    assert!(Elevation::from_feet(100.0) < Elevation::from_meters(100.0));
    let total: Distance = [a, b, a].iter().sum();
    assert_eq!(total, Distance::from_meters(1400.0));
    let total: Elevation = vec![Elevation::from_meters(1.0); 3].into_iter().sum();
    assert_eq!(total, Elevation::from_meters(3.0));
    let mut running = Speed::ZERO;
    running += Speed::from_meters_per_second(2.0);
    running -= Speed::from_meters_per_second(0.5);
    assert_eq!(running, Speed::from_meters_per_second(1.5));
    assert_eq!(a.as_elevation().as_distance(), a);
    assert_eq!(Distance::default(), Distance::ZERO);
}

#[test]
fn measurement_from_preference() {
    assert_eq!(
        Measurement::from(&MeasurementPreference::Meters),
        Measurement::Metric
    );
    assert_eq!(
        Measurement::from(MeasurementPreference::Feet),
        Measurement::Imperial
    );
    assert_eq!(
        Measurement::from(&MeasurementPreference::Unknown("furlongs".into())),
        Measurement::Metric
    );
    assert_eq!(Measurement::from_preference(None), Measurement::Metric);
    let athlete: stravalib::types::DetailedAthlete =
        serde_json::from_value(json!({"measurement_preference": "feet"})).unwrap();
    let system = Measurement::from_preference(athlete.measurement_preference.as_ref());
    assert_eq!(system, Measurement::Imperial);
    assert_eq!(
        Distance::from_kilometers(10.0)
            .display_in(system)
            .to_string(),
        "6.21 mi"
    );
}

#[test]
fn quantities_of_a_detailed_activity_laps_and_splits() {
    let activity = detailed_fixture();
    let q = activity.quantities();
    assert_eq!(q.distance, Some(Distance::from_meters(12345.678901)));
    assert_eq!(q.distance.unwrap().to_string(), "12.35 km");
    assert_eq!(q.moving_time, Some(Duration::from_secs(2941)));
    assert_eq!(Hms(q.elapsed_time.unwrap()).to_string(), "0:55:07");
    assert_eq!(q.average_speed, Some(Speed::from_meters_per_second(4.198)));
    assert_eq!(
        q.average_speed
            .unwrap()
            .pace(Measurement::Metric)
            .unwrap()
            .to_string(),
        "3:58 /km"
    );
    assert_eq!(q.max_speed, Some(Speed::from_meters_per_second(11.62)));
    assert_eq!(q.total_elevation_gain, Some(Elevation::from_meters(48.6)));
    assert!(q.elev_high.is_some() && q.elev_low.is_some());
    assert!(q.elev_high >= q.elev_low);
    assert_eq!(q.elevation_difference, None);

    let lap = &activity.laps.as_ref().unwrap()[0];
    let q = lap.quantities();
    assert_eq!(q.distance, Some(Distance::from_meters(6400.0)));
    assert_eq!(q.moving_time, Some(Duration::from_secs(1520)));
    assert_eq!(q.total_elevation_gain, Some(Elevation::from_meters(22.0)));

    let splits = activity.splits_metric.as_ref().unwrap();
    let q = splits[1].quantities();
    assert_eq!(q.elevation_difference, Some(Elevation::from_meters(-0.8)));
    assert_eq!(q.max_speed, None);
    let total: Distance = splits.iter().filter_map(|s| s.quantities().distance).sum();
    assert_close(total.meters(), 1999.5, 1e-9);

    let effort = &activity.segment_efforts.as_ref().unwrap()[0];
    assert_eq!(
        effort.quantities().elapsed_time,
        Some(Duration::from_secs(212))
    );
}

#[test]
fn quantities_of_summaries() {
    let activities: Vec<SummaryActivity> = serde_json::from_str(SUMMARY_ACTIVITIES_PAGE).unwrap();
    for activity in &activities {
        let q = activity.quantities();
        assert_eq!(q.distance.map(|d| d.meters()), activity.distance);
        assert_eq!(
            q.moving_time.map(|t| t.as_secs() as i64),
            activity.moving_time
        );
    }

    let empty = summary(json!({}));
    assert_eq!(empty.quantities(), ActivityQuantities::default());
    // A negative time (never sent by Strava) is absent, not a panic or a huge duration.
    let odd = summary(json!({"moving_time": -3, "average_speed": 0.0}));
    assert_eq!(odd.quantities().moving_time, None);
    assert_eq!(odd.quantities().average_speed.unwrap().pace_per_km(), None);
}

// ---------------------------------------------------------------------------------------
// Polylines

const GOOGLE_EXAMPLE: &str = "_p~iF~ps|U_ulLnnqC_mqNvxq`@";

#[test]
fn decodes_googles_example() {
    let points = polyline::decode(GOOGLE_EXAMPLE).unwrap();
    assert_eq!(
        points,
        [
            LatLng::new(38.5, -120.2),
            LatLng::new(40.7, -120.95),
            LatLng::new(43.252, -126.453),
        ]
    );
    assert_eq!(polyline::encode(&points, 5).unwrap(), GOOGLE_EXAMPLE);
    assert_eq!(polyline::encode(points, 5).unwrap(), GOOGLE_EXAMPLE);
    assert_eq!(polyline::decode("").unwrap(), []);
    assert_eq!(polyline::encode(Vec::<LatLng>::new(), 5).unwrap(), "");
}

#[test]
fn precision_six() {
    let points = [LatLng::new(52.123456, 4.654321), LatLng::new(-33.9, 151.2)];
    let encoded = polyline::encode(points, 6).unwrap();
    let decoded = polyline::decode_with_precision(&encoded, 6).unwrap();
    for (a, b) in points.iter().zip(&decoded) {
        assert_close(a.lat, b.lat, 1e-9);
        assert_close(a.lng, b.lng, 1e-9);
    }
    // Read at the wrong precision, the same text is ten times larger: off the globe.
    assert!(matches!(
        polyline::decode(&encoded),
        Err(PolylineError::CoordinateOutOfRange { index: 0, .. })
    ));
    assert_eq!(
        polyline::decode_with_precision(GOOGLE_EXAMPLE, 11),
        Err(PolylineError::InvalidPrecision(11))
    );
    assert_eq!(
        polyline::encode(points, 11),
        Err(PolylineError::InvalidPrecision(11))
    );
}

#[test]
fn decode_errors_carry_offsets() {
    // "_p~iF" is a latitude, "~ps|U" a longitude.
    let err = polyline::decode("_p~iF~ps|U!").unwrap_err();
    assert_eq!(
        err,
        PolylineError::InvalidCharacter {
            character: '!',
            offset: 10
        }
    );
    assert_eq!(err.offset(), Some(10));
    assert_eq!(err.to_string(), "invalid polyline character '!' at byte 10");

    assert_eq!(
        polyline::decode("_p~iF~ps|"),
        Err(PolylineError::Truncated {
            offset: 9,
            missing: "longitude"
        })
    );
    assert_eq!(
        polyline::decode("_p~iF"),
        Err(PolylineError::Truncated {
            offset: 5,
            missing: "longitude"
        })
    );
    assert_eq!(
        polyline::decode("_p~iF~ps|U_"),
        Err(PolylineError::Truncated {
            offset: 11,
            missing: "latitude"
        })
    );
    // Non-ASCII: the whole character, at its byte offset.
    assert_eq!(
        polyline::decode("_p~iFé~ps|U"),
        Err(PolylineError::InvalidCharacter {
            character: 'é',
            offset: 5
        })
    );
    assert_eq!(
        polyline::decode(" _p~iF~ps|U").unwrap_err().offset(),
        Some(0)
    );
    assert_eq!(
        polyline::decode("_p~iF~ps|U\n").unwrap_err().offset(),
        Some(10)
    );
    // Fourteen chunks of one value: longer than any coordinate.
    assert_eq!(
        polyline::decode(&"~".repeat(20)),
        Err(PolylineError::ValueOverflow { offset: 0 })
    );
}

#[test]
fn out_of_range_coordinates() {
    // Two points each 80 degrees north of the last: the second is at 160.
    let step = polyline::encode([LatLng::new(80.0, 0.0)], 5).unwrap();
    let err = polyline::decode(&(step.clone() + &step)).unwrap_err();
    assert_eq!(
        err,
        PolylineError::CoordinateOutOfRange {
            index: 1,
            lat: 160.0,
            lng: 0.0
        }
    );
    assert_eq!(err.offset(), None);

    for bad in [
        LatLng::new(90.5, 0.0),
        LatLng::new(0.0, -180.1),
        LatLng::new(f64::NAN, 0.0),
        LatLng::new(0.0, f64::INFINITY),
    ] {
        let err = polyline::encode([LatLng::new(1.0, 1.0), bad], 5).unwrap_err();
        assert!(
            matches!(err, PolylineError::CoordinateOutOfRange { index: 1, .. }),
            "{err:?}"
        );
    }
}

#[test]
fn backslashes_survive_json() {
    // The fixture's polyline has `\\` in its JSON text: one backslash after serde.
    let activity = detailed_fixture();
    let map = activity.map.as_ref().unwrap();
    let full = map.polyline.as_deref().unwrap();
    assert!(full.contains('\\') && !full.contains("\\\\"));
    let points = map.decode_polyline().unwrap().unwrap();
    assert_eq!(map.best_polyline(), Some(full));
    assert_eq!(polyline::encode(&points, 5).unwrap(), full);
    for p in &points {
        assert!(
            (52.0..53.0).contains(&p.lat) && (4.0..6.0).contains(&p.lng),
            "{p}"
        );
    }
    // The summary polyline of the same activity starts at the same point.
    let summary = map.decode_summary_polyline().unwrap().unwrap();
    assert_eq!(summary[0], points[0]);

    // A polyline of one point whose longitude is encoded with a backslash.
    let point = LatLng::new(0.0, -0.00015);
    let encoded = polyline::encode([point], 5).unwrap();
    assert_eq!(encoded, "?\\");
    let json_text = r#"{"id": "a1", "summary_polyline": "?\\"}"#;
    let map: PolylineMap = serde_json::from_str(json_text).unwrap();
    assert_eq!(map.summary_polyline.as_deref(), Some("?\\"));
    assert_eq!(map.decode_polyline().unwrap().unwrap(), [point]);
    // Decoding the still-escaped JSON text instead is a different polyline entirely.
    assert_ne!(polyline::decode("?\\\\").ok(), Some(vec![point]));
}

#[test]
fn map_ext_prefers_the_full_polyline() {
    let map = |value: serde_json::Value| -> PolylineMap { serde_json::from_value(value).unwrap() };
    let both = map(json!({"polyline": GOOGLE_EXAMPLE, "summary_polyline": "??"}));
    assert_eq!(both.best_polyline(), Some(GOOGLE_EXAMPLE));
    assert_eq!(both.decode_polyline().unwrap().unwrap().len(), 3);
    assert_eq!(
        both.decode_summary_polyline().unwrap().unwrap(),
        [LatLng::new(0.0, 0.0)]
    );

    let empty_full = map(json!({"polyline": "", "summary_polyline": GOOGLE_EXAMPLE}));
    assert_eq!(empty_full.best_polyline(), Some(GOOGLE_EXAMPLE));
    let no_gps = map(json!({"summary_polyline": ""}));
    assert_eq!(no_gps.decode_polyline(), Some(Ok(vec![])));
    let only_full = map(json!({"polyline": GOOGLE_EXAMPLE}));
    assert_eq!(only_full.best_polyline(), Some(GOOGLE_EXAMPLE));
    assert_eq!(only_full.decode_summary_polyline(), None);
    let neither = map(json!({"id": "a1"}));
    assert_eq!(neither.decode_polyline(), None);
    let bad = map(json!({"summary_polyline": "_p~iF~ps|U!"}));
    assert!(matches!(
        bad.decode_polyline(),
        Some(Err(PolylineError::InvalidCharacter { offset: 10, .. }))
    ));

    // On a model's `Option<PolylineMap>` field directly.
    let activities: Vec<SummaryActivity> = serde_json::from_str(SUMMARY_ACTIVITIES_PAGE).unwrap();
    let decoded: Vec<usize> = activities
        .iter()
        .map(|a| a.map.decode_polyline().unwrap().unwrap().len())
        .collect();
    assert_eq!(decoded, [5, 0, 3]);
    assert_eq!(summary(json!({})).map.decode_polyline(), None);
    assert_eq!(summary(json!({})).map.best_polyline(), None);
}

#[test]
fn latlng_conversions() {
    let p = LatLng::new(52.1, 4.3);
    assert_eq!(<(f64, f64)>::from(p), (52.1, 4.3));
    assert_eq!(LatLng::from((52.1, 4.3)), p);
    let generated = stravalib::types::LatLng::from(p);
    assert_eq!(generated.to_vec(), vec![52.1, 4.3]);
    assert_eq!(LatLng::try_from(&generated), Ok(p));
    assert_eq!(
        LatLng::try_from(&stravalib::types::LatLng::EMPTY),
        Err(PolylineError::NotAPoint { len: 0 })
    );
    assert_eq!(p.to_string(), "52.1,4.3");
    assert_eq!(format!("{p:.3}"), "52.100,4.300");
    // start_latlng of the fixture is a real pair.
    let start = detailed_fixture().start_latlng.unwrap();
    assert!(LatLng::try_from(&start).unwrap().is_valid());
}

fn point() -> impl Strategy<Value = LatLng> {
    (-90.0f64..=90.0, -180.0f64..=180.0).prop_map(|(lat, lng)| LatLng::new(lat, lng))
}

proptest! {
    #[test]
    fn decode_never_panics_on_any_string(s in ".*") {
        let _ = polyline::decode(&s);
        let _ = polyline::decode_with_precision(&s, 6);
    }

    #[test]
    fn decode_never_panics_on_alphabet_strings(s in "[?-~]{0,64}", precision in 0u32..=12) {
        match polyline::decode_with_precision(&s, precision) {
            Ok(points) => prop_assert!(points.iter().all(LatLng::is_valid)),
            Err(err) => {
                if let Some(offset) = err.offset() {
                    prop_assert!(offset <= s.len());
                }
            }
        }
    }

    #[test]
    fn decode_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = polyline::decode(&s);
    }

    #[test]
    fn encode_decode_round_trip(points in proptest::collection::vec(point(), 0..50)) {
        let encoded = polyline::encode(&points, 5).unwrap();
        prop_assert!(encoded.bytes().all(|b| (63..=126).contains(&b)));
        let decoded = polyline::decode(&encoded).unwrap();
        prop_assert_eq!(decoded.len(), points.len());
        for (a, b) in points.iter().zip(&decoded) {
            prop_assert!((a.lat - b.lat).abs() <= 1e-5, "{} vs {}", a, b);
            prop_assert!((a.lng - b.lng).abs() <= 1e-5, "{} vs {}", a, b);
        }
        // Decoded points are on the grid, so they encode to the same text.
        prop_assert_eq!(polyline::encode(&decoded, 5).unwrap(), encoded);
    }

    #[test]
    fn round_trip_at_precision_six(points in proptest::collection::vec(point(), 0..20)) {
        let decoded = polyline::decode_with_precision(&polyline::encode(&points, 6).unwrap(), 6).unwrap();
        for (a, b) in points.iter().zip(&decoded) {
            prop_assert!((a.lat - b.lat).abs() <= 1e-6 && (a.lng - b.lng).abs() <= 1e-6);
        }
    }

    #[test]
    fn timezone_parsing_never_panics(s in ".*") {
        let _ = parse_strava_timezone(&s);
        let _ = parse_strava_timezone(&format!("(GMT{s}"));
    }

    #[test]
    fn start_times_never_panic(
        utc in proptest::option::of(-10_000_000_000i64..10_000_000_000),
        local in proptest::option::of(-10_000_000_000i64..10_000_000_000),
        zone in proptest::option::of(prop_oneof![
            Just("(GMT-08:00) America/Los_Angeles".to_owned()),
            Just("(GMT+14:00) Pacific/Kiritimati".to_owned()),
            Just("(GMT+01:00) Nowhere/Special".to_owned()),
            ".*",
        ]),
    ) {
        let stamp = |s: i64| Utc.timestamp_opt(s, 0).single().map(|d| d.to_rfc3339());
        let activity = summary(json!({
            "start_date": utc.and_then(stamp),
            "start_date_local": local.and_then(stamp),
            "timezone": zone,
        }));
        let _ = activity.start_local();
        let _ = activity.try_start_local();
        let _ = activity.utc_offset();
    }
}

// ---------------------------------------------------------------------------------------
// Times

#[test]
fn parses_strava_timezone_labels() {
    assert_eq!(
        parse_strava_timezone("(GMT-08:00) America/Los_Angeles"),
        Ok(ActivityTimeZone::Named(Los_Angeles))
    );
    assert_eq!(
        parse_strava_timezone("(GMT+00:00) Etc/UTC"),
        Ok(ActivityTimeZone::Named(chrono_tz::Etc::UTC))
    );
    let kolkata = parse_strava_timezone("(GMT+05:30) Asia/Kolkata").unwrap();
    assert_eq!(kolkata, ActivityTimeZone::Named(chrono_tz::Asia::Kolkata));
    assert_eq!(kolkata.name(), Some("Asia/Kolkata"));
    assert_eq!(kolkata.to_string(), "Asia/Kolkata");
    assert_eq!(kolkata.offset_at(Utc::now()), east(5 * 3600 + 30 * 60));
    assert_eq!(
        "(GMT+05:45) Asia/Kathmandu".parse::<ActivityTimeZone>(),
        Ok(ActivityTimeZone::Named(chrono_tz::Asia::Kathmandu))
    );
    // Bare names, ASCII case, extra spaces.
    assert_eq!(
        parse_strava_timezone("Europe/Amsterdam"),
        Ok(ActivityTimeZone::Named(chrono_tz::Europe::Amsterdam))
    );
    assert_eq!(
        parse_strava_timezone("  (GMT+01:00)   europe/amsterdam "),
        Ok(ActivityTimeZone::Named(chrono_tz::Europe::Amsterdam))
    );
    // An unknown name falls back to the label's offset.
    let fixed = parse_strava_timezone("(GMT+03:00) Mars/Olympus_Mons").unwrap();
    assert_eq!(fixed, ActivityTimeZone::Fixed(east(3 * 3600)));
    assert_eq!(fixed.name(), None);
    assert_eq!(fixed.to_string(), "+03:00");
    assert_eq!(
        parse_strava_timezone("(GMT-03:30)"),
        Ok(ActivityTimeZone::Fixed(east(-(3 * 3600 + 1800))))
    );
    assert_eq!(
        parse_strava_timezone("GMT+05:30"),
        Ok(ActivityTimeZone::Fixed(east(5 * 3600 + 1800)))
    );

    // Garbage is an error.
    for garbage in [
        "",
        "   ",
        "garbage",
        "Mars/Olympus_Mons",
        "(GMT+01:00 Europe/Paris",
        "()",
    ] {
        assert!(
            matches!(
                parse_strava_timezone(garbage),
                Err(TimeError::InvalidTimeZone { .. } | TimeError::InvalidOffset { .. })
            ),
            "{garbage:?}"
        );
    }
    assert_eq!(
        parse_strava_timezone("garbage"),
        Err(TimeError::InvalidTimeZone {
            input: "garbage".into()
        })
    );
    assert_eq!(
        parse_strava_timezone("(GMT+25:00) Europe/Paris"),
        Err(TimeError::InvalidOffset {
            input: "GMT+25:00".into()
        })
    );
    assert_eq!(
        parse_strava_timezone("(Europe) Paris"),
        Err(TimeError::InvalidOffset {
            input: "Europe".into()
        })
    );
}

#[test]
fn fixture_start_in_amsterdam_summer_time() {
    let activity = detailed_fixture();
    let utc = Utc.with_ymd_and_hms(2025, 10, 19, 7, 42, 10).unwrap();
    assert_eq!(activity.start_utc(), Some(utc));
    assert_eq!(activity.local_naive(), Some(naive(2025, 10, 19, 9, 42, 10)));
    assert_eq!(
        activity.time_zone(),
        Some(Ok(ActivityTimeZone::Named(chrono_tz::Europe::Amsterdam)))
    );
    assert_eq!(activity.utc_offset(), Some(east(2 * 3600)));

    let start = activity.start_local().unwrap();
    assert_eq!(start, utc);
    assert_eq!(start.naive_local(), naive(2025, 10, 19, 9, 42, 10));
    assert_eq!(start.offset().fix(), east(2 * 3600));
    assert_eq!(start.offset().abbreviation(), Some("CEST"));
    assert_eq!(start.to_rfc3339(), "2025-10-19T09:42:10+02:00");
    assert_eq!(start.to_string(), "2025-10-19 09:42:10 CEST");
    assert_eq!(start.timezone().name(), Some("Europe/Amsterdam"));
    assert_eq!(activity.try_start_local(), Ok(start));

    // A week later clocks have gone back: the same zone gives +01:00.
    let later = start + chrono::Duration::days(7);
    assert_eq!(later.offset().fix(), east(3600));
    assert_eq!(later.hour(), 8);

    // Laps have no timezone: Strava's own offset stands in.
    let lap: &Lap = &activity.laps.as_ref().unwrap()[0];
    assert_eq!(lap.time_zone(), None);
    assert_eq!(lap.try_start_local(), Err(TimeError::MissingTimeZone));
    let lap_start = lap.start_local().unwrap();
    assert_eq!(
        lap_start.timezone(),
        ActivityTimeZone::Fixed(east(2 * 3600))
    );
    assert_eq!(lap_start.naive_local(), naive(2025, 10, 19, 9, 42, 10));
    let effort = &activity.segment_efforts.as_ref().unwrap()[0];
    assert_eq!(effort.start_local().unwrap().offset().fix(), east(2 * 3600));
}

#[test]
fn summaries_resolve_their_zone() {
    let activities: Vec<SummaryActivity> = serde_json::from_str(SUMMARY_ACTIVITIES_PAGE).unwrap();
    for activity in &activities {
        let start = activity.try_start_local().unwrap();
        assert_eq!(Some(start.naive_local()), activity.local_naive());
        assert_eq!(Some(start.with_timezone(&Utc)), activity.start_utc());
    }
}

/// 2024-03-10: Los Angeles goes from PST (-08:00) to PDT (-07:00) at 02:00 local.
#[test]
fn us_dst_switch_in_march() {
    let la = "(GMT-08:00) America/Los_Angeles";
    let before = summary(json!({
        "start_date": "2024-03-10T09:30:00Z",
        "start_date_local": "2024-03-10T01:30:00Z",
        "timezone": la,
    }));
    let after = summary(json!({
        "start_date": "2024-03-10T10:30:00Z",
        "start_date_local": "2024-03-10T03:30:00Z",
        "timezone": la,
    }));
    let b = before.try_start_local().unwrap();
    let a = after.try_start_local().unwrap();
    assert_eq!(b.offset().fix(), east(-8 * 3600));
    assert_eq!(a.offset().fix(), east(-7 * 3600));
    assert_eq!(b.offset().abbreviation(), Some("PST"));
    assert_eq!(a.offset().abbreviation(), Some("PDT"));
    assert_eq!(b.to_rfc3339(), "2024-03-10T01:30:00-08:00");
    assert_eq!(a.to_rfc3339(), "2024-03-10T03:30:00-07:00");
    // One hour apart, though the wall clocks are two apart.
    assert_eq!(a - b, chrono::Duration::hours(1));
    assert_eq!(before.start_local(), Some(b));
    assert_eq!(after.utc_offset(), Some(east(-7 * 3600)));

    // Only the wall clock: placed in the zone by its rules.
    let local_only = summary(json!({
        "start_date_local": "2024-03-10T03:30:00Z",
        "timezone": la,
    }));
    assert_eq!(local_only.try_start_local(), Ok(a));
    assert_eq!(local_only.start_local(), Some(a));

    // 02:30 never happened that night.
    let in_gap = summary(json!({
        "start_date_local": "2024-03-10T02:30:00Z",
        "timezone": la,
    }));
    assert_eq!(
        in_gap.try_start_local(),
        Err(TimeError::NonexistentLocalTime {
            local: naive(2024, 3, 10, 2, 30, 0),
            zone: "America/Los_Angeles".into()
        })
    );
    assert_eq!(in_gap.start_local(), None);

    // 2024-11-03 01:30 happened twice: the earlier (PDT) is chosen.
    let twice = summary(json!({
        "start_date_local": "2024-11-03T01:30:00Z",
        "timezone": la,
    }));
    let start = twice.try_start_local().unwrap();
    assert_eq!(start.offset().fix(), east(-7 * 3600));
    assert_eq!(
        start.with_timezone(&Utc),
        Utc.with_ymd_and_hms(2024, 11, 3, 8, 30, 0).unwrap()
    );
    // With start_date there is no doubt: the later one.
    let second = summary(json!({
        "start_date": "2024-11-03T09:30:00Z",
        "start_date_local": "2024-11-03T01:30:00Z",
        "timezone": la,
    }));
    assert_eq!(
        second.try_start_local().unwrap().offset().fix(),
        east(-8 * 3600)
    );
}

#[test]
fn inconsistent_and_unknown_zones() {
    // An unknown zone with its standard offset, during summer time: the label's offset
    // is an hour off what Strava used for start_date_local.
    let activity = summary(json!({
        "start_date": "2025-07-01T07:00:00Z",
        "start_date_local": "2025-07-01T09:00:00Z",
        "timezone": "(GMT+01:00) Atlantis/Capital",
    }));
    assert_eq!(
        activity.time_zone(),
        Some(Ok(ActivityTimeZone::Fixed(east(3600))))
    );
    let err = activity.try_start_local().unwrap_err();
    assert_eq!(
        err,
        TimeError::Inconsistent {
            utc: Utc.with_ymd_and_hms(2025, 7, 1, 7, 0, 0).unwrap(),
            in_zone: naive(2025, 7, 1, 8, 0, 0),
            local: naive(2025, 7, 1, 9, 0, 0),
            zone: "+01:00".into(),
        }
    );
    assert!(
        err.to_string()
            .contains("start_date_local says 2025-07-01 09:00:00")
    );
    // Best effort: Strava's own offset, so the wall clock matches Strava's.
    let start = activity.start_local().unwrap();
    assert_eq!(start.timezone(), ActivityTimeZone::Fixed(east(2 * 3600)));
    assert_eq!(start.hour(), 9);
    assert_eq!(start.to_string(), "2025-07-01 09:00:00 +02:00");

    // An unparseable zone: Strava's offset too, and the error from the strict form.
    let garbage = summary(json!({
        "start_date": "2025-07-01T07:00:00Z",
        "start_date_local": "2025-07-01T09:00:00Z",
        "timezone": "somewhere",
    }));
    assert_eq!(
        garbage.start_local().unwrap().offset().fix(),
        east(2 * 3600)
    );
    assert!(matches!(
        garbage.try_start_local(),
        Err(TimeError::InvalidTimeZone { .. })
    ));

    // Only start_date and no zone: no local time to speak of.
    let utc_only = summary(json!({"start_date": "2025-07-01T07:00:00Z"}));
    assert_eq!(utc_only.start_local(), None);
    assert_eq!(utc_only.utc_offset(), None);
    assert_eq!(utc_only.try_start_local(), Err(TimeError::MissingTimeZone));

    // Nothing at all.
    let empty = summary(json!({"timezone": "(GMT+00:00) Etc/UTC"}));
    assert_eq!(empty.start_local(), None);
    assert_eq!(empty.try_start_local(), Err(TimeError::MissingStartDate));
    assert_eq!(empty.start_utc(), None);
    assert_eq!(empty.local_naive(), None);

    // A difference of more than a day is no offset.
    let far = summary(json!({
        "start_date": "2025-07-01T07:00:00Z",
        "start_date_local": "2025-07-03T09:00:00Z",
    }));
    assert_eq!(far.utc_offset(), None);
    assert_eq!(far.start_local(), None);
}

#[test]
fn activity_time_zone_is_a_chrono_time_zone() {
    let zone = ActivityTimeZone::from(Los_Angeles);
    let dt = zone.with_ymd_and_hms(2024, 7, 4, 12, 0, 0).unwrap();
    assert_eq!(dt.to_rfc3339(), "2024-07-04T12:00:00-07:00");
    let fixed = ActivityTimeZone::from(east(-3 * 3600));
    let dt2 = fixed.from_utc_datetime(&naive(2024, 7, 4, 19, 0, 0));
    assert_eq!(dt2.to_rfc3339(), "2024-07-04T16:00:00-03:00");
    assert_eq!(dt, dt2);
    assert_eq!(dt.with_timezone(&fixed).hour(), 16);
}
