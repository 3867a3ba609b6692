//! Per-run metrics and per-cell statistics: the numbers of the report.

use super::load::{Loaded, RunExtras};
use super::stats::{self, KmStep, Test};
use crate::engine::Area;
use crate::record::{RunRow, RunStatus};
use serde::Serialize;
use std::collections::BTreeMap;

/// One row of `metrics.csv`: `runs.csv`'s outcome plus the derived metrics (DESIGN §9).
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
    pub final_stock: i64,
    pub total_catch: i64,
    pub total_assets: i64,
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
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
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
            final_stock: row.final_stock_deep + row.final_stock_coast,
            total_catch: row.total_catch,
            total_assets: row.total_assets,
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
            tokens_in: row.tokens_in,
            tokens_out: row.tokens_out,
            cost_usd: row.cost_usd,
        }
    }
}

/// The numeric outcomes summarised per cell and compared between protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    FinalStock,
    TotalCatch,
    TotalAssets,
    GiniAssets,
    Efficiency,
    OveruseShare,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::FinalStock,
        Outcome::TotalCatch,
        Outcome::TotalAssets,
        Outcome::GiniAssets,
        Outcome::Efficiency,
        Outcome::OveruseShare,
    ];

    /// The metric's name in `metrics.csv` and `comparison.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::FinalStock => "final_stock",
            Outcome::TotalCatch => "total_catch",
            Outcome::TotalAssets => "total_assets",
            Outcome::GiniAssets => "gini_assets",
            Outcome::Efficiency => "efficiency",
            Outcome::OveruseShare => "overuse_share",
        }
    }

    /// The outcome of one run.
    pub fn of(self, m: &RunMetrics) -> f64 {
        match self {
            Outcome::FinalStock => m.final_stock as f64,
            Outcome::TotalCatch => m.total_catch as f64,
            Outcome::TotalAssets => m.total_assets as f64,
            Outcome::GiniAssets => m.gini_assets,
            Outcome::Efficiency => m.efficiency,
            Outcome::OveruseShare => m.overuse_share,
        }
    }
}

/// Mean and bootstrap interval of one outcome in one cell.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    pub mean: f64,
    pub ci: Option<(f64, f64)>,
}

/// Everything the report says about one cell.
#[derive(Debug, Clone)]
pub struct CellStats {
    pub cell: String,
    pub protocol: String,
    pub population: String,
    /// Runs recorded, of which ok, failed, budget-stopped.
    pub runs: usize,
    pub ok: usize,
    pub failed: usize,
    pub budget_exceeded: usize,
    pub survival_rate: f64,
    pub survival_ci: Option<(f64, f64)>,
    pub km: Vec<KmStep>,
    pub median_survival: Option<f64>,
    pub rmst: f64,
    /// Against the reference protocol with the same population.
    pub logrank: Option<Test>,
    pub fisher_p: Option<f64>,
    pub outcomes: BTreeMap<Outcome, Estimate>,
    pub quota_compliance: Option<f64>,
    pub ledger_violations: f64,
    pub tokens: u64,
    pub cost_usd: f64,
}

/// A Mann–Whitney comparison of two protocols on one outcome, within a population.
#[derive(Debug, Clone)]
pub struct PairTest {
    pub outcome: Outcome,
    pub population: String,
    pub a: String,
    pub b: String,
    pub test: Test,
    pub p_holm: f64,
    pub cliffs_delta: f64,
}

/// The report's numbers.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub reference: String,
    pub horizon: u32,
    pub cells: Vec<CellStats>,
    pub pairs: Vec<PairTest>,
}

fn survival_data(runs: &[&RunMetrics]) -> Vec<(f64, bool)> {
    runs.iter()
        .map(|m| (m.survival_years as f64, m.collapsed))
        .collect()
}

