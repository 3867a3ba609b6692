//! LLM configuration as written in an experiment file: `[providers.NAME]`, `[personas]`
//! and `[llm]` (docs/DESIGN.md §6).

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
    /// The question's exact JSON schema as `response_format` (a root `anyOf` where an
    /// answer is a choice: llama.cpp's server, vLLM, Ollama, LM Studio).
    #[default]
    JsonSchema,
    /// The same exact schema for servers whose strict mode wants an object at the root
    /// (OpenAI): a choice is nested under a root object's one property `answer`, and text
    /// limits are stated as patterns (see `llm::nested`).
    JsonSchemaNested,
    /// `response_format: json_object`: any JSON object; the schema is in the prompt.
    JsonObject,
    /// Nothing: the schema is in the prompt only.
    None,
}

/// One `[providers.NAME]` block as written. Settings of one kind are errors on the other
/// ([`ProviderConfig::resolve`] turns it into a [`Provider`] that cannot mix them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: Option<ProviderKind>,
    /// Server root, e.g. `http://localhost:11434/v1` (openai only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Model name sent to the server (the mock records it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Name of the environment variable holding the API key. The key itself never
    /// appears in a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Per-request timeout in seconds (openai only; default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    /// Requests in flight at once to this provider (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_output: Option<StructuredOutput>,
    /// Price per million input tokens (USD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_in_per_mtok: Option<f64>,
    /// Price per million output tokens (USD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_out_per_mtok: Option<f64>,
    /// Price per million input tokens served from the server's prompt cache (USD;
    /// default: the input price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_cached_in_per_mtok: Option<f64>,
    /// Mock only: the policy the mock plays (`greedy`, `sustainable`, `follower`, `chaotic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Mock only: probability of an answer that needs repair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
    /// Mock only: simulated latency per call in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Transport retries (429, 5xx, timeouts, connection errors) after the first attempt
    /// (openai only; default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// First backoff ceiling in milliseconds; doubles per retry (full jitter below it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_base_ms: Option<u64>,
    /// Largest backoff in milliseconds (a server's `Retry-After` is honoured even when
    /// longer, within the call deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_max_ms: Option<u64>,
    /// The longest one call may take, every attempt and wait included (openai only;
    /// default: 10 × `timeout_s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_deadline_s: Option<f64>,
    /// How long the provider may go without one answered call before the sweep stops
    /// (circuit breaker; default 120 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage_wait_s: Option<f64>,
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

/// Why `value`, given to `field` (a setting that names an environment variable: a
/// bearer token's, a header's), is not the name of one; `None` when it is. The value is
/// never repeated: it may be the secret itself, pasted where its variable's name belongs.
pub(crate) fn env_name_problem(field: &str, value: &str) -> Option<String> {
    let plausible = !value.is_empty()
        && !value.starts_with(|c: char| c.is_ascii_digit())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (!plausible || looks_like_key(value)).then(|| {
        format!(
            "`{field}` must be the NAME of an environment variable (letters, digits and `_`) that holds the secret, not the secret itself: e.g. `export AGENT_TOKEN=…` and `{field} = \"AGENT_TOKEN\"` (the value given is not repeated here)"
        )
    })
}

/// A problem with a provider block; `field` is relative to `[providers.NAME]`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ProviderError {
    pub field: String,
    pub message: String,
}

fn provider_error(field: &str, message: impl Into<String>) -> ProviderError {
    ProviderError {
        field: field.to_string(),
        message: message.into(),
    }
}

/// Sampling parameters sent with every request.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Sampling {
    pub temperature: Option<f64>,
    /// The base of the per-call seeds (mixed with the run seed, agent and call site).
    pub seed: Option<i64>,
    pub max_tokens: Option<u32>,
}

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Prices {
    pub input: f64,
    /// Input served from the server's prompt cache.
    pub cached_input: f64,
    pub output: f64,
}

impl Prices {
    /// Cost in micro-USD of a call as billed: uncached input, cached input and output,
    /// each at its price (tokens × USD per million tokens = micro-USD).
    pub fn cost_micro(&self, tokens_in: u64, tokens_cached: u64, tokens_out: u64) -> u64 {
        let uncached = tokens_in.saturating_sub(tokens_cached);
        (uncached as f64 * self.input
            + tokens_cached.min(tokens_in) as f64 * self.cached_input
            + tokens_out as f64 * self.output)
            .round()
            .max(0.0) as u64
    }
}

