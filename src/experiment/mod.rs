//! Experiments (docs/DESIGN.md §7): the TOML file as written ([`schema`]), its checked and typed
//! form ([`resolve`]), error locations ([`span`]), the plan (matrix → runs with
//! deterministic ids), the runner, resuming, merging shards, the dry-run estimate and the
//! end-of-sweep summary.

pub mod doctor;
mod error;
pub mod estimate;
mod lineage;
mod matching;
pub mod merge;
pub mod plan;
mod problems;
pub mod resolve;
mod resume;
pub mod runner;
pub mod schema;
mod seats;
pub mod span;
pub mod summary;

pub use error::RunnerError;
pub use plan::{Plan, RunSpec};
pub(crate) use problems::{every_problem, Refusal};
pub use resolve::{ExperimentConfig, Population, Seat};
pub use runner::{
    run, run_with, Hooks, McpDesks, PeopleDesk, RunOptions, RunWatch, StopLevel, SweepOutcome,
};
pub use schema::ExperimentFile;
pub use seats::AgentBuilder;
pub use span::ConfigError;

use crate::record::{Descriptions, Manifest, ManifestRun, MANIFEST_SCHEMA_VERSION};
use std::path::{Path, PathBuf};

/// Version of the harness, recorded in every manifest.
pub const HARNESS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A loaded, checked experiment and its plan.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub path: PathBuf,
    pub config: ExperimentConfig,
    pub plan: Plan,
}

