//! Activity streams: generated lazily from an activity's seed, or taken from a parsed
//! file (uploads).

use rand::Rng;

use super::geo::{self, Track};
pub(crate) use super::points::RecordedPoint;
use super::world::{self, Core, Family, Sport, World};

/// Every stream of an activity, index-aligned. `None` for what the activity lacks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Streams {
    pub(crate) time: Vec<i64>,
    pub(crate) distance: Option<Vec<f64>>,
    pub(crate) latlng: Option<Vec<(f64, f64)>>,
    pub(crate) altitude: Option<Vec<f64>>,
    pub(crate) velocity_smooth: Option<Vec<f64>>,
    pub(crate) heartrate: Option<Vec<i64>>,
    pub(crate) cadence: Option<Vec<i64>>,
    pub(crate) watts: Option<Vec<i64>>,
    pub(crate) temp: Option<Vec<i64>>,
    pub(crate) moving: Vec<bool>,
    pub(crate) grade_smooth: Option<Vec<f64>>,
}

/// The stream types in Strava's order.
pub(crate) const STREAM_TYPES: [&str; 11] = [
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

impl Streams {
    pub(crate) fn len(&self) -> usize {
        self.time.len()
    }

    /// The data of stream `kind` as JSON, when the activity has it.
    pub(crate) fn data(
        &self,
        kind: &str,
        range: std::ops::Range<usize>,
    ) -> Option<serde_json::Value> {
        use serde_json::json;
        let r = range;
        Some(match kind {
            "time" => json!(
                self.time[r]
                    .iter()
                    .map(|t| t - self.time[0])
                    .collect::<Vec<_>>()
            ),
            "distance" => json!(
                self.distance.as_ref()?[r]
                    .iter()
                    .map(|d| geo::round(*d, 1))
                    .collect::<Vec<_>>()
            ),
            "latlng" => json!(
                self.latlng.as_ref()?[r]
                    .iter()
                    .map(|(a, b)| [geo::round(*a, 6), geo::round(*b, 6)])
                    .collect::<Vec<_>>()
            ),
            "altitude" => json!(
                self.altitude.as_ref()?[r]
                    .iter()
                    .map(|d| geo::round(*d, 1))
                    .collect::<Vec<_>>()
            ),
            "velocity_smooth" => json!(
                self.velocity_smooth.as_ref()?[r]
                    .iter()
                    .map(|d| geo::round(*d, 3))
                    .collect::<Vec<_>>()
            ),
            "heartrate" => json!(&self.heartrate.as_ref()?[r]),
            "cadence" => json!(&self.cadence.as_ref()?[r]),
            "watts" => json!(&self.watts.as_ref()?[r]),
            "temp" => json!(&self.temp.as_ref()?[r]),
            "moving" => json!(&self.moving[r]),
            "grade_smooth" => json!(
                self.grade_smooth.as_ref()?[r]
                    .iter()
                    .map(|d| geo::round(*d, 1))
                    .collect::<Vec<_>>()
            ),
            _ => return None,
        })
    }

    /// Index of the first sample at or beyond `meters`.
    pub(crate) fn index_at_distance(&self, meters: f64) -> usize {
        match &self.distance {
            Some(d) => d
                .partition_point(|x| *x < meters)
                .min(d.len().saturating_sub(1)),
            None => 0,
        }
    }
}

/// Sampling step and count of a generated activity's streams.
pub(crate) fn sampling(core: &Core) -> (i64, usize) {
    let step = if core.moving_time <= 10_800 {
        1
    } else {
        (core.moving_time + 10_799) / 10_800
    };
    let n = ((core.moving_time / step) + 1).max(2) as usize;
    (step, n)
}

/// Where a generated activity pauses: (index after which time jumps, pause seconds).
pub(crate) fn pause(core: &Core) -> Option<(usize, i64)> {
    let (_, n) = sampling(core);
    let stop = core.elapsed_time - core.moving_time;
    (stop > 0).then_some((n / 2, stop))
}

/// Time (seconds from the start) of sample `i` of a generated activity.
pub(crate) fn time_at(core: &Core, i: usize) -> i64 {
    let (step, _) = sampling(core);
    let mut t = i as i64 * step;
    if let Some((p, stop)) = pause(core)
        && i > p
    {
        t += stop;
    }
    t
}

fn grade_at(track: &Track, length: f64, u: f64) -> f64 {
    if length <= 0.0 {
        return 0.0;
    }
    track.slope(u) / length
}

/// The streams of generated activity `core`.
pub(crate) fn generate(world: &World, core: &Core) -> Streams {
    let athlete = &world.athletes[core.athlete];
    let city = athlete.city();
    let (_, n) = sampling(core);
    let pause = pause(core);
    let mut rng = world::rng(&[core.detail_seed, 0x57E]);
    let phase1 = rng.random_range(0.0..std::f64::consts::TAU);
    let phase2 = rng.random_range(0.0..std::f64::consts::TAU);
    let has_distance = core.sport.has_distance() && core.distance > 0.0;

    // Effort profile: relative speed (and intensity) per sample.
    let mut weight = Vec::with_capacity(n);
    for i in 0..n {
        let u = i as f64 / (n - 1) as f64;
        let mut w = 1.0
            + 0.12 * (std::f64::consts::TAU * 3.0 * u + phase1).sin()
            + 0.06 * (std::f64::consts::TAU * 13.0 * u + phase2).sin()
            + rng.random_range(-0.04..0.04);
        if let Some(track) = &core.track {
            let g = grade_at(track, core.distance, u);
            w *= (1.0 - 2.5 * g).clamp(0.45, 1.6);
        }
        if let Some((p, _)) = pause
            && i == p + 1
        {
            w = 0.02;
        }
        weight.push(w.max(0.02));
    }
    let time: Vec<i64> = (0..n).map(|i| time_at(core, i)).collect();
    let moving: Vec<bool> = weight.iter().map(|w| *w > 0.1).collect();

    let distance = has_distance.then(|| {
        let mut d = Vec::with_capacity(n);
        let mut acc = 0.0;
        d.push(0.0);
        for w in &weight[1..] {
            acc += w;
            d.push(acc);
        }
        let scale = core.distance / acc.max(1e-9);
        d.iter_mut().for_each(|x| *x *= scale);
        d
    });
    let velocity_smooth = distance.as_ref().map(|d| smoothed_velocity(&time, d));
    let fraction = |i: usize| -> f64 {
        match &distance {
            Some(d) if core.distance > 0.0 => d[i] / core.distance,
            _ => i as f64 / (n - 1) as f64,
        }
    };
    let latlng = core
        .track
        .as_ref()
        .map(|track| (0..n).map(|i| track.point(fraction(i))).collect::<Vec<_>>());
    let altitude = core.track.as_ref().map(|track| {
        (0..n)
            .map(|i| track.altitude(fraction(i)) + rng.random_range(-0.2..0.2))
            .collect::<Vec<_>>()
    });
    let grade_smooth = match (&altitude, &distance) {
        (Some(alt), Some(d)) => Some(grades(alt, d)),
        _ => None,
    };
    let heartrate = core.average_heartrate.map(|avg| {
        let max = core.max_heartrate.unwrap_or(athlete.max_hr);
        let swing = (max - avg) * 0.6;
        let phase = rng.random_range(0.0..std::f64::consts::TAU);
        (0..n)
            .map(|i| {
                let u = i as f64 / (n - 1) as f64;
                let warmup = 0.9 + 0.1 * (u * 8.0).min(1.0);
                let grade = grade_smooth.as_ref().map_or(0.0, |g| g[i]);
                let hr = avg * warmup
                    + swing * (std::f64::consts::TAU * 5.0 * u + phase).sin()
                    + 8.0 * (weight[i] - 1.0)
                    + 1.0 * grade
                    + 3.0 * (u - 0.5)
                    + rng.random_range(-2.0..2.0);
                hr.clamp(avg - 45.0, max).round() as i64
            })
            .collect::<Vec<_>>()
    });
    let cadence = core.average_cadence.map(|avg| {
        (0..n)
            .map(|i| {
                let grade = grade_smooth.as_ref().map_or(0.0, |g| g[i]);
                if !moving[i] || (core.sport.family() == Family::Ride && grade < -4.0) {
                    0
                } else {
                    (avg + rng.random_range(-4.0..4.0)).round().max(0.0) as i64
                }
            })
            .collect::<Vec<_>>()
    });
    let watts = match (core.average_watts, core.device_watts) {
        (Some(avg), true) => Some(
            (0..n)
                .map(|i| {
                    let grade = grade_smooth.as_ref().map_or(0.0, |g| g[i]);
                    if !moving[i] || (core.sport != Sport::VirtualRide && grade < -4.0) {
                        0
                    } else {
                        (avg * (weight[i] + 0.06 * grade) + rng.random_range(-15.0..15.0))
                            .max(0.0)
                            .round() as i64
                    }
                })
                .collect::<Vec<_>>(),
        ),
        _ => None,
    };
    let temp = (core.device_name.starts_with("Garmin") || core.device_name.starts_with("Wahoo"))
        .then(|| {
            let base = city.temperature_on(core.start);
            (0..n)
                .map(|i| {
                    let u = i as f64 / (n - 1) as f64;
                    (base + 2.0 * u + rng.random_range(-0.4..0.4)).round() as i64
                })
                .collect::<Vec<_>>()
        });
    Streams {
        time,
        distance,
        latlng,
        altitude,
        velocity_smooth,
        heartrate,
        cadence,
        watts,
        temp,
        moving,
        grade_smooth,
    }
}

/// Streams of an uploaded file's samples.
pub(crate) fn recorded(points: &[RecordedPoint]) -> Streams {
    let n = points.len();
    let time: Vec<i64> = points.iter().map(|p| p.t).collect();
    let latlng: Option<Vec<(f64, f64)>> = points.iter().map(|p| p.latlng).collect();
    let distance = match points
        .iter()
        .map(|p| p.distance)
        .collect::<Option<Vec<f64>>>()
    {
        Some(d) => Some(d),
        None => latlng.as_ref().map(|ll| cumulative(ll)),
    };
    let altitude: Option<Vec<f64>> = points.iter().map(|p| p.altitude).collect();
    let velocity_smooth = distance.as_ref().map(|d| smoothed_velocity(&time, d));
    let moving = match &velocity_smooth {
        Some(v) => v.iter().map(|x| *x > 0.3).collect(),
        None => vec![true; n],
    };
    let grade_smooth = match (&altitude, &distance) {
        (Some(a), Some(d)) => Some(grades(a, d)),
        _ => None,
    };
    let ints = |f: fn(&RecordedPoint) -> Option<f64>| -> Option<Vec<i64>> {
        points.iter().any(|p| f(p).is_some()).then(|| {
            points
                .iter()
                .map(|p| f(p).unwrap_or(0.0).round() as i64)
                .collect()
        })
    };
    Streams {
        distance,
        latlng,
        altitude,
        velocity_smooth,
        heartrate: ints(|p| p.heartrate),
        cadence: ints(|p| p.cadence),
        watts: ints(|p| p.watts),
        temp: ints(|p| p.temp),
        moving,
        grade_smooth,
        time,
    }
}

/// Streams along a segment or route track: distance, latlng, altitude.
pub(crate) fn along(track: &Track, length: f64, n: usize) -> Streams {
    let n = n.max(2);
    let latlng: Vec<(f64, f64)> = (0..n)
        .map(|i| track.point(i as f64 / (n - 1) as f64))
        .collect();
    let altitude: Vec<f64> = (0..n)
        .map(|i| track.altitude(i as f64 / (n - 1) as f64))
        .collect();
    let mut distance = cumulative(&latlng);
    let total = distance.last().copied().unwrap_or(0.0);
    if total > 0.0 {
        distance.iter_mut().for_each(|d| *d *= length / total);
    }
    Streams {
        time: (0..n as i64).collect(),
        grade_smooth: Some(grades(&altitude, &distance)),
        distance: Some(distance),
        latlng: Some(latlng),
        altitude: Some(altitude),
        moving: vec![true; n],
        ..Streams::default()
    }
}

/// Cumulative distance along points.
pub(crate) fn cumulative(points: &[(f64, f64)]) -> Vec<f64> {
    let mut out = Vec::with_capacity(points.len());
    let mut acc = 0.0;
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            acc += geo::haversine(points[i - 1], *p);
        }
        out.push(acc);
    }
    out
}

