//! From the file as written to checked, typed configuration that cannot hold invalid
//! combinations: a seat is scripted (with a strategy) or an LLM (with a provider and a
//! persona), a provider is openai or mock, a protocol has exactly its kind's switches.

use super::schema::{ExperimentFile, GenerationsSpec, MatrixSpec, PopulationSpec, SeatSpec};
use crate::agents::Strategy;
use crate::engine::GameParams;
use crate::llm::{BudgetConfig, HumanSettings, LlmSettings, McpSeat, McpSettings, Provider};
use crate::protocol::ProtocolSpec;
use crate::record::{AnalysisChoice, PRIMARY_OUTCOMES};
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
    /// An MCP client the harness serves (`kind = "mcp"`), asked as an LLM is.
    Mcp(McpSeat),
}

impl Seat {
    /// A short label for events (`greedy`, `llm:local:greedy`).
    pub fn label(&self) -> String {
        match self {
            Seat::Scripted { strategy, .. } => strategy.as_str().to_string(),
            Seat::Llm { provider, persona } => format!("llm:{provider}:{persona}"),
            Seat::Human => "human".to_string(),
            Seat::Remote(agent) => format!("remote:{}", agent.transport.as_str()),
            Seat::Mcp(_) => "mcp".to_string(),
        }
    }

    pub fn is_llm(&self) -> bool {
        matches!(self, Seat::Llm { .. })
    }

    /// Whether the seat is asked through prompts (an LLM, or a person shown the same).
    pub fn is_prompted(&self) -> bool {
        matches!(
            self,
            Seat::Llm { .. } | Seat::Human | Seat::Remote(_) | Seat::Mcp(_)
        )
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
            Seat::Llm { .. } | Seat::Human | Seat::Remote(_) | Seat::Mcp(_) => false,
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
    /// `[mcp]`; recorded only when it differs from the defaults, so experiments
    /// without MCP seats keep their configuration digest.
    #[serde(skip_serializing_if = "is_default_mcp")]
    pub mcp: McpSettings,
    pub budget: BudgetConfig,
    #[serde(skip_serializing_if = "GenerationsSpec::is_off")]
    pub generations: GenerationsSpec,
    /// `[analysis]` resolved: what the report answers. Left out of the configuration
    /// (and its digest): the question asked of the runs changes none of them, so a new
    /// reference re-reports a sweep instead of refusing it as another experiment. The
    /// manifest records it apart.
    #[serde(skip)]
    pub analysis: AnalysisChoice,
    /// For a rating (`fishbanks rate`): its battery and candidates; the manifest records
    /// it. Its populations and protocols are in the configuration like any experiment's.
    #[serde(skip)]
    pub rating: Option<crate::record::RatingInfo>,
}

fn is_default_human(h: &HumanSettings) -> bool {
    *h == HumanSettings::default()
}

fn is_default_mcp(m: &McpSettings) -> bool {
    *m == McpSettings::default()
}

const BUILTIN_PERSONAS: &[&str] = &["greedy"];

/// Problems found so far. Resolution goes on past each one, so that one run of
/// `validate` reports every problem of a file, not one per run.
#[derive(Debug, Default)]
struct Problems(Vec<Invalid>);

impl Problems {
    /// The value of `result`, or `None` with its problem kept.
    fn keep<T>(&mut self, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.0.push(problem);
                None
            }
        }
    }

    fn range<T: PartialOrd + fmt::Display>(&mut self, path: &str, value: T, lo: T, hi: T) {
        self.keep(check_range(path, value, lo, hi));
    }

    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(invalid(path, message));
    }
}

