//! How each strategy trades on the ship market: greedy players (and free riders) bid up
//! to a ship's expected profit this year and buy offers at or below it; cooperators never
//! bid and sell the ships they hold beyond their share of the sustainable fleet, at the
//! ship value; the others stay out.

use super::{ScriptedAgent, Strategy};
use crate::engine::Area;
use crate::question::{AcceptQuestion, BidQuestion, Observation, OfferQuestion};
use rand::Rng;

impl ScriptedAgent {
    /// What one more ship would earn this year where a ship earns most (0 when it
    /// would lose money), in whole dollars.
    fn ship_worth(&self, obs: &Observation) -> i64 {
        let best = Area::ALL
            .iter()
            .map(|&a| self.profit_per_ship(obs, a))
            .fold(f64::MIN, f64::max);
        best.max(0.0).floor() as i64
    }

    fn buys_ships(&self) -> bool {
        matches!(self.strategy, Strategy::Greedy | Strategy::FreeRider)
    }

    /// A bid: (ships, price per ship).
    pub(super) fn bid(&mut self, obs: &Observation, q: &BidQuestion) -> (u32, i64) {
        match self.strategy {
            _ if self.buys_ships() => {
                let worth = self.ship_worth(obs).min(q.max_price);
                if worth > 0 {
                    (q.ships, worth)
                } else {
                    (0, 0)
                }
            }
            Strategy::Random => {
                let ships = self.rng.random_range(0..=q.ships);
                (ships, self.rng.random_range(0..=q.max_price.min(1000)))
            }
            _ => (0, 0),
        }
    }

    /// An offer: (ships, price per ship).
    pub(super) fn offer(&mut self, obs: &Observation, q: &OfferQuestion) -> (u32, i64) {
        let sells = matches!(
            self.strategy,
            Strategy::Sustainable
                | Strategy::Conditional
                | Strategy::Reciprocal
                | Strategy::QuotaFollower
        );
        if !sells {
            return (0, 0);
        }
        let surplus = obs.own.ships as i64 - self.sustainable_fleet_share(obs);
        if surplus <= 0 {
            return (0, 0);
        }
        (surplus as u32, obs.public.ship_value.clamp(1, q.max_price))
    }

    /// The offers taken (by number): a buyer takes every other team's offer at or below
    /// what a ship earns it this year.
    pub(super) fn accept(&mut self, obs: &Observation, q: &AcceptQuestion) -> Vec<usize> {
        if !self.buys_ships() {
            return Vec::new();
        }
        let worth = self.ship_worth(obs);
        q.offers
            .iter()
            .filter(|o| o.team != obs.own.team && o.price <= worth)
            .map(|o| o.number)
            .collect()
    }
}
