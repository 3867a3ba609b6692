//! A vote on a proposed TAC, shared by the negotiated quota and a leader who proposes:
//! every team is asked to accept or reject it, every vote is recorded, and the share of
//! accepts among the valid votes decides. A fallback vote is an abstention, left out of
//! the share; with no valid vote the share is 0, so nothing is adopted.

use super::{ask_all, wrong_kind, YearContext};
use crate::agents::{Agent, AgentError};
use crate::question::{Request, RequestKind, Response, VoteQuestion};
use crate::record::Event;

/// Ask every team to vote on `tac`; returns the share of accepts among valid votes.
pub(super) async fn vote_on_tac(
    year: &mut YearContext,
    agents: &mut [Box<dyn Agent>],
    tac: i64,
) -> Result<f64, AgentError> {
    let y = year.year;
    let observations = year.observations();
    let answers = ask_all(agents, &observations, &Request::Vote(VoteQuestion { tac })).await?;
    let (mut accepts, mut voters) = (0usize, 0usize);
    for (team, answer) in answers.into_iter().enumerate() {
        match answer.response {
            Response::Vote(vote) if answer.fallback => year.push(Event::Vote {
                year: y,
                team,
                accept: None,
                reason: vote.reason,
            }),
            Response::Vote(vote) => {
                voters += 1;
                accepts += usize::from(vote.accept);
                year.push(Event::Vote {
                    year: y,
                    team,
                    accept: Some(vote.accept),
                    reason: vote.reason,
                });
            }
            other => return Err(wrong_kind(team, y, RequestKind::Vote, &other)),
        }
    }
    Ok(if voters == 0 {
        0.0
    } else {
        accepts as f64 / voters as f64
    })
}
