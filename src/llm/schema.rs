//! The shape of every answer, stated once: the fields a request's answer has and the
//! limits of each, computed from the request and the observation. The JSON schema sent to
//! the model ([`answer_schema`]) and the validator ([`super::parse::parse_answer`]) both
//! read these specs, so the model is told every limit the harness enforces. The one rule
//! a JSON schema cannot state, `deep + coast` at most the fleet, is in the schema's
//! description and checked by the validator.

use serde_json::{json, Value};

use super::parse::Limits;
use crate::agents::{Observation, Request};

/// Longest `reason` of a vote, in characters.
pub const MAX_REASON_CHARS: usize = 300;

/// The type and bounds of one answer field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Integer {
        min: i64,
        max: i64,
    },
    Text {
        max_chars: usize,
    },
    Boolean,
    /// Distinct team numbers as prompts count them (1 to `teams`), never `me` (the
    /// answering team's own number), at most `max_items`.
    Teams {
        teams: usize,
        me: usize,
        max_items: usize,
    },
}

/// The sensitivity fields of a REP intention: `{scenario}_{coordinate}`, each the change
/// of that coordinate of the plan in that scenario.
pub const SENSITIVITY_FIELDS: [[&str; 3]; 4] = [
    ["deep_up_order", "deep_up_deep", "deep_up_coast"],
    ["deep_down_order", "deep_down_deep", "deep_down_coast"],
    ["coast_up_order", "coast_up_deep", "coast_up_coast"],
    ["coast_down_order", "coast_down_deep", "coast_down_coast"],
];

impl FieldKind {
    /// The team numbers a `Teams` field may list.
    pub fn allowed_teams(teams: usize, me: usize) -> Vec<i64> {
        (1..=teams as i64).filter(|t| *t != me as i64).collect()
    }
}

/// One field of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
}

/// The fields of an answer to `request`, every one required.
pub fn fields(request: &Request, obs: &Observation, limits: Limits) -> Vec<FieldSpec> {
    let int = |name, min, max| FieldSpec {
        name,
        kind: FieldKind::Integer { min, max },
    };
    let ships = obs.own.ships as i64;
    match request {
        Request::Message {
            max_chars,
            directed,
            ..
        } => {
            let mut out = vec![FieldSpec {
                name: "message",
                kind: FieldKind::Text {
                    max_chars: *max_chars,
                },
            }];
            if *directed {
                out.push(FieldSpec {
                    name: "to",
                    kind: FieldKind::Teams {
                        teams: obs.public.teams,
                        me: obs.own.team + 1,
                        max_items: obs.public.teams.saturating_sub(1),
                    },
                });
            }
            out
        }
        // Unbounded on purpose: the probe counts answers naming what does not exist.
        Request::Probe => vec![int("tac", 0, i64::MAX), int("set_by", 0, i64::MAX)],
        Request::Proposal => vec![int("tac", 0, limits.max_fish)],
        Request::Vote { .. } => vec![
            FieldSpec {
                name: "accept",
                kind: FieldKind::Boolean,
            },
            FieldSpec {
                name: "reason",
                kind: FieldKind::Text {
                    max_chars: MAX_REASON_CHARS,
                },
            },
        ],
        Request::Pledge | Request::Decision => vec![
            int("order", 0, obs.own.order_limit as i64),
            int("deep", 0, ships),
            int("coast", 0, ships),
        ],
        Request::Report { .. } => vec![int("catch", 0, limits.max_fish)],
        Request::Intention {
            reasoning_chars,
            sensitivities,
            ..
        } => {
            let order_limit = obs.own.order_limit as i64;
            let mut out = vec![
                int("order", 0, order_limit),
                int("deep", 0, ships),
                int("coast", 0, ships),
            ];
            if *reasoning_chars > 0 {
                out.push(FieldSpec {
                    name: "reasoning",
                    kind: FieldKind::Text {
                        max_chars: *reasoning_chars,
                    },
                });
            }
            if sensitivities.is_some() {
                for scenario in SENSITIVITY_FIELDS {
                    out.push(int(scenario[0], -order_limit, order_limit));
                    out.push(int(scenario[1], -ships, ships));
                    out.push(int(scenario[2], -ships, ships));
                }
            }
            out
        }
        Request::Sanction { max_targets, .. } => vec![FieldSpec {
            name: "fine",
            kind: FieldKind::Teams {
                teams: obs.public.teams,
                me: obs.own.team + 1,
                max_items: *max_targets,
            },
        }],
    }
}

