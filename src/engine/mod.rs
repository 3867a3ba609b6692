//! The Fishbanks model (docs/DESIGN.md §3): state, parameters and one pure, synchronous
//! [`step`] per year.
//!
//! The engine knows nothing of agents, protocols or files. It is handed every team's
//! decision for a year at once (so the order in which agents answered never matters),
//! repairs invalid decisions, and returns the whole outcome of the year together with the
//! next state. It draws no random numbers.

mod params;

pub use params::{
    interpolate, meadows_ships, Area, AreaParams, CollapseRule, GameParams, MarketParams,
    OrderLimit,
};

use serde::{Deserialize, Serialize};

/// What a team asks for in one year. Signed, because an agent may ask for nonsense
/// (a negative order), which [`repair`] turns into something valid and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Decision {
    /// New ships to order (paid now, delivered next year).
    pub order: i64,
    /// Ships sent to the deep sea.
    pub deep: i64,
    /// Ships sent to the coast. The rest of the fleet stays in the harbor.
    pub coast: i64,
}

/// A decision the engine can apply: within the order limit and the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Applied {
    pub order: u32,
    pub deep: u32,
    pub coast: u32,
    pub harbor: u32,
}

/// One team's holdings between years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub ships: u32,
    pub bank: i64,
}

/// The world between years.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Years played so far (0 before the first year).
    pub year: u32,
    /// Fish in `[deep, coast]`.
    pub stock: [i64; 2],
    pub teams: Vec<Team>,
    /// Value of one ship ($), as set at the end of the last year played
    /// (`initial_ship_value` before year 1).
    pub ship_value: i64,
    /// First year whose post-harvest density fell below the collapse threshold.
    pub collapse_year: Option<u32>,
}

impl State {
    /// The state before year 1 with `teams` identical teams.
    pub fn initial(params: &GameParams, teams: usize) -> State {
        State {
            year: 0,
            stock: [params.deep.initial_stock, params.coast.initial_stock],
            teams: vec![
                Team {
                    ships: params.initial_ships,
                    bank: params.initial_bank,
                };
                teams
            ],
            ship_value: params.initial_ship_value,
            collapse_year: None,
        }
    }

    /// Density (stock / capacity) of an area.
    pub fn density(&self, params: &GameParams, area: Area) -> f64 {
        density(self.stock[area.index()], params.area(area).max_stock)
    }

    /// A team's assets (its score): bank plus ships at the current ship value.
    pub fn assets(&self, team: usize) -> i64 {
        let t = self.teams[team];
        t.bank + t.ships as i64 * self.ship_value
    }
}

/// The year-0 deployment used for the first observation: all ships but one in the deep
/// sea, one on the coast.
pub fn initial_deployment(ships: u32) -> Applied {
    let coast = ships.min(1);
    Applied {
        order: 0,
        deep: ships - coast,
        coast,
        harbor: 0,
    }
}

/// Ships and money that change hands before a year's decisions (the ship market):
/// `ships[t]` and `money[t]` are added to team `t`. Ships bought at auction enter the game
/// and the money paid for them leaves it; a trade moves ships and money between teams and
/// creates neither.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Exchange {
    pub ships: Vec<i64>,
    pub money: Vec<i64>,
}

/// The state after an exchange: ships arrive (or leave) at once, usable this year, and
/// money moves into (or out of) the banks before the year's accounts. A pure input like a
/// decision: the engine does not know why ships change hands. No fleet falls below zero.
pub fn exchange(state: &State, ex: &Exchange) -> State {
    let mut next = state.clone();
    for (t, team) in next.teams.iter_mut().enumerate() {
        let ships = team.ships as i64 + ex.ships.get(t).copied().unwrap_or(0);
        team.ships = ships.max(0) as u32;
        team.bank += ex.money.get(t).copied().unwrap_or(0);
    }
    next
}

/// What happened to one team in a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamOutcome {
    /// The decision as applied (after repair).
    pub applied: Applied,
    /// Whether repair changed the decision.
    pub repaired: bool,
    pub catch_deep: i64,
    pub catch_coast: i64,
    /// The quota that applied this year (binding only), if any.
    pub quota: Option<i64>,
    /// Whether the quota cut this team's catch.
    pub quota_binding: bool,
    /// Money moved into (+) or out of (−) the bank at the start of the year's accounts
    /// (fines and their costs under sanctions; 0 otherwise).
    pub transfer: i64,
    pub revenue: i64,
    pub costs: i64,
    pub interest: i64,
    /// End-of-year bank and ships (the order is delivered).
    pub bank: i64,
    pub ships: u32,
    pub assets: i64,
}

