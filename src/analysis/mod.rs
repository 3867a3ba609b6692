//! The analysis stage (docs/DESIGN.md §9): reads only what runs recorded (never calls a model,
//! never re-plays a game) and answers "which protocol keeps the fish alive?".
//!
//! - `load`: results directories → per-run extras and per-cell year series, streamed.
//! - `metrics`: per-run metrics (`metrics.csv`); `compare`: per-cell statistics and
//!   contrasts.
//! - [`stats`]: Wilson, Kaplan–Meier (with Greenwood bands), RMST, log-rank, bootstrap,
//!   Mann–Whitney, Wilcoxon signed-rank, McNemar, Holm, Cliff's delta, Fisher; checked
//!   against scipy and lifelines.
//! - [`diagnose`]: socialisation diagnostics (influence, feedback adaptation, drift,
//!   convergence, anchors, the consensus probe) on actions and texts; [`embed`]: the text
//!   embeddings they use (TF-IDF built in, a model's through the binary).
//! - `render` (the report's tables and methods), `answer` (its first sentence, ranked), [`format`](mod@format) (one file per output format) and
//!   [`figures`] (plotters figures, PNG through resvg).
//! - [`story`]: one run told year by year (`fishbanks story`), as text or a page.

pub(crate) mod answer;
pub(crate) mod compare;
pub mod diagnose;
pub mod embed;
pub mod figures;
pub mod format;
pub(crate) mod load;
pub(crate) mod methods;
pub(crate) mod metrics;
pub(crate) mod render;
pub mod stats;
pub mod story;

use crate::record::write_atomic;
use std::path::PathBuf;

/// Errors of the analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("no results directory given")]
    NoInput,
    #[error("{} is not a results directory (it has no manifest.json and runs.csv written by `fishbanks run`){}", .0.display(), results_inside(.0))]
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
    #[error("reference protocol `{0}` is not in these results (their protocols: {1})")]
    UnknownReference(String, String),
    #[error("reference population `{0}` is not in these results (their populations: {1})")]
    UnknownReferencePopulation(String, String),
    #[error("unknown primary outcome `{0}`")]
    UnknownOutcome(String),
    #[error("{first} and {other} hold different experiments (they differ in: {changes}); refusing to pool them. Pass --compare to analyse them side by side, the experiment kept as a factor of every cell.")]
    DifferentExperiments {
        first: PathBuf,
        other: PathBuf,
        changes: String,
    },
    #[error("two different experiments are both named `{0}`: rename one to compare them")]
    AmbiguousExperiments(String),
    #[error("run `{run_id}` is not in {dir}/runs.csv ({runs} runs there{})", if example.is_empty() { String::new() } else { format!(", e.g. `{example}`") })]
    UnknownRun {
        run_id: String,
        dir: PathBuf,
        runs: usize,
        example: String,
    },
    #[error("cannot draw a figure: {0}")]
    Plot(String),
    #[error("embedding the texts failed: {0}")]
    Embedding(String),
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
}

/// For a directory that is not a results directory: the results directories inside it
/// (the `--out` directory holds one per experiment), as the rest of a message.
fn results_inside(dir: &std::path::Path) -> String {
    let mut inside: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(crate::record::RunFiles::MANIFEST).exists())
        .map(|p| p.display().to_string())
        .collect();
    inside.sort();
    if inside.is_empty() {
        String::new()
    } else {
        format!(
            "; the results directories inside it: {} (give one of them, or several)",
            inside.join(", ")
        )
    }
}

/// How to report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Where to write (default: the first input directory).
    pub out: Option<PathBuf>,
    /// Protocol the others are tested against (default: the experiment's `[analysis]
    /// reference`, which defaults to `none`, else the first protocol of kind `none`, else
    /// the first protocol).
    pub reference: Option<String>,
    /// Population the others are tested against within each protocol (default: the
    /// experiment's `[analysis] reference_population`, which defaults to the first of its
    /// matrix).
    pub reference_population: Option<String>,
    /// Formats to write, by name (`None`: every format).
    pub formats: Option<Vec<String>>,
    /// Analyse different experiments side by side (their cells kept apart) instead of
    /// refusing them.
    pub compare: bool,
    /// Resolution of the PNG figures (`None`: 150 dots per inch).
    pub dpi: Option<f64>,
    /// Figure choices (every run's stock as a thin line).
    pub figures: figures::FigureOptions,
}

/// Write each figure as `plots/<stem>.svg` and, with the `png` feature, `.png`.
pub(crate) fn write_figures(
    dir: &std::path::Path,
    figures: &[figures::Figure],
    dpi: Option<f64>,
) -> Result<(), AnalysisError> {
    for f in figures {
        write_atomic(
            &dir.join(format!("{}.svg", f.stem)),
            f.svg.as_bytes(),
            false,
        )?;
        if cfg!(feature = "png") {
            let png = figures::png(&f.svg, dpi.unwrap_or(150.0))?;
            write_atomic(&dir.join(format!("{}.png", f.stem)), &png, false)?;
        }
    }
    Ok(())
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
    /// The report files written (every selected format's).
    pub files: Vec<PathBuf>,
}

