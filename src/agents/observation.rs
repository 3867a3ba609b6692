//! What an agent is shown: its own team, the public facts, and what the protocol
//! publishes (the [`Board`]).

use super::{Intention, Pledge};
use crate::engine::Decision;
use serde::{Deserialize, Serialize};

/// What a team knows about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnView {
    /// This team's index (0-based in the harness; prompts number teams from 1).
    pub team: usize,
    pub ships: u32,
    pub bank: i64,
    pub assets: i64,
    /// Last year's catch `[deep, coast]` (0 before year 1).
    pub last_catch: [i64; 2],
    /// The decision applied last year (the year-0 deployment before year 1).
    pub last_decision: Decision,
    /// Most ships this team may order this year.
    pub order_limit: u32,
}

/// Facts every team sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicView {
    /// The year about to be played (1-based).
    pub year: u32,
    pub years_total: u32,
    /// Years left including this one.
    pub years_left: u32,
    pub teams: usize,
    /// Last year's ships in `[deep, coast, harbor]` (the year-0 deployment before year 1).
    pub fleet: [u32; 3],
    /// Last year's catch per ship in `[deep, coast]`; `None` before year 1.
    pub catch_per_ship: Option<[f64; 2]>,
    /// Densities `[deep, coast]` rounded to two decimals; `None` when `reveal_stock = false`.
    pub density: Option<[f64; 2]>,
    pub ship_value: i64,
    /// Game facts an agent needs to reason (prices, costs), copied from the parameters.
    pub fish_price: i64,
    pub ship_price: i64,
    /// Operating cost per ship in `[deep, coast, harbor]`.
    pub costs: [i64; 3],
}

/// A message on the board, attributed by the harness (never by its text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The year it was written.
    pub year: u32,
    /// Author's team index, set by the harness.
    pub from: usize,
    pub round: u32,
    /// Addressees (team indices); empty: everyone. Only they (and the author) see it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<usize>,
    pub text: String,
}

/// The id of team `team`'s message of `round` in `year`: `m<year>.<round>.<team + 1>`.
pub fn message_id(year: u32, round: u32, team: usize) -> String {
    format!("m{year}.{round}.{}", team + 1)
}

/// The id of team `team`'s intention of `round` in `year`: `i<year>.<round>.<team + 1>`.
pub fn intention_id(year: u32, round: u32, team: usize) -> String {
    format!("i{year}.{round}.{}", team + 1)
}

impl Message {
    /// Its id in `messages.csv` and in what each agent was shown: `m<year>.<round>.<team>`
    /// (team numbered from 1).
    pub fn id(&self) -> String {
        message_id(self.year, self.round, self.from)
    }

    /// Whether team `t` sees it.
    pub fn visible_to(&self, t: usize) -> bool {
        self.to.is_empty() || self.from == t || self.to.contains(&t)
    }
}

/// One line of the shared ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub year: u32,
    pub team: usize,
    /// What the team pledged (`None`: it gave no valid pledge).
    pub pledge: Option<Pledge>,
    /// The order and deployment the engine applied.
    pub order: u32,
    pub deep: u32,
    pub coast: u32,
    /// Catch as written in the ledger: the true catch under truthful reporting, the
    /// team's own report under self reporting.
    pub catch: i64,
    /// The actual order or deployment exceeded the pledge.
    pub violation: bool,
}

/// A quota that was over-fished under advisory enforcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaViolation {
    pub year: u32,
    pub team: usize,
    pub quota: i64,
    pub catch: i64,
}

/// The state of a quota negotiation visible to everyone.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QuotaBoard {
    /// Proposals of this negotiation, one per team (`None` before the proposal phase; a
    /// team's `None`: it abstained).
    pub proposals: Option<Vec<Option<i64>>>,
    /// Median of the proposals (the number voted on).
    pub median: Option<i64>,
    /// Total allowable catch in force this year, if any.
    pub tac: Option<i64>,
    /// This team's share of the TAC.
    pub my_quota: Option<i64>,
    /// Whether the quota is enforced by the engine (`false`: advisory).
    pub binding: bool,
    /// Advisory quotas exceeded last year, shown to all.
    pub violations_last_year: Vec<QuotaViolation>,
}

