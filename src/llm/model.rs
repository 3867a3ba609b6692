//! The [`ChatModel`] trait: one chat-completion call, whatever answers it (an HTTP
//! server, the in-process mock, or the record/replay cache in front of either).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::LlmError;
use crate::agents::RequestKind;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "system".into(),
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "assistant".into(),
            content: content.into(),
        }
    }
}

/// Sampling parameters sent with a request (and part of the cache key).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SamplingParams {
    pub temperature: Option<f64>,
    pub seed: Option<i64>,
    pub max_tokens: Option<u32>,
}

/// A JSON schema the answer must follow (sent as structured output when supported).
/// Shared, not copied, by the requests of an answer's re-asks: an exact decision schema
/// has a branch per ship.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnswerSchema {
    pub name: String,
    /// The schema as compact JSON text with every map's keys sorted, the bytes a
    /// `serde_json::Value` writes (so cache keys are those of a `Value`). Text, not a
    /// `Value` tree: a greedy fleet's decision schema of 31 branches is 7 KB as text and
    /// ten times that as maps, held by every call in flight.
    pub schema: std::sync::Arc<RawValue>,
}

impl AnswerSchema {
    /// The schema of `name`, written once.
    pub fn new(name: impl Into<String>, schema: &serde_json::Value) -> AnswerSchema {
        AnswerSchema {
            name: name.into(),
            // A `Value` always serializes; the fallback is never taken.
            schema: serde_json::value::to_raw_value(schema)
                .unwrap_or_else(|_| RawValue::NULL.to_owned())
                .into(),
        }
    }

    /// A schema already written as JSON text (see `Question::schema_text`); text that is
    /// not JSON (never written by the harness) is kept as `null`.
    pub fn from_text(name: impl Into<String>, text: String) -> AnswerSchema {
        AnswerSchema {
            name: name.into(),
            schema: RawValue::from_string(text)
                .unwrap_or_else(|_| RawValue::NULL.to_owned())
                .into(),
        }
    }

    /// The schema as a `Value`, for those that read it (a seat's form, the nested mode).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.schema.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for AnswerSchema {
    fn eq(&self, other: &AnswerSchema) -> bool {
        self.name == other.name && self.schema.get() == other.schema.get()
    }
}

/// Where in the experiment a call happens: part of the cache key and of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallContext {
    pub run_id: String,
    pub agent: usize,
    pub year: u32,
    pub kind: RequestKind,
    /// Talk round for messages (1-based; 0 for other requests).
    pub round: u32,
    /// 0 for the first ask, n for the n-th repair re-ask.
    pub repair: u32,
}

impl std::fmt::Display for CallContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} agent {} year {} {} round {} repair {}",
            self.run_id,
            self.agent,
            self.year,
            self.kind.as_str(),
            self.round,
            self.repair
        )
    }
}

/// Everything a model is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub params: SamplingParams,
    pub schema: Option<AnswerSchema>,
    pub context: CallContext,
    /// The facts the messages state, typed, for an answerer that reads them rather than
    /// the text (a person's seat page draws them; a remote agent receives them as data).
    /// The same facts as the text. Never sent to a model server, never part of the cache
    /// key.
    #[serde(skip)]
    pub asked: Option<std::sync::Arc<Asked>>,
}

/// A question with its facts, typed: what the prompt's text says, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    /// The question, with its limits.
    pub request: crate::question::Request,
    /// What the team may know this year: the sea as revealed, its fleet and bank, the
    /// board (others' words as data).
    pub observation: crate::question::Observation,
    /// The team's own past years, as its prompt lists them.
    pub memory: Vec<crate::question::MemoryEntry>,
    /// The limits the answer is checked against (so an answerer that validates before
    /// handing an answer on, the MCP server, reads it exactly as the agent will).
    pub limits: crate::question::Limits,
}

/// How one question put to an agent ended, told once the agent holds its answer,
/// whether the answer came live or from the cache (so a seat's tally and history are
/// the same after a `--resume` as before it).
#[derive(Debug, Clone)]
pub struct Resolution {
    /// Where it was asked; `repair` is the last ask's.
    pub context: CallContext,
    /// The question's typed facts (the seats that draw them: people, remote agents).
    pub asked: Option<std::sync::Arc<Asked>>,
    pub outcome: Outcome,
}

