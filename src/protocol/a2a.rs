//! `a2a` (the MIT study's condition): before deciding, every team announces the decision
//! it intends to make with a bounded free-text reasoning; once all have announced, each
//! makes its final decision, which the announcement does not bind.

use super::intentions::{announce, Asking, IntentionMemory};
use super::{PromptSection, Protocol, ProtocolKind, SpecError, TextBudget, YearContext};
use crate::agents::{Agent, AgentError, RequestKind};
use crate::engine::GameParams;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Switches of `a2a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct A2aSpec {
    /// Intention rounds before each decision (each sees the earlier rounds).
    pub rounds: u32,
    /// Bound on each reasoning in characters (a budget replaces it).
    pub reasoning_chars: usize,
    /// Past years of intentions each agent sees (social memory; 0: this year's only).
    pub board_memory_years: u32,
    /// A communication budget (token-matched control).
    #[serde(flatten)]
    pub budget: TextBudget,
}

impl Default for A2aSpec {
    fn default() -> Self {
        A2aSpec {
            rounds: 1,
            reasoning_chars: 300,
            board_memory_years: 0,
            budget: TextBudget::default(),
        }
    }
}

impl ProtocolKind for A2aSpec {
    fn idle_switches(&self) -> Vec<&'static str> {
        if self.budget.is_set() {
            vec!["reasoning_chars"]
        } else {
            Vec::new()
        }
    }

    fn kind(&self) -> &'static str {
        "a2a"
    }

    fn validate(&self) -> Result<(), SpecError> {
        Asking::validate(self.rounds, self.board_memory_years, self.reasoning_chars)
    }

    fn build(&self, _rng: ChaCha8Rng, _params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(A2a::new(self.clone()))
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

    fn requests_per_year(&self, _teams: usize) -> Vec<(RequestKind, f64)> {
        self.asking().requests_per_year()
    }

    fn prompt_section(&self) -> PromptSection {
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_a2a.md"),
            facts: self.asking().facts(),
        }
    }
}

impl A2aSpec {
    /// How the intentions are asked (a budget replaces the reasoning bound).
    fn asking(&self) -> Asking {
        Asking {
            rounds: self.rounds,
            reasoning_chars: self.budget.bound(self.reasoning_chars),
            delta: None,
            memory_years: self.board_memory_years,
        }
    }
}

pub struct A2a {
    spec: A2aSpec,
    memory: IntentionMemory,
}

impl A2a {
    pub fn new(spec: A2aSpec) -> Self {
        A2a {
            spec,
            memory: IntentionMemory::default(),
        }
    }
}

#[async_trait]
impl Protocol for A2a {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        year.open_budget(self.spec.budget.chars());
        let asking = self.spec.asking();
        announce(year, agents, asking, &mut self.memory, |_, _| {}).await
    }
}
