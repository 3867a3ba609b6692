//! What every figure shares: how a protocol (or a team) is drawn, the header with its
//! legend, panels with round ticks, lines in a style, and curves that coincide.
//!
//! A style is a colour *and* a dash pattern, so two series differ in colour for every
//! reader and, printed in grey, in dash or in lightness (a test checks every pair).

use super::super::AnalysisError;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::series::DashedLineSeries;

pub(super) const FONT: &str = "sans-serif";
pub(super) const PANEL_W: u32 = 380;
pub(super) const PANEL_H: u32 = 270;
pub(super) const HEADER_H: u32 = 64;
/// Height of one line of text under a panel.
pub(super) const FOOT_LINE: u32 = 13;

pub(super) fn plot_err<E: std::fmt::Debug>(e: E) -> AnalysisError {
    AnalysisError::Plot(format!("{e:?}"))
}

/// Okabe–Ito (colour-blind safe) without its pale yellow, black first: the reference
/// protocol is usually listed first and reads as the baseline.
pub(super) const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 0, 0),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// Dash patterns (dash, gap in pixels; `None`: solid), cycled alongside the colours.
pub(super) const DASHES: [Option<(u32, u32)>; 4] =
    [None, Some((10, 5)), Some((4, 4)), Some((2, 3))];

/// How one series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Style {
    pub colour: RGBColor,
    pub dash: Option<(u32, u32)>,
}

impl Style {
    /// The style of the `i`-th series: colours cycle every 7 and dashes every 4, the
    /// dash shifted by one each round of colours, so that series 0 and 7 (one colour)
    /// still differ in dash.
    pub fn nth(i: usize) -> Style {
        let n = PALETTE.len();
        Style {
            colour: PALETTE[i % n],
            dash: DASHES[(i % n + i / n) % DASHES.len()],
        }
    }
}

/// The grey a colour prints as (Rec. 709 luma, 0–1).
#[cfg(test)]
pub(super) fn grey(c: RGBColor) -> f64 {
    (0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64) / 255.0
}

/// Draws `points` as a line in `style`, `width` pixels wide.
pub(super) fn draw_line(
    chart: &mut Panel<'_, '_>,
    points: Vec<(f64, f64)>,
    style: Style,
    width: u32,
) -> Result<(), AnalysisError> {
    let stroke = style.colour.stroke_width(width);
    match style.dash {
        None => chart
            .draw_series(LineSeries::new(points, stroke))
            .map(|_| ())
            .map_err(plot_err),
        Some((dash, gap)) => chart
            .draw_series(DashedLineSeries::new(points, dash, gap, stroke))
            .map(|_| ())
            .map_err(plot_err),
    }
}

/// A short sample of a style (for legends) at `(x, y)` of `area`, `len` pixels long.
pub(super) fn sample(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    (x, y): (i32, i32),
    len: i32,
    style: Style,
) -> Result<(), AnalysisError> {
    let stroke = style.colour.stroke_width(2);
    match style.dash {
        None => area
            .draw(&PathElement::new(vec![(x, y), (x + len, y)], stroke))
            .map_err(plot_err),
        Some((dash, gap)) => area
            .draw(&DashedPathElement::new(
                vec![(x, y), (x + len, y)],
                dash,
                gap,
                stroke,
            ))
            .map_err(plot_err),
    }
}

/// A point marker at pixel `(x, y)` of `area`: the `i`-th series' shape (circle,
/// triangle, square, cross: told apart in grey print too) in `colour`.
pub(super) fn marker(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    (x, y): (i32, i32),
    i: usize,
    colour: RGBAColor,
) -> Result<(), AnalysisError> {
    match i % 4 {
        0 => area.draw(&Circle::new((x, y), 4, colour.filled())),
        1 => area.draw(&TriangleMarker::new((x, y), 5, colour.filled())),
        2 => area.draw(&Rectangle::new(
            [(x - 4, y - 4), (x + 4, y + 4)],
            colour.filled(),
        )),
        _ => area.draw(&Cross::new((x, y), 4, colour.stroke_width(2))),
    }
    .map_err(plot_err)
}

/// The series of a figure in order (protocols of a comparison, teams of a run), each
/// with its style; `markers`: the figure draws points, and the legend shows their shapes.
pub(super) struct Legend {
    pub names: Vec<String>,
    pub markers: bool,
}

impl Legend {
    pub fn new(names: Vec<String>) -> Legend {
        Legend {
            names,
            markers: false,
        }
    }

    pub fn index(&self, name: &str) -> usize {
        self.names.iter().position(|n| n == name).unwrap_or(0)
    }

    pub fn style(&self, name: &str) -> Style {
        Style::nth(self.index(name))
    }
}

/// Draws the title, the subtitle and the legend (a line sample per series); returns the
/// area left for panels.
pub(super) fn header<'a>(
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    title: &str,
    subtitle: &str,
    legend: &Legend,
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
    for name in &legend.names {
        if legend.markers {
            let i = legend.index(name);
            marker(&top, (x + 11, 52), i, legend.style(name).colour.mix(0.75))?;
        } else {
            sample(&top, (x, 52), 22, legend.style(name))?;
        }
        top.draw(&Text::new(name.clone(), (x + 26, 45), (FONT, 12)))
            .map_err(plot_err)?;
        x += 36 + 7 * name.chars().count() as i32;
    }
    Ok(body)
}

