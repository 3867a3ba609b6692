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

/// Draws `points` as a line in `style`, `width` pixels wide (on a panel of any y scale).
pub(super) fn draw_line<Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, Y>>,
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

/// Marker shapes, cycled: with the seven colours every series of the first 56 has a
/// colour-and-shape pair of its own, and the first eight differ in shape alone (grey
/// print).
pub(super) const MARKERS: usize = 8;

/// A point marker at pixel `(x, y)` of `area`: the `i`-th series' shape (circle,
/// triangle, square, cross, diamond, triangle down, plus, star) in `colour`.
pub(super) fn marker(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    (x, y): (i32, i32),
    i: usize,
    colour: RGBAColor,
) -> Result<(), AnalysisError> {
    let polygon = |points: Vec<(i32, i32)>| Polygon::new(points, colour.filled());
    match i % MARKERS {
        0 => area.draw(&Circle::new((x, y), 4, colour.filled())),
        1 => area.draw(&TriangleMarker::new((x, y), 5, colour.filled())),
        2 => area.draw(&Rectangle::new(
            [(x - 4, y - 4), (x + 4, y + 4)],
            colour.filled(),
        )),
        3 => area.draw(&Cross::new((x, y), 4, colour.stroke_width(2))),
        4 => area.draw(&polygon(vec![
            (x, y - 6),
            (x + 5, y),
            (x, y + 6),
            (x - 5, y),
        ])),
        5 => area.draw(&polygon(vec![(x - 5, y - 4), (x + 5, y - 4), (x, y + 5)])),
        6 => area
            .draw(&PathElement::new(
                vec![(x - 5, y), (x + 5, y)],
                colour.stroke_width(2),
            ))
            .and_then(|_| {
                area.draw(&PathElement::new(
                    vec![(x, y - 5), (x, y + 5)],
                    colour.stroke_width(2),
                ))
            }),
        _ => {
            let star: Vec<(i32, i32)> = (0..10)
                .map(|k| {
                    let r = if k % 2 == 0 { 6.0 } else { 2.6 };
                    let a = std::f64::consts::PI * (k as f64 / 5.0 - 0.5);
                    (
                        x + (r * a.cos()).round() as i32,
                        y + (r * a.sin()).round() as i32,
                    )
                })
                .collect();
            area.draw(&polygon(star))
        }
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

/// A generous estimate of the width of `text` in pixels at `size` (DejaVu Sans, the
/// rasteriser's usual sans face, averages about 0.55 em a character; bold more).
pub(super) fn text_width(text: &str, size: u32, bold: bool) -> u32 {
    let em = if bold { 0.66 } else { 0.6 };
    (text.chars().count() as f64 * size as f64 * em).ceil() as u32
}

/// `text` broken at spaces into lines of at most `width` pixels at `size`.
pub(super) fn wrap(text: &str, width: u32, size: u32, bold: bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), size, bold) <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// A figure's title, subtitle and legend, laid out for the figure's width: texts wrap
/// and legend entries flow into rows, and the header grows to hold them, so no text is
/// cut at any panel count.
pub(super) struct Header<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    pub legend: &'a Legend,
}

const TITLE_SIZE: u32 = 17;
const TEXT_SIZE: u32 = 12;
const TITLE_LINE: i32 = 21;
const TEXT_LINE: i32 = 15;
const LEGEND_ROW: i32 = 18;

/// Where a header's parts go.
struct Laid {
    title: Vec<String>,
    subtitle: Vec<String>,
    /// Each legend entry's row and x.
    entries: Vec<(usize, i32)>,
    height: u32,
}

impl Header<'_> {
    fn lay_out(&self, width: u32) -> Laid {
        let room = width.saturating_sub(20).max(100);
        let title = wrap(self.title, room, TITLE_SIZE, true);
        let subtitle = if self.subtitle.is_empty() {
            Vec::new()
        } else {
            wrap(self.subtitle, room, TEXT_SIZE, false)
        };
        let (mut row, mut x) = (0usize, 10i32);
        let mut entries = Vec::new();
        for name in &self.legend.names {
            let w = 26 + text_width(name, TEXT_SIZE, false) as i32 + 14;
            if x > 10 && x + w > width as i32 - 10 {
                row += 1;
                x = 10;
            }
            entries.push((row, x));
            x += w;
        }
        let rows = if self.legend.names.is_empty() {
            0
        } else {
            row as i32 + 1
        };
        let height = 8
            + TITLE_LINE * title.len() as i32
            + TEXT_LINE * subtitle.len() as i32
            + 6
            + LEGEND_ROW * rows
            + 6;
        Laid {
            title,
            subtitle,
            entries,
            height: height as u32,
        }
    }

    /// The height the header takes in a figure `width` pixels wide.
    pub fn height(&self, width: u32) -> u32 {
        self.lay_out(width).height
    }

    /// Draws the header at the top of `root`; returns the area left for panels.
    pub fn draw<'a>(
        &self,
        root: &DrawingArea<SVGBackend<'a>, Shift>,
    ) -> Result<DrawingArea<SVGBackend<'a>, Shift>, AnalysisError> {
        let (width, _) = root.dim_in_pixel();
        let laid = self.lay_out(width);
        root.fill(&WHITE).map_err(plot_err)?;
        let (top, body) = root.split_vertically(laid.height);
        let mut y = 8;
        for line in &laid.title {
            top.draw(&Text::new(
                line.clone(),
                (10, y),
                (FONT, TITLE_SIZE).into_font().style(FontStyle::Bold),
            ))
            .map_err(plot_err)?;
            y += TITLE_LINE;
        }
        for line in &laid.subtitle {
            top.draw(&Text::new(line.clone(), (10, y), (FONT, TEXT_SIZE)))
                .map_err(plot_err)?;
            y += TEXT_LINE;
        }
        y += 6;
        let legend = self.legend;
        for (name, (row, x)) in legend.names.iter().zip(&laid.entries) {
            let top_y = y + LEGEND_ROW * *row as i32;
            if legend.markers {
                let i = legend.index(name);
                marker(
                    &top,
                    (x + 11, top_y + 7),
                    i,
                    legend.style(name).colour.mix(0.75),
                )?;
            } else {
                sample(&top, (*x, top_y + 7), 22, legend.style(name))?;
            }
            top.draw(&Text::new(name.clone(), (x + 26, top_y), (FONT, TEXT_SIZE)))
                .map_err(plot_err)?;
        }
        Ok(body)
    }
}