/// The reference protocol: the one asked for, else the first experiment's `[analysis]`
/// choice, else (manifests before `[analysis]`) `none`, the first protocol of kind
/// `none`, or the first protocol.
fn choose_reference(loaded: &load::Loaded, wanted: Option<&str>) -> Result<String, AnalysisError> {
    let protocols: Vec<&str> = loaded.cells.iter().map(|c| c.protocol.as_str()).collect();
    let recorded = loaded
        .experiments
        .first()
        .and_then(|e| e.analysis.as_ref())
        .map(|a| a.reference.as_str())
        .filter(|r| protocols.contains(r));
    if let Some(name) = wanted.or(recorded) {
        return if protocols.contains(&name) {
            Ok(name.to_string())
        } else {
            let mut known = protocols.clone();
            known.sort_unstable();
            known.dedup();
            Err(AnalysisError::UnknownReference(
                name.to_string(),
                known.join(", "),
            ))
        };
    }
    if protocols.contains(&"none") {
        return Ok("none".into());
    }
    Ok(loaded
        .cells
        .iter()
        .find(|c| c.protocol_kind == "none")
        .map(|c| c.protocol.as_str())
        .or(protocols.first().copied())
        .map(String::from)
        .unwrap_or_default())
}

/// Each experiment's reference population (its own name): the one asked for, else its
/// `[analysis]` choice, else the first of its matrix. One asked for must be a population
/// of every experiment.
fn choose_reference_populations(
    loaded: &load::Loaded,
    wanted: Option<&str>,
) -> Result<Vec<String>, AnalysisError> {
    loaded
        .experiments
        .iter()
        .map(|e| {
            let populations = e.matrix_populations();
            match wanted {
                Some(name) if populations.iter().any(|p| p == name) => Ok(name.to_string()),
                Some(name) => Err(AnalysisError::UnknownReferencePopulation(
                    name.to_string(),
                    populations.join(", "),
                )),
                None => Ok(e
                    .analysis
                    .as_ref()
                    .map(|a| a.reference_population.clone())
                    .filter(|p| populations.contains(p))
                    .or_else(|| populations.first().cloned())
                    .unwrap_or_default()),
            }
        })
        .collect()
}

/// A path as the report shows it: relative as given, else relative to the working
/// directory when inside it, else the directory's own name (the report names no
/// absolute path of the machine it was made on).
fn shown_path(path: &std::path::Path) -> String {
    if path.is_relative() {
        return path.display().to_string();
    }
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.display().to_string()))
        .filter(|p| !p.is_empty())
        .or_else(|| path.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| ".".into())
}

/// The `fishbanks report` command that writes this report again, with every option
/// that was given.
fn reproduce_command(inputs: &[PathBuf], options: &ReportOptions) -> String {
    let mut words = vec!["fishbanks report".to_string()];
    words.extend(inputs.iter().map(|d| shown_path(d)));
    if let Some(out) = &options.out {
        words.push(format!("--out {}", shown_path(out)));
    }
    if let Some(r) = &options.reference {
        words.push(format!("--reference {r}"));
    }
    if let Some(p) = &options.reference_population {
        words.push(format!("--reference-population {p}"));
    }
    if options.compare {
        words.push("--compare".into());
    }
    if let Some(f) = &options.formats {
        words.push(format!("--format {}", f.join(",")));
    }
    if options.figures.run_lines {
        words.push("--run-lines".into());
    }
    if let Some(dpi) = options.dpi.filter(|d| *d != 150.0) {
        words.push(format!("--dpi {dpi}"));
    }
    words.join(" ")
}

/// Read the results directories and write every format's files (`metrics.csv`,
/// `comparison.csv`, `report.md`, `report.html`, …) and `plots/*.svg`.
pub fn report(inputs: &[PathBuf], options: &ReportOptions) -> Result<ReportSummary, AnalysisError> {
    let formats = format::select(options.formats.as_deref())?;
    let loaded = load::load(inputs, options.compare)?;
    let reference = compare::Reference {
        protocol: choose_reference(&loaded, options.reference.as_deref())?,
        populations: choose_reference_populations(
            &loaded,
            options.reference_population.as_deref(),
        )?,
    };
    let primary_name = loaded
        .experiments
        .first()
        .map(|e| e.primary_outcome.clone())
        .unwrap_or_default();
    let primary = metrics::Measure::parse(&primary_name)
        .ok_or_else(|| AnalysisError::UnknownOutcome(primary_name.clone()))?;
    let metrics: Vec<metrics::RunMetrics> = loaded
        .runs
        .iter()
        .map(|r| {
            let msy = metrics::combined_msy(&loaded.experiment_of(&r.cell).game);
            metrics::RunMetrics::new(
                r,
                &loaded.extras.get(&r.run_id).cloned().unwrap_or_default(),
                msy,
            )
        })
        .collect();
    let comparison = compare::compare(&loaded, &metrics, &reference, primary);
    let reference = reference.protocol;

    let dir = options.out.clone().unwrap_or_else(|| inputs[0].clone());
    let plots_dir = dir.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|source| AnalysisError::Io {
        path: plots_dir.clone(),
        source,
    })?;
    let figures = figures::report_figures(&loaded, &comparison, &metrics, options.figures)?;
    write_figures(&plots_dir, &figures, options.dpi)?;
    let names: Vec<&str> = loaded.experiments.iter().map(|e| e.name.as_str()).collect();
    let experiment = names.join(" vs ");
    let command = reproduce_command(inputs, options);
    let report = format::Report {
        experiment: &experiment,
        loaded: &loaded,
        comparison: &comparison,
        metrics: &metrics,
        figures: &figures,
        command: &command,
        socialisation: diagnose::report_table(&dir),
    };
    for f in &formats {
        f.write(&report, &dir)?;
    }
    let (header, rows) = render::primary_table(&comparison);
    let mut headline = format!(
        "{}\n\n| {} |\n|{}\n",
        answer::ranked(&comparison),
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for r in rows {
        headline.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    let files = formats
        .iter()
        .flat_map(|f| f.files())
        .map(|name| dir.join(name))
        .collect();
    Ok(ReportSummary {
        files,
        dir,
        runs: loaded.runs.len(),
        cells: comparison.cells.len(),
        reference,
        headline,
    })
}
