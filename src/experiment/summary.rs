//! The per-cell summary printed at the end of `fishbanks run` and written as
//! `summary.md`: a first look, not the statistics (those are `fishbanks report`'s).

use crate::record::{
    write_atomic, Cell, FinishedRun, RecordError, RunFiles, RunRow, RunSink, SweepEnd, SweepStart,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Running sums for one cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CellSummary {
    pub cell: String,
    pub n: usize,
    pub failed: usize,
    pub collapsed: usize,
    survival_sum: f64,
    stock_deep_sum: f64,
    stock_coast_sum: f64,
    assets_sum: f64,
}

impl CellSummary {
    fn mean(&self, sum: f64) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            sum / self.n as f64
        }
    }
    pub fn collapse_rate(&self) -> f64 {
        self.mean(self.collapsed as f64)
    }
    pub fn mean_survival(&self) -> f64 {
        self.mean(self.survival_sum)
    }
    pub fn mean_stock_deep(&self) -> f64 {
        self.mean(self.stock_deep_sum)
    }
    pub fn mean_stock_coast(&self) -> f64 {
        self.mean(self.stock_coast_sum)
    }
    pub fn mean_assets(&self) -> f64 {
        self.mean(self.assets_sum)
    }
}

/// Per-cell summary of a sweep, in plan order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub cells: Vec<CellSummary>,
}

impl Summary {
    pub fn new(cells: &[Cell]) -> Summary {
        Summary {
            cells: cells
                .iter()
                .map(|c| CellSummary {
                    cell: c.cell.clone(),
                    ..CellSummary::default()
                })
                .collect(),
        }
    }

    /// Count a finished run. Runs that did not finish are counted as failed only; their
    /// partial games would bias the means.
    pub fn add(&mut self, row: &RunRow) {
        let Some(cell) = self.cells.iter_mut().find(|c| c.cell == row.cell) else {
            return;
        };
        if !row.status.is_ok() {
            cell.failed += 1;
            return;
        }
        cell.n += 1;
        cell.collapsed += usize::from(row.collapsed);
        cell.survival_sum += row.survival_years as f64;
        cell.stock_deep_sum += row.final_stock_deep as f64;
        cell.stock_coast_sum += row.final_stock_coast as f64;
        cell.assets_sum += row.total_assets as f64;
    }

    /// The summary as a Markdown table.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| cell | n | failed | collapse rate | mean survival years | mean final stock deep | mean final stock coast | mean total assets |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for c in &self.cells {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2} | {:.1} | {:.0} | {:.0} | {:.0} |",
                c.cell,
                c.n,
                c.failed,
                c.collapse_rate(),
                c.mean_survival(),
                c.mean_stock_deep(),
                c.mean_stock_coast(),
                c.mean_assets()
            );
        }
        out
    }

    /// Write `summary.md` into a results directory.
    pub fn write(&self, dir: &Path) -> Result<(), RecordError> {
        let text = format!("# Summary\n\n{}", self.to_markdown());
        write_atomic(&dir.join(RunFiles::SUMMARY), text.as_bytes(), true)
    }
}

/// The summary as a run lifecycle sink: counts every run (resumed ones included) and
/// writes `summary.md` when the sweep ends.
pub struct SummarySink {
    dir: PathBuf,
    summary: Mutex<Summary>,
}

impl SummarySink {
    pub fn new(dir: &Path, cells: &[Cell]) -> SummarySink {
        SummarySink {
            dir: dir.to_path_buf(),
            summary: Mutex::new(Summary::new(cells)),
        }
    }

    /// The summary so far.
    pub fn snapshot(&self) -> Summary {
        self.summary.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Summary) -> T) -> Result<T, RecordError> {
        let mut summary = self
            .summary
            .lock()
            .map_err(|_| RecordError::Sink("the summary's lock is poisoned".into()))?;
        Ok(f(&mut summary))
    }
}

impl RunSink for SummarySink {
    fn sweep_started(&self, start: &SweepStart) -> Result<(), RecordError> {
        self.with(|s| start.completed.iter().for_each(|row| s.add(row)))
    }

    fn run_finished(&self, run: &FinishedRun) -> Result<(), RecordError> {
        self.with(|s| s.add(&run.row))
    }

    fn sweep_finished(&self, _end: &SweepEnd) -> Result<(), RecordError> {
        self.snapshot().write(&self.dir)
    }
}
