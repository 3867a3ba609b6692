//! The command line as a user meets it: the quickstart, determinism across `--jobs`, and
//! bad experiment files (exit 2, located message, nothing written).

use crate::common::*;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

/// A smaller copy of the quickstart (fewer seeds) for tests that run it several times.
fn small_experiment(dir: &Path) -> PathBuf {
    let text = fs::read_to_string(quickstart())
        .unwrap()
        .replace("seeds = 20 ", "seeds = 3 ");
    assert!(text.contains("seeds = 3 "));
    let path = dir.join("small.toml");
    fs::write(&path, text).unwrap();
    path
}

const CSVS: [&str; 3] = ["runs.csv", "years.csv", "agents.csv"];

#[test]
fn quickstart_runs_and_writes_every_output_file() {
    let out = tempfile::tempdir().unwrap();
    fishbanks()
        .args([
            "run",
            quickstart().to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    let dir = out.path().join("quickstart");
    for file in [
        "manifest.json",
        "runs.csv",
        "years.csv",
        "agents.csv",
        "summary.md",
    ] {
        assert!(dir.join(file).exists(), "{file} written");
    }
    let runs = fs::read_to_string(dir.join("runs.csv")).unwrap();
    // 7 protocols × 2 populations × 20 seeds, plus the header.
    assert_eq!(runs.lines().count(), 281);
    let years = fs::read_to_string(dir.join("years.csv")).unwrap();
    assert_eq!(years.lines().count(), 280 * 20 + 1);
    let agents = fs::read_to_string(dir.join("agents.csv")).unwrap();
    assert_eq!(agents.lines().count(), 280 * 20 * 6 + 1);
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["runs"].as_array().unwrap().len(), 280);
    assert_eq!(manifest["experiment"], "quickstart");
    // Every run has its event log, which starts and ends the run.
    let first_id = runs.lines().nth(1).unwrap().split(',').next().unwrap();
    let events = fs::read_to_string(dir.join("runs").join(first_id).join("events.jsonl")).unwrap();
    assert!(events
        .lines()
        .next()
        .unwrap()
        .contains("\"type\":\"run_start\""));
    assert!(events
        .lines()
        .last()
        .unwrap()
        .contains("\"type\":\"run_end\""));

    // The point of the quickstart: the same population's fate depends on the protocol. A
    // free rider among conditional cooperators collapses the fishery without a protocol
    // and with talk only; sanctions delay it; a binding quota prevents it.
    let mut reader = csv::Reader::from_path(dir.join("runs.csv")).unwrap();
    let rows: Vec<fishbanks::record::RunRow> = reader.deserialize().map(Result::unwrap).collect();
    let rate = |cell: &str| {
        let cell_rows: Vec<_> = rows.iter().filter(|r| r.cell == cell).collect();
        assert_eq!(cell_rows.len(), 20);
        cell_rows.iter().filter(|r| r.collapsed).count() as f64 / 20.0
    };
    assert_eq!(rate("none/greedy"), 1.0);
    assert_eq!(rate("none/free-rider"), 1.0);
    assert_eq!(rate("a2a/free-rider"), 1.0);
    assert_eq!(rate("quota/free-rider"), 0.0);
    let survival = |cell: &str| {
        let s: Vec<f64> = rows
            .iter()
            .filter(|r| r.cell == cell)
            .map(|r| r.survival_years as f64)
            .collect();
        s.iter().sum::<f64>() / s.len() as f64
    };
    assert!(survival("sanctions/free-rider") > survival("a2a/free-rider") + 2.0);
    assert!(survival("a2a/free-rider") > survival("none/free-rider"));
    // Quotas (quota cells), pledges (ledger cells), intentions (a2a, rep) and fines
    // (sanctions) reach agents.csv.
    let header: Vec<&str> = agents.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (quota, binding, pledge) = (col("quota"), col("quota_binding"), col("pledge_deep"));
    let rows: Vec<Vec<&str>> = agents
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(rows.iter().any(|r| !r[quota].is_empty()));
    assert!(rows.iter().any(|r| r[binding] == "true"));
    assert!(rows.iter().any(|r| !r[pledge].is_empty()));
    let (intended, fined, transfer) = (
        col("announced_deep"),
        col("fines_received"),
        col("transfer"),
    );
    assert!(rows.iter().any(|r| !r[intended].is_empty()));
    assert!(rows.iter().any(|r| r[fined] != "0"));
    assert!(rows.iter().any(|r| r[transfer].starts_with('-')));
}

#[test]
fn results_are_byte_identical_across_repeats_and_job_counts() {
    let work = tempfile::tempdir().unwrap();
    let exp = small_experiment(work.path());
    let mut outputs = Vec::new();
    for (name, jobs) in [("a", "1"), ("b", "4"), ("c", "4")] {
        let out = work.path().join(name);
        fishbanks()
            .args([
                "run",
                exp.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--jobs",
                jobs,
                "--quiet",
            ])
            .assert()
            .success();
        outputs.push(out.join("quickstart"));
    }
    let files: Vec<&str> = CSVS
        .iter()
        .copied()
        .chain(["manifest.json", "summary.md"])
        .collect();
    for file in &files {
        assert!(!fs::read(outputs[0].join(file)).unwrap().is_empty());
    }
    for other in &outputs[1..] {
        assert_same_files(&outputs[0], other, &files);
    }
}

/// Run `fishbanks run` on a file and check it fails with exit 2, a message naming the
/// file, line and column and the field, and no output directory.
fn assert_rejected(text: &str, line: usize, field: &str) {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("bad.toml");
    fs::write(&path, text).unwrap();
    let out = work.path().join("out");
    let located = format!("bad.toml:{line}:");
    fishbanks()
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(located).and(predicate::str::contains(field)));
    assert!(!out.exists(), "nothing written for a bad file");
    fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .assert()
        .code(2);
}

