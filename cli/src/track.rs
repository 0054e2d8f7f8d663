//! An activity's track, built from its streams, and the files it is exported as: GPX 1.1
//! and TCX v2 (written with quick-xml), CSV and JSON.
//!
//! GPX carries heart rate, cadence and temperature in Garmin's `TrackPointExtension` and
//! power in Garmin's `PowerExtension`, the namespaces Garmin, Strava and most tools read.
//! (The `gpx` crate, used by the tests to read the files back, cannot write extensions.)

use std::io::Write;

use anyhow::{Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::Serialize;
use stravalib::types::{DetailedActivity, Lap, StreamSet};

const GPX_NS: &str = "http://www.topografix.com/GPX/1/1";
const TPX_NS: &str = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1";
const PWR_NS: &str = "http://www.garmin.com/xmlschemas/PowerExtension/v1";
const TCX_NS: &str = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2";
const AX_NS: &str = "http://www.garmin.com/xmlschemas/ActivityExtension/v2";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const CREATOR: &str = concat!("strava-cli ", env!("CARGO_PKG_VERSION"));

/// One sample of an activity: what each stream says at one index.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sample {
    /// When (the start plus `elapsed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    /// Seconds since the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed: Option<i64>,
    /// Latitude, degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
    /// Elevation, meters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub altitude: Option<f64>,
    /// Distance from the start, meters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f64>,
    /// Heart rate, beats per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartrate: Option<i64>,
    /// Cadence, revolutions (or steps of one foot) per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cadence: Option<i64>,
    /// Power, watts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watts: Option<i64>,
    /// Temperature, degrees Celsius.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp: Option<i64>,
    /// Smoothed speed, meters per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub velocity: Option<f64>,
    /// Smoothed grade, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<f64>,
    /// Whether the athlete was moving.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moving: Option<bool>,
}

impl Sample {
    /// The position, when the sample has one.
    pub fn position(&self) -> Option<(f64, f64)> {
        Some((self.lat?, self.lng?))
    }
}

/// The CSV header of [`Sample`]s.
pub const CSV_HEADER: [&str; 13] = [
    "time",
    "elapsed_s",
    "lat",
    "lng",
    "altitude_m",
    "distance_m",
    "heartrate_bpm",
    "cadence_rpm",
    "watts",
    "temp_c",
    "velocity_mps",
    "grade_pct",
    "moving",
];

/// The samples of a stream set, each stream read at the same index; times from `start`.
pub fn samples(streams: &StreamSet, start: Option<DateTime<Utc>>) -> Vec<Sample> {
    fn data<T: Clone>(stream: Option<&Option<Vec<T>>>) -> &[T] {
        stream.and_then(Option::as_ref).map_or(&[], Vec::as_slice)
    }
    let time = data(streams.time.as_ref().map(|s| &s.data));
    let latlng = data(streams.latlng.as_ref().map(|s| &s.data));
    let altitude = data(streams.altitude.as_ref().map(|s| &s.data));
    let distance = data(streams.distance.as_ref().map(|s| &s.data));
    let heartrate = data(streams.heartrate.as_ref().map(|s| &s.data));
    let cadence = data(streams.cadence.as_ref().map(|s| &s.data));
    let watts = data(streams.watts.as_ref().map(|s| &s.data));
    let temp = data(streams.temp.as_ref().map(|s| &s.data));
    let velocity = data(streams.velocity_smooth.as_ref().map(|s| &s.data));
    let grade = data(streams.grade_smooth.as_ref().map(|s| &s.data));
    let moving = data(streams.moving.as_ref().map(|s| &s.data));
    let n = [
        time.len(),
        latlng.len(),
        altitude.len(),
        distance.len(),
        heartrate.len(),
        cadence.len(),
        watts.len(),
        temp.len(),
        velocity.len(),
        grade.len(),
        moving.len(),
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    (0..n)
        .map(|i| {
            let elapsed = time.get(i).copied();
            let pair = latlng.get(i).and_then(|p| p.pair());
            Sample {
                time: match (start, elapsed) {
                    (Some(start), Some(e)) => {
                        start.checked_add_signed(chrono::Duration::seconds(e))
                    }
                    _ => None,
                },
                elapsed,
                lat: pair.map(|p| p.0),
                lng: pair.map(|p| p.1),
                altitude: altitude.get(i).copied(),
                distance: distance.get(i).copied(),
                heartrate: heartrate.get(i).copied(),
                cadence: cadence.get(i).copied(),
                watts: watts.get(i).copied(),
                temp: temp.get(i).copied(),
                velocity: velocity.get(i).copied(),
                grade: grade.get(i).copied(),
                moving: moving.get(i).copied(),
            }
        })
        .collect()
}

/// The CSV cells of a sample, in [`CSV_HEADER`]'s order.
pub fn csv_row(s: &Sample) -> Vec<String> {
    fn opt<T: ToString>(v: Option<T>) -> String {
        v.map(|v| v.to_string()).unwrap_or_default()
    }
    vec![
        opt(s.time.map(iso)),
        opt(s.elapsed),
        opt(s.lat),
        opt(s.lng),
        opt(s.altitude),
        opt(s.distance),
        opt(s.heartrate),
        opt(s.cadence),
        opt(s.watts),
        opt(s.temp),
        opt(s.velocity),
        opt(s.grade),
        opt(s.moving),
    ]
}

/// `2026-03-10T07:30:00Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What the exports say about the activity besides its samples.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    /// The activity's name.
    pub name: String,
    /// Its sport (`Run`, `Ride`...).
    pub sport: String,
    /// When it started.
    pub start: Option<DateTime<Utc>>,
    /// Its laps (TCX writes one `Lap` each).
    pub laps: Vec<Lap>,
    /// Its calories, when known.
    pub calories: Option<f64>,
}

