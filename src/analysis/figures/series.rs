//! Per-year means over runs (fish stock, cumulative profit) per population, with 95%
//! bands and, for the stock, optionally every run as a thin line.

use super::draw::*;
use super::survival::MAX_BANDS;
use crate::analysis::compare::Comparison;
use crate::analysis::load::{Loaded, YearSeries};
use crate::analysis::AnalysisError;
use plotters::prelude::*;

/// What one series figure shows.
pub(super) struct SeriesSpec<'a> {
    /// Slots of the year series, each a row of panels, with its name.
    pub slots: &'a [(usize, &'a str)],
    pub title: &'a str,
    pub subtitle: &'a str,
    pub y_label: &'a str,
    /// The least value the quantity can take (no fish below 0): bands are clipped to it.
    pub floor: Option<f64>,
    /// Dollars: ticks with thousands separators, and a symmetric log scale in a panel
    /// where one line reaches far beyond the others.
    pub money: bool,
    /// Each run's own value per year (slot → area of `stock_by_year`), drawn thin
    /// under the means; `None`: means only.
    pub runs: Option<&'a Loaded>,
}

/// A cell's mean per year with the band's half width.
fn points(series: &YearSeries, cell: &str, slot: usize) -> Vec<(f64, f64, f64)> {
    series
        .get(cell)
        .into_iter()
        .flatten()
        .map(|(y, m)| (*y as f64, m[slot].mean(), m[slot].half_width()))
        .filter(|(_, m, _)| m.is_finite())
        .collect()
}

pub(super) fn figure(
    legend: &Legend,
    populations: &[String],
    cmp: &Comparison,
    series: &YearSeries,
    spec: &SeriesSpec<'_>,
) -> Result<String, AnalysisError> {
    let clip = |v: f64| spec.floor.map_or(v, |f| v.max(f));
    let n = populations.len() * spec.slots.len();
    let (rows, cols) = if spec.slots.len() > 1 {
        (spec.slots.len(), populations.len().max(1))
    } else {
        grid(n)
    };
    // Every panel's groups of coinciding protocols, in panel order.
    let mut panels = Vec::new();
    for (slot, _) in spec.slots {
        for population in populations {
            let cells: Vec<(String, Curve)> = cmp
                .cells
                .iter()
                .filter(|c| &c.population == population)
                .map(|c| {
                    let p = points(series, &c.cell, *slot);
                    (
                        c.protocol.clone(),
                        Curve(p.iter().map(|(x, m, _)| (*x, *m)).collect()),
                    )
                })
                .collect();
            panels.push(coinciding(cells));
        }
    }
    let named = panels
        .iter()
        .map(|p| coinciding_lines(p))
        .max()
        .unwrap_or(0);
    let footer = if named > 0 { 6 + FOOT_LINE * named } else { 0 };
    let width = PANEL_W * cols as u32;
    let head = Header {
        title: spec.title,
        subtitle: spec.subtitle,
        legend,
    };
    figure_svg(width, (PANEL_H + footer) * rows as u32, &head, |body| {
        let areas = body.split_evenly((rows, cols));
        let mut k = 0;
        for (slot, area_name) in spec.slots {
            for population in populations {
                let (Some(area), Some(groups)) = (areas.get(k), panels.get(k)) else {
                    break;
                };
                k += 1;
                let (plot, foot) = area.split_vertically(PANEL_H);
                let cell_of = |protocol: &str| {
                    cmp.cells
                        .iter()
                        .find(|c| &c.population == population && c.protocol == protocol)
                };
                let (mut x_max, mut y_max, mut y_min) = (1.0f64, 0.0f64, 0.0f64);
                for (names, _) in groups {
                    let Some(c) = cell_of(&names[0]) else {
                        continue;
                    };
                    for (x, m, h) in points(series, &c.cell, *slot) {
                        x_max = x_max.max(x);
                        y_max = y_max.max(m + h);
                        y_min = y_min.min(clip(m - h));
                    }
                }
                let run_lines = spec
                    .runs
                    .map(|loaded| run_lines(loaded, cmp, population, *slot));
                for (_, line) in run_lines.iter().flatten() {
                    for (x, v) in line {
                        x_max = x_max.max(*x);
                        y_max = y_max.max(*v);
                    }
                }
                let caption = if area_name.is_empty() {
                    population.clone()
                } else {
                    format!("{population}: {area_name}")
                };
                let lines: Vec<PanelLine> = {
                    // Lines that stand for several protocols go on top, a little wider,
                    // so a line that meets them never hides the one the note under the
                    // panel names.
                    let mut order: Vec<&(Vec<String>, Curve)> = groups.iter().collect();
                    order.sort_by_key(|(names, _)| names.len() > 1);
                    order
                        .into_iter()
                        .filter_map(|(names, _)| {
                            let c = cell_of(&names[0])?;
                            Some(PanelLine {
                                style: legend.style(&names[0]),
                                points: points(series, &c.cell, *slot),
                                width: if names.len() > 1 { 3 } else { 2 },
                            })
                        })
                        .collect()
                };
                let bands = groups.len() <= MAX_BANDS && spec.runs.is_none();
                let x = 0f64..x_max;
                let y = y_min..(y_max * 1.05).max(1.0);
                if spec.money {
                    let reaches: Vec<f64> = lines
                        .iter()
                        .map(|l| l.points.iter().map(|(_, m, _)| m.abs()).fold(0.0, f64::max))
                        .collect();
                    let scale = MoneyScale::for_reaches(&reaches);
                    // Below zero the axis needs room as above it.
                    let y = (y_min * 1.05).min(0.0)..(y_max * 1.05).max(1.0);
                    let mut chart = money_panel(&plot, caption, x, y, spec.y_label, scale)?;
                    draw_lines(&mut chart, &lines, bands, spec.floor, &|v| scale.y(v))?;
                } else {
                    let mut chart = panel(
                        &plot,
                        Axes {
                            caption,
                            x,
                            y,
                            x_desc: "year",
                            y_desc: spec.y_label,
                            y_labels: 5,
                            y_label_area: 56,
                        },
                    )?;
                    for (protocol, line) in run_lines.into_iter().flatten() {
                        let colour = legend.style(&protocol).colour;
                        chart
                            .draw_series(LineSeries::new(line, colour.mix(0.18).stroke_width(1)))
                            .map_err(plot_err)?;
                    }
                    draw_lines(&mut chart, &lines, bands, spec.floor, &|v| v)?;
                }
                let named: Vec<(Vec<String>, Style)> = groups
                    .iter()
                    .map(|(names, _)| (names.clone(), legend.style(&names[0])))
                    .collect();
                name_coinciding(&foot, 2, &named)?;
            }
        }
        Ok(())
    })
}

