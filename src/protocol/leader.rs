//! `leader` (GovSimElect, arXiv 2604.11721): an elected leader sets the catch.
//!
//! Every `term_years` years an election: the candidates (every team, or `candidates` of
//! them drawn from the protocol's stream) publish agendas, every team votes for one
//! (never for itself unless `self_vote`), and the winner leads for the term: by
//! `plurality` (ties drawn from the protocol's stream) or drawn in `proportion` to the
//! votes. Each year the leader sets a total allowable catch: adopted as set (`powers =
//! "decree"`) or put to a vote of all teams (`"propose"`, adopted at `approval`). The TAC
//! is split into quotas as under `quota` (`allocation`) and is `binding` or `advisory`.
//! With `private_information` the leader sees the sea exactly (stocks and last year's
//! regeneration) while the others see what `reveal_stock` allows; with `leader_reports`
//! the leader publishes last year's total catch, truthfully unless `disinformation` lets
//! it say anything (the truth stays in the event log).

use super::quota::{allocate, violations, Allocation, Enforcement};
use super::tac_vote::vote_on_tac;
use super::text_budget::{cut, published_chars};
use super::{
    ask_some, check_range, wrong_kind, PromptSection, Protocol, ProtocolKind, SpecError,
    TextBudget, YearContext,
};
use crate::agents::{Agent, AgentError};
use crate::engine::{GameParams, YearOutcome};
use crate::question::{
    Agenda, AgendaQuestion, BallotQuestion, LeaderBoard, LeaderReportQuestion, LeaderTacQuestion,
    Observation, PrivateView, QuotaBoard, QuotaViolation, Request, RequestKind, Response,
    TacSource,
};
use crate::record::Event;
use async_trait::async_trait;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Who stands for election: `candidates = "all"` (every team, the default) or
/// `candidates = N` (N teams drawn from the protocol's stream each election).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Candidates {
    #[default]
    All,
    Drawn(usize),
}

impl Serialize for Candidates {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Candidates::All => s.serialize_str("all"),
            Candidates::Drawn(n) => s.serialize_u64(*n as u64),
        }
    }
}

impl<'de> Deserialize<'de> for Candidates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Word(String),
            Count(i64),
        }
        match Written::deserialize(d)? {
            Written::Word(w) if w == "all" => Ok(Candidates::All),
            Written::Count(n) if n >= 1 => Ok(Candidates::Drawn(n as usize)),
            _ => Err(serde::de::Error::custom(
                "expected \"all\" or a number of candidates (at least 1)",
            )),
        }
    }
}

/// How the winner is chosen from the votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteRule {
    /// The most votes; ties drawn from the protocol's stream.
    #[default]
    Plurality,
    /// Drawn with probability proportional to the votes.
    Proportional,
}

/// What the leader's TAC needs to take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Powers {
    /// Adopted as the leader sets it.
    #[default]
    Decree,
    /// Put to a vote of all teams, adopted at `approval`.
    Propose,
}

/// Switches of `leader`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeaderSpec {
    pub candidates: Candidates,
    /// Bound on an agenda in characters (a budget replaces it).
    pub agenda_chars: usize,
    pub vote: VoteRule,
    /// Whether a team may vote for itself.
    pub self_vote: bool,
    /// Years between elections.
    pub term_years: u32,
    pub powers: Powers,
    /// Accept share a proposed TAC needs (`powers = "propose"`).
    pub approval: f64,
    pub allocation: Allocation,
    pub enforcement: Enforcement,
    /// Whether the leader sees the sea exactly.
    pub private_information: bool,
    /// Whether the leader publishes last year's total catch.
    pub leader_reports: bool,
    /// Whether the leader's report may differ from the truth.
    pub disinformation: bool,
    /// A communication budget for the agendas (token-matched control).
    #[serde(flatten)]
    pub budget: TextBudget,
}

impl Default for LeaderSpec {
    fn default() -> Self {
        LeaderSpec {
            candidates: Candidates::All,
            agenda_chars: 300,
            vote: VoteRule::Plurality,
            self_vote: false,
            term_years: 1,
            powers: Powers::Decree,
            approval: 0.5,
            allocation: Allocation::Equal,
            enforcement: Enforcement::Advisory,
            private_information: false,
            leader_reports: false,
            disinformation: false,
            budget: TextBudget::default(),
        }
    }
}

impl LeaderSpec {
    fn agenda_bound(&self) -> usize {
        self.budget.bound(self.agenda_chars)
    }
}

