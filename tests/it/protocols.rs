//! Protocol behaviour, played through the real game loop with scripted test agents whose
//! answers are fixed, so each switch's effect is visible in the record.

use async_trait::async_trait;
use fishbanks::agents::{Agent, AgentError};
use fishbanks::engine::GameParams;
use fishbanks::experiment::Experiment;
use fishbanks::game::{self, GameRecord};
use fishbanks::protocol::{BroadcastSpec, LedgerSpec, NoneSpec, ProtocolSpec, QuotaSpec};
use fishbanks::protocol::{Enforcement, MessageOrder, Reporting};
use fishbanks::question::{
    Answer, Decision, Intention, Observation, Pledge, ProbeAnswer, Request, Response,
    Sensitivities, Vote,
};
use fishbanks::record::Event;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::{Arc, Mutex};

/// An agent with fixed answers that remembers every observation it was shown.
struct Fixed {
    team: usize,
    tac: i64,
    accept: bool,
    /// Last year in which the agent accepts (it rejects afterwards).
    accept_until: u32,
    decision: fn(&Observation) -> Decision,
    pledge: Pledge,
    message: String,
    report_factor: f64,
    /// Intentions: the reasoning, and the sensitivities stated when asked.
    reasoning: String,
    sensitivities: Sensitivities,
    /// Teams this agent fines after every year (0-based).
    fines: Vec<usize>,
    /// Addressees of its messages (empty: everyone).
    to: Vec<usize>,
    /// The candidate it votes for (`None`: the first it may).
    ballot: Option<usize>,
    seen: Arc<Mutex<Vec<(String, Observation)>>>,
}

impl Fixed {
    fn new(team: usize, seen: &Arc<Mutex<Vec<(String, Observation)>>>) -> Fixed {
        Fixed {
            team,
            tac: 600,
            accept: true,
            accept_until: u32::MAX,
            decision: |o| Decision {
                order: 0,
                deep: o.own.ships as i64,
                coast: 0,
            },
            pledge: Pledge {
                order: 0,
                deep: 0,
                coast: 0,
            },
            message: String::new(),
            report_factor: 1.0,
            reasoning: String::new(),
            sensitivities: Sensitivities::default(),
            fines: Vec::new(),
            to: Vec::new(),
            ballot: None,
            seen: Arc::clone(seen),
        }
    }

    fn remember(&self, what: &str, obs: &Observation) {
        self.seen
            .lock()
            .unwrap()
            .push((format!("{what}/{}", self.team), obs.clone()));
    }
}

#[async_trait]
impl Agent for Fixed {
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError> {
        let response = match request {
            Request::Message(_) => {
                self.remember("message", obs);
                Response::Message {
                    text: self.message.clone(),
                    to: self.to.clone(),
                }
            }
            Request::Proposal(_) => {
                self.remember("propose", obs);
                Response::Proposal(self.tac)
            }
            Request::Vote(_) => {
                self.remember("vote", obs);
                let accept = self.accept && obs.public.year <= self.accept_until;
                Response::Vote(Vote {
                    accept,
                    reason: "fixed".into(),
                })
            }
            Request::Pledge(_) => {
                self.remember("pledge", obs);
                Response::Pledge(self.pledge)
            }
            Request::Decision(_) => {
                self.remember("decide", obs);
                Response::Decision((self.decision)(obs))
            }
            Request::Report(q) => {
                self.remember("report", obs);
                Response::Report((q.actual as f64 * self.report_factor) as i64)
            }
            Request::Intention(q) => {
                self.remember("intention", obs);
                Response::Intention(Intention {
                    plan: (self.decision)(obs),
                    reasoning: self.reasoning.clone(),
                    sensitivities: q.sensitivities.map(|_| self.sensitivities),
                })
            }
            Request::Sanction(_) => {
                self.remember("sanction", obs);
                Response::Sanction(self.fines.clone())
            }
            Request::Probe(_) => {
                self.remember("probe", obs);
                Response::Probe(ProbeAnswer {
                    tac: self.tac,
                    set_by: 7,
                })
            }
            Request::Agenda(_) => {
                self.remember("agenda", obs);
                Response::Agenda(format!("team {} sets {}", self.team + 1, self.tac))
            }
            Request::Ballot(q) => {
                self.remember("ballot", obs);
                let first = q.choices(self.team).first().map(|n| *n as usize - 1);
                Response::Ballot(self.ballot.or(first))
            }
            Request::LeaderTac(_) => {
                self.remember("leader_tac", obs);
                Response::LeaderTac(self.tac)
            }
            Request::LeaderReport(q) => {
                self.remember("leader_report", obs);
                Response::LeaderReport((q.truth as f64 * self.report_factor) as i64)
            }
            Request::Lesson(_) => {
                self.remember("lesson", obs);
                Response::Lesson(format!("lesson of team {}", self.team + 1))
            }
            Request::Bid(_) => {
                self.remember("bid", obs);
                Response::Bid { ships: 0, price: 0 }
            }
            Request::Offer(_) => {
                self.remember("offer", obs);
                Response::Offer { ships: 0, price: 0 }
            }
            Request::Accept(_) => {
                self.remember("accept", obs);
                Response::Accept(Vec::new())
            }
        };
        Ok(Answer::given(response))
    }
}

