//! The leaderboard: every candidate's games read back from the results directories of one
//! or more ratings of the same battery, each game paired with the reference player's game
//! of the same scenario, protocol and seed, and the paired differences summarised with the
//! analysis's statistics. Ratings made apart join into the same numbers as one rating of
//! all their candidates: the reference games are the same runs (their ids do not depend
//! on the rating), every interval's resamples are drawn from a seed of the battery, the
//! candidate, the scenario, the protocol and the measure, and the Holm family across
//! candidates is formed only once they are joined.

use super::battery::{self, Battery, REFERENCE};
use crate::analysis::load::rows;
use crate::analysis::stats::{self, seed_of, Test};
use crate::analysis::AnalysisError;
use crate::record::{AgentRow, Manifest, RunFiles, RunRow};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Bootstrap resamples of every interval.
pub const RESAMPLES: usize = 2000;

/// One game of a rating, as recorded.
#[derive(Debug, Clone)]
pub struct Game {
    pub scenario: String,
    pub protocol: String,
    /// A candidate's name, or [`REFERENCE`].
    pub player: String,
    pub seed: u64,
    /// Status `ok` (not invalid, failed, cut by a budget or stopped).
    pub ok: bool,
    pub survival_years: f64,
    pub collapsed: bool,
    /// The final assets of the player's seat (team 1); in self-play, the mean of the six
    /// teams'.
    pub own_assets: Option<f64>,
    /// The mean final assets of the other five teams (none in self-play).
    pub others_assets: Option<f64>,
    pub answers: u64,
    pub valid_first_try: u64,
    pub fallbacks: u64,
}

impl Game {
    /// Whether the game shows the player's own play: valid, and no answer of its was
    /// replaced by a fallback. Only such games are scored.
    pub fn scored(&self) -> bool {
        self.ok && self.fallbacks == 0
    }
}

/// What the leaderboard knows of a candidate beyond its games: its seat in words, from
/// the manifest of the rating that played it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateInfo {
    pub name: String,
    /// Its seat as resolved (a population entry's JSON).
    pub seat: serde_json::Value,
    /// What its provider is (a server's model and settings, or a mock's policy), if it
    /// has one.
    pub provider: Option<String>,
    /// Its persona's text, if it has one.
    pub persona: Option<String>,
}

/// Every game of the ratings read, and who played them.
#[derive(Debug, Clone)]
pub struct Ratings {
    pub battery: &'static Battery,
    pub years: u32,
    /// The seeds of every cell, first to last.
    pub seeds: (u64, u64),
    pub candidates: Vec<CandidateInfo>,
    pub games: Vec<Game>,
}

/// Why the ratings cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LeaderboardError {
    #[error("no results directory given")]
    NoInput,
    #[error("{0} holds no rating: its manifest has no battery (its results were made by `fishbanks run`, not `fishbanks rate`)")]
    NotARating(PathBuf),
    #[error("{dir} rates against battery `{other}`, {first} against `{battery}`: ratings of different batteries are not compared")]
    MixedBatteries {
        first: PathBuf,
        battery: String,
        dir: PathBuf,
        other: String,
    },
    #[error("battery `{0}` is not one this harness knows")]
    UnknownBattery(String),
    #[error(
        "{0} and {1} play {2} years or seeds apart: the same battery must play the same games"
    )]
    MixedDesign(PathBuf, PathBuf, String),
    #[error("candidate `{name}` is a different agent in {first} and in {dir}: rename one of them")]
    MixedCandidate {
        name: String,
        first: PathBuf,
        dir: PathBuf,
    },
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
}

