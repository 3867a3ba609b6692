//! Helpers shared by the integration tests: the binary, the shipped quickstart, and a
//! loopback mock server in its own runtime.
#![allow(dead_code)] // each test file uses a part

use fishbanks::testkit::mock_server::{serve, Fault, ServerOptions, ServerStats};
use fishbanks::testkit::Loopback;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `fishbanks` binary under test.
pub fn fishbanks() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("fishbanks").unwrap()
}

/// `experiments/quickstart.toml`.
pub fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/quickstart.toml")
}

/// A mock server on 127.0.0.1:0 in its own runtime; stops when dropped.
pub struct Server {
    pub url: String,
    pub stats: Arc<ServerStats>,
    _thread: Loopback,
}

impl Server {
    /// A server that injects every fault that does not wait for a real clock, at
    /// `fault_rate`.
    pub fn start(fault_rate: f64) -> Server {
        Server::with(ServerOptions {
            fault_rate,
            // Every fault that does not make the test wait for a real clock (Retry-After
            // and hangs are covered with paused time in the llm module's tests).
            faults: vec![
                Fault::RateLimitBare,
                Fault::Http500,
                Fault::Http503,
                Fault::Reset,
                Fault::NonOpenai,
                Fault::TruncatedBody,
                Fault::Prose,
                Fault::TruncatedJson,
                Fault::OutOfRange,
                Fault::Refusal,
            ],
            ..ServerOptions::default()
        })
    }

    /// A server with these options, in a runtime of its own.
    pub fn with(mut options: ServerOptions) -> Server {
        let stats = Arc::new(ServerStats::default());
        options.stats = Arc::clone(&stats);
        let thread = Loopback::on_thread(move |listener, stop| serve(listener, options, stop));
        Server {
            url: thread.url(),
            stats,
            _thread: thread,
        }
    }

