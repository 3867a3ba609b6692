//! `intention`: the decision a team intends to make, announced before the final
//! decisions (A2A, REP), with a bounded reasoning and, under REP, its sensitivities; and
//! the announcements and REP's aggregates as the board shows them.

use super::decision::{plan_fields, plan_prompt_schema, plan_schema, read_plan};
use super::field::Checked;
use super::quote::data_block;
use super::quote::lines;
use super::{
    fmt_num, team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response,
};
use crate::engine::Decision;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Titles of the intention blocks; every one starts with [`TITLE_PREFIX`] (the mock
/// model reads them back).
pub const EARLIER_TITLE: &str =
    "# Intentions announced in earlier years (quoted; the harness sets `team`)";
pub const THIS_YEAR_TITLE: &str =
    "# Intentions announced this year (quoted; the harness sets `team`)";
pub const TITLE_PREFIX: &str = "# Intentions";
/// The consensus line's label (the mock model reads it back).
pub const CONSENSUS_LABEL: &str = "Consensus (median of the announced plans): ";

/// The sensitivity fields of a REP intention: `{scenario}_{coordinate}`, each the change
/// of that coordinate of the plan in that scenario.
pub const SENSITIVITY_FIELDS: [[&str; 3]; 4] = [
    ["deep_up_order", "deep_up_deep", "deep_up_coast"],
    ["deep_down_order", "deep_down_deep", "deep_down_coast"],
    ["coast_up_order", "coast_up_deep", "coast_up_coast"],
    ["coast_down_order", "coast_down_deep", "coast_down_coast"],
];

/// Announce the decision this team intends to make (round `round`), with a reasoning of
/// at most `reasoning_chars` characters. With `sensitivities`, also how the plan would
/// change if each area's density were that much higher or lower (REP).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntentionQuestion {
    pub round: u32,
    pub reasoning_chars: usize,
    pub sensitivities: Option<f64>,
}

impl IntentionQuestion {
    pub(super) fn sample(message_chars: usize) -> IntentionQuestion {
        IntentionQuestion {
            round: 1,
            reasoning_chars: message_chars.max(1),
            sensitivities: Some(0.1),
        }
    }
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

impl Question for IntentionQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Intention
    }

    fn round(&self) -> u32 {
        self.round
    }

    fn fields(&self, obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        let order_limit = obs.own.order_limit as i64;
        let ships = obs.own.ships as i64;
        let mut out = plan_fields(obs);
        if self.reasoning_chars > 0 {
            out.push(FieldSpec::text("reasoning", self.reasoning_chars));
        }
        if self.sensitivities.is_some() {
            for scenario in SENSITIVITY_FIELDS {
                out.push(FieldSpec::integer(scenario[0], -order_limit, order_limit));
                out.push(FieldSpec::integer(scenario[1], -ships, ships));
                out.push(FieldSpec::integer(scenario[2], -ships, ships));
            }
        }
        out
    }

    fn schema(&self, obs: &Observation, limits: Limits) -> Value {
        plan_schema(&self.fields(obs, limits), obs)
    }

    fn prompt_schema(&self, obs: &Observation, limits: Limits) -> Value {
        plan_prompt_schema(&self.fields(obs, limits), obs)
    }

    fn ask(&self, obs: &Observation) -> String {
        let mut ask = format!(
            "Announce the decision you intend to make this year (round {}): order at most {} new ships; deep + coast at most your {} ships. Every team sees it before the final decisions; it does not bind you.",
            self.round, obs.own.order_limit, obs.own.ships
        );
        if self.reasoning_chars > 0 {
            ask.push_str(&format!(
                " Give your reasoning in at most {} characters.",
                self.reasoning_chars
            ));
        }
        if let Some(delta) = self.sensitivities {
            ask.push_str(&format!(
                " Also state how your order, deep and coast would change (in ships, + or -) if the deep-sea or the coast density were {} higher (`_up`) or lower (`_down`).",
                fmt_num(delta)
            ));
        }
        ask
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        let plan = read_plan(&a, obs)?;
        let sensitivities = self.sensitivities.map(|_| {
            let change = |names: [&str; 3]| Decision {
                order: a.int(names[0]),
                deep: a.int(names[1]),
                coast: a.int(names[2]),
            };
            let [deep_up, deep_down, coast_up, coast_down] = SENSITIVITY_FIELDS.map(change);
            Sensitivities {
                deep_up,
                deep_down,
                coast_up,
                coast_down,
            }
        });
        Ok(Response::Intention(Intention {
            plan,
            reasoning: a.text("reasoning"),
            sensitivities,
        }))
    }

    /// Flagged as a fallback, an intention is not published.
    fn fallback(&self, obs: &Observation, _fallback: Fallback) -> Response {
        Response::Intention(Intention {
            plan: obs.own.last_decision,
            reasoning: String::new(),
            sensitivities: None,
        })
    }
}