const GOOD: &str = r#"name = "t"
years = 5
seeds = 2
[populations.p]
agents = [{ strategy = "greedy", count = 6 }]
[protocols.q]
kind = "quota"
approval = 0.5
[matrix]
protocol = ["q"]
population = ["p"]
"#;

#[test]
fn a_good_file_validates() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("good.toml");
    fs::write(&path, GOOD).unwrap();
    fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 runs"))
        // Six greedy seats without trembles: every seed plays one game.
        .stderr(predicate::str::contains(
            "warning: population `p` is deterministic",
        ));
    fs::write(
        &path,
        GOOD.replace("count = 6 }", "count = 6, tremble = 0.05 }"),
    )
    .unwrap();
    fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not());
}

#[test]
fn malformed_toml_is_located() {
    assert_rejected(
        &GOOD.replace("approval = 0.5", "approval = = 0.5"),
        8,
        "approval",
    );
}

#[test]
fn unknown_field_is_named_and_located() {
    assert_rejected(
        &GOOD.replace("approval = 0.5", "approval = 0.5\napprovall = 1"),
        9,
        "approvall",
    );
}

/// Every unknown key of a file at once, in file order, each with the likely name, and
/// warnings for what the matrix leaves out.
#[test]
fn every_unknown_key_is_reported_at_once_with_what_was_meant() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("bad.toml");
    let text = GOOD
        .replace("years = 5", "yeers = 5")
        .replace("approval = 0.5", "approvel = 0.5\nrounds = 2")
        .replace("count = 6 }", "count = 6, trembel = 0.1 }");
    fs::write(&path, &text).unwrap();
    let out = fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    for (line, (at, expected)) in lines.iter().zip([
        ("bad.toml:2:1: field `yeers`", "did you mean `years`?"),
        (
            "bad.toml:5:45: field `populations.p.agents[0].trembel`",
            "did you mean `tremble`?",
        ),
        (
            "bad.toml:8:1: field `protocols.q.approvel`",
            "did you mean `approval`?",
        ),
        (
            "bad.toml:9:1: field `protocols.q.rounds`",
            "its switches are `allocation`, `approval`",
        ),
    ]) {
        assert!(
            line.contains(at) && line.contains(expected),
            "{line}\n{err}"
        );
    }
    // Defined, not played.
    let unused = GOOD
        .replace("count = 6 }", "count = 6, tremble = 0.05 }")
        .replace("[matrix]", "[protocols.spare]\nkind = \"none\"\n[populations.other]\nagents = [{ strategy = \"greedy\", count = 6 }]\n[matrix]");
    fs::write(&path, unused).unwrap();
    fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("protocol `spare` is defined but not in `[matrix] protocol`")
                .and(predicate::str::contains(
                    "population `other` is defined but not in `[matrix] population`",
                ))
                // Not played: no warning about its replicates.
                .and(predicate::str::contains("population `other` is deterministic").not()),
        );
}

