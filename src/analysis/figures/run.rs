//! One run's figures, for `fishbanks story`: the sea (stock by area, year by year) and
//! the teams (each team's catch and bank).

use super::draw::*;
use super::Figure;
use crate::analysis::AnalysisError;
use crate::record::{AgentRow, YearRow};

/// A panel of named lines over the years.
fn lines_panel(
    area: &plotters::drawing::DrawingArea<
        plotters::backend::SVGBackend<'_>,
        plotters::coord::Shift,
    >,
    legend: &Legend,
    caption: &str,
    y_desc: &str,
    lines: &[(String, Vec<(f64, f64)>)],
) -> Result<(), AnalysisError> {
    let x_max = lines
        .iter()
        .flat_map(|(_, l)| l.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    let values = || lines.iter().flat_map(|(_, l)| l.iter().map(|p| p.1));
    let y_max = values().fold(1.0f64, f64::max);
    let y_min = values().fold(0.0f64, f64::min);
    let pad = (y_max - y_min) * 0.05;
    let mut chart = panel(
        area,
        Axes {
            caption: caption.to_string(),
            x: 0f64..x_max,
            y: (y_min - if y_min < 0.0 { pad } else { 0.0 })..(y_max + pad),
            x_desc: "year",
            y_desc,
            y_labels: 5,
            y_label_area: 64,
        },
    )?;
    for (name, line) in lines {
        draw_line(&mut chart, line.clone(), legend.style(name), 2)?;
    }
    Ok(())
}

/// The sea and the teams of one run (rows of that run only, any order).
pub fn run_figures(years: &[YearRow], agents: &[AgentRow]) -> Result<Vec<Figure>, AnalysisError> {
    let mut years: Vec<&YearRow> = years.iter().collect();
    years.sort_by_key(|y| y.year);
    let areas = Legend::new(vec!["deep sea".into(), "coast".into()]);
    let sea = vec![
        (
            "deep sea".to_string(),
            years
                .iter()
                .map(|y| (y.year as f64, y.stock_deep as f64))
                .collect(),
        ),
        (
            "coast".to_string(),
            years
                .iter()
                .map(|y| (y.year as f64, y.stock_coast as f64))
                .collect(),
        ),
    ];
    let head = Header {
        title: "The sea",
        subtitle: "fish at the end of each year, after regeneration",
        legend: &areas,
    };
    let sea_svg = figure_svg(PANEL_W + 140, PANEL_H, &head, |body| {
        lines_panel(body, &areas, "", "fish", &sea)
    })?;
    let teams = agents.iter().map(|a| a.agent + 1).max().unwrap_or(0);
    let team_name = |agent: usize| format!("team {}", agent + 1);
    let legend = Legend::new((0..teams).map(team_name).collect());
    let per_team = |value: &dyn Fn(&AgentRow) -> f64| -> Vec<(String, Vec<(f64, f64)>)> {
        (0..teams)
            .map(|t| {
                let mut line: Vec<(f64, f64)> = agents
                    .iter()
                    .filter(|a| a.agent == t)
                    .map(|a| (a.year as f64, value(a)))
                    .collect();
                line.sort_by(|a, b| a.0.total_cmp(&b.0));
                (team_name(t), line)
            })
            .collect()
    };
    let catch = per_team(&|a| (a.catch_deep + a.catch_coast) as f64);
    let bank = per_team(&|a| a.bank as f64);
    let head = Header {
        title: "The teams",
        subtitle: "each team's catch in the year, and its bank at the end of the year",
        legend: &legend,
    };
    let teams_svg = figure_svg(2 * (PANEL_W + 40), PANEL_H, &head, |body| {
        let (left, right) = body.split_horizontally(PANEL_W + 40);
        lines_panel(&left, &legend, "catch", "fish", &catch)?;
        lines_panel(&right, &legend, "bank", "$", &bank)
    })?;
    Ok(vec![
        Figure {
            title: "The sea".into(),
            stem: "sea".into(),
            svg: sea_svg,
        },
        Figure {
            title: "The teams".into(),
            stem: "teams".into(),
            svg: teams_svg,
        },
    ])
}
