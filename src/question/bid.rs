//! `bid`: a bid in the game master's ship auction (the ship market, `[game.market]`), and
//! the auction's result as the board shows it.

use super::field::Checked;
use super::quote::data_block;
use super::{team_name, Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Bid for some of the `ships` the game master sells this year, at a price per ship of
/// at most `max_price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidQuestion {
    pub ships: u32,
    pub max_price: i64,
}

impl BidQuestion {
    pub(super) fn sample() -> BidQuestion {
        BidQuestion {
            ships: 4,
            max_price: 3000,
        }
    }
}

impl Question for BidQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Bid
    }

    fn fields(&self, _obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        vec![
            FieldSpec::integer("ships", 0, self.ships as i64),
            FieldSpec::integer("price", 0, self.max_price),
        ]
    }

    fn ask(&self, _obs: &Observation) -> String {
        format!(
            "The game master auctions {} ships before this year's decisions; ships won arrive at once and can fish this year. Bid: how many you want (`ships`, 0 to {}; 0 is no bid) and the price you pay per ship (`price`, $0 to ${}). The highest prices win; each winner pays its own price for every ship it wins, and that money leaves the game.",
            self.ships, self.ships, self.max_price
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Bid {
            ships: a.int("ships") as u32,
            price: a.int("price"),
        })
    }

    /// No bid.
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Bid { ships: 0, price: 0 }
    }
}

/// Ships a team won at this year's auction, and the price per ship it paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionWin {
    pub team: usize,
    pub ships: u32,
    pub price: i64,
}

/// This year's auction result.
pub(super) fn render_auction(out: &mut String, sold: u32, wins: &[AuctionWin]) {
    out.push_str(&format!("Ships auctioned this year: {sold}\n"));
    data_block(
        out,
        "Won at the auction (each winner paid its own price per ship):",
        wins.iter()
            .map(|w| json!({"team": team_name(w.team), "ships": w.ships, "price": w.price})),
    );
}
