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
//! server's (`retry::Transport`); a body that is not exactly one JSON object (prose, an
//! HTML page, two answers) is the agent's answer, invalid, and re-asked; so is a body
//! over the seat's size cap (`max_answer_bytes`; only its start is kept). A redirect
//! other than 307 and 308 (which keep the POST) fails the call, named. A dead or hung
//! agent stops the sweep within `outage_wait_s` plus one attempt's timeout, resumable.
//! Secrets (a bearer token, other headers) are read from environment variables named in
//! the file and never written anywhere.

pub mod a2a;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::model::{Asked, ChatMessage, ChatModel, ChatRequest, ChatResponse, Usage, TOO_LARGE};
use super::retry::{server_wait, RetryPolicy, Transport};
use super::LlmError;
use crate::question::MemoryEntry;

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
pub use super::config::DEFAULT_MAX_ANSWER_BYTES;
fn default_max_answer() -> u64 {
    DEFAULT_MAX_ANSWER_BYTES
}
fn is_default_max_answer(n: &u64) -> bool {
    *n == DEFAULT_MAX_ANSWER_BYTES
}
/// How much of a body over the cap is kept (in the cache and the re-ask), to show what
/// came.
pub const KEPT_OF_TOO_LARGE: usize = 16_384;

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
    /// The largest answer body read (bytes); a longer one is an invalid answer, of which
    /// only the start is kept.
    #[serde(
        default = "default_max_answer",
        skip_serializing_if = "is_default_max_answer"
    )]
    pub max_answer_bytes: u64,
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
        if !(1_000..=100_000_000).contains(&self.max_answer_bytes) {
            return Err((
                "max_answer_bytes",
                format!(
                    "must be between 1000 and 100000000 (100 MB), got {}",
                    self.max_answer_bytes
                ),
            ));
        }
        if let Some(var) = &self.bearer_token_env {
            if let Some(problem) = super::config::env_name_problem("bearer_token_env", var) {
                return Err(("bearer_token_env", problem));
            }
        }
        for (name, var) in &self.headers_env {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err((
                    "headers_env",
                    format!("`{name}` is not an HTTP header name"),
                ));
            }
            if let Some(problem) =
                super::config::env_name_problem(&format!("headers_env.{name}"), var)
            {
                return Err(("headers_env", problem));
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
    /// vote, the candidates of a ballot), team numbers from 1.
    pub request: Value,
    /// What the team may know (the facts its prompt states), team numbers from 1.
    pub observation: crate::question::Observation,
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
        Payload {
            protocol: PAYLOAD_PROTOCOL,
            run_id: &ctx.run_id,
            team: ctx.agent + 1,
            year: ctx.year,
            question: ctx.kind.as_str(),
            round: ctx.round,
            attempt: ctx.repair + 1,
            request: crate::question::wire::request(&asked.request),
            observation: crate::question::wire::observation(&asked.observation),
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
    let size = messages.iter().map(|m| m.content.len() + 16).sum();
    let mut out = String::with_capacity(size);
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push('[');
        out.push_str(&m.role);
        out.push_str("]\n");
        out.push_str(&m.content);
    }
    out
}

