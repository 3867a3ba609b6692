//! The in-process mock model (DESIGN §6 `kind = "mock"`), also behind the mock server.
//!
//! It reads the observation from the prompt the way a model would (the labelled lines
//! of `prompt::render_observation`), plays a named policy, and writes its
//! answer as a model might: bare JSON, JSON in a code fence, or JSON inside prose. With
//! probability `noise` the answer is one a validator must reject (prose only, cut off,
//! out of range, wrong type, a refusal). Everything is drawn from a ChaCha RNG seeded by
//! the request's seed (which the agent derives from the replicate) and a hash of the
//! messages, so the same request always gets the same answer and replicates differ. It
//! reasons with the experiment's `[game]` parameters, as a model reads them from the
//! rules.

use std::time::Duration;

use async_trait::async_trait;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::model::{hash64, ChatMessage, ChatModel, ChatRequest, ChatResponse, Usage};
use super::prompt::{DATA_CLOSE, DATA_OPEN, REQUEST_MARKER};
use super::LlmError;
use crate::agents::RequestKind;
use crate::engine::{Area, GameParams};

/// Policies the mock can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    Greedy,
    Sustainable,
    Follower,
    Chaotic,
}

impl Policy {
    pub fn parse(name: &str) -> Result<Policy, LlmError> {
        match name {
            "greedy" => Ok(Policy::Greedy),
            "sustainable" => Ok(Policy::Sustainable),
            "follower" => Ok(Policy::Follower),
            "chaotic" => Ok(Policy::Chaotic),
            other => Err(LlmError::Config(format!(
                "unknown mock policy `{other}` (greedy, sustainable, follower, chaotic)"
            ))),
        }
    }
}

/// Kinds of wrong answers the noise produces (also the mock server's content faults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadAnswer {
    Prose,
    Truncated,
    OutOfRange,
    WrongType,
    Refusal,
}

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
    pub median: Option<i64>,
    pub actual_catch: Option<i64>,
}

fn number_after(line: &str, label: &str) -> Option<i64> {
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
    for line in messages[idx].content.lines() {
        if line == DATA_OPEN {
            in_data = true;
        } else if line == DATA_CLOSE {
            in_data = false;
        } else if in_data {
            continue;
        } else if let Some(k) = line.strip_prefix(REQUEST_MARKER) {
            f.kind = RequestKind::parse(k.trim());
        } else if let Some(n) = number_after(line, "Your team:") {
            f.team = n;
        } else if let Some(n) = number_after(line, "Teams:") {
            f.teams = n;
        } else if let Some(n) = number_after(line, "Your ships:") {
            f.ships = n;
        } else if let Some(n) = number_after(line, "Most ships you may order this year:") {
            f.order_limit = n;
        } else if let Some(n) = number_after(line, "Your quota:") {
            f.quota = Some(n);
        } else if let Some(n) = number_after(line, "Median put to the vote:") {
            f.median = Some(n);
        } else if let Some(rest) = line.strip_prefix("Density: deep ") {
            let mut parts = rest.split(", coast ");
            let a = parts.next().and_then(|s| s.trim().parse().ok());
            let b = parts.next().and_then(|s| s.trim().parse().ok());
            if let (Some(a), Some(b)) = (a, b) {
                f.density = Some([a, b]);
            }
        } else if let Some(i) = line.find("your actual catch was ") {
            f.actual_catch = number_after(&line[i..], "your actual catch was ");
        }
    }
    f
}

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
    let share = |a: Area| (p.sustainable_fleet(a) / teams).round() as i64;
    let msy = (p.msy(Area::Deep) + p.msy(Area::Coast)).round() as i64;
    let sustainable = || {
        let (sd, sc) = (share(Area::Deep), share(Area::Coast));
        let order = (sd + sc - ships).clamp(0, limit);
        let deep = sd.min(ships);
        (order, deep, sc.min(ships - deep))
    };
    let (order, deep, coast) = match policy {
        Policy::Greedy => {
            let [dd, dc] = f.density.unwrap_or([1.0, 1.0]);
            let profit = |a: Area, d: f64| {
                p.fish_price as f64 * p.catch_per_ship(a, d) - p.area(a).cost as f64
            };
            if profit(Area::Deep, dd) >= profit(Area::Coast, dc) {
                (limit, ships, 0)
            } else {
                (limit, 0, ships)
            }
        }
        Policy::Sustainable => sustainable(),
        Policy::Follower => match (f.quota, f.density) {
            (Some(q), Some([dd, _])) => {
                let per_ship = p.catch_per_ship(Area::Deep, dd).max(1.0);
                (0, ((q as f64 / per_ship).floor() as i64).clamp(0, ships), 0)
            }
            _ => sustainable(),
        },
        Policy::Chaotic => {
            let order = rng.random_range(0..=limit);
            let deep = rng.random_range(0..=ships);
            (order, deep, rng.random_range(0..=ships - deep))
        }
    };
    let Some(kind) = f.kind else {
        return json!("I do not understand what is being asked.");
    };
    match kind {
        RequestKind::Message => json!({"message": format!(
            "Team {} plans to order {order} ships and send {deep} to the deep sea and {coast} to the coast.", f.team)}),
        RequestKind::Proposal => json!({"tac": match policy {
            Policy::Greedy => 3 * msy,
            Policy::Chaotic => rng.random_range(0..=4 * msy),
            _ => f.median.unwrap_or(msy),
        }}),
        RequestKind::Vote => {
            let median = f.median.unwrap_or(msy);
            let accept = match policy {
                Policy::Greedy => median >= msy,
                Policy::Sustainable => median <= msy + msy / 5,
                Policy::Follower => true,
                Policy::Chaotic => rng.random_bool(0.5),
            };
            json!({"accept": accept, "reason": format!("the median TAC is {median}")})
        }
        RequestKind::Report => {
            let actual = f.actual_catch.unwrap_or(0);
            json!({"catch": if policy == Policy::Greedy { actual * 4 / 5 } else { actual }})
        }
        RequestKind::Pledge | RequestKind::Decision => {
            json!({"order": order, "deep": deep, "coast": coast})
        }
    }
}

