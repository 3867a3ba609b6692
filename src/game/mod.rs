//! The game loop of one run (docs/DESIGN.md §2): years, protocol phases, observations, the engine
//! step, and the run's record and status.
//!
//! The loop knows protocols only through the [`Protocol`] trait and agents only through
//! the [`Agent`] trait; the rules are the engine's.

mod market;
mod observe;
mod rows;

pub use market::MarketTeam;
pub use observe::observe;
pub use rows::{finished_run, LESSON_KIND};

use crate::agents::{Agent, AgentError, AgentStats};
use crate::engine::{self, Decision, GameParams, State, YearOutcome};
use crate::protocol::{ask_all, wrong_kind, Protocol, Sea, YearContext};
use crate::question::{
    Board, Inherit, Lesson, LessonQuestion, Observation, Pledge, ProbeAnswer, ProbeQuestion,
    Request, RequestKind, Response,
};
use crate::record::{Event, RunStatus};
use rand_chacha::ChaCha8Rng;

/// Per-team extras of a year that the engine does not know (for `agents.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct YearExtras {
    pub quotas: Vec<Option<i64>>,
    pub pledges: Vec<Option<Pledge>>,
    pub reported: Vec<Option<i64>>,
    /// Whether each team's decision was its LLM agent's fallback.
    pub fallbacks: Vec<bool>,
    /// Each team's latest announced intention (A2A, REP).
    pub intentions: Vec<Option<Decision>>,
    /// The plan each team announced by any channel (intention, pledge, a message saying
    /// "order X, deep Y, coast Z"), as its own observation shows it.
    pub announced: Vec<Option<Decision>>,
    /// Characters each team published (as the others read them).
    pub talk_chars: Vec<usize>,
    /// Fines imposed after this year, as `(from, to)` (sanctions).
    pub fines: Vec<(usize, usize)>,
    /// Ids of the messages and intentions each team was shown when it decided.
    pub shown: Vec<Vec<String>>,
    /// Each team's answer to the consensus probe, when one was asked, and whether its
    /// number was one the team had been shown.
    pub probes: Vec<Option<(ProbeAnswer, bool)>>,
    /// The team in office this year (`leader`).
    pub leader: Option<usize>,
    /// What the ship market did to each team this year (empty without a market).
    pub market: Vec<MarketTeam>,
}

/// Everything one run produced.
#[derive(Debug, Clone)]
pub struct GameRecord {
    pub years: Vec<(YearOutcome, YearExtras)>,
    pub events: Vec<Event>,
    pub status: RunStatus,
    /// Why the run failed or stopped early.
    pub error: Option<String>,
    /// Set when a provider went down during the run: the run is abandoned (never
    /// recorded) and played again on resume.
    pub outage: Option<String>,
    pub stats: AgentStats,
    /// Each team's own counts (their sum is `stats`), so a run can judge people's
    /// answers apart from models'.
    pub per_agent: Vec<AgentStats>,
    pub final_state: State,
}

impl GameRecord {
    /// A run that failed before its first year (e.g. an agent could not be built).
    pub fn failed(
        params: &GameParams,
        teams: usize,
        events: Vec<Event>,
        reason: String,
    ) -> GameRecord {
        GameRecord {
            years: Vec::new(),
            events,
            status: RunStatus::Failed,
            error: Some(reason),
            outage: None,
            stats: AgentStats::default(),
            per_agent: vec![AgentStats::default(); teams],
            final_state: State::initial(params, teams),
        }
    }
}

/// Asked before each year: `Some(reason)` stops the run there with status `budget` (the
/// sweep's LLM budget is spent; a year under way is always finished).
pub type StopCheck = dyn Fn() -> Option<String> + Send + Sync;

/// Told every year as soon as it is played (the facilitator's live view of the true sea
/// in `fishbanks play`). It observes; nothing it does reaches the game.
#[derive(Clone)]
pub struct YearWatch(pub std::sync::Arc<dyn Fn(&YearOutcome) + Send + Sync>);

impl std::fmt::Debug for YearWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("YearWatch")
    }
}

impl PartialEq for YearWatch {
    /// Watchers never change a game, so two setups differing only in them are equal.
    fn eq(&self, _: &YearWatch) -> bool {
        true
    }
}

