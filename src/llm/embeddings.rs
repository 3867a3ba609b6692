//! Text embeddings through a provider (`POST /embeddings` of an OpenAI-compatible
//! server: Ollama, vLLM, llama.cpp's server, OpenAI), for the diagnostics' text channel.
//! Every vector is cached under its model and text, so a second `fishbanks diagnose`
//! needs no server. A `mock` provider embeds locally (a hashed bag of words), so the
//! whole path runs offline.

use super::config::{Backend, Provider};
use super::model::sha256_hex;
use super::openai::{install_tls_provider, read_key};
use super::LlmError;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Texts per request.
const BATCH: usize = 64;
/// Dimensions of the mock's hashed bag of words.
const MOCK_DIMENSIONS: usize = 256;

/// An embedding model behind a provider, with its cache file.
pub struct EmbeddingClient {
    name: String,
    model: String,
    /// `None`: the mock, which embeds locally.
    http: Option<(reqwest::Client, String, Option<String>, Duration)>,
    cache_path: PathBuf,
    cache: HashMap<String, Vec<f32>>,
}

impl std::fmt::Debug for EmbeddingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Leaves out the key.
        f.debug_struct("EmbeddingClient")
            .field("name", &self.name)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl EmbeddingClient {
    /// The client of provider `name`, caching in `cache_path` (a JSON-lines file).
    pub fn new(name: &str, provider: &Provider, cache_path: &Path) -> Result<Self, LlmError> {
        let http = match &provider.backend {
            Backend::Openai {
                base_url,
                api_key_env,
                timeout_s,
                ..
            } => {
                let key = read_key(name, api_key_env.as_deref())?;
                install_tls_provider(name, base_url)?;
                let client = reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs_f64(*timeout_s))
                    .build()
                    .map_err(|e| {
                        LlmError::Config(format!("[providers.{name}]: HTTP client: {e}"))
                    })?;
                Some((
                    client,
                    base_url.trim_end_matches('/').to_string(),
                    (!key.is_empty()).then_some(key),
                    Duration::from_secs_f64(*timeout_s),
                ))
            }
            Backend::Mock { .. } => None,
        };
        let model = if provider.model.is_empty() {
            "mock-embedding".to_string()
        } else {
            provider.model.clone()
        };
        let cache = read_cache(cache_path)?;
        Ok(EmbeddingClient {
            name: name.to_string(),
            model,
            http,
            cache_path: cache_path.to_path_buf(),
            cache,
        })
    }

    /// What the vectors are, for the report.
    pub fn label(&self) -> String {
        match self.http {
            Some(_) => format!(
                "`{}` through provider `{}` (/embeddings)",
                self.model, self.name
            ),
            None => format!("the mock provider `{}` (hashed bag of words)", self.name),
        }
    }

    fn key_of(&self, text: &str) -> String {
        sha256_hex(format!("{}\0{text}", self.model).as_bytes())
    }

    /// One vector per text, from the cache or the server (missing ones in batches).
    pub async fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        let mut missing: Vec<&String> = Vec::new();
        for t in texts {
            if !self.cache.contains_key(&self.key_of(t)) && !missing.contains(&t) {
                missing.push(t);
            }
        }
        for chunk in missing.chunks(BATCH) {
            let vectors = match &self.http {
                None => chunk.iter().map(|t| mock_embedding(t)).collect(),
                Some((client, base_url, key, timeout)) => {
                    request(
                        &self.name,
                        &self.model,
                        client,
                        base_url,
                        key.as_deref(),
                        *timeout,
                        chunk,
                    )
                    .await?
                }
            };
            let mut lines = String::new();
            for (text, vector) in chunk.iter().zip(vectors) {
                let key = self.key_of(text);
                lines.push_str(&json!({"key": key, "vector": vector}).to_string());
                lines.push('\n');
                self.cache.insert(key, vector);
            }
            append(&self.cache_path, &lines)?;
        }
        Ok(texts
            .iter()
            .map(|t| self.cache.get(&self.key_of(t)).cloned().unwrap_or_default())
            .collect())
    }
}

async fn request(
    name: &str,
    model: &str,
    client: &reqwest::Client,
    base_url: &str,
    key: Option<&str>,
    timeout: Duration,
    texts: &[&String],
) -> Result<Vec<Vec<f32>>, LlmError> {
    let body = json!({"model": model, "input": texts});
    let mut req = client
        .post(format!("{base_url}/embeddings"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let response = tokio::time::timeout(timeout, req.send())
        .await
        .map_err(|_| LlmError::Timeout {
            provider: name.to_string(),
            after: timeout,
        })?
        .map_err(|e| LlmError::Connection {
            provider: name.to_string(),
            detail: e.to_string(),
        })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| LlmError::Connection {
        provider: name.to_string(),
        detail: e.to_string(),
    })?;
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(LlmError::Config(format!(
            "provider `{name}` refused the embeddings request ({status}): {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(300)
                .collect::<String>()
        )));
    }
    let data = value["data"].as_array().cloned().unwrap_or_default();
    let mut out = vec![Vec::new(); texts.len()];
    for (position, item) in data.iter().enumerate() {
        let index = item["index"].as_u64().map_or(position, |i| i as usize);
        let vector: Option<Vec<f32>> = item["embedding"].as_array().map(|v| {
            v.iter()
                .filter_map(|x| x.as_f64().map(|x| x as f32))
                .collect()
        });
        if let (Some(slot), Some(vector)) = (out.get_mut(index), vector) {
            *slot = vector;
        }
    }
    if out.iter().any(Vec::is_empty) {
        return Err(LlmError::Config(format!(
            "provider `{name}` answered the embeddings request without a vector for every text (is `{model}` an embedding model?)"
        )));
    }
    Ok(out)
}

/// The mock's embedding: word counts hashed into a fixed number of dimensions.
pub fn mock_embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; MOCK_DIMENSIONS];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let h = super::model::hash64(word.to_lowercase().as_bytes());
        v[(h % MOCK_DIMENSIONS as u64) as usize] += 1.0;
    }
    v
}

fn read_cache(path: &Path) -> Result<HashMap<String, Vec<f32>>, LlmError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(HashMap::new());
    };
    let mut out = HashMap::new();
    // A torn last line (a crash while appending) is skipped: that text is asked again.
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let (Some(key), Some(vector)) = (v["key"].as_str(), v["vector"].as_array()) {
            let vector = vector
                .iter()
                .filter_map(|x| x.as_f64().map(|x| x as f32))
                .collect();
            out.insert(key.to_string(), vector);
        }
    }
    Ok(out)
}

fn append(path: &Path, lines: &str) -> Result<(), LlmError> {
    let io = |e: std::io::Error| LlmError::Config(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    file.write_all(lines.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::mock::Policy;
    use crate::llm::testutil::mock_config;

    #[tokio::test]
    async fn the_mock_embeds_offline_and_the_cache_answers_the_second_time() {
        let dir = tempfile::tempdir().unwrap();
        let provider = mock_config(Policy::Greedy, 0.0).resolve().unwrap();
        let path = dir.path().join("embeddings.jsonl");
        let mut client = EmbeddingClient::new("m", &provider, &path).unwrap();
        let texts = vec!["deep 3 coast 1".to_string(), "deep 3 coast 1".to_string()];
        let v = client.embed(&texts).await.unwrap();
        assert_eq!(v[0], v[1]);
        assert_eq!(v[0].iter().sum::<f32>(), 4.0);
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(lines, 1, "one text, one cache line");
        let mut again = EmbeddingClient::new("m", &provider, &path).unwrap();
        assert_eq!(again.embed(&texts).await.unwrap(), v);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }
}
