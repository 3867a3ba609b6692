//! The observation as the text every question opens with: the public facts, the board
//! and the team's own section.
//!
//! The text is labelled lines a model (and the mock model) can read. Teams are numbered
//! from 1, as people count. What every team sees this year comes first and the team's own
//! situation last, so that prompts of one phase share the longest possible prefix
//! (servers reuse a cached prefix: cheaper and faster). A label that another part reads
//! back is a constant of [`label`], never a literal written twice.

use super::quote::lines;
use super::{Board, Observation, OwnView, PublicView};
use crate::engine::{Decision, GameParams};

/// Labels of the lines of an observation that other parts (the mock model) read back.
pub mod label {
    pub const TEAMS: &str = "Teams:";
    pub const DENSITY: &str = "Density: deep ";
    pub const DENSITY_COAST: &str = ", coast ";
    pub const YOUR_TEAM: &str = "Your team:";
    pub const YOUR_SHIPS: &str = "Your ships:";
    pub const ORDER_LIMIT: &str = "Most ships you may order this year:";
    pub const YOUR_QUOTA: &str = "Your quota:";
}

/// One remembered year of an agent's own history (LLM agents keep a few).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MemoryEntry {
    pub year: u32,
    pub order: i64,
    pub deep: i64,
    pub coast: i64,
    pub catch: [i64; 2],
    pub bank_after: i64,
    pub density_after: Option<[f64; 2]>,
}

impl Observation {
    /// A plausible observation of team 1 in the middle of a game of `teams` teams and
    /// `years` years, before `year`: what the dry-run estimate and `doctor` render to
    /// size prompts, and what tests ask questions about.
    pub fn sample(params: &GameParams, teams: usize, years: u32, year: u32) -> Observation {
        let ships = params.initial_ships;
        Observation {
            own: OwnView {
                team: 0,
                ships,
                bank: params.initial_bank,
                assets: params.initial_bank + ships as i64 * params.initial_ship_value,
                last_catch: [100, 15],
                last_decision: Decision {
                    order: 2,
                    deep: ships as i64 - 1,
                    coast: 1,
                },
                order_limit: params.order_limit(ships),
                private: None,
            },
            public: PublicView {
                year,
                years_total: years,
                years_left: years.saturating_sub(year) + 1,
                teams,
                fleet: [teams as u32 * (ships - 1), teams as u32, 0],
                catch_per_ship: Some([24.5, 14.5]),
                density: Some([0.83, 0.8]),
                ship_value: params.initial_ship_value,
                fish_price: params.fish_price,
                ship_price: params.ship_price,
                costs: [params.deep.cost, params.coast.cost, params.harbor_cost],
            },
            board: Board::default(),
        }
    }

    /// The observation as text: the public facts, the board, then the team's own section
    /// with its remembered years.
    pub fn render(&self, memory: &[MemoryEntry]) -> String {
        let mut s = self.render_public();
        s.push_str(&self.board.render());
        s.push_str(&self.render_own(memory));
        s
    }

    /// Whether the year about to be played is the first (there is no last year yet).
    pub fn first_year(&self) -> bool {
        self.public.catch_per_ship.is_none()
    }

    fn render_public(&self) -> String {
        let public = &self.public;
        let mut l = vec![
            "# This year".to_string(),
            format!(
                "Year: {} of {} ({} years left including this one)",
                public.year, public.years_total, public.years_left
            ),
            format!(
                "{} {} (team 1 to team {})",
                label::TEAMS,
                public.teams,
                public.teams
            ),
        ];
        if self.first_year() {
            l.push("This is the first year: there is no previous year yet.".into());
            l.push(format!(
                "Fleet at the start (all teams): deep {}, coast {}, harbor {}",
                public.fleet[0], public.fleet[1], public.fleet[2]
            ));
        } else {
            l.push(format!(
                "Fleet last year (all teams): deep {}, coast {}, harbor {}",
                public.fleet[0], public.fleet[1], public.fleet[2]
            ));
        }
        if let Some([a, b]) = public.catch_per_ship {
            l.push(format!(
                "Catch per ship last year: deep {a:.1}, coast {b:.1}"
            ));
        }
        l.push(match public.density {
            Some([a, b]) => format!("{}{a:.2}{}{b:.2}", label::DENSITY, label::DENSITY_COAST),
            None => "Density: not revealed".into(),
        });
        l.push(format!("Ship value: ${}", public.ship_value));
        l.push(format!(
            "Prices: fish ${}, new ship ${}; operating cost per ship: deep ${}, coast ${}, harbor ${}",
            public.fish_price, public.ship_price, public.costs[0], public.costs[1], public.costs[2]
        ));
        lines(l)
    }

    fn render_own(&self, memory: &[MemoryEntry]) -> String {
        let own = &self.own;
        let mut l = vec![
            "# Your team".to_string(),
            format!("{} {}", label::YOUR_TEAM, own.team + 1),
            format!("{} {}", label::YOUR_SHIPS, own.ships),
            format!("Your bank: ${}", own.bank),
            format!("Your assets: ${}", own.assets),
            format!("{} {}", label::ORDER_LIMIT, own.order_limit),
        ];
        let d = own.last_decision;
        if self.first_year() {
            l.push(format!(
                "Your ships at the start: deep {}, coast {}",
                d.deep, d.coast
            ));
        } else {
            l.push(format!(
                "Your decision last year: order {}, deep {}, coast {}",
                d.order, d.deep, d.coast
            ));
            l.push(format!(
                "Your catch last year: deep {}, coast {}",
                own.last_catch[0], own.last_catch[1]
            ));
        }
        if let Some(p) = &own.private {
            let regen = p
                .regeneration
                .map(|[d, c]| format!("; regeneration last year: deep {d}, coast {c}"))
                .unwrap_or_default();
            l.push(format!(
                "Known only to you, as the leader: fish in the sea: deep {} of {}, coast {} of {}{regen}",
                p.stock[0], p.capacity[0], p.stock[1], p.capacity[1]
            ));
        }
        if let Some(q) = &self.board.quota {
            if let Some(mine) = q.my_quota {
                let how = if q.binding { "binding" } else { "advisory" };
                l.push(format!("{} {mine} ({how})", label::YOUR_QUOTA));
            }
        }
        if let Some(left) = self.board.text_budget_left {
            l.push(format!(
                "Text you may still publish this year: {left} characters"
            ));
        }
        if !memory.is_empty() {
            l.push("# Your recent years".into());
            for m in memory {
                let dens = m
                    .density_after
                    .map(|[a, b]| format!("; density after: deep {a:.2}, coast {b:.2}"))
                    .unwrap_or_default();
                l.push(format!(
                    "Year {}: ordered {}, deep {}, coast {}; caught deep {}, coast {}; bank after ${}{}",
                    m.year, m.order, m.deep, m.coast, m.catch[0], m.catch[1], m.bank_after, dens
                ));
            }
        }
        lines(l)
    }
}
