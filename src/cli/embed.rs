//! The diagnostics' text embeddings through a provider of an experiment file: the
//! analysis reads only recorded files, so the binary is where its [`Embedder`] seam meets
//! the `llm` module's HTTP client.

use anyhow::Context;
use fishbanks::analysis::embed::{unit, Embedder, SparseVec};
use fishbanks::experiment::Experiment;
use fishbanks::llm::embeddings::EmbeddingClient;
use std::path::Path;

/// Embeds through `[providers.NAME]` of an experiment, caching under the results.
pub struct ProviderEmbedder {
    client: EmbeddingClient,
    runtime: tokio::runtime::Runtime,
}

impl ProviderEmbedder {
    pub fn new(experiment: &Path, provider: &str, results: &Path) -> anyhow::Result<Self> {
        let exp = Experiment::load(experiment)?;
        let Some(p) = exp.config.providers.get(provider) else {
            anyhow::bail!(
                "{} has no [providers.{provider}] (it has: {})",
                experiment.display(),
                exp.config
                    .providers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        let cache = results
            .join(fishbanks::record::RunFiles::CACHE_DIR)
            .join("embeddings.jsonl");
        let client = EmbeddingClient::new(provider, p, &cache)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(ProviderEmbedder { client, runtime })
    }
}

impl Embedder for ProviderEmbedder {
    fn label(&self) -> String {
        self.client.label()
    }

    fn embed(&mut self, texts: &[String]) -> Result<Vec<SparseVec>, String> {
        let vectors = self
            .runtime
            .block_on(self.client.embed(texts))
            .map_err(|e| e.to_string())?;
        Ok(vectors.iter().map(|v| unit(v)).collect())
    }
}
