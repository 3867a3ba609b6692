//! The report's first sentences, one paragraph per population: first what a reader
//! checks first (in how many runs the fish collapsed, under each protocol), then every
//! protocol that changed the primary outcome against the reference, largest effect first,
//! protocols with the same effect named together, and whether the horizon caps an effect.

use super::compare::{CellStats, Comparison, Contrast};
use super::metrics::Measure;
use super::render::{effect_with_ci, measure_value, measure_words, num, p};

/// Significant at 5% after Holm.
fn significant(k: &Contrast) -> bool {
    k.p_adjusted.is_some_and(|p| p < 0.05)
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The protocols of `cells` as `` `a`, `b` and `c` ``.
fn protocols(cells: &[&CellStats]) -> String {
    and_list(
        &cells
            .iter()
            .map(|c| format!("`{}`", c.protocol))
            .collect::<Vec<_>>(),
    )
}

/// "the fish collapsed in 20 of 20 runs under `none` and `broadcast` and in 0 of 20
/// under `quota`": protocols with the same count named together, in plan order of their
/// first member.
fn collapse_counts(cells: &[&CellStats]) -> String {
    let mut groups: Vec<((usize, usize), Vec<&CellStats>)> = Vec::new();
    let mut invalid: Vec<&CellStats> = Vec::new();
    for c in cells {
        if c.ok == 0 {
            invalid.push(c);
            continue;
        }
        let collapsed = c.survival_times.iter().filter(|(_, fell)| *fell).count();
        let key = (collapsed, c.ok);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(c),
            None => groups.push((key, vec![c])),
        }
    }
    let mut parts: Vec<String> = groups
        .iter()
        .map(|((collapsed, ok), members)| {
            format!("{collapsed} of {ok} runs under {}", protocols(members))
        })
        .collect();
    if !invalid.is_empty() {
        parts.push(format!("no valid run under {}", protocols(&invalid)));
    }
    format!("the fish collapsed in {}", and_list(&parts))
}

/// Contrasts whose effect, value, interval and p-value print alike: one group, named
/// together ("`broadcast`, `a2a` and `rep` to 7.20 each").
struct Group<'a> {
    contrasts: Vec<&'a Contrast>,
    cells: Vec<&'a CellStats>,
    shown: (String, String, String),
}

fn groups<'a>(cmp: &'a Comparison, found: &[&'a Contrast]) -> Vec<Group<'a>> {
    let primary = cmp.primary;
    let mut out: Vec<Group<'a>> = Vec::new();
    for k in found {
        let Some(cell) = cmp.cell(&k.cell) else {
            continue;
        };
        let shown = (
            num(measure_value(cell, primary).0),
            effect_with_ci(k.effect, k.ci),
            p(k.p_adjusted),
        );
        match out.iter_mut().find(|g| g.shown == shown) {
            Some(g) => {
                g.contrasts.push(k);
                g.cells.push(cell);
            }
            None => out.push(Group {
                contrasts: vec![k],
                cells: vec![cell],
                shown,
            }),
        }
    }
    out
}

/// The unit a measure's value is read in, after the number.
fn unit(m: Measure) -> &'static str {
    match m {
        Measure::Rmst => " years",
        _ => "",
    }
}

/// Whether every valid run of the cell lasted to the horizon: its survival cannot rise
/// further, so an effect on a survival measure is as large as the horizon allows.
fn capped(c: &CellStats, m: Measure) -> bool {
    matches!(m, Measure::Rmst | Measure::Survival) && c.ok > 0 && c.survival_rate >= 1.0
}

