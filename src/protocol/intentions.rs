//! Intention rounds, shared by `a2a` and `rep`: every team announces the decision it
//! intends to make (with a reasoning and, under REP, sensitivities); the round's
//! announcements are published together, and the next round or the final decision
//! sees them.

use super::text_budget::{cut, published_chars};
use super::{
    ask_each, check_range, memory_sentence, rounds_phrase, wrong_kind, SpecError, YearContext,
};
use crate::agents::{Agent, AgentError};
use crate::engine::Decision;
use crate::question::{
    Intention, IntentionQuestion, PublishedIntention, Request, RequestKind, Response,
    Sensitivities, SensitivityMedians,
};
use crate::record::Event;

/// How intentions are asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Asking {
    pub rounds: u32,
    /// Bound on the reasoning (a budget replaces it).
    pub reasoning_chars: usize,
    /// REP: the density change the sensitivities are about.
    pub delta: Option<f64>,
    /// Past years of intentions shown (social memory).
    pub memory_years: u32,
}

impl Asking {
    /// Check the switches `a2a` and `rep` share.
    pub fn validate(
        rounds: u32,
        memory_years: u32,
        reasoning_chars: usize,
    ) -> Result<(), SpecError> {
        check_range("rounds", rounds, 1, 20)?;
        check_range("board_memory_years", memory_years, 0, 200)?;
        check_range("reasoning_chars", reasoning_chars, 0, 100_000)
    }

    /// What a year asks: `rounds` intentions, then the decision.
    pub fn requests_per_year(&self) -> Vec<(RequestKind, f64)> {
        vec![
            (RequestKind::Intention, self.rounds as f64),
            (RequestKind::Decision, 1.0),
        ]
    }

    /// The prompt facts `a2a` and `rep` share.
    pub fn facts(&self) -> Vec<(&'static str, String)> {
        vec![
            ("rounds_phrase", rounds_phrase(self.rounds)),
            ("reasoning_chars", self.reasoning_chars.to_string()),
            (
                "memory_sentence",
                memory_sentence(self.memory_years, "announcements"),
            ),
        ]
    }
}

/// Past years' intentions, for `board_memory_years`.
#[derive(Debug, Default)]
pub(super) struct IntentionMemory {
    kept: Vec<PublishedIntention>,
}

impl IntentionMemory {
    fn open(&self, year: &mut YearContext, years: u32) {
        let first = year.year.saturating_sub(years);
        year.board.earlier_intentions = self
            .kept
            .iter()
            .filter(|i| i.year >= first && i.year < year.year)
            .cloned()
            .collect();
        year.board.intentions.clear();
    }

    fn keep(&mut self, year: &YearContext, years: u32) {
        if years > 0 {
            self.kept.extend(year.board.intentions.iter().cloned());
            let first = (year.year + 1).saturating_sub(years);
            self.kept.retain(|i| i.year >= first);
        }
    }
}

/// Run the intention rounds; after each round, `after_round` may publish aggregates
/// (REP). A team whose agent gave no valid answer (its fallback) announces nothing.
pub(super) async fn announce(
    year: &mut YearContext,
    agents: &mut [Box<dyn Agent>],
    asking: Asking,
    memory: &mut IntentionMemory,
    mut after_round: impl FnMut(&mut YearContext, u32),
) -> Result<(), AgentError> {
    memory.open(year, asking.memory_years);
    for round in 1..=asking.rounds {
        year.phase(format!("intention round {round}"));
        let observations = year.observations();
        let requests: Vec<Request> = (0..year.teams())
            .map(|t| {
                Request::Intention(IntentionQuestion {
                    round,
                    reasoning_chars: room(year, t, round, asking),
                    sensitivities: asking.delta,
                })
            })
            .collect();
        let answers = ask_each(agents, &observations, &requests).await?;
        let mut published = Vec::new();
        for ((team, answer), request) in answers.into_iter().enumerate().zip(&requests) {
            let intention = match answer.response {
                Response::Intention(_) if answer.fallback => continue,
                Response::Intention(i) => i,
                other => return Err(wrong_kind(team, year.year, RequestKind::Intention, &other)),
            };
            let Request::Intention(q) = request else {
                continue;
            };
            published.push(publishable(
                (year.year, round, team),
                intention,
                q.reasoning_chars,
                asking,
            ));
        }
        // Published together: no announcement of a round sees another of the same round.
        for (item, truncated) in published {
            publish(year, item, truncated);
        }
        after_round(year, round);
    }
    memory.keep(year, asking.memory_years);
    Ok(())
}

