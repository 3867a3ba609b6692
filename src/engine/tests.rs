//! Engine unit tests: tables, one year by hand, repair, collapse rules.

use super::*;

fn params() -> GameParams {
    GameParams::default()
}

fn teams(n: usize, ships: u32, bank: i64) -> Vec<Team> {
    vec![Team { ships, bank }; n]
}

#[test]
fn transfers_move_money_before_the_costs_and_nothing_else() {
    let params = GameParams::default();
    let state = State::initial(&params, 2);
    let d = [Decision {
        order: 0,
        deep: 3,
        coast: 1,
    }; 2];
    let plain = step(&params, &state, &d, &[None, None]);
    let fined = step_with(&params, &state, &d, &[None, None], &[-200, 150]);
    assert_eq!(fined.teams[0].transfer, -200);
    // 800 − 200 − 900 = −300 minimum balance: debit interest of 15% instead of credit.
    assert_eq!(fined.teams[0].interest, interest(&params, 800 - 200 - 900));
    assert_eq!(
        fined.teams[0].bank,
        800 - 200 - 900 + fined.teams[0].revenue + fined.teams[0].interest
    );
    assert_eq!(
        fined.teams[1].bank - plain.teams[1].bank,
        150 + fined.teams[1].interest - plain.teams[1].interest
    );
    // Fish, catches and fleets are untouched.
    assert_eq!(fined.stock, plain.stock);
    assert_eq!(fined.catch, plain.catch);
}

#[test]
fn interpolation_is_linear_between_breakpoints_and_clamped_outside() {
    let p = params();
    assert_eq!(interpolate(&p.regen_table, 0.0), 0.0);
    assert_eq!(interpolate(&p.regen_table, 0.6), 11.0);
    assert!((interpolate(&p.regen_table, 0.65) - 10.25).abs() < 1e-9);
    assert!((interpolate(&p.regen_table, 0.25) - 3.0).abs() < 1e-9);
    assert_eq!(interpolate(&p.regen_table, 1.0), 0.0);
    // Clamped at both ends.
    assert_eq!(interpolate(&p.regen_table, -0.5), 0.0);
    assert_eq!(
        interpolate(&p.regen_table, 1.7),
        interpolate(&p.regen_table, 1.0)
    );
    assert_eq!(interpolate(&p.deep.catch_table, 2.0), 25.0);
    assert!((interpolate(&p.coast.catch_table, 0.15) - 4.5).abs() < 1e-9);
}

#[test]
fn interpolation_is_bit_identical_to_meadows_table_function() {
    let p = params();
    // Through `i / 10` and a step of `1 / 10` this is 7.499999999999998, and the floor of
    // 30 × it gives 224 coast fish where Meadows' program gives 225.
    assert_eq!(interpolate(&p.regen_table, 0.75), 7.5);
    assert_eq!((p.regeneration(Area::Coast, 0.75)).floor(), 225.0);
    // At a breakpoint the segment below it is used: y_{k-1} + (y_k - y_{k-1}) · 1.
    for k in 0..=10 {
        let x = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0][k];
        assert_eq!(interpolate(&p.regen_table, x), p.regen_table[k], "x = {x}");
    }
}

/// Meadows' `table` written as his program scans it: breakpoints `k / (n - 1)`, the first
/// at or above x, the slope over the difference of the breakpoints.
fn meadows_table(table: &[f64], x: f64) -> f64 {
    let n = table.len();
    if x <= 0.0 {
        return table[0];
    }
    let at = |k: usize| k as f64 / (n - 1) as f64;
    for k in 1..n {
        if x <= at(k) {
            return table[k - 1]
                + (table[k] - table[k - 1]) * (x - at(k - 1)) / (at(k) - at(k - 1));
        }
    }
    table[n - 1]
}

