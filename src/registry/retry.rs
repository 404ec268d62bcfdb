//! When and how long to wait before trying an idempotent request again.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

/// Retry settings for one client.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff; doubles each retry, with full jitter.
    pub base: Duration,
    /// Largest backoff.
    pub max_backoff: Duration,
    /// Largest wait a `Retry-After` may impose.
    pub max_retry_after: Duration,
    /// All waits of one request end within this time from its first attempt.
    pub budget: Duration,
}

/// How many times an idempotent request is tried again, unless told otherwise.
pub const DEFAULT_RETRIES: u32 = 3;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: DEFAULT_RETRIES,
            base: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
            budget: Duration::from_secs(60),
        }
    }
}

/// 408, 429, 500, 502, 503, 504: worth another try.
pub fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date, relative to `now`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Counts attempts of one request and sleeps between them.
pub struct Backoff<'a> {
    policy: &'a RetryPolicy,
    attempt: u32,
    started: Instant,
}

impl<'a> Backoff<'a> {
    /// Starts counting at the first attempt.
    pub fn new(policy: &'a RetryPolicy) -> Self {
        Backoff {
            policy,
            attempt: 0,
            started: Instant::now(),
        }
    }

    /// Attempts made so far (1 after the first).
    pub fn attempts(&self) -> u32 {
        self.attempt + 1
    }

    /// Waits before the next attempt, honouring `retry_after` (capped). False when
    /// no attempt is left or the wait would overrun the budget: give up.
    pub async fn wait(&mut self, retry_after: Option<Duration>) -> bool {
        if self.attempt >= self.policy.retries {
            return false;
        }
        let delay = match retry_after {
            Some(d) => d.min(self.policy.max_retry_after),
            None => {
                let ceiling = self
                    .policy
                    .base
                    .saturating_mul(1 << self.attempt.min(16))
                    .min(self.policy.max_backoff);
                // Full jitter between half the ceiling and the ceiling.
                let half = ceiling / 2;
                half + half.mul_f64(fastrand::f64())
            }
        };
        if self.started.elapsed() + delay > self.policy.budget {
            return false;
        }
        tokio::time::sleep(delay).await;
        self.attempt += 1;
        true
    }
}

/// True when `err` is a connection reset or a connection closed mid-message:
/// safe to retry for an idempotent request.
pub fn is_reset(err: &(dyn std::error::Error + 'static)) -> bool {
    let closed = std::iter::successors(Some(err), |e| e.source()).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message() || h.is_canceled())
    });
    closed
        || io_causes(err).any(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        })
}

/// The I/O errors among `err` and its causes.
pub(crate) fn io_causes<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a std::io::Error> {
    std::iter::successors(Some(err), |e| e.source())
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(12)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[tokio::test]
    async fn backoff_stops_after_the_retries_and_caps_retry_after() {
        let policy = RetryPolicy {
            retries: 2,
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            max_retry_after: Duration::from_millis(5),
            budget: Duration::from_secs(5),
        };
        let mut b = Backoff::new(&policy);
        let started = Instant::now();
        assert!(
            b.wait(Some(Duration::from_secs(3600))).await,
            "capped, not refused"
        );
        assert!(b.wait(None).await);
        assert!(!b.wait(None).await);
        assert_eq!(b.attempts(), 3);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn statuses_worth_retrying() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(retryable_status(StatusCode::from_u16(s).unwrap()));
        }
        for s in [400, 401, 403, 404, 405, 501] {
            assert!(!retryable_status(StatusCode::from_u16(s).unwrap()));
        }
    }
}