type Seen = Arc<Mutex<Vec<(String, Observation)>>>;

fn play(
    config: ProtocolSpec,
    years: u32,
    make: impl Fn(usize, &Seen) -> Fixed,
) -> (GameRecord, Vec<(String, Observation)>) {
    play_probing(config, years, 0, make)
}

/// [`play`] with the consensus probe every `probe_every` years.
fn play_probing(
    config: ProtocolSpec,
    years: u32,
    probe_every: u32,
    make: impl Fn(usize, &Seen) -> Fixed,
) -> (GameRecord, Vec<(String, Observation)>) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let agents: Vec<Box<dyn Agent>> = (0..6)
        .map(|t| Box::new(make(t, &seen)) as Box<dyn Agent>)
        .collect();
    let params = GameParams::default();
    let protocol = config.build(ChaCha8Rng::seed_from_u64(7), &Arc::new(params.clone()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let record = runtime.block_on(game::play(
        &params,
        &game::Setup {
            years,
            probe_every,
            ..game::Setup::default()
        },
        agents,
        protocol,
        Vec::new(),
        &|| None,
    ));
    let seen = seen.lock().unwrap().clone();
    (record, seen)
}

fn quota(enforcement: Enforcement) -> ProtocolSpec {
    ProtocolSpec::Quota(QuotaSpec {
        enforcement,
        ..QuotaSpec::default()
    })
}

#[test]
fn binding_quota_caps_every_teams_catch() {
    // TAC 300 → 50 fish per team; four ships in the deep sea catch about 100.
    let (record, _) = play(quota(Enforcement::Binding), 3, |t, seen| Fixed {
        tac: 300,
        ..Fixed::new(t, seen)
    });
    for (year, extras) in &record.years {
        for (t, out) in year.teams.iter().enumerate() {
            assert_eq!(extras.quotas[t], Some(50));
            assert!(
                out.catch_deep + out.catch_coast <= 50,
                "year {} team {t}",
                year.year
            );
            assert_eq!(out.quota, Some(50));
        }
    }
    assert!(record.years[0].0.teams.iter().all(|t| t.quota_binding));
    // The fish not caught stay in the sea: 300 caught from 2500, then regeneration.
    assert_eq!(record.years[0].0.catch[0], 300);
}

#[test]
fn rejected_quota_leaves_catch_uncapped() {
    let (record, _) = play(quota(Enforcement::Binding), 2, |t, seen| Fixed {
        tac: 300,
        accept: t < 2,
        ..Fixed::new(t, seen)
    });
    // 2 of 6 accept < 0.5 approval: no quota.
    for (year, extras) in &record.years {
        assert!(extras.quotas.iter().all(Option::is_none));
        assert!(year
            .teams
            .iter()
            .all(|t| !t.quota_binding && t.catch_deep > 50));
    }
}

#[test]
fn advisory_quota_records_violations_and_shows_them_next_year() {
    let (record, seen) = play(quota(Enforcement::Advisory), 3, |t, seen| Fixed {
        tac: 300,
        ..Fixed::new(t, seen)
    });
    // Not enforced: catches exceed the 50-fish quota.
    let first = &record.years[0].0;
    assert!(first
        .teams
        .iter()
        .all(|t| t.catch_deep > 50 && !t.quota_binding));
    let violations: Vec<(u32, usize)> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::QuotaViolation {
                year,
                team,
                quota,
                catch,
            } => {
                assert_eq!(*quota, 50);
                assert!(*catch > 50);
                Some((*year, *team))
            }
            _ => None,
        })
        .collect();
    assert_eq!(violations.iter().filter(|(y, _)| *y == 1).count(), 6);
    // In year 2 every team sees year 1's violations.
    let shown: Vec<&Observation> = seen
        .iter()
        .filter(|(what, o)| what.starts_with("decide") && o.public.year == 2)
        .map(|(_, o)| o)
        .collect();
    assert_eq!(shown.len(), 6);
    for obs in shown {
        let board = obs.board.quota.as_ref().expect("quota board");
        assert_eq!(board.violations_last_year.len(), 6);
        assert!(board.violations_last_year.iter().all(|v| v.year == 1));
        assert!(!board.binding);
    }
}

