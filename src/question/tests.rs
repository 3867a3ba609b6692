//! Every question's schema and validator agree, and answers are read leniently and
//! validated strictly (a corpus of realistic good and bad answers).

use super::json::extract_json;
use super::*;
use crate::engine::GameParams;
use proptest::prelude::*;
use serde_json::json;

const LIMITS: Limits = Limits { max_fish: 4500 };

/// Team 1 of 6 with 4 ships and an order limit of 2, in year 3 of 10.
fn obs() -> Observation {
    Observation::sample(&GameParams::default(), 6, 10, 3)
}

fn answer_schema(request: &Request, o: &Observation, limits: Limits) -> Value {
    request.question().schema(o, limits)
}

fn parse_answer(
    request: &Request,
    text: &str,
    o: &Observation,
    limits: Limits,
) -> Result<Response, String> {
    request.parse(text, o, limits)
}

/// Whether the answer also has to keep `deep + coast` within the fleet.
fn limits_fleet(request: &Request) -> bool {
    matches!(
        request,
        Request::Pledge(_) | Request::Decision(_) | Request::Intention(_)
    )
}

/// A small JSON-schema checker for the subset the answer schemas use (object,
/// required, additionalProperties, integer with minimum/maximum, string with
/// maxLength, boolean, array of enumerated integers with maxItems and uniqueItems):
/// written from the JSON-schema specification, not from the
/// validator, so the two can be compared.
fn schema_accepts(schema: &Value, answer: &Value) -> bool {
    let Some(obj) = answer.as_object() else {
        return false;
    };
    let props = schema["properties"].as_object().unwrap();
    let required = schema["required"].as_array().unwrap();
    if required
        .iter()
        .any(|r| !obj.contains_key(r.as_str().unwrap()))
    {
        return false;
    }
    if schema["additionalProperties"] == json!(false) && obj.keys().any(|k| !props.contains_key(k))
    {
        return false;
    }
    obj.iter().all(|(k, v)| {
        let p = &props[k];
        match p["type"].as_str().unwrap() {
                "integer" => v.as_i64().is_some_and(|n| {
                    v.is_i64() || v.is_u64()
                } && n >= p["minimum"].as_i64().unwrap()
                    && n <= p["maximum"].as_i64().unwrap_or(i64::MAX)),
                "string" => v
                    .as_str()
                    .is_some_and(|s| s.chars().count() as u64 <= p["maxLength"].as_u64().unwrap()),
                "boolean" => v.is_boolean(),
                "array" => v.as_array().is_some_and(|items| {
                    let allowed = p["items"]["enum"].as_array().unwrap();
                    let mut seen = std::collections::BTreeSet::new();
                    items.len() as u64 <= p["maxItems"].as_u64().unwrap()
                        && items.iter().all(|i| allowed.contains(i) && seen.insert(i.to_string()))
                }),
                other => panic!("type {other} not in the subset"),
            }
    })
}

fn request_of(kind: RequestKind) -> Request {
    match kind {
        RequestKind::Message => Request::Message(MessageQuestion {
            round: 1,
            max_chars: 40,
            directed: true,
        }),
        RequestKind::Proposal => Request::Proposal(ProposalQuestion),
        RequestKind::Vote => Request::Vote(VoteQuestion { tac: 900 }),
        RequestKind::Pledge => Request::Pledge(PledgeQuestion),
        RequestKind::Decision => Request::decision(),
        RequestKind::Report => Request::Report(ReportQuestion { actual: 80 }),
        RequestKind::Intention => Request::Intention(IntentionQuestion {
            round: 1,
            reasoning_chars: 40,
            sensitivities: Some(0.1),
        }),
        RequestKind::Sanction => Request::Sanction(SanctionQuestion {
            cost: 20,
            fine: 80,
            max_targets: 2,
        }),
        RequestKind::Probe => Request::Probe(ProbeQuestion),
    }
}

/// Values around every bound, of the right and the wrong type.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..8).prop_map(|n| json!(n)),
        (4490i64..4510).prop_map(|n| json!(n)),
        Just(json!(2.5)),
        Just(json!(null)),
        Just(json!(true)),
        Just(json!("3")),
        (0usize..60).prop_map(|n| json!("x".repeat(n))),
        (0usize..320).prop_map(|n| json!("y".repeat(n))),
        proptest::collection::vec(-1i64..8, 0..4).prop_map(|v| json!(v)),
    ]
}

