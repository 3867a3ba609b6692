//! The board as text: each part belongs to the question that produces it and is
//! rendered by that question's file; this file only fixes the order in which a prompt
//! shows them (earlier years first, then this year's talk, then the institutions'
//! numbers).

use super::{
    ballot, intention, lesson, message, offer, pledge, proposal, sanction, Board, Message,
    PublishedIntention,
};

impl Board {
    /// The board as the text of a prompt (everyone sees the same; a team's own quota is
    /// in its own section).
    pub fn render(&self) -> String {
        let mut s = String::new();
        lesson::render_lessons(&mut s, &self.lessons);
        if let Some(m) = &self.market {
            offer::render_market(&mut s, m);
        }
        message::render_earlier(&mut s, &self.earlier_messages);
        intention::render_earlier(&mut s, &self.earlier_intentions);
        message::render_this_year(&mut s, &self.messages);
        if let Some(l) = &self.leader {
            ballot::render_leader(&mut s, l);
        }
        if let Some(q) = &self.quota {
            proposal::render_quota(&mut s, q);
        }
        pledge::render_pledges(&mut s, &self.pledges);
        pledge::render_ledger(&mut s, &self.ledger);
        intention::render_this_year(&mut s, &self.intentions);
        if let Some(m) = &self.sensitivity_medians {
            intention::render_medians(&mut s, m);
        }
        if let Some(c) = &self.consensus {
            intention::render_consensus(&mut s, c);
        }
        sanction::render_fines(&mut s, &self.sanctions_last_year);
        sanction::render_actions(&mut s, &self.actions);
        s
    }

    /// The ids of the messages and intentions each of `teams` teams is shown (a directed
    /// message only to its author and addressees). Ids are formatted once for all teams:
    /// the game loop records this every year.
    pub fn shown_to_each(&self, teams: usize) -> Vec<Vec<String>> {
        let messages: Vec<(&Message, String)> = self
            .earlier_messages
            .iter()
            .chain(&self.messages)
            .map(|m| (m, m.id()))
            .collect();
        let intentions: Vec<String> = self
            .earlier_intentions
            .iter()
            .chain(&self.intentions)
            .map(PublishedIntention::id)
            .collect();
        (0..teams)
            .map(|t| {
                messages
                    .iter()
                    .filter(|(m, _)| m.visible_to(t))
                    .map(|(_, id)| id.clone())
                    .chain(intentions.iter().cloned())
                    .collect()
            })
            .collect()
    }
}
