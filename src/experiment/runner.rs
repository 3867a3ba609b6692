//! The runner: plays every run of a plan on tokio, `jobs` at a time, and hands finished
//! runs to the writer in plan order, so the files are byte-identical whatever the
//! concurrency.

use super::config::{AgentKind, AgentSpec};
use super::plan::RunSpec;
use super::summary::Summary;
use super::Experiment;
use crate::agents::{Agent, ScriptedAgent};
use crate::engine::GameParams;
use crate::llm::{self, AgentFactory, CacheMode, GameFacts};
use crate::protocol::{self, GameRecord, ProtocolConfig};
use crate::record::{Event, EventLevel, RecordError, ResultsWriter, RunRow};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinSet;

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Results go to `<out_root>/<experiment name>/`.
    pub out_root: PathBuf,
    /// Runs played at once.
    pub jobs: usize,
    pub events: EventLevel,
    /// Discard results of a different experiment found in the output directory.
    pub force_new: bool,
    /// How LLM calls use the record/replay cache.
    pub cache_mode: CacheMode,
    /// Where the cache lives (default: `<results>/<experiment>/cache/`).
    pub cache_dir: Option<PathBuf>,
    /// Play only shard `k` of `n` (1-based `k`).
    pub shard: Option<(u32, u32)>,
}

impl RunOptions {
    /// Options with every default: all CPUs, full event logs, recording cache.
    pub fn new(out_root: impl Into<PathBuf>) -> RunOptions {
        RunOptions {
            out_root: out_root.into(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            events: EventLevel::Full,
            force_new: false,
            cache_mode: CacheMode::Record,
            cache_dir: None,
            shard: None,
        }
    }
}

/// Errors that stop a sweep (a failing run does not: it is recorded as failed).
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("{0}")]
    Setup(String),
    #[error("a run task panicked: {0}")]
    Panic(String),
    #[error(transparent)]
    Llm(#[from] llm::LlmError),
}

/// What a finished sweep reports.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    pub dir: PathBuf,
    /// Runs played and written by this invocation.
    pub runs_played: usize,
    /// Runs that were already complete.
    pub runs_skipped: usize,
    /// Runs not played because the sweep was stopped (0 when it finished).
    pub runs_left: usize,
    pub summary: Summary,
}

/// Builds the agents of a run: scripted ones here, LLM ones through the sweep's factory
/// (shared by all runs so that rate limits, the cache and the budget hold across them).
#[derive(Clone, Default)]
pub struct AgentBuilder {
    pub llm: Option<Arc<AgentFactory>>,
}

impl AgentBuilder {
    /// The builder an experiment needs: with an LLM factory when a population has LLM
    /// agents.
    pub fn for_experiment(
        exp: &Experiment,
        dir: &std::path::Path,
        opts: &RunOptions,
    ) -> Result<AgentBuilder, RunnerError> {
        let uses_llm = exp
            .plan
            .runs
            .iter()
            .any(|r| r.agents.iter().any(|a| a.kind == AgentKind::Llm));
        if !uses_llm {
            return Ok(AgentBuilder::default());
        }
        let facts = GameFacts {
            params: exp.file.game.0.clone(),
            teams: exp.file.agents,
            years: exp.file.years,
        };
        let cache_dir = opts.cache_dir.clone().unwrap_or_else(|| dir.join("cache"));
        let factory = AgentFactory::new(
            &exp.file.providers,
            &exp.file.llm,
            facts,
            &cache_dir,
            opts.cache_mode,
            &exp.file.budget,
        )?;
        Ok(AgentBuilder {
            llm: Some(Arc::new(factory)),
        })
    }

    fn build_all(
        &self,
        spec: &RunSpec,
        params: &Arc<GameParams>,
    ) -> Result<Vec<Box<dyn Agent>>, String> {
        let switches = protocol_switches(&spec.protocol);
        spec.agents
            .iter()
            .enumerate()
            .map(|(i, a)| self.build(spec, i, a, params, &switches))
            .collect()
    }

