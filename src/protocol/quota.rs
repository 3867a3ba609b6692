//! `quota`: negotiated total allowable catch (TAC).
//!
//! Every `every_years` years: optional talk rounds, then every team proposes a TAC for the
//! year about to be played; the harness publishes the proposals and their median; every
//! team votes on the median, which is adopted when the accept share reaches `approval`.
//! The TAC is split into team quotas and holds until the next negotiation.

use super::tac_vote::vote_on_tac;
use super::talk::{talk, Talk};
use super::{
    ask_all, check_range, fmt_num, wrong_kind, MessageOrder, PromptSection, Protocol, ProtocolKind,
    SpecError, TextBudget, YearContext,
};
use crate::agents::{Agent, AgentError};
use crate::engine::GameParams;
use crate::engine::YearOutcome;
use crate::question::{
    Observation, ProposalQuestion, QuotaBoard, QuotaViolation, Request, RequestKind, Response,
};
use crate::record::Event;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How a total allowable catch is split into team quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// `floor(TAC / N)` each.
    #[default]
    Equal,
    /// `floor(TAC · ships_t / Σ ships)`.
    Fleet,
}

/// Whether the engine enforces quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// The engine caps each team's catch at its quota (docs/DESIGN.md §3 step 5).
    #[default]
    Binding,
    /// Published only; violations are recorded and shown to all next year.
    Advisory,
}

/// What holds when a negotiation fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnReject {
    /// No quota until the next negotiation.
    #[default]
    None,
    /// The last adopted TAC stays in force.
    Previous,
}

/// Switches of the negotiated-quota protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaSpec {
    /// Negotiate every this many years (1 = every year).
    pub every_years: u32,
    /// Message rounds before the proposals.
    pub talk_rounds: u32,
    /// Bound on each message's length in characters.
    pub max_message_chars: usize,
    /// Accept share needed to adopt the median (1.0 = unanimity).
    pub approval: f64,
    pub allocation: Allocation,
    pub enforcement: Enforcement,
    pub on_reject: OnReject,
    /// A communication budget for the talk rounds (token-matched control).
    #[serde(flatten)]
    pub budget: TextBudget,
}

impl Default for QuotaSpec {
    fn default() -> Self {
        QuotaSpec {
            every_years: 1,
            talk_rounds: 0,
            max_message_chars: 600,
            approval: 0.5,
            allocation: Allocation::Equal,
            enforcement: Enforcement::Binding,
            on_reject: OnReject::None,
            budget: TextBudget::default(),
        }
    }
}

impl ProtocolKind for QuotaSpec {
    fn idle_switches(&self) -> Vec<&'static str> {
        super::idle_message_bound(self.talk_rounds, &self.budget)
    }

    fn kind(&self) -> &'static str {
        "quota"
    }

    fn build(&self, rng: ChaCha8Rng, _params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(QuotaProtocol::new(self.clone(), rng))
    }

    fn budget(&self) -> Option<&TextBudget> {
        Some(&self.budget)
    }

    fn budget_mut(&mut self) -> Option<&mut TextBudget> {
        Some(&mut self.budget)
    }

    fn own_message_chars(&self) -> Option<usize> {
        (self.talk_rounds > 0).then_some(self.max_message_chars)
    }

    fn validate(&self) -> Result<(), SpecError> {
        check_range("every_years", self.every_years, 1, 200)?;
        check_range("talk_rounds", self.talk_rounds, 0, 20)?;
        check_range("max_message_chars", self.max_message_chars, 1, 100_000)?;
        if !(self.approval > 0.0 && self.approval <= 1.0) {
            return Err(SpecError::new(
                "approval",
                format!("must be a share in (0, 1], got {}", self.approval),
            ));
        }
        Ok(())
    }

    fn requests_per_year(&self, _teams: usize) -> Vec<(RequestKind, f64)> {
        let every = self.every_years.max(1) as f64;
        vec![
            (RequestKind::Message, self.talk_rounds as f64 / every),
            (RequestKind::Proposal, 1.0 / every),
            (RequestKind::Vote, 1.0 / every),
            (RequestKind::Decision, 1.0),
        ]
    }

    fn prompt_section(&self) -> PromptSection {
        let (enforcement, enforcement_phrase) = match self.enforcement {
            Enforcement::Advisory => ("advisory", "quotas are published but not enforced; over-fishing is recorded and shown to all next year."),
            Enforcement::Binding => ("binding", "the game stops each team's catch at its quota; fish not caught stay in the sea."),
        };
        let allocation = match self.allocation {
            Allocation::Equal => "equal",
            Allocation::Fleet => "fleet",
        };
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_quota.md"),
            facts: vec![
                ("every_years", self.every_years.to_string()),
                ("approval_pct", fmt_num(self.approval * 100.0)),
                ("allocation", allocation.to_string()),
                ("enforcement", enforcement.to_string()),
                ("enforcement_phrase", enforcement_phrase.to_string()),
                ("talk_sentence", self.talk_sentence()),
            ],
        }
    }
}

impl QuotaSpec {
    /// The talk rounds as the prompt states them (nothing without talk rounds).
    fn talk_sentence(&self) -> String {
        match self.talk_rounds {
            0 => String::new(),
            rounds => format!(
                " first {rounds} round(s) of public messages (every team may write one message of at most {} characters a round, attributed by the harness), then",
                self.budget.bound(self.max_message_chars)
            ),
        }
    }
}

