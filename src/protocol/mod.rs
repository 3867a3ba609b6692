//! Coordination protocols (docs/DESIGN.md §5), one file each.
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

mod a2a;
mod broadcast;
mod intentions;
mod leader;
mod ledger;
mod none;
mod quota;
mod regulator;
mod rep;
mod sanctions;
mod tac_vote;
mod talk;
mod text_budget;

pub use a2a::A2aSpec;
pub use broadcast::{BroadcastSpec, MessageOrder};
pub use leader::{Candidates, LeaderSpec, Powers, VoteRule};
pub use ledger::{LedgerSpec, Reporting};
pub use none::NoneSpec;
pub use quota::{Allocation, Enforcement, OnReject, QuotaSpec};
pub use regulator::{RegulatorSpec, TacRule};
pub use rep::RepSpec;
pub use sanctions::{over_share, SanctionsSpec};

pub use text_budget::{cut, published_chars, tokens_of, TextBudget};

use crate::agents::{Agent, AgentError};
use crate::engine::{Decision, GameParams, YearOutcome};
use crate::question::{
    Answer, Board, Observation, Pledge, PrivateView, Request, RequestKind, Response, SanctionRecord,
};
use crate::record::Event;
use async_trait::async_trait;
use futures::future::join_all;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A protocol with every switch resolved, tagged by its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProtocolSpec {
    None(NoneSpec),
    Broadcast(BroadcastSpec),
    Quota(QuotaSpec),
    Ledger(LedgerSpec),
    A2a(A2aSpec),
    Rep(RepSpec),
    Sanctions(SanctionsSpec),
    Leader(LeaderSpec),
    Regulator(RegulatorSpec),
}

pub use crate::spec::{check_range, SpecError};

/// The prompt section of a protocol: a template with `{{name}}` placeholders and the
/// facts that fill them, stated from the resolved switches.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSection {
    pub kind: &'static str,
    pub template: &'static str,
    pub facts: Vec<(&'static str, String)>,
}

/// What a protocol kind is, behind its switches: what the harness needs to know before
/// a run (validation, the requests it asks, its prompt section, its communication budget)
/// and the protocol it builds for each run. Implemented by each kind's `Spec`, in the
/// kind's own file.
pub trait ProtocolKind {
    /// The kind's name, as written in `kind = "..."` (the serde variant's name).
    fn kind(&self) -> &'static str;

    /// Ranges and combinations serde cannot check.
    fn validate(&self) -> Result<(), SpecError> {
        Ok(())
    }

    /// What a game of `teams` teams needs of the switches (checked when the experiment
    /// is read).
    fn check_teams(&self, _teams: usize) -> Result<(), SpecError> {
        Ok(())
    }

    /// The protocol of one run. `rng` is its own stream (speaking orders, tie-breaks);
    /// `params` are the game's rules.
    fn build(&self, rng: ChaCha8Rng, params: &Arc<GameParams>) -> Box<dyn Protocol>;

    /// Requests one agent of `teams` answers in an average year (repairs excluded), by
    /// kind (the dry-run estimate reads them).
    fn requests_per_year(&self, teams: usize) -> Vec<(RequestKind, f64)>;

    /// The protocol section of the LLM prompt: its template and the facts that fill it.
    fn prompt_section(&self) -> PromptSection;

    /// The communication budget switches (`None`: the protocol publishes no text).
    fn budget(&self) -> Option<&TextBudget> {
        None
    }

    fn budget_mut(&mut self) -> Option<&mut TextBudget> {
        None
    }

    /// The longest free text the protocol accepts in one item before any budget (`None`:
    /// it publishes no text).
    fn own_message_chars(&self) -> Option<usize> {
        None
    }

    /// Switches that have no effect given the others (a message bound without a talk
    /// round, a per-text bound a budget replaces): the report's Methods leave them out.
    fn idle_switches(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// A talk rounds' message bound is idle without talk rounds or under a budget.
fn idle_message_bound(talk_rounds: u32, budget: &TextBudget) -> Vec<&'static str> {
    if talk_rounds == 0 || budget.is_set() {
        vec!["max_message_chars"]
    } else {
        Vec::new()
    }
}

impl ProtocolSpec {
    /// The kind behind the switches: the one place that dispatches on the variant.
    pub fn rules(&self) -> &dyn ProtocolKind {
        match self {
            ProtocolSpec::None(s) => s,
            ProtocolSpec::Broadcast(s) => s,
            ProtocolSpec::Quota(s) => s,
            ProtocolSpec::Ledger(s) => s,
            ProtocolSpec::A2a(s) => s,
            ProtocolSpec::Rep(s) => s,
            ProtocolSpec::Sanctions(s) => s,
            ProtocolSpec::Leader(s) => s,
            ProtocolSpec::Regulator(s) => s,
        }
    }

