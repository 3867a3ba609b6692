//! `kind = "openai"`: any OpenAI-compatible chat-completions server, through
//! async-openai's bring-your-own-types calls.
//!
//! async-openai's own retry layer is replaced (via `with_http_service`) by a one-shot
//! service that turns every non-success status into an error carrying the status, the
//! body text and the server's requested wait (`retry-after-ms`, `Retry-After` in seconds
//! or as an HTTP date), so the retry loop here sees all it needs.
//!
//! Transport faults never change a result: the loop re-sends the identical request on
//! 429, 5xx, timeouts, connection errors, and success responses whose body is not a chat
//! completion (truncated or invalid JSON, HTML, empty, no `choices`), with exponential
//! backoff and full jitter, never sooner than the server asked (for every later retry
//! too). A request that timed out is re-sent with twice the timeout, so a slow server is
//! not asked the same doomed question again; the whole call has a deadline. The jitter
//! is drawn from an RNG seeded by the request. A model's answer that is merely invalid
//! is not a transport fault: it comes back as text, and the agent repairs it.

use std::time::Duration;

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_trait::async_trait;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

mod wire;

pub use super::retry::RetryPolicy;
use super::retry::{server_wait, Transport};
use wire::{
    Body, HttpFailure, JsonSchemaFormat, LenientCompletion, LenientUsage, OneShot, ResponseFormat,
    WireMessage,
};

use super::config::{Backend, Provider, StructuredOutput};
use super::model::{ChatModel, ChatRequest, ChatResponse, Usage};
use super::LlmError;

/// An OpenAI-compatible provider.
pub struct OpenAiModel {
    name: String,
    model: String,
    base_url: String,
    structured: StructuredOutput,
    /// Retries, timeouts and the server's requested wait, shared by every call to this
    /// provider.
    transport: Transport,
    client: async_openai::Client<OpenAIConfig>,
    http: reqwest::Client,
    key: Option<String>,
}

impl std::fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Deliberately leaves out the client and the key.
        f.debug_struct("OpenAiModel")
            .field("name", &self.name)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// Reads the key from the variable named by `api_key_env` (and nowhere else: without
