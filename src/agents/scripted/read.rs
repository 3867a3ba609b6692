//! What a scripted agent reads off the board: the plans other teams announced this year
//! (intentions, pledges, or a message saying "order X, deep Y, coast Z"), and whether
//! they add up to restraint.

use crate::question::{Board, Decision, Observation};

/// The plan a message announces, if it says "order X, deep Y, coast Z" (the phrase
/// scripted agents use; anything else announces nothing).
pub fn plan_in_message(text: &str) -> Option<Decision> {
    let number_after = |label: &str| -> Option<i64> {
        let rest = text[text.find(label)? + label.len()..].trim_start();
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
    };
    Some(Decision {
        order: number_after("order")?,
        deep: number_after("deep")?,
        coast: number_after("coast")?,
    })
}

/// The latest plan each other team announced this year: its intention of the latest
/// round, else its pledge, else its latest message that states one.
pub fn announced_plans(obs: &Observation) -> Vec<(usize, Decision)> {
    let me = obs.own.team;
    plans_on(&obs.board, |team| team != me)
}

/// The latest plan of every team `of` selects, in team order (see `announced_plans`).
/// Only the selected teams' messages are parsed: the game loop asks this of every team
/// every year.
fn plans_on(b: &Board, of: impl Fn(usize) -> bool) -> Vec<(usize, Decision)> {
    let mut plans: Vec<(usize, Decision)> = Vec::new();
    let mut set = |team: usize, plan: Decision| match plans.iter_mut().find(|(t, _)| *t == team) {
        Some(slot) => slot.1 = plan,
        None => plans.push((team, plan)),
    };
    for m in b.messages.iter().filter(|m| of(m.from)) {
        if let Some(plan) = plan_in_message(&m.text) {
            set(m.from, plan);
        }
    }
    for (team, pledge) in b.pledges.iter().filter(|(t, _)| of(*t)) {
        set(*team, *pledge);
    }
    let mut intentions: Vec<_> = b.intentions.iter().filter(|i| of(i.team)).collect();
    intentions.sort_by_key(|i| i.round);
    for i in intentions {
        set(i.team, i.intention.plan);
    }
    plans.sort_by_key(|(t, _)| *t);
    plans
}

/// Ships the announcing teams plan to send to sea, on average per team.
pub fn announced_at_sea_per_team(plans: &[(usize, Decision)]) -> Option<f64> {
    if plans.is_empty() {
        return None;
    }
    let at_sea: i64 = plans
        .iter()
        .map(|(_, p)| p.deep.max(0) + p.coast.max(0))
        .sum();
    Some(at_sea as f64 / plans.len() as f64)
}

/// The plan team `leader` announced this year, if any (its own included: the game loop
/// records what each team announced).
pub fn plan_of(obs: &Observation, leader: usize) -> Option<Decision> {
    plans_on(&obs.board, |team| team == leader)
        .pop()
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_read_from_the_phrase_scripted_agents_use() {
        assert_eq!(
            plan_in_message("Team 2: I plan order 1, deep 3, coast 2 this year."),
            Some(Decision {
                order: 1,
                deep: 3,
                coast: 2
            })
        );
        assert_eq!(plan_in_message("let us all be careful"), None);
        assert_eq!(plan_in_message("order some ships, deep thoughts"), None);
    }
}
