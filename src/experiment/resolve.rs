//! From the file as written to checked, typed configuration that cannot hold invalid
//! combinations: a seat is scripted (with a strategy) or an LLM (with a provider and a
//! persona), a provider is openai or mock, a protocol has exactly its kind's switches.

use super::schema::{ExperimentFile, GenerationsSpec, MatrixSpec, PopulationSpec, SeatSpec};
use crate::agents::Strategy;
use crate::engine::GameParams;
use crate::llm::{BudgetConfig, HumanSettings, LlmSettings, Provider};
use crate::protocol::ProtocolSpec;
use crate::record::PRIMARY_OUTCOMES;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A resolution failure: the dotted path of the field and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub path: String,
    pub message: String,
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid {
        path: path.into(),
        message: message.into(),
    }
}

fn check_range<T: PartialOrd + fmt::Display>(
    path: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), Invalid> {
    crate::spec::check_range(path, value, lo, hi).map_err(|e| invalid(e.field, e.message))
}

/// Who plays one team.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Seat {
    Scripted {
        strategy: Strategy,
        /// Probability of a random decision instead of the strategy's.
        tremble: f64,
        /// The team an imitator copies (0-based).
        #[serde(skip_serializing_if = "Option::is_none")]
        leader: Option<usize>,
    },
    Llm {
        /// A key of [`ExperimentConfig::providers`].
        provider: String,
        /// A built-in persona (`greedy`) or a key of `[llm.personas]`.
        persona: String,
    },
    /// A person at a seat page (`fishbanks play`), asked as an LLM is.
    Human,
    /// A program over HTTP (`kind = "remote"`), asked as an LLM is, with the
    /// question's facts as data.
    Remote(crate::llm::remote::RemoteAgent),
}

impl Seat {
    /// A short label for events (`greedy`, `llm:local:greedy`).
    pub fn label(&self) -> String {
        match self {
            Seat::Scripted { strategy, .. } => strategy.as_str().to_string(),
            Seat::Llm { provider, persona } => format!("llm:{provider}:{persona}"),
            Seat::Human => "human".to_string(),
            Seat::Remote(agent) => format!("remote:{}", agent.transport.as_str()),
        }
    }

    pub fn is_llm(&self) -> bool {
        matches!(self, Seat::Llm { .. })
    }

    /// Whether the seat is asked through prompts (an LLM, or a person shown the same).
    pub fn is_prompted(&self) -> bool {
        matches!(self, Seat::Llm { .. } | Seat::Human | Seat::Remote(_))
    }
}

/// A population: one seat per team, in team order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Population {
    pub description: String,
    pub seats: Vec<Seat>,
    /// The same seats as written (counts expanded): what run ids hash.
    #[serde(skip)]
    pub written: Vec<SeatSpec>,
}

impl Population {
    /// Whether every seat decides without chance: scripted, `tremble = 0` and not
    /// `random`. Such a population plays the same game under every seed, so its
    /// replicates are one observation.
    pub fn is_deterministic(&self) -> bool {
        self.seats.iter().all(|seat| match seat {
            Seat::Scripted {
                strategy, tremble, ..
            } => *tremble == 0.0 && *strategy != Strategy::Random,
            Seat::Llm { .. } | Seat::Human | Seat::Remote(_) => false,
        })
    }
}

/// An experiment with everything checked and every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentConfig {
    pub name: String,
    pub description: String,
    pub years: u32,
    pub seeds: u32,
    pub first_seed: u64,
    /// Teams per game.
    pub agents: usize,
    /// The outcome that answers the question (see `record::PRIMARY_OUTCOMES`).
    pub primary_outcome: String,
    /// The consensus probe every this many years (0: never).
    pub probe_every: u32,
    pub game: GameParams,
    pub populations: BTreeMap<String, Population>,
    pub protocols: BTreeMap<String, ProtocolSpec>,
    pub matrix: MatrixSpec,
    pub providers: BTreeMap<String, Provider>,
    pub llm: LlmSettings,
    /// `[human]`; recorded only when it differs from the defaults, so experiments
    /// without people keep their configuration digest.
    #[serde(skip_serializing_if = "is_default_human")]
    pub human: HumanSettings,
    pub budget: BudgetConfig,
    #[serde(skip_serializing_if = "GenerationsSpec::is_off")]
    pub generations: GenerationsSpec,
}

