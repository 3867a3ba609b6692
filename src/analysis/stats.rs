//! The statistics of the report, as small documented functions. Distributions come from
//! statrs; everything else is written here and checked against scipy and lifelines
//! (`tests/it/analysis_stats.rs`, fixtures made by `tests/fixtures/analysis/make_reference.py`).

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{
    Binomial, ChiSquared, ContinuousCDF, Discrete, DiscreteCDF, Hypergeometric, Normal,
};

/// Two-sided 95% normal quantile.
fn z95() -> f64 {
    Normal::standard().inverse_cdf(0.975)
}

/// Wilson score interval (95%) for `k` successes in `n` trials. `None` when `n = 0`.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = z95();
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let denom = 1.0 + z * z / n_f;
    let center = (p + z * z / (2.0 * n_f)) / denom;
    let half = z / denom * (p * (1.0 - p) / n_f + z * z / (4.0 * n_f * n_f)).sqrt();
    Some(((center - half).max(0.0), (center + half).min(1.0)))
}

/// One step of a Kaplan–Meier curve: survival just after `time`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmStep {
    pub time: f64,
    pub at_risk: u64,
    pub events: u64,
    pub survival: f64,
}

/// Kaplan–Meier estimate from `(time, event)` pairs (`event = false`: censored at
/// `time`). Steps at each distinct event time, in order; subjects censored at an event
/// time count as at risk there (the usual convention, as lifelines). The product is
/// computed as lifelines computes it, `exp(Σ ln((n − d) / n))` in that order of
/// operations, so that a curve that lands on 0.5 has the median lifelines reports.
pub fn kaplan_meier(data: &[(f64, bool)]) -> Vec<KmStep> {
    let mut sorted: Vec<(f64, bool)> = data.to_vec();
    // Unstable is enough: tied times are summed as one group whatever their order.
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut steps = Vec::new();
    let mut log_survival = 0.0f64;
    let mut at_risk = sorted.len() as u64;
    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].0;
        let mut events = 0;
        let mut leaving = 0;
        while i < sorted.len() && sorted[i].0 == t {
            events += u64::from(sorted[i].1);
            leaving += 1;
            i += 1;
        }
        if events > 0 {
            log_survival += ((at_risk - events) as f64).ln() - (at_risk as f64).ln();
            steps.push(KmStep {
                time: t,
                at_risk,
                events,
                survival: log_survival.exp(),
            });
        }
        at_risk -= leaving;
    }
    steps
}

/// Survival at time `t` of a Kaplan–Meier curve (right-continuous).
pub fn km_at(steps: &[KmStep], t: f64) -> f64 {
    steps
        .iter()
        .take_while(|s| s.time <= t)
        .last()
        .map_or(1.0, |s| s.survival)
}

/// Median survival as lifelines reports it: the first time the curve is at or below 0.5
/// (a curve that sits exactly at 0.5 has its median there); `None` when it stays above
/// 0.5 (more than half the runs survive the horizon).
pub fn km_median(steps: &[KmStep]) -> Option<f64> {
    steps.iter().find(|s| s.survival <= 0.5).map(|s| s.time)
}

/// Pointwise 95% confidence band of a Kaplan–Meier curve, as lifelines computes it:
/// Greenwood's variance on the log(−log S) scale ("exponential Greenwood"). One
/// `(low, high)` per step; a step at survival 0 or 1 has the band `(S, S)` there.
pub fn km_band(steps: &[KmStep]) -> Vec<(f64, f64)> {
    let z = z95();
    let mut greenwood = 0.0;
    steps
        .iter()
        .map(|s| {
            let (n, d) = (s.at_risk as f64, s.events as f64);
            if n > d {
                greenwood += d / (n * (n - d));
            }
            let surv = s.survival;
            if surv <= 0.0 || surv >= 1.0 {
                return (surv, surv);
            }
            let log = surv.ln();
            let se = (greenwood / (log * log)).sqrt();
            let loglog = (-log).ln();
            let low = (-(loglog + z * se).exp()).exp();
            let high = (-(loglog - z * se).exp()).exp();
            (low, high)
        })
        .collect()
}

/// Restricted mean survival time: the area under the curve from 0 to `horizon`.
pub fn rmst(steps: &[KmStep], horizon: f64) -> f64 {
    let mut area = 0.0;
    let mut previous = 0.0;
    let mut survival = 1.0;
    for s in steps.iter().take_while(|s| s.time <= horizon) {
        area += survival * (s.time - previous);
        previous = s.time;
        survival = s.survival;
    }
    area + survival * (horizon - previous)
}

