//! Per-cell statistics and every contrast: the numbers of the report (the per-run
//! metrics they summarise are in [`super::metrics`]).
//!
//! The experiment declares its question (`[analysis]`): a reference protocol and a
//! reference population. The primary outcome is one family per experiment, Holm-adjusted
//! together: every two protocols of each population; with two or more populations, each
//! population against the reference population within every protocol, and the
//! interaction (a protocol's effect against the reference protocol in one population
//! minus its effect in the reference population). A contrast against the reference is a
//! member of that family, computed once, so it shows the same interval and p-value
//! wherever it appears. Every other measure is exploratory: each cell against the
//! reference protocol of its population, Holm within the measure. Replicate k of every
//! cell faces the same random draws (common random numbers), so runs are paired by seed:
//! the paired test (McNemar, Wilcoxon signed-rank) and a paired bootstrap interval judge a
//! contrast; the unpaired ones (Fisher, log-rank, Mann–Whitney) are kept beside them for
//! the sensitivity table. Bootstrap resamples are drawn from a seed of the population and
//! the measure, never of the cells, so two contrasts of identical data get identical
//! intervals. A cell with fewer than two valid replicates is estimated but never tested.

use super::load::{CellInfo, Loaded};
use super::metrics::{Measure, Outcome, RunMetrics};
use super::stats::{self, seed_of, KmStep, Test};
use crate::record::RunStatus;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Mean and bootstrap interval of one outcome in one cell.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    pub mean: f64,
    pub ci: Option<(f64, f64)>,
}

/// How well the agents of a cell played (LLM agents; zero for scripted ones).
#[derive(Debug, Clone, Copy, Default)]
pub struct Validity {
    pub llm_answers: u64,
    pub valid_first_try: u64,
    pub fallbacks: u64,
    pub tokens_in: u64,
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
}

impl Validity {
    pub fn fallback_share(&self) -> Option<f64> {
        (self.llm_answers > 0).then(|| self.fallbacks as f64 / self.llm_answers as f64)
    }
    pub fn valid_first_try_share(&self) -> Option<f64> {
        (self.llm_answers > 0).then(|| self.valid_first_try as f64 / self.llm_answers as f64)
    }
}

/// Everything the report says about one cell.
#[derive(Debug, Clone)]
pub struct CellStats {
    pub cell: String,
    pub protocol: String,
    /// The generation of its runs (1 without generations; `protocol` is then
    /// `<name>@g<generation>` beyond the first).
    pub generation: u32,
    pub protocol_kind: String,
    pub population: String,
    pub experiment: String,
    /// Index of its experiment in [`Loaded::experiments`].
    pub experiment_index: usize,
    pub horizon: u32,
    /// Runs recorded, by status (only `ok` runs enter the statistics).
    pub runs: usize,
    pub ok: usize,
    pub invalid: usize,
    pub failed: usize,
    pub budget: usize,
    pub validity: Validity,
    /// Distinct decision sequences among the `ok` runs.
    pub distinct_games: usize,
    pub survival_rate: f64,
    pub survival_ci: Option<(f64, f64)>,
    pub km: Vec<KmStep>,
    /// Greenwood 95% band of each KM step.
    pub km_band: Vec<(f64, f64)>,
    /// Survival times of the `ok` runs with whether they collapsed (for censoring ticks).
    pub survival_times: Vec<(f64, bool)>,
    pub median_survival: Option<f64>,
    /// Restricted mean survival time to the horizon (NaN without an `ok` run, like
    /// `survival_rate`).
    pub rmst: f64,
    /// Bootstrap 95% interval of the RMST (runs resampled).
    pub rmst_ci: Option<(f64, f64)>,
    /// Mean published tokens per agent and year.
    pub talk_tokens: f64,
    pub recovered_share: Option<f64>,
    pub outcomes: BTreeMap<Outcome, Estimate>,
    pub quota_compliance: Option<f64>,
    pub ledger_violations: f64,
}

impl CellStats {
    /// Every `ok` replicate played the same game: there is one observation, not `ok`,
    /// and no statistic over them means anything.
    pub fn identical_replicates(&self) -> bool {
        self.ok > 1 && self.distinct_games == 1
    }

