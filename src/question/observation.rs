//! The observation as the text every question opens with: the public facts, the board
//! and the team's own section.
//!
//! The text is labelled lines a model (and the mock model) can read. Teams are numbered
//! from 1, as people count. What every team sees this year comes first and the team's own
//! situation last, so that prompts of one phase share the longest possible prefix
//! (servers reuse a cached prefix: cheaper and faster). A label that another part reads
//! back is a constant of [`label`], never a literal written twice.

use std::fmt::Write as _;

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
        // Written into one buffer, line by line: every prompt of every call renders one.
        let mut s = String::with_capacity(2048);
        self.render_public(&mut s);
        s.push_str(&self.board.render());
        self.render_own(&mut s, memory);
        s
    }

    /// Whether the year about to be played is the first (there is no last year yet).
    pub fn first_year(&self) -> bool {
        self.public.catch_per_ship.is_none()
    }

    fn render_public(&self, out: &mut String) {
        let public = &self.public;
        // Writing into a `String` cannot fail.
        let _ = writeln!(out, "# This year");
        let _ = writeln!(
            out,
            "Year: {} of {} ({} years left including this one)",
            public.year, public.years_total, public.years_left
        );
        let _ = writeln!(
            out,
            "{} {} (team 1 to team {})",
            label::TEAMS,
            public.teams,
            public.teams
        );
        if self.first_year() {
            let _ = writeln!(
                out,
                "This is the first year: there is no previous year yet."
            );
            let _ = writeln!(
                out,
                "Fleet at the start (all teams): deep {}, coast {}, harbor {}",
                public.fleet[0], public.fleet[1], public.fleet[2]
            );
        } else {
            let _ = writeln!(
                out,
                "Fleet last year (all teams): deep {}, coast {}, harbor {}",
                public.fleet[0], public.fleet[1], public.fleet[2]
            );
        }
        if let Some([a, b]) = public.catch_per_ship {
            let _ = writeln!(out, "Catch per ship last year: deep {a:.1}, coast {b:.1}");
        }
        let _ = match public.density {
            Some([a, b]) => writeln!(
                out,
                "{}{a:.2}{}{b:.2}",
                label::DENSITY,
                label::DENSITY_COAST
            ),
            None => writeln!(out, "Density: not revealed"),
        };
        let _ = writeln!(out, "Ship value: ${}", public.ship_value);
        let _ = writeln!(
            out,
            "Prices: fish ${}, new ship ${}; operating cost per ship: deep ${}, coast ${}, harbor ${}",
            public.fish_price, public.ship_price, public.costs[0], public.costs[1], public.costs[2]
        );
    }

    fn render_own(&self, out: &mut String, memory: &[MemoryEntry]) {
        let own = &self.own;
        // Writing into a `String` cannot fail.
        let _ = writeln!(out, "# Your team");
        let _ = writeln!(out, "{} {}", label::YOUR_TEAM, own.team + 1);
        let _ = writeln!(out, "{} {}", label::YOUR_SHIPS, own.ships);
        let _ = writeln!(out, "Your bank: ${}", own.bank);
        let _ = writeln!(out, "Your assets: ${}", own.assets);
        let _ = writeln!(out, "{} {}", label::ORDER_LIMIT, own.order_limit);
        let d = own.last_decision;
        if self.first_year() {
            let _ = writeln!(
                out,
                "Your ships at the start: deep {}, coast {}",
                d.deep, d.coast
            );
        } else {
            let _ = writeln!(
                out,
                "Your decision last year: order {}, deep {}, coast {}",
                d.order, d.deep, d.coast
            );
            let _ = writeln!(
                out,
                "Your catch last year: deep {}, coast {}",
                own.last_catch[0], own.last_catch[1]
            );
        }
        if let Some(p) = &own.private {
            let _ = write!(
                out,
                "Known only to you, as the leader: fish in the sea: deep {} of {}, coast {} of {}",
                p.stock[0], p.capacity[0], p.stock[1], p.capacity[1]
            );
            if let Some([d, c]) = p.regeneration {
                let _ = write!(out, "; regeneration last year: deep {d}, coast {c}");
            }
            out.push('\n');
        }
        if let Some(q) = &self.board.quota {
            if let Some(mine) = q.my_quota {
                let how = if q.binding { "binding" } else { "advisory" };
                let _ = writeln!(out, "{} {mine} ({how})", label::YOUR_QUOTA);
            }
        }
        if let Some(left) = self.board.text_budget_left {
            let _ = writeln!(
                out,
                "Text you may still publish this year: {left} characters"
            );
        }
        if !memory.is_empty() {
            let _ = writeln!(out, "# Your recent years");
            for m in memory {
                let _ = write!(
                    out,
                    "Year {}: ordered {}, deep {}, coast {}; caught deep {}, coast {}; bank after ${}",
                    m.year, m.order, m.deep, m.coast, m.catch[0], m.catch[1], m.bank_after
                );
                if let Some([a, b]) = m.density_after {
                    let _ = write!(out, "; density after: deep {a:.2}, coast {b:.2}");
                }
                out.push('\n');
            }
        }
    }
}
