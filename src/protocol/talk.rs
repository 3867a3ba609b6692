//! Talk rounds: free-text messages posted on the board, shared by `broadcast` and the
//! talk rounds of a quota negotiation.

use super::{ask_all, wrong_kind, MessageOrder, YearContext};
use crate::agents::{Agent, AgentError, Message, Request, RequestKind, Response};
use crate::record::Event;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Run `rounds` message rounds (numbered from 1) and post the messages on the board. An
/// agent that could not answer (its fallback) posts nothing.
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
        let request = Request::Message { round, max_chars };
        match order {
            MessageOrder::Simultaneous => {
                let observations = year.observations();
                let answers = ask_all(agents, &observations, &request).await?;
                for (from, answer) in answers.into_iter().enumerate() {
                    if answer.fallback {
                        continue;
                    }
                    let text = message_text(answer.response, from, year.year)?;
                    post(year, from, round, text, max_chars);
                }
            }
            MessageOrder::Sequential => {
                let mut speakers: Vec<usize> = (0..agents.len()).collect();
                speakers.shuffle(rng);
                for from in speakers {
                    let obs = year.observation(from);
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

/// Post a message attributed to `from` (the harness's knowledge of who spoke, never the
/// text's claim), cut to `max_chars` characters.
fn post(year: &mut YearContext, from: usize, round: u32, text: String, max_chars: usize) {
    let truncated = text.chars().count() > max_chars;
    let text: String = if truncated {
        text.chars().take(max_chars).collect()
    } else {
        text
    };
    year.push(Event::Message {
        year: year.year,
        round,
        from,
        text: text.clone(),
        truncated,
    });
    year.board.messages.push(Message { from, round, text });
}