/// Result of a test: statistic and two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Test {
    pub statistic: f64,
    pub p_value: f64,
}

/// Two-group log-rank test (χ², 1 degree of freedom). With no events at all the groups
/// cannot differ: statistic 0, p = 1.
pub fn logrank(a: &[(f64, bool)], b: &[(f64, bool)]) -> Test {
    let mut times: Vec<f64> = a.iter().chain(b).filter(|x| x.1).map(|x| x.0).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let (mut observed_minus_expected, mut variance) = (0.0, 0.0);
    for t in times {
        let n1 = a.iter().filter(|x| x.0 >= t).count() as f64;
        let n2 = b.iter().filter(|x| x.0 >= t).count() as f64;
        let d1 = a.iter().filter(|x| x.0 == t && x.1).count() as f64;
        let d2 = b.iter().filter(|x| x.0 == t && x.1).count() as f64;
        let (n, d) = (n1 + n2, d1 + d2);
        observed_minus_expected += d1 - n1 * d / n;
        if n > 1.0 {
            variance += n1 * n2 * d * (n - d) / (n * n * (n - 1.0));
        }
    }
    if variance <= 0.0 {
        return Test {
            statistic: 0.0,
            p_value: 1.0,
        };
    }
    let statistic = observed_minus_expected * observed_minus_expected / variance;
    let p_value = ChiSquared::new(1.0).map_or(f64::NAN, |c| c.sf(statistic));
    Test { statistic, p_value }
}

pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Percentile bootstrap 95% interval of the mean, `resamples` resamples drawn from a
/// ChaCha RNG seeded with `seed` (so reports are reproducible).
pub fn bootstrap_mean_ci(values: &[f64], resamples: usize, seed: u64) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = values.len();
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    Some((
        quantile_sorted(&means, 0.025),
        quantile_sorted(&means, 0.975),
    ))
}

/// Linear-interpolation quantile of sorted values (numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Mid-ranks (1-based) of the pooled sample, and the tie groups' sizes.
/// Whether two values are one value: equal up to the rounding of the arithmetic that made
/// them (relative 1e-9). Shares computed as 5/120 − 4/120 and 1/120 differ in their last
/// bits; a rank test must see them as the tie they are.
pub fn same_value(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn midranks(pooled: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&i, &j| pooled[i].total_cmp(&pooled[j]));
    let mut ranks = vec![0.0; pooled.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && same_value(pooled[order[j + 1]], pooled[order[i]]) {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        ties.push(j - i + 1);
        i = j + 1;
    }
    (ranks, ties)
}

/// Mann–Whitney U test, two-sided, normal approximation with tie and continuity
/// corrections (scipy's `mannwhitneyu(x, y, method="asymptotic")`). The statistic is
/// U of `x`. When every value is tied the test is undefined; p = 1 is returned.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<Test> {
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    if x.is_empty() || y.is_empty() {
        return None;
    }
    let pooled: Vec<f64> = x.iter().chain(y).cloned().collect();
    let (ranks, ties) = midranks(&pooled);
    let r1: f64 = ranks[..x.len()].iter().sum();
    let u1 = r1 - n1 * (n1 + 1.0) / 2.0;
    let u2 = n1 * n2 - u1;
    let n = n1 + n2;
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let sigma = (n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    if sigma.is_nan() || sigma <= 0.0 {
        return Some(Test {
            statistic: u1,
            p_value: 1.0,
        });
    }
    let u = u1.max(u2);
    let z = (u - n1 * n2 / 2.0 - 0.5) / sigma;
    let p = (2.0 * Normal::standard().sf(z)).min(1.0);
    Some(Test {
        statistic: u1,
        p_value: p,
    })
}

/// Wilcoxon signed-rank test of paired differences, two-sided, as scipy 1.17's
/// `wilcoxon(d)` with its defaults (`zero_method="wilcox"`, no continuity correction,
/// `method="auto"`): zero differences are dropped from the ranks; with more than 50
/// differences the normal approximation (tie-corrected); otherwise the exact null
/// distribution when there are neither ties nor zeros, the exact permutation
/// distribution of the signs when there are and at most 13 differences, and the normal
/// approximation beyond. The statistic is the smaller of the positive and negative rank
/// sums. `None` without a nonzero difference.
pub fn wilcoxon(differences: &[f64]) -> Option<Test> {
    let n_all = differences.len();
    // A difference that is zero up to rounding (relative to the largest one) is zero.
    let scale = differences.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let is_zero = |x: f64| x.abs() <= 1e-9 * scale;
    let had_zero = differences.iter().any(|x| is_zero(*x));
    let d: Vec<f64> = differences
        .iter()
        .copied()
        .filter(|x| !is_zero(*x))
        .collect();
    if d.is_empty() {
        return None;
    }
    let magnitudes: Vec<f64> = d.iter().map(|x| x.abs()).collect();
    let (ranks, ties) = midranks(&magnitudes);
    let w_plus: f64 = d
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    let n = d.len();
    let total = (n * (n + 1)) as f64 / 2.0;
    let statistic = w_plus.min(total - w_plus);
    let tied = ties.iter().any(|&t| t > 1);
    let p_value = if n_all > 50 {
        wilcoxon_normal(w_plus, n, &ties)
    } else if !tied && !had_zero {
        // counts[k] = sign assignments of the ranks 1..=n with W+ = k.
        let max = n * (n + 1) / 2;
        let mut counts = vec![0f64; max + 1];
        counts[0] = 1.0;
        for rank in 1..=n {
            for k in (rank..=max).rev() {
                counts[k] += counts[k - rank];
            }
        }
        let all: f64 = counts.iter().sum();
        let k = w_plus.round() as usize;
        let lower: f64 = counts[..=k].iter().sum::<f64>() / all;
        let upper: f64 = counts[k..].iter().sum::<f64>() / all;
        (2.0 * lower.min(upper)).min(1.0)
    } else if n_all <= 13 {
        // Every assignment of signs to the ranks (zeros have none).
        let (mut less, mut greater) = (0u64, 0u64);
        let gamma = (f64::EPSILON * 100.0 * w_plus).abs();
        for mask in 0u32..(1u32 << n) {
            let t: f64 = (0..n)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| ranks[i])
                .sum();
            less += u64::from(t <= w_plus + gamma);
            greater += u64::from(t >= w_plus - gamma);
        }
        let all = (1u64 << n) as f64;
        (2.0 * (less as f64 / all).min(greater as f64 / all)).min(1.0)
    } else {
        wilcoxon_normal(w_plus, n, &ties)
    };
    Some(Test { statistic, p_value })
}