/// A figure `width` pixels wide: its header, then `body_height` pixels that `draw` fills.
pub(super) fn figure_svg(
    width: u32,
    body_height: u32,
    head: &Header<'_>,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), AnalysisError>,
) -> Result<String, AnalysisError> {
    svg_of(width, head.height(width) + body_height, |root| {
        let body = head.draw(root)?;
        draw(&body)
    })
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

/// How a money axis maps dollars onto a panel. Profits and banks of different cells can
/// differ by orders of magnitude (a cell that buys ships every year runs to millions in
/// debt while the others stay within thousands): on a linear axis that one line
/// flattens every other, so such a panel is drawn on a symmetric log scale, linear
/// within ±`SYMLOG_LINEAR` dollars and logarithmic beyond, its ticks at 0 and powers of
/// ten.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum MoneyScale {
    Linear,
    SymLog,
}

/// The half-width of the linear part of the symmetric log scale, in dollars.
const SYMLOG_LINEAR: f64 = 1000.0;

/// How much further one line may reach than the typical line before a linear axis
/// would flatten the others.
const SPREAD: f64 = 20.0;

impl MoneyScale {
    /// The scale for lines that reach (largest absolute value) `reaches`: symmetric log
    /// when the farthest reaches more than `SPREAD` times the median line.
    pub fn for_reaches(reaches: &[f64]) -> MoneyScale {
        let mut sorted: Vec<f64> = reaches.iter().copied().filter(|r| r.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let (Some(max), Some(median)) = (sorted.last(), sorted.get(sorted.len() / 2)) else {
            return MoneyScale::Linear;
        };
        if *max > SPREAD * median.max(SYMLOG_LINEAR) {
            MoneyScale::SymLog
        } else {
            MoneyScale::Linear
        }
    }

    /// Dollars to the panel's y coordinate.
    pub fn y(self, dollars: f64) -> f64 {
        match self {
            MoneyScale::Linear => dollars,
            MoneyScale::SymLog => dollars.signum() * (1.0 + dollars.abs() / SYMLOG_LINEAR).log10(),
        }
    }

    /// The panel's y coordinate back to dollars.
    pub fn dollars(self, y: f64) -> f64 {
        match self {
            MoneyScale::Linear => y,
            MoneyScale::SymLog => y.signum() * SYMLOG_LINEAR * (10f64.powf(y.abs()) - 1.0),
        }
    }

    /// Tick positions (in dollars) for a panel spanning `lo..hi` dollars.
    fn ticks(self, lo: f64, hi: f64) -> Vec<f64> {
        match self {
            MoneyScale::Linear => nice_ticks(lo, hi, 5),
            MoneyScale::SymLog => {
                let mut out = vec![0.0];
                let mut p = SYMLOG_LINEAR;
                while p <= hi.abs().max(lo.abs()) * 1.0001 {
                    if p <= hi {
                        out.push(p);
                    }
                    if -p >= lo {
                        out.push(-p);
                    }
                    p *= 10.0;
                }
                out.retain(|v| *v >= lo && *v <= hi);
                out.sort_by(f64::total_cmp);
                // At most about eight labels: every other power of ten beyond that.
                while out.len() > 9 {
                    out.retain(|v| *v == 0.0 || (v.abs().log10().round() as i64) % 2 == 1);
                }
                out
            }
        }
    }
}

/// About `n` round ticks between `lo` and `hi` (steps of 1, 2 or 5 times a power of ten).
fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || !span.is_finite() {
        return vec![lo];
    }
    let raw = span / n.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Dollars with thousands separators (`-13,900,000`).
pub(super) fn dollars(v: f64) -> String {
    let whole = v.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    if whole < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A linear axis with ticks of our choosing (plotters' own f64 axis chooses its ticks
/// itself, and its key-point combinator loses the formatting a mesh needs).
pub(super) struct Ticked {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span <= 0.0 {
            return limit.0;
        }
        let t = (value - self.range.start) / span;
        limit.0 + (t * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// A panel with a money axis on a [`MoneyScale`]: points drawn on it go through
/// [`MoneyScale::y`].
pub(super) type MoneyPanel<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Ticked>>;

pub(super) fn money_panel<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: String,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    y_desc: &str,
    scale: MoneyScale,
) -> Result<MoneyPanel<'a, 'b>, AnalysisError> {
    let ticks = scale.ticks(y.start, y.end);
    let labels: Vec<String> = ticks.iter().map(|v| dollars(*v)).collect();
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as u32;
    let key_points: Vec<f64> = ticks.iter().map(|v| scale.y(*v)).collect();
    let y_desc = match scale {
        MoneyScale::Linear => y_desc.to_string(),
        MoneyScale::SymLog => format!("{y_desc} (symmetric log scale)"),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 14))
        .margin(10)
        .x_label_area_size(32)
        .y_label_area_size(28 + 7 * widest)
        .build_cartesian_2d(
            x,
            Ticked {
                range: scale.y(y.start)..scale.y(y.end),
                ticks: key_points,
            },
        )
        .map_err(plot_err)?;
    let label = |v: &f64| dollars(scale.dollars(*v));
    chart
        .configure_mesh()
        .x_desc("year")
        .y_desc(y_desc)
        .x_labels(6)
        .x_label_formatter(&tick)
        .y_label_formatter(&label)
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

    #[test]
    fn a_money_axis_turns_symmetric_log_when_one_line_flattens_the_others() {
        // The MIT replication's profit panel: one cell 13.9 M in debt, the others within
        // a few hundred thousand.
        let reaches = [13_900_000.0, 640_000.0, 630_000.0, 650_000.0, 510_000.0];
        assert_eq!(MoneyScale::for_reaches(&reaches), MoneyScale::SymLog);
        // The quickstart's: all within a factor of a few.
        let reaches = [170_000.0, 865_000.0, 312_000.0, 212_000.0];
        assert_eq!(MoneyScale::for_reaches(&reaches), MoneyScale::Linear);
        let s = MoneyScale::SymLog;
        for v in [-13_900_000.0, -1000.0, 0.0, 250.0, 640_000.0] {
            assert!(
                (s.dollars(s.y(v)) - v).abs() < 1e-6 * v.abs().max(1.0),
                "{v}"
            );
        }
        // Ticks at 0 and powers of ten, within the range.
        assert_eq!(
            s.ticks(-2_000_000.0, 50_000.0),
            vec![
                -1_000_000.0,
                -100_000.0,
                -10_000.0,
                -1000.0,
                0.0,
                1000.0,
                10_000.0
            ]
        );
        assert_eq!(
            MoneyScale::Linear.ticks(-150_000.0, 220_000.0),
            vec![-100_000.0, 0.0, 100_000.0, 200_000.0]
        );
        assert_eq!(dollars(-13_912_345.4), "-13,912,345");
        assert_eq!(dollars(999.6), "1,000");
        assert_eq!(dollars(0.0), "0");
    }

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
    fn every_series_has_its_own_colour_and_marker_pair() {
        let pair = |i: usize| (Style::nth(i).colour, i % MARKERS);
        for i in 0..56 {
            for j in (i + 1)..56 {
                assert_ne!(pair(i), pair(j), "{i} and {j}");
            }
        }
        // The first eight differ in shape alone (grey print).
        for i in 0..MARKERS {
            for j in (i + 1)..MARKERS {
                assert_ne!(i % MARKERS, j % MARKERS);
            }
        }
    }

    #[test]
    fn a_header_wraps_its_texts_and_legend_to_the_figure_width() {
        let legend = Legend::new(
            [
                "none",
                "broadcast",
                "a2a",
                "rep",
                "quota",
                "ledger",
                "sanctions",
                "regulator-advice",
            ]
            .map(String::from)
            .to_vec(),
        );
        let head = Header {
            title: "Communication volume and the primary outcome",
            subtitle: "one point per run: tokens the agents published per agent-year (messages, intentions) against the outcome",
            legend: &legend,
        };
        for width in [PANEL_W, 2 * PANEL_W, 3 * PANEL_W] {
            let laid = head.lay_out(width);
            for line in &laid.title {
                assert!(text_width(line, TITLE_SIZE, true) <= width - 20, "{line}");
            }
            for line in &laid.subtitle {
                assert!(text_width(line, TEXT_SIZE, false) <= width - 20, "{line}");
            }
            for (name, (_, x)) in legend.names.iter().zip(&laid.entries) {
                let end = *x as u32 + 26 + text_width(name, TEXT_SIZE, false);
                assert!(end <= width - 10, "{name} ends at {end} of {width}");
            }
            // Every word is kept.
            assert_eq!(laid.title.join(" "), head.title);
            assert_eq!(laid.subtitle.join(" "), head.subtitle);
        }
        // One panel: more lines, a taller header.
        assert!(head.height(PANEL_W) > head.height(3 * PANEL_W));
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
