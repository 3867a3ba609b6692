//! Coordination protocols (DESIGN §5), one file each.
//!
//! A protocol is a sequence of phases before the engine step (talk, propose, vote,
//! pledge) plus what it publishes after the step (a ledger, quota violations). It decides
//! which requests agents are asked and what they see on the [`Board`]; it never computes
//! fish dynamics. A quota that a protocol makes binding reaches the engine through
//! [`YearContext::quotas`].
//!
//! Each protocol's file owns its whole life: the TOML switches (a `Spec` struct with
//! serde defaults and its validation), the requests it asks per year (the dry-run
//! estimate reads them), the facts and template of its prompt section, what it publishes
//! and the events it adds. This file only dispatches on the kind; see "Adding a
//! protocol" in `CONTRIBUTING.md`.

mod broadcast;
mod ledger;
mod none;
mod quota;
mod talk;

pub use broadcast::{BroadcastSpec, MessageOrder};
pub use ledger::{LedgerSpec, Reporting};
pub use none::NoneSpec;
pub use quota::{Allocation, Enforcement, OnReject, QuotaSpec};

use crate::agents::{
    Agent, AgentError, Answer, Board, Observation, Pledge, Request, RequestKind, Response,
};
use crate::engine::YearOutcome;
use crate::record::Event;
use async_trait::async_trait;
use futures::future::join_all;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A protocol with every switch resolved, tagged by its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProtocolSpec {
    None(NoneSpec),
    Broadcast(BroadcastSpec),
    Quota(QuotaSpec),
    Ledger(LedgerSpec),
}

/// A problem with a protocol's switches. `field` is relative to the protocol's table
/// (`rounds`, `kind`); the experiment prefixes `protocols.NAME.`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    pub field: String,
    pub message: String,
}

impl SpecError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `Err` unless `lo ≤ value ≤ hi`.
pub(crate) fn check_range<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), SpecError> {
    if value < lo || value > hi {
        Err(SpecError::new(
            field,
            format!("must be between {lo} and {hi}, got {value}"),
        ))
    } else {
        Ok(())
    }
}

/// The prompt section of a protocol: a template with `{{name}}` placeholders and the
/// facts that fill them, stated from the resolved switches.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSection {
    pub kind: &'static str,
    pub template: &'static str,
    pub facts: Vec<(&'static str, String)>,
}

