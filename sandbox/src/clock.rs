//! The sandbox's own clock: every time the server reads (token expiry, rate-limit windows,
//! upload processing, event times) comes from here, so tests can jump ahead.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

/// A controllable UTC clock shared by a [`Sandbox`](crate::Sandbox) and its clients.
///
/// It starts at the time given to
/// [`SandboxBuilder::start_time`](crate::SandboxBuilder::start_time) (the system time by
/// default) and then runs with real time, unless [frozen](Self::freeze). Jump it forward
/// with [`advance`](Self::advance) or anywhere with [`set`](Self::set): access tokens
/// expire, rate-limit windows reset and uploads finish processing by this clock.
///
/// It also implements [`rate_limit::Clock`](stravalib::rate_limit::Clock), so a client's rate
/// limiter can read the same time ([`Sandbox::client`](crate::Sandbox::client) does).
///
/// ```
/// use std::time::Duration;
/// use stravalib_sandbox::SandboxClock;
///
/// let clock = SandboxClock::frozen_at("2026-03-10T12:14:50Z".parse().unwrap());
/// clock.advance(Duration::from_secs(10));
/// assert_eq!(clock.now().to_rfc3339(), "2026-03-10T12:15:00+00:00");
/// ```
#[derive(Clone)]
pub struct SandboxClock {
    state: Arc<Mutex<ClockState>>,
}

#[derive(Clone, Copy)]
struct ClockState {
    /// The time at `anchor` (or the fixed time when frozen).
    base: DateTime<Utc>,
    /// When `base` was read; `None` while frozen.
    anchor: Option<Instant>,
    /// Sandbox seconds per real second while running (1 unless sped up).
    speed: u32,
}

impl std::fmt::Debug for SandboxClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxClock")
            .field("now", &self.now())
            .field("frozen", &self.is_frozen())
            .finish()
    }
}

fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl SandboxClock {
    /// A clock that reads `start` now and then runs with real time.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            state: Arc::new(Mutex::new(ClockState {
                base: start,
                anchor: Some(Instant::now()),
                speed: 1,
            })),
        }
    }

    /// A clock stopped at `start`: it only moves when told to.
    pub fn frozen_at(start: DateTime<Utc>) -> Self {
        Self {
            state: Arc::new(Mutex::new(ClockState {
                base: start,
                anchor: None,
                speed: 1,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(state: &ClockState) -> DateTime<Utc> {
        match state.anchor {
            Some(anchor) => add(state.base, anchor.elapsed().saturating_mul(state.speed)),
            None => state.base,
        }
    }

    /// The current sandbox time.
    pub fn now(&self) -> DateTime<Utc> {
        Self::read(&self.lock())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        state.base = add(state.base, by);
    }

    /// Sets the clock to `to` (earlier or later); it keeps running (or stays frozen) from
    /// there.
    pub fn set(&self, to: DateTime<Utc>) {
        let mut state = self.lock();
        state.base = to;
        if state.anchor.is_some() {
            state.anchor = Some(Instant::now());
        }
    }

    /// Stops the clock at the current time.
    pub fn freeze(&self) {
        let mut state = self.lock();
        state.base = Self::read(&state);
        state.anchor = None;
    }

    /// Lets a frozen clock run with real time again, from where it stopped.
    pub fn resume(&self) {
        let mut state = self.lock();
        if state.anchor.is_none() {
            state.anchor = Some(Instant::now());
        }
    }

    /// `true` while the clock is stopped.
    pub fn is_frozen(&self) -> bool {
        self.lock().anchor.is_none()
    }

    /// Moves the clock to the start of the next 15-minute rate-limit window (the next
    /// :00, :15, :30 or :45 UTC) and returns that time.
    pub fn advance_to_next_rate_limit_window(&self) -> DateTime<Utc> {
        let mut state = self.lock();
        let next = stravalib::rate_limit::short_window_reset(Self::read(&state));
        state.base = next;
        if state.anchor.is_some() {
            state.anchor = Some(Instant::now());
        }
        next
    }
}

impl SandboxClock {
    /// Runs the clock `factor` times faster than real time from now on (`1` is real time;
    /// `0` is taken as `1`): with `factor` 900, a 15-minute rate-limit window passes in
    /// a second. Time already elapsed is kept.
    pub fn set_speed(&self, factor: u32) {
        let mut state = self.lock();
        state.base = Self::read(&state);
        if state.anchor.is_some() {
            state.anchor = Some(Instant::now());
        }
        state.speed = factor.max(1);
    }

    /// How many sandbox seconds pass per real second while the clock runs.
    pub fn speed(&self) -> u32 {
        self.lock().speed
    }
}

impl stravalib::rate_limit::Clock for SandboxClock {
    fn now(&self) -> DateTime<Utc> {
        SandboxClock::now(self)
    }
}
