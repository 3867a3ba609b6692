//! The institutions, played through the real game loop and the real runner: an elected
//! leader (elections, decrees and proposals, private information, reports and
//! disinformation), a regulator (a computed TAC as advice or a cap), and generations that
//! inherit lessons (own, all, none; resumed, sharded and merged like any sweep).

use crate::common::*;
use async_trait::async_trait;
use fishbanks::agents::{Agent, AgentError, ScriptedAgent, Strategy};
use fishbanks::engine::GameParams;
use fishbanks::game::{self, GameRecord, Setup};
use fishbanks::protocol::ProtocolSpec;
use fishbanks::question::{Answer, Inherit, Lesson, Observation, Request};
use fishbanks::record::Event;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::fs;
use std::sync::{Arc, Mutex};

/// What each team was shown when it was asked something: (team, request kind, observation).
type Seen = Arc<Mutex<Vec<(usize, String, Observation)>>>;

/// A scripted strategy that records every observation it is shown.
struct Recorder {
    team: usize,
    inner: ScriptedAgent,
    seen: Seen,
}

#[async_trait]
impl Agent for Recorder {
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError> {
        self.seen.lock().unwrap().push((
            self.team,
            request.kind().as_str().to_string(),
            obs.clone(),
        ));
        self.inner.answer(obs, request).await
    }
}

/// Play `protocol` (a `[protocols.x]` table's text) with these strategies.
fn play_with(
    protocol: &str,
    strategies: &[Strategy],
    setup: Setup,
) -> (GameRecord, Vec<(usize, String, Observation)>) {
    let table: toml::Table = toml::from_str(protocol).unwrap();
    let spec = ProtocolSpec::from_table(&table).unwrap();
    let params = Arc::new(GameParams::default());
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let agents: Vec<Box<dyn Agent>> = strategies
        .iter()
        .enumerate()
        .map(|(t, s)| {
            Box::new(Recorder {
                team: t,
                inner: ScriptedAgent::new(
                    *s,
                    Arc::clone(&params),
                    ChaCha8Rng::seed_from_u64(t as u64),
                    0.0,
                ),
                seen: Arc::clone(&seen),
            }) as Box<dyn Agent>
        })
        .collect();
    let protocol = spec.build(ChaCha8Rng::seed_from_u64(9), &params);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let record = runtime.block_on(game::play(
        &params,
        &setup,
        agents,
        protocol,
        Vec::new(),
        &|| None,
    ));
    let seen = seen.lock().unwrap().clone();
    (record, seen)
}

fn five_conditional_one_greedy() -> Vec<Strategy> {
    let mut s = vec![Strategy::Conditional; 5];
    s.push(Strategy::Greedy);
    s
}

#[test]
fn an_elected_leader_sets_the_catch_and_followers_keep_to_it() {
    let (record, seen) = play_with(
        "kind = \"leader\"\nenforcement = \"binding\"\nterm_years = 3",
        &five_conditional_one_greedy(),
        Setup::years(6),
    );
    assert_eq!(record.years.len(), 6);
    let elections: Vec<(u32, Option<usize>)> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::LeaderElection { year, leader, .. } => Some((*year, *leader)),
            _ => None,
        })
        .collect();
    // An election every term: years 1 and 4.
    assert_eq!(
        elections.iter().map(|(y, _)| *y).collect::<Vec<_>>(),
        vec![1, 4]
    );
    let agendas = record
        .events
        .iter()
        .filter(|e| matches!(e, Event::Agenda { .. }))
        .count();
    assert_eq!(agendas, 12, "every team stands in both elections");
    // The leader of each year is recorded, and its TAC is every team's quota.
    for (year, extras) in &record.years {
        let leader = extras.leader.expect("a leader every year");
        let expected = if year.year < 4 {
            elections[0].1
        } else {
            elections[1].1
        };
        assert_eq!(Some(leader), expected);
        assert!(
            extras.quotas.iter().all(|q| q.is_some()),
            "{:?}",
            extras.quotas
        );
    }
    // The cooperators vote for the lowest promise: a cooperator leads, not the greedy
    // team (whose agenda is cheap talk, the same promise, and so a tie at worst).
    let tac = record.events.iter().find_map(|e| match e {
        Event::LeaderTac { tac, adopted, .. } => Some((*tac, *adopted)),
        _ => None,
    });
    assert!(matches!(tac, Some((Some(t), true)) if t > 0), "{tac:?}");
    // Every team saw the leadership on its board when it decided.
    let decisions: Vec<&Observation> = seen
        .iter()
        .filter(|(_, k, _)| k == "decision")
        .map(|(_, _, o)| o)
        .collect();
    assert!(decisions
        .iter()
        .all(|o| o.board.leader.as_ref().is_some_and(|l| l.leader.is_some())));
    // Binding: nobody caught more than its quota.
    for (year, extras) in &record.years {
        for (t, out) in year.teams.iter().enumerate() {
            if let Some(q) = extras.quotas[t] {
                assert!(out.catch_deep + out.catch_coast <= q);
            }
        }
    }
}

