//! Reading uploaded activity files: GPX and TCX (a small XML scanner), FIT (definition and
//! data messages, `record` and `session`), and their gzipped forms (a small inflater).

use chrono::DateTime;

use super::points::RecordedPoint;
use super::state::{Parsed, ParsedActivity};

/// Largest decompressed size accepted, in bytes.
const MAX_INFLATED: usize = 64 * 1024 * 1024;

/// Parses `bytes` as `data_type` (`gpx`, `tcx.gz`, `fit`...).
pub(crate) fn parse(data_type: &str, bytes: &[u8]) -> Parsed {
    let (kind, gz) = match data_type.strip_suffix(".gz") {
        Some(kind) => (kind, true),
        None => (data_type, false),
    };
    let inflated;
    let bytes = if gz {
        match gunzip(bytes) {
            Some(b) => {
                inflated = b;
                &inflated[..]
            }
            None => return Parsed::Malformed,
        }
    } else {
        bytes
    };
    let parsed = match kind {
        "gpx" => std::str::from_utf8(bytes).ok().and_then(gpx),
        "tcx" => std::str::from_utf8(bytes).ok().and_then(tcx),
        "fit" => fit(bytes),
        _ => None,
    };
    match parsed {
        Some(p) if p.points.len() >= 2 => Parsed::Activity(p),
        _ => Parsed::Malformed,
    }
}

// ---------------------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------------------

/// One step of the XML scan.
#[derive(Debug, PartialEq)]
enum Event<'a> {
    /// Local name (namespace prefix dropped), raw attributes, self-closing.
    Open(&'a str, &'a str, bool),
    Close(&'a str),
    Text(&'a str),
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// A forgiving XML scanner: tags, attributes as raw text, and text nodes. Comments,
/// processing instructions and doctypes are skipped; CDATA is text. `None` on a tag that
/// never ends.
fn scan(text: &str) -> Option<Vec<Event<'_>>> {
    let mut events = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if !rest.trim().is_empty() {
                events.push(Event::Text(rest));
            }
            break;
        };
        if lt > 0 {
            let t = &rest[..lt];
            if !t.trim().is_empty() {
                events.push(Event::Text(t));
            }
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>")?;
            events.push(Event::Text(&after[..end]));
            rest = &after[end + 3..];
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = &rest[rest.find('>')? + 1..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>')?;
            events.push(Event::Close(local(after[..end].trim())));
            rest = &after[end + 1..];
        } else {
            let after = &rest[1..];
            let end = after.find('>')?;
            let inner = &after[..end];
            let (inner, self_closing) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let name_end = inner
                .find(|c: char| c.is_whitespace())
                .unwrap_or(inner.len());
            let name = &inner[..name_end];
            if name.is_empty() {
                return None;
            }
            events.push(Event::Open(local(name), &inner[name_end..], self_closing));
            rest = &after[end + 1..];
        }
    }
    Some(events)
}

/// The value of attribute `name` in raw attribute text.
fn attribute<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let value_end = after[1..].find(quote)?;
        let value = &after[1..1 + value_end];
        if local(key) == name {
            return Some(value);
        }
        rest = &after[value_end + 2..];
    }
    None
}

fn unescape(s: &str) -> String {
    s.trim()
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|t| t.and_utc().timestamp())
        })
        .ok()
}

/// Maps a file's sport words to a `sport_type`.
fn sport_from(word: &str) -> Option<String> {
    let w = word.trim().to_ascii_lowercase();
    Some(
        match w.as_str() {
            "running" | "run" | "9" | "trail_running" => "Run",
            "biking" | "cycling" | "ride" | "road_biking" | "1" => "Ride",
            "mountain_biking" => "MountainBikeRide",
            "gravel_cycling" => "GravelRide",
            "walking" | "walk" => "Walk",
            "hiking" | "hike" => "Hike",
            "swimming" | "swim" => "Swim",
            _ => return None,
        }
        .to_owned(),
    )
}

