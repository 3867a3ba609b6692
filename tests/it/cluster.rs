//! Past one machine: shards that crash, fail and are run again merge into what one machine
//! writes, their LLM caches joined so that the merged sweep replays with no server; a
//! shard left out of plan order; the shipped Slurm job scripts (`examples/slurm/`), run
//! as Slurm runs them (bash with the array's variables set), without a scheduler. The
//! same scripts on a real Slurm are `bench/slurm.sh`.

use crate::common::{assert_same_files, fishbanks, write, Server, TestExperiment};
use fishbanks::testkit::mock_server::ServerOptions;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROWS: [&str; 4] = ["runs.csv", "years.csv", "agents.csv", "messages.csv"];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_fishbanks")
}

/// `fishbanks run EXP --out OUT ARGS` with `env`; its output.
fn run(exp: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(bin())
        .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(["--no-report", "--events", "summary"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\n{}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn merge(dirs: &[PathBuf], out: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("merge")
        .args(dirs)
        .args(["--out", out.to_str().unwrap(), "--no-report"])
        .args(args)
        .output()
        .unwrap()
}

/// The run ids of `runs.csv`, in file order, with their status.
fn runs(dir: &Path) -> Vec<(String, String)> {
    fs::read_to_string(dir.join("runs.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[0].to_string(), cols[5].to_string())
        })
        .collect()
}

/// A loopback URL nobody listens on.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

/// Sixteen runs of LLM seats (six, and three beside scripted teams) on one shared
/// OpenAI-compatible server.
fn shared_server_experiment(url: &str) -> String {
    TestExperiment::new("cl", 4, 4)
        .provider(
            "shared",
            &format!(
                r#"kind = "openai"
base_url = "{url}"
model = "mock-greedy"
temperature = 0.7
seed = 3
timeout_s = 5
retry_base_ms = 1
retry_max_ms = 5"#
            ),
        )
        .population("llm", r#"{ kind = "llm", provider = "shared", count = 6 }"#)
        .population(
            "mixed",
            r#"{ kind = "llm", provider = "shared", count = 3 }, { strategy = "conditional", count = 3, tremble = 0.1 }"#,
        )
        .protocol("none", "none", "")
        .protocol("broadcast", "broadcast", "")
        .toml()
}

#[test]
fn shards_that_crash_or_fail_and_are_run_again_merge_into_one_machines_sweep_which_replays_with_no_server(
) {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // The server's own answers need repairs now and then (the same request, the same
    // answer), as a real model's do.
    let server = Server::with(ServerOptions {
        noise: 0.1,
        ..ServerOptions::default()
    });
    let exp = write(w, "cl.toml", &shared_server_experiment(&server.url));
    ok(&run(&exp, &w.join("whole"), &["--jobs", "4"], &[]));
    let whole = w.join("whole/cl");

    // Shard 1 of 3 runs through.
    ok(&run(&exp, &w.join("s1"), &["--shard", "1/3"], &[]));
    // Shard 2 is lost after writing two runs (a node gone mid-shard), then run again into
    // the same directory as the job script does: runs half played are answered from
    // their cache, the rest asked.
    let lost = run(
        &exp,
        &w.join("s2"),
        &["--shard", "2/3", "--jobs", "2"],
        &[("FISHBANKS_ABORT_AFTER_RUNS", "2")],
    );
    assert!(!lost.status.success());
    assert_eq!(runs(&w.join("s2/cl")).len(), 2);
    let resumed = ok(&run(
        &exp,
        &w.join("s2"),
        &["--shard", "2/3", "--cache-mode", "replay-or-live"],
        &[],
    ));
    assert!(
        resumed.contains("shard 2/3: 5 of 16 runs")
            && resumed.contains("resumed: 2 runs were already complete"),
        "{resumed}"
    );
    // Shard 3's runs all fail (replayed from an empty cache: an infrastructure error),
    // then the same shard run again plays them again (--retry-failed, the default).
    let empty = w.join("empty-cache");
    fs::create_dir_all(&empty).unwrap();
    let failed = run(
        &exp,
        &w.join("s3"),
        &[
            "--shard",
            "3/3",
            "--cache-mode",
            "replay",
            "--cache-dir",
            empty.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(failed.status.code(), Some(3));
    let statuses = runs(&w.join("s3/cl"));
    assert!(
        !statuses.is_empty() && statuses.iter().all(|(_, s)| s == "failed"),
        "{statuses:?}"
    );
    ok(&run(&exp, &w.join("s3"), &["--shard", "3/3"], &[]));
    assert!(runs(&w.join("s3/cl")).iter().all(|(_, s)| s == "ok"));

    let shards: Vec<PathBuf> = (1..=3).map(|k| w.join(format!("s{k}/cl"))).collect();
    let merged = w.join("merged");
    let said = ok(&merge(&shards, &merged, &[]));
    assert!(said.contains("merged 16 runs from 3 directories"), "{said}");
    assert!(
        said.contains("cache: every one of the") && said.contains("of the 16 runs that asked"),
        "{said}"
    );
    assert_same_files(&whole, &merged, &ROWS);
    assert_same_files(&whole, &merged, &["summary.md", "manifest.json"]);
    assert_eq!(fs::read_dir(merged.join("runs")).unwrap().count(), 16);

    // The server goes away; the merged cache alone replays the sweep, byte for byte.
    drop(server);
    let offline = write(w, "offline.toml", &shared_server_experiment(&closed_url()));
    ok(&run(
        &offline,
        &w.join("replay"),
        &[
            "--cache-mode",
            "replay",
            "--cache-dir",
            merged.join("cache").to_str().unwrap(),
        ],
        &[],
    ));
    assert_same_files(&merged, &w.join("replay/cl"), &ROWS);
}

/// Six runs of six in-process mock LLMs: no server, still a cache.
fn mock_experiment(name: &str, extra: &str) -> String {
    TestExperiment::new(name, 3, 3)
        .provider(
            "m",
            r#"kind = "mock"
policy = "greedy"
noise = 0.1
temperature = 0.7
seed = 5"#,
        )
        .population("llm", r#"{ kind = "llm", provider = "m", count = 6 }"#)
        .protocol("none", "none", "")
        .protocol("broadcast", "broadcast", "")
        .section(extra)
        .toml()
}

#[test]
fn a_shard_left_out_of_plan_order_merges_and_resumes_in_order_and_caches_kept_elsewhere_are_joined()
{
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let exp = write(w, "order.toml", &mock_experiment("order", ""));
    ok(&run(&exp, &w.join("whole"), &[], &[]));
    let whole = w.join("whole/order");
    ok(&run(&exp, &w.join("clean1"), &["--shard", "1/2"], &[]));
    let clean = w.join("clean1/order");
    let shard1: Vec<String> = runs(&clean).into_iter().map(|(id, _)| id).collect();
    assert_eq!(shard1.len(), 3);

    // A cache kept outside the shard (`--cache-dir`) that lacks the shard's second run:
    // replayed from it, that run fails and the two around it are recorded.
    let kept = w.join("kept-cache");
    fs::create_dir_all(&kept).unwrap();
    for entry in fs::read_dir(whole.join("cache")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_stem().unwrap().to_str() != Some(shard1[1].as_str()) {
            fs::copy(&path, kept.join(path.file_name().unwrap())).unwrap();
        }
    }
    let s1 = w.join("s1");
    let first = run(
        &exp,
        &s1,
        &[
            "--shard",
            "1/2",
            "--cache-mode",
            "replay",
            "--cache-dir",
            kept.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(first.status.code(), Some(3));
    let statuses: Vec<String> = runs(&s1.join("order")).into_iter().map(|r| r.1).collect();
    assert_eq!(statuses, ["ok", "failed", "ok"]);
    // Run again, it plays the failed run again and appends it after the third; stopped
    // right after writing it, before putting the files back in plan order.
    let stopped = run(
        &exp,
        &s1,
        &["--shard", "1/2"],
        &[("FISHBANKS_ABORT_AFTER_RUNS", "1")],
    );
    assert!(!stopped.status.success());
    let order: Vec<String> = runs(&s1.join("order")).into_iter().map(|r| r.0).collect();
    assert_eq!(
        order,
        [shard1[0].clone(), shard1[2].clone(), shard1[1].clone()],
        "out of plan order"
    );
    ok(&run(&exp, &w.join("s2"), &["--shard", "2/2"], &[]));
    let shards = [s1.join("order"), w.join("s2/order")];

    // Merged, the rows are in plan order: what one machine wrote. The two runs replayed
    // from the kept cache have no cache in their shard: merge says they cannot be
    // replayed without a server.
    let said = String::from_utf8_lossy(&merge(&shards, &w.join("m1"), &[]).stderr).to_string();
    assert!(
        said.contains(
            "WARNING: 2 of the 6 runs that asked a model are not all in the merged cache"
        ) && said.contains(&format!("{} (0 of", shard1[0]))
            && said.contains("--cache-dir"),
        "{said}"
    );
    assert_same_files(&whole, &w.join("m1"), &ROWS);
    // Given the kept cache, merge joins it: every call is there, and it replays.
    let m2 = w.join("m2");
    let said = ok(&merge(
        &shards,
        &m2,
        &["--cache-dir", kept.to_str().unwrap()],
    ));
    assert!(said.contains("cache: every one of the"), "{said}");
    assert_same_files(&whole, &m2, &ROWS);
    ok(&run(
        &exp,
        &w.join("replay"),
        &[
            "--cache-mode",
            "replay",
            "--cache-dir",
            m2.join("cache").to_str().unwrap(),
        ],
        &[],
    ));
    assert_same_files(&whole, &w.join("replay/order"), &ROWS);
    // A cache directory that is not there is an error, not an empty join.
    fishbanks()
        .arg("merge")
        .args(&shards)
        .args(["--out", w.join("m4").to_str().unwrap(), "--cache-dir"])
        .arg(w.join("nowhere"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("no such directory"));

    // The shard resumed with nothing left to play is put back in plan order: the files a
    // clean run of the shard writes.
    ok(&run(&exp, &s1, &["--shard", "1/2"], &[]));
    assert_same_files(&clean, &s1.join("order"), &ROWS);
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/slurm")
        .join(name)
}

/// A task of the job array as Slurm starts it: bash running the script with the array's
/// variables (`task` of an array `first..=last`).
fn task(
    dir: &Path,
    exp: &Path,
    shards: u32,
    task: u32,
    array: (u32, u32),
    env: &[(&str, &str)],
) -> Output {
    Command::new("bash")
        .arg(script("sweep.sbatch"))
        .current_dir(dir)
        .env("FISHBANKS", bin())
        .env("EXPERIMENT", exp)
        .env("SHARDS", shards.to_string())
        .env("OUT", dir.join("out"))
        .env("SLURM_ARRAY_TASK_ID", task.to_string())
        .env("SLURM_ARRAY_TASK_MIN", array.0.to_string())
        .env("SLURM_ARRAY_TASK_MAX", array.1.to_string())
        .env(
            "SLURM_ARRAY_TASK_COUNT",
            (array.1 - array.0 + 1).to_string(),
        )
        .env("SLURM_CPUS_PER_TASK", "2")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn merge_job(dir: &Path, exp: &Path, shards: u32) -> Output {
    Command::new("bash")
        .arg(script("merge.sbatch"))
        .current_dir(dir)
        .env("FISHBANKS", bin())
        .env("EXPERIMENT", exp)
        .env("SHARDS", shards.to_string())
        .env("OUT", dir.join("out"))
        .output()
        .unwrap()
}

#[test]
fn the_shipped_job_scripts_play_the_shards_run_a_lost_task_again_and_merge() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let exp = TestExperiment::new("slurmy", 5, 4)
        .population(
            "free-rider",
            r#"{ strategy = "conditional", count = 5, tremble = 0.05 }, { strategy = "free_rider", count = 1, tremble = 0.05 }"#,
        )
        .protocol("none", "none", "")
        .protocol("quota", "quota", r#"enforcement = "binding""#)
        .protocol("broadcast", "broadcast", "")
        .write(w);
    ok(&run(&exp, &w.join("whole"), &[], &[]));

    // Tasks 1 and 3 run through; task 2 is lost after its first run.
    for k in [1, 3] {
        let out = task(w, &exp, 3, k, (1, 3), &[]);
        let said = ok(&out);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!("shard {k}/3: done")),
            "{said}"
        );
    }
    let lost = task(
        w,
        &exp,
        3,
        2,
        (1, 3),
        &[("FISHBANKS_ABORT_AFTER_RUNS", "1")],
    );
    assert!(!lost.status.success(), "a lost task is not done");
    // The merge job refuses while a shard is missing... (task 2 wrote a run, so name a
    // shard that has nothing: a 4-shard layout has no shard 4).
    let early = merge_job(w, &exp, 4);
    assert!(!early.status.success());
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("shard 4/4 has no results"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    // ... and merge itself refuses a shard that is unfinished.
    let unfinished = merge_job(w, &exp, 3);
    assert!(!unfinished.status.success());
    assert!(String::from_utf8_lossy(&unfinished.stderr).contains("runs are in no directory"));
    // Task 2 submitted again on its own (`sbatch --array=2`): it resumes.
    let again = ok(&task(w, &exp, 3, 2, (2, 2), &[]));
    assert!(
        again.contains("resumed: 1 runs were already complete"),
        "{again}"
    );

    let merged = ok(&merge_job(w, &exp, 3));
    assert!(
        merged.contains("merged 12 runs from 3 directories"),
        "{merged}"
    );
    let dir = w.join("out/merged/slurmy");
    assert_same_files(&w.join("whole/slurmy"), &dir, &ROWS);
    assert!(dir.join("report.md").exists(), "the merge job reports");
    // Run again (after a task was run again), the merge job replaces the merged sweep.
    fs::write(dir.join("stale"), "from the last merge").unwrap();
    ok(&merge_job(w, &exp, 3));
    assert!(!dir.join("stale").exists() && !w.join("out/merged/slurmy.old").exists());
    assert_same_files(&w.join("whole/slurmy"), &dir, &ROWS);

    // The shipped LLM example is a valid experiment.
    fishbanks()
        .args(["validate"])
        .arg(script("llm-cluster.toml"))
        .assert()
        .success();
}

#[test]
fn the_job_script_refuses_a_task_past_the_shards_and_tells_failed_runs_from_invalid_ones() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // Answers so noisy, with no re-ask, that runs fall back too often: `invalid`.
    let exp = write(
        w,
        "noisy.toml",
        &mock_experiment("noisy", "[llm]\nmax_repairs = 0\nmax_fallback_share = 0.01")
            .replace("noise = 0.1", "noise = 0.5"),
    );
    // An array of four tasks for three shards: the fourth is not a shard, and writes
    // nothing.
    let past = task(w, &exp, 3, 4, (1, 4), &[]);
    assert_eq!(past.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&past.stderr)
        .contains("array task 4 is not a shard of 1-3: submit with --array=1-3"));
    assert!(!w.join("out/shards/4").exists());

    // Replayed from a cache that does not exist, every run fails: the task fails and
    // says how to play them again.
    let failed = task(w, &exp, 1, 1, (1, 1), &[("CACHE_MODE", "replay")]);
    assert_eq!(failed.status.code(), Some(3));
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(
        said.contains("6 runs FAILED") && said.contains("sbatch --array=1"),
        "{said}"
    );
    // The task again: the runs are played, and come out invalid. Those are results: the
    // task is done.
    let done = task(w, &exp, 1, 1, (1, 1), &[]);
    let said = ok(&done);
    assert!(
        String::from_utf8_lossy(&done.stdout).contains("some runs are invalid"),
        "{said}"
    );
    let statuses = runs(&w.join("out/shards/1/noisy"));
    assert_eq!(statuses.len(), 6);
    assert!(statuses.iter().all(|(_, s)| s == "invalid"), "{statuses:?}");
}
