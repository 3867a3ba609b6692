//! Talk rounds: free-text messages posted on the board, shared by `broadcast` and the
//! talk rounds of a quota negotiation or of sanctions; and the social memory of past
//! years' messages.

use super::text_budget::{cut, published_chars};
use super::{ask_some, wrong_kind, MessageOrder, YearContext};
use crate::agents::{Agent, AgentError};
use crate::question::{Message, MessageQuestion, Request, RequestKind, Response};
use crate::record::Event;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// How a talk phase asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Talk {
    pub rounds: u32,
    pub order: MessageOrder,
    /// Bound on each message (a budget may leave less).
    pub max_chars: usize,
    /// Whether messages may be addressed to some teams only.
    pub directed: bool,
}

/// Run the talk rounds (numbered from 1) and post the messages on the board. An agent
/// that could not answer (its fallback) posts nothing. Under a budget
/// (`year.text_left`), each message may use what the author has left, and an author with
/// nothing left is not asked.
pub(super) async fn talk(
    year: &mut YearContext,
    agents: &mut [Box<dyn Agent>],
    how: Talk,
    rng: &mut ChaCha8Rng,
) -> Result<(), AgentError> {
    for round in 1..=how.rounds {
        year.phase(format!("message round {round}"));
        let request = |year: &YearContext, t: usize| {
            Request::Message(MessageQuestion {
                round,
                max_chars: room(year, t, round, how.max_chars),
                directed: how.directed,
            })
        };
        match how.order {
            MessageOrder::Simultaneous => {
                let speakers: Vec<usize> = (0..agents.len())
                    .filter(|t| room(year, *t, round, how.max_chars) > 0)
                    .collect();
                let observations: Vec<_> = speakers.iter().map(|t| year.observation(*t)).collect();
                let requests: Vec<Request> = speakers.iter().map(|t| request(year, *t)).collect();
                let answers = ask_some(agents, &speakers, &observations, &requests).await?;
                for ((from, answer), request) in speakers.iter().zip(answers).zip(&requests) {
                    if answer.fallback {
                        continue;
                    }
                    let (text, to) = message_of(answer.response, *from, year.year)?;
                    if let Request::Message(q) = request {
                        post(year, *from, round, text, to, q.max_chars);
                    }
                }
            }
            MessageOrder::Sequential => {
                let mut speakers: Vec<usize> = (0..agents.len()).collect();
                speakers.shuffle(rng);
                for from in speakers {
                    let max_chars = room(year, from, round, how.max_chars);
                    if max_chars == 0 {
                        continue;
                    }
                    let obs = year.observation(from);
                    let answer = agents[from].answer(&obs, &request(year, from)).await?;
                    if answer.fallback {
                        continue;
                    }
                    let (text, to) = message_of(answer.response, from, year.year)?;
                    post(year, from, round, text, to, max_chars);
                }
            }
        }
    }
    Ok(())
}

fn message_of(
    response: Response,
    team: usize,
    year: u32,
) -> Result<(String, Vec<usize>), AgentError> {
    match response {
        Response::Message { text, to } => Ok((text, to)),
        other => Err(wrong_kind(team, year, RequestKind::Message, &other)),
    }
}

/// The longest message team `t` may write now: the protocol's bound, or less under a
/// budget (what it has left after the message's fixed part).
fn room(year: &YearContext, t: usize, round: u32, max_chars: usize) -> usize {
    match &year.text_left {
        None => max_chars,
        Some(left) => {
            let fixed = published_chars(&Message {
                year: year.year,
                from: t,
                round,
                to: Vec::new(),
                text: String::new(),
            });
            left[t].saturating_sub(fixed)
        }
    }
}

/// Post a message attributed to `from` (the harness's knowledge of who spoke, never the
/// text's claim), cut to `max_chars` characters, and charge its volume to the author.
/// Addressees that are not other teams are dropped.
fn post(
    year: &mut YearContext,
    from: usize,
    round: u32,
    text: String,
    mut to: Vec<usize>,
    max_chars: usize,
) {
    let (text, truncated) = cut(text, max_chars);
    let teams = year.teams();
    to.retain(|t| *t != from && *t < teams);
    to.sort_unstable();
    to.dedup();
    let message = Message {
        year: year.year,
        from,
        round,
        to,
        text,
    };
    year.charge(from, published_chars(&message));
    year.push(Event::Message {
        year: year.year,
        round,
        from,
        to: message.to.clone(),
        text: message.text.clone(),
        truncated,
    });
    year.board.messages.push(message);
}

/// Past years' messages: what a protocol remembers and shows for `board_memory_years`.
#[derive(Debug, Default)]
pub(super) struct MessageMemory {
    kept: Vec<Message>,
}

impl MessageMemory {
    /// Start `year`: show the messages of the last `years` years, clear this year's.
    pub fn open(&mut self, year: &mut YearContext, years: u32) {
        let first = year.year.saturating_sub(years);
        year.board.earlier_messages = self
            .kept
            .iter()
            .filter(|m| m.year >= first && m.year < year.year)
            .cloned()
            .collect();
        year.board.messages.clear();
    }

    /// Keep this year's messages (when the memory is used at all).
    pub fn keep(&mut self, year: &YearContext, years: u32) {
        if years > 0 {
            self.kept.extend(year.board.messages.iter().cloned());
            let first = (year.year + 1).saturating_sub(years);
            self.kept.retain(|m| m.year >= first);
        }
    }
}
