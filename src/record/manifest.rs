//! `manifest.json`: what a results directory holds, typed and versioned. Written by the
//! runner, read back through this same type by resume, merge and the analysis, so there
//! is one definition of every field and one set of defaults (none: a manifest that does
//! not parse is an error).

use super::{write_atomic, RecordError, RunFiles};
use crate::engine::GameParams;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the manifest layout. Bump it when a field changes meaning or is removed;
/// a harness refuses manifests of another version instead of guessing.
pub const MANIFEST_SCHEMA_VERSION: u32 = 2;

/// The outcomes an experiment may declare as its `primary_outcome`: survival time
/// (restricted mean, `rmst`, the default), the share of runs that never collapsed, and
/// per-run outcomes of `metrics.csv`.
pub const PRIMARY_OUTCOMES: [&str; 9] = [
    "rmst",
    "survival_rate",
    "final_stock",
    "min_stock",
    "total_catch",
    "cumulative_profit",
    "total_assets",
    "gini_assets",
    "overuse_share",
];

/// What the report answers (`[analysis]` of the experiment file, resolved): the protocol
/// and the population every other is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisChoice {
    pub reference: String,
    pub reference_population: String,
}

/// A rating's results (`fishbanks rate`): the battery played and the candidates rated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingInfo {
    /// The battery's version (`fishbanks-1`).
    pub battery: String,
    /// The candidates' names, as the rating file lists them.
    pub candidates: Vec<String>,
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    /// `<protocol>/<population>`.
    pub cell: String,
    /// The protocol's name in the experiment file.
    pub protocol: String,
    /// Its kind (`none`, `broadcast`, …): names may be anything, kinds are fixed.
    pub protocol_kind: String,
    pub population: String,
    /// The generation its runs are of (1 without generations; see `[generations]`).
    #[serde(default = "first_generation", skip_serializing_if = "is_first")]
    pub generation: u32,
}

fn first_generation() -> u32 {
    1
}

fn is_first(g: &u32) -> bool {
    *g == 1
}

/// A run in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRun {
    pub run_id: String,
    pub cell: String,
    pub protocol: String,
    pub population: String,
    pub seed: u64,
    /// The previous generation's run, when the experiment has generations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// SHA-256 of the rendered protocol section of the LLM prompt (LLM runs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_prompt_sha256: Option<String>,
}

/// A program that played seats, as it names itself: an A2A agent's card, an MCP
/// client's `clientInfo`. Which agent played is part of what a result is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentProgram {
    /// The seats' agent (`remote-1`, `mcp-1`).
    pub seat: String,
    pub name: String,
    pub version: String,
    /// What the harness spoke to it (`a2a 1.0`, `mcp 2025-06-18`).
    pub protocol: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema_version: u32,
    pub experiment: String,
    pub description: String,
    pub harness_version: String,
    /// SHA-256 of `config`: equal digests mean the same experiment.
    pub config_sha256: String,
    pub years: u32,
    pub seeds: u32,
    pub first_seed: u64,
    /// Teams per game.
    pub agents: usize,
    pub game: GameParams,
    /// The outcome that answers the experiment's question (one of [`PRIMARY_OUTCOMES`]);
    /// the others are exploratory.
    pub primary_outcome: String,
    /// Protocols of the matrix with every switch resolved (each has its `kind`).
    pub protocols: BTreeMap<String, serde_json::Value>,
    /// Populations of the matrix, one entry per team.
    pub populations: BTreeMap<String, Vec<serde_json::Value>>,
    pub cells: Vec<Cell>,
    pub runs: Vec<ManifestRun>,
    /// Hashes of the prompt templates LLM agents use (empty without LLM agents).
    pub prompt_hashes: BTreeMap<String, String>,
    /// `K/N` when this directory holds one shard of the sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The agent programs that played remote and MCP seats, as they named themselves
    /// (empty without such seats, or in a replay).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent_programs: Vec<AgentProgram>,
    /// The experiment as resolved (defaults filled in).
    pub config: serde_json::Value,
    /// The reference protocol and population of the report (absent in manifests of
    /// harness versions before `[analysis]`: the report then chooses as they did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisChoice>,
    /// What the report's Methods state that the configuration alone does not say.
    #[serde(default, skip_serializing_if = "Descriptions::is_empty")]
    pub descriptions: Descriptions,
    /// For a rating's results: its battery and candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<RatingInfo>,
}

