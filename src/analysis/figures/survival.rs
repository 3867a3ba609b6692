//! Kaplan–Meier curves per population, with their 95% bands, censoring ticks and a
//! number-at-risk table under each panel.

use super::draw::*;
use crate::analysis::compare::{CellStats, Comparison};
use crate::analysis::AnalysisError;
use plotters::prelude::*;

/// At most this many lines in a panel keep their bands: more bands only mix into grey.
pub(super) const MAX_BANDS: usize = 3;

/// A cell's curve as drawn: the step line, its band's edges.
struct Km {
    line: Vec<(f64, f64)>,
    upper: Vec<(f64, f64)>,
    lower: Vec<(f64, f64)>,
}

fn km_of(c: &CellStats, horizon: f64) -> Km {
    let (mut line, mut upper, mut lower) = (vec![(0.0, 1.0)], vec![(0.0, 1.0)], vec![(0.0, 1.0)]);
    let (mut s, mut band) = (1.0, (1.0, 1.0));
    for (step, b) in c.km.iter().zip(&c.km_band) {
        line.extend([(step.time, s), (step.time, step.survival)]);
        upper.extend([(step.time, band.1), (step.time, b.1)]);
        lower.extend([(step.time, band.0), (step.time, b.0)]);
        s = step.survival;
        band = *b;
    }
    line.push((horizon, s));
    upper.push((horizon, band.1));
    lower.push((horizon, band.0));
    Km { line, upper, lower }
}

/// Runs still at risk at `t`: survival time at least `t`.
fn at_risk(c: &CellStats, t: f64) -> usize {
    c.survival_times
        .iter()
        .filter(|(time, _)| *time >= t)
        .count()
}

/// Sorted survival times (as bits) with whether each run collapsed, and the runs.
type Survival = (Vec<(u64, bool)>, usize);

/// What decides whether two cells draw the same curve and the same table row: their
/// sorted survival times and censoring.
fn times(c: &CellStats) -> Vec<(u64, bool)> {
    let mut t: Vec<(u64, bool)> = c
        .survival_times
        .iter()
        .map(|(time, collapsed)| (time.to_bits(), *collapsed))
        .collect();
    t.sort_unstable();
    t
}

/// The survival figure.
pub(super) fn figure(
    legend: &Legend,
    populations: &[String],
    cmp: &Comparison,
) -> Result<String, AnalysisError> {
    let horizon = cmp
        .cells
        .iter()
        .map(|c| c.horizon)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let columns: Vec<f64> = (0..=4)
        .map(|k| (k as f64 * horizon / 4.0).round())
        .collect();
    // Per population, its cells grouped by identical survival.
    let panels: Vec<Vec<(Vec<String>, &CellStats)>> = populations
        .iter()
        .map(|population| {
            let cells: Vec<(String, Survival)> = cmp
                .cells
                .iter()
                .filter(|c| &c.population == population && c.ok > 0)
                .map(|c| (c.protocol.clone(), (times(c), c.ok)))
                .collect();
            coinciding(cells)
                .into_iter()
                .filter_map(|(names, _)| {
                    let first = cmp
                        .cells
                        .iter()
                        .find(|c| &c.population == population && c.protocol == names[0])?;
                    Some((names, first))
                })
                .collect()
        })
        .collect();
    let rows = panels.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let named = panels
        .iter()
        .map(|p| coinciding_lines(p))
        .max()
        .unwrap_or(0);
    let footer = 8 + FOOT_LINE * (1 + rows + named);
    let (grid_rows, cols) = grid(populations.len());
    let subtitle = format!(
        "Kaplan–Meier share of runs not collapsed; ticks: never collapsed (censored); 95% bands in panels of ≤ {MAX_BANDS} lines"
    );
    let head = Header {
        title: "Survival of the fish stock",
        subtitle: &subtitle,
        legend,
    };
    figure_svg(
        PANEL_W * cols as u32,
        (PANEL_H + footer) * grid_rows as u32,
        &head,
        |body| {
            for (area, (population, groups)) in body
                .split_evenly((grid_rows, cols))
                .iter()
                .zip(populations.iter().zip(&panels))
            {
                let (plot, foot) = area.split_vertically(PANEL_H);
                let mut chart = panel(
                    &plot,
                    Axes {
                        caption: population.clone(),
                        x: 0f64..horizon,
                        y: 0f64..1.02f64,
                        x_desc: "years",
                        y_desc: "share of runs not collapsed",
                        y_labels: 6,
                        y_label_area: 48,
                    },
                )?;
                // Lines that stand for several protocols on top, wider (as in `series`).
                let mut order: Vec<_> = groups.iter().collect();
                order.sort_by_key(|(names, _)| names.len() > 1);
                for (names, c) in order {
                    let style = legend.style(&names[0]);
                    let km = km_of(c, horizon);
                    if groups.len() <= MAX_BANDS {
                        let mut polygon = km.upper.clone();
                        polygon.extend(km.lower.iter().rev());
                        chart
                            .draw_series(std::iter::once(Polygon::new(
                                polygon,
                                style.colour.mix(0.12).filled(),
                            )))
                            .map_err(plot_err)?;
                    }
                    draw_line(
                        &mut chart,
                        km.line,
                        style,
                        if names.len() > 1 { 3 } else { 2 },
                    )?;
                    let survival_at = |t: f64| {
                        c.km.iter()
                            .take_while(|k| k.time <= t)
                            .last()
                            .map_or(1.0, |k| k.survival)
                    };
                    let mut censored: Vec<f64> = c
                        .survival_times
                        .iter()
                        .filter(|(_, collapsed)| !collapsed)
                        .map(|(t, _)| *t)
                        .collect();
                    censored.dedup();
                    chart
                        .draw_series(censored.into_iter().map(|t| {
                            let y = survival_at(t);
                            PathElement::new(
                                vec![(t, y - 0.03), (t, y + 0.03)],
                                style.colour.stroke_width(2),
                            )
                        }))
                        .map_err(plot_err)?;
                }
                // The number-at-risk table: a row per line drawn, a column per tick.
                let base = foot.get_base_pixel();
                let x_of = |t: f64| chart.backend_coord(&(t, 0.0)).0 - base.0;
                foot.draw(&Text::new("runs at risk", (12, 2), (FONT, 11)))
                    .map_err(plot_err)?;
                for (row, (names, c)) in groups.iter().enumerate() {
                    let y = 2 + FOOT_LINE as i32 * (row as i32 + 1);
                    let style = legend.style(&names[0]);
                    sample(&foot, (12, y + 6), 18, style)?;
                    for &t in &columns {
                        let n = at_risk(c, t).to_string();
                        let x = x_of(t) - 3 * n.len() as i32;
                        foot.draw(&Text::new(
                            n,
                            (x, y),
                            (FONT, 11).into_font().color(&style.colour),
                        ))
                        .map_err(plot_err)?;
                    }
                }
                let named: Vec<(Vec<String>, Style)> = groups
                    .iter()
                    .map(|(names, _)| (names.clone(), legend.style(&names[0])))
                    .collect();
                name_coinciding(
                    &foot,
                    2 + FOOT_LINE as i32 * (groups.len() as i32 + 1),
                    &named,
                )?;
            }
            Ok(())
        },
    )
}
