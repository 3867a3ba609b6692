//! `fishbanks doctor EXPERIMENT.toml`: before a sweep, what each `openai` provider can do
//! (reachable, serves the model, which structured-output modes work and validate, latency
//! and tokens per second of a typical prompt, one request at a time or several) and what
//! to set from that (`timeout_s`, `max_concurrency`, `structured_output`), with the sweep's
//! estimated wall time and cost.

use super::estimate::CellEstimate;
use super::resolve::Seat;
use super::seats::AgentBuilder;
use super::{Experiment, RunnerError};
use crate::llm::preflight::{mode_name, ProviderCheck};
use crate::llm::{self, Backend, StructuredOutput};
use std::fmt::Write as _;

/// Check every `openai` provider an LLM seat of `exp` uses; returns the report (Markdown)
/// and whether every provider is usable.
pub async fn doctor(
    exp: &Experiment,
    builder: &AgentBuilder,
    estimate: &[CellEstimate],
) -> Result<(String, bool), RunnerError> {
    let Some(factory) = &builder.llm else {
        return Ok((
            "This experiment has no LLM agents: nothing to check.\n".into(),
            true,
        ));
    };
    let mut out = format!("# fishbanks doctor: {}\n", exp.config.name);
    let mut all_ok = true;
    for (name, provider) in &exp.config.providers {
        let Backend::Openai { base_url, .. } = &provider.backend else {
            let _ = writeln!(out, "\n## {name}: in-process mock (nothing to check)");
            continue;
        };
        let Some((run, index, persona)) = exp.plan.runs.iter().find_map(|r| {
            r.seats.iter().enumerate().find_map(|(i, s)| match s {
                Seat::Llm { provider, persona } if provider == name => Some((r, i, persona)),
                _ => None,
            })
        }) else {
            continue;
        };
        let section = builder.protocol_section(run)?;
        let spec = llm::NewAgent {
            run_id: &run.label.run_id,
            replicate_seed: run.label.seed,
            agent_index: index,
            provider: name,
            persona,
            protocol_section: &section,
        };
        let check = factory.doctor(&spec).await?;
        let calls: u64 = estimate.iter().map(|c| c.estimate.calls).sum();
        all_ok &= render(&mut out, name, base_url, &check, calls, estimate);
    }
    Ok((out, all_ok))
}

/// One provider's section; returns whether it is usable.
fn render(
    out: &mut String,
    name: &str,
    base_url: &str,
    check: &ProviderCheck,
    calls: u64,
    estimate: &[CellEstimate],
) -> bool {
    let _ = writeln!(out, "\n## {name}: `{}` at {base_url}\n", check.model);
    match &check.reachable {
        Err(e) => {
            let _ = writeln!(out, "- **unreachable**: {e}");
            return false;
        }
        Ok(t) => {
            let _ = writeln!(out, "- reachable: `GET /models` in {} ms", t.as_millis());
        }
    }
    if check.models.is_empty() {
        let _ = writeln!(
            out,
            "- the server lists no models (it may still serve `{}`)",
            check.model
        );
    } else if check.models.contains(&check.model) {
        let _ = writeln!(out, "- serves `{}`", check.model);
    } else {
        let _ = writeln!(
            out,
            "- **does not list `{}`**; it lists: {}",
            check.model,
            check.models.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\n| structured_output | answered | valid | latency | tokens in (cached) / out | tokens/s out |\n|---|---|---|---:|---:|---:|"
    );
    for (mode, outcome) in &check.modes {
        match outcome {
            Ok(s) => {
                let tps = s.tokens_out as f64 / s.latency.as_secs_f64().max(1e-9);
                let _ = writeln!(
                    out,
                    "| {} | yes | {} | {:.2} s | {} ({}) / {} | {:.1} |",
                    mode_name(*mode),
                    match (&s.valid, mode) {
                        (Ok(()), _) => "yes".to_string(),
                        // The schema admits exactly the valid answers: an invalid one means
                        // the server did not hold the model to it.
                        (
                            Err(e),
                            StructuredOutput::JsonSchema | StructuredOutput::JsonSchemaNested,
                        ) => format!(
                            "no, the server did not enforce the schema: {}",
                            e.replace('|', "/")
                        ),
                        (Err(e), _) => format!("no: {}", e.replace('|', "/")),
                    },
                    s.latency.as_secs_f64(),
                    s.tokens_in,
                    s.tokens_cached
                        .map_or("not reported".into(), |c| c.to_string()),
                    s.tokens_out,
                    tps
                );
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "| {} | no: {} | | | | |",
                    mode_name(*mode),
                    e.replace('|', "/").chars().take(120).collect::<String>()
                );
            }
        }
    }
    let Some((mode, best)) = check.best() else {
        let _ = writeln!(
            out,
            "\n**No structured-output mode answered**: check the server's log."
        );
        return false;
    };
    let serialized = check.serialized();
    let concurrency = if serialized == Some(false) { 4 } else { 1 };
    let speedup = match check.parallel {
        Some((one, two)) if serialized == Some(false) => {
            (2.0 * one.as_secs_f64() / two.as_secs_f64().max(1e-9)).clamp(1.0, 2.0)
        }
        _ => 1.0,
    };
    let latency = best.latency.as_secs_f64();
    let timeout = ((latency * 4.0 / 5.0).ceil() * 5.0).max(10.0);
    let wall = calls as f64 * latency / speedup;
    let cost: f64 = estimate.iter().map(|c| c.estimate.cost_usd).sum();
    let _ = writeln!(out, "\nRecommended for `[providers.{name}]`:\n");
    let _ = writeln!(
        out,
        "- `structured_output = \"{}\"`{}",
        mode_name(mode),
        if best.valid.is_ok() {
            ""
        } else {
            " (its answer did not validate either: expect repairs)"
        }
    );
    let _ = writeln!(
        out,
        "- `timeout_s = {timeout:.0}` (4 × the {latency:.1} s a typical call took)"
    );
    let _ = writeln!(
        out,
        "- `max_concurrency = {concurrency}` ({})",
        match (serialized, check.parallel) {
            (Some(true), Some((one, two))) => format!(
                "two calls at once took {:.1} s against {:.1} s for one: the server answers one at a time, more would only queue and time out",
                two.as_secs_f64(),
                one.as_secs_f64()
            ),
            (Some(false), Some((one, two))) => format!(
                "two calls at once took {:.1} s against {:.1} s for one: the server works in parallel; raise it while latency holds",
                two.as_secs_f64(),
                one.as_secs_f64()
            ),
            _ => "parallelism not measured".into(),
        }
    );
    let _ = writeln!(
        out,
        "\nThe sweep: about {calls} calls (the dry-run estimate, repairs excluded) × {latency:.1} s / {speedup:.1} in parallel ≈ **{}** of model time; estimated cost ${cost:.2}.",
        human(wall)
    );
    true
}

fn human(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{seconds:.0} s")
    } else if seconds < 7200.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}
