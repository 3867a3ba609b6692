//! `decision`: the year's order and deployment, the one question every protocol asks.
//! Also the plan fields that pledges and intentions share with it.

use super::field::{check_fleet, Checked};
use super::{Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use crate::engine::Decision;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Decide this year's order and deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionQuestion;

impl Question for DecisionQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Decision
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
            "Decide this year's order and deployment: order at most {} new ships; deep + coast at most your {} ships (the rest stay in the harbor).",
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
        Ok(Response::Decision(read_plan(&a, obs)?))
    }

    fn fallback(&self, obs: &Observation, fallback: Fallback) -> Response {
        Response::Decision(fallback_plan(obs, fallback))
    }
}

/// `order`, `deep` and `coast` within the order limit and the fleet.
pub(super) fn plan_fields(obs: &Observation) -> Vec<FieldSpec> {
    let ships = obs.own.ships as i64;
    vec![
        FieldSpec::integer("order", 0, obs.own.order_limit as i64),
        FieldSpec::integer("deep", 0, ships),
        FieldSpec::integer("coast", 0, ships),
    ]
}

/// The exact schema of an answer with a plan: one complete object schema per number of
/// ships sent to the deep sea, `d` = 0 ..= ships, in which `deep` is `d` and `coast` at
/// most `ships − d`; so the fleet rule, which no single object schema can state, is in
/// the schema. Every branch repeats every field and `required`: a grammar-constrained
/// server (llama.cpp) builds its grammar from a branch alone, and a branch holding only
/// `deep` and `coast` would drop the others. The rule is also stated in words.
pub(super) fn plan_schema(fields: &[FieldSpec], obs: &Observation) -> Value {
    let ships = obs.own.ships as i64;
    // One object built, then copied into each branch: cheaper than building each anew
    // when a large fleet makes dozens of branches.
    let object = super::field::object_schema(fields);
    let branches: Vec<Value> = (0..=ships)
        .map(|d| {
            let mut branch = object.clone();
            branch["properties"]["deep"] = json!({"type": "integer", "const": d});
            branch["properties"]["coast"] =
                json!({"type": "integer", "minimum": 0, "maximum": ships - d});
            branch
        })
        .collect();
    json!({
        "description": format!("deep + coast must be at most {ships} (your ships)"),
        "anyOf": branches,
    })
}

/// [`plan_schema`] as the text `serde_json` writes for it, without building a branch per
/// ship: the object is written once with markers where `deep` and `coast` go, and each
/// branch is that text with the two filled in (keys in `Value`'s sorted order).
pub(super) fn plan_schema_text(fields: &[FieldSpec], obs: &Observation) -> String {
    const DEEP: &str = "\u{1}deep";
    const COAST: &str = "\u{1}coast";
    let ships = obs.own.ships as i64;
    let mut object = super::field::object_schema(fields);
    object["properties"]["deep"] = json!(DEEP);
    object["properties"]["coast"] = json!(COAST);
    let template = object.to_string();
    let (deep_at, coast_at) = (json!(DEEP).to_string(), json!(COAST).to_string());
    // The template cut at its two markers (serde_json writes keys sorted: `coast` comes
    // before `deep`); each branch is the three pieces with the two values between them.
    let (before, rest) = template.split_once(&coast_at).unwrap_or((&template, ""));
    let (between, after) = rest.split_once(&deep_at).unwrap_or((rest, ""));
    let mut out = String::with_capacity(16 + (ships as usize + 1) * (template.len() + 64));
    out.push_str("{\"anyOf\":[");
    for d in 0..=ships {
        if d > 0 {
            out.push(',');
        }
        let deep = format!("{{\"const\":{d},\"type\":\"integer\"}}");
        let coast = format!(
            "{{\"maximum\":{},\"minimum\":0,\"type\":\"integer\"}}",
            ships - d
        );
        for text in [before, &coast, between, &deep, after] {
            out.push_str(text);
        }
    }
    out.push_str("],\"description\":");
    out.push_str(&json!(format!("deep + coast must be at most {ships} (your ships)")).to_string());
    out.push('}');
    out
}

/// A plan's schema as the question's text shows it: the fields as one object, the fleet
/// rule in words (the exact choice of [`plan_schema`] goes to the server).
pub(super) fn plan_prompt_schema(fields: &[FieldSpec], obs: &Observation) -> Value {
    let mut schema = super::field::object_schema(fields);
    schema["description"] = json!(format!(
        "deep + coast must be at most {} (your ships)",
        obs.own.ships
    ));
    schema
}

/// The plan of a checked answer, within the fleet.
pub(super) fn read_plan(a: &Checked, obs: &Observation) -> Result<Decision, String> {
    check_fleet(a.int("deep"), a.int("coast"), obs.own.ships as i64)?;
    Ok(Decision {
        order: a.int("order"),
        deep: a.int("deep"),
        coast: a.int("coast"),
    })
}

/// What stands in for a plan: last year's decision, or every ship in the harbor.
pub(super) fn fallback_plan(obs: &Observation, fallback: Fallback) -> Decision {
    match fallback {
        Fallback::Hold => Decision::default(),
        Fallback::Previous | Fallback::FailRun => obs.own.last_decision,
    }
}
