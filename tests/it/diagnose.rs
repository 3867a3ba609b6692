//! `fishbanks diagnose`, calibrated on populations whose influence is known by
//! construction: imitators that copy a leader's announced plan (influence that must be
//! found) and independents that ignore the board (every detected edge a false positive).
//! Also: the diagnostics run on LLM results (the mock), with embeddings from a provider
//! through HTTP, cached.

use crate::common::{fishbanks, run_experiment, Server, Table};
use std::fs;
use std::path::Path;

const CALIBRATION: &str = r#"
name = "calibration"
years = 20
seeds = 30
[populations.imitation]
agents = [
  { strategy = "independent", count = 1 },
  { strategy = "imitator", leader = 1, count = 2 },
  { strategy = "independent", count = 3 },
]
[populations.independents]
agents = [{ strategy = "independent", count = 6 }]
[protocols.broadcast]
kind = "broadcast"
[protocols.a2a]
kind = "a2a"
[matrix]
protocol = ["broadcast", "a2a"]
population = ["imitation", "independents"]
"#;

/// (tests, detected) over the influence tests that `pick` selects.
fn rate(influence: &Table, pick: impl Fn(&str, &str, &str, &str) -> bool) -> (usize, usize) {
    let (cell, channel, source, target, p) = (
        influence.col("cell"),
        influence.col("channel"),
        influence.col("source"),
        influence.col("target"),
        influence.col("p_value"),
    );
    let chosen: Vec<&Vec<String>> = influence
        .rows
        .iter()
        .filter(|r| pick(&r[cell], &r[channel], &r[source], &r[target]))
        .collect();
    let detected = chosen
        .iter()
        .filter(|r| r[p].parse::<f64>().unwrap() < 0.05)
        .count();
    (chosen.len(), detected)
}

#[test]
fn influence_is_found_where_it_exists_and_false_positives_stay_at_the_nominal_rate() {
    let work = tempfile::tempdir().unwrap();
    let exp = work.path().join("calibration.toml");
    fs::write(&exp, CALIBRATION).unwrap();
    let out = work.path().join("out");
    assert!(run_experiment(&exp, &out, &["--no-report"])
        .status
        .success());
    let dir = out.join("calibration");
    fishbanks()
        .args(["diagnose", dir.to_str().unwrap()])
        .assert()
        .success();
    let influence = Table::read(&dir.join("influence.csv"));

    // Power: the leader's influence on each imitator, in every run, on actions.
    let true_edge = |source: &str, target: &str| source == "0" && (target == "1" || target == "2");
    let (n, hit) = rate(&influence, |cell, ch, s, t| {
        cell.ends_with("/imitation") && ch == "actions" && true_edge(s, t)
    });
    assert_eq!(n, 2 * 2 * 30, "two edges, two protocols, 30 runs");
    assert!(hit as f64 / n as f64 >= 0.95, "power {hit}/{n}");

    // False positives: every pair of the independents population (A/A), on actions.
    let (n, hit) = rate(&influence, |cell, ch, _, _| {
        cell.ends_with("/independents") && ch == "actions"
    });
    let fpr = hit as f64 / n as f64;
    assert!(n >= 1500, "{n} tests");
    assert!(
        (0.03..=0.075).contains(&fpr),
        "false-positive rate {fpr} ({hit}/{n})"
    );

    // Text: the imitators' messages restate the leader's plan a year later (broadcast).
    let (n, hit) = rate(&influence, |cell, ch, s, t| {
        cell == "broadcast/imitation" && ch == "text" && true_edge(s, t)
    });
    assert!(hit as f64 / n as f64 >= 0.9, "text power {hit}/{n}");
    let (n, hit) = rate(&influence, |cell, ch, _, _| {
        cell.ends_with("/independents") && ch == "text"
    });
    assert!(
        (hit as f64 / n as f64) <= 0.075,
        "text false positives {hit}/{n}"
    );

    // The per-cell files and the graph.
    let cells = fs::read_to_string(dir.join("diagnostics.csv")).unwrap();
    assert!(cells.starts_with("cell,protocol,population,channel,metric,n,estimate,ci_low,ci_high"));
    assert!(cells
        .contains("broadcast/imitation,broadcast,imitation,actions,influence_detected_share,30,"));
    let svg = fs::read_to_string(dir.join("plots/influence-broadcast_imitation.svg")).unwrap();
    assert!(svg.contains("Influence: broadcast/imitation"), "{svg}");
    assert!(dir.join("plots/influence-broadcast_imitation.png").exists());
    let report = fs::read_to_string(dir.join("diagnose.md")).unwrap();
    assert!(
        report.contains("TF-IDF (lexical"),
        "the embedding is labelled"
    );
}

const LLM: &str = r#"
name = "llm-social"
years = 6
seeds = 3
probe_every = 3
[providers.mock]
kind = "mock"
policy = "conditional"
temperature = 0.4
[populations.llm]
agents = [{ kind = "llm", provider = "mock", count = 6 }]
[protocols.broadcast]
kind = "broadcast"
board_memory_years = 2
[matrix]
protocol = ["broadcast"]
population = ["llm"]
"#;

#[test]
fn llm_results_are_diagnosed_with_embeddings_from_a_provider() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(0.0);
    let exp = work.path().join("llm.toml");
    let text = format!(
        "{LLM}[providers.embedder]\nkind = \"openai\"\nbase_url = \"{}\"\nmodel = \"mock-embed\"\n",
        server.url
    );
    fs::write(&exp, &text).unwrap();
    let out = work.path().join("out");
    let run = run_experiment(&exp, &out, &["--no-report"]);
    assert!(run.status.success(), "{run:?}");
    let dir = out.join("llm-social");
    // What each agent was shown, the texts, and the probe are recorded.
    let agents = Table::read(&dir.join("agents.csv"));
    assert!(agents.column("shown").iter().any(|s| s.contains("m1.1.")));
    let probes: Vec<&str> = agents.column("probe_tac");
    assert_eq!(
        probes.iter().filter(|p| !p.is_empty()).count(),
        3 * 6 * 2,
        "years 3 and 6"
    );
    let messages = Table::read(&dir.join("messages.csv"));
    assert_eq!(
        messages.rows.len(),
        3 * 6 * 6,
        "one message per team and year"
    );
    assert!(messages.column("id").iter().all(|id| id.starts_with('m')));

    let before = server.requests();
    let diagnose_with_embeddings = || {
        fishbanks()
            .args([
                "diagnose",
                dir.to_str().unwrap(),
                "--embeddings",
                "embedder",
                "--experiment",
            ])
            .arg(&exp)
            .assert()
            .success();
    };
    diagnose_with_embeddings();
    let asked = server.requests() - before;
    assert!(asked >= 1, "the embeddings came from the server");
    let report = fs::read_to_string(dir.join("diagnose.md")).unwrap();
    assert!(
        report.contains("`mock-embed` through provider `embedder`"),
        "{report}"
    );
    assert!(report.contains("probe_agreement"));
    let cells = Table::read(&dir.join("diagnostics.csv"));
    let text_rows = cells
        .rows
        .iter()
        .filter(|r| {
            r[cells.col("channel")] == "text"
                && r[cells.col("metric")] == "influence_detected_share"
        })
        .count();
    assert_eq!(text_rows, 1);
    // The second time, every vector comes from the cache.
    let cached = server.requests();
    diagnose_with_embeddings();
    assert_eq!(server.requests(), cached, "no request: the cache answered");
    assert!(Path::new(&dir.join("cache/embeddings.jsonl")).exists());
}
