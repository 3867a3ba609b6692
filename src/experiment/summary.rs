//! The per-cell summary printed at the end of `fishbanks run` and written as
//! `summary.md`: a first look, not the statistics (those are `fishbanks report`'s).

use crate::record::{
    write_atomic, Cell, FinishedRun, RecordError, RunFiles, RunRow, RunSink, RunStatus, SweepEnd,
    SweepStart,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Running sums for one cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CellSummary {
    pub cell: String,
    /// Runs with status `ok` (the only ones the means are over).
    pub n: usize,
    pub invalid: usize,
    pub failed: usize,
    pub budget: usize,
    pub collapsed: usize,
    survival_sum: f64,
    stock_deep_sum: f64,
    stock_coast_sum: f64,
    assets_sum: f64,
    /// Over every recorded run: LLM answers, valid first tries, fallbacks, tokens.
    pub llm_answers: u64,
    pub llm_valid_first_try: u64,
    pub llm_fallbacks: u64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    /// Text the agents published in `ok` runs (tokens), and their agent-years.
    pub talk_tokens: u64,
    pub agent_years: u64,
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
    fn share(part: u64, whole: u64) -> f64 {
        if whole == 0 {
            f64::NAN
        } else {
            part as f64 / whole as f64
        }
    }
    /// Share of LLM answers that fell back.
    pub fn fallback_share(&self) -> f64 {
        Self::share(self.llm_fallbacks, self.llm_answers)
    }
    /// Share of LLM answers valid at the first call.
    pub fn valid_first_try_share(&self) -> f64 {
        Self::share(self.llm_valid_first_try, self.llm_answers)
    }
    /// Published tokens per agent and year (the volume a token-matched control equalises).
    pub fn talk_per_agent_year(&self) -> f64 {
        Self::share(self.talk_tokens, self.agent_years)
    }
}

/// `v` with `decimals` decimals, or "–" when there is no value (a cell without an `ok`
/// run has no means).
fn fixed(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "–".into()
    }
}

/// Per-cell summary of a sweep, in plan order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub cells: Vec<CellSummary>,
    /// Teams per game.
    pub teams: usize,
}

impl Summary {
    pub fn new(cells: &[Cell], teams: usize) -> Summary {
        Summary {
            teams,
            cells: cells
                .iter()
                .map(|c| CellSummary {
                    cell: c.cell.clone(),
                    ..CellSummary::default()
                })
                .collect(),
        }
    }

    /// Count a recorded run. Only `ok` runs enter the means: runs that did not finish
    /// or where the agents did not really play would bias them; they are counted.
    pub fn add(&mut self, row: &RunRow) {
        let Some(cell) = self.cells.iter_mut().find(|c| c.cell == row.cell) else {
            return;
        };
        cell.llm_answers += row.llm_answers;
        cell.llm_valid_first_try += row.llm_valid_first_try;
        cell.llm_fallbacks += row.llm_fallbacks;
        cell.tokens_in += row.tokens_in;
        cell.tokens_cached += row.tokens_cached;
        cell.tokens_out += row.tokens_out;
        match row.status {
            RunStatus::Ok => {}
            RunStatus::Invalid => {
                cell.invalid += 1;
                return;
            }
            // A stopped game is not a result: counted with the failed ones.
            RunStatus::Failed | RunStatus::Stopped => {
                cell.failed += 1;
                return;
            }
            RunStatus::Budget => {
                cell.budget += 1;
                return;
            }
        }
        cell.n += 1;
        cell.talk_tokens += row.talk_tokens;
        cell.agent_years += row.years_played as u64 * self.teams as u64;
        cell.collapsed += usize::from(row.collapsed);
        cell.survival_sum += row.survival_years as f64;
        cell.stock_deep_sum += row.final_stock_deep as f64;
        cell.stock_coast_sum += row.final_stock_coast as f64;
        cell.assets_sum += row.total_assets as f64;
    }

    /// Runs that failed or were invalid, over all cells.
    pub fn not_ok(&self) -> (usize, usize) {
        self.cells
            .iter()
            .fold((0, 0), |(f, i), c| (f + c.failed, i + c.invalid))
    }

    /// The summary as a Markdown table (with validity and token columns when LLM agents
    /// played).
    pub fn to_markdown(&self) -> String {
        let llm = self.cells.iter().any(|c| c.llm_answers > 0);
        let mut out = String::from(
            "| cell | ok | invalid | failed | budget | collapse rate | mean survival years | mean final stock deep | mean final stock coast | mean total assets | talk tokens / agent-year |",
        );
        if llm {
            out.push_str(
                " fallback share | valid first try | tokens in | tokens cached | tokens out |",
            );
        }
        out.push_str("\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        if llm {
            out.push_str("---:|---:|---:|---:|---:|");
        }
        out.push('\n');
        for c in &self.cells {
            let _ = write!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.cell,
                c.n,
                c.invalid,
                c.failed,
                c.budget,
                fixed(c.collapse_rate(), 2),
                fixed(c.mean_survival(), 1),
                fixed(c.mean_stock_deep(), 0),
                fixed(c.mean_stock_coast(), 0),
                fixed(c.mean_assets(), 0),
                fixed(c.talk_per_agent_year(), 1)
            );
            if llm {
                let _ = write!(
                    out,
                    " {} | {} | {} | {} | {} |",
                    fixed(c.fallback_share(), 3),
                    fixed(c.valid_first_try_share(), 3),
                    c.tokens_in,
                    c.tokens_cached,
                    c.tokens_out
                );
            }
            out.push('\n');
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
    pub fn new(dir: &Path, cells: &[Cell], teams: usize) -> SummarySink {
        SummarySink {
            dir: dir.to_path_buf(),
            summary: Mutex::new(Summary::new(cells, teams)),
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
