//! Backoff and the server's requested wait: when to re-send a request that met a transport fault.

use super::*;

/// Backoff settings of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base: Duration,
    pub max: Duration,
    /// The longest a whole call (every attempt and wait) may take.
    pub deadline: Duration,
}

impl RetryPolicy {
    /// Wait before retry number `retry` (1-based): full jitter in
    /// `[0, min(max, base · 2^(retry-1))]`, but never less than `server_wait` (the
    /// longest wait the server asked for during this call), to which up to a tenth is
    /// added so that clients told the same time do not return in lockstep.
    pub fn delay(
        &self,
        retry: u32,
        server_wait: Option<Duration>,
        rng: &mut ChaCha8Rng,
    ) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.base.saturating_mul(factor).min(self.max);
        let jitter = random_up_to(ceiling, rng);
        match server_wait {
            Some(wait) => jitter.max(wait + random_up_to(wait / 10, rng)),
            None => jitter,
        }
    }
}

pub(super) fn random_up_to(ceiling: Duration, rng: &mut ChaCha8Rng) -> Duration {
    let ms = ceiling.as_millis() as u64;
    Duration::from_millis(if ms == 0 { 0 } else { rng.random_range(0..=ms) })
}

/// Parses `Retry-After`: delta-seconds or an HTTP date (relative to `now`; the date has
/// whole seconds, so it is rounded up, never early).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    let wait = when.duration_since(now).unwrap_or(Duration::ZERO);
    Some(Duration::from_secs(
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
    ))
}

/// The server's requested wait: `retry-after-ms` (milliseconds, used by some gateways)
/// takes precedence over `Retry-After`.
pub(super) fn server_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        if ms >= 0.0 && ms.is_finite() {
            return Some(Duration::from_millis(ms.ceil() as u64));
        }
    }
    text("retry-after").and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// How the transport waits between retries; tests substitute one that records delays.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, delay: Duration) -> BoxFuture<'static, ()>;
}

/// Waits with `tokio::time::sleep` (so `tokio::time::pause` applies).
#[derive(Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, delay: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(delay))
    }
}

/// The provider-wide "not before" a server set with its last requested wait. Every send
/// to the provider (a first attempt, a retry, a call the circuit breaker releases, a
/// probe) waits it out, so no path re-sends sooner than the server asked, whichever call
/// the wait was given to.
#[derive(Debug, Default)]
pub(super) struct ServerHold(std::sync::Mutex<Option<tokio::time::Instant>>);

impl ServerHold {
    /// The server asked to wait `wait` from now.
    pub(super) fn note(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut hold = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *hold = Some(hold.map_or(until, |h| h.max(until)));
    }

    /// How much of the server's wait is left.
    pub(super) fn remaining(&self) -> Duration {
        let hold = self.0.lock().unwrap_or_else(|p| p.into_inner());
        hold.map_or(Duration::ZERO, |h| {
            h.saturating_duration_since(tokio::time::Instant::now())
        })
    }
}