#[test]
fn a_proposed_tac_needs_its_approval() {
    // Unanimity: a sustainable voter rejects a greedy leader's TAC, the greedy ones accept
    // a sustainable leader's; whoever leads, a TAC is in force exactly when all accept.
    let mut population = vec![Strategy::Greedy; 5];
    population.push(Strategy::Sustainable);
    let (record, _) = play_with(
        "kind = \"leader\"\npowers = \"propose\"\napproval = 1.0",
        &population,
        Setup::years(8),
    );
    let outcomes: Vec<(u32, Option<f64>, bool)> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::LeaderTac {
                year,
                accept_share,
                adopted,
                ..
            } => Some((*year, *accept_share, *adopted)),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), 8);
    let votes = record
        .events
        .iter()
        .filter(|e| matches!(e, Event::Vote { .. }))
        .count();
    assert_eq!(votes, 8 * 6, "every team votes on every proposal");
    for (year, share, adopted) in outcomes {
        let share = share.expect("put to a vote");
        assert_eq!(adopted, share >= 1.0, "year {year}: {share}");
        let quotas = &record.years[year as usize - 1].1.quotas;
        assert_eq!(quotas.iter().all(Option::is_some), adopted);
    }
}

#[test]
fn only_the_leader_sees_the_sea_exactly_and_its_report_may_lie() {
    // Team 6 (greedy) is the only candidate: it leads, sees the sea, shaves its reports.
    let (record, seen) = play_with(
        "kind = \"leader\"\ncandidates = 1\nself_vote = true\nprivate_information = true\nleader_reports = true\ndisinformation = true",
        &[Strategy::Greedy; 6],
        Setup::years(3),
    );
    for (team, kind, obs) in &seen {
        if kind != "decision" {
            continue;
        }
        let leader = record.years[obs.public.year as usize - 1]
            .1
            .leader
            .expect("a leader every year");
        assert_eq!(
            obs.own.private.is_some(),
            *team == leader,
            "team {team}: only the leader sees the sea"
        );
        if *team == leader {
            let p = obs.own.private.unwrap();
            assert!(p.stock[0] > 0 && p.capacity == [3000, 1500]);
        }
    }
    let reports: Vec<(i64, i64)> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::LeaderReport {
                reported, truth, ..
            } => Some((*reported, *truth)),
            _ => None,
        })
        .collect();
    assert_eq!(reports.len(), 3);
    for (reported, truth) in &reports {
        assert_eq!(*reported, truth * 4 / 5, "a greedy leader shaves a fifth");
    }
    // Next year's board shows the report, not the truth.
    let year2: Vec<&Observation> = seen
        .iter()
        .filter(|(_, k, o)| k == "decision" && o.public.year == 2)
        .map(|(_, _, o)| o)
        .collect();
    assert!(year2
        .iter()
        .all(|o| o.board.leader.as_ref().and_then(|l| l.report) == Some(reports[0].0)));
}

#[test]
fn a_regulator_publishes_the_computed_tac_as_advice_or_a_cap() {
    for (enforcement, binding) in [("advisory", false), ("binding", true)] {
        let (record, seen) = play_with(
            &format!("kind = \"regulator\"\nenforcement = \"{enforcement}\""),
            &[Strategy::Greedy; 6],
            Setup::years(8),
        );
        let spec = match ProtocolSpec::default_of("regulator").unwrap() {
            ProtocolSpec::Regulator(s) => s,
            other => panic!("{other:?}"),
        };
        let tac = record.events.iter().find_map(|e| match e {
            Event::RegulatorTac { year: 1, tac, .. } => Some(*tac),
            _ => None,
        });
        // Year 1: the regeneration of the initial stocks.
        assert_eq!(tac, Some(spec.tac(&GameParams::default(), [2500, 1200])));
        let quota_seen = seen
            .iter()
            .find(|(_, k, _)| k == "decision")
            .and_then(|(_, _, o)| o.board.quota.clone())
            .expect("the quota is on the board");
        assert_eq!(quota_seen.binding, binding);
        assert_eq!(quota_seen.tac, tac);
        // Greedy keeps within a cap and fishes past advice.
        let over = record.years.iter().any(|(year, extras)| {
            year.teams.iter().enumerate().any(|(t, out)| {
                extras.quotas[t].is_some_and(|q| out.catch_deep + out.catch_coast > q)
            })
        });
        assert_eq!(over, !binding, "{enforcement}");
    }
}

