//! Communication budgets: the token-matched control (docs/DESIGN.md §5).
//!
//! REP publishes more than A2A (sensitivities on top of a plan and its reasoning), so a
//! difference between them may be one of volume, not of content. Any talking protocol can
//! therefore be given a per-agent, per-year budget of published text, in characters or in
//! tokens, or matched to the volume a reference protocol was measured to use
//! (`match_tokens_of`; the runner measures the reference cell and sets it).
//!
//! Volume is counted as what the others read: the characters of each published item
//! (message, intention with its plan, reasoning and sensitivities) in its JSON form. A
//! budget bounds the free text: each text may use what is left of the year's budget
//! after the item's fixed part; the fixed parts (a plan, sensitivities) are always
//! published and counted.

use super::SpecError;
use serde::{Deserialize, Serialize};

/// Characters per token in the volume estimate (the harness's usual chars/4).
pub const CHARS_PER_TOKEN: usize = 4;

/// The budget switches every talking protocol takes. At most one of `budget_chars`,
/// `budget_tokens` and `match_tokens_of` may be set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TextBudget {
    /// Characters each agent may publish per year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_chars: Option<usize>,
    /// Tokens each agent may publish per year (4 characters each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<usize>,
    /// A protocol of the same experiment whose measured mean volume per agent and year
    /// becomes this protocol's budget (the same population's cell, measured first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_tokens_of: Option<String>,
    /// The measured volume `match_tokens_of` resolved to (tokens per agent and year);
    /// set by the runner, never in a file.
    #[serde(skip)]
    pub matched_tokens: Option<u64>,
}

impl TextBudget {
    pub fn validate(&self) -> Result<(), SpecError> {
        let set = [
            self.budget_chars.is_some(),
            self.budget_tokens.is_some(),
            self.match_tokens_of.is_some(),
        ];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(SpecError::new(
                "budget_chars",
                "set at most one of budget_chars, budget_tokens and match_tokens_of",
            ));
        }
        if let Some(c) = self.budget_chars {
            super::check_range("budget_chars", c, 1, 1_000_000)?;
        }
        if let Some(t) = self.budget_tokens {
            super::check_range("budget_tokens", t, 1, 250_000)?;
        }
        Ok(())
    }

    /// Whether a budget is set (by any of its three switches): it then replaces the
    /// per-text bounds.
    pub fn is_set(&self) -> bool {
        self.budget_chars.is_some()
            || self.budget_tokens.is_some()
            || self.match_tokens_of.is_some()
    }

    /// The budget in characters per agent and year, once known.
    pub fn chars(&self) -> Option<usize> {
        self.budget_chars
            .or(self.budget_tokens.map(|t| t * CHARS_PER_TOKEN))
            .or(self.matched_tokens.map(|t| t as usize * CHARS_PER_TOKEN))
    }

    /// The longest one text may be: `per_text`, or the whole budget when one applies
    /// (the budget replaces the per-text bound).
    pub fn bound(&self, per_text: usize) -> usize {
        self.chars().unwrap_or(per_text)
    }
}

/// The characters an item occupies as others read it: its JSON form.
pub fn published_chars<T: Serialize>(item: &T) -> usize {
    serde_json::to_string(item).map_or(0, |s| s.chars().count())
}

/// Tokens of `chars` characters of published text (rounded up).
pub fn tokens_of(chars: usize) -> u64 {
    chars.div_ceil(CHARS_PER_TOKEN) as u64
}

/// The sentence a protocol's prompt section ends with when a budget applies.
pub fn sentence(chars: usize) -> String {
    format!(
        " Each team may publish at most {chars} characters per year in all (about {} tokens, counted as the others read them); a text is cut where the budget runs out.",
        tokens_of(chars)
    )
}

/// `text` cut to at most `max` characters, and whether it was cut.
pub fn cut(text: String, max: usize) -> (String, bool) {
    if text.chars().count() > max {
        (text.chars().take(max).collect(), true)
    } else {
        (text, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_switch_at_most_and_tokens_are_four_characters() {
        let b = TextBudget {
            budget_tokens: Some(50),
            ..TextBudget::default()
        };
        assert_eq!(b.chars(), Some(200));
        assert!(b.validate().is_ok());
        let both = TextBudget {
            budget_chars: Some(10),
            match_tokens_of: Some("rep".into()),
            ..TextBudget::default()
        };
        assert!(both.validate().is_err());
        let matched = TextBudget {
            match_tokens_of: Some("rep".into()),
            matched_tokens: Some(30),
            ..TextBudget::default()
        };
        assert_eq!(matched.chars(), Some(120));
        assert_eq!(
            serde_json::to_string(&matched).unwrap(),
            r#"{"match_tokens_of":"rep"}"#,
            "the measured value is not configuration"
        );
    }

    #[test]
    fn texts_are_cut_and_counted_in_tokens() {
        assert_eq!(cut("abcdef".into(), 3), ("abc".into(), true));
        assert_eq!(cut("ab".into(), 3), ("ab".into(), false));
        assert_eq!(tokens_of(9), 3);
    }
}
