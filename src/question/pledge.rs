//! `pledge`: the order and deployment a team pledges before deciding (the shared
//! ledger), and the pledges and the ledger as the board shows them.

use super::decision::{
    fallback_plan, plan_fields, plan_prompt_schema, plan_schema, plan_schema_text, read_plan,
};
use super::field::Checked;
use super::quote::data_block;
use super::{team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use crate::engine::Decision;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Title of the pledges block (the mock model reads it back).
pub const PLEDGES_TITLE: &str = "# Pledges this year";

/// A pledge: what a team says it will do this year (the shape of a decision).
pub type Pledge = Decision;

/// Pledge this year's order and deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeQuestion;

impl Question for PledgeQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Pledge
    }

    fn fields(&self, obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        plan_fields(obs)
    }

    fn schema(&self, obs: &Observation, limits: Limits) -> Value {
        plan_schema(&self.fields(obs, limits), obs)
    }

    fn prompt_schema(&self, obs: &Observation, limits: Limits) -> Value {
        plan_prompt_schema(&self.fields(obs, limits), obs)
    }

    fn schema_text(&self, obs: &Observation, limits: Limits) -> String {
        plan_schema_text(&self.fields(obs, limits), obs)
    }

    fn ask(&self, obs: &Observation) -> String {
        format!(
            "Pledge your order and deployment for this year: order at most {} new ships; deep + coast at most your {} ships.",
            obs.own.order_limit, obs.own.ships
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Pledge(read_plan(&a, obs)?))
    }

    /// Flagged as a fallback, the protocol records no pledge.
    fn fallback(&self, obs: &Observation, fallback: Fallback) -> Response {
        Response::Pledge(fallback_plan(obs, fallback))
    }
}

/// One line of the shared ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub year: u32,
    pub team: usize,
    /// What the team pledged (`None`: it gave no valid pledge).
    pub pledge: Option<Pledge>,
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

/// This year's pledges so far.
pub(super) fn render_pledges(out: &mut String, pledges: &[(usize, Pledge)]) {
    data_block(
        out,
        PLEDGES_TITLE,
        pledges.iter().map(|(t, p)| {
            json!({"team": team_name(*t), "order": p.order, "deep": p.deep, "coast": p.coast})
        }),
    );
}

/// The recent years of the ledger.
pub(super) fn render_ledger(out: &mut String, ledger: &[LedgerEntry]) {
    data_block(
        out,
        "# Ledger (recent years)",
        ledger.iter().map(|e| {
            json!({
                "year": e.year, "team": team_name(e.team),
                "pledge": e.pledge.map(|p| json!({"order": p.order, "deep": p.deep, "coast": p.coast})),
                "order": e.order, "deep": e.deep, "coast": e.coast,
                "catch": e.catch, "violation": e.violation,
            })
        }),
    );
}
