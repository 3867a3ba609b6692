//! Socialisation diagnostics (`fishbanks diagnose`): do the agents influence one another,
//! adapt to feedback, drift, converge, and do some of them anchor the others? The five
//! dimensions of the Moltbook study ("scalability without socialisation", arXiv
//! 2602.14299) adapted to Fishbanks, on two channels: *actions* (each agent-year's
//! order, deep and coast) and *text* (embeddings of what each team published in a year).
//!
//! Influence of team i on team j, per run: on actions, the partial correlation of j's
//! decision in year t with i's signal in year t (the plan i announced that year, else
//! i's decision of year t − 1), controlling for j's own decision of year t − 1 and the
//! densities both saw (the common shock); on text, how much closer j's next text came to
//! i's text than j's current one was. Both are one-sided permutation tests: i's years are
//! shuffled (199 times, seeded by the run and the pair), which keeps each series' values
//! and breaks only their alignment. Calibrated on populations whose influence is known by
//! construction (`tests/diagnose.rs`): imitators copying a leader, independents that
//! ignore the board.

use super::embed::{cosine, Embedder, SparseVec};
use super::load::{self, Loaded};
use super::stats;
use super::AnalysisError;
use crate::record::{
    unescape_text, write_atomic, AgentRow, MessageRow, RunFiles, RunRow, RunStatus, YearRow,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How to diagnose.
#[derive(Debug, Clone)]
pub struct DiagnoseOptions {
    /// Where to write (default: the first input directory).
    pub out: Option<PathBuf>,
    /// Permutations per influence test.
    pub permutations: usize,
    /// Significance level of an influence edge.
    pub alpha: f64,
    /// Past years the feedback-adaptation window looks at.
    pub window: usize,
    /// Also diagnose runs marked `invalid` (too many fallbacks): labelled as such; the
    /// fallbacks are in what they measure.
    pub include_invalid: bool,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        DiagnoseOptions {
            out: None,
            permutations: 199,
            alpha: 0.05,
            window: 5,
            include_invalid: false,
        }
    }
}

/// The two channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    Actions,
    Text,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Actions => "actions",
            Channel::Text => "text",
        }
    }
}

/// One influence test of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct PairTest {
    pub channel: Channel,
    pub source: usize,
    pub target: usize,
    /// Partial correlation (actions) or mean move toward the source (text).
    pub statistic: f64,
    pub p_value: f64,
}

/// The diagnostics of one run. `None`: not measurable in this run (too few years, no
/// texts, no probe).
#[derive(Debug, Clone, Default)]
pub struct RunDiagnostics {
    pub run_id: String,
    pub cell: String,
    pub tests: Vec<PairTest>,
    pub feedback_np: Option<f64>,
    pub drift_magnitude: Option<f64>,
    pub drift_consistency: Option<f64>,
    pub drift_pull: Option<f64>,
    pub dispersion_early: Option<f64>,
    pub dispersion_late: Option<f64>,
    pub dispersion_slope: Option<f64>,
    pub centroid_step: Option<f64>,
    pub text_similarity_slope: Option<f64>,
    pub anchor_persistence: Option<f64>,
    pub top_anchor: Option<usize>,
    pub probe_agreement: Option<f64>,
    pub probe_nonexistent_team: Option<f64>,
    pub probe_ungrounded: Option<f64>,
}

/// The metrics summarised per cell, in report order: (name, channel, what it means).
pub const METRICS: [(&str, &str, &str); 15] = [
    (
        "influence_detected_share",
        "actions",
        "share of ordered pairs with influence (p < alpha)",
    ),
    (
        "influence_detected_share",
        "text",
        "the same on the text channel",
    ),
    (
        "feedback_np",
        "actions",
        "net progress toward one's own most profitable recent year (> 0: adapts)",
    ),
    (
        "drift_magnitude",
        "actions",
        "distance between an agent's early and late mean decision",
    ),
    (
        "drift_consistency",
        "actions",
        "mean cosine of the agents' drift directions (1: all drift alike)",
    ),
    (
        "drift_pull",
        "actions",
        "how much closer to the group mean agents end than they started",
    ),
    (
        "dispersion_early",
        "actions",
        "mean pairwise distance of decisions, first half",
    ),
    (
        "dispersion_late",
        "actions",
        "mean pairwise distance of decisions, second half",
    ),
    (
        "dispersion_slope",
        "actions",
        "change of that distance per year (< 0: converging)",
    ),
    (
        "centroid_step",
        "actions",
        "how far the group's mean decision moves per year",
    ),
    (
        "text_similarity_slope",
        "text",
        "change per year of the mean pairwise similarity of texts",
    ),
    (
        "anchor_persistence",
        "actions",
        "share of consecutive years with the same top PageRank team",
    ),
    (
        "probe_agreement",
        "probe",
        "share of agents giving the modal total catch",
    ),
    (
        "probe_nonexistent_team",
        "probe",
        "share of answers naming a team that does not exist",
    ),
    (
        "probe_ungrounded",
        "probe",
        "share of answers whose number the agent was never shown",
    ),
];