/// Every problem of a file in one pass: a value of the wrong type (of a required key), a
/// value out of range, an unknown word, an unknown key and an undefined name, each
/// located, in file order; none hides another.
#[test]
fn every_problem_is_reported_at_once() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("bad.toml");
    let text = GOOD
        .replace("years = 5", "years = 500")
        .replace("seeds = 2", "seeds = \"two\"")
        .replace("strategy = \"greedy\"", "strategy = \"greedyy\"")
        .replace("approval = 0.5", "approval = 1.5\napprovel = 0.5")
        .replace("population = [\"p\"]", "population = [\"p\", \"nobody\"]")
        + "[analysis]\nreference = \"talk\"\n";
    fs::write(&path, &text).unwrap();
    let out = fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    let expected = [
        ("bad.toml:2:1: field `years`", "between 1 and 200"),
        ("bad.toml:3:9: field `seeds`", "invalid type"),
        (
            "bad.toml:5:13: field `populations.p.agents[0].strategy`",
            "unknown variant `greedyy`",
        ),
        ("bad.toml:8:1: field `protocols.q.approval`", "got 1.5"),
        (
            "bad.toml:9:1: field `protocols.q.approvel`",
            "did you mean `approval`?",
        ),
        (
            "bad.toml:12:20: field `matrix.population[1]`",
            "`nobody` is not defined",
        ),
        (
            "bad.toml:14:1: field `analysis.reference`",
            "`talk` is not a protocol of matrix.protocol",
        ),
    ];
    assert_eq!(lines.len(), expected.len(), "{err}");
    for (line, (at, what)) in lines.iter().zip(expected) {
        assert!(line.contains(at) && line.contains(what), "{line}\n{err}");
    }
}

#[test]
fn out_of_range_value_is_named_and_located() {
    assert_rejected(
        &GOOD.replace("approval = 0.5", "approval = 1.5"),
        8,
        "protocols.q.approval",
    );
    assert_rejected(&GOOD.replace("years = 5", "years = 0"), 2, "years");
    assert_rejected(&GOOD.replace("seeds = 2", "seeds = 0"), 3, "seeds");
    // A negative count is a range error, not a Rust type name.
    assert_rejected(
        &GOOD.replace("years = 5", "years = -15"),
        2,
        "must be between 1 and 200",
    );
}

#[test]
fn wrong_type_names_the_field() {
    assert_rejected(&GOOD.replace("years = 5", "years = \"five\""), 2, "years");
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("bad.toml");
    fs::write(&path, GOOD.replace("years = 5", "years = \"five\"")).unwrap();
    let out = fishbanks()
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for rust_name in ["u32", "u64", "usize", "i64", "f64"] {
        assert!(
            !stderr.contains(rust_name),
            "no Rust type names in a user's error: {stderr}"
        );
    }
}

