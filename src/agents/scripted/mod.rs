//! Scripted strategies (DESIGN §4): deterministic players, given their seed, that answer
//! every request type. They are the controls of an experiment and the stand-ins that let
//! the whole harness run without a model.
//!
//! They reason only from their observation and the published game parameters (tables,
//! prices), never from the engine state. Several read what the others announced (a
//! message saying "order X, deep Y, coast Z", a pledge, an intention, REP's consensus), so
//! that a protocol that publishes more can change what they do: protocol effects emerge
//! from the information, they are not written into the strategies.

mod read;

use super::{Agent, AgentError};
use crate::engine::{Area, GameParams};
use crate::question::{
    Answer, Decision, Intention, IntentionQuestion, MessageQuestion, Observation, Pledge,
    ProbeAnswer, Request, Response, SanctionQuestion, Sensitivities, Vote, VoteQuestion,
};
use async_trait::async_trait;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use read::{announced_plans, plan_in_message, plan_of};

/// The scripted strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Order the limit while ships are profitable; all ships to the most profitable area.
    /// Says what the others want to hear; complies with a binding quota (it fishes what
    /// the quota lets it, no more), even one it voted against.
    Greedy,
    /// Keep the initial fleet and deployment (order nothing; extra ships stay in port).
    Fixed,
    /// Aim at an equal share of the maximum sustainable fleet, fishing less when an area is
    /// below its most productive density.
    Sustainable,
    /// Uniformly random valid answers.
    Random,
    /// Sustainable while the others kept within the sustainable fleet last year (and kept
    /// their pledges and quotas), greedy otherwise.
    Reciprocal,
    /// Follows any quota or its own pledge; sustainable otherwise.
    QuotaFollower,
    /// A conditional cooperator: matches the restraint the others announce this year
    /// (messages, pledges, intentions, REP's consensus), or showed last year when nobody
    /// announced anything; follows a quota.
    Conditional,
    /// Exploits announced (or shown) restraint: greedy when the others hold back,
    /// sustainable when they do not or when it was fined last year; announces restraint
    /// itself; complies with a binding quota.
    FreeRider,
    /// Copies the plan its leader (`leader`, a team) announced this year; keeps its own
    /// last decision when the leader announced nothing. Influence known by construction.
    Imitator,
    /// Plays its own noisy sustainable policy and ignores the board entirely: no
    /// influence by construction.
    Independent,
}

impl Strategy {
    pub const ALL: [Strategy; 10] = [
        Strategy::Greedy,
        Strategy::Fixed,
        Strategy::Sustainable,
        Strategy::Random,
        Strategy::Reciprocal,
        Strategy::QuotaFollower,
        Strategy::Conditional,
        Strategy::FreeRider,
        Strategy::Imitator,
        Strategy::Independent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Greedy => "greedy",
            Strategy::Fixed => "fixed",
            Strategy::Sustainable => "sustainable",
            Strategy::Random => "random",
            Strategy::Reciprocal => "reciprocal",
            Strategy::QuotaFollower => "quota_follower",
            Strategy::Conditional => "conditional",
            Strategy::FreeRider => "free_rider",
            Strategy::Imitator => "imitator",
            Strategy::Independent => "independent",
        }
    }
}

/// Announced fleets at sea up to this factor of the sustainable share count as restraint.
const RESTRAINT_SLACK: f64 = 1.1;

/// A scripted player.
pub struct ScriptedAgent {
    strategy: Strategy,
    params: Arc<GameParams>,
    /// Draws of the strategy itself (random answers, an independent agent's noise).
    rng: ChaCha8Rng,
    /// Draws of the trembles only, on a stream of their own: one draw a year (and three
    /// more when it trembles) whatever the protocol asks, so that replicate k trembles in
    /// the same years, the same way, under every protocol.
    trembles: ChaCha8Rng,
    /// Probability of replacing a decision by a random valid one, so that replicates of a
    /// scripted population differ (0 = fully deterministic play).
    tremble: f64,
    /// The team an imitator copies (0-based).
    leader: Option<usize>,
    /// The last pledge and its year: a follower keeps it, a greedy reporter hides behind it.
    pledged: Option<(u32, Pledge)>,
}

impl ScriptedAgent {
    /// A player of `strategy`; `rng` is the team's stream (the trembles use a second
    /// stream of the same key).
    pub fn new(strategy: Strategy, params: Arc<GameParams>, rng: ChaCha8Rng, tremble: f64) -> Self {
        let mut trembles = rng.clone();
        trembles.set_stream(1);
        ScriptedAgent {
            strategy,
            params,
            rng,
            trembles,
            tremble,
            leader: None,
            pledged: None,
        }
    }

