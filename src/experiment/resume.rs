//! Preparing an output directory: a new one gets its manifest; one that already holds
//! this experiment is resumed (completed runs kept, anything half-written cut off); one
//! that holds a different experiment is refused, unless the user asks for a fresh start.

use super::error::RunnerError;
use crate::record::{header_of, rewrite_runs, Manifest, RecordError, RunFiles, RunRow};
use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::path::Path;

/// What an output directory already holds.
#[derive(Debug, Default)]
pub struct Existing {
    /// Ids of runs whose rows are all on disk.
    pub completed: HashSet<String>,
    /// Their `runs.csv` rows, in file order.
    pub rows: Vec<RunRow>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunnerError + '_ {
    move |source| {
        RunnerError::Record(RecordError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Make `dir` ready for the experiment of `manifest`. See the module doc. With
/// `retry_failed`, runs recorded as `failed` (an infrastructure error) are removed from
/// the files so that they are played again.
pub fn prepare(
    manifest: &Manifest,
    dir: &Path,
    force_new: bool,
    retry_failed: bool,
) -> Result<Existing, RunnerError> {
    if dir.join(RunFiles::MANIFEST).exists() {
        match Manifest::read(dir) {
            Ok(old) => {
                let same = old.config_sha256 == manifest.config_sha256;
                if same && old.shard != manifest.shard && !force_new {
                    return Err(RunnerError::Setup(format!(
                        "{} holds shard {} of this experiment, not {}; give each shard its own --out directory",
                        dir.display(),
                        old.shard.as_deref().unwrap_or("(all runs)"),
                        manifest.shard.as_deref().unwrap_or("all runs"),
                    )));
                }
                if same && old.shard == manifest.shard {
                    // The report's question and the harness's descriptions are not the
                    // experiment: a new `[analysis]` updates them and keeps every run.
                    if old.analysis != manifest.analysis
                        || old.descriptions != manifest.descriptions
                    {
                        Manifest {
                            analysis: manifest.analysis.clone(),
                            descriptions: manifest.descriptions.clone(),
                            ..old
                        }
                        .write(dir)?;
                    }
                    return resume(dir, retry_failed);
                }
                if !force_new {
                    return Err(RunnerError::Setup(format!(
                        "{} holds results of a different experiment ({}); refusing to mix them. \
                         Use another --out directory, or --force-new to discard the old results.",
                        dir.display(),
                        describe_changes(&old.config, &manifest.config)
                    )));
                }
            }
            Err(e) if !force_new => {
                return Err(RunnerError::Setup(format!(
                    "{e}; use another --out directory, or --force-new to discard what is there"
                )))
            }
            Err(_) => {}
        }
        clear(dir)?;
    }
    fs::create_dir_all(dir).map_err(io(dir))?;
    manifest.write(dir)?;
    Ok(Existing::default())
}

/// Which top-level settings differ between the recorded and the current experiment.
fn describe_changes(old: &serde_json::Value, new: &serde_json::Value) -> String {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return "its configuration is unreadable".into();
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let changed: Vec<&str> = keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| k.as_str())
        .collect();
    if changed.is_empty() {
        "a different harness version".into()
    } else {
        format!("changed: {}", changed.join(", "))
    }
}

/// Remove what a previous experiment wrote (only the files the harness writes).
fn clear(dir: &Path) -> Result<(), RunnerError> {
    for name in [
        RunFiles::MANIFEST,
        RunFiles::RUNS,
        RunFiles::YEARS,
        RunFiles::AGENTS,
        RunFiles::MESSAGES,
        RunFiles::SUMMARY,
        "diagnostics.csv",
        "diagnose.md",
        "metrics.csv",
        "comparison.csv",
        "report.md",
        "report.html",
    ] {
        let path = dir.join(name);
        if path.exists() {
            fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    for sub in [RunFiles::RUNS_DIR, "plots", RunFiles::CACHE_DIR] {
        let path = dir.join(sub);
        if path.exists() {
            fs::remove_dir_all(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Keep the complete runs of `dir` and cut off anything written after the last one;
/// drop the failed ones too when they are to be played again.
fn resume(dir: &Path, retry_failed: bool) -> Result<Existing, RunnerError> {
    let runs_path = dir.join(RunFiles::RUNS);
    let mut existing = Existing::default();
    if !runs_path.exists() {
        return Ok(existing);
    }
    let text = fs::read_to_string(&runs_path).map_err(io(&runs_path))?;
    // Complete lines only: a row without its newline was torn by a crash.
    let mut keep = 0;
    let mut lines = text.split_inclusive('\n');
    if let Some(header) = lines.next() {
        if header.trim_end() != header_of::<RunRow>().join(",") {
            return Err(RunnerError::Setup(format!(
                "{} does not have the runs.csv header of this harness version",
                runs_path.display()
            )));
        }
        keep = header.len();
    }
    for line in lines {
        if !line.ends_with('\n') {
            break;
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let Some(Ok(row)) = reader.deserialize::<RunRow>().next() else {
            break;
        };
        existing.completed.insert(row.run_id.clone());
        existing.rows.push(row);
        keep += line.len();
    }
    truncate(&runs_path, keep as u64)?;
    for name in [RunFiles::YEARS, RunFiles::AGENTS, RunFiles::MESSAGES] {
        keep_completed_rows(&dir.join(name), &existing.completed)?;
    }
    if retry_failed {
        let failed: HashSet<String> = existing
            .rows
            .iter()
            .filter(|r| !r.status.is_final())
            .map(|r| r.run_id.clone())
            .collect();
        if !failed.is_empty() {
            rewrite_runs(dir, &|id| (!failed.contains(id)).then_some(0))?;
            existing.completed.retain(|id| !failed.contains(id));
            existing.rows.retain(|r| !failed.contains(&r.run_id));
        }
    }
    Ok(existing)
}

/// Cut a CSV file after the longest prefix of complete rows that belong to completed runs.
fn keep_completed_rows(path: &Path, completed: &HashSet<String>) -> Result<(), RunnerError> {
    if !path.exists() {
        return Ok(());
    }
    let text = fs::read_to_string(path).map_err(io(path))?;
    let mut keep = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let complete = line.ends_with('\n');
        let run_id = line.split(',').next().unwrap_or("");
        if !complete || (i > 0 && !completed.contains(run_id)) {
            break;
        }
        keep += line.len();
    }
    truncate(path, keep as u64)
}

fn truncate(path: &Path, len: u64) -> Result<(), RunnerError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io(path))?;
    file.set_len(len).map_err(io(path))
}
