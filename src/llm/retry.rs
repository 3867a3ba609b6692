//! Transport faults, retried: backoff with full jitter, the server's requested wait, and
//! the loop that re-sends one identical request until it is answered, a fault is final or
//! the call's deadline passes. Shared by every backend that goes over HTTP (an
//! OpenAI-compatible server, a remote agent), so they retry alike.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::{hash64, ChatResponse, Fault, Retry};
use super::LlmError;

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

pub(crate) fn random_up_to(ceiling: Duration, rng: &mut ChaCha8Rng) -> Duration {
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
pub(crate) fn server_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
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
pub(crate) struct ServerHold(std::sync::Mutex<Option<tokio::time::Instant>>);

impl ServerHold {
    /// The server asked to wait `wait` from now.
    pub(crate) fn note(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut hold = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *hold = Some(hold.map_or(until, |h| h.max(until)));
    }

    /// How much of the server's wait is left.
    pub(crate) fn remaining(&self) -> Duration {
        let hold = self.0.lock().unwrap_or_else(|p| p.into_inner());
        hold.map_or(Duration::ZERO, |h| {
            h.saturating_duration_since(tokio::time::Instant::now())
        })
    }
}

/// The provider-wide outage clock: how long the backend has answered nothing, in wall
/// time. It starts with the first attempt that met a timeout, a dropped connection, a
/// 5xx or a malformed body (from when that attempt began, never before the last answer)
/// and stops at any answer. Once it reaches `outage_wait` the backend is down for the
/// sweep: every call fails with [`LlmError::Outage`] and the sweep stops, resumable. No
/// attempt outlives the clock, so a hung backend stops the sweep within `outage_wait`
/// plus one attempt's timeout, however many calls were waiting on it. A 429 is an answer
/// (the server is there, only busy).
#[derive(Debug)]
pub(crate) struct Health {
    outage_wait: Duration,
    state: std::sync::Mutex<HealthState>,
}

#[derive(Debug, Default)]
struct HealthState {
    last_answer: Option<tokio::time::Instant>,
    failing_since: Option<tokio::time::Instant>,
    down: Option<String>,
}

impl Health {
    pub(crate) fn new(outage_wait: Duration) -> Health {
        Health {
            outage_wait,
            state: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HealthState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An answer came: the clock stops.
    pub(crate) fn answered(&self) {
        let mut s = self.lock();
        s.last_answer = Some(tokio::time::Instant::now());
        s.failing_since = None;
    }

    /// An attempt begun at `started` got no answer.
    pub(crate) fn failed(&self, started: tokio::time::Instant) {
        let mut s = self.lock();
        let since = s.last_answer.map_or(started, |a| a.max(started));
        s.failing_since = Some(s.failing_since.map_or(since, |f| f.min(since)));
    }

    /// Why the backend is down, once it is (the clock ran out now or before).
    pub(crate) fn down(&self) -> Option<String> {
        let mut s = self.lock();
        if s.down.is_none() {
            if let Some(since) = s.failing_since {
                let silent = since.elapsed();
                if silent >= self.outage_wait {
                    s.down = Some(format!(
                        "nothing answered for {:.0} s (outage_wait_s = {})",
                        silent.as_secs_f64(),
                        self.outage_wait.as_secs_f64()
                    ));
                }
            }
        }
        s.down.clone()
    }

    /// How long the next attempt may take before the clock runs out (`None`: no clock
    /// running).
    pub(crate) fn window(&self) -> Option<Duration> {
        let s = self.lock();
        s.failing_since.map(|since| {
            (since + self.outage_wait).saturating_duration_since(tokio::time::Instant::now())
        })
    }
}

/// How one backend sends a request: its name (in errors), backoff, per-attempt timeout,
/// the provider-wide hold of the server's requested wait and its outage clock.
pub(crate) struct Transport {
    pub name: String,
    pub policy: RetryPolicy,
    pub timeout: Duration,
    pub hold: ServerHold,
    pub health: Health,
    pub sleeper: Arc<dyn Sleeper>,
}

impl Transport {
    /// A backend declared down after `outage_wait` without an answer.
    pub(crate) fn new(
        name: &str,
        policy: RetryPolicy,
        timeout: Duration,
        outage_wait: Duration,
    ) -> Transport {
        Transport {
            name: name.to_string(),
            policy,
            timeout,
            hold: ServerHold::default(),
            health: Health::new(outage_wait),
            sleeper: Arc::new(TokioSleeper),
        }
    }

    fn outage(&self, reason: String) -> LlmError {
        LlmError::Outage {
            provider: self.name.clone(),
            reason,
        }
    }

    /// Sends one request: `attempt(timeout)` is one try, re-sent unchanged on a transport
    /// fault with backoff and full jitter (drawn from an RNG seeded by `seed`, the
    /// request's bytes, only once a retry needs one), never sooner than the server
    /// asked; a timed-out attempt is retried with twice the time; the whole call has a
    /// deadline. The response carries the retries it took and its latency.
    pub(crate) async fn send<F, Fut>(
        &self,
        seed: &[u8],
        mut attempt: F,
    ) -> Result<ChatResponse, LlmError>
    where
        F: FnMut(Duration) -> Fut,
        Fut: std::future::Future<Output = Result<ChatResponse, LlmError>>,
    {
        // Seeded by the request, and only once a retry needs a jitter: hashing every
        // body up front cost 2-3% of a call's CPU for calls that never retry.
        let mut rng: Option<ChaCha8Rng> = None;
        let started = tokio::time::Instant::now();
        let deadline = started + self.policy.deadline;
        let mut retries: Vec<Retry> = Vec::new();
        let mut timeout = self.timeout;
        let mut server_wait: Option<Duration> = None;
        // A wait the server gave another call holds this one too.
        let held = self.hold.remaining();
        if !held.is_zero() {
            self.sleeper.sleep(held).await;
        }
        loop {
            if let Some(reason) = self.health.down() {
                return Err(self.outage(reason));
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let mut attempt_timeout = timeout.min(left.max(Duration::from_millis(1)));
            // No attempt outlives the outage clock.
            if let Some(window) = self.health.window() {
                attempt_timeout = attempt_timeout.min(window.max(Duration::from_millis(1)));
            }
            let attempt_started = tokio::time::Instant::now();
            let error = match attempt(attempt_timeout).await {
                Ok(mut r) => {
                    self.health.answered();
                    r.retries = retries;
                    r.latency_ms = started.elapsed().as_millis() as u64;
                    return Ok(r);
                }
                Err(e) => e,
            };
            let Some(fault) = error.fault() else {
                // Refused (a 4xx, an error of the protocol): the backend is there.
                self.health.answered();
                return Err(error);
            };
            if fault == Fault::RateLimit {
                self.health.answered();
            } else {
                self.health.failed(attempt_started);
                if let Some(reason) = self.health.down() {
                    return Err(self.outage(format!("{reason}; last: {error}")));
                }
            }
            self.note_server_wait(&error, &mut server_wait);
            let n = retries.len() as u32 + 1;
            let delay = self
                .policy
                .delay(
                    n,
                    server_wait,
                    rng.get_or_insert_with(|| ChaCha8Rng::seed_from_u64(hash64(seed))),
                )
                .max(self.hold.remaining());
            let out_of_time = tokio::time::Instant::now() + delay >= deadline;
            if retries.len() as u32 >= self.policy.max_retries || out_of_time {
                return Err(LlmError::RetriesExhausted {
                    provider: self.name.clone(),
                    attempts: n,
                    last: Box::new(error),
                });
            }
            if fault == Fault::Timeout {
                // The server may just be slow: give the same question more time.
                timeout = timeout.saturating_mul(2);
            }
            // Nor does a wait: the clock is checked again when it ends.
            let delay = self.health.window().map_or(delay, |w| delay.min(w));
            tracing::debug!(provider = %self.name, retry = n, ?delay, error = %error, "retrying");
            retries.push(Retry {
                fault,
                error: error.to_string().chars().take(300).collect(),
                delay_ms: delay.as_millis() as u64,
            });
            self.sleeper.sleep(delay).await;
        }
    }

    /// A `Retry-After` the server sent with `error`: kept as the longest wait this call
    /// has been asked for, and held for every call to this server.
    fn note_server_wait(&self, error: &LlmError, server_wait: &mut Option<Duration>) {
        if let LlmError::Http {
            retry_after: Some(wait),
            ..
        } = error
        {
            *server_wait = Some(server_wait.map_or(*wait, |w| w.max(*wait)));
            self.hold.note(*wait);
        }
    }

    /// A cheap request that tells whether the server answers, retried on transient faults
    /// like any call and never sooner than the server asked: a busy server is not a dead
    /// one.
    pub(crate) async fn probe<T, F, Fut>(&self, seed: &[u8], mut once: F) -> Result<T, LlmError>
    where
        F: FnMut(Duration) -> Fut,
        Fut: std::future::Future<Output = Result<T, LlmError>>,
    {
        let mut rng = ChaCha8Rng::seed_from_u64(hash64(seed));
        let mut server_wait: Option<Duration> = None;
        let mut retry = 0;
        let held = self.hold.remaining();
        if !held.is_zero() {
            self.sleeper.sleep(held).await;
        }
        loop {
            let error = match once(self.timeout).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if error.fault().is_none() || retry >= self.policy.max_retries {
                return Err(error);
            }
            self.note_server_wait(&error, &mut server_wait);
            retry += 1;
            let delay = self
                .policy
                .delay(retry, server_wait, &mut rng)
                .max(self.hold.remaining());
            tracing::debug!(provider = %self.name, retry, ?delay, error = %error, "probe retrying");
            self.sleeper.sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(timeout_s: u64, outage_s: u64) -> Transport {
        Transport::new(
            "agent",
            RetryPolicy {
                max_retries: 100,
                base: Duration::from_millis(200),
                max: Duration::from_secs(10),
                deadline: Duration::from_secs(3600),
            },
            Duration::from_secs(timeout_s),
            Duration::from_secs(outage_s),
        )
    }

    /// An attempt that hangs until its timeout.
    async fn hang(timeout: Duration) -> Result<ChatResponse, LlmError> {
        tokio::time::sleep(timeout).await;
        Err(LlmError::Timeout {
            provider: "agent".into(),
            after: timeout,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_backend_is_down_within_the_outage_wait_and_one_timeout() {
        for (timeout, outage) in [(30, 20), (30, 60), (5, 60)] {
            let t = Arc::new(transport(timeout, outage));
            let started = tokio::time::Instant::now();
            // Eight calls waiting on it at once, as eight runs would.
            let calls: Vec<_> = (0..8u8)
                .map(|i| {
                    let t = t.clone();
                    tokio::spawn(async move { t.send(&[i], hang).await })
                })
                .collect();
            for c in calls {
                assert!(matches!(c.await.unwrap(), Err(LlmError::Outage { .. })));
            }
            let took = started.elapsed();
            assert!(
                took <= Duration::from_secs(outage + timeout),
                "{timeout} s timeout, {outage} s outage wait: down after {took:?}"
            );
            // And a later call fails at once.
            let again = tokio::time::Instant::now();
            assert!(matches!(
                t.send(b"x", hang).await,
                Err(LlmError::Outage { .. })
            ));
            assert_eq!(again.elapsed(), Duration::ZERO);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_stops_the_clock_and_a_busy_server_is_not_down() {
        let t = transport(10, 15);
        // Each call hangs once, then is answered: never 15 s without an answer.
        for _ in 0..5 {
            let mut first = true;
            let r = t
                .send(b"x", |timeout| {
                    let hung = std::mem::replace(&mut first, false);
                    async move {
                        if hung {
                            hang(timeout).await
                        } else {
                            Ok(ChatResponse::live("ok".into(), Default::default(), None))
                        }
                    }
                })
                .await;
            assert!(r.is_ok(), "{r:?}");
        }
        // 429s for longer than the outage wait: the server is there, only busy.
        let mut n = 0;
        let r = t
            .send(b"y", |_| {
                n += 1;
                let busy = n < 20;
                async move {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    if busy {
                        Err(LlmError::Http {
                            provider: "agent".into(),
                            status: 429,
                            body: String::new(),
                            retry_after: None,
                        })
                    } else {
                        Ok(ChatResponse::live("ok".into(), Default::default(), None))
                    }
                }
            })
            .await;
        assert!(r.is_ok(), "{r:?}");
    }
}
