//! LLM agents and the models behind them (docs/DESIGN.md §4 "LLM agents", §6).
//!
//! Only this module talks HTTP.
//!
//! # Layout
//!
//! - `factory`: `AgentFactory`, built once per sweep; one model stack per provider,
//!   `CachedModel(Limited(OpenAiModel | MockModel))`, so limits, cache and budget hold
//!   across concurrent runs; `estimate` for `--dry-run`.
//! - `agent`: `LlmAgent` (prompt, ask, validate, repair, fallback, stats, events).
//! - `prompt` (templates under `prompts/`); the questions themselves (their text, schema,
//!   validation and fallback) are [`crate::question`]'s.
//! - [`model`] (`ChatModel`), `openai` (HTTP transport and retries), [`mock`] (the
//!   in-process mock), `cache` (record/replay), `limits`, `budget`.
//! - [`config`]: `[providers.NAME]` as written and resolved into a [`Provider`], `[llm]`,
//!   `[budget]`.
//! - [`embeddings`]: text embeddings through a provider's `/embeddings`, cached, for the
//!   diagnostics.

pub(crate) mod agent;
pub(crate) mod breaker;
pub(crate) mod cache;
pub mod config;
pub mod embeddings;
pub mod error;
pub(crate) mod factory;
pub(crate) mod limits;
pub mod mock;
pub mod model;
pub mod nested;
pub(crate) mod openai;
pub mod preflight;
pub(crate) mod prompt;
pub mod remote;
pub(crate) mod retry;
pub(crate) mod spend;
pub mod transcript;

pub use cache::CacheMode;
pub use config::{
    Backend, BudgetConfig, Fallback, HumanSettings, LlmSettings, McpSeat, McpSettings,
    PromptOverrides, Provider, ProviderConfig, ProviderError, ProviderKind, StructuredOutput,
};
pub use error::LlmError;
pub use factory::Estimate;
pub(crate) use factory::{AgentFactory, NewAgent, HUMAN_PROVIDER};
pub use model::{
    ChatMessage, ChatModel, ChatRequest, ChatResponse, Outcome, Resolution, ResolutionWatch, Usage,
    NO_ANSWER,
};
pub(crate) use prompt::GameFacts;
#[cfg(test)]
mod testutil;
