//! LLM sweeps end to end through the binary: over real loopback HTTP against the
//! fault-injecting mock server, replay from the cache with the server gone, budget stops,
//! dry-run numbers, and keys that never reach a file.

use crate::common::{write, Server, Table, TestExperiment, LLM_ACCOUNTING};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn experiment(base_url: &str, extra: &str) -> String {
    TestExperiment::new("e2e", 4, 2)
        .provider(
            "local",
            &format!(
                r#"kind = "openai"
base_url = "{base_url}"
model = "mock-greedy"
api_key_env = "FISHBANKS_TEST_KEY"
timeout_s = 5
retry_base_ms = 1
retry_max_ms = 5
max_retries = 6
price_in_per_mtok = 1.0
price_out_per_mtok = 2.0"#
            ),
        )
        .population("llm", r#"{ kind = "llm", provider = "local", count = 6 }"#)
        .protocol("none", "none", "")
        .protocol("broadcast", "broadcast", "")
        .section(extra)
        .toml()
}

const SECRET: &str = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz";

fn run(exp: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(args)
        .env("FISHBANKS_TEST_KEY", SECRET)
        .output()
        .unwrap()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(all_files(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn faults_over_http_do_not_change_results_and_the_cache_replays_without_a_server() {
    let work = tempfile::tempdir().unwrap();
    let clean_dir = work.path().join("clean");
    let faulty_dir = work.path().join("faulty");

    let clean = Server::start(0.0);
    let exp = write(work.path(), "clean.toml", &experiment(&clean.url, ""));
    let out = run(&exp, &clean_dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(clean.requests() > 0);
    drop(clean);

    let faulty = Server::start(0.3);
    let exp = write(work.path(), "faulty.toml", &experiment(&faulty.url, ""));
    let out = run(&exp, &faulty_dir, &["--jobs", "4"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(faulty);

    let (a, b) = (clean_dir.join("e2e"), faulty_dir.join("e2e"));
    // The games are identical; only the retry and repair counters (and what they cost)
    // show the faults.
    for file in ["years.csv", "agents.csv"] {
        assert_eq!(
            fs::read_to_string(a.join(file)).unwrap(),
            fs::read_to_string(b.join(file)).unwrap(),
            "{file}"
        );
    }
    let (clean_runs, faulty_runs) = (
        Table::read(&a.join("runs.csv")),
        Table::read(&b.join("runs.csv")),
    );
    assert_eq!(
        clean_runs.without(&LLM_ACCOUNTING),
        faulty_runs.without(&LLM_ACCOUNTING)
    );
    let seen: f64 = faulty_runs.numbers("llm_retries").iter().sum::<f64>()
        + faulty_runs.numbers("llm_repairs").iter().sum::<f64>();
    assert!(seen > 0.0, "the faults were seen and counted");
    assert!(
        faulty_runs
            .numbers("llm_fallbacks")
            .iter()
            .all(|f| *f == 0.0),
        "no fault became a fallback"
    );
    assert!(
        clean_runs.numbers("llm_calls").iter().all(|c| *c > 0.0),
        "LLM calls counted"
    );
    assert!(
        clean_runs.numbers("cost_usd").iter().all(|c| *c > 0.0),
        "cost counted"
    );

    // Replay: only the cache, copied into an empty directory, and no server at all (the
    // URL points at a closed port).
    let replay_dir = work.path().join("replay");
    copy_dir(&a.join("cache"), &replay_dir.join("e2e").join("cache"));
    let exp = write(
        work.path(),
        "clean.toml",
        &experiment(&clean_url_closed(), ""),
    );
    // The experiment must be the same one that recorded: same provider identity and model.
    let out = run(&exp, &replay_dir, &["--cache-mode", "replay"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["runs.csv", "years.csv", "agents.csv"] {
        assert_eq!(
            fs::read_to_string(a.join(file)).unwrap(),
            fs::read_to_string(replay_dir.join("e2e").join(file)).unwrap(),
            "{file}"
        );
    }

    // The key was sent to the server but is written nowhere.
    for dir in [&a, &b, &replay_dir.join("e2e")] {
        for file in all_files(dir) {
            let bytes = fs::read(&file).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "key leaked into {}",
                file.display()
            );
        }
    }
}

/// A loopback URL nobody listens on.
fn clean_url_closed() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn a_replay_miss_fails_the_run_and_names_the_call() {
    let work = tempfile::tempdir().unwrap();
    let exp = write(work.path(), "e.toml", &experiment(&clean_url_closed(), ""));
    let out = run(&exp, work.path(), &["--cache-mode", "replay"]);
    // Failed runs: the sweep says so with its exit code.
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAILED"));
    let runs = fs::read_to_string(work.path().join("e2e/runs.csv")).unwrap();
    let rows: Vec<&str> = runs.lines().skip(1).collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter()
            .all(|r| r.contains(",failed,") && r.contains("cache")),
        "{runs}"
    );
}

#[test]
fn the_budget_stops_the_sweep_and_loses_nothing() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(0.0);
    // 6 agents × 4 years × 1 call = 24 calls per `none` run; stop after 30.
    let exp = write(
        work.path(),
        "e.toml",
        &experiment(&server.url, "[budget]\nmax_calls = 30\n"),
    );
    let out = run(&exp, work.path(), &["--jobs", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = Table::read(&work.path().join("e2e/runs.csv"));
    assert_eq!(runs.rows.len(), 4, "every run has its row");
    let status = runs.column("status");
    assert_eq!(status[0], "ok");
    // The second run finishes the year it is in when the budget runs out, then stops.
    assert_eq!(status[1], "budget");
    let played = runs.numbers("years_played");
    assert!(played[1] >= 1.0);
    assert_eq!(&status[2..], ["budget", "budget"]);
    assert_eq!(played[3], 0.0, "a run that could not start played no year");
    assert!(runs.column("error")[1].contains("max_calls = 30"));
    // No year row is torn: every run's years are whole.
    let years = Table::read(&work.path().join("e2e/years.csv"));
    assert_eq!(years.rows.len() as f64, played.iter().sum::<f64>());
}

#[test]
fn dry_run_counts_calls_per_protocol_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let exp = write(work.path(), "e.toml", &experiment(&clean_url_closed(), ""));
    let out = run(&exp, work.path(), &["--dry-run"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // none: 2 runs × 4 years × 6 agents × 1 call; broadcast: × 2 (one message round).
    assert!(text.contains("| none/llm | 2 | 48 |"), "{text}");
    assert!(text.contains("| broadcast/llm | 2 | 96 |"), "{text}");
    assert!(text.contains("| **total** | 4 | 144 |"), "{text}");
    // The prompt-cache share: agents' prompts share the rules and the persona.
    assert!(text.contains("prompt-cache share"), "{text}");
    let share: f64 = text
        .lines()
        .find(|l| l.starts_with("| **total**"))
        .and_then(|l| l.split('|').nth(5))
        .and_then(|c| c.trim().parse().ok())
        .unwrap();
    assert!(share > 0.3 && share < 1.0, "{share}: {text}");
    assert!(!text.contains('†'), "no matched cell here: {text}");
    assert!(!work.path().join("e2e").exists());

    // A token-matched cell says its budget is measured only once its reference ran.
    let matched = experiment(&clean_url_closed(), "").replace(
        "protocol = [\"none\", \"broadcast\"]",
        "protocol = [\"none\", \"broadcast\", \"matched\"]",
    ) + "[protocols.matched]\nkind = \"a2a\"\nmatch_tokens_of = \"broadcast\"\n";
    let exp = write(work.path(), "m.toml", &matched);
    let out = run(&exp, work.path(), &["--dry-run"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("| matched/llm † |"), "{text}");
    assert!(
        text.contains("† token-matched to `broadcast`: the talk budget is what"),
        "{text}"
    );
}

#[test]
fn a_literal_key_in_the_file_is_refused_without_echoing_it() {
    let work = tempfile::tempdir().unwrap();
    let text = experiment("http://127.0.0.1:9/v1", "").replace("FISHBANKS_TEST_KEY", SECRET);
    let exp = write(work.path(), "e.toml", &text);
    let out = run(&exp, &work.path().join("out"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("api_key_env") && stderr.contains("e.toml:"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET));
    assert!(!work.path().join("out").exists());
}

#[test]
fn doctor_measures_a_served_provider_and_hints_at_a_missing_one() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(0.0);
    let exp = write(work.path(), "e.toml", &experiment(&server.url, ""));
    let out = Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args(["doctor", exp.to_str().unwrap()])
        .env("FISHBANKS_TEST_KEY", SECRET)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("- reachable: `GET /models`"), "{text}");
    // The estimate names both measured latencies and the cacheable share it weighs
    // them by.
    assert!(
        text.contains("with nothing cached (the doctor's first)"),
        "{text}"
    );
    assert!(text.contains("so a sweep call should take about"), "{text}");
    assert!(
        text.contains("Recommended for `[providers.local]`"),
        "{text}"
    );
    assert!(!text.contains(SECRET));

    let exp = write(work.path(), "d.toml", &experiment(&clean_url_closed(), ""));
    let out = Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args(["doctor", exp.to_str().unwrap()])
        .env("FISHBANKS_TEST_KEY", SECRET)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success());
    assert!(text.contains("**unreachable**"), "{text}");
    assert!(text.contains("Is the server running"), "{text}");
}

/// The dry run's per-cell figures against what the run then measured: calls, tokens in
/// and out, and cost of every cell within 15%, for the in-process mock and for a server
/// (the test kit's mock server, which the dry run stands in for without calling it).
#[test]
fn the_dry_run_predicts_every_cell_within_fifteen_percent() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(0.0);
    let mock = TestExperiment::new("inproc", 8, 6)
        .provider(
            "m",
            "kind = \"mock\"\npolicy = \"greedy\"\nnoise = 0.1\ntemperature = 0.7\nseed = 7\nprice_in_per_mtok = 0.15\nprice_out_per_mtok = 0.6",
        )
        .population("llm", r#"{ kind = "llm", provider = "m", count = 6 }"#)
        // Every board the prompts carry: messages, proposals and votes, a ledger.
        .protocol("none", "none", "")
        .protocol("broadcast", "broadcast", "")
        .protocol("quota", "quota", "")
        .protocol("ledger", "ledger", "")
        .toml();
    let served = experiment(&server.url, "").replace(
        "protocol = [\"none\", \"broadcast\"]",
        "protocol = [\"none\", \"broadcast\", \"ledger\"]",
    ) + "[protocols.ledger]\nkind = \"ledger\"\n";
    for (name, text) in [("inproc", mock), ("e2e", served)] {
        let exp = write(work.path(), &format!("{name}.toml"), &text);
        let dry = run(&exp, work.path(), &["--dry-run"]);
        let text = String::from_utf8(dry.stdout).unwrap();
        assert!(
            dry.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&dry.stderr)
        );
        let out = work.path().join("out");
        let played = run(&exp, &out, &["--no-report"]);
        assert!(
            played.status.success(),
            "{}",
            String::from_utf8_lossy(&played.stderr)
        );
        let runs = Table::read(&out.join(name).join("runs.csv"));
        let cells = runs.column("cell");
        let mut compared = 0;
        for line in text
            .lines()
            .filter(|l| l.starts_with("| ") && !l.contains("**"))
        {
            let f: Vec<&str> = line.split('|').map(str::trim).collect();
            let Ok(estimated_calls) = f[3].parse::<f64>() else {
                continue; // the header
            };
            let sum = |column: &str| -> f64 {
                runs.numbers(column)
                    .iter()
                    .zip(&cells)
                    .filter(|(_, c)| **c == f[1])
                    .map(|(v, _)| v)
                    .sum()
            };
            for (what, estimated, measured) in [
                ("calls", estimated_calls, sum("llm_calls")),
                ("tokens in", f[4].parse().unwrap(), sum("tokens_in")),
                ("tokens out", f[6].parse().unwrap(), sum("tokens_out")),
                ("cost", f[7].parse().unwrap(), sum("cost_usd")),
            ] {
                let error = (estimated - measured).abs() / measured.max(1e-9);
                // Costs print to the cent: judge them to the cent as well.
                let within =
                    error <= 0.15 || (what == "cost" && (estimated - measured).abs() < 0.01);
                assert!(
                    within,
                    "{name} {}: {what} estimated {estimated}, measured {measured}\n{text}",
                    f[1]
                );
            }
            compared += 1;
        }
        assert!(compared >= 3, "{text}");
        assert!(
            !work.path().join(name).exists(),
            "the dry run wrote nothing"
        );
        assert!(text.contains("Wall time"), "{text}");
    }
}
