//! The sandbox's generated world: athletes, their activities, gear, clubs, segments and
//! routes, all derived from one seed.
//!
//! Nothing large is materialized up front. Activity `k` of athlete `a` is derived on
//! demand from `(seed, a, k)`; start times are a closed formula of `k`, increasing with
//! `k`, so paging and `before`/`after` filters are binary searches, and a world of tens of
//! thousands of activities starts as fast as one of ten.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Offset, TimeZone, Utc};
use rand::Rng;

use super::cache::Cache;
use super::geo::{self, Track};

/// First generated activity id.
pub(crate) const ACTIVITY_BASE: u64 = 14_000_000_000;
/// Segment effort ids: `EFFORT_BASE + (activity - ACTIVITY_BASE) * 4 + j`.
pub(crate) const EFFORT_BASE: u64 = 90_000_000_000;
/// Best effort ids (runs).
pub(crate) const BEST_EFFORT_BASE: u64 = 300_000_000_000;
/// Lap ids.
pub(crate) const LAP_BASE: u64 = 50_000_000_000;
/// Comment ids.
pub(crate) const COMMENT_BASE: u64 = 4_000_000_000;
/// Segment ids: `SEGMENT_BASE + index`.
pub(crate) const SEGMENT_BASE: u64 = 6_100_000;
/// Route ids: `ROUTE_BASE + athlete * 64 + j`.
pub(crate) const ROUTE_BASE: u64 = 3_300_000_000_000_000_000;
/// Club ids: `CLUB_BASE + index`.
pub(crate) const CLUB_BASE: u64 = 1_100_000;
/// Bike ids are `b{BIKE_BASE + athlete * 8 + j}`, shoes `g{SHOE_BASE + ...}`.
const BIKE_BASE: u64 = 12_000_000;
const SHOE_BASE: u64 = 18_000_000;
/// Segments per city.
pub(crate) const SEGMENTS_PER_CITY: usize = 12;

/// SplitMix64: a fast, well-mixed hash of one word.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hashes several words into one.
pub(crate) fn mix(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x5EED_0F5A_4DB0_u64, |acc, &p| splitmix(acc ^ splitmix(p)))
}

/// The generator every part of the world is drawn from: SplitMix64, a counter through a
/// strong mixer. Plenty for made-up data, and cheap in the debug builds users' test
/// suites run in (a cryptographic generator cost a third of a detailed activity there).
#[derive(Clone, Debug)]
pub(crate) struct WorldRng(u64);

impl rand::RngCore for WorldRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

impl WorldRng {
    /// A uniform value in `[lo, hi)`: the top 53 bits of a draw, scaled. Cheaper than
    /// `random_range` in a debug build, for the thousands of samples of a stream.
    #[inline(always)]
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        use rand::RngCore;
        let unit = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        lo + (hi - lo) * unit
    }
}

/// A generator for a named part of the world.
pub(crate) fn rng(parts: &[u64]) -> WorldRng {
    WorldRng(mix(parts))
}

/// Picks an item by weight.
pub(crate) fn weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut pick = rng.random_range(0..total.max(1));
    for &(item, w) in items {
        if pick < w {
            return item;
        }
        pick -= w;
    }
    items[0].0
}

/// Picks one item.
pub(crate) fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

// ---------------------------------------------------------------------------------------
// Places
// ---------------------------------------------------------------------------------------

/// A home town for athletes.
pub(crate) struct City {
    pub(crate) name: &'static str,
    pub(crate) state: &'static str,
    pub(crate) country: &'static str,
    pub(crate) center: (f64, f64),
    /// Strava's label: standard offset and zone name.
    pub(crate) tz_label: &'static str,
    pub(crate) tz: chrono_tz::Tz,
    pub(crate) altitude: f64,
    /// Climbing per meter for a typical ride here.
    pub(crate) hilliness: f64,
    /// Mean temperature, °C, and the month it peaks (1-12).
    pub(crate) temperature: (f64, u32),
}

pub(crate) const CITIES: &[City] = &[
    City {
        name: "Amsterdam",
        state: "Noord-Holland",
        country: "Netherlands",
        center: (52.3676, 4.9041),
        tz_label: "(GMT+01:00) Europe/Amsterdam",
        tz: chrono_tz::Tz::Europe__Amsterdam,
        altitude: 2.0,
        hilliness: 0.0015,
        temperature: (11.0, 7),
    },
    City {
        name: "Boulder",
        state: "Colorado",
        country: "United States",
        center: (40.015, -105.2705),
        tz_label: "(GMT-07:00) America/Denver",
        tz: chrono_tz::Tz::America__Denver,
        altitude: 1655.0,
        hilliness: 0.014,
        temperature: (11.0, 7),
    },
    City {
        name: "Girona",
        state: "Catalonia",
        country: "Spain",
        center: (41.9794, 2.8214),
        tz_label: "(GMT+01:00) Europe/Madrid",
        tz: chrono_tz::Tz::Europe__Madrid,
        altitude: 75.0,
        hilliness: 0.011,
        temperature: (15.0, 7),
    },
    City {
        name: "Wellington",
        state: "Wellington",
        country: "New Zealand",
        center: (-41.2866, 174.7756),
        tz_label: "(GMT+12:00) Pacific/Auckland",
        tz: chrono_tz::Tz::Pacific__Auckland,
        altitude: 20.0,
        hilliness: 0.012,
        temperature: (13.0, 1),
    },
    City {
        name: "Portland",
        state: "Oregon",
        country: "United States",
        center: (45.5152, -122.6784),
        tz_label: "(GMT-08:00) America/Los_Angeles",
        tz: chrono_tz::Tz::America__Los_Angeles,
        altitude: 15.0,
        hilliness: 0.008,
        temperature: (12.0, 8),
    },
    City {
        name: "Kyoto",
        state: "Kyoto",
        country: "Japan",
        center: (35.0116, 135.7681),
        tz_label: "(GMT+09:00) Asia/Tokyo",
        tz: chrono_tz::Tz::Asia__Tokyo,
        altitude: 50.0,
        hilliness: 0.009,
        temperature: (16.0, 8),
    },
    City {
        name: "Cape Town",
        state: "Western Cape",
        country: "South Africa",
        center: (-33.9249, 18.4241),
        tz_label: "(GMT+02:00) Africa/Johannesburg",
        tz: chrono_tz::Tz::Africa__Johannesburg,
        altitude: 10.0,
        hilliness: 0.010,
        temperature: (17.0, 2),
    },
    City {
        name: "Annecy",
        state: "Auvergne-Rhône-Alpes",
        country: "France",
        center: (45.8992, 6.1294),
        tz_label: "(GMT+01:00) Europe/Paris",
        tz: chrono_tz::Tz::Europe__Paris,
        altitude: 450.0,
        hilliness: 0.016,
        temperature: (11.0, 7),
    },
];

