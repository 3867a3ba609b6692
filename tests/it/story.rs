//! `fishbanks story` on scripted and mock-LLM runs, its page, and `fishbanks transcript`'s
//! plain refusals (a run without model calls, an unknown run, an agent the run lacks).

use crate::common::*;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

/// Plays `exp` into `dir/out` and returns the results directory and the first run id of
/// `cell`.
fn play(dir: &Path, exp: &TestExperiment, cell: &str, extra: &[&str]) -> (PathBuf, String) {
    let path = exp.write(dir);
    let out = dir.join("out");
    let played = run_experiment(&path, &out, extra);
    assert!(
        played.status.success(),
        "{}",
        String::from_utf8_lossy(&played.stderr)
    );
    let results = out.join(exp.name());
    let runs = Table::read(&results.join("runs.csv"));
    let run = runs
        .rows
        .iter()
        .find(|r| r[runs.col("cell")] == cell)
        .map(|r| r[runs.col("run_id")].clone())
        .unwrap();
    (results, run)
}

fn scripted() -> TestExperiment {
    TestExperiment::new("told", 6, 2)
        .population(
            "mixed",
            r#"{ strategy = "conditional", count = 5, tremble = 0.05 }, { strategy = "free_rider", count = 1 }"#,
        )
        .protocol("sanctions", "sanctions", "")
        .protocol("quota", "quota", "")
}

#[test]
fn a_scripted_run_is_told_year_by_year_with_its_page() {
    let work = tempfile::tempdir().unwrap();
    let (dir, run) = play(work.path(), &scripted(), "quota/mixed", &[]);
    let page = work.path().join("story.html");
    let out = fishbanks()
        .args(["story", dir.to_str().unwrap(), &run, "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("# The story of run {run}")),
        "{text}"
    );
    assert!(text.contains("No model calls"), "{text}");
    assert!(text.contains("team 6: scripted free_rider"), "{text}");
    for year in 1..=6 {
        assert!(
            text.contains(&format!("## Year {year}\n")),
            "year {year}: {text}"
        );
    }
    // The quota protocol's proposals, votes and outcome, teams counted from 1.
    assert!(text.contains("Team 1 proposes a total catch of"), "{text}");
    assert!(text.contains("Quota vote: median proposal"), "{text}");
    assert!(!text.contains("Team 0"), "{text}");
    // One table row per team per year.
    let rows = text
        .lines()
        .filter(|l| l.starts_with("| 6 | free_rider |"))
        .count();
    assert_eq!(rows, 6, "{text}");

    let html = fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 2, "the sea and the teams");
    assert!(html.contains("id=\"year-6\""));
    assert!(!html.contains("<script"), "a page with no script");
}

#[test]
fn a_run_without_an_event_log_is_told_from_its_files_and_says_so() {
    let work = tempfile::tempdir().unwrap();
    let (dir, run) = play(
        work.path(),
        &scripted(),
        "sanctions/mixed",
        &["--events", "none"],
    );
    fishbanks()
        .args(["story", dir.to_str().unwrap(), &run])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("kept no full event log")
                .and(predicate::str::contains("## Year 6")),
        );
}

