//! The communication-volume confound: each run's published tokens per agent-year
//! against its primary outcome.

use super::draw::*;
use crate::analysis::compare::Comparison;
use crate::analysis::metrics::{Measure, RunMetrics};
use crate::analysis::AnalysisError;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Pixels between the markers of protocols whose points coincide.
const DODGE: i32 = 11;

/// Horizontal offsets of `k` markers that share a pixel: centred on it, `DODGE` apart.
fn dodge(k: usize) -> Vec<i32> {
    let k = k as i32;
    (0..k).map(|j| (2 * j - (k - 1)) * DODGE / 2).collect()
}

/// A figure of one panel per population under the shared header.
fn per_population(
    legend: &Legend,
    populations: &[String],
    title: &str,
    subtitle: &str,
    mut draw: impl FnMut(&DrawingArea<SVGBackend<'_>, Shift>, &String) -> Result<(), AnalysisError>,
) -> Result<String, AnalysisError> {
    let (rows, cols) = grid(populations.len());
    let head = Header {
        title,
        subtitle,
        legend,
    };
    figure_svg(
        PANEL_W * cols as u32,
        PANEL_H * rows as u32,
        &head,
        |body| {
            for (area, population) in body.split_evenly((rows, cols)).iter().zip(populations) {
                draw(area, population)?;
            }
            Ok(())
        },
    )
}

/// The communication-volume confound: each run's published tokens per agent-year
/// against its value of the primary outcome, one panel per population.
pub(super) fn figure(
    legend: &Legend,
    populations: &[String],
    cmp: &Comparison,
    metrics: &[RunMetrics],
) -> Result<String, AnalysisError> {
    let value = |m: &RunMetrics| match cmp.primary {
        Measure::Rmst | Measure::Survival => m.survival_years as f64,
        Measure::Outcome(o) => o.of(m),
    };
    let y_label = match cmp.primary {
        Measure::Rmst | Measure::Survival => "years before collapse".to_string(),
        Measure::Outcome(o) => o.name().to_string(),
    };
    let subtitle = "one point per run: tokens the agents published per agent-year (messages, intentions) against the outcome; protocols whose points coincide are set side by side";
    per_population(
        legend,
        populations,
        "Communication volume and the primary outcome",
        subtitle,
        |area, population| {
            let points: Vec<(&str, f64, f64)> = metrics
                .iter()
                .filter(|m| &m.population == population && m.status.is_ok())
                .map(|m| (m.protocol.as_str(), m.talk_tokens_per_agent_year, value(m)))
                .filter(|(_, x, y)| x.is_finite() && y.is_finite())
                .collect();
            let x_max = points.iter().map(|p| p.1).fold(1.0f64, f64::max) * 1.08;
            let y_max = points.iter().map(|p| p.2).fold(1.0f64, f64::max) * 1.08;
            let y_min = points.iter().map(|p| p.2).fold(0.0f64, f64::min);
            let chart = panel(
                area,
                Axes {
                    caption: population.clone(),
                    x: 0f64..x_max,
                    y: y_min..y_max,
                    x_desc: "talk tokens per agent-year",
                    y_desc: &y_label,
                    y_labels: 5,
                    y_label_area: 56,
                },
            )?;
            let base = area.get_base_pixel();
            // Protocols whose points fall on the same pixel (runs without talk all sit
            // at x = 0) are set side by side, in legend order, so none hides another.
            let mut at: Vec<((i32, i32), Vec<usize>)> = Vec::new();
            for (protocol, x, y) in &points {
                let pixel = chart.backend_coord(&(*x, *y));
                let i = legend.index(protocol);
                match at.iter_mut().find(|(p, _)| *p == pixel) {
                    Some((_, series)) if !series.contains(&i) => series.push(i),
                    Some(_) => {}
                    None => at.push((pixel, vec![i])),
                }
            }
            for ((px, py), mut series) in at {
                series.sort_unstable();
                for (dx, i) in dodge(series.len()).into_iter().zip(series) {
                    let colour = legend.style(&legend.names[i]).colour.mix(0.75);
                    marker(area, (px - base.0 + dx, py - base.1), i, colour)?;
                }
            }
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_on_one_pixel_are_set_apart_around_it() {
        assert_eq!(dodge(1), vec![0]);
        assert_eq!(dodge(2), vec![-5, 5]);
        assert_eq!(dodge(4), vec![-16, -5, 5, 16]);
        // Never two at one place.
        for k in 1..10 {
            let d = dodge(k);
            assert!(d.windows(2).all(|w| w[1] - w[0] >= DODGE - 1), "{d:?}");
        }
    }
}
