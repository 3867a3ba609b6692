//! Writing a results directory: three CSV files appended one whole run at a time, and one
//! event log per run written atomically.

use super::rows::{agent_rows, year_rows, RunLabel, RunRow};
use super::{Event, RecordError};
use crate::protocol::GameRecord;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How much of each run's event log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EventLevel {
    /// Every event.
    #[default]
    Full,
    /// Run start, one line per year, run end.
    Summary,
    /// No `runs/` directory at all.
    None,
}

/// Names of the files in a results directory.
pub struct RunFiles;

impl RunFiles {
    pub const MANIFEST: &'static str = "manifest.json";
    pub const RUNS: &'static str = "runs.csv";
    pub const YEARS: &'static str = "years.csv";
    pub const AGENTS: &'static str = "agents.csv";
    pub const SUMMARY: &'static str = "summary.md";
    pub const RUNS_DIR: &'static str = "runs";
}

/// Write `bytes` to `path` so that readers see either the old file or the whole new one:
/// write a temporary file beside it, flush it to disk, rename it over the target.
pub fn write_atomic(path: &Path, bytes: &[u8], sync: bool) -> Result<(), RecordError> {
    let io = |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    if sync {
        file.sync_all().map_err(io)?;
    }
    drop(file);
    fs::rename(&tmp, path).map_err(io)
}

/// One CSV file opened for appending whole runs.
struct CsvAppender {
    path: PathBuf,
    file: File,
    buffer: Vec<u8>,
}

impl CsvAppender {
    /// Open `path` for appending, writing `header` first when the file is new or empty.
    fn open(path: PathBuf, header: &[&str]) -> Result<CsvAppender, RecordError> {
        let io = |source| RecordError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let empty = file.metadata().map_err(io)?.len() == 0;
        if empty {
            let mut line = header.join(",");
            line.push('\n');
            file.write_all(line.as_bytes()).map_err(io)?;
        }
        Ok(CsvAppender {
            path,
            file,
            buffer: Vec::new(),
        })
    }

    /// Serialize rows into the buffer (nothing reaches the file yet).
    fn push<T: Serialize>(&mut self, rows: &[T]) -> Result<(), RecordError> {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(&mut self.buffer);
        for row in rows {
            writer.serialize(row).map_err(|source| RecordError::Csv {
                path: self.path.clone(),
                source,
            })?;
        }
        writer.flush().map_err(|source| RecordError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(())
    }

    /// Append the buffered rows in one write.
    fn commit(&mut self) -> Result<(), RecordError> {
        self.file
            .write_all(&self.buffer)
            .map_err(|source| RecordError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.buffer.clear();
        Ok(())
    }

    fn sync(&mut self) -> Result<(), RecordError> {
        self.file.sync_all().map_err(|source| RecordError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

const YEARS_HEADER: &[&str] = &[
    "run_id",
    "year",
    "fleet_deep",
    "fleet_coast",
    "fleet_harbor",
    "catch_deep",
    "catch_coast",
    "stock_deep",
    "stock_coast",
    "regen_deep",
    "regen_coast",
    "ship_value",
    "weather",
    "post_harvest_deep",
    "post_harvest_coast",
];

const AGENTS_HEADER: &[&str] = &[
    "run_id",
    "year",
    "agent",
    "order",
    "deep",
    "coast",
    "harbor",
    "ships",
    "catch_deep",
    "catch_coast",
    "revenue",
    "costs",
    "interest",
    "bank",
    "assets",
    "quota",
    "quota_binding",
    "pledge_order",
    "pledge_deep",
    "pledge_coast",
    "repaired",
    "reported_catch",
];

/// How often the CSV files are flushed to the disk itself (`fsync`). Every run's rows
/// reach the operating system as soon as the run is written, which is all a process
/// crash (`kill -9`) can take away; a power cut can cost at most this much of a sweep
/// (plus the event logs, which are renamed into place but not synced one by one).
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Appends finished runs to a results directory.
pub struct ResultsWriter {
    last_sync: std::time::Instant,
    runs: CsvAppender,
    years: CsvAppender,
    agents: CsvAppender,
}

impl ResultsWriter {
    /// Open (or create) the CSV files of `dir`.
    pub fn open(dir: &Path) -> Result<ResultsWriter, RecordError> {
        fs::create_dir_all(dir).map_err(|source| RecordError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let runs_header: Vec<&str> = super::RUNS_HEADER.split(',').collect();
        Ok(ResultsWriter {
            last_sync: std::time::Instant::now(),
            runs: CsvAppender::open(dir.join(RunFiles::RUNS), &runs_header)?,
            years: CsvAppender::open(dir.join(RunFiles::YEARS), YEARS_HEADER)?,
            agents: CsvAppender::open(dir.join(RunFiles::AGENTS), AGENTS_HEADER)?,
        })
    }

    /// Record a finished run: its year and agent rows, then (last) its `runs.csv` row.
    /// Its event log must already be written ([`write_event_log`]). Returns the run row.
    pub fn write_run(
        &mut self,
        label: &RunLabel,
        record: &GameRecord,
    ) -> Result<RunRow, RecordError> {
        let row = RunRow::new(label, record);
        self.years.push(&year_rows(label, record))?;
        self.agents.push(&agent_rows(label, record))?;
        self.runs.push(std::slice::from_ref(&row))?;
        self.years.commit()?;
        self.agents.commit()?;
        self.runs.commit()?;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(row)
    }

    /// Flush everything to disk (the run rows in order: a synced `runs.csv` row implies
    /// synced year and agent rows).
    pub fn sync(&mut self) -> Result<(), RecordError> {
        self.years.sync()?;
        self.agents.sync()?;
        self.runs.sync()?;
        self.last_sync = std::time::Instant::now();
        Ok(())
    }
}

/// Write a run's event log, `<results>/runs/<run_id>/events.jsonl`, atomically. Called by
/// each run's task as soon as it ends (so the file work of many runs proceeds in
/// parallel), always before the run's rows are appended: a `runs.csv` row therefore
/// implies a complete event log.
pub fn write_event_log(
    results: &Path,
    level: EventLevel,
    run_id: &str,
    events: &[Event],
) -> Result<(), RecordError> {
    if level == EventLevel::None {
        return Ok(());
    }
    let dir = results.join(RunFiles::RUNS_DIR).join(run_id);
    fs::create_dir_all(&dir).map_err(|source| RecordError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut bytes = Vec::new();
    for event in events {
        if level == EventLevel::Summary && !event.is_summary() {
            continue;
        }
        serde_json::to_writer(&mut bytes, event).map_err(|source| RecordError::Json {
            what: "an event".into(),
            source,
        })?;
        bytes.push(b'\n');
    }
    write_atomic(&dir.join("events.jsonl"), &bytes, false)
}