/// One mean line of a panel: its style, its points (year, mean, band half-width) and its
/// width.
struct PanelLine {
    style: Style,
    points: Vec<(f64, f64, f64)>,
    width: u32,
}

/// Draw the lines (with their 95% bands when `bands`) on a panel whose y coordinate is
/// `y_of` of the value.
fn draw_lines<Y: plotters::coord::ranged1d::Ranged<ValueType = f64>>(
    chart: &mut ChartContext<
        '_,
        SVGBackend<'_>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, Y>,
    >,
    lines: &[PanelLine],
    bands: bool,
    floor: Option<f64>,
    y_of: &dyn Fn(f64) -> f64,
) -> Result<(), AnalysisError> {
    for line in lines {
        if bands {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band(&line.points, floor)
                        .into_iter()
                        .map(|(x, v)| (x, y_of(v)))
                        .collect::<Vec<_>>(),
                    line.style.colour.mix(0.12).filled(),
                )))
                .map_err(plot_err)?;
        }
        draw_line(
            chart,
            line.points.iter().map(|(x, m, _)| (*x, y_of(*m))).collect(),
            line.style,
            line.width,
        )?;
    }
    Ok(())
}

/// The 95% band around a mean line as a polygon (upper edge forward, lower edge back),
/// never below `floor`.
fn band(points: &[(f64, f64, f64)], floor: Option<f64>) -> Vec<(f64, f64)> {
    let clip = |v: f64| floor.map_or(v, |f| v.max(f));
    let mut band: Vec<(f64, f64)> = points.iter().map(|(x, m, h)| (*x, m + h)).collect();
    band.extend(points.iter().rev().map(|(x, m, h)| (*x, clip(m - h))));
    band
}

/// Every `ok` run of a population as (protocol, its line) for `slot` (0: deep-sea stock,
/// 1: coast stock; other slots have no per-run lines).
fn run_lines(
    loaded: &Loaded,
    cmp: &Comparison,
    population: &str,
    slot: usize,
) -> Vec<(String, Vec<(f64, f64)>)> {
    if slot > 1 {
        return Vec::new();
    }
    loaded
        .runs
        .iter()
        .filter(|r| r.status.is_ok())
        .filter_map(|r| {
            let c = cmp
                .cells
                .iter()
                .find(|c| c.cell == r.cell && c.population == population)?;
            let extra = loaded.extras.get(&r.run_id)?;
            let mut line: Vec<(f64, f64)> = extra
                .stock_by_year
                .iter()
                .map(|(year, deep, coast)| {
                    (*year as f64, if slot == 0 { *deep } else { *coast } as f64)
                })
                .collect();
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            Some((c.protocol.clone(), line))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_never_goes_below_what_the_quantity_allows() {
        // A stock of 3 fish ± 10 would dip to −7: the band stops at 0 fish.
        let p = [(1.0, 100.0, 10.0), (2.0, 3.0, 10.0)];
        let stock = band(&p, Some(0.0));
        assert_eq!(
            stock,
            vec![(1.0, 110.0), (2.0, 13.0), (2.0, 0.0), (1.0, 90.0)]
        );
        // Profit may be negative: no floor.
        assert_eq!(band(&p, None)[2], (2.0, -7.0));
    }
}