impl City {
    /// The UTC offset in seconds at `ts` (daylight saving included).
    pub(crate) fn utc_offset(&self, ts: i64) -> i32 {
        let utc = DateTime::<Utc>::from_timestamp(ts, 0).unwrap_or_default();
        self.tz
            .offset_from_utc_datetime(&utc.naive_utc())
            .fix()
            .local_minus_utc()
    }

    /// The standard (winter) offset in seconds, as in the label.
    fn standard_offset(&self) -> i64 {
        // "(GMT+01:00) ..." -> 3600
        let label = self.tz_label;
        let sign = if label.as_bytes().get(4) == Some(&b'-') {
            -1
        } else {
            1
        };
        let hours: i64 = label.get(5..7).and_then(|s| s.parse().ok()).unwrap_or(0);
        let minutes: i64 = label.get(8..10).and_then(|s| s.parse().ok()).unwrap_or(0);
        sign * (hours * 3600 + minutes * 60)
    }

    /// Typical temperature (°C) on day-of-year `doy`.
    pub(crate) fn temperature_on(&self, ts: i64) -> f64 {
        let (mean, peak_month) = self.temperature;
        let doy = (ts.rem_euclid(365 * 86_400) / 86_400) as f64;
        let peak = (f64::from(peak_month) - 0.5) * 30.4;
        mean + 8.0 * (2.0 * std::f64::consts::PI * (doy - peak) / 365.0).cos()
    }
}

// ---------------------------------------------------------------------------------------
// Sports
// ---------------------------------------------------------------------------------------

/// The sports generated activities have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Sport {
    Run,
    TrailRun,
    Ride,
    GravelRide,
    MountainBikeRide,
    VirtualRide,
    Swim,
    Walk,
    Hike,
    WeightTraining,
    Yoga,
}

/// What a sport is for stats and gear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Ride,
    Run,
    Swim,
    Other,
}

impl Sport {
    pub(crate) const ALL: [Sport; 11] = [
        Sport::Run,
        Sport::TrailRun,
        Sport::Ride,
        Sport::GravelRide,
        Sport::MountainBikeRide,
        Sport::VirtualRide,
        Sport::Swim,
        Sport::Walk,
        Sport::Hike,
        Sport::WeightTraining,
        Sport::Yoga,
    ];

    pub(crate) fn sport_type(self) -> &'static str {
        match self {
            Sport::Run => "Run",
            Sport::TrailRun => "TrailRun",
            Sport::Ride => "Ride",
            Sport::GravelRide => "GravelRide",
            Sport::MountainBikeRide => "MountainBikeRide",
            Sport::VirtualRide => "VirtualRide",
            Sport::Swim => "Swim",
            Sport::Walk => "Walk",
            Sport::Hike => "Hike",
            Sport::WeightTraining => "WeightTraining",
            Sport::Yoga => "Yoga",
        }
    }

    /// The legacy `type`.
    pub(crate) fn activity_type(self) -> &'static str {
        match self {
            Sport::Run | Sport::TrailRun => "Run",
            Sport::Ride | Sport::GravelRide | Sport::MountainBikeRide => "Ride",
            other => other.sport_type(),
        }
    }

    /// As in "Morning Run".
    pub(crate) fn label(self) -> &'static str {
        match self {
            Sport::Run => "Run",
            Sport::TrailRun => "Trail Run",
            Sport::Ride => "Ride",
            Sport::GravelRide => "Gravel Ride",
            Sport::MountainBikeRide => "Mountain Bike Ride",
            Sport::VirtualRide => "Virtual Ride",
            Sport::Swim => "Swim",
            Sport::Walk => "Walk",
            Sport::Hike => "Hike",
            Sport::WeightTraining => "Weight Training",
            Sport::Yoga => "Yoga",
        }
    }

    pub(crate) fn family(self) -> Family {
        match self {
            Sport::Ride | Sport::GravelRide | Sport::MountainBikeRide | Sport::VirtualRide => {
                Family::Ride
            }
            Sport::Run | Sport::TrailRun => Family::Run,
            Sport::Swim => Family::Swim,
            _ => Family::Other,
        }
    }

    /// Uses shoes (`false` for bikes or nothing).
    pub(crate) fn on_foot(self) -> bool {
        matches!(
            self,
            Sport::Run | Sport::TrailRun | Sport::Walk | Sport::Hike
        )
    }

    pub(crate) fn has_gps(self) -> bool {
        !matches!(
            self,
            Sport::VirtualRide | Sport::Swim | Sport::WeightTraining | Sport::Yoga
        )
    }

    pub(crate) fn has_distance(self) -> bool {
        !matches!(self, Sport::WeightTraining | Sport::Yoga)
    }

    /// (min, max) average speed in m/s.
    fn speed(self) -> (f64, f64) {
        match self {
            Sport::Run => (2.6, 4.3),
            Sport::TrailRun => (1.9, 3.2),
            Sport::Ride => (6.0, 9.8),
            Sport::GravelRide => (5.0, 7.8),
            Sport::MountainBikeRide => (3.5, 5.8),
            Sport::VirtualRide => (7.0, 10.5),
            Sport::Swim => (0.6, 1.15),
            Sport::Walk => (1.1, 1.6),
            Sport::Hike => (0.8, 1.4),
            Sport::WeightTraining | Sport::Yoga => (0.0, 0.0),
        }
    }

    /// (min, max) distance in meters; for sports without distance, (min, max) seconds.
    fn extent(self) -> (f64, f64) {
        match self {
            Sport::Run => (3_000.0, 22_000.0),
            Sport::TrailRun => (5_000.0, 32_000.0),
            Sport::Ride => (18_000.0, 140_000.0),
            Sport::GravelRide => (20_000.0, 110_000.0),
            Sport::MountainBikeRide => (10_000.0, 55_000.0),
            Sport::VirtualRide => (15_000.0, 65_000.0),
            Sport::Swim => (800.0, 4_200.0),
            Sport::Walk => (1_500.0, 9_000.0),
            Sport::Hike => (5_000.0, 24_000.0),
            Sport::WeightTraining => (1_800.0, 4_500.0),
            Sport::Yoga => (1_800.0, 5_400.0),
        }
    }

    /// Climbing per meter relative to the city's hilliness.
    fn climb_factor(self) -> f64 {
        match self {
            Sport::TrailRun => 4.0,
            Sport::MountainBikeRide => 2.2,
            Sport::Hike => 5.0,
            Sport::GravelRide => 1.2,
            Sport::Ride => 1.0,
            Sport::Run => 0.7,
            Sport::Walk => 0.5,
            Sport::VirtualRide => 0.8,
            _ => 0.0,
        }
    }

    pub(crate) fn from_sport_type(s: &str) -> Option<Sport> {
        Sport::ALL.into_iter().find(|x| x.sport_type() == s)
    }
}

