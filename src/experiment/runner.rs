//! The runner: plays every run of a plan on tokio, `jobs` at a time, and hands finished
//! runs to the sinks in plan order, so the files are byte-identical whatever the
//! concurrency.

use super::error::RunnerError;
use super::matching::{reference_cell, Matching};
use super::plan::RunSpec;
use super::resolve::Seat;
use super::summary::{Summary, SummarySink};
use super::Experiment;
use crate::agents::{Agent, ScriptedAgent};
use crate::engine::GameParams;
use crate::game::{self, GameRecord};
use crate::llm::{self, AgentFactory, CacheMode, GameFacts};
use crate::record::{
    Event, EventLevel, EventLogs, FinishedRun, RecordError, ResultsWriter, RunSink, RunStatus,
    SweepEnd, SweepStart,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    /// On resume, play runs recorded as `failed` again (default).
    pub retry_failed: bool,
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
            retry_failed: true,
        }
    }
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
    /// Set when a provider went down: the sweep stopped, runs in flight were abandoned
    /// (never recorded), and resuming plays them.
    pub outage: Option<String>,
    pub summary: Summary,
}

/// Builds the agents of a run: scripted ones here, LLM ones through the sweep's factory
/// (shared by all runs so that rate limits, the cache and the budget hold across them).
#[derive(Clone, Default)]
pub struct AgentBuilder {
    pub(crate) llm: Option<Arc<AgentFactory>>,
    /// `[llm] max_fallback_share`: above it a run is `invalid`.
    max_fallback_share: f64,
    /// The consensus probe every this many years (0: never).
    probe_every: u32,
}

impl AgentBuilder {
    /// The builder an experiment needs: with an LLM factory when a population has LLM
    /// agents.
    pub fn for_experiment(
        exp: &Experiment,
        dir: &Path,
        opts: &RunOptions,
    ) -> Result<AgentBuilder, RunnerError> {
        if !exp.plan.runs.iter().any(RunSpec::uses_llm) {
            return Ok(AgentBuilder {
                probe_every: exp.config.probe_every,
                ..AgentBuilder::default()
            });
        }
        let c = &exp.config;
        let facts = GameFacts {
            params: c.game.clone(),
            teams: c.agents,
            years: c.years,
        };
        let cache_dir = opts
            .cache_dir
            .clone()
            .unwrap_or_else(|| dir.join(crate::record::RunFiles::CACHE_DIR));
        let factory = AgentFactory::new(
            &c.providers,
            &c.llm,
            facts,
            &cache_dir,
            opts.cache_mode,
            &c.budget,
        )?;
        Ok(AgentBuilder {
            llm: Some(Arc::new(factory)),
            max_fallback_share: c.llm.max_fallback_share,
            probe_every: c.probe_every,
        })
    }

    /// The rendered protocol section of a run's LLM prompt.
    pub fn protocol_section(&self, spec: &RunSpec) -> Result<String, llm::LlmError> {
        let Some(factory) = &self.llm else {
            return Ok(String::new());
        };
        let section = spec.protocol.prompt_section();
        factory
            .templates()
            .render_protocol(section.kind, section.template, &section.facts)
    }

    /// SHA-256 of the rendered protocol section (LLM runs only), for the manifest. A
    /// matched run's section states a budget measured during the sweep, so it has none
    /// here: its template's hash (`prompt_hashes`) and its `talk_budget_chars` in
    /// `runs.csv` determine it.
    pub fn protocol_prompt_hash(&self, spec: &RunSpec) -> Option<String> {
        if !spec.uses_llm()
            || spec.protocol.budget_chars().is_none() && spec.protocol.matches_tokens_of().is_some()
        {
            return None;
        }
        let text = self.protocol_section(spec).ok()?;
        Some(llm::model::sha256_hex(text.as_bytes()))
    }

    /// SHA-256 of every template in force: `system`, `rules` and `protocol.<kind>` of
    /// each protocol kind the plan's LLM runs use (empty without LLM agents).
    pub fn prompt_hashes(&self, plan: &super::Plan) -> BTreeMap<String, String> {
        let Some(factory) = &self.llm else {
            return BTreeMap::new();
        };
        let mut hashes = factory.templates().hashes();
        for run in plan.runs.iter().filter(|r| r.uses_llm()) {
            let section = run.protocol.prompt_section();
            let template = factory
                .templates()
                .protocol_template(section.kind, section.template);
            let digest = Sha256::digest(template.as_bytes());
            hashes.insert(
                format!("protocol.{}", section.kind),
                digest.iter().map(|b| format!("{b:02x}")).collect(),
            );
        }
        hashes
    }

    fn build_all(
        &self,
        spec: &RunSpec,
        params: &Arc<GameParams>,
    ) -> Result<Vec<Box<dyn Agent>>, String> {
        let section = if spec.uses_llm() {
            self.protocol_section(spec).map_err(|e| e.to_string())?
        } else {
            String::new()
        };
        spec.seats
            .iter()
            .enumerate()
            .map(|(i, seat)| self.build(spec, i, seat, params, &section))
            .collect()
    }

