//! Feedback adaptation, drift, convergence, structural anchors and the consensus probe.

use super::influence::{signal, years_of};
use super::read::RunData;
use std::collections::BTreeMap;

pub(super) fn l1(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

pub(super) fn l2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

pub(super) fn mean_of(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

pub(super) fn mean3(vs: &[[f64; 3]]) -> [f64; 3] {
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
pub(super) fn slope(ys: &[f64]) -> Option<f64> {
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
pub(super) fn feedback_np(d: &RunData, window: usize) -> Option<f64> {
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

pub(super) fn drift(d: &RunData) -> (Option<f64>, Option<f64>, Option<f64>) {
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

pub(super) fn dispersion(d: &RunData) -> Vec<f64> {
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

pub(super) fn centroid_step(d: &RunData) -> Option<f64> {
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
pub(super) fn pagerank(weights: &[Vec<f64>]) -> Vec<f64> {
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
/// Each year's PageRank of the teams (year index, one score per team).
pub(super) type YearRanks = Vec<(usize, Vec<f64>)>;

pub(super) fn anchors(d: &RunData) -> (Option<f64>, Option<usize>, YearRanks) {
    let years = years_of(d);
    let mut tops: Vec<Option<usize>> = Vec::new();
    let mut ranks = Vec::new();
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
        ranks.push((t, rank.clone()));
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
    (mean_of(&pairs), top, ranks)
}

/// An elected leader as the structural anchor: over the years in which anybody moved
/// anybody (PageRank not uniform), the share whose top team is the leader and the
/// leader's mean rank (1: the top); and the share of elections (every `term` years after
/// the first) the incumbent won.
pub(super) fn leadership(
    d: &RunData,
    ranks: &[(usize, Vec<f64>)],
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let leader_at = |t: usize| d.leaders.get(t).copied().flatten();
    let mut anchored = Vec::new();
    let mut positions = Vec::new();
    let uniform = 1.0 / d.teams.max(1) as f64;
    for (t, rank) in ranks {
        let Some(l) = leader_at(*t) else { continue };
        let Some(own) = rank.get(l) else { continue };
        // A year in which nobody moved anybody ranks every team alike: no anchor to find.
        if rank.iter().all(|r| *r <= uniform + 1e-6) {
            continue;
        }
        let position = 1 + rank.iter().filter(|r| *r > own).count();
        positions.push(position as f64);
        anchored.push(f64::from(u8::from(position == 1)));
    }
    let term = d.term.max(1);
    let reelected: Vec<f64> = (term..d.leaders.len())
        .step_by(term)
        .filter_map(|t| match (leader_at(t - 1), leader_at(t)) {
            (Some(before), Some(now)) => Some(f64::from(u8::from(before == now))),
            _ => None,
        })
        .collect();
    (mean_of(&anchored), mean_of(&positions), mean_of(&reelected))
}

pub(super) fn probe_metrics(d: &RunData) -> (Option<f64>, Option<f64>, Option<f64>) {
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
