//! Rows of the CSV files. Each file's header is derived from its row struct
//! ([`super::header_of`]), so a column is added in exactly one place.

use super::RunStatus;
use serde::{Deserialize, Serialize};

/// One row of `runs.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunRow {
    pub run_id: String,
    /// `<protocol>/<population>`.
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub seed: u64,
    pub status: RunStatus,
    /// The horizon (years configured).
    pub years: u32,
    pub collapsed: bool,
    pub collapse_year: Option<u32>,
    /// `collapse_year − 1`, or `years` when the fish survived (censored).
    pub survival_years: u32,
    pub final_stock_deep: i64,
    pub final_stock_coast: i64,
    pub total_catch: i64,
    pub total_assets: i64,
    pub gini_assets: f64,
    pub gini_catch: f64,
    /// Decisions the engine had to repair (out of range, more ships than the fleet).
    pub invalid_decisions: u32,
    /// LLM calls: first asks and repair re-asks (transport retries are not calls).
    pub llm_calls: u64,
    /// Transport retries, all kinds (see the `retries_*` columns).
    pub llm_retries: u64,
    /// Re-asks after an answer that failed validation.
    pub llm_repairs: u64,
    /// Answers replaced by the configured fallback after `max_repairs`.
    pub llm_fallbacks: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Cost as billed: input at the input price, cached input at the cached price,
    /// output at the output price.
    pub cost_usd: f64,
    /// Requests LLM agents answered (validly, after repairs, or by a fallback).
    pub llm_answers: u64,
    /// Of those, valid at the first call.
    pub llm_valid_first_try: u64,
    /// `llm_fallbacks / llm_answers` (0 without LLM agents). Above `[llm]
    /// max_fallback_share` the run is `invalid`.
    pub fallback_share: f64,
    /// Input tokens served from the server's prompt cache (`cached_tokens`).
    pub tokens_cached: u64,
    /// Live calls whose server reported no cached-token count (counted as 0 cached).
    pub calls_without_cache_report: u64,
    /// Transport retries by kind: 429, 5xx, timeouts, connection errors, and success
    /// responses whose body was not a chat completion.
    pub retries_rate_limit: u64,
    pub retries_server_error: u64,
    pub retries_timeout: u64,
    pub retries_connection: u64,
    pub retries_malformed: u64,
    /// Characters the agents published (messages, intentions, as the others read them).
    pub talk_chars: u64,
    /// The same in tokens (4 characters each, rounded up per agent and year).
    pub talk_tokens: u64,
    /// The communication budget in force, in characters per agent and year (empty: none).
    pub talk_budget_chars: Option<u64>,
    /// The generation this game is of its replicate's line (1 without generations).
    #[serde(default = "first_generation")]
    pub generation: u32,
    /// The run of the previous generation, whose lessons this one inherited (empty for
    /// the first).
    #[serde(default)]
    pub parent: String,
    /// Years actually played (fewer than `years` with `stop_on_collapse` or a failure).
    pub years_played: u32,
    /// Why the run failed or stopped, if it did.
    pub error: String,
}

fn first_generation() -> u32 {
    1
}

/// One row of `years.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct YearRow {
    pub run_id: String,
    pub year: u32,
    pub fleet_deep: u32,
    pub fleet_coast: u32,
    pub fleet_harbor: u32,
    pub catch_deep: i64,
    pub catch_coast: i64,
    /// End of the year, after regeneration.
    pub stock_deep: i64,
    pub stock_coast: i64,
    pub regen_deep: i64,
    pub regen_coast: i64,
    pub ship_value: i64,
    pub weather: f64,
    /// After the harvest, before regeneration (where collapse is checked).
    pub post_harvest_deep: i64,
    pub post_harvest_coast: i64,
    /// The team in office this year (`leader`; empty otherwise).
    #[serde(default)]
    pub leader: Option<usize>,
}

/// One row of `agents.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentRow {
    pub run_id: String,
    pub year: u32,
    pub agent: usize,
    /// The decision the engine applied (after repair).
    pub order: u32,
    pub deep: u32,
    pub coast: u32,
    pub harbor: u32,
    /// End-of-year ships (the order delivered).
    pub ships: u32,
    pub catch_deep: i64,
    pub catch_coast: i64,
    pub revenue: i64,
    pub costs: i64,
    pub interest: i64,
    /// End-of-year bank.
    pub bank: i64,
    pub assets: i64,
    /// The team's published quota this year (binding or advisory); empty without one.
    pub quota: Option<i64>,
    /// Whether the engine cut this team's catch to its quota.
    pub quota_binding: bool,
    pub pledge_order: Option<i64>,
    pub pledge_deep: Option<i64>,
    pub pledge_coast: Option<i64>,
    /// Whether the engine had to repair the requested decision.
    pub repaired: bool,
    /// Whether the decision was the LLM agent's configured fallback (no valid answer).
    pub fallback: bool,
    /// The catch the team declared (self-reported ledger only).
    pub reported_catch: Option<i64>,
    /// The plan the team announced this year: its last intention (A2A, REP), else its
    /// pledge (ledger), else a plan its message stated as "order X, deep Y, coast Z".
    pub announced_order: Option<i64>,
    pub announced_deep: Option<i64>,
    pub announced_coast: Option<i64>,
    /// Characters the team published this year.
    pub talk_chars: u64,
    /// Money moved into (negative: out of) the bank this year by last year's fines.
    pub transfer: i64,
    /// Fines this team imposed, and received, after this year (sanctions).
    pub fines_given: u32,
    pub fines_received: u32,
    /// Ids of the messages and intentions the team was shown when it decided (see
    /// `messages.csv`), separated by spaces.
    pub shown: String,
    /// The consensus probe's answer (empty in years without a probe): the total catch
    /// the team thinks the group follows, the team it names (1-based, 0: nobody), and
    /// whether that number was one the team had been shown.
    pub probe_tac: Option<i64>,
    pub probe_set_by: Option<i64>,
    pub probe_grounded: Option<bool>,
    /// Whether this team led this year (`leader`); empty in a year nobody led, so a run
    /// without a leader is told apart from one whose leader was another team.
    #[serde(default)]
    pub leader: Option<bool>,
    /// Ships won at the ship market's auction this year, and the money paid for them;
    /// empty without a market (a market in which a team won nothing writes 0).
    #[serde(default)]
    pub auction_ships: Option<u32>,
    #[serde(default)]
    pub auction_paid: Option<i64>,
    /// Ships bought (+) or sold (−) in trades this year, and money received (+) or paid
    /// (−); empty without a market.
    #[serde(default)]
    pub trade_ships: Option<i64>,
    #[serde(default)]
    pub trade_money: Option<i64>,
}

