//! How each strategy answers the questions around its decision: messages, proposals,
//! votes, pledges, reports, intentions with sensitivities, the probe and sanctions.

use super::{random_valid, ScriptedAgent, Strategy};
use crate::engine::Area;
use crate::question::{Decision, Intention, Observation, Pledge, ProbeAnswer, Sensitivities, Vote};
use rand::Rng;

impl ScriptedAgent {
    pub(super) fn message(&mut self, obs: &Observation, max_chars: usize) -> String {
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

    pub(super) fn propose(&mut self, obs: &Observation) -> i64 {
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

    pub(super) fn vote(&mut self, obs: &Observation, median: i64) -> Vote {
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

    pub(super) fn pledge(&mut self, obs: &Observation) -> Pledge {
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

    pub(super) fn decide(&mut self, obs: &Observation) -> Decision {
        let planned = self.planned_decision(obs);
        let tremble = self.tremble > 0.0 && self.trembles.random_bool(self.tremble.clamp(0.0, 1.0));
        if tremble {
            let played = random_valid(&mut self.trembles, obs);
            self.events.push(crate::record::AgentEvent::Tremble {
                agent: obs.own.team,
                year: obs.public.year,
                planned,
                played,
            });
            played
        } else {
            planned
        }
    }

    pub(super) fn report(&mut self, obs: &Observation, actual: i64) -> i64 {
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
    pub(super) fn sensitivities(&mut self, obs: &Observation, delta: f64) -> Sensitivities {
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

    pub(super) fn intention(
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
    pub(super) fn probe(&mut self, obs: &Observation) -> ProbeAnswer {
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
    pub(super) fn sanction(
        &mut self,
        obs: &Observation,
        cost: i64,
        max_targets: usize,
    ) -> Vec<usize> {
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
