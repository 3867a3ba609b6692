//! `fishbanks play`: the command line around [`fishbanks::play`] (which game, the seat
//! server, stop and resume, replay): it prints the addresses, turns Ctrl-C and SIGTERM
//! into a recorded stop, and maps the outcome to an exit code.

use anyhow::Context;
use fishbanks::experiment::Experiment;
use fishbanks::play::{self, Game, PlayOptions, Played, Session};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Start the game at once (unattended games, tests); by default no question is put
    /// up before the facilitator presses "Start the game".
    #[arg(long)]
    pub start_now: bool,
    /// Also print each seat's own address (for handing out privately; the join page is
    /// the classroom's way in).
    #[arg(long)]
    pub seat_links: bool,
    /// Serve HTTPS with this certificate chain (PEM; it must name the address students
    /// open). Needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A further name the server answers to (a DNS name of this machine); requests
    /// naming any other host are refused. Repeatable.
    #[arg(long = "host")]
    pub hosts: Vec<String>,
    /// Connections one client address may hold before showing a seat's or the
    /// facilitator's credential (default 128; raise it for a class behind one NAT
    /// address).
    #[arg(long)]
    pub per_address: Option<usize>,
    /// Replay a played game from its cache (`PLAYED/cache`) with nobody at the desk: no
    /// server, the same results byte for byte.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Stop the server when the game is over (default: keep the facilitator's page
    /// up until Ctrl-C).
    #[arg(long)]
    pub exit_when_done: bool,
}

pub async fn play(args: PlayArgs) -> anyhow::Result<ExitCode> {
    let exp = Experiment::load(&args.experiment)?;
    let game = Game::choose(&exp, args.cell.as_deref(), args.seed)?;
    if let Some(cache) = &args.replay {
        return replay(&exp, &game, cache, &args).await;
    }
    let options = PlayOptions {
        out: args.out.clone(),
        bind: args.bind.clone(),
        resume: args.resume,
        start_now: args.start_now,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        hosts: args.hosts.clone(),
        per_address: args.per_address,
    };
    let session = Session::open(&exp, &game, &options).await?;
    println!(
        "{}: cell {}, seed {}, {} run(s); a question waits {} s for its answer{}",
        exp.config.name,
        game.cell,
        game.seed,
        game.runs.len(),
        exp.config.human.timeout_s,
        if args.resume { "; resuming" } else { "" }
    );
    for url in &session.join_urls {
        println!("join: {url}/join/{}", session.desk.join_code());
    }
    if args.seat_links {
        for (team, url) in session.seat_urls() {
            println!("team {team}: {url}");
        }
    }
    println!("facilitator: {}", session.facilitator_url());
    if !args.start_now {
        println!(
            "the game starts when the facilitator presses \"Start the game\" (or give --start-now)"
        );
    }

    // Ctrl-C or SIGTERM: the desk ends the open questions (the year under way is
    // dropped), the runner writes the run as `stopped`; a second one leaves at once.
    // After the game, one ends the facilitator's page.
    let (signalled_tx, mut signalled) = tokio::sync::watch::channel(0u32);
    {
        let stopper = session.stopper();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let mut count = 0;
            let mut stopping = false;
            loop {
                super::next_signal(&mut term).await;
                count += 1;
                if stopping {
                    std::process::exit(130);
                }
                if stopper.stop() {
                    stopping = true;
                    eprintln!(
                        "\nstopping: the years played are recorded (Ctrl-C again to leave at once)"
                    );
                }
                let _ = signalled_tx.send(count);
            }
        });
    }
    let seen = *signalled.borrow_and_update();
    let played = session.play(&exp, &game, args.resume).await?;
    match played {
        Played::Stopped { run_id, years } => {
            println!(
                "stopped: run {run_id} recorded with {years} years played (status `stopped`) in {}",
                session.dir.display()
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
            session.close().await?;
            Ok(ExitCode::from(130))
        }
        Played::Over { failed, invalid } => {
            println!(
                "game over: results in {} (stories in {}/stories/)",
                session.dir.display(),
                session.dir.display()
            );
            if !args.exit_when_done {
                println!("the facilitator's page stays up; Ctrl-C to stop");
                while *signalled.borrow() == seen {
                    if signalled.changed().await.is_err() {
                        break;
                    }
                }
            }
            session.close().await?;
            if failed + invalid > 0 {
                eprintln!(
                    "WARNING: {failed} runs failed and {invalid} are invalid (too many answers fell back); see runs.csv"
                );
                return Ok(ExitCode::from(3));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--replay`: the game again from its cache, nobody at the desk. A cache of a stopped
/// game ends where it stopped: said, with exit code 3, never reported as success.
async fn replay(
    exp: &Experiment,
    game: &Game<'_>,
    cache: &std::path::Path,
    args: &PlayArgs,
) -> anyhow::Result<ExitCode> {
    let replayed = play::replay(exp, game, cache, &args.out)
        .await
        .with_context(|| format!("the replay of {}", exp.config.name))?;
    if replayed.failed > 0 {
        eprintln!(
            "the replay did not finish: {} run(s) failed (see {}/runs.csv). A cache of a game that was stopped ends where it stopped: `fishbanks play --resume` finishes the game.",
            replayed.failed,
            replayed.dir.display()
        );
        return Ok(ExitCode::from(3));
    }
    if replayed.invalid > 0 {
        eprintln!(
            "note: {} run(s) are invalid, as they were when played (too many answers fell back)",
            replayed.invalid
        );
    }
    println!(
        "replayed {} run(s) into {}",
        replayed.runs,
        replayed.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
