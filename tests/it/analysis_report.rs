//! `fishbanks report` on real sweeps: every output file, the headline result, and the
//! edge cases (all survive / all collapse, one replicate, runs of different length,
//! merged directories, half-written runs, a directory that is not a results directory).

use crate::common::*;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

fn sweep(dir: &Path, name: &str, toml: &str) -> PathBuf {
    sweep_with(dir, name, toml, &[])
}

fn sweep_with(dir: &Path, name: &str, toml: &str, extra: &[&str]) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    fs::write(&path, toml).unwrap();
    let out = dir.join("out");
    fishbanks()
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-report",
        ])
        .args(extra)
        .assert()
        .success();
    out.join(name)
}

fn experiment(name: &str, seeds: u32, extra_game: &str) -> String {
    TestExperiment::new(name, 12, seeds)
        .section(&format!("[game]\n{extra_game}"))
        .population(
            "greedy",
            r#"{ strategy = "greedy", count = 6, tremble = 0.1 }"#,
        )
        .population(
            "followers",
            r#"{ strategy = "quota_follower", count = 6, tremble = 0.1 }"#,
        )
        .protocol("none", "none", "")
        .protocol("quota", "quota", "")
        .toml()
}

#[test]
fn report_on_the_quickstart_writes_every_file_and_shows_the_result() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    fishbanks()
        .args([
            "run",
            concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quickstart.toml"),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    let dir = out.join("quickstart");
    for file in [
        "metrics.csv",
        "comparison.csv",
        "report.md",
        "report.html",
        "plots/stock.svg",
        "plots/survival.svg",
        "plots/forest.svg",
        "plots/profit.svg",
        "plots/tokens.svg",
        "plots/survival.png",
    ] {
        assert!(dir.join(file).exists(), "{file}");
    }
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    // The answer comes first, then the primary outcome.
    assert!(
        report.lines().nth(2).unwrap().starts_with("**For `"),
        "{report}"
    );
    let primary = report.find("## Primary outcome: rmst").unwrap();
    let validity = report.find("## Validity").unwrap();
    let exploratory = report.find("## Exploratory outcomes").unwrap();
    assert!(primary < validity && validity < exploratory);
    // All-greedy without a protocol collapses every time; a free rider among conditional
    // cooperators under a binding quota never.
    assert!(
        report.contains("| none/greedy | 0.00 [0.00, 0.16] |"),
        "{report}"
    );
    assert!(
        report.contains("| quota/free-rider | 1.00 [0.84, 1.00] | > 20 | 20.00 |"),
        "{report}"
    );
    assert!(
        report.contains("| none/greedy | 20 / 0 / 0 | 3.90 [3.75, 4.00] | (reference) |"),
        "{report}"
    );
    // Every other cell: an effect with its interval, a paired test over 20 seeds, a
    // Holm-adjusted p.
    assert!(
        report.contains("wilcoxon, 20 pairs"),
        "paired by seed: {report}"
    );
    assert!(report.contains("## Methods") && report.contains("fishbanks report"));
    // The first sentence leads with how often the fish collapsed, names protocols with
    // the same effect together, and says when the horizon caps an effect.
    let first = report.lines().nth(2).unwrap();
    for expected in [
        "the fish collapsed in 20 of 20 runs under `none`, `broadcast`, `a2a`, `rep`, `ledger` and `sanctions` and 0 of 20 runs under `quota`",
        "Against 6.15 years under `none`: `quota` raised the mean years before collapse (RMST) to 20.00",
        "every run lived to the 20-year horizon, which caps the effect",
        "`broadcast`, `a2a`, `rep` and `ledger` raised it to 7.20 each",
    ] {
        assert!(first.contains(expected), "{expected}\n{first}");
    }
    // One interval and one p-value per contrast: the between-protocols rows against the
    // reference repeat the primary table's, and comparison.csv holds each contrast once.
    let primary_rows = markdown_rows(&report, "## Primary outcome");
    let pair_rows = markdown_rows(&report, "### Between protocols");
    let mut checked = 0;
    for pair in &pair_rows {
        if pair[2] != "`none`" {
            continue;
        }
        let cell = format!(
            "{}/{}",
            pair[1].trim_matches('`'),
            pair[0].trim_matches('`')
        );
        let row = primary_rows.iter().find(|r| r[0] == cell).unwrap();
        assert_eq!((&row[3], &row[5]), (&pair[3], &pair[5]), "{cell}");
        checked += 1;
    }
    assert_eq!(
        checked, 12,
        "six protocols against `none` in two populations"
    );
    assert!(
        report.contains("the family holds 42 contrasts between every two protocols of each population, 7 contrasts of each population against `free-rider` within every protocol and 6 interactions"),
        "{report}"
    );
    let comparison = fs::read_to_string(dir.join("comparison.csv")).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for line in comparison.lines().filter(|l| l.contains(",delta_rmst,")) {
        let f: Vec<&str> = line.split(',').collect();
        assert!(
            seen.insert((f[0].to_string(), f[8].to_string(), f[9].to_string())),
            "twice: {line}"
        );
    }
    // 42 between protocols and 7 between populations (the 6 interactions are
    // `interaction_rmst` rows).
    assert_eq!(seen.iter().filter(|k| k.2 == "wilcoxon").count(), 49);
    // Methods from the manifest: the switches as run, the make-up of each population,
    // the collapse rule in words.
    for expected in [
        "- `quota`: allocation = equal, approval = 0.5, enforcement = binding, every_years = 1",
        "- `free-rider`: teams 1–5 scripted (strategy conditional, tremble 0.05); team 6 scripted (strategy free_rider, tremble 0.05)",
        "20 replicates per cell (seeds 1–20, the same seeds in every cell",
        "either area holds less than 5% of its capacity (deep sea 3000, coast 1500 fish)",
        "every other parameter at its default",
    ] {
        assert!(report.contains(expected), "{expected}");
    }
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 5, "the five figures inline");
    for external in ["<script", "<link", "src=", "@import"] {
        assert!(!html.contains(external), "self-contained: no {external}");
    }
    // comparison.csv is tidy: one row per cell and metric, tests with p-values.
    let comparison = fs::read_to_string(dir.join("comparison.csv")).unwrap();
    assert!(comparison.starts_with("cell,protocol,population,metric,n,estimate,ci_low,ci_high,comparison,test,statistic,p_value,p_adjusted,effect_size"));
    assert!(comparison.lines().any(|l| l.starts_with("quota/greedy,")
        && l.contains(",delta_rmst,")
        && l.contains("logrank")));
    assert!(comparison.lines().any(|l| l.starts_with("quota/greedy,")
        && l.contains(",delta_rmst,")
        && l.contains(",wilcoxon,")));
    assert!(comparison.lines().any(|l| l.contains("mann_whitney")));
    let metrics = fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 281, "a header and 280 runs");
    // Report twice, same bytes.
    let before = fs::read(dir.join("comparison.csv")).unwrap();
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(before, fs::read(dir.join("comparison.csv")).unwrap());
}

