//! The report's figures, drawn with `plotters` (SVG backend) and rasterised to PNG with
//! `resvg` (feature `png`). Every figure answers the question *within* a population:
//! small multiples, one panel per population, protocols in styles (colour and dash) that
//! are the same in every figure. Nothing is hidden: curves that coincide are drawn once
//! and named together, survival panels carry the number at risk, and bands are drawn
//! only where they stay readable.
//!
//! - `draw`: styles, the header and legend, panels, coinciding curves.
//! - `survival`, `series` (stock, profit), `forest`, `tokens`: the report's
//!   figures; `influence`: `diagnose`'s graphs; `run`: one run's figures (`story`);
//!   [`heatmap`]: a table of numbers as a figure (the leaderboard of `fishbanks rate`).

mod draw;
mod forest;
pub mod heatmap;
mod influence;
pub mod run;
mod series;
mod survival;
mod tokens;

pub use influence::influence_graph;

use super::compare::Comparison;
use super::load::Loaded;
use super::metrics::RunMetrics;
use super::AnalysisError;
use draw::Legend;

/// A figure: its title, file stem (`plots/<stem>.svg`, `.png`) and SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub stem: String,
    pub svg: String,
}

/// Choices about the report's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FigureOptions {
    /// Draw every run's stock as a thin line under the means (and no bands).
    pub run_lines: bool,
}

/// Every figure of the report, in the order it shows them.
pub fn report_figures(
    loaded: &Loaded,
    cmp: &Comparison,
    metrics: &[RunMetrics],
    options: FigureOptions,
) -> Result<Vec<Figure>, AnalysisError> {
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
    let legend = Legend::new(protocols);
    let points = Legend {
        markers: true,
        ..Legend::new(legend.names.clone())
    };
    let figure = |title: &str, stem: &str, svg: String| Figure {
        title: title.to_string(),
        stem: stem.to_string(),
        svg,
    };
    let stock_subtitle = if options.run_lines {
        "thin: each run; thick: the mean over runs per year"
    } else {
        "mean over runs per year; 95% bands when a panel has at most 3 lines"
    };
    Ok(vec![
        figure(
            "Survival",
            "survival",
            survival::figure(&legend, &populations, cmp)?,
        ),
        figure(
            "Effects on the primary outcome",
            "forest",
            forest::figure(&legend, &populations, cmp)?,
        ),
        figure(
            "Fish stock",
            "stock",
            series::figure(
                &legend,
                &populations,
                cmp,
                &loaded.series,
                &series::SeriesSpec {
                    slots: &[(0, "deep sea"), (1, "coast")],
                    title: "Fish stock by area",
                    subtitle: stock_subtitle,
                    y_label: "fish at the end of the year",
                    floor: Some(0.0),
                    money: false,
                    runs: options.run_lines.then_some(loaded),
                },
            )?,
        ),
        figure(
            "Cumulative profit",
            "profit",
            series::figure(
                &legend,
                &populations,
                cmp,
                &loaded.series,
                &series::SeriesSpec {
                    slots: &[(3, "")],
                    title: "Cumulative profit of all teams",
                    subtitle: "revenue − operating costs summed over the years, mean over runs; 95% bands when a panel has at most 3 lines",
                    y_label: "cumulative profit, US dollars",
                    floor: None,
                    money: true,
                    runs: None,
                },
            )?,
        ),
        figure(
            "Communication volume",
            "tokens",
            tokens::figure(&points, &populations, cmp, metrics)?,
        ),
    ])
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
