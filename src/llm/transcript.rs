//! `fishbanks transcript DIR RUN_ID`: what every model of a run was asked and answered,
//! readable. The prompts come from the run's cache file (each entry keeps the request it
//! answers), the verdicts (invalid, repaired, fallback) from its event log. Text a run
//! repeats in every call (the system prompt, the rules, the protocol) is shown once and
//! then referred to, so what changes from call to call stands out; `--answers` gives one
//! line per question.

use std::fmt::Write as _;
use std::path::Path;

use super::cache::{read_entries, run_file, Entry};
use super::model::CallContext;
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
    view: View,
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
    let calls: Vec<&Entry> = entries
        .iter()
        .filter(|e| agent.is_none_or(|a| a == e.context.agent))
        .collect();
    let mut out = format!("# Transcript of run {run_id}\n");
    if let Some(a) = agent {
        let _ = writeln!(out, "Agent {a} (team {} in its prompts) only.", a + 1);
    }
    if calls.is_empty() {
        let _ = writeln!(out, "\n(no calls recorded)");
        return Ok(out);
    }
    match view {
        View::Answers => answers(&mut out, &entries, &calls, &events),
        View::Full => full(&mut out, &entries, &calls, &events),
    }
    Ok(out)
}

/// How much of each call a transcript shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// Every prompt and answer; text already shown (the system prompt, the rules, the
    /// start of a prompt every call repeats) is shown once and then referred to.
    #[default]
    Full,
    /// One line per question: year, agent, question, the answer, the verdict.
    Answers,
}

/// A call's verdict: valid, or invalid with the validator's reason.
fn verdict(ctx: &CallContext, events: &[(u32, AgentEvent)]) -> Option<String> {
    events.iter().find_map(|(year, e)| match e {
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
            Some(error.clone())
        }
        _ => None,
    })
}

/// The fallback applied to the question of `ctx`, if any.
fn fallback(ctx: &CallContext, events: &[(u32, AgentEvent)]) -> Option<(String, String)> {
    events.iter().find_map(|(year, e)| match e {
        AgentEvent::LlmFallback {
            agent,
            kind,
            round,
            fallback,
            reason,
            ..
        } if *year == ctx.year
            && *agent == ctx.agent
            && kind == ctx.kind.as_str()
            && *round == ctx.round =>
        {
            Some((fallback.clone(), reason.clone()))
        }
        _ => None,
    })
}

/// Lines a prompt must share with one shown before for the transcript to refer to it
/// instead of repeating them.
const SHARED_LINES: usize = 4;

fn full(out: &mut String, entries: &[Entry], calls: &[&Entry], events: &[(u32, AgentEvent)]) {
    // Every message shown so far: (role, text, the call it was shown in).
    let mut shown: Vec<(&str, &str, usize)> = Vec::new();
    for (n, entry) in calls.iter().enumerate() {
        let n = n + 1;
        let ctx = &entry.context;
        let round = if ctx.round > 0 {
            format!(", round {}", ctx.round)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n## Call {n}: year {}, agent {} (team {}): {}{round}, attempt {}",
            ctx.year,
            ctx.agent,
            ctx.agent + 1,
            ctx.kind.as_str(),
            ctx.repair + 1
        );
        for message in &entry.request.messages {
            let text = message.content.trim_end();
            let role = message.role.as_str();
            if let Some((_, _, first)) = shown.iter().find(|(r, t, _)| *r == role && *t == text) {
                let _ = writeln!(out, "\n### {role}: as in call {first}");
                continue;
            }
            // The longest start this text shares, line by line, with one shown before.
            let lines: Vec<&str> = text.lines().collect();
            let best = shown
                .iter()
                .filter(|(r, _, _)| *r == role)
                .map(|(_, t, first)| {
                    let same = t.lines().zip(&lines).take_while(|(a, b)| a == *b).count();
                    (same, *first)
                })
                .max_by_key(|(same, first)| (*same, std::cmp::Reverse(*first)));
            match best {
                Some((same, first)) if same >= SHARED_LINES => {
                    let _ = writeln!(
                        out,
                        "\n### {role}: its first {same} lines as in call {first}, then\n\n{}",
                        lines[same..].join("\n")
                    );
                }
                _ => {
                    let _ = writeln!(out, "\n### {role}\n\n{text}");
                }
            }
            shown.push((role, text, n));
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
        let _ = writeln!(
            out,
            "\n{}",
            verdict(ctx, events).map_or_else(|| "→ valid".into(), |e| format!("→ invalid: {e}"))
        );
        if ctx.repair + 1 == attempts_of(entries, ctx) {
            if let Some((fallback, reason)) = fallback(ctx, events) {
                let _ = writeln!(out, "→ fallback `{fallback}` applied ({reason})");
            }
        }
    }
}

/// Longest answer text on an `--answers` line.
const ANSWER_CHARS: usize = 160;

fn answers(out: &mut String, entries: &[Entry], calls: &[&Entry], events: &[(u32, AgentEvent)]) {
    let _ = writeln!(out, "\nyear | agent | question | answer | verdict");
    for entry in calls {
        let ctx = &entry.context;
        let attempts = attempts_of(entries, ctx);
        // One line per question: its last attempt.
        if ctx.repair + 1 != attempts {
            continue;
        }
        let kind = if ctx.round > 0 {
            format!("{} (round {})", ctx.kind.as_str(), ctx.round)
        } else {
            ctx.kind.as_str().to_string()
        };
        let mut answer: String = entry
            .response
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if answer.chars().count() > ANSWER_CHARS {
            answer = answer.chars().take(ANSWER_CHARS).collect::<String>() + "…";
        }
        let verdict = match (fallback(ctx, events), verdict(ctx, events)) {
            (Some((fallback, _)), _) => format!("fallback `{fallback}` after {attempts} tries"),
            (None, Some(error)) => format!("invalid: {error}"),
            (None, None) if attempts == 1 => "valid".into(),
            (None, None) if attempts == 2 => "valid after 1 re-ask".into(),
            (None, None) => format!("valid after {} re-asks", attempts - 1),
        };
        let _ = writeln!(
            out,
            "{} | {} | {kind} | {answer} | {verdict}",
            ctx.year, ctx.agent
        );
    }
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
fn attempts_of(entries: &[Entry], ctx: &CallContext) -> u32 {
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
