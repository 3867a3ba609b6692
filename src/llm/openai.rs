//! `kind = "openai"`: any OpenAI-compatible chat-completions server, through
//! async-openai's bring-your-own-types calls.
//!
//! async-openai's own retry layer is replaced (via `with_http_service`) by a one-shot
//! service that turns every non-success status into an error carrying the status, the
//! body text and `Retry-After`, so the retry loop here sees all it needs: it retries
//! 429, 5xx, timeouts and connection errors with exponential backoff and full jitter,
//! honouring `Retry-After`. The jitter is drawn from an RNG seeded by the request, and
//! a retry re-sends the identical request, so retries never change results.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_trait::async_trait;
use futures::future::BoxFuture;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use super::config::{ProviderConfig, StructuredOutput};
use super::model::{hash64, ChatModel, ChatRequest, ChatResponse, Usage};
use super::LlmError;

/// Backoff settings of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1-based): `Retry-After` when the server sent
    /// one (capped at `max`), else full jitter in `[0, min(max, base · 2^(retry-1))]`.
    pub fn delay(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut ChaCha8Rng,
    ) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.base.saturating_mul(factor).min(self.max);
        let ms = ceiling.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { rng.random_range(0..=ms) })
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
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

/// A non-success HTTP response, passed through async-openai as a boxed error.
#[derive(Debug, thiserror::Error)]
#[error("HTTP {status}: {body}")]
struct HttpFailure {
    status: u16,
    body: String,
    retry_after: Option<Duration>,
}

/// One attempt, no retry: async-openai's default executor retries on its own, which
/// would hide retries from the accounting and ignore our backoff.
#[derive(Clone)]
struct OneShot {
    http: reqwest::Client,
}

impl tower::Service<HttpRequestFactory> for OneShot {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let http = self.http.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let response = http.execute(request).await.map_err(OpenAIError::Reqwest)?;
            if response.status().is_success() {
                return Ok(response);
            }
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let body = match response.bytes().await {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => format!("<body unreadable: {e}>"),
            };
            Err(OpenAIError::Boxed(Box::new(HttpFailure {
                status,
                body,
                retry_after,
            })))
        })
    }
}

/// A chat completion as servers really send it: only `choices[].message.content` is
/// needed; `id`, `object`, `created`, `usage` may be missing and extra fields are fine.
#[derive(Debug, Deserialize)]
struct LenientCompletion {
    #[serde(default)]
    choices: Vec<LenientChoice>,
    #[serde(default)]
    usage: Option<LenientUsage>,
    /// Some servers answer 200 with an error object.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct LenientChoice {
    #[serde(default)]
    message: Option<LenientMessage>,
}

#[derive(Debug, Deserialize)]
struct LenientMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LenientUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// An OpenAI-compatible provider.
pub struct OpenAiModel {
    name: String,
    model: String,
    structured: StructuredOutput,
    timeout: Duration,
    retry: RetryPolicy,
    client: async_openai::Client<OpenAIConfig>,
    sleeper: Arc<dyn Sleeper>,
}

impl std::fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Deliberately leaves out the client (its config holds the key).
        f.debug_struct("OpenAiModel")
            .field("name", &self.name)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// Reads the key from the variable named by `api_key_env` (and nowhere else: without
/// `api_key_env` no key is sent, even if `OPENAI_API_KEY` is set).
pub fn read_key(name: &str, cfg: &ProviderConfig) -> Result<String, LlmError> {
    let Some(var) = &cfg.api_key_env else {
        return Ok(String::new());
    };
    let key = std::env::var(var).map_err(|_| LlmError::KeyMissing {
        provider: name.to_string(),
        var: var.clone(),
    })?;
    // async-openai panics on a header value it cannot build; refuse such keys here.
    if key.chars().any(|c| !(' '..='~').contains(&c)) {
        return Err(LlmError::Config(format!(
            "the value of `{var}` contains characters not allowed in an HTTP header"
        )));
    }
    Ok(key)
}

