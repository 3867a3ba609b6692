//! The run's event log (`runs/<run_id>/events.jsonl`): every phase, message, proposal,
//! vote, pledge, decision, repair, LLM call and engine outcome, in order.

use crate::engine::{Applied, Decision};
use serde::{Deserialize, Serialize};

/// One line of `events.jsonl`. Serialized with a `type` tag so that consumers can filter
/// lines without knowing every variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RunStart {
        run_id: String,
        protocol: String,
        population: String,
        seed: u64,
        agents: Vec<String>,
    },
    Phase {
        year: u32,
        phase: String,
    },
    Message {
        year: u32,
        round: u32,
        from: usize,
        /// Addressees; empty: everyone.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        to: Vec<usize>,
        text: String,
        /// The agent wrote more than `max_message_chars`; `text` is cut.
        truncated: bool,
    },
    /// A proposed TAC; `None`: the team abstained (its agent gave no valid answer), and
    /// the proposal is left out of the median.
    Proposal {
        year: u32,
        team: usize,
        tac: Option<i64>,
    },
    /// A vote; `accept: None`: the team abstained, and is left out of the accept share.
    Vote {
        year: u32,
        team: usize,
        accept: Option<bool>,
        reason: String,
    },
    QuotaOutcome {
        year: u32,
        median: Option<i64>,
        accept_share: f64,
        adopted: bool,
        /// The TAC in force from this year on (`None`: no quota).
        tac: Option<i64>,
        quotas: Vec<Option<i64>>,
    },
    Pledge {
        year: u32,
        team: usize,
        #[serde(flatten)]
        pledge: Decision,
    },
    Decision {
        year: u32,
        team: usize,
        requested: Decision,
        applied: Applied,
        repaired: bool,
    },
    Report {
        year: u32,
        team: usize,
        declared: i64,
        actual: i64,
    },
    QuotaViolation {
        year: u32,
        team: usize,
        quota: i64,
        catch: i64,
    },
    LedgerViolation {
        year: u32,
        team: usize,
    },
    /// An announced intention (A2A, REP); `truncated`: the reasoning was cut to the
    /// bound or the budget.
    Intention {
        year: u32,
        round: u32,
        team: usize,
        plan: Decision,
        reasoning: String,
        /// REP: the changes of the plan if the deep-sea density were higher, lower, and
        /// the coast density higher, lower.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        sensitivities: Option<[Decision; 4]>,
        truncated: bool,
    },
    /// A candidate's agenda for leader; `truncated`: cut to the bound or the budget.
    Agenda {
        year: u32,
        team: usize,
        text: String,
        truncated: bool,
    },
    /// An election: the candidates, each team's ballot (`None`: no vote), the winner
    /// (`None`: nobody got a vote) and the last year of its term.
    LeaderElection {
        year: u32,
        candidates: Vec<usize>,
        ballots: Vec<Option<usize>>,
        leader: Option<usize>,
        term_end: u32,
    },
    /// The TAC the leader set (`None`: it gave none), the accept share when it was put to
    /// a vote, and whether it was adopted.
    LeaderTac {
        year: u32,
        leader: usize,
        tac: Option<i64>,
        accept_share: Option<f64>,
        adopted: bool,
    },
    /// Last year's total catch as the leader published it, and the truth.
    LeaderReport {
        year: u32,
        leader: usize,
        reported: i64,
        truth: i64,
    },
    /// The lesson a team left for the next generation; `truncated`: cut to the bound.
    Lesson {
        year: u32,
        team: usize,
        text: String,
        truncated: bool,
    },
    /// A bid at the ship auction (0 ships: no bid).
    Bid {
        year: u32,
        team: usize,
        ships: u32,
        price: i64,
    },
    /// The auction's result: ships offered and each win as (team, ships, price per ship).
    Auction {
        year: u32,
        offered: u32,
        wins: Vec<(usize, u32, i64)>,
    },
    /// Ships offered to the others in a trade round.
    Offer {
        year: u32,
        round: u32,
        team: usize,
        ships: u32,
        price: i64,
    },
    /// The offers (by number) a team took in a trade round.
    Accept {
        year: u32,
        round: u32,
        team: usize,
        offers: Vec<usize>,
    },
    /// A trade done: ships and money changed hands.
    Trade {
        year: u32,
        round: u32,
        seller: usize,
        buyer: usize,
        ships: u32,
        price: i64,
    },
    /// The TAC a regulator computed and the quotas it published.
    RegulatorTac {
        year: u32,
        tac: i64,
        quotas: Vec<Option<i64>>,
    },
    /// What REP's harness published after an intention round: the coordinate-wise
    /// medians of the sensitivities and, with `consensus`, of the plans.
    RepAggregate {
        year: u32,
        round: u32,
        /// `[order, deep, coast]` changes if the deep-sea density were higher, lower,
        /// and the coast density higher, lower.
        medians: [[f64; 3]; 4],
        /// Teams whose sensitivities entered the medians.
        teams: usize,
        consensus: Option<Decision>,
    },
    /// An answer to the consensus probe (a measurement, never published): the total catch
    /// the team thinks the group follows, the team it names as setting it (1-based, 0:
    /// nobody), and whether the number was one the team had been shown.
    Probe {
        year: u32,
        team: usize,
        tac: i64,
        set_by: i64,
        grounded: bool,
    },
    /// A fine imposed after the year (sanctions), taken from the banks next year.
    Fine {
        year: u32,
        from: usize,
        to: usize,
        cost: i64,
        fine: i64,
    },
    /// An event an agent produced itself (an LLM call, a repair, a fallback).
    Agent {
        year: u32,
        team: usize,
        event: AgentEvent,
    },
    Year {
        year: u32,
        weather: f64,
        fleet: [u32; 3],
        catch: [i64; 2],
        post_harvest: [i64; 2],
        regen: [i64; 2],
        stock: [i64; 2],
        ship_value: i64,
        collapsed_now: bool,
    },
    RunEnd {
        status: super::RunStatus,
        years_played: u32,
        collapse_year: Option<u32>,
        error: Option<String>,
    },
}

