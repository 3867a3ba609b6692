//! `report.md`: the answer first, then the primary-outcome table, the figures, validity,
//! the exploratory detail and the methods.

use super::{Report, ReportFormat};
use crate::analysis::compare::ContrastKind;
use crate::analysis::methods::{self, Block};
use crate::analysis::{answer, render, AnalysisError};
use crate::record::write_atomic;
use std::fmt::Write as _;
use std::path::Path;

pub struct Markdown;

fn table(out: &mut String, (header, rows): (Vec<String>, Vec<Vec<String>>)) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

/// The report as Markdown.
pub fn markdown(report: &Report<'_>) -> String {
    let cmp = report.comparison;
    let mut out = format!(
        "# Which protocol keeps the fish alive? — {}\n\n",
        report.experiment
    );
    for paragraph in answer::ranked(cmp).split("\n\n") {
        let _ = writeln!(out, "**{paragraph}**\n");
    }
    for w in render::warnings(cmp, report.loaded) {
        let _ = writeln!(out, "> **Warning.** {w}\n");
    }
    let _ = writeln!(
        out,
        "## Primary outcome: {} ({})\n",
        cmp.primary.name(),
        render::measure_words(cmp.primary)
    );
    table(&mut out, render::primary_table(cmp));
    let _ = writeln!(
        out,
        "### The family\n\n{}\n",
        methods::family_sentence(cmp, report.loaded)
    );
    if cmp.family_of(ContrastKind::Protocols).next().is_some() {
        let _ = writeln!(out, "### Between protocols\n");
        table(&mut out, render::protocol_pairs_table(cmp));
    }
    if let Some(t) = render::populations_table(cmp) {
        let _ = writeln!(
            out,
            "### Between populations\n\nEach population against the reference population under the same protocol, paired by seed; an interaction is a protocol's effect against `{}` in the population minus its effect in the reference population.\n",
            cmp.reference
        );
        table(&mut out, t);
    }
    if let Some(t) = render::across_table(cmp) {
        let _ = writeln!(
            out,
            "### Across experiments\n\n{}\n",
            methods::across_sentence(cmp)
        );
        table(&mut out, t);
    }
    if let Some(t) = render::generation_table(cmp) {
        let _ = writeln!(
            out,
            "## By generation: does the society learn?\n\nEach replicate's line of games in sequence; every generation starts on a fresh sea and inherits the lessons the last one left (`[generations] inherit`).\n"
        );
        table(&mut out, t);
    }
    if !report.figures.is_empty() {
        let _ = writeln!(out, "## Figures\n");
        for f in report.figures {
            let png = if cfg!(feature = "png") {
                format!(" (`plots/{}.png`)", f.stem)
            } else {
                String::new()
            };
            let _ = writeln!(out, "- {}: `plots/{}.svg`{png}", f.title, f.stem);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Validity\n");
    table(&mut out, render::validity_table(cmp));
    if let Some(t) = &report.socialisation {
        let _ = writeln!(
            out,
            "## Socialisation diagnostics\n\nFrom `diagnostics.csv` (`fishbanks diagnose`; details in `diagnose.md`, graphs in `plots/influence-*.svg`).\n"
        );
        table(&mut out, t.clone());
    }
    let _ = writeln!(out, "## Exploratory outcomes\n");
    table(&mut out, render::outcomes_table(cmp));
    let _ = writeln!(out, "### Other contrasts against `{}`\n", cmp.reference);
    table(&mut out, render::exploratory_contrasts(cmp));
    let _ = writeln!(out, "### Pairwise comparisons between protocols\n");
    table(&mut out, render::pairwise_table(cmp));
    let _ = writeln!(
        out,
        "### Sensitivity: unadjusted and unpaired tests\n\nThe only table with more than one p-value per contrast: each contrast's unadjusted p-value, and the unpaired test beside the paired one that judges it. Read the answer from the tables above.\n"
    );
    table(&mut out, render::sensitivity_table(cmp));
    let _ = writeln!(out, "## Methods\n");
    for block in methods::methods(cmp, report.loaded, report.command) {
        match block {
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::List { lead, items } => {
                let _ = writeln!(out, "{lead}\n");
                for item in items {
                    let _ = writeln!(out, "- {item}");
                }
                out.push('\n');
            }
        }
    }
    out
}

impl ReportFormat for Markdown {
    fn files(&self) -> &'static [&'static str] {
        &["report.md"]
    }

    fn name(&self) -> &'static str {
        "md"
    }

    fn write(&self, report: &Report<'_>, dir: &Path) -> Result<(), AnalysisError> {
        let text = markdown(report);
        Ok(write_atomic(
            &dir.join("report.md"),
            text.as_bytes(),
            false,
        )?)
    }
}
