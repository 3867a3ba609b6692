//! `agenda`: a candidate's agenda for leader (the `leader` protocol): its principles, how
//! it will set the catch, how it will enforce it; and the agendas as the board shows them.

use super::field::Checked;
use super::quote::data_block;
use super::{team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Title of the agendas block (the mock model reads it back).
pub const AGENDAS_TITLE: &str = "# Candidates' agendas (quoted; the harness sets `team`)";

/// Write an agenda of at most `max_chars` characters, standing for the office of leader
/// for `term_years` years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaQuestion {
    pub max_chars: usize,
    pub term_years: u32,
}

impl AgendaQuestion {
    pub(super) fn sample(message_chars: usize) -> AgendaQuestion {
        AgendaQuestion {
            max_chars: message_chars.max(1),
            term_years: 1,
        }
    }
}

impl Question for AgendaQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Agenda
    }

    fn fields(&self, _obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        vec![FieldSpec::text("agenda", self.max_chars)]
    }

    fn ask(&self, _obs: &Observation) -> String {
        format!(
            "You are a candidate for leader for the next {} year(s). Write your agenda (at most {} characters): your principles, how you will set the total allowable catch, and how you will see that it is kept. Every team reads it before the vote.",
            self.term_years, self.max_chars
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Agenda(a.text("agenda")))
    }

    /// No agenda is published (the candidacy stands).
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Agenda(String::new())
    }
}

/// A candidate's published agenda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agenda {
    pub team: usize,
    pub text: String,
}

/// The agendas of this election.
pub(super) fn render_agendas(out: &mut String, agendas: &[Agenda]) {
    data_block(
        out,
        AGENDAS_TITLE,
        agendas
            .iter()
            .map(|a| json!({"team": team_name(a.team), "agenda": a.text})),
    );
}