/// The family of any `sport_type` string (created activities can have any).
pub(crate) fn family_of(sport_type: &str) -> Family {
    match sport_type {
        "Ride" | "GravelRide" | "MountainBikeRide" | "VirtualRide" | "EBikeRide"
        | "EMountainBikeRide" | "Velomobile" | "Handcycle" => Family::Ride,
        "Run" | "TrailRun" | "VirtualRun" => Family::Run,
        "Swim" => Family::Swim,
        _ => Family::Other,
    }
}

/// The legacy `type` for a `sport_type` string.
pub(crate) fn activity_type_of(sport_type: &str) -> String {
    match Sport::from_sport_type(sport_type) {
        Some(s) => s.activity_type().to_owned(),
        None => match sport_type {
            "EMountainBikeRide" => "EBikeRide".to_owned(),
            "VirtualRow" => "Rowing".to_owned(),
            "Badminton"
            | "Pickleball"
            | "Padel"
            | "Tennis"
            | "TableTennis"
            | "Squash"
            | "Racquetball"
            | "Basketball"
            | "Volleyball"
            | "Cricket"
            | "Dance"
            | "HighIntensityIntervalTraining"
            | "Pilates" => "Workout".to_owned(),
            // A legacy type itself (`EBikeRide`, `Rowing`...), or, for a sport type the
            // legacy list does not have, `Workout`, as Strava does.
            other if stravalib::types::ActivityType::KNOWN_VALUES.contains(&other) => {
                other.to_owned()
            }
            _ => "Workout".to_owned(),
        },
    }
}

/// "Morning", "Lunch"... from the local hour.
pub(crate) fn part_of_day(local_hour: u32) -> &'static str {
    match local_hour {
        4..=10 => "Morning",
        11..=13 => "Lunch",
        14..=17 => "Afternoon",
        18..=21 => "Evening",
        _ => "Night",
    }
}

// ---------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------

const FIRST_NAMES: &[(&str, &str)] = &[
    ("Ada", "F"),
    ("Bram", "M"),
    ("Chiara", "F"),
    ("Dev", "M"),
    ("Elin", "F"),
    ("Farid", "M"),
    ("Greta", "F"),
    ("Hugo", "M"),
    ("Ines", "F"),
    ("Jonas", "M"),
    ("Keiko", "F"),
    ("Luca", "M"),
    ("Maya", "F"),
    ("Nils", "M"),
    ("Olga", "F"),
    ("Pavel", "M"),
    ("Quinn", "F"),
    ("Rafa", "M"),
    ("Saskia", "F"),
    ("Tomas", "M"),
    ("Una", "F"),
    ("Viktor", "M"),
    ("Wren", "F"),
    ("Yusuf", "M"),
];

const LAST_NAMES: &[&str] = &[
    "Achterberg",
    "Bellweather",
    "Castellano",
    "Dunmore",
    "Eriksen",
    "Falkner",
    "Grimaldi",
    "Hollis",
    "Iversen",
    "Janssen",
    "Kowalczyk",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quist",
    "Rasmussen",
    "Sato",
    "Tamm",
    "Urquhart",
    "Varga",
    "Whitlock",
    "Yilmaz",
    "Zeller",
];

const BIKES: &[(&str, &str, i64)] = &[
    ("Canyon", "Endurace CF 7", 3),
    ("Specialized", "Tarmac SL7", 3),
    ("Trek", "Checkpoint SL 5", 5),
    ("Giant", "TCR Advanced 2", 3),
    ("Santa Cruz", "Hightower", 1),
    ("Cannondale", "Topstone Carbon", 5),
    ("BMC", "Roadmachine 01", 3),
    ("Cervélo", "Caledonia-5", 3),
];

const SHOES: &[(&str, &str)] = &[
    ("Hoka", "Clifton 9"),
    ("Brooks", "Ghost 16"),
    ("Asics", "Novablast 4"),
    ("Saucony", "Endorphin Speed 4"),
    ("Nike", "Pegasus 41"),
    ("Salomon", "Speedcross 6"),
    ("New Balance", "1080v13"),
    ("On", "Cloudmonster"),
];

/// A piece of gear.
#[derive(Clone, Debug)]
pub(crate) struct Gear {
    pub(crate) id: String,
    pub(crate) is_bike: bool,
    pub(crate) primary: bool,
    pub(crate) nickname: String,
    pub(crate) brand: &'static str,
    pub(crate) model: &'static str,
    pub(crate) frame_type: Option<i64>,
    pub(crate) distance: f64,
    pub(crate) weight: Option<f64>,
    pub(crate) retired: bool,
}

impl Gear {
    pub(crate) fn name(&self) -> String {
        if self.nickname.is_empty() {
            format!("{} {}", self.brand, self.model)
        } else {
            self.nickname.clone()
        }
    }
}