proptest::proptest! {
    /// Any table a TOML file gives (any length, any values), any density: the engine's
    /// constant-time lookup equals the scan bit for bit.
    #[test]
    fn interpolation_of_any_table_equals_the_scan(
        table in proptest::collection::vec(0.0f64..100.0, 2..30),
        x in -0.2f64..1.2,
        grid in 0u32..=1000,
    ) {
        proptest::prop_assert_eq!(interpolate(&table, x).to_bits(), meadows_table(&table, x).to_bits());
        // Densities the game produces: stock / max on a grid.
        let d = grid as f64 / 1000.0;
        proptest::prop_assert_eq!(interpolate(&table, d).to_bits(), meadows_table(&table, d).to_bits());
    }
}

#[test]
fn reference_facts_of_the_design_hold() {
    let p = params();
    assert_eq!(p.msy(Area::Deep), 550.0);
    assert_eq!(p.msy(Area::Coast), 330.0);
    assert!((p.msy_density() - 0.6).abs() < 1e-12);
    assert!((p.sustainable_fleet(Area::Deep) - 22.0).abs() < 1e-9);
    assert!((p.sustainable_fleet(Area::Coast) - 22.0).abs() < 1e-9);
}

#[test]
fn order_limit_rounds_half_up() {
    let p = params();
    assert_eq!(p.order_limit(4), 2);
    assert_eq!(p.order_limit(5), 3);
    assert_eq!(p.order_limit(1), 1);
    assert_eq!(p.order_limit(0), 0);
    let ceil = GameParams {
        order_limit: OrderLimit::Ceil,
        ..params()
    };
    assert_eq!(ceil.order_limit(9), 5);
}

#[test]
fn interest_rounds_to_the_nearest_ten_for_both_signs() {
    let p = params();
    // 5% of 1000 = 50 → floor((50 + 5) / 10) · 10 = 50.
    assert_eq!(interest(&p, 1000), 50);
    // 5% of 1090 = 54.5 → floor(5.95) · 10 = 50; 5% of 1100 = 55 → 60.
    assert_eq!(interest(&p, 1090), 50);
    assert_eq!(interest(&p, 1100), 60);
    // 15% of −200 = −30 → floor(−2.5) · 10 = −30; 15% of −5960 = −894 → −890.
    assert_eq!(interest(&p, -200), -30);
    assert_eq!(interest(&p, -5960), -890);
    // 15% of −100 = −15 → floor(−1.0) · 10 = −10.
    assert_eq!(interest(&p, -100), -10);
    assert_eq!(interest(&p, 0), 0);
}

#[test]
fn repair_clamps_negatives_order_and_overdeployment() {
    let p = params();
    let (a, r) = repair(
        &p,
        4,
        Decision {
            order: -1,
            deep: -2,
            coast: 1,
        },
    );
    assert!(r);
    assert_eq!(
        a,
        Applied {
            order: 0,
            deep: 0,
            coast: 1,
            harbor: 3
        }
    );
    let (a, r) = repair(
        &p,
        4,
        Decision {
            order: 9,
            deep: 3,
            coast: 3,
        },
    );
    assert!(r);
    // Coast is reduced first.
    assert_eq!(
        a,
        Applied {
            order: 2,
            deep: 3,
            coast: 1,
            harbor: 0
        }
    );
    let (a, _) = repair(
        &p,
        4,
        Decision {
            order: 0,
            deep: 7,
            coast: 2,
        },
    );
    // Then the deep sea.
    assert_eq!(
        a,
        Applied {
            order: 0,
            deep: 4,
            coast: 0,
            harbor: 0
        }
    );
    let (a, r) = repair(
        &p,
        4,
        Decision {
            order: 2,
            deep: 2,
            coast: 1,
        },
    );
    assert!(!r);
    assert_eq!(a.harbor, 1);
}

