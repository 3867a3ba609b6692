//! `sanction`: which other teams to fine after the year just played (sanctions), and the
//! fines and the year's actions as the board shows them.

use super::field::Checked;
use super::quote::data_block;
use super::{
    team_name, Fallback, FieldSpec, LedgerEntry, Limits, Observation, Question, RequestKind,
    Response,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// What the actions block's title starts with (the mock model reads it back).
pub const ACTIONS_TITLE_PREFIX: &str = "# What each team did";

/// Which other teams to fine: each fine costs this team `cost` and the fined team `fine`;
/// at most `max_targets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanctionQuestion {
    pub cost: i64,
    pub fine: i64,
    pub max_targets: usize,
}

impl SanctionQuestion {
    pub(super) fn sample() -> SanctionQuestion {
        SanctionQuestion {
            cost: 50,
            fine: 200,
            max_targets: 5,
        }
    }
}

impl Question for SanctionQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Sanction
    }

    fn fields(&self, obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        vec![FieldSpec::teams(
            "fine",
            obs.public.teams,
            obs.own.team + 1,
            self.max_targets,
        )]
    }

    fn ask(&self, obs: &Observation) -> String {
        let most = if self.max_targets + 1 < obs.public.teams {
            format!("at most {} `true`; ", self.max_targets)
        } else {
            String::new()
        };
        format!(
            "The year is over. You may fine other teams for what they did: each fine costs your team ${} and takes ${} from the fined team's bank next year. In `fine`, mark each other team `true` to fine it or `false` not to ({most}all `false` fines nobody).",
            self.cost, self.fine
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Sanction(a.teams("fine")))
    }

    /// Nobody is fined.
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Sanction(Vec::new())
    }
}

/// A fine imposed after a year (sanctions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanctionRecord {
    pub year: u32,
    pub from: usize,
    pub to: usize,
    pub cost: i64,
    pub fine: i64,
}

/// The fines imposed after last year.
pub(super) fn render_fines(out: &mut String, fines: &[SanctionRecord]) {
    data_block(
        out,
        "# Fines imposed after last year (taken from this year's banks)",
        fines.iter().map(|f| {
            json!({"year": f.year, "from": team_name(f.from), "to": team_name(f.to), "cost": f.cost, "fine": f.fine})
        }),
    );
}

/// What each team did in the year just played, over-use marked.
pub(super) fn render_actions(out: &mut String, actions: &[LedgerEntry]) {
    data_block(
        out,
        "# What each team did in the year just played (`over_share`: caught more than an equal share of the sustainable yield)",
        actions.iter().map(|e| {
            json!({
                "year": e.year, "team": team_name(e.team),
                "order": e.order, "deep": e.deep, "coast": e.coast,
                "catch": e.catch, "over_share": e.violation,
            })
        }),
    );
}
