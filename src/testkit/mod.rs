//! Test kit (cargo feature `testkit`): what tests, benchmarks and `fishbanks mock-server`
//! need and a research build does not.
//!
//! - [`mock_server`]: an OpenAI-compatible HTTP server on loopback with fault injection.
//! - [`Loopback`]: the guard of a test server on 127.0.0.1:0, stopped when dropped.
//! - [`chaos`]: a fault-injecting proxy between the harness and a server, which can also
//!   go down and come back.
//! - [`CrashAfter`]: a run sink that aborts the process right after a given number of
//!   runs are written (`FISHBANKS_ABORT_AFTER_RUNS`), so resume tests crash
//!   deterministically instead of racing a `kill`.

pub mod chaos;
pub mod loopback;
pub mod mock_server;

pub use loopback::Loopback;

use crate::record::{FinishedRun, RecordError, RunSink};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable [`CrashAfter::from_env`] reads.
pub const ABORT_AFTER_RUNS: &str = "FISHBANKS_ABORT_AFTER_RUNS";

/// Aborts the process after `after` runs are finished. Register it after the CSV writer:
/// sinks are called in order, so the last run's rows are on disk when it fires.
#[derive(Debug)]
pub struct CrashAfter {
    after: usize,
    finished: AtomicUsize,
}

impl CrashAfter {
    pub fn new(after: usize) -> CrashAfter {
        CrashAfter {
            after,
            finished: AtomicUsize::new(0),
        }
    }

    /// The hook `FISHBANKS_ABORT_AFTER_RUNS` asks for, if it is set.
    pub fn from_env() -> Option<CrashAfter> {
        std::env::var(ABORT_AFTER_RUNS)
            .ok()
            .and_then(|v| v.parse().ok())
            .map(CrashAfter::new)
    }
}

impl RunSink for CrashAfter {
    fn run_finished(&self, _run: &FinishedRun) -> Result<(), RecordError> {
        if self.finished.fetch_add(1, Ordering::SeqCst) + 1 == self.after {
            std::process::abort();
        }
        Ok(())
    }
}
