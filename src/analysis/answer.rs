//! The report's first sentence: per population, every protocol that changed the primary
//! outcome against the reference, ranked by effect, with how sure; or that none did.

use super::compare::{Comparison, Contrast};
use super::render::{effect_with_ci, measure_value, measure_words, num, p};

/// Significant at 5% after Holm.
fn significant(k: &Contrast) -> bool {
    k.p_adjusted.is_some_and(|p| p < 0.05)
}

/// The report's first sentence: per population, which protocol changed the primary
/// outcome against the reference, by how much, how sure; or that none did.
pub fn ranked(cmp: &Comparison) -> String {
    let primary = cmp.primary;
    let mut populations: Vec<&str> = cmp.cells.iter().map(|c| c.population.as_str()).collect();
    populations.dedup();
    let mut seen = Vec::new();
    let mut parts = Vec::new();
    for population in populations {
        if seen.contains(&population) {
            continue;
        }
        seen.push(population);
        let reference = format!("{}/{population}", cmp.reference);
        let Some(r) = cmp.cell(&reference) else {
            continue;
        };
        if r.identical_replicates() {
            parts.push(format!(
                "for `{population}` nothing can be said: its {} `{}` replicates are one identical game",
                r.ok, cmp.reference
            ));
            continue;
        }
        if r.ok == 0 {
            parts.push(format!(
                "for `{population}` nothing can be said: none of its `{}` runs is valid ({} invalid, {} failed)",
                cmp.reference, r.invalid, r.failed
            ));
            continue;
        }
        let tested: Vec<&Contrast> = cmp
            .contrasts
            .iter()
            .filter(|k| k.primary && k.population == population)
            .collect();
        if tested.is_empty() {
            parts.push(format!(
                "for `{population}` no protocol could be compared with `{}` (no other cell with valid, distinct runs)",
                cmp.reference
            ));
            continue;
        }
        let (rv, _) = measure_value(r, primary);
        // Every protocol whose effect survives Holm, the largest effect first.
        let mut found: Vec<&Contrast> = tested.into_iter().filter(|k| significant(k)).collect();
        found.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
        if found.is_empty() {
            parts.push(format!(
                "for `{population}` no protocol changed the {} from the {} under `{}` (Holm-adjusted p ≥ 0.05 for every contrast)",
                measure_words(primary),
                num(rv),
                cmp.reference
            ));
            continue;
        }
        let effects: Vec<String> = found
            .iter()
            .map(|k| {
                let cv = cmp
                    .cell(&k.cell)
                    .map(|c| measure_value(c, primary).0)
                    .unwrap_or(f64::NAN);
                format!(
                    "`{}` to {} ({} {}, Holm-adjusted p {})",
                    k.protocol,
                    num(cv),
                    if k.pairs > 0 {
                        "paired difference"
                    } else {
                        "difference"
                    },
                    effect_with_ci(k.effect, k.ci),
                    p(k.p_adjusted)
                )
            })
            .collect();
        parts.push(format!(
            "for `{population}`, against {} under `{}`, {} changed the {}: {}",
            num(rv),
            cmp.reference,
            if found.len() == 1 {
                "one protocol".to_string()
            } else {
                format!("{} protocols", found.len())
            },
            measure_words(primary),
            effects.join("; ")
        ));
    }
    if parts.is_empty() {
        return "No cell has a reference to compare with.".into();
    }
    // One sentence per population, each starting with a capital.
    let mut sentence = parts
        .into_iter()
        .map(|mut part| {
            if let Some(first) = part.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            part
        })
        .collect::<Vec<_>>()
        .join(". ");
    sentence.push('.');
    sentence
}