impl Event {
    /// Whether the event belongs in a `summary` log (per-year outcomes and the run's
    /// bounds, without the chatter).
    pub fn is_summary(&self) -> bool {
        matches!(
            self,
            Event::RunStart { .. } | Event::Year { .. } | Event::RunEnd { .. }
        )
    }
}

/// What an agent reports about its own answering (LLM agents' calls, repairs and
/// fallbacks; a scripted seat's trembles). `kind` is the request kind (`decision`, `message`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// One answered call (live or from the cache).
    LlmCall {
        agent: usize,
        year: u32,
        kind: String,
        round: u32,
        repair: u32,
        provider: String,
        tokens_in: u64,
        /// Input tokens served from the server's prompt cache (`None`: not reported).
        tokens_cached: Option<u64>,
        tokens_out: u64,
        /// The server sent no usage; the counts are chars / 4.
        tokens_estimated: bool,
        cost_micro_usd: u64,
        latency_ms: u64,
        cache_hit: bool,
        /// Transport attempts this call took (1 without retries).
        attempt: u32,
    },
    /// A call that failed at the transport level after its retries.
    LlmError {
        agent: usize,
        year: u32,
        kind: String,
        repair: u32,
        error: String,
    },
    /// An answer that failed validation (a repair follows while repairs remain).
    LlmInvalid {
        agent: usize,
        year: u32,
        kind: String,
        round: u32,
        repair: u32,
        error: String,
        /// The answer's text, cut to a few hundred characters.
        answer: String,
        /// The server stopped the answer at its token limit (`finish_reason: length`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        cut_off: bool,
    },
    /// A transport fault, retried with the identical request (never a repair).
    LlmRetry {
        agent: usize,
        year: u32,
        kind: String,
        /// `rate_limit`, `server_error`, `timeout`, `connection`, `malformed`.
        fault: String,
        error: String,
        /// How long the transport waited before the retry.
        delay_ms: u64,
    },
    /// The configured fallback replaced an answer.
    LlmFallback {
        agent: usize,
        year: u32,
        kind: String,
        round: u32,
        fallback: String,
        reason: String,
    },
    /// A scripted seat trembled: it played a random valid decision instead of its
    /// strategy's (`tremble`), so that replicates differ.
    Tremble {
        agent: usize,
        year: u32,
        /// What the strategy would have played.
        planned: crate::engine::Decision,
        /// What it played.
        played: crate::engine::Decision,
    },
}