    /// `ok` runs that repeat another run's game.
    pub fn duplicate_replicates(&self) -> usize {
        self.ok.saturating_sub(self.distinct_games)
    }

    /// Whether the cell can enter a test: at least [`MIN_REPLICATES`] valid runs that are
    /// not all one identical game.
    pub fn testable(&self) -> bool {
        self.ok >= MIN_REPLICATES && !self.identical_replicates()
    }
}

/// What a contrast compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContrastKind {
    /// Two protocols of one population: the cell minus `reference_cell`.
    Protocols,
    /// Two populations under one protocol: the cell minus the reference population's
    /// cell of the same protocol (`reference_cell`).
    Populations,
    /// The cell's protocol against the reference protocol in the cell's population, minus
    /// the same effect in the reference population; `reference_cell` is the protocol's
    /// cell in the reference population.
    Interaction,
    /// The same cell in two experiments (`--compare`): the cell minus `reference_cell`.
    Across,
}

/// A cell against another (see [`ContrastKind`]), on one measure.
#[derive(Debug, Clone)]
pub struct Contrast {
    pub kind: ContrastKind,
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub reference_cell: String,
    pub measure: Measure,
    /// The experiment's primary outcome (one Holm family); the rest is exploratory.
    pub primary: bool,
    /// Cell minus reference (RMST in years, survival rate, or the outcome's mean); for an
    /// interaction, the difference of the two effects.
    pub effect: f64,
    /// Bootstrap 95% interval of `effect` (paired over seeds when the runs pair up).
    pub ci: Option<(f64, f64)>,
    /// Runs paired by seed (0: the unpaired analysis only).
    pub pairs: usize,
    /// The paired test (McNemar for survival, Wilcoxon signed-rank otherwise).
    pub paired: Option<(&'static str, Test)>,
    /// The unpaired test (Fisher, log-rank, Mann–Whitney) and, for outcomes, Cliff's
    /// delta.
    pub unpaired: Option<(&'static str, Test)>,
    pub cliffs_delta: Option<f64>,
    /// The p-value the contrast is judged by (paired when there are pairs) and its Holm
    /// adjustment within the measure's family.
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
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

/// The question the report answers: the protocol and, per experiment, the population
/// every other is compared with.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    pub protocol: String,
    /// The reference population of each experiment of [`Loaded::experiments`], by its
    /// own name (without the `--compare` prefix).
    pub populations: Vec<String>,
}

/// The report's numbers.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub reference: String,
    /// The reference population of each experiment (its own name).
    pub reference_populations: Vec<String>,
    pub primary: Measure,
    pub cells: Vec<CellStats>,
    /// Every cell against the reference protocol of its population, on every measure.
    pub contrasts: Vec<Contrast>,
    /// The primary outcome's family (one Holm family per experiment): every two protocols
    /// of a population, each population against the reference population within every
    /// protocol, and the interactions.
    pub family: Vec<Contrast>,
    /// With `--compare`: the same cell in two experiments (one Holm family of its own).
    pub across: Vec<Contrast>,
    pub pairs: Vec<PairTest>,
}

impl Comparison {
    /// The members of the primary family of one kind.
    pub fn family_of(&self, kind: ContrastKind) -> impl Iterator<Item = &Contrast> {
        self.family.iter().filter(move |k| k.kind == kind)
    }

    /// Whether `cell` is of its experiment's reference population.
    pub fn in_reference_population(&self, cell: &CellStats) -> bool {
        self.reference_populations
            .get(cell.experiment_index)
            .is_some_and(|p| p == own_population_of(cell))
    }

    pub fn cell(&self, cell: &str) -> Option<&CellStats> {
        self.cells.iter().find(|c| c.cell == cell)
    }