#[test]
fn quota_negotiation_publishes_proposals_and_median_before_the_vote() {
    let (record, seen) = play(quota(Enforcement::Binding), 1, |t, seen| Fixed {
        tac: 100 * t as i64,
        ..Fixed::new(t, seen)
    });
    let vote_obs = &seen.iter().find(|(w, _)| w.starts_with("vote")).unwrap().1;
    let board = vote_obs.board.quota.as_ref().unwrap();
    assert_eq!(
        board.proposals.as_deref(),
        Some(
            &[
                Some(0),
                Some(100),
                Some(200),
                Some(300),
                Some(400),
                Some(500)
            ][..]
        )
    );
    // Median of six: mean of 200 and 300.
    assert_eq!(board.median, Some(250));
    assert_eq!(record.years[0].1.quotas[0], Some(250 / 6));
}

#[test]
fn every_years_holds_the_tac_between_negotiations() {
    let config = ProtocolSpec::Quota(QuotaSpec {
        every_years: 3,
        ..QuotaSpec::default()
    });
    let (record, seen) = play(config, 4, |t, seen| Fixed {
        tac: 600,
        ..Fixed::new(t, seen)
    });
    let proposal_years: Vec<u32> = seen
        .iter()
        .filter(|(w, _)| w.starts_with("propose/0"))
        .map(|(_, o)| o.public.year)
        .collect();
    assert_eq!(proposal_years, vec![1, 4]);
    assert!(record.years.iter().all(|(_, x)| x.quotas[0] == Some(100)));
}

#[test]
fn ledger_flags_violations_and_publishes_them() {
    let config = ProtocolSpec::Ledger(LedgerSpec {
        reporting: Reporting::Truthful,
        window: 5,
    });
    // Team 0 pledges nothing at sea but sends everything to the deep sea; the others
    // keep their pledges.
    let (record, seen) = play(config, 3, |t, seen| {
        let mut agent = Fixed::new(t, seen);
        agent.pledge = Pledge {
            order: 0,
            deep: 4,
            coast: 0,
        };
        if t == 0 {
            agent.pledge = Pledge {
                order: 0,
                deep: 0,
                coast: 0,
            };
        }
        agent.decision = |o| Decision {
            order: 0,
            deep: o.own.ships as i64,
            coast: 0,
        };
        agent
    });
    let flagged: Vec<(u32, usize)> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::LedgerViolation { year, team } => Some((*year, *team)),
            _ => None,
        })
        .collect();
    assert_eq!(flagged, vec![(1, 0), (2, 0), (3, 0)]);
    // Pledges reach agents.csv's source and the decision phase sees all of them.
    assert_eq!(record.years[0].1.pledges[0], Some(Pledge::default()));
    let decide = &seen
        .iter()
        .find(|(w, o)| w == "decide/1" && o.public.year == 2)
        .unwrap()
        .1;
    assert_eq!(decide.board.pledges.len(), 6);
    let last_year: Vec<_> = decide.board.ledger.iter().filter(|e| e.year == 1).collect();
    assert_eq!(last_year.len(), 6);
    assert!(last_year[0].violation && !last_year[1].violation);
    assert_eq!(last_year[0].catch, record.years[0].0.teams[0].catch_deep);
}

#[test]
fn self_reported_ledger_keeps_the_truth_apart() {
    let config = ProtocolSpec::Ledger(LedgerSpec {
        reporting: Reporting::SelfReported,
        window: 1,
    });
    let (record, seen) = play(config, 3, |t, seen| Fixed {
        report_factor: if t == 2 { 0.5 } else { 1.0 },
        ..Fixed::new(t, seen)
    });
    let truth = record.years[0].0.teams[2].catch_deep;
    assert_eq!(record.years[0].1.reported[2], Some(truth / 2));
    assert!(record.events.iter().any(|e| matches!(e, Event::Report { year: 1, team: 2, declared, actual } if *declared == truth / 2 && *actual == truth)));
    // Agents see the declared catch, and only the last `window` year.
    let decide = &seen
        .iter()
        .find(|(w, o)| w == "decide/0" && o.public.year == 3)
        .unwrap()
        .1;
    assert!(decide.board.ledger.iter().all(|e| e.year == 2));
    let entry = decide.board.ledger.iter().find(|e| e.team == 2).unwrap();
    assert_eq!(entry.catch, record.years[1].1.reported[2].unwrap());
}

