//! [`AgentFactory`]: the seam between the runner and the LLM layer.
//!
//! Built once per sweep, it owns one model stack per provider —
//! `CachedModel(Limited(OpenAiModel | MockModel))` — so that concurrency limits, rate
//! limits, the cache and the budget hold across all concurrent runs; it hands out one
//! [`LlmAgent`] per (run, agent).

use crate::question::Fallback;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::agent::{LlmAgent, LlmAgentParts};
use super::breaker::{Breaker, BreakerSettings};
use super::cache::{CacheMode, CacheStore, CachedModel};
use super::config::{
    Backend, BudgetConfig, HumanSettings, LlmSettings, Prices, Provider, StructuredOutput,
};
use super::limits::Limited;
use super::mock::MockModel;
use super::model::{estimate_tokens, ChatModel, ResolutionWatch, SamplingParams};
use super::openai::OpenAiModel;
use super::prompt::{GameFacts, Templates, GREEDY_PERSONA};
use super::remote::{RemoteAgent, RemoteModel};
use super::spend::Budget;
use super::LlmError;
use crate::agents::Agent;
use crate::question::{Limits, Message, Observation, Request, RequestKind};

/// Which agent to build.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAgent<'a> {
    pub run_id: &'a str,
    /// The replicate's seed: mixed into every call's seed.
    pub replicate_seed: u64,
    pub agent_index: usize,
    /// Name of a `[providers.NAME]` block.
    pub provider: &'a str,
    /// Name of a persona (`greedy` is built in).
    pub persona: &'a str,
    /// The protocol section of the prompt, rendered ([`Templates::render_protocol`]).
    pub protocol_section: &'a str,
}

struct Installed {
    provider: Provider,
    /// The provider's full stack: cache, breaker, limits, backend.
    model: Arc<dyn ChatModel>,
    /// The backend alone (for the preflight check).
    raw: Arc<dyn ChatModel>,
}

/// Builds LLM agents; shared by every run of a sweep.
pub struct AgentFactory {
    providers: BTreeMap<String, Installed>,
    settings: LlmSettings,
    templates: Templates,
    game: GameFacts,
    rules: String,
    budget: Budget,
    store: Arc<CacheStore>,
    /// People's seats: how they are asked and the cached model that asks them.
    people: Option<People>,
    /// Remote agents, each with its name (`remote-1`, … in order of first seat) and its
    /// stack: cache, breaker, limits, the agent over HTTP.
    remote: Vec<RemoteStack>,
    /// MCP clients, by the `token_env` of their entries: the name (`mcp-1`, …) and the
    /// cached model that asks them.
    mcp: Vec<(Option<String>, String, Arc<dyn ChatModel>)>,
}

struct RemoteStack {
    agent: RemoteAgent,
    name: String,
    model: Arc<dyn ChatModel>,
    /// The agent alone, when it is live (not in replay): for the preflight and the
    /// doctor.
    live: Option<Arc<RemoteModel>>,
}

/// How people's seats are asked: `[human]`, the desk behind the cache, and who is told
/// how each question ended.
struct People {
    settings: HumanSettings,
    model: Arc<dyn ChatModel>,
    watch: Option<Arc<dyn ResolutionWatch>>,
}

/// An MCP client's model, by the `token_env` of its entries.
pub type McpClientModel = (Option<String>, Arc<dyn ChatModel>);

/// The provider name people's answers are recorded under (in events and the cache).
pub const HUMAN_PROVIDER: &str = "human";

/// Calls, tokens and cost, for `--dry-run`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    pub calls: u64,
    pub tokens_in: u64,
    /// Of the input, the predicted prompt-cache hits (the prefix prompts share).
    pub tokens_cached: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
}

impl std::ops::Add for Estimate {
    type Output = Estimate;
    fn add(self, o: Estimate) -> Estimate {
        Estimate {
            calls: self.calls + o.calls,
            tokens_in: self.tokens_in + o.tokens_in,
            tokens_cached: self.tokens_cached + o.tokens_cached,
            tokens_out: self.tokens_out + o.tokens_out,
            cost_usd: self.cost_usd + o.cost_usd,
        }
    }
}