/// One row of `messages.csv`: a published text (a message, or an intention's reasoning).
/// Line breaks in `text` are written as `\n` and backslashes as `\\`, so every row is
/// one line (the files are regrouped line by line); the event log keeps the raw text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageRow {
    pub run_id: String,
    pub year: u32,
    pub round: u32,
    /// Author (team index, set by the harness).
    pub from: usize,
    /// Addressees as team indices separated by spaces; empty: everyone.
    pub to: String,
    pub text: String,
    /// Tokens of the text (4 characters each, rounded up).
    pub tokens: u64,
    /// `message`, `intention`, `agenda` or `lesson`.
    pub kind: String,
    /// `m<year>.<round>.<team>`, `i<year>.<round>.<team>`, `a<year>.<team>` or
    /// `l<year>.<team>` (team from 1): what `agents.csv`'s `shown` lists.
    pub id: String,
}

/// `text` with line breaks and backslashes escaped (`messages.csv`).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            other => out.push(other),
        }
    }
    out
}

/// The inverse of [`escape_text`].
pub fn unescape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Identity of a run in the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunLabel {
    pub run_id: String,
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub seed: u64,
    pub years: u32,
    /// 1 without generations.
    pub generation: u32,
    /// The previous generation's run (`None` for the first).
    pub parent: Option<String>,
}

/// Gini coefficient of non-negative-shifted values: `Σ_i Σ_j |x_i − x_j| / (2 n² mean)`.
/// Values are shifted up by the minimum when negative (assets can be), and an all-zero
/// vector is perfectly equal (0).
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let shift = if min < 0.0 { -min } else { 0.0 };
    let mut sorted: Vec<f64> = values.iter().map(|v| v + shift).collect();
    sorted.sort_by(f64::total_cmp);
    let total: f64 = sorted.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    // Sorted form of the mean absolute difference: Σ (2i − n + 1) x_i / (n Σ x).
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, x)| (2.0 * i as f64 - n as f64 + 1.0) * x)
        .sum();
    weighted / (n as f64 * total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::header_of;

    #[test]
    fn gini_of_equal_values_is_zero_and_of_one_holder_is_near_one() {
        assert_eq!(gini(&[5.0, 5.0, 5.0]), 0.0);
        assert_eq!(gini(&[0.0, 0.0, 0.0]), 0.0);
        // One of four holds everything: (n − 1) / n.
        assert!((gini(&[0.0, 0.0, 0.0, 8.0]) - 0.75).abs() < 1e-12);
        // Mean absolute difference by hand for [1, 2, 3]: Σ|xi−xj| = 8, 2·9·2 = 36.
        assert!((gini(&[3.0, 1.0, 2.0]) - 8.0 / 36.0).abs() < 1e-12);
    }

    #[test]
    fn gini_shifts_negative_values() {
        // [-1, 1] shifted to [0, 2]: one holder of everything among two = 0.5.
        assert!((gini(&[-1.0, 1.0]) - 0.5).abs() < 1e-12);
    }

    /// The field names of a row type, read from its serialized JSON form (an independent
    /// route from the CSV header derivation).
    fn fields<T: Serialize + Default>() -> Vec<String> {
        match serde_json::to_value(T::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            other => panic!("not a struct: {other:?}"),
        }
    }

    #[test]
    fn csv_headers_are_the_row_fields_in_order() {
        fn check<T: Serialize + Default>() {
            let mut header = header_of::<T>();
            let mut names = fields::<T>();
            assert!(!header.is_empty());
            // JSON maps are sorted; compare as sets and check the order separately below.
            header.sort();
            names.sort();
            assert_eq!(header, names);
        }
        check::<RunRow>();
        check::<YearRow>();
        check::<AgentRow>();
        let runs = header_of::<RunRow>();
        assert_eq!(runs.first().map(String::as_str), Some("run_id"));
        assert_eq!(runs.get(5).map(String::as_str), Some("status"));
        assert_eq!(runs.last().map(String::as_str), Some("error"));
    }
}