/// Check `file` and resolve it. Returns every problem found, in the order checked.
pub fn resolve(file: &ExperimentFile) -> Result<ExperimentConfig, Vec<Invalid>> {
    let mut problems = Problems::default();
    if file.name.is_empty()
        || !file
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || file.name.starts_with('.')
    {
        problems.push("name", "must be a non-empty name of letters, digits, '-', '_' or '.' (it names the output directory)");
    }
    problems.range("years", file.years, 1, 200);
    problems.range("seeds", file.seeds, 1, 1_000_000);
    problems.range("first_seed", file.first_seed, 0, i64::MAX - 1_000_000);
    problems.range("agents", file.agents, 1, 50);
    problems.range("probe_every", file.probe_every, 0, 200);
    let game = file.game.for_teams(file.agents.clamp(1, 50) as usize);
    validate_game(&game, &mut problems);
    let primary_outcome = file
        .primary_outcome
        .clone()
        .unwrap_or_else(|| "rmst".into());
    if !PRIMARY_OUTCOMES.contains(&primary_outcome.as_str()) {
        problems.push(
            "primary_outcome",
            format!(
                "unknown outcome `{primary_outcome}` (one of {})",
                PRIMARY_OUTCOMES.join(", ")
            ),
        );
    }
    problems.range(
        "llm.max_fallback_share",
        file.llm.max_fallback_share,
        0.0,
        1.0,
    );
    let mut providers = BTreeMap::new();
    for (name, p) in &file.providers {
        let resolved = p
            .resolve()
            .map_err(|e| invalid(format!("providers.{name}.{}", e.field), e.message));
        if let Some(resolved) = problems.keep(resolved) {
            providers.insert(name.clone(), resolved);
        }
    }
    let mut protocols = BTreeMap::new();
    for (name, table) in &file.protocols {
        let spec = ProtocolSpec::from_table(table)
            .and_then(|s| {
                s.rules()
                    .check_teams(file.agents.clamp(1, 50) as usize)
                    .map(|()| s)
            })
            .map_err(|e| invalid(format!("protocols.{name}.{}", e.field), e.message));
        if let Some(spec) = problems.keep(spec) {
            protocols.insert(name.clone(), spec);
        }
    }
    let mut populations = BTreeMap::new();
    for (name, population) in &file.populations {
        if let Some(p) = resolve_population(file, name, population, &mut problems) {
            populations.insert(name.clone(), p);
        }
    }
    validate_matrix(file, &mut problems);
    validate_generations(file, &mut problems);
    problems.range("human.timeout_s", file.human.timeout_s, 1.0, 86_400.0);
    problems.range("human.max_repairs", file.human.max_repairs, 0, 10);
    problems.range(
        "human.max_fallback_share",
        file.human.max_fallback_share,
        0.0,
        1.0,
    );
    problems.range("mcp.timeout_s", file.mcp.timeout_s, 1.0, 86_400.0);
    problems.range("mcp.outage_wait_s", file.mcp.outage_wait_s, 1.0, 604_800.0);
    problems.range(
        "mcp.max_answer_bytes",
        file.mcp.max_answer_bytes,
        1_000,
        100_000_000,
    );
    if file.mcp.bind.parse::<std::net::SocketAddr>().is_err() {
        problems.push(
            "mcp.bind",
            format!(
                "must be an address and port such as 127.0.0.1:0 or 0.0.0.0:8800, got `{}`",
                file.mcp.bind
            ),
        );
    }
    validate_matching(&protocols, &file.matrix.protocol, &mut problems);
    let analysis = resolve_analysis(file, &mut problems);
    if !problems.0.is_empty() {
        return Err(problems.0);
    }
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
        mcp: file.mcp.clone(),
        budget: file.budget.clone(),
        generations: file.generations.clone(),
        analysis,
        rating: None,
    })
}

/// `[analysis]`: the reference protocol (`none` when the matrix has it, else its first
/// protocol) and the reference population (the matrix's first), each a name the matrix
/// plays.
fn resolve_analysis(file: &ExperimentFile, problems: &mut Problems) -> AnalysisChoice {
    let matrix = &file.matrix;
    let mut named = |field: &str, given: &Option<String>, axis: &str, names: &[String]| match given
    {
        Some(name) if !names.contains(name) => {
            problems.push(
                format!("analysis.{field}"),
                format!(
                    "`{name}` is not a {axis} of matrix.{axis} (it lists: {})",
                    names.join(", ")
                ),
            );
            None
        }
        other => other.clone(),
    };
    let reference = named(
        "reference",
        &file.analysis.reference,
        "protocol",
        &matrix.protocol,
    );
    let reference_population = named(
        "reference_population",
        &file.analysis.reference_population,
        "population",
        &matrix.population,
    );
    AnalysisChoice {
        reference: reference.unwrap_or_else(|| default_reference(file)),
        reference_population: reference_population
            .or_else(|| matrix.population.first().cloned())
            .unwrap_or_default(),
    }
}

