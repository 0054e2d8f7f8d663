//! Activity streams: generated from an activity's seed, or taken from a parsed file
//! (uploads).
//!
//! A generated activity's streams come in two parts. What its detailed rendering reads
//! (time, distance, moving, altitude, heart rate) is generated at once, in one cheap pass
//! per stream; the others (latlng, velocity, cadence, watts, temperature, grade) only
//! when first asked for. Each stream draws from its own generator and depends only on the
//! first part, so a stream is the same whichever was asked for first, and the detailed
//! activity agrees with the streams served later.

use std::f64::consts::TAU;
use std::sync::OnceLock;

use super::geo::{self, Track};
pub(crate) use super::points::RecordedPoint;
use super::world::{self, Core, Family, Sport, World};

/// Every stream of an activity, index-aligned. `None` for what the activity lacks.
///
/// The first five are always there; the others are read through their methods, which
/// derive them on first use for a generated activity.
#[derive(Clone, Debug, Default)]
pub(crate) struct Streams {
    pub(crate) time: Vec<i64>,
    pub(crate) distance: Option<Vec<f64>>,
    pub(crate) altitude: Option<Vec<f64>>,
    pub(crate) heartrate: Option<Vec<i64>>,
    pub(crate) moving: Vec<bool>,
    latlng: OnceLock<Option<Vec<(f64, f64)>>>,
    velocity_smooth: OnceLock<Option<Vec<f64>>>,
    cadence: OnceLock<Option<Vec<i64>>>,
    watts: OnceLock<Option<Vec<i64>>>,
    temp: OnceLock<Option<Vec<i64>>>,
    grade_smooth: OnceLock<Option<Vec<f64>>>,
    /// A generated activity's track on a grid (see [`Path`]), made on first use.
    path: OnceLock<Path>,
    /// How a generated activity's other streams are derived (`None`: all are given).
    recipe: Option<Box<Recipe>>,
}

/// The streams that are not always derived, when they are given at once.
#[derive(Default)]
struct Given {
    latlng: Option<Vec<(f64, f64)>>,
    velocity_smooth: Option<Vec<f64>>,
    cadence: Option<Vec<i64>>,
    watts: Option<Vec<i64>>,
    temp: Option<Vec<i64>>,
    grade_smooth: Option<Vec<f64>>,
}

/// What a generated activity's on-demand streams are derived from.
#[derive(Clone, Debug)]
struct Recipe {
    track: Option<Track>,
    /// The activity's distance (the distance stream ends there).
    distance: f64,
    sport: Sport,
    average_cadence: Option<f64>,
    /// Average power, when measured by a power meter.
    average_watts: Option<f64>,
    /// The day's temperature at the start, when the device records it.
    temp_base: Option<f64>,
    detail_seed: u64,
    /// Relative effort per sample (1 = average), which speed and power follow.
    weight: Vec<f64>,
}

