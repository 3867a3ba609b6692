//! Coordination protocols (DESIGN §5) and the game loop that plays one run.
//!
//! A protocol is a sequence of phases before the engine step (talk, propose, vote,
//! pledge) plus what it publishes after the step (a ledger, quota violations). It decides
//! which requests agents are asked and what they see on the [`Board`]; it never computes
//! fish dynamics. A quota that a protocol makes binding reaches the engine through
//! [`YearContext::quotas`].

mod broadcast;
mod config;
mod ledger;
mod none;
mod quota;

pub use config::{
    Allocation, Enforcement, MessageOrder, OnReject, ProtocolConfig, QuotaConfig, Reporting,
};

use crate::agents::{
    Agent, AgentError, AgentStats, Board, Observation, OwnView, Pledge, PublicView,
};
use crate::engine::{self, initial_deployment, Area, Decision, GameParams, State, YearOutcome};
use crate::record::Event;
use async_trait::async_trait;
use futures::future::join_all;
use rand_chacha::ChaCha8Rng;
use std::future::Future;

/// Everything about the year being played that protocols read and write.
pub struct YearContext {
    /// The (1-based) year being played.
    pub year: u32,
    /// Per-team observations without the board (filled in by [`YearContext::observation`]).
    pub base: Vec<Observation>,
    /// What the protocol has published so far this year.
    pub board: Board,
    /// Each team's quota this year (published; binding or advisory).
    pub quotas: Vec<Option<i64>>,
    /// Whether `quotas` are enforced by the engine.
    pub quotas_binding: bool,
    /// This year's pledges, by team.
    pub pledges: Vec<Option<Pledge>>,
    /// Catch each team declared after the year (self-reported ledger).
    pub reported: Vec<Option<i64>>,
    /// Events of this year, in order.
    pub events: Vec<Event>,
}

impl YearContext {
    pub fn teams(&self) -> usize {
        self.base.len()
    }

    /// What team `t` sees now: its own view, the public facts and the board, with its own
    /// quota filled in.
    pub fn observation(&self, t: usize) -> Observation {
        let mut obs = self.base[t].clone();
        obs.board = self.board.clone();
        if let Some(q) = obs.board.quota.as_mut() {
            q.my_quota = self.quotas[t];
        }
        obs
    }

    /// Every team's observation, in team order.
    pub fn observations(&self) -> Vec<Observation> {
        (0..self.teams()).map(|t| self.observation(t)).collect()
    }
}

/// Ask every agent the same kind of question at once and collect the answers in agent
/// order, so the order in which answers arrive never matters.
pub async fn ask_all<'a, T, F, Fut>(
    agents: &'a mut [Box<dyn Agent>],
    observations: &'a [Observation],
    ask: F,
) -> Result<Vec<T>, AgentError>
where
    F: Fn(&'a mut Box<dyn Agent>, &'a Observation) -> Fut,
    Fut: Future<Output = Result<T, AgentError>> + 'a,
{
    let answers = join_all(agents.iter_mut().zip(observations).map(|(a, o)| ask(a, o))).await;
    answers.into_iter().collect()
}

/// A coordination protocol: phases around the engine step.
#[async_trait]
pub trait Protocol: Send {
    /// Phases before the decision. May publish on the board, set quotas and pledges.
    async fn before_decision(
        &mut self,
        year: &mut YearContext,
        agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError>;

    /// After the engine step: what the protocol publishes for the next year (nothing by
    /// default). `after` holds each team's observation after the year (for report
    /// requests).
    async fn after_year(
        &mut self,
        _year: &mut YearContext,
        _outcome: &YearOutcome,
        _after: &[Observation],
        _agents: &mut [Box<dyn Agent>],
    ) -> Result<(), AgentError> {
        Ok(())
    }
}

/// Build the protocol of a configuration. `rng` is the protocol's own stream (used for
/// sequential speaking orders).
pub fn build(config: &ProtocolConfig, rng: ChaCha8Rng) -> Box<dyn Protocol> {
    match config {
        ProtocolConfig::None => Box::new(none::NoProtocol),
        ProtocolConfig::Broadcast {
            rounds,
            order,
            max_message_chars,
        } => Box::new(broadcast::Broadcast::new(
            *rounds,
            *order,
            *max_message_chars,
            rng,
        )),
        ProtocolConfig::Quota(q) => Box::new(quota::QuotaProtocol::new(q.clone(), rng)),
        ProtocolConfig::Ledger { reporting, window } => {
            Box::new(ledger::Ledger::new(*reporting, *window))
        }
    }
}

/// Per-team extras of a year that the engine does not know (for `agents.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct YearExtras {
    pub quotas: Vec<Option<i64>>,
    pub pledges: Vec<Option<Pledge>>,
    pub reported: Vec<Option<i64>>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    Ok,
    Failed(String),
    BudgetExceeded(String),
}

/// Everything one run produced.
pub struct GameRecord {
    pub years: Vec<(YearOutcome, YearExtras)>,
    pub events: Vec<Event>,
    pub status: RunStatus,
    pub stats: AgentStats,
    pub final_state: State,
}

/// Asked before each year: `Some(reason)` stops the run there, as budget-exceeded (the
/// sweep's LLM budget is spent; a year under way is always finished).
pub type StopCheck = dyn Fn() -> Option<String> + Send + Sync;

