//! `fishbanks story DIR RUN_ID`: one game told year by year, for any run (scripted, LLM,
//! human): the sea, what each team decided, caught and banked, quotas, votes, pledges,
//! messages, fines, leaders and trades. The researcher's first question after a
//! surprising cell is "what happened in run X?"; this answers it from the recorded files
//! alone (the CSVs, and the event log when the run kept one), as text for the terminal
//! ([`text`]) and as a self-contained page with the run's figures ([`html`]).
//!
//! Teams are numbered from 1, as the agents' prompts number them; `agents.csv`'s
//! `agent` column and the event log's `team` are that number − 1.

mod describe;
mod html;

pub use html::html;

use super::AnalysisError;
use crate::record::{
    unescape_text, AgentRow, Event, Manifest, MessageRow, RunFiles, RunRow, YearRow,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How much of the run's event log there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventDetail {
    /// Every event (`--events full`, the default): votes, proposals, fines, calls.
    Full,
    /// Only the years' outcomes (`--events summary`).
    Summary,
    /// No event log (`--events none`).
    Missing,
}

/// Everything recorded about one run.
#[derive(Debug, Clone)]
pub struct Story {
    pub experiment: String,
    pub run: RunRow,
    /// Who plays each team, e.g. `scripted conditional`, `llm smol (greedy)`.
    pub seats: Vec<String>,
    pub years: Vec<YearRow>,
    /// Sorted by year, then team.
    pub agents: Vec<AgentRow>,
    pub messages: Vec<MessageRow>,
    pub events: Vec<Event>,
    pub detail: EventDetail,
}

fn csv_rows<T: serde::de::DeserializeOwned>(
    path: &Path,
    keep: impl Fn(&T) -> bool,
) -> Result<Vec<T>, AnalysisError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let csv_err = |source| AnalysisError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let mut rows = Vec::new();
    for row in reader.deserialize::<T>() {
        let row = row.map_err(csv_err)?;
        if keep(&row) {
            rows.push(row);
        }
    }
    Ok(rows)
}

/// How a person's seat is named in a story.
const PERSON: &str = "a person";

/// Questions put to people (the seats named [`PERSON`]) and how they ended, from the
/// event log; `None` without people or without a full log.
struct PeopleAnswers {
    /// Their teams, from 1.
    teams: Vec<usize>,
    questions: u64,
    /// Re-asks after an answer the rules refused.
    reasked: u64,
    /// Questions the fallback answered.
    fell_back: u64,
    /// Of those, left unanswered until the timeout.
    timed_out: u64,
}

fn people_answers(s: &Story) -> Option<PeopleAnswers> {
    use crate::record::AgentEvent;
    let teams: Vec<usize> = (0..s.seats.len())
        .filter(|t| s.seats[*t] == PERSON)
        .collect();
    if teams.is_empty() || s.detail != EventDetail::Full {
        return None;
    }
    let mut told = PeopleAnswers {
        teams: teams.iter().map(|t| t + 1).collect(),
        questions: 0,
        reasked: 0,
        fell_back: 0,
        timed_out: 0,
    };
    for e in &s.events {
        let Event::Agent { team, event, .. } = e else {
            continue;
        };
        if !teams.contains(team) {
            continue;
        }
        match event {
            AgentEvent::LlmCall { repair: 0, .. } => told.questions += 1,
            AgentEvent::LlmCall { .. } => told.reasked += 1,
            AgentEvent::LlmFallback { reason, .. } => {
                told.fell_back += 1;
                told.timed_out += u64::from(reason.starts_with("no answer in time"));
            }
            _ => {}
        }
    }
    Some(told)
}

/// A seat of the manifest as a short label.
fn seat_label(seat: &serde_json::Value) -> String {
    let field = |k: &str| seat.get(k).and_then(|v| v.as_str()).unwrap_or("");
    match field("kind") {
        "llm" => format!("llm {} ({})", field("provider"), field("persona")),
        "human" => PERSON.to_string(),
        kind => {
            let tremble = seat.get("tremble").and_then(|v| v.as_f64()).unwrap_or(0.0);
            if tremble > 0.0 {
                format!("{kind} {} (tremble {tremble})", field("strategy"))
            } else {
                format!("{kind} {}", field("strategy"))
            }
        }
    }
}

