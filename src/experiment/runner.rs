//! The runner: plays every run of a plan on tokio, `jobs` at a time, and hands finished
//! runs to the sinks in plan order, so the files are byte-identical whatever the
//! concurrency. The agents of each run come from `super::seats`.

use super::error::RunnerError;
use super::lineage::Lineage;
use super::matching::{reference_cell, Matching};
use super::plan::RunSpec;
use super::resolve::Seat;
use super::seats::AgentBuilder;
use super::summary::{Summary, SummarySink};
use super::Experiment;
use crate::engine::GameParams;
use crate::game::{self, GameRecord};
use crate::llm::CacheMode;
use crate::record::{
    Event, EventLevel, EventLogs, FinishedRun, RecordError, ResultsWriter, RunSink, RunStatus,
    SweepEnd, SweepStart,
};
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
    /// On resume, play runs recorded as `failed` again (default).
    pub retry_failed: bool,
    /// Play only these runs (by id) of the plan; the manifest still lists the whole plan,
    /// so directories of separately played runs merge (`fishbanks play`, one game each).
    pub only: Option<Vec<String>>,
    /// Where people's seats are asked (`fishbanks play`'s seat server); `None`: human
    /// seats can only be replayed from the cache.
    pub people: Option<PeopleDesk>,
    /// Where MCP seats are asked (the MCP server `fishbanks run` starts): one model per
    /// client, by the `token_env` of its entries; `None`: MCP seats can only be replayed
    /// from the cache.
    pub mcp: Option<McpDesks>,
    /// Told every year of every run as soon as it is played (run id, the year).
    pub watch: Option<RunWatch>,
    /// The results directory itself, when the caller resolved it already (`play` keeps
    /// its seats there before the game starts): else [`Experiment::out_dir`] of
    /// `out_root`.
    pub dir: Option<PathBuf>,
}

/// Sees each year of each run as it is played (`fishbanks play`'s facilitator page).
#[derive(Clone)]
pub struct RunWatch(pub Arc<WatchFn>);

/// What a [`RunWatch`] calls: the run's id and the year just played.
pub type WatchFn = dyn Fn(&str, &crate::engine::YearOutcome) + Send + Sync;

impl std::fmt::Debug for RunWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunWatch")
    }
}

/// Where people are asked (`fishbanks play`'s seat server).
#[derive(Clone)]
pub struct PeopleDesk {
    /// The model that asks people: it routes each request to its seat by
    /// `context.agent` and returns what the person answered.
    pub model: Arc<dyn crate::llm::ChatModel>,
    /// Told how each of their questions ended, replayed ones included (what the game
    /// applied, the seat's tally).
    pub watch: Option<Arc<dyn crate::llm::ResolutionWatch>>,
}

impl std::fmt::Debug for PeopleDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeopleDesk")
    }
}

/// The models that ask MCP clients, one per client: the `token_env` of its entries
/// (`None`: entries without one) and the model, which routes each request to its seat by
/// `context.agent`.
#[derive(Clone, Default)]
pub struct McpDesks(pub Vec<(Option<String>, Arc<dyn crate::llm::ChatModel>)>);

impl std::fmt::Debug for McpDesks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "McpDesks({})", self.0.len())
    }
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
            only: None,
            people: None,
            mcp: None,
            watch: None,
            dir: None,
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
            let watch = builder.watch.clone().map(|w| {
                let run_id = spec.label.run_id.clone();
                game::YearWatch(Arc::new(move |outcome: &crate::engine::YearOutcome| {
                    (w.0)(&run_id, outcome)
                }))
            });
            let setup = game::Setup {
                watch,
                years: spec.label.years,
                probe_every: builder.probe_every,
                lesson: spec.lesson,
                inherited: spec.inherited.clone(),
                inherit: spec.inherit,
                market_rng: (!params.market.is_off()).then(|| spec.rng("market")),
            };
            game::play(&params, &setup, agents, protocol, vec![start], &stop).await
        }
        Err(e) => GameRecord::failed(&params, spec.seats.len(), vec![start], e),
    };
    if record.status == RunStatus::Ok {
        if let Some(why) = not_played(&spec, &record, &builder) {
            record.status = RunStatus::Invalid;
            record.error = Some(why);
        }
    }
    record.events.push(Event::RunEnd {
        status: record.status,
        years_played: record.years.len() as u32,
        collapse_year: record.final_state.collapse_year,
        error: record.error.clone(),
    });
    record
}

