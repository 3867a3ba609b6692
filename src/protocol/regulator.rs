//! `regulator` ("Governance as computation", 2026): the harness computes a sustainable
//! total allowable catch from the true stocks each year and publishes it with each team's
//! share, as advice or as a binding cap. Nothing is negotiated; talk rounds are optional.
//! It separates information from enforcement: the control that tells whether a negotiated
//! quota helps because agents agree or only because a number is on the table.
//!
//! The `rule` (documented in `docs/DESIGN.md` §5):
//! - `regeneration`: this year's regeneration at the current density, Σ_a
//!   floor(regen_scale_a · regen_table(stock_a / max_a)): what the sea will regrow, so the
//!   stock stays where it is;
//! - `surplus`: that, plus `surplus_share` of the fish above the most productive density
//!   (floored): the stock is walked towards maximum sustainable yield.

use super::quota::{allocate, violations, Allocation, Enforcement};
use super::talk::{talk, Talk};
use super::{
    check_range, fmt_num, rounds_phrase, MessageOrder, PromptSection, Protocol, ProtocolKind,
    SpecError, TextBudget, YearContext,
};
use crate::agents::{Agent, AgentError};
use crate::engine::{Area, GameParams, YearOutcome};
use crate::question::{Observation, QuotaBoard, QuotaViolation, RequestKind, TacSource};
use crate::record::Event;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the regulator computes the TAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TacRule {
    /// This year's regeneration at the current density. (Above the most productive
    /// density the catch raises the regeneration, so the stock creeps up to capacity and
    /// the TAC down to nothing: kept as the naive rule to compare against.)
    Regeneration,
    /// The regeneration plus `surplus_share` of the stock above the most productive
    /// density: walks the stock towards maximum sustainable yield.
    #[default]
    Surplus,
}

/// Switches of `regulator`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegulatorSpec {
    pub rule: TacRule,
    /// Share of the stock above the most productive density added to the TAC
    /// (`rule = "surplus"`).
    pub surplus_share: f64,
    pub allocation: Allocation,
    pub enforcement: Enforcement,
    /// Message rounds before each decision (0: none).
    pub talk_rounds: u32,
    /// Bound on each message in characters (a budget replaces it).
    pub max_message_chars: usize,
    #[serde(flatten)]
    pub budget: TextBudget,
}

impl Default for RegulatorSpec {
    fn default() -> Self {
        RegulatorSpec {
            rule: TacRule::Surplus,
            surplus_share: 0.5,
            allocation: Allocation::Equal,
            enforcement: Enforcement::Advisory,
            talk_rounds: 0,
            max_message_chars: 600,
            budget: TextBudget::default(),
        }
    }
}

impl RegulatorSpec {
    fn message_bound(&self) -> usize {
        self.budget.bound(self.max_message_chars)
    }

    /// The rule as the board and the prompt state it.
    fn rule_phrase(&self) -> String {
        match self.rule {
            TacRule::Regeneration => {
                "the fish the sea regrows this year at its current density".to_string()
            }
            TacRule::Surplus => format!(
                "the fish the sea regrows this year at its current density, plus {}% of the fish above its most productive density",
                fmt_num(self.surplus_share * 100.0)
            ),
        }
    }

    /// The TAC of a year from the true stocks.
    pub fn tac(&self, params: &GameParams, stock: [i64; 2]) -> i64 {
        let msy_density = params.msy_density();
        Area::ALL
            .iter()
            .map(|&a| {
                let max = params.area(a).max_stock;
                let s = stock[a.index()];
                let density = if max > 0 { s as f64 / max as f64 } else { 0.0 };
                let regen = params.regeneration(a, density).floor() as i64;
                let surplus = match self.rule {
                    TacRule::Regeneration => 0,
                    TacRule::Surplus => {
                        let above = (s as f64 - msy_density * max as f64).max(0.0);
                        (self.surplus_share * above).floor() as i64
                    }
                };
                regen.max(0) + surplus
            })
            .sum()
    }
}

impl ProtocolKind for RegulatorSpec {
    fn idle_switches(&self) -> Vec<&'static str> {
        let mut idle = super::idle_message_bound(self.talk_rounds, &self.budget);
        if self.rule != TacRule::Surplus {
            idle.push("surplus_share");
        }
        idle
    }

    fn kind(&self) -> &'static str {
        "regulator"
    }

    fn validate(&self) -> Result<(), SpecError> {
        check_range("surplus_share", self.surplus_share, 0.0, 1.0)?;
        check_range("talk_rounds", self.talk_rounds, 0, 20)?;
        check_range("max_message_chars", self.max_message_chars, 1, 100_000)
    }

    fn build(&self, rng: ChaCha8Rng, params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(Regulator {
            spec: self.clone(),
            rng,
            params: Arc::clone(params),
            violations: Vec::new(),
        })
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

    fn requests_per_year(&self, _teams: usize) -> Vec<(RequestKind, f64)> {
        vec![
            (RequestKind::Message, self.talk_rounds as f64),
            (RequestKind::Decision, 1.0),
        ]
    }

    fn prompt_section(&self) -> PromptSection {
        let talk_sentence = match self.talk_rounds {
            0 => String::new(),
            rounds => format!(
                " Before each year's decision there {} of public messages: every team may write one message (at most {} characters) that all teams read, attributed by the harness.",
                rounds_phrase(rounds),
                self.message_bound()
            ),
        };
        let allocation = match self.allocation {
            Allocation::Equal => "equal",
            Allocation::Fleet => "fleet",
        };
        let enforcement = match self.enforcement {
            Enforcement::Binding => "binding: the game stops each team's catch at its quota; fish not caught stay in the sea.",
            Enforcement::Advisory => "advice only: quotas are published but not enforced; over-fishing is recorded and shown to all next year.",
        };
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_regulator.md"),
            facts: vec![
                ("rule_phrase", self.rule_phrase()),
                ("allocation", allocation.to_string()),
                ("enforcement_sentence", enforcement.to_string()),
                ("talk_sentence", talk_sentence),
            ],
        }
    }
}

pub struct Regulator {
    spec: RegulatorSpec,
    rng: ChaCha8Rng,
    params: Arc<GameParams>,
    /// Advisory quotas broken last year.
    violations: Vec<QuotaViolation>,
}

#[async_trait]
impl Protocol for Regulator {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let binding = self.spec.enforcement == Enforcement::Binding;
        let tac = self.spec.tac(&self.params, year.sea.stock);
        year.quotas = allocate(Some(tac), self.spec.allocation, &year.base);
        year.quotas_binding = binding;
        year.push(Event::RegulatorTac {
            year: year.year,
            tac,
            quotas: year.quotas.clone(),
        });
        year.board.messages.clear();
        year.board.quota = Some(QuotaBoard {
            tac: Some(tac),
            binding,
            violations_last_year: std::mem::take(&mut self.violations),
            set_by: TacSource::Regulator(self.spec.rule_phrase()),
            ..QuotaBoard::default()
        });
        if self.spec.talk_rounds > 0 {
            year.open_budget(self.spec.budget.chars());
            let how = Talk {
                rounds: self.spec.talk_rounds,
                order: MessageOrder::Simultaneous,
                max_chars: self.spec.message_bound(),
                directed: false,
            };
            talk(year, agents, how, &mut self.rng).await?;
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
