//! Experiments (DESIGN §7): the TOML schema and its validation, the plan (matrix → runs
//! with deterministic ids), the runner, resuming, and the end-of-sweep summary.

pub mod config;
pub mod estimate;
pub mod merge;
pub mod plan;
pub mod resume;
pub mod runner;
pub mod summary;

pub use config::{ConfigError, ExperimentFile};
pub use plan::{Cell, Plan, RunSpec};
pub use runner::{
    run, run_with, AgentBuilder, Hooks, Progress, RunOptions, RunnerError, StopLevel, SweepOutcome,
};

use crate::protocol::ProtocolConfig;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Version of the harness, recorded in every manifest.
pub const HARNESS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A loaded, validated experiment and its plan.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub path: PathBuf,
    pub file: ExperimentFile,
    pub plan: Plan,
}

impl Experiment {
    /// Read, validate and plan an experiment file.
    pub fn load(path: &Path) -> Result<Experiment, ConfigError> {
        let (file, _text) = config::load(path)?;
        Ok(Experiment::from_file(path, file))
    }

    pub fn from_file(path: &Path, file: ExperimentFile) -> Experiment {
        let plan = plan::plan(&file);
        Experiment {
            path: path.to_path_buf(),
            file,
            plan,
        }
    }

    /// `<root>/<name>/`.
    pub fn out_dir(&self, root: &Path) -> PathBuf {
        root.join(&self.file.name)
    }

    /// The resolved configuration as JSON: what the manifest records and what decides
    /// whether an existing results directory belongs to this experiment.
    pub fn config_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.file).unwrap_or(serde_json::Value::Null)
    }

    /// The manifest of this experiment (DESIGN §8). `builder` supplies the hashes of
    /// the LLM prompt templates (none without LLM agents).
    pub fn manifest(&self, builder: &runner::AgentBuilder) -> Manifest<'_> {
        let factory = builder.llm.as_deref();
        let protocol_hash = |r: &RunSpec| {
            let uses_llm = r.agents.iter().any(|a| a.kind == config::AgentKind::Llm);
            factory.filter(|_| uses_llm).and_then(|f| {
                f.protocol_hash(r.protocol.kind(), &runner::protocol_switches(&r.protocol))
                    .ok()
            })
        };
        let config = self.config_json();
        let digest = Sha256::digest(config.to_string().as_bytes());
        Manifest {
            experiment: &self.file.name,
            description: &self.file.description,
            harness_version: HARNESS_VERSION,
            config_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            years: self.file.years,
            seeds: self.file.seeds,
            agents: self.file.agents,
            game: &self.file.game.0,
            protocols: self
                .plan
                .cells
                .iter()
                .filter_map(|c| {
                    let spec = self.file.protocols.get(&c.protocol)?;
                    Some((c.protocol.clone(), spec.resolve(&c.protocol).ok()?))
                })
                .collect(),
            populations: self
                .file
                .populations
                .iter()
                .filter(|(k, _)| self.file.matrix.population.contains(k))
                .map(|(k, v)| (k.clone(), v.expanded()))
                .collect(),
            cells: &self.plan.cells,
            runs: self
                .plan
                .runs
                .iter()
                .map(|r| ManifestRun {
                    run_id: &r.label.run_id,
                    cell: &r.label.cell,
                    protocol: &r.label.protocol,
                    population: &r.label.population,
                    seed: r.label.seed,
                    protocol_prompt_sha256: protocol_hash(r),
                })
                .collect(),
            prompt_hashes: factory.map(|f| f.prompt_hashes()).unwrap_or_default(),
            config,
        }
    }
}

/// `manifest.json`.
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub experiment: &'a str,
    pub description: &'a str,
    pub harness_version: &'static str,
    /// SHA-256 of `config`: equal digests mean the same experiment.
    pub config_sha256: String,
    pub years: u32,
    pub seeds: u32,
    pub agents: usize,
    pub game: &'a crate::engine::GameParams,
    /// Protocols of the matrix with every switch resolved.
    pub protocols: BTreeMap<String, ProtocolConfig>,
    /// Populations of the matrix, one entry per team.
    pub populations: BTreeMap<String, Vec<config::AgentSpec>>,
    pub cells: &'a [Cell],
    pub runs: Vec<ManifestRun<'a>>,
    /// Hashes of the prompt templates LLM agents use (empty without LLM agents).
    pub prompt_hashes: BTreeMap<String, String>,
    /// The experiment file as resolved (defaults filled in).
    pub config: serde_json::Value,
}

/// A run in the manifest.
#[derive(Debug, Serialize)]
pub struct ManifestRun<'a> {
    pub run_id: &'a str,
    pub cell: &'a str,
    pub protocol: &'a str,
    pub population: &'a str,
    pub seed: u64,
    /// SHA-256 of the rendered protocol section of the LLM prompt (LLM runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_prompt_sha256: Option<String>,
}
