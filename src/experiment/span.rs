//! Where in the experiment file a problem is: errors that name the file, line, column
//! and field.
//!
//! Parsing happens in two passes. Serde (with `deny_unknown_fields`) catches syntax, type
//! errors and unknown fields, and toml reports where. Resolution
//! ([`super::resolve`]) then checks ranges and cross-references and returns the dotted
//! path of the offending field; [`locate`] turns that path into a line and column using
//! toml's spanned document.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem with an experiment file, located in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column; `None` when the file could not be read at all.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted path of the field, e.g. `protocols.quota.approval`.
    pub field: Option<String>,
    pub message: String,
    /// Further problems of the same file, in file order (every unknown key is reported
    /// at once).
    pub more: Box<[ConfigError]>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{}`: ", written_path(field))?;
        }
        write!(f, "{}", self.message)?;
        for other in &self.more {
            write!(f, "\n{other}")?;
        }
        Ok(())
    }
}

/// A dotted path as a reader of the file names it: list positions as `[i]`
/// (`populations.p.agents[0].tremble`: the list's first entry, not team 0).
fn written_path(path: &str) -> String {
    let mut out = String::new();
    for (i, part) in path.split('.').enumerate() {
        if part.parse::<usize>().is_ok() {
            out.push_str(&format!("[{part}]"));
        } else {
            if i > 0 {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

/// The error of a file that could not be read.
pub fn unreadable(file: &Path, error: &std::io::Error) -> ConfigError {
    ConfigError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        field: None,
        message: format!("cannot read the file: {error}"),
        more: Box::default(),
    }
}

/// A toml parse or type error, located and with its field named.
pub fn from_toml(file: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let span = e.span();
    let field =
        missing_field(e.message(), span.clone().and_then(|s| field_at(text, s))).or_else(|| {
            let s = span.clone()?;
            field_at(text, s.clone()).or_else(|| field_on_line(text, s.start))
        });
    located(
        file,
        text,
        span,
        field,
        crate::spec::plain_message(e.message()),
    )
}

/// A resolution error at a dotted path, located at that key (or the deepest existing key
/// on its path).
pub fn at_path(file: &Path, text: &str, path: &str, message: String) -> ConfigError {
    let span = locate(text, path);
    located(file, text, span, Some(path.to_string()), message)
}

pub fn located(
    file: &Path,
    text: &str,
    span: Option<Range<usize>>,
    field: Option<String>,
    message: String,
) -> ConfigError {
    let (line, column) = match span {
        Some(s) => {
            let (l, c) = line_column(text, s.start);
            (Some(l), Some(c))
        }
        None => (Some(1), Some(1)),
    };
    ConfigError {
        file: file.to_path_buf(),
        line,
        column,
        field,
        message,
        more: Box::default(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The span of the key at a dotted path (numeric segments index arrays). Falls back to
/// the deepest key on the path that exists, so an error about a missing field points at
/// the table that lacks it.
pub fn locate(text: &str, path: &str) -> Option<Range<usize>> {
    use toml::de::{DeTable, DeValue};
    fn walk(
        value: &DeValue,
        segments: &[&str],
        best: Option<Range<usize>>,
    ) -> Option<Range<usize>> {
        let Some((segment, rest)) = segments.split_first() else {
            return best;
        };
        let next = match value {
            DeValue::Table(table) => table
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == *segment)
                .map(|(k, v)| (k.span(), v)),
            DeValue::Array(array) => segment
                .parse::<usize>()
                .ok()
                .and_then(|i| array.get(i))
                .map(|v| (v.span(), v)),
            _ => None,
        };
        match next {
            Some((span, v)) => walk(v.get_ref(), rest, Some(span)),
            None => best,
        }
    }
    let doc = DeTable::parse(text).ok()?;
    let segments: Vec<&str> = path.split('.').collect();
    walk(&DeValue::Table(doc.into_inner()), &segments, None)
}

/// For "missing field `x`" errors: the path of the missing field, under the table the
/// error points at (if any).
fn missing_field(message: &str, table: Option<String>) -> Option<String> {
    let name = message.strip_prefix("missing field `")?.split('`').next()?;
    Some(match table {
        Some(t) => format!("{t}.{name}"),
        None => name.to_string(),
    })
}

/// The field written on the line of `offset`, prefixed by the table it is in. For syntax
/// errors, where the document cannot be parsed into spans: a plain reading of the lines.
fn field_on_line(text: &str, offset: usize) -> Option<String> {
    let (line_no, _) = line_column(text, offset);
    let lines: Vec<&str> = text.lines().collect();
    let line = lines.get(line_no - 1)?.trim();
    let table = lines[..line_no - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    if line.starts_with('[') {
        return Some(
            line.trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string(),
        );
    }
    let key = line.split('=').next()?.trim();
    if key.is_empty() || key.starts_with('#') {
        return table;
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

/// The dotted path of the deepest key whose key or value contains `span` (type errors
/// do not name the field). Searches the whole document: a `[table]` header's span does
/// not cover the table's contents, so spans cannot guide the descent.
fn field_at(text: &str, span: Range<usize>) -> Option<String> {
    use toml::de::{DeTable, DeValue};
    fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
        outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
    }
    fn walk(value: &DeValue, span: &Range<usize>, path: &mut Vec<String>, best: &mut Vec<String>) {
        let mut visit =
            |segment: String, spans: &[Range<usize>], child: &DeValue, best: &mut Vec<String>| {
                path.push(segment);
                if spans.iter().any(|s| covers(s, span)) && path.len() > best.len() {
                    *best = path.clone();
                }
                walk(child, span, path, best);
                path.pop();
            };
        match value {
            DeValue::Table(table) => {
                for (k, v) in table.iter() {
                    visit(
                        k.get_ref().to_string(),
                        &[k.span(), v.span()],
                        v.get_ref(),
                        best,
                    );
                }
            }
            DeValue::Array(array) => {
                for (i, v) in array.iter().enumerate() {
                    visit(i.to_string(), &[v.span()], v.get_ref(), best);
                }
            }
            _ => {}
        }
    }
    if span.is_empty() {
        return None;
    }
    let doc = DeTable::parse(text).ok()?;
    let mut best = Vec::new();
    walk(
        &DeValue::Table(doc.into_inner()),
        &span,
        &mut Vec::new(),
        &mut best,
    );
    (!best.is_empty()).then(|| best.join("."))
}
