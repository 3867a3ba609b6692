//! The record/replay cache of docs/DESIGN.md §6.
//!
//! Every call is keyed by a SHA-256 of the provider identity, model, sampling
//! parameters, answer schema, full messages and the call's place in the experiment
//! (run, agent, year, request kind, round, repair attempt). A transport retry happens
//! below this layer and reuses the key. Entries are stored one JSON line each in
//! `<dir>/<run_id>.jsonl`: one file per run, so concurrent runs never share a file and a
//! results directory's `cache/` replays on its own. Each entry keeps the whole request
//! (the rendered prompt) beside the answer, so `fishbanks transcript` can show what every
//! model saw. Writes are appends of whole lines; a torn last line (a crash mid-write) is
//! ignored when reading and fenced off with a newline before the next append. A run's
//! file is closed when the run ends (the store is a run lifecycle sink).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::config::Prices;
use super::model::{sha256_hex, CallContext, ChatModel, ChatRequest, ChatResponse};
use super::spend::Budget;
use super::LlmError;
use crate::record::{FinishedRun, RecordError, RunFiles, RunSink};

/// How the cache is used (`--cache-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheMode {
    /// Ask the model; neither read nor write the cache.
    Live,
    /// Ask the model and store every answer.
    #[default]
    Record,
    /// Answer only from the cache; a miss is an error naming the call.
    Replay,
    /// Answer from the cache when possible, else ask the model and store.
    ReplayOrLive,
}

impl std::str::FromStr for CacheMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "live" => Ok(CacheMode::Live),
            "record" => Ok(CacheMode::Record),
            "replay" => Ok(CacheMode::Replay),
            "replay-or-live" => Ok(CacheMode::ReplayOrLive),
            other => Err(format!(
                "unknown cache mode `{other}` (record, replay, replay-or-live, live)"
            )),
        }
    }
}

/// One line of a run's cache file.
#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub context: CallContext,
    /// The request as sent: messages, sampling parameters, schema.
    pub request: ChatRequest,
    pub response: ChatResponse,
}

/// Every whole entry of a run's cache file, in the order they were written (torn or
/// foreign lines skipped).
pub fn read_entries(path: &Path) -> Result<Vec<Entry>, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Entry>(line).ok())
        .collect())
}

/// The cache file of a run.
pub fn run_file(dir: &Path, run_id: &str) -> PathBuf {
    dir.join(file_name(run_id))
}

/// The name of a run's cache file inside a cache directory.
pub fn run_file_name(run_id: &str) -> String {
    file_name(run_id)
}

/// What [`join_files`] wrote into one run's cache file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Joined {
    /// Whole entries written.
    pub entries: usize,
    /// Distinct calls among them: a replay finds an answer for each. (A run played again
    /// after a failure asks its calls again; the file then holds a call twice, and the
    /// last answer is the one a replay gives.)
    pub calls: usize,
}

/// Only the key of an entry: reading it still checks that the whole line is JSON, which
/// a torn line never is.
#[derive(Deserialize)]
struct KeyOnly {
    key: String,
}

/// Join cache files of one run, written by different processes (the shards of a sweep,
/// a task run again, a cache kept in `--cache-dir`), into `out`: every whole entry of
/// each source in the order given, an entry already written (the same line) once. Torn
/// and foreign lines are left out, as reading the cache skips them. A call found in two
/// sources is answered, on replay, by the later one: put the source whose run was
/// recorded last at the end.
pub fn join_files(sources: &[PathBuf], out: &Path) -> std::io::Result<Joined> {
    use std::collections::HashSet;
    use std::io::{BufRead, BufReader, BufWriter};
    let mut writer = BufWriter::new(File::create(out)?);
    let mut seen_lines: HashSet<(usize, u64)> = HashSet::new();
    let mut keys: HashSet<String> = HashSet::new();
    let mut joined = Joined::default();
    for source in sources {
        let mut reader = BufReader::new(File::open(source)?);
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            // A last line without its newline was torn by a crash.
            if line.last() != Some(&b'\n') {
                break;
            }
            let Ok(entry) = serde_json::from_slice::<KeyOnly>(&line) else {
                continue;
            };
            if !seen_lines.insert((line.len(), line_hash(&line))) {
                continue;
            }
            writer.write_all(&line)?;
            joined.entries += 1;
            keys.insert(entry.key);
        }
    }
    writer.flush()?;
    writer.get_ref().sync_all()?;
    joined.calls = keys.len();
    Ok(joined)
}

