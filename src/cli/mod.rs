//! The command line: argument parsing and calls into the library. Errors become exit
//! codes here: 2 for a bad experiment file (nothing was written), 1 for anything else.

mod embed;
mod mcp;
#[cfg(feature = "testkit")]
mod mock_server;
mod play;
mod progress;

use anyhow::Context;
use clap::{Parser, Subcommand};
use fishbanks::experiment::{
    self, AgentBuilder, ConfigError, Experiment, Hooks, RunOptions, StopLevel,
};
use fishbanks::llm::CacheMode;
use fishbanks::record::{EventLevel, RunSink};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The next Ctrl-C or SIGTERM.
async fn next_signal(term: &mut Option<tokio::signal::unix::Signal>) {
    match term.as_mut() {
        Some(t) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = t.recv() => {}
            }
        }
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Turn Ctrl-C / SIGTERM into stop levels: the first lets running runs finish (for at
/// most `grace`), the second abandons them.
async fn watch_signals(stop: tokio::sync::watch::Sender<StopLevel>, grace: Duration) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    next_signal(&mut term).await;
    eprintln!("\nstopping: no new runs; running runs finish (Ctrl-C again to abandon them)");
    let _ = stop.send(StopLevel::Finish);
    tokio::select! {
        _ = next_signal(&mut term) => eprintln!("abandoning running runs"),
        _ = tokio::time::sleep(grace) => eprintln!("grace period over: abandoning running runs"),
    }
    let _ = stop.send(StopLevel::Abandon);
}

