//! `fishbanks play` as a library: one game (every generation, if the experiment has
//! them) of one cell and seed, with a person at each human seat through the seat server.
//! The game is recorded like any run (the manifest lists the whole plan, so games played
//! apart merge with `fishbanks merge`), then reported and told as a story on the
//! facilitator's screen.
//!
//! The binary parses arguments, prints the addresses and turns Ctrl-C into
//! [`Stopper::stop`]; everything else is here:
//!
//! - [`Game::choose`]: the runs of the game to play (a cell and a seed);
//! - [`Game::check_held`]: whether the results directory already holds this game
//!   (recorded, or only begun in its cache by a killed process), so that a game is never
//!   started over by mistake and `--resume` continues only what it can;
//! - [`Session::open`]: the desk, its secrets (kept beside the results so `--resume`
//!   gives every browser its seat back), the listener and the seat server;
//! - [`Session::play`]: the game through the runner; a stop records the years played
//!   (status `stopped`); at the end the stories and the report for the debrief;
//! - [`replay`]: the game again from its cache, nobody at the desk;
//! - [`handout`]: the rules in plain words, for the seat page's "How to play".

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::analysis::{self, story};
use crate::engine::{Area, CollapseRule, GameParams, YearOutcome};
use crate::experiment::{
    self, Experiment, Hooks, PeopleDesk, RunOptions, RunSpec, RunWatch, Seat, StopLevel,
};
use crate::llm::CacheMode;
use crate::record::{RunFiles, RunStatus};
use crate::seat::accept::Limits;
use crate::seat::{
    net, server, Classroom, Desk, DeskSetup, Ending, Handout, Roster, SeaFacts, Secrets, TrueYear,
};

/// Where a played game keeps its seats' tokens (so `--resume` gives them back):
/// `play-seats-<first run id>.json`, one per game played into a directory.
pub const SEATS_FILE_PREFIX: &str = "play-seats-";