    fn rules_mut(&mut self) -> &mut dyn ProtocolKind {
        match self {
            ProtocolSpec::None(s) => s,
            ProtocolSpec::Broadcast(s) => s,
            ProtocolSpec::Quota(s) => s,
            ProtocolSpec::Ledger(s) => s,
            ProtocolSpec::A2a(s) => s,
            ProtocolSpec::Rep(s) => s,
            ProtocolSpec::Sanctions(s) => s,
            ProtocolSpec::Leader(s) => s,
            ProtocolSpec::Regulator(s) => s,
        }
    }

    pub fn kind(&self) -> &'static str {
        self.rules().kind()
    }

    /// Every protocol kind, as serde lists them: read off the enum itself, so a new kind
    /// is never left out of a list (the prompt tests walk it).
    pub fn kinds() -> Vec<String> {
        crate::spec::tag_names::<ProtocolSpec>()
    }

    /// A protocol of `kind` with every switch at its default.
    pub fn default_of(kind: &str) -> Result<ProtocolSpec, SpecError> {
        let table =
            toml::Table::from_iter([("kind".to_string(), toml::Value::String(kind.into()))]);
        ProtocolSpec::from_table(&table)
    }

    /// The protocol's communication budget switches (`None`: it publishes no text).
    pub fn budget(&self) -> Option<&TextBudget> {
        self.rules().budget()
    }

    /// The protocol whose measured communication volume sets this one's budget
    /// (`match_tokens_of`), if any.
    pub fn matches_tokens_of(&self) -> Option<&str> {
        self.budget().and_then(|b| b.match_tokens_of.as_deref())
    }

    /// Set the budget a `match_tokens_of` protocol receives, measured on its reference:
    /// `tokens` per agent and year.
    pub fn set_matched_budget(&mut self, tokens: u64) {
        if let Some(b) = self.rules_mut().budget_mut() {
            b.matched_tokens = Some(tokens);
        }
    }

    /// The budget in force, in characters per agent and year (`None`: unbounded).
    pub fn budget_chars(&self) -> Option<usize> {
        self.budget().and_then(TextBudget::chars)
    }

    /// Read a `[protocols.NAME]` table: serde dispatches on `kind` (the variant names
    /// are the kinds) and each kind's switches are checked (unknown ones are errors),
    /// then validated.
    pub fn from_table(table: &toml::Table) -> Result<ProtocolSpec, SpecError> {
        let spec: ProtocolSpec = crate::spec::read_tagged(table, "protocol")?;
        spec.validate()?;
        Ok(spec)
    }

    /// Ranges and combinations serde cannot check.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.rules().validate()?;
        match self.budget() {
            Some(b) => b.validate(),
            None => Ok(()),
        }
    }

    /// The protocol of one run. `rng` is its own stream (sequential speaking orders);
    /// `params` are the game's rules (what over-use means under sanctions).
    pub fn build(&self, rng: ChaCha8Rng, params: &Arc<GameParams>) -> Box<dyn Protocol> {
        self.rules().build(rng, params)
    }

    /// Switches that have no effect given the others (see [`ProtocolKind::idle_switches`]).
    pub fn idle_switches(&self) -> Vec<&'static str> {
        self.rules().idle_switches()
    }

    /// Requests one agent answers in an average year (repairs excluded), by kind.
    pub fn requests_per_year(&self, teams: usize) -> Vec<(RequestKind, f64)> {
        self.rules().requests_per_year(teams)
    }

    /// The longest free text a talking protocol accepts in one item (`None`: it
    /// publishes no text). A budget in force bounds it too.
    pub fn message_chars(&self) -> Option<usize> {
        match (self.rules().own_message_chars(), self.budget_chars()) {
            (Some(own), Some(budget)) => Some(own.max(budget)),
            (own, _) => own,
        }
    }

    /// The protocol section of the LLM prompt. Every section states
    /// `{{budget_sentence}}`: the communication budget in force, or nothing.
    pub fn prompt_section(&self) -> PromptSection {
        let mut section = self.rules().prompt_section();
        let budget = self
            .budget_chars()
            .map(text_budget::sentence)
            .unwrap_or_default();
        section.facts.push(("budget_sentence", budget));
        section
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
    /// Characters of text each team may still publish this year, when a budget applies.
    pub text_left: Option<Vec<usize>>,
    /// Characters each team published this year (its items as others read them, see
    /// [`published_chars`]).
    pub talk_chars: Vec<usize>,
    /// Each team's latest announced intention this year (A2A, REP).
    pub intentions: Vec<Option<Decision>>,
    /// Money moved into (or, negative, out of) each team's bank in this year's step:
    /// last year's fines (sanctions).
    pub transfers: Vec<i64>,
    /// Fines imposed after this year (applied next year).
    pub fines: Vec<SanctionRecord>,
    /// The sea as it truly is at the start of the year: for institutions that compute
    /// from it (a regulator) or show it to one role (a leader's private information).
    pub sea: Sea,
    /// What only some teams are shown (their own view of the sea, by their role).
    pub private: Vec<Option<PrivateView>>,
    /// The team in office this year (`leader`), for the record.
    pub leader: Option<usize>,
    /// Each team sees only its own team's inherited lesson (`inherit = "own"`).
    pub own_lessons_only: bool,
}

