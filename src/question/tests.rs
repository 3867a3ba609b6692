//! Every question's schema and validator agree, and answers are read leniently and
//! validated strictly (a corpus of realistic good and bad answers).

use super::json::extract_json;
use super::testutil::Referee;
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

/// The schema's verdict, by an independent JSON-schema validator, never by this crate's
/// checks.
fn schema_accepts(schema: &Value, answer: &Value) -> bool {
    Referee::new(schema).is_valid(answer)
}

/// The validator's verdict on an answer given as JSON.
fn validator_accepts(request: &Request, answer: &Value, o: &Observation) -> bool {
    match answer.as_object() {
        Some(map) => request.question().read(map, o, LIMITS).is_ok(),
        None => false,
    }
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
        RequestKind::Agenda => Request::Agenda(AgendaQuestion {
            max_chars: 40,
            term_years: 1,
        }),
        RequestKind::Ballot => Request::Ballot(BallotQuestion {
            candidates: vec![0, 1, 2],
            self_vote: false,
            term_years: 1,
        }),
        RequestKind::LeaderTac => Request::LeaderTac(LeaderTacQuestion { approval: None }),
        RequestKind::LeaderReport => Request::LeaderReport(LeaderReportQuestion { truth: 700 }),
        RequestKind::Lesson => Request::Lesson(LessonQuestion { max_chars: 40 }),
        RequestKind::Bid => Request::Bid(BidQuestion {
            ships: 4,
            max_price: 4500,
        }),
        RequestKind::Offer => Request::Offer(OfferQuestion {
            round: 1,
            max_price: 4500,
        }),
        RequestKind::Accept => Request::Accept(AcceptQuestion {
            round: 1,
            offers: (0..4)
                .map(|team| OfferItem {
                    number: team + 1,
                    team,
                    ships: 1,
                    price: 300,
                })
                .collect(),
        }),
    }
}

/// Values around every bound, of the right and the wrong type.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..8).prop_map(|n| json!(n)),
        (4490i64..4510).prop_map(|n| json!(n)),
        (-3i64..8).prop_map(|n| json!(n as f64)),
        Just(json!(2.5)),
        Just(json!(1e30)),
        Just(json!(null)),
        Just(json!(true)),
        Just(json!("3")),
        (0usize..60).prop_map(|n| json!("x".repeat(n))),
        (290usize..320).prop_map(|n| json!("y".repeat(n))),
        proptest::collection::vec(-1i64..8, 0..4).prop_map(|v| json!(v)),
        set_like(),
    ]
}

/// Objects around a set's shape: members from `team 0` to `team 7` and `offer 0` to
/// `offer 5` (some outside the set), each true, false or something else.
fn set_like() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        (0i64..8).prop_map(|n| format!("team {n}")),
        (0i64..6).prop_map(|n| format!("offer {n}")),
    ];
    let flag = prop_oneof![
        4 => Just(json!(true)),
        4 => Just(json!(false)),
        1 => Just(json!(1)),
        1 => Just(json!(null)),
    ];
    proptest::collection::btree_map(key, flag, 0..9)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A valid answer of each kind for [`obs`] (team 1 of 6, 4 ships, order limit 2), as
