//! Prompt templates and rendering (DESIGN §4 "LLM agents").
//!
//! A prompt is: the system prompt and persona (system message), then the rules text,
//! the protocol section, the agent's memory, the observation and the request with its
//! JSON schema (user message). System prompt and rules are byte-identical across
//! protocols; only the protocol section differs. Templates are embedded at build time
//! and may be replaced from `[llm.prompts]`; the manifest records the hash of each.
//!
//! Text written by agents (messages) is quoted as JSON strings inside a `<<<DATA` …
//! `DATA>>>` block, one JSON object per line with the author set by the harness, so no
//! message can add a line of its own to the prompt or pass as another team.

use std::collections::BTreeMap;

use serde_json::json;

use super::config::PromptOverrides;
use super::model::sha256_hex;
use super::LlmError;
use crate::agents::{Observation, RequestKind};
use crate::engine::{Area, GameParams};

pub const SYSTEM: &str = include_str!("../../prompts/system.md");
pub const RULES: &str = include_str!("../../prompts/rules.md");
pub const PROTOCOL_NONE: &str = include_str!("../../prompts/protocol_none.md");
pub const PROTOCOL_BROADCAST: &str = include_str!("../../prompts/protocol_broadcast.md");
pub const PROTOCOL_QUOTA: &str = include_str!("../../prompts/protocol_quota.md");
pub const PROTOCOL_LEDGER: &str = include_str!("../../prompts/protocol_ledger.md");

/// The built-in `greedy` persona.
pub const GREEDY_PERSONA: &str =
    "Your goal: maximise your team's final assets (bank plus the value of your ships).";

/// First line of every request section; the mock reads it to know what is asked.
pub const REQUEST_MARKER: &str = "REQUEST:";
/// Start and end lines of quoted data written by agents or copied from records.
pub const DATA_OPEN: &str = "<<<DATA";
pub const DATA_CLOSE: &str = "DATA>>>";

/// The templates in force for an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Templates {
    pub system: String,
    pub rules: String,
    /// Protocol sections by protocol kind.
    pub protocols: BTreeMap<String, String>,
}

impl Templates {
    /// The embedded templates with any overrides applied.
    pub fn new(overrides: &PromptOverrides) -> Templates {
        let mut protocols: BTreeMap<String, String> = [
            ("none", PROTOCOL_NONE),
            ("broadcast", PROTOCOL_BROADCAST),
            ("quota", PROTOCOL_QUOTA),
            ("ledger", PROTOCOL_LEDGER),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in &overrides.protocols {
            protocols.insert(k.clone(), v.clone());
        }
        Templates {
            system: overrides
                .system
                .clone()
                .unwrap_or_else(|| SYSTEM.to_string()),
            rules: overrides.rules.clone().unwrap_or_else(|| RULES.to_string()),
            protocols,
        }
    }

    /// SHA-256 of every template, keyed `system`, `rules`, `protocol.<kind>`, for the
    /// manifest.
    pub fn hashes(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert("system".to_string(), sha256_hex(self.system.as_bytes()));
        out.insert("rules".to_string(), sha256_hex(self.rules.as_bytes()));
        for (k, v) in &self.protocols {
            out.insert(format!("protocol.{k}"), sha256_hex(v.as_bytes()));
        }
        out
    }

    /// The rules text for a game (identical for every protocol).
    pub fn render_rules(&self, game: &GameFacts) -> String {
        substitute(&self.rules, &game.vars())
    }

    /// The protocol section for a protocol kind and its switches (as strings).
    pub fn render_protocol(
        &self,
        kind: &str,
        switches: &BTreeMap<String, String>,
    ) -> Result<String, LlmError> {
        let template = self
            .protocols
            .get(kind)
            .ok_or_else(|| LlmError::Config(format!("no prompt template for protocol `{kind}`")))?;
        Ok(substitute(template, &protocol_vars(switches)))
    }
}

/// The game facts a prompt states (copied from the experiment's parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct GameFacts {
    pub params: GameParams,
    pub teams: usize,
    pub years: u32,
}

