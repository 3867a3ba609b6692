//! `kind = "remote"` seats: a program of any framework answers the harness's questions
//! over HTTP, either as a plain JSON POST (`transport = "json"`) or through the
//! Agent2Agent protocol (`transport = "a2a"`, [`a2a`]).
//!
//! A remote seat is an `LlmAgent` whose model is a
//! [`RemoteModel`]: it is asked, validated, re-asked, counted, cached and replayed
//! exactly as an LLM is. What differs is what travels: instead of a chat prompt, the
//! agent receives a [`Payload`] holding the typed question and observation, the rendered
//! prompt (so a chat agent can use it as is) and the answer's exact JSON schema; its
//! answer is the answer object itself. The payload is documented field by field in
//! `docs/REMOTE.md`, with a JSON Schema in `docs/remote-payload.schema.json`.
//!
//! Transport faults (429, 5xx, timeouts, a dropped connection) are retried like a model
//! server's (`retry::Transport`); a body that is not JSON (an HTML page) is the
//! agent's answer, invalid, and re-asked; a dead agent trips the provider's circuit
//! breaker and stops the sweep, resumable. Secrets (a bearer token, other headers) are
//! read from environment variables named in the file and never written anywhere.

pub mod a2a;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::model::{Asked, ChatMessage, ChatModel, ChatRequest, ChatResponse, Usage};
use super::retry::{server_wait, RetryPolicy, Transport};
use super::LlmError;
use crate::question::{MemoryEntry, Observation};

/// How a remote agent is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteTransport {
    /// `POST url` with the [`Payload`]; the answer object is the response body.
    #[default]
    Json,
    /// Agent2Agent 1.0 JSON-RPC `SendMessage` (0.3's `message/send` when the agent's
    /// card says 0.3): the payload as a data part and the prompt as a text part.
    A2a,
}

impl RemoteTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteTransport::Json => "json",
            RemoteTransport::A2a => "a2a",
        }
    }
}

fn default_timeout() -> f64 {
    30.0
}
fn default_concurrency() -> u32 {
    4
}
fn default_retries() -> u32 {
    2
}
fn default_outage() -> f64 {
    60.0
}

/// A `kind = "remote"` seat as written (and, its ranges checked, as it plays). Secrets
/// are named, never given: `bearer_token_env` and `headers_env` name environment
/// variables, read when the sweep starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteAgent {
    /// Where the agent listens: the POST address (`json`), or the agent's base URL,
    /// whose `/.well-known/agent-card.json` names its JSON-RPC address (`a2a`).
    pub url: String,
    #[serde(default)]
    pub transport: RemoteTransport,
    /// Seconds one attempt may take (a timed-out attempt is retried with twice the time).
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
    /// Questions in flight to this agent at once, across all runs.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: u32,
    /// Re-sends of a question that met a transport fault.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// How long the agent may answer nothing before the sweep stops (exit 75).
    #[serde(default = "default_outage")]
    pub outage_wait_s: f64,
    /// The variable holding a bearer token (`Authorization: Bearer …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_env: Option<String>,
    /// Other headers: header name → the variable holding its value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers_env: BTreeMap<String, String>,
}

impl RemoteAgent {
    /// The checks serde cannot make: `(field, message)` of the first that fails.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err((
                "url",
                format!("must be an http:// or https:// URL, got `{}`", self.url),
            ));
        }
        if !(0.05..=3600.0).contains(&self.timeout_s) {
            return Err((
                "timeout_s",
                format!("must be between 0.05 and 3600, got {}", self.timeout_s),
            ));
        }
        if !(1..=1024).contains(&self.max_concurrency) {
            return Err((
                "max_concurrency",
                format!("must be between 1 and 1024, got {}", self.max_concurrency),
            ));
        }
        if self.max_retries > 20 {
            return Err((
                "max_retries",
                format!("must be at most 20, got {}", self.max_retries),
            ));
        }
        if !(0.1..=86_400.0).contains(&self.outage_wait_s) {
            return Err((
                "outage_wait_s",
                format!("must be between 0.1 and 86400, got {}", self.outage_wait_s),
            ));
        }
        for name in self.headers_env.keys() {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err((
                    "headers_env",
                    format!("`{name}` is not an HTTP header name"),
                ));
            }
        }
        Ok(())
    }
}

/// The version of the payload (`protocol` in every payload).
pub const PAYLOAD_PROTOCOL: &str = "fishbanks.remote/1";

/// What a remote agent receives with every question: the facts its prompt states, typed,
/// the prompt itself, and the schema its answer must match (`docs/REMOTE.md`).
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    pub protocol: &'static str,
    pub run_id: &'a str,
    /// The team, numbered from 1 as its prompt numbers it.
    pub team: usize,
    pub year: u32,
    /// The question's kind (`decision`, `message`, `vote`, …).
    pub question: &'static str,
    /// The talk round (1-based) for messages and intentions; 0 otherwise.
    pub round: u32,
    /// 1 for the first ask; n + 1 for the n-th re-ask after an invalid answer.
    pub attempt: u32,
    /// The question's own fields (its limits: a message's length, the TAC put to a
    /// vote, the candidates of a ballot).
    pub request: Value,
    pub observation: &'a Observation,
    /// The team's own past years.
    pub memory: &'a [MemoryEntry],
    /// The conversation as an LLM in this seat reads it (the system prompt, the rules,
    /// the situation, the question; then each invalid answer and why it was refused).
    pub prompt: &'a [ChatMessage],
    /// The exact JSON schema of a valid answer.
    pub schema: &'a RawValue,
}

