//! [`LlmAgent`]: an [`Agent`] that asks a [`ChatModel`].
//!
//! Each request becomes one conversation: the system prompt and persona, then the rules,
//! the protocol section, the agent's memory, the observation and the request with its
//! schema. An answer that fails validation is re-asked with the error (up to
//! `max_repairs`); after that the configured fallback applies. Every call, invalid
//! answer and fallback is counted in [`AgentStats`] and reported as an event.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::cache::cost_micro;
use super::config::Fallback;
use super::model::{
    AnswerSchema, CallContext, ChatMessage, ChatModel, ChatRequest, SamplingParams,
};
use super::parse::{parse_answer, Answer, Limits};
use super::prompt::{render_observation, render_request, schema, MemoryEntry, RequestExtra};
use super::LlmError;
use crate::agents::{
    Agent, AgentError, AgentEvent, AgentStats, Decision, Observation, Pledge, RequestKind, Vote,
};

/// Everything an [`LlmAgent`] is built from (see `AgentFactory::agent`).
pub struct LlmAgentParts {
    pub model: Arc<dyn ChatModel>,
    pub provider: String,
    pub run_id: String,
    pub agent_index: usize,
    /// System prompt followed by the persona.
    pub system: String,
    /// Rules text and protocol section, joined.
    pub preamble: String,
    pub params: SamplingParams,
    pub send_schema: bool,
    pub max_repairs: u32,
    pub fallback: Fallback,
    pub memory_years: u32,
    pub limits: Limits,
    /// USD per million tokens (input, output).
    pub prices: (f64, f64),
}

/// An LLM-backed player.
pub struct LlmAgent {
    p: LlmAgentParts,
    memory: VecDeque<MemoryEntry>,
    last_year_seen: u32,
    last_proposal: Option<i64>,
    stats: AgentStats,
    events: Vec<AgentEvent>,
}

/// Longest answer text kept in an event.
const EVENT_TEXT_CHARS: usize = 400;