impl Meta {
    /// The metadata of a detailed activity.
    pub fn of(activity: &DetailedActivity) -> Self {
        Self {
            name: activity.name.clone().unwrap_or_default(),
            sport: activity
                .sport_type
                .as_ref()
                .map(|s| s.to_string())
                .or_else(|| activity.type_.as_ref().map(|t| t.to_string()))
                .unwrap_or_default(),
            start: activity.start_date,
            laps: activity.laps.clone().unwrap_or_default(),
            calories: activity.calories,
        }
    }

    fn is_run(&self) -> bool {
        let s = self.sport.to_ascii_lowercase();
        s.contains("run") || s.contains("walk") || s.contains("hike")
    }

    fn tcx_sport(&self) -> &'static str {
        let s = self.sport.to_ascii_lowercase();
        if self.is_run() {
            "Running"
        } else if s.contains("ride") || s.contains("bike") || s.contains("cycl") {
            "Biking"
        } else {
            "Other"
        }
    }
}

type XmlResult = std::result::Result<(), quick_xml::Error>;

fn text_element<W: Write>(w: &mut Writer<W>, name: &str, text: &str) -> XmlResult {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

fn start<W: Write>(w: &mut Writer<W>, element: BytesStart<'_>) -> XmlResult {
    w.write_event(Event::Start(element))?;
    Ok(())
}

fn end<W: Write>(w: &mut Writer<W>, name: &str) -> XmlResult {
    w.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

/// Decimal text of a coordinate (7 decimals: about 1 cm).
fn coordinate(v: f64) -> String {
    format!("{v:.7}")
}

/// The activity as GPX 1.1: one track, one segment, a point per sample with a position.
/// Fails when no sample has a position (an indoor activity): GPX points need one.
pub fn gpx(meta: &Meta, samples: &[Sample]) -> Result<Vec<u8>> {
    if !samples.iter().any(|s| s.position().is_some()) {
        bail!(
            "the activity has no GPS track (no position in its streams): GPX needs one; \
             try --format tcx, csv or json"
        );
    }
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    write_gpx(&mut w, meta, samples)?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

fn write_gpx<W: Write>(w: &mut Writer<W>, meta: &Meta, samples: &[Sample]) -> XmlResult {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("gpx");
    root.push_attribute(("version", "1.1"));
    root.push_attribute(("creator", CREATOR));
    root.push_attribute(("xmlns", GPX_NS));
    root.push_attribute(("xmlns:xsi", XSI_NS));
    root.push_attribute(("xmlns:gpxtpx", TPX_NS));
    root.push_attribute(("xmlns:gpxpx", PWR_NS));
    let locations = format!(
        "{GPX_NS} http://www.topografix.com/GPX/1/1/gpx.xsd \
         {TPX_NS} http://www8.garmin.com/xmlschemas/TrackPointExtensionv1.xsd \
         {PWR_NS} http://www8.garmin.com/xmlschemas/PowerExtensionv1.xsd"
    );
    root.push_attribute(("xsi:schemaLocation", locations.as_str()));
    start(w, root)?;
    start(w, BytesStart::new("metadata"))?;
    text_element(w, "name", &meta.name)?;
    if let Some(t) = meta.start {
        text_element(w, "time", &iso(t))?;
    }
    end(w, "metadata")?;
    start(w, BytesStart::new("trk"))?;
    text_element(w, "name", &meta.name)?;
    if !meta.sport.is_empty() {
        text_element(w, "type", &meta.sport)?;
    }
    start(w, BytesStart::new("trkseg"))?;
    for s in samples {
        let Some((lat, lng)) = s.position() else {
            continue;
        };
        let mut point = BytesStart::new("trkpt");
        point.push_attribute(("lat", coordinate(lat).as_str()));
        point.push_attribute(("lon", coordinate(lng).as_str()));
        start(w, point)?;
        if let Some(ele) = s.altitude {
            text_element(w, "ele", &format!("{ele:.1}"))?;
        }
        if let Some(t) = s.time {
            text_element(w, "time", &iso(t))?;
        }
        let hr = s.heartrate.filter(|v| (1..=255).contains(v));
        let cad = s.cadence.filter(|v| (0..=254).contains(v));
        let watts = s.watts.filter(|v| (0..=65_535).contains(v));
        if hr.is_some() || cad.is_some() || watts.is_some() || s.temp.is_some() {
            start(w, BytesStart::new("extensions"))?;
            if let Some(watts) = watts {
                start(w, BytesStart::new("gpxpx:PowerExtension"))?;
                text_element(w, "gpxpx:PowerInWatts", &watts.to_string())?;
                end(w, "gpxpx:PowerExtension")?;
            }
            if hr.is_some() || cad.is_some() || s.temp.is_some() {
                // The schema's order: atemp, hr, cad.
                start(w, BytesStart::new("gpxtpx:TrackPointExtension"))?;
                if let Some(temp) = s.temp {
                    text_element(w, "gpxtpx:atemp", &temp.to_string())?;
                }
                if let Some(hr) = hr {
                    text_element(w, "gpxtpx:hr", &hr.to_string())?;
                }
                if let Some(cad) = cad {
                    text_element(w, "gpxtpx:cad", &cad.to_string())?;
                }
                end(w, "gpxtpx:TrackPointExtension")?;
            }
            end(w, "extensions")?;
        }
        end(w, "trkpt")?;
    }
    end(w, "trkseg")?;
    end(w, "trk")?;
    end(w, "gpx")
}

/// The activity as TCX v2: one `Lap` per Strava lap (one for the whole activity when it
/// has none), a `Trackpoint` per sample with a time.
pub fn tcx(meta: &Meta, samples: &[Sample]) -> Result<Vec<u8>> {
    let Some(start_time) = meta.start.or_else(|| samples.iter().find_map(|s| s.time)) else {
        bail!("the activity has no start time: TCX needs one");
    };
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    write_tcx(&mut w, meta, start_time, samples)?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

/// A lap of the TCX file: a range of samples and Strava's figures for it.
struct TcxLap<'a> {
    samples: &'a [Sample],
    lap: Option<&'a Lap>,
}

/// Splits the samples at the laps' start indexes (when they are usable: increasing,
/// in range); otherwise one lap holds everything.
fn tcx_laps<'a>(meta: &'a Meta, samples: &'a [Sample]) -> Vec<TcxLap<'a>> {
    let starts: Vec<usize> = meta
        .laps
        .iter()
        .filter_map(|l| l.start_index.and_then(|i| usize::try_from(i).ok()))
        .collect();
    let usable = !starts.is_empty()
        && starts.len() == meta.laps.len()
        && starts[0] == 0
        && starts.windows(2).all(|w| w[0] < w[1])
        && starts.last().is_some_and(|&last| last < samples.len());
    if !usable {
        return vec![TcxLap { samples, lap: None }];
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &from)| {
            let to = starts.get(k + 1).copied().unwrap_or(samples.len());
            TcxLap {
                samples: &samples[from..to],
                lap: meta.laps.get(k),
            }
        })
        .collect()
}

fn write_tcx<W: Write>(
    w: &mut Writer<W>,
    meta: &Meta,
    start_time: DateTime<Utc>,
    samples: &[Sample],
) -> XmlResult {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("TrainingCenterDatabase");
    root.push_attribute(("xmlns", TCX_NS));
    root.push_attribute(("xmlns:ns3", AX_NS));
    root.push_attribute(("xmlns:xsi", XSI_NS));
    let locations =
        format!("{TCX_NS} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd");
    root.push_attribute(("xsi:schemaLocation", locations.as_str()));
    start(w, root)?;
    start(w, BytesStart::new("Activities"))?;
    let mut activity = BytesStart::new("Activity");
    activity.push_attribute(("Sport", meta.tcx_sport()));
    start(w, activity)?;
    text_element(w, "Id", &iso(start_time))?;
    let laps = tcx_laps(meta, samples);
    let total_time: f64 = laps.iter().map(|l| lap_seconds(l)).sum();
    for lap in &laps {
        let seconds = lap_seconds(lap);
        let lap_start = lap
            .lap
            .and_then(|l| l.start_date)
            .or_else(|| lap.samples.first().and_then(|s| s.time))
            .unwrap_or(start_time);
        let mut element = BytesStart::new("Lap");
        element.push_attribute(("StartTime", iso(lap_start).as_str()));
        start(w, element)?;
        text_element(w, "TotalTimeSeconds", &format!("{seconds:.1}"))?;
        let distance = lap.lap.and_then(|l| l.distance).or_else(|| {
            let first = lap.samples.iter().find_map(|s| s.distance)?;
            let last = lap.samples.iter().rev().find_map(|s| s.distance)?;
            Some(last - first)
        });
        text_element(
            w,
            "DistanceMeters",
            &format!("{:.1}", distance.unwrap_or(0.0)),
        )?;
        let max_speed = lap.lap.and_then(|l| l.max_speed).or_else(|| {
            lap.samples
                .iter()
                .filter_map(|s| s.velocity)
                .reduce(f64::max)
        });
        if let Some(max_speed) = max_speed {
            text_element(w, "MaximumSpeed", &format!("{max_speed:.3}"))?;
        }
        // Calories shared by time (Strava gives them for the whole activity only).
        let calories = match meta.calories {
            Some(c) if total_time > 0.0 => c * seconds / total_time,
            Some(c) if laps.len() == 1 => c,
            _ => 0.0,
        };
        text_element(
            w,
            "Calories",
            &format!("{}", calories.round().clamp(0.0, 65_535.0)),
        )?;
        let hrs: Vec<i64> = lap
            .samples
            .iter()
            .filter_map(|s| s.heartrate)
            .filter(|h| (1..=255).contains(h))
            .collect();
        let average_hr = lap.lap.and_then(|l| l.average_heartrate).or_else(|| {
            (!hrs.is_empty()).then(|| hrs.iter().sum::<i64>() as f64 / hrs.len() as f64)
        });
        let max_hr = lap
            .lap
            .and_then(|l| l.max_heartrate)
            .or_else(|| hrs.iter().max().map(|&h| h as f64));
        for (name, value) in [
            ("AverageHeartRateBpm", average_hr),
            ("MaximumHeartRateBpm", max_hr),
        ] {
            if let Some(v) = value
                .map(|v| v.round())
                .filter(|v| (1.0..=255.0).contains(v))
            {
                start(w, BytesStart::new(name))?;
                text_element(w, "Value", &format!("{v}"))?;
                end(w, name)?;
            }
        }
        text_element(w, "Intensity", "Active")?;
        text_element(w, "TriggerMethod", "Manual")?;
        start(w, BytesStart::new("Track"))?;
        for s in lap.samples {
            let Some(time) = s.time else { continue };
            start(w, BytesStart::new("Trackpoint"))?;
            text_element(w, "Time", &iso(time))?;
            if let Some((lat, lng)) = s.position() {
                start(w, BytesStart::new("Position"))?;
                text_element(w, "LatitudeDegrees", &coordinate(lat))?;
                text_element(w, "LongitudeDegrees", &coordinate(lng))?;
                end(w, "Position")?;
            }
            if let Some(alt) = s.altitude {
                text_element(w, "AltitudeMeters", &format!("{alt:.1}"))?;
            }
            if let Some(d) = s.distance {
                text_element(w, "DistanceMeters", &format!("{d:.1}"))?;
            }
            if let Some(hr) = s.heartrate.filter(|h| (1..=255).contains(h)) {
                start(w, BytesStart::new("HeartRateBpm"))?;
                text_element(w, "Value", &hr.to_string())?;
                end(w, "HeartRateBpm")?;
            }
            let cadence = s.cadence.filter(|c| (0..=254).contains(c));
            if !meta.is_run()
                && let Some(c) = cadence
            {
                text_element(w, "Cadence", &c.to_string())?;
            }
            let run_cadence = cadence.filter(|_| meta.is_run());
            let watts = s.watts.filter(|v| (0..=65_535).contains(v));
            if s.velocity.is_some() || run_cadence.is_some() || watts.is_some() {
                // The schema's order: Speed, RunCadence, Watts.
                start(w, BytesStart::new("Extensions"))?;
                start(w, BytesStart::new("ns3:TPX"))?;
                if let Some(v) = s.velocity {
                    text_element(w, "ns3:Speed", &format!("{v:.3}"))?;
                }
                if let Some(c) = run_cadence {
                    text_element(w, "ns3:RunCadence", &c.to_string())?;
                }
                if let Some(p) = watts {
                    text_element(w, "ns3:Watts", &p.to_string())?;
                }
                end(w, "ns3:TPX")?;
                end(w, "Extensions")?;
            }
            end(w, "Trackpoint")?;
        }
        end(w, "Track")?;
        end(w, "Lap")?;
    }
    end(w, "Activity")?;
    end(w, "Activities")?;
    end(w, "TrainingCenterDatabase")
}

/// A lap's duration: Strava's elapsed time, or the span of its samples.
fn lap_seconds(lap: &TcxLap<'_>) -> f64 {
    if let Some(t) = lap.lap.and_then(|l| l.elapsed_time) {
        return t as f64;
    }
    let first = lap.samples.iter().find_map(|s| s.elapsed);
    let last = lap.samples.iter().rev().find_map(|s| s.elapsed);
    match (first, last) {
        (Some(a), Some(b)) => (b - a) as f64,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams() -> StreamSet {
        serde_json::from_value(serde_json::json!({
            "time": {"data": [0, 5, 10]},
            "latlng": {"data": [[52.0, 4.0], [52.001, 4.001], [52.002, 4.002]]},
            "altitude": {"data": [1.0, 2.0, 3.5]},
            "distance": {"data": [0.0, 150.0, 300.0]},
            "heartrate": {"data": [120, 130, 0]},
            "watts": {"data": [200, 210, 220]},
        }))
        .unwrap()
    }

    fn meta() -> Meta {
        Meta {
            name: "Lunch <Ride> & more".into(),
            sport: "Ride".into(),
            start: Some("2026-03-10T07:30:00Z".parse().unwrap()),
            laps: Vec::new(),
            calories: Some(321.0),
        }
    }

    #[test]
    fn samples_line_up() {
        let s = samples(&streams(), meta().start);
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].position(), Some((52.001, 4.001)));
        assert_eq!(s[2].time.map(iso).as_deref(), Some("2026-03-10T07:30:10Z"));
        assert_eq!(s[0].cadence, None);
    }

    #[test]
    fn gpx_escapes_and_carries_extensions() {
        let s = samples(&streams(), meta().start);
        let text = String::from_utf8(gpx(&meta(), &s).unwrap()).unwrap();
        assert!(text.contains("Lunch &lt;Ride&gt; &amp; more"));
        assert_eq!(text.matches("<trkpt ").count(), 3);
        assert_eq!(
            text.matches("<gpxtpx:hr>").count(),
            2,
            "a zero heart rate is left out"
        );
        assert_eq!(text.matches("<gpxpx:PowerInWatts>").count(), 3);
    }

    #[test]
    fn gpx_needs_positions() {
        let mut set = streams();
        set.latlng = None;
        let s = samples(&set, meta().start);
        assert!(gpx(&meta(), &s).is_err());
        // TCX does not.
        let text = String::from_utf8(tcx(&meta(), &s).unwrap()).unwrap();
        assert_eq!(text.matches("<Trackpoint>").count(), 3);
        assert!(!text.contains("<Position>"));
    }

    #[test]
    fn tcx_laps_split_samples() {
        let mut m = meta();
        m.laps = serde_json::from_value(serde_json::json!([
            {"start_index": 0, "elapsed_time": 5, "distance": 150.0},
            {"start_index": 2, "elapsed_time": 5, "distance": 150.0}
        ]))
        .unwrap();
        let s = samples(&streams(), m.start);
        let text = String::from_utf8(tcx(&m, &s).unwrap()).unwrap();
        assert_eq!(text.matches("<Lap ").count(), 2);
        assert_eq!(text.matches("<Trackpoint>").count(), 3);
        assert!(text.contains("<Calories>161</Calories>"));
        assert!(text.contains("Sport=\"Biking\""));
    }
}
