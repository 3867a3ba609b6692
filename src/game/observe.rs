//! What each team sees of the world before a year (or, for report requests, after it).

use crate::engine::{initial_deployment, Area, Decision, GameParams, State, YearOutcome};
use crate::question::{Board, Observation, OwnView, PublicView};

/// Team `t`'s view of `state` before `year` (or, for report requests, after it). `last`
/// is the outcome of the year before (`None` before year 1, when the year-0 deployment
/// stands in for "last year").
pub fn observe(
    params: &GameParams,
    state: &State,
    last: Option<&YearOutcome>,
    t: usize,
    year: u32,
    years_total: u32,
) -> Observation {
    let team = state.teams[t];
    let (fleet, last_decision, last_catch, catch_per_ship) = match last {
        Some(o) => {
            let a = o.teams[t].applied;
            (
                o.fleet,
                Decision {
                    order: a.order as i64,
                    deep: a.deep as i64,
                    coast: a.coast as i64,
                },
                [o.teams[t].catch_deep, o.teams[t].catch_coast],
                Some(landed_per_ship(o)),
            )
        }
        None => {
            let mut fleet = [0u32; 3];
            for tm in &state.teams {
                let d = initial_deployment(tm.ships);
                fleet[0] += d.deep;
                fleet[1] += d.coast;
                fleet[2] += d.harbor;
            }
            let d = initial_deployment(team.ships);
            (
                fleet,
                Decision {
                    order: 0,
                    deep: d.deep as i64,
                    coast: d.coast as i64,
                },
                [0, 0],
                None,
            )
        }
    };
    let density = params
        .reveal_stock
        .then(|| Area::ALL.map(|a| (state.density(params, a) * 100.0).round() / 100.0));
    Observation {
        own: OwnView {
            team: t,
            ships: team.ships,
            bank: team.bank,
            assets: state.assets(t),
            last_catch,
            last_decision,
            order_limit: params.order_limit(team.ships),
            private: None,
        },
        public: PublicView {
            year,
            years_total,
            years_left: years_total.saturating_sub(year) + 1,
            teams: state.teams.len(),
            fleet,
            catch_per_ship,
            density,
            ship_value: state.ship_value,
            fish_price: params.fish_price,
            ship_price: params.ship_price,
            costs: [params.deep.cost, params.coast.cost, params.harbor_cost],
        },
        board: Board::default(),
    }
}

/// Last year's catch per ship `[deep, coast]` as Meadows' operator report shows it: the
/// fish landed in the area (rounded per team, after any quota cut) over the ships there,
/// floored to a tenth (`Math.floor(totalCatch/opFleet*10)/10` in his program); 0 where no
/// ship fished. Not the rate before rounding and quotas: a coast ship that landed 15 fish
/// reads 15.0, never 15.5.
pub fn landed_per_ship(o: &YearOutcome) -> [f64; 2] {
    [0, 1].map(|i| {
        if o.fleet[i] == 0 {
            0.0
        } else {
            (o.catch[i] as f64 / o.fleet[i] as f64 * 10.0).floor() / 10.0
        }
    })
}

/// Every whole number a team was shown on the board: the quota's proposals, median, TAC
/// and its own quota, the numbers written in messages and reasonings, and the ledger's
/// catches. The consensus probe asks which total catch the group follows; an answer
/// among these numbers is grounded in what the team saw.
pub fn numbers_shown(obs: &Observation) -> std::collections::BTreeSet<i64> {
    let b = &obs.board;
    let mut out = std::collections::BTreeSet::new();
    if let Some(q) = &b.quota {
        out.extend(q.proposals.iter().flatten().flatten());
        out.extend(q.median);
        out.extend(q.tac);
        out.extend(q.my_quota);
    }
    let texts = b
        .messages
        .iter()
        .chain(&b.earlier_messages)
        .map(|m| m.text.as_str())
        .chain(
            b.intentions
                .iter()
                .chain(&b.earlier_intentions)
                .map(|i| i.intention.reasoning.as_str()),
        );
    for text in texts {
        out.extend(numbers_in(text));
    }
    out.extend(b.ledger.iter().map(|e| e.catch));
    out
}

/// The whole numbers written in a text (digits, with `,` or `_` as thousands separators).
fn numbers_in(text: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if (c == ',' || c == '_') && !digits.is_empty() {
            continue;
        } else if !digits.is_empty() {
            out.extend(digits.parse::<i64>().ok());
            digits.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_per_ship_is_the_landed_catch_floored_to_a_tenth() {
        use crate::engine::{step, State};
        let params = GameParams::default();
        let state = State::initial(&params, 2);
        // One coast ship each; a binding quota of 10 fish cuts team 1's catch.
        let decisions = vec![
            Decision {
                order: 0,
                deep: 3,
                coast: 1,
            },
            Decision {
                order: 0,
                deep: 3,
                coast: 1,
            },
        ];
        let o = step(&params, &state, &decisions, &[Some(10), None]);
        let landed = landed_per_ship(&o);
        for (i, area) in [Area::Deep, Area::Coast].into_iter().enumerate() {
            let exact = o.catch[i] as f64 / o.fleet[i] as f64;
            assert!(landed[i] <= exact && exact - landed[i] < 0.1, "{area:?}");
            assert_eq!((landed[i] * 10.0).fract(), 0.0);
        }
        // The quota's cut shows: below the rate before it.
        assert!(landed[0] + landed[1] < o.catch_per_ship[0] + o.catch_per_ship[1]);
        let seen = observe(&params, &o.state, Some(&o), 0, 2, 10);
        assert_eq!(seen.public.catch_per_ship, Some(landed));
        // Nobody at sea in an area: 0.
        let idle = YearOutcome {
            fleet: [0, 0, 8],
            ..o
        };
        assert_eq!(landed_per_ship(&idle), [0.0, 0.0]);
    }

    #[test]
    fn numbers_are_read_with_thousands_separators() {
        assert_eq!(
            numbers_in("a TAC of 1,200 fish, 3 teams; 45."),
            vec![1200, 3, 45]
        );
        assert_eq!(numbers_in("none"), Vec::<i64>::new());
    }
}
