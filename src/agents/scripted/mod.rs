//! Scripted strategies (DESIGN §4): deterministic players, given their seed, that answer
//! every request type. They are the controls of an experiment and the stand-ins that let
//! the whole harness run without a model.
//!
//! They reason only from their observation and the published game parameters (tables,
//! prices), never from the engine state.

use super::{Agent, AgentError, Answer, Decision, Observation, Pledge, Request, Response, Vote};
use crate::engine::{Area, GameParams};
use async_trait::async_trait;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The six scripted strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Order the limit while ships are profitable; all ships to the most profitable area.
    Greedy,
    /// Keep the initial fleet and deployment (order nothing; extra ships stay in port).
    Fixed,
    /// Aim at an equal share of the maximum sustainable fleet, fishing less when an area is
    /// below its most productive density.
    Sustainable,
    /// Uniformly random valid answers.
    Random,
    /// Sustainable while the others keep within the sustainable fleet (and keep their
    /// pledges and quotas), greedy otherwise.
    Reciprocal,
    /// Follows any quota or its own pledge; sustainable otherwise.
    QuotaFollower,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Greedy => "greedy",
            Strategy::Fixed => "fixed",
            Strategy::Sustainable => "sustainable",
            Strategy::Random => "random",
            Strategy::Reciprocal => "reciprocal",
            Strategy::QuotaFollower => "quota_follower",
        }
    }
}

/// A scripted player.
pub struct ScriptedAgent {
    strategy: Strategy,
    params: Arc<GameParams>,
    rng: ChaCha8Rng,
    /// Probability of replacing a decision by a random valid one, so that replicates of a
    /// scripted population differ (0 = fully deterministic play).
    tremble: f64,
    /// The last pledge and its year: a follower keeps it, a greedy reporter hides behind it.
    pledged: Option<(u32, Pledge)>,
}