fn is_default_human(h: &HumanSettings) -> bool {
    *h == HumanSettings::default()
}

const BUILTIN_PERSONAS: &[&str] = &["greedy"];

/// Check `file` and resolve it. Returns the first problem found.
pub fn resolve(file: &ExperimentFile) -> Result<ExperimentConfig, Invalid> {
    if file.name.is_empty()
        || !file
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || file.name.starts_with('.')
    {
        return Err(invalid("name", "must be a non-empty name of letters, digits, '-', '_' or '.' (it names the output directory)"));
    }
    check_range("years", file.years, 1, 200)?;
    check_range("seeds", file.seeds, 1, 1_000_000)?;
    check_range("first_seed", file.first_seed, 0, i64::MAX - 1_000_000)?;
    check_range("agents", file.agents, 1, 50)?;
    check_range("probe_every", file.probe_every, 0, 200)?;
    let game = file.game.for_teams(file.agents as usize);
    validate_game(&game)?;
    let primary_outcome = file
        .primary_outcome
        .clone()
        .unwrap_or_else(|| "rmst".into());
    if !PRIMARY_OUTCOMES.contains(&primary_outcome.as_str()) {
        return Err(invalid(
            "primary_outcome",
            format!(
                "unknown outcome `{primary_outcome}` (one of {})",
                PRIMARY_OUTCOMES.join(", ")
            ),
        ));
    }
    check_range(
        "llm.max_fallback_share",
        file.llm.max_fallback_share,
        0.0,
        1.0,
    )?;
    let mut providers = BTreeMap::new();
    for (name, p) in &file.providers {
        let resolved = p
            .resolve()
            .map_err(|e| invalid(format!("providers.{name}.{}", e.field), e.message))?;
        providers.insert(name.clone(), resolved);
    }
    let mut protocols = BTreeMap::new();
    for (name, table) in &file.protocols {
        let spec = ProtocolSpec::from_table(table)
            .map_err(|e| invalid(format!("protocols.{name}.{}", e.field), e.message))?;
        protocols.insert(name.clone(), spec);
    }
    let mut populations = BTreeMap::new();
    for (name, population) in &file.populations {
        populations.insert(name.clone(), resolve_population(file, name, population)?);
    }
    validate_matrix(file)?;
    validate_generations(file)?;
    check_range("human.timeout_s", file.human.timeout_s, 1.0, 86_400.0)?;
    check_range("human.max_repairs", file.human.max_repairs, 0, 10)?;
    check_range(
        "human.max_fallback_share",
        file.human.max_fallback_share,
        0.0,
        1.0,
    )?;
    validate_matching(&protocols, &file.matrix.protocol)?;
    Ok(ExperimentConfig {
        name: file.name.clone(),
        description: file.description.clone(),
        years: file.years as u32,
        seeds: file.seeds as u32,
        first_seed: file.first_seed as u64,
        agents: file.agents as usize,
        primary_outcome,
        probe_every: file.probe_every as u32,
        game,
        populations,
        protocols,
        matrix: file.matrix.clone(),
        providers,
        llm: file.llm.clone(),
        human: file.human.clone(),
        budget: file.budget.clone(),
        generations: file.generations.clone(),
    })
}

fn resolve_population(
    file: &ExperimentFile,
    name: &str,
    population: &PopulationSpec,
) -> Result<Population, Invalid> {
    let base = format!("populations.{name}");
    let mut seats = Vec::new();
    let mut written = Vec::new();
    for (i, entry) in population.agents.iter().enumerate() {
        let p = format!("{base}.agents.{i}");
        let (spec, count) = SeatSpec::from_entry(entry)
            .map_err(|e| invalid(format!("{p}.{}", e.field), e.message))?;
        let seat = resolve_seat(file, &p, &spec)?;
        seats.extend(std::iter::repeat_n(seat, count));
        written.extend(std::iter::repeat_n(spec, count));
    }
    if seats.len() as i64 != file.agents {
        return Err(invalid(
            format!("{base}.agents"),
            format!(
                "has {} agents but the experiment plays with agents = {}",
                seats.len(),
                file.agents
            ),
        ));
    }
    Ok(Population {
        description: population.description.clone(),
        seats,
        written,
    })
}