#[test]
fn lessons_are_seen_as_inherit_allows() {
    let lessons: Vec<Lesson> = (0..6)
        .map(|team| Lesson {
            generation: 1,
            team,
            text: format!("lesson of team {}", team + 1),
        })
        .collect();
    for (inherit, expect) in [
        (Inherit::Own, 1usize),
        (Inherit::All, 6),
        (Inherit::None, 0),
    ] {
        let setup = Setup {
            years: 2,
            inherited: lessons.clone(),
            inherit,
            ..Setup::default()
        };
        let (_, seen) = play_with("kind = \"none\"", &[Strategy::Conditional; 6], setup);
        for (team, _, obs) in &seen {
            assert_eq!(obs.board.lessons.len(), expect, "{inherit:?}");
            if inherit == Inherit::Own {
                assert_eq!(obs.board.lessons[0].team, *team);
            }
        }
    }
}

/// The quickstart's two populations under every institution, and generations of
/// broadcast, small enough for a test.
fn institutions(name: &str, generations: u32) -> TestExperiment {
    TestExperiment::new(name, 8, 4)
        .section(&format!(
            "[generations]\ncount = {generations}\ninherit = \"own\"\nprotocols = [\"broadcast\"]"
        ))
        .population(
            "free-rider",
            r#"{ strategy = "conditional", count = 5, tremble = 0.05 }, { strategy = "free_rider", count = 1, tremble = 0.05 }"#,
        )
        .protocol("none", "none", "")
        .protocol("leader", "leader", "")
        .protocol("leader-again", "leader", "")
        .protocol("regulator", "regulator", "enforcement = \"binding\"")
        .protocol("broadcast", "broadcast", "")
}

#[test]
fn an_aa_pair_of_leaders_plays_byte_identical_games() {
    let work = tempfile::tempdir().unwrap();
    let exp = institutions("aa", 1).write(work.path());
    let out = work.path().join("out");
    let status = run_experiment(&exp, &out, &["--no-report"]);
    assert!(status.status.success(), "{status:?}");
    let dir = out.join("aa");
    for file in ["years.csv", "agents.csv"] {
        let t = trajectories(&dir, file);
        for seed in 1..=4 {
            let s = seed.to_string();
            let get = |p: &str| &t[&(p.to_string(), "free-rider".to_string(), s.clone())];
            assert_eq!(get("leader"), get("leader-again"), "{file} seed {seed}");
        }
    }
    // Elections and agendas are recorded: a leader every year, agendas in messages.csv.
    let years = Table::read(&dir.join("years.csv"));
    let runs = Table::read(&dir.join("runs.csv"));
    let leader_runs: BTreeSet<&str> = runs
        .rows
        .iter()
        .filter(|r| r[runs.col("protocol")].starts_with("leader"))
        .map(|r| r[runs.col("run_id")].as_str())
        .collect();
    for row in &years.rows {
        let led = !row[years.col("leader")].is_empty();
        assert_eq!(led, leader_runs.contains(row[years.col("run_id")].as_str()));
    }
    let messages = fs::read_to_string(dir.join("messages.csv")).unwrap();
    assert!(messages.lines().any(|l| l.contains(",agenda,a1.")));
}

#[test]
fn generations_inherit_lessons_and_resume_shard_and_merge_like_any_sweep() {
    let work = tempfile::tempdir().unwrap();
    let exp = institutions("lines", 3).write(work.path());
    let reference = work.path().join("reference");
    let status = run_experiment(&exp, &reference, &["--no-report"]);
    assert!(status.status.success(), "{status:?}");
    let dir = reference.join("lines");
    let runs = Table::read(&dir.join("runs.csv"));
    let (id, protocol, generation, parent) = (
        runs.col("run_id"),
        runs.col("protocol"),
        runs.col("generation"),
        runs.col("parent"),
    );
    let broadcast: Vec<&Vec<String>> = runs
        .rows
        .iter()
        .filter(|r| r[protocol].starts_with("broadcast"))
        .collect();
    assert_eq!(
        broadcast.len(),
        3 * 4,
        "three generations of four replicates"
    );
    for r in &broadcast {
        let g: u32 = r[generation].parse().unwrap();
        match g {
            1 => assert!(r[parent].is_empty() && r[protocol] == "broadcast"),
            _ => {
                assert_eq!(r[protocol], format!("broadcast@g{g}"));
                let p = runs
                    .rows
                    .iter()
                    .find(|p| p[id] == r[parent])
                    .expect("parent");
                assert_eq!(p[generation], (g - 1).to_string());
            }
        }
    }
    // The first two generations left lessons; the last did not need to.
    let messages = Table::read(&dir.join("messages.csv"));
    let with_lessons: BTreeSet<&str> = messages
        .rows
        .iter()
        .filter(|m| m[messages.col("kind")] == "lesson")
        .map(|m| m[messages.col("run_id")].as_str())
        .collect();
    for r in &broadcast {
        assert_eq!(
            with_lessons.contains(r[id].as_str()),
            r[generation] != "3",
            "{}",
            r[id]
        );
    }

    // Killed after a few runs and resumed: the same files.
    let killed = work.path().join("killed");
    let mut cmd = fishbanks();
    cmd.args([
        "run",
        exp.to_str().unwrap(),
        "--out",
        killed.to_str().unwrap(),
        "--quiet",
        "--no-report",
        "--jobs",
        "2",
    ])
    .env("FISHBANKS_ABORT_AFTER_RUNS", "23");
    assert!(!cmd.assert().get_output().status.success());
    let resumed = run_experiment(&exp, &killed, &["--no-report", "--jobs", "3"]);
    assert!(resumed.status.success(), "{resumed:?}");
    let files = ["runs.csv", "years.csv", "agents.csv", "messages.csv"];
    assert_same_files(&dir, &killed.join("lines"), &files);

    // Two shards, merged: the same files.
    let mut shards = Vec::new();
    for k in 1..=2 {
        let out = work.path().join(format!("shard{k}"));
        let status = run_experiment(&exp, &out, &["--no-report", "--shard", &format!("{k}/2")]);
        assert!(status.status.success(), "{status:?}");
        shards.push(out.join("lines"));
    }
    let merged = work.path().join("merged");
    fishbanks()
        .arg("merge")
        .args(&shards)
        .args(["--out", merged.to_str().unwrap(), "--no-report"])
        .assert()
        .success();
    assert_same_files(&dir, &merged, &files);
}