/// Read run `run_id` of the results directory `dir`.
pub fn read(dir: &Path, run_id: &str) -> Result<Story, AnalysisError> {
    if !dir.join(RunFiles::MANIFEST).exists() || !dir.join(RunFiles::RUNS).exists() {
        return Err(AnalysisError::NotResults(dir.to_path_buf()));
    }
    let manifest = Manifest::read(dir)?;
    let runs: Vec<RunRow> = csv_rows(&dir.join(RunFiles::RUNS), |_: &RunRow| true)?;
    let Some(run) = runs.iter().find(|r| r.run_id == run_id).cloned() else {
        return Err(AnalysisError::UnknownRun {
            run_id: run_id.to_string(),
            dir: dir.to_path_buf(),
            runs: runs.len(),
            example: runs.first().map(|r| r.run_id.clone()).unwrap_or_default(),
        });
    };
    let seats = manifest
        .populations
        .get(&run.population)
        .map(|seats| seats.iter().map(seat_label).collect())
        .unwrap_or_default();
    let mine = |id: &String| id == run_id;
    let mut years: Vec<YearRow> =
        csv_rows(&dir.join(RunFiles::YEARS), |r: &YearRow| mine(&r.run_id))?;
    years.sort_by_key(|y| y.year);
    let mut agents: Vec<AgentRow> =
        csv_rows(&dir.join(RunFiles::AGENTS), |r: &AgentRow| mine(&r.run_id))?;
    agents.sort_by_key(|a| (a.year, a.agent));
    let mut messages: Vec<MessageRow> =
        csv_rows(&dir.join(RunFiles::MESSAGES), |r: &MessageRow| {
            mine(&r.run_id)
        })?;
    for m in &mut messages {
        m.text = unescape_text(&m.text);
    }
    let log: PathBuf = dir
        .join(RunFiles::RUNS_DIR)
        .join(run_id)
        .join("events.jsonl");
    let (events, detail) = match std::fs::read_to_string(&log) {
        Err(_) => (Vec::new(), EventDetail::Missing),
        Ok(text) => {
            let events: Vec<Event> = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            let full = events.iter().any(|e| !e.is_summary());
            (
                events,
                if full {
                    EventDetail::Full
                } else {
                    EventDetail::Summary
                },
            )
        }
    };
    Ok(Story {
        experiment: manifest.experiment,
        run,
        seats,
        years,
        agents,
        messages,
        events,
        detail,
    })
}

/// The paragraph above the years: what was played, how it ended, who answered.
pub fn overview(s: &Story) -> Vec<String> {
    let r = &s.run;
    let mut lines = vec![format!(
        "Experiment `{}`, cell `{}` (protocol `{}`, population `{}`), seed {}.",
        s.experiment, r.cell, r.protocol, r.population, r.seed
    )];
    let seats: Vec<String> = s
        .seats
        .iter()
        .enumerate()
        .map(|(i, seat)| format!("team {}: {seat}", i + 1))
        .collect();
    if !seats.is_empty() {
        lines.push(format!("Teams ({}): {}.", seats.len(), seats.join("; ")));
    }
    let ending = match r.collapse_year {
        Some(y) => format!(
            "the sea collapsed in year {y} (it held for {} years)",
            r.survival_years
        ),
        None => "the sea did not collapse".to_string(),
    };
    lines.push(format!(
        "Status `{}`: {} of {} years played; {ending}.{}",
        r.status.as_str(),
        r.years_played,
        r.years,
        if r.error.is_empty() {
            String::new()
        } else {
            format!(" Error: {}", r.error)
        }
    ));
    let people = people_answers(s);
    if let Some(p) = &people {
        let named: Vec<String> = p.teams.iter().map(|t| format!("team {t}")).collect();
        lines.push(format!(
            "People ({}) were asked {} questions: {} answered ({} asked again after an answer the rules refused), {} left to the fallback ({} of them unanswered in time).",
            named.join(", "),
            p.questions,
            p.questions - p.fell_back.min(p.questions),
            p.reasked,
            p.fell_back,
            p.timed_out
        ));
    }
    let (people_asked, people_calls, people_fell_back) = people.as_ref().map_or((0, 0, 0), |p| {
        (p.questions, p.questions + p.reasked, p.fell_back)
    });
    let model_answers = r.llm_answers.saturating_sub(people_asked);
    lines.push(if model_answers == 0 {
        let repaired = s.agents.iter().filter(|a| a.repaired).count();
        if people.is_some() {
            format!("No model calls: the other teams are scripted strategies; {repaired} decisions were repaired by the engine.")
        } else {
            format!("No model calls: every answer came from a scripted strategy (or a person); {repaired} decisions were repaired by the engine.")
        }
    } else if people.is_some() {
        format!(
            "Model answers: {model_answers}, {} replaced by the fallback; {} calls, {} tokens in, {} out.",
            r.llm_fallbacks.saturating_sub(people_fell_back),
            r.llm_calls.saturating_sub(people_calls),
            r.tokens_in,
            r.tokens_out
        )
    } else {
        format!(
            "Model answers: {} ({:.1}% valid at the first try), {} re-asked after an invalid answer, {} replaced by the fallback; {} calls, {} tokens in, {} out.",
            r.llm_answers,
            100.0 * r.llm_valid_first_try as f64 / r.llm_answers as f64,
            r.llm_repairs,
            r.llm_fallbacks,
            r.llm_calls,
            r.tokens_in,
            r.tokens_out
        )
    });
    lines.push(match s.detail {
        EventDetail::Full => "Votes, proposals, fines and the like come from the run's event log.".to_string(),
        EventDetail::Summary | EventDetail::Missing => "The run kept no full event log (`--events summary` or `none`): proposals, votes, fines, pledges and leaders are not shown; the sea, the decisions and the messages are.".to_string(),
    });
    lines
}

