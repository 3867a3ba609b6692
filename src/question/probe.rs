//! `probe`: the consensus probe, a measurement never published: what total catch is the
//! group following, and who set it?

use super::field::Checked;
use super::{Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Ask the consensus probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeQuestion;

/// An answer to the consensus probe: the total catch the agent thinks the group follows
/// and the team (1-based, as prompts count; 0: nobody) it thinks set it. Deliberately
/// unbounded, so that an answer naming a team or number that does not exist can be
/// counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeAnswer {
    pub tac: i64,
    pub set_by: i64,
}

impl Question for ProbeQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Probe
    }

    /// Unbounded on purpose: the probe counts answers naming what does not exist.
    fn fields(&self, _obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        vec![
            FieldSpec::integer("tac", 0, i64::MAX),
            FieldSpec::integer("set_by", 0, i64::MAX),
        ]
    }

    fn ask(&self, _obs: &Observation) -> String {
        "A question for the record (your answer is not shown to anyone and changes nothing in the game): what total catch per year (fish, both areas together) is the group of teams following, and which team set it? Give the team's number in `set_by`, or 0 if nobody set it.".to_string()
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Probe(ProbeAnswer {
            tac: a.int("tac"),
            set_by: a.int("set_by"),
        }))
    }

    /// No answer (the game records none for a fallback).
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Probe(ProbeAnswer { tac: 0, set_by: 0 })
    }
}
