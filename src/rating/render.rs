//! The leaderboard's files: `rating.csv` (tidy: one row per candidate, scenario,
//! protocol and metric), `rating.md` and `rating.html` (the leaderboard, a table per
//! scenario, the figure, the Methods) and `plots/rating.svg` (candidates × scenarios).
//! Nothing in them names a directory or the file a rating was made from, so ratings
//! joined later write the same bytes as one rating of all their candidates.

use super::battery::REFERENCE;
use super::leaderboard::{Leaderboard, LeaderboardError, Score, RESAMPLES};
use crate::analysis::figures::heatmap::{heatmap, Heatmap};
use crate::analysis::format::html::{escape, inline};
use crate::analysis::render::{effect_with_ci, p};
use crate::analysis::{write_figures, AnalysisError};
use crate::record::write_atomic;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One row of `rating.csv`.
#[derive(Debug, Clone, Serialize)]
struct Row<'a> {
    candidate: &'a str,
    scenario: &'a str,
    protocol: &'a str,
    metric: &'a str,
    n: usize,
    estimate: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    p_value: Option<f64>,
    p_adjusted: Option<f64>,
}

impl<'a> From<&'a Score> for Row<'a> {
    fn from(s: &'a Score) -> Self {
        Row {
            candidate: &s.candidate,
            scenario: &s.scenario,
            protocol: &s.protocol,
            metric: s.metric,
            n: s.n,
            estimate: s.estimate,
            ci_low: s.ci.map(|c| c.0),
            ci_high: s.ci.map(|c| c.1),
            p_value: s.p_value,
            p_adjusted: s.p_adjusted,
        }
    }
}

/// The rows in their order: the composites in rank order, then each candidate's cells in
/// rank order, then the reference player's.
fn ordered(board: &Leaderboard) -> Vec<&Score> {
    let mut out: Vec<&Score> = board
        .ranked
        .iter()
        .filter_map(|c| board.score(c, "all", "all", "composite"))
        .collect();
    for c in board.ranked.iter().map(String::as_str).chain([REFERENCE]) {
        out.extend(
            board
                .scores
                .iter()
                .filter(|s| s.candidate == c && s.metric != "composite"),
        );
    }
    out
}

fn csv(board: &Leaderboard) -> Result<Vec<u8>, AnalysisError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for s in ordered(board) {
        writer
            .serialize(Row::from(s))
            .map_err(|e| AnalysisError::Plot(format!("rating.csv: {e}")))?;
    }
    writer
        .into_inner()
        .map_err(|e| AnalysisError::Plot(format!("rating.csv: {e}")))
}

/// A share with three decimals, "–" when there is none.
fn share(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

fn with(score: Option<&Score>, show: impl Fn(&Score) -> String) -> String {
    score.map_or("–".into(), show)
}

fn effect(score: Option<&Score>) -> String {
    with(score, |s| {
        s.estimate.map_or("–".into(), |e| effect_with_ci(e, s.ci))
    })
}

/// A seat in words (`llm (provider mock, persona greedy)`, `scripted (strategy greedy)`).
fn seat_words(seat: &serde_json::Value) -> String {
    let kind = seat["kind"].as_str().unwrap_or("?");
    let settings: Vec<String> = seat
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| *k != "kind" && !v.is_null())
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k} {s}"),
            other => format!("{k} {other}"),
        })
        .collect();
    if settings.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({})", settings.join(", "))
    }
}

/// A table: its header and rows of cells.
type Table = (Vec<String>, Vec<Vec<String>>);

/// The tables and sentences, shared by the formats.
struct Content {
    answer: String,
    leaderboard: Table,
    /// Each scenario's title and table.
    scenarios: Vec<(String, Table)>,
    methods: Vec<String>,
}