    /// The team an imitator copies.
    pub fn with_leader(mut self, leader: Option<usize>) -> Self {
        self.leader = leader;
        self
    }

    fn pledge_of(&self, year: u32) -> Option<Pledge> {
        self.pledged.filter(|(y, _)| *y == year).map(|(_, p)| p)
    }

    /// Densities the agent believes in: the published ones, or the most productive
    /// density when the stock is hidden.
    fn densities(&self, obs: &Observation) -> [f64; 2] {
        obs.public.density.unwrap_or_else(|| {
            let d = self.params.msy_density();
            [d, d]
        })
    }

    /// Expected profit of one ship in an area this year, ignoring weather and crowding.
    fn profit_per_ship(&self, obs: &Observation, area: Area) -> f64 {
        let d = self.densities(obs)[area.index()];
        self.params.fish_price as f64 * self.params.catch_per_ship(area, d)
            - self.params.area(area).cost as f64
    }

    fn best_area(&self, obs: &Observation) -> (Area, f64) {
        let deep = self.profit_per_ship(obs, Area::Deep);
        let coast = self.profit_per_ship(obs, Area::Coast);
        if coast > deep {
            (Area::Coast, coast)
        } else {
            (Area::Deep, deep)
        }
    }

    /// This team's binding quota, if one is in force.
    fn binding_quota(obs: &Observation) -> Option<i64> {
        obs.board
            .quota
            .as_ref()
            .filter(|q| q.binding)
            .and_then(|q| q.my_quota)
    }

    fn greedy_decision(&self, obs: &Observation) -> Decision {
        let ships = obs.own.ships as i64;
        let (area, profit) = self.best_area(obs);
        let per_ship = self
            .params
            .catch_per_ship(area, self.densities(obs)[area.index()]);
        // Under a binding quota greedy complies: it sends what can catch the quota and
        // orders no ship it could not use.
        let quota = Self::binding_quota(obs);
        let needed = quota.map(|q| {
            if per_ship <= 0.0 {
                0
            } else {
                (q.max(0) as f64 / per_ship).ceil() as i64
            }
        });
        let order = match needed {
            Some(n) if n <= ships => 0,
            _ if profit > 0.0 => obs.own.order_limit as i64,
            _ => 0,
        };
        // A ship at sea beats the harbor while its loss is smaller than the harbor cost.
        let mut at_sea = if profit > -(self.params.harbor_cost as f64) {
            ships
        } else {
            0
        };
        if let Some(n) = needed {
            at_sea = at_sea.min(n);
        }
        match area {
            Area::Deep => Decision {
                order,
                deep: at_sea,
                coast: 0,
            },
            Area::Coast => Decision {
                order,
                deep: 0,
                coast: at_sea,
            },
        }
    }

    /// The initial deployment (all initial ships but one in the deep sea, one on the
    /// coast), whatever the fleet has become; extra ships stay in the harbor.
    fn fixed_decision(&self, obs: &Observation) -> Decision {
        let ships = obs.own.ships as i64;
        let initial = crate::engine::initial_deployment(self.params.initial_ships);
        let deep = (initial.deep as i64).min(ships);
        let coast = (initial.coast as i64).min(ships - deep);
        Decision {
            order: 0,
            deep,
            coast,
        }
    }

    /// Equal share of the sustainable fleet of each area, scaled down when the area is
    /// below its most productive density so that it can recover.
    fn sustainable_shares(&self, obs: &Observation) -> [i64; 2] {
        let teams = obs.public.teams.max(1) as f64;
        let msy_d = self.params.msy_density();
        let densities = self.densities(obs);
        let mut shares = [0i64; 2];
        for area in Area::ALL {
            let recovery = if msy_d > 0.0 {
                (densities[area.index()] / msy_d).clamp(0.0, 1.0)
            } else {
                1.0
            };
            let share = self.params.sustainable_fleet(area) / teams * recovery * recovery;
            shares[area.index()] = share.floor() as i64;
        }
        shares
    }