/// Whether the answer also has to keep `deep + coast` within the fleet.
pub fn limits_fleet(request: &Request) -> bool {
    matches!(
        request,
        Request::Pledge | Request::Decision | Request::Intention { .. }
    )
}

/// The JSON schema of an answer to `request`: every field required, no others, each
/// with its bounds.
pub fn answer_schema(request: &Request, obs: &Observation, limits: Limits) -> Value {
    let mut properties = serde_json::Map::new();
    let specs = fields(request, obs, limits);
    for f in &specs {
        let schema = match f.kind {
            FieldKind::Integer { min, max } if max == i64::MAX => {
                json!({"type": "integer", "minimum": min})
            }
            FieldKind::Integer { min, max } => {
                json!({"type": "integer", "minimum": min, "maximum": max})
            }
            FieldKind::Text { max_chars } => json!({"type": "string", "maxLength": max_chars}),
            FieldKind::Boolean => json!({"type": "boolean"}),
            FieldKind::Teams {
                teams,
                me,
                max_items,
            } => json!({
                "type": "array",
                "items": {"type": "integer", "enum": FieldKind::allowed_teams(teams, me)},
                "maxItems": max_items,
                "uniqueItems": true,
            }),
        };
        properties.insert(f.name.to_string(), schema);
    }
    let required: Vec<&str> = specs.iter().map(|f| f.name).collect();
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    if limits_fleet(request) {
        schema["description"] = json!(format!(
            "deep + coast must be at most {} (your ships)",
            obs.own.ships
        ));
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{Request, RequestKind};
    use crate::llm::parse::parse_answer;
    use crate::llm::testutil::obs;
    use proptest::prelude::*;

    const LIMITS: Limits = Limits { max_fish: 4500 };

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
        if schema["additionalProperties"] == json!(false)
            && obj.keys().any(|k| !props.contains_key(k))
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
            RequestKind::Message => Request::Message {
                round: 1,
                max_chars: 40,
                directed: true,
            },
            RequestKind::Proposal => Request::Proposal,
            RequestKind::Vote => Request::Vote { tac: 900 },
            RequestKind::Pledge => Request::Pledge,
            RequestKind::Decision => Request::Decision,
            RequestKind::Report => Request::Report { actual: 80 },
            RequestKind::Intention => Request::Intention {
                round: 1,
                reasoning_chars: 40,
                sensitivities: Some(0.1),
            },
            RequestKind::Sanction => Request::Sanction {
                cost: 20,
                fine: 80,
                max_targets: 2,
            },
            RequestKind::Probe => Request::Probe,
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
            proptest::collection::btree_map(
                proptest::sample::select(names.to_vec()),
                value(),
                0..5,
            ),
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
        let s = answer_schema(&Request::Decision, &o, LIMITS);
        assert_eq!(s["properties"]["order"]["maximum"], o.own.order_limit);
        assert_eq!(s["properties"]["deep"]["maximum"], o.own.ships);
        assert!(s["description"].as_str().unwrap().contains("at most 4"));
        let m = answer_schema(
            &Request::Message {
                round: 1,
                max_chars: 600,
                directed: false,
            },
            &o,
            LIMITS,
        );
        assert_eq!(m["properties"]["message"]["maxLength"], 600);
        let p = answer_schema(&Request::Proposal, &o, LIMITS);
        assert_eq!(p["properties"]["tac"]["maximum"], 4500);
    }
}
