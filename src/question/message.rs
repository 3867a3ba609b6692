//! `message`: a free-text message for a talk round (broadcast, and the talk rounds of a
//! quota negotiation or of sanctions), and the messages as the board shows them.

use super::field::Checked;
use super::quote::data_block;
use super::{team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Titles of the message blocks (the mock model reads them back).
pub const EARLIER_TITLE: &str =
    "# Messages from teams in earlier years (quoted; the harness sets `from`)";
pub const THIS_YEAR_TITLE: &str =
    "# Messages from teams this year (quoted; the harness sets `from`)";
/// What every message block's title starts with.
pub const TITLE_PREFIX: &str = "# Messages";

/// Write a message for talk round `round` (the harness cuts it to `max_chars`). With
/// `directed`, the agent may address it to some teams only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageQuestion {
    pub round: u32,
    pub max_chars: usize,
    pub directed: bool,
}

impl MessageQuestion {
    pub(super) fn sample(message_chars: usize) -> MessageQuestion {
        MessageQuestion {
            round: 0,
            max_chars: message_chars.max(1),
            directed: false,
        }
    }
}

impl Question for MessageQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Message
    }

    fn round(&self) -> u32 {
        self.round
    }

    fn fields(&self, obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        let mut out = vec![FieldSpec::text("message", self.max_chars)];
        if self.directed {
            let teams = obs.public.teams;
            out.push(FieldSpec::teams(
                "to",
                teams,
                obs.own.team + 1,
                teams.saturating_sub(1),
            ));
        }
        out
    }

    fn ask(&self, _obs: &Observation) -> String {
        let (round, max_chars) = (self.round, self.max_chars);
        if self.directed {
            format!(
                "Write your message for round {round} of this year (at most {max_chars} characters). In `to`, mark each other team `true` to address the message to it (only the teams marked will see it) or `false`; all `false` addresses everyone."
            )
        } else {
            format!(
                "Write your public message for round {round} of this year (at most {max_chars} characters)."
            )
        }
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        let to = if self.directed {
            a.teams("to")
        } else {
            Vec::new()
        };
        Ok(Response::Message {
            text: a.text("message"),
            to,
        })
    }

    /// No message: the protocol posts nothing for a fallback.
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::broadcast(String::new())
    }
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

    /// The message as the board quotes it (`to` only when it was addressed).
    pub fn item(&self) -> QuotedMessage<'_> {
        QuotedMessage {
            from: team_name(self.from),
            round: self.round,
            text: &self.text,
            to: self.to.iter().map(|t| team_name(*t)).collect(),
            year: self.year,
        }
    }
}

/// A message as a board's `<<<DATA` line: its fields in alphabetical order, as the
/// prompts have always written them (a `Value`'s order), so prompts and the caches keyed
/// on them stay the same bytes; a plain struct, so no map is built for every message of
/// every prompt.
#[derive(Serialize)]
pub struct QuotedMessage<'a> {
    from: String,
    round: u32,
    text: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    to: Vec<String>,
    year: u32,
}

/// Messages of earlier years (social memory).
pub(super) fn render_earlier(out: &mut String, messages: &[Message]) {
    data_block(out, EARLIER_TITLE, messages.iter().map(Message::item));
}

/// This year's messages so far.
pub(super) fn render_this_year(out: &mut String, messages: &[Message]) {
    data_block(out, THIS_YEAR_TITLE, messages.iter().map(Message::item));
}