/// A hash of a line, to write each line once (with its length, a collision is not a
/// concern at the sizes of a cache).
fn line_hash(line: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    line.hash(&mut hasher);
    hasher.finish()
}

#[derive(Default)]
struct RunCache {
    index: HashMap<String, ChatResponse>,
    file: Option<File>,
}

/// The cache directory, shared by all providers and runs of a sweep.
pub struct CacheStore {
    dir: PathBuf,
    mode: CacheMode,
    runs: Mutex<HashMap<String, RunCache>>,
}

impl std::fmt::Debug for CacheStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheStore")
            .field("dir", &self.dir)
            .field("mode", &self.mode)
            .finish()
    }
}

/// Run ids become file names: keep only safe characters.
fn file_name(run_id: &str) -> String {
    format!("{}.jsonl", RunFiles::safe_stem(run_id))
}

impl CacheStore {
    pub fn new(dir: impl Into<PathBuf>, mode: CacheMode) -> CacheStore {
        CacheStore {
            dir: dir.into(),
            mode,
            runs: Mutex::new(HashMap::new()),
        }
    }

    pub fn mode(&self) -> CacheMode {
        self.mode
    }

    fn err(&self, path: &Path, e: impl std::fmt::Display) -> LlmError {
        LlmError::Cache {
            path: path.display().to_string(),
            detail: e.to_string(),
        }
    }

    fn load(&self, run_id: &str) -> Result<RunCache, LlmError> {
        let path = self.dir.join(file_name(run_id));
        let mut text = String::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_string(&mut text)
                    .map_err(|e| self.err(&path, e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.err(&path, e)),
        }
        let mut cache = RunCache::default();
        for line in text.lines() {
            // A torn or foreign line is skipped; only whole entries count.
            if let Ok(entry) = serde_json::from_str::<Entry>(line) {
                cache.index.insert(entry.key, entry.response);
            }
        }
        Ok(cache)
    }

    fn with_run<T>(
        &self,
        run_id: &str,
        f: impl FnOnce(&mut RunCache) -> Result<T, LlmError>,
    ) -> Result<T, LlmError> {
        let mut runs = self.runs.lock().map_err(|_| LlmError::Cache {
            path: self.dir.display().to_string(),
            detail: "lock poisoned".into(),
        })?;
        if !runs.contains_key(run_id) {
            let loaded = self.load(run_id)?;
            runs.insert(run_id.to_string(), loaded);
        }
        match runs.get_mut(run_id) {
            Some(run) => f(run),
            None => Err(LlmError::Cache {
                path: self.dir.display().to_string(),
                detail: "run vanished".into(),
            }),
        }
    }

    /// The stored answer for `key`, if any.
    pub fn get(&self, run_id: &str, key: &str) -> Result<Option<ChatResponse>, LlmError> {
        self.with_run(run_id, |run| Ok(run.index.get(key).cloned()))
    }