/// How transport retries wait.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RetrySettings {
    pub max_retries: u32,
    pub base_ms: u64,
    pub max_ms: u64,
    /// The longest one call may take, every attempt and wait included.
    pub deadline_s: f64,
}

/// What answers a provider's calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Backend {
    /// An OpenAI-compatible chat-completions server.
    Openai {
        base_url: String,
        /// Name of the environment variable with the key (none: no key is sent).
        api_key_env: Option<String>,
        timeout_s: f64,
        retry: RetrySettings,
    },
    /// The in-process deterministic mock.
    Mock {
        policy: super::mock::Policy,
        noise: f64,
        latency_ms: u64,
    },
}

/// A provider with every setting resolved and checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provider {
    /// The model name sent to the server (empty for a mock without one).
    pub model: String,
    pub sampling: Sampling,
    pub structured_output: StructuredOutput,
    pub max_concurrency: u32,
    pub requests_per_minute: Option<u32>,
    pub prices: Prices,
    /// How long the provider may go without an answered call before it is declared down.
    pub outage_wait_s: f64,
    pub backend: Backend,
}

impl Provider {
    /// What a provider that is not a language model is, in a sentence (`None` for a
    /// server, whose model the configuration names).
    pub fn stand_in(&self) -> Option<String> {
        match &self.backend {
            Backend::Openai { .. } => None,
            Backend::Mock { policy, noise, .. } => Some(format!(
                "the harness's in-process mock, a rule-based stand-in (not a language model) that reads the prompt's labelled facts and answers by its policy `{}`: it {}; {}",
                policy.as_str(),
                policy.description(),
                if *noise > 0.0 {
                    format!("a share {noise} of its answers is deliberately malformed (prose, broken JSON, out of range) to exercise the re-asks")
                } else {
                    "every answer is well formed".to_string()
                }
            )),
        }
    }

    pub fn kind(&self) -> ProviderKind {
        match self.backend {
            Backend::Openai { .. } => ProviderKind::Openai,
            Backend::Mock { .. } => ProviderKind::Mock,
        }
    }
}

impl ProviderConfig {
    /// A provider block of the given kind with every default (handy in tests).
    pub fn new(kind: ProviderKind) -> ProviderConfig {
        ProviderConfig {
            kind: Some(kind),
            ..ProviderConfig::default()
        }
    }

