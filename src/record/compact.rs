//! Rewriting a results directory's CSV files by run: dropping some runs (failed ones
//! that resume plays again) or putting them back in plan order (after runs were played
//! out of order). Each run's rows are contiguous in every file (they are appended in one
//! write), so a file is regrouped by the run id in its first column.

use super::{write_atomic, RecordError, RunFiles};
use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// The CSV files that hold rows of runs, `runs.csv` last (it is rewritten last, so a
/// crash in between leaves at worst extra rows of runs that `runs.csv` still lists).
pub const RUN_FILES: [&str; 4] = [
    RunFiles::YEARS,
    RunFiles::AGENTS,
    RunFiles::MESSAGES,
    RunFiles::RUNS,
];

/// Rewrite every run file of `dir`, keeping the runs `position` returns a position for,
/// ordered by it (runs with equal positions keep their order). Returns whether anything
/// changed.
pub fn rewrite_runs(
    dir: &Path,
    position: &dyn Fn(&str) -> Option<usize>,
) -> Result<bool, RecordError> {
    let mut changed = false;
    for name in RUN_FILES {
        changed |= rewrite_file(&dir.join(name), position)?;
    }
    Ok(changed)
}

fn rewrite_file(
    path: &Path,
    position: &dyn Fn(&str) -> Option<usize>,
) -> Result<bool, RecordError> {
    if !path.exists() {
        return Ok(false);
    }
    let text = fs::read_to_string(path).map_err(|source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = text.split_inclusive('\n');
    let Some(header) = lines.next() else {
        return Ok(false);
    };
    // Runs in the order they appear, each with its lines.
    let mut order: Vec<&str> = Vec::new();
    let mut rows: HashMap<&str, Vec<&str>> = HashMap::new();
    for line in lines {
        let id = line.split(',').next().unwrap_or("");
        rows.entry(id)
            .or_insert_with(|| {
                order.push(id);
                Vec::new()
            })
            .push(line);
    }
    let mut kept: Vec<(usize, usize, &str)> = order
        .iter()
        .enumerate()
        .filter_map(|(i, id)| position(id).map(|p| (p, i, *id)))
        .collect();
    kept.sort();
    let unchanged =
        kept.len() == order.len() && kept.iter().enumerate().all(|(i, (_, was, _))| *was == i);
    if unchanged {
        return Ok(false);
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(header);
    for (_, _, id) in kept {
        for line in &rows[id] {
            out.push_str(line);
        }
    }
    write_atomic(path, out.as_bytes(), true)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_dropped_and_put_in_plan_order_with_their_rows_together() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(RunFiles::RUNS), "run_id,x\nb,1\na,2\nc,3\n").unwrap();
        fs::write(
            dir.path().join(RunFiles::YEARS),
            "run_id,year\nb,1\nb,2\na,1\na,2\nc,1\n",
        )
        .unwrap();
        let plan = |id: &str| match id {
            "a" => Some(0),
            "b" => Some(1),
            _ => None,
        };
        assert!(rewrite_runs(dir.path(), &plan).unwrap());
        assert_eq!(
            fs::read_to_string(dir.path().join(RunFiles::RUNS)).unwrap(),
            "run_id,x\na,2\nb,1\n"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join(RunFiles::YEARS)).unwrap(),
            "run_id,year\na,1\na,2\nb,1\nb,2\n"
        );
        // In order already: nothing to do.
        assert!(!rewrite_runs(dir.path(), &plan).unwrap());
    }
}
