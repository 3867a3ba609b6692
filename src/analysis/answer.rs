//! The report's first sentences, one paragraph per population: first what a reader
//! checks first (in how many runs the fish collapsed, under each protocol), then every
//! declared contrast with the reference protocol: those that changed the primary outcome,
//! largest effect first, protocols with the same effect named together, whether the
//! horizon caps an effect, then those with no detectable change (a null result is a
//! result, not an omission) and those that could not be tested; cells whose runs all
//! ended alike are named. With several populations a last paragraph answers between
//! them: each population against the reference population, and each protocol's
//! interaction with the population.

use super::compare::{CellStats, Comparison, Contrast, ContrastKind, MIN_REPLICATES};
use super::metrics::Measure;
use super::render::{effect_with_ci, measure_value, measure_words, num, p};

/// Things that print alike, named together: what they print, and who prints it.
type Together<K, T> = Vec<(K, Vec<T>)>;

/// Groups `(what it prints, who)` pairs by what they print, in order of first appearance.
fn together<K: PartialEq, T>(items: impl IntoIterator<Item = (K, T)>) -> Together<K, T> {
    let mut out: Together<K, T> = Vec::new();
    for (key, item) in items {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(item),
            None => out.push((key, vec![item])),
        }
    }
    out
}

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

/// The protocols of `contrasts` as `` `a`, `b` and `c` ``.
fn protocols_of(contrasts: &[&Contrast]) -> String {
    and_list(
        &contrasts
            .iter()
            .map(|k| format!("`{}`", k.protocol))
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
/// protocol, then every contrast with the reference protocol (changes, then no detectable
/// change, then untested); with several populations, the contrasts between them.
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
        sentences.extend(alike_sentence(cmp, &cells, population));
        paragraphs.push(sentences.join(" "));
    }
    if paragraphs.is_empty() {
        return "No cell has a valid run.".into();
    }
    paragraphs.extend(between_populations(cmp));
    paragraphs.join("\n\n")
}

/// Whether every valid run of a cell ended alike on the primary outcome: its interval has
/// no width, and a reader should know why.
fn ended_alike(c: &CellStats, m: Measure) -> Option<String> {
    if c.ok < MIN_REPLICATES {
        return None;
    }
    match m {
        Measure::Rmst | Measure::Survival => {
            let (first, fell) = *c.survival_times.first()?;
            let all_same = c
                .survival_times
                .iter()
                .all(|(t, f)| *t == first && *f == fell);
            match (m, all_same, fell) {
                (Measure::Rmst, true, true) => Some(format!(
                    "all {} collapsed in year {}",
                    c.ok,
                    first as u32 + 1
                )),
                (_, true, false) => Some(format!(
                    "all {} lived to the {}-year horizon",
                    c.ok, c.horizon
                )),
                (Measure::Survival, _, _) if c.survival_times.iter().all(|(_, f)| *f == fell) => {
                    Some(format!("all {} collapsed", c.ok))
                }
                _ => None,
            }
        }
        Measure::Outcome(_) => {
            let (v, ci) = measure_value(c, m);
            ci.filter(|(lo, hi)| lo == hi && *lo == v)
                .map(|_| format!("all {} ended at {}", c.ok, num(v)))
        }
    }
}

/// "Every run ended alike under `quota` (all 20 lived to the 20-year horizon)." Cells
/// the contrast sentence already said lived to the horizon in every run are not named
/// again.
fn alike_sentence(cmp: &Comparison, cells: &[&CellStats], population: &str) -> Option<String> {
    let primary = |k: &&Contrast| k.primary && k.population == population;
    let said = horizon_cells(cmp, cmp.contrasts.iter().filter(primary));
    let parts: Vec<(String, &CellStats)> = cells
        .iter()
        .filter(|c| !said.iter().any(|s| s.cell == c.cell))
        .filter(|c| {
            // A change that reached the horizon is said to be capped by it.
            !cmp.contrasts
                .iter()
                .filter(primary)
                .any(|k| k.cell == c.cell && significant(k) && capped(c, cmp.primary))
        })
        .filter_map(|c| ended_alike(c, cmp.primary).map(|how| (how, *c)))
        .collect();
    // Cells that ended the same way are named together: "`a` and `b` (all 20 collapsed
    // in year 5 in each)".
    let alike = together(parts);
    let parts: Vec<String> = alike
        .iter()
        .map(|(how, members)| {
            let each = if members.len() > 1 { " in each" } else { "" };
            format!("{} ({how}{each})", protocols(members))
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Every valid run ended alike under {}: no variation, so no interval width.",
            and_list(&parts)
        )
    })
}