/// The true state of the sea at the start of a year, which no agent sees unless a
/// protocol shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sea {
    /// Fish `[deep, coast]`.
    pub stock: [i64; 2],
    /// Capacity `[deep, coast]`.
    pub capacity: [i64; 2],
    /// Last year's regeneration and total catch (`None` before year 1).
    pub regeneration: Option<[i64; 2]>,
    pub catch: Option<i64>,
}

impl YearContext {
    /// The context of `year` before any protocol phase: the observations without a board,
    /// and what the protocol carried over from last year.
    pub fn new(year: u32, base: Vec<Observation>, board: Board, sea: Sea) -> YearContext {
        let teams = base.len();
        YearContext {
            year,
            base,
            board,
            quotas: vec![None; teams],
            quotas_binding: false,
            pledges: vec![None; teams],
            reported: vec![None; teams],
            events: Vec::new(),
            text_left: None,
            talk_chars: vec![0; teams],
            intentions: vec![None; teams],
            transfers: vec![0; teams],
            fines: Vec::new(),
            sea,
            private: vec![None; teams],
            leader: None,
            own_lessons_only: false,
        }
    }

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
        obs.board.text_budget_left = self.text_left.as_ref().map(|left| left[t]);
        if let Some(private) = self.private[t] {
            // A team that sees the sea exactly reasons from exact densities too.
            obs.own.private = Some(private);
            obs.public.density =
                Some([0, 1].map(|a| private.stock[a] as f64 / private.capacity[a].max(1) as f64));
        }
        if self.own_lessons_only {
            obs.board.lessons.retain(|l| l.team == t);
        }
        // A directed message is seen by its author and addressees only.
        obs.board.messages.retain(|m| m.visible_to(t));
        obs.board.earlier_messages.retain(|m| m.visible_to(t));
        obs
    }

    /// Every team's observation, in team order.
    pub fn observations(&self) -> Vec<Observation> {
        (0..self.teams()).map(|t| self.observation(t)).collect()
    }

    /// Count `chars` published characters for team `t` (and take them from its budget).
    pub fn charge(&mut self, t: usize, chars: usize) {
        self.talk_chars[t] += chars;
        if let Some(left) = self.text_left.as_mut() {
            left[t] = left[t].saturating_sub(chars);
        }
    }

    /// Open this year's budget: `chars` per team (`None`: no budget).
    pub fn open_budget(&mut self, chars: Option<usize>) {
        self.text_left = chars.map(|c| vec![c; self.teams()]);
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

/// As [`ask_each`], for the agents at `teams` only (ascending): a budget or a rule may
/// leave some out. Answers come back in the order of `teams`.
pub async fn ask_some(
    agents: &mut [Box<dyn Agent>],
    teams: &[usize],
    observations: &[Observation],
    requests: &[Request],
) -> Result<Vec<Answer>, AgentError> {
    let asked = agents.iter_mut().enumerate().filter_map(|(t, agent)| {
        let i = teams.iter().position(|x| *x == t)?;
        Some(agent.answer(&observations[i], &requests[i]))
    });
    join_all(asked).await.into_iter().collect()
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

/// The social-memory sentence of a prompt section (nothing without memory).
pub(crate) fn memory_sentence(years: u32, what: &str) -> String {
    match years {
        0 => String::new(),
        1 => format!(" You also see last year's {what}."),
        n => format!(" You also see the {what} of the last {n} years."),
    }
}

/// How a prompt states a number of rounds: "is 1 round", "are 2 rounds".
pub(crate) fn rounds_phrase(rounds: u32) -> String {
    if rounds == 1 {
        "is 1 round".to_string()
    } else {
        format!("are {rounds} rounds")
    }
}

pub(crate) use crate::question::fmt_num;

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