/// The seat a population entry plays, its cross-references checked (`p`: the entry's
/// path, for errors).
fn resolve_seat(file: &ExperimentFile, p: &str, spec: &SeatSpec) -> Result<Seat, Invalid> {
    Ok(match spec {
        SeatSpec::Scripted(s) => {
            check_range(&format!("{p}.tremble"), s.tremble, 0.0, 1.0)?;
            let leader = match (s.strategy, s.leader) {
                (Strategy::Imitator, None) => {
                    return Err(invalid(
                        format!("{p}.leader"),
                        "missing: an imitator copies a leader (a team number, 1 to the number of agents)",
                    ))
                }
                (Strategy::Imitator, Some(l)) if l == 0 || l as i64 > file.agents => {
                    return Err(invalid(
                        format!("{p}.leader"),
                        format!("must be a team number from 1 to {}, got {l}", file.agents),
                    ))
                }
                (Strategy::Imitator, Some(l)) => Some(l - 1),
                (_, Some(_)) => {
                    return Err(invalid(
                        format!("{p}.leader"),
                        "only imitators (strategy = \"imitator\") have a leader",
                    ))
                }
                (_, None) => None,
            };
            Seat::Scripted {
                strategy: s.strategy,
                tremble: s.tremble,
                leader,
            }
        }
        SeatSpec::Llm(s) => {
            if !file.providers.contains_key(&s.provider) {
                return Err(invalid(
                    format!("{p}.provider"),
                    format!("no [providers.{}] block in this file", s.provider),
                ));
            }
            let persona = s.persona.clone().unwrap_or_else(|| "greedy".into());
            if !BUILTIN_PERSONAS.contains(&persona.as_str())
                && !file.llm.personas.contains_key(&persona)
            {
                return Err(invalid(
                    format!("{p}.persona"),
                    format!("unknown persona `{persona}`: define it in [llm.personas]"),
                ));
            }
            Seat::Llm {
                provider: s.provider.clone(),
                persona,
            }
        }
        SeatSpec::Human(_) => Seat::Human,
        SeatSpec::Remote(agent) => {
            agent
                .check()
                .map_err(|(field, message)| invalid(format!("{p}.{field}"), message))?;
            Seat::Remote(agent.clone())
        }
    })
}

fn validate_generations(file: &ExperimentFile) -> Result<(), Invalid> {
    let g = &file.generations;
    check_range("generations.count", g.count, 1, 50)?;
    check_range("generations.lesson_chars", g.lesson_chars, 1, 100_000)?;
    for (i, name) in g.protocols.iter().flatten().enumerate() {
        if !file.matrix.protocol.contains(name) {
            return Err(invalid(
                format!("generations.protocols.{i}"),
                format!("`{name}` is not a protocol of matrix.protocol"),
            ));
        }
    }
    Ok(())
}

