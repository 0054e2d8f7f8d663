//! When and how long to wait before sending a request again.

use std::time::Duration;

use reqwest::Method;

/// Retry settings for transient failures: what [`Error::is_retryable`] says (connection
/// and transport failures, timeouts, 500, 502, 503, 504).
///
/// Only idempotent requests are retried once sent (GET, HEAD, DELETE, and PUT unless
/// [`retry_put`](Self::retry_put) is off); a POST is retried only when the connection
/// failed before anything was sent. The wait before attempt *n + 1* is "equal jitter":
/// half of `min(initial_backoff × 2ⁿ⁻¹, max_backoff)` fixed plus a random share of the
/// other half, so it is never zero and never above the cap; attempts stop at
/// [`max_attempts`](Self::max_attempts) or when the next wait would pass the total budget.
///
/// [`Error::is_retryable`]: crate::Error::is_retryable
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    retry_put: bool,
}

impl Default for RetryPolicy {
    /// 3 attempts, 250 ms initial backoff, 5 s cap, 30 s in total.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            retry_put: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// At most `attempts` sends in all (1 = no retry; 0 is taken as 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first wait; each later wait doubles, up to [`RetryPolicy::max_backoff`].
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The longest single wait.
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// No retry starts once this much time has passed since the first attempt.
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// Whether PUT counts as idempotent (it does for Strava's PUT endpoints; default true).
    pub fn retry_put(mut self, retry: bool) -> Self {
        self.retry_put = retry;
        self
    }

    /// The configured number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn is_idempotent(&self, method: &Method) -> bool {
        match *method {
            Method::GET | Method::HEAD | Method::OPTIONS | Method::DELETE => true,
            Method::PUT => self.retry_put,
            _ => false,
        }
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1): equal jitter over
    /// an exponentially growing cap.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let cap = exp.min(self.max_backoff);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        // Half fixed, half random: never zero, never more than the cap.
        // Without random bits (never on a supported OS), the midpoint of the range.
        let random = match getrandom::u64() {
            Ok(bits) => bits % (nanos / 2 + 1),
            Err(_) => nanos / 4,
        };
        Duration::from_nanos(nanos / 2 + random)
    }

    pub(crate) fn may_retry(&self, attempt: u32, elapsed: Duration, next_wait: Duration) -> bool {
        attempt < self.max_attempts && elapsed + next_wait <= self.max_elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(300));
        for _ in 0..50 {
            let first = p.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = p.backoff(3);
            assert!(third >= Duration::from_millis(150) && third <= Duration::from_millis(300));
            assert!(p.backoff(30) <= Duration::from_millis(300));
        }
    }

    #[test]
    fn only_idempotent_methods_retry() {
        let p = RetryPolicy::default();
        assert!(p.is_idempotent(&Method::GET));
        assert!(p.is_idempotent(&Method::PUT));
        assert!(!p.is_idempotent(&Method::POST));
        assert!(!p.clone().retry_put(false).is_idempotent(&Method::PUT));
    }

    #[test]
    fn attempts_and_budget_bound_retries() {
        let p = RetryPolicy::default()
            .max_attempts(3)
            .max_elapsed(Duration::from_secs(1));
        assert!(p.may_retry(1, Duration::ZERO, Duration::from_millis(10)));
        assert!(!p.may_retry(3, Duration::ZERO, Duration::from_millis(10)));
        assert!(!p.may_retry(1, Duration::from_millis(995), Duration::from_millis(10)));
        assert_eq!(RetryPolicy::none().attempts(), 1);
    }
}
