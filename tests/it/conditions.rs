//! The experiment-level guarantees of the conditions: common random numbers (an A/A pair
//! plays identical games), Meadows' initial fleets, the token-matched control measured on
//! its reference cell, and the errors that keep a matched design well formed.

use crate::common::{run_experiment, trajectories, write, Table};
use fishbanks::experiment::Experiment;
use std::fs;
use std::path::Path;

const AA: &str = r#"
name = "aa"
years = 15
seeds = 6
[populations.mixed]
agents = [
  { strategy = "conditional", count = 3, tremble = 0.2 },
  { strategy = "random", count = 1 },
  { strategy = "independent", count = 1 },
  { strategy = "free_rider", count = 1, tremble = 0.2 },
]
[populations.mixed-again]
agents = [
  { strategy = "conditional", count = 3, tremble = 0.2 },
  { strategy = "random", count = 1 },
  { strategy = "independent", count = 1 },
  { strategy = "free_rider", count = 1, tremble = 0.2 },
]
[protocols.talk]
kind = "broadcast"
order = "sequential"
[protocols.talk-again]
kind = "broadcast"
order = "sequential"
[protocols.none]
kind = "none"
[matrix]
protocol = ["talk", "none", "talk-again"]
population = ["mixed", "mixed-again"]
"#;

#[test]
fn an_aa_pair_plays_byte_identical_games_under_common_random_numbers() {
    let work = tempfile::tempdir().unwrap();
    let exp = write(work.path(), "aa.toml", AA);
    let out = work.path().join("out");
    let status = run_experiment(&exp, &out, &[]);
    assert!(status.status.success(), "{status:?}");
    let dir = out.join("aa");
    for file in ["years.csv", "agents.csv"] {
        let t = trajectories(&dir, file);
        for seed in 1..=6 {
            let s = seed.to_string();
            let get = |p: &str, pop: &str| &t[&(p.to_string(), pop.to_string(), s.clone())];
            // Two identically configured protocols, and two identically configured
            // populations: the same games, byte for byte, whatever the cell's name.
            assert_eq!(
                get("talk", "mixed"),
                get("talk-again", "mixed"),
                "{file} seed {seed}"
            );
            assert_eq!(
                get("talk", "mixed"),
                get("talk-again", "mixed-again"),
                "{file} seed {seed}"
            );
            assert_eq!(
                get("none", "mixed"),
                get("none", "mixed-again"),
                "{file} seed {seed}"
            );
        }
        // Replicates differ (the trembles and random players draw from their seed).
        let seeds: std::collections::BTreeSet<_> = (1..=6)
            .map(|s| t[&("talk".into(), "mixed".into(), s.to_string())].clone())
            .collect();
        assert_eq!(seeds.len(), 6, "{file}: every replicate is its own game");
    }
    // Under another protocol replicate k still trembles in the same years: the tremble
    // stream does not depend on what the protocol asks.
    let events = |protocol: &str| {
        let runs = Table::read(&dir.join("runs.csv"));
        let id = runs
            .rows
            .iter()
            .find(|r| r[runs.col("protocol")] == protocol && r[runs.col("seed")] == "3")
            .map(|r| r[runs.col("run_id")].clone())
            .unwrap();
        fs::read_to_string(dir.join("runs").join(id).join("events.jsonl")).unwrap()
    };
    assert!(events("talk").contains("\"type\":\"message\""));
    assert!(!events("none").contains("\"type\":\"message\""));
}

#[test]
fn initial_fleets_follow_meadows_table_unless_set() {
    let base = |agents: usize, game: &str| {
        format!(
            "name = \"m\"\nseeds = 1\nagents = {agents}\n{game}\n[populations.p]\nagents = [{{ strategy = \"fixed\", count = {agents} }}]\n[protocols.none]\nkind = \"none\"\n[matrix]\nprotocol = [\"none\"]\npopulation = [\"p\"]\n"
        )
    };
    let work = tempfile::tempdir().unwrap();
    let game_of = |text: String| {
        let path = write(work.path(), "m.toml", &text);
        Experiment::load(&path).unwrap().config.game
    };
    for (agents, ships) in [(6, 4), (4, 6), (8, 3), (3, 8), (12, 2), (50, 1)] {
        let g = game_of(base(agents, ""));
        assert_eq!(g.initial_ships, ships, "{agents} teams");
        assert_eq!(g.initial_bank, 200 * ships as i64, "{agents} teams");
    }
    let set = game_of(base(8, "[game]\ninitial_ships = 5"));
    assert_eq!((set.initial_ships, set.initial_bank), (5, 1000));
    let both = game_of(base(8, "[game]\ninitial_ships = 5\ninitial_bank = 70"));
    assert_eq!((both.initial_ships, both.initial_bank), (5, 70));
}

const MATCHED: &str = r#"
name = "matched"
years = 4
seeds = 3
[providers.mock]
kind = "mock"
policy = "conditional"
[populations.llm]
agents = [{ kind = "llm", provider = "mock", count = 6 }]
[protocols.rep]
kind = "rep"
[protocols.a2a]
kind = "a2a"
[protocols.a2a-matched]
kind = "a2a"
match_tokens_of = "rep"
[matrix]
protocol = ["rep", "a2a", "a2a-matched"]
population = ["llm"]
"#;