/// What happened to the world in a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearOutcome {
    /// The (1-based) year played.
    pub year: u32,
    pub weather: f64,
    /// Ships in `[deep, coast, harbor]`.
    pub fleet: [u32; 3],
    /// Catch per ship actually achieved in `[deep, coast]` (after weather and crowding).
    pub catch_per_ship: [f64; 2],
    /// Fish caught per area (after quotas).
    pub catch: [i64; 2],
    /// Stock after the harvest, before regeneration.
    pub post_harvest: [i64; 2],
    pub regen: [i64; 2],
    /// Stock at the end of the year (after regeneration).
    pub stock: [i64; 2],
    pub ship_value: i64,
    /// Whether the post-harvest stock was below the collapse threshold this year.
    pub collapsed_now: bool,
    pub teams: Vec<TeamOutcome>,
    /// Number of teams whose decision had to be repaired.
    pub invalid_decisions: u32,
    /// The state after this year.
    pub state: State,
}

/// Repair a decision for a team with `ships` ships (docs/DESIGN.md §3 step 1): negatives become 0,
/// an order above the limit becomes the limit, and a deployment larger than the fleet is
/// cut on the coast first, then in the deep sea. Returns the applied decision and whether
/// anything changed.
pub fn repair(params: &GameParams, ships: u32, decision: Decision) -> (Applied, bool) {
    let limit = params.order_limit(ships) as i64;
    let order = decision.order.clamp(0, limit);
    let mut deep = decision.deep.max(0);
    let mut coast = decision.coast.max(0);
    let ships_i = ships as i64;
    if deep + coast > ships_i {
        coast = (ships_i - deep).max(0);
        deep = deep.min(ships_i);
    }
    let applied = Applied {
        order: order as u32,
        deep: deep as u32,
        coast: coast as u32,
        harbor: (ships_i - deep - coast) as u32,
    };
    let repaired = order != decision.order || deep != decision.deep || coast != decision.coast;
    (applied, repaired)
}

/// `floor` to an integer. Plain `floor`, no tolerance for floating-point noise: the
/// reference fixtures were computed this way (see [`interpolate`]).
fn floor_i64(x: f64) -> i64 {
    x.floor() as i64
}

fn density(stock: i64, max: i64) -> f64 {
    if max <= 0 {
        0.0
    } else {
        stock as f64 / max as f64
    }
}

/// Interest on the year's minimum balance, rounded to the nearest $10.
pub fn interest(params: &GameParams, min_balance: i64) -> i64 {
    let rate = if min_balance >= 0 {
        params.credit_rate
    } else {
        params.debit_rate
    };
    floor_i64((rate * min_balance as f64 + 5.0) / 10.0) * 10
}

/// Play one year (docs/DESIGN.md §3 "One year"). `decisions` and `quotas` have one entry per team;
/// a quota is only passed here when a protocol makes it binding.
pub fn step(
    params: &GameParams,
    state: &State,
    decisions: &[Decision],
    quotas: &[Option<i64>],
) -> YearOutcome {
    step_with(params, state, decisions, quotas, &[])
}

