//! [`LlmAgent`]: an [`Agent`] that asks a [`ChatModel`].
//!
//! Each request becomes one conversation: the system prompt and persona, then the rules,
//! the protocol section, the agent's memory, the observation and the request with its
//! schema. An answer that fails validation is re-asked with the error (up to
//! `max_repairs`); after that the configured fallback applies. Every call, invalid
//! answer and fallback is counted in [`AgentStats`] and reported as an event.
//!
//! A transport failure is never repaired and never falls back: the transport retries
//! it, the provider's circuit breaker waits out an outage, and what still fails fails the
//! run (or, for an outage, abandons it), so no recorded game contains an answer that
//! stood in for a server that did not reply.
//!
//! Each call carries its own seed, derived from the provider's `seed` (a base), the
//! replicate's seed, the agent and the call site: replicates of a cell sample
//! independently, and the same replicate replays identically.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;

use super::config::{Prices, StructuredOutput};
use super::model::Fault;
use super::model::{
    hash64, AnswerSchema, Asked, CallContext, ChatMessage, ChatModel, ChatRequest, ChatResponse,
    Outcome, Resolution, ResolutionWatch, SamplingParams,
};
use super::LlmError;
use crate::agents::{Agent, AgentError, AgentEvent, AgentStats};
use crate::question::{Answer, Fallback, Limits, MemoryEntry, Observation, Request, RequestKind};

/// Everything an [`LlmAgent`] is built from (see `AgentFactory::agent`).
pub struct LlmAgentParts {
    pub model: Arc<dyn ChatModel>,
    pub provider: String,
    pub run_id: String,
    /// The replicate's seed (the same in every cell: common random numbers).
    pub replicate_seed: u64,
    pub agent_index: usize,
    /// System prompt followed by the persona.
    pub system: String,
    /// Rules text and protocol section, joined.
    pub preamble: String,
    pub params: SamplingParams,
    /// How the answer's schema goes to the server (see [`StructuredOutput`]).
    pub structured_output: StructuredOutput,
    pub max_repairs: u32,
    pub fallback: Fallback,
    pub memory_years: u32,
    pub limits: Limits,
    pub prices: Prices,
    /// Hand the observation to the model with each request (a person's seat draws it).
    pub share_observation: bool,
    /// Told how each question ended (a person's desk); `None` for most agents.
    pub watch: Option<Arc<dyn ResolutionWatch>>,
    /// Read each answer strictly: exactly one JSON object, whitespace aside (a program's
    /// or a person's answer); otherwise leniently, as a model's text (prose around it,
    /// code fences).
    pub strict: bool,
}

/// An LLM-backed player.
pub struct LlmAgent {
    p: LlmAgentParts,
    memory: VecDeque<MemoryEntry>,
    last_year_seen: u32,
    stats: AgentStats,
    events: Vec<AgentEvent>,
}

/// Longest answer text kept in an event.
const EVENT_TEXT_CHARS: usize = 400;

/// The round a request belongs to (messages and intentions; 0 otherwise), for the cache
/// key and events.
fn round_of(request: &Request) -> u32 {
    request.question().round()
}

const REASK_OPENING: &str = "Your answer was invalid: ";
const REASK_CLOSING: &str = ". Answer again with only one JSON object that matches the schema.";

/// The message that re-asks a question after an invalid answer, stating `error`.
pub fn reask(error: &str) -> String {
    format!("{REASK_OPENING}{error}{REASK_CLOSING}")
}

/// The validation error a re-ask message states (see [`reask`]), for an answerer that
/// shows it in its own words (a person's form writes the JSON itself).
pub fn reask_reason(message: &str) -> Option<&str> {
    message
        .strip_prefix(REASK_OPENING)
        .map(|rest| rest.strip_suffix(REASK_CLOSING).unwrap_or(rest))
}

impl LlmAgent {
    pub fn new(parts: LlmAgentParts) -> LlmAgent {
        LlmAgent {
            p: parts,
            memory: VecDeque::new(),
            last_year_seen: 0,
            stats: AgentStats::default(),
            events: Vec::new(),
        }
    }

