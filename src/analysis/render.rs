//! The report's content, independent of the format: the tidy `comparison.csv` rows, the
//! one-sentence answer, and the tables (as header + rows of strings). The formats
//! (`format/`) lay these out; every number in them is also a row of `comparison.csv`.

use super::compare::{CellStats, Comparison, Contrast, ContrastKind};
use super::load::Loaded;
use super::metrics::{Measure, Outcome};
use serde::Serialize;

/// One row of `comparison.csv`: one estimate or test of one cell.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub metric: String,
    /// Runs the estimate is based on (`ok` runs; pairs for a paired contrast).
    pub n: usize,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// What a test compares against (`none/greedy`, …); empty for plain estimates.
    pub comparison: String,
    pub test: String,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub effect_size: Option<f64>,
    /// Runs paired by seed (common random numbers).
    pub paired: bool,
    /// A contrast of the experiment's primary outcome (else exploratory).
    pub primary: bool,
}

fn row(c: &CellStats, metric: &str) -> ComparisonRow {
    ComparisonRow {
        cell: c.cell.clone(),
        protocol: c.protocol.clone(),
        population: c.population.clone(),
        metric: metric.to_string(),
        n: c.ok,
        estimate: None,
        ci_low: None,
        ci_high: None,
        comparison: String::new(),
        test: String::new(),
        statistic: None,
        p_value: None,
        p_adjusted: None,
        effect_size: None,
        paired: false,
        primary: false,
    }
}