    /// The contrast of `cell` on `measure`, if computed.
    pub fn contrast(&self, cell: &str, measure: Measure) -> Option<&Contrast> {
        self.contrasts
            .iter()
            .find(|c| c.cell == cell && c.measure == measure)
    }
}
/// Number of bootstrap resamples.
pub const RESAMPLES: usize = 2000;

/// Valid replicates a cell needs before it is tested or given an interval: with one,
/// there is no variation to compare against, and a bootstrap of one value is that value.
pub const MIN_REPLICATES: usize = 2;

fn survival_data(runs: &[&RunMetrics]) -> Vec<(f64, bool)> {
    runs.iter()
        .map(|m| (m.survival_years as f64, m.collapsed))
        .collect()
}

fn rmst_of(runs: &[&RunMetrics], horizon: f64) -> f64 {
    stats::rmst(&stats::kaplan_meier(&survival_data(runs)), horizon)
}

fn survival_rate(runs: &[&RunMetrics]) -> f64 {
    if runs.is_empty() {
        f64::NAN
    } else {
        runs.iter().filter(|m| !m.collapsed).count() as f64 / runs.len() as f64
    }
}

/// Compute every cell's statistics and every contrast.
pub fn compare(
    loaded: &Loaded,
    metrics: &[RunMetrics],
    reference: &Reference,
    primary: Measure,
) -> Comparison {
    let mut by_cell: HashMap<&str, Vec<&RunMetrics>> = HashMap::new();
    for m in metrics {
        by_cell.entry(m.cell.as_str()).or_default().push(m);
    }
    let empty = Vec::new();
    let mut cells = Vec::new();
    for info in &loaded.cells {
        let all = by_cell.get(info.cell.as_str()).unwrap_or(&empty);
        if all.is_empty() {
            continue;
        }
        let horizon = loaded.experiments[info.experiment].years;
        cells.push(cell_stats(
            info,
            &loaded.experiments[info.experiment].name,
            horizon,
            all,
        ));
    }
    let ok_by_cell: HashMap<&str, Vec<&RunMetrics>> = by_cell
        .iter()
        .map(|(cell, runs)| {
            (
                *cell,
                runs.iter().copied().filter(|m| m.status.is_ok()).collect(),
            )
        })
        .collect();
    let ok_runs =
        |cell: &str| -> Vec<&RunMetrics> { ok_by_cell.get(cell).cloned().unwrap_or_default() };
    let protocol = reference.protocol.as_str();
    let is_reference_population = |c: &CellStats| {
        reference
            .populations
            .get(c.experiment_index)
            .is_some_and(|p| p == own_population_of(c))
    };
    // The primary family. Between every two protocols of a population, paired where
    // common random numbers allow: a contrast with the reference is oriented as cell
    // minus reference; any other as later minus earlier in plan order.
    let mut family = Vec::new();
    for (i, a) in cells.iter().enumerate() {
        for b in &cells[i + 1..] {
            if a.population != b.population || a.experiment != b.experiment {
                continue;
            }
            if !a.testable() || !b.testable() {
                continue;
            }
            let (cell, other) = if b.protocol == protocol {
                (a, b)
            } else {
                (b, a)
            };
            let (x, y) = (ok_runs(&cell.cell), ok_runs(&other.cell));
            family.push(contrast(
                ContrastKind::Protocols,
                cell,
                other,
                primary,
                primary,
                (&x, &y),
                true,
            ));
        }
    }
    // Each population against the reference population, within every protocol; then
    // each protocol's effect in it against its effect in the reference population.
    let same = |c: &CellStats, protocol: &str, reference_population: bool| {
        cells.iter().find(|x| {
            x.experiment == c.experiment
                && x.protocol == protocol
                && if reference_population {
                    is_reference_population(x)
                } else {
                    x.population == c.population
                }
        })
    };
    for c in cells.iter().filter(|c| !is_reference_population(c)) {
        let Some(r) = same(c, &c.protocol, true) else {
            continue;
        };
        if c.testable() && r.testable() {
            let (x, y) = (ok_runs(&c.cell), ok_runs(&r.cell));
            family.push(contrast(
                ContrastKind::Populations,
                c,
                r,
                primary,
                primary,
                (&x, &y),
                true,
            ));
        }
    }
    for c in cells
        .iter()
        .filter(|c| !is_reference_population(c) && c.protocol != protocol)
    {
        let quartet = (
            same(c, protocol, false),
            same(c, &c.protocol, true),
            same(c, protocol, true),
        );
        let (Some(cr), Some(pr), Some(rr)) = quartet else {
            continue;
        };
        if [c, cr, pr, rr].iter().all(|x| x.testable()) {
            let runs = [&c.cell, &cr.cell, &pr.cell, &rr.cell].map(|cell| ok_runs(cell));
            family.push(interaction(c, pr, primary, &runs));
        }
    }
    holm_by_experiment(&mut family, &cells, |_| true);
    // Against the reference protocol: the primary measure's contrasts are the family's
    // own; every other measure is exploratory, Holm within the measure.
    let mut contrasts = Vec::new();
    for c in &cells {
        if c.protocol == protocol {
            continue;
        }
        let reference_cell = format!("{protocol}/{}", c.population);
        let Some(r) = cells.iter().find(|x| x.cell == reference_cell) else {
            continue;
        };
        if !c.testable() || !r.testable() {
            continue;
        }
        let (x, y) = (ok_runs(&c.cell), ok_runs(&reference_cell));
        for measure in Measure::all() {
            if measure == primary {
                if let Some(k) = family.iter().find(|k| {
                    k.kind == ContrastKind::Protocols
                        && k.cell == c.cell
                        && k.reference_cell == reference_cell
                }) {
                    contrasts.push(k.clone());
                }
            } else {
                contrasts.push(contrast(
                    ContrastKind::Protocols,
                    c,
                    r,
                    measure,
                    primary,
                    (&x, &y),
                    true,
                ));
            }
        }
    }
    for measure in Measure::all().into_iter().filter(|m| *m != primary) {
        holm_by_experiment(&mut contrasts, &cells, |k| k.measure == measure);
    }
    // With --compare: the same protocol and population in two experiments, this cell
    // (of the experiment given first) minus the other's, unpaired (the experiments need
    // not share their draws), one family of its own.
    let mut across = Vec::new();
    for (i, a) in cells.iter().enumerate() {
        for b in &cells[i + 1..] {
            if a.experiment == b.experiment || own_cell_of(a) != own_cell_of(b) {
                continue;
            }
            let (x, y) = (ok_runs(&a.cell), ok_runs(&b.cell));
            if x.is_empty() || y.is_empty() {
                continue;
            }
            across.push(contrast(
                ContrastKind::Across,
                a,
                b,
                primary,
                primary,
                (&x, &y),
                false,
            ));
        }
    }
    holm(&mut across);
    let pairs = pairwise(&cells, &ok_by_cell, primary);
    Comparison {
        reference: protocol.to_string(),
        reference_populations: reference.populations.clone(),
        primary,
        cells,
        contrasts,
        family,
        across,
        pairs,
    }
}

/// Holm's adjustment within each experiment's contrasts that `member` selects.
fn holm_by_experiment(
    contrasts: &mut [Contrast],
    cells: &[CellStats],
    member: impl Fn(&Contrast) -> bool,
) {
    let experiment_of = |cell: &str| {
        cells
            .iter()
            .find(|c| c.cell == cell)
            .map(|c| c.experiment.clone())
            .unwrap_or_default()
    };
    let mut experiments: Vec<String> = cells.iter().map(|c| c.experiment.clone()).collect();
    experiments.dedup();
    for e in experiments {
        let mut family: Vec<&mut Contrast> = contrasts
            .iter_mut()
            .filter(|k| member(k) && experiment_of(&k.cell) == e)
            .collect();
        holm_refs(&mut family);
    }
}

/// Holm's adjustment over all of `contrasts` (those with a p-value).
fn holm(contrasts: &mut [Contrast]) {
    let mut family: Vec<&mut Contrast> = contrasts.iter_mut().collect();
    holm_refs(&mut family);
}

fn holm_refs(family: &mut [&mut Contrast]) {
    let tested: Vec<usize> = (0..family.len())
        .filter(|&i| family[i].p_value.is_some())
        .collect();
    let adjusted = stats::holm(
        &tested
            .iter()
            .map(|&i| family[i].p_value.unwrap_or(1.0))
            .collect::<Vec<_>>(),
    );
    for (&i, p) in tested.iter().zip(adjusted) {
        family[i].p_adjusted = Some(p);
    }
}

/// A cell as its own experiment names it (`--compare` prefixes populations with the
/// experiment).
fn own_cell_of(c: &CellStats) -> String {
    format!("{}/{}", c.protocol, own_population_of(c))
}

/// The population as its own experiment names it: what bootstrap seeds derive from, so
/// that every cell of a population resamples the same replicates (identical data,
/// identical intervals) and `--compare` changes no experiment's numbers.
fn own_population_of(c: &CellStats) -> &str {
    let prefix = format!("{}:", c.experiment);
    c.population.strip_prefix(&prefix).unwrap_or(&c.population)
}

/// [`own_population_of`] before the cell is computed.
fn own_population<'a>(info: &'a CellInfo, experiment: &str) -> &'a str {
    let prefix = format!("{experiment}:");
    info.population
        .strip_prefix(&prefix)
        .unwrap_or(&info.population)
}

