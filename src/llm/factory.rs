//! [`AgentFactory`]: the seam between the runner and the LLM layer.
//!
//! Built once per sweep, it owns one model stack per provider —
//! `CachedModel(Limited(OpenAiModel | MockModel))` — so that concurrency limits, rate
//! limits, the cache and the budget hold across all concurrent runs; it hands out one
//! [`LlmAgent`] per (run, agent).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::agent::{LlmAgent, LlmAgentParts};
use super::budget::Budget;
use super::cache::{cost_micro, CacheMode, CacheStore, CachedModel};
use super::config::{BudgetConfig, LlmSettings, ProviderConfig, ProviderKind, StructuredOutput};
use super::limits::Limited;
use super::mock::{MockModel, Policy};
use super::model::{estimate_tokens, sha256_hex, ChatModel, SamplingParams};
use super::openai::OpenAiModel;
use super::parse::Limits;
use super::prompt::{GameFacts, Templates, GREEDY_PERSONA};
use super::LlmError;
use crate::agents::{Agent, Board, Decision, Observation, OwnView, PublicView, RequestKind};

/// Which agent to build.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSpec<'a> {
    pub run_id: &'a str,
    pub agent_index: usize,
    /// Name of a `[providers.NAME]` block.
    pub provider: &'a str,
    /// Name of a persona (`greedy` is built in).
    pub persona: &'a str,
    /// Protocol kind (`none`, `broadcast`, `quota`, `ledger`), selecting the template.
    pub protocol: &'a str,
    /// The protocol's switches as strings (`rounds`, `max_message_chars`, `approval`,
    /// `enforcement`, `allocation`, `every_years`, `reporting`, `window`).
    pub switches: &'a BTreeMap<String, String>,
}

struct Provider {
    cfg: ProviderConfig,
    model: Arc<dyn ChatModel>,
}

/// Builds LLM agents; shared by every run of a sweep.
pub struct AgentFactory {
    providers: BTreeMap<String, Provider>,
    settings: LlmSettings,
    templates: Templates,
    game: GameFacts,
    rules: String,
    budget: Budget,
    store: Arc<CacheStore>,
}

/// Calls, tokens and cost, for `--dry-run`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    pub calls: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
}

impl std::ops::Add for Estimate {
    type Output = Estimate;
    fn add(self, o: Estimate) -> Estimate {
        Estimate {
            calls: self.calls + o.calls,
            tokens_in: self.tokens_in + o.tokens_in,
            tokens_out: self.tokens_out + o.tokens_out,
            cost_usd: self.cost_usd + o.cost_usd,
        }
    }
}

/// Output tokens assumed per answer when estimating (a short JSON object).
pub const ESTIMATED_ANSWER_TOKENS: u64 = 40;

impl AgentFactory {
    /// Validates every provider, reads keys from their environment variables, and builds
    /// one model stack per provider.
    pub fn new(
        providers: &BTreeMap<String, ProviderConfig>,
        settings: &LlmSettings,
        game: GameFacts,
        cache_dir: &Path,
        mode: CacheMode,
        budget: &BudgetConfig,
    ) -> Result<AgentFactory, LlmError> {
        let store = Arc::new(CacheStore::new(cache_dir, mode));
        let budget = Budget::new(budget);
        let mut built = BTreeMap::new();
        for (name, cfg) in providers {
            cfg.validate(name)?;
            let inner: Arc<dyn ChatModel> = match cfg.kind {
                // Replay needs no server and no key.
                ProviderKind::Openai if mode == CacheMode::Replay => {
                    Arc::new(Unreachable(name.clone()))
                }
                ProviderKind::Openai => Arc::new(OpenAiModel::new(name, cfg)?),
                ProviderKind::Mock => Arc::new(MockModel {
                    policy: Policy::parse(cfg.policy.as_deref().unwrap_or("greedy"))?,
                    seed: cfg.seed.unwrap_or(0) as u64,
                    noise: cfg.noise,
                    latency: Duration::from_millis(cfg.latency_ms),
                }),
            };
            built.insert(
                name.clone(),
                Provider {
                    cfg: cfg.clone(),
                    model: inner,
                },
            );
        }
        let templates = Templates::new(&settings.prompts);
        let rules = templates.render_rules(&game);
        let mut factory = AgentFactory {
            providers: BTreeMap::new(),
            settings: settings.clone(),
            templates,
            game,
            rules,
            budget,
            store,
        };
        for (name, p) in built {
            factory.install(&name, p.cfg, p.model);
        }
        Ok(factory)
    }

