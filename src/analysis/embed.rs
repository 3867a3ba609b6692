//! Text embeddings for the diagnostics' text channel. The analysis reads only recorded
//! files, so it never calls a server itself: [`Embedder`] is the seam. The built-in
//! [`TfIdf`] is a lexical embedding computed here; the binary can plug in a model's
//! `/v1/embeddings` (through the `llm` module) instead.

use std::collections::{BTreeMap, HashMap};

/// A unit-length vector as (dimension, value) pairs, dimensions ascending.
pub type SparseVec = Vec<(u32, f32)>;

/// Turns texts into vectors whose cosine similarity says how alike they are.
pub trait Embedder {
    /// What the vectors are, for the report (`TF-IDF (lexical)`, a model's name).
    fn label(&self) -> String;

    /// One unit vector per text, in order.
    fn embed(&mut self, texts: &[String]) -> Result<Vec<SparseVec>, String>;
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &SparseVec, b: &SparseVec) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 as f64 * b[j].1 as f64;
                i += 1;
                j += 1;
            }
        }
    }
    dot
}

/// A dense vector normalised to unit length, as a [`SparseVec`].
pub fn unit(dense: &[f32]) -> SparseVec {
    let norm = dense
        .iter()
        .map(|x| (*x as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    if norm == 0.0 {
        return Vec::new();
    }
    dense
        .iter()
        .enumerate()
        .filter(|(_, x)| **x != 0.0)
        .map(|(i, x)| (i as u32, (*x as f64 / norm) as f32))
        .collect()
}

/// Lowercase words and numbers of a text.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// TF-IDF over the texts given in one call (smoothed idf, `ln((1 + n) / (1 + df)) + 1`,
/// as scikit-learn), unit length. Lexical: it sees shared words and numbers, not
/// meaning.
#[derive(Debug, Default)]
pub struct TfIdf;

impl Embedder for TfIdf {
    fn label(&self) -> String {
        "TF-IDF (lexical, computed by fishbanks; no model)".into()
    }

    fn embed(&mut self, texts: &[String]) -> Result<Vec<SparseVec>, String> {
        let docs: Vec<Vec<String>> = texts.iter().map(|t| tokens(t)).collect();
        let mut vocabulary: BTreeMap<&str, u32> = BTreeMap::new();
        let mut df: HashMap<u32, usize> = HashMap::new();
        for doc in &docs {
            let mut seen = std::collections::HashSet::new();
            for token in doc {
                let next = vocabulary.len() as u32;
                let id = *vocabulary.entry(token.as_str()).or_insert(next);
                if seen.insert(id) {
                    *df.entry(id).or_default() += 1;
                }
            }
        }
        let n = docs.len() as f64;
        Ok(docs
            .iter()
            .map(|doc| {
                let mut tf: BTreeMap<u32, f64> = BTreeMap::new();
                for token in doc {
                    *tf.entry(vocabulary[token.as_str()]).or_default() += 1.0;
                }
                let weights: Vec<(u32, f64)> = tf
                    .into_iter()
                    .map(|(id, count)| {
                        let idf = ((1.0 + n) / (1.0 + df[&id] as f64)).ln() + 1.0;
                        (id, count * idf)
                    })
                    .collect();
                let norm = weights.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
                weights
                    .into_iter()
                    .map(|(id, w)| (id, (w / norm.max(1e-12)) as f32))
                    .collect()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tf_idf_makes_alike_texts_close_and_unrelated_ones_far() {
        let texts: Vec<String> = [
            "I plan order 2, deep 3, coast 1.",
            "I plan order 2, deep 3, coast 1. Agreed.",
            "the weather looks fine today",
        ]
        .map(String::from)
        .to_vec();
        let v = TfIdf.embed(&texts).unwrap();
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&v[0], &v[1]) > 0.8);
        assert_eq!(cosine(&v[0], &v[2]), 0.0);
        let u = unit(&[3.0, 0.0, 4.0]);
        assert_eq!(u, vec![(0, 0.6), (2, 0.8)]);
    }
}