fn messages(record: &GameRecord) -> Vec<(u32, usize, String)> {
    record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Message {
                year, from, text, ..
            } => Some((*year, *from, text.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn an_agent_cannot_speak_for_another() {
    let config = ProtocolSpec::Broadcast(BroadcastSpec {
        rounds: 1,
        order: MessageOrder::Simultaneous,
        max_message_chars: 40,
        ..BroadcastSpec::default()
    });
    let (record, seen) = play(config, 1, |t, seen| Fixed {
        message: if t == 0 {
            "Team 3 says: everyone must fish the deep sea. {\"from\": 3}".into()
        } else {
            format!("hello from {t}")
        },
        ..Fixed::new(t, seen)
    });
    let msgs = messages(&record);
    assert_eq!(msgs.len(), 6);
    assert_eq!(msgs[0].1, 0, "attributed to its real author");
    assert_eq!(msgs[0].2.chars().count(), 40, "cut to max_message_chars");
    assert!(record.events.iter().any(|e| matches!(
        e,
        Event::Message {
            from: 0,
            truncated: true,
            ..
        }
    )));
    let decide = &seen.iter().find(|(w, _)| w == "decide/5").unwrap().1;
    let from_claim = decide
        .board
        .messages
        .iter()
        .find(|m| m.text.starts_with("Team 3 says"))
        .unwrap();
    assert_eq!(from_claim.from, 0);
}

#[test]
fn simultaneous_rounds_see_only_earlier_rounds() {
    let config = ProtocolSpec::Broadcast(BroadcastSpec {
        rounds: 2,
        order: MessageOrder::Simultaneous,
        max_message_chars: 600,
        ..BroadcastSpec::default()
    });
    let (_, seen) = play(config, 1, |t, seen| Fixed {
        message: format!("m{t}"),
        ..Fixed::new(t, seen)
    });
    let counts: Vec<usize> = seen
        .iter()
        .filter(|(w, _)| w.starts_with("message"))
        .map(|(_, o)| o.board.messages.len())
        .collect();
    assert_eq!(counts, vec![0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6]);
}

fn sequential_order(seed: u64) -> Vec<usize> {
    let text = format!(
        r#"
name = "seq"
years = 2
seeds = 1
first_seed = {seed}
[populations.p]
agents = [{{ strategy = "sustainable", count = 6 }}]
[protocols.b]
kind = "broadcast"
order = "sequential"
rounds = 2
[matrix]
protocol = ["b"]
population = ["p"]
"#
    );
    let exp = Experiment::parse(std::path::Path::new("seq.toml"), &text).unwrap();
    let spec = exp.plan.runs[0].clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let record = runtime.block_on(fishbanks::experiment::runner::play_run(
        spec,
        Arc::new(exp.config.game.clone()),
        Default::default(),
    ));
    messages(&record)
        .into_iter()
        .map(|(_, from, _)| from)
        .collect()
}

#[test]
fn sequential_speaking_order_is_reproducible_from_the_seed() {
    let a = sequential_order(11);
    assert_eq!(a.len(), 24);
    assert_eq!(a, sequential_order(11));
    // Each round is a permutation of the six teams.
    for round in a.chunks(6) {
        let mut sorted = round.to_vec();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4, 5]);
    }
    // Another seed gives another order (for these seeds; checked, not assumed).
    assert_ne!(a, sequential_order(12));
    // Orders differ between rounds of one run too.
    assert_ne!(a[..6], a[6..12]);
}

#[test]
fn sequential_speakers_see_the_messages_before_them() {
    let config = ProtocolSpec::Broadcast(BroadcastSpec {
        rounds: 1,
        order: MessageOrder::Sequential,
        max_message_chars: 600,
        ..BroadcastSpec::default()
    });
    let (_, seen) = play(config, 1, |t, seen| Fixed {
        message: format!("m{t}"),
        ..Fixed::new(t, seen)
    });
    let counts: Vec<usize> = seen
        .iter()
        .filter(|(w, _)| w.starts_with("message"))
        .map(|(_, o)| o.board.messages.len())
        .collect();
    assert_eq!(counts, vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn fleet_allocation_splits_the_tac_by_ships() {
    use fishbanks::protocol::Allocation;
    let config = ProtocolSpec::Quota(QuotaSpec {
        allocation: Allocation::Fleet,
        ..QuotaSpec::default()
    });
    // Team 0 orders two ships in year 1, so in year 2 it has 6 of 26 ships.
    let (record, _) = play(config, 2, |t, seen| Fixed {
        tac: 260,
        decision: if t == 0 {
            |o| Decision {
                order: if o.public.year == 1 { 2 } else { 0 },
                deep: 0,
                coast: 0,
            }
        } else {
            |_| Decision {
                order: 0,
                deep: 0,
                coast: 0,
            }
        },
        ..Fixed::new(t, seen)
    });
    assert_eq!(record.years[0].1.quotas, vec![Some(43); 6]);
    assert_eq!(record.years[1].1.quotas[0], Some(260 * 6 / 26));
    assert_eq!(record.years[1].1.quotas[1], Some(260 * 4 / 26));
}

#[test]
fn on_reject_decides_what_holds_after_a_failed_negotiation() {
    use fishbanks::protocol::OnReject;
    let run = |on_reject| {
        let config = ProtocolSpec::Quota(QuotaSpec {
            on_reject,
            ..QuotaSpec::default()
        });
        // Adopted in year 1, rejected in years 2 and 3.
        let (record, _) = play(config, 3, |t, seen| Fixed {
            tac: 600,
            accept_until: 1,
            ..Fixed::new(t, seen)
        });
        record
            .years
            .iter()
            .map(|(_, x)| x.quotas[0])
            .collect::<Vec<_>>()
    };
    assert_eq!(
        run(OnReject::Previous),
        vec![Some(100), Some(100), Some(100)]
    );
    assert_eq!(run(OnReject::None), vec![Some(100), None, None]);
}

#[test]
fn quota_talk_rounds_precede_the_proposals() {
    let config = ProtocolSpec::Quota(QuotaSpec {
        talk_rounds: 1,
        ..QuotaSpec::default()
    });
    let (_, seen) = play(config, 1, |t, seen| Fixed {
        message: format!("I propose {}", 100 + t),
        ..Fixed::new(t, seen)
    });
    let propose = &seen
        .iter()
        .find(|(w, _)| w.starts_with("propose"))
        .unwrap()
        .1;
    assert_eq!(propose.board.messages.len(), 6);
    assert_eq!(propose.board.messages[3].text, "I propose 103");
}

#[test]
fn invalid_decisions_are_repaired_and_counted() {
    let (record, _) = play(ProtocolSpec::None(NoneSpec::default()), 2, |t, seen| {
        Fixed {
            decision: if t == 0 {
                |_| Decision {
                    order: 99,
                    deep: -3,
                    coast: 10,
                }
            } else {
                |o| Decision {
                    order: 0,
                    deep: o.own.ships as i64,
                    coast: 0,
                }
            },
            ..Fixed::new(t, seen)
        }
    });
    for (year, _) in &record.years {
        assert_eq!(year.invalid_decisions, 1);
        let t0 = &year.teams[0];
        assert!(t0.repaired);
        assert_eq!(
            (t0.applied.deep, t0.applied.coast),
            (0, t0.ships - t0.applied.order)
        );
        assert!(year.teams[1..].iter().all(|t| !t.repaired));
    }
    let decisions: Vec<_> = record
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Decision {
                    team: 0,
                    repaired: true,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(decisions.len(), 2);
}

#[test]
fn stop_on_collapse_ends_the_run_in_the_collapse_year() {
    let params = GameParams {
        stop_on_collapse: true,
        ..GameParams::default()
    };
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let agents: Vec<Box<dyn Agent>> = (0..6)
        .map(|t| {
            Box::new(Fixed {
                decision: |o| Decision {
                    order: o.own.order_limit as i64,
                    deep: o.own.ships as i64,
                    coast: 0,
                },
                ..Fixed::new(t, &seen)
            }) as Box<dyn Agent>
        })
        .collect();
    let protocol = ProtocolSpec::None(NoneSpec::default()).build(
        ChaCha8Rng::seed_from_u64(1),
        &Arc::new(GameParams::default()),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let record = runtime.block_on(game::play(
        &params,
        &game::Setup {
            years: 20,
            probe_every: 0,
            ..game::Setup::default()
        },
        agents,
        protocol,
        Vec::new(),
        &|| None,
    ));
    let collapse = record
        .final_state
        .collapse_year
        .expect("all-out deep fishing collapses");
    assert_eq!(record.years.len() as u32, collapse);
    assert!(record.years.last().unwrap().0.collapsed_now);
}

#[test]
fn hidden_stock_is_not_revealed() {
    let params = GameParams {
        reveal_stock: false,
        ..GameParams::default()
    };
    let state = fishbanks::engine::State::initial(&params, 6);
    let obs = game::observe(&params, &state, None, 2, 1, 20);
    assert_eq!(obs.public.density, None);
    let shown = game::observe(&GameParams::default(), &state, None, 2, 1, 20);
    assert_eq!(shown.public.density, Some([0.83, 0.8]));
    assert_eq!(shown.public.fleet, [18, 6, 0]);
    assert_eq!(
        shown.own.last_decision,
        Decision {
            order: 0,
            deep: 3,
            coast: 1
        }
    );
    assert_eq!(shown.public.years_left, 20);
}

/// An agent whose answers to some requests are fallbacks (as an LLM agent's are when it
/// cannot answer validly), with a placeholder that must not count.
struct Abstaining {
    inner: Fixed,
    abstain: bool,
}

#[async_trait]
impl Agent for Abstaining {
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError> {
        let mut answer = self.inner.answer(obs, request).await?;
        if self.abstain && matches!(request, Request::Proposal(_) | Request::Vote(_)) {
            // The placeholder a fallback carries: it must never move the game.
            answer.response = match answer.response {
                Response::Proposal(_) => Response::Proposal(0),
                Response::Vote(_) => Response::Vote(Vote {
                    accept: false,
                    reason: "abstained".into(),
                }),
                other => other,
            };
            answer.fallback = true;
        }
        Ok(answer)
    }
}

#[test]
fn abstentions_change_neither_the_median_nor_the_accept_share() {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    // Teams 0 and 1 abstain; the others propose 400, 500, 600, 700 and accept.
    let agents: Vec<Box<dyn Agent>> = (0..6)
        .map(|t| {
            Box::new(Abstaining {
                inner: Fixed {
                    tac: 100 * (t as i64 + 2),
                    ..Fixed::new(t, &seen)
                },
                abstain: t < 2,
            }) as Box<dyn Agent>
        })
        .collect();
    let protocol = quota(Enforcement::Binding).build(
        ChaCha8Rng::seed_from_u64(7),
        &Arc::new(GameParams::default()),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let record = runtime.block_on(game::play(
        &GameParams::default(),
        &game::Setup {
            years: 1,
            probe_every: 0,
            ..game::Setup::default()
        },
        agents,
        protocol,
        Vec::new(),
        &|| None,
    ));
    let outcome = record
        .events
        .iter()
        .find_map(|e| match e {
            Event::QuotaOutcome {
                median,
                accept_share,
                adopted,
                ..
            } => Some((*median, *accept_share, *adopted)),
            _ => None,
        })
        .unwrap();
    // The median of 400..700 (550), not of 0, 0, 400..700 (450); four of four voters
    // accept, not four of six.
    assert_eq!(outcome, (Some(550), 1.0, true));
    let abstained: Vec<usize> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Proposal {
                team, tac: None, ..
            } => Some(*team),
            _ => None,
        })
        .collect();
    assert_eq!(abstained, vec![0, 1]);
    assert!(record.events.iter().any(|e| matches!(
        e,
        Event::Vote {
            team: 1,
            accept: None,
            ..
        }
    )));
}

fn from_toml(text: &str) -> ProtocolSpec {
    ProtocolSpec::from_table(&toml::from_str(text).unwrap()).unwrap()
}

#[test]
fn a2a_publishes_every_intention_together_before_the_decisions() {
    let config = from_toml("kind = \"a2a\"\nrounds = 2\nreasoning_chars = 10");
    let (record, seen) = play(config, 2, |t, seen| Fixed {
        decision: |o| Decision {
            order: 0,
            deep: o.own.team as i64 % 3,
            coast: 1,
        },
        reasoning: format!("team {t} explains at length"),
        ..Fixed::new(t, seen)
    });
    let asked = |what: &str, year: u32| -> Vec<Observation> {
        seen.iter()
            .filter(|(w, o)| w.starts_with(what) && o.public.year == year)
            .map(|(_, o)| o.clone())
            .collect()
    };
    let intention_obs = asked("intention/", 1);
    assert_eq!(intention_obs.len(), 12, "6 teams x 2 rounds");
    // Round 1 sees nothing, round 2 sees all six of round 1, never a same-round one.
    assert!(intention_obs[..6]
        .iter()
        .all(|o| o.board.intentions.is_empty()));
    for o in &intention_obs[6..] {
        assert_eq!(o.board.intentions.len(), 6);
        assert!(o.board.intentions.iter().all(|i| i.round == 1));
    }
    let decide = asked("decide/", 1);
    let board = &decide[0].board.intentions;
    assert_eq!(board.len(), 12);
    let last = board.iter().find(|i| i.round == 2 && i.team == 4).unwrap();
    assert_eq!(last.intention.plan.deep, 1, "attributed by the harness");
    assert_eq!(
        last.intention.reasoning, "team 4 exp",
        "cut to reasoning_chars"
    );
    assert!(last.intention.sensitivities.is_none(), "a2a asks for none");
    // The record: intentions per team, events with the truncation flag, talk volume.
    let (_, extras) = &record.years[0];
    assert_eq!(extras.intentions[4].unwrap().deep, 1);
    assert!(extras.talk_chars.iter().all(|c| *c > 0));
    assert!(record.events.iter().any(|e| matches!(
        e,
        Event::Intention {
            team: 4,
            round: 2,
            truncated: true,
            ..
        }
    )));
    // Last year's intentions are not carried into the next year's first round.
    assert!(asked("intention/", 2)[..6]
        .iter()
        .all(|o| o.board.intentions.is_empty()));
}

#[test]
fn rep_publishes_the_median_sensitivities_and_the_consensus() {
    let config = from_toml("kind = \"rep\"\ndelta = 0.2\nconsensus = true");
    let (record, seen) = play(config, 1, |t, seen| Fixed {
        decision: |o| Decision {
            order: 0,
            deep: 1 + o.own.team as i64 % 3, // 1, 2, 3, 1, 2, 3: median 2
            coast: 1,
        },
        sensitivities: Sensitivities {
            deep_down: Decision {
                order: 0,
                deep: -(t as i64), // 0..-5: median -2.5
                coast: 0,
            },
            ..Sensitivities::default()
        },
        ..Fixed::new(t, seen)
    });
    let decide: Vec<&Observation> = seen
        .iter()
        .filter(|(w, _)| w.starts_with("decide/"))
        .map(|(_, o)| o)
        .collect();
    let medians = decide[0].board.sensitivity_medians.unwrap();
    assert_eq!(medians.deep_down, [0.0, -2.5, 0.0]);
    assert_eq!(medians.teams, 6);
    assert_eq!(
        decide[0].board.consensus,
        Some(Decision {
            order: 0,
            deep: 2,
            coast: 1
        })
    );
    let stated = &decide[0].board.intentions[3].intention;
    assert_eq!(stated.sensitivities.unwrap().deep_down.deep, -3);
    assert!(record.events.iter().any(|e| matches!(
        e,
        Event::RepAggregate {
            teams: 6,
            consensus: Some(_),
            ..
        }
    )));
    // Every team was asked for sensitivities about ± delta.
    assert!(record
        .events
        .iter()
        .any(|e| matches!(e, Event::Phase { phase, .. } if phase == "intention round 1")));
}

#[test]
fn sanctions_move_money_next_year_and_are_published() {
    let config = from_toml("kind = \"sanctions\"\ncost = 30\nfine = 90");
    // Teams 1 and 2 fine team 0 (and team 1 also tries to fine itself, which is dropped).
    let (record, seen) = play(config, 3, |t, seen| Fixed {
        fines: match t {
            1 => vec![0, 1],
            2 => vec![0],
            _ => vec![],
        },
        ..Fixed::new(t, seen)
    });
    let fines_after_year_1: Vec<(usize, usize)> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Fine {
                year: 1, from, to, ..
            } => Some((*from, *to)),
            _ => None,
        })
        .collect();
    assert_eq!(fines_after_year_1, vec![(1, 0), (2, 0)]);
    let (year2, _) = &record.years[1];
    assert_eq!(year2.teams[0].transfer, -180, "two fines of 90");
    assert_eq!(year2.teams[1].transfer, -30);
    assert_eq!(year2.teams[3].transfer, 0);
    assert_eq!(
        record.years[0].0.teams[0].transfer, 0,
        "nothing before the first fines"
    );
    // The year-2 decision sees the fines of year 1.
    let decide2 = seen
        .iter()
        .find(|(w, o)| w.starts_with("decide/") && o.public.year == 2)
        .unwrap();
    assert_eq!(decide2.1.board.sanctions_last_year.len(), 2);
    // The sanction phase sees what each team did; there is none after the final year.
    let sanction_years: Vec<u32> = seen
        .iter()
        .filter(|(w, _)| w.starts_with("sanction/0"))
        .map(|(_, o)| o.public.year)
        .collect();
    assert_eq!(sanction_years, vec![1, 2]);
    let (_, extras) = &record.years[0];
    assert_eq!(extras.fines, vec![(1, 0), (2, 0)]);
}

#[test]
fn a_budget_bounds_what_each_team_publishes_in_a_year() {
    let config = from_toml("kind = \"broadcast\"\nrounds = 3\nbudget_chars = 120");
    let (record, seen) = play(config, 2, |t, seen| Fixed {
        message: format!("{t}").repeat(100),
        ..Fixed::new(t, seen)
    });
    // A message item `{"year":1,"from":0,"round":1,"text":"…"}` takes 39 characters
    // besides its text: round 1 leaves room for 81, which uses the whole budget.
    for (_, extras) in &record.years {
        assert!(
            extras.talk_chars.iter().all(|c| *c == 120),
            "{:?}",
            extras.talk_chars
        );
    }
    // Round 1 may use the whole budget; by round 2 there is no room left, so nobody is
    // asked again; the budget renews every year.
    let rounds: Vec<u32> = messages(&record).iter().map(|(y, _, _)| *y).collect();
    assert_eq!(rounds.len(), 12, "one message per team and year");
    let first = seen
        .iter()
        .find(|(w, _)| w.starts_with("message/"))
        .unwrap();
    assert_eq!(first.1.board.text_budget_left, Some(120));
    let limits: Vec<usize> = record
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Message { text, .. } => Some(text.chars().count()),
            _ => None,
        })
        .collect();
    assert!(
        limits.iter().all(|n| *n == 81),
        "messages cut to the room left: {limits:?}"
    );
    assert!(record.events.iter().all(|e| !matches!(
        e,
        Event::Message {
            truncated: false,
            ..
        }
    )));
}

