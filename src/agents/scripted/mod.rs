//! Scripted strategies (docs/DESIGN.md §4): deterministic players, given their seed, that answer
//! every request type. They are the controls of an experiment and the stand-ins that let
//! the whole harness run without a model.
//!
//! They reason only from their observation and the published game parameters (tables,
//! prices), never from the engine state. Several read what the others announced (a
//! message saying "order X, deep Y, coast Z", a pledge, an intention, REP's consensus), so
//! that a protocol that publishes more can change what they do: protocol effects emerge
//! from the information, they are not written into the strategies.

mod answers;
mod decide;
mod institutions;
mod market;
mod read;

use super::{Agent, AgentError};
use crate::engine::GameParams;
use crate::question::{
    Answer, Decision, IntentionQuestion, MessageQuestion, Observation, Pledge, Request, Response,
    SanctionQuestion, VoteQuestion,
};
use crate::record::AgentEvent;
use async_trait::async_trait;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use institutions::tac_in_agenda;
pub use read::{announced_plans, plan_in_message, plan_of};

/// The scripted strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Order the limit while ships are profitable; all ships to the most profitable area.
    /// Says what the others want to hear; complies with a binding quota (it fishes what
    /// the quota lets it, no more), even one it voted against.
    Greedy,
    /// Keep the initial fleet and deployment (order nothing; extra ships stay in port).
    Fixed,
    /// Aim at an equal share of the maximum sustainable fleet, fishing less when an area is
    /// below its most productive density.
    Sustainable,
    /// Uniformly random valid answers.
    Random,
    /// Sustainable while the others kept within the sustainable fleet last year (and kept
    /// their pledges and quotas), greedy otherwise.
    Reciprocal,
    /// Follows any quota or its own pledge; sustainable otherwise.
    QuotaFollower,
    /// A conditional cooperator: matches the restraint the others announce this year
    /// (messages, pledges, intentions, REP's consensus), or showed last year when nobody
    /// announced anything; follows a quota.
    Conditional,
    /// Exploits announced (or shown) restraint: greedy when the others hold back,
    /// sustainable when they do not or when it was fined last year; announces restraint
    /// itself; complies with a binding quota.
    FreeRider,
    /// Copies the plan its leader (`leader`, a team) announced this year; keeps its own
    /// last decision when the leader announced nothing. Influence known by construction.
    Imitator,
    /// Plays its own noisy sustainable policy and ignores the board entirely: no
    /// influence by construction.
    Independent,
}

impl Strategy {
    pub const ALL: [Strategy; 10] = [
        Strategy::Greedy,
        Strategy::Fixed,
        Strategy::Sustainable,
        Strategy::Random,
        Strategy::Reciprocal,
        Strategy::QuotaFollower,
        Strategy::Conditional,
        Strategy::FreeRider,
        Strategy::Imitator,
        Strategy::Independent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Greedy => "greedy",
            Strategy::Fixed => "fixed",
            Strategy::Sustainable => "sustainable",
            Strategy::Random => "random",
            Strategy::Reciprocal => "reciprocal",
            Strategy::QuotaFollower => "quota_follower",
            Strategy::Conditional => "conditional",
            Strategy::FreeRider => "free_rider",
            Strategy::Imitator => "imitator",
            Strategy::Independent => "independent",
        }
    }
}

/// Announced fleets at sea up to this factor of the sustainable share count as restraint.
const RESTRAINT_SLACK: f64 = 1.1;

/// A scripted player.
pub struct ScriptedAgent {
    strategy: Strategy,
    params: Arc<GameParams>,
    /// Draws of the strategy itself (random answers, an independent agent's noise).
    rng: ChaCha8Rng,
    /// Draws of the trembles only, on a stream of their own: one draw a year (and three
    /// more when it trembles) whatever the protocol asks, so that replicate k trembles in
    /// the same years, the same way, under every protocol.
    trembles: ChaCha8Rng,
    /// Probability of replacing a decision by a random valid one, so that replicates of a
    /// scripted population differ (0 = fully deterministic play).
    tremble: f64,
    /// The team an imitator copies (0-based).
    leader: Option<usize>,
    /// The last pledge and its year: a follower keeps it, a greedy reporter hides behind it.
    pledged: Option<(u32, Pledge)>,
    /// Trembles since the game loop last drained them (for the event log).
    events: Vec<AgentEvent>,
}

impl ScriptedAgent {
    /// A player of `strategy`; `rng` is the team's stream (the trembles use a second
    /// stream of the same key).
    pub fn new(strategy: Strategy, params: Arc<GameParams>, rng: ChaCha8Rng, tremble: f64) -> Self {
        let mut trembles = rng.clone();
        trembles.set_stream(1);
        ScriptedAgent {
            strategy,
            params,
            rng,
            trembles,
            tremble,
            leader: None,
            pledged: None,
            events: Vec::new(),
        }
    }

    /// The team an imitator copies.
    pub fn with_leader(mut self, leader: Option<usize>) -> Self {
        self.leader = leader;
        self
    }
}

/// A uniformly random valid decision.
fn random_valid(rng: &mut ChaCha8Rng, obs: &Observation) -> Decision {
    let ships = obs.own.ships as i64;
    let order = rng.random_range(0..=obs.own.order_limit as i64);
    let deep = rng.random_range(0..=ships);
    let coast = rng.random_range(0..=ships - deep);
    Decision { order, deep, coast }
}

#[async_trait]
impl Agent for ScriptedAgent {
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError> {
        let response = match request {
            Request::Message(MessageQuestion { max_chars, .. }) => {
                Response::broadcast(self.message(obs, *max_chars))
            }
            Request::Proposal(_) => Response::Proposal(self.propose(obs)),
            Request::Vote(VoteQuestion { tac }) => Response::Vote(self.vote(obs, *tac)),
            Request::Pledge(_) => Response::Pledge(self.pledge(obs)),
            Request::Decision(_) => Response::Decision(self.decide(obs)),
            Request::Report(q) => Response::Report(self.report(obs, q.actual)),
            Request::Intention(IntentionQuestion {
                reasoning_chars,
                sensitivities,
                ..
            }) => Response::Intention(self.intention(obs, *reasoning_chars, *sensitivities)),
            Request::Sanction(SanctionQuestion {
                cost, max_targets, ..
            }) => Response::Sanction(self.sanction(obs, *cost, *max_targets)),
            Request::Probe(_) => Response::Probe(self.probe(obs)),
            Request::Agenda(q) => Response::Agenda(self.agenda(obs, q.max_chars)),
            Request::Ballot(q) => Response::Ballot(self.ballot(obs, q)),
            Request::LeaderTac(_) => Response::LeaderTac(self.leader_tac(obs)),
            Request::LeaderReport(q) => Response::LeaderReport(self.leader_report(q.truth)),
            Request::Lesson(q) => Response::Lesson(self.lesson(q.max_chars)),
            Request::Bid(q) => {
                let (ships, price) = self.bid(obs, q);
                Response::Bid { ships, price }
            }
            Request::Offer(q) => {
                let (ships, price) = self.offer(obs, q);
                Response::Offer { ships, price }
            }
            Request::Accept(q) => Response::Accept(self.accept(obs, q)),
        };
        Ok(Answer::given(response))
    }

    fn drain_events(&mut self) -> Vec<AgentEvent> {
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests;
