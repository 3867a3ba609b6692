//! Questions: everything the harness may ask an agent, one file per question.
//!
//! A question's file owns its whole contract, so that a scripted strategy, an LLM and a
//! person in a browser are asked the same thing, validated the same way and recorded
//! the same way; only who answers differs:
//!
//! - the request type (what the protocol asks, with its limits) and the answer type;
//! - the fields of the answer and their limits ([`field::FieldSpec`]), from which its JSON
//!   schema is built ([`Question::schema`]);
//! - the sentence that asks it ([`Question::ask`]);
//! - reading and validating an answer ([`Question::read`]), with an error a model or a
//!   person can act on;
//! - what stands in when no valid answer comes ([`Question::fallback`]): a previous
//!   decision, the harbor, or an explicit abstention;
//! - the sample the dry-run estimate renders ([`RequestKind::sample`]);
//! - the part of the board it publishes, and the labels another part reads back (one
//!   constant each, see [`observation::label`]).
//!
//! The [`Request`] and [`Response`] enums are exhaustive on purpose: a new question is a
//! compile error in every agent kind until each answers it. "Adding a question" in
//! `CONTRIBUTING.md` lists what else it touches.

pub mod accept;
pub mod agenda;
pub mod ballot;
pub mod bid;
mod board;
pub mod decision;
pub mod field;
pub mod intention;
pub mod json;
pub mod leader_report;
pub mod leader_tac;
pub mod lesson;
pub mod message;
pub mod observation;
pub mod offer;
pub mod pledge;
pub mod probe;
pub mod proposal;
mod quote;
pub mod report;
pub mod sanction;
pub mod vote;
pub mod wire;

pub use accept::AcceptQuestion;
pub use agenda::{Agenda, AgendaQuestion};
pub use ballot::{BallotQuestion, LeaderBoard};
pub use bid::{AuctionWin, BidQuestion};
pub use decision::DecisionQuestion;
pub use field::{FieldKind, FieldSpec};
pub use intention::{
    intention_id, Intention, IntentionQuestion, PublishedIntention, Sensitivities,
    SensitivityMedians,
};
pub use leader_report::LeaderReportQuestion;
pub use leader_tac::LeaderTacQuestion;
pub use lesson::{Inherit, Lesson, LessonQuestion};
pub use message::{message_id, Message, MessageQuestion};
pub use observation::MemoryEntry;
pub use offer::{MarketBoard, OfferItem, OfferQuestion, TradeItem};
pub use pledge::{LedgerEntry, Pledge, PledgeQuestion};
pub use probe::{ProbeAnswer, ProbeQuestion};
pub use proposal::{ProposalQuestion, QuotaBoard, QuotaViolation, TacSource};
pub use report::ReportQuestion;
pub use sanction::{SanctionQuestion, SanctionRecord};
pub use vote::{Vote, VoteQuestion};

pub use crate::engine::Decision;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Tokens of whitespace allowed at each place JSON allows whitespace, in a request's
/// `max_tokens`: llama.cpp's grammars allow a newline and up to 20 spaces or tabs there,
/// and a small model writes them.
pub const WHITESPACE_TOKENS: usize = 22;

/// First line of every request section; the mock model reads it to know what is asked.
pub const REQUEST_MARKER: &str = "REQUEST:";
/// Start and end lines of quoted data written by agents or copied from records: one JSON
/// object per line, so no text can add a line of its own or pass as another team.
pub const DATA_OPEN: &str = "<<<DATA";
pub const DATA_CLOSE: &str = "DATA>>>";

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
    /// What only this team knows, by its role (the elected leader's exact view of the
    /// sea under `private_information`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<PrivateView>,
}

/// The sea as a role with private information sees it: exact, where the others see
/// rounded densities or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateView {
    /// Fish `[deep, coast]` at the start of the year.
    pub stock: [i64; 2],
    /// Capacity `[deep, coast]`.
    pub capacity: [i64; 2],
    /// Last year's regeneration `[deep, coast]` (`None` before year 1).
    pub regeneration: Option<[i64; 2]>,
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

/// Everything a team may know when asked something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub own: OwnView,
    pub public: PublicView,
    pub board: Board,
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
    pub consensus: Option<Decision>,
    /// Fines imposed after last year, applied to the banks this year (sanctions).
    pub sanctions_last_year: Vec<SanctionRecord>,
    /// What each team did in the year just played (sanctions, when deciding whom to
    /// fine); `violation` marks a catch above an equal share of the sustainable yield.
    pub actions: Vec<LedgerEntry>,
    /// Characters of text this team may still publish this year (a communication
    /// budget), when one applies.
    pub text_budget_left: Option<usize>,
    /// The leadership: agendas, votes, who leads, the leader's report (`leader`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<LeaderBoard>,
    /// Lessons the previous generation left (generations, by `inherit`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lessons: Vec<Lesson>,
    /// This year's ship market: the auction's result, the offers, the trades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<MarketBoard>,
}