fn cell_stats(info: &CellInfo, experiment: &str, horizon: u32, all: &[&RunMetrics]) -> CellStats {
    let ok: Vec<&RunMetrics> = all.iter().copied().filter(|m| m.status.is_ok()).collect();
    let count = |s: RunStatus| all.iter().filter(|m| m.status == s).count();
    let mut validity = Validity::default();
    for m in all {
        validity.llm_answers += m.llm_answers;
        validity.valid_first_try += m.llm_valid_first_try;
        validity.fallbacks += m.llm_fallbacks;
        validity.tokens_in += m.tokens_in;
        validity.tokens_cached += m.tokens_cached;
        validity.tokens_out += m.tokens_out;
        validity.cost_usd += m.cost_usd;
    }
    let distinct_games = ok
        .iter()
        .map(|m| &m.decisions)
        .collect::<HashSet<_>>()
        .len();
    let survived = ok.iter().filter(|m| !m.collapsed).count();
    let data = survival_data(&ok);
    let km = stats::kaplan_meier(&data);
    let fell: Vec<&&RunMetrics> = ok.iter().filter(|m| m.collapsed).collect();
    let outcomes = Outcome::ALL
        .into_iter()
        .map(|o| {
            let values: Vec<f64> = ok.iter().map(|m| o.of(m)).collect();
            (
                o,
                Estimate {
                    mean: stats::mean(&values),
                    ci: (values.len() >= MIN_REPLICATES)
                        .then(|| {
                            stats::bootstrap_mean_ci(
                                &values,
                                RESAMPLES,
                                seed_of(&[experiment, own_population(info, experiment), o.name()]),
                            )
                        })
                        .flatten(),
                },
            )
        })
        .collect();
    let compliance: Vec<f64> = ok.iter().filter_map(|m| m.quota_compliance).collect();
    CellStats {
        cell: info.cell.clone(),
        protocol: info.protocol.clone(),
        generation: info.generation,
        protocol_kind: info.protocol_kind.clone(),
        population: info.population.clone(),
        experiment: experiment.to_string(),
        experiment_index: info.experiment,
        horizon,
        runs: all.len(),
        ok: ok.len(),
        invalid: count(RunStatus::Invalid),
        // A stopped game (play interrupted, not resumed) is no result either.
        failed: count(RunStatus::Failed) + count(RunStatus::Stopped),
        budget: count(RunStatus::Budget),
        validity,
        distinct_games,
        survival_rate: survival_rate(&ok),
        survival_ci: stats::wilson(survived as u64, ok.len() as u64),
        median_survival: stats::km_median(&km),
        // No valid run, no curve: an empty Kaplan–Meier estimate would say "all survived".
        rmst: if ok.is_empty() {
            f64::NAN
        } else {
            stats::rmst(&km, horizon as f64)
        },
        rmst_ci: (ok.len() >= MIN_REPLICATES)
            .then(|| {
                stats::paired_bootstrap_ci(
                    &ok,
                    |sample: &[&&RunMetrics]| {
                        let runs: Vec<&RunMetrics> = sample.iter().map(|m| **m).collect();
                        rmst_of(&runs, horizon as f64)
                    },
                    RESAMPLES,
                    seed_of(&[experiment, own_population(info, experiment), "rmst"]),
                )
            })
            .flatten(),
        talk_tokens: stats::mean(
            &ok.iter()
                .map(|m| m.talk_tokens_per_agent_year)
                .collect::<Vec<_>>(),
        ),
        km_band: stats::km_band(&km),
        km,
        survival_times: data,
        recovered_share: (!fell.is_empty())
            .then(|| fell.iter().filter(|m| m.recovered).count() as f64 / fell.len() as f64),
        outcomes,
        quota_compliance: (!compliance.is_empty()).then(|| stats::mean(&compliance)),
        ledger_violations: stats::mean(
            &ok.iter()
                .map(|m| m.ledger_violations as f64)
                .collect::<Vec<_>>(),
        ),
    }
}