#[test]
fn a_matched_protocol_gets_its_references_measured_volume_as_its_budget() {
    let work = tempfile::tempdir().unwrap();
    let exp = write(work.path(), "matched.toml", MATCHED);
    let out = work.path().join("out");
    let status = run_experiment(&exp, &out, &["--jobs", "3"]);
    assert!(status.status.success(), "{status:?}");
    let runs = Table::read(&out.join("matched/runs.csv"));
    let of = |protocol: &str, column: &str| -> Vec<String> {
        runs.rows
            .iter()
            .filter(|r| r[runs.col("protocol")] == protocol)
            .map(|r| r[runs.col(column)].clone())
            .collect()
    };
    let tokens: f64 = of("rep", "talk_tokens")
        .iter()
        .map(|t| t.parse::<f64>().unwrap())
        .sum();
    let agent_years: f64 = of("rep", "years_played")
        .iter()
        .map(|y| y.parse::<f64>().unwrap() * 6.0)
        .sum();
    let budget_tokens = (tokens / agent_years).round();
    let expected = format!("{}", budget_tokens as u64 * 4);
    assert!(of("a2a-matched", "talk_budget_chars")
        .iter()
        .all(|b| *b == expected));
    assert!(of("a2a", "talk_budget_chars").iter().all(|b| b.is_empty()));
    // The matched control publishes more than plain a2a and no more than its budget.
    let mean = |p: &str| {
        let t: f64 = of(p, "talk_tokens")
            .iter()
            .map(|t| t.parse::<f64>().unwrap())
            .sum();
        t / agent_years
    };
    assert!(
        mean("a2a-matched") > mean("a2a"),
        "{} vs {}",
        mean("a2a-matched"),
        mean("a2a")
    );
    assert!(mean("a2a-matched") <= budget_tokens + 1.0);

    // Resuming measures the reference from the rows on disk: nothing changes.
    let before = fs::read(out.join("matched/runs.csv")).unwrap();
    let again = run_experiment(&exp, &out, &[]);
    assert!(again.status.success());
    assert_eq!(before, fs::read(out.join("matched/runs.csv")).unwrap());

    // A shard does not hold the whole reference cell.
    let sharded = run_experiment(&exp, &work.path().join("shard"), &["--shard", "1/2"]);
    assert!(!sharded.status.success());
    assert!(String::from_utf8_lossy(&sharded.stderr).contains("match_tokens_of"));
}

#[test]
fn a_matched_design_names_a_reference_played_first() {
    let work = tempfile::tempdir().unwrap();
    let cases = [
        (
            MATCHED.replace(
                "[\"rep\", \"a2a\", \"a2a-matched\"]",
                "[\"a2a-matched\", \"rep\"]",
            ),
            "must come before",
        ),
        (
            MATCHED.replace("match_tokens_of = \"rep\"", "match_tokens_of = \"ledger\""),
            "not a protocol of matrix.protocol",
        ),
        (
            MATCHED.replace(
                "match_tokens_of = \"rep\"",
                "match_tokens_of = \"rep\"\nbudget_chars = 10",
            ),
            "at most one",
        ),
        (
            MATCHED.replace(
                "[protocols.rep]\nkind = \"rep\"",
                "[protocols.rep]\nkind = \"none\"",
            ),
            "publishes no text",
        ),
    ];
    for (text, why) in cases {
        let path = write(work.path(), "bad.toml", &text);
        let err = Experiment::load(&path).unwrap_err().to_string();
        assert!(err.contains(why), "{why}: {err}");
        assert!(err.contains("protocols."), "names the field: {err}");
    }
}

/// What the README says `experiments/mit-replication.toml` prints, checked on the shipped
/// file.
#[test]
fn the_shipped_mit_replication_shows_what_the_readme_says() {
    let work = tempfile::tempdir().unwrap();
    let exp = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/mit-replication.toml");
    let status = run_experiment(&exp, work.path(), &["--no-report"]);
    assert!(status.status.success(), "{status:?}");
    let dir = work.path().join("mit-replication");
    let runs = Table::read(&dir.join("runs.csv"));
    let cells = ["none", "a2a", "rep", "a2a-matched", "quota", "ledger"];
    let of = |protocol: &str, column: &str| -> Vec<f64> {
        runs.rows
            .iter()
            .filter(|r| r[runs.col("protocol")] == protocol)
            .map(|r| r[runs.col(column)].parse().unwrap_or(f64::NAN))
            .collect()
    };
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    for protocol in cells {
        assert_eq!(of(protocol, "seed").len(), 10, "{protocol}");
        assert!(runs
            .rows
            .iter()
            .filter(|r| r[runs.col("protocol")] == protocol)
            .all(|r| r[runs.col("status")] == "ok"));
        let collapsed = mean(
            of(protocol, "collapse_year")
                .iter()
                .map(|y| f64::from(u8::from(y.is_finite())))
                .collect(),
        );
        // As the README's table says: every run collapses without talk, one of ten under
        // REP, none under the others.
        let expected = match protocol {
            "none" => 1.0,
            "rep" => 0.1,
            _ => 0.0,
        };
        assert_eq!(collapsed, expected, "{protocol}: collapse rate");
    }
    // Replicates are independent: ten different games per cell.
    let years = trajectories(&dir, "agents.csv");
    let distinct: std::collections::BTreeSet<_> = (1..=10)
        .map(|s| years[&("a2a".into(), "greedy-llm".into(), s.to_string())].clone())
        .collect();
    assert_eq!(distinct.len(), 10);
    // The matched control: REP's measured mean as its budget; it publishes more than
    // plain A2A and less than REP.
    let talk = |p: &str| mean(of(p, "talk_tokens")) / (35.0 * 6.0);
    let budget = of("a2a-matched", "talk_budget_chars");
    assert!(
        budget.iter().all(|b| *b == (talk("rep").round() * 4.0)),
        "{budget:?}"
    );
    assert!(talk("a2a") < talk("a2a-matched") && talk("a2a-matched") < talk("rep"));
    assert_eq!(talk("none"), 0.0);
}
