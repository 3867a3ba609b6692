//! What a scripted agent reads off the board: the plans other teams announced this year
//! (intentions, pledges, or a message saying "order X, deep Y, coast Z"), and whether
//! they add up to restraint.

use crate::agents::{Decision, Observation};

/// The plan a message announces, if it says "order X, deep Y, coast Z" (the phrase
/// scripted agents use; anything else announces nothing).
pub fn plan_in_message(text: &str) -> Option<Decision> {
    let number_after = |label: &str| -> Option<i64> {
        let i = text.find(label)? + label.len();
        let digits: String = text[i..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
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
    let b = &obs.board;
    let mut plans: Vec<(usize, Decision)> = Vec::new();
    let set = |team: usize, plan: Decision, plans: &mut Vec<(usize, Decision)>| {
        if team == me {
            return;
        }
        match plans.iter_mut().find(|(t, _)| *t == team) {
            Some(slot) => slot.1 = plan,
            None => plans.push((team, plan)),
        }
    };
    for m in &b.messages {
        if let Some(plan) = plan_in_message(&m.text) {
            set(m.from, plan, &mut plans);
        }
    }
    for (team, pledge) in &b.pledges {
        set(*team, *pledge, &mut plans);
    }
    let mut intentions: Vec<_> = b.intentions.iter().collect();
    intentions.sort_by_key(|i| i.round);
    for i in intentions {
        set(i.team, i.intention.plan, &mut plans);
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

/// The plan team `leader` announced this year, if any.
pub fn plan_of(obs: &Observation, leader: usize) -> Option<Decision> {
    let mut view = obs.clone();
    // Read as if from another team, so the leader's own plan is not skipped.
    view.own.team = usize::MAX;
    announced_plans(&view)
        .into_iter()
        .find(|(t, _)| *t == leader)
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