/// Every estimate and test, tidy.
pub fn comparison_rows(cmp: &Comparison) -> Vec<ComparisonRow> {
    let mut rows = Vec::new();
    for c in &cmp.cells {
        let v = &c.validity;
        let counts: [(&str, Option<f64>); 13] = [
            ("runs", Some(c.runs as f64)),
            ("invalid_runs", Some(c.invalid as f64)),
            ("failed_runs", Some(c.failed as f64)),
            ("budget_runs", Some(c.budget as f64)),
            ("distinct_games", Some(c.distinct_games as f64)),
            ("fallback_share", v.fallback_share()),
            ("valid_first_try_share", v.valid_first_try_share()),
            ("tokens_in", Some(v.tokens_in as f64)),
            ("tokens_cached", Some(v.tokens_cached as f64)),
            ("tokens_out", Some(v.tokens_out as f64)),
            ("cost_usd", Some(v.cost_usd)),
            (
                "talk_tokens_per_agent_year",
                Some(c.talk_tokens).filter(|x| x.is_finite()),
            ),
            (
                "ledger_violations",
                Some(c.ledger_violations).filter(|x| x.is_finite()),
            ),
        ];
        for (metric, value) in counts {
            rows.push(ComparisonRow {
                estimate: value,
                ..row(c, metric)
            });
        }
        if let Some(q) = c.quota_compliance {
            rows.push(ComparisonRow {
                estimate: Some(q),
                ..row(c, "quota_compliance")
            });
        }
        if let Some(r) = c.recovered_share {
            rows.push(ComparisonRow {
                estimate: Some(r),
                ..row(c, "recovered_share")
            });
        }
        rows.push(ComparisonRow {
            estimate: Some(c.survival_rate).filter(|x| x.is_finite()),
            ci_low: c.survival_ci.map(|x| x.0),
            ci_high: c.survival_ci.map(|x| x.1),
            ..row(c, "survival_rate")
        });
        rows.push(ComparisonRow {
            estimate: c.median_survival,
            ..row(c, "median_survival")
        });
        rows.push(ComparisonRow {
            estimate: Some(c.rmst).filter(|x| x.is_finite()),
            ci_low: c.rmst_ci.map(|x| x.0),
            ci_high: c.rmst_ci.map(|x| x.1),
            ..row(c, "rmst")
        });
        for name in Outcome::ALL {
            let e = c.outcomes[&name];
            rows.push(ComparisonRow {
                estimate: Some(e.mean).filter(|m| m.is_finite()),
                ci_low: e.ci.map(|x| x.0),
                ci_high: e.ci.map(|x| x.1),
                ..row(c, name.name())
            });
        }
    }
    // The primary family's contrasts against the reference protocol are among
    // `contrasts`; its others are written once here, and the --compare family after.
    let others = cmp.family.iter().filter(|k| {
        k.kind != ContrastKind::Protocols
            || cmp
                .cell(&k.reference_cell)
                .is_none_or(|r| r.protocol != cmp.reference)
    });
    for k in cmp.contrasts.iter().chain(others).chain(&cmp.across) {
        let metric = match k.kind {
            ContrastKind::Interaction => format!("interaction_{}", k.measure.name()),
            _ => format!("delta_{}", k.measure.name()),
        };
        let Some(c) = cmp.cell(&k.cell) else {
            continue;
        };
        let (test, t) = k.paired.or(k.unpaired).unzip();
        rows.push(ComparisonRow {
            n: if k.pairs > 0 { k.pairs } else { c.ok },
            estimate: Some(k.effect).filter(|x| x.is_finite()),
            ci_low: k.ci.map(|x| x.0),
            ci_high: k.ci.map(|x| x.1),
            comparison: k.reference_cell.clone(),
            test: test.unwrap_or_default().to_string(),
            statistic: t.map(|t| t.statistic).filter(|x| x.is_finite()),
            p_value: k.p_value,
            p_adjusted: k.p_adjusted,
            effect_size: k.cliffs_delta,
            paired: k.pairs > 0,
            primary: k.primary && k.kind != ContrastKind::Across,
            ..row(c, &metric)
        });
        // The unpaired test beside the paired one.
        if let (Some(_), Some((name, t))) = (k.paired, k.unpaired) {
            rows.push(ComparisonRow {
                estimate: Some(k.effect).filter(|x| x.is_finite()),
                comparison: k.reference_cell.clone(),
                test: name.to_string(),
                statistic: Some(t.statistic).filter(|x| x.is_finite()),
                p_value: Some(t.p_value),
                effect_size: k.cliffs_delta,
                primary: false,
                ..row(c, &metric)
            });
        }
    }
    for p in &cmp.pairs {
        let Some(c) = cmp
            .cells
            .iter()
            .find(|c| c.protocol == p.a && c.population == p.population)
        else {
            continue;
        };
        rows.push(ComparisonRow {
            comparison: format!("{}/{}", p.b, p.population),
            test: "mann_whitney".into(),
            statistic: Some(p.test.statistic),
            p_value: Some(p.test.p_value),
            p_adjusted: Some(p.p_holm),
            effect_size: Some(p.cliffs_delta),
            ..row(c, p.outcome.name())
        });
    }
    rows
}

/// A number as the tables show it: whole above 100, two decimals below.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// One decimal (talk tokens), "–" when there is nothing to show.
fn tenths(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "–".into()
    }
}

/// Kaplan–Meier median: "> horizon" when the curve never reaches 0.5, "–" without a
/// valid run.
fn median(c: &CellStats) -> String {
    match c.median_survival {
        _ if c.ok == 0 => "–".into(),
        Some(m) => num(m),
        None => format!("> {}", c.horizon),
    }
}

/// A signed number (effects).
pub fn signed(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v >= 0.0 {
        format!("+{}", num(v))
    } else {
        num(v)
    }
}