/// Output tokens assumed per answer when estimating (a short JSON object).
pub const ESTIMATED_ANSWER_TOKENS: u64 = 40;

impl AgentFactory {
    /// Reads keys from their environment variables and builds one model stack per
    /// provider. Providers are already resolved (and so checked).
    pub fn new(
        providers: &BTreeMap<String, Provider>,
        settings: &LlmSettings,
        game: GameFacts,
        cache_dir: &Path,
        mode: CacheMode,
        budget: &BudgetConfig,
    ) -> Result<AgentFactory, LlmError> {
        let store = Arc::new(CacheStore::new(cache_dir, mode));
        let templates = Templates::new(&settings.prompts);
        let rules = templates.render_rules(&game);
        let mut factory = AgentFactory {
            providers: BTreeMap::new(),
            settings: settings.clone(),
            templates,
            game,
            rules,
            budget: Budget::new(budget),
            store,
            people: None,
            remote: Vec::new(),
            mcp: Vec::new(),
        };
        for (name, provider) in providers {
            let raw: Arc<dyn ChatModel> = match &provider.backend {
                // Replay needs no server and no key.
                Backend::Openai { .. } if mode == CacheMode::Replay => {
                    Arc::new(Unreachable(name.clone()))
                }
                Backend::Openai { .. } => Arc::new(OpenAiModel::new(name, provider)?),
                Backend::Mock {
                    policy,
                    noise,
                    latency_ms,
                } => Arc::new(MockModel {
                    policy: *policy,
                    params: Arc::new(factory.game.params.clone()),
                    noise: *noise,
                    latency: Duration::from_millis(*latency_ms),
                }),
            };
            factory.install(name, provider.clone(), raw);
        }
        Ok(factory)
    }

    /// Wraps a raw model in the provider's limits, cache and budget.
    fn install(&mut self, name: &str, provider: Provider, raw: Arc<dyn ChatModel>) {
        let limited: Arc<dyn ChatModel> = Arc::new(Limited::new(
            raw.clone(),
            provider.max_concurrency,
            provider.requests_per_minute,
        ));
        let guarded: Arc<dyn ChatModel> = Arc::new(Breaker::new(
            limited,
            name,
            BreakerSettings {
                outage_wait: Duration::from_secs_f64(provider.outage_wait_s),
                ..BreakerSettings::default()
            },
        ));
        // The base URL is left out on purpose: a server that moved (a new port, a copied
        // results directory) must still replay; the provider name and model identify it.
        let policy = match &provider.backend {
            Backend::Mock { policy, .. } => format!("{policy:?}").to_lowercase(),
            Backend::Openai { .. } => String::new(),
        };
        let identity = format!(
            "{}|{:?}|{:?}|{}",
            name,
            provider.kind(),
            provider.structured_output,
            policy
        );
        let model = Arc::new(CachedModel::new(
            guarded,
            self.store.clone(),
            identity,
            provider.model.clone(),
            self.budget.clone(),
            provider.prices,
        ));
        self.providers.insert(
            name.to_string(),
            Installed {
                provider,
                model,
                raw,
            },
        );
    }

    /// Seats `kind = "human"` are asked through `desk` (the seat server, which routes a
    /// request to its seat by `context.agent`), behind the same record/replay cache as a
    /// model: a played game replays with nobody at the desk. `None`: no desk (replay only).
    /// `watch` is told how each of their questions ended, replayed ones included.
    pub fn with_people(
        mut self,
        settings: &HumanSettings,
        desk: Option<Arc<dyn ChatModel>>,
        watch: Option<Arc<dyn ResolutionWatch>>,
    ) -> Self {
        let raw = desk.unwrap_or_else(|| Arc::new(Unreachable(HUMAN_PROVIDER.into())));
        let model: Arc<dyn ChatModel> = Arc::new(CachedModel::new(
            raw,
            self.store.clone(),
            format!("{HUMAN_PROVIDER}|person"),
            HUMAN_PROVIDER.to_string(),
            self.budget.clone(),
            Prices::default(),
        ));
        self.people = Some(People {
            settings: settings.clone(),
            model,
            watch,
        });
        self
    }

