//! Talk rounds: free-text messages posted on the board, shared by `broadcast` and the
//! talk rounds of a quota negotiation.

use super::budget::{cut, published_chars};
use super::{ask_some, wrong_kind, MessageOrder, YearContext};
use crate::agents::{Agent, AgentError, Message, Request, RequestKind, Response};
use crate::record::Event;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Run `rounds` message rounds (numbered from 1) and post the messages on the board. An
/// agent that could not answer (its fallback) posts nothing. Under a budget
/// (`year.text_left`), each message may use what the author has left, and an author with
/// nothing left is not asked.
pub(super) async fn talk(
    year: &mut YearContext,
    agents: &mut [Box<dyn Agent>],
    rounds: u32,
    order: MessageOrder,
    max_chars: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(), AgentError> {
    for round in 1..=rounds {
        year.phase(format!("message round {round}"));
        match order {
            MessageOrder::Simultaneous => {
                let speakers: Vec<usize> = (0..agents.len())
                    .filter(|t| room(year, *t, round, max_chars) > 0)
                    .collect();
                let observations: Vec<_> = speakers.iter().map(|t| year.observation(*t)).collect();
                let requests: Vec<Request> = speakers
                    .iter()
                    .map(|t| Request::Message {
                        round,
                        max_chars: room(year, *t, round, max_chars),
                    })
                    .collect();
                let answers = ask_some(agents, &speakers, &observations, &requests).await?;
                for ((from, answer), request) in speakers.iter().zip(answers).zip(&requests) {
                    if answer.fallback {
                        continue;
                    }
                    let text = message_text(answer.response, *from, year.year)?;
                    let Request::Message { max_chars, .. } = request else {
                        continue;
                    };
                    post(year, *from, round, text, *max_chars);
                }
            }
            MessageOrder::Sequential => {
                let mut speakers: Vec<usize> = (0..agents.len()).collect();
                speakers.shuffle(rng);
                for from in speakers {
                    let max_chars = room(year, from, round, max_chars);
                    if max_chars == 0 {
                        continue;
                    }
                    let obs = year.observation(from);
                    let request = Request::Message { round, max_chars };
                    let answer = agents[from].answer(&obs, &request).await?;
                    if answer.fallback {
                        continue;
                    }
                    let text = message_text(answer.response, from, year.year)?;
                    post(year, from, round, text, max_chars);
                }
            }
        }
    }
    Ok(())
}

fn message_text(response: Response, team: usize, year: u32) -> Result<String, AgentError> {
    match response {
        Response::Message(text) => Ok(text),
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
                from: t,
                round,
                text: String::new(),
            });
            left[t].saturating_sub(fixed)
        }
    }
}

/// Post a message attributed to `from` (the harness's knowledge of who spoke, never the
/// text's claim), cut to `max_chars` characters, and charge its volume to the author.
fn post(year: &mut YearContext, from: usize, round: u32, text: String, max_chars: usize) {
    let (text, truncated) = cut(text, max_chars);
    let message = Message {
        from,
        round,
        text: text.clone(),
    };
    year.charge(from, published_chars(&message));
    year.push(Event::Message {
        year: year.year,
        round,
        from,
        text: text.clone(),
        truncated,
    });
    year.board.messages.push(message);
}
