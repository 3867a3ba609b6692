//! The report's statistics agree with scipy and lifelines on fixed data sets
//! (`tests/fixtures/analysis_reference.json`; see its README for how it was made).

use fishbanks::analysis::stats;
use serde_json::Value;

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/analysis_reference.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    let tolerance = 1e-9 * b.abs().max(1.0);
    assert!((a - b).abs() <= tolerance, "{what}: {a} vs reference {b}");
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn survival_data(set: &Value) -> Vec<(f64, bool)> {
    set["durations"]
        .as_array()
        .unwrap()
        .iter()
        .zip(set["events"].as_array().unwrap())
        .map(|(d, e)| (f(d), e.as_u64().unwrap() == 1))
        .collect()
}

#[test]
fn wilson_matches_scipy() {
    for case in reference()["wilson"].as_array().unwrap() {
        let (lo, hi) =
            stats::wilson(case["k"].as_u64().unwrap(), case["n"].as_u64().unwrap()).unwrap();
        close(lo, f(&case["low"]), "wilson low");
        close(hi, f(&case["high"]), "wilson high");
    }
    assert_eq!(stats::wilson(0, 0), None);
}

#[test]
fn kaplan_meier_median_and_rmst_match_lifelines() {
    let r = reference();
    for (name, set) in r["km"].as_object().unwrap() {
        let km = stats::kaplan_meier(&survival_data(set));
        for (t, s) in set["times"]
            .as_array()
            .unwrap()
            .iter()
            .zip(set["survival"].as_array().unwrap())
        {
            close(stats::km_at(&km, f(t)), f(s), &format!("{name}: S({t})"));
        }
        match set["median"].as_f64() {
            Some(m) => close(
                stats::km_median(&km).unwrap(),
                m,
                &format!("{name}: median"),
            ),
            None => assert_eq!(stats::km_median(&km), None, "{name}: median"),
        }
        close(
            stats::rmst(&km, f(&set["horizon"])),
            f(&set["rmst"]),
            &format!("{name}: rmst"),
        );
    }
}

#[test]
fn logrank_matches_lifelines() {
    let r = reference();
    for case in r["logrank"].as_array().unwrap() {
        let a = survival_data(&r["km"][case["a"].as_str().unwrap()]);
        let b = survival_data(&r["km"][case["b"].as_str().unwrap()]);
        let test = stats::logrank(&a, &b);
        let what = format!("logrank {} vs {}", case["a"], case["b"]);
        close(test.statistic, f(&case["statistic"]), &what);
        close(test.p_value, f(&case["p"]), &what);
    }
}

#[test]
fn mann_whitney_and_cliffs_delta_match_scipy() {
    let r = reference();
    let sample = |name: &Value| -> Vec<f64> {
        r["samples"][name.as_str().unwrap()]
            .as_array()
            .unwrap()
            .iter()
            .map(f)
            .collect()
    };
    for case in r["mann_whitney"].as_array().unwrap() {
        let (x, y) = (sample(&case["a"]), sample(&case["b"]));
        let test = stats::mann_whitney(&x, &y).unwrap();
        let what = format!("mann-whitney {} vs {}", case["a"], case["b"]);
        close(test.statistic, f(&case["u"]), &what);
        close(test.p_value, f(&case["p"]), &what);
        close(
            stats::cliffs_delta(&x, &y).unwrap(),
            f(&case["cliffs_delta"]),
            &what,
        );
    }
    let tied = stats::mann_whitney(&[7.0, 7.0], &[7.0, 7.0, 7.0]).unwrap();
    close(
        tied.statistic,
        f(&r["mann_whitney_all_tied"]["u"]),
        "all tied U",
    );
    assert_eq!(tied.p_value, 1.0);
    assert!(stats::mann_whitney(&[], &[1.0]).is_none());
}

