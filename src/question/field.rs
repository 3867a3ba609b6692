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
    /// One whole number of a list (a candidate's team number).
    Choice {
        values: Vec<i64>,
    },
    /// A set of members chosen from a list (other teams to fine or to address, offers to
    /// take), written as an object with one boolean per member, every member required:
    /// `{"team 2": false, "team 3": true}`. A grammar built from the schema holds a
    /// model to it exactly (no member twice, none outside the list), where a list with
    /// `uniqueItems` is not enforced by llama.cpp's grammars. When at most `max_items`
    /// of more members may be chosen, the schema lists every allowed object instead
    /// (few, see [`SET_ENUM_LIMIT`]).
    Set {
        /// What a member is called: its key is `"<noun> <number>"` (`team 2`, `offer 1`).
        noun: &'static str,
        /// The members' numbers, ascending.
        members: Vec<i64>,
        max_items: usize,
    },
}

/// The most objects a set's schema lists one by one when fewer than all its members may
/// be chosen (an experiment whose sets would need more is refused when it is read).
pub const SET_ENUM_LIMIT: u128 = 256;

/// The number of subsets of at most `k` of `n` members (saturating).
pub fn subsets_up_to(n: usize, k: usize) -> u128 {
    let mut total: u128 = 0;
    let mut c: u128 = 1; // C(n, 0)
    for i in 0..=k.min(n) {
        if i > 0 {
            c = c.saturating_mul((n - i + 1) as u128) / i as u128;
        }
        total = total.saturating_add(c);
    }
    total
}

/// The key of set member `n`: `team 2`, `offer 1`.
pub fn set_key(noun: &str, n: i64) -> String {
    format!("{noun} {n}")
}

/// The number a set member's key names (`team 2` → 2).
pub fn set_number(key: &str) -> Option<i64> {
    key.rsplit(' ').next()?.parse().ok()
}

impl FieldKind {
    /// The team numbers (from 1) a set of other teams may hold: every team but `me`.
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

    /// Other teams (numbered from 1, never `me`), at most `max_items` of them.
    pub fn teams(name: &'static str, teams: usize, me: usize, max_items: usize) -> FieldSpec {
        FieldSpec::set(name, "team", FieldKind::allowed_teams(teams, me), max_items)
    }

    /// Members of a list, each called `<noun> <number>`, at most `max_items` of them.
    pub fn set(
        name: &'static str,
        noun: &'static str,
        mut members: Vec<i64>,
        max_items: usize,
    ) -> FieldSpec {
        members.sort_unstable();
        members.dedup();
        FieldSpec {
            name,
            kind: FieldKind::Set {
                noun,
                members,
                max_items,
            },
        }
    }

    pub fn choice(name: &'static str, values: Vec<i64>) -> FieldSpec {
        FieldSpec {
            name,
            kind: FieldKind::Choice { values },
        }
    }

    /// The field's schema as a question's text shows it: the exact one, but a set that
    /// lists its allowed objects is shown as one boolean per member.
    pub fn prompt_schema(&self) -> Value {
        match &self.kind {
            FieldKind::Set {
                noun,
                members,
                max_items,
            } => set_prompt_schema(noun, members, *max_items),
            _ => self.schema(),
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
            FieldKind::Choice { values } => json!({"type": "integer", "enum": values}),
            FieldKind::Set {
                noun,
                members,
                max_items,
            } => set_schema(noun, members, *max_items),
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
                FieldKind::Choice { values } => {
                    json!(values
                        .iter()
                        .max_by_key(|v| v.to_string().len())
                        .copied()
                        .unwrap_or(0))
                }
                // Every member written out, `false` being the longer word.
                FieldKind::Set { noun, members, .. } => set_value(noun, members, &[]),
            };
            (f.name.to_string(), value)
        })
        .collect();
    Value::Object(values).to_string()
}

/// The schema of an object with exactly `fields`, every one required.
pub fn object_schema(fields: &[FieldSpec]) -> Value {
    object_of(fields, FieldSpec::schema)
}

/// [`object_schema`] as a question's text shows it: a set that lists its allowed objects
/// shown as one boolean per member, the limit in words.
pub fn prompt_object_schema(fields: &[FieldSpec]) -> Value {
    object_of(fields, FieldSpec::prompt_schema)
}

fn object_of(fields: &[FieldSpec], schema: fn(&FieldSpec) -> Value) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), schema(f)))
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
    sets: BTreeMap<&'static str, Vec<i64>>,
}

/// What checking one field read from it.
enum Read {
    Int(i64),
    Set(Vec<i64>),
    Other,
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
        let mut sets = BTreeMap::new();
        for spec in specs {
            match check(answer, spec)? {
                Read::Int(n) => {
                    ints.insert(spec.name, n);
                }
                Read::Set(chosen) => {
                    sets.insert(spec.name, chosen);
                }
                Read::Other => {}
            }
        }
        Ok(Checked {
            map: answer,
            ints,
            sets,
        })
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

    /// The numbers of the members a set field marks `true`, ascending (empty when the
    /// specs had no set of that name).
    pub fn set(&self, name: &str) -> Vec<i64> {
        self.sets.get(name).cloned().unwrap_or_default()
    }

    /// A set of other teams, 0-based (the harness's team indices).
    pub fn teams(&self, name: &str) -> Vec<usize> {
        self.set(name)
            .into_iter()
            .map(|n| (n - 1).max(0) as usize)
            .collect()
    }
}