impl ScriptedAgent {
    pub fn new(strategy: Strategy, params: Arc<GameParams>, rng: ChaCha8Rng, tremble: f64) -> Self {
        ScriptedAgent {
            strategy,
            params,
            rng,
            tremble,
            pledged: None,
        }
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

    fn greedy_decision(&self, obs: &Observation) -> Decision {
        let ships = obs.own.ships as i64;
        let (area, profit) = self.best_area(obs);
        // More ships pay only while they are profitable and, under a binding quota, while
        // the fleet cannot yet catch the whole quota.
        let quota_filled = obs
            .board
            .quota
            .as_ref()
            .filter(|q| q.binding)
            .and_then(|q| q.my_quota)
            .is_some_and(|q| self.own_capacity(obs) >= q);
        let order = if profit > 0.0 && !quota_filled {
            obs.own.order_limit as i64
        } else {
            0
        };
        // A ship at sea beats the harbor while its loss is smaller than the harbor cost.
        let at_sea = if profit > -(self.params.harbor_cost as f64) {
            ships
        } else {
            0
        };
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
        let ships = obs.own.ships as i64;
        let order = self.rng.random_range(0..=obs.own.order_limit as i64);
        let deep = self.rng.random_range(0..=ships);
        let coast = self.rng.random_range(0..=ships - deep);
        Decision { order, deep, coast }
    }

    /// Whether the other teams behaved last year: their fleet at sea within their share of
    /// the sustainable fleet (with 10% slack), and no pledge or advisory quota broken.
    fn others_cooperate(&self, obs: &Observation) -> bool {
        let teams = obs.public.teams.max(1) as f64;
        let own = obs.own.last_decision;
        let at_sea = (obs.public.fleet[0] + obs.public.fleet[1]) as f64;
        let others_at_sea = at_sea - (own.deep + own.coast) as f64;
        let sustainable: f64 = Area::ALL
            .iter()
            .map(|&a| self.params.sustainable_fleet(a))
            .sum();
        let fleet_ok = others_at_sea <= sustainable * (teams - 1.0) / teams * 1.1;
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

    /// The decision this strategy plays, before any tremble.
    fn planned_decision(&mut self, obs: &Observation) -> Decision {
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
                if let Some(q) = obs.board.quota.as_ref().and_then(|q| q.my_quota) {
                    self.quota_decision(obs, q)
                } else if let Some(p) = self.pledge_of(obs.public.year) {
                    Decision {
                        order: p.order,
                        deep: p.deep,
                        coast: p.coast,
                    }
                } else {
                    self.sustainable_decision(obs)
                }
            }
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
}

impl ScriptedAgent {
    fn message(&mut self, obs: &Observation, _round: u32) -> String {
        let me = obs.own.team;
        let shares = self.sustainable_shares(obs);
        match self.strategy {
            // Cheap talk: the greedy player says what the others want to hear.
            Strategy::Greedy => {
                format!("Team {me}: I agree we should all keep our fleets small this year.")
            }
            Strategy::Fixed => format!("Team {me}: I keep my fleet and deployment as they are."),
            Strategy::Sustainable | Strategy::QuotaFollower => format!(
                "Team {me}: a sustainable share is {} ships in the deep sea and {} on the coast per team; I will stay within it.",
                shares[0], shares[1]
            ),
            Strategy::Reciprocal => format!(
                "Team {me}: I fish sustainably ({} deep, {} coast) as long as everyone else does.",
                shares[0], shares[1]
            ),
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
        }
    }

    fn propose(&mut self, obs: &Observation) -> i64 {
        match self.strategy {
            Strategy::Greedy => self.estimated_stock(obs) / 2,
            Strategy::Fixed => self.own_capacity(obs) * obs.public.teams as i64,
            Strategy::Random => self.rng.random_range(0..=self.estimated_stock(obs).max(0)),
            Strategy::Reciprocal if !self.others_cooperate(obs) => self.estimated_stock(obs) / 2,
            Strategy::Sustainable | Strategy::Reciprocal | Strategy::QuotaFollower => {
                self.sustainable_tac(obs)
            }
        }
    }

    fn vote(&mut self, obs: &Observation, median: i64) -> Vote {
        let share = median / obs.public.teams.max(1) as i64;
        let (accept, reason) = match self.strategy {
            Strategy::Greedy | Strategy::Fixed => {
                let capacity = self.own_capacity(obs);
                (
                    share >= capacity,
                    format!("my share {share} against the {capacity} fish my fleet can catch"),
                )
            }
            Strategy::Sustainable | Strategy::Reciprocal => {
                let tac = self.sustainable_tac(obs);
                (
                    median as f64 <= tac as f64 * 1.2,
                    format!("the sustainable catch is about {tac}"),
                )
            }
            Strategy::QuotaFollower => (true, "I follow any agreement".to_string()),
            Strategy::Random => (self.rng.random_bool(0.5), "a coin flip".to_string()),
        };
        Vote { accept, reason }
    }

    fn pledge(&mut self, obs: &Observation) -> Pledge {
        // Greedy pledges restraint it does not mean; the others pledge what they plan.
        let planned = match self.strategy {
            Strategy::Greedy => self.sustainable_decision(obs),
            Strategy::QuotaFollower => self.sustainable_decision(obs),
            _ => {
                let saved = self.rng.clone();
                let d = self.planned_decision(obs);
                // Planning must not consume randomness the decision will need.
                self.rng = saved;
                d
            }
        };
        self.pledged = Some((obs.public.year, planned));
        planned
    }

    fn decide(&mut self, obs: &Observation) -> Decision {
        let planned = self.planned_decision(obs);
        let tremble = self.tremble > 0.0 && self.rng.random_bool(self.tremble.clamp(0.0, 1.0));
        if tremble {
            self.random_decision(obs)
        } else {
            planned
        }
    }

    fn report(&mut self, obs: &Observation, actual: i64) -> i64 {
        let pledge = self.pledge_of(obs.public.year);
        match (self.strategy, obs.public.catch_per_ship, pledge) {
            // Greedy hides what it caught beyond its pledge.
            (Strategy::Greedy, Some(cps), Some(p)) => {
                let pledged_catch = p.deep as f64 * cps[0] + p.coast as f64 * cps[1];
                actual.min(pledged_catch.round() as i64)
            }
            _ => actual,
        }
    }
}

#[async_trait]
impl Agent for ScriptedAgent {
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError> {
        let response = match request {
            Request::Message { round, .. } => Response::Message(self.message(obs, *round)),
            Request::Proposal => Response::Proposal(self.propose(obs)),
            Request::Vote { tac } => Response::Vote(self.vote(obs, *tac)),
            Request::Pledge => Response::Pledge(self.pledge(obs)),
            Request::Decision => Response::Decision(self.decide(obs)),
            Request::Report { actual } => Response::Report(self.report(obs, *actual)),
        };
        Ok(Answer::given(response))
    }
}

#[cfg(test)]
mod tests;
