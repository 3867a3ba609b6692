//! The command line: argument parsing and calls into the library. Errors become exit
//! codes here: 2 for a bad experiment file (nothing was written), 1 for anything else.

use crate::experiment::{self, AgentBuilder, ConfigError, Experiment, RunOptions};
use crate::llm::mock_server::MockServerArgs;
use crate::llm::CacheMode;
use crate::record::EventLevel;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(
    name = "fishbanks",
    version,
    about = "Fishbanks coordination experiments with scripted and LLM agents"
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
        /// Results go to OUT/<experiment name>/.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Runs played at once (default: the number of CPUs). Results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// How much of each run's event log to write.
        #[arg(long, value_enum, default_value_t = EventLevel::Full)]
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
        /// How LLM calls use the record/replay cache.
        #[arg(long, value_enum, default_value_t = CacheMode::Record)]
        cache_mode: CacheMode,
        /// Cache directory (default: OUT/<experiment name>/cache).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// Print the number of runs, LLM calls, estimated tokens and cost, then exit.
        #[arg(long)]
        dry_run: bool,
        /// Skip the report (`fishbanks report`) at the end of the sweep.
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
        /// Protocol the others are tested against (default: `none`).
        #[arg(long)]
        reference: Option<String>,
    },
    /// Serve an OpenAI-compatible mock model on loopback, with injectable faults.
    MockServer(MockServerArgs),
    /// Check an experiment file without running it.
    Validate {
        /// The experiment file (TOML).
        experiment: PathBuf,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
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

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Report {
            dirs,
            out,
            reference,
        } => {
            let options = crate::analysis::ReportOptions { out, reference };
            let summary = crate::analysis::report(&dirs, &options)?;
            println!("{}", summary.headline);
            eprintln!(
                "{} runs in {} cells, reference `{}`; report in {}",
                summary.runs,
                summary.cells,
                summary.reference,
                summary.dir.join("report.md").display()
            );
            Ok(())
        }
        Command::MockServer(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(crate::llm::mock_server::run_cli(args))
        }
        Command::Validate { experiment } => {
            let exp = Experiment::load(&experiment)?;
            println!(
                "{}: ok ({} cells × {} seeds = {} runs of {} years)",
                experiment.display(),
                exp.plan.cells.len(),
                exp.file.seeds,
                exp.plan.runs.len(),
                exp.file.years
            );
            Ok(())
        }
        Command::Run {
            experiment,
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
        } => {
            let exp = Experiment::load(&experiment)?;
            let dir = exp.out_dir(&out);
            if resume && !dir.join(crate::record::RunFiles::MANIFEST).exists() {
                anyhow::bail!("--resume: {} holds no sweep to resume", dir.display());
            }
            let jobs =
                jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let options = RunOptions {
                out_root: out,
                jobs,
                events,
                force_new,
                cache_mode,
                cache_dir,
            };
            if dry_run {
                // Estimating renders prompts only: build the agents as for a replay, which
                // needs neither a server nor a key.
                let estimating = RunOptions {
                    cache_mode: CacheMode::Replay,
                    ..options.clone()
                };
                let builder = AgentBuilder::for_experiment(&exp, &dir, &estimating)?;
                let cells = experiment::estimate::estimate(&exp, &builder)?;
                println!(
                    "{}: {} runs of {} years (estimate: prompts measured by rendering them, 40 output tokens per call, no repairs)\n",
                    exp.file.name,
                    exp.plan.runs.len(),
                    exp.file.years
                );
                print!("{}", experiment::estimate::to_markdown(&cells));
                return Ok(());
            }
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            if !quiet {
                eprintln!(
                    "{}: {} runs ({} cells × {} seeds, {} years), {} at a time → {}",
                    exp.file.name,
                    exp.plan.runs.len(),
                    exp.plan.cells.len(),
                    exp.file.seeds,
                    exp.file.years,
                    jobs,
                    dir.display()
                );
            }
            let started = Instant::now();
            let outcome = runtime
                .block_on(experiment::run(&exp, &options))
                .with_context(|| format!("sweep {} failed", exp.file.name))?;
            if !quiet {
                if outcome.runs_skipped > 0 {
                    eprintln!(
                        "resumed: {} runs were already complete",
                        outcome.runs_skipped
                    );
                }
                println!("{}", outcome.summary.to_markdown());
                eprintln!(
                    "{} runs in {:.2} s; results in {}",
                    outcome.runs_played,
                    started.elapsed().as_secs_f64(),
                    outcome.dir.display()
                );
            }
            if !no_report {
                let summary = crate::analysis::report(
                    std::slice::from_ref(&outcome.dir),
                    &crate::analysis::ReportOptions::default(),
                )
                .context("the sweep finished, but its report failed")?;
                if !quiet {
                    eprintln!("report: {}", summary.dir.join("report.md").display());
                }
            }
            Ok(())
        }
    }
}
