//! The report's figures, drawn with `plotters` (SVG backend) and rasterised to PNG with
//! `resvg` (feature `png`). Every figure answers the question *within* a population:
//! small multiples, one panel per population, protocols as colours that are the same in
//! every figure (Okabe–Ito, colour-blind safe).

use super::compare::{Comparison, Measure, RunMetrics};
use super::diagnose::{CellDiagnostics, Channel};
use super::load::{Loaded, YearSeries};
use super::AnalysisError;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// A figure: its title, file stem (`plots/<stem>.svg`, `.png`) and SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub stem: String,
    pub svg: String,
}

/// Okabe–Ito, without its yellow (too pale on white); protocols beyond seven reuse the
/// colours.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];
const FONT: &str = "sans-serif";
const PANEL_W: u32 = 380;
const PANEL_H: u32 = 270;
const HEADER_H: u32 = 64;

fn plot_err<E: std::fmt::Debug>(e: E) -> AnalysisError {
    AnalysisError::Plot(format!("{e:?}"))
}

/// The protocols and populations of a comparison, in plan order, and each protocol's
/// colour index.
struct Layout {
    protocols: Vec<String>,
    populations: Vec<String>,
}

impl Layout {
    fn of(cmp: &Comparison) -> Layout {
        let mut protocols: Vec<String> = Vec::new();
        let mut populations: Vec<String> = Vec::new();
        for c in &cmp.cells {
            if !protocols.contains(&c.protocol) {
                protocols.push(c.protocol.clone());
            }
            if !populations.contains(&c.population) {
                populations.push(c.population.clone());
            }
        }
        Layout {
            protocols,
            populations,
        }
    }

    fn colour(&self, protocol: &str) -> RGBColor {
        let i = self
            .protocols
            .iter()
            .position(|p| p == protocol)
            .unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    }

    /// Panels per row and rows for `n` panels.
    fn grid(n: usize) -> (usize, usize) {
        let cols = n.clamp(1, 3);
        (n.div_ceil(cols).max(1), cols)
    }
}

/// A line in the protocol's colour.
fn line_style(layout: &Layout, protocol: &str) -> ShapeStyle {
    layout.colour(protocol).stroke_width(2)
}

/// Draws the title and the shared protocol legend, returns the area left for panels.
fn header<'a>(
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    title: &str,
    subtitle: &str,
    layout: &Layout,
) -> Result<DrawingArea<SVGBackend<'a>, Shift>, AnalysisError> {
    root.fill(&WHITE).map_err(plot_err)?;
    let (top, body) = root.split_vertically(HEADER_H);
    top.draw(&Text::new(
        title.to_string(),
        (10, 8),
        (FONT, 17).into_font().style(FontStyle::Bold),
    ))
    .map_err(plot_err)?;
    top.draw(&Text::new(subtitle.to_string(), (10, 28), (FONT, 12)))
        .map_err(plot_err)?;
    let mut x = 10;
    for p in &layout.protocols {
        let c = layout.colour(p);
        top.draw(&Rectangle::new([(x, 50), (x + 14, 54)], c.filled()))
            .map_err(plot_err)?;
        top.draw(&Text::new(p.clone(), (x + 18, 45), (FONT, 12)))
            .map_err(plot_err)?;
        x += 30 + 7 * p.chars().count() as i32;
    }
    Ok(body)
}

/// Round numbers on axes: whole numbers once the scale is large, two decimals below 1.
fn tick(v: &f64) -> String {
    let text = if v.abs() >= 10.0 || v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn svg_of(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), AnalysisError>,
) -> Result<String, AnalysisError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(out)
}

