//! `fishbanks rate`: a rating file plays the frozen battery for each candidate and the
//! reference player, the leaderboard ranks them by paired survival, the same file gives
//! the same bytes, a candidate's games replay from the cache, ratings made apart join
//! into the leaderboard of one rating of all their candidates, and batteries never mix.

use crate::common::*;
use std::fs;
use std::path::{Path, PathBuf};

/// A rating file of these candidates (`name = agent` lines), with a mock provider.
fn rating(name: &str, candidates: &[(&str, &str)]) -> String {
    let mut text = format!(
        "name = \"{name}\"\nbattery = \"fishbanks-1\"\n\n[providers.mock]\nkind = \"mock\"\npolicy = \"greedy\"\ntemperature = 0.5\nseed = 3\n"
    );
    for (who, agent) in candidates {
        text.push_str(&format!("\n[candidates.{who}]\nagent = {agent}\n"));
    }
    text
}

const CONDITIONAL: (&str, &str) = (
    "conditional",
    r#"{ strategy = "conditional", tremble = 0.05 }"#,
);
const GREEDY: (&str, &str) = ("greedy", r#"{ strategy = "greedy", tremble = 0.05 }"#);
const MOCK: (&str, &str) = ("mock-greedy", r#"{ kind = "llm", provider = "mock" }"#);

fn rate(dir: &Path, name: &str, candidates: &[(&str, &str)], extra: &[&str]) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let path = write(dir, &format!("{name}.toml"), &rating(name, candidates));
    let out = dir.join("out");
    let result = fishbanks()
        .args([
            "rate",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out.join(name)
}

fn composite(dir: &Path, candidate: &str) -> f64 {
    let t = Table::read(&dir.join("rating.csv"));
    let row = t
        .rows
        .iter()
        .find(|r| r[t.col("candidate")] == candidate && r[t.col("metric")] == "composite")
        .unwrap_or_else(|| panic!("no composite of {candidate}"));
    row[t.col("estimate")].parse().unwrap()
}

#[test]
fn a_rating_ranks_a_conditional_cooperator_above_a_greedy_player_and_repeats_itself() {
    let work = tempfile::tempdir().unwrap();
    let dir = rate(
        &work.path().join("a"),
        "r",
        &[CONDITIONAL, GREEDY, MOCK],
        &[],
    );
    for file in [
        "rating.csv",
        "rating.md",
        "rating.html",
        "plots/rating.svg",
        "runs.csv",
    ] {
        assert!(dir.join(file).exists(), "{file}");
    }
    let csv = fs::read_to_string(dir.join("rating.csv")).unwrap();
    assert!(csv.starts_with(
        "candidate,scenario,protocol,metric,n,estimate,ci_low,ci_high,p_value,p_adjusted\n"
    ));
    // The reference player is a conditional cooperator: the same agent in its seat plays
    // the same games, seed for seed, and changes nothing.
    assert_eq!(composite(&dir, "conditional"), 0.0);
    assert!(composite(&dir, "greedy") < 0.0, "{csv}");
    let md = fs::read_to_string(dir.join("rating.md")).unwrap();
    let rank = |c: &str| md.find(&format!("| `{c}` |")).unwrap_or(usize::MAX);
    assert!(rank("conditional") < rank("greedy"), "{md}");
    // Every paired survival difference of a cell is a `delta_rmst` row with its pairs.
    let t = Table::read(&dir.join("rating.csv"));
    let cells = t
        .rows
        .iter()
        .filter(|r| r[t.col("candidate")] == "greedy" && r[t.col("metric")] == "delta_rmst")
        .count();
    assert_eq!(cells, 12, "4 scenarios × 3 protocols");
    for heading in [
        "## Scenario `cooperators`",
        "## Scenario `greedy`",
        "## Scenario `free-riders`",
        "## Scenario `self-play`",
        "## Methods",
    ] {
        assert!(md.contains(heading), "{heading}");
    }
    assert!(
        md.contains("a rule-based stand-in (not a language model)"),
        "{md}"
    );
    // The same file, played again elsewhere: the same bytes.
    let again = rate(
        &work.path().join("b"),
        "r",
        &[CONDITIONAL, GREEDY, MOCK],
        &[],
    );
    assert_same_files(
        &dir,
        &again,
        &[
            "runs.csv",
            "agents.csv",
            "rating.csv",
            "rating.md",
            "rating.html",
        ],
    );
    // The mock candidate's games replay from the cache with no model.
    let replayed = rate(
        &work.path().join("c"),
        "r",
        &[CONDITIONAL, GREEDY, MOCK],
        &[
            "--cache-mode",
            "replay",
            "--cache-dir",
            dir.join("cache").to_str().unwrap(),
        ],
    );
    assert_same_files(&dir, &replayed, &["runs.csv", "agents.csv", "rating.csv"]);
}

#[test]
fn ratings_made_apart_join_into_the_leaderboard_of_one_rating_and_batteries_never_mix() {
    let work = tempfile::tempdir().unwrap();
    let both = rate(&work.path().join("both"), "both", &[CONDITIONAL, MOCK], &[]);
    let a = rate(&work.path().join("a"), "a", &[CONDITIONAL], &[]);
    let b = rate(&work.path().join("b"), "b", &[MOCK], &[]);
    let joined = work.path().join("joined");
    fishbanks()
        .args([
            "rate",
            "--leaderboard",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
        ])
        .arg(&joined)
        .assert()
        .success();
    assert_same_files(&both, &joined, &["rating.csv", "rating.md", "rating.html"]);
    // A rating of another battery is refused, not mixed.
    let manifest = b.join("manifest.json");
    let text = fs::read_to_string(&manifest).unwrap().replace(
        "\"battery\": \"fishbanks-1\"",
        "\"battery\": \"fishbanks-0\"",
    );
    fs::write(&manifest, text).unwrap();
    let out = fishbanks()
        .args([
            "rate",
            "--leaderboard",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
        ])
        .arg(work.path().join("mixed"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fishbanks-0") && err.contains("not compared"),
        "{err}"
    );
}

#[test]
fn a_rating_file_validates_and_dry_runs_per_candidate() {
    let work = tempfile::tempdir().unwrap();
    let path = write(work.path(), "r.toml", &rating("r", &[CONDITIONAL, MOCK]));
    fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("360 runs"));
    let out = fishbanks()
        .args(["rate", path.to_str().unwrap(), "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |who: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("| {who} |")))
            .unwrap_or_else(|| panic!("no line for {who}: {text}"))
            .to_string()
    };
    // The scripted candidate and the reference make no call; the mock does.
    assert!(
        line("conditional").starts_with("| conditional | 120 | 0 |"),
        "{text}"
    );
    assert!(
        !line("mock-greedy").starts_with("| mock-greedy | 120 | 0 |"),
        "{text}"
    );
    assert!(
        !work.path().join("results").exists(),
        "a dry run writes nothing"
    );
}
