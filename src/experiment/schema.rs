//! The experiment file as written (docs/DESIGN.md §7): what serde reads, before any checking.
//! Unknown fields are errors (`deny_unknown_fields`). [`super::resolve`] turns it into
//! checked, typed configuration; [`super::span`] locates errors in the text.

use crate::agents::Strategy;
use crate::engine::{AreaParams, GameParams};
use crate::llm::{BudgetConfig, HumanSettings, LlmSettings, McpSeat, McpSettings, ProviderConfig};
use crate::question::Inherit;
use crate::spec::SpecError;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Who plays one seat, as written (one entry of a population: `count` such seats),
/// tagged by its `kind` (`scripted` when omitted). Each kind takes exactly its own
/// fields; [`super::resolve`] checks the cross-references (a provider, a persona, a
/// leader's team) and gives the [`super::Seat`] that plays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SeatSpec {
    Scripted(ScriptedSeat),
    Llm(LlmSeat),
    Human(HumanSeat),
    /// A program of any framework over HTTP: a plain JSON POST or the Agent2Agent
    /// protocol (`llm::remote`).
    Remote(crate::llm::remote::RemoteAgent),
    /// An MCP client, which the harness serves (`next_question`, `answer`; see `[mcp]`).
    Mcp(McpSeat),
}

/// A person, through a seat page of `fishbanks play` (see `[human]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HumanSeat {}

/// A scripted strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedSeat {
    pub strategy: Strategy,
    /// Probability of a random decision instead of the strategy's, so that replicates
    /// differ (default 0: fully deterministic play).
    #[serde(default)]
    pub tremble: f64,
    /// Imitators: the team (1-based, as prompts count) whose announced plan they copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<usize>,
}

/// An LLM agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSeat {
    /// Which `[providers.NAME]`.
    pub provider: String,
    /// Which persona (`greedy`, built in, when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
}

/// A named population: the agents that play, in team order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Each entry as written: a seat's fields, its `kind` and its `count` (read by
    /// [`SeatSpec::from_entry`]).
    pub agents: Vec<toml::Table>,
}

impl SeatSpec {
    /// Read one entry of a population: its seat and its `count` (1 when omitted).
    /// Errors name the field relative to the entry.
    pub fn from_entry(entry: &toml::Table) -> Result<(SeatSpec, usize), SpecError> {
        let mut table = entry.clone();
        let count = match table.remove("count") {
            None => 1,
            Some(toml::Value::Integer(n)) if (1..=50).contains(&n) => n as usize,
            Some(other) => {
                return Err(SpecError::new(
                    "count",
                    format!("must be a whole number between 1 and 50, got {other}"),
                ))
            }
        };
        table
            .entry("kind")
            .or_insert_with(|| toml::Value::String("scripted".into()));
        let seat = crate::spec::read_tagged(&table, "agent").map_err(|e| {
            if e.field == "strategy" && e.message.starts_with("missing") {
                SpecError::new(
                    "strategy",
                    format!(
                        "missing: a scripted agent needs a strategy ({})",
                        Strategy::ALL.map(|s| s.as_str()).join(", ")
                    ),
                )
            } else if e.field == "provider" && e.message.starts_with("missing") {
                SpecError::new(
                    "provider",
                    "missing: an LLM agent names a [providers.NAME] block",
                )
            } else {
                e
            }
        })?;
        Ok((seat, count))
    }
}

/// The cross product that defines the cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixSpec {
    pub protocol: Vec<String>,
    pub population: Vec<String>,
}

/// An experiment file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Names the output directory `<out>/<name>/`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_years")]
    pub years: i64,
    /// Replicates per cell.
    pub seeds: i64,
    /// Seed of the first replicate; replicate k uses `first_seed + k` in every cell, so
    /// cells are compared on common random numbers.
    #[serde(default = "one_u64")]
    pub first_seed: i64,
    /// Teams per game.
    #[serde(default = "default_agents")]
    pub agents: i64,
    /// The outcome that answers the question (`rmst` by default); the others are
    /// exploratory.
    #[serde(default)]
    pub primary_outcome: Option<String>,
    /// Ask every agent the consensus probe every this many years (0: never). The same in
    /// every cell: it measures, it changes nothing in the game.
    #[serde(default)]
    pub probe_every: i64,
    #[serde(default)]
    pub game: GameOverrides,
    pub populations: BTreeMap<String, PopulationSpec>,
    /// Each protocol's table as written; its `kind` decides which switches it takes
    /// (read by [`crate::protocol::ProtocolSpec::from_table`]).
    pub protocols: BTreeMap<String, toml::Table>,
    pub matrix: MatrixSpec,
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    pub llm: LlmSettings,
    /// How people in `kind = "human"` seats are asked.
    #[serde(default)]
    pub human: HumanSettings,
    /// Where MCP seats (`kind = "mcp"`) are served.
    #[serde(default)]
    pub mcp: McpSettings,
    #[serde(default)]
    pub budget: BudgetConfig,
    #[serde(default)]
    pub generations: GenerationsSpec,
    #[serde(default)]
    pub analysis: AnalysisSpec,
}

