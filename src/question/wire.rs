//! The typed facts of a question as an agent outside the harness receives them (the
//! `fishbanks.remote/1` payload of a remote agent, an MCP client or a person's page):
//! the harness's own types, with every team number counted from 1, as prompts and
//! answers count them. Inside the harness a team is an index from 0; an agent that read
//! `from: 0` next to "you are team 1" would vote for the wrong team with a valid answer.
//!
//! The renumbering names every field of the observation and of a request that holds a
//! team (a test fills each with team 0 and finds none left), so a new field of that kind
//! is caught by the test, never sent from 0. The observation is renumbered as its own
//! type and serialized once, straight into the payload: no `Value` tree is built for the
//! largest part of every remote question.

use serde_json::Value;

use super::{Observation, Request, TacSource};

/// The observation as the payload carries it: team numbers from 1.
pub fn observation(obs: &Observation) -> Observation {
    let mut o = obs.clone();
    o.own.team += 1;
    let b = &mut o.board;
    for m in b.messages.iter_mut().chain(&mut b.earlier_messages) {
        m.from += 1;
        m.to.iter_mut().for_each(|t| *t += 1);
    }
    for i in b.intentions.iter_mut().chain(&mut b.earlier_intentions) {
        i.team += 1;
    }
    for e in b.ledger.iter_mut().chain(&mut b.actions) {
        e.team += 1;
    }
    for l in &mut b.lessons {
        l.team += 1;
    }
    // `[team, pledge]` pairs.
    for (team, _) in &mut b.pledges {
        *team += 1;
    }
    for s in &mut b.sanctions_last_year {
        s.from += 1;
        s.to += 1;
    }
    if let Some(q) = &mut b.quota {
        for v in &mut q.violations_last_year {
            v.team += 1;
        }
        if let TacSource::Leader(t) = &mut q.set_by {
            *t += 1;
        }
    }
    if let Some(l) = &mut b.leader {
        if let Some(t) = &mut l.leader {
            *t += 1;
        }
        for a in &mut l.agendas {
            a.team += 1;
        }
        // `[team, votes]` pairs.
        for (team, _) in &mut l.votes {
            *team += 1;
        }
    }
    if let Some(m) = &mut b.market {
        for w in &mut m.auction {
            w.team += 1;
        }
        for o in &mut m.offers {
            o.team += 1;
        }
        for t in &mut m.trades {
            t.seller += 1;
            t.buyer += 1;
        }
    }
    o
}

/// A request's own fields as the payload carries them (`{}` for a question without
/// fields of its own): team numbers from 1.
pub fn request(request: &Request) -> Value {
    // `Request` is an enum tagged by its variant: the kind is named apart, so the request
    // carries only the variant's fields.
    let mut inner = match serde_json::to_value(request) {
        Ok(Value::Object(mut m)) if m.len() == 1 => m
            .values_mut()
            .next()
            .map(std::mem::take)
            .filter(Value::is_object)
            .unwrap_or_else(|| Value::Object(Default::default())),
        Ok(_) | Err(_) => Value::Object(Default::default()),
    };
    // A ballot's candidates; an accept's offers name the team that offers.
    if let Some(list) = inner.get_mut("candidates").and_then(Value::as_array_mut) {
        list.iter_mut().for_each(plus_one);
    }
    if let Some(list) = inner.get_mut("offers").and_then(Value::as_array_mut) {
        for offer in list {
            if let Some(team) = offer.get_mut("team") {
                plus_one(team);
            }
        }
    }
    inner
}

