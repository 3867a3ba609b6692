//! Reading a model's answer: lenient extraction, strict validation (DESIGN §4).
//!
//! Extraction forgives presentation (prose around the JSON, code fences); validation
//! forgives nothing else (types, ranges, the order limit, ships available). Numbers as
//! strings, fractions or missing fields are errors the model is told about, never
//! coerced.

use serde_json::{Map, Value};

use crate::agents::{Decision, Observation, Pledge, RequestKind, Vote};

/// A validated answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Message(String),
    Proposal(i64),
    Vote(Vote),
    Pledge(Pledge),
    Decision(Decision),
    Report(i64),
}

/// Limits the validation checks besides the observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_message_chars: usize,
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

fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    map.get(name)
        .ok_or_else(|| format!("field `{name}` is missing"))
}

fn integer(map: &Map<String, Value>, name: &str, min: i64, max: i64) -> Result<i64, String> {
    let v = field(map, name)?;
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
    Ok(n)
}

/// Order and deployment, checked against the order limit and the fleet.
fn order_and_fleet(map: &Map<String, Value>, obs: &Observation) -> Result<(i64, i64, i64), String> {
    let ships = obs.own.ships as i64;
    let order = integer(map, "order", 0, obs.own.order_limit as i64)?;
    let deep = integer(map, "deep", 0, ships)?;
    let coast = integer(map, "coast", 0, ships)?;
    if deep + coast > ships {
        return Err(format!(
            "deep + coast = {} but you have only {ships} ships (new orders arrive next year)",
            deep + coast
        ));
    }
    Ok((order, deep, coast))
}

/// Validates an answer to a request of `kind`.
pub fn parse_answer(
    kind: RequestKind,
    text: &str,
    obs: &Observation,
    limits: Limits,
) -> Result<Answer, String> {
    let map = extract_json(text)?;
    match kind {
        RequestKind::Message => {
            let m = match field(&map, "message")? {
                Value::String(s) => s.clone(),
                other => return Err(format!("field `message` must be a string, got {other}")),
            };
            let n = m.chars().count();
            if n > limits.max_message_chars {
                return Err(format!(
                    "the message has {n} characters; at most {} are allowed",
                    limits.max_message_chars
                ));
            }
            Ok(Answer::Message(m))
        }
        RequestKind::Proposal => Ok(Answer::Proposal(integer(&map, "tac", 0, limits.max_fish)?)),
        RequestKind::Vote => {
            let accept = match field(&map, "accept")? {
                Value::Bool(b) => *b,
                other => return Err(format!("field `accept` must be true or false, got {other}")),
            };
            let reason = match map.get("reason") {
                Some(Value::String(s)) => s.clone(),
                None => return Err("field `reason` is missing".into()),
                Some(other) => return Err(format!("field `reason` must be a string, got {other}")),
            };
            Ok(Answer::Vote(Vote { accept, reason }))
        }
        RequestKind::Pledge => {
            let (order, deep, coast) = order_and_fleet(&map, obs)?;
            Ok(Answer::Pledge(Pledge { order, deep, coast }))
        }
        RequestKind::Decision => {
            let (order, deep, coast) = order_and_fleet(&map, obs)?;
            Ok(Answer::Decision(Decision { order, deep, coast }))
        }
        RequestKind::Report => Ok(Answer::Report(integer(&map, "catch", 0, limits.max_fish)?)),
    }
}
