//! The experiment file (DESIGN §7): schema, validation, and error messages that name the
//! file, line, column and field.
//!
//! Parsing happens in two passes. Serde (with `deny_unknown_fields`) catches syntax, type
//! errors and unknown fields, and toml reports where. [`ExperimentFile::validate`] then
//! checks ranges and cross-references and returns the dotted path of the offending field;
//! [`locate`] turns that path into a line and column using toml's spanned document.

use crate::agents::Strategy;
use crate::engine::{AreaParams, GameParams};
use crate::llm::{BudgetConfig, LlmSettings, ProviderConfig, ProviderKind};
use crate::protocol::{
    Allocation, Enforcement, MessageOrder, OnReject, ProtocolConfig, QuotaConfig, Reporting,
};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem with an experiment file, located in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column; `None` when the file could not be read at all.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted path of the field, e.g. `protocols.quota.approval`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Kinds of agent in a population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    #[default]
    Scripted,
    Llm,
}

/// One entry of a population: `count` identical agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    #[serde(default)]
    pub kind: AgentKind,
    /// Scripted agents: which strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// LLM agents: which `[providers.NAME]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// LLM agents: which persona (`greedy` is built in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    #[serde(default = "one_usize")]
    pub count: usize,
    /// Scripted agents: probability of a random decision instead of the strategy's, so
    /// that replicates differ.
    #[serde(default)]
    pub tremble: f64,
}

fn one_usize() -> usize {
    1
}

/// A named population: the agents that play, in team order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub agents: Vec<AgentSpec>,
}

impl PopulationSpec {
    /// One spec per team (counts expanded).
    pub fn expanded(&self) -> Vec<AgentSpec> {
        self.agents
            .iter()
            .flat_map(|a| {
                std::iter::repeat_n(
                    AgentSpec {
                        count: 1,
                        ..a.clone()
                    },
                    a.count,
                )
            })
            .collect()
    }
}

/// Protocol kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolKind {
    None,
    Broadcast,
    Quota,
    Ledger,
}

/// A named protocol as written: its kind and the switches it changes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    pub kind: Option<ProtocolKind>,
    pub rounds: Option<u32>,
    pub order: Option<MessageOrder>,
    pub max_message_chars: Option<usize>,
    pub every_years: Option<u32>,
    pub talk_rounds: Option<u32>,
    pub approval: Option<f64>,
    pub allocation: Option<Allocation>,
    pub enforcement: Option<Enforcement>,
    pub on_reject: Option<OnReject>,
    pub reporting: Option<Reporting>,
    pub window: Option<u32>,
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
    pub years: u32,
    /// Replicates per cell.
    pub seeds: u32,
    /// Seed of the first replicate; replicate k uses `first_seed + k` in every cell, so
    /// cells are compared on common random numbers.
    #[serde(default = "one_u64")]
    pub first_seed: u64,
    /// Teams per game.
    #[serde(default = "default_agents")]
    pub agents: usize,
    #[serde(default)]
    pub game: GameOverrides,
    pub populations: BTreeMap<String, PopulationSpec>,
    pub protocols: BTreeMap<String, ProtocolSpec>,
    pub matrix: MatrixSpec,
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    pub llm: LlmSettings,
    #[serde(default)]
    pub budget: BudgetConfig,
}

fn default_years() -> u32 {
    20
}
fn one_u64() -> u64 {
    1
}
fn default_agents() -> usize {
    6
}

/// `[game]`: the rule parameters, each defaulting to DESIGN §3. Area tables may be given
/// in part (`[game.deep] cost = 300`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GameOverrides(pub GameParams);

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
        let defaults = GameParams::default();
        let mut params: GameParams = part
            .rest
            .try_into()
            .map_err(|e: toml::de::Error| serde::de::Error::custom(e.message()))?;
        params.deep = part.deep.unwrap_or_default().apply(defaults.deep);
        params.coast = part.coast.unwrap_or_default().apply(defaults.coast);
        Ok(GameOverrides(params))
    }
}

/// A validation failure: the dotted path of the field and what is wrong.
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
    if value < lo || value > hi {
        Err(invalid(
            path,
            format!("must be between {lo} and {hi}, got {value}"),
        ))
    } else {
        Ok(())
    }
}

