//! Rows of the three CSV files, built from a finished run.

use crate::protocol::{GameRecord, RunStatus};
use serde::{Deserialize, Serialize};

/// Header of `runs.csv`, used to recognise an existing results file.
pub const RUNS_HEADER: &str = "run_id,cell,protocol,population,seed,status,years,collapsed,collapse_year,survival_years,final_stock_deep,final_stock_coast,total_catch,total_assets,gini_assets,gini_catch,invalid_decisions,llm_calls,llm_retries,llm_repairs,llm_fallbacks,tokens_in,tokens_out,cost_usd,years_played,error";

/// One row of `runs.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub run_id: String,
    /// `<protocol>/<population>`.
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub seed: u64,
    /// `ok`, `failed` or `budget_exceeded`.
    pub status: String,
    /// The horizon (years configured).
    pub years: u32,
    pub collapsed: bool,
    pub collapse_year: Option<u32>,
    /// `collapse_year − 1`, or `years` when the fish survived (censored).
    pub survival_years: u32,
    pub final_stock_deep: i64,
    pub final_stock_coast: i64,
    pub total_catch: i64,
    pub total_assets: i64,
    pub gini_assets: f64,
    pub gini_catch: f64,
    pub invalid_decisions: u32,
    pub llm_calls: u64,
    pub llm_retries: u64,
    pub llm_repairs: u64,
    pub llm_fallbacks: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// Years actually played (fewer than `years` with `stop_on_collapse` or a failure).
    pub years_played: u32,
    /// Why the run failed, if it did.
    pub error: String,
}

/// One row of `years.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearRow {
    pub run_id: String,
    pub year: u32,
    pub fleet_deep: u32,
    pub fleet_coast: u32,
    pub fleet_harbor: u32,
    pub catch_deep: i64,
    pub catch_coast: i64,
    /// End of the year, after regeneration.
    pub stock_deep: i64,
    pub stock_coast: i64,
    pub regen_deep: i64,
    pub regen_coast: i64,
    pub ship_value: i64,
    pub weather: f64,
    /// After the harvest, before regeneration (where collapse is checked).
    pub post_harvest_deep: i64,
    pub post_harvest_coast: i64,
}

/// One row of `agents.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    pub run_id: String,
    pub year: u32,
    pub agent: usize,
    /// The decision the engine applied (after repair).
    pub order: u32,
    pub deep: u32,
    pub coast: u32,
    pub harbor: u32,
    /// End-of-year ships (the order delivered).
    pub ships: u32,
    pub catch_deep: i64,
    pub catch_coast: i64,
    pub revenue: i64,
    pub costs: i64,
    pub interest: i64,
    /// End-of-year bank.
    pub bank: i64,
    pub assets: i64,
    /// The team's published quota this year (binding or advisory); empty without one.
    pub quota: Option<i64>,
    /// Whether the engine cut this team's catch to its quota.
    pub quota_binding: bool,
    pub pledge_order: Option<i64>,
    pub pledge_deep: Option<i64>,
    pub pledge_coast: Option<i64>,
    /// Whether the engine had to repair the requested decision.
    pub repaired: bool,
    /// The catch the team declared (self-reported ledger only).
    pub reported_catch: Option<i64>,
}

/// Identity of a run in the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLabel {
    pub run_id: String,
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub seed: u64,
    pub years: u32,
}

/// Gini coefficient of non-negative-shifted values: `Σ_i Σ_j |x_i − x_j| / (2 n² mean)`.
/// Values are shifted up by the minimum when negative (assets can be), and an all-zero
/// vector is perfectly equal (0).
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let shift = if min < 0.0 { -min } else { 0.0 };
    let mut sorted: Vec<f64> = values.iter().map(|v| v + shift).collect();
    sorted.sort_by(f64::total_cmp);
    let total: f64 = sorted.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    // Sorted form of the mean absolute difference: Σ (2i − n + 1) x_i / (n Σ x).
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, x)| (2.0 * i as f64 - n as f64 + 1.0) * x)
        .sum();
    weighted / (n as f64 * total)
}

