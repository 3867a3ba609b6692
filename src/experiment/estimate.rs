//! `fishbanks run --dry-run`: what a sweep will cost before it starts. Counts the LLM calls
//! each protocol asks for and measures prompt sizes by rendering real prompts.

use super::config::AgentKind;
use super::runner::{protocol_switches, AgentBuilder, RunnerError};
use super::Experiment;
use crate::llm::{self, Estimate};
use crate::protocol::{ProtocolConfig, Reporting};

/// The estimate of one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CellEstimate {
    pub cell: String,
    pub runs: u64,
    pub estimate: Estimate,
}

/// Requests one agent answers in an average year under a protocol (repairs excluded).
pub fn calls_per_year(protocol: &ProtocolConfig) -> f64 {
    match protocol {
        ProtocolConfig::None => 1.0,
        ProtocolConfig::Broadcast { rounds, .. } => 1.0 + *rounds as f64,
        ProtocolConfig::Quota(q) => {
            let negotiation = q.talk_rounds as f64 + 2.0;
            1.0 + negotiation / q.every_years.max(1) as f64
        }
        ProtocolConfig::Ledger { reporting, .. } => match reporting {
            Reporting::Truthful => 2.0,
            Reporting::SelfReported => 3.0,
        },
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
            let switches = protocol_switches(&first.protocol);
            let per_year = calls_per_year(&first.protocol);
            for (i, agent) in first.agents.iter().enumerate() {
                if agent.kind != AgentKind::Llm {
                    continue;
                }
                let spec = llm::AgentSpec {
                    run_id: &first.label.run_id,
                    agent_index: i,
                    provider: agent.provider.as_deref().unwrap_or_default(),
                    persona: agent.persona.as_deref().unwrap_or("greedy"),
                    protocol: first.protocol.kind(),
                    switches: &switches,
                };
                // The factory counts whole calls per year; scale the fractional part of
                // negotiations held every few years here.
                let one = factory.estimate(&spec, runs.len() as u64, exp.file.years, 1)?;
                total = total
                    + Estimate {
                        calls: (one.calls as f64 * per_year).round() as u64,
                        tokens_in: (one.tokens_in as f64 * per_year).round() as u64,
                        tokens_out: (one.tokens_out as f64 * per_year).round() as u64,
                        cost_usd: one.cost_usd * per_year,
                    };
            }
        }
        cells.push(CellEstimate {
            cell: cell.cell.clone(),
            runs: runs.len() as u64,
            estimate: total,
        });
    }
    Ok(cells)
}

/// The estimate as a Markdown table with a total row.
pub fn to_markdown(cells: &[CellEstimate]) -> String {
    let mut out = String::from("| cell | runs | LLM calls | tokens in | tokens out | cost (USD) |\n|---|---:|---:|---:|---:|---:|\n");
    let mut total = Estimate::default();
    let mut runs = 0;
    for c in cells {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.2} |\n",
            c.cell,
            c.runs,
            c.estimate.calls,
            c.estimate.tokens_in,
            c.estimate.tokens_out,
            c.estimate.cost_usd
        ));
        total = total + c.estimate;
        runs += c.runs;
    }
    out.push_str(&format!(
        "| **total** | {} | {} | {} | {} | {:.2} |\n",
        runs, total.calls, total.tokens_in, total.tokens_out, total.cost_usd
    ));
    out
}