/// What a game is played with besides its agents and protocol.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Setup {
    /// Told every year played.
    pub watch: Option<YearWatch>,
    /// Years to play (fewer when the game stops on collapse, an agent fails or the stop
    /// check says so).
    pub years: u32,
    /// The consensus probe every this many years (0: never).
    pub probe_every: u32,
    /// Asked of every team when the game is over, when a next generation follows.
    pub lesson: Option<LessonQuestion>,
    /// The previous generation's lessons, shown every year as `inherit` allows.
    pub inherited: Vec<Lesson>,
    pub inherit: Inherit,
    /// The ship market's stream (auction ties, the order buyers are served in): the
    /// replicate's, the same under every protocol.
    pub market_rng: Option<ChaCha8Rng>,
}

impl Setup {
    /// A game of `years` years and nothing else.
    pub fn years(years: u32) -> Setup {
        Setup {
            years,
            ..Setup::default()
        }
    }
}

/// How a run ends on an agent's error: `stopped` when the game was stopped, else
/// `failed` (an infrastructure error).
fn status_of(err: &AgentError) -> RunStatus {
    match err {
        AgentError::Stopped(_) => RunStatus::Stopped,
        _ => RunStatus::Failed,
    }
}

/// Play one run.
pub async fn play(
    params: &GameParams,
    setup: &Setup,
    mut agents: Vec<Box<dyn Agent>>,
    mut protocol: Box<dyn Protocol>,
    mut events: Vec<Event>,
    stop: &StopCheck,
) -> GameRecord {
    let (years, probe_every) = (setup.years, setup.probe_every);
    let mut market_rng = setup.market_rng.clone();
    let teams = agents.len();
    let mut state = State::initial(params, teams);
    let mut last: Option<YearOutcome> = None;
    let mut played = Vec::with_capacity(years as usize);
    let mut board_carry = Board::default();
    let mut status = RunStatus::Ok;
    let mut error = None;
    let mut outage = None;

    for year in 1..=years {
        if let Some(reason) = stop() {
            status = RunStatus::Budget;
            error = Some(reason);
            break;
        }
        let mut market_year = None;
        if !params.market.is_off() {
            let m = market::MarketSetup {
                params,
                state: &state,
                last: last.as_ref(),
                year,
                years,
            };
            let rng = market_rng.get_or_insert_with(|| rand::SeedableRng::seed_from_u64(0));
            match market::play_market(&m, &mut agents, rng, &mut events).await {
                Ok(played) => {
                    state = played.state.clone();
                    market_year = Some(played);
                }
                Err(err) => {
                    status = status_of(&err);
                    error = Some(err.to_string());
                    if let AgentError::Outage { .. } = err {
                        outage = Some(err.to_string());
                    }
                    break;
                }
            }
            drain_into(&mut events, year, &mut agents);
        }
        let base = (0..teams)
            .map(|t| observe(params, &state, last.as_ref(), t, year, years))
            .collect();
        let sea = Sea {
            stock: state.stock,
            capacity: [params.deep.max_stock, params.coast.max_stock],
            regeneration: last.as_ref().map(|o| o.regen),
            catch: last.as_ref().map(|o| o.catch[0] + o.catch[1]),
        };
        let mut ctx = YearContext::new(year, base, std::mem::take(&mut board_carry), sea);
        ctx.board.lessons = match setup.inherit {
            Inherit::None => Vec::new(),
            Inherit::Own | Inherit::All => setup.inherited.clone(),
        };
        ctx.own_lessons_only = setup.inherit == Inherit::Own;
        ctx.board.market = market_year.as_ref().map(|m| m.board.clone());
        let probe = probe_every > 0 && year.is_multiple_of(probe_every);
        let result = play_year(
            params,
            &state,
            &mut ctx,
            &mut agents,
            protocol.as_mut(),
            probe,
        )
        .await;
        events.append(&mut ctx.events);
        match result {
            Ok(YearPlayed {
                outcome,
                fallbacks,
                shown,
                probes,
                announced,
            }) => {
                let collapsed = outcome.collapsed_now;
                if let Some(watch) = &setup.watch {
                    (watch.0)(&outcome);
                }
                state = outcome.state.clone();
                board_carry = std::mem::take(&mut ctx.board);
                played.push((
                    outcome.clone(),
                    YearExtras {
                        quotas: ctx.quotas,
                        pledges: ctx.pledges,
                        reported: ctx.reported,
                        fallbacks,
                        intentions: ctx.intentions,
                        talk_chars: ctx.talk_chars,
                        fines: ctx.fines.iter().map(|f| (f.from, f.to)).collect(),
                        shown,
                        probes,
                        announced,
                        leader: ctx.leader,
                        market: market_year.map(|m| m.teams).unwrap_or_default(),
                    },
                ));
                last = Some(outcome);
                if collapsed && params.stop_on_collapse {
                    break;
                }
            }
            Err(err) => {
                status = status_of(&err);
                error = Some(err.to_string());
                if let AgentError::Outage { .. } = err {
                    outage = Some(err.to_string());
                }
                break;
            }
        }
    }

    if status == RunStatus::Ok {
        if let (Some(question), Some(outcome)) = (&setup.lesson, &last) {
            if let Err(err) =
                ask_lessons(params, years, outcome, question, &mut agents, &mut events).await
            {
                status = status_of(&err);
                error = Some(err.to_string());
                if let AgentError::Outage { .. } = err {
                    outage = Some(err.to_string());
                }
            }
        }
    }
    let per_agent: Vec<AgentStats> = agents.iter().map(|a| a.stats()).collect();
    let mut stats = AgentStats::default();
    for agent in &per_agent {
        stats.add(agent);
    }
    GameRecord {
        years: played,
        events,
        status,
        error,
        outage,
        stats,
        per_agent,
        final_state: state,
    }
}