/// An intention as the board shows it: who announced it, in which round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedIntention {
    /// The year it was announced.
    pub year: u32,
    pub team: usize,
    pub round: u32,
    pub intention: Intention,
}

/// The id of team `team`'s intention of `round` in `year`: `i<year>.<round>.<team + 1>`.
pub fn intention_id(year: u32, round: u32, team: usize) -> String {
    format!("i{year}.{round}.{}", team + 1)
}

impl PublishedIntention {
    /// Its id: `i<year>.<round>.<team>` (team numbered from 1).
    pub fn id(&self) -> String {
        intention_id(self.year, self.round, self.team)
    }

    /// The intention as the board quotes it.
    pub fn item(&self) -> Value {
        let p = self.intention.plan;
        let mut item = json!({
            "year": self.year, "team": team_name(self.team), "round": self.round,
            "order": p.order, "deep": p.deep, "coast": p.coast,
        });
        if !self.intention.reasoning.is_empty() {
            item["reasoning"] = json!(self.intention.reasoning);
        }
        if let Some(s) = &self.intention.sensitivities {
            let c = |d: &Decision| json!({"order": d.order, "deep": d.deep, "coast": d.coast});
            item["sensitivities"] = json!({
                "deep_up": c(&s.deep_up), "deep_down": c(&s.deep_down),
                "coast_up": c(&s.coast_up), "coast_down": c(&s.coast_down),
            });
        }
        item
    }
}

/// The coordinate-wise medians of the published numeric sensitivities (REP).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SensitivityMedians {
    /// Each `[order, deep, coast]`.
    pub deep_up: [f64; 3],
    pub deep_down: [f64; 3],
    pub coast_up: [f64; 3],
    pub coast_down: [f64; 3],
    /// Teams whose sensitivities entered the medians.
    pub teams: usize,
}

/// Intentions of earlier years (social memory).
pub(super) fn render_earlier(out: &mut String, items: &[PublishedIntention]) {
    data_block(
        out,
        EARLIER_TITLE,
        items.iter().map(PublishedIntention::item),
    );
}

/// This year's intentions so far.
pub(super) fn render_this_year(out: &mut String, items: &[PublishedIntention]) {
    data_block(
        out,
        THIS_YEAR_TITLE,
        items.iter().map(PublishedIntention::item),
    );
}

/// REP's medians of the announced sensitivities.
pub(super) fn render_medians(out: &mut String, m: &SensitivityMedians) {
    let change = |c: &[f64; 3]| {
        format!(
            "order {}, deep {}, coast {}",
            signed(c[0]),
            signed(c[1]),
            signed(c[2])
        )
    };
    out.push_str(&lines([
        format!(
            "# Median sensitivities of the {} teams that stated them (computed by the harness)",
            m.teams
        ),
        format!(
            "If the deep-sea density were higher: {}",
            change(&m.deep_up)
        ),
        format!(
            "If the deep-sea density were lower: {}",
            change(&m.deep_down)
        ),
        format!("If the coast density were higher: {}", change(&m.coast_up)),
        format!("If the coast density were lower: {}", change(&m.coast_down)),
    ]));
}

/// REP's consensus plan.
pub(super) fn render_consensus(out: &mut String, c: &Decision) {
    out.push_str(&format!(
        "{CONSENSUS_LABEL}order {}, deep {}, coast {}\n",
        c.order, c.deep, c.coast
    ));
}

/// A number of ships as a change: `+2`, `-1`, `0` (medians may be halves).
fn signed(x: f64) -> String {
    let n = fmt_num(x);
    if x > 0.0 {
        format!("+{n}")
    } else {
        n
    }
}
