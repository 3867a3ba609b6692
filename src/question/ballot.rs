//! `ballot`: a vote for leader among the candidates (the `leader` protocol); and the
//! leadership as the board shows it: the candidates' agendas, the votes, who leads, the
//! TAC the leader set and the catch the leader reported.

use super::agenda::{render_agendas, Agenda};
use super::field::Checked;
use super::{team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The label of the leader's line (the mock model reads it back).
pub const LEADER_LABEL: &str = "Leader this year:";
/// The label of the leader's report.
pub const REPORT_LABEL: &str = "Total catch of all teams last year, as the leader reported it:";

/// Vote for one of `candidates` (0-based teams); never for oneself unless `self_vote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotQuestion {
    pub candidates: Vec<usize>,
    pub self_vote: bool,
    pub term_years: u32,
}

impl BallotQuestion {
    /// The candidates this team may vote for, as prompts number them (from 1).
    pub fn choices(&self, me: usize) -> Vec<i64> {
        self.candidates
            .iter()
            .filter(|t| self.self_vote || **t != me)
            .map(|t| *t as i64 + 1)
            .collect()
    }

    pub(super) fn sample() -> BallotQuestion {
        BallotQuestion {
            candidates: (0..6).collect(),
            self_vote: false,
            term_years: 1,
        }
    }
}

impl Question for BallotQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Ballot
    }

    fn fields(&self, obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        vec![FieldSpec::choice("leader", self.choices(obs.own.team))]
    }

    fn ask(&self, obs: &Observation) -> String {
        let names: Vec<String> = self
            .choices(obs.own.team)
            .iter()
            .map(|n| format!("team {n}"))
            .collect();
        format!(
            "Vote for the leader of the next {} year(s): give the number of one candidate in `leader` ({}).",
            self.term_years,
            names.join(", ")
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Ballot(
            Some((a.int("leader") - 1).max(0) as usize),
        ))
    }

    /// An abstention (the protocol counts no vote for a fallback).
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Ballot(None)
    }
}

/// The leadership as everyone sees it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LeaderBoard {
    /// The team in office this year (`None`: nobody won an election yet).
    pub leader: Option<usize>,
    /// The year the leader was elected and the last year of the term.
    pub elected: Option<(u32, u32)>,
    /// The agendas of the election held this year (empty in other years).
    pub agendas: Vec<Agenda>,
    /// Votes per candidate in this year's election, in team order.
    pub votes: Vec<(usize, u32)>,
    /// Last year's total catch of all teams, as the leader reported it.
    pub report: Option<i64>,
}

/// The leadership's section of the board.
pub(super) fn render_leader(out: &mut String, b: &LeaderBoard) {
    out.push_str("# Leadership\n");
    render_agendas(out, &b.agendas);
    if !b.votes.is_empty() {
        let listed: Vec<String> = b
            .votes
            .iter()
            .map(|(t, n)| format!("{} {n}", team_name(*t)))
            .collect();
        out.push_str(&format!("Votes this year: {}\n", listed.join(", ")));
    }
    match (b.leader, b.elected) {
        (Some(l), Some((from, to))) => out.push_str(&format!(
            "{LEADER_LABEL} team {} (elected in year {from}, term until year {to})\n",
            l + 1
        )),
        _ => out.push_str(&format!("{LEADER_LABEL} none\n")),
    }
    if let Some(r) = b.report {
        out.push_str(&format!("{REPORT_LABEL} {r} fish\n"));
    }
}
