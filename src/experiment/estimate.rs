//! `fishbanks run --dry-run`: what a sweep will cost before it starts.
//!
//! Each cell is measured by playing its first replicates through the real game loop with
//! the in-process mock model in the seat of every model (a provider of kind `mock` plays
//! as configured; an OpenAI-compatible one is stood in for by the mock that
//! `fishbanks mock-server` serves by default): the calls, repairs and prompt sizes are
//! then those of the cell's own protocol, board and memory, not of a sample observation
//! (a ledger's history and a broadcast's real messages weigh very differently). Nothing
//! is sent to a server and nothing is written. The share a prompt cache can serve comes
//! from rendering two agents' prompts ([`estimate`]).

use super::error::RunnerError;
use super::resolve::Seat;
use super::seats::AgentBuilder;
use super::{Experiment, RunOptions};
use crate::llm::{self, Backend, CacheMode, Estimate};
use std::sync::Arc;
use std::time::Instant;

/// Replicates of each cell played to measure it (fewer when the cell has fewer).
pub const MEASURED_REPLICATES: usize = 3;

/// The in-process stand-in for an OpenAI-compatible model: what `fishbanks mock-server`
/// answers by default.
fn stand_in() -> Backend {
    Backend::Mock {
        policy: llm::mock::Policy::Greedy,
        noise: 0.0,
        latency_ms: 0,
    }
}

/// What measuring found beyond the per-cell figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub cells: Vec<CellEstimate>,
    /// Harness time per run of the measured replicates (every model in process), for a
    /// wall-time estimate when no model is remote.
    pub seconds_per_run: f64,
    /// Whether every model of the experiment is the in-process mock: then the wall time
    /// is the harness's own, and can be estimated.
    pub all_in_process: bool,
}

/// Measures every cell by playing its first [`MEASURED_REPLICATES`] replicates with
/// in-process models (see the module), scaled to the cell's runs. `rendered` (from
/// [`estimate`]) gives each cell's prompt-cache share. A cell whose seats cannot be
/// stood in for (people) keeps its rendered estimate.
pub async fn measure(
    exp: &Experiment,
    opts: &RunOptions,
    rendered: Vec<CellEstimate>,
) -> Result<Measured, RunnerError> {
    let mut local = exp.clone();
    let mut all_in_process = true;
    for provider in local.config.providers.values_mut() {
        if !matches!(provider.backend, Backend::Mock { .. }) {
            provider.backend = stand_in();
            all_in_process = false;
        }
    }
    // Calls are recorded as the sweep would record them (the time it takes is part of a
    // run's), into a temporary directory removed at the end; nothing is read from a cache.
    let cache_mode = match opts.cache_mode {
        CacheMode::Record => CacheMode::Record,
        _ => CacheMode::Live,
    };
    let scratch = std::env::temp_dir().join(format!("fishbanks-dry-run-{}", std::process::id()));
    let measuring = RunOptions {
        cache_mode,
        cache_dir: Some(scratch.clone()),
        ..opts.clone()
    };
    let measured = play_first_replicates(&local, &measuring, rendered).await;
    // A scratch directory that cannot be removed is left in the system's temp dir.
    let _ = std::fs::remove_dir_all(&scratch);
    let (cells, seconds_per_run) = measured?;
    Ok(Measured {
        cells,
        seconds_per_run,
        all_in_process,
    })
}

/// [`measure`]'s games: each cell's first replicates, scaled to its runs, and the harness
/// time per run.
async fn play_first_replicates(
    local: &Experiment,
    opts: &RunOptions,
    rendered: Vec<CellEstimate>,
) -> Result<(Vec<CellEstimate>, f64), RunnerError> {
    let dir = std::env::temp_dir();
    let builder = AgentBuilder::for_experiment(local, &dir, opts)?;
    let params = Arc::new(local.config.game.clone());
    let (mut played, mut elapsed) = (0usize, 0.0f64);
    let mut cells = Vec::new();
    for estimate in rendered {
        let specs: Vec<_> = local
            .plan
            .runs
            .iter()
            .filter(|r| {
                r.label.cell == estimate.cell && r.uses_llm() && !r.has_people() && !r.has_mcp()
            })
            .take(MEASURED_REPLICATES)
            .cloned()
            .collect();
        if specs.is_empty() {
            cells.push(estimate);
            continue;
        }
        let mut sum = Estimate::default();
        let n = specs.len() as f64;
        for spec in specs {
            let started = Instant::now();
            let record = super::runner::play_run(spec, params.clone(), builder.clone()).await;
            elapsed += started.elapsed().as_secs_f64();
            played += 1;
            let st = record.stats;
            sum = sum
                + Estimate {
                    calls: st.llm_calls,
                    tokens_in: st.tokens_in,
                    tokens_cached: 0,
                    tokens_out: st.tokens_out,
                    cost_usd: st.cost_micro_usd as f64 / 1e6,
                };
        }
        let scale = estimate.runs as f64 / n;
        let tokens_in = (sum.tokens_in as f64 * scale).round() as u64;
        cells.push(CellEstimate {
            estimate: Estimate {
                calls: (sum.calls as f64 * scale).round() as u64,
                tokens_in,
                tokens_cached: (tokens_in as f64 * estimate.cached_share()).round() as u64,
                tokens_out: (sum.tokens_out as f64 * scale).round() as u64,
                cost_usd: sum.cost_usd * scale,
            },
            ..estimate
        });
    }
    let per_run = if played == 0 {
        0.0
    } else {
        elapsed / played as f64
    };
    Ok((cells, per_run))
}

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

/// The wall time the sweep should take, where it can be said: with every model in
/// process it is the harness's own time; with a server it is the server's, which
/// `fishbanks doctor` measures.
pub fn wall_time(measured: &Measured, runs: usize, jobs: usize) -> String {
    if !measured.all_in_process {
        return "Wall time: set by the model server; `fishbanks doctor EXPERIMENT.toml` measures its latency and estimates the sweep's model time.".into();
    }
    let seconds = measured.seconds_per_run * runs as f64 / jobs.clamp(1, runs.max(1)) as f64;
    format!(
        "Wall time: about {} ({:.3} s of harness time per run measured, {} at a time; the report adds to it).",
        human_duration(seconds),
        measured.seconds_per_run,
        jobs.max(1)
    )
}

/// `42 s`, `3 min 5 s`, `2 h 10 min`.
fn human_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if seconds < 10.0 {
        format!("{seconds:.1} s")
    } else if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
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
