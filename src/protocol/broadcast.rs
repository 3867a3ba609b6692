//! `broadcast`: rounds of free-text messages before the decision.

use super::talk::{talk, MessageMemory, Talk};
use super::{
    check_range, rounds_phrase, PromptSection, Protocol, ProtocolKind, SpecError, TextBudget,
    YearContext,
};
use crate::agents::{Agent, AgentError, RequestKind};
use crate::engine::GameParams;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Who speaks when in a message round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageOrder {
    /// Everyone writes at once; a round sees only earlier rounds.
    #[default]
    Simultaneous,
    /// One at a time in a random order drawn from the run seed; each sees what was said
    /// before it.
    Sequential,
}

/// Switches of `broadcast`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BroadcastSpec {
    /// Message rounds before each decision.
    pub rounds: u32,
    pub order: MessageOrder,
    /// Bound on each message's length in characters (a budget replaces it).
    pub max_message_chars: usize,
    /// Past years of messages each agent sees (social memory; 0: this year's only).
    pub board_memory_years: u32,
    /// Whether a message may be addressed to some teams only (`to`); the others do not
    /// see it.
    pub directed: bool,
    /// A communication budget (token-matched control).
    #[serde(flatten)]
    pub budget: TextBudget,
}

impl Default for BroadcastSpec {
    fn default() -> Self {
        BroadcastSpec {
            rounds: 1,
            order: MessageOrder::Simultaneous,
            max_message_chars: 600,
            board_memory_years: 0,
            directed: false,
            budget: TextBudget::default(),
        }
    }
}

impl BroadcastSpec {
    /// The longest message: the bound, or the whole budget when one applies.
    fn message_bound(&self) -> usize {
        self.budget.bound(self.max_message_chars)
    }
}

impl ProtocolKind for BroadcastSpec {
    fn idle_switches(&self) -> Vec<&'static str> {
        if self.budget.is_set() {
            vec!["max_message_chars"]
        } else {
            Vec::new()
        }
    }

    fn kind(&self) -> &'static str {
        "broadcast"
    }

    fn validate(&self) -> Result<(), SpecError> {
        check_range("rounds", self.rounds, 1, 20)?;
        check_range("board_memory_years", self.board_memory_years, 0, 200)?;
        check_range("max_message_chars", self.max_message_chars, 1, 100_000)
    }

    fn build(&self, rng: ChaCha8Rng, _params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(Broadcast::new(self.clone(), rng))
    }

    fn budget(&self) -> Option<&TextBudget> {
        Some(&self.budget)
    }

    fn budget_mut(&mut self) -> Option<&mut TextBudget> {
        Some(&mut self.budget)
    }

    fn own_message_chars(&self) -> Option<usize> {
        Some(self.max_message_chars)
    }

    fn requests_per_year(&self, _teams: usize) -> Vec<(RequestKind, f64)> {
        vec![
            (RequestKind::Message, self.rounds as f64),
            (RequestKind::Decision, 1.0),
        ]
    }

    fn prompt_section(&self) -> PromptSection {
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_broadcast.md"),
            facts: vec![
                ("rounds_phrase", rounds_phrase(self.rounds)),
                ("max_message_chars", self.message_bound().to_string()),
                (
                    "memory_sentence",
                    super::memory_sentence(self.board_memory_years, "messages"),
                ),
                (
                    "directed_sentence",
                    if self.directed {
                        " A message may be addressed to some teams only: then only they see it."
                            .to_string()
                    } else {
                        String::new()
                    },
                ),
            ],
        }
    }
}

pub struct Broadcast {
    spec: BroadcastSpec,
    rng: ChaCha8Rng,
    memory: MessageMemory,
}

impl Broadcast {
    pub fn new(spec: BroadcastSpec, rng: ChaCha8Rng) -> Self {
        Broadcast {
            spec,
            rng,
            memory: MessageMemory::default(),
        }
    }
}

#[async_trait]
impl Protocol for Broadcast {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        // This year's talk, and the last `board_memory_years` years of it.
        self.memory.open(year, self.spec.board_memory_years);
        year.open_budget(self.spec.budget.chars());
        let how = Talk {
            rounds: self.spec.rounds,
            order: self.spec.order,
            max_chars: self.spec.message_bound(),
            directed: self.spec.directed,
        };
        talk(year, agents, how, &mut self.rng).await?;
        self.memory.keep(year, self.spec.board_memory_years);
        Ok(())
    }
}