pub fn p(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

pub fn with_ci(mean: f64, ci: Option<(f64, f64)>) -> String {
    match ci {
        Some((lo, hi)) => format!("{} [{}, {}]", num(mean), num(lo), num(hi)),
        None => num(mean),
    }
}

pub fn effect_with_ci(effect: f64, ci: Option<(f64, f64)>) -> String {
    match ci {
        Some((lo, hi)) => format!("{} [{}, {}]", signed(effect), num(lo), num(hi)),
        None => signed(effect),
    }
}

/// A measure's value in one cell.
pub fn measure_value(c: &CellStats, m: Measure) -> (f64, Option<(f64, f64)>) {
    match m {
        Measure::Rmst => (c.rmst, c.rmst_ci),
        Measure::Survival => (c.survival_rate, c.survival_ci),
        Measure::Outcome(o) => {
            let e = c.outcomes[&o];
            (e.mean, e.ci)
        }
    }
}

/// What a measure is, in words (for sentences and headers).
pub fn measure_words(m: Measure) -> &'static str {
    match m {
        Measure::Rmst => "mean years before collapse (RMST)",
        Measure::Survival => "share of runs that never collapsed",
        Measure::Outcome(Outcome::FinalStock) => "fish left at the horizon",
        Measure::Outcome(Outcome::MinStock) => "lowest stock after a harvest",
        Measure::Outcome(Outcome::TotalCatch) => "total catch",
        Measure::Outcome(Outcome::CumulativeProfit) => "cumulative profit",
        Measure::Outcome(Outcome::TotalAssets) => "total assets",
        Measure::Outcome(Outcome::GiniAssets) => "Gini of assets",
        Measure::Outcome(Outcome::OveruseShare) => "share of over-fishing agent-years",
    }
}

/// The cells in report order: grouped by population (in the order populations first
/// appear), protocols in plan order within each.
pub fn cells_by_population(cmp: &Comparison) -> Vec<&CellStats> {
    let mut populations: Vec<&str> = Vec::new();
    for c in &cmp.cells {
        if !populations.contains(&c.population.as_str()) {
            populations.push(&c.population);
        }
    }
    populations
        .iter()
        .flat_map(|p| cmp.cells.iter().filter(move |c| c.population == *p))
        .collect()
}

/// The primary-outcome table: one row per cell, grouped by population, with the contrast
/// against the reference protocol (one interval, one p-value: the family's).
pub fn primary_table(cmp: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let m = cmp.primary;
    let header = vec![
        "cell".to_string(),
        "runs ok / invalid / failed".to_string(),
        format!("{} [95% CI]", m.name()),
        format!("effect vs {} [95% CI]", cmp.reference),
        "test".to_string(),
        "p (Holm)".to_string(),
        "talk tokens / agent-year".to_string(),
    ];
    let rows = cells_by_population(cmp)
        .into_iter()
        .map(|c| {
            let (v, ci) = measure_value(c, m);
            let k = cmp.contrast(&c.cell, m);
            let mut r = vec![
                c.cell.clone(),
                format!("{} / {} / {}", c.ok, c.invalid, c.failed),
                with_ci(v, ci),
            ];
            if c.protocol == cmp.reference {
                r.extend(["(reference)".into(), String::new(), String::new()]);
            } else if let Some(why) = untested(c) {
                r.extend([why, String::new(), String::new()]);
            } else {
                match k {
                    Some(k) => r.extend([
                        effect_with_ci(k.effect, k.ci),
                        test_name(k),
                        p(k.p_adjusted),
                    ]),
                    None => r.extend(["–".into(), String::new(), String::new()]),
                }
            }
            r.push(tenths(c.talk_tokens));
            r
        })
        .collect();
    (header, rows)
}

/// Why a cell is not tested, if it is not: identical replicates, or too few valid ones.
pub fn untested(c: &CellStats) -> Option<String> {
    if c.identical_replicates() {
        Some("not tested: identical replicates".into())
    } else if c.ok < super::compare::MIN_REPLICATES {
        Some(format!(
            "not tested: {} valid replicate{}",
            c.ok,
            if c.ok == 1 { "" } else { "s" }
        ))
    } else {
        None
    }
}

