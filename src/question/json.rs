//! An answer's JSON object: extracted leniently from a model's text, or read strictly
//! from a program's or a person's answer ([`strict_object`]).
//!
//! Extraction forgives presentation (prose around the JSON, code fences); validation,
//! each question's own, forgives nothing else (types, ranges, the order limit, ships
//! available). Numbers as strings, fractions or missing fields are errors the agent is
//! told about, never coerced.

use serde_json::{Map, Value};

/// The answer's JSON object when `text` is exactly one JSON object, whitespace aside:
/// how answers from programs and people are read (a remote agent's body, an A2A data
/// part, an MCP answer, a seat page's form). Prose around it, junk before it or a second
/// object after it make it invalid, with the reason.
pub fn strict_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "the answer must be one JSON object, got {}",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        )),
        Err(_) if text.trim().is_empty() => {
            Err("the answer was empty; it must be one JSON object".into())
        }
        Err(e) => Err(format!(
            "the answer must be one JSON object and nothing else (whitespace aside): {e}"
        )),
    }
}

/// The answer's JSON object: `text` itself when it is one (so a fence inside one of its
/// strings, such as a message quoting code, is never mistaken for the answer); else the
/// first complete object inside a code fence if there is one, else the first `{` whose
/// balanced object parses.
pub fn extract_json(text: &str) -> Result<Map<String, Value>, String> {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text.trim()) {
        return Ok(map);
    }
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