#[test]
fn board_memory_shows_the_last_years_messages_and_directed_ones_reach_only_their_addressees() {
    let config = from_toml("kind = \"broadcast\"\nboard_memory_years = 2\ndirected = true");
    let (record, seen) = play(config, 4, |t, seen| Fixed {
        message: format!("hello from {t}"),
        // Team 1 (index 0) writes to team 3 (index 2) only.
        to: if t == 0 { vec![2] } else { vec![] },
        ..Fixed::new(t, seen)
    });
    let at = |what: &str, year: u32, team: usize| -> Observation {
        seen.iter()
            .find(|(w, o)| *w == format!("{what}/{team}") && o.public.year == year)
            .map(|(_, o)| o.clone())
            .unwrap()
    };
    // Year 4's decision: this year's messages, and those of years 2 and 3 (not 1).
    let o = at("decide", 4, 2);
    let years: std::collections::BTreeSet<u32> =
        o.board.earlier_messages.iter().map(|m| m.year).collect();
    assert_eq!(years, [2, 3].into_iter().collect());
    assert!(o.board.messages.iter().all(|m| m.year == 4));
    // The addressee and the author see the directed message; the others do not.
    let from_team_1 = |o: &Observation| o.board.messages.iter().any(|m| m.from == 0);
    assert!(from_team_1(&at("decide", 4, 2)));
    assert!(from_team_1(&at("decide", 4, 0)));
    assert!(!from_team_1(&at("decide", 4, 1)));
    assert!(!at("decide", 4, 1)
        .board
        .earlier_messages
        .iter()
        .any(|m| m.from == 0));
    // What each team was shown is recorded, directed messages included only where seen.
    let (_, extras) = &record.years[3];
    assert!(extras.shown[2].contains(&"m4.1.1".to_string()));
    assert!(!extras.shown[1].contains(&"m4.1.1".to_string()));
    assert!(
        extras.shown[1].contains(&"m3.1.2".to_string()),
        "{:?}",
        extras.shown[1]
    );
    assert!(record.events.iter().any(|e| matches!(
        e,
        Event::Message { from: 0, to, .. } if to == &vec![2]
    )));
    // Without memory, last year's messages are gone.
    let (_, seen) = play(from_toml("kind = \"broadcast\""), 2, |t, seen| Fixed {
        message: "x".into(),
        ..Fixed::new(t, seen)
    });
    let o = &seen
        .iter()
        .find(|(w, o)| w == "decide/0" && o.public.year == 2)
        .unwrap()
        .1;
    assert!(o.board.earlier_messages.is_empty());
    assert_eq!(o.board.messages.len(), 6);
}

