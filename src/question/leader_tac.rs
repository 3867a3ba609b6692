//! `leader_tac`: the total allowable catch the leader sets for the year (the `leader`
//! protocol), adopted as set or put to a vote.

use super::field::Checked;
use super::{fmt_num, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// As the leader, set this year's TAC; `approval` when it is put to a vote (the share of
/// votes it needs), `None` when it is adopted as set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LeaderTacQuestion {
    pub approval: Option<f64>,
}

impl Question for LeaderTacQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::LeaderTac
    }

    fn fields(&self, _obs: &Observation, limits: Limits) -> Vec<FieldSpec> {
        vec![FieldSpec::integer("tac", 0, limits.max_fish)]
    }

    fn ask(&self, _obs: &Observation) -> String {
        let how = match self.approval {
            Some(share) => format!(
                "it is put to a vote of all teams and adopted if at least {}% accept",
                fmt_num(share * 100.0)
            ),
            None => "it is adopted as you set it".to_string(),
        };
        format!(
            "You are the leader this year. Set the total allowable catch (fish, deep sea and coast together) for this year: {how}."
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::LeaderTac(a.int("tac")))
    }

    /// No TAC this year (the protocol sets none for a fallback).
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::LeaderTac(0)
    }
}
