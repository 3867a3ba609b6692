//! A circuit breaker per provider: when a server stops answering, calls wait instead of
//! falling back, one waiting call at a time is sent again as the probe (the way calls
//! fail, never a cheaper request a failing server may still answer), and either it is
//! answered (the server is back: the waiting calls are sent again, unchanged) or, after
//! `outage_wait_s` without one answered call, the provider is declared down: every call
//! then fails with [`LlmError::Outage`], the runs in flight are abandoned (never
//! recorded) and the sweep stops, resumable. The transport's own outage clock
//! (`retry::Health`) declares a backend down in wall time even while calls are still
//! retrying; the breaker passes that on to every caller.
//!
//! So a run is never completed with answers that stood in for a server that was not
//! there: transport faults are retried (in the transport), outages are waited out or
//! stop the sweep, and only invalid *answers* are repaired or fall back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::model::{ChatModel, ChatRequest, ChatResponse};
use super::LlmError;

/// When the breaker opens and how long it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive calls that exhausted their retries before new calls wait for a probe.
    pub threshold: u32,
    /// How long the provider may go without one answered call before it is declared
    /// down.
    pub outage_wait: Duration,
    /// First wait between probes; doubles up to 16 times that.
    pub probe_every: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            threshold: 3,
            outage_wait: Duration::from_secs(120),
            probe_every: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// Exhausted calls since the last answered one.
    consecutive: u32,
    /// When the first of those failed.
    failing_since: Option<Instant>,
    /// A waiting call is out as the probe.
    probing: bool,
    /// No probe before this.
    next_probe: Option<Instant>,
    /// The wait before the probe after next.
    probe_wait: Option<Duration>,
    /// Set once the provider is declared down; final for the sweep.
    down: Option<String>,
}

/// A model behind its provider's circuit breaker.
pub struct Breaker {
    inner: Arc<dyn ChatModel>,
    provider: String,
    settings: BreakerSettings,
    state: Mutex<State>,
    /// Wakes the waiting calls when the breaker closes, a probe fails or it goes down.
    changed: Notify,
}

/// What a call may do now.
enum Gate {
    /// Go ahead.
    Closed,
    /// Go ahead as the probe of an open breaker.
    Probe,
    /// Wait (at most this long) for the probe.
    Wait(Duration),
}

