//! The communication-volume confound: each run's published tokens per agent-year
//! against its primary outcome.

use super::draw::*;
use crate::analysis::compare::Comparison;
use crate::analysis::metrics::{Measure, RunMetrics};
use crate::analysis::AnalysisError;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A figure of one panel per population under the shared header.
fn per_population(
    legend: &Legend,
    populations: &[String],
    title: &str,
    subtitle: &str,
    mut draw: impl FnMut(&DrawingArea<SVGBackend<'_>, Shift>, &String) -> Result<(), AnalysisError>,
) -> Result<String, AnalysisError> {
    let (rows, cols) = grid(populations.len());
    svg_of(
        PANEL_W * cols as u32,
        HEADER_H + PANEL_H * rows as u32,
        |root| {
            let body = header(root, title, subtitle, legend)?;
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
    let subtitle = "one point per run: tokens the agents published per agent-year (messages, intentions) against the outcome";
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
            for (protocol, x, y) in &points {
                let (px, py) = chart.backend_coord(&(*x, *y));
                let colour = legend.style(protocol).colour.mix(0.75);
                marker(
                    area,
                    (px - base.0, py - base.1),
                    legend.index(protocol),
                    colour,
                )?;
            }
            Ok(())
        },
    )
}