/// The normal approximation of the signed-rank statistic, tie-corrected.
fn wilcoxon_normal(w_plus: f64, n: usize, ties: &[usize]) -> f64 {
    let n_f = n as f64;
    let mean = n_f * (n_f + 1.0) / 4.0;
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let var = (n_f * (n_f + 1.0) * (2.0 * n_f + 1.0) - tie_term / 2.0) / 24.0;
    if var <= 0.0 {
        return 1.0;
    }
    let z = (w_plus - mean) / var.sqrt();
    (2.0 * Normal::standard().sf(z.abs())).min(1.0)
}

/// McNemar's exact test of paired binary outcomes from the discordant counts: `b` pairs
/// where only the first collapsed, `c` where only the second did. Two-sided exact
/// binomial (scipy's `binomtest(min(b, c), b + c, 0.5)`); p = 1 without discordant pairs.
pub fn mcnemar(b: u64, c: u64) -> Test {
    let n = b + c;
    if n == 0 {
        return Test {
            statistic: 0.0,
            p_value: 1.0,
        };
    }
    let k = b.min(c);
    let Ok(binomial) = Binomial::new(0.5, n) else {
        return Test {
            statistic: k as f64,
            p_value: f64::NAN,
        };
    };
    Test {
        statistic: k as f64,
        p_value: (2.0 * binomial.cdf(k)).min(1.0),
    }
}

/// Percentile bootstrap 95% interval of a statistic of paired data: `pairs` are
/// resampled with replacement (as pairs), `resamples` times, from a ChaCha RNG seeded
/// with `seed`. `None` without data.
pub fn paired_bootstrap_ci<T>(
    pairs: &[T],
    statistic: impl Fn(&[&T]) -> f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if pairs.is_empty() {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = pairs.len();
    let values: Vec<f64> = (0..resamples)
        .map(|_| {
            let sample: Vec<&T> = (0..n).map(|_| &pairs[rng.random_range(0..n)]).collect();
            statistic(&sample)
        })
        .collect();
    percentile_interval(values)
}

/// Percentile bootstrap 95% interval of a two-sample statistic, each sample resampled
/// with replacement on its own (`x` first, then `y`, in every resample). `None` when a
/// sample is empty.
pub fn two_sample_bootstrap_ci<T: Copy>(
    x: &[T],
    y: &[T],
    statistic: impl Fn(&[T], &[T]) -> f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<f64> = (0..resamples)
        .map(|_| {
            let a: Vec<T> = (0..x.len())
                .map(|_| x[rng.random_range(0..x.len())])
                .collect();
            let b: Vec<T> = (0..y.len())
                .map(|_| y[rng.random_range(0..y.len())])
                .collect();
            statistic(&a, &b)
        })
        .collect();
    percentile_interval(values)
}

/// The 2.5% and 97.5% quantiles of bootstrap statistics, the non-finite ones dropped
/// (`None` when none is left).
fn percentile_interval(mut values: Vec<f64>) -> Option<(f64, f64)> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some((
        quantile_sorted(&values, 0.025),
        quantile_sorted(&values, 0.975),
    ))
}

