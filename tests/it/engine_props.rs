//! Properties of the engine over random states and decisions.

use fishbanks::engine::{repair, step, Area, Decision, GameParams, State, Team};
use proptest::prelude::*;

fn arb_state() -> impl Strategy<Value = State> {
    (
        0i64..=3000,
        0i64..=1500,
        prop::collection::vec((0u32..60, -20_000i64..20_000), 1..8),
        0i64..600,
        0u32..40,
    )
        .prop_map(|(deep, coast, teams, ship_value, year)| State {
            year,
            stock: [deep, coast],
            teams: teams
                .into_iter()
                .map(|(ships, bank)| Team { ships, bank })
                .collect(),
            ship_value,
            collapse_year: None,
        })
}

fn arb_decision() -> impl Strategy<Value = Decision> {
    (-5i64..40, -5i64..70, -5i64..70).prop_map(|(order, deep, coast)| Decision {
        order,
        deep,
        coast,
    })
}

fn arb_quota() -> impl Strategy<Value = Option<i64>> {
    prop::option::of(0i64..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn stocks_stay_within_bounds(
        state in arb_state(),
        decisions in prop::collection::vec(arb_decision(), 8),
        quotas in prop::collection::vec(arb_quota(), 8),
        weather in any::<bool>(),
    ) {
        let params = GameParams { weather, ..GameParams::default() };
        let n = state.teams.len();
        let out = step(&params, &state, &decisions[..n], &quotas[..n]);
        let max_regen = params.regen_table.iter().cloned().fold(0.0, f64::max);
        for area in Area::ALL {
            let i = area.index();
            prop_assert!(out.post_harvest[i] >= 0);
            prop_assert!(out.stock[i] >= 0);
            prop_assert!(out.post_harvest[i] <= state.stock[i]);
            prop_assert!(out.regen[i] >= 0);
            prop_assert!(out.regen[i] as f64 <= params.area(area).regen_scale * max_regen);
            prop_assert_eq!(out.stock[i], out.post_harvest[i] + out.regen[i]);
        }
    }

    #[test]
    fn money_is_conserved_each_year(
        state in arb_state(),
        decisions in prop::collection::vec(arb_decision(), 8),
        quotas in prop::collection::vec(arb_quota(), 8),
    ) {
        let params = GameParams::default();
        let n = state.teams.len();
        let out = step(&params, &state, &decisions[..n], &quotas[..n]);
        for (t, o) in out.teams.iter().enumerate() {
            let before = state.teams[t].bank;
            let orders = params.ship_price * o.applied.order as i64;
            prop_assert_eq!(o.bank - before, o.revenue - o.costs + o.interest - orders);
            prop_assert_eq!(o.revenue, params.fish_price * (o.catch_deep + o.catch_coast));
            prop_assert_eq!(o.ships, state.teams[t].ships + o.applied.order);
            prop_assert_eq!(o.assets, o.bank + o.ships as i64 * out.ship_value);
            if let Some(q) = quotas[t] {
                prop_assert!(o.catch_deep + o.catch_coast <= q);
            }
        }
    }

    #[test]
    fn repaired_decisions_are_always_valid(ships in 0u32..200, decision in arb_decision()) {
        let params = GameParams::default();
        let (applied, repaired) = repair(&params, ships, decision);
        prop_assert!(applied.order <= params.order_limit(ships));
        prop_assert_eq!(applied.deep + applied.coast + applied.harbor, ships);
        let valid = decision.order >= 0
            && decision.order <= params.order_limit(ships) as i64
            && decision.deep >= 0
            && decision.coast >= 0
            && decision.deep + decision.coast <= ships as i64;
        prop_assert_eq!(repaired, !valid);
        if valid {
            prop_assert_eq!(applied.deep as i64, decision.deep);
            prop_assert_eq!(applied.coast as i64, decision.coast);
        }
    }
}