fn content(board: &Leaderboard) -> Content {
    let b = board.ratings.battery;
    let cells = b.scenarios.len() * b.protocols.len();
    let composite = |c: &str| board.score(c, "all", "all", "composite");
    let ranked: Vec<String> = board
        .ranked
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "{}. `{c}` {}",
                i + 1,
                with(composite(c), |s| format!(
                    "{} (Holm p {})",
                    s.estimate.map_or("–".into(), |e| effect_with_ci(e, s.ci)),
                    p(s.p_adjusted)
                ))
            )
        })
        .collect();
    let flagged: Vec<String> = board
        .ranked
        .iter()
        .filter_map(|c| {
            let n: f64 = board
                .scores
                .iter()
                .filter(|s| s.candidate == *c && s.metric == "unscored_games")
                .filter_map(|s| s.estimate)
                .sum();
            (n > 0.0).then(|| format!("`{c}` ({n:.0} games)"))
        })
        .collect();
    let mut answer = format!(
        "Ranked by the composite: the mean, over the battery's {cells} scenario × protocol cells, of how many more years the fish lived (RMST over {} years) with the candidate in its seat than with the reference player (scripted `{}`) there, on the same seeds: {}.",
        board.ratings.years,
        b.reference,
        ranked.join("; ")
    );
    if !flagged.is_empty() {
        let _ = write!(
            answer,
            " Not scored, because the game was invalid or an answer of the candidate fell back to the harness's default: {}.",
            flagged.join(", ")
        );
    }
    let header = [
        "rank",
        "candidate",
        "agent",
        "composite: Δ years [95% CI]",
        "p (Holm across candidates)",
        "games scored",
        "survival rate",
        "valid first try",
        "fallback share",
    ]
    .map(String::from)
    .to_vec();
    let total = |c: &str, metric: &str| -> (f64, usize) {
        board
            .scores
            .iter()
            .filter(|s| s.candidate == c && s.metric == metric && s.scenario != "all")
            .fold((0.0, 0), |(sum, n), s| {
                (sum + s.estimate.unwrap_or(0.0) * s.n as f64, n + s.n)
            })
    };
    let rows = board
        .ranked
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let info = board.ratings.candidates.iter().find(|x| x.name == *c);
            let (survived, scored) = total(c, "survival_rate");
            let (unscored, _) = total(c, "unscored_games");
            let games = scored as f64 + unscored;
            // Answers over every game of the candidate (none for a scripted one).
            let mine = board.ratings.games.iter().filter(|g| g.player == *c);
            let (answered, valid, fell) = mine.fold((0u64, 0u64, 0u64), |(a, v, f), g| {
                (a + g.answers, v + g.valid_first_try, f + g.fallbacks)
            });
            vec![
                (i + 1).to_string(),
                format!("`{c}`"),
                info.map_or("–".into(), |x| seat_words(&x.seat)),
                with(composite(c), |s| {
                    s.estimate.map_or("–".into(), |e| effect_with_ci(e, s.ci))
                }),
                with(composite(c), |s| p(s.p_adjusted)),
                format!("{scored} of {games:.0}"),
                share((scored > 0).then(|| survived / scored as f64)),
                share((answered > 0).then(|| valid as f64 / answered as f64)),
                share((answered > 0).then(|| fell as f64 / answered as f64)),
            ]
        })
        .collect();
    let mut scenarios = Vec::new();
    for s in b.scenarios {
        let header = [
            "candidate",
            "protocol",
            "Δ RMST, years [95% CI]",
            "p (Holm)",
            "Δ own assets [95% CI]",
            "Δ others' assets [95% CI]",
            "survival rate: candidate / reference",
            "games scored",
        ]
        .map(String::from)
        .to_vec();
        let mut rows = Vec::new();
        for c in &board.ranked {
            for proto in b.protocols {
                let score = |m: &str| board.score(c, s.name, proto.name, m);
                rows.push(vec![
                    format!("`{c}`"),
                    format!("`{}`", proto.name),
                    effect(score("delta_rmst")),
                    with(score("delta_rmst"), |x| p(x.p_adjusted)),
                    effect(score("delta_own_assets")),
                    if s.self_play() {
                        "(self-play)".into()
                    } else {
                        effect(score("delta_others_assets"))
                    },
                    format!(
                        "{} / {}",
                        share(score("survival_rate").and_then(|x| x.estimate)),
                        share(
                            board
                                .score(REFERENCE, s.name, proto.name, "survival_rate")
                                .and_then(|x| x.estimate)
                        )
                    ),
                    with(score("delta_rmst"), |x| x.n.to_string()),
                ]);
            }
        }
        scenarios.push((
            format!("Scenario `{}`: {}", s.name, s.question),
            (header, rows),
        ));
    }
    Content {
        answer,
        leaderboard: (header, rows),
        scenarios,
        methods: methods(board),
    }
}