/// An intention as the board shows it: who announced it, in which round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedIntention {
    /// The year it was announced.
    pub year: u32,
    pub team: usize,
    pub round: u32,
    pub intention: Intention,
}

impl PublishedIntention {
    /// Its id: `i<year>.<round>.<team>` (team numbered from 1).
    pub fn id(&self) -> String {
        intention_id(self.year, self.round, self.team)
    }
}

/// The coordinate-wise medians of the published numeric sensitivities (REP).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SensitivityMedians {
    /// Each `[order, deep, coast]`.
    pub deep_up: [f64; 3],
    pub deep_down: [f64; 3],
    pub coast_up: [f64; 3],
    pub coast_down: [f64; 3],
    /// Teams whose sensitivities entered the medians.
    pub teams: usize,
}

/// A fine imposed after a year (sanctions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanctionRecord {
    pub year: u32,
    pub from: usize,
    pub to: usize,
    pub cost: i64,
    pub fine: i64,
}

/// What the protocol makes public. Each protocol fills the parts it uses; an empty board
/// is what agents see under `none`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Board {
    /// Messages of this year so far (broadcast, or the talk rounds of a negotiation).
    pub messages: Vec<Message>,
    /// Messages of the last `board_memory_years` years (social memory), oldest first.
    pub earlier_messages: Vec<Message>,
    /// Intentions (with sensitivities) of the last `board_memory_years` years.
    pub earlier_intentions: Vec<PublishedIntention>,
    pub quota: Option<QuotaBoard>,
    /// This year's pledges so far (ledger), by team.
    pub pledges: Vec<(usize, Pledge)>,
    /// The last `window` years of the ledger.
    pub ledger: Vec<LedgerEntry>,
    /// This year's announced intentions so far (A2A, REP).
    pub intentions: Vec<PublishedIntention>,
    /// Medians of the announced sensitivities (REP).
    pub sensitivity_medians: Option<SensitivityMedians>,
    /// The coordinate-wise median of the announced plans (REP with `consensus`).
    pub consensus: Option<crate::engine::Decision>,
    /// Fines imposed after last year, applied to the banks this year (sanctions).
    pub sanctions_last_year: Vec<SanctionRecord>,
    /// What each team did in the year just played (sanctions, when deciding whom to
    /// fine); `violation` marks a catch above an equal share of the sustainable yield.
    pub actions: Vec<LedgerEntry>,
    /// Characters of text this team may still publish this year (a communication
    /// budget), when one applies.
    pub text_budget_left: Option<usize>,
}

impl Board {
    /// The ids of the messages and intentions each of `teams` teams is shown (a directed
    /// message only to its author and addressees, as in `YearContext::observation`).
    /// Ids are formatted once for all teams: the game loop records this every year.
    pub fn shown_to_each(&self, teams: usize) -> Vec<Vec<String>> {
        let messages: Vec<(&Message, String)> = self
            .earlier_messages
            .iter()
            .chain(&self.messages)
            .map(|m| (m, m.id()))
            .collect();
        let intentions: Vec<String> = self
            .earlier_intentions
            .iter()
            .chain(&self.intentions)
            .map(PublishedIntention::id)
            .collect();
        (0..teams)
            .map(|t| {
                messages
                    .iter()
                    .filter(|(m, _)| m.visible_to(t))
                    .map(|(_, id)| id.clone())
                    .chain(intentions.iter().cloned())
                    .collect()
            })
            .collect()
    }
}

/// Everything a team may know when asked something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub own: OwnView,
    pub public: PublicView,
    pub board: Board,
}
