//! Tables of switches tagged by a `kind` (`[protocols.NAME]`, an agent of a population):
//! reading one into its typed variant, and errors that name the switch at fault. Shared
//! by the protocols and the experiment file, so both report problems the same way.

use serde::de::DeserializeOwned;

/// A problem with a table's switches. `field` is relative to the table (`rounds`,
/// `kind`); the experiment prefixes the table's path (`protocols.NAME.`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    pub field: String,
    pub message: String,
}

impl SpecError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `Err` unless `lo ≤ value ≤ hi`.
pub fn check_range<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), SpecError> {
    if value < lo || value > hi {
        Err(SpecError::new(
            field,
            format!("must be between {lo} and {hi}, got {value}"),
        ))
    } else {
        Ok(())
    }
}

/// Read a table tagged by `kind` into `T` (an enum with `#[serde(tag = "kind")]` whose
/// variants deny unknown fields). `what` names the table in messages (`protocol`,
/// `agent`).
pub fn read_tagged<T: DeserializeOwned + serde::Serialize>(
    table: &toml::Table,
    what: &str,
) -> Result<T, SpecError> {
    T::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| tagged_error::<T>(table, what, &plain_message(e.message())))
}

/// Name the switch a deserialization error is about. Serde names unknown fields,
/// unknown kinds and a missing kind; a type error names no field, so the culprit is the
/// switch whose removal (it then takes its default) makes the table valid.
fn tagged_error<T: DeserializeOwned + serde::Serialize>(
    table: &toml::Table,
    what: &str,
    message: &str,
) -> SpecError {
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(field) = named("unknown field `") {
        let kind = table.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
        // An internally tagged enum does not list its variant's fields: read them off
        // the variant with every default, when it has them all.
        let hint = if message.contains("expected one of") {
            String::new()
        } else {
            let known: Vec<String> = table
                .get("kind")
                .and_then(|k| {
                    let only_kind = toml::Table::from_iter([("kind".to_string(), k.clone())]);
                    T::deserialize(toml::Value::Table(only_kind)).ok()
                })
                .and_then(|t| serde_json::to_value(&t).ok())
                .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect()))
                .unwrap_or_default();
            let known: Vec<String> = known.into_iter().filter(|k| k != "kind").collect();
            match did_you_mean(&field, &known) {
                Some(near) => format!("; did you mean `{near}`?"),
                None if !known.is_empty() => format!(
                    "; its switches are {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => String::new(),
            }
        };
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        return SpecError::new(
            field,
            format!("does not apply to {article} {what} of kind `{kind}` ({message}){hint}"),
        );
    }
    if let Some(value) = named("unknown variant `") {
        // The kind itself, or a switch whose value is not one of its words.
        let kind = table.get("kind").and_then(|k| k.as_str());
        if kind == Some(value.as_str()) {
            return SpecError::new("kind", format!("unknown {what} kind: {message}"));
        }
        let key = table
            .iter()
            .find(|(k, v)| *k != "kind" && v.as_str() == Some(value.as_str()))
            .map(|(k, _)| k.clone());
        if let Some(key) = key {
            return SpecError::new(key, message);
        }
    }
    if let Some(field) = named("missing field `") {
        if field != "kind" {
            return SpecError::new(field, format!("missing ({message})"));
        }
    }
    if message.starts_with("missing field `kind`") {
        return SpecError::new("kind", format!("missing: one of {}", tags::<T>()));
    }
    let culprit = table.keys().filter(|k| *k != "kind").find(|key| {
        let mut without = table.clone();
        without.remove(*key);
        T::deserialize(toml::Value::Table(without)).is_ok()
    });
    SpecError::new(culprit.map_or("kind", String::as_str), message)
}

/// The kinds of `T`, as serde lists them (`` `none`, `broadcast` or … ``): read off the
/// enum itself, so the list cannot go stale.
pub fn tags<T: DeserializeOwned>() -> String {
    let probe = toml::Table::from_iter([("kind".to_string(), toml::Value::String(String::new()))]);
    match T::deserialize(toml::Value::Table(probe)) {
        Err(e) => e
            .message()
            .split_once("expected ")
            .map_or(String::new(), |(_, kinds)| kinds.to_string()),
        Ok(_) => String::new(),
    }
}

/// The kinds of `T` as a list of names.
pub fn tag_names<T: DeserializeOwned>() -> Vec<String> {
    tags::<T>()
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// A serde message in the words of a TOML file: no Rust type names (`expected u32` is
/// "expected a whole number of at least 0").
pub fn plain_message(message: &str) -> String {
    let mut out = message.to_string();
    // "unknown field `yeers`, expected one of `name`, `years`": name the likely one.
    if let Some((field, expected)) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once("`, expected one of "))
    {
        let known: Vec<String> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        if let Some(near) = did_you_mean(field, &known) {
            out.push_str(&format!("; did you mean `{near}`?"));
        }
    }
    for (rust, plain) in [
        ("expected u8", "expected a whole number of at least 0"),
        ("expected u16", "expected a whole number of at least 0"),
        ("expected u32", "expected a whole number of at least 0"),
        ("expected u64", "expected a whole number of at least 0"),
        ("expected usize", "expected a whole number of at least 0"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
        ("floating point `", "the number `"),
        ("invalid value: integer `", "invalid value: `"),
        (
            "invalid type: integer `",
            "invalid type: the whole number `",
        ),
    ] {
        out = out.replace(rust, plain);
    }
    out
}

/// The known name closest to `unknown`, if it is close: at most a third of its letters
/// (and at least one) added, dropped, changed or swapped.
pub fn did_you_mean(unknown: &str, known: &[String]) -> Option<String> {
    let limit = (unknown.chars().count() / 3).max(1);
    known
        .iter()
        .map(|k| (edit_distance(unknown, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

/// Optimal string alignment distance (Levenshtein with adjacent swaps).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}