/// Collects a track from scanned XML: `point` names the element of one sample.
/// Samples (with their absolute time), and the name, sport and device of a file.
type Collected = (
    Vec<(RecordedPoint, Option<i64>)>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn collect_points(events: &[Event<'_>], point: &str) -> Collected {
    let mut points = Vec::new();
    let mut current: Option<(RecordedPoint, Option<i64>)> = None;
    let mut path: Vec<&str> = Vec::new();
    let (mut name, mut sport, mut device) = (None, None, None);
    for ev in events {
        match ev {
            Event::Open(tag, attrs, self_closing) => {
                if *tag == point {
                    let mut p = RecordedPoint::default();
                    if let (Some(lat), Some(lon)) = (
                        attribute(attrs, "lat").and_then(|v| v.trim().parse::<f64>().ok()),
                        attribute(attrs, "lon").and_then(|v| v.trim().parse::<f64>().ok()),
                    ) {
                        p.latlng = Some((lat, lon));
                    }
                    current = Some((p, None));
                    if *self_closing {
                        points.extend(current.take());
                    }
                }
                if *tag == "Activity"
                    && let Some(s) = attribute(attrs, "Sport")
                {
                    sport = sport_from(s);
                }
                if !self_closing {
                    path.push(tag);
                }
            }
            Event::Close(tag) => {
                if *tag == point {
                    points.extend(current.take());
                }
                if let Some(pos) = path.iter().rposition(|t| t == tag) {
                    path.truncate(pos);
                }
            }
            Event::Text(text) => {
                let tag = path.last().copied().unwrap_or("");
                let parent = path.len().checked_sub(2).map(|i| path[i]).unwrap_or("");
                if let Some((p, time)) = current.as_mut() {
                    let num = || text.trim().parse::<f64>().ok();
                    match tag {
                        "ele" | "AltitudeMeters" => p.altitude = num(),
                        "time" | "Time" => *time = parse_time(text),
                        "hr" => p.heartrate = num(),
                        "Value" if parent == "HeartRateBpm" => p.heartrate = num(),
                        "cad" | "Cadence" | "RunCadence" => p.cadence = num(),
                        "power" | "Watts" | "PowerInWatts" => p.watts = num(),
                        "atemp" | "temp" => p.temp = num(),
                        "DistanceMeters" => p.distance = num(),
                        "LatitudeDegrees" => {
                            let lng = p.latlng.map_or(f64::NAN, |l| l.1);
                            p.latlng = num().map(|lat| (lat, lng));
                        }
                        "LongitudeDegrees" => {
                            let lat = p.latlng.map_or(f64::NAN, |l| l.0);
                            p.latlng = num().map(|lng| (lat, lng));
                        }
                        _ => {}
                    }
                } else {
                    match (parent, tag) {
                        ("trk", "name") => name = Some(unescape(text)),
                        ("trk", "type") => sport = sport.or_else(|| sport_from(text)),
                        ("Creator", "Name") => device = Some(unescape(text)),
                        ("Activity", "Notes") => name = name.or_else(|| Some(unescape(text))),
                        _ => {}
                    }
                }
            }
        }
    }
    (points, name, sport, device)
}

/// Turns points with absolute times into a parsed activity (times relative to the first).
fn finish(
    raw: Vec<(RecordedPoint, Option<i64>)>,
    name: Option<String>,
    sport: Option<String>,
    device: Option<String>,
) -> Option<ParsedActivity> {
    let mut points: Vec<(RecordedPoint, i64)> = raw
        .into_iter()
        .filter_map(|(mut p, t)| {
            if p.latlng
                .is_some_and(|(a, b)| !a.is_finite() || !b.is_finite())
            {
                p.latlng = None;
            }
            Some((p, t?))
        })
        .collect();
    if points.len() < 2 {
        return None;
    }
    points.sort_by_key(|(_, t)| *t);
    let start = points[0].1;
    // Either every sample has a position or none does.
    let with_position = points.iter().filter(|(p, _)| p.latlng.is_some()).count();
    if with_position > 0 && with_position < points.len() {
        points.retain(|(p, _)| p.latlng.is_some());
    }
    if points.iter().any(|(p, _)| p.altitude.is_none()) {
        points.iter_mut().for_each(|(p, _)| p.altitude = None);
    }
    if points.iter().any(|(p, _)| p.distance.is_none()) {
        points.iter_mut().for_each(|(p, _)| p.distance = None);
    }
    Some(ParsedActivity {
        sport_type: sport,
        name,
        start: Some(start),
        points: points
            .into_iter()
            .map(|(mut p, t)| {
                p.t = t - start;
                p
            })
            .collect(),
        device_name: device,
    })
}

fn gpx(text: &str) -> Option<ParsedActivity> {
    let events = scan(text)?;
    if !events.iter().any(|e| matches!(e, Event::Open("gpx", _, _))) {
        return None;
    }
    let (mut points, name, sport, device) = collect_points(&events, "trkpt");
    if points.is_empty() {
        points = collect_points(&events, "rtept").0;
    }
    finish(points, name, sport, device)
}

fn tcx(text: &str) -> Option<ParsedActivity> {
    let events = scan(text)?;
    if !events
        .iter()
        .any(|e| matches!(e, Event::Open("TrainingCenterDatabase", _, _)))
    {
        return None;
    }
    let (points, name, sport, device) = collect_points(&events, "Trackpoint");
    finish(points, name, sport, device)
}

// ---------------------------------------------------------------------------------------
// FIT
// ---------------------------------------------------------------------------------------

/// Seconds between the Unix epoch and FIT's (1989-12-31T00:00:00Z).
const FIT_EPOCH: i64 = 631_065_600;

#[derive(Clone)]
struct FieldDef {
    number: u8,
    size: u8,
    base: u8,
}

#[derive(Clone)]
struct Definition {
    global: u16,
    big_endian: bool,
    fields: Vec<FieldDef>,
    dev_size: usize,
}

fn read_uint(bytes: &[u8], big_endian: bool) -> u64 {
    let mut v = 0u64;
    if big_endian {
        for b in bytes {
            v = (v << 8) | u64::from(*b);
        }
    } else {
        for b in bytes.iter().rev() {
            v = (v << 8) | u64::from(*b);
        }
    }
    v
}

/// Reads a FIT activity's `record` messages (position, altitude, heart rate, cadence,
/// power, temperature, distance) and the `session` sport.
fn fit(bytes: &[u8]) -> Option<ParsedActivity> {
    let header = usize::from(*bytes.first()?);
    if header < 12 || bytes.get(8..12)? != b".FIT" {
        return None;
    }
    let data_size = read_uint(bytes.get(4..8)?, false) as usize;
    let end = header.checked_add(data_size)?;
    let data = bytes.get(header..end)?;
    let mut defs: [Option<Definition>; 16] = Default::default();
    let mut pos = 0usize;
    let mut last_ts: Option<u32> = None;
    let mut raw = Vec::new();
    let mut sport = None;
    while pos < data.len() {
        let rh = data[pos];
        pos += 1;
        let (local, compressed_offset) = if rh & 0x80 != 0 {
            (usize::from((rh >> 5) & 0x3), Some(u32::from(rh & 0x1f)))
        } else if rh & 0x40 != 0 {
            let dev = rh & 0x20 != 0;
            let local = usize::from(rh & 0x0f);
            let arch = *data.get(pos + 1)?;
            let big_endian = arch == 1;
            let global = read_uint(data.get(pos + 2..pos + 4)?, big_endian) as u16;
            let n = usize::from(*data.get(pos + 4)?);
            pos += 5;
            let mut fields = Vec::with_capacity(n);
            for _ in 0..n {
                let f = data.get(pos..pos + 3)?;
                fields.push(FieldDef {
                    number: f[0],
                    size: f[1],
                    base: f[2],
                });
                pos += 3;
            }
            let mut dev_size = 0usize;
            if dev {
                let nd = usize::from(*data.get(pos)?);
                pos += 1;
                for _ in 0..nd {
                    dev_size += usize::from(*data.get(pos + 1)?);
                    pos += 3;
                }
            }
            defs[local] = Some(Definition {
                global,
                big_endian,
                fields,
                dev_size,
            });
            continue;
        } else {
            (usize::from(rh & 0x0f), None)
        };
        let def = defs[local].clone()?;
        let mut point = RecordedPoint::default();
        let mut ts: Option<u32> = None;
        let (mut lat, mut lng) = (None, None);
        for f in &def.fields {
            let size = usize::from(f.size);
            let field = data.get(pos..pos + size)?;
            pos += size;
            if size > 8 {
                continue;
            }
            let v = read_uint(field, def.big_endian);
            let signed = f.base & 0x1f == 0x05 || f.base & 0x1f == 0x03 || f.base & 0x1f == 0x01;
            let invalid = match size {
                1 => v == if signed { 0x7f } else { 0xff },
                2 => v == if signed { 0x7fff } else { 0xffff },
                4 => v == if signed { 0x7fff_ffff } else { 0xffff_ffff },
                _ => false,
            };
            if invalid {
                continue;
            }
            let sv = match size {
                1 => i64::from(v as u8 as i8),
                2 => i64::from(v as u16 as i16),
                4 => i64::from(v as u32 as i32),
                _ => v as i64,
            };
            match (def.global, f.number) {
                (20, 253) => ts = Some(v as u32),
                (20, 0) => lat = Some(sv as f64 * 180.0 / 2f64.powi(31)),
                (20, 1) => lng = Some(sv as f64 * 180.0 / 2f64.powi(31)),
                (20, 2) if point.altitude.is_none() => {
                    point.altitude = Some(v as f64 / 5.0 - 500.0)
                }
                (20, 78) => point.altitude = Some(v as f64 / 5.0 - 500.0),
                (20, 3) => point.heartrate = Some(v as f64),
                (20, 4) => point.cadence = Some(v as f64),
                (20, 5) => point.distance = Some(v as f64 / 100.0),
                (20, 7) => point.watts = Some(v as f64),
                (20, 13) => point.temp = Some(sv as f64),
                (18, 5) => {
                    sport = match v {
                        1 => Some("Run"),
                        2 => Some("Ride"),
                        5 => Some("Swim"),
                        11 => Some("Walk"),
                        17 => Some("Hike"),
                        _ => None,
                    }
                    .map(str::to_owned)
                }
                _ => {}
            }
        }
        pos += def.dev_size;
        if let Some(offset) = compressed_offset {
            let last = last_ts?;
            let mut t = (last & !0x1f) | offset;
            if offset < (last & 0x1f) {
                t += 0x20;
            }
            ts = Some(t);
        }
        if let Some(t) = ts {
            last_ts = Some(t);
        }
        if def.global == 20 {
            if let (Some(a), Some(b)) = (lat, lng) {
                point.latlng = Some((a, b));
            }
            if let Some(t) = ts {
                raw.push((point, Some(i64::from(t) + FIT_EPOCH)));
            }
        }
    }
    finish(raw, None, sport, None)
}

// ---------------------------------------------------------------------------------------
// gzip / DEFLATE
// ---------------------------------------------------------------------------------------

/// Decompresses a gzip member.
pub(crate) fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 18 || bytes[0] != 0x1f || bytes[1] != 0x8b || bytes[2] != 8 {
        return None;
    }
    let flags = bytes[3];
    let mut pos = 10;
    if flags & 0x04 != 0 {
        let len = usize::from(*bytes.get(pos)?) | (usize::from(*bytes.get(pos + 1)?) << 8);
        pos += 2 + len;
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            pos += bytes.get(pos..)?.iter().position(|b| *b == 0)? + 1;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    inflate(bytes.get(pos..)?)
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
}

impl Bits<'_> {
    fn bits(&mut self, n: u32) -> Option<u32> {
        while self.count < n {
            let b = *self.data.get(self.pos)?;
            self.pos += 1;
            self.buf |= u64::from(b) << self.count;
            self.count += 8;
        }
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.buf >>= n;
        self.count -= n;
        Some(v)
    }
}

struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Self {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut offs = [0u16; 16];
        for len in 1..16 {
            offs[len] = offs[len - 1] + count[len - 1];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[usize::from(offs[usize::from(l)])] = sym as u16;
                offs[usize::from(l)] += 1;
            }
        }
        Self { count, symbol }
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Option<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.bits(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - count < first {
                return self.symbol.get((index + (code - first)) as usize).copied();
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        None
    }
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Decompresses a raw DEFLATE stream (RFC 1951).
pub(crate) fn inflate(data: &[u8]) -> Option<Vec<u8>> {
    let mut bits = Bits {
        data,
        pos: 0,
        buf: 0,
        count: 0,
    };
    let mut out: Vec<u8> = Vec::new();
    loop {
        let last = bits.bits(1)? == 1;
        match bits.bits(2)? {
            0 => {
                bits.buf = 0;
                bits.count = 0;
                let header = data.get(bits.pos..bits.pos + 4)?;
                let len = usize::from(u16::from_le_bytes([header[0], header[1]]));
                let nlen = u16::from_le_bytes([header[2], header[3]]);
                if len as u16 != !nlen {
                    return None;
                }
                bits.pos += 4;
                out.extend_from_slice(data.get(bits.pos..bits.pos + len)?);
                bits.pos += len;
            }
            1 => {
                let mut lengths = [0u8; 288];
                lengths[..144].fill(8);
                lengths[144..256].fill(9);
                lengths[256..280].fill(7);
                lengths[280..].fill(8);
                let lit = Huffman::new(&lengths);
                let dist = Huffman::new(&[5u8; 30]);
                codes(&mut bits, &mut out, &lit, &dist)?;
            }
            2 => {
                let nlen = bits.bits(5)? as usize + 257;
                let ndist = bits.bits(5)? as usize + 1;
                let ncode = bits.bits(4)? as usize + 4;
                const ORDER: [usize; 19] = [
                    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                ];
                let mut code_lengths = [0u8; 19];
                for &i in ORDER.iter().take(ncode) {
                    code_lengths[i] = bits.bits(3)? as u8;
                }
                let lencode = Huffman::new(&code_lengths);
                let mut lengths = vec![0u8; nlen + ndist];
                let mut i = 0;
                while i < nlen + ndist {
                    let sym = lencode.decode(&mut bits)?;
                    let (value, repeat) = match sym {
                        0..=15 => (sym as u8, 1),
                        16 => (*lengths.get(i.checked_sub(1)?)?, 3 + bits.bits(2)? as usize),
                        17 => (0, 3 + bits.bits(3)? as usize),
                        18 => (0, 11 + bits.bits(7)? as usize),
                        _ => return None,
                    };
                    if i + repeat > nlen + ndist {
                        return None;
                    }
                    lengths[i..i + repeat].fill(value);
                    i += repeat;
                }
                let lit = Huffman::new(&lengths[..nlen]);
                let dist = Huffman::new(&lengths[nlen..]);
                codes(&mut bits, &mut out, &lit, &dist)?;
            }
            _ => return None,
        }
        if out.len() > MAX_INFLATED {
            return None;
        }
        if last {
            return Some(out);
        }
    }
}

fn codes(bits: &mut Bits<'_>, out: &mut Vec<u8>, lit: &Huffman, dist: &Huffman) -> Option<()> {
    loop {
        let sym = lit.decode(bits)?;
        match sym {
            0..=255 => out.push(sym as u8),
            256 => return Some(()),
            _ => {
                let i = usize::from(sym - 257);
                let len = usize::from(*LENGTH_BASE.get(i)?)
                    + bits.bits(u32::from(LENGTH_EXTRA[i]))? as usize;
                let d = usize::from(dist.decode(bits)?);
                let back =
                    usize::from(*DIST_BASE.get(d)?) + bits.bits(u32::from(DIST_EXTRA[d]))? as usize;
                if back > out.len() || out.len() + len > MAX_INFLATED {
                    return None;
                }
                let from = out.len() - back;
                for k in 0..len {
                    let b = out[from + k];
                    out.push(b);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx creator="test" version="1.1" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
 <trk><name>Dyke loop</name><type>running</type><trkseg>
  <trkpt lat="52.3700" lon="4.9000"><ele>1.0</ele><time>2026-02-01T08:00:00Z</time>
   <extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>120</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>
  <trkpt lat="52.3710" lon="4.9010"><ele>2.0</ele><time>2026-02-01T08:00:30Z</time></trkpt>
  <trkpt lat="52.3720" lon="4.9020"><ele>1.5</ele><time>2026-02-01T08:01:00Z</time></trkpt>
 </trkseg></trk>
</gpx>"#;

    #[test]
    fn gpx_points() {
        let Parsed::Activity(a) = parse("gpx", GPX.as_bytes()) else {
            panic!("not parsed")
        };
        assert_eq!(a.points.len(), 3);
        assert_eq!(a.name.as_deref(), Some("Dyke loop"));
        assert_eq!(a.sport_type.as_deref(), Some("Run"));
        assert_eq!(a.points[1].t, 30);
        assert_eq!(a.points[0].heartrate, Some(120.0));
        assert_eq!(a.points[2].latlng, Some((52.372, 4.902)));
        assert_eq!(
            a.start,
            Some(
                DateTime::parse_from_rfc3339("2026-02-01T08:00:00Z")
                    .unwrap()
                    .timestamp()
            )
        );
    }

    #[test]
    fn malformed_files() {
        for (kind, body) in [
            ("gpx", &b"not xml at all"[..]),
            ("gpx", b"<gpx><trk><trkseg></trkseg></trk></gpx>"),
            ("tcx", b"<TrainingCenterDatabase>"),
            ("fit", b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIX"),
            ("gpx.gz", b"\x1f\x8b\x08\x00garbage garbage garbage"),
        ] {
            assert!(matches!(parse(kind, body), Parsed::Malformed), "{kind}");
        }
    }

    #[test]
    fn tcx_points() {
        let tcx = r#"<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities><Activity Sport="Biking"><Lap><Track>
<Trackpoint><Time>2026-02-01T08:00:00Z</Time><Position><LatitudeDegrees>45.1</LatitudeDegrees><LongitudeDegrees>6.1</LongitudeDegrees></Position><AltitudeMeters>400</AltitudeMeters><DistanceMeters>0</DistanceMeters><HeartRateBpm><Value>101</Value></HeartRateBpm></Trackpoint>
<Trackpoint><Time>2026-02-01T08:00:10Z</Time><Position><LatitudeDegrees>45.101</LatitudeDegrees><LongitudeDegrees>6.101</LongitudeDegrees></Position><AltitudeMeters>401</AltitudeMeters><DistanceMeters>80.5</DistanceMeters><HeartRateBpm><Value>110</Value></HeartRateBpm></Trackpoint>
</Track></Lap></Activity></Activities></TrainingCenterDatabase>"#;
        let Parsed::Activity(a) = parse("tcx", tcx.as_bytes()) else {
            panic!("not parsed")
        };
        assert_eq!(a.sport_type.as_deref(), Some("Ride"));
        assert_eq!(a.points.len(), 2);
        assert_eq!(a.points[1].distance, Some(80.5));
        assert_eq!(a.points[1].heartrate, Some(110.0));
        assert_eq!(a.points[1].latlng, Some((45.101, 6.101)));
    }

    /// Stored, fixed-Huffman and dynamic-Huffman blocks (the compressed bytes were made
    /// with zlib at level 9).
    #[test]
    fn inflate_all_block_types() {
        let fixed = [0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x27, 0x01];
        assert_eq!(inflate(&fixed).unwrap(), b"hello hello hello hello");
        let stored = [0x01, 0x03, 0x00, 0xfc, 0xff, b'a', b'b', b'c'];
        assert_eq!(inflate(&stored).unwrap(), b"abc");

        let words = [
            "lorem", "ipsum", "dolor", "sit", "amet", "trkpt", "lat", "lon", "ele",
        ];
        let mut x: u64 = 7;
        let text: Vec<&str> = (0..400)
            .map(|_| {
                x = (x * 1_103_515_245 + 12_345) % (1 << 31);
                words[((x >> 16) % 9) as usize]
            })
            .collect();
        let expected = text.join(" ");
        let hex = "6d955d8ec3200c84afb25743da3c549b90aacddebfe5c77c33908720c0301edb63b29ff9e77afd3daf3ebe1f31dbf6adae7ecffd7cf511cbe3f9fe3ffa6e59b7d9fe45534b5917eb77be1d03b17c6149c7363b6db36a18f7d3d571db1808acf0d2f6265cf730b00baeb04f97306dab2c8c41d76c145bdb6d1cb2318d3dbcc87e0a52e544b30edee5809720c838691d4944ae9f64d233b65e253970815fb02c198868ee2c65d40a37eb9d4a0ab644ec02a95b8b00008408c9176b92cb73e5c27787481e81c1a70b32782c5fdda20b825cd0577f9ca044f53a4921f66a40111ab8a724220344309125d9514b04e60285859fa2856f1bf62e6374ab341be9d5fe4e6bf9241264e8758e44fb53a30a228e76c6c81abd4584e126e014e0bebaaaf25122ca6d8a19612beb714265e6fa4489c929508a6ae9df4c975b9c1501f7a6b07c26e569d4356a6b09b8cc7a43ca4b9ffb9b40504e9efd85643d334b9fb76e305b6abc76afa6106cefb4e937320a5e27e292013fa4db5f487973c7fb94ad74f903";
        let dynamic: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(dynamic[0] & 7, 5, "a final dynamic block");
        assert_eq!(
            String::from_utf8(inflate(&dynamic).unwrap()).unwrap(),
            expected
        );

        // The same stored block wrapped in a gzip member with a file name.
        let mut gz = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3];
        gz.extend_from_slice(b"a.txt\0");
        gz.extend_from_slice(&stored);
        gz.extend_from_slice(&[0; 8]);
        assert_eq!(gunzip(&gz).unwrap(), b"abc");
    }

    #[test]
    fn fit_records() {
        // A tiny FIT file: one definition (record: timestamp, lat, long, heart rate) and
        // two data messages.
        let mut data = vec![
            0x40, 0, 0, 20, 0, 4, 253, 4, 0x86, 0, 4, 0x85, 1, 4, 0x85, 3, 1, 0x02,
        ];
        for (t, lat, hr) in [
            (1_000_000_000u32, 52.0f64, 100u8),
            (1_000_000_010, 52.001, 110),
        ] {
            data.push(0x00);
            data.extend_from_slice(&t.to_le_bytes());
            let semi = |deg: f64| ((deg / 180.0) * 2f64.powi(31)) as i32;
            data.extend_from_slice(&semi(lat).to_le_bytes());
            data.extend_from_slice(&semi(4.9).to_le_bytes());
            data.push(hr);
        }
        let mut file = vec![12, 0x10, 0, 0];
        file.extend_from_slice(&(data.len() as u32).to_le_bytes());
        file.extend_from_slice(b".FIT");
        file.extend_from_slice(&data);
        file.extend_from_slice(&[0, 0]);
        let Parsed::Activity(a) = parse("fit", &file) else {
            panic!("not parsed")
        };
        assert_eq!(a.points.len(), 2);
        assert_eq!(a.points[1].t, 10);
        assert_eq!(a.points[1].heartrate, Some(110.0));
        let (lat, lng) = a.points[1].latlng.unwrap();
        assert!((lat - 52.001).abs() < 1e-6 && (lng - 4.9).abs() < 1e-6);
        assert_eq!(a.start, Some(1_000_000_000 + FIT_EPOCH));
    }
}
