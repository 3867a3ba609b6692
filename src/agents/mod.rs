//! Agents: the [`Agent`] trait every player implements, and the scripted strategies.
//!
//! An agent never touches engine state. The protocol asks it a typed [`Request`] (a
//! question, see [`crate::question`]) with an [`Observation`] of what that team may
//! know, and it answers with a [`Response`] of the same kind. Answers are applied in agent order after all agents of a phase have
//! answered, so concurrency cannot change results.

pub mod scripted;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::engine::Decision;
pub use crate::question::{Answer, Observation, Request, RequestKind, Response};
pub use crate::record::AgentEvent;
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
    /// The provider stopped answering (its circuit breaker gave up): the run is abandoned,
    /// never recorded, and played again on resume.
    #[error("provider `{provider}` is down: {reason}")]
    Outage { provider: String, reason: String },
    /// The game was stopped while this agent was asked: the run ends as `stopped`.
    #[error("stopped: {0}")]
    Stopped(String),
    #[error("agent {agent} answered a {asked:?} request in year {year} with a {got:?}")]
    WrongKind {
        agent: usize,
        year: u32,
        asked: RequestKind,
        got: RequestKind,
    },
}

/// Counters an agent keeps about its own answering, summed per run into `runs.csv`.
/// The first four are kind-neutral: an LLM and a person at a seat are asked, re-asked
/// after an invalid answer, and replaced by their fallback the same way (scripted
/// strategies answer by construction and keep none). The rest are an LLM's calls and
/// their bill. (The `runs.csv` columns keep their historical `llm_` names.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentStats {
    /// Questions answered (one per question, whatever re-asks it took).
    pub answers: u64,
    /// Of those, answered validly at the first ask.
    pub valid_first_try: u64,
    /// Calls made (first asks and repair re-asks; transport retries are not calls).
    pub llm_calls: u64,
    /// Transport retries, all kinds (the sum of `retries`).
    pub llm_retries: u64,
    /// Transport retries by kind.
    pub retries: RetryCounts,
    /// Re-asks after an invalid answer.
    pub repairs: u64,
    /// Answers the configured fallback gave instead of the agent.
    pub fallbacks: u64,
    pub tokens_in: u64,
    /// Input tokens the server served from its prompt cache (billed at the cached price).
    pub tokens_cached: u64,
    pub tokens_out: u64,
    /// Live calls whose server reported no cached-token count (`tokens_cached` counts 0
    /// for them).
    pub calls_without_cache_report: u64,
    /// Cost in millionths of a dollar (an integer so sums are exact and order-free).
    pub cost_micro_usd: u64,
}

/// Transport retries by what went wrong. A retry never changes an answer: it re-sends
/// the identical request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RetryCounts {
    /// 429 Too Many Requests.
    pub rate_limit: u64,
    /// 5xx.
    pub server_error: u64,
    pub timeout: u64,
    /// Refused, reset or cut-off connections.
    pub connection: u64,
    /// A success status whose body is not a chat completion (truncated, HTML, empty).
    pub malformed: u64,
}

impl RetryCounts {
    pub fn add(&mut self, o: &RetryCounts) {
        self.rate_limit += o.rate_limit;
        self.server_error += o.server_error;
        self.timeout += o.timeout;
        self.connection += o.connection;
        self.malformed += o.malformed;
    }

    pub fn total(&self) -> u64 {
        self.rate_limit + self.server_error + self.timeout + self.connection + self.malformed
    }
}

impl AgentStats {
    pub fn add(&mut self, other: &AgentStats) {
        self.answers += other.answers;
        self.valid_first_try += other.valid_first_try;
        self.llm_calls += other.llm_calls;
        self.llm_retries += other.llm_retries;
        self.retries.add(&other.retries);
        self.repairs += other.repairs;
        self.fallbacks += other.fallbacks;
        self.tokens_in += other.tokens_in;
        self.tokens_cached += other.tokens_cached;
        self.tokens_out += other.tokens_out;
        self.calls_without_cache_report += other.calls_without_cache_report;
        self.cost_micro_usd += other.cost_micro_usd;
    }

    /// Share of answers that fell back (0 without answers).
    pub fn fallback_share(&self) -> f64 {
        if self.answers == 0 {
            0.0
        } else {
            self.fallbacks as f64 / self.answers as f64
        }
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
