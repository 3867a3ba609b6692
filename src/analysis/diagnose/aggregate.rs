//! Per-run diagnostics, and their summaries per cell across replicates.

use super::dynamics::{
    anchors, centroid_step, dispersion, drift, feedback_np, leadership, mean_of, probe_metrics,
    slope,
};
use super::influence::{action_test, text_test};
use super::read::RunData;
use super::{CellDiagnostics, Channel, DiagnoseOptions, Loaded, RunDiagnostics, Summary, METRICS};
use crate::analysis::embed::{cosine, Embedder, SparseVec};
use crate::analysis::stats::{self, seed_of};
use crate::analysis::AnalysisError;
use std::collections::BTreeMap;

/// The diagnostics of one run; `embeddings[team][t]` of its texts.
pub(super) fn run_diagnostics(
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
    let (anchor_persistence, top_anchor, ranks) = anchors(d);
    let (leader_anchor_share, leader_rank, reelection_share) = leadership(d, &ranks);
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
        leader_anchor_share,
        leader_rank,
        reelection_share,
        probe_agreement,
        probe_nonexistent_team,
        probe_ungrounded,
    }
}

/// Embed every team-year text of every run at once (one vocabulary, one call).
pub(super) fn embed_all(
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

pub(super) fn cell_diagnostics(
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
                        crate::analysis::compare::RESAMPLES,
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
