//! `fishbanks play`: one game (every generation, if the experiment has them) of one cell
//! and seed, with a person at each human seat through the seat server. The game is
//! recorded like any run (the manifest lists the whole plan, so games played apart merge
//! with `fishbanks merge`), then reported and told as a story on the facilitator's page.

use anyhow::Context;
use fishbanks::analysis::{self, story};
use fishbanks::experiment::{self, Experiment, Hooks, PeopleDesk, RunOptions, RunSpec, Seat};
use fishbanks::seat::{server, Desk, Ending};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Command-line options of `fishbanks play`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlayArgs {
    /// The experiment file (TOML) with at least one `kind = "human"` seat.
    pub experiment: PathBuf,
    /// The cell to play (`protocol/population`; default: the first with a human seat).
    #[arg(long)]
    pub cell: Option<String>,
    /// The replicate's seed (default: the experiment's first).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results go to `<out>/<experiment name>/`.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Address of the seat server (loopback by default; port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: String,
    /// Replay a played game from its cache (`PLAYED/cache`) with nobody at the desk: no
    /// server, the same results byte for byte.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Stop the server when the game is over (default: keep the facilitator's page
    /// up until Ctrl-C).
    #[arg(long)]
    pub exit_when_done: bool,
}

/// `p@g2/pop` → `p/pop`: the cell a later generation continues.
fn base_cell(cell: &str) -> String {
    match cell.split_once('/') {
        Some((protocol, population)) => {
            let protocol = protocol.split('@').next().unwrap_or(protocol);
            format!("{protocol}/{population}")
        }
        None => cell.to_string(),
    }
}

pub async fn play(args: PlayArgs) -> anyhow::Result<ExitCode> {
    let exp = Experiment::load(&args.experiment)?;
    let with_people: Vec<&RunSpec> = exp.plan.runs.iter().filter(|r| r.has_people()).collect();
    let Some(first) = with_people.first() else {
        anyhow::bail!(
            "{} has no human seat: give a population an agent with kind = \"human\"",
            args.experiment.display()
        );
    };
    let cell = args
        .cell
        .clone()
        .unwrap_or_else(|| base_cell(&first.label.cell));
    let seed = args.seed.unwrap_or(exp.config.first_seed);
    let runs: Vec<&RunSpec> = with_people
        .iter()
        .copied()
        .filter(|r| base_cell(&r.label.cell) == cell && r.label.seed == seed)
        .collect();
    if runs.is_empty() {
        let mut cells: Vec<String> = with_people
            .iter()
            .map(|r| base_cell(&r.label.cell))
            .collect();
        cells.dedup();
        anyhow::bail!(
            "no game of cell `{cell}` with seed {seed} has a human seat (cells with one: {}; seeds {}–{})",
            cells.join(", "),
            exp.config.first_seed,
            exp.config.first_seed + u64::from(exp.config.seeds) - 1
        );
    }
    let only: Vec<String> = runs.iter().map(|r| r.label.run_id.clone()).collect();
    if let Some(cache) = &args.replay {
        let options = RunOptions {
            jobs: 1,
            only: Some(only),
            cache_mode: fishbanks::llm::CacheMode::Replay,
            cache_dir: Some(cache.clone()),
            ..RunOptions::new(&args.out)
        };
        let outcome = experiment::run_with(&exp, &options, Hooks::default())
            .await
            .with_context(|| format!("the replay of {} failed", exp.config.name))?;
        println!(
            "replayed {} run(s) into {}",
            outcome.runs_played,
            outcome.dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let humans: Vec<usize> = runs[0]
        .seats
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == Seat::Human)
        .map(|(i, _)| i)
        .collect();
    let desk = Desk::new(
        exp.config.agents,
        &humans,
        Duration::from_secs_f64(exp.config.human.timeout_s),
    );
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    println!(
        "{}: cell {cell}, seed {seed}, {} run(s); a question waits {} s for its answer",
        exp.config.name,
        runs.len(),
        exp.config.human.timeout_s
    );
    for (team, token) in desk.tokens() {
        println!("team {}: http://{addr}/seat/{token}", team + 1);
    }
    println!(
        "facilitator: http://{addr}/facilitator/{}",
        desk.facilitator_token()
    );
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(listener, desk.clone(), async {
        let _ = stopped.await;
    }));

    let options = RunOptions {
        jobs: 1,
        only: Some(only),
        people: Some(PeopleDesk(desk.clone())),
        ..RunOptions::new(&args.out)
    };
    let outcome = experiment::run_with(&exp, &options, Hooks::default())
        .await
        .with_context(|| format!("the game of {} failed", exp.config.name))?;
    let dir = outcome.dir.clone();

    // What the facilitator shows once the game is over: each run's story, the report.
    let report = analysis::report(std::slice::from_ref(&dir), &Default::default())
        .map(|_| std::fs::read_to_string(dir.join("report.html")).ok())
        .unwrap_or_else(|e| {
            eprintln!("no report: {e}");
            None
        });
    let mut stories = Vec::new();
    std::fs::create_dir_all(dir.join("stories"))?;
    for run in &runs {
        let id = &run.label.run_id;
        let told = story::read(&dir, id)?;
        let page = story::html(&told)?;
        std::fs::write(dir.join("stories").join(format!("{id}.html")), &page)?;
        stories.push((id.clone(), page));
    }
    desk.finish(Ending {
        stories,
        report,
        results: dir.display().to_string(),
    });
    println!(
        "game over: results in {} (stories in {}/stories/)",
        dir.display(),
        dir.display()
    );
    if !args.exit_when_done {
        println!("the facilitator's page stays up; Ctrl-C to stop");
        let _ = tokio::signal::ctrl_c().await;
    }
    let _ = stop_server.send(());
    serving.await??;
    let (failed, invalid) = outcome.summary.not_ok();
    if failed + invalid > 0 {
        eprintln!(
            "WARNING: {failed} runs failed and {invalid} are invalid (too many answers fell back); see runs.csv"
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
