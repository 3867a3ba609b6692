//! The run's event log (`runs/<run_id>/events.jsonl`): every phase, message, proposal,
//! vote, pledge, decision, repair, agent-reported LLM call and engine outcome, in order.

use crate::agents::{Pledge, Vote};
use crate::engine::{Applied, Decision};
use serde::Serialize;

/// One line of `events.jsonl`. Serialized with a `type` tag so that consumers can filter
/// lines without knowing every variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
        text: String,
        /// The agent wrote more than `max_message_chars`; `text` is cut.
        truncated: bool,
    },
    Proposal {
        year: u32,
        team: usize,
        tac: i64,
    },
    Vote {
        year: u32,
        team: usize,
        #[serde(flatten)]
        vote: Vote,
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
        pledge: Pledge,
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
    /// An event an agent produced itself (an LLM call, a repair, a fallback).
    Agent {
        year: u32,
        team: usize,
        event: serde_json::Value,
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
        status: String,
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
