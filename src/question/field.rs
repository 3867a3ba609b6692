//! The fields of an answer and their limits: the one source from which a question's JSON
//! schema is built and against which its answers are checked. The schema admits exactly
//! the answers the checks accept (a property test holds them to it with an independent
//! JSON-schema validator), so a grammar-constrained server cannot produce an invalid
//! answer, and any other agent is told every limit the harness enforces.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The type and bounds of one answer field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// A whole number in `min..=max` (`max == i64::MAX`: unbounded above).
    Integer {
        min: i64,
        max: i64,
    },
    /// A text of at most `max_chars` characters.
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
    /// One whole number of a list (a candidate's team number).
    Choice {
        values: Vec<i64>,
    },
    /// Distinct whole numbers of a list (offers to take), at most `max_items`.
    Picks {
        values: Vec<i64>,
        max_items: usize,
    },
}

impl FieldKind {
    /// The team numbers a `Teams` field may list.
    pub fn allowed_teams(teams: usize, me: usize) -> Vec<i64> {
        (1..=teams as i64).filter(|t| *t != me as i64).collect()
    }
}

/// One field of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
}

impl FieldSpec {
    pub fn integer(name: &'static str, min: i64, max: i64) -> FieldSpec {
        FieldSpec {
            name,
            kind: FieldKind::Integer { min, max },
        }
    }

    pub fn text(name: &'static str, max_chars: usize) -> FieldSpec {
        FieldSpec {
            name,
            kind: FieldKind::Text { max_chars },
        }
    }

    pub fn boolean(name: &'static str) -> FieldSpec {
        FieldSpec {
            name,
            kind: FieldKind::Boolean,
        }
    }

    pub fn teams(name: &'static str, teams: usize, me: usize, max_items: usize) -> FieldSpec {
        FieldSpec {
            name,
            kind: FieldKind::Teams {
                teams,
                me,
                max_items,
            },
        }
    }

    pub fn picks(name: &'static str, values: Vec<i64>, max_items: usize) -> FieldSpec {
        FieldSpec {
            name,
            kind: FieldKind::Picks { values, max_items },
        }
    }

    pub fn choice(name: &'static str, values: Vec<i64>) -> FieldSpec {
        FieldSpec {
            name,
            kind: FieldKind::Choice { values },
        }
    }

    /// The JSON schema of this field alone.
    pub fn schema(&self) -> Value {
        match &self.kind {
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
                "items": {"type": "integer", "enum": FieldKind::allowed_teams(*teams, *me)},
                "maxItems": max_items,
                "uniqueItems": true,
            }),
            FieldKind::Choice { values } => json!({"type": "integer", "enum": values}),
            FieldKind::Picks { values, max_items } => json!({
                "type": "array",
                "items": {"type": "integer", "enum": values},
                "maxItems": max_items,
                "uniqueItems": true,
            }),
        }
    }
}

/// The longest valid answer with these fields, as compact JSON: texts at their
/// `maxLength`, numbers at their widest bound, lists at their most items. What a request's
/// `max_tokens` is computed from.
pub fn longest_answer(fields: &[FieldSpec]) -> String {
    let values: Map<String, Value> = fields
        .iter()
        .map(|f| {
            let value = match &f.kind {
                FieldKind::Integer { min, max } => {
                    if min.to_string().len() > max.to_string().len() {
                        json!(min)
                    } else {
                        json!(max)
                    }
                }
                FieldKind::Text { max_chars } => json!("x".repeat(*max_chars)),
                FieldKind::Boolean => json!(false),
                FieldKind::Teams {
                    teams, max_items, ..
                } => json!(vec![*teams; (*max_items).min(*teams)]),
                FieldKind::Choice { values } => {
                    json!(values
                        .iter()
                        .max_by_key(|v| v.to_string().len())
                        .copied()
                        .unwrap_or(0))
                }
                FieldKind::Picks { values, max_items } => {
                    json!(values.iter().take(*max_items).collect::<Vec<_>>())
                }
            };
            (f.name.to_string(), value)
        })
        .collect();
    Value::Object(values).to_string()
}

/// The schema of an object with exactly `fields`, every one required.
pub fn object_schema(fields: &[FieldSpec]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), f.schema()))
        .collect();
    let required: Vec<&str> = fields.iter().map(|f| f.name).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// An answer whose fields have been checked against their specs: read its values by
/// name. A field the answer has no place for is an error, as the schema's
/// `additionalProperties: false` says.
pub struct Checked<'a> {
    map: &'a Map<String, Value>,
    ints: BTreeMap<&'static str, i64>,
}

