//! The mock's policies: a valid answer to every question for the facts it read, and the sampling a temperature adds.

use super::*;

/// The policy's answer as a JSON value (always valid for the facts read).
pub fn policy_answer(
    policy: Policy,
    p: &GameParams,
    f: &PromptFacts,
    rng: &mut ChaCha8Rng,
) -> serde_json::Value {
    let teams = f.teams.max(1) as f64;
    let ships = f.ships.max(0);
    let limit = f.order_limit.max(0);
    // An equal share of each area's sustainable fleet, smaller while the area is below
    // its most productive density (so that it can recover).
    let share = |a: Area| {
        let msy_d = p.msy_density();
        let recovery = match f.density {
            Some(d) if msy_d > 0.0 => (d[a.index()] / msy_d).clamp(0.0, 1.0),
            _ => 1.0,
        };
        (p.sustainable_fleet(a) / teams * recovery * recovery).floor() as i64
    };
    let msy = (p.msy(Area::Deep) + p.msy(Area::Coast)).round() as i64;
    let sustainable = || {
        let (sd, sc) = (share(Area::Deep), share(Area::Coast));
        let order = (sd + sc - ships).clamp(0, limit);
        let deep = sd.min(ships);
        (order, deep, sc.min(ships - deep))
    };
    let (order, deep, coast) = match policy {
        Policy::Greedy => greedy(p, f, ships, limit),
        Policy::Sustainable => sustainable(),
        Policy::Follower => match (f.quota, f.density) {
            (Some(q), Some(d)) => fish_quota(p, q, d, ships),
            _ => sustainable(),
        },
        Policy::Chaotic => {
            let order = rng.random_range(0..=limit);
            let deep = rng.random_range(0..=ships);
            (order, deep, rng.random_range(0..=ships - deep))
        }
        Policy::Conditional => {
            let restrained = (share(Area::Deep) + share(Area::Coast)) as f64 * 1.1;
            let others: Vec<i64> = f
                .announced
                .iter()
                .filter(|(t, _)| *t != f.team)
                .map(|(_, s)| *s)
                .collect();
            let hold_back = match (f.consensus, others.is_empty()) {
                (Some([_, d, c]), _) => ((d + c) as f64) <= restrained,
                (None, false) => {
                    others.iter().sum::<i64>() as f64 / others.len() as f64 <= restrained
                }
                (None, true) => false,
            };
            match (f.quota, f.density) {
                (Some(q), Some(d)) => fish_quota(p, q, d, ships),
                _ if hold_back => sustainable(),
                _ => greedy(p, f, ships, limit),
            }
        }
    };
    let Some(kind) = f.kind else {
        return json!("I do not understand what is being asked.");
    };
    // What a policy announces: its plan, but a conditional cooperator offers a
    // sustainable share (it holds back if the others do).
    let (a_order, a_deep, a_coast) = match policy {
        Policy::Conditional => sustainable(),
        _ => (order, deep, coast),
    };
    match kind {
        RequestKind::Message => {
            // Cut to the room it is given (a small `max_message_chars` or what is left of
            // a budget); a directed message (`to`) goes to everyone: nobody marked.
            let text = format!(
                "Team {}: I plan order {a_order}, deep {a_deep}, coast {a_coast}.",
                f.team
            );
            let max = max_length(f, "message");
            let mut answer = json!({"message": text.chars().take(max).collect::<String>()});
            fill_required(&mut answer, f, policy);
            answer
        }
        RequestKind::Intention => {
            let mut answer = json!({"order": a_order, "deep": a_deep, "coast": a_coast});
            fill_required(&mut answer, f, policy);
            answer
        }
        RequestKind::Probe => json!({
            "tac": f.median.unwrap_or(msy),
            "set_by": 0,
        }),
        RequestKind::Sanction => {
            let field = f.schema.as_ref().map(|s| &s["properties"]["fine"]);
            let max = field.map_or(0, crate::question::field::set_capacity);
            let targets: Vec<i64> = match policy {
                Policy::Conditional | Policy::Sustainable => f
                    .over_share
                    .iter()
                    .copied()
                    .filter(|t| *t != f.team)
                    .take(max)
                    .collect(),
                _ => Vec::new(),
            };
            json!({"fine": field.map_or(json!({}), |s| crate::question::field::set_answer(s, &targets))})
        }
        RequestKind::Proposal => json!({"tac": match policy {
            Policy::Greedy => 3 * msy,
            Policy::Chaotic => rng.random_range(0..=4 * msy),
            _ => f.median.unwrap_or(msy),
        }}),
        RequestKind::Vote => {
            let median = f.median.unwrap_or(msy);
            let accept = match policy {
                Policy::Greedy => median >= msy,
                Policy::Sustainable | Policy::Conditional => median <= msy + msy / 5,
                Policy::Follower => true,
                Policy::Chaotic => rng.random_bool(0.5),
            };
            json!({"accept": accept, "reason": format!("the median TAC is {median}")})
        }
        RequestKind::Report => {
            let actual = f.actual_catch.unwrap_or(0);
            json!({"catch": if policy == Policy::Greedy { actual * 4 / 5 } else { actual }})
        }
        RequestKind::Pledge => json!({"order": a_order, "deep": a_deep, "coast": a_coast}),
        RequestKind::Decision => json!({"order": order, "deep": deep, "coast": coast}),
        RequestKind::Agenda => {
            let max = max_length(f, "agenda");
            let promised = match policy {
                Policy::Greedy => 3 * msy,
                Policy::Chaotic => rng.random_range(0..=4 * msy),
                _ => msy,
            };
            let text = format!(
                "Team {}: as leader I will set a total allowable catch of {promised} fish a year and publish who keeps to it.",
                f.team
            );
            json!({"agenda": text.chars().take(max).collect::<String>()})
        }
        RequestKind::Ballot => {
            let allowed: Vec<i64> = f
                .schema
                .as_ref()
                .and_then(|s| s["properties"]["leader"]["enum"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_i64())
                .collect();
            let promise = |t: &i64| {
                f.agendas
                    .iter()
                    .find(|(team, _)| team == t)
                    .and_then(|(_, tac)| *tac)
            };
            let pick = match policy {
                Policy::Chaotic if !allowed.is_empty() => {
                    Some(allowed[rng.random_range(0..allowed.len())])
                }
                // Greedy wants the highest promise, the others the lowest (unknown last).
                Policy::Greedy => allowed
                    .iter()
                    .copied()
                    .max_by_key(|t| promise(t).unwrap_or(i64::MIN)),
                _ => allowed
                    .iter()
                    .copied()
                    .min_by_key(|t| promise(t).unwrap_or(i64::MAX)),
            };
            json!({"leader": pick.unwrap_or(0)})
        }
        RequestKind::LeaderTac => json!({"tac": match policy {
            Policy::Greedy => 3 * msy,
            Policy::Chaotic => rng.random_range(0..=4 * msy),
            _ => msy,
        }}),
        RequestKind::LeaderReport => {
            let truth = f.truth.unwrap_or(0);
            json!({"catch": if policy == Policy::Greedy { truth * 4 / 5 } else { truth }})
        }
        RequestKind::Lesson => {
            let max = max_length(f, "lesson");
            json!({"lesson": reasoning(policy, max)})
        }
        // Greedy buys ships up to what one earns this year, cooperators sell the ships
        // beyond their sustainable share, the others stay out.
        RequestKind::Bid => {
            let most = maximum(f, "ships");
            match policy {
                Policy::Greedy => {
                    let worth = ship_worth(p, f).min(maximum(f, "price"));
                    json!({"ships": if worth > 0 { most } else { 0 }, "price": worth.max(0)})
                }
                _ => json!({"ships": 0, "price": 0}),
            }
        }
        RequestKind::Offer => {
            let surplus = ships - (share(Area::Deep) + share(Area::Coast));
            match policy {
                Policy::Sustainable | Policy::Conditional if surplus > 0 => {
                    json!({"ships": surplus, "price": 250.min(maximum(f, "price"))})
                }
                _ => json!({"ships": 0, "price": 0}),
            }
        }
        RequestKind::Accept => {
            let worth = ship_worth(p, f);
            let taken: Vec<i64> = match policy {
                Policy::Greedy => f
                    .offers
                    .iter()
                    .filter(|(_, team, _, price)| *team != f.team && *price <= worth)
                    .map(|(n, ..)| *n)
                    .collect(),
                _ => Vec::new(),
            };
            let field = f.schema.as_ref().map(|s| &s["properties"]["take"]);
            json!({"take": field.map_or(json!({}), |s| crate::question::field::set_answer(s, &taken))})
        }
    }
}

/// The `maximum` the request's schema gives an integer field (0 when it gives none).
fn maximum(f: &PromptFacts, field: &str) -> i64 {
    f.schema
        .as_ref()
        .and_then(|s| s["properties"][field]["maximum"].as_i64())
        .unwrap_or(0)
}

/// What one more ship earns this year where a ship earns most, at the densities read.
fn ship_worth(p: &GameParams, f: &PromptFacts) -> i64 {
    let [dd, dc] = f.density.unwrap_or([1.0, 1.0]);
    let profit =
        |a: Area, d: f64| p.fish_price as f64 * p.catch_per_ship(a, d) - p.area(a).cost as f64;
    profit(Area::Deep, dd).max(profit(Area::Coast, dc)).floor() as i64
}

/// The `maxLength` the request's schema gives a text field (0 when it gives none).
fn max_length(f: &PromptFacts, field: &str) -> usize {
    f.schema
        .as_ref()
        .and_then(|s| s["properties"][field]["maxLength"].as_u64())
        .unwrap_or(0) as usize
}

/// Moves a plan's deep-sea and coast ships by one ship each with probability
/// `temperature / 2`, keeping the plan valid.
pub(super) fn sample_plan(
    answer: &mut serde_json::Value,
    f: &PromptFacts,
    temperature: f64,
    rng: &mut ChaCha8Rng,
) {
    let (Some(deep), Some(coast)) = (answer["deep"].as_i64(), answer["coast"].as_i64()) else {
        return;
    };
    let p = (temperature / 2.0).clamp(0.0, 1.0);
    let step = |x: i64, rng: &mut ChaCha8Rng| {
        if rng.random_bool(p) {
            x + if rng.random_bool(0.5) { 1 } else { -1 }
        } else {
            x
        }
    };
    let ships = f.ships.max(0);
    let deep = step(deep, rng).clamp(0, ships);
    let coast = step(coast, rng).clamp(0, ships - deep);
    answer["deep"] = json!(deep);
    answer["coast"] = json!(coast);
}

/// Orders and ships to sea of a greedy player: every ship where a ship earns most, and
/// the order limit while a ship there earns money. Under a binding quota it complies, as
/// the scripted `greedy` does: it sends the ships that can catch the quota there and
/// orders only when its fleet is too small to catch it (a ship it could not use would
/// only cost money: without this, a greedy mock under a cap ordered the limit every year
/// and its assets, profits and Gini measured nothing but that).
pub(super) fn greedy(p: &GameParams, f: &PromptFacts, ships: i64, limit: i64) -> (i64, i64, i64) {
    let [dd, dc] = f.density.unwrap_or([1.0, 1.0]);
    let profit =
        |a: Area, d: f64| p.fish_price as f64 * p.catch_per_ship(a, d) - p.area(a).cost as f64;
    let (deep, coast) = (profit(Area::Deep, dd), profit(Area::Coast, dc));
    let (area, best) = if deep >= coast {
        (Area::Deep, deep)
    } else {
        (Area::Coast, coast)
    };
    let needed = f.quota.filter(|_| f.quota_binding).map(|q| {
        let per_ship = p.catch_per_ship(area, [dd, dc][area.index()]);
        if per_ship <= 0.0 {
            0
        } else {
            (q.max(0) as f64 / per_ship).ceil() as i64
        }
    });
    let order = match needed {
        Some(n) if n <= ships => 0,
        _ if best > 0.0 => limit,
        _ => 0,
    };
    let at_sea = needed.map_or(ships, |n| n.min(ships));
    match area {
        Area::Deep => (order, at_sea, 0),
        Area::Coast => (order, 0, at_sea),
    }
}

/// Ships that catch a quota of `q` fish, split between the areas in proportion to their
/// sustainable yields; nothing is ordered.
pub(super) fn fish_quota(p: &GameParams, q: i64, density: [f64; 2], ships: i64) -> (i64, i64, i64) {
    let msy_total = p.msy(Area::Deep) + p.msy(Area::Coast);
    let mut free = ships;
    let mut out = [0i64; 2];
    for a in Area::ALL {
        let share = if msy_total > 0.0 {
            p.msy(a) / msy_total
        } else {
            0.5
        };
        let per_ship = p.catch_per_ship(a, density[a.index()]);
        if per_ship > 0.0 {
            let n = ((q.max(0) as f64 * share / per_ship).floor() as i64).clamp(0, free);
            out[a.index()] = n;
            free -= n;
        }
    }
    (0, out[0], out[1])
}

/// Fills the fields the schema requires that the policy did not set: a short reasoning
/// within its bound, and REP sensitivities (a cooperator fishes one ship less in an area
/// that gets poorer and one more in one that gets richer; the others do not change).
pub(super) fn fill_required(answer: &mut serde_json::Value, f: &PromptFacts, policy: Policy) {
    let Some(schema) = &f.schema else { return };
    let Some(required) = schema["required"].as_array() else {
        return;
    };
    let responsive = matches!(policy, Policy::Sustainable | Policy::Conditional);
    for name in required.iter().filter_map(|n| n.as_str()) {
        if answer.get(name).is_some() {
            continue;
        }
        let prop = &schema["properties"][name];
        let value = match prop["type"].as_str() {
            Some("string") => {
                let max = prop["maxLength"].as_u64().unwrap_or(0) as usize;
                json!(reasoning(policy, max))
            }
            Some("integer") => {
                let change = match name {
                    "deep_up_deep" | "coast_up_coast" if responsive => 1,
                    "deep_down_deep" | "coast_down_coast" if responsive => -1,
                    _ => 0,
                };
                let lo = prop["minimum"].as_i64().unwrap_or(0);
                let hi = prop["maximum"].as_i64().unwrap_or(0);
                json!(change.clamp(lo, hi.max(lo)))
            }
            Some("array") => json!([]),
            // A set (whom a message is for): nobody marked, which addresses everyone.
            Some("object") => crate::question::field::set_answer(prop, &[]),
            Some("boolean") => json!(false),
            _ => continue,
        };
        answer[name] = value;
    }
}

/// A reasoning that fills about four fifths of the room it is given (at most `max`
/// characters), so that a token-matched control, which gives more room, gets more text.
pub(super) fn reasoning(policy: Policy, max: usize) -> String {
    let (first, more) = match policy {
        Policy::Conditional => (
            "I hold back as long as the others do.",
            " If the others announce a sustainable share, I keep to mine; if they announce more, I fish as much as I can.",
        ),
        Policy::Greedy => (
            "More ships, more fish.",
            " Every ship at sea earns more than it costs while the stock lasts.",
        ),
        _ => (
            "My plan for this year.",
            " An equal share of the sustainable fleet keeps the stock productive.",
        ),
    };
    let target = max * 4 / 5;
    let mut text = first.to_string();
    // Word by word, so that the length follows the room closely.
    for word in more.split_whitespace().cycle().take(10_000) {
        if text.chars().count() + 1 + word.chars().count() > target {
            break;
        }
        text.push(' ');
        text.push_str(word);
    }
    text.chars().take(max).collect()
}