fn smooth(values: &[f64], half: usize) -> Vec<f64> {
    let n = values.len();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for v in values {
        prefix.push(prefix.last().unwrap_or(&0.0) + v);
    }
    (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
            (prefix[b] - prefix[a]) / (b - a) as f64
        })
        .collect()
}

fn grades(altitude: &[f64], distance: &[f64]) -> Vec<f64> {
    let n = altitude.len();
    (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(5), (i + 5).min(n - 1));
            let dd = distance[b] - distance[a];
            if dd < 1.0 {
                0.0
            } else {
                (100.0 * (altitude[b] - altitude[a]) / dd).clamp(-35.0, 35.0)
            }
        })
        .collect()
}

/// Total climbing of an altitude series, ignoring noise below `threshold` meters.
pub(crate) fn climbing(altitude: &[f64], threshold: f64) -> f64 {
    let mut gain = 0.0;
    let mut anchor = match altitude.first() {
        Some(a) => *a,
        None => return 0.0,
    };
    for &a in altitude {
        if a > anchor + threshold {
            gain += a - anchor;
            anchor = a;
        } else if a < anchor - threshold {
            anchor = a;
        }
    }
    gain
}

/// Speed between consecutive samples in m/s (0 for the first), smoothed like Strava's
/// `velocity_smooth`.
fn smoothed_velocity(time: &[i64], distance: &[f64]) -> Vec<f64> {
    let raw: Vec<f64> = (0..time.len().min(distance.len()))
        .map(|i| {
            if i == 0 {
                0.0
            } else {
                let dt = (time[i] - time[i - 1]).max(1) as f64;
                (distance[i] - distance[i - 1]) / dt
            }
        })
        .collect();
    smooth(&raw, 3)
}