/// Read the games of every rating in `dirs` (each a results directory of `fishbanks
/// rate`, or a merge of its shards).
pub fn read(dirs: &[PathBuf]) -> Result<Ratings, LeaderboardError> {
    let first = dirs.first().ok_or(LeaderboardError::NoInput)?;
    let mut battery: Option<(&'static Battery, String, u32, (u64, u64))> = None;
    let mut candidates: Vec<(CandidateInfo, PathBuf)> = Vec::new();
    let mut games: BTreeMap<String, Game> = BTreeMap::new();
    for dir in dirs {
        let manifest = Manifest::read(dir)?;
        let Some(info) = manifest.rating.clone() else {
            return Err(LeaderboardError::NotARating(dir.clone()));
        };
        let seeds = (
            manifest.first_seed,
            manifest.first_seed + u64::from(manifest.seeds.max(1)) - 1,
        );
        match &battery {
            None => {
                let b = battery::battery(&info.battery)
                    .ok_or_else(|| LeaderboardError::UnknownBattery(info.battery.clone()))?;
                battery = Some((b, info.battery.clone(), manifest.years, seeds));
            }
            Some((_, version, _, _)) if *version != info.battery => {
                return Err(LeaderboardError::MixedBatteries {
                    first: first.clone(),
                    battery: version.clone(),
                    dir: dir.clone(),
                    other: info.battery.clone(),
                })
            }
            Some((_, _, years, s)) if *years != manifest.years || *s != seeds => {
                return Err(LeaderboardError::MixedDesign(
                    first.clone(),
                    dir.clone(),
                    format!(
                        "({} years, seeds {}–{} against {} years, seeds {}–{})",
                        years, s.0, s.1, manifest.years, seeds.0, seeds.1
                    ),
                ))
            }
            Some(_) => {}
        }
        for name in &info.candidates {
            let candidate = candidate_info(&manifest, name);
            match candidates.iter().find(|(c, _)| c.name == *name) {
                Some((c, from)) if c.seat != candidate.seat => {
                    return Err(LeaderboardError::MixedCandidate {
                        name: name.clone(),
                        first: from.clone(),
                        dir: dir.clone(),
                    })
                }
                Some(_) => {}
                None => candidates.push((candidate, dir.clone())),
            }
        }
        read_games(dir, &mut games)?;
    }
    let Some((battery, _, years, seeds)) = battery else {
        return Err(LeaderboardError::NoInput);
    };
    let mut candidates: Vec<CandidateInfo> = candidates.into_iter().map(|(c, _)| c).collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Ratings {
        battery,
        years,
        seeds,
        candidates,
        games: games.into_values().collect(),
    })
}

/// A candidate's seat, provider and persona as the manifest of its rating records them.
fn candidate_info(manifest: &Manifest, name: &str) -> CandidateInfo {
    let seat = manifest
        .populations
        .iter()
        .find(|(p, _)| battery::split_population(p).is_some_and(|(_, who)| who == name))
        .and_then(|(_, seats)| seats.first().cloned())
        .unwrap_or(serde_json::Value::Null);
    let provider = seat["provider"].as_str().map(|p| {
        manifest
            .descriptions
            .providers
            .get(p)
            .cloned()
            .unwrap_or_else(|| {
                let config = &manifest.config["providers"][p];
                format!(
                    "model `{}` at {}",
                    config["model"].as_str().unwrap_or("?"),
                    config["backend"]["base_url"].as_str().unwrap_or("?")
                )
            })
    });
    let persona = seat["persona"]
        .as_str()
        .and_then(|p| manifest.descriptions.personas.get(p).cloned());
    CandidateInfo {
        name: name.to_string(),
        seat,
        provider,
        persona,
    }
}

/// The games of one directory, added to `games` by run id (a reference game that two
/// ratings both played is one game).
fn read_games(dir: &Path, games: &mut BTreeMap<String, Game>) -> Result<(), LeaderboardError> {
    let mut fresh: HashMap<String, Game> = HashMap::new();
    for row in rows::<RunRow>(&dir.join(RunFiles::RUNS))? {
        let row = row?;
        if games.contains_key(&row.run_id) {
            continue;
        }
        let Some((scenario, player)) = battery::split_population(&row.population) else {
            continue;
        };
        fresh.insert(
            row.run_id.clone(),
            Game {
                scenario: scenario.to_string(),
                protocol: row.protocol.clone(),
                player: player.to_string(),
                seed: row.seed,
                ok: row.status.is_ok(),
                survival_years: row.survival_years as f64,
                collapsed: row.collapsed,
                own_assets: None,
                others_assets: None,
                answers: row.llm_answers,
                valid_first_try: row.llm_valid_first_try,
                fallbacks: row.llm_fallbacks,
            },
        );
    }
    // The last year's assets of every team of each game.
    let mut finals: HashMap<String, (u32, Vec<i64>)> = HashMap::new();
    let agents = dir.join(RunFiles::AGENTS);
    if agents.exists() {
        for row in rows::<AgentRow>(&agents)? {
            let row = row?;
            if !fresh.contains_key(&row.run_id) {
                continue;
            }
            let entry = finals.entry(row.run_id.clone()).or_insert((0, Vec::new()));
            if row.year > entry.0 {
                *entry = (row.year, Vec::new());
            }
            if row.year == entry.0 {
                if entry.1.len() <= row.agent {
                    entry.1.resize(row.agent + 1, 0);
                }
                entry.1[row.agent] = row.assets;
            }
        }
    }
    for (id, mut game) in fresh {
        if let Some((_, assets)) = finals.get(&id).filter(|(_, a)| !a.is_empty()) {
            let mean = |a: &[i64]| a.iter().sum::<i64>() as f64 / a.len().max(1) as f64;
            if is_self_play(&game.scenario) {
                game.own_assets = Some(mean(assets));
            } else {
                game.own_assets = Some(assets[0] as f64);
                game.others_assets = (assets.len() > 1).then(|| mean(&assets[1..]));
            }
        }
        games.insert(id, game);
    }
    Ok(())
}