impl LlmAgent {
    pub fn new(parts: LlmAgentParts) -> LlmAgent {
        LlmAgent {
            p: parts,
            memory: VecDeque::new(),
            last_year_seen: 0,
            last_proposal: None,
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

    /// The answer limits this agent validates against.
    pub fn limits(&self) -> Limits {
        self.p.limits
    }

    /// The first prompt of a request.
    pub fn prompt(
        &self,
        kind: RequestKind,
        obs: &Observation,
        extra: RequestExtra,
    ) -> Vec<ChatMessage> {
        let memory: Vec<MemoryEntry> = self.memory.iter().cloned().collect();
        let user = format!(
            "{}\n{}\n{}",
            self.p.preamble,
            render_observation(obs, &memory),
            render_request(kind, obs, extra)
        );
        vec![
            ChatMessage::system(self.p.system.clone()),
            ChatMessage::user(user),
        ]
    }

    fn context(
        &self,
        kind: RequestKind,
        obs: &Observation,
        round: u32,
        repair: u32,
    ) -> CallContext {
        CallContext {
            run_id: self.p.run_id.clone(),
            agent: self.p.agent_index,
            year: obs.public.year,
            kind,
            round,
            repair,
        }
    }

    fn no_answer(&self, kind: RequestKind, obs: &Observation, reason: String) -> AgentError {
        AgentError::NoAnswer {
            agent: self.p.agent_index,
            kind,
            year: obs.public.year,
            reason,
        }
    }

    fn record_call(&mut self, ctx: &CallContext, r: &super::ChatResponse) {
        let cost = cost_micro(r.usage.tokens_in, r.usage.tokens_out, self.p.prices);
        self.stats.llm_calls += 1;
        self.stats.llm_retries += r.retries as u64;
        self.stats.tokens_in += r.usage.tokens_in;
        self.stats.tokens_out += r.usage.tokens_out;
        self.stats.cost_micro_usd += cost;
        self.events.push(json!({
            "type": "llm_call",
            "agent": ctx.agent, "year": ctx.year, "kind": ctx.kind, "round": ctx.round,
            "repair": ctx.repair, "provider": self.p.provider,
            "tokens_in": r.usage.tokens_in, "tokens_out": r.usage.tokens_out,
            "tokens_estimated": r.usage.estimated, "cost_micro_usd": cost,
            "latency_ms": r.latency_ms, "cache_hit": r.cache_hit,
            "attempt": r.retries + 1,
        }));
    }

    /// Asks until a valid answer, a fatal error, or the fallback.
    async fn ask(
        &mut self,
        kind: RequestKind,
        obs: &Observation,
        extra: RequestExtra,
    ) -> Result<Answer, AgentError> {
        self.remember(obs);
        let mut messages = self.prompt(kind, obs, extra);
        let schema = self.p.send_schema.then(|| AnswerSchema {
            name: kind.as_str().to_string(),
            schema: schema(kind),
        });
        let mut reason = String::new();
        for repair in 0..=self.p.max_repairs {
            let ctx = self.context(kind, obs, extra.round, repair);
            let request = ChatRequest {
                messages: messages.clone(),
                params: self.p.params.clone(),
                schema: schema.clone(),
                context: ctx.clone(),
            };
            let response = match self.p.model.complete(&request).await {
                Ok(r) => r,
                Err(LlmError::Budget(why)) => return Err(AgentError::Budget(why)),
                // Replay must be exact: a miss fails the run instead of a fallback.
                Err(e @ LlmError::CacheMiss { .. }) | Err(e @ LlmError::Cache { .. }) => {
                    return Err(self.no_answer(kind, obs, e.to_string()))
                }
                Err(e) => {
                    self.events
                        .push(json!({"type": "llm_error", "agent": ctx.agent,
                        "year": ctx.year, "kind": kind, "repair": repair, "error": e.to_string()}));
                    reason = e.to_string();
                    break;
                }
            };
            self.record_call(&ctx, &response);
            match parse_answer(kind, &response.text, obs, self.p.limits) {
                Ok(answer) => return Ok(answer),
                Err(error) => {
                    self.events.push(json!({"type": "llm_invalid", "agent": ctx.agent,
                        "year": ctx.year, "kind": kind, "repair": repair, "error": error,
                        "answer": response.text.chars().take(EVENT_TEXT_CHARS).collect::<String>()}));
                    reason = format!("invalid answer: {error}");
                    if repair < self.p.max_repairs {
                        self.stats.llm_repairs += 1;
                        messages.push(ChatMessage::assistant(response.text));
                        messages.push(ChatMessage::user(format!(
                            "Your answer was invalid: {error}. Answer again with only one JSON object that matches the schema."
                        )));
                    }
                }
            }
        }
        self.fall_back(kind, obs, extra, reason)
    }

    fn fall_back(
        &mut self,
        kind: RequestKind,
        obs: &Observation,
        extra: RequestExtra,
        reason: String,
    ) -> Result<Answer, AgentError> {
        let fb = self.p.fallback;
        if fb == Fallback::FailRun {
            return Err(self.no_answer(kind, obs, reason));
        }
        self.stats.llm_fallbacks += 1;
        self.events
            .push(json!({"type": "llm_fallback", "agent": self.p.agent_index,
            "year": obs.public.year, "kind": kind, "fallback": fb, "reason": reason}));
        let hold = fb == Fallback::Hold;
        let d = obs.own.last_decision;
        let previous = d;
        Ok(match kind {
            RequestKind::Message => Answer::Message(String::new()),
            RequestKind::Proposal => {
                let q = obs.board.quota.as_ref();
                let prev = self
                    .last_proposal
                    .or(q.and_then(|q| q.tac))
                    .or(q.and_then(|q| q.median));
                Answer::Proposal(if hold { 0 } else { prev.unwrap_or(0) })
            }
            RequestKind::Vote => Answer::Vote(Vote {
                accept: false,
                reason: "no valid answer (fallback)".into(),
            }),
            RequestKind::Pledge if hold => Answer::Pledge(Pledge::default()),
            RequestKind::Pledge => Answer::Pledge(Pledge {
                order: d.order,
                deep: d.deep,
                coast: d.coast,
            }),
            RequestKind::Decision if hold => Answer::Decision(Decision::default()),
            RequestKind::Decision => Answer::Decision(previous),
            RequestKind::Report => Answer::Report(extra.actual_catch.unwrap_or(0)),
        })
    }

    fn wrong(&self, kind: RequestKind, obs: &Observation) -> AgentError {
        self.no_answer(kind, obs, "internal: answer of another kind".into())
    }
}

#[async_trait]
impl Agent for LlmAgent {
    async fn message(&mut self, obs: &Observation, round: u32) -> Result<String, AgentError> {
        let extra = RequestExtra {
            round,
            max_message_chars: self.p.limits.max_message_chars,
            ..Default::default()
        };
        match self.ask(RequestKind::Message, obs, extra).await? {
            Answer::Message(m) => Ok(m),
            _ => Err(self.wrong(RequestKind::Message, obs)),
        }
    }

    async fn propose(&mut self, obs: &Observation) -> Result<i64, AgentError> {
        match self
            .ask(RequestKind::Proposal, obs, RequestExtra::default())
            .await?
        {
            Answer::Proposal(t) => {
                self.last_proposal = Some(t);
                Ok(t)
            }
            _ => Err(self.wrong(RequestKind::Proposal, obs)),
        }
    }

    async fn vote(&mut self, obs: &Observation) -> Result<Vote, AgentError> {
        match self
            .ask(RequestKind::Vote, obs, RequestExtra::default())
            .await?
        {
            Answer::Vote(v) => Ok(v),
            _ => Err(self.wrong(RequestKind::Vote, obs)),
        }
    }

    async fn pledge(&mut self, obs: &Observation) -> Result<Pledge, AgentError> {
        match self
            .ask(RequestKind::Pledge, obs, RequestExtra::default())
            .await?
        {
            Answer::Pledge(p) => Ok(p),
            _ => Err(self.wrong(RequestKind::Pledge, obs)),
        }
    }

    async fn decide(&mut self, obs: &Observation) -> Result<Decision, AgentError> {
        match self
            .ask(RequestKind::Decision, obs, RequestExtra::default())
            .await?
        {
            Answer::Decision(d) => Ok(d),
            _ => Err(self.wrong(RequestKind::Decision, obs)),
        }
    }

    async fn report(&mut self, obs: &Observation, actual: i64) -> Result<i64, AgentError> {
        let extra = RequestExtra {
            actual_catch: Some(actual),
            ..Default::default()
        };
        match self.ask(RequestKind::Report, obs, extra).await? {
            Answer::Report(c) => Ok(c),
            _ => Err(self.wrong(RequestKind::Report, obs)),
        }
    }

    fn stats(&self) -> AgentStats {
        self.stats
    }

    fn drain_events(&mut self) -> Vec<AgentEvent> {
        std::mem::take(&mut self.events)
    }
}
