//! From a resolved experiment to the list of runs: cells (the matrix's cross product),
//! seeds, and run ids that depend only on what the run plays.

use super::resolve::{ExperimentConfig, Seat};
use super::schema::{GenerationsSpec, SeatSpec};
use crate::engine::GameParams;
use crate::llm::{Backend, Provider};
use crate::protocol::ProtocolSpec;
use crate::question::{Inherit, Lesson, LessonQuestion};
use crate::record::{Cell, RunLabel};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Version of the run-id recipe; bump it when what a run plays changes meaning.
const RUN_ID_VERSION: u32 = 1;

/// One run of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the plan; results are written in this order.
    pub index: usize,
    pub label: RunLabel,
    pub protocol: ProtocolSpec,
    /// One seat per team.
    pub seats: Vec<Seat>,
    /// Digest of everything the run plays (its id is a prefix of it).
    pub key: [u8; 32],
    /// The question each agent answers when the game is over, when a next generation
    /// follows.
    pub lesson: Option<LessonQuestion>,
    /// Which of the previous generation's lessons each team sees.
    pub inherit: Inherit,
    /// The previous generation's lessons (filled in by the runner once that run is
    /// written).
    pub inherited: Vec<Lesson>,
}

impl RunSpec {
    /// An independent RNG stream of this run for `purpose` (e.g. `agent/3`), derived
    /// from the replicate seed and the purpose only, never from the cell: replicate k
    /// meets the same draws under every protocol and population (common random numbers).
    pub fn rng(&self, purpose: &str) -> ChaCha8Rng {
        match self.label.generation {
            // Each generation of a line meets draws of its own, the same under every
            // protocol (common random numbers per generation).
            g if g > 1 => stream(self.label.seed, &format!("g{g}/{purpose}")),
            _ => stream(self.label.seed, purpose),
        }
    }

    /// Whether any seat is asked through prompts (an LLM or a person): such a run
    /// needs the prompt templates, the cache and a protocol section.
    pub fn uses_llm(&self) -> bool {
        self.seats.iter().any(Seat::is_prompted)
    }

    /// Whether a person plays one of its seats.
    pub fn has_people(&self) -> bool {
        self.seats.contains(&Seat::Human)
    }

    /// Whether an MCP client plays one of its seats.
    pub fn has_mcp(&self) -> bool {
        self.seats.iter().any(|s| matches!(s, Seat::Mcp(_)))
    }
}

/// The RNG stream of replicate `seed` for `purpose`: SHA-256 of a versioned tag, the
/// seed and the purpose seeds a ChaCha8 generator (portable: the same bytes on every
/// platform).
pub fn stream(seed: u64, purpose: &str) -> ChaCha8Rng {
    let mut hasher = Sha256::new();
    hasher.update(b"fishbanks/stream/v1\0");
    hasher.update(seed.to_le_bytes());
    hasher.update(purpose.as_bytes());
    ChaCha8Rng::from_seed(hasher.finalize().into())
}

/// What identifies a run: the resolved cell and the seed. Serialized canonically (struct
/// field order, sorted maps) and hashed into the run id.
#[derive(Serialize)]
struct RunIdentity<'a> {
    version: u32,
    /// Names too, so two cells that happen to play the same thing stay distinct.
    cell: &'a str,
    years: u32,
    game: &'a GameParams,
    protocol: &'a ProtocolSpec,
    agents: Vec<SeatIdentity<'a>>,
    /// Providers the population uses, by what shapes their answers (model, sampling):
    /// a change of model changes the id, a change of server address or timeout does not.
    providers: BTreeMap<&'a str, ProviderIdentity<'a>>,
    personas: BTreeMap<&'a str, &'a str>,
    seed: u64,
    /// `[generations]`, when this cell plays them (absent otherwise, so that ids of
    /// experiments without generations stay as they were).
    #[serde(skip_serializing_if = "Option::is_none")]
    generations: Option<&'a GenerationsSpec>,
    /// The previous generation's run.
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<&'a str>,
}

/// A seat as run ids hash it: the fields of the entry as written, in a fixed order (the
/// order of version 1 of the recipe, so ids stay stable), with `count` always 1.
#[derive(Serialize)]
struct SeatIdentity<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<crate::agents::Strategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    persona: Option<&'a str>,
    count: usize,
    tremble: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    leader: Option<usize>,
    /// A remote agent's transport. Its address is left out on purpose, as a model
    /// server's is: an agent that moved must still replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<&'static str>,
}

