//! `sanctions` (SanctSim-style costly punishment): after each year every team sees what
//! each team did and may pay `cost` to fine another team `fine`. Fines are money
//! transfers the engine applies in the next year's step (a pure engine input) and are
//! published to all at the start of that year. Optional talk rounds come before each
//! decision.
//!
//! There is no sanction phase after the final year: its fines could never be paid.

use super::talk::{talk, Talk};
use super::{
    ask_all, check_range, rounds_phrase, wrong_kind, MessageOrder, PromptSection, Protocol,
    ProtocolKind, SpecError, TextBudget, YearContext,
};
use crate::agents::{Agent, AgentError};
use crate::engine::{Area, GameParams, YearOutcome};
use crate::question::{
    LedgerEntry, Observation, Request, RequestKind, Response, SanctionQuestion, SanctionRecord,
};
use crate::record::Event;
use async_trait::async_trait;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Switches of `sanctions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SanctionsSpec {
    /// What a fine costs the team that imposes it ($).
    pub cost: i64,
    /// What a fine takes from the fined team's bank ($).
    pub fine: i64,
    /// Most teams one team may fine after a year.
    pub max_targets: usize,
    /// Message rounds before each decision (0: none).
    pub talk_rounds: u32,
    /// Bound on each message's length in characters (a budget replaces it).
    pub max_message_chars: usize,
    /// A communication budget for the talk rounds.
    #[serde(flatten)]
    pub budget: TextBudget,
}

impl Default for SanctionsSpec {
    fn default() -> Self {
        SanctionsSpec {
            cost: 30,
            fine: 90,
            max_targets: 5,
            talk_rounds: 0,
            max_message_chars: 600,
            budget: TextBudget::default(),
        }
    }
}

impl ProtocolKind for SanctionsSpec {
    fn idle_switches(&self) -> Vec<&'static str> {
        super::idle_message_bound(self.talk_rounds, &self.budget)
    }

    fn kind(&self) -> &'static str {
        "sanctions"
    }

    fn build(&self, rng: ChaCha8Rng, params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(Sanctions::new(self.clone(), rng, Arc::clone(params)))
    }

    fn budget(&self) -> Option<&TextBudget> {
        Some(&self.budget)
    }

    fn budget_mut(&mut self) -> Option<&mut TextBudget> {
        Some(&mut self.budget)
    }

    fn own_message_chars(&self) -> Option<usize> {
        (self.talk_rounds > 0).then_some(self.max_message_chars)
    }

    fn validate(&self) -> Result<(), SpecError> {
        check_range("cost", self.cost, 0, 1_000_000)?;
        check_range("fine", self.fine, 0, 1_000_000)?;
        check_range("max_targets", self.max_targets, 1, 10_000)?;
        check_range("talk_rounds", self.talk_rounds, 0, 20)?;
        check_range("max_message_chars", self.max_message_chars, 1, 100_000)
    }

    /// A team chooses whom to fine among the others in a set whose exact schema lists
    /// every allowed choice when it may fine fewer than all of them: refused where that
    /// list would be long (`SET_ENUM_LIMIT`).
    fn check_teams(&self, teams: usize) -> Result<(), SpecError> {
        use crate::question::field::{subsets_up_to, SET_ENUM_LIMIT};
        let others = teams.saturating_sub(1);
        if self.max_targets >= others || subsets_up_to(others, self.max_targets) <= SET_ENUM_LIMIT {
            return Ok(());
        }
        let most = (0..others)
            .take_while(|k| subsets_up_to(others, *k) <= SET_ENUM_LIMIT)
            .last()
            .unwrap_or(0);
        Err(SpecError::new(
            "max_targets",
            format!(
                "with {teams} teams, fining at most {} of the {others} others leaves {} possible answers, more than the {SET_ENUM_LIMIT} an exact answer schema lists: set max_targets = {others} (any of them) or at most {most}",
                self.max_targets,
                subsets_up_to(others, self.max_targets)
            ),
        ))
    }

    fn requests_per_year(&self, _teams: usize) -> Vec<(RequestKind, f64)> {
        vec![
            (RequestKind::Message, self.talk_rounds as f64),
            (RequestKind::Decision, 1.0),
            (RequestKind::Sanction, 1.0),
        ]
    }

    fn prompt_section(&self) -> PromptSection {
        let talk_sentence = match self.talk_rounds {
            0 => String::new(),
            rounds => format!(
                "Before each year's decision there {} of public messages: every team may write one message (at most {} characters) that all teams read, attributed by the harness. ",
                rounds_phrase(rounds),
                self.message_bound()
            ),
        };
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_sanctions.md"),
            facts: vec![
                ("talk_sentence", talk_sentence),
                ("cost", self.cost.to_string()),
                ("fine", self.fine.to_string()),
                ("max_targets", self.max_targets.to_string()),
            ],
        }
    }
}

impl SanctionsSpec {
    fn message_bound(&self) -> usize {
        self.budget.bound(self.max_message_chars)
    }
}

/// An equal share of the combined maximum sustainable yield: a catch above it is
/// over-use (docs/DESIGN.md §9), and what the sanction phase marks.
pub fn over_share(params: &GameParams, teams: usize) -> f64 {
    (params.msy(Area::Deep) + params.msy(Area::Coast)) / teams.max(1) as f64
}

pub struct Sanctions {
    spec: SanctionsSpec,
    rng: ChaCha8Rng,
    params: Arc<GameParams>,
    /// Money each team pays next year for the fines imposed after this one.
    pending: Vec<i64>,
    /// The fines imposed after the last year, published this year.
    last: Vec<SanctionRecord>,
}

impl Sanctions {
    pub fn new(spec: SanctionsSpec, rng: ChaCha8Rng, params: Arc<GameParams>) -> Self {
        Sanctions {
            spec,
            rng,
            params,
            pending: Vec::new(),
            last: Vec::new(),
        }
    }

    /// What each team did in the year just played, with over-use marked.
    fn actions(&self, outcome: &YearOutcome) -> Vec<LedgerEntry> {
        let share = over_share(&self.params, outcome.teams.len());
        outcome
            .teams
            .iter()
            .enumerate()
            .map(|(team, t)| {
                let catch = t.catch_deep + t.catch_coast;
                LedgerEntry {
                    year: outcome.year,
                    team,
                    pledge: None,
                    order: t.applied.order,
                    deep: t.applied.deep,
                    coast: t.applied.coast,
                    catch,
                    violation: catch as f64 > share,
                }
            })
            .collect()
    }
}

#[async_trait]
impl Protocol for Sanctions {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let teams = year.teams();
        let mut pending = std::mem::take(&mut self.pending);
        pending.resize(teams, 0);
        year.transfers = pending;
        year.board.sanctions_last_year = std::mem::take(&mut self.last);
        year.board.actions.clear();
        year.board.messages.clear();
        if self.spec.talk_rounds > 0 {
            year.open_budget(self.spec.budget.chars());
            let how = Talk {
                rounds: self.spec.talk_rounds,
                order: MessageOrder::Simultaneous,
                max_chars: self.spec.message_bound(),
                directed: false,
            };
            talk(year, agents, how, &mut self.rng).await?;
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
        let teams = year.teams();
        let years_total = after.first().map_or(y, |o| o.public.years_total);
        if y >= years_total || teams < 2 {
            return Ok(());
        }
        year.phase("sanction");
        let actions = self.actions(outcome);
        let observations: Vec<Observation> = after
            .iter()
            .map(|o| {
                let mut o = o.clone();
                o.board.actions = actions.clone();
                o
            })
            .collect();
        let request = Request::Sanction(SanctionQuestion {
            cost: self.spec.cost,
            fine: self.spec.fine,
            max_targets: self.spec.max_targets.min(teams - 1),
        });
        let answers = ask_all(agents, &observations, &request).await?;
        self.pending = vec![0; teams];
        for (from, answer) in answers.into_iter().enumerate() {
            let targets = match answer.response {
                Response::Sanction(_) if answer.fallback => continue,
                Response::Sanction(t) => t,
                other => return Err(wrong_kind(from, y, RequestKind::Sanction, &other)),
            };
            let mut fined: Vec<usize> = Vec::new();
            for to in targets {
                // The validator and the scripted players already keep to these rules; a
                // target that breaks them is dropped, never applied.
                if to == from || to >= teams || fined.contains(&to) {
                    continue;
                }
                if fined.len() >= self.spec.max_targets {
                    break;
                }
                fined.push(to);
                let record = SanctionRecord {
                    year: y,
                    from,
                    to,
                    cost: self.spec.cost,
                    fine: self.spec.fine,
                };
                year.push(Event::Fine {
                    year: y,
                    from,
                    to,
                    cost: record.cost,
                    fine: record.fine,
                });
                self.pending[from] -= record.cost;
                self.pending[to] -= record.fine;
                year.fines.push(record);
                self.last.push(record);
            }
        }
        Ok(())
    }
}