/// `api_key_env` no key is sent, even if `OPENAI_API_KEY` is set).
pub fn read_key(name: &str, api_key_env: Option<&str>) -> Result<String, LlmError> {
    let Some(var) = api_key_env else {
        return Ok(String::new());
    };
    let key = std::env::var(var).map_err(|_| LlmError::KeyMissing {
        provider: format!("provider {name}"),
        var: var.to_string(),
        field: "api_key_env".into(),
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
    pub fn new(name: &str, provider: &Provider) -> Result<OpenAiModel, LlmError> {
        let Backend::Openai {
            base_url,
            api_key_env,
            timeout_s,
            retry,
            ..
        } = &provider.backend
        else {
            return Err(LlmError::Config(format!(
                "[providers.{name}] is not of kind \"openai\""
            )));
        };
        let key = read_key(name, api_key_env.as_deref())?;
        let timeout = Duration::from_secs_f64(*timeout_s);
        install_tls_provider(name, base_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| LlmError::Config(format!("[providers.{name}]: HTTP client: {e}")))?;
        let base = base_url.trim_end_matches('/').to_string();
        let config = OpenAIConfig::new()
            .with_api_base(&base)
            .with_api_key(key.clone());
        let client = async_openai::Client::with_config(config)
            .with_http_service(OneShot { http: http.clone() });
        Ok(OpenAiModel {
            name: name.to_string(),
            model: provider.model.clone(),
            base_url: base,
            structured: provider.structured_output,
            transport: Transport::new(
                name,
                RetryPolicy {
                    max_retries: retry.max_retries,
                    base: Duration::from_millis(retry.base_ms),
                    max: Duration::from_millis(retry.max_ms),
                    deadline: Duration::from_secs_f64(retry.deadline_s),
                },
                timeout,
                Duration::from_secs_f64(provider.outage_wait_s),
            ),
            client,
            http,
            key: Some(key).filter(|k| !k.is_empty()),
        })
    }

    /// Replaces how retries wait (tests record the delays instead).
    #[cfg(test)]
    pub fn with_sleeper(mut self, sleeper: std::sync::Arc<dyn super::retry::Sleeper>) -> Self {
        self.transport.sleeper = sleeper;
        self
    }

    /// The request body: model, messages, sampling parameters, response format.
    fn body<'a>(&'a self, request: &'a ChatRequest) -> Body<'a> {
        let p = &request.params;
        let response_format = match (self.structured, &request.schema) {
            (StructuredOutput::JsonSchema | StructuredOutput::JsonSchemaNested, Some(s)) => {
                Some(ResponseFormat {
                    json_schema: Some(JsonSchemaFormat {
                        name: &s.name,
                        schema: &s.schema,
                        strict: true,
                    }),
                    kind: "json_schema",
                })
            }
            (StructuredOutput::JsonObject, _) => Some(ResponseFormat {
                json_schema: None,
                kind: "json_object",
            }),
            _ => None,
        };
        Body {
            max_tokens: p.max_tokens,
            messages: request
                .messages
                .iter()
                .map(|m| WireMessage {
                    content: &m.content,
                    role: &m.role,
                })
                .collect(),
            model: &self.model,
            response_format,
            seed: p.seed,
            stream: false,
            temperature: p.temperature,
        }
    }

    /// The body's JSON text, written once per call: hashed for the retry jitter and sent
    /// as is by every attempt.
    fn body_text(&self, request: &ChatRequest) -> Result<Box<RawValue>, LlmError> {
        serde_json::to_string(&self.body(request))
            .and_then(RawValue::from_string)
            .map_err(|e| LlmError::BadResponse {
                provider: self.name.clone(),
                detail: format!("the request could not be written as JSON: {e}"),
            })
    }

    /// One attempt with its own timeout.
    async fn attempt(
        &self,
        request: &ChatRequest,
        body: &RawValue,
        timeout: Duration,
    ) -> Result<ChatResponse, LlmError> {
        let chat = self.client.chat();
        let call = chat.create_byot::<_, LenientCompletion>(body);
        match tokio::time::timeout(timeout, call).await {
            Err(_) => Err(LlmError::Timeout {
                provider: self.name.clone(),
                after: timeout,
            }),
            Ok(Ok(c)) => self.to_response(request, c),
            Ok(Err(e)) => Err(self.map_error(e, timeout)),
        }
    }

    fn map_error(&self, e: OpenAIError, timeout: Duration) -> LlmError {
        let provider = self.name.clone();
        match e {
            // The one-shot service's own error, carried through async-openai's boxed
            // variant: the only way to keep the status and the server's wait.
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
                after: timeout,
            },
            OpenAIError::Reqwest(r) if r.is_decode() || r.is_body() => LlmError::BadResponse {
                provider,
                detail: error_chain(&r),
            },
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
        let choice = c
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| bad("no choices[0] in the response".into()))?;
        let finish_reason = choice.finish_reason;
        let msg = choice
            .message
            .ok_or_else(|| bad("no choices[0].message in the response".into()))?;
        // A refusal is an answer (the validator will reject it and the agent re-asks).
        let text = msg.content.or(msg.refusal).unwrap_or_default();
        let usage = match c.usage {
            Some(LenientUsage {
                prompt_tokens: Some(i),
                completion_tokens: Some(o),
                prompt_tokens_details,
            }) => Usage {
                tokens_in: i,
                tokens_out: o,
                tokens_cached: prompt_tokens_details.and_then(|d| d.cached_tokens),
                estimated: false,
            },
            _ => Usage::estimate(&request.messages, &text),
        };
        Ok(ChatResponse::live(text, usage, finish_reason))
    }
}

/// HTTPS needs a TLS stack: the ring-based rustls provider when built with the `tls`
/// feature (the default); without it, an `https://` URL is refused with the fix.
#[cfg(feature = "tls")]
pub(crate) fn install_tls_provider(_name: &str, _base_url: &str) -> Result<(), LlmError> {
    // Installing twice is harmless: the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(())
}

#[cfg(not(feature = "tls"))]
pub(crate) fn install_tls_provider(name: &str, base_url: &str) -> Result<(), LlmError> {
    if base_url.starts_with("https://") {
        return Err(LlmError::Config(format!(
            "[providers.{name}]: {base_url} needs HTTPS, but this fishbanks was built without TLS; rebuild with the default features (`cargo build --release`)"
        )));
    }
    Ok(())
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
        let body = self.body_text(request)?;
        self.transport
            .send(body.get().as_bytes(), |timeout| {
                self.attempt(request, &body, timeout)
            })
            .await
    }

    /// `GET /models`, retried on transient faults (429, 5xx, timeouts, resets) like any
    /// call and never sooner than the server asked: a busy server is not a dead one.
    async fn probe(&self) -> Result<Vec<String>, LlmError> {
        self.transport
            .probe(self.base_url.as_bytes(), |_| self.probe_once())
            .await
    }
}

