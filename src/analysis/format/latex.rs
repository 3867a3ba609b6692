//! `report.tex`: the report's tables as `booktabs` LaTeX, to paste into a paper. Same
//! rows, same rounding as the Markdown (both read `render`), names escaped; every number
//! is also a row of `comparison.csv`. Not written by default (`--format latex`).

use super::{Report, ReportFormat};
use crate::analysis::methods::{self, Block};
use crate::analysis::{answer, render, AnalysisError};
use crate::record::write_atomic;
use std::fmt::Write as _;
use std::path::Path;

pub struct Latex;

/// Text with LaTeX's special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '–' => out.push_str("--"),
            '−' => out.push('-'),
            '`' => {}
            other => out.push(other),
        }
    }
    out
}

fn table(
    out: &mut String,
    caption: &str,
    label: &str,
    (header, rows): (Vec<String>, Vec<Vec<String>>),
) {
    let columns = format!("l{}", "r".repeat(header.len().saturating_sub(1)));
    let _ = writeln!(out, "\\begin{{table}}[ht]\n\\centering\n\\small");
    let _ = writeln!(out, "\\caption{{{}}}\n\\label{{{label}}}", escape(caption));
    let _ = writeln!(out, "\\begin{{tabular}}{{{columns}}}\n\\toprule");
    let head: Vec<String> = header.iter().map(|h| escape(h)).collect();
    let _ = writeln!(out, "{} \\\\\n\\midrule", head.join(" & "));
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| escape(c)).collect();
        let _ = writeln!(out, "{} \\\\", cells.join(" & "));
    }
    let _ = writeln!(out, "\\bottomrule\n\\end{{tabular}}\n\\end{{table}}\n");
}

/// The LaTeX document body: the answer, then the primary-outcome and validity tables.
pub fn latex(report: &Report<'_>) -> String {
    let cmp = report.comparison;
    let mut out = format!(
        "% fishbanks report: {}. Needs \\usepackage{{booktabs}}.\n% {}\n\n",
        report.experiment,
        answer::ranked(cmp).replace('\n', " ")
    );
    table(
        &mut out,
        &format!(
            "{}: {} by cell, and the effect of each protocol against {}",
            report.experiment,
            render::measure_words(cmp.primary),
            cmp.reference
        ),
        "tab:primary",
        render::primary_table(cmp),
    );
    if let Some(t) = render::populations_table(cmp) {
        table(
            &mut out,
            &format!(
                "{}: each population against the reference population, and each protocol's interaction with the population",
                render::measure_words(cmp.primary)
            ),
            "tab:populations",
            t,
        );
    }
    table(
        &mut out,
        "Validity: runs by status, distinct games, LLM answers and tokens",
        "tab:validity",
        render::validity_table(cmp),
    );
    let _ = writeln!(out, "\\subsection*{{Methods}}\n");
    for block in methods::methods(cmp, report.loaded, report.command) {
        match block {
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{}\n", escape(&text));
            }
            Block::List { lead, items } => {
                let _ = writeln!(out, "{}\n\\begin{{itemize}}", escape(&lead));
                for item in items {
                    let _ = writeln!(out, "  \\item {}", escape(&item));
                }
                let _ = writeln!(out, "\\end{{itemize}}\n");
            }
        }
    }
    out
}

impl ReportFormat for Latex {
    fn files(&self) -> &'static [&'static str] {
        &["report.tex"]
    }

    fn name(&self) -> &'static str {
        "latex"
    }

    fn by_default(&self) -> bool {
        false
    }

    fn write(&self, report: &Report<'_>, dir: &Path) -> Result<(), AnalysisError> {
        Ok(write_atomic(
            &dir.join("report.tex"),
            latex(report).as_bytes(),
            false,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(
            escape("a_b & 50% of $x {y}"),
            "a\\_b \\& 50\\% of \\$x \\{y\\}"
        );
        assert_eq!(escape("+1.05 [0.75, 1.35]"), "+1.05 [0.75, 1.35]");
        assert_eq!(escape("`none` – p < 0.001"), "none -- p \\textless{} 0.001");
    }
}
