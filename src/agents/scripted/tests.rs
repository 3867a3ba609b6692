use super::*;
use crate::engine::{State, Team};
use crate::game::observe;
use crate::question::{LedgerEntry, QuotaBoard};
use rand::SeedableRng;

fn agent(strategy: Strategy, seed: u64) -> ScriptedAgent {
    ScriptedAgent::new(
        strategy,
        Arc::new(GameParams::default()),
        ChaCha8Rng::seed_from_u64(seed),
        0.0,
    )
}

fn first_obs() -> Observation {
    let params = GameParams::default();
    observe(&params, &State::initial(&params, 6), None, 0, 1, 20)
}

/// The TAC put to the vote on an observation's quota board.
fn median(obs: &Observation) -> i64 {
    obs.board.quota.as_ref().and_then(|q| q.median).unwrap_or(0)
}

#[test]
fn greedy_orders_the_limit_and_fishes_the_richer_deep_sea() {
    let d = agent(Strategy::Greedy, 1).decide(&first_obs());
    assert_eq!(
        d,
        Decision {
            order: 2,
            deep: 4,
            coast: 0
        }
    );
}

#[test]
fn greedy_moves_to_the_coast_and_then_the_harbor_as_stocks_fall() {
    let mut obs = first_obs();
    obs.public.density = Some([0.2, 0.8]);
    // Deep: 10 fish · $20 − $250 < 0; coast: 15 · 20 − 150 = 150.
    let d = agent(Strategy::Greedy, 1).decide(&obs);
    assert_eq!(
        d,
        Decision {
            order: 2,
            deep: 0,
            coast: 4
        }
    );
    obs.public.density = Some([0.05, 0.05]);
    // Deep: 2.5 · 20 − 250 = −200; coast 1.5 · 20 − 150 = −120: both lose more than the
    // harbor's $50, and nothing is profitable enough to order.
    let d = agent(Strategy::Greedy, 1).decide(&obs);
    assert_eq!(
        d,
        Decision {
            order: 0,
            deep: 0,
            coast: 0
        }
    );
}

#[test]
fn fixed_keeps_the_initial_deployment() {
    let d = agent(Strategy::Fixed, 1).decide(&first_obs());
    assert_eq!(
        d,
        Decision {
            order: 0,
            deep: 3,
            coast: 1
        }
    );
}

#[test]
fn sustainable_aims_at_an_equal_share_of_the_sustainable_fleet() {
    let mut obs = first_obs();
    // 22 ships per area / 6 teams = 3.67 → 3 each, 6 in all: order 2 of 4 ships.
    let d = agent(Strategy::Sustainable, 1).decide(&obs);
    assert_eq!(
        d,
        Decision {
            order: 2,
            deep: 3,
            coast: 1
        }
    );
    obs.own.ships = 6;
    let d = agent(Strategy::Sustainable, 1).decide(&obs);
    assert_eq!(
        d,
        Decision {
            order: 0,
            deep: 3,
            coast: 3
        }
    );
    // Below the most productive density it fishes less, so the area can recover.
    obs.public.density = Some([0.3, 0.6]);
    let d = agent(Strategy::Sustainable, 1).decide(&obs);
    assert_eq!(d.deep, 0);
    assert_eq!(d.coast, 3);
}

#[test]
fn random_is_valid_and_reproducible_from_its_seed() {
    let obs = first_obs();
    let play = |seed| {
        let mut a = agent(Strategy::Random, seed);
        (0..20).map(|_| a.decide(&obs)).collect::<Vec<_>>()
    };
    let a = play(5);
    assert_eq!(a, play(5));
    assert_ne!(a, play(6));
    for d in a {
        assert!(
            d.order >= 0 && d.order <= 2 && d.deep >= 0 && d.coast >= 0 && d.deep + d.coast <= 4
        );
    }
}

#[test]
fn tremble_replaces_some_decisions_by_random_ones() {
    let obs = first_obs();
    let mut a = ScriptedAgent::new(
        Strategy::Fixed,
        Arc::new(GameParams::default()),
        ChaCha8Rng::seed_from_u64(3),
        0.5,
    );
    let decisions: Vec<Decision> = (0..40).map(|_| a.decide(&obs)).collect();
    let planned = Decision {
        order: 0,
        deep: 3,
        coast: 1,
    };
    let off = decisions.iter().filter(|d| **d != planned).count();
    assert!(off > 5 && off < 35, "{off} of 40 trembled");
}