/// A figure of one panel per population under the shared header.
fn per_population(
    layout: &Layout,
    title: &str,
    subtitle: &str,
    mut draw: impl FnMut(&DrawingArea<SVGBackend<'_>, Shift>, &String) -> Result<(), AnalysisError>,
) -> Result<String, AnalysisError> {
    let (rows, cols) = Layout::grid(layout.populations.len());
    svg_of(
        PANEL_W * cols as u32,
        HEADER_H + PANEL_H * rows as u32,
        |root| {
            let body = header(root, title, subtitle, layout)?;
            for (area, population) in body
                .split_evenly((rows, cols))
                .iter()
                .zip(&layout.populations)
            {
                draw(area, population)?;
            }
            Ok(())
        },
    )
}

/// The axes of one panel.
struct Axes<'a> {
    caption: String,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    x_desc: &'a str,
    y_desc: &'a str,
    /// Tick labels on the y axis, and the room they get (pixels).
    y_labels: usize,
    y_label_area: u32,
}

type Panel<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A panel with its axes drawn in the report's style: round ticks, a light grid.
fn panel<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    axes: Axes<'_>,
) -> Result<Panel<'a, 'b>, AnalysisError> {
    let mut chart = ChartBuilder::on(area)
        .caption(axes.caption, (FONT, 14))
        .margin(10)
        .x_label_area_size(32)
        .y_label_area_size(axes.y_label_area)
        .build_cartesian_2d(axes.x, axes.y)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .x_labels(6)
        .y_labels(axes.y_labels)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .max_light_lines(0)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

/// One panel per population of a per-year mean with its 95% band (`slot` of the series).
fn series_figure(
    layout: &Layout,
    cmp: &Comparison,
    series: &YearSeries,
    slots: &[(usize, &str)],
    title: &str,
    subtitle: &str,
    y_label: &str,
) -> Result<String, AnalysisError> {
    let n = layout.populations.len() * slots.len();
    let (rows, cols) = if slots.len() > 1 {
        (slots.len(), layout.populations.len().max(1))
    } else {
        Layout::grid(n)
    };
    let width = PANEL_W * cols as u32;
    let height = HEADER_H + PANEL_H * rows as u32;
    svg_of(width, height, |root| {
        let body = header(root, title, subtitle, layout)?;
        let panels = body.split_evenly((rows, cols));
        let mut k = 0;
        for (slot, area_name) in slots {
            for population in &layout.populations {
                let Some(area) = panels.get(k) else { break };
                k += 1;
                let cells: Vec<&str> = cmp
                    .cells
                    .iter()
                    .filter(|c| &c.population == population)
                    .map(|c| c.cell.as_str())
                    .collect();
                let (mut x_max, mut y_max, mut y_min) = (1.0f64, 0.0f64, 0.0f64);
                for cell in &cells {
                    for (year, m) in series.get(*cell).into_iter().flatten() {
                        x_max = x_max.max(*year as f64);
                        let (mean, hw) = (m[*slot].mean(), m[*slot].half_width());
                        if mean.is_finite() {
                            y_max = y_max.max(mean + hw);
                            y_min = y_min.min(mean - hw);
                        }
                    }
                }
                let caption = if area_name.is_empty() {
                    population.clone()
                } else {
                    format!("{population}: {area_name}")
                };
                let mut chart = panel(
                    area,
                    Axes {
                        caption,
                        x: 0f64..x_max,
                        y: y_min..(y_max * 1.05).max(1.0),
                        x_desc: "year",
                        y_desc: y_label,
                        y_labels: 5,
                        y_label_area: 56,
                    },
                )?;
                for cell in &cells {
                    let Some(c) = cmp.cell(cell) else { continue };
                    let colour = layout.colour(&c.protocol);
                    let points: Vec<(f64, f64, f64)> = series
                        .get(*cell)
                        .into_iter()
                        .flatten()
                        .map(|(y, m)| (*y as f64, m[*slot].mean(), m[*slot].half_width()))
                        .filter(|(_, m, _)| m.is_finite())
                        .collect();
                    let mut band: Vec<(f64, f64)> =
                        points.iter().map(|(x, m, h)| (*x, m + h)).collect();
                    band.extend(points.iter().rev().map(|(x, m, h)| (*x, m - h)));
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            band,
                            colour.mix(0.18).filled(),
                        )))
                        .map_err(plot_err)?;
                    chart
                        .draw_series(LineSeries::new(
                            points.iter().map(|(x, m, _)| (*x, *m)),
                            line_style(layout, &c.protocol),
                        ))
                        .map_err(plot_err)?;
                }
            }
        }
        Ok(())
    })
}