/// Generator salts, one per stream.
const EFFORT: u64 = 0x57E;
const ALTITUDE: u64 = 0x57E1;
const HEARTRATE: u64 = 0x57E2;
const CADENCE: u64 = 0x57E3;
const WATTS: u64 = 0x57E4;
const TEMP: u64 = 0x57E5;

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
    /// Streams with all types given.
    fn complete(
        time: Vec<i64>,
        distance: Option<Vec<f64>>,
        altitude: Option<Vec<f64>>,
        heartrate: Option<Vec<i64>>,
        moving: Vec<bool>,
        given: Given,
    ) -> Self {
        Self {
            time,
            distance,
            altitude,
            heartrate,
            moving,
            latlng: OnceLock::from(given.latlng),
            velocity_smooth: OnceLock::from(given.velocity_smooth),
            cadence: OnceLock::from(given.cadence),
            watts: OnceLock::from(given.watts),
            temp: OnceLock::from(given.temp),
            grade_smooth: OnceLock::from(given.grade_smooth),
            path: OnceLock::new(),
            recipe: None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.time.len()
    }

    /// Fraction of the track covered at sample `i`.
    fn fraction(&self, recipe: &Recipe, i: usize) -> f64 {
        match &self.distance {
            Some(d) if recipe.distance > 0.0 => d[i] / recipe.distance,
            _ => i as f64 / self.len().saturating_sub(1).max(1) as f64,
        }
    }

    /// Whether the activity has positions (without deriving them).
    pub(crate) fn has_latlng(&self) -> bool {
        match self.latlng.get() {
            Some(ll) => ll.is_some(),
            None => self.recipe.as_ref().is_some_and(|r| r.track.is_some()),
        }
    }

    /// A generated activity's track on a grid.
    fn path(&self, recipe: &Recipe, track: &Track) -> &Path {
        self.path.get_or_init(|| Path::new(track, recipe.distance))
    }

    /// Position `i`: the same as `latlng()[i]`, without deriving the others.
    pub(crate) fn latlng_at(&self, i: usize) -> Option<(f64, f64)> {
        match (self.latlng.get(), &self.recipe) {
            (Some(ll), _) => ll.as_ref().map(|ll| ll[i]),
            (None, Some(r)) => {
                let track = r.track.as_ref()?;
                Some(self.path(r, track).point(self.fraction(r, i)))
            }
            (None, None) => None,
        }
    }

    /// Positions (latitude, longitude).
    pub(crate) fn latlng(&self) -> Option<&[(f64, f64)]> {
        self.latlng
            .get_or_init(|| {
                let r = self.recipe.as_ref()?;
                let path = self.path(r, r.track.as_ref()?);
                Some(
                    (0..self.len())
                        .map(|i| path.point(self.fraction(r, i)))
                        .collect(),
                )
            })
            .as_deref()
    }

    /// Speed in m/s, smoothed.
    pub(crate) fn velocity_smooth(&self) -> Option<&[f64]> {
        self.velocity_smooth
            .get_or_init(|| {
                self.distance
                    .as_ref()
                    .map(|d| smoothed_velocity(&self.time, d))
            })
            .as_deref()
    }

    /// Grade in percent, smoothed.
    pub(crate) fn grade_smooth(&self) -> Option<&[f64]> {
        self.grade_smooth
            .get_or_init(|| match (&self.altitude, &self.distance) {
                (Some(a), Some(d)) => Some(grades(a, d)),
                _ => None,
            })
            .as_deref()
    }

    /// Cadence (rpm or steps per minute per foot).
    pub(crate) fn cadence(&self) -> Option<&[i64]> {
        self.cadence
            .get_or_init(|| {
                let r = self.recipe.as_ref()?;
                let avg = r.average_cadence?;
                let grade = self.grade_smooth();
                let ride = r.sport.family() == Family::Ride;
                let mut rng = world::rng(&[r.detail_seed, CADENCE]);
                Some(
                    (0..self.len())
                        .map(|i| {
                            let g = grade.map_or(0.0, |g| g[i]);
                            if !self.moving[i] || (ride && g < -4.0) {
                                0
                            } else {
                                (avg + rng.uniform(-4.0, 4.0)).round().max(0.0) as i64
                            }
                        })
                        .collect(),
                )
            })
            .as_deref()
    }

    /// Power in watts.
    pub(crate) fn watts(&self) -> Option<&[i64]> {
        self.watts
            .get_or_init(|| {
                let r = self.recipe.as_ref()?;
                let avg = r.average_watts?;
                let grade = self.grade_smooth();
                let virtual_ride = r.sport == Sport::VirtualRide;
                let mut rng = world::rng(&[r.detail_seed, WATTS]);
                Some(
                    (0..self.len())
                        .map(|i| {
                            let g = grade.map_or(0.0, |g| g[i]);
                            if !self.moving[i] || (!virtual_ride && g < -4.0) {
                                0
                            } else {
                                (avg * (r.weight[i] + 0.06 * g) + rng.uniform(-15.0, 15.0))
                                    .max(0.0)
                                    .round() as i64
                            }
                        })
                        .collect(),
                )
            })
            .as_deref()
    }

    /// Temperature in °C.
    pub(crate) fn temp(&self) -> Option<&[i64]> {
        self.temp
            .get_or_init(|| {
                let r = self.recipe.as_ref()?;
                let base = r.temp_base?;
                let mut rng = world::rng(&[r.detail_seed, TEMP]);
                let last = self.len().saturating_sub(1).max(1) as f64;
                Some(
                    (0..self.len())
                        .map(|i| {
                            let u = i as f64 / last;
                            (base + 2.0 * u + rng.uniform(-0.4, 0.4)).round() as i64
                        })
                        .collect(),
                )
            })
            .as_deref()
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
                self.latlng()?[r]
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
                self.velocity_smooth()?[r]
                    .iter()
                    .map(|d| geo::round(*d, 3))
                    .collect::<Vec<_>>()
            ),
            "heartrate" => json!(&self.heartrate.as_ref()?[r]),
            "cadence" => json!(&self.cadence()?[r]),
            "watts" => json!(&self.watts()?[r]),
            "temp" => json!(&self.temp()?[r]),
            "moving" => json!(&self.moving[r]),
            "grade_smooth" => json!(
                self.grade_smooth()?[r]
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

/// `x.clamp(lo, hi)` without a call (the method is one in a debug build).
#[inline(always)]
fn within(x: f64, lo: f64, hi: f64) -> f64 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// `sin(phase + k·step)` for k = 0, 1, 2, …: a rotating unit vector, so a sample costs a
/// few multiplications instead of a sine.
struct Wave {
    sin: f64,
    cos: f64,
    step: (f64, f64),
}

impl Wave {
    fn new(step: f64, phase: f64) -> Self {
        let (sin, cos) = phase.sin_cos();
        Self {
            sin,
            cos,
            step: step.sin_cos(),
        }
    }

    /// The current value; then one step on.
    #[inline(always)]
    fn next(&mut self) -> f64 {
        let value = self.sin;
        let (ds, dc) = self.step;
        (self.sin, self.cos) = (self.sin * dc + self.cos * ds, self.cos * dc - self.sin * ds);
        value
    }
}

/// A track's altitude on an even grid of its length, interpolated: a lookup per sample
/// instead of a sum of sines.
struct Profile {
    altitude: Vec<f64>,
}

impl Profile {
    /// Grid intervals: 20 or more per period of the steepest hills.
    const GRID: usize = 512;

    fn new(track: &Track) -> Self {
        Self {
            altitude: track.altitude_grid(Self::GRID),
        }
    }

    /// (grid interval, offset into it) of fraction `t`.
    #[inline(always)]
    fn locate(t: f64) -> (usize, f64) {
        let x = within(t, 0.0, 1.0) * Self::GRID as f64;
        let k = if x >= (Self::GRID - 1) as f64 {
            Self::GRID - 1
        } else {
            x as usize
        };
        (k, x - k as f64)
    }

    /// Altitude at fraction `t` of the track.
    #[inline(always)]
    fn altitude(&self, t: f64) -> f64 {
        let (k, f) = Self::locate(t);
        let (a, b) = (self.altitude[k], self.altitude[k + 1]);
        a + (b - a) * f
    }

    /// Meters of climb per unit of `t` at fraction `t`.
    #[inline(always)]
    fn slope(&self, t: f64) -> f64 {
        let (k, _) = Self::locate(t);
        (self.altitude[k + 1] - self.altitude[k]) * Self::GRID as f64
    }
}

/// A track's positions on an even grid of its length, joined by straight lines: a
/// lookup per sample instead of sines. Grid points lie about 50 m apart (at most 512 of
/// them), so the lines stay within a meter or two of the smooth track.
#[derive(Clone, Debug)]
struct Path {
    points: Vec<(f64, f64)>,
}

impl Path {
    fn new(track: &Track, length: f64) -> Self {
        let intervals = ((length / 50.0) as usize).clamp(16, 512);
        Self {
            points: track.sample(intervals + 1),
        }
    }

    /// Position at fraction `t` of the track.
    fn point(&self, t: f64) -> (f64, f64) {
        let intervals = self.points.len() - 1;
        let x = within(t, 0.0, 1.0) * intervals as f64;
        let k = if x >= (intervals - 1) as f64 {
            intervals - 1
        } else {
            x as usize
        };
        let f = x - k as f64;
        let (a, b) = (self.points[k], self.points[k + 1]);
        (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
    }
}

/// The streams of generated activity `core`: time, distance, moving, altitude and heart
/// rate now, the others when first asked for.
///
/// The loops index slices in `while` loops rather than chaining iterators: in the debug
/// builds users' test suites run in, every iterator step is a function call, and these
/// loops run for every one of up to 10,800 samples.
pub(crate) fn generate(world: &World, core: &Core) -> Streams {
    let athlete = &world.athletes[core.athlete];
    let (step, n) = sampling(core);
    let (pause_at, stop) = pause(core).unwrap_or((usize::MAX, 0));
    let last = (n - 1) as f64;
    let has_distance = core.sport.has_distance() && core.distance > 0.0;
    let profile = core.track.as_ref().map(Profile::new);
    let per_meter = if core.distance > 0.0 {
        1.0 / core.distance
    } else {
        0.0
    };

    // Effort profile: relative speed (and intensity) per sample, with a grade per sample
    // (a fraction) from the track's slope.
    let mut rng = world::rng(&[core.detail_seed, EFFORT]);
    let mut slow = Wave::new(TAU * 3.0 / last, rng.uniform(0.0, TAU));
    let mut fast = Wave::new(TAU * 13.0 / last, rng.uniform(0.0, TAU));
    let mut time = vec![0i64; n];
    let mut weight = vec![0.0f64; n];
    let mut moving = vec![false; n];
    let mut grade = vec![0.0f64; if profile.is_some() { n } else { 0 }];
    {
        let (time, weight, moving, grade) = (
            &mut time[..],
            &mut weight[..],
            &mut moving[..],
            &mut grade[..],
        );
        let mut i = 0;
        while i < n {
            let u = i as f64 / last;
            let mut w = 1.0 + 0.12 * slow.next() + 0.06 * fast.next() + rng.uniform(-0.04, 0.04);
            if let Some(p) = &profile {
                let g = p.slope(u) * per_meter;
                w *= within(1.0 - 2.5 * g, 0.45, 1.6);
                grade[i] = g;
            }
            if i == pause_at.wrapping_add(1) {
                w = 0.02;
            }
            let w = if w < 0.02 { 0.02 } else { w };
            weight[i] = w;
            moving[i] = w > 0.1;
            time[i] = i as i64 * step + if i > pause_at { stop } else { 0 };
            i += 1;
        }
    }

    let distance = has_distance.then(|| {
        let w = &weight[..];
        let mut total = 0.0;
        let mut i = 1;
        while i < n {
            total += w[i];
            i += 1;
        }
        let scale = core.distance / f64::max(total, 1e-9);
        let mut d = vec![0.0f64; n];
        let ds = &mut d[..];
        let mut acc = 0.0;
        let mut i = 1;
        while i < n {
            acc += w[i];
            ds[i] = acc * scale;
            i += 1;
        }
        d
    });
    let altitude = profile.as_ref().map(|p| {
        let mut rng = world::rng(&[core.detail_seed, ALTITUDE]);
        let mut alt = vec![0.0f64; n];
        let out = &mut alt[..];
        let d = distance.as_deref();
        let mut i = 0;
        while i < n {
            let t = match d {
                Some(d) => d[i] * per_meter,
                None => i as f64 / last,
            };
            out[i] = p.altitude(t) + rng.uniform(-0.2, 0.2);
            i += 1;
        }
        alt
    });
    let heartrate = core.average_heartrate.map(|avg| {
        let max = core.max_heartrate.unwrap_or(athlete.max_hr);
        let swing = (max - avg) * 0.6;
        let mut rng = world::rng(&[core.detail_seed, HEARTRATE]);
        let mut wave = Wave::new(TAU * 5.0 / last, rng.uniform(0.0, TAU));
        let (w, grade) = (&weight[..], &grade[..]);
        let mut hr = vec![0i64; n];
        let out = &mut hr[..];
        let mut i = 0;
        while i < n {
            let u = i as f64 / last;
            let warmup = 0.9 + 0.1 * within(u * 8.0, 0.0, 1.0);
            let g = if grade.is_empty() {
                0.0
            } else {
                within(100.0 * grade[i], -35.0, 35.0)
            };
            let x = avg * warmup
                + swing * wave.next()
                + 8.0 * (w[i] - 1.0)
                + g
                + 3.0 * (u - 0.5)
                + rng.uniform(-2.0, 2.0);
            out[i] = within(x, avg - 45.0, max).round() as i64;
            i += 1;
        }
        hr
    });
    let device = core.device_name;
    let temp_base = (device.starts_with("Garmin") || device.starts_with("Wahoo"))
        .then(|| athlete.city().temperature_on(core.start));
    Streams {
        time,
        distance,
        altitude,
        heartrate,
        moving,
        recipe: Some(Box::new(Recipe {
            track: core.track.clone(),
            distance: core.distance,
            sport: core.sport,
            average_cadence: core.average_cadence,
            average_watts: core.average_watts.filter(|_| core.device_watts),
            temp_base,
            detail_seed: core.detail_seed,
            weight,
        })),
        ..Streams::default()
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
    let heartrate = ints(|p| p.heartrate);
    Streams::complete(
        time,
        distance,
        altitude,
        heartrate,
        moving,
        Given {
            latlng,
            velocity_smooth,
            cadence: ints(|p| p.cadence),
            watts: ints(|p| p.watts),
            temp: ints(|p| p.temp),
            grade_smooth,
        },
    )
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
    let grade_smooth = Some(grades(&altitude, &distance));
    Streams::complete(
        (0..n as i64).collect(),
        Some(distance),
        Some(altitude),
        None,
        vec![true; n],
        Given {
            latlng: Some(latlng),
            grade_smooth,
            ..Given::default()
        },
    )
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
    let Some(&first) = altitude.first() else {
        return 0.0;
    };
    let mut anchor = first;
    // A `while` loop: no iterator calls per sample in a debug build.
    let mut i = 0;
    while i < altitude.len() {
        let a = altitude[i];
        if a > anchor + threshold {
            gain += a - anchor;
            anchor = a;
        } else if a < anchor - threshold {
            anchor = a;
        }
        i += 1;
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