/// Runs of two cells paired by seed.
fn paired<'a>(x: &[&'a RunMetrics], y: &[&'a RunMetrics]) -> Vec<(&'a RunMetrics, &'a RunMetrics)> {
    let by_seed: HashMap<u64, &RunMetrics> = y.iter().map(|m| (m.seed, *m)).collect();
    x.iter()
        .filter_map(|a| by_seed.get(&a.seed).map(|b| (*a, *b)))
        .collect()
}

/// `cell` against `other` on one measure: paired by seed where the runs pair up (common
/// random numbers within an experiment), unpaired otherwise or when `pairable` is false
/// (cells of different experiments).
fn contrast(
    kind: ContrastKind,
    cell: &CellStats,
    other: &CellStats,
    measure: Measure,
    primary: Measure,
    (x, y): (&[&RunMetrics], &[&RunMetrics]),
    pairable: bool,
) -> Contrast {
    let reference_cell = other.cell.as_str();
    let horizon = cell.horizon as f64;
    let pairs = if pairable { paired(x, y) } else { Vec::new() };
    let seed = seed_of(&[
        &cell.experiment,
        &other.experiment,
        own_population_of(cell),
        measure.name(),
    ]);
    let paired_ok = pairs.len() >= 2;
    let (effect, ci, paired_test, unpaired_test, delta) = match measure {
        Measure::Rmst => {
            let effect = rmst_of(x, horizon) - rmst_of(y, horizon);
            let ci = if paired_ok {
                stats::paired_bootstrap_ci(
                    &pairs,
                    |s| {
                        let (a, b): (Vec<&RunMetrics>, Vec<&RunMetrics>) =
                            s.iter().map(|p| (p.0, p.1)).unzip();
                        rmst_of(&a, horizon) - rmst_of(&b, horizon)
                    },
                    RESAMPLES,
                    seed,
                )
            } else {
                unpaired_ci(x, y, |a, b| rmst_of(a, horizon) - rmst_of(b, horizon), seed)
            };
            // All censoring is at the horizon, so survival years order the runs and
            // their paired differences can be ranked.
            let diffs: Vec<f64> = pairs
                .iter()
                .map(|(a, b)| a.survival_years as f64 - b.survival_years as f64)
                .collect();
            let paired_test = paired_ok
                .then(|| stats::wilcoxon(&diffs))
                .flatten()
                .or(paired_ok.then_some(Test {
                    statistic: 0.0,
                    p_value: 1.0,
                }))
                .map(|t| ("wilcoxon", t));
            let logrank = stats::logrank(&survival_data(x), &survival_data(y));
            (effect, ci, paired_test, Some(("logrank", logrank)), None)
        }
        Measure::Survival => {
            let effect = survival_rate(x) - survival_rate(y);
            let ci = if paired_ok {
                stats::paired_bootstrap_ci(
                    &pairs,
                    |s| {
                        let n = s.len() as f64;
                        s.iter()
                            .map(|p| f64::from(!p.0.collapsed) - f64::from(!p.1.collapsed))
                            .sum::<f64>()
                            / n
                    },
                    RESAMPLES,
                    seed,
                )
            } else {
                unpaired_ci(x, y, |a, b| survival_rate(a) - survival_rate(b), seed)
            };
            let only_x = pairs
                .iter()
                .filter(|(a, b)| a.collapsed && !b.collapsed)
                .count();
            let only_y = pairs
                .iter()
                .filter(|(a, b)| !a.collapsed && b.collapsed)
                .count();
            let mcnemar =
                paired_ok.then(|| ("mcnemar", stats::mcnemar(only_x as u64, only_y as u64)));
            let xc = x.iter().filter(|m| m.collapsed).count() as u64;
            let yc = y.iter().filter(|m| m.collapsed).count() as u64;
            let fisher = stats::fisher_exact(xc, x.len() as u64 - xc, yc, y.len() as u64 - yc);
            let fisher = Test {
                statistic: f64::NAN,
                p_value: fisher,
            };
            (effect, ci, mcnemar, Some(("fisher_exact", fisher)), None)
        }
        Measure::Outcome(o) => {
            let (vx, vy): (Vec<f64>, Vec<f64>) = (
                x.iter().map(|m| o.of(m)).collect(),
                y.iter().map(|m| o.of(m)).collect(),
            );
            let effect = stats::mean(&vx) - stats::mean(&vy);
            let diffs: Vec<f64> = pairs.iter().map(|(a, b)| o.of(a) - o.of(b)).collect();
            let ci = if paired_ok {
                stats::bootstrap_mean_ci(&diffs, RESAMPLES, seed)
            } else {
                unpaired_ci(
                    x,
                    y,
                    |a, b| {
                        stats::mean(&a.iter().map(|m| o.of(m)).collect::<Vec<_>>())
                            - stats::mean(&b.iter().map(|m| o.of(m)).collect::<Vec<_>>())
                    },
                    seed,
                )
            };
            let paired_test = paired_ok
                .then(|| {
                    Some(stats::wilcoxon(&diffs).unwrap_or(Test {
                        statistic: 0.0,
                        p_value: 1.0,
                    }))
                })
                .flatten()
                .map(|t| ("wilcoxon", t));
            let mw = stats::mann_whitney(&vx, &vy).map(|t| ("mann_whitney", t));
            (effect, ci, paired_test, mw, stats::cliffs_delta(&vx, &vy))
        }
    };
    let p_value = paired_test
        .or(unpaired_test)
        .map(|(_, t)| t.p_value)
        .filter(|p| p.is_finite());
    Contrast {
        kind,
        cell: cell.cell.clone(),
        protocol: cell.protocol.clone(),
        population: cell.population.clone(),
        reference_cell: reference_cell.to_string(),
        measure,
        primary: measure == primary,
        effect,
        ci,
        pairs: if paired_ok { pairs.len() } else { 0 },
        paired: paired_test,
        unpaired: unpaired_test,
        cliffs_delta: delta,
        p_value,
        p_adjusted: None,
    }
}

