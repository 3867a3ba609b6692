//! The seats of a run, built in one place: every kind of agent an experiment can name
//! (a scripted strategy, an LLM through the sweep's shared factory) is constructed here
//! from its resolved [`Seat`], so a new agent kind is one more arm of
//! [`AgentBuilder::build`] and nothing else in the runner.

use super::error::RunnerError;
use super::plan::RunSpec;
use super::resolve::Seat;
use super::{Experiment, RunOptions};
use crate::agents::{Agent, ScriptedAgent};
use crate::engine::GameParams;
use crate::llm::{self, AgentFactory, GameFacts};
use crate::record::{sha256_hex, RunSink};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Builds the agents of a run: scripted ones here, LLM ones through the sweep's factory
/// (shared by all runs so that rate limits, the cache and the budget hold across them).
#[derive(Clone, Default)]
pub struct AgentBuilder {
    pub(crate) llm: Option<Arc<AgentFactory>>,
    /// `[llm] max_fallback_share`: above it (over the models' answers) a run is `invalid`.
    pub(super) max_fallback_share: f64,
    /// `[human] max_fallback_share`: above it (over the people's answers) a run is
    /// `invalid`.
    pub(super) human_max_fallback_share: f64,
    /// The consensus probe every this many years (0: never).
    pub(super) probe_every: u32,
    /// Told every year played (`fishbanks play`).
    pub(super) watch: Option<super::RunWatch>,
}

impl AgentBuilder {
    /// The builder an experiment needs: with an LLM factory when a population has LLM
    /// agents.
    pub fn for_experiment(
        exp: &Experiment,
        dir: &Path,
        opts: &RunOptions,
    ) -> Result<AgentBuilder, RunnerError> {
        if !exp.plan.runs.iter().any(RunSpec::uses_llm) {
            return Ok(AgentBuilder {
                probe_every: exp.config.probe_every,
                ..AgentBuilder::default()
            });
        }
        let c = &exp.config;
        let facts = GameFacts {
            params: c.game.clone(),
            teams: c.agents,
            years: c.years,
        };
        let cache_dir = opts
            .cache_dir
            .clone()
            .unwrap_or_else(|| dir.join(crate::record::RunFiles::CACHE_DIR));
        let mut factory = AgentFactory::new(
            &c.providers,
            &c.llm,
            facts,
            &cache_dir,
            opts.cache_mode,
            &c.budget,
        )?;
        if exp.plan.runs.iter().any(RunSpec::has_people) {
            let people = opts.people.as_ref();
            factory = factory.with_people(
                &c.human,
                people.map(|d| d.model.clone()),
                people.and_then(|d| d.watch.clone()),
            );
        }
        // Remote agents in the order their first seat appears in the matrix.
        let remote: Vec<llm::remote::RemoteAgent> = c
            .matrix
            .population
            .iter()
            .filter_map(|p| c.populations.get(p))
            .flat_map(|p| p.seats.iter())
            .filter_map(|s| match s {
                Seat::Remote(agent) => Some(agent.clone()),
                _ => None,
            })
            .collect();
        if !remote.is_empty() {
            factory = factory.with_remote(&remote)?;
        }
        // MCP clients, one per `token_env`, in the order their first seat appears.
        let mut clients: Vec<Option<String>> = Vec::new();
        for seat in c
            .matrix
            .population
            .iter()
            .filter_map(|p| c.populations.get(p))
            .flat_map(|p| p.seats.iter())
        {
            if let Seat::Mcp(m) = seat {
                if !clients.contains(&m.token_env) {
                    clients.push(m.token_env.clone());
                }
            }
        }
        if !clients.is_empty() {
            factory = factory.with_mcp(&clients, opts.mcp.as_ref().map(|d| d.0.as_slice()));
        }
        Ok(AgentBuilder {
            llm: Some(Arc::new(factory)),
            max_fallback_share: c.llm.max_fallback_share,
            human_max_fallback_share: c.human.max_fallback_share,
            probe_every: c.probe_every,
            watch: None,
        })
    }

    /// The rendered protocol section of a run's LLM prompt.
    pub fn protocol_section(&self, spec: &RunSpec) -> Result<String, llm::LlmError> {
        let Some(factory) = &self.llm else {
            return Ok(String::new());
        };
        let section = spec.protocol.prompt_section();
        factory
            .templates()
            .render_protocol(section.kind, section.template, &section.facts)
    }