    /// Check what serde cannot (no literal key anywhere, required settings, ranges,
    /// settings of the other kind) and resolve the defaults. The error never repeats a
    /// secret.
    pub fn resolve(&self) -> Result<Provider, ProviderError> {
        if self.api_key.is_some() {
            return Err(provider_error(
                "api_key",
                "`api_key` is not allowed: put the key in an environment variable and \
                 name that variable in `api_key_env`",
            ));
        }
        if let Some(env) = &self.api_key_env {
            if looks_like_key(env) {
                return Err(provider_error(
                    "api_key_env",
                    "`api_key_env` looks like a literal API key; it must be the NAME of \
                     an environment variable holding the key (e.g. OPENAI_API_KEY)",
                ));
            }
        }
        let kind = self
            .kind
            .ok_or_else(|| provider_error("kind", "missing: \"openai\" or \"mock\""))?;
        let max_concurrency = self.max_concurrency.unwrap_or(8);
        if max_concurrency == 0 {
            return Err(provider_error("max_concurrency", "must be at least 1"));
        }
        if self.requests_per_minute == Some(0) {
            return Err(provider_error("requests_per_minute", "must be at least 1"));
        }
        let input = self.price_in_per_mtok.unwrap_or(0.0);
        let prices = Prices {
            input,
            cached_input: self.price_cached_in_per_mtok.unwrap_or(input),
            output: self.price_out_per_mtok.unwrap_or(0.0),
        };
        for (field, price) in [
            ("price_in_per_mtok", prices.input),
            ("price_cached_in_per_mtok", prices.cached_input),
            ("price_out_per_mtok", prices.output),
        ] {
            if !(price >= 0.0 && price.is_finite()) {
                return Err(provider_error(field, "must be a non-negative number"));
            }
        }
        if let Some(t) = self.temperature {
            if !(0.0..=2.0).contains(&t) {
                return Err(provider_error("temperature", "must be between 0 and 2"));
            }
        }
        let only = |field: &str, set: bool, other: &str| -> Result<(), ProviderError> {
            if set {
                Err(provider_error(
                    field,
                    format!("only applies to providers of kind = \"{other}\""),
                ))
            } else {
                Ok(())
            }
        };
        let outage_wait_s = self.outage_wait_s.unwrap_or(120.0);
        if !(outage_wait_s > 0.0 && outage_wait_s.is_finite()) {
            return Err(provider_error(
                "outage_wait_s",
                "must be a positive number of seconds",
            ));
        }
        let backend = match kind {
            ProviderKind::Openai => {
                only("policy", self.policy.is_some(), "mock")?;
                only("noise", self.noise.is_some(), "mock")?;
                only("latency_ms", self.latency_ms.is_some(), "mock")?;
                let base_url = self.base_url.clone().ok_or_else(|| {
                    provider_error("base_url", "missing: required for kind = \"openai\"")
                })?;
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(provider_error(
                        "base_url",
                        format!("must start with http:// or https://, got `{base_url}`"),
                    ));
                }
                if self.model.is_none() {
                    return Err(provider_error("model", "missing: the model name"));
                }
                let timeout_s = self.timeout_s.unwrap_or(60.0);
                if !(timeout_s > 0.0 && timeout_s.is_finite()) {
                    return Err(provider_error(
                        "timeout_s",
                        "must be a positive number of seconds",
                    ));
                }
                let deadline_s = self.call_deadline_s.unwrap_or(10.0 * timeout_s);
                if !(deadline_s >= timeout_s && deadline_s.is_finite()) {
                    return Err(provider_error(
                        "call_deadline_s",
                        format!("must be at least timeout_s ({timeout_s} s)"),
                    ));
                }
                Backend::Openai {
                    base_url,
                    api_key_env: self.api_key_env.clone(),
                    timeout_s,
                    retry: RetrySettings {
                        max_retries: self.max_retries.unwrap_or(4),
                        base_ms: self.retry_base_ms.unwrap_or(500),
                        max_ms: self.retry_max_ms.unwrap_or(30_000),
                        deadline_s,
                    },
                }
            }
            ProviderKind::Mock => {
                for (field, set) in [
                    ("base_url", self.base_url.is_some()),
                    ("api_key_env", self.api_key_env.is_some()),
                    ("timeout_s", self.timeout_s.is_some()),
                    ("max_retries", self.max_retries.is_some()),
                    ("retry_base_ms", self.retry_base_ms.is_some()),
                    ("retry_max_ms", self.retry_max_ms.is_some()),
                    ("call_deadline_s", self.call_deadline_s.is_some()),
                ] {
                    only(field, set, "openai")?;
                }
                let noise = self.noise.unwrap_or(0.0);
                if !(0.0..=1.0).contains(&noise) {
                    return Err(provider_error("noise", "must be between 0 and 1"));
                }
                let policy = super::mock::Policy::parse(self.policy.as_deref().unwrap_or("greedy"))
                    .map_err(|e| provider_error("policy", e.to_string()))?;
                Backend::Mock {
                    policy,
                    noise,
                    latency_ms: self.latency_ms.unwrap_or(0),
                }
            }
        };
        Ok(Provider {
            model: self.model.clone().unwrap_or_default(),
            sampling: Sampling {
                temperature: self.temperature,
                seed: self.seed,
                max_tokens: self.max_tokens,
            },
            structured_output: self.structured_output.unwrap_or_default(),
            max_concurrency,
            requests_per_minute: self.requests_per_minute,
            prices,
            outage_wait_s,
            backend,
        })
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

pub use crate::question::Fallback;

/// The `[llm]` table: settings shared by every LLM agent of the experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// Re-asks with the validation error before the fallback applies.
    pub max_repairs: u32,
    pub fallback: Fallback,
    /// A run whose share of LLM answers that fell back exceeds this is `invalid`: kept
    /// in the files, left out of statistics (the agents did not really play).
    pub max_fallback_share: f64,
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
            max_fallback_share: 0.05,
            memory_years: 5,
            personas: BTreeMap::new(),
            prompts: PromptOverrides::default(),
        }
    }
}

/// The `[human]` table: how people in `kind = "human"` seats are asked. They are asked
/// exactly as LLM agents are (the same prompt, schema, validation and re-asks); these are
/// the settings a person needs differently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HumanSettings {
    /// Seconds a person has to answer one question; then the fallback applies (counted
    /// like an LLM's).
    pub timeout_s: f64,
    /// Re-asks with the validation error before the fallback applies.
    pub max_repairs: u32,
    pub fallback: Fallback,
    /// A run in which more than this share of the questions put to people fell back
    /// (left to time out, or refused after every re-ask) is `invalid`. People are judged
    /// apart from models (`[llm] max_fallback_share`): a class misses a question now and
    /// then and is still a class that played. Left out of the resolved configuration at
    /// its default, so the experiments played before it existed keep their hashes.
    #[serde(skip_serializing_if = "is_default_human_share")]
    pub max_fallback_share: f64,
}

