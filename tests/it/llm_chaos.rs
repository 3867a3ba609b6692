//! Transport faults change nothing, and a server that dies stops the sweep cleanly:
//! sweeps through the test kit's chaos proxy (real loopback HTTP, between the harness and
//! the mock server) against the same sweep without faults.

use crate::common::{
    assert_same_files, run_experiment, write, Chaos, Server, Table, TestExperiment, LLM_ACCOUNTING,
};
use fishbanks::testkit::mock_server::ServerOptions;
use std::path::{Path, PathBuf};

fn experiment(base_url: &str) -> String {
    TestExperiment::new("chaos", 4, 3)
        .provider(
            "local",
            &format!(
                r#"kind = "openai"
base_url = "{base_url}"
model = "mock-greedy"
timeout_s = 0.5
retry_base_ms = 5
retry_max_ms = 40
max_retries = 6
outage_wait_s = 2
max_concurrency = 8"#
            ),
        )
        .population("llm", r#"{ kind = "llm", provider = "local", count = 6 }"#)
        .protocol("none", "none", "")
        .protocol("broadcast", "broadcast", "")
        .toml()
}

fn upstream() -> Server {
    Server::with(ServerOptions::default())
}

/// The clean sweep, straight to the mock server.
fn clean_sweep(work: &Path, upstream: &Server) -> PathBuf {
    let exp = write(work, "clean.toml", &experiment(&upstream.url));
    let out = run_experiment(&exp, &work.join("clean"), &["--jobs", "4", "--no-report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    work.join("clean/chaos")
}

fn same_games(a: &Path, b: &Path) {
    assert_same_files(a, b, &["years.csv", "agents.csv"]);
    assert_eq!(
        Table::read(&a.join("runs.csv")).without(&LLM_ACCOUNTING),
        Table::read(&b.join("runs.csv")).without(&LLM_ACCOUNTING)
    );
}

#[test]
fn a_quarter_of_calls_faulted_gives_the_clean_sweeps_results_and_every_fault_is_counted() {
    let work = tempfile::tempdir().unwrap();
    let upstream = upstream();
    let clean = clean_sweep(work.path(), &upstream);

    let chaos = Chaos::start(&upstream.url, 0.25, 0);
    let exp = write(work.path(), "chaos.toml", &experiment(&chaos.url));
    let out = run_experiment(
        &exp,
        &work.path().join("chaotic"),
        &["--jobs", "4", "--no-report"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chaotic = work.path().join("chaotic/chaos");
    same_games(&clean, &chaotic);

    let runs = Table::read(&chaotic.join("runs.csv"));
    let retries: f64 = runs.numbers("llm_retries").iter().sum();
    let injected = chaos.control.stats.injected();
    let total: u64 = injected.values().sum();
    assert!(
        total > 30,
        "a quarter of the calls were faulted: {injected:?}"
    );
    assert_eq!(
        retries as u64, total,
        "every injected fault is one counted retry"
    );
    assert!(
        injected.len() == fishbanks::testkit::chaos::ChaosFault::ALL.len(),
        "every kind of fault happened: {injected:?}"
    );
    // By kind: each 429 is a rate-limit retry, the 503 and the odd 500 server errors,
    // the hang a timeout, the cut-off 200 a malformed body, the reset a connection error.
    let sum = |c: &str| runs.numbers(c).iter().sum::<f64>() as u64;
    use fishbanks::testkit::chaos::ChaosFault as F;
    let n = |f: F| injected.get(&f).copied().unwrap_or(0);
    assert_eq!(
        sum("retries_rate_limit"),
        n(F::RateLimitRetryAfter) + n(F::RateLimitMs) + n(F::RateLimitBare)
    );
    assert_eq!(
        sum("retries_server_error"),
        n(F::Unavailable) + n(F::NonOpenai)
    );
    assert_eq!(sum("retries_timeout"), n(F::Hang));
    assert_eq!(
        sum("retries_malformed") + sum("retries_connection"),
        n(F::TruncatedOk) + n(F::Reset)
    );
    assert!(runs.numbers("llm_fallbacks").iter().all(|f| *f == 0.0));
}

#[test]
fn a_server_that_dies_stops_the_sweep_and_a_resume_after_its_return_completes_it() {
    let work = tempfile::tempdir().unwrap();
    let upstream = upstream();
    let clean = clean_sweep(work.path(), &upstream);

    // The proxy dies after 150 of the sweep's 216 game calls.
    let chaos = Chaos::start(&upstream.url, 0.0, 150);
    let exp = write(work.path(), "chaos.toml", &experiment(&chaos.url));
    let out_dir = work.path().join("dies");
    let out = run_experiment(&exp, &out_dir, &["--jobs", "2", "--no-report"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("STOPPED") && stderr.contains("fishbanks run"),
        "{stderr}"
    );
    let partial = Table::read(&out_dir.join("chaos/runs.csv"));
    assert!(
        !partial.rows.is_empty() && partial.rows.len() < 6,
        "{}",
        partial.rows.len()
    );
    // Nothing recorded stood in for the dead server.
    assert!(partial.column("status").iter().all(|s| *s == "ok"));
    assert!(partial.numbers("llm_fallbacks").iter().all(|f| *f == 0.0));

    // The server is back: the same command resumes and completes the sweep, in order.
    chaos.control.set_down(false);
    let out = run_experiment(&exp, &out_dir, &["--jobs", "2", "--no-report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    same_games(&clean, &out_dir.join("chaos"));
}
