//! `report.md`.

use super::{Report, ReportFormat};
use crate::analysis::{render, AnalysisError};
use crate::record::write_atomic;
use std::path::Path;

pub struct Markdown;

impl ReportFormat for Markdown {
    fn name(&self) -> &'static str {
        "md"
    }

    fn write(&self, report: &Report<'_>, dir: &Path) -> Result<(), AnalysisError> {
        let text = render::markdown(report.comparison, report.experiment, report.ignored_rows);
        Ok(write_atomic(
            &dir.join("report.md"),
            text.as_bytes(),
            false,
        )?)
    }
}
