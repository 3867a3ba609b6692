//! Reading results directories: the manifest, `runs.csv`, and a streaming pass over
//! `years.csv` and `agents.csv` that keeps only per-run and per-cell sums, so a sweep of
//! any size is read in bounded memory.

use super::AnalysisError;
use crate::engine::{is_collapsed, Area, GameParams};
use crate::record::{AgentRow, AnalysisChoice, Descriptions, Manifest, RunFiles, RunRow, YearRow};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One experiment the analysis reads (several with `--compare`).
#[derive(Debug, Clone)]
pub struct ExperimentInfo {
    pub name: String,
    pub config_sha256: String,
    pub harness_version: String,
    pub years: u32,
    pub seeds: u32,
    pub first_seed: u64,
    pub teams: usize,
    pub game: GameParams,
    /// The outcome that answers the question (the experiment's `primary_outcome`).
    pub primary_outcome: String,
    /// Each protocol's resolved switches, by name.
    pub protocols: std::collections::BTreeMap<String, serde_json::Value>,
    /// The experiment's own description.
    pub description: String,
    /// Each population's seats as resolved, one entry per team.
    pub populations: std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    /// The experiment as resolved (providers, `[llm]`, generations, the probe, the
    /// matrix): what the report's methods state.
    pub config: serde_json::Value,
    /// Its `[analysis]` as resolved (absent in older manifests).
    pub analysis: Option<AnalysisChoice>,
    /// The harness's words for its personas, stand-in providers and idle switches.
    pub descriptions: Descriptions,
}

impl ExperimentInfo {
    /// The populations of its matrix, in order.
    pub fn matrix_populations(&self) -> Vec<String> {
        self.config["matrix"]["population"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A cell of the results, in plan order.
#[derive(Debug, Clone, PartialEq)]
pub struct CellInfo {
    /// `<protocol>/<population>` (with `--compare`, the population is
    /// `<experiment>:<population>`).
    pub cell: String,
    pub protocol: String,
    pub protocol_kind: String,
    pub population: String,
    /// Index into [`Loaded::experiments`].
    pub experiment: usize,
    /// The generation of its runs (1 without generations).
    pub generation: u32,
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
    /// A hash of every applied decision in order: equal hashes mean identical games.
    pub decisions: u64,
    /// The smallest combined stock after a harvest, and the first year it happened.
    pub min_stock: Option<(i64, u32)>,
    /// The stock fell below the collapse threshold (under the experiment's rule) in
    /// some year and was back above it in a later one.
    pub recovered: bool,
    below_once: bool,
    /// Profit of all teams (revenue − operating costs) per year, in year order.
    pub profit_by_year: Vec<i64>,
    /// End-of-year stock as (year, deep sea, coast), in the order the rows were read
    /// (for `report --run-lines`).
    pub stock_by_year: Vec<(u32, i64, i64)>,
}

impl RunExtras {
    /// Revenue minus operating costs of all teams over the run.
    pub fn cumulative_profit(&self) -> i64 {
        self.profit_by_year.iter().sum()
    }
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

/// Per (cell, year) sums for the plots: stock deep, stock coast, catch, cumulative profit
/// (runs with status `ok` only).
pub type YearSeries = BTreeMap<String, BTreeMap<u32, [Moments; 4]>>;

/// Everything read from one or more results directories.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub experiments: Vec<ExperimentInfo>,
    pub cells: Vec<CellInfo>,
    pub runs: Vec<RunRow>,
    pub extras: HashMap<String, RunExtras>,
    pub series: YearSeries,
    /// Rows of runs missing from `runs.csv` (half-written runs), ignored.
    pub ignored_rows: u64,
    /// Different experiments, compared (`--compare`): cells are kept apart by experiment.
    pub compare: bool,
}

impl Loaded {
    /// The experiment a cell belongs to.
    pub fn experiment_of(&self, cell: &str) -> &ExperimentInfo {
        let i = self
            .cells
            .iter()
            .find(|c| c.cell == cell)
            .map_or(0, |c| c.experiment);
        &self.experiments[i]
    }
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> AnalysisError + '_ {
    move |source| AnalysisError::Csv {
        path: path.to_path_buf(),
        source,
    }
}

/// The rows of a CSV file, read one at a time.
pub fn rows<T: serde::de::DeserializeOwned + 'static>(
    path: &Path,
) -> Result<impl Iterator<Item = Result<T, AnalysisError>> + 'static, AnalysisError> {
    let reader = csv::Reader::from_path(path).map_err(csv_err(path))?;
    let path = path.to_path_buf();
    Ok(reader.into_deserialize::<T>().map(move |r| {
        r.map_err(|source| AnalysisError::Csv {
            path: path.clone(),
            source,
        })
    }))
}

fn read_manifest(dir: &Path) -> Result<Manifest, AnalysisError> {
    if !dir.join(RunFiles::MANIFEST).exists() || !dir.join(RunFiles::RUNS).exists() {
        return Err(AnalysisError::NotResults(dir.to_path_buf()));
    }
    Ok(Manifest::read(dir)?)
}

/// The top-level settings two experiment configurations differ in.
fn differences(a: &serde_json::Value, b: &serde_json::Value) -> String {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return "their configurations".into();
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let changed: Vec<&str> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(String::as_str)
        .collect();
    if changed.is_empty() {
        "the harness version".into()
    } else {
        changed.join(", ")
    }
}

/// FNV-1a, for the decision-sequence hash (stable across machines and versions).
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ *b as u64).wrapping_mul(0x100000001b3))
}