#[test]
fn unknown_runs_are_refused_by_story_and_transcript() {
    let work = tempfile::tempdir().unwrap();
    let (dir, run) = play(work.path(), &scripted(), "quota/mixed", &[]);
    fishbanks()
        .args(["story", dir.to_str().unwrap(), "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("run `nope` is not in"));
    fishbanks()
        .args(["transcript", dir.to_str().unwrap(), "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("run `nope` is not in"));
    // A scripted run made no model calls: the transcript says so and points to story.
    fishbanks()
        .args(["transcript", dir.to_str().unwrap(), &run])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("made no model calls")
                .and(predicate::str::contains("fishbanks story")),
        );
}

#[test]
fn a_mock_llm_run_has_a_story_and_a_transcript_of_its_own_agents_only() {
    let work = tempfile::tempdir().unwrap();
    let exp = TestExperiment::new("llmtold", 3, 1)
        .provider(
            "mock",
            r#"kind = "mock"
policy = "conditional"
noise = 0.2"#,
        )
        .population("llm", r#"{ kind = "llm", provider = "mock", count = 6 }"#)
        .protocol("broadcast", "broadcast", "");
    let (dir, run) = play(work.path(), &exp, "broadcast/llm", &[]);
    fishbanks()
        .args(["story", dir.to_str().unwrap(), &run])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Model answers:").and(predicate::str::contains(
                "Message, round 1, team 1 → everyone",
            )),
        );
    fishbanks()
        .args(["transcript", dir.to_str().unwrap(), &run, "--agent", "5"])
        .assert()
        .success()
        .stdout(predicate::str::contains("agent 5 (team 6)"));
    fishbanks()
        .args(["transcript", dir.to_str().unwrap(), &run, "--agent", "6"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("agent 6 is not in run"));
}

/// The story reads as sentences and ends with the result: the collapse year marked,
/// trembles flagged, the fleet a team had (not what it ordered), fines in words, and the
/// final assets ranked.
#[test]
fn a_story_marks_the_collapse_flags_trembles_and_ends_with_the_ranking() {
    let work = tempfile::tempdir().unwrap();
    let exp = TestExperiment::new("told", 20, 1)
        .population(
            "mixed",
            r#"{ strategy = "conditional", count = 5, tremble = 0.3 }, { strategy = "free_rider", count = 1 }"#,
        )
        .protocol("sanctions", "sanctions", "");
    let (dir, run) = play(work.path(), &exp, "sanctions/mixed", &[]);
    let out = fishbanks()
        .args(["story", dir.to_str().unwrap(), &run])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let runs = Table::read(&dir.join("runs.csv"));
    let year: u32 = runs.column("collapse_year")[0].parse().unwrap();
    let survived = runs.column("survival_years")[0];
    assert!(
        text.contains(&format!(
            "the sea collapsed in year {year} (it held for {survived} years)"
        )),
        "{text}"
    );
    let marked = text.find("- The sea collapsed this year").unwrap();
    let heading = text.find(&format!("\n## Year {year}\n")).unwrap() + 1;
    assert!(marked > heading && !text[heading + 3..marked].contains("## Year"));
    assert!(text.contains("trembled: it played order"), "{text}");
    for slip in [
        "fines moved",
        "gave 1 fines",
        "years before the collapse",
        "leads until",
    ] {
        assert!(!text.contains(slip), "{slip}: {text}");
    }
    assert!(
        text.contains("fined 1 team") || text.contains("fined 2 teams"),
        "{text}"
    );
    assert!(text.contains("for last year's fines"), "{text}");
    // Ships: the fleet at sea and in the harbor this year.
    for line in text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| team"))
    {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        if let (Ok(ships), Ok(deep), Ok(coast), Ok(harbor)) = (
            f[3].parse::<i64>(),
            f[5].parse::<i64>(),
            f[6].parse::<i64>(),
            f[7].parse::<i64>(),
        ) {
            assert_eq!(ships, deep + coast + harbor, "{line}");
        }
    }
    // The end: six teams ranked by their final assets, as agents.csv has them.
    let end = &text[text.find("## The end").unwrap()..];
    let agents = Table::read(&dir.join("agents.csv"));
    let mut last: Vec<(i64, usize)> = agents
        .rows
        .iter()
        .filter(|r| r[agents.col("year")] == "20")
        .map(|r| {
            (
                r[agents.col("assets")].parse().unwrap(),
                r[agents.col("agent")].parse().unwrap(),
            )
        })
        .collect();
    last.sort_by_key(|(assets, team)| (std::cmp::Reverse(*assets), *team));
    let ranked: Vec<&str> = end.lines().filter(|l| l.contains(". team ")).collect();
    assert_eq!(ranked.len(), 6, "{end}");
    for (line, (_, team)) in ranked.iter().zip(&last) {
        assert!(line.contains(&format!("team {} (", team + 1)), "{end}");
    }
}