/// [`step`] with money transfers: `transfers[t]` is added to team `t`'s bank before the
/// year's costs (step 6), so it counts towards the minimum balance its interest is paid
/// on. A pure input like the decisions: the engine does not know why money moves (fines
/// of the sanctions protocol). A missing entry is 0.
pub fn step_with(
    params: &GameParams,
    state: &State,
    decisions: &[Decision],
    quotas: &[Option<i64>],
    transfers: &[i64],
) -> YearOutcome {
    let year = state.year + 1;
    let n = state.teams.len();
    debug_assert_eq!(decisions.len(), n);

    // 1. Repair.
    let repaired: Vec<(Applied, bool)> = state
        .teams
        .iter()
        .zip(decisions)
        .map(|(team, &d)| repair(params, team.ships, d))
        .collect();
    let invalid_decisions = repaired.iter().filter(|(_, r)| *r).count() as u32;

    // 2–3. Fleets, catch per ship, weather, scaling when demand exceeds stock.
    let mut fleet = [0u32; 3];
    for (a, _) in &repaired {
        fleet[0] += a.deep;
        fleet[1] += a.coast;
        fleet[2] += a.harbor;
    }
    let weather = params.weather_of(year);
    // `q` stays separate from the weather: the catch is computed as `ships · q · w`, left
    // to right, as the reference fixtures were.
    let mut q_scaled = [0.0f64; 2];
    let mut per_ship = [0.0f64; 2];
    for area in Area::ALL {
        let i = area.index();
        let mut q = params.catch_per_ship(area, state.density(params, area));
        let demand = fleet[i] as f64 * q * weather;
        if demand > state.stock[i] as f64 {
            q *= state.stock[i] as f64 / demand;
        }
        q_scaled[i] = q;
        per_ship[i] = q * weather;
    }

    // 4–6. Catches, quotas, money.
    let mut catch = [0i64; 2];
    let mut teams_out = Vec::with_capacity(n);
    let mut next_teams = Vec::with_capacity(n);
    for (t, (applied, was_repaired)) in repaired.iter().enumerate() {
        let mut cd = floor_i64(applied.deep as f64 * q_scaled[0] * weather + 0.5);
        let mut cc = floor_i64(applied.coast as f64 * q_scaled[1] * weather + 0.5);
        let quota = quotas.get(t).copied().flatten();
        let mut quota_binding = false;
        if let Some(q) = quota {
            let q = q.max(0);
            let total = cd + cc;
            if total > q {
                let kept_deep = if total > 0 { cd * q / total } else { 0 };
                cc = q - kept_deep;
                cd = kept_deep;
                quota_binding = true;
            }
        }
        catch[0] += cd;
        catch[1] += cc;

        let team = state.teams[t];
        let transfer = transfers.get(t).copied().unwrap_or(0);
        let revenue = params.fish_price * (cd + cc);
        let costs = params.deep.cost * applied.deep as i64
            + params.coast.cost * applied.coast as i64
            + params.harbor_cost * applied.harbor as i64;
        let min_balance = team.bank + transfer - costs;
        let interest = interest(params, min_balance);
        let bank = min_balance + revenue + interest - params.ship_price * applied.order as i64;
        let ships = team.ships + applied.order;
        next_teams.push(Team { ships, bank });
        teams_out.push(TeamOutcome {
            applied: *applied,
            repaired: *was_repaired,
            catch_deep: cd,
            catch_coast: cc,
            quota,
            quota_binding,
            transfer,
            revenue,
            costs,
            interest,
            bank,
            ships,
            assets: 0, // set once the ship value is known
        });
    }

    // 7. Harvest, collapse check, regeneration on the post-harvest density.
    let mut post_harvest = [0i64; 2];
    let mut regen = [0i64; 2];
    let mut stock = [0i64; 2];
    for area in Area::ALL {
        let i = area.index();
        post_harvest[i] = (state.stock[i] - catch[i]).max(0);
        let d = density(post_harvest[i], params.area(area).max_stock);
        regen[i] = floor_i64(params.regeneration(area, d)).max(0);
        stock[i] = post_harvest[i] + regen[i];
    }
    let collapsed_now = is_collapsed(params, post_harvest);
    let collapse_year = state
        .collapse_year
        .or(if collapsed_now { Some(year) } else { None });

    // 8. Ship value and assets. Moved after every year, year 1 included: Meadows' decision
    // page calls `calcSalvageValue` after each `executeTurn`, so `initial_ship_value` holds
    // only before the first year.
    let ship_value = {
        let p = average_profit_per_ship(params, fleet, catch);
        let s = state.ship_value as f64;
        floor_i64(s + (p - s) / 2.0).max(0)
    };
    for out in &mut teams_out {
        out.assets = out.bank + out.ships as i64 * ship_value;
    }

    YearOutcome {
        year,
        weather,
        fleet,
        catch_per_ship: per_ship,
        catch,
        post_harvest,
        regen,
        stock,
        ship_value,
        collapsed_now,
        teams: teams_out,
        invalid_decisions,
        state: State {
            year,
            stock,
            teams: next_teams,
            ship_value,
            collapse_year,
        },
    }
}

/// Whether post-harvest stocks are below the collapse threshold under the configured rule.
pub fn is_collapsed(params: &GameParams, post_harvest: [i64; 2]) -> bool {
    let threshold = params.collapse_density;
    match params.collapse_rule {
        CollapseRule::AnyArea => Area::ALL
            .iter()
            .any(|&a| density(post_harvest[a.index()], params.area(a).max_stock) < threshold),
        CollapseRule::Total => {
            let max = params.deep.max_stock + params.coast.max_stock;
            density(post_harvest[0] + post_harvest[1], max) < threshold
        }
    }
}

/// Average profit per ship this year (docs/DESIGN.md §3 step 8): fishing profit of both areas
/// minus harbor costs, over all ships. An empty area contributes nothing.
fn average_profit_per_ship(params: &GameParams, fleet: [u32; 3], catch: [i64; 2]) -> f64 {
    let total_ships: u32 = fleet.iter().sum();
    if total_ships == 0 {
        return 0.0;
    }
    let mut profit = 0.0;
    for area in Area::ALL {
        let i = area.index();
        if fleet[i] > 0 {
            let f = fleet[i] as f64;
            // price · (catch / ships), in Meadows' order: `price · catch / ships` differs
            // in the last bit where the profit is whole, and the floor turns that into $1.
            let per_ship =
                params.fish_price as f64 * (catch[i] as f64 / f) - params.area(area).cost as f64;
            profit += per_ship * f;
        }
    }
    profit -= params.harbor_cost as f64 * fleet[2] as f64;
    profit / total_ships as f64
}

#[cfg(test)]
mod tests;