    /// Appends an answer with the request it answers.
    pub fn put(
        &self,
        request: &ChatRequest,
        key: &str,
        response: &ChatResponse,
    ) -> Result<(), LlmError> {
        let context = &request.context;
        let path = self.dir.join(file_name(&context.run_id));
        let entry = Entry {
            key: key.to_string(),
            context: context.clone(),
            request: request.clone(),
            response: response.clone(),
        };
        let mut line = serde_json::to_string(&entry).map_err(|e| self.err(&path, e))?;
        line.push('\n');
        self.with_run(&context.run_id, |run| {
            if run.file.is_none() {
                std::fs::create_dir_all(&self.dir).map_err(|e| self.err(&self.dir, e))?;
                let mut f = OpenOptions::new()
                    .create(true)
                    .read(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| self.err(&path, e))?;
                fence_torn_line(&mut f).map_err(|e| self.err(&path, e))?;
                run.file = Some(f);
            }
            if let Some(f) = run.file.as_mut() {
                f.write_all(line.as_bytes())
                    .map_err(|e| self.err(&path, e))?;
            }
            run.index.insert(entry.key.clone(), entry.response.clone());
            Ok(())
        })
    }
}

/// The cache is a run lifecycle sink: when a run ends, its file is closed and its index
/// dropped, so open files and memory stay flat over a sweep of any length.
impl RunSink for CacheStore {
    fn run_ended(&self, run: &FinishedRun) -> Result<(), RecordError> {
        let mut runs = self
            .runs
            .lock()
            .map_err(|_| RecordError::Sink("the LLM cache's lock is poisoned".into()))?;
        runs.remove(&run.label.run_id);
        Ok(())
    }
}

/// Writes a newline if the file ends inside a line, so a torn line stays one bad line.
fn fence_torn_line(f: &mut File) -> std::io::Result<()> {
    let len = f.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(());
    }
    f.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    if last[0] != b'\n' {
        f.write_all(b"\n")?;
    }
    Ok(())
}

/// A model behind the cache (and the budget, which only live calls spend).
pub struct CachedModel {
    inner: Arc<dyn ChatModel>,
    store: Arc<CacheStore>,
    /// Provider name, kind, answer format and mock policy: never the key.
    identity: String,
    model: String,
    budget: Budget,
    prices: Prices,
}

impl CachedModel {
    pub fn new(
        inner: Arc<dyn ChatModel>,
        store: Arc<CacheStore>,
        identity: String,
        model: String,
        budget: Budget,
        prices: Prices,
    ) -> CachedModel {
        CachedModel {
            inner,
            store,
            identity,
            model,
            budget,
            prices,
        }
    }

    /// The cache key of a request.
    ///
    /// The material is the JSON object `{context, messages, model, params, provider,
    /// schema}` with every map's keys sorted, as a `serde_json::Value` writes it (the keys
    /// of every cache written so far). It is written part by part so that the schema, a
    /// large `Value` already sorted, is not copied for every call.
    pub fn key(&self, request: &ChatRequest) -> String {
        // Plain structs, strings and a `Value` always serialize; "null" is never written.
        let sorted = |part: serde_json::Result<serde_json::Value>| {
            part.map_or_else(|_| "null".to_string(), |v| v.to_string())
        };
        // `AnswerSchema` declares `name` before `schema`: already in sorted order.
        let schema = serde_json::to_string(&request.schema).unwrap_or_else(|_| "null".into());
        let material = format!(
            "{{\"context\":{},\"messages\":{},\"model\":{},\"params\":{},\"provider\":{},\"schema\":{}}}",
            sorted(serde_json::to_value(&request.context)),
            sorted(serde_json::to_value(&request.messages)),
            json!(self.model),
            sorted(serde_json::to_value(&request.params)),
            json!(self.identity),
            schema,
        );
        sha256_hex(material.as_bytes())
    }

    /// Ask the model and charge the budget. The budget is not checked here: the game loop
    /// checks it before each year, so that a running run finishes the year it is in.
    async fn live(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let response = self.inner.complete(request).await?;
        let u = response.usage;
        self.budget.charge(
            u.tokens_in + u.tokens_out,
            self.prices
                .cost_micro(u.tokens_in, u.tokens_cached.unwrap_or(0), u.tokens_out),
        );
        Ok(response)
    }
}

