//! Faults on demand: make chosen routes fail the way real servers do, for resilience tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a [`Fault`] does to a matching request.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FaultKind {
    /// Answer with this status and a JSON body in Strava's fault shape.
    Status(u16),
    /// Answer with this status and an HTML error page, as a proxy or load balancer does.
    Html(u16),
    /// Serve the real answer with its body cut short (invalid JSON).
    Truncated,
    /// Serve the real answer, late (see [`Fault::delay`]).
    Latency,
    /// Handle the request at once, then hold its answer back (see [`Fault::answer_late`]).
    LateAnswer,
}

/// A fault to inject into the sandbox's answers (see [`Faults::inject`]).
///
/// A fault matches every request unless narrowed with [`on`](Self::on), and fires on
/// every match unless limited with [`times`](Self::times).
///
/// ```
/// use std::time::Duration;
/// use stravalib_sandbox::Fault;
///
/// // The next two `GET /athlete` answer 503, then the route works again.
/// let flaky = Fault::status(503).times(2).on("GET", "/athlete");
/// // Every activity answer arrives two seconds late.
/// let slow = Fault::delay(Duration::from_secs(2)).on("GET", "/activities/*");
/// // One HTML error page from "the load balancer" for any request.
/// let html = Fault::html(502).times(1);
/// # let _ = (flaky, slow, html);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a fault does nothing until injected with `sandbox.faults().inject(..)`"]
pub struct Fault {
    kind: FaultKind,
    method: Option<String>,
    path: Option<String>,
    times: Option<u32>,
    delay: Option<Duration>,
}

impl Fault {
    fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            method: None,
            path: None,
            times: None,
            delay: None,
        }
    }

    /// Answer with `status` and a JSON body in Strava's fault shape
    /// (`{"message": "Service Unavailable", "errors": []}` for 503). A 429 also carries
    /// rate-limit headers showing the limits used up.
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status(status))
    }

    /// Answer with `status` and an HTML error page (`text/html`), like a proxy in front of
    /// Strava does.
    pub fn html(status: u16) -> Self {
        Self::new(FaultKind::Html(status))
    }

    /// Serve the real answer with its body cut in half: the status is the real one, the
    /// JSON does not parse.
    pub fn truncated() -> Self {
        Self::new(FaultKind::Truncated)
    }

    /// Serve the real answer after `latency` (real time, not the sandbox clock: client
    /// timeouts see it).
    pub fn delay(latency: Duration) -> Self {
        Self::new(FaultKind::Latency).with_delay(latency)
    }

    /// Handle the request at once (its effects applied: a token rotated, an activity
    /// created), then hold the answer back for `latency` (real time). A client that gives
    /// up or dies meanwhile misses an answer the server acted on.
    pub fn answer_late(latency: Duration) -> Self {
        Self::new(FaultKind::LateAnswer).with_delay(latency)
    }

    /// Adds latency before this fault's answer.
    pub fn with_delay(mut self, latency: Duration) -> Self {
        self.delay = Some(latency);
        self
    }

    /// Fires at most `n` times, then the route behaves normally again.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Fires only for `method` (`"GET"`, `"POST"`..., or `"*"` for any) on `path`.
    ///
    /// `path` is relative to the API base (`"/athlete"`, `"/activities/*"`) unless it
    /// starts with `/api/` or `/oauth/` (`"/oauth/token"`). A `*` segment matches any one
    /// segment; a trailing `/**` matches any rest of the path.
    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase()).filter(|m| m != "*");
        let path = if path.starts_with("/api/") || path.starts_with("/oauth/") {
            path.to_owned()
        } else {
            format!("/api/v3/{}", path.trim_start_matches('/'))
        };
        self.path = Some(path);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        match &self.path {
            None => true,
            Some(pattern) => path_matches(pattern, path),
        }
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    for (i, seg) in pattern.iter().enumerate() {
        if *seg == "**" {
            return true;
        }
        match path.get(i) {
            Some(p) if *seg == "*" || seg == p => {}
            _ => return false,
        }
    }
    pattern.len() == path.len()
}

/// The faults injected into a sandbox (see [`Sandbox::faults`](crate::Sandbox::faults)).
/// Cheap to clone; clones share the list.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Rule>>>,
}

#[derive(Debug)]
struct Rule {
    fault: Fault,
    fired: u32,
}

/// What the server does with a request a fault matched.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    /// Wait this long before handling the request.
    pub(crate) delay: Option<Duration>,
    /// Wait this long after handling the request, before answering.
    pub(crate) delay_answer: Option<Duration>,
    pub(crate) outcome: Outcome,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Status(u16),
    Html(u16),
    Truncate,
    Pass,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Rule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a fault. Faults are tried in the order they were injected; the first one that
    /// matches a request (and has not used up its [`times`](Fault::times)) fires.
    pub fn inject(&self, fault: Fault) {
        self.lock().push(Rule { fault, fired: 0 });
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many injected faults can still fire.
    pub fn active(&self) -> usize {
        self.lock()
            .iter()
            .filter(|r| r.fault.times.is_none_or(|t| r.fired < t))
            .count()
    }

    /// How many times faults have fired in all.
    pub fn fired(&self) -> u32 {
        self.lock().iter().map(|r| r.fired).sum()
    }

    /// The action for a request, consuming one use of the first matching fault.
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<Action> {
        let mut rules = self.lock();
        let rule = rules
            .iter_mut()
            .find(|r| r.fault.times.is_none_or(|t| r.fired < t) && r.fault.matches(method, path))?;
        rule.fired += 1;
        let outcome = match rule.fault.kind {
            FaultKind::Status(s) => Outcome::Status(s),
            FaultKind::Html(s) => Outcome::Html(s),
            FaultKind::Truncated => Outcome::Truncate,
            FaultKind::Latency | FaultKind::LateAnswer => Outcome::Pass,
        };
        let late = rule.fault.kind == FaultKind::LateAnswer;
        Some(Action {
            delay: rule.fault.delay.filter(|_| !late),
            delay_answer: rule.fault.delay.filter(|_| late),
            outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(path_matches("/api/v3/athlete", "/api/v3/athlete"));
        assert!(path_matches("/api/v3/athlete", "/api/v3/athlete/"));
        assert!(!path_matches("/api/v3/athlete", "/api/v3/athlete/zones"));
        assert!(path_matches(
            "/api/v3/activities/*",
            "/api/v3/activities/12"
        ));
        assert!(!path_matches(
            "/api/v3/activities/*",
            "/api/v3/activities/12/laps"
        ));
        assert!(path_matches("/api/v3/**", "/api/v3/activities/12/laps"));
    }

    #[test]
    fn times_are_counted() {
        let faults = Faults::default();
        faults.inject(Fault::status(503).times(2).on("GET", "/athlete"));
        assert!(faults.take("POST", "/api/v3/athlete").is_none());
        assert!(faults.take("GET", "/api/v3/athlete").is_some());
        assert!(faults.take("GET", "/api/v3/athlete").is_some());
        assert!(faults.take("GET", "/api/v3/athlete").is_none());
        assert_eq!(faults.fired(), 2);
        assert_eq!(faults.active(), 0);
    }
}