impl<'a> Checked<'a> {
    /// Check every field of `specs` in `answer`, in order; the first problem is the error.
    pub fn new(answer: &'a Map<String, Value>, specs: &[FieldSpec]) -> Result<Self, String> {
        if let Some(extra) = answer.keys().find(|k| !specs.iter().any(|s| s.name == *k)) {
            let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
            return Err(format!(
                "field `{extra}` is not part of the answer (its fields are: {})",
                names.join(", ")
            ));
        }
        let mut ints = BTreeMap::new();
        for spec in specs {
            if let Some(n) = check(answer, spec)? {
                ints.insert(spec.name, n);
            }
        }
        Ok(Checked { map: answer, ints })
    }

    /// An integer field (0 when the specs had none of that name).
    pub fn int(&self, name: &str) -> i64 {
        self.ints.get(name).copied().unwrap_or(0)
    }

    /// A text field ("" when absent).
    pub fn text(&self, name: &str) -> String {
        self.map
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// A boolean field (false when absent).
    pub fn boolean(&self, name: &str) -> bool {
        self.map.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    /// A list of other teams (0-based), checked like a `Teams` field of any length.
    pub fn teams(&self, name: &str, teams: usize, me: usize) -> Result<Vec<usize>, String> {
        let v = self.map.get(name).cloned().unwrap_or(Value::Null);
        team_list(&v, name, teams, me, usize::MAX)
    }
}

/// Check one field against its spec; integers are returned, other values only checked.
fn check(map: &Map<String, Value>, spec: &FieldSpec) -> Result<Option<i64>, String> {
    let name = spec.name;
    let v = map
        .get(name)
        .ok_or_else(|| format!("field `{name}` is missing"))?;
    match &spec.kind {
        FieldKind::Integer { min, max } => {
            let n = match v {
                Value::Number(n) => whole(n)
                    .ok_or_else(|| format!("field `{name}` must be a whole number, got {n}"))?,
                other => return Err(format!("field `{name}` must be an integer, got {other}")),
            };
            if n < *min || n > *max {
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
            if n > *max_chars {
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
            team_list(v, name, *teams, *me, *max_items)?;
            Ok(None)
        }
        FieldKind::Picks { values, max_items } => {
            picks(v, name, values, *max_items)?;
            Ok(None)
        }
        FieldKind::Choice { values } => {
            let n = match v {
                Value::Number(n) => whole(n),
                _ => None,
            };
            match n {
                Some(n) if values.contains(&n) => Ok(Some(n)),
                _ => {
                    let listed: Vec<String> = values.iter().map(i64::to_string).collect();
                    Err(format!(
                        "field `{name}` must be one of {}, got {v}",
                        listed.join(", ")
                    ))
                }
            }
        }
    }
}

/// The whole number a JSON number stands for, as JSON Schema's `integer` reads it: `3`
/// and `3.0` are the integer 3, `2.5` is none; so is anything beyond 64-bit integers.
fn whole(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // Within ±2^63 (exclusive above: 2^63 itself is not an i64).
    (f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f))
        .then_some(f as i64)
}

/// The numbers a `Picks` field lists, checked: distinct members of `values`, at most
/// `max_items`.
pub fn picks(v: &Value, name: &str, values: &[i64], max_items: usize) -> Result<Vec<i64>, String> {
    let Value::Array(items) = v else {
        return Err(format!("field `{name}` must be a list of numbers, got {v}"));
    };
    if items.len() > max_items {
        return Err(format!(
            "field `{name}` lists {} numbers; at most {max_items} are allowed",
            items.len()
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let n = match item {
            Value::Number(n) => whole(n),
            _ => None,
        }
        .ok_or_else(|| format!("field `{name}` must list whole numbers, got {item}"))?;
        if !values.contains(&n) {
            let listed: Vec<String> = values.iter().map(i64::to_string).collect();
            return Err(format!(
                "field `{name}`: {n} is not one of {}",
                if listed.is_empty() {
                    "none".to_string()
                } else {
                    listed.join(", ")
                }
            ));
        }
        if out.contains(&n) {
            return Err(format!("field `{name}` lists {n} twice"));
        }
        out.push(n);
    }
    Ok(out)
}

/// The teams (0-based) a `Teams` field lists, checked: a list of distinct team numbers
/// from 1 to `teams`, not the answering team's own (`me`, 1-based), at most `max_items`.
pub fn team_list(
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
        let n = match item {
            Value::Number(n) => whole(n),
            _ => None,
        }
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

/// The rule a JSON schema field list cannot state for a plan: `deep + coast` at most the
/// fleet. Checked by the questions that ask for a plan.
pub fn check_fleet(deep: i64, coast: i64, ships: i64) -> Result<(), String> {
    if deep + coast > ships {
        return Err(format!(
            "deep + coast = {} but you have only {ships} ships (new orders arrive next year)",
            deep + coast
        ));
    }
    Ok(())
}