impl OpenAiModel {
    /// How many requests the server answers at once, where it says (`None`: it does not
    /// say): llama.cpp's `GET /props` (`total_slots`) or `GET /slots` (one entry per slot),
    /// at the base URL or at its root (without `/v1`). One try each, no retry: a doctor's
    /// question.
    pub async fn slots(&self) -> Option<u32> {
        let root = self.base_url.strip_suffix("/v1").unwrap_or(&self.base_url);
        let mut bases = vec![self.base_url.as_str()];
        if root != self.base_url {
            bases.push(root);
        }
        for base in bases {
            for (path, read) in [
                (
                    "props",
                    (|v: &Value| v["total_slots"].as_u64()) as fn(&Value) -> Option<u64>,
                ),
                ("slots", |v: &Value| v.as_array().map(|a| a.len() as u64)),
            ] {
                let mut request = self.http.get(format!("{base}/{path}"));
                if let Some(key) = &self.key {
                    request = request.bearer_auth(key);
                }
                let Ok(Ok(response)) =
                    tokio::time::timeout(self.transport.timeout, request.send()).await
                else {
                    continue;
                };
                if !response.status().is_success() {
                    continue;
                }
                let body = response.bytes().await.unwrap_or_default();
                let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if let Some(n) = read(&value).filter(|n| *n > 0) {
                    return Some(n.min(u32::MAX as u64) as u32);
                }
            }
        }
        None
    }

