//! [`Desk`]: the model that asks people. The game asks a person's seat exactly what it
//! asks an LLM (an [`LlmAgent`](crate::llm) whose model is this desk): the desk puts the
//! request on that seat's page, waits for the person's answer or the timeout, and hands
//! the answer back as text, to be validated, re-asked or replaced by the fallback like a
//! model's. Nothing here judges an answer: the question's own validation does.
//!
//! The desk also keeps what a classroom needs around the questions: the start gate (no
//! question is put up, and so no clock runs, before [`Desk::start`]), which browser holds
//! which seat (the join flow), the facilitator's pause and extra time, what the game
//! applied when a question fell back (told by the agent through [`ResolutionWatch`], for
//! answers replayed from the cache too, so a seat's tally and history survive a
//! `--resume`), the true sea year by year (for the facilitator, never for a seat), and
//! the stop that turns Ctrl-C into a recorded, resumable game. Every client of the desk
//! (the seat pages, or any other way of seating a player) sees the same [`SeatView`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use super::words;
use crate::llm::model::Asked;
use crate::llm::remote::Payload;
use crate::llm::{
    ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmError, Outcome, Resolution,
    ResolutionWatch, Usage, NO_ANSWER,
};
use crate::question::Fallback;

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
    /// The game was stopped (its host pressed Ctrl-C); `play --resume` continues it.
    Stopped,
}

/// The question on a seat's page. Its facts and prompt are the view's `payload`.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    /// Answers name it, so an answer to an earlier question is refused.
    pub id: u64,
    pub kind: String,
    /// What it asks for, in words ("your decision for the year").
    pub title: String,
    pub year: u32,
    /// 0 for the first ask; n for the n-th re-ask after an invalid answer.
    pub repair: u32,
    /// Answers the person may still send, this one included; after the last refused
    /// one the fallback applies.
    pub tries_left: u32,
    /// What is asked, in words (the question's sentence of the prompt).
    pub ask: Option<String>,
    /// Why the last answer was refused: the validation error an AI captain is re-asked
    /// with, without the instruction about JSON (a form writes it).
    pub refused: Option<String>,
    /// What the game applies if no valid answer comes in time, in words.
    pub if_unanswered: Option<String>,
    #[serde(skip)]
    deadline: Instant,
}

/// Why a question fell back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeWhy {
    /// Nobody answered in time.
    TimedOut,
    /// Every answer sent was refused.
    Refused,
}

/// What the game applied instead of a person's answer: told to the seat until its next
/// valid answer, so a timeout never silently becomes the next question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub year: u32,
    pub kind: String,
    /// The question in words.
    pub title: String,
    pub why: NoticeWhy,
    /// The last reason an answer was refused (`refused` only).
    pub reason: Option<String>,
    /// What the game applied, in words.
    pub applied: String,
}

/// A seat's questions so far, by how they ended (every run of the game; on a resume the
/// replayed ones count again, so the tally is the whole game's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Answered validly (at the first ask or after re-asks).
    pub answered: u32,
    /// Re-asks after an invalid answer.
    pub reasked: u32,
    /// Left unanswered until the timeout: the fallback applied.
    pub timed_out: u32,
    /// Refused at every ask: the fallback applied.
    pub refused: u32,
}

/// One year as the seat saw it (for the page's charts): the facts of its prompt.
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
    /// Whether the facilitator started the game (no question is put up before).
    pub started: bool,
    /// Whether the facilitator paused the clock.
    pub paused: bool,
    /// The years this seat was shown, one entry per year (its bank, fleet and the sea as
    /// revealed at the year's first question), of the run being played.
    pub seen: Vec<SeenYear>,
    /// The typed facts of the latest question, open or answered (kept between questions
    /// for the dashboard): the `fishbanks.remote/1` payload (request, observation, memory,
    /// the prompt an AI captain reads, the exact schema). Serialised once per question,
    /// so a page's every poll copies a pointer, not the prompt.
    pub payload: Option<Arc<RawValue>>,
    /// How the seat's questions ended so far.
    pub tally: Tally,
    /// What the game applied when the seat's last question fell back; cleared by its
    /// next valid answer.
    pub notice: Option<Notice>,
    /// The run being played (several with generations).
    pub run_id: String,
}

/// One year of one run as it really went (the facilitator's screen and the debrief).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrueYear {
    pub run_id: String,
    pub year: u32,
    /// Fish at the end of the year `[deep, coast]`.
    pub stock: [i64; 2],
    /// Each team's catch (deep + coast), assets and ships after the year.
    pub catch: Vec<i64>,
    pub assets: Vec<i64>,
    pub ships: Vec<u32>,
    pub collapsed: bool,
}

/// The sea's facts a page needs to draw it: capacities and the most productive stocks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct SeaFacts {
    pub capacity: [i64; 2],
    /// The stock at which each area regenerates most (the level to fish down to, no lower).
    pub most_productive: [i64; 2],
}

/// Who sits at each team, for the facilitator (`human`, `llm:persona`, `greedy`…).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Roster {
    pub labels: Vec<String>,
}

struct Seat {
    team: usize,
    /// The seat's secret; a new one when the facilitator releases the seat.
    token: Mutex<String>,
    /// Tokens the seat had before a release (their pages are told so).
    released: Mutex<Vec<String>>,
    /// Whether a browser took the seat through the join page.
    claimed: Mutex<bool>,
    view: Mutex<SeatView>,
    /// The open questions, oldest first (one at a time for a person; a client that
    /// plays the seat in several runs at once has one per run).
    pending: Mutex<Vec<Open>>,
}

