//! Quoting for prompts: text written by agents or copied from records goes into a
//! `<<<DATA` … `DATA>>>` block, one JSON object per line with the author set by the
//! harness, so no message can add a line of its own to the prompt or pass as another
//! team.

use super::{DATA_CLOSE, DATA_OPEN};

/// A `<<<DATA` block under `title`: each item one JSON line (nothing when there are no
/// items).
pub fn data_block<T: serde::Serialize>(
    out: &mut String,
    title: &str,
    items: impl IntoIterator<Item = T>,
) {
    let mut items = items.into_iter().peekable();
    if items.peek().is_none() {
        return;
    }
    out.push_str(title);
    out.push('\n');
    out.push_str(DATA_OPEN);
    out.push('\n');
    for item in items {
        // Plain data: writing it cannot fail.
        out.push_str(&serde_json::to_string(&item).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(DATA_CLOSE);
    out.push('\n');
}

/// Lines joined, each ending in a newline.
pub fn lines(lines: impl IntoIterator<Item = String>) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}
