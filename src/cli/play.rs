//! `fishbanks play`: one game (every generation, if the experiment has them) of one cell
//! and seed, with a person at each human seat through the seat server. The game is
//! recorded like any run (the manifest lists the whole plan, so games played apart merge
//! with `fishbanks merge`), then reported and told as a story on the facilitator's page.
//!
//! Nothing is lost: Ctrl-C or SIGTERM records the years played (status `stopped`) and
//! `play --resume` replays them from the cache (the people's answers included) with the
//! same seats and goes on.

use anyhow::Context;
use fishbanks::analysis::{self, story};
use fishbanks::engine::{Area, YearOutcome};
use fishbanks::experiment::{
    self, Experiment, Hooks, PeopleDesk, RunOptions, RunSpec, RunWatch, Seat, StopLevel,
};
use fishbanks::llm::CacheMode;
use fishbanks::record::{RunFiles, RunStatus};
use fishbanks::seat::{net, server, Classroom, Desk, Ending, Roster, SeaFacts, Secrets, TrueYear};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Where a played game keeps its seats' tokens (so `--resume` gives them back):
/// `play-seats-<first run id>.json`, one per game played into a directory.
const SEATS_FILE_PREFIX: &str = "play-seats-";

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
    /// Address of the seat server (loopback by default; `0.0.0.0:8080` for a classroom
    /// network; port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: String,
    /// Continue a game stopped by Ctrl-C or SIGTERM: the years played are replayed from
    /// its cache (people's answers included), the same seats keep their addresses.
    #[arg(long)]
    pub resume: bool,
    /// Also print each seat's own address (for handing out privately; the join page is
    /// the classroom's way in).
    #[arg(long)]
    pub seat_links: bool,
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

/// The runs of the game to play: every generation of `cell` with `seed`.
fn game_runs<'a>(
    exp: &'a Experiment,
    args: &PlayArgs,
) -> anyhow::Result<(String, u64, Vec<&'a RunSpec>)> {
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
    Ok((cell, seed, runs))
}

/// `(run id, status, years played)` of every run recorded in `dir`.
fn recorded(dir: &Path) -> Vec<(String, String, String)> {
    let Ok(mut reader) = csv::Reader::from_path(dir.join(RunFiles::RUNS)) else {
        return Vec::new();
    };
    let Ok(header) = reader.headers().cloned() else {
        return Vec::new();
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(id), Some(status), Some(years)) = (col("run_id"), col("status"), col("years_played"))
    else {
        return Vec::new();
    };
    reader
        .records()
        .flatten()
        .map(|r| {
            let get = |i: usize| r.get(i).unwrap_or("").to_string();
            (get(id), get(status), get(years))
        })
        .collect()
}