fn answer() -> impl Strategy<Value = (usize, Value)> {
    let names = [
        "order",
        "deep",
        "coast",
        "tac",
        "catch",
        "accept",
        "reason",
        "message",
        "reasoning",
        "deep_up_order",
        "coast_down_coast",
        "fine",
        "to",
        "set_by",
        "extra",
    ];
    (
        0usize..RequestKind::ALL.len(),
        proptest::collection::btree_map(proptest::sample::select(names.to_vec()), value(), 0..5),
    )
        .prop_map(|(k, map)| {
            let obj: serde_json::Map<String, Value> =
                map.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            (k, Value::Object(obj))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    /// The schema and the validator agree on every answer, but for the one rule a
    /// schema cannot state (deep + coast within the fleet) and extra fields (the
    /// validator forgives what structured output forbids).
    #[test]
    fn schema_and_validator_agree(generated in answer()) {
        let (k, answer) = generated;
        let request = request_of(RequestKind::ALL[k]);
        let o = obs();
        let schema = answer_schema(&request, &o, LIMITS);
        let by_schema = schema_accepts(&schema, &answer);
        let by_validator = parse_answer(&request, &answer.to_string(), &o, LIMITS).is_ok();
        let over_fleet = limits_fleet(&request)
            && answer["deep"].as_i64().unwrap_or(0) + answer["coast"].as_i64().unwrap_or(0)
                > o.own.ships as i64;
        let props = schema["properties"].as_object().unwrap();
        let has_extra = answer.as_object().unwrap().keys().any(|k| !props.contains_key(k));
        if over_fleet {
            prop_assert!(!by_validator);
        } else if has_extra {
            // Without the extra fields both must agree.
            let mut trimmed = answer.as_object().unwrap().clone();
            trimmed.retain(|k, _| props.contains_key(k));
            let trimmed = Value::Object(trimmed);
            prop_assert_eq!(schema_accepts(&schema, &trimmed), by_validator, "{}", answer);
        } else {
            prop_assert_eq!(by_schema, by_validator, "{}", answer);
        }
    }
}

#[test]
fn the_schema_states_every_bound() {
    let o = obs();
    let s = answer_schema(&Request::decision(), &o, LIMITS);
    assert_eq!(s["properties"]["order"]["maximum"], o.own.order_limit);
    assert_eq!(s["properties"]["deep"]["maximum"], o.own.ships);
    assert!(s["description"].as_str().unwrap().contains("at most 4"));
    let m = answer_schema(
        &Request::Message(MessageQuestion {
            round: 1,
            max_chars: 600,
            directed: false,
        }),
        &o,
        LIMITS,
    );
    assert_eq!(m["properties"]["message"]["maxLength"], 600);
    let p = answer_schema(&Request::Proposal(ProposalQuestion), &o, LIMITS);
    assert_eq!(p["properties"]["tac"]["maximum"], 4500);
}

fn decision(text: &str) -> Result<Response, String> {
    parse_answer(&Request::decision(), text, &obs(), LIMITS)
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
        p(Request::Proposal(ProposalQuestion), r#"{"tac": 800}"#),
        Ok(Response::Proposal(800))
    );
    assert!(p(Request::Proposal(ProposalQuestion), r#"{"tac": 99999}"#).is_err());
    assert!(p(
        Request::Vote(VoteQuestion { tac: 1 }),
        r#"{"accept": "yes", "reason": "x"}"#
    )
    .is_err());
    assert!(matches!(
        p(Request::Vote(VoteQuestion { tac: 1 }), r#"{"accept": true, "reason": "fair"}"#),
        Ok(Response::Vote(v)) if v.accept
    ));
    assert!(p(
        Request::Report(ReportQuestion { actual: 3 }),
        r#"{"catch": -1}"#
    )
    .is_err());
    let message = Request::Message(MessageQuestion {
        round: 0,
        max_chars: 600,
        directed: false,
    });
    let long = format!("{{\"message\": \"{}\"}}", "a".repeat(601));
    assert!(p(message, &long).unwrap_err().contains("at most 600"));
    let rambling = format!("{{\"accept\": true, \"reason\": \"{}\"}}", "z".repeat(400));
    assert!(p(Request::Vote(VoteQuestion { tac: 1 }), &rambling).is_err());
    assert!(extract_json("``` broken fence {\"a\": 1}").is_ok());
}

#[test]
fn intentions_and_sanctions_are_validated_like_decisions() {
    let o = obs(); // team 1 of 6, 4 ships, order limit 2
    let rep = Request::Intention(IntentionQuestion {
        round: 1,
        reasoning_chars: 20,
        sensitivities: Some(0.1),
    });
    let mut answer = serde_json::json!({"order": 1, "deep": 3, "coast": 1, "reasoning": "steady"});
    for names in intention::SENSITIVITY_FIELDS {
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

    let sanction = Request::Sanction(SanctionQuestion {
        cost: 10,
        fine: 40,
        max_targets: 2,
    });
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