    fn build(
        &self,
        spec: &RunSpec,
        i: usize,
        a: &AgentSpec,
        params: &Arc<GameParams>,
        switches: &BTreeMap<String, String>,
    ) -> Result<Box<dyn Agent>, String> {
        match (a.kind, a.strategy, &self.llm) {
            (AgentKind::Scripted, Some(strategy), _) => Ok(Box::new(ScriptedAgent::new(
                strategy,
                Arc::clone(params),
                spec.rng(&format!("agent/{i}")),
                a.tremble,
            ))),
            (AgentKind::Scripted, None, _) => Err(format!(
                "agent {i} of {} has no strategy",
                spec.label.population
            )),
            (AgentKind::Llm, _, Some(factory)) => factory
                .agent(&llm::AgentSpec {
                    run_id: &spec.label.run_id,
                    agent_index: i,
                    provider: a.provider.as_deref().unwrap_or_default(),
                    persona: a.persona.as_deref().unwrap_or("greedy"),
                    protocol: spec.protocol.kind(),
                    switches,
                })
                .map_err(|e| e.to_string()),
            (AgentKind::Llm, _, None) => Err("no LLM factory was built for this sweep".into()),
        }
    }

    /// Why no further year or run may start (the LLM budget is spent), if so.
    pub fn budget_exhausted(&self) -> Option<String> {
        self.llm.as_ref().and_then(|f| f.budget().exhausted())
    }
}

/// A protocol's switches as strings, as the LLM prompt templates use them.
pub fn protocol_switches(config: &ProtocolConfig) -> BTreeMap<String, String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(config) else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter(|(k, _)| k != "kind")
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}

fn agent_names(spec: &RunSpec) -> Vec<String> {
    spec.agents
        .iter()
        .map(|a| match a.kind {
            AgentKind::Scripted => a.strategy.map_or("scripted", |s| s.as_str()).to_string(),
            AgentKind::Llm => format!(
                "llm:{}:{}",
                a.provider.as_deref().unwrap_or("?"),
                a.persona.as_deref().unwrap_or("greedy")
            ),
        })
        .collect()
}

/// Play one run to the end.
pub async fn play_run(spec: RunSpec, params: Arc<GameParams>, builder: AgentBuilder) -> GameRecord {
    let start = Event::RunStart {
        run_id: spec.label.run_id.clone(),
        protocol: spec.label.protocol.clone(),
        population: spec.label.population.clone(),
        seed: spec.label.seed,
        agents: agent_names(&spec),
    };
    let protocol = protocol::build(&spec.protocol, spec.rng("protocol"));
    let stop = {
        let builder = builder.clone();
        move || builder.budget_exhausted()
    };
    let mut record = match builder.build_all(&spec, &params) {
        Ok(agents) => {
            protocol::play(
                &params,
                spec.label.years,
                agents,
                protocol,
                vec![start],
                &stop,
            )
            .await
        }
        Err(e) => GameRecord::failed(&params, spec.agents.len(), vec![start], e),
    };
    let (status, error) = record.status.describe();
    record.events.push(Event::RunEnd {
        status: status.to_string(),
        years_played: record.years.len() as u32,
        collapse_year: record.final_state.collapse_year,
        error,
    });
    record
}

/// How far a stop request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum StopLevel {
    /// Keep going.
    #[default]
    Run,
    /// Start no new run; finish the running ones and write them (first Ctrl-C).
    Finish,
    /// Drop the running runs now; write what is complete (second Ctrl-C or the grace
    /// period ran out).
    Abandon,
}

/// Told about every run as it is written (progress bars, JSON progress lines).
pub trait Progress: Send + Sync {
    /// The sweep starts: `total` runs in this invocation's share, `done` already complete.
    fn start(&self, _total: usize, _done: usize) {}
    /// A run's rows are on disk.
    fn run_written(&self, _row: &RunRow) {}
    /// The sweep ended (completely or not).
    fn finish(&self) {}
}

/// What the runner is handed besides the options: a stop signal and a progress sink.
/// Injected, so tests can stop a sweep without sending signals.
#[derive(Clone, Default)]
pub struct Hooks {
    pub stop: Option<tokio::sync::watch::Receiver<StopLevel>>,
    pub progress: Option<Arc<dyn Progress>>,
    /// For crash tests: abort the process after writing this many runs
    /// (`FISHBANKS_ABORT_AFTER_RUNS`).
    pub abort_after: Option<usize>,
}

impl Hooks {
    /// The crash-test hook from the environment, if set.
    pub fn from_env() -> Hooks {
        Hooks {
            abort_after: std::env::var("FISHBANKS_ABORT_AFTER_RUNS")
                .ok()
                .and_then(|v| v.parse().ok()),
            ..Hooks::default()
        }
    }

