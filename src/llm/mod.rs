//! LLM agents and the models behind them (DESIGN §4 "LLM agents", §6).
//!
//! Only this module talks HTTP.
//!
//! # Layout
//!
//! - [`factory`]: `AgentFactory`, built once per sweep; one model stack per provider,
//!   `CachedModel(Limited(OpenAiModel | MockModel))`, so limits, cache and budget hold
//!   across concurrent runs; `estimate` for `--dry-run`.
//! - [`agent`]: `LlmAgent` (prompt, ask, validate, repair, fallback, stats, events).
//! - [`prompt`] (templates under `prompts/`), [`parse`] (lenient extraction, strict
//!   validation).
//! - [`model`] (`ChatModel`), [`openai`] (HTTP transport and retries), [`mock`] (the
//!   in-process mock), [`cache`] (record/replay), [`limits`], [`budget`].
//! - [`mock_server`]: the OpenAI-compatible fault-injecting server.

pub mod agent;
pub mod budget;
pub mod cache;
pub mod config;
pub mod error;
pub mod factory;
pub mod limits;
pub mod mock;
pub mod mock_server;
pub mod model;
pub mod openai;
pub mod parse;
pub mod prompt;

pub use agent::LlmAgent;
pub use budget::Budget;
pub use cache::CacheMode;
pub use config::{
    BudgetConfig, Fallback, LlmSettings, PromptOverrides, ProviderConfig, ProviderKind,
    StructuredOutput,
};
pub use error::LlmError;
pub use factory::{AgentFactory, AgentSpec, Estimate};
pub use model::{ChatMessage, ChatModel, ChatRequest, ChatResponse, Usage};
pub use prompt::GameFacts;

#[cfg(test)]
mod tests;