/// Whether a scenario of any known battery is self-play.
fn is_self_play(scenario: &str) -> bool {
    battery::BATTERIES
        .iter()
        .flat_map(|b| b.scenarios)
        .any(|s| s.name == scenario && s.self_play())
}

/// A score of one candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub candidate: String,
    /// A scenario's name, or `all` for the composite and totals.
    pub scenario: String,
    /// A protocol's name, or `all`.
    pub protocol: String,
    pub metric: &'static str,
    /// Games (or pairs of games) it is based on.
    pub n: usize,
    pub estimate: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
}

/// The paired scores of a cell's metric: candidate minus reference, seed by seed.
const PAIRED: [&str; 3] = ["delta_rmst", "delta_own_assets", "delta_others_assets"];

/// The whole leaderboard: scores, and the candidates in rank order.
#[derive(Debug, Clone)]
pub struct Leaderboard {
    pub ratings: Ratings,
    /// Candidates ranked by the composite, best first (ties by name).
    pub ranked: Vec<String>,
    pub scores: Vec<Score>,
}

impl Leaderboard {
    /// The score of a candidate in a cell on a metric.
    pub fn score(
        &self,
        candidate: &str,
        scenario: &str,
        protocol: &str,
        metric: &str,
    ) -> Option<&Score> {
        self.scores.iter().find(|s| {
            s.candidate == candidate
                && s.scenario == scenario
                && s.protocol == protocol
                && s.metric == metric
        })
    }
}

fn rmst(games: &[&Game], horizon: f64) -> f64 {
    let data: Vec<(f64, bool)> = games
        .iter()
        .map(|g| (g.survival_years, g.collapsed))
        .collect();
    stats::rmst(&stats::kaplan_meier(&data), horizon)
}

/// Wilcoxon's signed-rank test of paired differences (all zero: no difference, p 1).
fn wilcoxon(diffs: &[f64]) -> Option<Test> {
    (diffs.len() >= 2).then(|| {
        stats::wilcoxon(diffs).unwrap_or(Test {
            statistic: 0.0,
            p_value: 1.0,
        })
    })
}

/// A seed's candidate game and the reference game it is paired with.
type Pair<'a> = (u64, &'a Game, &'a Game);