/// What became of a question.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A valid answer, after `repairs` re-asks.
    Answered { repairs: u32 },
    /// Nobody answered in time: the fallback `applied`, without a re-ask.
    TimedOut { applied: crate::question::Response },
    /// Every ask was answered invalidly (`repairs` re-asks): the fallback `applied`;
    /// `reason` is the last validation error.
    Refused {
        repairs: u32,
        reason: String,
        applied: crate::question::Response,
    },
}

/// Told how each question of an agent ended (a person's desk tells the person what the
/// game applied). It observes; nothing it does reaches the game.
pub trait ResolutionWatch: Send + Sync {
    fn resolved(&self, resolution: &Resolution);
}

/// The `finish_reason` of a response that carries no answer because nobody answered in
/// time (a person's seat): the agent applies its fallback at once, without re-asking.
pub const NO_ANSWER: &str = "no_answer";

/// The `finish_reason` of an answer longer than its seat accepts (a remote agent's body
/// over `max_answer_bytes`): only its start is kept, and it is an invalid answer.
pub const TOO_LARGE: &str = "too_large";

/// Token counts of one call, as the server bills them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// All input tokens, cached ones included.
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Input tokens served from the server's prompt cache
    /// (`usage.prompt_tokens_details.cached_tokens`); `None` when the server does not
    /// say.
    #[serde(default)]
    pub tokens_cached: Option<u64>,
    /// The server sent no usage; the counts are chars / 4.
    pub estimated: bool,
}

impl Usage {
    /// The chars/4 estimate used when a server reports no usage.
    pub fn estimate(messages: &[ChatMessage], answer: &str) -> Usage {
        let chars_in: usize = messages.iter().map(|m| m.content.chars().count()).sum();
        Usage {
            tokens_in: estimate_tokens(chars_in),
            tokens_out: estimate_tokens(answer.chars().count()),
            tokens_cached: None,
            estimated: true,
        }
    }
}

/// chars / 4, rounded up.
pub fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

/// What went wrong in a transport attempt that was retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// 429 Too Many Requests.
    RateLimit,
    /// 5xx.
    ServerError,
    Timeout,
    /// Refused, reset, or cut off before a response.
    Connection,
    /// A success status whose body is not a chat completion (truncated or invalid JSON,
    /// HTML, empty, no `choices`).
    Malformed,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::RateLimit => "rate_limit",
            Fault::ServerError => "server_error",
            Fault::Timeout => "timeout",
            Fault::Connection => "connection",
            Fault::Malformed => "malformed",
        }
    }
}

/// One retried transport attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    pub fault: Fault,
    pub error: String,
    /// The wait before the next attempt.
    pub delay_ms: u64,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub text: String,
    pub usage: Usage,
    /// Served from the record/replay cache (no model was asked).
    #[serde(default)]
    pub cache_hit: bool,
    /// Transport retries this call needed, in order (as recorded when it was live).
    #[serde(default)]
    pub retries: Vec<Retry>,
    /// Wall time of the call in milliseconds (0 for cache hits).
    #[serde(default)]
    pub latency_ms: u64,
    /// Why the model stopped (`stop`, `length` when it hit `max_tokens`), as the server
    /// said; `None` when it did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

impl ChatResponse {
    /// A live answer (not from the cache, no transport retries, no latency yet: the
    /// retry loop and the cache fill those in).
    pub fn live(text: String, usage: Usage, finish_reason: Option<String>) -> ChatResponse {
        ChatResponse {
            text,
            usage,
            cache_hit: false,
            retries: Vec::new(),
            latency_ms: 0,
            finish_reason,
        }
    }

    /// Whether the answer was cut off by the token limit.
    pub fn cut_off(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

/// A chat-completion backend.
#[async_trait]
pub trait ChatModel: Send + Sync {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError>;

    /// Whether the backend answers at all (a cheap request, no chat): the models it
    /// lists (`GET /models`; empty when it lists none). Used before a sweep and by the
    /// circuit breaker while a provider is down; in-process models always answer.
    async fn probe(&self) -> Result<Vec<String>, LlmError> {
        Ok(Vec::new())
    }
}

pub use crate::record::sha256_hex;

/// First 8 bytes of SHA-256 as a number: seeds for deterministic per-request randomness.
pub fn hash64(bytes: &[u8]) -> u64 {
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}
