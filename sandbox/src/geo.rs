//! Geometry for generated data: Google's encoded polylines, distances, and smooth
//! parametric tracks that any number of points can be sampled from.

use std::f64::consts::PI;

use rand::Rng;
use stravalib::polyline::{self, LatLng};

/// Mean Earth radius, in meters.
const EARTH_RADIUS: f64 = 6_371_008.8;
/// Meters per degree of latitude (and of longitude at the equator).
const METERS_PER_DEGREE: f64 = 111_320.0;

/// Encodes points (latitude, longitude) as a Google encoded polyline at Strava's
/// precision, with stravalib's codec. A point off the globe (only an uploaded file can
/// have one) gives an empty polyline.
pub(crate) fn encode_polyline(points: &[(f64, f64)]) -> String {
    polyline::encode(
        points.iter().map(|&(lat, lng)| LatLng::new(lat, lng)),
        polyline::STRAVA_PRECISION,
    )
    .unwrap_or_default()
}

/// Great-circle distance between two points, in meters.
pub(crate) fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS * h.sqrt().asin()
}

/// The point `east`, `north` meters away from `origin`.
pub(crate) fn offset(origin: (f64, f64), east: f64, north: f64) -> (f64, f64) {
    let lat = origin.0 + north / METERS_PER_DEGREE;
    let lng = origin.1 + east / (METERS_PER_DEGREE * origin.0.to_radians().cos().max(0.05));
    (lat, lng)
}

/// Rounds to `digits` decimals.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// The shape of a track.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// A closed loop back to the start.
    Loop,
    /// Out along a wiggly line and back the same way.
    OutAndBack,
    /// From the start to somewhere else.
    PointToPoint,
}

/// A smooth track of a given length with a smooth altitude profile, sampled at any
/// fraction `t` in `[0, 1]` of its length. Built from a few random harmonics, so a track
/// costs nothing until sampled.
#[derive(Clone, Debug)]
pub(crate) struct Track {
    start: (f64, f64),
    shape: Shape,
    /// Loop radius or line length scale, in meters.
    scale: f64,
    rotation: f64,
    harmonics: [(f64, f64); 3],
    base_altitude: f64,
    /// (amplitude m, periods over the track, phase)
    hills: [(f64, f64, f64); 3],
    /// Derived once (see [`Track::derive`]): `rotation.sin_cos()`, the wiggle at 0, and
    /// meters per degree of longitude at the start.
    rotation_sin_cos: (f64, f64),
    wiggle_at_0: f64,
    lng_meters: f64,
}

impl Track {
    /// A track of about `length` meters starting at `start`, climbing about `gain` meters
    /// in all, around `base_altitude`.
    pub(crate) fn generate(
        rng: &mut impl Rng,
        start: (f64, f64),
        length: f64,
        gain: f64,
        base_altitude: f64,
    ) -> Self {
        let shape = match rng.random_range(0..10) {
            0..=5 => Shape::Loop,
            6..=7 => Shape::OutAndBack,
            _ => Shape::PointToPoint,
        };
        let harmonics = [
            (
                rng.random_range(0.05..0.22),
                rng.random_range(0.0..2.0 * PI),
            ),
            (rng.random_range(0.02..0.1), rng.random_range(0.0..2.0 * PI)),
            (rng.random_range(0.0..0.05), rng.random_range(0.0..2.0 * PI)),
        ];
        // Path length of the shapes below relative to `scale` (the wiggles add a little).
        let scale = match shape {
            Shape::Loop => length / (2.0 * PI * 1.08),
            Shape::OutAndBack => length / 2.0 / 1.06,
            Shape::PointToPoint => length / 1.06,
        };
        // A sine of amplitude A with m whole periods climbs 2·A·m; an out-and-back climbs
        // its outward profile twice (up, then the reverse of the downs).
        let periods = [
            f64::from(rng.random_range(1..4u8)),
            f64::from(rng.random_range(3..9u8)),
            f64::from(rng.random_range(10..25u8)),
        ];
        let weights = [
            rng.random_range(0.4..0.7),
            rng.random_range(0.2..0.4),
            rng.random_range(0.05..0.15),
        ];
        let climb_per_unit: f64 = periods.iter().zip(&weights).map(|(m, w)| 2.0 * m * w).sum();
        let unit = if climb_per_unit > 0.0 {
            gain.max(0.0) / climb_per_unit
        } else {
            0.0
        };
        let hills = [
            (
                weights[0] * unit,
                periods[0],
                rng.random_range(0.0..2.0 * PI),
            ),
            (
                weights[1] * unit,
                periods[1],
                rng.random_range(0.0..2.0 * PI),
            ),
            (
                weights[2] * unit,
                periods[2],
                rng.random_range(0.0..2.0 * PI),
            ),
        ];
        Self {
            start,
            shape,
            scale,
            rotation: rng.random_range(0.0..2.0 * PI),
            harmonics,
            base_altitude,
            hills,
            rotation_sin_cos: (0.0, 1.0),
            wiggle_at_0: 0.0,
            lng_meters: 0.0,
        }
        .derive()
    }

