//! `proposal`: a total allowable catch (TAC) proposed in a quota negotiation, and the
//! negotiation as the board shows it (proposals, the median put to the vote, the TAC in
//! force, quotas exceeded).

use super::field::Checked;
use super::quote::data_block;
use super::{team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The label of the median's line (the mock model reads it back).
pub const MEDIAN_LABEL: &str = "Median put to the vote:";

/// Propose a TAC (fish, both areas together) for the year about to be played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalQuestion;

impl Question for ProposalQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Proposal
    }

    fn fields(&self, _obs: &Observation, limits: Limits) -> Vec<FieldSpec> {
        vec![FieldSpec::integer("tac", 0, limits.max_fish)]
    }

    fn ask(&self, _obs: &Observation) -> String {
        "Propose a total allowable catch (fish, deep sea and coast together) for this year."
            .to_string()
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Proposal(a.int("tac")))
    }

    /// An abstention (the protocol leaves a fallback proposal out of the median).
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Proposal(0)
    }
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
    /// Proposals of this negotiation, one per team (`None` before the proposal phase; a
    /// team's `None`: it abstained).
    pub proposals: Option<Vec<Option<i64>>>,
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
    /// Who set the TAC in force.
    #[serde(default)]
    pub set_by: TacSource,
}

/// Who set a TAC: a negotiation (`quota`), the elected leader, or a regulator.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TacSource {
    #[default]
    Negotiated,
    /// The leader (a team, 0-based).
    Leader(usize),
    /// The regulator, by the rule it states.
    Regulator(String),
}

/// The negotiation's section of the board.
pub(super) fn render_quota(out: &mut String, q: &QuotaBoard) {
    match &q.set_by {
        TacSource::Negotiated => out.push_str("# Quota negotiation\n"),
        TacSource::Leader(t) => {
            out.push_str(&format!("# Quota set by the leader ({})\n", team_name(*t)))
        }
        TacSource::Regulator(rule) => {
            out.push_str(&format!("# Quota set by the regulator: {rule}\n"))
        }
    }
    if let Some(p) = &q.proposals {
        let listed: Vec<String> = p
            .iter()
            .enumerate()
            .map(|(t, tac)| match tac {
                Some(tac) => format!("{} {tac}", team_name(t)),
                None => format!("{} abstained", team_name(t)),
            })
            .collect();
        out.push_str(&format!("Proposals (TAC): {}\n", listed.join(", ")));
    }
    if let Some(m) = q.median {
        out.push_str(&format!("{MEDIAN_LABEL} {m}\n"));
    }
    match q.tac {
        Some(t) => out.push_str(&format!("Total allowable catch in force: {t}\n")),
        None => out.push_str("Total allowable catch in force: none\n"),
    }
    data_block(
        out,
        "Quotas exceeded last year:",
        q.violations_last_year.iter().map(|v| {
            json!({"team": team_name(v.team), "year": v.year, "quota": v.quota, "catch": v.catch})
        }),
    );
}