#[test]
fn cross_reference_errors_are_located() {
    assert_rejected(
        &GOOD.replace("protocol = [\"q\"]", "protocol = [\"nope\"]"),
        10,
        "matrix.protocol",
    );
    assert_rejected(
        &GOOD.replace("count = 6", "count = 5"),
        5,
        "populations.p.agents",
    );
    assert_rejected(
        &GOOD.replace("approval = 0.5", "rounds = 2"),
        8,
        "protocols.q.rounds",
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    fishbanks()
        .args(["validate", "/nonexistent/exp.toml"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("/nonexistent/exp.toml")
                .and(predicate::str::contains("cannot read")),
        );
}

#[test]
fn a_different_experiment_in_the_same_directory_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("good.toml");
    fs::write(&path, GOOD).unwrap();
    let out = work.path().join("out");
    let run = |p: &Path| {
        let mut cmd = fishbanks();
        cmd.args([
            "run",
            p.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        cmd
    };
    run(&path).assert().success();
    let runs_before = fs::read(out.join("t/runs.csv")).unwrap();
    // Same experiment again: everything is already complete, nothing changes.
    run(&path).assert().success();
    assert_eq!(fs::read(out.join("t/runs.csv")).unwrap(), runs_before);
    fs::write(&path, GOOD.replace("years = 5", "years = 6")).unwrap();
    run(&path).assert().code(1).stderr(
        predicate::str::contains("different experiment").and(predicate::str::contains("years")),
    );
    assert_eq!(fs::read(out.join("t/runs.csv")).unwrap(), runs_before);
}

#[test]
fn every_shipped_experiment_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut seen = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            fishbanks()
                .args(["validate", path.to_str().unwrap()])
                .assert()
                .success();
            seen += 1;
        }
    }
    assert!(seen >= 6);
}

/// The columns a backtick span of documentation names: `a, b, c` gives a, b and c (a span
/// may wrap over lines).
fn documented_columns(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .flat_map(|span| span.split(','))
        .map(|name| name.trim().to_string())
        .collect()
}

#[test]
fn readme_and_design_name_every_column_the_files_have() {
    let out = tempfile::tempdir().unwrap();
    let exp = small_experiment(out.path());
    let output = run_experiment(&exp, out.path(), &["--no-report"]);
    assert!(output.status.success(), "{output:?}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let design = fs::read_to_string(root.join("docs/DESIGN.md")).unwrap();
    for file in ["runs.csv", "years.csv", "agents.csv", "messages.csv"] {
        let text = fs::read_to_string(out.path().join("quickstart").join(file)).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        // The README's output table has one row per file.
        let row = readme
            .lines()
            .find(|line| line.starts_with(&format!("| `{file}` |")))
            .unwrap_or_else(|| panic!("README has no row for {file}"));
        // DESIGN lists a file's columns in its bullet, up to the next bullet.
        let start = design
            .find(&format!("- `{file}`"))
            .unwrap_or_else(|| panic!("DESIGN has no bullet for {file}"));
        let rest = &design[start + 2..];
        let bullet = &rest[..rest.find("\n- ").unwrap_or(rest.len())];
        for (doc, name) in [(row, "README.md"), (bullet, "docs/DESIGN.md")] {
            let named = documented_columns(doc);
            let missing: Vec<&&str> = header
                .iter()
                .filter(|c| !named.iter().any(|n| n == *c))
                .collect();
            assert!(
                missing.is_empty(),
                "{name} does not name {missing:?} of {file}"
            );
        }
    }
}

/// `--out` as researchers write it: a directory named after the experiment holds its
/// results (no second copy inside), `report` on the `--out` directory names the results
/// directories in it, and a file given as `--out` is called a file.
#[test]
fn out_directories_are_read_as_meant() {
    let work = tempfile::tempdir().unwrap();
    let exp = small_experiment(work.path());
    let named = work.path().join("runs/quickstart");
    for _ in 0..2 {
        // Twice: the second run finds the sweep there and resumes it (nothing to play).
        fishbanks()
            .args(["run", exp.to_str().unwrap(), "--out"])
            .arg(&named)
            .args(["--quiet", "--no-report"])
            .assert()
            .success();
    }
    assert!(named.join("runs.csv").exists());
    assert!(!named.join("quickstart").exists(), "no second copy inside");
    fishbanks()
        .args(["report", work.path().join("runs").to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "the results directories inside it: {}",
            named.display()
        )));
    fishbanks()
        .args(["run", exp.to_str().unwrap(), "--out", exp.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("that is a file, not a directory")
                .and(predicate::str::contains("os error").not()),
        );
}
