//! `fishbanks merge`: combine the directories of a sharded sweep into one that is byte for
//! byte what a single machine would have written, with the call caches of every shard
//! joined, so that the merged sweep replays with no model server.
//!
//! Every shard writes its runs in plan order, so the merged CSVs are a k-way merge of the
//! shards' rows by plan position: streamed, never held in memory. A shard whose rows are
//! not in plan order (a resume that played failed runs again and was stopped before it
//! put them back) is read whole and sorted instead.
//!
//! A run's rows, event log and cache come from the directory that recorded it: a run
//! begun elsewhere and abandoned (a task preempted and run again in another directory)
//! leaves nothing of its own in the merged directory but its cache entries, put before
//! those of the run that was recorded, so that a replay answers as that run was answered.

use super::error::RunnerError;
use super::summary::Summary;
use crate::llm::cache::{join_files, run_file_name, Joined};
use crate::record::{header_of, write_atomic, Manifest, RecordError, RunFiles, RunRow};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// How to merge.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// Merge even when runs of the plan are in no input (they are listed).
    pub allow_missing: bool,
    /// More LLM cache directories to join besides each input's own `cache/`: where the
    /// shards were told to keep their caches (`run --cache-dir`).
    pub cache_dirs: Vec<PathBuf>,
}

/// What a merge produced.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    pub dir: PathBuf,
    pub runs: usize,
    /// Runs of the plan found in no input (only with `allow_missing`).
    pub missing: Vec<String>,
    /// Whether the merged cache answers every model call of the merged runs.
    pub cache: CacheCoverage,
}

/// How much of the merged sweep its joined cache can replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheCoverage {
    /// Merged runs that asked a model (an LLM, a remote agent or a person) at least once.
    pub runs_with_calls: usize,
    /// Calls those runs made (`llm_calls` of `runs.csv`).
    pub calls: u64,
    /// Runs whose every call has an answer in the merged cache: they replay with no
    /// server.
    pub replayable: usize,
    /// The others: run id, calls made, calls found in the merged cache.
    pub incomplete: Vec<(String, u64, u64)>,
    /// Cache files joined into the merged `cache/` (runs' and others, such as the
    /// diagnostics' embeddings).
    pub files: usize,
}