    pub fn requests(&self) -> u64 {
        self.stats
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A CSV file read whole, addressed by column name.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let mut reader =
            csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        Table { header, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// One column of every row.
    pub fn column(&self, name: &str) -> Vec<&str> {
        let i = self.col(name);
        self.rows.iter().map(|r| r[i].as_str()).collect()
    }

    /// One column of every row, parsed.
    pub fn numbers(&self, name: &str) -> Vec<f64> {
        self.column(name)
            .iter()
            .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: {v}")))
            .collect()
    }

    /// The rows without the named columns.
    pub fn without(&self, drop: &[&str]) -> Vec<Vec<String>> {
        let keep: Vec<usize> = (0..self.header.len())
            .filter(|i| !drop.contains(&self.header[*i].as_str()))
            .collect();
        self.rows
            .iter()
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
            .collect()
    }
}

/// The `runs.csv` columns that show how LLM calls went (retries, repairs, their tokens,
/// cost and latency), not what the game did: they differ between a clean and a faulty
/// transport while everything else must not.
pub const LLM_ACCOUNTING: [&str; 14] = [
    "llm_calls",
    "llm_retries",
    "llm_repairs",
    "llm_valid_first_try",
    "tokens_in",
    "tokens_out",
    "tokens_cached",
    "cost_usd",
    "calls_without_cache_report",
    "retries_rate_limit",
    "retries_server_error",
    "retries_timeout",
    "retries_connection",
    "retries_malformed",
];

/// The chaos proxy in front of an upstream server, in a runtime of its own.
pub struct Chaos {
    pub url: String,
    pub control: Arc<fishbanks::testkit::chaos::ChaosControl>,
    _thread: Loopback,
}

impl Chaos {
    /// A proxy to `upstream` (a `http://host:port/v1` URL) injecting faults at
    /// `fault_rate`; it goes down by itself after `down_after` forwarded game calls (0:
    /// never).
    pub fn start(upstream: &str, fault_rate: f64, down_after: u64) -> Chaos {
        use fishbanks::testkit::chaos::{serve_chaos, ChaosControl, ChaosFault, ChaosOptions};
        let addr: std::net::SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .parse()
            .unwrap();
        let options = ChaosOptions {
            upstream: addr,
            fault_rate,
            faults: ChaosFault::ALL.to_vec(),
            seed: 11,
            max_faults_per_request: 2,
            hang: std::time::Duration::from_millis(1500),
        };
        let control = Arc::new(ChaosControl::default());
        let ctl = Arc::clone(&control);
        let thread = Loopback::on_thread(move |listener, stop| {
            serve_chaos(listener, options, ctl, down_after, stop)
        });
        Chaos {
            url: thread.url(),
            control,
            _thread: thread,
        }
    }
}

/// Write `text` to `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Run the binary on an experiment file; returns its output.
pub fn run_experiment(exp: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(args)
        .output()
        .unwrap()
}

/// An experiment file for a test, built from its parts. The matrix is every protocol
/// added × every population added, in the order added.
#[derive(Debug, Clone)]
pub struct TestExperiment {
    name: String,
    top: Vec<String>,
    sections: Vec<String>,
    protocols: Vec<String>,
    populations: Vec<String>,
}

impl TestExperiment {
    /// `name`, `years` and `seeds`; nothing else yet.
    pub fn new(name: &str, years: u32, seeds: u32) -> TestExperiment {
        TestExperiment {
            name: name.to_string(),
            top: vec![
                format!("name = \"{name}\""),
                format!("years = {years}"),
                format!("seeds = {seeds}"),
            ],
            sections: Vec::new(),
            protocols: Vec::new(),
            populations: Vec::new(),
        }
    }

    /// A top-level line (`probe_every = 3`).
    pub fn line(mut self, line: &str) -> Self {
        self.top.push(line.to_string());
        self
    }

    /// Any table, written as is (`[game]` with its lines, `[llm]`, ...).
    pub fn section(mut self, text: &str) -> Self {
        self.sections.push(text.trim().to_string());
        self
    }

    /// `[providers.NAME]` with its lines.
    pub fn provider(self, name: &str, body: &str) -> Self {
        self.section(&format!("[providers.{name}]\n{}", body.trim()))
    }

    /// `[populations.NAME]` with `agents = [AGENTS]` (inline tables).
    pub fn population(mut self, name: &str, agents: &str) -> Self {
        self.populations.push(name.to_string());
        self.section(&format!("[populations.{name}]\nagents = [{agents}]"))
    }

    /// `[protocols.NAME]` of `kind`, with more switch lines.
    pub fn protocol(mut self, name: &str, kind: &str, switches: &str) -> Self {
        self.protocols.push(name.to_string());
        self.section(&format!(
            "[protocols.{name}]\nkind = \"{kind}\"\n{}",
            switches.trim()
        ))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's text.
    pub fn toml(&self) -> String {
        let list = |names: &[String]| {
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{}\n\n{}\n\n[matrix]\nprotocol = [{}]\npopulation = [{}]\n",
            self.top.join("\n"),
            self.sections.join("\n\n"),
            list(&self.protocols),
            list(&self.populations)
        )
    }

    /// Write it to `dir/<name>.toml`; returns the path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        write(dir, &format!("{}.toml", self.name), &self.toml())
    }
}

/// Replay `exp` from the cache `cache` into `out` with nobody to ask, and assert that it
/// plays the games of `live` (the sweep's directory) byte for byte.
pub fn assert_replays(exp: &Path, cache: &Path, live: &Path, out: &Path) {
    let replay = run_experiment(
        exp,
        out,
        &[
            "--no-report",
            "--cache-mode",
            "replay",
            "--cache-dir",
            cache.to_str().unwrap(),
        ],
    );
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let name = live.file_name().unwrap();
    assert_same_files(
        live,
        &out.join(name),
        &["runs.csv", "years.csv", "agents.csv", "messages.csv"],
    );
}

/// Assert that the results directories `a` and `b` hold byte-identical `files`.
pub fn assert_same_files(a: &Path, b: &Path, files: &[&str]) {
    for file in files {
        let (x, y) = (
            std::fs::read(a.join(file))
                .unwrap_or_else(|e| panic!("{}: {e}", a.join(file).display())),
            std::fs::read(b.join(file))
                .unwrap_or_else(|e| panic!("{}: {e}", b.join(file).display())),
        );
        assert!(
            x == y,
            "{file} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Each run's rows of `file` (without its run id), keyed by (protocol, population, seed).
pub fn trajectories(
    dir: &Path,
    file: &str,
) -> BTreeMap<(String, String, String), Vec<Vec<String>>> {
    let runs = Table::read(&dir.join("runs.csv"));
    let label: BTreeMap<String, (String, String, String)> = runs
        .rows
        .iter()
        .map(|r| {
            (
                r[runs.col("run_id")].clone(),
                (
                    r[runs.col("protocol")].clone(),
                    r[runs.col("population")].clone(),
                    r[runs.col("seed")].clone(),
                ),
            )
        })
        .collect();
    let table = Table::read(&dir.join(file));
    let id = table.col("run_id");
    let mut out: BTreeMap<_, Vec<Vec<String>>> = BTreeMap::new();
    for row in &table.rows {
        let mut rest = row.clone();
        rest.remove(id);
        out.entry(label[&row[id]].clone()).or_default().push(rest);
    }
    out
}

/// Whether `schema` (a JSON schema, draft 2020-12) admits `instance`, by the `boon`
/// validator: an independent referee for the schemas the harness sends and documents.
pub fn schema_admits(schema: &serde_json::Value, instance: &serde_json::Value) -> bool {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V2020_12);
    let url = "urn:fishbanks:schema";
    compiler.add_resource(url, schema.clone()).unwrap();
    let index = compiler
        .compile(url, &mut schemas)
        .unwrap_or_else(|e| panic!("not a valid JSON schema: {e}"));
    schemas.validate(instance, index).is_ok()
}

/// The smallest answer a JSON schema admits (the first branch of an anyOf, the first of
/// an enum, `false` for every boolean of a set).
pub fn smallest(schema: &serde_json::Value) -> serde_json::Value {
    use serde_json::{json, Value};
    if let Some(first) = schema["anyOf"].get(0) {
        return smallest(first);
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(e) = schema["enum"].get(0) {
        return e.clone();
    }
    match schema["type"].as_str() {
        Some("object") => {
            let mut out = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                out.insert(name.into(), smallest(&schema["properties"][name]));
            }
            Value::Object(out)
        }
        Some("integer") => schema.get("minimum").cloned().unwrap_or(json!(0)),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        Some("string") => json!(""),
        _ => Value::Null,
    }
}
