//! Recording results (docs/DESIGN.md §8): the row types of the CSV files, the event log, the
//! typed manifest, the run lifecycle sinks and crash-safe writing.
//!
//! This module sits at the bottom with the engine: it knows rows, events and files, never
//! protocols, agents or the game loop. A finished run reaches it as plain rows
//! ([`FinishedRun`]) and every output (CSV files, event logs, the summary, progress, the
//! LLM cache) is a [`RunSink`].
//!
//! A run's rows are appended only once the run is complete, `years.csv`, `agents.csv`
//! (and `messages.csv`) first and `runs.csv` last: a run id in `runs.csv` therefore means
//! all its rows are on disk, which is what resuming relies on.

mod compact;
mod csvfile;
mod event;
mod manifest;
mod rows;
mod sink;
mod status;

pub use compact::{rewrite_runs, RUN_FILES};
pub use csvfile::{header_of, write_atomic, write_event_log, EventLevel, EventLogs, ResultsWriter};
pub use event::{AgentEvent, Event};
pub use manifest::{
    AgentProgram, AnalysisChoice, Cell, Descriptions, Manifest, ManifestRun, RatingInfo,
    MANIFEST_SCHEMA_VERSION, PRIMARY_OUTCOMES,
};
pub use rows::{escape_text, gini, unescape_text, AgentRow, MessageRow, RunLabel, RunRow, YearRow};
pub use sink::{FinishedRun, RunSink, SweepEnd, SweepStart};
pub use status::RunStatus;

use std::path::PathBuf;

/// Names of the files in a results directory.
pub struct RunFiles;

impl RunFiles {
    pub const MANIFEST: &'static str = "manifest.json";
    pub const RUNS: &'static str = "runs.csv";
    pub const YEARS: &'static str = "years.csv";
    pub const AGENTS: &'static str = "agents.csv";
    pub const MESSAGES: &'static str = "messages.csv";
    pub const SUMMARY: &'static str = "summary.md";
    pub const RUNS_DIR: &'static str = "runs";
    pub const CACHE_DIR: &'static str = "cache";

    /// `name` as a file name: ASCII letters, digits, `-` and `_` kept, anything else
    /// (a path separator in a cell name, say) replaced by `_`.
    pub fn safe_stem(name: &str) -> String {
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

/// Why writing or reading a results file failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write a CSV row to {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("cannot serialize {what}: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    /// A sink outside this module failed (the LLM cache, a progress display).
    #[error("{0}")]
    Sink(String),
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 of the given bytes: config, prompt and cache-key digests.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}