/// Round numbers on axes: whole numbers once the scale is large, two decimals below 1.
pub(super) fn tick(v: &f64) -> String {
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

pub(super) fn svg_of(
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

/// Panels per row and rows for `n` panels.
pub(super) fn grid(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, 3);
    (n.div_ceil(cols).max(1), cols)
}

/// The axes of one panel.
pub(super) struct Axes<'a> {
    pub caption: String,
    pub x: std::ops::Range<f64>,
    pub y: std::ops::Range<f64>,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    /// Tick labels on the y axis, and the room they get (pixels).
    pub y_labels: usize,
    pub y_label_area: u32,
}

pub(super) type Panel<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A panel with its axes drawn in the report's style: round ticks, a light grid.
pub(super) fn panel<'a, 'b>(
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

/// Series whose values coincide, as groups in first-seen order: each group is drawn once
/// (in its first member's style) and named with all its members, so no legend entry
/// points at a line hidden under another.
pub(super) fn coinciding<T: PartialEq>(series: Vec<(String, T)>) -> Vec<(Vec<String>, T)> {
    let mut groups: Vec<(Vec<String>, T)> = Vec::new();
    for (name, values) in series {
        match groups.iter_mut().find(|(_, v)| *v == values) {
            Some((names, _)) => names.push(name),
            None => groups.push((vec![name], values)),
        }
    }
    groups
}

/// Values compared for coincidence: equal when every number agrees to a part in 10⁹
/// (means of the same runs can differ in the last bits when summed in another order).
#[derive(Debug, Clone)]
pub(super) struct Curve(pub Vec<(f64, f64)>);

impl PartialEq for Curve {
    fn eq(&self, other: &Curve) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| close(a.0, b.0) && close(a.1, b.1))
    }
}

/// Under a panel: one line per group of coinciding series, its sample and its members
/// ("broadcast = a2a = rep = ledger: one line"), from `y` down.
pub(super) fn name_coinciding(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    y: i32,
    groups: &[(Vec<String>, Style)],
) -> Result<(), AnalysisError> {
    for (i, (names, style)) in groups.iter().filter(|(n, _)| n.len() > 1).enumerate() {
        let line_y = y + i as i32 * FOOT_LINE as i32;
        sample(area, (12, line_y + 6), 18, *style)?;
        area.draw(&Text::new(
            format!("{}: one line", names.join(" = ")),
            (36, line_y),
            (FONT, 11),
        ))
        .map_err(plot_err)?;
    }
    Ok(())
}

/// Lines [`name_coinciding`] needs for `groups`.
pub(super) fn coinciding_lines<T>(groups: &[(Vec<String>, T)]) -> u32 {
    groups.iter().filter(|(n, _)| n.len() > 1).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CIE L*a*b* of an sRGB colour (D65).
    fn lab(c: RGBColor) -> (f64, f64, f64) {
        let lin = |v: u8| {
            let v = v as f64 / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let (r, g, b) = (lin(c.0), lin(c.1), lin(c.2));
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        (
            116.0 * f(y) - 16.0,
            500.0 * (f(x) - f(y)),
            200.0 * (f(y) - f(z)),
        )
    }

    #[test]
    fn every_pair_of_styles_differs_in_colour_and_in_grey_print() {
        let n = PALETTE.len();
        for i in 0..n {
            for j in (i + 1)..n {
                let (a, b) = (Style::nth(i), Style::nth(j));
                let (la, lb) = (lab(a.colour), lab(b.colour));
                let delta_e =
                    ((la.0 - lb.0).powi(2) + (la.1 - lb.1).powi(2) + (la.2 - lb.2).powi(2)).sqrt();
                assert!(delta_e > 25.0, "{i} and {j}: ΔE {delta_e:.1}");
                // In grey, the dash tells them apart, or their lightness does.
                assert!(
                    a.dash != b.dash || (grey(a.colour) - grey(b.colour)).abs() > 0.15,
                    "{i} and {j} look alike in grey: {a:?} {b:?}"
                );
            }
        }
        // Past seven series a colour comes back, with another dash.
        for i in 0..3 * n {
            for j in (i + 1)..3 * n {
                if i % n == j % n {
                    assert_ne!(Style::nth(i).dash, Style::nth(j).dash, "{i} and {j}");
                }
            }
        }
    }

    #[test]
    fn coinciding_series_are_grouped_in_order() {
        let curve = |v: f64| Curve(vec![(1.0, v), (2.0, v / 2.0)]);
        let groups = coinciding(vec![
            ("none".to_string(), curve(1.0)),
            ("broadcast".to_string(), curve(2.0)),
            ("a2a".to_string(), curve(2.0 + 1e-12)),
            ("quota".to_string(), curve(3.0)),
            ("rep".to_string(), curve(2.0)),
        ]);
        let names: Vec<Vec<String>> = groups.into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            vec![
                vec!["none".to_string()],
                vec!["broadcast".into(), "a2a".into(), "rep".into()],
                vec!["quota".to_string()],
            ]
        );
    }
}