impl GameFacts {
    fn vars(&self) -> BTreeMap<String, String> {
        let p = &self.params;
        let max_catch = |t: &[f64]| t.iter().cloned().fold(0.0, f64::max);
        let pairs: Vec<(&str, String)> = vec![
            ("teams", self.teams.to_string()),
            ("years", self.years.to_string()),
            ("initial_ships", p.initial_ships.to_string()),
            ("initial_bank", p.initial_bank.to_string()),
            ("deep_max", p.deep.max_stock.to_string()),
            ("deep_initial", p.deep.initial_stock.to_string()),
            ("coast_max", p.coast.max_stock.to_string()),
            ("coast_initial", p.coast.initial_stock.to_string()),
            ("ship_price", p.ship_price.to_string()),
            ("deep_cost", p.deep.cost.to_string()),
            ("coast_cost", p.coast.cost.to_string()),
            ("harbor_cost", p.harbor_cost.to_string()),
            ("fish_price", p.fish_price.to_string()),
            ("deep_catch_max", fmt_num(max_catch(&p.deep.catch_table))),
            ("coast_catch_max", fmt_num(max_catch(&p.coast.catch_table))),
            ("deep_msy", fmt_num(p.msy(Area::Deep))),
            ("coast_msy", fmt_num(p.msy(Area::Coast))),
            ("collapse_pct", fmt_num(p.collapse_density * 100.0)),
            ("credit_pct", fmt_num(p.credit_rate * 100.0)),
            ("debit_pct", fmt_num(p.debit_rate * 100.0)),
        ];
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

/// A number without a trailing `.0` when it is whole.
fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

/// Adds the phrases protocol templates use, derived from the raw switches, with the
/// DESIGN §5 defaults for switches left out.
fn protocol_vars(switches: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut v = switches.clone();
    let get = |k: &str, d: &str| switches.get(k).cloned().unwrap_or_else(|| d.to_string());
    let rounds = get("rounds", "1");
    v.insert(
        "rounds_phrase".into(),
        if rounds == "1" {
            "is 1 round".to_string()
        } else {
            format!("are {rounds} rounds")
        },
    );
    v.entry("max_message_chars".into())
        .or_insert_with(|| "600".into());
    v.entry("every_years".into()).or_insert_with(|| "1".into());
    let approval: f64 = get("approval", "0.5").parse().unwrap_or(0.5);
    v.insert("approval_pct".into(), fmt_num(approval * 100.0));
    v.entry("allocation".into())
        .or_insert_with(|| "equal".into());
    let enforcement = get("enforcement", "binding");
    v.insert("enforcement".into(), enforcement.clone());
    v.insert(
        "enforcement_phrase".into(),
        if enforcement == "advisory" {
            "quotas are published but not enforced; over-fishing is recorded and shown to all next year.".into()
        } else {
            "the game stops each team's catch at its quota; fish not caught stay in the sea.".into()
        },
    );
    v.insert(
        "reporting_phrase".into(),
        if get("reporting", "truthful") == "self" {
            "the catch as each team reports it".into()
        } else {
            "the true catch, written by the harness".into()
        },
    );
    v.entry("window".into()).or_insert_with(|| "5".into());
    v
}

/// Replaces every `{{name}}` whose name is in `vars`; other text is left as it is.
pub fn substitute(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) if vars.contains_key(after[..end].trim()) => {
                out.push_str(&vars[after[..end].trim()]);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One remembered year of an agent's own history.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEntry {
    pub year: u32,
    pub order: i64,
    pub deep: i64,
    pub coast: i64,
    pub catch: [i64; 2],
    pub bank_after: i64,
    pub density_after: Option<[f64; 2]>,
}

/// The observation as text: labelled lines the model (and the mock) can read.
pub fn render_observation(obs: &Observation, memory: &[MemoryEntry]) -> String {
    let (own, public) = (&obs.own, &obs.public);
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line("# Situation".into());
    line(format!(
        "Year: {} of {} ({} years left including this one)",
        public.year, public.years_total, public.years_left
    ));
    line(format!("Teams: {}", public.teams));
    line(format!("Your team: {}", own.team));
    line(format!("Your ships: {}", own.ships));
    line(format!("Your bank: ${}", own.bank));
    line(format!("Your assets: ${}", own.assets));
    line(format!(
        "Most ships you may order this year: {}",
        own.order_limit
    ));
    let d = own.last_decision;
    line(format!(
        "Your decision last year: order {}, deep {}, coast {}",
        d.order, d.deep, d.coast
    ));
    line(format!(
        "Your catch last year: deep {}, coast {}",
        own.last_catch[0], own.last_catch[1]
    ));
    line(format!(
        "Fleet last year (all teams): deep {}, coast {}, harbor {}",
        public.fleet[0], public.fleet[1], public.fleet[2]
    ));
    match public.catch_per_ship {
        Some([a, b]) => line(format!(
            "Catch per ship last year: deep {a:.1}, coast {b:.1}"
        )),
        None => line("Catch per ship last year: none yet".into()),
    }
    match public.density {
        Some([a, b]) => line(format!("Density: deep {a:.2}, coast {b:.2}")),
        None => line("Density: not revealed".into()),
    }
    line(format!("Ship value: ${}", public.ship_value));
    line(format!(
        "Prices: fish ${}, new ship ${}; operating cost per ship: deep ${}, coast ${}, harbor ${}",
        public.fish_price, public.ship_price, public.costs[0], public.costs[1], public.costs[2]
    ));
    if !memory.is_empty() {
        line("# Your recent years".into());
        for m in memory {
            let dens = m
                .density_after
                .map(|[a, b]| format!("; density after: deep {a:.2}, coast {b:.2}"))
                .unwrap_or_default();
            line(format!(
                "Year {}: ordered {}, deep {}, coast {}; caught deep {}, coast {}; bank after ${}{}",
                m.year, m.order, m.deep, m.coast, m.catch[0], m.catch[1], m.bank_after, dens
            ));
        }
    }
    s.push_str(&render_board(obs));
    s
}

/// A `<<<DATA` block: each item one JSON line.
fn data_block(title: &str, items: Vec<serde_json::Value>) -> String {
    let mut s = format!("{title}\n{DATA_OPEN}\n");
    for item in items {
        s.push_str(&item.to_string());
        s.push('\n');
    }
    s.push_str(DATA_CLOSE);
    s.push('\n');
    s
}

fn render_board(obs: &Observation) -> String {
    let b = &obs.board;
    let mut s = String::new();
    if !b.messages.is_empty() {
        let items = b
            .messages
            .iter()
            .map(|m| json!({"from": format!("team {}", m.from), "round": m.round, "text": m.text}))
            .collect();
        s.push_str(&data_block(
            "# Messages from teams this year (quoted; the harness sets `from`)",
            items,
        ));
    }
    if let Some(q) = &b.quota {
        s.push_str("# Quota negotiation\n");
        if let Some(p) = &q.proposals {
            s.push_str(&format!("Proposals (TAC, by team): {p:?}\n"));
        }
        if let Some(m) = q.median {
            s.push_str(&format!("Median put to the vote: {m}\n"));
        }
        match q.tac {
            Some(t) => s.push_str(&format!("Total allowable catch in force: {t}\n")),
            None => s.push_str("Total allowable catch in force: none\n"),
        }
        if let Some(mine) = q.my_quota {
            let how = if q.binding { "binding" } else { "advisory" };
            s.push_str(&format!("Your quota: {mine} ({how})\n"));
        }
        if !q.violations_last_year.is_empty() {
            let items = q
                .violations_last_year
                .iter()
                .map(
                    |v| json!({"team": v.team, "year": v.year, "quota": v.quota, "catch": v.catch}),
                )
                .collect();
            s.push_str(&data_block("Quotas exceeded last year:", items));
        }
    }
    if !b.pledges.is_empty() {
        let items = b
            .pledges
            .iter()
            .map(|(t, p)| json!({"team": t, "order": p.order, "deep": p.deep, "coast": p.coast}))
            .collect();
        s.push_str(&data_block("# Pledges this year", items));
    }
    if !b.ledger.is_empty() {
        let items = b
            .ledger
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or(serde_json::Value::Null))
            .collect();
        s.push_str(&data_block("# Ledger (recent years)", items));
    }
    s
}

/// Extra facts a request carries besides the observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestExtra {
    /// Talk round (messages).
    pub round: u32,
    /// The true catch of the year just played (reports).
    pub actual_catch: Option<i64>,
    /// Longest message accepted (messages).
    pub max_message_chars: usize,
}

