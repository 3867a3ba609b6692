//! Reading a model's answer: lenient extraction, strict validation (DESIGN §4).
//!
//! Extraction forgives presentation (prose around the JSON, code fences); validation
//! forgives nothing else (types, ranges, the order limit, ships available). Numbers as
//! strings, fractions or missing fields are errors the model is told about, never
//! coerced.

use serde_json::{Map, Value};

use super::schema::{fields, limits_fleet, FieldKind, FieldSpec, SENSITIVITY_FIELDS};
use crate::agents::{
    Decision, Intention, Observation, ProbeAnswer, Request, Response, Sensitivities, Vote,
};

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
        FieldKind::Teams {
            teams,
            me,
            max_items,
        } => {
            team_list(v, name, teams, me, max_items)?;
            Ok(None)
        }
    }
}

/// The teams (0-based) a `Teams` field lists, checked: a list of distinct team numbers
/// from 1 to `teams`, not the answering team's own, at most `max_items`.
fn team_list(
    v: &Value,
    name: &str,
    teams: usize,
    me: usize,
    max_items: usize,
) -> Result<Vec<usize>, String> {
    let Value::Array(items) = v else {
        return Err(format!(
            "field `{name}` must be a list of team numbers, got {v}"
        ));
    };
    if items.len() > max_items {
        return Err(format!(
            "field `{name}` lists {} teams; at most {max_items} are allowed",
            items.len()
        ));
    }
    let allowed = FieldKind::allowed_teams(teams, me);
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let n = item
            .as_i64()
            .ok_or_else(|| format!("field `{name}` must list whole team numbers, got {item}"))?;
        if !allowed.contains(&n) {
            return Err(format!(
                "field `{name}`: {n} is not another team (teams are 1 to {teams}; you are team {me})"
            ));
        }
        let team = (n - 1) as usize;
        if out.contains(&team) {
            return Err(format!("field `{name}` lists team {n} twice"));
        }
        out.push(team);
    }
    Ok(out)
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
        Request::Message { directed, .. } => Response::Message {
            text: text_of("message"),
            to: if *directed {
                let v = map.get("to").cloned().unwrap_or(Value::Array(Vec::new()));
                team_list(&v, "to", obs.public.teams, obs.own.team + 1, usize::MAX)?
            } else {
                Vec::new()
            },
        },
        Request::Proposal => Response::Proposal(int("tac")),
        Request::Vote { .. } => Response::Vote(Vote {
            accept: map.get("accept").and_then(Value::as_bool).unwrap_or(false),
            reason: text_of("reason"),
        }),
        Request::Pledge => Response::Pledge(plan()),
        Request::Decision => Response::Decision(plan()),
        Request::Report { .. } => Response::Report(int("catch")),
        Request::Intention { sensitivities, .. } => Response::Intention(Intention {
            plan: plan(),
            reasoning: text_of("reasoning"),
            sensitivities: sensitivities.map(|_| {
                let change = |names: [&str; 3]| Decision {
                    order: int(names[0]),
                    deep: int(names[1]),
                    coast: int(names[2]),
                };
                let [deep_up, deep_down, coast_up, coast_down] = SENSITIVITY_FIELDS.map(change);
                Sensitivities {
                    deep_up,
                    deep_down,
                    coast_up,
                    coast_down,
                }
            }),
        }),
        Request::Probe => Response::Probe(ProbeAnswer {
            tac: int("tac"),
            set_by: int("set_by"),
        }),
        Request::Sanction { .. } => {
            let v = map.get("fine").cloned().unwrap_or(Value::Null);
            Response::Sanction(team_list(
                &v,
                "fine",
                obs.public.teams,
                obs.own.team + 1,
                usize::MAX,
            )?)
        }
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
            directed: false,
        };
        let long = format!("{{\"message\": \"{}\"}}", "a".repeat(601));
        assert!(p(message, &long).unwrap_err().contains("at most 600"));
        let rambling = format!("{{\"accept\": true, \"reason\": \"{}\"}}", "z".repeat(400));
        assert!(p(Request::Vote { tac: 1 }, &rambling).is_err());
        assert!(extract_json("``` broken fence {\"a\": 1}").is_ok());
    }

    #[test]
    fn intentions_and_sanctions_are_validated_like_decisions() {
        let o = obs(); // team 1 of 6, 4 ships, order limit 2
        let rep = Request::Intention {
            round: 1,
            reasoning_chars: 20,
            sensitivities: Some(0.1),
        };
        let mut answer =
            serde_json::json!({"order": 1, "deep": 3, "coast": 1, "reasoning": "steady"});
        for names in SENSITIVITY_FIELDS {
            for n in names {
                answer[n] = serde_json::json!(0);
            }
        }
        answer["deep_down_deep"] = serde_json::json!(-2);
        let Ok(Response::Intention(i)) = parse_answer(&rep, &answer.to_string(), &o, LIMITS) else {
            panic!("a valid intention");
        };
        assert_eq!(
            i.plan,
            Decision {
                order: 1,
                deep: 3,
                coast: 1
            }
        );
        assert_eq!(i.sensitivities.unwrap().deep_down.deep, -2);
        answer["deep_down_deep"] = serde_json::json!(-9);
        assert!(parse_answer(&rep, &answer.to_string(), &o, LIMITS).is_err());
        answer["deep_down_deep"] = serde_json::json!(0);
        answer["deep"] = serde_json::json!(4);
        let err = parse_answer(&rep, &answer.to_string(), &o, LIMITS).unwrap_err();
        assert!(err.contains("only 4 ships"), "{err}");

        let sanction = Request::Sanction {
            cost: 10,
            fine: 40,
            max_targets: 2,
        };
        let p = |t: &str| parse_answer(&sanction, t, &o, LIMITS);
        assert_eq!(p(r#"{"fine": [3, 6]}"#), Ok(Response::Sanction(vec![2, 5])));
        assert_eq!(p(r#"{"fine": []}"#), Ok(Response::Sanction(vec![])));
        assert!(p(r#"{"fine": [1]}"#)
            .unwrap_err()
            .contains("you are team 1"));
        assert!(p(r#"{"fine": [7]}"#).is_err());
        assert!(p(r#"{"fine": [2, 2]}"#).is_err());
        assert!(p(r#"{"fine": [2, 3, 4]}"#)
            .unwrap_err()
            .contains("at most 2"));
        assert!(p(r#"{"fine": "team 2"}"#).is_err());
    }
}
