//! The classroom game's ship market (`[game.market]`), each year before the protocol's
//! phases and the decisions:
//!
//! - an auction by the game master of `auction_ships` ships: every team bids a number of
//!   ships and a price per ship; ships go to the highest prices (ties in an order drawn
//!   from the run's market stream), each winner pays its own price for every ship it wins
//!   (pay-as-bid), the money leaves the game and the ships arrive at once;
//! - with `trades`, `trade_rounds` rounds in which every team may offer ships at an asking
//!   price and the others take whole offers: buyers are served in an order drawn from the
//!   market stream, an offer goes to the first buyer who takes it, and ships and money
//!   move between the two teams at once (nothing is created).
//!
//! What changes hands reaches the engine as an [`Exchange`], a pure input: the engine
//! applies it and does not know why.

use super::observe;
use crate::agents::{Agent, AgentError};
use crate::engine::{exchange, Exchange, GameParams, State, YearOutcome};
use crate::protocol::{ask_all, ask_some, wrong_kind};
use crate::question::{
    AcceptQuestion, AuctionWin, BidQuestion, MarketBoard, Observation, OfferItem, OfferQuestion,
    Request, RequestKind, Response, TradeItem,
};
use crate::record::Event;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// What the market did to one team this year (for `agents.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MarketTeam {
    /// Ships won at the auction, and the money paid for them.
    pub auction_ships: u32,
    pub auction_paid: i64,
    /// Ships bought (+) or sold (−) in trades, and the money received (+) or paid (−).
    pub trade_ships: i64,
    pub trade_money: i64,
}

/// A year's market.
pub struct MarketYear {
    /// The state after the market: the fleets and banks the year is played with.
    pub state: State,
    pub board: MarketBoard,
    pub teams: Vec<MarketTeam>,
}

/// Where a market phase is played: the state it starts from and the year.
pub struct MarketSetup<'a> {
    pub params: &'a GameParams,
    pub state: &'a State,
    pub last: Option<&'a YearOutcome>,
    pub year: u32,
    pub years: u32,
}

/// Every team's observation of `state`, with the market board so far.
fn observations(m: &MarketSetup, state: &State, board: &MarketBoard) -> Vec<Observation> {
    (0..state.teams.len())
        .map(|t| {
            let mut o = observe(m.params, state, m.last, t, m.year, m.years);
            o.board.market = Some(board.clone());
            o
        })
        .collect()
}