impl RunRow {
    pub fn new(label: &RunLabel, record: &GameRecord) -> RunRow {
        let teams = record.final_state.teams.len();
        let (status, error) = match &record.status {
            RunStatus::Ok => ("ok", String::new()),
            RunStatus::Failed(e) => ("failed", e.clone()),
            RunStatus::BudgetExceeded(e) => ("budget_exceeded", e.clone()),
        };
        let collapse_year = record.final_state.collapse_year;
        let mut catch_by_team = vec![0.0; teams];
        let mut invalid = 0;
        for (year, _) in &record.years {
            invalid += year.invalid_decisions;
            for (t, out) in year.teams.iter().enumerate() {
                catch_by_team[t] += (out.catch_deep + out.catch_coast) as f64;
            }
        }
        let assets: Vec<f64> = (0..teams)
            .map(|t| record.final_state.assets(t) as f64)
            .collect();
        RunRow {
            run_id: label.run_id.clone(),
            cell: label.cell.clone(),
            protocol: label.protocol.clone(),
            population: label.population.clone(),
            seed: label.seed,
            status: status.to_string(),
            years: label.years,
            collapsed: collapse_year.is_some(),
            collapse_year,
            survival_years: collapse_year.map_or(label.years, |y| y - 1),
            final_stock_deep: record.final_state.stock[0],
            final_stock_coast: record.final_state.stock[1],
            total_catch: catch_by_team.iter().sum::<f64>() as i64,
            total_assets: assets.iter().sum::<f64>() as i64,
            gini_assets: gini(&assets),
            gini_catch: gini(&catch_by_team),
            invalid_decisions: invalid,
            llm_calls: record.stats.llm_calls,
            llm_retries: record.stats.llm_retries,
            llm_repairs: record.stats.llm_repairs,
            llm_fallbacks: record.stats.llm_fallbacks,
            tokens_in: record.stats.tokens_in,
            tokens_out: record.stats.tokens_out,
            cost_usd: record.stats.cost_micro_usd as f64 / 1e6,
            years_played: record.years.len() as u32,
            error,
        }
    }
}

/// The `years.csv` rows of a run.
pub fn year_rows(label: &RunLabel, record: &GameRecord) -> Vec<YearRow> {
    record
        .years
        .iter()
        .map(|(o, _)| YearRow {
            run_id: label.run_id.clone(),
            year: o.year,
            fleet_deep: o.fleet[0],
            fleet_coast: o.fleet[1],
            fleet_harbor: o.fleet[2],
            catch_deep: o.catch[0],
            catch_coast: o.catch[1],
            stock_deep: o.stock[0],
            stock_coast: o.stock[1],
            regen_deep: o.regen[0],
            regen_coast: o.regen[1],
            ship_value: o.ship_value,
            weather: o.weather,
            post_harvest_deep: o.post_harvest[0],
            post_harvest_coast: o.post_harvest[1],
        })
        .collect()
}

/// The `agents.csv` rows of a run.
pub fn agent_rows(label: &RunLabel, record: &GameRecord) -> Vec<AgentRow> {
    let mut rows = Vec::new();
    for (o, extras) in &record.years {
        for (t, out) in o.teams.iter().enumerate() {
            let pledge = extras.pledges[t];
            rows.push(AgentRow {
                run_id: label.run_id.clone(),
                year: o.year,
                agent: t,
                order: out.applied.order,
                deep: out.applied.deep,
                coast: out.applied.coast,
                harbor: out.applied.harbor,
                ships: out.ships,
                catch_deep: out.catch_deep,
                catch_coast: out.catch_coast,
                revenue: out.revenue,
                costs: out.costs,
                interest: out.interest,
                bank: out.bank,
                assets: out.assets,
                quota: extras.quotas[t],
                quota_binding: out.quota_binding,
                pledge_order: pledge.map(|p| p.order),
                pledge_deep: pledge.map(|p| p.deep),
                pledge_coast: pledge.map(|p| p.coast),
                repaired: out.repaired,
                reported_catch: extras.reported[t],
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::gini;

    #[test]
    fn gini_of_equal_values_is_zero_and_of_one_holder_is_near_one() {
        assert_eq!(gini(&[5.0, 5.0, 5.0]), 0.0);
        assert_eq!(gini(&[0.0, 0.0, 0.0]), 0.0);
        // One of four holds everything: (n − 1) / n.
        assert!((gini(&[0.0, 0.0, 0.0, 8.0]) - 0.75).abs() < 1e-12);
        // Mean absolute difference by hand for [1, 2, 3]: Σ|xi−xj| = 8, 2·9·2 = 36.
        assert!((gini(&[3.0, 1.0, 2.0]) - 8.0 / 36.0).abs() < 1e-12);
    }

    #[test]
    fn gini_shifts_negative_values() {
        // [-1, 1] shifted to [0, 2]: one holder of everything among two = 0.5.
        assert!((gini(&[-1.0, 1.0]) - 0.5).abs() < 1e-12);
    }
}
