//! From a finished game to the rows the recorder writes.

use super::GameRecord;
use crate::question::{intention_id, message_id};
use crate::record::{
    escape_text, gini, AgentRow, Event, FinishedRun, MessageRow, RunLabel, RunRow, YearRow,
};

/// The rows (and events) of a finished run at plan position `index`.
pub fn finished_run(index: usize, label: &RunLabel, record: GameRecord) -> FinishedRun {
    FinishedRun {
        index,
        label: label.clone(),
        row: run_row(label, &record),
        years: year_rows(label, &record),
        agents: agent_rows(label, &record),
        messages: message_rows(label, &record.events),
        events: record.events,
    }
}

fn run_row(label: &RunLabel, record: &GameRecord) -> RunRow {
    let teams = record.final_state.teams.len();
    let collapse_year = record.final_state.collapse_year;
    let mut catch_by_team = vec![0.0; teams];
    let mut invalid = 0;
    let (mut talk_chars, mut talk_tokens) = (0u64, 0u64);
    for (year, extras) in &record.years {
        invalid += year.invalid_decisions;
        for &chars in &extras.talk_chars {
            talk_chars += chars as u64;
            talk_tokens += crate::protocol::tokens_of(chars);
        }
        for (t, out) in year.teams.iter().enumerate() {
            catch_by_team[t] += (out.catch_deep + out.catch_coast) as f64;
        }
    }
    let assets: Vec<f64> = (0..teams)
        .map(|t| record.final_state.assets(t) as f64)
        .collect();
    RunRow {
        run_id: label.run_id.clone(),
        cell: label.cell.clone(),
        protocol: label.protocol.clone(),
        population: label.population.clone(),
        seed: label.seed,
        status: record.status,
        years: label.years,
        collapsed: collapse_year.is_some(),
        collapse_year,
        survival_years: collapse_year.map_or(label.years, |y| y - 1),
        final_stock_deep: record.final_state.stock[0],
        final_stock_coast: record.final_state.stock[1],
        total_catch: catch_by_team.iter().sum::<f64>() as i64,
        total_assets: assets.iter().sum::<f64>() as i64,
        gini_assets: gini(&assets),
        gini_catch: gini(&catch_by_team),
        invalid_decisions: invalid,
        llm_calls: record.stats.llm_calls,
        llm_retries: record.stats.llm_retries,
        llm_repairs: record.stats.repairs,
        llm_fallbacks: record.stats.fallbacks,
        tokens_in: record.stats.tokens_in,
        tokens_out: record.stats.tokens_out,
        cost_usd: record.stats.cost_micro_usd as f64 / 1e6,
        llm_answers: record.stats.answers,
        llm_valid_first_try: record.stats.valid_first_try,
        fallback_share: record.stats.fallback_share(),
        tokens_cached: record.stats.tokens_cached,
        calls_without_cache_report: record.stats.calls_without_cache_report,
        retries_rate_limit: record.stats.retries.rate_limit,
        retries_server_error: record.stats.retries.server_error,
        retries_timeout: record.stats.retries.timeout,
        retries_connection: record.stats.retries.connection,
        retries_malformed: record.stats.retries.malformed,
        talk_chars,
        talk_tokens,
        talk_budget_chars: None,
        years_played: record.years.len() as u32,
        error: record.error.clone().unwrap_or_default(),
        generation: label.generation,
        parent: label.parent.clone().unwrap_or_default(),
    }
}

fn year_rows(label: &RunLabel, record: &GameRecord) -> Vec<YearRow> {
    record
        .years
        .iter()
        .map(|(o, extras)| YearRow {
            run_id: label.run_id.clone(),
            year: o.year,
            fleet_deep: o.fleet[0],
            fleet_coast: o.fleet[1],
            fleet_harbor: o.fleet[2],
            catch_deep: o.catch[0],
            catch_coast: o.catch[1],
            stock_deep: o.stock[0],
            stock_coast: o.stock[1],
            regen_deep: o.regen[0],
            regen_coast: o.regen[1],
            ship_value: o.ship_value,
            weather: o.weather,
            post_harvest_deep: o.post_harvest[0],
            post_harvest_coast: o.post_harvest[1],
            leader: extras.leader,
        })
        .collect()
}