    /// Seats `kind = "remote"`: one stack per distinct agent (in the order given), each
    /// behind its own concurrency limit, circuit breaker and the record/replay cache, so
    /// a played game replays with no agent running. Replay builds no client (and reads
    /// no secret).
    pub fn with_remote(mut self, agents: &[RemoteAgent]) -> Result<Self, LlmError> {
        for agent in agents {
            if self.remote.iter().any(|r| &r.agent == agent) {
                continue;
            }
            let name = format!("remote-{}", self.remote.len() + 1);
            let live = if self.store.mode() == CacheMode::Replay {
                None
            } else {
                Some(Arc::new(RemoteModel::new(&name, agent)?))
            };
            let raw: Arc<dyn ChatModel> = match &live {
                Some(m) => m.clone(),
                None => Arc::new(Unreachable(name.clone())),
            };
            let limited: Arc<dyn ChatModel> =
                Arc::new(Limited::new(raw.clone(), agent.max_concurrency, None));
            let guarded: Arc<dyn ChatModel> = Arc::new(Breaker::new(
                limited,
                &name,
                BreakerSettings {
                    outage_wait: Duration::from_secs_f64(agent.outage_wait_s),
                    ..BreakerSettings::default()
                },
            ));
            // The address is left out, as a server's is: an agent that moved replays.
            let identity = format!("{name}|remote|{}", agent.transport.as_str());
            let model = Arc::new(CachedModel::new(
                guarded,
                self.store.clone(),
                identity,
                "remote".to_string(),
                self.budget.clone(),
                Prices::default(),
            ));
            self.remote.push(RemoteStack {
                agent: agent.clone(),
                name,
                model,
                live,
            });
        }
        Ok(self)
    }

    /// Seats `kind = "mcp"`: one client per `token_env` in `clients` (in order), each
    /// asked through its model in `live` (the MCP server's desk, which routes a request to
    /// its seat by `context.agent`) behind the record/replay cache, so a recorded sweep
    /// replays with no client. `None`: no server (replay only).
    pub fn with_mcp(mut self, clients: &[Option<String>], live: Option<&[McpClientModel]>) -> Self {
        for (i, key) in clients.iter().enumerate() {
            let name = format!("mcp-{}", i + 1);
            let raw = live
                .and_then(|models| models.iter().find(|(k, _)| k == key))
                .map(|(_, m)| m.clone())
                .unwrap_or_else(|| Arc::new(Unreachable(name.clone())));
            let model: Arc<dyn ChatModel> = Arc::new(CachedModel::new(
                raw,
                self.store.clone(),
                format!("{name}|mcp"),
                "mcp".to_string(),
                self.budget.clone(),
                Prices::default(),
            ));
            self.mcp.push((key.clone(), name, model));
        }
        self
    }

    /// The agent of an MCP seat whose entry names `token_env`: an [`LlmAgent`] whose
    /// model is the client, asked, validated, re-asked and cached as an LLM is.
    pub fn mcp_agent(
        &self,
        spec: &NewAgent<'_>,
        token_env: &Option<String>,
    ) -> Result<Box<dyn Agent>, LlmError> {
        let (_, name, model) = self
            .mcp
            .iter()
            .find(|(k, _, _)| k == token_env)
            .ok_or_else(|| LlmError::Config("no MCP client for this seat".into()))?;
        Ok(self.schema_seat(
            spec,
            model.clone(),
            name,
            self.settings.max_repairs,
            self.settings.fallback,
            None,
        ))
    }

    /// The MCP clients: each one's name and the `token_env` of its entries.
    pub fn mcp_clients(&self) -> Vec<(String, Option<String>)> {
        self.mcp
            .iter()
            .map(|(key, name, _)| (name.clone(), key.clone()))
            .collect()
    }