    /// Remembers last year (from this year's first observation), keeping
    /// `memory_years` entries.
    fn remember(&mut self, obs: &Observation) {
        let year = obs.public.year;
        if year <= self.last_year_seen {
            return;
        }
        self.last_year_seen = year;
        if year < 2 || self.p.memory_years == 0 {
            return;
        }
        let d = obs.own.last_decision;
        self.memory.push_back(MemoryEntry {
            year: year - 1,
            order: d.order,
            deep: d.deep,
            coast: d.coast,
            catch: obs.own.last_catch,
            bank_after: obs.own.bank,
            density_after: obs.public.density,
        });
        while self.memory.len() > self.p.memory_years as usize {
            self.memory.pop_front();
        }
    }

    /// Feeds an observation to the memory only (prompt-size estimation).
    pub fn remember_for_estimate(&mut self, obs: &Observation) {
        self.remember(obs);
    }

    /// The first prompt of a request.
    pub fn prompt(&self, request: &Request, obs: &Observation) -> Vec<ChatMessage> {
        let memory: Vec<MemoryEntry> = self.memory.iter().cloned().collect();
        let user = format!(
            "{}\n{}\n{}",
            self.p.preamble,
            obs.render(&memory),
            request.render(obs, self.p.limits)
        );
        vec![
            ChatMessage::system(self.p.system.clone()),
            ChatMessage::user(user),
        ]
    }

    fn context(&self, request: &Request, obs: &Observation, repair: u32) -> CallContext {
        CallContext {
            run_id: self.p.run_id.clone(),
            agent: self.p.agent_index,
            year: obs.public.year,
            kind: request.kind(),
            round: round_of(request),
            repair,
        }
    }

