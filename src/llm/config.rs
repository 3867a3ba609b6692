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
}

impl Default for LlmSettings {
    fn default() -> Self {
        LlmSettings {
            max_repairs: 2,
            fallback: Fallback::Previous,
            memory_years: 5,
            personas: BTreeMap::new(),
        }
    }
}