/// Kaplan–Meier curves per population with their 95% band (exponential Greenwood) and a
/// tick at every censored run.
fn survival_figure(layout: &Layout, cmp: &Comparison) -> Result<String, AnalysisError> {
    let horizon = cmp
        .cells
        .iter()
        .map(|c| c.horizon)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let subtitle = "Kaplan–Meier share of runs not yet collapsed, 95% band; ticks: runs that never collapsed (censored)";
    per_population(
        layout,
        "Survival of the fish stock",
        subtitle,
        |area, population| {
            let mut chart = panel(
                area,
                Axes {
                    caption: population.clone(),
                    x: 0f64..horizon,
                    y: 0f64..1.02f64,
                    x_desc: "years",
                    y_desc: "not collapsed",
                    y_labels: 6,
                    y_label_area: 48,
                },
            )?;
            // A cell without a valid run has no curve (not a flat line at 1).
            for c in cmp
                .cells
                .iter()
                .filter(|c| &c.population == population && c.ok > 0)
            {
                let colour = layout.colour(&c.protocol);
                // The step curve and its band, from 1 at time 0 to the horizon.
                let (mut line, mut upper, mut lower) =
                    (vec![(0.0, 1.0)], vec![(0.0, 1.0)], vec![(0.0, 1.0)]);
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
                let mut polygon = upper.clone();
                polygon.extend(lower.iter().rev());
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        polygon,
                        colour.mix(0.15).filled(),
                    )))
                    .map_err(plot_err)?;
                chart
                    .draw_series(LineSeries::new(line, line_style(layout, &c.protocol)))
                    .map_err(plot_err)?;
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
                        PathElement::new(vec![(t, y - 0.03), (t, y + 0.03)], colour.stroke_width(2))
                    }))
                    .map_err(plot_err)?;
            }
            Ok(())
        },
    )
}

