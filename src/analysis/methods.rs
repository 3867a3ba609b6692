//! The report's Methods, written from the manifest alone: what was played (design,
//! protocols with every switch as run, populations, the game where it differs from
//! Meadows' defaults, the collapse rule in words, the models and their settings), how it
//! was analysed (one sentence on the primary family, the tests) and the command that
//! reproduces every number. A reader of the report alone can rerun the experiment.

use super::compare::{Comparison, ContrastKind, RESAMPLES};
use super::load::{ExperimentInfo, Loaded};
use super::render::measure_words;
use crate::engine::{meadows_ships, CollapseRule, GameParams};
use serde_json::Value;
use std::collections::BTreeMap;

/// One block of the Methods: a paragraph, or a lead sentence with a list under it.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(String),
    List { lead: String, items: Vec<String> },
}

/// The Methods of a report, in order.
pub fn methods(cmp: &Comparison, loaded: &Loaded, command: &str) -> Vec<Block> {
    let mut out = Vec::new();
    for e in &loaded.experiments {
        out.push(Block::Paragraph(design(e)));
        out.push(Block::List {
            lead: "Protocols, with every switch that applies as run:".into(),
            items: e
                .protocols
                .iter()
                .filter(|(name, _)| used(e, "protocol", name))
                .map(|(name, spec)| protocol(name, spec, e.descriptions.idle_switches.get(name)))
                .collect(),
        });
        out.push(Block::List {
            lead: "Populations, in team order:".into(),
            items: e
                .populations
                .iter()
                .filter(|(name, _)| used(e, "population", name))
                .map(|(name, seats)| population(name, seats))
                .collect(),
        });
        out.push(Block::Paragraph(game(e)));
        if let Some(models) = models(e) {
            out.push(models);
        }
        if let Some(people) = people(e) {
            out.push(Block::Paragraph(people));
        }
    }
    out.push(Block::Paragraph(family_sentence(cmp, loaded)));
    if !cmp.across.is_empty() {
        out.push(Block::Paragraph(across_sentence(cmp)));
    }
    out.push(Block::Paragraph(format!(
        "Tests: runs are paired by seed; each contrast is judged by one paired test, Wilcoxon's signed-rank test (scipy's defaults: zero differences dropped, exact for up to 50 untied differences) for RMST (on survival years: all censoring is at the horizon), continuous outcomes and interactions (on each seed's difference of differences), and McNemar's exact test for collapse. Unadjusted p-values and the unpaired tests (the log-rank test, Fisher's exact test, the Mann–Whitney U test with normal approximation, tie and continuity corrections, and Cliff's delta) are in the sensitivity table and in `comparison.csv` only. Intervals: Wilson for survival rates, percentile bootstrap ({RESAMPLES} resamples, drawn from a seed of the experiment, the population and the measure, so identical data get identical intervals; over seeds when paired) for means and effects; Kaplan–Meier with Greenwood bands on the log-log scale, median as lifelines (first time S ≤ 0.5), RMST to the horizon. Only runs with status `ok` enter statistics; a cell with fewer than two valid replicates, or whose replicates are all one game, is estimated but not tested."
    )));
    for e in &loaded.experiments {
        if let Some(personas) = personas(e) {
            out.push(personas);
        }
    }
    out.push(Block::Paragraph(format!(
        "Every number comes from `comparison.csv`; to reproduce it, from the directory that holds the results: `{command}`. The experiment as resolved is in each results directory's `manifest.json` (`config`); the same file played again with `fishbanks run` gives the same bytes."
    )));
    out
}

/// Whether the matrix of `e` plays `name` (as `protocol` or `population`).
fn used(e: &ExperimentInfo, axis: &str, name: &str) -> bool {
    match e.config["matrix"][axis].as_array() {
        Some(names) => names.iter().any(|n| n.as_str() == Some(name)),
        None => true,
    }
}

