//! Resolved protocol configurations: every switch of DESIGN §5 with its default filled in.
//! (The TOML form, with optional switches, lives in `experiment::config`.)

use serde::{Deserialize, Serialize};

/// Who speaks when in a broadcast round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageOrder {
    /// Everyone writes at once; a round sees only earlier rounds.
    #[default]
    Simultaneous,
    /// One at a time in a random order drawn from the run seed; each sees what was said
    /// before it.
    Sequential,
}

/// How a total allowable catch is split into team quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// `floor(TAC / N)` each.
    #[default]
    Equal,
    /// `floor(TAC · ships_t / Σ ships)`.
    Fleet,
}

/// Whether the engine enforces quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// The engine caps each team's catch at its quota (DESIGN §3 step 5).
    #[default]
    Binding,
    /// Published only; violations are recorded and shown to all next year.
    Advisory,
}

/// What holds when a negotiation fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnReject {
    /// No quota until the next negotiation.
    #[default]
    None,
    /// The last adopted TAC stays in force.
    Previous,
}

/// Who writes the catch into the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reporting {
    /// The harness writes the true catch.
    #[default]
    Truthful,
    /// Each team declares its own catch; the truth is kept apart for analysis.
    #[serde(rename = "self")]
    SelfReported,
}

/// Switches of the negotiated-quota protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaConfig {
    /// Negotiate every this many years (1 = every year).
    pub every_years: u32,
    /// Message rounds before the proposals.
    pub talk_rounds: u32,
    /// Bound on each message's length in characters.
    pub max_message_chars: usize,
    /// Accept share needed to adopt the median (1.0 = unanimity).
    pub approval: f64,
    pub allocation: Allocation,
    pub enforcement: Enforcement,
    pub on_reject: OnReject,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            every_years: 1,
            talk_rounds: 0,
            max_message_chars: 600,
            approval: 0.5,
            allocation: Allocation::Equal,
            enforcement: Enforcement::Binding,
            on_reject: OnReject::None,
        }
    }
}

/// A protocol with every switch resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProtocolConfig {
    None,
    Broadcast {
        rounds: u32,
        order: MessageOrder,
        max_message_chars: usize,
    },
    Quota(QuotaConfig),
    Ledger {
        reporting: Reporting,
        /// Years of ledger history agents see.
        window: u32,
    },
}

impl ProtocolConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolConfig::None => "none",
            ProtocolConfig::Broadcast { .. } => "broadcast",
            ProtocolConfig::Quota(_) => "quota",
            ProtocolConfig::Ledger { .. } => "ledger",
        }
    }
}
