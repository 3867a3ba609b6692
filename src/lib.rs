//! Fishbanks coordination-experiment harness.
pub mod agents;
pub mod engine;
pub mod llm;
