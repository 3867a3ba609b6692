//! What the mock reads from a prompt, the way a model would: the labelled lines of the observation (by the labels the question files define) and the quoted data blocks, never taking another team's text for a fact.

use super::*;

/// What the mock read from the prompt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptFacts {
    /// The request kind named after `REQUEST:`; `None` when the prompt names none the
    /// mock knows (it then answers in prose, which the harness must reject).
    pub kind: Option<RequestKind>,
    pub repair: bool,
    pub team: i64,
    pub teams: i64,
    pub ships: i64,
    pub order_limit: i64,
    pub density: Option<[f64; 2]>,
    pub quota: Option<i64>,
    /// Whether the quota read is binding (the engine cuts the catch to it) rather than
    /// advisory.
    pub quota_binding: bool,
    pub median: Option<i64>,
    pub actual_catch: Option<i64>,
    /// Ships at sea (deep + coast) each other team announced this year, by team number
    /// (1-based): the latest of its message stating a plan, pledge and intention.
    pub announced: Vec<(i64, i64)>,
    /// REP's consensus plan `[order, deep, coast]`, when published.
    pub consensus: Option<[i64; 3]>,
    /// Teams (1-based) marked as having fished over their share in the year just played.
    pub over_share: Vec<i64>,
    /// The answer's JSON schema, as the request states it.
    pub schema: Option<serde_json::Value>,
    /// Candidates for leader (1-based) and the TAC their agendas promise, if they say.
    pub agendas: Vec<(i64, Option<i64>)>,
    /// The true total catch a leader is asked to report.
    pub truth: Option<i64>,
    /// This round's ship offers: (number, team, ships, price per ship).
    pub offers: Vec<(i64, i64, i64, i64)>,
}

/// The team number of a `"team N"` value.
pub(super) fn team_number(v: &serde_json::Value) -> Option<i64> {
    crate::question::team_number(v.as_str()?)
}

/// What the mock reads from one quoted line under the block titled `title`.
pub(super) fn read_data_line(f: &mut PromptFacts, title: &str, line: &str) {
    let Ok(item) = serde_json::from_str::<serde_json::Value>(line) else {
        return;
    };
    let at_sea = |item: &serde_json::Value| Some(item["deep"].as_i64()? + item["coast"].as_i64()?);
    let announce = |f: &mut PromptFacts, team: Option<i64>, ships: Option<i64>| {
        if let (Some(team), Some(ships)) = (team, ships) {
            f.announced.retain(|(t, _)| *t != team);
            f.announced.push((team, ships));
        }
    };
    if title.starts_with(message::TITLE_PREFIX) {
        let plan = item["text"]
            .as_str()
            .and_then(crate::agents::scripted::plan_in_message);
        announce(
            f,
            team_number(&item["from"]),
            plan.map(|p| p.deep + p.coast),
        );
    } else if title.starts_with(pledge::PLEDGES_TITLE) || title.starts_with(intention::TITLE_PREFIX)
    {
        announce(f, team_number(&item["team"]), at_sea(&item));
    } else if title == offer::OFFERS_TITLE {
        if let (Some(n), Some(team), Some(ships), Some(price)) = (
            item["offer"].as_i64(),
            team_number(&item["team"]),
            item["ships"].as_i64(),
            item["price"].as_i64(),
        ) {
            f.offers.push((n, team, ships, price));
        }
    } else if title == agenda::AGENDAS_TITLE {
        if let Some(team) = team_number(&item["team"]) {
            let tac = item["agenda"]
                .as_str()
                .and_then(crate::agents::scripted::tac_in_agenda);
            f.agendas.push((team, tac));
        }
    } else if title.starts_with(sanction::ACTIONS_TITLE_PREFIX) && item["over_share"] == json!(true)
    {
        f.over_share.extend(team_number(&item["team"]));
    }
}

pub(super) fn number_after(line: &str, label: &str) -> Option<i64> {
    let rest = line.strip_prefix(label)?.trim_start_matches([' ', '$']);
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

/// Reads the labelled lines of the original request (skipping quoted data blocks, so
/// text written by other teams is never taken for a fact).
pub fn read_prompt(messages: &[ChatMessage]) -> PromptFacts {
    let mut f = PromptFacts::default();
    let Some(idx) = messages
        .iter()
        .position(|m| m.role == "user" && m.content.contains(REQUEST_MARKER))
    else {
        return f;
    };
    f.repair = messages.len() > idx + 1;
    let mut in_data = false;
    let mut title = "";
    let mut previous = "";
    for line in messages[idx].content.lines() {
        let before = std::mem::replace(&mut previous, line);
        if line == DATA_OPEN {
            in_data = true;
            title = before;
        } else if line == DATA_CLOSE {
            in_data = false;
        } else if in_data {
            // Quoted data is read as data (plans, flags), never as facts about oneself.
            read_data_line(&mut f, title, line);
        } else if line.starts_with('{') && line.contains("\"properties\"") {
            f.schema = serde_json::from_str(line).ok();
        } else if let Some(rest) = line.strip_prefix(intention::CONSENSUS_LABEL) {
            let n: Vec<i64> = rest
                .split(", ")
                .filter_map(|part| part.rsplit(' ').next()?.parse().ok())
                .collect();
            if let [order, deep, coast] = n[..] {
                f.consensus = Some([order, deep, coast]);
            }
        } else if let Some(k) = line.strip_prefix(REQUEST_MARKER) {
            f.kind = RequestKind::parse(k.trim());
        } else if let Some(n) = number_after(line, label::YOUR_TEAM) {
            f.team = n;
        } else if let Some(n) = number_after(line, label::TEAMS) {
            f.teams = n;
        } else if let Some(n) = number_after(line, label::YOUR_SHIPS) {
            f.ships = n;
        } else if let Some(n) = number_after(line, label::ORDER_LIMIT) {
            f.order_limit = n;
        } else if let Some(n) = number_after(line, label::YOUR_QUOTA) {
            f.quota = Some(n);
            f.quota_binding = line.ends_with("(binding)");
        } else if let Some(n) = number_after(line, proposal::MEDIAN_LABEL) {
            f.median = Some(n);
        } else if let Some(rest) = line.strip_prefix(label::DENSITY) {
            let mut parts = rest.split(label::DENSITY_COAST);
            let a = parts.next().and_then(|s| s.trim().parse().ok());
            let b = parts.next().and_then(|s| s.trim().parse().ok());
            if let (Some(a), Some(b)) = (a, b) {
                f.density = Some([a, b]);
            }
        } else if let Some(i) = line.find(leader_report::TRUTH_LABEL) {
            f.truth = number_after(&line[i..], leader_report::TRUTH_LABEL);
        } else if let Some(i) = line.find(report::ACTUAL_LABEL) {
            f.actual_catch = number_after(&line[i..], report::ACTUAL_LABEL);
        }
    }
    f
}
