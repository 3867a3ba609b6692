//! `accept`: which offers of ships a team takes in a trade round (the ship market).

use super::field::Checked;
use super::offer::OfferItem;
use super::{Fallback, FieldSpec, Limits, Observation, Question, RequestKind, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Take some of this round's `offers` (each whole; never one's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptQuestion {
    pub round: u32,
    pub offers: Vec<OfferItem>,
}

impl AcceptQuestion {
    /// The offers this team may take, by number.
    pub fn choices(&self, me: usize) -> Vec<i64> {
        self.offers
            .iter()
            .filter(|o| o.team != me)
            .map(|o| o.number as i64)
            .collect()
    }

    pub(super) fn sample() -> AcceptQuestion {
        AcceptQuestion {
            round: 1,
            offers: (1..6)
                .map(|t| OfferItem {
                    number: t,
                    team: t,
                    ships: 1,
                    price: 300,
                })
                .collect(),
        }
    }
}

impl Question for AcceptQuestion {
    fn kind(&self) -> RequestKind {
        RequestKind::Accept
    }

    fn round(&self) -> u32 {
        self.round
    }

    fn fields(&self, obs: &Observation, _limits: Limits) -> Vec<FieldSpec> {
        let choices = self.choices(obs.own.team);
        let n = choices.len();
        vec![FieldSpec::set("take", "offer", choices, n)]
    }

    fn ask(&self, _obs: &Observation) -> String {
        format!(
            "Round {} of ship trades: the offers are on the board. In `take`, mark each offer you take `true` and the others `false` (each offer whole; all `false` takes none). You pay the seller its price per ship at once, and the ships are yours at once. An offer another team took first is gone.",
            self.round
        )
    }

    fn read(
        &self,
        answer: &Map<String, Value>,
        obs: &Observation,
        limits: Limits,
    ) -> Result<Response, String> {
        let a = Checked::new(answer, &self.fields(obs, limits))?;
        Ok(Response::Accept(
            a.set("take").into_iter().map(|n| n as usize).collect(),
        ))
    }

    /// Nothing taken.
    fn fallback(&self, _obs: &Observation, _fallback: Fallback) -> Response {
        Response::Accept(Vec::new())
    }
}