/// Why a game cannot be played.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error("{0} has no human seat: give a population an agent with kind = \"human\"")]
    NoHumanSeat(String),
    #[error("no game of cell `{cell}` with seed {seed} has a human seat (cells with one: {cells}; seeds {first}–{last})")]
    NoSuchGame {
        cell: String,
        seed: u64,
        cells: String,
        first: u64,
        last: u64,
    },
    #[error("{dir} already holds this game (cell `{cell}`, seed {seed}{stopped}); continue it with --resume, or give another --out")]
    Held {
        dir: String,
        cell: String,
        seed: u64,
        stopped: String,
    },
    #[error("--resume: {dir} holds a game of a different experiment (config {config}, not this file's): the experiment changed since it was played; resume with the file it was played with, or give another --out")]
    Stale { dir: String, config: String },
    #[error("--resume: {dir} holds no game of cell `{cell}` with seed {seed} to resume")]
    NothingToResume {
        dir: String,
        cell: String,
        seed: u64,
    },
    #[error("--resume: the game in {0} is already over (runs.csv: ok); play it again with another --out")]
    Over(String),
    #[error("{path} is not a seats file: {message}")]
    Seats { path: String, message: String },
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::seat::tls::TlsError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("the game of {name} failed: {source}")]
    Runner {
        name: String,
        source: crate::experiment::RunnerError,
    },
    #[error("the story of run {run}: {source}")]
    Story {
        run: String,
        source: crate::analysis::AnalysisError,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> PlayError {
    let what = what.into();
    move |source| PlayError::Io { what, source }
}

/// How to serve a game (the command line's options).
#[derive(Debug, Clone)]
pub struct PlayOptions {
    /// Results go to `<out>/<experiment name>/`.
    pub out: PathBuf,
    /// The address to listen on (`0.0.0.0:8080` for a classroom network).
    pub bind: String,
    /// Continue a stopped game with the same seats.
    pub resume: bool,
    /// Start the game at once (else the facilitator's "Start the game").
    pub start_now: bool,
    /// HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Further host names the server answers to (a DNS name of the machine).
    pub hosts: Vec<String>,
    /// Connections one client address may hold without a credential.
    pub per_address: Option<usize>,
}

/// The runs of one game: every generation of a cell with a seed.
pub struct Game<'a> {
    pub cell: String,
    pub seed: u64,
    pub runs: Vec<&'a RunSpec>,
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

impl<'a> Game<'a> {
    /// The game of `cell` (default: the first with a human seat) and `seed` (default: the
    /// experiment's first).
    pub fn choose(
        exp: &'a Experiment,
        cell: Option<&str>,
        seed: Option<u64>,
    ) -> Result<Game<'a>, PlayError> {
        let with_people: Vec<&RunSpec> = exp.plan.runs.iter().filter(|r| r.has_people()).collect();
        let Some(first) = with_people.first() else {
            return Err(PlayError::NoHumanSeat(exp.path.display().to_string()));
        };
        let cell = cell.map_or_else(|| base_cell(&first.label.cell), str::to_string);
        let seed = seed.unwrap_or(exp.config.first_seed);
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
            return Err(PlayError::NoSuchGame {
                cell,
                seed,
                cells: cells.join(", "),
                first: exp.config.first_seed,
                last: exp.config.first_seed + u64::from(exp.config.seeds) - 1,
            });
        }
        Ok(Game { cell, seed, runs })
    }

    /// The ids of its runs.
    pub fn run_ids(&self) -> Vec<String> {
        self.runs.iter().map(|r| r.label.run_id.clone()).collect()
    }

    /// Refuses to play a game `dir` already holds (recorded, or only begun in its cache
    /// when the process was killed outright) unless `resume`; with `resume`, refuses a
    /// directory of another experiment, one without this game and a finished game.
    pub fn check_held(&self, dir: &Path, resume: bool) -> Result<(), PlayError> {
        let only = self.run_ids();
        let before: Vec<_> = recorded(dir)
            .into_iter()
            .filter(|(id, _, _)| only.contains(id))
            .collect();
        let cache_dir = dir.join(RunFiles::CACHE_DIR);
        let begun = !before.is_empty()
            || only
                .iter()
                .any(|id| cache_dir.join(format!("{id}.jsonl")).exists());
        let shown = dir.display().to_string();
        if resume {
            // The directory's plan names no run of this game: its experiment was another
            // (the file changed since the game was played: run ids hash the whole game).
            let stale = crate::record::Manifest::read(dir)
                .ok()
                .filter(|m| !m.runs.iter().any(|r| only.contains(&r.run_id)));
            if let Some(old) = stale {
                return Err(PlayError::Stale {
                    dir: shown,
                    config: old.config_sha256[..old.config_sha256.len().min(12)].to_string(),
                });
            }
            if !begun {
                return Err(PlayError::NothingToResume {
                    dir: shown,
                    cell: self.cell.clone(),
                    seed: self.seed,
                });
            }
            if !before.is_empty() && before.iter().all(|(_, status, _)| status == "ok") {
                return Err(PlayError::Over(shown));
            }
        } else if begun {
            let stopped = before
                .iter()
                .find(|(_, status, _)| status == RunStatus::Stopped.as_str());
            return Err(PlayError::Held {
                dir: shown,
                cell: self.cell.clone(),
                seed: self.seed,
                stopped: stopped.map_or(String::new(), |(_, _, years)| {
                    format!(", stopped after {years} years")
                }),
            });
        }
        Ok(())
    }
}