    fn build(
        &self,
        spec: &RunSpec,
        i: usize,
        seat: &Seat,
        params: &Arc<GameParams>,
        protocol_section: &str,
    ) -> Result<Box<dyn Agent>, String> {
        match (seat, &self.llm) {
            (
                Seat::Scripted {
                    strategy,
                    tremble,
                    leader,
                },
                _,
            ) => Ok(Box::new(
                ScriptedAgent::new(
                    *strategy,
                    Arc::clone(params),
                    spec.rng(&format!("agent/{i}")),
                    *tremble,
                )
                .with_leader(*leader),
            )),
            (Seat::Llm { provider, persona }, Some(factory)) => factory
                .agent(&llm::NewAgent {
                    run_id: &spec.label.run_id,
                    replicate_seed: spec.label.seed,
                    agent_index: i,
                    provider,
                    persona,
                    protocol_section,
                })
                .map_err(|e| e.to_string()),
            (Seat::Llm { .. }, None) => Err("no LLM factory was built for this sweep".into()),
        }
    }

    /// Why no further year or run may start (the LLM budget is spent), if so.
    pub fn budget_exhausted(&self) -> Option<String> {
        self.llm.as_ref().and_then(|f| f.budget().exhausted())
    }

    /// Sinks the LLM layer adds (the cache, which closes each run's file at its end).
    fn sinks(&self) -> Vec<Arc<dyn RunSink>> {
        match &self.llm {
            Some(factory) => vec![factory.cache() as Arc<dyn RunSink>],
            None => Vec::new(),
        }
    }
}