    /// One `GET /models`: answers when the server is up, whatever its load.
    async fn probe_once(&self) -> Result<Vec<String>, LlmError> {
        let mut request = self.http.get(format!("{}/models", self.base_url));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let response = tokio::time::timeout(self.transport.timeout, request.send())
            .await
            .map_err(|_| LlmError::Timeout {
                provider: self.name.clone(),
                after: self.transport.timeout,
            })?
            .map_err(|e| LlmError::Connection {
                provider: self.name.clone(),
                detail: error_chain(&e),
            })?;
        if response.status().is_success() {
            // Servers that list no models (or not as OpenAI does) still answered.
            let body = response.bytes().await.unwrap_or_default();
            let listed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            Ok(listed["data"]
                .as_array()
                .map(|models| {
                    models
                        .iter()
                        .filter_map(|m| m["id"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default())
        } else {
            Err(LlmError::Http {
                provider: self.name.clone(),
                status: response.status().as_u16(),
                body: String::new(),
                retry_after: server_wait(response.headers()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{Agent, AgentStats, Decision, Request, RequestKind};
    use crate::engine::{self, Applied, GameParams, State};
    use crate::llm::config::{BudgetConfig, LlmSettings, ProviderConfig};
    use crate::llm::factory::{sample_observation, AgentFactory};
    use crate::llm::mock::Policy;
    use crate::llm::model::{CallContext, ChatMessage, Fault as ModelFault};
    use crate::llm::retry::{parse_retry_after, Sleeper};
    use crate::llm::testutil::{
        decide, factory, facts, mock_providers, obs, openai_config, providers, section, spec,
        Server,
    };
    use crate::llm::CacheMode;
    use crate::testkit::mock_server::{Fault, ServerOptions};
    use serde_json::json;
    use std::sync::Arc;
    use std::sync::Mutex;

    /// Records the delays the transport asked for, without waiting.
    #[derive(Default)]
    struct RecordingSleeper(Mutex<Vec<Duration>>);

    impl Sleeper for RecordingSleeper {
        fn sleep(&self, delay: Duration) -> BoxFuture<'static, ()> {
            self.0.lock().unwrap().push(delay);
            Box::pin(async {})
        }
    }

    fn faults(only: Fault, rate: f64) -> ServerOptions {
        ServerOptions {
            fault_rate: rate,
            faults: vec![only],
            ..ServerOptions::default()
        }
    }

    fn model(config: &ProviderConfig) -> OpenAiModel {
        OpenAiModel::new("p", &config.resolve().unwrap()).unwrap()
    }

    fn prompt(o: &crate::agents::Observation) -> Vec<ChatMessage> {
        let f = factory(&mock_providers(Policy::Greedy, 0.0));
        let none = section("none");
        f.llm_agent(&spec("r", 0, &none))
            .unwrap()
            .prompt(&Request::decision(), o)
    }

    /// The body as it was built before it was borrowed: a `Value`, whose maps are sorted.
    fn body_as_value(m: &OpenAiModel, request: &ChatRequest) -> Value {
        let mut body = json!({"model": m.model, "messages": request.messages, "stream": false});
        let p = &request.params;
        if let Some(t) = p.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(s) = p.seed {
            body["seed"] = json!(s);
        }
        if let Some(n) = p.max_tokens {
            body["max_tokens"] = json!(n);
        }
        match (m.structured, &request.schema) {
            (StructuredOutput::JsonSchema | StructuredOutput::JsonSchemaNested, Some(s)) => {
                body["response_format"] = json!({"type": "json_schema",
                    "json_schema": {"name": s.name, "schema": s.value(), "strict": true}});
            }
            (StructuredOutput::JsonObject, _) => {
                body["response_format"] = json!({"type": "json_object"});
            }
            _ => {}
        }
        body
    }

    #[test]
    fn the_borrowed_body_writes_the_bytes_of_the_sorted_value() {
        let o = obs();
        let limits = crate::question::Limits { max_fish: 4500 };
        let schema = Request::decision().question().schema(&o, limits);
        for mode in [
            StructuredOutput::JsonSchema,
            StructuredOutput::JsonSchemaNested,
            StructuredOutput::JsonObject,
            StructuredOutput::None,
        ] {
            for (temperature, seed, max_tokens) in
                [(None, None, None), (Some(0.7), Some(-12), Some(300))]
            {
                let mut config = openai_config("http://127.0.0.1:9/v1");
                config.structured_output = Some(mode);
                let m = model(&config);
                let mut r = request(&o);
                r.params = crate::llm::model::SamplingParams {
                    temperature,
                    seed,
                    max_tokens,
                };
                r.schema = Some(crate::llm::model::AnswerSchema::new("decision", &schema));
                r.messages
                    .push(ChatMessage::user("quote \" and <tag> and \u{e9}"));
                let text = m.body_text(&r).unwrap();
                assert_eq!(text.get(), body_as_value(&m, &r).to_string(), "{mode:?}");
            }
        }
    }

    fn request(o: &crate::agents::Observation) -> ChatRequest {
        ChatRequest {
            messages: prompt(o),
            params: Default::default(),
            schema: None,
            context: CallContext {
                run_id: "r".into(),
                agent: 0,
                year: 3,
                kind: RequestKind::Decision,
                round: 0,
                repair: 0,
            },
            asked: None,
        }
    }

    #[tokio::test]
    async fn every_transport_fault_is_retried_to_the_same_answer() {
        let o = obs();
        let clean = Server::start(ServerOptions::default()).await;
        let expected = model(&openai_config(&clean.url))
            .complete(&request(&o))
            .await
            .unwrap();
        assert!(expected.retries.is_empty());
        clean.stop().await;
        for fault in [
            Fault::RateLimit,
            Fault::RateLimitBare,
            Fault::Http500,
            Fault::Http503,
            Fault::Reset,
            Fault::NonOpenai,
            Fault::TruncatedBody,
        ] {
            let server = Server::start(faults(fault, 1.0)).await;
            let sleeper = Arc::new(RecordingSleeper::default());
            let m = model(&openai_config(&server.url)).with_sleeper(sleeper.clone());
            let got = m
                .complete(&request(&o))
                .await
                .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
            assert_eq!(got.text, expected.text, "{fault:?}");
            assert_eq!(got.retries.len(), 2, "{fault:?}");
            let kind = match fault {
                Fault::RateLimit | Fault::RateLimitBare => ModelFault::RateLimit,
                Fault::Http500 | Fault::Http503 | Fault::NonOpenai => ModelFault::ServerError,
                Fault::Reset => ModelFault::Connection,
                Fault::TruncatedBody => ModelFault::Malformed,
                other => panic!("{other:?} is not a transport fault"),
            };
            assert!(
                got.retries.iter().all(|r| r.fault == kind),
                "{fault:?}: {:?}",
                got.retries
            );
            let delays = sleeper.0.lock().unwrap().clone();
            if fault == Fault::RateLimit {
                // Retry-After: 1 honoured, plus at most a tenth against lockstep.
                assert!(
                    delays
                        .iter()
                        .all(|d| *d >= Duration::from_secs(1) && *d <= Duration::from_millis(1100)),
                    "Retry-After honoured: {delays:?}"
                );
            } else {
                assert!(
                    delays[0] <= Duration::from_millis(500)
                        && delays[1] <= Duration::from_millis(1000),
                    "{fault:?} {delays:?}"
                );
            }
            server.stop().await;
        }
    }

    /// One canned HTTP answer: status line, extra headers, body.
    type Answer = (&'static str, Vec<(&'static str, String)>, String);

    /// A loopback server answering successive requests with `answers` in order (the last
    /// one repeated).
    async fn answering(answers: Vec<Answer>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move {
            for i in 0.. {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (status, headers, body) = &answers[i.min(answers.len() - 1)];
                if crate::testkit::mock_server::read_request(&mut stream)
                    .await
                    .is_ok()
                {
                    let headers: Vec<(&str, String)> =
                        headers.iter().map(|(k, v)| (*k, v.clone())).collect();
                    let _ =
                        crate::testkit::mock_server::respond(&mut stream, status, &headers, body)
                            .await;
                }
            }
        });
        url
    }

    #[tokio::test]
    async fn a_probe_retries_a_busy_server_and_waits_as_asked() {
        let busy = (
            "429 Too Many Requests",
            vec![
                ("retry-after-ms", "1000".to_string()),
                ("retry-after", "1".to_string()),
            ],
            "{}".to_string(),
        );
        let listed = ("200 OK", vec![], r#"{"data": [{"id": "m"}]}"#.to_string());
        let url = answering(vec![busy.clone(), busy, listed]).await;
        let sleeper = Arc::new(RecordingSleeper::default());
        let m = model(&openai_config(&url)).with_sleeper(sleeper.clone());
        assert_eq!(m.probe().await.unwrap(), vec!["m".to_string()]);
        let delays = sleeper.0.lock().unwrap().clone();
        assert_eq!(delays.len(), 2, "{delays:?}");
        assert!(
            delays.iter().all(|d| *d >= Duration::from_millis(900)),
            "never sooner than the server asked: {delays:?}"
        );
    }

    #[tokio::test]
    async fn a_wait_the_server_gave_one_call_holds_the_next_call_too() {
        // One 429 asking for a minute, then answers: the first call gives up at once
        // (no retries), and the next call (as the circuit breaker would re-send it)
        // must still wait out the minute before it is sent.
        let busy = (
            "429 Too Many Requests",
            vec![("retry-after", "60".to_string())],
            "{}".to_string(),
        );
        let url = answering(vec![busy]).await;
        let sleeper = Arc::new(RecordingSleeper::default());
        let mut cfg = openai_config(&url);
        cfg.max_retries = Some(0);
        let m = model(&cfg).with_sleeper(sleeper.clone());
        let o = obs();
        assert!(m.complete(&request(&o)).await.is_err());
        assert!(sleeper.0.lock().unwrap().is_empty(), "no retry was allowed");
        let _ = m.complete(&request(&o)).await;
        let delays = sleeper.0.lock().unwrap().clone();
        assert_eq!(delays.len(), 1, "{delays:?}");
        assert!(
            delays[0] > Duration::from_secs(30) && delays[0] <= Duration::from_secs(60),
            "{delays:?}"
        );
    }

    #[tokio::test]
    async fn non_openai_error_bodies_become_errors_with_their_text() {
        let server = Server::start(faults(Fault::NonOpenai, 1.0)).await;
        let mut cfg = openai_config(&server.url);
        cfg.max_retries = Some(0);
        let err = model(&cfg).complete(&request(&obs())).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("503") && text.contains("model backend overloaded"),
            "{text}"
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn a_hanging_server_times_out() {
        let server = Server::start(faults(Fault::Hang, 1.0)).await;
        let mut cfg = openai_config(&server.url);
        cfg.max_retries = Some(0);
        cfg.timeout_s = Some(0.2);
        let err = model(&cfg).complete(&request(&obs())).await.unwrap_err();
        assert!(matches!(
            *match err {
                LlmError::RetriesExhausted { last, .. } => last,
                e => Box::new(e),
            },
            LlmError::Timeout { .. }
        ));
        server.stop().await;
    }

    #[tokio::test]
    async fn lenient_responses_refusals_and_missing_usage() {
        let server = Server::start(ServerOptions {
            omit_usage: true,
            ..faults(Fault::Refusal, 1.0)
        })
        .await;
        let r = model(&openai_config(&server.url))
            .complete(&request(&obs()))
            .await
            .unwrap();
        assert!(r.usage.estimated && r.usage.tokens_in > 0);
        assert!(
            r.text.contains("can't help"),
            "refusal text is the answer: {}",
            r.text
        );
        server.stop().await;
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        // A date a fraction of a second away is rounded up, never early.
        let soon = now - Duration::from_millis(300) + Duration::from_secs(2);
        let date = httpdate::fmt_http_date(soon);
        assert!(parse_retry_after(&date, now).unwrap() >= Duration::from_secs(1));
    }

    /// Plays `years` years with six LLM agents and no protocol, using only the engine;
    /// returns the applied decisions, the final state and the summed stats.
    async fn play(
        factory: &AgentFactory,
        run: &str,
        years: u32,
    ) -> (Vec<Vec<Applied>>, State, AgentStats) {
        let params = GameParams::default();
        let none = section("none");
        let mut agents: Vec<Box<dyn Agent>> = (0..6)
            .map(|i| factory.agent(&spec(run, i, &none)).unwrap())
            .collect();
        let mut state = State::initial(&params, 6);
        let a = engine::initial_deployment(params.initial_ships);
        let mut last = vec![
            Decision {
                order: 0,
                deep: a.deep as i64,
                coast: a.coast as i64,
            };
            6
        ];
        let mut history = vec![];
        for year in 1..=years {
            let mut obs = sample_observation(&facts(), year);
            obs.public.density = Some(
                [
                    state.density(&params, engine::Area::Deep),
                    state.density(&params, engine::Area::Coast),
                ]
                .map(|d| (d * 100.0).round() / 100.0),
            );
            let futs = agents.iter_mut().enumerate().map(|(i, a)| {
                let mut o = obs.clone();
                o.own.team = i;
                o.own.ships = state.teams[i].ships;
                o.own.bank = state.teams[i].bank;
                o.own.order_limit = params.order_limit(o.own.ships);
                o.own.last_decision = last[i];
                async move { decide(a.as_mut(), &o).await.unwrap() }
            });
            let decisions: Vec<Decision> = futures::future::join_all(futs).await;
            let out = engine::step(&params, &state, &decisions, &[None; 6]);
            history.push(out.teams.iter().map(|t| t.applied).collect());
            last = decisions;
            state = out.state;
        }
        let mut stats = AgentStats::default();
        for a in &agents {
            stats.add(&a.stats());
        }
        (history, state, stats)
    }

    fn factory_at(url: &str, dir: &std::path::Path, mode: CacheMode) -> AgentFactory {
        let mut p = openai_config(url);
        p.retry_base_ms = Some(1);
        p.max_concurrency = Some(3);
        AgentFactory::new(
            &providers(p),
            &LlmSettings::default(),
            facts(),
            dir,
            mode,
            &BudgetConfig::default(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_game_over_loopback_with_faults_equals_the_game_without_then_replays_offline() {
        let dir = tempfile::tempdir().unwrap();
        let clean = Server::start(ServerOptions {
            policy: Policy::Sustainable,
            ..ServerOptions::default()
        })
        .await;
        let f = factory_at(&clean.url, &dir.path().join("a"), CacheMode::Live);
        let (want, want_state, s0) = play(&f, "e2e", 4).await;
        clean.stop().await;
        assert_eq!((s0.llm_retries, s0.repairs), (0, 0));

        let faulty = Server::start(ServerOptions {
            policy: Policy::Sustainable,
            fault_rate: 0.4,
            faults: Fault::ALL
                .iter()
                .copied()
                .filter(|f| *f != Fault::Hang)
                .collect(),
            ..ServerOptions::default()
        })
        .await;
        let cache = dir.path().join("b");
        let f = factory_at(&faulty.url, &cache, CacheMode::Record);
        let (got, got_state, s1) = play(&f, "e2e", 4).await;
        assert!(
            faulty
                .stats
                .faults
                .load(std::sync::atomic::Ordering::SeqCst)
                > 0
        );
        faulty.stop().await;
        assert_eq!(got, want);
        assert_eq!(got_state, want_state);
        assert!(
            s1.llm_retries + s1.repairs > 0 && s1.fallbacks == 0,
            "{s1:?}"
        );

        // The server is gone: replay from the cache alone.
        let f = factory_at("http://127.0.0.1:9/v1", &cache, CacheMode::Replay);
        let (again, again_state, s2) = play(&f, "e2e", 4).await;
        assert_eq!((again, again_state), (got, got_state));
        assert_eq!(s2, s1);
    }

    #[tokio::test]
    async fn the_api_key_reaches_the_server_but_no_file_or_error() {
        let secret = "test-secret-key-value-0123456789abcdef";
        // SAFETY: the variable name is unique to this test; nothing else reads it.
        unsafe { std::env::set_var("FISHBANKS_TEST_KEY_7F3A", secret) };
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(ServerOptions::default()).await;
        let mut p = openai_config(&server.url);
        p.api_key_env = Some("FISHBANKS_TEST_KEY_7F3A".into());
        let f = AgentFactory::new(
            &providers(p.clone()),
            &LlmSettings::default(),
            facts(),
            dir.path(),
            CacheMode::Record,
            &BudgetConfig::default(),
        )
        .unwrap();
        let none = section("none");
        let mut a = f.agent(&spec("k", 0, &none)).unwrap();
        decide(a.as_mut(), &obs()).await.unwrap();
        let events = format!("{:?}", a.drain_events());
        assert!(!events.contains(secret));
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(!text.contains(secret));
        }
        assert!(!format!("{:?}", model(&p)).contains(secret));
        server.stop().await;
        p.api_key_env = Some("FISHBANKS_TEST_KEY_UNSET_1".into());
        let err = OpenAiModel::new("m", &p.resolve().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("FISHBANKS_TEST_KEY_UNSET_1") && err.contains("not set"));
    }
}