/// Why a run that ended `ok` is no result: its models' answers are judged by `[llm]
/// max_fallback_share` over the models' answers, its people's by `[human]
/// max_fallback_share` over the people's (a class misses more questions than a model
/// does, and one does not excuse the other). `None`: both played.
fn not_played(spec: &RunSpec, record: &GameRecord, builder: &AgentBuilder) -> Option<String> {
    let mut models = crate::agents::AgentStats::default();
    let mut people = crate::agents::AgentStats::default();
    for (seat, stats) in spec.seats.iter().zip(&record.per_agent) {
        if *seat == Seat::Human {
            people.add(stats);
        } else {
            models.add(stats);
        }
    }
    let mut why = Vec::new();
    if models.fallback_share() > builder.max_fallback_share {
        why.push(format!(
            "{} of {} model answers fell back ({:.1}%, more than [llm] max_fallback_share = {}): the agents did not really play",
            models.fallbacks,
            models.answers,
            models.fallback_share() * 100.0,
            builder.max_fallback_share
        ));
    }
    if people.fallback_share() > builder.human_max_fallback_share {
        why.push(format!(
            "{} of {} questions to people went unanswered or fell back ({:.1}%, more than [human] max_fallback_share = {}): the people did not really play",
            people.fallbacks,
            people.answers,
            people.fallback_share() * 100.0,
            builder.human_max_fallback_share
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
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
    let dir = opts
        .dir
        .clone()
        .unwrap_or_else(|| exp.out_dir(&opts.out_root));
    if opts.people.is_none()
        && opts.cache_mode != CacheMode::Replay
        && exp.plan.runs.iter().any(RunSpec::has_people)
    {
        return Err(RunnerError::Setup(
            "this experiment has human seats: play it with `fishbanks play` (a seat page per person), or replay a played game with --cache-mode replay --cache-dir PLAYED/cache".into(),
        ));
    }
    if opts.mcp.is_none()
        && opts.cache_mode != CacheMode::Replay
        && exp.plan.runs.iter().any(RunSpec::has_mcp)
    {
        return Err(RunnerError::Setup(
            "this experiment has MCP seats: `fishbanks run` serves them (see [mcp]), or replay a recorded sweep with --cache-mode replay".into(),
        ));
    }
    let mut builder = AgentBuilder::for_experiment(exp, &dir, opts)?;
    builder.watch = opts.watch.clone();
    if let Some(factory) = &builder.llm {
        let used: Vec<String> = exp.config.providers.keys().cloned().collect();
        factory.preflight(&used).await?;
    }
    let manifest = exp.manifest(&builder, opts.shard);
    let existing = super::resume::prepare(&manifest, &dir, opts.force_new, opts.retry_failed)?;
    let summary = Arc::new(SummarySink::new(&dir, &exp.plan.cells, exp.config.agents));
    let sinks = open_sinks(&dir, opts, &summary, &builder, &mut hooks)?;

    let matching = Matching::new(&exp.plan.runs, &existing.rows);
    let lineage = Lineage::new(&exp.plan.runs, &dir, &existing.completed)?;
    if matching.is_needed() && opts.shard.is_some() {
        return Err(RunnerError::Setup(
            "a protocol with match_tokens_of is measured on its reference cell, which a shard does not hold whole: run without --shard, or give it budget_tokens".into(),
        ));
    }
    let todo: Vec<&RunSpec> = exp
        .plan
        .shard(opts.shard)
        .filter(|r| !existing.completed.contains(&r.label.run_id))
        .filter(|r| {
            opts.only
                .as_ref()
                .is_none_or(|only| only.contains(&r.label.run_id))
        })
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
    // Or whether the runs on disk are out of plan order already: a resume that played
    // failed runs again was stopped before it put them back.
    let index_of: std::collections::HashMap<&str, usize> = exp
        .plan
        .runs
        .iter()
        .map(|r| (r.label.run_id.as_str(), r.index))
        .collect();
    let on_disk: Vec<Option<&usize>> = existing
        .rows
        .iter()
        .map(|r| index_of.get(r.run_id.as_str()))
        .collect();
    let out_of_order = match (todo.first(), last_on_disk) {
        (Some(first), Some(last)) => first.index < last,
        _ => false,
    } || on_disk.windows(2).any(|w| w[0] > w[1]);
    let start = SweepStart {
        dir: dir.clone(),
        total: todo.len() + existing.completed.len(),
        completed: existing.rows.clone(),
    };
    for sink in sinks.iter() {
        sink.sweep_started(&start)?;
    }
    let mut schedule = Schedule {
        todo: &todo,
        jobs: opts.jobs.max(1),
        params: Arc::new(exp.config.game.clone()),
        builder,
        sinks: Arc::clone(&sinks),
        matching,
        lineage,
        tasks: JoinSet::new(),
        pending: BTreeMap::new(),
        outage: None,
        written: 0,
        next_spawn: 0,
        next_write: 0,
        stopped: false,
    };
    schedule.play(&mut hooks).await?;
    let left = todo.len() - schedule.written;
    let end = SweepEnd {
        dir: dir.clone(),
        finished: schedule.written,
        left,
    };
    for sink in sinks.iter() {
        sink.sweep_finished(&end)?;
    }
    if left == 0 && out_of_order {
        put_back_in_plan_order(exp, &dir)?;
    }
    Ok(SweepOutcome {
        dir,
        runs_played: schedule.written,
        runs_skipped: existing.completed.len(),
        runs_left: left,
        outage: schedule.outage,
        summary: summary.snapshot(),
    })
}

/// The sinks of a sweep, in the order they see each run: event logs, result files, the
/// summary, the LLM layer's (its cache), then the caller's.
fn open_sinks(
    dir: &std::path::Path,
    opts: &RunOptions,
    summary: &Arc<SummarySink>,
    builder: &AgentBuilder,
    hooks: &mut Hooks,
) -> Result<Arc<[Arc<dyn RunSink>]>, RunnerError> {
    let mut sinks: Vec<Arc<dyn RunSink>> = vec![
        Arc::new(EventLogs {
            dir: dir.to_path_buf(),
            level: opts.events,
        }),
        Arc::new(ResultsWriter::open(dir)?),
        summary.clone(),
    ];
    sinks.extend(builder.sinks());
    sinks.append(&mut hooks.sinks);
    Ok(sinks.into())
}

/// Runs played again on resume were appended after later ones: put every file back in
/// plan order, as an uninterrupted sweep wrote it.
fn put_back_in_plan_order(exp: &Experiment, dir: &std::path::Path) -> Result<(), RunnerError> {
    let position: std::collections::HashMap<&str, usize> = exp
        .plan
        .runs
        .iter()
        .map(|r| (r.label.run_id.as_str(), r.index))
        .collect();
    crate::record::rewrite_runs(dir, &|id| position.get(id).copied())?;
    Ok(())
}

/// The state of a sweep under way: runs are spawned up to `jobs` at a time (and at most a
/// window ahead of the write cursor), and written in plan order as they become ready.
struct Schedule<'a> {
    todo: &'a [&'a RunSpec],
    jobs: usize,
    params: Arc<GameParams>,
    builder: AgentBuilder,
    sinks: Arc<[Arc<dyn RunSink>]>,
    matching: Matching,
    lineage: Lineage,
    tasks: JoinSet<(usize, Result<Played, RecordError>)>,
    /// Finished runs waiting for their predecessors; `None`: abandoned (an outage).
    pending: BTreeMap<usize, Option<FinishedRun>>,
    outage: Option<String>,
    written: usize,
    next_spawn: usize,
    next_write: usize,
    /// No new run starts (a stop request or an outage).
    stopped: bool,
}

impl Schedule<'_> {
    /// Play until every run is written, the sweep is stopped, or a provider is down.
    async fn play(&mut self, hooks: &mut Hooks) -> Result<(), RunnerError> {
        // How far ahead of the write cursor runs may start: bounds memory held by
        // finished runs that wait for a slow predecessor.
        let window = self.jobs * 4;
        while self.next_write < self.todo.len() {
            let level = hooks.level();
            if level == StopLevel::Abandon {
                self.tasks.abort_all();
                break;
            }
            if level == StopLevel::Finish {
                self.stopped = true;
            }
            while !self.stopped
                && self.tasks.len() < self.jobs
                && self.next_spawn < self.todo.len()
                && self.next_spawn < self.next_write + window
            {
                if !self.spawn_next()? {
                    break;
                }
            }
            let mut signal_gone = false;
            let joined = match hooks.stop.as_mut() {
                Some(rx) => tokio::select! {
                    joined = self.tasks.join_next() => Some(joined),
                    // A change of stop level: go round the loop to act on it.
                    changed = rx.changed() => {
                        signal_gone = changed.is_err();
                        None
                    }
                },
                None => Some(self.tasks.join_next().await),
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
                    self.pending.insert(position, Some(*run));
                }
                Played::Abandoned(reason) => {
                    // No new run starts; the ones in flight finish (or are abandoned too).
                    self.stopped = true;
                    self.outage.get_or_insert(reason);
                    self.pending.insert(position, None);
                }
            }
            self.write_ready()?;
            if self.stopped && self.tasks.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// Start the next run of the plan. `false` when it must wait: a matched run waits
    /// until its reference cell is written and measured, a later generation until its
    /// parent is written.
    fn spawn_next(&mut self) -> Result<bool, RunnerError> {
        let mut spec = self.todo[self.next_spawn].clone();
        match self.lineage.inherited(&spec) {
            Some(lessons) => spec.inherited = lessons,
            None => return Ok(false),
        }
        if let Some(reference) = reference_cell(&spec) {
            match self.matching.budget(&reference)? {
                Some(tokens) => spec.protocol.set_matched_budget(tokens),
                None => return Ok(false),
            }
        }
        let budget = spec.protocol.budget_chars().map(|c| c as u64);
        let params = Arc::clone(&self.params);
        let position = self.next_spawn;
        let builder = self.builder.clone();
        let sinks = Arc::clone(&self.sinks);
        self.tasks.spawn(async move {
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
        self.next_spawn += 1;
        Ok(true)
    }

    /// Hand every run that is next in plan order to the sinks.
    fn write_ready(&mut self) -> Result<(), RunnerError> {
        while let Some(slot) = self.pending.remove(&self.next_write) {
            if let Some(run) = slot {
                for sink in self.sinks.iter() {
                    sink.run_finished(&run)?;
                }
                self.matching.record(&run.row);
                self.lineage
                    .record(&run.label.run_id, run.label.generation, &run.messages);
                self.written += 1;
            }
            self.next_write += 1;
        }
        Ok(())
    }
}
