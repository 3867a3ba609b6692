//! The one question-and-answer pair between the harness and every agent.
//!
//! Both enums are exhaustive on purpose: a new kind of request is a compile error in
//! every agent (scripted strategies, the LLM agent, the mock model) until each answers
//! it.

use crate::engine::Decision;
use serde::{Deserialize, Serialize};

/// A pledge: what a team says it will do this year (the shape of a decision).
pub type Pledge = Decision;

/// An answer to a vote request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub accept: bool,
    pub reason: String,
}

/// How an agent's plan would change if an area's density were `delta` higher or lower
/// (REP's sensitivities): each a change of (order, deep, coast) from the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sensitivities {
    pub deep_up: Decision,
    pub deep_down: Decision,
    pub coast_up: Decision,
    pub coast_down: Decision,
}

/// An announced intention: the decision an agent means to make, why, and (REP) how it
/// would change with conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intention {
    pub plan: Decision,
    /// Free text, bounded by the request.
    pub reasoning: String,
    pub sensitivities: Option<Sensitivities>,
}

/// A question the protocol asks an agent, with what the agent needs to answer it beyond
/// its observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// A free-text message for talk round `round` (the harness cuts it to `max_chars`).
    /// With `directed`, the agent may address it to some teams only.
    Message {
        round: u32,
        max_chars: usize,
        directed: bool,
    },
    /// A total allowable catch (fish) for the year about to be played.
    Proposal,
    /// Accept or reject the TAC put to the vote.
    Vote { tac: i64 },
    /// The order and deployment this team pledges for the year.
    Pledge,
    /// The order and deployment for the year.
    Decision,
    /// The catch this team declares for the year just played (`actual` is the truth,
    /// which a team knows).
    Report { actual: i64 },
    /// The decision this team intends to make, with a reasoning of at most
    /// `reasoning_chars` characters, published before the final decisions (A2A, REP). With
    /// `sensitivities`, also how the plan would change if each area's density were that
    /// much higher or lower (REP).
    Intention {
        round: u32,
        reasoning_chars: usize,
        sensitivities: Option<f64>,
    },
    /// Which other teams (0-based indices) to fine after the year just played: each fine
    /// costs this team `cost` and the fined team `fine`; at most `max_targets`.
    Sanction {
        cost: i64,
        fine: i64,
        max_targets: usize,
    },
    /// The consensus probe (a measurement, never published): what total catch is the
    /// group following, and who set it?
    Probe,
}

/// An agent's answer to a [`Request`] of the same kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// A message and the teams (0-based) it is addressed to (empty: everyone).
    Message {
        text: String,
        to: Vec<usize>,
    },
    Proposal(i64),
    Vote(Vote),
    Pledge(Pledge),
    Decision(Decision),
    Report(i64),
    Intention(Intention),
    /// Teams to fine (0-based).
    Sanction(Vec<usize>),
    Probe(ProbeAnswer),
}

/// An answer to the consensus probe: the total catch the agent thinks the group follows
/// and the team (1-based, as prompts count; 0: nobody) it thinks set it. Deliberately
/// unbounded, so that an answer naming a team or number that does not exist can be
/// counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeAnswer {
    pub tac: i64,
    pub set_by: i64,
}

impl Response {
    /// A message to everyone.
    pub fn broadcast(text: impl Into<String>) -> Response {
        Response::Message {
            text: text.into(),
            to: Vec::new(),
        }
    }
}

/// A response and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub response: Response,
    /// The agent could not answer validly and its configured fallback answered instead
    /// (LLM agents; counted, and shown in `agents.csv`).
    pub fallback: bool,
}

impl Answer {
    /// An answer the agent gave itself.
    pub fn given(response: Response) -> Answer {
        Answer {
            response,
            fallback: false,
        }
    }
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
    Intention,
    Sanction,
    Probe,
}

impl RequestKind {
    pub const ALL: [RequestKind; 9] = [
        RequestKind::Message,
        RequestKind::Proposal,
        RequestKind::Vote,
        RequestKind::Pledge,
        RequestKind::Decision,
        RequestKind::Report,
        RequestKind::Intention,
        RequestKind::Sanction,
        RequestKind::Probe,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Message => "message",
            RequestKind::Proposal => "proposal",
            RequestKind::Vote => "vote",
            RequestKind::Pledge => "pledge",
            RequestKind::Decision => "decision",
            RequestKind::Report => "report",
            RequestKind::Intention => "intention",
            RequestKind::Sanction => "sanction",
            RequestKind::Probe => "probe",
        }
    }

    /// The kind named by [`RequestKind::as_str`].
    pub fn parse(name: &str) -> Option<RequestKind> {
        RequestKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl Request {
    pub fn kind(&self) -> RequestKind {
        match self {
            Request::Message { .. } => RequestKind::Message,
            Request::Proposal => RequestKind::Proposal,
            Request::Vote { .. } => RequestKind::Vote,
            Request::Pledge => RequestKind::Pledge,
            Request::Decision => RequestKind::Decision,
            Request::Report { .. } => RequestKind::Report,
            Request::Intention { .. } => RequestKind::Intention,
            Request::Sanction { .. } => RequestKind::Sanction,
            Request::Probe => RequestKind::Probe,
        }
    }
}

impl Response {
    pub fn kind(&self) -> RequestKind {
        match self {
            Response::Message { .. } => RequestKind::Message,
            Response::Proposal(_) => RequestKind::Proposal,
            Response::Vote(_) => RequestKind::Vote,
            Response::Pledge(_) => RequestKind::Pledge,
            Response::Decision(_) => RequestKind::Decision,
            Response::Report(_) => RequestKind::Report,
            Response::Intention(_) => RequestKind::Intention,
            Response::Sanction(_) => RequestKind::Sanction,
            Response::Probe(_) => RequestKind::Probe,
        }
    }
}