#[test]
fn one_replicate_and_runs_of_different_length() {
    let work = tempfile::tempdir().unwrap();
    let dir = sweep(
        work.path(),
        "short",
        &experiment("short", 1, "stop_on_collapse = true"),
    );
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    let years = fs::read_to_string(dir.join("years.csv")).unwrap();
    // Greedy runs stop early: fewer year rows than 4 runs × 12 years.
    assert!(years.lines().count() - 1 < 48);
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("| none/greedy | 1 / 0 / 0 |"), "{report}");
    // One replicate: estimated, never tested, and no interval made of one value.
    assert!(report.contains("not tested: 1 valid replicate"), "{report}");
    assert!(report.contains("`none` has 1 valid replicate (a test needs two in each cell)"));
    assert!(
        !report.contains("p 1.000") && !report.contains("[0.00, 0.00]"),
        "{report}"
    );
    let comparison = fs::read_to_string(dir.join("comparison.csv")).unwrap();
    assert!(!comparison.contains(",delta_"), "no contrast: {comparison}");
    // The methods state the parameter that differs from the defaults.
    assert!(
        report.contains("`stop_on_collapse` = true (default false)"),
        "{report}"
    );
    assert!(report.contains("a run stops at its collapse"), "{report}");
}

/// Two references that played identical games give one contrast the same interval and
/// p-value against each: bootstrap resamples come from the population, not the cells.
#[test]
fn identical_data_get_identical_intervals() {
    let work = tempfile::tempdir().unwrap();
    let text = TestExperiment::new("aa", 12, 12)
        .population(
            "followers",
            r#"{ strategy = "quota_follower", count = 6, tremble = 0.1 }"#,
        )
        .protocol("none", "none", "")
        .protocol("none-again", "none", "")
        .protocol("quota", "quota", "")
        .toml();
    let dir = sweep(work.path(), "aa", &text);
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    let rows = markdown_rows(&report, "### Between protocols");
    let against = |other: &str| {
        rows.iter()
            .find(|r| r[1] == "`quota`" && r[2] == other)
            .unwrap_or_else(|| panic!("quota against {other}: {report}"))
            .clone()
    };
    let (a, b) = (against("`none`"), against("`none-again`"));
    assert_eq!(a[3..], b[3..], "{report}");
}

