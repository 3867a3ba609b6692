//! Reading a model's answer: lenient extraction, strict validation (DESIGN §4).
//!
//! Extraction forgives presentation (prose around the JSON, code fences); validation
//! forgives nothing else (types, ranges, the order limit, ships available). Numbers as
//! strings, fractions or missing fields are errors the model is told about, never
//! coerced.

use serde_json::{Map, Value};

use super::schema::{fields, limits_fleet, FieldKind, FieldSpec};
use crate::agents::{Decision, Observation, Request, Response, Vote};

/// Limits the validation checks besides the request and the observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest TAC or report accepted (the sea's combined capacity).
    pub max_fish: i64,
}

/// The first complete JSON object in `text`: inside a code fence if there is one, else
/// the first `{` whose balanced object parses.
pub fn extract_json(text: &str) -> Result<Map<String, Value>, String> {
    let candidates = fenced_blocks(text).into_iter().chain(std::iter::once(text));
    for chunk in candidates {
        if let Some(obj) = first_object(chunk) {
            return Ok(obj);
        }
    }
    if text.trim().is_empty() {
        Err("the answer was empty; reply with a JSON object".into())
    } else if text.contains('{') {
        Err(
            "the answer contains no complete, valid JSON object (is it cut off or malformed?)"
                .into(),
        )
    } else {
        Err("the answer contains no JSON object".into())
    }
}

/// Contents of ``` fences, in order.
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        // Skip an info string such as `json`.
        let body_start = after.find('\n').map(|i| i + 1).unwrap_or(0);
        let body = &after[body_start..];
        match body.find("```") {
            Some(end) => {
                out.push(&body[..end]);
                rest = &body[end + 3..];
            }
            None => break,
        }
    }
    out
}

/// Scans for balanced `{…}` spans (string-aware) and returns the first that parses as
/// an object.
fn first_object(text: &str) -> Option<Map<String, Value>> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(off) = text[start..].find('{') {
        let open = start + off;
        if let Some(close) = balanced_end(bytes, open) {
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text[open..=close]) {
                return Some(map);
            }
        }
        start = open + 1;
    }
    None
}