    /// What the game allows in any answer (a catch is at most every fish of the sea).
    fn limits(&self) -> Limits {
        Limits {
            max_fish: self.game.params.deep.max_stock + self.game.params.coast.max_stock,
        }
    }

    /// An agent whose model answers with the exact schema and sees the question's facts
    /// (a program or a person): the LLM path with the harness's system prompt, no
    /// persona, no sampling settings and no bill.
    fn schema_seat(
        &self,
        spec: &NewAgent<'_>,
        model: Arc<dyn ChatModel>,
        provider: &str,
        max_repairs: u32,
        fallback: Fallback,
        watch: Option<Arc<dyn ResolutionWatch>>,
    ) -> Box<dyn Agent> {
        Box::new(LlmAgent::new(LlmAgentParts {
            model,
            provider: provider.to_string(),
            run_id: spec.run_id.to_string(),
            replicate_seed: spec.replicate_seed,
            agent_index: spec.agent_index,
            system: self.templates.system.clone(),
            preamble: format!("{}\n{}", self.rules, spec.protocol_section),
            params: SamplingParams::default(),
            structured_output: StructuredOutput::JsonSchema,
            max_repairs,
            fallback,
            memory_years: self.settings.memory_years,
            limits: self.limits(),
            prices: Prices::default(),
            share_observation: true,
            watch,
            strict: true,
        }))
    }

    /// The agent of a remote seat: an [`LlmAgent`] whose model is the program, so the
    /// prompt, the schema, the validation, the re-asks and the fallback are an LLM's; it
    /// also receives the question's facts as data.
    pub fn remote_agent(
        &self,
        spec: &NewAgent<'_>,
        agent: &RemoteAgent,
    ) -> Result<Box<dyn Agent>, LlmError> {
        let stack = self
            .remote
            .iter()
            .find(|r| &r.agent == agent)
            .ok_or_else(|| {
                LlmError::Config(format!("no client for the remote agent at {}", agent.url))
            })?;
        Ok(self.schema_seat(
            spec,
            stack.model.clone(),
            &stack.name,
            self.settings.max_repairs,
            self.settings.fallback,
            None,
        ))
    }

    /// The remote agents: each one's name, seat and live client (`None` in replay), for
    /// `fishbanks doctor`.
    pub fn remote_agents(&self) -> Vec<(String, RemoteAgent, Option<Arc<RemoteModel>>)> {
        self.remote
            .iter()
            .map(|r| (r.name.clone(), r.agent.clone(), r.live.clone()))
            .collect()
    }

    /// One decision put to a remote agent (a typical one, in the middle of the game,
    /// straight to the agent: no cache, no retry): how long it took, and the answer's
    /// verdict by the question's validator.
    pub async fn time_remote(
        &self,
        spec: &NewAgent<'_>,
        model: &RemoteModel,
    ) -> (Duration, Result<(), String>) {
        let years = self.game.years.max(1);
        let obs = sample_observation(&self.game, years / 2 + 1);
        let limits = self.limits();
        let decision = Request::decision();
        let system = self.templates.system.clone();
        let preamble = format!("{}\n{}", self.rules, spec.protocol_section);
        let user = format!(
            "{preamble}\n{}\n{}",
            obs.render(&[]),
            decision.render(&obs, limits)
        );
        let request = super::model::ChatRequest {
            messages: vec![
                super::ChatMessage::system(system),
                super::ChatMessage::user(user),
            ],
            params: SamplingParams::default(),
            schema: Some(super::model::AnswerSchema::from_text(
                "decision",
                decision.question().schema_text(&obs, limits),
            )),
            context: super::model::CallContext {
                run_id: spec.run_id.to_string(),
                agent: spec.agent_index,
                year: obs.public.year,
                kind: RequestKind::Decision,
                round: 0,
                repair: 0,
            },
            asked: Some(Arc::new(super::model::Asked {
                request: decision.clone(),
                observation: obs.clone(),
                memory: Vec::new(),
                limits,
            })),
        };
        let started = std::time::Instant::now();
        let verdict = match model.complete(&request).await {
            Ok(r) => decision
                .parse(&r.text, &obs, limits)
                .map(|_| ())
                .map_err(|e| {
                    format!(
                        "invalid: {e} (answered {})",
                        r.text.chars().take(120).collect::<String>()
                    )
                }),
            Err(e) => Err(e.to_string()),
        };
        (started.elapsed(), verdict)
    }