/// Play one run: `years` years (fewer when the game stops on collapse, an agent fails or
/// `stop` says so).
pub async fn play(
    params: &GameParams,
    years: u32,
    mut agents: Vec<Box<dyn Agent>>,
    mut protocol: Box<dyn Protocol>,
    mut events: Vec<Event>,
    stop: &StopCheck,
) -> GameRecord {
    let teams = agents.len();
    let mut state = State::initial(params, teams);
    let mut last: Option<YearOutcome> = None;
    let mut played = Vec::with_capacity(years as usize);
    let mut board_carry = Board::default();
    let mut status = RunStatus::Ok;

    for year in 1..=years {
        if let Some(reason) = stop() {
            status = RunStatus::BudgetExceeded(reason);
            break;
        }
        let base = (0..teams)
            .map(|t| observe(params, &state, last.as_ref(), t, year, years))
            .collect();
        let mut ctx = YearContext {
            year,
            base,
            board: std::mem::take(&mut board_carry),
            quotas: vec![None; teams],
            quotas_binding: false,
            pledges: vec![None; teams],
            reported: vec![None; teams],
            events: Vec::new(),
        };
        match play_year(params, &state, &mut ctx, &mut agents, protocol.as_mut()).await {
            Ok(outcome) => {
                let collapsed = outcome.collapsed_now;
                state = outcome.state.clone();
                board_carry = std::mem::take(&mut ctx.board);
                events.append(&mut ctx.events);
                played.push((
                    outcome.clone(),
                    YearExtras {
                        quotas: ctx.quotas,
                        pledges: ctx.pledges,
                        reported: ctx.reported,
                    },
                ));
                last = Some(outcome);
                if collapsed && params.stop_on_collapse {
                    break;
                }
            }
            Err(err) => {
                events.append(&mut ctx.events);
                status = match err {
                    AgentError::Budget(reason) => RunStatus::BudgetExceeded(reason),
                    other => RunStatus::Failed(other.to_string()),
                };
                break;
            }
        }
    }

    let mut stats = AgentStats::default();
    for agent in &agents {
        stats.add(&agent.stats());
    }
    GameRecord {
        years: played,
        events,
        status,
        stats,
        final_state: state,
    }
}

async fn play_year(
    params: &GameParams,
    state: &State,
    ctx: &mut YearContext,
    agents: &mut [Box<dyn Agent>],
    protocol: &mut dyn Protocol,
) -> Result<YearOutcome, AgentError> {
    let year = ctx.year;
    let result = protocol.before_decision(ctx, agents).await;
    drain_agent_events(ctx, agents);
    result?;

    ctx.events.push(Event::Phase {
        year,
        phase: "decision".into(),
    });
    let observations = ctx.observations();
    let decisions = ask_all(agents, &observations, |a, o| a.decide(o)).await;
    drain_agent_events(ctx, agents);
    let decisions: Vec<Decision> = decisions?;

    let binding: Vec<Option<i64>> = if ctx.quotas_binding {
        ctx.quotas.clone()
    } else {
        vec![None; ctx.teams()]
    };
    let outcome = engine::step(params, state, &decisions, &binding);
    for (t, (requested, out)) in decisions.iter().zip(&outcome.teams).enumerate() {
        ctx.events.push(Event::Decision {
            year,
            team: t,
            requested: *requested,
            applied: out.applied,
            repaired: out.repaired,
        });
    }
    ctx.events.push(Event::Year {
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
    Ok(outcome)
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

/// Team `t`'s view of `state` before `year` (or, for report requests, after it).
pub fn observe(
    params: &GameParams,
    state: &State,
    last: Option<&YearOutcome>,
    t: usize,
    year: u32,
    years_total: u32,
) -> Observation {
    let team = state.teams[t];
    let (fleet, last_decision, last_catch, catch_per_ship) = match last {
        Some(o) => {
            let a = o.teams[t].applied;
            (
                o.fleet,
                Decision {
                    order: a.order as i64,
                    deep: a.deep as i64,
                    coast: a.coast as i64,
                },
                [o.teams[t].catch_deep, o.teams[t].catch_coast],
                Some(o.catch_per_ship),
            )
        }
        None => {
            let mut fleet = [0u32; 3];
            for tm in &state.teams {
                let d = initial_deployment(tm.ships);
                fleet[0] += d.deep;
                fleet[1] += d.coast;
                fleet[2] += d.harbor;
            }
            let d = initial_deployment(team.ships);
            (
                fleet,
                Decision {
                    order: 0,
                    deep: d.deep as i64,
                    coast: d.coast as i64,
                },
                [0, 0],
                None,
            )
        }
    };
    let density = params
        .reveal_stock
        .then(|| Area::ALL.map(|a| (state.density(params, a) * 100.0).round() / 100.0));
    Observation {
        own: OwnView {
            team: t,
            ships: team.ships,
            bank: team.bank,
            assets: state.assets(t),
            last_catch,
            last_decision,
            order_limit: params.order_limit(team.ships),
        },
        public: PublicView {
            year,
            years_total,
            years_left: years_total.saturating_sub(year) + 1,
            teams: state.teams.len(),
            fleet,
            catch_per_ship,
            density,
            ship_value: state.ship_value,
            fish_price: params.fish_price,
            ship_price: params.ship_price,
            costs: [params.deep.cost, params.coast.cost, params.harbor_cost],
        },
        board: Board::default(),
    }
}

#[cfg(test)]
mod tests;

impl RunStatus {
    /// The `status` column and the error text (if any).
    pub fn describe(&self) -> (&'static str, Option<String>) {
        match self {
            RunStatus::Ok => ("ok", None),
            RunStatus::Failed(e) => ("failed", Some(e.clone())),
            RunStatus::BudgetExceeded(e) => ("budget_exceeded", Some(e.clone())),
        }
    }
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
            status: RunStatus::Failed(reason),
            stats: AgentStats::default(),
            final_state: State::initial(params, teams),
        }
    }
}
