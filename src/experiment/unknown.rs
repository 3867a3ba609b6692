//! Every unknown key of a file at once. Serde stops at the first unknown field, so a
//! file with three misspellings would take three runs of `validate` to fix: instead each
//! unknown key found is blanked out of the text (spaces of the same length, so every
//! later position stays where it was) and the file is read again, until no unknown key
//! is left. The errors come back in file order, with whatever other error remains last.

use super::span::ConfigError;
use std::ops::Range;
use std::path::Path;

/// How many unknown keys one report gathers at most.
const MAX_UNKNOWN: usize = 50;

/// Whether an error is about a key the file should not have.
pub fn is_unknown_key(e: &ConfigError) -> bool {
    e.message.contains("unknown field `")
}

/// `first`, the error of reading `text`, with every other unknown key of the file after
/// it (see the module); `read` is one reading of a text.
pub fn every_unknown_key<T>(
    file: &Path,
    text: &str,
    first: ConfigError,
    read: impl Fn(&Path, &str) -> Result<T, ConfigError>,
) -> ConfigError {
    if !is_unknown_key(&first) {
        return first;
    }
    let mut found = vec![first];
    let mut text = text.to_string();
    while found.len() < MAX_UNKNOWN {
        let Some(last) = found.last() else { break };
        if !is_unknown_key(last) {
            break;
        }
        let Some(blanked) = last.field.as_deref().and_then(|f| blank(&text, f)) else {
            break;
        };
        text = blanked;
        match read(file, &text) {
            Ok(_) => break,
            Err(e) if found.contains(&e) => break,
            Err(e) => found.push(e),
        }
    }
    found.sort_by_key(|e| (e.line, e.column));
    let mut all = found.into_iter();
    let Some(mut head) = all.next() else {
        // `found` starts with `first`: never taken.
        return ConfigError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: String::new(),
            more: Box::default(),
        };
    };
    head.more = all.collect();
    head
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
