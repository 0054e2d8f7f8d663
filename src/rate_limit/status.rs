//! What Strava's `X-RateLimit-*` headers say: usage and limits per window.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};

use super::clock::*;

// Status

/// Usage of one rate-limit window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowUsage {
    /// Requests counted in the window so far.
    pub usage: u32,
    /// Requests allowed in the window.
    pub limit: u32,
    /// When the window ends and its count starts again from zero.
    pub resets_at: DateTime<Utc>,
}

impl WindowUsage {
    /// Requests left in the window (zero when over the limit).
    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.usage)
    }

    /// `true` when no request is left in the window.
    pub fn is_exhausted(&self) -> bool {
        self.usage >= self.limit
    }

    /// Time from `now` until the window resets (zero once it has).
    pub fn time_left(&self, now: DateTime<Utc>) -> Duration {
        until(now, self.resets_at)
    }

    /// The spacing that spreads the remaining requests evenly over the time left:
    /// `time_left / remaining`; the whole time left when the window is exhausted.
    pub fn spacing(&self, now: DateTime<Utc>) -> Duration {
        let left = self.time_left(now);
        match self.remaining() {
            0 => left,
            n => left / n,
        }
    }

    /// The window as it stands at `now`, rolled over to a new empty window when it has reset.
    fn rolled(self, now: DateTime<Utc>, reset: fn(DateTime<Utc>) -> DateTime<Utc>) -> Self {
        if now >= self.resets_at {
            Self {
                usage: 0,
                limit: self.limit,
                resets_at: reset(now),
            }
        } else {
            self
        }
    }

    /// Merges a newer observation: a later window replaces, the same window keeps the larger
    /// count (responses can arrive out of order; a window's count never decreases), and an
    /// observation of an earlier window is stale.
    fn merged(self, new: Self) -> Self {
        use std::cmp::Ordering;
        match new.resets_at.cmp(&self.resets_at) {
            Ordering::Greater => new,
            Ordering::Equal => Self {
                usage: self.usage.max(new.usage),
                limit: new.limit,
                resets_at: new.resets_at,
            },
            Ordering::Less => self,
        }
    }

    fn plus(self, n: u32) -> Self {
        Self {
            usage: self.usage.saturating_add(n),
            ..self
        }
    }
}

/// The 15-minute and daily windows of one kind of limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Windows {
    pub(super) short: WindowUsage,
    pub(super) daily: WindowUsage,
}

impl Windows {
    fn at(limit: (u32, u32), usage: (u32, u32), observed_at: DateTime<Utc>) -> Self {
        Self {
            short: WindowUsage {
                usage: usage.0,
                limit: limit.0,
                resets_at: short_window_reset(observed_at),
            },
            daily: WindowUsage {
                usage: usage.1,
                limit: limit.1,
                resets_at: daily_window_reset(observed_at),
            },
        }
    }

    pub(super) fn as_of(self, now: DateTime<Utc>) -> Self {
        Self {
            short: self.short.rolled(now, short_window_reset),
            daily: self.daily.rolled(now, daily_window_reset),
        }
    }

    pub(super) fn merged(self, new: Self) -> Self {
        Self {
            short: self.short.merged(new.short),
            daily: self.daily.merged(new.daily),
        }
    }

    pub(super) fn plus(self, n: u32) -> Self {
        Self {
            short: self.short.plus(n),
            daily: self.daily.plus(n),
        }
    }

    fn to_array(self) -> [WindowUsage; 2] {
        [self.short, self.daily]
    }
}

/// The two kinds of limit: overall (every request) and read (`GET`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Overall = 0,
    Read = 1,
}

impl Kind {
    /// The kinds a request counts against.
    pub(super) fn for_request(read: bool) -> &'static [Kind] {
        if read {
            &[Kind::Overall, Kind::Read]
        } else {
            &[Kind::Overall]
        }
    }
}

/// The latest known rate-limit usage, parsed from Strava's headers.
///
/// Either kind of limit (overall, read) may be unknown when its headers were missing or
/// malformed; at least one is known. Each window says when it resets, computed from
/// [`observed_at`](Self::observed_at): the next quarter hour UTC for the 15-minute windows,
/// the next midnight UTC for the daily ones. Use [`as_of`](Self::as_of) to see the windows
/// as they stand later (windows that have reset since are empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitStatus {
    pub(super) observed_at: DateTime<Utc>,
    pub(super) overall: Option<Windows>,
    pub(super) read: Option<Windows>,
}