fn balanced_end(bytes: &[u8], open: usize) -> Option<usize> {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Check one field against its spec; integers are returned, other values only checked.
fn check(map: &Map<String, Value>, spec: &FieldSpec) -> Result<Option<i64>, String> {
    let name = spec.name;
    let v = map
        .get(name)
        .ok_or_else(|| format!("field `{name}` is missing"))?;
    match spec.kind {
        FieldKind::Integer { min, max } => {
            let n = match v {
                Value::Number(n) => n
                    .as_i64()
                    .ok_or_else(|| format!("field `{name}` must be a whole number, got {n}"))?,
                other => return Err(format!("field `{name}` must be an integer, got {other}")),
            };
            if n < min || n > max {
                return Err(format!(
                    "field `{name}` must be between {min} and {max}, got {n}"
                ));
            }
            Ok(Some(n))
        }
        FieldKind::Text { max_chars } => {
            let Value::String(text) = v else {
                return Err(format!("field `{name}` must be a string, got {v}"));
            };
            let n = text.chars().count();
            if n > max_chars {
                return Err(format!(
                    "field `{name}` has {n} characters; at most {max_chars} are allowed"
                ));
            }
            Ok(None)
        }
        FieldKind::Boolean => match v {
            Value::Bool(_) => Ok(None),
            other => Err(format!("field `{name}` must be true or false, got {other}")),
        },
    }
}

/// Validates an answer to `request` against the same field specs the schema states.
pub fn parse_answer(
    request: &Request,
    text: &str,
    obs: &Observation,
    limits: Limits,
) -> Result<Response, String> {
    let map = extract_json(text)?;
    let mut ints = std::collections::BTreeMap::new();
    for spec in fields(request, obs, limits) {
        if let Some(n) = check(&map, &spec)? {
            ints.insert(spec.name, n);
        }
    }
    let int = |name: &str| ints.get(name).copied().unwrap_or(0);
    let text_of = |name: &str| {
        map.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if limits_fleet(request) {
        let ships = obs.own.ships as i64;
        if int("deep") + int("coast") > ships {
            return Err(format!(
                "deep + coast = {} but you have only {ships} ships (new orders arrive next year)",
                int("deep") + int("coast")
            ));
        }
    }
    let plan = || Decision {
        order: int("order"),
        deep: int("deep"),
        coast: int("coast"),
    };
    Ok(match request {
        Request::Message { .. } => Response::Message(text_of("message")),
        Request::Proposal => Response::Proposal(int("tac")),
        Request::Vote { .. } => Response::Vote(Vote {
            accept: map.get("accept").and_then(Value::as_bool).unwrap_or(false),
            reason: text_of("reason"),
        }),
        Request::Pledge => Response::Pledge(plan()),
        Request::Decision => Response::Decision(plan()),
        Request::Report { .. } => Response::Report(int("catch")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::testutil::obs;

    const LIMITS: Limits = Limits { max_fish: 4500 };

    fn decision(text: &str) -> Result<Response, String> {
        parse_answer(&Request::Decision, text, &obs(), LIMITS)
    }

    #[test]
    fn lenient_extraction_accepts_realistic_wrappings() {
        let ok = Response::Decision(Decision {
            order: 2,
            deep: 3,
            coast: 1,
        });
        let corpus = [
            r#"{"order": 2, "deep": 3, "coast": 1}"#,
            "```json\n{\"order\": 2, \"deep\": 3, \"coast\": 1}\n```",
            "```\n{\"order\":2,\"deep\":3,\"coast\":1}\n```\nThat is my plan.",
            "Sure! Given the densities I will expand.\n{\"order\": 2, \"deep\": 3, \"coast\": 1}\nGood luck to all.",
            "My reasoning {not json} then {\"order\": 2, \"deep\": 3, \"coast\": 1, \"why\": \"a } in {text}\"}",
            "{\"order\": 2, \"deep\": 3, \"coast\": 1, \"reasoning\": \"extra fields are ignored\"}",
        ];
        for text in corpus {
            assert_eq!(decision(text), Ok(ok.clone()), "{text}");
        }
    }

    #[test]
    fn strict_validation_rejects_realistic_bad_answers_with_a_reason() {
        // order_limit is 2 and ships 4 in the sample observation.
        let corpus = [
            ("", "empty"),
            ("I'm sorry, but I can't help with that.", "no JSON object"),
            ("{\"order\": 1, \"deep\": ", "no complete"),
            (
                r#"{"order": "2", "deep": 3, "coast": 1}"#,
                "must be an integer",
            ),
            (r#"{"order": 2.5, "deep": 3, "coast": 1}"#, "whole number"),
            (r#"{"order": 2, "deep": 3}"#, "`coast` is missing"),
            (r#"{"order": 5, "deep": 3, "coast": 1}"#, "between 0 and 2"),
            (r#"{"order": -1, "deep": 3, "coast": 1}"#, "between 0 and 2"),
            (r#"{"order": 1, "deep": 4, "coast": 1}"#, "only 4 ships"),
            (
                r#"{"order": 1, "deep": null, "coast": 1}"#,
                "must be an integer",
            ),
        ];
        for (text, why) in corpus {
            let err = decision(text).expect_err(text);
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn other_request_kinds_validate_types_and_ranges() {
        let o = obs();
        let p = |r: Request, t: &str| parse_answer(&r, t, &o, LIMITS);
        assert_eq!(
            p(Request::Proposal, r#"{"tac": 800}"#),
            Ok(Response::Proposal(800))
        );
        assert!(p(Request::Proposal, r#"{"tac": 99999}"#).is_err());
        assert!(p(
            Request::Vote { tac: 1 },
            r#"{"accept": "yes", "reason": "x"}"#
        )
        .is_err());
        assert!(matches!(
            p(Request::Vote { tac: 1 }, r#"{"accept": true, "reason": "fair"}"#),
            Ok(Response::Vote(v)) if v.accept
        ));
        assert!(p(Request::Report { actual: 3 }, r#"{"catch": -1}"#).is_err());
        let message = Request::Message {
            round: 0,
            max_chars: 600,
        };
        let long = format!("{{\"message\": \"{}\"}}", "a".repeat(601));
        assert!(p(message, &long).unwrap_err().contains("at most 600"));
        let rambling = format!("{{\"accept\": true, \"reason\": \"{}\"}}", "z".repeat(400));
        assert!(p(Request::Vote { tac: 1 }, &rambling).is_err());
        assert!(extract_json("``` broken fence {\"a\": 1}").is_ok());
    }
}
