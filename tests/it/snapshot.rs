//! A whole small sweep, snapshot-tested: one seed of every protocol, five years, a mixed
//! population. Any change to rules, strategies, protocols or file formats shows up here
//! as a reviewable diff (`cargo insta review`, or compare the `.snap` files by hand).

use std::fs;

const EXPERIMENT: &str = r#"
name = "snap"
years = 5
seeds = 1
[populations.mixed]
agents = [
  { strategy = "greedy", count = 2 },
  { strategy = "reciprocal", count = 2 },
  { strategy = "quota_follower", count = 1 },
  { strategy = "random", count = 1 },
]
[protocols.none]
kind = "none"
[protocols.broadcast]
kind = "broadcast"
order = "sequential"
rounds = 2
max_message_chars = 60
[protocols.quota]
kind = "quota"
enforcement = "advisory"
talk_rounds = 1
[protocols.ledger]
kind = "ledger"
reporting = "self"
[matrix]
protocol = ["none", "broadcast", "quota", "ledger"]
population = ["mixed"]
"#;

#[test]
fn a_small_sweep_matches_its_snapshot() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("snap.toml");
    fs::write(&path, EXPERIMENT).unwrap();
    let out = work.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--jobs",
            "3",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let dir = out.join("snap");
    for file in ["runs.csv", "years.csv", "agents.csv", "summary.md"] {
        let text = fs::read_to_string(dir.join(file)).unwrap();
        insta::assert_snapshot!(file, text);
    }
    let runs = fs::read_to_string(dir.join("runs.csv")).unwrap();
    for line in runs.lines().skip(1) {
        let mut cols = line.split(',');
        let id = cols.next().unwrap();
        let protocol = cols.nth(1).unwrap();
        let events = fs::read_to_string(dir.join("runs").join(id).join("events.jsonl")).unwrap();
        insta::assert_snapshot!(format!("events-{protocol}"), events);
    }
}
