//! One line of prose per recorded event, and a team's row of the year's table. Teams are
//! told from 1; what agents wrote is quoted as it is (it is data).

use crate::engine::Decision;
use crate::record::{AgentEvent, AgentRow, Event, MessageRow};

fn team(t: usize) -> String {
    format!("team {}", t + 1)
}

fn teams(list: &[usize]) -> String {
    list.iter().map(|t| team(*t)).collect::<Vec<_>>().join(", ")
}

fn plan(d: &Decision) -> String {
    format!("order {}, deep {}, coast {}", d.order, d.deep, d.coast)
}

fn quoted(text: &str) -> String {
    format!("“{}”", text.trim())
}

/// Every team's quota when they are all alike, else each.
fn quotas(q: &[Option<i64>]) -> String {
    let set: Vec<i64> = q.iter().flatten().copied().collect();
    match set.first() {
        None => "no quotas".into(),
        Some(first) if set.len() == q.len() && set.iter().all(|x| x == first) => {
            format!("{first} fish for every team")
        }
        _ => q
            .iter()
            .enumerate()
            .map(|(i, x)| format!("{} {}", team(i), x.map_or("–".into(), |v| v.to_string())))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The year an event belongs to (`None`: the run's bounds).
pub fn year_of(e: &Event) -> Option<u32> {
    match e {
        Event::RunStart { .. } | Event::RunEnd { .. } => None,
        Event::Phase { year, .. }
        | Event::Message { year, .. }
        | Event::Proposal { year, .. }
        | Event::Vote { year, .. }
        | Event::QuotaOutcome { year, .. }
        | Event::Pledge { year, .. }
        | Event::Decision { year, .. }
        | Event::Report { year, .. }
        | Event::QuotaViolation { year, .. }
        | Event::LedgerViolation { year, .. }
        | Event::Intention { year, .. }
        | Event::Agenda { year, .. }
        | Event::LeaderElection { year, .. }
        | Event::LeaderTac { year, .. }
        | Event::LeaderReport { year, .. }
        | Event::Lesson { year, .. }
        | Event::Bid { year, .. }
        | Event::Auction { year, .. }
        | Event::Offer { year, .. }
        | Event::Accept { year, .. }
        | Event::Trade { year, .. }
        | Event::RegulatorTac { year, .. }
        | Event::RepAggregate { year, .. }
        | Event::Probe { year, .. }
        | Event::Fine { year, .. }
        | Event::Agent { year, .. }
        | Event::Year { year, .. } => Some(*year),
    }
}

/// The event as a line of the year's story; `None` for what the table and the sea line
/// already say (decisions, the year's outcome, phases) and for routine model calls.
/// What a person's seat (`team`, from 0) did wrong or missed, in a class's words; its
/// other events are told as any seat's.
pub fn person_line(t: usize, event: &AgentEvent) -> Option<String> {
    match event {
        AgentEvent::LlmInvalid { kind, error, .. } => Some(format!(
            "{} (a person) sent a {kind} the rules refused: {error}",
            team(t)
        )),
        AgentEvent::LlmFallback {
            kind,
            fallback,
            reason,
            ..
        } => Some(if reason.starts_with("no answer in time") {
            format!(
                "{} (a person) did not answer its {kind} in time: the game applied the fallback `{fallback}`.",
                team(t)
            )
        } else {
            format!(
                "{} (a person) sent no {kind} the rules accepted: the game applied the fallback `{fallback}`.",
                team(t)
            )
        }),
        AgentEvent::LlmCall { .. } | AgentEvent::LlmRetry { .. } => None,
        other => line(&Event::Agent {
            year: 0,
            team: t,
            event: other.clone(),
        }),
    }
}

pub fn line(e: &Event) -> Option<String> {
    Some(match e {
        Event::Message {
            round,
            from,
            to,
            text,
            truncated,
            ..
        } => format!(
            "Message, round {round}, {} → {}: {}{}",
            team(*from),
            if to.is_empty() {
                "everyone".to_string()
            } else {
                teams(to)
            },
            quoted(text),
            if *truncated { " (cut to the limit)" } else { "" }
        ),
        Event::Proposal { team: t, tac, .. } => match tac {
            Some(tac) => format!("{} proposes a total catch of {tac} fish.", team(*t)),
            None => format!("{} gave no valid proposal (abstains).", team(*t)),
        },
        Event::Vote {
            team: t,
            accept,
            reason,
            ..
        } => format!(
            "{} votes {}{}",
            team(*t),
            match accept {
                Some(true) => "for the quota",
                Some(false) => "against the quota",
                None => "nothing (abstains)",
            },
            if reason.trim().is_empty() {
                ".".to_string()
            } else {
                format!(": {}", quoted(reason))
            }
        ),
        Event::QuotaOutcome {
            median,
            accept_share,
            adopted,
            tac,
            quotas: q,
            ..
        } => format!(
            "Quota vote: median proposal {}, {:.0}% for; {}.",
            median.map_or("–".into(), |m| m.to_string()),
            accept_share * 100.0,
            match (adopted, tac) {
                (true, Some(t)) => format!("adopted, a total catch of {t} ({})", quotas(q)),
                (_, Some(t)) => format!("not adopted; the total catch of {t} stays in force"),
                _ => "not adopted; no quota".to_string(),
            }
        ),
        Event::Pledge { team: t, pledge, .. } => {
            format!("{} pledges {}.", team(*t), plan(pledge))
        }
        Event::Report {
            team: t,
            declared,
            actual,
            ..
        } => format!(
            "{} reports a catch of {declared} (actual {actual}{}).",
            team(*t),
            if declared == actual { "" } else { ": misreported" }
        ),
        Event::QuotaViolation {
            team: t,
            quota,
            catch,
            ..
        } => format!("{} caught {catch} against its quota of {quota}.", team(*t)),
        Event::LedgerViolation { team: t, .. } => {
            format!("{} broke its pledge in the ledger.", team(*t))
        }
        Event::Intention {
            round,
            team: t,
            plan: p,
            reasoning,
            truncated,
            ..
        } => format!(
            "Intention, round {round}, {}: {}{}{}",
            team(*t),
            plan(p),
            if reasoning.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", quoted(reasoning))
            },
            if *truncated { " (cut)" } else { "" }
        ),
        Event::Agenda { team: t, text, .. } => {
            format!("{}'s agenda for leader: {}", team(*t), quoted(text))
        }
        Event::LeaderElection {
            year,
            candidates,
            ballots,
            leader,
            term_end,
        } => format!(
            "Election among {}: ballots {}; {}.",
            teams(candidates),
            ballots
                .iter()
                .enumerate()
                .map(|(i, b)| format!(
                    "{}→{}",
                    i + 1,
                    b.map_or("–".to_string(), |c| (c + 1).to_string())
                ))
                .collect::<Vec<_>>()
                .join(" "),
            match leader {
                Some(l) if term_end > year => {
                    format!("{} leads from year {year} to year {term_end}", team(*l))
                }
                Some(l) => format!("{} leads this year", team(*l)),
                None => "nobody was elected".into(),
            }
        ),
        Event::LeaderTac {
            leader,
            tac,
            accept_share,
            adopted,
            ..
        } => format!(
            "Leader {} sets {}{}; {}.",
            team(*leader),
            tac.map_or("no total catch".into(), |t| format!("a total catch of {t}")),
            accept_share.map_or(String::new(), |a| format!(", {:.0}% for", a * 100.0)),
            if *adopted { "in force" } else { "not in force" }
        ),
        Event::LeaderReport {
            leader,
            reported,
            truth,
            ..
        } => format!(
            "Leader {} reports last year's total catch as {reported} (truth {truth}).",
            team(*leader)
        ),
        Event::Lesson { team: t, text, .. } => {
            format!("{}'s lesson for the next generation: {}", team(*t), quoted(text))
        }
        Event::Bid {
            team: t,
            ships,
            price,
            ..
        } if *ships > 0 => format!("{} bids for {ships} ships at ${price} each.", team(*t)),
        Event::Auction { offered, wins, .. } => format!(
            "Auction of {offered} ships: {}.",
            if wins.is_empty() {
                "no ship sold".to_string()
            } else {
                wins.iter()
                    .map(|(t, s, p)| format!("{} wins {s} at ${p}", team(*t)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        Event::Offer {
            round,
            team: t,
            ships,
            price,
            ..
        } if *ships > 0 => format!(
            "Trade round {round}: {} offers {ships} ships at ${price} each.",
            team(*t)
        ),
        Event::Trade {
            seller,
            buyer,
            ships,
            price,
            ..
        } => format!(
            "{} sells {ships} ships to {} at ${price} each.",
            team(*seller),
            team(*buyer)
        ),
        Event::RegulatorTac { tac, quotas: q, .. } => {
            format!("The regulator sets a total catch of {tac} ({}).", quotas(q))
        }
        Event::RepAggregate {
            round, consensus, ..
        } => format!(
            "REP round {round}: the published consensus is {}.",
            consensus.as_ref().map_or("none".into(), plan)
        ),
        Event::Probe {
            team: t,
            tac,
            set_by,
            grounded,
            ..
        } => format!(
            "Probe (not shown to anyone): {} thinks the group follows a total catch of {tac}, set by {}{}.",
            team(*t),
            if *set_by > 0 {
                format!("team {set_by}")
            } else {
                "nobody".into()
            },
            if *grounded { "" } else { " (a number it was never shown)" }
        ),
        Event::Fine {
            from,
            to,
            cost,
            fine,
            ..
        } => format!(
            "{} fines {} ${fine} (costing itself ${cost}).",
            team(*from),
            team(*to)
        ),
        Event::Agent { team: t, event, .. } => match event {
            AgentEvent::LlmInvalid {
                kind,
                error,
                cut_off,
                ..
            } => format!(
                "{}'s {kind} answer was invalid{}: {error}",
                team(*t),
                if *cut_off { " (cut off at max_tokens)" } else { "" }
            ),
            AgentEvent::LlmFallback {
                kind,
                fallback,
                reason,
                ..
            } => format!(
                "{}'s {kind} was replaced by the fallback `{fallback}`: {reason}",
                team(*t)
            ),
            AgentEvent::LlmError { kind, error, .. } => {
                format!("{}'s {kind} call failed: {error}", team(*t))
            }
            AgentEvent::Tremble {
                planned, played, ..
            } => format!(
                "{} trembled: it played {} instead of its strategy's {} (a random valid decision, as its `tremble` allows)",
                team(*t),
                plan(played),
                plan(planned)
            ),
            AgentEvent::LlmCall { .. } | AgentEvent::LlmRetry { .. } => return None,
        },
        Event::Bid { .. }
        | Event::Offer { .. }
        | Event::Accept { .. }
        | Event::RunStart { .. }
        | Event::RunEnd { .. }
        | Event::Phase { .. }
        | Event::Decision { .. }
        | Event::Year { .. } => return None,
    })
}

/// "1 team", "3 teams".
fn count(n: u32, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// A message from `messages.csv` (when the run kept no full event log).
pub fn message_row(m: &MessageRow) -> String {
    let to: Vec<usize> =
        m.to.split_whitespace()
            .filter_map(|t| t.parse().ok())
            .collect();
    format!(
        "{} {}, {} → {}: {}",
        m.kind,
        m.id,
        team(m.from),
        if to.is_empty() {
            "everyone".to_string()
        } else {
            teams(&to)
        },
        quoted(&m.text)
    )
}

/// A team's row of the year's table.
pub fn agent_row(a: &AgentRow, seat: Option<&String>) -> Vec<String> {
    let mut notes = Vec::new();
    if a.leader == Some(true) {
        notes.push("leader".to_string());
    }
    if a.fallback {
        notes.push("fallback".into());
    } else if a.repaired {
        notes.push("repaired by the engine".into());
    }
    if a.quota_binding {
        notes.push("catch cut to the quota".into());
    }
    if let (Some(o), Some(d), Some(c)) = (a.pledge_order, a.pledge_deep, a.pledge_coast) {
        notes.push(format!("pledged {o}/{d}/{c}"));
    }
    if let Some(r) = a.reported_catch {
        notes.push(format!("reported {r}"));
    }
    if a.fines_given > 0 {
        notes.push(format!("fined {}", count(a.fines_given, "team")));
    }
    if a.fines_received > 0 {
        notes.push(format!("was fined by {}", count(a.fines_received, "team")));
    }
    // Last year's fines, paid this year: what the team paid (to fine, or fined) or was
    // paid.
    if a.transfer < 0 {
        notes.push(format!("paid ${} for last year's fines", -a.transfer));
    } else if a.transfer > 0 {
        notes.push(format!("received ${} from last year's fines", a.transfer));
    }
    if let (Some(won), Some(paid)) = (a.auction_ships, a.auction_paid) {
        if won > 0 {
            notes.push(format!("won {won} ships for ${paid}"));
        }
    }
    if let (Some(ships), Some(money)) = (a.trade_ships, a.trade_money) {
        if ships != 0 {
            notes.push(format!("traded {ships:+} ships for ${money:+}"));
        }
    }
    vec![
        (a.agent + 1).to_string(),
        // The overview names each seat in full; the table keeps the strategy or model.
        seat.map_or(String::new(), |s| {
            let short = s.split(" (").next().unwrap_or(s);
            short.strip_prefix("scripted ").unwrap_or(short).to_string()
        }),
        // The fleet it had this year (at sea and in the harbor); ordered ships arrive next
        // year.
        (a.deep + a.coast + a.harbor).to_string(),
        a.order.to_string(),
        a.deep.to_string(),
        a.coast.to_string(),
        a.harbor.to_string(),
        (a.catch_deep + a.catch_coast).to_string(),
        a.bank.to_string(),
        a.quota.map_or("–".into(), |q| q.to_string()),
        notes.join("; "),
    ]
}
