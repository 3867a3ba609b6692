//! Helpers shared by the LLM layer's unit tests: sample game facts and observations,
//! mock providers, a model with scripted answers, and a loopback mock server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::cache::CacheMode;
use super::config::{BudgetConfig, LlmSettings, Provider, ProviderConfig, ProviderKind};
use super::factory::{sample_observation, AgentFactory, NewAgent};
use super::mock::Policy;
use super::model::{ChatModel, ChatRequest, ChatResponse, Usage};
use super::prompt::{GameFacts, Templates};
use super::LlmError;
use crate::agents::{Agent, AgentError};
use crate::engine::GameParams;
use crate::question::{Decision, Observation, Request, Response};

pub fn facts() -> GameFacts {
    GameFacts {
        params: GameParams::default(),
        teams: 6,
        years: 10,
    }
}

pub fn obs() -> Observation {
    sample_observation(&facts(), 3)
}

/// The protocol section of a kind with its default switches, rendered from the shipped
/// templates by the protocol itself (test code may reach across the layers).
pub fn section(kind: &str) -> String {
    let spec = crate::protocol::ProtocolSpec::default_of(kind).unwrap();
    let section = spec.prompt_section();
    Templates::new(&Default::default())
        .render_protocol(section.kind, section.template, &section.facts)
        .unwrap()
}

pub fn mock_config(policy: Policy, noise: f64) -> ProviderConfig {
    let mut p = ProviderConfig::new(ProviderKind::Mock);
    p.policy = Some(format!("{policy:?}").to_lowercase());
    p.noise = Some(noise);
    p.price_in_per_mtok = Some(1.0);
    p.price_out_per_mtok = Some(4.0);
    p
}

pub fn providers(config: ProviderConfig) -> BTreeMap<String, Provider> {
    BTreeMap::from([("m".to_string(), config.resolve().unwrap())])
}

pub fn mock_providers(policy: Policy, noise: f64) -> BTreeMap<String, Provider> {
    providers(mock_config(policy, noise))
}

/// A factory over `providers` with default settings and a live (cache-less) store.
pub fn factory(providers: &BTreeMap<String, Provider>) -> AgentFactory {
    AgentFactory::new(
        providers,
        &LlmSettings::default(),
        facts(),
        std::path::Path::new("/nonexistent"),
        CacheMode::Live,
        &BudgetConfig::default(),
    )
    .unwrap()
}

pub fn spec<'a>(run: &'a str, i: usize, section: &'a str) -> NewAgent<'a> {
    NewAgent {
        run_id: run,
        replicate_seed: 1,
        agent_index: i,
        provider: "m",
        persona: "greedy",
        protocol_section: section,
    }
}

/// Ask an agent for a decision.
pub async fn decide(agent: &mut dyn Agent, obs: &Observation) -> Result<Decision, AgentError> {
    match agent.answer(obs, &Request::decision()).await?.response {
        Response::Decision(d) => Ok(d),
        other => panic!("a decision request answered with {other:?}"),
    }
}

/// Answers from a fixed script, one per call (repeating the last).
pub struct Scripted {
    pub answers: Vec<&'static str>,
    pub seen: Mutex<Vec<ChatRequest>>,
}

impl Scripted {
    pub fn new(answers: Vec<&'static str>) -> Arc<Scripted> {
        Arc::new(Scripted {
            answers,
            seen: Mutex::new(vec![]),
        })
    }
}

#[async_trait]
impl ChatModel for Scripted {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let mut seen = self.seen.lock().unwrap();
        let text = self.answers[seen.len().min(self.answers.len() - 1)].to_string();
        seen.push(request.clone());
        let usage = Usage {
            tokens_in: 100,
            tokens_out: 10,
            tokens_cached: None,
            estimated: false,
        };
        Ok(ChatResponse::live(text, usage, None))
    }
}

/// A mock server on 127.0.0.1:0 in the test's runtime.
pub struct Server {
    pub url: String,
    pub stats: Arc<crate::testkit::mock_server::ServerStats>,
    running: crate::testkit::Loopback,
}

impl Server {
    pub async fn start(mut opts: crate::testkit::mock_server::ServerOptions) -> Server {
        let stats = Arc::new(crate::testkit::mock_server::ServerStats::default());
        opts.stats = stats.clone();
        let running = crate::testkit::Loopback::in_runtime(move |listener, stop| {
            crate::testkit::mock_server::serve(listener, opts, stop)
        })
        .await
        .unwrap();
        Server {
            url: running.url(),
            stats,
            running,
        }
    }

    pub async fn stop(self) {
        self.running.stop().await.unwrap();
    }
}

/// An `openai` provider block pointing at `url`.
pub fn openai_config(url: &str) -> ProviderConfig {
    let mut p = ProviderConfig::new(ProviderKind::Openai);
    p.base_url = Some(url.to_string());
    p.model = Some("mock".into());
    p.timeout_s = Some(5.0);
    p
}