/// Cliff's delta: P(x > y) − P(x < y) over all pairs, in [−1, 1].
pub fn cliffs_delta(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    let mut more = 0i64;
    let mut less = 0i64;
    for &a in x {
        for &b in y {
            if same_value(a, b) {
                continue;
            }
            if a > b {
                more += 1;
            } else if a < b {
                less += 1;
            }
        }
    }
    Some((more - less) as f64 / (x.len() * y.len()) as f64)
}

/// Holm's step-down adjustment of p-values (returned in the input order).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        let value = ((m - rank) as f64 * p_values[i]).min(1.0);
        running = running.max(value);
        adjusted[i] = running;
    }
    adjusted
}

/// Fisher's exact test, two-sided, for the 2×2 table `[[a, b], [c, d]]`: the sum of the
/// probabilities of all tables with the same margins that are no more likely than the
/// observed one (scipy's rule, with its relative tolerance of 1e-7).
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let total = a + b + c + d;
    let row1 = a + b;
    let col1 = a + c;
    if total == 0 || row1 == 0 || col1 == 0 || row1 == total || col1 == total {
        return 1.0;
    }
    let Ok(h) = Hypergeometric::new(total, col1, row1) else {
        return f64::NAN;
    };
    let observed = h.pmf(a);
    let lo = (row1 + col1).saturating_sub(total);
    let hi = row1.min(col1);
    let p: f64 = (lo..=hi)
        .map(|x| h.pmf(x))
        .filter(|&p| p <= observed * (1.0 + 1e-7))
        .sum();
    p.min(1.0)
}

/// A seed from a list of names (FNV-1a over their bytes, each followed by a 0): bootstrap
/// and permutation seeds that depend only on what is being estimated, never on the order
/// of the work.
pub fn seed_of(parts: &[&str]) -> u64 {
    parts.iter().fold(0xcbf29ce484222325u64, |h, p| {
        p.bytes()
            .chain([0])
            .fold(h, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaplan_meier_by_hand() {
        // Times 1, 2 (censored), 3, 3, 5 (censored).
        let data = [
            (1.0, true),
            (2.0, false),
            (3.0, true),
            (3.0, true),
            (5.0, false),
        ];
        let km = kaplan_meier(&data);
        assert_eq!(km.len(), 2);
        assert!((km[0].survival - 0.8).abs() < 1e-12);
        // At 3: 3 at risk, 2 events → 0.8 · 1/3.
        assert_eq!(km[1].at_risk, 3);
        assert!((km[1].survival - 0.8 / 3.0).abs() < 1e-12);
        assert_eq!(km_median(&km), Some(3.0));
        // RMST to 5: 1·1 + 0.8·2 + 0.2667·2.
        assert!((rmst(&km, 5.0) - (1.0 + 1.6 + 2.0 * 0.8 / 3.0)).abs() < 1e-12);
        assert_eq!(km_at(&km, 2.5), 0.8);
    }

    #[test]
    fn holm_is_monotone_and_capped() {
        let adj = holm(&[0.01, 0.04, 0.03, 0.5]);
        assert_eq!(adj, vec![0.04, 0.09, 0.09, 0.5]);
    }

    #[test]
    fn bootstrap_is_reproducible_and_brackets_the_mean() {
        let values: Vec<f64> = (0..30).map(|i| (i * 7 % 11) as f64).collect();
        let a = bootstrap_mean_ci(&values, 2000, 42).unwrap();
        assert_eq!(a, bootstrap_mean_ci(&values, 2000, 42).unwrap());
        let m = mean(&values);
        assert!(a.0 < m && m < a.1);
        assert_eq!(bootstrap_mean_ci(&[3.0], 2000, 1), Some((3.0, 3.0)));
    }
}