#[derive(Debug, Parser)]
#[command(
    name = "fishbanks",
    version,
    about = "Fishbanks coordination experiments with scripted and LLM agents",
    after_help = "Exit codes: 0 ok; 1 error; 2 bad experiment file (nothing written); 3 the sweep finished but some runs failed or are invalid; 75 a provider went down (resume later); 130 stopped by Ctrl-C or SIGTERM."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every cell × seed of an experiment and write the results.
    Run {
        /// The experiment file (TOML).
        experiment: PathBuf,
        #[command(flatten)]
        sweep: SweepArgs,
    },
    /// Rate agents: play the frozen battery a rating file names for each of its
    /// candidates, every game paired with the reference player's in the same seat, and
    /// write the leaderboard (`rating.csv`, `rating.md`, `rating.html`). With
    /// `--leaderboard DIR...`, join ratings made apart into one leaderboard instead.
    Rate {
        /// The rating file (TOML: `battery`, `[providers.*]`, `[candidates.NAME]`).
        #[arg(required_unless_present = "leaderboard")]
        rating: Option<PathBuf>,
        /// Results directories of ratings of one battery to join (nothing is played);
        /// the leaderboard goes into --out.
        #[arg(long, num_args = 1.., conflicts_with = "rating")]
        leaderboard: Vec<PathBuf>,
        #[command(flatten)]
        sweep: SweepArgs,
    },
    /// Combine the directories of a sharded sweep into one.
    Merge {
        /// Shard result directories (each `OUT/<experiment name>`).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged directory (must not hold results yet).
        #[arg(long)]
        out: PathBuf,
        /// Merge even when runs of the plan are in no directory (they are listed).
        #[arg(long)]
        allow_missing: bool,
        /// Another directory of LLM caches to join (repeatable): where shards kept their
        /// caches with `run --cache-dir`. Each shard's own DIR/cache is always joined.
        #[arg(long = "cache-dir", value_name = "DIR")]
        cache_dirs: Vec<PathBuf>,
        /// Skip the report on the merged directory.
        #[arg(long)]
        no_report: bool,
    },
    /// Compare protocols from recorded results: statistics, tables, plots, a report.
    Report {
        /// One or more results directories (e.g. shards), merged.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write (default: the first directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Protocol the others are tested against (default: the experiment's `[analysis]
        /// reference`, itself `none` by default).
        #[arg(long)]
        reference: Option<String>,
        /// Population the others are tested against within each protocol (default: the
        /// experiment's `[analysis] reference_population`, itself the first of the matrix).
        #[arg(long)]
        reference_population: Option<String>,
        /// Formats to write, comma-separated: md, html, latex, csv (default: all but latex).
        #[arg(long, value_delimiter = ',')]
        format: Vec<String>,
        /// Resolution of the PNG figures, dots per inch.
        #[arg(long, default_value_t = 150.0)]
        dpi: f64,
        /// Analyse directories of different experiments side by side (each experiment a
        /// factor of every cell) instead of refusing to pool them.
        #[arg(long)]
        compare: bool,
        /// Draw every run's fish stock as a thin line under the means (stock figure).
        #[arg(long)]
        run_lines: bool,
    },
    /// Socialisation diagnostics from recorded results: influence between agents (on
    /// actions and texts), feedback adaptation, drift, convergence, anchors, the
    /// consensus probe; `diagnose.md`, `diagnostics.csv`, `influence.csv`, graphs.
    Diagnose {
        /// One or more results directories of one experiment (e.g. shards).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write (default: the first directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Embed texts with this provider of the experiment file (`--experiment`)
        /// through its `/embeddings` endpoint, cached in DIR/cache/embeddings.jsonl;
        /// without it, a lexical TF-IDF computed here.
        #[arg(long, requires = "experiment")]
        embeddings: Option<String>,
        /// The experiment file that defines the `--embeddings` provider.
        #[arg(long)]
        experiment: Option<PathBuf>,
        /// Permutations per influence test.
        #[arg(long, default_value_t = 199)]
        permutations: usize,
        /// Significance level of an influence edge.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Also diagnose runs marked invalid (too many fallbacks), labelled as such.
        #[arg(long)]
        include_invalid: bool,
    },
    /// Serve an OpenAI-compatible mock model on loopback, with injectable faults
    /// (built with the `testkit` feature).
    #[cfg(feature = "testkit")]
    MockServer(mock_server::MockServerArgs),
    /// Serve an OpenAI-compatible mock model on loopback: not in this build (it needs
    /// the `testkit` feature; the command says how to get it).
    #[cfg(not(feature = "testkit"))]
    MockServer {
        /// Its options, refused with the advice.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print what every model of a run was asked and answered: prompts, raw answers,
    /// verdicts, repairs and fallbacks.
    Transcript {
        /// The results directory (`OUT/<experiment name>`).
        dir: PathBuf,
        /// The run (`run_id` in runs.csv).
        run_id: String,
        /// Only this agent (the `agent` column of agents.csv; team N+1 in its prompts).
        #[arg(long)]
        agent: Option<usize>,
        /// Where the cache is, if not DIR/cache.
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// One line per question (year, agent, question, answer, verdict) instead of
        /// every prompt.
        #[arg(long)]
        answers: bool,
    },
    /// Play one game with people in its human seats: a seat page per person (its URL
    /// printed), a facilitator's page, the game recorded like any run.
    Play(play::PlayArgs),
    /// Tell one game year by year, for any run (scripted, LLM, human): the sea, each
    /// team's decision, catch and bank, quotas, votes, pledges, messages, fines, leaders.
    Story {
        /// The results directory (`OUT/<experiment name>`).
        dir: PathBuf,
        /// The run (`run_id` in runs.csv).
        run_id: String,
        /// Also write the story as a self-contained HTML page, with the run's figures.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Check each LLM provider of an experiment: reachable, model served, which
    /// structured-output modes work, latency and tokens/s; recommend timeout_s,
    /// max_concurrency and structured_output; estimate the sweep's wall time and cost.
    Doctor {
        /// The experiment file (TOML).
        experiment: PathBuf,
    },
    /// Check an experiment file (or a rating file) without running it.
    Validate {
        /// The experiment or rating file (TOML).
        experiment: PathBuf,
    },
}

/// How a sweep is played: `run`'s and `rate`'s options.
#[derive(Debug, Clone, clap::Args)]
struct SweepArgs {
    /// Results go to OUT/<name>/ (with `rate --leaderboard`: into OUT itself).
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Runs played at once (default: the number of CPUs). Results do not depend on it.
    #[arg(long)]
    jobs: Option<usize>,
    /// How much of each run's event log to write: full, summary or none.
    #[arg(long, default_value = "full")]
    events: EventLevel,
    /// Continue a sweep in an existing directory (also done automatically when the
    /// directory holds the same experiment).
    #[arg(long)]
    resume: bool,
    /// Discard the results of a different experiment found in the output directory.
    #[arg(long)]
    force_new: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// How LLM calls use the record/replay cache: record, replay, replay-or-live, live.
    #[arg(long, default_value = "record")]
    cache_mode: CacheMode,
    /// Cache directory (default: OUT/<name>/cache).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Print the number of runs, LLM calls, estimated tokens and cost, then exit.
    #[arg(long)]
    dry_run: bool,
    /// Skip the report (`fishbanks report`; a rating's leaderboard) at the end.
    #[arg(long)]
    no_report: bool,
    /// Play only shard K of N (e.g. `--shard 2/8`); give each shard its own --out and
    /// combine them with `fishbanks merge`.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
    /// Print one JSON line per finished run on stderr (for schedulers) instead of a bar.
    #[arg(long)]
    json_progress: bool,
    /// After Ctrl-C, how long running runs may take to finish before they are abandoned.
    #[arg(long, default_value_t = 60)]
    grace_secs: u64,
    /// On resume, play runs recorded as failed (an infrastructure error) again;
    /// `--retry-failed false` keeps them as they are.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    retry_failed: bool,
}

/// `K/N` with 1 ≤ K ≤ N.
fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let (k, n) = text.split_once('/').ok_or("expected K/N, e.g. 2/8")?;
    let k: u32 = k
        .trim()
        .parse()
        .map_err(|_| format!("`{k}` is not a shard number"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a shard count"))?;
    if k == 0 || n == 0 || k > n {
        return Err(format!("shard {k}/{n}: need 1 ≤ K ≤ N"));
    }
    Ok((k, n))
}

/// Exit code of a sweep stopped by Ctrl-C or SIGTERM (128 + SIGINT).
const INTERRUPTED: u8 = 130;
/// Exit code of a sweep that finished with failed or invalid runs.
const NOT_ALL_OK: u8 = 3;
/// Exit code of a sweep stopped because a provider went down (EX_TEMPFAIL: try again).
const OUTAGE: u8 = 75;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            if let Some(config) = err.downcast_ref::<ConfigError>() {
                eprintln!("error: {config}");
                return ExitCode::from(2);
            }
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logging to stderr, filtered by `RUST_LOG` (`warn` by default): a level (`info`), or
/// targets with levels (`fishbanks::llm=debug,warn`). Parsed as `Targets`, which needs no
/// regular-expression engine; a value it cannot read is reported and the default kept.
fn init_tracing() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let default = Targets::new().with_default(LevelFilter::WARN);
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => spec.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!("warning: RUST_LOG={spec:?} is not a filter ({e}); logging warnings");
            default
        }),
        _ => default,
    };
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(|| progress::LogWriter)
                .with_filter(filter),
        )
        .try_init();
}

