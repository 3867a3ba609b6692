//! The rating file and the experiment it becomes. A rating names its battery, the
//! providers its candidates need, and one `[candidates.NAME]` table per candidate whose
//! `agent` is one seat as a population writes it; it may ask for more seeds, nothing
//! else of the battery. It is played as an ordinary experiment (the same runner, cache,
//! resume, shards, budgets), whose populations are `<scenario>:<candidate>` and
//! `<scenario>:reference`: the experiment's own checks find its mistakes, and they are
//! reported at their place in the rating file.

use super::battery::{self, Battery, REFERENCE};
use crate::experiment::resolve::Invalid;
use crate::experiment::schema::{AnalysisSpec, ExperimentFile, MatrixSpec, PopulationSpec};
use crate::experiment::{ConfigError, Experiment};
use crate::llm::{BudgetConfig, LlmSettings, ProviderConfig};
use crate::record::RatingInfo;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A rating file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingFile {
    /// Names the output directory, as an experiment's name does.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The battery's version (`fishbanks-1`).
    pub battery: String,
    /// Replicates per cell: at least the battery's.
    #[serde(default)]
    pub seeds: Option<i64>,
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    pub llm: RatingLlm,
    #[serde(default)]
    pub budget: BudgetConfig,
    pub candidates: BTreeMap<String, Candidate>,
}

/// `[llm]` of a rating: only the personas its candidates name. How answers are read
/// (re-asks, fallback, memory) is the battery's, the same in every rating.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RatingLlm {
    pub personas: BTreeMap<String, String>,
}

/// `[candidates.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    /// One seat, as a population entry writes it (`{ strategy = "greedy" }`, `{ kind =
    /// "llm", provider = "p" }`, …), without `count`.
    pub agent: toml::Table,
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// A scripted seat entry.
fn scripted(strategy: &str, count: usize, tremble: f64) -> toml::Table {
    let mut t = toml::Table::new();
    t.insert("strategy".into(), toml::Value::String(strategy.into()));
    t.insert("count".into(), toml::Value::Integer(count as i64));
    t.insert("tremble".into(), toml::Value::Float(tremble));
    t
}

/// A scenario's population with `seat` in team 1: six instances of it in self-play, else
/// it beside the scenario's scripted teams. The candidate's and the reference's alike.
fn scenario_population(
    scenario: &battery::Scenario,
    mut seat: toml::Table,
    battery: &Battery,
) -> PopulationSpec {
    let mut agents = Vec::new();
    if scenario.self_play() {
        seat.insert("count".into(), toml::Value::Integer(6));
        agents.push(seat);
    } else {
        agents.push(seat);
        agents.extend(
            scenario
                .others
                .iter()
                .map(|(strategy, n)| scripted(strategy, *n, battery.tremble)),
        );
    }
    PopulationSpec {
        description: String::new(),
        agents,
    }
}