/// A wrong answer of the given kind, written for the facts read.
pub fn bad_answer(bad: BadAnswer, f: &PromptFacts) -> String {
    match bad {
        BadAnswer::Prose => "I think we should keep fishing the deep sea this year and see how it goes.".into(),
        BadAnswer::Truncated => "{\"order\": 1, \"deep\": ".into(),
        BadAnswer::OutOfRange => json!({
            "order": f.order_limit + 3, "deep": f.ships + 2, "coast": 1,
            "tac": -5, "catch": -1, "accept": "maybe", "message": 42
        })
        .to_string(),
        BadAnswer::WrongType => "{\"order\": \"two\", \"deep\": 2.5, \"coast\": null, \"tac\": \"many\", \"catch\": \"all\", \"accept\": \"yes\", \"message\": null}".into(),
        BadAnswer::Refusal => "I'm sorry, but I can't help with that request.".into(),
    }
}

/// Wraps valid JSON as a model might: bare, fenced, or in prose (chosen by the RNG).
pub fn dress(answer: &serde_json::Value, rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..3u8) {
        0 => answer.to_string(),
        1 => format!("```json\n{answer}\n```"),
        _ => format!("Considering the stocks, here is my answer: {answer} I hope it works out."),
    }
}

/// An RNG for one request: seed ⊕ request hash.
pub fn request_rng(seed: u64, request_hash: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ request_hash.rotate_left(17))
}

/// Hash of the parts of a request that determine the mock's answer.
pub fn messages_hash(messages: &[ChatMessage]) -> u64 {
    hash64(
        serde_json::to_string(messages)
            .unwrap_or_default()
            .as_bytes(),
    )
}

/// The mock's full answer text for a request.
pub fn mock_text(
    policy: Policy,
    params: &GameParams,
    seed: u64,
    noise: f64,
    messages: &[ChatMessage],
) -> String {
    let facts = read_prompt(messages);
    let mut rng = request_rng(seed, messages_hash(messages));
    let answer = policy_answer(policy, params, &facts, &mut rng);
    if noise > 0.0 && rng.random_bool(noise.min(1.0)) {
        let kinds = [
            BadAnswer::Prose,
            BadAnswer::Truncated,
            BadAnswer::OutOfRange,
            BadAnswer::WrongType,
            BadAnswer::Refusal,
        ];
        return bad_answer(kinds[rng.random_range(0..kinds.len())], &facts);
    }
    dress(&answer, &mut rng)
}