fn agent_rows(label: &RunLabel, record: &GameRecord) -> Vec<AgentRow> {
    let mut rows = Vec::new();
    for (o, extras) in &record.years {
        for (t, out) in o.teams.iter().enumerate() {
            let pledge = extras.pledges[t];
            let announced = extras.announced[t];
            // Empty without a market (`extras.market` then has no team).
            let market = extras.market.get(t).copied();
            let fines = |pick: fn(&(usize, usize)) -> usize| {
                extras.fines.iter().filter(|f| pick(f) == t).count() as u32
            };
            rows.push(AgentRow {
                run_id: label.run_id.clone(),
                year: o.year,
                agent: t,
                order: out.applied.order,
                deep: out.applied.deep,
                coast: out.applied.coast,
                harbor: out.applied.harbor,
                ships: out.ships,
                catch_deep: out.catch_deep,
                catch_coast: out.catch_coast,
                revenue: out.revenue,
                costs: out.costs,
                interest: out.interest,
                bank: out.bank,
                assets: out.assets,
                quota: extras.quotas[t],
                quota_binding: out.quota_binding,
                pledge_order: pledge.map(|p| p.order),
                pledge_deep: pledge.map(|p| p.deep),
                pledge_coast: pledge.map(|p| p.coast),
                repaired: out.repaired,
                fallback: extras.fallbacks[t],
                reported_catch: extras.reported[t],
                announced_order: announced.map(|p| p.order),
                announced_deep: announced.map(|p| p.deep),
                announced_coast: announced.map(|p| p.coast),
                talk_chars: extras.talk_chars[t] as u64,
                transfer: out.transfer,
                fines_given: fines(|f| f.0),
                fines_received: fines(|f| f.1),
                shown: extras.shown[t].join(" "),
                probe_tac: extras.probes[t].map(|(p, _)| p.tac),
                probe_set_by: extras.probes[t].map(|(p, _)| p.set_by),
                probe_grounded: extras.probes[t].map(|(_, g)| g),
                leader: extras.leader.map(|l| l == t),
                auction_ships: market.map(|m| m.auction_ships),
                auction_paid: market.map(|m| m.auction_paid),
                trade_ships: market.map(|m| m.trade_ships),
                trade_money: market.map(|m| m.trade_money),
            });
        }
    }
    rows
}

/// The `kind` of a lesson's row in `messages.csv` (read back by the runner: a next
/// generation inherits its parent's lessons from there).
pub const LESSON_KIND: &str = "lesson";

/// The published texts of a run, from its event log: every message, every intention that
/// came with a reasoning, every candidate's agenda and every lesson.
fn message_rows(label: &RunLabel, events: &[Event]) -> Vec<MessageRow> {
    let row = |year, round, from, to: &[usize], text: &str, kind: &str, id: String| MessageRow {
        run_id: label.run_id.clone(),
        year,
        round,
        from,
        to: to
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        text: escape_text(text),
        tokens: crate::protocol::tokens_of(text.chars().count()),
        kind: kind.to_string(),
        id,
    };
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message {
                year,
                round,
                from,
                to,
                text,
                ..
            } => {
                let id = message_id(*year, *round, *from);
                Some(row(*year, *round, *from, to, text, "message", id))
            }
            Event::Intention {
                year,
                round,
                team,
                reasoning,
                ..
            } if !reasoning.is_empty() => {
                let id = intention_id(*year, *round, *team);
                Some(row(*year, *round, *team, &[], reasoning, "intention", id))
            }
            Event::Agenda {
                year, team, text, ..
            } if !text.is_empty() => {
                let id = format!("a{year}.{}", team + 1);
                Some(row(*year, 0, *team, &[], text, "agenda", id))
            }
            Event::Lesson {
                year, team, text, ..
            } if !text.is_empty() => {
                let id = format!("l{year}.{}", team + 1);
                Some(row(*year, 0, *team, &[], text, LESSON_KIND, id))
            }
            _ => None,
        })
        .collect()
}