fn design(e: &ExperimentInfo) -> String {
    let matrix = |axis: &str| -> Vec<String> {
        e.config["matrix"][axis]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| format!("`{s}`"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (protocols, populations) = (matrix("protocol"), matrix("population"));
    let last = e.first_seed + u64::from(e.seeds.max(1)) - 1;
    let mut text = format!(
        "Experiment `{}`{}: {} protocol{} ({}) × {} population{} ({}), {} replicates per cell (seeds {}–{}, the same seeds in every cell, so that every cell meets the same random draws), {} years, {} teams per game. Config SHA-256 {}, fishbanks {}.",
        e.name,
        if e.description.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.description.trim_end_matches('.'))
        },
        protocols.len(),
        plural(protocols.len()),
        protocols.join(", "),
        populations.len(),
        plural(populations.len()),
        populations.join(", "),
        e.seeds,
        e.first_seed,
        last,
        e.years,
        e.teams,
        &e.config_sha256[..12.min(e.config_sha256.len())],
        e.harness_version,
    );
    let generations = &e.config["generations"];
    if generations["count"].as_u64().unwrap_or(1) > 1 {
        text.push_str(&format!(
            " Generations: {} games in sequence per replicate{}, each on a fresh sea; every agent leaves a lesson of at most {} characters, inherited as `{}`.",
            generations["count"],
            generations["protocols"]
                .as_array()
                .filter(|a| !a.is_empty())
                .map(|a| format!(
                    " (under {})",
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .unwrap_or_default(),
            generations["lesson_chars"],
            generations["inherit"].as_str().unwrap_or("own"),
        ));
    }
    if let Some(n) = e.config["probe_every"].as_u64().filter(|n| *n > 0) {
        text.push_str(&format!(
            " Every {n} years each agent also answers the consensus probe (never published)."
        ));
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A switch's value in words: strings bare, lists joined.
fn value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value).collect::<Vec<_>>().join(" "),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

fn protocol(name: &str, spec: &Value, idle: Option<&Vec<String>>) -> String {
    let kind = spec["kind"].as_str().unwrap_or("?");
    let is_idle = |k: &str| idle.is_some_and(|idle| idle.iter().any(|i| i == k));
    let switches: Vec<String> = spec
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, v)| k.as_str() != "kind" && !v.is_null() && !is_idle(k))
                .map(|(k, v)| format!("{k} = {}", value(v)))
                .collect()
        })
        .unwrap_or_default();
    let head = if name == kind {
        format!("`{name}`")
    } else {
        format!("`{name}` (kind `{kind}`)")
    };
    if switches.is_empty() {
        head
    } else {
        format!("{head}: {}", switches.join(", "))
    }
}

/// A seat in words: its kind, then its settings.
fn seat(v: &Value) -> String {
    let kind = v["kind"].as_str().unwrap_or("?");
    let mut settings: Vec<String> = Vec::new();
    if let Some(m) = v.as_object() {
        for (k, x) in m {
            if k == "kind" || x.is_null() {
                continue;
            }
            settings.push(format!("{k} {}", value(x)));
        }
    }
    if settings.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({})", settings.join(", "))
    }
}

/// `free-rider`: teams 1–5 scripted (strategy conditional, tremble 0.05); team 6 ….
fn population(name: &str, seats: &[Value]) -> String {
    let mut runs: Vec<(usize, usize, String)> = Vec::new();
    for (i, s) in seats.iter().enumerate() {
        let text = seat(s);
        match runs.last_mut() {
            Some((_, last, t)) if *t == text => *last = i,
            _ => runs.push((i, i, text)),
        }
    }
    let parts: Vec<String> = runs
        .into_iter()
        .map(|(first, last, text)| {
            if first == last {
                format!("team {} {text}", first + 1)
            } else {
                format!("teams {}–{} {text}", first + 1, last + 1)
            }
        })
        .collect();
    format!("`{name}`: {}", parts.join("; "))
}

