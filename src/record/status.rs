//! The status of a run, serialized once (`runs.csv`'s `status` column, events, the
//! summary, the analysis all use this type).

use serde::{Deserialize, Serialize};

/// How a run ended (docs/DESIGN.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The agents played every year (or the game stopped on collapse).
    #[default]
    Ok,
    /// The agents did not really play: more answers fell back than `[llm]
    /// max_fallback_share` allows. Kept in the files, excluded from statistics.
    Invalid,
    /// An infrastructure error (an agent could not be built, a replay missed, a
    /// `fail-run` fallback). Replayed by resume.
    Failed,
    /// The sweep's LLM budget ran out before the run finished; the years it played are
    /// recorded.
    Budget,
    /// Stopped by Ctrl-C or SIGTERM during a played game (`fishbanks play`): the years
    /// played are recorded, the year under way is not; `play --resume` plays it again
    /// from its cache and goes on. Like `failed`, resume replaces it.
    Stopped,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Ok,
        RunStatus::Invalid,
        RunStatus::Failed,
        RunStatus::Budget,
        RunStatus::Stopped,
    ];

    /// The text of the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Invalid => "invalid",
            RunStatus::Failed => "failed",
            RunStatus::Budget => "budget",
            RunStatus::Stopped => "stopped",
        }
    }

    /// Whether the run enters statistics.
    pub fn is_ok(self) -> bool {
        self == RunStatus::Ok
    }

    /// Whether resume keeps the run (a failed or stopped run is played again).
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Failed | RunStatus::Stopped)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