/// The test a contrast is judged by, with its pairs.
fn test_name(k: &Contrast) -> String {
    k.paired
        .or(k.unpaired)
        .map(|(n, _)| {
            if k.pairs > 0 {
                format!("{n}, {} pairs", k.pairs)
            } else {
                n.to_string()
            }
        })
        .unwrap_or_default()
}

/// The primary outcome between every two protocols of a population (members of the
/// primary family, paired where the runs pair up).
pub fn protocol_pairs_table(cmp: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let header = vec![
        "population".to_string(),
        "protocol".to_string(),
        "against".to_string(),
        format!("difference in {} [95% CI]", measure_words(cmp.primary)),
        "test".to_string(),
        "p (Holm)".to_string(),
    ];
    let rows = cmp
        .family_of(ContrastKind::Protocols)
        .map(|k| {
            let other = cmp
                .cell(&k.reference_cell)
                .map_or(String::new(), |c| c.protocol.clone());
            vec![
                format!("`{}`", k.population),
                format!("`{}`", k.protocol),
                format!("`{other}`"),
                effect_with_ci(k.effect, k.ci),
                test_name(k),
                p(k.p_adjusted),
            ]
        })
        .collect();
    (header, rows)
}

/// The primary outcome between populations (members of the primary family): each
/// population against the reference population within every protocol, then each
/// protocol's interaction with the population. `None` with one population.
pub fn populations_table(cmp: &Comparison) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let members: Vec<&Contrast> = cmp
        .family
        .iter()
        .filter(|k| {
            matches!(
                k.kind,
                ContrastKind::Populations | ContrastKind::Interaction
            )
        })
        .collect();
    if members.is_empty() {
        return None;
    }
    let header = vec![
        "contrast".to_string(),
        "protocol".to_string(),
        "population".to_string(),
        "against".to_string(),
        format!("difference in {} [95% CI]", measure_words(cmp.primary)),
        "test".to_string(),
        "p (Holm)".to_string(),
    ];
    let population_of = |cell: &str| {
        cmp.cell(cell)
            .map_or(String::new(), |c| c.population.clone())
    };
    let rows = members
        .into_iter()
        .map(|k| {
            let (what, protocol) = match k.kind {
                ContrastKind::Interaction => (
                    "interaction".to_string(),
                    format!("`{}` vs `{}`", k.protocol, cmp.reference),
                ),
                _ => ("population".to_string(), format!("`{}`", k.protocol)),
            };
            vec![
                what,
                protocol,
                format!("`{}`", k.population),
                format!("`{}`", population_of(&k.reference_cell)),
                effect_with_ci(k.effect, k.ci),
                test_name(k),
                p(k.p_adjusted),
            ]
        })
        .collect();
    Some((header, rows))
}

/// With `--compare`: the same cell in two experiments (unpaired, one Holm family).
pub fn across_table(cmp: &Comparison) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    if cmp.across.is_empty() {
        return None;
    }
    let header = vec![
        "cell".to_string(),
        "against".to_string(),
        format!("difference in {} [95% CI]", measure_words(cmp.primary)),
        "test".to_string(),
        "p (Holm)".to_string(),
    ];
    let rows = cmp
        .across
        .iter()
        .map(|k| {
            vec![
                k.cell.clone(),
                k.reference_cell.clone(),
                effect_with_ci(k.effect, k.ci),
                test_name(k),
                p(k.p_adjusted),
            ]
        })
        .collect();
    Some((header, rows))
}