    /// Wraps a raw model in the provider's limits, cache and budget.
    fn install(&mut self, name: &str, cfg: ProviderConfig, raw: Arc<dyn ChatModel>) {
        let limited: Arc<dyn ChatModel> = Arc::new(Limited::new(
            raw,
            cfg.max_concurrency,
            cfg.requests_per_minute,
        ));
        // The base URL is left out on purpose: a server that moved (a new port, a copied
        // results directory) must still replay; the provider name and model identify it.
        let identity = format!(
            "{}|{:?}|{:?}|{}",
            name,
            cfg.kind,
            cfg.structured_output,
            cfg.policy.as_deref().unwrap_or("")
        );
        let model = Arc::new(CachedModel::new(
            limited,
            self.store.clone(),
            identity,
            cfg.model.clone().unwrap_or_default(),
            self.budget.clone(),
            (cfg.price_in_per_mtok, cfg.price_out_per_mtok),
        ));
        self.providers
            .insert(name.to_string(), Provider { cfg, model });
    }

    /// Replaces the raw model of a provider (tests, benchmarks), keeping its limits,
    /// cache and budget.
    pub fn with_raw_model(mut self, name: &str, raw: Arc<dyn ChatModel>) -> Result<Self, LlmError> {
        let cfg = self
            .providers
            .get(name)
            .map(|p| p.cfg.clone())
            .ok_or_else(|| LlmError::UnknownProvider(name.to_string()))?;
        self.install(name, cfg, raw);
        Ok(self)
    }

    /// The sweep's budget (the runner checks `exhausted()` before each year).
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// SHA-256 of every template, for the manifest.
    pub fn prompt_hashes(&self) -> BTreeMap<String, String> {
        self.templates.hashes()
    }

    /// SHA-256 of the rendered protocol section, recorded per run.
    pub fn protocol_hash(
        &self,
        protocol: &str,
        switches: &BTreeMap<String, String>,
    ) -> Result<String, LlmError> {
        Ok(sha256_hex(
            self.templates
                .render_protocol(protocol, switches)?
                .as_bytes(),
        ))
    }

    fn persona(&self, name: &str) -> Result<String, LlmError> {
        match self.settings.personas.get(name) {
            Some(text) => Ok(text.clone()),
            None if name == "greedy" => Ok(GREEDY_PERSONA.to_string()),
            None => Err(LlmError::UnknownPersona(name.to_string())),
        }
    }

    /// Builds the agent of one seat of one run.
    pub fn agent(&self, spec: &AgentSpec<'_>) -> Result<Box<dyn Agent>, LlmError> {
        Ok(Box::new(self.llm_agent(spec)?))
    }

    /// As [`AgentFactory::agent`], with the concrete type (tests and estimation).
    pub fn llm_agent(&self, spec: &AgentSpec<'_>) -> Result<LlmAgent, LlmError> {
        let provider = self
            .providers
            .get(spec.provider)
            .ok_or_else(|| LlmError::UnknownProvider(spec.provider.to_string()))?;
        let cfg = &provider.cfg;
        let protocol = self
            .templates
            .render_protocol(spec.protocol, spec.switches)?;
        let max_message_chars = spec
            .switches
            .get("max_message_chars")
            .and_then(|v| v.parse().ok())
            .unwrap_or(600);
        Ok(LlmAgent::new(LlmAgentParts {
            model: provider.model.clone(),
            provider: spec.provider.to_string(),
            run_id: spec.run_id.to_string(),
            agent_index: spec.agent_index,
            system: format!("{}\n{}", self.templates.system, self.persona(spec.persona)?),
            preamble: format!("{}\n{}", self.rules, protocol),
            params: SamplingParams {
                temperature: cfg.temperature,
                seed: cfg.seed,
                max_tokens: cfg.max_tokens,
            },
            send_schema: cfg.structured_output == StructuredOutput::JsonSchema,
            max_repairs: self.settings.max_repairs,
            fallback: self.settings.fallback,
            memory_years: self.settings.memory_years,
            limits: Limits {
                max_message_chars,
                max_fish: self.game.params.deep.max_stock + self.game.params.coast.max_stock,
            },
            prices: (cfg.price_in_per_mtok, cfg.price_out_per_mtok),
        }))
    }