/// One small year worked out by hand: two teams, a depleted deep sea, weather off, a
/// binding quota on team 1, negative minimum balances, and the ship-value update.
#[test]
fn one_year_by_hand_with_scaling_rounding_quota_and_regeneration() {
    let mut p = params();
    p.weather = false;
    let state = State {
        year: 1,
        stock: [300, 1200],
        teams: vec![
            Team {
                ships: 10,
                bank: 1000,
            },
            Team {
                ships: 4,
                bank: -500,
            },
        ],
        ship_value: 250,
        collapse_year: None,
    };
    let decisions = [
        Decision {
            order: 1,
            deep: 6,
            coast: 3,
        },
        Decision {
            order: 0,
            deep: 2,
            coast: 1,
        },
    ];
    let out = step(&p, &state, &decisions, &[None, Some(20)]);
    // Deep: q = 5, 8 ships · 5 = 40 ≤ 300. Team 0: 30, team 1: 10.
    // Coast: q = 15, team 0: 45, team 1: 15.
    assert_eq!(out.catch_per_ship, [5.0, 15.0]);
    assert_eq!(
        (out.teams[0].catch_deep, out.teams[0].catch_coast),
        (30, 45)
    );
    // Team 1 caught 25 > quota 20: deep' = floor(10 · 20 / 25) = 8, coast' = 12.
    assert!(out.teams[1].quota_binding);
    assert_eq!((out.teams[1].catch_deep, out.teams[1].catch_coast), (8, 12));
    assert_eq!(out.catch, [38, 57]);
    // Money, team 0: costs 6·250 + 3·150 + 1·50 = 2000; min −1000; interest
    // floor((−150 + 5) / 10) · 10 = −150; bank = −1000 + 75·20 − 150 − 300 = 50.
    let t0 = &out.teams[0];
    assert_eq!(
        (t0.costs, t0.revenue, t0.interest, t0.bank, t0.ships),
        (2000, 1500, -150, 50, 11)
    );
    // Team 1: costs 500 + 150 + 50 = 700; min −1200; interest −180; bank −1200 + 400 − 180.
    let t1 = &out.teams[1];
    assert_eq!(
        (t1.costs, t1.revenue, t1.interest, t1.bank),
        (700, 400, -180, -980)
    );
    // Stocks: deep 300 − 38 = 262, density 0.08733 → regen 50 · 0.8733 = 43.67 → 43.
    assert_eq!(out.post_harvest, [262, 1143]);
    assert_eq!(out.regen[0], 43);
    // Coast 1143 / 1500 = 0.762 → 9.5 − 4 · 0.62 = 7.02 → 30 · 7.02 = 210.6 → 210.
    assert_eq!(out.regen[1], 210);
    assert_eq!(out.stock, [305, 1353]);
    // Year 2: ship value moves halfway to the average profit per ship.
    // Profit: deep 38·20 − 8·250 = −1240; coast 57·20 − 4·150 = 540; harbor −2·50.
    // P = (−1240 + 540 − 100) / 14 = −57.14; S = floor(250 + (−57.14 − 250) / 2) = 96.
    assert_eq!(out.ship_value, 96);
    assert_eq!(out.teams[0].assets, 50 + 11 * 96);
    // Deep density after harvest 0.087 ≥ 0.05: no collapse.
    assert!(!out.collapsed_now);
}

#[test]
fn the_ship_value_moves_after_year_one_already() {
    // Meadows' decision page recomputes the salvage value after every turn, the first
    // included: 250 holds only before year 1.
    let p = params();
    let state = State::initial(&p, 6);
    let d = [Decision {
        order: 0,
        deep: 3,
        coast: 1,
    }; 6];
    let out = step(&p, &state, &d, &[None; 6]);
    let profit = average_profit_per_ship(&p, out.fleet, out.catch);
    let expected = (250.0 + (profit - 250.0) / 2.0).floor() as i64;
    assert_ne!(expected, 250);
    assert_eq!(out.ship_value, expected);
    assert_eq!(out.teams[0].assets, out.teams[0].bank + 4 * expected);
}

