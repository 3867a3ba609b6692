//! Agents: the [`Agent`] trait every player implements, the observation each request
//! carries, and the scripted strategies.
//!
//! An agent never touches engine state. The protocol asks it a typed [`Request`] with an
//! [`Observation`] of what that team may know, and it answers with a [`Response`] of the
//! same kind. Answers are applied in agent order after all agents of a phase have
//! answered, so concurrency cannot change results.

mod observation;
mod request;
pub mod scripted;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::engine::Decision;
pub use crate::record::AgentEvent;
pub use observation::{
    Board, LedgerEntry, Message, Observation, OwnView, PublicView, QuotaBoard, QuotaViolation,
};
pub use request::{Answer, Pledge, Request, RequestKind, Response, Vote};
pub use scripted::{ScriptedAgent, Strategy};

/// Why an agent could not answer. Scripted agents never fail; an LLM agent fails when its
/// fallback is `fail-run` or a replay misses, which fails the run (and says why).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent {agent} could not answer the {kind:?} request in year {year}: {reason}")]
    NoAnswer {
        agent: usize,
        kind: RequestKind,
        year: u32,
        reason: String,
    },
    #[error("agent {agent} answered a {asked:?} request in year {year} with a {got:?}")]
    WrongKind {
        agent: usize,
        year: u32,
        asked: RequestKind,
        got: RequestKind,
    },
}

/// Counters an agent keeps about its own answering, summed per run into `runs.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentStats {
    pub llm_calls: u64,
    pub llm_retries: u64,
    pub llm_repairs: u64,
    pub llm_fallbacks: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Cost in millionths of a dollar (an integer so sums are exact and order-free).
    pub cost_micro_usd: u64,
}

impl AgentStats {
    pub fn add(&mut self, other: &AgentStats) {
        self.llm_calls += other.llm_calls;
        self.llm_retries += other.llm_retries;
        self.llm_repairs += other.llm_repairs;
        self.llm_fallbacks += other.llm_fallbacks;
        self.tokens_in += other.tokens_in;
        self.tokens_out += other.tokens_out;
        self.cost_micro_usd += other.cost_micro_usd;
    }
}

/// A player.
///
/// `answer` takes `&mut self` because agents keep memory (past years, their RNG); the
/// harness asks all agents of a phase concurrently and applies answers in agent order.
#[async_trait]
pub trait Agent: Send {
    /// Answer `request` for the year in `obs.public.year` with a response of the same
    /// kind.
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError>;

    /// Counters for `runs.csv`; scripted agents have none.
    fn stats(&self) -> AgentStats {
        AgentStats::default()
    }

    /// Events produced since the last call (LLM calls, repairs, fallbacks), drained by the
    /// game loop into the run's event log in agent order.
    fn drain_events(&mut self) -> Vec<AgentEvent> {
        Vec::new()
    }
}