impl ProtocolSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolSpec::None(_) => "none",
            ProtocolSpec::Broadcast(_) => "broadcast",
            ProtocolSpec::Quota(_) => "quota",
            ProtocolSpec::Ledger(_) => "ledger",
        }
    }

    /// Read a `[protocols.NAME]` table: serde dispatches on `kind` (the variant names
    /// are the kinds) and each kind's switches are checked (unknown ones are errors),
    /// then validated.
    pub fn from_table(table: &toml::Table) -> Result<ProtocolSpec, SpecError> {
        let spec = ProtocolSpec::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| spec_error(table, e.message()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Ranges and combinations serde cannot check.
    pub fn validate(&self) -> Result<(), SpecError> {
        match self {
            ProtocolSpec::None(_) => Ok(()),
            ProtocolSpec::Broadcast(s) => s.validate(),
            ProtocolSpec::Quota(s) => s.validate(),
            ProtocolSpec::Ledger(s) => s.validate(),
        }
    }

    /// The protocol of one run. `rng` is its own stream (sequential speaking orders).
    pub fn build(&self, rng: ChaCha8Rng) -> Box<dyn Protocol> {
        match self {
            ProtocolSpec::None(_) => Box::new(none::NoProtocol),
            ProtocolSpec::Broadcast(s) => Box::new(broadcast::Broadcast::new(s.clone(), rng)),
            ProtocolSpec::Quota(s) => Box::new(quota::QuotaProtocol::new(s.clone(), rng)),
            ProtocolSpec::Ledger(s) => Box::new(ledger::Ledger::new(s.clone())),
        }
    }

    /// Requests one agent answers in an average year (repairs excluded), by kind.
    pub fn requests_per_year(&self) -> Vec<(RequestKind, f64)> {
        match self {
            ProtocolSpec::None(_) => vec![(RequestKind::Decision, 1.0)],
            ProtocolSpec::Broadcast(s) => s.requests_per_year(),
            ProtocolSpec::Quota(s) => s.requests_per_year(),
            ProtocolSpec::Ledger(s) => s.requests_per_year(),
        }
    }

    /// The longest message a talking protocol accepts (`None`: it does not talk).
    pub fn message_chars(&self) -> Option<usize> {
        match self {
            ProtocolSpec::None(_) | ProtocolSpec::Ledger(_) => None,
            ProtocolSpec::Broadcast(s) => Some(s.max_message_chars),
            ProtocolSpec::Quota(s) => (s.talk_rounds > 0).then_some(s.max_message_chars),
        }
    }

    /// The protocol section of the LLM prompt.
    pub fn prompt_section(&self) -> PromptSection {
        match self {
            ProtocolSpec::None(_) => none::prompt_section(),
            ProtocolSpec::Broadcast(s) => s.prompt_section(),
            ProtocolSpec::Quota(s) => s.prompt_section(),
            ProtocolSpec::Ledger(s) => s.prompt_section(),
        }
    }
}

/// Name the switch a deserialization error is about. Serde names unknown fields,
/// unknown kinds and a missing kind; a type error names no field, so the culprit is the
/// switch whose removal (it then takes its default) makes the table valid.
fn spec_error(table: &toml::Table, message: &str) -> SpecError {
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(field) = named("unknown field `") {
        let kind = table.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
        return SpecError::new(
            field,
            format!("does not apply to a protocol of kind `{kind}` ({message})"),
        );
    }
    if message.starts_with("unknown variant") {
        return SpecError::new("kind", format!("unknown protocol kind: {message}"));
    }
    if message.starts_with("missing field `kind`") {
        return SpecError::new("kind", format!("missing: one of {}", kinds()));
    }
    let culprit = table.keys().filter(|k| *k != "kind").find(|key| {
        let mut without = table.clone();
        without.remove(*key);
        ProtocolSpec::deserialize(toml::Value::Table(without)).is_ok()
    });
    SpecError::new(culprit.map_or("kind", String::as_str), message)
}

/// The protocol kinds, as serde lists them (`` `none`, `broadcast` or … ``): read off
/// the enum itself, so the list cannot go stale.
fn kinds() -> String {
    let probe = toml::Table::from_iter([("kind".to_string(), toml::Value::String(String::new()))]);
    match ProtocolSpec::deserialize(toml::Value::Table(probe)) {
        Err(e) => e
            .message()
            .split_once("expected ")
            .map_or(String::new(), |(_, kinds)| kinds.to_string()),
        Ok(_) => String::new(),
    }
}

/// Everything about the year being played that protocols read and write.
pub struct YearContext {
    /// The (1-based) year being played.
    pub year: u32,
    /// Per-team observations without the board (filled in by [`YearContext::observation`]).
    pub base: Vec<Observation>,
    /// What the protocol has published so far this year.
    pub board: Board,
    /// Each team's quota this year (published; binding or advisory).
    pub quotas: Vec<Option<i64>>,
    /// Whether `quotas` are enforced by the engine.
    pub quotas_binding: bool,
    /// This year's pledges, by team.
    pub pledges: Vec<Option<Pledge>>,
    /// Catch each team declared after the year (self-reported ledger).
    pub reported: Vec<Option<i64>>,
    /// Events of this year, in order.
    pub events: Vec<Event>,
}

impl YearContext {
    pub fn teams(&self) -> usize {
        self.base.len()
    }

    /// What team `t` sees now: its own view, the public facts and the board, with its own
    /// quota filled in.
    pub fn observation(&self, t: usize) -> Observation {
        let mut obs = self.base[t].clone();
        obs.board = self.board.clone();
        if let Some(q) = obs.board.quota.as_mut() {
            q.my_quota = self.quotas[t];
        }
        obs
    }

    /// Every team's observation, in team order.
    pub fn observations(&self) -> Vec<Observation> {
        (0..self.teams()).map(|t| self.observation(t)).collect()
    }

    /// Record an event of this year.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Record the start of a phase.
    pub fn phase(&mut self, phase: impl Into<String>) {
        let year = self.year;
        self.events.push(Event::Phase {
            year,
            phase: phase.into(),
        });
    }
}

/// Ask every agent the same question at once, each with its own observation, and collect
/// the answers in agent order, so the order in which answers arrive never matters.
pub async fn ask_all(
    agents: &mut [Box<dyn Agent>],
    observations: &[Observation],
    request: &Request,
) -> Result<Vec<Answer>, AgentError> {
    let answers = join_all(
        agents
            .iter_mut()
            .zip(observations)
            .map(|(a, o)| a.answer(o, request)),
    )
    .await;
    answers.into_iter().collect()
}

/// As [`ask_all`], with a request of its own for each agent.
pub async fn ask_each(
    agents: &mut [Box<dyn Agent>],
    observations: &[Observation],
    requests: &[Request],
) -> Result<Vec<Answer>, AgentError> {
    let answers = join_all(
        agents
            .iter_mut()
            .zip(observations)
            .zip(requests)
            .map(|((a, o), r)| a.answer(o, r)),
    )
    .await;
    answers.into_iter().collect()
}

/// The error for an answer of the wrong kind.
pub fn wrong_kind(team: usize, year: u32, asked: RequestKind, got: &Response) -> AgentError {
    AgentError::WrongKind {
        agent: team,
        year,
        asked,
        got: got.kind(),
    }
}

/// A coordination protocol: phases around the engine step.
#[async_trait]
pub trait Protocol: Send {
    /// Phases before the decision. May publish on the board, set quotas and pledges.
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError>;

    /// After the engine step: what the protocol publishes for the next year (nothing by
    /// default). `after` holds each team's observation after the year (for report
    /// requests).
    async fn after_year(
        &mut self,
        _year: &mut YearContext,
        _outcome: &YearOutcome,
        _after: &[Observation],
        _agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        Ok(())
    }
}

/// A number as a prompt states it: without a trailing `.0` when it is whole.
pub(crate) fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn tables_dispatch_on_kind_with_defaults() {
        let spec = ProtocolSpec::from_table(&table("kind = \"broadcast\"\nrounds = 2")).unwrap();
        assert_eq!(
            spec,
            ProtocolSpec::Broadcast(BroadcastSpec {
                rounds: 2,
                ..BroadcastSpec::default()
            })
        );
        assert_eq!(spec.kind(), "broadcast");
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["kind"], "broadcast");
        assert_eq!(json["max_message_chars"], 600);
    }

    #[test]
    fn errors_name_the_switch() {
        let err = ProtocolSpec::from_table(&table("kind = \"quota\"\nrounds = 2")).unwrap_err();
        assert_eq!(err.field, "rounds");
        assert!(err.message.contains("kind `quota`"), "{}", err.message);
        let err = ProtocolSpec::from_table(&table("kind = \"quota\"\napproval = 2.0")).unwrap_err();
        assert_eq!(err.field, "approval");
        let err =
            ProtocolSpec::from_table(&table("kind = \"ledger\"\nwindow = \"x\"")).unwrap_err();
        assert_eq!(err.field, "window");
        let err = ProtocolSpec::from_table(&table("rounds = 1")).unwrap_err();
        assert_eq!(err.field, "kind");
        assert!(err.message.contains("`quota`"), "{}", err.message);
        let err = ProtocolSpec::from_table(&table("kind = \"telepathy\"")).unwrap_err();
        assert!(err.message.contains("telepathy") && err.message.contains("ledger"));
        assert_eq!(err.field, "kind");
    }
}