impl Breaker {
    pub fn new(inner: Arc<dyn ChatModel>, provider: &str, settings: BreakerSettings) -> Breaker {
        Breaker {
            inner,
            provider: provider.to_string(),
            settings,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a few counters; a panic elsewhere cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn outage(&self, reason: String) -> LlmError {
        LlmError::Outage {
            provider: self.provider.clone(),
            reason,
        }
    }

    /// Whether a call may go ahead, as the probe, must wait, or the provider is down.
    fn gate(&self) -> Result<Gate, LlmError> {
        let mut s = self.lock();
        if let Some(reason) = &s.down {
            return Err(self.outage(reason.clone()));
        }
        if s.consecutive < self.settings.threshold {
            return Ok(Gate::Closed);
        }
        let since = s.failing_since.unwrap_or_else(Instant::now);
        if since.elapsed() >= self.settings.outage_wait {
            let reason = format!(
                "no call answered for {:.0} s ({} calls in a row exhausted their retries)",
                since.elapsed().as_secs_f64(),
                s.consecutive
            );
            s.down = Some(reason.clone());
            drop(s);
            self.changed.notify_waiters();
            return Err(self.outage(reason));
        }
        let now = Instant::now();
        let left = (since + self.settings.outage_wait).saturating_duration_since(now);
        match s.next_probe {
            _ if s.probing => Ok(Gate::Wait(left)),
            Some(at) if at > now => Ok(Gate::Wait((at - now).min(left))),
            _ => {
                s.probing = true;
                Ok(Gate::Probe)
            }
        }
    }

    fn answered(&self) {
        {
            let mut s = self.lock();
            s.consecutive = 0;
            s.failing_since = None;
            s.probing = false;
            s.next_probe = None;
            s.probe_wait = None;
        }
        self.changed.notify_waiters();
    }

    fn exhausted(&self, probe: bool) {
        {
            let mut s = self.lock();
            s.consecutive += 1;
            s.failing_since.get_or_insert_with(Instant::now);
            if probe {
                // The next probe after a wait that doubles.
                let wait = s.probe_wait.unwrap_or(self.settings.probe_every);
                s.next_probe = Some(Instant::now() + wait);
                s.probe_wait = Some((wait * 2).min(self.settings.probe_every * 16));
                s.probing = false;
            }
        }
        if probe {
            self.changed.notify_waiters();
        }
    }

    /// The probe ended some other way (a final error of its own): another call probes.
    fn probe_released(&self) {
        self.lock().probing = false;
        self.changed.notify_waiters();
    }

    fn declare_down(&self, reason: &str) {
        self.lock().down.get_or_insert_with(|| reason.to_string());
        self.changed.notify_waiters();
    }
}

#[async_trait]
impl ChatModel for Breaker {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        loop {
            // Created before the gate is read, so no wake-up between the two is lost.
            let woken = self.changed.notified();
            let probe = match self.gate()? {
                Gate::Closed => false,
                Gate::Probe => true,
                Gate::Wait(at_most) => {
                    tokio::select! {
                        _ = woken => {}
                        _ = tokio::time::sleep(at_most.max(Duration::from_millis(1))) => {}
                    }
                    continue;
                }
            };
            match self.inner.complete(request).await {
                Ok(response) => {
                    self.answered();
                    return Ok(response);
                }
                // The same request is sent again: once the breaker opens, only as the
                // probe; it stops when the provider is declared down.
                Err(LlmError::RetriesExhausted { provider, last, .. }) => {
                    tracing::warn!(%provider, error = %last, "a call exhausted its retries");
                    self.exhausted(probe);
                }
                Err(LlmError::Outage { provider, reason }) => {
                    self.declare_down(&reason);
                    return Err(LlmError::Outage { provider, reason });
                }
                Err(other) => {
                    if probe {
                        self.probe_released();
                    }
                    return Err(other);
                }
            }
        }
    }

    async fn probe(&self) -> Result<Vec<String>, LlmError> {
        self.inner.probe().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::RequestKind;
    use crate::llm::model::{CallContext, Usage};
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Fails with exhausted retries while `failures_left` says so; its cheap probe
    /// (`GET`) answers or not as `probes_failing` says, which the breaker never asks.
    struct Flaky {
        failures_left: AtomicU32,
        probes_failing: AtomicU32,
        calls: AtomicU32,
    }

    #[async_trait]
    impl ChatModel for Flaky {
        async fn complete(&self, _r: &ChatRequest) -> Result<ChatResponse, LlmError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.failures_left.load(Ordering::SeqCst) > 0 {
                self.failures_left.fetch_sub(1, Ordering::SeqCst);
                return Err(LlmError::RetriesExhausted {
                    provider: "p".into(),
                    attempts: 5,
                    last: Box::new(LlmError::Connection {
                        provider: "p".into(),
                        detail: "refused".into(),
                    }),
                });
            }
            Ok(ChatResponse::live("ok".into(), Usage::default(), None))
        }
        async fn probe(&self) -> Result<Vec<String>, LlmError> {
            if self.probes_failing.load(Ordering::SeqCst) > 0 {
                self.probes_failing.fetch_sub(1, Ordering::SeqCst);
                return Err(LlmError::Connection {
                    provider: "p".into(),
                    detail: "refused".into(),
                });
            }
            Ok(Vec::new())
        }
    }

    fn request() -> ChatRequest {
        ChatRequest {
            messages: Vec::new(),
            params: Default::default(),
            schema: None,
            context: CallContext {
                run_id: "r".into(),
                agent: 0,
                year: 1,
                kind: RequestKind::Decision,
                round: 0,
                repair: 0,
            },
            asked: None,
        }
    }

    fn flaky(failures: u32, probes_failing: u32) -> Arc<Flaky> {
        Arc::new(Flaky {
            failures_left: AtomicU32::new(failures),
            probes_failing: AtomicU32::new(probes_failing),
            calls: AtomicU32::new(0),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_comes_back_answers_the_waiting_call() {
        let inner = flaky(5, u32::MAX);
        let breaker = Breaker::new(inner.clone(), "p", BreakerSettings::default());
        let r = breaker.complete(&request()).await.unwrap();
        assert_eq!(r.text, "ok");
        // Three exhausted calls open the breaker; then the call itself is the probe:
        // two more failed, the third was answered.
        assert_eq!(inner.calls.load(Ordering::SeqCst), 6);
        assert_eq!(
            breaker.lock().consecutive,
            0,
            "an answer closes the breaker"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_stays_down_is_declared_down_for_every_caller() {
        let inner = flaky(u32::MAX, u32::MAX);
        let settings = BreakerSettings {
            outage_wait: Duration::from_secs(30),
            ..BreakerSettings::default()
        };
        let breaker = Breaker::new(inner.clone(), "p", settings);
        let started = Instant::now();
        let err = breaker.complete(&request()).await.unwrap_err();
        assert!(matches!(err, LlmError::Outage { .. }), "{err}");
        // Declared down once the wait ran out (in virtual time), not before.
        assert!(started.elapsed() >= Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(60));
        // Later calls fail at once, without touching the server.
        let calls = inner.calls.load(Ordering::SeqCst);
        assert!(matches!(
            breaker.complete(&request()).await,
            Err(LlmError::Outage { .. })
        ));
        assert_eq!(inner.calls.load(Ordering::SeqCst), calls);
    }

    /// A failing server that still answers a cheap probe is probed the way calls fail:
    /// one question at a time, after waits that double, until the outage wait runs out,
    /// never sent again and again because a `GET` says the server is there.
    #[tokio::test(start_paused = true)]
    async fn the_probe_is_the_call_itself_and_waits_between_tries() {
        let inner = flaky(u32::MAX, 0);
        let settings = BreakerSettings {
            outage_wait: Duration::from_secs(20),
            ..BreakerSettings::default()
        };
        let breaker = Arc::new(Breaker::new(inner.clone(), "p", settings));
        // Eight runs waiting on the provider at once.
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let b = breaker.clone();
                tokio::spawn(async move { b.complete(&request()).await })
            })
            .collect();
        for c in calls {
            assert!(matches!(c.await.unwrap(), Err(LlmError::Outage { .. })));
        }
        // The eight first tries, then one probe at a time after 1, 2, 4 and 8 s.
        let sent = inner.calls.load(Ordering::SeqCst);
        assert!((8..=8 + 5).contains(&sent), "{sent} calls");
    }
}