    /// The seed sent with one call: the provider's base seed, the replicate's seed, the
    /// agent and the call site mixed (kept below 2^31, which every server accepts).
    fn call_seed(&self, ctx: &CallContext) -> i64 {
        let material = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.p.params.seed.unwrap_or(0),
            self.p.replicate_seed,
            ctx.agent,
            ctx.year,
            ctx.kind.as_str(),
            ctx.round,
            ctx.repair
        );
        (hash64(material.as_bytes()) & 0x7fff_ffff) as i64
    }

    fn no_answer(&self, kind: RequestKind, obs: &Observation, reason: String) -> AgentError {
        AgentError::NoAnswer {
            agent: self.p.agent_index,
            kind,
            year: obs.public.year,
            reason,
        }
    }

    fn record_call(&mut self, ctx: &CallContext, r: &ChatResponse) {
        let cached = r.usage.tokens_cached.unwrap_or(0);
        let cost = self
            .p
            .prices
            .cost_micro(r.usage.tokens_in, cached, r.usage.tokens_out);
        let s = &mut self.stats;
        s.llm_calls += 1;
        s.llm_retries += r.retries.len() as u64;
        for retry in &r.retries {
            let counter = match retry.fault {
                Fault::RateLimit => &mut s.retries.rate_limit,
                Fault::ServerError => &mut s.retries.server_error,
                Fault::Timeout => &mut s.retries.timeout,
                Fault::Connection => &mut s.retries.connection,
                Fault::Malformed => &mut s.retries.malformed,
            };
            *counter += 1;
        }
        s.tokens_in += r.usage.tokens_in;
        s.tokens_cached += cached;
        s.tokens_out += r.usage.tokens_out;
        s.calls_without_cache_report += u64::from(r.usage.tokens_cached.is_none());
        s.cost_micro_usd += cost;
        let kind = ctx.kind.as_str().to_string();
        for retry in &r.retries {
            self.events.push(AgentEvent::LlmRetry {
                agent: ctx.agent,
                year: ctx.year,
                kind: kind.clone(),
                fault: retry.fault.as_str().to_string(),
                error: retry.error.clone(),
                delay_ms: retry.delay_ms,
            });
        }
        self.events.push(AgentEvent::LlmCall {
            agent: ctx.agent,
            year: ctx.year,
            kind,
            round: ctx.round,
            repair: ctx.repair,
            provider: self.p.provider.clone(),
            tokens_in: r.usage.tokens_in,
            tokens_cached: r.usage.tokens_cached,
            tokens_out: r.usage.tokens_out,
            tokens_estimated: r.usage.estimated,
            cost_micro_usd: cost,
            latency_ms: r.latency_ms,
            cache_hit: r.cache_hit,
            attempt: r.retries.len() as u32 + 1,
        });
    }

    /// Asks until a valid answer, a fatal error, or the fallback.
    async fn ask(&mut self, request: &Request, obs: &Observation) -> Result<Answer, AgentError> {
        self.remember(obs);
        let kind = request.kind();
        let mut messages = self.prompt(request, obs);
        let question = request.question();
        let nested = self.p.structured_output == StructuredOutput::JsonSchemaNested;
        let schema = match self.p.structured_output {
            StructuredOutput::JsonSchema => Some(AnswerSchema::from_text(
                kind.as_str(),
                question.schema_text(obs, self.p.limits),
            )),
            StructuredOutput::JsonSchemaNested => Some(AnswerSchema::new(
                kind.as_str(),
                &super::nested::nest(&question.schema(obs, self.p.limits)),
            )),
            StructuredOutput::JsonObject | StructuredOutput::None => None,
        };
        // Room for the longest valid answer, within the provider's own cap.
        let needed = request.max_answer_tokens(obs, self.p.limits);
        let max_tokens = Some(
            self.p
                .params
                .max_tokens
                .map_or(needed, |cap| cap.min(needed)),
        );
        self.stats.answers += 1;
        // The typed facts, for an answerer that reads them (a person, a remote agent).
        let asked = self.p.share_observation.then(|| {
            Arc::new(super::model::Asked {
                request: request.clone(),
                observation: obs.clone(),
                memory: self.memory.iter().cloned().collect(),
                limits: self.p.limits,
            })
        });
        let mut reason = String::new();
        let mut error_said = String::new();
        for repair in 0..=self.p.max_repairs {
            let ctx = self.context(request, obs, repair);
            let call = ChatRequest {
                messages: std::mem::take(&mut messages),
                params: SamplingParams {
                    seed: Some(self.call_seed(&ctx)),
                    max_tokens,
                    ..self.p.params.clone()
                },
                schema: schema.clone(),
                context: ctx.clone(),
                asked: asked.clone(),
            };
            let result = self.p.model.complete(&call).await;
            // The conversation goes on (a re-ask adds to it): taken back, never copied.
            messages = call.messages;
            let response = match result {
                Ok(r) => r,
                Err(LlmError::Outage { provider, reason }) => {
                    return Err(AgentError::Outage { provider, reason })
                }
                Err(LlmError::Stopped(reason)) => return Err(AgentError::Stopped(reason)),
                // A replay miss, a 400, a missing key: the same request would fail the
                // same way again. The run fails (and is played again on resume); no
                // fallback stands in for a call that got no answer.
                Err(e) => {
                    self.events.push(AgentEvent::LlmError {
                        agent: ctx.agent,
                        year: ctx.year,
                        kind: kind.as_str().to_string(),
                        repair,
                        error: e.to_string(),
                    });
                    return Err(self.no_answer(kind, obs, e.to_string()));
                }
            };
            self.record_call(&ctx, &response);
            if response.finish_reason.as_deref() == Some(super::model::NO_ANSWER) {
                // Nobody answered in time: no re-ask would do better.
                let reason = format!("no answer in time ({})", response.text.trim());
                let answer = self.fall_back(request, obs, reason)?;
                self.tell(&ctx, &asked, || Outcome::TimedOut {
                    applied: answer.response.clone(),
                });
                return Ok(answer);
            }
            let text = if nested {
                super::nested::unnest(&response.text)
            } else {
                response.text.clone()
            };
            let too_large = response.finish_reason.as_deref() == Some(super::model::TOO_LARGE);
            let parsed = if too_large {
                Err(format!(
                    "the answer was longer than this seat accepts (`max_answer_bytes`); only its first {} bytes were kept",
                    response.text.len()
                ))
            } else if self.p.strict {
                request.parse_strict(&text, obs, self.p.limits)
            } else {
                request.parse(&text, obs, self.p.limits)
            };
            match parsed {
                Ok(answer) => {
                    if repair == 0 {
                        self.stats.valid_first_try += 1;
                    }
                    self.tell(&ctx, &asked, || Outcome::Answered { repairs: repair });
                    return Ok(Answer::given(answer));
                }
                Err(error) => {
                    // Cut off by the token limit: say so, not merely "not JSON".
                    let error = match (response.cut_off(), max_tokens) {
                        (true, Some(n)) => format!(
                            "the answer was cut off at the limit of {n} tokens before it was complete ({error})"
                        ),
                        _ => error,
                    };
                    self.events.push(AgentEvent::LlmInvalid {
                        agent: ctx.agent,
                        year: ctx.year,
                        kind: kind.as_str().to_string(),
                        round: ctx.round,
                        repair,
                        error: error.clone(),
                        answer: response.text.chars().take(EVENT_TEXT_CHARS).collect(),
                        cut_off: response.cut_off(),
                    });
                    reason = format!("invalid answer: {error}");
                    error_said = error.clone();
                    if repair < self.p.max_repairs {
                        self.stats.repairs += 1;
                        // An answer over the size cap is echoed in part: the re-ask
                        // stays small (what is kept is already only its start).
                        let echoed = if too_large {
                            let cut: String = response.text.chars().take(1000).collect();
                            format!("{cut}…")
                        } else {
                            response.text
                        };
                        messages.push(ChatMessage::assistant(echoed));
                        messages.push(ChatMessage::user(reask(&error)));
                    }
                }
            }
        }
        let answer = self.fall_back(request, obs, reason)?;
        let ctx = self.context(request, obs, self.p.max_repairs);
        self.tell(&ctx, &asked, || Outcome::Refused {
            repairs: self.p.max_repairs,
            reason: error_said,
            applied: answer.response.clone(),
        });
        Ok(answer)
    }

    /// Tells the watch, if any, how the question asked in `ctx` ended.
    fn tell(
        &self,
        ctx: &CallContext,
        asked: &Option<Arc<Asked>>,
        outcome: impl FnOnce() -> Outcome,
    ) {
        if let Some(watch) = &self.p.watch {
            watch.resolved(&Resolution {
                context: ctx.clone(),
                asked: asked.clone(),
                outcome: outcome(),
            });
        }
    }

    /// The configured fallback, applied and counted. Proposals, votes and messages fall
    /// back to nothing (the protocol leaves a fallback answer out: an abstention, no
    /// message); a decision or pledge to the previous one or the harbor, as configured.
    fn fall_back(
        &mut self,
        request: &Request,
        obs: &Observation,
        reason: String,
    ) -> Result<Answer, AgentError> {
        let kind = request.kind();
        let fb = self.p.fallback;
        if fb == Fallback::FailRun {
            return Err(self.no_answer(kind, obs, reason));
        }
        self.stats.fallbacks += 1;
        self.events.push(AgentEvent::LlmFallback {
            agent: self.p.agent_index,
            year: obs.public.year,
            kind: kind.as_str().to_string(),
            round: round_of(request),
            fallback: fb.as_str().to_string(),
            reason,
        });
        let response = request.question().fallback(obs, fb);
        Ok(Answer {
            response,
            fallback: true,
        })
    }
}

