//! The token-matched control: a protocol with `match_tokens_of = "ref"` gets, as its
//! per-agent, per-year communication budget, the mean volume the same population
//! published under `ref`. Resolution puts `ref` before the matched protocol in the plan,
//! so the runner measures the reference cell from its written rows (and those already on
//! disk when resuming) before the first matched run starts.

use super::error::RunnerError;
use super::plan::RunSpec;
use crate::record::{RunRow, RunStatus};
use std::collections::BTreeMap;

/// What the runner knows about reference cells so far.
#[derive(Debug, Default)]
pub struct Matching {
    /// Runs each reference cell has in the plan.
    expected: BTreeMap<String, usize>,
    /// Rows of each reference cell written so far (any status).
    rows: BTreeMap<String, Vec<RunRow>>,
    /// Teams per game.
    teams: usize,
}

/// The reference cell whose volume `spec`'s budget is matched to, if any.
pub fn reference_cell(spec: &RunSpec) -> Option<String> {
    spec.protocol
        .matches_tokens_of()
        .map(|reference| format!("{reference}/{}", spec.label.population))
}

impl Matching {
    /// The reference cells of `plan` and the rows of them already on disk.
    pub fn new(plan: &[RunSpec], on_disk: &[RunRow]) -> Matching {
        let mut m = Matching {
            teams: plan.first().map_or(0, |r| r.seats.len()),
            ..Matching::default()
        };
        for cell in plan.iter().filter_map(reference_cell) {
            m.expected.entry(cell).or_insert(0);
        }
        for run in plan {
            if let Some(n) = m.expected.get_mut(&run.label.cell) {
                *n += 1;
            }
        }
        for row in on_disk {
            m.record(row);
        }
        m
    }

    /// Whether any run of the plan is matched.
    pub fn is_needed(&self) -> bool {
        !self.expected.is_empty()
    }

    /// Note a written row.
    pub fn record(&mut self, row: &RunRow) {
        if self.expected.contains_key(&row.cell) {
            self.rows
                .entry(row.cell.clone())
                .or_default()
                .push(row.clone());
        }
    }

    /// The budget (tokens per agent and year) measured on `cell`, once all its runs are
    /// written: the mean over its `ok` runs. `None` while runs are missing.
    pub fn budget(&self, cell: &str) -> Result<Option<u64>, RunnerError> {
        let expected = self.expected.get(cell).copied().unwrap_or(0);
        let rows = self.rows.get(cell).map_or(&[][..], Vec::as_slice);
        if rows.len() < expected {
            return Ok(None);
        }
        let ok: Vec<&RunRow> = rows.iter().filter(|r| r.status == RunStatus::Ok).collect();
        let agent_years: u64 = ok
            .iter()
            .map(|r| r.years_played as u64 * self.teams as u64)
            .sum();
        let tokens: u64 = ok.iter().map(|r| r.talk_tokens).sum();
        if agent_years == 0 || tokens == 0 {
            return Err(RunnerError::Setup(format!(
                "cannot match tokens to cell `{cell}`: its {} ok run(s) published no text",
                ok.len()
            )));
        }
        // Rounded half up to whole tokens.
        Ok(Some((tokens * 2 + agent_years) / (agent_years * 2)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cell: &str, status: RunStatus, tokens: u64) -> RunRow {
        RunRow {
            cell: cell.into(),
            status,
            talk_tokens: tokens,
            years_played: 10,
            ..RunRow::default()
        }
    }

    #[test]
    fn the_budget_is_the_mean_per_agent_year_of_ok_runs_once_all_are_in() {
        let mut m = Matching {
            expected: BTreeMap::from([("rep/p".to_string(), 3)]),
            teams: 6,
            ..Matching::default()
        };
        m.record(&row("rep/p", RunStatus::Ok, 6000));
        m.record(&row("other/p", RunStatus::Ok, 1));
        m.record(&row("rep/p", RunStatus::Invalid, 99_999));
        assert_eq!(m.budget("rep/p").unwrap(), None, "a run is missing");
        m.record(&row("rep/p", RunStatus::Ok, 6061));
        // (6000 + 6061) / (2 runs × 10 years × 6 agents) = 100.5 → 101
        assert_eq!(m.budget("rep/p").unwrap(), Some(101));
        let mut silent = Matching {
            expected: BTreeMap::from([("a/p".to_string(), 1)]),
            teams: 6,
            ..Matching::default()
        };
        silent.record(&row("a/p", RunStatus::Ok, 0));
        assert!(silent.budget("a/p").is_err());
    }
}
