//! `broadcast`: rounds of free-text messages before the decision.

use super::{ask_all, MessageOrder, Protocol, YearContext};
use crate::agents::{Agent, AgentError, Message};
use crate::record::Event;
use async_trait::async_trait;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

pub struct Broadcast {
    rounds: u32,
    order: MessageOrder,
    max_chars: usize,
    rng: ChaCha8Rng,
}

impl Broadcast {
    pub fn new(rounds: u32, order: MessageOrder, max_chars: usize, rng: ChaCha8Rng) -> Self {
        Broadcast {
            rounds,
            order,
            max_chars,
            rng,
        }
    }
}

#[async_trait]
impl Protocol for Broadcast {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        // Messages are this year's talk; last year's are not carried over.
        year.board.messages.clear();
        talk(
            year,
            agents,
            self.rounds,
            self.order,
            self.max_chars,
            &mut self.rng,
        )
        .await
    }
}

/// Run `rounds` message rounds and post the messages on the board. Shared by broadcast and
/// the talk rounds of a quota negotiation.
pub(super) async fn talk(
    year: &mut YearContext,
    agents: &mut [Box<dyn Agent>],
    rounds: u32,
    order: MessageOrder,
    max_chars: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(), AgentError> {
    for round in 0..rounds {
        year.events.push(Event::Phase {
            year: year.year,
            phase: format!("message round {round}"),
        });
        match order {
            MessageOrder::Simultaneous => {
                let observations = year.observations();
                let texts = ask_all(agents, &observations, |a, o| a.message(o, round)).await?;
                for (from, text) in texts.into_iter().enumerate() {
                    post(year, from, round, text, max_chars);
                }
            }
            MessageOrder::Sequential => {
                let mut speakers: Vec<usize> = (0..agents.len()).collect();
                speakers.shuffle(rng);
                for from in speakers {
                    let obs = year.observation(from);
                    let text = agents[from].message(&obs, round).await?;
                    post(year, from, round, text, max_chars);
                }
            }
        }
    }
    Ok(())
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
    year.events.push(Event::Message {
        year: year.year,
        round,
        from,
        text: text.clone(),
        truncated,
    });
    year.board.messages.push(Message { from, round, text });
}