/// An open question and where its answer goes.
struct Open {
    question: Question,
    payload: Option<Arc<RawValue>>,
    /// The typed question and facts (what [`Desk::check`] reads an answer against).
    asked: Option<Arc<crate::llm::model::Asked>>,
    run_id: String,
    /// When a client took it (see [`Desk::take`]).
    taken: Option<Instant>,
    /// Told when a client takes it: its clock starts, so its wait must look again.
    on_take: Arc<tokio::sync::Notify>,
    answer: oneshot::Sender<String>,
}

impl Open {
    /// What a client sees of it, in `seat`.
    fn view(&self, seat: &Seat) -> OpenQuestion {
        OpenQuestion {
            team: seat.team + 1,
            run_id: self.run_id.clone(),
            question: self.question.clone(),
            payload: self.payload.clone(),
            taken: self.taken.is_some(),
        }
    }

    /// A client takes it: its time starts now, `timeout` from now.
    fn mark_taken(&mut self, timeout: Duration) {
        let now = Instant::now();
        self.taken.get_or_insert(now);
        self.question.deadline = now + timeout;
        // A permit if its wait is between two looks: never missed.
        self.on_take.notify_one();
    }
}

/// An open question of a seat, for a client that takes questions one by one (an MCP
/// client): the question, its typed facts, and whether it was taken already.
#[derive(Debug, Clone)]
pub struct OpenQuestion {
    /// The team, numbered from 1.
    pub team: usize,
    pub run_id: String,
    pub question: Question,
    /// The `fishbanks.remote/1` payload.
    pub payload: Option<Arc<RawValue>>,
    pub taken: bool,
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("no seat has this token")]
    UnknownSeat,
    #[error("that question is no longer open (answered, timed out or replaced)")]
    Closed,
}

/// Why a browser could not take a seat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("team {0} is not a seat for a person")]
    NoSuchSeat(usize),
    #[error("team {0} is taken; ask the facilitator to release it")]
    Taken(usize),
}

/// The secrets of a desk, kept beside the results so `play --resume` gives every
/// browser its seat back (the file is the host's, never shown on a page).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Secrets {
    pub facilitator: String,
    pub join_code: String,
    /// `(team index, token, claimed)` of every human seat.
    pub seats: Vec<(usize, String, bool)>,
}

/// The clock the facilitator controls.
#[derive(Debug, Default)]
struct Clock {
    /// When the pause began.
    paused_since: Option<Instant>,
    /// Time added to every open question (pauses and extensions) since it was asked,
    /// per question id.
    added: Vec<(u64, Duration)>,
}

/// What a desk is built from.
#[derive(Debug, Clone)]
pub struct DeskSetup {
    /// Who plays each team.
    pub roster: Roster,
    /// The teams people play (0-based).
    pub humans: Vec<usize>,
    /// How long a question waits for its answer (`[human] timeout_s`).
    pub timeout: Duration,
    /// Re-asks after an invalid answer (`[human] max_repairs`), so a page can say how
    /// many tries are left.
    pub max_repairs: u32,
    /// What applies to an unanswered question (`[human] fallback`), so a page can say so
    /// beforehand.
    pub fallback: Fallback,
    pub sea: SeaFacts,
    /// The tokens of a game being resumed (else fresh ones).
    pub secrets: Option<Secrets>,
    /// Where the secrets are kept, saved on every claim and release.
    pub secrets_file: Option<std::path::PathBuf>,
}

/// The people's desk of one game: a seat per human team, each reached by its token.
pub struct Desk {
    seats: Vec<Option<Seat>>,
    roster: Roster,
    facilitator: String,
    join_code: String,
    timeout: Duration,
    max_repairs: u32,
    fallback: Fallback,
    /// Whether the facilitator started the game (see [`Desk::start`]).
    started: std::sync::atomic::AtomicBool,
    next_question: AtomicU64,
    /// Bumped on every change, so pages can wait for one.
    version: watch::Sender<u64>,
    /// Bumped only by what moves every open question's deadline or ends every wait
    /// (the start, pause, resume, extra time, a stop): what a waiting question listens to. With
    /// hundreds of questions open at once (an MCP client playing many runs), waking
    /// each of them at every change of any seat cost milliseconds a question.
    timing: watch::Sender<u64>,
    clock: Mutex<Clock>,
    stopped: Mutex<Option<String>>,
    sea: SeaFacts,
    years: Mutex<Vec<TrueYear>>,
    ending: Mutex<Option<Ending>>,
    /// Where the secrets are saved on every claim and release.
    secrets_file: Option<std::path::PathBuf>,
    /// A question's time starts when a client takes it ([`Desk::take`]), not when it is
    /// asked: for clients that take questions one by one.
    clock_at_take: std::sync::atomic::AtomicBool,
}

/// What the pages show once the game is over.
#[derive(Debug, Clone, Default)]
pub struct Ending {
    /// The story page of each run played.
    pub stories: Vec<(String, String)>,
    /// `report.html`, when the report was written.
    pub report: Option<String>,
    /// Where the results are.
    pub results: String,
}

/// Whether two secrets are equal, in a time that does not depend on where they differ
/// (a token compared byte by byte leaks its prefix to a patient client).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh unguessable token (128 bits from the operating system's generator).
pub(super) fn token() -> String {
    let bytes: [u8; 16] = rand::random();
    crate::record::hex(&bytes)
}

/// A join code a class can type: 6 letters and digits without look-alikes (30 bits).
fn join_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let bytes: [u8; 6] = rand::random();
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

