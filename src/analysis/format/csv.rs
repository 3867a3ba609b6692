//! `metrics.csv` (one row per run) and `comparison.csv` (every estimate and test, tidy):
//! the source of every number in the other formats.

use super::{Report, ReportFormat};
use crate::analysis::{render, AnalysisError};
use crate::record::write_atomic;
use std::path::Path;

pub struct Csv;

fn write_csv<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<(), AnalysisError> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row).map_err(|source| AnalysisError::Csv {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let bytes = writer.into_inner().map_err(|e| AnalysisError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    Ok(write_atomic(path, &bytes, false)?)
}

impl ReportFormat for Csv {
    fn files(&self) -> &'static [&'static str] {
        &["metrics.csv", "comparison.csv"]
    }

    fn name(&self) -> &'static str {
        "csv"
    }

    fn write(&self, report: &Report<'_>, dir: &Path) -> Result<(), AnalysisError> {
        write_csv(&dir.join("metrics.csv"), report.metrics)?;
        write_csv(
            &dir.join("comparison.csv"),
            &render::comparison_rows(report.comparison),
        )
    }
}