/// A generated athlete.
#[derive(Clone, Debug)]
pub(crate) struct Athlete {
    pub(crate) index: usize,
    pub(crate) id: u64,
    pub(crate) username: String,
    pub(crate) firstname: &'static str,
    pub(crate) lastname: &'static str,
    pub(crate) sex: &'static str,
    pub(crate) city: usize,
    pub(crate) home: (f64, f64),
    pub(crate) premium: bool,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) weight: f64,
    pub(crate) ftp: Option<i64>,
    pub(crate) max_hr: f64,
    pub(crate) power_meter: bool,
    pub(crate) imperial: bool,
    pub(crate) bio: String,
    pub(crate) bikes: Vec<Gear>,
    pub(crate) shoes: Vec<Gear>,
    pub(crate) clubs: Vec<usize>,
    pub(crate) follower_count: i64,
    pub(crate) friend_count: i64,
    pub(crate) routes: usize,
    /// Weights of [`Sport::ALL`] for this athlete.
    pub(crate) sports: [u32; 11],
    /// Starred segment indexes at the start.
    pub(crate) starred: Vec<usize>,
}

impl Athlete {
    pub(crate) fn city(&self) -> &'static City {
        &CITIES[self.city]
    }

    /// "Ada A." as other athletes see them.
    /// The gear Strava gives a new activity of `sport_type`: the athlete's primary shoes
    /// for sports on foot, the primary bike for rides, nothing otherwise.
    pub(crate) fn default_gear(&self, sport_type: &str) -> Option<String> {
        let on_foot = matches!(
            sport_type,
            "Run" | "TrailRun" | "VirtualRun" | "Walk" | "Hike"
        );
        let list = if on_foot {
            &self.shoes
        } else if family_of(sport_type) == Family::Ride {
            &self.bikes
        } else {
            return None;
        };
        list.iter()
            .find(|g| g.primary && !g.retired)
            .or_else(|| list.iter().find(|g| !g.retired))
            .map(|g| g.id.clone())
    }

    pub(crate) fn initial(&self) -> String {
        format!("{}.", &self.lastname[..1])
    }
}

/// A generated club.
#[derive(Clone, Debug)]
pub(crate) struct Club {
    pub(crate) id: u64,
    pub(crate) name: &'static str,
    pub(crate) sport_type: &'static str,
    /// Legacy `ActivityType` values (`Run`, `VirtualRun`...), never sport types
    /// (`TrailRun`): that is what Strava sends in a club's `activity_types`.
    pub(crate) activity_types: &'static [&'static str],
    pub(crate) city: usize,
    pub(crate) private: bool,
    pub(crate) featured: bool,
    pub(crate) verified: bool,
    pub(crate) vanity: String,
    pub(crate) description: &'static str,
    pub(crate) members: Vec<usize>,
    pub(crate) owner: Option<usize>,
}

const CLUBS: &[(&str, &str, &[&str], &str)] = &[
    (
        "Canal Cruisers CC",
        "cycling",
        &["Ride", "VirtualRide", "EBikeRide"],
        "Social rides along the water, every Sunday at nine.",
    ),
    (
        "Dawn Patrol Runners",
        "running",
        &["Run", "VirtualRun", "Wheelchair"],
        "Early miles before work. All paces welcome.",
    ),
    (
        "Gravel Grinders Collective",
        "cycling",
        &["Ride", "EBikeRide"],
        "If it has no tarmac, we ride it.",
    ),
    (
        "Harbour Swim Squad",
        "other",
        &["Swim"],
        "Open water when it is warm, the pool when it is not.",
    ),
    (
        "Ridge Line Trail Club",
        "running",
        &["Run", "Hike", "Walk"],
        "Long days in the hills.",
    ),
    (
        "Three Sports Tri Club",
        "triathlon",
        &["Swim", "Ride", "Run"],
        "Swim, bike, run, repeat.",
    ),
];

/// A generated segment.
#[derive(Clone, Debug)]
pub(crate) struct Segment {
    pub(crate) index: usize,
    pub(crate) id: u64,
    pub(crate) city: usize,
    pub(crate) name: String,
    pub(crate) ride: bool,
    pub(crate) distance: f64,
    pub(crate) average_grade: f64,
    pub(crate) maximum_grade: f64,
    pub(crate) elevation_low: f64,
    pub(crate) elevation_high: f64,
    pub(crate) climb_category: i64,
    pub(crate) track: Track,
    pub(crate) created_at: i64,
    pub(crate) effort_count: i64,
    pub(crate) athlete_count: i64,
    pub(crate) star_count: i64,
    pub(crate) hazardous: bool,
}

impl Segment {
    pub(crate) fn start(&self) -> (f64, f64) {
        self.track.point(0.0)
    }

    pub(crate) fn end(&self) -> (f64, f64) {
        self.track.point(1.0)
    }

    pub(crate) fn activity_type(&self) -> &'static str {
        if self.ride { "Ride" } else { "Run" }
    }
}

/// Strava's climb category from distance and grade.
fn climb_category(distance: f64, grade: f64) -> i64 {
    let score = distance * grade.max(0.0);
    match score {
        s if s >= 80_000.0 => 5,
        s if s >= 64_000.0 => 4,
        s if s >= 32_000.0 => 3,
        s if s >= 16_000.0 => 2,
        s if s >= 8_000.0 => 1,
        _ => 0,
    }
}

const SEGMENT_PLACES: &[&str] = &[
    "Old Mill",
    "Lighthouse",
    "Quarry",
    "Orchard",
    "Harbor",
    "Chapel",
    "Windmill",
    "Reservoir",
    "Beacon",
    "Fox Hollow",
    "Cedar",
    "Signal Tower",
    "Brickworks",
    "Ferry",
];

// ---------------------------------------------------------------------------------------
// Activities
// ---------------------------------------------------------------------------------------