impl ProtocolKind for LeaderSpec {
    fn idle_switches(&self) -> Vec<&'static str> {
        let mut idle = Vec::new();
        if self.budget.is_set() {
            idle.push("agenda_chars");
        }
        if self.powers != Powers::Propose {
            idle.push("approval");
        }
        if !self.leader_reports {
            idle.push("disinformation");
        }
        idle
    }

    fn kind(&self) -> &'static str {
        "leader"
    }

    fn validate(&self) -> Result<(), SpecError> {
        if let Candidates::Drawn(n) = self.candidates {
            check_range("candidates", n, 1, 50)?;
        }
        check_range("agenda_chars", self.agenda_chars, 1, 100_000)?;
        check_range("term_years", self.term_years, 1, 200)?;
        if !(self.approval > 0.0 && self.approval <= 1.0) {
            return Err(SpecError::new(
                "approval",
                format!("must be a share in (0, 1], got {}", self.approval),
            ));
        }
        if self.disinformation && !self.leader_reports {
            return Err(SpecError::new(
                "disinformation",
                "applies only when the leader reports (leader_reports = true)",
            ));
        }
        Ok(())
    }

    fn build(&self, rng: ChaCha8Rng, _params: &Arc<GameParams>) -> Box<dyn Protocol> {
        Box::new(Leader {
            spec: self.clone(),
            rng,
            leader: None,
            elected: None,
            report: None,
            violations: Vec::new(),
        })
    }

    fn budget(&self) -> Option<&TextBudget> {
        Some(&self.budget)
    }

    fn budget_mut(&mut self) -> Option<&mut TextBudget> {
        Some(&mut self.budget)
    }

    fn own_message_chars(&self) -> Option<usize> {
        Some(self.agenda_chars)
    }

    fn requests_per_year(&self, teams: usize) -> Vec<(RequestKind, f64)> {
        let term = self.term_years.max(1) as f64;
        let mut out = vec![
            (RequestKind::Agenda, 1.0 / term),
            (RequestKind::Ballot, 1.0 / term),
            (RequestKind::Decision, 1.0),
        ];
        // The leader's own questions: one team of all (an average over seats).
        let one = 1.0 / teams.max(1) as f64;
        out.push((RequestKind::LeaderTac, one));
        if self.powers == Powers::Propose {
            out.push((RequestKind::Vote, 1.0));
        }
        if self.disinformation {
            out.push((RequestKind::LeaderReport, one));
        }
        out
    }

    fn prompt_section(&self) -> PromptSection {
        let candidates = match self.candidates {
            Candidates::All => "every team is a candidate".to_string(),
            Candidates::Drawn(n) => format!("{n} teams drawn at random are the candidates"),
        };
        let vote = match self.vote {
            VoteRule::Plurality => {
                "the candidate with the most votes wins (a tie is drawn at random)"
            }
            VoteRule::Proportional => {
                "the winner is drawn at random with chances proportional to the votes"
            }
        };
        let self_vote = if self.self_vote {
            "may vote for itself"
        } else {
            "may not vote for itself"
        };
        let powers = match self.powers {
            Powers::Decree => "it is adopted as the leader sets it".to_string(),
            Powers::Propose => format!(
                "it is put to a vote of all teams and adopted if at least {}% accept",
                super::fmt_num(self.approval * 100.0)
            ),
        };
        let allocation = match self.allocation {
            Allocation::Equal => "equal",
            Allocation::Fleet => "fleet",
        };
        let enforcement = match self.enforcement {
            Enforcement::Binding => "binding: the game stops each team's catch at its quota; fish not caught stay in the sea.",
            Enforcement::Advisory => "advisory: quotas are published but not enforced; over-fishing is recorded and shown to all next year.",
        };
        let private = if self.private_information {
            " The leader alone sees how many fish are in each area and how many regrew last year."
        } else {
            ""
        };
        let reports = match (self.leader_reports, self.disinformation) {
            (false, _) => "",
            (true, false) => " Each year the leader's report of last year's total catch of all teams is published; it is the true total.",
            (true, true) => " Each year the leader publishes last year's total catch of all teams as it chooses to report it; nobody else sees the true total.",
        };
        PromptSection {
            kind: self.kind(),
            template: include_str!("../../prompts/protocol_leader.md"),
            facts: vec![
                ("term_years", self.term_years.to_string()),
                ("candidates_sentence", candidates),
                ("agenda_chars", self.agenda_bound().to_string()),
                ("vote_sentence", vote.to_string()),
                ("self_vote", self_vote.to_string()),
                ("powers_sentence", powers),
                ("allocation", allocation.to_string()),
                ("enforcement_sentence", enforcement.to_string()),
                ("private_sentence", private.to_string()),
                ("report_sentence", reports.to_string()),
            ],
        }
    }
}

