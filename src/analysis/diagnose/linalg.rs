//! Least squares by Gram–Schmidt: the residuals behind the partial correlations.

/// Orthonormal basis of the columns (modified Gram–Schmidt), dropping columns that are
/// (nearly) combinations of earlier ones.
pub(super) fn basis(columns: &[Vec<f64>]) -> Vec<Vec<f64>> {
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

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(super) fn residual(v: &[f64], q: &[Vec<f64>]) -> Vec<f64> {
    let mut r = v.to_vec();
    for b in q {
        let d = dot(&r, b);
        r.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
    }
    r
}

pub(super) fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    (na > 1e-9 && nb > 1e-9).then(|| dot(a, b) / (na * nb))
}