impl RateLimitStatus {
    /// Parses the `X-RateLimit-*` and `X-ReadRateLimit-*` headers, observed now.
    ///
    /// `None` when neither pair is present and well formed; a malformed header is ignored
    /// (with a `tracing::debug!` event), never an error.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        Self::from_headers_at(headers, Utc::now())
    }

    /// Like [`from_headers`](Self::from_headers), for headers observed at `observed_at`
    /// (which decides the windows the counts belong to).
    pub fn from_headers_at(headers: &HeaderMap, observed_at: DateTime<Utc>) -> Option<Self> {
        let overall =
            windows_from_headers(headers, RATE_LIMIT_LIMIT, RATE_LIMIT_USAGE, observed_at);
        let read = windows_from_headers(
            headers,
            READ_RATE_LIMIT_LIMIT,
            READ_RATE_LIMIT_USAGE,
            observed_at,
        );
        if overall.is_none() && read.is_none() {
            return None;
        }
        Some(Self {
            observed_at,
            overall,
            read,
        })
    }

    /// A status with both kinds known, as a server answering like Strava reports it (the
    /// sandbox does, through [`write_headers`](Self::write_headers)): each argument after
    /// `observed_at` is a `(15-minute, daily)` pair, the value of one of the four headers.
    ///
    /// ```
    /// use stravalib::rate_limit::RateLimitStatus;
    ///
    /// let now = chrono::Utc::now();
    /// let status = RateLimitStatus::new(now, (200, 2000), (31, 1050), (100, 1000), (12, 400));
    /// let mut headers = reqwest::header::HeaderMap::new();
    /// status.write_headers(&mut headers);
    /// assert_eq!(headers["x-ratelimit-usage"], "31,1050");
    /// assert_eq!(RateLimitStatus::from_headers_at(&headers, now), Some(status));
    /// ```
    pub fn new(
        observed_at: DateTime<Utc>,
        overall_limit: (u32, u32),
        overall_usage: (u32, u32),
        read_limit: (u32, u32),
        read_usage: (u32, u32),
    ) -> Self {
        Self {
            observed_at,
            overall: Some(Windows::at(overall_limit, overall_usage, observed_at)),
            read: Some(Windows::at(read_limit, read_usage, observed_at)),
        }
    }

    /// When the usage was observed. For statuses kept by the limiters of this module, the
    /// time the request whose response carried it was sent (Strava counts a request when
    /// it arrives, so that is the window its count belongs to).
    pub fn observed_at(&self) -> DateTime<Utc> {
        self.observed_at
    }

    /// The overall 15-minute window, when known.
    pub fn overall_short(&self) -> Option<WindowUsage> {
        self.overall.map(|w| w.short)
    }

    /// The overall daily window, when known.
    pub fn overall_daily(&self) -> Option<WindowUsage> {
        self.overall.map(|w| w.daily)
    }

    /// The read 15-minute window, when known.
    pub fn read_short(&self) -> Option<WindowUsage> {
        self.read.map(|w| w.short)
    }

    /// The read daily window, when known.
    pub fn read_daily(&self) -> Option<WindowUsage> {
        self.read.map(|w| w.daily)
    }

    /// The known windows a request with `method` counts against: overall short and daily,
    /// plus read short and daily for a `GET`.
    pub fn windows_for(&self, method: &Method) -> Vec<WindowUsage> {
        self.windows_of(is_read(method)).collect()
    }

    /// The status as it stands at `now`: windows that have reset since are empty and end at
    /// their next reset. `observed_at` is unchanged.
    pub fn as_of(&self, now: DateTime<Utc>) -> Self {
        Self {
            observed_at: self.observed_at,
            overall: self.overall.map(|w| w.as_of(now)),
            read: self.read.map(|w| w.as_of(now)),
        }
    }

    /// When a request with `method` may be sent, if not at `now`: the latest reset among
    /// the exhausted windows it counts against. `None` when it may be sent now.
    pub fn retry_at(&self, method: &Method, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.as_of(now).exhausted_until(is_read(method))
    }

    /// The next window reset that frees a request: the latest reset among the exhausted
    /// windows (so an exhausted daily window gives the next midnight UTC), or, when none is
    /// exhausted, the end of the 15-minute window containing `observed_at`.
    pub fn next_reset(&self) -> DateTime<Utc> {
        self.all_windows()
            .filter(WindowUsage::is_exhausted)
            .map(|w| w.resets_at)
            .max()
            .unwrap_or_else(|| short_window_reset(self.observed_at))
    }

    /// A one-line summary for logs: `overall 31/200 15min, 1050/2000 day; read 12/100
    /// 15min, 400/1000 day` (unknown kinds left out).
    pub fn usage_summary(&self) -> String {
        let kinds = [("overall", self.overall), ("read", self.read)];
        let parts: Vec<String> = kinds
            .iter()
            .filter_map(|(name, w)| {
                let w = (*w)?;
                Some(format!(
                    "{name} {}/{} 15min, {}/{} day",
                    w.short.usage, w.short.limit, w.daily.usage, w.daily.limit
                ))
            })
            .collect();
        parts.join("; ")
    }

    /// Writes the status back as Strava's four headers (`X-RateLimit-Limit: 200,2000`...),
    /// replacing any already in `headers`; kinds that are unknown are removed.
    /// [`from_headers_at`](Self::from_headers_at) with the same `observed_at` reads them back.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let kinds = [
            (self.overall, RATE_LIMIT_LIMIT, RATE_LIMIT_USAGE),
            (self.read, READ_RATE_LIMIT_LIMIT, READ_RATE_LIMIT_USAGE),
        ];
        for (windows, limit_name, usage_name) in kinds {
            match windows {
                Some(w) => {
                    let limit = format!("{},{}", w.short.limit, w.daily.limit);
                    let usage = format!("{},{}", w.short.usage, w.daily.usage);
                    // Digits and a comma: always a valid header value.
                    if let (Ok(limit), Ok(usage)) =
                        (HeaderValue::from_str(&limit), HeaderValue::from_str(&usage))
                    {
                        headers.insert(limit_name, limit);
                        headers.insert(usage_name, usage);
                    }
                }
                None => {
                    headers.remove(limit_name);
                    headers.remove(usage_name);
                }
            }
        }
    }

    pub(super) fn kind(&self, kind: Kind) -> Option<Windows> {
        match kind {
            Kind::Overall => self.overall,
            Kind::Read => self.read,
        }
    }

    pub(super) fn kind_mut(&mut self, kind: Kind) -> &mut Option<Windows> {
        match kind {
            Kind::Overall => &mut self.overall,
            Kind::Read => &mut self.read,
        }
    }

    fn all_windows(&self) -> impl Iterator<Item = WindowUsage> + '_ {
        self.windows_of(true)
    }

    fn windows_of(&self, read: bool) -> impl Iterator<Item = WindowUsage> + '_ {
        Kind::for_request(read)
            .iter()
            .filter_map(|k| self.kind(*k))
            .flat_map(Windows::to_array)
    }

    /// The latest reset among the exhausted windows a request counts against (no rollover).
    pub(super) fn exhausted_until(&self, read: bool) -> Option<DateTime<Utc>> {
        self.windows_of(read)
            .filter(WindowUsage::is_exhausted)
            .map(|w| w.resets_at)
            .max()
    }

    /// The status with `in_flight[kind]` more requests counted in each window of `kind`.
    pub(super) fn plus_in_flight(mut self, in_flight: [u32; 2]) -> Self {
        self.overall = self
            .overall
            .map(|w| w.plus(in_flight[Kind::Overall as usize]));
        self.read = self.read.map(|w| w.plus(in_flight[Kind::Read as usize]));
        self
    }
}

