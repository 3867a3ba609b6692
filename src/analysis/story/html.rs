//! The story as one self-contained page (inline CSS and SVG, no script, no network).
//! Everything recorded, including what agents wrote, is escaped: it is shown, never run.

use super::{ending, overview, years, Story};
use crate::analysis::figures::run::run_figures;
use crate::analysis::format::html::escape;
use crate::analysis::AnalysisError;
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222;line-height:1.45}\
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}\
th{background:#f0f0f0}td:nth-child(2),td:last-child{text-align:left}h2{margin-top:1.6em;border-bottom:1px solid #ddd}\
.sea{background:#f4f8fb;border-left:4px solid #0072B2;padding:.4em .8em}li{margin:.15em 0}figure{margin:1em 0}";

/// `code` spans (between backticks) of an overview sentence, escaped.
fn inline(text: &str) -> String {
    escape(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// The page.
pub fn html(s: &Story) -> Result<String, AnalysisError> {
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Run {0} — {1}</title><style>{STYLE}</style></head><body><h1>The story of run {0}</h1>",
        escape(&s.run.run_id),
        escape(&s.experiment)
    );
    for line in overview(s) {
        let _ = write!(out, "<p>{}</p>", inline(&line));
    }
    for f in run_figures(&s.years, &s.agents)? {
        let _ = write!(
            out,
            "<figure><figcaption>{}</figcaption>{}</figure>",
            escape(&f.title),
            f.svg
        );
    }
    for y in years(s) {
        let _ = write!(
            out,
            "<h2 id=\"year-{0}\">Year {0}</h2><p class=\"sea\">{1}</p>",
            y.year,
            escape(&y.sea)
        );
        if !y.lines.is_empty() {
            out.push_str("<ul>");
            for line in &y.lines {
                let _ = write!(out, "<li>{}</li>", escape(line));
            }
            out.push_str("</ul>");
        }
        out.push_str("<table><thead><tr>");
        for h in &y.header {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr></thead><tbody>");
        for r in &y.rows {
            out.push_str("<tr>");
            for c in r {
                let _ = write!(out, "<td>{}</td>", escape(c));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
    let ending = ending(s);
    if let Some((head, ranks)) = ending.split_first() {
        let _ = write!(
            out,
            "<h2 id=\"end\">The end</h2><p>{}</p><ul>",
            escape(head)
        );
        for line in ranks {
            let _ = write!(out, "<li>{}</li>", escape(line));
        }
        out.push_str("</ul>");
    }
    out.push_str("</body></html>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{EventDetail, Story};
    use crate::record::{AgentRow, Event, RunRow, YearRow};

    #[test]
    fn what_agents_wrote_is_escaped_never_run() {
        let story = Story {
            experiment: "e<x>".into(),
            run: RunRow {
                run_id: "r1".into(),
                years: 1,
                years_played: 1,
                ..RunRow::default()
            },
            seats: vec!["llm m (greedy)".into(); 2],
            years: vec![YearRow {
                run_id: "r1".into(),
                year: 1,
                ..YearRow::default()
            }],
            agents: (0..2)
                .map(|agent| AgentRow {
                    run_id: "r1".into(),
                    year: 1,
                    agent,
                    ..AgentRow::default()
                })
                .collect(),
            messages: Vec::new(),
            events: vec![Event::Message {
                year: 1,
                round: 1,
                from: 1,
                to: Vec::new(),
                text: "<script>alert('fish')</script> & \"more\"".into(),
                truncated: false,
            }],
            detail: EventDetail::Full,
        };
        let page = super::html(&story).unwrap();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert('fish')&lt;/script&gt; &amp; &quot;more&quot;"));
        assert!(page.contains("Message, round 1, team 2 → everyone"));
        assert!(page.contains("<title>Run r1 — e&lt;x&gt;</title>"));
    }
}