/// Play this year's market.
pub async fn play_market(
    m: &MarketSetup<'_>,
    agents: &mut [Box<dyn Agent>],
    rng: &mut ChaCha8Rng,
    events: &mut Vec<Event>,
) -> Result<MarketYear, AgentError> {
    let market = &m.params.market;
    let teams = m.state.teams.len();
    let mut state = m.state.clone();
    let mut board = MarketBoard::default();
    let mut per_team = vec![MarketTeam::default(); teams];
    let y = m.year;

    if market.auction_ships > 0 {
        events.push(Event::Phase {
            year: y,
            phase: "auction".into(),
        });
        let question = BidQuestion {
            ships: market.auction_ships,
            max_price: market.max_price,
        };
        let answers = ask_all(
            agents,
            &observations(m, &state, &board),
            &Request::Bid(question),
        )
        .await?;
        let mut bids = Vec::new();
        for (team, answer) in answers.into_iter().enumerate() {
            match answer.response {
                Response::Bid { .. } if answer.fallback => {}
                Response::Bid { ships, price } => {
                    let (ships, price) =
                        (ships.min(question.ships), price.clamp(0, market.max_price));
                    events.push(Event::Bid {
                        year: y,
                        team,
                        ships,
                        price,
                    });
                    if ships > 0 && price > 0 {
                        bids.push((team, ships, price));
                    }
                }
                other => return Err(wrong_kind(team, y, RequestKind::Bid, &other)),
            }
        }
        // Highest price first; equal prices in an order drawn from the market stream.
        bids.shuffle(rng);
        bids.sort_by_key(|b| std::cmp::Reverse(b.2));
        let mut left = market.auction_ships;
        let mut ex = Exchange {
            ships: vec![0; teams],
            money: vec![0; teams],
        };
        for (team, ships, price) in bids {
            let won = ships.min(left);
            if won == 0 {
                break;
            }
            left -= won;
            let paid = won as i64 * price;
            ex.ships[team] += won as i64;
            ex.money[team] -= paid;
            per_team[team].auction_ships += won;
            per_team[team].auction_paid += paid;
            board.auction.push(AuctionWin {
                team,
                ships: won,
                price,
            });
        }
        board.auctioned = market.auction_ships;
        events.push(Event::Auction {
            year: y,
            offered: market.auction_ships,
            wins: board
                .auction
                .iter()
                .map(|w| (w.team, w.ships, w.price))
                .collect(),
        });
        state = exchange(&state, &ex);
    }

    if market.trades {
        for round in 1..=market.trade_rounds {
            events.push(Event::Phase {
                year: y,
                phase: format!("trade round {round}"),
            });
            let question = OfferQuestion {
                round,
                max_price: market.max_price,
            };
            let answers = ask_all(
                agents,
                &observations(m, &state, &board),
                &Request::Offer(question),
            )
            .await?;
            board.offers.clear();
            for (team, answer) in answers.into_iter().enumerate() {
                match answer.response {
                    Response::Offer { .. } if answer.fallback => {}
                    Response::Offer { ships, price } => {
                        let ships = ships.min(state.teams[team].ships);
                        let price = price.clamp(0, market.max_price);
                        if ships > 0 {
                            events.push(Event::Offer {
                                year: y,
                                round,
                                team,
                                ships,
                                price,
                            });
                            board.offers.push(OfferItem {
                                number: board.offers.len() + 1,
                                team,
                                ships,
                                price,
                            });
                        }
                    }
                    other => return Err(wrong_kind(team, y, RequestKind::Offer, &other)),
                }
            }
            if board.offers.is_empty() {
                continue;
            }
            let question = AcceptQuestion {
                round,
                offers: board.offers.clone(),
            };
            let buyers: Vec<usize> = (0..teams)
                .filter(|t| !question.choices(*t).is_empty())
                .collect();
            let all = observations(m, &state, &board);
            let obs: Vec<Observation> = buyers.iter().map(|t| all[*t].clone()).collect();
            let requests = vec![Request::Accept(question.clone()); buyers.len()];
            let answers = ask_some(agents, &buyers, &obs, &requests).await?;
            let mut takes: Vec<(usize, Vec<usize>)> = Vec::new();
            for (&team, answer) in buyers.iter().zip(answers) {
                match answer.response {
                    Response::Accept(_) if answer.fallback => {}
                    Response::Accept(numbers) => {
                        events.push(Event::Accept {
                            year: y,
                            round,
                            team,
                            offers: numbers.clone(),
                        });
                        takes.push((team, numbers));
                    }
                    other => return Err(wrong_kind(team, y, RequestKind::Accept, &other)),
                }
            }
            // Buyers in an order drawn from the market stream; an offer goes to the
            // first buyer who takes it.
            takes.shuffle(rng);
            let mut open: Vec<bool> = vec![true; board.offers.len()];
            let mut ex = Exchange {
                ships: vec![0; teams],
                money: vec![0; teams],
            };
            for (buyer, numbers) in takes {
                for n in numbers {
                    let Some(i) = n.checked_sub(1).filter(|i| *i < open.len()) else {
                        continue;
                    };
                    let offer = board.offers[i];
                    if !open[i] || offer.team == buyer {
                        continue;
                    }
                    open[i] = false;
                    let money = offer.ships as i64 * offer.price;
                    ex.ships[offer.team] -= offer.ships as i64;
                    ex.ships[buyer] += offer.ships as i64;
                    ex.money[offer.team] += money;
                    ex.money[buyer] -= money;
                    per_team[offer.team].trade_ships -= offer.ships as i64;
                    per_team[offer.team].trade_money += money;
                    per_team[buyer].trade_ships += offer.ships as i64;
                    per_team[buyer].trade_money -= money;
                    let trade = TradeItem {
                        seller: offer.team,
                        buyer,
                        ships: offer.ships,
                        price: offer.price,
                    };
                    events.push(Event::Trade {
                        year: y,
                        round,
                        seller: trade.seller,
                        buyer,
                        ships: trade.ships,
                        price: trade.price,
                    });
                    board.trades.push(trade);
                }
            }
            state = exchange(&state, &ex);
        }
        board.offers.clear();
    }
    Ok(MarketYear {
        state,
        board,
        teams: per_team,
    })
}