/// The Methods, from the battery (frozen in the code) and the candidates' manifests.
fn methods(board: &Leaderboard) -> Vec<String> {
    let b = board.ratings.battery;
    let (first, last) = board.ratings.seeds;
    let mut out = vec![format!(
        "Battery `{}` (frozen in the harness; any change is a new version): {} scenarios × {} protocols, {} years, seeds {first}–{last} in every cell (common random numbers: each seed meets the same draws in every cell). The candidate takes team 1's seat (all six in self-play); the other teams are scripted with tremble {} (a random valid decision in that share of their years, from the seed's own stream). Every cell is played again, seed for seed, with the reference player, scripted `{}` with tremble {}, in the candidate's seat (all six in self-play), so that each score is a paired difference: what putting this agent there changed.",
        b.version,
        b.scenarios.len(),
        b.protocols.len(),
        board.ratings.years,
        b.tremble,
        b.reference,
        b.tremble
    )];
    for s in b.scenarios {
        let others = if s.self_play() {
            "every team an instance of the candidate".to_string()
        } else {
            s.others
                .iter()
                .map(|(strategy, n)| format!("{n} × `{strategy}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(format!("Scenario `{}` ({others}): {}", s.name, s.question));
    }
    for p in b.protocols {
        out.push(format!(
            "Protocol `{}`: {} (switches: {}).",
            p.name,
            p.words,
            p.table.replace('\n', ", ")
        ));
    }
    out.push(format!(
        "Answers: at most {} re-asks with the validation error, then the fallback `{}` (counted); a game whose fallback share exceeds {} is invalid; agents remember {} years. A candidate's game that is invalid, or in which any answer of the candidate fell back, shows the harness's default rather than the candidate's play: it is counted (the leaderboard's games scored, `unscored_games` in rating.csv) and never scored.",
        b.max_repairs,
        match b.fallback {
            crate::question::Fallback::Previous => "previous",
            crate::question::Fallback::Hold => "hold",
            crate::question::Fallback::FailRun => "fail-run",
        },
        b.max_fallback_share,
        b.memory_years
    ));
    for c in &board.ratings.candidates {
        let mut text = format!("Candidate `{}`: {}", c.name, seat_words(&c.seat));
        if let Some(provider) = &c.provider {
            let _ = write!(text, "; its provider: {provider}");
        }
        if let Some(persona) = &c.persona {
            let _ = write!(text, "; its persona: \"{persona}\"");
        }
        out.push(text);
    }
    out.push(format!(
        "Scores, per candidate, scenario and protocol, over the seeds whose two games were both scored: Δ RMST, the candidate's restricted mean survival time (years before collapse, to the {}-year horizon, Kaplan–Meier) minus the reference's; Δ own assets, the final assets of the candidate's seat (self-play: the mean of the six teams') minus the reference's in that seat; Δ others' assets, the mean final assets of the other five teams with the candidate minus with the reference. Intervals: percentile bootstrap over the paired seeds ({RESAMPLES} resamples, drawn from a seed of the battery, the candidate, the scenario, the protocol and the measure, so that a candidate's numbers do not depend on who else is rated); tests: Wilcoxon's signed-rank test on the paired differences (survival years for Δ RMST), Holm-adjusted within the candidate and the measure over the battery's cells. Beside them: the candidate's raw survival rate (with Wilson's interval in rating.csv), its answers valid at the first try and its fallback share.",
        board.ratings.years
    ));
    out.push("The composite: the mean of Δ RMST over the battery's cells, in years. Its interval resamples seeds (a seed's pair in every cell goes with it); its test is Wilcoxon's on each seed's mean difference in survival years over the cells where the seed was scored; its p-values are Holm-adjusted across the candidates of the leaderboard. Candidates are ranked by it, ties by name. Every number comes from rating.csv; `fishbanks rate --leaderboard` on the results directories of these ratings writes these files again.".to_string());
    out
}

fn md_table(out: &mut String, (header, rows): &Table) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

fn html_table(out: &mut String, (header, rows): &Table) {
    out.push_str("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for v in r {
            let _ = write!(out, "<td>{}</td>", inline(v));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.45}\
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}.answer{font-size:1.1em;background:#f4f8fb;border-left:4px solid #0072B2;padding:.8em 1em}\
code{background:#f3f3f3;padding:0 3px}svg{max-width:100%;height:auto}";

/// The figure: candidates × (scenario, protocol), each cell its Δ RMST.
fn figure(board: &Leaderboard) -> Result<String, AnalysisError> {
    let b = board.ratings.battery;
    let columns: Vec<(String, String)> = b
        .scenarios
        .iter()
        .flat_map(|s| {
            b.protocols
                .iter()
                .map(move |p| (s.name.to_string(), p.name.to_string()))
        })
        .collect();
    let values: Vec<Vec<Option<f64>>> = board
        .ranked
        .iter()
        .map(|c| {
            columns
                .iter()
                .map(|(s, p)| board.score(c, s, p, "delta_rmst").and_then(|x| x.estimate))
                .collect()
        })
        .collect();
    let subtitle = format!(
        "Δ RMST: years the fish lived with the candidate in its seat minus with the reference player ({}), paired by seed; ranked by the composite",
        b.reference
    );
    heatmap(&Heatmap {
        title: &format!("Leaderboard of battery {}", b.version),
        subtitle: &subtitle,
        rows: &board.ranked,
        columns: &columns,
        values: &values,
    })
}

/// The leaderboard table as Markdown (what `fishbanks rate` prints at the end).
pub fn summary_table(board: &Leaderboard) -> String {
    let c = content(board);
    let mut out = format!("{}\n\n", c.answer);
    md_table(&mut out, &c.leaderboard);
    out
}

/// Write `rating.csv`, `rating.md`, `rating.html` and `plots/rating.svg` into `dir`;
/// returns the files written.
pub fn write(board: &Leaderboard, dir: &Path) -> Result<Vec<PathBuf>, LeaderboardError> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|source| AnalysisError::Io {
        path: plots.clone(),
        source,
    })?;
    let svg = figure(board)?;
    let figure = crate::analysis::figures::Figure {
        title: "Leaderboard".into(),
        stem: "rating".into(),
        svg,
    };
    write_figures(&plots, std::slice::from_ref(&figure), None)?;
    let c = content(board);
    let version = board.ratings.battery.version;
    let mut md = format!("# Leaderboard: battery {version}\n\n**{}**\n\n", c.answer);
    md_table(&mut md, &c.leaderboard);
    for (title, table) in &c.scenarios {
        let _ = writeln!(md, "## {title}\n");
        md_table(&mut md, table);
    }
    let _ = writeln!(
        md,
        "## Figure\n\n- Δ RMST by candidate, scenario and protocol: `plots/rating.svg`\n"
    );
    let _ = writeln!(md, "## Methods\n");
    for paragraph in &c.methods {
        let _ = writeln!(md, "{paragraph}\n");
    }
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Leaderboard — {v}</title><style>{STYLE}</style></head><body><h1>Leaderboard: battery {v}</h1><p class=\"answer\">{}</p>",
        inline(&c.answer),
        v = escape(version)
    );
    html_table(&mut html, &c.leaderboard);
    for (title, table) in &c.scenarios {
        let _ = write!(html, "<h2>{}</h2>", inline(title));
        html_table(&mut html, table);
    }
    let _ = write!(html, "<figure>{}</figure><h2>Methods</h2>", figure.svg);
    for paragraph in &c.methods {
        let _ = write!(html, "<p>{}</p>", inline(paragraph));
    }
    html.push_str("</body></html>\n");
    let files = [
        ("rating.csv", csv(board)?),
        ("rating.md", md.into_bytes()),
        ("rating.html", html.into_bytes()),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        write_atomic(&path, &bytes, false).map_err(AnalysisError::from)?;
        written.push(path);
    }
    written.push(plots.join("rating.svg"));
    Ok(written)
}