/// Leaf values of a JSON object as dotted paths (`deep.cost`).
fn leaves(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// The collapse rule in words, with the capacities it refers to.
pub fn collapse_words(g: &GameParams) -> String {
    let pct = g.collapse_density * 100.0;
    let pct = if pct.fract() == 0.0 {
        format!("{pct:.0}%")
    } else {
        format!("{pct}%")
    };
    let stop = if g.stop_on_collapse {
        "; a run stops at its collapse"
    } else {
        "; a run goes on to its last year after a collapse"
    };
    match g.collapse_rule {
        CollapseRule::AnyArea => format!(
            "the fish have collapsed in the first year in which, after the harvest, either area holds less than {pct} of its capacity (deep sea {}, coast {} fish){stop}",
            g.deep.max_stock, g.coast.max_stock
        ),
        CollapseRule::Total => format!(
            "the fish have collapsed in the first year in which, after the harvest, the two areas together hold less than {pct} of their combined capacity ({} fish){stop}",
            g.deep.max_stock + g.coast.max_stock
        ),
    }
}

fn game(e: &ExperimentInfo) -> String {
    let mut defaults = GameParams::default();
    defaults.initial_ships = meadows_ships(e.teams);
    defaults.initial_bank = 200 * i64::from(defaults.initial_ships);
    let (mut run, mut default) = (BTreeMap::new(), BTreeMap::new());
    leaves(
        "",
        &serde_json::to_value(&e.game).unwrap_or(Value::Null),
        &mut run,
    );
    leaves(
        "",
        &serde_json::to_value(&defaults).unwrap_or(Value::Null),
        &mut default,
    );
    let changed: Vec<String> = run
        .iter()
        .filter(|(k, v)| default.get(*k) != Some(*v))
        .map(|(k, v)| match default.get(k) {
            Some(d) => format!("`{k}` = {} (default {})", value(v), value(d)),
            None => format!("`{k}` = {}", value(v)),
        })
        .collect();
    let start = format!(
        "Game: Meadows' Fishbanks (v8 rules, as in the harness's docs/DESIGN.md), {} ships and ${} per team at the start",
        e.game.initial_ships, e.game.initial_bank
    );
    let rules = if changed.is_empty() {
        "every other parameter at its default".to_string()
    } else {
        format!(
            "parameters that differ from the defaults: {}",
            changed.join(", ")
        )
    };
    format!("{start}; {rules}. Collapse: {}.", collapse_words(&e.game))
}

/// How the people at `human` seats were asked (`[human]`), when a population has them.
fn people(e: &ExperimentInfo) -> Option<String> {
    let with_people = e
        .populations
        .iter()
        .filter(|(name, _)| used(e, "population", name))
        .any(|(_, seats)| seats.iter().any(|s| s["kind"] == "human"));
    if !with_people {
        return None;
    }
    // `[human]` is in the manifest only when it differs from its defaults (and each of
    // its fields only then): these, as `llm::HumanSettings` has them.
    let human = &e.config["human"];
    let number = |k: &str, default: f64| human[k].as_f64().unwrap_or(default);
    Some(format!(
        "People (the `human` seats, in a browser through `fishbanks play`): each question waited {} s for an answer (plus any time the facilitator added or paused), at most {} re-asks with the validation error, then the fallback `{}`; a game in which more than {} of the questions put to people fell back is invalid (models' answers are judged apart).",
        number("timeout_s", HUMAN_DEFAULTS.0),
        number("max_repairs", HUMAN_DEFAULTS.1),
        human["fallback"].as_str().unwrap_or(HUMAN_DEFAULTS.2),
        number("max_fallback_share", HUMAN_DEFAULTS.3)
    ))
}

/// `[human]`'s defaults: `timeout_s`, `max_repairs`, `fallback`, `max_fallback_share`.
const HUMAN_DEFAULTS: (f64, f64, &str, f64) = (300.0, 2.0, "previous", 0.25);

/// The providers the populations use, with their settings, and `[llm]`.
fn models(e: &ExperimentInfo) -> Option<Block> {
    let mut used: Vec<String> = Vec::new();
    let mut personas: Vec<String> = Vec::new();
    for (name, seats) in &e.populations {
        if !self::used(e, "population", name) {
            continue;
        }
        for s in seats {
            if let Some(p) = s["provider"].as_str() {
                if !used.iter().any(|u| u == p) {
                    used.push(p.to_string());
                }
            }
            if let Some(p) = s["persona"].as_str() {
                if !personas.iter().any(|u| u == p) {
                    personas.push(p.to_string());
                }
            }
        }
    }
    if used.is_empty() {
        return None;
    }
    let mut items: Vec<String> = used
        .iter()
        .map(|name| {
            let p = &e.config["providers"][name];
            let backend = &p["backend"];
            let mut settings = Vec::new();
            match (e.descriptions.providers.get(name), backend["kind"].as_str()) {
                (Some(words), _) => settings.push(words.clone()),
                (None, Some("mock")) => settings.push(format!(
                    "the harness's in-process mock, a rule-based stand-in (not a language model), policy `{}`, noise {}",
                    value(&backend["policy"]),
                    value(&backend["noise"])
                )),
                (None, kind) => {
                    settings.push(format!("model `{}`", value(&p["model"])));
                    if let Some(kind) = kind {
                        settings.push(format!("kind {kind}"));
                    }
                    if let Some(url) = backend["base_url"].as_str() {
                        settings.push(format!("at {url}"));
                    }
                }
            }
            let sampling = &p["sampling"];
            settings.push(format!(
                "temperature {}",
                sampling["temperature"]
                    .as_f64()
                    .map_or("the server's default".into(), |t| t.to_string())
            ));
            settings.push(match sampling["seed"].as_i64() {
                Some(s) => format!("seed base {s} (mixed with the replicate, agent and call site)"),
                None => "no seed".into(),
            });
            if backend["kind"].as_str() != Some("mock") {
                settings.push(match sampling["max_tokens"].as_u64() {
                    Some(n) => format!("max_tokens at most {n} (else the longest valid answer)"),
                    None => "max_tokens from the longest valid answer".into(),
                });
                settings.push(format!(
                    "structured output {}",
                    value(&p["structured_output"])
                ));
            }
            format!("`{name}`: {}", settings.join(", "))
        })
        .collect();
    let llm = &e.config["llm"];
    items.push(format!(
        "answers: at most {} re-asks with the validation error, then the fallback `{}`; a run whose models' fallback share exceeds {} is invalid; agents remember {} years",
        value(&llm["max_repairs"]),
        value(&llm["fallback"]),
        value(&llm["max_fallback_share"]),
        value(&llm["memory_years"]),
    ));
    if !personas.is_empty() {
        items.push(format!(
            "personas: {} (their texts are quoted below)",
            personas
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Some(Block::List {
        lead: "Models (the prompt templates' hashes are in the manifest):".into(),
        items,
    })
}

/// The personas' texts, word for word (an appendix of the Methods): what each model was
/// told it wants.
fn personas(e: &ExperimentInfo) -> Option<Block> {
    let llm = &e.config["llm"];
    let mut names: Vec<String> = Vec::new();
    for (name, seats) in &e.populations {
        if !used(e, "population", name) {
            continue;
        }
        for p in seats.iter().filter_map(|s| s["persona"].as_str()) {
            if !names.iter().any(|n| n == p) {
                names.push(p.to_string());
            }
        }
    }
    let items: Vec<String> = names
        .iter()
        .map(|name| {
            let text = e
                .descriptions
                .personas
                .get(name)
                .cloned()
                .or_else(|| llm["personas"][name].as_str().map(String::from));
            match text {
                Some(t) => format!("`{name}`: \"{t}\""),
                None => format!("`{name}`: built in (its text is not recorded in these results)"),
            }
        })
        .collect();
    (!items.is_empty()).then(|| Block::List {
        lead: format!(
            "Personas of `{}`, as each model's system message states them after the system prompt:",
            e.name
        ),
        items,
    })
}

/// The one paragraph that says which family the primary outcome's p-values belong to:
/// its members by kind, per experiment, with their counts.
pub fn family_sentence(cmp: &Comparison, loaded: &Loaded) -> String {
    let mut parts = Vec::new();
    for (i, e) in loaded.experiments.iter().enumerate() {
        let of = |kind: ContrastKind| {
            cmp.family_of(kind)
                .filter(|k| cmp.cell(&k.cell).is_some_and(|c| c.experiment_index == i))
                .count()
        };
        let (protocols, populations, interactions) = (
            of(ContrastKind::Protocols),
            of(ContrastKind::Populations),
            of(ContrastKind::Interaction),
        );
        let reference_population = cmp
            .reference_populations
            .get(i)
            .cloned()
            .unwrap_or_default();
        let mut members = vec![format!(
            "{protocols} contrast{} between every two protocols of each population",
            plural(protocols)
        )];
        if populations + interactions > 0 {
            members.push(format!(
                "{populations} contrast{} of each population against `{reference_population}` within every protocol",
                plural(populations)
            ));
            members.push(format!(
                "{interactions} interaction{} (a protocol's effect against `{}` in a population minus its effect in `{reference_population}`)",
                plural(interactions),
                cmp.reference
            ));
        }
        let name = if loaded.experiments.len() > 1 {
            format!(" of `{}`", e.name)
        } else {
            String::new()
        };
        parts.push(format!(
            "the family{name} holds {} ({} in all)",
            and_list(&members),
            protocols + populations + interactions
        ));
    }
    format!(
        "Primary outcome: {} ({}), tested as one Holm family per experiment, paired by seed: {}. The contrasts against `{}` are members of it, with one interval and one p-value wherever they appear. Every other outcome is exploratory (each cell against `{}` of its population, Holm within each measure).",
        cmp.primary.name(),
        measure_words(cmp.primary),
        parts.join("; "),
        cmp.reference,
        cmp.reference
    )
}

/// The `--compare` family in words.
pub fn across_sentence(cmp: &Comparison) -> String {
    let n = cmp.across.len();
    format!(
        "Across experiments (`--compare`): the {} on the primary outcome, each the cell of the experiment given first minus the same protocol and population of the other, form one Holm family of {n} contrast{} of their own, unpaired (the experiments need not share their draws): the log-rank test for RMST, Fisher's exact test for the survival rate, the Mann–Whitney U test for other outcomes, with percentile bootstrap intervals resampling each experiment's runs on their own. Each experiment's other numbers are as when it is analysed alone.",
        if n == 1 { "contrast" } else { "contrasts" },
        plural(n)
    )
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_people_defaults_are_the_harness_s() {
        let d = crate::llm::HumanSettings::default();
        assert_eq!(
            super::HUMAN_DEFAULTS,
            (
                d.timeout_s,
                f64::from(d.max_repairs),
                d.fallback.as_str(),
                d.max_fallback_share
            )
        );
    }
}
