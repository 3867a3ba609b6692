//! The analysis stage (DESIGN §9): reads only what runs recorded (never calls a model,
//! never re-plays a game) and answers "which protocol keeps the fish alive?".
//!
//! - `load`: results directories → per-run extras and per-cell year series, streamed.
//! - `compare`: per-run metrics (`metrics.csv`) and per-cell statistics.
//! - [`stats`]: Wilson, Kaplan–Meier, RMST, log-rank, bootstrap, Mann–Whitney, Holm,
//!   Cliff's delta, Fisher; checked against scipy and lifelines.
//! - `render` and `plots`: `comparison.csv`, `report.md`, `report.html`, `plots/*.svg`.

pub(crate) mod compare;
pub mod format;
pub(crate) mod load;
pub(crate) mod plots;
pub(crate) mod render;
pub mod stats;

use crate::record::write_atomic;
use std::path::PathBuf;

/// Errors of the analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("no results directory given")]
    NoInput,
    #[error("{0} is not a results directory (it has no manifest.json and runs.csv written by `fishbanks run`)")]
    NotResults(PathBuf),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path} is not a valid manifest: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("unknown report format `{0}` (known: {1})")]
    UnknownFormat(String, String),
    #[error("reference protocol `{0}` is not in these results")]
    UnknownReference(String),
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
}

/// How to report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Where to write (default: the first input directory).
    pub out: Option<PathBuf>,
    /// Protocol the others are tested against (default: `none`, else the first protocol
    /// of kind `none`, else the first protocol).
    pub reference: Option<String>,
    /// Formats to write, by name (`None`: every format).
    pub formats: Option<Vec<String>>,
}

/// What a report produced.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    pub dir: PathBuf,
    pub runs: usize,
    pub cells: usize,
    pub reference: String,
    /// The headline table as Markdown.
    pub headline: String,
}

fn choose_reference(loaded: &load::Loaded, wanted: Option<&str>) -> Result<String, AnalysisError> {
    let protocols: Vec<&str> = loaded.manifest.cells.iter().map(|c| c.1.as_str()).collect();
    if let Some(name) = wanted {
        return if protocols.contains(&name) {
            Ok(name.to_string())
        } else {
            Err(AnalysisError::UnknownReference(name.to_string()))
        };
    }
    if protocols.contains(&"none") {
        return Ok("none".into());
    }
    let kinds = &loaded.manifest.protocol_kinds;
    Ok(protocols
        .iter()
        .find(|p| kinds.get(**p).map(String::as_str) == Some("none"))
        .or(protocols.first())
        .map(|p| p.to_string())
        .unwrap_or_default())
}

/// Read the results directories and write `metrics.csv`, `comparison.csv`, `report.md`,
/// `report.html` and `plots/*.svg`.
pub fn report(inputs: &[PathBuf], options: &ReportOptions) -> Result<ReportSummary, AnalysisError> {
    let loaded = load::load(inputs)?;
    let reference = choose_reference(&loaded, options.reference.as_deref())?;
    let msy = compare::combined_msy(&loaded.manifest.game);
    let metrics: Vec<compare::RunMetrics> = loaded
        .runs
        .iter()
        .map(|r| {
            compare::RunMetrics::new(
                r,
                &loaded.extras.get(&r.run_id).cloned().unwrap_or_default(),
                msy,
            )
        })
        .collect();
    let comparison = compare::compare(&loaded, &metrics, &reference);

    let formats = format::select(options.formats.as_deref())?;
    let dir = options.out.clone().unwrap_or_else(|| inputs[0].clone());
    let plots_dir = dir.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|source| AnalysisError::Io {
        path: plots_dir.clone(),
        source,
    })?;
    let game = &loaded.manifest.game;
    let cells: Vec<String> = comparison.cells.iter().map(|c| c.cell.clone()).collect();
    let figures = [
        (
            "Fish stock",
            "stock.svg",
            plots::stock(
                &loaded.series,
                &cells,
                game.deep.max_stock as f64,
                game.coast.max_stock as f64,
            ),
        ),
        ("Survival", "survival.svg", plots::survival(&comparison)),
        ("Catch", "catch.svg", plots::catch(&loaded.series, &cells)),
    ];
    for (_, name, svg) in &figures {
        write_atomic(&plots_dir.join(name), svg.as_bytes(), false)?;
    }
    let report = format::Report {
        experiment: &loaded.manifest.experiment,
        comparison: &comparison,
        metrics: &metrics,
        figures: &figures,
        ignored_rows: loaded.ignored_rows,
    };
    for f in &formats {
        f.write(&report, &dir)?;
    }
    let (header, rows) = render::headline(&comparison);
    let mut headline = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for r in rows {
        headline.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    Ok(ReportSummary {
        dir,
        runs: loaded.runs.len(),
        cells: comparison.cells.len(),
        reference,
        headline,
    })
}