impl<'a> From<&'a SeatSpec> for SeatIdentity<'a> {
    fn from(seat: &'a SeatSpec) -> Self {
        let blank = SeatIdentity {
            kind: "",
            strategy: None,
            provider: None,
            persona: None,
            count: 1,
            tremble: 0.0,
            leader: None,
            transport: None,
        };
        match seat {
            SeatSpec::Scripted(s) => SeatIdentity {
                kind: "scripted",
                strategy: Some(s.strategy),
                tremble: s.tremble,
                leader: s.leader,
                ..blank
            },
            SeatSpec::Llm(s) => SeatIdentity {
                kind: "llm",
                provider: Some(&s.provider),
                persona: s.persona.as_deref(),
                ..blank
            },
            SeatSpec::Human(_) => SeatIdentity {
                kind: "human",
                ..blank
            },
            SeatSpec::Remote(agent) => SeatIdentity {
                kind: "remote",
                transport: Some(agent.transport.as_str()),
                ..blank
            },
            // The token's variable is left out: renaming it changes no game.
            SeatSpec::Mcp(_) => SeatIdentity {
                kind: "mcp",
                ..blank
            },
        }
    }
}

/// The parts of a provider that decide what it answers.
#[derive(Serialize, Clone)]
struct ProviderIdentity<'a> {
    kind: crate::llm::ProviderKind,
    model: Option<&'a str>,
    temperature: Option<f64>,
    seed: Option<i64>,
    max_tokens: Option<u32>,
    structured_output: crate::llm::StructuredOutput,
    policy: Option<String>,
    noise: f64,
}

impl<'a> From<&'a Provider> for ProviderIdentity<'a> {
    fn from(p: &'a Provider) -> Self {
        let (policy, noise) = match &p.backend {
            Backend::Mock { policy, noise, .. } => {
                (Some(format!("{policy:?}").to_lowercase()), *noise)
            }
            Backend::Openai { .. } => (None, 0.0),
        };
        ProviderIdentity {
            kind: p.kind(),
            model: Some(p.model.as_str()).filter(|m| !m.is_empty()),
            temperature: p.sampling.temperature,
            seed: p.sampling.seed,
            max_tokens: p.sampling.max_tokens,
            structured_output: p.structured_output,
            policy,
            noise,
        }
    }
}

/// The experiment resolved into cells and runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cells: Vec<Cell>,
    pub runs: Vec<RunSpec>,
}

impl Plan {
    /// The runs of shard `k` of `n` (all runs without a shard), in plan order. Within each
    /// cell, runs are dealt round-robin in the order of their ids, each cell starting at
    /// the shard where the previous one stopped: every shard gets a near-equal share of
    /// every cell (and so of its expected cost) and of the whole plan (at most one run
    /// apart, even with more shards than a cell has runs), and the split depends only on
    /// the plan. A later generation goes with its parent.
    pub fn shard(&self, shard: Option<(u32, u32)>) -> impl Iterator<Item = &RunSpec> {
        let mut keep = vec![true; self.runs.len()];
        if let Some((k, n)) = shard {
            let mut dealt = 0usize;
            for cell in &self.cells {
                let mut ids: Vec<&RunSpec> = self
                    .runs
                    .iter()
                    .filter(|r| r.label.cell == cell.cell)
                    .collect();
                ids.sort_by(|a, b| a.label.run_id.cmp(&b.label.run_id));
                for r in &ids {
                    keep[r.index] =
                        (dealt as u64 % u64::from(n.max(1))) as u32 == k.saturating_sub(1);
                    dealt += 1;
                }
            }
            // A replicate's line of generations stays on one shard: each later
            // generation goes where its parent went (parents come first in the plan).
            let index: std::collections::HashMap<&str, usize> = self
                .runs
                .iter()
                .map(|r| (r.label.run_id.as_str(), r.index))
                .collect();
            for r in &self.runs {
                if let Some(parent) = r.label.parent.as_deref().and_then(|p| index.get(p)) {
                    keep[r.index] = keep[*parent];
                }
            }
        }
        self.runs.iter().filter(move |r| keep[r.index])
    }
}