/// Play one run to the end.
pub async fn play_run(spec: RunSpec, params: Arc<GameParams>, builder: AgentBuilder) -> GameRecord {
    let start = Event::RunStart {
        run_id: spec.label.run_id.clone(),
        protocol: spec.label.protocol.clone(),
        population: spec.label.population.clone(),
        seed: spec.label.seed,
        agents: spec.seats.iter().map(Seat::label).collect(),
    };
    let protocol = spec.protocol.build(spec.rng("protocol"), &params);
    let stop = {
        let builder = builder.clone();
        move || builder.budget_exhausted()
    };
    let mut record = match builder.build_all(&spec, &params) {
        Ok(agents) => {
            game::play(
                &params,
                spec.label.years,
                builder.probe_every,
                agents,
                protocol,
                vec![start],
                &stop,
            )
            .await
        }
        Err(e) => GameRecord::failed(&params, spec.seats.len(), vec![start], e),
    };
    let share = record.stats.fallback_share();
    if record.status == RunStatus::Ok && share > builder.max_fallback_share {
        record.status = RunStatus::Invalid;
        record.error = Some(format!(
            "{} of {} LLM answers fell back ({:.1}%, more than max_fallback_share = {}): the agents did not really play",
            record.stats.llm_fallbacks,
            record.stats.llm_answers,
            share * 100.0,
            builder.max_fallback_share
        ));
    }
    record.events.push(Event::RunEnd {
        status: record.status,
        years_played: record.years.len() as u32,
        collapse_year: record.final_state.collapse_year,
        error: record.error.clone(),
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

/// What the runner is handed besides the options: a stop signal and more sinks (a
/// progress display, a crash hook). Injected, so tests can stop a sweep without sending
/// signals.
#[derive(Clone, Default)]
pub struct Hooks {
    pub stop: Option<tokio::sync::watch::Receiver<StopLevel>>,
    /// Called after the result files, the summary and the cache, in this order.
    pub sinks: Vec<Arc<dyn RunSink>>,
}

impl Hooks {
    fn level(&self) -> StopLevel {
        self.stop.as_ref().map_or(StopLevel::Run, |rx| *rx.borrow())
    }
}

/// Run every run of the experiment that is not already complete in the output
/// directory, writing results as runs finish.
pub async fn run(exp: &Experiment, opts: &RunOptions) -> Result<SweepOutcome, RunnerError> {
    run_with(exp, opts, Hooks::default()).await
}

/// What a run task hands back.
enum Played {
    Finished(Box<FinishedRun>),
    /// A provider went down during the run; it is not recorded.
    Abandoned(String),
}

/// Calls every sink of a finished run, from the run's task.
fn run_ended(sinks: &[Arc<dyn RunSink>], run: &FinishedRun) -> Result<(), RecordError> {
    sinks.iter().try_for_each(|s| s.run_ended(run))
}

/// [`run`] with a stop signal and extra sinks.
pub async fn run_with(
    exp: &Experiment,
    opts: &RunOptions,
    mut hooks: Hooks,
) -> Result<SweepOutcome, RunnerError> {
    let dir = exp.out_dir(&opts.out_root);
    let builder = AgentBuilder::for_experiment(exp, &dir, opts)?;
    if let Some(factory) = &builder.llm {
        let used: Vec<String> = exp.config.providers.keys().cloned().collect();
        factory.preflight(&used).await?;
    }
    let manifest = exp.manifest(&builder, opts.shard);
    let existing = super::resume::prepare(&manifest, &dir, opts.force_new, opts.retry_failed)?;
    let summary = Arc::new(SummarySink::new(&dir, &exp.plan.cells, exp.config.agents));
    let mut sinks: Vec<Arc<dyn RunSink>> = vec![
        Arc::new(EventLogs {
            dir: dir.clone(),
            level: opts.events,
        }),
        Arc::new(ResultsWriter::open(&dir)?),
        summary.clone(),
    ];
    sinks.extend(builder.sinks());
    sinks.append(&mut hooks.sinks);
    let sinks: Arc<[Arc<dyn RunSink>]> = sinks.into();

    let params = Arc::new(exp.config.game.clone());
    let mut matching = Matching::new(&exp.plan.runs, &existing.rows);
    if matching.is_needed() && opts.shard.is_some() {
        return Err(RunnerError::Setup(
            "a protocol with match_tokens_of is measured on its reference cell, which a shard does not hold whole: run without --shard, or give it budget_tokens".into(),
        ));
    }
    let todo: Vec<&RunSpec> = exp
        .plan
        .shard(opts.shard)
        .filter(|r| !existing.completed.contains(&r.label.run_id))
        .collect();
    // Whether this invocation appends runs that come before runs already on disk (a
    // resumed sweep with gaps: failed or abandoned runs played again).
    let last_on_disk = exp
        .plan
        .runs
        .iter()
        .filter(|r| existing.completed.contains(&r.label.run_id))
        .map(|r| r.index)
        .max();
    let out_of_order = match (todo.first(), last_on_disk) {
        (Some(first), Some(last)) => first.index < last,
        _ => false,
    };
    let start = SweepStart {
        dir: dir.clone(),
        total: todo.len() + existing.completed.len(),
        completed: existing.rows.clone(),
    };
    for sink in sinks.iter() {
        sink.sweep_started(&start)?;
    }
    let jobs = opts.jobs.max(1);
    // How far ahead of the write cursor runs may start: bounds memory held by finished
    // runs that wait for a slow predecessor.
    let window = jobs * 4;

    let mut tasks: JoinSet<(usize, Result<Played, RecordError>)> = JoinSet::new();
    // Finished runs waiting for their predecessors; `None`: abandoned (an outage).
    let mut pending: BTreeMap<usize, Option<FinishedRun>> = BTreeMap::new();
    let mut outage: Option<String> = None;
    let mut written = 0;
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
            let mut spec = todo[next_spawn].clone();
            if let Some(reference) = reference_cell(&spec) {
                // A matched run waits until its reference cell is written and measured.
                match matching.budget(&reference)? {
                    Some(tokens) => spec.protocol.set_matched_budget(tokens),
                    None => break,
                }
            }
            let budget = spec.protocol.budget_chars().map(|c| c as u64);
            let params = Arc::clone(&params);
            let position = next_spawn;
            let builder = builder.clone();
            let sinks = Arc::clone(&sinks);
            tasks.spawn(async move {
                let (index, label) = (spec.index, spec.label.clone());
                let record = play_run(spec, params, builder).await;
                if let Some(reason) = record.outage {
                    return (position, Ok(Played::Abandoned(reason)));
                }
                let mut run = game::finished_run(index, &label, record);
                run.row.talk_budget_chars = budget;
                let ended = run_ended(&sinks, &run);
                // The event log is on disk; the rows need only the outcome.
                run.events = Vec::new();
                (position, ended.map(|()| Played::Finished(Box::new(run))))
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
        let (position, played) = joined.map_err(|e| RunnerError::Panic(e.to_string()))?;
        match played? {
            Played::Finished(run) => {
                pending.insert(position, Some(*run));
            }
            Played::Abandoned(reason) => {
                // No new run starts; the ones in flight finish (or are abandoned too).
                stopped = true;
                outage.get_or_insert(reason);
                pending.insert(position, None);
            }
        }
        while let Some(slot) = pending.remove(&next_write) {
            if let Some(run) = slot {
                for sink in sinks.iter() {
                    sink.run_finished(&run)?;
                }
                matching.record(&run.row);
                written += 1;
            }
            next_write += 1;
        }
        if stopped && tasks.is_empty() {
            break;
        }
    }
    let left = todo.len() - written;
    let end = SweepEnd {
        dir: dir.clone(),
        finished: written,
        left,
    };
    for sink in sinks.iter() {
        sink.sweep_finished(&end)?;
    }
    if left == 0 && out_of_order {
        // Runs played again on resume were appended after later ones: put every file
        // back in plan order, as an uninterrupted sweep wrote it.
        let position: std::collections::HashMap<&str, usize> = exp
            .plan
            .runs
            .iter()
            .map(|r| (r.label.run_id.as_str(), r.index))
            .collect();
        crate::record::rewrite_runs(&dir, &|id| position.get(id).copied())?;
    }
    Ok(SweepOutcome {
        dir,
        runs_played: written,
        runs_skipped: existing.completed.len(),
        runs_left: left,
        outage,
        summary: summary.snapshot(),
    })
}