/// One year as told: the sea, the lines of what happened, the teams' table.
#[derive(Debug, Clone)]
pub struct Year {
    pub year: u32,
    pub sea: String,
    pub lines: Vec<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// `text` with its first letter upper-case ("team 2 votes" → "Team 2 votes").
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Every year of the run.
pub fn years(s: &Story) -> Vec<Year> {
    s.years
        .iter()
        .map(|y| {
            let mut lines: Vec<String> = Vec::new();
            if s.run.collapse_year == Some(y.year) {
                lines.push(format!(
                    "The sea collapsed this year: after the harvest the deep sea held {} fish and the coast {}, and an area below the collapse threshold ends the fish's survival.",
                    y.post_harvest_deep, y.post_harvest_coast
                ));
            }
            lines.extend(s
                .events
                .iter()
                .filter(|e| describe::year_of(e) == Some(y.year))
                .filter_map(|e| match e {
                    Event::Agent { team, event, .. }
                        if s.seats.get(*team).map(String::as_str) == Some(PERSON) =>
                    {
                        describe::person_line(*team, event)
                    }
                    _ => describe::line(e),
                })
                .map(|l| capitalised(&l)));
            // Messages from messages.csv when the log does not carry them.
            if s.detail != EventDetail::Full {
                lines.extend(
                    s.messages
                        .iter()
                        .filter(|m| m.year == y.year)
                        .map(describe::message_row)
                        .map(|l| capitalised(&l)),
                );
            }
            let sea = format!(
                "Sea at the end of the year: deep {} fish, coast {} (caught {} and {}; regenerated {} and {}); weather {:.2}; ships deep {}, coast {}, harbor {}; a ship is worth ${}.{}",
                y.stock_deep,
                y.stock_coast,
                y.catch_deep,
                y.catch_coast,
                y.regen_deep,
                y.regen_coast,
                y.weather,
                y.fleet_deep,
                y.fleet_coast,
                y.fleet_harbor,
                y.ship_value,
                y.leader
                    .map_or(String::new(), |l| format!(" Leader: team {}.", l + 1))
            );
            let header = [
                "team", "seat", "ships", "order", "deep", "coast", "harbor", "catch", "bank",
                "quota", "notes",
            ]
            .map(String::from)
            .to_vec();
            let rows = s
                .agents
                .iter()
                .filter(|a| a.year == y.year)
                .map(|a| describe::agent_row(a, s.seats.get(a.agent)))
                .collect();
            Year {
                year: y.year,
                sea,
                lines,
                header,
                rows,
            }
        })
        .collect()
}

/// `$1,234` or `−$10,110`.
fn dollars(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}", if v < 0 { "−" } else { "" })
}

/// How the game ended: every team's final assets (bank plus ships at the last ship value),
/// ranked, ties sharing a rank.
pub fn ending(s: &Story) -> Vec<String> {
    let Some(last) = s.agents.iter().map(|a| a.year).max() else {
        return Vec::new();
    };
    let mut teams: Vec<&AgentRow> = s.agents.iter().filter(|a| a.year == last).collect();
    teams.sort_by_key(|a| (std::cmp::Reverse(a.assets), a.agent));
    let ship_value = s
        .years
        .iter()
        .find(|y| y.year == last)
        .map_or(String::new(), |y| format!(" at ${} a ship", y.ship_value));
    let mut lines = vec![format!(
        "Final assets after year {last} (bank plus ships{ship_value}), ranked:"
    )];
    let mut rank = 0;
    for (i, a) in teams.iter().enumerate() {
        if i == 0 || teams[i - 1].assets != a.assets {
            rank = i + 1;
        }
        lines.push(format!(
            "{rank}. team {} ({}): {} (bank {}, {} ships)",
            a.agent + 1,
            s.seats.get(a.agent).map_or("?", String::as_str),
            dollars(a.assets),
            dollars(a.bank),
            a.ships
        ));
    }
    lines
}

/// The story as Markdown-like text for the terminal.
pub fn text(s: &Story) -> String {
    let mut out = format!("# The story of run {}\n\n", s.run.run_id);
    for line in overview(s) {
        let _ = writeln!(out, "{line}");
    }
    for y in years(s) {
        let _ = writeln!(out, "\n## Year {}\n\n{}", y.year, y.sea);
        for line in &y.lines {
            let _ = writeln!(out, "- {line}");
        }
        let _ = writeln!(out, "\n| {} |", y.header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(y.header.len()));
        for r in &y.rows {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
    }
    let ending = ending(s);
    if let Some((head, ranks)) = ending.split_first() {
        let _ = writeln!(out, "\n## The end\n\n{head}\n");
        for line in ranks {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}