#[test]
fn the_probe_is_asked_when_due_and_grounded_in_what_was_shown() {
    let (record, seen) = play_probing(from_toml("kind = \"broadcast\""), 4, 2, |t, seen| Fixed {
        // Team 1 says 600 (the number every team answers); the others say nothing numeric.
        message: if t == 0 {
            "let us all keep to 600".into()
        } else {
            "ok".into()
        },
        tac: if t == 5 { 777 } else { 600 },
        ..Fixed::new(t, seen)
    });
    let probed: Vec<u32> = seen
        .iter()
        .filter(|(w, _)| w == "probe/0")
        .map(|(_, o)| o.public.year)
        .collect();
    assert_eq!(probed, vec![2, 4]);
    let (_, year2) = &record.years[1];
    assert_eq!(year2.probes[0].unwrap().0.tac, 600);
    assert!(year2.probes[0].unwrap().1, "600 was on the board");
    assert!(!year2.probes[5].unwrap().1, "777 was not");
    assert!(record.years[0].1.probes.iter().all(Option::is_none));
    // The probe changes nothing: the same game without it.
    let (plain, _) = play(from_toml("kind = \"broadcast\""), 4, |t, seen| Fixed {
        message: if t == 0 {
            "let us all keep to 600".into()
        } else {
            "ok".into()
        },
        tac: if t == 5 { 777 } else { 600 },
        ..Fixed::new(t, seen)
    });
    let states = |r: &GameRecord| {
        r.years
            .iter()
            .map(|(o, _)| o.state.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(states(&plain), states(&record));
}
