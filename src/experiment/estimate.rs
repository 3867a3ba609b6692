//! `fishbanks run --dry-run`: what a sweep will cost before it starts. Counts the LLM calls
//! each protocol asks for (its `requests_per_year`) and measures prompt sizes by
//! rendering real prompts.

use super::error::RunnerError;
use super::resolve::Seat;
use super::seats::AgentBuilder;
use super::Experiment;
use crate::llm::{self, Estimate};

/// The estimate of one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CellEstimate {
    pub cell: String,
    pub runs: u64,
    pub estimate: Estimate,
    /// The protocol whose measured talk sets this cell's budget (`match_tokens_of`):
    /// that budget exists only once the reference's cells have run, so this cell's
    /// message sizes are the protocol's own limit, an upper bound.
    pub matched_to: Option<String>,
}

impl CellEstimate {
    /// The share of input tokens a prompt cache can serve (the prefix its prompts share
    /// with another agent's), 0 without calls.
    pub fn cached_share(&self) -> f64 {
        if self.estimate.tokens_in == 0 {
            0.0
        } else {
            self.estimate.tokens_cached as f64 / self.estimate.tokens_in as f64
        }
    }
}

/// Estimate calls, tokens and cost per cell (cells in plan order).
pub fn estimate(
    exp: &Experiment,
    builder: &AgentBuilder,
) -> Result<Vec<CellEstimate>, RunnerError> {
    let mut cells = Vec::new();
    for cell in &exp.plan.cells {
        let runs: Vec<_> = exp
            .plan
            .runs
            .iter()
            .filter(|r| r.label.cell == cell.cell)
            .collect();
        let mut total = Estimate::default();
        if let (Some(first), Some(factory)) = (runs.first(), builder.llm.as_deref()) {
            let section = builder.protocol_section(first)?;
            let mut per_year = first.protocol.requests_per_year(first.seats.len());
            let years = exp.config.years;
            let probe_every = exp.config.probe_every;
            if probe_every > 0 && years >= probe_every {
                // The consensus probe, asked in (years / probe_every) of the years.
                let probes = (years / probe_every) as f64 / years as f64;
                per_year.push((crate::agents::RequestKind::Probe, probes));
            }
            let message_chars = first.protocol.message_chars().unwrap_or(0);
            for (i, seat) in first.seats.iter().enumerate() {
                let Seat::Llm { provider, persona } = seat else {
                    continue;
                };
                let spec = llm::NewAgent {
                    run_id: &first.label.run_id,
                    replicate_seed: first.label.seed,
                    agent_index: i,
                    provider,
                    persona,
                    protocol_section: &section,
                };
                total = total
                    + factory.estimate(
                        &spec,
                        runs.len() as u64,
                        exp.config.years,
                        &per_year,
                        message_chars,
                    )?;
            }
        }
        cells.push(CellEstimate {
            cell: cell.cell.clone(),
            runs: runs.len() as u64,
            estimate: total,
            matched_to: runs
                .first()
                .and_then(|r| r.protocol.matches_tokens_of())
                .map(str::to_string),
        });
    }
    Ok(cells)
}

/// The estimate as a Markdown table with a total row, and a note for each cell whose
/// budget is measured during the sweep.
pub fn to_markdown(cells: &[CellEstimate]) -> String {
    let mut out = String::from("| cell | runs | LLM calls | tokens in | prompt-cache share | tokens out | cost (USD) |\n|---|---:|---:|---:|---:|---:|---:|\n");
    let mut total = Estimate::default();
    let mut runs = 0;
    for c in cells {
        out.push_str(&format!(
            "| {}{} | {} | {} | {} | {:.2} | {} | {:.2} |\n",
            c.cell,
            if c.matched_to.is_some() { " †" } else { "" },
            c.runs,
            c.estimate.calls,
            c.estimate.tokens_in,
            c.cached_share(),
            c.estimate.tokens_out,
            c.estimate.cost_usd
        ));
        total = total + c.estimate;
        runs += c.runs;
    }
    let share = CellEstimate {
        cell: String::new(),
        runs,
        estimate: total,
        matched_to: None,
    }
    .cached_share();
    out.push_str(&format!(
        "| **total** | {} | {} | {} | {:.2} | {} | {:.2} |\n",
        runs, total.calls, total.tokens_in, share, total.tokens_out, total.cost_usd
    ));
    let mut matched: Vec<&str> = cells
        .iter()
        .filter_map(|c| c.matched_to.as_deref())
        .collect();
    matched.sort_unstable();
    matched.dedup();
    for reference in matched {
        out.push_str(&format!(
            "\n† token-matched to `{reference}`: the talk budget is what `{reference}`'s cells measure, known only once they have run; these rows count messages at the protocol's own size limit, an upper bound.\n"
        ));
    }
    out
}
