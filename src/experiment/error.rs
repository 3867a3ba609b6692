//! The error that stops a sweep (a failing run does not: it is recorded as failed).

use crate::llm::LlmError;
use crate::record::RecordError;

/// Errors that stop a sweep, a merge or a dry run.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("{0}")]
    Setup(String),
    #[error("a run task panicked: {0}")]
    Panic(String),
    #[error(transparent)]
    Llm(#[from] LlmError),
}