#[test]
fn bad_institution_switches_are_located() {
    for (text, field) in [
        (
            "kind = \"leader\"\ncandidates = \"some\"",
            "protocols.x.candidates",
        ),
        (
            "kind = \"leader\"\ndisinformation = true",
            "protocols.x.disinformation",
        ),
        ("kind = \"regulator\"\nrule = \"magic\"", "protocols.x.rule"),
        ("kind = \"leader\"\npowers = \"veto\"", "protocols.x.powers"),
    ] {
        let toml = TestExperiment::new("bad", 3, 1)
            .population("p", r#"{ strategy = "greedy", count = 6 }"#)
            .section(&format!("[protocols.x]\n{text}"))
            .toml()
            .replace("protocol = []", "protocol = [\"x\"]");
        let work = tempfile::tempdir().unwrap();
        let path = write(work.path(), "bad.toml", &toml);
        let out = fishbanks()
            .args(["validate", path.to_str().unwrap()])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8_lossy(&out);
        assert!(err.contains("bad.toml:") && err.contains(field), "{err}");
    }
    let toml = institutions("bad", 2)
        .toml()
        .replace("inherit = \"own\"", "inherit = \"parents\"");
    let work = tempfile::tempdir().unwrap();
    let path = write(work.path(), "bad.toml", &toml);
    let out = fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(err.contains("generations.inherit"), "{err}");
}

#[test]
fn the_mock_model_answers_every_institution_question_validly() {
    let work = tempfile::tempdir().unwrap();
    let exp = TestExperiment::new("mock-institutions", 4, 2)
        .provider(
            "mock",
            "kind = \"mock\"\npolicy = \"conditional\"\nseed = 1\ntemperature = 0.4",
        )
        .section("[generations]\ncount = 2\ninherit = \"all\"")
        .population("llm", r#"{ kind = "llm", provider = "mock", count = 6 }"#)
        .protocol(
            "leader",
            "leader",
            "powers = \"propose\"\nprivate_information = true\nleader_reports = true\ndisinformation = true",
        )
        .protocol("regulator", "regulator", "talk_rounds = 1")
        .write(work.path());
    let out = work.path().join("out");
    let status = run_experiment(&exp, &out, &["--no-report"]);
    assert!(status.status.success(), "{status:?}");
    let runs = Table::read(&out.join("mock-institutions/runs.csv"));
    assert_eq!(runs.rows.len(), 2 * 2 * 2);
    for r in &runs.rows {
        assert_eq!(r[runs.col("status")], "ok");
        assert_eq!(
            r[runs.col("llm_repairs")],
            "0",
            "every answer valid at once"
        );
        assert_eq!(r[runs.col("llm_fallbacks")], "0");
    }
    // The cache holds every institution question, each with its exact schema.
    let mut kinds = BTreeSet::new();
    for file in fs::read_dir(out.join("mock-institutions/cache")).unwrap() {
        for line in fs::read_to_string(file.unwrap().path()).unwrap().lines() {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            kinds.insert(entry["context"]["kind"].as_str().unwrap().to_string());
        }
    }
    for kind in [
        "agenda",
        "ballot",
        "leader_tac",
        "leader_report",
        "vote",
        "lesson",
        "message",
    ] {
        assert!(kinds.contains(kind), "{kind}: {kinds:?}");
    }
}
