//! `rep` (Ripple Effect Protocol): as `a2a`, and every team also states its
//! *sensitivities*: how its order, deep and coast would change if each area's density
//! were `delta` higher or lower. After each round the harness publishes the
//! coordinate-wise medians of the sensitivities and, with `consensus`, the
//! coordinate-wise median of the announced plans; then the final decisions.

use super::intentions::{announce, consensus, sensitivity_medians, Asking, IntentionMemory};
use super::{fmt_num, PromptSection, Protocol, ProtocolKind, SpecError, TextBudget, YearContext};
use crate::agents::{Agent, AgentError, RequestKind};
use crate::engine::GameParams;
use crate::record::Event;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Switches of `rep`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepSpec {
    /// Intention rounds before each decision.
    pub rounds: u32,
    /// The density change the sensitivities are about (± `delta`).
    pub delta: f64,
    /// Bound on each reasoning in characters (0: numbers only; a budget replaces it).
    pub reasoning_chars: usize,
    /// Also publish the coordinate-wise median of the announced plans.
    pub consensus: bool,
    /// Past years of intentions each agent sees (social memory; 0: this year's only).
    pub board_memory_years: u32,
    /// A communication budget (token-matched control).
    #[serde(flatten)]
    pub budget: TextBudget,
}

impl Default for RepSpec {
    fn default() -> Self {
        RepSpec {
            rounds: 1,
            delta: 0.1,
            reasoning_chars: 300,
            consensus: false,
            board_memory_years: 0,
            budget: TextBudget::default(),
        }
    }
}

impl ProtocolKind for RepSpec {
    fn idle_switches(&self) -> Vec<&'static str> {
        if self.budget.is_set() {
            vec!["reasoning_chars"]
        } else {
            Vec::new()
        }
    }

    fn kind(&self) -> &'static str {
        "rep"
    }

    fn build(&self, _rng: ChaCha8Rng, _params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(Rep::new(self.clone()))
    }

    fn budget(&self) -> Option<&TextBudget> {
        Some(&self.budget)
    }

    fn budget_mut(&mut self) -> Option<&mut TextBudget> {
        Some(&mut self.budget)
    }

    fn own_message_chars(&self) -> Option<usize> {
        Some(self.reasoning_chars)
    }

    fn validate(&self) -> Result<(), SpecError> {
        Asking::validate(self.rounds, self.board_memory_years, self.reasoning_chars)?;
        if !(self.delta > 0.0 && self.delta <= 1.0) {
            return Err(SpecError::new(
                "delta",
                format!("must be a density change in (0, 1], got {}", self.delta),
            ));
        }
        Ok(())
    }

    fn requests_per_year(&self, _teams: usize) -> Vec<(RequestKind, f64)> {
        self.asking().requests_per_year()
    }

    fn prompt_section(&self) -> PromptSection {
        let consensus_sentence = if self.consensus {
            " It also publishes the consensus plan: the median of the announced orders, deep-sea ships and coast ships."
        } else {
            ""
        };
        let mut facts = self.asking().facts();
        facts.push(("delta", fmt_num(self.delta)));
        facts.push(("consensus_sentence", consensus_sentence.to_string()));
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_rep.md"),
            facts,
        }
    }
}

impl RepSpec {
    /// How the intentions are asked (a budget replaces the reasoning bound).
    fn asking(&self) -> Asking {
        Asking {
            rounds: self.rounds,
            reasoning_chars: self.budget.bound(self.reasoning_chars),
            delta: Some(self.delta),
            memory_years: self.board_memory_years,
        }
    }
}

pub struct Rep {
    spec: RepSpec,
    memory: IntentionMemory,
}

impl Rep {
    pub fn new(spec: RepSpec) -> Self {
        Rep {
            spec,
            memory: IntentionMemory::default(),
        }
    }
}

#[async_trait]
impl Protocol for Rep {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        year.open_budget(self.spec.budget.chars());
        year.board.sensitivity_medians = None;
        year.board.consensus = None;
        let asking = self.spec.asking();
        let with_consensus = self.spec.consensus;
        announce(year, agents, asking, &mut self.memory, |year, round| {
            let medians = sensitivity_medians(&year.board.intentions, round);
            let plan = if with_consensus {
                consensus(&year.board.intentions, round)
            } else {
                None
            };
            year.push(Event::RepAggregate {
                year: year.year,
                round,
                medians: [
                    medians.deep_up,
                    medians.deep_down,
                    medians.coast_up,
                    medians.coast_down,
                ],
                teams: medians.teams,
                consensus: plan,
            });
            year.board.sensitivity_medians = Some(medians);
            year.board.consensus = plan;
        })
        .await
    }
}