/// Limits an answer is checked against besides the request and the observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest TAC or report accepted (the sea's combined capacity).
    pub max_fish: i64,
}

/// What stands in for an answer an agent could not give validly (docs/DESIGN.md §4): for a
/// decision or pledge, last year's decision or the harbor; every other question falls
/// back to an explicit abstention or to nothing; `fail-run` fails the run instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// Repeat last year's decision.
    #[default]
    Previous,
    /// Keep every ship in the harbor and order nothing.
    Hold,
    /// Fail the run.
    FailRun,
}

impl Fallback {
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::Previous => "previous",
            Fallback::Hold => "hold",
            Fallback::FailRun => "fail-run",
        }
    }
}

/// One kind of question, implemented by its request type in its own file.
pub trait Question {
    /// Which question this is (names it in prompts, events and the cache key).
    fn kind(&self) -> RequestKind;

    /// The talk or intention round the question belongs to (0 for the others).
    fn round(&self) -> u32 {
        0
    }

    /// The answer's fields, every one required, each with its limits.
    fn fields(&self, obs: &Observation, limits: Limits) -> Vec<FieldSpec>;

    /// The JSON schema of a valid answer: by default every field of [`Question::fields`]
    /// with its bounds, nothing else.
    fn schema(&self, obs: &Observation, limits: Limits) -> Value {
        field::object_schema(&self.fields(obs, limits))
    }

    /// The schema as the question's text shows it: by default the exact one, except that
    /// a set listing its allowed objects shows one boolean per member and its limit in
    /// words. A question whose exact schema is a long choice (a plan: one branch per
    /// deep-sea fleet) shows its fields as one object and states the rule in words, to
    /// keep prompts short.
    fn prompt_schema(&self, obs: &Observation, limits: Limits) -> Value {
        field::prompt_object_schema(&self.fields(obs, limits))
    }

    /// [`Question::schema`] as compact JSON text, keys sorted: the bytes sent to a server
    /// and hashed into the cache key. A question whose schema is large may write it
    /// without building the `Value` (a plan: one branch per deep-sea fleet, every call);
    /// a test holds each such text to the `Value`'s.
    fn schema_text(&self, obs: &Observation, limits: Limits) -> String {
        self.schema(obs, limits).to_string()
    }

    /// The sentence(s) that ask it, with every limit stated.
    fn ask(&self, obs: &Observation) -> String;

    /// A valid answer from its JSON object, or why it is not one (in words the agent can
    /// act on).
    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String>;

    /// What stands in for no valid answer under `fallback` (never `FailRun`, which the
    /// asker handles). An abstention for every question but decisions and pledges.
    fn fallback(&self, obs: &Observation, fallback: Fallback) -> Response;
}

/// A question the protocol asks an agent, with what the agent needs to answer it beyond
/// its observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    Message(MessageQuestion),
    Proposal(ProposalQuestion),
    Vote(VoteQuestion),
    Pledge(PledgeQuestion),
    Decision(DecisionQuestion),
    Report(ReportQuestion),
    Intention(IntentionQuestion),
    Sanction(SanctionQuestion),
    Probe(ProbeQuestion),
    Agenda(AgendaQuestion),
    Ballot(BallotQuestion),
    LeaderTac(LeaderTacQuestion),
    LeaderReport(LeaderReportQuestion),
    Lesson(LessonQuestion),
    Bid(BidQuestion),
    Offer(OfferQuestion),
    Accept(AcceptQuestion),
}

impl Request {
    /// The question behind the request: its schema, text, validation and fallback.
    pub fn question(&self) -> &dyn Question {
        match self {
            Request::Message(q) => q,
            Request::Proposal(q) => q,
            Request::Vote(q) => q,
            Request::Pledge(q) => q,
            Request::Decision(q) => q,
            Request::Report(q) => q,
            Request::Intention(q) => q,
            Request::Sanction(q) => q,
            Request::Probe(q) => q,
            Request::Agenda(q) => q,
            Request::Ballot(q) => q,
            Request::LeaderTac(q) => q,
            Request::LeaderReport(q) => q,
            Request::Lesson(q) => q,
            Request::Bid(q) => q,
            Request::Offer(q) => q,
            Request::Accept(q) => q,
        }
    }

