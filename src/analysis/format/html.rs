//! `report.html`: one self-contained file (inline CSS and SVG, no network).

use super::{Report, ReportFormat};
use crate::analysis::{render, AnalysisError};
use crate::record::write_atomic;
use std::path::Path;

pub struct Html;

impl ReportFormat for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn write(&self, report: &Report<'_>, dir: &Path) -> Result<(), AnalysisError> {
        let figures: Vec<(&str, &str)> = report
            .figures
            .iter()
            .map(|(title, _, svg)| (*title, svg.as_str()))
            .collect();
        let text = render::html(report.comparison, report.experiment, &figures);
        Ok(write_atomic(
            &dir.join("report.html"),
            text.as_bytes(),
            false,
        )?)
    }
}