/// The default of `[human] max_fallback_share`.
const HUMAN_MAX_FALLBACK_SHARE: f64 = 0.25;

fn is_default_human_share(share: &f64) -> bool {
    *share == HUMAN_MAX_FALLBACK_SHARE
}

impl Default for HumanSettings {
    fn default() -> Self {
        HumanSettings {
            timeout_s: 300.0,
            max_repairs: 2,
            fallback: Fallback::Previous,
            max_fallback_share: HUMAN_MAX_FALLBACK_SHARE,
        }
    }
}

/// The default cap on an answer's body (a remote agent's, an MCP request): 1 MB.
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 1_000_000;

/// The `[mcp]` table: where the harness serves its MCP seats (`kind = "mcp"`) and how
/// long it waits for their client. Answers are validated, re-asked (`[llm]
/// max_repairs`) and replaced by the `[llm] fallback` as every seat's are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McpSettings {
    /// Address of the MCP endpoint (`http://<bind>/mcp`); port 0 picks a free one.
    pub bind: String,
    /// Seconds a client has to answer a question it took (`next_question`); then the
    /// fallback applies, counted.
    pub timeout_s: f64,
    /// How long questions may wait with no call from their client before the sweep
    /// stops (exit 75, resumable): a client that is gone.
    pub outage_wait_s: f64,
    /// The largest request body the endpoint reads (an answer with its call), bytes.
    pub max_answer_bytes: u64,
}

impl Default for McpSettings {
    fn default() -> Self {
        McpSettings {
            bind: "127.0.0.1:0".into(),
            timeout_s: 300.0,
            outage_wait_s: 600.0,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        }
    }
}

/// A `kind = "mcp"` seat as written: the seats of entries with the same `token_env` (or
/// none) are one client's, reached with one token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSeat {
    /// The environment variable holding the client's bearer token; without it (or with
    /// the variable unset) the harness makes a token and prints it at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_keys_are_refused_and_never_echoed() {
        let secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
        let mut p = ProviderConfig::new(ProviderKind::Openai);
        p.base_url = Some("http://127.0.0.1:9/v1".into());
        p.model = Some("m".into());
        p.api_key_env = Some(secret.into());
        let err = p.resolve().unwrap_err();
        assert_eq!(err.field, "api_key_env");
        assert!(
            err.message.contains("looks like a literal API key") && !err.message.contains(secret),
            "{err}"
        );

        let toml_text =
            format!("kind = \"openai\"\nbase_url = \"http://h/v1\"\napi_key = \"{secret}\"\n");
        let p: ProviderConfig = toml::from_str(&toml_text).unwrap();
        let err = p.resolve().unwrap_err().to_string();
        assert!(
            err.contains("api_key_env") && !err.contains(secret),
            "{err}"
        );
        assert!(!format!("{p:?}").contains(secret));
        assert!(!serde_json::to_string(&p).unwrap().contains(secret));

        let mut ok = ProviderConfig::new(ProviderKind::Openai);
        ok.base_url = Some("http://h/v1".into());
        ok.model = Some("m".into());
        ok.api_key_env = Some("OPENAI_API_KEY".into());
        ok.resolve().unwrap();
    }

    #[test]
    fn settings_of_the_other_kind_are_refused() {
        let mut mock = ProviderConfig::new(ProviderKind::Mock);
        mock.base_url = Some("http://h/v1".into());
        assert_eq!(mock.resolve().unwrap_err().field, "base_url");
        let mut openai = ProviderConfig::new(ProviderKind::Openai);
        openai.base_url = Some("http://h/v1".into());
        openai.model = Some("m".into());
        openai.policy = Some("greedy".into());
        assert_eq!(openai.resolve().unwrap_err().field, "policy");
        openai.policy = None;
        openai.timeout_s = Some(0.0);
        assert_eq!(openai.resolve().unwrap_err().field, "timeout_s");
        let mut bad_policy = ProviderConfig::new(ProviderKind::Mock);
        bad_policy.policy = Some("saintly".into());
        assert_eq!(bad_policy.resolve().unwrap_err().field, "policy");
    }
}