/// The report's first sentences: per population, how often the fish collapsed under each
/// protocol, then which protocols changed the primary outcome against the reference, by
/// how much, how sure; or that none did.
pub fn ranked(cmp: &Comparison) -> String {
    let mut populations: Vec<&str> = Vec::new();
    for c in &cmp.cells {
        if !populations.contains(&c.population.as_str()) {
            populations.push(&c.population);
        }
    }
    let mut paragraphs = Vec::new();
    for population in populations {
        let cells: Vec<&CellStats> = cmp
            .cells
            .iter()
            .filter(|c| c.population == population)
            .collect();
        let mut sentences = vec![format!("For `{population}`, {}.", collapse_counts(&cells))];
        sentences.push(contrast_sentence(cmp, population));
        paragraphs.push(sentences.join(" "));
    }
    if paragraphs.is_empty() {
        return "No cell has a valid run.".into();
    }
    paragraphs.join("\n\n")
}

/// The sentence on the primary outcome's contrasts with the reference of `population`.
fn contrast_sentence(cmp: &Comparison, population: &str) -> String {
    let primary = cmp.primary;
    let reference = format!("{}/{population}", cmp.reference);
    let Some(r) = cmp.cell(&reference) else {
        return format!(
            "No `{}` cell to compare the other protocols with.",
            cmp.reference
        );
    };
    if r.identical_replicates() {
        return format!(
            "Nothing can be tested: its {} `{}` replicates are one identical game.",
            r.ok, cmp.reference
        );
    }
    if r.ok == 0 {
        return format!(
            "Nothing can be tested: none of its `{}` runs is valid ({} invalid, {} failed).",
            cmp.reference, r.invalid, r.failed
        );
    }
    if !r.testable() {
        return format!(
            "Nothing can be tested: `{}` has {} valid replicate (a test needs two in each cell).",
            cmp.reference, r.ok
        );
    }
    let tested: Vec<&Contrast> = cmp
        .contrasts
        .iter()
        .filter(|k| k.primary && k.population == population)
        .collect();
    if tested.is_empty() {
        return format!(
            "No protocol could be tested against `{}` (no other cell with two valid, distinct replicates).",
            cmp.reference
        );
    }
    let (rv, _) = measure_value(r, primary);
    let mut found: Vec<&Contrast> = tested.iter().copied().filter(|k| significant(k)).collect();
    found.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
    if found.is_empty() {
        let all_capped = capped(r, primary)
            && tested
                .iter()
                .filter_map(|k| cmp.cell(&k.cell))
                .all(|c| capped(c, primary));
        return format!(
            "No protocol changed the {} from the {} under `{}` (Holm-adjusted p ≥ 0.05 for every contrast){}.",
            measure_words(primary),
            num(rv),
            cmp.reference,
            if all_capped {
                format!(
                    "; every run of every protocol lived to the {}-year horizon, which leaves no room for an effect",
                    r.horizon
                )
            } else {
                String::new()
            }
        );
    }
    let paired = found.iter().all(|k| k.pairs > 0);
    let parts: Vec<String> = groups(cmp, &found)
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let (value, effect, p_adj) = &g.shown;
            let each = if g.cells.len() > 1 { " each" } else { "" };
            let cap = if g.cells.iter().all(|c| capped(c, primary)) {
                format!(
                    "; every run lived to the {}-year horizon, which caps the effect",
                    g.cells[0].horizon
                )
            } else {
                String::new()
            };
            let direction = if g.contrasts[0].effect >= 0.0 {
                "raised"
            } else {
                "lowered"
            };
            // The first group says what the numbers are; the others follow its form.
            let what = if i == 0 {
                format!(
                    "{} the {} to {value}{each} ({} {effect}, Holm-adjusted p {p_adj}{cap})",
                    direction,
                    measure_words(primary),
                    if paired {
                        "paired difference"
                    } else {
                        "difference"
                    }
                )
            } else {
                format!("{direction} it to {value}{each} ({effect}, p {p_adj}{cap})")
            };
            format!("{} {what}", protocols(&g.cells))
        })
        .collect();
    // The parts hold commas of their own: semicolons between them.
    let listed = match parts.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{}; and {last}", init.join("; ")),
        _ => parts.join(""),
    };
    format!(
        "Against {}{} under `{}`: {listed}.",
        num(rv),
        unit(primary),
        cmp.reference
    )
}
