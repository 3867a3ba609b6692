//! `fishbanks merge`: combine the directories of a sharded sweep into one that is byte for
//! byte what a single machine would have written.
//!
//! Every shard writes its runs in plan order, so the merged CSVs are a k-way merge of the
//! shards' rows by plan position: streamed, never held in memory.

use super::error::RunnerError;
use super::summary::Summary;
use crate::record::{header_of, write_atomic, Manifest, RecordError, RunFiles, RunRow};
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// What a merge produced.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    pub dir: PathBuf,
    pub runs: usize,
    /// Runs of the plan found in no input (only with `allow_missing`).
    pub missing: Vec<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunnerError + '_ {
    move |source| {
        RunnerError::Record(RecordError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn read_manifest(dir: &Path) -> Result<Manifest, RunnerError> {
    if !dir.join(RunFiles::MANIFEST).exists() {
        return Err(RunnerError::Setup(format!(
            "{} is not a results directory (no manifest.json)",
            dir.display()
        )));
    }
    Manifest::read(dir).map_err(|e| RunnerError::Setup(e.to_string()))
}

/// Complete data lines of a CSV file (a last line without its newline was torn).
fn data_lines(path: &Path) -> Result<Vec<String>, RunnerError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = fs::read_to_string(path).map_err(io(path))?;
    Ok(text
        .split_inclusive('\n')
        .skip(1)
        .filter(|l| l.ends_with('\n'))
        .map(String::from)
        .collect())
}

fn run_id_of(line: &str) -> &str {
    line.split(',').next().unwrap_or("")
}

/// Merge shard directories `inputs` into `out`.
pub fn merge(
    inputs: &[PathBuf],
    out: &Path,
    allow_missing: bool,
) -> Result<MergeOutcome, RunnerError> {
    let Some(first) = inputs.first() else {
        return Err(RunnerError::Setup(
            "merge needs at least one directory".into(),
        ));
    };
    let mut manifest = read_manifest(first)?;
    for dir in &inputs[1..] {
        if read_manifest(dir)?.config_sha256 != manifest.config_sha256 {
            return Err(RunnerError::Setup(format!(
                "{} and {} hold different experiments (their manifests' config_sha256 differ); refusing to merge",
                first.display(),
                dir.display()
            )));
        }
    }
    if out.join(RunFiles::MANIFEST).exists() {
        return Err(RunnerError::Setup(format!(
            "{} already holds results; merge into a new directory",
            out.display()
        )));
    }
    let plan: Vec<String> = manifest.runs.iter().map(|r| r.run_id.clone()).collect();
    let position: HashMap<&str, usize> = plan
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();

    // runs.csv rows by run id; a run in two shards is an error.
    let mut rows: HashMap<String, String> = HashMap::new();
    let mut duplicates = Vec::new();
    for dir in inputs {
        for line in data_lines(&dir.join(RunFiles::RUNS))? {
            let id = run_id_of(&line).to_string();
            if !position.contains_key(id.as_str()) {
                return Err(RunnerError::Setup(format!(
                    "{}: run {id} is not in the experiment's plan",
                    dir.display()
                )));
            }
            if rows.insert(id.clone(), line).is_some() {
                duplicates.push(id);
            }
        }
    }
    if !duplicates.is_empty() {
        return Err(RunnerError::Setup(format!(
            "{} runs appear in more than one directory: {}",
            duplicates.len(),
            duplicates
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let missing: Vec<String> = plan
        .iter()
        .filter(|id| !rows.contains_key(*id))
        .cloned()
        .collect();
    if !missing.is_empty() && !allow_missing {
        return Err(RunnerError::Setup(format!(
            "{} of {} runs are in no directory (a shard is missing or unfinished; resume it, or pass --allow-missing): {}",
            missing.len(),
            plan.len(),
            missing.iter().take(20).cloned().collect::<Vec<_>>().join(", ")
        )));
    }

    fs::create_dir_all(out).map_err(io(out))?;
    manifest.shard = None;
    manifest.write(out)?;

    let complete: HashSet<&str> = rows.keys().map(String::as_str).collect();
    for name in [RunFiles::YEARS, RunFiles::AGENTS, RunFiles::MESSAGES] {
        merge_rows(inputs, name, &out.join(name), &position, &complete)?;
    }
    let mut ordered: Vec<&String> = rows.keys().collect();
    ordered.sort_by_key(|id| position[id.as_str()]);
    let runs_path = out.join(RunFiles::RUNS);
    let mut text = format!("{}\n", header_of::<RunRow>().join(","));
    let mut summary = Summary::new(&manifest.cells, manifest.agents);
    for id in &ordered {
        let line = &rows[*id];
        text.push_str(line);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        if let Some(Ok(row)) = reader.deserialize::<RunRow>().next() {
            summary.add(&row);
        }
    }
    write_atomic(&runs_path, text.as_bytes(), true)?;
    summary.write(out)?;

    for dir in inputs {
        copy_children(
            &dir.join(RunFiles::RUNS_DIR),
            &out.join(RunFiles::RUNS_DIR),
            &|name| complete.contains(name),
        )?;
        copy_children(
            &dir.join(RunFiles::CACHE_DIR),
            &out.join(RunFiles::CACHE_DIR),
            &|_| true,
        )?;
    }
    Ok(MergeOutcome {
        dir: out.to_path_buf(),
        runs: ordered.len(),
        missing,
    })
}

/// k-way merge of one CSV file of every input by plan position, keeping complete runs.
fn merge_rows(
    inputs: &[PathBuf],
    name: &str,
    out: &Path,
    position: &HashMap<&str, usize>,
    complete: &HashSet<&str>,
) -> Result<(), RunnerError> {
    let mut readers = Vec::new();
    let mut header = None;
    for dir in inputs {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        let mut lines = BufReader::new(File::open(&path).map_err(io(&path))?).lines();
        if let Some(h) = lines.next() {
            header.get_or_insert(h.map_err(io(&path))?);
        }
        readers.push((path, lines.peekable()));
    }
    let Some(header) = header else {
        return Ok(());
    };
    let file = File::create(out).map_err(io(out))?;
    let mut writer = BufWriter::new(file);
    writeln!(writer, "{header}").map_err(io(out))?;
    loop {
        // The input whose next row comes first in the plan.
        let mut best: Option<(usize, usize)> = None;
        for (i, (_, lines)) in readers.iter_mut().enumerate() {
            while let Some(Ok(line)) = lines.peek() {
                if complete.contains(run_id_of(line)) {
                    break;
                }
                lines.next();
            }
            if let Some(Ok(line)) = lines.peek() {
                let p = position.get(run_id_of(line)).copied().unwrap_or(usize::MAX);
                if best.is_none_or(|(_, bp)| p < bp) {
                    best = Some((i, p));
                }
            }
        }
        let Some((i, _)) = best else { break };
        let (path, lines) = &mut readers[i];
        if let Some(line) = lines.next() {
            let line = line.map_err(io(path))?;
            writeln!(writer, "{line}").map_err(io(out))?;
        }
    }
    writer.flush().map_err(io(out))?;
    writer.get_ref().sync_all().map_err(io(out))
}

/// Copy the entries of `from` (files, or one level of directories) into `to`.
fn copy_children(from: &Path, to: &Path, keep: &dyn Fn(&str) -> bool) -> Result<(), RunnerError> {
    if !from.exists() {
        return Ok(());
    }
    fs::create_dir_all(to).map_err(io(to))?;
    for entry in fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !keep(&name) {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        if source.is_dir() {
            copy_children(&source, &target, &|_| true)?;
        } else {
            fs::copy(&source, &target).map_err(io(&source))?;
        }
    }
    Ok(())
}
