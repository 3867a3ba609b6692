//! `offer`: ships a team offers to the others at an asking price (the ship market's
//! trades); and this year's offers and trades as the board shows them.

use super::bid::{render_auction, AuctionWin};
use super::field::Checked;
use super::quote::data_block;
use super::{team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Title of the offers block (the mock model reads it back).
pub const OFFERS_TITLE: &str = "# Ships offered this round (the harness sets `team`)";

/// Offer some of this team's ships in trade round `round` at a price per ship of at most
/// `max_price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferQuestion {
    pub round: u32,
    pub max_price: i64,
}

impl OfferQuestion {
    pub(super) fn sample() -> OfferQuestion {
        OfferQuestion {
            round: 1,
            max_price: 3000,
        }
    }
}

impl Question for OfferQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Offer
    }

    fn round(&self) -> u32 {
        self.round
    }

    fn fields(&self, obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        vec![
            FieldSpec::integer("ships", 0, obs.own.ships as i64),
            FieldSpec::integer("price", 0, self.max_price),
        ]
    }

    fn ask(&self, obs: &Observation) -> String {
        format!(
            "Round {} of ship trades, before this year's decisions: you may offer some of your ships to the other teams (`ships`, 0 to your {}; 0 is no offer) at a price per ship (`price`, $0 to ${}). Another team may take the whole offer; the ships and the money change hands at once.",
            self.round, obs.own.ships, self.max_price
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Offer {
            ships: a.int("ships") as u32,
            price: a.int("price"),
        })
    }

    /// No offer.
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Offer { ships: 0, price: 0 }
    }
}

/// An offer on the board: its number (from 1, what `accept` lists), who offers, how many
/// ships, at what price per ship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferItem {
    pub number: usize,
    pub team: usize,
    pub ships: u32,
    pub price: i64,
}

/// A trade done: `ships` from `seller` to `buyer` at `price` per ship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeItem {
    pub seller: usize,
    pub buyer: usize,
    pub ships: u32,
    pub price: i64,
}

/// The ship market as everyone sees it this year.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MarketBoard {
    /// Ships auctioned this year (0: no auction).
    pub auctioned: u32,
    pub auction: Vec<AuctionWin>,
    /// The offers of the current trade round.
    pub offers: Vec<OfferItem>,
    /// The trades done this year so far.
    pub trades: Vec<TradeItem>,
}

/// The market's section of the board.
pub(super) fn render_market(out: &mut String, m: &MarketBoard) {
    out.push_str("# Ship market\n");
    if m.auctioned > 0 {
        render_auction(out, m.auctioned, &m.auction);
    }
    data_block(
        out,
        OFFERS_TITLE,
        m.offers.iter().map(|o| {
            json!({"offer": o.number, "team": team_name(o.team), "ships": o.ships, "price": o.price})
        }),
    );
    data_block(
        out,
        "Trades this year:",
        m.trades.iter().map(|t| {
            json!({"seller": team_name(t.seller), "buyer": team_name(t.buyer), "ships": t.ships, "price": t.price})
        }),
    );
}