/// The experiment a rating plays (as written), or the problems that keep it from being
/// one; problems of the candidates' own tables are the experiment's to find.
fn experiment_file(rating: &RatingFile, battery: &Battery) -> Result<ExperimentFile, Vec<Invalid>> {
    let mut problems = Vec::new();
    let seeds = rating.seeds.unwrap_or(battery.seeds as i64);
    if seeds < battery.seeds as i64 {
        problems.push(invalid(
            "seeds",
            format!(
                "the battery `{}` plays {} seeds; a rating may ask for more, never fewer",
                battery.version, battery.seeds
            ),
        ));
    }
    if rating.candidates.is_empty() {
        problems.push(invalid(
            "candidates",
            "name at least one candidate: [candidates.NAME] with agent = { ... }",
        ));
    }
    let mut populations = BTreeMap::new();
    for (name, candidate) in &rating.candidates {
        let path = format!("candidates.{name}");
        if name == REFERENCE
            || name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        {
            problems.push(invalid(
                path.clone(),
                format!("a candidate's name is letters, digits, '-' and '_', and not `{REFERENCE}` (the reference player's)"),
            ));
            continue;
        }
        if candidate.agent.contains_key("count") {
            problems.push(invalid(
                format!("{path}.agent.count"),
                "a candidate is one seat: the battery decides how many instances play (six in self-play)",
            ));
            continue;
        }
        if candidate.agent.get("kind").and_then(|k| k.as_str()) == Some("human") {
            problems.push(invalid(
                format!("{path}.agent.kind"),
                "a person cannot be rated: the battery plays hundreds of games (seat people with `fishbanks play`)",
            ));
            continue;
        }
        for scenario in battery.scenarios {
            populations.insert(
                battery::population(scenario.name, name),
                scenario_population(scenario, candidate.agent.clone(), battery),
            );
        }
    }
    for scenario in battery.scenarios {
        populations.insert(
            battery::population(scenario.name, REFERENCE),
            scenario_population(
                scenario,
                scripted(battery.reference, 1, battery.tremble),
                battery,
            ),
        );
    }
    let mut protocols = BTreeMap::new();
    for p in battery.protocols {
        let table: toml::Table = toml::from_str(p.table).map_err(|e| {
            vec![invalid(
                "battery",
                format!("the battery's `{}`: {e}", p.name),
            )]
        })?;
        protocols.insert(p.name.to_string(), table);
    }
    // Candidates in the order written (sorted by name), the reference last, each
    // scenario in the battery's order.
    let mut who: Vec<&str> = rating.candidates.keys().map(String::as_str).collect();
    who.push(REFERENCE);
    let population: Vec<String> = battery
        .scenarios
        .iter()
        .flat_map(|s| who.iter().map(|w| battery::population(s.name, w)))
        .filter(|p| populations.contains_key(p))
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let llm = LlmSettings {
        max_repairs: battery.max_repairs,
        fallback: battery.fallback,
        max_fallback_share: battery.max_fallback_share,
        memory_years: battery.memory_years,
        personas: rating.llm.personas.clone(),
        ..LlmSettings::default()
    };
    Ok(ExperimentFile {
        name: rating.name.clone(),
        description: rating.description.clone(),
        years: battery.years as i64,
        seeds,
        first_seed: battery.first_seed as i64,
        agents: 6,
        primary_outcome: Some("rmst".into()),
        probe_every: 0,
        game: Default::default(),
        populations,
        protocols,
        matrix: MatrixSpec {
            protocol: battery
                .protocols
                .iter()
                .map(|p| p.name.to_string())
                .collect(),
            population,
        },
        providers: rating.providers.clone(),
        llm,
        human: Default::default(),
        mcp: Default::default(),
        budget: rating.budget.clone(),
        generations: Default::default(),
        analysis: AnalysisSpec::default(),
    })
}

/// Where a problem of the experiment a rating plays is in the rating file: a candidate's
/// seat problem is at its `agent` table, whichever scenario found it.
fn in_rating_file(path: &str) -> String {
    let Some(rest) = path.strip_prefix("populations.") else {
        return path.to_string();
    };
    let Some((population, field)) = rest.split_once(".agents") else {
        return "battery".to_string();
    };
    let Some((_, candidate)) = battery::split_population(population) else {
        return "battery".to_string();
    };
    // `.0.strategy` (the candidate's entry is the first) or nothing (its count).
    let field = field
        .strip_prefix(".0")
        .map_or(String::new(), |f| f.to_string());
    format!("candidates.{candidate}.agent{field}")
}

/// One reading of a rating file's text (see `experiment::problems`).
fn read_once(path: &Path, text: &str) -> Result<Experiment, crate::experiment::Refusal> {
    use crate::experiment::span::{at_path, from_toml};
    use crate::experiment::Refusal;
    let rating: RatingFile =
        toml::from_str(text).map_err(|e| Refusal::Read(from_toml(path, text, &e)))?;
    let Some(battery) = battery::battery(&rating.battery) else {
        let known: Vec<&str> = battery::BATTERIES.iter().map(|b| b.version).collect();
        return Err(Refusal::Resolve(vec![at_path(
            path,
            text,
            "battery",
            format!(
                "unknown battery `{}` (this harness plays: {})",
                rating.battery,
                known.join(", ")
            ),
        )]));
    };
    let file = experiment_file(&rating, battery).map_err(|all| {
        Refusal::Resolve(
            all.into_iter()
                .map(|inv| at_path(path, text, &inv.path, inv.message))
                .collect(),
        )
    })?;
    let mut exp = Experiment::resolve_file(path, text, &file, &in_rating_file)?;
    exp.config.rating = Some(RatingInfo {
        battery: battery.version.to_string(),
        candidates: rating.candidates.keys().cloned().collect(),
    });
    Ok(exp)
}