impl RunDiagnostics {
    /// The value of a metric of [`METRICS`] in this run.
    pub fn metric(&self, name: &str, channel: &str, alpha: f64) -> Option<f64> {
        match (name, channel) {
            ("influence_detected_share", "actions") => self.detected_share(Channel::Actions, alpha),
            ("influence_detected_share", "text") => self.detected_share(Channel::Text, alpha),
            ("feedback_np", _) => self.feedback_np,
            ("drift_magnitude", _) => self.drift_magnitude,
            ("drift_consistency", _) => self.drift_consistency,
            ("drift_pull", _) => self.drift_pull,
            ("dispersion_early", _) => self.dispersion_early,
            ("dispersion_late", _) => self.dispersion_late,
            ("dispersion_slope", _) => self.dispersion_slope,
            ("centroid_step", _) => self.centroid_step,
            ("text_similarity_slope", _) => self.text_similarity_slope,
            ("anchor_persistence", _) => self.anchor_persistence,
            ("probe_agreement", _) => self.probe_agreement,
            ("probe_nonexistent_team", _) => self.probe_nonexistent_team,
            ("probe_ungrounded", _) => self.probe_ungrounded,
            _ => None,
        }
    }

    fn detected_share(&self, channel: Channel, alpha: f64) -> Option<f64> {
        let tests: Vec<&PairTest> = self.tests.iter().filter(|t| t.channel == channel).collect();
        (!tests.is_empty())
            .then(|| tests.iter().filter(|t| t.p_value < alpha).count() as f64 / tests.len() as f64)
    }
}

/// A metric of one cell across its runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Runs in which it could be measured.
    pub runs: usize,
    pub mean: f64,
    /// Bootstrap 95% interval across the runs.
    pub ci: Option<(f64, f64)>,
}

impl Summary {
    fn text(&self) -> String {
        fmt_estimate(self.runs, self.mean, self.ci)
    }
}

/// One cell's diagnostics across its `ok` runs.
#[derive(Debug, Clone)]
pub struct CellDiagnostics {
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub runs: usize,
    pub teams: usize,
    /// Per metric of [`METRICS`]: runs measured, mean, bootstrap 95% interval.
    pub metrics: Vec<Summary>,
    /// `[channel][source][target]`: share of runs in which the edge was detected (`NaN`:
    /// never tested).
    pub edges: BTreeMap<Channel, Vec<Vec<f64>>>,
    /// Team most often on top of the yearly PageRank, and in how many runs.
    pub anchor: Option<(usize, usize)>,
}

/// What `diagnose` produced.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub dir: PathBuf,
    pub runs: Vec<RunDiagnostics>,
    /// Recorded runs that were not diagnosed, by status, so that a reader sees them.
    pub left_out: LeftOut,
    pub cells: Vec<CellDiagnostics>,
    pub embedding: String,
    pub options: DiagnoseOptions,
}

/// Runs left out of the diagnostics: their agents did not really play (`invalid`, unless
/// `--include-invalid`), or the run did not finish (`failed`, `budget`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    pub invalid: usize,
    pub failed: usize,
    pub budget: usize,
}

impl LeftOut {
    fn count(loaded: &Loaded, include_invalid: bool) -> LeftOut {
        let mut out = LeftOut::default();
        for r in &loaded.runs {
            if !diagnosed(r, include_invalid) {
                match r.status {
                    RunStatus::Ok => {}
                    RunStatus::Invalid => out.invalid += 1,
                    RunStatus::Failed => out.failed += 1,
                    RunStatus::Budget => out.budget += 1,
                }
            }
        }
        out
    }

    pub fn total(&self) -> usize {
        self.invalid + self.failed + self.budget
    }
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} runs left out ({} invalid, {} failed, {} stopped by the budget)",
            self.total(),
            self.invalid,
            self.failed,
            self.budget
        )
    }
}

/// Whether the diagnostics read a run.
fn diagnosed(r: &RunRow, include_invalid: bool) -> bool {
    r.status.is_ok() || (include_invalid && r.status == RunStatus::Invalid)
}

/// Everything one run recorded that the diagnostics read.
#[derive(Debug, Default)]
struct RunData {
    run_id: String,
    cell: String,
    teams: usize,
    /// `[team][t]`: applied (order, deep, coast).
    actions: Vec<Vec<[f64; 3]>>,
    /// `[team][t]`: the plan announced in year t, if any.
    announced: Vec<Vec<Option<[f64; 3]>>>,
    /// `[team][t]`: revenue − operating costs.
    profit: Vec<Vec<f64>>,
    /// `[t]`: densities (deep, coast) at the start of the year.
    density: Vec<[f64; 2]>,
    /// (t, team, tac, set_by, grounded) of every probe answer.
    probes: Vec<(usize, usize, i64, i64, bool)>,
    /// `[team][t]`: everything the team published in the year, joined.
    texts: Vec<Vec<Option<String>>>,
}

