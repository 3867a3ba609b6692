//! The ship market through the real game loop: whatever teams bid, offer and take,
//! trades move ships and money between teams and create neither, the auction's ships
//! enter the game and the money paid for them leaves it exactly, and the accounts of
//! every team add up year by year.

use crate::common::{run_experiment, Table, TestExperiment};
use async_trait::async_trait;
use fishbanks::agents::{Agent, AgentError, ScriptedAgent, Strategy};
use fishbanks::engine::{exchange, Exchange, GameParams, MarketParams, State};
use fishbanks::game::{self, Setup};
use fishbanks::protocol::ProtocolSpec;
use fishbanks::question::{Answer, Observation, Request, Response};
use fishbanks::record::Event;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// A trader with random market answers (any number of ships, any price, any offers
/// taken) and a scripted strategy's decisions.
struct RandomTrader {
    inner: ScriptedAgent,
    rng: ChaCha8Rng,
}

#[async_trait]
impl Agent for RandomTrader {
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError> {
        let response = match request {
            Request::Bid(q) => Response::Bid {
                ships: self.rng.random_range(0..=q.ships + 2),
                price: self.rng.random_range(-5..=q.max_price + 5),
            },
            Request::Offer(q) => Response::Offer {
                ships: self.rng.random_range(0..=obs.own.ships + 2),
                price: self.rng.random_range(-5..=q.max_price + 5),
            },
            Request::Accept(q) => {
                let mut numbers: Vec<usize> = (1..=q.offers.len() + 1)
                    .filter(|_| self.rng.random_bool(0.5))
                    .collect();
                numbers.push(1);
                Response::Accept(numbers)
            }
            _ => return self.inner.answer(obs, request).await,
        };
        Ok(Answer::given(response))
    }
}

fn market_game(seed: u64, auction_ships: u32, rounds: u32, trades: bool) -> game::GameRecord {
    let params = Arc::new(GameParams {
        market: MarketParams {
            auction_ships,
            trades,
            trade_rounds: rounds,
            max_price: 2000,
        },
        ..GameParams::default()
    });
    let strategies = [
        Strategy::Greedy,
        Strategy::Conditional,
        Strategy::Sustainable,
        Strategy::FreeRider,
        Strategy::Random,
        Strategy::Greedy,
    ];
    let agents: Vec<Box<dyn Agent>> = strategies
        .iter()
        .enumerate()
        .map(|(t, s)| {
            Box::new(RandomTrader {
                inner: ScriptedAgent::new(
                    *s,
                    Arc::clone(&params),
                    ChaCha8Rng::seed_from_u64(seed * 10 + t as u64),
                    0.1,
                ),
                rng: ChaCha8Rng::seed_from_u64(seed * 100 + t as u64),
            }) as Box<dyn Agent>
        })
        .collect();
    let protocol = ProtocolSpec::default_of("none")
        .unwrap()
        .build(ChaCha8Rng::seed_from_u64(seed), &params);
    let setup = Setup {
        years: 12,
        market_rng: Some(ChaCha8Rng::seed_from_u64(seed)),
        ..Setup::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(game::play(
        &params,
        &setup,
        agents,
        protocol,
        Vec::new(),
        &|| None,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn trades_conserve_ships_and_money_and_the_auction_money_leaves_exactly(
        seed in 0u64..1_000_000,
        auction in 0u32..8,
        rounds in 1u32..3,
    ) {
        let record = market_game(seed, auction, rounds, true);
        prop_assert_eq!(record.years.len(), 12);
        let mut before: Vec<(i64, i64)> = vec![(4, 800); 6];
        let mut auctioned = 0u32;
        for (year, extras) in &record.years {
            let m = &extras.market;
            prop_assert_eq!(m.len(), 6);
            // Trades create nothing.
            prop_assert_eq!(m.iter().map(|t| t.trade_ships).sum::<i64>(), 0);
            prop_assert_eq!(m.iter().map(|t| t.trade_money).sum::<i64>(), 0);
            // No more ships sold than offered.
            let won: u32 = m.iter().map(|t| t.auction_ships).sum();
            prop_assert!(won <= auction);
            auctioned += won;
            for (t, out) in year.teams.iter().enumerate() {
                let (ships0, bank0) = before[t];
                // The fleet the year is played with: last year's plus what the market moved.
                let fleet = ships0 + m[t].auction_ships as i64 + m[t].trade_ships;
                prop_assert!(fleet >= 0);
                prop_assert_eq!(out.ships as i64, fleet + out.applied.order as i64);
                // The accounts: the market's money moves before the year's costs; the
                // auction's leaves the game.
                let min = bank0 - m[t].auction_paid + m[t].trade_money + out.transfer - out.costs;
                prop_assert_eq!(
                    out.bank,
                    min + out.revenue + out.interest - 300 * out.applied.order as i64,
                    "year {} team {}", year.year, t
                );
                before[t] = (out.ships as i64, out.bank);
            }
        }
        // Every auction the events record adds up to the same ships.
        let in_events: u32 = record
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Auction { wins, .. } => Some(wins.iter().map(|w| w.1).sum::<u32>()),
                _ => None,
            })
            .sum();
        prop_assert_eq!(in_events, auctioned);
    }
}

#[test]
fn an_exchange_moves_ships_and_money_as_given() {
    let params = GameParams::default();
    let state = State::initial(&params, 3);
    let next = exchange(
        &state,
        &Exchange {
            ships: vec![2, -1, -1],
            money: vec![-600, 300, 300],
        },
    );
    assert_eq!(
        next.teams
            .iter()
            .map(|t| (t.ships, t.bank))
            .collect::<Vec<_>>(),
        vec![(6, 200), (3, 1100), (3, 1100)]
    );
    assert_eq!(next.stock, state.stock, "fish are not traded");
}

#[test]
fn without_a_market_nothing_is_asked_and_nothing_moves() {
    let record = market_game(3, 0, 1, false);
    assert!(record.events.iter().all(|e| !matches!(
        e,
        Event::Auction { .. } | Event::Bid { .. } | Event::Offer { .. } | Event::Trade { .. }
    )));
    assert!(record.years.iter().all(|(_, x)| x.market.is_empty()));
}

#[test]
fn the_mock_model_bids_offers_and_takes_validly() {
    let work = tempfile::tempdir().unwrap();
    let exp = TestExperiment::new("mock-market", 5, 2)
        .section("[game.market]\nauction_ships = 3\ntrades = true\ntrade_rounds = 2")
        .provider("mock", "kind = \"mock\"\npolicy = \"greedy\"\nseed = 1")
        .provider("coop", "kind = \"mock\"\npolicy = \"sustainable\"\nseed = 1")
        .population(
            "llm",
            r#"{ kind = "llm", provider = "mock", count = 3 }, { kind = "llm", provider = "coop", count = 3 }"#,
        )
        .protocol("none", "none", "")
        .write(work.path());
    let out = work.path().join("out");
    let status = run_experiment(&exp, &out, &["--no-report"]);
    assert!(status.status.success(), "{status:?}");
    let dir = out.join("mock-market");
    let runs = Table::read(&dir.join("runs.csv"));
    for r in &runs.rows {
        assert_eq!(r[runs.col("status")], "ok");
        assert_eq!(
            r[runs.col("llm_repairs")],
            "0",
            "every answer valid at once"
        );
    }
    let agents = Table::read(&dir.join("agents.csv"));
    let bought: i64 = agents
        .rows
        .iter()
        .map(|r| r[agents.col("auction_ships")].parse::<i64>().unwrap())
        .sum();
    assert!(bought > 0, "the greedy mock buys at the auction");
}
