//! `fishbanks transcript DIR RUN_ID`: what every model of a run was asked and answered,
//! readable. The prompts come from the run's cache file (each entry keeps the request it
//! answers), the verdicts (invalid, repaired, fallback) from its event log.

use std::fmt::Write as _;
use std::path::Path;

use super::cache::{read_entries, run_file};
use super::LlmError;
use crate::record::{AgentEvent, Event, RunFiles, RunRow};

/// The transcript of run `run_id` in the results directory `results` (cache in
/// `cache_dir`), optionally of one agent (the `agent` column of `agents.csv`; its
/// prompts call it team `agent + 1`).
pub fn transcript(
    results: &Path,
    cache_dir: &Path,
    run_id: &str,
    agent: Option<usize>,
) -> Result<String, LlmError> {
    let run = find_run(results, run_id)?;
    if run.llm_calls == 0 {
        return Err(LlmError::NoTranscript(format!(
            "run `{run_id}` made no model calls (its agents are scripted or human): there is no transcript. `fishbanks story {} {run_id}` tells the game year by year.",
            results.display()
        )));
    }
    let teams = crate::record::Manifest::read(results)
        .map(|m| m.agents)
        .unwrap_or(0);
    if let Some(a) = agent.filter(|a| teams > 0 && *a >= teams) {
        return Err(LlmError::NoTranscript(format!(
            "agent {a} is not in run `{run_id}`: its agents are 0–{} (teams 1–{teams} in their prompts)",
            teams - 1
        )));
    }
    let cache = run_file(cache_dir, run_id);
    let entries = read_entries(&cache).map_err(|e| LlmError::Cache {
        path: cache.display().to_string(),
        detail: format!(
            "{e} (a transcript needs the run's cache: runs recorded with --cache-mode record, the default)"
        ),
    })?;
    let events = read_events(results, run_id);
    let mut out = format!("# Transcript of run {run_id}\n");
    if let Some(a) = agent {
        let _ = writeln!(out, "Agent {a} (team {} in its prompts) only.", a + 1);
    }
    let mut shown = 0;
    for entry in &entries {
        let ctx = &entry.context;
        if agent.is_some_and(|a| a != ctx.agent) {
            continue;
        }
        shown += 1;
        let round = if ctx.round > 0 {
            format!(", round {}", ctx.round)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n## Year {}, agent {} (team {}): {}{round}, attempt {}",
            ctx.year,
            ctx.agent,
            ctx.agent + 1,
            ctx.kind.as_str(),
            ctx.repair + 1
        );
        for message in &entry.request.messages {
            let _ = writeln!(
                out,
                "\n### {}\n\n{}",
                message.role,
                message.content.trim_end()
            );
        }
        let r = &entry.response;
        let _ = writeln!(
            out,
            "\n### answer ({} tokens in{}, {} out, {} ms{}{})\n\n{}",
            r.usage.tokens_in,
            r.usage
                .tokens_cached
                .map_or(String::new(), |c| format!(" of which {c} cached")),
            r.usage.tokens_out,
            r.latency_ms,
            if r.retries.is_empty() {
                String::new()
            } else {
                format!(", {} transport retries", r.retries.len())
            },
            if r.cache_hit { ", from the cache" } else { "" },
            r.text.trim_end()
        );
        let verdict = events.iter().find_map(|(year, e)| match e {
            AgentEvent::LlmInvalid {
                agent,
                kind,
                round,
                repair,
                error,
                ..
            } if *year == ctx.year
                && *agent == ctx.agent
                && kind == ctx.kind.as_str()
                && *round == ctx.round
                && *repair == ctx.repair =>
            {
                Some(format!("→ invalid: {error}"))
            }
            _ => None,
        });
        let _ = writeln!(out, "\n{}", verdict.unwrap_or_else(|| "→ valid".into()));
        for (year, e) in &events {
            if let AgentEvent::LlmFallback {
                agent,
                kind,
                round,
                fallback,
                reason,
                ..
            } = e
            {
                let last_try = ctx.repair + 1 == attempts_of(&entries, ctx);
                if *year == ctx.year
                    && *agent == ctx.agent
                    && kind == ctx.kind.as_str()
                    && *round == ctx.round
                    && last_try
                {
                    let _ = writeln!(out, "→ fallback `{fallback}` applied ({reason})");
                }
            }
        }
    }
    if shown == 0 {
        let _ = writeln!(out, "\n(no calls recorded)");
    }
    Ok(out)
}

/// The run's row of `runs.csv`, or an error saying the run is not there.
fn find_run(results: &Path, run_id: &str) -> Result<RunRow, LlmError> {
    let path = results.join(RunFiles::RUNS);
    let unreadable = |detail: String| {
        LlmError::NoTranscript(format!(
            "{} cannot be read ({detail}): is {} a results directory?",
            path.display(),
            results.display()
        ))
    };
    let mut reader = csv::Reader::from_path(&path).map_err(|e| unreadable(e.to_string()))?;
    let mut count = 0;
    for row in reader.deserialize::<RunRow>() {
        let row = row.map_err(|e| unreadable(e.to_string()))?;
        if row.run_id == run_id {
            return Ok(row);
        }
        count += 1;
    }
    Err(LlmError::NoTranscript(format!(
        "run `{run_id}` is not in {} ({count} runs there)",
        path.display()
    )))
}

/// Calls recorded for the same request (first ask and repairs).
fn attempts_of(entries: &[super::cache::Entry], ctx: &super::model::CallContext) -> u32 {
    entries
        .iter()
        .filter(|e| {
            let c = &e.context;
            c.agent == ctx.agent && c.year == ctx.year && c.kind == ctx.kind && c.round == ctx.round
        })
        .count() as u32
}

/// The agent events of a run's log (empty when there is no log).
fn read_events(results: &Path, run_id: &str) -> Vec<(u32, AgentEvent)> {
    let path = results
        .join(RunFiles::RUNS_DIR)
        .join(run_id)
        .join("events.jsonl");
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<Event>(l).ok())
        .filter_map(|e| match e {
            Event::Agent { year, event, .. } => Some((year, event)),
            _ => None,
        })
        .collect()
}