    fn sustainable_decision(&self, obs: &Observation) -> Decision {
        let ships = obs.own.ships as i64;
        let teams = obs.public.teams.max(1) as f64;
        let target_fleet: f64 = Area::ALL
            .iter()
            .map(|&a| (self.params.sustainable_fleet(a) / teams).floor())
            .sum();
        let order = (target_fleet as i64 - ships).clamp(0, obs.own.order_limit as i64);
        let [share_deep, share_coast] = self.sustainable_shares(obs);
        let deep = share_deep.min(ships);
        let coast = share_coast.min(ships - deep);
        Decision { order, deep, coast }
    }

    /// Ships needed to catch `quota` fish, the quota split between the areas in
    /// proportion to their sustainable yields (so that no area carries the whole TAC).
    fn quota_decision(&self, obs: &Observation, quota: i64) -> Decision {
        let ships = obs.own.ships as i64;
        let densities = self.densities(obs);
        let msy_total: f64 = Area::ALL.iter().map(|&a| self.params.msy(a)).sum();
        let mut free = ships;
        let mut deployed = [0i64; 2];
        for area in Area::ALL {
            let share = if msy_total > 0.0 {
                self.params.msy(area) / msy_total
            } else {
                0.5
            };
            let per_ship = self.params.catch_per_ship(area, densities[area.index()]);
            if per_ship <= 0.0 {
                continue;
            }
            let n = ((quota.max(0) as f64 * share / per_ship).floor() as i64).min(free);
            deployed[area.index()] = n;
            free -= n;
        }
        Decision {
            order: 0,
            deep: deployed[0],
            coast: deployed[1],
        }
    }

    fn random_decision(&mut self, obs: &Observation) -> Decision {
        random_valid(&mut self.rng, obs)
    }

    /// The sustainable plan moved by up to a ship per area, at random: an independent
    /// agent's own variability, drawn from its own stream only.
    fn independent_decision(&mut self, obs: &Observation) -> Decision {
        let base = self.sustainable_decision(obs);
        let ships = obs.own.ships as i64;
        let deep = (base.deep + self.rng.random_range(-1..=1)).clamp(0, ships);
        let coast = (base.coast + self.rng.random_range(-1..=1)).clamp(0, ships - deep);
        let order =
            (base.order + self.rng.random_range(0..=1)).clamp(0, obs.own.order_limit as i64);
        Decision { order, deep, coast }
    }

    /// Ships the others may send to sea, on average per team, within their sustainable
    /// share (with some slack).
    fn restrained_per_team(&self, obs: &Observation) -> f64 {
        let teams = obs.public.teams.max(1) as f64;
        let sustainable: f64 = Area::ALL
            .iter()
            .map(|&a| self.params.sustainable_fleet(a))
            .sum();
        sustainable / teams * RESTRAINT_SLACK
    }

    /// Whether the other teams behaved last year: their fleet at sea within their share of
    /// the sustainable fleet (with 10% slack), and no pledge or advisory quota broken.
    fn others_cooperate(&self, obs: &Observation) -> bool {
        let teams = obs.public.teams.max(1) as f64;
        let own = obs.own.last_decision;
        let at_sea = (obs.public.fleet[0] + obs.public.fleet[1]) as f64;
        let others_at_sea = at_sea - (own.deep + own.coast) as f64;
        let fleet_ok = others_at_sea <= self.restrained_per_team(obs) * (teams - 1.0);
        let last_year = obs.public.year.saturating_sub(1);
        let me = obs.own.team;
        let ledger_ok = !obs
            .board
            .ledger
            .iter()
            .any(|e| e.year == last_year && e.team != me && e.violation);
        let quota_ok = obs
            .board
            .quota
            .as_ref()
            .is_none_or(|q| q.violations_last_year.iter().all(|v| v.team == me));
        fleet_ok && ledger_ok && quota_ok
    }

    /// Whether the others hold back: by what they announced this year when anybody did
    /// (REP's consensus first), else by what they did last year.
    fn others_hold_back(&self, obs: &Observation) -> bool {
        if let Some(consensus) = obs.board.consensus {
            return (consensus.deep + consensus.coast) as f64 <= self.restrained_per_team(obs);
        }
        match read::announced_at_sea_per_team(&announced_plans(obs)) {
            Some(per_team) => per_team <= self.restrained_per_team(obs),
            None => self.others_cooperate(obs),
        }
    }

    /// Whether another team fined this one after last year.
    fn was_fined(&self, obs: &Observation) -> bool {
        obs.board
            .sanctions_last_year
            .iter()
            .any(|f| f.to == obs.own.team)
    }