    /// The agent of a person's seat: an [`LlmAgent`] whose model is the person, so the
    /// prompt, the schema, the validation, the re-asks and the fallback are an LLM's.
    pub fn human_agent(&self, spec: &NewAgent<'_>) -> Result<Box<dyn Agent>, LlmError> {
        let Some(people) = &self.people else {
            return Err(LlmError::Config(
                "this sweep has no seat server for its human seats: play them with `fishbanks play`, or replay a played game with --cache-mode replay".into(),
            ));
        };
        Ok(self.schema_seat(
            spec,
            people.model.clone(),
            HUMAN_PROVIDER,
            people.settings.max_repairs,
            people.settings.fallback,
            people.watch.clone(),
        ))
    }

    /// Measure provider `spec.provider` with a typical prompt of `spec`'s seat (a
    /// decision in the middle of the game), for `fishbanks doctor`.
    pub async fn doctor(
        &self,
        spec: &NewAgent<'_>,
    ) -> Result<super::preflight::ProviderCheck, LlmError> {
        let installed = self
            .providers
            .get(spec.provider)
            .ok_or_else(|| LlmError::UnknownProvider(spec.provider.to_string()))?;
        let mut agent = self.llm_agent(spec)?;
        let years = self.game.years.max(1);
        for y in 1..=years {
            agent.remember_for_estimate(&sample_observation(&self.game, y));
        }
        let obs = sample_observation(&self.game, years / 2 + 1);
        let limits = self.limits();
        let decision = Request::decision();
        let schema =
            super::model::AnswerSchema::new("decision", &decision.question().schema(&obs, limits));
        let validate = |text: &str| decision.parse(text, &obs, limits).map(|_| ());
        super::preflight::check_provider(
            spec.provider,
            &installed.provider,
            agent.prompt(&decision, &obs),
            schema,
            decision.max_answer_tokens(&obs, limits),
            &validate,
        )
        .await
    }

    /// Check every `openai` provider named in `used` before a sweep (see
    /// [`super::preflight::preflight`]); replay needs no server and checks nothing.
    pub async fn preflight(&self, used: &[String]) -> Result<(), LlmError> {
        if self.store.mode() == CacheMode::Replay {
            return Ok(());
        }
        for name in used {
            let Some(p) = self.providers.get(name) else {
                continue;
            };
            if matches!(p.provider.backend, Backend::Openai { .. }) {
                super::preflight::preflight(name, &p.provider, p.raw.as_ref()).await?;
            }
        }
        // A remote agent must be there (an A2A agent: its card, offering JSON-RPC) and
        // speak its seat's transport: one that is not there stops the sweep before run 1
        // as a dead server does (exit 75).
        for r in &self.remote {
            if let Some(live) = &r.live {
                live.check().await?;
            }
        }
        Ok(())
    }

    /// What the manifest records of each remote agent program whose card was read: its
    /// name (`remote-1`, …) with the card's name, version and the protocol spoken.
    pub fn programs(&self) -> Vec<(String, super::remote::Program)> {
        self.remote
            .iter()
            .filter_map(|r| {
                let program = r.live.as_ref()?.program()?;
                Some((r.name.clone(), program))
            })
            .collect()
    }

