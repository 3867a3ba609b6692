//! `fishbanks doctor EXPERIMENT.toml`: before a sweep, what each `openai` provider can do
//! (reachable, serves the model, which structured-output modes work and validate, latency
//! and tokens per second of a typical prompt, one request at a time or several) and what
//! to set from that (`timeout_s`, `max_concurrency`, `structured_output`), with the sweep's
//! estimated wall time and cost.

use super::estimate::CellEstimate;
use super::plan::RunSpec;
use super::resolve::Seat;
use super::seats::AgentBuilder;
use super::{Experiment, RunnerError};
use crate::llm::preflight::{mode_name, ProviderCheck};
use crate::llm::{self, Backend, StructuredOutput};
use std::fmt::Write as _;

/// The first seat of the plan that `pick` accepts: its run, its team index and what
/// `pick` made of it (the seat a check of its provider or agent is made for).
fn first_seat<'a, T>(
    exp: &'a Experiment,
    pick: impl Fn(&'a Seat) -> Option<T>,
) -> Option<(&'a RunSpec, usize, T)> {
    exp.plan.runs.iter().find_map(|r| {
        r.seats
            .iter()
            .enumerate()
            .find_map(|(i, s)| pick(s).map(|t| (r, i, t)))
    })
}

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
        let Some((run, index, persona)) = first_seat(exp, |s| match s {
            Seat::Llm { provider, persona } if provider == name => Some(persona),
            _ => None,
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
    for (name, agent, live) in factory.remote_agents() {
        let _ = writeln!(
            out,
            "\n## {name}: a remote agent at {} (`{}`)\n",
            agent.url,
            agent.transport.as_str()
        );
        let Some(model) = live else {
            let _ = writeln!(out, "- not contacted (replay)");
            continue;
        };
        if agent.transport == llm::remote::RemoteTransport::A2a {
            match model.card().await {
                Ok(Some(card)) => {
                    let _ = writeln!(
                        out,
                        "- agent card: {} (version {})",
                        card.name, card.version
                    );
                    let _ = writeln!(out, "- offers: {}", card.interfaces.join("; "));
                    let _ = writeln!(
                        out,
                        "- authentication: {}",
                        if card.auth.is_empty() {
                            "none declared".to_string()
                        } else {
                            card.auth.join("; ")
                        }
                    );
                    let _ = writeln!(out, "- skills: {}", card.skills.join("; "));
                    let _ = writeln!(out, "- input modes: {}", card.input_modes.join(", "));
                    match &card.chosen {
                        Ok(endpoint) => {
                            let _ = writeln!(
                                out,
                                "- the harness will speak A2A {} to {}",
                                match endpoint.version {
                                    llm::remote::a2a::Version::V1 => "1.0 (`SendMessage`)",
                                    llm::remote::a2a::Version::V03 => "0.3 (`message/send`)",
                                },
                                endpoint.url
                            );
                        }
                        Err(why) => {
                            let _ = writeln!(out, "- **refused**: {why}");
                            all_ok = false;
                            continue;
                        }
                    }
                }
                Ok(None) => {
                    let _ = writeln!(
                        out,
                        "- **no agent card** at {}: an A2A agent publishes one; a plain JSON agent's seat takes `transport = \"json\"`",
                        llm::remote::a2a::card_url(&agent.url),
                    );
                    all_ok = false;
                    continue;
                }
                Err(e) => {
                    let _ = writeln!(out, "- **unreachable**: {e}");
                    all_ok = false;
                    continue;
                }
            }
        }
        let Some((run, index, ())) = first_seat(exp, |s| match s {
            Seat::Remote(a) if *a == agent => Some(()),
            _ => None,
        }) else {
            continue;
        };
        let section = builder.protocol_section(run)?;
        let spec = llm::NewAgent {
            run_id: &run.label.run_id,
            replicate_seed: run.label.seed,
            agent_index: index,
            provider: &name,
            persona: "",
            protocol_section: &section,
        };
        let (took, verdict) = factory.time_remote(&spec, &model).await;
        match verdict {
            Ok(()) => {
                let _ = writeln!(
                    out,
                    "- one decision answered validly in {:.0} ms",
                    took.as_secs_f64() * 1000.0
                );
            }
            Err(e) => {
                all_ok = false;
                let _ = writeln!(
                    out,
                    "- one decision after {:.0} ms: **{e}**",
                    took.as_secs_f64() * 1000.0
                );
            }
        }
    }
    for (name, token_env) in factory.mcp_clients() {
        let _ = writeln!(
            out,
            "\n## {name}: an MCP client\n\n- nothing to check: `fishbanks run` serves it at `http://{}/mcp` ([mcp] bind) and waits for it; its token {}",
            exp.config.mcp.bind,
            match token_env {
                Some(var) if std::env::var(&var).is_ok_and(|t| !t.trim().is_empty()) => {
                    format!("is read from ${var} (set)")
                }
                Some(var) => format!("would be made at the start (${var} is not set)"),
                None => "is made and printed at the start".to_string(),
            }
        );
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
            let _ = writeln!(
                out,
                "\nIs the server running, and is `base_url` its OpenAI-compatible root (usually ending in `/v1`)? Start one, e.g. `llama-server -m MODEL.gguf --port 8080` (base_url `http://127.0.0.1:8080/v1`), `ollama serve` (`http://127.0.0.1:11434/v1`) or `vllm serve MODEL` (`http://127.0.0.1:8000/v1`); `curl {base_url}/models` should list the model."
            );
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
    let concurrency = match (check.slots, serialized) {
        (Some(slots), _) => slots.max(1),
        (None, Some(false)) => 4,
        _ => 1,
    };
    let speedup = match check.parallel {
        Some((one, two)) if serialized == Some(false) => {
            (2.0 * one.as_secs_f64() / two.as_secs_f64().max(1e-9)).clamp(1.0, 2.0)
        }
        _ => 1.0,
    };
    // A sweep's calls are neither the doctor's first call (nothing cached) nor a repeat
    // (everything cached): agents share a prompt prefix, which the dry-run measures.
    // Interpolate between the two by that share.
    let uncached = check
        .modes
        .iter()
        .find_map(|(_, r)| r.as_ref().ok())
        .map_or(best.latency, |s| s.latency)
        .as_secs_f64();
    let cached = check
        .repeated
        .unwrap_or(best.latency)
        .as_secs_f64()
        .min(uncached);
    let (tokens_in, tokens_cached) = estimate.iter().fold((0, 0), |(i, c), e| {
        (i + e.estimate.tokens_in, c + e.estimate.tokens_cached)
    });
    let share = if tokens_in == 0 {
        0.0
    } else {
        tokens_cached as f64 / tokens_in as f64
    };
    let latency = cached + (1.0 - share) * (uncached - cached);
    let timeout = ((latency.max(uncached / 2.0) * 4.0 / 5.0).ceil() * 5.0).max(10.0);
    let wall = calls as f64 * latency / speedup;
    let cost: f64 = estimate.iter().map(|c| c.estimate.cost_usd).sum();
    let _ = writeln!(
        out,
        "\nA call took {uncached:.1} s with nothing cached (the doctor's first) and {cached:.1} s repeated (the server's prompt cache serving it); the sweep's prompts share {:.0}% of their tokens with another prompt (dry-run estimate), so a sweep call should take about **{latency:.1} s**.",
        share * 100.0
    );
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
        "- `timeout_s = {timeout:.0}` (4 × {:.1} s: a sweep call's time, or half an uncached call's if longer)",
        latency.max(uncached / 2.0)
    );
    let _ = writeln!(
        out,
        "- `max_concurrency = {concurrency}` ({})",
        match (check.slots, serialized, check.parallel) {
            (Some(1), _, timed) => format!(
                "the server reports 1 slot: it answers one request at a time, more would only queue and time out{}",
                timed.map_or(String::new(), |(one, two)| format!(
                    " (two calls with prompts of their own took {:.1} s at once against {:.1} s for one)",
                    two.as_secs_f64(),
                    one.as_secs_f64()
                ))
            ),
            (Some(slots), _, _) => format!(
                "the server reports {slots} slots: it answers {slots} requests at once"
            ),
            (None, Some(true), Some((one, two))) => format!(
                "two calls with prompts of their own took {:.1} s at once against {:.1} s for one: the server answers one at a time, more would only queue and time out",
                two.as_secs_f64(),
                one.as_secs_f64()
            ),
            (None, Some(false), Some((one, two))) => format!(
                "two calls with prompts of their own took {:.1} s at once against {:.1} s for one: the server works in parallel; raise it while latency holds",
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