/// The reference protocol when the file names none: `none` by name, else the first
/// protocol of kind `none`, else the first of the matrix.
fn default_reference(file: &ExperimentFile) -> String {
    let order = &file.matrix.protocol;
    let kind_none = |name: &&String| {
        file.protocols
            .get(*name)
            .and_then(|t| t.get("kind"))
            .and_then(|k| k.as_str())
            == Some("none")
    };
    order
        .iter()
        .find(|n| *n == "none")
        .or_else(|| order.iter().find(kind_none))
        .or_else(|| order.first())
        .cloned()
        .unwrap_or_default()
}

fn resolve_population(
    file: &ExperimentFile,
    name: &str,
    population: &PopulationSpec,
    problems: &mut Problems,
) -> Option<Population> {
    let base = format!("populations.{name}");
    let mut seats = Vec::new();
    let mut written = Vec::new();
    let mut complete = true;
    for (i, entry) in population.agents.iter().enumerate() {
        let p = format!("{base}.agents.{i}");
        let read =
            SeatSpec::from_entry(entry).map_err(|e| invalid(format!("{p}.{}", e.field), e.message));
        let Some((spec, count)) = problems.keep(read) else {
            complete = false;
            continue;
        };
        let Some(seat) = resolve_seat(file, &p, &spec, problems) else {
            complete = false;
            continue;
        };
        seats.extend(std::iter::repeat_n(seat, count));
        written.extend(std::iter::repeat_n(spec, count));
    }
    // The count is checked only when every entry could be read: an entry in error has
    // no count to add up.
    if complete && seats.len() as i64 != file.agents {
        problems.push(
            format!("{base}.agents"),
            format!(
                "has {} agents but the experiment plays with agents = {}",
                seats.len(),
                file.agents
            ),
        );
        return None;
    }
    complete.then(|| Population {
        description: population.description.clone(),
        seats,
        written,
    })
}