/// The in-process mock model.
#[derive(Debug, Clone)]
pub struct MockModel {
    pub policy: Policy,
    /// The experiment's rules, which the policy plays by.
    pub params: std::sync::Arc<GameParams>,
    pub noise: f64,
    pub latency: Duration,
}

#[async_trait]
impl ChatModel for MockModel {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        // The per-call seed samples like a real model's: replicates differ, a replay
        // does not.
        let seed = request.params.seed.unwrap_or(0) as u64;
        let text = mock_text(
            self.policy,
            &self.params,
            seed,
            self.noise,
            &request.messages,
        );
        let mut usage = Usage::estimate(&request.messages, &text);
        usage.estimated = false; // the mock's own count is exact by definition
        Ok(ChatResponse {
            text,
            usage,
            cache_hit: false,
            retries: Vec::new(),
            latency_ms: self.latency.as_millis() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{Agent, Decision, Request};
    use crate::llm::testutil::{decide, factory, mock_providers, obs, section, spec};

    #[tokio::test]
    async fn mock_policies_answer_validly_and_noise_needs_repair() {
        let o = obs();
        let quota = section("quota");
        let none = section("none");
        for policy in [
            Policy::Greedy,
            Policy::Sustainable,
            Policy::Follower,
            Policy::Chaotic,
        ] {
            let f = factory(&mock_providers(policy, 0.0));
            let mut a = f.llm_agent(&spec("run", 1, &quota)).unwrap();
            let d = decide(&mut a, &o).await.unwrap();
            assert!(d.order <= 2 && d.deep + d.coast <= 4, "{policy:?}: {d:?}");
            a.answer(&o, &Request::Proposal).await.unwrap();
            assert_eq!(a.stats().llm_repairs, 0, "{policy:?}");
        }
        let greedy = factory(&mock_providers(Policy::Greedy, 0.0));
        let mut a = greedy.llm_agent(&spec("r", 0, &none)).unwrap();
        assert_eq!(
            decide(&mut a, &o).await.unwrap(),
            Decision {
                order: 2,
                deep: 4,
                coast: 0
            }
        );

        let noisy = factory(&mock_providers(Policy::Sustainable, 0.5));
        let mut repairs = 0;
        for i in 0..6 {
            let mut a = noisy.llm_agent(&spec("r", i, &none)).unwrap();
            let mut o = o.clone();
            o.own.team = i;
            decide(&mut a, &o).await.unwrap();
            repairs += a.stats().llm_repairs;
        }
        assert!(
            repairs > 0,
            "noise 0.5 over six agents should need a repair"
        );
    }

    #[test]
    fn the_mock_plays_by_the_experiments_game() {
        let facts = PromptFacts {
            kind: Some(RequestKind::Decision),
            teams: 6,
            ships: 4,
            order_limit: 2,
            density: Some([0.8, 0.8]),
            ..PromptFacts::default()
        };
        let mut rng = request_rng(1, 1);
        let default = policy_answer(Policy::Greedy, &GameParams::default(), &facts, &mut rng);
        assert_eq!(default["deep"], 4, "the deep sea pays best by default");
        // Where deep-sea ships cost more than they can catch, greedy fishes the coast.
        let mut dear = GameParams::default();
        dear.deep.cost = 1000;
        let answer = policy_answer(Policy::Greedy, &dear, &facts, &mut rng);
        assert_eq!(
            (answer["deep"].clone(), answer["coast"].clone()),
            (json!(0), json!(4))
        );
    }

    #[test]
    fn an_unknown_request_gets_an_answer_that_is_no_decision() {
        let messages = vec![ChatMessage::user("REQUEST: telepathy\nYour ships: 4\n")];
        let facts = read_prompt(&messages);
        assert_eq!(facts.kind, None);
        let text = mock_text(Policy::Greedy, &GameParams::default(), 1, 0.0, &messages);
        assert!(
            crate::llm::parse::extract_json(&text).is_err(),
            "not JSON: {text}"
        );
    }
}
