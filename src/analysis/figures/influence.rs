//! A cell's influence graph (`fishbanks diagnose`).

use super::draw::*;
use crate::analysis::diagnose::{CellDiagnostics, Channel};
use crate::analysis::AnalysisError;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// A cell's influence graph: teams on a circle, an arrow from i to j for every edge
/// detected in at least one run, its width and opacity the share of runs that detected
/// it (actions channel).
pub fn influence_graph(c: &CellDiagnostics) -> Result<String, AnalysisError> {
    let n = c.teams.max(1);
    let position = |t: usize| {
        let angle = std::f64::consts::FRAC_PI_2 - 2.0 * std::f64::consts::PI * t as f64 / n as f64;
        (angle.cos(), angle.sin())
    };
    let edges: BTreeMap<(usize, usize), f64> = c
        .edges
        .get(&Channel::Actions)
        .into_iter()
        .flat_map(|m| {
            m.iter().enumerate().flat_map(|(i, row)| {
                row.iter()
                    .enumerate()
                    .filter(|(_, s)| s.is_finite() && **s > 0.0)
                    .map(move |(j, s)| ((i, j), *s))
            })
        })
        .collect();
    svg_of(460, 500, |root| {
        root.fill(&WHITE).map_err(plot_err)?;
        let (top, body) = root.split_vertically(48);
        top.draw(&Text::new(
            format!("Influence: {}", c.cell),
            (10, 8),
            (FONT, 16).into_font().style(FontStyle::Bold),
        ))
        .map_err(plot_err)?;
        top.draw(&Text::new(
            format!(
                "arrow i → j: share of {} runs in which i influenced j (actions)",
                c.runs
            ),
            (10, 28),
            (FONT, 11),
        ))
        .map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(20)
            .build_cartesian_2d(-1.3f64..1.3f64, -1.3f64..1.3f64)
            .map_err(plot_err)?;
        let red = RGBColor(213, 94, 0);
        for (&(i, j), &share) in &edges {
            let ((x1, y1), (x2, y2)) = (position(i), position(j));
            let (dx, dy) = (x2 - x1, y2 - y1);
            let len = (dx * dx + dy * dy).sqrt().max(1e-9);
            let (ux, uy) = (dx / len, dy / len);
            // Offset sideways so that i → j and j → i do not overlap.
            let (ox, oy) = (-uy * 0.05, ux * 0.05);
            let start = (x1 + ux * 0.16 + ox, y1 + uy * 0.16 + oy);
            let end = (x2 - ux * 0.18 + ox, y2 - uy * 0.18 + oy);
            let style = red
                .mix(0.25 + 0.75 * share)
                .stroke_width((1.0 + 4.0 * share) as u32);
            chart
                .draw_series(std::iter::once(PathElement::new(vec![start, end], style)))
                .map_err(plot_err)?;
            let head = vec![
                end,
                (end.0 - ux * 0.08 - uy * 0.04, end.1 - uy * 0.08 + ux * 0.04),
                (end.0 - ux * 0.08 + uy * 0.04, end.1 - uy * 0.08 - ux * 0.04),
            ];
            chart
                .draw_series(std::iter::once(Polygon::new(
                    head,
                    red.mix(0.25 + 0.75 * share).filled(),
                )))
                .map_err(plot_err)?;
        }
        chart
            .draw_series(
                (0..n).map(|t| Circle::new(position(t), 16, RGBColor(0, 114, 178).filled())),
            )
            .map_err(plot_err)?;
        chart
            .draw_series((0..n).map(|t| {
                let (x, y) = position(t);
                Text::new(
                    format!("{}", t + 1),
                    (x - 0.03, y + 0.04),
                    (FONT, 13).into_font().color(&WHITE),
                )
            }))
            .map_err(plot_err)?;
        Ok(())
    })
}