/// `3000` → `3,000`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The rules of the game in plain words, from its parameters: what a teacher would
/// otherwise hand out on paper.
pub fn handout(params: &GameParams, years: u32, teams: usize) -> Handout {
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    let fish = thousands;
    // The most a ship catches in an area, and from how full the area gives it.
    let best_catch = |area: Area| {
        let table = &params.area(area).catch_table;
        let best = table.iter().copied().fold(0.0, f64::max);
        let at = table.iter().position(|v| *v >= best).unwrap_or(0);
        (best, at as f64 / (table.len().max(2) - 1) as f64)
    };
    let (deep_best, deep_full) = best_catch(Area::Deep);
    let (coast_best, coast_full) = best_catch(Area::Coast);
    let regen_best = params.regen_table.iter().copied().fold(0.0, f64::max);
    let regrowth = |area: Area| (params.area(area).regen_scale * regen_best).floor() as i64;
    let order = match params.order_limit {
        crate::engine::OrderLimit::Round => "half your fleet, rounded",
        crate::engine::OrderLimit::Ceil => "half your fleet, rounded up",
    };
    let mut lines = vec![
        format!(
            "The game lasts {years} years. {teams} teams fish one shared sea: the deep sea (room for {} fish) and the coast (room for {}).",
            fish(params.deep.max_stock),
            fish(params.coast.max_stock)
        ),
        format!(
            "Each year you decide how many ships to order (${} each, paid at once, sailing from next year; at most {order}) and where your ships fish: the deep sea, the coast, or the harbor, where they catch nothing.",
            params.ship_price
        ),
        format!(
            "A ship catches more where there are more fish: up to {} fish a year in the deep sea and {} at the coast while the area is at least {} full, fewer as it empties. Each fish sells for ${}.",
            crate::question::fmt_num(deep_best),
            crate::question::fmt_num(coast_best),
            pct(deep_full.max(coast_full)),
            params.fish_price
        ),
        format!(
            "A ship costs ${} a year in the deep sea, ${} at the coast and ${} in the harbor.",
            params.deep.cost, params.coast.cost, params.harbor_cost
        ),
        format!(
            "Fish grow back every year, fastest when an area is about {} full (up to {} fish a year in the deep sea, {} at the coast); a full sea hardly grows, and an empty one not at all.",
            pct(params.msy_density()),
            fish(regrowth(Area::Deep)),
            fish(regrowth(Area::Coast))
        ),
        format!(
            "If after the catch {} below {} of its room, the fishery has collapsed{}.",
            match params.collapse_rule {
                CollapseRule::AnyArea => "either area is",
                CollapseRule::Total => "the whole sea is",
            },
            pct(params.collapse_density),
            if params.stop_on_collapse {
                " and the game ends"
            } else {
                ": the game goes on, with few fish to catch"
            }
        ),
        format!(
            "Your bank earns {} a year on money you have and costs {} on money you owe.",
            pct(params.credit_rate),
            pct(params.debit_rate)
        ),
        "Your score is your assets: your bank plus your ships at what a ship is worth that year.".to_string(),
        if params.reveal_stock {
            "The game tells you how full each area is, rounded to a percent.".to_string()
        } else {
            "The game does not tell you how many fish are left: your catch is the clue.".to_string()
        },
    ];
    if params.weather {
        lines.push("The weather changes every catch a little from year to year.".to_string());
    }
    Handout { lines }
}

/// A game being played: its desk, the seat server and where its results go.
pub struct Session {
    pub desk: Arc<Desk>,
    /// The addresses students can reach (`http://host:port`); the first is the one to
    /// hand out.
    pub join_urls: Vec<String>,
    /// The results directory.
    pub dir: PathBuf,
    /// Where results go (`--out`).
    out: PathBuf,
    level: tokio::sync::watch::Sender<StopLevel>,
    level_rx: tokio::sync::watch::Receiver<StopLevel>,
    server_stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Ends a game from outside (Ctrl-C, SIGTERM): every open question ends, the year under
/// way is dropped, and the run is recorded `stopped`.
#[derive(Clone)]
pub struct Stopper {
    desk: Arc<Desk>,
    level: tokio::sync::watch::Sender<StopLevel>,
}

impl Stopper {
    /// Stops the game; `false` when it was over already (nothing to stop).
    pub fn stop(&self) -> bool {
        if self.desk.ending().is_some() {
            return false;
        }
        self.desk.stop("the game was stopped (Ctrl-C or SIGTERM)");
        let _ = self.level.send(StopLevel::Finish);
        true
    }
}

/// How a game ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Played {
    /// Stopped: run `run_id` is recorded with `years` played (status `stopped`).
    Stopped { run_id: String, years: String },
    /// Played to its end: `failed` and `invalid` runs among its runs.
    Over { failed: usize, invalid: usize },
}