/// Set `v[t]`, growing `v` with copies of `x` when needed.
fn put<T: Clone>(v: &mut Vec<T>, t: usize, x: T) {
    if v.len() <= t {
        v.resize(t + 1, x.clone());
    }
    v[t] = x;
}

fn triple(r: &AgentRow) -> [f64; 3] {
    [r.order as f64, r.deep as f64, r.coast as f64]
}

/// Read the texts, the densities and the agents' rows of every `ok` run.
fn read_runs(
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

/// Orthonormal basis of the columns (modified Gram–Schmidt), dropping columns that are
/// (nearly) combinations of earlier ones.
fn basis(columns: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut q: Vec<Vec<f64>> = Vec::new();
    for c in columns {
        let mut v = c.clone();
        for b in &q {
            let d = dot(&v, b);
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
        }
        let norm = dot(&v, &v).sqrt();
        if norm > 1e-9 * (1.0 + dot(c, c).sqrt()) {
            q.push(v.iter().map(|x| x / norm).collect());
        }
    }
    q
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn residual(v: &[f64], q: &[Vec<f64>]) -> Vec<f64> {
    let mut r = v.to_vec();
    for b in q {
        let d = dot(&r, b);
        r.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
    }
    r
}

fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    (na > 1e-9 && nb > 1e-9).then(|| dot(a, b) / (na * nb))
}

/// A seed for a test, from what it is about.
fn seed_of(parts: &[&str]) -> u64 {
    parts.iter().fold(0xcbf29ce484222325u64, |h, p| {
        p.bytes()
            .chain([0])
            .fold(h, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
    })
}

/// i's signal in year t: its announced plan, else its decision of year t − 1.
fn signal(d: &RunData, i: usize, t: usize) -> Option<[f64; 3]> {
    d.announced[i]
        .get(t)
        .copied()
        .flatten()
        .or_else(|| (t > 0).then(|| d.actions[i].get(t - 1).copied()).flatten())
}

fn years_of(d: &RunData) -> usize {
    d.actions.iter().map(Vec::len).min().unwrap_or(0)
}

/// The action-channel influence test of i on j.
fn action_test(d: &RunData, i: usize, j: usize, o: &DiagnoseOptions) -> Option<PairTest> {
    let years = years_of(d);
    let ts: Vec<usize> = (1..years).filter(|t| signal(d, i, *t).is_some()).collect();
    if ts.len() < 4 {
        return None;
    }
    let n = ts.len() * 3;
    let mut y = Vec::with_capacity(n);
    let mut columns = vec![vec![0.0; n]; 8];
    for (k, &t) in ts.iter().enumerate() {
        for c in 0..3 {
            let row = k * 3 + c;
            y.push(d.actions[j][t][c]);
            columns[c][row] = 1.0;
            columns[3][row] = d.actions[j][t - 1][c];
            let density = d.density.get(t).copied().unwrap_or([0.0, 0.0]);
            columns[4][row] = density[0];
            columns[5][row] = density[1];
            // The source's own previous decision: what its signal was predictable from.
            columns[6][row] = d.actions[i][t - 1][c];
            // A common trend (fleets growing towards their target) is no influence.
            columns[7][row] = t as f64;
        }
    }
    let q = basis(&columns);
    let ry = residual(&y, &q);
    let x_of = |order: &[usize]| -> Vec<f64> {
        let mut x = Vec::with_capacity(n);
        for &k in order {
            let s = signal(d, i, ts[k]).unwrap_or([0.0; 3]);
            x.extend_from_slice(&s);
        }
        x
    };
    let identity: Vec<usize> = (0..ts.len()).collect();
    let r = correlation(&ry, &residual(&x_of(&identity), &q))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed_of(&[
        &d.run_id,
        "actions",
        &i.to_string(),
        &j.to_string(),
    ]));
    let mut order = identity.clone();
    let mut as_extreme = 0;
    for _ in 0..o.permutations {
        order.shuffle(&mut rng);
        let rx = residual(&x_of(&order), &q);
        if correlation(&ry, &rx).unwrap_or(0.0) >= r {
            as_extreme += 1;
        }
    }
    Some(PairTest {
        channel: Channel::Actions,
        source: i,
        target: j,
        statistic: r,
        p_value: (1 + as_extreme) as f64 / (1 + o.permutations) as f64,
    })
}

/// The text-channel influence test of i on j: how much closer j's text of year t + 1
/// came to i's text of year t than j's text of year t was.
fn text_test(
    run_id: &str,
    e: &[Vec<Option<SparseVec>>],
    i: usize,
    j: usize,
    o: &DiagnoseOptions,
) -> Option<PairTest> {
    let years = e[i].len().max(e[j].len());
    let get = |a: usize, t: usize| e[a].get(t).and_then(Option::as_ref);
    let ts: Vec<usize> = (0..years.saturating_sub(1))
        .filter(|t| get(i, *t).is_some() && get(j, *t).is_some() && get(j, t + 1).is_some())
        .collect();
    if ts.len() < 3 {
        return None;
    }
    let move_toward = |source: &[usize]| -> f64 {
        ts.iter()
            .zip(source)
            .map(|(&t, &s)| {
                let ei = get(i, s).map_or(&Vec::new(), |v| v).clone();
                let (now, next) = (get(j, t), get(j, t + 1));
                match (now, next) {
                    (Some(now), Some(next)) => cosine(next, &ei) - cosine(now, &ei),
                    _ => 0.0,
                }
            })
            .sum::<f64>()
            / ts.len() as f64
    };
    let statistic = move_toward(&ts);
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed_of(&[run_id, "text", &i.to_string(), &j.to_string()]));
    let mut order = ts.clone();
    let mut as_extreme = 0;
    for _ in 0..o.permutations {
        order.shuffle(&mut rng);
        if move_toward(&order) >= statistic - 1e-12 {
            as_extreme += 1;
        }
    }
    Some(PairTest {
        channel: Channel::Text,
        source: i,
        target: j,
        statistic,
        p_value: (1 + as_extreme) as f64 / (1 + o.permutations) as f64,
    })
}

