//! `lesson`: at the end of a game, what the next captain of this team should know
//! (generations); and the lessons a new generation inherits, as the board shows them.

use super::field::Checked;
use super::quote::data_block;
use super::{team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Title of the lessons block (the mock model reads it back).
pub const LESSONS_TITLE: &str =
    "# Lessons left by the previous generation's captains (quoted; the harness sets `team`)";

/// Write a lesson of at most `max_chars` characters for the next generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonQuestion {
    pub max_chars: usize,
}

impl LessonQuestion {
    pub(super) fn sample(message_chars: usize) -> LessonQuestion {
        LessonQuestion {
            max_chars: message_chars.max(1),
        }
    }
}

impl Question for LessonQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Lesson
    }

    fn fields(&self, _obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        vec![FieldSpec::text("lesson", self.max_chars)]
    }

    fn ask(&self, _obs: &Observation) -> String {
        format!(
            "The game is over. A new captain will run your team in the next game, on a fresh sea. Write what they should know (at most {} characters).",
            self.max_chars
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Lesson(a.text("lesson")))
    }

    /// No lesson is passed on.
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Lesson(String::new())
    }
}

/// Which of the previous generation's lessons a team's new captain sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inherit {
    /// The lesson its own team's captain left.
    #[default]
    Own,
    /// Every team's lesson.
    All,
    /// None (the control: generations without memory).
    None,
}

/// A lesson a captain left for the next generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lesson {
    /// The generation that wrote it.
    pub generation: u32,
    pub team: usize,
    pub text: String,
}

/// The inherited lessons.
pub(super) fn render_lessons(out: &mut String, lessons: &[Lesson]) {
    data_block(
        out,
        LESSONS_TITLE,
        lessons.iter().map(
            |l| json!({"generation": l.generation, "team": team_name(l.team), "lesson": l.text}),
        ),
    );
}