/// The interaction of `cell`'s protocol with its population: (cell − the reference
/// protocol's cell of its population) − (the protocol's cell in the reference population
/// − the reference protocol's cell there), on `measure`, over the seeds all four cells
/// played. `runs` are the four cells' `ok` runs in that order; `other` is the protocol's
/// cell in the reference population. The interval is a bootstrap over those seeds; the
/// test Wilcoxon's signed-rank on each seed's difference of differences (survival years
/// for RMST: all censoring is at the horizon).
fn interaction(
    cell: &CellStats,
    other: &CellStats,
    measure: Measure,
    runs: &[Vec<&RunMetrics>; 4],
) -> Contrast {
    let by_seed: Vec<HashMap<u64, &RunMetrics>> = runs
        .iter()
        .map(|r| r.iter().map(|m| (m.seed, *m)).collect())
        .collect();
    let quartets: Vec<[&RunMetrics; 4]> = runs[0]
        .iter()
        .filter_map(|a| {
            Some([
                *a,
                *by_seed[1].get(&a.seed)?,
                *by_seed[2].get(&a.seed)?,
                *by_seed[3].get(&a.seed)?,
            ])
        })
        .collect();
    let horizon = cell.horizon as f64;
    fn column<'a>(q: &[[&'a RunMetrics; 4]], i: usize) -> Vec<&'a RunMetrics> {
        q.iter().map(|x| x[i]).collect()
    }
    // The measure of each of the four cells over some seeds, combined.
    let statistic = |q: &[[&RunMetrics; 4]]| -> f64 {
        let value = |runs: Vec<&RunMetrics>| match measure {
            Measure::Rmst => rmst_of(&runs, horizon),
            Measure::Survival => survival_rate(&runs),
            Measure::Outcome(o) => stats::mean(&runs.iter().map(|m| o.of(m)).collect::<Vec<_>>()),
        };
        (value(column(q, 0)) - value(column(q, 1))) - (value(column(q, 2)) - value(column(q, 3)))
    };
    let per_run = |m: &RunMetrics| match measure {
        Measure::Rmst => m.survival_years as f64,
        Measure::Survival => f64::from(!m.collapsed),
        Measure::Outcome(o) => o.of(m),
    };
    let diffs: Vec<f64> = quartets
        .iter()
        .map(|[a, b, c, d]| (per_run(a) - per_run(b)) - (per_run(c) - per_run(d)))
        .collect();
    let testable = quartets.len() >= MIN_REPLICATES;
    let ci = testable
        .then(|| {
            stats::paired_bootstrap_ci(
                &quartets,
                |s: &[&[&RunMetrics; 4]]| {
                    let q: Vec<[&RunMetrics; 4]> = s.iter().map(|x| **x).collect();
                    statistic(&q)
                },
                RESAMPLES,
                seed_of(&[
                    &cell.experiment,
                    own_population_of(cell),
                    "interaction",
                    measure.name(),
                ]),
            )
        })
        .flatten();
    let test = testable.then(|| {
        stats::wilcoxon(&diffs).unwrap_or(Test {
            statistic: 0.0,
            p_value: 1.0,
        })
    });
    Contrast {
        kind: ContrastKind::Interaction,
        cell: cell.cell.clone(),
        protocol: cell.protocol.clone(),
        population: cell.population.clone(),
        reference_cell: other.cell.clone(),
        measure,
        primary: true,
        effect: if quartets.is_empty() {
            f64::NAN
        } else {
            statistic(&quartets)
        },
        ci,
        pairs: if testable { quartets.len() } else { 0 },
        paired: test.map(|t| ("wilcoxon", t)),
        unpaired: None,
        cliffs_delta: None,
        p_value: test.map(|t| t.p_value).filter(|p| p.is_finite()),
        p_adjusted: None,
    }
}