/// Everything about a generated activity that listings need.
#[derive(Clone, Debug)]
pub(crate) struct Core {
    pub(crate) athlete: usize,
    pub(crate) id: u64,
    pub(crate) start: i64,
    pub(crate) sport: Sport,
    pub(crate) name: String,
    pub(crate) distance: f64,
    pub(crate) moving_time: i64,
    pub(crate) elapsed_time: i64,
    pub(crate) elevation_gain: f64,
    pub(crate) private: bool,
    pub(crate) commute: bool,
    pub(crate) workout_type: Option<i64>,
    pub(crate) kudos: u32,
    pub(crate) comments: u32,
    pub(crate) achievements: u32,
    pub(crate) athlete_count: u32,
    pub(crate) pr_count: u32,
    pub(crate) gear_id: Option<String>,
    pub(crate) average_heartrate: Option<f64>,
    pub(crate) max_heartrate: Option<f64>,
    pub(crate) average_watts: Option<f64>,
    pub(crate) device_watts: bool,
    pub(crate) average_cadence: Option<f64>,
    pub(crate) max_speed_factor: f64,
    pub(crate) device_name: &'static str,
    /// Segment indexes with an effort in this activity.
    pub(crate) efforts: Vec<usize>,
    pub(crate) track: Option<Track>,
    pub(crate) upload_id: u64,
    pub(crate) detail_seed: u64,
}

/// The few numbers stats and effort searches need, cached per athlete.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Brief {
    pub(crate) start: i64,
    pub(crate) sport: Sport,
    pub(crate) distance: f32,
    pub(crate) moving_time: u32,
    pub(crate) elapsed_time: u32,
    pub(crate) elevation_gain: f32,
    pub(crate) achievements: u16,
    pub(crate) private: bool,
    /// Up to 3 segment indexes, `u32::MAX` for none.
    pub(crate) efforts: [u32; 3],
}

const RUN_NAMES: &[&str] = &[
    "Tempo Tuesday",
    "Hill repeats",
    "Long run",
    "Easy shakeout",
    "Track session: 6x800",
    "Parkrun",
];
const RIDE_NAMES: &[&str] = &[
    "Coffee ride",
    "Sweet spot intervals",
    "Club run",
    "Exploring new roads",
    "Recovery spin",
];
const DEVICES_RUN: &[&str] = &[
    "Garmin Forerunner 265",
    "COROS PACE 3",
    "Apple Watch Ultra 2",
];
const DEVICES_RIDE: &[&str] = &["Garmin Edge 840", "Wahoo ELEMNT ROAM", "Hammerhead Karoo"];

/// The whole generated world.
pub(crate) struct World {
    pub(crate) seed: u64,
    pub(crate) per_athlete: usize,
    /// Generated activities start before this (epoch seconds).
    pub(crate) data_end: i64,
    /// Days between consecutive activities of one athlete.
    gap_days: f64,
    first_day: i64,
    pub(crate) athletes: Vec<Athlete>,
    athlete_ids: HashMap<u64, usize>,
    pub(crate) clubs: Vec<Club>,
    pub(crate) segments: Vec<Segment>,
    briefs: Vec<OnceLock<Vec<Brief>>>,
    /// Streams and detailed renderings derived so far.
    pub(crate) cache: Cache,
}

impl World {
    /// Builds the world: athlete, club and segment profiles only.
    pub(crate) fn new(seed: u64, athletes: usize, per_athlete: usize, now: DateTime<Utc>) -> Self {
        let athletes = athletes.max(1);
        // Activities end at midnight UTC of the sandbox's first day.
        let data_end = now.timestamp().div_euclid(86_400) * 86_400;
        let span_days = (per_athlete as f64 * 1.6).clamp(30.0, 3_650.0);
        let gap_days = span_days / per_athlete.max(1) as f64;
        let first_day = data_end / 86_400 - span_days.ceil() as i64 - 1;

        let segments = Self::make_segments(seed, data_end);
        let mut world = World {
            seed,
            per_athlete,
            data_end,
            gap_days,
            first_day,
            athletes: Vec::with_capacity(athletes),
            athlete_ids: HashMap::new(),
            clubs: Vec::new(),
            segments,
            briefs: (0..athletes).map(|_| OnceLock::new()).collect(),
            cache: Cache::default(),
        };
        let id_base = 30_000_000 + (seed % 9_000) * 1_000;
        for index in 0..athletes {
            let athlete = world.make_athlete(index, id_base + index as u64 * 137 + 1);
            world.athlete_ids.insert(athlete.id, index);
            world.athletes.push(athlete);
        }
        world.make_clubs();
        world
    }

    fn make_segments(seed: u64, data_end: i64) -> Vec<Segment> {
        let mut segments = Vec::new();
        for (c, city) in CITIES.iter().enumerate() {
            let mut rng = rng(&[seed, 0x5E6, c as u64]);
            for j in 0..SEGMENTS_PER_CITY {
                let index = segments.len();
                let ride = j % 3 != 2;
                let distance: f64 = if ride {
                    rng.random_range(400.0..9_000.0)
                } else {
                    rng.random_range(200.0..3_000.0)
                };
                let grade: f64 = if j % 4 == 3 {
                    rng.random_range(-0.5..1.5)
                } else {
                    rng.random_range(1.0..(2.0 + city.hilliness * 600.0))
                };
                let rise = distance * grade / 100.0;
                let start = geo::offset(
                    city.center,
                    rng.random_range(-9_000.0..9_000.0),
                    rng.random_range(-9_000.0..9_000.0),
                );
                let bearing = rng.random_range(0.0..std::f64::consts::TAU);
                let track = Track::line(&mut rng, start, distance, bearing, city.altitude, rise);
                let (high, low) = track.altitude_range(120);
                let place = SEGMENT_PLACES[(j + c * 5) % SEGMENT_PLACES.len()];
                let kind = match (ride, grade > 3.0) {
                    (true, true) => "Climb",
                    (true, false) => "Sprint",
                    (false, true) => "Hill",
                    (false, false) => "Dash",
                };
                segments.push(Segment {
                    index,
                    id: SEGMENT_BASE + index as u64,
                    city: c,
                    name: format!("{place} {kind}"),
                    ride,
                    distance: geo::round(distance, 1),
                    average_grade: geo::round(grade, 1),
                    maximum_grade: geo::round(grade * rng.random_range(1.3..2.4) + 0.5, 1),
                    elevation_low: geo::round(low, 1),
                    elevation_high: geo::round(high, 1),
                    climb_category: climb_category(distance, grade),
                    track,
                    created_at: data_end - rng.random_range(400..4_000) * 86_400,
                    effort_count: rng.random_range(200..90_000),
                    athlete_count: rng.random_range(50..9_000),
                    star_count: rng.random_range(0..400),
                    hazardous: rng.random_bool(0.05),
                });
            }
        }
        segments
    }

