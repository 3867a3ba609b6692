//! How each strategy decides: its order and deployment for the year, from what it sees
//! (the published densities, the board) and the game's parameters.

use super::{random_valid, read, ScriptedAgent, Strategy, RESTRAINT_SLACK};
use crate::engine::Area;
use crate::question::{Decision, Observation, Pledge};
use rand::Rng;

impl ScriptedAgent {
    pub(super) fn pledge_of(&self, year: u32) -> Option<Pledge> {
        self.pledged.filter(|(y, _)| *y == year).map(|(_, p)| p)
    }

    /// Densities the agent believes in: the published ones, or the most productive
    /// density when the stock is hidden.
    pub(super) fn densities(&self, obs: &Observation) -> [f64; 2] {
        obs.public.density.unwrap_or_else(|| {
            let d = self.params.msy_density();
            [d, d]
        })
    }

    /// Expected profit of one ship in an area this year, ignoring weather and crowding.
    pub(super) fn profit_per_ship(&self, obs: &Observation, area: Area) -> f64 {
        let d = self.densities(obs)[area.index()];
        self.params.fish_price as f64 * self.params.catch_per_ship(area, d)
            - self.params.area(area).cost as f64
    }

    pub(super) fn best_area(&self, obs: &Observation) -> (Area, f64) {
        let deep = self.profit_per_ship(obs, Area::Deep);
        let coast = self.profit_per_ship(obs, Area::Coast);
        if coast > deep {
            (Area::Coast, coast)
        } else {
            (Area::Deep, deep)
        }
    }

    /// This team's binding quota, if one is in force.
    pub(super) fn binding_quota(obs: &Observation) -> Option<i64> {
        obs.board
            .quota
            .as_ref()
            .filter(|q| q.binding)
            .and_then(|q| q.my_quota)
    }

    pub(super) fn greedy_decision(&self, obs: &Observation) -> Decision {
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
    pub(super) fn fixed_decision(&self, obs: &Observation) -> Decision {
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
    pub(super) fn sustainable_shares(&self, obs: &Observation) -> [i64; 2] {
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

    /// An equal share of both areas' sustainable fleets, in whole ships.
    pub(super) fn sustainable_fleet_share(&self, obs: &Observation) -> i64 {
        let teams = obs.public.teams.max(1) as f64;
        let target: f64 = Area::ALL
            .iter()
            .map(|&a| (self.params.sustainable_fleet(a) / teams).floor())
            .sum();
        target as i64
    }

    pub(super) fn sustainable_decision(&self, obs: &Observation) -> Decision {
        let ships = obs.own.ships as i64;
        let order =
            (self.sustainable_fleet_share(obs) - ships).clamp(0, obs.own.order_limit as i64);
        let [share_deep, share_coast] = self.sustainable_shares(obs);
        let deep = share_deep.min(ships);
        let coast = share_coast.min(ships - deep);
        Decision { order, deep, coast }
    }

    /// Ships needed to catch `quota` fish, the quota split between the areas in
    /// proportion to their sustainable yields (so that no area carries the whole TAC).
    pub(super) fn quota_decision(&self, obs: &Observation, quota: i64) -> Decision {
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

    pub(super) fn random_decision(&mut self, obs: &Observation) -> Decision {
        random_valid(&mut self.rng, obs)
    }

    /// The sustainable plan moved by up to a ship per area, at random: an independent
    /// agent's own variability, drawn from its own stream only.
    pub(super) fn independent_decision(&mut self, obs: &Observation) -> Decision {
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
    pub(super) fn restrained_per_team(&self, obs: &Observation) -> f64 {
        let teams = obs.public.teams.max(1) as f64;
        let sustainable: f64 = Area::ALL
            .iter()
            .map(|&a| self.params.sustainable_fleet(a))
            .sum();
        sustainable / teams * RESTRAINT_SLACK
    }

    /// Whether the other teams behaved last year: their fleet at sea within their share of
    /// the sustainable fleet (with 10% slack), and no pledge or advisory quota broken.
    pub(super) fn others_cooperate(&self, obs: &Observation) -> bool {
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
    pub(super) fn others_hold_back(&self, obs: &Observation) -> bool {
        if let Some(consensus) = obs.board.consensus {
            return (consensus.deep + consensus.coast) as f64 <= self.restrained_per_team(obs);
        }
        match read::announced_at_sea_per_team(&read::announced_plans(obs)) {
            Some(per_team) => per_team <= self.restrained_per_team(obs),
            None => self.others_cooperate(obs),
        }
    }

    /// Whether another team fined this one after last year.
    pub(super) fn was_fined(&self, obs: &Observation) -> bool {
        obs.board
            .sanctions_last_year
            .iter()
            .any(|f| f.to == obs.own.team)
    }

    /// The decision this strategy plays, before any tremble.
    pub(super) fn planned_decision(&mut self, obs: &Observation) -> Decision {
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
    pub(super) fn peek_plan(&mut self, obs: &Observation) -> Decision {
        let saved = self.rng.clone();
        let plan = self.planned_decision(obs);
        self.rng = saved;
        plan
    }

    /// What this strategy announces it will do: its plan, except for those whose talk is
    /// cheap (greedy and free riders announce a sustainable share).
    pub(super) fn announced(&mut self, obs: &Observation) -> Decision {
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
    pub(super) fn sustainable_tac(&self, obs: &Observation) -> i64 {
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
    pub(super) fn own_capacity(&self, obs: &Observation) -> i64 {
        let d = self.densities(obs);
        let (area, _) = self.best_area(obs);
        (obs.own.ships as f64 * self.params.catch_per_ship(area, d[area.index()])).round() as i64
    }

    pub(super) fn estimated_stock(&self, obs: &Observation) -> i64 {
        let d = self.densities(obs);
        Area::ALL
            .iter()
            .map(|&a| d[a.index()] * self.params.area(a).max_stock as f64)
            .sum::<f64>()
            .round() as i64
    }
}