#[test]
fn average_profit_multiplies_the_price_by_the_catch_per_ship() {
    // 3 deep ships catching 193 fish, 1 idle coast ship: exactly 740 per ship, but
    // 20 · 193 / 3 is one bit above 20 · (193 / 3), and the floor of S shows it:
    // Meadows' order gives 739.99…, so S = floor(250 + 489.99… / 2) = 494, not 495.
    let p = params();
    let profit = average_profit_per_ship(&p, [3, 1, 0], [193, 0]);
    assert!(profit < 740.0 && profit > 739.99);
    let state = State {
        ship_value: 250,
        ..State::initial(&p, 1)
    };
    let s = state.ship_value as f64;
    assert_eq!(floor_i64(s + (profit - s) / 2.0), 494);
}

#[test]
fn catch_is_scaled_down_when_demand_exceeds_the_stock() {
    let mut p = params();
    p.weather = false;
    let state = State {
        year: 3,
        stock: [60, 1200],
        teams: teams(2, 20, 0),
        ship_value: 250,
        collapse_year: None,
    };
    // A flat table of 100 fish per ship makes 40 ships want far more than the stock.
    p.deep.catch_table = vec![100.0; 11];
    let decisions = [Decision {
        order: 0,
        deep: 20,
        coast: 0,
    }; 2];
    let out = step(&p, &state, &decisions, &[None, None]);
    // Demand 40 · 100 = 4000 > 60 → q = 100 · 60 / 4000 = 1.5 per ship → 30 each.
    assert_eq!(out.catch_per_ship[0], 1.5);
    assert_eq!(out.teams[0].catch_deep, 30);
    assert_eq!(out.post_harvest[0], 0);
    assert!(out.collapsed_now);
    assert_eq!(out.state.collapse_year, Some(4));
}

#[test]
fn collapse_rules_differ_between_any_area_and_total() {
    let mut p = params();
    // Deep at 3% of capacity, coast full: one area collapsed, the total not.
    let post = [90, 1500];
    assert!(is_collapsed(&p, post));
    p.collapse_rule = CollapseRule::Total;
    // (90 + 1500) / 4500 = 0.35.
    assert!(!is_collapsed(&p, post));
    assert!(is_collapsed(&p, [100, 100]));
    p.collapse_density = 0.5;
    assert!(is_collapsed(&p, [1000, 1000]));
}

#[test]
fn weather_uses_year_modulo_twenty_and_can_be_switched_off() {
    let mut p = params();
    assert_eq!(p.weather_of(1), 1.03);
    assert_eq!(p.weather_of(20), 1.00);
    assert_eq!(p.weather_of(23), 1.14);
    p.weather = false;
    assert_eq!(p.weather_of(3), 1.0);
}

/// Six teams ordering the limit with every ship in the deep sea leave it below 1% of
/// capacity by year 4 (docs/DESIGN.md §3 reference fact).
#[test]
fn all_out_deep_fishing_empties_the_deep_sea_by_year_four() {
    let p = params();
    let mut state = State::initial(&p, 6);
    for _ in 0..4 {
        let decisions: Vec<Decision> = state
            .teams
            .iter()
            .map(|t| Decision {
                order: p.order_limit(t.ships) as i64,
                deep: t.ships as i64,
                coast: 0,
            })
            .collect();
        state = step(&p, &state, &decisions, &[None; 6]).state;
    }
    assert!(
        (state.stock[0] as f64) < 0.01 * p.deep.max_stock as f64,
        "deep stock {}",
        state.stock[0]
    );
}

/// Six teams keeping their initial fleets keep both stocks above 80% for 20 years.
#[test]
fn initial_fleets_keep_both_stocks_above_eighty_percent() {
    let p = params();
    let mut state = State::initial(&p, 6);
    for _ in 0..20 {
        let decisions = vec![
            Decision {
                order: 0,
                deep: 3,
                coast: 1
            };
            6
        ];
        let out = step(&p, &state, &decisions, &[None; 6]);
        assert!(out.stock[0] as f64 > 0.8 * 3000.0 && out.stock[1] as f64 > 0.8 * 1500.0);
        state = out.state;
    }
    assert_eq!(state.collapse_year, None);
}