/// The harness's own words for parts of the experiment, recorded by the harness that
/// played it, so that the analysis (which reads recorded files only) can state them: a
/// persona's text, what a provider that is no language model does, which switches had no
/// effect.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Descriptions {
    /// Each persona a population of the matrix plays, with its text (built-in ones too).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub personas: BTreeMap<String, String>,
    /// Each provider that is not a language model (the in-process mock), what it is and
    /// does, in a sentence.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, String>,
    /// Each protocol's switches that have no effect given its others (a message bound
    /// with no talk round, an approval share for a leader who decrees).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub idle_switches: BTreeMap<String, Vec<String>>,
}

impl Descriptions {
    pub fn is_empty(&self) -> bool {
        self.personas.is_empty() && self.providers.is_empty() && self.idle_switches.is_empty()
    }
}

impl Manifest {
    /// The manifest as written: pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecordError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|source| RecordError::Json {
            what: "the manifest".into(),
            source,
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Write `<dir>/manifest.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), RecordError> {
        write_atomic(&dir.join(RunFiles::MANIFEST), &self.to_bytes()?, true)
    }

    /// Read `<dir>/manifest.json`. A missing file, a file that does not parse, or one of
    /// another schema version is an error that says which.
    pub fn read(dir: &Path) -> Result<Manifest, RecordError> {
        let path = dir.join(RunFiles::MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| RecordError::Io {
            path: path.clone(),
            source,
        })?;
        let manifest_error = |message: String| RecordError::Manifest {
            path: path.clone(),
            message,
        };
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| manifest_error(format!("not valid JSON: {e}")))?;
        let version = value.get("schema_version").and_then(|v| v.as_u64());
        if version != Some(MANIFEST_SCHEMA_VERSION as u64) {
            let written_by = value
                .get("harness_version")
                .and_then(|v| v.as_str())
                .unwrap_or("an unknown version");
            return Err(manifest_error(format!(
                "manifest schema version {} (written by fishbanks {written_by}); this fishbanks {} reads version {MANIFEST_SCHEMA_VERSION}",
                version.map_or("none".to_string(), |v| v.to_string()),
                env!("CARGO_PKG_VERSION"),
            )));
        }
        serde_json::from_value(value).map_err(|e| manifest_error(e.to_string()))
    }

    /// The cell a protocol name belongs to.
    pub fn cell(&self, cell: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.cell == cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            experiment: "e".into(),
            description: String::new(),
            harness_version: "0".into(),
            config_sha256: "abc".into(),
            years: 3,
            seeds: 1,
            first_seed: 1,
            agents: 6,
            game: GameParams::default(),
            primary_outcome: "rmst".into(),
            protocols: BTreeMap::new(),
            populations: BTreeMap::new(),
            cells: vec![Cell {
                generation: 1,
                cell: "none/p".into(),
                protocol: "none".into(),
                protocol_kind: "none".into(),
                population: "p".into(),
            }],
            runs: Vec::new(),
            prompt_hashes: BTreeMap::new(),
            shard: None,
            agent_programs: Vec::new(),
            config: serde_json::Value::Null,
            analysis: None,
            descriptions: Descriptions::default(),
            rating: None,
        }
    }

    #[test]
    fn a_manifest_round_trips_and_other_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = sample();
        m.write(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), m);

        let old = String::from_utf8(m.to_bytes().unwrap())
            .unwrap()
            .replace("\"schema_version\": 2", "\"schema_version\": 1");
        std::fs::write(dir.path().join(RunFiles::MANIFEST), old).unwrap();
        let err = Manifest::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("schema version 1"), "{err}");

        std::fs::write(dir.path().join(RunFiles::MANIFEST), "{").unwrap();
        let err = Manifest::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