fn l1(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

fn l2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

fn mean_of(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn mean3(vs: &[[f64; 3]]) -> [f64; 3] {
    let n = vs.len().max(1) as f64;
    let mut m = [0.0; 3];
    for v in vs {
        for c in 0..3 {
            m[c] += v[c] / n;
        }
    }
    m
}

/// OLS slope of `ys` over 0, 1, 2, …
fn slope(ys: &[f64]) -> Option<f64> {
    if ys.len() < 3 {
        return None;
    }
    let n = ys.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = (0..ys.len()).map(|x| (x as f64 - mx).powi(2)).sum();
    let sxy: f64 = ys
        .iter()
        .enumerate()
        .map(|(x, y)| (x as f64 - mx) * (y - my))
        .sum();
    Some(sxy / sxx)
}

/// Net progress toward one's own most profitable recent year and away from the least
/// profitable one (Moltbook's NP), averaged over agent-years.
fn feedback_np(d: &RunData, window: usize) -> Option<f64> {
    let years = years_of(d);
    let mut values = Vec::new();
    for a in 0..d.teams {
        for t in 2..years {
            let from = t.saturating_sub(window);
            let past: Vec<usize> = (from..t).collect();
            let best = past
                .iter()
                .copied()
                .max_by(|x, y| d.profit[a][*x].total_cmp(&d.profit[a][*y]));
            let worst = past
                .iter()
                .copied()
                .min_by(|x, y| d.profit[a][*x].total_cmp(&d.profit[a][*y]));
            let (Some(b), Some(w)) = (best, worst) else {
                continue;
            };
            if d.profit[a][b] == d.profit[a][w] {
                continue;
            }
            let (prev, now) = (&d.actions[a][t - 1], &d.actions[a][t]);
            let (ab, aw) = (&d.actions[a][b], &d.actions[a][w]);
            values.push((l1(prev, ab) - l1(now, ab)) - (l1(prev, aw) - l1(now, aw)));
        }
    }
    mean_of(&values)
}

fn drift(d: &RunData) -> (Option<f64>, Option<f64>, Option<f64>) {
    let years = years_of(d);
    if years < 4 {
        return (None, None, None);
    }
    let half = years / 2;
    let early: Vec<[f64; 3]> = (0..d.teams).map(|a| mean3(&d.actions[a][..half])).collect();
    let late: Vec<[f64; 3]> = (0..d.teams)
        .map(|a| mean3(&d.actions[a][half..years]))
        .collect();
    let deltas: Vec<[f64; 3]> = early
        .iter()
        .zip(&late)
        .map(|(e, l)| [l[0] - e[0], l[1] - e[1], l[2] - e[2]])
        .collect();
    let zero = [0.0; 3];
    let magnitude = mean_of(&deltas.iter().map(|x| l2(x, &zero)).collect::<Vec<_>>());
    let mut cosines = Vec::new();
    for a in 0..deltas.len() {
        for b in a + 1..deltas.len() {
            let (x, y) = (&deltas[a], &deltas[b]);
            let (nx, ny) = (l2(x, &zero), l2(y, &zero));
            if nx > 1e-9 && ny > 1e-9 {
                cosines.push((x[0] * y[0] + x[1] * y[1] + x[2] * y[2]) / (nx * ny));
            }
        }
    }
    let (ge, gl) = (mean3(&early), mean3(&late));
    let pull = mean_of(
        &(0..d.teams)
            .map(|a| l2(&early[a], &ge) - l2(&late[a], &gl))
            .collect::<Vec<_>>(),
    );
    (magnitude, mean_of(&cosines), pull)
}

fn dispersion(d: &RunData) -> Vec<f64> {
    (0..years_of(d))
        .map(|t| {
            let mut ds = Vec::new();
            for a in 0..d.teams {
                for b in a + 1..d.teams {
                    ds.push(l2(&d.actions[a][t], &d.actions[b][t]));
                }
            }
            mean_of(&ds).unwrap_or(0.0)
        })
        .collect()
}

fn centroid_step(d: &RunData) -> Option<f64> {
    let years = years_of(d);
    let centroids: Vec<[f64; 3]> = (0..years)
        .map(|t| mean3(&(0..d.teams).map(|a| d.actions[a][t]).collect::<Vec<_>>()))
        .collect();
    mean_of(
        &centroids
            .windows(2)
            .map(|w| l2(&w[0], &w[1]))
            .collect::<Vec<_>>(),
    )
}

/// PageRank of a graph given as `weights[i][j]` = how much j followed i; rank flows from
/// followers to the followed, so anchors rank high.
fn pagerank(weights: &[Vec<f64>]) -> Vec<f64> {
    let n = weights.len();
    let mut rank = vec![1.0 / n as f64; n];
    let out: Vec<f64> = (0..n)
        .map(|j| (0..n).map(|i| weights[i][j]).sum())
        .collect();
    for _ in 0..100 {
        let mut next = vec![0.15 / n as f64; n];
        for j in 0..n {
            if out[j] <= 0.0 {
                for r in next.iter_mut() {
                    *r += 0.85 * rank[j] / n as f64;
                }
            } else {
                for i in 0..n {
                    next[i] += 0.85 * rank[j] * weights[i][j] / out[j];
                }
            }
        }
        rank = next;
    }
    rank
}

/// Persistence of the yearly top anchor: share of consecutive years with the same top
/// team (the Jaccard index of one-element sets), and the team most often on top.
fn anchors(d: &RunData) -> (Option<f64>, Option<usize>) {
    let years = years_of(d);
    let mut tops: Vec<Option<usize>> = Vec::new();
    for t in 1..years {
        let mut w = vec![vec![0.0; d.teams]; d.teams];
        for (i, row) in w.iter_mut().enumerate() {
            let Some(s) = signal(d, i, t) else { continue };
            for (j, cell) in row.iter_mut().enumerate() {
                if i == j {
                    continue;
                }
                let gap = l1(&d.actions[j][t - 1], &s);
                if gap > 0.0 {
                    *cell = ((gap - l1(&d.actions[j][t], &s)) / gap).max(0.0);
                }
            }
        }
        let rank = pagerank(&w);
        let (top, best) =
            rank.iter().enumerate().fold(
                (0, f64::MIN),
                |acc, (i, r)| if *r > acc.1 { (i, *r) } else { acc },
            );
        tops.push((best > 1.0 / d.teams as f64 + 1e-6).then_some(top));
    }
    let pairs: Vec<f64> = tops
        .windows(2)
        .filter_map(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) => Some(f64::from(u8::from(a == b))),
            _ => None,
        })
        .collect();
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for t in tops.iter().flatten() {
        *counts.entry(*t).or_default() += 1;
    }
    let top = counts
        .iter()
        .max_by_key(|(t, c)| (**c, std::cmp::Reverse(**t)))
        .map(|(t, _)| *t);
    (mean_of(&pairs), top)
}

