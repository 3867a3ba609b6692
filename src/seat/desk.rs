//! [`Desk`]: the model that asks people. The game asks a person's seat exactly what it
//! asks an LLM (an [`LlmAgent`](crate::llm) whose model is this desk): the desk puts the
//! request on that seat's page, waits for the person's answer or the timeout, and hands
//! the answer back as text, to be validated, re-asked or replaced by the fallback like a
//! model's. Nothing here judges an answer: the question's own validation does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::{oneshot, watch};

use crate::llm::model::AnswerSchema;
use crate::llm::{ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmError, Usage, NO_ANSWER};

/// What a seat is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatStatus {
    /// The others are playing; no question for this seat.
    Waiting,
    /// A question is on the page.
    Asked,
    /// The game is over.
    Done,
}

/// The question on a seat's page: what an LLM would be sent.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    /// Answers name it, so an answer to an earlier question is refused.
    pub id: u64,
    pub kind: String,
    pub year: u32,
    /// 0 for the first ask; n for the n-th re-ask after an invalid answer.
    pub repair: u32,
    /// The conversation so far (the prompt; with re-asks, the answer and the error).
    pub messages: Vec<ChatMessage>,
    /// The answer's exact JSON schema (the page builds its form from it).
    pub schema: serde_json::Value,
    /// When the fallback applies, in milliseconds since the desk opened.
    #[serde(skip)]
    pub deadline: tokio::time::Instant,
}

/// One year as the seat saw it (for the page's chart): the facts of its prompt.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SeenYear {
    pub year: u32,
    pub bank: i64,
    pub ships: u32,
    /// Densities `[deep, coast]` as revealed (`None`: the sea is not revealed).
    pub density: Option<[f64; 2]>,
    /// Last year's catch `[deep, coast]`.
    pub last_catch: [i64; 2],
}

/// Everything one seat's page shows, and nothing of another seat's.
#[derive(Debug, Clone, Serialize)]
pub struct SeatView {
    /// The team, numbered from 1 as its prompts number it.
    pub team: usize,
    pub status: SeatStatus,
    pub question: Option<Question>,
    /// Seconds left to answer the question on the page.
    pub seconds_left: Option<f64>,
    pub seen: Vec<SeenYear>,
    /// Questions answered, and questions that timed out into the fallback.
    pub answered: u32,
    pub timed_out: u32,
    /// The run being played (several with generations).
    pub run_id: String,
}

struct Seat {
    token: String,
    view: Mutex<SeatView>,
    /// The pending question's id and where its answer goes.
    pending: Mutex<Option<(u64, oneshot::Sender<String>)>>,
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("no seat has this token")]
    UnknownSeat,
    #[error("that question is no longer open (answered, timed out or replaced)")]
    Closed,
}

/// The people's desk of one game: a seat per human team, each reached by its token.
pub struct Desk {
    seats: Vec<Option<Seat>>,
    facilitator: String,
    timeout: Duration,
    next_question: AtomicU64,
    /// Bumped on every change, so pages can wait for one.
    version: watch::Sender<u64>,
    ending: Mutex<Option<Ending>>,
}

/// What the facilitator sees once the game is over.
#[derive(Debug, Clone, Default)]
pub struct Ending {
    /// The story page of each run played.
    pub stories: Vec<(String, String)>,
    /// `report.html`, when the report was written.
    pub report: Option<String>,
    /// Where the results are.
    pub results: String,
}

/// A fresh unguessable token (128 bits from the operating system's generator).
fn token() -> String {
    let bytes: [u8; 16] = rand::random();
    crate::record::hex(&bytes)
}

impl Desk {
    /// A desk for a game of `teams` teams whose human seats are `humans` (0-based), each
    /// given `timeout` to answer a question.
    pub fn new(teams: usize, humans: &[usize], timeout: Duration) -> Arc<Desk> {
        let seats = (0..teams)
            .map(|t| {
                humans.contains(&t).then(|| Seat {
                    token: token(),
                    view: Mutex::new(SeatView {
                        team: t + 1,
                        status: SeatStatus::Waiting,
                        question: None,
                        seconds_left: None,
                        seen: Vec::new(),
                        answered: 0,
                        timed_out: 0,
                        run_id: String::new(),
                    }),
                    pending: Mutex::new(None),
                })
            })
            .collect();
        Arc::new(Desk {
            seats,
            facilitator: token(),
            timeout,
            next_question: AtomicU64::new(1),
            version: watch::channel(0).0,
            ending: Mutex::new(None),
        })
    }

