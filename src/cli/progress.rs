//! Progress of a sweep on stderr: an indicatif bar for people, JSON lines for
//! schedulers. Log lines go through [`LogWriter`], which hides the bar while it writes, so
//! logging never tears the display.

use fishbanks::record::{FinishedRun, RecordError, RunRow, RunSink, SweepEnd, SweepStart};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// The bar on screen, if any: log lines suspend it.
static ACTIVE: OnceLock<Mutex<Option<ProgressBar>>> = OnceLock::new();

fn active() -> &'static Mutex<Option<ProgressBar>> {
    ACTIVE.get_or_init(|| Mutex::new(None))
}

/// Counters shown by both displays.
#[derive(Default)]
struct Totals {
    collapsed: AtomicU64,
    failed: AtomicU64,
    llm_calls: AtomicU64,
    tokens: AtomicU64,
    cost_micro: AtomicU64,
}

impl Totals {
    fn add(&self, row: &RunRow) {
        self.collapsed
            .fetch_add(u64::from(row.collapsed), Ordering::Relaxed);
        self.failed
            .fetch_add(u64::from(!row.status.is_ok()), Ordering::Relaxed);
        self.llm_calls.fetch_add(row.llm_calls, Ordering::Relaxed);
        self.tokens
            .fetch_add(row.tokens_in + row.tokens_out, Ordering::Relaxed);
        self.cost_micro
            .fetch_add((row.cost_usd * 1e6).round() as u64, Ordering::Relaxed);
    }

    fn describe(&self) -> String {
        let calls = self.llm_calls.load(Ordering::Relaxed);
        let mut text = format!(
            "collapsed {} · failed {}",
            self.collapsed.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed)
        );
        if calls > 0 {
            text.push_str(&format!(
                " · LLM calls {calls} · tokens {} · ${:.2}",
                self.tokens.load(Ordering::Relaxed),
                self.cost_micro.load(Ordering::Relaxed) as f64 / 1e6
            ));
        }
        text
    }
}

/// A progress bar on stderr.
pub struct Bar {
    bar: ProgressBar,
    totals: Totals,
}

impl Bar {
    pub fn new() -> Arc<Bar> {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} runs · ETA {eta} · {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if let Ok(mut slot) = active().lock() {
            *slot = Some(bar.clone());
        }
        Arc::new(Bar {
            bar,
            totals: Totals::default(),
        })
    }
}

impl RunSink for Bar {
    fn sweep_started(&self, start: &SweepStart) -> Result<(), RecordError> {
        self.bar.set_length(start.total as u64);
        self.bar.set_position(start.completed.len() as u64);
        self.bar.reset_eta();
        Ok(())
    }
    fn run_finished(&self, run: &FinishedRun) -> Result<(), RecordError> {
        self.totals.add(&run.row);
        self.bar.inc(1);
        self.bar.set_message(self.totals.describe());
        Ok(())
    }
    fn sweep_finished(&self, _end: &SweepEnd) -> Result<(), RecordError> {
        self.bar.finish_and_clear();
        if let Ok(mut slot) = active().lock() {
            *slot = None;
        }
        Ok(())
    }
}

/// One JSON object per written run on stderr, for schedulers and dashboards.
pub struct JsonLines {
    totals: Totals,
    total: AtomicU64,
    done: AtomicU64,
    started: Mutex<Option<Instant>>,
}

impl JsonLines {
    pub fn new() -> Arc<JsonLines> {
        Arc::new(JsonLines {
            totals: Totals::default(),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            started: Mutex::new(None),
        })
    }
}

impl RunSink for JsonLines {
    fn sweep_started(&self, start: &SweepStart) -> Result<(), RecordError> {
        self.total.store(start.total as u64, Ordering::Relaxed);
        self.done
            .store(start.completed.len() as u64, Ordering::Relaxed);
        if let Ok(mut s) = self.started.lock() {
            *s = Some(Instant::now());
        }
        Ok(())
    }
    fn run_finished(&self, run: &FinishedRun) -> Result<(), RecordError> {
        let row = &run.row;
        self.totals.add(row);
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let elapsed = self
            .started
            .lock()
            .ok()
            .and_then(|s| s.map(|t| t.elapsed().as_secs_f64()))
            .unwrap_or(0.0);
        let line = serde_json::json!({
            "run_id": row.run_id,
            "status": row.status,
            "done": done,
            "total": self.total.load(Ordering::Relaxed),
            "elapsed_s": (elapsed * 1000.0).round() / 1000.0,
            "collapsed": self.totals.collapsed.load(Ordering::Relaxed),
            "failed": self.totals.failed.load(Ordering::Relaxed),
            "llm_calls": self.totals.llm_calls.load(Ordering::Relaxed),
            "tokens": self.totals.tokens.load(Ordering::Relaxed),
            "cost_usd": self.totals.cost_micro.load(Ordering::Relaxed) as f64 / 1e6,
        });
        eprintln!("{line}");
        Ok(())
    }
}

/// A `tracing` writer that hides the progress bar while a log line is written.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = active().lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar
                .suspend(|| std::io::stderr().write_all(buf))
                .map(|_| buf.len()),
            None => std::io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