    /// Replaces the raw model of a provider (tests), keeping its limits, cache and
    /// budget.
    #[cfg(test)]
    pub fn with_raw_model(mut self, name: &str, raw: Arc<dyn ChatModel>) -> Result<Self, LlmError> {
        let provider = self
            .providers
            .get(name)
            .map(|p| p.provider.clone())
            .ok_or_else(|| LlmError::UnknownProvider(name.to_string()))?;
        self.install(name, provider, raw);
        Ok(self)
    }

    /// The sweep's budget (the game loop checks `exhausted()` before each year).
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The cache store, a run lifecycle sink (it closes a run's file when the run ends).
    pub fn cache(&self) -> Arc<CacheStore> {
        self.store.clone()
    }

    /// The templates in force (system prompt, rules, protocol overrides).
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    fn persona(&self, name: &str) -> Result<String, LlmError> {
        match self.settings.personas.get(name) {
            Some(text) => Ok(text.clone()),
            None if name == "greedy" => Ok(GREEDY_PERSONA.to_string()),
            None => Err(LlmError::UnknownPersona(name.to_string())),
        }
    }

    /// Builds the agent of one seat of one run.
    pub fn agent(&self, spec: &NewAgent<'_>) -> Result<Box<dyn Agent>, LlmError> {
        Ok(Box::new(self.llm_agent(spec)?))
    }

    /// As [`AgentFactory::agent`], with the concrete type (tests and estimation).
    pub fn llm_agent(&self, spec: &NewAgent<'_>) -> Result<LlmAgent, LlmError> {
        let installed = self
            .providers
            .get(spec.provider)
            .ok_or_else(|| LlmError::UnknownProvider(spec.provider.to_string()))?;
        let p = &installed.provider;
        Ok(LlmAgent::new(LlmAgentParts {
            model: installed.model.clone(),
            provider: spec.provider.to_string(),
            run_id: spec.run_id.to_string(),
            replicate_seed: spec.replicate_seed,
            agent_index: spec.agent_index,
            system: format!("{}\n{}", self.templates.system, self.persona(spec.persona)?),
            preamble: format!("{}\n{}", self.rules, spec.protocol_section),
            params: SamplingParams {
                temperature: p.sampling.temperature,
                seed: p.sampling.seed,
                max_tokens: p.sampling.max_tokens,
            },
            structured_output: p.structured_output,
            max_repairs: self.settings.max_repairs,
            fallback: self.settings.fallback,
            memory_years: self.settings.memory_years,
            limits: self.limits(),
            prices: p.prices,
            share_observation: false,
            watch: None,
            strict: false,
        }))
    }

    /// Estimated calls, tokens and cost of `runs` runs of `years` years for ONE agent
    /// seat using `spec`'s provider, persona and protocol section, answering
    /// `requests_per_year` (by kind, averaged over the years). Prompt size is measured by
    /// rendering a real prompt of each kind in the middle of the game with full memory
    /// and, when the protocol talks (`message_chars` > 0), a board of full-length
    /// messages from every other team. Cached input is predicted as the prefix this
    /// prompt shares with another team's prompt of the same request (what a server's
    /// prefix cache can reuse when calls of one year follow one another). Repairs are not
    /// included (they are rare and unknowable in advance).
    pub fn estimate(
        &self,
        spec: &NewAgent<'_>,
        runs: u64,
        years: u32,
        requests_per_year: &[(RequestKind, f64)],
        message_chars: usize,
    ) -> Result<Estimate, LlmError> {
        let mut agent = self.llm_agent(spec)?;
        let mut other = self.llm_agent(&NewAgent {
            agent_index: spec.agent_index + 1,
            ..spec.clone()
        })?;
        let teams = self.game.teams;
        let obs_at = |year: u32, team: usize| {
            let mut o = sample_observation(&self.game, year);
            o.own.team = team;
            o
        };
        for y in 1..=years.max(1) {
            agent.remember_for_estimate(&obs_at(y, 0));
            other.remember_for_estimate(&obs_at(y, 1));
        }
        let board = |mut o: Observation| {
            if message_chars > 0 {
                o.board.messages = (1..teams)
                    .map(|t| Message {
                        year: o.public.year,
                        to: Vec::new(),
                        from: t,
                        round: 1,
                        text: "x".repeat(message_chars),
                    })
                    .collect();
            }
            o
        };
        let year = years.max(1) / 2 + 1;
        let (obs, obs_other) = (board(obs_at(year, 0)), board(obs_at(year, 1)));
        let installed = self.providers.get(spec.provider);
        let out_per_call = installed
            .and_then(|p| p.provider.sampling.max_tokens)
            .map_or(ESTIMATED_ANSWER_TOKENS, |m| {
                (m as u64).min(ESTIMATED_ANSWER_TOKENS)
            });
        let prices = installed.map(|p| p.provider.prices).unwrap_or_default();
        let mut total = Estimate::default();
        for &(kind, per_year) in requests_per_year {
            let request = kind.sample(message_chars);
            let text = |m: Vec<super::ChatMessage>| -> String {
                m.into_iter()
                    .map(|m| m.content)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let mine = text(agent.prompt(&request, &obs));
            let theirs = text(other.prompt(&request, &obs_other));
            let shared = mine
                .chars()
                .zip(theirs.chars())
                .take_while(|(a, b)| a == b)
                .count();
            let calls = (runs as f64 * years as f64 * per_year).round() as u64;
            let tokens_in = calls * estimate_tokens(mine.chars().count());
            let tokens_cached = calls * estimate_tokens(shared);
            let tokens_out = calls * out_per_call;
            total = total
                + Estimate {
                    calls,
                    tokens_in,
                    tokens_cached,
                    tokens_out,
                    cost_usd: prices.cost_micro(tokens_in, tokens_cached, tokens_out) as f64 / 1e6,
                };
        }
        Ok(total)
    }
}

/// A plausible observation for `year` (used to measure prompt sizes).
pub fn sample_observation(game: &GameFacts, year: u32) -> Observation {
    Observation::sample(&game.params, game.teams, game.years, year)
}

/// Stands in for an `openai` provider in replay mode: any miss is already an error in
/// the cache layer, so this is never asked.
struct Unreachable(String);

#[async_trait::async_trait]
impl ChatModel for Unreachable {
    async fn complete(
        &self,
        request: &super::ChatRequest,
    ) -> Result<super::ChatResponse, LlmError> {
        Err(LlmError::CacheMiss {
            call: format!("{} (provider {})", request.context, self.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::mock::Policy;
    use crate::llm::testutil::{factory, mock_providers, section, spec};

    #[test]
    fn estimate_scales_with_runs_years_and_prices() {
        let f = factory(&mock_providers(Policy::Greedy, 0.0));
        let (none, broadcast) = (section("none"), section("broadcast"));
        let decisions = [(RequestKind::Decision, 1.0)];
        let one = f
            .estimate(&spec("r", 0, &none), 1, 10, &decisions, 0)
            .unwrap();
        let many = f
            .estimate(&spec("r", 0, &none), 4, 10, &decisions, 0)
            .unwrap();
        let talk = f
            .estimate(
                &spec("r", 0, &broadcast),
                1,
                10,
                &[(RequestKind::Message, 1.0), (RequestKind::Decision, 1.0)],
                600,
            )
            .unwrap();
        assert_eq!(one.calls, 10);
        assert!(
            one.tokens_in > 10 * 500,
            "a real prompt is well over 500 tokens: {one:?}"
        );
        assert_eq!(many.tokens_in, 4 * one.tokens_in);
        assert_eq!(talk.calls, 20);
        assert!(talk.tokens_in > 2 * one.tokens_in);
        // Cached input is billed at the input price unless a cached price is set.
        let expected = (one.tokens_in as f64 * 1.0 + one.tokens_out as f64 * 4.0) / 1e6;
        assert!((one.cost_usd - expected).abs() < 1e-6);
        // The rules and protocol section open every prompt: a large shared prefix.
        assert!(
            one.tokens_cached > one.tokens_in / 3 && one.tokens_cached < one.tokens_in,
            "{one:?}"
        );
    }
}