    fn make_athlete(&self, index: usize, id: u64) -> Athlete {
        let seed = self.seed;
        let mut rng = rng(&[seed, 0xA7, index as u64]);
        let (firstname, sex) = *pick(&mut rng, FIRST_NAMES);
        let lastname = *pick(&mut rng, LAST_NAMES);
        let city = if index == 0 {
            (seed % CITIES.len() as u64) as usize
        } else {
            rng.random_range(0..CITIES.len())
        };
        let home = geo::offset(
            CITIES[city].center,
            rng.random_range(-4_000.0..4_000.0),
            rng.random_range(-4_000.0..4_000.0),
        );
        // Sport preferences: everyone runs and rides a bit, some much more.
        let profile = rng.random_range(0..4);
        let mut sports = [30, 6, 22, 6, 4, 4, 8, 10, 5, 3, 2];
        match profile {
            0 => {
                sports[0] *= 3;
                sports[1] *= 3;
            }
            1 => {
                sports[2] *= 3;
                sports[3] *= 3;
                sports[5] *= 2;
            }
            2 => {
                sports[6] *= 3;
            }
            _ => {}
        }
        let created_at = self.data_end - rng.random_range(900..4_000) * 86_400;
        let n_bikes = rng.random_range(if profile == 1 { 1 } else { 0 }..4);
        let n_shoes = rng.random_range(1..4);
        let bikes = (0..n_bikes)
            .map(|j| {
                let (brand, model, frame) = *pick(&mut rng, BIKES);
                Gear {
                    id: format!("b{}", BIKE_BASE + index as u64 * 8 + j as u64),
                    is_bike: true,
                    primary: j == 0,
                    nickname: if rng.random_bool(0.4) {
                        pick(
                            &mut rng,
                            &["Old Faithful", "The Rocket", "Winter Hack", "Blue"],
                        )
                        .to_string()
                    } else {
                        String::new()
                    },
                    brand,
                    model,
                    frame_type: Some(frame),
                    distance: geo::round(rng.random_range(500_000.0..25_000_000.0), 1),
                    weight: Some(geo::round(rng.random_range(7.0..13.5), 1)),
                    retired: false,
                }
            })
            .collect();
        let shoes = (0..n_shoes)
            .map(|j| {
                let (brand, model) = *pick(&mut rng, SHOES);
                Gear {
                    id: format!("g{}", SHOE_BASE + index as u64 * 8 + j as u64),
                    is_bike: false,
                    primary: j == 0,
                    nickname: String::new(),
                    brand,
                    model,
                    frame_type: None,
                    distance: geo::round(rng.random_range(20_000.0..900_000.0), 1),
                    weight: None,
                    retired: j > 0 && rng.random_bool(0.3),
                }
            })
            .collect();
        let premium = rng.random_bool(0.6);
        let power_meter = profile == 1 || rng.random_bool(0.3);
        let ftp = if power_meter || premium {
            Some(rng.random_range(170..330))
        } else {
            None
        };
        let starred = (0..rng.random_range(1..4))
            .map(|_| city * SEGMENTS_PER_CITY + rng.random_range(0..SEGMENTS_PER_CITY))
            .fold(Vec::new(), |mut v, s| {
                if !v.contains(&s) {
                    v.push(s);
                }
                v
            });
        Athlete {
            index,
            id,
            username: format!(
                "{}_{}{}",
                firstname.to_lowercase(),
                lastname.to_lowercase(),
                index
            ),
            firstname,
            lastname,
            sex,
            city,
            home,
            premium,
            created_at,
            updated_at: self.data_end - rng.random_range(1..60) * 86_400,
            weight: geo::round(
                if sex == "F" {
                    rng.random_range(50.0..75.0)
                } else {
                    rng.random_range(60.0..90.0)
                },
                1,
            ),
            ftp,
            max_hr: rng.random_range(176.0..198.0_f64).round(),
            power_meter,
            imperial: CITIES[city].country == "United States" && rng.random_bool(0.8),
            bio: pick(
                &mut rng,
                &[
                    "",
                    "Chasing sunrises.",
                    "Coffee, then miles.",
                    "Slow but stubborn.",
                    "Training for my first ultra.",
                ],
            )
            .to_string(),
            bikes,
            shoes,
            clubs: Vec::new(),
            follower_count: rng.random_range(0..900),
            friend_count: rng.random_range(0..600),
            routes: rng.random_range(2..7),
            sports,
            starred,
        }
    }

    fn make_clubs(&mut self) {
        let n = self.athletes.len();
        for (index, (name, sport_type, activity_types, description)) in CLUBS.iter().enumerate() {
            let mut rng = rng(&[self.seed, 0xC1, index as u64]);
            let members: Vec<usize> = (0..n)
                .filter(|&a| {
                    a % CLUBS.len() == index
                        || mix(&[self.seed, a as u64, index as u64]).is_multiple_of(3)
                })
                .collect();
            let club = Club {
                id: CLUB_BASE + index as u64 * 17,
                name,
                sport_type,
                activity_types,
                city: rng.random_range(0..CITIES.len()),
                private: rng.random_bool(0.2),
                featured: false,
                verified: index == 0,
                vanity: name
                    .to_lowercase()
                    .replace(' ', "-")
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect(),
                description,
                owner: members.first().copied(),
                members,
            };
            for &m in &club.members {
                self.athletes[m].clubs.push(index);
            }
            self.clubs.push(club);
        }
    }

    // -- lookups ---------------------------------------------------------------------

    pub(crate) fn athlete_by_id(&self, id: u64) -> Option<&Athlete> {
        self.athlete_ids.get(&id).map(|&i| &self.athletes[i])
    }

    pub(crate) fn club_by_id(&self, id: u64) -> Option<&Club> {
        let offset = id.checked_sub(CLUB_BASE)?;
        if offset % 17 != 0 {
            return None;
        }
        self.clubs.get((offset / 17) as usize)
    }

    pub(crate) fn segment_by_id(&self, id: u64) -> Option<&Segment> {
        self.segments.get(id.checked_sub(SEGMENT_BASE)? as usize)
    }

