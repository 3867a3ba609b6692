//! Reproduces every number of `tests/fixtures/engine-vectors.csv` (copied from the design's
//! shared fixtures): four decision sequences played by the engine with default parameters.

use fishbanks::engine::{step, Decision, GameParams, State};
use std::collections::BTreeMap;

#[derive(Debug, serde::Deserialize)]
struct Row {
    scenario: String,
    year: u32,
    team: usize,
    order: i64,
    deep: i64,
    coast: i64,
    quota: Option<i64>,
    catch_deep: i64,
    catch_coast: i64,
    interest: i64,
    bank: i64,
    ships: u32,
    assets: i64,
    stock_deep: i64,
    stock_coast: i64,
    post_harvest_deep: i64,
    post_harvest_coast: i64,
    regen_deep: i64,
    regen_coast: i64,
    ship_value: i64,
    weather: f64,
}

fn load() -> BTreeMap<String, Vec<Row>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/engine-vectors.csv"
    );
    let mut reader = csv::Reader::from_path(path).expect("fixture present");
    let mut by_scenario: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for row in reader.deserialize() {
        let row: Row = row.expect("fixture row parses");
        by_scenario
            .entry(row.scenario.clone())
            .or_default()
            .push(row);
    }
    by_scenario
}

#[test]
fn engine_reproduces_every_fixture_number() {
    let params = GameParams::default();
    let scenarios = load();
    assert_eq!(scenarios.len(), 4, "four scenarios in the fixture");
    let mut checked = 0;
    for (name, rows) in &scenarios {
        let teams = rows.iter().map(|r| r.team).max().unwrap() + 1;
        let mut state = State::initial(&params, teams);
        let years = rows.iter().map(|r| r.year).max().unwrap();
        for year in 1..=years {
            let mut these: Vec<&Row> = rows.iter().filter(|r| r.year == year).collect();
            these.sort_by_key(|r| r.team);
            assert_eq!(these.len(), teams);
            let decisions: Vec<Decision> = these
                .iter()
                .map(|r| Decision {
                    order: r.order,
                    deep: r.deep,
                    coast: r.coast,
                })
                .collect();
            let quotas: Vec<Option<i64>> = these.iter().map(|r| r.quota).collect();
            let out = step(&params, &state, &decisions, &quotas);
            let ctx = format!("{name} year {year}");
            assert_eq!(
                out.invalid_decisions, 0,
                "{ctx}: fixture decisions are valid"
            );
            for r in &these {
                let t = &out.teams[r.team];
                let ctx = format!("{ctx} team {}", r.team);
                assert_eq!(t.catch_deep, r.catch_deep, "{ctx} catch_deep");
                assert_eq!(t.catch_coast, r.catch_coast, "{ctx} catch_coast");
                assert_eq!(t.interest, r.interest, "{ctx} interest");
                assert_eq!(t.bank, r.bank, "{ctx} bank");
                assert_eq!(t.ships, r.ships, "{ctx} ships");
                assert_eq!(t.assets, r.assets, "{ctx} assets");
                assert_eq!(out.stock, [r.stock_deep, r.stock_coast], "{ctx} stock");
                assert_eq!(
                    out.post_harvest,
                    [r.post_harvest_deep, r.post_harvest_coast],
                    "{ctx} post-harvest"
                );
                assert_eq!(out.regen, [r.regen_deep, r.regen_coast], "{ctx} regen");
                assert_eq!(out.ship_value, r.ship_value, "{ctx} ship value");
                assert!((out.weather - r.weather).abs() < 1e-12, "{ctx} weather");
                checked += 1;
            }
            state = out.state;
        }
    }
    assert_eq!(checked, 342);
}