/// [`request_of`] asks it.
fn valid_answer(kind: RequestKind) -> Value {
    match kind {
        RequestKind::Message => json!({"message": "hello", "to": {
            "team 2": true, "team 3": true, "team 4": false, "team 5": false, "team 6": false}}),
        RequestKind::Proposal => json!({"tac": 800}),
        RequestKind::Vote => json!({"accept": true, "reason": "fair"}),
        RequestKind::Pledge | RequestKind::Decision => json!({"order": 1, "deep": 2, "coast": 1}),
        RequestKind::Report => json!({"catch": 80}),
        RequestKind::Intention => {
            let mut a = json!({"order": 1, "deep": 2, "coast": 1, "reasoning": "steady"});
            for names in intention::SENSITIVITY_FIELDS {
                for n in names {
                    a[n] = json!(0);
                }
            }
            a
        }
        RequestKind::Sanction => json!({"fine": {
            "team 2": true, "team 3": false, "team 4": false, "team 5": false, "team 6": false}}),
        RequestKind::Probe => json!({"tac": 900, "set_by": 0}),
        RequestKind::Agenda => json!({"agenda": "vote for me"}),
        RequestKind::Ballot => json!({"leader": 2}),
        RequestKind::LeaderTac => json!({"tac": 800}),
        RequestKind::LeaderReport => json!({"catch": 700}),
        RequestKind::Lesson => json!({"lesson": "hold back"}),
        RequestKind::Bid => json!({"ships": 2, "price": 300}),
        RequestKind::Offer => json!({"ships": 1, "price": 300}),
        RequestKind::Accept => {
            json!({"take": {"offer 2": true, "offer 3": true, "offer 4": false}})
        }
    }
}