/// Parses one `X-*RateLimit-*` value: two comma-separated unsigned 32-bit numbers, each
/// optionally surrounded by spaces or tabs (`"200,2000"`, `" 31 , 1050 "`).
///
/// `None` for anything else: one number, three numbers, signs, non-digits, numbers that do
/// not fit in a `u32`, empty parts.
pub fn parse_pair(value: &str) -> Option<(u32, u32)> {
    let mut parts = value.split(',');
    let short = parse_count(parts.next()?)?;
    let daily = parse_count(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Some((short, daily))
}

pub(super) fn parse_count(part: &str) -> Option<u32> {
    let part = part.trim_matches([' ', '\t']);
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

pub(super) fn header_pair(headers: &HeaderMap, name: &'static str) -> Option<(u32, u32)> {
    let Some(value) = headers.get(name) else {
        tracing::debug!(header = name, "rate-limit header missing");
        return None;
    };
    let parsed = value.to_str().ok().and_then(parse_pair);
    if parsed.is_none() {
        tracing::debug!(header = name, value = ?value, "ignoring malformed rate-limit header");
    }
    parsed
}

pub(super) fn windows_from_headers(
    headers: &HeaderMap,
    limit_name: &'static str,
    usage_name: &'static str,
    observed_at: DateTime<Utc>,
) -> Option<Windows> {
    let limit = header_pair(headers, limit_name);
    let usage = header_pair(headers, usage_name);
    let (limit, usage) = (limit?, usage?);
    if limit.0 == 0 || limit.1 == 0 {
        tracing::debug!(
            header = limit_name,
            ?limit,
            "ignoring rate-limit header with a zero limit"
        );
        return None;
    }
    Some(Windows::at(limit, usage, observed_at))
}
