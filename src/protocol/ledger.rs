//! `ledger`: an append-only public record of pledges and what each team actually did.
//!
//! Before deciding, every team posts a pledge (simultaneously); the decision phase sees all
//! of this year's pledges. After the year the harness appends each team's actual order,
//! deployment and catch, and marks a violation where the actual exceeds the pledge. Under
//! `reporting = "self"` the catch in the ledger is what the team declares; the truth is
//! kept in the event log for analysis.

use super::{ask_all, Protocol, Reporting, YearContext};
use crate::agents::{Agent, AgentError, LedgerEntry, Observation, Pledge};
use crate::engine::YearOutcome;
use crate::record::Event;
use async_trait::async_trait;

pub struct Ledger {
    reporting: Reporting,
    window: u32,
    entries: Vec<LedgerEntry>,
}

impl Ledger {
    pub fn new(reporting: Reporting, window: u32) -> Self {
        Ledger {
            reporting,
            window,
            entries: Vec::new(),
        }
    }

    /// The entries of the last `window` years before `year`.
    fn visible(&self, year: u32) -> Vec<LedgerEntry> {
        let first = year.saturating_sub(self.window);
        self.entries
            .iter()
            .filter(|e| e.year >= first && e.year < year)
            .cloned()
            .collect()
    }
}

/// Whether what a team did exceeds what it pledged.
pub fn violates(pledge: &Pledge, order: u32, deep: u32, coast: u32) -> bool {
    order as i64 > pledge.order || deep as i64 > pledge.deep || coast as i64 > pledge.coast
}

#[async_trait]
impl Protocol for Ledger {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let y = year.year;
        year.board.ledger = self.visible(y);
        year.board.pledges.clear();
        year.events.push(Event::Phase {
            year: y,
            phase: "pledge".into(),
        });
        let observations = year.observations();
        let pledges = ask_all(agents, &observations, |a, o| a.pledge(o)).await?;
        for (team, pledge) in pledges.into_iter().enumerate() {
            year.events.push(Event::Pledge {
                year: y,
                team,
                pledge,
            });
            year.board.pledges.push((team, pledge));
            year.pledges[team] = Some(pledge);
        }
        Ok(())
    }

    async fn after_year(
        &mut self,
        year: &mut YearContext,
        outcome: &YearOutcome,
        after: &[Observation],
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let y = year.year;
        let actual: Vec<i64> = outcome
            .teams
            .iter()
            .map(|t| t.catch_deep + t.catch_coast)
            .collect();
        let declared: Vec<i64> = match self.reporting {
            Reporting::Truthful => actual.clone(),
            Reporting::SelfReported => {
                year.events.push(Event::Phase {
                    year: y,
                    phase: "report".into(),
                });
                let futures = agents
                    .iter_mut()
                    .zip(after)
                    .zip(&actual)
                    .map(|((a, o), &c)| a.report(o, c));
                let answers: Result<Vec<i64>, AgentError> = futures::future::join_all(futures)
                    .await
                    .into_iter()
                    .collect();
                let answers: Vec<i64> = answers?.into_iter().map(|c| c.max(0)).collect();
                for (team, (&d, &a)) in answers.iter().zip(&actual).enumerate() {
                    year.events.push(Event::Report {
                        year: y,
                        team,
                        declared: d,
                        actual: a,
                    });
                    year.reported[team] = Some(d);
                }
                answers
            }
        };
        for (team, out) in outcome.teams.iter().enumerate() {
            let pledge = year.pledges[team].unwrap_or_default();
            let a = out.applied;
            let violation = violates(&pledge, a.order, a.deep, a.coast);
            if violation {
                year.events.push(Event::LedgerViolation { year: y, team });
            }
            self.entries.push(LedgerEntry {
                year: y,
                team,
                pledge,
                order: a.order,
                deep: a.deep,
                coast: a.coast,
                catch: declared[team],
                violation,
            });
        }
        Ok(())
    }
}
