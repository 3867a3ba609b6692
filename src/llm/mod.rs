//! LLM agents and the models behind them (DESIGN §4 "LLM agents", §6).
//!
//! Only this module talks HTTP.

pub mod config;

pub use config::{Fallback, LlmSettings, ProviderConfig, ProviderKind, StructuredOutput};