    /// SHA-256 of the rendered protocol section (LLM runs only), for the manifest. A
    /// matched run's section states a budget measured during the sweep, so it has none
    /// here: its template's hash (`prompt_hashes`) and its `talk_budget_chars` in
    /// `runs.csv` determine it.
    pub fn protocol_prompt_hash(&self, spec: &RunSpec) -> Option<String> {
        if !spec.uses_llm()
            || spec.protocol.budget_chars().is_none() && spec.protocol.matches_tokens_of().is_some()
        {
            return None;
        }
        let text = self.protocol_section(spec).ok()?;
        Some(sha256_hex(text.as_bytes()))
    }

    /// SHA-256 of every template in force: `system`, `rules` and `protocol.<kind>` of
    /// each protocol kind the plan's LLM runs use (empty without LLM agents).
    pub fn prompt_hashes(&self, plan: &super::Plan) -> BTreeMap<String, String> {
        let Some(factory) = &self.llm else {
            return BTreeMap::new();
        };
        let mut hashes = factory.templates().hashes();
        for run in plan.runs.iter().filter(|r| r.uses_llm()) {
            let section = run.protocol.prompt_section();
            let template = factory
                .templates()
                .protocol_template(section.kind, section.template);
            hashes.insert(
                format!("protocol.{}", section.kind),
                sha256_hex(template.as_bytes()),
            );
        }
        hashes
    }

    pub(super) fn build_all(
        &self,
        spec: &RunSpec,
        params: &Arc<GameParams>,
    ) -> Result<Vec<Box<dyn Agent>>, String> {
        let section = if spec.uses_llm() {
            self.protocol_section(spec).map_err(|e| e.to_string())?
        } else {
            String::new()
        };
        spec.seats
            .iter()
            .enumerate()
            .map(|(i, seat)| self.build(spec, i, seat, params, &section))
            .collect()
    }

    fn build(
        &self,
        spec: &RunSpec,
        i: usize,
        seat: &Seat,
        params: &Arc<GameParams>,
        protocol_section: &str,
    ) -> Result<Box<dyn Agent>, String> {
        match (seat, &self.llm) {
            (
                Seat::Scripted {
                    strategy,
                    tremble,
                    leader,
                },
                _,
            ) => Ok(Box::new(
                ScriptedAgent::new(
                    *strategy,
                    Arc::clone(params),
                    spec.rng(&format!("agent/{i}")),
                    *tremble,
                )
                .with_leader(*leader),
            )),
            (Seat::Llm { provider, persona }, Some(factory)) => factory
                .agent(&llm::NewAgent {
                    run_id: &spec.label.run_id,
                    replicate_seed: spec.label.seed,
                    agent_index: i,
                    provider,
                    persona,
                    protocol_section,
                })
                .map_err(|e| e.to_string()),
            (Seat::Human, Some(factory)) => factory
                .human_agent(&llm::NewAgent {
                    run_id: &spec.label.run_id,
                    replicate_seed: spec.label.seed,
                    agent_index: i,
                    provider: llm::HUMAN_PROVIDER,
                    persona: "",
                    protocol_section,
                })
                .map_err(|e| e.to_string()),
            (Seat::Remote(agent), Some(factory)) => factory
                .remote_agent(
                    &llm::NewAgent {
                        run_id: &spec.label.run_id,
                        replicate_seed: spec.label.seed,
                        agent_index: i,
                        provider: "remote",
                        persona: "",
                        protocol_section,
                    },
                    agent,
                )
                .map_err(|e| e.to_string()),
            (Seat::Mcp(seat), Some(factory)) => factory
                .mcp_agent(
                    &llm::NewAgent {
                        run_id: &spec.label.run_id,
                        replicate_seed: spec.label.seed,
                        agent_index: i,
                        provider: "mcp",
                        persona: "",
                        protocol_section,
                    },
                    &seat.token_env,
                )
                .map_err(|e| e.to_string()),
            (Seat::Llm { .. } | Seat::Human | Seat::Remote(_) | Seat::Mcp(_), None) => {
                Err("no LLM factory was built for this sweep".into())
            }
        }
    }

    /// Why no further year or run may start (the LLM budget is spent), if so.
    pub fn budget_exhausted(&self) -> Option<String> {
        self.llm.as_ref().and_then(|f| f.budget().exhausted())
    }

    /// Sinks the LLM layer adds (the cache, which closes each run's file at its end).
    pub(super) fn sinks(&self) -> Vec<Arc<dyn RunSink>> {
        match &self.llm {
            Some(factory) => vec![factory.cache() as Arc<dyn RunSink>],
            None => Vec::new(),
        }
    }
}