    /// `(team index, token)` of every human seat.
    pub fn tokens(&self) -> Vec<(usize, String)> {
        self.seats
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s.token.clone())))
            .collect()
    }

    pub fn facilitator_token(&self) -> &str {
        &self.facilitator
    }

    pub fn is_facilitator(&self, token: &str) -> bool {
        token == self.facilitator
    }

    fn seat(&self, token: &str) -> Option<&Seat> {
        self.seats.iter().flatten().find(|s| s.token == token)
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// The current version (changes whenever any seat does).
    pub fn version(&self) -> u64 {
        *self.version.borrow()
    }

    /// Waits until the version differs from `seen`, or `wait` has passed.
    pub async fn changed_since(&self, seen: u64, wait: Duration) {
        let mut rx = self.version.subscribe();
        if *rx.borrow_and_update() != seen {
            return;
        }
        let _ = tokio::time::timeout(wait, rx.changed()).await;
    }

    /// The page's view of the seat with `token`.
    pub fn view(&self, token: &str) -> Option<SeatView> {
        let seat = self.seat(token)?;
        let mut view = lock(&seat.view).clone();
        view.seconds_left = view.question.as_ref().map(|q| {
            q.deadline
                .saturating_duration_since(tokio::time::Instant::now())
                .as_secs_f64()
        });
        Some(view)
    }

    /// Every seat's view (the facilitator's page).
    pub fn views(&self) -> Vec<SeatView> {
        self.tokens()
            .iter()
            .filter_map(|(_, t)| self.view(t))
            .collect()
    }

    /// The person's answer to question `id` of the seat with `token`, as the JSON text
    /// the page composed.
    pub fn answer(&self, token: &str, id: u64, text: String) -> Result<(), AnswerError> {
        let seat = self.seat(token).ok_or(AnswerError::UnknownSeat)?;
        let pending = lock(&seat.pending).take();
        match pending {
            Some((open, tx)) if open == id => {
                tx.send(text).map_err(|_| AnswerError::Closed)?;
                Ok(())
            }
            other => {
                *lock(&seat.pending) = other;
                Err(AnswerError::Closed)
            }
        }
    }

    /// The game is over: every page says so, the facilitator's shows `ending`.
    pub fn finish(&self, ending: Ending) {
        for seat in self.seats.iter().flatten() {
            let mut view = lock(&seat.view);
            view.status = SeatStatus::Done;
            view.question = None;
        }
        *lock(&self.ending) = Some(ending);
        self.bump();
    }

    pub fn ending(&self) -> Option<Ending> {
        lock(&self.ending).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain data behind the lock: a panic elsewhere cannot leave it half-written.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[async_trait]
impl ChatModel for Desk {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let ctx = &request.context;
        let Some(Some(seat)) = self.seats.get(ctx.agent) else {
            return Err(LlmError::Config(format!(
                "team {} is not a human seat",
                ctx.agent + 1
            )));
        };
        let id = self.next_question.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        let started = tokio::time::Instant::now();
        {
            let mut view = lock(&seat.view);
            if let Some(o) = request.asked.as_ref().map(|a| &a.observation) {
                let year = SeenYear {
                    year: o.public.year,
                    bank: o.own.bank,
                    ships: o.own.ships,
                    density: o.public.density,
                    last_catch: o.own.last_catch,
                };
                if view.run_id != ctx.run_id {
                    view.seen.clear();
                }
                match view.seen.last_mut() {
                    Some(last) if last.year == year.year => *last = year,
                    _ => view.seen.push(year),
                }
            }
            view.run_id = ctx.run_id.clone();
            view.status = SeatStatus::Asked;
            view.question = Some(Question {
                id,
                kind: ctx.kind.as_str().to_string(),
                year: ctx.year,
                repair: ctx.repair,
                messages: request.messages.clone(),
                schema: request
                    .schema
                    .as_ref()
                    .map_or(serde_json::Value::Null, AnswerSchema::value),
                deadline: started + self.timeout,
            });
            *lock(&seat.pending) = Some((id, tx));
        }
        self.bump();
        let outcome = tokio::time::timeout(self.timeout, rx).await;
        let answered = matches!(outcome, Ok(Ok(_)));
        {
            let mut view = lock(&seat.view);
            view.status = SeatStatus::Waiting;
            view.question = None;
            if answered {
                view.answered += 1;
            } else {
                view.timed_out += 1;
            }
            *lock(&seat.pending) = None;
        }
        self.bump();
        let latency_ms = started.elapsed().as_millis() as u64;
        Ok(match outcome {
            Ok(Ok(text)) => ChatResponse {
                text,
                usage: Usage {
                    tokens_cached: Some(0),
                    ..Usage::default()
                },
                cache_hit: false,
                retries: Vec::new(),
                latency_ms,
                finish_reason: Some("stop".into()),
            },
            // Timed out (or the page went away): the fallback applies, counted.
            _ => ChatResponse {
                text: format!("no answer within {:.0} s", self.timeout.as_secs_f64()),
                usage: Usage {
                    tokens_cached: Some(0),
                    ..Usage::default()
                },
                cache_hit: false,
                retries: Vec::new(),
                latency_ms,
                finish_reason: Some(NO_ANSWER.into()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::model::CallContext;
    use crate::question::RequestKind;

    fn request(agent: usize) -> ChatRequest {
        ChatRequest {
            messages: vec![ChatMessage::user("How many ships?")],
            params: Default::default(),
            schema: None,
            context: CallContext {
                run_id: "r".into(),
                agent,
                year: 1,
                kind: RequestKind::Decision,
                round: 0,
                repair: 0,
            },
            asked: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unanswered_question_times_out_into_no_answer() {
        let desk = Desk::new(3, &[1], Duration::from_secs(300));
        let response = desk.complete(&request(1)).await.unwrap();
        assert_eq!(response.finish_reason.as_deref(), Some(NO_ANSWER));
        let (_, token) = &desk.tokens()[0];
        let view = desk.view(token).unwrap();
        assert_eq!((view.answered, view.timed_out), (0, 1));
        assert_eq!(view.status, SeatStatus::Waiting);
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_open_question_of_the_right_seat_takes_an_answer() {
        let desk = Desk::new(3, &[0, 2], Duration::from_secs(300));
        let tokens = desk.tokens();
        let (mine, other) = (tokens[0].1.clone(), tokens[1].1.clone());
        let asking = {
            let desk = desk.clone();
            tokio::spawn(async move { desk.complete(&request(0)).await })
        };
        // Wait until the question is on the page.
        while desk.view(&mine).unwrap().question.is_none() {
            tokio::task::yield_now().await;
        }
        let id = desk.view(&mine).unwrap().question.unwrap().id;
        assert_eq!(
            desk.answer("not-a-token", id, "{}".into()),
            Err(AnswerError::UnknownSeat)
        );
        assert_eq!(
            desk.answer(&other, id, "{}".into()),
            Err(AnswerError::Closed)
        );
        assert_eq!(
            desk.answer(&mine, id + 1, "{}".into()),
            Err(AnswerError::Closed)
        );
        desk.answer(&mine, id, r#"{"order": 1}"#.into()).unwrap();
        let response = asking.await.unwrap().unwrap();
        assert_eq!(response.text, r#"{"order": 1}"#);
        // A second answer to the same question is refused.
        assert_eq!(
            desk.answer(&mine, id, "{}".into()),
            Err(AnswerError::Closed)
        );
        assert_eq!(desk.view(&mine).unwrap().answered, 1);
        // Tokens are unguessable and distinct.
        assert_eq!(mine.len(), 32);
        assert_ne!(mine, other);
        assert_ne!(mine, desk.facilitator_token());
    }
}