#[async_trait]
impl ChatModel for CachedModel {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let mode = self.store.mode();
        if mode == CacheMode::Live {
            return self.live(request).await;
        }
        let key = self.key(request);
        let run = &request.context.run_id;
        if matches!(mode, CacheMode::Replay | CacheMode::ReplayOrLive) {
            if let Some(mut hit) = self.store.get(run, &key)? {
                hit.cache_hit = true;
                hit.latency_ms = 0;
                return Ok(hit);
            }
            if mode == CacheMode::Replay {
                return Err(LlmError::CacheMiss {
                    call: format!(
                        "{} (provider {}, key {})",
                        request.context,
                        self.identity,
                        &key[..16]
                    ),
                });
            }
        }
        let response = self.live(request).await?;
        self.store.put(request, &key, &response)?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Decision;
    use crate::llm::config::{BudgetConfig, LlmSettings};
    use crate::llm::factory::{sample_observation, AgentFactory};
    use crate::llm::mock::Policy;
    use crate::llm::testutil::{decide, facts, mock_providers, obs, section, spec, Scripted};

    #[test]
    fn the_key_is_the_hash_of_the_sorted_value_of_every_cache_so_far() {
        let dir = tempfile::tempdir().unwrap();
        let f = factory_in(dir.path(), CacheMode::Record);
        let a = f.llm_agent(&spec("run-1", 0, &section("none"))).unwrap();
        let o = obs();
        let limits = crate::question::Limits { max_fish: 4500 };
        let request = crate::agents::Request::decision();
        let mut call = ChatRequest {
            messages: a.prompt(&request, &o),
            params: crate::llm::model::SamplingParams {
                temperature: Some(0.7),
                seed: Some(-3),
                max_tokens: Some(120),
            },
            schema: Some(crate::llm::model::AnswerSchema::new(
                "decision",
                &request.question().schema(&o, limits),
            )),
            context: crate::llm::model::CallContext {
                run_id: "r\"1".into(),
                agent: 2,
                year: 4,
                kind: crate::agents::RequestKind::Decision,
                round: 0,
                repair: 1,
            },
            asked: None,
        };
        let model = CachedModel::new(
            Scripted::new(vec![]),
            Arc::new(CacheStore::new(dir.path(), CacheMode::Record)),
            "m|openai|json_schema|é".into(),
            "small \"model\"".into(),
            Budget::new(&BudgetConfig::default()),
            Default::default(),
        );
        for with_schema in [true, false] {
            if !with_schema {
                call.schema = None;
            }
            let material = json!({
                "provider": model.identity,
                "model": model.model,
                "params": call.params,
                "schema": call.schema,
                "messages": call.messages,
                "context": call.context,
            });
            assert_eq!(
                model.key(&call),
                sha256_hex(material.to_string().as_bytes())
            );
        }
    }

    fn factory_in(dir: &Path, mode: CacheMode) -> AgentFactory {
        AgentFactory::new(
            &mock_providers(Policy::Chaotic, 0.3),
            &LlmSettings::default(),
            facts(),
            dir,
            mode,
            &BudgetConfig::default(),
        )
        .unwrap()
    }

    /// Three agents, three years each; returns every decision and each agent's counters.
    async fn play(f: &AgentFactory) -> Vec<Result<Decision, String>> {
        let none = section("none");
        let mut out = vec![];
        for i in 0..3 {
            let mut a = f.llm_agent(&spec("run-1", i, &none)).unwrap();
            for y in 1..=3 {
                let o = sample_observation(&facts(), y);
                out.push(decide(&mut a, &o).await.map_err(|e| e.to_string()));
            }
            let s = crate::agents::Agent::stats(&a);
            out.push(Ok(Decision {
                order: s.llm_calls as i64,
                deep: s.tokens_in as i64,
                coast: s.repairs as i64,
            }));
        }
        out
    }