    /// The decision this strategy plays, before any tremble.
    fn planned_decision(&mut self, obs: &Observation) -> Decision {
        let my_quota = obs.board.quota.as_ref().and_then(|q| q.my_quota);
        match self.strategy {
            Strategy::Greedy => self.greedy_decision(obs),
            Strategy::Fixed => self.fixed_decision(obs),
            Strategy::Sustainable => self.sustainable_decision(obs),
            Strategy::Random => self.random_decision(obs),
            Strategy::Reciprocal => {
                if self.others_cooperate(obs) {
                    self.sustainable_decision(obs)
                } else {
                    self.greedy_decision(obs)
                }
            }
            Strategy::QuotaFollower => {
                if let Some(q) = my_quota {
                    self.quota_decision(obs, q)
                } else if let Some(p) = self.pledge_of(obs.public.year) {
                    p
                } else {
                    self.sustainable_decision(obs)
                }
            }
            Strategy::Conditional => match my_quota {
                Some(q) => self.quota_decision(obs, q),
                None if self.others_hold_back(obs) => self.sustainable_decision(obs),
                None => self.greedy_decision(obs),
            },
            Strategy::FreeRider => match Self::binding_quota(obs) {
                Some(_) => self.greedy_decision(obs),
                // Fined last year: deterred for a year.
                None if self.was_fined(obs) => self.sustainable_decision(obs),
                None if self.others_hold_back(obs) => self.greedy_decision(obs),
                None => self.sustainable_decision(obs),
            },
            Strategy::Imitator => {
                let copied = self.leader.and_then(|l| read::plan_of(obs, l));
                let plan = copied.unwrap_or(obs.own.last_decision);
                let ships = obs.own.ships as i64;
                let deep = plan.deep.clamp(0, ships);
                Decision {
                    order: plan.order.clamp(0, obs.own.order_limit as i64),
                    deep,
                    coast: plan.coast.clamp(0, ships - deep),
                }
            }
            Strategy::Independent => self.independent_decision(obs),
        }
    }

    /// The plan as another request would compute it, without consuming randomness the
    /// decision will need.
    fn peek_plan(&mut self, obs: &Observation) -> Decision {
        let saved = self.rng.clone();
        let plan = self.planned_decision(obs);
        self.rng = saved;
        plan
    }

    /// What this strategy announces it will do: its plan, except for those whose talk is
    /// cheap (greedy and free riders announce a sustainable share).
    fn announced(&mut self, obs: &Observation) -> Decision {
        match self.strategy {
            Strategy::Greedy | Strategy::FreeRider => self.sustainable_decision(obs),
            Strategy::QuotaFollower if self.pledge_of(obs.public.year).is_none() => {
                self.sustainable_decision(obs)
            }
            _ => self.peek_plan(obs),
        }
    }

    /// A TAC that harvests this year's regeneration plus half the stock above the most
    /// productive density: it drives both areas towards maximum sustainable yield.
    fn sustainable_tac(&self, obs: &Observation) -> i64 {
        let densities = self.densities(obs);
        let msy_d = self.params.msy_density();
        Area::ALL
            .iter()
            .map(|&a| {
                let d = densities[a.index()];
                let surplus = (d - msy_d).max(0.0) * self.params.area(a).max_stock as f64 / 2.0;
                self.params.regeneration(a, d) + surplus
            })
            .sum::<f64>()
            .floor() as i64
    }

    /// Fish the agent's current fleet would catch at sea this year.
    fn own_capacity(&self, obs: &Observation) -> i64 {
        let d = self.densities(obs);
        let (area, _) = self.best_area(obs);
        (obs.own.ships as f64 * self.params.catch_per_ship(area, d[area.index()])).round() as i64
    }

    fn estimated_stock(&self, obs: &Observation) -> i64 {
        let d = self.densities(obs);
        Area::ALL
            .iter()
            .map(|&a| d[a.index()] * self.params.area(a).max_stock as f64)
            .sum::<f64>()
            .round() as i64
    }

