//! Every problem of a file at once. Serde stops at the first key it refuses (an unknown
//! key, a value of the wrong type), so a file with three mistakes would take three runs of
//! `validate` to fix: instead each refused key is blanked out of the text (spaces of the
//! same length, so every later position stays where it was) and the file is read again,
//! until serde reads it; resolution then reports every range, cross-reference and
//! undefined name it finds in one pass (and, as a protocol's or a seat's table stops at
//! its first problem, each key it reports is blanked in turn too). The problems come
//! back in file order.

use super::span::ConfigError;
use std::ops::Range;
use std::path::Path;

/// How many refused keys one report gathers at most.
const MAX_REFUSED: usize = 50;

/// Why one reading of a text failed.
pub enum Refusal {
    /// Serde refused one key (syntax, type, unknown key), located.
    Read(ConfigError),
    /// The text was read; resolution found these problems.
    Resolve(Vec<ConfigError>),
}

/// Whether `e` is about a key already reported (a consequence of standing in for it, not
/// a problem of the file): missing once blanked, or out of range once given a stand-in.
fn about_reported(e: &ConfigError, reported: &[String]) -> bool {
    e.field.as_ref().is_some_and(|f| reported.contains(f))
}

/// Stand-ins tried for a refused value whose key cannot simply be left out (a required
/// key): one of each TOML type, so that one of them reads.
const STAND_INS: [&str; 5] = ["0", "\"\"", "[]", "false", "{}"];

/// The text with the refused key at `path` left out or given a value of another type, so
/// that the reading gets past it; `None` when nothing gets past it (or it is not a `key =
/// value` entry).
fn get_past<T>(
    file: &Path,
    text: &str,
    path: &str,
    read: &impl Fn(&Path, &str) -> Result<T, Refusal>,
) -> Option<String> {
    let candidates = std::iter::once(blank(text, path))
        .chain(STAND_INS.iter().map(|v| stand_in(text, path, v)))
        .flatten();
    for candidate in candidates {
        match read(file, &candidate) {
            Err(Refusal::Read(e)) if e.field.as_deref() == Some(path) => continue,
            _ => return Some(candidate),
        }
    }
    None
}

/// Read `text` with `read`; on failure, every problem of the file as one error (the
/// first in file order, the others in its `more`). See the module.
pub fn every_problem<T>(
    file: &Path,
    text: &str,
    read: impl Fn(&Path, &str) -> Result<T, Refusal>,
) -> Result<T, ConfigError> {
    let mut found: Vec<ConfigError> = Vec::new();
    let mut reported: Vec<String> = Vec::new();
    let mut text = text.to_string();
    loop {
        match read(file, &text) {
            Ok(value) if found.is_empty() => return Ok(value),
            Ok(_) => break,
            Err(Refusal::Resolve(all)) => {
                let mut new: Vec<ConfigError> = Vec::new();
                for e in all {
                    if !found.contains(&e) && !new.contains(&e) && !about_reported(&e, &reported) {
                        new.push(e);
                    }
                }
                // A protocol's or a seat's table reports its first problem only (serde and
                // its checks stop there): leave out each key reported and read again, so
                // that the table's next problem shows too.
                let mut moved = false;
                for field in new.iter().filter_map(|e| e.field.as_deref()) {
                    if let Some(without) = blank(&text, field) {
                        reported.push(field.to_string());
                        text = without;
                        moved = true;
                    }
                }
                let none_new = new.is_empty();
                found.extend(new);
                if none_new || !moved || found.len() >= MAX_REFUSED {
                    break;
                }
            }
            Err(Refusal::Read(e)) => {
                if found.contains(&e) || about_reported(&e, &reported) {
                    break;
                }
                let field = e.field.clone();
                found.push(e);
                let past = field
                    .as_deref()
                    .filter(|_| found.len() < MAX_REFUSED)
                    .and_then(|f| get_past(file, &text, f, &read));
                match (field, past) {
                    (Some(field), Some(past)) => {
                        reported.push(field);
                        text = past;
                    }
                    // A key that is not `key = value` (a `[table]` of its own), a syntax
                    // error, or too many: left for the reader to fix.
                    _ => break,
                }
            }
        }
    }
    found.sort_by_key(|e| (e.line, e.column));
    let mut all = found.into_iter();
    let Some(mut head) = all.next() else {
        // Only reached with a problem found: never taken.
        return Err(ConfigError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: String::new(),
            more: Box::default(),
        });
    };
    head.more = all.collect();
    Err(head)
}

/// `text` with the key at the dotted `path` and its value replaced by spaces (and a comma
/// after it, in an inline table); `None` when it is not a `key = value` entry (a
/// `[table]` of its own), which is left for the reader to fix.
fn blank(text: &str, path: &str) -> Option<String> {
    let span = entry(text, path)?;
    let mut end = span.end;
    let rest = &text[end..];
    let after = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if rest[after..].starts_with(',') {
        end += after + 1;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..span.start]);
    out.extend(text[span.start..end].chars().map(|c| {
        if c == '\n' {
            "\n".to_string()
        } else {
            " ".repeat(c.len_utf8())
        }
    }));
    out.push_str(&text[end..]);
    Some(out)
}

/// `text` with the value of the key at the dotted `path` replaced by `value` (padded with
/// spaces to the old value's length, so that later positions stay where they were).
fn stand_in(text: &str, path: &str, value: &str) -> Option<String> {
    let span = entry(text, path)?;
    let entry_text = &text[span.clone()];
    let equals = entry_text.find('=')?;
    let value_start = span.start + equals + 1;
    let old = &text[value_start..span.end];
    if old.contains('\n') {
        return None;
    }
    let width = old.chars().count().max(value.len() + 1);
    Some(format!(
        "{} {value:<w$}{}",
        &text[..value_start],
        &text[span.end..],
        w = width - 1
    ))
}

/// The span of `key = value` at a dotted path (numeric segments index arrays).
fn entry(text: &str, path: &str) -> Option<Range<usize>> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let segments: Vec<&str> = path.split('.').collect();
    let (last, parents) = segments.split_last()?;
    let mut value = DeValue::Table(doc.into_inner());
    for segment in parents {
        value = match value {
            DeValue::Table(table) => table
                .into_iter()
                .find(|(k, _)| k.get_ref().as_ref() == *segment)
                .map(|(_, v)| v.into_inner())?,
            DeValue::Array(array) => array
                .into_iter()
                .nth(segment.parse::<usize>().ok()?)
                .map(|v| v.into_inner())?,
            _ => return None,
        };
    }
    let DeValue::Table(table) = value else {
        return None;
    };
    let (key, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *last)?;
    let (key, v) = (key.span(), v.span());
    // A `key = value` entry: the key is followed by `=` (a `[table]` header's is not).
    let after_key = text.get(key.end..)?.trim_start_matches([' ', '\t']);
    if !after_key.starts_with('=') || v.end <= key.start {
        return None;
    }
    Some(key.start..v.end)
}
