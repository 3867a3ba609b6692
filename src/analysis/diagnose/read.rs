//! The recorded files of each run, read into the series the diagnostics need.

use super::{load, Loaded};
use crate::analysis::AnalysisError;
use crate::record::{unescape_text, AgentRow, MessageRow, RunFiles, RunRow, RunStatus, YearRow};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Whether the diagnostics read a run.
pub(super) fn diagnosed(r: &RunRow, include_invalid: bool) -> bool {
    r.status.is_ok() || (include_invalid && r.status == RunStatus::Invalid)
}

/// Everything one run recorded that the diagnostics read.
#[derive(Debug, Default)]
pub(super) struct RunData {
    pub(super) run_id: String,
    pub(super) cell: String,
    pub(super) teams: usize,
    /// `[team][t]`: applied (order, deep, coast).
    pub(super) actions: Vec<Vec<[f64; 3]>>,
    /// `[team][t]`: the plan announced in year t, if any.
    pub(super) announced: Vec<Vec<Option<[f64; 3]>>>,
    /// `[team][t]`: revenue − operating costs.
    pub(super) profit: Vec<Vec<f64>>,
    /// `[t]`: densities (deep, coast) at the start of the year.
    pub(super) density: Vec<[f64; 2]>,
    /// (t, team, tac, set_by, grounded) of every probe answer.
    pub(super) probes: Vec<(usize, usize, i64, i64, bool)>,
    /// `[t]`: the team in office (`leader`).
    pub(super) leaders: Vec<Option<usize>>,
    /// Years between elections (`leader`'s `term_years`; 1 otherwise).
    pub(super) term: usize,
    /// `[team][t]`: everything the team published in the year, joined.
    pub(super) texts: Vec<Vec<Option<String>>>,
}

/// Set `v[t]`, growing `v` with copies of `x` when needed.
pub(super) fn put<T: Clone>(v: &mut Vec<T>, t: usize, x: T) {
    if v.len() <= t {
        v.resize(t + 1, x.clone());
    }
    v[t] = x;
}

pub(super) fn triple(r: &AgentRow) -> [f64; 3] {
    [r.order as f64, r.deep as f64, r.coast as f64]
}

/// Read the texts, the densities and the agents' rows of every `ok` run.
pub(super) fn read_runs(
    loaded: &Loaded,
    dirs: &[PathBuf],
    include_invalid: bool,
) -> Result<Vec<RunData>, AnalysisError> {
    let ok: HashMap<&str, &RunRow> = loaded
        .runs
        .iter()
        .filter(|r| diagnosed(r, include_invalid))
        .map(|r| (r.run_id.as_str(), r))
        .collect();
    let mut runs: BTreeMap<String, RunData> = BTreeMap::new();
    for dir in dirs {
        for row in load::rows::<AgentRow>(&dir.join(RunFiles::AGENTS))? {
            let row = row?;
            let Some(run) = ok.get(row.run_id.as_str()) else {
                continue;
            };
            let teams = loaded.experiment_of(&run.cell).teams;
            let d = runs.entry(row.run_id.clone()).or_insert_with(|| RunData {
                run_id: row.run_id.clone(),
                cell: run.cell.clone(),
                teams,
                actions: vec![Vec::new(); teams],
                announced: vec![Vec::new(); teams],
                profit: vec![Vec::new(); teams],
                texts: vec![Vec::new(); teams],
                term: term_of(loaded, &run.cell),
                ..RunData::default()
            });
            let (t, a) = (row.year as usize - 1, row.agent);
            if a >= teams {
                continue;
            }
            put(&mut d.actions[a], t, triple(&row));
            let announced = match (row.announced_order, row.announced_deep, row.announced_coast) {
                (Some(o), Some(dp), Some(c)) => Some([o as f64, dp as f64, c as f64]),
                _ => None,
            };
            put(&mut d.announced[a], t, announced);
            put(&mut d.profit[a], t, (row.revenue - row.costs) as f64);
            if let (Some(tac), Some(set_by), Some(grounded)) =
                (row.probe_tac, row.probe_set_by, row.probe_grounded)
            {
                d.probes.push((t, a, tac, set_by, grounded));
            }
        }
        for row in load::rows::<YearRow>(&dir.join(RunFiles::YEARS))? {
            let row = row?;
            let Some(d) = runs.get_mut(&row.run_id) else {
                continue;
            };
            let game = &loaded.experiment_of(&d.cell).game;
            let t = row.year as usize;
            if d.density.len() <= t {
                d.density.resize(
                    t + 1,
                    [
                        game.deep.initial_stock as f64 / game.deep.max_stock as f64,
                        game.coast.initial_stock as f64 / game.coast.max_stock as f64,
                    ],
                );
            }
            put(&mut d.leaders, row.year as usize - 1, row.leader);
            // The end of year t is the start of year t + 1 (index t).
            d.density[t] = [
                row.stock_deep as f64 / game.deep.max_stock as f64,
                row.stock_coast as f64 / game.coast.max_stock as f64,
            ];
        }
        let messages = dir.join(RunFiles::MESSAGES);
        if messages.exists() {
            for row in load::rows::<MessageRow>(&messages)? {
                let row = row?;
                let Some(d) = runs.get_mut(&row.run_id) else {
                    continue;
                };
                let (t, a) = (row.year as usize - 1, row.from);
                if a >= d.teams {
                    continue;
                }
                let slot = &mut d.texts[a];
                if slot.len() <= t {
                    slot.resize(t + 1, None);
                }
                let text = unescape_text(&row.text);
                match &mut slot[t] {
                    Some(s) => {
                        s.push('\n');
                        s.push_str(&text);
                    }
                    None => slot[t] = Some(text),
                }
            }
        }
    }
    // In plan order.
    let order: HashMap<&str, usize> = loaded
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.run_id.as_str(), i))
        .collect();
    let mut out: Vec<RunData> = runs.into_values().collect();
    out.sort_by_key(|d| order.get(d.run_id.as_str()).copied().unwrap_or(usize::MAX));
    Ok(out)
}

/// The term of office of a cell's protocol (`term_years` of a `leader`; 1 otherwise).
fn term_of(loaded: &Loaded, cell: &str) -> usize {
    let protocol = cell
        .split('/')
        .next()
        .unwrap_or("")
        .split('@')
        .next()
        .unwrap_or("");
    loaded
        .experiment_of(cell)
        .protocols
        .get(protocol)
        .and_then(|p| p["term_years"].as_u64())
        .map_or(1, |t| t.max(1) as usize)
}
