//! LLM agents and the models behind them (DESIGN §4 "LLM agents", §6).
//!
//! Only this module talks HTTP.

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