    pub fn kind(&self) -> RequestKind {
        self.question().kind()
    }

    /// The decision of the year.
    pub fn decision() -> Request {
        Request::Decision(DecisionQuestion)
    }

    /// The full text of the request section of a prompt: what is asked, and the schema
    /// of the answer.
    pub fn render(&self, obs: &Observation, limits: Limits) -> String {
        let q = self.question();
        format!(
            "{REQUEST_MARKER} {}\n{}\nAnswer with one JSON object matching this JSON schema, and nothing else:\n{}\n",
            q.kind().as_str(),
            q.ask(obs),
            q.prompt_schema(obs, limits)
        )
    }

    /// Tokens enough for any valid answer a grammar lets a model write: the longest
    /// answer (texts at their `maxLength`, numbers at their widest), every text character
    /// counted four times (an emoji is four bytes, and a token covers at least one) and
    /// [`WHITESPACE_TOKENS`] at every place JSON allows whitespace (a grammar lets a model
    /// write runs of tabs there), plus 16. What a model is allowed to write: a valid
    /// answer is never cut off, a rambling one is.
    pub fn max_answer_tokens(&self, obs: &Observation, limits: Limits) -> u32 {
        let fields = self.question().fields(obs, limits);
        let longest = field::longest_answer(&fields);
        let text_chars: usize = fields
            .iter()
            .map(|f| match f.kind {
                FieldKind::Text { max_chars } => max_chars,
                _ => 0,
            })
            .sum();
        // `{`, `}`, `:`, `,` and the like: places where whitespace may come.
        let places = longest
            .chars()
            .filter(|c| matches!(c, '{' | '}' | '[' | ']' | ':' | ','))
            .count();
        let chars = longest.chars().count();
        (chars + 3 * text_chars + WHITESPACE_TOKENS * places + 16) as u32
    }

    /// Lenient extraction of the answer's JSON object from a model's text, then strict
    /// validation.
    pub fn parse(&self, text: &str, obs: &Observation, limits: Limits) -> Result<Response, String> {
        let map = json::extract_json(text)?;
        self.question().read(&map, obs, limits)
    }

    /// The answer of a program or a person: exactly one JSON object (whitespace aside),
    /// then the same validation.
    pub fn parse_strict(
        &self,
        text: &str,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let map = json::strict_object(text)?;
        self.question().read(&map, obs, limits)
    }
}

/// An agent's answer to a [`Request`] of the same kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// A message and the teams (0-based) it is addressed to (empty: everyone).
    Message {
        text: String,
        to: Vec<usize>,
    },
    Proposal(i64),
    Vote(Vote),
    Pledge(Pledge),
    Decision(Decision),
    Report(i64),
    Intention(Intention),
    /// Teams to fine (0-based).
    Sanction(Vec<usize>),
    Probe(ProbeAnswer),
    Agenda(String),
    /// The candidate (0-based) voted for; `None`: an abstention.
    Ballot(Option<usize>),
    LeaderTac(i64),
    LeaderReport(i64),
    Lesson(String),
    /// Ships wanted at the auction and the price per ship (0 ships: no bid).
    Bid {
        ships: u32,
        price: i64,
    },
    /// Ships offered to the others and the price per ship (0 ships: no offer).
    Offer {
        ships: u32,
        price: i64,
    },
    /// The numbers of the offers taken.
    Accept(Vec<usize>),
}

impl Response {
    /// A message to everyone.
    pub fn broadcast(text: impl Into<String>) -> Response {
        Response::Message {
            text: text.into(),
            to: Vec::new(),
        }
    }

    pub fn kind(&self) -> RequestKind {
        match self {
            Response::Message { .. } => RequestKind::Message,
            Response::Proposal(_) => RequestKind::Proposal,
            Response::Vote(_) => RequestKind::Vote,
            Response::Pledge(_) => RequestKind::Pledge,
            Response::Decision(_) => RequestKind::Decision,
            Response::Report(_) => RequestKind::Report,
            Response::Intention(_) => RequestKind::Intention,
            Response::Sanction(_) => RequestKind::Sanction,
            Response::Probe(_) => RequestKind::Probe,
            Response::Agenda(_) => RequestKind::Agenda,
            Response::Ballot(_) => RequestKind::Ballot,
            Response::LeaderTac(_) => RequestKind::LeaderTac,
            Response::LeaderReport(_) => RequestKind::LeaderReport,
            Response::Lesson(_) => RequestKind::Lesson,
            Response::Bid { .. } => RequestKind::Bid,
            Response::Offer { .. } => RequestKind::Offer,
            Response::Accept(_) => RequestKind::Accept,
        }
    }
}