/// Why a cell could not be tested, in words.
fn why_untested(c: &CellStats) -> String {
    if c.ok == 0 {
        format!("no valid run ({} invalid, {} failed)", c.invalid, c.failed)
    } else if c.identical_replicates() {
        format!("its {} replicates are one identical game", c.ok)
    } else {
        format!(
            "{} valid replicate{} (a test needs two)",
            c.ok,
            if c.ok == 1 { "" } else { "s" }
        )
    }
}

/// "no detectable change under `a` (+1.00 [-0.83, 2.00], Holm p 0.167) and `b` (…)",
/// then, once, the cells of those contrasts whose every run lived to the horizon ("; every
/// run under `none`, `a` and `b` lived to the 5-year horizon, which leaves no room for an
/// effect").
fn nulls(cmp: &Comparison, contrasts: &[&Contrast], name: impl Fn(&Contrast) -> String) -> String {
    // Contrasts that print alike are named together, their numbers said once.
    let alike = together(
        contrasts
            .iter()
            .map(|k| ((effect_with_ci(k.effect, k.ci), p(k.p_adjusted)), name(k))),
    );
    let listed = and_list(
        &alike
            .iter()
            .map(|((effect, p_adj), names)| {
                let each = if names.len() > 1 { " each" } else { "" };
                format!("{} ({effect}, Holm p {p_adj}{each})", and_list(names))
            })
            .collect::<Vec<_>>(),
    );
    let capped_cells = horizon_cells(cmp, contrasts.iter().copied());
    match capped_cells.first() {
        None => listed,
        Some(first) => format!(
            "{listed}; every run under {} lived to the {}-year horizon, which leaves no room for an effect",
            cells_named(&capped_cells),
            first.horizon
        ),
    }
}