/// Which switches each protocol kind accepts.
fn switches_of(kind: ProtocolKind) -> &'static [&'static str] {
    match kind {
        ProtocolKind::None => &[],
        ProtocolKind::Broadcast => &["rounds", "order", "max_message_chars"],
        ProtocolKind::Quota => &[
            "every_years",
            "talk_rounds",
            "max_message_chars",
            "approval",
            "allocation",
            "enforcement",
            "on_reject",
        ],
        ProtocolKind::Ledger => &["reporting", "window"],
    }
}

impl ProtocolSpec {
    /// The switches that are set, by name.
    fn set_switches(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        let flags: [(&'static str, bool); 11] = [
            ("rounds", self.rounds.is_some()),
            ("order", self.order.is_some()),
            ("max_message_chars", self.max_message_chars.is_some()),
            ("every_years", self.every_years.is_some()),
            ("talk_rounds", self.talk_rounds.is_some()),
            ("approval", self.approval.is_some()),
            ("allocation", self.allocation.is_some()),
            ("enforcement", self.enforcement.is_some()),
            ("on_reject", self.on_reject.is_some()),
            ("reporting", self.reporting.is_some()),
            ("window", self.window.is_some()),
        ];
        for (name, is_set) in flags {
            if is_set {
                set.push(name);
            }
        }
        set
    }

    /// Validate the switches of protocol `name` and resolve them with their defaults.
    pub fn resolve(&self, name: &str) -> Result<ProtocolConfig, Invalid> {
        let base = format!("protocols.{name}");
        let kind = self.kind.ok_or_else(|| {
            invalid(
                format!("{base}.kind"),
                "missing: one of none, broadcast, quota, ledger",
            )
        })?;
        let allowed = switches_of(kind);
        for switch in self.set_switches() {
            if !allowed.contains(&switch) {
                return Err(invalid(
                    format!("{base}.{switch}"),
                    format!(
                        "does not apply to a protocol of kind `{kind:?}`",
                        kind = kind
                    )
                    .to_lowercase(),
                ));
            }
        }
        let chars = self.max_message_chars.unwrap_or(600);
        check_range(&format!("{base}.max_message_chars"), chars, 1, 100_000)?;
        Ok(match kind {
            ProtocolKind::None => ProtocolConfig::None,
            ProtocolKind::Broadcast => {
                let rounds = self.rounds.unwrap_or(1);
                check_range(&format!("{base}.rounds"), rounds, 1, 20)?;
                ProtocolConfig::Broadcast {
                    rounds,
                    order: self.order.unwrap_or_default(),
                    max_message_chars: chars,
                }
            }
            ProtocolKind::Quota => {
                let d = QuotaConfig::default();
                let q = QuotaConfig {
                    every_years: self.every_years.unwrap_or(d.every_years),
                    talk_rounds: self.talk_rounds.unwrap_or(d.talk_rounds),
                    max_message_chars: chars,
                    approval: self.approval.unwrap_or(d.approval),
                    allocation: self.allocation.unwrap_or(d.allocation),
                    enforcement: self.enforcement.unwrap_or(d.enforcement),
                    on_reject: self.on_reject.unwrap_or(d.on_reject),
                };
                check_range(&format!("{base}.every_years"), q.every_years, 1, 200)?;
                check_range(&format!("{base}.talk_rounds"), q.talk_rounds, 0, 20)?;
                if !(q.approval > 0.0 && q.approval <= 1.0) {
                    return Err(invalid(
                        format!("{base}.approval"),
                        format!("must be a share in (0, 1], got {}", q.approval),
                    ));
                }
                ProtocolConfig::Quota(q)
            }
            ProtocolKind::Ledger => {
                let window = self.window.unwrap_or(5);
                check_range(&format!("{base}.window"), window, 1, 200)?;
                ProtocolConfig::Ledger {
                    reporting: self.reporting.unwrap_or_default(),
                    window,
                }
            }
        })
    }
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

const BUILTIN_PERSONAS: &[&str] = &["greedy"];

impl ExperimentFile {
    /// Check ranges and cross-references. Returns the first problem found.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || self.name.starts_with('.')
        {
            return Err(invalid("name", "must be a non-empty name of letters, digits, '-', '_' or '.' (it names the output directory)"));
        }
        check_range("years", self.years, 1, 200)?;
        check_range("seeds", self.seeds, 1, 1_000_000)?;
        check_range("agents", self.agents, 1, 50)?;
        validate_game(&self.game.0)?;
        for (name, provider) in &self.providers {
            self.validate_provider(name, provider)?;
        }
        for (name, population) in &self.populations {
            self.validate_population(name, population)?;
        }
        for (name, protocol) in &self.protocols {
            protocol.resolve(name)?;
        }
        self.validate_matrix()
    }

    fn validate_provider(&self, name: &str, p: &ProviderConfig) -> Result<(), Invalid> {
        let base = format!("providers.{name}");
        if p.kind == ProviderKind::Openai && p.model.is_none() {
            return Err(invalid(format!("{base}.model"), "missing: the model name"));
        }
        // The provider's own checks (no literal keys, URL, ranges); their message names
        // the offending setting.
        p.validate(name).map_err(|e| {
            let message = e.to_string();
            let field = [
                "api_key_env",
                "api_key",
                "base_url",
                "timeout_s",
                "max_concurrency",
                "requests_per_minute",
                "noise",
                "price_in_per_mtok",
            ]
            .into_iter()
            .find(|f| message.contains(&format!("`{f}`")));
            invalid(
                field.map_or(base.clone(), |f| format!("{base}.{f}")),
                message,
            )
        })
    }

    fn validate_population(&self, name: &str, population: &PopulationSpec) -> Result<(), Invalid> {
        let base = format!("populations.{name}");
        for (i, agent) in population.agents.iter().enumerate() {
            let p = format!("{base}.agents.{i}");
            check_range(&format!("{p}.count"), agent.count, 1, 50)?;
            check_range(&format!("{p}.tremble"), agent.tremble, 0.0, 1.0)?;
            match agent.kind {
                AgentKind::Scripted => {
                    if agent.strategy.is_none() {
                        return Err(invalid(format!("{p}.strategy"), "missing: a scripted agent needs a strategy (greedy, fixed, sustainable, random, reciprocal, quota_follower)"));
                    }
                    if agent.provider.is_some() {
                        return Err(invalid(
                            format!("{p}.provider"),
                            "only LLM agents (kind = \"llm\") have a provider",
                        ));
                    }
                    if agent.persona.is_some() {
                        return Err(invalid(
                            format!("{p}.persona"),
                            "only LLM agents (kind = \"llm\") have a persona",
                        ));
                    }
                }
                AgentKind::Llm => {
                    if agent.strategy.is_some() {
                        return Err(invalid(
                            format!("{p}.strategy"),
                            "only scripted agents have a strategy",
                        ));
                    }
                    let provider = agent.provider.as_deref().ok_or_else(|| {
                        invalid(
                            format!("{p}.provider"),
                            "missing: an LLM agent names a [providers.NAME] block",
                        )
                    })?;
                    if !self.providers.contains_key(provider) {
                        return Err(invalid(
                            format!("{p}.provider"),
                            format!("no [providers.{provider}] block in this file"),
                        ));
                    }
                    let persona = agent.persona.as_deref().unwrap_or("greedy");
                    if !BUILTIN_PERSONAS.contains(&persona)
                        && !self.llm.personas.contains_key(persona)
                    {
                        return Err(invalid(
                            format!("{p}.persona"),
                            format!("unknown persona `{persona}`: define it in [llm.personas]"),
                        ));
                    }
                }
            }
        }
        let total: usize = population.agents.iter().map(|a| a.count).sum();
        if total != self.agents {
            return Err(invalid(
                format!("{base}.agents"),
                format!(
                    "has {total} agents but the experiment plays with agents = {}",
                    self.agents
                ),
            ));
        }
        Ok(())
    }

    fn validate_matrix(&self) -> Result<(), Invalid> {
        let lists: [(&str, &Vec<String>, Vec<&String>); 2] = [
            (
                "protocol",
                &self.matrix.protocol,
                self.protocols.keys().collect(),
            ),
            (
                "population",
                &self.matrix.population,
                self.populations.keys().collect(),
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
}

/// Parse and validate an experiment file's text. `file` is only used in messages.
pub fn parse(file: &Path, text: &str) -> Result<ExperimentFile, ConfigError> {
    let parsed: ExperimentFile = toml::from_str(text).map_err(|e| {
        let span = e.span();
        let field = missing_field(e.message(), span.clone().and_then(|s| field_at(text, s)))
            .or_else(|| {
                let s = span.clone()?;
                field_at(text, s.clone()).or_else(|| field_on_line(text, s.start))
            });
        located(file, text, span, field, e.message().to_string())
    })?;
    parsed.validate().map_err(|inv| {
        let span = locate(text, &inv.path);
        located(file, text, span, Some(inv.path), inv.message)
    })?;
    Ok(parsed)
}

/// Read, parse and validate an experiment file.
pub fn load(file: &Path) -> Result<(ExperimentFile, String), ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        field: None,
        message: format!("cannot read the file: {e}"),
    })?;
    let parsed = parse(file, &text)?;
    Ok((parsed, text))
}

fn located(
    file: &Path,
    text: &str,
    span: Option<Range<usize>>,
    field: Option<String>,
    message: String,
) -> ConfigError {
    let (line, column) = match span {
        Some(s) => {
            let (l, c) = line_column(text, s.start);
            (Some(l), Some(c))
        }
        None => (Some(1), Some(1)),
    };
    ConfigError {
        file: file.to_path_buf(),
        line,
        column,
        field,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The span of the key at a dotted path (numeric segments index arrays). Falls back to
/// the deepest key on the path that exists, so an error about a missing field points at
/// the table that lacks it.
pub fn locate(text: &str, path: &str) -> Option<Range<usize>> {
    use toml::de::{DeTable, DeValue};
    fn walk(
        value: &DeValue,
        segments: &[&str],
        best: Option<Range<usize>>,
    ) -> Option<Range<usize>> {
        let Some((segment, rest)) = segments.split_first() else {
            return best;
        };
        let next = match value {
            DeValue::Table(table) => table
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == *segment)
                .map(|(k, v)| (k.span(), v)),
            DeValue::Array(array) => segment
                .parse::<usize>()
                .ok()
                .and_then(|i| array.get(i))
                .map(|v| (v.span(), v)),
            _ => None,
        };
        match next {
            Some((span, v)) => walk(v.get_ref(), rest, Some(span)),
            None => best,
        }
    }
    let doc = DeTable::parse(text).ok()?;
    let segments: Vec<&str> = path.split('.').collect();
    walk(&DeValue::Table(doc.into_inner()), &segments, None)
}

/// For "missing field `x`" errors: the path of the missing field, under the table the
/// error points at (if any).
fn missing_field(message: &str, table: Option<String>) -> Option<String> {
    let name = message.strip_prefix("missing field `")?.split('`').next()?;
    Some(match table {
        Some(t) => format!("{t}.{name}"),
        None => name.to_string(),
    })
}

/// The field written on the line of `offset`, prefixed by the table it is in. For syntax
/// errors, where the document cannot be parsed into spans: a plain reading of the lines.
fn field_on_line(text: &str, offset: usize) -> Option<String> {
    let (line_no, _) = line_column(text, offset);
    let lines: Vec<&str> = text.lines().collect();
    let line = lines.get(line_no - 1)?.trim();
    let table = lines[..line_no - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    if line.starts_with('[') {
        return Some(
            line.trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string(),
        );
    }
    let key = line.split('=').next()?.trim();
    if key.is_empty() || key.starts_with('#') {
        return table;
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

/// The dotted path of the deepest key whose key or value contains `span` (type errors
/// do not name the field). Searches the whole document: a `[table]` header's span does
/// not cover the table's contents, so spans cannot guide the descent.
fn field_at(text: &str, span: Range<usize>) -> Option<String> {
    use toml::de::{DeTable, DeValue};
    fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
        outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
    }
    fn walk(value: &DeValue, span: &Range<usize>, path: &mut Vec<String>, best: &mut Vec<String>) {
        let mut visit =
            |segment: String, spans: &[Range<usize>], child: &DeValue, best: &mut Vec<String>| {
                path.push(segment);
                if spans.iter().any(|s| covers(s, span)) && path.len() > best.len() {
                    *best = path.clone();
                }
                walk(child, span, path, best);
                path.pop();
            };
        match value {
            DeValue::Table(table) => {
                for (k, v) in table.iter() {
                    visit(
                        k.get_ref().to_string(),
                        &[k.span(), v.span()],
                        v.get_ref(),
                        best,
                    );
                }
            }
            DeValue::Array(array) => {
                for (i, v) in array.iter().enumerate() {
                    visit(i.to_string(), &[v.span()], v.get_ref(), best);
                }
            }
            _ => {}
        }
    }
    if span.is_empty() {
        return None;
    }
    let doc = DeTable::parse(text).ok()?;
    let mut best = Vec::new();
    walk(
        &DeValue::Table(doc.into_inner()),
        &span,
        &mut Vec::new(),
        &mut best,
    );
    (!best.is_empty()).then(|| best.join("."))
}