    /// Fills in what every sample needs and is the same for all of them.
    fn derive(mut self) -> Self {
        self.rotation_sin_cos = self.rotation.sin_cos();
        self.wiggle_at_0 = self.wiggle(0.0);
        self.lng_meters = METERS_PER_DEGREE * self.start.0.to_radians().cos().max(0.05);
        self
    }

    /// The sum of the harmonics at `x`.
    fn wiggle(&self, x: f64) -> f64 {
        let h = &self.harmonics;
        h[0].0 * (2.0 * x + h[0].1).sin()
            + h[1].0 * (3.0 * x + h[1].1).sin()
            + h[2].0 * (4.0 * x + h[2].1).sin()
    }

    /// A straight-ish line of `length` meters from `start` heading `bearing` radians
    /// (clockwise from north), rising `rise` meters (for segments).
    pub(crate) fn line(
        rng: &mut impl Rng,
        start: (f64, f64),
        length: f64,
        bearing: f64,
        base_altitude: f64,
        rise: f64,
    ) -> Self {
        Self {
            start,
            shape: Shape::PointToPoint,
            scale: length / 1.02,
            rotation: PI / 2.0 - bearing,
            harmonics: [
                (rng.random_range(0.0..0.05), rng.random_range(0.0..2.0 * PI)),
                (rng.random_range(0.0..0.02), rng.random_range(0.0..2.0 * PI)),
                (0.0, 0.0),
            ],
            base_altitude,
            // A steady climb (the linear term is added in `altitude`), slightly uneven.
            hills: [
                (rise.abs() * 0.04, 2.0, rng.random_range(0.0..2.0 * PI)),
                (rise, 0.0, 0.0),
                (0.0, 0.0, 0.0),
            ],
            rotation_sin_cos: (0.0, 1.0),
            wiggle_at_0: 0.0,
            lng_meters: 0.0,
        }
        .derive()
    }

    /// Position at fraction `t` of the track.
    pub(crate) fn point(&self, t: f64) -> (f64, f64) {
        let t = t.clamp(0.0, 1.0);
        let (x, y) = match self.shape {
            Shape::Loop => {
                let theta = 2.0 * PI * t;
                let r = self.scale * (1.0 + self.wiggle(theta));
                let r0 = self.scale * (1.0 + self.wiggle_at_0);
                // A loop through the origin: circle centred at (-r(0), 0).
                let (sin, cos) = theta.sin_cos();
                (r * cos - r0, r * sin)
            }
            Shape::OutAndBack => {
                let s = if t <= 0.5 { 2.0 * t } else { 2.0 - 2.0 * t };
                let x = self.scale * s;
                (
                    x,
                    self.scale * 0.15 * (self.wiggle(s * PI) - self.wiggle_at_0),
                )
            }
            Shape::PointToPoint => {
                let x = self.scale * t;
                (
                    x,
                    self.scale * 0.12 * (self.wiggle(t * PI) - self.wiggle_at_0),
                )
            }
        };
        let (s, c) = self.rotation_sin_cos;
        let (east, north) = (x * c - y * s, x * s + y * c);
        (
            self.start.0 + north / METERS_PER_DEGREE,
            self.start.1 + east / self.lng_meters,
        )
    }