/// The cells of `contrasts` without a detectable change whose two cells both lived to the
/// horizon in every run, reference cells first, each once.
fn horizon_cells<'a>(
    cmp: &'a Comparison,
    contrasts: impl Iterator<Item = &'a Contrast>,
) -> Vec<&'a CellStats> {
    let mut out: Vec<&CellStats> = Vec::new();
    // An interaction's cells may all live to the horizon while the cells it is measured
    // against do not: its difference of differences has room, so it is never capped.
    for k in contrasts.filter(|k| !significant(k) && k.kind != ContrastKind::Interaction) {
        let Some((a, b)) = cmp.cell(&k.cell).zip(cmp.cell(&k.reference_cell)) else {
            continue;
        };
        if capped(a, cmp.primary) && capped(b, cmp.primary) {
            for c in [b, a] {
                if !out.iter().any(|o| o.cell == c.cell) {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Cells by protocol when they share a population, else as `protocol/population`.
fn cells_named(cells: &[&CellStats]) -> String {
    if cells.iter().all(|c| c.population == cells[0].population) {
        protocols(cells)
    } else {
        and_list(
            &cells
                .iter()
                .map(|c| format!("`{}`", c.cell))
                .collect::<Vec<_>>(),
        )
    }
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
    let untested: Vec<String> = cmp
        .cells
        .iter()
        .filter(|c| c.population == population && c.protocol != cmp.reference && !c.testable())
        .map(|c| format!("`{}` ({})", c.protocol, why_untested(c)))
        .collect();
    let untested = if untested.is_empty() {
        String::new()
    } else {
        format!(" Not tested: {}.", and_list(&untested))
    };
    if tested.is_empty() {
        return format!(
            "No protocol could be tested against `{}`.{untested}",
            cmp.reference
        );
    }
    let (rv, _) = measure_value(r, primary);
    let mut found: Vec<&Contrast> = tested.iter().copied().filter(|k| significant(k)).collect();
    found.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
    let null: Vec<&Contrast> = tested.iter().copied().filter(|k| !significant(k)).collect();
    let protocol_of = |k: &Contrast| format!("`{}`", k.protocol);
    if found.is_empty() {
        return format!(
            "No protocol changed the {} from the {}{} under `{}` (Holm-adjusted p ≥ 0.05 for every contrast): no detectable change under {}.{untested}",
            measure_words(primary),
            num(rv),
            unit(primary),
            cmp.reference,
            nulls(cmp, &null, protocol_of),
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
    let mut listed = match parts.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{}; and {last}", init.join("; ")),
        _ => parts.join(""),
    };
    if !null.is_empty() {
        listed.push_str(&format!(
            "; no detectable change under {}",
            nulls(cmp, &null, protocol_of)
        ));
    }
    format!(
        "Against {}{} under `{}`: {listed}.{untested}",
        num(rv),
        unit(primary),
        cmp.reference
    )
}

/// The paragraph between populations: each population against the reference population
/// under every protocol, then each protocol's interaction with the population. `None`
/// with one population.
fn between_populations(cmp: &Comparison) -> Option<String> {
    let populations: Vec<&Contrast> = cmp.family_of(ContrastKind::Populations).collect();
    let interactions: Vec<&Contrast> = cmp.family_of(ContrastKind::Interaction).collect();
    let reference_of = |k: &Contrast| {
        cmp.cell(&k.reference_cell)
            .map_or(String::new(), |c| c.population.clone())
    };
    let mut sentences = Vec::new();
    let mut compared: Vec<String> = Vec::new();
    for k in &populations {
        if !compared.contains(&k.population) {
            compared.push(k.population.clone());
        }
    }
    for population in &compared {
        let these: Vec<&Contrast> = populations
            .iter()
            .copied()
            .filter(|k| &k.population == population)
            .collect();
        let Some(first) = these.first() else { continue };
        let against = reference_of(first);
        let (found, null): (Vec<&Contrast>, Vec<&Contrast>) =
            these.iter().copied().partition(|k| significant(k));
        // Protocols under which the population's cell prints alike are named together.
        let alike = together(found.iter().map(|k| {
            let value = cmp
                .cell(&k.cell)
                .map_or("–".into(), |c| num(measure_value(c, cmp.primary).0));
            ((value, effect_with_ci(k.effect, k.ci), p(k.p_adjusted)), *k)
        }));
        let changes: Vec<String> = alike
            .iter()
            .enumerate()
            .map(|(i, ((value, effect, p_adj), members))| {
                let each = if members.len() > 1 { " each" } else { "" };
                let what = if i == 0 {
                    format!(
                        "{} {effect}, Holm p {p_adj}",
                        if members[0].pairs > 0 {
                            "paired difference"
                        } else {
                            "difference"
                        },
                    )
                } else {
                    format!("{effect}, p {p_adj}")
                };
                format!("under {} to {value}{each} ({what})", protocols_of(members))
            })
            .collect();
        let mut parts = Vec::new();
        if !changes.is_empty() {
            parts.push(format!(
                "changed the {} {}",
                measure_words(cmp.primary),
                and_list(&changes)
            ));
        }
        if !null.is_empty() {
            parts.push(format!(
                "{} no detectable difference under {}",
                if changes.is_empty() {
                    "showed"
                } else {
                    "and showed"
                },
                nulls(cmp, &null, |k| format!("`{}`", k.protocol))
            ));
        }
        sentences.push(format!(
            "Against `{against}` under the same protocol, `{population}` {}.",
            parts.join("; ")
        ));
    }
    if !interactions.is_empty() {
        let (found, null): (Vec<&Contrast>, Vec<&Contrast>) =
            interactions.iter().copied().partition(|k| significant(k));
        // Interactions that print alike are one clause: "the effects of `a` and `b` were
        // each smaller in `q` than in `q0` (interaction …)".
        let alike = together(found.iter().map(|k| {
            let shown = (
                k.effect >= 0.0,
                k.population.clone(),
                reference_of(k),
                effect_with_ci(k.effect, k.ci),
                p(k.p_adjusted),
            );
            (shown, *k)
        }));
        let mut parts: Vec<String> = alike
            .iter()
            .map(|((larger, population, against, effect, p_adj), members)| {
                let size = if *larger { "larger" } else { "smaller" };
                let whose = match members.as_slice() {
                    [one] => format!("`{}`'s effect was", one.protocol),
                    many => format!("the effects of {} were each", protocols_of(many)),
                };
                format!(
                    "{whose} {size} in `{population}` than in `{against}` (interaction {effect}, Holm p {p_adj})"
                )
            })
            .collect();
        if !null.is_empty() {
            parts.push(format!(
                "no detectable interaction for {}",
                nulls(cmp, &null, |k| format!(
                    "`{}` in `{}`",
                    k.protocol, k.population
                ))
            ));
        }
        sentences.push(format!(
            "Does a protocol's effect (against `{}`) depend on the population? {}.",
            cmp.reference,
            capitalise(&parts.join("; "))
        ));
    }
    (!sentences.is_empty()).then(|| sentences.join(" "))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