fn probe_metrics(d: &RunData) -> (Option<f64>, Option<f64>, Option<f64>) {
    if d.probes.is_empty() {
        return (None, None, None);
    }
    let mut by_year: BTreeMap<usize, Vec<(i64, i64, bool)>> = BTreeMap::new();
    for &(t, _, tac, set_by, grounded) in &d.probes {
        by_year.entry(t).or_default().push((tac, set_by, grounded));
    }
    let mut agreement = Vec::new();
    for answers in by_year.values() {
        let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
        for (tac, _, _) in answers {
            *counts.entry(*tac).or_default() += 1;
        }
        let modal = counts.values().max().copied().unwrap_or(0);
        agreement.push(modal as f64 / answers.len() as f64);
    }
    let n = d.probes.len() as f64;
    let teams = d.teams as i64;
    let nonexistent = d.probes.iter().filter(|p| p.3 > teams || p.3 < 0).count() as f64 / n;
    let ungrounded = d.probes.iter().filter(|p| !p.4).count() as f64 / n;
    (mean_of(&agreement), Some(nonexistent), Some(ungrounded))
}

/// The diagnostics of one run; `embeddings[team][t]` of its texts.
fn run_diagnostics(
    d: &RunData,
    embeddings: &[Vec<Option<SparseVec>>],
    o: &DiagnoseOptions,
) -> RunDiagnostics {
    let mut tests = Vec::new();
    for i in 0..d.teams {
        for j in 0..d.teams {
            if i == j {
                continue;
            }
            tests.extend(action_test(d, i, j, o));
            tests.extend(text_test(&d.run_id, embeddings, i, j, o));
        }
    }
    let (drift_magnitude, drift_consistency, drift_pull) = drift(d);
    let disp = dispersion(d);
    let half = disp.len() / 2;
    let text_similarity: Vec<f64> = (0..embeddings.iter().map(Vec::len).max().unwrap_or(0))
        .filter_map(|t| {
            let vs: Vec<&SparseVec> = embeddings
                .iter()
                .filter_map(|e| e.get(t)?.as_ref())
                .collect();
            let mut sims = Vec::new();
            for a in 0..vs.len() {
                for b in a + 1..vs.len() {
                    sims.push(cosine(vs[a], vs[b]));
                }
            }
            mean_of(&sims)
        })
        .collect();
    let (anchor_persistence, top_anchor) = anchors(d);
    let (probe_agreement, probe_nonexistent_team, probe_ungrounded) = probe_metrics(d);
    RunDiagnostics {
        run_id: d.run_id.clone(),
        cell: d.cell.clone(),
        tests,
        feedback_np: feedback_np(d, o.window),
        drift_magnitude,
        drift_consistency,
        drift_pull,
        dispersion_early: (half > 0).then(|| mean_of(&disp[..half])).flatten(),
        dispersion_late: (half > 0).then(|| mean_of(&disp[half..])).flatten(),
        dispersion_slope: slope(&disp),
        centroid_step: centroid_step(d),
        text_similarity_slope: slope(&text_similarity),
        anchor_persistence,
        top_anchor,
        probe_agreement,
        probe_nonexistent_team,
        probe_ungrounded,
    }
}

