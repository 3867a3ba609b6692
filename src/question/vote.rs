//! `vote`: accept or reject the TAC put to the vote (the median of the proposals).

use super::field::Checked;
use super::{Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest `reason` of a vote, in characters.
pub const MAX_REASON_CHARS: usize = 300;

/// Accept or reject the TAC `tac` put to the vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteQuestion {
    pub tac: i64,
}

impl VoteQuestion {
    pub(super) fn sample() -> VoteQuestion {
        VoteQuestion { tac: 880 }
    }
}

/// An answer to a vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub accept: bool,
    pub reason: String,
}

impl Question for VoteQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Vote
    }

    fn fields(&self, _obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        vec![
            FieldSpec::boolean("accept"),
            FieldSpec::text("reason", MAX_REASON_CHARS),
        ]
    }

    fn ask(&self, _obs: &Observation) -> String {
        format!(
            "Vote on the median proposal, a total allowable catch of {} fish: accept or reject, with a short reason.",
            self.tac
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Vote(Vote {
            accept: a.boolean("accept"),
            reason: a.text("reason"),
        }))
    }

    /// An abstention (the protocol leaves a fallback vote out of the accept share).
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Vote(Vote {
            accept: false,
            reason: "abstained: no valid answer".into(),
        })
    }
}
