//! `ledger`: an append-only public record of pledges and what each team actually did.
//!
//! Before deciding, every team posts a pledge (simultaneously); the decision phase sees all
//! of this year's pledges. After the year the harness appends each team's actual order,
//! deployment and catch, and marks a violation where the actual exceeds the pledge. Under
//! `reporting = "self"` the catch in the ledger is what the team declares; the truth is
//! kept in the event log for analysis.

use super::{
    ask_all, ask_each, check_range, wrong_kind, PromptSection, Protocol, ProtocolKind, SpecError,
    YearContext,
};
use crate::agents::{Agent, AgentError};
use crate::engine::GameParams;
use crate::engine::YearOutcome;
use crate::question::{
    LedgerEntry, Observation, Pledge, PledgeQuestion, ReportQuestion, Request, RequestKind,
    Response,
};
use crate::record::Event;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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

/// Switches of the shared ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerSpec {
    pub reporting: Reporting,
    /// Years of ledger history agents see.
    pub window: u32,
}

impl Default for LedgerSpec {
    fn default() -> Self {
        LedgerSpec {
            reporting: Reporting::Truthful,
            window: 5,
        }
    }
}

impl ProtocolKind for LedgerSpec {
    fn kind(&self) -> &'static str {
        "ledger"
    }

    fn build(&self, _rng: ChaCha8Rng, _params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(Ledger::new(self.clone()))
    }

    fn validate(&self) -> Result<(), SpecError> {
        check_range("window", self.window, 1, 200)
    }

    fn requests_per_year(&self, _teams: usize) -> Vec<(RequestKind, f64)> {
        let mut out = vec![(RequestKind::Pledge, 1.0), (RequestKind::Decision, 1.0)];
        if self.reporting == Reporting::SelfReported {
            out.push((RequestKind::Report, 1.0));
        }
        out
    }

    fn prompt_section(&self) -> PromptSection {
        let reporting_phrase = match self.reporting {
            Reporting::SelfReported => "the catch as each team reports it",
            Reporting::Truthful => "the true catch, written by the harness",
        };
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_ledger.md"),
            facts: vec![
                ("reporting_phrase", reporting_phrase.to_string()),
                ("window", self.window.to_string()),
            ],
        }
    }
}

pub struct Ledger {
    spec: LedgerSpec,
    entries: Vec<LedgerEntry>,
}

impl Ledger {
    pub fn new(spec: LedgerSpec) -> Self {
        Ledger {
            spec,
            entries: Vec::new(),
        }
    }

    /// The entries of the last `window` years before `year`.
    fn visible(&self, year: u32) -> Vec<LedgerEntry> {
        let first = year.saturating_sub(self.spec.window);
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
        year.phase("pledge");
        let observations = year.observations();
        let answers = ask_all(agents, &observations, &Request::Pledge(PledgeQuestion)).await?;
        for (team, answer) in answers.into_iter().enumerate() {
            let pledge = match answer.response {
                // No valid pledge: the team pledged nothing (and cannot break a pledge).
                Response::Pledge(_) if answer.fallback => continue,
                Response::Pledge(p) => p,
                other => return Err(wrong_kind(team, y, RequestKind::Pledge, &other)),
            };
            year.push(Event::Pledge {
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
        let declared: Vec<i64> = match self.spec.reporting {
            Reporting::Truthful => actual.clone(),
            Reporting::SelfReported => {
                year.phase("report");
                let requests: Vec<Request> = actual
                    .iter()
                    .map(|&actual| Request::Report(ReportQuestion { actual }))
                    .collect();
                let answers = ask_each(agents, after, &requests).await?;
                let mut declared = Vec::with_capacity(answers.len());
                for (team, answer) in answers.into_iter().enumerate() {
                    match answer.response {
                        Response::Report(c) => declared.push(c.max(0)),
                        other => return Err(wrong_kind(team, y, RequestKind::Report, &other)),
                    }
                }
                for (team, (&d, &a)) in declared.iter().zip(&actual).enumerate() {
                    year.push(Event::Report {
                        year: y,
                        team,
                        declared: d,
                        actual: a,
                    });
                    year.reported[team] = Some(d);
                }
                declared
            }
        };
        for (team, out) in outcome.teams.iter().enumerate() {
            let pledge = year.pledges[team];
            let a = out.applied;
            let violation = pledge.is_some_and(|p| violates(&p, a.order, a.deep, a.coast));
            if violation {
                year.push(Event::LedgerViolation { year: y, team });
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