/// Score every candidate (see the module).
pub fn score(ratings: Ratings) -> Leaderboard {
    let b = ratings.battery;
    let horizon = ratings.years as f64;
    // Games by (scenario, protocol, player, seed).
    let mut by: HashMap<(&str, &str, &str, u64), &Game> = HashMap::new();
    for g in &ratings.games {
        by.insert((&g.scenario, &g.protocol, &g.player, g.seed), g);
    }
    let seeds: Vec<u64> = (ratings.seeds.0..=ratings.seeds.1).collect();
    let mut scores = Vec::new();
    let mut composite_inputs: Vec<(String, Vec<Vec<Pair>>)> = Vec::new();
    for c in &ratings.candidates {
        let name = c.name.as_str();
        let mut cells_pairs = Vec::new();
        let mut own: Vec<Score> = Vec::new();
        for s in b.scenarios {
            for p in b.protocols {
                let mine: Vec<&Game> = seeds
                    .iter()
                    .filter_map(|seed| by.get(&(s.name, p.name, name, *seed)).copied())
                    .collect();
                let pairs: Vec<Pair> = mine
                    .iter()
                    .filter(|g| g.scored())
                    .filter_map(|g| {
                        let r = by.get(&(s.name, p.name, REFERENCE, g.seed))?;
                        r.ok.then_some((g.seed, *g, *r))
                    })
                    .collect();
                let key = |metric: &str| seed_of(&[b.version, name, s.name, p.name, metric]);
                let score = |metric: &'static str, n, estimate, ci, test: Option<Test>| Score {
                    candidate: name.to_string(),
                    scenario: s.name.to_string(),
                    protocol: p.name.to_string(),
                    metric,
                    n,
                    estimate,
                    ci,
                    p_value: test.map(|t| t.p_value),
                    p_adjusted: None,
                };
                // Survival: the difference of the two RMSTs over the paired seeds.
                let (x, y): (Vec<&Game>, Vec<&Game>) =
                    pairs.iter().map(|(_, a, r)| (*a, *r)).unzip();
                let estimate = (!pairs.is_empty()).then(|| rmst(&x, horizon) - rmst(&y, horizon));
                let ci = stats::paired_bootstrap_ci(
                    &pairs,
                    |sample: &[&Pair]| {
                        let (x, y): (Vec<&Game>, Vec<&Game>) =
                            sample.iter().map(|(_, a, r)| (*a, *r)).unzip();
                        rmst(&x, horizon) - rmst(&y, horizon)
                    },
                    RESAMPLES,
                    key("delta_rmst"),
                )
                .filter(|_| pairs.len() >= 2);
                let diffs: Vec<f64> = pairs
                    .iter()
                    .map(|(_, a, r)| a.survival_years - r.survival_years)
                    .collect();
                own.push(score(
                    "delta_rmst",
                    pairs.len(),
                    estimate,
                    ci,
                    wilcoxon(&diffs),
                ));
                // Assets: mean paired differences.
                for (metric, of) in [
                    (
                        "delta_own_assets",
                        (|g: &Game| g.own_assets) as fn(&Game) -> Option<f64>,
                    ),
                    ("delta_others_assets", |g: &Game| g.others_assets),
                ] {
                    let diffs: Vec<f64> = pairs
                        .iter()
                        .filter_map(|(_, a, r)| Some(of(a)? - of(r)?))
                        .collect();
                    if diffs.is_empty() {
                        continue;
                    }
                    let ci = (diffs.len() >= 2)
                        .then(|| stats::bootstrap_mean_ci(&diffs, RESAMPLES, key(metric)))
                        .flatten();
                    own.push(score(
                        metric,
                        diffs.len(),
                        Some(stats::mean(&diffs)),
                        ci,
                        wilcoxon(&diffs),
                    ));
                }
                // Beside them: the raw survival rate and how the candidate answered.
                let scored: Vec<&Game> = mine.iter().copied().filter(|g| g.scored()).collect();
                let survived = scored.iter().filter(|g| !g.collapsed).count();
                let answers: u64 = mine.iter().map(|g| g.answers).sum();
                let share = |k: u64| (answers > 0).then(|| k as f64 / answers as f64);
                own.push(score(
                    "survival_rate",
                    scored.len(),
                    (!scored.is_empty()).then(|| survived as f64 / scored.len() as f64),
                    stats::wilson(survived as u64, scored.len() as u64),
                    None,
                ));
                own.push(score(
                    "valid_first_try",
                    mine.len(),
                    share(mine.iter().map(|g| g.valid_first_try).sum()),
                    None,
                    None,
                ));
                own.push(score(
                    "fallback_share",
                    mine.len(),
                    share(mine.iter().map(|g| g.fallbacks).sum()),
                    None,
                    None,
                ));
                own.push(score(
                    "unscored_games",
                    mine.len(),
                    Some(mine.iter().filter(|g| !g.scored()).count() as f64),
                    None,
                    None,
                ));
                cells_pairs.push(pairs);
            }
        }
        // Holm within the candidate and the metric, over its cells.
        for metric in PAIRED {
            holm(own.iter_mut().filter(|s| s.metric == metric));
        }
        scores.extend(own);
        composite_inputs.push((name.to_string(), cells_pairs));
    }
    // The composite: the mean over the cells of the paired RMST difference.
    let mut composites: Vec<Score> = composite_inputs
        .iter()
        .map(|(name, cells)| composite(b, name, cells, &seeds, horizon))
        .collect();
    holm(composites.iter_mut());
    let mut ranked: Vec<(String, f64)> = composites
        .iter()
        .map(|s| (s.candidate.clone(), s.estimate.unwrap_or(f64::NEG_INFINITY)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let ranked: Vec<String> = ranked.into_iter().map(|(n, _)| n).collect();
    scores.extend(composites);
    // The reference player's own survival, for the reader's scale.
    for s in b.scenarios {
        for p in b.protocols {
            let games: Vec<&Game> = seeds
                .iter()
                .filter_map(|seed| by.get(&(s.name, p.name, REFERENCE, *seed)).copied())
                .filter(|g| g.ok)
                .collect();
            let survived = games.iter().filter(|g| !g.collapsed).count();
            scores.push(Score {
                candidate: REFERENCE.to_string(),
                scenario: s.name.to_string(),
                protocol: p.name.to_string(),
                metric: "survival_rate",
                n: games.len(),
                estimate: (!games.is_empty()).then(|| survived as f64 / games.len() as f64),
                ci: stats::wilson(survived as u64, games.len() as u64),
                p_value: None,
                p_adjusted: None,
            });
            scores.push(Score {
                candidate: REFERENCE.to_string(),
                scenario: s.name.to_string(),
                protocol: p.name.to_string(),
                metric: "rmst",
                n: games.len(),
                estimate: (!games.is_empty()).then(|| rmst(&games, horizon)),
                ci: None,
                p_value: None,
                p_adjusted: None,
            });
        }
    }
    Leaderboard {
        ratings,
        ranked,
        scores,
    }
}

/// Holm's adjustment over the scores given (those with a p-value).
fn holm<'a>(scores: impl Iterator<Item = &'a mut Score>) {
    let mut tested: Vec<&mut Score> = scores.filter(|s| s.p_value.is_some()).collect();
    let adjusted = stats::holm(
        &tested
            .iter()
            .map(|s| s.p_value.unwrap_or(1.0))
            .collect::<Vec<_>>(),
    );
    for (s, p) in tested.iter_mut().zip(adjusted) {
        s.p_adjusted = Some(p);
    }
}