    #[tokio::test]
    async fn record_then_replay_gives_identical_answers_and_stats() {
        let dir = tempfile::tempdir().unwrap();
        let recorded = play(&factory_in(dir.path(), CacheMode::Record)).await;
        // A torn last line (crash mid-write) is ignored.
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(dir.path().join("run-1.jsonl"))
                .unwrap();
            f.write_all(b"{\"key\": \"torn").unwrap();
        }
        // Replay with a model that must never be asked.
        let replay = factory_in(dir.path(), CacheMode::Replay)
            .with_raw_model("m", Scripted::new(vec!["MUST NOT BE ASKED"]))
            .unwrap();
        assert_eq!(recorded, play(&replay).await);
        // A miss names the call.
        let none = section("none");
        let mut a = replay.llm_agent(&spec("run-2", 0, &none)).unwrap();
        let err = decide(&mut a, &obs()).await.unwrap_err();
        assert!(
            err.to_string().contains("cache miss")
                && err
                    .to_string()
                    .contains("run run-2 agent 0 year 3 decision"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn joining_keeps_whole_entries_once_and_the_last_source_answers() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, out) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("out"),
        );
        for d in [&a, &b, &out] {
            std::fs::create_dir_all(d).unwrap();
        }
        play(&factory_in(&a, CacheMode::Record)).await;
        let recorded = read_entries(&a.join("run-1.jsonl")).unwrap();
        let calls = recorded
            .iter()
            .map(|e| e.key.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len();
        assert!(calls > 3);
        // Source b: a foreign line, every entry of a, the first with another answer (a
        // call asked again), and a line torn by a crash.
        let mut text = String::from("not an entry\n");
        for (i, mut entry) in read_entries(&a.join("run-1.jsonl"))
            .unwrap()
            .into_iter()
            .enumerate()
        {
            if i == 0 {
                entry.response.text = "asked again".into();
            }
            text.push_str(&format!("{}\n", serde_json::to_string(&entry).unwrap()));
        }
        text.push_str("{\"key\": \"torn");
        std::fs::write(b.join("run-1.jsonl"), &text).unwrap();
        let sources = [a.join("run-1.jsonl"), b.join("run-1.jsonl")];

        let joined = join_files(&sources, &out.join("run-1.jsonl")).unwrap();
        // a's entries, then b's one changed entry; the others are the same lines.
        assert_eq!(
            joined,
            Joined {
                entries: recorded.len() + 1,
                calls
            }
        );
        let store = CacheStore::new(&out, CacheMode::Replay);
        let first = &recorded[0];
        assert_eq!(
            store.get("run-1", &first.key).unwrap().unwrap().text,
            "asked again",
            "the later source answers"
        );
        assert_eq!(
            store.get("run-1", &recorded[1].key).unwrap().unwrap().text,
            recorded[1].response.text
        );
        // In the other order, a's answer is the last.
        let reversed = [sources[1].clone(), sources[0].clone()];
        join_files(&reversed, &out.join("run-1.jsonl")).unwrap();
        let store = CacheStore::new(&out, CacheMode::Replay);
        assert_eq!(
            store.get("run-1", &first.key).unwrap().unwrap().text,
            first.response.text
        );
    }

    #[tokio::test]
    async fn a_run_that_ends_closes_its_cache_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = factory_in(dir.path(), CacheMode::Record);
        play(&f).await;
        let store = f.cache();
        assert_eq!(store.runs.lock().unwrap().len(), 1, "one run open");
        let ended = FinishedRun {
            label: crate::record::RunLabel {
                run_id: "run-1".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        store.run_ended(&ended).unwrap();
        assert!(
            store.runs.lock().unwrap().is_empty(),
            "file and index dropped"
        );
        // Its entries are still on disk for a replay.
        assert!(dir.path().join("run-1.jsonl").exists());
    }
}
