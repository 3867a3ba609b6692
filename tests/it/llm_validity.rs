//! A result is only a result if the agents played: independent replicates, runs where
//! the model did not really answer marked invalid, a dead server stopping the sweep
//! before run 1, flat resources over long sweeps, auditable prompts.

use crate::common::{run_experiment, write, Table, TestExperiment};
use std::fs;
use std::path::Path;

fn mock_experiment(seeds: u32, years: u32, policy: &str, noise: f64) -> String {
    TestExperiment::new("validity", years, seeds)
        .provider(
            "mock",
            &format!("kind = \"mock\"\npolicy = \"{policy}\"\nnoise = {noise}\nseed = 1"),
        )
        .population("llm", r#"{ kind = "llm", provider = "mock", count = 6 }"#)
        .protocol("none", "none", "")
        .toml()
}

/// Each run's decisions in `agents.csv`, as one string per run.
fn decisions(dir: &Path) -> Vec<String> {
    let agents = Table::read(&dir.join("agents.csv"));
    let (id, o, d, c) = (
        agents.col("run_id"),
        agents.col("order"),
        agents.col("deep"),
        agents.col("coast"),
    );
    let mut runs: Vec<(String, String)> = Vec::new();
    for r in &agents.rows {
        match runs.last_mut() {
            Some((run, text)) if *run == r[id] => {
                text.push_str(&format!("{},{},{};", r[o], r[d], r[c]))
            }
            _ => runs.push((r[id].clone(), format!("{},{},{};", r[o], r[d], r[c]))),
        }
    }
    runs.into_iter().map(|(_, t)| t).collect()
}

#[test]
fn replicates_sample_independently_and_a_replicate_replays_identically() {
    let work = tempfile::tempdir().unwrap();
    // The chaotic mock draws every decision from the seed each call carries.
    let exp = write(
        work.path(),
        "e.toml",
        &mock_experiment(3, 4, "chaotic", 0.0),
    );
    for out in ["a", "b"] {
        let o = run_experiment(&exp, &work.path().join(out), &["--no-report"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let a = decisions(&work.path().join("a/validity"));
    assert_eq!(a.len(), 3);
    assert_ne!(a[0], a[1], "replicate 1 and 2 must not be one game");
    assert_ne!(a[1], a[2]);
    for file in ["runs.csv", "years.csv", "agents.csv"] {
        assert_eq!(
            fs::read(work.path().join("a/validity").join(file)).unwrap(),
            fs::read(work.path().join("b/validity").join(file)).unwrap(),
            "the same replicate replays byte for byte: {file}"
        );
    }
}

#[test]
fn a_model_that_always_answers_garbage_gives_invalid_runs_and_a_failing_exit() {
    let work = tempfile::tempdir().unwrap();
    let exp = write(work.path(), "e.toml", &mock_experiment(2, 3, "greedy", 1.0));
    let out = run_experiment(&exp, work.path(), &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("INVALID"));
    let runs = Table::read(&work.path().join("validity/runs.csv"));
    assert_eq!(runs.column("status"), ["invalid", "invalid"]);
    assert!(runs.numbers("fallback_share").iter().all(|s| *s == 1.0));
    assert!(runs
        .numbers("llm_valid_first_try")
        .iter()
        .all(|v| *v == 0.0));
    assert!(runs.column("error")[0].contains("did not really play"));
    // Every decision is marked as a fallback, none as an engine repair.
    let agents = Table::read(&work.path().join("validity/agents.csv"));
    assert!(agents.column("fallback").iter().all(|f| *f == "true"));
    assert!(agents.column("repaired").iter().all(|r| *r == "false"));
    let summary = fs::read_to_string(work.path().join("validity/summary.md")).unwrap();
    assert!(
        summary.contains("| none/llm | 0 | 2 | 0 | 0 | – | – |"),
        "{summary}"
    );
    assert!(!summary.contains("NaN"), "{summary}");
    // The report says nothing can be said, and shows no outcome for the cell (an empty
    // Kaplan–Meier curve would read as "every run survived").
    let report = fs::read_to_string(work.path().join("validity/report.md")).unwrap();
    assert!(
        report.contains(
            "Nothing can be tested: none of its `none` runs is valid (2 invalid, 0 failed)"
        ),
        "{report}"
    );
    assert!(report.contains("| none/llm | 0 / 2 / 0 | – |"), "{report}");
    assert!(!report.contains("NaN"), "{report}");
    let comparison = Table::read(&work.path().join("validity/comparison.csv"));
    let (metric, estimate) = (comparison.col("metric"), comparison.col("estimate"));
    let rmst = comparison
        .rows
        .iter()
        .find(|r| r[metric] == "rmst")
        .unwrap();
    assert_eq!(rmst[estimate], "", "no RMST without a valid run");
    // The diagnostics say which runs they left out.
    let diagnose = crate::common::fishbanks()
        .arg("diagnose")
        .arg(work.path().join("validity"))
        .output()
        .unwrap();
    assert!(diagnose.status.success());
    assert!(
        String::from_utf8_lossy(&diagnose.stderr)
            .contains("2 runs left out (2 invalid, 0 failed, 0 stopped by the budget)"),
        "{}",
        String::from_utf8_lossy(&diagnose.stderr)
    );
}

#[test]
fn a_dead_server_stops_the_sweep_before_run_one() {
    let work = tempfile::tempdir().unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let text = format!(
        r#"
name = "dead"
years = 3
seeds = 2
[providers.local]
kind = "openai"
base_url = "http://{closed}/v1"
model = "m"
retry_base_ms = 1
max_retries = 1
[populations.llm]
agents = [{{ kind = "llm", provider = "local", count = 6 }}]
[protocols.none]
kind = "none"
[matrix]
protocol = ["none"]
population = ["llm"]
"#
    );
    let exp = write(work.path(), "e.toml", &text);
    let out = run_experiment(&exp, &work.path().join("out"), &[]);
    // Down, as if it went down later: exit 75 (start again once it is back).
    assert_eq!(out.status.code(), Some(75));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unreachable") && stderr.contains(&closed.to_string()),
        "{stderr}"
    );
    assert!(
        !work.path().join("out/dead/runs.csv").exists(),
        "no run was played"
    );
}

#[test]
fn a_long_sweep_keeps_no_file_open_per_run() {
    let work = tempfile::tempdir().unwrap();
    let exp = write(
        work.path(),
        "e.toml",
        &mock_experiment(300, 2, "sustainable", 0.0),
    );
    let bin = env!("CARGO_BIN_EXE_fishbanks");
    // A limit far below the number of runs: one open cache file per run would fail.
    let script = format!(
        "ulimit -n 40 && exec {bin} run {} --out {} --quiet --no-report --jobs 4 --events none",
        exp.display(),
        work.path().join("out").display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = Table::read(&work.path().join("out/validity/runs.csv"));
    assert_eq!(runs.rows.len(), 300, "no run lost");
    assert!(runs.column("status").iter().all(|s| *s == "ok"));
}

#[test]
fn a_transcript_shows_prompts_answers_and_repairs() {
    let work = tempfile::tempdir().unwrap();
    // Noise 0.3 may leave a fallback or two; the transcript is what is tested here, so
    // such a run is not refused as invalid.
    let exp = write(
        work.path(),
        "e.toml",
        &format!(
            "{}\n[llm]\nmax_fallback_share = 1.0\n",
            mock_experiment(1, 3, "greedy", 0.3)
        ),
    );
    let out = run_experiment(&exp, work.path(), &["--no-report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = Table::read(&work.path().join("validity/runs.csv"));
    let id = &runs.column("run_id")[0];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "transcript",
            work.path().join("validity").to_str().unwrap(),
            id,
            "--agent",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("## Call 1: year 1, agent 2 (team 3): decision, attempt 1"),
        "{text}"
    );
    assert!(text.contains("REQUEST: decision") && text.contains("Your team: 3"));
    assert!(text.contains("This is the first year"));
    assert!(text.contains("→ valid"));
    // Noise 0.3 over three years: some answer needed a repair, shown with its reason.
    let repairs: f64 = runs.numbers("llm_repairs").iter().sum();
    if repairs > 0.0 {
        let all = std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
            .args([
                "transcript",
                work.path().join("validity").to_str().unwrap(),
                id,
            ])
            .output()
            .unwrap();
        let all = String::from_utf8(all.stdout).unwrap();
        assert!(
            all.contains("→ invalid:") && all.contains("attempt 2"),
            "{all}"
        );
    }
    assert!(
        !text.contains("agent 1 (team 2)"),
        "only the agent asked for"
    );
    // What every call repeats is shown once: the system prompt and the rules.
    assert_eq!(text.matches("### system\n").count(), 1, "{text}");
    assert!(text.contains("### system: as in call 1"), "{text}");
    assert!(text.contains("lines as in call 1, then"), "{text}");
    // --answers: one line per question the run asked.
    let lines = std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "transcript",
            work.path().join("validity").to_str().unwrap(),
            id,
            "--answers",
        ])
        .output()
        .unwrap();
    let lines = String::from_utf8(lines.stdout).unwrap();
    let questions = lines
        .lines()
        .filter(|l| l.split(" | ").count() == 5 && !l.starts_with("year"))
        .count();
    assert_eq!(questions as f64, runs.numbers("llm_answers")[0], "{lines}");
    assert!(lines.contains(" | decision | "), "{lines}");
}

/// Every request a mock sweep recorded carries its question's exact schema and a
/// `max_tokens` with room for the longest valid answer; every answer the mock gave validly
/// is one that schema admits (checked by an independent JSON-schema validator).
#[test]
fn recorded_requests_carry_exact_schemas_and_max_tokens() {
    let work = tempfile::tempdir().unwrap();
    let text = TestExperiment::new("exact", 4, 2)
        .provider(
            "mock",
            "kind = \"mock\"\npolicy = \"conditional\"\nseed = 1",
        )
        .population("llm", r#"{ kind = "llm", provider = "mock", count = 6 }"#)
        .protocol("broadcast", "broadcast", "max_message_chars = 120")
        .protocol("quota", "quota", "")
        .toml();
    let exp = write(work.path(), "exact.toml", &text);
    let out = run_experiment(&exp, &work.path().join("out"), &["--no-report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cache = work.path().join("out/exact/cache");
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for file in fs::read_dir(&cache).unwrap() {
        let text = fs::read_to_string(file.unwrap().path()).unwrap();
        for line in text.lines() {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            let kind = entry["context"]["kind"].as_str().unwrap().to_string();
            let schema = &entry["request"]["schema"]["schema"];
            let max_tokens = entry["request"]["params"]["max_tokens"].as_u64().unwrap();
            match kind.as_str() {
                "decision" => {
                    // One branch per deep-sea fleet 0 ..= ships, the coast bounded by the rest.
                    let branches = schema["anyOf"].as_array().unwrap();
                    let ships = branches.len() as i64 - 1;
                    for (d, b) in branches.iter().enumerate() {
                        assert_eq!(b["properties"]["coast"]["maximum"], ships - d as i64);
                    }
                    assert!(max_tokens >= 30, "{max_tokens}");
                }
                "message" => {
                    assert_eq!(schema["properties"]["message"]["maxLength"], 120);
                    assert!(max_tokens > 120 + 16, "{max_tokens}");
                }
                _ => {}
            }
            // The mock's answer, once unwrapped from its prose, is admitted by the schema.
            let answer = entry["response"]["text"].as_str().unwrap();
            if let Some(json) = first_json_object(answer) {
                assert!(
                    crate::common::schema_admits(schema, &json),
                    "{kind}: {json} against {schema}"
                );
            }
            *seen.entry(kind).or_default() += 1;
        }
    }
    for kind in ["decision", "message", "proposal", "vote"] {
        assert!(seen.get(kind).copied().unwrap_or(0) > 0, "{kind}: {seen:?}");
    }
}

/// The first `{…}` of a text that parses as a JSON object.
fn first_json_object(text: &str) -> Option<serde_json::Value> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    serde_json::from_str(&text[start..=end]).ok()
}