/// The composite of one candidate: over the battery's cells, the mean of the paired
/// difference in RMST. Its interval resamples seeds (every cell's pair of a seed goes
/// with it); its test is Wilcoxon's on each seed's mean difference in survival years
/// over the cells where that seed's pair was scored.
fn composite(b: &Battery, name: &str, cells: &[Vec<Pair>], seeds: &[u64], horizon: f64) -> Score {
    let statistic = |sample: &[&u64]| -> f64 {
        let mut deltas = Vec::new();
        for pairs in cells {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for seed in sample {
                if let Some((_, a, r)) = pairs.iter().find(|(s, _, _)| s == *seed) {
                    x.push(*a);
                    y.push(*r);
                }
            }
            if !x.is_empty() {
                deltas.push(rmst(&x, horizon) - rmst(&y, horizon));
            }
        }
        stats::mean(&deltas)
    };
    let all: Vec<&u64> = seeds.iter().collect();
    let n = cells.iter().map(Vec::len).sum::<usize>();
    let estimate = (n > 0).then(|| statistic(&all)).filter(|e| e.is_finite());
    let ci = (n > 1)
        .then(|| {
            stats::paired_bootstrap_ci(
                seeds,
                |sample: &[&u64]| statistic(sample),
                RESAMPLES,
                seed_of(&[b.version, name, "all", "all", "composite"]),
            )
        })
        .flatten();
    let per_seed: Vec<f64> = seeds
        .iter()
        .filter_map(|seed| {
            let d: Vec<f64> = cells
                .iter()
                .filter_map(|pairs| pairs.iter().find(|(s, _, _)| s == seed))
                .map(|(_, a, r)| a.survival_years - r.survival_years)
                .collect();
            (!d.is_empty()).then(|| stats::mean(&d))
        })
        .collect();
    Score {
        candidate: name.to_string(),
        scenario: "all".into(),
        protocol: "all".into(),
        metric: "composite",
        n,
        estimate,
        ci,
        p_value: wilcoxon(&per_seed).map(|t| t.p_value),
        p_adjusted: None,
    }
}
