//! `a2a` (the MIT study's condition): before deciding, every team announces the decision
//! it intends to make with a bounded free-text reasoning; once all have announced, each
//! makes its final decision, which the announcement does not bind.

use super::intentions::{announce, Asking, IntentionMemory};
use super::{
    check_range, rounds_phrase, PromptSection, Protocol, SpecError, TextBudget, YearContext,
};
use crate::agents::{Agent, AgentError, RequestKind};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

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

impl A2aSpec {
    pub(super) fn validate(&self) -> Result<(), SpecError> {
        check_range("rounds", self.rounds, 1, 20)?;
        check_range("board_memory_years", self.board_memory_years, 0, 200)?;
        check_range("reasoning_chars", self.reasoning_chars, 0, 100_000)
    }

    pub(super) fn requests_per_year(&self) -> Vec<(RequestKind, f64)> {
        vec![
            (RequestKind::Intention, self.rounds as f64),
            (RequestKind::Decision, 1.0),
        ]
    }

    fn reasoning_bound(&self) -> usize {
        self.budget.chars().unwrap_or(self.reasoning_chars)
    }

    pub(super) fn prompt_section(&self) -> PromptSection {
        PromptSection {
            kind: "a2a",
            template: include_str!("../../prompts/protocol_a2a.md"),
            facts: vec![
                ("rounds_phrase", rounds_phrase(self.rounds)),
                ("reasoning_chars", self.reasoning_bound().to_string()),
                (
                    "memory_sentence",
                    super::memory_sentence(self.board_memory_years, "announcements"),
                ),
            ],
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
        let asking = Asking {
            rounds: self.spec.rounds,
            reasoning_chars: self.spec.reasoning_bound(),
            delta: None,
            memory_years: self.spec.board_memory_years,
        };
        announce(year, agents, asking, &mut self.memory, |_, _| {}).await
    }
}
