//! Per-run metrics (`metrics.csv`): `runs.csv`'s outcome and what the analysis derives
//! from the other files of a run, and the outcomes and measures the report compares.

use super::load::RunExtras;
use crate::engine::Area;
use crate::record::{RunRow, RunStatus};
use serde::Serialize;

/// One row of `metrics.csv`: `runs.csv`'s outcome plus the derived metrics (docs/DESIGN.md §9).
#[derive(Debug, Clone, Serialize)]
pub struct RunMetrics {
    pub run_id: String,
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub seed: u64,
    pub status: RunStatus,
    pub collapsed: bool,
    pub survival_years: u32,
    /// The stock came back above the collapse threshold after falling below it.
    pub recovered: bool,
    /// Combined stock at the horizon.
    pub final_stock: i64,
    /// The smallest combined stock after a harvest, and its year.
    pub min_stock: Option<i64>,
    pub min_stock_year: Option<u32>,
    pub total_catch: i64,
    pub total_assets: i64,
    /// Revenue minus operating costs of all teams over the run.
    pub cumulative_profit: i64,
    pub gini_assets: f64,
    /// total catch / (years × combined maximum sustainable yield).
    pub efficiency: f64,
    /// 1 − Gini of final assets.
    pub equality_assets: f64,
    /// 1 − Gini of total catches.
    pub equality_catch: f64,
    /// Share of agent-years whose catch exceeds an equal share of the combined MSY.
    pub overuse_share: f64,
    /// Share of agent-years with a quota whose catch stayed within it (empty: no quota).
    pub quota_compliance: Option<f64>,
    /// Agent-years whose order or deployment exceeded the pledge.
    pub ledger_violations: u64,
    pub first_debt_year: Option<u32>,
    pub collapse_year_deep: Option<u32>,
    pub collapse_year_coast: Option<u32>,
    pub llm_answers: u64,
    pub llm_valid_first_try: u64,
    pub llm_fallbacks: u64,
    pub fallback_share: f64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// Tokens the agents published per agent and year (messages, intentions): the
    /// communication volume a token-matched control equalises.
    pub talk_tokens_per_agent_year: f64,
    /// A hash of the run's applied decisions: equal hashes mean identical games.
    pub decisions: String,
}

impl RunMetrics {
    pub fn new(row: &RunRow, extra: &RunExtras, combined_msy: f64) -> RunMetrics {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        RunMetrics {
            run_id: row.run_id.clone(),
            cell: row.cell.clone(),
            protocol: row.protocol.clone(),
            population: row.population.clone(),
            seed: row.seed,
            status: row.status,
            collapsed: row.collapsed,
            survival_years: row.survival_years,
            recovered: extra.recovered,
            final_stock: row.final_stock_deep + row.final_stock_coast,
            min_stock: extra.min_stock.map(|(s, _)| s),
            min_stock_year: extra.min_stock.map(|(_, y)| y),
            total_catch: row.total_catch,
            total_assets: row.total_assets,
            cumulative_profit: extra.cumulative_profit(),
            gini_assets: row.gini_assets,
            efficiency: if combined_msy > 0.0 && row.years > 0 {
                row.total_catch as f64 / (row.years as f64 * combined_msy)
            } else {
                0.0
            },
            equality_assets: 1.0 - row.gini_assets,
            equality_catch: 1.0 - row.gini_catch,
            overuse_share: ratio(extra.overuse_agent_years, extra.agent_years),
            quota_compliance: (extra.quota_agent_years > 0)
                .then(|| ratio(extra.quota_kept, extra.quota_agent_years)),
            ledger_violations: extra.ledger_violations,
            first_debt_year: extra.first_debt_year,
            collapse_year_deep: extra.collapse_year_deep,
            collapse_year_coast: extra.collapse_year_coast,
            llm_answers: row.llm_answers,
            llm_valid_first_try: row.llm_valid_first_try,
            llm_fallbacks: row.llm_fallbacks,
            fallback_share: row.fallback_share,
            tokens_in: row.tokens_in,
            tokens_cached: row.tokens_cached,
            tokens_out: row.tokens_out,
            cost_usd: row.cost_usd,
            talk_tokens_per_agent_year: ratio(row.talk_tokens, extra.agent_years),
            decisions: format!("{:016x}", extra.decisions),
        }
    }
}

/// The continuous outcomes summarised per cell and compared between protocols.
/// (`efficiency` is total catch rescaled, so it is in `metrics.csv` but not compared.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    FinalStock,
    MinStock,
    TotalCatch,
    CumulativeProfit,
    TotalAssets,
    GiniAssets,
    OveruseShare,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::FinalStock,
        Outcome::MinStock,
        Outcome::TotalCatch,
        Outcome::CumulativeProfit,
        Outcome::TotalAssets,
        Outcome::GiniAssets,
        Outcome::OveruseShare,
    ];

    /// The metric's name in `metrics.csv`, `comparison.csv` and `primary_outcome`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::FinalStock => "final_stock",
            Outcome::MinStock => "min_stock",
            Outcome::TotalCatch => "total_catch",
            Outcome::CumulativeProfit => "cumulative_profit",
            Outcome::TotalAssets => "total_assets",
            Outcome::GiniAssets => "gini_assets",
            Outcome::OveruseShare => "overuse_share",
        }
    }

    /// The outcome of one run.
    pub fn of(self, m: &RunMetrics) -> f64 {
        match self {
            Outcome::FinalStock => m.final_stock as f64,
            Outcome::MinStock => m.min_stock.unwrap_or(0) as f64,
            Outcome::TotalCatch => m.total_catch as f64,
            Outcome::CumulativeProfit => m.cumulative_profit as f64,
            Outcome::TotalAssets => m.total_assets as f64,
            Outcome::GiniAssets => m.gini_assets,
            Outcome::OveruseShare => m.overuse_share,
        }
    }
}

/// What a contrast against the reference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// Survival time: the restricted mean survival time to the horizon (ΔRMST).
    Rmst,
    /// The share of runs that never collapsed (difference of survival rates).
    Survival,
    Outcome(Outcome),
}

impl Measure {
    pub fn all() -> Vec<Measure> {
        let mut all = vec![Measure::Rmst, Measure::Survival];
        all.extend(Outcome::ALL.iter().map(|o| Measure::Outcome(*o)));
        all
    }

    pub fn name(self) -> &'static str {
        match self {
            Measure::Rmst => "rmst",
            Measure::Survival => "survival_rate",
            Measure::Outcome(o) => o.name(),
        }
    }

    /// The measure named by `primary_outcome`.
    pub fn parse(name: &str) -> Option<Measure> {
        Measure::all().into_iter().find(|m| m.name() == name)
    }
}

/// Combined maximum sustainable yield of both areas (fish per year).
pub fn combined_msy(params: &crate::engine::GameParams) -> f64 {
    params.msy(Area::Deep) + params.msy(Area::Coast)
}
