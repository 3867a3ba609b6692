//! A circuit breaker per provider: when a server stops answering, calls wait instead of
//! falling back, the server is probed, and either it comes back (the waiting calls are
//! sent again, unchanged) or, after `outage_wait_s` without one answered call, the
//! provider is declared down: every call then fails with [`LlmError::Outage`], the runs
//! in flight are abandoned (never recorded) and the sweep stops, resumable.
//!
//! So a run is never completed with answers that stood in for a server that was not
//! there: transport faults are retried (in the transport), outages are waited out or
//! stop the sweep, and only invalid *answers* are repaired or fall back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
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
    /// Set once the provider is declared down; final for the sweep.
    down: Option<String>,
}

/// A model behind its provider's circuit breaker.
pub struct Breaker {
    inner: Arc<dyn ChatModel>,
    provider: String,
    settings: BreakerSettings,
    state: Mutex<State>,
}

enum Gate {
    Closed,
    Open,
}

impl Breaker {
    pub fn new(inner: Arc<dyn ChatModel>, provider: &str, settings: BreakerSettings) -> Breaker {
        Breaker {
            inner,
            provider: provider.to_string(),
            settings,
            state: Mutex::new(State::default()),
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

    /// Whether calls may go ahead, or the provider is down for good.
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
            return Err(self.outage(reason));
        }
        Ok(Gate::Open)
    }

    /// Probe with backoff until the server answers (then calls may be sent again) or the
    /// outage wait runs out.
    async fn wait_for_server(&self) -> Result<(), LlmError> {
        let mut wait = self.settings.probe_every;
        loop {
            if let Gate::Closed = self.gate()? {
                return Ok(());
            }
            if self.inner.probe().await.is_ok() {
                return Ok(());
            }
            tracing::warn!(provider = %self.provider, ?wait, "provider not answering; probing again");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.settings.probe_every * 16);
        }
    }

    fn answered(&self) {
        let mut s = self.lock();
        s.consecutive = 0;
        s.failing_since = None;
    }

    fn exhausted(&self) {
        let mut s = self.lock();
        s.consecutive += 1;
        s.failing_since.get_or_insert_with(Instant::now);
    }
}

#[async_trait]
impl ChatModel for Breaker {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        loop {
            if let Gate::Open = self.gate()? {
                self.wait_for_server().await?;
            }
            match self.inner.complete(request).await {
                Ok(response) => {
                    self.answered();
                    return Ok(response);
                }
                // The same request is sent again: once the breaker opens, only after the
                // server answers a probe; it stops when the provider is declared down.
                Err(LlmError::RetriesExhausted { provider, last, .. }) => {
                    tracing::warn!(%provider, error = %last, "a call exhausted its retries");
                    self.exhausted();
                }
                Err(other) => return Err(other),
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

    /// Fails with exhausted retries while `down` says so; counts calls and probes.
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
        let inner = flaky(5, 3);
        let breaker = Breaker::new(inner.clone(), "p", BreakerSettings::default());
        let r = breaker.complete(&request()).await.unwrap();
        assert_eq!(r.text, "ok");
        // Three exhausted calls open the breaker; two more were sent after probes.
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
}
