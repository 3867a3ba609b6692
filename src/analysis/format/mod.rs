//! Report formats: each writes one kind of file from the same computed [`Report`]. A new
//! format is one more file here and one more entry in [`FORMATS`].

mod csv;
pub(crate) mod html;
mod latex;
mod markdown;

use super::compare::Comparison;
use super::load::Loaded;
use super::metrics::RunMetrics;
use super::AnalysisError;
use std::path::Path;

/// Everything the formats write about: computed once, read by each.
pub struct Report<'a> {
    /// The experiment's name (names joined with `--compare`).
    pub experiment: &'a str,
    pub loaded: &'a Loaded,
    pub comparison: &'a Comparison,
    pub metrics: &'a [RunMetrics],
    /// The figures, in the order the report shows them.
    pub figures: &'a [super::figures::Figure],
    /// The command that writes the report again (every option given).
    pub command: &'a str,
    /// The socialisation diagnostics' key table, when `fishbanks diagnose` has written
    /// them.
    pub socialisation: Option<(Vec<String>, Vec<Vec<String>>)>,
}

/// One output format of `fishbanks report`.
pub trait ReportFormat: Sync {
    /// The name users pass to `--format` (`md`, `html`, `csv`, …).
    fn name(&self) -> &'static str;
    /// Write this format's files into `dir`.
    fn write(&self, report: &Report<'_>, dir: &Path) -> Result<(), AnalysisError>;
    /// The files it writes (names in `dir`), for the user to be told where to look.
    fn files(&self) -> &'static [&'static str];
    /// Whether it is written when no `--format` is given.
    fn by_default(&self) -> bool {
        true
    }
}

/// Every format, in the order they are written.
pub const FORMATS: &[&dyn ReportFormat] =
    &[&csv::Csv, &markdown::Markdown, &html::Html, &latex::Latex];

/// The formats named in `names` (every default format when `None`: all but LaTeX), or
/// an error naming the unknown one and the choices.
pub fn select(names: Option<&[String]>) -> Result<Vec<&'static dyn ReportFormat>, AnalysisError> {
    let Some(names) = names else {
        return Ok(FORMATS.iter().copied().filter(|f| f.by_default()).collect());
    };
    names
        .iter()
        .map(|n| {
            FORMATS
                .iter()
                .copied()
                .find(|f| f.name() == n)
                .ok_or_else(|| {
                    let known: Vec<&str> = FORMATS.iter().map(|f| f.name()).collect();
                    AnalysisError::UnknownFormat(n.clone(), known.join(", "))
                })
        })
        .collect()
}
