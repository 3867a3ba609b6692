//! Influence of team i on team j: one-sided permutation tests on actions and on text.

use super::linalg::{basis, correlation, residual};
use super::read::RunData;
use super::{Channel, DiagnoseOptions, PairTest};
use crate::analysis::embed::{cosine, SparseVec};
use crate::analysis::stats::seed_of;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
/// i's signal in year t: its announced plan, else its decision of year t − 1.
pub(super) fn signal(d: &RunData, i: usize, t: usize) -> Option<[f64; 3]> {
    d.announced[i]
        .get(t)
        .copied()
        .flatten()
        .or_else(|| (t > 0).then(|| d.actions[i].get(t - 1).copied()).flatten())
}

pub(super) fn years_of(d: &RunData) -> usize {
    d.actions.iter().map(Vec::len).min().unwrap_or(0)
}

/// The action-channel influence test of i on j.
pub(super) fn action_test(
    d: &RunData,
    i: usize,
    j: usize,
    o: &DiagnoseOptions,
) -> Option<PairTest> {
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
pub(super) fn text_test(
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