impl CacheCoverage {
    /// Whether every run that asked a model replays from the merged cache.
    pub fn is_complete(&self) -> bool {
        self.incomplete.is_empty()
    }
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

/// Merge the results directories `inputs` (shards or partial sweeps of one experiment)
/// into `out`, which must not hold results yet.
pub fn merge(
    inputs: &[PathBuf],
    out: &Path,
    options: &MergeOptions,
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
    for dir in &options.cache_dirs {
        if !dir.is_dir() {
            return Err(RunnerError::Setup(format!(
                "--cache-dir {}: no such directory",
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

    // runs.csv rows by run id, and which input recorded each; a run in two inputs is an
    // error.
    let mut rows: HashMap<String, String> = HashMap::new();
    let mut holder: HashMap<String, usize> = HashMap::new();
    let mut unordered = vec![false; inputs.len()];
    let mut duplicates = Vec::new();
    for (i, dir) in inputs.iter().enumerate() {
        let mut last = None;
        for line in data_lines(&dir.join(RunFiles::RUNS))? {
            let id = run_id_of(&line).to_string();
            let Some(&p) = position.get(id.as_str()) else {
                return Err(RunnerError::Setup(format!(
                    "{}: run {id} is not in the experiment's plan",
                    dir.display()
                )));
            };
            unordered[i] |= last.is_some_and(|l| p < l);
            last = Some(p);
            holder.insert(id.clone(), i);
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
    if !missing.is_empty() && !options.allow_missing {
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
        merge_rows(
            inputs,
            &unordered,
            name,
            &out.join(name),
            &position,
            &complete,
        )?;
    }
    let mut ordered: Vec<&String> = rows.keys().collect();
    ordered.sort_by_key(|id| position[id.as_str()]);
    let runs_path = out.join(RunFiles::RUNS);
    let mut text = format!("{}\n", header_of::<RunRow>().join(","));
    let mut summary = Summary::new(&manifest.cells, manifest.agents);
    let mut calls: Vec<(String, u64)> = Vec::new();
    for id in &ordered {
        let line = &rows[*id];
        text.push_str(line);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        if let Some(Ok(row)) = reader.deserialize::<RunRow>().next() {
            if row.llm_calls > 0 {
                calls.push((row.run_id.clone(), row.llm_calls));
            }
            summary.add(&row);
        }
    }
    write_atomic(&runs_path, text.as_bytes(), true)?;
    summary.write(out)?;

    // Each run's event log from the directory that recorded it.
    for (i, dir) in inputs.iter().enumerate() {
        copy_children(
            &dir.join(RunFiles::RUNS_DIR),
            &out.join(RunFiles::RUNS_DIR),
            &|name| holder.get(name) == Some(&i),
        )?;
    }
    let joined = join_caches(inputs, &options.cache_dirs, &plan, &holder, out)?;
    let mut cache = CacheCoverage {
        files: joined.len(),
        ..CacheCoverage::default()
    };
    for (id, made) in calls {
        let found = joined
            .get(&run_file_name(&id))
            .map_or(0, |j| j.calls as u64);
        cache.runs_with_calls += 1;
        cache.calls += made;
        if found >= made {
            cache.replayable += 1;
        } else {
            cache.incomplete.push((id, made, found));
        }
    }
    Ok(MergeOutcome {
        dir: out.to_path_buf(),
        runs: ordered.len(),
        missing,
        cache,
    })
}

/// Join the cache files of every input (its `cache/`) and of the extra cache
/// directories into `out/cache/`; returns what each file received, by file name. A run's
/// file takes the entries of every source, the recording input's own last (see the
/// module doc); any other file (the diagnostics' embeddings) takes the lines of every
/// source once.
fn join_caches(
    inputs: &[PathBuf],
    extra: &[PathBuf],
    plan: &[String],
    holder: &HashMap<String, usize>,
    out: &Path,
) -> Result<BTreeMap<String, Joined>, RunnerError> {
    // Sources: (which input's own cache it is, or None for an extra directory; the dir).
    let mut sources: Vec<(Option<usize>, PathBuf)> = inputs
        .iter()
        .enumerate()
        .map(|(i, d)| (Some(i), d.join(RunFiles::CACHE_DIR)))
        .collect();
    sources.extend(extra.iter().map(|d| (None, d.clone())));
    let mut files: BTreeMap<String, Vec<(Option<usize>, PathBuf)>> = BTreeMap::new();
    for (owner, dir) in &sources {
        if !dir.is_dir() {
            continue;
        }
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            files.entry(name).or_default().push((*owner, path));
        }
    }
    let run_of: HashMap<String, &str> = plan
        .iter()
        .map(|id| (run_file_name(id), id.as_str()))
        .collect();
    let target = out.join(RunFiles::CACHE_DIR);
    if !files.is_empty() {
        fs::create_dir_all(&target).map_err(io(&target))?;
    }
    let mut joined = BTreeMap::new();
    for (name, mut found) in files {
        let path = target.join(&name);
        match run_of.get(&name) {
            Some(run) => {
                // The input that recorded the run goes last; the others keep their order.
                let recorder = holder.get(*run).copied();
                found.sort_by_key(|(owner, _)| recorder.is_some() && *owner == recorder);
                let sources: Vec<PathBuf> = found.into_iter().map(|(_, p)| p).collect();
                let done = join_files(&sources, &path).map_err(io(&path))?;
                joined.insert(name, done);
            }
            None => {
                let sources: Vec<PathBuf> = found.into_iter().map(|(_, p)| p).collect();
                join_lines(&sources, &path)?;
                joined.insert(name, Joined::default());
            }
        }
    }
    Ok(joined)
}

/// The complete lines of every source, each once, in order.
fn join_lines(sources: &[PathBuf], out: &Path) -> Result<(), RunnerError> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut writer = BufWriter::new(File::create(out).map_err(io(out))?);
    for source in sources {
        let text = fs::read_to_string(source).map_err(io(source))?;
        for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            if seen.insert(line.to_string()) {
                writer.write_all(line.as_bytes()).map_err(io(out))?;
            }
        }
    }
    writer.flush().map_err(io(out))?;
    writer.get_ref().sync_all().map_err(io(out))
}

/// The data lines of one input's file, in the order they are to be merged.
type Lines = std::iter::Peekable<Box<dyn Iterator<Item = std::io::Result<String>>>>;

/// k-way merge of one CSV file of every input by plan position, keeping complete runs.
fn merge_rows(
    inputs: &[PathBuf],
    unordered: &[bool],
    name: &str,
    out: &Path,
    position: &HashMap<&str, usize>,
    complete: &HashSet<&str>,
) -> Result<(), RunnerError> {
    let place = |line: &str| position.get(run_id_of(line)).copied().unwrap_or(usize::MAX);
    let mut readers: Vec<(PathBuf, Lines)> = Vec::new();
    let mut header = None;
    for (dir, unordered) in inputs.iter().zip(unordered) {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        let mut lines = BufReader::new(File::open(&path).map_err(io(&path))?).lines();
        if let Some(h) = lines.next() {
            header.get_or_insert(h.map_err(io(&path))?);
        }
        let lines: Box<dyn Iterator<Item = std::io::Result<String>>> = if *unordered {
            // Rows of one run stay together and in their order: a stable sort by run.
            let mut all = lines
                .collect::<std::io::Result<Vec<String>>>()
                .map_err(io(&path))?;
            all.sort_by_key(|line| place(line));
            Box::new(all.into_iter().map(Ok))
        } else {
            Box::new(lines)
        };
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
                let p = place(line);
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