pub async fn play(args: PlayArgs) -> anyhow::Result<ExitCode> {
    let exp = Experiment::load(&args.experiment)?;
    let (cell, seed, runs) = game_runs(&exp, &args)?;
    let only: Vec<String> = runs.iter().map(|r| r.label.run_id.clone()).collect();
    if let Some(cache) = &args.replay {
        return replay(&exp, &args, cache, only).await;
    }
    let dir = exp.out_dir(&args.out);
    let before: Vec<_> = recorded(&dir)
        .into_iter()
        .filter(|(id, _, _)| only.contains(id))
        .collect();
    // This game was played here if a run of it is recorded or its cache was begun (a
    // game killed outright records nothing, but its answers are in the cache).
    let cache_dir = dir.join(RunFiles::CACHE_DIR);
    let begun = !before.is_empty()
        || only
            .iter()
            .any(|id| cache_dir.join(format!("{id}.jsonl")).exists());
    if args.resume {
        // The directory's plan names no run of this game: its experiment was another (the
        // file changed since the game was played: run ids hash the whole resolved game).
        let stale = fishbanks::record::Manifest::read(&dir)
            .ok()
            .filter(|m| !m.runs.iter().any(|r| only.contains(&r.run_id)));
        if let Some(old) = stale {
            anyhow::bail!(
                "--resume: {} holds a game of a different experiment (config {}, not this file's): the experiment changed since it was played; resume with the file it was played with, or give another --out",
                dir.display(),
                &old.config_sha256[..old.config_sha256.len().min(12)]
            );
        }
        if !begun {
            anyhow::bail!(
                "--resume: {} holds no game of cell `{cell}` with seed {seed} to resume",
                dir.display()
            );
        }
        if !before.is_empty() && before.iter().all(|(_, status, _)| status == "ok") {
            anyhow::bail!(
                "--resume: the game in {} is already over (runs.csv: ok); play it again with another --out",
                dir.display()
            );
        }
    } else if begun {
        let stopped = before
            .iter()
            .find(|(_, status, _)| status == RunStatus::Stopped.as_str());
        anyhow::bail!(
            "{} already holds this game (cell `{cell}`, seed {seed}{}); continue it with --resume, or give another --out",
            dir.display(),
            stopped.map_or(String::new(), |(_, _, years)| format!(
                ", stopped after {years} years"
            ))
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let secrets_path = dir.join(format!("{SEATS_FILE_PREFIX}{}.json", only[0]));
    let secrets: Option<Secrets> = if args.resume {
        match std::fs::read_to_string(&secrets_path) {
            Ok(text) => Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a seats file", secrets_path.display()))?,
            ),
            Err(_) => {
                eprintln!(
                    "note: {} is missing; the seats get new addresses",
                    secrets_path.display()
                );
                None
            }
        }
    } else {
        None
    };

    let humans: Vec<usize> = runs[0]
        .seats
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == Seat::Human)
        .map(|(i, _)| i)
        .collect();
    let roster = Roster {
        labels: runs[0].seats.iter().map(Seat::label).collect(),
    };
    let params = &exp.config.game;
    let capacity = [params.deep.max_stock, params.coast.max_stock];
    let sea = SeaFacts {
        capacity,
        most_productive: [Area::Deep, Area::Coast]
            .map(|a| (params.msy_density() * params.area(a).max_stock as f64).round() as i64),
    };
    let desk = Desk::new(
        roster,
        &humans,
        Duration::from_secs_f64(exp.config.human.timeout_s),
        sea,
        secrets,
        Some(secrets_path),
    );
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let bound = listener.local_addr()?;
    let addresses = net::reachable(bound);
    let join_urls: Vec<String> = addresses.iter().map(|a| net::http(*a)).collect();
    println!(
        "{}: cell {cell}, seed {seed}, {} run(s); a question waits {} s for its answer{}",
        exp.config.name,
        runs.len(),
        exp.config.human.timeout_s,
        if args.resume { "; resuming" } else { "" }
    );
    for url in &join_urls {
        println!("join: {url}/join/{}", desk.join_code());
    }
    if args.seat_links {
        for (team, token) in desk.tokens() {
            println!("team {}: {}/seat/{token}", team + 1, join_urls[0]);
        }
    }
    println!(
        "facilitator: {}/facilitator/{}",
        join_urls[0],
        desk.facilitator_token()
    );
    let room = Classroom {
        desk: desk.clone(),
        results: dir.clone(),
        join_urls,
    };
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(listener, room, async {
        let _ = stopped.await;
    }));

    // Ctrl-C or SIGTERM: the desk ends the open questions (the year under way is
    // dropped), the runner writes the run as `stopped`; a second one leaves at once.
    let (level_tx, level_rx) = tokio::sync::watch::channel(StopLevel::Run);
    let (signalled_tx, mut signalled) = tokio::sync::watch::channel(0u32);
    {
        let desk = desk.clone();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let mut count = 0;
            loop {
                super::next_signal(&mut term).await;
                count += 1;
                if count == 1 && desk.ending().is_none() {
                    eprintln!(
                        "\nstopping: the years played are recorded (Ctrl-C again to leave at once)"
                    );
                    desk.stop("the game was stopped (Ctrl-C or SIGTERM)");
                    let _ = level_tx.send(StopLevel::Finish);
                } else if count > 1 && desk.ending().is_none() {
                    std::process::exit(130);
                }
                let _ = signalled_tx.send(count);
            }
        });
    }
    let watch = {
        let desk = desk.clone();
        RunWatch(Arc::new(move |run_id: &str, o: &YearOutcome| {
            desk.year_played(TrueYear {
                run_id: run_id.to_string(),
                year: o.year,
                stock: o.stock,
                catch: o
                    .teams
                    .iter()
                    .map(|t| t.catch_deep + t.catch_coast)
                    .collect(),
                assets: o.teams.iter().map(|t| t.assets).collect(),
                ships: o.teams.iter().map(|t| t.ships).collect(),
                collapsed: o.collapsed_now,
            })
        }))
    };
    let options = RunOptions {
        jobs: 1,
        only: Some(only.clone()),
        people: Some(PeopleDesk(desk.clone())),
        watch: Some(watch),
        dir: Some(dir.clone()),
        // A resumed game replays what was answered (people's answers included) and asks
        // only what was not.
        cache_mode: if args.resume {
            CacheMode::ReplayOrLive
        } else {
            CacheMode::Record
        },
        ..RunOptions::new(&args.out)
    };
    let hooks = Hooks {
        stop: Some(level_rx),
        ..Hooks::default()
    };
    let outcome = experiment::run_with(&exp, &options, hooks)
        .await
        .with_context(|| format!("the game of {} failed", exp.config.name))?;

    let after = recorded(&dir);
    let stopped_run = after
        .iter()
        .filter(|(id, _, _)| only.contains(id))
        .find(|(_, status, _)| status == RunStatus::Stopped.as_str());
    if let Some((id, _, years)) = stopped_run {
        println!(
            "stopped: run {id} recorded with {years} years played (status `stopped`) in {}",
            dir.display()
        );
        println!(
            "continue it with: fishbanks play {} --out {} --resume{}",
            args.experiment.display(),
            args.out.display(),
            if args.bind == "127.0.0.1:0" {
                String::new()
            } else {
                format!(" --bind {}", args.bind)
            }
        );
        let _ = stop_server.send(());
        let _ = serving.await;
        return Ok(ExitCode::from(130));
    }

    // What the pages show once the game is over: each run's story, the report.
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
        let seen = *signalled.borrow_and_update();
        while *signalled.borrow() == seen {
            if signalled.changed().await.is_err() {
                break;
            }
        }
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

/// `--replay`: the game again from its cache, nobody at the desk. A cache of a stopped
/// game ends where it stopped: said, with exit code 3, never reported as success.
async fn replay(
    exp: &Experiment,
    args: &PlayArgs,
    cache: &Path,
    only: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let options = RunOptions {
        jobs: 1,
        only: Some(only),
        cache_mode: CacheMode::Replay,
        cache_dir: Some(cache.to_path_buf()),
        ..RunOptions::new(&args.out)
    };
    let outcome = experiment::run_with(exp, &options, Hooks::default())
        .await
        .with_context(|| format!("the replay of {} failed", exp.config.name))?;
    let (failed, invalid) = outcome.summary.not_ok();
    if failed > 0 {
        eprintln!(
            "the replay did not finish: {failed} run(s) failed (see {}/runs.csv). A cache of a game that was stopped ends where it stopped: `fishbanks play --resume` finishes the game.",
            outcome.dir.display()
        );
        return Ok(ExitCode::from(3));
    }
    if invalid > 0 {
        eprintln!("note: {invalid} run(s) are invalid, as they were when played (too many answers fell back)");
    }
    println!(
        "replayed {} run(s) into {}",
        outcome.runs_played,
        outcome.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