    pub(crate) fn gear_by_id(&self, id: &str) -> Option<&Gear> {
        let (is_bike, number) = match id.split_at_checked(1)? {
            ("b", rest) => (true, rest.parse::<u64>().ok()?),
            ("g", rest) => (false, rest.parse::<u64>().ok()?),
            _ => return None,
        };
        let base = if is_bike { BIKE_BASE } else { SHOE_BASE };
        let offset = number.checked_sub(base)?;
        let athlete = self.athletes.get((offset / 8) as usize)?;
        let list = if is_bike {
            &athlete.bikes
        } else {
            &athlete.shoes
        };
        list.get((offset % 8) as usize)
    }

    /// First id above every generated activity (created activities count up from here).
    pub(crate) fn created_base(&self) -> u64 {
        let generated = (self.athletes.len() * self.per_athlete) as u64;
        ACTIVITY_BASE + generated.div_ceil(1_000_000) * 1_000_000 + 1_000_000
    }

    pub(crate) fn activity_id(&self, athlete: usize, k: usize) -> u64 {
        ACTIVITY_BASE + (k * self.athletes.len() + athlete) as u64
    }

    /// `(athlete, k)` of a generated activity id.
    pub(crate) fn decode_activity(&self, id: u64) -> Option<(usize, usize)> {
        let offset = id.checked_sub(ACTIVITY_BASE)? as usize;
        let n = self.athletes.len();
        let (k, athlete) = (offset / n, offset % n);
        (k < self.per_athlete).then_some((athlete, k))
    }

    // -- activity times ----------------------------------------------------------------

    /// Start time of activity `k` of `athlete`; strictly increasing in `k`.
    pub(crate) fn start_of(&self, athlete: usize, k: usize) -> i64 {
        let h = mix(&[self.seed, 0x57A, athlete as u64, k as u64]);
        let frac = (h >> 11) as f64 / (1u64 << 53) as f64;
        if self.gap_days >= 1.0 {
            // One activity per day at most: a daytime local start.
            let day = self.first_day + (k as f64 * self.gap_days).floor() as i64;
            let local = 5 * 3600 + (frac * 16.0 * 3600.0) as i64;
            day * 86_400 + local - self.athletes[athlete].city().standard_offset()
        } else {
            let gap = self.gap_days * 86_400.0;
            let base = self.first_day as f64 * 86_400.0 + k as f64 * gap;
            (base + frac * gap * 0.7) as i64
        }
    }