/// Read, check and plan a rating file: the experiment that plays its battery for every
/// candidate and the reference player. Every problem of the file is reported at once,
/// each at its line and column.
pub fn load(path: &Path) -> Result<Experiment, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| crate::experiment::span::unreadable(path, &e))?;
    parse(path, &text)
}

/// [`load`] of a text (`path` names it in messages).
pub fn parse(path: &Path, text: &str) -> Result<Experiment, ConfigError> {
    crate::experiment::every_problem(path, text, read_once)
}

/// Whether a TOML text is a rating file rather than an experiment: it names a battery.
pub fn is_rating(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("battery"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATING: &str = "name = \"r\"\nbattery = \"fishbanks-1\"\n\n[providers.mock]\nkind = \"mock\"\npolicy = \"greedy\"\n\n[candidates.greedy]\nagent = { strategy = \"greedy\" }\n\n[candidates.llm]\nagent = { kind = \"llm\", provider = \"mock\" }\n";

    #[test]
    fn a_rating_plays_every_scenario_and_protocol_for_each_candidate_and_the_reference() {
        let exp = parse(Path::new("r.toml"), RATING).unwrap();
        let c = &exp.config;
        assert_eq!((c.years, c.seeds, c.agents), (8, 10, 6));
        // 4 scenarios × (2 candidates + the reference) populations, 3 protocols.
        assert_eq!(c.matrix.population.len(), 12);
        assert_eq!(c.matrix.protocol, ["none", "broadcast", "quota"]);
        assert_eq!(exp.plan.runs.len(), 12 * 3 * 10);
        let seats = &c.populations["cooperators:greedy"].seats;
        assert_eq!(seats.len(), 6);
        assert_eq!(seats[0].label(), "greedy");
        assert!(seats[1..].iter().all(|s| s.label() == "conditional"));
        assert!(c.populations["self-play:llm"]
            .seats
            .iter()
            .all(|s| s.is_llm()));
        assert_eq!(
            c.rating.as_ref().map(|r| r.candidates.clone()),
            Some(vec!["greedy".to_string(), "llm".to_string()])
        );
        assert_eq!(c.llm.max_repairs, 2);
    }

    #[test]
    fn mistakes_are_reported_at_their_place_in_the_rating_file() {
        let text = RATING
            .replace("seeds", "x")
            .replace("name = \"r\"", "name = \"r\"\nseeds = 3")
            .replace("strategy = \"greedy\"", "strategy = \"greedyy\"")
            .replace("provider = \"mock\"", "provider = \"nobody\"");
        let err = parse(Path::new("r.toml"), &text).unwrap_err();
        let all: Vec<String> = std::iter::once(&err)
            .chain(err.more.iter())
            .map(|e| {
                format!(
                    "{}:{} {}",
                    e.line.unwrap_or(0),
                    e.field.clone().unwrap_or_default(),
                    e.message
                )
            })
            .collect();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].starts_with("2:seeds"), "{all:?}");
        assert!(
            all[1].starts_with("10:candidates.greedy.agent.strategy"),
            "{all:?}"
        );
        assert!(
            all[2].starts_with("13:candidates.llm.agent.provider"),
            "{all:?}"
        );
        let err = parse(
            Path::new("r.toml"),
            &RATING.replace("fishbanks-1", "fishbanks-9"),
        )
        .unwrap_err();
        assert!(
            err.message.contains("unknown battery `fishbanks-9`"),
            "{err}"
        );
        let err = parse(
            Path::new("r.toml"),
            &RATING.replace(
                "{ strategy = \"greedy\" }",
                "{ strategy = \"greedy\", count = 2 }",
            ),
        )
        .unwrap_err();
        assert!(err.message.contains("a candidate is one seat"), "{err}");
        assert!(is_rating(RATING));
        assert!(!is_rating("name = \"x\"\nseeds = 2\n"));
    }
}