impl Desk {
    /// A desk for a game (see [`DeskSetup`]). Its questions wait for [`Desk::start`].
    pub fn new(setup: DeskSetup) -> Arc<Desk> {
        let DeskSetup {
            roster,
            humans,
            timeout,
            max_repairs,
            fallback,
            sea,
            secrets,
            secrets_file,
        } = setup;
        let kept = |t: usize| {
            secrets
                .as_ref()
                .and_then(|s| s.seats.iter().find(|(team, _, _)| *team == t))
                .map(|(_, token, claimed)| (token.clone(), *claimed))
        };
        let seats = (0..roster.labels.len())
            .map(|t| {
                humans.contains(&t).then(|| {
                    let (token, claimed) = kept(t).unwrap_or_else(|| (token(), false));
                    Seat {
                        team: t,
                        token: Mutex::new(token),
                        released: Mutex::new(Vec::new()),
                        claimed: Mutex::new(claimed),
                        view: Mutex::new(SeatView {
                            team: t + 1,
                            status: SeatStatus::Waiting,
                            question: None,
                            seconds_left: None,
                            started: false,
                            paused: false,
                            seen: Vec::new(),
                            payload: None,
                            tally: Tally::default(),
                            notice: None,
                            run_id: String::new(),
                        }),
                        pending: Mutex::new(Vec::new()),
                    }
                })
            })
            .collect();
        let desk = Arc::new(Desk {
            seats,
            roster,
            facilitator: secrets
                .as_ref()
                .map_or_else(token, |s| s.facilitator.clone()),
            join_code: secrets
                .as_ref()
                .map_or_else(join_code, |s| s.join_code.clone()),
            timeout,
            max_repairs,
            fallback,
            started: std::sync::atomic::AtomicBool::new(false),
            // A random start: a page left open across a `--resume` never mistakes a new
            // question for the one it had (ids stay below 2^53 for JavaScript).
            next_question: AtomicU64::new(u64::from(rand::random::<u32>()) + 1),
            version: watch::channel(0).0,
            timing: watch::channel(0).0,
            clock: Mutex::new(Clock::default()),
            stopped: Mutex::new(None),
            sea,
            years: Mutex::new(Vec::new()),
            ending: Mutex::new(None),
            secrets_file,
            clock_at_take: std::sync::atomic::AtomicBool::new(false),
        });
        desk.save_secrets();
        desk
    }

    /// The tokens and codes, as saved for `play --resume`.
    pub fn secrets(&self) -> Secrets {
        Secrets {
            facilitator: self.facilitator.clone(),
            join_code: self.join_code.clone(),
            seats: self
                .seats
                .iter()
                .flatten()
                .map(|s| (s.team, lock(&s.token).clone(), *lock(&s.claimed)))
                .collect(),
        }
    }

    fn save_secrets(&self) {
        let Some(path) = &self.secrets_file else {
            return;
        };
        let write = || -> std::io::Result<()> {
            let text = serde_json::to_string_pretty(&self.secrets())?;
            let tmp = path.with_extension("tmp");
            write_private(&tmp, text.as_bytes())?;
            std::fs::rename(&tmp, path)
        };
        if let Err(e) = write() {
            tracing::warn!("cannot save the seats to {}: {e}", path.display());
        }
    }

    /// `(team index, token)` of every human seat.
    pub fn tokens(&self) -> Vec<(usize, String)> {
        self.seats
            .iter()
            .flatten()
            .map(|s| (s.team, lock(&s.token).clone()))
            .collect()
    }

    pub fn facilitator_token(&self) -> &str {
        &self.facilitator
    }

    pub fn is_facilitator(&self, token: &str) -> bool {
        same_secret(token, &self.facilitator)
    }

    pub fn join_code(&self) -> &str {
        &self.join_code
    }

    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    pub fn sea(&self) -> SeaFacts {
        self.sea
    }