/// The rows of the first Markdown table after `heading`, cells trimmed.
fn markdown_rows(report: &str, heading: &str) -> Vec<Vec<String>> {
    let start = report.find(heading).unwrap_or_else(|| panic!("{heading}"));
    report[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn merged_directories_count_each_run_once_and_half_written_runs_are_ignored() {
    let work = tempfile::tempdir().unwrap();
    // Two shards of one experiment.
    let a = sweep_with(
        &work.path().join("a"),
        "m",
        &experiment("m", 6, ""),
        &["--shard", "1/2"],
    );
    let b = sweep_with(
        &work.path().join("b"),
        "m",
        &experiment("m", 6, ""),
        &["--shard", "2/2"],
    );
    // A crash left rows of a run that never reached runs.csv.
    let mut years = fs::read_to_string(b.join("years.csv")).unwrap();
    years.push_str("deadbeef0000,1,24,0,0,618,0,2411,1365,529,165,250,1.03,1882,1200\n");
    fs::write(b.join("years.csv"), years).unwrap();
    let merged = work.path().join("merged");
    fishbanks()
        .args([
            "report",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("24 runs in 4 cells"));
    let report = fs::read_to_string(merged.join("report.md")).unwrap();
    assert!(report.contains("| none/greedy | 6 / 0 / 0 |"), "{report}");
    assert!(report.contains("Ignored 1 rows"), "{report}");
    // The same directory twice: runs counted once.
    fishbanks()
        .args([
            "report",
            a.to_str().unwrap(),
            a.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("12 runs in 4 cells"));
}

#[test]
fn reference_protocol_can_be_chosen_and_must_exist() {
    let work = tempfile::tempdir().unwrap();
    let dir = sweep(work.path(), "r", &experiment("r", 2, ""));
    fishbanks()
        .args(["report", dir.to_str().unwrap(), "--reference", "quota"])
        .assert()
        .success();
    assert!(fs::read_to_string(dir.join("report.md"))
        .unwrap()
        .contains("effect vs quota"));
    fishbanks()
        .args(["report", dir.to_str().unwrap(), "--reference", "nope"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("reference protocol `nope`")
                .and(predicate::str::contains("their protocols: none, quota")),
        );
}

#[test]
fn report_names_the_files_of_the_formats_asked_for() {
    let work = tempfile::tempdir().unwrap();
    let dir = sweep(work.path(), "f", &experiment("f", 2, ""));
    let out = fishbanks()
        .args(["report", dir.to_str().unwrap(), "--format", "latex"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("report.tex"), "{said}");
    assert!(
        !said.contains("report.md"),
        "only the files written: {said}"
    );
    assert!(dir.join("report.tex").exists());
}

#[test]
fn a_directory_that_is_not_a_results_directory_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    fishbanks()
        .args(["report", work.path().to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("is not a results directory"));
}

#[test]
fn different_experiments_are_refused_unless_compared() {
    let work = tempfile::tempdir().unwrap();
    let a = sweep(&work.path().join("a"), "a", &experiment("a", 3, ""));
    let b = sweep(
        &work.path().join("b"),
        "b",
        &experiment("b", 3, "collapse_density = 0.2"),
    );
    fishbanks()
        .args(["report", a.to_str().unwrap(), b.to_str().unwrap(), "--out"])
        .arg(work.path().join("pooled"))
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("different experiments")
                .and(predicate::str::contains("game"))
                .and(predicate::str::contains("--compare")),
        );
    assert!(!work.path().join("pooled/report.md").exists());
    // Side by side: each experiment's cells apart, each analysed with its own game.
    let out = work.path().join("compared");
    fishbanks()
        .args([
            "report",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--compare",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("24 runs in 8 cells"));
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("| none/a:greedy |") && report.contains("| none/b:greedy |"));
    assert!(report.contains("effect vs none"));
    // Each experiment's own numbers are as when it is analysed alone: seeds come from the
    // experiment, its cell and the metric, and Holm families stay within it. The
    // comparison across experiments is a family of its own.
    assert!(report.contains("### Across experiments"), "{report}");
    fishbanks()
        .args(["report", a.to_str().unwrap()])
        .assert()
        .success();
    let alone = Table::read(&a.join("comparison.csv"));
    let together = Table::read(&out.join("comparison.csv"));
    let key = |t: &Table, r: &Vec<String>, population: &str| {
        (
            r[t.col("protocol")].clone(),
            population.to_string(),
            r[t.col("metric")].clone(),
            r[t.col("comparison")].replace("/a:", "/"),
            r[t.col("test")].clone(),
        )
    };
    let numbers = |t: &Table, r: &Vec<String>| {
        [
            "n",
            "estimate",
            "ci_low",
            "ci_high",
            "p_value",
            "p_adjusted",
        ]
        .map(|c| r[t.col(c)].clone())
    };
    let mut checked = 0;
    for r in &alone.rows {
        let k = key(&alone, r, &r[alone.col("population")]);
        let twin = together.rows.iter().find(|q| {
            let p = q[together.col("population")].clone();
            p.starts_with("a:") && key(&together, q, &p["a:".len()..]) == k
        });
        let twin = twin.unwrap_or_else(|| panic!("{k:?} missing with --compare"));
        assert_eq!(numbers(&alone, r), numbers(&together, twin), "{k:?}");
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
    // Across experiments: this cell (of the experiment given first) minus the other's,
    // as rows of comparison.csv.
    let rmst = |cell: &str| -> f64 {
        let r = together
            .rows
            .iter()
            .find(|r| r[together.col("cell")] == cell && r[together.col("metric")] == "rmst")
            .unwrap_or_else(|| panic!("no rmst of {cell}"));
        r[together.col("estimate")].parse().unwrap()
    };
    let across: Vec<&Vec<String>> = together
        .rows
        .iter()
        .filter(|r| {
            r[together.col("metric")] == "delta_rmst"
                && r[together.col("comparison")].contains("/b:")
                && !r[together.col("cell")].contains("/b:")
        })
        .collect();
    assert_eq!(across.len(), 4, "two protocols × two populations");
    for r in across {
        let (cell, other) = (&r[together.col("cell")], &r[together.col("comparison")]);
        assert!(cell.contains("/a:"), "{cell}");
        let estimate: f64 = r[together.col("estimate")].parse().unwrap();
        assert!(
            (estimate - (rmst(cell) - rmst(other))).abs() < 1e-9,
            "{cell} minus {other}: {estimate}"
        );
    }
    // The family of the Methods counts one experiment's contrasts, and the across family
    // is described.
    assert!(
        report.contains("the family of `a` holds 2 contrasts between every two protocols of each population, 2 contrasts of each population against `greedy` within every protocol and 1 interaction"),
        "{report}"
    );
    assert!(
        report.contains("one Holm family of 4 contrasts"),
        "{report}"
    );
}

/// The question in the file: `[analysis]` names the reference protocol and population;
/// the report contrasts populations and their interactions with the protocols in the
/// primary family, names every declared contrast in its answer, and its Methods give the
/// command with every option used and no absolute path. A new question resumes the
/// sweep without playing a run again.
#[test]
fn the_question_in_the_file_is_answered_between_protocols_and_populations() {
    let work = tempfile::tempdir().unwrap();
    let question = |reference: &str, population: &str| {
        format!(
            "{}\n[analysis]\nreference = \"{reference}\"\nreference_population = \"{population}\"\n",
            experiment("q", 6, "")
        )
    };
    let path = work.path().join("q.toml");
    fs::write(&path, question("quota", "followers")).unwrap();
    let out = work.path().join("out");
    fishbanks()
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    let dir = out.join("q");
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["analysis"],
        serde_json::json!({"reference": "quota", "reference_population": "followers"})
    );
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("effect vs quota"), "{report}");
    let answer: String = report.lines().take(8).collect::<Vec<_>>().join("\n");
    assert!(answer.contains("under `quota`"), "{answer}");
    assert!(
        answer.contains("Against `followers` under the same protocol, `greedy`"),
        "{answer}"
    );
    assert!(
        answer.contains("Does a protocol's effect (against `quota`) depend on the population?"),
        "{answer}"
    );
    // Population contrasts and interactions are rows of comparison.csv, in the family.
    let cmp = Table::read(&dir.join("comparison.csv"));
    let row = |cell: &str, metric: &str, comparison: &str| {
        cmp.rows
            .iter()
            .find(|r| {
                r[cmp.col("cell")] == cell
                    && r[cmp.col("metric")] == metric
                    && r[cmp.col("comparison")] == comparison
                    && r[cmp.col("test")] == "wilcoxon"
            })
            .unwrap_or_else(|| panic!("no {metric} row of {cell} against {comparison}"))
            .clone()
    };
    for (cell, metric, comparison) in [
        ("none/greedy", "delta_rmst", "none/followers"),
        ("quota/greedy", "delta_rmst", "quota/followers"),
        ("none/greedy", "interaction_rmst", "none/followers"),
        ("none/greedy", "delta_rmst", "quota/greedy"),
    ] {
        let r = row(cell, metric, comparison);
        assert_eq!(r[cmp.col("primary")], "true", "{cell} {metric}");
        assert!(!r[cmp.col("p_adjusted")].is_empty(), "{cell} {metric}");
    }
    // The interaction is the difference of the two protocol effects.
    let estimate = |cell: &str, metric: &str, comparison: &str| -> f64 {
        row(cell, metric, comparison)[cmp.col("estimate")]
            .parse()
            .unwrap()
    };
    let in_greedy = estimate("none/greedy", "delta_rmst", "quota/greedy");
    let in_followers = estimate("none/followers", "delta_rmst", "quota/followers");
    assert!(
        (estimate("none/greedy", "interaction_rmst", "none/followers")
            - (in_greedy - in_followers))
            .abs()
            < 1e-9
    );
    // Another question of the same results: the flags override the file, and the Methods
    // name them, with the directory as given and no absolute path.
    let cwd = work.path();
    fishbanks()
        .current_dir(cwd)
        .args([
            "report",
            "out/q",
            "--reference",
            "none",
            "--reference-population",
            "greedy",
        ])
        .assert()
        .success();
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("`fishbanks report out/q --reference none --reference-population greedy`"),
        "{report}"
    );
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    let abs = work.path().to_string_lossy().to_string();
    assert!(
        !report.contains(&abs),
        "an absolute path in the report: {abs}"
    );
    assert!(report.contains("`fishbanks report q`"), "{report}");
    // A new question in the file: the sweep resumes (no run played again) and reports it.
    let runs_before = fs::read(dir.join("runs.csv")).unwrap();
    fs::write(&path, question("none", "greedy")).unwrap();
    fishbanks()
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    assert_eq!(runs_before, fs::read(dir.join("runs.csv")).unwrap());
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["analysis"]["reference"], "none");
    assert!(fs::read_to_string(dir.join("report.md"))
        .unwrap()
        .contains("effect vs none"));
}

/// Every table of the report shows one p-value per contrast but the sensitivity table,
/// and the HTML report shows no Markdown.
#[test]
fn one_p_value_per_contrast_and_no_markdown_in_html() {
    let work = tempfile::tempdir().unwrap();
    let dir = sweep(&work.path().join("p"), "p", &experiment("p", 6, ""));
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    let mut section = String::new();
    let mut tables = 0;
    for line in report.lines() {
        if line.starts_with('#') {
            section = line.to_string();
        }
        if line.starts_with("| ") && !line.starts_with("| ---") && !section.contains("Sensitivity")
        {
            // A header row: the line before the separator.
            let cells: Vec<&str> = line.split(" | ").collect();
            let p_columns = cells
                .iter()
                .filter(|c| {
                    let c = c.trim_matches(|x| x == '|' || x == ' ');
                    c == "p" || c.starts_with("p (") || c.contains("log-rank p")
                })
                .count();
            assert!(p_columns <= 1, "{section}: {line}");
            tables += usize::from(p_columns == 1);
        }
    }
    assert!(tables >= 4, "{tables} tables with a p-value");
    assert!(report.contains("### Sensitivity: unadjusted and unpaired tests"));
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!html.contains('`'), "Markdown in the HTML report");
    assert!(html.contains("<td><code>greedy</code></td>"));
}

#[test]
fn a_cell_of_identical_replicates_is_flagged_and_not_tested() {
    let work = tempfile::tempdir().unwrap();
    // Scripted agents without tremble play one game whatever the seed.
    let text = experiment("same", 4, "").replace(", tremble = 0.1", "");
    let dir = sweep(work.path(), "same", &text);
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("are the SAME game"), "{report}");
    // The advice fits who played: deterministic scripted seats, not a model server.
    assert!(report.contains("Its seats are deterministic"), "{report}");
    assert!(!report.contains("per-call seed"), "{report}");
    assert!(
        report.contains("not tested: identical replicates"),
        "{report}"
    );
    assert!(report.contains("1 of 4 (IDENTICAL)"), "{report}");
    assert!(
        report.contains("Nothing can be tested: its 4 `none` replicates are one identical game"),
        "{report}"
    );
}

/// A figure's structure: how many of each element it draws and every text it writes, so
/// a snapshot shows what changed (panels, series, labels) without pixel noise.
fn structure(svg: &str) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let mut texts = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() {
            continue;
        }
        if name == "text" {
            if let (Some(open), Some(close)) = (rest.find('>'), rest.find("</text>")) {
                if open < close {
                    texts.push(rest[open + 1..close].trim().to_string());
                }
            }
        }
        *counts.entry(name).or_default() += 1;
    }
    let mut out: Vec<String> = counts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    out.push("texts:".into());
    out.extend(texts);
    out.join("\n")
}