/// Seed of a bootstrap: a stable hash of what it is about, so reports are reproducible.
fn seed_of(cell: &str, outcome: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in cell.bytes().chain([0]).chain(outcome.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Number of bootstrap resamples.
pub const RESAMPLES: usize = 2000;

/// Compute every cell's statistics and the pairwise tests.
pub fn compare(loaded: &Loaded, metrics: &[RunMetrics], reference: &str) -> Comparison {
    let horizon = loaded.manifest.years;
    let ok_of = |cell: &str| -> Vec<&RunMetrics> {
        metrics
            .iter()
            .filter(|m| m.cell == cell && m.status.is_ok())
            .collect()
    };
    let mut cells = Vec::new();
    for (cell, protocol, population) in &loaded.manifest.cells {
        let all: Vec<&RunMetrics> = metrics.iter().filter(|m| &m.cell == cell).collect();
        if all.is_empty() {
            continue;
        }
        let ok = ok_of(cell);
        let collapsed = ok.iter().filter(|m| m.collapsed).count();
        let survived = ok.len() - collapsed;
        let data = survival_data(&ok);
        let km = stats::kaplan_meier(&data);
        let reference_cell = format!("{reference}/{population}");
        let reference_runs = ok_of(&reference_cell);
        let against_reference = protocol != reference && !reference_runs.is_empty();
        let logrank =
            against_reference.then(|| stats::logrank(&data, &survival_data(&reference_runs)));
        let fisher_p = against_reference.then(|| {
            let ref_collapsed = reference_runs.iter().filter(|m| m.collapsed).count() as u64;
            stats::fisher_exact(
                collapsed as u64,
                survived as u64,
                ref_collapsed,
                reference_runs.len() as u64 - ref_collapsed,
            )
        });
        let outcomes = Outcome::ALL
            .into_iter()
            .map(|o| {
                let values: Vec<f64> = ok.iter().map(|m| o.of(m)).collect();
                (
                    o,
                    Estimate {
                        mean: stats::mean(&values),
                        ci: stats::bootstrap_mean_ci(&values, RESAMPLES, seed_of(cell, o.name())),
                    },
                )
            })
            .collect();
        let compliance: Vec<f64> = ok.iter().filter_map(|m| m.quota_compliance).collect();
        cells.push(CellStats {
            cell: cell.clone(),
            protocol: protocol.clone(),
            population: population.clone(),
            runs: all.len(),
            ok: ok.len(),
            failed: all.iter().filter(|m| m.status == RunStatus::Failed).count(),
            budget_exceeded: all.iter().filter(|m| m.status == RunStatus::Budget).count(),
            survival_rate: if ok.is_empty() {
                f64::NAN
            } else {
                survived as f64 / ok.len() as f64
            },
            survival_ci: stats::wilson(survived as u64, ok.len() as u64),
            median_survival: stats::km_median(&km),
            rmst: stats::rmst(&km, horizon as f64),
            km,
            logrank,
            fisher_p,
            outcomes,
            quota_compliance: (!compliance.is_empty()).then(|| stats::mean(&compliance)),
            ledger_violations: stats::mean(
                &ok.iter()
                    .map(|m| m.ledger_violations as f64)
                    .collect::<Vec<_>>(),
            ),
            tokens: all.iter().map(|m| m.tokens_in + m.tokens_out).sum(),
            cost_usd: all.iter().map(|m| m.cost_usd).sum(),
        });
    }
    let pairs = pairwise(&cells, metrics);
    Comparison {
        reference: reference.to_string(),
        horizon,
        cells,
        pairs,
    }
}

/// Mann–Whitney tests between every two protocols of a population, per outcome, with
/// Holm's correction within each (outcome, population) family.
fn pairwise(cells: &[CellStats], metrics: &[RunMetrics]) -> Vec<PairTest> {
    let mut populations: Vec<&str> = cells.iter().map(|c| c.population.as_str()).collect();
    populations.dedup();
    populations.sort();
    populations.dedup();
    let mut out = Vec::new();
    for population in populations {
        let these: Vec<&CellStats> = cells
            .iter()
            .filter(|c| c.population == population)
            .collect();
        for name in Outcome::ALL {
            let values = |cell: &str| -> Vec<f64> {
                metrics
                    .iter()
                    .filter(|m| m.cell == cell && m.status.is_ok())
                    .map(|m| name.of(m))
                    .collect()
            };
            let mut family = Vec::new();
            for (i, a) in these.iter().enumerate() {
                for b in &these[i + 1..] {
                    let (x, y) = (values(&a.cell), values(&b.cell));
                    let (Some(test), Some(delta)) =
                        (stats::mann_whitney(&x, &y), stats::cliffs_delta(&x, &y))
                    else {
                        continue;
                    };
                    family.push(PairTest {
                        outcome: name,
                        population: population.to_string(),
                        a: a.protocol.clone(),
                        b: b.protocol.clone(),
                        test,
                        p_holm: f64::NAN,
                        cliffs_delta: delta,
                    });
                }
            }
            let adjusted = stats::holm(&family.iter().map(|p| p.test.p_value).collect::<Vec<_>>());
            for (pair, p) in family.iter_mut().zip(adjusted) {
                pair.p_holm = p;
            }
            out.extend(family);
        }
    }
    out
}

/// Combined maximum sustainable yield of both areas (fish per year).
pub fn combined_msy(params: &crate::engine::GameParams) -> f64 {
    params.msy(Area::Deep) + params.msy(Area::Coast)
}