/// A valid answer of some kind with up to three changes: a field set to a value around a
/// bound or of another type, a field removed, a field added.
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
        "agenda",
        "leader",
        "lesson",
        "ships",
        "price",
        "take",
        "extra",
    ];
    let change = (0u8..3, proptest::sample::select(names.to_vec()), value());
    (
        0usize..RequestKind::ALL.len(),
        proptest::collection::vec(change, 0..4),
    )
        .prop_map(|(k, changes)| {
            let mut answer = valid_answer(RequestKind::ALL[k]);
            let Some(map) = answer.as_object_mut() else {
                unreachable!("answers are objects")
            };
            for (how, name, value) in changes {
                match how {
                    0 => {
                        map.remove(name);
                    }
                    _ => {
                        map.insert(name.to_string(), value);
                    }
                }
            }
            (k, answer)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    /// Schema and validator agree on every generated answer to every question: the
    /// schema admits exactly what the validator accepts.
    #[test]
    fn schema_and_validator_agree(generated in answer()) {
        let (k, answer) = generated;
        let request = request_of(RequestKind::ALL[k]);
        let o = obs();
        let schema = request.question().schema(&o, LIMITS);
        prop_assert_eq!(
            schema_accepts(&schema, &answer),
            validator_accepts(&request, &answer, &o),
            "{} {}", request.kind().as_str(), answer
        );
    }
}

/// Every decision and pledge a team of 0 to 12 ships with an order limit of 0 to 6 could
/// give (each number one beyond its bounds too, and a few of the wrong type): the schema
/// and the validator agree on every one.
#[test]
fn plans_schema_and_validator_agree_exhaustively() {
    let mut checked = 0usize;
    for ships in 0..=12u32 {
        for limit in 0..=6u32 {
            let mut o = obs();
            o.own.ships = ships;
            o.own.order_limit = limit;
            for request in [Request::decision(), Request::Pledge(PledgeQuestion)] {
                let schema = request.question().schema(&o, LIMITS);
                let validator = Referee::new(&schema);
                let (s, l) = (ships as i64, limit as i64);
                for order in -1..=l + 1 {
                    for deep in -1..=s + 1 {
                        for coast in -1..=s + 1 {
                            let answer = json!({"order": order, "deep": deep, "coast": coast});
                            let by_schema = validator.is_valid(&answer);
                            assert_eq!(
                                by_schema,
                                validator_accepts(&request, &answer, &o),
                                "{answer} with {ships} ships, limit {limit}"
                            );
                            assert_eq!(
                                by_schema,
                                order <= l && deep + coast <= s && order.min(deep).min(coast) >= 0
                            );
                            checked += 1;
                        }
                    }
                }
                for odd in [
                    json!({"order": 0, "deep": 0.0, "coast": 0}),
                    json!({"order": 0, "deep": 0.5, "coast": 0}),
                    json!({"order": "0", "deep": 0, "coast": 0}),
                    json!({"order": 0, "deep": null, "coast": 0}),
                    json!({"order": 0, "deep": 0}),
                    json!({"order": 0, "deep": 0, "coast": 0, "why": "extra"}),
                    json!([0, 0, 0]),
                ] {
                    assert_eq!(
                        validator.is_valid(&odd),
                        validator_accepts(&request, &odd, &o),
                        "{odd}"
                    );
                }
            }
        }
    }
    assert!(checked > 100_000, "{checked}");
}

#[test]
fn the_schema_states_every_bound() {
    let o = obs();
    let s = answer_schema(&Request::decision(), &o, LIMITS);
    // One complete branch per number of deep-sea ships, the coast bounded by the rest.
    let branches = s["anyOf"].as_array().unwrap();
    assert_eq!(branches.len(), o.own.ships as usize + 1);
    for (d, b) in branches.iter().enumerate() {
        assert_eq!(b["properties"]["order"]["maximum"], o.own.order_limit);
        assert_eq!(b["properties"]["deep"]["const"], d);
        assert_eq!(
            b["properties"]["coast"]["maximum"],
            o.own.ships as usize - d
        );
        assert_eq!(b["required"], json!(["order", "deep", "coast"]));
        assert_eq!(b["additionalProperties"], json!(false));
    }
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
            "My reasoning {not json} then {\"order\": 2, \"deep\": 3, \"coast\": 1}",
            "{\"order\": 2.0, \"deep\": 3, \"coast\": 1}",
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
        (
            r#"{"order": 2, "deep": 3, "coast": 1, "why": "a } in {text}"}"#,
            "`why` is not part of the answer",
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
fn an_answer_that_is_one_object_is_read_whole_even_with_a_fence_inside_a_string() {
    // A person (or a model) quoting code in a message: the fence is text, not the answer.
    let answer = r#"{"message": "try ```{}``` next year"}"#;
    let map = extract_json(answer).unwrap();
    assert_eq!(map["message"], "try ```{}``` next year");
    // Prose around a fenced object still works as before.
    let fenced = "Here:\n```json\n{\"order\": 1}\n```";
    assert_eq!(extract_json(fenced).unwrap()["order"], 1);
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
    let fine = |on: &[i64]| {
        let members: Vec<i64> = (2..=6).collect();
        json!({"fine": field::set_value("team", &members, on)}).to_string()
    };
    assert_eq!(p(&fine(&[3, 6])), Ok(Response::Sanction(vec![2, 5])));
    assert_eq!(p(&fine(&[])), Ok(Response::Sanction(vec![])));
    assert!(p(&fine(&[2, 3, 4])).unwrap_err().contains("at most 2"));
    let own = r#"{"fine": {"team 1": true, "team 2": false, "team 3": false, "team 4": false, "team 5": false, "team 6": false}}"#;
    assert!(p(own)
        .unwrap_err()
        .contains("`team 1` is not one of team 2"));
    let missing = r#"{"fine": {"team 2": true}}"#;
    assert!(p(missing).unwrap_err().contains("missing `team 3`"));
    assert!(p(r#"{"fine": [2]}"#)
        .unwrap_err()
        .contains("true or false for each"));
    assert!(p(r#"{"fine": "team 2"}"#).is_err());
}

/// Every object a set question could be answered with (each member true, false, left
/// out or of another type; a key outside the set): its exact schema and its validator
/// agree on every one, for every limit on how many may be chosen, and the schema a
/// question's text shows states the same members.
#[test]
fn sets_schema_and_validator_agree_exhaustively() {
    let o = obs(); // team 1 of 6
    let mut requests: Vec<Request> = (0..=6)
        .map(|max_targets| {
            Request::Sanction(SanctionQuestion {
                cost: 10,
                fine: 40,
                max_targets,
            })
        })
        .collect();
    requests.push(request_of(RequestKind::Message));
    requests.push(request_of(RequestKind::Accept));
    let mut checked = 0;
    for request in requests {
        let schema = request.question().schema(&o, LIMITS);
        let shown = request.question().prompt_schema(&o, LIMITS);
        let referee = Referee::new(&schema);
        let (name, field) = schema["properties"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, f)| f["type"] == "object")
            .map(|(n, f)| (n.clone(), f.clone()))
            .unwrap();
        let keys: Vec<String> = match field["properties"].as_object() {
            Some(p) => p.keys().cloned().collect(),
            None => field["enum"][0]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect(),
        };
        assert_eq!(
            shown["properties"][&name]["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            keys
        );
        let others = json!({"message": "hi"});
        let answer_with = |set: Value| {
            let mut a = if request.kind() == RequestKind::Message {
                others.clone()
            } else {
                json!({})
            };
            a[&name] = set;
            a
        };
        // Every choice of true and false, then each variant of each.
        for mask in 0..1u32 << keys.len() {
            let set: serde_json::Map<String, Value> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k.clone(), json!(mask & (1 << i) != 0)))
                .collect();
            let mut variants = vec![Value::Object(set.clone())];
            for k in &keys {
                let mut missing = set.clone();
                missing.remove(k);
                variants.push(Value::Object(missing));
                let mut odd = set.clone();
                odd.insert(k.clone(), json!(1));
                variants.push(Value::Object(odd));
            }
            let mut extra = set.clone();
            extra.insert("team 1".into(), json!(false));
            variants.push(Value::Object(extra));
            for v in variants {
                let a = answer_with(v);
                assert_eq!(
                    referee.is_valid(&a),
                    validator_accepts(&request, &a, &o),
                    "{} {a}",
                    request.kind().as_str()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

/// A limit that leaves too many allowed objects to list is refused before a game, so no
/// question ever has to be asked with an inexact schema.
#[test]
fn subsets_are_counted_exactly() {
    assert_eq!(field::subsets_up_to(5, 5), 32);
    assert_eq!(field::subsets_up_to(5, 2), 16);
    assert_eq!(field::subsets_up_to(9, 4), 256);
    assert_eq!(field::subsets_up_to(9, 5), 382);
    assert_eq!(field::subsets_up_to(49, 5), 2_138_410);
}

/// Every question's schema text is the `Value`'s, byte for byte (the plans write theirs
/// without building it), for fleets from 0 to 40 ships and every order limit.
#[test]
fn schema_text_is_the_bytes_of_the_schema_value() {
    for ships in 0..=40u32 {
        for limit in [0u32, 1, 3, 20] {
            let mut o = obs();
            o.own.ships = ships;
            o.own.order_limit = limit;
            for kind in RequestKind::ALL {
                let request = request_of(kind);
                let q = request.question();
                assert_eq!(
                    q.schema_text(&o, LIMITS),
                    q.schema(&o, LIMITS).to_string(),
                    "{kind:?}, {ships} ships"
                );
            }
        }
    }
}

/// A program's or a person's answer is exactly one JSON object: what a model's text is
/// forgiven (prose around it, a fence, junk before it, a second object) is an invalid
/// answer here, with the reason; whitespace around it is not.
#[test]
fn strict_reading_takes_one_object_and_nothing_else() {
    let o = obs();
    let d = Request::decision();
    let valid = r#"{"order": 1, "deep": 2, "coast": 1}"#;
    assert!(d.parse_strict(valid, &o, LIMITS).is_ok());
    assert!(d
        .parse_strict(&format!("\n  {valid}\r\n"), &o, LIMITS)
        .is_ok());
    for (text, why) in [
        (format!("Here: {valid} ok"), "nothing else"),
        (format!("```json\n{valid}\n```"), "nothing else"),
        (format!("\u{1}{valid}"), "nothing else"),
        (format!("{valid}{valid}"), "trailing characters"),
        ("[1, 2]".to_string(), "got an array"),
        ("\"{}\"".to_string(), "got a string"),
        ("   ".to_string(), "empty"),
    ] {
        let err = d.parse_strict(&text, &o, LIMITS).unwrap_err();
        assert!(err.contains(why), "{text:?}: {err}");
        // The lenient reader (a model's text) still takes what it took.
        let _ = d.parse(&text, &o, LIMITS);
    }
    assert!(d.parse(&format!("Here: {valid} ok"), &o, LIMITS).is_ok());
}