/// Check one field against its spec; integers and sets are returned, other values only
/// checked.
fn check(map: &Map<String, Value>, spec: &FieldSpec) -> Result<Read, String> {
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
            Ok(Read::Int(n))
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
            Ok(Read::Other)
        }
        FieldKind::Boolean => match v {
            Value::Bool(_) => Ok(Read::Other),
            other => Err(format!("field `{name}` must be true or false, got {other}")),
        },
        FieldKind::Set {
            noun,
            members,
            max_items,
        } => set_members(v, name, noun, members, *max_items).map(Read::Set),
        FieldKind::Choice { values } => {
            let n = match v {
                Value::Number(n) => whole(n),
                _ => None,
            };
            match n {
                Some(n) if values.contains(&n) => Ok(Read::Int(n)),
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

/// A set written out: one boolean per member, `chosen` ones `true` (the object a valid
/// answer holds, and the longest when nothing is chosen).
pub fn set_value(noun: &str, members: &[i64], chosen: &[i64]) -> Value {
    Value::Object(
        members
            .iter()
            .map(|n| (set_key(noun, *n), Value::Bool(chosen.contains(n))))
            .collect(),
    )
}

/// The schema of a set: an object with one required boolean per member; when at most
/// `max_items` of more members may be chosen, every allowed object listed (`enum`),
/// fewest chosen first.
fn set_schema(noun: &str, members: &[i64], max_items: usize) -> Value {
    let all = set_object_schema(noun, members);
    if max_items >= members.len() {
        return all;
    }
    if subsets_up_to(members.len(), max_items) > SET_ENUM_LIMIT {
        // Refused when the experiment is read (see `SET_ENUM_LIMIT`); never asked.
        return all;
    }
    let mut objects = Vec::new();
    for size in 0..=max_items {
        for chosen in combinations(members, size) {
            objects.push(set_value(noun, members, &chosen));
        }
    }
    json!({"type": "object", "enum": objects})
}

/// Every choice of `size` of `members`, in lexicographic order of their positions.
fn combinations(members: &[i64], size: usize) -> Vec<Vec<i64>> {
    if size == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for (i, first) in members.iter().enumerate() {
        for mut rest in combinations(&members[i + 1..], size - 1) {
            rest.insert(0, *first);
            out.push(rest);
        }
    }
    out
}

/// An object with one required boolean per member.
fn set_object_schema(noun: &str, members: &[i64]) -> Value {
    let properties: Map<String, Value> = members
        .iter()
        .map(|n| (set_key(noun, *n), json!({"type": "boolean"})))
        .collect();
    let required: Vec<String> = members.iter().map(|n| set_key(noun, *n)).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// A set field as a question's text shows it: one boolean per member, the most that may
/// be `true` in words where the exact schema lists the allowed objects.
pub fn set_prompt_schema(noun: &str, members: &[i64], max_items: usize) -> Value {
    let mut schema = set_object_schema(noun, members);
    if max_items < members.len() {
        schema["description"] = json!(format!("at most {max_items} of them true"));
    }
    schema
}

/// The members a set field marks `true`, checked: an object with exactly one boolean per
/// member, at most `max_items` of them `true`.
fn set_members(
    v: &Value,
    name: &str,
    noun: &str,
    members: &[i64],
    max_items: usize,
) -> Result<Vec<i64>, String> {
    let listed = || {
        members
            .iter()
            .map(|n| set_key(noun, *n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Value::Object(map) = v else {
        return Err(format!(
            "field `{name}` must be an object with true or false for each of {} (true: chosen), got {v}",
            listed()
        ));
    };
    if let Some(key) = map
        .keys()
        .find(|k| !members.iter().any(|n| set_key(noun, *n) == **k))
    {
        return Err(format!(
            "field `{name}`: `{key}` is not one of {}",
            if members.is_empty() {
                "the choices (there are none)".to_string()
            } else {
                listed()
            }
        ));
    }
    let mut chosen = Vec::new();
    for n in members {
        let key = set_key(noun, *n);
        match map.get(&key) {
            None => {
                return Err(format!(
                    "field `{name}` is missing `{key}`: give each of {} true or false",
                    listed()
                ))
            }
            Some(Value::Bool(true)) => chosen.push(*n),
            Some(Value::Bool(false)) => {}
            Some(other) => {
                return Err(format!(
                    "field `{name}`: `{key}` must be true or false, got {other}"
                ))
            }
        }
    }
    if chosen.len() > max_items {
        return Err(format!(
            "field `{name}` marks {} true; at most {max_items} may be true",
            chosen.len()
        ));
    }
    Ok(chosen)
}

/// A set field's answer for a schema as the harness writes it (`properties`, or the
/// `enum` of allowed objects): `chosen` members `true`, the others `false`. What an
/// answerer that reads the schema (the mock model, a test) writes.
pub fn set_answer(field_schema: &Value, chosen: &[i64]) -> Value {
    let keys: Vec<String> = match field_schema.get("properties").and_then(Value::as_object) {
        Some(p) => p.keys().cloned().collect(),
        None => field_schema["enum"]
            .get(0)
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
    };
    Value::Object(
        keys.into_iter()
            .map(|k| {
                let on = set_number(&k).is_some_and(|n| chosen.contains(&n));
                (k, Value::Bool(on))
            })
            .collect(),
    )
}

/// The most members a set field's schema lets an answer mark `true` (as the question's
/// text shows it, the limit is in the description).
pub fn set_capacity(field_schema: &Value) -> usize {
    let stated = field_schema["description"]
        .as_str()
        .and_then(|d| d.strip_prefix("at most "))
        .and_then(|d| d.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok());
    match field_schema.get("properties").and_then(Value::as_object) {
        Some(p) => stated.unwrap_or(p.len()).min(p.len()),
        None => field_schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(|o| o.values().filter(|v| **v == Value::Bool(true)).count())
            .max()
            .unwrap_or(0),
    }
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
