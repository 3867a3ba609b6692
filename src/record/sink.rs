//! The run lifecycle: every output of a sweep is a [`RunSink`]. The runner announces the
//! sweep, hands each finished run to every sink, and announces the end; a new output (a
//! file format, a dashboard) is one more sink, never a change to the runner.

use super::{AgentRow, Event, MessageRow, RecordError, RunLabel, RunRow, YearRow};
use std::path::PathBuf;

/// A run that has ended, as rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FinishedRun {
    /// Position in the plan: runs are finished in this order.
    pub index: usize,
    pub label: RunLabel,
    pub row: RunRow,
    pub years: Vec<YearRow>,
    pub agents: Vec<AgentRow>,
    pub messages: Vec<MessageRow>,
    /// The event log. Present in [`RunSink::run_ended`]; emptied before
    /// [`RunSink::run_finished`] so that runs waiting for a slower predecessor hold
    /// little memory.
    pub events: Vec<Event>,
}

/// What a sweep starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepStart {
    pub dir: PathBuf,
    /// Runs of this invocation's share of the plan, completed ones included.
    pub total: usize,
    /// Rows of the runs already complete in the directory (a resumed sweep), in file
    /// order.
    pub completed: Vec<RunRow>,
}

/// How a sweep ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepEnd {
    pub dir: PathBuf,
    /// Runs finished by this invocation.
    pub finished: usize,
    /// Runs not played because the sweep stopped early.
    pub left: usize,
}

/// An output of a sweep. Methods have empty defaults: a sink implements what it needs.
/// Sinks are shared by concurrent run tasks, so they take `&self` and keep their state
/// behind locks.
pub trait RunSink: Send + Sync {
    fn sweep_started(&self, _start: &SweepStart) -> Result<(), RecordError> {
        Ok(())
    }

    /// Called from the run's own task as soon as it ends, in any order and concurrently
    /// (file work of many runs proceeds in parallel). Always before `run_finished` of the
    /// same run.
    fn run_ended(&self, _run: &FinishedRun) -> Result<(), RecordError> {
        Ok(())
    }

    /// Called in plan order, once every earlier run is finished.
    fn run_finished(&self, _run: &FinishedRun) -> Result<(), RecordError> {
        Ok(())
    }

    fn sweep_finished(&self, _end: &SweepEnd) -> Result<(), RecordError> {
        Ok(())
    }
}