/// Adds one to a team index (a number); anything else is left as it is.
fn plus_one(v: &mut Value) {
    if let Some(n) = v.as_u64() {
        *v = Value::from(n + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Decision, GameParams};
    use crate::question::*;

    /// Every part of the board filled, every team index 0.
    fn everything_from_team_0() -> Observation {
        let mut o = Observation::sample(&GameParams::default(), 6, 10, 3);
        o.own.team = 0;
        let message = Message {
            year: 2,
            from: 0,
            round: 1,
            to: vec![0],
            text: "hi".into(),
        };
        let plan = Decision {
            order: 1,
            deep: 2,
            coast: 1,
        };
        let intention = PublishedIntention {
            year: 2,
            team: 0,
            round: 1,
            intention: Intention {
                plan,
                reasoning: "r".into(),
                sensitivities: None,
            },
        };
        let entry = LedgerEntry {
            year: 2,
            team: 0,
            pledge: Some(Pledge {
                order: 1,
                deep: 2,
                coast: 1,
            }),
            order: 1,
            deep: 2,
            coast: 1,
            catch: 50,
            violation: false,
        };
        let b = &mut o.board;
        b.messages = vec![message.clone()];
        b.earlier_messages = vec![message];
        b.intentions = vec![intention.clone()];
        b.earlier_intentions = vec![intention];
        b.quota = Some(QuotaBoard {
            proposals: Some(vec![Some(800), None]),
            median: Some(800),
            tac: Some(800),
            my_quota: Some(133),
            binding: true,
            violations_last_year: vec![QuotaViolation {
                year: 2,
                team: 0,
                quota: 100,
                catch: 120,
            }],
            set_by: TacSource::Leader(0),
        });
        b.pledges = vec![(
            0,
            Pledge {
                order: 1,
                deep: 2,
                coast: 1,
            },
        )];
        b.ledger = vec![entry.clone()];
        b.actions = vec![entry];
        b.sanctions_last_year = vec![SanctionRecord {
            year: 2,
            from: 0,
            to: 0,
            cost: 30,
            fine: 90,
        }];
        b.leader = Some(LeaderBoard {
            leader: Some(0),
            elected: Some((2, 2)),
            agendas: vec![Agenda {
                team: 0,
                text: "a".into(),
            }],
            votes: vec![(0, 3)],
            report: Some(700),
        });
        b.lessons = vec![Lesson {
            generation: 1,
            team: 0,
            text: "l".into(),
        }];
        b.market = Some(MarketBoard {
            auctioned: 2,
            auction: vec![AuctionWin {
                team: 0,
                ships: 1,
                price: 300,
            }],
            offers: vec![OfferItem {
                number: 1,
                team: 0,
                ships: 1,
                price: 300,
            }],
            trades: vec![TradeItem {
                seller: 0,
                buyer: 0,
                ships: 1,
                price: 300,
            }],
        });
        o
    }

    /// Keys that hold a team wherever they appear, and pairs whose first item is one.
    const TEAM_KEYS: [&str; 8] = [
        "team",
        "from",
        "to",
        "seller",
        "buyer",
        "leader",
        "candidates",
        "set_by",
    ];

    /// Every team number left in `v`: a 0 under a team key or first in a pair list.
    fn zeros(v: &Value, key: Option<&str>, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    zeros(x, Some(k), out);
                }
            }
            Value::Array(items) => {
                let pairs = matches!(key, Some("pledges" | "votes"));
                for x in items {
                    if pairs {
                        if x.get(0) == Some(&Value::from(0)) {
                            out.push(format!("{key:?}: {x}"));
                        }
                    } else {
                        zeros(x, key, out);
                    }
                }
            }
            Value::Number(n)
                if n.as_u64() == Some(0) && key.is_some_and(|k| TEAM_KEYS.contains(&k)) =>
            {
                out.push(format!("{key:?}"));
            }
            _ => {}
        }
    }

    #[test]
    fn every_team_number_of_the_payload_counts_from_1() {
        let o = everything_from_team_0();
        let plain = serde_json::to_value(&o).unwrap();
        let mut before = Vec::new();
        zeros(&plain, None, &mut before);
        assert!(
            before.len() >= 20,
            "the sample names team 0 everywhere: {before:?}"
        );
        let wired = serde_json::to_value(observation(&o)).unwrap();
        let mut left = Vec::new();
        zeros(&wired, None, &mut left);
        assert!(left.is_empty(), "team numbers still from 0: {left:?}");
        assert_eq!(wired["own"]["team"], 1);
        assert_eq!(wired["board"]["messages"][0]["to"], serde_json::json!([1]));
        assert_eq!(wired["board"]["pledges"][0][0], 1);
        assert_eq!(wired["board"]["leader"]["votes"][0][0], 1);
        assert_eq!(wired["board"]["quota"]["set_by"]["leader"], 1);
        // Counts and numbers that are no team stay as they are.
        assert_eq!(wired["public"]["teams"], 6);
        assert_eq!(wired["board"]["market"]["offers"][0]["number"], 1);
        assert_eq!(
            wired["board"]["quota"]["proposals"],
            serde_json::json!([800, null])
        );

        let ballot = Request::Ballot(BallotQuestion {
            candidates: vec![0, 3],
            self_vote: false,
            term_years: 1,
        });
        assert_eq!(request(&ballot)["candidates"], serde_json::json!([1, 4]));
        let accept = Request::Accept(AcceptQuestion {
            round: 1,
            offers: vec![OfferItem {
                number: 1,
                team: 0,
                ships: 2,
                price: 300,
            }],
        });
        let wired = request(&accept);
        assert_eq!(wired["offers"][0]["team"], 1);
        assert_eq!(wired["offers"][0]["number"], 1);
        assert_eq!(request(&Request::decision()), serde_json::json!({}));
        let mut left = Vec::new();
        zeros(&request(&ballot), None, &mut left);
        zeros(&wired, None, &mut left);
        assert!(left.is_empty(), "{left:?}");
    }
}