pub struct QuotaProtocol {
    spec: QuotaSpec,
    rng: ChaCha8Rng,
    /// The TAC in force (adopted at the last negotiation, or carried over).
    tac: Option<i64>,
    /// Advisory quotas broken last year.
    violations: Vec<QuotaViolation>,
}

impl QuotaProtocol {
    pub fn new(spec: QuotaSpec, rng: ChaCha8Rng) -> Self {
        QuotaProtocol {
            spec,
            rng,
            tac: None,
            violations: Vec::new(),
        }
    }

    fn negotiates_in(&self, year: u32) -> bool {
        (year - 1).is_multiple_of(self.spec.every_years.max(1))
    }

    async fn negotiate(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let y = year.year;
        year.open_budget(self.spec.budget.chars());
        let how = Talk {
            rounds: self.spec.talk_rounds,
            order: MessageOrder::Simultaneous,
            max_chars: self
                .spec
                .budget
                .chars()
                .unwrap_or(self.spec.max_message_chars),
            directed: false,
        };
        talk(year, agents, how, &mut self.rng).await?;

        year.phase("proposal");
        let observations = year.observations();
        let answers = ask_all(agents, &observations, &Request::Proposal(ProposalQuestion)).await?;
        // A fallback proposal is an abstention: left out of the median, never a number.
        let mut proposals: Vec<Option<i64>> = Vec::with_capacity(answers.len());
        for (team, answer) in answers.into_iter().enumerate() {
            match answer.response {
                Response::Proposal(_) if answer.fallback => proposals.push(None),
                Response::Proposal(tac) => proposals.push(Some(tac.max(0))),
                other => return Err(wrong_kind(team, y, RequestKind::Proposal, &other)),
            }
        }
        for (team, &tac) in proposals.iter().enumerate() {
            year.push(Event::Proposal { year: y, team, tac });
        }
        let made: Vec<i64> = proposals.iter().flatten().copied().collect();
        let median = median(&made);
        if let Some(board) = year.board.quota.as_mut() {
            board.proposals = Some(proposals);
            board.median = median;
        }

        year.phase("vote");
        // No proposal, no vote: nothing is adopted.
        let accept_share = match median {
            Some(tac) => vote_on_tac(year, agents, tac).await?,
            None => 0.0,
        };
        let adopted = median.is_some() && accept_share >= self.spec.approval;
        self.tac = match (adopted, self.spec.on_reject) {
            (true, _) => median,
            (false, OnReject::Previous) => self.tac,
            (false, OnReject::None) => None,
        };
        year.push(Event::QuotaOutcome {
            year: y,
            median,
            accept_share,
            adopted,
            tac: self.tac,
            quotas: allocate(self.tac, self.spec.allocation, &year.base),
        });
        Ok(())
    }
}

#[async_trait]
impl Protocol for QuotaProtocol {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let binding = self.spec.enforcement == Enforcement::Binding;
        year.board.messages.clear();
        year.board.quota = Some(QuotaBoard {
            binding,
            violations_last_year: std::mem::take(&mut self.violations),
            tac: self.tac,
            ..QuotaBoard::default()
        });
        if self.negotiates_in(year.year) {
            self.negotiate(year, agents).await?;
        }
        year.quotas = allocate(self.tac, self.spec.allocation, &year.base);
        year.quotas_binding = binding;
        if let Some(board) = year.board.quota.as_mut() {
            board.tac = self.tac;
        }
        Ok(())
    }

    async fn after_year(
        &mut self,
        year: &mut YearContext,
        outcome: &YearOutcome,
        _after: &[Observation],
        _agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        if self.spec.enforcement == Enforcement::Advisory {
            self.violations = violations(year, outcome);
        }
        Ok(())
    }
}

/// Median of the proposals, floored to whole fish (the mean of the middle two for an even
/// count).
fn median(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]).div_euclid(2)
    })
}

/// The advisory quotas of this year that teams over-fished, each recorded as an event:
/// what the next year's board shows to all.
pub(super) fn violations(year: &mut YearContext, outcome: &YearOutcome) -> Vec<QuotaViolation> {
    let mut out = Vec::new();
    for (team, (quota, t)) in year.quotas.clone().iter().zip(&outcome.teams).enumerate() {
        let catch = t.catch_deep + t.catch_coast;
        if let Some(quota) = *quota {
            if catch > quota {
                let v = QuotaViolation {
                    year: year.year,
                    team,
                    quota,
                    catch,
                };
                year.push(Event::QuotaViolation {
                    year: v.year,
                    team,
                    quota,
                    catch,
                });
                out.push(v);
            }
        }
    }
    out
}

/// Split a TAC into team quotas (ships as at the start of the year).
pub(super) fn allocate(
    tac: Option<i64>,
    allocation: Allocation,
    base: &[Observation],
) -> Vec<Option<i64>> {
    let n = base.len() as i64;
    let Some(tac) = tac else {
        return vec![None; base.len()];
    };
    match allocation {
        Allocation::Equal => vec![Some(tac / n.max(1)); base.len()],
        Allocation::Fleet => {
            let total: i64 = base.iter().map(|o| o.own.ships as i64).sum();
            base.iter()
                .map(|o| {
                    Some(if total > 0 {
                        tac * o.own.ships as i64 / total
                    } else {
                        0
                    })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_even_count_is_floored_mean_of_middle_two() {
        assert_eq!(median(&[10, 1, 4, 7]), Some(5));
        assert_eq!(median(&[3, 1, 2]), Some(2));
        assert_eq!(median(&[]), None);
    }
}