/// `[analysis]`: the question the report answers. `reference` is the protocol every
/// other is compared with (default `none`, else the matrix's first protocol of kind
/// `none`, else its first protocol); `reference_population` the population every other
/// is compared with, within each protocol (default: the matrix's first).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_population: Option<String>,
}

/// `[generations]`: each replicate plays `count` games in sequence, each on a fresh sea
/// with fresh banks; at the end of a game every agent leaves a lesson for the next
/// captain of its team, and the next generation's agents see the lessons `inherit`
/// allows. Generations apply to the protocols listed in `protocols` (all by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerationsSpec {
    /// Games per replicate (1: no generations).
    pub count: u32,
    pub inherit: Inherit,
    /// Bound on a lesson in characters.
    pub lesson_chars: usize,
    /// The protocols whose cells play generations (all when omitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocols: Option<Vec<String>>,
}

impl Default for GenerationsSpec {
    fn default() -> Self {
        GenerationsSpec {
            count: 1,
            inherit: Inherit::Own,
            lesson_chars: 300,
            protocols: None,
        }
    }
}

impl GenerationsSpec {
    /// Whether the experiment plays no generations (the resolved configuration then
    /// leaves the table out, so manifests without generations stay as they were).
    pub fn is_off(&self) -> bool {
        self.count <= 1
    }

    /// How many generations a protocol's cells play.
    pub fn count_for(&self, protocol: &str) -> u32 {
        match &self.protocols {
            Some(list) if !list.iter().any(|p| p == protocol) => 1,
            _ => self.count.max(1),
        }
    }
}

// Whole numbers are read signed and checked by resolution, so that `years = -15` gets the
// same "must be between 1 and 200" as `years = 0`, never a type name.
fn default_years() -> i64 {
    20
}
fn one_u64() -> i64 {
    1
}
fn default_agents() -> i64 {
    6
}

/// `[game]`: the rule parameters, each defaulting to docs/DESIGN.md §3. Area tables may be given
/// in part (`[game.deep] cost = 300`). Serialized as the parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GameOverrides {
    pub params: GameParams,
    /// Whether the file set `initial_ships` (otherwise it follows the team count).
    pub initial_ships_given: bool,
    /// Whether the file set `initial_bank` (otherwise 200 × the initial ships).
    pub initial_bank_given: bool,
}

impl Serialize for GameOverrides {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl GameOverrides {
    /// The parameters for a game of `teams` teams: the initial fleet and bank follow the
    /// team count unless the file set them.
    pub fn for_teams(&self, teams: usize) -> GameParams {
        let mut p = self.params.clone();
        if !self.initial_ships_given {
            p.initial_ships = crate::engine::meadows_ships(teams);
        }
        if !self.initial_bank_given {
            p.initial_bank = 200 * p.initial_ships as i64;
        }
        p
    }
}

impl<'de> Deserialize<'de> for GameOverrides {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct AreaPart {
            max_stock: Option<i64>,
            initial_stock: Option<i64>,
            cost: Option<i64>,
            regen_scale: Option<f64>,
            catch_table: Option<Vec<f64>>,
        }
        impl AreaPart {
            fn apply(self, base: AreaParams) -> AreaParams {
                AreaParams {
                    max_stock: self.max_stock.unwrap_or(base.max_stock),
                    initial_stock: self.initial_stock.unwrap_or(base.initial_stock),
                    cost: self.cost.unwrap_or(base.cost),
                    regen_scale: self.regen_scale.unwrap_or(base.regen_scale),
                    catch_table: self.catch_table.unwrap_or(base.catch_table),
                }
            }
        }
        /// Mirrors `GameParams` with the areas optional and partial.
        #[derive(Deserialize)]
        struct Part {
            #[serde(default)]
            deep: Option<AreaPart>,
            #[serde(default)]
            coast: Option<AreaPart>,
            #[serde(flatten)]
            rest: toml::Table,
        }
        // `flatten` and `deny_unknown_fields` do not mix, so the rest is checked by
        // deserializing it into `GameParams` with the areas removed.
        let part = Part::deserialize(d)?;
        let initial_ships_given = part.rest.contains_key("initial_ships");
        let initial_bank_given = part.rest.contains_key("initial_bank");
        let defaults = GameParams::default();
        let mut params: GameParams = part
            .rest
            .try_into()
            .map_err(|e: toml::de::Error| serde::de::Error::custom(e.message()))?;
        params.deep = part.deep.unwrap_or_default().apply(defaults.deep);
        params.coast = part.coast.unwrap_or_default().apply(defaults.coast);
        Ok(GameOverrides {
            params,
            initial_ships_given,
            initial_bank_given,
        })
    }
}