/// Expand the matrix: protocols outermost, then populations, then generations (when the
/// protocol plays them), then seeds.
pub fn plan(exp: &ExperimentConfig) -> Plan {
    let mut cells = Vec::new();
    let mut runs = Vec::new();
    for protocol_name in &exp.matrix.protocol {
        // Resolution guarantees every name is defined.
        let Some(protocol) = exp.protocols.get(protocol_name) else {
            continue;
        };
        for population_name in &exp.matrix.population {
            let Some(population) = exp.populations.get(population_name) else {
                continue;
            };
            let providers: BTreeMap<&str, ProviderIdentity> = population
                .seats
                .iter()
                .filter_map(|s| match s {
                    Seat::Llm { provider, .. } => exp.providers.get_key_value(provider),
                    Seat::Scripted { .. } | Seat::Human | Seat::Remote(_) | Seat::Mcp(_) => None,
                })
                .map(|(k, v)| (k.as_str(), ProviderIdentity::from(v)))
                .collect();
            let personas: BTreeMap<&str, &str> = population
                .seats
                .iter()
                .filter_map(|s| match s {
                    Seat::Llm { persona, .. } => exp.llm.personas.get_key_value(persona),
                    Seat::Scripted { .. } | Seat::Human | Seat::Remote(_) | Seat::Mcp(_) => None,
                })
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let generations = exp.generations.count_for(protocol_name);
            // Each replicate's line: generation g's run names generation g − 1's.
            let mut parents: Vec<Option<String>> = vec![None; exp.seeds as usize];
            for generation in 1..=generations {
                let label_protocol = if generation == 1 {
                    protocol_name.clone()
                } else {
                    format!("{protocol_name}@g{generation}")
                };
                let cell = format!("{label_protocol}/{population_name}");
                cells.push(Cell {
                    cell: cell.clone(),
                    protocol: label_protocol.clone(),
                    protocol_kind: protocol.kind().to_string(),
                    population: population_name.clone(),
                    generation,
                });
                let lines = (generations > 1).then_some(&exp.generations);
                for (k, parent) in parents.iter_mut().enumerate() {
                    let seed = exp.first_seed + k as u64;
                    let identity = RunIdentity {
                        version: RUN_ID_VERSION,
                        cell: &cell,
                        years: exp.years,
                        game: &exp.game,
                        protocol,
                        agents: population.written.iter().map(SeatIdentity::from).collect(),
                        providers: providers.clone(),
                        personas: personas.clone(),
                        seed,
                        generations: lines,
                        parent: parent.as_deref(),
                    };
                    // Serializing plain data structs to JSON cannot fail.
                    let json = serde_json::to_vec(&identity).unwrap_or_default();
                    let key: [u8; 32] = Sha256::digest(&json).into();
                    let run_id = crate::record::hex(&key[..6]);
                    let lesson = (generation < generations).then_some(LessonQuestion {
                        max_chars: exp.generations.lesson_chars,
                    });
                    runs.push(RunSpec {
                        index: runs.len(),
                        label: RunLabel {
                            run_id: run_id.clone(),
                            cell: cell.clone(),
                            protocol: label_protocol.clone(),
                            population: population_name.clone(),
                            seed,
                            years: exp.years,
                            generation,
                            parent: parent.replace(run_id),
                        },
                        protocol: protocol.clone(),
                        seats: population.seats.clone(),
                        key,
                        lesson,
                        inherit: exp.generations.inherit,
                        inherited: Vec::new(),
                    });
                }
            }
        }
    }
    Plan { cells, runs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Shards are at most one run apart, in all and in every cell, and together hold
    /// every run once, even with more shards than a cell has runs (the quickstart's 14
    /// cells of 20 runs dealt to 40 shards gave shard 1 one run, and shard 14 fourteen).
    #[test]
    fn shards_share_the_plan_and_every_cell_within_one_run() {
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/experiments/quickstart.toml"
        ));
        let exp = crate::experiment::Experiment::load(path).unwrap();
        let plan = &exp.plan;
        assert_eq!((plan.cells.len(), plan.runs.len()), (14, 280));
        for n in [1, 3, 7, 40, 300] {
            let mut seen = vec![0; plan.runs.len()];
            let (mut sizes, mut per_cell) = (Vec::new(), BTreeMap::<_, Vec<usize>>::new());
            for k in 1..=n {
                let runs: Vec<&RunSpec> = plan.shard(Some((k, n))).collect();
                sizes.push(runs.len());
                for r in &runs {
                    seen[r.index] += 1;
                }
                for cell in &plan.cells {
                    let here = runs.iter().filter(|r| r.label.cell == cell.cell).count();
                    per_cell.entry(cell.cell.clone()).or_default().push(here);
                }
            }
            assert!(seen.iter().all(|&s| s == 1), "{n} shards: every run once");
            let spread = |v: &[usize]| v.iter().max().unwrap() - v.iter().min().unwrap();
            assert!(spread(&sizes) <= 1, "{n} shards: {sizes:?}");
            for (cell, counts) in &per_cell {
                assert!(spread(counts) <= 1, "{n} shards, cell {cell}: {counts:?}");
            }
        }
    }
}
