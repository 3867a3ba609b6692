//! LLM agents and the models behind them (DESIGN §4 "LLM agents", §6).
//!
//! Only this module talks HTTP.

pub mod config;
pub mod error;
pub mod mock;
pub mod model;
pub mod openai;
pub mod parse;
pub mod prompt;

pub use config::{
    BudgetConfig, Fallback, LlmSettings, PromptOverrides, ProviderConfig, ProviderKind,
    StructuredOutput,
};
pub use error::LlmError;
pub use model::{ChatMessage, ChatModel, ChatRequest, ChatResponse, Usage};