#[test]
fn quota_follower_deploys_just_enough_ships_for_its_quota() {
    let mut obs = first_obs();
    obs.board.quota = Some(QuotaBoard {
        my_quota: Some(60),
        tac: Some(360),
        binding: true,
        ..QuotaBoard::default()
    });
    let d = agent(Strategy::QuotaFollower, 1).decide(&obs);
    // The quota is split by sustainable yield, 550 : 330: 37.5 fish in the deep sea at 25
    // per ship → 1 ship; 22.5 on the coast at 15 per ship → 1 ship.
    assert_eq!(
        d,
        Decision {
            order: 0,
            deep: 1,
            coast: 1
        }
    );
}

#[test]
fn quota_follower_keeps_its_pledge() {
    let obs = first_obs();
    let mut a = agent(Strategy::QuotaFollower, 1);
    let p = a.pledge(&obs);
    let d = a.decide(&obs);
    assert_eq!((d.order, d.deep, d.coast), (p.order, p.deep, p.coast));
}

#[test]
fn reciprocal_turns_greedy_when_others_break_pledges() {
    let mut obs = first_obs();
    let calm = agent(Strategy::Reciprocal, 1).decide(&obs);
    assert_eq!(calm, agent(Strategy::Sustainable, 1).decide(&obs));
    obs.public.year = 2;
    obs.board.ledger.push(LedgerEntry {
        year: 1,
        team: 4,
        pledge: Some(Pledge::default()),
        order: 2,
        deep: 4,
        coast: 0,
        catch: 100,
        violation: true,
    });
    let angry = agent(Strategy::Reciprocal, 1).decide(&obs);
    assert_eq!(angry, agent(Strategy::Greedy, 1).decide(&obs));
}

#[test]
fn reciprocal_turns_greedy_when_the_others_fleet_is_too_large() {
    let params = GameParams::default();
    let mut state = State::initial(&params, 6);
    state.teams = vec![Team { ships: 12, bank: 0 }; 6];
    let mut obs = observe(&params, &state, None, 0, 2, 20);
    // Others: 5 teams · 12 ships at sea = 60 > 44 · 5/6 · 1.1.
    obs.public.fleet = [60 + 3, 1, 0];
    let d = agent(Strategy::Reciprocal, 1).decide(&obs);
    assert_eq!(d, agent(Strategy::Greedy, 1).decide(&obs));
}

#[test]
fn every_strategy_answers_every_request() {
    let mut obs = first_obs();
    obs.board.quota = Some(QuotaBoard {
        median: Some(900),
        ..QuotaBoard::default()
    });
    for strategy in Strategy::ALL {
        let mut a = agent(strategy, 9);
        let message = a.message(&obs, 600);
        assert!(message.starts_with("Team 1"), "{strategy:?}: {message}");
        assert!(a.message(&obs, 5).chars().count() <= 5);
        let i = a.intention(&obs, 40, Some(0.1));
        assert!(i.reasoning.chars().count() <= 40);
        assert!(i.plan.deep + i.plan.coast <= 4, "{strategy:?}");
        assert!(i.sensitivities.is_some());
        assert!(a.sanction(&obs, 10, 5).len() <= 5);
        assert!(a.propose(&obs) >= 0);
        let vote = a.vote(&obs, median(&obs));
        assert!(!vote.reason.is_empty());
        let p = a.pledge(&obs);
        assert!(p.deep + p.coast <= 4);
        a.decide(&obs);
        assert!(a.report(&obs, 80) <= 80);
    }
}

#[test]
fn votes_follow_each_strategys_interest() {
    let mut obs = first_obs();
    // A TAC of 300 gives 50 fish each, below the 100 a greedy fleet of 4 can catch.
    obs.board.quota = Some(QuotaBoard {
        median: Some(300),
        ..QuotaBoard::default()
    });
    assert!(!agent(Strategy::Greedy, 1).vote(&obs, median(&obs)).accept);
    assert!(
        agent(Strategy::Sustainable, 1)
            .vote(&obs, median(&obs))
            .accept
    );
    assert!(
        agent(Strategy::QuotaFollower, 1)
            .vote(&obs, median(&obs))
            .accept
    );
    obs.board.quota = Some(QuotaBoard {
        median: Some(5000),
        ..QuotaBoard::default()
    });
    assert!(agent(Strategy::Greedy, 1).vote(&obs, median(&obs)).accept);
    assert!(
        !agent(Strategy::Sustainable, 1)
            .vote(&obs, median(&obs))
            .accept
    );
}