/// Percentile bootstrap of a two-sample statistic, each sample resampled on its own.
fn unpaired_ci(
    x: &[&RunMetrics],
    y: &[&RunMetrics],
    statistic: impl Fn(&[&RunMetrics], &[&RunMetrics]) -> f64,
    seed: u64,
) -> Option<(f64, f64)> {
    stats::two_sample_bootstrap_ci(x, y, statistic, RESAMPLES, seed)
}

/// Mann–Whitney tests between every two protocols of a population, per outcome, with
/// Holm's correction within each (outcome, population) family. Exploratory.
/// The primary outcome is left out when it is one of them: its pairs are the primary
/// family's, with one p-value each.
fn pairwise(
    cells: &[CellStats],
    ok_by_cell: &HashMap<&str, Vec<&RunMetrics>>,
    primary: Measure,
) -> Vec<PairTest> {
    let ok_runs = |cell: &str| ok_by_cell.get(cell).cloned().unwrap_or_default();
    let mut populations: Vec<&str> = cells.iter().map(|c| c.population.as_str()).collect();
    populations.sort();
    populations.dedup();
    let mut out = Vec::new();
    for population in populations {
        let these: Vec<&CellStats> = cells
            .iter()
            .filter(|c| c.population == population && c.testable())
            .collect();
        for outcome in Outcome::ALL
            .into_iter()
            .filter(|o| Measure::Outcome(*o) != primary)
        {
            let values =
                |cell: &str| -> Vec<f64> { ok_runs(cell).iter().map(|m| outcome.of(m)).collect() };
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
                        outcome,
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
