//! How each strategy answers the questions of institutions: standing for leader (an
//! agenda), voting for one, setting the TAC as leader, reporting the catch as leader, and
//! the lesson it leaves the next generation (the rule it followed).

use super::{ScriptedAgent, Strategy};
use crate::question::{BallotQuestion, Observation};

/// The phrase a scripted agenda states its TAC with, and reads back from others'.
const TAC_PHRASE: &str = "total allowable catch of";

/// The TAC an agenda states ("… total allowable catch of N …"), if any.
pub fn tac_in_agenda(text: &str) -> Option<i64> {
    let rest = text[text.find(TAC_PHRASE)? + TAC_PHRASE.len()..].trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

impl ScriptedAgent {
    /// What a candidate promises. Greedy players and free riders promise the sustainable
    /// catch the others want to hear (cheap talk); the others promise what they would set.
    pub(super) fn agenda(&mut self, obs: &Observation, max_chars: usize) -> String {
        let promised = match self.strategy {
            Strategy::Greedy | Strategy::FreeRider => self.sustainable_tac(obs),
            _ => self.leader_tac(obs),
        };
        let text = format!(
            "Team {}: as leader I will set a {TAC_PHRASE} {promised} fish a year, about what the sea regrows, and publish who keeps to it.",
            obs.own.team + 1
        );
        text.chars().take(max_chars).collect()
    }

    /// A vote: cooperators for the candidate promising the lowest TAC, greedy players and
    /// free riders for the highest (an agenda that states none ranks last). Ties go to the
    /// first tied candidate after the voter's own team, so that votes spread.
    pub(super) fn ballot(&mut self, obs: &Observation, q: &BallotQuestion) -> Option<usize> {
        let me = obs.own.team;
        let teams = obs.public.teams.max(1);
        let agendas = obs
            .board
            .leader
            .as_ref()
            .map(|l| &l.agendas[..])
            .unwrap_or(&[]);
        let wants_more = matches!(self.strategy, Strategy::Greedy | Strategy::FreeRider);
        let score = |t: usize| -> i64 {
            let tac = agendas
                .iter()
                .find(|a| a.team == t)
                .and_then(|a| tac_in_agenda(&a.text));
            match (tac, wants_more) {
                (Some(tac), true) => tac,
                (Some(tac), false) => -tac,
                (None, _) => i64::MIN,
            }
        };
        let choices: Vec<usize> = q.choices(me).iter().map(|n| (*n - 1) as usize).collect();
        let best = choices.iter().map(|t| score(*t)).max()?;
        choices
            .into_iter()
            .filter(|t| score(*t) == best)
            .min_by_key(|t| (t + teams - me - 1) % teams)
    }

    /// The TAC this strategy sets as leader: what it would propose in a negotiation.
    pub(super) fn leader_tac(&mut self, obs: &Observation) -> i64 {
        self.propose(obs)
    }

    /// Last year's total catch as this strategy reports it as leader: greedy players and
    /// free riders shave a fifth off, the others tell the truth.
    pub(super) fn leader_report(&mut self, truth: i64) -> i64 {
        match self.strategy {
            Strategy::Greedy | Strategy::FreeRider => truth * 4 / 5,
            _ => truth,
        }
    }

    /// The lesson a strategy leaves: the rule it followed.
    pub(super) fn lesson(&mut self, max_chars: usize) -> String {
        let rule = match self.strategy {
            Strategy::Greedy => "Order ships every year while they pay, send them where a ship earns most, agree to restraint in words only.",
            Strategy::Fixed => "Keep the fleet you start with and deploy it as at the start.",
            Strategy::Sustainable => "Fish an equal share of the sustainable fleet, less while an area is below its most productive density.",
            Strategy::Random => "I decided at random.",
            Strategy::Reciprocal => "Fish sustainably while the others kept to their share last year; fish hard when they did not.",
            Strategy::QuotaFollower => "Follow any quota or your own pledge; otherwise fish a sustainable share.",
            Strategy::Conditional => "Hold back while the others announce restraint, fish hard when they announce more, follow any quota.",
            Strategy::FreeRider => "Announce restraint, fish hard while the others hold back, comply only with a binding cap or after a fine.",
            Strategy::Imitator => "Copy the plan the leader announces.",
            Strategy::Independent => "Fish your own sustainable share and ignore the board.",
        };
        rule.chars().take(max_chars).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::tac_in_agenda;

    #[test]
    fn the_tac_of_an_agenda_is_read_back() {
        assert_eq!(
            tac_in_agenda(
                "Team 2: as leader I will set a total allowable catch of 812 fish a year"
            ),
            Some(812)
        );
        assert_eq!(tac_in_agenda("Vote for me."), None);
    }
}