/// Validity per cell: did the agents play, are the replicates independent, what did it
/// cost.
/// The primary outcome by generation, for the protocols whose cells played generations:
/// does the society learn? `None` without generations.
pub fn generation_table(cmp: &Comparison) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let base = |c: &CellStats| c.protocol.split('@').next().unwrap_or("").to_string();
    let lines: Vec<(String, String)> = cmp
        .cells
        .iter()
        .filter(|c| c.generation > 1)
        .map(|c| (base(c), c.population.clone()))
        .collect();
    if lines.is_empty() {
        return None;
    }
    let header = [
        "protocol",
        "population",
        "generation",
        "ok",
        cmp.primary.name(),
        "survival rate",
        "talk tokens / agent-year",
    ]
    .map(String::from)
    .to_vec();
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    for line in lines {
        if seen.contains(&line) {
            continue;
        }
        let mut cells: Vec<&CellStats> = cmp
            .cells
            .iter()
            .filter(|c| base(c) == line.0 && c.population == line.1)
            .collect();
        cells.sort_by_key(|c| c.generation);
        for c in cells {
            let (value, ci) = measure_value(c, cmp.primary);
            rows.push(vec![
                format!("`{}`", line.0),
                format!("`{}`", line.1),
                c.generation.to_string(),
                c.ok.to_string(),
                if c.ok == 0 {
                    "–".into()
                } else {
                    with_ci(value, ci)
                },
                if c.ok == 0 {
                    "–".into()
                } else {
                    format!("{:.2}", c.survival_rate)
                },
                format!("{:.1}", c.talk_tokens),
            ]);
        }
        seen.push(line);
    }
    Some((header, rows))
}

pub fn validity_table(cmp: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "cell",
        "ok",
        "invalid",
        "failed",
        "budget",
        "distinct games",
        "fallback share",
        "valid first try",
        "tokens in",
        "tokens cached",
        "tokens out",
        "cost (USD)",
    ]
    .map(String::from)
    .to_vec();
    let share = |x: Option<f64>| x.map_or("–".into(), |v| format!("{v:.3}"));
    let rows = cmp
        .cells
        .iter()
        .map(|c| {
            let v = &c.validity;
            vec![
                c.cell.clone(),
                c.ok.to_string(),
                c.invalid.to_string(),
                c.failed.to_string(),
                c.budget.to_string(),
                if c.identical_replicates() {
                    format!("1 of {} (IDENTICAL)", c.ok)
                } else {
                    format!("{} of {}", c.distinct_games, c.ok)
                },
                share(v.fallback_share()),
                share(v.valid_first_try_share()),
                v.tokens_in.to_string(),
                v.tokens_cached.to_string(),
                v.tokens_out.to_string(),
                format!("{:.2}", v.cost_usd),
            ]
        })
        .collect();
    (header, rows)
}

/// Warnings a reader must see first: identical replicates, invalid or failed runs.
pub fn warnings(cmp: &Comparison, loaded: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    for c in &cmp.cells {
        if c.identical_replicates() {
            let model_calls: u64 = loaded
                .runs
                .iter()
                .filter(|r| r.cell == c.cell)
                .map(|r| r.llm_calls)
                .sum();
            // Who made the replicates alike decides the advice: scripted seats without
            // trembles are deterministic by design, a model is expected to vary.
            let why = if model_calls == 0 {
                "Its seats are deterministic (scripted strategies with `tremble = 0`, the default, and none `random`): give them a `tremble` above 0 or add a `random` seat so replicates differ."
            } else {
                "Check that replicates are independent: a model at temperature 0, or a server that ignores the per-call seed, plays one game."
            };
            out.push(format!(
                "Cell `{}`: all {} ok replicates are the SAME game (identical decisions). They are one observation, not {}: no test involving this cell was computed. {why}",
                c.cell, c.ok, c.ok
            ));
        } else if c.duplicate_replicates() > 0 {
            out.push(format!(
                "Cell `{}`: {} of {} ok replicates repeat another replicate's game.",
                c.cell,
                c.duplicate_replicates(),
                c.ok
            ));
        }
        if c.invalid + c.failed > 0 {
            out.push(format!(
                "Cell `{}`: {} invalid and {} failed runs are left out of every statistic (see runs.csv, column `error`).",
                c.cell, c.invalid, c.failed
            ));
        }
    }
    if loaded.ignored_rows > 0 {
        out.push(format!(
            "Ignored {} rows of runs that were not complete.",
            loaded.ignored_rows
        ));
    }
    out
}

