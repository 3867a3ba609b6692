//! The record/replay cache of DESIGN §6.
//!
//! Every call is keyed by a SHA-256 of the provider identity, model, sampling
//! parameters, answer schema, full messages and the call's place in the experiment
//! (run, agent, year, request kind, round, repair attempt). A transport retry happens
//! below this layer and reuses the key. Entries are stored one JSON line each in
//! `<dir>/<run_id>.jsonl`: one file per run, so concurrent runs never share a file and a
//! results directory's `cache/` replays on its own. Writes are appends of whole lines;
//! a torn last line (a crash mid-write) is ignored when reading and fenced off with a
//! newline before the next append.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::budget::Budget;
use super::model::{sha256_hex, CallContext, ChatModel, ChatRequest, ChatResponse};
use super::LlmError;

/// How the cache is used (`--cache-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
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

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: String,
    context: CallContext,
    response: ChatResponse,
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
    let safe: String = run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.jsonl")
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

    pub fn dir(&self) -> &Path {
        &self.dir
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

    /// Appends an answer.
    pub fn put(
        &self,
        context: &CallContext,
        key: &str,
        response: &ChatResponse,
    ) -> Result<(), LlmError> {
        let path = self.dir.join(file_name(&context.run_id));
        let entry = Entry {
            key: key.to_string(),
            context: context.clone(),
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
    prices: (f64, f64),
}

impl CachedModel {
    pub fn new(
        inner: Arc<dyn ChatModel>,
        store: Arc<CacheStore>,
        identity: String,
        model: String,
        budget: Budget,
        prices: (f64, f64),
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
    pub fn key(&self, request: &ChatRequest) -> String {
        let material = json!({
            "provider": self.identity,
            "model": self.model,
            "params": request.params,
            "schema": request.schema,
            "messages": request.messages,
            "context": request.context,
        });
        sha256_hex(material.to_string().as_bytes())
    }

    /// Ask the model and charge the budget. The budget is not checked here: the game loop
    /// checks it before each year, so that a running run finishes the year it is in.
    async fn live(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let response = self.inner.complete(request).await?;
        let u = response.usage;
        self.budget.charge(
            u.tokens_in + u.tokens_out,
            cost_micro(u.tokens_in, u.tokens_out, self.prices),
        );
        Ok(response)
    }
}

/// Cost in micro-USD: tokens × USD per million tokens = micro-USD.
pub fn cost_micro(tokens_in: u64, tokens_out: u64, (p_in, p_out): (f64, f64)) -> u64 {
    (tokens_in as f64 * p_in + tokens_out as f64 * p_out)
        .round()
        .max(0.0) as u64
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
        self.store.put(&request.context, &key, &response)?;
        Ok(response)
    }
}
