//! Sweeps that survive: kill and resume, torn files, shards and merge, stopping, event
//! levels. Crashes are injected deterministically (`FISHBANKS_ABORT_AFTER_RUNS` makes the
//! binary abort right after writing that many runs), so no test depends on timing.

use crate::common::*;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

fn run(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    fishbanks()
        .args([
            "run",
            quickstart().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-report",
        ])
        .args(extra)
        .assert()
}

const FILES: [&str; 5] = [
    "manifest.json",
    "runs.csv",
    "years.csv",
    "agents.csv",
    "summary.md",
];

fn assert_same(a: &Path, b: &Path) {
    assert_same_files(a, b, &FILES);
    let events = |d: &Path| {
        let mut ids: Vec<String> = fs::read_dir(d.join("runs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        ids.sort();
        ids
    };
    let ids = events(a);
    assert_eq!(ids, events(b));
    for id in ids.iter().step_by(37) {
        let file = Path::new("runs").join(id).join("events.jsonl");
        assert_eq!(
            fs::read(a.join(&file)).unwrap(),
            fs::read(b.join(&file)).unwrap(),
            "{}",
            file.display()
        );
    }
}

fn reference(work: &Path) -> PathBuf {
    run(&work.join("reference"), &[]).success();
    work.join("reference/quickstart")
}

#[test]
fn killed_at_any_point_a_resumed_sweep_ends_with_the_same_files() {
    let work = tempfile::tempdir().unwrap();
    let reference = reference(work.path());
    for (i, after) in [1usize, 37, 239].into_iter().enumerate() {
        let out = work.path().join(format!("killed{i}"));
        let mut cmd = fishbanks();
        cmd.args([
            "run",
            quickstart().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-report",
            "--jobs",
            "2",
        ])
        .env("FISHBANKS_ABORT_AFTER_RUNS", after.to_string());
        let status = cmd.assert().get_output().status;
        assert!(!status.success(), "aborted");
        let rows = fs::read_to_string(out.join("quickstart/runs.csv"))
            .unwrap()
            .lines()
            .count()
            - 1;
        assert_eq!(rows, after);
        // Resuming is automatic for the same experiment; --resume says so explicitly.
        run(&out, &["--resume", "--jobs", "3"]).success();
        assert_same(&reference, &out.join("quickstart"));
    }
}

#[test]
fn torn_rows_are_cut_off_and_replayed() {
    let work = tempfile::tempdir().unwrap();
    let reference = reference(work.path());
    let out = work.path().join("torn");
    fishbanks()
        .args([
            "run",
            quickstart().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-report",
        ])
        .env("FISHBANKS_ABORT_AFTER_RUNS", "50")
        .assert()
        .failure();
    let dir = out.join("quickstart");
    // A crash in the middle of writing the next run: whole year rows, a torn agent row,
    // half a runs.csv row.
    let next_years: String = fs::read_to_string(reference.join("years.csv"))
        .unwrap()
        .lines()
        .skip(1 + 50 * 20)
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    let append = |file: &str, text: &str| {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(dir.join(file))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    append("years.csv", &next_years);
    append("agents.csv", "deadbeef0000,1,0,2,4,0,0,6,10");
    append("runs.csv", "deadbeef0000,none/greedy,none,gre");
    run(&out, &[]).success();
    assert_same(&reference, &dir);
}

/// A shard is a share of every cell: it reports nothing of its own and says how the
/// report comes (merge every shard, then report), so no one reads a fraction as a result.
#[test]
fn a_shard_says_its_report_comes_from_every_shard_together() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("s1");
    let assert = fishbanks()
        .args([
            "run",
            quickstart().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--shard", "1/40"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("shard 1/40: 7 of 280 runs"), "{stderr}");
    assert!(
        stderr.contains("fishbanks merge DIR... --out MERGED, then fishbanks report MERGED"),
        "{stderr}"
    );
    assert!(!out.join("quickstart/report.md").exists());
    assert!(out.join("quickstart/runs.csv").exists());
}

#[test]
fn shards_merged_equal_a_single_machine_run() {
    let work = tempfile::tempdir().unwrap();
    let reference = reference(work.path());
    let mut dirs = Vec::new();
    let mut sizes = Vec::new();
    for k in 1..=3 {
        let out = work.path().join(format!("shard{k}"));
        run(&out, &["--shard", &format!("{k}/3")]).success();
        let dir = out.join("quickstart");
        sizes.push(
            fs::read_to_string(dir.join("runs.csv"))
                .unwrap()
                .lines()
                .count()
                - 1,
        );
        dirs.push(dir);
    }
    assert_eq!(sizes.iter().sum::<usize>(), 280, "every run in one shard");
    assert!(
        sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
        "balanced: {sizes:?}"
    );
    let merged = work.path().join("merged");
    fishbanks()
        .arg("merge")
        .args(&dirs)
        .args(["--out", merged.to_str().unwrap(), "--no-report"])
        .assert()
        .success();
    assert_same(&reference, &merged);

    // A shard twice: duplicates are refused, and so is an incomplete set.
    fishbanks()
        .arg("merge")
        .args([&dirs[0], &dirs[0]])
        .args(["--out", work.path().join("dup").to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("more than one directory"));
    fishbanks()
        .arg("merge")
        .args(&dirs[..2])
        .args(["--out", work.path().join("partial").to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "{} of 280 runs are in no directory",
            sizes[2]
        )));
    fishbanks()
        .arg("merge")
        .args(&dirs[..2])
        .args([
            "--out",
            work.path().join("partial2").to_str().unwrap(),
            "--allow-missing",
            "--no-report",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "missing {} runs",
            sizes[2]
        )));
    // A shard cannot be resumed as another shard in the same directory.
    run(&work.path().join("shard1"), &["--shard", "2/3"])
        .failure()
        .stderr(predicate::str::contains("holds shard 1/3"));
}

#[test]
fn merge_refuses_different_experiments() {
    let work = tempfile::tempdir().unwrap();
    let a = work.path().join("a");
    run(&a, &["--shard", "1/2"]).success();
    let other = work.path().join("other.toml");
    fs::write(
        &other,
        fs::read_to_string(quickstart())
            .unwrap()
            .replace("years = 20 ", "years = 19 "),
    )
    .unwrap();
    let b = work.path().join("b");
    fishbanks()
        .args([
            "run",
            other.to_str().unwrap(),
            "--out",
            b.to_str().unwrap(),
            "--quiet",
            "--no-report",
            "--shard",
            "2/2",
        ])
        .assert()
        .success();
    fishbanks()
        .args([
            "merge",
            a.join("quickstart").to_str().unwrap(),
            b.join("quickstart").to_str().unwrap(),
        ])
        .args(["--out", work.path().join("m").to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("different experiments"));
}

#[test]
fn event_levels_control_the_logs() {
    let work = tempfile::tempdir().unwrap();
    let none = work.path().join("none");
    run(&none, &["--events", "none"]).success();
    assert!(!none.join("quickstart/runs").exists());
    let summary = work.path().join("summary");
    run(&summary, &["--events", "summary"]).success();
    let dir = summary.join("quickstart/runs");
    let first = fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let text = fs::read_to_string(first.join("events.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 22, "run start, 20 years, run end");
    for line in text.lines() {
        let kind = serde_json::from_str::<serde_json::Value>(line).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            ["run_start", "year", "run_end"].contains(&kind.as_str()),
            "{kind}"
        );
    }
    // The CSVs do not depend on the event level.
    assert_eq!(
        fs::read(none.join("quickstart/agents.csv")).unwrap(),
        fs::read(summary.join("quickstart/agents.csv")).unwrap()
    );
}

/// A slow LLM sweep (the in-process mock waits 150 ms per call), stopped with SIGINT after
/// its first run is written, then resumed.
#[test]
fn sigint_finishes_running_runs_and_says_how_to_resume() {
    let work = tempfile::tempdir().unwrap();
    let exp = work.path().join("slow.toml");
    fs::write(
        &exp,
        r#"
name = "slow"
years = 4
seeds = 4
[providers.mock]
kind = "mock"
latency_ms = 150
[populations.llm]
agents = [{ kind = "llm", provider = "mock", count = 6 }]
[protocols.none]
kind = "none"
[matrix]
protocol = ["none"]
population = ["llm"]
"#,
    )
    .unwrap();
    let out = work.path().join("out");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-report",
            "--jobs",
            "1",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runs = out.join("slow/runs.csv");
    let rows = || fs::read_to_string(&runs).map_or(0, |t| t.lines().count().saturating_sub(1));
    // Wait (bounded) for the first run to be written; the assertions below do not depend
    // on when exactly the signal lands.
    for _ in 0..600 {
        if rows() >= 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(rows() >= 1, "the first run was written");
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(130) {
        assert!(stderr.contains("Resume with"), "{stderr}");
        let written = rows();
        assert!((1..4).contains(&written), "{written} runs written");
    } else {
        // The sweep happened to end before the signal arrived.
        assert!(output.status.success(), "{stderr}");
    }
    fishbanks()
        .args([
            "run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-report",
        ])
        .assert()
        .success();
    assert_eq!(rows(), 4);
}

/// The injected stop signal, without any real signal: finishing stops new runs, and what
/// was written is a resumable prefix.
#[test]
fn a_stop_request_finishes_running_runs_and_leaves_a_resumable_directory() {
    use fishbanks::experiment::{self, Experiment, Hooks, RunOptions, StopLevel};
    use fishbanks::record::{FinishedRun, RecordError, RunSink};
    use std::sync::{Arc, Mutex};

    /// Asks to stop as soon as the third run is written.
    struct StopAfter {
        stop: tokio::sync::watch::Sender<StopLevel>,
        seen: Mutex<usize>,
    }
    impl RunSink for StopAfter {
        fn run_finished(&self, _run: &FinishedRun) -> Result<(), RecordError> {
            let mut seen = self.seen.lock().unwrap();
            *seen += 1;
            if *seen == 3 {
                let _ = self.stop.send(StopLevel::Finish);
            }
            Ok(())
        }
    }

    let work = tempfile::tempdir().unwrap();
    let exp = Experiment::load(&quickstart()).unwrap();
    let mut options = RunOptions::new(work.path());
    options.jobs = 2;
    let (tx, rx) = tokio::sync::watch::channel(StopLevel::Run);
    let hooks = Hooks {
        stop: Some(rx),
        sinks: vec![Arc::new(StopAfter {
            stop: tx,
            seen: Mutex::new(0),
        })],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let outcome = runtime
        .block_on(experiment::run_with(&exp, &options, hooks))
        .unwrap();
    // Runs already started when the stop came are finished and written; nothing new
    // starts. Started runs are at most the runner's look-ahead window (4 × jobs) past the
    // write cursor.
    assert!(
        (3..=3 + 8).contains(&outcome.runs_played),
        "{}",
        outcome.runs_played
    );
    assert_eq!(outcome.runs_played + outcome.runs_left, 280);
    let rows = fs::read_to_string(work.path().join("quickstart/runs.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(rows, outcome.runs_played);
    let resumed = runtime.block_on(experiment::run(&exp, &options)).unwrap();
    assert_eq!(resumed.runs_skipped, outcome.runs_played);
    assert_eq!(resumed.runs_left, 0);
}
