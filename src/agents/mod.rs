//! Agents: the [`Agent`] trait every player implements, the observation each request
//! carries, and the scripted strategies.
//!
//! An agent never touches engine state. The protocol asks it typed questions (a message,
//! a proposal, a vote, a pledge, a decision, a report), each with an [`Observation`] of
//! what that team may know, and it answers with plain data. Answers are applied in agent
//! order after all agents of a phase have answered, so concurrency cannot change results.

pub mod scripted;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::engine::Decision;
pub use scripted::{ScriptedAgent, Strategy};

/// What a team knows about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnView {
    /// This team's index (0-based); other teams are named by index too.
    pub team: usize,
    pub ships: u32,
    pub bank: i64,
    pub assets: i64,
    /// Last year's catch `[deep, coast]` (0 before year 1).
    pub last_catch: [i64; 2],
    /// The decision applied last year (the year-0 deployment before year 1).
    pub last_decision: Decision,
    /// Most ships this team may order this year.
    pub order_limit: u32,
}

/// Facts every team sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicView {
    /// The year about to be played (1-based).
    pub year: u32,
    pub years_total: u32,
    /// Years left including this one.
    pub years_left: u32,
    pub teams: usize,
    /// Last year's ships in `[deep, coast, harbor]` (the year-0 deployment before year 1).
    pub fleet: [u32; 3],
    /// Last year's catch per ship in `[deep, coast]`; `None` before year 1.
    pub catch_per_ship: Option<[f64; 2]>,
    /// Densities `[deep, coast]` rounded to two decimals; `None` when `reveal_stock = false`.
    pub density: Option<[f64; 2]>,
    pub ship_value: i64,
    /// Game facts an agent needs to reason (prices, costs), copied from the parameters.
    pub fish_price: i64,
    pub ship_price: i64,
    /// Operating cost per ship in `[deep, coast, harbor]`.
    pub costs: [i64; 3],
}

/// A message on the board, attributed by the harness (never by its text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Author's team index, set by the harness.
    pub from: usize,
    pub round: u32,
    pub text: String,
}

/// A pledge: what a team says it will do this year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pledge {
    pub order: i64,
    pub deep: i64,
    pub coast: i64,
}

/// An answer to a vote request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub accept: bool,
    pub reason: String,
}

/// One line of the shared ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub year: u32,
    pub team: usize,
    pub pledge: Pledge,
    /// The order and deployment the engine applied.
    pub order: u32,
    pub deep: u32,
    pub coast: u32,
    /// Catch as written in the ledger: the true catch under truthful reporting, the
    /// team's own report under self reporting.
    pub catch: i64,
    /// The actual order or deployment exceeded the pledge.
    pub violation: bool,
}

/// A quota that was over-fished under advisory enforcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaViolation {
    pub year: u32,
    pub team: usize,
    pub quota: i64,
    pub catch: i64,
}

/// The state of a quota negotiation visible to everyone.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QuotaBoard {
    /// Proposals of this negotiation, one per team (`None` before the proposal phase).
    pub proposals: Option<Vec<i64>>,
    /// Median of the proposals (the number voted on).
    pub median: Option<i64>,
    /// Total allowable catch in force this year, if any.
    pub tac: Option<i64>,
    /// This team's share of the TAC.
    pub my_quota: Option<i64>,
    /// Whether the quota is enforced by the engine (`false`: advisory).
    pub binding: bool,
    /// Advisory quotas exceeded last year, shown to all.
    pub violations_last_year: Vec<QuotaViolation>,
}

/// What the protocol makes public. Each protocol fills the parts it uses; an empty board
/// is what agents see under `none`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Board {
    /// Messages of this year so far (broadcast, or the talk rounds of a negotiation).
    pub messages: Vec<Message>,
    pub quota: Option<QuotaBoard>,
    /// This year's pledges so far (ledger), by team.
    pub pledges: Vec<(usize, Pledge)>,
    /// The last `window` years of the ledger.
    pub ledger: Vec<LedgerEntry>,
}

/// Everything a team may know when asked something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub own: OwnView,
    pub public: PublicView,
    pub board: Board,
}

/// Which question is being asked; used by LLM prompts, the cache key and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Message,
    Proposal,
    Vote,
    Pledge,
    Decision,
    Report,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Message => "message",
            RequestKind::Proposal => "proposal",
            RequestKind::Vote => "vote",
            RequestKind::Pledge => "pledge",
            RequestKind::Decision => "decision",
            RequestKind::Report => "report",
        }
    }
}

/// Why an agent could not answer. Scripted agents never fail; an LLM agent fails only
/// when its fallback is `fail-run`, which fails the run (and says why).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("agent {agent} could not answer the {kind:?} request in year {year}: {reason}")]
    NoAnswer {
        agent: usize,
        kind: RequestKind,
        year: u32,
        reason: String,
    },
    #[error("budget exhausted: {0}")]
    Budget(String),
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

/// Something an agent wants recorded in the run's event log (an LLM call, a repair, a
/// fallback). Free-form JSON so the agents layer does not depend on the recorder.
pub type AgentEvent = serde_json::Value;

/// A player. Each method answers one request type for the year in `obs.public.year`.
///
/// Methods take `&mut self` because agents keep memory (past years, their RNG); the
/// harness asks all agents of a phase concurrently and applies answers in agent order.
#[async_trait]
pub trait Agent: Send {
    /// A free-text message for a broadcast or talk round (the harness bounds its length).
    async fn message(&mut self, obs: &Observation, round: u32) -> Result<String, AgentError>;
    /// A total allowable catch (fish) for the year about to be played.
    async fn propose(&mut self, obs: &Observation) -> Result<i64, AgentError>;
    /// Accept or reject the TAC put to the vote (`obs.board.quota.median`).
    async fn vote(&mut self, obs: &Observation) -> Result<Vote, AgentError>;
    /// The order and deployment this team pledges for the year.
    async fn pledge(&mut self, obs: &Observation) -> Result<Pledge, AgentError>;
    /// The order and deployment for the year.
    async fn decide(&mut self, obs: &Observation) -> Result<Decision, AgentError>;
    /// The catch this team declares for the year just played (`actual` is the truth,
    /// which a team knows).
    async fn report(&mut self, obs: &Observation, actual: i64) -> Result<i64, AgentError>;

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
