//! The forest plot: each protocol's effect on the primary outcome against the reference
//! of its population, with its interval and Holm-adjusted p.

use super::draw::*;
use crate::analysis::compare::Comparison;
use crate::analysis::metrics::{Measure, Outcome};
use crate::analysis::AnalysisError;
use plotters::prelude::*;

/// The unit a measure's differences are in (empty: a share or an index).
fn unit(m: Measure) -> &'static str {
    match m {
        Measure::Rmst => "years",
        Measure::Survival => "share of runs",
        Measure::Outcome(Outcome::FinalStock | Outcome::MinStock | Outcome::TotalCatch) => "fish",
        Measure::Outcome(Outcome::CumulativeProfit | Outcome::TotalAssets) => "$",
        Measure::Outcome(Outcome::GiniAssets | Outcome::OveruseShare) => "",
    }
}

/// Each protocol's effect against the reference on the primary outcome, with its 95%
/// interval and Holm-adjusted p: one row per protocol × population.
pub(super) fn figure(
    legend: &Legend,
    populations: &[String],
    cmp: &Comparison,
) -> Result<String, AnalysisError> {
    // Grouped by population (the effect is read within one), protocols in plan order.
    let mut rows: Vec<&crate::analysis::compare::Contrast> = cmp
        .contrasts
        .iter()
        .filter(|k| k.primary && k.effect.is_finite())
        .collect();
    let rank = |names: &[String], x: &str| names.iter().position(|n| n == x).unwrap_or(usize::MAX);
    rows.sort_by_key(|k| {
        (
            rank(populations, &k.population),
            rank(&legend.names, &k.protocol),
        )
    });
    let n = rows.len().max(1);
    let height = 70 + 26 * n as u32;
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for k in &rows {
        let (a, b) = k.ci.unwrap_or((k.effect, k.effect));
        lo = lo.min(a).min(k.effect);
        hi = hi.max(b).max(k.effect);
    }
    let pad = ((hi - lo) * 0.08).max(0.05);
    let words = crate::analysis::render::measure_words(cmp.primary);
    let unit = unit(cmp.primary);
    let title = format!("Effect on {words} against {}", cmp.reference);
    let head = Header {
        title: &title,
        subtitle: "point: the difference (protocol − reference, same population); bar: 95% interval; right: Holm-adjusted p",
        legend,
    };
    figure_svg(900, height, &head, |body| {
        let (labels, rest) = body.split_horizontally(230);
        let (plot, pvals) = rest.split_horizontally(560);
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(0)
            .build_cartesian_2d((lo - pad)..(hi + pad), -0.5f64..(n as f64 - 0.5))
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(7)
            .x_label_formatter(&tick)
            .x_desc(if unit.is_empty() {
                format!("difference in {words}")
            } else {
                format!("difference in {words}, {unit}")
            })
            .max_light_lines(0)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                BLACK.mix(0.6).stroke_width(1),
            )))
            .map_err(plot_err)?;
        for (i, k) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let colour = legend.style(&k.protocol).colour;
            if let Some((a, b)) = k.ci {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(a, y), (b, y)],
                        colour.stroke_width(2),
                    )))
                    .map_err(plot_err)?;
            }
            chart
                .draw_series(std::iter::once(Circle::new(
                    (k.effect, y),
                    5,
                    colour.filled(),
                )))
                .map_err(plot_err)?;
            let (_, py) = chart.backend_coord(&(k.effect, y));
            let label_y = py - plot.get_base_pixel().1 + 6;
            labels
                .draw(&Text::new(
                    format!("{} / {}", k.protocol, k.population),
                    (10, label_y - 10),
                    (FONT, 12),
                ))
                .map_err(plot_err)?;
            let p = k.p_adjusted.map_or("–".to_string(), |p| {
                if p < 0.001 {
                    "p < 0.001".into()
                } else {
                    format!("p = {p:.3}")
                }
            });
            pvals
                .draw(&Text::new(p, (8, label_y - 10), (FONT, 12)))
                .map_err(plot_err)?;
        }
        Ok(())
    })
}
