//! Writing a results directory: CSV files appended one whole run at a time, and one
//! event log per run written atomically. Both are [`RunSink`]s.

use super::{
    AgentRow, Event, FinishedRun, MessageRow, RecordError, RunFiles, RunRow, RunSink, SweepEnd,
    YearRow,
};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The CSV header of a row type: its field names in declaration order, read off a
/// serialized default row (so the header cannot drift from the struct).
pub fn header_of<T: Serialize + Default>() -> Vec<String> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(true)
        .from_writer(Vec::new());
    if writer.serialize(T::default()).is_err() {
        return Vec::new();
    }
    let bytes = writer.into_inner().unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().next().unwrap_or("");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(first.as_bytes());
    match reader.records().next() {
        Some(Ok(record)) => record.iter().map(String::from).collect(),
        _ => Vec::new(),
    }
}

/// How much of each run's event log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

impl std::str::FromStr for EventLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(EventLevel::Full),
            "summary" => Ok(EventLevel::Summary),
            "none" => Ok(EventLevel::None),
            other => Err(format!(
                "unknown event level `{other}` (full, summary, none)"
            )),
        }
    }
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
    /// Open `path` for appending, writing the header of `T` first when the file is new or
    /// empty.
    fn open<T: Serialize + Default>(path: PathBuf) -> Result<CsvAppender, RecordError> {
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
            let mut line = header_of::<T>().join(",");
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

/// How often the CSV files are flushed to the disk itself (`fsync`). Every run's rows
/// reach the operating system as soon as the run is written, which is all a process
/// crash (`kill -9`) can take away; a power cut can cost at most this much of a sweep
/// (plus the event logs, which are renamed into place but not synced one by one).
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

struct Files {
    last_sync: std::time::Instant,
    runs: CsvAppender,
    years: CsvAppender,
    agents: CsvAppender,
    messages: CsvAppender,
}

/// Appends finished runs to a results directory's CSV files (a [`RunSink`]).
pub struct ResultsWriter {
    files: Mutex<Files>,
}

impl ResultsWriter {
    /// Open (or create) the CSV files of `dir`.
    pub fn open(dir: &Path) -> Result<ResultsWriter, RecordError> {
        fs::create_dir_all(dir).map_err(|source| RecordError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(ResultsWriter {
            files: Mutex::new(Files {
                last_sync: std::time::Instant::now(),
                runs: CsvAppender::open::<RunRow>(dir.join(RunFiles::RUNS))?,
                years: CsvAppender::open::<YearRow>(dir.join(RunFiles::YEARS))?,
                agents: CsvAppender::open::<AgentRow>(dir.join(RunFiles::AGENTS))?,
                messages: CsvAppender::open::<MessageRow>(dir.join(RunFiles::MESSAGES))?,
            }),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Files>, RecordError> {
        self.files
            .lock()
            .map_err(|_| RecordError::Sink("the CSV writer's lock is poisoned".into()))
    }

    /// Record a finished run: its year and agent rows, then (last) its `runs.csv` row.
    pub fn write_run(&self, run: &FinishedRun) -> Result<(), RecordError> {
        let mut f = self.lock()?;
        f.years.push(&run.years)?;
        f.agents.push(&run.agents)?;
        f.messages.push(&run.messages)?;
        f.runs.push(std::slice::from_ref(&run.row))?;
        f.years.commit()?;
        f.agents.commit()?;
        f.messages.commit()?;
        f.runs.commit()?;
        if f.last_sync.elapsed() >= SYNC_EVERY {
            sync(&mut f)?;
        }
        Ok(())
    }

    /// Flush everything to disk (the run rows last: a synced `runs.csv` row implies
    /// synced year and agent rows).
    pub fn sync(&self) -> Result<(), RecordError> {
        sync(&mut *self.lock()?)
    }
}

fn sync(f: &mut Files) -> Result<(), RecordError> {
    f.years.sync()?;
    f.agents.sync()?;
    f.messages.sync()?;
    f.runs.sync()?;
    f.last_sync = std::time::Instant::now();
    Ok(())
}

impl RunSink for ResultsWriter {
    fn run_finished(&self, run: &FinishedRun) -> Result<(), RecordError> {
        self.write_run(run)
    }

    fn sweep_finished(&self, _end: &SweepEnd) -> Result<(), RecordError> {
        self.sync()
    }
}

/// Write a run's event log, `<results>/runs/<run_id>/events.jsonl`, atomically.
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

/// Writes each run's event log from the run's own task (a [`RunSink`]), so the file work
/// of many runs proceeds in parallel, always before the run's rows are appended: a
/// `runs.csv` row therefore implies a complete event log.
pub struct EventLogs {
    pub dir: PathBuf,
    pub level: EventLevel,
}

impl RunSink for EventLogs {
    fn run_ended(&self, run: &FinishedRun) -> Result<(), RecordError> {
        write_event_log(&self.dir, self.level, &run.label.run_id, &run.events)
    }
}