    fn seat(&self, token: &str) -> Option<&Seat> {
        self.seats
            .iter()
            .flatten()
            .find(|s| same_secret(&lock(&s.token), token))
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// A change every waiting question must see (and pages too).
    fn bump_timing(&self) {
        self.timing.send_modify(|v| *v += 1);
        self.bump();
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

    /// Human seats as the join page lists them: `(team number, taken)`.
    pub fn free_seats(&self) -> Vec<(usize, bool)> {
        self.seats
            .iter()
            .flatten()
            .map(|s| (s.team + 1, *lock(&s.claimed)))
            .collect()
    }

    /// A browser takes team `team` (numbered from 1): its token, once.
    pub fn claim(&self, team: usize) -> Result<String, ClaimError> {
        let seat = self
            .seats
            .get(team.wrapping_sub(1))
            .and_then(Option::as_ref)
            .ok_or(ClaimError::NoSuchSeat(team))?;
        {
            let mut claimed = lock(&seat.claimed);
            if *claimed {
                return Err(ClaimError::Taken(team));
            }
            *claimed = true;
        }
        self.save_secrets();
        self.bump();
        Ok(lock(&seat.token).clone())
    }

    /// The facilitator frees team `team` (numbered from 1): the browser holding it loses
    /// it (its token changes), and the join page offers it again. A pending question
    /// stays open for whoever takes the seat next.
    pub fn release(&self, team: usize) -> bool {
        let Some(seat) = self
            .seats
            .get(team.wrapping_sub(1))
            .and_then(Option::as_ref)
        else {
            return false;
        };
        let old = std::mem::replace(&mut *lock(&seat.token), token());
        lock(&seat.released).push(old);
        *lock(&seat.claimed) = false;
        self.save_secrets();
        self.bump();
        true
    }

    /// The team a token belongs to (numbered from 1), for a browser coming back to the
    /// join page with its seat.
    pub fn team_of(&self, token: &str) -> Option<usize> {
        self.seat(token).map(|s| s.team + 1)
    }

    /// The team (from 1) whose seat `token` held before the facilitator released it.
    pub fn released_from(&self, token: &str) -> Option<usize> {
        self.seats
            .iter()
            .flatten()
            .find(|s| lock(&s.released).iter().any(|t| t == token))
            .map(|s| s.team + 1)
    }

    /// Starts the game: questions are put up from now on (each with its full time).
    /// Until then every person's question waits, its clock not running.
    pub fn start(&self) {
        self.started.store(true, Ordering::SeqCst);
        self.bump_timing();
    }

    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// Stops the clocks of every question (and holds new ones) until [`Desk::resume_clock`].
    pub fn pause(&self) {
        let mut clock = lock(&self.clock);
        if clock.paused_since.is_none() {
            clock.paused_since = Some(Instant::now());
        }
        drop(clock);
        self.bump_timing();
    }

    /// Starts the clocks again; open questions get the paused time back.
    pub fn resume_clock(&self) {
        let mut clock = lock(&self.clock);
        if let Some(since) = clock.paused_since.take() {
            let paused = since.elapsed();
            for (_, added) in clock.added.iter_mut() {
                *added += paused;
            }
        }
        drop(clock);
        self.bump_timing();
    }

    pub fn is_paused(&self) -> bool {
        lock(&self.clock).paused_since.is_some()
    }

    /// Gives every open question `extra` more time.
    pub fn extend(&self, extra: Duration) {
        for (_, added) in lock(&self.clock).added.iter_mut() {
            *added += extra;
        }
        self.bump_timing();
    }

    /// When question `id` (asked with `deadline`) falls back, and whether the clock runs.
    fn deadline_of(&self, id: u64, deadline: Instant) -> (Instant, bool) {
        let clock = lock(&self.clock);
        let added = clock
            .added
            .iter()
            .find(|(q, _)| *q == id)
            .map_or(Duration::ZERO, |(_, d)| *d);
        match clock.paused_since {
            // Paused: the time left is frozen at what it was when the pause began.
            Some(since) => (deadline + added + since.elapsed(), false),
            None => (deadline + added, true),
        }
    }

    /// Ends every question now and refuses new ones: the run ends `stopped`.
    pub fn stop(&self, reason: &str) {
        *lock(&self.stopped) = Some(reason.to_string());
        for seat in self.seats.iter().flatten() {
            let mut view = lock(&seat.view);
            view.status = SeatStatus::Stopped;
            view.question = None;
            lock(&seat.pending).clear();
        }
        self.bump_timing();
    }

    fn stopped(&self) -> Option<String> {
        lock(&self.stopped).clone()
    }

    /// A year as it really went, told by the game as soon as it is played.
    pub fn year_played(&self, year: TrueYear) {
        lock(&self.years).push(year);
        self.bump();
    }

    /// Every year played so far, of every run.
    pub fn true_years(&self) -> Vec<TrueYear> {
        lock(&self.years).clone()
    }

    /// The page's view of the seat with `token`.
    pub fn view(&self, token: &str) -> Option<SeatView> {
        let seat = self.seat(token)?;
        let mut view = lock(&seat.view).clone();
        view.paused = self.is_paused();
        view.started = self.is_started();
        view.seconds_left = view.question.as_ref().map(|q| {
            let (deadline, _) = self.deadline_of(q.id, q.deadline);
            deadline
                .saturating_duration_since(Instant::now())
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

    /// Whether the seat of team `team` (from 1) is held by a browser.
    pub fn is_claimed(&self, team: usize) -> bool {
        self.seats
            .get(team.wrapping_sub(1))
            .and_then(Option::as_ref)
            .is_some_and(|s| *lock(&s.claimed))
    }

    /// The person's answer to question `id` of the seat with `token`, as the JSON text
    /// the page composed.
    pub fn answer(&self, token: &str, id: u64, text: String) -> Result<(), AnswerError> {
        let seat = self.seat(token).ok_or(AnswerError::UnknownSeat)?;
        let open = {
            let mut pending = lock(&seat.pending);
            let at = pending
                .iter()
                .position(|o| o.question.id == id)
                .ok_or(AnswerError::Closed)?;
            pending.remove(at)
        };
        open.answer.send(text).map_err(|_| AnswerError::Closed)
    }

    /// Questions start their time when a client takes them ([`Desk::take`]), not when
    /// they are asked: for a program that takes questions one at a time, so that
    /// questions waiting their turn lose no time. Set before the first question.
    pub fn start_clocks_when_taken(&self) {
        self.clock_at_take.store(true, Ordering::SeqCst);
    }

    /// The open questions of the seat with `token`, oldest first.
    pub fn open_questions(&self, token: &str) -> Vec<OpenQuestion> {
        let Some(seat) = self.seat(token) else {
            return Vec::new();
        };
        lock(&seat.pending).iter().map(|o| o.view(seat)).collect()
    }

    /// Takes the oldest open question of any seat that nobody took yet (see
    /// [`Desk::take`]), looking at every question without copying any but that one.
    pub fn take_oldest(&self) -> Option<(String, OpenQuestion)> {
        let mut oldest: Option<(&Seat, u64)> = None;
        for seat in self.seats.iter().flatten() {
            let pending = lock(&seat.pending);
            if let Some(o) = pending
                .iter()
                .filter(|o| o.taken.is_none())
                .min_by_key(|o| o.question.id)
            {
                if oldest.is_none_or(|(_, id)| o.question.id < id) {
                    oldest = Some((seat, o.question.id));
                }
            }
        }
        let (seat, id) = oldest?;
        let view = {
            let mut pending = lock(&seat.pending);
            // Still open and untaken (it may have been answered since the look).
            let o = pending
                .iter_mut()
                .find(|o| o.question.id == id && o.taken.is_none())?;
            o.mark_taken(self.timeout);
            o.view(seat)
        };
        self.bump();
        Some((lock(&seat.token).clone(), view))
    }

    /// Open question `id` of any seat, with the token of its seat.
    pub fn open_question(&self, id: u64) -> Option<(String, OpenQuestion)> {
        self.seats.iter().flatten().find_map(|seat| {
            let pending = lock(&seat.pending);
            let o = pending.iter().find(|o| o.question.id == id)?;
            Some((lock(&seat.token).clone(), o.view(seat)))
        })
    }

    /// A client takes question `id` of the seat with `token`: its time starts now (with
    /// [`Desk::start_clocks_when_taken`]). False when it is not open.
    pub fn take(&self, token: &str, id: u64) -> bool {
        let Some(seat) = self.seat(token) else {
            return false;
        };
        let taken = lock(&seat.pending)
            .iter_mut()
            .find(|o| o.question.id == id)
            .map(|o| o.mark_taken(self.timeout))
            .is_some();
        if taken {
            self.bump();
        }
        taken
    }

    /// Whether `text` would be a valid answer to open question `id` of the seat with
    /// `token`, read as the seat's agent reads it (strictly, with the question's own
    /// checks): the reason when not. `None`: no such question, or its facts are unknown.
    /// The agent still decides; this only tells the answerer at once.
    pub fn check(&self, token: &str, id: u64, text: &str) -> Option<Result<(), String>> {
        let seat = self.seat(token)?;
        let asked = lock(&seat.pending)
            .iter()
            .find(|o| o.question.id == id)
            .and_then(|o| o.asked.clone())?;
        Some(
            asked
                .request
                .parse_strict(text, &asked.observation, asked.limits)
                .map(|_| ()),
        )
    }

    /// When question `id` of `seat` runs out of time, before pauses and extra time:
    /// `asked + timeout`, or, when clocks start at a take, the take's time plus the
    /// timeout (`None` while nobody took it: it waits).
    fn base_deadline(&self, seat: &Seat, id: u64, asked: Instant) -> Option<Instant> {
        if !self.clock_at_take.load(Ordering::SeqCst) {
            return Some(asked + self.timeout);
        }
        lock(&seat.pending)
            .iter()
            .find(|o| o.question.id == id)
            .and_then(|o| o.taken)
            .map(|t| t + self.timeout)
    }

    /// The game is over: every page says so and shows `ending`.
    pub fn finish(&self, ending: Ending) {
        for seat in self.seats.iter().flatten() {
            let mut view = lock(&seat.view);
            if view.status != SeatStatus::Stopped {
                view.status = SeatStatus::Done;
            }
            view.question = None;
        }
        *lock(&self.ending) = Some(ending);
        self.bump();
    }

    pub fn ending(&self) -> Option<Ending> {
        lock(&self.ending).clone()
    }

    /// Waits for the answer to question `id`, the deadline (moved by pauses and extra
    /// time), or the stop.
    async fn wait_for(
        &self,
        seat: &Seat,
        id: u64,
        asked_at: Instant,
        mut rx: oneshot::Receiver<String>,
        on_take: &tokio::sync::Notify,
    ) -> Result<Option<String>, LlmError> {
        let mut changes = self.timing.subscribe();
        loop {
            if let Some(reason) = self.stopped() {
                return Err(LlmError::Stopped(reason));
            }
            // Not yet taken (clocks that start at a take): only a change ends the wait.
            let (deadline, running) = match self.base_deadline(seat, id, asked_at) {
                Some(base) => self.deadline_of(id, base),
                None => (Instant::now(), false),
            };
            if running && Instant::now() >= deadline {
                return Ok(None);
            }
            // While paused, only a change (resume, stop, an answer) can end the wait.
            let sleep_until = if running {
                deadline
            } else {
                Instant::now() + Duration::from_secs(3600)
            };
            tokio::select! {
                answer = &mut rx => {
                    return match (answer, self.stopped()) {
                        (Ok(text), _) => Ok(Some(text)),
                        // The stop dropped the question.
                        (Err(_), Some(reason)) => Err(LlmError::Stopped(reason)),
                        (Err(_), None) => Ok(None),
                    };
                }
                _ = tokio::time::sleep_until(sleep_until) => {}
                _ = on_take.notified() => {}
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Waits until the game is started and the clock runs (a new question is not put
    /// up before the start or during a pause).
    async fn until_open(&self) -> Result<(), LlmError> {
        let mut changes = self.timing.subscribe();
        loop {
            if let Some(reason) = self.stopped() {
                return Err(LlmError::Stopped(reason));
            }
            if self.is_started() && !self.is_paused() {
                return Ok(());
            }
            if changes.changed().await.is_err() {
                return Ok(());
            }
        }
    }
}

/// Writes a file only its owner can read (the seats' tokens).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain data behind the lock: a panic elsewhere cannot leave it half-written.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The reason of the last re-ask: the validation error the last user message states.
fn refusal(messages: &[ChatMessage], repair: u32) -> Option<String> {
    if repair == 0 {
        return None;
    }
    messages.iter().rev().find(|m| m.role == "user").map(|m| {
        crate::llm::agent::reask_reason(&m.content)
            .unwrap_or(&m.content)
            .to_string()
    })
}

/// Notes the year a seat is shown in `asked` (one entry per year, the latest facts of
/// the year kept); a new run starts the history afresh.
fn note_year(view: &mut SeatView, run_id: &str, asked: &Asked) {
    let o = &asked.observation;
    let year = SeenYear {
        year: o.public.year,
        bank: o.own.bank,
        ships: o.own.ships,
        density: o.public.density,
        last_catch: o.own.last_catch,
    };
    if view.run_id != run_id {
        view.seen.clear();
        view.notice = None;
        view.run_id = run_id.to_string();
    }
    match view.seen.iter_mut().find(|s| s.year == year.year) {
        Some(same) => *same = year,
        None => {
            view.seen.push(year);
            view.seen.sort_by_key(|s| s.year);
        }
    }
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
        self.until_open().await?;
        let id = self.next_question.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        let on_take = Arc::new(tokio::sync::Notify::new());
        let started = Instant::now();
        let payload = request
            .asked
            .as_ref()
            .map(|asked| serde_json::value::to_raw_value(&Payload::of(request, asked)))
            .transpose()
            .map_err(|e| LlmError::Config(format!("the seat's facts: {e}")))?
            .map(Arc::from);
        {
            let mut view = lock(&seat.view);
            if let Some(asked) = &request.asked {
                note_year(&mut view, &ctx.run_id, asked);
            }
            let question = Question {
                id,
                kind: ctx.kind.as_str().to_string(),
                title: words::question(ctx.kind).to_string(),
                year: ctx.year,
                repair: ctx.repair,
                tries_left: (self.max_repairs + 1).saturating_sub(ctx.repair),
                ask: request
                    .asked
                    .as_ref()
                    .map(|a| a.request.question().ask(&a.observation)),
                refused: refusal(&request.messages, ctx.repair),
                if_unanswered: request.asked.as_ref().map(|a| {
                    let fallback = a.request.question().fallback(&a.observation, self.fallback);
                    words::applied(ctx.kind, &fallback, self.fallback)
                }),
                deadline: started + self.timeout,
            };
            view.run_id = ctx.run_id.clone();
            view.status = SeatStatus::Asked;
            view.payload = payload.clone();
            view.question = Some(question.clone());
            lock(&seat.pending).push(Open {
                question,
                payload,
                asked: request.asked.clone(),
                run_id: ctx.run_id.clone(),
                taken: None,
                on_take: on_take.clone(),
                answer: tx,
            });
        }
        lock(&self.clock).added.push((id, Duration::ZERO));
        self.bump();
        let outcome = self.wait_for(seat, id, started, rx, &on_take).await;
        lock(&self.clock).added.retain(|(q, _)| *q != id);
        {
            let mut view = lock(&seat.view);
            let mut pending = lock(&seat.pending);
            pending.retain(|o| o.question.id != id);
            if view.status != SeatStatus::Stopped {
                // The page shows the oldest question still open, if any (a client that
                // plays the seat in several runs at once); the tally is the watch's.
                match pending.first() {
                    Some(next) => {
                        view.question = Some(next.question.clone());
                        view.payload = next.payload.clone();
                        view.run_id = next.run_id.clone();
                    }
                    None => {
                        view.status = SeatStatus::Waiting;
                        view.question = None;
                    }
                }
            }
        }
        self.bump();
        let latency_ms = started.elapsed().as_millis() as u64;
        let usage = Usage {
            tokens_cached: Some(0),
            ..Usage::default()
        };
        let (text, finish_reason) = match outcome? {
            Some(text) => (text, "stop"),
            // Timed out: the fallback applies, counted.
            None => (
                format!("no answer within {:.0} s", self.timeout.as_secs_f64()),
                NO_ANSWER,
            ),
        };
        Ok(ChatResponse {
            latency_ms,
            ..ChatResponse::live(text, usage, Some(finish_reason.into()))
        })
    }
}

/// The agent of a person's seat tells the desk how each question ended (live or from the
/// cache): the seat's tally, its history of years and what the game applied.
impl ResolutionWatch for Desk {
    fn resolved(&self, r: &Resolution) {
        let Some(Some(seat)) = self.seats.get(r.context.agent) else {
            return;
        };
        {
            let mut view = lock(&seat.view);
            if let Some(asked) = &r.asked {
                note_year(&mut view, &r.context.run_id, asked);
            }
            let kind = r.context.kind;
            let notice =
                |why, reason: Option<String>, applied: &crate::question::Response| Notice {
                    year: r.context.year,
                    kind: kind.as_str().to_string(),
                    title: words::question(kind).to_string(),
                    why,
                    reason,
                    applied: words::applied(kind, applied, self.fallback),
                };
            match &r.outcome {
                Outcome::Answered { repairs } => {
                    view.tally.answered += 1;
                    view.tally.reasked += repairs;
                    view.notice = None;
                }
                Outcome::TimedOut { applied } => {
                    view.tally.timed_out += 1;
                    view.notice = Some(notice(NoticeWhy::TimedOut, None, applied));
                }
                Outcome::Refused {
                    repairs,
                    reason,
                    applied,
                } => {
                    view.tally.refused += 1;
                    view.tally.reasked += repairs;
                    view.notice = Some(notice(NoticeWhy::Refused, Some(reason.clone()), applied));
                }
            }
        }
        self.bump();
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

    fn setup(teams: usize, humans: &[usize]) -> DeskSetup {
        DeskSetup {
            roster: Roster {
                labels: (0..teams).map(|t| format!("team{t}")).collect(),
            },
            humans: humans.to_vec(),
            timeout: Duration::from_secs(300),
            max_repairs: 2,
            fallback: Fallback::Previous,
            sea: SeaFacts::default(),
            secrets: None,
            secrets_file: None,
        }
    }

    /// A started desk (most tests are about questions, not the start).
    fn desk(teams: usize, humans: &[usize]) -> Arc<Desk> {
        let desk = Desk::new(setup(teams, humans));
        desk.start();
        desk
    }

    async fn until_asked(desk: &Desk, token: &str) -> u64 {
        loop {
            if let Some(q) = desk.view(token).and_then(|v| v.question) {
                return q.id;
            }
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unanswered_question_times_out_into_no_answer() {
        let desk = desk(3, &[1]);
        let response = desk.complete(&request(1)).await.unwrap();
        assert_eq!(response.finish_reason.as_deref(), Some(NO_ANSWER));
        let (_, token) = &desk.tokens()[0];
        let view = desk.view(token).unwrap();
        assert_eq!(view.status, SeatStatus::Waiting);
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_open_question_of_the_right_seat_takes_an_answer() {
        let desk = desk(3, &[0, 2]);
        let tokens = desk.tokens();
        let (mine, other) = (tokens[0].1.clone(), tokens[1].1.clone());
        let asking = {
            let desk = desk.clone();
            tokio::spawn(async move { desk.complete(&request(0)).await })
        };
        let id = until_asked(&desk, &mine).await;
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
        // Tokens are unguessable and distinct.
        assert_eq!(mine.len(), 32);
        assert_ne!(mine, other);
        assert_ne!(mine, desk.facilitator_token());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_freezes_the_clock_and_extra_time_moves_the_deadline() {
        let desk = desk(2, &[0]);
        let token = desk.tokens()[0].1.clone();
        let asking = {
            let desk = desk.clone();
            tokio::spawn(async move { desk.complete(&request(0)).await })
        };
        let id = until_asked(&desk, &token).await;
        tokio::time::sleep(Duration::from_secs(100)).await;
        desk.pause();
        // An hour of pause costs the question nothing.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!asking.is_finished());
        let left = desk.view(&token).unwrap().seconds_left.unwrap();
        assert!((left - 200.0).abs() < 1.0, "{left}");
        desk.resume_clock();
        desk.extend(Duration::from_secs(60));
        tokio::time::sleep(Duration::from_secs(250)).await;
        tokio::task::yield_now().await;
        assert!(!asking.is_finished(), "200 s + 60 s extra were left");
        desk.answer(&token, id, "{}".into()).unwrap();
        let response = asking.await.unwrap().unwrap();
        assert_eq!(response.finish_reason.as_deref(), Some("stop"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_the_open_question_as_stopped() {
        let desk = desk(2, &[1]);
        let token = desk.tokens()[0].1.clone();
        let asking = {
            let desk = desk.clone();
            tokio::spawn(async move { desk.complete(&request(1)).await })
        };
        until_asked(&desk, &token).await;
        desk.stop("Ctrl-C");
        let result = asking.await.unwrap();
        assert!(matches!(result, Err(LlmError::Stopped(_))), "{result:?}");
        assert_eq!(desk.view(&token).unwrap().status, SeatStatus::Stopped);
        // And a new question is refused at once.
        assert!(matches!(
            desk.complete(&request(1)).await,
            Err(LlmError::Stopped(_))
        ));
    }

    /// A program playing the seat in two runs at once: a question per run, each answered
    /// on its own; with clocks that start at a take, a question nobody took loses no
    /// time, and one taken and left falls back after the timeout.
    #[tokio::test(start_paused = true)]
    async fn a_seat_holds_a_question_per_run_and_a_take_starts_its_clock() {
        let desk = desk(2, &[0]);
        desk.start_clocks_when_taken();
        let token = desk.tokens()[0].1.clone();
        let ask = |run: &str| {
            let desk = desk.clone();
            let mut r = request(0);
            r.context.run_id = run.into();
            tokio::spawn(async move { desk.complete(&r).await })
        };
        let (one, two) = (ask("r1"), ask("r2"));
        while desk.open_questions(&token).len() < 2 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let open = desk.open_questions(&token);
        assert_eq!(open.len(), 2, "untaken questions wait");
        assert!(!one.is_finished() && !two.is_finished());
        let id = |run: &str| open.iter().find(|o| o.run_id == run).unwrap().question.id;
        assert!(desk.take(&token, id("r1")));
        assert!(desk.open_questions(&token).iter().any(|o| o.taken));
        tokio::time::sleep(Duration::from_secs(301)).await;
        let timed_out = one.await.unwrap().unwrap();
        assert_eq!(timed_out.finish_reason.as_deref(), Some(NO_ANSWER));
        desk.answer(&token, id("r2"), r#"{"order": 0}"#.into())
            .unwrap();
        assert_eq!(two.await.unwrap().unwrap().text, r#"{"order": 0}"#);
        assert!(desk.open_questions(&token).is_empty());
        assert!(!desk.take(&token, id("r2")), "answered: no longer open");
    }

    #[test]
    fn a_seat_is_claimed_once_and_released_with_a_new_token() {
        let desk = desk(3, &[0, 2]);
        assert_eq!(desk.free_seats(), vec![(1, false), (3, false)]);
        assert_eq!(desk.claim(2), Err(ClaimError::NoSuchSeat(2)));
        let token = desk.claim(3).unwrap();
        assert_eq!(desk.claim(3), Err(ClaimError::Taken(3)));
        assert_eq!(desk.team_of(&token), Some(3));
        assert!(desk.release(3));
        assert_eq!(desk.team_of(&token), None, "the old browser lost the seat");
        assert_eq!(desk.released_from(&token), Some(3), "and is told so");
        assert_eq!(desk.released_from("never-a-token"), None);
        let again = desk.claim(3).unwrap();
        assert_ne!(again, token);
        // A resumed desk gives every seat its token back.
        let secrets = desk.secrets();
        let resumed = Desk::new(DeskSetup {
            secrets: Some(secrets.clone()),
            ..setup(3, &[0, 2])
        });
        assert_eq!(resumed.secrets(), secrets);
        assert_eq!(resumed.team_of(&again), Some(3));
        assert_eq!(join_code().len(), 6);
    }

    /// A decision asked in `year` with its typed facts (a sample observation).
    fn asked(year: u32) -> Arc<Asked> {
        let observation =
            crate::question::Observation::sample(&crate::engine::GameParams::default(), 3, 8, year);
        Arc::new(Asked {
            request: crate::question::Request::decision(),
            observation,
            memory: Vec::new(),
            limits: crate::question::Limits { max_fish: 4500 },
        })
    }

    #[tokio::test(start_paused = true)]
    async fn no_question_is_put_up_and_no_clock_runs_before_the_start() {
        let desk = Desk::new(setup(2, &[0]));
        let token = desk.tokens()[0].1.clone();
        let asking = {
            let desk = desk.clone();
            tokio::spawn(async move { desk.complete(&request(0)).await })
        };
        // An hour before the start: nothing on the page, nothing timed out.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!asking.is_finished());
        let view = desk.view(&token).unwrap();
        assert!(view.question.is_none() && !view.started);
        desk.start();
        let id = until_asked(&desk, &token).await;
        let view = desk.view(&token).unwrap();
        assert!(view.started);
        let left = view.seconds_left.unwrap();
        assert!(
            (left - 300.0).abs() < 1.0,
            "the full time from the start: {left}"
        );
        desk.answer(&token, id, "{}".into()).unwrap();
        assert!(asking.await.unwrap().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_question_says_its_tries_what_was_refused_and_what_applies_without_an_answer() {
        let desk = desk(2, &[0]);
        let token = desk.tokens()[0].1.clone();
        let mut second = request(0);
        second.context.repair = 2;
        second.messages.push(ChatMessage::assistant("{}"));
        second
            .messages
            .push(ChatMessage::user(crate::llm::agent::reask(
                "field `order` is missing",
            )));
        second.asked = Some(asked(3));
        let asking = {
            let desk = desk.clone();
            tokio::spawn(async move { desk.complete(&second).await })
        };
        until_asked(&desk, &token).await;
        let q = desk.view(&token).unwrap().question.unwrap();
        assert_eq!(q.tries_left, 1, "the last of 3 tries");
        assert_eq!(q.refused.as_deref(), Some("field `order` is missing"));
        assert_eq!(q.title, "your decision for the year");
        let fallback = q.if_unanswered.unwrap();
        assert!(
            fallback.starts_with("your previous decision again"),
            "{fallback}"
        );
        desk.stop("test");
        let _ = asking.await;
    }

    #[test]
    fn the_seat_is_told_what_the_game_applied_and_its_tally_and_years_come_from_every_resolution() {
        let desk = desk(2, &[1]);
        let token = desk.tokens()[0].1.clone();
        let resolve = |year: u32, outcome: Outcome| {
            desk.resolved(&Resolution {
                context: CallContext {
                    run_id: "r".into(),
                    agent: 1,
                    year,
                    kind: RequestKind::Decision,
                    round: 0,
                    repair: 0,
                },
                asked: Some(asked(year)),
                outcome,
            })
        };
        let applied = crate::question::Response::Decision(crate::engine::Decision {
            order: 0,
            deep: 2,
            coast: 1,
        });
        // As a --resume replays them from the cache: no question was ever on the page.
        resolve(1, Outcome::Answered { repairs: 1 });
        resolve(
            2,
            Outcome::TimedOut {
                applied: applied.clone(),
            },
        );
        let view = desk.view(&token).unwrap();
        let notice = view.notice.clone().unwrap();
        assert_eq!((notice.year, notice.why), (2, NoticeWhy::TimedOut));
        assert!(
            notice.applied.contains("2 ships to the deep sea"),
            "{}",
            notice.applied
        );
        resolve(
            3,
            Outcome::Refused {
                repairs: 2,
                reason: "field `deep` must be at most 4, got 9".into(),
                applied,
            },
        );
        let view = desk.view(&token).unwrap();
        assert_eq!(view.notice.as_ref().unwrap().why, NoticeWhy::Refused);
        assert_eq!(
            view.tally,
            Tally {
                answered: 1,
                reasked: 3,
                timed_out: 1,
                refused: 1
            }
        );
        assert_eq!(
            view.seen.iter().map(|s| s.year).collect::<Vec<_>>(),
            [1, 2, 3],
            "every year's facts, for the charts"
        );
        // The next valid answer clears the notice; other seats' resolutions are not its.
        resolve(4, Outcome::Answered { repairs: 0 });
        assert!(desk.view(&token).unwrap().notice.is_none());
    }
}