pub struct Leader {
    spec: LeaderSpec,
    rng: ChaCha8Rng,
    /// The team in office.
    leader: Option<usize>,
    /// The year it was elected and the last year of its term.
    elected: Option<(u32, u32)>,
    /// Last year's total catch as the leader reported it.
    report: Option<i64>,
    /// Advisory quotas broken last year.
    violations: Vec<QuotaViolation>,
}

impl Leader {
    fn election_due(&self, year: u32) -> bool {
        (year - 1).is_multiple_of(self.spec.term_years.max(1))
    }

    /// The candidates of an election, in team order.
    fn candidates(&mut self, teams: usize) -> Vec<usize> {
        match self.spec.candidates {
            Candidates::All => (0..teams).collect(),
            Candidates::Drawn(n) => {
                let mut picked =
                    rand::seq::index::sample(&mut self.rng, teams, n.min(teams)).into_vec();
                picked.sort_unstable();
                picked
            }
        }
    }

    /// Agendas, ballots and the winner; the board and the events record them.
    async fn elect(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        let y = year.year;
        let teams = year.teams();
        let candidates = self.candidates(teams);
        year.phase("agenda");
        let bound = self.spec.agenda_bound();
        let observations: Vec<Observation> =
            candidates.iter().map(|t| year.observation(*t)).collect();
        let requests: Vec<Request> = candidates
            .iter()
            .map(|_| {
                Request::Agenda(AgendaQuestion {
                    max_chars: bound,
                    term_years: self.spec.term_years,
                })
            })
            .collect();
        let answers = ask_some(agents, &candidates, &observations, &requests).await?;
        let mut agendas = Vec::new();
        for (&team, answer) in candidates.iter().zip(answers) {
            let text = match answer.response {
                Response::Agenda(_) if answer.fallback => continue,
                Response::Agenda(text) => text,
                other => return Err(wrong_kind(team, y, RequestKind::Agenda, &other)),
            };
            let (text, truncated) = cut(text, bound);
            let agenda = Agenda { team, text };
            year.charge(team, published_chars(&agenda));
            year.push(Event::Agenda {
                year: y,
                team,
                text: agenda.text.clone(),
                truncated,
            });
            agendas.push(agenda);
        }
        year.board.leader = Some(LeaderBoard {
            agendas,
            ..LeaderBoard::default()
        });

        year.phase("ballot");
        let ballot = BallotQuestion {
            candidates: candidates.clone(),
            self_vote: self.spec.self_vote,
            term_years: self.spec.term_years,
        };
        let voters: Vec<usize> = (0..teams)
            .filter(|t| !ballot.choices(*t).is_empty())
            .collect();
        let observations: Vec<Observation> = voters.iter().map(|t| year.observation(*t)).collect();
        let requests = vec![Request::Ballot(ballot.clone()); voters.len()];
        let answers = ask_some(agents, &voters, &observations, &requests).await?;
        let mut ballots = vec![None; teams];
        for (&team, answer) in voters.iter().zip(answers) {
            match answer.response {
                Response::Ballot(_) if answer.fallback => {}
                Response::Ballot(choice) => {
                    // The validator keeps a vote to the team's choices; anything else is
                    // dropped, never counted.
                    ballots[team] =
                        choice.filter(|c| ballot.choices(team).contains(&(*c as i64 + 1)));
                }
                other => return Err(wrong_kind(team, y, RequestKind::Ballot, &other)),
            }
        }
        let votes: Vec<(usize, u32)> = candidates
            .iter()
            .map(|c| {
                (
                    *c,
                    ballots.iter().filter(|b| **b == Some(*c)).count() as u32,
                )
            })
            .collect();
        let winner = self.winner(&votes);
        let term_end = y + self.spec.term_years.max(1) - 1;
        year.push(Event::LeaderElection {
            year: y,
            candidates,
            ballots,
            leader: winner,
            term_end,
        });
        self.leader = winner;
        self.elected = winner.map(|_| (y, term_end));
        if let Some(board) = year.board.leader.as_mut() {
            board.votes = votes;
        }
        Ok(())
    }

