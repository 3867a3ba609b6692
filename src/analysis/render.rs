//! Writing the comparison: a tidy `comparison.csv`, `report.md` (headline table first)
//! and a self-contained `report.html`.

use super::compare::{CellStats, Comparison, Outcome};
use serde::Serialize;
use std::fmt::Write as _;

/// One row of `comparison.csv`: one estimate or test of one cell.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub metric: String,
    /// Runs the estimate is based on (ok runs).
    pub n: usize,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// What the test compares against (`none/greedy`, …); empty for plain estimates.
    pub comparison: String,
    pub test: String,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub effect_size: Option<f64>,
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
    }
}

/// Every estimate and test, tidy.
pub fn comparison_rows(cmp: &Comparison) -> Vec<ComparisonRow> {
    let mut rows = Vec::new();
    for c in &cmp.cells {
        let reference = format!("{}/{}", cmp.reference, c.population);
        for (metric, value) in [
            ("runs", c.runs as f64),
            ("failed_runs", c.failed as f64),
            ("budget_exceeded_runs", c.budget_exceeded as f64),
            ("tokens", c.tokens as f64),
            ("cost_usd", c.cost_usd),
            ("ledger_violations", c.ledger_violations),
        ] {
            rows.push(ComparisonRow {
                estimate: Some(value),
                ..row(c, metric)
            });
        }
        if let Some(q) = c.quota_compliance {
            rows.push(ComparisonRow {
                estimate: Some(q),
                ..row(c, "quota_compliance")
            });
        }
        rows.push(ComparisonRow {
            estimate: Some(c.survival_rate),
            ci_low: c.survival_ci.map(|x| x.0),
            ci_high: c.survival_ci.map(|x| x.1),
            comparison: if c.fisher_p.is_some() {
                reference.clone()
            } else {
                String::new()
            },
            test: if c.fisher_p.is_some() {
                "fisher_exact".into()
            } else {
                String::new()
            },
            p_value: c.fisher_p,
            ..row(c, "survival_rate")
        });
        rows.push(ComparisonRow {
            estimate: c.median_survival,
            ..row(c, "median_survival")
        });
        rows.push(ComparisonRow {
            estimate: Some(c.rmst),
            comparison: if c.logrank.is_some() {
                reference.clone()
            } else {
                String::new()
            },
            test: if c.logrank.is_some() {
                "logrank".into()
            } else {
                String::new()
            },
            statistic: c.logrank.map(|t| t.statistic),
            p_value: c.logrank.map(|t| t.p_value),
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

fn num(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn p(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

fn with_ci(mean: f64, ci: Option<(f64, f64)>) -> String {
    match ci {
        Some((lo, hi)) => format!("{} [{}, {}]", num(mean), num(lo), num(hi)),
        None => num(mean),
    }
}

/// The headline table: one row per cell.
pub fn headline(cmp: &Comparison) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "cell",
        "n (failed, budget)",
        "survival rate [95% CI]",
        "median survival",
        "RMST",
        "final stock",
        "total catch",
        "assets",
        "Gini (assets)",
        "cost (USD)",
        "log-rank p vs reference",
    ];
    let rows = cmp
        .cells
        .iter()
        .map(|c| {
            let o = |name| c.outcomes[&name];
            vec![
                c.cell.clone(),
                format!("{} ({}, {})", c.ok, c.failed, c.budget_exceeded),
                with_ci(c.survival_rate, c.survival_ci),
                c.median_survival.map_or(format!("> {}", cmp.horizon), num),
                num(c.rmst),
                with_ci(o(Outcome::FinalStock).mean, o(Outcome::FinalStock).ci),
                with_ci(o(Outcome::TotalCatch).mean, o(Outcome::TotalCatch).ci),
                with_ci(o(Outcome::TotalAssets).mean, o(Outcome::TotalAssets).ci),
                with_ci(o(Outcome::GiniAssets).mean, o(Outcome::GiniAssets).ci),
                format!("{:.2}", c.cost_usd),
                if c.protocol == cmp.reference {
                    "(reference)".into()
                } else {
                    p(c.logrank.map(|t| t.p_value))
                },
            ]
        })
        .collect();
    (header, rows)
}

fn markdown_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
}

fn pair_rows(cmp: &Comparison, outcome: Outcome) -> Vec<Vec<String>> {
    cmp.pairs
        .iter()
        .filter(|p| p.outcome == outcome)
        .map(|pt| {
            vec![
                pt.population.clone(),
                format!("{} vs {}", pt.a, pt.b),
                num(pt.test.statistic),
                p(Some(pt.test.p_value)),
                p(Some(pt.p_holm)),
                format!("{:.2}", pt.cliffs_delta),
            ]
        })
        .collect()
}

const PAIR_HEADER: [&str; 6] = [
    "population",
    "protocols",
    "U",
    "p",
    "p (Holm)",
    "Cliff's delta",
];

const NOTES: &str = "Survival: a run *collapses* in the first year an area's post-harvest density is below the collapse threshold; \
survival time = collapse year − 1, censored at the horizon for runs that never collapse. Survival rate with Wilson 95% interval; \
Kaplan–Meier median (\"> horizon\" when more than half survive) and restricted mean survival time to the horizon; \
log-rank test against the reference protocol with the same population; Fisher's exact test of collapse proportions in \
`comparison.csv`. Other outcomes: mean with percentile bootstrap 95% interval (2,000 seeded resamples); pairwise Mann–Whitney U \
(normal approximation with tie and continuity corrections), Holm-adjusted within each outcome and population, with Cliff's delta. \
Only runs with status `ok` enter the statistics; failed and budget-stopped runs are counted in the first column.";

/// `report.md`.
pub fn markdown(cmp: &Comparison, experiment: &str, ignored_rows: u64) -> String {
    let mut out = format!(
        "# Which protocol keeps the fish alive? — {experiment}\n\nReference protocol: `{}`. Horizon: {} years.\n\n",
        cmp.reference, cmp.horizon
    );
    let (header, rows) = headline(cmp);
    markdown_table(&mut out, &header, &rows);
    let _ = writeln!(out, "\n{NOTES}\n");
    if ignored_rows > 0 {
        let _ = writeln!(
            out,
            "Ignored {ignored_rows} rows of runs that were not complete.\n"
        );
    }
    let _ = writeln!(out, "Plots: `plots/stock.svg`, `plots/survival.svg`, `plots/catch.svg`; every number: `comparison.csv`; per run: `metrics.csv`.\n");
    for outcome in Outcome::ALL {
        let rows = pair_rows(cmp, outcome);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {}: pairwise comparisons\n", outcome.name());
        markdown_table(&mut out, &PAIR_HEADER, &rows);
        out.push('\n');
    }
    out
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    out.push_str("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", html_escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for v in r {
            let _ = write!(out, "<td>{}</td>", html_escape(v));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// `report.html`: one file, inline CSS and SVG, no network.
pub fn html(cmp: &Comparison, experiment: &str, plots: &[(&str, &str)]) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fishbanks report — {0}</title><style>\
body{{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}}table{{border-collapse:collapse;margin:1em 0;font-size:13px}}\
th,td{{border:1px solid #ccc;padding:4px 8px;text-align:right}}th{{background:#f0f0f0}}td:first-child,th:first-child{{text-align:left}}\
figure{{margin:1.5em 0}}p.note{{font-size:13px;color:#555}}</style></head><body><h1>Which protocol keeps the fish alive?</h1>\
<p>Experiment <b>{0}</b>; reference protocol <code>{1}</code>; horizon {2} years.</p>",
        html_escape(experiment),
        html_escape(&cmp.reference),
        cmp.horizon
    );
    let (header, rows) = headline(cmp);
    html_table(&mut out, &header, &rows);
    let plain = NOTES.replace(['*', '`'], "");
    let _ = write!(out, "<p class=\"note\">{}</p>", html_escape(&plain));
    for (title, svg) in plots {
        let _ = write!(
            out,
            "<figure><figcaption><b>{}</b></figcaption>{}</figure>",
            html_escape(title),
            svg
        );
    }
    for outcome in Outcome::ALL {
        let rows = pair_rows(cmp, outcome);
        if rows.is_empty() {
            continue;
        }
        let _ = write!(out, "<h2>{}: pairwise comparisons</h2>", outcome.name());
        html_table(&mut out, &PAIR_HEADER, &rows);
    }
    out.push_str("</body></html>\n");
    out
}