/// The intention as it will be published: the reasoning cut to its bound, the
/// sensitivities only when asked for.
fn publishable(
    (year, round, team): (u32, u32, usize),
    mut intention: Intention,
    reasoning_chars: usize,
    asking: Asking,
) -> (PublishedIntention, bool) {
    let (reasoning, truncated) = cut(std::mem::take(&mut intention.reasoning), reasoning_chars);
    intention.reasoning = reasoning;
    if asking.delta.is_none() {
        intention.sensitivities = None;
    } else if intention.sensitivities.is_none() {
        intention.sensitivities = Some(Sensitivities::default());
    }
    (
        PublishedIntention {
            year,
            team,
            round,
            intention,
        },
        truncated,
    )
}

fn publish(year: &mut YearContext, item: PublishedIntention, truncated: bool) {
    let team = item.team;
    year.charge(team, published_chars(&item));
    year.intentions[team] = Some(item.intention.plan);
    let s = item.intention.sensitivities;
    year.push(Event::Intention {
        year: year.year,
        round: item.round,
        team,
        plan: item.intention.plan,
        reasoning: item.intention.reasoning.clone(),
        sensitivities: s.map(|s| [s.deep_up, s.deep_down, s.coast_up, s.coast_down]),
        truncated,
    });
    year.board.intentions.push(item);
}

/// The longest reasoning team `t` may write: the bound, or under a budget what it has
/// left after the intention's fixed part (its plan and sensitivities).
fn room(year: &YearContext, t: usize, round: u32, asking: Asking) -> usize {
    match &year.text_left {
        None => asking.reasoning_chars,
        Some(left) => {
            let fixed = published_chars(&PublishedIntention {
                year: year.year,
                team: t,
                round,
                intention: Intention {
                    plan: Decision::default(),
                    reasoning: String::new(),
                    sensitivities: asking.delta.map(|_| Sensitivities::default()),
                },
            });
            left[t].saturating_sub(fixed)
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
pub(super) fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Coordinate-wise medians of the sensitivities announced in `round`.
pub(super) fn sensitivity_medians(items: &[PublishedIntention], round: u32) -> SensitivityMedians {
    let of_round: Vec<&Sensitivities> = items
        .iter()
        .filter(|i| i.round == round)
        .filter_map(|i| i.intention.sensitivities.as_ref())
        .collect();
    let coordinate = |pick: &dyn Fn(&Sensitivities) -> Decision| {
        let mut out = [0.0; 3];
        for (c, slot) in out.iter_mut().enumerate() {
            let mut values: Vec<f64> = of_round
                .iter()
                .map(|s| {
                    let d = pick(s);
                    [d.order, d.deep, d.coast][c] as f64
                })
                .collect();
            *slot = median(&mut values);
        }
        out
    };
    SensitivityMedians {
        deep_up: coordinate(&|s| s.deep_up),
        deep_down: coordinate(&|s| s.deep_down),
        coast_up: coordinate(&|s| s.coast_up),
        coast_down: coordinate(&|s| s.coast_down),
        teams: of_round.len(),
    }
}

/// The coordinate-wise median of the plans announced in `round`, rounded half up to
/// whole ships (`None` when nobody announced).
pub(super) fn consensus(items: &[PublishedIntention], round: u32) -> Option<Decision> {
    let plans: Vec<Decision> = items
        .iter()
        .filter(|i| i.round == round)
        .map(|i| i.intention.plan)
        .collect();
    if plans.is_empty() {
        return None;
    }
    let coordinate = |c: usize| {
        let mut values: Vec<f64> = plans
            .iter()
            .map(|p| [p.order, p.deep, p.coast][c] as f64)
            .collect();
        (median(&mut values) + 0.5).floor() as i64
    };
    Some(Decision {
        order: coordinate(0),
        deep: coordinate(1),
        coast: coordinate(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(team: usize, deep: i64, down: i64) -> PublishedIntention {
        PublishedIntention {
            year: 1,
            team,
            round: 1,
            intention: Intention {
                plan: Decision {
                    order: 0,
                    deep,
                    coast: 1,
                },
                reasoning: String::new(),
                sensitivities: Some(Sensitivities {
                    deep_down: Decision {
                        order: 0,
                        deep: down,
                        coast: 0,
                    },
                    ..Sensitivities::default()
                }),
            },
        }
    }

    #[test]
    fn medians_are_coordinate_wise_and_count_the_teams() {
        let items = [
            item(0, 3, -1),
            item(1, 5, -2),
            item(2, 4, 0),
            item(3, 8, -3),
        ];
        let m = sensitivity_medians(&items, 1);
        assert_eq!(m.deep_down, [0.0, -1.5, 0.0]);
        assert_eq!(m.teams, 4);
        assert_eq!(
            consensus(&items, 1),
            Some(Decision {
                order: 0,
                deep: 5, // median 4.5, rounded half up
                coast: 1
            })
        );
        assert_eq!(consensus(&items, 2), None);
        assert_eq!(sensitivity_medians(&items, 2).teams, 0);
    }
}