/// The seat a population entry plays, its cross-references checked (`p`: the entry's
/// path, for errors); `None` with its problems kept.
fn resolve_seat(
    file: &ExperimentFile,
    p: &str,
    spec: &SeatSpec,
    problems: &mut Problems,
) -> Option<Seat> {
    let before = problems.0.len();
    let seat = match spec {
        SeatSpec::Scripted(s) => {
            problems.range(&format!("{p}.tremble"), s.tremble, 0.0, 1.0);
            let leader = match (s.strategy, s.leader) {
                (Strategy::Imitator, None) => {
                    problems.push(
                        format!("{p}.leader"),
                        "missing: an imitator copies a leader (a team number, 1 to the number of agents)",
                    );
                    None
                }
                (Strategy::Imitator, Some(l)) if l == 0 || l as i64 > file.agents => {
                    problems.push(
                        format!("{p}.leader"),
                        format!("must be a team number from 1 to {}, got {l}", file.agents),
                    );
                    None
                }
                (Strategy::Imitator, Some(l)) => Some(l - 1),
                (_, Some(_)) => {
                    problems.push(
                        format!("{p}.leader"),
                        "only imitators (strategy = \"imitator\") have a leader",
                    );
                    None
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
                problems.push(
                    format!("{p}.provider"),
                    format!("no [providers.{}] block in this file", s.provider),
                );
            }
            let persona = s.persona.clone().unwrap_or_else(|| "greedy".into());
            if !BUILTIN_PERSONAS.contains(&persona.as_str())
                && !file.llm.personas.contains_key(&persona)
            {
                problems.push(
                    format!("{p}.persona"),
                    format!("unknown persona `{persona}`: define it in [llm.personas]"),
                );
            }
            Seat::Llm {
                provider: s.provider.clone(),
                persona,
            }
        }
        SeatSpec::Human(_) => Seat::Human,
        SeatSpec::Remote(agent) => {
            if let Err((field, message)) = agent.check() {
                problems.push(format!("{p}.{field}"), message);
            }
            Seat::Remote(agent.clone())
        }
        SeatSpec::Mcp(seat) => {
            if let Some(var) = &seat.token_env {
                if let Some(problem) = crate::llm::config::env_name_problem("token_env", var) {
                    problems.push(format!("{p}.token_env"), problem);
                }
            }
            Seat::Mcp(seat.clone())
        }
    };
    (problems.0.len() == before).then_some(seat)
}

fn validate_generations(file: &ExperimentFile, problems: &mut Problems) {
    let g = &file.generations;
    problems.range("generations.count", g.count, 1, 50);
    problems.range("generations.lesson_chars", g.lesson_chars, 1, 100_000);
    for (i, name) in g.protocols.iter().flatten().enumerate() {
        if !file.matrix.protocol.contains(name) {
            problems.push(
                format!("generations.protocols.{i}"),
                format!("`{name}` is not a protocol of matrix.protocol"),
            );
        }
    }
}

fn validate_matrix(file: &ExperimentFile, problems: &mut Problems) {
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
            problems.push(format!("matrix.{axis}"), "must name at least one");
        }
        for (i, n) in names.iter().enumerate() {
            if !known.contains(&n) {
                problems.push(
                    format!("matrix.{axis}.{i}"),
                    format!(
                        "`{n}` is not defined (known: {})",
                        known
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            } else if names[..i].contains(n) {
                problems.push(
                    format!("matrix.{axis}.{i}"),
                    format!("`{n}` is listed twice"),
                );
            }
        }
    }
}

/// `match_tokens_of` names a talking protocol of the matrix listed before the matched
/// one (its cells are played, and measured, first) that is not matched itself.
fn validate_matching(
    protocols: &BTreeMap<String, ProtocolSpec>,
    order: &[String],
    problems: &mut Problems,
) {
    for (i, name) in order.iter().enumerate() {
        let Some(reference) = protocols.get(name).and_then(|p| p.matches_tokens_of()) else {
            continue;
        };
        let field = format!("protocols.{name}.match_tokens_of");
        let Some(j) = order.iter().position(|n| n == reference) else {
            problems.push(
                field,
                format!("`{reference}` is not a protocol of matrix.protocol"),
            );
            continue;
        };
        // A reference that failed to resolve has its own problem already.
        let Some(spec) = protocols.get(reference) else {
            continue;
        };
        if j >= i {
            problems.push(
                field,
                format!("`{reference}` must come before `{name}` in matrix.protocol (its cells are measured first)"),
            );
        } else if spec.budget().is_none() {
            problems.push(
                field,
                format!(
                    "`{reference}` (kind `{}`) publishes no text to match",
                    spec.kind()
                ),
            );
        } else if spec.matches_tokens_of().is_some() {
            problems.push(
                field,
                format!("`{reference}` is matched itself; match the reference it matches"),
            );
        }
    }
}

fn validate_game(g: &GameParams, problems: &mut Problems) {
    for (name, area) in [("deep", &g.deep), ("coast", &g.coast)] {
        let p = format!("game.{name}");
        if area.max_stock <= 0 {
            problems.push(format!("{p}.max_stock"), "must be positive");
        } else {
            problems.range(
                &format!("{p}.initial_stock"),
                area.initial_stock,
                0,
                area.max_stock,
            );
        }
        problems.range(&format!("{p}.cost"), area.cost, 0, i64::MAX);
        if !(area.regen_scale >= 0.0 && area.regen_scale.is_finite()) {
            problems.push(format!("{p}.regen_scale"), "must be a non-negative number");
        }
        problems.keep(check_table(&format!("{p}.catch_table"), &area.catch_table));
    }
    problems.keep(check_table("game.regen_table", &g.regen_table));
    problems.range(
        "game.market.auction_ships",
        g.market.auction_ships,
        0,
        10_000,
    );
    problems.range("game.market.trade_rounds", g.market.trade_rounds, 1, 20);
    problems.range("game.market.max_price", g.market.max_price, 1, 1_000_000);
    problems.range("game.harbor_cost", g.harbor_cost, 0, i64::MAX);
    problems.range("game.fish_price", g.fish_price, 0, i64::MAX);
    problems.range("game.ship_price", g.ship_price, 0, i64::MAX);
    problems.range("game.initial_ships", g.initial_ships, 0, 10_000);
    problems.range("game.credit_rate", g.credit_rate, 0.0, 1.0);
    problems.range("game.debit_rate", g.debit_rate, 0.0, 1.0);
    problems.range("game.collapse_density", g.collapse_density, 0.0, 1.0);
    problems.range("game.initial_ship_value", g.initial_ship_value, 0, i64::MAX);
    if g.weather_series.is_empty()
        || g.weather_series
            .iter()
            .any(|w| !(*w >= 0.0 && w.is_finite()))
    {
        problems.push(
            "game.weather_series",
            "must be a non-empty list of non-negative numbers",
        );
    }
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