/// Each protocol's effect against the reference on the primary outcome, with its 95%
/// interval and Holm-adjusted p: one row per protocol × population.
fn forest_figure(layout: &Layout, cmp: &Comparison) -> Result<String, AnalysisError> {
    // Grouped by population (the effect is read within one), protocols in plan order.
    let mut rows: Vec<&super::compare::Contrast> = cmp
        .contrasts
        .iter()
        .filter(|k| k.primary && k.effect.is_finite())
        .collect();
    let rank = |names: &[String], x: &str| names.iter().position(|n| n == x).unwrap_or(usize::MAX);
    rows.sort_by_key(|k| {
        (
            rank(&layout.populations, &k.population),
            rank(&layout.protocols, &k.protocol),
        )
    });
    let n = rows.len().max(1);
    let height = HEADER_H + 70 + 26 * n as u32;
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for k in &rows {
        let (a, b) = k.ci.unwrap_or((k.effect, k.effect));
        lo = lo.min(a).min(k.effect);
        hi = hi.max(b).max(k.effect);
    }
    let pad = ((hi - lo) * 0.08).max(0.05);
    let words = super::render::measure_words(cmp.primary);
    svg_of(900, height, |root| {
        let body = header(
            root,
            &format!("Effect on {words} against `{}`", cmp.reference),
            "point: the difference (cell − reference); bar: 95% interval; right: Holm-adjusted p",
            layout,
        )?;
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
            .x_desc(format!("difference in {}", cmp.primary.name()))
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
            let colour = layout.colour(&k.protocol);
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

/// The communication-volume confound: each run's published tokens per agent-year
/// against its value of the primary outcome, one panel per population.
fn tokens_figure(
    layout: &Layout,
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
        layout,
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
            let mut chart = panel(
                area,
                Axes {
                    caption: population.clone(),
                    x: 0f64..x_max,
                    y: y_min..y_max,
                    x_desc: "talk tokens / agent-year",
                    y_desc: &y_label,
                    y_labels: 5,
                    y_label_area: 56,
                },
            )?;
            chart
                .draw_series(
                    points.iter().map(|(p, x, y)| {
                        Circle::new((*x, *y), 4, layout.colour(p).mix(0.7).filled())
                    }),
                )
                .map_err(plot_err)?;
            Ok(())
        },
    )
}

/// Every figure of the report, in the order it shows them.
pub fn report_figures(
    loaded: &Loaded,
    cmp: &Comparison,
    metrics: &[RunMetrics],
) -> Result<Vec<Figure>, AnalysisError> {
    let layout = Layout::of(cmp);
    let figure = |title: &str, stem: &str, svg: String| Figure {
        title: title.to_string(),
        stem: stem.to_string(),
        svg,
    };
    Ok(vec![
        figure("Survival", "survival", survival_figure(&layout, cmp)?),
        figure(
            "Effects on the primary outcome",
            "forest",
            forest_figure(&layout, cmp)?,
        ),
        figure(
            "Fish stock",
            "stock",
            series_figure(
                &layout,
                cmp,
                &loaded.series,
                &[(0, "deep sea"), (1, "coast")],
                "Fish stock by area",
                "mean over runs per year, 95% band",
                "fish",
            )?,
        ),
        figure(
            "Cumulative profit",
            "profit",
            series_figure(
                &layout,
                cmp,
                &loaded.series,
                &[(3, "")],
                "Cumulative profit of all teams",
                "revenue − operating costs summed over the years, mean over runs, 95% band",
                "$",
            )?,
        ),
        figure(
            "Communication volume",
            "tokens",
            tokens_figure(&layout, cmp, metrics)?,
        ),
    ])
}

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

/// A figure as PNG, `dpi` dots per inch (SVG pixels are 1/96 inch), text in the system's
/// fonts.
#[cfg(feature = "png")]
pub fn png(svg: &str, dpi: f64) -> Result<Vec<u8>, AnalysisError> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_system_fonts();
    // `sans-serif` means Arial to fontdb; use a sans face that is installed.
    let families: Vec<String> = fonts
        .faces()
        .flat_map(|f| f.families.iter().map(|(name, _)| name.clone()))
        .collect();
    let sans = [
        "DejaVu Sans",
        "Liberation Sans",
        "Noto Sans",
        "Arial",
        "Helvetica",
    ]
    .iter()
    .find(|f| families.iter().any(|x| x == *f))
    .map(|f| f.to_string())
    .or_else(|| families.first().cloned());
    if let Some(sans) = sans {
        fonts.set_sans_serif_family(sans);
    }
    let tree =
        usvg::Tree::from_str(svg, &options).map_err(|e| AnalysisError::Plot(e.to_string()))?;
    let scale = (dpi / 96.0) as f32;
    let size = tree.size().to_int_size();
    let (w, h) = (
        (size.width() as f32 * scale).ceil() as u32,
        (size.height() as f32 * scale).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(w.max(1), h.max(1))
        .ok_or_else(|| AnalysisError::Plot(format!("cannot make a {w}×{h} image")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| AnalysisError::Plot(e.to_string()))
}

/// Without the `png` feature there is no rasteriser: SVG only.
#[cfg(not(feature = "png"))]
pub fn png(_svg: &str, _dpi: f64) -> Result<Vec<u8>, AnalysisError> {
    Err(AnalysisError::Plot(
        "this build has no PNG output (rebuild with the default feature `png`)".into(),
    ))
}