    fn message(&mut self, obs: &Observation, max_chars: usize) -> String {
        let me = obs.own.team + 1;
        let p = self.announced(obs);
        let plan = format!(
            "I plan order {}, deep {}, coast {}.",
            p.order, p.deep, p.coast
        );
        let text = match self.strategy {
            Strategy::Greedy | Strategy::FreeRider => {
                format!("Team {me}: {plan} I agree we should all keep our fleets small.")
            }
            Strategy::Fixed => format!("Team {me}: {plan} I keep my fleet as it is."),
            Strategy::Sustainable | Strategy::QuotaFollower | Strategy::Independent => {
                format!("Team {me}: {plan} That is my sustainable share.")
            }
            Strategy::Reciprocal | Strategy::Conditional => {
                format!("Team {me}: {plan} I fish sustainably as long as everyone else does.")
            }
            Strategy::Imitator => format!("Team {me}: {plan}"),
            Strategy::Random => {
                let options = [
                    "the fish look plentiful",
                    "we should be careful",
                    "I might buy more ships",
                    "no comment",
                ];
                let pick = self.rng.random_range(0..options.len());
                format!("Team {me}: {}.", options[pick])
            }
        };
        text.chars().take(max_chars).collect()
    }

    fn propose(&mut self, obs: &Observation) -> i64 {
        match self.strategy {
            Strategy::Greedy => self.estimated_stock(obs) / 2,
            Strategy::Fixed => self.own_capacity(obs) * obs.public.teams as i64,
            Strategy::Random => self.rng.random_range(0..=self.estimated_stock(obs).max(0)),
            Strategy::Reciprocal if !self.others_cooperate(obs) => self.estimated_stock(obs) / 2,
            Strategy::Sustainable
            | Strategy::Reciprocal
            | Strategy::QuotaFollower
            | Strategy::Conditional
            | Strategy::FreeRider
            | Strategy::Imitator
            | Strategy::Independent => self.sustainable_tac(obs),
        }
    }

    fn vote(&mut self, obs: &Observation, median: i64) -> Vote {
        let share = median / obs.public.teams.max(1) as i64;
        let (accept, reason) = match self.strategy {
            Strategy::Greedy | Strategy::Fixed | Strategy::FreeRider => {
                let capacity = self.own_capacity(obs);
                (
                    share >= capacity,
                    format!("my share {share} against the {capacity} fish my fleet can catch"),
                )
            }
            Strategy::Sustainable
            | Strategy::Reciprocal
            | Strategy::Conditional
            | Strategy::Independent => {
                let tac = self.sustainable_tac(obs);
                (
                    median as f64 <= tac as f64 * 1.2,
                    format!("the sustainable catch is about {tac}"),
                )
            }
            Strategy::QuotaFollower | Strategy::Imitator => {
                (true, "I follow any agreement".to_string())
            }
            Strategy::Random => (self.rng.random_bool(0.5), "a coin flip".to_string()),
        };
        Vote { accept, reason }
    }

    fn pledge(&mut self, obs: &Observation) -> Pledge {
        // Greedy and free riders pledge restraint they do not mean; a follower pledges a
        // sustainable share and then keeps it; the others pledge what they plan.
        let pledge = match self.strategy {
            Strategy::Greedy | Strategy::FreeRider | Strategy::QuotaFollower => {
                self.sustainable_decision(obs)
            }
            _ => self.peek_plan(obs),
        };
        self.pledged = Some((obs.public.year, pledge));
        pledge
    }

    fn decide(&mut self, obs: &Observation) -> Decision {
        let planned = self.planned_decision(obs);
        let tremble = self.tremble > 0.0 && self.trembles.random_bool(self.tremble.clamp(0.0, 1.0));
        if tremble {
            random_valid(&mut self.trembles, obs)
        } else {
            planned
        }
    }

    fn report(&mut self, obs: &Observation, actual: i64) -> i64 {
        let pledge = self.pledge_of(obs.public.year);
        match (self.strategy, obs.public.catch_per_ship, pledge) {
            // Greedy and free riders hide what they caught beyond their pledge.
            (Strategy::Greedy | Strategy::FreeRider, Some(cps), Some(p)) => {
                let pledged_catch = p.deep as f64 * cps[0] + p.coast as f64 * cps[1];
                actual.min(pledged_catch.round() as i64)
            }
            _ => actual,
        }
    }

    /// How the plan would change if an area's density were `delta` higher or lower:
    /// the policy re-evaluated on the perturbed observation, exactly.
    fn sensitivities(&mut self, obs: &Observation, delta: f64) -> Sensitivities {
        let base = self.peek_plan(obs);
        let mut shifted = |area: Area, by: f64| {
            let mut o = obs.clone();
            let mut d = self.densities(obs);
            d[area.index()] = (d[area.index()] + by).clamp(0.0, 1.0);
            o.public.density = Some(d);
            let p = self.peek_plan(&o);
            Decision {
                order: p.order - base.order,
                deep: p.deep - base.deep,
                coast: p.coast - base.coast,
            }
        };
        Sensitivities {
            deep_up: shifted(Area::Deep, delta),
            deep_down: shifted(Area::Deep, -delta),
            coast_up: shifted(Area::Coast, delta),
            coast_down: shifted(Area::Coast, -delta),
        }
    }

