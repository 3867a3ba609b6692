//! Rating agents (docs/DESIGN.md §9b): `fishbanks rate` plays a frozen, versioned battery
//! of situations for each candidate agent (an LLM, a program over JSON, A2A or MCP, a
//! scripted strategy) and plays every game again, seed for seed, with a documented
//! reference player in the candidate's seat, so that each score is a paired difference:
//! what this agent changed, not an average over luck.
//!
//! No second engine: a rating is planned as the cells of an ordinary experiment (one
//! population per scenario and candidate, and the reference's), played by the same
//! runner (cache, replay, resume, shards, budgets, progress), and scored with the
//! analysis's statistics from the recorded files alone.
//!
//! - [`battery`]: the batteries, frozen and versioned in code (`fishbanks-1`).
//! - `file`: the rating file and the experiment it becomes.
//! - [`leaderboard`](mod@leaderboard): the games read back and paired, the scores and the composite.
//! - `render`: `rating.csv`, `rating.md`, `rating.html`, `plots/rating.svg`.

pub mod battery;
mod file;
pub mod leaderboard;
mod render;

pub use file::{is_rating, load, parse, RatingFile};
pub use leaderboard::{Leaderboard, LeaderboardError};

use crate::experiment::estimate::CellEstimate;
use crate::llm::Estimate;
use std::path::{Path, PathBuf};

/// What a leaderboard wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The candidates, best first.
    pub ranked: Vec<String>,
    /// The leaderboard table as Markdown (what `fishbanks rate` prints).
    pub table: String,
    pub files: Vec<PathBuf>,
}

/// Read the games of the ratings in `dirs` (results directories of `fishbanks rate`, or
/// merges of their shards), score them and write the leaderboard's files into `out`.
pub fn leaderboard(dirs: &[PathBuf], out: &Path) -> Result<Written, LeaderboardError> {
    let board = leaderboard::score(leaderboard::read(dirs)?);
    let files = render::write(&board, out)?;
    Ok(Written {
        table: render::summary_table(&board),
        ranked: board.ranked,
        files,
    })
}

/// A dry run's cell estimates summed per candidate (the reference player, scripted,
/// makes no call), in the rating's order.
pub fn per_candidate(cells: &[CellEstimate]) -> Vec<(String, u64, Estimate)> {
    let mut out: Vec<(String, u64, Estimate)> = Vec::new();
    for c in cells {
        let population = c.cell.split_once('/').map_or("", |(_, p)| p);
        let Some((_, who)) = battery::split_population(population) else {
            continue;
        };
        let i = match out.iter().position(|(n, _, _)| n == who) {
            Some(i) => i,
            None => {
                out.push((who.to_string(), 0, Estimate::default()));
                out.len() - 1
            }
        };
        out[i].1 += c.runs;
        out[i].2 = out[i].2 + c.estimate;
    }
    out
}