    /// Altitude at fraction `t` of the track, in meters.
    pub(crate) fn altitude(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, 1.0);
        let u = match self.shape {
            Shape::OutAndBack => {
                if t <= 0.5 {
                    t
                } else {
                    1.0 - t
                }
            }
            _ => t,
        };
        let mut alt = self.base_altitude;
        for &(amp, periods, phase) in &self.hills {
            if periods == 0.0 {
                // Linear rise (segments).
                alt += amp * u;
            } else {
                alt += amp * ((2.0 * PI * periods * u + phase).sin() - phase.sin());
            }
        }
        alt
    }

    /// Altitudes at `intervals + 1` evenly spaced fractions (`intervals` even, >= 2), as
    /// [`Track::altitude`] gives them up to rounding, with rotating unit vectors instead of
    /// sines: a few multiplications per point.
    pub(crate) fn altitude_grid(&self, intervals: usize) -> Vec<f64> {
        let intervals = (intervals.max(2) + 1) & !1;
        // An out-and-back comes back over its outward profile: compute half, mirror it.
        let mirrored = matches!(self.shape, Shape::OutAndBack);
        let count = if mirrored {
            intervals / 2 + 1
        } else {
            intervals + 1
        };
        let mut alt = vec![self.base_altitude; count];
        let out = &mut alt[..];
        for &(amp, periods, phase) in &self.hills {
            let mut k = 0;
            if periods == 0.0 {
                // Linear rise (segments).
                while k < count {
                    out[k] += amp * k as f64 / intervals as f64;
                    k += 1;
                }
                continue;
            }
            let (ds, dc) = (2.0 * PI * periods / intervals as f64).sin_cos();
            let (mut sin, mut cos) = phase.sin_cos();
            let base = sin;
            while k < count {
                out[k] += amp * (sin - base);
                (sin, cos) = (sin * dc + cos * ds, cos * dc - sin * ds);
                k += 1;
            }
        }
        if mirrored {
            let outward = alt.len();
            for k in outward..=intervals {
                alt.push(alt[intervals - k]);
            }
        }
        alt
    }

    /// `n` evenly spaced positions (n >= 2).
    pub(crate) fn sample(&self, n: usize) -> Vec<(f64, f64)> {
        let n = n.max(2);
        (0..n)
            .map(|i| self.point(i as f64 / (n - 1) as f64))
            .collect()
    }

    /// The highest and lowest altitude, from `n` samples.
    pub(crate) fn altitude_range(&self, n: usize) -> (f64, f64) {
        let n = n.max(2);
        (0..n)
            .map(|i| self.altitude(i as f64 / (n - 1) as f64))
            .fold((f64::MIN, f64::MAX), |(hi, lo), a| (hi.max(a), lo.min(a)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyline_matches_the_reference_example() {
        // Google's documented example.
        let points = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)];
        assert_eq!(encode_polyline(&points), "_p~iF~ps|U_ulLnnqC_mqNvxq`@");
        let back: Vec<(f64, f64)> = polyline::decode("_p~iF~ps|U_ulLnnqC_mqNvxq`@")
            .unwrap()
            .iter()
            .map(|p| (p.lat, p.lng))
            .collect();
        assert_eq!(back, points);
        assert_eq!(encode_polyline(&[(f64::NAN, 4.9)]), "");
        assert_eq!(encode_polyline(&[(52.1, 4.9), (91.0, 4.9)]), "");
    }

    #[test]
    fn polyline_matches_stravalibs_codec() {
        let mut rng = crate::world::rng(&[11]);
        let mut points = vec![(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0), (1e-9, -1e-9)];
        points.extend((0..2_000).map(|_| (rng.uniform(-90.0, 90.0), rng.uniform(-180.0, 180.0))));
        let mut near = (52.37, 4.89);
        for _ in 0..2_000 {
            near = (
                near.0 + rng.uniform(-1e-4, 1e-4),
                near.1 + rng.uniform(-1e-4, 1e-4),
            );
            points.push(near);
        }
        let reference = polyline::encode(
            points.iter().map(|&(lat, lng)| LatLng::new(lat, lng)),
            polyline::STRAVA_PRECISION,
        )
        .unwrap();
        assert_eq!(encode_polyline(&points), reference);
    }

    #[test]
    fn altitude_grids_follow_the_track() {
        let mut rng = crate::world::rng(&[9]);
        for _ in 0..30 {
            let track = Track::generate(&mut rng, (52.37, 4.9), 10_000.0, 150.0, 3.0);
            let grid = track.altitude_grid(512);
            assert_eq!(grid.len(), 513);
            for (k, a) in grid.iter().enumerate() {
                let exact = track.altitude(k as f64 / 512.0);
                assert!(
                    (a - exact).abs() < 1e-6,
                    "{k}: {a} {exact} {:?}",
                    track.shape
                );
            }
        }
    }

    #[test]
    fn tracks_have_about_the_requested_length() {
        let mut rng = crate::world::rng(&[7]);
        for _ in 0..20 {
            let track = Track::generate(&mut rng, (52.37, 4.9), 10_000.0, 100.0, 0.0);
            let pts = track.sample(2000);
            let len: f64 = pts.windows(2).map(|w| haversine(w[0], w[1])).sum();
            assert!(
                (7_000.0..14_000.0).contains(&len),
                "{len} {:?}",
                track.shape
            );
        }
    }
}