/// What `merge` says of the joined cache: whether the merged sweep replays without a
/// server, and if not, which runs cannot and why that usually is.
fn cache_line(merged: &experiment::merge::MergeOutcome) -> String {
    let cache = &merged.cache;
    let dir = merged.dir.join(fishbanks::record::RunFiles::CACHE_DIR);
    if cache.runs_with_calls == 0 {
        return "cache: no run asked a model (nothing to replay)".into();
    }
    if cache.is_complete() {
        return format!(
            "cache: every one of the {} calls of the {} runs that asked a model is in {} (`fishbanks run EXPERIMENT --cache-mode replay --cache-dir {}` replays them with no server)",
            cache.calls,
            cache.runs_with_calls,
            dir.display(),
            dir.display()
        );
    }
    let listed: Vec<String> = cache
        .incomplete
        .iter()
        .take(10)
        .map(|(id, made, found)| format!("{id} ({found} of {made} calls)"))
        .collect();
    format!(
        "WARNING: {} of the {} runs that asked a model are not all in the merged cache, so they cannot be replayed without a server: {}{}. Shards run with --cache-mode live keep no cache; shards run with --cache-dir DIR keep it there: give each such DIR to merge with --cache-dir.",
        cache.incomplete.len(),
        cache.runs_with_calls,
        listed.join(", "),
        if cache.incomplete.len() > listed.len() {
            ", …"
        } else {
            ""
        }
    )
}

