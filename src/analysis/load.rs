//! Reading results directories: the manifest, `runs.csv`, and a streaming pass over
//! `years.csv` and `agents.csv` that keeps only per-run and per-cell sums, so a sweep of
//! any size is read in bounded memory.

use super::AnalysisError;
use crate::engine::{Area, GameParams};
use crate::record::{AgentRow, Manifest, RunFiles, RunRow, YearRow};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What the analysis needs from a manifest.
#[derive(Debug, Clone)]
pub struct ManifestInfo {
    pub experiment: String,
    pub years: u32,
    pub teams: usize,
    pub game: GameParams,
    /// Protocol name → kind.
    pub protocol_kinds: BTreeMap<String, String>,
    /// Cells in plan order: (cell, protocol, population).
    pub cells: Vec<(String, String, String)>,
}

/// Per-run quantities that need `years.csv` or `agents.csv`.
#[derive(Debug, Clone, Default)]
pub struct RunExtras {
    pub agent_years: u64,
    pub overuse_agent_years: u64,
    pub quota_agent_years: u64,
    pub quota_kept: u64,
    pub pledges: u64,
    pub ledger_violations: u64,
    pub first_debt_year: Option<u32>,
    pub collapse_year_deep: Option<u32>,
    pub collapse_year_coast: Option<u32>,
}

/// Running sums of one quantity in one (cell, year).
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    pub n: u64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Moments {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.sum / self.n as f64
        }
    }
    /// Half-width of a normal 95% interval of the mean (0 with one run).
    pub fn half_width(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        let var = ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0);
        1.959963984540054 * (var / n).sqrt()
    }
}

/// Per (cell, year) sums for the plots: stock deep, stock coast, catch.
pub type YearSeries = BTreeMap<String, BTreeMap<u32, [Moments; 3]>>;

/// Everything read from one or more results directories.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub manifest: ManifestInfo,
    pub runs: Vec<RunRow>,
    pub extras: HashMap<String, RunExtras>,
    pub series: YearSeries,
    /// Rows of runs missing from `runs.csv` (half-written runs), ignored.
    pub ignored_rows: u64,
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> AnalysisError + '_ {
    move |source| AnalysisError::Csv {
        path: path.to_path_buf(),
        source,
    }
}

fn read_manifest(dir: &Path) -> Result<ManifestInfo, AnalysisError> {
    if !dir.join(RunFiles::MANIFEST).exists() || !dir.join(RunFiles::RUNS).exists() {
        return Err(AnalysisError::NotResults(dir.to_path_buf()));
    }
    let m = Manifest::read(dir)?;
    Ok(ManifestInfo {
        experiment: m.experiment,
        years: m.years,
        teams: m.agents,
        game: m.game,
        protocol_kinds: m
            .cells
            .iter()
            .map(|c| (c.protocol.clone(), c.protocol_kind.clone()))
            .collect(),
        cells: m
            .cells
            .into_iter()
            .map(|c| (c.cell, c.protocol, c.population))
            .collect(),
    })
}