impl Session {
    /// Prepares `game`: the desk (with the seats of a resumed game), the listener on
    /// `opts.bind` and the seat server, which serves from now on.
    pub async fn open(
        exp: &Experiment,
        game: &Game<'_>,
        opts: &PlayOptions,
    ) -> Result<Session, PlayError> {
        let dir = exp.out_dir(&opts.out);
        game.check_held(&dir, opts.resume)?;
        std::fs::create_dir_all(&dir).map_err(io(format!("cannot create {}", dir.display())))?;
        let secrets_path = dir.join(format!(
            "{SEATS_FILE_PREFIX}{}.json",
            game.runs[0].label.run_id
        ));
        let secrets: Option<Secrets> = if opts.resume {
            match std::fs::read_to_string(&secrets_path) {
                Ok(text) => Some(serde_json::from_str(&text).map_err(|e| PlayError::Seats {
                    path: secrets_path.display().to_string(),
                    message: e.to_string(),
                })?),
                Err(_) => {
                    tracing::warn!(
                        "{} is missing; the seats get new addresses",
                        secrets_path.display()
                    );
                    None
                }
            }
        } else {
            None
        };
        let tls = match &opts.tls {
            Some((cert, key)) => Some(crate::seat::tls::acceptor(cert, key)?),
            None => None,
        };
        let first = game.runs[0];
        let humans: Vec<usize> = first
            .seats
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == Seat::Human)
            .map(|(i, _)| i)
            .collect();
        let params = &exp.config.game;
        let sea = SeaFacts {
            capacity: [params.deep.max_stock, params.coast.max_stock],
            most_productive: [Area::Deep, Area::Coast]
                .map(|a| (params.msy_density() * params.area(a).max_stock as f64).round() as i64),
        };
        let human = &exp.config.human;
        let desk = Desk::new(DeskSetup {
            roster: Roster {
                labels: first.seats.iter().map(Seat::label).collect(),
            },
            humans,
            timeout: Duration::from_secs_f64(human.timeout_s),
            max_repairs: human.max_repairs,
            fallback: human.fallback,
            sea,
            secrets,
            secrets_file: Some(secrets_path),
        });
        if opts.start_now {
            desk.start();
        }
        let listener = tokio::net::TcpListener::bind(&opts.bind)
            .await
            .map_err(|source| PlayError::Bind {
                bind: opts.bind.clone(),
                source,
            })?;
        let bound = listener
            .local_addr()
            .map_err(io(format!("the address of {}", opts.bind)))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let join_urls: Vec<String> = net::reachable(bound)
            .into_iter()
            .map(|a| format!("{scheme}://{a}"))
            .collect();
        let mut room = Classroom::new(
            desk.clone(),
            dir.clone(),
            join_urls.clone(),
            &opts.hosts,
            tls.is_some(),
            handout(params, exp.config.years, first.seats.len()),
        );
        if let Some(n) = opts.per_address {
            room.limits = Limits {
                per_address: n.max(1),
                ..room.limits
            };
        }
        let (server_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server::serve(listener, room, tls, async {
            let _ = stopped.await;
        }));
        let (level, level_rx) = tokio::sync::watch::channel(StopLevel::Run);
        Ok(Session {
            desk,
            join_urls,
            dir,
            out: opts.out.clone(),
            level,
            level_rx,
            server_stop,
            serving,
        })
    }

    /// The join address students open (on the first reachable address).
    pub fn join_url(&self) -> String {
        format!("{}/join/{}", self.join_urls[0], self.desk.join_code())
    }

    /// The facilitator's link: it sets the facilitator's cookie and leads to the screen.
    pub fn facilitator_url(&self) -> String {
        format!(
            "{}/facilitator/{}",
            self.join_urls[0],
            self.desk.facilitator_token()
        )
    }

    /// Each person's seat address `(team from 1, address)`, for handing out privately.
    pub fn seat_urls(&self) -> Vec<(usize, String)> {
        self.desk
            .tokens()
            .into_iter()
            .map(|(team, token)| (team + 1, format!("{}/seat/{token}", self.join_urls[0])))
            .collect()
    }

    /// What stops the game from outside.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            desk: self.desk.clone(),
            level: self.level.clone(),
        }
    }

    /// Plays the game to its end or its stop; at its end the stories and the report are
    /// written and put on the facilitator's screen. The server keeps serving until
    /// [`Session::close`].
    pub async fn play(
        &self,
        exp: &Experiment,
        game: &Game<'_>,
        resume: bool,
    ) -> Result<Played, PlayError> {
        let only = game.run_ids();
        let watch = {
            let desk = self.desk.clone();
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
            people: Some(PeopleDesk {
                model: self.desk.clone(),
                watch: Some(self.desk.clone()),
            }),
            watch: Some(watch),
            dir: Some(self.dir.clone()),
            // A resumed game replays what was answered (people's answers included) and
            // asks only what was not.
            cache_mode: if resume {
                CacheMode::ReplayOrLive
            } else {
                CacheMode::Record
            },
            ..RunOptions::new(&self.out)
        };
        let hooks = Hooks {
            stop: Some(self.level_rx.clone()),
            ..Hooks::default()
        };
        let outcome = experiment::run_with(exp, &options, hooks)
            .await
            .map_err(|source| PlayError::Runner {
                name: exp.config.name.clone(),
                source,
            })?;
        let stopped = recorded(&self.dir)
            .into_iter()
            .filter(|(id, _, _)| only.contains(id))
            .find(|(_, status, _)| status == RunStatus::Stopped.as_str());
        if let Some((run_id, _, years)) = stopped {
            return Ok(Played::Stopped { run_id, years });
        }
        // What the pages show once the game is over: each run's story, the report.
        let report = match analysis::report(std::slice::from_ref(&self.dir), &Default::default()) {
            Ok(_) => std::fs::read_to_string(self.dir.join("report.html")).ok(),
            Err(e) => {
                tracing::warn!("no report: {e}");
                None
            }
        };
        let stories_dir = self.dir.join("stories");
        std::fs::create_dir_all(&stories_dir)
            .map_err(io(format!("cannot create {}", stories_dir.display())))?;
        let mut stories = Vec::new();
        for run in &game.runs {
            let id = &run.label.run_id;
            let told = story::read(&self.dir, id).map_err(|source| PlayError::Story {
                run: id.clone(),
                source,
            })?;
            let page = story::html(&told).map_err(|source| PlayError::Story {
                run: id.clone(),
                source,
            })?;
            let path = stories_dir.join(format!("{id}.html"));
            std::fs::write(&path, &page).map_err(io(format!("cannot write {}", path.display())))?;
            stories.push((id.clone(), page));
        }
        self.desk.finish(Ending {
            stories,
            report,
            results: self.dir.display().to_string(),
        });
        let (failed, invalid) = outcome.summary.not_ok();
        Ok(Played::Over { failed, invalid })
    }

    /// Stops the seat server (requests under way get a moment to finish).
    pub async fn close(self) -> Result<(), PlayError> {
        let _ = self.server_stop.send(());
        match self.serving.await {
            Ok(result) => result.map_err(io("the seat server")),
            Err(e) => Err(PlayError::Io {
                what: "the seat server".into(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

/// How a replay ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub dir: PathBuf,
    pub runs: usize,
    /// Runs that did not finish: the cache of a stopped game ends where it stopped.
    pub failed: usize,
    pub invalid: usize,
}

/// The game again from its cache (`PLAYED/cache`), nobody at the desk: no server, the
/// same results byte for byte.
pub async fn replay(
    exp: &Experiment,
    game: &Game<'_>,
    cache: &Path,
    out: &Path,
) -> Result<Replayed, PlayError> {
    let options = RunOptions {
        jobs: 1,
        only: Some(game.run_ids()),
        cache_mode: CacheMode::Replay,
        cache_dir: Some(cache.to_path_buf()),
        ..RunOptions::new(out)
    };
    let outcome = experiment::run_with(exp, &options, Hooks::default())
        .await
        .map_err(|source| PlayError::Runner {
            name: exp.config.name.clone(),
            source,
        })?;
    let (failed, invalid) = outcome.summary.not_ok();
    Ok(Replayed {
        dir: outcome.dir,
        runs: outcome.runs_played,
        failed,
        invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handout_states_the_rules_of_the_parameters_in_words() {
        let params = GameParams::default();
        let text = handout(&params, 8, 6).lines.join("\n");
        for fact in [
            "The game lasts 8 years. 6 teams",
            "room for 3,000 fish",
            "$300 each",
            "up to 25 fish a year in the deep sea and 15 at the coast",
            "at least 50% full",
            "fastest when an area is about 60% full",
            "550 fish a year in the deep sea, 330 at the coast",
            "below 5% of its room",
            "5% a year",
            "15% on money you owe",
        ] {
            assert!(text.contains(fact), "{fact}\n{text}");
        }
        assert!(!text.contains('`') && !text.contains('_'), "{text}");
        let hidden = GameParams {
            reveal_stock: false,
            stop_on_collapse: true,
            ..GameParams::default()
        };
        let text = handout(&hidden, 8, 6).lines.join("\n");
        assert!(text.contains("does not tell you how many fish") && text.contains("the game ends"));
    }

    #[test]
    fn a_later_generation_continues_its_cell() {
        assert_eq!(base_cell("quota@g2/class"), "quota/class");
        assert_eq!(base_cell("none/p"), "none/p");
    }
}