fn validate_matrix(file: &ExperimentFile) -> Result<(), Invalid> {
    let lists: [(&str, &Vec<String>, Vec<&String>); 2] = [
        (
            "protocol",
            &file.matrix.protocol,
            file.protocols.keys().collect(),
        ),
        (
            "population",
            &file.matrix.population,
            file.populations.keys().collect(),
        ),
    ];
    for (axis, names, known) in lists {
        if names.is_empty() {
            return Err(invalid(format!("matrix.{axis}"), "must name at least one"));
        }
        for (i, n) in names.iter().enumerate() {
            if !known.contains(&n) {
                return Err(invalid(
                    format!("matrix.{axis}.{i}"),
                    format!(
                        "`{n}` is not defined (known: {})",
                        known
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if names[..i].contains(n) {
                return Err(invalid(
                    format!("matrix.{axis}.{i}"),
                    format!("`{n}` is listed twice"),
                ));
            }
        }
    }
    Ok(())
}

/// `match_tokens_of` names a talking protocol of the matrix listed before the matched
/// one (its cells are played, and measured, first) that is not matched itself.
fn validate_matching(
    protocols: &BTreeMap<String, ProtocolSpec>,
    order: &[String],
) -> Result<(), Invalid> {
    for (i, name) in order.iter().enumerate() {
        let Some(reference) = protocols.get(name).and_then(|p| p.matches_tokens_of()) else {
            continue;
        };
        let field = format!("protocols.{name}.match_tokens_of");
        let Some(j) = order.iter().position(|n| n == reference) else {
            return Err(invalid(
                field,
                format!("`{reference}` is not a protocol of matrix.protocol"),
            ));
        };
        if j >= i {
            return Err(invalid(
                field,
                format!("`{reference}` must come before `{name}` in matrix.protocol (its cells are measured first)"),
            ));
        }
        let spec = &protocols[reference];
        if spec.budget().is_none() {
            return Err(invalid(
                field,
                format!(
                    "`{reference}` (kind `{}`) publishes no text to match",
                    spec.kind()
                ),
            ));
        }
        if spec.matches_tokens_of().is_some() {
            return Err(invalid(
                field,
                format!("`{reference}` is matched itself; match the reference it matches"),
            ));
        }
    }
    Ok(())
}

fn validate_game(g: &GameParams) -> Result<(), Invalid> {
    for (name, area) in [("deep", &g.deep), ("coast", &g.coast)] {
        let p = format!("game.{name}");
        if area.max_stock <= 0 {
            return Err(invalid(format!("{p}.max_stock"), "must be positive"));
        }
        check_range(
            &format!("{p}.initial_stock"),
            area.initial_stock,
            0,
            area.max_stock,
        )?;
        check_range(&format!("{p}.cost"), area.cost, 0, i64::MAX)?;
        if !(area.regen_scale >= 0.0 && area.regen_scale.is_finite()) {
            return Err(invalid(
                format!("{p}.regen_scale"),
                "must be a non-negative number",
            ));
        }
        check_table(&format!("{p}.catch_table"), &area.catch_table)?;
    }
    check_table("game.regen_table", &g.regen_table)?;
    check_range(
        "game.market.auction_ships",
        g.market.auction_ships,
        0,
        10_000,
    )?;
    check_range("game.market.trade_rounds", g.market.trade_rounds, 1, 20)?;
    check_range("game.market.max_price", g.market.max_price, 1, 1_000_000)?;
    check_range("game.harbor_cost", g.harbor_cost, 0, i64::MAX)?;
    check_range("game.fish_price", g.fish_price, 0, i64::MAX)?;
    check_range("game.ship_price", g.ship_price, 0, i64::MAX)?;
    check_range("game.initial_ships", g.initial_ships, 0, 10_000)?;
    check_range("game.credit_rate", g.credit_rate, 0.0, 1.0)?;
    check_range("game.debit_rate", g.debit_rate, 0.0, 1.0)?;
    check_range("game.collapse_density", g.collapse_density, 0.0, 1.0)?;
    check_range("game.initial_ship_value", g.initial_ship_value, 0, i64::MAX)?;
    if g.weather_series.is_empty()
        || g.weather_series
            .iter()
            .any(|w| !(*w >= 0.0 && w.is_finite()))
    {
        return Err(invalid(
            "game.weather_series",
            "must be a non-empty list of non-negative numbers",
        ));
    }
    Ok(())
}

fn check_table(path: &str, table: &[f64]) -> Result<(), Invalid> {
    if table.len() < 2 || table.iter().any(|v| !(*v >= 0.0 && v.is_finite())) {
        return Err(invalid(
            path,
            "must list at least 2 non-negative numbers (values at densities 0..1)",
        ));
    }
    Ok(())
}