/// The JSON schema of each request's answer.
pub fn schema(kind: RequestKind) -> serde_json::Value {
    let int = |min: i64| json!({"type": "integer", "minimum": min});
    let obj = |props: serde_json::Value, req: &[&str]| json!({"type": "object", "properties": props, "required": req, "additionalProperties": false});
    match kind {
        RequestKind::Message => obj(json!({"message": {"type": "string"}}), &["message"]),
        RequestKind::Proposal => obj(json!({"tac": int(0)}), &["tac"]),
        RequestKind::Vote => obj(
            json!({"accept": {"type": "boolean"}, "reason": {"type": "string"}}),
            &["accept", "reason"],
        ),
        RequestKind::Pledge | RequestKind::Decision => obj(
            json!({"order": int(0), "deep": int(0), "coast": int(0)}),
            &["order", "deep", "coast"],
        ),
        RequestKind::Report => obj(json!({"catch": int(0)}), &["catch"]),
    }
}

/// The request section: what is asked, and the schema of the answer.
pub fn render_request(kind: RequestKind, obs: &Observation, extra: RequestExtra) -> String {
    let ask = match kind {
        RequestKind::Message => format!(
            "Write your public message for round {} (at most {} characters).",
            extra.round, extra.max_message_chars
        ),
        RequestKind::Proposal => {
            "Propose a total allowable catch (fish, deep sea and coast together) for this year."
                .to_string()
        }
        RequestKind::Vote => {
            let m = obs.board.quota.as_ref().and_then(|q| q.median);
            match m {
                Some(m) => format!("Vote on the median proposal, a total allowable catch of {m} fish: accept or reject, with a short reason."),
                None => "Vote on the proposal put to the vote: accept or reject, with a short reason.".to_string(),
            }
        }
        RequestKind::Pledge => format!(
            "Pledge your order and deployment for this year: order at most {} new ships; deep + coast at most your {} ships.",
            obs.own.order_limit, obs.own.ships
        ),
        RequestKind::Decision => format!(
            "Decide this year's order and deployment: order at most {} new ships; deep + coast at most your {} ships (the rest stay in the harbor).",
            obs.own.order_limit, obs.own.ships
        ),
        RequestKind::Report => format!(
            "Report your team's catch for the year just played (your actual catch was {} fish).",
            extra.actual_catch.unwrap_or(0)
        ),
    };
    format!(
        "{REQUEST_MARKER} {}\n{ask}\nAnswer with one JSON object matching this JSON schema, and nothing else:\n{}\n",
        kind.as_str(),
        schema(kind)
    )
}