impl OpenAiModel {
    /// Builds the client of one `[providers.NAME]` block of kind `openai`.
    pub fn new(name: &str, cfg: &ProviderConfig) -> Result<OpenAiModel, LlmError> {
        let base = cfg.base_url.clone().ok_or_else(|| {
            LlmError::Config(format!("[providers.{name}]: `base_url` is required"))
        })?;
        let key = read_key(name, cfg)?;
        let timeout = Duration::from_secs_f64(cfg.timeout_s);
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| LlmError::Config(format!("[providers.{name}]: HTTP client: {e}")))?;
        let config = OpenAIConfig::new()
            .with_api_base(base.trim_end_matches('/'))
            .with_api_key(key);
        let client = async_openai::Client::with_config(config).with_http_service(OneShot { http });
        Ok(OpenAiModel {
            name: name.to_string(),
            model: cfg.model.clone().unwrap_or_default(),
            structured: cfg.structured_output,
            timeout,
            retry: RetryPolicy {
                max_retries: cfg.max_retries,
                base: Duration::from_millis(cfg.retry_base_ms),
                max: Duration::from_millis(cfg.retry_max_ms),
            },
            client,
            sleeper: Arc::new(TokioSleeper),
        })
    }

    /// Replaces how retries wait (tests record the delays instead).
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// The request body: model, messages, sampling parameters, response format.
    pub fn body(&self, request: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": request.messages,
            "stream": false,
        });
        let p = &request.params;
        if let Some(t) = p.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(s) = p.seed {
            body["seed"] = json!(s);
        }
        if let Some(m) = p.max_tokens {
            body["max_tokens"] = json!(m);
        }
        match (self.structured, &request.schema) {
            (StructuredOutput::JsonSchema, Some(s)) => {
                body["response_format"] = json!({"type": "json_schema",
                    "json_schema": {"name": s.name, "schema": s.schema, "strict": true}});
            }
            (StructuredOutput::JsonObject, _) => {
                body["response_format"] = json!({"type": "json_object"});
            }
            _ => {}
        }
        body
    }

    async fn attempt(&self, body: &Value) -> Result<LenientCompletion, LlmError> {
        let chat = self.client.chat();
        let call = chat.create_byot::<_, LenientCompletion>(body);
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(LlmError::Timeout {
                provider: self.name.clone(),
                after: self.timeout,
            }),
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(self.map_error(e)),
        }
    }

    fn map_error(&self, e: OpenAIError) -> LlmError {
        let provider = self.name.clone();
        match e {
            OpenAIError::Boxed(b) => match b.downcast::<HttpFailure>() {
                Ok(h) => LlmError::Http {
                    provider,
                    status: h.status,
                    body: h.body,
                    retry_after: h.retry_after,
                },
                Err(other) => LlmError::Connection {
                    provider,
                    detail: other.to_string(),
                },
            },
            OpenAIError::Reqwest(r) if r.is_timeout() => LlmError::Timeout {
                provider,
                after: self.timeout,
            },
            // Includes bodies cut off mid-transfer: a transport failure, worth a retry.
            OpenAIError::Reqwest(r) => LlmError::Connection {
                provider,
                detail: error_chain(&r),
            },
            OpenAIError::JSONDeserialize(err, content) => LlmError::BadResponse {
                provider,
                detail: format!("{err}; body: {}", truncate(&content, 500)),
            },
            OpenAIError::ApiError(api) => LlmError::Http {
                provider,
                status: api.status_code.as_u16(),
                body: api.api_error.message,
                retry_after: None,
            },
            other => LlmError::BadResponse {
                provider,
                detail: other.to_string(),
            },
        }
    }

    fn to_response(
        &self,
        request: &ChatRequest,
        c: LenientCompletion,
    ) -> Result<ChatResponse, LlmError> {
        let bad = |detail: String| LlmError::BadResponse {
            provider: self.name.clone(),
            detail,
        };
        if let Some(err) = c.error {
            return Err(bad(format!("server error object: {err}")));
        }
        let msg = c
            .choices
            .into_iter()
            .next()
            .and_then(|ch| ch.message)
            .ok_or_else(|| bad("no choices[0].message in the response".into()))?;
        // A refusal is an answer (the validator will reject it and the agent re-asks).
        let text = msg.content.or(msg.refusal).unwrap_or_default();
        let usage = match c.usage {
            Some(LenientUsage {
                prompt_tokens: Some(i),
                completion_tokens: Some(o),
            }) => Usage {
                tokens_in: i,
                tokens_out: o,
                estimated: false,
            },
            _ => Usage::estimate(&request.messages, &text),
        };
        Ok(ChatResponse {
            text,
            usage,
            cache_hit: false,
            retries: 0,
            latency_ms: 0,
        })
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The error and its sources on one line (reqwest hides the useful part in sources).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(src) = cur {
        s.push_str(": ");
        s.push_str(&src.to_string());
        cur = src.source();
    }
    s
}

#[async_trait]
impl ChatModel for OpenAiModel {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let body = self.body(request);
        let mut rng = ChaCha8Rng::seed_from_u64(hash64(body.to_string().as_bytes()));
        let started = tokio::time::Instant::now();
        let mut retries = 0u32;
        loop {
            match self.attempt(&body).await {
                Ok(c) => {
                    let mut r = self.to_response(request, c)?;
                    r.retries = retries;
                    r.latency_ms = started.elapsed().as_millis() as u64;
                    return Ok(r);
                }
                Err(e) if e.is_retryable() && retries < self.retry.max_retries => {
                    retries += 1;
                    let after = match &e {
                        LlmError::Http { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    let delay = self.retry.delay(retries, after, &mut rng);
                    tracing::debug!(provider = %self.name, retry = retries, ?delay, error = %e, "retrying");
                    self.sleeper.sleep(delay).await;
                }
                Err(e) if e.is_retryable() => {
                    return Err(LlmError::RetriesExhausted {
                        provider: self.name.clone(),
                        attempts: retries + 1,
                        last: Box::new(e),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }
}