impl<'a> Payload<'a> {
    /// The payload of a request; `None` without its typed facts (only remote seats are
    /// asked with them).
    pub fn of(request: &'a ChatRequest, asked: &'a Asked) -> Payload<'a> {
        let ctx = &request.context;
        // `Request` is an enum tagged by its variant: the kind is `question`, so the
        // request carries only the variant's fields.
        let inner = match serde_json::to_value(&asked.request) {
            Ok(Value::Object(mut m)) if m.len() == 1 => m
                .values_mut()
                .next()
                .map(std::mem::take)
                .filter(Value::is_object)
                .unwrap_or_else(|| Value::Object(Default::default())),
            // A question without fields of its own (a decision) has `{}`.
            Ok(_) | Err(_) => Value::Object(Default::default()),
        };
        Payload {
            protocol: PAYLOAD_PROTOCOL,
            run_id: &ctx.run_id,
            team: ctx.agent + 1,
            year: ctx.year,
            question: ctx.kind.as_str(),
            round: ctx.round,
            attempt: ctx.repair + 1,
            request: inner,
            observation: &asked.observation,
            memory: &asked.memory,
            prompt: &request.messages,
            schema: request
                .schema
                .as_ref()
                .map_or(RawValue::NULL, |s| s.schema.as_ref()),
        }
    }
}

/// The prompt as one text (for an A2A text part): each message under its role.
pub fn prompt_text(messages: &[ChatMessage]) -> String {
    messages
        .iter()
        .map(|m| format!("[{}]\n{}", m.role, m.content))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A remote agent behind HTTP.
pub struct RemoteModel {
    agent: RemoteAgent,
    http: reqwest::Client,
    headers: reqwest::header::HeaderMap,
    transport: Transport,
    /// The A2A endpoint the agent's card names (read once, at the first question).
    endpoint: tokio::sync::OnceCell<a2a::Endpoint>,
}

impl std::fmt::Debug for RemoteModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Deliberately leaves out the headers (secrets).
        f.debug_struct("RemoteModel")
            .field("url", &self.agent.url)
            .field("transport", &self.agent.transport)
            .finish_non_exhaustive()
    }
}

impl RemoteModel {
    /// The agent of a seat, its secrets read from their variables; `name` names it in
    /// errors and events.
    pub fn new(name: &str, agent: &RemoteAgent) -> Result<RemoteModel, LlmError> {
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
        let read = |var: &str| {
            std::env::var(var).map_err(|_| LlmError::KeyMissing {
                provider: name.to_string(),
                var: var.to_string(),
            })
        };
        let value = |var: &str, text: String| {
            HeaderValue::from_str(&text).map_err(|_| {
                LlmError::Config(format!(
                    "the value of `{var}` contains characters not allowed in an HTTP header"
                ))
            })
        };
        let mut headers = HeaderMap::new();
        if let Some(var) = &agent.bearer_token_env {
            let token = read(var)?;
            let mut v = value(var, format!("Bearer {token}"))?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        for (header, var) in &agent.headers_env {
            let mut v = value(var, read(var)?)?;
            v.set_sensitive(true);
            let name = HeaderName::from_bytes(header.as_bytes())
                .map_err(|e| LlmError::Config(format!("header `{header}`: {e}")))?;
            headers.insert(name, v);
        }
        super::openai::install_tls_provider(name, &agent.url)?;
        let timeout = Duration::from_secs_f64(agent.timeout_s);
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| LlmError::Config(format!("{name}: HTTP client: {e}")))?;
        let policy = RetryPolicy {
            max_retries: agent.max_retries,
            base: Duration::from_millis(200),
            max: Duration::from_secs(10),
            deadline: timeout.saturating_mul(4 * (agent.max_retries + 1)),
        };
        Ok(RemoteModel {
            agent: agent.clone(),
            http,
            headers,
            transport: Transport::new(name, policy, timeout),
            endpoint: tokio::sync::OnceCell::new(),
        })
    }

    fn name(&self) -> &str {
        &self.transport.name
    }