/// Embed every team-year text of every run at once (one vocabulary, one call).
fn embed_all(
    runs: &[RunData],
    embedder: &mut dyn Embedder,
) -> Result<Vec<Vec<Vec<Option<SparseVec>>>>, AnalysisError> {
    let mut texts = Vec::new();
    for d in runs {
        for team in &d.texts {
            texts.extend(team.iter().flatten().cloned());
        }
    }
    let mut vectors = if texts.is_empty() {
        Vec::new()
    } else {
        embedder.embed(&texts).map_err(AnalysisError::Embedding)?
    }
    .into_iter();
    Ok(runs
        .iter()
        .map(|d| {
            d.texts
                .iter()
                .map(|team| {
                    team.iter()
                        .map(|t| t.as_ref().and_then(|_| vectors.next()))
                        .collect()
                })
                .collect()
        })
        .collect())
}

fn cell_diagnostics(
    loaded: &Loaded,
    runs: &[RunDiagnostics],
    o: &DiagnoseOptions,
) -> Vec<CellDiagnostics> {
    loaded
        .cells
        .iter()
        .map(|c| {
            let of_cell: Vec<&RunDiagnostics> = runs.iter().filter(|r| r.cell == c.cell).collect();
            let teams = loaded.experiment_of(&c.cell).teams;
            let metrics = METRICS
                .iter()
                .map(|(name, channel, _)| {
                    let values: Vec<f64> = of_cell
                        .iter()
                        .filter_map(|r| r.metric(name, channel, o.alpha))
                        .filter(|v| v.is_finite())
                        .collect();
                    let ci = stats::bootstrap_mean_ci(
                        &values,
                        super::compare::RESAMPLES,
                        seed_of(&[&c.cell, name, channel]),
                    );
                    Summary {
                        runs: values.len(),
                        mean: stats::mean(&values),
                        ci,
                    }
                })
                .collect();
            let mut edges = BTreeMap::new();
            for channel in [Channel::Actions, Channel::Text] {
                let mut tested = vec![vec![0usize; teams]; teams];
                let mut detected = vec![vec![0usize; teams]; teams];
                for r in &of_cell {
                    for t in r.tests.iter().filter(|t| t.channel == channel) {
                        if t.source < teams && t.target < teams {
                            tested[t.source][t.target] += 1;
                            detected[t.source][t.target] += usize::from(t.p_value < o.alpha);
                        }
                    }
                }
                let share: Vec<Vec<f64>> = (0..teams)
                    .map(|i| {
                        (0..teams)
                            .map(|j| {
                                if tested[i][j] == 0 {
                                    f64::NAN
                                } else {
                                    detected[i][j] as f64 / tested[i][j] as f64
                                }
                            })
                            .collect()
                    })
                    .collect();
                edges.insert(channel, share);
            }
            let mut anchors: BTreeMap<usize, usize> = BTreeMap::new();
            for r in &of_cell {
                if let Some(t) = r.top_anchor {
                    *anchors.entry(t).or_default() += 1;
                }
            }
            CellDiagnostics {
                cell: c.cell.clone(),
                protocol: c.protocol.clone(),
                population: c.population.clone(),
                runs: of_cell.len(),
                teams,
                metrics,
                edges,
                anchor: anchors
                    .into_iter()
                    .max_by_key(|(t, n)| (*n, std::cmp::Reverse(*t))),
            }
        })
        .collect()
}