    /// The number of `k` with start time `< t` (activities are sorted by `k`).
    pub(crate) fn count_before(&self, athlete: usize, t: i64) -> usize {
        let (mut lo, mut hi) = (0, self.per_athlete);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.start_of(athlete, mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Cheap facts about every generated activity of `athlete` (computed once).
    pub(crate) fn briefs(&self, athlete: usize) -> &[Brief] {
        self.briefs[athlete].get_or_init(|| {
            (0..self.per_athlete)
                .map(|k| {
                    let c = self.core_inner(athlete, k, false);
                    let mut efforts = [u32::MAX; 3];
                    for (slot, s) in efforts.iter_mut().zip(&c.efforts) {
                        *slot = *s as u32;
                    }
                    Brief {
                        start: c.start,
                        sport: c.sport,
                        distance: c.distance as f32,
                        moving_time: c.moving_time as u32,
                        elapsed_time: c.elapsed_time as u32,
                        elevation_gain: c.elevation_gain as f32,
                        achievements: c.achievements as u16,
                        private: c.private,
                        efforts,
                    }
                })
                .collect()
        })
    }

    /// Activity `k` of `athlete`.
    pub(crate) fn core(&self, athlete: usize, k: usize) -> Core {
        self.core_inner(athlete, k, true)
    }

    fn core_inner(&self, athlete_index: usize, k: usize, with_track: bool) -> Core {
        let athlete = &self.athletes[athlete_index];
        let city = athlete.city();
        let id = self.activity_id(athlete_index, k);
        let start = self.start_of(athlete_index, k);
        let mut rng = rng(&[self.seed, 0xAC7, athlete_index as u64, k as u64]);
        let weights: Vec<(Sport, u32)> = Sport::ALL
            .iter()
            .copied()
            .zip(athlete.sports.iter().copied())
            .collect();
        let mut sport = weighted(&mut rng, &weights);
        if sport.family() == Family::Ride && athlete.bikes.is_empty() && sport != Sport::VirtualRide
        {
            sport = Sport::Run;
        }
        let (smin, smax) = sport.speed();
        let speed = if smax > 0.0 {
            rng.random_range(smin..smax)
        } else {
            0.0
        };
        let (emin, emax) = sport.extent();
        // Mostly short, sometimes long: skew towards the low end.
        let u: f64 = rng.random();
        let extent = emin + (emax - emin) * u * u;
        let (distance, moving_time) = if sport.has_distance() {
            let d = geo::round(extent, 1);
            (d, (d / speed).round() as i64)
        } else {
            (0.0, extent.round() as i64)
        };
        let stopped = if sport.has_gps() && rng.random_bool(0.7) {
            rng.random_range(0.0..0.18)
        } else {
            0.0
        };
        let elapsed_time = moving_time + (moving_time as f64 * stopped).round() as i64;
        let elevation_gain = geo::round(
            distance * city.hilliness * sport.climb_factor() * rng.random_range(0.6..1.5),
            1,
        );
        let private = rng.random_bool(0.04);
        let commute = matches!(sport, Sport::Ride | Sport::Run) && rng.random_bool(0.06);
        let workout_type = match sport.family() {
            Family::Run => Some(weighted(&mut rng, &[(0, 80), (1, 3), (2, 9), (3, 8)])),
            Family::Ride => Some(weighted(&mut rng, &[(10, 85), (11, 3), (12, 12)])),
            _ => None,
        };
        let kudos = {
            let x: f64 = rng.random();
            (x * x * x * 60.0) as u32
        };
        let comments = if rng.random_bool(0.03) {
            rng.random_range(12..60)
        } else if rng.random_bool(0.25) {
            rng.random_range(1..6)
        } else {
            0
        };
        let achievements = if rng.random_bool(0.3) {
            rng.random_range(1..9)
        } else {
            0
        };
        let athlete_count = if rng.random_bool(0.2) {
            rng.random_range(2..12)
        } else {
            1
        };
        let pr_count = achievements.min(rng.random_range(0..4));
        let gear_id = if sport.on_foot() {
            (!athlete.shoes.is_empty()).then(|| {
                athlete.shoes[weighted(&mut rng, &[(0, 6), (1, 2), (2, 1)]) % athlete.shoes.len()]
                    .id
                    .clone()
            })
        } else if sport.family() == Family::Ride {
            (!athlete.bikes.is_empty()).then(|| {
                athlete.bikes[weighted(&mut rng, &[(0, 6), (1, 2), (2, 1)]) % athlete.bikes.len()]
                    .id
                    .clone()
            })
        } else {
            None
        };
        let has_hr = rng.random_bool(0.85);
        let intensity: f64 = rng.random_range(0.68..0.88);
        let average_heartrate = has_hr.then(|| geo::round(athlete.max_hr * intensity, 1));
        let max_heartrate = average_heartrate.map(|avg| {
            (avg + rng.random_range(8.0..28.0_f64))
                .min(athlete.max_hr)
                .round()
        });
        let (average_watts, device_watts) = if sport.family() == Family::Ride {
            let ftp = athlete.ftp.unwrap_or(200) as f64;
            (
                Some(geo::round(ftp * rng.random_range(0.55..0.85), 1)),
                athlete.power_meter || sport == Sport::VirtualRide,
            )
        } else {
            (None, false)
        };
        let average_cadence = match sport.family() {
            Family::Run => Some(geo::round(rng.random_range(78.0..92.0), 1)),
            Family::Ride => Some(geo::round(rng.random_range(72.0..94.0), 1)),
            _ => None,
        }
        .filter(|_| rng.random_bool(0.8));
        let max_speed_factor = rng.random_range(1.25..1.9);
        let device_name = match sport {
            Sport::VirtualRide => "Zwift",
            Sport::Swim => "Garmin Swim 2",
            Sport::WeightTraining | Sport::Yoga => "Apple Watch Series 9",
            Sport::Walk | Sport::Hike => "Strava App",
            s if s.family() == Family::Ride => *pick(&mut rng, DEVICES_RIDE),
            _ => *pick(&mut rng, DEVICES_RUN),
        };
        // Segment efforts: outdoor runs and rides in the home city.
        let mut efforts = Vec::new();
        if sport.has_gps() && matches!(sport.family(), Family::Ride | Family::Run) {
            let ride = sport.family() == Family::Ride;
            let candidates: Vec<usize> = (athlete.city * SEGMENTS_PER_CITY
                ..(athlete.city + 1) * SEGMENTS_PER_CITY)
                .filter(|&s| self.segments[s].ride == ride)
                .collect();
            let n = weighted(&mut rng, &[(0usize, 3), (1, 3), (2, 2), (3, 1)]);
            for _ in 0..n {
                let s = *pick(&mut rng, &candidates);
                if !efforts.contains(&s) {
                    efforts.push(s);
                }
            }
        }
        let detail_seed: u64 = rng.random();
        let local = start + i64::from(city.utc_offset(start));
        let hour = (local.rem_euclid(86_400) / 3600) as u32;
        let name = if rng.random_bool(0.15) {
            match sport.family() {
                Family::Run => pick(&mut rng, RUN_NAMES).to_string(),
                Family::Ride => pick(&mut rng, RIDE_NAMES).to_string(),
                _ => format!("{} {}", part_of_day(hour), sport.label()),
            }
        } else {
            format!("{} {}", part_of_day(hour), sport.label())
        };
        let track = (with_track && sport.has_gps()).then(|| {
            let mut trng = rng_for_track(detail_seed);
            let start_point = geo::offset(
                athlete.home,
                trng.random_range(-2_500.0..2_500.0),
                trng.random_range(-2_500.0..2_500.0),
            );
            let base_altitude = city.altitude + trng.random_range(0.0..40.0);
            Track::generate(
                &mut trng,
                start_point,
                distance,
                elevation_gain,
                base_altitude,
            )
        });
        Core {
            athlete: athlete_index,
            id,
            start,
            sport,
            name,
            distance,
            moving_time,
            elapsed_time,
            elevation_gain,
            private,
            commute,
            workout_type,
            kudos,
            comments,
            achievements,
            athlete_count,
            pr_count,
            gear_id,
            average_heartrate,
            max_heartrate,
            average_watts,
            device_watts,
            average_cadence,
            max_speed_factor,
            device_name,
            efforts,
            track,
            upload_id: 20_000_000_000 + (id - ACTIVITY_BASE),
            detail_seed,
        }
    }
}

/// The generator a generated activity's track is drawn from.
pub(crate) fn rng_for_track(detail_seed: u64) -> WorldRng {
    rng(&[detail_seed, 0x7AC])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(per: usize) -> World {
        World::new(7, 3, per, "2026-05-01T10:00:00Z".parse().unwrap())
    }

    #[test]
    fn start_times_increase_and_end_before_the_data_end() {
        for per in [10, 120, 5_000] {
            let w = world(per);
            for a in 0..3 {
                let mut last = i64::MIN;
                for k in 0..per {
                    let t = w.start_of(a, k);
                    assert!(t > last, "per {per} a {a} k {k}");
                    last = t;
                }
                assert!(last < w.data_end + 86_400);
            }
        }
    }

    #[test]
    fn ids_round_trip() {
        let w = world(50);
        for a in 0..3 {
            for k in [0, 17, 49] {
                assert_eq!(w.decode_activity(w.activity_id(a, k)), Some((a, k)));
            }
        }
        assert_eq!(w.decode_activity(w.activity_id(0, 50)), None);
        for athlete in &w.athletes {
            for g in athlete.bikes.iter().chain(&athlete.shoes) {
                assert_eq!(w.gear_by_id(&g.id).map(|x| &x.id), Some(&g.id));
            }
        }
        for c in &w.clubs {
            assert_eq!(w.club_by_id(c.id).map(|x| x.id), Some(c.id));
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let (a, b) = (world(40), world(40));
        let (x, y) = (a.core(1, 33), b.core(1, 33));
        assert_eq!(x.name, y.name);
        assert_eq!(x.distance, y.distance);
        assert_eq!(x.start, y.start);
        assert_eq!(a.athletes[2].firstname, b.athletes[2].firstname);
    }
}