    /// Estimated calls, tokens and cost of `runs` runs of `years` years for ONE agent
    /// seat using `spec`'s provider, persona and protocol, asked `calls_per_year` times a
    /// year (e.g. 1 for `none`, 1 + rounds for `broadcast`). Prompt size is measured by
    /// rendering a real decision prompt in the middle of the game with full memory and,
    /// for protocols that talk, a board of full-length messages from every other team.
    /// Repairs are not included (they are rare and unknowable in advance).
    pub fn estimate(
        &self,
        spec: &AgentSpec<'_>,
        runs: u64,
        years: u32,
        calls_per_year: u32,
    ) -> Result<Estimate, LlmError> {
        let mut agent = self.llm_agent(spec)?;
        let teams = self.game.teams;
        let obs_at = |year: u32| sample_observation(&self.game, year);
        for y in 1..=years.max(1) {
            agent.remember_for_estimate(&obs_at(y));
        }
        let mut obs = obs_at(years.max(1) / 2 + 1);
        if spec.protocol != "none" {
            let chars = agent_limits(&agent).max_message_chars;
            obs.board.messages = (1..teams)
                .map(|t| crate::agents::Message {
                    from: t,
                    round: 1,
                    text: "x".repeat(chars),
                })
                .collect();
        }
        let prompt = agent.prompt(RequestKind::Decision, &obs, Default::default());
        let chars: usize = prompt.iter().map(|m| m.content.chars().count()).sum();
        let calls = runs * years as u64 * calls_per_year as u64;
        let tokens_in = calls * estimate_tokens(chars);
        let out_per_call = self
            .providers
            .get(spec.provider)
            .and_then(|p| p.cfg.max_tokens)
            .map_or(ESTIMATED_ANSWER_TOKENS, |m| {
                (m as u64).min(ESTIMATED_ANSWER_TOKENS)
            });
        let tokens_out = calls * out_per_call;
        let prices = self
            .providers
            .get(spec.provider)
            .map(|p| (p.cfg.price_in_per_mtok, p.cfg.price_out_per_mtok))
            .unwrap_or((0.0, 0.0));
        Ok(Estimate {
            calls,
            tokens_in,
            tokens_out,
            cost_usd: cost_micro(tokens_in, tokens_out, prices) as f64 / 1e6,
        })
    }
}

fn agent_limits(agent: &LlmAgent) -> Limits {
    agent.limits()
}

/// A plausible observation for `year` (used to measure prompt sizes).
pub fn sample_observation(game: &GameFacts, year: u32) -> Observation {
    let p = &game.params;
    let ships = p.initial_ships;
    Observation {
        own: OwnView {
            team: 0,
            ships,
            bank: p.initial_bank,
            assets: p.initial_bank + ships as i64 * p.initial_ship_value,
            last_catch: [100, 15],
            last_decision: Decision {
                order: 2,
                deep: ships as i64 - 1,
                coast: 1,
            },
            order_limit: p.order_limit(ships),
        },
        public: PublicView {
            year,
            years_total: game.years,
            years_left: game.years.saturating_sub(year) + 1,
            teams: game.teams,
            fleet: [game.teams as u32 * (ships - 1), game.teams as u32, 0],
            catch_per_ship: Some([24.5, 14.5]),
            density: Some([0.83, 0.8]),
            ship_value: p.initial_ship_value,
            fish_price: p.fish_price,
            ship_price: p.ship_price,
            costs: [p.deep.cost, p.coast.cost, p.harbor_cost],
        },
        board: Board::default(),
    }
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