#[async_trait]
impl Agent for LlmAgent {
    async fn answer(&mut self, obs: &Observation, request: &Request) -> Result<Answer, AgentError> {
        self.ask(request, obs).await
    }

    fn stats(&self) -> AgentStats {
        self.stats
    }

    fn drain_events(&mut self) -> Vec<AgentEvent> {
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::config::{BudgetConfig, LlmSettings};
    use crate::llm::factory::{sample_observation, AgentFactory};
    use crate::llm::mock::Policy;
    use crate::llm::testutil::{decide, facts, mock_providers, obs, section, spec, Scripted};
    use crate::llm::CacheMode;
    use crate::question::{Decision, Response};

    fn scripted_agent(answers: Vec<&'static str>, fallback: Fallback) -> (LlmAgent, Arc<Scripted>) {
        let model = Scripted::new(answers);
        let settings = LlmSettings {
            fallback,
            ..LlmSettings::default()
        };
        let f = AgentFactory::new(
            &mock_providers(Policy::Greedy, 0.0),
            &settings,
            facts(),
            std::path::Path::new("/x"),
            CacheMode::Live,
            &BudgetConfig::default(),
        )
        .unwrap()
        .with_raw_model("m", model.clone())
        .unwrap();
        let none = section("none");
        (f.llm_agent(&spec("r", 0, &none)).unwrap(), model)
    }

    #[tokio::test]
    async fn invalid_answer_is_reasked_with_the_error() {
        let (mut a, model) = scripted_agent(
            vec![
                "{\"order\": 9, \"deep\": 1, \"coast\": 1}",
                "{\"order\": 1, \"deep\": 1, \"coast\": 1}",
            ],
            Fallback::Previous,
        );
        let d = decide(&mut a, &obs()).await.unwrap();
        assert_eq!(
            d,
            Decision {
                order: 1,
                deep: 1,
                coast: 1
            }
        );
        let s = a.stats();
        assert_eq!((s.llm_calls, s.repairs, s.fallbacks), (2, 1, 0));
        assert_eq!(
            (s.tokens_in, s.tokens_out, s.cost_micro_usd),
            (200, 20, 280)
        );
        let seen = model.seen.lock().unwrap();
        let repair = &seen[1].messages;
        assert_eq!(repair.len(), 4);
        assert!(repair[3].content.contains("between 0 and 2"));
        assert_eq!(seen[1].context.repair, 1);
        let events = a.drain_events();
        let calls = events
            .iter()
            .filter(|e| matches!(e, AgentEvent::LlmCall { .. }))
            .count();
        assert_eq!(calls, 2);
        assert!(events
            .iter()
            .any(|e| matches!(e, AgentEvent::LlmInvalid { .. })));
    }

    #[tokio::test]
    async fn fallbacks_apply_after_max_repairs_and_are_counted() {
        let (mut a, _) = scripted_agent(vec!["no idea"], Fallback::Previous);
        let o = obs();
        let answer = a.answer(&o, &Request::decision()).await.unwrap();
        assert_eq!(answer.response, Response::Decision(o.own.last_decision));
        assert!(answer.fallback, "a fallback says so");
        let s = a.stats();
        assert_eq!((s.llm_calls, s.repairs, s.fallbacks), (3, 2, 1));
        assert!(a
            .drain_events()
            .iter()
            .any(|e| matches!(e, AgentEvent::LlmFallback { .. })));

        let (mut a, _) = scripted_agent(vec!["no idea"], Fallback::Hold);
        assert_eq!(decide(&mut a, &o).await.unwrap(), Decision::default());

        let (mut a, _) = scripted_agent(vec!["no idea"], Fallback::FailRun);
        assert!(matches!(
            decide(&mut a, &o).await,
            Err(AgentError::NoAnswer { .. })
        ));
    }

    /// Keeps every resolution it is told.
    #[derive(Default)]
    struct Told(std::sync::Mutex<Vec<Resolution>>);

    impl ResolutionWatch for Told {
        fn resolved(&self, r: &Resolution) {
            self.0.lock().unwrap().push(r.clone());
        }
    }

    /// A person who never answers: every call comes back "no answer in time".
    struct Away;

    #[async_trait]
    impl ChatModel for Away {
        async fn complete(&self, _: &ChatRequest) -> Result<ChatResponse, LlmError> {
            Ok(ChatResponse::live(
                "no answer within 5 s".into(),
                Default::default(),
                Some(super::super::model::NO_ANSWER.into()),
            ))
        }
    }

    #[tokio::test]
    async fn the_watch_is_told_how_each_question_ended_and_what_was_applied() {
        let o = obs();
        let told = Arc::new(Told::default());
        // Valid after one re-ask.
        let (mut a, _) = scripted_agent(
            vec!["nonsense", r#"{"order": 0, "deep": 1, "coast": 1}"#],
            Fallback::Previous,
        );
        a.p.watch = Some(told.clone());
        a.p.share_observation = true;
        decide(&mut a, &o).await.unwrap();
        // Refused at every ask.
        let (mut a, _) = scripted_agent(vec!["nonsense"], Fallback::Previous);
        a.p.watch = Some(told.clone());
        decide(&mut a, &o).await.unwrap();
        // Nobody there.
        let (mut a, _) = scripted_agent(vec!["unused"], Fallback::Previous);
        a.p.model = Arc::new(Away);
        a.p.watch = Some(told.clone());
        decide(&mut a, &o).await.unwrap();
        let told = told.0.lock().unwrap();
        let outcomes: Vec<&Outcome> = told.iter().map(|r| &r.outcome).collect();
        let previous = Response::Decision(o.own.last_decision);
        assert_eq!(outcomes[0], &Outcome::Answered { repairs: 1 });
        assert!(
            matches!(outcomes[1], Outcome::Refused { repairs: 2, reason, applied } if reason.contains("JSON") && *applied == previous),
            "{:?}",
            outcomes[1]
        );
        assert_eq!(outcomes[2], &Outcome::TimedOut { applied: previous });
        assert!(told[0].asked.is_some(), "the facts go with it when shared");
        assert_eq!(told[1].context.repair, 2, "the last ask's context");
        // The re-ask states the error in a form a person's page can take apart.
        assert_eq!(
            reask_reason(&reask("field `x` is missing")),
            Some("field `x` is missing")
        );
    }

    #[tokio::test]
    async fn each_call_carries_a_seed_of_its_replicate_and_call_site() {
        let model = Scripted::new(vec!["{\"order\": 0, \"deep\": 1, \"coast\": 1}"]);
        let f = AgentFactory::new(
            &mock_providers(Policy::Greedy, 0.0),
            &LlmSettings::default(),
            facts(),
            std::path::Path::new("/x"),
            CacheMode::Live,
            &BudgetConfig::default(),
        )
        .unwrap()
        .with_raw_model("m", model.clone())
        .unwrap();
        let none = section("none");
        let seeds = |replicate: u64| {
            let spec = crate::llm::factory::NewAgent {
                replicate_seed: replicate,
                ..spec("r", 0, &none)
            };
            let mut a = f.llm_agent(&spec).unwrap();
            let model = model.clone();
            async move {
                decide(&mut a, &obs()).await.unwrap();
                decide(&mut a, &sample_observation(&facts(), 4))
                    .await
                    .unwrap();
                let seen = model.seen.lock().unwrap();
                let n = seen.len();
                (seen[n - 2].params.seed, seen[n - 1].params.seed)
            }
        };
        let one = seeds(1).await;
        assert_ne!(one.0, one.1, "another year, another seed");
        assert_eq!(one, seeds(1).await, "the same replicate, the same seeds");
        assert_ne!(one, seeds(2).await, "another replicate, other seeds");
    }

    #[tokio::test]
    async fn memory_is_bounded() {
        let (mut a, model) = scripted_agent(
            vec!["{\"order\": 0, \"deep\": 1, \"coast\": 1}"],
            Fallback::Previous,
        );
        for y in 1..=9 {
            decide(&mut a, &sample_observation(&facts(), y))
                .await
                .unwrap();
        }
        let seen = model.seen.lock().unwrap();
        let last = &seen.last().unwrap().messages[1].content;
        let remembered = last
            .lines()
            .filter(|l| l.starts_with("Year ") && l.contains("ordered"))
            .count();
        assert_eq!(remembered, LlmSettings::default().memory_years as usize);
        assert!(last.contains("Year 8: ordered") && !last.contains("Year 3: ordered"));
    }
}