    /// The winner of an election (`None` when nobody got a vote).
    fn winner(&mut self, votes: &[(usize, u32)]) -> Option<usize> {
        let total: u32 = votes.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return None;
        }
        match self.spec.vote {
            VoteRule::Plurality => {
                let most = votes.iter().map(|(_, n)| *n).max()?;
                let tied: Vec<usize> = votes
                    .iter()
                    .filter(|(_, n)| *n == most)
                    .map(|(t, _)| *t)
                    .collect();
                Some(tied[self.rng.random_range(0..tied.len())])
            }
            VoteRule::Proportional => {
                let mut draw = self.rng.random_range(0..total);
                votes.iter().find_map(|(t, n)| {
                    if draw < *n {
                        Some(*t)
                    } else {
                        draw -= n;
                        None
                    }
                })
            }
        }
    }

    /// The leader's TAC for the year, put to a vote when the leader only proposes.
    async fn set_tac(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
        leader: usize,
    ) -> Result<Option<i64>, AgentError> {
        let y = year.year;
        year.phase("leader TAC");
        let approval = (self.spec.powers == Powers::Propose).then_some(self.spec.approval);
        let request = Request::LeaderTac(LeaderTacQuestion { approval });
        let obs = year.observation(leader);
        let answer = agents[leader].answer(&obs, &request).await?;
        let tac = match answer.response {
            Response::LeaderTac(_) if answer.fallback => None,
            Response::LeaderTac(tac) => Some(tac.max(0)),
            other => return Err(wrong_kind(leader, y, RequestKind::LeaderTac, &other)),
        };
        let Some(tac) = tac else {
            year.push(Event::LeaderTac {
                year: y,
                leader,
                tac: None,
                accept_share: None,
                adopted: false,
            });
            return Ok(None);
        };
        let accept_share = match self.spec.powers {
            Powers::Decree => None,
            Powers::Propose => {
                year.phase("vote");
                Some(vote_on_tac(year, agents, tac).await?)
            }
        };
        let adopted = accept_share.is_none_or(|share| share >= self.spec.approval);
        year.push(Event::LeaderTac {
            year: y,
            leader,
            tac: Some(tac),
            accept_share,
            adopted,
        });
        Ok(adopted.then_some(tac))
    }
}

#[async_trait]
impl Protocol for Leader {
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        year.open_budget(self.spec.budget.chars());
        year.board.leader = Some(LeaderBoard::default());
        if self.election_due(year.year) {
            self.elect(year, agents).await?;
        }
        let binding = self.spec.enforcement == Enforcement::Binding;
        year.board.quota = Some(QuotaBoard {
            binding,
            violations_last_year: std::mem::take(&mut self.violations),
            set_by: self.leader.map_or(TacSource::Negotiated, TacSource::Leader),
            ..QuotaBoard::default()
        });
        if let Some(board) = year.board.leader.as_mut() {
            board.leader = self.leader;
            board.elected = self.elected;
            board.report = self.report;
        }
        year.leader = self.leader;
        let Some(leader) = self.leader else {
            return Ok(());
        };
        if self.spec.private_information {
            year.private[leader] = Some(PrivateView {
                stock: year.sea.stock,
                capacity: year.sea.capacity,
                regeneration: year.sea.regeneration,
            });
        }
        let tac = self.set_tac(year, agents, leader).await?;
        year.quotas = allocate(tac, self.spec.allocation, &year.base);
        year.quotas_binding = binding;
        if let Some(board) = year.board.quota.as_mut() {
            board.tac = tac;
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
        if self.spec.enforcement == Enforcement::Advisory {
            self.violations = violations(year, outcome);
        }
        self.report = None;
        let Some(leader) = self.leader.filter(|_| self.spec.leader_reports) else {
            return Ok(());
        };
        let y = year.year;
        let truth = outcome.catch[0] + outcome.catch[1];
        let reported = if self.spec.disinformation {
            year.phase("leader report");
            let request = Request::LeaderReport(LeaderReportQuestion { truth });
            let answer = agents[leader].answer(&after[leader], &request).await?;
            match answer.response {
                Response::LeaderReport(_) if answer.fallback => truth,
                Response::LeaderReport(r) => r.max(0),
                other => return Err(wrong_kind(leader, y, RequestKind::LeaderReport, &other)),
            }
        } else {
            truth
        };
        year.push(Event::LeaderReport {
            year: y,
            leader,
            reported,
            truth,
        });
        self.report = Some(reported);
        Ok(())
    }
}