const FNV_START: u64 = 0xcbf29ce484222325;

/// Read and merge results directories (shards of one experiment; with `compare`,
/// different experiments, kept apart as a factor of every cell). Runs that appear in
/// more than one directory are counted once (the first), with a warning.
pub fn load(dirs: &[PathBuf], compare: bool) -> Result<Loaded, AnalysisError> {
    let Some(first) = dirs.first() else {
        return Err(AnalysisError::NoInput);
    };
    let first_manifest = read_manifest(first)?;
    let mut experiments: Vec<ExperimentInfo> = Vec::new();
    let mut dir_experiment = Vec::new();
    let mut cells: Vec<CellInfo> = Vec::new();
    for dir in dirs {
        let m = read_manifest(dir)?;
        if m.config_sha256 != first_manifest.config_sha256 && !compare {
            return Err(AnalysisError::DifferentExperiments {
                first: first.clone(),
                other: dir.clone(),
                changes: differences(&first_manifest.config, &m.config),
            });
        }
        let index = match experiments
            .iter()
            .position(|e| e.config_sha256 == m.config_sha256)
        {
            Some(i) => i,
            None => {
                if experiments.iter().any(|e| e.name == m.experiment) {
                    return Err(AnalysisError::AmbiguousExperiments(m.experiment.clone()));
                }
                experiments.push(ExperimentInfo {
                    name: m.experiment.clone(),
                    config_sha256: m.config_sha256.clone(),
                    harness_version: m.harness_version.clone(),
                    years: m.years,
                    seeds: m.seeds,
                    first_seed: m.first_seed,
                    teams: m.agents,
                    game: m.game.clone(),
                    primary_outcome: m.primary_outcome.clone(),
                    protocols: m.protocols.clone(),
                    description: m.description.clone(),
                    populations: m.populations.clone(),
                    config: m.config.clone(),
                    analysis: m.analysis.clone(),
                    descriptions: m.descriptions.clone(),
                });
                experiments.len() - 1
            }
        };
        dir_experiment.push(index);
        for c in &m.cells {
            let population = relabel(compare, &m.experiment, &c.population);
            let cell = format!("{}/{population}", c.protocol);
            if !cells.iter().any(|x| x.cell == cell) {
                cells.push(CellInfo {
                    cell,
                    protocol: c.protocol.clone(),
                    protocol_kind: c.protocol_kind.clone(),
                    population,
                    experiment: index,
                    generation: c.generation,
                });
            }
        }
    }
    let mut runs: Vec<RunRow> = Vec::new();
    let mut cell_of: HashMap<String, (String, usize)> = HashMap::new();
    for (dir, &e) in dirs.iter().zip(&dir_experiment) {
        let path = dir.join(RunFiles::RUNS);
        let mut reader = csv::Reader::from_path(&path).map_err(csv_err(&path))?;
        for row in reader.deserialize::<RunRow>() {
            let Ok(mut row) = row else {
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
            row.population = relabel(compare, &experiments[e].name, &row.population);
            row.cell = format!("{}/{}", row.protocol, row.population);
            cell_of.insert(row.run_id.clone(), (row.cell.clone(), e));
            runs.push(row);
        }
    }
    let mut extras: HashMap<String, RunExtras> = runs
        .iter()
        .map(|r| {
            (
                r.run_id.clone(),
                RunExtras {
                    decisions: FNV_START,
                    ..RunExtras::default()
                },
            )
        })
        .collect();
    let ok: HashMap<&str, bool> = runs
        .iter()
        .map(|r| (r.run_id.as_str(), r.status.is_ok()))
        .collect();
    let mut series = YearSeries::new();
    let mut ignored = 0;
    for (dir, &e) in dirs.iter().zip(&dir_experiment) {
        let params = &experiments[e].game;
        let path = dir.join(RunFiles::YEARS);
        if path.exists() {
            let mut reader = csv::Reader::from_path(&path).map_err(csv_err(&path))?;
            for row in reader.deserialize::<YearRow>() {
                let Ok(row) = row else {
                    ignored += 1;
                    continue;
                };
                let (Some((cell, _)), Some(extra)) =
                    (cell_of.get(&row.run_id), extras.get_mut(&row.run_id))
                else {
                    ignored += 1;
                    continue;
                };
                year_extras(params, &row, extra);
                extra
                    .stock_by_year
                    .push((row.year, row.stock_deep, row.stock_coast));
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
            let teams = experiments[e].teams.max(1) as f64;
            let fair_share = (params.msy(Area::Deep) + params.msy(Area::Coast)) / teams;
            let mut reader = csv::Reader::from_path(&path).map_err(csv_err(&path))?;
            for row in reader.deserialize::<AgentRow>() {
                let Ok(row) = row else {
                    ignored += 1;
                    continue;
                };
                let Some(extra) = extras.get_mut(&row.run_id) else {
                    ignored += 1;
                    continue;
                };
                agent_extras(fair_share, &row, extra);
            }
        }
    }
    // Cumulative profit over time, per cell.
    for r in &runs {
        let (Some(extra), true) = (extras.get(&r.run_id), r.status.is_ok()) else {
            continue;
        };
        let mut cumulative = 0;
        for (i, p) in extra.profit_by_year.iter().enumerate() {
            cumulative += p;
            series
                .entry(r.cell.clone())
                .or_default()
                .entry(i as u32 + 1)
                .or_default()[3]
                .add(cumulative as f64);
        }
    }
    if ignored > 0 {
        tracing::warn!("ignored {ignored} rows of runs that are not complete (no row in runs.csv)");
    }
    Ok(Loaded {
        experiments,
        cells,
        runs,
        extras,
        series,
        ignored_rows: ignored,
        compare,
    })
}

fn relabel(compare: bool, experiment: &str, population: &str) -> String {
    if compare {
        format!("{experiment}:{population}")
    } else {
        population.to_string()
    }
}

/// What a `years.csv` row adds to its run's extras.
fn year_extras(params: &GameParams, row: &YearRow, extra: &mut RunExtras) {
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
    let post = row.post_harvest_deep + row.post_harvest_coast;
    if extra.min_stock.is_none_or(|(m, _)| post < m) {
        extra.min_stock = Some((post, row.year));
    }
    let below = is_collapsed(params, [row.post_harvest_deep, row.post_harvest_coast]);
    if below {
        extra.below_once = true;
    } else if extra.below_once {
        extra.recovered = true;
    }
}

/// What an `agents.csv` row adds to its run's extras.
fn agent_extras(fair_share: f64, row: &AgentRow, extra: &mut RunExtras) {
    let catch = (row.catch_deep + row.catch_coast) as f64;
    extra.agent_years += 1;
    extra.overuse_agent_years += u64::from(catch > fair_share);
    if let Some(q) = row.quota {
        extra.quota_agent_years += 1;
        extra.quota_kept += u64::from(catch <= q as f64);
    }
    if let (Some(o), Some(d), Some(c)) = (row.pledge_order, row.pledge_deep, row.pledge_coast) {
        extra.pledges += 1;
        let broke = row.order as i64 > o || row.deep as i64 > d || row.coast as i64 > c;
        extra.ledger_violations += u64::from(broke);
    }
    if row.bank < 0 && extra.first_debt_year.is_none_or(|y| row.year < y) {
        extra.first_debt_year = Some(row.year);
    }
    let year = row.year as usize;
    if extra.profit_by_year.len() < year {
        extra.profit_by_year.resize(year, 0);
    }
    extra.profit_by_year[year - 1] += row.revenue - row.costs;
    let decision = format!(
        "{}:{}:{},{},{};",
        row.year, row.agent, row.order, row.deep, row.coast
    );
    extra.decisions = fnv(extra.decisions, decision.as_bytes());
}
