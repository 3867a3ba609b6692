//! The one error type of the LLM layer.

use std::time::Duration;

use super::model::Fault;

/// Why an LLM call, a cache operation or the setup of an LLM agent failed.
///
/// Messages carry what a researcher needs to act (status, body text, the call that
/// missed the cache) and never an API key.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("LLM configuration: {0}")]
    Config(String),
    #[error("environment variable `{var}` (named by `{field}` of `{provider}`) is not set")]
    KeyMissing {
        provider: String,
        var: String,
        /// The setting that names the variable (`api_key_env`, `bearer_token_env`, …).
        field: String,
    },
    #[error("unknown provider `{0}`")]
    UnknownProvider(String),
    #[error("unknown persona `{0}` (define it under [llm.personas])")]
    UnknownPersona(String),
    /// A non-success HTTP status; `body` is the server's text (OpenAI-shaped or not).
    #[error("HTTP {status} from {provider}: {body}")]
    Http {
        provider: String,
        status: u16,
        body: String,
        /// `Retry-After` as sent by the server, when present and parseable.
        retry_after: Option<Duration>,
    },
    #[error("request to {provider} timed out after {after:?}")]
    Timeout { provider: String, after: Duration },
    #[error("connection to {provider} failed: {detail}")]
    Connection { provider: String, detail: String },
    /// A 200 response whose body is not a chat completion we can read.
    #[error("unreadable response from {provider}: {detail}")]
    BadResponse { provider: String, detail: String },
    /// The agent answered in another protocol than the one the seat speaks, or refused
    /// the request in its protocol (a JSON-RPC error): sending it again would not help.
    #[error("{provider}: {detail}")]
    Protocol { provider: String, detail: String },
    #[error("giving up on {provider} after {attempts} attempts: {last}")]
    RetriesExhausted {
        provider: String,
        attempts: u32,
        last: Box<LlmError>,
    },
    #[error("cache miss in replay mode for {call}")]
    CacheMiss { call: String },
    #[error("cache {path}: {detail}")]
    Cache { path: String, detail: String },
    /// `fishbanks transcript` asked for something the results do not hold.
    #[error("{0}")]
    NoTranscript(String),
    /// The provider's circuit breaker gave up: the server answered nothing for longer
    /// than `outage_wait_s`.
    #[error("provider `{provider}` is down: {reason}")]
    Outage { provider: String, reason: String },
    /// The game was stopped (Ctrl-C or SIGTERM while people play): the year under way
    /// is dropped, the years played are recorded as `stopped`.
    #[error("stopped: {0}")]
    Stopped(String),
}

impl LlmError {
    /// The transport fault this error is, if the request should be sent again: 429, 5xx,
    /// timeouts, connection errors and malformed success bodies. Anything else (a 400,
    /// a missing key, a cache miss) would fail the same way again.
    pub fn fault(&self) -> Option<Fault> {
        match self {
            LlmError::Http { status: 429, .. } => Some(Fault::RateLimit),
            LlmError::Http { status, .. } if (500..600).contains(status) => {
                Some(Fault::ServerError)
            }
            LlmError::Timeout { .. } => Some(Fault::Timeout),
            LlmError::Connection { .. } => Some(Fault::Connection),
            LlmError::BadResponse { .. } => Some(Fault::Malformed),
            _ => None,
        }
    }
}
