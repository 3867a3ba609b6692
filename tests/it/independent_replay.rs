//! Recompute every run of a sweep from the decisions recorded in `agents.csv`, with a
//! second, independent implementation of docs/DESIGN.md §3 written from the text (not from
//! `src/engine`), and check that `years.csv` and `agents.csv` agree with it exactly.

use std::collections::BTreeMap;
use std::path::Path;

/// docs/DESIGN.md §3 with default parameters, written straight from the text.
mod reference {
    pub const REGEN: [f64; 11] = [0., 1., 2., 4., 7., 10., 11., 9.5, 5.5, 3., 0.];
    pub const DEEP: [f64; 11] = [0., 5., 10., 15., 20., 25., 25., 25., 25., 25., 25.];
    pub const COAST: [f64; 11] = [0., 3., 6., 9., 12., 15., 15., 15., 15., 15., 15.];
    pub const WEATHER: [f64; 20] = [
        1.00, 1.03, 0.87, 1.14, 1.05, 0.94, 0.90, 1.02, 1.08, 0.89, 1.08, 1.10, 1.01, 1.13, 1.06,
        1.19, 1.16, 1.10, 1.01, 1.07,
    ];
    pub const MAX: [i64; 2] = [3000, 1500];
    pub const COST: [i64; 3] = [250, 150, 50];
    pub const SCALE: [f64; 2] = [50.0, 30.0];

    /// Meadows' `table`: the segment ending at the first breakpoint (the decimal literals
    /// 0.1 … 1.0) at or above x, divided by the difference of its breakpoints.
    pub fn table(t: &[f64; 11], x: f64) -> f64 {
        const X: [f64; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
        if x <= 0.0 {
            return t[0];
        }
        for k in 1..11 {
            if x <= X[k] {
                return t[k - 1] + (t[k] - t[k - 1]) * (x - X[k - 1]) / (X[k] - X[k - 1]);
            }
        }
        t[10]
    }

    #[derive(Clone, Debug)]
    pub struct World {
        pub stock: [i64; 2],
        pub ships: Vec<i64>,
        pub bank: Vec<i64>,
        pub ship_value: i64,
    }

    #[derive(Debug, PartialEq)]
    pub struct TeamYear {
        pub catch: [i64; 2],
        pub revenue: i64,
        pub costs: i64,
        pub interest: i64,
        pub bank: i64,
        pub ships: i64,
        pub assets: i64,
        pub capped: bool,
    }

    #[derive(Debug, PartialEq)]
    pub struct Year {
        pub stock: [i64; 2],
        pub post: [i64; 2],
        pub regen: [i64; 2],
        pub ship_value: i64,
        pub teams: Vec<TeamYear>,
    }

    /// One year: `d[t] = (order, deep, coast)`, already valid; `quota[t]` binding.
    /// One year; `transfer[t]` is money moved into team t's bank before the year's costs
    /// (last year's fines under sanctions), an input like the decisions.
    pub fn year(
        w: &mut World,
        y: usize,
        d: &[(i64, i64, i64)],
        quota: &[Option<i64>],
        transfer: &[i64],
    ) -> Year {
        let weather = WEATHER[y % 20];
        let fleet = [
            d.iter().map(|x| x.1).sum::<i64>(),
            d.iter().map(|x| x.2).sum::<i64>(),
        ];
        let harbor: i64 = d.iter().zip(&w.ships).map(|(x, s)| s - x.1 - x.2).sum();
        let tables = [&DEEP, &COAST];
        let mut q = [0.0; 2];
        for a in 0..2 {
            q[a] = table(tables[a], w.stock[a] as f64 / MAX[a] as f64);
            let want = fleet[a] as f64 * q[a] * weather;
            if want > w.stock[a] as f64 {
                q[a] *= w.stock[a] as f64 / want;
            }
        }
        let mut total = [0i64; 2];
        let mut teams = Vec::new();
        for (t, &(order, deep, coast)) in d.iter().enumerate() {
            let mut c = [
                (deep as f64 * q[0] * weather + 0.5).floor() as i64,
                (coast as f64 * q[1] * weather + 0.5).floor() as i64,
            ];
            let mut capped = false;
            if let Some(cap) = quota[t] {
                let sum = c[0] + c[1];
                if sum > cap {
                    let kept_deep = c[0] * cap / sum;
                    c = [kept_deep, cap - kept_deep];
                    capped = true;
                }
            }
            total[0] += c[0];
            total[1] += c[1];
            let harbor_t = w.ships[t] - deep - coast;
            let costs = COST[0] * deep + COST[1] * coast + COST[2] * harbor_t;
            let revenue = 20 * (c[0] + c[1]);
            let min = w.bank[t] + transfer[t] - costs;
            let rate = if min >= 0 { 0.05 } else { 0.15 };
            let interest = ((rate * min as f64 + 5.0) / 10.0).floor() as i64 * 10;
            w.bank[t] = min + revenue + interest - 300 * order;
            w.ships[t] += order;
            teams.push(TeamYear {
                catch: c,
                revenue,
                costs,
                interest,
                bank: w.bank[t],
                ships: w.ships[t],
                assets: 0,
                capped,
            });
        }
        let mut post = [0; 2];
        let mut regen = [0; 2];
        for a in 0..2 {
            post[a] = (w.stock[a] - total[a]).max(0);
            regen[a] = (SCALE[a] * table(&REGEN, post[a] as f64 / MAX[a] as f64)).floor() as i64;
            w.stock[a] = post[a] + regen[a];
        }
        // The ship value moves after every year, the first included (Meadows' decision
        // page), with the price times the catch per ship.
        let all = fleet[0] + fleet[1] + harbor;
        let mut profit = -(COST[2] as f64) * harbor as f64;
        for a in 0..2 {
            if fleet[a] > 0 {
                profit +=
                    (20.0 * (total[a] as f64 / fleet[a] as f64) - COST[a] as f64) * fleet[a] as f64;
            }
        }
        let p = if all > 0 { profit / all as f64 } else { 0.0 };
        let s = w.ship_value as f64;
        w.ship_value = ((s + (p - s) / 2.0).floor() as i64).max(0);
        for t in &mut teams {
            t.assets = t.bank + t.ships * w.ship_value;
        }
        Year {
            stock: w.stock,
            post,
            regen,
            ship_value: w.ship_value,
            teams,
        }
    }
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("column {name}"))
}