/// Compute the diagnostics of results directories, without writing anything.
pub fn compute(
    inputs: &[PathBuf],
    options: &DiagnoseOptions,
    embedder: &mut dyn Embedder,
) -> Result<Diagnosis, AnalysisError> {
    let loaded = load::load(inputs, false)?;
    let data = read_runs(&loaded, inputs, options.include_invalid)?;
    let embeddings = embed_all(&data, embedder)?;
    let runs: Vec<RunDiagnostics> = data
        .iter()
        .zip(&embeddings)
        .map(|(d, e)| run_diagnostics(d, e, options))
        .collect();
    let cells = cell_diagnostics(&loaded, &runs, options);
    Ok(Diagnosis {
        dir: options.out.clone().unwrap_or_else(|| inputs[0].clone()),
        runs,
        left_out: LeftOut::count(&loaded, options.include_invalid),
        cells,
        embedding: embedder.label(),
        options: options.clone(),
    })
}

/// Compute the diagnostics and write `diagnostics.csv` (per cell and metric),
/// `influence.csv` (every test of every run), `diagnose.md` and
/// `plots/influence-<cell>.svg`.
pub fn diagnose(
    inputs: &[PathBuf],
    options: &DiagnoseOptions,
    embedder: &mut dyn Embedder,
) -> Result<Diagnosis, AnalysisError> {
    let diagnosis = compute(inputs, options, embedder)?;
    let dir = &diagnosis.dir;
    write_atomic(
        &dir.join(DIAGNOSTICS_CSV),
        cells_csv(&diagnosis).as_bytes(),
        false,
    )?;
    write_atomic(
        &dir.join("influence.csv"),
        influence_csv(&diagnosis).as_bytes(),
        false,
    )?;
    write_atomic(
        &dir.join("diagnose.md"),
        markdown(&diagnosis).as_bytes(),
        false,
    )?;
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|source| AnalysisError::Io {
        path: plots.clone(),
        source,
    })?;
    let graphs: Vec<super::figures::Figure> = diagnosis
        .cells
        .iter()
        .map(|c| {
            Ok(super::figures::Figure {
                title: format!("Influence: {}", c.cell),
                stem: influence_plot_stem(&c.cell),
                svg: super::figures::influence_graph(c)?,
            })
        })
        .collect::<Result<_, AnalysisError>>()?;
    super::write_figures(&plots, &graphs, None)?;
    Ok(diagnosis)
}

/// The per-cell file, which the report reads for its socialisation section.
pub const DIAGNOSTICS_CSV: &str = "diagnostics.csv";

/// File stem of a cell's influence graph (`plots/<stem>.svg`).
pub fn influence_plot_stem(cell: &str) -> String {
    format!("influence-{}", RunFiles::safe_stem(cell))
}

fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or(String::new(), |v| format!("{v}"))
}

fn cells_csv(d: &Diagnosis) -> String {
    let mut out =
        String::from("cell,protocol,population,channel,metric,n,estimate,ci_low,ci_high\n");
    for c in &d.cells {
        for ((name, channel, _), m) in METRICS.iter().zip(&c.metrics) {
            let (n, mean, ci) = (m.runs, m.mean, m.ci);
            let _ = writeln!(
                out,
                "{},{},{},{channel},{name},{n},{},{},{}",
                c.cell,
                c.protocol,
                c.population,
                num(Some(mean)),
                num(ci.map(|x| x.0)),
                num(ci.map(|x| x.1)),
            );
        }
    }
    out
}

fn influence_csv(d: &Diagnosis) -> String {
    let mut out = String::from("run_id,cell,channel,source,target,statistic,p_value\n");
    for r in &d.runs {
        for t in &r.tests {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{}",
                r.run_id,
                r.cell,
                t.channel.name(),
                t.source,
                t.target,
                t.statistic,
                t.p_value
            );
        }
    }
    out
}

fn fmt_estimate(n: usize, mean: f64, ci: Option<(f64, f64)>) -> String {
    if n == 0 || !mean.is_finite() {
        return "–".into();
    }
    match ci {
        Some((lo, hi)) if n > 1 => format!("{mean:.2} [{lo:.2}, {hi:.2}]"),
        _ => format!("{mean:.2}"),
    }
}

/// The metrics of [`METRICS`] the summary tables show.
const KEY_METRICS: [usize; 8] = [0, 1, 2, 5, 8, 11, 12, 14];

