//! What `diagnose` writes: `diagnostics.csv`, `influence.csv`, `diagnose.md`, and the
//! table the report shows.

use super::{Channel, Diagnosis, Summary, METRICS};
use crate::analysis::AnalysisError;
use crate::record::{write_atomic, RunFiles};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Write `diagnostics.csv` (per cell and metric), `influence.csv` (every test of every
/// run), `diagnose.md` and `plots/influence-<cell>.svg`.
pub(super) fn write(diagnosis: &Diagnosis) -> Result<(), AnalysisError> {
    let dir = &diagnosis.dir;
    write_atomic(
        &dir.join(DIAGNOSTICS_CSV),
        cells_csv(diagnosis).as_bytes(),
        false,
    )?;
    write_atomic(
        &dir.join("influence.csv"),
        influence_csv(diagnosis).as_bytes(),
        false,
    )?;
    write_atomic(
        &dir.join("diagnose.md"),
        markdown(diagnosis).as_bytes(),
        false,
    )?;
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|source| AnalysisError::Io {
        path: plots.clone(),
        source,
    })?;
    let graphs: Vec<crate::analysis::figures::Figure> = diagnosis
        .cells
        .iter()
        .map(|c| {
            Ok(crate::analysis::figures::Figure {
                title: format!("Influence: {}", c.cell),
                stem: influence_plot_stem(&c.cell),
                svg: crate::analysis::figures::influence_graph(c)?,
            })
        })
        .collect::<Result<_, AnalysisError>>()?;
    crate::analysis::write_figures(&plots, &graphs, None)?;
    Ok(())
}

/// The per-cell file, which the report reads for its socialisation section.
pub const DIAGNOSTICS_CSV: &str = "diagnostics.csv";

/// File stem of a cell's influence graph (`plots/<stem>.svg`).
pub fn influence_plot_stem(cell: &str) -> String {
    format!("influence-{}", RunFiles::safe_stem(cell))
}

pub(super) fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or(String::new(), |v| format!("{v}"))
}

pub(super) fn cells_csv(d: &Diagnosis) -> String {
    let mut out =
        String::from("cell,protocol,population,channel,metric,n,estimate,ci_low,ci_high\n");
    for c in &d.cells {
        for ((name, channel, _), m) in METRICS.iter().zip(&c.metrics) {
            let (n, mean, ci) = (m.runs, m.mean, m.ci);
            let _ = writeln!(
                out,
                "{},{},{},{channel},{name},{n},{},{},{}",
                c.cell,
                c.protocol,
                c.population,
                num(Some(mean)),
                num(ci.map(|x| x.0)),
                num(ci.map(|x| x.1)),
            );
        }
    }
    out
}

pub(super) fn influence_csv(d: &Diagnosis) -> String {
    let mut out = String::from("run_id,cell,channel,source,target,statistic,p_value\n");
    for r in &d.runs {
        for t in &r.tests {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{}",
                r.run_id,
                r.cell,
                t.channel.name(),
                t.source,
                t.target,
                t.statistic,
                t.p_value
            );
        }
    }
    out
}

pub(super) fn fmt_estimate(n: usize, mean: f64, ci: Option<(f64, f64)>) -> String {
    if n == 0 || !mean.is_finite() {
        return "–".into();
    }
    match ci {
        Some((lo, hi)) if n > 1 => format!("{mean:.2} [{lo:.2}, {hi:.2}]"),
        _ => format!("{mean:.2}"),
    }
}

/// The metrics of [`METRICS`] the summary tables show.
pub(super) const KEY_METRICS: [usize; 11] = [0, 1, 2, 5, 8, 11, 12, 13, 14, 15, 17];

