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
//! construction (`tests/it/diagnose.rs`): imitators copying a leader, independents that
//! ignore the board.
//!
//! # Layout
//!
//! - this file: the options, the result types and the two entry points;
//! - `read`: the recorded files of each run as the series the tests need;
//! - `linalg`: the least-squares residuals behind the partial correlations;
//! - `influence`: the per-pair permutation tests on actions and on text;
//! - `dynamics`: feedback adaptation, drift, convergence, anchors and the probe;
//! - `aggregate`: per-run diagnostics and their per-cell summaries;
//! - `write`: `diagnostics.csv`, `influence.csv`, `diagnose.md` and the report's table.

mod aggregate;
mod dynamics;
mod influence;
mod linalg;
mod read;
mod write;

pub use write::{cell_table, influence_plot_stem, read_cells_csv, report_table, DIAGNOSTICS_CSV};

use super::embed::Embedder;
use super::load::{self, Loaded};
use super::AnalysisError;
use crate::record::RunStatus;
use aggregate::{cell_diagnostics, embed_all, run_diagnostics};
use read::{diagnosed, read_runs};
use std::collections::BTreeMap;
use std::path::PathBuf;
use write::fmt_estimate;

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
    /// Share of years the elected leader was the top PageRank team (`leader`).
    pub leader_anchor_share: Option<f64>,
    /// The leader's mean PageRank rank (1: the anchor).
    pub leader_rank: Option<f64>,
    /// Share of elections the incumbent won.
    pub reelection_share: Option<f64>,
    pub probe_agreement: Option<f64>,
    pub probe_nonexistent_team: Option<f64>,
    pub probe_ungrounded: Option<f64>,
}

/// The metrics summarised per cell, in report order: (name, channel, what it means).
pub const METRICS: [(&str, &str, &str); 18] = [
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
        "leader_anchor_share",
        "actions",
        "share of years the elected leader is the top PageRank team (the structural anchor)",
    ),
    (
        "leader_rank",
        "actions",
        "the elected leader's mean PageRank rank among the teams (1: the anchor)",
    ),
    (
        "reelection_share",
        "leader",
        "share of elections after the first that the incumbent won",
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
            ("leader_anchor_share", _) => self.leader_anchor_share,
            ("leader_rank", _) => self.leader_rank,
            ("reelection_share", _) => self.reelection_share,
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
                    RunStatus::Failed | RunStatus::Stopped => out.failed += 1,
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
    write::write(&diagnosis)?;
    Ok(diagnosis)
}