#[test]
fn figures_show_one_panel_per_population_and_match_their_snapshots() {
    let work = tempfile::tempdir().unwrap();
    let dir = sweep(work.path(), "figures", &experiment("figures", 4, ""));
    fishbanks()
        .args([
            "report",
            dir.to_str().unwrap(),
            "--format",
            "md,html,latex,csv",
            "--dpi",
            "72",
        ])
        .assert()
        .success();
    for stem in ["survival", "forest", "stock", "profit", "tokens"] {
        let svg = fs::read_to_string(dir.join(format!("plots/{stem}.svg"))).unwrap();
        let png = fs::read(dir.join(format!("plots/{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png is a PNG");
        insta::assert_snapshot!(format!("figure-{stem}"), structure(&svg));
    }
    // Faceted: the survival figure has one panel per population, each titled.
    let survival = structure(&fs::read_to_string(dir.join("plots/survival.svg")).unwrap());
    let titles: Vec<&str> = survival.lines().collect();
    assert!(
        titles.contains(&"greedy") && titles.contains(&"followers"),
        "{survival}"
    );
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("`plots/forest.svg`"));
    // With --run-lines the stock figure draws each run too: more lines than means.
    let lines = |svg: &str| svg.matches("<polyline").count();
    let means = lines(&fs::read_to_string(dir.join("plots/stock.svg")).unwrap());
    fishbanks()
        .args([
            "report",
            dir.to_str().unwrap(),
            "--run-lines",
            "--format",
            "md",
        ])
        .assert()
        .success();
    let with_runs = fs::read_to_string(dir.join("plots/stock.svg")).unwrap();
    assert!(with_runs.contains("thin: each run"));
    assert!(
        lines(&with_runs) > means,
        "{} vs {means}",
        lines(&with_runs)
    );
}

#[test]
fn every_number_of_the_latex_table_is_the_one_in_comparison_csv() {
    let work = tempfile::tempdir().unwrap();
    let dir = sweep(work.path(), "latex", &experiment("latex", 6, ""));
    fishbanks()
        .args(["report", dir.to_str().unwrap(), "--format", "latex,csv"])
        .assert()
        .success();
    assert!(
        !dir.join("report.md").exists(),
        "only the formats asked for"
    );
    let tex = fs::read_to_string(dir.join("report.tex")).unwrap();
    assert!(tex.contains("\\toprule") && tex.contains("\\bottomrule"));
    let comparison = Table::read(&dir.join("comparison.csv"));
    let value = |cell: &str, metric: &str, column: &str| -> f64 {
        let row = comparison
            .rows
            .iter()
            .find(|r| r[comparison.col("cell")] == cell && r[comparison.col("metric")] == metric)
            .unwrap_or_else(|| panic!("{cell} {metric}"));
        row[comparison.col(column)].parse().unwrap()
    };
    let primary: Vec<&str> = tex
        .split("\\label{tab:primary}")
        .nth(1)
        .unwrap()
        .split("\\bottomrule")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.ends_with("\\\\") && !l.contains("cell &"))
        .collect();
    assert_eq!(primary.len(), 4, "one row per cell");
    let numbers = |text: &str| -> Vec<f64> {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .filter_map(|t| t.trim_start_matches('+').parse().ok())
            .collect()
    };
    let mut checked = 0;
    for line in primary {
        let cols: Vec<&str> = line
            .trim_end_matches("\\\\")
            .split(" & ")
            .map(str::trim)
            .collect();
        let cell = cols[0].replace("\\_", "_");
        let rmst = numbers(cols[2]);
        let round = |x: f64| (x * 100.0).round() / 100.0;
        assert_eq!(rmst[0], round(value(&cell, "rmst", "estimate")), "{cell}");
        if rmst.len() == 3 {
            assert_eq!(rmst[1], round(value(&cell, "rmst", "ci_low")), "{cell}");
            assert_eq!(rmst[2], round(value(&cell, "rmst", "ci_high")), "{cell}");
        }
        if cell.starts_with("quota/") {
            let effect = numbers(cols[3]);
            assert_eq!(
                effect[0],
                round(value(&cell, "delta_rmst", "estimate")),
                "{cell}"
            );
            assert_eq!(
                effect[1],
                round(value(&cell, "delta_rmst", "ci_low")),
                "{cell}"
            );
            assert_eq!(
                effect[2],
                round(value(&cell, "delta_rmst", "ci_high")),
                "{cell}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "both quota cells have their effect checked");
}

/// The Methods a reviewer signs: a mock provider is named a rule-based stand-in with its
/// policy in words (never an empty model name), persona texts are quoted, and switches
/// that have no effect given the others are left out.
#[test]
fn methods_name_a_mock_a_stand_in_quote_personas_and_list_only_switches_that_apply() {
    let work = tempfile::tempdir().unwrap();
    let toml = TestExperiment::new("m", 4, 2)
        .provider(
            "stand-in",
            "kind = \"mock\"\npolicy = \"sustainable\"\ntemperature = 0.5\nseed = 2",
        )
        .section("[llm.personas]\ncautious = \"You run a family fishing company that must still exist in 20 years.\"")
        .population(
            "llm",
            r#"{ kind = "llm", provider = "stand-in", persona = "cautious", count = 3 }, { kind = "llm", provider = "stand-in", count = 3 }"#,
        )
        .protocol("quota", "quota", "enforcement = \"binding\"")
        .protocol("regulator", "regulator", "rule = \"regeneration\"")
        .toml();
    let dir = sweep(work.path(), "m", &toml);
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    let methods = &report[report.find("## Methods").unwrap()..];
    for expected in [
        "a rule-based stand-in (not a language model)",
        "policy `sustainable`: it keeps an equal share of each area's sustainable fleet",
        "`cautious`: \"You run a family fishing company that must still exist in 20 years.\"",
        "`greedy`: \"Your goal: maximise your team's final assets (bank plus the value of your ships).\"",
    ] {
        assert!(methods.contains(expected), "{expected}\n{methods}");
    }
    assert!(!methods.contains("model ``"), "{methods}");
    let line = |name: &str| {
        methods
            .lines()
            .find(|l| l.starts_with(&format!("- `{name}`")))
            .unwrap_or_else(|| panic!("no line for {name}"))
            .to_string()
    };
    // No talk rounds: the message bound does nothing; the regeneration rule: no surplus.
    assert!(
        !line("quota").contains("max_message_chars"),
        "{}",
        line("quota")
    );
    assert!(line("quota").contains("talk_rounds = 0"));
    assert!(
        !line("regulator").contains("surplus_share"),
        "{}",
        line("regulator")
    );
    assert!(line("regulator").contains("rule = regeneration"));
}

#[test]
fn every_run_living_to_the_horizon_is_said_once() {
    let work = tempfile::tempdir().unwrap();
    // Cooperators for three years: every run of every cell lives to the horizon.
    let text = TestExperiment::new("short", 3, 4)
        .population(
            "coop",
            r#"{ strategy = "conditional", count = 6, tremble = 0.1 }"#,
        )
        .protocol("none", "none", "")
        .protocol("broadcast", "broadcast", "")
        .protocol("quota", "quota", "")
        .toml();
    let dir = sweep(work.path(), "short", &text);
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    let answer = report.lines().find(|l| l.starts_with("**")).unwrap();
    assert_eq!(
        answer.matches("lived to the 3-year horizon").count(),
        1,
        "{answer}"
    );
    assert!(
        answer.contains(
            "every run under `none`, `broadcast` and `quota` lived to the 3-year horizon, which leaves no room for an effect"
        ),
        "{answer}"
    );
    assert!(!answer.contains("ended alike"), "{answer}");
    // Every null contrast is still named, with its interval and p-value; equal ones
    // together.
    assert!(
        answer.contains(
            "no detectable change under `broadcast` and `quota` (+0.00 [0.00, 0.00], Holm p 1.000 each)"
        ),
        "{answer}"
    );
}

#[test]
fn an_interaction_is_never_said_to_be_capped_by_the_horizon() {
    let work = tempfile::tempdir().unwrap();
    // Under the binding quota both populations live to the horizon, under `none` the one
    // with a free rider does not: the interaction (a difference of differences) has room.
    let text = TestExperiment::new("inter", 12, 4)
        .population(
            "coop",
            r#"{ strategy = "conditional", count = 6, tremble = 0.05 }"#,
        )
        .population(
            "rider",
            r#"{ strategy = "conditional", count = 5, tremble = 0.05 }, { strategy = "free_rider", count = 1, tremble = 0.05 }"#,
        )
        .protocol("none", "none", "")
        .protocol("quota", "quota", "")
        .toml();
    let dir = sweep(work.path(), "inter", &text);
    fishbanks()
        .args(["report", dir.to_str().unwrap()])
        .assert()
        .success();
    let report = fs::read_to_string(dir.join("report.md")).unwrap();
    let between = report
        .lines()
        .find(|l| l.starts_with("**Against `coop` under the same protocol"))
        .unwrap();
    let (_, interactions) = between.split_once("depend on the population?").unwrap();
    assert!(interactions.contains("`quota`"), "{interactions}");
    assert!(!interactions.contains("no room"), "{interactions}");
}