/// The question a reply belongs to, across its re-asks (run, team, year, question,
/// round): where a task the agent left needing input is continued.
type QuestionKey = (String, usize, u32, &'static str, u32);

fn question_key(ctx: &super::model::CallContext) -> QuestionKey {
    (
        ctx.run_id.clone(),
        ctx.agent,
        ctx.year,
        ctx.kind.as_str(),
        ctx.round,
    )
}

/// A body as read: its text, and whether it was cut at the cap.
struct Body {
    text: String,
    too_large: bool,
}

/// A remote agent behind HTTP.
pub struct RemoteModel {
    agent: RemoteAgent,
    /// POSTs: redirects other than 307 and 308 are not followed (a 302 would turn the
    /// question into a GET and its page into the answer).
    http: reqwest::Client,
    /// GETs of the card: redirects followed.
    http_get: reqwest::Client,
    headers: reqwest::header::HeaderMap,
    transport: Transport,
    /// The A2A endpoint the agent's card names, and the card (read once, before the
    /// sweep or at the first question).
    endpoint: tokio::sync::OnceCell<(a2a::Endpoint, a2a::CardSummary)>,
    /// Tasks the agent left needing input, by question: a re-ask continues them.
    tasks: std::sync::Mutex<std::collections::HashMap<QuestionKey, String>>,
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

/// What the manifest records of an agent program: its card's name and version, and the
/// protocol spoken.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub name: String,
    pub version: String,
    pub protocol: String,
}

impl RemoteModel {
    /// The agent of a seat, its secrets read from their variables; `name` names it in
    /// errors and events.
    pub fn new(name: &str, agent: &RemoteAgent) -> Result<RemoteModel, LlmError> {
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
        let read = |field: &str, var: &str| {
            std::env::var(var).map_err(|_| LlmError::KeyMissing {
                provider: name.to_string(),
                var: var.to_string(),
                field: field.to_string(),
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
            let token = read("bearer_token_env", var)?;
            let mut v = value(var, format!("Bearer {token}"))?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        for (header, var) in &agent.headers_env {
            let mut v = value(var, read(&format!("headers_env.{header}"), var)?)?;
            v.set_sensitive(true);
            let name = HeaderName::from_bytes(header.as_bytes())
                .map_err(|e| LlmError::Config(format!("header `{header}`: {e}")))?;
            headers.insert(name, v);
        }
        super::openai::install_tls_provider(name, &agent.url)?;
        let timeout = Duration::from_secs_f64(agent.timeout_s);
        let keep_post = reqwest::redirect::Policy::custom(|attempt| {
            let kept = matches!(attempt.status().as_u16(), 307 | 308);
            if kept && attempt.previous().len() < 5 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let client = |policy: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .connect_timeout(timeout)
                .redirect(policy)
                .build()
                .map_err(|e| LlmError::Config(format!("{name}: HTTP client: {e}")))
        };
        let policy = RetryPolicy {
            max_retries: agent.max_retries,
            base: Duration::from_millis(200),
            max: Duration::from_secs(10),
            deadline: timeout.saturating_mul(4 * (agent.max_retries + 1)),
        };
        Ok(RemoteModel {
            agent: agent.clone(),
            http: client(keep_post)?,
            http_get: client(reqwest::redirect::Policy::limited(5))?,
            headers,
            transport: Transport::new(
                name,
                policy,
                timeout,
                Duration::from_secs_f64(agent.outage_wait_s),
            ),
            endpoint: tokio::sync::OnceCell::new(),
            tasks: Default::default(),
        })
    }

    fn name(&self) -> &str {
        &self.transport.name
    }

    /// Reads a body up to the seat's cap: a longer one is cut (only its start kept) and
    /// said to be too large; nothing past the cap is held in memory.
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        timeout: Duration,
    ) -> Result<Body, LlmError> {
        let cap = self.agent.max_answer_bytes as usize;
        let name = self.name().to_string();
        let declared = response.content_length().unwrap_or(0) as usize;
        let mut bytes: Vec<u8> = Vec::with_capacity(declared.min(cap).min(1 << 16));
        let mut too_large = declared > cap;
        let read = async {
            while !too_large {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len() + chunk.len() > cap {
                            too_large = true;
                        }
                        let room = cap.saturating_sub(bytes.len()).min(chunk.len());
                        bytes.extend_from_slice(&chunk[..room]);
                    }
                    Ok(None) => break,
                    Err(e) => return Err(connection(&name, &e)),
                }
            }
            Ok(())
        };
        tokio::time::timeout(timeout, read)
            .await
            .map_err(|_| LlmError::Timeout {
                provider: name.clone(),
                after: timeout,
            })??;
        if too_large {
            bytes.truncate(KEPT_OF_TOO_LARGE);
        }
        Ok(Body {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            too_large,
        })
    }

    /// One POST of `body` to `url`; a 2xx body comes back (cut at the cap).
    async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        extra: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<Body, LlmError> {
        let mut request = self
            .http
            .post(url)
            .headers(self.headers.clone())
            .header("content-type", "application/json")
            .body(body);
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
        if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("(no location)")
                .to_string();
            return Err(LlmError::Protocol {
                provider: name,
                detail: format!(
                    "{url} answered the question with a redirect ({status}) to {to}; only 307 and 308 keep a POST (a {} would turn it into a GET): give the seat the address the agent answers at",
                    status.as_u16()
                ),
            });
        }
        let wait = server_wait(response.headers());
        let body = self.read_capped(response, timeout).await?;
        if !status.is_success() {
            return Err(LlmError::Http {
                provider: name,
                status: status.as_u16(),
                body: body.text.chars().take(300).collect(),
                retry_after: wait,
            });
        }
        Ok(body)
    }

    /// One GET; `Ok` with the status and body whatever the status (any answer means
    /// the agent is there).
    async fn get(&self, url: &str, timeout: Duration) -> Result<(u16, String), LlmError> {
        let name = self.name().to_string();
        let response = tokio::time::timeout(
            timeout,
            self.http_get.get(url).headers(self.headers.clone()).send(),
        )
        .await
        .map_err(|_| LlmError::Timeout {
            provider: name.clone(),
            after: timeout,
        })?
        .map_err(|e| connection(&name, &e))?;
        let status = response.status().as_u16();
        let text = self.read_capped(response, timeout).await?.text;
        Ok((status, text))
    }

    /// The agent's card, from its well-known address (or the one A2A used before 0.3):
    /// `None` when there is none.
    async fn read_card(&self, timeout: Duration) -> Result<Option<Value>, LlmError> {
        for url in a2a::card_urls(&self.agent.url) {
            let (status, text) = self.get(&url, timeout).await?;
            if status == 200 {
                if let Ok(card) = serde_json::from_str::<Value>(&text) {
                    if a2a::looks_like_card(&card) {
                        return Ok(Some(card));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The A2A endpoint and card (read once). No card, or a card without a JSON-RPC
    /// interface, is refused with what it offers: a wrong `transport` or a wrong URL.
    async fn endpoint(
        &self,
        timeout: Duration,
    ) -> Result<&(a2a::Endpoint, a2a::CardSummary), LlmError> {
        self.endpoint
            .get_or_try_init(|| async {
                let Some(card) = self.read_card(timeout).await? else {
                    return Err(LlmError::Protocol {
                        provider: self.name().to_string(),
                        detail: format!(
                            "no A2A agent card at {} (nor at .well-known/agent.json): an A2A agent publishes one; if this is a plain JSON agent, its seat takes transport = \"json\"",
                            a2a::card_url(&self.agent.url)
                        ),
                    });
                };
                let summary = a2a::CardSummary::of(&card);
                match summary.chosen.clone() {
                    Ok(endpoint) => Ok((endpoint, summary)),
                    Err(why) => Err(LlmError::Protocol {
                        provider: self.name().to_string(),
                        detail: format!("the A2A agent `{}` at {}: {why}", summary.name, self.agent.url),
                    }),
                }
            })
            .await
    }

    /// The agent's card, for `fishbanks doctor` (`None`: it has none).
    pub async fn card(&self) -> Result<Option<a2a::CardSummary>, LlmError> {
        Ok(self
            .read_card(self.transport.timeout)
            .await?
            .map(|card| a2a::CardSummary::of(&card)))
    }

    /// What the manifest records of the program: an A2A agent's card name and version
    /// (once its card was read), `None` otherwise.
    pub fn program(&self) -> Option<Program> {
        self.endpoint.get().map(|(endpoint, card)| Program {
            name: card.name.clone(),
            version: card.version.clone(),
            protocol: format!("a2a {}", endpoint.version.as_str()),
        })
    }

    /// Before a sweep: the agent answers at all (an A2A agent: its card, which must offer
    /// JSON-RPC; a JSON agent: any answer to a GET of its address, and no A2A card, which
    /// would say the seat speaks the wrong transport). Unreachable: [`LlmError::Outage`]
    /// (the sweep exits 75, resumable); there but unusable: a final error.
    pub async fn check(&self) -> Result<(), LlmError> {
        let down = |e: LlmError| {
            match e.fault() {
            Some(_) => LlmError::Outage {
                provider: self.name().to_string(),
                reason: format!(
                    "unreachable at {} ({e}); start the agent, or replay a recorded game with --cache-mode replay",
                    self.agent.url
                ),
            },
            None => e,
        }
        };
        let timeout = self.transport.timeout;
        match self.agent.transport {
            RemoteTransport::A2a => self.endpoint(timeout).await.map(|_| ()).map_err(down),
            RemoteTransport::Json => {
                let card = self
                    .transport
                    .probe(self.agent.url.as_bytes(), |t| self.read_card(t))
                    .await
                    .map_err(down)?;
                match card {
                    Some(card) => Err(LlmError::Protocol {
                        provider: self.name().to_string(),
                        detail: format!(
                            "{} publishes an A2A agent card (`{}`): it speaks A2A, so its seat takes transport = \"a2a\"",
                            self.agent.url,
                            card["name"].as_str().unwrap_or("?")
                        ),
                    }),
                    None => Ok(()),
                }
            }
        }
    }

    async fn attempt(
        &self,
        request: &ChatRequest,
        payload: &RawValue,
        timeout: Duration,
    ) -> Result<ChatResponse, LlmError> {
        let body = match self.agent.transport {
            RemoteTransport::Json => {
                let body = self
                    .post(
                        &self.agent.url,
                        payload.get().as_bytes().to_vec(),
                        &[],
                        timeout,
                    )
                    .await?;
                // A JSON-RPC envelope is never an answer (answers have no such field):
                // the agent speaks A2A.
                if !body.too_large {
                    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&body.text) {
                        if o.contains_key("jsonrpc") {
                            return Err(LlmError::Protocol {
                                provider: self.name().to_string(),
                                detail: format!(
                                    "{} answered with JSON-RPC: it speaks A2A, so its seat takes transport = \"a2a\"",
                                    self.agent.url
                                ),
                            });
                        }
                    }
                }
                body
            }
            RemoteTransport::A2a => {
                let (endpoint, _) = self.endpoint(timeout).await?;
                let key = question_key(&request.context);
                let task = (request.context.repair > 0)
                    .then(|| lock(&self.tasks).get(&key).cloned())
                    .flatten();
                let rpc = endpoint.request(
                    &request.context,
                    payload,
                    &prompt_text(&request.messages),
                    task.as_deref(),
                );
                let reply = self
                    .post(
                        &endpoint.url,
                        rpc.into_bytes(),
                        &endpoint.headers(),
                        timeout,
                    )
                    .await?;
                if reply.too_large {
                    reply
                } else {
                    let answer = endpoint.answer(&reply.text).map_err(|why| match why {
                        a2a::Reply::Malformed(detail) => LlmError::BadResponse {
                            provider: self.name().to_string(),
                            detail,
                        },
                        a2a::Reply::NotJsonRpc(detail) | a2a::Reply::RpcError(detail) => {
                            LlmError::Protocol {
                                provider: self.name().to_string(),
                                detail,
                            }
                        }
                    })?;
                    {
                        let mut tasks = lock(&self.tasks);
                        match answer.input_required {
                            Some(id) => {
                                tasks.insert(key, id);
                            }
                            None => {
                                tasks.remove(&key);
                            }
                        }
                    }
                    Body {
                        text: answer.text,
                        too_large: false,
                    }
                }
            }
        };
        // A program bills no tokens.
        Ok(ChatResponse::live(
            body.text.trim().to_string(),
            Usage::default(),
            body.too_large.then(|| TOO_LARGE.to_string()),
        ))
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
        // Written once, as text: every attempt sends these bytes (not parsed back:
        // serde_json wrote them).
        let payload =
            serde_json::value::to_raw_value(&Payload::of(request, asked)).map_err(|e| {
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
