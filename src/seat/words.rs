//! Questions and what the game applied, in a person's words: the seat page, the
//! facilitator's screen and any other desk client say "your decision for the year", not
//! `decision`, and "your previous decision (order 0, 2 ships to the deep sea, 1 to the
//! coast)", not a JSON object.

use crate::question::{Decision, Fallback, RequestKind, Response};

/// What a question of `kind` asks for, as a title ("your decision for the year").
pub fn question(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Message => "a message to the other teams",
        RequestKind::Proposal => "your proposal for a total catch",
        RequestKind::Vote => "your vote on the proposed quota",
        RequestKind::Pledge => "your pledge for the year",
        RequestKind::Decision => "your decision for the year",
        RequestKind::Report => "the catch you report",
        RequestKind::Intention => "the plan you announce",
        RequestKind::Sanction => "whom to fine",
        RequestKind::Probe => "what you think the group agreed",
        RequestKind::Agenda => "your agenda as a candidate for leader",
        RequestKind::Ballot => "your vote for leader",
        RequestKind::LeaderTac => "the total catch you set as leader",
        RequestKind::LeaderReport => "the catch you report as leader",
        RequestKind::Lesson => "your lesson for the next generation",
        RequestKind::Bid => "your bid at the ship auction",
        RequestKind::Offer => "ships you offer to the others",
        RequestKind::Accept => "which offers of ships you take",
    }
}

/// A plan in words: "order 1 ship, 2 ships to the deep sea, 1 to the coast".
fn plan(d: &Decision) -> String {
    let ships = |n: i64| format!("{n} ship{}", if n == 1 { "" } else { "s" });
    format!(
        "order {}, {} to the deep sea, {} to the coast, the rest in the harbor",
        ships(d.order),
        ships(d.deep),
        d.coast
    )
}

/// What the game applied instead of a person's answer (`applied`, the fallback of a
/// question of `kind` under `fallback`), in words.
pub fn applied(kind: RequestKind, applied: &Response, fallback: Fallback) -> String {
    match (kind, applied) {
        (RequestKind::Decision, Response::Decision(d)) => match fallback {
            Fallback::Hold => format!("every ship kept in the harbor and no order ({})", plan(d)),
            Fallback::Previous | Fallback::FailRun => {
                format!("your previous decision again ({})", plan(d))
            }
        },
        (RequestKind::Pledge, _) => "no pledge".into(),
        (RequestKind::Intention, _) => "no plan announced".into(),
        (RequestKind::Message, _) => "no message sent".into(),
        (RequestKind::Proposal, _) => "no proposal (an abstention)".into(),
        (RequestKind::Vote, _) | (RequestKind::Ballot, _) => "an abstention".into(),
        (RequestKind::Report, _) | (RequestKind::LeaderReport, _) => {
            "the true catch reported".into()
        }
        (RequestKind::Sanction, _) => "nobody fined".into(),
        (RequestKind::Probe, _) => "no answer recorded".into(),
        (RequestKind::Agenda, _) => "no agenda published (you stay a candidate)".into(),
        (RequestKind::LeaderTac, _) => "no total catch set this year".into(),
        (RequestKind::Lesson, _) => "no lesson passed on".into(),
        (RequestKind::Bid, _) => "no bid".into(),
        (RequestKind::Offer, _) => "no ships offered".into(),
        (RequestKind::Accept, _) => "no offer taken".into(),
        // A decision whose fallback is not a plan: never built by the questions.
        (RequestKind::Decision, _) => "the fallback".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fallen_back_decision_says_which_plan_the_game_applied() {
        let d = Decision {
            order: 1,
            deep: 2,
            coast: 1,
        };
        assert_eq!(
            applied(RequestKind::Decision, &Response::Decision(d), Fallback::Previous),
            "your previous decision again (order 1 ship, 2 ships to the deep sea, 1 to the coast, the rest in the harbor)"
        );
        let hold = applied(
            RequestKind::Decision,
            &Response::Decision(Decision::default()),
            Fallback::Hold,
        );
        assert!(hold.starts_with("every ship kept in the harbor"), "{hold}");
        assert_eq!(
            applied(
                RequestKind::Message,
                &Response::broadcast(""),
                Fallback::Previous
            ),
            "no message sent"
        );
        // Every kind has a title without an underscore or a field name.
        for kind in RequestKind::ALL {
            assert!(!question(kind).contains('_'), "{kind:?}");
        }
    }
}
