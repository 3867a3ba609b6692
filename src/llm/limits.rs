//! Per-provider limits shared by every run of a sweep: a semaphore for
//! `max_concurrency` and a token bucket for `requests_per_minute`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use super::model::{ChatModel, ChatRequest, ChatResponse};
use super::LlmError;

/// A token bucket holding at most `per_minute` tokens, refilled continuously.
#[derive(Debug)]
pub struct TokenBucket {
    per_minute: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(per_minute: u32) -> TokenBucket {
        let cap = per_minute.max(1) as f64;
        TokenBucket {
            per_minute: cap,
            state: Mutex::new((cap, Instant::now())),
        }
    }

    /// Waits until a token is available and takes it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                let refill = now.duration_since(s.1).as_secs_f64() * self.per_minute / 60.0;
                s.0 = (s.0 + refill).min(self.per_minute);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.0) * 60.0 / self.per_minute)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// A model behind the limits of its provider.
pub struct Limited {
    inner: Arc<dyn ChatModel>,
    permits: Arc<Semaphore>,
    bucket: Option<Arc<TokenBucket>>,
}

impl Limited {
    pub fn new(inner: Arc<dyn ChatModel>, max_concurrency: u32, rpm: Option<u32>) -> Limited {
        Limited {
            inner,
            permits: Arc::new(Semaphore::new(max_concurrency.max(1) as usize)),
            bucket: rpm.map(|r| Arc::new(TokenBucket::new(r))),
        }
    }
}

#[async_trait]
impl ChatModel for Limited {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| LlmError::Config("provider semaphore closed".into()))?;
        if let Some(b) = &self.bucket {
            b.acquire().await;
        }
        self.inner.complete(request).await
    }

    /// Probes go straight through: they must work while calls queue.
    async fn probe(&self) -> Result<Vec<String>, LlmError> {
        self.inner.probe().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rate_limit_spaces_calls_in_virtual_time() {
        let bucket = TokenBucket::new(60);
        let start = tokio::time::Instant::now();
        for _ in 0..62 {
            bucket.acquire().await;
        }
        // 60 in the burst, then one per second.
        assert_eq!(start.elapsed().as_secs(), 2);
    }
}