/// The report's socialisation section: the key metrics of a `diagnostics.csv` a previous
/// `fishbanks diagnose` wrote into `dir` (`None` when there is none).
pub fn report_table(dir: &Path) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let path = dir.join(DIAGNOSTICS_CSV);
    let mut reader = csv::Reader::from_path(&path).ok()?;
    // cell → metric index → (n, estimate, ci)
    let mut cells: Vec<(String, BTreeMap<usize, Summary>)> = Vec::new();
    for record in reader.records() {
        let r = record.ok()?;
        let (cell, channel, metric) = (r.get(0)?, r.get(3)?, r.get(4)?);
        let Some(k) = METRICS
            .iter()
            .position(|(n, c, _)| *n == metric && *c == channel)
        else {
            continue;
        };
        let n: usize = r.get(5)?.parse().unwrap_or(0);
        let value = |i: usize| r.get(i).and_then(|v| v.parse::<f64>().ok());
        let ci = value(7).zip(value(8));
        if cells.last().is_none_or(|(c, _)| c != cell) {
            cells.push((cell.to_string(), BTreeMap::new()));
        }
        if let Some((_, m)) = cells.last_mut() {
            m.insert(
                k,
                Summary {
                    runs: n,
                    mean: value(6).unwrap_or(f64::NAN),
                    ci,
                },
            );
        }
    }
    let mut header = vec!["cell".to_string()];
    header.extend(KEY_METRICS.iter().map(|k| {
        let (name, channel, _) = METRICS[*k];
        format!("{name} ({channel})")
    }));
    let rows = cells
        .into_iter()
        .map(|(cell, m)| {
            let mut r = vec![cell];
            r.extend(
                KEY_METRICS
                    .iter()
                    .map(|k| m.get(k).map_or("–".into(), Summary::text)),
            );
            r
        })
        .collect();
    Some((header, rows))
}

/// The per-cell table of the key metrics.
pub fn cell_table(d: &Diagnosis) -> (Vec<String>, Vec<Vec<String>>) {
    let keys = KEY_METRICS;
    let mut header = vec!["cell".to_string(), "runs".to_string()];
    header.extend(keys.iter().map(|k| {
        let (name, channel, _) = METRICS[*k];
        format!("{name} ({channel})")
    }));
    header.push("top anchor (runs)".into());
    let rows = d
        .cells
        .iter()
        .map(|c| {
            let mut r = vec![c.cell.clone(), c.runs.to_string()];
            r.extend(keys.iter().map(|k| c.metrics[*k].text()));
            r.push(
                c.anchor
                    .map_or("–".into(), |(t, n)| format!("team {} ({n})", t + 1)),
            );
            r
        })
        .collect();
    (header, rows)
}

pub(super) fn table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
}

pub(super) fn markdown(d: &Diagnosis) -> String {
    let mut out = String::from("# Socialisation diagnostics\n\n");
    if d.options.include_invalid {
        out.push_str("> **Runs marked `invalid` are included** (`--include-invalid`): their agents' fallbacks are part of what these numbers measure.\n\n");
    }
    let _ = writeln!(
        out,
        "{} runs; {}; text embedding: {}; influence: one-sided permutation tests ({} permutations), an edge when p < {}.\n",
        d.runs.len(),
        d.left_out,
        d.embedding,
        d.options.permutations,
        d.options.alpha
    );
    let (header, rows) = cell_table(d);
    table(&mut out, &header, &rows);
    out.push_str("\nMean over runs [bootstrap 95% interval across replicates]; – : not measurable (no texts, no probe, too few years).\n\n## All metrics\n\n");
    let mut header = vec!["cell".to_string()];
    header.extend(METRICS.iter().map(|(n, c, _)| format!("{n} ({c})")));
    let rows: Vec<Vec<String>> = d
        .cells
        .iter()
        .map(|c| {
            let mut r = vec![c.cell.clone()];
            r.extend(c.metrics.iter().map(Summary::text));
            r
        })
        .collect();
    table(&mut out, &header, &rows);
    out.push_str("\n## Influence edges\n\nShare of runs in which team i (row) influenced team j (column), actions channel; `plots/influence-<cell>.svg` draws them.\n\n");
    for c in &d.cells {
        let _ = writeln!(out, "### {}\n", c.cell);
        let mut header = vec!["from \\ to".to_string()];
        header.extend((1..=c.teams).map(|t| format!("team {t}")));
        let rows: Vec<Vec<String>> = c.edges[&Channel::Actions]
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut r = vec![format!("team {}", i + 1)];
                r.extend(row.iter().map(|v| {
                    if v.is_finite() {
                        format!("{v:.2}")
                    } else {
                        "–".into()
                    }
                }));
                r
            })
            .collect();
        table(&mut out, &header, &rows);
        out.push('\n');
    }
    out.push_str("## What the metrics mean\n\n");
    for (name, channel, what) in METRICS {
        let _ = writeln!(out, "- `{name}` ({channel}): {what}.");
    }
    out.push_str("\nInfluence on actions: the partial correlation of team j's decision in year t with team i's signal (the plan i announced that year, else its decision of the year before), controlling for j's own previous decision and the densities of the year; on text: how much closer j's next text came to i's text than j's text of that year was. Both are tested against i's years shuffled.\n");
    out
}

/// Read the per-cell diagnostics file a previous `diagnose` wrote (for the report), if
/// there is one.
pub fn read_cells_csv(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(DIAGNOSTICS_CSV)).ok()
}