#[test]
fn quickstart_years_match_an_independent_implementation() {
    // 7 protocols x 2 populations x 20 seeds, 20 years each.
    replay("quickstart", 280 * 20);
}

#[test]
fn market_years_match_an_independent_implementation() {
    // 3 protocols x 2 populations x 20 seeds, with a yearly auction and trades.
    replay("market", 120 * 20);
}

/// Play a shipped experiment and recompute every year of every run from the decisions
/// (and the ship market's moves) in `agents.csv`.
fn replay(name: &str, years_expected: usize) {
    let out = tempfile::tempdir().unwrap();
    let file = format!("{}/experiments/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args(["run", &file])
        .args([
            "--out",
            out.path().to_str().unwrap(),
            "--events",
            "none",
            "--quiet",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let dir = out.path().join(name);
    let with_market = name == "market";
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let binding: BTreeMap<String, bool> = manifest["protocols"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, p)| {
            (
                name.clone(),
                p["kind"] == "quota" && p["enforcement"] == "binding",
            )
        })
        .collect();
    let (rh, runs) = read_csv(&dir.join("runs.csv"));
    let (ah, agents) = read_csv(&dir.join("agents.csv"));
    let (yh, years) = read_csv(&dir.join("years.csv"));
    let int =
        |row: &Vec<String>, h: &[String], name: &str| -> i64 { row[col(h, name)].parse().unwrap() };

    let mut agent_rows: BTreeMap<&str, Vec<&Vec<String>>> = BTreeMap::new();
    for row in &agents {
        agent_rows.entry(row[0].as_str()).or_default().push(row);
    }
    let mut year_rows: BTreeMap<&str, Vec<&Vec<String>>> = BTreeMap::new();
    for row in &years {
        year_rows.entry(row[0].as_str()).or_default().push(row);
    }
    let mut checked = 0;
    for run in &runs {
        let id = run[0].as_str();
        let is_binding = binding[&run[col(&rh, "protocol")]];
        let mut world = reference::World {
            stock: [2500, 1200],
            ships: vec![4; 6],
            bank: vec![800; 6],
            ship_value: 250,
        };
        let rows = &agent_rows[id];
        for (y, yrow) in year_rows[id].iter().enumerate() {
            let year = y + 1;
            let these: Vec<&&Vec<String>> =
                rows.iter().filter(|r| r[1] == year.to_string()).collect();
            assert_eq!(these.len(), 6);
            let decisions: Vec<(i64, i64, i64)> = these
                .iter()
                .map(|r| {
                    (
                        int(r, &ah, "order"),
                        int(r, &ah, "deep"),
                        int(r, &ah, "coast"),
                    )
                })
                .collect();
            let quotas: Vec<Option<i64>> = these
                .iter()
                .map(|r| {
                    if is_binding {
                        r[col(&ah, "quota")].parse().ok()
                    } else {
                        None
                    }
                })
                .collect();
            let transfers: Vec<i64> = these.iter().map(|r| int(r, &ah, "transfer")).collect();
            // The ship market, before the decisions: ships arrive or leave at once, money
            // moves at once, the auction's leaves the game. Without a market its columns
            // are empty, never 0.
            let market = |r: &Vec<String>, name: &str| -> i64 {
                let text = &r[col(&ah, name)];
                assert_eq!(
                    text.is_empty(),
                    !with_market,
                    "{name} of run {id}: `{text}`"
                );
                text.parse().unwrap_or(0)
            };
            for (t, r) in these.iter().enumerate() {
                world.ships[t] += market(r, "auction_ships") + market(r, "trade_ships");
                world.bank[t] += market(r, "trade_money") - market(r, "auction_paid");
            }
            let expected = reference::year(&mut world, year, &decisions, &quotas, &transfers);
            let ctx = format!("run {id} year {year}");
            assert_eq!(
                expected.stock,
                [int(yrow, &yh, "stock_deep"), int(yrow, &yh, "stock_coast")],
                "{ctx}"
            );
            assert_eq!(
                expected.post,
                [
                    int(yrow, &yh, "post_harvest_deep"),
                    int(yrow, &yh, "post_harvest_coast")
                ],
                "{ctx}"
            );
            assert_eq!(
                expected.regen,
                [int(yrow, &yh, "regen_deep"), int(yrow, &yh, "regen_coast")],
                "{ctx}"
            );
            assert_eq!(expected.ship_value, int(yrow, &yh, "ship_value"), "{ctx}");
            for (t, r) in these.iter().enumerate() {
                let e = &expected.teams[t];
                assert_eq!(
                    e.catch,
                    [int(r, &ah, "catch_deep"), int(r, &ah, "catch_coast")],
                    "{ctx} team {t}"
                );
                assert_eq!(
                    (e.revenue, e.costs, e.interest, e.bank, e.ships, e.assets),
                    (
                        int(r, &ah, "revenue"),
                        int(r, &ah, "costs"),
                        int(r, &ah, "interest"),
                        int(r, &ah, "bank"),
                        int(r, &ah, "ships"),
                        int(r, &ah, "assets")
                    ),
                    "{ctx} team {t}"
                );
                assert_eq!(
                    e.capped.to_string(),
                    r[col(&ah, "quota_binding")],
                    "{ctx} team {t}"
                );
            }
            checked += 1;
        }
        assert_eq!(int(run, &rh, "final_stock_deep"), world.stock[0]);
        let total_assets: i64 = (0..6)
            .map(|t| world.bank[t] + world.ships[t] * world.ship_value)
            .sum();
        assert_eq!(int(run, &rh, "total_assets"), total_assets);
    }
    assert_eq!(checked, years_expected, "every year of every run");
}