/// A response and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub response: Response,
    /// The agent could not answer validly and its configured fallback answered instead
    /// (counted, and shown in `agents.csv`).
    pub fallback: bool,
}

impl Answer {
    /// An answer the agent gave itself.
    pub fn given(response: Response) -> Answer {
        Answer {
            response,
            fallback: false,
        }
    }
}

/// Which question is being asked; names it in prompts, the cache key and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Message,
    Proposal,
    Vote,
    Pledge,
    Decision,
    Report,
    Intention,
    Sanction,
    Probe,
    Agenda,
    Ballot,
    LeaderTac,
    LeaderReport,
    Lesson,
    Bid,
    Offer,
    Accept,
}

impl RequestKind {
    pub const ALL: [RequestKind; 17] = [
        RequestKind::Message,
        RequestKind::Proposal,
        RequestKind::Vote,
        RequestKind::Pledge,
        RequestKind::Decision,
        RequestKind::Report,
        RequestKind::Intention,
        RequestKind::Sanction,
        RequestKind::Probe,
        RequestKind::Agenda,
        RequestKind::Ballot,
        RequestKind::LeaderTac,
        RequestKind::LeaderReport,
        RequestKind::Lesson,
        RequestKind::Bid,
        RequestKind::Offer,
        RequestKind::Accept,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Message => "message",
            RequestKind::Proposal => "proposal",
            RequestKind::Vote => "vote",
            RequestKind::Pledge => "pledge",
            RequestKind::Decision => "decision",
            RequestKind::Report => "report",
            RequestKind::Intention => "intention",
            RequestKind::Sanction => "sanction",
            RequestKind::Probe => "probe",
            RequestKind::Agenda => "agenda",
            RequestKind::Ballot => "ballot",
            RequestKind::LeaderTac => "leader_tac",
            RequestKind::LeaderReport => "leader_report",
            RequestKind::Lesson => "lesson",
            RequestKind::Bid => "bid",
            RequestKind::Offer => "offer",
            RequestKind::Accept => "accept",
        }
    }

    /// The kind named by [`RequestKind::as_str`].
    pub fn parse(name: &str) -> Option<RequestKind> {
        RequestKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A request of this kind as a protocol would ask it, with free texts of
    /// `message_chars` characters: what the dry-run estimate renders to size prompts.
    pub fn sample(self, message_chars: usize) -> Request {
        match self {
            RequestKind::Message => Request::Message(MessageQuestion::sample(message_chars)),
            RequestKind::Proposal => Request::Proposal(ProposalQuestion),
            RequestKind::Vote => Request::Vote(VoteQuestion::sample()),
            RequestKind::Pledge => Request::Pledge(PledgeQuestion),
            RequestKind::Decision => Request::Decision(DecisionQuestion),
            RequestKind::Report => Request::Report(ReportQuestion::sample()),
            RequestKind::Intention => Request::Intention(IntentionQuestion::sample(message_chars)),
            RequestKind::Sanction => Request::Sanction(SanctionQuestion::sample()),
            RequestKind::Probe => Request::Probe(ProbeQuestion),
            RequestKind::Agenda => Request::Agenda(AgendaQuestion::sample(message_chars)),
            RequestKind::Ballot => Request::Ballot(BallotQuestion::sample()),
            RequestKind::LeaderTac => Request::LeaderTac(LeaderTacQuestion { approval: None }),
            RequestKind::LeaderReport => Request::LeaderReport(LeaderReportQuestion { truth: 800 }),
            RequestKind::Lesson => Request::Lesson(LessonQuestion::sample(message_chars)),
            RequestKind::Bid => Request::Bid(BidQuestion::sample()),
            RequestKind::Offer => Request::Offer(OfferQuestion::sample()),
            RequestKind::Accept => Request::Accept(AcceptQuestion::sample()),
        }
    }
}

/// A number as prompts state it: without a trailing `.0` when it is whole, else with two
/// decimals.
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

/// Team `t` (0-based) as prompts name it: `team 1` for the first.
pub fn team_name(t: usize) -> String {
    format!("{TEAM_PREFIX}{}", t + 1)
}

/// The number (1-based) of a team as [`team_name`] writes it.
pub fn team_number(name: &str) -> Option<i64> {
    name.strip_prefix(TEAM_PREFIX)?.trim().parse().ok()
}

const TEAM_PREFIX: &str = "team ";

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
