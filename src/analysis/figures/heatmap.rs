//! A table of numbers as a figure: rows (candidates) × columns (scenario and protocol),
//! each cell coloured by its value on a diverging scale centred on zero (blue above, red
//! below, white at none) and printed, so that the figure reads in grey and without the
//! colours. The leaderboard of `fishbanks rate` draws its paired differences with it.

use super::draw::{plot_err, svg_of, FONT};
use crate::analysis::AnalysisError;
use plotters::prelude::*;

/// What the figure shows.
pub struct Heatmap<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    pub rows: &'a [String],
    /// Column labels: (group, label), e.g. (scenario, protocol); a group spans its
    /// columns.
    pub columns: &'a [(String, String)],
    /// `values[row][column]`; `None`: not measured.
    pub values: &'a [Vec<Option<f64>>],
}

const CELL_W: i32 = 78;
const CELL_H: i32 = 30;
const LEFT: i32 = 150;
const TOP: i32 = 92;

/// The colour of `v` on a scale whose ends are ±`reach`.
fn colour(v: f64, reach: f64) -> RGBColor {
    let t = if reach > 0.0 {
        (v / reach).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let blend = |a: u8, b: u8, f: f64| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (end, f) = if t >= 0.0 {
        ((33, 102, 172), t)
    } else {
        ((178, 24, 43), -t)
    };
    RGBColor(
        blend(255, end.0, f),
        blend(255, end.1, f),
        blend(255, end.2, f),
    )
}

/// The figure as SVG.
pub fn heatmap(h: &Heatmap<'_>) -> Result<String, AnalysisError> {
    let width = (LEFT + CELL_W * h.columns.len() as i32 + 20).max(480) as u32;
    let height = (TOP + CELL_H * h.rows.len() as i32 + 30) as u32;
    let reach = h
        .values
        .iter()
        .flatten()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    svg_of(width, height, |root| {
        root.fill(&WHITE).map_err(plot_err)?;
        let title = TextStyle::from((FONT, 17).into_font()).color(&BLACK);
        let text = TextStyle::from((FONT, 12).into_font()).color(&BLACK);
        let small = TextStyle::from((FONT, 11).into_font()).color(&RGBColor(60, 60, 60));
        root.draw_text(h.title, &title, (10, 8)).map_err(plot_err)?;
        root.draw_text(h.subtitle, &small, (10, 32))
            .map_err(plot_err)?;
        // Column groups, then labels.
        let mut start = 0;
        while start < h.columns.len() {
            let group = &h.columns[start].0;
            let end = h.columns[start..]
                .iter()
                .position(|(g, _)| g != group)
                .map_or(h.columns.len(), |k| start + k);
            let x = LEFT + CELL_W * start as i32;
            root.draw_text(group, &text, (x + 4, TOP - 40))
                .map_err(plot_err)?;
            root.draw(&PathElement::new(
                vec![
                    (x + 2, TOP - 24),
                    (LEFT + CELL_W * end as i32 - 2, TOP - 24),
                ],
                BLACK.stroke_width(1),
            ))
            .map_err(plot_err)?;
            start = end;
        }
        for (j, (_, label)) in h.columns.iter().enumerate() {
            let x = LEFT + CELL_W * j as i32;
            root.draw_text(label, &small, (x + 4, TOP - 18))
                .map_err(plot_err)?;
        }
        for (i, row) in h.rows.iter().enumerate() {
            let y = TOP + CELL_H * i as i32;
            root.draw_text(row, &text, (10, y + 9)).map_err(plot_err)?;
            for j in 0..h.columns.len() {
                let x = LEFT + CELL_W * j as i32;
                let value = h.values.get(i).and_then(|r| r.get(j)).copied().flatten();
                let fill = value.map_or(RGBColor(235, 235, 235), |v| colour(v, reach));
                root.draw(&Rectangle::new(
                    [(x, y), (x + CELL_W - 2, y + CELL_H - 2)],
                    fill.filled(),
                ))
                .map_err(plot_err)?;
                let label = value.map_or("–".to_string(), |v| {
                    if v >= 0.0 {
                        format!("+{v:.2}")
                    } else {
                        format!("{v:.2}")
                    }
                });
                // Dark text on a pale cell, white on a deep one.
                let deep = value.is_some_and(|v| reach > 0.0 && v.abs() / reach > 0.6);
                let style = TextStyle::from((FONT, 12).into_font()).color(if deep {
                    &WHITE
                } else {
                    &BLACK
                });
                root.draw_text(&label, &style, (x + 18, y + 9))
                    .map_err(plot_err)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_printed_and_coloured_by_sign() {
        assert_eq!(colour(0.0, 2.0), RGBColor(255, 255, 255));
        assert_eq!(colour(2.0, 2.0), RGBColor(33, 102, 172));
        assert_eq!(colour(-5.0, 2.0), RGBColor(178, 24, 43));
        let svg = heatmap(&Heatmap {
            title: "t",
            subtitle: "s",
            rows: &["a".into(), "b".into()],
            columns: &[("x".into(), "none".into()), ("x".into(), "quota".into())],
            values: &[vec![Some(1.5), None], vec![Some(-0.25), Some(0.0)]],
        })
        .unwrap();
        for text in ["+1.50", "-0.25", "+0.00", "–", "quota"] {
            assert!(svg.contains(text), "{text}");
        }
    }
}