#[test]
fn fisher_exact_matches_scipy() {
    for case in reference()["fisher"].as_array().unwrap() {
        let t = &case["table"];
        let cell = |i: usize, j: usize| t[i][j].as_u64().unwrap();
        let p = stats::fisher_exact(cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1));
        close(p, f(&case["p"]), &format!("fisher {t}"));
    }
}

#[test]
fn holm_matches_its_definition() {
    for case in reference()["holm"].as_array().unwrap() {
        let p: Vec<f64> = case["p"].as_array().unwrap().iter().map(f).collect();
        let expected: Vec<f64> = case["adjusted"].as_array().unwrap().iter().map(f).collect();
        for (a, b) in stats::holm(&p).iter().zip(&expected) {
            close(*a, *b, "holm");
        }
    }
}

#[test]
fn kaplan_meier_bands_match_lifelines() {
    let r = reference();
    for (name, set) in r["km"].as_object().unwrap() {
        let km = stats::kaplan_meier(&survival_data(set));
        let band = stats::km_band(&km);
        // lifelines lists every time, the harness only event times: compare at those.
        let times = set["times"].as_array().unwrap();
        for (i, step) in km.iter().enumerate() {
            let j = times
                .iter()
                .position(|t| f(t) == step.time)
                .unwrap_or_else(|| panic!("{name}: time {}", step.time));
            let (lo, hi) = (f(&set["lower"][j]), f(&set["upper"][j]));
            if step.survival > 0.0 && step.survival < 1.0 {
                close(band[i].0, lo, &format!("{name}: lower at {}", step.time));
                close(band[i].1, hi, &format!("{name}: upper at {}", step.time));
            }
        }
    }
}

#[test]
fn wilcoxon_matches_scipy() {
    for case in reference()["wilcoxon"].as_array().unwrap() {
        let d: Vec<f64> = case["d"].as_array().unwrap().iter().map(f).collect();
        let t = stats::wilcoxon(&d).unwrap();
        let name = case["name"].as_str().unwrap();
        close(
            t.statistic,
            f(&case["statistic"]),
            &format!("{name}: statistic"),
        );
        close(t.p_value, f(&case["p"]), &format!("{name}: p"));
    }
    assert_eq!(stats::wilcoxon(&[0.0, 0.0]), None);
}

#[test]
fn mcnemar_matches_scipy() {
    for case in reference()["mcnemar"].as_array().unwrap() {
        let t = stats::mcnemar(case["b"].as_u64().unwrap(), case["c"].as_u64().unwrap());
        close(t.p_value, f(&case["p"]), "mcnemar p");
    }
    assert_eq!(stats::mcnemar(0, 0).p_value, 1.0);
}

/// Shares computed from counts (`k / 120`) differ from their exact rational value in the
/// last bits; their differences must tie where the rationals tie. scipy was given the
/// exact differences; here they are computed as the harness computes them.
#[test]
fn near_ties_are_ties_as_in_scipy() {
    for case in reference()["near_ties"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let n = case["n"].as_f64().unwrap();
        let counts = |k: &str| -> Vec<f64> { case[k].as_array().unwrap().iter().map(f).collect() };
        let (a, b) = (counts("a"), counts("b"));
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x / n - y / n).collect();
        let t = stats::wilcoxon(&d).unwrap();
        close(
            t.statistic,
            f(&case["wilcoxon_statistic"]),
            &format!("{name}: W"),
        );
        close(
            t.p_value,
            f(&case["wilcoxon_p"]),
            &format!("{name}: wilcoxon p"),
        );
        let shifted: Vec<f64> = a.iter().map(|x| x / n - 1.0 / n).collect();
        let mw = stats::mann_whitney(&d, &shifted).unwrap();
        close(
            mw.statistic,
            f(&case["mw_statistic"]),
            &format!("{name}: U"),
        );
        close(
            mw.p_value,
            f(&case["mw_p"]),
            &format!("{name}: mann-whitney p"),
        );
    }
}
