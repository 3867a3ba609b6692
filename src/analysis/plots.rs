//! Plots as self-contained SVG, written by hand: a few lines, bands and steps do not
//! justify a plotting library in the build.

use super::compare::Comparison;
use super::load::YearSeries;
use std::fmt::Write as _;

const W: f64 = 760.0;
const H: f64 = 300.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;
const COLORS: [&str; 12] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939",
];

/// Dash pattern of the n-th line: solid for the first dozen, then dashed, so that more
/// cells than colours stay distinguishable.
fn dash(i: usize) -> &'static str {
    if i < COLORS.len() {
        ""
    } else {
        r#" stroke-dasharray="6 3""#
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A panel with axes: maps data to pixels.
struct Panel {
    x0: f64,
    y0: f64,
    width: f64,
    height: f64,
    x_max: f64,
    y_max: f64,
}

impl Panel {
    fn x(&self, v: f64) -> f64 {
        self.x0 + v / self.x_max.max(1e-9) * self.width
    }
    fn y(&self, v: f64) -> f64 {
        self.y0 + self.height - v / self.y_max.max(1e-9) * self.height
    }

    fn axes(&self, out: &mut String, title: &str, x_label: &str, y_label: &str) {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="14" font-weight="bold">{}</text>"##,
            self.x0,
            self.y0 - 10.0,
            escape(title)
        );
        let _ = write!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#444"/>"##,
            self.x0, self.y0, self.width, self.height
        );
        for i in 0..=4 {
            let v = self.y_max * i as f64 / 4.0;
            let y = self.y(v);
            let _ = write!(
                out,
                r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>"##,
                self.x0,
                self.x0 + self.width,
                self.x0 - 4.0,
                y + 4.0,
                format_tick(v)
            );
        }
        let step = (self.x_max / 10.0).ceil().max(1.0);
        let mut t = 0.0;
        while t <= self.x_max + 1e-9 {
            let _ = write!(
                out,
                r##"<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>"##,
                self.x(t),
                self.y0 + self.height + 14.0,
                t
            );
            t += step;
        }
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text><text x="14" y="{}" font-size="12" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>"##,
            self.x0 + self.width / 2.0,
            self.y0 + self.height + 30.0,
            escape(x_label),
            self.y0 + self.height / 2.0,
            self.y0 + self.height / 2.0,
            escape(y_label)
        );
    }
}

fn format_tick(v: f64) -> String {
    if v.abs() >= 1000.0 || v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn legend(out: &mut String, names: &[String], x: f64, y: f64) {
    for (i, name) in names.iter().enumerate() {
        let yy = y + i as f64 * 16.0;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{}" width="12" height="3" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>"##,
            yy - 4.0,
            COLORS[i % COLORS.len()],
            x + 16.0,
            yy,
            escape(name)
        );
    }
}

fn svg(height: f64, body: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif">{body}</svg>
"##
    )
}

/// Mean per year with a 95% band, one line per cell; `slot` picks the series (0 deep
/// stock, 1 coast stock, 2 catch).
fn series_panel(
    out: &mut String,
    series: &YearSeries,
    cells: &[String],
    slot: usize,
    y0: f64,
    (title, y_label): (&str, &str),
    y_max: f64,
) -> Vec<String> {
    let x_max = series
        .values()
        .flat_map(|s| s.keys())
        .max()
        .copied()
        .unwrap_or(1) as f64;
    let top = series
        .values()
        .flat_map(|s| s.values())
        .map(|m| m[slot].mean() + m[slot].half_width())
        .fold(y_max, f64::max);
    let panel = Panel {
        x0: LEFT,
        y0,
        width: W - LEFT - RIGHT,
        height: H - TOP - BOTTOM,
        x_max,
        y_max: top,
    };
    panel.axes(out, title, "year", y_label);
    let mut names = Vec::new();
    // Plan order, so a cell has the same colour in every plot.
    for (i, cell) in cells.iter().enumerate() {
        let Some(years) = series.get(cell) else {
            continue;
        };
        let color = COLORS[i % COLORS.len()];
        let dash = dash(i);
        let upper: Vec<(f64, f64)> = years
            .iter()
            .map(|(y, m)| (*y as f64, m[slot].mean() + m[slot].half_width()))
            .collect();
        let lower: Vec<(f64, f64)> = years
            .iter()
            .map(|(y, m)| (*y as f64, (m[slot].mean() - m[slot].half_width()).max(0.0)))
            .collect();
        let mut band = String::new();
        for (x, y) in upper.iter().chain(lower.iter().rev()) {
            let _ = write!(band, "{:.1},{:.1} ", panel.x(*x), panel.y(*y));
        }
        let line: String = years
            .iter()
            .map(|(y, m)| format!("{:.1},{:.1} ", panel.x(*y as f64), panel.y(m[slot].mean())))
            .collect();
        let _ = write!(
            out,
            r##"<polygon points="{band}" fill="{color}" fill-opacity="0.15" stroke="none"/><polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"##
        );
        names.push(cell.clone());
    }
    legend(out, &names, W - RIGHT + 12.0, y0 + 12.0);
    names
}

/// `stock.svg`: mean stock per year and cell, deep sea and coast, with 95% bands.
pub fn stock(series: &YearSeries, cells: &[String], max_deep: f64, max_coast: f64) -> String {
    let mut body = String::new();
    series_panel(
        &mut body,
        series,
        cells,
        0,
        TOP,
        ("Deep sea: mean fish stock (95% band)", "fish"),
        max_deep,
    );
    series_panel(
        &mut body,
        series,
        cells,
        1,
        TOP + H,
        ("Coast: mean fish stock (95% band)", "fish"),
        max_coast,
    );
    svg(2.0 * H + 10.0, &body)
}

/// `catch.svg`: mean total catch per year and cell.
pub fn catch(series: &YearSeries, cells: &[String]) -> String {
    let mut body = String::new();
    series_panel(
        &mut body,
        series,
        cells,
        2,
        TOP,
        ("Mean total catch per year (95% band)", "fish"),
        1.0,
    );
    svg(H + 10.0, &body)
}

/// `survival.svg`: Kaplan–Meier curves per cell.
pub fn survival(comparison: &Comparison) -> String {
    let mut body = String::new();
    let x_max = comparison
        .cells
        .iter()
        .map(|c| c.horizon)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let panel = Panel {
        x0: LEFT,
        y0: TOP,
        width: W - LEFT - RIGHT,
        height: H - TOP - BOTTOM,
        x_max,
        y_max: 1.0,
    };
    panel.axes(
        &mut body,
        "Kaplan–Meier: share of runs whose fishery has not collapsed",
        "years survived",
        "survival",
    );
    let mut names = Vec::new();
    for (i, cell) in comparison.cells.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let dash = dash(i);
        let mut points = format!("{:.1},{:.1} ", panel.x(0.0), panel.y(1.0));
        let mut survival = 1.0;
        for step in &cell.km {
            let _ = write!(
                points,
                "{:.1},{:.1} ",
                panel.x(step.time),
                panel.y(survival)
            );
            survival = step.survival;
            let _ = write!(
                points,
                "{:.1},{:.1} ",
                panel.x(step.time),
                panel.y(survival)
            );
        }
        let _ = write!(points, "{:.1},{:.1}", panel.x(x_max), panel.y(survival));
        let _ = write!(
            body,
            r##"<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"##
        );
        names.push(cell.cell.clone());
    }
    legend(&mut body, &names, W - RIGHT + 12.0, TOP + 12.0);
    svg(H + 10.0, &body)
}