/// Read and merge results directories. Runs that appear in more than one directory are
/// counted once (the first), with a warning.
pub fn load(dirs: &[PathBuf]) -> Result<Loaded, AnalysisError> {
    let Some(first) = dirs.first() else {
        return Err(AnalysisError::NoInput);
    };
    let mut manifest = read_manifest(first)?;
    let mut runs: Vec<RunRow> = Vec::new();
    let mut cell_of: HashMap<String, String> = HashMap::new();
    for dir in dirs {
        let m = read_manifest(dir)?;
        for cell in m.cells {
            if !manifest.cells.contains(&cell) {
                manifest.cells.push(cell);
            }
        }
        manifest.protocol_kinds.extend(m.protocol_kinds);
        let path = dir.join(RunFiles::RUNS);
        let mut reader = csv::Reader::from_path(&path).map_err(csv_err(&path))?;
        for row in reader.deserialize::<RunRow>() {
            let Ok(row) = row else {
                // A torn last row of a crashed sweep: the run is not complete.
                tracing::warn!("{}: skipping an unreadable row", path.display());
                continue;
            };
            if cell_of.contains_key(&row.run_id) {
                tracing::warn!(
                    "run {} appears in more than one directory; counted once",
                    row.run_id
                );
                continue;
            }
            cell_of.insert(row.run_id.clone(), row.cell.clone());
            runs.push(row);
        }
    }
    let horizon = runs.iter().map(|r| r.years).max().unwrap_or(manifest.years);
    manifest.years = manifest.years.max(horizon);
    let mut extras: HashMap<String, RunExtras> = runs
        .iter()
        .map(|r| (r.run_id.clone(), RunExtras::default()))
        .collect();
    let mut series = YearSeries::new();
    let ok: HashMap<&str, bool> = runs
        .iter()
        .map(|r| (r.run_id.as_str(), r.status.is_ok()))
        .collect();
    let mut ignored = 0;
    let params = &manifest.game;
    for dir in dirs {
        let path = dir.join(RunFiles::YEARS);
        if path.exists() {
            let mut reader = csv::Reader::from_path(&path).map_err(csv_err(&path))?;
            for row in reader.deserialize::<YearRow>() {
                let Ok(row) = row else { continue };
                let (Some(cell), Some(extra)) =
                    (cell_of.get(&row.run_id), extras.get_mut(&row.run_id))
                else {
                    ignored += 1;
                    continue;
                };
                for (area, post, slot) in [
                    (
                        Area::Deep,
                        row.post_harvest_deep,
                        &mut extra.collapse_year_deep,
                    ),
                    (
                        Area::Coast,
                        row.post_harvest_coast,
                        &mut extra.collapse_year_coast,
                    ),
                ] {
                    let density = post as f64 / params.area(area).max_stock.max(1) as f64;
                    if slot.is_none() && density < params.collapse_density {
                        *slot = Some(row.year);
                    }
                }
                if ok.get(row.run_id.as_str()) == Some(&true) {
                    let m = series
                        .entry(cell.clone())
                        .or_default()
                        .entry(row.year)
                        .or_default();
                    m[0].add(row.stock_deep as f64);
                    m[1].add(row.stock_coast as f64);
                    m[2].add((row.catch_deep + row.catch_coast) as f64);
                }
            }
        }
        let path = dir.join(RunFiles::AGENTS);
        if path.exists() {
            let fair_share =
                (params.msy(Area::Deep) + params.msy(Area::Coast)) / manifest.teams.max(1) as f64;
            let mut reader = csv::Reader::from_path(&path).map_err(csv_err(&path))?;
            for row in reader.deserialize::<AgentRow>() {
                let Ok(row) = row else { continue };
                let Some(extra) = extras.get_mut(&row.run_id) else {
                    ignored += 1;
                    continue;
                };
                let catch = (row.catch_deep + row.catch_coast) as f64;
                extra.agent_years += 1;
                extra.overuse_agent_years += u64::from(catch > fair_share);
                if let Some(q) = row.quota {
                    extra.quota_agent_years += 1;
                    extra.quota_kept += u64::from(catch <= q as f64);
                }
                if let (Some(o), Some(d), Some(c)) =
                    (row.pledge_order, row.pledge_deep, row.pledge_coast)
                {
                    extra.pledges += 1;
                    let broke = row.order as i64 > o || row.deep as i64 > d || row.coast as i64 > c;
                    extra.ledger_violations += u64::from(broke);
                }
                if row.bank < 0 && extra.first_debt_year.is_none_or(|y| row.year < y) {
                    extra.first_debt_year = Some(row.year);
                }
            }
        }
    }
    if ignored > 0 {
        tracing::warn!("ignored {ignored} rows of runs that are not complete (no row in runs.csv)");
    }
    Ok(Loaded {
        manifest,
        runs,
        extras,
        series,
        ignored_rows: ignored,
    })
}