    fn intention(
        &mut self,
        obs: &Observation,
        reasoning_chars: usize,
        delta: Option<f64>,
    ) -> Intention {
        let plan = self.announced(obs);
        let [sd, sc] = self.sustainable_shares(obs);
        let reasoning = match self.strategy {
            Strategy::Greedy | Strategy::FreeRider => format!(
                "A sustainable share is {sd} deep and {sc} coast per team; I will keep to it."
            ),
            Strategy::Conditional => format!(
                "I match the group: {sd} deep and {sc} coast per team if the others hold back, more if they do not."
            ),
            Strategy::Imitator => "I follow my leader.".to_string(),
            _ => format!("My plan: order {}, deep {}, coast {}.", plan.order, plan.deep, plan.coast),
        };
        Intention {
            plan,
            reasoning: reasoning.chars().take(reasoning_chars).collect(),
            sensitivities: delta.map(|d| self.sensitivities(obs, d)),
        }
    }

    /// The consensus probe: the TAC in force (or put to the vote) when there is one, else
    /// the sustainable TAC; an imitator names its leader, the others nobody.
    fn probe(&mut self, obs: &Observation) -> ProbeAnswer {
        let quota = obs.board.quota.as_ref();
        let tac = quota
            .and_then(|q| q.tac.or(q.median))
            .unwrap_or_else(|| self.sustainable_tac(obs));
        let set_by = match (self.strategy, self.leader) {
            (Strategy::Imitator, Some(l)) => l as i64 + 1,
            _ => 0,
        };
        ProbeAnswer { tac, set_by }
    }

    /// The teams a cooperator fines: those that over-fished in the year just played (or
    /// broke a pledge or an advisory quota). Greedy players and free riders never pay to
    /// punish.
    fn sanction(&mut self, obs: &Observation, cost: i64, max_targets: usize) -> Vec<usize> {
        let punishes = matches!(
            self.strategy,
            Strategy::Reciprocal | Strategy::Conditional | Strategy::Sustainable
        );
        if !punishes || obs.own.bank < cost {
            return Vec::new();
        }
        let year = obs.public.year;
        let me = obs.own.team;
        let mut targets: Vec<usize> = obs
            .board
            .actions
            .iter()
            .chain(&obs.board.ledger)
            .filter(|e| e.year == year && e.violation && e.team != me)
            .map(|e| e.team)
            .chain(
                obs.board
                    .quota
                    .iter()
                    .flat_map(|q| q.violations_last_year.iter())
                    .filter(|v| v.year == year && v.team != me)
                    .map(|v| v.team),
            )
            .collect();
        targets.sort_unstable();
        targets.dedup();
        targets.truncate(max_targets);
        targets
    }
}

/// A uniformly random valid decision.
fn random_valid(rng: &mut ChaCha8Rng, obs: &Observation) -> Decision {
    let ships = obs.own.ships as i64;
    let order = rng.random_range(0..=obs.own.order_limit as i64);
    let deep = rng.random_range(0..=ships);
    let coast = rng.random_range(0..=ships - deep);
    Decision { order, deep, coast }
}

#[async_trait]
impl Agent for ScriptedAgent {
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError> {
        let response = match request {
            Request::Message(MessageQuestion { max_chars, .. }) => {
                Response::broadcast(self.message(obs, *max_chars))
            }
            Request::Proposal(_) => Response::Proposal(self.propose(obs)),
            Request::Vote(VoteQuestion { tac }) => Response::Vote(self.vote(obs, *tac)),
            Request::Pledge(_) => Response::Pledge(self.pledge(obs)),
            Request::Decision(_) => Response::Decision(self.decide(obs)),
            Request::Report(q) => Response::Report(self.report(obs, q.actual)),
            Request::Intention(IntentionQuestion {
                reasoning_chars,
                sensitivities,
                ..
            }) => Response::Intention(self.intention(obs, *reasoning_chars, *sensitivities)),
            Request::Sanction(SanctionQuestion {
                cost, max_targets, ..
            }) => Response::Sanction(self.sanction(obs, *cost, *max_targets)),
            Request::Probe(_) => Response::Probe(self.probe(obs)),
        };
        Ok(Answer::given(response))
    }
}

#[cfg(test)]
mod tests;