/// What one year produced besides the protocol's context.
struct YearPlayed {
    outcome: YearOutcome,
    /// Which decisions were fallbacks.
    fallbacks: Vec<bool>,
    shown: Vec<Vec<String>>,
    probes: Vec<Option<(ProbeAnswer, bool)>>,
    announced: Vec<Option<Decision>>,
}

/// One year: the protocol's phases, the decisions, the probe when one is due, the engine
/// step, what the protocol publishes after it. Agent events are drained into the year's
/// events after every phase so the log reads in order.
async fn play_year(
    params: &GameParams,
    state: &State,
    ctx: &mut YearContext,
    agents: &mut [Box<dyn Agent>],
    protocol: &mut dyn Protocol,
    probe: bool,
) -> Result<YearPlayed, AgentError> {
    let year = ctx.year;
    let result = protocol.before_decision(ctx, agents).await;
    drain_agent_events(ctx, agents);
    result?;

    ctx.phase("decision");
    let observations = ctx.observations();
    let shown = ctx.board.shown_to_each(ctx.teams());
    let announced: Vec<Option<Decision>> = observations
        .iter()
        .enumerate()
        .map(|(t, o)| crate::agents::scripted::plan_of(o, t))
        .collect();
    let answers = ask_all(agents, &observations, &Request::decision()).await;
    drain_agent_events(ctx, agents);
    let mut decisions: Vec<Decision> = Vec::with_capacity(agents.len());
    let mut fallbacks = Vec::with_capacity(agents.len());
    for (team, answer) in answers?.into_iter().enumerate() {
        match answer.response {
            Response::Decision(d) => decisions.push(d),
            other => return Err(wrong_kind(team, year, RequestKind::Decision, &other)),
        }
        fallbacks.push(answer.fallback);
    }

    let probes = if probe {
        ask_probe(ctx, agents, &observations).await?
    } else {
        vec![None; ctx.teams()]
    };

    let binding: Vec<Option<i64>> = if ctx.quotas_binding {
        ctx.quotas.clone()
    } else {
        vec![None; ctx.teams()]
    };
    let outcome = engine::step_with(params, state, &decisions, &binding, &ctx.transfers);
    for (t, (requested, out)) in decisions.iter().zip(&outcome.teams).enumerate() {
        ctx.push(Event::Decision {
            year,
            team: t,
            requested: *requested,
            applied: out.applied,
            repaired: out.repaired,
        });
    }
    ctx.push(Event::Year {
        year,
        weather: outcome.weather,
        fleet: outcome.fleet,
        catch: outcome.catch,
        post_harvest: outcome.post_harvest,
        regen: outcome.regen,
        stock: outcome.stock,
        ship_value: outcome.ship_value,
        collapsed_now: outcome.collapsed_now,
    });

    let years_total = ctx.base.first().map_or(year, |o| o.public.years_total);
    let after: Vec<Observation> = (0..ctx.teams())
        .map(|t| {
            let mut obs = observe(params, &outcome.state, Some(&outcome), t, year, years_total);
            obs.board = ctx.board.clone();
            obs
        })
        .collect();
    let result = protocol.after_year(ctx, &outcome, &after, agents).await;
    drain_agent_events(ctx, agents);
    result?;
    Ok(YearPlayed {
        outcome,
        fallbacks,
        shown,
        probes,
        announced,
    })
}