    /// One POST of `body` to `url`; a 2xx body comes back as text.
    async fn post(
        &self,
        url: &str,
        body: &[u8],
        extra: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<String, LlmError> {
        let mut request = self
            .http
            .post(url)
            .headers(self.headers.clone())
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        let name = self.name().to_string();
        let response = tokio::time::timeout(timeout, request.send())
            .await
            .map_err(|_| LlmError::Timeout {
                provider: name.clone(),
                after: timeout,
            })?
            .map_err(|e| connection(&name, &e))?;
        let status = response.status();
        let wait = server_wait(response.headers());
        let text = tokio::time::timeout(timeout, response.text())
            .await
            .map_err(|_| LlmError::Timeout {
                provider: name.clone(),
                after: timeout,
            })?
            .map_err(|e| connection(&name, &e))?;
        if !status.is_success() {
            return Err(LlmError::Http {
                provider: name,
                status: status.as_u16(),
                body: text.chars().take(300).collect(),
                retry_after: wait,
            });
        }
        Ok(text)
    }

    /// One GET; `Ok` with the status and body whatever the status (any answer means
    /// the agent is there).
    async fn get(&self, url: &str, timeout: Duration) -> Result<(u16, String), LlmError> {
        let name = self.name().to_string();
        let response = tokio::time::timeout(
            timeout,
            self.http.get(url).headers(self.headers.clone()).send(),
        )
        .await
        .map_err(|_| LlmError::Timeout {
            provider: name.clone(),
            after: timeout,
        })?
        .map_err(|e| connection(&name, &e))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Ok((status, text))
    }

    /// The A2A endpoint, from the agent's card (read once; a missing card means 1.0 at
    /// the configured URL).
    async fn endpoint(&self, timeout: Duration) -> Result<&a2a::Endpoint, LlmError> {
        self.endpoint
            .get_or_try_init(|| async {
                let (status, text) = self.get(&a2a::card_url(&self.agent.url), timeout).await?;
                let card = (status == 200)
                    .then(|| serde_json::from_str::<Value>(&text).ok())
                    .flatten();
                Ok::<_, LlmError>(a2a::Endpoint::from_card(card.as_ref(), &self.agent.url))
            })
            .await
    }

    /// The agent's card, for `fishbanks doctor` (`None`: it has none).
    pub async fn card(&self) -> Result<Option<a2a::CardSummary>, LlmError> {
        let (status, text) = self
            .get(&a2a::card_url(&self.agent.url), self.transport.timeout)
            .await?;
        Ok((status == 200)
            .then(|| serde_json::from_str::<Value>(&text).ok())
            .flatten()
            .map(|card| a2a::CardSummary::of(&card, &self.agent.url)))
    }

    async fn attempt(
        &self,
        request: &ChatRequest,
        payload: &RawValue,
        timeout: Duration,
    ) -> Result<ChatResponse, LlmError> {
        let text = match self.agent.transport {
            RemoteTransport::Json => {
                self.post(&self.agent.url, payload.get().as_bytes(), &[], timeout)
                    .await?
            }
            RemoteTransport::A2a => {
                let endpoint = self.endpoint(timeout).await?;
                let body =
                    endpoint.request(&request.context, payload, &prompt_text(&request.messages));
                let reply = self
                    .post(
                        &endpoint.url,
                        body.to_string().as_bytes(),
                        &endpoint.headers(),
                        timeout,
                    )
                    .await?;
                endpoint.answer(&reply).map_err(|detail| match detail {
                    a2a::Reply::Malformed(detail) => LlmError::BadResponse {
                        provider: self.name().to_string(),
                        detail,
                    },
                    a2a::Reply::RpcError(detail) => LlmError::Http {
                        provider: self.name().to_string(),
                        status: 400,
                        body: detail,
                        retry_after: None,
                    },
                })?
            }
        };
        // A program bills no tokens.
        Ok(ChatResponse::live(
            text.trim().to_string(),
            Usage::default(),
            None,
        ))
    }
}

fn connection(name: &str, e: &reqwest::Error) -> LlmError {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(&format!(": {s}"));
        source = s.source();
    }
    LlmError::Connection {
        provider: name.to_string(),
        detail,
    }
}

#[async_trait]
impl ChatModel for RemoteModel {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let Some(asked) = request.asked.as_deref() else {
            return Err(LlmError::Config(format!(
                "{}: a remote agent is asked with the question's facts, and this request has none",
                self.name()
            )));
        };
        // Written once, as text: every attempt sends these bytes.
        let payload = serde_json::to_string(&Payload::of(request, asked))
            .and_then(RawValue::from_string)
            .map_err(|e| {
                LlmError::Config(format!(
                    "{}: the payload could not be written: {e}",
                    self.name()
                ))
            })?;
        let seed = serde_json::to_vec(&request.context).unwrap_or_default();
        self.transport
            .send(&seed, |timeout| self.attempt(request, &payload, timeout))
            .await
    }

    /// Any HTTP answer (the card, or whatever the address answers to a GET) means the
    /// agent is there; a refused or timed-out connection means it is not.
    async fn probe(&self) -> Result<Vec<String>, LlmError> {
        let url = match self.agent.transport {
            RemoteTransport::Json => self.agent.url.clone(),
            RemoteTransport::A2a => a2a::card_url(&self.agent.url),
        };
        self.transport
            .probe(url.as_bytes(), |timeout| {
                let url = url.clone();
                async move { self.get(&url, timeout).await.map(|_| Vec::new()) }
            })
            .await
    }
}
