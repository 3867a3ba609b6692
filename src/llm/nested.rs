//! `structured_output = "json_schema_nested"`: the exact schema of a question for a server
//! whose strict mode requires an object at the root and knows fewer keywords (OpenAI).
//!
//! The encoding stays exact. A schema whose root is a choice (`anyOf`: a plan, one branch
//! per deep-sea fleet) goes under a root object's single required property `answer`, so
//! the model writes `{"answer": {"order": …, "deep": …, "coast": …}}` and the agent takes
//! the inner object before validating it. `maxLength` becomes the equivalent `pattern`
//! (`^[\s\S]{0,N}$`) and `const` a one-value `enum`, which strict modes accept.

use serde_json::{json, Value};

/// The property a nested choice is written under.
pub const ANSWER: &str = "answer";

/// Whether a schema's root is a choice that this mode must nest.
pub fn needs_nesting(schema: &Value) -> bool {
    schema.get("anyOf").is_some()
}

/// The schema as this mode sends it.
pub fn nest(schema: &Value) -> Value {
    let inner = strict_keywords(schema);
    if needs_nesting(schema) {
        json!({
            "type": "object",
            "properties": {ANSWER: inner},
            "required": [ANSWER],
            "additionalProperties": false,
        })
    } else {
        inner
    }
}

/// `maxLength` as a pattern, `const` as an enum, everywhere in the schema.
fn strict_keywords(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("maxLength", Value::Number(n)) => {
                        out.insert("pattern".into(), json!(format!("^[\\s\\S]{{0,{n}}}$")));
                    }
                    ("const", v) => {
                        out.insert("enum".into(), json!([v]));
                    }
                    _ => {
                        out.insert(k.clone(), strict_keywords(v));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(strict_keywords).collect()),
        other => other.clone(),
    }
}

/// The answer inside `{"answer": {…}}`, as JSON text; any other text as it is (the
/// validator then says what is wrong with it).
pub fn unnest(text: &str) -> String {
    match crate::question::json::extract_json(text) {
        Ok(map) if map.len() == 1 => match map.get(ANSWER) {
            Some(inner @ Value::Object(_)) => inner.to_string(),
            _ => text.to_string(),
        },
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::GameParams;
    use crate::question::{Limits, Observation, Request};

    #[test]
    fn a_nested_plan_accepts_exactly_the_nested_valid_answers() {
        let o = Observation::sample(&GameParams::default(), 6, 10, 3); // 4 ships, limit 2
        let limits = Limits { max_fish: 4500 };
        let exact = Request::decision().question().schema(&o, limits);
        let nested = nest(&exact);
        assert_eq!(nested["type"], "object");
        assert_eq!(nested["required"], json!([ANSWER]));
        let validator = crate::question::testutil::Referee::new(&nested);
        for deep in 0..=5 {
            for coast in 0..=5 {
                let inner = json!({"order": 1, "deep": deep, "coast": coast});
                let wrapped = json!({ANSWER: inner.clone()});
                let valid = Request::decision()
                    .parse(&unnest(&wrapped.to_string()), &o, limits)
                    .is_ok();
                assert_eq!(validator.is_valid(&wrapped), valid, "{wrapped}");
                assert_eq!(valid, deep + coast <= 4);
            }
        }
        // Text limits as patterns, with the same bound.
        let vote = Request::Vote(crate::question::VoteQuestion { tac: 1 });
        let nested = nest(&vote.question().schema(&o, limits));
        let v = crate::question::testutil::Referee::new(&nested);
        assert!(v.is_valid(&json!({"accept": true, "reason": "x".repeat(300)})));
        assert!(!v.is_valid(&json!({"accept": true, "reason": "x".repeat(301)})));
        assert!(
            nested.to_string().contains("pattern") && !nested.to_string().contains("maxLength")
        );
    }
}
