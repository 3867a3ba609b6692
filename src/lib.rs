//! Fishbanks coordination-experiment harness.
pub mod engine;