/// The lesson every team leaves when the game is over (generations), asked on the state
/// after the last year played; recorded as events (and so in `messages.csv`).
async fn ask_lessons(
    params: &GameParams,
    years: u32,
    outcome: &YearOutcome,
    question: &LessonQuestion,
    agents: &mut [Box<dyn Agent>],
    events: &mut Vec<Event>,
) -> Result<(), AgentError> {
    let year = outcome.year;
    events.push(Event::Phase {
        year,
        phase: "lesson".into(),
    });
    let observations: Vec<Observation> = (0..agents.len())
        .map(|t| observe(params, &outcome.state, Some(outcome), t, year, years))
        .collect();
    let answers = ask_all(agents, &observations, &Request::Lesson(*question)).await;
    for (team, agent) in agents.iter_mut().enumerate() {
        for event in agent.drain_events() {
            events.push(Event::Agent { year, team, event });
        }
    }
    for (team, answer) in answers?.into_iter().enumerate() {
        let text = match answer.response {
            Response::Lesson(_) if answer.fallback => continue,
            Response::Lesson(text) => text,
            other => return Err(wrong_kind(team, year, RequestKind::Lesson, &other)),
        };
        let (text, truncated) = crate::protocol::cut(text, question.max_chars);
        events.push(Event::Lesson {
            year,
            team,
            text,
            truncated,
        });
    }
    Ok(())
}

/// The consensus probe: every team, on what it saw when it decided. A measurement only:
/// nothing is published and the game does not change. A fallback is no answer.
async fn ask_probe(
    ctx: &mut YearContext,
    agents: &mut [Box<dyn Agent>],
    observations: &[Observation],
) -> Result<Vec<Option<(ProbeAnswer, bool)>>, AgentError> {
    ctx.phase("probe");
    let answers = ask_all(agents, observations, &Request::Probe(ProbeQuestion)).await;
    drain_agent_events(ctx, agents);
    let mut out = Vec::with_capacity(observations.len());
    for (team, (answer, obs)) in answers?.into_iter().zip(observations).enumerate() {
        let probe = match answer.response {
            Response::Probe(_) if answer.fallback => None,
            Response::Probe(p) => Some(p),
            other => return Err(wrong_kind(team, ctx.year, RequestKind::Probe, &other)),
        };
        if let Some(p) = probe {
            let grounded = observe::numbers_shown(obs).contains(&p.tac);
            ctx.push(Event::Probe {
                year: ctx.year,
                team,
                tac: p.tac,
                set_by: p.set_by,
                grounded,
            });
            out.push(Some((p, grounded)));
        } else {
            out.push(None);
        }
    }
    Ok(out)
}

/// Agent events (LLM calls, repairs, fallbacks) of `year` into the run's log.
fn drain_into(events: &mut Vec<Event>, year: u32, agents: &mut [Box<dyn Agent>]) {
    for (team, agent) in agents.iter_mut().enumerate() {
        for event in agent.drain_events() {
            events.push(Event::Agent { year, team, event });
        }
    }
}

fn drain_agent_events(ctx: &mut YearContext, agents: &mut [Box<dyn Agent>]) {
    for (t, agent) in agents.iter_mut().enumerate() {
        for event in agent.drain_events() {
            ctx.events.push(Event::Agent {
                year: ctx.year,
                team: t,
                event,
            });
        }
    }
}