    fn level(&self) -> StopLevel {
        self.stop.as_ref().map_or(StopLevel::Run, |rx| *rx.borrow())
    }
}

/// Run every run of the experiment that is not already complete in the output
/// directory, writing results as runs finish.
pub async fn run(exp: &Experiment, opts: &RunOptions) -> Result<SweepOutcome, RunnerError> {
    run_with(exp, opts, Hooks::default()).await
}

/// [`run`] with a stop signal and progress reporting.
pub async fn run_with(
    exp: &Experiment,
    opts: &RunOptions,
    mut hooks: Hooks,
) -> Result<SweepOutcome, RunnerError> {
    let dir = exp.out_dir(&opts.out_root);
    let builder = AgentBuilder::for_experiment(exp, &dir, opts)?;
    let existing = super::resume::prepare(exp, &dir, opts.force_new, opts.shard, &builder)?;
    let mut writer = ResultsWriter::open(&dir)?;
    let mut summary = Summary::new(&exp.plan.cells);
    for row in &existing.rows {
        summary.add(row);
    }

    let params = Arc::new(exp.file.game.0.clone());
    let todo: Vec<&RunSpec> = exp
        .plan
        .shard(opts.shard)
        .filter(|r| !existing.completed.contains(&r.label.run_id))
        .collect();
    if let Some(progress) = &hooks.progress {
        progress.start(
            todo.len() + existing.completed.len(),
            existing.completed.len(),
        );
    }
    let jobs = opts.jobs.max(1);
    // How far ahead of the write cursor runs may start: bounds memory held by finished
    // runs that wait for a slow predecessor.
    let window = jobs * 4;

    let mut tasks: JoinSet<(usize, Result<GameRecord, RecordError>)> = JoinSet::new();
    let mut pending: BTreeMap<usize, GameRecord> = BTreeMap::new();
    let mut next_spawn = 0;
    let mut next_write = 0;
    let mut stopped = false;
    while next_write < todo.len() {
        let level = hooks.level();
        if level == StopLevel::Abandon {
            tasks.abort_all();
            break;
        }
        if level == StopLevel::Finish {
            stopped = true;
        }
        while !stopped
            && tasks.len() < jobs
            && next_spawn < todo.len()
            && next_spawn < next_write + window
        {
            let spec = todo[next_spawn].clone();
            let params = Arc::clone(&params);
            let position = next_spawn;
            let builder = builder.clone();
            let (dir, level) = (dir.clone(), opts.events);
            tasks.spawn(async move {
                let mut record = play_run(spec.clone(), params, builder).await;
                let written =
                    crate::record::write_event_log(&dir, level, &spec.label.run_id, &record.events);
                // The log is on disk; the rows need only the outcome.
                record.events = Vec::new();
                (position, written.map(|()| record))
            });
            next_spawn += 1;
        }
        let mut signal_gone = false;
        let joined = match hooks.stop.as_mut() {
            Some(rx) => tokio::select! {
                joined = tasks.join_next() => Some(joined),
                // A change of stop level: go round the loop to act on it.
                changed = rx.changed() => {
                    signal_gone = changed.is_err();
                    None
                }
            },
            None => Some(tasks.join_next().await),
        };
        if signal_gone {
            // Nobody can ask to stop any more.
            hooks.stop = None;
        }
        let Some(joined) = joined else {
            continue;
        };
        let Some(joined) = joined else {
            break;
        };
        let (position, record) = joined.map_err(|e| RunnerError::Panic(e.to_string()))?;
        pending.insert(position, record?);
        while let Some(record) = pending.remove(&next_write) {
            let row: RunRow = writer.write_run(&todo[next_write].label, &record)?;
            summary.add(&row);
            if let Some(progress) = &hooks.progress {
                progress.run_written(&row);
            }
            next_write += 1;
            if hooks.abort_after == Some(next_write) {
                std::process::abort();
            }
        }
    }
    writer.sync()?;
    summary.write(&dir)?;
    if let Some(progress) = &hooks.progress {
        progress.finish();
    }
    Ok(SweepOutcome {
        dir,
        runs_played: next_write,
        runs_skipped: existing.completed.len(),
        runs_left: todo.len() - next_write,
        summary,
    })
}