/// Exploratory per-cell estimates: survival and every outcome.
pub fn outcomes_table(cmp: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec![
        "cell".to_string(),
        "survival rate [95% CI]".into(),
        "median survival".into(),
        "RMST".into(),
        "recovered".into(),
    ];
    header.extend(Outcome::ALL.iter().map(|o| o.name().to_string()));
    header.push("talk tokens / agent-year".into());
    let rows = cmp
        .cells
        .iter()
        .map(|c| {
            let mut r = vec![
                c.cell.clone(),
                with_ci(c.survival_rate, c.survival_ci),
                median(c),
                num(c.rmst),
                c.recovered_share.map_or("–".into(), |s| format!("{s:.2}")),
            ];
            r.extend(Outcome::ALL.iter().map(|o| {
                let e = c.outcomes[o];
                with_ci(e.mean, e.ci)
            }));
            r.push(tenths(c.talk_tokens));
            r
        })
        .collect();
    (header, rows)
}

/// Exploratory contrasts against the reference on every measure but the primary one: one
/// p-value each (the paired test's, Holm-adjusted within the measure).
pub fn exploratory_contrasts(cmp: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "cell",
        "measure",
        "effect [95% CI]",
        "test",
        "p (Holm, within measure)",
    ]
    .map(String::from)
    .to_vec();
    let rows = cmp
        .contrasts
        .iter()
        .filter(|k| !k.primary)
        .map(|k| {
            vec![
                k.cell.clone(),
                k.measure.name().to_string(),
                effect_with_ci(k.effect, k.ci),
                test_name(k),
                p(k.p_adjusted),
            ]
        })
        .collect();
    (header, rows)
}

/// The sensitivity table: every contrast's unadjusted p-value, and the unpaired test with
/// its p-value, beside the p-value that judges it elsewhere. The only table with more
/// than one p-value per contrast, labelled as such.
pub fn sensitivity_table(cmp: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "cell",
        "measure",
        "against",
        "test",
        "p (unadjusted)",
        "p (Holm)",
        "unpaired test",
        "p (unpaired, unadjusted)",
        "Cliff's delta",
    ]
    .map(String::from)
    .to_vec();
    let rows = cmp
        .contrasts
        .iter()
        .filter(|k| !k.primary)
        .chain(&cmp.family)
        .chain(&cmp.across)
        .map(|k| {
            let against = match k.kind {
                ContrastKind::Interaction => format!(
                    "{} (interaction with `{}`)",
                    k.reference_cell, cmp.reference
                ),
                _ => k.reference_cell.clone(),
            };
            vec![
                k.cell.clone(),
                k.measure.name().to_string(),
                against,
                test_name(k),
                p(k.p_value),
                p(k.p_adjusted),
                k.unpaired.map_or("–".into(), |(n, _)| n.to_string()),
                p(k.unpaired.map(|(_, t)| t.p_value)),
                k.cliffs_delta.map_or("–".into(), |d| format!("{d:.2}")),
            ]
        })
        .collect();
    (header, rows)
}

/// Pairwise Mann–Whitney tests between protocols (exploratory): one p-value each, Holm
/// within each outcome and population (the unadjusted one is in `comparison.csv`).
pub fn pairwise_table(cmp: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "outcome",
        "population",
        "protocols",
        "U",
        "p (Holm)",
        "Cliff's delta",
    ]
    .map(String::from)
    .to_vec();
    let rows = cmp
        .pairs
        .iter()
        .map(|pt| {
            vec![
                pt.outcome.name().to_string(),
                pt.population.clone(),
                format!("{} vs {}", pt.a, pt.b),
                num(pt.test.statistic),
                p(Some(pt.p_holm)),
                format!("{:.2}", pt.cliffs_delta),
            ]
        })
        .collect();
    (header, rows)
}