/// The files written (a report's, a leaderboard's), as one line.
fn files_written(files: &[std::path::PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Report {
            dirs,
            out,
            reference,
            reference_population,
            format,
            compare,
            run_lines,
            dpi,
        } => {
            let options = fishbanks::analysis::ReportOptions {
                out,
                reference,
                reference_population,
                formats: (!format.is_empty()).then_some(format),
                compare,
                dpi: Some(dpi),
                figures: fishbanks::analysis::figures::FigureOptions { run_lines },
            };
            let summary = fishbanks::analysis::report(&dirs, &options)?;
            println!("{}", summary.headline);
            eprintln!(
                "{} runs in {} cells, reference `{}`; report in {}",
                summary.runs,
                summary.cells,
                summary.reference,
                files_written(&summary.files)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Diagnose {
            dirs,
            out,
            embeddings,
            experiment,
            permutations,
            alpha,
            include_invalid,
        } => {
            let options = fishbanks::analysis::diagnose::DiagnoseOptions {
                out,
                permutations: permutations.max(1),
                alpha,
                include_invalid,
                ..Default::default()
            };
            let diagnosis = match (embeddings, experiment) {
                (Some(provider), Some(file)) => {
                    let mut embedder = embed::ProviderEmbedder::new(&file, &provider, &dirs[0])?;
                    fishbanks::analysis::diagnose::diagnose(&dirs, &options, &mut embedder)?
                }
                _ => fishbanks::analysis::diagnose::diagnose(
                    &dirs,
                    &options,
                    &mut fishbanks::analysis::embed::TfIdf,
                )?,
            };
            if diagnosis.dir.join("report.md").exists() {
                // The report shows the diagnostics: render it again with them.
                fishbanks::analysis::report(
                    &dirs,
                    &fishbanks::analysis::ReportOptions {
                        out: Some(diagnosis.dir.clone()),
                        ..Default::default()
                    },
                )?;
            }
            let (header, rows) = fishbanks::analysis::diagnose::cell_table(&diagnosis);
            println!(
                "| {} |\n|{}",
                header.join(" | "),
                "---|".repeat(header.len())
            );
            for r in rows {
                println!("| {} |", r.join(" | "));
            }
            eprintln!(
                "{} runs diagnosed, {} (text: {}); details in {}",
                diagnosis.runs.len(),
                diagnosis.left_out,
                diagnosis.embedding,
                diagnosis.dir.join("diagnose.md").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "testkit")]
        Command::MockServer(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(mock_server::serve_until_ctrl_c(args))?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(not(feature = "testkit"))]
        Command::MockServer { .. } => {
            anyhow::bail!(
                "this build has no mock server: it comes with the feature `testkit`. Build it with `cargo build --release --features testkit` (or install it with `cargo install --path . --features testkit`) and run `fishbanks mock-server` again"
            )
        }
        Command::Merge {
            dirs,
            out,
            allow_missing,
            cache_dirs,
            no_report,
        } => {
            let options = experiment::merge::MergeOptions {
                allow_missing,
                cache_dirs,
            };
            let merged = experiment::merge::merge(&dirs, &out, &options)?;
            eprintln!(
                "merged {} runs from {} directories into {}",
                merged.runs,
                dirs.len(),
                merged.dir.display()
            );
            if !merged.missing.is_empty() {
                eprintln!(
                    "missing {} runs: {}",
                    merged.missing.len(),
                    merged.missing.join(", ")
                );
            }
            eprintln!("{}", cache_line(&merged));
            if !no_report {
                fishbanks::analysis::report(
                    std::slice::from_ref(&merged.dir),
                    &fishbanks::analysis::ReportOptions::default(),
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Transcript {
            dir,
            run_id,
            agent,
            cache_dir,
            answers,
        } => {
            use fishbanks::llm::transcript::{transcript, View};
            let cache =
                cache_dir.unwrap_or_else(|| dir.join(fishbanks::record::RunFiles::CACHE_DIR));
            let view = if answers { View::Answers } else { View::Full };
            let text = transcript(&dir, &cache, &run_id, agent, view)?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Play(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(play::play(args))
        }
        Command::Story { dir, run_id, html } => {
            let story = fishbanks::analysis::story::read(&dir, &run_id)?;
            print!("{}", fishbanks::analysis::story::text(&story));
            if let Some(path) = html {
                let page = fishbanks::analysis::story::html(&story)?;
                std::fs::write(&path, page)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("story page: {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor { experiment } => {
            let exp = load_any(&experiment)?;
            let options = RunOptions {
                cache_mode: CacheMode::Live,
                ..RunOptions::new(std::env::temp_dir())
            };
            let builder = AgentBuilder::for_experiment(&exp, &std::env::temp_dir(), &options)?;
            let estimate = experiment::estimate::estimate(&exp, &builder)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let (report, ok) =
                runtime.block_on(experiment::doctor::doctor(&exp, &builder, &estimate))?;
            print!("{report}");
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Validate { experiment } => {
            let exp = load_any(&experiment)?;
            for warning in exp.warnings() {
                eprintln!("warning: {warning}");
            }
            println!(
                "{}: ok ({} cells × {} seeds = {} runs of {} years)",
                experiment.display(),
                exp.plan.cells.len(),
                exp.config.seeds,
                exp.plan.runs.len(),
                exp.config.years
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { experiment, sweep } => {
            // A rating file plays as `rate` does: its games, then its leaderboard.
            let exp = load_any(&experiment)?;
            play_sweep(&exp, &experiment, "run", &sweep)
        }
        Command::Rate {
            rating,
            leaderboard,
            sweep,
        } => {
            if !leaderboard.is_empty() {
                let written = fishbanks::rating::leaderboard(&leaderboard, &sweep.out)?;
                println!("{}", written.table);
                eprintln!(
                    "leaderboard of {} candidates: {}",
                    written.ranked.len(),
                    files_written(&written.files)
                );
                return Ok(ExitCode::SUCCESS);
            }
            let Some(file) = rating else {
                anyhow::bail!("give a rating file, or --leaderboard DIR... to join ratings");
            };
            let exp = fishbanks::rating::load(&file)?;
            play_sweep(&exp, &file, "rate", &sweep)
        }
    }
}

/// An experiment file, or a rating file (it names a `battery`) as the experiment it plays.
fn load_any(path: &std::path::Path) -> Result<Experiment, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| experiment::span::unreadable(path, &e))?;
    if fishbanks::rating::is_rating(&text) {
        fishbanks::rating::parse(path, &text)
    } else {
        Experiment::parse(path, &text)
    }
}

/// Play a sweep (`run`, or `rate` of a rating file's experiment) as the options say: a
/// dry run, or the runs, then the report (a rating: its leaderboard).
fn play_sweep(
    exp: &Experiment,
    experiment: &std::path::Path,
    command: &str,
    args: &SweepArgs,
) -> anyhow::Result<ExitCode> {
    let SweepArgs {
        out,
        jobs,
        events,
        resume,
        force_new,
        quiet,
        cache_mode,
        cache_dir,
        dry_run,
        no_report,
        shard,
        json_progress,
        grace_secs,
        retry_failed,
    } = args.clone();
    let rating = exp.config.rating.is_some();
    for warning in exp.warnings() {
        eprintln!("warning: {warning}");
    }
    if out.exists() && !out.is_dir() {
        anyhow::bail!(
            "--out {}: that is a file, not a directory: --out takes the directory the results go in (default `results`)",
            out.display()
        );
    }
    let dir = exp.out_dir(&out);
    if resume && !dir.join(fishbanks::record::RunFiles::MANIFEST).exists() {
        anyhow::bail!("--resume: {} holds no sweep to resume", dir.display());
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = RunOptions {
        out_root: out,
        jobs,
        events,
        force_new,
        cache_mode,
        cache_dir,
        shard,
        retry_failed,
        only: None,
        people: None,
        mcp: None,
        watch: None,
        dir: None,
    };
    if dry_run {
        // Estimating renders prompts only: build the agents as for a replay, which
        // needs neither a server nor a key.
        let estimating = RunOptions {
            cache_mode: CacheMode::Replay,
            ..options.clone()
        };
        let builder = AgentBuilder::for_experiment(exp, &dir, &estimating)?;
        let rendered = experiment::estimate::estimate(exp, &builder)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let measured = runtime.block_on(experiment::estimate::measure(exp, &options, rendered))?;
        println!(
            "{}: {} runs of {} years (estimate: each cell's first {} replicates played with the in-process mock in every model's seat, nothing sent, nothing written; scaled to the cell's runs)\n",
            exp.config.name,
            exp.plan.runs.len(),
            exp.config.years,
            experiment::estimate::MEASURED_REPLICATES
        );
        print!("{}", experiment::estimate::to_markdown(&measured.cells));
        if rating {
            println!("\nPer candidate (the reference player, scripted, makes no call):\n\n| candidate | runs | LLM calls | tokens in | tokens out | cost (USD) |\n|---|---:|---:|---:|---:|---:|");
            for (who, runs, e) in fishbanks::rating::per_candidate(&measured.cells) {
                println!(
                    "| {who} | {runs} | {} | {} | {} | {:.2} |",
                    e.calls, e.tokens_in, e.tokens_out, e.cost_usd
                );
            }
        }
        println!(
            "\n{}",
            experiment::estimate::wall_time(&measured, exp.plan.runs.len(), options.jobs)
        );
        return Ok(ExitCode::SUCCESS);
    }
    // A sweep whose answers come from outside the process (a model server, a remote
    // agent, an MCP client) mostly waits: one thread serves every call, and no answer
    // wakes a second thread to hand it over (a quarter less CPU per remote call in the
    // sweep bench). A sweep answered here (scripted seats, the in-process mock, a replay)
    // is CPU work, spread over every core.
    let runtime = if exp.asks_outside() && options.cache_mode != CacheMode::Replay {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build()
    .context("cannot start the async runtime")?;
    // MCP seats are served here, for the sweep's length (a replay needs no client).
    let mut options = options;
    let endpoint = if mcp::needed(exp) && options.cache_mode != CacheMode::Replay {
        let (endpoint, desks) = runtime.block_on(mcp::start(exp))?;
        options.mcp = Some(desks);
        Some(endpoint)
    } else {
        None
    };
    if !quiet {
        // A shard names its own share of the plan.
        let share = shard.map_or(String::new(), |(k, n)| {
            format!("shard {k}/{n}: {} of ", exp.plan.shard(shard).count())
        });
        eprintln!(
            "{}: {share}{} runs ({} cells × {} seeds, {} years), {} at a time → {}",
            exp.config.name,
            exp.plan.runs.len(),
            exp.plan.cells.len(),
            exp.config.seeds,
            exp.config.years,
            jobs,
            dir.display()
        );
    }
    let started = Instant::now();
    let mut sinks: Vec<Arc<dyn RunSink>> = Vec::new();
    if json_progress {
        sinks.push(progress::JsonLines::new());
    } else if !quiet && std::io::stderr().is_terminal() {
        sinks.push(progress::Bar::new());
    }
    #[cfg(feature = "testkit")]
    if let Some(crash) = fishbanks::testkit::CrashAfter::from_env() {
        sinks.push(Arc::new(crash));
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(StopLevel::Run);
    let hooks = Hooks {
        stop: Some(stop_rx),
        sinks,
    };
    let outcome = runtime.block_on(async {
        tokio::spawn(watch_signals(stop_tx, Duration::from_secs(grace_secs)));
        experiment::run_with(exp, &options, hooks).await
    });
    if let Some(endpoint) = endpoint {
        runtime.block_on(endpoint.finish(&dir))?;
    }
    let shard_arg = shard.map_or(String::new(), |(k, n)| format!(" --shard {k}/{n}"));
    let resume_command = format!(
        "fishbanks {command} {} --out {}{}",
        experiment.display(),
        options.out_root.display(),
        shard_arg
    );
    let outcome = match outcome {
        // Down before run 1 (a server or agent not there): nothing was written; the
        // same command starts the sweep once it is back, as after an outage.
        Err(experiment::RunnerError::Llm(fishbanks::llm::LlmError::Outage {
            provider,
            reason,
        })) => {
            eprintln!(
                "\nSTOPPED before run 1: `{provider}` is down: {reason}.\nNothing was written. Once it is back, start the sweep with:\n  {resume_command}"
            );
            return Ok(ExitCode::from(OUTAGE));
        }
        other => other.with_context(|| format!("sweep {} failed", exp.config.name))?,
    };
    if let Some(reason) = &outcome.outage {
        eprintln!(
            "\nSTOPPED: {reason}.\n{} runs complete, {} not played (runs that were in flight are not recorded). Once the server is back, resume with:\n  {resume_command}",
            outcome.runs_played + outcome.runs_skipped,
            outcome.runs_left,
        );
        return Ok(ExitCode::from(OUTAGE));
    }
    if outcome.runs_left > 0 {
        eprintln!(
            "stopped: {} runs complete, {} not played. Resume with:\n  {resume_command}",
            outcome.runs_played + outcome.runs_skipped,
            outcome.runs_left,
        );
        return Ok(ExitCode::from(INTERRUPTED));
    }
    if !quiet {
        if outcome.runs_skipped > 0 {
            eprintln!(
                "resumed: {} runs were already complete",
                outcome.runs_skipped
            );
        }
        // A rating's cells are many; its leaderboard, printed below, is its summary.
        if !rating {
            println!("{}", outcome.summary.to_markdown());
        }
        eprintln!(
            "{} runs in {:.2} s; results in {}",
            outcome.runs_played,
            started.elapsed().as_secs_f64(),
            outcome.dir.display()
        );
    }
    if !no_report {
        match shard {
            // A shard holds a share of every cell: a report or a leaderboard of it alone
            // would answer with a fraction of the games (a rating shard: one or two each).
            Some((k, n)) if !quiet => {
                let (what, then) = if rating {
                    ("leaderboard", "fishbanks rate --leaderboard MERGED")
                } else {
                    ("report", "fishbanks report MERGED")
                };
                eprintln!(
                    "shard {k}/{n} is complete; the {what} comes from every shard together: fishbanks merge DIR... --out MERGED, then {then}"
                );
            }
            Some(_) => {}
            None if rating => {
                let written = fishbanks::rating::leaderboard(
                    std::slice::from_ref(&outcome.dir),
                    &outcome.dir,
                )
                .context("the rating finished, but its leaderboard failed")?;
                if !quiet {
                    println!("{}", written.table);
                    eprintln!("leaderboard: {}", files_written(&written.files));
                }
            }
            None => {
                let summary = fishbanks::analysis::report(
                    std::slice::from_ref(&outcome.dir),
                    &fishbanks::analysis::ReportOptions::default(),
                )
                .context("the sweep finished, but its report failed")?;
                if !quiet {
                    eprintln!("report: {}", files_written(&summary.files));
                }
            }
        }
    }
    let (failed, invalid) = outcome.summary.not_ok();
    if failed + invalid > 0 {
        eprintln!(
            "\nWARNING: {failed} runs FAILED and {invalid} runs are INVALID (their agents did not really play); they are recorded with their reason in runs.csv and left out of every statistic."
        );
        if failed > 0 {
            eprintln!("Failed runs are played again by:\n  {resume_command}");
        }
        return Ok(ExitCode::from(NOT_ALL_OK));
    }
    Ok(ExitCode::SUCCESS)
}