impl Experiment {
    /// Read, check and plan an experiment file.
    pub fn load(path: &Path) -> Result<Experiment, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| span::unreadable(path, &e))?;
        Experiment::parse(path, &text)
    }

    /// Check and plan an experiment's text; `path` names it in messages. Every problem of
    /// the file is reported at once, in file order (see `experiment/problems.rs`).
    pub fn parse(path: &Path, text: &str) -> Result<Experiment, ConfigError> {
        problems::every_problem(path, text, Experiment::read_once)
    }

    /// One reading of a text: serde's one refusal, or every problem resolution finds.
    fn read_once(path: &Path, text: &str) -> Result<Experiment, Refusal> {
        let file: ExperimentFile =
            toml::from_str(text).map_err(|e| Refusal::Read(span::from_toml(path, text, &e)))?;
        Experiment::resolve_file(path, text, &file, &|p| p.to_string())
    }

    /// Resolve and plan an experiment as written. Problems are located in `text` (the
    /// file `path`) at `place` of their field's path: the identity for an experiment file,
    /// the candidate's table for the experiment a rating file becomes.
    pub(crate) fn resolve_file(
        path: &Path,
        text: &str,
        file: &ExperimentFile,
        place: &dyn Fn(&str) -> String,
    ) -> Result<Experiment, Refusal> {
        let config = resolve::resolve(file).map_err(|all| {
            Refusal::Resolve(
                all.into_iter()
                    .map(|inv| span::at_path(path, text, &place(&inv.path), inv.message))
                    .collect(),
            )
        })?;
        let plan = plan::plan(&config);
        Ok(Experiment {
            path: path.to_path_buf(),
            config,
            plan,
        })
    }

    /// Whether any seat of the sweep is answered outside this process: an LLM on a model
    /// server, a remote agent or an MCP client. Such a sweep mostly waits, and the binary
    /// runs it on one thread (see `cli`); a sweep answered in the process (scripted seats,
    /// the in-process mock) keeps every core busy.
    pub fn asks_outside(&self) -> bool {
        let served = |provider: &str| {
            self.config
                .providers
                .get(provider)
                .is_none_or(|p| matches!(p.backend, crate::llm::config::Backend::Openai { .. }))
        };
        self.plan
            .runs
            .iter()
            .flat_map(|r| &r.seats)
            .any(|s| match s {
                Seat::Scripted { .. } => false,
                Seat::Llm { provider, .. } => served(provider),
                Seat::Human | Seat::Remote(_) | Seat::Mcp(_) => true,
            })
    }

    /// What a researcher should know before spending time on this experiment:
    /// protocols and populations defined but left out of `[matrix]` (they will not be
    /// played), and populations whose seeds would all play one game.
    pub fn warnings(&self) -> Vec<String> {
        let c = &self.config;
        let mut out = Vec::new();
        let unused = |axis: &str, defined: Vec<&String>, played: &[String]| -> Vec<String> {
            defined
                .into_iter()
                .filter(|name| !played.contains(name))
                .map(|name| {
                    format!(
                        "{axis} `{name}` is defined but not in `[matrix] {axis}`: it will not be played"
                    )
                })
                .collect()
        };
        out.extend(unused(
            "protocol",
            c.protocols.keys().collect(),
            &c.matrix.protocol,
        ));
        out.extend(unused(
            "population",
            c.populations.keys().collect(),
            &c.matrix.population,
        ));
        if c.seeds < 2 {
            return out;
        }
        out.extend(
            c.populations
                .iter()
                .filter(|(name, p)| p.is_deterministic() && c.matrix.population.contains(name))
                .map(|(name, _)| {
                    format!(
                        "population `{name}` is deterministic (scripted seats with `tremble = 0`, none `random`): its {} seeds will play one game per cell, which the analysis counts as one observation. Give a seat a `tremble` above 0 for independent replicates.",
                        c.seeds
                    )
                }),
        );
        out
    }

    /// `<root>/<name>/`, or `root` itself when it already names the experiment (`--out
    /// results/quickstart`): a directory of that name that holds this sweep, or nothing
    /// yet, is where the results go, never a second `quickstart/` inside it.
    pub fn out_dir(&self, root: &Path) -> PathBuf {
        let named = root
            .file_name()
            .is_some_and(|n| n == self.config.name.as_str());
        let holds_results = root.join(crate::record::RunFiles::MANIFEST).exists();
        let empty = std::fs::read_dir(root).map_or(true, |mut d| d.next().is_none());
        if named && (holds_results || empty) {
            root.to_path_buf()
        } else {
            root.join(&self.config.name)
        }
    }

    /// The resolved configuration as JSON: what the manifest records and what decides
    /// whether an existing results directory belongs to this experiment.
    pub fn config_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    /// The manifest of this experiment (docs/DESIGN.md §8). `builder` supplies the prompt hashes
    /// (none without LLM agents).
    pub fn manifest(&self, builder: &AgentBuilder, shard: Option<(u32, u32)>) -> Manifest {
        let config = self.config_json();
        Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            experiment: self.config.name.clone(),
            description: self.config.description.clone(),
            harness_version: HARNESS_VERSION.to_string(),
            config_sha256: crate::record::sha256_hex(config.to_string().as_bytes()),
            years: self.config.years,
            seeds: self.config.seeds,
            first_seed: self.config.first_seed,
            agents: self.config.agents,
            game: self.config.game.clone(),
            primary_outcome: self.config.primary_outcome.clone(),
            protocols: self
                .config
                .matrix
                .protocol
                .iter()
                .filter_map(|name| {
                    let spec = self.config.protocols.get(name)?;
                    Some((name.clone(), to_json(spec)))
                })
                .collect(),
            populations: self
                .config
                .matrix
                .population
                .iter()
                .filter_map(|name| {
                    let p = self.config.populations.get(name)?;
                    Some((name.clone(), p.seats.iter().map(to_json).collect()))
                })
                .collect(),
            cells: self.plan.cells.clone(),
            runs: self
                .plan
                .runs
                .iter()
                .map(|r| ManifestRun {
                    run_id: r.label.run_id.clone(),
                    cell: r.label.cell.clone(),
                    protocol: r.label.protocol.clone(),
                    population: r.label.population.clone(),
                    seed: r.label.seed,
                    parent: r.label.parent.clone(),
                    protocol_prompt_sha256: builder.protocol_prompt_hash(r),
                })
                .collect(),
            prompt_hashes: builder.prompt_hashes(&self.plan),
            shard: shard.map(|(k, n)| format!("{k}/{n}")),
            agent_programs: builder
                .llm
                .as_ref()
                .map(|f| f.programs())
                .unwrap_or_default()
                .into_iter()
                .map(|(seat, p)| crate::record::AgentProgram {
                    seat,
                    name: p.name,
                    version: p.version,
                    protocol: p.protocol,
                })
                .collect(),
            config,
            analysis: Some(self.config.analysis.clone()),
            descriptions: self.descriptions(),
            rating: self.config.rating.clone(),
        }
    }

    /// The harness's words for what the matrix plays (see [`Descriptions`]): the texts of
    /// the personas, what a mock provider is, the protocols' idle switches.
    fn descriptions(&self) -> Descriptions {
        let c = &self.config;
        let mut out = Descriptions::default();
        for name in &c.matrix.protocol {
            let idle = c
                .protocols
                .get(name)
                .map(|p| p.idle_switches())
                .unwrap_or_default();
            if !idle.is_empty() {
                out.idle_switches
                    .insert(name.clone(), idle.into_iter().map(String::from).collect());
            }
        }
        let seats = c
            .matrix
            .population
            .iter()
            .filter_map(|name| c.populations.get(name))
            .flat_map(|p| &p.seats);
        for seat in seats {
            let Seat::Llm { provider, persona } = seat else {
                continue;
            };
            let text = if persona == "greedy" && !c.llm.personas.contains_key(persona) {
                Some(crate::llm::prompt::GREEDY_PERSONA.to_string())
            } else {
                c.llm.personas.get(persona).cloned()
            };
            if let Some(text) = text {
                out.personas.insert(persona.clone(), text);
            }
            if let Some(words) = c.providers.get(provider).and_then(|p| p.stand_in()) {
                out.providers.insert(provider.clone(), words);
            }
        }
        out
    }
}

/// A plain data type as JSON (serializing them cannot fail).
fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
