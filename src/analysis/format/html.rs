//! `report.html`: one self-contained file (inline CSS and SVG, no network), in the order
//! of `report.md`, with the exploratory detail folded away.

use super::{Report, ReportFormat};
use crate::analysis::compare::ContrastKind;
use crate::analysis::methods::{self, Block};
use crate::analysis::{answer, render, AnalysisError};
use crate::record::write_atomic;
use std::fmt::Write as _;
use std::path::Path;

pub struct Html;

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `code` spans of the Markdown-ish sentences, as HTML.
pub(crate) fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn table(out: &mut String, (header, rows): (Vec<String>, Vec<Vec<String>>)) {
    out.push_str("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(&h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for v in r {
            // Cells name protocols and populations as `code`, as the sentences do.
            let _ = write!(out, "<td>{}</td>", inline(&v));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.45}\
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.4em}\
.answer{font-size:1.15em;background:#f4f8fb;border-left:4px solid #0072B2;padding:.8em 1em}.warning{background:#fff4e5;border-left:4px solid #E69F00;padding:.6em 1em}\
details{margin:1em 0}summary{cursor:pointer;font-weight:600}code{background:#f3f3f3;padding:0 3px}svg{max-width:100%;height:auto}";

/// The report as one HTML page.
pub fn html(report: &Report<'_>) -> String {
    let cmp = report.comparison;
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fishbanks report — {0}</title><style>{STYLE}</style></head><body>\
<h1>Which protocol keeps the fish alive? — {0}</h1>",
        escape(report.experiment)
    );
    for paragraph in answer::ranked(cmp).split("\n\n") {
        let _ = write!(out, "<p class=\"answer\">{}</p>", inline(paragraph));
    }
    for w in render::warnings(cmp, report.loaded) {
        let _ = write!(
            out,
            "<p class=\"warning\"><b>Warning.</b> {}</p>",
            inline(&w)
        );
    }
    let _ = write!(
        out,
        "<h2>Primary outcome: {} ({})</h2>",
        escape(cmp.primary.name()),
        escape(render::measure_words(cmp.primary))
    );
    table(&mut out, render::primary_table(cmp));
    let _ = write!(
        out,
        "<h3>The family</h3><p>{}</p>",
        inline(&methods::family_sentence(cmp, report.loaded))
    );
    if cmp.family_of(ContrastKind::Protocols).next().is_some() {
        out.push_str("<h3>Between protocols</h3>");
        table(&mut out, render::protocol_pairs_table(cmp));
    }
    if let Some(t) = render::populations_table(cmp) {
        let _ = write!(
            out,
            "<h3>Between populations</h3><p>{}</p>",
            inline(&format!("Each population against the reference population under the same protocol, paired by seed; an interaction is a protocol's effect against `{}` in the population minus its effect in the reference population.", cmp.reference))
        );
        table(&mut out, t);
    }
    if let Some(t) = render::across_table(cmp) {
        let _ = write!(
            out,
            "<h3>Across experiments</h3><p>{}</p>",
            inline(&methods::across_sentence(cmp))
        );
        table(&mut out, t);
    }
    if let Some(t) = render::generation_table(cmp) {
        let _ = write!(out, "<h2>By generation: does the society learn?</h2>");
        table(&mut out, t);
    }
    for f in report.figures {
        let _ = write!(
            out,
            "<figure><figcaption>{}</figcaption>{}</figure>",
            escape(&f.title),
            f.svg
        );
    }
    out.push_str("<h2>Validity</h2>");
    table(&mut out, render::validity_table(cmp));
    if let Some(t) = &report.socialisation {
        out.push_str("<h2>Socialisation diagnostics</h2><p>From <code>diagnostics.csv</code> (<code>fishbanks diagnose</code>; details in <code>diagnose.md</code>).</p>");
        table(&mut out, t.clone());
    }
    out.push_str("<details><summary>Exploratory outcomes</summary>");
    table(&mut out, render::outcomes_table(cmp));
    out.push_str("</details>");
    let _ = write!(
        out,
        "<details><summary>Other contrasts against <code>{}</code></summary>",
        escape(&cmp.reference)
    );
    table(&mut out, render::exploratory_contrasts(cmp));
    out.push_str("</details><details><summary>Pairwise comparisons between protocols</summary>");
    table(&mut out, render::pairwise_table(cmp));
    out.push_str("</details><details><summary>Sensitivity: unadjusted and unpaired tests</summary><p>The only table with more than one p-value per contrast: each contrast's unadjusted p-value, and the unpaired test beside the paired one that judges it.</p>");
    table(&mut out, render::sensitivity_table(cmp));
    out.push_str("</details><h2>Methods</h2>");
    for block in methods::methods(cmp, report.loaded, report.command) {
        match block {
            Block::Paragraph(text) => {
                let _ = write!(out, "<p>{}</p>", inline(&text));
            }
            Block::List { lead, items } => {
                let _ = write!(out, "<p>{}</p><ul>", inline(&lead));
                for item in items {
                    let _ = write!(out, "<li>{}</li>", inline(&item));
                }
                out.push_str("</ul>");
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}

impl ReportFormat for Html {
    fn files(&self) -> &'static [&'static str] {
        &["report.html"]
    }

    fn name(&self) -> &'static str {
        "html"
    }

    fn write(&self, report: &Report<'_>, dir: &Path) -> Result<(), AnalysisError> {
        Ok(write_atomic(
            &dir.join("report.html"),
            html(report).as_bytes(),
            false,
        )?)
    }
}
