//! Recording results (DESIGN §8): the rows of `runs.csv`, `years.csv` and `agents.csv`,
//! the per-run event logs, and writing them so that a crash never leaves a torn row.
//!
//! A run's rows are appended only once the run is complete, `years.csv` and `agents.csv`
//! first and `runs.csv` last: a run id in `runs.csv` therefore means all its rows are on
//! disk, which is what resuming relies on.

mod event;
pub use rows::RunLabel;
mod rows;
mod writer;

pub use event::Event;
pub use rows::{agent_rows, gini, year_rows, AgentRow, RunRow, YearRow, RUNS_HEADER};
pub use writer::{write_atomic, write_event_log, EventLevel, ResultsWriter, RunFiles};

/// Errors while writing results.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write a CSV row to {path}: {source}")]
    Csv {
        path: std::path::PathBuf,
        source: csv::Error,
    },
    #[error("cannot serialize {what}: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
}