/// The report's socialisation section: the key metrics of a `diagnostics.csv` a previous
/// `fishbanks diagnose` wrote into `dir` (`None` when there is none).
pub fn report_table(dir: &Path) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let path = dir.join(DIAGNOSTICS_CSV);
    let mut reader = csv::Reader::from_path(&path).ok()?;
    // cell → metric index → (n, estimate, ci)
    let mut cells: Vec<(String, BTreeMap<usize, Summary>)> = Vec::new();
    for record in reader.records() {
        let r = record.ok()?;
        let (cell, channel, metric) = (r.get(0)?, r.get(3)?, r.get(4)?);
        let Some(k) = METRICS
            .iter()
            .position(|(n, c, _)| *n == metric && *c == channel)
        else {
            continue;
        };
        let n: usize = r.get(5)?.parse().unwrap_or(0);
        let value = |i: usize| r.get(i).and_then(|v| v.parse::<f64>().ok());
        let ci = value(7).zip(value(8));
        if cells.last().is_none_or(|(c, _)| c != cell) {
            cells.push((cell.to_string(), BTreeMap::new()));
        }
        if let Some((_, m)) = cells.last_mut() {
            m.insert(
                k,
                Summary {
                    runs: n,
                    mean: value(6).unwrap_or(f64::NAN),
                    ci,
                },
            );
        }
    }
    let mut header = vec!["cell".to_string()];
    header.extend(KEY_METRICS.iter().map(|k| {
        let (name, channel, _) = METRICS[*k];
        format!("{name} ({channel})")
    }));
    let rows = cells
        .into_iter()
        .map(|(cell, m)| {
            let mut r = vec![cell];
            r.extend(
                KEY_METRICS
                    .iter()
                    .map(|k| m.get(k).map_or("–".into(), Summary::text)),
            );
            r
        })
        .collect();
    Some((header, rows))
}

/// The per-cell table of the key metrics.
pub fn cell_table(d: &Diagnosis) -> (Vec<String>, Vec<Vec<String>>) {
    let keys = KEY_METRICS;
    let mut header = vec!["cell".to_string(), "runs".to_string()];
    header.extend(keys.iter().map(|k| {
        let (name, channel, _) = METRICS[*k];
        format!("{name} ({channel})")
    }));
    header.push("top anchor (runs)".into());
    let rows = d
        .cells
        .iter()
        .map(|c| {
            let mut r = vec![c.cell.clone(), c.runs.to_string()];
            r.extend(keys.iter().map(|k| c.metrics[*k].text()));
            r.push(
                c.anchor
                    .map_or("–".into(), |(t, n)| format!("team {} ({n})", t + 1)),
            );
            r
        })
        .collect();
    (header, rows)
}

fn table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
}

fn markdown(d: &Diagnosis) -> String {
    let mut out = String::from("# Socialisation diagnostics\n\n");
    if d.options.include_invalid {
        out.push_str("> **Runs marked `invalid` are included** (`--include-invalid`): their agents' fallbacks are part of what these numbers measure.\n\n");
    }
    let _ = writeln!(
        out,
        "{} runs; {}; text embedding: {}; influence: one-sided permutation tests ({} permutations), an edge when p < {}.\n",
        d.runs.len(),
        d.left_out,
        d.embedding,
        d.options.permutations,
        d.options.alpha
    );
    let (header, rows) = cell_table(d);
    table(&mut out, &header, &rows);
    out.push_str("\nMean over runs [bootstrap 95% interval across replicates]; – : not measurable (no texts, no probe, too few years).\n\n## All metrics\n\n");
    let mut header = vec!["cell".to_string()];
    header.extend(METRICS.iter().map(|(n, c, _)| format!("{n} ({c})")));
    let rows: Vec<Vec<String>> = d
        .cells
        .iter()
        .map(|c| {
            let mut r = vec![c.cell.clone()];
            r.extend(c.metrics.iter().map(Summary::text));
            r
        })
        .collect();
    table(&mut out, &header, &rows);
    out.push_str("\n## Influence edges\n\nShare of runs in which team i (row) influenced team j (column), actions channel; `plots/influence-<cell>.svg` draws them.\n\n");
    for c in &d.cells {
        let _ = writeln!(out, "### {}\n", c.cell);
        let mut header = vec!["from \\ to".to_string()];
        header.extend((1..=c.teams).map(|t| format!("team {t}")));
        let rows: Vec<Vec<String>> = c.edges[&Channel::Actions]
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut r = vec![format!("team {}", i + 1)];
                r.extend(row.iter().map(|v| {
                    if v.is_finite() {
                        format!("{v:.2}")
                    } else {
                        "–".into()
                    }
                }));
                r
            })
            .collect();
        table(&mut out, &header, &rows);
        out.push('\n');
    }
    out.push_str("## What the metrics mean\n\n");
    for (name, channel, what) in METRICS {
        let _ = writeln!(out, "- `{name}` ({channel}): {what}.");
    }
    out.push_str("\nInfluence on actions: the partial correlation of team j's decision in year t with team i's signal (the plan i announced that year, else its decision of the year before), controlling for j's own previous decision and the densities of the year; on text: how much closer j's next text came to i's text than j's text of that year was. Both are tested against i's years shuffled.\n");
    out
}

/// Read the per-cell diagnostics file a previous `diagnose` wrote (for the report), if
/// there is one.
pub fn read_cells_csv(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(DIAGNOSTICS_CSV)).ok()
}
