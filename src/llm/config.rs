//! LLM configuration as written in an experiment file: `[providers.NAME]`, `[personas]`
//! and `[llm]` (DESIGN §6).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which kind of model a provider block describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Any OpenAI-compatible chat-completions server.
    Openai,
    /// The in-process deterministic mock (no network).
    Mock,
}

/// How the server is asked to produce JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    #[default]
    JsonSchema,
    JsonObject,
    None,
}

/// One `[providers.NAME]` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// Server root, e.g. `http://localhost:11434/v1` (openai only).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Model name sent to the server (the mock records it too).
    #[serde(default)]
    pub model: Option<String>,
    /// Name of the environment variable holding the API key. The key itself never
    /// appears in a file.
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub seed: Option<i64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Per-request timeout in seconds.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    /// Requests in flight at once to this provider.
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: u32,
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    #[serde(default)]
    pub structured_output: StructuredOutput,
    /// Price per million input tokens (USD).
    #[serde(default)]
    pub price_in_per_mtok: f64,
    /// Price per million output tokens (USD).
    #[serde(default)]
    pub price_out_per_mtok: f64,
    /// Mock only: the policy the mock plays (`greedy`, `sustainable`, `follower`, `chaotic`).
    #[serde(default)]
    pub policy: Option<String>,
    /// Mock only: probability of an answer that needs repair.
    #[serde(default)]
    pub noise: f64,
    /// Mock only: simulated latency per call in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Transport retries (429, 5xx, timeouts, connection errors) after the first attempt.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// First backoff ceiling in milliseconds; doubles per retry (full jitter below it).
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Largest backoff (and largest honoured `Retry-After`) in milliseconds.
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// Never valid: present only so that a key pasted into the file is refused with a
    /// clear message instead of "unknown field". It is never serialized nor printed.
    #[serde(default, skip_serializing)]
    pub api_key: Option<Redacted>,
}

/// A string that never shows itself in `Debug` output or serialized files.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Redacted(String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

fn default_max_retries() -> u32 {
    4
}

fn default_retry_base_ms() -> u64 {
    500
}

fn default_retry_max_ms() -> u64 {
    30_000
}

/// Whether a value looks like a secret rather than the name of an environment variable.
/// Names are upper-case letters, digits and underscores; keys are long mixed-case tokens
/// or carry a known prefix.
fn looks_like_key(value: &str) -> bool {
    let is_env_name = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let prefixed = ["sk-", "sk_", "pk-", "gsk_", "xai-", "Bearer "]
        .iter()
        .any(|p| value.starts_with(p));
    prefixed || (!is_env_name && value.len() >= 20)
}

impl ProviderConfig {
    /// A provider block of the given kind with every default (handy in tests).
    pub fn new(kind: ProviderKind) -> ProviderConfig {
        ProviderConfig {
            kind,
            base_url: None,
            model: None,
            api_key_env: None,
            temperature: None,
            seed: None,
            max_tokens: None,
            timeout_s: default_timeout_s(),
            max_concurrency: default_max_concurrency(),
            requests_per_minute: None,
            structured_output: StructuredOutput::default(),
            price_in_per_mtok: 0.0,
            price_out_per_mtok: 0.0,
            policy: None,
            noise: 0.0,
            latency_ms: 0,
            max_retries: default_max_retries(),
            retry_base_ms: default_retry_base_ms(),
            retry_max_ms: default_retry_max_ms(),
            api_key: None,
        }
    }

    /// Checks what serde cannot: no literal key anywhere, an openai provider has a
    /// `base_url`, numbers are in range. The error never repeats a secret.
    pub fn validate(&self, name: &str) -> Result<(), crate::llm::LlmError> {
        use crate::llm::LlmError;
        let bad = |msg: String| Err(LlmError::Config(format!("[providers.{name}]: {msg}")));
        if self.api_key.is_some() {
            return bad(
                "`api_key` is not allowed: put the key in an environment variable and \
                 name that variable in `api_key_env`"
                    .into(),
            );
        }
        if let Some(env) = &self.api_key_env {
            if looks_like_key(env) {
                return bad(
                    "`api_key_env` looks like a literal API key; it must be the NAME of \
                     an environment variable holding the key (e.g. OPENAI_API_KEY)"
                        .into(),
                );
            }
        }
        if self.kind == ProviderKind::Openai && self.base_url.is_none() {
            return bad("`base_url` is required for kind = \"openai\"".into());
        }
        if !(self.timeout_s > 0.0 && self.timeout_s.is_finite()) {
            return bad("`timeout_s` must be a positive number of seconds".into());
        }
        if self.max_concurrency == 0 {
            return bad("`max_concurrency` must be at least 1".into());
        }
        if self.requests_per_minute == Some(0) {
            return bad("`requests_per_minute` must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.noise) {
            return bad("`noise` must be between 0 and 1".into());
        }
        if self.price_in_per_mtok < 0.0 || self.price_out_per_mtok < 0.0 {
            return bad("prices must not be negative".into());
        }
        Ok(())
    }
}

/// `[budget]`: limits for the whole sweep. Absent fields mean no limit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    pub max_cost_usd: Option<f64>,
    pub max_tokens: Option<u64>,
    pub max_calls: Option<u64>,
}

/// `[llm.prompts]`: replacement texts for the embedded templates (the config loader
/// reads files; this holds their text). Any template left out keeps its built-in text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptOverrides {
    pub system: Option<String>,
    pub rules: Option<String>,
    /// Protocol sections by protocol kind (`none`, `broadcast`, `quota`, `ledger`, …).
    pub protocols: BTreeMap<String, String>,
}

fn default_timeout_s() -> f64 {
    60.0
}

fn default_max_concurrency() -> u32 {
    8
}

/// What an LLM agent does when its answer is still invalid after `max_repairs` re-asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// Repeat last year's decision (counted).
    #[default]
    Previous,
    /// Order nothing and keep every ship in the harbor (counted).
    Hold,
    /// Fail the run, with the reason in `runs.csv`.
    FailRun,
}

/// The `[llm]` table: settings shared by every LLM agent of the experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// Re-asks with the validation error before the fallback applies.
    pub max_repairs: u32,
    pub fallback: Fallback,
    /// Past years an agent remembers in its prompt.
    pub memory_years: u32,
    /// Named persona texts; `greedy` is built in.
    pub personas: BTreeMap<String, String>,
    /// Template overrides.
    pub prompts: PromptOverrides,
}

impl Default for LlmSettings {
    fn default() -> Self {
        LlmSettings {
            max_repairs: 2,
            fallback: Fallback::Previous,
            memory_years: 5,
            personas: BTreeMap::new(),
            prompts: PromptOverrides::default(),
        }
    }
}
